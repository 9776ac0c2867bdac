//! `tokens rotate`: a new secret (and id) for the same name, app and scopes; the old one stops
//! verifying now, when `--grace` ends, or (`--until-used`) when the new one is first verified.
//!
//! `--until-used` is decided without anyone writing the old token's row when the time comes:
//! the old row names its successor (`waits_for`), the verifier that first finds the successor
//! good records that use in the bookkeeping table before it answers, and every lookup of the old
//! token reads that first use as its revocation (`records::REVOKED_AT`).

use chrono::{DateTime, Duration, Utc};

use super::issue::{Template, issue, show_once};
use super::{Context, ensure_live, label};
use crate::cli::RotateArgs;
use crate::duration::expires_option;
use crate::error::{Error, Result};
use crate::output::rfc3339;
use crate::vault::{Access, NewToken, Store, TokenRecord, UNTIL_USED_ONLY};

pub fn run(context: &Context, args: RotateArgs) -> Result<()> {
    let now = context.now;
    let expires = args
        .expires
        .as_deref()
        .map(|text| expires_option(text, now))
        .transpose()
        .map_err(Error::Usage)?;
    // `--grace 0s` is no grace: an immediate rotation, confirmed like one.
    let grace = args.grace.filter(|grace| *grace > Duration::zero());

    let until_used = args.until_used;
    let mut vault = context.open(Access::Write)?;
    let target = context.resolve(&vault, &args.token)?;
    // Refused before asking; asked again under the write lock below.
    if let Some(expires_at) = expires
        && let Some(breach) = vault.store().policy()?.lifetime_breach(expires_at, now)
    {
        return Err(Error::Usage(breach.why));
    }
    if grace.is_none() && !until_used && target.revoked_at.is_none() {
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
        let stops_at = match (until_used, grace) {
            // Until the first use only: at the latest when it would have expired anyway.
            (true, None) => old
                .expires_at
                .map_or_else(until_first_use_only, |at| at.max(now)),
            _ => stop_time(&old, grace, now),
        };
        let policy = store.policy()?;
        let expires_at = match expires {
            // Asked for: refused if it breaks the rule (exit 2).
            Some(expires_at) => {
                if let Some(breach) = policy.lifetime_breach(expires_at, now) {
                    return Err(Error::Usage(breach.why));
                }
                expires_at
            }
            // Carried over: never refused (an incident rotation must go through), capped.
            None => policy.cap(old.lifetime().map(|lifetime| now + lifetime), now),
        };
        // Carried over and capped, never refused, like the lifetime.
        let window = policy.cap_refresh_window(old.controls.refresh_window);
        let mut issued = issue(
            Template::successor(&old, expires_at, old.secret_key_hash.is_some(), window),
            now,
        );
        if until_used {
            issued.row.first_use_ends = Some(old.id.clone());
        }
        hand_on_first_use(store, &old.id, &mut issued.row)?;
        let new_id = &issued.row.id;
        store.set_revoked(&old.id, stops_at, "rotated", Some(new_id))?;
        if until_used {
            store.wait_for_first_use(&old.id, new_id)?;
        }
        store.insert(&issued.row)?;
        let stops = match (until_used, stops_at > now) {
            (true, true) if stops_at.timestamp() < UNTIL_USED_ONLY => format!(
                "stops verifying when {new_id} is first used, at the latest at {}",
                rfc3339(stops_at)
            ),
            (true, true) => format!("stops verifying when {new_id} is first used"),
            (false, true) => format!("stops verifying at {}", rfc3339(stops_at)),
            (_, false) => "stopped verifying".into(),
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
    // Rotation carries the uses left (SPEC §9): a used-up token's successor has none.
    if issued.row.controls.uses_limit == Some(0) {
        context.notice(&format!(
            "The new token {new} has no uses left: {old} had spent them all, and rotation \
             carries the uses left; to give it some: tokens edit {new} --uses N",
            new = issued.row.id,
            old = old.id
        ));
    }
    if until_used && stops_at > now {
        context.notice(&format!(
            "The old token {} keeps verifying until {} is first verified{}.",
            old.id,
            issued.row.id,
            if stops_at.timestamp() < UNTIL_USED_ONLY {
                format!(" or until {}, whichever comes first", rfc3339(stops_at))
            } else {
                String::new()
            }
        ));
    } else if stops_at > now {
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

/// When `replaced` is an `--until-used` successor not used yet, the token waiting for its first
/// use waits for `new` instead (rotate or refresh of that successor): the rotation ends when the
/// token that replaced it is first used, rather than never. Called before `new` is inserted.
pub(super) fn hand_on_first_use(
    store: &dyn Store,
    replaced: &str,
    new: &mut NewToken,
) -> Result<()> {
    let Some(waiting) = store
        .find_for_verify(replaced)?
        .and_then(|record| record.ends_on_first_use)
    else {
        return Ok(());
    };
    new.first_use_ends.get_or_insert_with(|| waiting.clone());
    store.wait_for_first_use(&waiting, &new.id)
}

/// `revoked_at` of an old token that only its successor's first use ends (a never-expiring
/// token rotated `--until-used` without `--grace`).
fn until_first_use_only() -> DateTime<Utc> {
    DateTime::from_timestamp(UNTIL_USED_ONLY, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
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

/// Only a revoke ends a `rotate --until-used` wait before the successor's first use: the
/// token `old_id` that waited on `successor` (just revoked) is handed back, live with its own
/// expiry, and a `rotation_cancelled` event says so. Not when this command revoked it too, it
/// stopped meanwhile, or its name went to another live token (it then keeps its stop time).
pub(crate) fn cancel_rotation(
    store: &dyn Store,
    successor: &str,
    old_id: &str,
    revoked: &[&str],
    now: DateTime<Utc>,
) -> Result<Option<TokenRecord>> {
    if revoked.contains(&old_id) {
        return Ok(None);
    }
    let Some(old) = store.find_by_id(old_id)? else {
        return Ok(None);
    };
    if old.is_revoked(now) || store.live_by_name(&old.name)?.is_some() {
        return Ok(None);
    }
    store.cancel_rotation(&old.id)?;
    store.log_event(
        now,
        Some(&old.id),
        "rotation_cancelled",
        &format!("{successor} was revoked before its first use; active again"),
    )?;
    Ok(Some(old))
}

/// Tells that revoking `successor` handed `old` back (see [`cancel_rotation`]).
pub(crate) fn say_cancelled(context: &Context, successor: &str, old: &TokenRecord) {
    context.notice(&format!(
        "{successor} had not been used yet, so its rotation is cancelled: {} is active again \
         until its own expiry; to end it too: tokens revoke {}",
        label(old),
        old.id
    ));
}
