//! What the vault holds, in the shapes every backend reads and writes.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use ipnet::IpNet;

use crate::token;

/// Where a token stands at a given moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Active,
    /// Rotated away and still verifying: in a grace, or until its successor is first used.
    Rotating,
    /// Suspended by `tokens disable` until `tokens enable` (SPEC §9).
    Disabled,
    /// Its use limit is spent (SPEC §9).
    UsedUp,
    Expired,
    Revoked,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Rotating => "rotating",
            Status::Disabled => "disabled",
            Status::UsedUp => "used_up",
            Status::Expired => "expired",
            Status::Revoked => "revoked",
        }
    }
}

/// One token as the vault keeps it. Holds hashes, never secrets; not serialisable on purpose,
/// and its `Debug` leaves the hashes out.
#[derive(Clone)]
pub struct TokenRecord {
    pub id: String,
    pub name: String,
    pub app: Option<String>,
    pub scopes: Vec<String>,
    pub note: Option<String>,
    pub secret_hash: Vec<u8>,
    pub secret_tail: String,
    pub secret_key_hash: Option<Vec<u8>>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it stops (or stopped) verifying; in the future while a rotation's grace runs.
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoke_reason: Option<String>,
    pub secret_key_used_at: Option<DateTime<Utc>>,
    pub rotated_from: Option<String>,
    pub replaced_by: Option<String>,
    pub lineage: String,
    /// `rotate --until-used`: the successor whose first use ends this token (`revoked_at` is
    /// then that moment once it has come).
    pub waits_for: Option<String>,
    /// `rotate --until-used`: the token this one's first use ends.
    pub first_use_ends: Option<String>,
    pub controls: Controls,
}

/// Verify-time controls (SPEC §9): a suspension, a use limit, an address binding and metadata.
/// The default is a token with none of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Controls {
    /// Set by `tokens disable`, cleared by `tokens enable`.
    pub disabled_at: Option<DateTime<Utc>>,
    pub disable_reason: Option<String>,
    /// Which `disable` command disabled it (one id per command): `enable NAME` re-enables older
    /// tokens of the lineage only when the command that disabled the newest disabled them too.
    pub disabled_batch: Option<String>,
    /// How long after its expiry the secret key still refreshes the token; `None`: no limit.
    pub refresh_window: Option<chrono::Duration>,
    /// Uses allowed since the limit was last set (`create`/`edit --uses`); `None`: unlimited.
    pub uses_limit: Option<i64>,
    /// Raised by every `edit --uses`: uses spent under an older epoch no longer count.
    pub uses_epoch: i64,
    /// Uses spent under the current epoch (kept in `token_usage`, the verifiers' table).
    pub uses_spent: i64,
    /// The networks the token may be presented from; `None`: any address.
    pub allow_from: Option<Vec<IpNet>>,
    /// Key-value metadata returned with the token (`--meta KEY=VALUE`).
    pub meta: BTreeMap<String, String>,
}

impl Controls {
    /// Uses left, `None` when unlimited.
    pub fn uses_left(&self) -> Option<i64> {
        self.uses_limit
            .map(|limit| limit.saturating_sub(self.uses_spent).max(0))
    }

    /// True when the token may be presented from `address` (an IPv4 address mapped into IPv6,
    /// `::ffff:192.0.2.1`, is taken as the IPv4 address it carries).
    pub fn allows(&self, address: IpAddr) -> bool {
        let address = match address {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
            v4 => v4,
        };
        self.allow_from
            .as_ref()
            .is_none_or(|nets| nets.iter().any(|net| net.contains(&address)))
    }

    /// The `allow_from` column's text: the networks, comma separated.
    pub(super) fn allow_from_column(&self) -> Option<String> {
        self.allow_from.as_ref().map(|nets| join_nets(nets))
    }

    /// The `meta` column's text: a JSON object, or NULL when there is none.
    pub(super) fn meta_column(&self) -> Option<String> {
        meta_column(&self.meta)
    }
}

/// `10.0.0.0/8,2001:db8::/32`: networks as the `allow_from` column and messages write them.
pub fn join_nets(nets: &[IpNet]) -> String {
    nets.iter()
        .map(IpNet::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// The networks in an `allow_from` column. An entry that does not parse (written by something
/// else) is left out, and the token stays bound: it fails closed.
pub(super) fn split_nets(column: Option<String>) -> Option<Vec<IpNet>> {
    column.map(|text| {
        text.split(',')
            .filter_map(|net| net.trim().parse().ok())
            .collect()
    })
}

/// The `meta` column's text for `meta`: NULL when empty.
pub(super) fn meta_column(meta: &BTreeMap<String, String>) -> Option<String> {
    (!meta.is_empty()).then(|| serde_json::to_string(meta).unwrap_or_default())
}

/// The metadata in a `meta` column (a JSON object of strings).
pub(super) fn split_meta(column: Option<String>) -> BTreeMap<String, String> {
    column
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default()
}

impl fmt::Debug for TokenRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenRecord")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("app", &self.app)
            .field("scopes", &self.scopes)
            .field("expires_at", &self.expires_at)
            .field("revoked_at", &self.revoked_at)
            .field("lineage", &self.lineage)
            .field("waits_for", &self.waits_for)
            .finish_non_exhaustive()
    }
}

/// `revoked_at` when no successor's first use ends the token.
pub const UNTIL_USED_ONLY: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z

impl TokenRecord {
    pub fn status(&self, now: DateTime<Utc>) -> Status {
        if self.is_revoked(now) {
            Status::Revoked
        } else if self.expires_at.is_some_and(|at| at <= now) {
            Status::Expired
        } else if self.controls.disabled_at.is_some() {
            Status::Disabled
        } else if self.controls.uses_left() == Some(0) {
            Status::UsedUp
        } else if self.revoked_at.is_some() {
            Status::Rotating
        } else {
            Status::Active
        }
    }

    /// When it stops verifying, if it does: the end of a rotation's grace (a time set for it;
    /// `None` while only `waits_for`'s first use will end it), or its expiry, whichever is first.
    pub fn stops_at(&self) -> Option<DateTime<Utc>> {
        let grace_end = self
            .revoked_at
            .filter(|at| at.timestamp() < UNTIL_USED_ONLY || self.waits_for.is_none());
        match (grace_end, self.expires_at) {
            (Some(revoked), Some(expires)) => Some(revoked.min(expires)),
            (revoked, expires) => revoked.or(expires),
        }
    }

    pub fn is_revoked(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_some_and(|at| at <= now)
    }

    /// Until when its secret key refreshes it: its expiry plus its refresh window. `None` when
    /// there is no limit (no window, or a token that never expires) or no secret key left to
    /// use (none issued, used already, or the token revoked or rotated away).
    pub fn refresh_until(&self) -> Option<DateTime<Utc>> {
        if !self.has_usable_secret_key() {
            return None;
        }
        Some(self.expires_at? + self.controls.refresh_window?)
    }

    /// True when a secret key was issued, is unused, and the token is neither revoked nor
    /// rotated away: `refresh` may still take it.
    pub fn has_usable_secret_key(&self) -> bool {
        self.secret_key_hash.is_some()
            && self.secret_key_used_at.is_none()
            && self.revoked_at.is_none()
    }

    /// How long the token was made to live (what rotate and refresh give the next one); `None`: for ever.
    pub fn lifetime(&self) -> Option<chrono::Duration> {
        self.expires_at.map(|at| at - self.created_at)
    }

    pub fn masked(&self) -> String {
        token::mask(&self.id, &self.secret_tail)
    }
}

/// The part of a token `verify` reads: a lean row for the hot path ([`Store::find_for_verify`]).
/// Its `Debug` leaves the hash out.
#[derive(Clone)]
pub struct VerifyRecord {
    pub id: String,
    pub name: String,
    pub app: Option<String>,
    pub scopes: Vec<String>,
    pub secret_hash: Vec<u8>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it stops (or stopped) verifying; in the future while a rotation's grace runs.
    pub revoked_at: Option<DateTime<Utc>>,
    /// An `--until-used` successor not used yet: the token its first `ok` ends. That use must
    /// be recorded before it is answered.
    pub ends_on_first_use: Option<String>,
    /// Its controls; `uses_spent` is read only for a token with a use limit.
    pub controls: Controls,
}

/// What the vault answers about a presented token ([`crate::vault::Store::lookup_for_verify`]).
#[derive(Debug)]
pub struct Lookup {
    /// True when a token with the presented id exists (whether or not the secret matched).
    pub known: bool,
    /// The token, once the presented secret matched.
    pub record: Option<VerifyRecord>,
    /// True when the vault itself counted a known id's wrong secret (PostgreSQL's `lookup`
    /// function): the verifier does not count it again.
    pub failure_counted: bool,
    /// The server's clock, when the vault answers with it (PostgreSQL): verdicts are judged by
    /// it, so every verifier of a shared vault answers by the same time.
    pub now: Option<DateTime<Utc>>,
}

impl fmt::Debug for VerifyRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyRecord")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("app", &self.app)
            .field("scopes", &self.scopes)
            .field("expires_at", &self.expires_at)
            .field("revoked_at", &self.revoked_at)
            .finish_non_exhaustive()
    }
}

/// A token about to be inserted. Its `Debug` leaves the hashes out.
#[derive(Clone)]
pub struct NewToken {
    pub id: String,
    pub name: String,
    pub app: Option<String>,
    pub scopes: Vec<String>,
    pub note: Option<String>,
    pub secret_hash: [u8; 32],
    pub secret_tail: String,
    pub secret_key_hash: Option<[u8; 32]>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub rotated_from: Option<String>,
    pub lineage: String,
    /// `rotate --until-used`: the token this one's first use ends.
    pub first_use_ends: Option<String>,
    /// Its controls (`uses_epoch` and `uses_spent` are not written: a new token starts afresh).
    pub controls: Controls,
}

impl fmt::Debug for NewToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewToken")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("app", &self.app)
            .field("scopes", &self.scopes)
            .field("expires_at", &self.expires_at)
            .field("lineage", &self.lineage)
            .finish_non_exhaustive()
    }
}

/// Which tokens `list` shows.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Include revoked tokens (otherwise left out unless `status` asks for them).
    pub all: bool,
    pub app: Option<String>,
    pub scope: Option<String>,
    pub status: Option<Status>,
    /// Only active tokens that expire before this time.
    pub expiring_before: Option<DateTime<Utc>>,
    /// Only tokens that still verify and were never used, or last used before this time.
    pub unused_since: Option<DateTime<Utc>>,
}

/// When a token stops verifying, in SQL: `revoked_at`, or for an old token of a
/// `rotate --until-used` the moment its successor was first used, if that came first. The
/// subquery runs only for such tokens: a plain token's row is read as before.
macro_rules! revoked_at {
    () => {
        "(CASE WHEN tokens.waits_for IS NULL THEN tokens.revoked_at \
     ELSE coalesce((SELECT CASE WHEN u.first_used_at < tokens.revoked_at THEN u.first_used_at \
     ELSE tokens.revoked_at END FROM token_usage u \
     WHERE u.token_id = tokens.waits_for AND u.first_used_at IS NOT NULL), tokens.revoked_at) END)"
    };
}
pub(crate) use revoked_at;
pub(super) const REVOKED_AT: &str = revoked_at!();

/// For an `--until-used` successor whose first use is not recorded yet, the token that use
/// ends, in SQL (for `verify`'s lookup; the subquery runs only for such a successor). Not once
/// the old token waits for another (the successor was refreshed or rotated before its first
/// use, and the wait handed on to the token that replaced it).
macro_rules! ends_on_first_use {
    () => {
        "(CASE WHEN tokens.first_use_ends IS NULL THEN NULL WHEN EXISTS (SELECT 1 \
         FROM token_usage u WHERE u.token_id = tokens.id AND u.first_used_at IS NOT NULL) \
         THEN NULL WHEN NOT EXISTS (SELECT 1 FROM tokens o WHERE o.id = tokens.first_use_ends \
         AND o.waits_for = tokens.id) THEN NULL ELSE tokens.first_use_ends END)"
    };
}

/// The columns of a token row, in the order both backends read them into a [`TokenRecord`]
/// (`SELECT {COLUMNS} FROM tokens ...`). Last use lives in `token_usage`, the verifiers' table.
pub(super) const COLUMNS: &str = concat!(
    "id, name, app, scopes, note, secret_hash, secret_tail, secret_key_hash, created_at, \
     expires_at, (SELECT u.last_used_at FROM token_usage u WHERE u.token_id = tokens.id), ",
    revoked_at!(),
    ", revoke_reason, secret_key_used_at, rotated_from, replaced_by, lineage, \
     disabled_at, disable_reason, uses_limit, uses_epoch, \
     coalesce((SELECT CASE WHEN u.uses_epoch = tokens.uses_epoch THEN u.uses_spent ELSE 0 END \
     FROM token_usage u WHERE u.token_id = tokens.id), 0), allow_from, meta, waits_for, \
     first_use_ends, refresh_window, disabled_batch"
);

/// The columns `tokens migrate` writes a copied token into: [`COLUMNS`] less the last use and
/// the uses spent (bookkeeping, copied row by row: see [`super::Store::import_usage`]).
pub(super) const IMPORTED_COLUMNS: &str = "id, name, app, scopes, note, secret_hash, secret_tail, secret_key_hash, \
     created_at, expires_at, revoked_at, revoke_reason, secret_key_used_at, rotated_from, \
     replaced_by, lineage, disabled_at, disable_reason, uses_limit, uses_epoch, allow_from, meta, \
     waits_for, first_use_ends, refresh_window, disabled_batch";

/// Refuses to copy a token whose hashes were not read (a source opened by a role granted
/// reader access, which may not read them): the copy could never verify.
pub(super) fn check_hashes(record: &TokenRecord) -> crate::error::Result<()> {
    if record.secret_hash.is_empty() || record.secret_key_hash.as_ref().is_some_and(Vec::is_empty) {
        return Err(crate::error::Error::RoleRefused(format!(
            "token {} came without its hashes: the source's role may not read them (reader \
             access, tokens grants); copy the vault as its owner or an admin role",
            record.id
        )));
    }
    Ok(())
}

/// What `verify` reads of a token: the lean row of the hot path. The uses spent are looked up
/// only for a token with a use limit, so a plain token costs what it did before the limits.
/// For an `--until-used` token, `revoked_at` is the moment its successor was first used and
/// the last column names the token a successor's first use ends (both subqueries run only for
/// such tokens).
pub(super) const VERIFY_COLUMNS: &str = concat!(
    "id, name, app, scopes, secret_hash, expires_at, \
     (SELECT u.last_used_at FROM token_usage u WHERE u.token_id = tokens.id), ",
    revoked_at!(),
    ", disabled_at, disable_reason, uses_limit, uses_epoch, \
     CASE WHEN uses_limit IS NULL THEN 0 ELSE coalesce((SELECT CASE WHEN u.uses_epoch = \
     tokens.uses_epoch THEN u.uses_spent ELSE 0 END FROM token_usage u \
     WHERE u.token_id = tokens.id), 0) END, allow_from, meta, ",
    ends_on_first_use!()
);

/// True for a token whose uses are spent (in `list` conditions).
const USED_UP: &str = "(uses_limit IS NOT NULL AND coalesce((SELECT CASE WHEN u.uses_epoch = \
     tokens.uses_epoch THEN u.uses_spent ELSE 0 END FROM token_usage u \
     WHERE u.token_id = tokens.id), 0) >= uses_limit)";

/// The `scopes` column's text for a list of scopes: space separated (scopes have no spaces).
pub(super) fn join_scopes(scopes: &[String]) -> String {
    scopes.join(" ")
}

/// The scopes in a `scopes` column's text.
pub(super) fn split_scopes(column: &str) -> Vec<String> {
    column.split_whitespace().map(str::to_owned).collect()
}

/// How a backend writes the parts of `list` and `log` queries that differ between SQL dialects.
pub(super) struct Dialect {
    /// The `n`th (1-based) parameter: `?1` or `$1`.
    pub placeholder: fn(usize) -> String,
    /// True when the space-separated `scopes` column holds the scope in `parameter`.
    pub has_scope: fn(&str) -> String,
}

/// A value a `list` or `log` condition compares with.
pub(super) enum FilterValue {
    Integer(i64),
    Text(String),
}

impl ListFilter {
    /// The conditions (to be joined by AND) that select this filter's tokens at `now`, and their
    /// parameters in order; the first parameter is always `now`, in Unix seconds.
    pub(super) fn conditions(
        &self,
        now: DateTime<Utc>,
        dialect: &Dialect,
    ) -> (Vec<String>, Vec<FilterValue>) {
        let now_is = (dialect.placeholder)(1);
        let revoked = format!("({REVOKED_AT} IS NOT NULL AND {REVOKED_AT} <= {now_is})");
        let not_revoked = format!("({REVOKED_AT} IS NULL OR {REVOKED_AT} > {now_is})");
        let expired = format!("(expires_at IS NOT NULL AND expires_at <= {now_is})");
        let not_expired = format!("(expires_at IS NULL OR expires_at > {now_is})");
        let mut conditions: Vec<String> = Vec::new();
        let mut values = vec![FilterValue::Integer(now.timestamp())];
        match self.status {
            Some(Status::Active) => conditions.extend([
                "revoked_at IS NULL".to_owned(),
                not_expired.clone(),
                "disabled_at IS NULL".into(),
                format!("NOT {USED_UP}"),
            ]),
            Some(Status::Rotating) => conditions.extend([
                "revoked_at IS NOT NULL".to_owned(),
                not_revoked.clone(),
                not_expired.clone(),
                "disabled_at IS NULL".into(),
                format!("NOT {USED_UP}"),
            ]),
            Some(Status::Disabled) => conditions.extend([
                not_revoked.clone(),
                not_expired.clone(),
                "disabled_at IS NOT NULL".into(),
            ]),
            Some(Status::UsedUp) => conditions.extend([
                not_revoked.clone(),
                not_expired.clone(),
                "disabled_at IS NULL".into(),
                USED_UP.into(),
            ]),
            Some(Status::Expired) => conditions.extend([not_revoked.clone(), expired]),
            Some(Status::Revoked) => conditions.push(revoked),
            None if !self.all => conditions.push(not_revoked.clone()),
            None => {}
        }
        if let Some(app) = &self.app {
            values.push(FilterValue::Text(app.clone()));
            conditions.push(format!("app = {}", (dialect.placeholder)(values.len())));
        }
        if let Some(scope) = &self.scope {
            values.push(FilterValue::Text(scope.clone()));
            conditions.push((dialect.has_scope)(&(dialect.placeholder)(values.len())));
        }
        if let Some(since) = self.unused_since {
            values.push(FilterValue::Integer(since.timestamp()));
            conditions.extend([not_revoked.clone(), not_expired.clone()]);
            // Never used matches whatever `since` is (before 1970 too: `--unused 60y`).
            conditions.push(format!(
                "NOT EXISTS (SELECT 1 FROM token_usage u WHERE u.token_id = tokens.id \
                 AND u.last_used_at >= {})",
                (dialect.placeholder)(values.len())
            ));
        }
        if let Some(before) = self.expiring_before {
            values.push(FilterValue::Integer(before.timestamp()));
            conditions.extend([not_revoked, not_expired]);
            conditions.push(format!(
                "expires_at <= {}",
                (dialect.placeholder)(values.len())
            ));
        }
        (conditions, values)
    }
}

/// Metadata changes for `edit`; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct Edit {
    pub name: Option<String>,
    pub app: Option<Option<String>>,
    pub scopes: Option<Vec<String>>,
    pub expires_at: Option<Option<DateTime<Utc>>>,
    pub note: Option<Option<String>>,
    /// A new use limit (`None` inside: unlimited), counted from now: the epoch is raised.
    pub uses_limit: Option<Option<i64>>,
    /// New networks (`None` inside: any address).
    pub allow_from: Option<Option<Vec<IpNet>>>,
    /// The whole metadata after the edit.
    pub meta: Option<BTreeMap<String, String>>,
    /// A new refresh window (`None` inside: no limit).
    pub refresh_window: Option<Option<chrono::Duration>>,
}

/// A suspension as one `tokens disable` command makes it.
#[derive(Debug, Clone, Copy)]
pub struct Disabling<'a> {
    pub at: DateTime<Utc>,
    pub reason: Option<&'a str>,
    /// The same for every token that command disabled.
    pub batch: &'a str,
}

/// One line of the event log.
#[derive(Debug, Clone)]
pub struct Event {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub token_id: Option<String>,
    /// The token's current name, when the event names a known token.
    pub name: Option<String>,
    pub kind: String,
    pub detail: String,
}

/// The event a failed verification of a known token is logged as (at most once a minute per
/// token and reason, carrying the count since the previous one: SPEC §8).
pub const VERIFY_FAILED: &str = "verify_failed";

/// Which events `log` shows.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// Only events of the tokens in this lineage.
    pub lineage: Option<String>,
    pub since: Option<DateTime<Utc>>,
    /// Only the newest `n`, still in time order.
    pub last: Option<u64>,
    /// Leave out failed verifications: what `show` lists, so failures never hide a token's
    /// lifecycle (created, rotated, revoked, edited ...).
    pub lifecycle_only: bool,
    /// Only events numbered after this one (`log --after`).
    pub after: Option<i64>,
    /// Only events numbered up to this one (`log --follow` reads up to what has settled).
    pub upto: Option<i64>,
    /// Only events of this kind (`log --event`).
    pub kind: Option<String>,
    /// Only the first `n` (`log --after SEQ --limit N`).
    pub first: Option<u64>,
}

impl EventFilter {
    /// The query of the events this filter selects, oldest first, and its parameters in order.
    pub(super) fn query(&self, dialect: &Dialect) -> (String, Vec<FilterValue>) {
        let mut sql = String::from(
            "SELECT e.seq, e.at, e.token_id, t.name, e.kind, e.detail \
             FROM events e LEFT JOIN tokens t ON t.id = e.token_id WHERE 1 = 1",
        );
        let mut values = Vec::new();
        if let Some(lineage) = &self.lineage {
            values.push(FilterValue::Text(lineage.clone()));
            sql.push_str(&format!(
                " AND t.lineage = {}",
                (dialect.placeholder)(values.len())
            ));
        }
        if let Some(since) = self.since {
            values.push(FilterValue::Integer(since.timestamp()));
            sql.push_str(&format!(
                " AND e.at >= {}",
                (dialect.placeholder)(values.len())
            ));
        }
        if self.lifecycle_only {
            sql.push_str(&format!(" AND e.kind <> '{VERIFY_FAILED}'"));
        }
        for (bound, operator) in [(self.after, ">"), (self.upto, "<=")] {
            if let Some(seq) = bound {
                values.push(FilterValue::Integer(seq));
                sql.push_str(&format!(
                    " AND e.seq {operator} {}",
                    (dialect.placeholder)(values.len())
                ));
            }
        }
        if let Some(kind) = &self.kind {
            values.push(FilterValue::Text(kind.clone()));
            sql.push_str(&format!(
                " AND e.kind = {}",
                (dialect.placeholder)(values.len())
            ));
        }
        if let Some(first) = self.first {
            sql.push_str(&format!(" ORDER BY e.seq LIMIT {first}"));
            return (sql, values);
        }
        match self.last {
            // The newest n, turned back into time order: memory bounded by n, not the log.
            Some(last) => {
                sql = format!(
                    "SELECT * FROM ({sql} ORDER BY e.seq DESC LIMIT {last}) newest ORDER BY seq"
                );
            }
            None => sql.push_str(" ORDER BY e.seq"),
        }
        (sql, values)
    }
}

/// The columns of a `verify_failures` row, in the order both backends read them into a
/// [`FailureCount`].
pub(super) const FAILURE_COLUMNS: &str =
    "token_id, reason, failures, first_at, last_at, unlogged, logged_at";

/// Where the event log stands for a reader that must not skip an event committed late
/// (`log --follow`): every event numbered up to `seq` is committed, or never will be, once
/// none of `writers` (the transactions that could still be adding events when the mark was
/// taken) is running any more; a later mark's `writers` are those still running. SQLite
/// numbers events under its one write lock, in commit order: its marks have no writers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogMark {
    pub seq: i64,
    pub writers: Vec<LogWriter>,
}

impl LogMark {
    /// True when every event numbered up to this mark's has settled, `now` being a later mark.
    pub fn settled_by(&self, now: &LogMark) -> bool {
        self.writers.iter().all(|writer| !now.runs(writer))
    }

    /// True when `writer`'s transaction is one of this mark's writers.
    pub fn runs(&self, writer: &LogWriter) -> bool {
        self.writers
            .iter()
            .any(|running| running.transaction == writer.transaction)
    }
}

/// A transaction that could still be adding events (PostgreSQL), as the server shows it to
/// the reader: enough for an admin to find the session that holds the log back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogWriter {
    /// The server's id of the transaction (a virtual transaction id): the next transaction of
    /// the same session has another.
    pub transaction: String,
    /// The server process running it (`None`: a prepared transaction, which has none).
    pub pid: Option<i32>,
    /// The role of the session running it.
    pub role: Option<String>,
    /// When the transaction began; only shown to roles allowed to see that session's activity.
    pub since: Option<DateTime<Utc>>,
}

/// Failed verifications of one known token for one reason, counted (SPEC §8): a stranger who
/// sends the same wrong secret a million times grows a counter, not the vault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureCount {
    pub token_id: String,
    /// The verdict: `invalid` (wrong secret), `revoked`, `expired`, `forbidden`.
    pub reason: String,
    pub failures: i64,
    pub first_at: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
    /// Failures since the last `verify_failed` event for this token and reason.
    pub unlogged: i64,
    pub logged_at: Option<DateTime<Utc>>,
}

/// A token's bookkeeping row (`token_usage`), as verifiers keep it: copied as it is by
/// `tokens migrate`, whatever the token's own columns say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage {
    pub token_id: String,
    pub last_used_at: DateTime<Utc>,
    /// An `--until-used` successor's first use (it ends the token waiting on it).
    pub first_used_at: Option<DateTime<Utc>>,
    pub uses_spent: i64,
    /// The token's use epoch the uses were spent under.
    pub uses_epoch: i64,
}

/// The columns of a `token_usage` row, in the order both backends read them into a [`Usage`].
pub(super) const USAGE_COLUMNS: &str =
    "token_id, last_used_at, first_used_at, uses_spent, uses_epoch";

/// A token that still verifies, as a shell completion offers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveToken {
    pub id: String,
    pub name: String,
    pub app: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bound_token_allows_its_networks_only_and_fails_closed() {
        let controls = Controls {
            allow_from: split_nets(Some("10.0.0.0/8,2001:db8::/32".into())),
            ..Controls::default()
        };
        let allows = |address: &str| controls.allows(address.parse().unwrap());
        assert!(allows("10.255.0.1") && allows("2001:db8::7") && allows("::ffff:10.0.0.1"));
        assert!(!allows("11.0.0.1") && !allows("2001:db9::1") && !allows("::ffff:11.0.0.1"));
        // Unbound: anywhere. Bound to something unreadable: nowhere.
        assert!(Controls::default().allows("192.0.2.1".parse().unwrap()));
        let unreadable = Controls {
            allow_from: split_nets(Some("not-a-net".into())),
            ..Controls::default()
        };
        assert!(!unreadable.allows("192.0.2.1".parse().unwrap()));
    }

    #[test]
    fn uses_left_never_goes_below_zero() {
        let controls = Controls {
            uses_limit: Some(2),
            uses_spent: 3,
            ..Controls::default()
        };
        assert_eq!(controls.uses_left(), Some(0));
        assert_eq!(Controls::default().uses_left(), None);
    }
}
