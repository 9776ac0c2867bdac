//! Finding, creating and opening the vault file: path, permissions, pragmas, schema version.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::ErrorKind;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};

use super::schema::{self, APPLICATION_ID, CURRENT_VERSION};
use super::trust;
use crate::error::{Error, Result};
use crate::vault::{Access, Doing, Marks};

/// The default vault: `vault.db` in the platform data directory (`~/.local/share/tokens` on Linux).
pub fn default_path() -> Result<PathBuf> {
    directories::ProjectDirs::from("", "", "tokens")
        .map(|dirs| dirs.data_dir().join("vault.db"))
        .ok_or_else(|| Error::Usage("cannot find a home directory; pass --vault PATH".into()))
}

/// An open vault connection.
pub struct Opened {
    pub conn: Connection,
    /// The vault's real path (symbolic links resolved), as checked and opened.
    pub path: PathBuf,
    /// False for a vault this user may read but not write.
    pub writable: bool,
    /// Held while a read-only snapshot is open (see [`open_snapshot`]); released on drop.
    pub snapshot_lock: Option<File>,
}

/// Opens the vault at `path`, creating it first when `access` is `Write` and it does not exist.
/// `timeout`: how long to wait for another process's lock before giving up (`--timeout`).
pub fn open(path: &Path, access: Access, timeout: Duration) -> Result<Opened> {
    // Judged before anything is made (SPEC §8); from here on the vault is its real path, opened
    // with symbolic links refused.
    let path = &trust::check(path)?;
    match fs::metadata(path) {
        Err(error) if error.kind() == ErrorKind::NotFound => match access {
            Access::Read => return Err(Error::VaultMissing { vault: shown(path) }),
            Access::Write => {
                create(path)?;
                // Again: another user may have made a missing folder meanwhile (in `/tmp`, say).
                trust::check(path)?;
            }
        },
        Err(error) => return Err(anyhow_io(error, path).into()),
        Ok(meta) if meta.is_dir() => return Err(corrupt(path, "it is a directory")),
        Ok(meta) if meta.len() == 0 => return Err(corrupt(path, "the file is empty")),
        Ok(_) => {}
    }

    // A reader that cannot create the WAL's `-wal` and `-shm` files falls back to a snapshot;
    // one that meets a writer creating or removing them tries again a moment later.
    let deadline = Instant::now() + timeout;
    for attempt in 1.. {
        let raced = match open_ordinary(path, access, timeout)? {
            Ordinary::Opened(opened) => {
                if access == Access::Write {
                    remove_abandoned_staging(path);
                }
                return Ok(opened);
            }
            Ordinary::NoWalFiles if access == Access::Write => {
                return Err(Error::VaultReadOnly {
                    vault: shown(folder(path)),
                });
            }
            Ordinary::NoWalFiles => match open_snapshot(path, timeout)? {
                Some(opened) => return Ok(opened),
                None => None, // a writer started meanwhile: its -wal/-shm files now exist
            },
            Ordinary::Raced(error) => Some(error),
        };
        if attempt >= 20 || Instant::now() >= deadline {
            return Err(match raced {
                Some(error) => Error::Other(anyhow::anyhow!(
                    "cannot read {0}: {error} (this user needs to read {0}-wal and {0}-shm too)",
                    path.display()
                )),
                None => Error::Other(anyhow::anyhow!(
                    "cannot open {} read-only while other commands keep changing it; try again",
                    path.display()
                )),
            });
        }
        std::thread::sleep(Duration::from_millis(5 * attempt));
    }
    unreachable!("the loop above returns")
}

/// What the ordinary open came to.
enum Ordinary {
    Opened(Opened),
    /// SQLite cannot read a WAL database here: the folder is read-only and the `-wal`/`-shm`
    /// files do not exist.
    NoWalFiles,
    /// A reader that cannot write met a writer between creating (or removing) the `-wal` file
    /// and the `-shm` file.
    Raced(rusqlite::Error),
}

/// The ordinary open: SQLite's WAL with shared memory.
fn open_ordinary(path: &Path, access: Access, timeout: Duration) -> Result<Ordinary> {
    // Without SQLITE_OPEN_CREATE: never make a file here. SQLite falls back to read-only
    // when this user cannot write the file. Without SQLITE_OPEN_URI: the path is taken as it is.
    // With SQLITE_OPEN_NOFOLLOW: the checked real path, with no symbolic link on it.
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_NOFOLLOW;
    let conn = Connection::open_with_flags(path, flags).map_err(|e| classify(e, path))?;
    conn.busy_timeout(timeout).map_err(|e| classify(e, path))?;
    let writable = !conn
        .is_readonly(rusqlite::MAIN_DB)
        .map_err(|e| classify(e, path))?;
    if access == Access::Write && !writable {
        return Err(Error::VaultReadOnly { vault: shown(path) });
    }
    // The first read opens the WAL. SQLite (3.22+) lets a read-only connection use existing
    // `-wal`/`-shm` files it cannot write, but cannot read at all when it can create neither.
    let application_id = match conn.pragma_query_value(None, "application_id", |row| row.get(0)) {
        Ok(application_id) => application_id,
        Err(error) => {
            use rusqlite::ffi::{self, ErrorCode};
            return match error.sqlite_error() {
                Some(e) if e.extended_code == ffi::SQLITE_READONLY_DIRECTORY => {
                    Ok(Ordinary::NoWalFiles)
                }
                Some(e)
                    if !writable
                        && matches!(e.code, ErrorCode::CannotOpen | ErrorCode::ReadOnly) =>
                {
                    Ok(Ordinary::Raced(error))
                }
                _ => Err(classify(error, path)),
            };
        }
    };
    check_schema(&conn, path, access, writable, application_id)?;
    if access == Access::Write {
        // Creations, rotations and revocations must survive a power cut once the command returns.
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(|e| classify(e, path))?;
    }
    Ok(Ordinary::Opened(Opened {
        conn,
        path: path.to_owned(),
        writable,
        snapshot_lock: None,
    }))
}

/// A read-only view of a vault in a folder this user cannot write (SPEC §6: a root-managed vault
/// that CI users verify against), when no other command has it open: with no `-wal` file, every
/// committed change is in the database file itself, so SQLite can read it as `immutable`.
///
/// Immutable means SQLite takes no locks, so this holds one itself: a shared lock on the byte
/// range SQLite's own readers lock. A writer that finishes meanwhile then cannot take the
/// exclusive lock it needs to copy its WAL into the database file (it leaves the WAL for later),
/// so the file does not change under this reader. `None` when a `-wal` file appeared: a writer
/// started, and the ordinary open works again.
fn open_snapshot(path: &Path, timeout: Duration) -> Result<Option<Opened>> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| anyhow_io(e, path))?;
    lock_like_a_sqlite_reader(&file, path, timeout)?;
    if companion(path, "-wal").exists() {
        return Ok(None);
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_URI
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_NOFOLLOW;
    let conn =
        Connection::open_with_flags(immutable_uri(path), flags).map_err(|e| classify(e, path))?;
    let application_id = conn
        .pragma_query_value(None, "application_id", |row| row.get(0))
        .map_err(|e| classify(e, path))?;
    check_schema(&conn, path, Access::Read, false, application_id)?;
    Ok(Some(Opened {
        conn,
        path: path.to_owned(),
        writable: false,
        snapshot_lock: Some(file),
    }))
}

/// SQLite's unix locking (`os_unix.c`): readers hold a read lock on the 510 bytes after the
/// "pending byte" at 1 GiB; the exclusive lock a closing writer needs to checkpoint is a write
/// lock on the same range. An open-file-description lock conflicts with SQLite's POSIX locks in
/// other processes and, unlike a POSIX lock, is not dropped when SQLite closes its own descriptor.
fn lock_like_a_sqlite_reader(file: &File, path: &Path, timeout: Duration) -> Result<()> {
    const PENDING_BYTE: i64 = 0x4000_0000;
    const SHARED_FIRST: i64 = PENDING_BYTE + 2;
    const SHARED_SIZE: i64 = 510;
    let deadline = Instant::now() + timeout;
    loop {
        // SAFETY: `flock` is plain data; zero is a valid value for every field (l_pid must be 0
        // for open-file-description locks).
        let mut lock: libc::flock = unsafe { std::mem::zeroed() };
        lock.l_type = libc::F_RDLCK as libc::c_short;
        lock.l_whence = libc::SEEK_SET as libc::c_short;
        lock.l_start = SHARED_FIRST;
        lock.l_len = SHARED_SIZE;
        // SAFETY: the descriptor is open for the life of `file`, and `lock` is a valid `flock`.
        if unsafe { libc::fcntl(file.as_raw_fd(), libc::F_OFD_SETLK, &lock) } == 0 {
            return Ok(());
        }
        let error = std::io::Error::last_os_error();
        let busy = matches!(
            error.raw_os_error(),
            Some(libc::EAGAIN) | Some(libc::EACCES)
        );
        if !busy {
            return Err(anyhow_io(error, path).into());
        }
        if Instant::now() >= deadline {
            return Err(classify(
                rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
                    None,
                ),
                path,
            ));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// `file:` URI for `path` with `immutable=1`; every byte but a few safe ones percent-encoded.
fn immutable_uri(path: &Path) -> PathBuf {
    let mut uri = b"file:".to_vec();
    if path.is_absolute() {
        uri.extend_from_slice(b"//"); // an empty authority, then the absolute path
    }
    for &byte in path.as_os_str().as_bytes() {
        if byte.is_ascii_alphanumeric() || b"/._-~".contains(&byte) {
            uri.push(byte);
        } else {
            uri.extend_from_slice(format!("%{byte:02X}").as_bytes());
        }
    }
    uri.extend_from_slice(b"?immutable=1");
    PathBuf::from(OsString::from_vec(uri))
}

/// The vault's folder.
fn folder(path: &Path) -> &Path {
    path.parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// SQLite's file beside the vault: `-wal` or `-shm`.
pub(super) fn companion(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Builds a complete, empty vault beside `path` and links it into place in one step, so a
/// concurrent command sees either no vault or a whole one, never a half-made file.
fn create(path: &Path) -> Result<()> {
    let dir = folder(path);
    let opened = open_folders(dir)?;
    remove_abandoned_staging(path);
    let name = format!(
        "{}{}-{}",
        staging_prefix(path),
        std::process::id(),
        crate::token::generate_id()
    );
    let staging = dir.join(&name);
    // In the folder just judged, by its descriptor: never through a link, never an old file.
    drop(
        open_at(
            &opened,
            name.as_ref(),
            libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW,
        )
        .map_err(|e| anyhow_io(e, &staging))?,
    );
    let built = initialise(&staging);
    let linked = built.and_then(|()| match fs::hard_link(&staging, path) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == ErrorKind::AlreadyExists => Ok(()), // another command won the race
        Err(error) => Err(anyhow_io(error, path).into()),
    });
    let _ = fs::remove_file(&staging);
    linked
}

/// Opens each folder from `/` down to `dir` (a real path: absolute, no link on it) with
/// `openat`, symbolic links refused, making the missing ones (mode 0700), and judges each by
/// what its descriptor says (SPEC §8): a folder another user made or swapped in since the path
/// was checked (in `/tmp`, say) is refused before anything is written. Once judged, a folder
/// can be changed only by the owners the rule allows, so the paths below it stay as judged.
/// Returns `dir`, open.
fn open_folders(dir: &Path) -> Result<File> {
    let mut walked = PathBuf::from("/");
    // O_PATH: a folder this user may only pass through (mode 0711) is walked too, as `mkdir -p`
    // would; the descriptor serves `fstat` and the `*at` calls, and reads nothing.
    let flags = libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW;
    // SAFETY: a valid C string; the new descriptor is ours alone.
    let fd = unsafe { libc::open(c"/".as_ptr(), flags | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(anyhow_io(std::io::Error::last_os_error(), &walked).into());
    }
    // SAFETY: `fd` was just opened and is owned by nothing else.
    let mut current = unsafe { <File as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    let names: Vec<&std::ffi::OsStr> = dir
        .components()
        .filter_map(|component| match component {
            std::path::Component::Normal(name) => Some(name),
            _ => None,
        })
        .collect();
    trust::check_open_folder(&walked, &current, names.is_empty())?;
    for (index, name) in names.iter().enumerate() {
        walked.push(name);
        let next = match open_at(&current, name, flags) {
            Err(error) if error.kind() == ErrorKind::NotFound => {
                make_folder_at(&current, name).map_err(|e| anyhow_io(e, &walked))?;
                open_at(&current, name, flags)
            }
            other => other,
        };
        let next = next.map_err(|error| match error.raw_os_error() {
            Some(libc::ELOOP | libc::ENOTDIR) => Error::VaultInsecure {
                path: walked.clone(),
                reason: "became a symbolic link or a file while the vault was being made".into(),
                fix: format!(
                    "nothing was written; check who else can write {}",
                    walked.parent().unwrap_or(Path::new("/")).display()
                ),
            },
            _ => anyhow_io(error, &walked).into(),
        })?;
        trust::check_open_folder(&walked, &next, index + 1 == names.len())?;
        current = next;
    }
    Ok(current)
}

/// `openat(dir, name, flags | O_CLOEXEC, 0600)`.
fn open_at(dir: &File, name: &std::ffi::OsStr, flags: libc::c_int) -> std::io::Result<File> {
    let name = std::ffi::CString::new(name.as_bytes())?;
    // SAFETY: a valid descriptor and C string; the new descriptor is ours alone.
    let fd = unsafe {
        libc::openat(
            dir.as_raw_fd(),
            name.as_ptr(),
            flags | libc::O_CLOEXEC,
            0o600 as libc::c_uint,
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `fd` was just opened and is owned by nothing else.
    Ok(unsafe { <File as std::os::fd::FromRawFd>::from_raw_fd(fd) })
}

/// `mkdirat(dir, name, 0700)`; a folder that appeared meanwhile is no error here (it is judged
/// when opened).
fn make_folder_at(dir: &File, name: &std::ffi::OsStr) -> std::io::Result<()> {
    let name = std::ffi::CString::new(name.as_bytes())?;
    // SAFETY: a valid descriptor and C string.
    if unsafe { libc::mkdirat(dir.as_raw_fd(), name.as_ptr(), 0o700) } == 0 {
        return Ok(());
    }
    let error = std::io::Error::last_os_error();
    match error.kind() {
        ErrorKind::AlreadyExists => Ok(()),
        _ => Err(error),
    }
}

/// The name of a staging file for `path` begins with this; the creating process's id follows.
fn staging_prefix(path: &Path) -> String {
    let file_name = path
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or("vault");
    format!(".{file_name}.new-")
}

/// Removes the staging files (and their SQLite companions) of creations that were killed
/// before they could clean up: those whose process no longer runs.
fn remove_abandoned_staging(path: &Path) {
    let prefix = staging_prefix(path);
    let Ok(entries) = fs::read_dir(folder(path)) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|name| name.strip_prefix(&prefix))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<libc::pid_t>().ok())
        else {
            continue;
        };
        // SAFETY: signal 0 only checks whether the process exists.
        let gone = unsafe { libc::kill(pid, 0) } != 0
            && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
        if gone {
            let _ = fs::remove_file(entry.path());
        }
    }
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

/// Refuses a file that is not a tokens vault or is too new; migrates an older one.
fn check_schema(
    conn: &Connection,
    path: &Path,
    access: Access,
    writable: bool,
    application_id: i64,
) -> Result<()> {
    let read = |pragma: &str| -> Result<i64> {
        conn.pragma_query_value(None, pragma, |row| row.get(0))
            .map_err(|e| classify(e, path))
    };
    if application_id != APPLICATION_ID {
        return Err(corrupt(path, "not made by tokens"));
    }
    let version = read("user_version")?;
    if version > CURRENT_VERSION {
        // A newer vault: its marks say what this binary may do (none readable: refused).
        let marks = read_marks(conn);
        crate::vault::allowed_by_marks(&shown(path), version, marks, Doing::Read)?;
        if access == Access::Write {
            crate::vault::allowed_by_marks(&shown(path), version, marks, Doing::Change)?;
        }
        // Never migrated: verify asks the marks again (`SqliteVault::may_verify`).
        return Ok(());
    }
    if version < CURRENT_VERSION {
        if !writable {
            return Err(Error::VaultReadOnly { vault: shown(path) });
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

/// The marks of a vault (SPEC §10), when it has them in a shape this binary reads.
pub(super) fn read_marks(conn: &Connection) -> Option<Marks> {
    conn.query_row(
        "SELECT read_mark, verify_mark, write_mark FROM vault_marks",
        [],
        |row| {
            Ok(Marks {
                read: row.get(0)?,
                verify: row.get(1)?,
                write: row.get(2)?,
            })
        },
    )
    .ok()
}

/// Turns SQLite's "not a database" and "corrupt" into the one-line error that names the file.
pub fn classify(error: rusqlite::Error, path: &Path) -> Error {
    use rusqlite::ffi::ErrorCode;
    match error.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => corrupt(path, "not a SQLite database"),
        Some(ErrorCode::DatabaseCorrupt) => corrupt(path, "the database is damaged"),
        // In WAL mode a writer waits only for another writer, or for a process that holds
        // SQLite's file locks without being one: anyone who may read the file can take them.
        Some(ErrorCode::DatabaseBusy)
        | Some(ErrorCode::DatabaseLocked)
        | Some(ErrorCode::FileLockingProtocolFailed) => Error::Other(anyhow::anyhow!(
            "{} stayed locked by another process (possibly one that only reads the vault) for \
             too long; try again, and if a team shares this vault, move it to PostgreSQL",
            path.display()
        )),
        Some(ErrorCode::CannotOpen) => {
            Error::Other(anyhow::anyhow!("cannot open {}: {error}", path.display()))
        }
        Some(ErrorCode::ReadOnly) => Error::VaultReadOnly { vault: shown(path) },
        Some(ErrorCode::DiskFull) => disk_full(path),
        // A full disk often shows as an I/O error (SQLite sizing its shared-memory file).
        Some(ErrorCode::SystemIoFailure) if disk_is_full(folder(path)) => disk_full(path),
        _ => Error::Other(anyhow::anyhow!("vault {}: {error}", path.display())),
    }
}

fn disk_full(path: &Path) -> Error {
    Error::Other(anyhow::anyhow!(
        "the disk holding {} is full; nothing was changed (free some space and try again)",
        path.display()
    ))
}

/// True when the file system holding `dir` has no free block left.
fn disk_is_full(dir: &Path) -> bool {
    let Ok(dir) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: `statvfs` is plain data, filled in by the call; `dir` is a valid C string.
    let mut stats: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(dir.as_ptr(), &mut stats) } != 0 {
        return false;
    }
    stats.f_bfree == 0 || stats.f_bavail == 0
}

fn corrupt(path: &Path, reason: &str) -> Error {
    Error::VaultCorrupt {
        vault: shown(path),
        reason: reason.into(),
    }
}

pub(super) fn anyhow_io(error: std::io::Error, path: &Path) -> anyhow::Error {
    anyhow::anyhow!("{}: {error}", path.display())
}

/// The path as errors show it.
fn shown(path: &Path) -> String {
    path.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_lock_error_names_another_process_and_postgresql() {
        use rusqlite::ffi;
        for code in [ffi::SQLITE_BUSY, ffi::SQLITE_LOCKED, ffi::SQLITE_PROTOCOL] {
            let error = rusqlite::Error::SqliteFailure(ffi::Error::new(code), None);
            assert_eq!(
                classify(error, Path::new("/srv/vault.db")).to_string(),
                "/srv/vault.db stayed locked by another process (possibly one that only reads the \
                 vault) for too long; try again, and if a team shares this vault, move it to \
                 PostgreSQL",
                "code {code}"
            );
        }
    }
}
