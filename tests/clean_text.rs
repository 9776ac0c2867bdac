//! Clean text (SPEC §8): notes and reasons with control characters are refused; text another
//! writer put in the vault comes out escaped in every human-readable output, exact in JSON;
//! new names shaped like an id are refused, and an argument that is one token's id and another's
//! name is refused as ambiguous.

mod common;

use common::*;

/// What another writer (raw SQL, another admin's old binary) may store: a screen clear, an OSC
/// window title, a carriage return that overwrites the line with "active", a C1 CSI, a direction
/// override, DEL, a tab and a line break; then the invisible ones: bidi marks (U+200F, U+061C),
/// a zero-width space, a BOM, a no-break and an em space, and a literal backslash sequence that
/// must not read as an escaped escape.
const HOSTILE: &str = "\u{1b}[2J\u{1b}]0;pwned\u{7}\r\u{1b}[2Kactive\u{9b}31m\u{202e}evil\u{7f}\tx\ny\
    \u{200f}rtl\u{61c}\u{200b}\u{feff}nb\u{a0}sp\u{2003}\\x1b";
/// [`HOSTILE`] as every human-readable output shows it (a backslash doubled).
const ESCAPED: &str = r"\x1b[2J\x1b]0;pwned\x07\r\x1b[2Kactive\u{9b}31m\u{202e}evil\x7f\tx\ny\u{200f}rtl\u{61c}\u{200b}\u{feff}nb\u{a0}sp\u{2003}\\x1b";
/// A hostile scope: scopes are stored space separated, so no whitespace in it.
const HOSTILE_SCOPE: &str = "x\u{1b}]0;scope\u{7}\u{9b}2J";
const ESCAPED_SCOPE: &str = r"x\x1b]0;scope\x07\u{9b}2J";
/// A hostile id (and lineage) for a second token.
const HOSTILE_ID: &str = "id\u{1b}[2J\u{9b}H";
const ESCAPED_ID: &str = r"id\x1b[2J\u{9b}H";

/// Fails when `text` holds a control or invisible character other than the line feeds that
/// end its lines.
fn assert_no_control(what: &str, text: &str) {
    for line in text.lines() {
        assert!(
            !line.chars().any(tokens::output::is_hidden),
            "{what} printed a control character: {line:?}"
        );
    }
}

/// A vault in which another writer has put [`HOSTILE`] in every text column: token `a`
/// (revoked, with a reason), token `b` (with a hostile id and lineage), and an event of its own.
/// Returns `a`'s id and `b`'s original id.
fn hostile_vault(sandbox: &Sandbox) -> (String, String) {
    let a = sandbox.create("a", &["--scope", "read"]).id();
    let b = sandbox.create("b", &[]).id();
    assert_eq!(
        code(&sandbox.run(&["revoke", "a", "--yes", "--reason", "audit"], "")),
        0
    );
    sandbox.execute(&format!(
        "UPDATE tokens SET name = '{HOSTILE}', app = '{HOSTILE}', scopes = 'read {HOSTILE_SCOPE}', \
         note = '{HOSTILE}', revoke_reason = '{HOSTILE}', secret_tail = '{HOSTILE}', \
         rotated_from = '{HOSTILE}', replaced_by = '{HOSTILE}' WHERE id = '{a}';
         UPDATE events SET kind = '{HOSTILE}', detail = '{HOSTILE}' WHERE token_id = '{a}';
         UPDATE tokens SET id = '{HOSTILE_ID}', lineage = '{HOSTILE_ID}', note = '{HOSTILE}' \
         WHERE id = '{b}';
         INSERT INTO events (at, token_id, kind, detail) \
         VALUES ({}, '{HOSTILE_ID}', '{HOSTILE}', '{HOSTILE}');",
        now_secs()
    ));
    (a, b)
}

#[test]
fn text_from_another_writer_is_escaped_in_list_show_and_log_and_exact_in_json() {
    let sandbox = Sandbox::new();
    let (a, _) = hostile_vault(&sandbox);

    let list = sandbox.run(&["list", "--all"], "");
    assert_eq!(code(&list), 0, "{}", stderr(&list));
    assert_no_control("list", &stdout(&list));
    let row = stdout(&list)
        .lines()
        .find(|line| line.trim_start().starts_with(&a))
        .unwrap_or_else(|| panic!("no row for {a}: {}", stdout(&list)))
        .to_owned();
    assert!(row.contains(ESCAPED), "{row}");
    assert!(row.contains(&format!("read,{ESCAPED_SCOPE}")), "{row}");
    assert!(row.contains(&format!("tk_{a}_…{ESCAPED}")), "{row}");
    assert!(row.trim_end().ends_with("revoked"), "{row}");
    assert!(stdout(&list).contains(ESCAPED_ID), "{}", stdout(&list));

    let show = sandbox.run(&["show", &a], "");
    assert_eq!(code(&show), 0, "{}", stderr(&show));
    let shown = stdout(&show);
    assert_no_control("show", &shown);
    for field in ["name", "app", "note", "rotated from", "rotated to"] {
        assert!(
            shown.contains(&format!("{field:<14}{ESCAPED}\n")),
            "{field}: {shown}"
        );
    }
    assert!(shown.contains(&format!("scopes        read, {ESCAPED_SCOPE}\n")));
    assert!(shown.contains(&format!("token         tk_{a}_…{ESCAPED}\n")));
    assert!(shown.contains("status        revoked\n"), "{shown}");
    assert!(
        shown.contains(&format!(" — {ESCAPED}\n")),
        "reason: {shown}"
    );
    assert!(
        shown.contains(&format!("{:<14} {ESCAPED}\n", ESCAPED)),
        "events: {shown}"
    );
    let show_b = sandbox.run(&["show", "b"], "");
    assert_eq!(code(&show_b), 0, "{}", stderr(&show_b));
    assert_no_control("show", &stdout(&show_b));
    assert!(stdout(&show_b).contains(&format!("id            {ESCAPED_ID}\n")));
    assert!(stdout(&show_b).contains(&format!("  {ESCAPED_ID}  {ESCAPED}")));

    let log = sandbox.run(&["log"], "");
    assert_eq!(code(&log), 0, "{}", stderr(&log));
    assert_no_control("log", &stdout(&log));
    // Token, name, event and detail columns (padded to the widest cell).
    let logged = stdout(&log);
    let lines: Vec<&str> = logged.lines().collect();
    assert!(
        lines
            .iter()
            .any(|line| line.contains(&format!("{ESCAPED_ID}  b "))
                && line.matches(ESCAPED).count() == 2),
        "{}",
        stdout(&log)
    );
    assert!(
        lines
            .iter()
            .any(|line| line.contains(&a) && line.matches(ESCAPED).count() == 3),
        "{}",
        stdout(&log)
    );
    for output in [&list, &show, &show_b, &log] {
        assert_no_control("stderr", &stderr(output));
    }

    // JSON keeps it exact.
    let list = json(&sandbox.run(&["list", "--all", "--json"], ""));
    let row = list
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["id"] == a.as_str())
        .unwrap();
    assert_eq!(row["name"], HOSTILE);
    assert_eq!(row["app"], HOSTILE);
    assert_eq!(row["note"], HOSTILE);
    assert_eq!(row["scopes"], serde_json::json!(["read", HOSTILE_SCOPE]));
    assert_eq!(row["masked"], format!("tk_{a}_…{HOSTILE}"));
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|row| row["id"] == HOSTILE_ID)
    );

    let show = json(&sandbox.run(&["show", &a, "--json"], ""));
    for field in [
        "name",
        "app",
        "note",
        "revoke_reason",
        "rotated_from",
        "rotated_to",
    ] {
        assert_eq!(show[field], HOSTILE, "{field}");
    }
    assert!(
        show["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|event| event["event"] == HOSTILE && event["detail"] == HOSTILE),
        "{show}"
    );
    let log = json(&sandbox.run(&["log", "--json"], ""));
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .any(|event| event["token_id"] == HOSTILE_ID && event["detail"] == HOSTILE),
        "{log}"
    );
}

#[test]
fn messages_that_quote_the_vault_escape_it() {
    let sandbox = Sandbox::new();
    let issued = sandbox.create("ci", &[]);
    let other = sandbox.create("other", &[]);
    sandbox.execute(&format!(
        "UPDATE tokens SET name = '{HOSTILE}' WHERE id = '{}';
         UPDATE tokens SET name = 'old{HOSTILE}', revoked_at = 1 WHERE id = '{}'",
        issued.id(),
        other.id()
    ));
    // Messages on stderr: an error that names the token, rotate's and revoke's notices.
    let edit = sandbox.run(&["edit", &other.id(), "--note", "n"], "");
    assert_eq!(code(&edit), 5, "{}", stderr(&edit));
    assert!(
        stderr(&edit).contains(&format!("\"old{ESCAPED}\"")),
        "{}",
        stderr(&edit)
    );
    let rotate = sandbox.run(&["rotate", &issued.id(), "--grace", "1h"], "");
    assert_eq!(code(&rotate), 0, "{}", stderr(&rotate));
    let revoke = sandbox.run(&["revoke", &issued.id(), "--yes"], "");
    assert_eq!(code(&revoke), 0, "{}", stderr(&revoke));
    assert!(
        stderr(&revoke).contains(&format!("Revoked \"{ESCAPED}\" ({}).", issued.id())),
        "{}",
        stderr(&revoke)
    );
    let (code, message) = sandbox.verify(&issued.token, &[]);
    assert_eq!(code, 5, "{message}");
    assert!(
        message.contains(&format!("token \"{ESCAPED}\"")),
        "{message}"
    );
    for output in [&edit, &rotate, &revoke] {
        assert_no_control("message", &stderr(output));
        assert_no_control("message", &stdout(output));
    }
    assert_no_control("verify", &message);
}

#[test]
fn control_characters_in_a_note_or_reason_are_refused() {
    let sandbox = Sandbox::new();
    let issued = sandbox.create("ci", &[]);
    let before = sandbox.run(&["show", "ci", "--json"], "");
    for text in [
        "line\nbreak",
        "tab\there",
        "back\rspace",
        "\u{1b}[2Jclear",
        "\u{1b}]0;title\u{7}",
        "del\u{7f}",
        "c1\u{9b}31m",
        "\u{202e}reversed",
        "\u{2067}isolate",
    ] {
        for args in [
            vec!["create", "new", "--note", text],
            vec!["edit", "ci", "--note", text],
            vec!["revoke", "ci", "--yes", "--reason", text],
        ] {
            let output = sandbox.run(&args, "");
            assert_eq!(code(&output), 2, "{args:?}: {}", stderr(&output));
            let message = stderr(&output);
            assert_eq!(message.lines().count(), 1, "{message}");
            assert!(message.contains("control character"), "{message}");
            assert!(
                message.starts_with("tokens: invalid value for --"),
                "{message}"
            );
            assert_no_control("the refusal", &message);
            assert!(!message.contains(text), "echoed: {message}");
        }
    }
    // Another mistake on a line with a control character says what, without the values.
    let output = sandbox.run(&["list", "--bogus", "\u{1b}[2J"], "");
    assert_eq!(code(&output), 2);
    assert_eq!(stderr(&output).lines().count(), 1, "{}", stderr(&output));
    assert!(stderr(&output).contains("--bogus"), "{}", stderr(&output));
    assert_no_control("the refusal", &stderr(&output));
    // Messages that quote an argument escape it.
    let output = sandbox.run(&["show", "\u{1b}]0;x\u{7}"], "");
    assert_eq!(code(&output), 1);
    assert_eq!(
        stderr(&output),
        "tokens: no token with id or name \"\\x1b]0;x\\x07\"; see tokens list\n"
    );
    // Nothing changed; plain text (with accents and quotes) is fine.
    assert_eq!(
        stdout(&sandbox.run(&["show", "ci", "--json"], "")),
        stdout(&before)
    );
    assert_eq!(sandbox.query::<i64>("SELECT count(*) FROM tokens"), 1);
    let output = sandbox.run(
        &["edit", "ci", "--note", "owned by \"platform\" — équipe"],
        "",
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(sandbox.verify(&issued.token, &[]).0, 0);
}

#[test]
fn a_new_name_shaped_like_an_id_is_refused_and_an_old_one_keeps_working() {
    let sandbox = Sandbox::new();
    sandbox.create("ci", &[]);
    for args in [
        vec!["create", "AbCdEfGh1234"],
        vec!["edit", "ci", "--rename", "AbCdEfGh1234"],
    ] {
        let output = sandbox.run(&args, "");
        assert_eq!(code(&output), 2, "{args:?}: {}", stderr(&output));
        assert!(
            stderr(&output).contains("is the shape of a token id"),
            "{}",
            stderr(&output)
        );
    }
    assert_eq!(sandbox.query::<i64>("SELECT count(*) FROM tokens"), 1);
    assert_eq!(sandbox.query::<String>("SELECT name FROM tokens"), "ci");
    // Longer, shorter or with punctuation: fine.
    sandbox.create("AbCdEfGh1234-v2", &[]);
    sandbox.create("AbCdEfGh123", &[]);

    // A name of that shape already in the vault (from before, or another program) keeps working.
    let issued = sandbox.create("legacy", &[]);
    sandbox.execute(&format!(
        "UPDATE tokens SET name = 'Legacy000001' WHERE id = '{}'",
        issued.id()
    ));
    let output = sandbox.run(&["show", "Legacy000001", "--json"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(json(&output)["id"], issued.id());
    let output = sandbox.run(&["edit", "Legacy000001", "--note", "still here"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let output = sandbox.run(&["rotate", "Legacy000001", "--yes"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let rotated = parse_issued(&output);
    assert_eq!(sandbox.verify(&issued.token, &[]).0, 5);
    let output = sandbox.run(&["revoke", "Legacy000001", "--yes"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(sandbox.verify(&rotated.token, &[]).0, 5);
}

#[test]
fn an_argument_that_is_one_tokens_id_and_anothers_name_is_ambiguous() {
    let sandbox = Sandbox::new();
    let target = sandbox.create("target", &[]);
    let named = sandbox.create("named", &[]);
    let (target_id, named_id) = (target.id(), named.id());
    // Another writer names a token after the other token's id.
    sandbox.execute(&format!(
        "UPDATE tokens SET name = '{target_id}' WHERE id = '{named_id}'"
    ));
    for args in [
        vec!["revoke", target_id.as_str(), "--yes"],
        vec!["rotate", target_id.as_str(), "--yes"],
        vec!["edit", target_id.as_str(), "--note", "n"],
        vec!["show", target_id.as_str()],
        vec!["log", target_id.as_str()],
    ] {
        let output = sandbox.run(&args, "");
        assert_eq!(code(&output), 2, "{args:?}: {}", stderr(&output));
        assert_eq!(
            stderr(&output),
            format!(
                "tokens: \"{target_id}\" is the id of token \"target\" and the name of token \
                 {named_id}; give \"target\" for the first or {named_id} for the second (or \
                 rename the second: tokens edit {named_id} --rename NEW)\n"
            ),
            "{args:?}"
        );
    }
    // Nothing was revoked, rotated or edited.
    assert_eq!(sandbox.verify(&target.token, &[]).0, 0);
    assert_eq!(sandbox.verify(&named.token, &[]).0, 0);
    assert_eq!(sandbox.query::<i64>("SELECT count(*) FROM tokens"), 2);
    assert_eq!(
        sandbox.query::<i64>("SELECT count(*) FROM events WHERE kind <> 'created'"),
        0
    );
    // As the message says: each by the name or id that means only it.
    let output = sandbox.run(&["revoke", &named_id, "--yes"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(sandbox.verify(&named.token, &[]).0, 5);
    assert_eq!(sandbox.verify(&target.token, &[]).0, 0);
    // Once the name is no longer live, the id means its token again.
    let output = sandbox.run(&["revoke", &target_id, "--yes"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(sandbox.verify(&target.token, &[]).0, 5);
}
