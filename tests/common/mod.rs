//! Shared by the integration tests: a private temporary vault and the real `tokens` binary.
#![allow(dead_code)] // each test file uses a different part of this

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command as ProcessCommand, Output, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use rusqlite::Connection;
use tempfile::TempDir;

/// A folder of our own (mode 0700) and a vault that does not exist yet: a file in the folder, or,
/// when `TOKENS_TEST_POSTGRES` names a PostgreSQL server (an admin URL; `.ci/run` starts one),
/// a new empty database there. The same tests then drive the binary against either backend.
pub struct Sandbox {
    pub dir: TempDir,
    /// The vault file (SQLite sandboxes; unused on PostgreSQL).
    pub vault: PathBuf,
    /// What `TOKENS_VAULT` says: the file, or the database's URL.
    pub location: String,
    postgres: Option<TestDatabase>,
}

/// A database of one sandbox's, dropped with it.
struct TestDatabase {
    admin_url: String,
    name: String,
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Ok(mut admin) = postgres::Client::connect(&self.admin_url, postgres::NoTls) {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// The PostgreSQL server the tests may use (an admin URL), if any.
pub fn postgres_admin_url() -> Option<String> {
    std::env::var("TOKENS_TEST_POSTGRES")
        .ok()
        .filter(|url| !url.is_empty())
}

/// The test server itself, when `TOKENS_TEST_POSTGRES` goes through a pooler (`.ci/postgres`
/// puts PgBouncer in transaction mode in front of it): for what needs a session of its own
/// (creating databases, the tests' own checks with prepared statements, restarts, storms).
pub fn postgres_direct_url() -> Option<String> {
    std::env::var("TOKENS_TEST_POSTGRES_DIRECT")
        .ok()
        .filter(|url| !url.is_empty())
        .or_else(postgres_admin_url)
}

/// `url` (a test URL, maybe through the pooler) with the host and port of the server itself.
pub fn direct(url: &str) -> String {
    let Some(server) = postgres_direct_url() else {
        return url.to_owned();
    };
    let host_port = |url: &str| -> (usize, usize) {
        let start = url.find("://").map_or(0, |at| at + 3);
        let authority_end = url[start..].find('/').map_or(url.len(), |at| start + at);
        let host_start = url[start..authority_end]
            .rfind('@')
            .map_or(start, |at| start + at + 1);
        (host_start, authority_end)
    };
    let (from, to) = host_port(url);
    let (server_from, server_to) = host_port(&server);
    format!(
        "{}{}{}",
        &url[..from],
        &server[server_from..server_to],
        &url[to..]
    )
}

/// `url` with its database name replaced by `database`.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let authority_end = base["postgres://".len()..]
        .find('/')
        .map_or(base.len(), |at| at + "postgres://".len());
    format!("{}/{database}{query}", &base[..authority_end])
}

/// A new empty database on the test server; its URL and the guard that drops it.
fn new_database(admin_url: &str) -> (String, TestDatabase) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let name = format!(
        "tokens_test_{}_{}_{}",
        std::process::id(),
        COUNT.fetch_add(1, Ordering::Relaxed),
        rand::random::<u32>()
    );
    let mut admin = postgres::Client::connect(&direct(admin_url), postgres::NoTls)
        .expect("the PostgreSQL server in TOKENS_TEST_POSTGRES answers");
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    (
        with_database(admin_url, &name),
        TestDatabase {
            admin_url: direct(admin_url),
            name,
        },
    )
}

/// Now, in the vault's Unix seconds.
pub fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A value both backends can read from a query, so a test's SQL checks either vault.
pub trait Sql: rusqlite::types::FromSql + for<'a> postgres::types::FromSql<'a> {}
impl<T> Sql for T where T: rusqlite::types::FromSql + for<'a> postgres::types::FromSql<'a> {}

/// What `create` / `rotate` / `refresh` printed: the token line and the secret key line.
#[derive(Debug, Clone)]
pub struct Issued {
    pub token: String,
    pub secret_key: Option<String>,
}

impl Issued {
    /// The id part of `tk_<id>_<secret><check>`.
    pub fn id(&self) -> String {
        self.token["tk_".len().."tk_".len() + 12].to_owned()
    }
}

impl Sandbox {
    /// A sandbox on the backend under test: PostgreSQL when `TOKENS_TEST_POSTGRES` is set.
    pub fn new() -> Sandbox {
        let mut sandbox = Sandbox::sqlite();
        if let Some(admin_url) = postgres_admin_url() {
            let (url, database) = new_database(&admin_url);
            sandbox.location = url;
            sandbox.postgres = Some(database);
        }
        sandbox
    }

    /// A sandbox with a SQLite file vault whatever the backend under test: for tests of the file
    /// itself (permissions, crashes, other users).
    pub fn sqlite() -> Sandbox {
        let dir = tempfile::Builder::new()
            .prefix("tokens-test")
            .tempdir()
            .unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        let vault = dir.path().join("vault.db");
        Sandbox {
            location: vault.display().to_string(),
            dir,
            vault,
            postgres: None,
        }
    }

    /// True once a command has made the vault (the file, or the tables in the database).
    pub fn vault_exists(&self) -> bool {
        if self.is_postgres() {
            self.query::<bool>("SELECT to_regclass('tokens_vault') IS NOT NULL")
        } else {
            self.vault.exists()
        }
    }

    /// The vault as messages name it: the path, or the URL with its password masked.
    pub fn shown(&self) -> String {
        let Some((scheme, rest)) = self.location.split_once("://") else {
            return self.location.clone();
        };
        match rest.split_once('@') {
            Some((user_info, host)) if user_info.contains(':') => {
                let user = user_info.split(':').next().unwrap();
                format!("{scheme}://{user}:***@{host}")
            }
            _ => self.location.clone(),
        }
    }

    /// The vault's location, as the library opens it.
    pub fn vault_location(&self) -> tokens::vault::Location {
        tokens::vault::Location::parse(std::ffi::OsStr::new(&self.location)).unwrap()
    }

    /// Checks the vault is sound: SQLite's integrity check; on PostgreSQL (which guards its own
    /// pages) that the tables read and no name has two live tokens.
    pub fn assert_intact(&self) {
        if self.is_postgres() {
            let doubled: i64 = self.query(
                "SELECT count(*) FROM (SELECT name FROM tokens WHERE revoked_at IS NULL \
                 GROUP BY name HAVING count(*) > 1) AS doubled",
            );
            assert_eq!(doubled, 0, "a name with two live tokens");
            let _: i64 = self.query("SELECT count(*) FROM events");
        } else {
            assert_eq!(self.query::<String>("PRAGMA integrity_check"), "ok");
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.postgres.is_some()
    }

    /// A connection to this sandbox's PostgreSQL database, to check what the binary left in it.
    pub fn pg(&self) -> postgres::Client {
        assert!(self.is_postgres(), "not a PostgreSQL sandbox");
        postgres::Client::connect(&direct(&self.location), postgres::NoTls).unwrap()
    }

    /// Runs `sql` (no result) on the vault, whichever backend holds it.
    pub fn execute(&self, sql: &str) {
        if self.is_postgres() {
            self.pg().batch_execute(sql).unwrap();
        } else {
            self.db().execute_batch(sql).unwrap();
        }
    }

    /// `tokens ARGS` against this vault, with no terminal, no colour and an empty stdin.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut command = Command::from_std(self.process(args));
        command.write_stdin("");
        command
    }

    /// `tokens ARGS` against this vault as a plain process to spawn (the same environment as
    /// [`Sandbox::cmd`]): stdin empty, stdout and stderr piped; callers change what they need.
    pub fn process(&self, args: &[&str]) -> ProcessCommand {
        let mut command = ProcessCommand::new(tokens_bin());
        command
            .args(args)
            .env("TOKENS_VAULT", &self.location)
            .env("HOME", self.dir.path())
            .env_remove("NO_COLOR")
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // The runner's own PostgreSQL settings must not reach the binary under test.
        for variable in [
            "PGHOST",
            "PGPORT",
            "PGUSER",
            "PGDATABASE",
            "PGPASSWORD",
            "PGPASSFILE",
            "PGSSLMODE",
            "PGSSLROOTCERT",
        ] {
            command.env_remove(variable);
        }
        command
    }

    /// Runs `tokens ARGS` with `stdin`, returning the whole output.
    pub fn run(&self, args: &[&str], stdin: &str) -> Output {
        self.cmd(args)
            .write_stdin(stdin.to_owned())
            .output()
            .unwrap()
    }

    /// Creates a token, asserting success; extra args after the name.
    pub fn create(&self, name: &str, extra: &[&str]) -> Issued {
        let mut args = vec!["create", name];
        args.extend_from_slice(extra);
        let output = self.run(&args, "");
        assert_eq!(code(&output), 0, "create failed: {}", stderr(&output));
        parse_issued(&output)
    }

    /// `tokens verify ARGS` with the token on stdin; returns the exit code and stderr.
    pub fn verify(&self, token: &str, args: &[&str]) -> (i32, String) {
        let mut all = vec!["verify"];
        all.extend_from_slice(args);
        let output = self.run(&all, &format!("{token}\n"));
        (code(&output), stderr(&output))
    }

    /// Opens the vault file directly, to check what the binary left in it (SQLite sandboxes).
    pub fn db(&self) -> Connection {
        assert!(
            !self.is_postgres(),
            "a PostgreSQL sandbox has no vault file"
        );
        Connection::open(&self.vault).unwrap()
    }

    /// One value from the vault, whichever backend holds it.
    pub fn query<T: Sql>(&self, sql: &str) -> T {
        if self.is_postgres() {
            self.pg().query_one(sql, &[]).unwrap().get(0)
        } else {
            self.db().query_row(sql, [], |row| row.get(0)).unwrap()
        }
    }

    /// Every byte of the vault and its WAL and shared-memory files.
    pub fn vault_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        for suffix in ["", "-wal", "-shm"] {
            let path = PathBuf::from(format!("{}{suffix}", self.vault.display()));
            if let Ok(content) = std::fs::read(&path) {
                bytes.extend(content);
            }
        }
        bytes
    }

    /// How much room the vault takes: its file and WAL on SQLite, its tables on PostgreSQL.
    pub fn vault_size(&self) -> i64 {
        if self.is_postgres() {
            return self.query(
                "SELECT sum(pg_total_relation_size(c.oid))::bigint FROM pg_class c \
                 JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE n.nspname = current_schema() AND c.relkind = 'r'",
            );
        }
        ["", "-wal"]
            .iter()
            .filter_map(|suffix| {
                std::fs::metadata(format!("{}{suffix}", self.vault.display())).ok()
            })
            .map(|meta| meta.len() as i64)
            .sum()
    }

    /// What the first command that writes says on stderr when it makes the vault file (a
    /// PostgreSQL vault's tables are made without a word).
    pub fn created_notice(&self) -> String {
        if self.is_postgres() {
            String::new()
        } else {
            format!("Created a new vault at {}.\n", self.vault.display())
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

pub fn parse_issued(output: &Output) -> Issued {
    let stdout = stdout(output);
    let mut lines = stdout.lines();
    let token = lines.next().expect("a token line").to_owned();
    let secret_key = lines.next().map(str::to_owned);
    assert!(token.starts_with("tk_"), "unexpected token line: {token}");
    Issued { token, secret_key }
}

pub fn code(output: &Output) -> i32 {
    output.status.code().expect("exited normally")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

pub fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(output)))
}

/// True when `haystack` contains `needle` anywhere.
pub fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

pub fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// The `tokens` binary under test.
pub fn tokens_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_tokens"))
}

/// Says a test could not run here and why. Under CI (`CI` set) that is a failure instead: CI
/// installs and runs as what every test needs, so a skip there would hide a test that never ran.
pub fn skip(reason: &str) {
    assert!(
        std::env::var_os("CI").is_none(),
        "this test must run in CI, but: {reason}"
    );
    eprintln!("skipped: {reason}");
}

/// True when the tests run as root, so they can act as another user (CI does).
pub fn running_as_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// `nobody`'s user and group ids, from /etc/passwd.
pub fn nobody_ids() -> (u32, u32) {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    let line = passwd
        .lines()
        .find(|line| line.starts_with("nobody:"))
        .expect("a nobody user");
    let fields: Vec<&str> = line.split(':').collect();
    (fields[2].parse().unwrap(), fields[3].parse().unwrap())
}

/// Runs `tokens` as the unprivileged user `nobody` (with `setpriv`), the way a CI job verifies
/// against a vault that root manages. The binary is linked or copied to a folder that user can reach.
pub struct Nobody {
    dir: TempDir,
    bin: PathBuf,
}

impl Nobody {
    /// `None` (with a note on stderr) when the tests do not run as root and cannot switch user.
    pub fn new() -> Option<Nobody> {
        if !running_as_root() {
            skip("acting as another user needs root (CI runs the tests as root)");
            return None;
        }
        let dir = tempfile::Builder::new()
            .prefix("tokens-bin")
            .tempdir()
            .unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let bin = dir.path().join("tokens");
        // A hard link when others may run the binary and the temporary folder is on the same
        // file system; a copy otherwise.
        let others_may_run = mode(&tokens_bin()) & 0o005 == 0o005;
        if !others_may_run || std::fs::hard_link(tokens_bin(), &bin).is_err() {
            std::fs::copy(tokens_bin(), &bin).unwrap();
            std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        Some(Nobody { dir, bin })
    }

    /// The binary's copy (or link) that other users can run.
    pub fn bin(&self) -> &Path {
        &self.bin
    }

    /// `tokens ARGS` as `nobody` against `vault`, with a clean environment.
    pub fn cmd(&self, vault: &Path, args: &[&str]) -> std::process::Command {
        let _ = &self.dir;
        let mut command = std::process::Command::new("setpriv");
        command
            .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"])
            .arg(&self.bin)
            .args(args)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", "/nonexistent")
            .env("TOKENS_VAULT", vault);
        command
    }

    /// Runs `tokens ARGS` as `nobody` with `stdin`, returning the whole output.
    pub fn run(&self, vault: &Path, args: &[&str], stdin: &str) -> Output {
        use std::io::Write;
        let mut child = self
            .cmd(vault, args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("setpriv (util-linux) runs");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }
}

/// The names in a folder, sorted: to see that a command created or removed nothing.
pub fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A private X server on a free display, stopped when dropped.
pub struct Xvfb {
    server: Child,
    pub display: String,
}

impl Xvfb {
    pub fn start() -> Xvfb {
        // -displayfd 1: Xvfb picks a free display and writes its number on stdout when ready.
        let mut server = ProcessCommand::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-nolisten",
                "tcp",
                "-screen",
                "0",
                "640x480x24",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb is not installed (apt-get install xvfb xclip; .ci/run does this)");
        let mut line = String::new();
        BufReader::new(server.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let display = format!(":{}", line.trim());
        assert!(display.len() > 1, "Xvfb did not report a display");
        Xvfb { server, display }
    }

    /// What `xclip -o -selection clipboard` reads, or `None` when the clipboard is empty.
    pub fn clipboard(&self) -> Option<String> {
        let output = ProcessCommand::new("xclip")
            .args(["-o", "-selection", "clipboard"])
            .env("DISPLAY", &self.display)
            .output()
            .expect("xclip is not installed (apt-get install xclip; .ci/run does this)");
        output
            .status
            .success()
            .then(|| String::from_utf8(output.stdout).unwrap())
    }

    /// Copies `text` as another program would.
    pub fn copy(&self, text: &str) {
        let mut xclip = ProcessCommand::new("xclip")
            .args(["-i", "-selection", "clipboard"])
            .env("DISPLAY", &self.display)
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        xclip
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        assert!(xclip.wait().unwrap().success());
    }

    /// Waits until the clipboard reads `expected` (xclip's own server forks, so give it a moment).
    pub fn wait_for(&self, expected: Option<&str>, within: Duration) -> Option<String> {
        let start = Instant::now();
        loop {
            let current = self.clipboard();
            if current.as_deref() == expected || start.elapsed() > within {
                return current;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}
