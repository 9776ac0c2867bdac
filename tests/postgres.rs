//! The shared vault on PostgreSQL: what only a server has (roles, TLS, passwords, replicas of
//! the schema made by others) and `tokens migrate`. The rest of the suite runs against
//! PostgreSQL too when `TOKENS_TEST_POSTGRES` names a server (`.ci/run` starts one); without
//! it these tests print "skipped" and pass.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::*;

/// A PostgreSQL sandbox, or `None` (with a note) when no test server is configured.
fn pg_sandbox() -> Option<Sandbox> {
    if postgres_admin_url().is_none() {
        eprintln!("skipped: set TOKENS_TEST_POSTGRES to a PostgreSQL admin URL (.ci/run does)");
        return None;
    }
    Some(Sandbox::new())
}

/// The password in the test server's admin URL (never to be printed by tokens).
fn admin_password() -> String {
    let url = postgres_admin_url().unwrap();
    let user_info = url.split_once("://").unwrap().1.split_once('@').unwrap().0;
    user_info.split_once(':').unwrap().1.to_owned()
}

/// The database name of a sandbox's URL.
fn database(sandbox: &Sandbox) -> String {
    let path = sandbox.location.rsplit_once('/').unwrap().1;
    path.split('?').next().unwrap().to_owned()
}

/// `url` with its user and password replaced (`password` `None`: no password in the URL).
fn as_user(url: &str, user: &str, password: Option<&str>) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let host = rest.split_once('@').unwrap().1;
    match password {
        Some(password) => format!("{scheme}://{user}:{password}@{host}"),
        None => format!("{scheme}://{user}@{host}"),
    }
}

/// A login role of this test's, with `password`, allowed `grants` on the sandbox's database.
fn role(sandbox: &Sandbox, name: &str, password: &str, grants: &str) -> String {
    let role = format!("{name}_{}", database(sandbox));
    let mut admin =
        postgres::Client::connect(&postgres_admin_url().unwrap(), postgres::NoTls).unwrap();
    admin
        .batch_execute(&format!(
            "DROP ROLE IF EXISTS {role}; CREATE ROLE {role} LOGIN PASSWORD '{password}'"
        ))
        .unwrap();
    if !grants.is_empty() {
        sandbox.execute(&grants.replace("ROLE", &role));
    }
    role
}

/// Runs `tokens ARGS` against the vault at `url` with `stdin`.
fn run_at(sandbox: &Sandbox, url: &str, args: &[&str], stdin: &str) -> std::process::Output {
    sandbox
        .cmd(args)
        .env("TOKENS_VAULT", url)
        .write_stdin(stdin.to_owned())
        .output()
        .unwrap()
}

#[test]
fn a_vault_from_a_newer_tokens_is_refused_unchanged() {
    let Some(sandbox) = pg_sandbox() else { return };
    let issued = sandbox.create("ci", &[]);
    // Newer, with no marks this tokens reads (SPEC §10; tests/marks.rs has the marks).
    sandbox.execute(
        "ALTER TABLE tokens_vault DROP COLUMN read_mark, DROP COLUMN verify_mark, \
         DROP COLUMN write_mark; UPDATE tokens_vault SET version = 99",
    );
    for (args, stdin) in [
        (vec!["list"], String::new()),
        (vec!["create", "x"], String::new()),
        (vec!["verify"], format!("{}\n", issued.token)),
    ] {
        let output = sandbox.run(&args, &stdin);
        assert_eq!(code(&output), 1, "{args:?}");
        assert_eq!(
            stderr(&output),
            format!(
                "tokens: {} was written by a newer tokens (schema 99, this one knows {}); upgrade tokens\n",
                sandbox.shown(),
                tokens::vault::CURRENT_VERSION
            )
        );
    }
    assert_eq!(sandbox.query::<i32>("SELECT version FROM tokens_vault"), 99);
    assert_eq!(sandbox.query::<i64>("SELECT count(*) FROM tokens"), 1);
}

#[test]
fn a_database_whose_tokens_table_is_not_ours_is_left_alone() {
    let Some(sandbox) = pg_sandbox() else { return };
    sandbox.execute("CREATE TABLE tokens (token text); INSERT INTO tokens VALUES ('theirs')");
    for args in [vec!["list"], vec!["create", "x"]] {
        let output = sandbox.run(&args, "");
        assert_eq!(code(&output), 1, "{args:?}");
        assert_eq!(
            stderr(&output),
            format!(
                "tokens: {} is not a tokens vault or is corrupt (its tokens table was not made by tokens); it was left untouched\n",
                sandbox.shown()
            )
        );
    }
    assert_eq!(
        sandbox.query::<String>("SELECT token FROM tokens"),
        "theirs"
    );
    assert!(!sandbox.vault_exists());
}

#[test]
fn an_older_schema_is_migrated_by_the_first_write_and_refused_to_a_reader_that_cannot() {
    let Some(sandbox) = pg_sandbox() else { return };
    // Schema 0: the version table alone, as the first step of creating a vault leaves it.
    sandbox.execute(
        "CREATE TABLE tokens_vault (singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton), \
         application text NOT NULL, version integer NOT NULL); \
         INSERT INTO tokens_vault (application, version) VALUES ('tokens', 0)",
    );
    let reader = role(
        &sandbox,
        "reader",
        "reader-pw",
        "GRANT SELECT ON ALL TABLES IN SCHEMA public TO ROLE",
    );
    let reader_url = as_user(&sandbox.location, &reader, Some("reader-pw"));
    let output = run_at(&sandbox, &reader_url, &["list"], "");
    assert_eq!(code(&output), 1);
    assert!(
        stderr(&output).contains("is read-only for this user"),
        "{}",
        stderr(&output)
    );
    assert_eq!(sandbox.query::<i32>("SELECT version FROM tokens_vault"), 0);

    let issued = sandbox.create("ci", &[]);
    assert_eq!(
        i64::from(sandbox.query::<i32>("SELECT version FROM tokens_vault")),
        tokens::vault::CURRENT_VERSION
    );
    assert_eq!(sandbox.verify(&issued.token, &[]).0, 0);
}

#[test]
fn a_role_that_may_only_read_verifies_but_cannot_change_anything() {
    let Some(sandbox) = pg_sandbox() else { return };
    let issued = sandbox.create("ci", &["--scope", "read"]);
    // Reading the tables, and the vault's lookup function: verdicts, no bookkeeping.
    let reader = role(
        &sandbox,
        "verifier",
        "verifier-pw",
        "GRANT SELECT ON ALL TABLES IN SCHEMA public TO ROLE; \
         GRANT EXECUTE ON FUNCTION public.lookup(text, bytea) TO ROLE",
    );
    let url = as_user(&sandbox.location, &reader, Some("verifier-pw"));

    let output = run_at(
        &sandbox,
        &url,
        &["verify", "--scope", "read"],
        &format!("{}\n", issued.token),
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    // Last use is bookkeeping: skipped quietly where the role may not write.
    assert_eq!(
        sandbox.query::<Option<i64>>("SELECT max(last_used_at) FROM token_usage"),
        None
    );
    let output = run_at(&sandbox, &url, &["list", "--json"], "");
    assert_eq!(code(&output), 0);
    assert_eq!(json(&output).as_array().unwrap().len(), 1);

    for args in [vec!["create", "x"], vec!["revoke", "ci", "--yes"]] {
        let output = run_at(&sandbox, &url, &args, "");
        assert_eq!(code(&output), 1, "{args:?}");
        assert_eq!(
            stderr(&output),
            format!(
                "tokens: {} is read-only for this user; this command needs to write to it\n",
                as_user(&sandbox.shown(), &reader, Some("***"))
            )
        );
    }
    assert_eq!(sandbox.query::<i64>("SELECT count(*) FROM tokens"), 1);
    assert_eq!(sandbox.verify(&issued.token, &[]).0, 0);
}

#[test]
fn passwords_come_from_pgpassword_or_pgpass_and_are_never_printed() {
    let Some(sandbox) = pg_sandbox() else { return };
    sandbox.create("ci", &[]);
    let password = admin_password();
    let user = postgres_admin_url()
        .unwrap()
        .split_once("://")
        .unwrap()
        .1
        .split(':')
        .next()
        .unwrap()
        .to_owned();
    let bare = as_user(&sandbox.location, &user, None);

    // PGPASSWORD.
    let output = sandbox
        .cmd(&["list", "--json"])
        .env("TOKENS_VAULT", &bare)
        .env("PGPASSWORD", &password)
        .output()
        .unwrap();
    assert_eq!(code(&output), 0, "{}", stderr(&output));

    // ~/.pgpass (HOME is the sandbox folder), which libpq reads only when private.
    let pgpass = sandbox.path(".pgpass");
    std::fs::write(&pgpass, format!("# test\n*:*:*:{user}:{password}\n")).unwrap();
    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o600)).unwrap();
    let output = sandbox
        .cmd(&["list", "--json"])
        .env("TOKENS_VAULT", &bare)
        .env_remove("PGPASSWORD")
        .output()
        .unwrap();
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    // ... and not when others may read it (the login then has no password).
    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o644)).unwrap();
    let output = sandbox
        .cmd(&["list"])
        .env("TOKENS_VAULT", &bare)
        .output()
        .unwrap();
    assert_eq!(code(&output), 1, "a pgpass others can read was used");
    // It is not ignored silently: a warning says so and what to run, as libpq's does.
    let error = stderr(&output);
    let mut lines = error.lines();
    assert_eq!(
        lines.next().unwrap(),
        format!(
            "tokens: warning: password file {} has group or world access and was ignored; \
             make it private: chmod 600 {}",
            pgpass.display(),
            pgpass.display()
        )
    );
    assert!(
        lines.next().unwrap().contains("refused the login"),
        "{error}"
    );
    assert_eq!(lines.next(), None, "{error}");
    assert!(!error.contains(&password), "{error}");
    // PGPASSFILE names another file.
    let elsewhere = sandbox.path("team.pgpass");
    std::fs::rename(&pgpass, &elsewhere).unwrap();
    std::fs::set_permissions(&elsewhere, std::fs::Permissions::from_mode(0o600)).unwrap();
    let output = sandbox
        .cmd(&["list", "--json"])
        .env("TOKENS_VAULT", &bare)
        .env("PGPASSFILE", &elsewhere)
        .output()
        .unwrap();
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    std::fs::remove_file(&elsewhere).unwrap();

    // A wrong password: one line, exit 1, and neither password appears anywhere.
    let wrong = as_user(&sandbox.location, &user, Some("not-the-password-42"));
    let output = sandbox
        .cmd(&["list"])
        .env("TOKENS_VAULT", &wrong)
        .env_remove("PGPASSWORD")
        .output()
        .unwrap();
    assert_eq!(code(&output), 1);
    let error = stderr(&output);
    assert_eq!(error.lines().count(), 1, "{error}");
    assert!(error.contains("***"), "the URL is named, masked: {error}");
    for secret in ["not-the-password-42", password.as_str()] {
        assert!(!error.contains(secret), "a password was printed: {error}");
        assert!(!stdout(&output).contains(secret));
    }

    // No password anywhere: refused, and the message says where one may come from.
    let output = sandbox
        .cmd(&["list"])
        .env("TOKENS_VAULT", &bare)
        .env_remove("PGPASSWORD")
        .output()
        .unwrap();
    assert_eq!(code(&output), 1);
    let error = stderr(&output);
    assert_eq!(error.lines().count(), 1, "{error}");
    assert!(error.contains("refused the login"), "{error}");
    assert!(error.contains("PGPASSWORD or ~/.pgpass"), "{error}");
}

#[test]
fn an_unreachable_server_is_one_line_and_exit_1() {
    let Some(sandbox) = pg_sandbox() else { return };
    // A port nothing listens on: one the system just handed out and took back.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dead = format!(
        "postgres://tokens_admin:{}@127.0.0.1:{port}/tokens",
        admin_password()
    );
    let output = run_at(&sandbox, &dead, &["list"], "");
    assert_eq!(code(&output), 1);
    let error = stderr(&output);
    assert_eq!(error.lines().count(), 1, "{error}");
    assert!(
        error.starts_with(&format!(
            "tokens: cannot reach the vault at postgres://tokens_admin:***@127.0.0.1:{port}/tokens"
        )),
        "{error}"
    );
    assert!(!error.contains(&admin_password()), "{error}");
}

#[test]
fn sslmode_require_encrypts() {
    let Some(sandbox) = pg_sandbox() else { return };
    // The test server refuses unencrypted connections of `tls_only` (.ci/postgres): asked
    // directly, not through the pooler (which speaks to the server on a connection of its own).
    let mut admin =
        postgres::Client::connect(&postgres_direct_url().unwrap(), postgres::NoTls).unwrap();
    admin
        .batch_execute(
            "DO $$ BEGIN CREATE ROLE tls_only LOGIN SUPERUSER PASSWORD 'tls-pw'; \
             EXCEPTION WHEN duplicate_object THEN NULL; END $$",
        )
        .unwrap();
    let url = as_user(&direct(&sandbox.location), "tls_only", Some("tls-pw"));

    let plain = format!("{url}?sslmode=disable");
    let output = run_at(&sandbox, &plain, &["create", "ci"], "");
    assert_eq!(code(&output), 1, "the server accepted a plain connection");
    assert_eq!(stderr(&output).lines().count(), 1, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("requires TLS"),
        "{}",
        stderr(&output)
    );
    assert!(!sandbox.vault_exists());

    let encrypted = format!("{url}?sslmode=require");
    let output = run_at(&sandbox, &encrypted, &["create", "ci"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let token = parse_issued(&output).token;
    let output = run_at(&sandbox, &encrypted, &["verify"], &format!("{token}\n"));
    assert_eq!(code(&output), 0, "{}", stderr(&output));
}

#[test]
fn machines_that_start_together_make_one_vault() {
    let Some(sandbox) = pg_sandbox() else { return };
    let outputs: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|n| {
                let sandbox = &sandbox;
                scope.spawn(move || sandbox.run(&["create", &format!("first-{n}")], ""))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for output in &outputs {
        assert_eq!(code(output), 0, "{}", stderr(output));
    }
    assert_eq!(sandbox.query::<i64>("SELECT count(*) FROM tokens"), 8);
    assert_eq!(sandbox.query::<i64>("SELECT count(*) FROM tokens_vault"), 1);
}

#[test]
fn no_secret_reaches_the_database() {
    let Some(sandbox) = pg_sandbox() else { return };
    let mut secrets = Vec::new();
    let first = sandbox.create("ci", &["--app", "ci", "--scope", "read"]);
    let refreshed = parse_issued(&sandbox.run(
        &["refresh"],
        &format!("{}\n{}\n", first.token, first.secret_key.clone().unwrap()),
    ));
    let rotated = parse_issued(&sandbox.run(&["rotate", "ci", "--yes"], ""));
    sandbox.verify(&rotated.token, &[]);
    sandbox.verify(&first.token, &[]);
    for issued in [&first, &refreshed, &rotated] {
        secrets.push(issued.token.clone());
        secrets.extend(issued.secret_key.clone());
    }
    // Every row of every table, as text.
    let mut dump = String::new();
    for table in ["tokens", "events", "tokens_vault"] {
        let rows = sandbox
            .pg()
            .query(&format!("SELECT t::text FROM {table} t"), &[])
            .unwrap();
        for row in rows {
            dump.push_str(&row.get::<_, String>(0));
            dump.push('\n');
        }
    }
    assert!(dump.contains(&first.id()), "the dump holds the tokens");
    for secret in &secrets {
        // The secret part: after `tk_<id>_` / `tks_<id>_`.
        let part = secret.rsplit('_').next().unwrap();
        assert!(!dump.contains(part), "a secret is in the database");
    }
}

#[test]
fn a_connection_lost_mid_batch_is_opened_again_and_the_line_answered() {
    use std::io::{BufRead, BufReader, Write};
    let Some(sandbox) = pg_sandbox() else { return };
    let issued = sandbox.create("ci", &[]);
    // To the server itself: a pooler would hide the lost session behind a new server connection.
    let mut child = sandbox
        .process(&["verify", "--batch"])
        .env("TOKENS_VAULT", direct(&sandbox.location))
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let mut answers = BufReader::new(child.stdout.take().unwrap());
    writeln!(input, "{}", issued.token).unwrap();
    let mut line = String::new();
    answers.read_line(&mut line).unwrap();
    assert!(line.contains("\"valid\":true"), "{line}");

    // The server ends the session (a failover, an admin's pg_terminate_backend).
    let ended: i64 = sandbox.query(&format!(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
         WHERE datname = '{}' AND application_name = 'tokens'",
        database(&sandbox)
    ));
    assert!(ended >= 1, "no session of tokens to end");
    writeln!(input, "{}", issued.token).unwrap();
    drop(input);
    let output = child.wait_with_output().unwrap();
    // The line that met the lost connection is answered on a new one.
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut answers, &mut rest).unwrap();
    let answer: serde_json::Value = serde_json::from_str(rest.trim()).unwrap();
    assert_eq!(answer["reason"], "ok", "{rest}");
    assert_eq!(answer["valid"], true);
    assert_eq!(answer["id"], issued.id());
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(stderr(&output), "");
}

/// A throw-away cluster of a test's own (`.ci/postgres start`), stopped and removed when dropped.
struct OwnCluster {
    dir: std::path::PathBuf,
    /// The server itself, and through its PgBouncer.
    direct: String,
    pooled: String,
}

impl OwnCluster {
    fn start(max_connections: u32) -> OwnCluster {
        let dir = std::env::temp_dir().join(format!(
            "tokens-own-cluster-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        let output = std::process::Command::new(ci_postgres())
            .args(["start", dir.to_str().unwrap()])
            .env(
                "TOKENS_TEST_PG_MAX_CONNECTIONS",
                max_connections.to_string(),
            )
            // Ports of its own: another cluster's, free while it restarts, must not be taken.
            .env(
                "TOKENS_TEST_PG_PORT",
                (20_000 + rand::random::<u16>() % 20_000 * 2).to_string(),
            )
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
        let exports = String::from_utf8(output.stdout).unwrap();
        let value = |name: &str| {
            exports
                .lines()
                .find_map(|line| line.strip_prefix(&format!("export {name}='")))
                .unwrap()
                .trim_end_matches('\'')
                .to_owned()
        };
        OwnCluster {
            direct: value("TOKENS_TEST_POSTGRES_DIRECT"),
            pooled: value("TOKENS_TEST_POSTGRES"),
            dir,
        }
    }

    /// `restart`, `pause` or `resume` the server (`.ci/postgres`).
    fn server(&self, action: &str) {
        let output = std::process::Command::new(ci_postgres())
            .args([action, self.dir.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(output.status.success(), "{action}: {}", stderr(&output));
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        let _ = std::process::Command::new(ci_postgres())
            .args(["stop", self.dir.to_str().unwrap()])
            .output();
    }
}

fn ci_postgres() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/postgres")
}

/// One answer of a running `verify --batch` to `token`.
fn ask(
    input: &mut impl std::io::Write,
    answers: &mut impl std::io::BufRead,
    token: &str,
) -> serde_json::Value {
    writeln!(input, "{token}").unwrap();
    input.flush().unwrap();
    let mut line = String::new();
    answers.read_line(&mut line).unwrap();
    serde_json::from_str(&line).unwrap_or_else(|_| panic!("not an answer: {line:?}"))
}

#[test]
fn a_batch_answers_through_a_server_restart_and_an_outage() {
    use std::io::BufReader;
    if pg_sandbox().is_none() {
        return;
    }
    let cluster = OwnCluster::start(100);
    for (via, url) in [("direct", &cluster.direct), ("pooled", &cluster.pooled)] {
        let database = format!("batch_{}", rand::random::<u32>());
        let mut admin = postgres::Client::connect(&cluster.direct, postgres::NoTls).unwrap();
        admin
            .batch_execute(&format!("CREATE DATABASE {database}"))
            .unwrap();
        let vault = with_database(url, &database);
        let sandbox = Sandbox::sqlite();
        let run = |args: &[&str], stdin: &str| {
            sandbox
                .cmd(args)
                .env("TOKENS_VAULT", &vault)
                .write_stdin(stdin.to_owned())
                .output()
                .unwrap()
        };
        let created = run(&["create", "ci"], "");
        assert_eq!(code(&created), 0, "{}", stderr(&created));
        let issued = parse_issued(&created);
        let mut child = sandbox
            .process(&["--timeout", "3s", "verify", "--batch"])
            .env("TOKENS_VAULT", &vault)
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        let mut answers = BufReader::new(child.stdout.take().unwrap());
        assert_eq!(ask(&mut input, &mut answers, &issued.token)["valid"], true);

        // A restart between two lines: the next line is answered on a new connection.
        cluster.server("restart");
        let answer = ask(&mut input, &mut answers, &issued.token);
        assert_eq!(answer["reason"], "ok", "{via}: {answer}");

        // Down for longer than the line's deadline: that line is `unavailable`, never ok ...
        cluster.server("pause");
        let answer = ask(&mut input, &mut answers, &issued.token);
        assert_eq!(answer["reason"], "unavailable", "{via}: {answer}");
        assert_eq!(answer["valid"], false);
        assert_eq!(answer["id"], issued.id());
        // ... and a line read once it is back is answered as usual.
        cluster.server("resume");
        let answer = ask(&mut input, &mut answers, &issued.token);
        assert_eq!(answer["reason"], "ok", "{via}: {answer}");
        let unknown = format!(
            "{}{}",
            &issued.token[..issued.token.len() - 1],
            if issued.token.ends_with('x') {
                'y'
            } else {
                'x'
            }
        );
        let answer = ask(&mut input, &mut answers, &unknown);
        assert_ne!(answer["reason"], "ok", "{via}: {answer}");
        drop(input);
        let output = child.wait_with_output().unwrap();
        // The batch says at the end that a line went unanswered: exit 1, one line.
        assert_eq!(code(&output), 1, "{via}");
        let error = stderr(&output);
        assert_eq!(error.lines().count(), 1, "{error}");
        assert!(error.starts_with("tokens: "), "{error}");
        assert!(!error.contains("tokens-ci-password"), "{error}");
    }
}

#[test]
fn a_role_that_may_not_create_tables_is_told_so_and_nothing_is_made() {
    let Some(sandbox) = pg_sandbox() else { return };
    // Since PostgreSQL 15 only the database owner may create tables in `public`.
    sandbox.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC");
    let user = role(&sandbox, "newcomer", "newcomer-pw", "");
    let url = as_user(&sandbox.location, &user, Some("newcomer-pw"));
    let output = run_at(&sandbox, &url, &["create", "ci"], "");
    assert_eq!(code(&output), 1);
    assert_eq!(
        stderr(&output),
        format!(
            "tokens: cannot create the vault at {}: this role may not create tables there (the \
             database owner can GRANT CREATE ON SCHEMA public to it, or create the vault)\n",
            as_user(&sandbox.shown(), &user, Some("***"))
        )
    );
    assert!(stdout(&output).is_empty());
    assert!(!sandbox.vault_exists());
}

#[test]
fn racing_writers_are_right_whatever_the_database_isolation_default() {
    let Some(sandbox) = pg_sandbox() else { return };
    sandbox.execute(&format!(
        "ALTER DATABASE {} SET default_transaction_isolation = 'repeatable read'",
        database(&sandbox)
    ));
    let original = sandbox.create("svc", &["--no-secret-key"]);
    let start = std::sync::Barrier::new(6);
    let outputs: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..6)
            .map(|_| {
                let (sandbox, start) = (&sandbox, &start);
                scope.spawn(move || {
                    start.wait();
                    sandbox.run(&["rotate", "svc", "--yes"], "")
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    // Each rotation wins or finds the token it read already replaced (exit 5); none fails on
    // a serialisation error (exit 1).
    for output in &outputs {
        assert!(matches!(code(output), 0 | 5), "{}", stderr(output));
    }
    let winners = outputs.iter().filter(|output| code(output) == 0).count();
    assert!(winners >= 1);
    assert_eq!(
        sandbox.query::<i64>("SELECT count(*) FROM tokens WHERE revoked_at IS NULL"),
        1
    );
    assert_eq!(sandbox.verify(&original.token, &[]).0, 5);
}

/// Opens a connection as `url`'s role and, in one open transaction, takes every lock that role
/// can: advisory locks (the key the write lock used to be, and others; session and transaction
/// level), `LOCK TABLE` in every mode, row locks, reads, and statements prepared (which lock the
/// tables they name even for a role that may not run them). What is refused, or held by another
/// holder, is skipped.
fn hold_every_lock(url: &str) -> postgres::Client {
    let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
    client
        .batch_execute("SET lock_timeout = '1s'; BEGIN")
        .unwrap();
    let mut attempt = |sql: &str| {
        client.batch_execute("SAVEPOINT attempt").unwrap();
        let outcome = client.batch_execute(sql);
        let end = match outcome {
            Ok(()) => "RELEASE SAVEPOINT attempt",
            Err(_) => "ROLLBACK TO SAVEPOINT attempt",
        };
        client.batch_execute(end).unwrap();
    };
    for key in [0x746B_6E73_i64, 0, 1, -1, i64::MAX] {
        attempt(&format!("SELECT pg_try_advisory_lock({key})"));
        attempt(&format!("SELECT pg_try_advisory_xact_lock_shared({key})"));
    }
    attempt("SELECT pg_try_advisory_lock(0, 0)");
    attempt("SELECT pg_try_advisory_lock(pg_backend_pid())"); // one no other holder has
    for table in ["tokens_vault", "tokens", "events"] {
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
            attempt(&format!("SELECT * FROM {table} FOR {strength}"));
        }
        attempt(&format!("SELECT * FROM {table}"));
        attempt(&format!(
            "PREPARE lock_{table} AS SELECT * FROM {table} FOR UPDATE"
        ));
        attempt(&format!("PREPARE change_{table} AS DELETE FROM {table}"));
    }
    client
}

/// The locks (relation and advisory) held by the backend `pid`.
fn locks_of(sandbox: &Sandbox, pid: i32) -> Vec<String> {
    sandbox
        .pg()
        .query(
            "SELECT locktype || ' ' || coalesce(relation::regclass::text, '') || ' ' || mode \
             FROM pg_locks WHERE pid = $1 AND granted AND locktype IN ('relation', 'advisory') \
             AND coalesce(relation::regclass::text, '') NOT LIKE 'pg_%' ORDER BY 1",
            &[&pid],
        )
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect()
}

#[test]
fn readers_and_strangers_holding_every_lock_they_can_do_not_delay_a_revoke() {
    let Some(sandbox) = pg_sandbox() else { return };
    let issued = sandbox.create("ci", &[]);
    sandbox.create("other", &[]);
    let reader = role(
        &sandbox,
        "reader",
        "reader-pw",
        "GRANT SELECT ON ALL TABLES IN SCHEMA public TO ROLE",
    );
    let stranger = role(&sandbox, "stranger", "stranger-pw", "");
    let mut holders = Vec::new();
    for (user, password) in [(&reader, "reader-pw"), (&stranger, "stranger-pw")] {
        let mut holder = hold_every_lock(&as_user(&sandbox.location, user, Some(password)));
        let pid: i32 = holder
            .query_one("SELECT pg_backend_pid()", &[])
            .unwrap()
            .get(0);
        let held = locks_of(&sandbox, pid);
        // What each holds, so the test cannot pass by holding nothing.
        let table_lock = if user == &reader {
            "relation tokens AccessShareLock"
        } else {
            "relation tokens RowExclusiveLock" // from PREPARE … DELETE, which it may not run
        };
        assert!(
            held.iter().any(|lock| lock == "advisory  ExclusiveLock"),
            "{user}: {held:?}"
        );
        assert!(
            held.iter().any(|lock| lock == table_lock),
            "{user}: {held:?}"
        );
        holders.push(holder);
    }

    let started = std::time::Instant::now();
    let output = sandbox.run(&["revoke", "ci", "--yes", "--timeout", "5s"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let output = sandbox.run(&["rotate", "other", "--yes", "--timeout", "5s"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let output = sandbox.run(&["create", "third", "--timeout", "5s"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "the writers waited {:?}",
        started.elapsed()
    );
    assert_eq!(sandbox.verify(&issued.token, &[]).0, 5);
    drop(holders);
}

#[test]
fn a_lock_held_past_the_timeout_ends_the_command_and_names_the_wait() {
    let Some(sandbox) = pg_sandbox() else { return };
    let issued = sandbox.create("ci", &[]);
    let mut admin = sandbox.pg();
    // Another admin's change in progress: it holds the write lock and does not finish.
    let mut holding = admin.transaction().unwrap();
    holding
        .batch_execute("SELECT version FROM tokens_vault FOR UPDATE")
        .unwrap();

    let started = std::time::Instant::now();
    let output = sandbox.run(&["revoke", "ci", "--yes", "--timeout", "2s"], "");
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    assert_eq!(code(&output), 1);
    assert_eq!(
        stderr(&output),
        format!(
            "tokens: waited 2s for a lock on the vault at {} that another session holds; try \
             again, or raise --timeout\n",
            sandbox.shown()
        )
    );

    // A read waits only behind an ACCESS EXCLUSIVE lock (a migration, LOCK TABLE): bounded too,
    // by the server's lock timeout (every statement runs in a transaction that sets it).
    holding
        .batch_execute("LOCK TABLE tokens IN ACCESS EXCLUSIVE MODE")
        .unwrap();
    let started = std::time::Instant::now();
    let (code, error) = sandbox.verify(&issued.token, &["--timeout", "2s"]);
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    assert_eq!(code, 1);
    assert_eq!(
        error,
        format!(
            "tokens: waited 2s for a lock on the vault at {} that another session holds; try \
             again, or raise --timeout\n",
            sandbox.shown()
        )
    );

    holding.rollback().unwrap();
    assert_eq!(sandbox.verify(&issued.token, &[]).0, 0);
}

#[test]
fn migrate_copies_one_snapshot_of_a_source_it_may_only_read() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let Some(sandbox) = pg_sandbox() else { return };
    sandbox.create("first", &[]);
    // A long log: reading it takes a while, and other machines create tokens meanwhile.
    sandbox.execute(
        "INSERT INTO events (at, token_id, kind, detail) \
         SELECT 0, NULL, 'imported', repeat('x', 200) FROM generate_series(1, 50000)",
    );
    let reader = role(
        &sandbox,
        "reader",
        "reader-pw",
        "GRANT SELECT ON ALL TABLES IN SCHEMA public TO ROLE",
    );
    let source = as_user(&sandbox.location, &reader, Some("reader-pw"));
    let stop = AtomicBool::new(false);
    /// Stops the creator also when an assertion fails (the scope waits for it).
    struct Stop<'a>(&'a AtomicBool);
    impl Drop for Stop<'_> {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }
    std::thread::scope(|scope| {
        let _stop = Stop(&stop);
        scope.spawn(|| {
            let mut round = 0;
            while !stop.load(Ordering::Relaxed) {
                sandbox.create(&format!("busy-{round}"), &[]);
                round += 1;
            }
        });
        for attempt in 0..5 {
            let copy = Sandbox::sqlite();
            let output = sandbox
                .cmd(&["migrate", "--from", &source, "--to", &copy.location])
                .output()
                .unwrap();
            assert_eq!(code(&output), 0, "{}", stderr(&output));
            // Every event's token is in the copy: tokens and events come from one snapshot.
            let orphans: i64 = copy.query(
                "SELECT count(*) FROM events \
                 WHERE token_id IS NOT NULL AND token_id NOT IN (SELECT id FROM tokens)",
            );
            assert_eq!(
                orphans, 0,
                "copy {attempt}: events of tokens not in the copy"
            );
        }
    });
}

#[test]
fn a_role_with_no_access_is_told_so_and_not_that_the_vault_is_read_only() {
    let Some(sandbox) = pg_sandbox() else { return };
    let issued = sandbox.create("ci", &[]);
    let stranger = role(&sandbox, "stranger", "stranger-pw", "");
    let url = as_user(&sandbox.location, &stranger, Some("stranger-pw"));
    let shown = as_user(&sandbox.location, &stranger, Some("***"));
    for (args, stdin) in [
        (vec!["list"], String::new()),
        (vec!["verify"], format!("{}\n", issued.token)),
        (vec!["create", "x"], String::new()),
    ] {
        let output = run_at(&sandbox, &url, &args, &stdin);
        assert_eq!(code(&output), 1, "{args:?}");
        assert_eq!(
            stderr(&output),
            format!(
                "tokens: this role may not read the vault at {shown}: it was granted no access to \
                 it; its owner can grant some (tokens grants ROLE --kind admin|verifier|reader)\n"
            ),
            "{args:?}"
        );
    }
    assert_eq!(sandbox.query::<i64>("SELECT count(*) FROM tokens"), 1);
}

#[test]
fn a_full_server_is_asked_again_within_the_deadline() {
    if pg_sandbox().is_none() {
        return;
    }
    let cluster = OwnCluster::start(10);
    let sandbox = Sandbox::sqlite();
    let vault = cluster.direct.clone();
    let created = sandbox
        .cmd(&["create", "ci"])
        .env("TOKENS_VAULT", &vault)
        .output()
        .unwrap();
    assert_eq!(code(&created), 0, "{}", stderr(&created));
    let issued = parse_issued(&created);
    // Every connection slot taken (the reserved ones too: the test's role is a superuser).
    let mut held = vec![];
    let refusal = loop {
        match postgres::Client::connect(&cluster.direct, postgres::NoTls) {
            Ok(client) => held.push(client),
            Err(error) => break error,
        }
        assert!(held.len() < 20, "the server took more than max_connections");
    };
    assert_eq!(
        refusal.as_db_error().map(|db| db.code().code()),
        Some("53300"),
        "{refusal}"
    );
    // Started with its token given at once: it connects right away.
    let verify = |timeout: &str| {
        use std::io::Write;
        let mut child = sandbox
            .process(&["--timeout", timeout, "verify"])
            .env("TOKENS_VAULT", &vault)
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        writeln!(input, "{}", issued.token).unwrap();
        child
    };
    let answer = |child: std::process::Child| child.wait_with_output().unwrap();

    // Still full when the deadline comes: one line, exit 1, saying why.
    let started = std::time::Instant::now();
    let output = answer(verify("2s"));
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(1500),
        "gave up after {:?}: {}",
        started.elapsed(),
        stderr(&output)
    );
    assert_eq!(
        stderr(&output),
        format!(
            "tokens: the vault at {} is busy (sorry, too many clients already) and stayed so for \
             2s; try again, or raise --timeout\n",
            vault.replace(":tokens-ci-password@", ":***@")
        )
    );

    // A slot frees up within the deadline: the verify gets in and answers.
    let child = verify("10s");
    std::thread::sleep(std::time::Duration::from_millis(800));
    held.pop();
    let output = answer(child);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    drop(held);
}

/// The vault's schema is found from the catalog, never from the session (SPEC §10): `schema=`
/// in the URL names one; a database with vaults in two schemas needs it (exit 1); a vault whose
/// schema was renamed is refused (its functions name the old one).
#[test]
fn the_vaults_schema_is_named_in_the_url_or_found_alone() {
    let Some(sandbox) = pg_sandbox() else { return };
    let issued = sandbox.create("in-public", &[]);
    sandbox.execute("CREATE SCHEMA other");
    let separator = if sandbox.location.contains('?') {
        '&'
    } else {
        '?'
    };
    let other = format!("{}{separator}schema=other", sandbox.location);
    let output = run_at(&sandbox, &other, &["create", "in-other"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let in_other = parse_issued(&output);
    assert_eq!(sandbox.query::<i64>("SELECT count(*) FROM other.tokens"), 1);
    // Two vaults: which one is meant must be said.
    let (status, error) = sandbox.verify(&issued.token, &[]);
    assert_eq!(status, 1);
    assert!(
        error.contains("holds a tokens vault in each of the schemas other, public; name the one to use in the URL (?schema=NAME)"),
        "{error}"
    );
    let output = run_at(
        &sandbox,
        &other,
        &["verify"],
        &format!("{}\n", in_other.token),
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    // Renamed: refused, untouched.
    sandbox.execute("ALTER SCHEMA other RENAME TO moved");
    let moved = format!("{}{separator}schema=moved", sandbox.location);
    let output = run_at(
        &sandbox,
        &moved,
        &["verify"],
        &format!("{}\n", in_other.token),
    );
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("it was made in schema other and is now in schema moved"),
        "{}",
        stderr(&output)
    );
}
