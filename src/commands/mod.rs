//! One file per subcommand; this module dispatches and holds what they share.

mod complete;
mod completions;
mod create;
mod disable;
mod edit;
mod enable;
mod grants;
mod issue;
mod leaked;
mod list;
mod log;
mod migrate;
mod policy;
mod refresh;
mod revoke;
mod rotate;
mod secrets;
mod show;
mod verify;

use std::io::IsTerminal;

use chrono::{DateTime, Utc};

use crate::cli::{Cli, Command, GlobalArgs};
use crate::error::{Error, Result};
use crate::output;
use crate::vault::{self, Access, Location, TokenRecord, Vault};

/// The tables and columns `tokens migrate` copies (for the test that every table is copied).
pub use migrate::COPIED_TABLES;

/// The exit status of a report that found something (SPEC §5): `list --exit-code` matched
/// tokens, `policy check` found tokens that break the rules.
pub const EXIT_FOUND: i32 = 8;

/// What every command knows: the global options, the terminal, and the time it started.
pub struct Context {
    /// `--vault` / `TOKENS_VAULT` as given; read by [`Context::location`] when a command needs it.
    vault: Option<std::path::PathBuf>,
    pub json: bool,
    pub quiet: bool,
    pub yes: bool,
    /// `--timeout`: how long any one wait on the vault may last.
    pub timeout: std::time::Duration,
    /// Colour on stdout.
    pub color: bool,
    pub stdin_is_terminal: bool,
    pub stdout_is_terminal: bool,
    pub stderr_is_terminal: bool,
    pub now: DateTime<Utc>,
}

impl Context {
    fn new(global: &GlobalArgs) -> Context {
        Context {
            vault: global.vault.clone(),
            json: global.json,
            quiet: global.quiet,
            yes: global.yes,
            timeout: global.timeout,
            color: output::use_color(global.color, std::io::stdout().is_terminal()),
            stdin_is_terminal: std::io::stdin().is_terminal(),
            stdout_is_terminal: std::io::stdout().is_terminal(),
            stderr_is_terminal: std::io::stderr().is_terminal(),
            now: Utc::now(),
        }
    }

    /// The vault this command line names, or the default one.
    pub fn location(&self) -> Result<Location> {
        match &self.vault {
            Some(value) => Location::parse(with_home(value).as_os_str()),
            None => Location::default_file(),
        }
    }

    /// Opens the vault; a command that writes creates a missing vault file, and says where, so
    /// a mistyped `--vault` does not pass unnoticed.
    pub fn open(&self, access: Access) -> Result<Vault> {
        let location = self.location()?;
        let creates =
            access == Access::Write && matches!(&location, Location::File(path) if !path.exists());
        let vault = Vault::open_within(&location, access, self.timeout)?;
        if creates {
            self.notice(&format!("Created a new vault at {location}."));
        }
        Ok(vault)
    }

    /// A human message on stderr, unless `--quiet`; what it quotes from the vault is escaped
    /// and any credential masked ([`output::message`]).
    pub fn notice(&self, message: &str) {
        if !self.quiet {
            eprintln!("{}", output::message(message));
        }
    }

    /// The token `id_or_name` means, or a one-line error that says how to find it (or, when it
    /// is one token's id and another's name, which to give instead: see [`vault::Store::find`]).
    pub fn resolve(&self, vault: &Vault, id_or_name: &str) -> Result<TokenRecord> {
        vault.store().find(id_or_name)?.ok_or_else(|| {
            Error::NotFound(format!(
                "no token with id or name \"{id_or_name}\"; see tokens list"
            ))
        })
    }
}

/// `~` or `~/…` at the start of a vault location is the home directory, as a shell would have
/// expanded it (`TOKENS_VAULT="~/vault.db"` in a quoted assignment, a systemd unit, a CI file).
fn with_home(value: &std::path::Path) -> std::borrow::Cow<'_, std::path::Path> {
    let home = std::env::var_os("HOME").filter(|home| !home.is_empty());
    match (value.strip_prefix("~"), home) {
        (Ok(rest), Some(home)) => std::path::PathBuf::from(home).join(rest).into(),
        _ => value.into(),
    }
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    let context = Context::new(&cli.global);
    let outcome = match cli.command {
        // Commands that do not use the vault named by --vault.
        Command::Completions(args) => return completions::run(args),
        Command::ServeClipboard(args) => return crate::clipboard::serve(args.clear_after),
        Command::Migrate(args) => return migrate::run(&context, args),
        Command::Grants(args) => return grants::run(&context, args),
        Command::Create(args) => create::run(&context, args),
        Command::List(args) => list::run(&context, args),
        Command::Show(args) => show::run(&context, args),
        Command::Edit(args) => edit::run(&context, args),
        Command::Rotate(args) => rotate::run(&context, args),
        Command::Revoke(args) => revoke::run(&context, args),
        Command::Disable(args) => disable::run(&context, args),
        Command::Enable(args) => enable::run(&context, args),
        Command::Refresh(args) => refresh::run(&context, args),
        Command::Verify(args) => verify::run(&context, args),
        Command::Log(args) => log::run(&context, args),
        Command::Policy(args) => policy::run(&context, args),
        Command::Complete(args) => complete::run(&context, args),
    };
    outcome.map_err(|error| match context.location() {
        Ok(location) => vault::explain(error, &location),
        Err(_) => error,
    })
}

impl Context {
    /// Asks before a change that ends tokens (`question` names them). `--yes` skips the question;
    /// without a terminal to ask on, the command needs `--yes` (exit 2). "No", Esc or Ctrl-C:
    /// nothing changes (exit 130).
    pub fn confirm_revocation(&self, command: &str, question: &str) -> Result<()> {
        self.confirm_revocation_of(command, question, &[])
    }

    /// [`Context::confirm_revocation`] for many tokens: `question` (short) on a line of its own,
    /// then `tokens` one a line below it, then a short y/N, so a long list is neither one
    /// wrapped paragraph nor drawn twice once answered.
    pub fn confirm_revocation_of(
        &self,
        command: &str,
        question: &str,
        tokens: &[String],
    ) -> Result<()> {
        if self.yes {
            return Ok(());
        }
        if !(self.stdin_is_terminal && self.stderr_is_terminal) {
            return Err(Error::Usage(format!(
                "{command} asks for confirmation: pass --yes to {command} without a terminal"
            )));
        }
        let asked = if tokens.is_empty() {
            crate::prompt::confirm(question)?
        } else {
            eprintln!("{}", output::message(question));
            for token in tokens {
                eprintln!("  {}", output::message(token));
            }
            crate::prompt::confirm(&format!("{} all {}?", capitalised(command), tokens.len()))?
        };
        if asked {
            Ok(())
        } else {
            self.notice("Nothing changed.");
            Err(Error::Silent(crate::prompt::CANCELLED))
        }
    }
}

/// `Revoke` for `revoke`.
fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// `"ci" (h0uM0uQVeYnF)`: how messages and prompts name a token, control characters escaped.
pub fn label(record: &TokenRecord) -> String {
    name_and_id(&record.name, &record.id)
}

/// `"name" (id)`, as messages name a token.
pub fn name_and_id(name: &str, id: &str) -> String {
    format!(
        "\"{}\" ({})",
        output::printable(name),
        output::printable(id)
    )
}

/// Refuses to change a token that is revoked or has been rotated away (exit 5).
pub fn ensure_live(record: &TokenRecord) -> Result<()> {
    match (&record.revoked_at, &record.replaced_by) {
        (None, _) => Ok(()),
        (Some(_), Some(new_id)) => Err(Error::Revoked(format!(
            "token {} was replaced by {new_id}; use that one",
            label(record)
        ))),
        (Some(_), None) => Err(Error::Revoked(format!(
            "token {} is revoked and cannot be changed",
            label(record)
        ))),
    }
}
