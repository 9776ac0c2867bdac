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

/// True for a character shown escaped ([`printable`], [`message`]): every [`is_control`]
/// character, and the characters a reader cannot see or that move text around without being
/// control characters: Unicode's format characters (Cf: the bidi marks U+200E, U+200F and U+061C,
/// zero-width space and joiners, the BOM U+FEFF, the soft hyphen, tag characters), line and
/// paragraph separators (Zl, Zp) and every space but U+0020 (Zs: no-break, em, ideographic, …).
pub fn is_hidden(c: char) -> bool {
    use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
    if c.is_ascii() {
        return c.is_ascii_control();
    }
    is_control(c)
        || matches!(
            c.general_category(),
            GeneralCategory::Format
                | GeneralCategory::LineSeparator
                | GeneralCategory::ParagraphSeparator
                | GeneralCategory::SpaceSeparator
        )
}

/// `text` as it may be shown to a human, in a table, a field or a prompt: every [`is_hidden`]
/// character written as an escape: `\t`, `\n`, `\r`; `\x1b` (two hex digits) for the other C0
/// controls and DEL; `\u{200f}` (Rust's form) for the rest; and a backslash doubled (`\\`), so
/// that a note that reads `\x1b` as typed can never look like an escaped character. Text from the
/// vault goes through this once in every human-readable output, terminal or not; JSON keeps it
/// exact.
pub fn printable(text: &str) -> Cow<'_, str> {
    escaped(text, true)
}

/// `text` with every [`is_hidden`] character escaped as [`printable`] does; with `backslashes`,
/// each backslash doubled too (not in whole messages, which may quote text already printable).
fn escaped(text: &str, backslashes: bool) -> Cow<'_, str> {
    let needs_escape = |c: char| is_hidden(c) || (backslashes && c == '\\');
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\\' if backslashes => escaped.push_str("\\\\"),
            '\t' => escaped.push_str("\\t"),
            '\n' => escaped.push_str("\\n"),
            '\r' => escaped.push_str("\\r"),
            // Writing to a String cannot fail.
            c if is_hidden(c) && c.is_ascii() => {
                let _ = write!(escaped, "\\x{:02x}", u32::from(c));
            }
            c if is_hidden(c) => {
                let _ = write!(escaped, "\\u{{{:x}}}", u32::from(c));
            }
            c => escaped.push(c),
        }
    }
    Cow::Owned(escaped)
}

/// A message for stderr (an error, a notice): [`redacted`], then every [`is_hidden`] character
/// escaped. Every message the program prints passes through here, so none can echo a credential,
/// a password or a control character, whatever a future message quotes. Backslashes stay as
/// they are: a message may quote vault text already made [`printable`], and escaping is
/// idempotent here.
pub fn message(text: &str) -> Cow<'_, str> {
    match redacted(text) {
        Cow::Borrowed(text) => escaped(text, false),
        Cow::Owned(redacted) => Cow::Owned(escaped(&redacted, false).into_owned()),
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

/// True when `error` comes from writing to a stdout whose reader has gone (`tokens list | head`):
/// the error holds a broken pipe and stdout is a pipe with no reader left (so a vault connection
/// that broke is still reported as the error it is).
pub fn stdout_closed(error: &crate::error::Error) -> bool {
    let broken_pipe = match error {
        crate::error::Error::Other(error) => error.chain().any(|cause| {
            cause
                .downcast_ref::<io::Error>()
                .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
        }),
        _ => false,
    };
    broken_pipe && {
        let mut stdout = libc::pollfd {
            fd: libc::STDOUT_FILENO,
            events: libc::POLLOUT,
            revents: 0,
        };
        // SAFETY: one valid pollfd, no wait.
        let ready = unsafe { libc::poll(&mut stdout, 1, 0) };
        ready == 1 && stdout.revents & libc::POLLERR != 0
    }
}

/// Ends the process as the signal a closed pipe sends would have (SIGPIPE, exit status 141 in a
/// shell), quietly. Rust ignores SIGPIPE so that a write reports the error instead; here the
/// error has been recognised ([`stdout_closed`]) and the program ends as `git` and `cat` do.
pub fn die_of_sigpipe() -> ! {
    // SAFETY: restoring the default action of a signal and raising it in this process.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        libc::raise(libc::SIGPIPE);
    }
    // Not reached: the default action of SIGPIPE ends the process.
    std::process::exit(141)
}

/// `2026-11-23T12:00:00Z`
pub fn rfc3339(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn rfc3339_or_null(time: Option<DateTime<Utc>>) -> Value {
    time.map_or(Value::Null, |time| Value::String(rfc3339(time)))
}

/// `in 29d`, `in 1h 30min`, `3d 4h ago`, `just now`: in the units durations are written in
/// (SPEC §3), to the minute.
pub fn relative(time: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let seconds = (time - now).num_seconds();
    if seconds.unsigned_abs() < 60 {
        return "just now".into();
    }
    let amount = span(seconds.unsigned_abs());
    if seconds > 0 {
        format!("in {amount}")
    } else {
        format!("{amount} ago")
    }
}

/// A span of a minute or more in the largest unit that fits (min, h, d), with the next unit as
/// well when the larger count is 1 to 9 (`1h 30min`, `3d 4h`, `12h`, `30d`), rounded to the
/// nearest smallest unit shown: a token made for 90 days reads "in 90d" a second later, not 89d.
fn span(seconds: u64) -> String {
    let nearest = |unit: u64| (seconds + unit / 2) / unit;
    let two_units = |count: u64, per: u64, large: &str, small: &str| match count % per {
        0 => format!("{}{large}", count / per),
        rest => format!("{}{large} {rest}{small}", count / per),
    };
    let minutes = nearest(60);
    if minutes < 60 {
        return format!("{minutes}min");
    }
    if minutes < 10 * 60 {
        return two_units(minutes, 60, "h", "min");
    }
    let hours = nearest(3_600);
    if hours < 24 {
        return format!("{hours}h");
    }
    if hours < 10 * 24 {
        return two_units(hours, 24, "d", "h");
    }
    format!("{}d", nearest(86_400))
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
    /// Until when its secret key may refresh it: `expires_at` plus its refresh window (`null`
    /// with no usable secret key or no limit).
    refresh_until: Option<String>,
    scopes: &'a [String],
    status: &'static str,
    /// A rotating token: when it stops at the latest (`null` when only a first use ends it,
    /// and for any other status).
    stops_at: Option<String>,
    uses_left: Option<i64>,
    uses_limit: Option<i64>,
    /// A rotating token of `rotate --until-used`: the successor whose first use ends it.
    waiting_on: Option<&'a str>,
}

impl<'a> TokenJson<'a> {
    pub fn of(record: &'a TokenRecord, now: DateTime<Utc>) -> TokenJson<'a> {
        let rotating = record.status(now) == Status::Rotating;
        TokenJson {
            allow_from: nets_json(&record.controls.allow_from),
            app: record.app.as_deref(),
            created_at: rfc3339(record.created_at),
            disabled_at: record.controls.disabled_at.map(rfc3339),
            // A rotating token stops when its grace ends, before its own expiry (SPEC §4).
            expires_at: match record.status(now) {
                Status::Rotating => record.stops_at(),
                _ => record.expires_at,
            }
            .map(rfc3339),
            id: &record.id,
            last_used_at: record.last_used_at.map(rfc3339),
            masked: record.masked(),
            meta: &record.controls.meta,
            name: &record.name,
            note: record.note.as_deref(),
            scopes: &record.scopes,
            refresh_until: record.refresh_until().map(rfc3339),
            status: record.status(now).as_str(),
            stops_at: rotating.then(|| record.stops_at().map(rfc3339)).flatten(),
            waiting_on: rotating.then_some(record.waits_for.as_deref()).flatten(),
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
        // A token waiting only for its successor's first use has no end time yet: null.
        "revoked_at": rfc3339_or_null(record.stops_at()),
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

/// One cell of a [`table`]: its text and, maybe, its colour.
pub type Styled = (String, Option<Color>);

/// The least a shortened column keeps: its title, and never less than this.
const NARROWEST: usize = 4;

/// A table in the house style: a rule under the header on a terminal, bare columns when piped
/// (easy for `awk`: nothing is shortened or left out). On a terminal the table fits its width
/// and never wraps a value: the columns of `drop_order` are left out first, first ones first;
/// then the values of the `shorten_order` columns (never an id or a time) are cut with `…`,
/// first ones first, down to their title's width; if that is not enough, those columns go too,
/// in the same order.
pub fn table(
    titles: &[&str],
    drop_order: &[&str],
    shorten_order: &[&str],
    rows: Vec<Vec<Styled>>,
    color: bool,
) -> Table {
    let terminal = io::stdout().is_terminal();
    let mut shown: Vec<usize> = (0..titles.len()).collect();
    let mut limits: Vec<usize> = vec![usize::MAX; titles.len()];
    if let Some(width) = Table::new().width().filter(|_| terminal) {
        let width = usize::from(width);
        let natural: Vec<usize> = (0..titles.len())
            .map(|column| {
                rows.iter()
                    .map(|row| row[column].0.chars().count())
                    .chain([titles[column].len()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        // Each shown column takes its content, one space either side and one between columns.
        let needed = |shown: &[usize], limits: &[usize]| -> usize {
            shown
                .iter()
                .map(|&column| natural[column].min(limits[column]) + 3)
                .sum::<usize>()
                .saturating_sub(1)
        };
        for title in drop_order {
            if needed(&shown, &limits) <= width {
                break;
            }
            shown.retain(|&column| titles[column] != *title);
        }
        for title in shorten_order {
            let total = needed(&shown, &limits);
            if total <= width {
                break;
            }
            let Some(&column) = shown.iter().find(|&&column| titles[column] == *title) else {
                continue;
            };
            let floor = titles[column].len().max(NARROWEST).min(natural[column]);
            let excess = total - width;
            limits[column] = natural[column].saturating_sub(excess).max(floor);
        }
        // Still too wide at their shortest: those columns go, in the same order.
        for title in shorten_order {
            if needed(&shown, &limits) <= width {
                break;
            }
            shown.retain(|&column| titles[column] != *title);
        }
    }

    let mut table = Table::new();
    // Never wrapped: what does not fit was shortened above (or the table is piped).
    table.set_content_arrangement(ContentArrangement::Disabled);
    if terminal {
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
    for row in rows {
        table.add_row(shown.iter().map(|&column| {
            let (text, fg) = &row[column];
            let cell = Cell::new(shortened(text, limits[column]));
            match fg {
                Some(fg) if color => cell.fg(*fg),
                _ => cell,
            }
        }));
    }
    table
}

/// `text` cut to `limit` characters, its last one `…` when cut.
pub fn shortened(text: &str, limit: usize) -> Cow<'_, str> {
    if text.chars().count() <= limit {
        return Cow::Borrowed(text);
    }
    let mut cut: String = text.chars().take(limit.saturating_sub(1)).collect();
    cut.push('…');
    Cow::Owned(cut)
}

/// No borders; one rule under the header (see comfy-table's preset layout).
const HEADER_RULE: &str = "     ──            ";

/// How close to its end a token is "expiring": its expiry shown in yellow, and `verify` warns.
pub const EXPIRING_SOON: chrono::Duration = chrono::Duration::days(7);

/// The status cell of a listing: one of SPEC §4's statuses, coloured by state; a token waiting
/// on its successor's first use (`rotate --until-used`) names it.
pub fn status_cell(record: &TokenRecord, now: DateTime<Utc>) -> Styled {
    let status = record.status(now);
    let color = match status {
        Status::Active => Color::Green,
        Status::Rotating => Color::Cyan,
        Status::Disabled => Color::Magenta,
        Status::UsedUp => Color::DarkYellow,
        Status::Expired => Color::DarkYellow,
        Status::Revoked => Color::Red,
    };
    let text = match (status, &record.waits_for) {
        (Status::Rotating, Some(successor)) => {
            format!("rotating (waiting on {})", printable(successor))
        }
        _ => status.as_str().to_owned(),
    };
    (text, Some(color))
}

/// The expiry cell of a listing: when the token stops verifying (a rotating token's grace
/// end, not its own expiry), yellow within [`EXPIRING_SOON`]. On a terminal a relative time
/// (`in 29d`); piped, one field for `awk`: RFC 3339, or `never`.
pub fn expiry_cell(record: &TokenRecord, now: DateTime<Utc>, terminal: bool) -> Styled {
    let status = record.status(now);
    let stops = match status {
        Status::Rotating => record.stops_at(),
        _ => record.expires_at,
    };
    let soon = matches!(status, Status::Active | Status::Rotating)
        && stops.is_some_and(|at| at - now <= EXPIRING_SOON);
    (
        time_field(stops, now, "never", terminal),
        soon.then_some(Color::Yellow),
    )
}

/// A time in a table: relative on a terminal (`3d ago`), RFC 3339 when piped (one field).
pub fn time_field(
    time: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    none: &str,
    terminal: bool,
) -> String {
    match time {
        Some(time) if !terminal => rfc3339(time),
        time => relative_or(time, now, none),
    }
}

/// When a rotating token stops: `until in 1h`, `waiting on <id>`, or both (`rotate
/// --grace`, `--until-used`).
pub fn rotation_end(record: &TokenRecord, now: DateTime<Utc>) -> String {
    match (&record.waits_for, record.stops_at()) {
        (Some(successor), Some(at)) => {
            format!(
                "waiting on {successor}, ends {} at the latest",
                relative(at, now)
            )
        }
        (Some(successor), None) => format!("waiting on {successor}"),
        (None, Some(at)) => format!("until {}", relative(at, now)),
        (None, None) => "until further notice".to_owned(),
    }
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
            "in 30d"
        );
        assert_eq!(
            relative(now + Duration::days(90) - Duration::seconds(2), now),
            "in 90d"
        );
        assert_eq!(relative(now - Duration::days(3), now), "3d ago");
        assert_eq!(relative(now - Duration::hours(2), now), "2h ago");
        assert_eq!(relative(now + Duration::minutes(5), now), "in 5min");
        assert_eq!(relative(now + Duration::seconds(20), now), "just now");
        assert_eq!(relative(now + Duration::minutes(90), now), "in 1h 30min");
        assert_eq!(
            relative(now - Duration::days(3) - Duration::hours(4), now),
            "3d 4h ago"
        );
        assert_eq!(relative(now + Duration::hours(36), now), "in 1d 12h");
        assert_eq!(relative(now + Duration::hours(12), now), "in 12h");
        // Rounded to the smallest unit shown, then carried: never "1h 60min" or "9d 24h".
        assert_eq!(
            relative(now + Duration::minutes(119) + Duration::seconds(50), now),
            "in 2h"
        );
        assert_eq!(
            relative(
                now + Duration::hours(9) + Duration::minutes(59) + Duration::seconds(40),
                now
            ),
            "in 10h"
        );
        assert_eq!(
            relative(
                now + Duration::days(9) + Duration::hours(23) + Duration::minutes(40),
                now
            ),
            "in 10d"
        );
        assert_eq!(
            relative(now + Duration::minutes(59) + Duration::seconds(40), now),
            "in 1h"
        );
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
            waits_for: None,
            first_use_ends: None,
            controls: Default::default(),
        };
        assert_eq!(
            serde_json::to_string(&TokenJson::of(&record, now)).unwrap(),
            concat!(
                r#"{"allow_from":null,"app":"ci","created_at":"2026-11-20T12:00:00Z","disabled_at":null,"#,
                r#""expires_at":"2026-12-20T12:00:00Z","#,
                r#""id":"AbCdEfGh1234","last_used_at":null,"masked":"tk_AbCdEfGh1234_…wxyz","meta":{},"#,
                r#""name":"ci-deploy","note":"owned by \"platform\"\n","refresh_until":null,"#,
                r#""scopes":["deploy:prod","read"],"status":"active","stops_at":null,"uses_left":null,"uses_limit":null,"#,
                r#""waiting_on":null}"#
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
        // A refresh window: the expiry plus it, while the secret key may still be used.
        let windowed = TokenRecord {
            controls: crate::vault::Controls {
                refresh_window: Some(Duration::days(7)),
                ..Default::default()
            },
            ..record.clone()
        };
        let value = serde_json::to_value(TokenJson::of(&windowed, now)).unwrap();
        assert_eq!(value["refresh_until"], "2026-12-27T12:00:00Z");
        for spent in [
            TokenRecord {
                secret_key_used_at: Some(now),
                ..windowed.clone()
            },
            TokenRecord {
                revoked_at: Some(now),
                ..windowed.clone()
            },
            TokenRecord {
                secret_key_hash: None,
                ..windowed.clone()
            },
        ] {
            let value = serde_json::to_value(TokenJson::of(&spent, now)).unwrap();
            assert!(value["refresh_until"].is_null(), "{value}");
        }
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
            printable("ci-deploy: \"owned\" by é 👍🏽"),
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
    }

    #[test]
    fn each_hidden_class_is_escaped() {
        for (class, c) in [
            ("Cf bidi mark", '\u{200f}'),
            ("Cf bidi mark", '\u{200e}'),
            ("Cf Arabic letter mark", '\u{61c}'),
            ("Cf zero-width space", '\u{200b}'),
            ("Cf zero-width joiner", '\u{200d}'),
            ("Cf word joiner", '\u{2060}'),
            ("Cf BOM", '\u{feff}'),
            ("Cf soft hyphen", '\u{ad}'),
            ("Cf tag", '\u{e0041}'),
            ("Cf interlinear annotation", '\u{fff9}'),
            ("Zl", '\u{2028}'),
            ("Zp", '\u{2029}'),
            ("Zs no-break space", '\u{a0}'),
            ("Zs em space", '\u{2003}'),
            ("Zs narrow no-break space", '\u{202f}'),
            ("Zs ideographic space", '\u{3000}'),
            ("Zs ogham space", '\u{1680}'),
        ] {
            let text = format!("a{c}b");
            let expected = format!("a\\u{{{:x}}}b", u32::from(c));
            assert_eq!(printable(&text), expected, "{class}");
            assert_eq!(message(&text), expected, "{class}");
        }
        assert_eq!(printable("a b"), "a b", "U+0020 is text");
        // Every character of those classes, and none other but the controls.
        use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
        for c in (0..=0x10_ffff).filter_map(char::from_u32) {
            let class = c.general_category();
            let hidden = c != ' '
                && (matches!(
                    class,
                    GeneralCategory::Control
                        | GeneralCategory::Format
                        | GeneralCategory::LineSeparator
                        | GeneralCategory::ParagraphSeparator
                        | GeneralCategory::SpaceSeparator
                ) || is_control(c));
            assert_eq!(is_hidden(c), hidden, "U+{:04X} ({class:?})", u32::from(c));
        }
    }

    /// The text [`printable`] was given, back from what it showed: proof that no two texts show
    /// alike.
    fn unescape(shown: &str) -> String {
        let mut text = String::new();
        let mut chars = shown.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                text.push(c);
                continue;
            }
            match chars.next() {
                Some('\\') => text.push('\\'),
                Some('t') => text.push('\t'),
                Some('n') => text.push('\n'),
                Some('r') => text.push('\r'),
                Some('x') => {
                    let hex: String = chars.by_ref().take(2).collect();
                    text.push(char::from(u8::from_str_radix(&hex, 16).unwrap()));
                }
                Some('u') => {
                    let hex: String = chars.by_ref().skip(1).take_while(|c| *c != '}').collect();
                    text.push(char::from_u32(u32::from_str_radix(&hex, 16).unwrap()).unwrap());
                }
                other => panic!("a lone backslash before {other:?} in {shown:?}"),
            }
        }
        text
    }

    #[test]
    fn a_literal_backslash_sequence_never_looks_escaped() {
        for (literal, real) in [
            ("\\x1b[2J", "\u{1b}[2J"),
            ("\\u{202e}", "\u{202e}"),
            ("\\n", "\n"),
            ("\\t", "\t"),
            ("\\u{200f}", "\u{200f}"),
        ] {
            assert_ne!(printable(literal), printable(real), "{literal}");
            assert_eq!(unescape(&printable(literal)), literal);
        }
        assert_eq!(printable("C:\\temp\\x1b"), "C:\\\\temp\\\\x1b");
        assert_eq!(printable("\\"), "\\\\");
        // A message keeps backslashes: it may quote text already printable.
        let once = printable("\u{1b}[31m\\x1b").into_owned();
        assert_eq!(message(&once), once);
    }

    proptest::proptest! {
        #[test]
        fn printable_text_holds_no_hidden_character_and_reads_back(
            text in "\\PC*|[\\x00-\\x{a0}\\x{2020}-\\x{2070}\\x{fef0}-\\x{ffff}\\\\xu{}]*"
        ) {
            let shown = printable(&text);
            proptest::prop_assert!(!shown.chars().any(is_hidden));
            proptest::prop_assert_eq!(
                shown == text.as_str(),
                !text.chars().any(|c| is_hidden(c) || c == '\\')
            );
            proptest::prop_assert_eq!(unescape(&shown), text.clone());
            proptest::prop_assert!(!message(&text).chars().any(is_hidden));
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
