//! `tokens disable`: suspend tokens without revoking them (SPEC §9); `tokens enable` (enable.rs)
//! lifts the suspension. Nothing is lost, so neither asks for confirmation.

use serde_json::json;

use super::{Context, label};
use crate::cli::DisableArgs;
use crate::error::{Error, Result};
use crate::output;
use crate::vault::{Access, Store, TokenRecord};

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

/// Disables or enables the tokens `given` (ids or names) in one transaction. A name covers
/// every token of that name that still verifies, as `revoke` reads it (one rotated away whose
/// grace runs too); an id just that token. A revoked token is refused (exit 5): there is
/// nothing to suspend or restore. One already as asked is reported, not changed.
pub(super) fn switch(context: &Context, given: &[String], switch: Switch<'_>) -> Result<()> {
    let now = context.now;
    let disable = matches!(switch, Switch::Disable(_));
    let mut vault = context.open(Access::Write)?;
    // Resolved before the lock for the message when nothing matches; read again under it.
    for id_or_name in given {
        context.resolve(&vault, id_or_name)?;
    }
    let (changed, already) = vault.write(|store| {
        let mut targets: Vec<TokenRecord> = Vec::new();
        for id_or_name in given {
            for record in targets_of(store, id_or_name, now)? {
                if !targets.iter().any(|target| target.id == record.id) {
                    targets.push(record);
                }
            }
        }
        let (mut changed, mut already) = (Vec::new(), Vec::new());
        for record in targets {
            if record.is_revoked(now) {
                return Err(Error::Revoked(format!(
                    "token {} is revoked; there is nothing to {}",
                    label(&record),
                    if disable { "disable" } else { "enable" }
                )));
            }
            if record.controls.disabled_at.is_some() == disable {
                already.push(record);
                continue;
            }
            match switch {
                Switch::Disable(reason) => {
                    store.set_disabled(&record.id, Some((now, reason)))?;
                    store.log_event(now, Some(&record.id), "disabled", reason.unwrap_or(""))?;
                }
                Switch::Enable => {
                    store.set_disabled(&record.id, None)?;
                    store.log_event(now, Some(&record.id), "enabled", "")?;
                }
            }
            changed.push(record);
        }
        Ok((changed, already))
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
        context.notice(&format!(
            "{} is already {state}; nothing to do.",
            label(record)
        ));
    }
    for record in &changed {
        context.notice(&format!("{done} {}.", label(record)));
    }
    Ok(())
}

/// The tokens `id_or_name` names, read under the write lock: by id that token; by name every
/// token of that name that still verifies, else the newest of that name.
fn targets_of(
    store: &dyn Store,
    id_or_name: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<TokenRecord>> {
    let Some(record) = store.find(id_or_name)? else {
        return Err(Error::NotFound(format!(
            "no token with id or name \"{id_or_name}\"; see tokens list"
        )));
    };
    if record.id == id_or_name {
        return Ok(vec![record]);
    }
    let verifying = store.verifying_by_name(id_or_name, now)?;
    Ok(if verifying.is_empty() {
        vec![record]
    } else {
        verifying
    })
}
