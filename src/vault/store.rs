//! The one storage interface: every query a command makes, answered by each backend
//! (SQLite in `sqlite/`, PostgreSQL in `postgres/`) with the same meaning.
//!
//! Times are whole Unix seconds on both backends; "oldest first" is the order tokens and events
//! were added. Inside [`super::Vault::write`] the calls are one transaction that holds the
//! vault's write lock, so what a command reads there cannot change before it writes.

use chrono::{DateTime, Utc};

use subtle::ConstantTimeEq;

use super::Marks;
use super::records::{
    Disabling, Edit, Event, EventFilter, FailureCount, ListFilter, LiveToken, LogMark, Lookup,
    NewToken, TokenRecord, Usage, VERIFY_FAILED, VerifyRecord,
};
use crate::error::{Error, Result};
use crate::policy::Policy;
use crate::token;

/// A column [`Store::verifying_where`] may select on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Name,
    App,
    Lineage,
}

impl Column {
    /// The column's name in SQL (a fixed string, never user input).
    pub fn as_sql(self) -> &'static str {
        match self {
            Column::Name => "name",
            Column::App => "app",
            Column::Lineage => "lineage",
        }
    }
}

/// How far [`Store::events_committed_through`] looks ahead in one call.
pub const COMMITTED_RUN: i64 = 10_000;

/// At most one `verify_failed` event this often per token and reason.
pub const FAILURE_EVENT_INTERVAL: chrono::Duration = chrono::Duration::seconds(60);

pub trait Store {
    fn find_by_id(&self, id: &str) -> Result<Option<TokenRecord>>;

    /// The tokens of those `ids` that exist, in no particular order: many lookups in one
    /// (`revoke --leaked` asks about a chunk of a long report at a time).
    fn find_by_ids(&self, ids: &[&str]) -> Result<Vec<TokenRecord>>;

    /// What `verify` needs of the token with `id`: the lean row of the hot path (hash
    /// included: admins and the SQLite vault; a PostgreSQL verifier asks [`Store::lookup_for_verify`]).
    fn find_for_verify(&self, id: &str) -> Result<Option<VerifyRecord>>;

    /// What a verdict needs of the token `id` presented with a secret whose SHA-256 is
    /// `secret`: whether the id is known and, when the secret matches (compared in constant
    /// time), the token. The PostgreSQL vault's `lookup` function answers without ever giving
    /// the hash out, and counts a wrong secret itself.
    fn lookup_for_verify(&self, id: &str, secret: &[u8; 32]) -> Result<Lookup> {
        lookup_here(self, id, secret)
    }

    /// The live token named `name`, else the newest revoked one.
    fn find_by_name(&self, name: &str) -> Result<Option<TokenRecord>>;

    /// The live (not revoked, not rotated away) token named `name`, if any.
    fn live_by_name(&self, name: &str) -> Result<Option<TokenRecord>>;

    /// Tokens whose `column` is `value` and that still verify at `now`, oldest first.
    fn verifying_where(
        &self,
        column: Column,
        value: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<TokenRecord>>;

    /// Calls `visit` with each token `filter` selects, oldest first, without holding them all in
    /// memory. `visit` must not use this store: the rows are still arriving (on PostgreSQL the
    /// connection is busy with them, and a call would panic).
    fn list(
        &self,
        filter: &ListFilter,
        now: DateTime<Utc>,
        visit: &mut dyn FnMut(TokenRecord) -> Result<()>,
    ) -> Result<()>;

    /// Tokens not revoked at `now` whose name or id starts with `prefix`, by name then id.
    fn live_tokens_for_completion(
        &self,
        prefix: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<LiveToken>>;

    fn insert(&self, token: &NewToken) -> Result<()>;

    /// Makes `id` stop verifying at `at` (now, or when a rotation's grace ends).
    fn set_revoked(
        &self,
        id: &str,
        at: DateTime<Utc>,
        reason: &str,
        replaced_by: Option<&str>,
    ) -> Result<()>;

    /// `rotate --until-used`: `id` stops verifying when `successor` is first used (or at its
    /// `revoked_at`, if that comes first).
    fn wait_for_first_use(&self, id: &str, successor: &str) -> Result<()>;

    /// Hands `id`, rotated away and waiting on its successor's first use, back to what it was
    /// before the rotation: live, with its own expiry, waiting on nothing.
    fn cancel_rotation(&self, id: &str) -> Result<()>;

    /// Marks `id`'s secret key as spent by a refresh at `at`.
    fn mark_secret_key_used(&self, id: &str, at: DateTime<Utc>) -> Result<()>;

    fn apply_edit(&self, id: &str, edit: &Edit) -> Result<()>;

    /// Records that `id` verified at `at` (and, the first time, that it was first used then).
    fn touch_last_used(&self, id: &str, at: DateTime<Utc>) -> Result<()>;

    /// [`Store::touch_last_used`] for a token presented with the secret whose SHA-256 is
    /// `secret` (verify): on PostgreSQL a function that acts only for that secret.
    fn record_last_use(&self, id: &str, _secret: &[u8; 32], at: DateTime<Utc>) -> Result<()> {
        self.touch_last_used(id, at)
    }

    /// [`Store::record_last_use`] of each (id, secret's SHA-256, when): on PostgreSQL sent
    /// together, one round trip (`verify --batch`'s bookkeeping).
    fn record_last_uses(&self, uses: &[(&str, &[u8; 32], DateTime<Utc>)]) -> Result<()> {
        for (id, secret, at) in uses {
            self.record_last_use(id, secret, *at)?;
        }
        Ok(())
    }

    /// Marks the first use of `id` (with its last use), waiting for its bookkeeping row
    /// within the deadline: unlike a last use, it must not be skipped.
    fn mark_first_use(&self, id: &str, at: DateTime<Utc>) -> Result<()> {
        self.touch_last_used(id, at)
    }

    /// Records the first use of the `--until-used` successor `id`, presented with the secret
    /// whose SHA-256 is `secret`, and logs once the `revoked` event of the token it ends.
    fn record_first_use(&self, id: &str, secret: &[u8; 32], at: DateTime<Utc>) -> Result<()> {
        record_first_use_here(self, id, secret, at)
    }

    /// Suspends `id` (`Some((when, reason))`) or lifts its suspension (`None`).
    fn set_disabled(&self, id: &str, disabled: Option<Disabling<'_>>) -> Result<()>;

    /// Spends one use of `id` (presented with the secret whose SHA-256 is `secret`) at `at`,
    /// when fewer than `limit` were spent under `epoch` (the token's current one): one
    /// conditional statement on the verifiers' `token_usage` row, which also records the last
    /// use. Returns the uses spent after it, or `None` when none was left (nothing written).
    fn spend_use(
        &self,
        id: &str,
        secret: &[u8; 32],
        epoch: i64,
        limit: i64,
        at: DateTime<Utc>,
    ) -> Result<Option<i64>>;

    /// Appends to the event log. `detail` must never contain a secret.
    fn log_event(
        &self,
        at: DateTime<Utc>,
        token_id: Option<&str>,
        kind: &str,
        detail: &str,
    ) -> Result<()>;

    /// Where the event log stands now (see [`LogMark`]).
    fn log_mark(&self) -> Result<LogMark>;

    /// The highest number `n` such that every event numbered after `after` up to `n` is
    /// committed (`after` itself when the next number is missing): no event can still come
    /// in below `n`, however long a transaction that is writing to the log takes. Looks at most
    /// [`COMMITTED_RUN`] numbers ahead.
    fn events_committed_through(&self, after: i64) -> Result<i64>;

    /// The vault's rules (SPEC §9); none when no `policy set` was ever made.
    fn policy(&self) -> Result<Policy>;

    /// Replaces the vault's rules.
    fn set_policy(&self, policy: &Policy) -> Result<()>;

    /// Calls `visit` with each event `filter` selects, oldest first, without holding them all
    /// in memory. Like [`Store::list`]'s, `visit` must not use this store.
    fn events(
        &self,
        filter: &EventFilter,
        visit: &mut dyn FnMut(Event) -> Result<()>,
    ) -> Result<()>;

    /// Adds `failures` failed verifications (between `first_at` and `last_at`) of the known
    /// token `id` for `reason` to its counters; returns the counters as they now stand.
    fn add_failures(
        &self,
        id: &str,
        reason: &str,
        failures: i64,
        first_at: DateTime<Utc>,
        last_at: DateTime<Utc>,
    ) -> Result<FailureCount>;

    /// Notes that the failures of `id` for `reason` counted so far were logged at `at`.
    fn mark_failures_logged(&self, id: &str, reason: &str, at: DateTime<Utc>) -> Result<()>;

    /// Calls `visit` with the failure counters of `token_id` (every token's when `None`).
    fn failure_counts(
        &self,
        token_id: Option<&str>,
        visit: &mut dyn FnMut(FailureCount) -> Result<()>,
    ) -> Result<()>;

    /// Adds failure counters exactly as another vault holds them (`tokens migrate`).
    fn import_failure_count(&self, count: &FailureCount) -> Result<()>;

    /// Adds a token exactly as another vault holds it, history included (`tokens migrate`);
    /// its bookkeeping is copied apart ([`Store::import_usage`]).
    fn import_token(&self, record: &TokenRecord) -> Result<()>;

    /// Calls `visit` with every bookkeeping row (`token_usage`), by token id.
    fn usages(&self, visit: &mut dyn FnMut(Usage) -> Result<()>) -> Result<()>;

    /// Adds a bookkeeping row exactly as another vault holds it (`tokens migrate`).
    fn import_usage(&self, usage: &Usage) -> Result<()>;

    /// The vault's schema version and its marks (SPEC §10; `None` before marks existed).
    fn schema(&self) -> Result<(i64, Option<Marks>)>;

    /// Raises each of the vault's marks to at least `marks`' (never lowers one).
    fn raise_marks(&self, marks: &Marks) -> Result<()>;

    /// Adds events exactly as another vault holds them, numbers included (`tokens migrate`);
    /// events added later are numbered after them.
    fn import_events(&self, events: &[Event]) -> Result<()>;

    /// True when the vault holds no token and no event.
    fn is_empty(&self) -> Result<bool>;

    /// Raises the vault's verify mark (SPEC §10) to `version` (never lowers it): a write calls
    /// it, inside its transaction, when it stores something a verifier older than `version`
    /// would ignore (a disabled token, a use limit, an address binding, an `--until-used`
    /// rotation), so such a verifier refuses instead of answering `ok`.
    fn raise_verify_mark(&self, version: i64) -> Result<()>;

    /// Counts failed verifications of the known token `id` (SPEC §8): counters, not a row each,
    /// and a `verify_failed` event at most once a minute per token and reason, carrying how
    /// many failures it stands for.
    /// `secret`: the SHA-256 of the secret presented (on PostgreSQL a function counts only
    /// for the holder of the token's secret).
    fn record_failures(
        &self,
        id: &str,
        _secret: &[u8; 32],
        reason: &str,
        failures: i64,
        first_at: DateTime<Utc>,
        last_at: DateTime<Utc>,
    ) -> Result<()> {
        count_failures_here(self, id, reason, failures, first_at, last_at)
    }

    /// The token an ID or NAME given to a command means: the token with that id; else the live
    /// token with that name; else the newest revoked one with that name. A text that is one
    /// token's id and another's live name (a name from before names shaped like ids were
    /// refused, or from another program) is refused as ambiguous (exit 2), saying how to name
    /// each: the first by its name, the second by its id.
    fn find(&self, id_or_name: &str) -> Result<Option<TokenRecord>> {
        if token::looks_like_id(id_or_name)
            && let Some(record) = self.find_by_id(id_or_name)?
        {
            if let Some(named) = self.live_by_name(id_or_name)?
                && named.id != record.id
            {
                return Err(Error::Usage(format!(
                    "\"{id_or_name}\" is the id of token \"{}\" and the name of token {}; \
                     give \"{}\" for the first or {} for the second (or rename the second: tokens edit {} --rename NEW)",
                    record.name, named.id, record.name, named.id, named.id
                )));
            }
            return Ok(Some(record));
        }
        self.find_by_name(id_or_name)
    }

    /// Tokens named `name` that still verify at `now`: the live one and any rotated away whose grace runs.
    fn verifying_by_name(&self, name: &str, now: DateTime<Utc>) -> Result<Vec<TokenRecord>> {
        self.verifying_where(Column::Name, name, now)
    }

    /// Tokens of `app` that still verify at `now`.
    fn live_of_app(&self, app: &str, now: DateTime<Utc>) -> Result<Vec<TokenRecord>> {
        self.verifying_where(Column::App, app, now)
    }

    /// Every token in `lineage` that still verifies at `now`.
    fn live_of_lineage(&self, lineage: &str, now: DateTime<Utc>) -> Result<Vec<TokenRecord>> {
        self.verifying_where(Column::Lineage, lineage, now)
    }

    /// Every app and every scope in use by a token that is not revoked, sorted.
    fn apps_and_scopes_in_use(&self, now: DateTime<Utc>) -> Result<(Vec<String>, Vec<String>)> {
        let mut apps = std::collections::BTreeSet::new();
        let mut scopes = std::collections::BTreeSet::new();
        self.list(&ListFilter::default(), now, &mut |record| {
            apps.extend(record.app);
            scopes.extend(record.scopes);
            Ok(())
        })?;
        Ok((apps.into_iter().collect(), scopes.into_iter().collect()))
    }
}

/// [`Store::record_failures`] by the store's own statements: the counters, and a
/// `verify_failed` event at most once a minute per token and reason, carrying how many failures
/// it stands for (SQLite; a PostgreSQL vault from before its functions).
pub(super) fn count_failures_here(
    store: &(impl Store + ?Sized),
    id: &str,
    reason: &str,
    failures: i64,
    first_at: DateTime<Utc>,
    last_at: DateTime<Utc>,
) -> Result<()> {
    let count = store.add_failures(id, reason, failures, first_at, last_at)?;
    let due = count
        .logged_at
        .is_none_or(|logged| last_at - logged >= FAILURE_EVENT_INTERVAL);
    if due {
        let detail = match count.unlogged {
            1 => reason.to_owned(),
            n => format!("{reason} ({n} failures since the last one logged)"),
        };
        store.log_event(last_at, Some(id), VERIFY_FAILED, &detail)?;
        store.mark_failures_logged(id, reason, last_at)?;
    }
    Ok(())
}

/// [`Store::record_first_use`] by the store's own statements (SQLite; a PostgreSQL vault from
/// before its functions).
pub(super) fn record_first_use_here(
    store: &(impl Store + ?Sized),
    id: &str,
    secret: &[u8; 32],
    at: DateTime<Utc>,
) -> Result<()> {
    // Another verifier may have recorded it meanwhile: the event is logged once.
    let ends = store
        .lookup_for_verify(id, secret)?
        .record
        .and_then(|record| record.ends_on_first_use);
    store.mark_first_use(id, at)?;
    if let Some(old) = ends {
        store.log_event(
            at,
            Some(&old),
            "revoked",
            &format!("rotated: its successor {id} was first used"),
        )?;
    }
    Ok(())
}

/// [`Store::lookup_for_verify`] from the hash the store reads (SQLite; a PostgreSQL vault from
/// before its functions), compared in constant time.
pub(super) fn lookup_here(
    store: &(impl Store + ?Sized),
    id: &str,
    secret: &[u8; 32],
) -> Result<Lookup> {
    let found = store.find_for_verify(id)?;
    let known = found.is_some();
    let record = found.filter(|record| bool::from(record.secret_hash.ct_eq(secret)));
    Ok(Lookup {
        known,
        record,
        failure_counted: false,
        now: None,
    })
}
