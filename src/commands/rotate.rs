//! `tokens rotate`: a new secret (and id) for the same name, app and scopes; the old one stops
//! verifying now or when `--grace` ends.

use chrono::{DateTime, Duration, Utc};

use super::issue::{Template, issue, show_once};
use super::{Context, ensure_live, label};
use crate::cli::RotateArgs;
use crate::duration::parse_expiry;
use crate::error::{Error, Result};
use crate::output::rfc3339;
use crate::vault::{Access, TokenRecord};

pub fn run(context: &Context, args: RotateArgs) -> Result<()> {
    let now = context.now;
    let expires = args
        .expires
        .as_deref()
        .map(|text| parse_expiry(text, now))
        .transpose()
        .map_err(|why| Error::Usage(format!("invalid --expires: {why}")))?;
    // `--grace 0s` is no grace: an immediate rotation, confirmed like one.
    let grace = args.grace.filter(|grace| *grace > Duration::zero());

    let mut vault = context.open(Access::Write)?;
    let target = context.resolve(&vault, &args.token)?;
    if grace.is_none() && target.revoked_at.is_none() {
        context.confirm_revocation(
            "rotate",
            &format!(
                "Rotate {}? The old token stops verifying at once (--grace lets it run on)",
                label(&target)
            ),
        )?;
    }
    let (old, issued, stops_at) = vault.write(|store| {
        // Read again under the write lock, so two rotations cannot both succeed.
        let old = store.find_by_id(&target.id)?.unwrap_or(target);
        ensure_live(&old)?;
        let stops_at = stop_time(&old, grace, now);
        let expires_at = expires.unwrap_or_else(|| old.lifetime().map(|lifetime| now + lifetime));
        let issued = issue(
            Template::successor(&old, expires_at, old.secret_key_hash.is_some()),
            now,
        );
        let new_id = &issued.row.id;
        store.set_revoked(&old.id, stops_at, "rotated", Some(new_id))?;
        store.insert(&issued.row)?;
        let stops = if stops_at > now {
            format!("stops verifying at {}", rfc3339(stops_at))
        } else {
            "stopped verifying".into()
        };
        store.log_event(
            now,
            Some(&old.id),
            "rotated",
            &format!("replaced by {new_id}; {stops}"),
        )?;
        store.log_event(
            now,
            Some(new_id),
            "created",
            &format!("rotated from {}", old.id),
        )?;
        Ok((old, issued, stops_at))
    })?;

    show_once(context, &issued, "Rotated", &args.copy)?;
    if stops_at > now {
        let capped = grace.is_some_and(|grace| stops_at < now + grace);
        context.notice(&if capped {
            format!(
                "The old token {} keeps verifying until it expires at {}: the --grace asked for \
                 was longer than it had left.",
                old.id,
                rfc3339(stops_at)
            )
        } else {
            format!(
                "The old token {} keeps verifying until {}.",
                old.id,
                rfc3339(stops_at)
            )
        });
    }
    Ok(())
}

/// When the old token stops verifying: now, or when the grace ends, but never after it would
/// have expired anyway (a grace cannot lengthen a token's life).
fn stop_time(old: &TokenRecord, grace: Option<Duration>, now: DateTime<Utc>) -> DateTime<Utc> {
    let wanted = now + grace.unwrap_or_else(Duration::zero);
    match old.expires_at {
        Some(expires_at) if expires_at < wanted => expires_at.max(now),
        _ => wanted,
    }
}
