//! The embedded vault: one SQLite file, private to its owner (the default).

mod open;
mod schema;
mod store;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, TransactionBehavior};

pub use open::default_path;
pub use schema::CURRENT_VERSION;
pub use store::SqliteStore;

use super::Access;
use super::store::Store;
use crate::error::{Error, Result};

pub struct SqliteVault {
    conn: Connection,
    path: PathBuf,
    writable: bool,
    /// How long to wait for another process's lock (`--timeout`).
    timeout: Duration,
    /// Keeps a read-only snapshot consistent while `conn` reads it; dropped after `conn`.
    _snapshot_lock: Option<std::fs::File>,
}

impl SqliteVault {
    /// Opens the vault at `path` (see [`Access`]), waiting at most `timeout` for another
    /// process's lock at each step.
    pub fn open(path: &Path, access: Access, timeout: Duration) -> Result<SqliteVault> {
        let opened = open::open(path, access, timeout)?;
        Ok(SqliteVault {
            conn: opened.conn,
            path: path.to_owned(),
            writable: opened.writable,
            timeout,
            _snapshot_lock: opened.snapshot_lock,
        })
    }

    /// False for a vault this user may read but not write.
    pub fn writable(&self) -> bool {
        self.writable
    }

    /// Queries outside a transaction (each statement on its own).
    pub fn store(&self) -> SqliteStore<'_> {
        SqliteStore::new(&self.conn)
    }

    /// Runs `change` in one write transaction (`BEGIN IMMEDIATE`: the write lock from the first
    /// statement): committed when it returns `Ok`, rolled back otherwise.
    pub fn write<T>(&mut self, change: impl FnOnce(&dyn Store) -> Result<T>) -> Result<T> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|error| open::classify(error, &self.path))?;
        let value = change(&SqliteStore::new(&tx))?;
        tx.commit()?;
        Ok(value)
    }

    /// Like [`SqliteVault::write`], waiting at most `patience` for the lock; gives up quietly.
    pub fn write_briefly(
        &mut self,
        patience: Duration,
        change: impl FnOnce(&dyn Store) -> Result<()>,
    ) {
        if !self.writable {
            return;
        }
        if self.conn.busy_timeout(patience).is_err() {
            return;
        }
        let _ = self.write(change);
        // The usual patience comes back: `verify --batch` goes on reading.
        let _ = self.conn.busy_timeout(self.timeout);
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
