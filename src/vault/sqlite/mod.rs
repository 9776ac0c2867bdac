//! The embedded vault: one SQLite file, private to its owner (the default).

mod open;
mod schema;
mod store;
mod trust;

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
    snapshot_lock: Option<std::fs::File>,
    /// For a vault this user cannot write: its files as they were when `conn` was opened.
    files: Option<Box<Files>>,
    /// A read-only view let go by [`SqliteVault::rest`], to be opened again before the next read.
    resting: bool,
}

impl SqliteVault {
    /// Opens the vault at `path` (see [`Access`]), waiting at most `timeout` for another
    /// process's lock at each step.
    pub fn open(path: &Path, access: Access, timeout: Duration) -> Result<SqliteVault> {
        let opened = open::open(path, access, timeout)?;
        let files = (!opened.writable).then(|| Box::new(Files::of(&opened.path)));
        Ok(SqliteVault {
            conn: opened.conn,
            path: opened.path,
            writable: opened.writable,
            timeout,
            snapshot_lock: opened.snapshot_lock,
            files,
            resting: false,
        })
    }

    /// See [`crate::vault::Vault::may_verify`]: asks the file as it is now.
    pub fn may_verify(&self) -> Result<()> {
        let version: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(|e| open::classify(e, &self.path))?;
        crate::vault::allowed_by_marks(
            &self.path.display().to_string(),
            version,
            open::read_marks(&self.conn),
            crate::vault::Doing::Verify,
        )
    }

    /// Makes sure the next read sees every commit made so far (SPEC §8: a long `verify --batch`
    /// judges each token against the vault as it is when the token is read).
    ///
    /// A connection this user can write, or one reading through the WAL's shared memory, sees
    /// commits by itself. Two read-only views do not: the snapshot of a vault whose folder this
    /// user cannot write (it reads the database file alone, while writers commit to a new
    /// `-wal`), and a connection whose `-wal`/`-shm` files were removed and made anew. Either is
    /// opened again when the files show it: a few `stat` calls, and only for read-only vaults.
    pub fn keep_current(&mut self) -> Result<()> {
        let Some(files) = &self.files else {
            return Ok(());
        };
        if !self.resting {
            let now = Files::of(&self.path);
            let current = if self.snapshot_lock.is_some() {
                now == **files && now.wal.is_none()
            } else {
                now.database == files.database && now.wal == files.wal && now.shm == files.shm
            };
            if current {
                return Ok(());
            }
            // The old view goes first: its snapshot lock would hold up the writer it waits for.
            self.rest();
        }
        *self = SqliteVault::open(&self.path, Access::Read, self.timeout)?;
        Ok(())
    }

    /// False for a vault this user may read but not write.
    pub fn writable(&self) -> bool {
        self.writable
    }

    /// The vault's path as messages show it.
    pub fn shown(&self) -> String {
        self.path.display().to_string()
    }

    /// Lets go of a read-only view while the command waits (for input, or between seconds of a
    /// long batch): an open view of a vault this user cannot write holds back the writers'
    /// checkpoints (a snapshot's lock keeps the WAL from being copied back and removed), so
    /// root's `-wal` would grow for as long as a CI user's `verify --batch` sits idle.
    /// [`SqliteVault::keep_current`] opens it again before the next read. A vault this user
    /// can write is left open: it holds nothing between statements.
    pub fn rest(&mut self) {
        if self.files.is_none() || self.resting {
            return;
        }
        let Ok(placeholder) = Connection::open_in_memory() else {
            return;
        };
        drop(std::mem::replace(&mut self.conn, placeholder));
        self.snapshot_lock = None;
        self.resting = true;
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

/// What identifies a vault's files at a moment: a file replaced, a `-wal` made or removed, or a
/// checkpoint into the database file all change it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Files {
    /// Device, inode, size and modification time of the database file.
    database: Option<(u64, u64, u64, i64, i64)>,
    /// Device and inode of the `-wal` and `-shm` files, when they exist.
    wal: Option<(u64, u64)>,
    shm: Option<(u64, u64)>,
}

impl Files {
    fn of(path: &Path) -> Files {
        use std::os::unix::fs::MetadataExt;
        let companion = |suffix: &str| {
            std::fs::metadata(open::companion(path, suffix))
                .ok()
                .map(|meta| (meta.dev(), meta.ino()))
        };
        Files {
            database: std::fs::metadata(path).ok().map(|meta| {
                (
                    meta.dev(),
                    meta.ino(),
                    meta.size(),
                    meta.mtime(),
                    meta.mtime_nsec(),
                )
            }),
            wal: companion("-wal"),
            shm: companion("-shm"),
        }
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
