//! `tokens verify`: is a presented token good for what is asked? Answered by the exit status.
//!
//! The path is kept lean: parse and checksum without the vault, one indexed lookup, a
//! constant-time hash comparison, and bookkeeping that never makes a verify wait on a writer.
//!
//! Every token is judged against the clock and the vault as they are when it is read (SPEC §8):
//! a `verify --batch` kept running as a service's coprocess sees a revoke, an expiry or the end
//! of a rotation's grace as soon as it happens.

use std::collections::{HashMap, VecDeque};
use std::io::{self, BufWriter, Write};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;
use zeroize::Zeroizing;

use super::Context;
use super::secrets::{self, Source, StdinLines};
use crate::cli::VerifyArgs;
use crate::error::{Error, Result};
use crate::output::{printable, relative, rfc3339};
use crate::token::{Credential, Kind};
use crate::vault::{self, Access, Store, Vault, VerifyRecord, join_nets};

/// Last use is recorded at most this often per token, so busy tokens do not turn verify into a writer.
const LAST_USED_RESOLUTION: chrono::Duration = chrono::Duration::seconds(60);
/// How long verify waits for the write lock to record last use before it gives up on that.
const BOOKKEEPING_PATIENCE: Duration = Duration::from_millis(200);
/// `--batch` writes its bookkeeping (last uses, failure counts) in one transaction for many
/// lines: when this many entries are pending, when this long has passed since the last write,
/// whenever the input runs dry (a service feeding tokens as they come) and at the end. A file of
/// tokens costs a few transactions, not one per token, and little memory.
const BOOKKEEPING_CHUNK: usize = 10_000;
const BOOKKEEPING_INTERVAL: Duration = Duration::from_secs(1);
/// How long `--batch` holds a view of a vault it cannot write before letting it go (see
/// `Vault::rest`): so long a view would hold back the writers' checkpoints.
const READ_ONLY_VIEW_LIFETIME: Duration = Duration::from_secs(1);
/// The first pause before `--batch` opens a vault it lost the connection to again (doubling).
const RECONNECT_PAUSE: Duration = Duration::from_millis(50);

/// How often `--batch` reads the vault's marks again (SPEC §10): a verify mark a newer tokens
/// raises stops the batch within this long.
const MARKS_INTERVAL: Duration = Duration::from_secs(1);

/// Why a token is or is not good (SPEC §4's `reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    Ok,
    Malformed,
    Invalid,
    Expired,
    Revoked,
    Disabled,
    UsedUp,
    Forbidden,
    /// The vault could not be asked (SPEC §4); never valid.
    Unavailable,
}

impl Reason {
    fn as_str(self) -> &'static str {
        match self {
            Reason::Ok => "ok",
            Reason::Malformed => "malformed",
            Reason::Invalid => "invalid",
            Reason::Expired => "expired",
            Reason::Revoked => "revoked",
            Reason::Disabled => "disabled",
            Reason::UsedUp => "used_up",
            Reason::Forbidden => "forbidden",
            Reason::Unavailable => "unavailable",
        }
    }
}

/// The verdict on one presented token.
struct Verdict {
    reason: Reason,
    /// The presented id, when the token was well-formed.
    presented_id: Option<String>,
    /// True when a token with the presented id exists (whether or not the secret matched).
    known: bool,
    /// The token, once its secret has matched.
    record: Option<VerifyRecord>,
    /// What was wrong, for humans (never a secret).
    why: String,
    /// True when the verdict's transaction already recorded the use (a use-limited token), or
    /// the vault already counted the failure (a wrong secret on PostgreSQL).
    recorded: bool,
    /// SHA-256 of the presented secret (zero for a malformed token): the vault's bookkeeping
    /// functions act only for the holder of the secret (SPEC §10).
    secret: [u8; 32],
}

impl Verdict {
    /// The answer for text that is not a well-formed token (the vault is not asked).
    fn malformed(why: String) -> Verdict {
        Verdict {
            reason: Reason::Malformed,
            presented_id: None,
            known: false,
            record: None,
            why,
            recorded: false,
            secret: [0; 32],
        }
    }

    /// True for an `ok` that stands only once a use is spent (a token with a use limit).
    fn needs_spend(&self) -> bool {
        self.reason == Reason::Ok
            && self
                .record
                .as_ref()
                .is_some_and(|record| record.controls.uses_limit.is_some())
    }
}

/// What verify must ask of the token.
#[derive(Clone, Copy)]
struct Requirements<'a> {
    scopes: &'a [String],
    app: Option<&'a str>,
    /// Where the token was presented from (`--client-ip`, or a `--batch` line's address).
    client_ip: Option<IpAddr>,
}

pub fn run(context: &Context, args: VerifyArgs) -> Result<()> {
    let requirements = Requirements {
        scopes: &args.scopes,
        app: args.app.as_deref(),
        client_ip: args.client_ip,
    };
    if args.batch {
        return run_batch(context, &requirements);
    }
    let source = Source::from_args(args.token_env, args.token_file);
    let mut stdin = StdinLines::new();
    let text = secrets::read(&source, "token", &mut stdin, context.stdin_is_terminal)?;
    if stdin.has_more_text() {
        context.notice(
            "warning: stdin holds more than one line; verify checked the first (--batch checks one token a line)",
        );
    }
    let mut now = Utc::now(); // the token has arrived: judged as things stand now
    let verdict = match Credential::parse(Kind::Token, &text) {
        Err(why) => Verdict::malformed(format!("the token is malformed: {why}")),
        Ok(credential) => {
            let mut vault = context.open(Access::Read)?;
            vault.may_verify()?;
            now = Utc::now();
            let verdict = decide(&mut vault, &credential, &requirements, now, None)?;
            let verdict = record_first_use(&mut vault, verdict, now);
            let mut pending = Pending::new();
            pending.add(&verdict, now);
            pending.write(&mut vault);
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
                writeln!(
                    io::stdout().lock(),
                    "valid: \"{}\" ({})",
                    printable(&record.name),
                    printable(&record.id)
                )?;
            }
            if let Some(expires_at) = record
                .expires_at
                .filter(|at| *at - now <= crate::output::EXPIRING_SOON)
            {
                context.notice(&format!(
                    "warning: token \"{}\" ({}) expires {}; rotate or refresh it soon",
                    printable(&record.name),
                    printable(&record.id),
                    relative(expires_at, now)
                ));
            }
            Ok(())
        }
        (Reason::Ok, None) => unreachable!("a valid verdict always carries its token"),
        (reason, _) => {
            let failed = match reason {
                Reason::Ok => unreachable!("matched above"),
                Reason::Malformed => Error::Malformed(verdict.why),
                Reason::Invalid => Error::Invalid(verdict.why),
                Reason::Expired => Error::Expired(verdict.why),
                Reason::Revoked => Error::Revoked(verdict.why),
                Reason::Disabled => Error::Disabled(verdict.why),
                Reason::UsedUp => Error::UsedUp(verdict.why),
                Reason::Forbidden => Error::Forbidden(verdict.why),
                Reason::Unavailable => return Err(Error::Other(anyhow::anyhow!(verdict.why))),
            };
            // `-q`: the exit status is the verdict; no line says it (an error that is not a
            // verdict, as `unavailable`, is still said).
            if context.quiet {
                Err(Error::Silent(failed.exit_code()))
            } else {
                Err(failed)
            }
        }
    }
}

/// `--batch`: one token a line on stdin, one JSON line a token on stdout, in order.
///
/// Answers are flushed whenever the input read so far is used up, so a service can keep one
/// `verify --batch` running and feed it a token at a time; a file or a pipe full of tokens is
/// answered in large writes. A line too long to be a token is answered `malformed`, and the
/// batch goes on with the next line.
fn run_batch(context: &Context, requirements: &Requirements<'_>) -> Result<()> {
    let mut vault = context.open(Access::Read)?;
    vault.may_verify()?;
    let mut stdin = StdinLines::new();
    let mut stdout = BufWriter::new(io::stdout().lock());
    let mut pending = Pending::new();
    let mut opened_at = Instant::now();
    let mut marks_read_at = Instant::now();
    // Why the last line answered `unavailable` was (a lost vault that did not come back in time).
    let mut unanswered = None;
    // Use-limited tokens answered `unavailable` because this user cannot record their uses.
    let mut unrecorded = 0_u64;
    // Lines read ahead (those already waiting on stdin), and their lookups, asked together.
    let mut queued = VecDeque::new();
    let mut prefetched = Prefetched::new();
    loop {
        if queued.is_empty() && !stdin.has_buffered_input() {
            stdout.flush()?;
            if stdin.runs_dry() {
                pending.write(&mut vault);
                vault.rest();
            }
        }
        if opened_at.elapsed() >= READ_ONLY_VIEW_LIFETIME {
            vault.rest();
            opened_at = Instant::now();
        }
        let next = match queued.pop_front() {
            Some(next) => next,
            None => {
                read_ahead(&mut stdin, &mut queued);
                prefetched = prefetch(&vault, &queued, requirements);
                queued.pop_front().unwrap_or(Ok(None))
            }
        };
        let line = match next {
            Ok(Some(line)) => Ok(line),
            Ok(None) => break,
            Err(Error::Malformed(why)) => Err(why),
            Err(error) => {
                stdout.flush()?;
                pending.write(&mut vault);
                return Err(error);
            }
        };
        // Marks raised meanwhile (SPEC §10) end the batch before it answers another line.
        if marks_read_at.elapsed() >= MARKS_INTERVAL {
            // A lost connection is not a raised mark: the line below opens the vault again
            // (and checks the marks as it does).
            let checked = vault.keep_current().and_then(|()| vault.may_still_verify());
            if let Err(error) = checked
                && !vault::connection_lost(&error)
            {
                // This line is answered `unavailable` (SPEC §5), never judged.
                let verdict = Verdict {
                    reason: Reason::Unavailable,
                    presented_id: None,
                    known: false,
                    record: None,
                    why: String::new(),
                    recorded: false,
                    secret: [0; 32],
                };
                answer(&mut stdout, &verdict)?;
                stdout.flush()?;
                pending.write(&mut vault);
                return Err(error);
            }
            marks_read_at = Instant::now();
        }
        let (now, read_at) = (Utc::now(), Instant::now());
        let verdict = match line.as_ref().map(|line| batch_line(line, requirements)) {
            Err(why) => Verdict::malformed(why.clone()),
            Ok(Err(refused)) => Verdict {
                presented_id: refused.presented_id,
                ..Verdict::malformed(refused.why)
            },
            Ok(Ok((credential, requirements))) => match vault.keep_current().and_then(|()| {
                let lookup =
                    prefetched.remove(&(credential.id().to_owned(), credential.secret_hash()));
                decide(&mut vault, &credential, &requirements, now, lookup)
            }) {
                Ok(verdict) => {
                    if verdict.reason == Reason::Unavailable {
                        unrecorded += 1;
                    }
                    record_first_use(&mut vault, verdict, now)
                }
                Err(error) if vault::connection_lost(&error) => {
                    // The server went away (a restart, a failover): open the vault again and
                    // ask again, until this line's deadline. A line that still has no answer is
                    // `unavailable` and the batch goes on; it ends with exit 1 (SPEC §5).
                    match reconnect_and_judge(context, &credential, &requirements, read_at, error) {
                        Ok((reopened, verdict)) => {
                            vault = reopened;
                            record_first_use(&mut vault, verdict, now)
                        }
                        Err(error) => {
                            unanswered = Some(error);
                            unavailable(&credential)
                        }
                    }
                }
                Err(error) => {
                    // SPEC §5: this line is answered `unavailable`, and the batch ends with
                    // exit 1 and the one line that says why.
                    answer(&mut stdout, &unavailable(&credential))?;
                    stdout.flush()?;
                    pending.write(&mut vault);
                    return Err(error);
                }
            },
        };
        answer(&mut stdout, &verdict)?;
        pending.add(&verdict, now);
        if pending.len() >= BOOKKEEPING_CHUNK || pending.age() >= BOOKKEEPING_INTERVAL {
            stdout.flush()?;
            pending.write(&mut vault);
        }
    }
    stdout.flush()?;
    pending.write(&mut vault);
    if unrecorded > 0 {
        return Err(Error::Other(anyhow::anyhow!(
            "{unrecorded} token(s) with a use limit were answered unavailable: this user cannot \
             record their uses in the vault; verify them as a user who may write it"
        )));
    }
    match unanswered {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

/// How many lines `--batch` reads ahead of the one it answers, at most: those already waiting
/// on stdin, whose lookups go to a PostgreSQL vault together (one transaction, one prepared
/// statement, two round trips). Kept small: a lookup that finds a wrong secret updates its failure counter,
/// and the versions one transaction leaves of that row are reclaimed only after it commits (at
/// 256, 2,000 wrong secrets of one token grew the table by 170 kB).
const READ_AHEAD: usize = 32;

/// Lookups asked ahead, by presented id and secret hash.
type Prefetched = HashMap<(String, [u8; 32]), vault::Lookup>;

/// Reads the next line, and after it the lines already waiting on stdin (at most
/// [`READ_AHEAD`]): a line that ends the input or fails ends the reading too.
fn read_ahead(stdin: &mut StdinLines, queued: &mut VecDeque<Result<Option<Zeroizing<String>>>>) {
    loop {
        let next = stdin.next_line();
        let more = matches!(next, Ok(Some(_)));
        queued.push_back(next);
        if !more || queued.len() >= READ_AHEAD || !stdin.has_buffered_input() {
            return;
        }
    }
}

/// The lookups of the well-formed tokens among `queued`, asked together where the vault gains
/// by it (see [`Vault::lookup_many`]); none when it does not, or when asking failed (each line
/// is then asked on its own, and its failure handled there).
fn prefetch(
    vault: &Vault,
    queued: &VecDeque<Result<Option<Zeroizing<String>>>>,
    requirements: &Requirements<'_>,
) -> Prefetched {
    // Each token once: a lookup that finds a wrong secret counts it (each line's own lookup).
    let mut seen = std::collections::HashSet::new();
    let presented: Vec<(String, [u8; 32])> = queued
        .iter()
        .filter_map(|next| match next {
            Ok(Some(line)) => batch_line(line, requirements).ok(),
            _ => None,
        })
        .map(|(credential, _)| (credential.id().to_owned(), credential.secret_hash()))
        .filter(|presented| seen.insert(presented.clone()))
        .collect();
    if presented.len() < 2 {
        return Prefetched::new();
    }
    match vault.lookup_many(&presented) {
        Ok(Some(lookups)) => presented.into_iter().zip(lookups).collect(),
        _ => Prefetched::new(),
    }
}

/// The answer for a line the vault could not be asked about (SPEC §4); never valid.
fn unavailable(credential: &Credential) -> Verdict {
    Verdict {
        reason: Reason::Unavailable,
        presented_id: Some(credential.id().to_owned()),
        known: false,
        record: None,
        why: String::new(),
        recorded: false,
        secret: credential.secret_hash(),
    }
}

/// After the connection to the vault was lost (`lost`) answering the line read at `started`:
/// opens the vault again and judges `credential` as things stand then, trying again after short
/// pauses (the server may still be restarting) until `--timeout` has passed since the line was
/// read. The new vault and the verdict, or the last error.
fn reconnect_and_judge(
    context: &Context,
    credential: &Credential,
    requirements: &Requirements<'_>,
    started: Instant,
    lost: Error,
) -> Result<(Vault, Verdict)> {
    let location = context.location()?;
    let mut pause = RECONNECT_PAUSE;
    let mut last = lost;
    loop {
        let left = context.timeout.saturating_sub(started.elapsed());
        if left.is_zero() {
            return Err(last);
        }
        let attempt = Vault::open_within(&location, Access::Read, left).and_then(|mut vault| {
            vault.may_verify()?;
            let verdict = decide(&mut vault, credential, requirements, Utc::now(), None)?;
            Ok((vault, verdict))
        });
        match attempt {
            Ok(answered) => return Ok(answered),
            Err(error) => last = error,
        }
        let left = context.timeout.saturating_sub(started.elapsed());
        std::thread::sleep(pause.min(left));
        pause = (pause * 2).min(RECONNECT_PAUSE * 8);
    }
}

/// A `--batch` line: the token, then optionally whitespace and the client's address, which
/// stands in for a missing `--client-ip`. The address must be written by the service, never
/// copied from the client (SPEC §4): so with `--client-ip` given, a line that carries one is
/// `malformed` (a client could otherwise pick an address its token is allowed from). A refused
/// line is answered `malformed` with the presented id, and is not a failure of that token.
fn batch_line<'a>(
    line: &str,
    requirements: &Requirements<'a>,
) -> Result<(Credential, Requirements<'a>), RefusedLine> {
    let mut fields = line.split_whitespace();
    let credential =
        Credential::parse(Kind::Token, fields.next().unwrap_or_default()).map_err(|why| {
            RefusedLine {
                presented_id: None,
                why: format!("the token is malformed: {why}"),
            }
        })?;
    let refused = |why: String| RefusedLine {
        presented_id: Some(credential.id().to_owned()),
        why,
    };
    let address = fields.next();
    if fields.next().is_some() {
        return Err(refused(
            "a line holds a token and at most one client address".into(),
        ));
    }
    let client_ip = match address {
        None => requirements.client_ip,
        Some(address) => {
            // Not named when it is not an address: the text could be anything, a secret too.
            let address = address.parse::<IpAddr>().map_err(|_| {
                refused("the client address after the token is not an IP address".into())
            })?;
            if let Some(trusted) = requirements.client_ip {
                return Err(refused(format!(
                    "the line carries a client address ({address}) and --client-ip {trusted} is \
                     given: the address comes from the service (--client-ip), never from the line"
                )));
            }
            Some(address)
        }
    };
    Ok((
        credential,
        Requirements {
            client_ip,
            ..*requirements
        },
    ))
}

/// Why a `--batch` line is answered `malformed`, and the id it presented, if any.
struct RefusedLine {
    presented_id: Option<String>,
    why: String,
}

/// The verdict on a well-formed token: [`judge`]d from one lookup, and for an `ok` of a token
/// with a use limit judged again in the transaction that spends the use (SPEC §9: exactly N of
/// any number of parallel verifies of an N-use token are `ok`). A vault this user cannot write
/// cannot count the use: that token is `unavailable`, never an uncounted `ok`.
fn decide(
    vault: &mut Vault,
    credential: &Credential,
    requirements: &Requirements<'_>,
    now: DateTime<Utc>,
    prefetched: Option<vault::Lookup>,
) -> Result<Verdict> {
    let verdict = judge(
        vault.store().as_ref(),
        credential,
        requirements,
        now,
        prefetched,
    )?;
    if !verdict.needs_spend() {
        return Ok(verdict);
    }
    let spent = vault.record_use(|store| {
        let mut verdict = judge(store, credential, requirements, now, None)?;
        if let (Reason::Ok, Some(record)) = (verdict.reason, verdict.record.as_mut())
            && let Some(limit) = record.controls.uses_limit
        {
            let epoch = record.controls.uses_epoch;
            match store.spend_use(&record.id, &verdict.secret, epoch, limit, now)? {
                Some(spent) => {
                    record.controls.uses_spent = spent;
                    verdict.recorded = true;
                }
                None => {
                    record.controls.uses_spent = limit;
                    verdict.why = used_up(record);
                    verdict.reason = Reason::UsedUp;
                }
            }
        }
        Ok(verdict)
    });
    match spent {
        Err(error @ Error::VaultReadOnly { .. }) => Ok(Verdict {
            reason: Reason::Unavailable,
            why: format!(
                "token \"{}\" ({}) has a use limit, and its use cannot be recorded: {error}",
                verdict.record.as_ref().map_or("", |r| r.name.as_str()),
                credential.id()
            ),
            record: None,
            ..verdict
        }),
        other => other,
    }
}

/// Why a token with no uses left is refused.
fn used_up(record: &VerifyRecord) -> String {
    let limit = record.controls.uses_limit.unwrap_or(0);
    format!(
        "token \"{}\" ({}) has used {}; ask an admin for more (tokens edit {} --uses N)",
        printable(&record.name),
        printable(&record.id),
        match limit {
            1 => "its one use".to_owned(),
            n => format!("all its {n} uses"),
        },
        record.id
    )
}

/// Writes one line of `--batch`'s answer.
fn answer(out: &mut impl Write, verdict: &Verdict) -> Result<()> {
    serde_json::to_writer(&mut *out, &VerdictJson::of(verdict)).map_err(io::Error::from)?;
    out.write_all(b"\n")?;
    Ok(())
}

/// `rotate --until-used`: the first `ok` of a successor ends its predecessor, so it is recorded
/// before it is answered, waiting for the lock within the deadline, never skipped. A verifier
/// that cannot record it (a vault it may only read) answers `unavailable` (exit 1) rather than
/// leave the old token verifying unseen.
fn record_first_use(vault: &mut Vault, verdict: Verdict, now: DateTime<Utc>) -> Verdict {
    let Some(record) = verdict
        .record
        .as_ref()
        .filter(|record| verdict.reason == Reason::Ok && record.ends_on_first_use.is_some())
    else {
        return verdict;
    };
    // A verifier role on PostgreSQL records it too (the vault's function, which also logs the
    // `revoked` event of the token it ends, once); a vault this user cannot write cannot.
    let written =
        vault.record_use(|store| store.record_first_use(&record.id, &verdict.secret, now));
    match written {
        Ok(()) => verdict,
        Err(error) => Verdict {
            reason: Reason::Unavailable,
            why: format!(
                "could not record the first use of token \"{}\" ({}), which ends the token it \
                 was rotated from ({}); verify it where the vault can be written",
                printable(&record.name),
                printable(&record.id),
                crate::output::message(&error.to_string())
            ),
            ..verdict
        },
    }
}

/// Checks a well-formed token against the vault: existence, secret, revocation, expiry, scopes,
/// app; from its lookup (`prefetched`, or asked now).
fn judge(
    store: &dyn Store,
    credential: &Credential,
    requirements: &Requirements<'_>,
    now: DateTime<Utc>,
    prefetched: Option<vault::Lookup>,
) -> Result<Verdict> {
    let presented_id = Some(credential.id().to_owned());
    let secret = credential.secret_hash();
    let lookup = match prefetched {
        Some(lookup) => lookup,
        None => store.lookup_for_verify(credential.id(), &secret)?,
    };
    // The server's clock where the vault has one: every verifier of a shared vault judges by it.
    let now = lookup.now.unwrap_or(now);
    let known = lookup.known;
    let Some(record) = lookup.record else {
        return Ok(Verdict {
            reason: Reason::Invalid,
            presented_id,
            known,
            record: None,
            why: "the token is not valid (unknown id or wrong secret)".into(),
            recorded: lookup.failure_counted,
            secret,
        });
    };
    // Vault text, quoted in a message: made printable here, where it is known to be vault text.
    let label = format!(
        "token \"{}\" ({})",
        printable(&record.name),
        printable(&record.id)
    );
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
    } else if let Some(at) = record.controls.disabled_at {
        let reason = record
            .controls
            .disable_reason
            .as_deref()
            .map_or(String::new(), |reason| format!(" ({})", printable(reason)));
        (
            Reason::Disabled,
            format!(
                "{label} was disabled {}{reason}; an admin can enable it: tokens enable {}",
                relative(at, now),
                record.id
            ),
        )
    } else if record.controls.uses_left() == Some(0) {
        (Reason::UsedUp, used_up(&record))
    } else if let missing = requirements
        .scopes
        .iter()
        .filter(|scope| !record.scopes.contains(scope))
        .map(|scope| format!("\"{scope}\""))
        .collect::<Vec<_>>()
        && !missing.is_empty()
    {
        let scopes = if missing.len() == 1 {
            "scope"
        } else {
            "scopes"
        };
        (
            Reason::Forbidden,
            format!("{label} lacks the {scopes} {}", missing.join(", ")),
        )
    } else if let Some(app) = requirements
        .app
        .filter(|app| record.app.as_deref() != Some(*app))
    {
        let owner = record.app.as_deref().map_or("no app".to_owned(), |owner| {
            format!("app \"{}\"", printable(owner))
        });
        (
            Reason::Forbidden,
            format!("{label} belongs to {owner}, not \"{app}\""),
        )
    } else if let Some(nets) = &record.controls.allow_from
        && requirements
            .client_ip
            .is_none_or(|address| !record.controls.allows(address))
    {
        let nets = join_nets(nets);
        let why = match requirements.client_ip {
            None => format!(
                "{label} is bound to addresses ({nets}) and no client address was given; pass \
                 --client-ip ADDR (in --batch: the address after the token)"
            ),
            Some(address) => format!("{label} is not allowed from {address} (only {nets})"),
        };
        (Reason::Forbidden, why)
    } else {
        (Reason::Ok, String::new())
    };
    Ok(Verdict {
        reason,
        presented_id,
        known,
        record: Some(record),
        why,
        recorded: false,
        secret,
    })
}

/// The bookkeeping verdicts call for, not yet written: last uses, and failed verifications of
/// known tokens counted by token and reason. An unknown id is never written down: anyone can
/// make one up (the checksum is public), and the vault must not grow with what strangers send.
struct Pending {
    /// When each token was last found good, for those whose recorded last use is out of date,
    /// and the SHA-256 of its secret.
    used: HashMap<String, (DateTime<Utc>, [u8; 32])>,
    failed: HashMap<(String, Reason), Failures>,
    since: Instant,
}

/// Failures of one token for one reason: how many, the first and the last, and the SHA-256 of
/// the secret presented last.
struct Failures {
    secret: [u8; 32],
    count: i64,
    first_at: DateTime<Utc>,
    last_at: DateTime<Utc>,
}

impl Pending {
    fn new() -> Pending {
        Pending {
            used: HashMap::new(),
            failed: HashMap::new(),
            since: Instant::now(),
        }
    }

    fn len(&self) -> usize {
        self.used.len() + self.failed.len()
    }

    /// How long the oldest entry has waited.
    fn age(&self) -> Duration {
        if self.len() == 0 {
            Duration::ZERO
        } else {
            self.since.elapsed()
        }
    }

    /// Notes what `verdict`, given at `now`, calls for.
    fn add(&mut self, verdict: &Verdict, now: DateTime<Utc>) {
        if self.len() == 0 {
            self.since = Instant::now();
        }
        match (verdict.reason, &verdict.record, &verdict.presented_id) {
            (Reason::Ok, Some(record), _)
                if !verdict.recorded
                    && record
                        .last_used_at
                        .is_none_or(|at| now - at >= LAST_USED_RESOLUTION) =>
            {
                self.used.insert(record.id.clone(), (now, verdict.secret));
            }
            (Reason::Ok | Reason::Malformed | Reason::Unavailable, _, _) => {}
            (reason, _, Some(id)) if verdict.known && !verdict.recorded => {
                self.failed
                    .entry((id.clone(), reason))
                    .and_modify(|failures| {
                        failures.count += 1;
                        failures.last_at = now;
                        failures.secret = verdict.secret;
                    })
                    .or_insert(Failures {
                        secret: verdict.secret,
                        count: 1,
                        first_at: now,
                        last_at: now,
                    });
            }
            // An unknown id (or no id): never written down.
            _ => {}
        }
    }

    /// Writes everything pending in one short transaction, skipped when the vault is read-only
    /// or another command holds the lock: bookkeeping never holds a verify up.
    fn write(&mut self, vault: &mut Vault) {
        if self.len() == 0 {
            return;
        }
        vault.write_briefly(BOOKKEEPING_PATIENCE, |store| {
            let uses: Vec<(&str, &[u8; 32], DateTime<Utc>)> = self
                .used
                .iter()
                .map(|(id, (at, secret))| (id.as_str(), secret, *at))
                .collect();
            store.record_last_uses(&uses)?;
            for ((id, reason), failures) in &self.failed {
                store.record_failures(
                    id,
                    &failures.secret,
                    reason.as_str(),
                    failures.count,
                    failures.first_at,
                    failures.last_at,
                )?;
            }
            Ok(())
        });
        self.used.clear();
        self.failed.clear();
    }
}

/// SPEC §4's verify document; token details only once the secret has matched. The keys are in
/// alphabetical order, as `verify --json` has always printed them.
#[derive(Serialize)]
struct VerdictJson<'a> {
    app: Option<&'a str>,
    /// Why the verdict is not `ok` (never a secret); `null` for `ok`.
    detail: Option<&'a str>,
    expires_at: Option<String>,
    id: Option<&'a str>,
    /// The token's metadata, once its secret matched (SPEC §9).
    meta: Option<&'a std::collections::BTreeMap<String, String>>,
    name: Option<&'a str>,
    reason: &'static str,
    scopes: Option<&'a [String]>,
    /// Uses left after this verdict; `null` when unlimited (or the secret did not match).
    uses_left: Option<i64>,
    valid: bool,
}

impl<'a> VerdictJson<'a> {
    fn of(verdict: &'a Verdict) -> VerdictJson<'a> {
        let record = verdict.record.as_ref();
        VerdictJson {
            app: record.and_then(|r| r.app.as_deref()),
            detail: match verdict.reason {
                Reason::Ok => None,
                Reason::Unavailable if verdict.why.is_empty() => {
                    Some("the vault could not be asked; see the error on stderr")
                }
                _ => Some(verdict.why.as_str()),
            },
            expires_at: record.and_then(|r| r.expires_at).map(rfc3339),
            id: record
                .map(|r| r.id.as_str())
                .or(verdict.presented_id.as_deref()),
            meta: record.map(|r| &r.controls.meta),
            name: record.map(|r| r.name.as_str()),
            reason: verdict.reason.as_str(),
            scopes: record.map(|r| r.scopes.as_slice()),
            uses_left: record.and_then(|r| r.controls.uses_left()),
            valid: verdict.reason == Reason::Ok,
        }
    }
}
