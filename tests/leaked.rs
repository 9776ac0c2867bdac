//! `tokens revoke --leaked`: any text on stdin (a scanner's report, a log, one token a line);
//! every token and secret key in it whose checksum and secret match is revoked (reason
//! `leaked`; a secret key ends its token's lineage), each reported by id and masked form only.
//! The real scanners' reports are in tests/scanners.rs.

mod common;

use std::process::Command;
use std::time::Duration;

use common::*;
use expectrl::process::unix::WaitStatus;
use expectrl::session::OsSession as Session;
use expectrl::{ControlCode, Eof, Expect};
use tokens::token::{Credential, Kind, generate_id, holds_credential};

/// `tk_<id>_…<last 4 of the secret>` (or `tks_…`) of a credential's text.
fn masked(credential: &str) -> String {
    let head = credential.find('_').unwrap() + 1 + 12;
    let end = credential.len() - 6;
    format!("{}_…{}", &credential[..head], &credential[end - 4..end])
}

/// `credential` with its last check digit changed: the checksum is wrong.
fn mistyped(credential: &str) -> String {
    let (body, last) = credential.split_at(credential.len() - 1);
    format!("{body}{}", if last == "0" { '1' } else { '0' })
}

/// A token of `id` with a secret that is not its own, checksum right.
fn forged(kind: Kind, id: &str) -> String {
    let secret = generate_id().repeat(3)[..32].to_owned();
    Credential::from_parts(kind, id, &secret)
        .unwrap()
        .expose()
        .to_owned()
}

/// The revocation reason of `id` if it no longer verifies (`None`: live).
fn reason(sandbox: &Sandbox, id: &str) -> Option<String> {
    sandbox.query(&format!(
        "SELECT CASE WHEN revoked_at <= {} THEN revoke_reason END FROM tokens WHERE id = '{id}'",
        now_secs()
    ))
}

fn events(sandbox: &Sandbox) -> i64 {
    sandbox.query("SELECT count(*) FROM events")
}

fn assert_no_secret(output: &std::process::Output) {
    let all = format!("{}{}", stdout(output), stderr(output));
    assert!(!holds_credential(&all), "a secret was echoed: {all}");
}

#[test]
fn a_scanner_like_report_revokes_exactly_the_leaked_tokens_and_lineages() {
    let sandbox = Sandbox::new();
    let web = sandbox.create("web", &[]);
    let ci_old = sandbox.create("ci", &[]);
    let rotated = sandbox.run(&["rotate", "ci", "--grace", "1h", "--yes"], "");
    assert_eq!(code(&rotated), 0, "{}", stderr(&rotated));
    let ci_new = parse_issued(&rotated);
    let bot = sandbox.create("bot", &[]);
    assert_eq!(code(&sandbox.run(&["revoke", "bot", "--yes"], "")), 0);
    let safe = sandbox.create("safe", &[]);
    let quiet = sandbox.create("quiet", &[]);
    let ci_key = ci_new.secret_key.clone().unwrap();
    let wrong_secret = forged(Kind::Token, &safe.id());
    let foreign = Credential::generate(Kind::Token, &generate_id())
        .expose()
        .to_owned();
    // Before: all live but bot.
    for live in [&web, &ci_old, &ci_new, &safe, &quiet] {
        assert_eq!(sandbox.verify(&live.token, &[]).0, 0, "{}", live.id());
    }
    assert_eq!(sandbox.verify(&bot.token, &[]).0, 5);

    let mut report = format!(
        "[\n {{\"RuleID\": \"tokens-api-token\", \"Secret\": \"{w}\", \"Match\": \"token: {w}\", \"File\": \"app.yaml\"}},\n \
         {{\"RuleID\": \"tokens-api-token\", \"Secret\": \"{w}\", \"File\": \"deploy.sh\"}},\n \
         {{\"RuleID\": \"tokens-secret-key\", \"Secret\": \"{ci_key}\", \"File\": \".env\"}}\n]\n\
         2026-11-30 12:00:01 WARN build log: Authorization: Bearer {b}\n\
         {wrong_secret}\n{w}\n\
         garbage: tk_ tk_ci tks_x_y tk_abcdefghijkl_short\n\
         near-misses: {mistyped} {truncated}\n",
        w = web.token,
        b = bot.token,
        mistyped = mistyped(&safe.token),
        truncated = &safe.token[..safe.token.len() - 2],
    )
    .into_bytes();
    // Bytes that are not UTF-8 do not hide the credential after them.
    report.extend_from_slice(b"\xff\xfe binary \x00");
    report.extend_from_slice(foreign.as_bytes());
    report.extend_from_slice(b"\n");

    let output = sandbox
        .cmd(&["revoke", "--leaked", "--yes"])
        .write_stdin(report)
        .output()
        .unwrap();
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_no_secret(&output);
    assert_eq!(stdout(&output), "");
    let (web_id, old_id, new_id, bot_id) = (web.id(), ci_old.id(), ci_new.id(), bot.id());
    let unknown = "unknown (no token with this id and secret in this vault)";
    assert_eq!(
        stderr(&output),
        format!(
            "{}: revoked token of \"web\" ({web_id})\n\
             {}: revoked secret key of \"ci\" ({new_id}) and its lineage: \"ci\" ({old_id}), \"ci\" ({new_id})\n\
             {}: token of \"bot\" ({bot_id}) already revoked\n\
             {}: {unknown}\n\
             {}: {unknown}\n\
             Found 5 credentials: 2 revoked, 1 already revoked, 2 unknown; \
             skipped 2 near-misses (shaped like a token but with a wrong length or checksum).\n",
            masked(&web.token),
            masked(&ci_key),
            masked(&bot.token),
            masked(&wrong_secret),
            masked(&foreign),
        )
    );

    // After: the leaked token and the leaked key's whole lineage (the old token in its grace
    // too), reason "leaked"; bot as it was; safe (near-missed, forged) and quiet untouched.
    for gone in [&web, &ci_old, &ci_new] {
        assert_eq!(sandbox.verify(&gone.token, &[]).0, 5, "{}", gone.id());
        assert_eq!(reason(&sandbox, &gone.id()).as_deref(), Some("leaked"));
    }
    assert_eq!(reason(&sandbox, &bot_id).as_deref(), Some("revoked"));
    for live in [&safe, &quiet] {
        assert_eq!(sandbox.verify(&live.token, &[]).0, 0, "{}", live.id());
        assert_eq!(reason(&sandbox, &live.id()), None);
    }
    let detail: String = sandbox.query(&format!(
        "SELECT detail FROM events WHERE token_id = '{old_id}' AND kind = 'revoked'"
    ));
    assert_eq!(detail, format!("leaked (secret key of {new_id})"));
    let detail: String = sandbox.query(&format!(
        "SELECT detail FROM events WHERE token_id = '{web_id}' AND kind = 'revoked'"
    ));
    assert_eq!(detail, "leaked");
    sandbox.assert_intact();

    // The same report again: everything it names is already revoked; nothing changes.
    let before = events(&sandbox);
    let output = sandbox
        .cmd(&["revoke", "--leaked", "--yes", "--json"])
        .write_stdin(format!("{}\n{ci_key}\n", web.token))
        .output()
        .unwrap();
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let records = json(&output);
    assert_eq!(
        records,
        serde_json::json!([
            {"kind": "token", "id": web_id, "masked": masked(&web.token), "status": "already_revoked", "name": "web", "revoked": []},
            {"kind": "secret_key", "id": new_id, "masked": masked(&ci_key), "status": "already_revoked", "name": "ci", "revoked": []},
        ])
    );
    assert_eq!(events(&sandbox), before);
}

#[test]
fn a_token_and_its_secret_key_in_one_report_are_both_revoked_once() {
    let sandbox = Sandbox::new();
    let ci = sandbox.create("ci", &[]);
    let key = ci.secret_key.clone().unwrap();
    let output = sandbox
        .cmd(&["revoke", "--leaked", "--yes", "--json"])
        .write_stdin(format!("{}\n{key}\n{}\n", ci.token, ci.token))
        .output()
        .unwrap();
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_no_secret(&output);
    let id = ci.id();
    assert_eq!(
        json(&output),
        serde_json::json!([
            {"kind": "token", "id": id, "masked": masked(&ci.token), "status": "revoked", "name": "ci", "revoked": [id]},
            {"kind": "secret_key", "id": id, "masked": masked(&key), "status": "revoked", "name": "ci", "revoked": [id]},
        ])
    );
    let revocations: i64 = sandbox.query(&format!(
        "SELECT count(*) FROM events WHERE token_id = '{id}' AND kind = 'revoked'"
    ));
    assert_eq!(revocations, 1);
    assert_eq!(sandbox.verify(&ci.token, &[]).0, 5);
}

#[test]
fn a_known_id_with_a_wrong_secret_is_unknown_and_reveals_nothing() {
    let sandbox = Sandbox::new();
    let safe = sandbox.create("safe", &[]);
    let keyless = sandbox.create("keyless", &["--no-secret-key"]);
    let credentials = [
        forged(Kind::Token, &safe.id()),
        forged(Kind::SecretKey, &safe.id()),
        forged(Kind::SecretKey, &keyless.id()),
        forged(Kind::Token, &generate_id()),
    ];
    let before = events(&sandbox);
    let output = sandbox
        .cmd(&["revoke", "--leaked", "--yes", "--json"])
        .write_stdin(credentials.join("\n"))
        .output()
        .unwrap();
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_no_secret(&output);
    let records = json(&output);
    let records = records.as_array().unwrap();
    assert_eq!(records.len(), 4);
    for (record, credential) in records.iter().zip(&credentials) {
        // A known id answers exactly as an unknown one: no name, nothing revoked.
        assert_eq!(record["status"], "unknown", "{record}");
        assert_eq!(record["name"], serde_json::Value::Null, "{record}");
        assert_eq!(record["revoked"], serde_json::json!([]), "{record}");
        assert_eq!(record["masked"], masked(credential).as_str());
    }
    assert!(!stderr(&output).contains("safe"), "{}", stderr(&output));
    assert!(!stderr(&output).contains("keyless"), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(&format!(
            "{}: unknown (no secret key with this id and secret in this vault)",
            masked(&credentials[1])
        )),
        "{}",
        stderr(&output)
    );
    assert_eq!(sandbox.verify(&safe.token, &[]).0, 0);
    assert_eq!(sandbox.verify(&keyless.token, &[]).0, 0);
    assert_eq!(events(&sandbox), before);
}

#[test]
fn text_without_credentials_is_processed_with_exit_0() {
    let sandbox = Sandbox::new();
    let ci = sandbox.create("ci", &[]);
    for (input, expected) in [
        ("", "No tokens or secret keys found in the input.\n"),
        (
            "all clear: tk_ tk_ci\n",
            "No tokens or secret keys found in the input.\n",
        ),
        (
            &format!("{}\n", mistyped(&ci.token)),
            "No tokens or secret keys found in the input; skipped 1 near-miss (shaped like a token but with a wrong length or checksum).\n",
        ),
    ] {
        let output = sandbox
            .cmd(&["revoke", "--leaked", "--yes"])
            .write_stdin(input.to_owned())
            .output()
            .unwrap();
        assert_eq!(code(&output), 0, "{}", stderr(&output));
        assert_eq!(stderr(&output), expected);
        assert_no_secret(&output);
    }
    let output = sandbox
        .cmd(&["revoke", "--leaked", "--yes", "--json"])
        .output()
        .unwrap();
    assert_eq!(stdout(&output), "[]\n");
    // --quiet: nothing on stderr, the vault changed all the same.
    let output = sandbox
        .cmd(&["revoke", "--leaked", "--yes", "--quiet"])
        .write_stdin(ci.token.clone())
        .output()
        .unwrap();
    assert_eq!((code(&output), stderr(&output)), (0, String::new()));
    assert_eq!(reason(&sandbox, &ci.id()).as_deref(), Some("leaked"));
}

#[test]
fn without_a_terminal_it_needs_yes_and_changes_nothing() {
    let sandbox = Sandbox::new();
    let ci = sandbox.create("ci", &[]);
    let output = sandbox
        .cmd(&["revoke", "--leaked"])
        .write_stdin(ci.token.clone())
        .output()
        .unwrap();
    assert_eq!(code(&output), 2);
    assert_eq!(
        stderr(&output),
        "tokens: revoke --leaked asks for confirmation: pass --yes to revoke --leaked without a terminal\n"
    );
    assert_eq!(sandbox.verify(&ci.token, &[]).0, 0);
    // It reads stdin, not arguments: naming tokens or a reason as well is a usage error.
    for args in [
        &["revoke", "--leaked", "--yes", "ci"][..],
        &["revoke", "--leaked", "--yes", "--reason", "x"],
        &["revoke", "--leaked", "--yes", "--all", "--app", "a"],
    ] {
        let output = sandbox.run(args, &ci.token);
        assert_eq!(code(&output), 2, "{args:?}: {}", stderr(&output));
    }
    assert_eq!(sandbox.verify(&ci.token, &[]).0, 0);
}

#[test]
fn a_missing_vault_is_exit_1_and_is_not_created() {
    let sandbox = Sandbox::new();
    let token = Credential::generate(Kind::Token, &generate_id());
    let output = sandbox
        .cmd(&["revoke", "--leaked", "--yes"])
        .write_stdin(token.expose().to_owned())
        .output()
        .unwrap();
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    assert_eq!(
        stderr(&output),
        format!(
            "tokens: no vault at {} (create a token first, or pass --vault)\n",
            sandbox.shown()
        )
    );
    assert!(!sandbox.vault_exists());
}

#[test]
fn a_vault_that_cannot_be_read_is_exit_1() {
    let sandbox = Sandbox::sqlite();
    std::fs::write(&sandbox.vault, b"not a database, just some bytes here").unwrap();
    let token = Credential::generate(Kind::Token, &generate_id());
    let output = sandbox
        .cmd(&["revoke", "--leaked", "--yes"])
        .write_stdin(token.expose().to_owned())
        .output()
        .unwrap();
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("is not a tokens vault or is corrupt"),
        "{}",
        stderr(&output)
    );
    assert_no_secret(&output);
}

/// `sh -c SCRIPT` on a fresh pseudo-terminal (stderr and /dev/tty are the terminal).
fn spawn(sandbox: &Sandbox, script: &str) -> Session {
    let mut command = Command::new("sh");
    command
        .args(["-c", script])
        .env("TOKENS", env!("CARGO_BIN_EXE_tokens"))
        .env("TOKENS_VAULT", &sandbox.location)
        .env("TERM", "xterm-256color")
        .env_remove("DISPLAY");
    let mut session = Session::spawn(command).expect("spawn on a pty");
    session.get_process_mut().set_window_size(200, 40).unwrap();
    session.set_expect_timeout(Some(Duration::from_secs(15)));
    session
}

fn finish(mut session: Session) -> (String, i32) {
    let rest = session.expect(Eof).expect("the program ends");
    let screen = String::from_utf8_lossy(rest.get(0).unwrap_or_default()).into_owned();
    let code = match session.get_process().wait().unwrap() {
        WaitStatus::Exited(_, code) => code,
        other => panic!("not an exit: {other:?}"),
    };
    (screen, code)
}

#[test]
fn a_report_piped_in_on_a_terminal_is_confirmed_on_the_terminal() {
    let sandbox = Sandbox::new();
    let ci = sandbox.create("ci", &[]);
    let report = sandbox.path("report.txt");
    std::fs::write(&report, format!("leak: {}\n", ci.token)).unwrap();
    let script = format!("exec \"$TOKENS\" revoke --leaked < '{}'", report.display());
    // No: nothing changes.
    let mut session = spawn(&sandbox, &script);
    session
        .expect(format!("Revoke 1 token leaked: \"ci\" ({})?", ci.id()).as_str())
        .unwrap();
    session.send("n").unwrap();
    let (screen, code) = finish(session);
    assert_eq!(code, 130, "{screen}");
    assert_eq!(sandbox.verify(&ci.token, &[]).0, 0);
    // Yes: revoked.
    let mut session = spawn(&sandbox, &script);
    session.expect("Revoke 1 token leaked").unwrap();
    session.send("y").unwrap();
    let (screen, code) = finish(session);
    assert_eq!(code, 0, "{screen}");
    assert!(!holds_credential(&screen), "{screen}");
    assert_eq!(sandbox.verify(&ci.token, &[]).0, 5);
}

#[test]
fn credentials_pasted_on_a_terminal_are_read_to_ctrl_d_then_confirmed() {
    let sandbox = Sandbox::new();
    let ci = sandbox.create("ci", &[]);
    let mut session = spawn(&sandbox, "exec \"$TOKENS\" revoke --leaked");
    session.expect("Paste the text").unwrap();
    session.send_line(&ci.token).unwrap();
    session.send(ControlCode::EndOfTransmission).unwrap();
    session.expect("Revoke 1 token leaked").unwrap();
    session.send("y").unwrap();
    let (screen, code) = finish(session);
    assert_eq!(code, 0, "{screen}");
    assert_eq!(sandbox.verify(&ci.token, &[]).0, 5);
    assert_eq!(reason(&sandbox, &ci.id()).as_deref(), Some("leaked"));
}

/// A big report (GitHub takes up to 1,000 tokens a call; this is 10,000, each twice) is read
/// and judged in one pass: repeats are found by hash, not by comparing every pair (which took
/// over two minutes here).
#[test]
fn a_report_of_ten_thousand_credentials_is_processed_quickly() {
    let sandbox = Sandbox::new();
    let ci = sandbox.create("ci", &[]);
    let mut report = String::new();
    for _ in 0..10_000 {
        let token = Credential::generate(Kind::Token, &generate_id());
        report.push_str(&format!(
            "{{\"Secret\": \"{0}\", \"Match\": \"token={0}\"}}\n",
            token.expose()
        ));
    }
    report.push_str(&ci.token);
    let started = std::time::Instant::now();
    let output = sandbox
        .cmd(&["revoke", "--leaked", "--yes"])
        .write_stdin(report)
        .output()
        .unwrap();
    let took = started.elapsed();
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(
        stderr(&output)
            .ends_with("Found 10001 credentials: 1 revoked, 0 already revoked, 10000 unknown.\n"),
        "{}",
        &stderr(&output)[stderr(&output).len().saturating_sub(300)..]
    );
    assert!(took < Duration::from_secs(60), "took {took:?}");
    assert_eq!(sandbox.verify(&ci.token, &[]).0, 5);
}

/// Any input is read in flat memory: a 96 MB text without a newline (a binary, a minified
/// dump), credentials inside it, runs of token characters megabytes long, a CRLF at the end.
#[test]
fn a_huge_input_without_newlines_is_read_in_flat_memory() {
    let sandbox = Sandbox::new();
    let (first, second, third) = (
        sandbox.create("first", &[]),
        sandbox.create("second", &[]),
        sandbox.create("third", &[]),
    );
    // Reaped by wait4 below, which also reports its peak memory.
    #[allow(clippy::zombie_processes)]
    let mut child = sandbox
        .process(&["revoke", "--leaked", "--yes"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Made after the child started: a fork of this process would count it as the child's.
    let mut input = Vec::with_capacity(100 << 20);
    input.extend(std::iter::repeat_n(b'x', 40 << 20));
    input.extend(format!(" {} ", first.token).bytes());
    input.extend(std::iter::repeat_n(b'A', 30 << 20));
    input.extend(format!(".{}\"", second.token).bytes());
    input.extend("tk_".repeat(8 << 20).bytes());
    input.extend(format!("={}\r\n", third.token).bytes());
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || std::io::Write::write_all(&mut stdin, &input));
    let mut messages = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut messages, &mut text).map(|_| text)
    });
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child, with valid pointers to locals.
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as i32);
    writer.join().unwrap().unwrap();
    let messages = reader.join().unwrap().unwrap();
    assert_eq!(status, 0, "{messages}");
    assert!(
        messages.ends_with("Found 3 credentials: 3 revoked, 0 already revoked, 0 unknown.\n"),
        "{messages}"
    );
    for issued in [&first, &second, &third] {
        assert_eq!(reason(&sandbox, &issued.id()).as_deref(), Some("leaked"));
    }
    let peak_kb = usage.ru_maxrss;
    eprintln!("revoke --leaked of a 96 MB line: peak {peak_kb} KB");
    assert!(peak_kb < 48 * 1024, "peak {peak_kb} KB for a 96 MB line");
}

/// How many distinct candidates the memory test feeds: 1.5 million in `benches/leaked.sh` (a
/// release build), fewer by default so a debug build stays quick.
fn candidate_count() -> usize {
    std::env::var("TOKENS_LEAKED_CANDIDATES")
        .ok()
        .and_then(|count| count.parse().ok())
        .unwrap_or(100_000)
}

/// `revoke --leaked --yes` (and `extra`) on the text in `input`, under GNU time (`time -v`):
/// its stdout, its stderr, and its peak resident memory in KiB.
fn revoke_leaked_measured(
    sandbox: &Sandbox,
    input: &std::path::Path,
    extra: &[&str],
) -> (Vec<u8>, String, u64) {
    let mut args = vec!["revoke", "--leaked", "--yes"];
    args.extend_from_slice(extra);
    let inner = sandbox.process(&args);
    let report = sandbox.dir.path().join("time.txt");
    let mut outer = Command::new("/usr/bin/time");
    outer
        .arg("-v")
        .arg("-o")
        .arg(&report)
        .arg(inner.get_program())
        .args(inner.get_args());
    for (key, value) in inner.get_envs() {
        match value {
            Some(value) => outer.env(key, value),
            None => outer.env_remove(key),
        };
    }
    let output = outer
        .stdin(std::fs::File::open(input).unwrap())
        .output()
        .expect("GNU time runs (apt-get install time)");
    assert_eq!(
        code(&output),
        0,
        "{}",
        stderr(&output).lines().last().unwrap_or("")
    );
    let report = std::fs::read_to_string(&report).unwrap();
    let peak_kib = report
        .lines()
        .find_map(|line| {
            line.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .expect("time -v reports the maximum resident set size")
        .parse()
        .unwrap();
    let messages = stderr(&output);
    (output.stdout, messages, peak_kib)
}

/// A report of `count` distinct well-formed tokens (right checksums, unknown to the vault),
/// each twice, and then `known`.
fn report_file(sandbox: &Sandbox, name: &str, count: usize, known: &str) -> std::path::PathBuf {
    use std::io::Write as _;
    let path = sandbox.dir.path().join(name);
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    for _ in 0..count {
        let token = Credential::generate(Kind::Token, &generate_id());
        writeln!(file, "{0}\ntoken={0}", token.expose()).unwrap();
    }
    writeln!(file, "{known}").unwrap();
    file.flush().unwrap();
    path
}

/// `revoke --leaked` stays under 64 MiB whatever it is given, `--json` included: a few bytes a
/// distinct candidate (a 16-byte fingerprint; the rest in a temporary file), lookups a chunk at a
/// time, the JSON array written as it goes. The 1.5-million run is `bash benches/leaked.sh`.
#[test]
fn many_distinct_candidates_are_answered_in_bounded_memory_with_and_without_json() {
    let sandbox = Sandbox::new();
    let count = candidate_count();
    let small_count = 1_000;
    for json in [false, true] {
        let extra: &[&str] = if json { &["--json"] } else { &[] };
        let small_known = sandbox.create(&format!("small-{json}"), &[]);
        let small = report_file(&sandbox, "small.txt", small_count, &small_known.token);
        let (_, _, small_peak) = revoke_leaked_measured(&sandbox, &small, extra);
        let known = sandbox.create(&format!("ci-{json}"), &[]);
        let large = report_file(&sandbox, "large.txt", count, &known.token);
        let (stdout, messages, peak) = revoke_leaked_measured(&sandbox, &large, extra);

        // The answers are those of a small report: every candidate once, the known one revoked.
        assert!(
            messages.ends_with(&format!(
                "Found {} credentials: 1 revoked, 0 already revoked, {count} unknown.\n",
                count + 1
            )),
            "{}",
            messages.lines().last().unwrap_or("")
        );
        assert_eq!(messages.lines().count(), count + 2);
        assert_eq!(reason(&sandbox, &known.id()).as_deref(), Some("leaked"));
        if json {
            let array: serde_json::Value = serde_json::from_slice(&stdout).unwrap();
            let records = array.as_array().unwrap();
            assert_eq!(records.len(), count + 1);
            assert_eq!(records[count]["status"], "revoked");
            assert_eq!(records[count]["id"], known.id());
            assert_eq!(records[0]["status"], "unknown");
            // Written a record at a time, exactly as the whole array would be printed.
            let whole = serde_json::to_string_pretty(&array).unwrap() + "\n";
            assert!(stdout == whole.as_bytes(), "the streamed JSON differs");
        } else {
            assert!(stdout.is_empty());
        }
        assert_no_secret(&std::process::Output {
            status: std::process::ExitStatus::default(),
            stdout: stdout.clone(),
            stderr: messages.clone().into_bytes(),
        });

        let per_candidate =
            (peak.saturating_sub(small_peak) * 1024) as f64 / (count - small_count) as f64;
        eprintln!(
            "revoke --leaked{} of {count} distinct candidates: peak {peak} KiB ({small_peak} KiB \
             for {small_count}), {per_candidate:.1} bytes a candidate",
            if json { " --json" } else { "" }
        );
        assert!(peak < 64 * 1024, "peak {peak} KiB");
        // A fingerprint is 16 bytes (36 MiB for 1.5 million in their sets, whose growth costs
        // up to twice that for a moment); 2.4 KB a candidate before.
        assert!(per_candidate < 40.0, "{per_candidate:.1} bytes a candidate");
    }
}
