//! How things look: relative and RFC 3339 times, JSON shapes, tables, colour decisions.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, IsTerminal, Write};

use chrono::{DateTime, SecondsFormat, Utc};
use comfy_table::{Attribute, Cell, Color, ContentArrangement, Table, presets};
use serde::Serialize;
use serde_json::{Value, json};

use crate::cli::ColorChoice;
use crate::vault::{Event, FailureCount, Status, TokenRecord};

/// Colour only on a terminal, never with `NO_COLOR`, always with `--color always`.
pub fn use_color(choice: ColorChoice, stream_is_terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            stream_is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

/// True for a character that must not reach a terminal as it is (SPEC §8): the C0 controls
/// (tab, line feed, carriage return and escape included), DEL, the C1 controls (U+0080–U+009F:
/// U+009B is a one-character CSI), the bidirectional embeddings, overrides and isolates
/// (U+202A–U+202E, U+2066–U+2069: they reorder the text after them, so a line reads other
/// than it is) and the line and paragraph separators (U+2028, U+2029). Notes and reasons with
/// one are refused; text from the vault has them escaped by [`printable`].
pub fn is_control(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}')
}

/// `text` as it may be shown to a human, in a table, a field, a message or a prompt: every
/// [`is_control`] character written as an escape: `\t`, `\n`, `\r`; `\x1b` (two hex digits)
/// for the other C0 controls and DEL; `\u{9b}` (Rust's form) for the rest. Nothing else changes
/// (a backslash stays one backslash), so escaping twice changes nothing more. Text from the vault
/// goes through this in every human-readable output, terminal or not; JSON keeps it exact.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_control) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\t' => escaped.push_str("\\t"),
            '\n' => escaped.push_str("\\n"),
            '\r' => escaped.push_str("\\r"),
            // Writing to a String cannot fail.
            c if is_control(c) && c.is_ascii() => {
                let _ = write!(escaped, "\\x{:02x}", u32::from(c));
            }
            c if is_control(c) => {
                let _ = write!(escaped, "\\u{{{:x}}}", u32::from(c));
            }
            c => escaped.push(c),
        }
    }
    Cow::Owned(escaped)
}

/// A message for stderr (an error, a notice): [`redacted`], then made [`printable`]. Every
/// message the program prints passes through here, so none can echo a credential, a password
/// or a control character, whatever a future message quotes.
pub fn message(text: &str) -> Cow<'_, str> {
    match redacted(text) {
        Cow::Borrowed(text) => printable(text),
        Cow::Owned(redacted) => Cow::Owned(printable(&redacted).into_owned()),
    }
}

/// `text` with anything shaped like a token or secret key masked ([`crate::token::redact`])
/// and anything shaped like a connection's password replaced by `***`: the part after the
/// first `:` of a `user:password@` (whatever the scheme, or none: a mistyped URL is still a
/// password), and the value of a `password=` / `pass=` / `passwd=` / `pwd=` setting (in a
/// key=value string or a URL's query).
pub fn redacted(text: &str) -> Cow<'_, str> {
    let tokens = crate::token::redact(text);
    let masked = mask_passwords(&tokens);
    match (tokens, masked) {
        (Cow::Borrowed(text), None) => Cow::Borrowed(text),
        (tokens, None) => Cow::Owned(tokens.into_owned()),
        (_, Some(masked)) => Cow::Owned(masked),
    }
}

/// See [`redacted`]; `None` when there is nothing to mask.
fn mask_passwords(text: &str) -> Option<String> {
    // Byte ranges to replace with `***`, found on the ASCII structure around them.
    let bytes = text.as_bytes();
    let mut hidden: Vec<(usize, usize)> = Vec::new();
    let separator = |byte: u8| byte.is_ascii_whitespace() || b"/\"'`=,;()<>[]{}".contains(&byte);
    for (at, _) in text.match_indices('@') {
        let start = bytes[..at]
            .iter()
            .rposition(|&byte| separator(byte))
            .map_or(0, |index| index + 1);
        let already_masked = text[start..at].ends_with("***");
        if let Some(colon) = bytes[start..at].iter().position(|&byte| byte == b':')
            && !already_masked
        {
            hidden.push((start + colon + 1, at));
        }
    }
    let lower = text.to_ascii_lowercase();
    let keys = ["password", "pass", "passwd", "pwd", "sslpassword"];
    // `=` as itself, or percent-encoded in a URL.
    let settings = keys
        .iter()
        .flat_map(|key| [format!("{key}="), format!("{key}%3d")]);
    for key in settings {
        for (at, _) in lower.match_indices(&key) {
            let before = lower[..at].bytes().next_back();
            if before.is_some_and(|byte| byte.is_ascii_alphanumeric() || byte == b'_') {
                continue; // part of a longer word
            }
            let value = at + key.len();
            if text[value..].starts_with("***") {
                continue; // masked where the message was made
            }
            let end = match bytes.get(value) {
                Some(&quote @ (b'\'' | b'"')) => bytes[value + 1..]
                    .iter()
                    .position(|&byte| byte == quote)
                    .map_or(bytes.len(), |index| value + 1 + index + 1),
                _ => bytes[value..]
                    .iter()
                    .position(|&byte| byte.is_ascii_whitespace() || b"&'\")".contains(&byte))
                    .map_or(bytes.len(), |index| value + index),
            };
            hidden.push((value, end));
        }
    }
    hidden.retain(|(start, end)| start < end);
    if hidden.is_empty() {
        return None;
    }
    hidden.sort_unstable();
    let mut masked = String::with_capacity(text.len());
    let mut copied = 0;
    for (start, end) in hidden {
        if start < copied {
            continue; // inside a range already hidden
        }
        masked.push_str(&text[copied..start]);
        masked.push_str("***");
        copied = end;
    }
    masked.push_str(&text[copied..]);
    Some(masked)
}

/// `2026-11-23T12:00:00Z`
pub fn rfc3339(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn rfc3339_or_null(time: Option<DateTime<Utc>>) -> Value {
    time.map_or(Value::Null, |time| Value::String(rfc3339(time)))
}

/// `in 29d`, `3h ago`, `just now`.
pub fn relative(time: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let seconds = (time - now).num_seconds();
    let span = seconds.unsigned_abs();
    let amount = match span {
        0..=59 => return "just now".into(),
        60..=3_599 => format!("{}m", span / 60),
        3_600..=172_799 => format!("{}h", span / 3_600),
        _ => format!("{}d", span / 86_400),
    };
    if seconds > 0 {
        format!("in {amount}")
    } else {
        format!("{amount} ago")
    }
}

/// Like [`relative`], with a word for "no time".
pub fn relative_or(time: Option<DateTime<Utc>>, now: DateTime<Utc>, none: &str) -> String {
    time.map_or_else(|| none.to_owned(), |time| relative(time, now))
}

/// `2/5` (uses left of the limit), `None` for an unlimited token.
pub fn uses_text(controls: &crate::vault::Controls) -> Option<String> {
    let limit = controls.uses_limit?;
    Some(format!("{}/{limit}", controls.uses_left().unwrap_or(0)))
}

/// SPEC §9's `allow_from`: the networks, or `null` for a token that works from any address.
pub fn nets_json(nets: &Option<Vec<ipnet::IpNet>>) -> Option<Vec<String>> {
    nets.as_ref()
        .map(|nets| nets.iter().map(ToString::to_string).collect())
}

/// The fields of SPEC §4 for one token in `list --json` (never a secret or a hash), borrowed from
/// the record so that `list` can write a million of them without building a map for each
/// (over a third of its time). Fields in alphabetical order, as `show --json` has always had them.
#[derive(Serialize)]
pub struct TokenJson<'a> {
    allow_from: Option<Vec<String>>,
    app: Option<&'a str>,
    created_at: String,
    disabled_at: Option<String>,
    expires_at: Option<String>,
    id: &'a str,
    last_used_at: Option<String>,
    masked: String,
    meta: &'a std::collections::BTreeMap<String, String>,
    name: &'a str,
    note: Option<&'a str>,
    scopes: &'a [String],
    status: &'static str,
    uses_left: Option<i64>,
    uses_limit: Option<i64>,
}

impl<'a> TokenJson<'a> {
    pub fn of(record: &'a TokenRecord, now: DateTime<Utc>) -> TokenJson<'a> {
        TokenJson {
            allow_from: nets_json(&record.controls.allow_from),
            app: record.app.as_deref(),
            created_at: rfc3339(record.created_at),
            disabled_at: record.controls.disabled_at.map(rfc3339),
            expires_at: record.expires_at.map(rfc3339),
            id: &record.id,
            last_used_at: record.last_used_at.map(rfc3339),
            masked: record.masked(),
            meta: &record.controls.meta,
            name: &record.name,
            note: record.note.as_deref(),
            scopes: &record.scopes,
            status: record.status(now).as_str(),
            uses_left: record.controls.uses_left(),
            uses_limit: record.controls.uses_limit,
        }
    }
}

/// Everything `show --json` tells of a token: the list fields plus its history.
pub fn token_detail_json(
    record: &TokenRecord,
    now: DateTime<Utc>,
    events: &[Event],
    failures: &[FailureCount],
) -> Value {
    // Plain strings and options: serialising them cannot fail.
    let mut value =
        serde_json::to_value(TokenJson::of(record, now)).expect("plain data serialises");
    let extra = json!({
        "revoked_at": rfc3339_or_null(record.revoked_at),
        "revoke_reason": record.revoke_reason,
        "disable_reason": record.controls.disable_reason,
        "has_secret_key": record.secret_key_hash.is_some(),
        "secret_key_used_at": rfc3339_or_null(record.secret_key_used_at),
        "rotated_from": record.rotated_from,
        "rotated_to": record.replaced_by,
        "events": events.iter().map(event_json).collect::<Vec<_>>(),
        "failed_verifications": failures.iter().map(|count| json!({
            "reason": count.reason,
            "count": count.failures,
            "first_at": rfc3339(count.first_at),
            "last_at": rfc3339(count.last_at),
        })).collect::<Vec<_>>(),
    });
    if let (Value::Object(fields), Value::Object(more)) = (&mut value, extra) {
        fields.extend(more);
    }
    value
}

pub fn event_json(event: &Event) -> Value {
    json!({
        "at": rfc3339(event.at),
        "token_id": event.token_id,
        "name": event.name,
        "event": event.kind,
        "detail": event.detail,
    })
}

/// Prints one JSON document on stdout.
pub fn print_json(value: &Value) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    serde_json::to_writer_pretty(&mut stdout, value)?;
    writeln!(stdout)
}

/// A table in the house style: a rule under the header on a terminal, bare columns when piped
/// (easy for `awk`), and on a narrow terminal the columns of `drop_order` left out, first ones
/// first, until the rest fit without wrapping much.
pub fn table(titles: &[&str], drop_order: &[&str], rows: Vec<Vec<Cell>>, color: bool) -> Table {
    let mut shown: Vec<usize> = (0..titles.len()).collect();
    if let Some(width) = Table::new().width().filter(|_| io::stdout().is_terminal()) {
        let natural: Vec<usize> = (0..titles.len())
            .map(|column| {
                rows.iter()
                    .map(|row| row[column].content().chars().count())
                    .chain([titles[column].len()])
                    .max()
                    .unwrap_or(0)
                    + 2 // padding
            })
            .collect();
        for title in drop_order {
            if shown.iter().map(|&column| natural[column]).sum::<usize>() <= usize::from(width) {
                break;
            }
            shown.retain(|&column| titles[column] != *title);
        }
    }

    let mut table = Table::new();
    table.set_content_arrangement(ContentArrangement::Dynamic);
    if io::stdout().is_terminal() {
        table.load_preset(HEADER_RULE);
    } else {
        table.load_preset(presets::NOTHING);
    }
    if color {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    table.set_header(shown.iter().map(|&column| {
        let cell = Cell::new(titles[column]);
        if color {
            cell.add_attribute(Attribute::Bold)
        } else {
            cell
        }
    }));
    for mut row in rows {
        let mut cells: Vec<Option<Cell>> = row.drain(..).map(Some).collect();
        table.add_row(
            shown
                .iter()
                .map(|&column| cells[column].take().unwrap_or_else(|| Cell::new(""))),
        );
    }
    table
}

/// No borders; one rule under the header (see comfy-table's preset layout).
const HEADER_RULE: &str = "     ──            ";

/// How close to its end a token is "expiring": listed in yellow, and `verify` warns.
pub const EXPIRING_SOON: chrono::Duration = chrono::Duration::days(7);

/// The status cell of a listing: coloured by state, "expiring" when within a week of its end.
pub fn status_cell(record: &TokenRecord, now: DateTime<Utc>) -> Cell {
    let status = record.status(now);
    let expiring_soon = status == Status::Active
        && record
            .expires_at
            .is_some_and(|at| at - now <= EXPIRING_SOON);
    let (text, color) = match status {
        Status::Active if expiring_soon => ("expiring", Color::Yellow),
        Status::Active => ("active", Color::Green),
        Status::Disabled => ("disabled", Color::Magenta),
        Status::UsedUp => ("used_up", Color::DarkYellow),
        Status::Expired => ("expired", Color::DarkYellow),
        Status::Revoked => ("revoked", Color::Red),
    };
    Cell::new(text).fg(color)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    #[test]
    fn relative_times() {
        let now = Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap();
        assert_eq!(
            relative(now + Duration::days(29) + Duration::hours(23), now),
            "in 29d"
        );
        assert_eq!(relative(now - Duration::days(3), now), "3d ago");
        assert_eq!(relative(now - Duration::hours(2), now), "2h ago");
        assert_eq!(relative(now + Duration::minutes(5), now), "in 5m");
        assert_eq!(relative(now + Duration::seconds(20), now), "just now");
        assert_eq!(relative_or(None, now, "never"), "never");
    }

    #[test]
    fn token_json_is_the_documented_document() {
        let now = Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap();
        let record = TokenRecord {
            id: "AbCdEfGh1234".into(),
            name: "ci-deploy".into(),
            app: Some("ci".into()),
            scopes: vec!["deploy:prod".into(), "read".into()],
            note: Some("owned by \"platform\"\n".into()),
            secret_hash: vec![7; 32],
            secret_tail: "wxyz".into(),
            secret_key_hash: Some(vec![9; 32]),
            created_at: now - Duration::days(3),
            expires_at: Some(now + Duration::days(27)),
            last_used_at: None,
            revoked_at: None,
            revoke_reason: None,
            secret_key_used_at: None,
            rotated_from: None,
            replaced_by: None,
            lineage: "AbCdEfGh1234".into(),
            controls: Default::default(),
        };
        assert_eq!(
            serde_json::to_string(&TokenJson::of(&record, now)).unwrap(),
            concat!(
                r#"{"allow_from":null,"app":"ci","created_at":"2026-11-20T12:00:00Z","disabled_at":null,"#,
                r#""expires_at":"2026-12-20T12:00:00Z","#,
                r#""id":"AbCdEfGh1234","last_used_at":null,"masked":"tk_AbCdEfGh1234_…wxyz","meta":{},"#,
                r#""name":"ci-deploy","note":"owned by \"platform\"\n","scopes":["deploy:prod","read"],"#,
                r#""status":"active","uses_left":null,"uses_limit":null}"#
            )
        );
        let revoked = TokenRecord {
            revoked_at: Some(now - Duration::hours(1)),
            app: None,
            ..record.clone()
        };
        let value = serde_json::to_value(TokenJson::of(&revoked, now)).unwrap();
        assert_eq!(
            (value["status"].as_str(), value["app"].is_null()),
            (Some("revoked"), true)
        );
        let expired = TokenRecord {
            expires_at: Some(now - Duration::hours(1)),
            ..record
        };
        assert_eq!(
            serde_json::to_value(TokenJson::of(&expired, now)).unwrap()["status"],
            "expired"
        );
    }

    #[test]
    fn control_characters_are_escaped_and_nothing_else() {
        assert!(matches!(
            printable("ci-deploy: \"owned\" by é\\x"),
            Cow::Borrowed(_)
        ));
        assert_eq!(
            printable("a\u{1b}[2J\u{1b}]0;title\u{7}\rbecomes active\u{9b}31m\u{7f}\t\n"),
            "a\\x1b[2J\\x1b]0;title\\x07\\rbecomes active\\u{9b}31m\\x7f\\t\\n"
        );
        assert_eq!(
            printable("\u{202e}gnp.exe\u{2066}\u{2028}"),
            "\\u{202e}gnp.exe\\u{2066}\\u{2028}"
        );
        // Marks and joiners that reorder nothing are text.
        assert!(matches!(printable("\u{200f}\u{200d}👍🏽"), Cow::Borrowed(_)));
        let once = printable("\u{1b}[31m\\x1b").into_owned();
        assert_eq!(printable(&once), once, "escaping is idempotent");
    }

    proptest::proptest! {
        #[test]
        fn printable_text_holds_no_control_character(text in "\\PC*|[\\x00-\\x{a0}\\x{2020}-\\x{2070}]*") {
            let shown = printable(&text);
            proptest::prop_assert!(!shown.chars().any(is_control));
            proptest::prop_assert_eq!(shown == text.as_str(), !text.chars().any(is_control));
        }
    }

    #[test]
    fn messages_are_redacted_and_printable() {
        let token = crate::token::Credential::generate(
            crate::token::Kind::Token,
            &crate::token::generate_id(),
        );
        let text = format!("no vault at /tmp/{}\u{1b}[2J", token.expose());
        let shown = message(&text);
        assert_eq!(
            shown,
            format!("no vault at /tmp/tk_{}_…\\x1b[2J", token.id())
        );
        assert!(matches!(message("plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn times_are_rfc3339_utc() {
        let time = Utc.with_ymd_and_hms(2027, 1, 31, 0, 0, 0).unwrap();
        assert_eq!(rfc3339(time), "2027-01-31T00:00:00Z");
    }

    #[test]
    fn passwords_in_any_shape_are_masked() {
        for (text, expected) in [
            (
                "no vault at /tmp/x/ postgres:/u:hunter2@h/db",
                "no vault at /tmp/x/ postgres:/u:***@h/db",
            ),
            (
                "u:hunter2@h:5432/db is not a vault",
                "u:***@h:5432/db is not a vault",
            ),
            ("postgres ://u:hunter2@h/db", "postgres ://u:***@h/db"),
            (
                "bad option in host=db password=hunter2 user=u",
                "bad option in host=db password=*** user=u",
            ),
            ("x?pass=hunter2&y=1", "x?pass=***&y=1"),
            ("password='hunter 2' dbname=t", "password=*** dbname=t"),
            ("?PASSWORD%3Dhunter2", "?PASSWORD%3D***"),
            (
                "a plain line, a user@host and 10:30",
                "a plain line, a user@host and 10:30",
            ),
        ] {
            assert_eq!(redacted(text), expected, "{text}");
        }
    }
}
