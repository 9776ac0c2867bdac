//! The vault file (SPEC §6): private, versioned, never overwritten or "repaired" when it is bad.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::*;

/// Runs a reading and a writing command and checks both refuse with exit 1 and `message`,
/// leaving the file exactly as it was.
fn assert_refused(sandbox: &Sandbox, message: &str) {
    let before = std::fs::read(&sandbox.vault).ok();
    for args in [vec!["list"], vec!["create", "x"], vec!["verify"]] {
        let stdin = "tk_AAAAAAAAAAAA_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB000000\n";
        let output = sandbox.run(&args, stdin);
        let error = stderr(&output);
        if args[0] == "verify" {
            // A malformed token is refused before the vault is opened.
            assert_eq!(code(&output), 3, "{error}");
            continue;
        }
        assert_eq!(code(&output), 1, "{args:?}: {error}");
        assert_eq!(error.lines().count(), 1, "not one line: {error}");
        assert!(
            error.contains(message),
            "{args:?}: expected {message:?} in {error:?}"
        );
        assert!(stdout(&output).is_empty(), "{args:?} printed on stdout");
    }
    assert_eq!(
        std::fs::read(&sandbox.vault).ok(),
        before,
        "the vault file changed"
    );
}

#[test]
fn a_text_file_is_refused_and_left_alone() {
    let sandbox = Sandbox::sqlite();
    std::fs::write(
        &sandbox.vault,
        "these are my notes, not a database\n".repeat(100),
    )
    .unwrap();
    std::fs::set_permissions(&sandbox.vault, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert_refused(
        &sandbox,
        &format!(
            "{} is not a tokens vault or is corrupt (not a SQLite database); it was left untouched",
            sandbox.vault.display()
        ),
    );
}

#[test]
fn an_empty_file_is_refused_and_left_alone() {
    let sandbox = Sandbox::sqlite();
    std::fs::write(&sandbox.vault, "").unwrap();
    std::fs::set_permissions(&sandbox.vault, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert_refused(&sandbox, "(the file is empty)");
}

#[test]
fn a_directory_is_refused() {
    let sandbox = Sandbox::sqlite();
    std::fs::create_dir(&sandbox.vault).unwrap();
    assert_refused(&sandbox, "is a directory, not a vault file");
    assert_verify_refused(
        &sandbox,
        &well_formed_token(),
        "is a directory, not a vault file",
    );
    assert!(
        listing(&sandbox.vault).is_empty(),
        "something was made inside"
    );
}

/// A token with a valid checksum that no vault knows, for reaching the vault through `verify`.
fn well_formed_token() -> String {
    Sandbox::sqlite()
        .create("elsewhere", &["--no-secret-key"])
        .token
}

/// `verify` of a well-formed token opens the vault: exit 1, one line with `message`, file unchanged.
fn assert_verify_refused(sandbox: &Sandbox, token: &str, message: &str) {
    let before = std::fs::read(&sandbox.vault).ok();
    let (code, error) = sandbox.verify(token, &[]);
    assert_eq!(code, 1, "{error}");
    assert_eq!(error.lines().count(), 1, "not one line: {error}");
    assert!(error.contains(message), "expected {message:?} in {error:?}");
    assert_eq!(
        std::fs::read(&sandbox.vault).ok(),
        before,
        "the vault file changed"
    );
}

#[test]
fn another_sqlite_database_is_refused() {
    let sandbox = Sandbox::sqlite();
    let db = rusqlite::Connection::open(&sandbox.vault).unwrap();
    db.execute_batch("CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('keep me');")
        .unwrap();
    drop(db);
    std::fs::set_permissions(&sandbox.vault, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert_refused(&sandbox, "(not made by tokens)");
}

/// A vault with a few tokens, all in the database file (no WAL).
fn checkpointed_vault(sandbox: &Sandbox) -> Vec<Issued> {
    let issued = ["a", "b", "c"]
        .iter()
        .map(|name| sandbox.create(name, &["--note", &"n".repeat(3000)]))
        .collect();
    sandbox
        .db()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
    issued
}

#[test]
fn a_truncated_vault_is_refused() {
    let sandbox = Sandbox::sqlite();
    let issued = checkpointed_vault(&sandbox);
    let bytes = std::fs::read(&sandbox.vault).unwrap();
    assert!(bytes.len() > 8192);
    std::fs::write(&sandbox.vault, &bytes[..bytes.len() / 2]).unwrap();
    assert_refused(&sandbox, "is not a tokens vault or is corrupt");
    assert_verify_refused(
        &sandbox,
        &issued[0].token,
        "is not a tokens vault or is corrupt",
    );
}

#[test]
fn a_vault_with_a_damaged_page_is_refused_and_left_alone() {
    let sandbox = Sandbox::sqlite();
    let issued = checkpointed_vault(&sandbox);
    let root_page: i64 = sandbox.query("SELECT rootpage FROM sqlite_master WHERE name = 'tokens'");
    let page_size: i64 = sandbox.query("PRAGMA page_size");
    let (root_page, page_size) = (root_page as usize, page_size as usize);
    let mut bytes = std::fs::read(&sandbox.vault).unwrap();
    bytes[(root_page - 1) * page_size..root_page * page_size].fill(0xA5);
    std::fs::write(&sandbox.vault, &bytes).unwrap();
    let message = format!(
        "{} is not a tokens vault or is corrupt (the database is damaged); it was left untouched",
        sandbox.vault.display()
    );
    assert_refused(&sandbox, &message);
    assert_verify_refused(&sandbox, &issued[0].token, &message);
    for args in [
        vec!["rotate", "a", "--yes"],
        vec!["revoke", "b", "--yes"],
        vec!["show", "c"],
    ] {
        let output = sandbox.run(&args, "");
        assert_eq!(code(&output), 1, "{args:?}");
        assert_eq!(stderr(&output), format!("tokens: {message}\n"), "{args:?}");
    }
    assert_eq!(
        std::fs::read(&sandbox.vault).unwrap(),
        bytes,
        "the vault file changed"
    );
}

#[test]
fn a_vault_from_a_newer_tokens_is_refused_unchanged() {
    let sandbox = Sandbox::sqlite();
    let issued = sandbox.create("x", &[]);
    sandbox
        .db()
        // Newer, with no marks this tokens reads (SPEC §10; tests/marks.rs has the marks).
        .execute_batch(
            "DROP TABLE vault_marks; PRAGMA user_version = 99; PRAGMA wal_checkpoint(TRUNCATE);",
        )
        .unwrap();
    let message = format!(
        "{} was written by a newer tokens (schema 99, this one knows {}); upgrade tokens",
        sandbox.vault.display(),
        tokens::vault::CURRENT_VERSION
    );
    assert_refused(&sandbox, &message);
    let (code, stderr) = sandbox.verify(&issued.token, &[]);
    assert_eq!(code, 1);
    assert!(stderr.contains(&message));
}

#[test]
fn a_vault_others_can_write_is_refused() {
    let sandbox = Sandbox::sqlite();
    let issued = sandbox.create("x", &[]);
    std::fs::set_permissions(&sandbox.vault, std::fs::Permissions::from_mode(0o666)).unwrap();
    assert_refused(
        &sandbox,
        "can be written by other users; fix it with: chmod go-w",
    );
    let (code, stderr) = sandbox.verify(&issued.token, &[]);
    assert_eq!(code, 1);
    assert_eq!(
        stderr,
        format!(
            "tokens: {0} can be written by other users; fix it with: chmod go-w {0}\n",
            sandbox.vault.display()
        )
    );
    std::fs::set_permissions(&sandbox.vault, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::set_permissions(sandbox.dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let (code, stderr) = sandbox.verify(&issued.token, &[]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains(&format!(
            "{} can be written by other users",
            sandbox.dir.path().display()
        )),
        "{stderr}"
    );
    std::fs::set_permissions(sandbox.dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    assert_eq!(sandbox.verify(&issued.token, &[]).0, 0);
}

#[test]
fn parallel_first_commands_share_one_new_vault() {
    let sandbox = Sandbox::sqlite();
    let children: Vec<_> = (0..8)
        .map(|n| {
            sandbox
                .process(&["create", &format!("t{n}"), "--no-secret-key"])
                .spawn()
                .unwrap()
        })
        .collect();
    let tokens: Vec<String> = children
        .into_iter()
        .map(|child| {
            let output = child.wait_with_output().unwrap();
            assert_eq!(code(&output), 0, "{}", stderr(&output));
            stdout(&output).trim().to_owned()
        })
        .collect();
    assert_eq!(sandbox.query::<i64>("SELECT count(*) FROM tokens"), 8);
    for token in tokens {
        assert_eq!(sandbox.verify(&token, &[]).0, 0);
    }
}

#[test]
fn the_default_vault_lives_in_the_data_directory() {
    let sandbox = Sandbox::sqlite();
    let output = sandbox
        .cmd(&["create", "x"])
        .env_remove("TOKENS_VAULT")
        .env("XDG_DATA_HOME", sandbox.path("data"))
        .output()
        .unwrap();
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let vault = sandbox.path("data/tokens/vault.db");
    assert!(vault.exists());
    assert_eq!(mode(vault.parent().unwrap()), 0o700);
    // --vault wins over TOKENS_VAULT.
    let other = sandbox.path("other.db");
    let output = sandbox.run(&["--vault", other.to_str().unwrap(), "create", "y"], "");
    assert_eq!(code(&output), 0);
    assert!(other.exists() && !sandbox.vault.exists());
}

/// A full disk, for real: a 256 KiB tmpfs mounted in a private mount namespace (`unshare -m`,
/// util-linux; needs root). Every command gives exit 1 and one line, the vault file stays as it
/// was, and everything works again once space is freed. Twice: with no writer around, and with
/// a reader keeping the WAL open (so a write gets as far as appending to the WAL).
#[test]
fn a_full_disk_changes_nothing() {
    if !running_as_root() {
        skip("mounting a small tmpfs needs root (CI runs the tests as root)");
        return;
    }
    let sandbox = Sandbox::sqlite();
    let disk = sandbox.path("disk");
    std::fs::create_dir(&disk).unwrap();
    let script = r#"
set -u
mount -t tmpfs -o size=256k,mode=0700 tmpfs "$DISK" || exit 99
export TOKENS_VAULT="$DISK/vault.db"
step() { name=$1; shift; "$@" >"$OUT/$name.out" 2>"$OUT/$name.err"; echo "$name $?" >>"$OUT/codes"; }
fill() { dd if=/dev/zero of="$DISK/filler" bs=4k 2>/dev/null; }
"$BIN" create keep --no-secret-key >"$OUT/keep.token"
"$BIN" create other --no-secret-key >"$OUT/other.token"
fill
cp "$TOKENS_VAULT" "$OUT/before.db"
step create "$BIN" create new
step rotate "$BIN" rotate keep --yes
step revoke "$BIN" revoke other --yes
step edit "$BIN" edit keep --note changed
step verify "$BIN" verify <"$OUT/keep.token"
step create-vault env TOKENS_VAULT="$DISK/new.db" "$BIN" create first
ls -A "$DISK" >"$OUT/files"
cp "$TOKENS_VAULT" "$OUT/after.db"
rm "$DISK/filler"
# Again with a reader holding the WAL and its shared memory open.
mkfifo "$OUT/hold"
"$BIN" verify --batch <"$OUT/hold" >"$OUT/hold.out" &
exec 3>"$OUT/hold"
sleep 0.5
fill
cp "$TOKENS_VAULT" "$OUT/before-held.db"
step held-create "$BIN" create new
step held-revoke "$BIN" revoke other --yes
step held-verify "$BIN" verify <"$OUT/keep.token"
cp "$TOKENS_VAULT" "$OUT/after-held.db"
exec 3>&-
wait
rm "$DISK/filler"
step freed-verify "$BIN" verify <"$OUT/keep.token"
step freed-other "$BIN" verify <"$OUT/other.token"
step freed-create "$BIN" create new --no-secret-key
cp "$TOKENS_VAULT" "$OUT/final.db"
"#;
    let output = std::process::Command::new("unshare")
        .args(["-m", "sh", "-c", script])
        .env("BIN", tokens_bin())
        .env("DISK", &disk)
        .env("OUT", sandbox.dir.path())
        .output()
        .expect("unshare (util-linux) runs");
    let trouble = String::from_utf8_lossy(&output.stderr);
    // 99: the mount failed; "unshare: …": no mount namespace here. Anything else is a failure.
    if output.status.code() == Some(99) || trouble.starts_with("unshare:") {
        skip(&format!("cannot mount a tmpfs here ({})", trouble.trim()));
        return;
    }
    let read = |name: &str| std::fs::read_to_string(sandbox.path(name)).unwrap_or_default();
    let codes: std::collections::HashMap<String, i32> = read("codes")
        .lines()
        .map(|line| {
            let (name, code) = line.split_once(' ').unwrap();
            (name.to_owned(), code.parse().unwrap())
        })
        .collect();
    let full = |vault: &str| {
        format!(
            "tokens: the disk holding {} is full; nothing was changed (free some space and try again)\n",
            disk.join(vault).display()
        )
    };
    for step in [
        "create",
        "rotate",
        "revoke",
        "edit",
        "verify",
        "held-create",
        "held-revoke",
    ] {
        assert_eq!(codes[step], 1, "{step}: {}", read(&format!("{step}.err")));
        assert_eq!(read(&format!("{step}.err")), full("vault.db"), "{step}");
        assert_eq!(read(&format!("{step}.out")), "", "{step} printed");
    }
    assert_eq!(codes["create-vault"], 1);
    assert_eq!(read("create-vault.err"), full("new.db"));
    assert_eq!(
        read("files"),
        "filler\nvault.db\nvault.db-shm\nvault.db-wal\n",
        "no half-made vault"
    );
    assert_eq!(
        read("before.db"),
        read("after.db"),
        "the vault file changed"
    );
    assert_eq!(
        read("before-held.db"),
        read("after-held.db"),
        "the vault file changed"
    );
    // With the shared memory already there, a read needs no new space and still answers.
    assert_eq!(codes["held-verify"], 0, "{}", read("held-verify.err"));
    assert_eq!(codes["freed-verify"], 0, "{}", read("freed-verify.err"));
    assert_eq!(
        codes["freed-other"], 0,
        "the failed revoke must not have happened"
    );
    assert_eq!(codes["freed-create"], 0, "{}", read("freed-create.err"));
    let db = rusqlite::Connection::open(sandbox.path("final.db")).unwrap();
    let check: String = db
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let names: i64 = db
        .query_row(
            "SELECT count(*) FROM tokens WHERE revoked_at IS NULL",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(names, 3, "keep, other and the new one");
}
