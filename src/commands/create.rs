//! `tokens create`: make a token and show it once.

use super::issue::{Template, issue, show_once};
use super::{Context, label};
use crate::cli::CreateArgs;
use crate::duration::expires_option;
use crate::error::{Error, Result};
use crate::prompt;
use crate::vault::{Access, Controls};

pub fn run(context: &Context, args: CreateArgs) -> Result<()> {
    // A use-limited token has no secret key unless asked for: each refresh would give its
    // holder a new token with the uses left, a one-time token more than one use.
    let with_secret_key = !args.no_secret_key && (args.uses.is_none() || args.secret_key);
    if args.refresh_window.is_some() && !with_secret_key {
        return Err(Error::Usage(format!(
            "--refresh-window bounds refreshing with the secret key, and this token gets none \
             ({}); leave --refresh-window out{}",
            if args.no_secret_key {
                "--no-secret-key"
            } else {
                "--uses issues none without --secret-key"
            },
            if args.no_secret_key {
                ""
            } else {
                ", or add --secret-key"
            }
        )));
    }
    let controls = Controls {
        uses_limit: args.uses,
        allow_from: (!args.allow_from.is_empty())
            .then(|| super::edit::dedup_nets(&args.allow_from)),
        meta: super::edit::meta_after(&Default::default(), &args.meta, &[])?,
        ..Controls::default()
    };
    let expires_at = args
        .expires
        .as_deref()
        .map(|text| expires_option(text, context.now))
        .transpose()
        .map_err(Error::Usage)?;
    // Without --expires, the vault policy's default lifetime is filled in below.
    let mut default_lifetime = false;
    let mut template = match args.name {
        Some(name) => Template {
            name,
            app: args.app,
            scopes: dedup(args.scopes),
            note: args.note,
            expires_at: expires_at.unwrap_or_else(|| {
                default_lifetime = true;
                None
            }),
            with_secret_key,
            replaces: None,
            controls,
        },
        None if context.stdin_is_terminal && context.stderr_is_terminal => {
            let vault = context.open(Access::Read).ok();
            let (known_scopes, policy) = match &vault {
                Some(vault) => (
                    vault.store().apps_and_scopes_in_use(context.now)?.1,
                    vault.store().policy().unwrap_or_default(),
                ),
                None => (Vec::new(), crate::policy::Policy::default()),
            };
            // Said at the Name prompt, not after all four (checked again when it is made).
            let name_is_free = |name: &str| -> Result<(), String> {
                match vault.as_ref().map(|vault| vault.store().live_by_name(name)) {
                    Some(Ok(Some(other))) => Err(format!(
                        "a token named \"{name}\" already exists ({}); pick another name",
                        other.id
                    )),
                    _ => Ok(()),
                }
            };
            let given = prompt::Given {
                app: args.app.is_some(),
                scopes: !args.scopes.is_empty(),
                lifetime: expires_at.is_some(),
            };
            // What the command line gave is held to the policy before the first question, and
            // not asked again: a finished prompt is never refused (SPEC §9).
            if let Some(breach) = policy
                .breaches(
                    args.app.as_deref(),
                    &args.scopes,
                    expires_at.flatten(),
                    context.now,
                )
                .into_iter()
                .find(|breach| match breach.rule {
                    "require-app" => given.app,
                    "max-lifetime" => given.lifetime,
                    _ => true,
                })
            {
                return Err(Error::Usage(breach.why));
            }
            if with_secret_key
                && let Some(window) = &args.refresh_window
                && let Some(breach) = policy.refresh_window_breach(window.0)
            {
                return Err(Error::Usage(breach.why));
            }
            let answers =
                prompt::ask_new_token(&known_scopes, &policy, given, context.now, &name_is_free)?;
            drop(vault);
            let scopes = if given.scopes {
                args.scopes
            } else {
                answers.scopes
            };
            Template {
                name: answers.name,
                app: args.app.or(answers.app),
                scopes: dedup(scopes),
                note: args.note,
                // Asked exactly when --expires was not given.
                expires_at: answers
                    .expires_at
                    .or(expires_at)
                    .unwrap_or(Some(context.now + policy.default_lifetime())),
                with_secret_key,
                replaces: None,
                controls,
            }
        }
        None => {
            return Err(Error::Usage(
                "missing NAME: tokens create NAME (prompts for it only on a terminal)".into(),
            ));
        }
    };

    let mut vault = context.open(Access::Write)?;
    let policy = vault.store().policy()?;
    if default_lifetime {
        // 30 days unless the vault's policy says otherwise.
        template.expires_at = Some(context.now + policy.default_lifetime());
    }
    if with_secret_key {
        template.controls.refresh_window = match args.refresh_window {
            Some(window) => window.0,
            None => policy.default_refresh_window(),
        };
    }
    let issued = issue(template, context.now);
    let row = &issued.row;
    if let (true, Some(app)) = (args.replace, &row.app) {
        let replaced: Vec<String> = vault
            .store()
            .live_of_app(app, context.now)?
            .iter()
            .map(label)
            .collect();
        if !replaced.is_empty() {
            let question = format!(
                "Create \"{}\" and revoke {}?",
                row.name,
                replaced.join(", ")
            );
            context.confirm_revocation("create --replace", &question)?;
        }
    }
    let replaced = vault.write(|store| {
        // The rules as they stand under the write lock: one `policy set` binds every admin.
        let policy = store.policy()?;
        policy.enforce(row.app.as_deref(), &row.scopes, row.expires_at, context.now)?;
        if row.secret_key_hash.is_some()
            && let Some(breach) = policy.refresh_window_breach(row.controls.refresh_window)
        {
            return Err(Error::Usage(breach.why));
        }
        let mut replaced = Vec::new();
        if args.replace {
            // `requires = "app"` in the CLI guarantees an app here.
            let app = row.app.as_deref().unwrap_or_default();
            for old in store.live_of_app(app, context.now)? {
                let reason = format!("replaced by {}", row.id);
                store.set_revoked(&old.id, context.now, &reason, Some(&row.id))?;
                store.log_event(context.now, Some(&old.id), "revoked", &reason)?;
                replaced.push(old);
            }
        }
        if let Some(existing) = store.live_by_name(&row.name)? {
            return Err(Error::Conflict(format!(
                "a token named \"{}\" already exists ({}); pick another name, or rotate or revoke it",
                row.name, existing.id
            )));
        }
        store.insert(row)?;
        let mut detail = match &row.app {
            Some(app) => format!("app {app}, {}", describe_scopes(&row.scopes)),
            None => describe_scopes(&row.scopes),
        };
        match row.controls.uses_limit {
            Some(1) => detail.push_str(", 1 use"),
            Some(uses) => detail.push_str(&format!(", {uses} uses")),
            None => {}
        }
        if row.secret_key_hash.is_some()
            && let Some(window) = row.controls.refresh_window
        {
            detail.push_str(&format!(
                ", refresh window {}",
                crate::duration::format_duration(window)
            ));
        }
        if let Some(nets) = &row.controls.allow_from {
            detail.push_str(&format!(", from {}", crate::vault::join_nets(nets)));
        }
        store.log_event(context.now, Some(&row.id), "created", &detail)?;
        Ok(replaced)
    })?;

    show_once(context, &issued, "Created", &args.copy)?;
    for old in replaced {
        context.notice(&format!(
            "Revoked {}: replaced by the new token.",
            label(&old)
        ));
    }
    Ok(())
}

/// Scopes in the order given, each once.
pub fn dedup(scopes: Vec<String>) -> Vec<String> {
    let mut seen = Vec::with_capacity(scopes.len());
    for scope in scopes {
        if !seen.contains(&scope) {
            seen.push(scope);
        }
    }
    seen
}

fn describe_scopes(scopes: &[String]) -> String {
    if scopes.is_empty() {
        "no scopes".into()
    } else {
        format!("scopes {}", scopes.join(" "))
    }
}
