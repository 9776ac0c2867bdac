//! Every verdict is true when it is given (SPEC §8): a running `verify --batch` and a `verify`
//! whose token arrives late judge each token against the clock and the vault of that moment;
//! and what a stranger can send cannot grow the vault. Run on SQLite and, with
//! TOKENS_TEST_POSTGRES, on PostgreSQL; the read-only reader as a real second user.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Stdio};
use std::time::Duration;

use common::*;
use tokens::token::{Credential, Kind};

/// A token with a valid checksum for `id` and a random secret: what anyone can make up.
fn forged(id: &str) -> String {
    Credential::generate(Kind::Token, id).expose().to_owned()
}

/// A `verify --batch` kept running, fed one line at a time, as a service's coprocess.
struct Coprocess {
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
}

impl Coprocess {
    fn start(mut command: std::process::Command) -> Coprocess {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let input = child.stdin.take().unwrap();
        let output = BufReader::new(child.stdout.take().unwrap());
        Coprocess {
            child,
            input,
            output,
        }
    }

    /// The batch's answer to one line.
    fn ask(&mut self, line: &str) -> serde_json::Value {
        writeln!(self.input, "{line}").unwrap();
        self.input.flush().unwrap();
        let mut answer = String::new();
        self.output.read_line(&mut answer).unwrap();
        serde_json::from_str(&answer).unwrap_or_else(|_| panic!("not JSON: {answer:?}"))
    }

    fn reason(&mut self, token: &str) -> String {
        self.ask(token)["reason"].as_str().unwrap().to_owned()
    }

    fn finish(self) -> std::process::Output {
        drop(self.input);
        let output = self.child.wait_with_output().unwrap();
        assert_eq!(code(&output), 0, "{}", stderr(&output));
        output
    }
}

/// An RFC 3339 time `seconds` from now.
fn in_seconds(seconds: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds(seconds))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[test]
fn a_running_batch_sees_a_revoke_an_expiry_and_the_end_of_a_grace() {
    let sandbox = Sandbox::new();
    let revoked = sandbox.create("revoked", &[]);
    let expiring = sandbox.create("expiring", &["--expires", &in_seconds(3)]);
    let rotated = sandbox.create("rotated", &[]);
    let mut batch = Coprocess::start(sandbox.process(&["verify", "--batch"]));
    for token in [&revoked.token, &expiring.token, &rotated.token] {
        assert_eq!(batch.reason(token), "ok");
    }

    assert_eq!(code(&sandbox.run(&["revoke", "revoked", "--yes"], "")), 0);
    let rotation = sandbox.run(&["rotate", "rotated", "--grace", "2s"], "");
    assert_eq!(code(&rotation), 0, "{}", stderr(&rotation));
    // At once, with no pause: the very next line sees the revoke.
    assert_eq!(batch.reason(&revoked.token), "revoked");
    assert_eq!(batch.reason(&rotated.token), "ok", "the grace still runs");

    std::thread::sleep(Duration::from_millis(3_500));
    assert_eq!(batch.reason(&expiring.token), "expired");
    assert_eq!(
        batch.reason(&rotated.token),
        "revoked",
        "the grace has ended"
    );
    batch.finish();
}

#[test]
fn a_token_that_arrives_late_on_stdin_is_judged_when_it_arrives() {
    let sandbox = Sandbox::new();
    let issued = sandbox.create("late", &[]);
    let mut child = sandbox
        .process(&["verify"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    std::thread::sleep(Duration::from_millis(300)); // verify has started and waits
    assert_eq!(code(&sandbox.run(&["revoke", "late", "--yes"], "")), 0);
    writeln!(input, "{}", issued.token).unwrap();
    drop(input);
    let output = child.wait_with_output().unwrap();
    assert_eq!(code(&output), 5, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("was revoked"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_read_only_batch_of_another_user_sees_roots_commits() {
    let Some(nobody) = Nobody::new() else { return };
    let sandbox = Sandbox::sqlite();
    let first = sandbox.create("first", &[]);
    let second = sandbox.create("second", &[]);
    // Root's vault, readable by others, in a folder they cannot write: nobody reads a snapshot.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(sandbox.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&sandbox.vault, std::fs::Permissions::from_mode(0o644)).unwrap();

    let mut batch = Coprocess::start(nobody.cmd(&sandbox.vault, &["verify", "--batch"]));
    assert_eq!(batch.reason(&first.token), "ok");
    assert_eq!(batch.reason(&second.token), "ok");
    assert_eq!(code(&sandbox.run(&["revoke", "first", "--yes"], "")), 0);
    assert_eq!(batch.reason(&first.token), "revoked");
    // And the next commit after that one too, with the reader now on the WAL.
    assert_eq!(code(&sandbox.run(&["revoke", "second", "--yes"], "")), 0);
    assert_eq!(batch.reason(&second.token), "revoked");
    let created = sandbox.create("third", &[]);
    assert_eq!(batch.reason(&created.token), "ok");
    batch.finish();
}

#[test]
fn strangers_cannot_grow_the_vault_and_failures_never_hide_the_lifecycle() {
    let sandbox = Sandbox::new();
    let target = sandbox.create("target", &[]);
    assert_eq!(
        code(&sandbox.run(&["edit", "target", "--note", "on call"], "")),
        0
    );
    let events_before: i64 = sandbox.query("SELECT count(*) FROM events");
    let size_before = sandbox.vault_size();

    // 100,000 made-up ids and 2,000 wrong secrets for a real id, in one batch.
    let mut input = String::new();
    for index in 0..100_000 {
        input.push_str(&forged(&format!("{index:0>12}")));
        input.push('\n');
    }
    for _ in 0..2_000 {
        input.push_str(&forged(&target.id()));
        input.push('\n');
    }
    let output = sandbox.run(&["verify", "--batch"], &input);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(stdout(&output).lines().count(), 102_000);
    assert!(
        stdout(&output)
            .lines()
            .all(|line| line.contains(r#""reason":"invalid""#))
    );
    // And 20 more, one process each, as separate callers would.
    for _ in 0..20 {
        assert_eq!(sandbox.verify(&forged(&target.id()), &[]).0, 3);
    }

    // One event stands for all of them (at most one a minute per token and reason) ...
    let events_after: i64 = sandbox.query("SELECT count(*) FROM events");
    assert_eq!(events_after - events_before, 1);
    let counted: i64 = sandbox.query(&format!(
        "SELECT failures FROM verify_failures WHERE token_id = '{}'",
        target.id()
    ));
    assert_eq!(counted, 2_020);
    let rows: i64 = sandbox.query("SELECT count(*) FROM verify_failures");
    assert_eq!(rows, 1, "made-up ids were written down");
    // ... the vault barely grew ...
    let growth = sandbox.vault_size() - size_before;
    assert!(growth < 64 * 1024, "the vault grew by {growth} bytes");
    // ... and show still shows the lifecycle, with the failures counted.
    let shown = stdout(&sandbox.run(&["show", "target"], ""));
    assert!(shown.contains(" created "), "{shown}");
    assert!(shown.contains(" edited "), "{shown}");
    assert!(
        shown.contains("failed checks 2020 (invalid 2020), the last"),
        "{shown}"
    );
    let json = json(&sandbox.run(&["show", "target", "--json"], ""));
    assert_eq!(json["failed_verifications"][0]["count"], 2_020);
    assert_eq!(json["failed_verifications"][0]["reason"], "invalid");
}

#[test]
fn failure_events_carry_the_count_since_the_last_one_logged() {
    let sandbox = Sandbox::new();
    let target = sandbox.create("target", &[]);
    for _ in 0..3 {
        assert_eq!(sandbox.verify(&forged(&target.id()), &[]).0, 3);
    }
    // A minute later (the last event moved back a minute), the next failure is logged with
    // the count of those that were only counted.
    sandbox.execute("UPDATE verify_failures SET logged_at = logged_at - 61");
    assert_eq!(sandbox.verify(&forged(&target.id()), &[]).0, 3);
    let log = json(&sandbox.run(&["log", "target", "--json"], ""));
    let details: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| event["event"] == "verify_failed")
        .map(|event| event["detail"].as_str().unwrap())
        .collect();
    assert_eq!(
        details,
        ["invalid", "invalid (3 failures since the last one logged)"]
    );
}

#[test]
fn a_batch_records_every_last_use_once_and_when_its_input_runs_dry() {
    let sandbox = Sandbox::new();
    let first = sandbox.create("first", &[]);
    let second = sandbox.create("second", &[]);
    let mut batch = Coprocess::start(sandbox.process(&["verify", "--batch"]));
    assert_eq!(batch.reason(&first.token), "ok");
    assert_eq!(batch.reason(&second.token), "ok");
    // The input has run dry: what is pending is written without waiting for the end.
    let recorded = || -> i64 { sandbox.query("SELECT count(*) FROM token_usage") };
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while recorded() < 2 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(recorded(), 2, "last uses not written while the batch waits");
    batch.finish();
}

#[test]
fn an_over_long_batch_line_is_malformed_and_the_batch_goes_on() {
    let sandbox = Sandbox::new();
    let good = sandbox.create("good", &[]);
    // 10 MiB: read and thrown away a buffer at a time, then the next line is answered.
    let input = format!(
        "{}\n{}\n{}\n{}",
        good.token,
        "x".repeat(10 << 20),
        good.token,
        good.token
    );
    let output = sandbox.run(&["verify", "--batch"], &input);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let reasons: Vec<String> = stdout(&output)
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap()["reason"].to_string())
        .collect();
    assert_eq!(reasons, [r#""ok""#, r#""malformed""#, r#""ok""#, r#""ok""#]);
}

#[test]
fn rotate_with_no_grace_is_an_immediate_rotation() {
    let sandbox = Sandbox::new();
    let issued = sandbox.create("ci", &[]);
    let output = sandbox.run(&["rotate", "ci", "--grace", "0s"], "");
    assert_eq!(code(&output), 2);
    assert_eq!(
        stderr(&output),
        "tokens: rotate asks for confirmation: pass --yes to rotate without a terminal\n"
    );
    assert_eq!(sandbox.verify(&issued.token, &[]).0, 0, "nothing changed");
    let output = sandbox.run(&["rotate", "ci", "--grace", "0s", "--yes"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(sandbox.verify(&issued.token, &[]).0, 5);
}

#[test]
fn a_grace_cannot_outlive_the_token() {
    let sandbox = Sandbox::new();
    let issued = sandbox.create("ci", &["--expires", "1d"]);
    let output = sandbox.run(&["rotate", "ci", "--grace", "10y"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let expires_at: i64 = sandbox.query(&format!(
        "SELECT expires_at FROM tokens WHERE id = '{}'",
        issued.id()
    ));
    let stops_at: i64 = sandbox.query(&format!(
        "SELECT revoked_at FROM tokens WHERE id = '{}'",
        issued.id()
    ));
    assert_eq!(stops_at, expires_at);
    assert!(
        stderr(&output).contains("keeps verifying until it expires at")
            && stderr(&output).contains("the --grace asked for was longer than it had left"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn log_limit_gives_the_newest_events_in_order() {
    let sandbox = Sandbox::new();
    for name in ["a", "b", "c", "d"] {
        sandbox.create(name, &[]);
    }
    let log = json(&sandbox.run(&["log", "--limit", "2", "--json"], ""));
    let names: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["c", "d"]);
    let table = stdout(&sandbox.run(&["log", "--limit", "1"], ""));
    assert_eq!(table.lines().count(), 2, "{table}"); // the header and one event
    assert!(table.lines().nth(1).unwrap().contains(" d "), "{table}");
}

#[test]
fn a_long_log_streams_in_the_columns_of_its_first_page() {
    let sandbox = Sandbox::new();
    let issued = sandbox.create("busy", &[]);
    // 2,500 events, as another writer (or years of use) would leave them.
    let now = now_secs();
    let values: Vec<String> = (0..2_500)
        .map(|index| format!("({now}, '{}', 'edited', 'change {index}')", issued.id()))
        .collect();
    sandbox.execute(&format!(
        "INSERT INTO events (at, token_id, kind, detail) VALUES {}",
        values.join(", ")
    ));
    let table = stdout(&sandbox.run(&["log"], ""));
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 1 + 2_501, "the header and every event");
    let column = |line: &str| line.find("edited");
    assert_eq!(column(lines[1_500]), column(lines[2]), "{}", lines[1_500]);
    assert!(lines.last().unwrap().ends_with("change 2499"));
    let log = json(&sandbox.run(&["log", "--json"], ""));
    assert_eq!(log.as_array().unwrap().len(), 2_501);
}

#[cfg(target_os = "linux")]
#[test]
fn a_verifier_cannot_dump_core_and_is_closed_to_its_user() {
    let Some(nobody) = Nobody::new() else { return };
    let sandbox = Sandbox::sqlite();
    let issued = sandbox.create("ci", &[]);
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    std::fs::set_permissions(sandbox.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&sandbox.vault, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut batch = Coprocess::start(nobody.cmd(&sandbox.vault, &["verify", "--batch"]));
    assert_eq!(batch.reason(&issued.token), "ok");
    // setpriv execs tokens in the same process.
    let pid = batch.child.id();
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let core = limits
        .lines()
        .find(|line| line.starts_with("Max core file size"))
        .unwrap();
    assert_eq!(
        core.split_whitespace().collect::<Vec<_>>()[4..6],
        ["0", "0"],
        "{core}"
    );
    // A process that is not dumpable has its /proc entries owned by root, so other processes
    // of its user cannot read its memory.
    let owner = std::fs::metadata(format!("/proc/{pid}/mem")).unwrap().uid();
    assert_eq!(owner, 0, "verify's memory is open to its user");
    batch.finish();
}

#[test]
fn an_idle_read_only_batch_does_not_hold_back_the_writers_wal() {
    let Some(nobody) = Nobody::new() else { return };
    let sandbox = Sandbox::sqlite();
    let issued = sandbox.create("busy", &[]);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(sandbox.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&sandbox.vault, std::fs::Permissions::from_mode(0o644)).unwrap();
    // A CI user's batch answers once, then sits waiting for its next line.
    let mut batch = Coprocess::start(nobody.cmd(&sandbox.vault, &["verify", "--batch"]));
    assert_eq!(batch.reason(&issued.token), "ok");
    for round in 0..150 {
        let note = format!("round {round}");
        let output = sandbox.run(&["edit", "busy", "--note", &note], "");
        assert_eq!(code(&output), 0, "{}", stderr(&output));
    }
    let wal =
        std::fs::metadata(format!("{}-wal", sandbox.vault.display())).map_or(0, |meta| meta.len());
    // Each edit's WAL is copied back and removed when it closes (while the reader held on,
    // 150 edits left a WAL of about 2.5 MB).
    assert!(wal < 256 * 1024, "the WAL grew to {wal} bytes");
    // And the batch still answers, seeing the latest state.
    assert_eq!(batch.reason(&issued.token), "ok");
    assert_eq!(code(&sandbox.run(&["revoke", "busy", "--yes"], "")), 0);
    assert_eq!(batch.reason(&issued.token), "revoked");
    batch.finish();
}
