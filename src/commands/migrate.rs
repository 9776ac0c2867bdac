//! `tokens migrate --from VAULT --to VAULT`: copies a vault, typically a SQLite file into a
//! shared PostgreSQL vault, and checks the copy before committing it.
//!
//! Everything happens inside two transactions: the source is read from one unchanging view (on
//! PostgreSQL one `REPEATABLE READ, READ ONLY` snapshot; on SQLite its write lock or its
//! read-only snapshot), and the destination's holds the copy until both sides
//! have been read back and found equal; any error or difference rolls the copy back, leaving
//! the destination as it was.

use sha2::{Digest, Sha256};

use super::Context;
use crate::cli::MigrateArgs;
use crate::error::{Error, Result};
use crate::output;
use crate::vault::{
    self, Access, Event, EventFilter, FailureCount, ListFilter, Location, Store, TokenRecord, Vault,
};

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
        context.notice(&format!(
            "Copied {} and {} from {from} to {to}; the copy reads back identical.",
            counted(copied.tokens, "token"),
            counted(copied.events, "event")
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
}

/// The two vaults, to name the one an error comes from.
struct Ends<'a> {
    from: &'a Location,
    to: &'a Location,
}

/// Copies every token and event of `src` into `dst`, then reads `dst` back and compares it
/// with what was copied.
fn copy(
    src: &dyn Store,
    dst: &dyn Store,
    ends: &Ends<'_>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Copied> {
    let from = |e| vault::explain(e, ends.from);
    let to = |e| vault::explain(e, ends.to);
    let mut source = Fingerprint::new();
    let mut tokens = 0;
    src.list(&everything(), now, &mut |record| {
        tokens += 1;
        source.add_token(&record);
        dst.import_token(&record).map_err(to)
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

    let mut read_back = Fingerprint::new();
    dst.list(&everything(), now, &mut |record| {
        read_back.add_token(&record);
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
    if source.finish() != read_back.finish() {
        return Err(Error::Other(anyhow::anyhow!(
            "the copy did not read back identical to the source; nothing was changed"
        )));
    }
    Ok(Copied { tokens, events })
}

/// Every token, revoked ones too.
fn everything() -> ListFilter {
    ListFilter {
        all: true,
        ..ListFilter::default()
    }
}

/// A digest of every token (in the order they were added), every event and every failure
/// counter: two vaults with the same fingerprint hold the same things.
struct Fingerprint {
    tokens: Sha256,
    events: Sha256,
    failures: Sha256,
}

impl Fingerprint {
    fn new() -> Fingerprint {
        Fingerprint {
            tokens: Sha256::new(),
            events: Sha256::new(),
            failures: Sha256::new(),
        }
    }

    fn add_token(&mut self, record: &TokenRecord) {
        feed_token(&mut self.tokens, record);
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

    fn finish(self) -> [[u8; 32]; 3] {
        [
            self.tokens.finalize().into(),
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
