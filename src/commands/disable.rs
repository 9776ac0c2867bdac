//! `tokens disable`: suspend tokens without revoking them (SPEC §9); `tokens enable` (enable.rs)
//! lifts the suspension. Nothing is lost, so neither asks for confirmation.

use serde_json::json;

use super::{Context, label};
use crate::cli::DisableArgs;
use crate::error::{Error, Result};
use crate::output;
use crate::vault::{Access, Disabling, Store, TokenRecord};

pub fn run(context: &Context, args: DisableArgs) -> Result<()> {
    switch(
        context,
        &args.tokens,
        Switch::Disable(args.reason.as_deref()),
    )
}

/// Which way [`switch`] turns tokens.
#[derive(Clone, Copy)]
pub(super) enum Switch<'a> {
    /// With the reason given, if any.
    Disable(Option<&'a str>),
    Enable,
}

/// Disables or enables the tokens `given` (ids or names) in one transaction; an id is just
/// that token. To disable, a name covers every token of that name that still verifies, as
/// `revoke` reads it (one rotated away whose grace runs too), all marked with this command's
/// batch. To enable, a name covers its newest token, and older ones of that name only when the
/// command that disabled the newest disabled them too: one an admin disabled on its own (it
/// leaked) stays disabled, and is listed with the command that would enable it. A revoked
/// token is refused (exit 5): there is nothing to suspend or restore. One already as asked is
/// reported, not changed.
pub(super) fn switch(context: &Context, given: &[String], switch: Switch<'_>) -> Result<()> {
    let now = context.now;
    let disable = matches!(switch, Switch::Disable(_));
    let mut vault = context.open(Access::Write)?;
    // Resolved before the lock for the message when nothing matches; read again under it.
    for id_or_name in given {
        context.resolve(&vault, id_or_name)?;
    }
    // One id for everything this command disables (`enable NAME` reads it).
    let batch = crate::token::generate_id();
    let (changed, already, left, on_its_own) = vault.write(|store| {
        let mut targets: Vec<TokenRecord> = Vec::new();
        let mut left: Vec<TokenRecord> = Vec::new();
        for id_or_name in given {
            let (chosen, skipped) = targets_of(store, id_or_name, disable, now)?;
            for record in chosen {
                if !targets.iter().any(|target| target.id == record.id) {
                    targets.push(record);
                }
            }
            left.extend(skipped);
        }
        // Named on its own as well: enabled after all.
        left.retain(|record| !targets.iter().any(|target| target.id == record.id));
        let (mut changed, mut already, mut on_its_own) = (Vec::new(), Vec::new(), Vec::new());
        for record in targets {
            if record.is_revoked(now) {
                return Err(Error::Revoked(format!(
                    "token {} is revoked; there is nothing to {}",
                    label(&record),
                    if disable { "disable" } else { "enable" }
                )));
            }
            if record.controls.disabled_at.is_some() == disable {
                // An older token disabled before with others of its name (`disable NAME`), and
                // now named on its own (it leaked): marked as this command's, so `enable NAME`
                // leaves it. (The newest is enabled by `enable NAME` whatever its mark.)
                if let (Switch::Disable(reason), Some(at)) = (switch, record.controls.disabled_at)
                    && given.contains(&record.id)
                    && record.controls.disabled_batch.is_some()
                    && store
                        .find(&record.name)?
                        .is_some_and(|newest| newest.id != record.id)
                    && store
                        .verifying_by_name(&record.name, now)?
                        .iter()
                        .any(|other| {
                            other.id != record.id
                                && other.controls.disabled_batch == record.controls.disabled_batch
                        })
                {
                    let reason = reason.or(record.controls.disable_reason.as_deref());
                    let disabling = Disabling {
                        at,
                        reason,
                        batch: &batch,
                    };
                    store.set_disabled(&record.id, Some(disabling))?;
                    store.log_event(now, Some(&record.id), "disabled", reason.unwrap_or(""))?;
                    on_its_own.push(record.id.clone());
                }
                already.push(record);
                continue;
            }
            match switch {
                Switch::Disable(reason) => {
                    let disabling = Disabling {
                        at: now,
                        reason,
                        batch: &batch,
                    };
                    store.set_disabled(&record.id, Some(disabling))?;
                    store.log_event(now, Some(&record.id), "disabled", reason.unwrap_or(""))?;
                }
                Switch::Enable => {
                    store.set_disabled(&record.id, None)?;
                    store.log_event(now, Some(&record.id), "enabled", "")?;
                }
            }
            changed.push(record);
        }
        Ok((changed, already, left, on_its_own))
    })?;

    let (done, state) = if disable {
        ("Disabled", "disabled")
    } else {
        ("Enabled", "enabled")
    };
    if context.json {
        let key = format!("already_{state}");
        let entries: Vec<_> = changed
            .iter()
            .map(|record| (record, false))
            .chain(already.iter().map(|record| (record, true)))
            .map(|(record, was)| json!({ "id": record.id, "name": record.name, key.as_str(): was }))
            .collect();
        output::print_json(&serde_json::Value::Array(entries))?;
    }
    for record in &already {
        if on_its_own.contains(&record.id) {
            context.notice(&format!(
                "{} is already disabled; now disabled on its own, so tokens enable {} leaves it \
                 disabled.",
                label(record),
                crate::output::printable(&record.name)
            ));
            continue;
        }
        context.notice(&format!(
            "{} is already {state}; nothing to do.",
            label(record)
        ));
    }
    for record in &changed {
        context.notice(&format!("{done} {}.", label(record)));
    }
    for record in &left {
        context.notice(&format!(
            "Left {} disabled: another command disabled it ({}); to enable it too: tokens enable {}",
            label(record),
            record
                .controls
                .disable_reason
                .as_deref()
                .map_or("no reason given".into(), |reason| format!(
                    "reason: {}",
                    crate::output::printable(reason)
                )),
            record.id
        ));
    }
    Ok(())
}

/// The tokens `id_or_name` names, read under the write lock, and (to enable) the disabled
/// ones of that name it leaves alone: by id that token; by name every token of that name that
/// still verifies, else the newest of that name; to enable, of those the newest and the ones
/// the same `disable` command disabled.
fn targets_of(
    store: &dyn Store,
    id_or_name: &str,
    disable: bool,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(Vec<TokenRecord>, Vec<TokenRecord>)> {
    let Some(newest) = store.find(id_or_name)? else {
        return Err(Error::NotFound(format!(
            "no token with id or name \"{id_or_name}\"; see tokens list"
        )));
    };
    if newest.id == id_or_name {
        return Ok((vec![newest], Vec::new()));
    }
    let verifying = store.verifying_by_name(id_or_name, now)?;
    if verifying.is_empty() {
        return Ok((vec![newest], Vec::new()));
    }
    if disable {
        return Ok((verifying, Vec::new()));
    }
    let batch = newest.controls.disabled_batch.clone();
    let (older, left): (Vec<_>, Vec<_>) = verifying
        .into_iter()
        .filter(|record| record.id != newest.id)
        .partition(|record| {
            record.controls.disabled_at.is_none()
                || (batch.is_some() && record.controls.disabled_batch == batch)
        });
    let mut chosen = vec![newest];
    chosen.extend(older);
    Ok((chosen, left))
}
