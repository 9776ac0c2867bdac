//! `tokens policy`: the vault's rules (show, set, check). The checks themselves are in
//! `crate::policy`; create, edit, rotate and refresh apply them under the write lock.

use std::io::{self, Write};

use serde_json::json;

use super::{Context, EXIT_FOUND};
use crate::cli::{PolicyAction, PolicyArgs, PolicySetArgs};
use crate::error::{Error, Result};
use crate::output::{self, printable};
use crate::policy::{Breach, Policy, PolicyJson, format_duration};
use crate::vault::{Access, ListFilter, Status, TokenRecord};

pub fn run(context: &Context, args: PolicyArgs) -> Result<()> {
    match args.action {
        None => show(context),
        Some(PolicyAction::Set(set)) => change(context, set),
        Some(PolicyAction::Check(_)) => check(context),
    }
}

fn show(context: &Context) -> Result<()> {
    let vault = context.open(Access::Read)?;
    let policy = vault.store().policy()?;
    if context.json {
        let document = serde_json::to_value(PolicyJson::of(&policy)).map_err(anyhow_json)?;
        output::print_json(&document)?;
        return Ok(());
    }
    let mut out = io::stdout().lock();
    for (rule, value) in describe(&policy) {
        writeln!(out, "{rule:<24}{}", printable(&value))?;
    }
    Ok(())
}

/// Each rule and its value, as `policy` prints them and the `policy` event compares them.
fn describe(policy: &Policy) -> [(&'static str, String); 6] {
    let window =
        |window: Option<chrono::Duration>| window.map_or("never".to_owned(), format_duration);
    [
        (
            "max-lifetime",
            policy
                .max_lifetime
                .map_or("none".to_owned(), format_duration),
        ),
        (
            "default-lifetime",
            match policy.default_lifetime {
                Some(_) => format_duration(policy.default_lifetime()),
                None => format!("{} (built in)", format_duration(policy.default_lifetime())),
            },
        ),
        (
            "require-app",
            if policy.require_app { "yes" } else { "no" }.to_owned(),
        ),
        (
            "scopes",
            policy
                .scopes
                .as_ref()
                .map_or("any".to_owned(), |scopes| scopes.join(",")),
        ),
        (
            "max-refresh-window",
            policy
                .max_refresh_window
                .map_or("none".to_owned(), format_duration),
        ),
        (
            "default-refresh-window",
            match policy.default_refresh_window {
                Some(_) => window(policy.default_refresh_window()),
                None => format!("{} (built in)", window(policy.default_refresh_window())),
            },
        ),
    ]
}

fn change(context: &Context, args: PolicySetArgs) -> Result<()> {
    let nothing_asked = args.max_lifetime.is_none()
        && args.default_lifetime.is_none()
        && !args.require_app
        && !args.no_require_app
        && args.scopes.is_none()
        && !args.any_scope
        && args.max_refresh_window.is_none()
        && args.default_refresh_window.is_none();
    if nothing_asked {
        return Err(Error::Usage(
            "nothing to change: pass --max-lifetime, --default-lifetime, --require-app, \
             --no-require-app, --scopes, --any-scope, --max-refresh-window or \
             --default-refresh-window"
                .into(),
        ));
    }
    let mut vault = context.open(Access::Write)?;
    let now = context.now;
    let (before, after) = vault.write(|store| {
        let before = store.policy()?;
        let mut after = before.clone();
        if let Some(max) = args.max_lifetime {
            after.max_lifetime = max.0;
        }
        if let Some(default) = args.default_lifetime {
            after.default_lifetime = Some(default);
        }
        if args.require_app {
            after.require_app = true;
        }
        if args.no_require_app {
            after.require_app = false;
        }
        if let Some(scopes) = &args.scopes {
            after.scopes = Some(super::create::dedup(scopes.clone()));
        }
        if args.any_scope {
            after.scopes = None;
        }
        if let Some(max) = args.max_refresh_window {
            after.max_refresh_window = max.0;
        }
        if let Some(default) = args.default_refresh_window {
            after.default_refresh_window = default.0;
        }
        if let (Some(default), Some(max)) = (after.default_refresh_window, after.max_refresh_window)
            && default > max
        {
            return Err(Error::Usage(format!(
                "the default refresh window {} would be longer than the max refresh window {}; \
                 pass a shorter --default-refresh-window or a longer --max-refresh-window",
                format_duration(default),
                format_duration(max)
            )));
        }
        if let (Some(default), Some(max)) = (after.default_lifetime, after.max_lifetime)
            && default > max
        {
            return Err(Error::Usage(format!(
                "the default lifetime {} would be longer than the max lifetime {}; \
                 pass a shorter --default-lifetime or a longer --max-lifetime",
                format_duration(default),
                format_duration(max)
            )));
        }
        if after != before {
            store.set_policy(&after)?;
            let changes: Vec<String> = describe(&before)
                .into_iter()
                .zip(describe(&after))
                .filter(|(old, new)| old.1 != new.1)
                .map(|((rule, old), (_, new))| format!("{rule} {old} -> {new}"))
                .collect();
            store.log_event(now, None, "policy", &changes.join("; "))?;
        }
        Ok((before, after))
    })?;
    if context.json {
        let document = serde_json::to_value(PolicyJson::of(&after)).map_err(anyhow_json)?;
        output::print_json(&document)?;
    }
    context.notice(if before == after {
        "The policy already said so; nothing changed."
    } else {
        "Policy updated; tokens policy check lists live tokens that break it."
    });
    Ok(())
}

fn check(context: &Context) -> Result<()> {
    let vault = context.open(Access::Read)?;
    let now = context.now;
    let policy = vault.store().policy()?;
    let mut found = Vec::new();
    vault
        .store()
        .list(&ListFilter::default(), now, &mut |record| {
            let expired = record.status(now) == Status::Expired;
            let mut breaches = if expired {
                Vec::new()
            } else {
                policy.breaches(
                    record.app.as_deref(),
                    &record.scopes,
                    record.expires_at,
                    now,
                )
            };
            // Only a secret key that may still refresh the token makes its window matter; an
            // expired token counts while its key still refreshes it.
            let refreshable = !expired || record.refresh_until().is_none_or(|until| until > now);
            if record.has_usable_secret_key()
                && refreshable
                && let Some(breach) = policy.refresh_window_breach(record.controls.refresh_window)
            {
                breaches.push(breach);
            }
            if !breaches.is_empty() {
                found.push((record, breaches));
            }
            Ok(())
        })?;
    if context.json {
        let document: Vec<_> = found
            .iter()
            .map(|(record, breaches)| {
                json!({
                    "id": record.id,
                    "name": record.name,
                    "app": record.app,
                    "scopes": record.scopes,
                    "expires_at": record.expires_at.map(output::rfc3339),
                    "rules": breaches.iter().map(|b| b.rule).collect::<Vec<_>>(),
                    "problems": breaches.iter().map(|b| problem(record, b)).collect::<Vec<_>>(),
                    "fixes": breaches.iter().map(|b| fix(record, b)).collect::<Vec<_>>(),
                })
            })
            .collect();
        output::print_json(&serde_json::Value::Array(document))?;
    } else if !found.is_empty() {
        let rows = found
            .iter()
            .flat_map(|(record, breaches)| {
                breaches.iter().map(move |breach| {
                    vec![
                        (printable(&record.id).into_owned(), None),
                        (printable(&record.name).into_owned(), None),
                        (breach.rule.to_owned(), None),
                        (printable(&problem(record, breach)).into_owned(), None),
                    ]
                })
            })
            .collect();
        let table = output::table(
            &["ID", "NAME", "RULE", "PROBLEM"],
            &[],
            &["NAME", "PROBLEM"],
            rows,
            context.color,
        );
        writeln!(io::stdout().lock(), "{table}")?;
    }
    if found.is_empty() {
        context.notice("Every live token keeps the vault's policy.");
        Ok(())
    } else {
        context.notice(&format!(
            "{} live token(s) break the vault's policy; edit, rotate or revoke them.",
            found.len()
        ));
        Err(Error::Silent(EXIT_FOUND))
    }
}

/// A rule a token breaks, worded as the `edit` command that fixes it (and why).
fn problem(record: &TokenRecord, breach: &Breach) -> String {
    format!("{} ({})", fix(record, breach), breach.found)
}

/// The `edit` command that makes the token keep the rule (by id: a name may need quoting).
fn fix(record: &TokenRecord, breach: &Breach) -> String {
    format!("tokens edit {} {}", record.id, breach.fix)
}

fn anyhow_json(error: serde_json::Error) -> Error {
    Error::Other(error.into())
}
