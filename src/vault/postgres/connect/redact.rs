//! Reading connection strings as tokio-postgres does (URL queries, libpq `key=value` strings,
//! percent encoding), and hiding the passwords in them: in the string itself, and in any
//! message that may quote a piece of it.

use zeroize::Zeroizing;

const URL_SCHEMES: [&str; 2] = ["postgres://", "postgresql://"];
/// What a hidden password is shown as.
pub(super) const MASK: &str = "***";

pub(super) fn split_scheme(url: &str) -> Option<(&'static str, &str)> {
    URL_SCHEMES
        .iter()
        .find_map(|scheme| url.strip_prefix(scheme).map(|body| (*scheme, body)))
}

/// What follows `scheme://` in a URL, with any password masked.
pub(crate) fn redact_url_body(body: &str) -> String {
    let query_at = body.find('?').unwrap_or(body.len());
    // tokio-postgres ends the user info at the first `@`; a raw `@` inside a password is a
    // mistake it reads differently, so mask up to the last `@` before the query: that hides the
    // password as parsed and as meant.
    let userinfo_end = body[..query_at].rfind('@');
    if userinfo_end.is_none()
        && let Some(at) = body.find('@')
    {
        // An `@` only after the `?`: a raw `?` in a password (`u:pa?ss@host`), or an `@` in a
        // query value (`?user=me@corp&password=…`). Which one cannot be told, so both are
        // hidden: everything up to that `@`, and any password in what follows.
        return format!("{MASK}@{}", redact_query(&body[at + 1..]));
    }
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

/// A query with every password value masked. tokio-postgres splits parameters at `&` only; a
/// second `?` (`?sslmode=require?password=…`) is a typo that leaves a password inside another
/// parameter's value, so both separate parameters here.
fn redact_query(query: &str) -> String {
    let mut shown = String::with_capacity(query.len());
    let mut rest = query;
    loop {
        let end = rest.find(QUERY_SEPARATORS).unwrap_or(rest.len());
        match rest[..end].split_once('=') {
            Some((key, value)) if is_secret_key(key) && !value.is_empty() => {
                shown.push_str(key);
                shown.push('=');
                shown.push_str(MASK);
            }
            _ => shown.push_str(&rest[..end]),
        }
        let Some(separator) = rest[end..].chars().next() else {
            return shown;
        };
        shown.push(separator);
        rest = &rest[end + 1..];
    }
}

/// Where redaction splits a URL's query (see [`redact_query`]).
const QUERY_SEPARATORS: [char; 2] = ['&', '?'];

/// `text` (a message about `connection`) with every password `connection` holds replaced by
/// `***`, as written and percent-decoded: for messages that may quote a piece of it.
pub(crate) fn scrub_secrets(text: &str, connection: &str) -> String {
    let mut secrets = secret_values(connection);
    // Longest first: a password that contains another is hidden whole.
    secrets.sort_by_key(|secret| std::cmp::Reverse(secret.len()));
    let mut scrubbed = text.to_owned();
    for secret in secrets.iter().filter(|secret| !secret.is_empty()) {
        scrubbed = scrubbed.replace(secret.as_str(), MASK);
    }
    scrubbed
}

/// Every value [`redact`](super::redact) would hide, as written and decoded.
fn secret_values(connection: &str) -> Vec<Zeroizing<String>> {
    let mut found = Vec::new();
    let mut add = |raw: &str| {
        found.push(Zeroizing::new(raw.to_owned()));
        if let Ok(decoded) = percent_decode(raw) {
            found.push(Zeroizing::new(decoded));
        }
    };
    match split_scheme(connection) {
        Some((_, body)) => {
            let query_at = body.find('?').unwrap_or(body.len());
            let userinfo = match body[..query_at].rfind('@') {
                Some(at) => Some(&body[..at]),
                // As redact_url_body: an `@` only after the `?` hides everything before it.
                None => body.find('@').map(|at| &body[..at]),
            };
            if let Some(userinfo) = userinfo {
                if let Some((_, password)) = userinfo.split_once(':') {
                    add(password);
                }
                if query_at < userinfo.len() {
                    add(userinfo);
                }
            }
            for segment in body
                .get(query_at + 1..)
                .unwrap_or("")
                .split(QUERY_SEPARATORS)
            {
                if let Some((key, value)) = segment.split_once('=')
                    && is_secret_key(key)
                {
                    add(value);
                }
            }
        }
        None => {
            let scan = scan_key_values(connection);
            for pair in scan.pairs.iter().filter(|pair| is_secret_key(pair.key)) {
                add(&pair.value);
                add(&connection[pair.value_start..pair.end]);
            }
            if let Some(at) = scan.unparsed_from
                && is_secret_key(&connection[at..])
            {
                add(&connection[at..]);
            }
        }
    }
    found
}

/// libpq's connection keywords (PostgreSQL 17): what a `key=value` connection string may say.
fn connection_keywords() -> &'static [&'static str] {
    &[
        "application_name",
        "channel_binding",
        "client_encoding",
        "connect_timeout",
        "dbname",
        "fallback_application_name",
        "gssdelegation",
        "gssencmode",
        "gsslib",
        "host",
        "hostaddr",
        "keepalives",
        "keepalives_count",
        "keepalives_idle",
        "keepalives_interval",
        "krbsrvname",
        "load_balance_hosts",
        "options",
        "passfile",
        "password",
        "port",
        "replication",
        "require_auth",
        // Not libpq's: the vault's schema (SPEC §10).
        "schema",
        "requirepeer",
        "requiressl",
        "service",
        "ssl_max_protocol_version",
        "ssl_min_protocol_version",
        "sslcert",
        "sslcertmode",
        "sslcompression",
        "sslcrl",
        "sslcrldir",
        "sslkey",
        "sslmode",
        "sslnegotiation",
        "sslpassword",
        "sslrootcert",
        "sslsni",
        "target_session_attrs",
        "tcp_user_timeout",
        "user",
    ]
}

/// What text given as a vault location is, read as a libpq `key=value` connection string.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum KeyValueString {
    /// Not one: a file path (no `key=value` shape, or one pair whose key is no keyword,
    /// like `./a=b.db`).
    NotOne,
    /// One whose keys are all libpq's.
    Known,
    /// One with keys libpq does not know (a typo, say `pasword=`): these keys, never values.
    UnknownKeys(Vec<String>),
}

/// Reads `text` as a `key=value` connection string: `host=db dbname=tokens user=app`. It is
/// one when it is nothing but `key=value` pairs and either its first key is a libpq keyword or
/// it has several pairs.
pub(crate) fn key_value_string(text: &str) -> KeyValueString {
    let scan = scan_key_values(text);
    let Some(first) = scan.pairs.first() else {
        return KeyValueString::NotOne;
    };
    let known = |key: &str| connection_keywords().contains(&key);
    if scan.unparsed_from.is_some() || (scan.pairs.len() == 1 && !known(first.key)) {
        return KeyValueString::NotOne;
    }
    let unknown: Vec<String> = scan
        .pairs
        .iter()
        .filter(|pair| !known(pair.key))
        .map(|pair| pair.key.to_owned())
        .collect();
    if unknown.is_empty() {
        KeyValueString::Known
    } else {
        KeyValueString::UnknownKeys(unknown)
    }
}

pub(super) fn redact_key_values(text: &str) -> String {
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
pub(super) struct QueryParam<'a> {
    pub(super) key: &'a str,
    pub(super) value: Option<&'a str>,
    pub(super) raw: &'a str,
}

pub(super) fn query_params(query: &str) -> Vec<QueryParam<'_>> {
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
pub(super) struct KeyValue<'a> {
    pub(super) key: &'a str,
    pub(super) value: Zeroizing<String>,
    pub(super) start: usize,
    pub(super) value_start: usize,
    pub(super) end: usize,
}

pub(super) struct KeyValueScan<'a> {
    pub(super) pairs: Vec<KeyValue<'a>>,
    /// Where the text stopped making sense (tokio-postgres would reject or ignore the rest).
    pub(super) unparsed_from: Option<usize>,
}

pub(super) fn scan_key_values(text: &str) -> KeyValueScan<'_> {
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
pub(super) fn percent_decode(text: &str) -> Result<String, String> {
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

#[cfg(test)]
mod tests {
    // The public entry point, in the parent: these tests check what a person is shown.
    use super::super::redact;

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
        // An `@` only after the `?` may end a password or sit in a query value: both hidden.
        assert_eq!(
            redact("postgres://app:p?ss@db/tokens"),
            "postgres://***@db/tokens"
        );
        assert_eq!(
            redact("postgres://127.0.0.1:1/db?user=me@corp&password=hunter2"),
            "postgres://***@corp&password=***"
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

    #[test]
    fn redact_masks_a_password_after_a_second_question_mark() {
        assert_eq!(
            redact("postgres://app@db/t?sslmode=require?password=s3cret"),
            "postgres://app@db/t?sslmode=require?password=***"
        );
        assert_eq!(
            redact("postgres://app:pw@db/t?a=1?b=2&password=s3cret?c=3"),
            "postgres://app:***@db/t?a=1?b=2&password=***?c=3"
        );
        assert_eq!(
            redact("postgres://db/t??password=s3cret"),
            "postgres://db/t??password=***"
        );
    }

    #[test]
    fn scrub_secrets_hides_every_password_a_message_may_quote() {
        use super::scrub_secrets;
        let url = "postgres://app:p%40ss@db/t?sslmode=require?password=s3cret&sslpassword=k3y";
        let message = "sslmode \"require?password=s3cret\" is wrong; p@ss p%40ss k3y";
        assert_eq!(
            scrub_secrets(message, url),
            "sslmode \"require?password=***\" is wrong; *** *** ***"
        );
        assert_eq!(
            scrub_secrets(
                "host=db password='se cr\\'et' … 'se cr'et'",
                "host=db password='se cr\\'et'"
            ),
            "host=db password=*** … '***'"
        );
        // A raw `?` in the password: the part before the `@` is hidden whole.
        assert_eq!(
            scrub_secrets("u:pa?ss and pa?ss", "postgres://u:pa?ss@db/t"),
            "*** and ***"
        );
        assert_eq!(
            scrub_secrets("nothing here", "postgres://app@db/t"),
            "nothing here"
        );
    }

    #[test]
    fn key_value_strings_are_told_from_file_names() {
        use super::{KeyValueString, key_value_string};
        assert_eq!(
            key_value_string("host=db dbname=tokens user=app password=x"),
            KeyValueString::Known
        );
        assert_eq!(key_value_string("dbname=tokens"), KeyValueString::Known);
        assert_eq!(
            key_value_string("host=db password = 'a b'"),
            KeyValueString::Known
        );
        assert_eq!(
            key_value_string("host=db pasword=x"),
            KeyValueString::UnknownKeys(vec!["pasword".to_owned()])
        );
        assert_eq!(
            key_value_string("a=b c=d"),
            KeyValueString::UnknownKeys(vec!["a".to_owned(), "c".to_owned()])
        );
        for file in [
            "vault.db",
            "./a=b.db",
            "/tmp/x=1",
            "/my dir/a=b",
            "",
            "host=db x",
            "host='x",
        ] {
            assert_eq!(key_value_string(file), KeyValueString::NotOne, "{file}");
        }
    }
}
