//! Finding, creating and opening the vault file: path, permissions, pragmas, schema version.

use std::fs::{self, DirBuilder, OpenOptions};
use std::io::ErrorKind;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::schema::{self, APPLICATION_ID, CURRENT_VERSION};
use crate::error::{Error, Result};

/// What the command needs of the vault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Reads; a missing vault is an error and nothing is created. Opened writable when the
    /// file allows it, so `verify` can record last use, but a read-only vault works too.
    Read,
    /// Changes the vault; creates it when missing.
    Write,
}

/// How long a command waits for another process's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The default vault: `vault.db` in the platform data directory (`~/.local/share/tokens` on Linux).
pub fn default_path() -> Result<PathBuf> {
    directories::ProjectDirs::from("", "", "tokens")
        .map(|dirs| dirs.data_dir().join("vault.db"))
        .ok_or_else(|| Error::Usage("cannot find a home directory; pass --vault PATH".into()))
}

/// Opens the vault at `path`, creating it first when `access` is `Write` and it does not exist.
/// Returns the connection and whether it can write.
pub fn open(path: &Path, access: Access) -> Result<(Connection, bool)> {
    match fs::metadata(path) {
        Err(error) if error.kind() == ErrorKind::NotFound => match access {
            Access::Read => return Err(Error::VaultMissing { path: path.into() }),
            Access::Write => create(path)?,
        },
        Err(error) => return Err(anyhow_io(error, path).into()),
        Ok(meta) if meta.is_dir() => return Err(corrupt(path, "it is a directory")),
        Ok(meta) if meta.len() == 0 => return Err(corrupt(path, "the file is empty")),
        Ok(_) => {}
    }
    refuse_if_others_can_write(path)?;

    // Without SQLITE_OPEN_CREATE: never make a file here. SQLite falls back to read-only
    // when this user cannot write the file.
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(|e| classify(e, path))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| classify(e, path))?;
    let writable = !conn
        .is_readonly(rusqlite::MAIN_DB)
        .map_err(|e| classify(e, path))?;
    if access == Access::Write && !writable {
        return Err(Error::VaultReadOnly { path: path.into() });
    }
    check_schema(&conn, path, writable)?;
    if access == Access::Write {
        // Creations, rotations and revocations must survive a power cut once the command returns.
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(|e| classify(e, path))?;
    }
    Ok((conn, writable))
}

/// Builds a complete, empty vault beside `path` and links it into place in one step, so a
/// concurrent command sees either no vault or a whole one, never a half-made file.
fn create(path: &Path) -> Result<()> {
    let dir = path
        .parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| anyhow_io(e, dir))?;
    let file_name = path
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or("vault");
    let staging = dir.join(format!(
        ".{file_name}.new-{}-{}",
        std::process::id(),
        crate::token::generate_id()
    ));
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&staging)
        .map_err(|e| anyhow_io(e, &staging))?;
    let built = initialise(&staging);
    let linked = built.and_then(|()| match fs::hard_link(&staging, path) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == ErrorKind::AlreadyExists => Ok(()), // another command won the race
        Err(error) => Err(anyhow_io(error, path).into()),
    });
    let _ = fs::remove_file(&staging);
    linked
}

fn initialise(staging: &Path) -> Result<()> {
    let conn = Connection::open_with_flags(staging, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
    conn.pragma_update(None, "application_id", APPLICATION_ID)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    let tx = conn.unchecked_transaction()?;
    schema::migrate(&tx, 0)?;
    tx.commit()?;
    conn.close().map_err(|(_, error)| error)?;
    Ok(())
}

/// Refuses a vault that other users could tamper with (SPEC §6): a group- or world-writable file or folder.
fn refuse_if_others_can_write(path: &Path) -> Result<()> {
    let dir = path
        .parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    for place in [path, dir] {
        let mode = fs::metadata(place)
            .map_err(|e| anyhow_io(e, place))?
            .permissions()
            .mode();
        if mode & 0o022 != 0 {
            return Err(Error::VaultInsecure { path: place.into() });
        }
    }
    Ok(())
}

fn check_schema(conn: &Connection, path: &Path, writable: bool) -> Result<()> {
    let read = |pragma: &str| -> Result<i64> {
        conn.pragma_query_value(None, pragma, |row| row.get(0))
            .map_err(|e| classify(e, path))
    };
    if read("application_id")? != APPLICATION_ID {
        return Err(corrupt(path, "not made by tokens"));
    }
    let version = read("user_version")?;
    if version > CURRENT_VERSION {
        return Err(Error::VaultTooNew {
            path: path.into(),
            found: version,
            known: CURRENT_VERSION,
        });
    }
    if version < CURRENT_VERSION {
        if !writable {
            return Err(Error::VaultReadOnly { path: path.into() });
        }
        conn.execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| classify(e, path))?;
        // Another process may have migrated while this one waited for the lock.
        let version = read("user_version")?;
        let migrated = schema::migrate(conn, version).and_then(|()| conn.execute_batch("COMMIT"));
        if let Err(error) = migrated {
            let _ = conn.execute_batch("ROLLBACK");
            return Err(classify(error, path));
        }
    }
    Ok(())
}

/// Turns SQLite's "not a database" and "corrupt" into the one-line error that names the file.
pub fn classify(error: rusqlite::Error, path: &Path) -> Error {
    use rusqlite::ffi::ErrorCode;
    match error.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => corrupt(path, "not a SQLite database"),
        Some(ErrorCode::DatabaseCorrupt) => corrupt(path, "the database is damaged"),
        Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => {
            Error::Other(anyhow::anyhow!(
                "{} stayed locked by another tokens command for too long; try again",
                path.display()
            ))
        }
        Some(ErrorCode::CannotOpen) => {
            Error::Other(anyhow::anyhow!("cannot open {}: {error}", path.display()))
        }
        Some(ErrorCode::ReadOnly) => Error::VaultReadOnly { path: path.into() },
        _ => Error::Other(anyhow::anyhow!("vault {}: {error}", path.display())),
    }
}

fn corrupt(path: &Path, reason: &str) -> Error {
    Error::VaultCorrupt {
        path: path.into(),
        reason: reason.into(),
    }
}

fn anyhow_io(error: std::io::Error, path: &Path) -> anyhow::Error {
    anyhow::anyhow!("{}: {error}", path.display())
}
