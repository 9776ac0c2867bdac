//! Whether a vault file may be used (SPEC §8), checked before it is opened or made, the way
//! OpenSSH's `safe_path` checks its files. The real path (symbolic links resolved) must be in the
//! hands of this user, root or the account `TOKENS_VAULT_OWNER` names:
//!
//! - the vault file, its `-wal`, `-shm` and `-journal` (each when present) and the vault's own
//!   folder: owned by one of them and writable by no one else. A sticky folder is not enough
//!   here: another user could plant a `-journal` beside the vault, which SQLite replays;
//! - every folder above, up to `/`: owned by one of them and writable by no one else unless
//!   sticky (like `/tmp`: others may add names there, but not rename or remove ours).
//!
//! Every symbolic link met on the way decides where the path goes, so whoever could make or
//! replace it chooses the vault: a link must be owned by one of them too, and sit in a folder (and
//! below folders) no one else can write. A sticky folder others write (like `/tmp`) is enough only
//! when the link's owner owns that folder as well, or the link is this user's own.
//!
//! Group-write is no one else's when the group is the owner's private group: the owner's primary
//! group, no other account's primary group, with no members but the owner (umask 002 systems;
//! Debian's OpenSSH allows the same). Folders that do not exist yet are the ones this command
//! would make (mode 0700, this user's): the nearest one that exists is checked instead.

use std::ffi::{CStr, CString, OsStr, OsString};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};

/// Names the account, besides this user and root, that may own the vault.
pub const OWNER_VARIABLE: &str = "TOKENS_VAULT_OWNER";

/// The files SQLite keeps beside a vault; each is checked like the vault when present.
const COMPANIONS: [&str; 3] = ["-wal", "-shm", "-journal"];

/// How many symbolic links one path may go through (Linux's limit).
const MAX_LINKS: usize = 40;

/// What `lstat` says about one path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meta {
    pub kind: Kind,
    pub uid: u32,
    pub gid: u32,
    /// The permission bits and the sticky bit (`st_mode & 0o7777`).
    pub mode: u32,
    /// The path carries a POSIX access ACL beyond its mode bits: named users or groups may
    /// write it whatever `mode` says (the group bits are then only the ACL's mask).
    pub acl: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Folder,
    File,
    Symlink,
    Other,
}

/// An entry of the password database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub uid: u32,
    pub name: String,
    /// The primary group.
    pub gid: u32,
}

/// An entry of the group database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The accounts listed as members (not those whose primary group it is).
    pub members: Vec<String>,
}

/// What the check asks of the system: [`Host`] asks the real one; tests make one up.
pub trait System {
    fn lstat(&self, path: &Path) -> io::Result<Meta>;
    fn read_link(&self, path: &Path) -> io::Result<PathBuf>;
    fn current_dir(&self) -> io::Result<PathBuf>;
    fn account_by_uid(&self, uid: u32) -> Option<Account>;
    fn account_by_name(&self, name: &str) -> Option<Account>;
    fn group(&self, gid: u32) -> Option<Group>;
    /// The uids of the accounts whose primary group is `gid`.
    fn primary_members(&self, gid: u32) -> Vec<u32>;
}

/// The accounts that may own a vault and the folders on its way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owners {
    /// This user, root, and `TOKENS_VAULT_OWNER`'s account when it is set.
    uids: Vec<u32>,
    /// `TOKENS_VAULT_OWNER` as given, when it is set.
    named: Option<String>,
}

impl Owners {
    /// The user running this command.
    fn caller(&self) -> u32 {
        self.uids[0]
    }

    /// This user (`euid`), root, and the account `variable` (`TOKENS_VAULT_OWNER`) names: a user
    /// name, or a numeric uid (which needs no entry in the password database).
    pub fn new(euid: u32, variable: Option<&OsStr>, system: &dyn System) -> Result<Owners> {
        let mut uids = vec![euid, 0];
        let Some(value) = variable.filter(|value| !value.is_empty()) else {
            return Ok(Owners { uids, named: None });
        };
        let unknown = || {
            Error::Usage(format!(
                "{OWNER_VARIABLE}={} names no user on this system; give a user name or a numeric uid",
                value.to_string_lossy()
            ))
        };
        let text = value.to_str().ok_or_else(unknown)?;
        let uid = if text.bytes().all(|byte| byte.is_ascii_digit()) {
            text.parse::<u32>().map_err(|_| unknown())?
        } else {
            system.account_by_name(text).ok_or_else(unknown)?.uid
        };
        uids.push(uid);
        Ok(Owners {
            uids,
            named: Some(text.to_owned()),
        })
    }

    /// Whom a `chown` in a message gives a file to: `TOKENS_VAULT_OWNER`'s account when it is
    /// set, else this user. (Looked up only for a message: every command opens a vault.)
    fn chown_to(&self, system: &dyn System) -> String {
        if let Some(named) = &self.named {
            return named.clone();
        }
        let euid = self.uids[0];
        system
            .account_by_uid(euid)
            .map_or_else(|| euid.to_string(), |account| account.name)
    }
}

/// Checks the vault at `path` on this system, for this user; returns its real path, to be
/// opened with symbolic links refused.
pub fn check(path: &Path) -> Result<PathBuf> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    let owners = Owners::new(euid, std::env::var_os(OWNER_VARIABLE).as_deref(), &Host)?;
    check_with(path, &owners, &Host)
}

/// Judges a folder on the vault's way by its open descriptor (`fstat`), as [`check`] judges it
/// by its path: creating a vault walks the folders with `openat` and judges each one it opened,
/// so a folder another user made or swapped in after [`check`] is refused before anything is
/// written in it. `own_folder`: the folder the vault goes in.
pub fn check_open_folder(path: &Path, folder: &std::fs::File, own_folder: bool) -> Result<()> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    let owners = Owners::new(euid, std::env::var_os(OWNER_VARIABLE).as_deref(), &Host)?;
    let meta = folder.metadata().map_err(|error| io_error(error, path))?;
    let meta = Meta {
        kind: if meta.is_dir() {
            Kind::Folder
        } else {
            Kind::Other
        },
        uid: meta.uid(),
        gid: meta.gid(),
        mode: meta.mode() & 0o7777,
        acl: fd_has_access_acl(folder),
    };
    let place = if own_folder {
        Place::OwnFolder
    } else {
        Place::Above
    };
    judge(path, meta, place, &owners, &Host)
}

/// [`has_access_acl`] of an open file; one opened with `O_PATH` (which `fgetxattr` refuses) is
/// asked through `/proc/self/fd`, which names that very file.
fn fd_has_access_acl(file: &std::fs::File) -> bool {
    use std::os::fd::AsRawFd;
    let fd = file.as_raw_fd();
    // SAFETY: a valid descriptor and C string; a null buffer of size 0 asks only for the size.
    let size = unsafe {
        libc::fgetxattr(
            fd,
            c"system.posix_acl_access".as_ptr(),
            std::ptr::null_mut(),
            0,
        )
    };
    if size < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::EBADF) {
        let Ok(path) = CString::new(format!("/proc/self/fd/{fd}")) else {
            return false;
        };
        // SAFETY: as above; `getxattr` follows the /proc link to the open file.
        let size = unsafe {
            libc::getxattr(
                path.as_ptr(),
                c"system.posix_acl_access".as_ptr(),
                std::ptr::null_mut(),
                0,
            )
        };
        return size > 0;
    }
    size > 0
}

/// What a path is to the vault: which rule applies to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// A folder above the vault's own: sticky may stand in for "writable by no one else".
    Above,
    /// The folder the vault file is in.
    OwnFolder,
    /// The vault file.
    Vault,
    /// A `-wal`, `-shm` or `-journal` file beside it.
    Companion,
    /// The folder a symbolic link on the way is in, where sticky is not enough (see
    /// [`judge_link`]).
    LinkFolder,
}

/// [`check`] with the accounts and the system given.
pub fn check_with(path: &Path, owners: &Owners, system: &dyn System) -> Result<PathBuf> {
    let real = resolve(path, owners, system)?;
    // A folder or a device where the vault should be is no vault: said so before the folders
    // around it are judged (whose advice would be beside the point, or harmful for `/dev`).
    if let Ok(meta) = system.lstat(&real)
        && matches!(meta.kind, Kind::Folder | Kind::Other)
    {
        let shown = crate::output::printable(&real.display().to_string()).into_owned();
        return Err(Error::Other(if meta.kind == Kind::Folder {
            anyhow::anyhow!(
                "{shown} is a directory, not a vault file; give the vault's file path (e.g. {}/vault.db)",
                shown.trim_end_matches('/')
            )
        } else {
            anyhow::anyhow!(
                "{shown} is a device or another special file, not a vault file; give a file path (the default is ~/.local/share/tokens/vault.db)"
            )
        }));
    }
    let Some(own_folder) = real.parent() else {
        return Ok(real); // `/` itself: opening it says it is a folder
    };
    let mut folders: Vec<&Path> = own_folder.ancestors().collect();
    folders.reverse(); // from `/` down, so the first trouble named is the one nearest the root
    for folder in folders {
        let place = if folder == own_folder {
            Place::OwnFolder
        } else {
            Place::Above
        };
        match system.lstat(folder) {
            Ok(meta) => judge(folder, meta, place, owners, system)?,
            // This folder and the ones below it are still to be made by this command.
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(real),
            Err(error) => return Err(io_error(error, folder)),
        }
    }
    let mut files = vec![(real.clone(), Place::Vault)];
    files.extend(
        COMPANIONS
            .iter()
            .map(|suffix| (super::open::companion(&real, suffix), Place::Companion)),
    );
    for (file, place) in files {
        match system.lstat(&file) {
            Ok(meta) => judge(&file, meta, place, owners, system)?,
            Err(error) if error.kind() == io::ErrorKind::NotFound => {}
            Err(error) => return Err(io_error(error, &file)),
        }
    }
    Ok(real)
}

/// The real path: absolute, with `.`, `..` and every symbolic link resolved as far as the path
/// exists; the names that do not exist yet (a vault or folders still to be made) follow as given.
/// Each link met is judged ([`judge_link`]) before it is followed.
fn resolve(path: &Path, owners: &Owners, system: &dyn System) -> Result<PathBuf> {
    let absolute = if path.is_absolute() {
        path.to_owned()
    } else {
        let current = system
            .current_dir()
            .map_err(|error| io_error(error, Path::new(".")))?;
        current.join(path)
    };
    let mut real = PathBuf::from("/");
    let mut missing: Vec<OsString> = Vec::new();
    // The names still to walk, the next one last.
    let mut pending: Vec<OsString> = names(&absolute);
    let mut links = 0;
    while let Some(name) = pending.pop() {
        if name == ".." {
            if missing.pop().is_none() {
                real.pop();
            }
            continue;
        }
        if !missing.is_empty() {
            missing.push(name);
            continue;
        }
        let next = real.join(&name);
        match system.lstat(&next) {
            Ok(meta) if meta.kind == Kind::Symlink => {
                judge_link(&next, meta, &real, owners, system)?;
                links += 1;
                if links > MAX_LINKS {
                    return Err(io_error(io::Error::from_raw_os_error(libc::ELOOP), path));
                }
                let target = system
                    .read_link(&next)
                    .map_err(|error| io_error(error, &next))?;
                if target.is_absolute() {
                    real = PathBuf::from("/");
                }
                pending.extend(names(&target));
            }
            Ok(_) => real = next,
            Err(error) if error.kind() == io::ErrorKind::NotFound => missing.push(name),
            Err(error) => return Err(io_error(error, &next)),
        }
    }
    real.extend(missing);
    Ok(real)
}

/// The names of `path` (`..` kept, `.` and `/` dropped), last first: a stack to pop.
fn names(path: &Path) -> Vec<OsString> {
    let mut names: Vec<OsString> = path
        .components()
        .filter_map(|component| match component {
            Component::Normal(name) => Some(name.to_owned()),
            Component::ParentDir => Some(OsString::from("..")),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => None,
        })
        .collect();
    names.reverse();
    names
}

/// Judges a symbolic link at `link`, in the real folder `folder`, before it is followed: its
/// owner could point it anywhere (at a stale backup in which a revoked token still verifies), and
/// so could anyone who may replace it. So it must be owned by root, this user or
/// `TOKENS_VAULT_OWNER`, and its folder and every folder above must be theirs and writable by no
/// one else. A sticky folder others write is enough only when the link's owner owns it too (no
/// one else may rename the link there) or the link is this user's own.
fn judge_link(
    link: &Path,
    meta: Meta,
    folder: &Path,
    owners: &Owners,
    system: &dyn System,
) -> Result<()> {
    if !owners.uids.contains(&meta.uid) {
        return Err(insecure(
            link,
            format!(
                "is a symbolic link owned by {}, not by root, this user or {OWNER_VARIABLE}, \
                 who could point it at any file",
                account(meta.uid, system)
            ),
            format!(
                "give the vault's real path instead, or remove the link: rm {}",
                link.display()
            ),
        ));
    }
    let mut above: Vec<&Path> = folder.ancestors().skip(1).collect();
    above.reverse(); // from `/` down, as in `check_with`
    for path in above {
        let meta = system.lstat(path).map_err(|error| io_error(error, path))?;
        judge(path, meta, Place::Above, owners, system)?;
    }
    let folder_meta = system
        .lstat(folder)
        .map_err(|error| io_error(error, folder))?;
    let sticky = folder_meta.kind == Kind::Folder && folder_meta.mode & 0o1000 != 0;
    let place = if sticky && (meta.uid == folder_meta.uid || meta.uid == owners.caller()) {
        Place::Above
    } else {
        Place::LinkFolder
    };
    judge(folder, folder_meta, place, owners, system)
}

/// `name (uid N)`, or `uid N` for a uid with no account.
fn account(uid: u32, system: &dyn System) -> String {
    match system.account_by_uid(uid) {
        Some(account) => format!("{} (uid {uid})", account.name),
        None => format!("uid {uid}"),
    }
}

/// Applies the rule for `place` to one path.
fn judge(
    path: &Path,
    meta: Meta,
    place: Place,
    owners: &Owners,
    system: &dyn System,
) -> Result<()> {
    let shown = path.display();
    if meta.kind == Kind::Symlink {
        // Every link on the way was resolved: this one appeared meanwhile, or is a companion.
        return Err(insecure(
            path,
            "is a symbolic link, where tokens expects a plain file or folder",
            format!("fix it with: rm {shown}"),
        ));
    }
    if !owners.uids.contains(&meta.uid) {
        let owner = account(meta.uid, system);
        return Err(insecure(
            path,
            format!("is owned by {owner}, not by root, this user or {OWNER_VARIABLE}"),
            fix_for_companion(path, place).unwrap_or_else(|| {
                format!("fix it with: chown {} {shown}", owners.chown_to(system))
            }),
        ));
    }
    let sticky = meta.kind == Kind::Folder && meta.mode & 0o1000 != 0;
    if place == Place::Above && sticky {
        return Ok(()); // like `/tmp`, without asking the user database
    }
    if meta.acl {
        return Err(insecure(
            path,
            "has an access control list (ACL), which may let other users write it",
            format!("fix it with: setfacl -b {shown}"),
        ));
    }
    // The group's members are looked up only when it matters (NSS may be slow).
    let others_can_write = meta.mode & 0o002 != 0
        || (meta.mode & 0o020 != 0 && !private_group(meta.uid, meta.gid, system));
    if !others_can_write {
        return Ok(());
    }
    let writable = "can be written by other users";
    match place {
        Place::Above => Err(insecure(
            path,
            writable,
            format!(
                "fix it with: chmod go-w {shown} (or chmod +t {shown} if others must keep adding files there)"
            ),
        )),
        Place::LinkFolder => Err(insecure(
            path,
            format!("{writable}, who could replace the symbolic link on the vault's path in it"),
            format!("give the vault's real path instead, or fix it with: chmod go-w {shown}"),
        )),
        Place::OwnFolder if sticky => Err(insecure(
            path,
            format!(
                "{writable}, who could plant files beside the vault (sticky is not enough for the \
                 vault's own folder)"
            ),
            format!(
                "keep the vault in a folder of its own: mkdir -m 700 {}",
                path.join("tokens").display()
            ),
        )),
        _ => Err(insecure(
            path,
            writable,
            fix_for_companion(path, place)
                .unwrap_or_else(|| format!("fix it with: chmod go-w {shown}")),
        )),
    }
}

/// A `-shm` (rebuilt by the next command) or `-journal` (never part of a vault in WAL mode, and
/// replayed into the vault when "hot") that others could write is removed, not adopted. A `-wal`
/// is not: it may hold the vault's latest changes, revocations among them.
fn fix_for_companion(path: &Path, place: Place) -> Option<String> {
    let name = path.as_os_str().as_bytes();
    let removable = place == Place::Companion && !name.ends_with(b"-wal");
    removable.then(|| {
        format!(
            "fix it with: rm {} (while no command has the vault open)",
            path.display()
        )
    })
}

/// True when `gid` is the private group of the account `uid`: its primary group, no other
/// account's primary group, and with no listed members but that account.
fn private_group(uid: u32, gid: u32, system: &dyn System) -> bool {
    let Some(owner) = system.account_by_uid(uid) else {
        return false;
    };
    let Some(group) = system.group(gid) else {
        return false;
    };
    owner.gid == gid
        && group.members.iter().all(|member| *member == owner.name)
        && system
            .primary_members(gid)
            .iter()
            .all(|&member| member == uid)
}

fn insecure(path: &Path, reason: impl Into<String>, fix: impl Into<String>) -> Error {
    Error::VaultInsecure {
        path: path.to_owned(),
        reason: reason.into(),
        fix: fix.into(),
    }
}

fn io_error(error: io::Error, path: &Path) -> Error {
    super::open::anyhow_io(error, path).into()
}

/// The real system: `lstat`, `readlink` and the password and group databases (NSS).
pub struct Host;

/// True when `path` has an extended POSIX access ACL (the `system.posix_acl_access` attribute
/// exists only then: a plain mode is no ACL). A file system without ACLs has none.
fn has_access_acl(path: &Path) -> bool {
    let Ok(path) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: valid C strings; a null buffer of size 0 asks only for the attribute's size.
    let size = unsafe {
        libc::lgetxattr(
            path.as_ptr(),
            c"system.posix_acl_access".as_ptr(),
            std::ptr::null_mut(),
            0,
        )
    };
    size > 0
}

impl System for Host {
    fn lstat(&self, path: &Path) -> io::Result<Meta> {
        let meta = std::fs::symlink_metadata(path)?;
        let file_type = meta.file_type();
        let kind = if file_type.is_symlink() {
            Kind::Symlink
        } else if file_type.is_dir() {
            Kind::Folder
        } else if file_type.is_file() {
            Kind::File
        } else {
            Kind::Other
        };
        Ok(Meta {
            kind,
            uid: meta.uid(),
            gid: meta.gid(),
            mode: meta.mode() & 0o7777,
            acl: kind != Kind::Symlink && has_access_acl(path),
        })
    }

    fn read_link(&self, path: &Path) -> io::Result<PathBuf> {
        std::fs::read_link(path)
    }

    fn current_dir(&self) -> io::Result<PathBuf> {
        std::env::current_dir()
    }

    fn account_by_uid(&self, uid: u32) -> Option<Account> {
        // SAFETY: the buffers are as long as said; `getpwuid_r` fills `entry` within them.
        lookup_account(|entry, buffer, length, result| unsafe {
            libc::getpwuid_r(uid, entry, buffer, length, result)
        })
    }

    fn account_by_name(&self, name: &str) -> Option<Account> {
        let name = CString::new(name).ok()?;
        // SAFETY: as above; `name` is a valid C string.
        lookup_account(|entry, buffer, length, result| unsafe {
            libc::getpwnam_r(name.as_ptr(), entry, buffer, length, result)
        })
    }

    fn group(&self, gid: u32) -> Option<Group> {
        let mut length = 1024;
        loop {
            let mut buffer = vec![0 as libc::c_char; length];
            // SAFETY: `group` is plain data, filled in by the call.
            let mut entry: libc::group = unsafe { std::mem::zeroed() };
            let mut result: *mut libc::group = std::ptr::null_mut();
            // SAFETY: `buffer` is `length` bytes; the call writes only within it and `entry`.
            let status = unsafe {
                libc::getgrgid_r(gid, &mut entry, buffer.as_mut_ptr(), length, &mut result)
            };
            if status == libc::ERANGE && length < 1 << 24 {
                length *= 4;
                continue;
            }
            if status != 0 || result.is_null() {
                return None;
            }
            let mut members = Vec::new();
            let mut member = entry.gr_mem;
            // SAFETY: `gr_mem` is a null-terminated array of C strings inside `buffer`.
            unsafe {
                while !member.is_null() && !(*member).is_null() {
                    members.push(CStr::from_ptr(*member).to_string_lossy().into_owned());
                    member = member.add(1);
                }
            }
            return Some(Group { members });
        }
    }

    fn primary_members(&self, gid: u32) -> Vec<u32> {
        let mut uids = Vec::new();
        // SAFETY: `getpwent` walks the password database with state of libc's own; nothing else
        // in this program enumerates it, and each entry is read before the next call.
        unsafe {
            libc::setpwent();
            loop {
                let entry = libc::getpwent();
                if entry.is_null() {
                    break;
                }
                if (*entry).pw_gid == gid {
                    uids.push((*entry).pw_uid);
                }
            }
            libc::endpwent();
        }
        uids
    }
}

/// Calls a `getpw*_r` function with a buffer that grows until the entry fits.
fn lookup_account(
    call: impl Fn(
        *mut libc::passwd,
        *mut libc::c_char,
        libc::size_t,
        *mut *mut libc::passwd,
    ) -> libc::c_int,
) -> Option<Account> {
    let mut length = 1024;
    loop {
        let mut buffer = vec![0 as libc::c_char; length];
        // SAFETY: `passwd` is plain data, filled in by the call.
        let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        let status = call(&mut entry, buffer.as_mut_ptr(), length, &mut result);
        if status == libc::ERANGE && length < 1 << 24 {
            length *= 4;
            continue;
        }
        if status != 0 || result.is_null() {
            return None;
        }
        // SAFETY: on success `pw_name` points at a C string inside `buffer`.
        let name = unsafe { CStr::from_ptr(entry.pw_name) };
        return Some(Account {
            uid: entry.pw_uid,
            name: name.to_string_lossy().into_owned(),
            gid: entry.pw_gid,
        });
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    const ROOT: u32 = 0;
    const ME: u32 = 1000;
    const OTHER: u32 = 1001;
    const SERVICE: u32 = 900;

    /// A made-up file system and user database.
    #[derive(Default)]
    struct Fake {
        entries: HashMap<PathBuf, (Meta, Option<PathBuf>)>,
        accounts: Vec<Account>,
        groups: HashMap<u32, Group>,
        cwd: PathBuf,
    }

    impl Fake {
        /// `/`, `/tmp` (1777), `/home` and `/home/me` (0755 root, 0700 me), and the accounts
        /// root, me, other and service, each with a private group of the same number.
        fn new() -> Fake {
            let mut fake = Fake {
                cwd: PathBuf::from("/home/me"),
                ..Fake::default()
            };
            for (uid, name) in [
                (ROOT, "root"),
                (ME, "me"),
                (OTHER, "other"),
                (SERVICE, "service"),
            ] {
                fake.accounts.push(Account {
                    uid,
                    name: name.into(),
                    gid: uid,
                });
                fake.groups.insert(uid, Group { members: vec![] });
            }
            fake.groups.insert(
                100,
                Group {
                    members: vec!["me".into(), "other".into()],
                },
            );
            fake.folder("/", ROOT, 0o755);
            fake.folder("/tmp", ROOT, 0o1777);
            fake.folder("/home", ROOT, 0o755);
            fake.folder("/home/me", ME, 0o700);
            fake
        }

        fn add(&mut self, path: &str, kind: Kind, uid: u32, gid: u32, mode: u32) -> &mut Fake {
            let meta = Meta {
                kind,
                uid,
                gid,
                mode,
                acl: false,
            };
            self.entries.insert(PathBuf::from(path), (meta, None));
            self
        }

        fn folder(&mut self, path: &str, uid: u32, mode: u32) -> &mut Fake {
            self.add(path, Kind::Folder, uid, uid, mode)
        }

        fn file(&mut self, path: &str, uid: u32, mode: u32) -> &mut Fake {
            self.add(path, Kind::File, uid, uid, mode)
        }

        fn link(&mut self, path: &str, target: &str) -> &mut Fake {
            let meta = Meta {
                kind: Kind::Symlink,
                uid: ROOT,
                gid: ROOT,
                mode: 0o777,
                acl: false,
            };
            self.entries
                .insert(PathBuf::from(path), (meta, Some(PathBuf::from(target))));
            self
        }

        fn link_owned(&mut self, path: &str, target: &str, uid: u32) -> &mut Fake {
            self.link(path, target);
            if let Some((meta, _)) = self.entries.get_mut(Path::new(path)) {
                meta.uid = uid;
                meta.gid = uid;
            }
            self
        }

        fn check(&self, path: &str) -> Result<PathBuf> {
            self.check_as(path, ME, None)
        }

        fn check_as(&self, path: &str, euid: u32, owner: Option<&str>) -> Result<PathBuf> {
            let owners = Owners::new(euid, owner.map(OsStr::new), self)?;
            check_with(Path::new(path), &owners, self)
        }
    }

    impl System for Fake {
        fn lstat(&self, path: &Path) -> io::Result<Meta> {
            if let Some(parent) = path.parent()
                && let Some((meta, _)) = self.entries.get(parent)
                && meta.kind == Kind::File
            {
                return Err(io::Error::from_raw_os_error(libc::ENOTDIR));
            }
            self.entries
                .get(path)
                .map(|(meta, _)| *meta)
                .ok_or_else(|| io::ErrorKind::NotFound.into())
        }
        fn read_link(&self, path: &Path) -> io::Result<PathBuf> {
            self.entries
                .get(path)
                .and_then(|(_, target)| target.clone())
                .ok_or_else(|| io::Error::from_raw_os_error(libc::EINVAL))
        }
        fn current_dir(&self) -> io::Result<PathBuf> {
            Ok(self.cwd.clone())
        }
        fn account_by_uid(&self, uid: u32) -> Option<Account> {
            self.accounts.iter().find(|a| a.uid == uid).cloned()
        }
        fn account_by_name(&self, name: &str) -> Option<Account> {
            self.accounts.iter().find(|a| a.name == name).cloned()
        }
        fn group(&self, gid: u32) -> Option<Group> {
            self.groups.get(&gid).cloned()
        }
        fn primary_members(&self, gid: u32) -> Vec<u32> {
            self.accounts
                .iter()
                .filter(|a| a.gid == gid)
                .map(|a| a.uid)
                .collect()
        }
    }

    fn message(result: Result<PathBuf>) -> String {
        match result {
            Err(error @ Error::VaultInsecure { .. }) => error.to_string(),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_private_vault_passes_and_comes_back_as_its_real_path() {
        let mut fake = Fake::new();
        fake.folder("/home/me/v", ME, 0o700)
            .file("/home/me/v/vault.db", ME, 0o600)
            .file("/home/me/v/vault.db-wal", ME, 0o600)
            .file("/home/me/v/vault.db-shm", ME, 0o600);
        assert_eq!(
            fake.check("v/./vault.db").unwrap(),
            Path::new("/home/me/v/vault.db")
        );
        assert_eq!(
            fake.check("/home/me/v/../v/vault.db").unwrap(),
            Path::new("/home/me/v/vault.db")
        );
    }

    #[test]
    fn a_vault_root_owns_is_read_by_other_users() {
        let mut fake = Fake::new();
        fake.folder("/srv", ROOT, 0o755)
            .folder("/srv/tokens", ROOT, 0o755)
            .file("/srv/tokens/vault.db", ROOT, 0o644)
            .file("/srv/tokens/vault.db-wal", ROOT, 0o644);
        assert!(fake.check("/srv/tokens/vault.db").is_ok());
        assert!(fake.check_as("/srv/tokens/vault.db", OTHER, None).is_ok());
    }

    #[test]
    fn a_file_owned_by_someone_else_is_refused() {
        let mut fake = Fake::new();
        fake.folder("/srv", ROOT, 0o755)
            .file("/srv/vault.db", OTHER, 0o600);
        assert_eq!(
            message(fake.check_as("/srv/vault.db", ROOT, None)),
            "/srv/vault.db is owned by other (uid 1001), not by root, this user or \
             TOKENS_VAULT_OWNER; fix it with: chown root /srv/vault.db"
        );
        // Unless that account is named as the vault's owner, by name or by uid.
        assert!(fake.check_as("/srv/vault.db", ROOT, Some("other")).is_ok());
        assert!(fake.check_as("/srv/vault.db", ROOT, Some("1001")).is_ok());
        assert!(fake.check_as("/srv/vault.db", ME, Some("other")).is_ok());
        // A uid with no account is shown as a number; the chown names the vault's owner.
        fake.file("/srv/vault.db", 4242, 0o600);
        assert_eq!(
            message(fake.check_as("/srv/vault.db", ME, Some("service"))),
            "/srv/vault.db is owned by uid 4242, not by root, this user or TOKENS_VAULT_OWNER; \
             fix it with: chown service /srv/vault.db"
        );
    }

    #[test]
    fn an_unknown_vault_owner_is_a_usage_error() {
        let fake = Fake::new();
        let error = fake.check_as("/tmp/x", ME, Some("nosuch")).unwrap_err();
        assert_eq!(error.exit_code(), 2);
        assert_eq!(
            error.to_string(),
            "TOKENS_VAULT_OWNER=nosuch names no user on this system; give a user name or a numeric uid"
        );
        // Empty means unset.
        assert_eq!(
            Owners::new(ME, Some(OsStr::new("")), &fake).unwrap(),
            Owners::new(ME, None, &fake).unwrap()
        );
    }

    #[test]
    fn a_writable_file_or_own_folder_is_refused_even_when_sticky() {
        let mut fake = Fake::new();
        fake.folder("/srv", ROOT, 0o755)
            .folder("/srv/v", ROOT, 0o755)
            .file("/srv/v/vault.db", ROOT, 0o666);
        assert_eq!(
            message(fake.check_as("/srv/v/vault.db", ROOT, None)),
            "/srv/v/vault.db can be written by other users; fix it with: chmod go-w /srv/v/vault.db"
        );
        fake.file("/srv/v/vault.db", ROOT, 0o600)
            .folder("/srv/v", ROOT, 0o777);
        assert_eq!(
            message(fake.check_as("/srv/v/vault.db", ROOT, None)),
            "/srv/v can be written by other users; fix it with: chmod go-w /srv/v"
        );
        fake.folder("/srv/v", ROOT, 0o1777);
        assert_eq!(
            message(fake.check_as("/srv/v/vault.db", ROOT, None)),
            "/srv/v can be written by other users, who could plant files beside the vault \
             (sticky is not enough for the vault's own folder); keep the vault in a folder of \
             its own: mkdir -m 700 /srv/v/tokens"
        );
        // Also for a vault still to be made there.
        assert!(message(fake.check("/tmp/vault.db")).starts_with("/tmp can be written"));
    }

    #[test]
    fn a_folder_above_must_be_owned_and_sticky_when_others_can_write_it() {
        let mut fake = Fake::new();
        fake.folder("/srv", ROOT, 0o777)
            .folder("/srv/v", ROOT, 0o700)
            .file("/srv/v/vault.db", ROOT, 0o600);
        assert_eq!(
            message(fake.check_as("/srv/v/vault.db", ROOT, None)),
            "/srv can be written by other users; fix it with: chmod go-w /srv (or chmod +t /srv \
             if others must keep adding files there)"
        );
        fake.folder("/srv", ROOT, 0o1777);
        assert!(fake.check_as("/srv/v/vault.db", ROOT, None).is_ok());
        fake.folder("/srv", OTHER, 0o755);
        assert_eq!(
            message(fake.check_as("/srv/v/vault.db", ROOT, None)),
            "/srv is owned by other (uid 1001), not by root, this user or TOKENS_VAULT_OWNER; \
             fix it with: chown root /srv"
        );
        // The nearest trouble to the root is named first.
        fake.add("/", Kind::Folder, ROOT, 100, 0o775); // group-writable by a shared group
        assert!(message(fake.check_as("/srv/v/vault.db", ROOT, None)).starts_with("/ can be"));
    }

    #[test]
    fn companions_are_checked_and_the_removable_ones_removed() {
        let mut fake = Fake::new();
        fake.folder("/home/me/v", ME, 0o700)
            .file("/home/me/v/vault.db", ME, 0o600)
            .file("/home/me/v/vault.db-wal", ME, 0o666);
        assert_eq!(
            message(fake.check("v/vault.db")),
            "/home/me/v/vault.db-wal can be written by other users; fix it with: chmod go-w \
             /home/me/v/vault.db-wal"
        );
        fake.file("/home/me/v/vault.db-wal", OTHER, 0o600);
        assert_eq!(
            message(fake.check("v/vault.db")),
            "/home/me/v/vault.db-wal is owned by other (uid 1001), not by root, this user or \
             TOKENS_VAULT_OWNER; fix it with: chown me /home/me/v/vault.db-wal"
        );
        fake.file("/home/me/v/vault.db-wal", ME, 0o600)
            .file("/home/me/v/vault.db-shm", ME, 0o646);
        assert_eq!(
            message(fake.check("v/vault.db")),
            "/home/me/v/vault.db-shm can be written by other users; fix it with: rm \
             /home/me/v/vault.db-shm (while no command has the vault open)"
        );
        fake.file("/home/me/v/vault.db-shm", ME, 0o600).file(
            "/home/me/v/vault.db-journal",
            OTHER,
            0o600,
        );
        assert_eq!(
            message(fake.check("v/vault.db")),
            "/home/me/v/vault.db-journal is owned by other (uid 1001), not by root, this user \
             or TOKENS_VAULT_OWNER; fix it with: rm /home/me/v/vault.db-journal (while no \
             command has the vault open)"
        );
        // Even beside a vault not made yet.
        fake.entries.remove(Path::new("/home/me/v/vault.db"));
        assert!(message(fake.check("v/vault.db")).contains("vault.db-journal is owned by other"));
        fake.link("/home/me/v/vault.db-journal", "/tmp/x");
        assert!(message(fake.check("v/vault.db")).contains("is a symbolic link"));
    }

    #[test]
    fn symbolic_links_are_resolved_and_their_targets_judged() {
        let mut fake = Fake::new();
        fake.folder("/srv", ROOT, 0o755)
            .folder("/srv/drop", ROOT, 0o777)
            .file("/srv/drop/vault.db", OTHER, 0o644)
            .folder("/home/me/v", ME, 0o700)
            .link("/home/me/v/vault.db", "../../../srv/drop/vault.db")
            .link("/home/me/link", "/srv/drop");
        let refused = "/srv/drop can be written by other users; fix it with: chmod go-w /srv/drop";
        assert_eq!(message(fake.check("v/vault.db")), refused);
        assert_eq!(message(fake.check("/home/me/link/vault.db")), refused);
        // A link into a safe place works, and the real path comes back.
        fake.folder("/home/me/real", ME, 0o700)
            .file("/home/me/real/vault.db", ME, 0o600)
            .link("/home/me/v/vault.db", "/home/me/real/vault.db")
            .link("/home/me/link", "real");
        assert_eq!(
            fake.check("v/vault.db").unwrap(),
            Path::new("/home/me/real/vault.db")
        );
        assert_eq!(
            fake.check("/home/me/link/vault.db").unwrap(),
            Path::new("/home/me/real/vault.db")
        );
        // A dangling link: the vault is to be made where it points.
        fake.link("/home/me/new.db", "real/new.db");
        assert_eq!(
            fake.check("new.db").unwrap(),
            Path::new("/home/me/real/new.db")
        );
        // A loop ends.
        fake.link("/home/me/a", "b").link("/home/me/b", "a");
        let error = fake.check("a/vault.db").unwrap_err();
        assert!(error.to_string().contains("symbolic links"), "{error}");
    }

    #[test]
    fn a_missing_vault_is_judged_by_the_folders_that_exist() {
        let mut fake = Fake::new();
        fake.folder("/srv", ROOT, 0o777);
        // Folders to be made below a writable one: the one that exists is a folder above.
        assert!(
            message(fake.check_as("/srv/new/deeper/vault.db", ROOT, None)).starts_with(
                "/srv can be written by other users; fix it with: chmod go-w /srv (or"
            )
        );
        // Below a sticky one they are fine (this command makes them 0700, its own).
        assert_eq!(
            fake.check("/tmp/new/deeper/vault.db").unwrap(),
            Path::new("/tmp/new/deeper/vault.db")
        );
        // In the existing folder itself: that is the vault's own folder.
        assert!(
            message(fake.check_as("/srv/vault.db", ROOT, None))
                .starts_with("/srv can be written by other users; fix it with: chmod go-w /srv")
        );
        // A file on the way is an error of its own.
        fake.file("/home/me/plain", ME, 0o600);
        assert!(!matches!(
            fake.check("/home/me/plain/vault.db"),
            Ok(_) | Err(Error::VaultInsecure { .. })
        ));
    }

    #[test]
    fn group_write_is_fine_only_for_the_owners_private_group() {
        let mut fake = Fake::new();
        fake.folder("/home/me", ME, 0o775)
            .folder("/home/me/v", ME, 0o770)
            .file("/home/me/v/vault.db", ME, 0o660);
        assert!(fake.check("v/vault.db").is_ok());
        // A group the owner shares with others.
        fake.add("/home/me/v/vault.db", Kind::File, ME, 100, 0o660);
        assert_eq!(
            message(fake.check("v/vault.db")),
            "/home/me/v/vault.db can be written by other users; fix it with: chmod go-w \
             /home/me/v/vault.db"
        );
        // The owner's primary group, but with another member listed.
        fake.add("/home/me/v/vault.db", Kind::File, ME, ME, 0o660);
        fake.groups.insert(
            ME,
            Group {
                members: vec!["me".into(), "other".into()],
            },
        );
        // The shared group makes the group-writable folders above unsafe too; the nearest
        // the root is named first.
        assert_eq!(
            message(fake.check("v/vault.db")),
            "/home/me can be written by other users; fix it with: chmod go-w /home/me (or chmod +t \
             /home/me if others must keep adding files there)"
        );
        // Only the owner listed: fine.
        fake.groups.insert(
            ME,
            Group {
                members: vec!["me".into()],
            },
        );
        assert!(fake.check("v/vault.db").is_ok());
        // Another account has it as its primary group.
        fake.accounts.push(Account {
            uid: 1002,
            name: "lodger".into(),
            gid: ME,
        });
        assert_eq!(
            message(fake.check("v/vault.db")),
            "/home/me can be written by other users; fix it with: chmod go-w /home/me (or chmod +t \
             /home/me if others must keep adding files there)"
        );
        // Another user's private group is not this owner's.
        fake.accounts.pop();
        fake.add("/home/me/v/vault.db", Kind::File, ME, OTHER, 0o660);
        assert_eq!(
            message(fake.check("v/vault.db")),
            "/home/me/v/vault.db can be written by other users; fix it with: chmod go-w \
             /home/me/v/vault.db"
        );
        // World-write has no such exception.
        fake.add("/home/me/v/vault.db", Kind::File, ME, ME, 0o662);
        assert_eq!(
            message(fake.check("v/vault.db")),
            "/home/me/v/vault.db can be written by other users; fix it with: chmod go-w \
             /home/me/v/vault.db"
        );
    }

    #[test]
    fn every_link_on_the_way_is_judged_by_its_owner_and_its_folder() {
        let mut fake = Fake::new();
        fake.folder("/home/me/real", ME, 0o700)
            .file("/home/me/real/vault.db", ME, 0o600)
            .folder("/srv", ROOT, 0o755)
            .folder("/srv/drop", ROOT, 0o777)
            .folder("/srv/theirs", OTHER, 0o755)
            .folder("/srv/open", ROOT, 0o777)
            .folder("/srv/open/safe", ROOT, 0o755);
        let real = Path::new("/home/me/real/vault.db");
        // Another user's link in a sticky folder: that user chooses the file.
        fake.link_owned("/tmp/v.db", "/home/me/real/vault.db", OTHER);
        assert_eq!(
            message(fake.check("/tmp/v.db")),
            "/tmp/v.db is a symbolic link owned by other (uid 1001), not by root, this user or \
             TOKENS_VAULT_OWNER, who could point it at any file; give the vault's real path \
             instead, or remove the link: rm /tmp/v.db"
        );
        // Also a link to a folder on the way, and for root.
        fake.link_owned("/tmp/dir", "/home/me/real", OTHER);
        assert!(
            message(fake.check_as("/tmp/dir/vault.db", ROOT, None))
                .starts_with("/tmp/dir is a symbolic link owned by other (uid 1001)")
        );
        // The sticky folder's owner's link, and the caller's own, are fine.
        fake.link_owned("/tmp/v.db", "/home/me/real/vault.db", ROOT);
        assert_eq!(fake.check("/tmp/v.db").unwrap(), real);
        fake.link_owned("/tmp/v.db", "/home/me/real/vault.db", ME);
        assert_eq!(fake.check("/tmp/v.db").unwrap(), real);
        // The vault owner's link in a sticky folder it does not own is not (for someone else).
        fake.link_owned("/tmp/v.db", "/home/me/real/vault.db", SERVICE);
        assert_eq!(
            message(fake.check_as("/tmp/v.db", ME, Some("service"))),
            "/tmp can be written by other users, who could replace the symbolic link on the \
             vault's path in it; give the vault's real path instead, or fix it with: chmod go-w /tmp"
        );
        // Root's link in a folder others write that is not sticky.
        fake.link("/srv/drop/v.db", "/home/me/real/vault.db");
        assert!(message(fake.check("/srv/drop/v.db")).starts_with(
            "/srv/drop can be written by other users, who could replace the symbolic link"
        ));
        // Root's link in another user's folder, or below a folder others write.
        fake.link("/srv/theirs/v.db", "/home/me/real/vault.db");
        assert!(
            message(fake.check("/srv/theirs/v.db"))
                .starts_with("/srv/theirs is owned by other (uid 1001)")
        );
        fake.link("/srv/open/safe/v.db", "/home/me/real/vault.db");
        assert!(
            message(fake.check("/srv/open/safe/v.db"))
                .starts_with("/srv/open can be written by other users; fix it with: chmod go-w")
        );
    }

    #[test]
    fn an_acl_is_seen_through_a_folder_opened_only_to_walk_it() {
        use std::os::unix::fs::OpenOptionsExt;
        let dir = std::env::temp_dir().join(format!("tokens-acl-{}", std::process::id()));
        std::fs::create_dir(&dir).unwrap();
        let open = |dir: &Path| {
            std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_PATH | libc::O_DIRECTORY)
                .open(dir)
                .unwrap()
        };
        assert!(!fd_has_access_acl(&open(&dir)));
        // An access ACL giving uid 4242 write: owner, named user, group, mask, others.
        let mut acl: Vec<u8> = 2u32.to_le_bytes().to_vec();
        for (tag, permissions, id) in [
            (0x01u16, 7u16, u32::MAX),
            (0x02, 6, 4242),
            (0x04, 5, u32::MAX),
            (0x10, 7, u32::MAX),
            (0x20, 5, u32::MAX),
        ] {
            acl.extend(tag.to_le_bytes());
            acl.extend(permissions.to_le_bytes());
            acl.extend(id.to_le_bytes());
        }
        let name = CString::new(dir.as_os_str().as_bytes()).unwrap();
        // SAFETY: valid C strings and a buffer of the given length.
        let set = unsafe {
            libc::setxattr(
                name.as_ptr(),
                c"system.posix_acl_access".as_ptr(),
                acl.as_ptr().cast(),
                acl.len(),
                0,
            )
        };
        if set == 0 {
            assert!(fd_has_access_acl(&open(&dir)));
        } else {
            eprintln!("skipped: this file system keeps no ACLs");
        }
        std::fs::remove_dir(&dir).unwrap();
    }
}
