//! `tokens show`: every field of one token, its lineage and its recent events.

use std::io::{self, Write};

use super::Context;
use crate::cli::ShowArgs;
use crate::error::Result;
use crate::output::{self, relative, rfc3339};
use crate::vault::{Access, EventFilter};

/// How many events `show` lists; `tokens log` has them all.
const RECENT_EVENTS: usize = 10;

pub fn run(context: &Context, args: ShowArgs) -> Result<()> {
    let vault = context.open(Access::Read)?;
    let record = context.resolve(&vault, &args.token)?;
    let events = vault.store().events(&EventFilter {
        lineage: Some(record.lineage.clone()),
        since: None,
        last: Some(RECENT_EVENTS),
    })?;
    let now = context.now;
    if context.json {
        output::print_json(&output::token_detail_json(&record, now, &events))?;
        return Ok(());
    }

    let when = |time: chrono::DateTime<chrono::Utc>| {
        format!("{} ({})", rfc3339(time), relative(time, now))
    };
    let optional = |time: Option<chrono::DateTime<chrono::Utc>>, none: &str| {
        time.map_or(none.to_owned(), when)
    };
    let mut out = io::stdout().lock();
    let mut field =
        |label: &str, value: &str| writeln!(out, "{label:<14}{}", output::printable(value));
    field("id", &record.id)?;
    field("name", &record.name)?;
    field("app", record.app.as_deref().unwrap_or("-"))?;
    field(
        "scopes",
        &if record.scopes.is_empty() {
            "-".into()
        } else {
            record.scopes.join(", ")
        },
    )?;
    field("token", &record.masked())?;
    field("status", record.status(now).as_str())?;
    field("created", &when(record.created_at))?;
    field("expires", &optional(record.expires_at, "never"))?;
    field("last used", &optional(record.last_used_at, "never"))?;
    if let Some(revoked_at) = record.revoked_at {
        let label = if revoked_at > now { "stops" } else { "revoked" };
        let reason = record.revoke_reason.as_deref().unwrap_or("no reason given");
        field(label, &format!("{} — {reason}", when(revoked_at)))?;
    }
    let secret_key = match (&record.secret_key_hash, record.secret_key_used_at) {
        (None, _) => "none issued".to_owned(),
        (Some(_), None) => "issued, unused".to_owned(),
        (Some(_), Some(at)) => format!("used {}", when(at)),
    };
    field("secret key", &secret_key)?;
    field("note", record.note.as_deref().unwrap_or("-"))?;
    field(
        "rotated from",
        record.rotated_from.as_deref().unwrap_or("-"),
    )?;
    field("rotated to", record.replaced_by.as_deref().unwrap_or("-"))?;
    if !events.is_empty() {
        writeln!(out, "\nrecent events")?;
        for event in &events {
            let id = output::printable(event.token_id.as_deref().unwrap_or("-"));
            writeln!(
                out,
                "  {}  {id}  {:<14} {}",
                rfc3339(event.at),
                output::printable(&event.kind),
                output::printable(&event.detail)
            )?;
        }
    }
    Ok(())
}
