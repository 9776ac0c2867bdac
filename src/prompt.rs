//! Questions asked on a terminal (`dialoguer`). Callers check for a terminal first.

use chrono::{DateTime, Utc};
use dialoguer::theme::ColorfulTheme;
use dialoguer::{Confirm, Input, MultiSelect, Select};

use crate::cli::{parse_name, parse_new_name, parse_scope};
use crate::duration::{Expiry, parse_duration, parse_expiry};
use crate::error::{Error, Result};

/// The answers for a token made interactively.
pub struct NewTokenAnswers {
    pub name: String,
    pub app: Option<String>,
    pub scopes: Vec<String>,
    pub expires_at: Expiry,
}

/// Exit status when the user cancels a prompt (Ctrl-C or Esc): the vault is left as it was.
pub const CANCELLED: i32 = 130;

const LIFETIMES: [&str; 6] = ["7d", "30d", "90d", "1y", "never", "custom…"];

/// `default_lifetime` (the vault policy's) is offered first-chosen, among the usual lifetimes.
pub fn ask_new_token(
    known_scopes: &[String],
    default_lifetime: chrono::Duration,
    now: DateTime<Utc>,
) -> Result<NewTokenAnswers> {
    let theme = ColorfulTheme::default();
    let name: String = Input::with_theme(&theme)
        .with_prompt("Name")
        .validate_with(|text: &String| parse_new_name(text).map(drop))
        .interact_text()
        .map_err(cancelled)?;
    let app: String = Input::with_theme(&theme)
        .with_prompt("App (optional)")
        .allow_empty(true)
        .validate_with(|text: &String| {
            if text.is_empty() {
                Ok(())
            } else {
                parse_name(text).map(drop)
            }
        })
        .interact_text()
        .map_err(cancelled)?;

    // Only scopes that could be typed: another program may have written anything in the vault.
    let known_scopes: Vec<String> = known_scopes
        .iter()
        .filter(|scope| parse_scope(scope).is_ok())
        .cloned()
        .collect();
    let known_scopes = known_scopes.as_slice();
    let mut scopes = Vec::new();
    if !known_scopes.is_empty() {
        let picked = MultiSelect::with_theme(&theme)
            .with_prompt("Scopes in use (space to pick, enter to go on)")
            .items(known_scopes)
            .interact_opt()
            .map_err(cancelled)?
            .ok_or(Error::Silent(CANCELLED))?;
        scopes.extend(picked.into_iter().map(|index| known_scopes[index].clone()));
    }
    let typed: String = Input::with_theme(&theme)
        .with_prompt(if known_scopes.is_empty() {
            "Scopes (comma separated, optional)"
        } else {
            "Other scopes (comma separated, optional)"
        })
        .allow_empty(true)
        .validate_with(|text: &String| split_scopes(text).map(drop))
        .interact_text()
        .map_err(cancelled)?;
    // Validated just above.
    scopes.extend(split_scopes(&typed).unwrap_or_default());

    let default = crate::policy::format_duration(default_lifetime);
    let mut lifetimes: Vec<&str> = LIFETIMES.to_vec();
    if !lifetimes.contains(&default.as_str()) {
        // Before the first longer one (durations up to "1y"; "never" and "custom…" stay last).
        let at = LIFETIMES[..4]
            .iter()
            .position(|item| parse_duration(item).is_ok_and(|item| item > default_lifetime))
            .unwrap_or(4);
        lifetimes.insert(at, &default);
    }
    let choice = Select::with_theme(&theme)
        .with_prompt("Lifetime")
        .items(&lifetimes)
        .default(
            lifetimes
                .iter()
                .position(|item| *item == default)
                .unwrap_or(1),
        )
        .interact_opt()
        .map_err(cancelled)?
        .ok_or(Error::Silent(CANCELLED))?;
    let expires_at = if lifetimes[choice] == "custom…" {
        let text: String = Input::with_theme(&theme)
            .with_prompt("Expires (30d, 12h, 2027-01-31, RFC 3339 or never)")
            .validate_with(|text: &String| parse_expiry(text, now).map(drop))
            .interact_text()
            .map_err(cancelled)?;
        parse_expiry(&text, now).map_err(Error::Usage)?
    } else {
        parse_expiry(lifetimes[choice], now).map_err(Error::Usage)?
    };
    Ok(NewTokenAnswers {
        name,
        app: (!app.is_empty()).then_some(app),
        scopes,
        expires_at,
    })
}

/// Asks a yes/no question, no by default. Esc or Ctrl-C cancels quietly.
pub fn confirm(question: &str) -> Result<bool> {
    Confirm::with_theme(&ColorfulTheme::default())
        .with_prompt(question)
        .default(false)
        .interact_opt()
        .map_err(cancelled)?
        .ok_or(Error::Silent(CANCELLED))
}

/// Asks for a secret without echoing it.
pub fn secret(what: &str) -> Result<zeroize::Zeroizing<String>> {
    let mut prompt = what.to_owned();
    if let Some(first) = prompt.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    dialoguer::Password::with_theme(&ColorfulTheme::default())
        .with_prompt(prompt)
        .interact()
        .map(zeroize::Zeroizing::new)
        .map_err(cancelled)
}

fn split_scopes(text: &str) -> Result<Vec<String>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|scope| !scope.is_empty())
        .map(|scope| parse_scope(scope).map_err(|why| format!("\"{scope}\": {why}")))
        .collect()
}

/// Ctrl-C at a prompt: leave quietly, with nothing changed.
fn cancelled(_: dialoguer::Error) -> Error {
    Error::Silent(CANCELLED)
}
