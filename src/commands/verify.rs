//! `tokens verify`: is a presented token good for what is asked? Answered by the exit status.
//!
//! The path is kept lean: parse and checksum without the vault, one indexed lookup, a
//! constant-time hash comparison, and bookkeeping that never makes a verify wait on a writer.

use std::collections::HashSet;
use std::io::{self, BufWriter, Write};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::Context;
use super::secrets::{self, Source, StdinLines};
use crate::cli::VerifyArgs;
use crate::error::{Error, Result};
use crate::output::{relative, rfc3339};
use crate::token::{Credential, Kind};
use crate::vault::{Access, Store, Vault, VerifyRecord};

/// Last use is recorded at most this often per token, so busy tokens do not turn verify into a writer.
const LAST_USED_RESOLUTION: chrono::Duration = chrono::Duration::seconds(60);
/// How long verify waits for the write lock to record last use before it gives up on that.
const BOOKKEEPING_PATIENCE: Duration = Duration::from_millis(200);
/// `--batch` writes its bookkeeping at the end, and on the way whenever this many entries are
/// pending or this long has passed since the last write: a long batch (a service feeding tokens
/// as they come) records use as it goes, holds little in memory and never keeps the write lock
/// for long, while a file of tokens costs one or a few transactions, not one per token.
const BOOKKEEPING_CHUNK: usize = 10_000;
const BOOKKEEPING_INTERVAL: Duration = Duration::from_secs(1);

/// Why a token is or is not good (SPEC §4's `reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Ok,
    Malformed,
    Invalid,
    Expired,
    Revoked,
    Forbidden,
}

impl Reason {
    fn as_str(self) -> &'static str {
        match self {
            Reason::Ok => "ok",
            Reason::Malformed => "malformed",
            Reason::Invalid => "invalid",
            Reason::Expired => "expired",
            Reason::Revoked => "revoked",
            Reason::Forbidden => "forbidden",
        }
    }
}

/// The verdict on one presented token.
struct Verdict {
    reason: Reason,
    /// The presented id, when the token was well-formed.
    presented_id: Option<String>,
    /// The token, once its secret has matched.
    record: Option<VerifyRecord>,
    /// What was wrong, for humans (never a secret).
    why: String,
}

impl Verdict {
    /// The answer for text that is not a well-formed token (the vault is not asked).
    fn malformed(why: String) -> Verdict {
        Verdict {
            reason: Reason::Malformed,
            presented_id: None,
            record: None,
            why,
        }
    }
}

/// What verify must ask of the token.
struct Requirements<'a> {
    scopes: &'a [String],
    app: Option<&'a str>,
}

pub fn run(context: &Context, args: VerifyArgs) -> Result<()> {
    let requirements = Requirements {
        scopes: &args.scopes,
        app: args.app.as_deref(),
    };
    if args.batch {
        return run_batch(context, &requirements);
    }
    let source = Source::from_args(args.token_env, args.token_file);
    let text = secrets::read(
        &source,
        "token",
        &mut StdinLines::new(),
        context.stdin_is_terminal,
    )?;
    let verdict = match Credential::parse(Kind::Token, &text) {
        Err(why) => Verdict::malformed(format!("the token is malformed: {why}")),
        Ok(credential) => {
            let mut vault = context.open(Access::Read)?;
            let verdict = judge(
                vault.store().as_ref(),
                &credential,
                &requirements,
                context.now,
            )?;
            let due = Bookkeeping::due(&verdict, context.now);
            record(&mut vault, due.as_slice(), context.now);
            verdict
        }
    };

    if context.json {
        let document = serde_json::to_value(VerdictJson::of(&verdict)).map_err(io::Error::from)?;
        crate::output::print_json(&document)?;
    }
    match (verdict.reason, &verdict.record) {
        (Reason::Ok, Some(record)) => {
            if !context.json && !context.quiet {
                println!("valid: \"{}\" ({})", record.name, record.id);
            }
            if let Some(expires_at) = record
                .expires_at
                .filter(|at| *at - context.now <= crate::output::EXPIRING_SOON)
            {
                context.notice(&format!(
                    "warning: token \"{}\" ({}) expires {}; rotate or refresh it soon",
                    record.name,
                    record.id,
                    relative(expires_at, context.now)
                ));
            }
            Ok(())
        }
        (Reason::Ok, None) => unreachable!("a valid verdict always carries its token"),
        (Reason::Malformed, _) => Err(Error::Malformed(verdict.why)),
        (Reason::Invalid, _) => Err(Error::Invalid(verdict.why)),
        (Reason::Expired, _) => Err(Error::Expired(verdict.why)),
        (Reason::Revoked, _) => Err(Error::Revoked(verdict.why)),
        (Reason::Forbidden, _) => Err(Error::Forbidden(verdict.why)),
    }
}

/// `--batch`: one token a line on stdin, one JSON line a token on stdout, in order.
///
/// Answers are flushed whenever the input read so far is used up, so a service can keep one
/// `verify --batch` running and feed it a token at a time; a file or a pipe full of tokens is
/// answered in large writes.
fn run_batch(context: &Context, requirements: &Requirements<'_>) -> Result<()> {
    let mut vault = context.open(Access::Read)?;
    let mut stdin = StdinLines::new();
    let mut stdout = BufWriter::new(io::stdout().lock());
    let mut due: Vec<Bookkeeping> = Vec::new();
    // Tokens whose last use is already pending in `due`: one update each is enough.
    let mut used: HashSet<String> = HashSet::new();
    let mut recorded_at = Instant::now();
    loop {
        if !stdin.has_buffered_input() {
            stdout.flush()?;
        }
        let Some(line) = stdin.next_line()? else {
            break;
        };
        let verdict = match Credential::parse(Kind::Token, &line) {
            Err(why) => Verdict::malformed(why.to_string()),
            Ok(credential) => judge(
                vault.store().as_ref(),
                &credential,
                requirements,
                context.now,
            )?,
        };
        serde_json::to_writer(&mut stdout, &VerdictJson::of(&verdict)).map_err(io::Error::from)?;
        stdout.write_all(b"\n")?;
        match Bookkeeping::due(&verdict, context.now) {
            Some(Bookkeeping::Used(id)) if !used.insert(id.clone()) => {}
            Some(entry) => due.push(entry),
            None => {}
        }
        if due.len() >= BOOKKEEPING_CHUNK
            || (!due.is_empty() && recorded_at.elapsed() >= BOOKKEEPING_INTERVAL)
        {
            stdout.flush()?;
            record(&mut vault, &due, context.now);
            due.clear();
            used.clear();
            recorded_at = Instant::now();
        }
    }
    stdout.flush()?;
    record(&mut vault, &due, context.now);
    Ok(())
}

/// Checks a well-formed token against the vault: existence, secret, revocation, expiry, scopes, app.
fn judge(
    store: &dyn Store,
    credential: &Credential,
    requirements: &Requirements<'_>,
    now: DateTime<Utc>,
) -> Result<Verdict> {
    let presented_id = Some(credential.id().to_owned());
    let record = match store.find_for_verify(credential.id())? {
        Some(record) if credential.matches(&record.secret_hash) => record,
        _ => {
            return Ok(Verdict {
                reason: Reason::Invalid,
                presented_id,
                record: None,
                why: "the token is not valid (unknown id or wrong secret)".into(),
            });
        }
    };
    let label = format!("token \"{}\" ({})", record.name, record.id);
    let (reason, why) = if let Some(at) = record.revoked_at.filter(|at| *at <= now) {
        (
            Reason::Revoked,
            format!("{label} was revoked {}", relative(at, now)),
        )
    } else if let Some(at) = record.expires_at.filter(|at| *at <= now) {
        (
            Reason::Expired,
            format!("{label} expired {}", relative(at, now)),
        )
    } else if let Some(missing) = requirements
        .scopes
        .iter()
        .find(|scope| !record.scopes.contains(scope))
    {
        (
            Reason::Forbidden,
            format!("{label} lacks the scope \"{missing}\""),
        )
    } else if let Some(app) = requirements
        .app
        .filter(|app| record.app.as_deref() != Some(*app))
    {
        let owner = record
            .app
            .as_deref()
            .map_or("no app".to_owned(), |owner| format!("app \"{owner}\""));
        (
            Reason::Forbidden,
            format!("{label} belongs to {owner}, not \"{app}\""),
        )
    } else {
        (Reason::Ok, String::new())
    };
    Ok(Verdict {
        reason,
        presented_id,
        record: Some(record),
        why,
    })
}

/// The write a verdict calls for, if any.
enum Bookkeeping {
    /// A good token's last use, when the recorded one is older than [`LAST_USED_RESOLUTION`].
    Used(String),
    /// A failed verification of a well-formed token, for the event log.
    Failed { id: String, reason: Reason },
}

impl Bookkeeping {
    fn due(verdict: &Verdict, now: DateTime<Utc>) -> Option<Bookkeeping> {
        match (verdict.reason, &verdict.record, &verdict.presented_id) {
            (Reason::Ok, Some(record), _) => record
                .last_used_at
                .is_none_or(|at| now - at >= LAST_USED_RESOLUTION)
                .then(|| Bookkeeping::Used(record.id.clone())),
            (Reason::Ok, None, _) => None,
            (reason, _, Some(id)) => Some(Bookkeeping::Failed {
                id: id.clone(),
                reason,
            }),
            (_, _, None) => None,
        }
    }
}

/// Writes `due` in one short transaction that is skipped when the vault is read-only or another
/// command holds the lock: bookkeeping never holds a verify up.
fn record(vault: &mut Vault, due: &[Bookkeeping], now: DateTime<Utc>) {
    if due.is_empty() {
        return;
    }
    vault.write_briefly(BOOKKEEPING_PATIENCE, |store| {
        for entry in due {
            match entry {
                Bookkeeping::Used(id) => store.touch_last_used(id, now)?,
                Bookkeeping::Failed { id, reason } => {
                    store.log_event(now, Some(id), "verify_failed", reason.as_str())?;
                }
            }
        }
        Ok(())
    });
}

/// SPEC §4's verify document; token details only once the secret has matched. The keys are in
/// alphabetical order, as `verify --json` has always printed them.
#[derive(Serialize)]
struct VerdictJson<'a> {
    app: Option<&'a str>,
    expires_at: Option<String>,
    id: Option<&'a str>,
    name: Option<&'a str>,
    reason: &'static str,
    scopes: Option<&'a [String]>,
    valid: bool,
}

impl<'a> VerdictJson<'a> {
    fn of(verdict: &'a Verdict) -> VerdictJson<'a> {
        let record = verdict.record.as_ref();
        VerdictJson {
            app: record.and_then(|r| r.app.as_deref()),
            expires_at: record.and_then(|r| r.expires_at).map(rfc3339),
            id: record
                .map(|r| r.id.as_str())
                .or(verdict.presented_id.as_deref()),
            name: record.map(|r| r.name.as_str()),
            reason: verdict.reason.as_str(),
            scopes: record.map(|r| r.scopes.as_slice()),
            valid: verdict.reason == Reason::Ok,
        }
    }
}
