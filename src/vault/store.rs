//! The queries: token rows, their changes and the event log.

use std::fmt;

use chrono::{DateTime, Utc};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};

use super::{from_secs, to_secs};
use crate::error::Result;
use crate::token;

/// Where a token stands at a given moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Active,
    Expired,
    Revoked,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
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
            .finish_non_exhaustive()
    }
}

impl TokenRecord {
    pub fn status(&self, now: DateTime<Utc>) -> Status {
        if self.is_revoked(now) {
            Status::Revoked
        } else if self.expires_at.is_some_and(|at| at <= now) {
            Status::Expired
        } else {
            Status::Active
        }
    }

    pub fn is_revoked(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_some_and(|at| at <= now)
    }

    /// How long the token was made to live (what rotate and refresh give the next one); `None`: for ever.
    pub fn lifetime(&self) -> Option<chrono::Duration> {
        self.expires_at.map(|at| at - self.created_at)
    }

    pub fn masked(&self) -> String {
        token::mask(&self.id, &self.secret_tail)
    }

    fn from_row(row: &Row<'_>) -> rusqlite::Result<TokenRecord> {
        let time = |index: usize| -> rusqlite::Result<Option<DateTime<Utc>>> {
            Ok(row.get::<_, Option<i64>>(index)?.map(from_secs))
        };
        let scopes: String = row.get(3)?;
        Ok(TokenRecord {
            id: row.get(0)?,
            name: row.get(1)?,
            app: row.get(2)?,
            scopes: scopes.split_whitespace().map(str::to_owned).collect(),
            note: row.get(4)?,
            secret_hash: row.get(5)?,
            secret_tail: row.get(6)?,
            secret_key_hash: row.get(7)?,
            created_at: from_secs(row.get(8)?),
            expires_at: time(9)?,
            last_used_at: time(10)?,
            revoked_at: time(11)?,
            revoke_reason: row.get(12)?,
            secret_key_used_at: time(13)?,
            rotated_from: row.get(14)?,
            replaced_by: row.get(15)?,
            lineage: row.get(16)?,
        })
    }
}

/// The part of a token `verify` reads: a lean row for the hot path ([`Store::find_for_verify`]).
#[derive(Debug, Clone)]
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
}

const COLUMNS: &str = "id, name, app, scopes, note, secret_hash, secret_tail, secret_key_hash, created_at, \
     expires_at, last_used_at, revoked_at, revoke_reason, secret_key_used_at, \
     rotated_from, replaced_by, lineage";

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
}

/// Metadata changes for `edit`; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct Edit {
    pub name: Option<String>,
    pub app: Option<Option<String>>,
    pub scopes: Option<Vec<String>>,
    pub expires_at: Option<Option<DateTime<Utc>>>,
    pub note: Option<Option<String>>,
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

/// Which events `log` shows.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// Only events of the tokens in this lineage.
    pub lineage: Option<String>,
    pub since: Option<DateTime<Utc>>,
    /// Only the newest `n`, still in time order.
    pub last: Option<usize>,
}

/// Queries over one connection (or one transaction: see [`super::Vault::write`]).
pub struct Store<'c> {
    pub(super) conn: &'c Connection,
}

impl<'c> Store<'c> {
    pub(super) fn new(conn: &'c Connection) -> Store<'c> {
        Store { conn }
    }

    pub fn find_by_id(&self, id: &str) -> Result<Option<TokenRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM tokens WHERE id = ?1");
        let mut statement = self.conn.prepare_cached(&sql)?;
        Ok(statement
            .query_row([id], TokenRecord::from_row)
            .optional()?)
    }

    /// What `verify` needs of the token with `id`: half the columns of [`Store::find_by_id`], and
    /// a query string fixed at compile time rather than formatted on every lookup, which shows on
    /// a batch of 100,000 (docs/PERFORMANCE.md).
    pub fn find_for_verify(&self, id: &str) -> Result<Option<VerifyRecord>> {
        Ok(retry_transient_read(|| self.query_for_verify(id))?)
    }

    fn query_for_verify(&self, id: &str) -> rusqlite::Result<Option<VerifyRecord>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT id, name, app, scopes, secret_hash, expires_at, last_used_at, revoked_at \
             FROM tokens WHERE id = ?1",
        )?;
        let record = statement
            .query_row([id], |row| {
                let time = |index: usize| -> rusqlite::Result<Option<DateTime<Utc>>> {
                    Ok(row.get::<_, Option<i64>>(index)?.map(from_secs))
                };
                let scopes: String = row.get(3)?;
                Ok(VerifyRecord {
                    id: row.get(0)?,
                    name: row.get(1)?,
                    app: row.get(2)?,
                    scopes: scopes.split_whitespace().map(str::to_owned).collect(),
                    secret_hash: row.get(4)?,
                    expires_at: time(5)?,
                    last_used_at: time(6)?,
                    revoked_at: time(7)?,
                })
            })
            .optional()?;
        Ok(record)
    }

    /// The token an ID or NAME given to a command means: the token with that id; else the live
    /// token with that name; else the newest revoked one with that name.
    pub fn find(&self, id_or_name: &str) -> Result<Option<TokenRecord>> {
        if token::looks_like_id(id_or_name)
            && let Some(record) = self.find_by_id(id_or_name)?
        {
            return Ok(Some(record));
        }
        let sql = format!(
            "SELECT {COLUMNS} FROM tokens WHERE name = ?1 \
             ORDER BY revoked_at IS NULL DESC, rowid DESC LIMIT 1"
        );
        let mut statement = self.conn.prepare_cached(&sql)?;
        Ok(statement
            .query_row([id_or_name], TokenRecord::from_row)
            .optional()?)
    }

    /// The live (not revoked, not rotated away) token named `name`, if any.
    pub fn live_by_name(&self, name: &str) -> Result<Option<TokenRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM tokens WHERE name = ?1 AND revoked_at IS NULL");
        let mut statement = self.conn.prepare_cached(&sql)?;
        Ok(statement
            .query_row([name], TokenRecord::from_row)
            .optional()?)
    }

    /// Tokens named `name` that still verify at `now`: the live one and any rotated away whose grace runs.
    pub fn verifying_by_name(&self, name: &str, now: DateTime<Utc>) -> Result<Vec<TokenRecord>> {
        self.verifying_where("name", name, now)
    }

    /// Tokens of `app` that still verify at `now`.
    pub fn live_of_app(&self, app: &str, now: DateTime<Utc>) -> Result<Vec<TokenRecord>> {
        self.verifying_where("app", app, now)
    }

    /// Every token in `lineage` that still verifies at `now`.
    pub fn live_of_lineage(&self, lineage: &str, now: DateTime<Utc>) -> Result<Vec<TokenRecord>> {
        self.verifying_where("lineage", lineage, now)
    }

    /// Tokens whose `column` (a fixed column name, never user input) is `value` and that still
    /// verify at `now`, oldest first.
    fn verifying_where(
        &self,
        column: &'static str,
        value: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<TokenRecord>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM tokens WHERE {column} = ?1 AND (revoked_at IS NULL OR revoked_at > ?2) \
             ORDER BY rowid"
        );
        let mut statement = self.conn.prepare_cached(&sql)?;
        let rows = statement.query_map(params![value, to_secs(now)], TokenRecord::from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Calls `visit` with each token `filter` selects, oldest first, without holding them all in memory.
    pub fn list(
        &self,
        filter: &ListFilter,
        now: DateTime<Utc>,
        mut visit: impl FnMut(TokenRecord) -> Result<()>,
    ) -> Result<()> {
        let now_secs = Value::Integer(to_secs(now));
        let mut conditions: Vec<String> = Vec::new();
        let mut values: Vec<Value> = vec![now_secs];
        const REVOKED: &str = "(revoked_at IS NOT NULL AND revoked_at <= ?1)";
        const NOT_REVOKED: &str = "(revoked_at IS NULL OR revoked_at > ?1)";
        const EXPIRED: &str = "(expires_at IS NOT NULL AND expires_at <= ?1)";
        const NOT_EXPIRED: &str = "(expires_at IS NULL OR expires_at > ?1)";
        match filter.status {
            Some(Status::Active) => conditions.extend([NOT_REVOKED.into(), NOT_EXPIRED.into()]),
            Some(Status::Expired) => conditions.extend([NOT_REVOKED.into(), EXPIRED.into()]),
            Some(Status::Revoked) => conditions.push(REVOKED.into()),
            None if !filter.all => conditions.push(NOT_REVOKED.into()),
            None => {}
        }
        if let Some(app) = &filter.app {
            values.push(Value::Text(app.clone()));
            conditions.push(format!("app = ?{}", values.len()));
        }
        if let Some(scope) = &filter.scope {
            values.push(Value::Text(scope.clone()));
            conditions.push(format!(
                "instr(' ' || scopes || ' ', ' ' || ?{} || ' ') > 0",
                values.len()
            ));
        }
        if let Some(before) = filter.expiring_before {
            values.push(Value::Integer(to_secs(before)));
            conditions.extend([NOT_REVOKED.into(), NOT_EXPIRED.into()]);
            conditions.push(format!("expires_at <= ?{}", values.len()));
        }
        let mut sql = format!("SELECT {COLUMNS} FROM tokens WHERE ?1 = ?1");
        for condition in &conditions {
            sql.push_str(" AND ");
            sql.push_str(condition);
        }
        sql.push_str(" ORDER BY rowid");
        let mut statement = self.conn.prepare(&sql)?;
        let mut rows = statement.query(params_from_iter(values))?;
        while let Some(row) = rows.next()? {
            visit(TokenRecord::from_row(row)?)?;
        }
        Ok(())
    }

    /// Every app and every scope in use by a token that is not revoked, sorted.
    pub fn apps_and_scopes_in_use(&self, now: DateTime<Utc>) -> Result<(Vec<String>, Vec<String>)> {
        let mut apps = std::collections::BTreeSet::new();
        let mut scopes = std::collections::BTreeSet::new();
        let mut statement = self.conn.prepare(
            "SELECT app, scopes FROM tokens WHERE revoked_at IS NULL OR revoked_at > ?1",
        )?;
        let mut rows = statement.query([to_secs(now)])?;
        while let Some(row) = rows.next()? {
            if let Some(app) = row.get::<_, Option<String>>(0)? {
                apps.insert(app);
            }
            let line: String = row.get(1)?;
            scopes.extend(line.split_whitespace().map(str::to_owned));
        }
        Ok((apps.into_iter().collect(), scopes.into_iter().collect()))
    }

    pub fn insert(&self, token: &NewToken) -> Result<()> {
        let mut statement = self.conn.prepare_cached(
            "INSERT INTO tokens (id, name, app, scopes, note, secret_hash, secret_tail, secret_key_hash, \
             created_at, expires_at, rotated_from, lineage) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )?;
        statement.execute(params![
            token.id,
            token.name,
            token.app,
            token.scopes.join(" "),
            token.note,
            token.secret_hash.as_slice(),
            token.secret_tail,
            token.secret_key_hash.as_ref().map(|hash| hash.as_slice()),
            to_secs(token.created_at),
            token.expires_at.map(to_secs),
            token.rotated_from,
            token.lineage,
        ])?;
        Ok(())
    }

    /// Makes `id` stop verifying at `at` (now, or when a rotation's grace ends).
    pub fn set_revoked(
        &self,
        id: &str,
        at: DateTime<Utc>,
        reason: &str,
        replaced_by: Option<&str>,
    ) -> Result<()> {
        self.conn
            .prepare_cached(
                "UPDATE tokens SET revoked_at = ?2, revoke_reason = ?3, \
                 replaced_by = coalesce(?4, replaced_by) WHERE id = ?1",
            )?
            .execute(params![id, to_secs(at), reason, replaced_by])?;
        Ok(())
    }

    /// Marks `id`'s secret key as spent by a refresh at `at`.
    pub fn mark_secret_key_used(&self, id: &str, at: DateTime<Utc>) -> Result<()> {
        self.conn
            .prepare_cached("UPDATE tokens SET secret_key_used_at = ?2 WHERE id = ?1")?
            .execute(params![id, to_secs(at)])?;
        Ok(())
    }

    pub fn apply_edit(&self, id: &str, edit: &Edit) -> Result<()> {
        let mut sets: Vec<&str> = Vec::new();
        let mut values: Vec<Value> = vec![Value::Text(id.to_owned())];
        let mut set = |column: &'static str, value: Value| {
            values.push(value);
            sets.push(column);
        };
        let text = |value: &Option<String>| value.clone().map_or(Value::Null, Value::Text);
        if let Some(name) = &edit.name {
            set("name", Value::Text(name.clone()));
        }
        if let Some(app) = &edit.app {
            set("app", text(app));
        }
        if let Some(scopes) = &edit.scopes {
            set("scopes", Value::Text(scopes.join(" ")));
        }
        if let Some(expires_at) = edit.expires_at {
            set(
                "expires_at",
                expires_at.map_or(Value::Null, |at| Value::Integer(to_secs(at))),
            );
        }
        if let Some(note) = &edit.note {
            set("note", text(note));
        }
        if sets.is_empty() {
            return Ok(());
        }
        let assignments: Vec<String> = sets
            .iter()
            .enumerate()
            .map(|(index, column)| format!("{column} = ?{}", index + 2))
            .collect();
        let sql = format!("UPDATE tokens SET {} WHERE id = ?1", assignments.join(", "));
        self.conn.execute(&sql, params_from_iter(values))?;
        Ok(())
    }

    /// Records that `id` verified at `at`.
    pub fn touch_last_used(&self, id: &str, at: DateTime<Utc>) -> Result<()> {
        self.conn
            .prepare_cached("UPDATE tokens SET last_used_at = ?2 WHERE id = ?1")?
            .execute(params![id, to_secs(at)])?;
        Ok(())
    }

    /// Appends to the event log. `detail` must never contain a secret.
    pub fn log_event(
        &self,
        at: DateTime<Utc>,
        token_id: Option<&str>,
        kind: &str,
        detail: &str,
    ) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO events (at, token_id, kind, detail) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![to_secs(at), token_id, kind, detail])?;
        Ok(())
    }

    pub fn events(&self, filter: &EventFilter) -> Result<Vec<Event>> {
        let mut sql = String::from(
            "SELECT e.seq, e.at, e.token_id, t.name, e.kind, e.detail \
             FROM events e LEFT JOIN tokens t ON t.id = e.token_id WHERE 1",
        );
        let mut values: Vec<Value> = Vec::new();
        if let Some(lineage) = &filter.lineage {
            values.push(Value::Text(lineage.clone()));
            sql.push_str(&format!(" AND t.lineage = ?{}", values.len()));
        }
        if let Some(since) = filter.since {
            values.push(Value::Integer(to_secs(since)));
            sql.push_str(&format!(" AND e.at >= ?{}", values.len()));
        }
        sql.push_str(" ORDER BY e.seq DESC");
        if let Some(last) = filter.last {
            sql.push_str(&format!(" LIMIT {last}"));
        }
        let mut statement = self.conn.prepare(&sql)?;
        let rows = statement.query_map(params_from_iter(values), |row| {
            Ok(Event {
                seq: row.get(0)?,
                at: from_secs(row.get(1)?),
                token_id: row.get(2)?,
                name: row.get(3)?,
                kind: row.get(4)?,
                detail: row.get(5)?,
            })
        })?;
        let mut events: Vec<Event> = rows.collect::<rusqlite::Result<_>>()?;
        events.reverse();
        Ok(events)
    }
}

/// Runs a read again when a connection that cannot write the WAL's `-shm` file meets a writer
/// in the middle of creating, recovering or resetting it (SQLite then answers "read-only" or
/// "cannot open" for a plain SELECT): a passing state, over within milliseconds.
fn retry_transient_read<T>(mut read: impl FnMut() -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    use rusqlite::ffi::ErrorCode;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    loop {
        match read() {
            Err(error)
                if matches!(
                    error.sqlite_error_code(),
                    Some(ErrorCode::ReadOnly | ErrorCode::CannotOpen)
                ) && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            other => return other,
        }
    }
}
