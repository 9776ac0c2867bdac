//! Least-privilege roles on the shared PostgreSQL vault (SPEC §10): `tokens grants ROLE --kind
//! admin|verifier|reader`, run by the vault's owner, and then each command as each kind of role
//! (a test per cell), and what a verifier holding every lock it can take does to admins and
//! verdicts. PostgreSQL only: without `TOKENS_TEST_POSTGRES` these tests print "skipped" and
//! pass (the PostgreSQL pass of `.ci/run` sets it).

mod common;

use std::time::{Duration, Instant};

use common::*;
use tokens::token::{Credential, Kind};

/// A PostgreSQL sandbox, or `None` (with a note) when no test server is configured.
fn pg_sandbox() -> Option<Sandbox> {
    if postgres_admin_url().is_none() {
        eprintln!("skipped: set TOKENS_TEST_POSTGRES to a PostgreSQL admin URL (.ci/run does)");
        return None;
    }
    Some(Sandbox::new())
}

fn database(sandbox: &Sandbox) -> String {
    let path = sandbox.location.rsplit_once('/').unwrap().1;
    path.split('?').next().unwrap().to_owned()
}

/// `url` with its user and password replaced.
fn as_user(url: &str, user: &str, password: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let host = rest.split_once('@').unwrap().1;
    format!("{scheme}://{user}:{password}@{host}")
}

/// A login role granted `kind` by the SQL `tokens grants` prints, run by the vault's owner.
struct Role {
    url: String,
    shown: String,
}

fn role(sandbox: &Sandbox, kind: &str) -> Role {
    let name = format!("{kind}_{}", database(sandbox));
    let mut admin =
        postgres::Client::connect(&postgres_admin_url().unwrap(), postgres::NoTls).unwrap();
    admin
        .batch_execute(&format!(
            "DROP ROLE IF EXISTS {name}; CREATE ROLE {name} LOGIN PASSWORD 'pw-{kind}'"
        ))
        .unwrap();
    let output = sandbox.run(&["grants", &name, "--kind", kind], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    sandbox.execute(&stdout(&output));
    Role {
        url: as_user(&sandbox.location, &name, &format!("pw-{kind}")),
        shown: as_user(&sandbox.shown(), &name, "***"),
    }
}

impl Role {
    fn run(&self, sandbox: &Sandbox, args: &[&str], stdin: &str) -> std::process::Output {
        sandbox
            .cmd(args)
            .env("TOKENS_VAULT", &self.url)
            .write_stdin(stdin.to_owned())
            .output()
            .unwrap()
    }
}

/// What a command could have changed.
fn contents(sandbox: &Sandbox) -> (i64, i64, i64, i64, i64) {
    (
        sandbox.query("SELECT count(*) FROM tokens"),
        sandbox.query("SELECT count(*) FROM tokens WHERE revoked_at IS NOT NULL"),
        sandbox.query("SELECT count(*) FROM events"),
        sandbox.query("SELECT count(*) FROM token_usage"),
        sandbox.query("SELECT count(*) FROM verify_failures"),
    )
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Doing {
    Create,
    Edit,
    Rotate,
    Revoke,
    Refresh,
    Verify,
    List,
    Show,
    Log,
}

/// Runs `doing` as a role of `kind` and checks the outcome: done (and its effect in the vault),
/// or refused with one line, exit 1, and the vault unchanged.
fn cell(kind: &str, doing: Doing) {
    let Some(sandbox) = pg_sandbox() else { return };
    let issued = sandbox.create("ci", &["--scope", "read"]);
    let role = role(&sandbox, kind);
    let before = contents(&sandbox);
    // The token's id with another secret: a wrong secret, counted as a failure.
    let wrong = Credential::generate(Kind::Token, &issued.id())
        .expose()
        .to_owned();
    let (args, stdin): (Vec<&str>, String) = match doing {
        Doing::Create => (vec!["create", "second"], String::new()),
        Doing::Edit => (vec!["edit", "ci", "--note", "changed"], String::new()),
        Doing::Rotate => (vec!["rotate", "ci", "--yes"], String::new()),
        Doing::Revoke => (vec!["revoke", "ci", "--yes"], String::new()),
        Doing::Refresh => (
            vec!["refresh"],
            format!(
                "{}\n{}\n",
                issued.token,
                issued.secret_key.as_deref().unwrap()
            ),
        ),
        Doing::Verify => (
            vec!["verify", "--scope", "read"],
            format!("{}\n", issued.token),
        ),
        Doing::List => (vec!["list", "--json"], String::new()),
        Doing::Show => (vec!["show", "ci"], String::new()),
        Doing::Log => (vec!["log", "ci"], String::new()),
    };
    let output = role.run(&sandbox, &args, &stdin);
    let changes = matches!(
        doing,
        Doing::Create | Doing::Edit | Doing::Rotate | Doing::Revoke | Doing::Refresh
    );
    let reads = matches!(doing, Doing::List | Doing::Show | Doing::Log);
    let refusal = match kind {
        "admin" => None,
        _ if changes => Some(format!(
            "tokens: this role may not change tokens at {}: it was granted {kind} access \
             (tokens grants); run this command as an admin role\n",
            role.shown
        )),
        "reader" if doing == Doing::Verify => Some(format!(
            "tokens: this role may not verify tokens at {}: it was granted reader access \
             (tokens grants); verifying needs a role granted --kind verifier\n",
            role.shown
        )),
        "verifier" if reads => Some(format!(
            "tokens: this role may not read tokens' details at {}: it was granted verifier \
             access (tokens grants); list, show and log need a role granted --kind reader or admin\n",
            role.shown
        )),
        _ => None,
    };
    if let Some(refusal) = refusal {
        assert_eq!(code(&output), 1, "{kind} {doing:?}");
        assert_eq!(stdout(&output), "");
        assert_eq!(stderr(&output), refusal);
        assert_eq!(
            contents(&sandbox),
            before,
            "{kind} {doing:?} changed the vault"
        );
        return;
    }
    assert_eq!(code(&output), 0, "{kind} {doing:?}: {}", stderr(&output));
    let (tokens, revoked, events, used, failed) = before;
    match doing {
        Doing::Create => assert_eq!(contents(&sandbox).0, tokens + 1),
        Doing::Edit => assert_eq!(
            sandbox.query::<Option<String>>("SELECT note FROM tokens"),
            Some("changed".to_owned())
        ),
        Doing::Rotate | Doing::Refresh => {
            assert_eq!(contents(&sandbox).0, tokens + 1);
            assert_eq!(contents(&sandbox).1, revoked + 1);
            assert_eq!(sandbox.verify(&issued.token, &[]).0, 5);
        }
        Doing::Revoke => assert_eq!(contents(&sandbox).1, revoked + 1),
        Doing::Verify => {
            // Everything an owner's verify records: last use, the failure counter and its
            // verify_failed event.
            assert_eq!(contents(&sandbox).3, used + 1);
            let output = role.run(&sandbox, &["verify"], &format!("{wrong}\n"));
            assert_eq!(code(&output), 3, "{}", stderr(&output));
            assert_eq!(contents(&sandbox).4, failed + 1);
            assert_eq!(contents(&sandbox).2, events + 1);
            assert_eq!(
                sandbox.query::<String>("SELECT kind FROM events ORDER BY seq DESC LIMIT 1"),
                "verify_failed"
            );
        }
        Doing::List => assert_eq!(json(&output).as_array().unwrap().len(), 1),
        Doing::Show | Doing::Log => assert!(stdout(&output).contains("created")),
    }
}

macro_rules! cells {
    ($($name:ident: $kind:literal $doing:ident;)*) => {
        $(#[test] fn $name() { cell($kind, Doing::$doing) })*
    };
}

cells! {
    admin_creates: "admin" Create;
    admin_edits: "admin" Edit;
    admin_rotates: "admin" Rotate;
    admin_revokes: "admin" Revoke;
    admin_refreshes: "admin" Refresh;
    admin_verifies: "admin" Verify;
    admin_lists: "admin" List;
    admin_shows: "admin" Show;
    admin_reads_the_log: "admin" Log;
    verifier_may_not_create: "verifier" Create;
    verifier_may_not_edit: "verifier" Edit;
    verifier_may_not_rotate: "verifier" Rotate;
    verifier_may_not_revoke: "verifier" Revoke;
    verifier_may_not_refresh: "verifier" Refresh;
    verifier_verifies_and_records_what_an_admin_would: "verifier" Verify;
    verifier_may_not_list: "verifier" List;
    verifier_may_not_show: "verifier" Show;
    verifier_may_not_read_the_log: "verifier" Log;
    reader_may_not_create: "reader" Create;
    reader_may_not_edit: "reader" Edit;
    reader_may_not_rotate: "reader" Rotate;
    reader_may_not_revoke: "reader" Revoke;
    reader_may_not_refresh: "reader" Refresh;
    reader_may_not_verify: "reader" Verify;
    reader_lists: "reader" List;
    reader_shows: "reader" Show;
    reader_reads_the_log: "reader" Log;
}

#[test]
fn a_verifier_cannot_read_secret_key_hashes_and_a_reader_no_hash() {
    let Some(sandbox) = pg_sandbox() else { return };
    sandbox.create("ci", &[]);
    for (kind, columns) in [
        ("verifier", &["secret_key_hash", "note"][..]),
        ("reader", &["secret_key_hash", "secret_hash"][..]),
    ] {
        let role = role(&sandbox, kind);
        let mut client = postgres::Client::connect(&role.url, postgres::NoTls).unwrap();
        for column in columns {
            let error = client
                .query(&format!("SELECT {column} FROM tokens"), &[])
                .unwrap_err();
            assert_eq!(
                error.code(),
                Some(&postgres::error::SqlState::INSUFFICIENT_PRIVILEGE),
                "{kind} {column}"
            );
        }
    }
}

/// A verifier writes no event itself (SPEC §10): the vault's functions log its failed
/// verifications, with the server's time and a fixed shape.
#[test]
fn a_verifier_writes_no_event_and_the_vault_logs_its_failed_verifications() {
    let Some(sandbox) = pg_sandbox() else { return };
    let issued = sandbox.create("ci", &[]);
    let verifier = role(&sandbox, "verifier");
    let mut client = postgres::Client::connect(&verifier.url, postgres::NoTls).unwrap();
    let insert = "INSERT INTO events (at, token_id, kind, detail) VALUES (0, $1, $2, '')";
    for kind in ["revoked", "created", "rotated", "verify_failed"] {
        let error = client.execute(insert, &[&issued.id(), &kind]).unwrap_err();
        assert_eq!(
            error.code(),
            Some(&postgres::error::SqlState::INSUFFICIENT_PRIVILEGE),
            "{kind}"
        );
    }
    let wrong = Credential::generate(Kind::Token, &issued.id());
    let output = verifier.run(&sandbox, &["verify"], &format!("{}\n", wrong.expose()));
    assert_eq!(code(&output), 3, "{}", stderr(&output));
    let (at, detail): (i64, String) = {
        let row = sandbox
            .pg()
            .query_one(
                "SELECT at, detail FROM events WHERE kind = 'verify_failed'",
                &[],
            )
            .unwrap();
        (row.get(0), row.get(1))
    };
    assert_eq!(detail, "invalid");
    assert!((at - now_secs()).abs() < 60, "{at}");
    // An admin role (not the owner) still logs every kind.
    let admin = role(&sandbox, "admin");
    let output = admin.run(&sandbox, &["revoke", "ci", "--yes"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(
        sandbox.query::<i64>("SELECT count(*) FROM events WHERE kind = 'revoked'"),
        1
    );
}

/// `rotate --until-used`: the new token's first use, verified by a verifier role, ends the old
/// token (the verifier records it and logs the one `revoked` event it may), SPEC §10.
#[test]
fn a_verifier_records_the_first_use_that_ends_an_until_used_rotation() {
    let Some(sandbox) = pg_sandbox() else { return };
    let old = sandbox.create("svc", &[]);
    let output = sandbox.run(&["rotate", "svc", "--until-used", "--yes"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let new = parse_issued(&output);
    let verifier = role(&sandbox, "verifier");
    let output = verifier.run(&sandbox, &["verify"], &format!("{}\n", old.token));
    assert_eq!(code(&output), 0, "the old token waits: {}", stderr(&output));
    let output = verifier.run(&sandbox, &["verify"], &format!("{}\n", new.token));
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let output = verifier.run(&sandbox, &["verify"], &format!("{}\n", old.token));
    assert_eq!(code(&output), 5, "{}", stderr(&output));
    assert_eq!(
        sandbox.query::<i64>(&format!(
            "SELECT count(*) FROM events WHERE kind = 'revoked' AND token_id = '{}'",
            old.id()
        )),
        1
    );
}

#[test]
fn a_reader_sees_whether_a_token_has_a_secret_key_without_its_hash() {
    let Some(sandbox) = pg_sandbox() else { return };
    sandbox.create("with", &[]);
    sandbox.create("without", &["--no-secret-key"]);
    let role = role(&sandbox, "reader");
    let output = role.run(&sandbox, &["list", "--json"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let output = role.run(&sandbox, &["show", "with", "--json"], "");
    assert_eq!(json(&output)["has_secret_key"], true);
    let output = role.run(&sandbox, &["show", "without", "--json"], "");
    assert_eq!(json(&output)["has_secret_key"], false);
}

#[test]
fn a_role_with_no_grant_is_told_so_in_one_line() {
    let Some(sandbox) = pg_sandbox() else { return };
    sandbox.create("ci", &[]);
    let name = format!("nobody_{}", database(&sandbox));
    let mut admin =
        postgres::Client::connect(&postgres_admin_url().unwrap(), postgres::NoTls).unwrap();
    admin
        .batch_execute(&format!(
            "DROP ROLE IF EXISTS {name}; CREATE ROLE {name} LOGIN PASSWORD 'pw'"
        ))
        .unwrap();
    let url = as_user(&sandbox.location, &name, "pw");
    let output = sandbox
        .cmd(&["list"])
        .env("TOKENS_VAULT", &url)
        .output()
        .unwrap();
    assert_eq!(code(&output), 1);
    assert_eq!(
        stderr(&output),
        format!(
            "tokens: this role may not read the vault at {}: it was granted no access to it; \
             its owner can grant some (tokens grants ROLE --kind admin|verifier|reader)\n",
            as_user(&sandbox.shown(), &name, "***")
        )
    );
}

/// In one open transaction, as `url`'s role, takes every lock that role can: `LOCK TABLE` in
/// every mode, row locks of every strength, every row of the bookkeeping tables, rows inserted
/// and not committed. What is refused is skipped.
fn hold_every_lock(url: &str, token_id: &str) -> postgres::Client {
    let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
    client
        .batch_execute("SET lock_timeout = '1s'; BEGIN")
        .unwrap();
    let mut attempt = |sql: &str| {
        client.batch_execute("SAVEPOINT attempt").unwrap();
        let end = match client.batch_execute(sql) {
            Ok(()) => "RELEASE SAVEPOINT attempt",
            Err(_) => "ROLLBACK TO SAVEPOINT attempt",
        };
        client.batch_execute(end).unwrap();
    };
    for table in [
        "tokens_vault",
        "tokens",
        "events",
        "token_usage",
        "verify_failures",
    ] {
        for mode in [
            "ACCESS SHARE",
            "ROW SHARE",
            "ROW EXCLUSIVE",
            "SHARE UPDATE EXCLUSIVE",
            "SHARE",
            "SHARE ROW EXCLUSIVE",
            "EXCLUSIVE",
            "ACCESS EXCLUSIVE",
        ] {
            attempt(&format!("LOCK TABLE {table} IN {mode} MODE"));
        }
        for strength in ["KEY SHARE", "SHARE", "NO KEY UPDATE", "UPDATE"] {
            for column in ["*", "id", "token_id", "version"] {
                attempt(&format!("SELECT {column} FROM {table} FOR {strength}"));
            }
        }
    }
    attempt("UPDATE token_usage SET last_used_at = last_used_at");
    attempt("UPDATE verify_failures SET failures = failures");
    attempt(&format!(
        "INSERT INTO token_usage (token_id, last_used_at) VALUES ('{token_id}', 0)"
    ));
    attempt(&format!(
        "INSERT INTO verify_failures (token_id, reason, failures, first_at, last_at, unlogged) \
         VALUES ('{token_id}', 'invalid', 1, 0, 0, 1)"
    ));
    attempt("INSERT INTO events (at, token_id, kind, detail) VALUES (0, 'x', 'verify_failed', '')");
    client
}

fn locks_of(sandbox: &Sandbox, pid: i32) -> Vec<String> {
    sandbox
        .pg()
        .query(
            "SELECT coalesce(relation::regclass::text, locktype) || ' ' || mode FROM pg_locks \
             WHERE pid = $1 AND granted AND locktype IN ('relation', 'tuple', 'transactionid') \
             AND coalesce(relation::regclass::text, '') NOT LIKE 'pg_%' ORDER BY 1",
            &[&pid],
        )
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect()
}

#[test]
fn a_verifier_holding_every_lock_it_can_delays_no_admin_change_and_no_verdict() {
    let Some(sandbox) = pg_sandbox() else { return };
    let used = sandbox.create("used", &[]);
    let fresh = sandbox.create("fresh", &[]);
    sandbox.create("other", &[]);
    // `used` was last used long ago: a verify is due to record it, on a row the holder locks.
    assert_eq!(sandbox.verify(&used.token, &[]).0, 0);
    sandbox.execute("UPDATE token_usage SET last_used_at = 1000");
    let verifier = role(&sandbox, "verifier");
    let admin = role(&sandbox, "admin");

    let mut holder = hold_every_lock(&verifier.url, &fresh.id());
    let pid: i32 = holder
        .query_one("SELECT pg_backend_pid()", &[])
        .unwrap()
        .get(0);
    let held = locks_of(&sandbox, pid);
    // What it holds, so the test cannot pass by holding nothing: reading the version row.
    assert!(
        held.iter()
            .any(|held| held == "tokens_vault AccessShareLock"),
        "{held:?}"
    );
    // And nothing beyond reading on any vault table (SPEC §10: no row lock, no write).
    assert!(
        held.iter()
            .all(|held| held.ends_with(" AccessShareLock") || held.starts_with("transactionid ")),
        "{held:?}"
    );

    let started = Instant::now();
    for args in [
        vec!["create", "third", "--timeout", "5s"],
        vec!["edit", "other", "--note", "n", "--timeout", "5s"],
        vec!["rotate", "other", "--yes", "--timeout", "5s"],
        vec!["revoke", "fresh", "--yes", "--timeout", "5s"],
    ] {
        let output = admin.run(&sandbox, &args, "");
        assert_eq!(code(&output), 0, "{args:?}: {}", stderr(&output));
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the admin waited {:?}",
        started.elapsed()
    );
    // A plain verify answers at once, as the verifier and as the admin, and records the last
    // use: the verifier could hold no bookkeeping row.
    for who in [&verifier, &admin] {
        let started = Instant::now();
        let output = who.run(
            &sandbox,
            &["verify", "--timeout", "5s"],
            &format!("{}\n", used.token),
        );
        assert_eq!(code(&output), 0, "{}", stderr(&output));
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "the verdict waited {:?}",
            started.elapsed()
        );
    }
    assert_eq!(sandbox.verify(&fresh.token, &[]).0, 5);
    holder.batch_execute("ROLLBACK").unwrap();
    assert!(
        sandbox.query::<i64>(&format!(
            "SELECT last_used_at FROM token_usage WHERE token_id = '{}'",
            used.id()
        )) > 1000
    );
}

#[test]
fn a_migration_that_waits_too_long_names_the_session_in_its_way() {
    let Some(sandbox) = pg_sandbox() else { return };
    // Schema 0: the version table alone, as the first step of creating a vault leaves it.
    sandbox.execute(
        "CREATE TABLE tokens_vault (singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton), \
         application text NOT NULL, version integer NOT NULL); \
         INSERT INTO tokens_vault (application, version) VALUES ('tokens', 0)",
    );
    let name = format!("dash_{}", database(&sandbox));
    let mut admin =
        postgres::Client::connect(&postgres_admin_url().unwrap(), postgres::NoTls).unwrap();
    admin
        .batch_execute(&format!(
            "DROP ROLE IF EXISTS {name}; CREATE ROLE {name} LOGIN PASSWORD 'pw'"
        ))
        .unwrap();
    sandbox.execute(&format!("GRANT SELECT ON tokens_vault TO {name}"));
    // A dashboard left a transaction open after reading the version table.
    let url = format!(
        "{}?application_name=dashboard",
        as_user(&sandbox.location, &name, "pw")
    );
    let mut holder = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    holder
        .batch_execute("BEGIN; SELECT version FROM tokens_vault")
        .unwrap();
    let pid: i32 = holder
        .query_one("SELECT pg_backend_pid()", &[])
        .unwrap()
        .get(0);

    let output = sandbox.run(&["create", "ci", "--timeout", "2s"], "");
    assert_eq!(code(&output), 1);
    assert_eq!(
        stderr(&output),
        format!(
            "tokens: waited 2s for a lock on the vault at {} that another session holds; try \
             again, or raise --timeout; migrating the vault's schema needs its tables alone, and \
             pid {pid} (dashboard, user {name}) holds a lock on them\n",
            sandbox.shown()
        )
    );
    assert_eq!(sandbox.query::<i32>("SELECT version FROM tokens_vault"), 0);
    holder.batch_execute("ROLLBACK").unwrap();
    sandbox.create("ci", &[]);
}

/// `log --jsonl ARGS` as `sandbox`'s admin, its stdout and stderr read line by line as they
/// arrive (stderr lines prefixed `stderr: `).
fn log_reader(
    sandbox: &Sandbox,
    args: &[&str],
) -> (std::process::Child, std::sync::mpsc::Receiver<String>) {
    use std::io::BufRead;
    let mut all = vec!["log", "--jsonl"];
    all.extend_from_slice(args);
    let mut child = sandbox
        .process(&all)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (send, lines) = std::sync::mpsc::channel();
    let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let to_stdout = send.clone();
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(|line| line.ok()) {
            let _ = to_stdout.send(line);
        }
    });
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(|line| line.ok()) {
            let _ = send.send(format!("stderr: {line}"));
        }
    });
    (child, lines)
}

/// The `seq` of a `log --jsonl` line.
fn seq_of(line: &str) -> i64 {
    serde_json::from_str::<serde_json::Value>(line).unwrap()["seq"]
        .as_i64()
        .unwrap()
}

/// Issue 21, "the log frozen": a verifier that opens a transaction, adds the one kind of event
/// it may add, and sleeps holds back every event numbered after its own. It cannot make
/// `log --jsonl` fail (it prints what is committed before the held number, names the session
/// on stderr, exit 0), nor make `--follow` stop or wait silently (it names the session once the
/// log has been held for `--timeout`, and goes on, printing every event in order once the
/// transaction ends).
#[test]
fn a_verifier_holding_an_event_open_is_named_and_cannot_stop_the_log() {
    let Some(sandbox) = pg_sandbox() else { return };
    let known = sandbox.create("known", &[]);
    let verifier = role(&sandbox, "verifier");
    let insert = format!(
        "INSERT INTO events (at, token_id, kind, detail) \
         VALUES (0, '{}', 'verify_failed', 'held open')",
        known.id()
    );
    // The verifier adds the one kind of event it may add. Should a later schema take that
    // right away (events written only by the vault's own functions), the vault's owner holds
    // the event open instead: any session's open transaction must be named alike.
    let verifier_may_insert: bool =
        postgres::Client::connect(&direct(&verifier.url), postgres::NoTls)
            .unwrap()
            .query_one("SELECT has_any_column_privilege('events', 'INSERT')", &[])
            .unwrap()
            .get(0);
    let (url, role_name) = if verifier_may_insert {
        (
            direct(&verifier.url),
            format!("verifier_{}", database(&sandbox)),
        )
    } else {
        (direct(&sandbox.location), "tokens_admin".to_owned())
    };
    let mut attacker = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let mut held = attacker.transaction().unwrap();
    held.batch_execute(&insert).unwrap();
    let pid: i32 = held
        .query_one("SELECT pg_backend_pid()", &[])
        .unwrap()
        .get(0);
    let held_seq: i64 = sandbox.query("SELECT coalesce(max(seq), 0) + 1 FROM events");
    // An admin's change commits after it: its event is numbered after the held one.
    let output = sandbox.run(&["edit", "known", "--note", "after the held event"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let later: i64 = sandbox.query("SELECT max(seq) FROM events");
    assert!(later > held_seq, "{later} after {held_seq}");

    // A one-off read: what is committed before the held number, a warning naming the session,
    // exit 0, within about --timeout.
    let started = Instant::now();
    let output = sandbox.run(&["log", "--jsonl", "--timeout", "1s"], "");
    let took = started.elapsed();
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let printed: Vec<i64> = stdout(&output).lines().map(seq_of).collect();
    let before: Vec<i64> = (1..held_seq).collect();
    assert_eq!(
        printed, before,
        "everything committed before the held event, nothing after"
    );
    let warning = stderr(&output);
    eprintln!("log --jsonl said: {warning}");
    assert_eq!(warning.lines().count(), 1, "{warning}");
    for expected in [
        format!("the events after {} are held back", held_seq - 1),
        format!("pid {pid}"),
        format!("role {role_name}"),
        format!("--after {}", held_seq - 1),
    ] {
        assert!(warning.contains(&expected), "{expected:?} in {warning}");
    }
    assert!(took < Duration::from_secs(5), "ended after {took:?}");

    // A follower: the same events, then the warning, and it keeps following.
    let (mut follower, lines) = log_reader(&sandbox, &["--follow", "--timeout", "1s"]);
    let wait = Duration::from_secs(10);
    for seq in &before {
        assert_eq!(seq_of(&lines.recv_timeout(wait).unwrap()), *seq);
    }
    let warning = lines.recv_timeout(wait).unwrap();
    assert!(warning.starts_with("stderr: warning: "), "{warning}");
    assert!(warning.contains(&format!("pid {pid}")), "{warning}");
    assert!(warning.contains(&format!("role {role_name}")), "{warning}");
    assert!(warning.contains("still following"), "{warning}");
    assert!(follower.try_wait().unwrap().is_none(), "--follow goes on");
    // Said once, not at every poll.
    if let Ok(line) = lines.recv_timeout(Duration::from_millis(1500)) {
        panic!("unexpected {line}");
    }
    // The transaction ends: the held event and the one after it, in order, nothing skipped.
    held.commit().unwrap();
    let mut rest = Vec::new();
    let mut notices = Vec::new();
    while rest.len() < (later - held_seq + 1) as usize {
        let line = lines.recv_timeout(wait).unwrap();
        match line.strip_prefix("stderr: ") {
            Some(notice) => notices.push(notice.to_owned()),
            None => rest.push(seq_of(&line)),
        }
    }
    assert_eq!(rest, (held_seq..=later).collect::<Vec<_>>());
    assert!(follower.try_wait().unwrap().is_none(), "--follow goes on");
    let _ = follower.kill();
    let _ = follower.wait();
    let notices = notices.join("\n");
    eprintln!("log --follow said: {warning}\n{notices}");
    assert!(notices.is_empty() || notices.contains("ended"), "{notices}");
}

/// Issue 22: an admin role (not the vault's owner) migrates a file vault into the shared one
/// whole: the policy, the bookkeeping and the marks too, with the rights `tokens grants` gives.
#[test]
fn an_admin_role_migrates_a_file_vault_whole_with_its_policy() {
    let Some(sandbox) = pg_sandbox() else { return };
    let output = sandbox.run(&["policy", "set", "--require-app"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let admin = role(&sandbox, "admin");
    // The vault must be empty: the owner's `policy set` above only made it (and logged).
    sandbox.execute("DELETE FROM events; DELETE FROM policy");
    let file = Sandbox::sqlite();
    let output = file.run(&["policy", "set", "--max-lifetime", "90d"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let used = file.create("used", &[]);
    assert_eq!(file.verify(&used.token, &[]).0, 0);
    let output = admin.run(
        &sandbox,
        &["migrate", "--from", &file.location, "--to", &admin.url],
        "",
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("and the policy"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        json(&admin.run(&sandbox, &["policy", "--json"], "")),
        json(&file.run(&["policy", "--json"], ""))
    );
    assert_eq!(sandbox.query::<i64>("SELECT count(*) FROM token_usage"), 1);
}

/// How many server connections the test PgBouncer keeps for one database and role
/// (`default_pool_size` in .ci/postgres): an attacker holding that many transactions at once
/// has planted its session state on every connection other clients of its role will get.
const POOL_SIZE: usize = 10;

/// The attack of SPEC §10's "shared vault trust": a verifier role, through the pooler, plants
/// TEMP tables and functions named like the vault's (one holding a token no admin made) and
/// session settings on every pooled server connection; other verifiers and an admin then work
/// through the same pool. Every verdict stays right and fast, nothing forged is accepted.
#[test]
fn a_verifier_poisoning_every_pooled_connection_changes_no_verdict() {
    let Some(sandbox) = pg_sandbox() else { return };
    let good = sandbox.create("good", &["--scope", "read"]);
    let limited = sandbox.create("limited", &["--uses", "2"]);
    let verifier = role(&sandbox, "verifier");
    // The program must be right without the database owner's block of `tokens grants`.
    sandbox.execute(&format!(
        "GRANT TEMPORARY ON DATABASE {} TO PUBLIC",
        database(&sandbox)
    ));
    let backdoor = Credential::generate(Kind::Token, &tokens::token::generate_id());
    // The forged row: the backdoor's own hash, any scopes.
    let hash: String = backdoor
        .secret_hash()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    let plant = format!(
        "BEGIN; \
         CREATE TEMP TABLE tokens (seq bigint, id text, name text, app text, scopes text, \
           note text, secret_hash bytea, secret_tail text, secret_key_hash bytea, \
           created_at bigint, expires_at bigint, revoked_at bigint, revoke_reason text, \
           secret_key_used_at bigint, rotated_from text, replaced_by text, lineage text, \
           waits_for text, first_use_ends text, disabled_at bigint, disable_reason text, \
           uses_limit bigint, uses_epoch bigint DEFAULT 0, allow_from text, meta text, \
           has_secret_key boolean); \
         INSERT INTO tokens (seq, id, name, scopes, secret_hash, secret_tail, created_at, lineage) \
           VALUES (1, '{id}', 'backdoor', 'admin deploy:prod', '\\x{hash}', 'xxxx', 0, '{id}'); \
         CREATE TEMP TABLE token_usage (token_id text, last_used_at bigint, \
           first_used_at bigint, uses_spent bigint, uses_epoch bigint); \
         CREATE TEMP TABLE verify_failures (token_id text, reason text); \
         CREATE TEMP TABLE events (seq bigint, at bigint, token_id text, kind text, detail text); \
         CREATE TEMP TABLE tokens_vault (application text, version integer); \
         CREATE TEMP TABLE policy (singleton boolean); \
         CREATE FUNCTION pg_temp.lookup(text, bytea) RETURNS SETOF pg_temp.tokens \
           LANGUAGE sql AS 'SELECT * FROM pg_temp.tokens'; \
         SET SESSION search_path = pg_temp, public; \
         SET SESSION default_transaction_read_only = on; \
         SET SESSION default_transaction_isolation = 'serializable'; \
         SET SESSION lock_timeout = 1; \
         SET SESSION enable_indexscan = off; \
         SET SESSION enable_bitmapscan = off; \
         SET SESSION plan_cache_mode = force_custom_plan; \
         SET SESSION work_mem = 64; \
         SET SESSION statement_timeout = 1;",
        id = backdoor.id()
    );
    // Every server connection of the pool at once: each open transaction holds one.
    let mut attackers: Vec<postgres::Client> = (0..POOL_SIZE)
        .map(|_| {
            let mut client = postgres::Client::connect(&verifier.url, postgres::NoTls).unwrap();
            client.batch_execute(&plant).unwrap();
            client
        })
        .collect();
    for client in &mut attackers {
        client.batch_execute("COMMIT").unwrap();
    }
    let planted: i64 = attackers[0]
        .query_one("SELECT count(*) FROM pg_temp.tokens", &[])
        .map(|row| row.get(0))
        .unwrap_or(1);
    assert_eq!(planted, 1, "the attack did not take");

    let verify = |token: &str, args: &[&str]| {
        let started = Instant::now();
        let mut all = vec!["verify", "--timeout", "5s"];
        all.extend_from_slice(args);
        let output = verifier.run(&sandbox, &all, &format!("{token}\n"));
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{args:?} took {:?}",
            started.elapsed()
        );
        (code(&output), stderr(&output))
    };
    assert_eq!(verify(backdoor.expose(), &[]).0, 3, "the forged token");
    assert_eq!(
        verify(&good.token, &["--scope", "read"]),
        (0, String::new())
    );
    assert_eq!(verify(&limited.token, &[]).0, 0);
    assert_eq!(verify(&limited.token, &[]).0, 0);
    assert_eq!(verify(&limited.token, &[]).0, 4, "two uses only");
    // A batch through the same pool.
    let output = verifier.run(
        &sandbox,
        &["verify", "--batch"],
        &format!("{}\n{}\n", good.token, backdoor.expose()),
    );
    let lines: Vec<serde_json::Value> = stdout(&output)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines[0]["reason"], "ok", "{}", stderr(&output));
    assert_eq!(lines[1]["reason"], "invalid");
    // Admin commands work, and what they do is seen.
    let output = sandbox.run(&["revoke", "good", "--yes"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(verify(&good.token, &[]).0, 5);
    // The vault's log holds no trace of the backdoor.
    assert_eq!(
        sandbox.query::<i64>(&format!(
            "SELECT count(*) FROM events WHERE token_id = '{}'",
            backdoor.id()
        )),
        0
    );
}

/// The hashes of every secret and secret key in the vault, as lower-case hex.
fn known_hashes(sandbox: &Sandbox) -> Vec<String> {
    sandbox
        .pg()
        .query(
            "SELECT encode(secret_hash, 'hex') FROM tokens UNION ALL \
             SELECT encode(secret_key_hash, 'hex') FROM tokens WHERE secret_key_hash IS NOT NULL",
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect()
}

/// As a verifier and as a reader with psql: every direct write to any vault table and every
/// row lock is refused, and no column they can read holds a hash (every column of every table
/// tried).
#[test]
fn verifiers_and_readers_write_nothing_lock_nothing_and_read_no_hash() {
    let Some(sandbox) = pg_sandbox() else { return };
    let issued = sandbox.create("ci", &["--uses", "3", "--secret-key"]);
    assert_eq!(sandbox.verify(&issued.token, &[]).0, 0);
    let wrong = Credential::generate(Kind::Token, &issued.id());
    assert_eq!(sandbox.verify(wrong.expose(), &[]).0, 3);
    let hashes = known_hashes(&sandbox);
    assert_eq!(hashes.len(), 2);
    let columns: Vec<(String, String)> = sandbox
        .pg()
        .query(
            "SELECT table_name::text, column_name::text FROM information_schema.columns \
             WHERE table_schema = 'public' ORDER BY 1, 2",
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    assert!(columns.len() > 40, "{columns:?}");
    for kind in ["verifier", "reader"] {
        let role = role(&sandbox, kind);
        let mut client = postgres::Client::connect(&direct(&role.url), postgres::NoTls).unwrap();
        let mut read = 0;
        for (table, column) in &columns {
            let Ok(rows) = client.query(&format!("SELECT {column}::text FROM {table}"), &[]) else {
                continue;
            };
            read += 1;
            for row in rows {
                let value: Option<String> = row.get(0);
                let value = value.unwrap_or_default();
                assert!(
                    !hashes.iter().any(|hash| value.contains(hash.as_str())),
                    "{kind} reads a hash in {table}.{column}"
                );
            }
        }
        assert!(read > 0 || kind == "verifier", "{kind} read nothing");
        for table in [
            "tokens_vault",
            "tokens",
            "events",
            "token_usage",
            "verify_failures",
            "policy",
        ] {
            for statement in [
                format!("DELETE FROM {table}"),
                format!("TRUNCATE {table}"),
                format!("UPDATE {table} SET {table} = {table}"),
                format!("SELECT 1 FROM {table} FOR UPDATE"),
                format!("SELECT 1 FROM {table} FOR KEY SHARE"),
                format!("INSERT INTO {table} DEFAULT VALUES"),
            ] {
                let error = client.batch_execute(&statement).unwrap_err();
                assert!(
                    error.code() == Some(&postgres::error::SqlState::INSUFFICIENT_PRIVILEGE)
                        || error.code() == Some(&postgres::error::SqlState::UNDEFINED_COLUMN),
                    "{kind}: {statement}: {error}"
                );
            }
        }
        // The internal function is nobody's to call.
        let error = client
            .batch_execute("SELECT public.note_failures('x', 'invalid', 1000, 0)")
            .unwrap_err();
        assert_eq!(
            error.code(),
            Some(&postgres::error::SqlState::INSUFFICIENT_PRIVILEGE),
            "{kind}"
        );
    }
}

/// The bookkeeping functions act only for the holder of the secret, and only forward: with a
/// wrong hash they change nothing; with the right one they cannot lower a count, clear a first
/// use, move a last use back, or spend in an old epoch.
#[test]
fn the_vaults_functions_act_only_for_the_secret_and_only_forward() {
    let Some(sandbox) = pg_sandbox() else { return };
    let issued = sandbox.create("ci", &["--uses", "5"]);
    let token = Credential::parse(Kind::Token, &issued.token).unwrap();
    let id = issued.id();
    let right = token.secret_hash().to_vec();
    let wrong = vec![7_u8; 32];
    let verifier = role(&sandbox, "verifier");
    let mut client = postgres::Client::connect(&direct(&verifier.url), postgres::NoTls).unwrap();
    let usage = |sandbox: &Sandbox| -> (Option<i64>, Option<i64>, Option<i64>, Option<i64>) {
        sandbox
            .pg()
            .query_opt(
                "SELECT last_used_at, first_used_at, uses_spent, uses_epoch FROM token_usage \
                 WHERE token_id = $1",
                &[&id],
            )
            .unwrap()
            .map_or((None, None, None, None), |row| {
                (row.get(0), row.get(1), Some(row.get(2)), Some(row.get(3)))
            })
    };
    let call = |client: &mut postgres::Client, sql: &str, hash: &Vec<u8>| {
        client.execute(sql, &[&id, hash]).unwrap();
    };
    let all = [
        "SELECT public.touch_last_use($1, $2)",
        "SELECT public.record_first_use($1, $2)",
        "SELECT public.spend_use($1, $2, 0)",
        "SELECT public.count_failures($1, $2, 'expired', 1000)",
        "SELECT public.lookup($1, $2)",
    ];
    for sql in all {
        call(&mut client, sql, &wrong);
    }
    assert_eq!(usage(&sandbox), (None, None, None, None), "a wrong hash");
    assert_eq!(
        sandbox.query::<i64>("SELECT count(*) FROM verify_failures WHERE reason <> 'invalid'"),
        0
    );
    // Spent within the current epoch only; an old epoch acts on nothing.
    call(&mut client, "SELECT public.spend_use($1, $2, 0)", &right);
    assert_eq!(usage(&sandbox).2, Some(1));
    let output = sandbox.run(&["edit", "ci", "--uses", "5"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let spent: Option<i64> = client
        .query_one("SELECT public.spend_use($1, $2, 0)", &[&id, &right])
        .unwrap()
        .get(0);
    assert_eq!(spent, None, "an old epoch");
    assert_eq!((usage(&sandbox).2, usage(&sandbox).3), (Some(1), Some(0)));
    // Times only move forward: a last use in the future stays, a first use is set once.
    sandbox.execute(&format!(
        "UPDATE token_usage SET last_used_at = 4000000000, first_used_at = 1000 WHERE token_id = '{id}'"
    ));
    call(&mut client, "SELECT public.touch_last_use($1, $2)", &right);
    call(
        &mut client,
        "SELECT public.record_first_use($1, $2)",
        &right,
    );
    assert_eq!(usage(&sandbox).0, Some(4_000_000_000));
    assert_eq!(usage(&sandbox).1, Some(1000));
    // Failures go up by a bounded amount, for the reasons a matched secret can fail.
    call(
        &mut client,
        "SELECT public.count_failures($1, $2, 'invalid', 5)",
        &right,
    );
    client
        .execute(
            "SELECT public.count_failures($1, $2, 'expired', 9000000)",
            &[&id, &right],
        )
        .unwrap();
    assert_eq!(
        sandbox.query::<i64>(
            "SELECT coalesce(sum(failures), 0)::bigint FROM verify_failures \
             WHERE reason = 'expired'"
        ),
        100_000
    );
}

/// What `tokens grants ROLE --kind verifier` gave before the vault's functions (schema 5).
const OLD_VERIFIER_GRANTS: &str = "
    GRANT SELECT ON tokens_vault TO ROLE;
    GRANT SELECT (id, name, app, scopes, secret_hash, expires_at, revoked_at, waits_for,
        first_use_ends, disabled_at, disable_reason, uses_limit, uses_epoch, allow_from, meta)
        ON tokens TO ROLE;
    GRANT INSERT (at, token_id, kind, detail) ON events TO ROLE;
    GRANT SELECT (token_id, last_used_at, first_used_at, uses_spent, uses_epoch),
        INSERT (token_id, last_used_at, first_used_at, uses_spent, uses_epoch),
        UPDATE (last_used_at, first_used_at, uses_spent, uses_epoch) ON token_usage TO ROLE;
    GRANT SELECT, INSERT (token_id, reason, failures, first_at, last_at, unlogged, logged_at),
        UPDATE (failures, last_at, unlogged, logged_at) ON verify_failures TO ROLE;";

/// The rolling upgrade (SPEC §10): a verifier upgraded ahead of the vault verifies against the
/// schema before the functions as it did; the first admin command migrates, and the verifier,
/// granted as before, keeps verifying through the functions, its direct writes and the hashes
/// gone, without `tokens grants` being run again.
#[test]
fn a_fleet_keeps_verifying_across_the_migration_to_the_vaults_functions() {
    let Some(sandbox) = pg_sandbox() else { return };
    let issued = sandbox.create("ci", &[]);
    // Back to schema 5: no functions, the old policy on events, marks at 5.
    let before = tokens::vault::CURRENT_VERSION - 1;
    sandbox.execute(&format!(
        "DROP FUNCTION lookup, spend_use, touch_last_use, record_first_use, count_failures, refresh, \
           note_failures; \
         ALTER TABLE tokens_vault DROP COLUMN vault_schema; \
         DROP POLICY events_written ON events; \
         CREATE POLICY events_written ON events FOR INSERT WITH CHECK (kind = 'verify_failed' \
           OR has_table_privilege('tokens', 'UPDATE')); \
         UPDATE tokens_vault SET version = {before}, read_mark = {before}, \
           verify_mark = {before}, write_mark = {before};"
    ));
    let name = format!("oldverifier_{}", database(&sandbox));
    let mut admin =
        postgres::Client::connect(&postgres_admin_url().unwrap(), postgres::NoTls).unwrap();
    admin
        .batch_execute(&format!(
            "DROP ROLE IF EXISTS {name}; CREATE ROLE {name} LOGIN PASSWORD 'pw-old'"
        ))
        .unwrap();
    sandbox.execute(&OLD_VERIFIER_GRANTS.replace("ROLE", &name));
    let verifier = Role {
        url: as_user(&sandbox.location, &name, "pw-old"),
        shown: String::new(),
    };
    let verify = |token: &str| {
        let output = verifier.run(&sandbox, &["verify"], &format!("{token}\n"));
        (code(&output), stderr(&output))
    };
    // Before the migration: verified as before, the vault left at its schema.
    assert_eq!(verify(&issued.token), (0, String::new()));
    assert_eq!(
        sandbox.query::<i32>("SELECT version FROM tokens_vault"),
        i32::try_from(before).unwrap()
    );
    assert!(
        sandbox
            .query::<Option<i64>>("SELECT max(last_used_at) FROM token_usage")
            .is_some()
    );
    // The first admin command migrates.
    let output = sandbox.run(&["edit", "ci", "--note", "upgraded"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(
        i64::from(sandbox.query::<i32>("SELECT version FROM tokens_vault")),
        tokens::vault::CURRENT_VERSION
    );
    sandbox.execute("UPDATE token_usage SET last_used_at = 1000");
    assert_eq!(verify(&issued.token), (0, String::new()));
    let wrong = Credential::generate(Kind::Token, &issued.id());
    assert_eq!(verify(wrong.expose()).0, 3);
    assert!(sandbox.query::<i64>("SELECT max(last_used_at) FROM token_usage") > 1000);
    assert_eq!(
        sandbox.query::<i64>("SELECT count(*) FROM events WHERE kind = 'verify_failed'"),
        1
    );
    // Its direct writes and the hashes are gone.
    let mut client = postgres::Client::connect(&direct(&verifier.url), postgres::NoTls).unwrap();
    for statement in [
        "UPDATE token_usage SET uses_spent = 0",
        "UPDATE verify_failures SET failures = 0",
        "INSERT INTO events (at, token_id, kind, detail) VALUES (0, 'x', 'verify_failed', '')",
        "SELECT secret_hash FROM tokens",
        "SELECT 1 FROM token_usage FOR UPDATE",
    ] {
        let error = client.batch_execute(statement).unwrap_err();
        assert_eq!(
            error.code(),
            Some(&postgres::error::SqlState::INSUFFICIENT_PRIVILEGE),
            "{statement}"
        );
    }
}

/// `--kind refresher` (SPEC §10): refreshes through the vault's function, which applies every
/// refresh rule and writes the events with the server's time; it can do nothing else.
#[test]
fn a_refresher_refreshes_through_the_vaults_function_and_does_nothing_else() {
    let Some(sandbox) = pg_sandbox() else { return };
    let issued = sandbox.create("svc", &["--scope", "read", "--app", "api"]);
    let refresher = role(&sandbox, "refresher");
    let key = issued.secret_key.clone().unwrap();
    let output = refresher.run(
        &sandbox,
        &["refresh"],
        &format!("{}\n{key}\n", issued.token),
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let new = parse_issued(&output);
    assert_eq!(
        sandbox
            .verify(&new.token, &["--scope", "read", "--app", "api"])
            .0,
        0
    );
    assert_eq!(sandbox.verify(&issued.token, &[]).0, 5);
    let kinds: Vec<String> = sandbox
        .pg()
        .query(
            "SELECT kind || ' ' || token_id FROM events WHERE kind <> 'verify_failed' ORDER BY seq",
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(
        kinds,
        [
            format!("created {}", issued.id()),
            format!("refreshed {}", issued.id()),
            format!("created {}", new.id()),
        ]
    );
    // A wrong secret key: refused, nothing changed.
    let before = contents(&sandbox);
    let wrong = Credential::generate(Kind::SecretKey, &new.id());
    let output = refresher.run(
        &sandbox,
        &["refresh"],
        &format!("{}\n{}\n", new.token, wrong.expose()),
    );
    assert_eq!(code(&output), 3, "{}", stderr(&output));
    assert_eq!(contents(&sandbox), before);
    // The used secret key again: the lineage is revoked (reuse detected), committed.
    let output = refresher.run(
        &sandbox,
        &["refresh"],
        &format!("{}\n{key}\n", issued.token),
    );
    assert_eq!(code(&output), 5, "{}", stderr(&output));
    assert!(stderr(&output).contains("every token of \"svc\" is now revoked (1 live token ended)"));
    assert_eq!(sandbox.verify(&new.token, &[]).0, 5);
    // Nothing else.
    for (args, stdin) in [
        (vec!["verify"], format!("{}\n", new.token)),
        (vec!["list"], String::new()),
        (vec!["create", "x"], String::new()),
    ] {
        let output = refresher.run(&sandbox, &args, &stdin);
        assert_eq!(code(&output), 1, "{args:?}: {}", stderr(&output));
        assert!(
            stderr(&output).contains("refresher access"),
            "{}",
            stderr(&output)
        );
    }
}

/// The refresh function applies the rules `tokens refresh` applies for admins (SPEC §9):
/// a used-up token is refused (exit 4, nothing made, the secret key still unused), a refresh
/// past the token's refresh window is refused (exit 4, naming it), and a refreshed token gets
/// the uses left and the refresh window, capped by the policy.
#[test]
fn a_refresher_keeps_lineages_bounded() {
    let Some(sandbox) = pg_sandbox() else { return };
    let stdin = |issued: &Issued| {
        format!(
            "{}\n{}\n",
            issued.token,
            issued.secret_key.as_deref().unwrap()
        )
    };
    let output = sandbox.run(&["policy", "set", "--max-refresh-window", "7d"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let refresher = role(&sandbox, "refresher");

    // 3 of 5 uses left: the new token has 3, and the window of 30d is cut to the policy's 7d.
    let five = sandbox.create("five", &["--uses", "5", "--secret-key"]);
    sandbox.execute(&format!(
        "UPDATE tokens SET refresh_window = 2592000 WHERE id = '{}'",
        five.id()
    ));
    assert_eq!(sandbox.verify(&five.token, &[]).0, 0);
    assert_eq!(sandbox.verify(&five.token, &[]).0, 0);
    let output = refresher.run(&sandbox, &["refresh", "--json"], &stdin(&five));
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let new = json(&output);
    assert_eq!(new["uses_left"], 3, "{new}");
    let window: i64 = sandbox.query(&format!(
        "SELECT refresh_window FROM tokens WHERE id = '{}'",
        new["id"].as_str().unwrap()
    ));
    assert_eq!(window, 7 * 86_400);

    // A one-time token used once: refused, nothing made, its key not spent.
    let once = sandbox.create("once", &["--uses", "1", "--secret-key"]);
    assert_eq!(sandbox.verify(&once.token, &[]).0, 0);
    let before = contents(&sandbox);
    let output = refresher.run(&sandbox, &["refresh"], &stdin(&once));
    assert_eq!(code(&output), 4, "{}", stderr(&output));
    assert!(stderr(&output).contains("used_up"), "{}", stderr(&output));
    assert_eq!(contents(&sandbox), before);
    let key_used: Option<i64> = sandbox.query(&format!(
        "SELECT secret_key_used_at FROM tokens WHERE id = '{}'",
        once.id()
    ));
    assert_eq!(key_used, None, "a refused refresh spends no secret key");

    // Past its refresh window: refused, naming it and the admin command that reissues.
    let old = sandbox.create("old", &["--refresh-window", "1d"]);
    sandbox.execute(&format!(
        "UPDATE tokens SET created_at = created_at - 40 * 86400, \
         expires_at = extract(epoch from now())::bigint - 2 * 86400 WHERE id = '{}'",
        old.id()
    ));
    let before = contents(&sandbox);
    let output = refresher.run(&sandbox, &["refresh"], &stdin(&old));
    assert_eq!(code(&output), 4, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("1d after it expired")
            && stderr(&output).contains(&format!("tokens rotate {}", old.id())),
        "{}",
        stderr(&output)
    );
    assert_eq!(contents(&sandbox), before);
}

/// `tokens grants` as a vault owner who is not a superuser (the vault in a schema of its own,
/// `schema=` in the URL): the owner's block succeeds; the next is for the database owner or a
/// superuser; the check fails while PUBLIC keeps TEMP, and `grants` warns, until that is done.
#[test]
fn grants_say_what_the_vaults_owner_can_do_and_what_it_cannot() {
    let Some(sandbox) = pg_sandbox() else { return };
    let owner = format!("owner_{}", database(&sandbox));
    let verifier = format!("v_{}", database(&sandbox));
    let mut admin =
        postgres::Client::connect(&postgres_admin_url().unwrap(), postgres::NoTls).unwrap();
    admin
        .batch_execute(&format!(
            "DROP ROLE IF EXISTS {owner}; CREATE ROLE {owner} LOGIN PASSWORD 'pw-owner'; \
             DROP ROLE IF EXISTS {verifier}; CREATE ROLE {verifier} LOGIN PASSWORD 'pw-v'"
        ))
        .unwrap();
    sandbox.execute(&format!(
        "CREATE SCHEMA vault AUTHORIZATION {owner}; \
         GRANT TEMPORARY ON DATABASE {} TO PUBLIC",
        database(&sandbox)
    ));
    let separator = if sandbox.location.contains('?') {
        '&'
    } else {
        '?'
    };
    let url = format!(
        "{}{separator}schema=vault",
        as_user(&sandbox.location, &owner, "pw-owner")
    );
    let run = |args: &[&str], stdin: &str| {
        sandbox
            .cmd(args)
            .env("TOKENS_VAULT", &url)
            .write_stdin(stdin.to_owned())
            .output()
            .unwrap()
    };
    let output = run(&["create", "ci"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let issued = parse_issued(&output);
    assert_eq!(
        sandbox.query::<i64>(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'vault' AND tablename = 'tokens'"
        ),
        1
    );
    let output = run(&["grants", &verifier, "--kind", "verifier"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("warning: PUBLIC may still create TEMP tables"),
        "{}",
        stderr(&output)
    );
    let sql = stdout(&output);
    let (owners, rest) = sql.split_once("COMMIT;\n").unwrap();
    let (superusers, check) = rest.split_once("\n-- the check").unwrap();
    let check = &format!("-- the check{check}");
    assert!(superusers.contains("-- as the database owner or a superuser"));
    assert!(owners.contains("\"vault\".tokens_vault"), "{owners}");
    let mut as_owner = postgres::Client::connect(
        &direct(&url.replace(&format!("{separator}schema=vault"), "")),
        postgres::NoTls,
    )
    .unwrap();
    as_owner.batch_execute(&format!("{owners}COMMIT;")).unwrap();
    assert!(
        as_owner.batch_execute(superusers).is_err(),
        "not the owner's to run"
    );
    let error = as_owner.batch_execute(check).unwrap_err();
    let message = error.as_db_error().unwrap().message().to_owned();
    assert!(
        message.contains("PUBLIC may still create TEMP tables"),
        "{message}"
    );
    // The verifier verifies the vault in its schema.
    let verifier_url = format!(
        "{}{separator}schema=vault",
        as_user(&sandbox.location, &verifier, "pw-v")
    );
    let output = sandbox
        .cmd(&["verify"])
        .env("TOKENS_VAULT", &verifier_url)
        .write_stdin(format!("{}\n", issued.token))
        .output()
        .unwrap();
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    // Done by a superuser: the check passes, and grants no longer warns.
    sandbox.execute(superusers);
    as_owner.batch_execute(check).unwrap();
    let output = run(&["grants", &verifier, "--kind", "verifier"], "");
    assert_eq!(stderr(&output), "");
}
