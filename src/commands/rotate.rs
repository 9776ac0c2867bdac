//! `tokens rotate`: a new secret (and id) for the same name, app and scopes; the old one stops
//! verifying now or when `--grace` ends.

use chrono::Duration;

use super::issue::{Template, issue, show_once};
use super::{Context, ensure_live, label};
use crate::cli::RotateArgs;
use crate::duration::parse_expiry;
use crate::error::{Error, Result};
use crate::output::rfc3339;
use crate::vault::Access;

pub fn run(context: &Context, args: RotateArgs) -> Result<()> {
    let now = context.now;
    let expires = args
        .expires
        .as_deref()
        .map(|text| parse_expiry(text, now))
        .transpose()
        .map_err(|why| Error::Usage(format!("invalid --expires: {why}")))?;
    let stops_at = now + args.grace.unwrap_or_else(Duration::zero);

    let mut vault = context.open(Access::Write)?;
    let target = context.resolve(&vault, &args.token)?;
    if args.grace.is_none() && target.revoked_at.is_none() {
        context.confirm_revocation(
            "rotate",
            &format!(
                "Rotate {}? The old token stops verifying at once (--grace lets it run on)",
                label(&target)
            ),
        )?;
    }
    let (old, issued) = vault.write(|store| {
        // Read again under the write lock, so two rotations cannot both succeed.
        let old = store.find_by_id(&target.id)?.unwrap_or(target);
        ensure_live(&old)?;
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
        Ok((old, issued))
    })?;

    show_once(context, &issued, "Rotated", &args.copy)?;
    if stops_at > now {
        context.notice(&format!(
            "The old token {} keeps verifying until {}.",
            old.id,
            rfc3339(stops_at)
        ));
    }
    Ok(())
}
