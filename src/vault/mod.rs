//! The vault: hashed tokens, their metadata and an event log (SPEC §6), in one of two backends
//! behind one interface ([`Store`]): a private SQLite file (the default) or a PostgreSQL database
//! a team shares (a `postgres://` location).
//!
//! SQL lives only in the backends. Commands read through [`Vault::store`] and change the vault
//! inside [`Vault::write`], which holds the vault's write lock from the first statement, so
//! checks and changes are one atomic step on either backend.

pub mod postgres;
mod records;
pub mod sqlite;
mod store;

use std::ffi::OsStr;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};

pub use records::{
    Controls, Disabling, Edit, Event, EventFilter, FailureCount, ListFilter, LiveToken, LogMark,
    LogWriter, Lookup, NewToken, Status, TokenRecord, UNTIL_USED_ONLY, Usage, VERIFY_FAILED,
    VerifyRecord, join_nets,
};
pub use sqlite::CURRENT_VERSION;
pub use store::Store;

// One schema, two dialects: both backends are at the same version.
const _: () = assert!(sqlite::CURRENT_VERSION == postgres::CURRENT_VERSION);

use crate::error::{Error, Result};
use postgres::PgVault;
use sqlite::SqliteVault;

/// What the command needs of the vault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Reads; a missing vault is an error and nothing is created. Opened writable when the
    /// vault allows it, so `verify` can record last use, but a read-only vault works too.
    Read,
    /// Changes the vault; creates it when missing.
    Write,
}

/// What a vault newer than this binary allows it (SPEC §10): the oldest schema version of
/// `tokens` that may read it (`list`, `show`, `log`), verify against it, and change it. Kept
/// with the version: `tokens_vault` on PostgreSQL, the table `vault_marks` on SQLite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Marks {
    pub read: i64,
    pub verify: i64,
    pub write: i64,
}

/// The kinds of command the marks tell apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Doing {
    Read,
    Verify,
    Change,
}

/// Whether this binary may do `doing` with a vault at schema `found`: always when it knows that
/// schema; for a newer one only when its marks say so (a newer vault without marks this
/// binary can read is refused, as before marks existed).
pub(crate) fn allowed_by_marks(
    vault: &str,
    found: i64,
    marks: Option<Marks>,
    doing: Doing,
) -> Result<()> {
    if found <= CURRENT_VERSION {
        return Ok(());
    }
    let Some(marks) = marks else {
        return Err(Error::VaultTooNew {
            vault: vault.to_owned(),
            found,
            known: CURRENT_VERSION,
        });
    };
    let (mark, doing) = match doing {
        Doing::Read => (marks.read, "read"),
        Doing::Verify => (marks.verify, "verify"),
        Doing::Change => (marks.write, "change"),
    };
    if mark <= CURRENT_VERSION {
        Ok(())
    } else {
        Err(Error::VaultNeedsNewer {
            vault: vault.to_owned(),
            doing,
            found,
            known: CURRENT_VERSION,
        })
    }
}

/// How long any one wait on the vault may last unless `--timeout` says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the vault is: a file, or a PostgreSQL database named by a URL or a libpq `key=value`
/// connection string. Either may carry a password, so it is shown (`Display`, `Debug`) only
/// with the password masked.
#[derive(Clone, PartialEq, Eq)]
pub enum Location {
    File(PathBuf),
    Postgres(String),
}

impl Location {
    /// Reads `--vault` / `TOKENS_VAULT`: a `postgres://` or `postgresql://` URL (the scheme in
    /// any case), a libpq `key=value` connection string (`host=db dbname=tokens`), else a path.
    /// Refused rather than taken for a file name, which would make a vault in a surprising
    /// place: another `scheme://`, a URL missing its `//` (`postgres:/…`, `postgres:u@db`), and
    /// a `key=value` string with a key libpq does not know. No refusal shows a password.
    pub fn parse(value: &OsStr) -> Result<Location> {
        let Some(text) = value.to_str() else {
            return Ok(Location::File(PathBuf::from(value)));
        };
        if text.trim() != text {
            // ` postgres://…` pasted with a space would become a folder named after the URL.
            return Err(Error::Usage(format!(
                "the vault location \"{}\" starts or ends with a space; remove it",
                crate::output::redacted(text)
            )));
        }
        let Some((scheme, rest)) = text.split_once(':').filter(|(scheme, _)| {
            let mut chars = scheme.chars();
            chars.next().is_some_and(|c| c.is_ascii_alphabetic())
                && chars.all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
        }) else {
            return key_value_location(text, value);
        };
        let lower = scheme.to_ascii_lowercase();
        let postgres = lower == "postgres" || lower == "postgresql";
        if let Some(body) = rest.strip_prefix("//") {
            if postgres {
                return Ok(Location::Postgres(format!("{lower}://{body}")));
            }
            return Err(Error::Usage(format!(
                "{scheme}://{} is not a vault tokens can open: give a file path or a postgres:// URL",
                postgres::connect::redact_url_body(body)
            )));
        }
        // `postgres:/u:pw@db/x`, `postgres:u:pw@db`, `postgress:u:pw@db`: a URL mistyped. (A
        // file name with a colon and no `@`, `backup:old.db`, stays a file name.)
        if postgres || rest.contains('@') {
            let body = rest.trim_start_matches('/');
            let slashes = &rest[..rest.len() - body.len()];
            return Err(Error::Usage(format!(
                "{scheme}:{slashes}{} is not a vault tokens can open: a PostgreSQL URL starts \
                 with postgres:// (two slashes)",
                postgres::connect::redact_url_body(body)
            )));
        }
        key_value_location(text, value)
    }

    /// The default vault: `vault.db` in the platform data directory (`~/.local/share/tokens` on Linux).
    pub fn default_file() -> Result<Location> {
        sqlite::default_path().map(Location::File)
    }
}

/// `text` as a libpq `key=value` connection string, when it is one; else the file `value`.
fn key_value_location(text: &str, value: &OsStr) -> Result<Location> {
    use postgres::connect::KeyValueString;
    match postgres::connect::key_value_string(text) {
        // `postgres//u:pw@db/x`, `u:pw@db`: not a file anyone means, and its name would keep
        // the password.
        KeyValueString::NotOne if text.contains('@') => match crate::output::redacted(text) {
            std::borrow::Cow::Owned(shown) => Err(Error::Usage(format!(
                "{shown} is not a vault tokens can open: it holds a password, as a URL would; a \
                 PostgreSQL URL starts with postgres://"
            ))),
            std::borrow::Cow::Borrowed(_) => Ok(Location::File(PathBuf::from(value))),
        },
        KeyValueString::NotOne => Ok(Location::File(PathBuf::from(value))),
        KeyValueString::Known => Ok(Location::Postgres(text.to_owned())),
        KeyValueString::UnknownKeys(keys) => Err(Error::Usage(format!(
            "the vault looks like a key=value connection string, but {} not a libpq keyword \
             (values not shown); correct it, or give a file path or a postgres:// URL",
            match keys.as_slice() {
                [key] => format!("\"{key}\" is"),
                keys => format!("\"{}\" are", keys.join("\", \"")),
            }
        ))),
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File(path) => write!(f, "{}", path.display()),
            Location::Postgres(url) => f.write_str(&postgres::connect::redact(url)),
        }
    }
}

impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Location({self})")
    }
}

/// An open vault, on whichever backend its location names.
pub enum Vault {
    Sqlite(SqliteVault),
    Postgres(Box<PgVault>),
}

impl Vault {
    /// Opens the vault at `location` (see [`Access`]); a missing vault is created for `Write`.
    /// Waits on it give up after [`DEFAULT_TIMEOUT`].
    pub fn open(location: &Location, access: Access) -> Result<Vault> {
        Vault::open_within(location, access, DEFAULT_TIMEOUT)
    }

    /// [`Vault::open`] where each wait on the vault gives up after `timeout` (`--timeout`): on
    /// SQLite the busy timeout (another process's lock); on PostgreSQL connecting and logging
    /// in, each statement and each lock.
    pub fn open_within(location: &Location, access: Access, timeout: Duration) -> Result<Vault> {
        match location {
            Location::File(path) => SqliteVault::open(path, access, timeout).map(Vault::Sqlite),
            Location::Postgres(url) => {
                PgVault::open(url, access, timeout).map(|vault| Vault::Postgres(Box::new(vault)))
            }
        }
    }

    /// False for a vault this user may read but not write.
    pub fn writable(&self) -> bool {
        match self {
            Vault::Sqlite(vault) => vault.writable(),
            Vault::Postgres(vault) => vault.writable(),
        }
    }

    /// Refuses to verify against a vault whose verify mark (SPEC §10) is newer than this binary:
    /// it may hold something this binary would ignore (exit 1, never a verdict).
    pub fn may_verify(&self) -> Result<()> {
        match self {
            Vault::Sqlite(vault) => vault.may_verify(),
            Vault::Postgres(vault) => vault.may_verify(),
        }
    }

    /// [`Vault::may_verify`] as the vault is now, for a long `verify --batch`: a newer tokens
    /// may have migrated the vault or raised its verify mark meanwhile.
    pub fn may_still_verify(&mut self) -> Result<()> {
        match self {
            Vault::Sqlite(vault) => vault.may_verify(),
            Vault::Postgres(vault) => {
                vault.reread_marks()?;
                vault.may_verify()
            }
        }
    }

    /// Refuses `list`, `show` and `log` to a PostgreSQL role granted less than reader access
    /// (`tokens grants`), in one line.
    pub fn may_read(&self) -> Result<()> {
        match self {
            Vault::Sqlite(_) => Ok(()),
            Vault::Postgres(vault) => vault.may_read(),
        }
    }

    /// Makes sure the next read sees every commit made so far (see
    /// [`SqliteVault::keep_current`]); a PostgreSQL query always does.
    pub fn keep_current(&mut self) -> Result<()> {
        match self {
            Vault::Sqlite(vault) => vault.keep_current(),
            Vault::Postgres(_) => Ok(()),
        }
    }

    /// Lets go of what a read-only view holds while the command waits (see
    /// [`SqliteVault::rest`]); the next [`Vault::keep_current`] opens it again.
    pub fn rest(&mut self) {
        if let Vault::Sqlite(vault) = self {
            vault.rest();
        }
    }

    /// Queries outside a transaction (each statement on its own).
    pub fn store(&self) -> Box<dyn Store + '_> {
        match self {
            Vault::Sqlite(vault) => Box::new(vault.store()),
            Vault::Postgres(vault) => Box::new(vault.store()),
        }
    }

    /// Runs `change` in one write transaction that holds the vault's write lock: committed when
    /// it returns `Ok`, rolled back otherwise.
    pub fn write<T>(&mut self, change: impl FnOnce(&dyn Store) -> Result<T>) -> Result<T> {
        match self {
            Vault::Sqlite(vault) => vault.write(change),
            Vault::Postgres(vault) => vault.write(change),
        }
    }

    /// Runs `read` on one unchanging view of the vault, whatever this user may do: on
    /// PostgreSQL one `REPEATABLE READ, READ ONLY` transaction (every statement sees the same
    /// snapshot); on SQLite under the write lock, or the read-only view's one snapshot.
    pub fn read_still<T>(&mut self, read: impl FnOnce(&dyn Store) -> Result<T>) -> Result<T> {
        match self {
            Vault::Sqlite(vault) if vault.writable() => vault.write(read),
            Vault::Sqlite(vault) => read(&vault.store()),
            Vault::Postgres(vault) => vault.snapshot(read),
        }
    }

    /// Runs `change` in one transaction for a verifier's bookkeeping that its verdict needs (a
    /// use of a use-limited token, an `--until-used` successor's first use: SPEC §9), waiting the
    /// whole timeout for the locks it takes.
    /// On SQLite that is the write lock; on PostgreSQL only the rows `change` writes (never the
    /// vault's write lock, so admins are not held up). A vault this user cannot write is
    /// [`Error::VaultReadOnly`].
    pub fn record_use<T>(&mut self, change: impl FnOnce(&dyn Store) -> Result<T>) -> Result<T> {
        match self {
            Vault::Sqlite(vault) if !vault.writable() => Err(Error::VaultReadOnly {
                vault: vault.shown(),
            }),
            Vault::Sqlite(vault) => vault.write(change),
            Vault::Postgres(vault) => vault.record_use(change),
        }
    }

    /// Like [`Vault::write`], for bookkeeping that must never hold a command up: waits at most
    /// `patience` for the lock and gives up quietly (also on a read-only vault).
    pub fn write_briefly(
        &mut self,
        patience: Duration,
        change: impl FnOnce(&dyn Store) -> Result<()>,
    ) {
        match self {
            Vault::Sqlite(vault) => vault.write_briefly(patience, change),
            Vault::Postgres(vault) => vault.write_briefly(patience, change),
        }
    }
}

/// What the PostgreSQL vault's refresh function decided for a refresher role (SPEC §10).
pub enum RefreshOutcome {
    /// The new token, committed (its secrets are the caller's to show once).
    Refreshed(Box<NewToken>),
    /// Unknown id, or a wrong secret or secret key.
    Invalid,
    NoSecretKey {
        name: String,
    },
    /// The secret key had been used before: `revoked` live tokens of the lineage ended
    /// (committed).
    ReuseDetected {
        name: String,
        revoked: usize,
    },
    Revoked {
        name: String,
        /// Rotated (or refreshed) away rather than revoked.
        rotated: bool,
    },
    /// Its refresh window ended: it expired at `expired_at`, `window` before now or earlier.
    WindowEnded {
        name: String,
        expired_at: DateTime<Utc>,
        window: chrono::Duration,
    },
    Disabled {
        name: String,
    },
    /// Its uses are spent (`used_up`).
    UsedUp {
        name: String,
    },
}

impl Vault {
    /// What [`Store::lookup_for_verify`] answers for each presented token (id, secret's
    /// SHA-256), asked together: on PostgreSQL one transaction and one prepared statement for
    /// them all (`verify --batch`'s lines already waiting on stdin). `None` where asking together gains nothing (SQLite, a PostgreSQL
    /// vault from before its functions).
    pub fn lookup_many(&self, presented: &[(String, [u8; 32])]) -> Result<Option<Vec<Lookup>>> {
        match self {
            Vault::Sqlite(_) => Ok(None),
            Vault::Postgres(vault) => vault.lookup_many(presented),
        }
    }

    /// `tokens refresh` through the vault's own function, for a PostgreSQL role granted
    /// `--kind refresher` (SPEC §10): `None` when this vault or role has none.
    pub fn refresh_through_vault(
        &mut self,
        token: &crate::token::Credential,
        key: &crate::token::Credential,
        new_token: &crate::token::Credential,
        new_key: &crate::token::Credential,
    ) -> Result<Option<RefreshOutcome>> {
        match self {
            Vault::Sqlite(_) => Ok(None),
            Vault::Postgres(vault) => vault.refresh(token, key, new_token, new_key),
        }
    }
}

/// True when `error` (as a store returned it) says the connection to a shared vault was lost
/// (a server restart, a failover, a killed session): opening the vault again may answer.
pub fn connection_lost(error: &Error) -> bool {
    postgres::connection_lost(error)
}

/// Turns a raw database error into the one-line error that names the vault.
pub fn explain(error: Error, location: &Location) -> Error {
    match location {
        Location::File(path) => sqlite::explain(error, path),
        Location::Postgres(url) => postgres::explain(error, url),
    }
}

/// Unix seconds for the vault's integer time columns.
fn to_secs(time: DateTime<Utc>) -> i64 {
    time.timestamp()
}

fn from_secs(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Location> {
        Location::parse(OsStr::new(text))
    }

    #[test]
    fn urls_and_paths_are_told_apart() {
        assert_eq!(
            parse("/var/lib/tokens/vault.db").unwrap(),
            Location::File("/var/lib/tokens/vault.db".into())
        );
        assert_eq!(
            parse("vault.db").unwrap(),
            Location::File("vault.db".into())
        );
        assert_eq!(
            parse("POSTGRES://u@db/tokens").unwrap(),
            Location::Postgres("postgres://u@db/tokens".into())
        );
        assert_eq!(
            parse("postgresql://u@db/tokens").unwrap(),
            Location::Postgres("postgresql://u@db/tokens".into())
        );
    }

    #[test]
    fn another_scheme_is_refused_without_its_password() {
        let error = parse("postgress://u:hunter2@db/tokens").unwrap_err();
        assert_eq!(error.exit_code(), 2);
        assert_eq!(
            error.to_string(),
            "postgress://u:***@db/tokens is not a vault tokens can open: give a file path or a \
             postgres:// URL"
        );
    }

    #[test]
    fn a_url_is_never_shown_with_its_password() {
        let location = parse("postgres://u:hunter2@db/tokens").unwrap();
        assert_eq!(location.to_string(), "postgres://u:***@db/tokens");
        assert!(!format!("{location:?}").contains("hunter2"));
    }

    #[test]
    fn a_key_value_connection_string_is_a_postgres_location() {
        let text = "host=db dbname=tokens user=app password=hunter2";
        let location = parse(text).unwrap();
        assert_eq!(location, Location::Postgres(text.to_owned()));
        assert_eq!(
            location.to_string(),
            "host=db dbname=tokens user=app password=***"
        );
        let error = parse("host=db pasword=hunter2").unwrap_err();
        assert_eq!(error.exit_code(), 2);
        assert!(!error.to_string().contains("hunter2"), "{error}");
        assert!(
            error
                .to_string()
                .contains("\"pasword\" is not a libpq keyword")
        );
    }

    #[test]
    fn a_url_missing_its_slashes_is_refused_without_its_password() {
        for (text, shown) in [
            ("postgres:/u:hunter2@db/x", "postgres:/u:***@db/x"),
            ("postgresql:u:hunter2@db/x", "postgresql:u:***@db/x"),
            ("Postgres:", "Postgres:"),
            ("postgress:/u:hunter2@db", "postgress:/u:***@db"),
            ("postgres:///u:hunter2@db", "postgres:///u:***@db"),
        ] {
            let error = match parse(text) {
                Err(error) => error,
                // Three slashes: a URL with an empty host, as libpq reads it.
                Ok(location) => {
                    assert_eq!(location.to_string(), shown);
                    continue;
                }
            };
            assert_eq!(error.exit_code(), 2, "{text}");
            assert_eq!(
                error.to_string(),
                format!(
                    "{shown} is not a vault tokens can open: a PostgreSQL URL starts with \
                     postgres:// (two slashes)"
                )
            );
        }
    }

    #[test]
    fn file_names_with_a_colon_or_an_equals_sign_stay_files() {
        for text in ["backup:old.db", "./a=b.db", "a:b/c", "/srv/x@z/vault.db"] {
            assert_eq!(parse(text).unwrap(), Location::File(text.into()), "{text}");
        }
        // Shaped like `user:password@host`: refused, the would-be password not shown.
        let error = parse("/srv/x:y@z/vault.db").unwrap_err();
        assert_eq!(error.exit_code(), 2);
        assert!(
            error
                .to_string()
                .starts_with("/srv/x:***@z/vault.db is not a vault")
        );
    }
}
