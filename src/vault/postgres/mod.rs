//! The shared vault: the same tables in a PostgreSQL database, for a team's machines and CI.
//!
//! Writers are serialised as SQLite serialises them: every write transaction first locks the
//! one row of the version table `tokens_vault` (`SELECT … FOR UPDATE`), then reads the rows it
//! will change `FOR UPDATE`. Two machines that rotate, revoke or refresh the same token at once
//! therefore run one after the other, and the second sees what the first committed (a refresh
//! key cannot be spent twice). The lock ends with the transaction, also when a client dies.
//!
//! Only writers can hold that lock: a row lock needs UPDATE on the table, so a role that may
//! only read the vault, or do nothing in it, cannot delay a writer. What such roles can take —
//! advisory locks, `ACCESS SHARE` (SELECT-only: `LOCK TABLE … IN ACCESS SHARE MODE`, or an open
//! transaction that read a table), and the `ROW SHARE`/`ROW EXCLUSIVE` locks even a role with no
//! grants holds by `PREPARE`-ing a statement it may not run — conflict with none of the locks a
//! writer takes (`ROW SHARE` for `FOR UPDATE`, `ROW EXCLUSIVE` for its changes). They do conflict
//! with the `EXCLUSIVE`/`ACCESS EXCLUSIVE` locks a schema migration needs; a migration then
//! gives up after the timeout, saying it waited for a lock another session holds
//! (tests/postgres.rs, `readers_and_strangers_holding_every_lock_they_can_do_not_delay_a_revoke`
//! covers changes; no test holds up a migration).
//!
//! Every wait on the server has a deadline ([`link`]).

pub mod connect;
mod link;
mod schema;
mod store;

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::Duration;

use tokio_postgres::Statement;
use tokio_postgres::error::SqlState;

pub use schema::CURRENT_VERSION;
pub use store::PgStore;

use super::Access;
use super::store::Store;
use crate::error::{Error, Result};
use link::{Link, Transaction};
use store::Session;

/// Locks the version table's one row: the write lock (see the module's comment).
const WRITE_LOCK: &str = "SELECT version FROM tokens_vault FOR UPDATE";

/// How often a command that met another machine creating the vault at the same moment tries
/// again (it then finds the vault made).
const CREATION_ATTEMPTS: usize = 3;

pub struct PgVault {
    link: Link,
    statements: RefCell<HashMap<String, Statement>>,
    writable: bool,
}

impl PgVault {
    /// Connects to the vault at `url`, creating or migrating its tables when `access` is
    /// `Write`. Every wait on the server (connecting and logging in, each statement, each lock)
    /// gives up after `timeout`.
    pub fn open(url: &str, access: Access, timeout: Duration) -> Result<PgVault> {
        let link = connect::connect(url, timeout)
            .map_err(|error| Error::Other(anyhow::anyhow!("{error}")))?;
        let shown = link.shown().to_owned();
        let (version, writable) = inspect(&link)?;
        match version {
            Some(found) if found > CURRENT_VERSION => {
                return Err(Error::VaultTooNew {
                    vault: shown,
                    found,
                    known: CURRENT_VERSION,
                });
            }
            Some(CURRENT_VERSION) => {}
            None if access == Access::Read => return Err(Error::VaultMissing { vault: shown }),
            None if !writable => {
                return Err(Error::Other(anyhow::anyhow!(
                    "cannot create the vault at {shown}: this role may not create tables there \
                     (the database owner can GRANT CREATE ON SCHEMA public to it, or create the vault)"
                )));
            }
            // Missing (creating it needs Write) or older: bring it up to date under the write lock.
            _ if !writable => return Err(Error::VaultReadOnly { vault: shown }),
            _ => initialise(&link)?,
        }
        Ok(PgVault {
            link,
            statements: RefCell::new(HashMap::new()),
            writable,
        })
    }

    /// False for a vault this role may read but not write (or a read-only replica).
    pub fn writable(&self) -> bool {
        self.writable
    }

    /// Queries outside a transaction (each statement on its own).
    pub fn store(&self) -> PgStore<'_> {
        PgStore::new(Session::Autocommit(&self.link), &self.statements)
    }

    /// Runs `change` in one transaction that holds the vault's write lock: committed when it
    /// returns `Ok`, rolled back otherwise.
    pub fn write<T>(&mut self, change: impl FnOnce(&dyn Store) -> Result<T>) -> Result<T> {
        // Locks may take the whole timeout.
        self.write_within(Duration::MAX, change)
    }

    /// Like [`PgVault::write`], waiting at most `patience` for the lock; gives up quietly.
    pub fn write_briefly(
        &mut self,
        patience: Duration,
        change: impl FnOnce(&dyn Store) -> Result<()>,
    ) {
        if self.writable {
            let _ = self.write_within(patience, change);
        }
    }

    /// Runs `change` in a transaction that takes no lock up front: only the row locks its
    /// statements take, each waiting at most the timeout (see [`super::Vault::record_use`]).
    /// A role that may not write them, or a read-only replica, is [`Error::VaultReadOnly`].
    pub fn record_use<T>(&mut self, change: impl FnOnce(&dyn Store) -> Result<T>) -> Result<T> {
        let shown = self.link.shown();
        let (transaction, _) = self
            .link
            .begin(Duration::MAX, "SELECT 1")
            .map_err(|e| name(e, shown))?;
        let store = PgStore::new(Session::Transaction(transaction), &self.statements);
        let value = change(&store).map_err(|e| name(e, shown))?;
        if let Some(transaction) = store.into_transaction() {
            transaction.commit().map_err(|e| name(e, shown))?;
        }
        Ok(value)
    }

    /// [`PgVault::write`], waiting at most `patience` for the write lock.
    fn write_within<T>(
        &mut self,
        patience: Duration,
        change: impl FnOnce(&dyn Store) -> Result<T>,
    ) -> Result<T> {
        let shown = self.link.shown();
        let transaction = begin_write(&self.link, patience).map_err(|e| name(e, shown))?;
        let store = PgStore::new(Session::Transaction(transaction), &self.statements);
        let value = change(&store)?;
        if let Some(transaction) = store.into_transaction() {
            transaction.commit().map_err(|e| name(e, shown))?;
        }
        Ok(value)
    }
}

/// Starts a write transaction and takes the vault's write lock, waiting at most `patience`.
/// A vault a newer tokens migrated since this one opened it is refused, unchanged.
fn begin_write(link: &Link, patience: Duration) -> Result<Transaction<'_>> {
    let (transaction, version) = link.begin(patience, WRITE_LOCK)?;
    match version.and_then(|version| version.parse::<i64>().ok()) {
        Some(version) if version <= CURRENT_VERSION => Ok(transaction),
        Some(found) => Err(Error::VaultTooNew {
            vault: link.shown().to_owned(),
            found,
            known: CURRENT_VERSION,
        }),
        None => Err(corrupt(link.shown(), "tokens_vault has no row")),
    }
}

/// What opening finds: the vault's schema version (`None` when the database holds no vault
/// yet), and whether this role may change it: the database is not a read-only replica and the
/// role may write the tables, the version table included (its row is the write lock), or,
/// before they exist, create them. Each privilege is asked alone: `has_table_privilege` with a
/// list answers whether the role has any of them. A database whose `tokens` table some other
/// program made is refused, untouched.
fn inspect(link: &Link) -> Result<(Option<i64>, bool)> {
    let shown = link.shown();
    let rows = link
        .query(
            "SELECT to_regclass('tokens_vault') IS NOT NULL, to_regclass('tokens') IS NOT NULL, \
             NOT pg_is_in_recovery() AND current_setting('transaction_read_only') = 'off' AND \
             CASE WHEN to_regclass('tokens_vault') IS NULL OR to_regclass('tokens') IS NULL \
                       OR to_regclass('events') IS NULL \
                  THEN has_schema_privilege(current_schema(), 'CREATE') \
                  ELSE has_table_privilege('tokens', 'INSERT') \
                       AND has_table_privilege('tokens', 'UPDATE') \
                       AND has_table_privilege('events', 'INSERT') \
                       AND has_table_privilege('tokens_vault', 'UPDATE') END",
            &[],
        )
        .map_err(|e| name(e, shown))?;
    let row = rows
        .first()
        .ok_or_else(|| corrupt(shown, "the server answered no row"))?;
    let (marked, has_tokens): (bool, bool) = (row.get(0), row.get(1));
    let writable = row.get::<_, Option<bool>>(2).unwrap_or(false);
    if !marked {
        return if has_tokens {
            Err(corrupt(shown, "its tokens table was not made by tokens"))
        } else {
            Ok((None, writable))
        };
    }
    let rows = link
        .query("SELECT application, version FROM tokens_vault", &[])
        .map_err(|e| name(e, shown))?;
    match rows.first() {
        Some(row) if row.get::<_, String>(0) == schema::APPLICATION => {
            Ok((Some(i64::from(row.get::<_, i32>(1))), writable))
        }
        _ => Err(corrupt(shown, "tokens_vault does not name tokens")),
    }
}

/// Creates the vault or migrates it, in one transaction: machines that start at once wait for
/// the first, then find the work done.
///
/// An existing vault is migrated under `LOCK TABLE tokens_vault IN EXCLUSIVE MODE`: it waits
/// for the writers holding the row lock and keeps new ones out (they wait at the table, holding
/// nothing a migration's later `ALTER TABLE` could deadlock on), while plain reads go on. A
/// vault not there yet has nothing to lock: the creators race to create `tokens_vault`, the
/// losers wait for the winner's transaction (its catalog rows are unique) and then fail on the
/// duplicate, and try again, finding the vault made.
fn initialise(link: &Link) -> Result<()> {
    let shown = link.shown();
    for attempt in 1..=CREATION_ATTEMPTS {
        match create_or_migrate(link) {
            Err(error) if attempt < CREATION_ATTEMPTS && lost_the_creation_race(&error) => {}
            outcome => return outcome.map_err(|e| name(e, shown)),
        }
    }
    unreachable!("the last attempt returns")
}

fn create_or_migrate(link: &Link) -> Result<()> {
    // Read from the catalog itself, with this statement's snapshot: `to_regclass` answers
    // from this session's cache, which can miss the table another machine just committed.
    // Locks may take the whole timeout.
    let (transaction, marked) = link.begin(
        Duration::MAX,
        "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class c \
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relname = 'tokens_vault' AND n.nspname = current_schema())",
    )?;
    let link = transaction.link();
    if marked.as_deref() == Some("t") {
        link.batch_execute("LOCK TABLE tokens_vault IN EXCLUSIVE MODE")?;
    } else {
        link.batch_execute(schema::CREATE_VERSION_TABLE)?;
    }
    let rows = link.query("SELECT version FROM tokens_vault", &[])?;
    let version: i32 = rows
        .first()
        .ok_or_else(|| corrupt(link.shown(), "tokens_vault has no row"))?
        .get(0);
    for (index, sql) in schema::MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(version).unwrap_or(usize::MAX))
    {
        link.batch_execute(sql)?;
        let next = i32::try_from(index + 1).unwrap_or(i32::MAX);
        link.execute("UPDATE tokens_vault SET version = $1", &[&next])?;
    }
    transaction.commit()
}

/// True when creating `tokens_vault` failed because another machine created it meanwhile.
fn lost_the_creation_race(error: &Error) -> bool {
    sql_state(error).is_some_and(|code| {
        *code == SqlState::UNIQUE_VIOLATION || *code == SqlState::DUPLICATE_TABLE
    })
}

/// The SQLSTATE of a server error as the link returns it.
fn sql_state(error: &Error) -> Option<&SqlState> {
    match error {
        Error::Other(inner) => inner.downcast_ref::<tokio_postgres::Error>()?.code(),
        _ => None,
    }
}

fn corrupt(shown: &str, reason: &str) -> Error {
    Error::VaultCorrupt {
        vault: shown.to_owned(),
        reason: reason.to_owned(),
    }
}

/// Turns a raw PostgreSQL error from a command into the one-line error that names the vault.
pub fn explain(error: Error, url: &str) -> Error {
    name(error, &connect::redact(url))
}

/// [`explain`] with the URL already redacted.
fn name(error: Error, shown: &str) -> Error {
    match error {
        Error::Other(inner) => match inner.downcast::<tokio_postgres::Error>() {
            Ok(postgres) => classify(postgres, shown),
            Err(inner) => Error::Other(inner),
        },
        other => other,
    }
}

/// The one-line error for a PostgreSQL error; never shows the URL's password. (The server's
/// own timeouts are named where they were set: see `link`.)
fn classify(error: tokio_postgres::Error, shown: &str) -> Error {
    let Some(db) = error.as_db_error() else {
        if error.is_closed() {
            return Error::Other(anyhow::anyhow!(
                "lost the connection to the vault at {shown}; nothing was changed unless the command said so"
            ));
        }
        return Error::Other(anyhow::anyhow!("vault at {shown}: {error}"));
    };
    match *db.code() {
        SqlState::INSUFFICIENT_PRIVILEGE | SqlState::READ_ONLY_SQL_TRANSACTION => {
            Error::VaultReadOnly {
                vault: shown.to_owned(),
            }
        }
        SqlState::ADMIN_SHUTDOWN
        | SqlState::CRASH_SHUTDOWN
        | SqlState::CANNOT_CONNECT_NOW
        | SqlState::IDLE_SESSION_TIMEOUT => Error::Other(anyhow::anyhow!(
            "lost the connection to the vault at {shown} ({}); nothing was changed unless the command said so",
            db.message()
        )),
        SqlState::LOCK_NOT_AVAILABLE | SqlState::T_R_DEADLOCK_DETECTED => {
            Error::Other(anyhow::anyhow!(
                "the vault at {shown} stayed locked by another session for too long; try again"
            ))
        }
        _ => Error::Other(anyhow::anyhow!("vault at {shown}: {}", db.message())),
    }
}
