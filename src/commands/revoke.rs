//! `tokens revoke`: end tokens at once. Rows stay in the vault for the record.

use serde_json::json;

use super::{Context, label, rotate};
use crate::cli::RevokeArgs;
use crate::error::Result;
use crate::output;
use crate::vault::{Access, TokenRecord};

pub fn run(context: &Context, args: RevokeArgs) -> Result<()> {
    if args.leaked {
        return super::leaked::run(context);
    }
    let now = context.now;
    let mut vault = context.open(Access::Write)?;
    let mut targets: Vec<TokenRecord> = Vec::new();
    if args.all {
        // `requires = "app"` in the CLI guarantees an app here.
        let app = args.app.as_deref().unwrap_or_default();
        targets = vault.store().live_of_app(app, now)?;
        if targets.is_empty() {
            context.notice(&format!(
                "No live tokens of app \"{app}\"; nothing to revoke."
            ));
        }
    }
    // Tokens given by name (not id): read again under the write lock below.
    let mut names: Vec<&str> = Vec::new();
    for id_or_name in &args.tokens {
        let record = context.resolve(&vault, id_or_name)?;
        // A name ends every token of that name that still verifies, including one rotated away
        // whose grace is still running; an id ends just that token.
        let mut matched = if record.id == *id_or_name {
            Vec::new()
        } else {
            names.push(id_or_name);
            vault.store().verifying_by_name(id_or_name, now)?
        };
        if matched.is_empty() {
            matched.push(record);
        }
        for record in matched {
            if !targets.iter().any(|target| target.id == record.id) {
                targets.push(record);
            }
        }
    }
    let (already, to_revoke): (Vec<_>, Vec<_>) = targets
        .into_iter()
        .partition(|record| record.is_revoked(now));
    for record in &already {
        context.notice(&format!(
            "{} is already revoked; nothing to do.",
            label(record)
        ));
    }

    if !to_revoke.is_empty() {
        let names: Vec<String> = to_revoke.iter().map(label).collect();
        match names.as_slice() {
            [one] => context.confirm_revocation(
                "revoke",
                &format!("Revoke {one}? Clients using it will be refused at once"),
            )?,
            many => context.confirm_revocation_of(
                "revoke",
                &format!(
                    "Revoke {} tokens? Clients using them will be refused at once:",
                    many.len()
                ),
                many,
            )?,
        }
    }

    let reason = args.reason.as_deref().unwrap_or("revoked");
    let (revoked, cancelled) = vault.write(|store| {
        // What was read above may have changed before the lock was taken: a rotation since
        // then made a new token of that name or app, which the revocation covers too.
        let mut current: Vec<TokenRecord> = Vec::new();
        for record in &to_revoke {
            current.extend(store.find_by_id(&record.id)?);
        }
        for name in &names {
            // A token whose id is this name may have come in since (migrate, another program):
            // refused as ambiguous, as `resolve` does, never taken for the named one.
            if crate::token::looks_like_id(name) {
                store.find(name)?;
            }
            current.extend(store.verifying_by_name(name, now)?);
        }
        if args.all {
            current.extend(store.live_of_app(args.app.as_deref().unwrap_or_default(), now)?);
        }
        let mut revoked: Vec<TokenRecord> = Vec::new();
        // (successor revoked, the token that waited on its first use)
        let mut waiting: Vec<(String, String)> = Vec::new();
        for record in current {
            // Another command may have revoked it since it was read.
            let done = revoked.iter().any(|seen| seen.id == record.id);
            if done || record.is_revoked(now) || already.iter().any(|seen| seen.id == record.id) {
                continue;
            }
            // Read before the revocation: the wait of a `rotate --until-used` on this one.
            if let Some(old) = store
                .find_for_verify(&record.id)?
                .and_then(|verify| verify.ends_on_first_use)
            {
                waiting.push((record.id.clone(), old));
            }
            store.set_revoked(&record.id, now, reason, None)?;
            store.log_event(now, Some(&record.id), "revoked", reason)?;
            revoked.push(record);
        }
        let mut cancelled: Vec<(String, TokenRecord)> = Vec::new();
        for (successor, old) in waiting {
            let ended: Vec<&str> = revoked.iter().map(|record| record.id.as_str()).collect();
            if let Some(old) = rotate::cancel_rotation(store, &successor, &old, &ended, now)? {
                cancelled.push((successor, old));
            }
        }
        Ok((revoked, cancelled))
    })?;

    if context.json {
        let entries: Vec<_> = revoked
            .iter()
            .map(|record| (record, false))
            .chain(already.iter().map(|record| (record, true)))
            .map(|(record, already_revoked)| {
                json!({ "id": record.id, "name": record.name, "already_revoked": already_revoked })
            })
            .collect();
        output::print_json(&serde_json::Value::Array(entries))?;
    }
    for record in &revoked {
        context.notice(&format!("Revoked {}.", label(record)));
    }
    for (successor, old) in &cancelled {
        rotate::say_cancelled(context, successor, old);
    }
    Ok(())
}
