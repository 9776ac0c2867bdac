use std::process::ExitCode;

use tokens::cli;
use tokens::error::Error;

fn main() -> ExitCode {
    tokens::hardening::no_core_dumps();
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let holds_secret = args
        .iter()
        .any(|arg| arg.to_str().is_some_and(cli::looks_like_secret));
    let cli = match cli::parse_from(args) {
        Ok(cli) => cli,
        // clap would echo the offending argument; a secret there must not reach logs twice.
        // (Help and version are not errors to hide.)
        Err(error) if holds_secret && error.use_stderr() => {
            eprintln!("tokens: {}", cli::SECRET_IN_ARGS);
            return ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2));
        }
        Err(error) => error.exit(),
    };
    match tokens::commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            if !matches!(error, Error::Silent(_)) {
                // One line: what went wrong and what to do. Never a secret (see error.rs).
                eprintln!("tokens: {error:#}");
            }
            ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(1))
        }
    }
}
