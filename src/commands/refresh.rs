//! `tokens refresh`: the holder trades a token and its secret key for a new pair, even after the
//! token expired. A secret key works once: presenting a used one revokes the whole lineage.

use super::issue::{Issued, Template, issue, show_once};
use super::secrets::{self, Source, StdinLines};
use super::{Context, label, name_and_id};
use crate::cli::{CopyArgs, RefreshArgs};
use crate::error::{Error, Result};
use crate::output::rfc3339;
use crate::policy::format_duration;
use crate::token::{Credential, FormatError, Kind, generate_id};
use crate::vault::{Access, RefreshOutcome, Store, TokenRecord};
use chrono::{DateTime, Utc};

/// What the refresh came to, decided under the write lock.
enum Outcome {
    Refreshed(Box<Issued>),
    /// The secret key had been used before: the lineage was revoked (and that is committed).
    ReuseDetected {
        name: String,
        revoked: usize,
    },
}

/// Why a refresh is not made, once the token's secret and its secret key have matched.
enum Refusal {
    /// The secret key was used before: the caller revokes the lineage.
    Reused,
    /// Refused as it stands; nothing is written (the secret key stays unused).
    Refused(Error),
}

/// The refresh rules (SPEC §9), in the order they apply, for a token whose secret and secret
/// key matched. Kept in this one place so a backend that refreshes by itself (a PostgreSQL
/// refresh function) can mirror them rule for rule:
/// 1. the secret key was used before: reuse (the lineage is revoked, exit 5);
/// 2. the token is revoked, or rotated or refreshed away (even while a grace runs): exit 5;
/// 3. its refresh window ended (`expires_at + refresh_window <= now`): exit 4;
/// 4. it is disabled: exit 7;
/// 5. its uses are spent (`used_up`): exit 4.
///
/// A token that passes gets a successor with its lifetime and refresh window (both capped by
/// the policy, never refused) and its uses left ([`Template::successor`]).
fn refusal(old: &TokenRecord, now: DateTime<Utc>) -> std::result::Result<(), Refusal> {
    if old.secret_key_used_at.is_some() {
        return Err(Refusal::Reused);
    }
    if old.revoked_at.is_some() {
        return Err(Refusal::Refused(not_live(
            &label(old),
            old.replaced_by.is_some(),
        )));
    }
    if let (Some(expired_at), Some(window)) = (old.expires_at, old.controls.refresh_window)
        && expired_at + window <= now
    {
        return Err(Refusal::Refused(window_ended(
            &label(old),
            &old.id,
            expired_at,
            window,
        )));
    }
    if old.controls.disabled_at.is_some() {
        return Err(Refusal::Refused(disabled(&label(old), &old.id)));
    }
    if old.controls.uses_left() == Some(0) {
        return Err(Refusal::Refused(used_up(&label(old))));
    }
    Ok(())
}

/// Refresh-token reuse: someone else may hold a copy. Ends every token of the lineage.
fn revoke_lineage(store: &dyn Store, old: &TokenRecord, now: DateTime<Utc>) -> Result<Outcome> {
    let live = store.live_of_lineage(&old.lineage, now)?;
    for record in &live {
        store.set_revoked(&record.id, now, "secret key reused", None)?;
    }
    store.log_event(
        now,
        Some(&old.id),
        "reuse_detected",
        &format!("revoked {} token(s) of the lineage", live.len()),
    )?;
    Ok(Outcome::ReuseDetected {
        name: old.name.clone(),
        revoked: live.len(),
    })
}

pub fn run(context: &Context, args: RefreshArgs) -> Result<()> {
    let mut stdin = StdinLines::new();
    let terminal = context.stdin_is_terminal;
    let token_text = secrets::read(
        &Source::from_args(args.token_env, args.token_file),
        "token",
        &mut stdin,
        terminal,
    )?;
    let key_text = secrets::read(
        &Source::from_args(args.secret_key_env, args.secret_key_file),
        "secret key",
        &mut stdin,
        terminal,
    )?;
    // Both lines the wrong way round: say so, rather than two separate complaints.
    let swapped =
        "the token and the secret key are swapped: give the token first, then its secret key";
    let token = Credential::parse(Kind::Token, &token_text).map_err(|why| match why {
        FormatError::WrongKind { .. } if Credential::parse(Kind::Token, &key_text).is_ok() => {
            Error::Malformed(swapped.into())
        }
        why => Error::Malformed(format!("the token is malformed: {why}")),
    })?;
    let secret_key = Credential::parse(Kind::SecretKey, &key_text)
        .map_err(|why| Error::Malformed(format!("the secret key is malformed: {why}")))?;
    if token.id() != secret_key.id() {
        return Err(Error::Invalid(
            "the secret key does not belong to this token".into(),
        ));
    }

    let now = context.now;
    let mut vault = match context.open(Access::Write) {
        // A role that may not change tokens may still be a refresher (PostgreSQL, SPEC §10).
        Err(Error::RoleRefused(why)) => {
            return refresh_through_vault(context, &args.copy, &token, &secret_key, why);
        }
        opened => opened?,
    };
    let outcome = vault.write(|store| {
        let old = store.find_by_id(token.id())?.ok_or_else(refused)?;
        if !token.matches(&old.secret_hash) {
            return Err(refused());
        }
        let Some(key_hash) = &old.secret_key_hash else {
            return Err(no_secret_key(&label(&old)));
        };
        if !secret_key.matches(key_hash) {
            return Err(refused());
        }
        match refusal(&old, now) {
            Ok(()) => {}
            Err(Refusal::Refused(why)) => return Err(why),
            Err(Refusal::Reused) => return revoke_lineage(store, &old, now),
        }
        // Never refused by the policy (the holder cannot change the token): capped instead.
        let policy = store.policy()?;
        let expires_at = policy.cap(old.lifetime().map(|lifetime| now + lifetime), now);
        let window = policy.cap_refresh_window(old.controls.refresh_window);
        let mut issued = issue(Template::successor(&old, expires_at, true, window), now);
        super::rotate::hand_on_first_use(store, &old.id, &mut issued.row)?;
        let new_id = &issued.row.id;
        store.set_revoked(&old.id, now, "refreshed", Some(new_id))?;
        store.mark_secret_key_used(&old.id, now)?;
        store.insert(&issued.row)?;
        store.log_event(
            now,
            Some(&old.id),
            "refreshed",
            &format!("replaced by {new_id}"),
        )?;
        store.log_event(
            now,
            Some(new_id),
            "created",
            &format!("refreshed from {}", old.id),
        )?;
        Ok(Outcome::Refreshed(Box::new(issued)))
    })?;

    match outcome {
        Outcome::Refreshed(issued) => show_once(context, &issued, "Refreshed", &args.copy),
        Outcome::ReuseDetected { name, revoked } => Err(reuse_detected(&name, revoked)),
    }
}

/// A refresher role's refresh (SPEC §10): the vault's own function applies every rule and
/// writes the events; this process only draws the new pair. A role that is no refresher
/// either gets `refused_because`, the refusal opening the vault for writing gave.
fn refresh_through_vault(
    context: &Context,
    copy: &CopyArgs,
    token: &Credential,
    secret_key: &Credential,
    refused_because: String,
) -> Result<()> {
    let mut vault = context.open(Access::Read)?;
    let id = generate_id();
    let new_token = Credential::generate(Kind::Token, &id);
    let new_key = Credential::generate(Kind::SecretKey, &id);
    let outcome = vault
        .refresh_through_vault(token, secret_key, &new_token, &new_key)?
        .ok_or(Error::RoleRefused(refused_because))?;
    let label = |name: &str| name_and_id(name, token.id());
    match outcome {
        RefreshOutcome::Refreshed(row) => {
            let issued = Issued {
                row: *row,
                token: new_token,
                secret_key: Some(new_key),
            };
            show_once(context, &issued, "Refreshed", copy)
        }
        RefreshOutcome::Invalid => Err(refused()),
        RefreshOutcome::NoSecretKey { name } => Err(no_secret_key(&label(&name))),
        RefreshOutcome::ReuseDetected { name, revoked } => Err(reuse_detected(&name, revoked)),
        RefreshOutcome::Revoked { name, rotated } => Err(not_live(&label(&name), rotated)),
        RefreshOutcome::WindowEnded {
            name,
            expired_at,
            window,
        } => Err(window_ended(&label(&name), token.id(), expired_at, window)),
        RefreshOutcome::Disabled { name } => Err(disabled(&label(&name), token.id())),
        RefreshOutcome::UsedUp { name } => Err(used_up(&label(&name))),
    }
}

fn refused() -> Error {
    Error::Invalid("the token or its secret key is not valid (unknown id or wrong secret)".into())
}

fn no_secret_key(label: &str) -> Error {
    Error::Invalid(format!(
        "token {label} has no secret key, so it cannot be refreshed; ask an admin to rotate it"
    ))
}

/// A revoked token, or one `rotated` (or refreshed) away.
fn not_live(label: &str, rotated: bool) -> Error {
    let how = if rotated { "was rotated" } else { "is revoked" };
    Error::Revoked(format!("token {label} {how}; it cannot be refreshed"))
}

fn disabled(label: &str, id: &str) -> Error {
    Error::Disabled(format!(
        "token {label} is disabled, so it cannot be refreshed; nothing was issued (an admin can \
         enable it: tokens enable {id})"
    ))
}

/// Past its refresh window: the token expired at `expired_at`, and its secret key refreshed it
/// for `window` after that.
fn window_ended(
    label: &str,
    id: &str,
    expired_at: DateTime<Utc>,
    window: chrono::Duration,
) -> Error {
    let after = if window.is_zero() {
        "when it expired: its refresh window is 0s".to_owned()
    } else {
        format!("{} after it expired", format_duration(window))
    };
    Error::Expired(format!(
        "the refresh window of token {label} ended at {} ({after}), so it cannot be refreshed; \
         nothing was issued (an admin can reissue it: tokens rotate {id})",
        rfc3339(expired_at + window)
    ))
}

fn used_up(label: &str) -> Error {
    Error::UsedUp(format!(
        "token {label} has no uses left (used_up), so it cannot be refreshed; nothing was issued \
         and the secret key was not spent"
    ))
}

fn reuse_detected(name: &str, revoked: usize) -> Error {
    let ended = match revoked {
        0 => "none was still live".to_owned(),
        1 => "1 live token ended".to_owned(),
        many => format!("{many} live tokens ended"),
    };
    Error::Revoked(format!(
        "this secret key was already used; every token of \"{name}\" is now revoked ({ended}); ask an admin for a new token"
    ))
}
