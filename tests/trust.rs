//! A vault no one else can forge (SPEC §8): the real path (symlinks resolved), the vault file,
//! its `-wal`, `-shm` and `-journal` files and its folder must be owned by this user, root or
//! `TOKENS_VAULT_OWNER` and writable by no one else; every folder above must be too, or sticky.
//!
//! The attacker is real: `nobody`, through `setpriv` (util-linux), plants a vault of its own
//! holding a token it made, and root's commands must refuse to read it. These tests need root
//! (CI runs as root) and say they were skipped otherwise.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use common::*;

/// `tokens ARGS` as this user (root) against `vault`, with `TOKENS_VAULT_OWNER` unset.
fn tokens_at(sandbox: &Sandbox, vault: &Path, args: &[&str], stdin: &str) -> Output {
    sandbox
        .cmd(args)
        .env("TOKENS_VAULT", vault)
        .env_remove("TOKENS_VAULT_OWNER")
        .write_stdin(stdin.to_owned())
        .output()
        .unwrap()
}

/// A shell script run as `nobody`; asserts it succeeded.
fn as_nobody(script: &str) {
    let output = std::process::Command::new("setpriv")
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"])
        .args(["sh", "-ec", script])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .output()
        .expect("setpriv (util-linux) runs");
    assert!(output.status.success(), "{script}: {}", stderr(&output));
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A folder in the sandbox, owned by root, with `mode`.
fn folder(base: &Path, name: &str, mode: u32) -> PathBuf {
    let path = base.join(name);
    std::fs::create_dir(&path).unwrap();
    chmod(&path, mode);
    path
}

/// The sandbox's real folder, opened to others (0755) so `nobody` can reach inside it.
fn base(sandbox: &Sandbox) -> PathBuf {
    chmod(sandbox.dir.path(), 0o755);
    std::fs::canonicalize(sandbox.dir.path()).unwrap()
}

/// `nobody`'s own vault, in a folder of its own, holding a token it made: what it plants.
fn forged_vault(nobody: &Nobody, base: &Path) -> (PathBuf, Issued) {
    let home = base.join("nobody-home");
    std::fs::create_dir(&home).unwrap();
    let (uid, gid) = nobody_ids();
    std::os::unix::fs::chown(&home, Some(uid), Some(gid)).unwrap();
    chmod(&home, 0o755);
    let vault = home.join("vault.db");
    let output = nobody.run(&vault, &["create", "forged", "--no-secret-key"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    (vault, parse_issued(&output))
}

fn owned_by_nobody(path: &Path, fix: &str) -> String {
    format!(
        "tokens: {} is owned by nobody (uid {}), not by root, this user or TOKENS_VAULT_OWNER; \
         fix it with: {fix}\n",
        path.display(),
        nobody_ids().0
    )
}

fn writable(path: &Path) -> String {
    format!(
        "tokens: {0} can be written by other users; fix it with: chmod go-w {0}\n",
        path.display()
    )
}

fn writable_above(path: &Path) -> String {
    format!(
        "tokens: {0} can be written by other users; fix it with: chmod go-w {0} (or chmod +t {0} \
         if others must keep adding files there)\n",
        path.display()
    )
}

/// Root's `verify` of `token` and a few other commands at `vault`: each exit 1 with `message`,
/// printing nothing.
fn assert_refused(sandbox: &Sandbox, vault: &Path, token: &str, message: &str) {
    let runs: [(&[&str], String); 4] = [
        (&["verify"], format!("{token}\n")),
        (&["verify", "--batch"], format!("{token}\n")),
        (&["list"], String::new()),
        (&["create", "root-made"], String::new()),
    ];
    for (args, stdin) in runs {
        let output = tokens_at(sandbox, vault, args, &stdin);
        assert_eq!(code(&output), 1, "{args:?}: {}", stderr(&output));
        assert_eq!(stderr(&output), message, "{args:?}");
        assert_eq!(stdout(&output), "", "{args:?}");
    }
}

#[test]
fn a_vault_file_another_user_owns_is_refused() {
    let Some(nobody) = Nobody::new() else { return };
    let sandbox = Sandbox::sqlite();
    let base = base(&sandbox);
    let (planted, forged) = forged_vault(&nobody, &base);
    // Root's folder, as an admin keeps it; the file in it is nobody's.
    let srv = folder(&base, "srv", 0o755);
    let vault = srv.join("vault.db");
    std::fs::rename(&planted, &vault).unwrap();
    let bytes = std::fs::read(&vault).unwrap();

    let message = owned_by_nobody(&vault, &format!("chown root {}", vault.display()));
    assert_refused(&sandbox, &vault, &forged.token, &message);
    assert_eq!(listing(&srv), ["vault.db"], "files appeared");
    assert_eq!(std::fs::read(&vault).unwrap(), bytes, "the vault changed");
}

#[test]
fn a_symlink_into_a_folder_others_can_write_is_refused() {
    let Some(nobody) = Nobody::new() else { return };
    let sandbox = Sandbox::sqlite();
    let base = base(&sandbox);
    let (planted, forged) = forged_vault(&nobody, &base);
    let drop = folder(&base, "drop", 0o777);
    as_nobody(&format!(
        "cp {} {}/vault.db",
        planted.display(),
        drop.display()
    ));
    let bytes = std::fs::read(drop.join("vault.db")).unwrap();
    // Root's own folder, with the vault (or a folder on its way) a link into `drop`.
    let own = folder(&base, "root", 0o700);
    std::os::unix::fs::symlink("../drop/vault.db", own.join("vault.db")).unwrap();
    std::os::unix::fs::symlink(&drop, own.join("linked")).unwrap();

    for vault in [own.join("vault.db"), own.join("linked/vault.db")] {
        assert_refused(&sandbox, &vault, &forged.token, &writable(&drop));
    }
    assert_eq!(listing(&drop), ["vault.db"], "files appeared");
    assert_eq!(std::fs::read(drop.join("vault.db")).unwrap(), bytes);
    assert_eq!(listing(&own), ["linked", "vault.db"]);
}

#[test]
fn another_users_link_in_a_sticky_folder_is_refused_and_roots_own_works() {
    let Some(_nobody) = Nobody::new() else { return };
    let sandbox = Sandbox::sqlite();
    let base = base(&sandbox);
    // Root's vault, and a stale backup of it in which a token revoked since still verifies.
    let own = folder(&base, "root", 0o711);
    let vault = own.join("vault.db");
    let output = tokens_at(&sandbox, &vault, &["create", "x", "--no-secret-key"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let token = parse_issued(&output).token;
    let backup = own.join("backup.db");
    std::fs::copy(&vault, &backup).unwrap();
    let output = tokens_at(&sandbox, &vault, &["revoke", "x", "--yes"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let stale = tokens_at(&sandbox, &backup, &["verify"], &format!("{token}\n"));
    assert_eq!(code(&stale), 0, "the backup should still take the token");

    // nobody's link, in a world-writable sticky folder (like /tmp), at root's backup.
    let sticky = folder(&base, "sticky", 0o1777);
    let link = sticky.join("vault.db");
    as_nobody(&format!("ln -s {} {}", backup.display(), link.display()));
    let message = format!(
        "tokens: {0} is a symbolic link owned by nobody (uid {1}), not by root, this user or \
         TOKENS_VAULT_OWNER, who could point it at any file; give the vault's real path instead, \
         or remove the link: rm {0}\n",
        link.display(),
        nobody_ids().0
    );
    assert_refused(&sandbox, &link, &token, &message);
    // Also as a folder on the way.
    let dir_link = sticky.join("dir");
    as_nobody(&format!("ln -s {} {}", own.display(), dir_link.display()));
    let output = tokens_at(&sandbox, &dir_link.join("backup.db"), &["list"], "");
    assert_eq!(code(&output), 1);
    assert!(
        stderr(&output).contains("is a symbolic link owned by nobody"),
        "{}",
        stderr(&output)
    );
    assert_eq!(listing(&own), ["backup.db", "vault.db"], "files appeared");

    // Root's own link in the same folder is followed: the live vault answers revoked.
    let roots = sticky.join("root.db");
    std::os::unix::fs::symlink(&vault, &roots).unwrap();
    let output = tokens_at(&sandbox, &roots, &["verify"], &format!("{token}\n"));
    assert_eq!(code(&output), 5, "{}", stderr(&output));
}

/// Root makes a vault in `/tmp`-like folder again and again while `nobody` keeps putting its own
/// folder, or a link to one, where root's new folder goes: root either makes the folder itself
/// and the vault in it, or refuses; it never writes a file into a folder `nobody` made.
#[test]
fn a_vault_is_never_made_in_a_folder_another_user_swaps_in() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let Some(_nobody) = Nobody::new() else { return };
    let sandbox = Sandbox::sqlite();
    let base = base(&sandbox);
    let sticky = folder(&base, "sticky", 0o1777);
    let decoy = folder(&base, "decoy", 0o777);
    let (uid, gid) = nobody_ids();
    std::os::unix::fs::chown(&decoy, Some(uid), Some(gid)).unwrap();
    let contested = sticky.join("tokens");
    let vault = contested.join("vault.db");

    let stop = Arc::new(AtomicBool::new(false));
    let toggler = {
        let (stop, contested, decoy) = (stop.clone(), contested.clone(), decoy.clone());
        std::thread::spawn(move || {
            // This thread alone acts on files as nobody: the file-system ids are per thread, and
            // leaving uid 0 drops root's powers over files.
            // SAFETY: plain system calls that change this thread's credentials.
            unsafe {
                libc::setfsgid(gid);
                libc::setfsuid(uid);
            }
            let (mut swaps, mut written) = (0, Vec::new());
            while !stop.load(Ordering::Relaxed) {
                if std::fs::create_dir(&contested).is_ok() {
                    swaps += 1;
                    chmod(&contested, 0o777);
                    std::thread::yield_now();
                    if std::fs::remove_dir(&contested).is_err() {
                        // Not empty: root wrote into nobody's folder.
                        written.extend(listing(&contested));
                        let _ = std::fs::remove_dir_all(&contested);
                    }
                }
                if std::os::unix::fs::symlink(&decoy, &contested).is_ok() {
                    swaps += 1;
                    std::thread::yield_now();
                    let _ = std::fs::remove_file(&contested);
                }
                std::thread::yield_now();
            }
            (swaps, written)
        })
    };

    let (mut made, mut refused) = (0, 0);
    let deadline = Instant::now() + Duration::from_millis(2500);
    while Instant::now() < deadline {
        let output = tokens_at(&sandbox, &vault, &["create", "x", "--no-secret-key"], "");
        match code(&output) {
            0 => {
                made += 1;
                let meta = std::fs::symlink_metadata(&contested).unwrap();
                assert!(meta.is_dir(), "the vault was made through a link");
                assert_eq!(std::os::unix::fs::MetadataExt::uid(&meta), 0);
                std::fs::remove_dir_all(&contested).unwrap();
            }
            1 => {
                refused += 1;
                assert!(
                    stderr(&output).starts_with("tokens: "),
                    "{}",
                    stderr(&output)
                );
            }
            other => panic!("exit {other}: {}", stderr(&output)),
        }
    }
    stop.store(true, Ordering::Relaxed);
    let (swaps, written) = toggler.join().unwrap();
    eprintln!("{made} vaults made, {refused} refused, {swaps} swaps by nobody");
    assert!(
        written.is_empty(),
        "root wrote into nobody's folder: {written:?}"
    );
    assert!(
        listing(&decoy).is_empty(),
        "root wrote through nobody's link: {:?}",
        listing(&decoy)
    );
    assert!(swaps > 0 && refused > 0, "no race was run");
}

#[test]
fn a_vault_is_made_below_folders_a_user_may_only_pass_through() {
    let Some(nobody) = Nobody::new() else { return };
    let sandbox = Sandbox::sqlite();
    let base = base(&sandbox);
    // Root's folder that others may cross but not list, then nobody's own: mkdir -p works here,
    // and so must the walk that makes the vault's folders.
    let pass = folder(&base, "pass", 0o711);
    let home = pass.join("home");
    std::fs::create_dir(&home).unwrap();
    let (uid, gid) = nobody_ids();
    std::os::unix::fs::chown(&home, Some(uid), Some(gid)).unwrap();
    chmod(&home, 0o700);
    let vault = home.join("new/deeper/vault.db");
    let output = nobody.run(&vault, &["create", "x", "--no-secret-key"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(mode(&home.join("new")), 0o700);
    assert_eq!(mode(&home.join("new/deeper")), 0o700);
    assert_eq!(mode(&vault), 0o600);
}

#[test]
fn a_folder_above_others_can_write_is_refused() {
    let Some(nobody) = Nobody::new() else { return };
    let sandbox = Sandbox::sqlite();
    let base = base(&sandbox);
    let (planted, forged) = forged_vault(&nobody, &base);
    // Root's vault in a folder of its own, inside a folder everyone may write.
    let shared = folder(&base, "shared", 0o755);
    let team = folder(&shared, "team", 0o700);
    let vault = team.join("vault.db");
    let real = tokens_at(&sandbox, &vault, &["create", "real", "--no-secret-key"], "");
    assert_eq!(code(&real), 0, "{}", stderr(&real));
    let real = parse_issued(&real);
    let bytes = std::fs::read(&vault).unwrap();
    chmod(&shared, 0o777);
    // `nobody` cannot touch root's folder, but can rename it and put its own in its place.
    as_nobody(&format!(
        "cd {}; mv team old; mkdir team; cp {} team/vault.db",
        shared.display(),
        planted.display()
    ));

    assert_refused(&sandbox, &vault, &forged.token, &writable_above(&shared));
    // Sticky, `shared` would have kept root's folder in place; now it still names the impostor.
    chmod(&shared, 0o1777);
    let impostor = shared.join("team");
    assert_refused(
        &sandbox,
        &vault,
        &forged.token,
        &owned_by_nobody(&impostor, &format!("chown root {}", impostor.display())),
    );
    assert_eq!(listing(&impostor), ["vault.db"], "files appeared");
    assert_eq!(std::fs::read(shared.join("old/vault.db")).unwrap(), bytes);
    // Root's own vault, under a sticky folder above, works.
    let moved = shared.join("old/vault.db");
    let output = tokens_at(&sandbox, &moved, &["verify"], &format!("{}\n", real.token));
    assert_eq!(code(&output), 0, "{}", stderr(&output));
}

/// Root's vault (file 0644 in a 0755 folder, as shared with CI users) with a reader holding its
/// `-wal` and `-shm` open, so they stay; a change waits in the WAL.
fn vault_with_wal(sandbox: &Sandbox, base: &Path) -> (PathBuf, Issued, rusqlite::Connection) {
    let srv = folder(base, "srv", 0o755);
    let vault = srv.join("vault.db");
    let output = tokens_at(sandbox, &vault, &["create", "real", "--no-secret-key"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let real = parse_issued(&output);
    chmod(&vault, 0o644);
    let holder = rusqlite::Connection::open(&vault).unwrap();
    let _: i64 = holder
        .query_row("SELECT count(*) FROM tokens", [], |row| row.get(0))
        .unwrap();
    let output = tokens_at(sandbox, &vault, &["create", "other"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(listing(&srv), ["vault.db", "vault.db-shm", "vault.db-wal"]);
    (vault, real, holder)
}

fn beside(vault: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}{suffix}", vault.display()))
}

#[test]
fn wal_and_shm_files_others_can_write_are_refused() {
    let Some(_nobody) = Nobody::new() else { return };
    for (suffix, fix) in [
        ("-wal", "chmod go-w {}"),
        ("-shm", "rm {} (while no command has the vault open)"),
    ] {
        let sandbox = Sandbox::sqlite();
        let base = base(&sandbox);
        let (vault, real, holder) = vault_with_wal(&sandbox, &base);
        let companion = beside(&vault, suffix);
        chmod(&companion, 0o666);
        // `nobody` can now write into it (frames or a wal-index of its own making).
        as_nobody(&format!(
            "printf 'forged' | dd of={} bs=1 seek=64 conv=notrunc 2>/dev/null",
            companion.display()
        ));
        let bytes = std::fs::read(&vault).unwrap();
        let message = format!(
            "tokens: {} can be written by other users; fix it with: {}\n",
            companion.display(),
            fix.replace("{}", &companion.display().to_string())
        );
        assert_refused(&sandbox, &vault, &real.token, &message);
        assert_eq!(
            std::fs::read(&vault).unwrap(),
            bytes,
            "{suffix}: the vault changed"
        );
        drop(holder);
    }
}

#[test]
fn wal_and_journal_files_another_user_planted_are_refused() {
    let Some(nobody) = Nobody::new() else { return };
    for suffix in ["-wal", "-journal"] {
        let sandbox = Sandbox::sqlite();
        let base = base(&sandbox);
        let (planted, _) = forged_vault(&nobody, &base);
        let srv = folder(&base, "srv", 0o755);
        let vault = srv.join("vault.db");
        let output = tokens_at(&sandbox, &vault, &["create", "real", "--no-secret-key"], "");
        assert_eq!(code(&output), 0, "{}", stderr(&output));
        let real = parse_issued(&output);
        // The folder was writable for a while (then fixed); `nobody` left a file beside the vault.
        chmod(&srv, 0o777);
        let companion = beside(&vault, suffix);
        as_nobody(&format!("cp {} {}", planted.display(), companion.display()));
        chmod(&srv, 0o755);
        let bytes = std::fs::read(&vault).unwrap();
        let fix = if suffix == "-wal" {
            format!("chown root {}", companion.display())
        } else {
            format!(
                "rm {} (while no command has the vault open)",
                companion.display()
            )
        };
        assert_refused(
            &sandbox,
            &vault,
            &real.token,
            &owned_by_nobody(&companion, &fix),
        );
        assert_eq!(
            std::fs::read(&vault).unwrap(),
            bytes,
            "{suffix}: the vault changed"
        );
        assert_eq!(
            listing(&srv),
            ["vault.db".to_owned(), format!("vault.db{suffix}")]
        );
    }
}

#[test]
fn a_refused_location_gets_no_file_or_folder() {
    let Some(_nobody) = Nobody::new() else { return };
    let sandbox = Sandbox::sqlite();
    let base = base(&sandbox);
    let drop = folder(&base, "drop", 0o777);
    let sticky = folder(&base, "sticky", 0o1777);
    let own_folder_sticky = format!(
        "tokens: {0} can be written by other users, who could plant files beside the vault \
         (sticky is not enough for the vault's own folder); keep the vault in a folder of its \
         own: mkdir -m 700 {0}/tokens\n",
        sticky.display()
    );
    for (vault, message) in [
        (drop.join("vault.db"), writable(&drop)),
        (drop.join("new/deeper/vault.db"), writable_above(&drop)),
        (sticky.join("vault.db"), own_folder_sticky),
    ] {
        let output = tokens_at(&sandbox, &vault, &["create", "x"], "");
        assert_eq!(code(&output), 1, "{}", stderr(&output));
        assert_eq!(stderr(&output), message);
        assert_eq!(stdout(&output), "");
    }
    assert!(listing(&drop).is_empty(), "{:?}", listing(&drop));
    assert!(listing(&sticky).is_empty(), "{:?}", listing(&sticky));
    // In a folder of its own below the sticky one (as in /tmp), the vault is made and used.
    let vault = sticky.join("tokens/vault.db");
    let output = tokens_at(&sandbox, &vault, &["create", "x", "--no-secret-key"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(mode(&sticky.join("tokens")), 0o700);
    let token = parse_issued(&output).token;
    let output = tokens_at(&sandbox, &vault, &["verify"], &format!("{token}\n"));
    assert_eq!(code(&output), 0, "{}", stderr(&output));
}

#[test]
fn a_symlinked_vault_whose_real_place_is_safe_works() {
    let sandbox = Sandbox::sqlite();
    let base = std::fs::canonicalize(sandbox.dir.path()).unwrap();
    let real = folder(&base, "real", 0o700);
    // A link made before the vault: the first command makes the vault where it points.
    let link = base.join("link.db");
    std::os::unix::fs::symlink("real/vault.db", &link).unwrap();
    let output = tokens_at(&sandbox, &link, &["create", "x", "--no-secret-key"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let token = parse_issued(&output).token;
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(listing(&real), ["vault.db"]);
    assert_eq!(mode(&real.join("vault.db")), 0o600);
    std::os::unix::fs::symlink(&real, base.join("linked")).unwrap();
    for vault in [link.clone(), base.join("linked/vault.db")] {
        let output = tokens_at(&sandbox, &vault, &["verify"], &format!("{token}\n"));
        assert_eq!(code(&output), 0, "{}", stderr(&output));
    }
    let output = tokens_at(&sandbox, &link, &["revoke", "x", "--yes"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let output = tokens_at(&sandbox, &link, &["verify"], &format!("{token}\n"));
    assert_eq!(code(&output), 5, "{}", stderr(&output));
    // A message about the vault names its real file.
    std::fs::write(real.join("vault.db"), "not a vault, just text\n").unwrap();
    let output = tokens_at(&sandbox, &link, &["list"], "");
    assert_eq!(code(&output), 1);
    assert!(
        stderr(&output).starts_with(&format!(
            "tokens: {} is not a tokens vault",
            real.join("vault.db").display()
        )),
        "{}",
        stderr(&output)
    );
}

#[test]
fn the_account_tokens_vault_owner_names_may_own_the_vault() {
    let Some(nobody) = Nobody::new() else { return };
    let sandbox = Sandbox::sqlite();
    let base = base(&sandbox);
    let (vault, issued) = forged_vault(&nobody, &base);
    let home = vault.parent().unwrap();
    // Root trusts it only when told whose it is.
    let message = owned_by_nobody(home, &format!("chown root {}", home.display()));
    assert_refused(&sandbox, &vault, &issued.token, &message);
    let verify_as_root = |owner: &str| {
        sandbox
            .cmd(&["verify"])
            .env("TOKENS_VAULT", &vault)
            .env("TOKENS_VAULT_OWNER", owner)
            .write_stdin(format!("{}\n", issued.token))
            .output()
            .unwrap()
    };
    for owner in ["nobody", &nobody_ids().0.to_string()] {
        let output = verify_as_root(owner);
        assert_eq!(code(&output), 0, "{owner}: {}", stderr(&output));
    }
    // Root may change it too; nobody's vault stays nobody's to use.
    let output = sandbox
        .cmd(&["revoke", "forged", "--yes"])
        .env("TOKENS_VAULT", &vault)
        .env("TOKENS_VAULT_OWNER", "nobody")
        .output()
        .unwrap();
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let output = nobody.run(&vault, &["verify"], &format!("{}\n", issued.token));
    assert_eq!(code(&output), 5, "{}", stderr(&output));
    let output = nobody.run(&vault, &["create", "after"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    // A name no account has is a usage error.
    let output = verify_as_root("no-such-user-here");
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert_eq!(
        stderr(&output),
        "tokens: TOKENS_VAULT_OWNER=no-such-user-here names no user on this system; give a user \
         name or a numeric uid\n"
    );
}

/// A user of its own with a private group (as `useradd` makes on umask 002 systems), removed
/// when dropped.
struct TempUser {
    name: String,
}

impl TempUser {
    fn new() -> Option<TempUser> {
        let name = format!("tktrust{}", std::process::id());
        let output = std::process::Command::new("useradd")
            .args([
                "--user-group",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
            ])
            .arg(&name)
            .output();
        match output {
            Ok(output) if output.status.success() => Some(TempUser { name }),
            Ok(output) => {
                skip(&format!("useradd failed: {}", stderr(&output).trim()));
                None
            }
            Err(error) => {
                skip(&format!("useradd does not run: {error}"));
                None
            }
        }
    }

    /// `tokens ARGS` as this user, with umask 002.
    fn tokens(&self, nobody: &Nobody, vault: &Path, args: &[&str]) -> Output {
        std::process::Command::new("setpriv")
            .args([
                &format!("--reuid={}", self.name),
                &format!("--regid={}", self.name),
                "--init-groups",
                "--",
                "sh",
                "-c",
                "umask 002; exec \"$@\"",
                "sh",
            ])
            .arg(nobody.bin())
            .args(args)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", "/nonexistent")
            .env("TOKENS_VAULT", vault)
            .output()
            .unwrap()
    }
}

impl Drop for TempUser {
    fn drop(&mut self) {
        let _ = std::process::Command::new("userdel")
            .arg(&self.name)
            .output();
        let _ = std::process::Command::new("groupdel")
            .arg(&self.name)
            .output();
    }
}

#[test]
fn group_write_is_fine_for_the_owners_private_group_only() {
    let Some(nobody) = Nobody::new() else { return };
    let Some(user) = TempUser::new() else { return };
    let sandbox = Sandbox::sqlite();
    let base = base(&sandbox);
    let team = folder(&base, "team", 0o775);
    let status = std::process::Command::new("chown")
        .arg(format!("{0}:{0}", user.name))
        .arg(&team)
        .status()
        .unwrap();
    assert!(status.success());
    let vault = team.join("vault.db");
    let output = user.tokens(&nobody, &vault, &["create", "mine", "--no-secret-key"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let token = parse_issued(&output).token;
    // As on a umask 002 system: the folder and the file writable by the user's own group.
    chmod(&vault, 0o664);
    let output = user.tokens(&nobody, &vault, &["create", "more", "--no-secret-key"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let output = sandbox
        .cmd(&["verify"])
        .env("TOKENS_VAULT", &vault)
        .env("TOKENS_VAULT_OWNER", &user.name)
        .write_stdin(format!("{token}\n"))
        .output()
        .unwrap();
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    // The same folder with a group other users are in (nobody's) is theirs to write too.
    let status = std::process::Command::new("chgrp")
        .args(["nogroup"])
        .arg(&team)
        .status()
        .unwrap();
    assert!(status.success());
    let output = user.tokens(&nobody, &vault, &["list"]);
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    assert_eq!(stderr(&output), writable(&team));
}

/// A process that may only read the vault holds SQLite's write lock byte in the `-shm` file
/// (a read lock, which read access allows): `revoke` waits its 10 s, then says so in one line.
#[test]
fn a_reader_holding_the_lock_makes_revoke_fail_with_a_clear_message() {
    let sandbox = Sandbox::sqlite();
    let issued = sandbox.create("x", &["--no-secret-key"]);
    // A reader keeps the WAL files in place.
    let holder = sandbox.db();
    let _: i64 = holder
        .query_row("SELECT count(*) FROM tokens", [], |row| row.get(0))
        .unwrap();
    let shm = std::fs::File::open(sandbox.path("vault.db-shm")).unwrap();
    // WAL_WRITE_LOCK: the first of SQLite's lock bytes in the -shm file (offset 120).
    // SAFETY: `flock` is plain data; zero is valid for every field (l_pid must be 0 for OFD locks).
    let mut lock: libc::flock = unsafe { std::mem::zeroed() };
    lock.l_type = libc::F_RDLCK as libc::c_short;
    lock.l_whence = libc::SEEK_SET as libc::c_short;
    lock.l_start = 120;
    lock.l_len = 1;
    use std::os::fd::AsRawFd;
    // SAFETY: the descriptor is open for the life of `shm`; `lock` is a valid `flock`.
    assert_eq!(
        unsafe { libc::fcntl(shm.as_raw_fd(), libc::F_OFD_SETLK, &lock) },
        0
    );

    let started = Instant::now();
    let output = sandbox.run(&["revoke", "x", "--yes"], "");
    let waited = started.elapsed();
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    assert_eq!(
        stderr(&output),
        format!(
            "tokens: {} stayed locked by another process (possibly one that only reads the \
             vault) for too long; try again, and if a team shares this vault, move it to \
             PostgreSQL\n",
            sandbox.vault.display()
        )
    );
    assert_eq!(stdout(&output), "");
    assert!(waited >= Duration::from_secs(9), "gave up after {waited:?}");
    eprintln!("revoke gave up after {waited:?} (the busy timeout)");

    drop(shm);
    drop(holder);
    let revoked: Option<i64> = sandbox.query("SELECT revoked_at FROM tokens");
    assert_eq!(revoked, None, "the vault changed");
    assert_eq!(sandbox.verify(&issued.token, &[]).0, 0);
}

/// Gives `nobody` read and write on `path` through a POSIX access ACL (the attribute `setfacl`
/// writes: version 2, then tag, permissions and id for each entry), leaving the mode bits alone
/// but for the group bits, which become the ACL's mask.
fn acl_lets_nobody_write(path: &Path) {
    let (uid, _) = nobody_ids();
    let mut entries: Vec<u8> = 2u32.to_le_bytes().to_vec();
    let any = u32::MAX;
    for (tag, permissions, id) in [
        (0x01u16, 7u16, any), // the owner
        (0x02, 6, uid),       // nobody: read and write
        (0x04, 5, any),       // the owning group
        (0x10, 7, any),       // the mask
        (0x20, 5, any),       // others
    ] {
        entries.extend(tag.to_le_bytes());
        entries.extend(permissions.to_le_bytes());
        entries.extend(id.to_le_bytes());
    }
    let name = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: valid C strings and a buffer of the given length.
    let set = unsafe {
        libc::setxattr(
            name.as_ptr(),
            c"system.posix_acl_access".as_ptr(),
            entries.as_ptr().cast(),
            entries.len(),
            0,
        )
    };
    assert_eq!(set, 0, "setxattr: {}", std::io::Error::last_os_error());
}

#[test]
fn a_vault_an_acl_lets_another_user_write_is_refused() {
    let Some(nobody) = Nobody::new() else { return };
    let sandbox = Sandbox::sqlite();
    let base = base(&sandbox);
    let own = folder(&base, "vault", 0o755);
    let vault = own.join("vault.db");
    let issued = {
        let output = tokens_at(&sandbox, &vault, &["create", "root-token"], "");
        assert_eq!(code(&output), 0, "{}", stderr(&output));
        parse_issued(&output)
    };
    // An ACL on the vault file: its mode still reads as private to root's group.
    acl_lets_nobody_write(&vault);
    let output = nobody.run(&vault, &["list"], "");
    assert_eq!(
        code(&output),
        1,
        "nobody may write it, but tokens stops it reading it too"
    );
    let message = format!(
        "tokens: {0} has an access control list (ACL), which may let other users write it; fix it \
         with: setfacl -b {0}\n",
        vault.display()
    );
    assert_refused(&sandbox, &vault, &issued.token, &message);

    // The same on the vault's folder, with the file's ACL gone.
    let name = std::ffi::CString::new(vault.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: valid C strings.
    let removed = unsafe { libc::removexattr(name.as_ptr(), c"system.posix_acl_access".as_ptr()) };
    assert_eq!(removed, 0);
    chmod(&vault, 0o600);
    let output = tokens_at(
        &sandbox,
        &vault,
        &["verify"],
        &format!("{}\n", issued.token),
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    acl_lets_nobody_write(&own);
    let message = format!(
        "tokens: {0} has an access control list (ACL), which may let other users write it; fix it \
         with: setfacl -b {0}\n",
        own.display()
    );
    assert_refused(&sandbox, &vault, &issued.token, &message);
}

#[test]
fn a_device_or_a_folder_where_the_vault_should_be_is_named_as_such() {
    let sandbox = Sandbox::sqlite();
    for args in [vec!["list"], vec!["create", "ci"]] {
        let output = tokens_at(&sandbox, Path::new("/dev/null"), &args, "");
        assert_eq!(code(&output), 1, "{args:?}");
        assert_eq!(
            stderr(&output),
            "tokens: /dev/null is a device or another special file, not a vault file; give a file \
             path (the default is ~/.local/share/tokens/vault.db)\n"
        );
    }
    // A folder in a sticky folder: named as a folder, not blamed on /tmp.
    let output = tokens_at(&sandbox, &std::env::temp_dir(), &["list"], "");
    assert_eq!(code(&output), 1);
    assert!(
        stderr(&output).ends_with(&format!(
            "{} is a directory, not a vault file; give the vault's file path (e.g. {}/vault.db)\n",
            std::env::temp_dir().display(),
            std::env::temp_dir().display()
        )),
        "{}",
        stderr(&output)
    );
}
