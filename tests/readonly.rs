//! A vault this user can read but not write (SPEC §6): a root-managed vault that CI jobs verify
//! against, or a vault in a read-only folder. `verify` (and the other readers) still answer,
//! last use is not recorded, commands that write stop with one clear line, and nothing changes.
//!
//! "Another user" is real: the binary runs as `nobody` through `setpriv` (util-linux); these tests
//! need root to switch user (CI runs as root) and say they were skipped otherwise.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use common::*;

/// Makes the sandbox a root-managed vault others may read: folder 0755, file 0644.
fn share_read_only(sandbox: &Sandbox) {
    std::fs::set_permissions(sandbox.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&sandbox.vault, std::fs::Permissions::from_mode(0o644)).unwrap();
}

/// Every command that writes, run as `nobody`: exit 1, one line saying what is read-only.
fn assert_writes_refused(nobody: &Nobody, vault: &Path, good: &Issued, read_only: &Path) {
    let refresh_stdin = format!(
        "{}\n{}\n",
        good.token,
        good.secret_key.as_deref().unwrap_or_default()
    );
    let id = good.id();
    let commands: Vec<(Vec<&str>, &str)> = vec![
        (vec!["create", "intruder"], ""),
        (vec!["rotate", &id, "--yes"], ""),
        (vec!["revoke", &id, "--yes"], ""),
        (vec!["edit", &id, "--note", "changed"], ""),
        (vec!["refresh"], &refresh_stdin),
    ];
    for (args, stdin) in commands {
        let output = nobody.run(vault, &args, stdin);
        let error = stderr(&output);
        assert_eq!(code(&output), 1, "{args:?}: {error}");
        assert_eq!(
            error,
            format!(
                "tokens: {} is read-only for this user; this command needs to write to it\n",
                read_only.display()
            ),
            "{args:?}"
        );
        assert!(
            stdout(&output).is_empty(),
            "{args:?} printed {}",
            stdout(&output)
        );
    }
}

#[test]
fn a_vault_root_owns_answers_another_user_and_stays_unchanged() {
    let Some(nobody) = Nobody::new() else { return };
    let sandbox = Sandbox::sqlite();
    let good = sandbox.create("ci-deploy", &["--app", "ci", "--scope", "read"]);
    let revoked = sandbox.create("old", &[]);
    assert_eq!(code(&sandbox.run(&["revoke", "old", "--yes"], "")), 0);
    share_read_only(&sandbox);
    let files_before = listing(sandbox.dir.path());
    let bytes_before = std::fs::read(&sandbox.vault).unwrap();
    assert_eq!(
        files_before,
        ["vault.db"],
        "no -wal/-shm: no writer has it open"
    );

    let vault = &sandbox.vault;
    let verify = |token: &str, args: &[&str]| {
        let mut all = vec!["verify"];
        all.extend_from_slice(args);
        nobody.run(vault, &all, &format!("{token}\n"))
    };
    let output = verify(&good.token, &[]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        format!("valid: \"ci-deploy\" ({})\n", good.id())
    );
    assert_eq!(
        code(&verify(&good.token, &["--scope", "read", "--app", "ci"])),
        0
    );
    assert_eq!(code(&verify(&good.token, &["--scope", "write"])), 6);
    assert_eq!(code(&verify(&revoked.token, &[])), 5);
    let wrong_secret = format!("tk_{}_{}", good.id(), "A".repeat(38));
    assert_eq!(code(&verify(&wrong_secret, &[])), 3);
    let output = verify(&good.token, &["--json"]);
    assert_eq!(json(&output)["valid"], true);
    let output = nobody.run(
        vault,
        &["verify", "--batch"],
        &format!("{}\n{}\n", good.token, revoked.token),
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let reasons: Vec<String> = stdout(&output)
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap()["reason"].to_string())
        .collect();
    assert_eq!(reasons, ["\"ok\"", "\"revoked\""]);
    for args in [
        vec!["list"],
        vec!["list", "--all", "--json"],
        vec!["show", "ci-deploy"],
        vec!["log"],
    ] {
        let output = nobody.run(vault, &args, "");
        assert_eq!(code(&output), 0, "{args:?}: {}", stderr(&output));
    }

    assert_writes_refused(&nobody, vault, &good, vault);

    assert_eq!(listing(sandbox.dir.path()), files_before, "files appeared");
    assert_eq!(
        std::fs::read(&sandbox.vault).unwrap(),
        bytes_before,
        "the vault changed"
    );
    let last_used: Option<i64> = sandbox.query(&format!(
        "SELECT max(last_used_at) FROM token_usage WHERE token_id = '{}'",
        good.id()
    ));
    assert_eq!(last_used, None, "last use recorded on a read-only vault");
}

#[test]
fn another_user_sees_changes_that_are_still_in_the_wal() {
    let Some(nobody) = Nobody::new() else { return };
    let sandbox = Sandbox::sqlite();
    let revoked = sandbox.create("to-revoke", &[]);
    let rotated = sandbox.create("to-rotate", &[]);
    share_read_only(&sandbox);
    // A long-running reader (root) keeps the WAL open, so the changes below are not yet
    // copied into the database file: `nobody` can only learn of them from the -wal file.
    let holder = sandbox.db();
    let _: i64 = holder
        .query_row("SELECT count(*) FROM tokens", [], |row| row.get(0))
        .unwrap();
    assert_eq!(code(&sandbox.run(&["revoke", "to-revoke", "--yes"], "")), 0);
    let output = sandbox.run(&["rotate", "to-rotate", "--yes"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let new = parse_issued(&output);
    assert!(
        std::fs::metadata(sandbox.path("vault.db-wal"))
            .unwrap()
            .len()
            > 0,
        "the changes should still be in the WAL"
    );
    assert_eq!(
        listing(sandbox.dir.path()),
        ["vault.db", "vault.db-shm", "vault.db-wal"]
    );

    let verify =
        |token: &str| code(&nobody.run(&sandbox.vault, &["verify"], &format!("{token}\n")));
    assert_eq!(verify(&revoked.token), 5);
    assert_eq!(verify(&rotated.token), 5);
    assert_eq!(verify(&new.token), 0);
    assert_writes_refused(&nobody, &sandbox.vault, &new, &sandbox.vault);
    drop(holder);
}

#[test]
fn a_vault_in_a_read_only_folder_still_verifies() {
    let Some(nobody) = Nobody::new() else { return };
    let sandbox = Sandbox::sqlite();
    std::fs::set_permissions(sandbox.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    // nobody's own folder and vault; then the folder is made read-only (as a deploy step might).
    let folder = sandbox.path("own");
    std::fs::create_dir(&folder).unwrap();
    let (uid, gid) = nobody_ids();
    std::os::unix::fs::chown(&folder, Some(uid), Some(gid)).unwrap();
    let vault = folder.join("vault.db");
    let output = nobody.run(&vault, &["create", "mine"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let mine = parse_issued(&output);
    std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o500)).unwrap();
    let files_before = listing(&folder);
    let bytes_before = std::fs::read(&vault).unwrap();

    let output = nobody.run(&vault, &["verify"], &format!("{}\n", mine.token));
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(code(&nobody.run(&vault, &["list"], "")), 0);
    // The file itself is writable, but SQLite's WAL needs files beside it: the folder is named.
    assert_writes_refused(&nobody, &vault, &mine, &folder);

    assert_eq!(listing(&folder), files_before);
    assert_eq!(std::fs::read(&vault).unwrap(), bytes_before);
}

/// A reader that cannot create the `-wal`/`-shm` files reads a snapshot of the database file;
/// writers that come and go meanwhile must neither tear it nor hide a revocation that returned.
#[test]
fn readers_as_another_user_stay_right_while_root_writes() {
    let Some(nobody) = Nobody::new() else { return };
    let sandbox = Sandbox::sqlite();
    let stable = sandbox.create("stable", &["--no-secret-key"]);
    let doomed: Vec<Issued> = (0..12)
        .map(|n| sandbox.create(&format!("doomed-{n}"), &["--no-secret-key"]))
        .collect();
    share_read_only(&sandbox);

    let deadline = Instant::now() + Duration::from_secs(3);
    // (token index, instant its revoke returned)
    let revoked_at = std::sync::Mutex::new(Vec::<(usize, Instant)>::new());
    let mut checks = 0usize;
    std::thread::scope(|scope| {
        scope.spawn(|| {
            for (index, issued) in doomed.iter().enumerate() {
                std::thread::sleep(Duration::from_millis(150));
                let output = sandbox.run(&["revoke", &issued.id(), "--yes"], "");
                assert_eq!(code(&output), 0, "{}", stderr(&output));
                revoked_at.lock().unwrap().push((index, Instant::now()));
                // Other writes in between, so writers come and go.
                let output = sandbox.run(&["create", &format!("churn-{index}")], "");
                assert_eq!(code(&output), 0, "{}", stderr(&output));
            }
        });
        let workers: Vec<_> = (0..2)
            .map(|worker| {
                let (nobody, sandbox, stable, doomed, revoked_at) =
                    (&nobody, &sandbox, &stable, &doomed, &revoked_at);
                scope.spawn(move || {
                    let mut checks = 0;
                    let mut round = worker;
                    while Instant::now() < deadline {
                        round += 1;
                        let index = round % doomed.len();
                        let started = Instant::now();
                        let was_revoked = revoked_at
                            .lock()
                            .unwrap()
                            .iter()
                            .any(|(n, at)| *n == index && *at < started);
                        let output = nobody.run(
                            &sandbox.vault,
                            &["verify", "--batch"],
                            &format!("{}\n{}\n", stable.token, doomed[index].token),
                        );
                        assert_eq!(code(&output), 0, "{}", stderr(&output));
                        let lines: Vec<serde_json::Value> = stdout(&output)
                            .lines()
                            .map(|line| serde_json::from_str(line).unwrap())
                            .collect();
                        assert_eq!(lines[0]["reason"], "ok", "stable token: {lines:?}");
                        if was_revoked {
                            assert_eq!(lines[1]["reason"], "revoked", "revoked before the check");
                        } else {
                            assert!(
                                ["ok", "revoked"].contains(&lines[1]["reason"].as_str().unwrap()),
                                "{lines:?}"
                            );
                        }
                        checks += 1;
                    }
                    checks
                })
            })
            .collect();
        for worker in workers {
            checks += worker.join().unwrap();
        }
    });
    assert!(checks > 20, "only {checks} checks ran");
    eprintln!("read-only readers under writes: {checks} verify --batch runs as nobody, 0 wrong");
}

/// While a reader holds a snapshot of the database file, a writer that finishes must leave its
/// changes in the WAL instead of copying them into the file under the reader.
#[test]
fn a_snapshot_reader_keeps_the_file_still_until_it_is_done() {
    let Some(nobody) = Nobody::new() else { return };
    let sandbox = Sandbox::sqlite();
    let first = sandbox.create("first", &["--no-secret-key"]);
    let second = sandbox.create("second", &["--no-secret-key"]);
    share_read_only(&sandbox);
    let bytes_before = std::fs::read(&sandbox.vault).unwrap();

    // `verify --batch` opens the vault, then waits for tokens on stdin.
    let mut reader = nobody
        .cmd(&sandbox.vault, &["verify", "--batch"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));

    let output = sandbox.run(&["revoke", "second", "--yes"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(
        std::fs::read(&sandbox.vault).unwrap(),
        bytes_before,
        "the writer changed the file under a reader"
    );
    assert!(
        sandbox.path("vault.db-wal").exists(),
        "the WAL should be kept"
    );

    {
        use std::io::Write;
        let mut stdin = reader.stdin.take().unwrap();
        writeln!(stdin, "{}", first.token).unwrap();
    }
    let output = reader.wait_with_output().unwrap();
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(
        stdout(&output).contains("\"reason\":\"ok\""),
        "{}",
        stdout(&output)
    );

    // A reader that starts after the revoke returned sees it (through the WAL).
    let output = nobody.run(&sandbox.vault, &["verify"], &format!("{}\n", second.token));
    assert_eq!(code(&output), 5, "{}", stderr(&output));
    assert_eq!(sandbox.query::<String>("PRAGMA integrity_check"), "ok");
}

/// The `-wal`/`-shm` files beside a shared vault must be as readable as the vault: when they
/// are not, the reader is told which files, in one line.
#[test]
fn unreadable_wal_files_are_named() {
    let Some(nobody) = Nobody::new() else { return };
    let sandbox = Sandbox::sqlite();
    let issued = sandbox.create("x", &["--no-secret-key"]);
    share_read_only(&sandbox);
    let holder = sandbox.db();
    let _: i64 = holder
        .query_row("SELECT count(*) FROM tokens", [], |row| row.get(0))
        .unwrap();
    std::fs::set_permissions(
        sandbox.path("vault.db-shm"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    let output = nobody.run(&sandbox.vault, &["verify"], &format!("{}\n", issued.token));
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    assert_eq!(stderr(&output).lines().count(), 1, "{}", stderr(&output));
    assert!(
        stderr(&output).contains(&format!(
            "this user needs to read {0}-wal and {0}-shm too",
            sandbox.vault.display()
        )),
        "{}",
        stderr(&output)
    );
    drop(holder);
}
