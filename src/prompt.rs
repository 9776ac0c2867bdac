//! Questions asked on a terminal (`dialoguer`). Callers check for a terminal first.

use chrono::{DateTime, Utc};
use dialoguer::theme::ColorfulTheme;
use dialoguer::theme::Theme as _;
use dialoguer::{Confirm, MultiSelect, Select};
use std::io::{self, Write as _};

use crate::cli::{parse_name, parse_new_name, parse_scope};
use crate::duration::{Expiry, parse_expiry_within};
use crate::error::{Error, Result};
use crate::output;
use crate::policy::Policy;

/// The answers for a token made interactively.
pub struct NewTokenAnswers {
    pub name: String,
    /// `None` when not asked (given on the command line) or left empty.
    pub app: Option<String>,
    /// Empty when not asked (given on the command line) or none picked.
    pub scopes: Vec<String>,
    /// `None` when not asked (`--expires` was given).
    pub expires_at: Option<Expiry>,
}

/// What the command line already gave `create`: those questions are not asked.
#[derive(Debug, Clone, Copy, Default)]
pub struct Given {
    pub app: bool,
    pub scopes: bool,
    pub lifetime: bool,
}

/// Exit status when the user cancels a prompt (Ctrl-C or Esc): the vault is left as it was.
pub const CANCELLED: i32 = 130;

/// The most a prompt takes: no name, scope or credential is this long.
const MAX_TYPED: usize = 4096;

/// The lifetimes the menu offers when the policy allows them (besides its default and maximum).
const LIFETIMES: [chrono::Duration; 4] = [
    chrono::Duration::days(7),
    chrono::Duration::days(30),
    chrono::Duration::days(90),
    chrono::Duration::days(365),
];

/// Asks for a new token's name, app, scopes and lifetime, under the vault's `policy` (SPEC §9)
/// from the first question: each answer is checked as it is given, so the finished answers
/// never break a rule. What the command line gave (`given`: `--app`, `--scope`, `--expires`)
/// is not asked again (the caller holds it to the policy first). A required app is asked as
/// required; the scopes offered are the policy's (or, with no scope rule, `known_scopes`,
/// those in use); the lifetimes are the ones the policy allows, its default first-chosen.
/// `name_is_free` says why a name cannot be used (it is taken), so the Name prompt asks again at
/// once rather than after all four.
pub fn ask_new_token(
    known_scopes: &[String],
    policy: &Policy,
    given: Given,
    now: DateTime<Utc>,
    name_is_free: &dyn Fn(&str) -> Result<(), String>,
) -> Result<NewTokenAnswers> {
    let _restore = interrupt_restores_terminal();
    let theme = ColorfulTheme::default();
    let name = text_with(&theme, "Name", |text| {
        parse_new_name(text)?;
        name_is_free(text)
    })?;
    let app_required = policy.require_app;
    let app = if given.app {
        String::new()
    } else {
        text_with(
            &theme,
            if app_required {
                "App (required by the vault's policy)"
            } else {
                "App (optional)"
            },
            |text| match text {
                "" if app_required => Err("the vault's policy requires an app; type one".into()),
                "" => Ok(()),
                text => parse_name(text).map(drop),
            },
        )?
    };
    let scopes = if given.scopes {
        Vec::new()
    } else {
        ask_scopes(&theme, known_scopes, policy.scopes.as_deref())?
    };
    let expires_at = if given.lifetime {
        None
    } else {
        Some(ask_lifetime(&theme, policy, now)?)
    };
    Ok(NewTokenAnswers {
        name,
        app: (!app.is_empty()).then_some(app),
        scopes,
        expires_at,
    })
}

/// The scopes: picked from a list (the policy's `allowed` scopes, else `known_scopes`), then
/// typed; a typed scope the policy does not allow is refused as it is typed.
fn ask_scopes(
    theme: &ColorfulTheme,
    known_scopes: &[String],
    allowed: Option<&[String]>,
) -> Result<Vec<String>> {
    // Only scopes that could be typed: another program may have written anything in the vault.
    let offered: Vec<String> = allowed
        .unwrap_or(known_scopes)
        .iter()
        .filter(|scope| parse_scope(scope).is_ok())
        .cloned()
        .collect();
    let mut scopes = Vec::new();
    if !offered.is_empty() {
        let picked = MultiSelect::with_theme(theme)
            .with_prompt(if allowed.is_some() {
                "Scopes the vault's policy allows (space to pick, enter to go on)"
            } else {
                "Scopes in use (space to pick, enter to go on)"
            })
            .items(&offered)
            .interact_opt()
            .map_err(cancelled)?
            .ok_or(Error::Silent(CANCELLED))?;
        scopes.extend(picked.into_iter().map(|index| offered[index].clone()));
    }
    let typed_prompt = match (allowed, offered.is_empty()) {
        (Some(_), true) => "Scopes (the vault's policy allows none; enter to go on)",
        (Some(_), false) => "More of those scopes, typed (comma separated, optional)",
        (None, true) => "Scopes (comma separated, optional)",
        (None, false) => "Other scopes (comma separated, optional)",
    };
    let typed = text_with(theme, typed_prompt, |text| {
        let typed = split_scopes(text)?;
        match (
            allowed,
            typed.iter().find(|scope| !allowed_scope(allowed, scope)),
        ) {
            (Some(allowed), Some(scope)) => Err(format!(
                "\"{scope}\" is not allowed by the vault's policy (scopes: {})",
                if allowed.is_empty() {
                    "none".to_owned()
                } else {
                    allowed.join(",")
                }
            )),
            _ => Ok(()),
        }
    })?;
    // Validated just above.
    scopes.extend(split_scopes(&typed).unwrap_or_default());
    Ok(scopes)
}

fn allowed_scope(allowed: Option<&[String]>, scope: &str) -> bool {
    allowed.is_none_or(|allowed| allowed.iter().any(|one| one == scope))
}

/// The lifetime: a menu of the lifetimes the policy allows (its default chosen first), or
/// `custom…`, a typed one that is refused at once when the policy does not allow it.
fn ask_lifetime(theme: &ColorfulTheme, policy: &Policy, now: DateTime<Utc>) -> Result<Expiry> {
    let (menu, default) = lifetime_menu(policy);
    let mut items: Vec<String> = menu
        .iter()
        .map(|lifetime| lifetime.map_or("never".to_owned(), crate::policy::format_duration))
        .collect();
    items.push("custom…".into());
    let choice = Select::with_theme(theme)
        .with_prompt("Lifetime")
        .items(&items)
        .default(default)
        .interact_opt()
        .map_err(cancelled)?
        .ok_or(Error::Silent(CANCELLED))?;
    if let Some(lifetime) = menu.get(choice) {
        return Ok(lifetime.map(|lifetime| now + lifetime));
    }
    let allowed = |text: &str| -> Result<Expiry, String> {
        let expiry = parse_expiry_within(text, now, policy.max_lifetime)?;
        match (policy.lifetime_breach(expiry, now), policy.max_lifetime) {
            (Some(_), Some(max)) => Err(format!(
                "the vault's policy allows a lifetime of at most {max} (max-lifetime); give \
                 {max} or less",
                max = crate::policy::format_duration(max)
            )),
            _ => Ok(expiry),
        }
    };
    let text = text_with(
        theme,
        if policy.max_lifetime.is_some() {
            "Expires (30d, 12h, 2027-01-31 or RFC 3339)"
        } else {
            "Expires (30d, 12h, 2027-01-31, RFC 3339 or never)"
        },
        |text| allowed(text).map(drop),
    )?;
    allowed(&text).map_err(Error::Usage)
}

/// The lifetimes the menu offers, shortest first (`None`: never), and the index of the
/// default: the usual ones up to the policy's maximum, the maximum itself, and the default
/// lifetime; `never` only without a maximum.
fn lifetime_menu(policy: &Policy) -> (Vec<Option<chrono::Duration>>, usize) {
    let default = policy.default_lifetime();
    let mut lifetimes: Vec<chrono::Duration> = LIFETIMES
        .into_iter()
        .chain(policy.max_lifetime)
        .chain([default])
        .filter(|lifetime| policy.max_lifetime.is_none_or(|max| *lifetime <= max))
        .collect();
    lifetimes.sort();
    lifetimes.dedup();
    let at = lifetimes
        .iter()
        .position(|lifetime| *lifetime == default)
        .unwrap_or_default();
    let mut menu: Vec<Option<chrono::Duration>> = lifetimes.into_iter().map(Some).collect();
    if policy.max_lifetime.is_none() {
        menu.push(None);
    }
    (menu, at)
}

/// Asks a yes/no question, no by default. Esc or Ctrl-C cancels quietly.
pub fn confirm(question: &str) -> Result<bool> {
    let _restore = interrupt_restores_terminal();
    Confirm::with_theme(&ColorfulTheme::default())
        .with_prompt(question)
        .default(false)
        .interact_opt()
        .map_err(cancelled)?
        .ok_or(Error::Silent(CANCELLED))
}

/// Asks for a secret without echoing it. Esc or Ctrl-C cancels (exit 130).
pub fn secret(what: &str) -> Result<zeroize::Zeroizing<String>> {
    let mut prompt = what.to_owned();
    if let Some(first) = prompt.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    let _restore = interrupt_restores_terminal();
    let theme = ColorfulTheme::default();
    let mut shown = String::new();
    // Writing to a String cannot fail.
    let _ = theme.format_password_prompt(&mut shown, &prompt);
    let line = read_line(&shown, false)?;
    let mut done = String::new();
    let _ = theme.format_password_prompt_selection(&mut done, &prompt);
    finish_line(&done);
    Ok(line)
}

/// Asks for a line of text until `validate` accepts it; its reason is shown when it does not.
/// Esc or Ctrl-C cancels (exit 130).
fn text_with(
    theme: &ColorfulTheme,
    prompt: &str,
    validate: impl Fn(&str) -> Result<(), String>,
) -> Result<String> {
    loop {
        let mut shown = String::new();
        // Writing to a String cannot fail.
        let _ = theme.format_input_prompt(&mut shown, prompt, None);
        let line = read_line(&shown, true)?;
        let text = line.trim().to_owned();
        match validate(&text) {
            Ok(()) => {
                let mut done = String::new();
                let _ = theme.format_input_prompt_selection(
                    &mut done,
                    prompt,
                    &output::printable(&text),
                );
                finish_line(&done);
                return Ok(text);
            }
            Err(why) => {
                let mut error = String::new();
                let _ = theme.format_error(&mut error, &output::printable(&why));
                finish_line(&error);
            }
        }
    }
}

/// Replaces the line being edited on stderr with `text`, and goes to the next line.
fn finish_line(text: &str) {
    let mut stderr = io::stderr().lock();
    let _ = write!(stderr, "\r\x1b[2K{text}\r\n");
    let _ = stderr.flush();
}

/// Reads one line typed on the terminal after `prompt` (on stderr), a key at a time: Enter ends
/// it, Backspace and Ctrl-U edit it, Esc (alone, not the start of an arrow key's sequence)
/// cancels with exit 130, as Ctrl-C does (the terminal sends SIGINT: see
/// [`interrupt_restores_terminal`]). `echo`: false for a secret, which is never shown.
fn read_line(prompt: &str, echo: bool) -> Result<zeroize::Zeroizing<String>> {
    let terminal = Terminal::keys_one_by_one()?;
    let mut typed = zeroize::Zeroizing::new(Vec::<u8>::with_capacity(MAX_TYPED));
    let mut stderr = io::stderr().lock();
    let _ = write!(stderr, "\r\x1b[2K{prompt}");
    let _ = stderr.flush();
    loop {
        let Some(byte) = terminal.next_byte(None)? else {
            return Err(Error::Silent(CANCELLED)); // the terminal went away
        };
        match byte {
            b'\r' | b'\n' => break,
            0x1b => {
                // An arrow key or another sequence arrives at once; Esc alone does not.
                if terminal.next_byte(Some(50))?.is_none() {
                    drop(terminal);
                    let _ = write!(stderr, "\r\n");
                    return Err(Error::Silent(CANCELLED));
                }
                while terminal.next_byte(Some(5))?.is_some() {}
            }
            0x7f | 0x08 => {
                // One character: its continuation bytes, then its first byte.
                while typed.last().is_some_and(|byte| byte & 0xC0 == 0x80) {
                    typed.pop();
                }
                if typed.pop().is_some() && echo {
                    let _ = write!(stderr, "\x08 \x08");
                }
            }
            0x15 => {
                if echo {
                    let _ = write!(stderr, "\r\x1b[2K{prompt}");
                }
                typed.clear();
            }
            byte if byte < 0x20 => {} // other control keys
            byte => {
                if typed.len() < typed.capacity() {
                    typed.push(byte);
                    if echo {
                        let _ = stderr.write_all(&[byte]);
                    }
                }
            }
        }
        let _ = stderr.flush();
    }
    drop(terminal);
    let text = String::from_utf8_lossy(&typed).into_owned();
    Ok(zeroize::Zeroizing::new(text))
}

/// The terminal on stdin with line editing and echo off (signals stay on, so Ctrl-C still
/// interrupts), put back as it was when dropped.
struct Terminal {
    fd: i32,
    saved: libc::termios,
}

impl Terminal {
    fn keys_one_by_one() -> Result<Terminal> {
        let fd = libc::STDIN_FILENO;
        let mut saved = std::mem::MaybeUninit::<libc::termios>::uninit();
        // SAFETY: tcgetattr fills the termios it is given, checked before it is read.
        if unsafe { libc::tcgetattr(fd, saved.as_mut_ptr()) } != 0 {
            return Err(io::Error::last_os_error().into());
        }
        // SAFETY: initialised by the successful tcgetattr above.
        let saved = unsafe { saved.assume_init() };
        let _ = SAVED_FOR_SIGNAL.set((fd, saved));
        let mut keys = saved;
        keys.c_lflag &= !(libc::ICANON | libc::ECHO);
        keys.c_cc[libc::VMIN] = 1;
        keys.c_cc[libc::VTIME] = 0;
        // SAFETY: a valid termios for the terminal it came from.
        if unsafe { libc::tcsetattr(fd, libc::TCSANOW, &keys) } != 0 {
            return Err(io::Error::last_os_error().into());
        }
        Ok(Terminal { fd, saved })
    }

    /// The next byte typed; `None` at the end of input, or after `wait_ms` with none.
    fn next_byte(&self, wait_ms: Option<i32>) -> Result<Option<u8>> {
        if let Some(wait_ms) = wait_ms {
            let mut poll = libc::pollfd {
                fd: self.fd,
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd.
            if unsafe { libc::poll(&mut poll, 1, wait_ms) } <= 0 {
                return Ok(None);
            }
        }
        let mut byte = 0u8;
        loop {
            // SAFETY: reads at most one byte into `byte`.
            let read = unsafe { libc::read(self.fd, (&raw mut byte).cast(), 1) };
            match read {
                1 => return Ok(Some(byte)),
                0 => return Ok(None),
                _ if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted => continue,
                _ => return Err(io::Error::last_os_error().into()),
            }
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        // SAFETY: the termios read from this terminal when it was set up.
        unsafe { libc::tcsetattr(self.fd, libc::TCSANOW, &self.saved) };
    }
}

/// The terminal's settings before a prompt changed them, for the SIGINT handler to put back.
static SAVED_FOR_SIGNAL: std::sync::OnceLock<(i32, libc::termios)> = std::sync::OnceLock::new();

/// While a prompt is up, Ctrl-C (SIGINT, which dialoguer's keys raise too) puts the terminal
/// back as it was, shows the cursor (a select hides it) and exits 130 with nothing changed,
/// instead of dying with the cursor hidden. Dropping the guard restores the default action.
fn interrupt_restores_terminal() -> InterruptGuard {
    // SAFETY: the handler only calls async-signal-safe functions (tcsetattr, write, _exit).
    unsafe {
        let mut saved = std::mem::MaybeUninit::<libc::termios>::uninit();
        if libc::tcgetattr(libc::STDIN_FILENO, saved.as_mut_ptr()) == 0 {
            let _ = SAVED_FOR_SIGNAL.set((libc::STDIN_FILENO, saved.assume_init()));
        }
        libc::signal(
            libc::SIGINT,
            on_interrupt as *const () as libc::sighandler_t,
        );
    }
    InterruptGuard
}

struct InterruptGuard;

impl Drop for InterruptGuard {
    fn drop(&mut self) {
        // SAFETY: restoring the default action of SIGINT.
        unsafe { libc::signal(libc::SIGINT, libc::SIG_DFL) };
    }
}

extern "C" fn on_interrupt(_: libc::c_int) {
    const SHOW_CURSOR: &[u8] = b"\x1b[?25h\r\n";
    // SAFETY: async-signal-safe calls only; the saved settings were written before the handler
    // was installed.
    unsafe {
        if let Some((fd, saved)) = SAVED_FOR_SIGNAL.get() {
            libc::tcsetattr(*fd, libc::TCSANOW, saved);
        }
        libc::write(
            libc::STDERR_FILENO,
            SHOW_CURSOR.as_ptr().cast(),
            SHOW_CURSOR.len(),
        );
        libc::_exit(CANCELLED);
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn labels(policy: &Policy) -> (Vec<String>, usize) {
        let (menu, default) = lifetime_menu(policy);
        let labels = menu
            .iter()
            .map(|lifetime| lifetime.map_or("never".to_owned(), crate::policy::format_duration))
            .collect();
        (labels, default)
    }

    #[test]
    fn the_lifetime_menu_offers_only_what_the_policy_allows() {
        assert_eq!(
            labels(&Policy::default()),
            (
                ["7d", "30d", "90d", "1y", "never"]
                    .map(String::from)
                    .to_vec(),
                1
            )
        );
        let capped = Policy {
            max_lifetime: Some(Duration::days(90)),
            ..Policy::default()
        };
        assert_eq!(
            labels(&capped),
            (vec!["7d".into(), "30d".into(), "90d".into()], 1)
        );
        // The maximum and the default are offered when they are not usual lifetimes.
        let odd = Policy {
            max_lifetime: Some(Duration::days(45)),
            default_lifetime: Some(Duration::days(14)),
            ..Policy::default()
        };
        assert_eq!(
            labels(&odd),
            (["7d", "14d", "30d", "45d"].map(String::from).to_vec(), 1)
        );
        let short = Policy {
            max_lifetime: Some(Duration::hours(12)),
            ..Policy::default()
        };
        assert_eq!(labels(&short), (vec!["12h".into()], 0));
    }

    #[test]
    fn a_typed_scope_is_checked_against_the_policy() {
        let allowed = ["read".to_owned(), "write".to_owned()];
        assert!(allowed_scope(Some(&allowed), "read"));
        assert!(!allowed_scope(Some(&allowed), "admin"));
        assert!(!allowed_scope(Some(&[]), "read"));
        assert!(allowed_scope(None, "admin"));
    }
}
