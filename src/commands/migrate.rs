//! `tokens migrate --from VAULT --to VAULT`: copies a vault, typically a SQLite file into a
//! shared PostgreSQL vault, and checks the copy before committing it.
//!
//! Everything happens inside two transactions: the source is read from one unchanging view (on
//! PostgreSQL one `REPEATABLE READ, READ ONLY` snapshot; on SQLite its write lock or its
//! read-only snapshot), and the destination's holds the copy until both sides
//! have been read back and found equal; any error or difference rolls the copy back, leaving
//! the destination as it was.
//!
//! Every table a vault holds is copied (see [`COPIED_TABLES`]): tokens, their bookkeeping,
//! the event log with its numbers and times, failure counters and the policy; the
//! destination's marks are raised to the source's.

use sha2::{Digest, Sha256};

use super::Context;
use crate::cli::MigrateArgs;
use crate::error::{Error, Result};
use crate::output;
use crate::policy::Policy;
use crate::vault::{
    self, Access, CURRENT_VERSION, Event, EventFilter, FailureCount, ListFilter, Location, Store,
    TokenRecord, Usage, Vault,
};

/// Every table of a vault, SQLite's and PostgreSQL's, with every column, as `migrate` knows
/// them. A table or column a schema migration adds goes here once [`copy`] copies it and
/// [`Fingerprint`] compares it (or a comment says why it is not copied): `tests/migrate.rs`
/// fails while a fresh vault of either backend has one this list lacks.
#[rustfmt::skip]
pub const COPIED_TABLES: &[(&str, &[&str])] = &[
    // Store::import_token; compared by feed_token. `seq` (PostgreSQL) is the order tokens were
    // added, kept by copying them in that order; `has_secret_key` is generated.
    ("tokens", &[
        "seq", "id", "name", "app", "scopes", "note", "secret_hash", "secret_tail",
        "secret_key_hash", "created_at", "expires_at", "revoked_at", "revoke_reason",
        "secret_key_used_at", "rotated_from", "replaced_by", "lineage", "waits_for",
        "first_use_ends", "disabled_at", "disable_reason", "uses_limit", "uses_epoch",
        "allow_from", "meta", "has_secret_key", "refresh_window", "disabled_batch",
    ]),
    // Store::import_usage, row for row; compared by Fingerprint::add_usage.
    ("token_usage", &["token_id", "last_used_at", "first_used_at", "uses_spent", "uses_epoch"]),
    // Store::import_events, numbers and times as they are; Fingerprint::add_event.
    ("events", &["seq", "at", "token_id", "kind", "detail"]),
    // Store::import_failure_count; Fingerprint::add_failure_count.
    ("verify_failures", &[
        "token_id", "reason", "failures", "first_at", "last_at", "unlogged", "logged_at",
    ]),
    // Store::set_policy when the source has rules; compared whole.
    ("policy", &[
        "singleton", "max_lifetime", "default_lifetime", "require_app", "scopes",
        "max_refresh_window", "default_refresh_window",
    ]),
    // The destination's own (its version is this binary's); its marks are raised to the
    // source's (Store::raise_marks), so no older tokens reads the copy that could not read
    // the original. SQLite keeps the version in `PRAGMA user_version`; `vault_schema` is the
    // schema the destination was made in (its functions name it), never the source's.
    ("vault_marks", &["read_mark", "verify_mark", "write_mark"]),
    ("tokens_vault", &[
        "singleton", "application", "version", "read_mark", "verify_mark", "write_mark",
        "vault_schema",
    ]),
];

/// Events are copied this many at a time: memory stays flat however long the log.
const EVENT_CHUNK: usize = 1_000;

pub fn run(context: &Context, args: MigrateArgs) -> Result<()> {
    let from = Location::parse(args.from.as_os_str())?;
    let to = Location::parse(args.to.as_os_str())?;
    if from == to {
        return Err(Error::Usage(
            "--from and --to name the same vault; migrate copies one vault into another".into(),
        ));
    }
    let mut source = Vault::open_within(&from, Access::Read, context.timeout)
        .map_err(|e| vault::explain(e, &from))?;
    // A newer source may hold what this binary does not know of, and would not copy: refused
    // before the destination is made.
    let (version, _) = source
        .read_still(|src| src.schema())
        .map_err(|e| vault::explain(e, &from))?;
    if version > CURRENT_VERSION {
        return Err(Error::VaultTooNew {
            vault: from.to_string(),
            found: version,
            known: CURRENT_VERSION,
        });
    }
    let mut destination = Vault::open_within(&to, Access::Write, context.timeout)
        .map_err(|e| vault::explain(e, &to))?;
    let now = context.now;

    let copied = destination.write(|dst| {
        if !dst.is_empty().map_err(|e| vault::explain(e, &to))? {
            return Err(Error::Conflict(format!(
                "{to} already holds tokens or events; migrate copies into an empty vault only"
            )));
        }
        let ends = Ends {
            from: &from,
            to: &to,
        };
        // One unchanging view of the source, whatever this user may do there: what is copied
        // and what the copy is checked against are the same state (`Vault::read_still`).
        source.read_still(|src| copy(src, dst, &ends, now))
    });
    let copied = copied.map_err(|e| vault::explain(e, &to))?;

    if context.json {
        output::print_json(&serde_json::json!({
            "from": from.to_string(),
            "to": to.to_string(),
            "tokens": copied.tokens,
            "events": copied.events,
            "verified": true,
        }))?;
    } else {
        let tokens = counted(copied.tokens, "token");
        let events = counted(copied.events, "event");
        let what = if copied.policy {
            format!("{tokens}, {events} and the policy")
        } else {
            format!("{tokens} and {events}")
        };
        context.notice(&format!(
            "Copied {what} from {from} to {to}; the copy reads back identical."
        ));
    }
    Ok(())
}

/// `1 token`, `2 tokens`.
fn counted(count: u64, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

/// What was copied.
struct Copied {
    tokens: u64,
    events: u64,
    /// The source had rules (`policy set`).
    policy: bool,
}

/// The two vaults, to name the one an error comes from.
struct Ends<'a> {
    from: &'a Location,
    to: &'a Location,
}

/// Copies every table of `src` into `dst` ([`COPIED_TABLES`]), then reads `dst` back and
/// compares it with what was copied.
fn copy(
    src: &dyn Store,
    dst: &dyn Store,
    ends: &Ends<'_>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Copied> {
    let from = |e| vault::explain(e, ends.from);
    let to = |e| vault::explain(e, ends.to);
    let (_, marks) = src.schema().map_err(from)?;
    let mut source = Fingerprint::new();
    let mut tokens = 0;
    src.list(&everything(), now, &mut |record| {
        tokens += 1;
        source.add_token(&record);
        dst.import_token(&record).map_err(to)
    })
    .map_err(from)?;
    src.usages(&mut |usage| {
        source.add_usage(&usage);
        dst.import_usage(&usage).map_err(to)
    })
    .map_err(from)?;
    let mut events = 0;
    let mut chunk: Vec<Event> = Vec::with_capacity(EVENT_CHUNK);
    src.events(&EventFilter::default(), &mut |event| {
        events += 1;
        source.add_event(&event);
        chunk.push(event);
        if chunk.len() == EVENT_CHUNK {
            dst.import_events(&chunk).map_err(to)?;
            chunk.clear();
        }
        Ok(())
    })
    .map_err(from)?;
    dst.import_events(&chunk).map_err(to)?;
    src.failure_counts(None, &mut |count| {
        source.add_failure_count(&count);
        dst.import_failure_count(&count).map_err(to)
    })
    .map_err(from)?;
    // The log's `policy` events describe these rules: the copy keeps them.
    let policy = src.policy().map_err(from)?;
    let has_policy = policy != Policy::default();
    if has_policy {
        dst.set_policy(&policy).map_err(to)?;
    }
    if let Some(marks) = &marks {
        dst.raise_marks(marks).map_err(to)?;
    }

    let mut read_back = Fingerprint::new();
    dst.list(&everything(), now, &mut |record| {
        read_back.add_token(&record);
        Ok(())
    })
    .map_err(to)?;
    dst.usages(&mut |usage| {
        read_back.add_usage(&usage);
        Ok(())
    })
    .map_err(to)?;
    dst.events(&EventFilter::default(), &mut |event| {
        read_back.add_event(&event);
        Ok(())
    })
    .map_err(to)?;
    dst.failure_counts(None, &mut |count| {
        read_back.add_failure_count(&count);
        Ok(())
    })
    .map_err(to)?;
    let same_policy = dst.policy().map_err(to)? == policy;
    let marks_kept = match (marks, dst.schema().map_err(to)?.1) {
        (None, _) => true,
        (Some(theirs), Some(ours)) => {
            ours.read >= theirs.read && ours.verify >= theirs.verify && ours.write >= theirs.write
        }
        (Some(_), None) => false,
    };
    if source.finish() != read_back.finish() || !same_policy || !marks_kept {
        return Err(Error::Other(anyhow::anyhow!(
            "the copy did not read back identical to the source; nothing was changed"
        )));
    }
    Ok(Copied {
        tokens,
        events,
        policy: has_policy,
    })
}

/// Every token, revoked ones too.
fn everything() -> ListFilter {
    ListFilter {
        all: true,
        ..ListFilter::default()
    }
}

/// A digest of every token (in the order they were added), every bookkeeping row, every event
/// and every failure counter: two vaults with the same fingerprint hold the same things.
struct Fingerprint {
    tokens: Sha256,
    usages: Sha256,
    events: Sha256,
    failures: Sha256,
}

impl Fingerprint {
    fn new() -> Fingerprint {
        Fingerprint {
            tokens: Sha256::new(),
            usages: Sha256::new(),
            events: Sha256::new(),
            failures: Sha256::new(),
        }
    }

    fn add_token(&mut self, record: &TokenRecord) {
        feed_token(&mut self.tokens, record);
    }

    fn add_usage(&mut self, usage: &Usage) {
        let hasher = &mut self.usages;
        feed(hasher, &usage.token_id);
        feed(hasher, &usage.last_used_at.timestamp().to_string());
        feed_option(
            hasher,
            usage
                .first_used_at
                .map(|at| at.timestamp().to_string())
                .as_deref(),
        );
        feed(hasher, &usage.uses_spent.to_string());
        feed(hasher, &usage.uses_epoch.to_string());
    }

    fn add_event(&mut self, event: &Event) {
        feed(&mut self.events, &event.seq.to_string());
        feed(&mut self.events, &event.at.timestamp().to_string());
        feed_option(&mut self.events, event.token_id.as_deref());
        feed(&mut self.events, &event.kind);
        feed(&mut self.events, &event.detail);
    }

    fn add_failure_count(&mut self, count: &FailureCount) {
        let hasher = &mut self.failures;
        feed(hasher, &count.token_id);
        feed(hasher, &count.reason);
        for number in [
            count.failures,
            count.first_at.timestamp(),
            count.last_at.timestamp(),
            count.unlogged,
        ] {
            feed(hasher, &number.to_string());
        }
        feed_option(
            hasher,
            count
                .logged_at
                .map(|at| at.timestamp().to_string())
                .as_deref(),
        );
    }

    fn finish(self) -> [[u8; 32]; 4] {
        [
            self.tokens.finalize().into(),
            self.usages.finalize().into(),
            self.events.finalize().into(),
            self.failures.finalize().into(),
        ]
    }
}

fn feed_token(hasher: &mut Sha256, record: &TokenRecord) {
    let time = |at: Option<chrono::DateTime<chrono::Utc>>| at.map(|at| at.timestamp().to_string());
    feed(hasher, &record.id);
    feed(hasher, &record.name);
    feed_option(hasher, record.app.as_deref());
    feed(hasher, &record.scopes.join(" "));
    feed_option(hasher, record.note.as_deref());
    feed_bytes(hasher, &record.secret_hash);
    feed(hasher, &record.secret_tail);
    match &record.secret_key_hash {
        Some(hash) => feed_bytes(hasher, hash),
        None => hasher.update([0]),
    }
    feed(hasher, &record.created_at.timestamp().to_string());
    for at in [
        record.expires_at,
        record.last_used_at,
        record.revoked_at,
        record.secret_key_used_at,
    ] {
        feed_option(hasher, time(at).as_deref());
    }
    feed_option(hasher, record.revoke_reason.as_deref());
    feed_option(hasher, record.rotated_from.as_deref());
    feed_option(hasher, record.replaced_by.as_deref());
    feed(hasher, &record.lineage);
    let controls = &record.controls;
    feed_option(hasher, time(controls.disabled_at).as_deref());
    feed_option(hasher, controls.disable_reason.as_deref());
    feed_option(
        hasher,
        controls
            .uses_limit
            .map(|limit| limit.to_string())
            .as_deref(),
    );
    feed(hasher, &controls.uses_left().unwrap_or(-1).to_string());
    feed_option(
        hasher,
        controls
            .allow_from
            .as_deref()
            .map(crate::vault::join_nets)
            .as_deref(),
    );
    feed(
        hasher,
        &serde_json::to_string(&controls.meta).unwrap_or_default(),
    );
    feed_option(hasher, controls.disabled_batch.as_deref());
    feed_option(
        hasher,
        controls
            .refresh_window
            .map(|window| window.num_seconds().to_string())
            .as_deref(),
    );
}

/// Each field with its length in front, so no two different records feed the same bytes.
fn feed_bytes(hasher: &mut Sha256, bytes: &[u8]) {
    hasher.update([1]);
    hasher.update((bytes.len() as u64).to_le_bytes());
    hasher.update(bytes);
}

fn feed(hasher: &mut Sha256, text: &str) {
    feed_bytes(hasher, text.as_bytes());
}

fn feed_option(hasher: &mut Sha256, text: Option<&str>) {
    match text {
        Some(text) => feed(hasher, text),
        None => hasher.update([0]),
    }
}
