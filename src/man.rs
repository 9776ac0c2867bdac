//! Manual pages: `tokens(1)` and one page a subcommand (`tokens-create(1)`, …), rendered by
//! clap_mangen from the CLI definition, plus the sections a CLI definition does not hold:
//! EXIT STATUS (from [`EXIT_CODES`], the text `--help` shows), ENVIRONMENT, FILES, EXAMPLES and
//! SEE ALSO. `man/` holds them, checked in; `tests/generated.rs` keeps it current.

use clap::{Command, CommandFactory};
use clap_mangen::Man;
use roff::{Roff, bold, italic, roman};

use crate::cli::{Cli, EXIT_CODES};

/// One manual page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// `tokens.1`, `tokens-create.1`, …
    pub file_name: String,
    /// The page in roff (man macros).
    pub roff: String,
}

/// Every page: `tokens.1` first, then one for each subcommand users run.
pub fn pages() -> Vec<Page> {
    let mut root = Cli::command().disable_help_subcommand(true);
    root.build(); // names the subcommands `tokens-create` and puts the global options on them
    let subcommands: Vec<&Command> = root
        .get_subcommands()
        .filter(|subcommand| !subcommand.is_hide_set())
        .collect();
    let mut pages = vec![page(&root, &subcommands)];
    pages.extend(subcommands.iter().map(|subcommand| page(subcommand, &[])));
    pages
}

fn page(command: &Command, subcommands: &[&Command]) -> Page {
    let name = command.get_display_name().unwrap_or(command.get_name());
    let man = Man::new(command.clone())
        .title(name.to_uppercase())
        .date(release_date())
        .source(format!("tokens {}", env!("CARGO_PKG_VERSION")))
        .manual("User Commands");
    let mut text = String::from(PREAMBLE);
    text += &rendered(|out| man.render_title(out));
    text += &rendered(|out| man.render_name_section(out));
    text += &synopsis(command, !subcommands.is_empty());
    text += &rendered(|out| man.render_description_section(out));
    if command.get_arguments().any(|arg| !arg.is_hide_set()) {
        text += &rendered(|out| man.render_options_section(out));
    }
    if !subcommands.is_empty() {
        text += &rendered(|out| man.render_subcommands_section(out));
    }
    // Not render_extra_section: the exit codes `--help` shows after the options get a section
    // of their own.
    let mut roff = Roff::new();
    exit_status(&mut roff);
    environment(&mut roff);
    files(&mut roff);
    examples(&mut roff, command.get_name());
    see_also(&mut roff, subcommands);
    text += &roff.to_roff();
    if command.get_version().is_some() {
        text += &rendered(|out| man.render_version_section(out));
    }
    // No trailing blanks: clap_mangen leaves some, and mandoc -Tlint points at them.
    let mut roff: String = text
        .lines()
        .map(|line| line.trim_end().to_owned() + "\n")
        .collect();
    // clap_mangen puts a blank line before "Possible values" as `.br`, an empty line and `.br`
    // (or, for an argument without help, the empty line and `.br`), which mandoc -Tlint warns
    // about; `.sp` is the blank line roff means.
    roff = roff
        .replace("\n.br\n\n.br\n", "\n.sp\n")
        .replace("\n\n.br\n", "\n.sp\n");
    Page {
        file_name: format!("{name}.1"),
        roff,
    }
}

/// The date the pages show: the release's, from the newest entry of `debian/changelog` (the
/// one place a release is dated; its version is the crate's, which a test checks).
fn release_date() -> String {
    release_date_of(include_str!("../debian/changelog"))
}

/// The date of the first trailer line (` -- Name <mail>  Mon, 30 Nov 2026 12:00:00 +0000`).
fn release_date_of(changelog: &str) -> String {
    changelog
        .lines()
        .find_map(|line| line.strip_prefix(" -- "))
        .and_then(|trailer| trailer.split_once(">  "))
        .and_then(|(_, date)| chrono::DateTime::parse_from_rfc2822(date.trim()).ok())
        .map(|date| date.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// One section rendered by clap_mangen, without the preamble it starts each with.
fn rendered(section: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) -> String {
    let mut out = Vec::new();
    let _ = section(&mut out); // writing to a Vec cannot fail
    let text = String::from_utf8_lossy(&out);
    text.strip_prefix(PREAMBLE).unwrap_or(&text).to_owned()
}

/// What roff writes at the start of every rendering, to print apostrophes right.
const PREAMBLE: &str = ".ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n";

/// SYNOPSIS with each option's value, as `--help` shows them (clap_mangen leaves them out):
/// `tokens create [--app APP] [--scope SCOPE]... [-q|--quiet] [NAME]`.
fn synopsis(command: &Command, has_subcommands: bool) -> String {
    let name = command.get_bin_name().unwrap_or(command.get_name());
    let mut roff = Roff::new();
    roff.control("SH", ["SYNOPSIS"]);
    let mut parts = vec![bold(name)];
    let arguments: Vec<&clap::Arg> = command
        .get_arguments()
        .filter(|arg| !arg.is_hide_set())
        .collect();
    let (positionals, options): (Vec<&clap::Arg>, Vec<&clap::Arg>) =
        arguments.into_iter().partition(|arg| arg.is_positional());
    for arg in options {
        let repeated = matches!(arg.get_action(), clap::ArgAction::Append);
        parts.push(roman(" ["));
        if let Some(short) = arg.get_short() {
            parts.push(bold(format!("-{short}")));
            if arg.get_long().is_some() {
                parts.push(roman("|"));
            }
        }
        if let Some(long) = arg.get_long() {
            parts.push(bold(format!("--{long}")));
        }
        if arg.get_action().takes_values() {
            let value = arg
                .get_value_names()
                .and_then(|names| names.first())
                .map_or_else(|| arg.get_id().as_str().to_uppercase(), ToString::to_string);
            parts.push(roman(" "));
            parts.push(italic(value));
        }
        parts.push(roman(if repeated { "]..." } else { "]" }));
    }
    for arg in positionals {
        let value = arg
            .get_value_names()
            .and_then(|names| names.first())
            .map_or_else(|| arg.get_id().as_str().to_uppercase(), ToString::to_string);
        let many = arg
            .get_num_args()
            .is_some_and(|range| range.max_values() > 1);
        let (open, close) = if arg.is_required_set() {
            ("", "")
        } else {
            ("[", "]")
        };
        parts.push(roman(format!(" {open}")));
        parts.push(italic(value));
        parts.push(roman(format!("{}{close}", if many { "..." } else { "" })));
    }
    if has_subcommands {
        parts.push(roman(" "));
        parts.push(italic("COMMAND"));
    }
    roff.text(parts);
    roff.to_roff()
}

/// SPEC §5's table, from the text `tokens --help` ends with.
fn exit_status(roff: &mut Roff) {
    roff.control("SH", ["EXIT STATUS"]);
    for (code, meaning) in exit_codes() {
        roff.control("TP", []);
        roff.text([bold(code)]);
        roff.text([roman(meaning)]);
    }
}

/// The `(code, meaning)` rows of [`EXIT_CODES`]: a heading line, then `  N  meaning` lines,
/// each maybe continued on more indented lines.
fn exit_codes() -> Vec<(String, String)> {
    let mut codes: Vec<(String, String)> = Vec::new();
    for line in EXIT_CODES.lines().skip(1) {
        let line = line.trim();
        match line.split_once(char::is_whitespace) {
            Some((code, meaning)) if code.chars().all(|c| c.is_ascii_digit()) => {
                codes.push((code.to_owned(), meaning.trim().to_owned()));
            }
            _ => {
                if let Some((_, meaning)) = codes.last_mut() {
                    meaning.push(' ');
                    meaning.push_str(line);
                }
            }
        }
    }
    codes
}

fn environment(roff: &mut Roff) {
    roff.control("SH", ["ENVIRONMENT"]);
    roff.control("TP", []);
    roff.text([bold("TOKENS_VAULT")]);
    roff.text([
        roman("The vault, when "),
        bold("--vault"),
        roman(" is not given: a file, or a "),
        italic("postgres://"),
        roman(" URL for a shared vault in PostgreSQL."),
    ]);
    roff.control("TP", []);
    roff.text([bold("TOKENS_VAULT_OWNER")]);
    roff.text([roman(
        "The account (a user name or a numeric uid) that may own a vault file besides this user \
         and root: a vault a service account manages. The vault file, its -wal, -shm and \
         -journal files and its folder must be owned by one of them and writable by no one \
         else; every folder above must be owned by one of them and writable by no one else \
         unless sticky (like /tmp), with symbolic links resolved. Group-write by the owner's \
         private group is allowed. Anything else is refused with exit 1 and the chmod or chown \
         that fixes it.",
    )]);
    roff.control("TP", []);
    roff.text([bold("PGPASSWORD"), roman(", "), bold("PGPASSFILE")]);
    roff.text([roman(
        "The password for a PostgreSQL vault whose URL carries none; else ~/.pgpass is read, as \
         libpq reads it. PGHOST, PGPORT, PGUSER and PGDATABASE fill in what the URL leaves out.",
    )]);
    roff.control("TP", []);
    roff.text([bold("NO_COLOR")]);
    roff.text([
        roman("When set and not empty, no colour on a terminal either, unless "),
        bold("--color always"),
        roman("."),
    ]);
}

fn files(roff: &mut Roff) {
    roff.control("SH", ["FILES"]);
    roff.control("TP", []);
    roff.text([italic("~/.local/share/tokens/vault.db")]);
    roff.text([roman(
        "The default vault on Linux (under $XDG_DATA_HOME when that is set): an SQLite file of \
         hashed tokens, their metadata and an event log, made by the first command that writes, \
         mode 0600 in a folder of mode 0700, with its -wal and -shm files beside it. A vault \
         another user could change is refused (see TOKENS_VAULT_OWNER).",
    )]);
    roff.control("TP", []);
    roff.text([italic("~/.pgpass")]);
    roff.text([roman(
        "Passwords for PostgreSQL vaults (host:port:database:user:password), read only when its \
         mode is 0600 or stricter.",
    )]);
}

/// `(comment, lines)`: a shell session or script with a sentence above it.
type Example = (&'static str, &'static [&'static str]);

const ADMIN_SESSION: Example = (
    "An admin issues a token for a CI job, finds tokens about to expire, rotates one with an \
     hour of overlap, revokes another and reads what happened:",
    &[
        "$ tokens create ci-deploy --app ci --scope deploy:prod --expires 90d",
        "$ tokens list --expiring 7d",
        "$ tokens rotate ci-deploy --grace 1h",
        "$ tokens revoke old-bot --reason \"laptop lost\"",
        "$ tokens log ci-deploy --since 7d",
    ],
);

const CI_SCRIPT: Example = (
    "A CI script lets a job deploy only with a token that may deploy to production; the token \
     comes from the environment, never from the command line:",
    &[
        "#!/bin/sh",
        "tokens verify --token-env DEPLOY_TOKEN --scope deploy:prod --app ci --quiet",
        "case $? in",
        "  0) ./deploy.sh ;;",
        "  4) echo \"deploy token expired: ask for a new one\" >&2; exit 1 ;;",
        "  *) echo \"deploy token refused\" >&2; exit 1 ;;",
        "esac",
    ],
);

fn examples_of(command: &str) -> Vec<Example> {
    match command {
        "tokens" => vec![ADMIN_SESSION, CI_SCRIPT],
        "create" => vec![
            (
                "A token for a bot, with two scopes, that never expires:",
                &["$ tokens create support-bot --app helpdesk --scope read,write --expires never"],
            ),
            (
                "A one-time enrolment token, good only from the office network, that tells its \
                 verifier the tenant:",
                &["$ tokens create enrol-7 --uses 1 --allow-from 10.20.0.0/16 --meta tenant=acme"],
            ),
            (
                "Replace the app's token in one step and keep only the token, for a script:",
                &["$ TOKEN=$(tokens create ci-deploy --app ci --replace --no-secret-key --yes)"],
            ),
        ],
        "migrate" => vec![(
            "Move this machine's vault into the team's shared one; every token keeps working:",
            &[
                "$ tokens migrate --from ~/.local/share/tokens/vault.db --to postgres://admin@db/tokens",
            ],
        )],
        "grants" => vec![(
            "The SQL that lets the role ci_verify verify tokens and nothing more (run it with psql as the vault's owner):",
            &["$ tokens grants ci_verify --kind verifier"],
        )],
        "list" => vec![
            (
                "Active tokens of one app, and every token that expires within a week, as JSON:",
                &[
                    "$ tokens list --app ci --status active",
                    "$ tokens list --expiring 7d --json",
                ],
            ),
            (
                "A cron or CI alert: exit 8 when a token expires within a week, or went unused for 90 days:",
                &[
                    "$ tokens list --expiring 7d --exit-code",
                    "$ tokens list --unused 90d --exit-code",
                ],
            ),
        ],
        "show" => vec![(
            "Every field, the lineage and the recent events of a token:",
            &["$ tokens show ci-deploy"],
        )],
        "edit" => vec![(
            "Give a token one more scope and a year more to live; its secret stays:",
            &["$ tokens edit ci-deploy --add-scope deploy:staging --expires 1y"],
        )],
        "rotate" => vec![
            (
                "A new secret for a token, with the old one still accepted for an hour:",
                &["$ tokens rotate ci-deploy --grace 1h --copy"],
            ),
            (
                "The old token keeps working until the new one is first verified (at most a week):",
                &["$ tokens rotate ci-deploy --until-used --grace 7d"],
            ),
        ],
        "revoke" => vec![
            (
                "End a token at once, saying why:",
                &["$ tokens revoke old-bot --reason \"laptop lost\""],
            ),
            (
                "End every live token of an app, from a script:",
                &["$ tokens revoke --app partner-x --all --yes"],
            ),
        ],
        "disable" => vec![(
            "Hold a token while a possible leak is looked into; verify answers 7 until enabled:",
            &["$ tokens disable ci-deploy --reason \"INC-42: may have leaked\""],
        )],
        "enable" => vec![(
            "Let a disabled token verify again:",
            &["$ tokens enable ci-deploy"],
        )],
        "refresh" => vec![(
            "The holder trades the token and its secret key, one a line on stdin, for a new pair:",
            &["$ printf '%s\\n%s\\n' \"$TOKEN\" \"$SECRET_KEY\" | tokens refresh"],
        )],
        "verify" => vec![CI_SCRIPT],
        "log" => vec![
            (
                "A week of events for a token and the tokens it was rotated from and to:",
                &["$ tokens log ci-deploy --since 7d"],
            ),
            (
                "Ship the audit trail to syslog as JSON lines, as events commit:",
                &["$ tokens log --jsonl --follow | logger -t tokens-audit"],
            ),
            (
                "A collector that has every event up to 1234 picks up after it:",
                &["$ tokens log --jsonl --after 1234"],
            ),
        ],
        "policy" => vec![
            (
                "At most 90 days a token, and every token names its app:",
                &["$ tokens policy set --max-lifetime 90d --require-app"],
            ),
            (
                "Which live tokens were made before the rules and break them (exit 8 if any):",
                &["$ tokens policy check"],
            ),
        ],
        "completions" => vec![(
            "Tab completion in the running bash; see README for each shell:",
            &["$ source <(tokens completions bash)"],
        )],
        _ => Vec::new(),
    }
}

fn examples(roff: &mut Roff, command: &str) {
    let examples = examples_of(command);
    if examples.is_empty() {
        return;
    }
    roff.control("SH", ["EXAMPLES"]);
    for (index, (comment, lines)) in examples.into_iter().enumerate() {
        if index > 0 {
            roff.control("PP", []);
        }
        roff.text([roman(comment)]);
        roff.control("PP", []);
        roff.control("RS", ["4"]);
        roff.control("nf", []);
        for line in lines {
            roff.text([roman(*line)]);
        }
        roff.control("fi", []);
        roff.control("RE", []);
    }
}

fn see_also(roff: &mut Roff, subcommands: &[&Command]) {
    roff.control("SH", ["SEE ALSO"]);
    let pages: Vec<String> = if subcommands.is_empty() {
        vec!["tokens".to_owned()]
    } else {
        subcommands
            .iter()
            .map(|subcommand| {
                subcommand
                    .get_display_name()
                    .unwrap_or(subcommand.get_name())
                    .to_owned()
            })
            .collect()
    };
    let last = pages.len() - 1;
    for (index, page) in pages.iter().enumerate() {
        let separator = if index == last { "" } else { "," };
        roff.control("BR", [page.as_str(), &format!("(1){separator}")]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_read_from_the_help_text() {
        let codes = exit_codes();
        let numbers: Vec<&str> = codes.iter().map(|(code, _)| code.as_str()).collect();
        assert_eq!(
            numbers,
            ["0", "1", "2", "3", "4", "5", "6", "7", "8", "130", "141"]
        );
        assert_eq!(
            codes[1].1,
            "operational error: vault missing, unreadable, read-only, corrupt, unreachable, \
             locked too long, I/O; or no token matches the ID or NAME given, or the name is in \
             use, or migrate's destination is not empty"
        );
    }

    #[test]
    fn one_page_for_tokens_and_each_subcommand() {
        let names: Vec<String> = pages().into_iter().map(|page| page.file_name).collect();
        assert_eq!(
            names,
            [
                "tokens.1",
                "tokens-create.1",
                "tokens-list.1",
                "tokens-show.1",
                "tokens-edit.1",
                "tokens-rotate.1",
                "tokens-revoke.1",
                "tokens-disable.1",
                "tokens-enable.1",
                "tokens-refresh.1",
                "tokens-verify.1",
                "tokens-log.1",
                "tokens-policy.1",
                "tokens-migrate.1",
                "tokens-grants.1",
                "tokens-completions.1",
            ]
        );
    }

    #[test]
    fn every_example_command_line_parses() {
        use clap::{CommandFactory, Parser};
        let cli = Cli::command();
        let names = std::iter::once("tokens").chain(
            cli.get_subcommands()
                .filter(|command| !command.is_hide_set())
                .map(|command| command.get_name()),
        );
        for (_, lines) in names.flat_map(examples_of) {
            for line in lines.iter().filter(|line| line.contains("tokens ")) {
                // From `tokens` to the end of the line, of the `$(...)` around it or of a pipe.
                let command = &line[line.find("tokens ").unwrap()..];
                let command = command.split([')', '|']).next().unwrap();
                let mut words = Vec::new();
                for (index, part) in command.split('"').enumerate() {
                    if index % 2 == 1 {
                        words.push(part.to_owned()); // quoted
                    } else {
                        words.extend(part.split_whitespace().map(str::to_owned));
                    }
                }
                if let Err(error) = Cli::try_parse_from(&words) {
                    panic!("{line}: {error}");
                }
            }
        }
    }

    #[test]
    fn every_subcommand_has_examples() {
        for page in pages() {
            assert!(page.roff.contains(".SH EXAMPLES"), "{}", page.file_name);
        }
    }

    #[test]
    fn the_release_is_dated_and_versioned_in_one_place() {
        let changelog = include_str!("../debian/changelog");
        let first = changelog.lines().next().unwrap_or_default();
        assert!(
            first.starts_with(&format!("tokens ({}-", env!("CARGO_PKG_VERSION"))),
            "debian/changelog's newest entry is not this version: {first}"
        );
        assert_eq!(release_date().len(), 10, "no date in debian/changelog");
        assert_eq!(
            release_date_of(" -- A <a@b.c>  Mon, 30 Nov 2026 12:00:00 +0000\n"),
            "2026-11-30"
        );
    }
}
