//! The store: one SQLite file of hashed tokens, their metadata and an event log (SPEC §6).
//!
//! SQL lives only in this module. Commands read through [`Vault::store`] and change the vault
//! inside [`Vault::write`], which holds the write lock (`BEGIN IMMEDIATE`) from the first statement,
//! so checks and changes are one atomic step.

pub mod completion;
mod open;
pub mod postgres;
mod schema;
mod store;

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, TransactionBehavior};

pub use open::{Access, default_path};
pub use schema::CURRENT_VERSION;
pub use store::{
    Edit, Event, EventFilter, ListFilter, NewToken, Status, Store, TokenRecord, VerifyRecord,
};

use crate::error::{Error, Result};

pub struct Vault {
    conn: Connection,
    path: PathBuf,
    writable: bool,
    /// Keeps a read-only snapshot consistent while `conn` reads it; dropped after `conn`.
    _snapshot_lock: Option<std::fs::File>,
}

impl Vault {
    /// Opens the vault at `path` (see [`Access`]).
    pub fn open(path: &Path, access: Access) -> Result<Vault> {
        let opened = open::open(path, access)?;
        Ok(Vault {
            conn: opened.conn,
            path: path.to_owned(),
            writable: opened.writable,
            _snapshot_lock: opened.snapshot_lock,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// False for a vault this user may read but not write.
    pub fn writable(&self) -> bool {
        self.writable
    }

    /// Queries outside a transaction (each statement on its own).
    pub fn store(&self) -> Store<'_> {
        Store::new(&self.conn)
    }

    /// Runs `change` in one write transaction: committed when it returns `Ok`, rolled back otherwise.
    pub fn write<T>(&mut self, change: impl FnOnce(&Store<'_>) -> Result<T>) -> Result<T> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|error| self::open::classify(error, &self.path))?;
        let value = change(&Store::new(&tx))?;
        tx.commit()?;
        Ok(value)
    }

    /// Like [`Vault::write`], for bookkeeping that must never hold a command up: waits at most
    /// `patience` for the lock and gives up quietly.
    pub fn write_briefly(
        &mut self,
        patience: Duration,
        change: impl FnOnce(&Store<'_>) -> Result<()>,
    ) {
        if !self.writable {
            return;
        }
        // The usual patience comes back afterwards: `verify --batch` goes on reading.
        let Ok(usual) = self
            .conn
            .pragma_query_value(None, "busy_timeout", |row| row.get::<_, u32>(0))
        else {
            return;
        };
        if self.conn.busy_timeout(patience).is_err() {
            return;
        }
        let _ = self.write(change);
        let _ = self
            .conn
            .busy_timeout(Duration::from_millis(u64::from(usual)));
    }

    /// Turns a raw SQLite error from a query on this vault into the error that names the file.
    pub fn explain(&self, error: Error) -> Error {
        explain(error, &self.path)
    }
}

/// Turns a raw SQLite error into the error that names the vault file.
pub fn explain(error: Error, path: &Path) -> Error {
    match error {
        Error::Other(inner) => match inner.downcast::<rusqlite::Error>() {
            Ok(sqlite) => open::classify(sqlite, path),
            Err(inner) => Error::Other(inner),
        },
        other => other,
    }
}

/// Unix seconds for the vault's INTEGER time columns.
fn to_secs(time: DateTime<Utc>) -> i64 {
    time.timestamp()
}

fn from_secs(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
}
