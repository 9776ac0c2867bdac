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
    let sandbox = Sandbox::new();
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
    let sandbox = Sandbox::new();
    std::fs::write(&sandbox.vault, "").unwrap();
    std::fs::set_permissions(&sandbox.vault, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert_refused(&sandbox, "(the file is empty)");
}

#[test]
fn a_directory_is_refused() {
    let sandbox = Sandbox::new();
    std::fs::create_dir(&sandbox.vault).unwrap();
    let output = sandbox.run(&["create", "x"], "");
    assert_eq!(code(&output), 1);
    assert!(
        stderr(&output).contains("(it is a directory)"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn another_sqlite_database_is_refused() {
    let sandbox = Sandbox::new();
    let db = rusqlite::Connection::open(&sandbox.vault).unwrap();
    db.execute_batch("CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('keep me');")
        .unwrap();
    drop(db);
    std::fs::set_permissions(&sandbox.vault, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert_refused(&sandbox, "(not made by tokens)");
}

#[test]
fn a_truncated_vault_is_refused() {
    let sandbox = Sandbox::new();
    for name in ["a", "b", "c"] {
        sandbox.create(name, &["--note", &"n".repeat(3000)]);
    }
    sandbox
        .db()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
    let bytes = std::fs::read(&sandbox.vault).unwrap();
    assert!(bytes.len() > 8192);
    std::fs::write(&sandbox.vault, &bytes[..bytes.len() / 2]).unwrap();
    let output = sandbox.run(&["list"], "");
    assert_eq!(code(&output), 1);
    assert!(
        stderr(&output).contains("is not a tokens vault or is corrupt"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_vault_from_a_newer_tokens_is_refused_unchanged() {
    let sandbox = Sandbox::new();
    let issued = sandbox.create("x", &[]);
    sandbox
        .db()
        .execute_batch("PRAGMA user_version = 99; PRAGMA wal_checkpoint(TRUNCATE);")
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
    let sandbox = Sandbox::new();
    let issued = sandbox.create("x", &[]);
    std::fs::set_permissions(&sandbox.vault, std::fs::Permissions::from_mode(0o666)).unwrap();
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
    let sandbox = Sandbox::new();
    let children: Vec<_> = (0..8)
        .map(|n| {
            std::process::Command::new(env!("CARGO_BIN_EXE_tokens"))
                .args(["create", &format!("t{n}"), "--no-secret-key"])
                .env("TOKENS_VAULT", &sandbox.vault)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
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
    let sandbox = Sandbox::new();
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
