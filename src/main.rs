use std::process::ExitCode;

use tokens::error::Error;
use tokens::{cli, output};

fn main() -> ExitCode {
    tokens::hardening::no_core_dumps();
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // No command takes a credential as an argument (SPEC §3), and clap's messages would echo it:
    // refused before anything is parsed or run, wherever it sits in an argument.
    if args
        .iter()
        .skip(1)
        .any(|arg| cli::looks_like_secret(&arg.to_string_lossy()))
    {
        eprintln!("tokens: {}", cli::SECRET_IN_ARGS);
        return ExitCode::from(2);
    }
    // An empty TOKENS_VAULT (`TOKENS_VAULT= tokens list`) means the default vault, as unset does,
    // not a --vault with its value missing.
    if std::env::var_os("TOKENS_VAULT").is_some_and(|value| value.is_empty()) {
        // SAFETY: first thing in main, before any other thread exists.
        unsafe { std::env::remove_var("TOKENS_VAULT") };
    }
    let cli = match cli::parse_from(args.clone()) {
        Ok(cli) => cli,
        Err(error) => match cli::usage_error_without_values(&args, &error) {
            Some(message) => {
                eprintln!("tokens: {message}");
                return ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2));
            }
            // clap quotes the values it refuses, some from the environment (TOKENS_TIMEOUT,
            // TOKENS_VAULT), and would print them raw on a terminal: its message is taken
            // plain (clap's rendering without escape sequences), made one line in our style
            // and safe as every message is (output::message: credentials masked, control
            // characters escaped).
            // `tokens` alone: the help, as clap shows it.
            None if error.kind()
                == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand =>
            {
                for line in error.render().to_string().lines() {
                    eprintln!("{}", output::message(line));
                }
                return ExitCode::from(2);
            }
            None if error.use_stderr() => {
                let line = cli::one_line_usage_error(&error.render().to_string(), &args);
                eprintln!("tokens: {}", output::message(&line));
                return ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2));
            }
            None => error.exit(),
        },
    };
    // `--color always|never` wins over NO_COLOR everywhere (SPEC §4), also in the libraries
    // that read NO_COLOR themselves: comfy-table's colours (crossterm) and the prompts' (console).
    // SAFETY: no other thread has started yet.
    match cli.global.color {
        cli::ColorChoice::Always => unsafe { std::env::remove_var("NO_COLOR") },
        cli::ColorChoice::Never => unsafe { std::env::set_var("NO_COLOR", "1") },
        cli::ColorChoice::Auto => {}
    }
    match tokens::commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            if output::stdout_closed(&error) {
                // A reader that stopped reading (`| head`): end as `git log | head` does.
                output::die_of_sigpipe();
            }
            if !matches!(error, Error::Silent(_)) {
                // One line: what went wrong and what to do. Whatever it quotes, no credential
                // and no control character gets through (output::message).
                eprintln!("tokens: {}", output::message(&format!("{error:#}")));
            }
            ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(1))
        }
    }
}
