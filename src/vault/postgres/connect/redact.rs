//! Reading connection strings as tokio-postgres does (URL queries, libpq `key=value` strings,
//! percent encoding), and hiding the passwords in them.

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
    value_start: usize,
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
}
