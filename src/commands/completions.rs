//! `tokens completions SHELL`: prints a completion script generated from the CLI definition.

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};
use crate::error::Result;

pub fn run(args: CompletionsArgs) -> Result<()> {
    clap_complete::generate(
        args.shell,
        &mut Cli::command(),
        "tokens",
        &mut std::io::stdout(),
    );
    Ok(())
}
