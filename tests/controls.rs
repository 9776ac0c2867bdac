//! SPEC §9's verify-time controls, on whichever backend the tests run against (PostgreSQL when
//! `TOKENS_TEST_POSTGRES` is set): disable/enable (exit 7), use limits spent atomically (exit 4,
//! `used_up`; exactly N of K racing verifies), address binding (exit 6, `forbidden`), metadata,
//! SPEC §5's verdict order, and what rotation and refresh carry over.

mod common;

use std::process::Stdio;

use common::*;
use serde_json::{Value, json};

/// `tokens ARGS` with `stdin`: exit code, stdout, stderr.
fn run(sandbox: &Sandbox, args: &[&str], stdin: &str) -> (i32, String, String) {
    let output = sandbox.run(args, stdin);
    (code(&output), stdout(&output), stderr(&output))
}

fn verify_json(sandbox: &Sandbox, token: &str, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["--json", "verify"];
    all.extend_from_slice(args);
    let output = sandbox.run(&all, &format!("{token}\n"));
    (code(&output), json(&output))
}

fn show_json(sandbox: &Sandbox, id: &str) -> Value {
    json(&sandbox.run(&["--json", "show", id], ""))
}

/// The `verify --json` document of a known token whose secret matched.
fn verdict(id: &str, name: &str, reason: &str, meta: Value, uses_left: Value) -> Value {
    let document = json!({
        "app": null,
        "id": id,
        "meta": meta,
        "name": name,
        "reason": reason,
        "scopes": [],
        "uses_left": uses_left,
        "valid": reason == "ok",
    });
    document
}

/// `verify_json`'s document without what the test does not fix: its `expires_at` (a time),
/// and its `detail`, checked here to be null exactly for `ok` (the words are tested apart).
fn comparable(mut value: Value) -> Value {
    let fields = value.as_object_mut().unwrap();
    fields.remove("expires_at");
    let detail = fields.remove("detail").expect("a verdict has a detail");
    assert_eq!(
        detail.is_null(),
        fields["reason"] == "ok",
        "detail {detail} for {}",
        fields["reason"]
    );
    value
}

#[test]
fn a_disabled_token_answers_7_until_enabled_and_each_change_is_an_event() {
    let sandbox = Sandbox::new();
    let token = sandbox.create("ci", &["--no-secret-key"]);
    let id = token.id();

    let (status, out, err) = run(&sandbox, &["disable", "ci", "--reason", "INC-7 leak?"], "");
    assert_eq!((status, out.as_str()), (0, ""), "{err}");
    assert_eq!(err, format!("Disabled \"ci\" ({id}).\n"));
    assert_eq!(
        sandbox.verify(&token.token, &[]),
        (
            7,
            format!(
                "tokens: token \"ci\" ({id}) was disabled just now (INC-7 leak?); an admin can \
                 enable it: tokens enable {id}\n"
            )
        )
    );
    let (status, document) = verify_json(&sandbox, &token.token, &[]);
    assert_eq!(status, 7);
    assert_eq!(
        comparable(document),
        verdict(&id, "ci", "disabled", json!({}), Value::Null)
    );
    // Listed as disabled, found by --status disabled and not by --status active.
    let listed = json(&sandbox.run(&["--json", "list", "--status", "disabled"], ""));
    assert_eq!(listed[0]["id"], id.as_str());
    assert_eq!(listed[0]["status"], "disabled");
    let active = json(&sandbox.run(&["--json", "list", "--status", "active"], ""));
    assert_eq!(active, json!([]));
    let shown = show_json(&sandbox, &id);
    assert_eq!(shown["disable_reason"], "INC-7 leak?");
    assert!(shown["disabled_at"].is_string());

    // A second disable changes nothing and says so.
    let (status, _, err) = run(&sandbox, &["disable", &id], "");
    assert_eq!(
        (status, err),
        (
            0,
            format!("\"ci\" ({id}) is already disabled; nothing to do.\n")
        )
    );
    let (status, out, _) = run(&sandbox, &["--json", "enable", "ci"], "");
    assert_eq!(status, 0);
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap(),
        json!([{ "id": id, "name": "ci", "already_enabled": false }])
    );
    assert_eq!(sandbox.verify(&token.token, &[]).0, 0);
    assert_eq!(show_json(&sandbox, &id)["disabled_at"], Value::Null);

    let events = json(&sandbox.run(&["--json", "log", "ci"], ""));
    let kinds: Vec<(&str, &str)> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|event| {
            (
                event["event"].as_str().unwrap(),
                event["detail"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("created", "no scopes"),
            ("disabled", "INC-7 leak?"),
            ("verify_failed", "disabled"),
            ("enabled", ""),
        ]
    );

    // A revoked token has nothing to suspend: exit 5, nothing written.
    assert_eq!(code(&sandbox.run(&["revoke", "ci", "--yes"], "")), 0);
    let (status, _, err) = run(&sandbox, &["disable", &id], "");
    assert_eq!(
        (status, err),
        (
            5,
            format!("tokens: token \"ci\" ({id}) is revoked; there is nothing to disable\n")
        )
    );
    assert_eq!(
        sandbox.query::<i64>("SELECT count(*) FROM tokens WHERE disabled_at IS NOT NULL"),
        0
    );
    let (status, _, err) = run(&sandbox, &["disable", "nothing-here"], "");
    assert_eq!(
        (status, err.as_str()),
        (
            1,
            "tokens: no token with id or name \"nothing-here\"; see tokens list\n"
        )
    );
}

#[test]
fn disabling_a_name_covers_a_token_in_its_rotation_grace() {
    let sandbox = Sandbox::new();
    let old = sandbox.create("svc", &["--no-secret-key"]);
    let rotated = sandbox.run(&["rotate", "svc", "--grace", "1h"], "");
    assert_eq!(code(&rotated), 0, "{}", stderr(&rotated));
    let new = parse_issued(&rotated);
    assert_eq!(code(&sandbox.run(&["disable", "svc"], "")), 0);
    assert_eq!(sandbox.verify(&old.token, &[]).0, 7);
    assert_eq!(sandbox.verify(&new.token, &[]).0, 7);
    assert_eq!(code(&sandbox.run(&["enable", "svc"], "")), 0);
    assert_eq!(sandbox.verify(&old.token, &[]).0, 0);
    assert_eq!(sandbox.verify(&new.token, &[]).0, 0);
}

#[test]
fn refreshing_a_disabled_token_is_exit_7_and_issues_nothing() {
    let sandbox = Sandbox::new();
    let token = sandbox.create("bot", &[]);
    let id = token.id();
    assert_eq!(code(&sandbox.run(&["disable", &id], "")), 0);
    let stdin = format!("{}\n{}\n", token.token, token.secret_key.unwrap());
    let (status, out, err) = run(&sandbox, &["refresh"], &stdin);
    assert_eq!((status, out.as_str()), (7, ""));
    assert_eq!(
        err,
        format!(
            "tokens: token \"bot\" ({id}) is disabled, so it cannot be refreshed; nothing was \
             issued (an admin can enable it: tokens enable {id})\n"
        )
    );
    assert_eq!(sandbox.query::<i64>("SELECT count(*) FROM tokens"), 1);
    assert_eq!(
        sandbox.query::<Option<i64>>("SELECT secret_key_used_at FROM tokens"),
        None,
        "the secret key is not spent"
    );
    // Enabled again, the same pair refreshes.
    assert_eq!(code(&sandbox.run(&["enable", &id], "")), 0);
    assert_eq!(code(&sandbox.run(&["refresh"], &stdin)), 0);
}

#[test]
fn a_use_limit_lets_exactly_n_verdicts_through_and_failed_checks_spend_nothing() {
    let sandbox = Sandbox::new();
    let token = sandbox.create(
        "enrol",
        &["--uses", "2", "--scope", "read", "--no-secret-key"],
    );
    let id = token.id();
    assert_eq!(show_json(&sandbox, &id)["uses_left"], 2);

    // A failed scope check spends nothing.
    assert_eq!(
        sandbox.verify(&token.token, &["--scope", "write"]),
        (
            6,
            format!("tokens: token \"enrol\" ({id}) lacks the scope \"write\"\n")
        )
    );
    assert_eq!(show_json(&sandbox, &id)["uses_left"], 2);

    let (status, document) = verify_json(&sandbox, &token.token, &[]);
    assert_eq!((status, &document["uses_left"]), (0, &json!(1)));
    assert_eq!(sandbox.verify(&token.token, &[]), (0, String::new()));
    let used_up = format!(
        "tokens: token \"enrol\" ({id}) has used all its 2 uses; ask an admin for more (tokens \
         edit {id} --uses N)\n"
    );
    assert_eq!(sandbox.verify(&token.token, &[]), (4, used_up.clone()));
    // used_up comes before the scope check (SPEC §5's order).
    assert_eq!(
        sandbox.verify(&token.token, &["--scope", "write"]),
        (4, used_up)
    );
    let (status, document) = verify_json(&sandbox, &token.token, &[]);
    assert_eq!(status, 4);
    let mut expected = verdict(&id, "enrol", "used_up", json!({}), json!(0));
    expected["scopes"] = json!(["read"]);
    assert_eq!(comparable(document), expected);
    let listed = json(&sandbox.run(&["--json", "list", "--status", "used_up"], ""));
    assert_eq!(
        (listed[0]["id"].as_str(), &listed[0]["status"]),
        (Some(id.as_str()), &json!("used_up"))
    );
    assert!(sandbox.query::<i64>("SELECT count(*) FROM token_usage") == 1);
    assert!(
        sandbox
            .query::<Option<i64>>("SELECT last_used_at FROM token_usage")
            .is_some(),
        "the spend records the last use"
    );

    // `edit --uses N` leaves N uses from now; `unlimited` lifts the limit.
    assert_eq!(code(&sandbox.run(&["edit", &id, "--uses", "1"], "")), 0);
    assert_eq!(show_json(&sandbox, &id)["uses_left"], 1);
    assert_eq!(sandbox.verify(&token.token, &[]).0, 0);
    assert_eq!(sandbox.verify(&token.token, &[]).0, 4);
    assert_eq!(
        code(&sandbox.run(&["edit", &id, "--uses", "unlimited"], "")),
        0
    );
    let shown = show_json(&sandbox, &id);
    assert_eq!(
        (&shown["uses_left"], &shown["status"]),
        (&Value::Null, &json!("active"))
    );
    assert_eq!(sandbox.verify(&token.token, &[]).0, 0);

    for bad in ["0", "-1", "many", "1.5"] {
        let (status, _, err) = run(&sandbox, &["create", "x", &format!("--uses={bad}")], "");
        assert_eq!(status, 2, "{bad}: {err}");
        assert!(err.contains("from 1 up"), "{err}");
    }
}

#[test]
fn verdicts_name_the_first_reason_in_spec_order() {
    let sandbox = Sandbox::new();
    let now = now_secs();
    // revoked > expired > disabled > used_up > scope/app/address.
    let both = sandbox.create("both", &["--no-secret-key", "--uses", "1"]);
    assert_eq!(code(&sandbox.run(&["disable", "both"], "")), 0);
    assert_eq!(code(&sandbox.run(&["revoke", &both.id(), "--yes"], "")), 0);
    assert_eq!(sandbox.verify(&both.token, &[]).0, 5);

    let expired = sandbox.create("expired", &["--no-secret-key"]);
    assert_eq!(code(&sandbox.run(&["disable", "expired"], "")), 0);
    sandbox.execute(&format!(
        "UPDATE tokens SET expires_at = {} WHERE name = 'expired'",
        now - 60
    ));
    assert_eq!(sandbox.verify(&expired.token, &[]).0, 4);
    assert_eq!(
        verify_json(&sandbox, &expired.token, &[]).1["reason"],
        "expired"
    );

    let spent = sandbox.create(
        "spent",
        &[
            "--no-secret-key",
            "--uses",
            "1",
            "--allow-from",
            "10.0.0.0/8",
        ],
    );
    assert_eq!(
        sandbox.verify(&spent.token, &["--client-ip", "10.0.0.1"]).0,
        0
    );
    assert_eq!(code(&sandbox.run(&["disable", "spent"], "")), 0);
    assert_eq!(
        verify_json(&sandbox, &spent.token, &["--client-ip", "10.0.0.1"]).1["reason"],
        "disabled"
    );
    assert_eq!(code(&sandbox.run(&["enable", "spent"], "")), 0);
    // Used up, presented from outside its addresses: used_up, exit 4.
    let (status, document) = verify_json(&sandbox, &spent.token, &["--client-ip", "192.0.2.1"]);
    assert_eq!((status, &document["reason"]), (4, &json!("used_up")));
}

#[test]
fn a_bound_token_verifies_only_from_its_addresses() {
    let sandbox = Sandbox::new();
    let token = sandbox.create(
        "edge",
        &[
            "--no-secret-key",
            "--allow-from",
            "10.1.2.3/8,2001:db8::/32",
            "--allow-from",
            "192.0.2.7",
        ],
    );
    let id = token.id();
    assert_eq!(
        show_json(&sandbox, &id)["allow_from"],
        json!(["10.0.0.0/8", "2001:db8::/32", "192.0.2.7/32"])
    );
    let nets = "10.0.0.0/8,2001:db8::/32,192.0.2.7/32";
    assert_eq!(
        sandbox.verify(&token.token, &[]),
        (
            6,
            format!(
                "tokens: token \"edge\" ({id}) is bound to addresses ({nets}) and no client \
                 address was given; pass --client-ip ADDR (in --batch: the address after the token)\n"
            )
        )
    );
    assert_eq!(
        sandbox.verify(&token.token, &["--client-ip", "192.0.2.8"]),
        (
            6,
            format!("tokens: token \"edge\" ({id}) is not allowed from 192.0.2.8 (only {nets})\n")
        )
    );
    let (status, document) = verify_json(&sandbox, &token.token, &["--client-ip", "11.0.0.1"]);
    assert_eq!(status, 6);
    assert_eq!(
        comparable(document),
        verdict(&id, "edge", "forbidden", json!({}), Value::Null)
    );
    for inside in ["10.200.0.1", "192.0.2.7", "2001:db8::1", "::ffff:10.0.0.9"] {
        assert_eq!(
            sandbox.verify(&token.token, &["--client-ip", inside]),
            (0, String::new()),
            "{inside}"
        );
    }
    // Nothing was written for the address refusals but their failure counters.
    assert_eq!(
        sandbox.query::<i64>("SELECT failures FROM verify_failures WHERE reason = 'forbidden'"),
        3
    );
    let (status, _, err) = run(&sandbox, &["verify", "--client-ip", "10.0.0.300"], "");
    assert_eq!(status, 2, "{err}");
    let (status, _, err) = run(
        &sandbox,
        &["create", "bad", "--allow-from", "10.0.0.0/33"],
        "",
    );
    assert_eq!(status, 2, "{err}");
    assert!(err.contains("use an IPv4 or IPv6 address or CIDR"), "{err}");

    // --any-address unbinds it.
    assert_eq!(
        code(&sandbox.run(&["edit", "edge", "--any-address"], "")),
        0
    );
    assert_eq!(show_json(&sandbox, &id)["allow_from"], Value::Null);
    assert_eq!(sandbox.verify(&token.token, &[]).0, 0);
}

#[test]
fn a_batch_line_may_carry_the_client_address() {
    let sandbox = Sandbox::new();
    let bound = sandbox.create(
        "bound",
        &[
            "--no-secret-key",
            "--allow-from",
            "10.0.0.0/8",
            "--meta",
            "tenant=acme",
        ],
    );
    let once = sandbox.create("once", &["--no-secret-key", "--uses", "1"]);
    let (b, o) = (bound.token.as_str(), once.token.as_str());
    let input = format!(
        "{b} 10.0.0.1\n{b}\t 10.9.9.9  \n{b}\n{b} 192.0.2.1\n{b} not-an-address\n{b} 10.0.0.1 extra\n{o} 192.0.2.1\n{o}\n"
    );
    let output = sandbox.run(&["verify", "--batch"], &input);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let lines: Vec<Value> = stdout(&output)
        .lines()
        .map(|line| comparable(serde_json::from_str(line).unwrap()))
        .collect();
    let acme = json!({ "tenant": "acme" });
    // The line's extra text is refused, not the token: answered with the presented id.
    let malformed = json!({
        "app": null, "id": bound.id(), "meta": null, "name": null, "reason": "malformed",
        "scopes": null, "uses_left": null, "valid": false,
    });
    let (bound_id, once_id) = (bound.id(), once.id());
    assert_eq!(
        lines,
        [
            verdict(&bound_id, "bound", "ok", acme.clone(), Value::Null),
            verdict(&bound_id, "bound", "ok", acme.clone(), Value::Null),
            verdict(&bound_id, "bound", "forbidden", acme.clone(), Value::Null),
            verdict(&bound_id, "bound", "forbidden", acme, Value::Null),
            malformed.clone(),
            malformed,
            verdict(&once_id, "once", "ok", json!({}), json!(0)),
            verdict(&once_id, "once", "used_up", json!({}), json!(0)),
        ]
    );
}

/// SPEC §4: the address is written by the service, never copied from the client. With the
/// trusted `--client-ip`, a line that carries its own address (one the token is allowed from,
/// here) is `malformed`, naming the address, and is no failure of the token.
#[test]
fn with_client_ip_a_line_cannot_pick_its_own_address() {
    let sandbox = Sandbox::new();
    let bound = sandbox.create("bound", &["--no-secret-key", "--allow-from", "10.0.0.0/8"]);
    let b = bound.token.as_str();
    let output = sandbox.run(
        &["verify", "--batch", "--client-ip", "192.0.2.1"],
        &format!("{b}\n{b} 10.1.2.3\n{b} not-an-address\n{b} ::ffff:10.1.2.3\n"),
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let lines: Vec<Value> = stdout(&output)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let answer = |line: &Value| {
        (
            line["reason"].as_str().unwrap().to_owned(),
            line["id"].clone(),
            line["detail"].as_str().unwrap().to_owned(),
        )
    };
    let id = json!(bound.id());
    let carried = |address: &str| {
        format!(
            "the line carries a client address ({address}) and --client-ip 192.0.2.1 is given: \
             the address comes from the service (--client-ip), never from the line"
        )
    };
    assert_eq!(
        lines.iter().map(answer).collect::<Vec<_>>(),
        [
            (
                "forbidden".to_owned(),
                id.clone(),
                format!(
                    "token \"bound\" ({}) is not allowed from 192.0.2.1 (only 10.0.0.0/8)",
                    bound.id()
                )
            ),
            ("malformed".to_owned(), id.clone(), carried("10.1.2.3")),
            (
                "malformed".to_owned(),
                id.clone(),
                "the client address after the token is not an IP address".to_owned()
            ),
            ("malformed".to_owned(), id, carried("::ffff:10.1.2.3")),
        ]
    );
    assert!(!stdout(&output).contains(&b[16..]), "a secret in an answer");
    // Only the trusted address's refusal counts against the token.
    assert_eq!(
        sandbox.query::<i64>("SELECT count(*) FROM verify_failures"),
        1
    );
    assert_eq!(
        sandbox.query::<i64>("SELECT failures FROM verify_failures WHERE reason = 'forbidden'"),
        1
    );

    // --client-ip stands for lines without an address; without it, the line's address is used.
    let output = sandbox.run(
        &["verify", "--batch", "--client-ip", "10.0.0.5"],
        &format!("{b}\n"),
    );
    assert!(
        stdout(&output).contains(r#""reason":"ok""#),
        "{}",
        stdout(&output)
    );
    let output = sandbox.run(&["verify", "--batch"], &format!("{b} 10.0.0.5\n"));
    assert!(
        stdout(&output).contains(r#""reason":"ok""#),
        "{}",
        stdout(&output)
    );
}

/// `--allow-from ::ffff:10.0.0.0/104` is the IPv4 network it means, and matches.
#[test]
fn an_ipv4_mapped_network_is_stored_as_ipv4() {
    let sandbox = Sandbox::new();
    let mapped = sandbox.create(
        "mapped",
        &["--no-secret-key", "--allow-from", "::ffff:10.0.0.0/104"],
    );
    assert_eq!(
        show_json(&sandbox, &mapped.id())["allow_from"],
        json!(["10.0.0.0/8"])
    );
    for (client, expected) in [("10.9.8.7", 0), ("::ffff:10.9.8.7", 0), ("11.0.0.1", 6)] {
        assert_eq!(
            sandbox.verify(&mapped.token, &["--client-ip", client]).0,
            expected,
            "{client}"
        );
    }
    let (status, _, err) = run(
        &sandbox,
        &["edit", "mapped", "--allow-from", "::ffff:0.0.0.0/80"],
        "",
    );
    assert_eq!(status, 2, "{err}");
    assert!(
        err.contains(
            "::ffff:0.0.0.0/80 is an IPv4-mapped network with a prefix under 96, which also \
             covers addresses that are not IPv4; write the IPv4 network, e.g. 10.0.0.0/8"
        ),
        "{err}"
    );
    assert_eq!(
        show_json(&sandbox, &mapped.id())["allow_from"],
        json!(["10.0.0.0/8"])
    );
}

#[test]
fn metadata_is_checked_at_input_and_returned_everywhere() {
    let sandbox = Sandbox::new();
    let output = sandbox.run(
        &[
            "--json",
            "create",
            "tenant-bot",
            "--no-secret-key",
            "--meta",
            "tenant=acme",
            "--meta",
            "plan=pro",
            "--meta",
            "note.v1=a=b",
            "--uses",
            "5",
            "--allow-from",
            "192.0.2.0/24",
        ],
        "",
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let mut created = json(&output);
    let id = created["id"].as_str().unwrap().to_owned();
    let token = created["token"].as_str().unwrap().to_owned();
    for field in ["created_at", "expires_at", "id", "token"] {
        assert!(created[field].is_string(), "{field}");
        created.as_object_mut().unwrap().remove(field);
    }
    let meta = json!({ "note.v1": "a=b", "plan": "pro", "tenant": "acme" });
    assert_eq!(
        created,
        json!({
            "allow_from": ["192.0.2.0/24"],
            "app": null,
            "meta": meta,
            "name": "tenant-bot",
            "scopes": [],
            "secret_key": null,
            "uses_left": 5,
        })
    );
    let (status, document) = verify_json(&sandbox, &token, &["--client-ip", "192.0.2.9"]);
    assert_eq!(status, 0);
    assert_eq!(
        comparable(document),
        verdict(&id, "tenant-bot", "ok", meta.clone(), json!(4))
    );
    // A wrong secret learns nothing of it.
    let wrong = format!(
        "{}{}",
        &token[..token.len() - 1],
        if token.ends_with('x') { 'y' } else { 'x' }
    );
    let (_, document) = verify_json(&sandbox, &wrong, &[]);
    assert_eq!(document["meta"], Value::Null);

    let mut listed = json(&sandbox.run(&["--json", "list"], ""));
    let entry = listed[0].as_object_mut().unwrap();
    for field in ["created_at", "expires_at", "last_used_at", "masked"] {
        entry.remove(field);
    }
    assert_eq!(
        listed,
        json!([{
            "allow_from": ["192.0.2.0/24"],
            "app": null,
            "disabled_at": null,
            "id": id,
            "meta": meta,
            "name": "tenant-bot",
            "note": null,
            "refresh_until": null,
            "scopes": [],
            "status": "active",
            "stops_at": null,
            "uses_left": 4,
            "uses_limit": 5,
            "waiting_on": null,
        }])
    );
    let shown = sandbox.run(&["show", &id], "");
    let text = stdout(&shown);
    for line in [
        "uses          4 of 5 left\n",
        "addresses     192.0.2.0/24\n",
        "meta          note.v1=a=b\n              plan=pro\n              tenant=acme\n",
    ] {
        assert!(text.contains(line), "{line:?} in {text}");
    }

    assert_eq!(
        code(&sandbox.run(
            &[
                "edit",
                &id,
                "--meta",
                "plan=free",
                "--unset-meta",
                "note.v1"
            ],
            ""
        )),
        0
    );
    assert_eq!(
        show_json(&sandbox, &id)["meta"],
        json!({ "plan": "free", "tenant": "acme" })
    );

    // Refused at input, exit 2, nothing stored.
    let credential = format!("leak={token}");
    let long = format!("k={}", "v".repeat(1025));
    let refused: Vec<(Vec<String>, &str)> = vec![
        (vec!["--meta".into(), "no-equals".into()], "use KEY=VALUE"),
        (
            vec!["--meta".into(), "bad key=x".into()],
            "letters, digits and . _ -",
        ),
        (
            vec!["--meta".into(), "k=a\u{1b}[2Jb".into()],
            "control character",
        ),
        (vec!["--meta".into(), long], "at most 1024 are kept"),
        (vec!["--meta".into(), credential], "leaks into"),
    ];
    for (args, says) in refused {
        let mut all = vec!["edit", id.as_str()];
        all.extend(args.iter().map(String::as_str));
        let (status, _, err) = run(&sandbox, &all, "");
        assert_eq!(status, 2, "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(!err.contains(&token), "the message never echoes a token");
    }
    let many: Vec<String> = (0..31).map(|n| format!("k{n}=v")).collect();
    let mut all = vec!["edit", id.as_str()];
    for pair in &many {
        all.extend(["--meta", pair.as_str()]);
    }
    let (status, _, err) = run(&sandbox, &all, "");
    assert_eq!(
        (status, err.as_str()),
        (
            2,
            "tokens: a token holds at most 32 metadata keys; this would make 33 (--unset-meta removes one)\n"
        )
    );
    assert_eq!(
        show_json(&sandbox, &id)["meta"],
        json!({ "plan": "free", "tenant": "acme" })
    );
}

#[test]
fn rotation_and_refresh_carry_the_controls_over() {
    let sandbox = Sandbox::new();
    let token = sandbox.create(
        "partner",
        &[
            "--secret-key",
            "--uses",
            "3",
            "--allow-from",
            "10.0.0.0/8",
            "--meta",
            "tenant=acme",
        ],
    );
    assert_eq!(
        sandbox.verify(&token.token, &["--client-ip", "10.0.0.1"]).0,
        0
    );
    // Refresh: the new token has the uses left (one was spent), the addresses and the metadata.
    let stdin = format!("{}\n{}\n", token.token, token.secret_key.clone().unwrap());
    let refreshed = sandbox.run(&["refresh"], &stdin);
    assert_eq!(code(&refreshed), 0, "{}", stderr(&refreshed));
    let refreshed = parse_issued(&refreshed);
    let carried = |id: &str| {
        let shown = show_json(&sandbox, id);
        (
            shown["uses_left"].clone(),
            shown["uses_limit"].clone(),
            shown["allow_from"].clone(),
            shown["meta"].clone(),
            shown["status"].clone(),
        )
    };
    let expected = (
        json!(2),
        json!(2),
        json!(["10.0.0.0/8"]),
        json!({ "tenant": "acme" }),
        json!("active"),
    );
    assert_eq!(carried(&refreshed.id()), expected);

    // Rotation too; a disabled token rotates into a disabled one.
    assert_eq!(
        code(&sandbox.run(&["disable", "partner", "--reason", "audit"], "")),
        0
    );
    let rotated = sandbox.run(&["rotate", "partner", "--yes"], "");
    assert_eq!(code(&rotated), 0, "{}", stderr(&rotated));
    let rotated = parse_issued(&rotated);
    let mut disabled = expected.clone();
    disabled.4 = json!("disabled");
    assert_eq!(carried(&rotated.id()), disabled);
    assert_eq!(
        show_json(&sandbox, &rotated.id())["disable_reason"],
        "audit"
    );
    assert_eq!(
        sandbox
            .verify(&rotated.token, &["--client-ip", "10.0.0.1"])
            .0,
        7
    );
    assert_eq!(code(&sandbox.run(&["enable", "partner"], "")), 0);
    assert_eq!(
        sandbox
            .verify(&rotated.token, &["--client-ip", "10.0.0.1"])
            .0,
        0
    );
    assert_eq!(
        sandbox
            .verify(&rotated.token, &["--client-ip", "11.0.0.1"])
            .0,
        6
    );
}

/// SPEC §9: K verifies of an N-use token in K separate processes at once: exactly N are `ok`,
/// the rest `used_up` (exit 4); none fails otherwise.
#[test]
fn exactly_n_of_k_racing_verifies_of_an_n_use_token_pass() {
    const USES: usize = 5;
    const RACERS: usize = 40;
    let sandbox = Sandbox::new();
    let token = sandbox.create("racy", &["--no-secret-key", "--uses", &USES.to_string()]);
    let mut children = Vec::new();
    for _ in 0..RACERS {
        let mut command = sandbox.process(&["verify", "--token-env", "RACE_TOKEN"]);
        command.env("RACE_TOKEN", &token.token).stdin(Stdio::null());
        children.push(command.spawn().unwrap());
    }
    let outputs: Vec<_> = children
        .into_iter()
        .map(|child| child.wait_with_output().unwrap())
        .collect();
    let ok = outputs.iter().filter(|output| code(output) == 0).count();
    let used_up = outputs.iter().filter(|output| code(output) == 4).count();
    let others: Vec<String> = outputs
        .iter()
        .filter(|output| ![0, 4].contains(&code(output)))
        .map(|output| format!("{}: {}", code(output), stderr(output)))
        .collect();
    assert_eq!(others, Vec::<String>::new());
    assert_eq!((ok, used_up), (USES, RACERS - USES));
    assert_eq!(
        sandbox.query::<i64>("SELECT uses_spent FROM token_usage"),
        USES as i64
    );
    assert_eq!(show_json(&sandbox, &token.id())["status"], "used_up");
}

/// SPEC §6/§9: a vault this user may read but not write cannot count a use, so a use-limited
/// token is exit 1 there (`unavailable` in `--batch`), never an uncounted `ok`; plain tokens
/// still verify.
#[test]
fn a_read_only_vault_refuses_to_verify_a_use_limited_token() {
    use std::os::unix::fs::PermissionsExt;
    let Some(nobody) = Nobody::new() else { return };
    let sandbox = Sandbox::sqlite();
    let limited = sandbox.create("limited", &["--no-secret-key", "--uses", "3"]);
    let plain = sandbox.create("plain", &["--no-secret-key"]);
    std::fs::set_permissions(sandbox.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&sandbox.vault, std::fs::Permissions::from_mode(0o644)).unwrap();
    let vault = &sandbox.vault;
    let id = limited.id();

    let output = nobody.run(vault, &["verify"], &format!("{}\n", limited.token));
    assert_eq!(code(&output), 1);
    assert_eq!(
        stderr(&output),
        format!(
            "tokens: token \"limited\" ({id}) has a use limit, and its use cannot be recorded: {} \
             is read-only for this user; this command needs to write to it\n",
            vault.display()
        )
    );
    let output = nobody.run(vault, &["verify"], &format!("{}\n", plain.token));
    assert_eq!(code(&output), 0, "{}", stderr(&output));

    let output = nobody.run(
        vault,
        &["verify", "--batch"],
        &format!("{}\n{}\n", limited.token, plain.token),
    );
    let reasons: Vec<String> = stdout(&output)
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap()["reason"].to_string())
        .collect();
    assert_eq!(reasons, ["\"unavailable\"", "\"ok\""]);
    assert_eq!(code(&output), 1);
    assert_eq!(
        stderr(&output),
        "tokens: 1 token(s) with a use limit were answered unavailable: this user cannot record \
         their uses in the vault; verify them as a user who may write it\n"
    );
    assert_eq!(
        sandbox.query::<i64>("SELECT count(*) FROM token_usage"),
        0,
        "nothing spent"
    );
}

/// `tokens migrate` copies the controls and the uses spent: the copy answers as the source did.
#[test]
fn migrate_keeps_the_controls_and_the_uses_spent() {
    let target = Sandbox::new();
    let source = Sandbox::sqlite();
    let limited = source.create(
        "limited",
        &[
            "--no-secret-key",
            "--uses",
            "2",
            "--allow-from",
            "10.0.0.0/8",
            "--meta",
            "k=v",
        ],
    );
    assert_eq!(
        source
            .verify(&limited.token, &["--client-ip", "10.0.0.1"])
            .0,
        0
    );
    let held = source.create("held", &["--no-secret-key"]);
    assert_eq!(
        code(&source.run(&["disable", "held", "--reason", "why"], "")),
        0
    );
    // An edit after a use: the spent use no longer counts (a new epoch).
    let edited = source.create("edited", &["--no-secret-key", "--uses", "5"]);
    assert_eq!(source.verify(&edited.token, &[]).0, 0);
    assert_eq!(code(&source.run(&["edit", "edited", "--uses", "3"], "")), 0);
    assert_eq!(source.verify(&edited.token, &[]).0, 0);

    let output = target
        .cmd(&[
            "migrate",
            "--from",
            &source.location,
            "--to",
            &target.location,
        ])
        .output()
        .unwrap();
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let listing = |sandbox: &Sandbox| json(&sandbox.run(&["--json", "list", "--all"], ""));
    assert_eq!(listing(&source), listing(&target));
    assert_eq!(show_json(&target, &edited.id())["uses_left"], 2);
    assert_eq!(target.verify(&held.token, &[]).0, 7);
    assert_eq!(target.verify(&limited.token, &[]).0, 6);
    assert_eq!(
        target
            .verify(&limited.token, &["--client-ip", "10.0.0.1"])
            .0,
        0
    );
    assert_eq!(
        target
            .verify(&limited.token, &["--client-ip", "10.0.0.1"])
            .0,
        4
    );
}

/// A login role on the sandbox's PostgreSQL database with `grants` (`ROLE` stands for its
/// name); its URL.
fn pg_role(sandbox: &Sandbox, name: &str, grants: &str) -> String {
    let database = sandbox.location.rsplit_once('/').unwrap().1;
    let database = database.split('?').next().unwrap();
    let role = format!("{name}_{database}");
    let mut admin =
        postgres::Client::connect(&postgres_admin_url().unwrap(), postgres::NoTls).unwrap();
    admin
        .batch_execute(&format!(
            "DROP ROLE IF EXISTS {role}; CREATE ROLE {role} LOGIN PASSWORD 'role-pw'"
        ))
        .unwrap();
    sandbox.execute(&grants.replace("ROLE", &role));
    let (scheme, rest) = sandbox.location.split_once("://").unwrap();
    let host = rest.split_once('@').unwrap().1;
    format!("{scheme}://{role}:role-pw@{host}")
}

/// On PostgreSQL: a role that may only read cannot count a use (exit 1, one line); a role
/// granted only the bookkeeping columns of `token_usage`, and no change to `tokens` (what a
/// verifier needs: SPEC §10), spends uses as an admin would.
#[test]
fn on_postgres_spending_a_use_needs_the_bookkeeping_grants_only() {
    if postgres_admin_url().is_none() {
        // As tests/postgres.rs: CI runs the suite once more against a server.
        eprintln!("skipped: set TOKENS_TEST_POSTGRES to a PostgreSQL admin URL (.ci/run does)");
        return;
    }
    let sandbox = Sandbox::new();
    let token = sandbox.create("limited", &["--no-secret-key", "--uses", "2"]);
    let id = token.id();
    // The vault's lookup function alone: verdicts, and no use spent.
    let reader = pg_role(
        &sandbox,
        "reader",
        "GRANT SELECT ON ALL TABLES IN SCHEMA public TO ROLE; \
         GRANT EXECUTE ON FUNCTION public.lookup(text, bytea) TO ROLE",
    );
    let verify_as = |url: &str| {
        let output = sandbox
            .cmd(&["verify"])
            .env("TOKENS_VAULT", url)
            .write_stdin(format!("{}\n", token.token))
            .output()
            .unwrap();
        (code(&output), stderr(&output))
    };
    let shown = {
        let (scheme, rest) = reader.split_once("://").unwrap();
        let (user_info, host) = rest.split_once('@').unwrap();
        let user = user_info.split(':').next().unwrap();
        format!("{scheme}://{user}:***@{host}")
    };
    assert_eq!(
        verify_as(&reader),
        (
            1,
            format!(
                "tokens: token \"limited\" ({id}) has a use limit, and its use cannot be \
                 recorded: {shown} is read-only for this user; this command needs to write to it\n"
            )
        )
    );
    assert_eq!(sandbox.query::<i64>("SELECT count(*) FROM token_usage"), 0);

    // And the function that spends a use (SPEC §10): no table grant at all.
    let verifier = pg_role(
        &sandbox,
        "verifier",
        "GRANT SELECT ON tokens_vault TO ROLE; \
         GRANT EXECUTE ON FUNCTION public.lookup(text, bytea), \
         public.spend_use(text, bytea, bigint) TO ROLE",
    );
    assert_eq!(verify_as(&verifier), (0, String::new()));
    assert_eq!(verify_as(&verifier), (0, String::new()));
    assert_eq!(verify_as(&verifier).0, 4);
    assert_eq!(
        sandbox.query::<i64>("SELECT uses_spent FROM token_usage"),
        2
    );
}
