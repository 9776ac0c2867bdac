//! The command-line interface: clap definitions and help text only. The work lives in `commands/`.

use std::path::PathBuf;

use std::ffi::OsString;

use clap::{Args, FromArgMatches, Parser, Subcommand, ValueEnum, ValueHint};

use crate::duration;

pub const EXIT_CODES: &str = "\
Exit status:
    0  success; for verify: the token is valid for what was asked
       (revoke --leaked: its input was processed, whatever it found in it)
    1  operational error: vault missing, unreadable, read-only, corrupt, unreachable,
       locked too long, I/O; or no token matches the ID or NAME given, or the name is
       in use, or migrate's destination is not empty
    2  usage error
    3  verify/refresh: token malformed, unknown, or wrong secret
    4  token expired, or its uses are spent; refresh: past its refresh window
    5  token revoked; also rotate/edit of a revoked or replaced token, a reused secret key
    6  token valid but lacks a required scope, belongs to another app, or is presented
       from an address it is not bound to
    7  token disabled (tokens enable restores it); also refresh of a disabled token
    8  a report found something: list --exit-code matched tokens, policy check
       found tokens that break the vault's policy
  130  cancelled at a prompt (Ctrl-C, Esc or \"no\"); nothing changed
  141  stdout was closed before everything was printed (tokens list | head): ended by
       SIGPIPE, quietly";

/// Create, list, rotate, revoke, refresh and verify API tokens.
///
/// Every secret is shown exactly once; the vault keeps only SHA-256 hashes.
/// No command takes a secret as an argument: verify and refresh read them from
/// stdin, an environment variable or a file.
#[derive(Debug, Parser)]
#[command(name = "tokens", version, after_long_help = EXIT_CODES, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]
    #[arg(long, global = true, env = "TOKENS_VAULT", value_name = "PATH|URL", value_hint = ValueHint::FilePath)]
    pub vault: Option<PathBuf>,
    /// Machine-readable output: one JSON document on stdout
    #[arg(long, global = true)]
    pub json: bool,
    /// Print only what was asked for: no notices, warnings or verdicts
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// When to use colour (NO_COLOR in the environment turns it off)
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
    /// Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)
    #[arg(short = 'y', long, global = true)]
    pub yes: bool,
    /// Give up on the vault after this long, exit 1: each wait for it (connect and log in, a
    /// lock another command holds, a query). From 1s to 24h, e.g. 2s or 1min
    #[arg(long, global = true, env = "TOKENS_TIMEOUT", value_name = "DURATION", value_parser = duration::std_length("timeout"), default_value = "10s")]
    pub timeout: std::time::Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Create(CreateArgs),
    List(ListArgs),
    Show(ShowArgs),
    Edit(EditArgs),
    Rotate(RotateArgs),
    Revoke(RevokeArgs),
    Disable(DisableArgs),
    Enable(EnableArgs),
    Refresh(RefreshArgs),
    Verify(VerifyArgs),
    Log(LogArgs),
    Policy(PolicyArgs),
    Migrate(MigrateArgs),
    Grants(GrantsArgs),
    Completions(CompletionsArgs),
    /// Internal: keeps a copied token on the clipboard after the command that copied it returns.
    #[command(name = "__serve-clipboard", hide = true)]
    ServeClipboard(ServeClipboardArgs),
    /// Internal: the vault values (token names and ids, apps, scopes) the completion scripts offer.
    #[command(name = "__complete", hide = true)]
    Complete(CompleteArgs),
}

/// Create a token and print it (and its secret key) once
///
/// Piped, stdout is just the token line and the secret key line:
///   TOKEN=$(tokens create ci-deploy --app ci --scope deploy:prod --no-secret-key)
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct CreateArgs {
    /// A name for the token, unique among live tokens (asked for on a terminal when left out)
    #[arg(value_parser = parse_new_name)]
    pub name: Option<String>,
    /// Who the token belongs to or acts for (a bot, app, partner or account)
    #[arg(long, value_name = "APP", value_parser = parse_app)]
    pub app: Option<String>,
    /// A permission; repeat it, or separate with commas: --scope read,write
    #[arg(long = "scope", value_name = "SCOPE", value_delimiter = ',', value_parser = parse_scope)]
    pub scopes: Vec<String>,
    /// Lifetime: 30d, 12h, 2w, 1y, a date (2027-01-31), an RFC 3339 time, or never (units: s
    /// seconds, min minutes, h hours, d days, w weeks, y years of 365 days; at most 100y)
    /// [default: 30d, or the vault policy's default lifetime]
    #[arg(long, value_name = "WHEN", value_parser = duration::time_text("expires"))]
    pub expires: Option<String>,
    /// Revoke the app's other live tokens in the same step (one token per app); needs --app
    #[arg(long, requires = "app")]
    pub replace: bool,
    /// Do not issue a secret key (the token then cannot be refreshed by its holder)
    #[arg(long)]
    pub no_secret_key: bool,
    /// Issue a secret key with a --uses token too (left out by default: each refresh would
    /// hand its holder a new token with the uses left, so a one-time token would not be one-time)
    #[arg(long, conflicts_with = "no_secret_key")]
    pub secret_key: bool,
    /// How long after the token expires its secret key may still refresh it, e.g. 7d; never:
    /// no limit [default: the vault policy's default-refresh-window, else its
    /// max-refresh-window, else never]
    #[arg(long, value_name = "DURATION|never", value_parser = duration::limit("refresh-window"))]
    pub refresh_window: Option<duration::Limit>,
    #[command(flatten)]
    pub copy: CopyArgs,
    /// A free-text note kept with the token
    #[arg(long, value_name = "TEXT", value_parser = parse_text)]
    pub note: Option<String>,
    /// Let the token verify this many times, then answer used_up (exit 4); 1 makes a one-time
    /// token. Issues no secret key unless --secret-key is given
    #[arg(long, value_name = "N", value_parser = parse_uses)]
    pub uses: Option<i64>,
    /// Accept the token only from these addresses: CIDRs or single addresses, IPv4 or IPv6,
    /// comma separated or repeated (verify then needs --client-ip)
    #[arg(long, value_name = "CIDR", value_delimiter = ',', value_parser = parse_net)]
    pub allow_from: Vec<ipnet::IpNet>,
    /// Metadata returned with the token (show, list --json, verify --json); repeatable
    #[arg(long, value_name = "KEY=VALUE", value_parser = parse_meta)]
    pub meta: Vec<(String, String)>,
}

/// `--copy` and how long the token stays on the clipboard.
#[derive(Debug, Clone, Args)]
pub struct CopyArgs {
    /// Also put the token on the clipboard (cleared after --clear-after unless --keep-clipboard)
    #[arg(long)]
    pub copy: bool,
    /// Clear the clipboard this long after --copy, if it still holds the token
    #[arg(long, value_name = "DURATION", value_parser = duration::length("clear-after"), default_value = "45s", requires = "copy")]
    pub clear_after: chrono::Duration,
    /// Leave the token on the clipboard
    #[arg(long, requires = "copy", conflicts_with = "clear_after")]
    pub keep_clipboard: bool,
}

/// List tokens (never their secrets)
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Include revoked tokens
    #[arg(long)]
    pub all: bool,
    /// Only tokens of this app
    #[arg(long, value_name = "APP", value_parser = parse_app)]
    pub app: Option<String>,
    /// Only tokens with this scope
    #[arg(long, value_name = "SCOPE", value_parser = parse_scope)]
    pub scope: Option<String>,
    /// Only tokens in this state
    #[arg(long, value_enum, value_name = "STATUS")]
    pub status: Option<StatusArg>,
    /// Only active tokens that expire within this time, e.g. 7d
    #[arg(long, value_name = "DURATION", value_parser = duration::length("expiring"))]
    pub expiring: Option<chrono::Duration>,
    /// Only tokens that still verify and were never used, or not for this long, e.g. 90d
    #[arg(long, value_name = "DURATION", value_parser = duration::length("unused"))]
    pub unused: Option<chrono::Duration>,
    /// Exit 8 when any token matched, 0 when none did (for cron and CI alerts:
    /// tokens list --expiring 7d --exit-code)
    #[arg(long)]
    pub exit_code: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusArg {
    Active,
    /// Rotated away, still verifying: in a grace, or until its successor is first used
    Rotating,
    Disabled,
    #[value(name = "used_up")]
    UsedUp,
    Expired,
    Revoked,
}

/// Show every field of one token, its lineage and its recent events
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The token's id or name
    #[arg(value_name = "ID|NAME", value_parser = parse_id_or_name)]
    pub token: String,
}

/// Change a token's metadata; its secret stays the same
#[derive(Debug, Args)]
pub struct EditArgs {
    /// The token's id or name
    #[arg(value_name = "ID|NAME", value_parser = parse_id_or_name)]
    pub token: String,
    /// A new name
    #[arg(long, value_name = "NAME", value_parser = parse_new_name)]
    pub rename: Option<String>,
    /// Add a scope (repeatable, or comma separated)
    #[arg(long, value_name = "SCOPE", value_delimiter = ',', value_parser = parse_scope)]
    pub add_scope: Vec<String>,
    /// Remove a scope (repeatable, or comma separated)
    #[arg(long, value_name = "SCOPE", value_delimiter = ',', value_parser = parse_scope)]
    pub remove_scope: Vec<String>,
    /// A new app; an empty string removes it
    #[arg(long, value_name = "APP", value_parser = parse_app_or_empty)]
    pub app: Option<String>,
    /// A new expiry, counted from now: 30d, 12h, 2w, 1y, a date, an RFC 3339 time, or never
    /// (units as for create --expires)
    #[arg(long, value_name = "WHEN", value_parser = duration::time_text("expires"))]
    pub expires: Option<String>,
    /// A new note; an empty string removes it
    #[arg(long, value_name = "TEXT", value_parser = parse_text)]
    pub note: Option<String>,
    /// A new use limit, counted from now: N uses, or unlimited
    #[arg(long, value_name = "N|unlimited", value_parser = parse_uses_or_unlimited)]
    pub uses: Option<UsesLimit>,
    /// How long after the token expires its secret key may still refresh it, e.g. 7d, or never
    #[arg(long, value_name = "DURATION|never", value_parser = duration::limit("refresh-window"))]
    pub refresh_window: Option<duration::Limit>,
    /// Accept the token only from these addresses (replaces the ones it had): CIDRs or single
    /// addresses, comma separated or repeated
    #[arg(long, value_name = "CIDR", value_delimiter = ',', value_parser = parse_net, conflicts_with = "any_address")]
    pub allow_from: Vec<ipnet::IpNet>,
    /// Accept the token from any address again
    #[arg(long)]
    pub any_address: bool,
    /// Set a metadata key (repeatable)
    #[arg(long, value_name = "KEY=VALUE", value_parser = parse_meta)]
    pub meta: Vec<(String, String)>,
    /// Remove a metadata key (repeatable)
    #[arg(long, value_name = "KEY", value_parser = parse_meta_key)]
    pub unset_meta: Vec<String>,
}

/// Issue a new secret for a token (new id, same name, app and scopes)
///
/// The old token stops verifying now, or when --grace ends.
#[derive(Debug, Args)]
pub struct RotateArgs {
    /// The token's id or name
    #[arg(value_name = "ID|NAME", value_parser = parse_id_or_name)]
    pub token: String,
    /// Let the old token keep verifying this long, e.g. 1h, so clients can switch over (never
    /// past its own expiry; 0s is no grace: the old token stops at once, which asks first)
    #[arg(long, value_name = "DURATION", value_parser = duration::length("grace"))]
    pub grace: Option<chrono::Duration>,
    /// Let the old token keep verifying until the new one is first verified (or --grace ends,
    /// if given), so a new token that was never delivered breaks no one
    #[arg(long)]
    pub until_used: bool,
    /// Lifetime of the new token [default: the old token's lifetime, at most the vault
    /// policy's max lifetime]
    #[arg(long, value_name = "WHEN", value_parser = duration::time_text("expires"))]
    pub expires: Option<String>,
    #[command(flatten)]
    pub copy: CopyArgs,
}

/// End tokens at once (asks for confirmation on a terminal; --yes otherwise)
///
/// With --leaked, reads any text on stdin (a secret scanner's report as it is, a log
/// excerpt, one token a line) and revokes every token and secret key found in it:
///   trufflehog3 -r scanners/trufflehog3-rules.yml -f json . | tokens revoke --leaked
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct RevokeArgs {
    /// The tokens' ids or names
    #[arg(value_name = "ID|NAME", required_unless_present_any = ["all", "leaked"], value_parser = parse_id_or_name)]
    pub tokens: Vec<String>,
    /// With --all: every live token of this app
    #[arg(long, value_name = "APP", value_parser = parse_app, requires = "all")]
    pub app: Option<String>,
    /// Revoke all live tokens of --app
    #[arg(long, requires = "app", conflicts_with = "tokens")]
    pub all: bool,
    /// Why, kept in the vault and the event log
    #[arg(long, value_name = "TEXT", value_parser = parse_text)]
    pub reason: Option<String>,
    /// Revoke every token and secret key found in the text on stdin whose secret matches
    /// (reason "leaked"; a secret key revokes its token's whole lineage); prints each one found
    /// as revoked, already revoked or unknown, by id and masked form only
    #[arg(long, conflicts_with_all = ["tokens", "all", "reason"])]
    pub leaked: bool,
}

/// Suspend tokens without revoking them: verify and refresh answer disabled (exit 7)
///
/// Reversible: tokens enable restores them. A name covers every token of that name that
/// still verifies (one rotated away whose grace runs too).
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct DisableArgs {
    /// The tokens' ids or names
    #[arg(value_name = "ID|NAME", required = true, value_parser = parse_id_or_name)]
    pub tokens: Vec<String>,
    /// Why, kept in the vault and the event log
    #[arg(long, value_name = "TEXT", value_parser = parse_text)]
    pub reason: Option<String>,
}

/// Restore tokens suspended by tokens disable
#[derive(Debug, Args)]
pub struct EnableArgs {
    /// The tokens' ids or names
    #[arg(value_name = "ID|NAME", required = true, value_parser = parse_id_or_name)]
    pub tokens: Vec<String>,
}

/// Trade a token and its secret key for a new pair (also after it expired, within its refresh window)
///
/// Reads the token and the secret key as two lines on stdin, unless given by
/// environment variable or file. A secret key works once: presenting a used one
/// again revokes every token of its lineage.
#[derive(Debug, Args)]
#[command(verbatim_doc_comment, after_long_help = EXIT_CODES)]
pub struct RefreshArgs {
    /// Read the token from this environment variable
    #[arg(long, value_name = "VAR", conflicts_with = "token_file")]
    pub token_env: Option<String>,
    /// Read the token from this file
    #[arg(long, value_name = "PATH", value_hint = ValueHint::FilePath)]
    pub token_file: Option<PathBuf>,
    /// Read the secret key from this environment variable
    #[arg(long, value_name = "VAR", conflicts_with = "secret_key_file")]
    pub secret_key_env: Option<String>,
    /// Read the secret key from this file
    #[arg(long, value_name = "PATH", value_hint = ValueHint::FilePath)]
    pub secret_key_file: Option<PathBuf>,
    #[command(flatten)]
    pub copy: CopyArgs,
}

/// Check a presented token; the exit status says whether it is good
///
/// Reads the token from stdin unless --token-env or --token-file is given:
///   printf '%s\n' "$TOKEN" | tokens verify --scope deploy:prod --app ci
#[derive(Debug, Args)]
#[command(verbatim_doc_comment, after_long_help = EXIT_CODES)]
pub struct VerifyArgs {
    /// Require this scope (repeatable, or comma separated)
    #[arg(long = "scope", value_name = "SCOPE", value_delimiter = ',', value_parser = parse_scope)]
    pub scopes: Vec<String>,
    /// Require the token to belong to this app
    #[arg(long, value_name = "APP", value_parser = parse_app)]
    pub app: Option<String>,
    /// Read the token from this environment variable
    #[arg(long, value_name = "VAR", conflicts_with_all = ["token_file", "batch"])]
    pub token_env: Option<String>,
    /// Read the token from this file
    #[arg(long, value_name = "PATH", value_hint = ValueHint::FilePath, conflicts_with = "batch")]
    pub token_file: Option<PathBuf>,
    /// The client's address, for a token bound to addresses (create --allow-from); with
    /// --batch, every line's (a line that carries its own address is then malformed)
    #[arg(long, value_name = "ADDR")]
    pub client_ip: Option<std::net::IpAddr>,
    /// One token a line on stdin, optionally followed by whitespace and the client's address
    /// (written by the service, never copied from the client); one JSON line a token on stdout,
    /// in order; exit 0 when all were answered
    #[arg(long)]
    pub batch: bool,
}

/// Show the event log: created, rotated, refreshed, revoked, edited, failed verifications
#[derive(Debug, Args)]
pub struct LogArgs {
    /// Only events of this token and its lineage (id or name)
    #[arg(value_name = "ID|NAME", value_parser = parse_id_or_name)]
    pub token: Option<String>,
    /// Only events since then: 7d, a date, or an RFC 3339 time
    #[arg(long, value_name = "WHEN", value_parser = duration::time_text("since"))]
    pub since: Option<String>,
    /// Only the newest N events (still oldest first); with --after, the next N
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
    /// JSON Lines: one event a line (seq, at, token_id, name, event, detail), for a collector
    #[arg(long, conflicts_with = "json")]
    pub jsonl: bool,
    /// Only events after this seq (what a collector already has), to resume without a gap
    #[arg(long, value_name = "SEQ", requires = "jsonl")]
    pub after: Option<i64>,
    /// Keep printing events as they commit (within a second) until interrupted
    #[arg(long, requires = "jsonl")]
    pub follow: bool,
    /// Only events of this kind: created, rotated, refreshed, revoked, edited, policy,
    /// verify_failed, ...
    #[arg(long, value_name = "KIND")]
    pub event: Option<String>,
}

/// Show the vault's policy, change it, or check the tokens against it
///
///   tokens policy          the rules
///   tokens policy set [--max-lifetime DURATION|never] [--default-lifetime DURATION]
///                     [--require-app | --no-require-app] [--scopes SCOPE,... | --any-scope]
///   tokens policy check    live tokens that break the rules: exit 8 if any, 0 if none
///
/// The rules live in the vault, so on a shared vault one `policy set` binds every admin.
/// create, edit and rotate --expires that would break a rule are refused (exit 2);
/// refresh and rotate without --expires cap the lifetime at the maximum. See
/// tokens policy set --help for each rule.
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct PolicyArgs {
    #[command(subcommand)]
    pub action: Option<PolicyAction>,
}

#[derive(Debug, Subcommand)]
pub enum PolicyAction {
    Set(PolicySetArgs),
    Check(PolicyCheckArgs),
}

/// Change the vault's rules (the others stay as they are); logged as a `policy` event
#[derive(Debug, Args)]
#[command(arg_required_else_help = true)]
pub struct PolicySetArgs {
    /// The longest lifetime a token may be given, e.g. 90d or 1y; never (or none): no maximum
    #[arg(long, value_name = "DURATION|never", value_parser = duration::limit("max-lifetime"))]
    pub max_lifetime: Option<duration::Limit>,
    /// The lifetime create gives without --expires, e.g. 30d
    #[arg(long, value_name = "DURATION", value_parser = duration::length("default-lifetime"))]
    pub default_lifetime: Option<chrono::Duration>,
    /// Every token must name an app
    #[arg(long, conflicts_with = "no_require_app")]
    pub require_app: bool,
    /// Tokens need not name an app
    #[arg(long)]
    pub no_require_app: bool,
    /// The only scopes a token may have (comma separated)
    #[arg(long, value_name = "SCOPE", value_delimiter = ',', value_parser = parse_scope, conflicts_with = "any_scope")]
    pub scopes: Option<Vec<String>>,
    /// Any scope is allowed
    #[arg(long)]
    pub any_scope: bool,
    /// The longest refresh window a token may be given, e.g. 30d; none: no maximum (rotate
    /// and refresh cut longer windows to it)
    #[arg(long, value_name = "DURATION|none", value_parser = duration::limit("max-refresh-window"))]
    pub max_refresh_window: Option<duration::Limit>,
    /// The refresh window create gives without --refresh-window, e.g. 7d; none: the
    /// max-refresh-window, else never
    #[arg(long, value_name = "DURATION|none", value_parser = duration::limit("default-refresh-window"))]
    pub default_refresh_window: Option<duration::Limit>,
}

/// List live tokens that break the current rules; exit 8 when any do, 0 when none do
#[derive(Debug, Args)]
pub struct PolicyCheckArgs {}

/// Print the SQL that gives a PostgreSQL role what one kind of user needs, and nothing more
///
/// Run it as the vault's owner (who alone migrates the schema), e.g.:
///   tokens grants ci_verifier --kind verifier | psql "$OWNER_URL"
/// Running it again with another kind replaces what the role had on the vault.
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct GrantsArgs {
    /// The role (user) to grant to, as PostgreSQL names it
    #[arg(value_name = "ROLE", value_parser = parse_role)]
    pub role: String,
    /// What the role may do
    #[arg(long, value_enum)]
    pub kind: crate::vault::postgres::grants::Kind,
}

/// A PostgreSQL role name: `[A-Za-z0-9_$.@-]{1,63}` (quoted in the SQL where it must be).
fn parse_role(text: &str) -> Result<String, String> {
    if !text.is_empty()
        && text.len() <= 63
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_$.@-".contains(c))
    {
        Ok(text.to_owned())
    } else {
        Err("a role name is 1 to 63 of A-Z a-z 0-9 _ $ . @ -".to_owned())
    }
}

/// Copy a vault into another, e.g. from this machine's file into a shared PostgreSQL vault
///
/// Copies every token (hashes only: no secret is needed or shown) with its history and the
/// whole event log, then reads both vaults back and compares them before committing. The
/// destination must be empty (it is created if missing); the source is not changed.
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct MigrateArgs {
    /// The vault to copy: a file or a postgres:// URL
    #[arg(long, value_name = "PATH|URL", value_hint = ValueHint::FilePath)]
    pub from: PathBuf,
    /// The vault to copy into (empty or missing): a postgres:// URL or a file
    #[arg(long, value_name = "PATH|URL", value_hint = ValueHint::FilePath)]
    pub to: PathBuf,
}

/// Print a shell completion script
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Internal: the token arrives on stdin, never in argv or the environment.
#[derive(Debug, Args)]
pub struct ServeClipboardArgs {
    /// Clear the clipboard after this many seconds, if it still holds the token
    #[arg(long, value_name = "SECONDS")]
    pub clear_after: Option<u64>,
}

/// Internal: `tokens __complete -- tokens revoke ci-` prints the values that complete the last word.
#[derive(Debug, Args)]
pub struct CompleteArgs {
    /// The command line up to the cursor: the program, its arguments and the word being completed
    #[arg(value_name = "WORDS", num_args = 0.., trailing_var_arg = true, allow_hyphen_values = true)]
    pub words: Vec<String>,
}

/// Parses a command line (`args` includes the program name), as `Cli::try_parse_from` would.
///
/// `verify`, which CI calls on every job, is first tried against a tree of its own: the global
/// options and verify's, no other subcommand. Most of clap's cost is copying the global options
/// into every subcommand, about a tenth of a whole `verify` process (docs/PERFORMANCE.md). The
/// small tree is cut from the same definitions, so what it accepts the whole tree reads the same
/// way (tested below); anything it does not accept (help, a mistake, another command) is parsed
/// again by the whole tree, which gives the answer or the message.
pub fn parse_from(args: Vec<OsString>) -> Result<Cli, clap::Error> {
    if args.iter().any(|arg| arg == "verify")
        && let Some(cli) = parse_verify_only(&args)
    {
        return Ok(cli);
    }
    Cli::try_parse_from(args)
}

fn parse_verify_only(args: &[OsString]) -> Option<Cli> {
    let tree = GlobalArgs::augment_args(clap::Command::new("tokens"))
        .subcommand(VerifyArgs::augment_args(clap::Command::new("verify")))
        .subcommand_required(true);
    let mut matches = tree.try_get_matches_from(args).ok()?;
    let global = GlobalArgs::from_arg_matches_mut(&mut matches).ok()?;
    let (name, mut verify) = matches.remove_subcommand()?;
    (name == "verify").then_some(())?;
    let verify = VerifyArgs::from_arg_matches_mut(&mut verify).ok()?;
    Some(Cli {
        global,
        command: Command::Verify(verify),
    })
}

/// Said instead of running anything when an argument holds a credential.
pub const SECRET_IN_ARGS: &str = "a token or secret key was given as an argument, where it leaks into \
ps, shell history and CI logs; pipe it on stdin or use --token-env/--token-file, and rotate it";

/// True for an argument that holds a token or secret key anywhere in it (`tk_…`, `tks_…`, also
/// after `--flag=` or inside a longer text): no command takes one as an argument (SPEC §3).
pub fn looks_like_secret(arg: &str) -> bool {
    crate::token::holds_credential(arg)
}

/// What to say instead of clap's message when the command line holds a control character,
/// which clap would echo as it is (and a terminal would obey): the message without the values,
/// `None` when clap's own message can be shown.
pub fn usage_error_without_values(args: &[OsString], error: &clap::Error) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let holds_control = args
        .iter()
        .any(|arg| arg.to_string_lossy().chars().any(crate::output::is_control));
    // A value refused by a duration option's own parser (no argument in clap's context) is
    // quoted escaped already (duration::refusal).
    let own_refusal =
        error.kind() == ErrorKind::ValueValidation && error.get(ContextKind::InvalidArg).is_none();
    if !holds_control || !error.use_stderr() || own_refusal {
        return None;
    }
    // The argument's name and the parser's reason may quote the value too: escaped.
    let printable = |text: &str| crate::output::printable(text).into_owned();
    let arg = match error.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(arg)) => Some(printable(arg)),
        _ => None,
    };
    let why = std::error::Error::source(error).map(|why| printable(&why.to_string()));
    let unshown = "an argument holds a control character, so it is not shown";
    Some(match (error.kind(), arg, why) {
        (ErrorKind::ValueValidation, Some(arg), Some(why)) => {
            format!("invalid value for {arg}: {why}")
        }
        (ErrorKind::UnknownArgument, Some(arg), _) => {
            format!("unexpected argument {arg}; see tokens --help")
        }
        (_, Some(arg), _) => format!("invalid use of {arg} ({unshown}); see tokens --help"),
        _ => format!("invalid command line ({unshown}); see tokens --help"),
    })
}

/// clap's message (`error: …`, a blank line, maybe `tip: …` or the missing arguments,
/// `Usage: tokens list [OPTIONS]`, `For more information, try '--help'.`) as one line in the
/// house style: what is wrong, what clap added (tips, possible values, missing arguments) in
/// brackets, and where to read more: `unexpected argument '--bogus' found; see tokens list
/// --help`. `args` is the command line, to name the subcommand whose help says more.
pub fn one_line_usage_error(rendered: &str, args: &[OsString]) -> String {
    use clap::CommandFactory;
    let mut lines = rendered
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty());
    let first = lines.next().unwrap_or("invalid command line");
    let what = first.strip_prefix("error: ").unwrap_or(first);
    if what.starts_with("invalid --") {
        // A value a duration option refused (duration::refusal): already one line that names
        // the option and says what to write.
        return what.to_owned();
    }
    let mut text = what.trim_end_matches(['.', ':']).to_owned();
    let details: Vec<String> = lines
        .take_while(|line| !line.starts_with("Usage:") && !line.starts_with("For more information"))
        .map(|line| {
            let line = line.strip_prefix("tip: ").unwrap_or(line);
            line.trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned()
        })
        .collect();
    if !details.is_empty() {
        text.push_str(&format!(" ({})", details.join("; ")));
    }
    let command = Cli::command();
    let subcommand = args.iter().skip(1).find_map(|arg| {
        let arg = arg.to_str()?;
        command
            .get_subcommands()
            .find(|sub| !sub.is_hide_set() && sub.get_name() == arg)
            .map(|sub| sub.get_name().to_owned())
    });
    match subcommand {
        Some(name) => text.push_str(&format!("; see tokens {name} --help")),
        None => text.push_str("; see tokens --help"),
    }
    text
}

const NAME_RULE: &str = "ASCII letters, digits and . _ : - (1 to 64 characters)";

fn is_label(text: &str, allowed: impl Fn(char) -> bool) -> bool {
    (1..=64).contains(&text.len()) && text.chars().all(allowed)
}

/// Refuses a token or secret key where an id or a name goes: the error path must not echo it.
fn refuse_credential(text: &str) -> Result<(), String> {
    if crate::token::holds_credential(text) {
        Err("this is a token, not an id or a name".into())
    } else {
        Ok(())
    }
}

/// An ID|NAME argument: anything but a credential (the vault says whether it exists).
fn parse_id_or_name(text: &str) -> Result<String, String> {
    refuse_credential(text)?;
    Ok(text.to_owned())
}

/// Free text kept in the vault (`--note`, `--reason`): one line of plain text, no control
/// character (see [`crate::output::is_control`]) and no credential, which would be stored as
/// it is and shown to everyone who reads the vault (SPEC §8).
pub fn parse_text(text: &str) -> Result<String, String> {
    if crate::token::holds_credential(text) {
        Err("it holds a token or secret key, which must not be kept in the vault; leave it out (and rotate that token)".into())
    } else if text.chars().any(crate::output::is_control) {
        Err("it holds a control character (a tab, a line break, an escape code or a direction override); write one line of plain text".into())
    } else {
        Ok(text.to_owned())
    }
}

/// `--uses N`: from 1 up.
fn parse_uses(text: &str) -> Result<i64, String> {
    match text.parse::<i64>() {
        Ok(uses) if uses >= 1 => Ok(uses),
        _ => Err("use a whole number of uses from 1 up (1 makes a one-time token)".into()),
    }
}

/// `edit --uses N|unlimited`: a limit of N uses, or `None` for unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsesLimit(pub Option<i64>);

fn parse_uses_or_unlimited(text: &str) -> Result<UsesLimit, String> {
    if text == "unlimited" {
        Ok(UsesLimit(None))
    } else {
        parse_uses(text)
            .map(|uses| UsesLimit(Some(uses)))
            .map_err(|_| "use a whole number of uses from 1 up, or unlimited".into())
    }
}

/// `--allow-from`: a CIDR (`10.0.0.0/8`, `2001:db8::/32`) or one address (a network of one
/// host). Host bits after the prefix are cleared: `10.1.2.3/8` is `10.0.0.0/8`.
pub fn parse_net(text: &str) -> Result<ipnet::IpNet, String> {
    let text = text.trim();
    let net = match text.parse::<ipnet::IpNet>() {
        Ok(net) => net,
        Err(_) => text
            .parse::<std::net::IpAddr>()
            .map(ipnet::IpNet::from)
            .map_err(|_| {
                "use an IPv4 or IPv6 address or CIDR, e.g. 10.0.0.0/8, 192.0.2.7 or 2001:db8::/32"
                    .to_owned()
            })?,
    };
    ipv4_meant(net).map(|net| net.trunc())
}

/// An IPv4-mapped IPv6 network (`::ffff:10.0.0.0/104`) as the IPv4 network it means
/// (`10.0.0.0/8`): verify compares a mapped client address as IPv4, so the mapped form could
/// never match. A mapped address with a prefix under 96 also covers addresses that are not
/// IPv4: refused.
fn ipv4_meant(net: ipnet::IpNet) -> Result<ipnet::IpNet, String> {
    let ipnet::IpNet::V6(v6) = net else {
        return Ok(net);
    };
    let Some(v4) = v6.addr().to_ipv4_mapped() else {
        return Ok(net);
    };
    let prefix = v6.prefix_len().checked_sub(96).ok_or_else(|| {
        format!(
            "{net} is an IPv4-mapped network with a prefix under 96, which also covers \
             addresses that are not IPv4; write the IPv4 network, e.g. 10.0.0.0/8"
        )
    })?;
    // A prefix of 96 to 128 leaves 0 to 32 bits: always a valid IPv4 prefix.
    Ok(ipnet::IpNet::V4(
        ipnet::Ipv4Net::new(v4, prefix).expect("0 to 32"),
    ))
}

/// At most this many metadata keys a token.
pub const META_KEYS: usize = 32;
/// At most this many bytes a metadata value.
pub const META_VALUE_BYTES: usize = 1024;

/// A metadata key: `[A-Za-z0-9._-]{1,64}`.
pub fn parse_meta_key(text: &str) -> Result<String, String> {
    if is_label(text, |c| c.is_ascii_alphanumeric() || "._-".contains(c)) {
        Ok(text.to_owned())
    } else {
        Err("a metadata key is letters, digits and . _ - (1 to 64 characters)".into())
    }
}

/// `--meta KEY=VALUE`: a [`parse_meta_key`] key and a value of at most 1 KiB of plain text
/// (no control character, no credential: [`parse_text`]).
pub fn parse_meta(text: &str) -> Result<(String, String), String> {
    let Some((key, value)) = text.split_once('=') else {
        return Err("use KEY=VALUE, e.g. --meta tenant=acme".into());
    };
    let key = parse_meta_key(key)?;
    let value = parse_text(value)?;
    if value.len() > META_VALUE_BYTES {
        return Err(format!(
            "the value of \"{key}\" is {} bytes; at most {META_VALUE_BYTES} are kept",
            value.len()
        ));
    }
    Ok((key, value))
}

/// A name for a new token (`create`, `edit --rename`): a [`parse_name`] that is not shaped like a
/// token id, which `show`, `revoke` and the others would take for one.
pub fn parse_new_name(text: &str) -> Result<String, String> {
    let name = parse_name(text)?;
    if crate::token::looks_like_id(&name) {
        Err(format!(
            "{} letters and digits is the shape of a token id; add one of . _ : - or make it longer or shorter",
            crate::token::ID_LEN
        ))
    } else {
        Ok(name)
    }
}

/// A token name or app: `[A-Za-z0-9._:-]{1,64}`, and not a credential.
pub fn parse_name(text: &str) -> Result<String, String> {
    refuse_credential(text)?;
    if is_label(text, |c| c.is_ascii_alphanumeric() || "._:-".contains(c)) {
        Ok(text.to_owned())
    } else {
        Err(format!("use {NAME_RULE}"))
    }
}

fn parse_app(text: &str) -> Result<String, String> {
    parse_name(text)
}

fn parse_app_or_empty(text: &str) -> Result<String, String> {
    if text.is_empty() {
        Ok(String::new())
    } else {
        parse_name(text)
    }
}

/// A scope: `[a-z0-9._:-]{1,64}`.
pub fn parse_scope(text: &str) -> Result<String, String> {
    if is_label(text, |c| {
        c.is_ascii_lowercase() || c.is_ascii_digit() || "._:-".contains(c)
    }) {
        Ok(text.to_owned())
    } else {
        Err("use lower-case ASCII letters, digits and . _ : - (1 to 64 characters)".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn definition_is_consistent() {
        Cli::command().debug_assert();
    }

    /// What the whole tree makes of `line`, or its error.
    fn whole_tree(line: &[&str]) -> String {
        let args = std::iter::once("tokens").chain(line.iter().copied());
        match Cli::try_parse_from(args) {
            Ok(cli) => format!("{cli:?}"),
            Err(error) => format!("error: {}", error.kind()),
        }
    }

    fn verify_tree(line: &[&str]) -> Option<String> {
        let args: Vec<OsString> = std::iter::once("tokens")
            .chain(line.iter().copied())
            .map(OsString::from)
            .collect();
        parse_verify_only(&args).map(|cli| format!("{cli:?}"))
    }

    #[test]
    fn the_verify_tree_reads_verify_lines_as_the_whole_tree_does() {
        let accepted: &[&[&str]] = &[
            &["verify"],
            &["verify", "--batch"],
            &[
                "--json",
                "verify",
                "--scope",
                "read,deploy:prod",
                "--app",
                "ci",
            ],
            &[
                "verify", "--vault", "/v.db", "-q", "--scope", "a", "--scope", "b",
            ],
            &[
                "--vault=/v.db",
                "--color",
                "never",
                "verify",
                "--token-env",
                "T",
                "-y",
            ],
            &["-qy", "verify", "--token-file", "verify", "--json"],
            &["verify", "--color=always", "--"],
        ];
        for line in accepted {
            assert_eq!(
                verify_tree(line).as_deref(),
                Some(whole_tree(line).as_str()),
                "{line:?}"
            );
        }
    }

    #[test]
    fn the_verify_tree_leaves_everything_else_to_the_whole_tree() {
        let declined: &[&[&str]] = &[
            &[],
            &["verify", "--help"],
            &["verify", "-h"],
            &["--version", "verify"],
            &["help", "verify"],
            &["verify", "--token-env", "T", "--batch"],
            &["verify", "--scope", "Not-A-Scope"],
            &["verify", "extra"],
            &["verify", "--bogus"],
            &["show", "verify"],
            &["list", "--app", "verify"],
            &["--vault", "verify"],
        ];
        for line in declined {
            assert_eq!(verify_tree(line), None, "{line:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn whatever_the_verify_tree_accepts_the_whole_tree_reads_the_same(
            line in proptest::collection::vec(
                proptest::sample::select(vec![
                    "verify", "--batch", "--json", "-q", "-y", "-qy", "--quiet", "--scope", "read",
                    "a,b", "--app", "ci", "--vault", "/v.db", "--vault=/w.db", "--token-env", "T",
                    "--token-file", "f", "--color", "never", "--", "-h", "--version", "help",
                    "list", "x", "--bogus", "__complete", "create",
                ]),
                0..8,
            )
        ) {
            if let Some(parsed) = verify_tree(&line) {
                proptest::prop_assert_eq!(parsed, whole_tree(&line));
            }
        }
    }

    #[test]
    fn clap_errors_become_one_line() {
        let one_line = |line: &[&str]| {
            let args: Vec<OsString> = std::iter::once("tokens")
                .chain(line.iter().copied())
                .map(OsString::from)
                .collect();
            let rendered = Cli::try_parse_from(args.clone())
                .unwrap_err()
                .render()
                .to_string();
            one_line_usage_error(&rendered, &args)
        };
        assert_eq!(
            one_line(&["list", "--bogus"]),
            "unexpected argument '--bogus' found; see tokens list --help"
        );
        assert_eq!(
            one_line(&["create", "café"]),
            "invalid value 'café' for '[NAME]': use ASCII letters, digits and . _ : - (1 to 64 characters); see tokens create --help"
        );
        assert_eq!(
            one_line(&["list", "--status", "gone"]),
            "invalid value 'gone' for '--status <STATUS>' (possible values: active, rotating, disabled, used_up, expired, revoked); see tokens list --help"
        );
        assert_eq!(
            one_line(&["revoke", "--all"]),
            "the following required arguments were not provided (--app <APP>); see tokens revoke --help"
        );
        assert_eq!(
            one_line(&["frobnicate"]),
            "unrecognized subcommand 'frobnicate' (a similar subcommand exists: 'rotate'); see tokens --help"
        );
    }

    #[test]
    fn labels() {
        assert!(parse_name("ci-deploy.v2:prod_1").is_ok());
        assert!(parse_name("").is_err());
        assert!(parse_name("has space").is_err());
        assert!(parse_name(&"x".repeat(65)).is_err());
        assert!(parse_scope("deploy:prod").is_ok());
        assert!(parse_scope("Deploy").is_err());
        assert!(parse_new_name("ci-deploy").is_ok());
        assert!(parse_new_name("AbCdEfGh1234").is_err(), "shaped like an id");
        assert!(parse_new_name("AbCdEfGh1234-").is_ok());
        assert!(
            parse_name("AbCdEfGh1234").is_ok(),
            "existing names are looked up"
        );
    }

    #[test]
    fn addresses_uses_and_metadata() {
        assert_eq!(parse_net("10.1.2.3/8").unwrap().to_string(), "10.0.0.0/8");
        assert_eq!(parse_net("192.0.2.7").unwrap().to_string(), "192.0.2.7/32");
        // IPv4-mapped: the IPv4 network it means; under /96 it means more than IPv4.
        assert_eq!(
            parse_net("::ffff:10.0.0.0/104").unwrap().to_string(),
            "10.0.0.0/8"
        );
        assert_eq!(
            parse_net("::ffff:10.1.2.3").unwrap().to_string(),
            "10.1.2.3/32"
        );
        assert_eq!(
            parse_net("::ffff:0.0.0.0/96").unwrap().to_string(),
            "0.0.0.0/0"
        );
        let refused = parse_net("::ffff:0.0.0.0/95").unwrap_err();
        assert!(refused.contains("prefix under 96"), "{refused}");
        assert_eq!(
            parse_net("2001:db8::1").unwrap().to_string(),
            "2001:db8::1/128"
        );
        for bad in ["10.0.0.0/33", "10.0.0", "host.example", "", "10.0.0.1:80"] {
            assert!(parse_net(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_uses("1"), Ok(1));
        assert!(parse_uses("0").is_err() && parse_uses("-2").is_err());
        assert_eq!(parse_uses_or_unlimited("unlimited"), Ok(UsesLimit(None)));
        assert_eq!(
            parse_meta("tenant=acme=1").unwrap(),
            ("tenant".to_owned(), "acme=1".to_owned())
        );
        assert_eq!(parse_meta("k=").unwrap(), ("k".to_owned(), String::new()));
        assert!(parse_meta(&format!("k={}", "v".repeat(1024))).is_ok());
        for bad in [
            "k",
            "=v",
            "a b=v",
            "k=\u{1b}[2J",
            &format!("k={}", "v".repeat(1025)),
        ] {
            assert!(parse_meta(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn free_text_is_one_line_of_plain_text() {
        assert_eq!(
            parse_text("rotated after the audit, see INC-42 (é)").as_deref(),
            Ok("rotated after the audit, see INC-42 (é)")
        );
        for text in [
            "a\tb",
            "a\nb",
            "a\rb",
            "\u{1b}[2J",
            "\u{7f}",
            "\u{9b}31m",
            "\u{202e}txt",
        ] {
            assert!(
                parse_text(text).unwrap_err().contains("control character"),
                "{text:?}"
            );
        }
        let token = crate::token::Credential::generate(
            crate::token::Kind::Token,
            &crate::token::generate_id(),
        );
        let why = parse_text(&format!("leaked: {}", token.expose())).unwrap_err();
        assert!(why.contains("token or secret key") && !why.contains(token.expose()));
    }
}
