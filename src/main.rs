use std::process::ExitCode;

use tokens::cli;
use tokens::error::Error;

fn main() -> ExitCode {
    let cli = match cli::parse_from(std::env::args_os().collect()) {
        Ok(cli) => cli,
        // clap would echo the offending argument; a secret there must not reach logs twice.
        Err(error) if std::env::args().any(|arg| cli::looks_like_secret(&arg)) => {
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
