//! How things look: relative and RFC 3339 times, JSON shapes, tables, colour decisions.

use std::io::{self, IsTerminal, Write};

use chrono::{DateTime, SecondsFormat, Utc};
use comfy_table::{Attribute, Cell, Color, ContentArrangement, Table, presets};
use serde_json::{Value, json};

use crate::cli::ColorChoice;
use crate::vault::{Event, Status, TokenRecord};

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

/// The fields of SPEC §4 for one token in `list --json` (never a secret or a hash).
pub fn token_json(record: &TokenRecord, now: DateTime<Utc>) -> Value {
    json!({
        "id": record.id,
        "name": record.name,
        "app": record.app,
        "scopes": record.scopes,
        "masked": record.masked(),
        "created_at": rfc3339(record.created_at),
        "expires_at": rfc3339_or_null(record.expires_at),
        "last_used_at": rfc3339_or_null(record.last_used_at),
        "status": record.status(now).as_str(),
        "note": record.note,
    })
}

/// Everything `show --json` tells of a token: the list fields plus its history.
pub fn token_detail_json(record: &TokenRecord, now: DateTime<Utc>, events: &[Event]) -> Value {
    let mut value = token_json(record, now);
    let extra = json!({
        "revoked_at": rfc3339_or_null(record.revoked_at),
        "revoke_reason": record.revoke_reason,
        "has_secret_key": record.secret_key_hash.is_some(),
        "secret_key_used_at": rfc3339_or_null(record.secret_key_used_at),
        "rotated_from": record.rotated_from,
        "rotated_to": record.replaced_by,
        "events": events.iter().map(event_json).collect::<Vec<_>>(),
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

/// The status cell of a listing: coloured by state, "expiring" when within a week of its end.
pub fn status_cell(record: &TokenRecord, now: DateTime<Utc>) -> Cell {
    let status = record.status(now);
    let expiring_soon = status == Status::Active
        && record
            .expires_at
            .is_some_and(|at| at - now <= chrono::Duration::days(7));
    let (text, color) = match status {
        Status::Active if expiring_soon => ("expiring", Color::Yellow),
        Status::Active => ("active", Color::Green),
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
    fn times_are_rfc3339_utc() {
        let time = Utc.with_ymd_and_hms(2027, 1, 31, 0, 0, 0).unwrap();
        assert_eq!(rfc3339(time), "2027-01-31T00:00:00Z");
    }
}
