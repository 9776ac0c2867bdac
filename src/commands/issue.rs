//! Issuing a new token (create, rotate, refresh) and showing its secret exactly once.

use std::fs::File;
use std::io::{self, Write};
use std::os::fd::AsFd;

use chrono::{DateTime, Utc};
use serde::Serialize;
use zeroize::Zeroizing;

use super::Context;
use crate::cli::CopyArgs;
use crate::clipboard;
use crate::error::Result;
use crate::output::{printable, relative, rfc3339};
use crate::token::{Credential, Kind, generate_id};
use crate::vault::{Controls, NewToken, TokenRecord};

/// What the new token is to be; the secrets are drawn by [`issue`].
pub struct Template {
    pub name: String,
    pub app: Option<String>,
    pub scopes: Vec<String>,
    pub note: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub with_secret_key: bool,
    /// For rotate and refresh: the token this one replaces.
    pub replaces: Option<(String, String)>, // (id, lineage)
    /// Disabled, use limit, addresses, metadata (SPEC §9).
    pub controls: Controls,
}

impl Template {
    /// The next token of `old`'s lineage (rotate, refresh): same name, app, scopes and note, and
    /// the same controls (SPEC §9): addresses, metadata, the uses `old` has left (not the limit
    /// in full: a lineage never gets more uses than its first token had), the refresh window
    /// as the policy caps it (`refresh_window`), and a suspension (a disabled token rotates
    /// into a disabled one, as the same `disable` command's).
    pub fn successor(
        old: &TokenRecord,
        expires_at: Option<DateTime<Utc>>,
        with_secret_key: bool,
        refresh_window: Option<chrono::Duration>,
    ) -> Template {
        Template {
            name: old.name.clone(),
            app: old.app.clone(),
            scopes: old.scopes.clone(),
            note: old.note.clone(),
            expires_at,
            with_secret_key,
            replaces: Some((old.id.clone(), old.lineage.clone())),
            controls: Controls {
                disabled_at: old.controls.disabled_at,
                disable_reason: old.controls.disable_reason.clone(),
                disabled_batch: old.controls.disabled_batch.clone(),
                uses_limit: old.controls.uses_left(),
                uses_epoch: 0,
                uses_spent: 0,
                allow_from: old.controls.allow_from.clone(),
                meta: old.controls.meta.clone(),
                refresh_window: refresh_window.filter(|_| with_secret_key),
            },
        }
    }
}

/// A freshly drawn token: the row to insert, and the secrets to show once after it commits.
pub struct Issued {
    pub row: NewToken,
    pub token: Credential,
    pub secret_key: Option<Credential>,
}

pub fn issue(template: Template, now: DateTime<Utc>) -> Issued {
    let id = generate_id();
    let token = Credential::generate(Kind::Token, &id);
    let secret_key = template
        .with_secret_key
        .then(|| Credential::generate(Kind::SecretKey, &id));
    let (rotated_from, lineage) = match template.replaces {
        Some((old_id, lineage)) => (Some(old_id), lineage),
        None => (None, id.clone()),
    };
    let row = NewToken {
        name: template.name,
        app: template.app,
        scopes: template.scopes,
        note: template.note,
        secret_hash: token.secret_hash(),
        secret_tail: token.secret_tail(),
        secret_key_hash: secret_key.as_ref().map(Credential::secret_hash),
        created_at: now,
        expires_at: template.expires_at,
        rotated_from,
        lineage,
        first_use_ends: None,
        id,
        controls: template.controls,
    };
    Issued {
        row,
        token,
        secret_key,
    }
}

/// SPEC §4's document for create, rotate and refresh. Borrows the secrets rather than copying
/// them into a `serde_json::Value`, whose strings would not be wiped. Fields in the order the
/// document has always had (alphabetical).
#[derive(Serialize)]
struct IssuedJson<'a> {
    allow_from: Option<Vec<String>>,
    app: Option<&'a str>,
    created_at: String,
    expires_at: Option<String>,
    id: &'a str,
    meta: &'a std::collections::BTreeMap<String, String>,
    name: &'a str,
    scopes: &'a [String],
    secret_key: Option<&'a str>,
    token: &'a str,
    uses_left: Option<i64>,
}

/// The pretty-printed document and a newline, in a buffer sized first so it never reallocates
/// (a reallocation would leave a copy of the secrets behind), and wiped when dropped.
fn secret_json(document: &IssuedJson<'_>) -> Result<Zeroizing<Vec<u8>>> {
    struct Count(usize);
    impl Write for Count {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0 += bytes.len();
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    serde_json::to_writer_pretty(&mut count, document).map_err(io::Error::from)?;
    let mut text = Zeroizing::new(Vec::with_capacity(count.0 + 1));
    serde_json::to_writer_pretty(&mut *text, document).map_err(io::Error::from)?;
    text.push(b'\n');
    Ok(text)
}

/// Writes `text` to stdout in one go, straight to the file descriptor: std's stdout buffer
/// would keep a copy of the secrets that nothing wipes.
fn print_secret(text: &[u8]) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    stdout.flush()?;
    let mut raw = File::from(stdout.as_fd().try_clone_to_owned()?);
    raw.write_all(text)
}

/// Prints the secrets, once, after the vault change has committed. Piped, stdout is only the
/// token line and the secret key line; on a terminal a notice on stderr says they will not be shown again.
pub fn show_once(
    context: &Context,
    issued: &Issued,
    what_happened: &str,
    copy: &CopyArgs,
) -> Result<()> {
    let row = &issued.row;
    let secret_key = issued.secret_key.as_ref().map(Credential::expose);
    let text = if context.json {
        secret_json(&IssuedJson {
            allow_from: crate::output::nets_json(&row.controls.allow_from),
            app: row.app.as_deref(),
            created_at: rfc3339(row.created_at),
            expires_at: row.expires_at.map(rfc3339),
            id: &row.id,
            meta: &row.controls.meta,
            name: &row.name,
            scopes: &row.scopes,
            secret_key,
            token: issued.token.expose(),
            uses_left: row.controls.uses_limit,
        })?
    } else {
        let lines = [Some(issued.token.expose()), secret_key];
        let mut text = Zeroizing::new(Vec::with_capacity(
            lines.iter().flatten().map(|line| line.len() + 1).sum(),
        ));
        for line in lines.iter().flatten() {
            text.extend_from_slice(line.as_bytes());
            text.push(b'\n');
        }
        text
    };
    print_secret(&text)?;

    // Only when the secrets are on the screen above: `T=$(tokens create …)` stays quiet.
    if context.stdout_is_terminal && context.stderr_is_terminal && !context.quiet {
        let expires = match row.expires_at {
            Some(at) => format!("expires {}", relative(at, context.now)),
            None => "never expires".to_owned(),
        };
        let lines = if issued.secret_key.is_some() {
            "the first line is the token, the second its secret key (for tokens refresh)"
        } else {
            "above is the token"
        };
        // Rotate and refresh carry the name over from the vault.
        eprintln!(
            "{what_happened} token \"{}\" ({}), {expires}.",
            printable(&row.name),
            row.id
        );
        eprintln!("Store it now: {lines}; it will not be shown again.");
    }
    if copy.copy {
        let clear_after = (!copy.keep_clipboard).then_some(copy.clear_after);
        match clipboard::copy(issued.token.expose(), clear_after) {
            Ok(()) => context.notice(&match clear_after {
                Some(after) => format!(
                    "The token is also on the clipboard for {}.",
                    crate::duration::format_duration(after)
                ),
                None => "The token is also on the clipboard.".to_owned(),
            }),
            Err(why) => eprintln!(
                "tokens: the clipboard is not available ({why}); the token is printed above"
            ),
        }
    }
    Ok(())
}
