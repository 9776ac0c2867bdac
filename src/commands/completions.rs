//! `tokens completions SHELL`: prints the completion script that `completions/` holds.
//!
//! clap_complete writes the commands and options from the CLI definition, for all five shells.
//! For bash, zsh and fish a short addition (the files beside this one) also offers the values only
//! the vault knows, token names and ids, apps and scopes, by asking `tokens __complete` (see
//! `complete.rs`) at the moment of completion.

use clap::{Command, CommandFactory};
use clap_complete::Shell;

use super::complete::Source;
use crate::cli::{Cli, CompletionsArgs};
use crate::error::Result;

const BIN: &str = "tokens";

const BASH_VAULT: &str = include_str!("completions/vault.bash");
const ZSH_VAULT: &str = include_str!("completions/vault.zsh");
const FISH_VAULT: &str = include_str!("completions/vault.fish");

/// How clap_complete's zsh script ends: complete with `_tokens`. Ours completes with `_tokens_vault`.
const ZSH_REGISTRATION: &str = "if [ \"$funcstack[1]\" = \"_tokens\" ]; then
    _tokens \"$@\"
else
    compdef _tokens tokens
fi
";

pub fn run(args: CompletionsArgs) -> Result<()> {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(script(args.shell).as_bytes())?;
    stdout.flush()?;
    Ok(())
}

/// The completion script for `shell`.
pub fn script(shell: Shell) -> String {
    let mut command = without_hidden_subcommands(Cli::command());
    let mut generated = Vec::new();
    clap_complete::generate(shell, &mut command, BIN, &mut generated);
    let generated = String::from_utf8_lossy(&generated).into_owned();
    match shell {
        Shell::Bash => generated + BASH_VAULT,
        Shell::Zsh => with_zsh_vault(generated),
        Shell::Fish => with_fish_vault(generated, &command),
        _ => generated,
    }
}

/// The CLI with only the subcommands users run: clap_complete would offer the hidden ones too
/// (`tokens <TAB>` would list `__complete`; clap-rs/clap#1335), and a `Command` cannot drop a
/// subcommand, so this puts the root's own arguments and visible subcommands in a new one.
fn without_hidden_subcommands(root: Command) -> Command {
    let visible: Vec<Command> = root
        .get_subcommands()
        .filter(|subcommand| !subcommand.is_hide_set())
        .cloned()
        .collect();
    let mut trimmed = Command::new(BIN)
        .version(env!("CARGO_PKG_VERSION"))
        .args(root.get_arguments().cloned())
        .subcommands(visible);
    if let Some(about) = root.get_about() {
        trimmed = trimmed.about(about.clone());
    }
    trimmed
}

/// Puts `_tokens_vault` in front of clap's `_tokens`, for a sourced script and for one
/// autoloaded from `$fpath` alike.
fn with_zsh_vault(generated: String) -> String {
    match generated.strip_suffix(ZSH_REGISTRATION) {
        Some(definitions) => format!("{definitions}{ZSH_VAULT}"),
        // A clap_complete that ends its script differently (a unit test catches it): still
        // right when sourced.
        None => format!("{generated}\n{ZSH_VAULT}"),
    }
}

/// Lets the options that take a vault value offer it, and the token arguments too.
fn with_fish_vault(generated: String, command: &Command) -> String {
    let mut options: Vec<(String, String)> = Vec::new(); // (subcommand, long option)
    let mut with_tokens: Vec<&str> = Vec::new(); // subcommands that take an ID|NAME
    for subcommand in command.get_subcommands() {
        for arg in subcommand.get_arguments() {
            if Source::of(arg).is_none() {
                continue;
            }
            match arg.get_long() {
                Some(long) => options.push((subcommand.get_name().into(), long.into())),
                None => with_tokens.push(subcommand.get_name()),
            }
        }
    }
    let mut script = String::with_capacity(generated.len() + 1024);
    for line in generated.lines() {
        script.push_str(line);
        let takes_vault_value = options.iter().any(|(subcommand, long)| {
            line.starts_with(&format!(
                "complete -c {BIN} -n \"__fish_{BIN}_using_subcommand {subcommand}\" "
            )) && line.contains(&format!(" -l {long} "))
        });
        if takes_vault_value {
            script.push_str(" -f -a \"(__tokens_vault)\"");
        }
        script.push('\n');
    }
    script.push_str(FISH_VAULT);
    script.push_str(&format!(
        "complete -c {BIN} -n \"__fish_{BIN}_using_subcommand {}\" -f -a \"(__tokens_vault)\"\n",
        with_tokens.join(" ")
    ));
    script
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_subcommands_are_not_offered() {
        for shell in [
            Shell::Bash,
            Shell::Zsh,
            Shell::Fish,
            Shell::Elvish,
            Shell::PowerShell,
        ] {
            let script = script(shell);
            let offering_it = script
                .lines()
                .filter(|line| line.contains("__complete"))
                .filter(|line| !line.trim_start().starts_with('#'))
                .filter(|line| !line.contains("tokens __complete --"));
            assert_eq!(offering_it.count(), 0, "{shell}");
            assert!(!script.contains("__serve-clipboard"), "{shell}");
            assert!(script.contains("revoke"), "{shell}");
        }
    }

    #[test]
    fn zsh_completes_with_the_vault_when_autoloaded_too() {
        let script = script(Shell::Zsh);
        assert!(
            !script.contains(ZSH_REGISTRATION),
            "clap_complete's registration left in"
        );
        assert!(script.ends_with(ZSH_VAULT));
    }

    #[test]
    fn fish_options_with_vault_values_ask_the_vault() {
        let script = script(Shell::Fish);
        let asking: Vec<&str> = script
            .lines()
            .filter(|line| line.ends_with("-f -a \"(__tokens_vault)\"") && line.contains(" -l "))
            .collect();
        for (subcommand, long) in [
            ("create", "app"),
            ("create", "scope"),
            ("list", "app"),
            ("list", "scope"),
            ("edit", "app"),
            ("edit", "add-scope"),
            ("edit", "remove-scope"),
            ("revoke", "app"),
            ("verify", "app"),
            ("verify", "scope"),
        ] {
            assert!(
                asking
                    .iter()
                    .any(|line| line.contains(&format!("subcommand {subcommand}\""))
                        && line.contains(&format!(" -l {long} "))),
                "{subcommand} --{long}"
            );
        }
        assert_eq!(asking.len(), 10, "{asking:#?}");
        assert!(script.ends_with(
            "complete -c tokens -n \"__fish_tokens_using_subcommand show edit rotate revoke disable enable log\" -f -a \"(__tokens_vault)\"\n"
        ));
    }
}
