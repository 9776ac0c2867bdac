use std::process::ExitCode;

use clap::Parser;
use tokens::cli::Cli;
use tokens::error::Error;

fn main() -> ExitCode {
    let cli = Cli::parse();
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
