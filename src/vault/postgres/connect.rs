//! Turning a vault URL (`postgres://…`) into a connected [`postgres::Client`], the way libpq would.
//!
//! tokio-postgres parses the URL but leaves out much that libpq users rely on: defaults from the
//! `PG*` variables, the pgpass file, and the `verify-ca`/`verify-full` TLS modes. This module fills
//! those in, and names every failure in one line that shows the URL without its password.

use std::error::Error as _;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use postgres::config::{Host, SslMode as WireSslMode};
use postgres::error::{DbError, SqlState};
use postgres::{Client, Config, NoTls};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio_postgres_rustls::MakeRustlsConnect;
use zeroize::Zeroizing;

const URL_SCHEMES: [&str; 2] = ["postgres://", "postgresql://"];
const MASK: &str = "***";
const APPLICATION_NAME: &str = "tokens";
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Where Debian's (and so most Linux hosts') server puts its socket; libpq's compiled-in default.
const SOCKET_DIR: &str = "/var/run/postgresql";
const PASSWORD_HINT: &str = "check the password in the URL, PGPASSWORD or ~/.pgpass";

/// True for `postgres://` / `postgresql://` locations.
pub fn is_postgres_url(location: &str) -> bool {
    split_scheme(location).is_some()
}

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

/// Connects. Errors are one line, never contain the password, and name the redacted URL.
pub fn connect(url: &str) -> Result<Client, ConnectError> {
    let resolved = resolve(url, &Environment::of_process())?;
    open(&resolved)
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
}

// ---------------------------------------------------------------------------------------------
// Redaction

fn split_scheme(url: &str) -> Option<(&'static str, &str)> {
    URL_SCHEMES
        .iter()
        .find_map(|scheme| url.strip_prefix(scheme).map(|body| (*scheme, body)))
}

fn redact_url_body(body: &str) -> String {
    let query_at = body.find('?').unwrap_or(body.len());
    // tokio-postgres ends the user info at the first `@`; a raw `@` inside a password is a
    // mistake it reads differently, so mask up to the last `@` before the query: that hides the
    // password as parsed and as meant.
    let userinfo_end = body[..query_at].rfind('@').or_else(|| body.find('@'));
    let mut shown = String::with_capacity(body.len());
    let after_userinfo = match userinfo_end {
        Some(at) => {
            match body[..at].split_once(':') {
                Some((user, password)) if !password.is_empty() => {
                    shown.push_str(user);
                    shown.push(':');
                    shown.push_str(MASK);
                }
                _ => shown.push_str(&body[..at]),
            }
            shown.push('@');
            at + 1
        }
        None => 0,
    };
    let rest = &body[after_userinfo..];
    match rest.split_once('?') {
        Some((location, query)) => {
            shown.push_str(location);
            shown.push('?');
            shown.push_str(&redact_query(query));
        }
        None => shown.push_str(rest),
    }
    shown
}

fn redact_query(query: &str) -> String {
    let params: Vec<String> = query_params(query)
        .into_iter()
        .map(|param| match param.value {
            Some(value) if is_secret_key(param.key) && !value.is_empty() => {
                format!("{}={MASK}", param.key)
            }
            _ => param.raw.to_owned(),
        })
        .collect();
    params.join("&")
}

fn redact_key_values(text: &str) -> String {
    let scan = scan_key_values(text);
    let mut shown = String::with_capacity(text.len());
    let mut copied = 0;
    for pair in scan.pairs.iter().filter(|pair| is_secret_key(pair.key)) {
        shown.push_str(&text[copied..pair.value_start]);
        shown.push_str(MASK);
        copied = pair.end;
    }
    match scan.unparsed_from {
        // What the scanner could not read may still hold a password: hide all of it.
        Some(at) if is_secret_key(&text[at..]) => {
            shown.push_str(&text[copied..at]);
            shown.push_str(MASK);
        }
        _ => shown.push_str(&text[copied..]),
    }
    shown
}

/// `password`, and libpq's `sslpassword` (for a client key) too.
fn is_secret_key(key: &str) -> bool {
    let key = percent_decode(key).unwrap_or_else(|_| key.to_owned());
    key.to_ascii_lowercase().contains("password")
}

// ---------------------------------------------------------------------------------------------
// Reading connection strings the way tokio-postgres does

/// One `key=value` of a URL's query, split as tokio-postgres splits it (key up to the next `=`,
/// value up to the next `&`), still percent-encoded.
struct QueryParam<'a> {
    key: &'a str,
    value: Option<&'a str>,
    raw: &'a str,
}

fn query_params(query: &str) -> Vec<QueryParam<'_>> {
    let mut params = Vec::new();
    let mut rest = query;
    while !rest.is_empty() {
        let Some(equals) = rest.find('=') else {
            params.push(QueryParam {
                key: rest,
                value: None,
                raw: rest,
            });
            break;
        };
        let end = rest[equals + 1..]
            .find('&')
            .map_or(rest.len(), |at| equals + 1 + at);
        params.push(QueryParam {
            key: &rest[..equals],
            value: Some(&rest[equals + 1..end]),
            raw: &rest[..end],
        });
        rest = rest.get(end + 1..).unwrap_or("");
    }
    params
}

/// One `key = value` of a libpq key/value string, with byte offsets into it.
struct KeyValue<'a> {
    key: &'a str,
    value: Zeroizing<String>,
    start: usize,
    value_start: usize,
    end: usize,
}

struct KeyValueScan<'a> {
    pairs: Vec<KeyValue<'a>>,
    /// Where the text stopped making sense (tokio-postgres would reject or ignore the rest).
    unparsed_from: Option<usize>,
}

fn scan_key_values(text: &str) -> KeyValueScan<'_> {
    let mut pairs = Vec::new();
    let mut at = 0;
    loop {
        at = skip_whitespace(text, at);
        if at == text.len() {
            return KeyValueScan {
                pairs,
                unparsed_from: None,
            };
        }
        match scan_key_value(text, at) {
            Some(pair) => {
                at = pair.end;
                pairs.push(pair);
            }
            None => {
                return KeyValueScan {
                    pairs,
                    unparsed_from: Some(at),
                };
            }
        }
    }
}

fn skip_whitespace(text: &str, from: usize) -> usize {
    text[from..]
        .find(|c: char| !c.is_whitespace())
        .map_or(text.len(), |at| from + at)
}

/// Mirrors tokio-postgres's parser: `key = value` or `key = 'quoted value'`, `\` escaping.
fn scan_key_value(text: &str, start: usize) -> Option<KeyValue<'_>> {
    let key_end = text[start..]
        .find(|c: char| c.is_whitespace() || c == '=')
        .map_or(text.len(), |at| start + at);
    let key = &text[start..key_end];
    let equals = skip_whitespace(text, key_end);
    if key.is_empty() || !text[equals..].starts_with('=') {
        return None;
    }
    let value_start = skip_whitespace(text, equals + 1);
    let quoted = text[value_start..].starts_with('\'');
    let mut value = Zeroizing::new(String::new());
    let mut chars = text[value_start..].char_indices().skip(usize::from(quoted));
    let mut end = None;
    while let Some((at, c)) = chars.next() {
        match c {
            '\\' => {
                if let Some((_, escaped)) = chars.next() {
                    value.push(escaped);
                }
            }
            '\'' if quoted => {
                end = Some(value_start + at + 1);
                break;
            }
            c if !quoted && c.is_whitespace() => {
                end = Some(value_start + at);
                break;
            }
            c => value.push(c),
        }
    }
    let end = match end {
        Some(end) => end,
        None if !quoted => text.len(),
        None => return None,
    };
    if !quoted && value.is_empty() {
        return None;
    }
    Some(KeyValue {
        key,
        value,
        start,
        value_start,
        end,
    })
}

/// `%XX` decoding as tokio-postgres does it: a `%` not followed by two hex digits stays.
fn percent_decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        let hex = bytes
            .get(at + 1..at + 3)
            .filter(|digits| bytes[at] == b'%' && digits.iter().all(u8::is_ascii_hexdigit))
            .and_then(|digits| std::str::from_utf8(digits).ok())
            .and_then(|digits| u8::from_str_radix(digits, 16).ok());
        match hex {
            Some(byte) => {
                decoded.push(byte);
                at += 3;
            }
            None => {
                decoded.push(bytes[at]);
                at += 1;
            }
        }
    }
    String::from_utf8(decoded).map_err(|_| format!("`{text}` is not UTF-8 once decoded"))
}

// ---------------------------------------------------------------------------------------------
// The TLS parameters tokio-postgres does not know

/// `sslmode` and `sslrootcert` as written, taken out before tokio-postgres parses the rest
/// (it rejects `sslrootcert` and the `verify-*` modes).
#[derive(Debug, Default, PartialEq)]
struct TlsParams {
    sslmode: Option<String>,
    sslrootcert: Option<String>,
}

impl TlsParams {
    /// The slot for `key`, if it is one of ours.
    fn slot(&mut self, key: &str) -> Option<&mut Option<String>> {
        match key {
            "sslmode" => Some(&mut self.sslmode),
            "sslrootcert" => Some(&mut self.sslrootcert),
            _ => None,
        }
    }
}

/// Splits a connection string into what tokio-postgres can parse and the TLS parameters.
fn split_tls_params(url: &str) -> Result<(Zeroizing<String>, TlsParams), String> {
    match split_scheme(url) {
        Some((scheme, body)) => split_url_tls_params(scheme, body),
        None => Ok(split_key_value_tls_params(url)),
    }
}

fn split_url_tls_params(
    scheme: &str,
    body: &str,
) -> Result<(Zeroizing<String>, TlsParams), String> {
    // Where tokio-postgres's query starts: the first `?` after the user info (first `@`).
    let after_userinfo = body.find('@').map_or(0, |at| at + 1);
    let mut params = TlsParams::default();
    let Some(query_at) = body[after_userinfo..]
        .find('?')
        .map(|at| after_userinfo + at)
    else {
        return Ok((Zeroizing::new(format!("{scheme}{body}")), params));
    };
    let mut kept = Zeroizing::new(format!("{scheme}{}", &body[..query_at]));
    let mut separator = '?';
    for param in query_params(&body[query_at + 1..]) {
        let key = percent_decode(param.key)?;
        match (params.slot(&key), param.value) {
            (Some(slot), Some(value)) => *slot = Some(percent_decode(value)?),
            _ => {
                kept.push(separator);
                kept.push_str(param.raw);
                separator = '&';
            }
        }
    }
    Ok((kept, params))
}

fn split_key_value_tls_params(text: &str) -> (Zeroizing<String>, TlsParams) {
    let scan = scan_key_values(text);
    let mut params = TlsParams::default();
    let mut kept = Zeroizing::new(String::with_capacity(text.len()));
    let mut keep = |piece: &str| {
        if !kept.is_empty() {
            kept.push(' ');
        }
        kept.push_str(piece);
    };
    for pair in &scan.pairs {
        match params.slot(pair.key) {
            Some(slot) => *slot = Some(pair.value.to_string()),
            None => keep(&text[pair.start..pair.end]),
        }
    }
    if let Some(at) = scan.unparsed_from {
        keep(&text[at..]); // left for tokio-postgres to report
    }
    (kept, params)
}

/// libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SslMode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(name: &str) -> Result<SslMode, String> {
        Ok(match name {
            "disable" => SslMode::Disable,
            "allow" => SslMode::Allow,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => {
                return Err(format!(
                    "sslmode \"{name}\" is not one of disable, allow, prefer, require, verify-ca, verify-full"
                ));
            }
        })
    }
}

/// Where trusted root certificates come from (`sslrootcert=FILE`, or `system`).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Roots {
    File(PathBuf),
    System,
}

#[derive(Debug, PartialEq)]
struct TlsPolicy {
    mode: SslMode,
    roots: Option<Roots>,
}

/// How much of the server's certificate is checked.
#[derive(Debug, PartialEq)]
enum Verification {
    /// Encrypted, not authenticated.
    Nothing,
    Chain(Roots),
    ChainAndHostname(Roots),
}

impl TlsPolicy {
    fn from_params(params: TlsParams, env: &Environment) -> Result<TlsPolicy, String> {
        let mode = match params.sslmode.or_else(|| env.var("PGSSLMODE")) {
            Some(name) => SslMode::parse(&name)?,
            None => SslMode::Prefer,
        };
        let roots =
            params
                .sslrootcert
                .or_else(|| env.var("PGSSLROOTCERT"))
                .map(|value| match value.as_str() {
                    "system" => Roots::System,
                    _ => Roots::File(PathBuf::from(value)),
                });
        Ok(TlsPolicy { mode, roots })
    }

    /// libpq's rules: `require` (and `prefer`) check the chain only when a root certificate is
    /// given; `verify-ca` always checks it; `verify-full` adds the host name.
    fn verification(&self) -> Verification {
        let given_or_system = || self.roots.clone().unwrap_or(Roots::System);
        match self.mode {
            SslMode::VerifyFull => Verification::ChainAndHostname(given_or_system()),
            SslMode::VerifyCa => Verification::Chain(given_or_system()),
            _ => self
                .roots
                .clone()
                .map_or(Verification::Nothing, Verification::Chain),
        }
    }

    /// What tokio-postgres is told. It has no `allow` (try plain first): `prefer` is as lenient
    /// and safer. Unix sockets never carry TLS, and libpq ignores sslmode there.
    fn wire_mode(&self, only_unix_sockets: bool) -> WireSslMode {
        match self.mode {
            _ if only_unix_sockets => WireSslMode::Disable,
            SslMode::Disable => WireSslMode::Disable,
            SslMode::Allow | SslMode::Prefer => WireSslMode::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => WireSslMode::Require,
        }
    }
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
}

fn resolve(url: &str, env: &Environment) -> Result<Resolved, ConnectError> {
    let shown = redact(url);
    let bad_url = |reason: String| ConnectError::BadUrl {
        url: shown.clone(),
        reason,
    };
    let (parseable, tls_params) = split_tls_params(url).map_err(bad_url)?;
    let mut config = Config::from_str(&parseable).map_err(|error| bad_url(cause_of(&error)))?;
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
    })
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
    if config.get_connect_timeout().is_none() {
        let seconds = env.var("PGCONNECT_TIMEOUT").and_then(|s| s.parse().ok());
        config.connect_timeout(seconds.map_or(CONNECT_TIMEOUT, Duration::from_secs));
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

/// The file's text, or nothing when it is missing, not a plain file, or open to group or others:
/// libpq ignores such a pgpass file too.
fn read_private_file(path: &Path) -> Option<Zeroizing<String>> {
    let metadata = std::fs::metadata(path).ok()?;
    if !metadata.is_file() || metadata.mode() & 0o077 != 0 {
        return None;
    }
    std::fs::read_to_string(path).ok().map(Zeroizing::new)
}

/// The connection a pgpass line must match.
#[derive(Debug, PartialEq)]
struct PgpassQuery {
    /// Names the host may go by: a Unix socket matches `localhost` (as in libpq) or its path.
    hosts: Vec<String>,
    port: String,
    database: String,
    user: String,
}

impl PgpassQuery {
    /// For the first host: tokio-postgres holds one password for all of them.
    fn for_config(config: &Config) -> PgpassQuery {
        let hosts = match (config.get_hosts().first(), config.get_hostaddrs().first()) {
            (Some(Host::Tcp(name)), _) => vec![name.clone()],
            (Some(Host::Unix(path)), _) => {
                vec!["localhost".to_owned(), path.display().to_string()]
            }
            (None, Some(address)) => vec![address.to_string()],
            (None, None) => vec!["localhost".to_owned()],
        };
        let user = config.get_user().unwrap_or_default().to_owned();
        PgpassQuery {
            hosts,
            port: config.get_ports().first().unwrap_or(&5432).to_string(),
            database: config.get_dbname().unwrap_or(&user).to_owned(),
            user,
        }
    }
}

/// libpq's rule: the first line that matches wins.
fn find_pgpass_password(text: &str, query: &PgpassQuery) -> Option<Zeroizing<String>> {
    text.lines()
        .filter_map(PgpassLine::parse)
        .find(|line| line.matches(query))
        .map(|line| line.password)
}

#[derive(Debug, PartialEq)]
enum PgpassField {
    Any,
    Exactly(String),
}

impl PgpassField {
    fn accepts(&self, value: &str) -> bool {
        match self {
            PgpassField::Any => true,
            PgpassField::Exactly(expected) => expected == value,
        }
    }
}

/// `hostname:port:database:username:password`, `*` for any, `\:` and `\\` escapes.
struct PgpassLine {
    host: PgpassField,
    port: PgpassField,
    database: PgpassField,
    user: PgpassField,
    password: Zeroizing<String>,
}

impl PgpassLine {
    fn parse(line: &str) -> Option<PgpassLine> {
        if line.starts_with('#') {
            return None;
        }
        let mut fields = Vec::with_capacity(4);
        let mut current = Zeroizing::new(String::new());
        let mut field_start = 0;
        let mut chars = line.char_indices();
        while let Some((at, c)) = chars.next() {
            match c {
                // libpq keeps a trailing lone backslash.
                '\\' => current.push(chars.next().map_or('\\', |(_, escaped)| escaped)),
                ':' if fields.len() < 4 => {
                    let value = std::mem::take(&mut *current);
                    fields.push(match &line[field_start..at] {
                        "*" => PgpassField::Any, // only an unescaped `*` is a wildcard
                        _ => PgpassField::Exactly(value),
                    });
                    field_start = at + 1;
                }
                c => current.push(c),
            }
        }
        let [host, port, database, user] = <[PgpassField; 4]>::try_from(fields).ok()?;
        Some(PgpassLine {
            host,
            port,
            database,
            user,
            password: current,
        })
    }

    fn matches(&self, query: &PgpassQuery) -> bool {
        query.hosts.iter().any(|host| self.host.accepts(host))
            && self.port.accepts(&query.port)
            && self.database.accepts(&query.database)
            && self.user.accepts(&query.user)
    }
}

// ---------------------------------------------------------------------------------------------
// Connecting, with TLS as libpq's sslmode asks

fn open(resolved: &Resolved) -> Result<Client, ConnectError> {
    let connected = if resolved.config.get_ssl_mode() == WireSslMode::Disable {
        resolved.config.connect(NoTls)
    } else {
        let connector =
            tls_connector(resolved.tls.verification()).map_err(|reason| ConnectError::Tls {
                url: resolved.target.url.clone(),
                reason,
            })?;
        resolved.config.connect(connector)
    };
    connected.map_err(|error| classify(&error, &resolved.target, resolved.config.get_password()))
}

fn tls_connector(verification: Verification) -> Result<MakeRustlsConnect, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|error| error.to_string())?;
    let config = match verification {
        Verification::Nothing => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate { provider })),
        Verification::Chain(roots) => {
            let trusted = load_roots(&roots)?;
            let chain =
                WebPkiServerVerifier::builder_with_provider(Arc::new(trusted.store), provider)
                    .build()
                    .map_err(|error| error.to_string())?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(ChainOnly {
                    chain,
                    roots: trusted.certificates,
                }))
        }
        Verification::ChainAndHostname(roots) => {
            builder.with_root_certificates(load_roots(&roots)?.store)
        }
    };
    Ok(MakeRustlsConnect::new(config.with_no_client_auth()))
}

struct TrustedRoots {
    store: RootCertStore,
    certificates: Vec<CertificateDer<'static>>,
}

fn load_roots(roots: &Roots) -> Result<TrustedRoots, String> {
    let certificates: Vec<CertificateDer<'static>> = match roots {
        Roots::File(path) => CertificateDer::pem_file_iter(path)
            .and_then(|certificates| certificates.collect())
            .map_err(|error| {
                format!(
                    "cannot read the root certificate {}: {error}",
                    path.display()
                )
            })?,
        Roots::System => rustls_native_certs::load_native_certs().certs,
    };
    let mut store = RootCertStore::empty();
    let (added, _unusable) = store.add_parsable_certificates(certificates.iter().cloned());
    if added == 0 {
        return Err(match roots {
            Roots::File(path) => format!("no usable certificate in {}", path.display()),
            Roots::System => "no system root certificates found".to_owned(),
        });
    }
    Ok(TrustedRoots {
        store,
        certificates,
    })
}

/// Accepts any certificate (libpq's `prefer` and `require` without a root certificate:
/// encrypted, not authenticated), but still checks that the server holds the certificate's key.
#[derive(Debug)]
struct AnyCertificate {
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Checks the chain against the roots but not the host name (`verify-ca`, or `require` with a
/// root certificate). A self-signed server certificate that is itself in the roots file passes,
/// as it does with OpenSSL and so libpq (webpki alone refuses a CA certificate as a server's).
#[derive(Debug)]
struct ChainOnly {
    chain: Arc<WebPkiServerVerifier>,
    roots: Vec<CertificateDer<'static>>,
}

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verified = self.chain.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        );
        match verified {
            // webpki checks the name only once the chain is good.
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            Err(_) if self.roots.iter().any(|root| root == end_entity) => {
                Ok(ServerCertVerified::assertion())
            }
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.chain.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.chain.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.chain.supported_verify_schemes()
    }
}

// ---------------------------------------------------------------------------------------------
// Naming what went wrong

fn classify(error: &postgres::Error, target: &Target, password: Option<&[u8]>) -> ConnectError {
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
                _ => cause,
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
fn cause_of(error: &postgres::Error) -> String {
    error
        .source()
        .map_or_else(|| error.to_string(), |cause| cause.to_string())
}

fn io_cause(error: &postgres::Error) -> Option<&io::Error> {
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
    use std::collections::HashMap;
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;
    use std::time::Instant;

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

    fn private_file(text: &str, mode: u32) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(text.as_bytes()).unwrap();
        std::fs::set_permissions(file.path(), std::fs::Permissions::from_mode(mode)).unwrap();
        file
    }

    // --- is_postgres_url and redact

    #[test]
    fn postgres_urls_are_recognised_by_scheme() {
        assert!(is_postgres_url("postgres://db/tokens"));
        assert!(is_postgres_url("postgresql://db/tokens"));
        assert!(!is_postgres_url("/home/me/vault.db"));
        assert!(!is_postgres_url("postgres:/db"));
        assert!(!is_postgres_url("mysql://db/tokens"));
    }

    #[test]
    fn redact_masks_the_password_in_the_user_info() {
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/tokens?sslmode=require"),
            "postgres://app:***@db:5432/tokens?sslmode=require"
        );
        assert_eq!(
            redact("postgresql://app:s3cret@db/tokens"),
            "postgresql://app:***@db/tokens"
        );
    }

    #[test]
    fn redact_keeps_urls_without_a_password() {
        for url in [
            "postgres://app@db:5432/tokens",
            "postgres://db/tokens?application_name=x",
            "postgres://",
            "postgres://app:@db/tokens",
            "postgres://%2Fvar%2Frun%2Fpostgresql/tokens",
        ] {
            assert_eq!(redact(url), url);
        }
    }

    #[test]
    fn redact_masks_password_parameters() {
        assert_eq!(
            redact("postgres://db/tokens?user=app&password=s3cret&sslmode=require"),
            "postgres://db/tokens?user=app&password=***&sslmode=require"
        );
        assert_eq!(
            redact("postgres://db/tokens?pass%77ord=s3cret"),
            "postgres://db/tokens?pass%77ord=***"
        );
        assert_eq!(
            redact("postgres://db/t?sslpassword=keypass"),
            "postgres://db/t?sslpassword=***"
        );
    }

    #[test]
    fn redact_keeps_percent_encoding_and_hides_encoded_passwords() {
        assert_eq!(
            redact("postgres://a%40pp:p%40ss%3Aw%2Fd@db%2Dhost:5432/to%20kens"),
            "postgres://a%40pp:***@db%2Dhost:5432/to%20kens"
        );
    }

    #[test]
    fn redact_hides_a_password_with_raw_at_or_question_mark() {
        assert_eq!(
            redact("postgres://app:p@ss@db/tokens"),
            "postgres://app:***@db/tokens"
        );
        assert_eq!(
            redact("postgres://app:p?ss@db/tokens"),
            "postgres://app:***@db/tokens"
        );
    }

    #[test]
    fn redact_masks_key_value_passwords() {
        assert_eq!(
            redact("host=db user=app password=s3cret dbname=tokens"),
            "host=db user=app password=*** dbname=tokens"
        );
        assert_eq!(
            redact("host=db password = 'se cr\\'et' dbname=tokens"),
            "host=db password = *** dbname=tokens"
        );
        assert_eq!(
            redact("host=db password='unterminated secret"),
            "host=db ***"
        );
    }

    // --- TLS parameters

    #[test]
    fn tls_params_are_taken_out_of_the_query() {
        let (rest, params) = split_tls_params(
            "postgres://app:pw@db/tokens?sslmode=verify-full&application_name=x&sslrootcert=%2Fetc%2Fca%20file.pem",
        )
        .unwrap();
        assert_eq!(*rest, "postgres://app:pw@db/tokens?application_name=x");
        assert_eq!(params.sslmode.as_deref(), Some("verify-full"));
        assert_eq!(params.sslrootcert.as_deref(), Some("/etc/ca file.pem"));
    }

    #[test]
    fn a_query_of_only_tls_params_disappears() {
        let (rest, params) = split_tls_params("postgres://db/tokens?sslmode=require").unwrap();
        assert_eq!(*rest, "postgres://db/tokens");
        assert_eq!(params.sslmode.as_deref(), Some("require"));
        let (rest, params) = split_tls_params("postgres://db/tokens").unwrap();
        assert_eq!(*rest, "postgres://db/tokens");
        assert_eq!(params, TlsParams::default());
    }

    #[test]
    fn a_question_mark_in_the_password_is_not_the_query() {
        let (rest, params) =
            split_tls_params("postgres://app:p?ss@db/tokens?sslmode=disable").unwrap();
        assert_eq!(*rest, "postgres://app:p?ss@db/tokens");
        assert_eq!(params.sslmode.as_deref(), Some("disable"));
    }

    #[test]
    fn tls_params_are_taken_out_of_key_value_strings() {
        let (rest, params) = split_tls_params(
            "host=db sslmode = verify-ca password='a b' sslrootcert='/etc/my ca.pem'",
        )
        .unwrap();
        assert_eq!(*rest, "host=db password='a b'");
        assert_eq!(params.sslmode.as_deref(), Some("verify-ca"));
        assert_eq!(params.sslrootcert.as_deref(), Some("/etc/my ca.pem"));
    }

    #[test]
    fn sslmodes_map_to_what_tokio_postgres_and_rustls_do() {
        let policy = |mode, roots| TlsPolicy { mode, roots };
        let ca = || Some(Roots::File(PathBuf::from("/ca.pem")));
        let file = || Roots::File(PathBuf::from("/ca.pem"));
        assert_eq!(
            policy(SslMode::Prefer, None).verification(),
            Verification::Nothing
        );
        assert_eq!(
            policy(SslMode::Require, None).verification(),
            Verification::Nothing
        );
        assert_eq!(
            policy(SslMode::Require, ca()).verification(),
            Verification::Chain(file())
        );
        assert_eq!(
            policy(SslMode::VerifyCa, None).verification(),
            Verification::Chain(Roots::System)
        );
        assert_eq!(
            policy(SslMode::VerifyFull, ca()).verification(),
            Verification::ChainAndHostname(file())
        );
        assert_eq!(
            policy(SslMode::Disable, None).wire_mode(false),
            WireSslMode::Disable
        );
        assert_eq!(
            policy(SslMode::Allow, None).wire_mode(false),
            WireSslMode::Prefer
        );
        assert_eq!(
            policy(SslMode::VerifyCa, None).wire_mode(false),
            WireSslMode::Require
        );
        assert_eq!(
            policy(SslMode::VerifyFull, None).wire_mode(true),
            WireSslMode::Disable
        );
    }

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
        assert_eq!(config.get_connect_timeout(), Some(&Duration::from_secs(10)));
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

    #[test]
    fn a_pgpass_file_others_can_read_is_ignored() {
        let open = private_file("*:*:*:*:pw\n", 0o644);
        assert!(read_private_file(open.path()).is_none());
        let group = private_file("*:*:*:*:pw\n", 0o640);
        assert!(read_private_file(group.path()).is_none());
        let private = private_file("*:*:*:*:pw\n", 0o600);
        assert_eq!(
            read_private_file(private.path()).unwrap().as_str(),
            "*:*:*:*:pw\n"
        );
        let stricter = private_file("*:*:*:*:pw\n", 0o400);
        assert!(read_private_file(stricter.path()).is_some());
        assert!(read_private_file(Path::new("/nonexistent/.pgpass")).is_none());
        let directory = tempfile::tempdir().unwrap();
        assert!(read_private_file(directory.path()).is_none());
    }

    fn query(host: &str, port: &str, database: &str, user: &str) -> PgpassQuery {
        PgpassQuery {
            hosts: vec![host.to_owned()],
            port: port.to_owned(),
            database: database.to_owned(),
            user: user.to_owned(),
        }
    }

    fn lookup(text: &str, query: &PgpassQuery) -> Option<String> {
        find_pgpass_password(text, query).map(|password| password.to_string())
    }

    #[test]
    fn pgpass_lines_match_with_wildcards_and_the_first_match_wins() {
        let text = "\
# comment:*:*:*:not-this
db:5432:tokens:app:first
*:*:*:app:second
*:*:*:*:any
";
        assert_eq!(
            lookup(text, &query("db", "5432", "tokens", "app")).as_deref(),
            Some("first")
        );
        assert_eq!(
            lookup(text, &query("db", "5433", "tokens", "app")).as_deref(),
            Some("second")
        );
        assert_eq!(
            lookup(text, &query("x", "1", "y", "z")).as_deref(),
            Some("any")
        );
        assert_eq!(
            lookup("db:5432:tokens:app:pw\n", &query("db", "5432", "t", "app")),
            None
        );
    }

    #[test]
    fn pgpass_escapes_are_read() {
        let text = "h\\:1:5432:d\\\\b:u:pa\\:ss:wo\\\\rd\\\n";
        let found = lookup(text, &query("h:1", "5432", "d\\b", "u"));
        assert_eq!(found.as_deref(), Some("pa:ss:wo\\rd\\"));
        // An escaped `*` is a literal star, not a wildcard.
        assert_eq!(lookup("\\*:*:*:*:pw", &query("db", "1", "d", "u")), None);
        assert_eq!(
            lookup("\\*:*:*:*:pw", &query("*", "1", "d", "u")).as_deref(),
            Some("pw")
        );
    }

    #[test]
    fn pgpass_skips_short_lines_and_reads_crlf() {
        let text = "\r\ndb:5432:tokens\r\n\r\ndb:5432:tokens:app:pw\r\n";
        assert_eq!(
            lookup(text, &query("db", "5432", "tokens", "app")).as_deref(),
            Some("pw")
        );
    }

    #[test]
    fn a_unix_socket_matches_localhost_or_its_path_in_pgpass() {
        let mut config = Config::new();
        config.host_path("/tmp/pgdev").port(54329).user("app");
        let socket = PgpassQuery::for_config(&config);
        assert_eq!(socket.hosts, ["localhost", "/tmp/pgdev"]);
        assert_eq!(socket.database, "app");
        assert_eq!(
            lookup("localhost:54329:*:app:a", &socket).as_deref(),
            Some("a")
        );
        assert_eq!(
            lookup("/tmp/pgdev:54329:*:app:b", &socket).as_deref(),
            Some("b")
        );
        assert_eq!(lookup("127.0.0.1:54329:*:app:c", &socket), None);
    }

    // --- messages

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
        let url = std::env::var("TOKENS_TEST_POSTGRES")
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

    fn uses_tls(client: &mut Client) -> bool {
        let row = client
            .query_one(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                &[],
            )
            .unwrap();
        row.get(0)
    }

    fn connected(url: &str) -> Client {
        connect(url).unwrap_or_else(|error| panic!("{error}"))
    }

    #[test]
    fn server_accepts_the_admin_url() {
        let Some(admin) = test_server("server_accepts_the_admin_url") else {
            return;
        };
        let mut client = connected(&admin);
        let one: i32 = client.query_one("SELECT 1", &[]).unwrap().get(0);
        assert_eq!(one, 1);
        let name: String = client
            .query_one("SELECT current_setting('application_name')", &[])
            .unwrap()
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
        assert!(uses_tls(&mut connected(&required)));
        let disabled = variant(&admin, Some(&password), None, "?sslmode=disable");
        assert!(!uses_tls(&mut connected(&disabled)));
    }

    #[test]
    fn server_with_an_unknown_certificate_fails_verify_full() {
        let Some(admin) = test_server("server_with_an_unknown_certificate_fails_verify_full")
        else {
            return;
        };
        let password = admin_password(&admin);
        let url = variant(&admin, Some(&password), None, "?sslmode=verify-full");
        let error = connect(&url).err().unwrap();
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
        assert!(uses_tls(&mut connected(&url)));
        let missing = variant(
            &admin,
            Some(&password),
            None,
            "?sslmode=verify-ca&sslrootcert=%2Fnonexistent.pem",
        );
        let error = connect(&missing).err().unwrap();
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
        let error = connect(&url).err().unwrap();
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
        let error = connect(&url).err().unwrap();
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
        let error = connect(&url).err().unwrap();
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
        let mut client = open(&resolved).unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(
            client.query_one("SELECT 1", &[]).unwrap().get::<_, i32>(0),
            1
        );

        // With no password anywhere the server's demand for one is named.
        let nothing = vars(&[]);
        let resolved = resolve(&url, &env_of(&nothing)).ok().unwrap();
        let error = open(&resolved).err().unwrap();
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
        assert!(!uses_tls(&mut connected(&text)));
    }

    #[test]
    fn server_on_a_closed_port_is_unreachable_at_once() {
        if test_server("server_on_a_closed_port_is_unreachable_at_once").is_none() {
            return;
        }
        let started = Instant::now();
        let error = connect("postgres://app:hunter2@127.0.0.1:1/tokens")
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
