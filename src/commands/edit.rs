//! `tokens edit`: change a token's metadata; its secret stays.

use super::create::dedup;
use super::{Context, ensure_live};
use crate::cli::EditArgs;
use crate::cli::META_KEYS;
use crate::duration::expires_option;
use crate::error::{Error, Result};
use crate::output::rfc3339;
use crate::vault::{Access, Edit, TokenRecord, join_nets};
use ipnet::IpNet;
use std::collections::BTreeMap;

pub fn run(context: &Context, args: EditArgs) -> Result<()> {
    let nothing_asked = args.rename.is_none()
        && args.add_scope.is_empty()
        && args.remove_scope.is_empty()
        && args.app.is_none()
        && args.expires.is_none()
        && args.note.is_none()
        && args.uses.is_none()
        && args.allow_from.is_empty()
        && !args.any_address
        && args.meta.is_empty()
        && args.unset_meta.is_empty()
        && args.refresh_window.is_none();
    if nothing_asked {
        return Err(Error::Usage(
            "nothing to change: pass --rename, --add-scope, --remove-scope, --app, --expires, \
             --note, --uses, --allow-from, --any-address, --meta, --unset-meta or \
             --refresh-window"
                .into(),
        ));
    }
    let allow_from = if args.any_address {
        Some(None)
    } else if args.allow_from.is_empty() {
        None
    } else {
        Some(Some(dedup_nets(&args.allow_from)))
    };
    let expires_at = args
        .expires
        .as_deref()
        .map(|text| expires_option(text, context.now))
        .transpose()
        .map_err(Error::Usage)?;

    let mut vault = context.open(Access::Write)?;
    let target = context.resolve(&vault, &args.token)?;
    let record = vault.write(|store| {
        // Read again under the write lock: another command may have changed it meanwhile.
        let record = store.find_by_id(&target.id)?.unwrap_or(target);
        ensure_live(&record)?;
        let edit = Edit {
            name: args.rename.clone().filter(|name| *name != record.name),
            app: args.app.clone().map(|app| (!app.is_empty()).then_some(app)),
            scopes: scopes_after(&record, &args.add_scope, &args.remove_scope),
            expires_at,
            note: args
                .note
                .clone()
                .map(|note| (!note.is_empty()).then_some(note)),
            uses_limit: args.uses.map(|uses| uses.0),
            allow_from: allow_from
                .clone()
                .filter(|nets| *nets != record.controls.allow_from),
            meta: Some(meta_after(
                &record.controls.meta,
                &args.meta,
                &args.unset_meta,
            )?)
            .filter(|meta| *meta != record.controls.meta),
            refresh_window: args.refresh_window.map(|window| window.0),
        };
        if edit.refresh_window.is_some() && record.secret_key_hash.is_none() {
            return Err(Error::Usage(format!(
                "token {} has no secret key, so a refresh window means nothing for it; leave \
                 --refresh-window out",
                super::label(&record)
            )));
        }
        enforce_policy(store.policy()?, &record, &edit, context.now)?;
        if let Some(name) = &edit.name
            && let Some(other) = store.live_by_name(name)?
        {
            return Err(Error::Conflict(format!(
                "a token named \"{name}\" already exists ({}); pick another name",
                other.id
            )));
        }
        store.apply_edit(&record.id, &edit)?;
        store.log_event(
            context.now,
            Some(&record.id),
            "edited",
            &describe(&record, &edit),
        )?;
        Ok(record)
    })?;
    context.notice(&format!(
        "Updated \"{}\" ({}).",
        args.rename.as_deref().unwrap_or(&record.name),
        record.id
    ));
    if context.json {
        // The token as it is now, as list --json shows it: every changing command prints a document.
        if let Some(updated) = vault.store().find_by_id(&record.id)? {
            let document =
                serde_json::to_value(crate::output::TokenJson::of(&updated, context.now))
                    .map_err(std::io::Error::from)?;
            crate::output::print_json(&document)?;
        }
    }
    Ok(())
}

/// Refuses (exit 2) an edit that would break a rule of the vault's policy. Only what the edit
/// changes is judged: a token made before a rule can still be renamed or have its note changed
/// (`policy check` lists it).
fn enforce_policy(
    policy: crate::policy::Policy,
    record: &TokenRecord,
    edit: &Edit,
    now: chrono::DateTime<chrono::Utc>,
) -> crate::error::Result<()> {
    if let Some(expires_at) = edit.expires_at
        && let Some(breach) = policy.lifetime_breach(expires_at, now)
    {
        return Err(Error::Usage(breach.why));
    }
    if let Some(window) = edit.refresh_window
        && let Some(breach) = policy.refresh_window_breach(window)
    {
        return Err(Error::Usage(breach.why));
    }
    let app = edit.app.clone().unwrap_or_else(|| record.app.clone());
    let added: Vec<String> = edit
        .scopes
        .iter()
        .flatten()
        .filter(|scope| !record.scopes.contains(scope))
        .cloned()
        .collect();
    let rules = crate::policy::Policy {
        max_lifetime: None,
        require_app: policy.require_app && edit.app.is_some(),
        ..policy
    };
    rules.enforce(app.as_deref(), &added, None, now)
}

/// The networks in the order given, each once.
pub fn dedup_nets(nets: &[IpNet]) -> Vec<IpNet> {
    let mut seen: Vec<IpNet> = Vec::with_capacity(nets.len());
    for net in nets {
        if !seen.contains(net) {
            seen.push(*net);
        }
    }
    seen
}

/// The metadata after setting `set` (a key given twice: the last value) and removing `unset`;
/// more than [`META_KEYS`] keys is a usage error.
pub fn meta_after(
    meta: &BTreeMap<String, String>,
    set: &[(String, String)],
    unset: &[String],
) -> Result<BTreeMap<String, String>> {
    let mut meta = meta.clone();
    meta.extend(set.iter().cloned());
    for key in unset {
        meta.remove(key);
    }
    if meta.len() > META_KEYS {
        return Err(Error::Usage(format!(
            "a token holds at most {META_KEYS} metadata keys; this would make {} (--unset-meta removes one)",
            meta.len()
        )));
    }
    Ok(meta)
}

/// The scope list after adding and removing, or `None` when it does not change.
fn scopes_after(record: &TokenRecord, add: &[String], remove: &[String]) -> Option<Vec<String>> {
    let mut scopes = record.scopes.clone();
    scopes.extend(add.iter().cloned());
    let scopes: Vec<String> = dedup(scopes)
        .into_iter()
        .filter(|scope| !remove.contains(scope))
        .collect();
    (scopes != record.scopes).then_some(scopes)
}

/// The event log's account of an edit (metadata only: never a secret).
fn describe(record: &TokenRecord, edit: &Edit) -> String {
    let mut changes = Vec::new();
    if let Some(name) = &edit.name {
        changes.push(format!("name {} -> {name}", record.name));
    }
    if let Some(app) = &edit.app {
        changes.push(format!(
            "app {} -> {}",
            record.app.as_deref().unwrap_or("-"),
            app.as_deref().unwrap_or("-")
        ));
    }
    if let Some(scopes) = &edit.scopes {
        changes.push(format!(
            "scopes [{}] -> [{}]",
            record.scopes.join(" "),
            scopes.join(" ")
        ));
    }
    if let Some(expires_at) = edit.expires_at {
        changes.push(format!(
            "expires {}",
            expires_at.map_or("never".into(), rfc3339)
        ));
    }
    if edit.note.is_some() {
        changes.push("note".into());
    }
    if let Some(limit) = edit.uses_limit {
        changes.push(match limit {
            Some(uses) => format!("uses {uses} from now"),
            None => "uses unlimited".into(),
        });
    }
    if let Some(nets) = &edit.allow_from {
        changes.push(match nets {
            Some(nets) => format!("allow from {}", join_nets(nets)),
            None => "any address".into(),
        });
    }
    if let Some(meta) = &edit.meta {
        let keys: Vec<&str> = meta.keys().map(String::as_str).collect();
        changes.push(format!("meta [{}]", keys.join(" ")));
    }
    if let Some(window) = edit.refresh_window {
        changes.push(format!(
            "refresh window {}",
            window.map_or("never".into(), crate::policy::format_duration)
        ));
    }
    if changes.is_empty() {
        "no change".into()
    } else {
        changes.join("; ")
    }
}
