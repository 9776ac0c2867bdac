//! `tokens __complete -- WORDS...`: the values only the vault knows, for the completion scripts.
//!
//! The scripts in `completions/` know every command and option: clap_complete writes them from the
//! CLI definition. What they cannot know is in the vault: the live token names and ids that
//! `revoke`, `rotate`, `show`, `edit` and `log` take, and the apps and scopes in use that
//! `--app` and `--scope` take. The bash, zsh and fish scripts pass the command line up to the
//! cursor; this finds which argument the last word is, the way clap would parse it, and when that
//! argument's value comes from the vault prints the candidates, one a line, each a replacement for
//! the whole last word, optionally followed by a tab and a description.
//!
//! Which arguments complete from the vault is read off the CLI definition by value name:
//! `ID|NAME` offers live token names and ids, `APP` the apps in use, `SCOPE` the scopes in use.
//!
//! Exit status 0: the last word takes a vault value (a missing, unreadable or corrupt vault then
//! prints nothing). Exit status 1, silently: it does not, and the script completes as clap wrote.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;

use clap::{Arg, ArgAction, Command, CommandFactory};

use super::Context;
use crate::cli::{Cli, CompleteArgs};
use crate::error::{Error, Result};
use crate::vault::{Access, Location, Vault};

/// Where an argument's values come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Names and ids of tokens that are not revoked.
    Tokens,
    /// Apps of tokens that are not revoked.
    Apps,
    /// Scopes of tokens that are not revoked.
    Scopes,
}

impl Source {
    /// The vault source of `arg`'s values, by its value name; `None` for every other argument.
    pub fn of(arg: &Arg) -> Option<Source> {
        match arg.get_value_names()?.first()?.as_str() {
            "ID|NAME" => Some(Source::Tokens),
            "APP" => Some(Source::Apps),
            "SCOPE" => Some(Source::Scopes),
            _ => None,
        }
    }

    /// True when `value` is in the grammar of this source's argument: a token name or id, an
    /// app (`[A-Za-z0-9._:-]{1,64}`), a scope (`[a-z0-9._:-]{1,64}`). None of these characters
    /// means anything to bash, zsh or fish.
    pub fn takes(self, value: &str) -> bool {
        match self {
            Source::Tokens | Source::Apps => crate::cli::parse_name(value).is_ok(),
            Source::Scopes => crate::cli::parse_scope(value).is_ok(),
        }
    }
}

/// What the last word of a command line asks of the vault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub source: Source,
    /// The start of the last word that stays as it is: `--app=`, or the values before the last comma.
    pub kept: String,
    /// The part of the value typed so far.
    pub typed: String,
    /// Values the command line already gives for this argument, not worth offering again.
    pub given: Vec<String>,
    /// The vault the command line names with `--vault`, if any.
    pub vault: Option<PathBuf>,
}

pub fn run(context: &Context, args: CompleteArgs) -> Result<()> {
    let Some(request) = request(&args.words) else {
        return Err(Error::Silent(1));
    };
    let location = match &request.vault {
        Some(path) => Location::parse(path.as_os_str()),
        None => context.location(),
    };
    // A missing, unreadable or corrupt vault (or a location that names none) completes nothing,
    // and says nothing: the user is typing, and the command itself will explain when it runs.
    let candidates = location
        .and_then(|location| candidates(&location, &request, context))
        .unwrap_or_default();
    let mut stdout = std::io::stdout().lock();
    for (value, description) in candidates {
        // Only a value the command would take as typed is offered: one written into the vault
        // by another program (a name such as `$(rm -rf ~)` or one with a line break) could be
        // put on the command line as it is, where the shell would run it. A description is
        // only shown in the shell's menu, so it is escaped.
        if !request.source.takes(&value) {
            continue;
        }
        let description = crate::output::printable(&description);
        let line = if description.is_empty() {
            format!("{}{value}\n", request.kept)
        } else {
            format!("{}{value}\t{description}\n", request.kept)
        };
        if stdout.write_all(line.as_bytes()).is_err() {
            break; // the shell stopped listening
        }
    }
    Ok(())
}

/// The values from the vault at `location` that complete `request`, each with a short description.
fn candidates(
    location: &Location,
    request: &Request,
    context: &Context,
) -> Result<Vec<(String, String)>> {
    let now = context.now;
    let vault = Vault::open_within(location, Access::Read, context.timeout)?;
    let store = vault.store();
    let fresh = |value: &str| !request.given.iter().any(|given| given == value);
    let mut found: Vec<(String, String)> = Vec::new();
    match request.source {
        Source::Tokens => {
            let mut tokens = store.live_tokens_for_completion(&request.typed, now)?;
            // Not a token the command line already names, by id or by name.
            tokens.retain(|token| fresh(&token.id) && fresh(&token.name));
            // Names first (once each: a rotation in its grace period leaves two tokens of one
            // name), then ids, described by their name.
            let mut names = BTreeSet::new();
            for token in &tokens {
                if token.name.starts_with(&request.typed) && names.insert(token.name.as_str()) {
                    let app = token.app.as_deref().map(|app| format!("app {app}"));
                    found.push((token.name.clone(), app.unwrap_or_default()));
                }
            }
            for token in &tokens {
                if token.id.starts_with(&request.typed) {
                    found.push((token.id.clone(), token.name.clone()));
                }
            }
        }
        Source::Apps | Source::Scopes => {
            let (apps, scopes) = store.apps_and_scopes_in_use(now)?;
            let values = if request.source == Source::Apps {
                apps
            } else {
                scopes
            };
            found.extend(
                values
                    .into_iter()
                    .filter(|value| value.starts_with(&request.typed) && fresh(value))
                    .map(|value| (value, String::new())),
            );
        }
    }
    Ok(found)
}

/// Which vault values complete the last of `words` (the program, its arguments, and the word at
/// the cursor, maybe empty), or `None` when the last word is not such a value.
pub fn request(words: &[String]) -> Option<Request> {
    let mut root = Cli::command();
    root.build(); // puts the global options on every subcommand
    let (last, before) = words.split_last()?;
    let mut command: &Command = &root;
    let mut awaiting: Option<&Arg> = None; // an option whose value is the next word
    let mut positionals: Vec<&str> = Vec::new();
    let mut only_positionals = false; // after `--`
    let mut vault = None;
    for word in before.iter().skip(1) {
        if let Some(arg) = awaiting.take() {
            if is_vault(arg) {
                vault = Some(expand_home(word));
            }
            continue;
        }
        if only_positionals || word == "-" || !word.starts_with('-') {
            if !only_positionals
                && positionals.is_empty()
                && let Some(subcommand) = command.find_subcommand(word)
            {
                command = subcommand;
                continue;
            }
            positionals.push(word);
        } else if word == "--" {
            only_positionals = true;
        } else if let Some(long) = word.strip_prefix("--") {
            let (name, value) = match long.split_once('=') {
                Some((name, value)) => (name, Some(value)),
                None => (long, None),
            };
            if let Some(arg) = find_long(command, name).filter(|arg| takes_value(arg)) {
                match value {
                    None => awaiting = Some(arg),
                    Some(value) if is_vault(arg) => vault = Some(expand_home(value)),
                    Some(_) => {}
                }
            }
        } else {
            // A cluster of short options (`-qy`); one that takes a value takes the rest.
            let cluster = &word[1..];
            for (index, short) in cluster.char_indices() {
                let Some(arg) = find_short(command, short).filter(|arg| takes_value(arg)) else {
                    continue;
                };
                let rest = &cluster[index + short.len_utf8()..];
                if rest.is_empty() {
                    awaiting = Some(arg);
                } else if is_vault(arg) {
                    vault = Some(expand_home(rest));
                }
                break;
            }
        }
    }

    let (arg, kept, value, positional) = if let Some(arg) = awaiting {
        (arg, String::new(), last.as_str(), false)
    } else if !only_positionals && last.starts_with('-') && last != "-" {
        let (name, value) = last.strip_prefix("--")?.split_once('=')?;
        (
            find_long(command, name)?,
            format!("--{name}="),
            value,
            false,
        )
    } else {
        if positionals.is_empty() && command.has_subcommands() {
            return None; // a subcommand's name: clap's script offers those
        }
        let arg = positional_at(command, positionals.len())?;
        (arg, String::new(), last.as_str(), true)
    };
    let source = Source::of(arg)?;

    // A list (`--scope read,wr`): complete the item after the last comma.
    let (kept, typed) = match arg.get_value_delimiter() {
        Some(delimiter) => match value.rfind(delimiter) {
            Some(at) => {
                let (listed, typed) = value.split_at(at + delimiter.len_utf8());
                (kept + listed, typed)
            }
            None => (kept, value),
        },
        None => (kept, value),
    };
    let given = if positional {
        // revoke takes several ids or names
        positionals.iter().map(|word| word.to_string()).collect()
    } else {
        let listed = kept
            .rsplit_once('=')
            .map_or(kept.as_str(), |(_, listed)| listed);
        listed
            .split(',')
            .filter(|item| !item.is_empty())
            .map(str::to_owned)
            .collect()
    };
    Some(Request {
        source,
        kept,
        typed: typed.to_owned(),
        given,
        vault,
    })
}

fn find_long<'a>(command: &'a Command, name: &str) -> Option<&'a Arg> {
    command.get_arguments().find(|arg| {
        arg.get_long_and_visible_aliases()
            .is_some_and(|names| names.contains(&name))
    })
}

fn find_short(command: &Command, short: char) -> Option<&Arg> {
    command.get_arguments().find(|arg| {
        arg.get_short_and_visible_aliases()
            .is_some_and(|shorts| shorts.contains(&short))
    })
}

fn takes_value(arg: &Arg) -> bool {
    arg.get_action().takes_values()
}

fn is_vault(arg: &Arg) -> bool {
    arg.get_id() == "vault"
}

/// The positional argument that the `index`th positional word (0-based) is a value of.
fn positional_at(command: &Command, index: usize) -> Option<&Arg> {
    for (start, arg) in command.get_positionals().enumerate() {
        let takes_many = matches!(arg.get_action(), ArgAction::Append)
            || arg
                .get_num_args()
                .is_some_and(|range| range.max_values() > 1);
        if index == start || (takes_many && index > start) {
            return Some(arg);
        }
    }
    None
}

/// `~/vault.db` as the shell would expand it (the completion scripts pass the word as typed).
fn expand_home(word: &str) -> PathBuf {
    match (word.strip_prefix("~/"), directories::BaseDirs::new()) {
        (Some(rest), Some(dirs)) => dirs.home_dir().join(rest),
        _ => PathBuf::from(word),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(line: &str) -> Option<Request> {
        let mut words: Vec<String> = line.split(' ').map(str::to_owned).collect();
        if words.len() == 1 {
            words.push(String::new());
        }
        request(&words)
    }

    fn source(line: &str) -> Option<Source> {
        ask(line).map(|request| request.source)
    }

    #[test]
    fn token_arguments_complete_names_and_ids() {
        for line in [
            "tokens revoke ",
            "tokens rotate ci",
            "tokens show ",
            "tokens edit ",
            "tokens log ",
            "tokens revoke a b ",
            "tokens --json revoke --reason gone ",
            "tokens rotate --grace 1h ",
            "tokens revoke -- ",
        ] {
            assert_eq!(source(line), Some(Source::Tokens), "{line:?}");
        }
        assert_eq!(ask("tokens rotate ci").unwrap().typed, "ci");
        assert_eq!(ask("tokens revoke a b ").unwrap().given, ["a", "b"]);
    }

    #[test]
    fn app_and_scope_options_complete_from_the_vault() {
        for line in [
            "tokens list --app ",
            "tokens create x --app ",
            "tokens revoke --all --app ",
            "tokens edit x --app ",
            "tokens verify --app ",
        ] {
            assert_eq!(source(line), Some(Source::Apps), "{line:?}");
        }
        for line in [
            "tokens list --scope ",
            "tokens create x --scope ",
            "tokens verify --scope ",
            "tokens edit x --add-scope ",
            "tokens edit x --remove-scope ",
        ] {
            assert_eq!(source(line), Some(Source::Scopes), "{line:?}");
        }
    }

    #[test]
    fn other_words_are_left_to_the_static_script() {
        for line in [
            "tokens ",
            "tokens r",
            "tokens revoke --",
            "tokens revoke --re",
            "tokens create ",
            "tokens show x ",
            "tokens log x ",
            "tokens rotate x --expires ",
            "tokens --vault ",
            "tokens completions ",
            "tokens help ",
            "tokens edit x --rename ",
            "tokens list --status ",
        ] {
            assert_eq!(source(line), None, "{line:?}");
        }
        assert_eq!(request(&[]), None);
    }

    #[test]
    fn option_values_keep_what_comes_before_them() {
        let request = ask("tokens list --app=c").unwrap();
        assert_eq!(
            (request.kept.as_str(), request.typed.as_str()),
            ("--app=", "c")
        );
        let request = ask("tokens create x --scope read,deploy:p").unwrap();
        assert_eq!(request.source, Source::Scopes);
        assert_eq!(
            (request.kept.as_str(), request.typed.as_str()),
            ("read,", "deploy:p")
        );
        assert_eq!(request.given, ["read"]);
        let request = ask("tokens verify --scope=a,b,").unwrap();
        assert_eq!(
            (request.kept.as_str(), request.typed.as_str()),
            ("--scope=a,b,", "")
        );
        assert_eq!(request.given, ["a", "b"]);
    }

    #[test]
    fn the_vault_named_on_the_command_line_is_used() {
        assert_eq!(
            ask("tokens --vault /v.db revoke ").unwrap().vault,
            Some(PathBuf::from("/v.db"))
        );
        assert_eq!(
            ask("tokens show --vault=/w.db ").unwrap().vault,
            Some(PathBuf::from("/w.db"))
        );
        assert_eq!(ask("tokens show ").unwrap().vault, None);
    }
}
