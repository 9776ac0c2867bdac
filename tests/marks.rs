//! Rolling upgrades (SPEC §10): a vault newer than this binary says, with three marks, the
//! oldest tokens that may read it, verify against it and change it. Each test writes a newer
//! version and marks into a test vault, as a newer tokens would, and checks what this binary
//! then does and that it leaves the vault as it found it. On both backends (PostgreSQL when
//! `TOKENS_TEST_POSTGRES` is set).

mod common;

use common::*;
use tokens::vault::{Access, CURRENT_VERSION, Vault};

/// Makes the vault look written by a newer tokens: schema `CURRENT_VERSION + 1` and these marks.
fn make_newer(sandbox: &Sandbox, read: i64, verify: i64, write: i64) {
    let newer = CURRENT_VERSION + 1;
    if sandbox.is_postgres() {
        sandbox.execute(&format!(
            "UPDATE tokens_vault SET version = {newer}, read_mark = {read}, \
             verify_mark = {verify}, write_mark = {write}"
        ));
    } else {
        sandbox.execute(&format!(
            "UPDATE vault_marks SET read_mark = {read}, verify_mark = {verify}, \
             write_mark = {write}; PRAGMA user_version = {newer}; PRAGMA wal_checkpoint(TRUNCATE);"
        ));
    }
}

/// The vault's version and marks.
fn version_and_marks(sandbox: &Sandbox) -> (i64, i64, i64, i64) {
    if sandbox.is_postgres() {
        let row = sandbox
            .pg()
            .query_one(
                "SELECT version::bigint, read_mark::bigint, verify_mark::bigint, \
                 write_mark::bigint FROM tokens_vault",
                &[],
            )
            .unwrap();
        (row.get(0), row.get(1), row.get(2), row.get(3))
    } else {
        let db = sandbox.db();
        let version: i64 = db
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .unwrap();
        let (read, verify, write) = db
            .query_row(
                "SELECT read_mark, verify_mark, write_mark FROM vault_marks",
                [],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .unwrap();
        (version, read, verify, write)
    }
}

/// What a command could have changed: tokens, events, last uses, failure counts.
fn contents(sandbox: &Sandbox) -> (i64, i64, i64, i64) {
    (
        sandbox.query("SELECT count(*) FROM tokens"),
        sandbox.query("SELECT count(*) FROM events"),
        sandbox.query("SELECT count(*) FROM token_usage"),
        sandbox.query("SELECT count(*) FROM verify_failures"),
    )
}

fn refusal(sandbox: &Sandbox, doing: &str) -> String {
    format!(
        "tokens: {} needs a newer tokens to {doing} it: upgrade tokens (vault schema {}, this \
         tokens reads up to {CURRENT_VERSION})\n",
        sandbox.shown(),
        CURRENT_VERSION + 1
    )
}

#[test]
fn a_new_vault_is_marked_with_its_own_version() {
    let sandbox = Sandbox::new();
    sandbox.create("ci", &[]);
    let c = CURRENT_VERSION;
    // A migration raises only the marks its change needs (the lineages migration: the write
    // mark, so older hosts of a fleet keep reading and verifying while it upgrades).
    let (version, read, verify, write) = version_and_marks(&sandbox);
    assert_eq!((version, write), (c, c));
    assert!(
        (5..=c).contains(&read) && (5..=c).contains(&verify),
        "{read} {verify}"
    );
}

#[test]
fn a_newer_vault_whose_marks_allow_this_tokens_is_read_verified_and_written_unmigrated() {
    let sandbox = Sandbox::new();
    let issued = sandbox.create("ci", &[]);
    let c = CURRENT_VERSION;
    make_newer(&sandbox, c, c, c);

    let output = sandbox.run(&["list", "--json"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(json(&output).as_array().unwrap().len(), 1);
    assert_eq!(sandbox.verify(&issued.token, &[]), (0, String::new()));
    // The verify recorded its last use, as on a vault of this binary's version.
    assert_eq!(sandbox.query::<i64>("SELECT count(*) FROM token_usage"), 1);
    sandbox.create("second", &[]);
    let output = sandbox.run(&["revoke", "ci", "--yes"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(sandbox.verify(&issued.token, &[]).0, 5);
    assert_eq!(version_and_marks(&sandbox), (c + 1, c, c, c));
}

#[test]
fn below_the_verify_mark_a_good_token_is_exit_1_and_the_vault_untouched() {
    let sandbox = Sandbox::new();
    let issued = sandbox.create("ci", &["--scope", "read"]);
    let c = CURRENT_VERSION;
    make_newer(&sandbox, c, c + 1, c + 1);
    let before = contents(&sandbox);

    // Reading is allowed.
    for args in [vec!["list"], vec!["show", "ci"], vec!["log"]] {
        let output = sandbox.run(&args, "");
        assert_eq!(code(&output), 0, "{args:?}: {}", stderr(&output));
    }
    // A token that would verify is not answered ok.
    assert_eq!(
        sandbox.verify(&issued.token, &["--scope", "read"]),
        (1, refusal(&sandbox, "verify"))
    );
    let output = sandbox.run(
        &["verify", "--batch", "--json"],
        &format!("{}\n", issued.token),
    );
    assert_eq!(code(&output), 1);
    assert_eq!(stdout(&output), "");
    assert_eq!(stderr(&output), refusal(&sandbox, "verify"));
    // Writes are refused too.
    for args in [
        vec!["create", "x"],
        vec!["revoke", "ci", "--yes"],
        vec!["edit", "ci", "--note", "n"],
    ] {
        let output = sandbox.run(&args, "");
        assert_eq!(code(&output), 1, "{args:?}");
        assert_eq!(stderr(&output), refusal(&sandbox, "change"), "{args:?}");
    }
    assert_eq!(contents(&sandbox), before);
    assert_eq!(version_and_marks(&sandbox), (c + 1, c, c + 1, c + 1));
}

#[test]
fn below_the_write_mark_this_tokens_reads_and_verifies_but_changes_nothing() {
    let sandbox = Sandbox::new();
    let issued = sandbox.create("ci", &[]);
    let c = CURRENT_VERSION;
    make_newer(&sandbox, c, c, c + 1);

    assert_eq!(sandbox.verify(&issued.token, &[]).0, 0);
    let before = contents(&sandbox);
    for args in [vec!["create", "x"], vec!["rotate", "ci", "--yes"]] {
        let output = sandbox.run(&args, "");
        assert_eq!(code(&output), 1, "{args:?}");
        assert_eq!(stderr(&output), refusal(&sandbox, "change"), "{args:?}");
    }
    assert_eq!(contents(&sandbox), before);
    assert_eq!(sandbox.verify(&issued.token, &[]).0, 0);
}

#[test]
fn below_the_read_mark_nothing_is_read() {
    let sandbox = Sandbox::new();
    let issued = sandbox.create("ci", &[]);
    let c = CURRENT_VERSION;
    make_newer(&sandbox, c + 1, c + 1, c + 1);
    let before = contents(&sandbox);
    for (args, stdin) in [
        (vec!["list"], String::new()),
        (vec!["show", "ci"], String::new()),
        (vec!["log"], String::new()),
        (vec!["verify"], format!("{}\n", issued.token)),
    ] {
        let output = sandbox.run(&args, &stdin);
        assert_eq!(code(&output), 1, "{args:?}");
        assert_eq!(stderr(&output), refusal(&sandbox, "read"), "{args:?}");
    }
    assert_eq!(contents(&sandbox), before);
}

/// What a newer tokens does when it stores something an older verifier would ignore (a disabled
/// token, a use limit, ...): it raises the verify mark in the same transaction. This binary,
/// older than the mark, then refuses to verify, exit 1, never 0.
#[test]
fn a_raised_verify_mark_stops_an_older_verifier() {
    let sandbox = Sandbox::new();
    let issued = sandbox.create("ci", &[]);
    let c = CURRENT_VERSION;
    let mut vault = Vault::open(&sandbox.vault_location(), Access::Write).unwrap();
    vault.write(|store| store.raise_verify_mark(c + 1)).unwrap();
    // Never lowered.
    vault.write(|store| store.raise_verify_mark(c - 1)).unwrap();
    drop(vault);
    let read = version_and_marks(&sandbox).1;
    assert_eq!(version_and_marks(&sandbox), (c, read, c + 1, c));
    // This binary's own schema: it knows everything in it, whatever the mark.
    assert_eq!(sandbox.verify(&issued.token, &[]).0, 0);
    // Once a newer tokens has migrated the vault, this one refuses.
    if sandbox.is_postgres() {
        sandbox.execute(&format!("UPDATE tokens_vault SET version = {}", c + 1));
    } else {
        sandbox.execute(&format!(
            "PRAGMA user_version = {}; PRAGMA wal_checkpoint(TRUNCATE);",
            c + 1
        ));
    }
    assert_eq!(
        sandbox.verify(&issued.token, &[]),
        (1, refusal(&sandbox, "verify"))
    );
}

/// A `verify --batch` kept running as a service's coprocess notices a verify mark raised by a
/// newer tokens within about a second: the next line is answered `unavailable`, never `ok`, and
/// the batch ends with exit 1 and the line that says why.
#[test]
fn a_running_batch_stops_when_a_newer_tokens_raises_the_verify_mark() {
    use std::io::{BufRead, BufReader, Write};
    let sandbox = Sandbox::new();
    let issued = sandbox.create("ci", &[]);
    let c = CURRENT_VERSION;
    let mut child = sandbox
        .process(&["verify", "--batch"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut answers = BufReader::new(child.stdout.take().unwrap());
    writeln!(stdin, "{}", issued.token).unwrap();
    let mut first = String::new();
    answers.read_line(&mut first).unwrap();
    assert!(first.contains(r#""reason":"ok""#), "{first}");

    make_newer(&sandbox, c, c + 1, c + 1);
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let _ = writeln!(stdin, "{}", issued.token);
    drop(stdin);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut answers, &mut rest).unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        rest,
        "{\"app\":null,\"detail\":\"the vault could not be asked; see the error on stderr\",\"expires_at\":null,\"id\":null,\"meta\":null,\"name\":null,\"reason\":\"unavailable\",\"scopes\":null,\"uses_left\":null,\"valid\":false}\n",
        "judged after the mark was raised"
    );
    assert_eq!(code(&output), 1);
    assert_eq!(stderr(&output), refusal(&sandbox, "verify"));
}
