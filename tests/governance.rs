//! Governance (SPEC §9): the vault's policy, the audit stream (`log --jsonl`), stale-token
//! reports (`list --unused`, `--exit-code`) and rotations that wait for the new token's first
//! use (`rotate --until-used`). Every test runs on the backend under test (PostgreSQL when
//! `TOKENS_TEST_POSTGRES` is set).

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::*;

/// `tokens ARGS` that must succeed; its stdout.
fn ok(sandbox: &Sandbox, args: &[&str]) -> String {
    let output = sandbox.run(args, "");
    assert_eq!(code(&output), 0, "{args:?}: {}", stderr(&output));
    stdout(&output)
}

/// `tokens ARGS` that the policy must refuse: exit 2 and `message` (one line) on stderr.
fn refused(sandbox: &Sandbox, args: &[&str], message: &str) {
    let output = sandbox.run(args, "");
    assert_eq!(code(&output), 2, "{args:?}: {}", stderr(&output));
    assert_eq!(stderr(&output), format!("tokens: {message}\n"), "{args:?}");
    assert!(stdout(&output).is_empty(), "{args:?} printed a token");
}

const LIFETIME_RULE: &str = "the vault's policy allows a lifetime of at most 90d (max-lifetime)";
const APP_RULE: &str = "the vault's policy requires an app (require-app); give one with --app";

fn events_of_kind(sandbox: &Sandbox, kind: &str) -> i64 {
    sandbox.query(&format!(
        "SELECT count(*) FROM events WHERE kind = '{kind}'"
    ))
}

#[test]
fn policy_set_shows_and_logs_each_change() {
    let sandbox = Sandbox::new();
    sandbox.create("seed", &["--app", "ci"]);
    let json_policy = |sandbox: &Sandbox| json(&sandbox.run(&["--json", "policy"], ""));
    assert_eq!(
        json_policy(&sandbox),
        serde_json::json!({
            "default_lifetime": "30d", "default_lifetime_seconds": 2_592_000,
            "max_lifetime": null, "max_lifetime_seconds": null,
            "require_app": false, "scopes": null,
            "max_refresh_window": null, "max_refresh_window_seconds": null,
            "default_refresh_window": null, "default_refresh_window_seconds": null,
        })
    );
    let output = sandbox.run(
        &[
            "policy",
            "set",
            "--max-lifetime",
            "90d",
            "--require-app",
            "--scopes",
            "read,deploy:prod",
        ],
        "",
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(
        stdout(&sandbox.run(&["policy"], "")),
        "max-lifetime            90d\n\
         default-lifetime        30d (built in)\n\
         require-app             yes\n\
         scopes                  read,deploy:prod\n\
         max-refresh-window      none\n\
         default-refresh-window  never (built in)\n"
    );
    assert_eq!(
        sandbox.query::<String>("SELECT detail FROM events WHERE kind = 'policy'"),
        "max-lifetime none -> 90d; require-app no -> yes; scopes any -> read,deploy:prod"
    );
    // The same again changes nothing and logs nothing.
    ok(&sandbox, &["policy", "set", "--require-app"]);
    assert_eq!(events_of_kind(&sandbox, "policy"), 1);
    ok(
        &sandbox,
        &["policy", "set", "--max-lifetime", "none", "--any-scope"],
    );
    assert_eq!(events_of_kind(&sandbox, "policy"), 2);
    let policy = json_policy(&sandbox);
    assert_eq!(policy["max_lifetime"], serde_json::Value::Null);
    assert_eq!(policy["scopes"], serde_json::Value::Null);
    assert_eq!(policy["require_app"], true);
    // A default longer than the maximum is a usage error; nothing changes.
    ok(&sandbox, &["policy", "set", "--max-lifetime", "30d"]);
    let output = sandbox.run(&["policy", "set", "--default-lifetime", "60d"], "");
    assert_eq!(code(&output), 2);
    assert_eq!(
        stderr(&output),
        "tokens: the default lifetime 60d would be longer than the max lifetime 30d; pass a \
         shorter --default-lifetime or a longer --max-lifetime\n"
    );
    assert_eq!(events_of_kind(&sandbox, "policy"), 3);
}

#[test]
fn each_rule_is_refused_on_each_command_that_could_break_it() {
    let sandbox = Sandbox::new();
    let old = sandbox.create("old", &["--expires", "never"]);
    ok(
        &sandbox,
        &[
            "policy",
            "set",
            "--max-lifetime",
            "90d",
            "--require-app",
            "--scopes",
            "read,write",
        ],
    );
    let tokens_before: i64 = sandbox.query("SELECT count(*) FROM tokens");
    // create: each rule.
    refused(
        &sandbox,
        &["create", "a", "--app", "ci", "--expires", "never"],
        &format!("{LIFETIME_RULE} and this token would never expire; give --expires 90d or less"),
    );
    refused(
        &sandbox,
        &["create", "a", "--app", "ci", "--expires", "91d"],
        &format!("{LIFETIME_RULE} and this one would last 91d; give --expires 90d or less"),
    );
    refused(&sandbox, &["create", "a", "--scope", "read"], APP_RULE);
    refused(
        &sandbox,
        &["create", "a", "--app", "ci", "--scope", "read,admin"],
        "the scope \"admin\" is not allowed by the vault's policy (scopes: read,write); leave it out",
    );
    assert_eq!(
        sandbox.query::<i64>("SELECT count(*) FROM tokens"),
        tokens_before
    );
    // What keeps the rules is made; without --expires it gets the default lifetime.
    let good = sandbox.create("good", &["--app", "ci", "--scope", "read"]);
    let lifetime: i64 = sandbox.query(&format!(
        "SELECT expires_at - created_at FROM tokens WHERE id = '{}'",
        good.id()
    ));
    assert_eq!(lifetime, 30 * 86_400);

    // edit: each rule, on what the edit changes.
    refused(
        &sandbox,
        &["edit", "good", "--expires", "never"],
        &format!("{LIFETIME_RULE} and this token would never expire; give --expires 90d or less"),
    );
    refused(&sandbox, &["edit", "good", "--app", ""], APP_RULE);
    refused(
        &sandbox,
        &["edit", "good", "--add-scope", "admin"],
        "the scope \"admin\" is not allowed by the vault's policy (scopes: read,write); leave it out",
    );
    assert_eq!(
        sandbox.query::<String>(&format!(
            "SELECT coalesce(app, '-') || ' ' || scopes FROM tokens WHERE id = '{}'",
            good.id()
        )),
        "ci read"
    );
    // A token made before the rules may still be renamed or noted.
    ok(
        &sandbox,
        &["edit", "old", "--note", "from before the policy"],
    );

    // rotate --expires: the lifetime rule.
    refused(
        &sandbox,
        &["rotate", "good", "--yes", "--expires", "1y"],
        &format!("{LIFETIME_RULE} and this one would last 1y; give --expires 90d or less"),
    );
    assert_eq!(
        sandbox.query::<i64>("SELECT count(*) FROM tokens"),
        tokens_before + 1
    );
    let _ = old;
}

#[test]
fn rotate_and_refresh_are_never_refused_and_cap_the_lifetime() {
    let sandbox = Sandbox::new();
    let old = sandbox.create("old", &["--expires", "never"]);
    let keyed = sandbox.create("keyed", &["--expires", "1y"]);
    ok(
        &sandbox,
        &[
            "policy",
            "set",
            "--max-lifetime",
            "90d",
            "--require-app",
            "--scopes",
            "write",
        ],
    );
    // No app, no allowed scope, never expiring: an incident rotation still goes through.
    let rotated = parse_issued(&sandbox.run(&["rotate", "old", "--yes"], ""));
    let (lifetime, app): (i64, Option<String>) = {
        let lifetime = sandbox.query(&format!(
            "SELECT expires_at - created_at FROM tokens WHERE id = '{}'",
            rotated.id()
        ));
        let app = sandbox.query(&format!(
            "SELECT app FROM tokens WHERE id = '{}'",
            rotated.id()
        ));
        (lifetime, app)
    };
    assert_eq!(lifetime, 90 * 86_400);
    assert_eq!(app, None);
    assert_eq!(sandbox.verify(&old.token, &[]).0, 5);
    let output = sandbox.run(
        &["refresh"],
        &format!("{}\n{}\n", keyed.token, keyed.secret_key.unwrap()),
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let refreshed = parse_issued(&output);
    let lifetime: i64 = sandbox.query(&format!(
        "SELECT expires_at - created_at FROM tokens WHERE id = '{}'",
        refreshed.id()
    ));
    assert_eq!(lifetime, 90 * 86_400);
}

#[test]
fn policy_check_lists_live_tokens_that_break_the_rules_exit_8() {
    let sandbox = Sandbox::new();
    let forever = sandbox.create("forever", &["--expires", "never", "--app", "ci"]);
    sandbox.create("fine", &["--expires", "10d", "--app", "ci"]);
    let gone = sandbox.create("gone", &["--expires", "never"]);
    ok(&sandbox, &["revoke", "gone", "--yes"]);
    let output = sandbox.run(&["policy", "check"], "");
    assert_eq!(code(&output), 0, "no rule yet: {}", stderr(&output));
    assert_eq!(
        stderr(&output),
        "Every live token keeps the vault's policy.\n"
    );

    ok(&sandbox, &["policy", "set", "--max-lifetime", "30d"]);
    let output = sandbox.run(&["--json", "policy", "check"], "");
    assert_eq!(code(&output), 8, "{}", stderr(&output));
    let found = json(&output);
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
    assert_eq!(found[0]["id"], forever.id());
    assert_eq!(found[0]["rules"], serde_json::json!(["max-lifetime"]));
    // Each problem is worded as the edit command that fixes it.
    let fix = format!("tokens edit {} --expires 30d", forever.id());
    assert_eq!(found[0]["fixes"], serde_json::json!([fix]));
    assert_eq!(
        found[0]["problems"],
        serde_json::json!([format!(
            "{fix} (it never expires, and the policy allows at most 30d)"
        )])
    );
    let output = sandbox.run(&["policy", "check"], "");
    assert_eq!(code(&output), 8);
    let table = stdout(&output);
    assert!(
        table.lines().nth(1).unwrap().starts_with(&format!(
            " {}  forever  max-lifetime  {fix} (it never expires",
            forever.id()
        )),
        "{table}"
    );
    assert!(!table.contains(&gone.id()), "a revoked token is listed");
    // Fixed by the command it gave: exit 0 again.
    let fix: Vec<&str> = fix.split(' ').skip(1).collect();
    ok(&sandbox, &fix);
    assert_eq!(code(&sandbox.run(&["policy", "check"], "")), 0);
}

/// Every rule's problem is an edit command, and running them (the app filled in) fixes the
/// token: edit judges only what it changes, so each works on its own.
#[test]
fn policy_check_words_each_problem_as_the_edit_that_fixes_it() {
    let sandbox = Sandbox::new();
    let wild = sandbox.create(
        "wild",
        &["--expires", "never", "--scope", "read,admin,write,sudo"],
    );
    ok(
        &sandbox,
        &[
            "policy",
            "set",
            "--require-app",
            "--max-lifetime",
            "90d",
            "--scopes",
            "read,write,deploy:prod",
        ],
    );
    let output = sandbox.run(&["--json", "policy", "check"], "");
    assert_eq!(code(&output), 8, "{}", stderr(&output));
    let found = json(&output);
    let id = wild.id();
    assert_eq!(
        found[0]["fixes"],
        serde_json::json!([
            format!("tokens edit {id} --expires 90d"),
            format!("tokens edit {id} --app APP"),
            format!("tokens edit {id} --remove-scope admin,sudo"),
        ])
    );
    assert_eq!(
        found[0]["problems"][2],
        format!(
            "tokens edit {id} --remove-scope admin,sudo (the policy allows only the scopes \
             read,write,deploy:prod)"
        )
    );
    for fix in found[0]["fixes"].as_array().unwrap() {
        let fix = fix.as_str().unwrap().replace("APP", "ci");
        let args: Vec<&str> = fix.split(' ').skip(1).collect();
        ok(&sandbox, &args);
    }
    assert_eq!(code(&sandbox.run(&["policy", "check"], "")), 0);
}

#[test]
fn list_unused_and_exit_code_make_alerts() {
    let sandbox = Sandbox::new();
    let used = sandbox.create("used", &[]);
    let stale = sandbox.create("stale", &[]);
    sandbox.create("never", &["--expires", "60d"]);
    assert_eq!(sandbox.verify(&used.token, &[]).0, 0);
    assert_eq!(sandbox.verify(&stale.token, &[]).0, 0);
    // `stale` was last used 100 days ago.
    sandbox.execute(&format!(
        "UPDATE token_usage SET last_used_at = last_used_at - 100 * 86400 WHERE token_id = '{}'",
        stale.id()
    ));
    let names = |args: &[&str]| -> (i32, Vec<String>) {
        let mut all = vec!["--json", "list"];
        all.extend_from_slice(args);
        let output = sandbox.run(&all, "");
        let names = json(&output)
            .as_array()
            .unwrap()
            .iter()
            .map(|entry| entry["name"].as_str().unwrap().to_owned())
            .collect();
        (code(&output), names)
    };
    assert_eq!(
        names(&["--unused", "90d"]),
        (0, vec!["stale".into(), "never".into()])
    );
    assert_eq!(
        names(&["--unused", "90d", "--exit-code"]),
        (8, vec!["stale".into(), "never".into()])
    );
    assert_eq!(
        names(&["--unused", "200d", "--exit-code"]),
        (8, vec!["never".into()])
    );
    assert_eq!(names(&["--expiring", "7d", "--exit-code"]), (0, vec![]));
    assert_eq!(
        names(&["--expiring", "31d", "--exit-code"]),
        (8, vec!["used".into(), "stale".into()])
    );
    // The table too: exit 8 with the rows printed; nothing matched: exit 0.
    let output = sandbox.run(&["list", "--expiring", "31d", "--exit-code"], "");
    assert_eq!(code(&output), 8);
    assert_eq!(stdout(&output).lines().count(), 3);
    let output = sandbox.run(&["list", "--expiring", "1d", "--exit-code"], "");
    assert_eq!(code(&output), 0);
    assert!(stdout(&output).is_empty());
}

/// The JSON lines `log --jsonl ARGS` prints (exit 0).
fn jsonl(sandbox: &Sandbox, args: &[&str]) -> Vec<serde_json::Value> {
    let mut all = vec!["log", "--jsonl"];
    all.extend_from_slice(args);
    ok(sandbox, &all)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn seqs(lines: &[serde_json::Value]) -> Vec<i64> {
    lines
        .iter()
        .map(|line| line["seq"].as_i64().unwrap())
        .collect()
}

#[test]
fn log_jsonl_prints_one_event_a_line_and_resumes_after_a_seq() {
    let sandbox = Sandbox::new();
    let first = sandbox.create("first", &["--app", "ci"]);
    ok(&sandbox, &["edit", "first", "--note", "hello"]);
    ok(&sandbox, &["policy", "set", "--require-app"]);
    sandbox.create("second", &["--app", "ci"]);
    let output = sandbox.run(&["log", "--jsonl"], "");
    let text = stdout(&output);
    let first_line = text.lines().next().unwrap();
    let at = sandbox.query::<i64>("SELECT min(at) FROM events");
    let at = chrono::DateTime::from_timestamp(at, 0)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert_eq!(
        first_line,
        format!(
            r#"{{"seq":1,"at":"{at}","token_id":"{}","name":"first","event":"created","detail":"app ci, no scopes"}}"#,
            first.id()
        )
    );
    let all = jsonl(&sandbox, &[]);
    assert_eq!(seqs(&all), [1, 2, 3, 4]);
    assert_eq!(all[2]["event"], "policy");
    assert_eq!(all[2]["token_id"], serde_json::Value::Null);
    assert_eq!(seqs(&jsonl(&sandbox, &["--after", "2"])), [3, 4]);
    assert_eq!(
        seqs(&jsonl(&sandbox, &["--after", "1", "--limit", "2"])),
        [2, 3]
    );
    assert_eq!(seqs(&jsonl(&sandbox, &["--limit", "2"])), [3, 4]);
    assert_eq!(seqs(&jsonl(&sandbox, &["--event", "created"])), [1, 4]);
    assert!(jsonl(&sandbox, &["--after", "4"]).is_empty());
    let output = sandbox.run(
        &["log", "--jsonl", "--follow", "--after", "1", "--limit", "2"],
        "",
    );
    assert_eq!(code(&output), 2);
}

/// A `log --jsonl --follow` running in the background; its lines arrive on a channel.
struct Follower {
    child: Child,
    lines: mpsc::Receiver<(Instant, serde_json::Value)>,
}

impl Follower {
    fn start(sandbox: &Sandbox, args: &[&str]) -> Follower {
        let mut all = vec!["log", "--jsonl", "--follow"];
        all.extend_from_slice(args);
        let mut child = sandbox.process(&all).spawn().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in stdout.lines() {
                let line = line.unwrap();
                let value = serde_json::from_str(&line).unwrap();
                if send.send((Instant::now(), value)).is_err() {
                    break;
                }
            }
        });
        Follower { child, lines }
    }

    /// The next line, and when it arrived; panics after `within`.
    fn next(&self, within: Duration) -> (Instant, serde_json::Value) {
        self.lines
            .recv_timeout(within)
            .expect("log --follow printed the event in time")
    }

    fn nothing_within(&self, wait: Duration) {
        if let Ok((_, line)) = self.lines.recv_timeout(wait) {
            panic!("unexpected line {line}");
        }
    }

    fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn log_follow_sees_another_process_events_within_a_second_and_resumes_without_gaps() {
    let sandbox = Sandbox::new();
    sandbox.create("first", &[]);
    let follower = Follower::start(&sandbox, &[]);
    assert_eq!(follower.next(Duration::from_secs(5)).1["seq"], 1);
    follower.nothing_within(Duration::from_millis(600));
    let mut printed = vec![1];
    let mut slowest = Duration::ZERO;
    for round in 0..3 {
        let name = format!("t{round}");
        let output = sandbox.run(&["create", &name], "");
        assert_eq!(code(&output), 0);
        let committed = Instant::now();
        let (arrived, line) = follower.next(Duration::from_secs(3));
        assert!(
            arrived.saturating_duration_since(committed) < Duration::from_secs(1),
            "seen {:?} after the commit",
            arrived - committed
        );
        assert_eq!(line["name"], name.as_str());
        printed.push(line["seq"].as_i64().unwrap());
        slowest = slowest.max(arrived.saturating_duration_since(committed));
    }
    eprintln!(
        "log --follow: the slowest of 3 events printed {slowest:?} after its command returned"
    );
    follower.stop();
    // The collector went away after the fourth event; more happen; it resumes after what it has.
    ok(&sandbox, &["revoke", "t0", "--yes"]);
    ok(&sandbox, &["edit", "t1", "--note", "x"]);
    let last = *printed.last().unwrap();
    let follower = Follower::start(&sandbox, &["--after", &last.to_string()]);
    printed.push(
        follower.next(Duration::from_secs(5)).1["seq"]
            .as_i64()
            .unwrap(),
    );
    printed.push(
        follower.next(Duration::from_secs(5)).1["seq"]
            .as_i64()
            .unwrap(),
    );
    follower.nothing_within(Duration::from_millis(600));
    follower.stop();
    let in_vault: Vec<i64> = seqs(&jsonl(&sandbox, &[]));
    assert_eq!(printed, in_vault, "every event once, in order");
}

/// On PostgreSQL an event's number is drawn at insert: a transaction that inserted an event and
/// commits after a later one must still be printed, before anything numbered after it.
#[test]
fn log_follow_never_skips_an_event_that_commits_late() {
    let sandbox = Sandbox::new();
    if !sandbox.is_postgres() {
        return; // SQLite numbers events under its one write lock: nothing commits out of order.
    }
    sandbox.create("first", &[]);
    let follower = Follower::start(&sandbox, &[]);
    assert_eq!(follower.next(Duration::from_secs(5)).1["seq"], 1);
    // A writer that does not take the write lock (a verifier's failure event) draws number 2
    // and stays open.
    let mut late = sandbox.pg();
    let mut transaction = late.transaction().unwrap();
    transaction
        .batch_execute(
            "WITH x AS MATERIALIZED (SELECT pg_current_xact_id() AS xid) \
             INSERT INTO events (at, token_id, kind, detail) \
             SELECT 0, NULL, 'late', 'committed last' FROM x",
        )
        .unwrap();
    // Number 3 commits now.
    ok(&sandbox, &["policy", "set", "--require-app"]);
    follower.nothing_within(Duration::from_millis(1500));
    transaction.commit().unwrap();
    let (_, second) = follower.next(Duration::from_secs(3));
    let (_, third) = follower.next(Duration::from_secs(3));
    assert_eq!(
        (second["seq"].as_i64(), second["event"].as_str()),
        (Some(2), Some("late"))
    );
    assert_eq!(
        (third["seq"].as_i64(), third["event"].as_str()),
        (Some(3), Some("policy"))
    );
    follower.stop();
    // A one-off read waits for the log as it stood to settle, too.
    let mut late = sandbox.pg();
    let mut transaction = late.transaction().unwrap();
    transaction
        .batch_execute(
            "WITH x AS MATERIALIZED (SELECT pg_current_xact_id() AS xid) \
             INSERT INTO events (at, token_id, kind, detail) SELECT 0, NULL, 'late', '' FROM x",
        )
        .unwrap();
    ok(&sandbox, &["policy", "set", "--no-require-app"]);
    let reader = std::thread::spawn({
        let process = sandbox.process(&["log", "--jsonl", "--after", "3"]);
        move || {
            let mut process = process;
            process.output().unwrap()
        }
    });
    std::thread::sleep(Duration::from_millis(800));
    transaction.commit().unwrap();
    let output = reader.join().unwrap();
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let read: Vec<i64> = stdout(&output)
        .lines()
        .map(|line| {
            serde_json::from_str::<serde_json::Value>(line).unwrap()["seq"]
                .as_i64()
                .unwrap()
        })
        .collect();
    assert_eq!(read, [4, 5]);
}

/// A `verify --batch` kept running, fed one line at a time.
struct Batch {
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
}

impl Batch {
    fn start(mut command: std::process::Command) -> Batch {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let input = child.stdin.take().unwrap();
        let output = BufReader::new(child.stdout.take().unwrap());
        Batch {
            child,
            input,
            output,
        }
    }

    fn reason(&mut self, token: &str) -> String {
        writeln!(self.input, "{token}").unwrap();
        self.input.flush().unwrap();
        let mut answer = String::new();
        self.output.read_line(&mut answer).unwrap();
        let value: serde_json::Value = serde_json::from_str(&answer).unwrap();
        value["reason"].as_str().unwrap().to_owned()
    }

    fn finish(self) {
        drop(self.input);
        let output = self.child.wait_with_output().unwrap();
        assert_eq!(code(&output), 0, "{}", stderr(&output));
    }
}

#[test]
fn until_used_keeps_the_old_token_until_the_new_one_is_first_verified() {
    let sandbox = Sandbox::new();
    let old = sandbox.create("svc", &["--app", "ci", "--scope", "read"]);
    let output = sandbox.run(&["rotate", "svc", "--until-used"], "");
    assert_eq!(
        code(&output),
        0,
        "no confirmation needed: {}",
        stderr(&output)
    );
    let new = parse_issued(&output);
    assert_eq!(
        stderr(&output),
        format!(
            "The old token {} keeps verifying until {} is first verified or until {}, whichever \
             comes first.\n",
            old.id(),
            new.id(),
            sandbox
                .query::<i64>(&format!(
                    "SELECT expires_at FROM tokens WHERE id = '{}'",
                    old.id()
                ))
                .pipe_rfc3339()
        )
    );
    // Waiting: the old token verifies, as often as it likes; list and show say on what.
    for _ in 0..2 {
        assert_eq!(sandbox.verify(&old.token, &[]).0, 0);
    }
    let listed = json(&sandbox.run(&["--json", "list"], ""));
    assert_eq!(listed[0]["id"], old.id());
    assert_eq!(listed[0]["status"], "rotating");
    assert_eq!(listed[0]["waiting_on"], new.id());
    assert_eq!(listed[1]["status"], "active");
    let table = stdout(&sandbox.run(&["list", "--status", "rotating"], ""));
    assert!(
        table
            .lines()
            .nth(1)
            .unwrap()
            .trim_end()
            .ends_with(&format!("rotating (waiting on {})", new.id())),
        "{table}"
    );
    let shown = stdout(&sandbox.run(&["show", &old.id()], ""));
    assert!(
        shown.contains(&format!(
            "\nwaiting on    {} (its first use ends this token)\n",
            new.id()
        )),
        "{shown}"
    );
    assert!(shown.contains("\nstatus        rotating\n"), "{shown}");

    // The new token's first use ends the old one at once.
    assert_eq!(sandbox.verify(&new.token, &[]).0, 0);
    let (status, message) = sandbox.verify(&old.token, &[]);
    assert_eq!(status, 5, "{message}");
    assert_eq!(
        message,
        format!(
            "tokens: token \"svc\" ({}) was revoked just now\n",
            old.id()
        )
    );
    assert_eq!(sandbox.verify(&new.token, &[]).0, 0);
    let listed = json(&sandbox.run(&["--json", "list", "--all"], ""));
    assert_eq!(listed[0]["status"], "revoked");
    assert_eq!(
        sandbox.query::<String>(&format!(
            "SELECT detail FROM events WHERE kind = 'revoked' AND token_id = '{}'",
            old.id()
        )),
        format!("rotated: its successor {} was first used", new.id())
    );
    // Nothing of the old token's row was written by the verifier.
    let revoked_at: i64 = sandbox.query(&format!(
        "SELECT revoked_at FROM tokens WHERE id = '{}'",
        old.id()
    ));
    assert!(revoked_at > now_secs() + 86_400);
}

trait PipeRfc3339 {
    fn pipe_rfc3339(self) -> String;
}

impl PipeRfc3339 for i64 {
    fn pipe_rfc3339(self) -> String {
        chrono::DateTime::from_timestamp(self, 0)
            .unwrap()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    }
}

#[test]
fn until_used_ends_the_old_token_within_a_second_in_a_running_batch() {
    let sandbox = Sandbox::new();
    let old = sandbox.create("svc", &["--expires", "never"]);
    let new = parse_issued(&sandbox.run(&["rotate", "svc", "--until-used", "--grace", "1h"], ""));
    let shown = json(&sandbox.run(&["--json", "show", &old.id()], ""));
    assert_eq!(shown["status"], "rotating");
    assert_eq!(shown["waiting_on"], new.id());
    assert_eq!(shown["revoked_at"], shown["stops_at"], "the grace's end");
    let mut old_side = Batch::start(sandbox.process(&["verify", "--batch"]));
    let mut new_side = Batch::start(sandbox.process(&["verify", "--batch"]));
    assert_eq!(old_side.reason(&old.token), "ok");
    assert_eq!(old_side.reason(&old.token), "ok");
    assert_eq!(new_side.reason(&new.token), "ok");
    let used = Instant::now();
    loop {
        match old_side.reason(&old.token).as_str() {
            "revoked" => break,
            "ok" if used.elapsed() < Duration::from_secs(1) => {
                std::thread::sleep(Duration::from_millis(50))
            }
            other => panic!(
                "the old token answered {other} {:?} after the first use",
                used.elapsed()
            ),
        }
    }
    assert_eq!(new_side.reason(&new.token), "ok");
    old_side.finish();
    new_side.finish();
}

#[test]
fn until_used_with_a_grace_ends_when_the_grace_does() {
    let sandbox = Sandbox::new();
    let old = sandbox.create("svc", &[]);
    let output = sandbox.run(&["rotate", "svc", "--until-used", "--grace", "2s"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(sandbox.verify(&old.token, &[]).0, 0);
    std::thread::sleep(Duration::from_millis(3100));
    assert_eq!(sandbox.verify(&old.token, &[]).0, 5);
}

#[test]
fn a_reader_that_cannot_record_the_first_use_answers_unavailable() {
    let Some(nobody) = Nobody::new() else { return };
    let sandbox = Sandbox::sqlite();
    let old = sandbox.create("svc", &[]);
    let new = parse_issued(&sandbox.run(&["rotate", "svc", "--until-used"], ""));
    let shown = json(&sandbox.run(&["--json", "show", &old.id()], ""));
    assert_eq!(shown["waiting_on"], new.id());
    assert_eq!(
        shown["revoked_at"], shown["expires_at"],
        "at the latest when it expires"
    );
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(sandbox.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&sandbox.vault, std::fs::Permissions::from_mode(0o644)).unwrap();
    let output = nobody.run(&sandbox.vault, &["verify"], &format!("{}\n", new.token));
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    assert!(
        stderr(&output).starts_with(&format!(
            "tokens: could not record the first use of token \"svc\" ({}), which ends the token \
             it was rotated from",
            new.id()
        )),
        "{}",
        stderr(&output)
    );
    let output = nobody.run(
        &sandbox.vault,
        &["verify", "--batch"],
        &format!("{}\n{}\n", new.token, old.token),
    );
    let answers: Vec<serde_json::Value> = stdout(&output)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(answers[0]["reason"], "unavailable");
    assert_eq!(answers[0]["valid"], false);
    assert_eq!(answers[1]["reason"], "ok", "the old token goes on");
    // Where the vault can be written, the first use is recorded and the old token ends.
    assert_eq!(sandbox.verify(&new.token, &[]).0, 0);
    let output = nobody.run(&sandbox.vault, &["verify"], &format!("{}\n", old.token));
    assert_eq!(code(&output), 5, "{}", stderr(&output));
}

#[test]
fn a_token_in_a_rotation_grace_is_listed_as_rotating_with_its_end() {
    let sandbox = Sandbox::new();
    let old = sandbox.create("svc", &[]);
    let output = sandbox.run(&["rotate", "svc", "--grace", "2h"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let listed = json(&sandbox.run(&["--json", "list"], ""));
    assert_eq!(listed[0]["id"], old.id());
    assert_eq!(listed[0]["status"], "rotating");
    assert!(listed[0]["stops_at"].is_string(), "{listed}");
    assert!(listed[0]["waiting_on"].is_null(), "{listed}");
    assert!(listed[1]["stops_at"].is_null(), "{listed}");
    // Piped, the table says `rotating` and its EXPIRES column when the grace ends.
    let table = stdout(&sandbox.run(&["list"], ""));
    let first = table.lines().nth(1).unwrap();
    assert!(first.trim_end().ends_with("rotating"), "{table}");
    assert!(
        first.contains(listed[0]["stops_at"].as_str().unwrap()),
        "{table}"
    );
    let active = json(&sandbox.run(&["--json", "list", "--status", "active"], ""));
    assert_eq!(active.as_array().unwrap().len(), 1);
    let rotating = json(&sandbox.run(&["--json", "list", "--status", "rotating"], ""));
    assert_eq!(rotating[0]["id"], old.id());
    assert_eq!(sandbox.verify(&old.token, &[]).0, 0);
}

/// `log --jsonl` of `events` more events than the vault holds now: lines printed, peak memory (KiB).
fn jsonl_peak_memory(sandbox: &Sandbox, events: i64) -> (usize, i64) {
    let sql = if sandbox.is_postgres() {
        format!(
            "INSERT INTO events (at, token_id, kind, detail) \
             SELECT 1700000000, NULL, 'edited', repeat('x', 100) || n FROM generate_series(1, {events}) n"
        )
    } else {
        format!(
            "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < {events}) \
             INSERT INTO events (at, token_id, kind, detail) \
             SELECT 1700000000, NULL, 'edited', printf('%.100c', 'x') || n FROM c"
        )
    };
    sandbox.execute(&sql);
    // Reaped by wait4 below, which also reports its peak memory.
    #[allow(clippy::zombie_processes)]
    let mut child = sandbox.process(&["log", "--jsonl"]).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let counter = std::thread::spawn(move || BufReader::new(stdout).lines().count());
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child, with valid pointers to locals.
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as i32);
    assert_eq!(status, 0, "log --jsonl failed");
    (counter.join().unwrap(), usage.ru_maxrss)
}

#[test]
fn log_jsonl_streams_in_flat_memory() {
    let sandbox = Sandbox::new();
    sandbox.create("first", &[]);
    let (lines, small) = jsonl_peak_memory(&sandbox, 1_000);
    assert_eq!(lines, 1_001);
    let (lines, large) = jsonl_peak_memory(&sandbox, 300_000);
    assert_eq!(lines, 301_001);
    eprintln!("log --jsonl peak memory: {small} KiB for 1,001 events, {large} KiB for 301,001");
    assert!(large < small + 4_096, "{small} KiB, then {large} KiB");
}

/// On PostgreSQL, a role that may only read: `log --jsonl` works for it (SELECT on the tables is
/// all it needs), and it answers an `--until-used` successor exit 1 rather than leave the old
/// token alive unseen.
#[test]
fn a_read_only_role_streams_the_log_and_cannot_end_a_rotation_unseen() {
    let sandbox = Sandbox::new();
    if !sandbox.is_postgres() {
        return; // SQLite's read-only verifier: a_reader_that_cannot_record_the_first_use_answers_unavailable
    }
    let old = sandbox.create("svc", &[]);
    let new = parse_issued(&sandbox.run(&["rotate", "svc", "--until-used"], ""));
    let database = sandbox.location.rsplit_once('/').unwrap().1.to_owned();
    let role = format!("auditor_{database}");
    let mut admin = sandbox.pg();
    admin
        .batch_execute(&format!(
            "DROP ROLE IF EXISTS {role}; CREATE ROLE {role} LOGIN PASSWORD 'auditor-pw'; \
             GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}; \
             GRANT EXECUTE ON FUNCTION public.lookup(text, bytea) TO {role}"
        ))
        .unwrap();
    let (scheme, rest) = sandbox.location.split_once("://").unwrap();
    let url = format!(
        "{scheme}://{role}:auditor-pw@{}",
        rest.split_once('@').unwrap().1
    );
    let as_reader = |args: &[&str], stdin: &str| {
        sandbox
            .cmd(args)
            .env("TOKENS_VAULT", &url)
            .write_stdin(stdin.to_owned())
            .output()
            .unwrap()
    };
    let output = as_reader(&["log", "--jsonl"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(stdout(&output).lines().count(), 3);
    let output = as_reader(&["verify"], &format!("{}\n", new.token));
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("could not record the first use"),
        "{}",
        stderr(&output)
    );
    let output = as_reader(&["verify"], &format!("{}\n", old.token));
    assert_eq!(
        code(&output),
        0,
        "the old token goes on: {}",
        stderr(&output)
    );
    let _ = admin.batch_execute(&format!("DROP OWNED BY {role}; DROP ROLE IF EXISTS {role}"));
}

#[test]
fn until_used_hands_on_to_whatever_replaced_the_new_token_before_its_first_use() {
    let sandbox = Sandbox::new();
    // Refreshed by its holder before its first use: the refreshed token's first use ends the
    // old one (before, the old one waited for a dead token and verified for ever).
    let old = sandbox.create("svc", &["--expires", "never"]);
    let new = parse_issued(&sandbox.run(&["rotate", "svc", "--until-used"], ""));
    let refreshed = sandbox.run(
        &["refresh"],
        &format!("{}\n{}\n", new.token, new.secret_key.as_deref().unwrap()),
    );
    assert_eq!(code(&refreshed), 0, "{}", stderr(&refreshed));
    let refreshed = parse_issued(&refreshed);
    assert_eq!(sandbox.verify(&old.token, &[]).0, 0, "still waiting");
    let listed = json(&sandbox.run(&["--json", "list"], ""));
    assert_eq!(listed[0]["waiting_on"], refreshed.id());
    assert_eq!(sandbox.verify(&refreshed.token, &[]).0, 0);
    assert_eq!(
        sandbox.verify(&old.token, &[]).0,
        5,
        "ended by the first use"
    );
    assert_eq!(
        sandbox.query::<String>(&format!(
            "SELECT detail FROM events WHERE kind = 'revoked' AND token_id = '{}'",
            old.id()
        )),
        format!("rotated: its successor {} was first used", refreshed.id())
    );

    // Rotated by an admin before its first use (with a grace): the token that replaced it ends
    // the old one; the replaced one's own use in its grace no longer does, nor says it does.
    let old = sandbox.create("api", &["--expires", "never"]);
    let new = parse_issued(&sandbox.run(&["rotate", "api", "--until-used"], ""));
    let newest = parse_issued(&sandbox.run(&["rotate", &new.id(), "--grace", "1h"], ""));
    assert_eq!(sandbox.verify(&new.token, &[]).0, 0, "in its grace");
    assert_eq!(sandbox.verify(&old.token, &[]).0, 0, "still waiting");
    assert_eq!(sandbox.verify(&newest.token, &[]).0, 0);
    assert_eq!(
        sandbox.verify(&old.token, &[]).0,
        5,
        "ended by the first use"
    );
    assert_eq!(
        sandbox.query::<i64>(&format!(
            "SELECT count(*) FROM events WHERE kind = 'revoked' AND token_id = '{}'",
            old.id()
        )),
        1
    );
}

#[test]
fn policy_set_refuses_a_zero_default_lifetime_and_an_empty_change() {
    let sandbox = Sandbox::new();
    ok(&sandbox, &["policy", "set", "--max-lifetime", "90d"]);
    let before = ok(&sandbox, &["--json", "policy"]);
    for (args, message) in [
        (
            &["policy", "set", "--default-lifetime", "0s"][..],
            "tokens: invalid --default-lifetime \"0s\": use a duration from 1s to 100y (e.g. 30d)",
        ),
        (
            &["policy", "set"][..],
            "tokens: nothing to change: pass --max-lifetime, --default-lifetime, --require-app, \
             --no-require-app, --scopes, --any-scope, --max-refresh-window or \
             --default-refresh-window",
        ),
    ] {
        let output = sandbox.run(args, "");
        assert_eq!(code(&output), 2, "{args:?}: {}", stderr(&output));
        assert_eq!(stderr(&output).lines().next(), Some(message), "{args:?}");
    }
    assert_eq!(ok(&sandbox, &["--json", "policy"]), before);
    assert_eq!(events_of_kind(&sandbox, "policy"), 1);
    // So no token is born expired.
    let made = sandbox.create("svc", &[]);
    assert_eq!(sandbox.verify(&made.token, &[]).0, 0);
}

#[test]
fn log_follow_ends_when_its_reader_goes_away_without_waiting_for_an_event() {
    let sandbox = Sandbox::new();
    sandbox.create("first", &[]);
    let mut child = sandbox
        .process(&["log", "--jsonl", "--follow"])
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert!(line.contains("\"seq\":1"), "{line}");
    // `| head -1`: the reader closes the pipe; no event follows.
    drop(stdout);
    let closed = Instant::now();
    while child.try_wait().unwrap().is_none() && closed.elapsed() < Duration::from_secs(3) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = child.try_wait().unwrap();
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    // Ended as any printing command whose reader left: by SIGPIPE, quietly (SPEC §4).
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        status.and_then(|status| status.signal()),
        Some(libc::SIGPIPE),
        "still following a closed pipe: {status:?}"
    );
    let mut message = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut message).unwrap();
    assert_eq!(message, "");
}

#[test]
fn list_unused_longer_than_since_1970_still_finds_tokens_never_used() {
    let sandbox = Sandbox::new();
    let used = sandbox.create("used", &[]);
    sandbox.create("never", &[]);
    assert_eq!(sandbox.verify(&used.token, &[]).0, 0);
    for unused in ["50y", "60y", "1000y"] {
        let output = sandbox.run(&["--json", "list", "--unused", unused, "--exit-code"], "");
        assert_eq!(code(&output), 8, "--unused {unused}: {}", stderr(&output));
        let listed = json(&output);
        let names: Vec<&str> = listed
            .as_array()
            .unwrap()
            .iter()
            .map(|entry| entry["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["never"], "--unused {unused}");
    }
}

#[test]
fn log_follow_of_a_vault_file_removed_under_it_ends_saying_where_to_resume() {
    let sandbox = Sandbox::sqlite();
    sandbox.create("first", &[]);
    let mut child = sandbox
        .process(&["log", "--jsonl", "--follow"])
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert!(line.contains("\"seq\":1"), "{line}");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", sandbox.vault.display()));
    }
    // A new vault in its place: its events are not this follower's to print as if in order.
    sandbox.create("second", &[]);
    let removed = Instant::now();
    while child.try_wait().unwrap().is_none() && removed.elapsed() < Duration::from_secs(3) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = child.try_wait().unwrap();
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    assert_eq!(
        status.and_then(|status| status.code()),
        Some(1),
        "still following"
    );
    let mut message = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut message).unwrap();
    assert_eq!(
        message,
        "tokens: the vault file was removed or replaced while following it; start again with \
         --after 1\n"
    );
}

/// What `log --jsonl` prints while a writer holds the log back: the events numbered one after
/// another from where it stands, up to the first missing number (both backends: the same
/// question in each dialect).
#[test]
fn events_committed_through_stops_at_the_first_missing_number() {
    let sandbox = Sandbox::new();
    sandbox.create("first", &[]);
    sandbox.execute(
        "INSERT INTO events (seq, at, token_id, kind, detail) VALUES \
         (2, 0, NULL, 'x', ''), (3, 0, NULL, 'x', ''), (5, 0, NULL, 'x', ''), \
         (6, 0, NULL, 'x', '')",
    );
    let vault =
        tokens::vault::Vault::open(&sandbox.vault_location(), tokens::vault::Access::Read).unwrap();
    let store = vault.store();
    for (after, through) in [(0, 3), (1, 3), (3, 3), (4, 6), (5, 6), (6, 6), (100, 100)] {
        assert_eq!(
            store.events_committed_through(after).unwrap(),
            through,
            "after {after}"
        );
    }
}

/// A writer holding a transaction open that added an event (here the vault's owner; on a file,
/// under SQLite's write lock) cannot make `log --jsonl` fail: it prints every committed event
/// before the held one and exits 0 (on PostgreSQL after `--timeout`, naming the transaction).
#[test]
fn an_open_transaction_that_added_an_event_cannot_make_log_jsonl_fail() {
    let sandbox = Sandbox::new();
    sandbox.create("first", &[]);
    let insert = "INSERT INTO events (at, token_id, kind, detail) VALUES (0, NULL, 'held', '')";
    let mut pg;
    let mut pg_held = None;
    let db;
    if sandbox.is_postgres() {
        pg = sandbox.pg();
        let mut transaction = pg.transaction().unwrap();
        transaction.batch_execute(insert).unwrap();
        pg_held = Some(transaction);
        // An event committed after the held one: held back behind it.
        let output = sandbox.run(&["edit", "first", "--note", "later"], "");
        assert_eq!(code(&output), 0, "{}", stderr(&output));
    } else {
        db = sandbox.db();
        db.execute_batch(&format!("BEGIN IMMEDIATE; {insert}"))
            .unwrap();
    }
    let started = Instant::now();
    let output = sandbox.run(&["log", "--jsonl", "--timeout", "1s"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(started.elapsed() < Duration::from_secs(5));
    let printed: Vec<i64> = seqs(
        &stdout(&output)
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect::<Vec<_>>(),
    );
    assert_eq!(printed, [1]);
    if pg_held.is_some() {
        assert!(
            stderr(&output).starts_with("warning: the events after 1 are held back by "),
            "{}",
            stderr(&output)
        );
    } else {
        assert_eq!(stderr(&output), "", "nothing is held back on a file");
    }
    drop(pg_held);
}
