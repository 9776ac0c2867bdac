//! The shared vault: the same tables in a PostgreSQL database, for a team's machines and CI.
//!
//! Writers are serialised as SQLite serialises them: every write transaction first takes one
//! transaction-scoped advisory lock for the vault, then reads the rows it will change `FOR
//! UPDATE`. Two machines that rotate, revoke or refresh the same token at once therefore run one
//! after the other, and the second sees what the first committed (a refresh key cannot be spent
//! twice). The lock ends with the transaction, also when a client dies.

pub mod connect;
mod schema;
mod store;

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::Duration;

use postgres::error::SqlState;
use postgres::{Client, IsolationLevel, Statement, Transaction};

pub use schema::CURRENT_VERSION;
pub use store::PgStore;

use super::Access;
use super::store::Store;
use crate::error::{Error, Result};
use store::Session;

/// The advisory lock that holds a vault's writers in line ("tkns"); advisory locks are per database.
const WRITE_LOCK: i64 = 0x746B_6E73;

/// How long a command waits for another machine's write before giving up (as on SQLite).
const LOCK_TIMEOUT: Duration = Duration::from_secs(10);

pub struct PgVault {
    client: RefCell<Client>,
    statements: RefCell<HashMap<String, Statement>>,
    /// The redacted URL, for messages.
    shown: String,
    writable: bool,
}

impl PgVault {
    /// Connects to the vault at `url`, creating or migrating its tables when `access` is `Write`.
    pub fn open(url: &str, access: Access) -> Result<PgVault> {
        let shown = connect::redact(url);
        let mut client =
            connect::connect(url).map_err(|error| Error::Other(anyhow::anyhow!("{error}")))?;
        let (version, writable) = inspect(&mut client, &shown)?;
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
            _ => initialise(&mut client, &shown)?,
        }
        Ok(PgVault {
            client: RefCell::new(client),
            statements: RefCell::new(HashMap::new()),
            shown,
            writable,
        })
    }

    /// False for a vault this role may read but not write (or a read-only replica).
    pub fn writable(&self) -> bool {
        self.writable
    }

    /// Queries outside a transaction (each statement on its own).
    pub fn store(&self) -> PgStore<'_> {
        PgStore::new(Session::Client(&self.client), &self.statements)
    }

    /// Runs `change` in one transaction that holds the vault's write lock: committed when it
    /// returns `Ok`, rolled back otherwise.
    pub fn write<T>(&mut self, change: impl FnOnce(&dyn Store) -> Result<T>) -> Result<T> {
        self.write_within(LOCK_TIMEOUT, change)
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

    /// [`PgVault::write`], waiting at most `patience` for the write lock.
    fn write_within<T>(
        &mut self,
        patience: Duration,
        change: impl FnOnce(&dyn Store) -> Result<T>,
    ) -> Result<T> {
        let explain = |error: postgres::Error| classify(error, &self.shown);
        let transaction = begin_write(self.client.get_mut(), patience).map_err(explain)?;
        let store = PgStore::new(
            Session::Transaction(RefCell::new(transaction)),
            &self.statements,
        );
        let value = change(&store)?;
        if let Some(transaction) = store.into_transaction() {
            transaction.commit().map_err(explain)?;
        }
        Ok(value)
    }
}

/// Starts a write transaction and takes the vault's write lock, waiting at most `patience`.
fn begin_write(
    client: &mut Client,
    patience: Duration,
) -> Result<Transaction<'_>, postgres::Error> {
    // READ COMMITTED whatever the database's default: each statement after the lock then sees
    // what the writer before committed (a REPEATABLE READ snapshot would predate the lock).
    let mut transaction = client
        .build_transaction()
        .isolation_level(IsolationLevel::ReadCommitted)
        .start()?;
    let millis = patience.as_millis().max(1).to_string();
    transaction.execute("SELECT set_config('lock_timeout', $1, true)", &[&millis])?;
    transaction.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])?;
    Ok(transaction)
}

/// What opening finds: the vault's schema version (`None` when the database holds no vault
/// yet), and whether this role may change it: the database is not a read-only replica and the
/// role may write the tables (or, before they exist, create them). Each privilege is asked
/// alone: `has_table_privilege` with a list answers whether the role has any of them. A
/// database whose `tokens` table some other program made is refused, untouched.
fn inspect(client: &mut Client, shown: &str) -> Result<(Option<i64>, bool)> {
    let explain = |error: postgres::Error| classify(error, shown);
    let row = client
        .query_one(
            "SELECT to_regclass('tokens_vault') IS NOT NULL, to_regclass('tokens') IS NOT NULL, \
             NOT pg_is_in_recovery() AND current_setting('transaction_read_only') = 'off' AND \
             CASE WHEN to_regclass('tokens') IS NULL OR to_regclass('events') IS NULL \
                  THEN has_schema_privilege(current_schema(), 'CREATE') \
                  ELSE has_table_privilege('tokens', 'INSERT') \
                       AND has_table_privilege('tokens', 'UPDATE') \
                       AND has_table_privilege('events', 'INSERT') END",
            &[],
        )
        .map_err(explain)?;
    let (marked, has_tokens): (bool, bool) = (row.get(0), row.get(1));
    let writable = row.get::<_, Option<bool>>(2).unwrap_or(false);
    if !marked {
        return if has_tokens {
            Err(corrupt(shown, "its tokens table was not made by tokens"))
        } else {
            Ok((None, writable))
        };
    }
    let row = client
        .query_opt("SELECT application, version FROM tokens_vault", &[])
        .map_err(explain)?;
    match row {
        Some(row) if row.get::<_, String>(0) == schema::APPLICATION => {
            Ok((Some(i64::from(row.get::<_, i32>(1))), writable))
        }
        _ => Err(corrupt(shown, "tokens_vault does not name tokens")),
    }
}

/// Creates the vault or migrates it, in one transaction under the write lock: machines that
/// start at once wait for the first, then find the work done.
fn initialise(client: &mut Client, shown: &str) -> Result<()> {
    let explain = |error: postgres::Error| classify(error, shown);
    let mut transaction = begin_write(client, LOCK_TIMEOUT).map_err(explain)?;
    // Read from the catalog itself: `to_regclass` answers from this session's cache, which an
    // advisory lock does not refresh, so it can miss the table another machine just committed.
    let marked: bool = transaction
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class c \
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relname = 'tokens_vault' AND n.nspname = current_schema())",
            &[],
        )
        .map_err(explain)?
        .get(0);
    if !marked {
        transaction
            .batch_execute(schema::CREATE_VERSION_TABLE)
            .map_err(explain)?;
    }
    let version: i32 = transaction
        .query_one("SELECT version FROM tokens_vault", &[])
        .map_err(explain)?
        .get(0);
    for (index, sql) in schema::MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(version).unwrap_or(usize::MAX))
    {
        transaction.batch_execute(sql).map_err(explain)?;
        let next = i32::try_from(index + 1).unwrap_or(i32::MAX);
        transaction
            .execute("UPDATE tokens_vault SET version = $1", &[&next])
            .map_err(explain)?;
    }
    transaction.commit().map_err(explain)
}

fn corrupt(shown: &str, reason: &str) -> Error {
    Error::VaultCorrupt {
        vault: shown.to_owned(),
        reason: reason.to_owned(),
    }
}

/// Turns a raw PostgreSQL error from a command into the one-line error that names the vault.
pub fn explain(error: Error, url: &str) -> Error {
    match error {
        Error::Other(inner) => match inner.downcast::<postgres::Error>() {
            Ok(postgres) => classify(postgres, &connect::redact(url)),
            Err(inner) => Error::Other(inner),
        },
        other => other,
    }
}

/// The one-line error for a PostgreSQL error; never shows the URL's password.
fn classify(error: postgres::Error, shown: &str) -> Error {
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
                "the vault at {shown} stayed locked by another tokens command for too long; try again"
            ))
        }
        _ => Error::Other(anyhow::anyhow!("vault at {shown}: {}", db.message())),
    }
}
