//! Lineages stay bounded (SPEC §9): refresh and rotate carry the uses left, a used-up token is
//! not refreshed, a one-time token has no secret key unless asked, a secret key works only
//! within its refresh window; and the rotation and disable edges: revoking an `--until-used`
//! successor before its first use cancels the rotation, a disabled one does not, and
//! `enable NAME` leaves alone what another `disable` disabled. On whichever backend the tests
//! run against (PostgreSQL when `TOKENS_TEST_POSTGRES` is set).

mod common;

use common::*;
use serde_json::{Value, json};

fn show_json(sandbox: &Sandbox, id: &str) -> Value {
    json(&sandbox.run(&["--json", "show", id], ""))
}

fn refresh_stdin(issued: &Issued) -> String {
    format!(
        "{}\n{}\n",
        issued.token,
        issued.secret_key.as_deref().expect("a secret key")
    )
}

fn count_tokens(sandbox: &Sandbox) -> i64 {
    sandbox.query("SELECT count(*) FROM tokens")
}

fn secret_key_used(sandbox: &Sandbox, id: &str) -> bool {
    sandbox
        .query::<Option<i64>>(&format!(
            "SELECT secret_key_used_at FROM tokens WHERE id = '{id}'"
        ))
        .is_some()
}

#[test]
fn a_one_time_token_has_no_secret_key_unless_asked_and_is_never_refreshed_once_used() {
    let sandbox = Sandbox::new();
    let plain = sandbox.create("once", &["--uses", "1"]);
    assert_eq!(plain.secret_key, None, "--uses issues no secret key");
    assert_eq!(show_json(&sandbox, &plain.id())["has_secret_key"], false);

    let keyed = sandbox.create("once-keyed", &["--uses", "1", "--secret-key"]);
    assert!(keyed.secret_key.is_some(), "--secret-key asks for one");
    assert_eq!(sandbox.verify(&keyed.token, &[]).0, 0);
    assert_eq!(sandbox.verify(&keyed.token, &[]).0, 4, "used up");

    let before = count_tokens(&sandbox);
    for _ in 0..2 {
        // Refused each time, the same way: the key was not spent, so this is no reuse.
        let output = sandbox.run(&["refresh"], &refresh_stdin(&keyed));
        assert_eq!(code(&output), 4, "{}", stderr(&output));
        assert!(stderr(&output).contains("used_up"), "{}", stderr(&output));
        assert!(stdout(&output).is_empty());
        assert_eq!(count_tokens(&sandbox), before, "nothing made");
        assert!(
            !secret_key_used(&sandbox, &keyed.id()),
            "the key stays unused"
        );
    }
    assert_eq!(show_json(&sandbox, &keyed.id())["status"], "used_up");

    // --secret-key and --no-secret-key cannot both be given.
    let output = sandbox.run(&["create", "x", "--secret-key", "--no-secret-key"], "");
    assert_eq!(code(&output), 2);
}

#[test]
fn refresh_and_rotate_carry_the_uses_left_not_the_limit() {
    let sandbox = Sandbox::new();
    let token = sandbox.create("metered", &["--uses", "5", "--secret-key"]);
    for _ in 0..3 {
        assert_eq!(sandbox.verify(&token.token, &[]).0, 0);
    }
    let output = sandbox.run(&["refresh"], &refresh_stdin(&token));
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let refreshed = parse_issued(&output);
    let shown = show_json(&sandbox, &refreshed.id());
    assert_eq!(
        (shown["uses_left"].clone(), shown["uses_limit"].clone()),
        (json!(2), json!(2))
    );

    assert_eq!(sandbox.verify(&refreshed.token, &[]).0, 0);
    let output = sandbox.run(&["rotate", "metered", "--yes"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let rotated = parse_issued(&output);
    assert_eq!(show_json(&sandbox, &rotated.id())["uses_left"], 1);
    assert_eq!(sandbox.verify(&rotated.token, &[]).0, 0);
    assert_eq!(sandbox.verify(&rotated.token, &[]).0, 4, "five uses in all");

    // Rotating the used-up token gives one with no uses, and says so with the fix.
    let output = sandbox.run(&["rotate", "metered", "--yes"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let spent = parse_issued(&output);
    assert_eq!(show_json(&sandbox, &spent.id())["uses_left"], 0);
    assert!(
        stderr(&output).contains(&format!(
            "has no uses left: {} had spent them all, and rotation carries the uses left; to \
             give it some: tokens edit {} --uses N",
            rotated.id(),
            spent.id()
        )),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_secret_key_refreshes_until_the_expiry_plus_the_window_and_not_at_its_end() {
    let sandbox = Sandbox::new();
    let token = sandbox.create("bot", &["--expires", "1h", "--refresh-window", "1d"]);
    let shown = show_json(&sandbox, &token.id());
    let expires_at: i64 = sandbox.query(&format!(
        "SELECT expires_at FROM tokens WHERE id = '{}'",
        token.id()
    ));
    assert_eq!(
        shown["refresh_until"],
        rfc3339(expires_at + 86_400),
        "{shown}"
    );
    let listed = json(&sandbox.run(&["--json", "list"], ""));
    assert_eq!(listed[0]["refresh_until"], shown["refresh_until"]);

    // Expired 10 s ago with a 10 s window: the window ends now, so the key no longer works.
    let at_the_edge = |window: i64| {
        sandbox.execute(&format!(
            "UPDATE tokens SET expires_at = {now} - 10, created_at = {now} - 3610, \
             refresh_window = {window} WHERE name = 'bot' AND revoked_at IS NULL",
            now = now_secs()
        ));
    };
    at_the_edge(10);
    let before = count_tokens(&sandbox);
    let output = sandbox.run(&["refresh"], &refresh_stdin(&token));
    assert_eq!(code(&output), 4, "{}", stderr(&output));
    let message = stderr(&output);
    assert!(message.contains("refresh window"), "{message}");
    assert!(message.contains("10s after it expired"), "{message}");
    assert!(
        message.contains(&format!("tokens rotate {}", token.id())),
        "{message}"
    );
    assert_eq!(message.lines().count(), 1, "{message}");
    assert_eq!(count_tokens(&sandbox), before, "nothing made");
    assert!(
        !secret_key_used(&sandbox, &token.id()),
        "the key stays unused"
    );

    // A window of 0s ends as the token expires, and is said so.
    at_the_edge(0);
    let output = sandbox.run(&["refresh"], &refresh_stdin(&token));
    assert_eq!(code(&output), 4, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("(when it expired: its refresh window is 0s)"),
        "{}",
        stderr(&output)
    );

    // Two seconds before the end: refreshed, and the window goes on to the new token.
    at_the_edge(12);
    let output = sandbox.run(&["refresh"], &refresh_stdin(&token));
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let refreshed = parse_issued(&output);
    let window: i64 = sandbox.query(&format!(
        "SELECT refresh_window FROM tokens WHERE id = '{}'",
        refreshed.id()
    ));
    assert_eq!(window, 12);
    assert_eq!(
        show_json(&sandbox, &token.id())["refresh_until"],
        Value::Null,
        "used"
    );
}

/// The log's `created` line says the use limit and the refresh window a token was made with.
#[test]
fn the_created_event_names_the_uses_and_the_refresh_window() {
    let sandbox = Sandbox::new();
    let once = sandbox.create("once", &["--uses", "1"]);
    let windowed = sandbox.create(
        "windowed",
        &["--uses", "3", "--secret-key", "--refresh-window", "36h"],
    );
    let detail = |id: &str| -> String {
        sandbox.query(&format!(
            "SELECT detail FROM events WHERE token_id = '{id}' AND kind = 'created'"
        ))
    };
    assert_eq!(detail(&once.id()), "no scopes, 1 use");
    assert_eq!(
        detail(&windowed.id()),
        "no scopes, 3 uses, refresh window 36h"
    );
}

#[test]
fn refresh_until_is_null_without_a_usable_secret_key_or_a_limit() {
    let sandbox = Sandbox::new();
    let no_key = sandbox.create("no-key", &["--no-secret-key"]);
    let no_limit = sandbox.create("no-limit", &[]);
    let never = sandbox.create("never", &["--expires", "never", "--refresh-window", "1d"]);
    for issued in [&no_key, &no_limit, &never] {
        let shown = show_json(&sandbox, &issued.id());
        assert_eq!(shown["refresh_until"], Value::Null, "{shown}");
    }
}

#[test]
fn a_refresh_window_needs_a_secret_key() {
    let sandbox = Sandbox::new();
    for args in [
        &["create", "a", "--no-secret-key", "--refresh-window", "1d"][..],
        &["create", "b", "--uses", "1", "--refresh-window", "1d"][..],
    ] {
        let output = sandbox.run(args, "");
        assert_eq!(code(&output), 2, "{args:?}");
        assert!(
            stderr(&output).starts_with("tokens: --refresh-window"),
            "{}",
            stderr(&output)
        );
    }
    // With --secret-key the one-time token may have one.
    sandbox.create(
        "c",
        &["--uses", "1", "--secret-key", "--refresh-window", "1d"],
    );
    let keyless = sandbox.create("d", &["--no-secret-key"]);
    let output = sandbox.run(&["edit", &keyless.id(), "--refresh-window", "1d"], "");
    assert_eq!(code(&output), 2);
    assert!(
        stderr(&output).contains("has no secret key"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn the_policy_bounds_refresh_windows_refusing_create_and_edit_and_capping_rotate_and_refresh() {
    let sandbox = Sandbox::new();
    let unbounded = sandbox.create("old", &[]);
    let output = sandbox.run(&["policy", "set", "--max-refresh-window", "7d"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));

    for window in ["8d", "never"] {
        let output = sandbox.run(&["create", "x", "--refresh-window", window], "");
        assert_eq!(code(&output), 2, "{window}");
        assert!(
            stderr(&output).contains("max-refresh-window"),
            "{}",
            stderr(&output)
        );
    }
    let output = sandbox.run(&["edit", "old", "--refresh-window", "30d"], "");
    assert_eq!(code(&output), 2);

    // Without --refresh-window: the maximum, until a default is set.
    let window_of = |id: &str| -> Option<i64> {
        sandbox.query(&format!(
            "SELECT refresh_window FROM tokens WHERE id = '{id}'"
        ))
    };
    assert_eq!(window_of(&sandbox.create("a", &[]).id()), Some(7 * 86_400));
    let output = sandbox.run(&["policy", "set", "--default-refresh-window", "1d"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(window_of(&sandbox.create("b", &[]).id()), Some(86_400));
    let output = sandbox.run(&["policy", "set", "--default-refresh-window", "8d"], "");
    assert_eq!(code(&output), 2, "longer than the max");

    let policy = json(&sandbox.run(&["--json", "policy"], ""));
    assert_eq!(policy["max_refresh_window"], "7d");
    assert_eq!(policy["max_refresh_window_seconds"], 7 * 86_400);
    assert_eq!(policy["default_refresh_window"], "1d");
    assert_eq!(policy["default_refresh_window_seconds"], 86_400);

    // The token from before the rule breaks it; a used or absent key does not.
    let output = sandbox.run(&["--json", "policy", "check"], "");
    assert_eq!(code(&output), 8);
    let found = json(&output);
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
    assert_eq!(found[0]["id"], unbounded.id());
    assert_eq!(found[0]["rules"], json!(["max-refresh-window"]));

    // Refresh is never refused for it: the new token's window is cut to the maximum.
    let output = sandbox.run(&["refresh"], &refresh_stdin(&unbounded));
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let refreshed = parse_issued(&output);
    assert_eq!(window_of(&refreshed.id()), Some(7 * 86_400));
    assert_eq!(code(&sandbox.run(&["policy", "check"], "")), 0);

    // Rotation carries a window over, capped the same way.
    sandbox.execute(&format!(
        "UPDATE tokens SET refresh_window = NULL WHERE id = '{}'",
        refreshed.id()
    ));
    let output = sandbox.run(&["rotate", "old", "--yes"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(window_of(&parse_issued(&output).id()), Some(7 * 86_400));
}

#[test]
fn revoking_an_until_used_successor_before_its_first_use_cancels_the_rotation() {
    let sandbox = Sandbox::new();
    let old = sandbox.create("svc", &["--expires", "30d"]);
    let expires_at: i64 = sandbox.query(&format!(
        "SELECT expires_at FROM tokens WHERE id = '{}'",
        old.id()
    ));
    let new = parse_issued(&sandbox.run(&["rotate", "svc", "--until-used"], ""));
    let output = sandbox.run(&["revoke", &new.id(), "-y"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let message = stderr(&output);
    assert!(message.contains("rotation is cancelled"), "{message}");
    assert!(
        message.contains(&format!("tokens revoke {}", old.id())),
        "{message}"
    );

    let shown = show_json(&sandbox, &old.id());
    assert_eq!(shown["status"], "active", "{shown}");
    assert_eq!(shown["expires_at"], rfc3339(expires_at));
    assert_eq!(shown["waiting_on"], Value::Null);
    assert_eq!(shown["rotated_to"], Value::Null);
    assert_eq!(sandbox.verify(&old.token, &[]).0, 0);
    assert_eq!(sandbox.verify(&new.token, &[]).0, 5);
    let events = json(&sandbox.run(&["--json", "log", &old.id()], ""));
    assert!(
        events
            .as_array()
            .unwrap()
            .iter()
            .any(|event| event["event"] == "rotation_cancelled"),
        "{events}"
    );

    // The name works again: rotate it, and revoke the lot by name (nothing handed back then).
    let output = sandbox.run(&["rotate", "svc", "--until-used"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let output = sandbox.run(&["revoke", "svc", "-y"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(
        !stderr(&output).contains("cancelled"),
        "{}",
        stderr(&output)
    );
    assert_eq!(sandbox.verify(&old.token, &[]).0, 5);
}

#[test]
fn a_disabled_until_used_successor_leaves_its_predecessor_rotating() {
    let sandbox = Sandbox::new();
    let old = sandbox.create("svc", &[]);
    let new = parse_issued(&sandbox.run(&["rotate", "svc", "--until-used"], ""));
    assert_eq!(code(&sandbox.run(&["disable", &new.id()], "")), 0);
    assert_eq!(sandbox.verify(&new.token, &[]).0, 7);
    let shown = show_json(&sandbox, &old.id());
    assert_eq!(shown["status"], "rotating");
    assert_eq!(shown["waiting_on"], new.id());
    assert_eq!(sandbox.verify(&old.token, &[]).0, 0);
}

#[test]
fn enable_name_leaves_a_predecessor_disabled_on_its_own() {
    let sandbox = Sandbox::new();
    let old = sandbox.create("api", &[]);
    let new = parse_issued(&sandbox.run(&["rotate", "api", "--grace", "1d"], ""));
    let output = sandbox.run(&["disable", &old.id(), "--reason", "leaked"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(code(&sandbox.run(&["disable", "api"], "")), 0);
    assert_eq!(sandbox.verify(&new.token, &[]).0, 7);

    let output = sandbox.run(&["enable", "api"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let message = stderr(&output);
    assert!(message.contains("reason: leaked"), "{message}");
    assert!(
        message.contains(&format!("tokens enable {}", old.id())),
        "{message}"
    );
    assert_eq!(sandbox.verify(&new.token, &[]).0, 0);
    assert_eq!(sandbox.verify(&old.token, &[]).0, 7, "still disabled");

    // Both disabled by one command: enable NAME brings both back.
    assert_eq!(code(&sandbox.run(&["enable", &old.id()], "")), 0);
    assert_eq!(code(&sandbox.run(&["disable", "api"], "")), 0);
    let output = sandbox.run(&["enable", "api"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(!stderr(&output).contains("Left"), "{}", stderr(&output));
    assert_eq!(sandbox.verify(&old.token, &[]).0, 0);
    assert_eq!(sandbox.verify(&new.token, &[]).0, 0);

    // Disabled with its name, then on its own (it leaked): enable NAME leaves it too.
    assert_eq!(code(&sandbox.run(&["disable", "api"], "")), 0);
    let output = sandbox.run(&["disable", &old.id(), "--reason", "leaked"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("is already disabled; now disabled on its own"),
        "{}",
        stderr(&output)
    );
    let output = sandbox.run(&["enable", "api"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let message = stderr(&output);
    assert!(message.contains("reason: leaked"), "{message}");
    assert_eq!(sandbox.verify(&new.token, &[]).0, 0);
    assert_eq!(sandbox.verify(&old.token, &[]).0, 7, "still disabled");

    // The newest named on its own after disable NAME: enable NAME brings both back as before.
    assert_eq!(code(&sandbox.run(&["enable", &old.id()], "")), 0);
    assert_eq!(code(&sandbox.run(&["disable", "api"], "")), 0);
    let output = sandbox.run(&["disable", &new.id(), "--reason", "check"], "");
    assert!(
        stderr(&output).contains("is already disabled; nothing to do"),
        "{}",
        stderr(&output)
    );
    let output = sandbox.run(&["enable", "api"], "");
    assert!(!stderr(&output).contains("Left"), "{}", stderr(&output));
    assert_eq!(sandbox.verify(&old.token, &[]).0, 0);
    assert_eq!(sandbox.verify(&new.token, &[]).0, 0);
}

fn rfc3339(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[test]
fn a_leaked_until_used_successor_revoked_before_its_first_use_cancels_the_rotation() {
    let sandbox = Sandbox::new();
    let old = sandbox.create("svc", &["--expires", "30d"]);
    let new = parse_issued(&sandbox.run(&["rotate", "svc", "--until-used"], ""));
    let output = sandbox.run(
        &["revoke", "--leaked", "--yes"],
        &format!("found in a log: {}\n", new.token),
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let message = stderr(&output);
    assert!(message.contains("rotation is cancelled"), "{message}");
    assert_eq!(show_json(&sandbox, &old.id())["status"], "active");
    assert_eq!(sandbox.verify(&old.token, &[]).0, 0);
    assert_eq!(sandbox.verify(&new.token, &[]).0, 5);
    let output = sandbox.run(&["rotate", "svc", "--yes"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
}
