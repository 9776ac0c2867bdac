//! Reading presented credentials (verify, refresh) from stdin, an environment variable or a file —
//! never from the command line, where they would leak into `ps`, shell history and CI logs.

use std::io::{self, BufRead};
use std::path::PathBuf;

use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// Where a credential comes from.
pub enum Source {
    Stdin,
    Env(String),
    File(PathBuf),
}

impl Source {
    pub fn from_args(env: Option<String>, file: Option<PathBuf>) -> Source {
        match (env, file) {
            (Some(var), _) => Source::Env(var),
            (None, Some(path)) => Source::File(path),
            (None, None) => Source::Stdin,
        }
    }
}

/// Reads one credential. `what` names it in errors ("token", "secret key"); `stdin` hands out
/// stdin's lines in order, so two credentials can share it. On a terminal, stdin is asked for
/// without echo.
pub fn read(
    source: &Source,
    what: &str,
    stdin: &mut StdinLines,
    terminal: bool,
) -> Result<Zeroizing<String>> {
    let text = match source {
        Source::Env(var) => Zeroizing::new(std::env::var(var).map_err(|_| {
            Error::Usage(format!(
                "environment variable {var} is not set (it should hold the {what})"
            ))
        })?),
        Source::File(path) => {
            let content = Zeroizing::new(std::fs::read_to_string(path).map_err(|error| {
                Error::Usage(format!(
                    "cannot read the {what} from {}: {error}",
                    path.display()
                ))
            })?);
            Zeroizing::new(content.lines().next().unwrap_or_default().to_owned())
        }
        Source::Stdin if terminal => crate::prompt::secret(what)?,
        Source::Stdin => stdin.next_line()?.ok_or_else(|| {
            Error::Malformed(format!(
                "no {what} on stdin (pipe it in, or use --{}-env / --{}-file)",
                what.replace(' ', "-"),
                what.replace(' ', "-")
            ))
        })?,
    };
    Ok(text)
}

/// Standard input, one line at a time, each wiped from memory when dropped. Locks stdin only on
/// first use, so terminal prompts (which read stdin themselves) can run before.
#[derive(Default)]
pub struct StdinLines {
    // A buffer of our own (std's is private), so `has_buffered_input` can tell whether the next
    // line is already here.
    stdin: Option<io::BufReader<io::StdinLock<'static>>>,
}

impl StdinLines {
    pub fn new() -> StdinLines {
        StdinLines::default()
    }

    /// True when input has been read ahead, so the next line will not wait for the writer.
    pub fn has_buffered_input(&self) -> bool {
        self.stdin
            .as_ref()
            .is_some_and(|stdin| !stdin.buffer().is_empty())
    }

    /// The next line without its line ending, or `None` at the end of input.
    pub fn next_line(&mut self) -> Result<Option<Zeroizing<String>>> {
        let stdin = self
            .stdin
            .get_or_insert_with(|| io::BufReader::new(io::stdin().lock()));
        let mut line = Zeroizing::new(String::new());
        if stdin.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        let trimmed_len = line.trim_end_matches(['\n', '\r']).len();
        line.truncate(trimmed_len);
        Ok(Some(line))
    }
}
