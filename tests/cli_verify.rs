//! `tokens verify` as CI scripts call it: the exit status is the answer (SPEC §5).

mod common;

use common::*;
use tokens::token::{Credential, Kind};

/// A well-formed token (right checksum) for `id` with a secret the vault has never seen.
fn forged(id: &str) -> String {
    Credential::generate(Kind::Token, id).expose().to_owned()
}

#[test]
fn a_good_token_exits_0_from_stdin_env_and_file() {
    let sandbox = Sandbox::new();
    let issued = sandbox.create("ci", &["--app", "ci", "--scope", "deploy:prod,read"]);
    let output = sandbox.run(&["verify"], &format!("{}\n", issued.token));
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        format!("valid: \"ci\" ({})\n", issued.id())
    );

    let output = sandbox
        .cmd(&["verify", "--token-env", "CI_TOKEN"])
        .env("CI_TOKEN", &issued.token)
        .output()
        .unwrap();
    assert_eq!(code(&output), 0, "{}", stderr(&output));

    let file = sandbox.path("token.txt");
    std::fs::write(&file, format!("{}\n", issued.token)).unwrap();
    let output = sandbox.run(
        &["verify", "--token-file", file.to_str().unwrap(), "-q"],
        "",
    );
    assert_eq!(code(&output), 0);
    assert_eq!(stdout(&output), "", "--quiet prints nothing");
}

#[test]
fn required_scopes_and_app() {
    let sandbox = Sandbox::new();
    let issued = sandbox.create("ci", &["--app", "ci", "--scope", "deploy:prod,read"]);
    assert_eq!(
        sandbox
            .verify(
                &issued.token,
                &["--scope", "read", "--scope", "deploy:prod"]
            )
            .0,
        0
    );
    assert_eq!(
        sandbox
            .verify(&issued.token, &["--app", "ci", "--scope", "read"])
            .0,
        0
    );
    let (code, stderr) = sandbox.verify(&issued.token, &["--scope", "write"]);
    assert_eq!(code, 6);
    assert_eq!(
        stderr,
        format!(
            "tokens: token \"ci\" ({}) lacks the scope \"write\"\n",
            issued.id()
        )
    );
    let (code, stderr) = sandbox.verify(&issued.token, &["--app", "billing"]);
    assert_eq!(code, 6);
    assert_eq!(
        stderr,
        format!(
            "tokens: token \"ci\" ({}) belongs to app \"ci\", not \"billing\"\n",
            issued.id()
        )
    );
    let no_app = sandbox.create("plain", &[]);
    assert_eq!(sandbox.verify(&no_app.token, &["--app", "ci"]).0, 6);
}

#[test]
fn malformed_tokens_exit_3_without_touching_the_vault() {
    let sandbox = Sandbox::new();
    // No vault at all: a malformed token is refused by its checksum alone.
    let issued_elsewhere = Sandbox::new().create("x", &[]);
    let mut typo = issued_elsewhere.token.clone().into_bytes();
    typo[20] = if typo[20] == b'a' { b'b' } else { b'a' };
    let typo = String::from_utf8(typo).unwrap();
    let truncated = &issued_elsewhere.token[..issued_elsewhere.token.len() - 1];
    for bad in [
        typo.as_str(),
        truncated,
        "hello",
        "tks_abc_def",
        &issued_elsewhere.secret_key.clone().unwrap(),
    ] {
        let (code, stderr) = sandbox.verify(bad, &[]);
        assert_eq!(code, 3, "{bad:?}: {stderr}");
        assert!(
            stderr.starts_with("tokens: the token is malformed: "),
            "{stderr}"
        );
        assert!(
            !stderr.contains(&issued_elsewhere.token[16..48]),
            "the error shows the secret"
        );
    }
    // Nothing at all, or a secret key where the token goes: said as such.
    let (code, stderr) = sandbox.verify("", &[]);
    assert_eq!(
        (code, stderr.as_str()),
        (
            3,
            "tokens: no token: the first line on stdin is empty (give the token on stdin, or with --token-env / --token-file)\n"
        )
    );
    let (code, stderr) = sandbox.verify(issued_elsewhere.secret_key.as_deref().unwrap(), &[]);
    assert_eq!(
        (code, stderr.as_str()),
        (
            3,
            "tokens: the token is malformed: it is a secret key (tks_…), not a token (tk_…)\n"
        )
    );
    assert!(!sandbox.vault_exists(), "verify created a vault");
    let (_, stderr) = sandbox.verify(&typo, &[]);
    assert_eq!(
        stderr,
        "tokens: the token is malformed: its checksum does not match (mistyped or truncated?)\n"
    );
}

#[test]
fn unknown_id_and_wrong_secret_exit_3() {
    let sandbox = Sandbox::new();
    let issued = sandbox.create("ci", &[]);
    for presented in [forged(&issued.id()), forged("AAAAAAAAAAAA")] {
        let (code, stderr) = sandbox.verify(&presented, &[]);
        assert_eq!(code, 3);
        assert_eq!(
            stderr,
            "tokens: the token is not valid (unknown id or wrong secret)\n"
        );
    }
    // The failure of the known token goes to the event log, without the presented secret; the
    // made-up id writes nothing anywhere (SPEC §8).
    let failures: i64 = sandbox
        .query("SELECT count(*) FROM events WHERE kind = 'verify_failed' AND detail = 'invalid'");
    assert_eq!(failures, 1);
    let counted: i64 = sandbox.query(&format!(
        "SELECT failures FROM verify_failures WHERE token_id = '{}' AND reason = 'invalid'",
        issued.id()
    ));
    assert_eq!(counted, 1);
    let strangers: i64 =
        sandbox.query("SELECT count(*) FROM verify_failures WHERE token_id = 'AAAAAAAAAAAA'");
    assert_eq!(strangers, 0);
}

#[test]
fn expired_exits_4_and_revoked_exits_5() {
    let sandbox = Sandbox::new();
    let expiring = sandbox.create("short", &["--expires", "1h"]);
    sandbox.execute(&format!(
        "UPDATE tokens SET expires_at = {} - 3600",
        now_secs()
    ));
    let (code, stderr) = sandbox.verify(&expiring.token, &[]);
    assert_eq!(code, 4);
    assert_eq!(
        stderr,
        format!(
            "tokens: token \"short\" ({}) expired 1h ago\n",
            expiring.id()
        )
    );

    let revoked = sandbox.create("gone", &[]);
    assert_eq!(code_of(sandbox.run(&["revoke", "gone", "--yes"], "")), 0);
    let (code, stderr) = sandbox.verify(&revoked.token, &[]);
    assert_eq!(code, 5);
    assert_eq!(
        stderr,
        format!(
            "tokens: token \"gone\" ({}) was revoked just now\n",
            revoked.id()
        )
    );
}

fn code_of(output: std::process::Output) -> i32 {
    code(&output)
}

#[test]
fn json_verdicts_have_the_documented_fields() {
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
    let output = sandbox.run(&["--json", "verify"], &issued.token);
    assert_eq!(code(&output), 0);
    assert_eq!(
        json(&output),
        serde_json::json!({
            "valid": true, "reason": "ok", "id": issued.id(), "name": "svc", "app": "billing",
            "scopes": ["read"], "expires_at": "2099-01-01T00:00:00Z", "meta": {}, "uses_left": null,
            "detail": null
        })
    );
    let output = sandbox.run(&["--json", "verify", "--scope", "write"], &issued.token);
    assert_eq!(code(&output), 6);
    assert_eq!(json(&output)["reason"], "forbidden");
    assert_eq!(json(&output)["valid"], false);
    let output = sandbox.run(&["--json", "verify"], "tk_nope");
    assert_eq!(code(&output), 3);
    assert_eq!(
        json(&output),
        serde_json::json!({
            "valid": false, "reason": "malformed", "id": null, "name": null, "app": null,
            "scopes": null, "expires_at": null, "meta": null, "uses_left": null,
            "detail": "the token is malformed: it has the wrong shape (expected tk_<id>_<secret>)"
        })
    );
    let output = sandbox.run(&["--json", "verify", "--scope", "write"], &issued.token);
    assert_eq!(
        json(&output)["detail"],
        format!("token \"svc\" ({}) lacks the scope \"write\"", issued.id())
    );
    // An unknown id and a wrong secret are told apart by nothing, `detail` included.
    let output = sandbox.run(&["--json", "verify"], &forged(&issued.id()));
    let unknown = sandbox.run(
        &["--json", "verify"],
        &forged(&tokens::token::generate_id()),
    );
    let without_id = |output: &std::process::Output| {
        let mut document = json(output);
        document.as_object_mut().unwrap().remove("id");
        document
    };
    assert_eq!(without_id(&output), without_id(&unknown));
    assert_eq!(
        json(&output)["detail"],
        "the token is not valid (unknown id or wrong secret)"
    );
    assert_eq!(json(&output)["reason"], "invalid");
    assert_eq!(
        json(&output)["name"],
        serde_json::Value::Null,
        "a wrong secret learns nothing"
    );
}

/// SPEC §4: `detail` is the line `verify` prints on stderr, in a batch as alone.
#[test]
fn a_batch_verdict_has_the_detail_of_the_same_token_verified_alone() {
    let sandbox = Sandbox::new();
    let issued = sandbox.create("svc", &["--scope", "read"]);
    let revoked = sandbox.create("gone", &[]);
    let output = sandbox.run(&["revoke", "gone", "--yes"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let checksum = {
        let mut token = issued.token.clone();
        let last = token.pop().unwrap();
        token.push(if last == 'A' { 'B' } else { 'A' });
        token
    };
    let lines = [
        "tk_nope".to_owned(),
        checksum,
        forged(&issued.id()),
        revoked.token.clone(),
        issued.token.clone(),
    ];
    let batch = sandbox.run(&["verify", "--batch"], &format!("{}\n", lines.join("\n")));
    assert_eq!(code(&batch), 0, "{}", stderr(&batch));
    let answers: Vec<serde_json::Value> = stdout(&batch)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(answers.len(), lines.len());
    for (line, answer) in lines.iter().zip(&answers) {
        let alone = json(&sandbox.run(&["--json", "verify"], line));
        assert_eq!(answer["detail"], alone["detail"], "{line}");
        assert_eq!(answer["reason"], alone["reason"], "{line}");
    }
    assert_eq!(
        answers[0]["detail"],
        "the token is malformed: it has the wrong shape (expected tk_<id>_<secret>)"
    );
    assert_eq!(answers[4]["detail"], serde_json::Value::Null);
}

#[test]
fn verify_records_last_use() {
    let sandbox = Sandbox::new();
    let issued = sandbox.create("ci", &[]);
    let before: Option<i64> = sandbox.query("SELECT max(last_used_at) FROM token_usage");
    assert_eq!(before, None);
    assert_eq!(sandbox.verify(&issued.token, &[]).0, 0);
    let after: i64 = now_secs() - sandbox.query::<i64>("SELECT max(last_used_at) FROM token_usage");
    assert!((0..60).contains(&after), "last used {after}s ago");
}

#[test]
fn verify_warns_when_the_token_expires_within_7_days() {
    let sandbox = Sandbox::new();
    let soon = sandbox.create("soon", &["--expires", "3d"]);
    let (code, stderr) = sandbox.verify(&soon.token, &[]);
    assert_eq!(code, 0);
    assert!(
        stderr.starts_with(&format!(
            "warning: token \"soon\" ({}) expires in 3d",
            soon.id()
        )),
        "{stderr}"
    );
    let later = sandbox.create("later", &["--expires", "8d"]);
    assert_eq!(sandbox.verify(&later.token, &[]), (0, String::new()));
    assert_eq!(
        sandbox.verify(&soon.token, &["--quiet"]),
        (0, String::new())
    );
}

#[test]
fn verify_against_a_missing_vault_is_exit_1_and_creates_nothing() {
    let sandbox = Sandbox::new();
    let (code, stderr) = sandbox.verify(&forged("AAAAAAAAAAAA"), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        stderr,
        format!(
            "tokens: no vault at {} (create a token first, or pass --vault)\n",
            sandbox.shown()
        )
    );
    assert!(!sandbox.vault_exists());
}

#[test]
fn batch_answers_every_line_in_order() {
    let sandbox = Sandbox::new();
    let good = sandbox.create("good", &["--scope", "read"]);
    let gone = sandbox.create("gone", &[]);
    sandbox.run(&["revoke", "gone", "-y"], "");
    let input = format!(
        "{}\nnot-a-token\n{}\n{}\n\n",
        good.token,
        gone.token,
        forged(&good.id())
    );
    let output = sandbox.run(&["verify", "--batch"], &input);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let lines: Vec<serde_json::Value> = stdout(&output)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let reasons: Vec<&str> = lines
        .iter()
        .map(|line| line["reason"].as_str().unwrap())
        .collect();
    assert_eq!(
        reasons,
        ["ok", "malformed", "revoked", "invalid", "malformed"]
    );
    assert_eq!(lines[0]["name"], "good");
    assert_eq!(lines[0]["valid"], true);
    assert_eq!(lines[2]["id"], gone.id());
    // Requirements apply to every line.
    let output = sandbox.run(
        &["verify", "--batch", "--scope", "write"],
        &format!("{}\n", good.token),
    );
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(stdout(&output).trim()).unwrap()["reason"],
        "forbidden"
    );
    assert_eq!(code(&output), 0);
    // A vault error is exit 1.
    let output = Sandbox::new().run(&["verify", "--batch"], &format!("{}\n", good.token));
    assert_eq!(code(&output), 1);
}

#[test]
fn batch_answers_each_line_as_it_comes() {
    use std::io::{BufRead, BufReader, Write};
    use std::process::Stdio;
    use std::sync::mpsc;
    use std::time::Duration;

    // A service keeps one `verify --batch` running and waits for each answer before it sends
    // the next token: answers must not sit in a buffer until the input ends.
    let sandbox = Sandbox::new();
    let good = sandbox.create("good", &[]);
    let mut child = sandbox
        .process(&["verify", "--batch"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let output = BufReader::new(child.stdout.take().unwrap());
    let (answers, answer) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in output.lines() {
            answers.send(line.unwrap()).unwrap();
        }
    });
    for (line, reason) in [(good.token.as_str(), "ok"), ("nonsense", "malformed")] {
        writeln!(input, "{line}").unwrap();
        input.flush().unwrap();
        let line = answer
            .recv_timeout(Duration::from_secs(10))
            .expect("no answer while the input stays open");
        let verdict: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(verdict["reason"], reason);
    }
    drop(input);
    assert!(child.wait().unwrap().success());
    reader.join().unwrap();
    // Its last use was recorded once the input ended.
    let last_used: Option<i64> = sandbox.query(&format!(
        "SELECT max(last_used_at) FROM token_usage WHERE token_id = '{}'",
        good.id()
    ));
    assert!(last_used.is_some());
}

#[test]
fn the_token_is_never_an_argument() {
    let sandbox = Sandbox::new();
    let issued = sandbox.create("ci", &[]);
    let output = sandbox.run(&["verify", &issued.token], "");
    assert_eq!(code(&output), 2, "verify accepted a token in argv");
    assert!(
        !stderr(&output).contains(&issued.token[16..]),
        "the usage error echoed the secret"
    );
}

#[test]
fn a_token_passed_as_an_argument_is_not_echoed() {
    let sandbox = Sandbox::new();
    let issued = sandbox.create("ci", &[]);
    let key = issued.secret_key.clone().unwrap();
    let note = format!("--note={}", issued.token);
    // Where an id or a name goes, a token parses as text: it must be refused, not looked up
    // and echoed back in "no token with id or name …".
    for args in [
        vec!["verify", issued.token.as_str()],
        vec!["create", "x", &note, "--bogus"],
        vec!["show", &issued.token],
        vec!["show", &key],
        vec!["revoke", "ci", &issued.token, "--yes"],
        vec!["rotate", &issued.token, "--yes"],
        vec!["edit", &issued.token, "--note", "n"],
        vec!["log", &issued.token],
        vec!["create", &issued.token],
    ] {
        let output = sandbox.run(&args, "");
        assert_eq!(code(&output), 2);
        assert!(
            stderr(&output).contains("was given as an argument"),
            "{}",
            stderr(&output)
        );
        assert!(
            !stderr(&output).contains(&issued.token[16..]),
            "the usage error echoed the secret"
        );
        assert!(
            !stderr(&output).contains(&key[17..]),
            "{args:?} echoed the key"
        );
    }
    // Nothing was changed, and names that merely start like a token still work.
    assert_eq!(sandbox.verify(&issued.token, &[]).0, 0);
    sandbox.create("tk_ci", &["--no-secret-key"]);
    assert_eq!(code(&sandbox.run(&["show", "tk_ci"], "")), 0);
}

#[test]
fn an_argument_that_is_not_utf8_is_a_usage_error_not_a_crash() {
    use std::os::unix::ffi::OsStrExt;
    let sandbox = Sandbox::new();
    for subcommand in ["show", "bogus"] {
        let output = sandbox
            .cmd(&[])
            .arg(subcommand)
            .arg(std::ffi::OsStr::from_bytes(b"\xff"))
            .output()
            .unwrap();
        assert_eq!(code(&output), 2, "{}", stderr(&output));
        assert!(!stderr(&output).contains("panicked"), "{}", stderr(&output));
    }
}
