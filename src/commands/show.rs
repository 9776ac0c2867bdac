//! `tokens show`: every field of one token, its lineage and its recent events.

use std::io::{self, Write};

use chrono::{DateTime, Utc};

use super::Context;
use crate::cli::ShowArgs;
use crate::error::Result;
use crate::output::{self, relative, rfc3339};
use crate::vault::{Access, EventFilter, FailureCount};

/// How many events `show` lists; `tokens log` has them all.
const RECENT_EVENTS: u64 = 10;

pub fn run(context: &Context, args: ShowArgs) -> Result<()> {
    let vault = context.open(Access::Read)?;
    vault.may_read()?;
    let record = context.resolve(&vault, &args.token)?;
    // The lifecycle only: failed verifications are counted apart, so however many a stranger
    // makes, they never push "created", "rotated" or "revoked" out of view.
    let mut events = Vec::new();
    let recent = EventFilter {
        lineage: Some(record.lineage.clone()),
        since: None,
        last: Some(RECENT_EVENTS),
        lifecycle_only: true,
        ..EventFilter::default()
    };
    vault.store().events(&recent, &mut |event| {
        events.push(event);
        Ok(())
    })?;
    let mut failures = Vec::new();
    vault
        .store()
        .failure_counts(Some(&record.id), &mut |count| {
            failures.push(count);
            Ok(())
        })?;
    let now = context.now;
    if context.json {
        output::print_json(&output::token_detail_json(&record, now, &events, &failures))?;
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
    field("failed checks", &failed_checks(&failures, now))?;
    if let Some(disabled_at) = record.controls.disabled_at {
        let reason = record
            .controls
            .disable_reason
            .as_deref()
            .unwrap_or("no reason given");
        field("disabled", &format!("{} — {reason}", when(disabled_at)))?;
    }
    let uses = match (record.controls.uses_limit, record.controls.uses_left()) {
        (Some(limit), Some(left)) => format!("{left} of {limit} left"),
        _ => "unlimited".to_owned(),
    };
    field("uses", &uses)?;
    let addresses = match &record.controls.allow_from {
        Some(nets) => crate::vault::join_nets(nets).replace(',', ", "),
        None => "any".to_owned(),
    };
    field("addresses", &addresses)?;
    if let (crate::vault::Status::Rotating, Some(successor)) =
        (record.status(now), &record.waits_for)
    {
        field("stops", &output::rotation_end(&record, now))?;
        field(
            "waiting on",
            &format!("{successor} (its first use ends this token)"),
        )?;
    } else if let Some(revoked_at) = record.revoked_at {
        let label = if revoked_at > now { "stops" } else { "revoked" };
        // `revoke` without --reason keeps "revoked" as the reason: not worth saying twice.
        let reason = match record.revoke_reason.as_deref() {
            None | Some("revoked") => "no reason given",
            Some(reason) => reason,
        };
        field(label, &format!("{} — {reason}", when(revoked_at)))?;
    }
    let secret_key = match (&record.secret_key_hash, record.secret_key_used_at) {
        (None, _) => "none issued".to_owned(),
        (Some(_), None) => match (record.refresh_until(), record.controls.refresh_window) {
            (Some(until), Some(window)) => format!(
                "issued, unused; refreshes until {} (refresh window {})",
                when(until),
                crate::policy::format_duration(window)
            ),
            _ => "issued, unused".to_owned(),
        },
        (Some(_), Some(at)) => format!("used {}", when(at)),
    };
    field("secret key", &secret_key)?;
    field("note", record.note.as_deref().unwrap_or("-"))?;
    field(
        "rotated from",
        record.rotated_from.as_deref().unwrap_or("-"),
    )?;
    field("rotated to", record.replaced_by.as_deref().unwrap_or("-"))?;
    if record.controls.meta.is_empty() {
        field("meta", "-")?;
    }
    for (index, (key, value)) in record.controls.meta.iter().enumerate() {
        field(
            if index == 0 { "meta" } else { "" },
            &format!("{key}={value}"),
        )?;
    }
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

/// `none`, or `12 (invalid 10, expired 2), the last 3min ago`: how often this token was presented
/// and refused (SPEC §8: counted per reason, not logged one by one).
fn failed_checks(failures: &[FailureCount], now: DateTime<Utc>) -> String {
    let Some(last) = failures.iter().map(|count| count.last_at).max() else {
        return "none".into();
    };
    let total: i64 = failures.iter().map(|count| count.failures).sum();
    let by_reason: Vec<String> = failures
        .iter()
        .map(|count| format!("{} {}", count.reason, count.failures))
        .collect();
    format!(
        "{total} ({}), the last {}",
        by_reason.join(", "),
        relative(last, now)
    )
}
