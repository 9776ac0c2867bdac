//! `tokens migrate`: a vault copied whole into another, typically a file into the shared
//! PostgreSQL vault. The destination is `Sandbox::new()`, so these run file-to-file on SQLite and
//! file-to-PostgreSQL when the suite runs against a server (`TOKENS_TEST_POSTGRES`).

mod common;

use common::*;

/// `tokens migrate --from FROM --to TO` (with `--json` when asked), run from `sandbox`'s home.
fn migrate(sandbox: &Sandbox, from: &str, to: &str, json: bool) -> std::process::Output {
    let mut args = vec!["migrate", "--from", from, "--to", to];
    if json {
        args.insert(0, "--json");
    }
    sandbox.cmd(&args).output().unwrap()
}

#[test]
fn migrate_copies_a_file_vault_and_tokens_keep_working() {
    // Into PostgreSQL when the suite runs against it, else into another file.
    let target = Sandbox::new();
    let source = Sandbox::sqlite();
    let ci = source.create(
        "ci",
        &["--app", "ci", "--scope", "read", "--note", "deploys"],
    );
    let bot = source.create("bot", &[]);
    let bot2 = parse_issued(&source.run(
        &["refresh"],
        &format!("{}\n{}\n", bot.token, bot.secret_key.clone().unwrap()),
    ));
    let gone = source.create("gone", &["--no-secret-key"]);
    source.run(&["revoke", "gone", "--yes"], "");
    let graced = parse_issued(&source.run(&["rotate", "ci", "--grace", "1h"], ""));
    source.verify(&bot2.token, &[]);
    // A well-formed token no vault ever issued: its failed check is logged under an unknown id.
    let stranger = tokens::token::Credential::generate(tokens::token::Kind::Token, "AAAAAAAAAAAA");
    assert_eq!(source.verify(stranger.expose(), &[]).0, 3);

    let output = migrate(&source, &source.location, &target.location, true);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(report["tokens"], 5);
    assert_eq!(report["verified"], true);
    assert_eq!(report["to"], target.shown(), "the password is masked");
    assert_eq!(report["from"], source.shown());
    assert_eq!(
        report["events"],
        source.query::<i64>("SELECT count(*) FROM events")
    );

    // The same listing and the same log, field for field, from either vault.
    for args in [vec!["list", "--all", "--json"], vec!["log", "--json"]] {
        assert_eq!(
            json(&source.run(&args, "")),
            json(&target.run(&args, "")),
            "{args:?} differs"
        );
    }
    // The tokens people hold keep working against the copy; dead ones stay dead.
    assert_eq!(target.verify(&ci.token, &[]).0, 0, "in its rotation grace");
    assert_eq!(target.verify(&graced.token, &["--scope", "read"]).0, 0);
    assert_eq!(target.verify(&bot2.token, &[]).0, 0);
    assert_eq!(target.verify(&bot.token, &[]).0, 5);
    assert_eq!(target.verify(&gone.token, &[]).0, 5);
    // The spent secret key is still spent: presenting it again is caught.
    let reuse = target.run(
        &["refresh"],
        &format!("{}\n{}\n", bot.token, bot.secret_key.clone().unwrap()),
    );
    assert_eq!(code(&reuse), 5, "{}", stderr(&reuse));
    // New events are numbered after the copied ones, which keep their numbers.
    let copied_last: i64 = source.query("SELECT max(seq) FROM events");
    let newest: i64 = target.query("SELECT max(seq) FROM events");
    assert!(newest > copied_last, "{newest} after {copied_last}");
    let kinds: i64 = target.query(&format!(
        "SELECT count(*) FROM events WHERE seq <= {copied_last}"
    ));
    assert_eq!(kinds, source.query::<i64>("SELECT count(*) FROM events"));
}

#[test]
fn migrate_refuses_a_vault_that_is_not_empty_and_changes_nothing() {
    let target = Sandbox::new();
    let source = Sandbox::sqlite();
    source.create("a", &[]);
    target.create("already-here", &[]);
    let output = migrate(&source, &source.location, &target.location, false);
    assert_eq!(code(&output), 1);
    assert_eq!(
        stderr(&output),
        format!(
            "tokens: {} already holds tokens or events; migrate copies into an empty vault only\n",
            target.shown()
        )
    );
    assert_eq!(target.query::<i64>("SELECT count(*) FROM tokens"), 1);

    // A missing source: nothing is made at the destination.
    let empty = Sandbox::new();
    let output = migrate(
        &source,
        &source.path("nope.db").display().to_string(),
        &empty.location,
        false,
    );
    assert_eq!(code(&output), 1);
    assert!(
        stderr(&output).starts_with("tokens: no vault at "),
        "{}",
        stderr(&output)
    );
    assert!(!empty.vault_exists());
}

#[test]
fn migrate_back_into_a_file_and_refuse_copying_a_vault_onto_itself() {
    let source = Sandbox::new();
    let kept = source.create("kept", &["--scope", "read"]);
    let target = Sandbox::sqlite();
    let output = migrate(&source, &source.location, &target.location, false);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(
        stderr(&output),
        format!(
            "Copied 1 token and 1 event from {} to {}; the copy reads back identical.\n",
            source.shown(),
            target.shown()
        )
    );
    assert_eq!(target.verify(&kept.token, &["--scope", "read"]).0, 0);
    assert_eq!(mode(&target.vault), 0o600, "a new file vault is private");

    let output = migrate(&source, &source.location, &source.location, false);
    assert_eq!(code(&output), 2);
    assert_eq!(
        stderr(&output),
        "tokens: --from and --to name the same vault; migrate copies one vault into another\n"
    );
}
