//! Makes a vault of many tokens for benchmarks and scale tests, and prints a few of them.
//!
//! `cargo run --release --example seed -- --vault PATH --count N --sample K`
//!
//! Creates a new vault at PATH with N active tokens (one transaction) and prints K of them, one a
//! line, on stdout. These are test tokens: printing them is the point.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use tokens::vault::{Access, Vault};

#[derive(Parser)]
struct Args {
    /// Where to make the vault; it must not exist yet.
    #[arg(long)]
    vault: PathBuf,
    /// How many tokens to put in it.
    #[arg(long)]
    count: usize,
    /// How many of them to print, picked at random.
    #[arg(long, default_value_t = 0)]
    sample: usize,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match seed(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("seed: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn seed(args: &Args) -> anyhow::Result<()> {
    if args.vault.exists() {
        anyhow::bail!(
            "{} exists; seed makes a new vault (remove it first)",
            args.vault.display()
        );
    }
    let started = Instant::now();
    let mut vault = Vault::open(
        &tokens::vault::Location::parse(args.vault.as_os_str())?,
        Access::Write,
    )?;
    let samples = tokens::seed::seed(&mut vault, args.count, args.sample, chrono::Utc::now())?;
    let mut stdout = BufWriter::new(io::stdout().lock());
    for token in &samples {
        writeln!(stdout, "{}", token.expose())?;
    }
    stdout.flush()?;
    eprintln!(
        "seed: {} tokens in {} in {:.1?}",
        args.count,
        args.vault.display(),
        started.elapsed()
    );
    Ok(())
}
