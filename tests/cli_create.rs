//! `tokens create`: the token is printed once, the vault keeps only hashes.

mod common;

use common::*;
use sha2::{Digest, Sha256};

#[test]
fn piped_create_prints_exactly_the_token_and_the_secret_key() {
    let sandbox = Sandbox::new();
    let output = sandbox.run(
        &[
            "create",
            "ci-deploy",
            "--app",
            "ci",
            "--scope",
            "deploy:prod",
        ],
        "",
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "stdout: {text}");
    let (token, key) = (lines[0], lines[1]);
    let id = &token[3..15];
    assert!(
        token.starts_with(&format!("tk_{id}_")) && token.len() == 3 + 12 + 1 + 32 + 6,
        "{token}"
    );
    assert!(
        key.starts_with(&format!("tks_{id}_")) && key.len() == 4 + 12 + 1 + 32 + 6,
        "{key}"
    );
    // Piped: no notice about the secrets on stderr, so `T=$(tokens create x)` captures only
    // the lines and says nothing but that it made the vault file (the first time).
    assert_eq!(stderr(&output), sandbox.created_notice());
    // What scanners match.
    assert!(
        token[3..]
            .split('_')
            .all(|part| part.chars().all(|c| c.is_ascii_alphanumeric()))
    );
}

#[test]
fn no_secret_key_prints_one_line() {
    let sandbox = Sandbox::new();
    let output = sandbox.run(&["create", "bot", "--no-secret-key"], "");
    assert_eq!(code(&output), 0);
    assert_eq!(stdout(&output).lines().count(), 1);
    let stored: Option<Vec<u8>> = sandbox.query("SELECT secret_key_hash FROM tokens");
    assert_eq!(stored, None);
}

#[test]
fn vault_keeps_the_sha256_of_the_secret_and_never_the_secret() {
    let sandbox = Sandbox::new();
    let issued = sandbox.create("partner", &["--scope", "read"]);
    let secret = &issued.token[16..16 + 32];
    let stored: Vec<u8> = sandbox.query("SELECT secret_hash FROM tokens");
    assert_eq!(stored, Sha256::digest(secret.as_bytes()).to_vec());
    let key = issued.secret_key.as_deref().unwrap();
    let bytes = sandbox.vault_bytes();
    assert!(!contains(&bytes, secret), "the secret is in the vault");
    assert!(
        !contains(&bytes, &key[17..17 + 32]),
        "the secret key is in the vault"
    );
    assert!(
        !contains(&bytes, &issued.token),
        "the token is in the vault"
    );
}

#[test]
fn vault_and_folder_are_private() {
    let sandbox = Sandbox::new();
    let nested = sandbox.path("deeper/vault.db");
    let output = sandbox.run(&["--vault", nested.to_str().unwrap(), "create", "x"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(mode(&nested), 0o600);
    assert_eq!(mode(nested.parent().unwrap()), 0o700);
    let journal: String = rusqlite::Connection::open(&nested)
        .unwrap()
        .query_row("PRAGMA journal_mode", [], |row| row.get(0))
        .unwrap();
    assert_eq!(journal, "wal");
    // Nothing but the vault and its WAL files in the folder: no staging leftovers.
    for entry in std::fs::read_dir(nested.parent().unwrap()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(name.starts_with("vault.db"), "stray file {name}");
    }
}

#[test]
fn json_output_has_the_documented_fields() {
    let sandbox = Sandbox::new();
    let output = sandbox.run(
        &[
            "--json",
            "create",
            "svc",
            "--app",
            "billing",
            "--scope",
            "read,write",
            "--expires",
            "2099-01-31",
        ],
        "",
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let value = json(&output);
    assert_eq!(value["name"], "svc");
    assert_eq!(value["app"], "billing");
    assert_eq!(value["scopes"], serde_json::json!(["read", "write"]));
    assert_eq!(value["expires_at"], "2099-01-31T00:00:00Z");
    let token = value["token"].as_str().unwrap();
    assert!(token.starts_with(&format!("tk_{}_", value["id"].as_str().unwrap())));
    assert!(value["secret_key"].as_str().unwrap().starts_with("tks_"));
    // The token verifies.
    assert_eq!(sandbox.verify(token, &["--scope", "write"]).0, 0);
}

#[test]
fn expiry_forms_are_stored() {
    let sandbox = Sandbox::new();
    sandbox.create("forever", &["--expires", "never"]);
    sandbox.create("dated", &["--expires", "2099-05-01T10:00:00+02:00"]);
    sandbox.create("default", &[]);
    let never: Option<i64> = sandbox.query("SELECT expires_at FROM tokens WHERE name = 'forever'");
    assert_eq!(never, None);
    let dated: i64 = sandbox.query("SELECT expires_at FROM tokens WHERE name = 'dated'");
    assert_eq!(dated, 4_081_305_600); // 2099-05-01T08:00:00Z
    let lifetime: i64 =
        sandbox.query("SELECT expires_at - created_at FROM tokens WHERE name = 'default'");
    assert_eq!(lifetime, 30 * 86_400);
}

#[test]
fn bad_input_is_a_usage_error_and_creates_nothing() {
    let sandbox = Sandbox::new();
    for args in [
        vec!["create", "bad name"],
        vec!["create", "x", "--scope", "Read"],
        vec!["create", "x", "--app", "a b"],
        vec!["create", "x", "--expires", "2001-01-01"],
        vec!["create", "x", "--expires", "soon"],
        vec!["create", "x", "--replace"],
        vec!["create"],
    ] {
        let output = sandbox.run(&args, "");
        assert_eq!(code(&output), 2, "{args:?}: {}", stderr(&output));
        assert!(stdout(&output).is_empty());
    }
    assert!(!sandbox.vault_exists(), "a failed create made a vault");
    let output = sandbox.run(&["create", "x", "--expires", "2001-01-01"], "");
    assert_eq!(
        stderr(&output),
        "tokens: invalid --expires \"2001-01-01\": it is in the past\n"
    );
    let output = sandbox.run(&["create"], "");
    assert!(
        stderr(&output).contains("missing NAME"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn names_are_unique_among_live_tokens() {
    let sandbox = Sandbox::new();
    let first = sandbox.create("deploy", &[]);
    let output = sandbox.run(&["create", "deploy"], "");
    assert_eq!(code(&output), 1);
    assert_eq!(
        stderr(&output),
        format!(
            "tokens: a token named \"deploy\" already exists ({}); pick another name, or rotate or revoke it\n",
            first.id()
        )
    );
    assert!(
        stdout(&output).is_empty(),
        "a refused create printed a secret"
    );
    assert_eq!(sandbox.query::<i64>("SELECT count(*) FROM tokens"), 1);
    // Once revoked, the name is free again.
    assert_eq!(code(&sandbox.run(&["revoke", "deploy", "--yes"], "")), 0);
    sandbox.create("deploy", &[]);
    assert_eq!(sandbox.query::<i64>("SELECT count(*) FROM tokens"), 2);
}

#[test]
fn replace_revokes_the_apps_other_tokens_in_the_same_step() {
    let sandbox = Sandbox::new();
    let old = sandbox.create("bot-1", &["--app", "slackbot"]);
    let other_app = sandbox.create("other", &["--app", "mailer"]);
    let new = sandbox.create("bot-2", &["--app", "slackbot", "--replace", "--yes"]);
    assert_eq!(sandbox.verify(&old.token, &[]).0, 5);
    assert_eq!(sandbox.verify(&new.token, &[]).0, 0);
    assert_eq!(sandbox.verify(&other_app.token, &[]).0, 0);
    // Replacing with the same name works: the old one is revoked first.
    let again = sandbox.create("bot-2", &["--app", "slackbot", "--replace", "--yes"]);
    assert_eq!(sandbox.verify(&new.token, &[]).0, 5);
    assert_eq!(sandbox.verify(&again.token, &[]).0, 0);
}

#[test]
fn every_creation_is_in_the_event_log() {
    let sandbox = Sandbox::new();
    let issued = sandbox.create("logged", &["--app", "ci", "--scope", "read"]);
    let token_id: String = sandbox.query("SELECT token_id FROM events");
    let kind: String = sandbox.query("SELECT kind FROM events");
    let detail: String = sandbox.query("SELECT detail FROM events");
    assert_eq!(
        (token_id.as_str(), kind.as_str()),
        (issued.id().as_str(), "created")
    );
    assert_eq!(detail, "app ci, scopes read");
}
