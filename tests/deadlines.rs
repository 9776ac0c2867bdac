//! No command hangs on its vault (SPEC §8): every wait gives up after `--timeout` (default 10 s)
//! with exit 1 and one line saying what it waited for. These need no PostgreSQL server: a TCP
//! listener that accepts connections and never says a word stands in for a hung one, and SQLite
//! waits for a lock another connection holds. (Lock waits on a real server: tests/postgres.rs.)

mod common;

use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;

/// Long enough to prove a command did not hang, short enough for a test; never a timing claim.
const HUNG: Duration = Duration::from_secs(20);

/// A server that accepts TCP connections and never answers (nor closes them).
struct SilentServer {
    port: u16,
    accepted: Arc<Mutex<Vec<TcpStream>>>,
}

impl SilentServer {
    fn start() -> SilentServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&accepted);
        // Ends with the test process.
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                kept.lock().unwrap().push(stream);
            }
        });
        SilentServer { port, accepted }
    }

    /// A vault URL on this server, with a password that must never be printed.
    fn url(&self, query: &str) -> String {
        format!(
            "postgres://tokens_app:hunter2-silent@127.0.0.1:{}/x{query}",
            self.port
        )
    }

    /// How the URL is shown in messages.
    fn shown(&self, query: &str) -> String {
        format!("postgres://tokens_app:***@127.0.0.1:{}/x{query}", self.port)
    }

    fn connections(&self) -> usize {
        self.accepted.lock().unwrap().len()
    }
}

/// A well-formed token (its checksum holds), so that `verify` asks the vault.
fn well_formed_token() -> String {
    Sandbox::sqlite()
        .create("elsewhere", &["--no-secret-key"])
        .token
}

/// Runs `tokens ARGS` against `url` with `stdin` and `env`; the output and how long it took.
fn run_timed(
    url: &str,
    args: &[&str],
    stdin: &str,
    env: &[(&str, &str)],
) -> (std::process::Output, Duration) {
    let sandbox = Sandbox::sqlite();
    let mut command = sandbox.cmd(args);
    command
        .env("TOKENS_VAULT", url)
        .write_stdin(stdin.to_owned());
    for (name, value) in env {
        command.env(name, value);
    }
    let started = Instant::now();
    let output = command.timeout(HUNG * 2).output().unwrap();
    (output, started.elapsed())
}

fn assert_gave_up(output: &std::process::Output, took: Duration, expected: &str) {
    assert!(took < HUNG, "took {took:?}: it hung");
    assert_eq!(stderr(output), format!("tokens: {expected}\n"));
    assert_eq!(code(output), 1);
    assert!(stdout(output).is_empty(), "{}", stdout(output));
    assert!(!stderr(output).contains("hunter2"));
}

#[test]
fn a_server_that_never_answers_ends_verify_within_its_timeout() {
    let server = SilentServer::start();
    let token = well_formed_token();
    let (output, took) = run_timed(
        &server.url(""),
        &["verify", "--timeout", "2s"],
        &format!("{token}\n"),
        &[],
    );
    assert_gave_up(
        &output,
        took,
        &format!(
            "the vault at {} did not answer within 2s (connect and log in); check the server, \
             or raise --timeout",
            server.shown("")
        ),
    );
    assert!(
        took >= Duration::from_secs(1),
        "gave up before asking: {took:?}"
    );
    assert_eq!(server.connections(), 1, "verify did not reach the server");

    // A batch waits the same, once: SPEC §5, a verify that cannot ask the vault is 1.
    let (output, took) = run_timed(
        &server.url(""),
        &["verify", "--batch"],
        &format!("{token}\n{token}\n"),
        &[("TOKENS_TIMEOUT", "2s")],
    );
    assert_gave_up(
        &output,
        took,
        &format!(
            "the vault at {} did not answer within 2s (connect and log in); check the server, \
             or raise --timeout",
            server.shown("")
        ),
    );
}

#[test]
fn connect_timeout_in_the_url_and_pgconnect_timeout_are_honoured() {
    let server = SilentServer::start();
    let token = format!("{}\n", well_formed_token());
    // Shorter than --timeout: the connection string's setting wins, and the message names it.
    let (output, took) = run_timed(
        &server.url("?connect_timeout=2"),
        &["verify", "--timeout", "1min"],
        &token,
        &[],
    );
    assert_gave_up(
        &output,
        took,
        &format!(
            "the vault at {} did not answer within 2s (connect and log in); check the server, \
             or raise connect_timeout",
            server.shown("?connect_timeout=2")
        ),
    );
    // libpq's minimum is 2 s: connect_timeout=1 means 2.
    let (output, _) = run_timed(&server.url("?connect_timeout=1"), &["list"], "", &[]);
    assert!(stderr(&output).contains("within 2s"), "{}", stderr(&output));

    let (output, took) = run_timed(
        &server.url(""),
        &["list", "--timeout", "1min"],
        "",
        &[("PGCONNECT_TIMEOUT", "2")],
    );
    assert_gave_up(
        &output,
        took,
        &format!(
            "the vault at {} did not answer within 2s (connect and log in); check the server, \
             or raise PGCONNECT_TIMEOUT",
            server.shown("")
        ),
    );
    // The URL wins over the environment, as in libpq; a longer one than --timeout leaves it.
    let (output, _) = run_timed(
        &server.url("?connect_timeout=30"),
        &["list", "--timeout", "2s"],
        "",
        &[("PGCONNECT_TIMEOUT", "3")],
    );
    assert!(
        stderr(&output)
            .contains("within 2s (connect and log in); check the server, or raise --timeout"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_timeout_outside_1s_to_24h_is_a_usage_error() {
    let sandbox = Sandbox::sqlite();
    for (timeout, expected) in [
        ("0s", "use a duration from 1s to 1d (e.g. 10s)"),
        ("2d", "use a duration from 1s to 1d (e.g. 10s)"),
        (
            "soon",
            "use a duration such as 10s; units: s, min, h, d, w, y",
        ),
    ] {
        let output = sandbox.run(&["list", "--timeout", timeout], "");
        assert_eq!(code(&output), 2, "{timeout}");
        assert!(
            stderr(&output) == format!("tokens: invalid --timeout \"{timeout}\": {expected}\n"),
            "{}",
            stderr(&output)
        );
    }
    assert!(!sandbox.vault_exists());
}

#[test]
fn a_sqlite_writer_blocked_by_another_gives_up_after_its_timeout() {
    let sandbox = Sandbox::sqlite();
    sandbox.create("ci", &[]);
    // Another writer holds the write lock.
    let holder = sandbox.db();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();

    let started = Instant::now();
    let output = sandbox.run(&["revoke", "ci", "--yes", "--timeout", "1s"], "");
    let took = started.elapsed();
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    let error = stderr(&output);
    assert_eq!(error.lines().count(), 1, "{error}");
    assert!(error.contains(&sandbox.location), "{error}");
    assert!(error.contains("locked"), "{error}");
    // It waited for the lock (about 1 s), not the default 10 s.
    assert!(
        took >= Duration::from_millis(900),
        "gave up at once: {took:?}"
    );
    assert!(
        took < Duration::from_secs(8),
        "waited {took:?}, not --timeout 1s"
    );

    holder.execute_batch("ROLLBACK").unwrap();
    assert_eq!(
        sandbox.query::<Option<i64>>("SELECT revoked_at FROM tokens"),
        None
    );
    let output = sandbox.run(&["revoke", "ci", "--yes", "--timeout", "1s"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
}
