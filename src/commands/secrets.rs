//! Reading presented credentials (verify, refresh) from stdin, an environment variable or a file —
//! never from the command line, where they would leak into `ps`, shell history and CI logs.
//!
//! Every byte read passes through buffers that are wiped when done with (`zeroize`): std's
//! buffered stdin and `read_to_string` would leave copies behind. Input is bounded, so hostile
//! input (`tokens verify < /dev/zero`) is refused instead of read into memory whole.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::AsFd;
use std::path::PathBuf;

use zeroize::{Zeroize, Zeroizing};

use crate::error::{Error, Result};

/// No credential is this long: a longer line is refused, not kept.
pub const MAX_LINE: usize = 4096;

/// How much is read at a time.
const CHUNK: usize = 4096;

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
    // A credential pasted where the variable's name or the file's path goes would be echoed
    // by the errors below ("not set", "cannot read"); a variable or file that exists is used.
    use crate::cli::{SECRET_IN_ARGS, looks_like_secret};
    let pasted = match source {
        Source::Env(var) => looks_like_secret(var) && std::env::var_os(var).is_none(),
        Source::File(path) => path.to_str().is_some_and(looks_like_secret) && !path.exists(),
        Source::Stdin => false,
    };
    if pasted {
        return Err(Error::Usage(SECRET_IN_ARGS.into()));
    }
    let text = match source {
        Source::Env(var) => {
            let value = std::env::var_os(var).ok_or_else(|| {
                Error::Usage(format!(
                    "environment variable {var} is not set (it should hold the {what})"
                ))
            })?;
            let value = Zeroizing::new(value.into_encoded_bytes());
            // Child processes inherit the environment: take the credential out of it.
            // SAFETY: credentials are read first thing, while this process runs no other thread
            // (the clipboard's start later), so nothing reads the environment meanwhile.
            unsafe { std::env::remove_var(var) };
            to_text(&value)
        }
        Source::File(path) => {
            // A file that cannot be read is an I/O error (exit 1), as a vault's would be.
            let file = File::open(path).map_err(|error| {
                Error::Other(anyhow::anyhow!(
                    "cannot read the {what} from {}: {error}",
                    path.display()
                ))
            })?;
            let first_line = Lines::new(file)
                .next_line(what)
                .map_err(|error| match error {
                    Error::Malformed(_) => error,
                    other => Error::Other(anyhow::anyhow!(
                        "cannot read the {what} from {}: {other}",
                        path.display()
                    )),
                })?;
            first_line.unwrap_or_else(|| Zeroizing::new(String::new()))
        }
        Source::Stdin if terminal => crate::prompt::secret(what)?,
        Source::Stdin => stdin.next_line_of(what)?.ok_or_else(|| {
            let option = what.replace(' ', "-");
            Error::Malformed(format!(
                "no {what} on stdin (pipe it in, or use --{option}-env / --{option}-file)"
            ))
        })?,
    };
    if text.trim().is_empty() {
        let option = what.replace(' ', "-");
        let place = match source {
            Source::Env(var) => format!("environment variable {var} is empty"),
            Source::File(path) => format!("the first line of {} is empty", path.display()),
            Source::Stdin => "the first line on stdin is empty".to_owned(),
        };
        return Err(Error::Malformed(format!(
            "no {what}: {place} (give the {what} on stdin, or with --{option}-env / --{option}-file)"
        )));
    }
    Ok(text)
}

/// Standard input, one line at a time, read straight from the file descriptor (past std's
/// buffer) into a buffer that is wiped.
pub struct StdinLines {
    lines: Option<Lines<File>>,
}

impl StdinLines {
    pub fn new() -> StdinLines {
        StdinLines { lines: None }
    }

    /// True when input has been read ahead, so the next line will not wait for the writer.
    pub fn has_buffered_input(&self) -> bool {
        self.lines
            .as_ref()
            .is_some_and(|lines| !lines.buffer.is_empty())
    }

    /// True when more than blank lines have been read ahead: a second credential where one
    /// was expected (only what has already arrived is looked at; nothing waits for the writer).
    pub fn has_more_text(&self) -> bool {
        self.lines
            .as_ref()
            .is_some_and(|lines| lines.buffer.iter().any(|byte| !byte.is_ascii_whitespace()))
    }

    /// True when the next line would wait for the writer: nothing read ahead and nothing
    /// ready on the descriptor (a file is always ready; a pipe, when its writer is ahead).
    pub fn runs_dry(&self) -> bool {
        use std::os::fd::AsRawFd;
        let Some(lines) = &self.lines else {
            return false;
        };
        if !lines.buffer.is_empty() || lines.at_end {
            return false;
        }
        let mut poll = libc::pollfd {
            fd: lines.source.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid `pollfd` for a descriptor `lines` keeps open; a zero timeout.
        unsafe { libc::poll(&mut poll, 1, 0) == 0 }
    }

    /// The next line without its line ending, or `None` at the end of input.
    pub fn next_line(&mut self) -> Result<Option<Zeroizing<String>>> {
        self.next_line_of("token")
    }

    fn next_line_of(&mut self, what: &str) -> Result<Option<Zeroizing<String>>> {
        let lines = match &mut self.lines {
            Some(lines) => lines,
            None => {
                let stdin = io::stdin().as_fd().try_clone_to_owned()?;
                self.lines.insert(Lines::new(File::from(stdin)))
            }
        };
        lines.next_line(what)
    }
}

/// Lines of a reader through one fixed buffer, wiped after each line and when dropped.
struct Lines<R> {
    source: R,
    /// Never grows past its first capacity, so no reallocation leaves a copy behind.
    buffer: Zeroizing<Vec<u8>>,
    at_end: bool,
    /// Past [`MAX_LINE`] bytes of a line: the rest of it is read and thrown away, in
    /// buffer-sized pieces, however long it is.
    skipping: bool,
}

impl<R: Read> Lines<R> {
    fn new(source: R) -> Lines<R> {
        Lines {
            source,
            buffer: Zeroizing::new(Vec::with_capacity(MAX_LINE + CHUNK)),
            at_end: false,
            skipping: false,
        }
    }

    /// The next line without its line ending; an error for a line longer than [`MAX_LINE`],
    /// as soon as it is that long (it may never end, as from `/dev/zero`). Reading on after
    /// that error starts at the next line: the rest of the long one is thrown away unread.
    fn next_line(&mut self, what: &str) -> Result<Option<Zeroizing<String>>> {
        loop {
            let newline = self.buffer.iter().position(|&byte| byte == b'\n');
            if self.skipping {
                match newline {
                    Some(newline) => {
                        self.take(0, newline + 1);
                        self.skipping = false;
                        continue;
                    }
                    None => self.buffer.zeroize(),
                }
            } else if let Some(newline) = newline {
                return Ok(Some(self.take(newline, newline + 1)));
            }
            if self.buffer.len() > MAX_LINE {
                self.buffer.zeroize();
                self.skipping = true;
                return Err(Error::Malformed(format!(
                    "the {what} is malformed: its line is longer than {MAX_LINE} bytes"
                )));
            }
            if self.at_end && self.skipping {
                return Ok(None);
            }
            if self.at_end {
                if self.buffer.is_empty() {
                    return Ok(None);
                }
                return Ok(Some(self.take(self.buffer.len(), self.buffer.len())));
            }
            self.fill()?;
        }
    }

    /// Reads more into the buffer's spare capacity (at least `CHUNK` bytes of it).
    fn fill(&mut self) -> Result<()> {
        let start = self.buffer.len();
        let capacity = self.buffer.capacity();
        self.buffer.resize(capacity, 0); // within capacity: no reallocation
        let read = loop {
            match self.source.read(&mut self.buffer[start..]) {
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                other => break other,
            }
        };
        self.buffer.truncate(start + *read.as_ref().unwrap_or(&0));
        self.at_end = read? == 0;
        Ok(())
    }

    /// Takes the first `consumed` bytes off the buffer, returning the first `len` of them as
    /// text without trailing `\r`; the buffer's freed bytes are wiped.
    fn take(&mut self, len: usize, consumed: usize) -> Zeroizing<String> {
        let mut line = &self.buffer[..len];
        while let [rest @ .., b'\r'] = line {
            line = rest;
        }
        let text = to_text(line);
        self.buffer.drain(..consumed);
        self.buffer.spare_capacity_mut().zeroize();
        text
    }
}

/// `bytes` as text in a wiped string; bytes that are not UTF-8 become U+FFFD (and the
/// credential then fails to parse, as it should).
fn to_text(bytes: &[u8]) -> Zeroizing<String> {
    // Each invalid byte becomes at most 3 bytes: sized up front, the string never reallocates.
    let mut text = Zeroizing::new(String::with_capacity(bytes.len() * 3));
    for chunk in bytes.utf8_chunks() {
        text.push_str(chunk.valid());
        if !chunk.invalid().is_empty() {
            text.push(char::REPLACEMENT_CHARACTER);
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8]) -> Vec<std::result::Result<String, String>> {
        let mut reader = Lines::new(input);
        let mut out = Vec::new();
        loop {
            match reader.next_line("token") {
                Ok(Some(line)) => out.push(Ok(line.to_string())),
                Ok(None) => return out,
                Err(error) => out.push(Err(error.to_string())),
            }
        }
    }

    #[test]
    fn lines_without_their_endings() {
        assert_eq!(
            lines(b"one\ntwo\r\n\nlast"),
            [
                Ok("one".into()),
                Ok("two".into()),
                Ok("".into()),
                Ok("last".into())
            ]
        );
        assert!(lines(b"").is_empty());
    }

    #[test]
    fn a_line_too_long_is_refused() {
        let mut input = vec![b'x'; 3 * MAX_LINE];
        input.extend_from_slice(b"\nafter\n");
        let mut reader = Lines::new(input.as_slice());
        let error = reader.next_line("token").unwrap_err().to_string();
        assert_eq!(
            error,
            "the token is malformed: its line is longer than 4096 bytes"
        );
        // Reading on resumes at the next line: the rest of the long one is skipped.
        assert_eq!(
            reader
                .next_line("token")
                .unwrap()
                .as_deref()
                .map(String::as_str),
            Some("after")
        );
        assert!(reader.next_line("token").unwrap().is_none());
        let mut unended = vec![b'z'; 2 * MAX_LINE];
        unended.extend_from_slice(b"\nnext");
        assert_eq!(lines(&unended).len(), 2);
        assert_eq!(lines(&unended)[1], Ok("next".into()));
        // No line ending at all, as from /dev/zero: refused after reading a little more than the limit.
        let mut endless = io::repeat(0);
        let mut reader = Lines::new(&mut endless);
        assert!(reader.next_line("token").is_err());
    }

    #[test]
    fn a_line_of_exactly_the_limit_is_read() {
        let mut input = vec![b'y'; MAX_LINE];
        input.push(b'\n');
        assert_eq!(lines(&input), [Ok("y".repeat(MAX_LINE))]);
    }

    #[test]
    fn bytes_that_are_not_text_become_replacement_characters() {
        assert_eq!(
            lines(b"tk_\xff\xfeab\n"),
            [Ok("tk_\u{fffd}\u{fffd}ab".into())]
        );
    }
}
