//! The admin's commands: list, show, edit, rotate, revoke, refresh and log.

mod common;

use common::*;
use serde_json::json;

#[test]
fn list_shows_masked_tokens_and_never_a_secret() {
    let sandbox = Sandbox::new();
    let issued = sandbox.create("ci-deploy", &["--app", "ci", "--scope", "deploy:prod,read"]);
    let output = sandbox.run(&["list"], "");
    assert_eq!(code(&output), 0);
    let text = stdout(&output);
    let masked = format!("tk_{}_…{}", issued.id(), &issued.token[44..48]);
    let header: Vec<&str> = text.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        [
            "ID", "NAME", "APP", "SCOPES", "TOKEN", "CREATED", "EXPIRES", "LAST", "USED", "STATUS"
        ]
    );
    let row: Vec<&str> = text.lines().nth(1).unwrap().split_whitespace().collect();
    // Piped, every time is one field for awk: RFC 3339.
    let (created, expires) = (row[5].to_owned(), row[6].to_owned());
    let created_at = chrono::DateTime::parse_from_rfc3339(&created).unwrap();
    let expires_at = chrono::DateTime::parse_from_rfc3339(&expires).unwrap();
    assert!(
        (now_secs() - created_at.timestamp()).abs() < 60,
        "{created}"
    );
    assert_eq!(expires_at - created_at, chrono::Duration::days(30));
    assert_eq!(
        row,
        [
            issued.id().as_str(),
            "ci-deploy",
            "ci",
            "deploy:prod,read",
            &masked,
            created.as_str(),
            expires.as_str(),
            "never",
            "active"
        ]
    );
    assert!(
        !text.contains(&issued.token[16..44]),
        "list shows the secret"
    );
    assert!(!text.contains('\u{1b}'), "colour on a pipe");
}

#[test]
fn list_json_is_an_array_with_the_documented_fields() {
    let sandbox = Sandbox::new();
    let issued = sandbox.create(
        "svc",
        &[
            "--app",
            "billing",
            "--scope",
            "read",
            "--expires",
            "2099-01-01",
        ],
    );
    let output = sandbox.run(&["--json", "list"], "");
    let value = json(&output);
    let entry = &value[0];
    assert_eq!(value.as_array().unwrap().len(), 1);
    for field in [
        "id",
        "name",
        "app",
        "scopes",
        "masked",
        "created_at",
        "expires_at",
        "last_used_at",
        "status",
    ] {
        assert!(entry.get(field).is_some(), "missing {field}");
    }
    assert_eq!(entry["id"], issued.id());
    assert_eq!(
        entry["masked"],
        format!("tk_{}_…{}", issued.id(), &issued.token[44..48])
    );
    assert_eq!(entry["expires_at"], "2099-01-01T00:00:00Z");
    assert_eq!(entry["last_used_at"], serde_json::Value::Null);
    assert_eq!(entry["status"], "active");
    assert!(!stdout(&output).contains(&issued.token[16..44]));
    // An empty vault is an empty array.
    sandbox.run(&["revoke", "svc", "-y"], "");
    assert_eq!(json(&sandbox.run(&["--json", "list"], "")), json!([]));
}

fn listed_names(sandbox: &Sandbox, args: &[&str]) -> Vec<String> {
    let mut all = vec!["--json", "list"];
    all.extend_from_slice(args);
    let output = sandbox.run(&all, "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    json(&output)
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["name"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn list_filters() {
    let sandbox = Sandbox::new();
    sandbox.create("a", &["--app", "ci", "--scope", "read"]);
    sandbox.create(
        "b",
        &["--app", "bot", "--scope", "read,write", "--expires", "3d"],
    );
    sandbox.create("c", &["--app", "ci", "--expires", "1h"]);
    sandbox.create("d", &[]);
    sandbox.run(&["revoke", "d", "-y"], "");
    sandbox.execute(&format!(
        "UPDATE tokens SET expires_at = {} - 1 WHERE name = 'c'",
        now_secs()
    ));

    assert_eq!(listed_names(&sandbox, &[]), ["a", "b", "c"]);
    assert_eq!(listed_names(&sandbox, &["--all"]), ["a", "b", "c", "d"]);
    assert_eq!(listed_names(&sandbox, &["--app", "ci"]), ["a", "c"]);
    assert_eq!(listed_names(&sandbox, &["--scope", "write"]), ["b"]);
    assert_eq!(
        listed_names(&sandbox, &["--scope", "rea"]),
        Vec::<String>::new()
    );
    assert_eq!(listed_names(&sandbox, &["--status", "active"]), ["a", "b"]);
    assert_eq!(listed_names(&sandbox, &["--status", "expired"]), ["c"]);
    assert_eq!(listed_names(&sandbox, &["--status", "revoked"]), ["d"]);
    assert_eq!(listed_names(&sandbox, &["--expiring", "7d"]), ["b"]);
    let statuses: Vec<String> = json(&sandbox.run(&["--json", "list", "--all"], ""))
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["status"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(statuses, ["active", "active", "expired", "revoked"]);
}

#[test]
fn list_on_a_missing_vault_is_exit_1() {
    let sandbox = Sandbox::new();
    let output = sandbox.run(&["list"], "");
    assert_eq!(code(&output), 1);
    assert!(stderr(&output).contains("no vault at"));
    assert!(!sandbox.vault_exists());
}

#[test]
fn show_every_field_lineage_and_events() {
    let sandbox = Sandbox::new();
    let first = sandbox.create(
        "ci",
        &[
            "--app",
            "ci",
            "--scope",
            "read",
            "--note",
            "for the nightly job",
        ],
    );
    let output = sandbox.run(&["rotate", "ci", "-y"], "");
    let second = parse_issued(&output);
    let output = sandbox.run(&["show", "ci"], "");
    assert_eq!(code(&output), 0);
    let text = stdout(&output);
    for expected in [
        format!("id            {}", second.id()),
        "name          ci".into(),
        "app           ci".into(),
        "scopes        read".into(),
        "status        active".into(),
        "note          for the nightly job".into(),
        format!("rotated from  {}", first.id()),
        "rotated to    -".into(),
        "secret key    issued, unused".into(),
    ] {
        assert!(text.contains(&expected), "missing {expected:?} in:\n{text}");
    }
    assert!(text.contains("recent events") && text.contains("rotated") && text.contains("created"));
    // By id, the old one, with its successor.
    let text = stdout(&sandbox.run(&["show", &first.id()], ""));
    assert!(
        text.contains(&format!("rotated to    {}", second.id())),
        "{text}"
    );
    assert!(text.contains("status        revoked"), "{text}");
    // JSON.
    let value = json(&sandbox.run(&["--json", "show", &first.id()], ""));
    assert_eq!(value["rotated_to"], second.id());
    assert_eq!(value["status"], "revoked");
    assert!(value["events"].as_array().unwrap().len() >= 3);
    assert!(!serde_json::to_string(&value).unwrap().contains("hash"));
    // Unknown.
    let output = sandbox.run(&["show", "nope"], "");
    assert_eq!(code(&output), 1);
    assert_eq!(
        stderr(&output),
        "tokens: no token with id or name \"nope\"; see tokens list\n"
    );
}

#[test]
fn edit_changes_metadata_and_keeps_the_secret() {
    let sandbox = Sandbox::new();
    let issued = sandbox.create("ci", &["--app", "ci", "--scope", "read,write"]);
    let output = sandbox.run(
        &[
            "edit",
            "ci",
            "--rename",
            "ci-main",
            "--add-scope",
            "deploy",
            "--remove-scope",
            "write",
            "--app",
            "builds",
            "--expires",
            "never",
            "--note",
            "hi",
        ],
        "",
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let value = json(&sandbox.run(&["--json", "show", "ci-main"], ""));
    assert_eq!(value["scopes"], json!(["read", "deploy"]));
    assert_eq!(value["app"], "builds");
    assert_eq!(value["expires_at"], serde_json::Value::Null);
    assert_eq!(value["note"], "hi");
    assert_eq!(
        sandbox
            .verify(&issued.token, &["--scope", "deploy", "--app", "builds"])
            .0,
        0
    );
    assert_eq!(sandbox.verify(&issued.token, &["--scope", "write"]).0, 6);
    // Clearing app and note.
    assert_eq!(
        code(&sandbox.run(&["edit", "ci-main", "--app", "", "--note", ""], "")),
        0
    );
    let value = json(&sandbox.run(&["--json", "show", "ci-main"], ""));
    assert_eq!(
        (value["app"].clone(), value["note"].clone()),
        (serde_json::Value::Null, serde_json::Value::Null)
    );
    let edits: i64 = sandbox.query("SELECT count(*) FROM events WHERE kind = 'edited'");
    assert_eq!(edits, 2);
}

#[test]
fn edit_refusals() {
    let sandbox = Sandbox::new();
    sandbox.create("a", &[]);
    sandbox.create("b", &[]);
    let output = sandbox.run(&["edit", "a"], "");
    assert_eq!(code(&output), 2);
    assert!(stderr(&output).contains("nothing to change"));
    let output = sandbox.run(&["edit", "a", "--rename", "b"], "");
    assert_eq!(code(&output), 1);
    assert!(stderr(&output).contains("a token named \"b\" already exists"));
    let output = sandbox.run(&["edit", "a", "--expires", "yesterday"], "");
    assert_eq!(code(&output), 2);
    assert!(
        stderr(&output).starts_with(
            "tokens: invalid --expires \"yesterday\": use a duration such as 30d, a date"
        ),
        "{}",
        stderr(&output)
    );
    sandbox.run(&["revoke", "b", "-y"], "");
    let output = sandbox.run(&["edit", "b", "--note", "x"], "");
    assert_eq!(code(&output), 5);
    assert!(stderr(&output).contains("is revoked and cannot be changed"));
}

#[test]
fn rotate_issues_a_new_token_and_ends_the_old_one() {
    let sandbox = Sandbox::new();
    let old = sandbox.create(
        "ci",
        &["--app", "ci", "--scope", "read", "--expires", "90d"],
    );
    let output = sandbox.run(&["rotate", "ci", "-y"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let new = parse_issued(&output);
    assert_ne!(new.id(), old.id());
    assert!(
        new.secret_key.is_some(),
        "a token with a secret key keeps having one"
    );
    assert_eq!(sandbox.verify(&old.token, &[]).0, 5);
    assert_eq!(
        sandbox
            .verify(&new.token, &["--app", "ci", "--scope", "read"])
            .0,
        0
    );
    let lifetime: i64 = sandbox.query(&format!(
        "SELECT expires_at - created_at FROM tokens WHERE id = '{}'",
        new.id()
    ));
    assert_eq!(
        lifetime,
        90 * 86_400,
        "the new token has the old one's lifetime"
    );
    // Rotating the old one again is refused; the name now means the new one.
    let output = sandbox.run(&["rotate", &old.id(), "-y"], "");
    assert_eq!(code(&output), 5);
    assert_eq!(
        stderr(&output),
        format!(
            "tokens: token \"ci\" ({}) was replaced by {}; use that one\n",
            old.id(),
            new.id()
        )
    );
    assert!(stdout(&output).is_empty());
}

#[test]
fn rotate_without_grace_asks_first_so_scripts_pass_yes() {
    let sandbox = Sandbox::new();
    let old = sandbox.create("ci", &[]);
    let output = sandbox.run(&["rotate", "ci"], "");
    assert_eq!(code(&output), 2);
    assert_eq!(
        stderr(&output),
        "tokens: rotate asks for confirmation: pass --yes to rotate without a terminal\n"
    );
    assert!(stdout(&output).is_empty());
    assert_eq!(
        sandbox.verify(&old.token, &[]).0,
        0,
        "rotated without confirmation"
    );
    assert_eq!(sandbox.query::<i64>("SELECT count(*) FROM tokens"), 1);
    // With --grace the old token is not ended now: no question.
    let output = sandbox.run(&["rotate", "ci", "--grace", "10min"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
}

#[test]
fn create_replace_asks_first_when_it_would_revoke() {
    let sandbox = Sandbox::new();
    // Nothing to replace: no question.
    let first = sandbox.create("bot", &["--app", "slack", "--replace"]);
    let output = sandbox.run(&["create", "bot-2", "--app", "slack", "--replace"], "");
    assert_eq!(code(&output), 2);
    assert!(
        stderr(&output).contains("pass --yes to create --replace"),
        "{}",
        stderr(&output)
    );
    assert_eq!(sandbox.verify(&first.token, &[]).0, 0);
    assert_eq!(sandbox.query::<i64>("SELECT count(*) FROM tokens"), 1);
}

#[test]
fn rotate_with_grace_keeps_the_old_token_verifying_until_it_ends() {
    let sandbox = Sandbox::new();
    let old = sandbox.create("ci", &["--no-secret-key"]);
    let output = sandbox.run(
        &["--json", "rotate", "ci", "--grace", "1h", "--expires", "7d"],
        "",
    );
    assert_eq!(code(&output), 0);
    let value = json(&output);
    assert_eq!(value["secret_key"], serde_json::Value::Null);
    let new_token = value["token"].as_str().unwrap();
    assert_eq!(
        sandbox.verify(&old.token, &[]).0,
        0,
        "old token during grace"
    );
    assert_eq!(sandbox.verify(new_token, &[]).0, 0);
    // When the grace ends, the old one stops.
    sandbox.execute(&format!(
        "UPDATE tokens SET revoked_at = {} - 1 WHERE id = '{}'",
        now_secs(),
        old.id()
    ));
    assert_eq!(sandbox.verify(&old.token, &[]).0, 5);
    assert_eq!(sandbox.verify(new_token, &[]).0, 0);
}

#[test]
fn revoke_needs_yes_without_a_terminal() {
    let sandbox = Sandbox::new();
    let issued = sandbox.create("ci", &[]);
    let output = sandbox.run(&["revoke", "ci"], "");
    assert_eq!(code(&output), 2);
    assert_eq!(
        stderr(&output),
        "tokens: revoke asks for confirmation: pass --yes to revoke without a terminal\n"
    );
    assert_eq!(
        sandbox.verify(&issued.token, &[]).0,
        0,
        "revoked without confirmation"
    );
    let output = sandbox.run(
        &["revoke", "ci", "--yes", "--reason", "leaked in a log"],
        "",
    );
    assert_eq!(code(&output), 0);
    assert_eq!(
        stderr(&output),
        format!("Revoked \"ci\" ({}).\n", issued.id())
    );
    assert_eq!(sandbox.verify(&issued.token, &[]).0, 5);
    let reason: String = sandbox.query("SELECT revoke_reason FROM tokens");
    assert_eq!(reason, "leaked in a log");
    // Revoking again is a no-op that says so; the row stays.
    let output = sandbox.run(&["revoke", &issued.id(), "--yes"], "");
    assert_eq!(code(&output), 0);
    assert_eq!(
        stderr(&output),
        format!(
            "\"ci\" ({}) is already revoked; nothing to do.\n",
            issued.id()
        )
    );
    assert_eq!(sandbox.query::<i64>("SELECT count(*) FROM tokens"), 1);
    assert_eq!(
        sandbox.query::<i64>("SELECT count(*) FROM events WHERE kind = 'revoked'"),
        1
    );
}

#[test]
fn revoke_several_all_of_an_app_and_unknown_names() {
    let sandbox = Sandbox::new();
    let a = sandbox.create("a", &["--app", "bot"]);
    let b = sandbox.create("b", &["--app", "bot"]);
    let c = sandbox.create("c", &["--app", "ci"]);
    let d = sandbox.create("d", &[]);
    // An unknown name anywhere: nothing is revoked.
    let output = sandbox.run(&["revoke", "d", "nope", "-y"], "");
    assert_eq!(code(&output), 1);
    assert_eq!(sandbox.verify(&d.token, &[]).0, 0);
    let output = sandbox.run(&["--json", "revoke", "--app", "bot", "--all", "-y"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(json(&output).as_array().unwrap().len(), 2);
    assert_eq!(sandbox.verify(&a.token, &[]).0, 5);
    assert_eq!(sandbox.verify(&b.token, &[]).0, 5);
    assert_eq!(sandbox.verify(&c.token, &[]).0, 0);
    assert_eq!(code(&sandbox.run(&["revoke", "c", &d.id(), "-y"], "")), 0);
    assert_eq!(sandbox.verify(&c.token, &[]).0, 5);
    assert_eq!(sandbox.verify(&d.token, &[]).0, 5);
    // --all needs --app.
    let output = sandbox.run(&["revoke", "--all", "-y"], "");
    assert_eq!(code(&output), 2);
    assert!(
        stderr(&output).contains("--app <APP>"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn revoke_by_name_also_ends_a_predecessor_in_its_grace() {
    let sandbox = Sandbox::new();
    let old = sandbox.create("ci", &[]);
    let new = parse_issued(&sandbox.run(&["rotate", "ci", "--grace", "1d"], ""));
    assert_eq!(code(&sandbox.run(&["revoke", "ci", "-y"], "")), 0);
    assert_eq!(sandbox.verify(&old.token, &[]).0, 5);
    assert_eq!(sandbox.verify(&new.token, &[]).0, 5);
}

fn refresh_stdin(issued: &Issued) -> String {
    format!(
        "{}\n{}\n",
        issued.token,
        issued.secret_key.as_deref().unwrap()
    )
}

#[test]
fn refresh_trades_the_pair_for_a_new_one_even_after_expiry() {
    let sandbox = Sandbox::new();
    let old = sandbox.create(
        "bot",
        &[
            "--app",
            "slack",
            "--scope",
            "chat:write",
            "--expires",
            "12h",
        ],
    );
    // Expired a minute ago after a 12-hour life, whatever second it was made in.
    let now = now_secs();
    sandbox.execute(&format!(
        "UPDATE tokens SET expires_at = {now} - 60, created_at = {now} - 60 - 43200"
    ));
    assert_eq!(sandbox.verify(&old.token, &[]).0, 4);
    let output = sandbox.run(&["refresh"], &refresh_stdin(&old));
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let new = parse_issued(&output);
    assert!(
        new.secret_key
            .as_deref()
            .unwrap()
            .starts_with(&format!("tks_{}_", new.id()))
    );
    assert_eq!(
        sandbox
            .verify(&new.token, &["--app", "slack", "--scope", "chat:write"])
            .0,
        0
    );
    assert_eq!(sandbox.verify(&old.token, &[]).0, 5, "the old pair is dead");
    let lifetime: i64 = sandbox.query(&format!(
        "SELECT expires_at - created_at FROM tokens WHERE id = '{}'",
        new.id()
    ));
    assert_eq!(lifetime, 12 * 3_600, "same lifetime");
    let name: String = sandbox.query(&format!(
        "SELECT name FROM tokens WHERE id = '{}'",
        new.id()
    ));
    assert_eq!(name, "bot");
}

#[test]
fn refresh_from_env_and_files() {
    let sandbox = Sandbox::new();
    let first = sandbox.create("bot", &[]);
    let output = sandbox
        .cmd(&["refresh", "--token-env", "T", "--secret-key-env", "K"])
        .env("T", &first.token)
        .env("K", first.secret_key.as_deref().unwrap())
        .output()
        .unwrap();
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let second = parse_issued(&output);
    let (token_file, key_file) = (sandbox.path("t"), sandbox.path("k"));
    std::fs::write(&token_file, &second.token).unwrap();
    std::fs::write(&key_file, second.secret_key.as_deref().unwrap()).unwrap();
    let output = sandbox.run(
        &[
            "refresh",
            "--token-file",
            token_file.to_str().unwrap(),
            "--secret-key-file",
            key_file.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(sandbox.verify(&parse_issued(&output).token, &[]).0, 0);
}

#[test]
fn a_used_secret_key_presented_again_revokes_the_whole_lineage() {
    let sandbox = Sandbox::new();
    let first = sandbox.create("bot", &[]);
    let second = parse_issued(&sandbox.run(&["refresh"], &refresh_stdin(&first)));
    let third = parse_issued(&sandbox.run(&["refresh"], &refresh_stdin(&second)));
    let unrelated = sandbox.create("other", &[]);
    assert_eq!(sandbox.verify(&third.token, &[]).0, 0);
    let output = sandbox.run(&["refresh"], &refresh_stdin(&first));
    assert_eq!(code(&output), 5);
    assert_eq!(
        stderr(&output),
        "tokens: this secret key was already used; every token of \"bot\" is now revoked (1 live token ended); ask an admin for a new token\n"
    );
    assert!(stdout(&output).is_empty());
    assert_eq!(sandbox.verify(&third.token, &[]).0, 5);
    assert_eq!(sandbox.verify(&unrelated.token, &[]).0, 0);
    assert_eq!(
        sandbox.query::<i64>("SELECT count(*) FROM events WHERE kind = 'reuse_detected'"),
        1
    );
}

#[test]
fn refresh_refusals() {
    let sandbox = Sandbox::new();
    let plain = sandbox.create("plain", &["--no-secret-key"]);
    let keyed = sandbox.create("keyed", &[]);
    let other = sandbox.create("other", &[]);
    let cases: Vec<(String, i32, &str)> = vec![
        // No secret key issued.
        (
            format!("{}\ntks_{}_{}\n", plain.token, plain.id(), "x"),
            3,
            "the secret key is malformed",
        ),
        // Key of another token.
        (
            format!(
                "{}\n{}\n",
                keyed.token,
                other.secret_key.as_deref().unwrap()
            ),
            3,
            "does not belong to this token",
        ),
        // Swapped lines.
        (
            format!(
                "{}\n{}\n",
                keyed.secret_key.as_deref().unwrap(),
                keyed.token
            ),
            3,
            "the token and the secret key are swapped: give the token first, then its secret key",
        ),
        // Only one line.
        (format!("{}\n", keyed.token), 3, "no secret key on stdin"),
    ];
    for (stdin, expected, message) in cases {
        let output = sandbox.run(&["refresh"], &stdin);
        assert_eq!(code(&output), expected, "{stdin}: {}", stderr(&output));
        assert!(stderr(&output).contains(message), "{}", stderr(&output));
        assert!(stdout(&output).is_empty());
    }
    // A forged key for a token without one.
    let forged = tokens::token::Credential::generate(tokens::token::Kind::SecretKey, &plain.id());
    let output = sandbox.run(
        &["refresh"],
        &format!("{}\n{}\n", plain.token, forged.expose()),
    );
    assert_eq!(code(&output), 3);
    assert!(
        stderr(&output).contains("has no secret key"),
        "{}",
        stderr(&output)
    );
    // A revoked token cannot be refreshed.
    sandbox.run(&["revoke", "keyed", "-y"], "");
    let output = sandbox.run(&["refresh"], &refresh_stdin(&keyed));
    assert_eq!(code(&output), 5);
    assert_eq!(
        sandbox.query::<i64>("SELECT count(*) FROM tokens"),
        3,
        "a refused refresh added a token"
    );
}

#[test]
fn log_lists_every_change_and_filters_by_token_and_time() {
    let sandbox = Sandbox::new();
    let ci = sandbox.create("ci", &[]);
    sandbox.create("other", &[]);
    sandbox.run(&["rotate", "ci", "-y"], "");
    sandbox.run(&["edit", "ci", "--note", "x"], "");
    sandbox.run(&["revoke", "ci", "-y"], "");
    let kinds = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["--json", "log"];
        all.extend_from_slice(args);
        json(&sandbox.run(&all, ""))
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["event"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        kinds(&[]),
        [
            "created", "created", "rotated", "created", "edited", "revoked"
        ]
    );
    assert_eq!(
        kinds(&["ci"]),
        ["created", "rotated", "created", "edited", "revoked"]
    );
    assert_eq!(
        kinds(&[&ci.id()]),
        ["created", "rotated", "created", "edited", "revoked"]
    );
    assert_eq!(kinds(&["other"]), ["created"]);
    assert_eq!(kinds(&["--since", "2099-01-01"]), Vec::<String>::new());
    assert_eq!(kinds(&["--since", "1h"]).len(), 6);
    assert_eq!(code(&sandbox.run(&["log", "--since", "whenever"], "")), 2);
    let text = stdout(&sandbox.run(&["log"], ""));
    assert!(
        text.contains("rotated") && text.contains(&ci.id()),
        "{text}"
    );
}

/// The values `tokens __complete` offers come from whichever backend holds the vault (a
/// PostgreSQL database when the suite runs against one), in byte order like SQLite's.
#[test]
fn vault_values_come_from_either_backend() {
    let sandbox = Sandbox::new();
    let b = sandbox.create("beta", &["--app", "billing", "--scope", "read,write"]);
    let a = sandbox.create("Alpha", &["--app", "ci", "--scope", "deploy"]);
    let gone = sandbox.create("gone", &[]);
    sandbox.run(&["revoke", "gone", "--yes"], "");
    let complete = |words: &[&str]| -> Vec<String> {
        let mut args = vec!["__complete", "--", "tokens"];
        args.extend_from_slice(words);
        let output = sandbox.run(&args, "");
        assert_eq!(code(&output), 0, "{}", stderr(&output));
        stdout(&output).lines().map(str::to_owned).collect()
    };
    // Names first, then ids, each in the order of the names they belong to ("A" < "b" by bytes).
    let expected = vec![
        "Alpha\tapp ci".to_owned(),
        "beta\tapp billing".to_owned(),
        format!("{}\tAlpha", a.id()),
        format!("{}\tbeta", b.id()),
    ];
    assert_eq!(complete(&["revoke", ""]), expected);
    assert!(
        !complete(&["revoke", ""])
            .iter()
            .any(|line| line.contains(&gone.id()))
    );
    assert_eq!(complete(&["list", "--app", ""]), ["billing", "ci"]);
    assert_eq!(
        complete(&["verify", "--scope", ""]),
        ["deploy", "read", "write"]
    );
}
