//! Turning a vault URL (`postgres://…`) into a logged-in [`Link`], the way libpq would.
//!
//! tokio-postgres parses the URL but leaves out much that libpq users rely on: defaults from the
//! `PG*` variables, the pgpass file, the `verify-ca`/`verify-full` TLS modes, and a
//! `connect_timeout` that covers the login as well as the TCP connect. This module fills those
//! in, gives connecting and logging in one deadline, and names every failure in one line that
//! shows the URL without its password.
//!
//! Here: the public interface, libpq's defaults, connecting, and naming failures. Beside it:
//! `redact` (reading connection strings, hiding passwords), `pgpass` (the password file) and
//! `tls` (sslmode, sslrootcert and the rustls connector).

mod pgpass;
mod redact;
mod tls;

use std::error::Error as _;
use std::io;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, Instant};

use tokio_postgres::config::{Host, SslMode as WireSslMode};
use tokio_postgres::error::{DbError, SqlState};
use tokio_postgres::tls::{MakeTlsConnect, TlsConnect};
use tokio_postgres::{Config, NoTls, Socket};
use zeroize::Zeroizing;

use super::link::{Link, Runtime, seconds};
use pgpass::{PgpassQuery, find_pgpass_password, read_private_file};
pub(crate) use redact::{KeyValueString, key_value_string, redact_url_body};
use redact::{MASK, redact_key_values, scrub_secrets, split_scheme};
use tls::{TlsPolicy, split_tls_params, tls_connector};

const APPLICATION_NAME: &str = "tokens";
/// libpq's shortest `connect_timeout`: a smaller one is taken as this.
const SHORTEST_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Where Debian's (and so most Linux hosts') server puts its socket; libpq's compiled-in default.
const SOCKET_DIR: &str = "/var/run/postgresql";
const PASSWORD_HINT: &str = "check the password in the URL, PGPASSWORD or ~/.pgpass";

/// The URL as it may be shown to a person: any password replaced by `***` (user, host, port, db,
/// params kept; a `password=` query parameter also masked).
///
/// libpq's `key=value` strings are redacted the same way.
pub fn redact(url: &str) -> String {
    match split_scheme(url) {
        Some((scheme, body)) => format!("{scheme}{}", redact_url_body(body)),
        None => redact_key_values(url),
    }
}

/// Connects and logs in, giving up after `timeout` (or the connection string's
/// `connect_timeout`, or `PGCONNECT_TIMEOUT`, when shorter); every later wait on the link gives
/// up after `timeout` too. Errors are one line, never contain the password, and name the
/// redacted URL.
pub(super) fn connect(url: &str, timeout: Duration) -> Result<Link, ConnectError> {
    let resolved = resolve(url, &Environment::of_process())?;
    open(&resolved, timeout)
}

/// The schema the connection string names (`schema=`), if any: the vault's (SPEC §10).
pub fn requested_schema(url: &str) -> Option<String> {
    split_tls_params(url)
        .ok()
        .and_then(|(_, params)| params.schema)
        .filter(|schema| !schema.is_empty())
}

/// Why a vault URL gave no connection. Each message is one line and names the redacted URL.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("{url} is not a valid vault URL: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("cannot reach the vault at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("the vault at {url} refused the login for user \"{user}\" ({reason})")]
    AuthFailed {
        url: String,
        user: String,
        reason: String,
    },
    #[error("database \"{database}\" does not exist at {url}")]
    NoDatabase { url: String, database: String },
    #[error("the vault at {url} requires TLS (use sslmode=require rather than sslmode=disable)")]
    TlsRequired { url: String },
    #[error("TLS with the vault at {url} failed: {reason}")]
    Tls { url: String, reason: String },
    #[error("cannot connect to the vault at {url}: {reason}")]
    Other { url: String, reason: String },
    /// The server (or a pooler) stayed full or starting up for the whole limit.
    #[error(
        "the vault at {url} is busy ({reason}) and stayed so for {within}; try again, or raise {raise}"
    )]
    Busy {
        url: String,
        reason: String,
        within: String,
        raise: &'static str,
    },
    /// `within`: the limit as shown (`10s`); `raise`: the setting that set it.
    #[error(
        "the vault at {url} did not answer within {within} (connect and log in); check the server, or raise {raise}"
    )]
    NoAnswer {
        url: String,
        within: String,
        raise: &'static str,
    },
}

// ---------------------------------------------------------------------------------------------
// libpq's defaults

/// Reads an environment variable.
type Lookup<'a> = Box<dyn Fn(&str) -> Option<String> + 'a>;

/// Where libpq's defaults come from. Tests build their own, so they never touch the process.
struct Environment<'a> {
    variable: Lookup<'a>,
    os_user: Option<String>,
    /// The default Unix socket directory, when it exists.
    socket_dir: Option<PathBuf>,
}

impl Environment<'_> {
    fn of_process() -> Environment<'static> {
        Environment {
            variable: Box::new(process_variable),
            os_user: os_user_name().or_else(|| process_variable("USER")),
            socket_dir: Some(PathBuf::from(SOCKET_DIR)).filter(|dir| dir.is_dir()),
        }
    }

    /// A variable's value; an empty one counts as unset.
    fn var(&self, name: &str) -> Option<String> {
        (self.variable)(name).filter(|value| !value.is_empty())
    }
}

fn process_variable(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// The name of the effective user, as libpq finds it.
fn os_user_name() -> Option<String> {
    // SAFETY: passwd is plain C data, for which all zeroes is a valid value.
    let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
    let mut buffer = vec![0 as libc::c_char; 16 * 1024];
    let mut found: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer refers to live memory of the stated size; getpwuid_r (unlike
    // getpwuid) writes only into them, so this is safe from any thread.
    let status = unsafe {
        libc::getpwuid_r(
            libc::geteuid(),
            &mut entry,
            buffer.as_mut_ptr(),
            buffer.len(),
            &mut found,
        )
    };
    if status != 0 || found.is_null() || entry.pw_name.is_null() {
        return None;
    }
    // SAFETY: on success pw_name points to a NUL-terminated string inside `buffer`.
    let name = unsafe { std::ffi::CStr::from_ptr(entry.pw_name) };
    name.to_str().ok().map(str::to_owned)
}

/// What error messages name: the redacted URL, the user and the database.
#[derive(Debug, PartialEq)]
struct Target {
    url: String,
    user: String,
    database: String,
}

/// A connection string with libpq's defaults filled in, ready to connect.
struct Resolved {
    config: Config,
    tls: TlsPolicy,
    target: Target,
    /// `connect_timeout` and where it was set (`connect_timeout` in the connection string, or
    /// `PGCONNECT_TIMEOUT`), when either set one.
    connect_timeout: Option<(Duration, &'static str)>,
}

impl Resolved {
    /// How long connecting and logging in may take, and the setting that says so: libpq's
    /// `connect_timeout` applies to each host in turn, all within the vault's `timeout`.
    fn login_limit(&self, timeout: Duration) -> (Duration, &'static str) {
        match self.connect_timeout {
            Some((each, setting)) => {
                let hosts = u32::try_from(self.config.get_hosts().len().max(1)).unwrap_or(1);
                let all = each.saturating_mul(hosts);
                if all < timeout {
                    (all, setting)
                } else {
                    (timeout, "--timeout")
                }
            }
            None => (timeout, "--timeout"),
        }
    }
}

fn resolve(url: &str, env: &Environment) -> Result<Resolved, ConnectError> {
    let shown = redact(url);
    // A reason may quote a value, and a value may hold a password (a second `?`).
    let bad_url = |reason: String| ConnectError::BadUrl {
        url: shown.clone(),
        reason: scrub_secrets(&reason, url),
    };
    let (parseable, tls_params) = split_tls_params(url).map_err(bad_url)?;
    if let Some(schema) = &tls_params.schema {
        check_schema_name(schema).map_err(bad_url)?;
    }
    let mut config = Config::from_str(&parseable).map_err(|error| bad_url(cause_of(&error)))?;
    let connect_timeout = connect_timeout(&mut config, env);
    fill_defaults(&mut config, env).map_err(bad_url)?;
    let tls = TlsPolicy::from_params(tls_params, env).map_err(bad_url)?;
    config.ssl_mode(tls.wire_mode(only_unix_sockets(&config)));
    if config.get_password().is_none()
        && let Some(password) = password_from_environment(&config, env)
    {
        config.password(password.as_bytes());
    }
    // fill_defaults leaves no config without a user.
    let user = config.get_user().unwrap_or_default().to_owned();
    let database = config.get_dbname().unwrap_or(&user).to_owned();
    let target = Target {
        url: shown,
        user,
        database,
    };
    Ok(Resolved {
        config,
        tls,
        target,
        connect_timeout,
    })
}

/// A `schema=` the vault's SQL can name safely: 1 to 63 bytes (PostgreSQL's limit), no quote
/// of either kind (the name is written into identifiers and string literals of the vault's
/// functions) and no control character.
fn check_schema_name(schema: &str) -> Result<(), String> {
    if schema.is_empty()
        || schema.len() > 63
        || schema
            .chars()
            .any(|c| c == '\'' || c == '"' || c.is_control())
    {
        return Err(
            "schema= must name a schema of 1 to 63 bytes with no quotes or control characters"
                .into(),
        );
    }
    Ok(())
}

/// libpq's `connect_timeout`: from the connection string, else `PGCONNECT_TIMEOUT`; zero,
/// negative or unreadable means none, and less than 2 s is 2 s. Set on `config` too, where
/// tokio-postgres bounds each TCP connect with it.
fn connect_timeout(config: &mut Config, env: &Environment) -> Option<(Duration, &'static str)> {
    let (seconds, setting) = match config.get_connect_timeout() {
        Some(given) => (*given, "connect_timeout"),
        None => {
            let seconds: i64 = env.var("PGCONNECT_TIMEOUT")?.trim().parse().ok()?;
            let seconds = u64::try_from(seconds).ok().filter(|seconds| *seconds > 0)?;
            (Duration::from_secs(seconds), "PGCONNECT_TIMEOUT")
        }
    };
    let seconds = seconds.max(SHORTEST_CONNECT_TIMEOUT);
    config.connect_timeout(seconds);
    Some((seconds, setting))
}

/// libpq's defaults where tokio-postgres has none (or other ones).
fn fill_defaults(config: &mut Config, env: &Environment) -> Result<(), String> {
    if config.get_hosts().is_empty() && config.get_hostaddrs().is_empty() {
        match (env.var("PGHOST"), &env.socket_dir) {
            (Some(hosts), _) => hosts.split(',').for_each(|host| {
                config.host(host); // a path (`/…`) becomes a Unix socket
            }),
            (None, Some(dir)) => {
                config.host_path(dir);
            }
            (None, None) => {
                config.host("localhost");
            }
        }
    }
    if config.get_ports().is_empty()
        && let Some(ports) = env.var("PGPORT")
    {
        for port in ports.split(',') {
            let port = port
                .parse()
                .map_err(|_| format!("PGPORT \"{ports}\" is not a port number"))?;
            config.port(port);
        }
    }
    if config.get_user().is_none() {
        let user = env
            .var("PGUSER")
            .or_else(|| env.os_user.clone())
            .ok_or("it names no user, and neither PGUSER nor the system does")?;
        config.user(&user);
    }
    if config.get_dbname().is_none()
        && let Some(database) = env.var("PGDATABASE")
    {
        config.dbname(&database);
    }
    if config.get_application_name().is_none() {
        let name = env.var("PGAPPNAME");
        config.application_name(name.as_deref().unwrap_or(APPLICATION_NAME));
    }
    Ok(())
}

fn only_unix_sockets(config: &Config) -> bool {
    config.get_hostaddrs().is_empty()
        && !config.get_hosts().is_empty()
        && config
            .get_hosts()
            .iter()
            .all(|host| matches!(host, Host::Unix(_)))
}

// ---------------------------------------------------------------------------------------------
// Passwords from PGPASSWORD and the pgpass file

fn password_from_environment(config: &Config, env: &Environment) -> Option<Zeroizing<String>> {
    if let Some(password) = env.var("PGPASSWORD") {
        return Some(Zeroizing::new(password));
    }
    let file = env
        .var("PGPASSFILE")
        .map(PathBuf::from)
        .or_else(|| env.var("HOME").map(|home| Path::new(&home).join(".pgpass")))?;
    let text = read_private_file(&file)?;
    find_pgpass_password(&text, &PgpassQuery::for_config(config))
}

// ---------------------------------------------------------------------------------------------
// Connecting, with TLS as libpq's sslmode asks

/// Connects and logs in within `timeout` (see [`Resolved::login_limit`]). A server that is
/// full ("too many clients") or starting up, or a pooler that cannot get it a connection, is
/// asked again after a jittered pause, pauses doubling, for as long as the limit allows: a storm
/// of verifiers then spreads out and gets in, rather than fail closed at once.
fn open(resolved: &Resolved, timeout: Duration) -> Result<Link, ConnectError> {
    let url = || resolved.target.url.clone();
    let runtime = Runtime::new().map_err(|error| ConnectError::Other {
        url: url(),
        reason: error.to_string(),
    })?;
    let (limit, setting) = resolved.login_limit(timeout);
    let connector = if resolved.config.get_ssl_mode() == WireSslMode::Disable {
        None
    } else {
        Some(
            tls_connector(resolved.tls.verification())
                .map_err(|reason| ConnectError::Tls { url: url(), reason })?,
        )
    };
    let started = Instant::now();
    let mut pause = FIRST_PAUSE;
    let mut busy = None;
    let connected = loop {
        let left = limit.saturating_sub(started.elapsed());
        let connecting = match &connector {
            None => runtime.within(left, log_in(&resolved.config, NoTls)),
            Some(connector) => runtime.within(left, log_in(&resolved.config, connector.clone())),
        };
        let Some(connected) = connecting else {
            return Err(match busy {
                // Still busy when the limit came: say so rather than "did not answer".
                Some(reason) => ConnectError::Busy {
                    url: url(),
                    reason,
                    within: seconds(limit),
                    raise: setting,
                },
                None => ConnectError::NoAnswer {
                    url: url(),
                    within: seconds(limit),
                    raise: setting,
                },
            });
        };
        match connected {
            Err(error) if transient(&error) => {
                let password = resolved.config.get_password();
                let reason = error
                    .as_db_error()
                    .map_or_else(|| cause_of(&error), |db| db.message().to_owned());
                let reason = scrub(&reason, password);
                // Ask until the limit: the last pause is cut short to leave time for one more try.
                let left = limit.saturating_sub(started.elapsed());
                let wait = jittered(pause).min(left.saturating_sub(LAST_TRY));
                if left <= LAST_TRY {
                    return Err(ConnectError::Busy {
                        url: url(),
                        reason,
                        within: seconds(limit),
                        raise: setting,
                    });
                }
                std::thread::sleep(wait);
                pause = (pause * 2).min(LONGEST_PAUSE);
                busy = Some(reason);
            }
            other => break other,
        }
    };
    let (client, driver) = connected
        .map_err(|error| classify(&error, &resolved.target, resolved.config.get_password()))?;
    Ok(Link::new(runtime, client, driver, timeout, url()))
}

/// The time kept for a last try when the next pause would reach the limit.
const LAST_TRY: Duration = Duration::from_millis(100);

/// The first pause before asking a busy server again, and the longest.
const FIRST_PAUSE: Duration = Duration::from_millis(20);
const LONGEST_PAUSE: Duration = Duration::from_millis(1_000);

/// A random pause between half `pause` and all of it: machines refused at the same moment do
/// not all come back at the same moment.
fn jittered(pause: Duration) -> Duration {
    let half = pause / 2;
    half + half.mul_f64(rand::random::<f64>())
}

/// True for a refusal that passes by itself: the server is full or starting up (or shutting
/// down for a restart), or a pooler in front of it is full or cannot reach it yet.
fn transient(error: &tokio_postgres::Error) -> bool {
    let Some(db) = error.as_db_error() else {
        return false;
    };
    let code = db.code();
    *code == SqlState::TOO_MANY_CONNECTIONS
        || *code == SqlState::CANNOT_CONNECT_NOW
        || *code == SqlState::ADMIN_SHUTDOWN
        // PgBouncer answers its own refusals with a protocol-violation code.
        || (*code == SqlState::PROTOCOL_VIOLATION
            && ["no more connections allowed", "pgbouncer cannot connect to server"]
                .iter()
                .any(|phrase| db.message().contains(phrase)))
}

/// Connects and logs in; the connection is then driven by a task of the runtime's own.
async fn log_in<T>(
    config: &Config,
    tls: T,
) -> Result<(tokio_postgres::Client, tokio::task::JoinHandle<()>), tokio_postgres::Error>
where
    T: MakeTlsConnect<Socket> + 'static + Send,
    T::TlsConnect: Send,
    T::Stream: Send,
    <T::TlsConnect as TlsConnect<Socket>>::Future: Send,
{
    let (client, connection) = config.connect(tls).await?;
    // Its errors reach the client's requests (a closed connection); nothing else to do here.
    let driver = tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok((client, driver))
}

// ---------------------------------------------------------------------------------------------
// Naming what went wrong

fn classify(
    error: &tokio_postgres::Error,
    target: &Target,
    password: Option<&[u8]>,
) -> ConnectError {
    let url = target.url.clone();
    // Belt and braces: no message is known to echo the password, but none may.
    let tidy = |text: String| scrub(&text, password);
    if let Some(refusal) = error.as_db_error() {
        return classify_refusal(refusal, target, tidy);
    }
    let cause = tidy(cause_of(error));
    // tokio-postgres keeps its error kinds private; its Display is a fixed phrase per kind.
    let kind = error.to_string();
    if cause == "password missing" {
        // The server asked for a password and we had none (a configuration error to tokio-postgres).
        return ConnectError::AuthFailed {
            url,
            user: target.user.clone(),
            reason: "no password given: put it in the URL, PGPASSWORD or ~/.pgpass".to_owned(),
        };
    }
    match kind.as_str() {
        "error connecting to server" | "timeout waiting for server" => ConnectError::Unreachable {
            url,
            reason: io_cause(error).map_or(cause, |io| tidy(describe_io(io))),
        },
        "error performing TLS handshake" => ConnectError::Tls {
            url,
            reason: match cause.as_str() {
                "server does not support TLS" => "the server does not offer TLS".to_owned(),
                _ => certificate_problem(&cause).unwrap_or(cause),
            },
        },
        "authentication error" => ConnectError::AuthFailed {
            url,
            user: target.user.clone(),
            reason: format!("{cause}; {PASSWORD_HINT}"),
        },
        "invalid connection string" | "invalid configuration" => {
            ConnectError::BadUrl { url, reason: cause }
        }
        _ => ConnectError::Other { url, reason: cause },
    }
}

fn classify_refusal(
    refusal: &DbError,
    target: &Target,
    tidy: impl Fn(String) -> String,
) -> ConnectError {
    let url = target.url.clone();
    let code = refusal.code();
    if *code == SqlState::INVALID_PASSWORD {
        ConnectError::AuthFailed {
            url,
            user: target.user.clone(),
            reason: PASSWORD_HINT.to_owned(),
        }
    } else if *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
        && refusal.message().ends_with("no encryption")
    {
        // pg_hba.conf has a `hostssl`-only rule (or a `hostnossl … reject`) for this login.
        ConnectError::TlsRequired { url }
    } else if *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION {
        ConnectError::AuthFailed {
            url,
            user: target.user.clone(),
            reason: tidy(refusal.message().to_owned()),
        }
    } else if *code == SqlState::INVALID_CATALOG_NAME {
        ConnectError::NoDatabase {
            url,
            database: target.database.clone(),
        }
    } else {
        ConnectError::Other {
            url,
            reason: tidy(refusal.message().to_owned()),
        }
    }
}

/// The first cause under tokio-postgres's fixed phrase, or the phrase when there is none.
/// rustls's reason a server certificate was refused, in words and with what to do about it.
fn certificate_problem(cause: &str) -> Option<String> {
    let detail = cause.strip_prefix("invalid peer certificate: ")?;
    let what = if detail.contains("NotValidForName") {
        "the server's certificate is not for this host name (use the name it was issued for, or sslmode=verify-ca)"
    } else if detail.contains("Expired") {
        "the server's certificate has expired"
    } else if detail.contains("CaUsedAsEndEntity") || detail.contains("UnknownIssuer") {
        "the server's certificate is not signed by a trusted authority (give its CA with sslrootcert=FILE)"
    } else {
        return Some(format!("the server's certificate was refused ({detail})"));
    };
    Some(what.to_owned())
}

fn cause_of(error: &tokio_postgres::Error) -> String {
    error
        .source()
        .map_or_else(|| error.to_string(), |cause| cause.to_string())
}

fn io_cause(error: &tokio_postgres::Error) -> Option<&io::Error> {
    let mut cause = error.source();
    while let Some(current) = cause {
        if let Some(io) = current.downcast_ref::<io::Error>() {
            return Some(io);
        }
        cause = current.source();
    }
    None
}

fn describe_io(error: &io::Error) -> String {
    match error.kind() {
        io::ErrorKind::ConnectionRefused => "connection refused".to_owned(),
        io::ErrorKind::TimedOut => "no answer in time (connect_timeout)".to_owned(),
        io::ErrorKind::NotFound => "no server socket there".to_owned(),
        io::ErrorKind::HostUnreachable => "host unreachable".to_owned(),
        io::ErrorKind::NetworkUnreachable => "network unreachable".to_owned(),
        _ => error.to_string(),
    }
}

/// One line, without the password.
fn scrub(text: &str, password: Option<&[u8]>) -> String {
    let one_line = text.replace(['\r', '\n'], " ");
    match password.and_then(|password| std::str::from_utf8(password).ok()) {
        Some(password) if !password.is_empty() => one_line.replace(password, MASK),
        _ => one_line,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn refused_certificates_are_explained() {
        assert_eq!(
            certificate_problem("invalid peer certificate: Other(OtherError(CaUsedAsEndEntity))")
                .unwrap(),
            "the server's certificate is not signed by a trusted authority (give its CA with \
             sslrootcert=FILE)"
        );
        assert!(
            certificate_problem("invalid peer certificate: NotValidForName")
                .unwrap()
                .contains("not for this host name")
        );
        assert!(
            certificate_problem("invalid peer certificate: Expired")
                .unwrap()
                .contains("expired")
        );
        assert_eq!(certificate_problem("connection reset"), None);
    }

    use std::collections::HashMap;
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;
    use std::time::Instant;

    use super::tls::{Roots, Verification};
    use super::*;

    /// An environment with exactly these variables, no OS user and no default socket directory.
    fn env_of<'a>(variables: &'a HashMap<&'static str, String>) -> Environment<'a> {
        Environment {
            variable: Box::new(|name| variables.get(name).cloned()),
            os_user: None,
            socket_dir: None,
        }
    }

    fn vars(pairs: &[(&'static str, &str)]) -> HashMap<&'static str, String> {
        pairs.iter().map(|(k, v)| (*k, v.to_string())).collect()
    }

    fn resolved(url: &str, pairs: &[(&'static str, &str)]) -> Resolved {
        let variables = vars(pairs);
        match resolve(url, &env_of(&variables)) {
            Ok(resolved) => resolved,
            Err(error) => panic!("{url}: {error}"),
        }
    }

    pub(super) fn private_file(text: &str, mode: u32) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(text.as_bytes()).unwrap();
        std::fs::set_permissions(file.path(), std::fs::Permissions::from_mode(mode)).unwrap();
        file
    }

    #[test]
    fn a_schema_name_the_vaults_sql_cannot_quote_is_a_bad_url() {
        for schema in ["it%27s", "%22x%22", "a%0Ab", ""] {
            let url = format!("postgres://u@localhost/db?schema={schema}");
            let error = match resolve(&url, &env_of(&vars(&[]))) {
                Err(error) => error,
                Ok(_) => panic!("{url} was accepted"),
            };
            assert!(matches!(error, ConnectError::BadUrl { .. }), "{error}");
            assert!(error.to_string().contains("schema="), "{error}");
        }
        assert!(check_schema_name("tokens_vault.2").is_ok());
        assert!(check_schema_name(&"s".repeat(64)).is_err());
    }

    // --- resolving the TLS parameters

    #[test]
    fn resolve_reads_libpq_sslmodes_and_rejects_others() {
        let verify = resolved(
            "postgres://u@db/t?sslmode=verify-full&sslrootcert=system",
            &[],
        );
        assert_eq!(verify.config.get_ssl_mode(), WireSslMode::Require);
        assert_eq!(
            verify.tls.verification(),
            Verification::ChainAndHostname(Roots::System)
        );
        let from_env = resolved("postgres://u@db/t", &[("PGSSLMODE", "disable")]);
        assert_eq!(from_env.config.get_ssl_mode(), WireSslMode::Disable);
        let socket = resolved("postgres://u@%2Ftmp%2Fsock/t?sslmode=require", &[]);
        assert_eq!(socket.config.get_ssl_mode(), WireSslMode::Disable);

        let variables = vars(&[]);
        let error = resolve("postgres://u:pw@db/t?sslmode=verify", &env_of(&variables))
            .err()
            .unwrap();
        assert!(matches!(error, ConnectError::BadUrl { .. }));
        assert_eq!(
            error.to_string(),
            "postgres://u:***@db/t?sslmode=verify is not a valid vault URL: sslmode \"verify\" \
             is not one of disable, allow, prefer, require, verify-ca, verify-full"
        );
    }

    #[test]
    fn bad_urls_are_named_without_their_password() {
        let variables = vars(&[]);
        let error = resolve("postgres://u:hunter2@db:notaport/t", &env_of(&variables))
            .err()
            .unwrap();
        let message = error.to_string();
        assert!(matches!(error, ConnectError::BadUrl { .. }), "{message}");
        assert!(message.starts_with("postgres://u:***@db:notaport/t is not a valid vault URL: "));
        assert!(!message.contains("hunter2"), "{message}");
        let error = resolve("postgres://u:hunter2@db/t?nonsense=1", &env_of(&variables))
            .err()
            .unwrap();
        assert_eq!(
            error.to_string(),
            "postgres://u:***@db/t?nonsense=1 is not a valid vault URL: unknown option `nonsense`"
        );
    }

    // --- defaults

    #[test]
    fn an_empty_url_takes_libpq_defaults_from_the_environment() {
        let resolved = resolved(
            "postgres://",
            &[
                ("PGHOST", "db.example"),
                ("PGPORT", "6543"),
                ("PGUSER", "app"),
                ("PGDATABASE", "tokens"),
            ],
        );
        let config = &resolved.config;
        assert_eq!(config.get_hosts(), [Host::Tcp("db.example".to_owned())]);
        assert_eq!(config.get_ports(), [6543]);
        assert_eq!(config.get_user(), Some("app"));
        assert_eq!(config.get_dbname(), Some("tokens"));
        assert_eq!(config.get_application_name(), Some("tokens"));
        assert_eq!(config.get_connect_timeout(), None); // the vault's --timeout bounds it
        assert_eq!(resolved.connect_timeout, None);
        assert_eq!(config.get_ssl_mode(), WireSslMode::Prefer);
        assert_eq!(
            resolved.target,
            Target {
                url: "postgres://".to_owned(),
                user: "app".to_owned(),
                database: "tokens".to_owned(),
            }
        );
    }

    #[test]
    fn without_host_the_socket_dir_then_localhost_is_used() {
        let variables = vars(&[]);
        let mut env = env_of(&variables);
        env.os_user = Some("me".to_owned());
        env.socket_dir = Some(PathBuf::from("/var/run/postgresql"));
        let on_socket = resolve("postgres:///tokens", &env).ok().unwrap();
        assert_eq!(
            on_socket.config.get_hosts(),
            [Host::Unix(PathBuf::from("/var/run/postgresql"))]
        );
        assert_eq!(on_socket.config.get_ssl_mode(), WireSslMode::Disable);
        assert_eq!(on_socket.config.get_user(), Some("me"));

        env.socket_dir = None;
        let on_loopback = resolve("postgres:///tokens", &env).ok().unwrap();
        assert_eq!(
            on_loopback.config.get_hosts(),
            [Host::Tcp("localhost".to_owned())]
        );
    }

    #[test]
    fn a_socket_path_in_pghost_is_a_unix_socket() {
        let resolved = resolved("postgres://", &[("PGHOST", "/tmp/pg"), ("PGUSER", "u")]);
        assert_eq!(
            resolved.config.get_hosts(),
            [Host::Unix(PathBuf::from("/tmp/pg"))]
        );
    }

    #[test]
    fn the_database_defaults_to_the_user_name() {
        let variables = vars(&[]);
        let mut env = env_of(&variables);
        env.os_user = Some("me".to_owned());
        let resolved = resolve("postgres://db", &env).ok().unwrap();
        assert_eq!(resolved.config.get_dbname(), None); // the server picks it
        assert_eq!(resolved.target.user, "me");
        assert_eq!(resolved.target.database, "me");
    }

    #[test]
    fn the_url_wins_over_the_environment() {
        let resolved = resolved(
            "postgres://app@db:5433/tokens?application_name=mine&connect_timeout=3",
            &[
                ("PGHOST", "other"),
                ("PGPORT", "1"),
                ("PGUSER", "other"),
                ("PGDATABASE", "other"),
                ("PGAPPNAME", "other"),
            ],
        );
        let config = &resolved.config;
        assert_eq!(config.get_hosts(), [Host::Tcp("db".to_owned())]);
        assert_eq!(config.get_ports(), [5433]);
        assert_eq!(config.get_user(), Some("app"));
        assert_eq!(config.get_dbname(), Some("tokens"));
        assert_eq!(config.get_application_name(), Some("mine"));
        assert_eq!(config.get_connect_timeout(), Some(&Duration::from_secs(3)));
    }

    #[test]
    fn no_user_anywhere_is_a_bad_url() {
        let variables = vars(&[]);
        let error = resolve("postgres://db", &env_of(&variables)).err().unwrap();
        assert!(matches!(error, ConnectError::BadUrl { .. }), "{error}");
    }

    // --- passwords

    #[test]
    fn the_password_comes_from_the_url_then_pgpassword_then_pgpass() {
        let pgpass = private_file("db:5432:tokens:app:from-file\n", 0o600);
        let file = pgpass.path().to_str().unwrap();
        let password = |url: &str, pairs: &[(&'static str, &str)]| {
            resolved(url, pairs)
                .config
                .get_password()
                .map(<[u8]>::to_vec)
        };
        let url_password = password(
            "postgres://app:from%20url@db/tokens",
            &[("PGPASSWORD", "from-env"), ("PGPASSFILE", file)],
        );
        assert_eq!(url_password.as_deref(), Some(&b"from url"[..]));
        let env_password = password(
            "postgres://app@db/tokens",
            &[("PGPASSWORD", "from-env"), ("PGPASSFILE", file)],
        );
        assert_eq!(env_password.as_deref(), Some(&b"from-env"[..]));
        let file_password = password("postgres://app@db/tokens", &[("PGPASSFILE", file)]);
        assert_eq!(file_password.as_deref(), Some(&b"from-file"[..]));
        let no_match = password("postgres://app@db/other", &[("PGPASSFILE", file)]);
        assert_eq!(no_match, None);
    }

    #[test]
    fn the_pgpass_file_defaults_to_home() {
        let home = tempfile::tempdir().unwrap();
        let path = home.path().join(".pgpass");
        std::fs::write(&path, "*:*:*:*:home-pw\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let resolved = resolved(
            "postgres://app@db/tokens",
            &[("HOME", home.path().to_str().unwrap())],
        );
        assert_eq!(resolved.config.get_password(), Some(&b"home-pw"[..]));
    }

    // --- messages

    #[test]
    fn pauses_before_asking_a_busy_server_again_are_jittered_within_half() {
        let pause = Duration::from_millis(100);
        let pauses: Vec<Duration> = (0..50).map(|_| jittered(pause)).collect();
        assert!(pauses.iter().all(|p| *p >= pause / 2 && *p <= pause));
        assert!(pauses.iter().any(|p| *p != pauses[0]), "not random");
    }

    #[test]
    fn scrub_keeps_one_line_without_the_password() {
        assert_eq!(scrub("a\nb hunter2 c", Some(b"hunter2")), "a b *** c");
        assert_eq!(scrub("a", Some(b"")), "a");
        assert_eq!(scrub("a", None), "a");
    }

    #[test]
    fn messages_are_one_human_line() {
        let url = "postgres://app:***@db:5432/tokens".to_owned();
        let unreachable = ConnectError::Unreachable {
            url: url.clone(),
            reason: "connection refused".to_owned(),
        };
        assert_eq!(
            unreachable.to_string(),
            "cannot reach the vault at postgres://app:***@db:5432/tokens: connection refused"
        );
        let auth = ConnectError::AuthFailed {
            url: url.clone(),
            user: "app".to_owned(),
            reason: PASSWORD_HINT.to_owned(),
        };
        assert_eq!(
            auth.to_string(),
            "the vault at postgres://app:***@db:5432/tokens refused the login for user \"app\" \
             (check the password in the URL, PGPASSWORD or ~/.pgpass)"
        );
        let missing = ConnectError::NoDatabase {
            url,
            database: "x".to_owned(),
        };
        assert_eq!(
            missing.to_string(),
            "database \"x\" does not exist at postgres://app:***@db:5432/tokens"
        );
    }

    // --- against a real server (TOKENS_TEST_POSTGRES=postgres://admin:pw@host:port/db)

    /// The admin URL, or `None` (and a note) when no test server is configured.
    fn test_server(test: &str) -> Option<String> {
        let url = std::env::var("TOKENS_TEST_POSTGRES_DIRECT")
            .or_else(|_| std::env::var("TOKENS_TEST_POSTGRES"))
            .ok()
            .filter(|url| !url.is_empty());
        if url.is_none() {
            eprintln!("skipped: {test} needs TOKENS_TEST_POSTGRES (an admin URL)");
        }
        url
    }

    /// The admin URL with another password (or none), database and query (`?…`).
    fn variant(admin: &str, password: Option<&str>, database: Option<&str>, query: &str) -> String {
        let config = Config::from_str(admin).unwrap();
        let host = match &config.get_hosts()[0] {
            Host::Tcp(name) => name.clone(),
            Host::Unix(path) => path.display().to_string().replace('/', "%2F"),
        };
        let user = config.get_user().unwrap();
        let credentials = match password {
            Some(password) => format!("{user}:{password}"),
            None => user.to_owned(),
        };
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let database = database.or(config.get_dbname()).unwrap_or("postgres");
        format!("postgres://{credentials}@{host}:{port}/{database}{query}")
    }

    fn admin_password(admin: &str) -> String {
        let config = Config::from_str(admin).unwrap();
        String::from_utf8(config.get_password().unwrap().to_vec()).unwrap()
    }

    fn uses_tls(link: &Link) -> bool {
        let rows = link
            .query(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                &[],
            )
            .unwrap();
        rows[0].get(0)
    }

    const TIMEOUT: Duration = Duration::from_secs(10);

    fn connected(url: &str) -> Link {
        connect(url, TIMEOUT).unwrap_or_else(|error| panic!("{error}"))
    }

    #[test]
    fn server_accepts_the_admin_url() {
        let Some(admin) = test_server("server_accepts_the_admin_url") else {
            return;
        };
        let link = connected(&admin);
        let one: i32 = link.query("SELECT 1", &[]).unwrap()[0].get(0);
        assert_eq!(one, 1);
        let name: String = link
            .query("SELECT current_setting('application_name')", &[])
            .unwrap()[0]
            .get(0);
        assert_eq!(name, "tokens");
    }

    #[test]
    fn server_encrypts_with_sslmode_require_and_not_with_disable() {
        let Some(admin) = test_server("server_encrypts_with_sslmode_require") else {
            return;
        };
        let password = admin_password(&admin);
        let required = variant(&admin, Some(&password), None, "?sslmode=require");
        assert!(uses_tls(&connected(&required)));
        let disabled = variant(&admin, Some(&password), None, "?sslmode=disable");
        assert!(!uses_tls(&connected(&disabled)));
    }

    #[test]
    fn server_with_an_unknown_certificate_fails_verify_full() {
        let Some(admin) = test_server("server_with_an_unknown_certificate_fails_verify_full")
        else {
            return;
        };
        let password = admin_password(&admin);
        let url = variant(&admin, Some(&password), None, "?sslmode=verify-full");
        let error = connect(&url, TIMEOUT).err().unwrap();
        let message = error.to_string();
        assert!(matches!(error, ConnectError::Tls { .. }), "{message}");
        assert!(
            message.starts_with("TLS with the vault at postgres://"),
            "{message}"
        );
        assert!(!message.contains(&password), "{message}");
    }

    #[test]
    fn server_certificate_given_as_sslrootcert_passes_verify_ca() {
        let Some(admin) = test_server("server_certificate_given_as_sslrootcert_passes_verify_ca")
        else {
            return;
        };
        // .ci/postgres leaves its self-signed certificate in the cluster's data directory.
        let certificate = std::env::var("TOKENS_TEST_POSTGRES_SOCKET")
            .map(|dir| Path::new(&dir).join("data/server.crt"))
            .ok()
            .filter(|path| std::fs::read(path).is_ok());
        let Some(certificate) = certificate else {
            eprintln!("skipped: needs a readable $TOKENS_TEST_POSTGRES_SOCKET/data/server.crt");
            return;
        };
        let password = admin_password(&admin);
        let root = certificate.display().to_string().replace('/', "%2F");
        let url = variant(
            &admin,
            Some(&password),
            None,
            &format!("?sslmode=verify-ca&sslrootcert={root}"),
        );
        assert!(uses_tls(&connected(&url)));
        let missing = variant(
            &admin,
            Some(&password),
            None,
            "?sslmode=verify-ca&sslrootcert=%2Fnonexistent.pem",
        );
        let error = connect(&missing, TIMEOUT).err().unwrap();
        assert!(matches!(error, ConnectError::Tls { .. }), "{error}");
    }

    #[test]
    fn server_demanding_tls_is_named() {
        let Some(admin) = test_server("server_demanding_tls_is_named") else {
            return;
        };
        // .ci/postgres's pg_hba.conf rejects plain connections for the role `tls_only`, before
        // it asks whether the role exists.
        let config = Config::from_str(&admin).unwrap();
        let Host::Tcp(host) = &config.get_hosts()[0] else {
            panic!("the test server URL names a TCP host");
        };
        let url = format!(
            "postgres://tls_only:pw@{host}:{}/postgres?sslmode=disable",
            config.get_ports()[0]
        );
        let error = connect(&url, TIMEOUT).err().unwrap();
        assert!(matches!(error, ConnectError::TlsRequired { .. }), "{error}");
        assert_eq!(
            error.to_string(),
            format!(
                "the vault at {} requires TLS (use sslmode=require rather than sslmode=disable)",
                redact(&url)
            )
        );
    }

    #[test]
    fn server_refuses_a_wrong_password_without_echoing_it() {
        let Some(admin) = test_server("server_refuses_a_wrong_password_without_echoing_it") else {
            return;
        };
        let url = variant(&admin, Some("wrong-pass-7f3a"), None, "");
        let error = connect(&url, TIMEOUT).err().unwrap();
        let message = error.to_string();
        assert!(
            matches!(error, ConnectError::AuthFailed { .. }),
            "{message}"
        );
        assert!(!message.contains("wrong-pass-7f3a"), "{message}");
        assert!(!message.contains(&admin_password(&admin)), "{message}");
        assert!(!format!("{error:?}").contains("wrong-pass-7f3a"));
        assert!(message.contains(":***@"), "{message}");
        assert!(message.contains("refused the login for user"), "{message}");
    }

    #[test]
    fn server_without_the_database_says_so() {
        let Some(admin) = test_server("server_without_the_database_says_so") else {
            return;
        };
        let password = admin_password(&admin);
        let url = variant(&admin, Some(&password), Some("no_such_vault_db"), "");
        let error = connect(&url, TIMEOUT).err().unwrap();
        let message = error.to_string();
        assert!(
            matches!(error, ConnectError::NoDatabase { .. }),
            "{message}"
        );
        assert!(message.starts_with("database \"no_such_vault_db\" does not exist at postgres://"));
        assert!(!message.contains(&password), "{message}");
    }

    #[test]
    fn server_login_takes_the_password_from_pgpass() {
        let Some(admin) = test_server("server_login_takes_the_password_from_pgpass") else {
            return;
        };
        let config = Config::from_str(&admin).unwrap();
        let Host::Tcp(host) = &config.get_hosts()[0] else {
            panic!("the test server URL names a TCP host");
        };
        let port = config.get_ports()[0];
        let user = config.get_user().unwrap();
        let password = admin_password(&admin);
        let pgpass = private_file(
            &format!("# the test server\n{host}:{port}:*:{user}:{password}\n"),
            0o600,
        );
        let url = variant(&admin, None, None, "");
        let variables = vars(&[("PGPASSFILE", pgpass.path().to_str().unwrap())]);
        let resolved = resolve(&url, &env_of(&variables)).ok().unwrap();
        let link = open(&resolved, TIMEOUT).unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(link.query("SELECT 1", &[]).unwrap()[0].get::<_, i32>(0), 1);

        // With no password anywhere the server's demand for one is named.
        let nothing = vars(&[]);
        let resolved = resolve(&url, &env_of(&nothing)).ok().unwrap();
        let error = open(&resolved, TIMEOUT).err().unwrap();
        assert!(matches!(error, ConnectError::AuthFailed { .. }), "{error}");
        let expected = format!(
            "refused the login for user \"{user}\" (no password given: put it in the URL, \
             PGPASSWORD or ~/.pgpass)"
        );
        assert!(error.to_string().ends_with(&expected), "{error}");
    }

    #[test]
    fn server_socket_ignores_sslmode_require() {
        let Some(admin) = test_server("server_socket_ignores_sslmode_require") else {
            return;
        };
        let Ok(dir) = std::env::var("TOKENS_TEST_POSTGRES_SOCKET") else {
            eprintln!("skipped: needs TOKENS_TEST_POSTGRES_SOCKET (the server's socket dir)");
            return;
        };
        let config = Config::from_str(&admin).unwrap();
        let text = format!(
            "host={dir} port={} user={} password='{}' dbname=postgres sslmode=require",
            config.get_ports()[0],
            config.get_user().unwrap(),
            admin_password(&admin).replace('\'', "\\'"),
        );
        assert!(!uses_tls(&connected(&text)));
    }

    #[test]
    fn server_on_a_closed_port_is_unreachable_at_once() {
        if test_server("server_on_a_closed_port_is_unreachable_at_once").is_none() {
            return;
        }
        let started = Instant::now();
        let error = connect("postgres://app:hunter2@127.0.0.1:1/tokens", TIMEOUT)
            .err()
            .unwrap();
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(
            error.to_string(),
            "cannot reach the vault at postgres://app:***@127.0.0.1:1/tokens: connection refused"
        );
        assert!(matches!(error, ConnectError::Unreachable { .. }));
    }
}
