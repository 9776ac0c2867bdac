//! The SQLite queries: token rows, their changes and the event log.

use chrono::{DateTime, Utc};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};

use crate::error::Result;
use crate::policy::Policy;
use crate::vault::records::{
    COLUMNS, Controls, Dialect, Disabling, Edit, Event, EventFilter, FAILURE_COLUMNS, FailureCount,
    FilterValue, IMPORTED_COLUMNS, ListFilter, LiveToken, LogMark, NewToken, REVOKED_AT,
    TokenRecord, USAGE_COLUMNS, Usage, VERIFY_COLUMNS, VerifyRecord, join_nets, join_scopes,
    meta_column, split_meta, split_nets, split_scopes,
};
use crate::vault::store::{COMMITTED_RUN, Column, Store};
use crate::vault::{Marks, from_secs, to_secs};

/// SQLite's way with `list` queries.
const DIALECT: Dialect = Dialect {
    placeholder: |n| format!("?{n}"),
    has_scope: |scope| format!("instr(' ' || scopes || ' ', ' ' || {scope} || ' ') > 0"),
};

/// Queries over one connection (or one transaction: see [`super::SqliteVault::write`]).
pub struct SqliteStore<'c> {
    conn: &'c Connection,
}

impl<'c> SqliteStore<'c> {
    pub(super) fn new(conn: &'c Connection) -> SqliteStore<'c> {
        SqliteStore { conn }
    }

    fn query_for_verify(&self, id: &str) -> rusqlite::Result<Option<VerifyRecord>> {
        // Formatted once: the statement cache is keyed by the text.
        static LOOKUP: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
            format!("SELECT {VERIFY_COLUMNS} FROM tokens WHERE id = ?1")
        });
        let mut statement = self.conn.prepare_cached(&LOOKUP)?;
        let record = statement
            .query_row([id], |row| {
                Ok(VerifyRecord {
                    id: row.get(0)?,
                    name: row.get(1)?,
                    app: row.get(2)?,
                    scopes: split_scopes(&row.get::<_, String>(3)?),
                    secret_hash: row.get(4)?,
                    expires_at: time(row, 5)?,
                    last_used_at: time(row, 6)?,
                    revoked_at: time(row, 7)?,
                    controls: Controls {
                        disabled_at: time(row, 8)?,
                        disable_reason: row.get(9)?,
                        uses_limit: row.get(10)?,
                        uses_epoch: row.get(11)?,
                        uses_spent: row.get(12)?,
                        allow_from: split_nets(row.get(13)?),
                        meta: split_meta(row.get(14)?),
                        // Not needed to verify: only refresh reads them, from the whole row.
                        disabled_batch: None,
                        refresh_window: None,
                    },
                    ends_on_first_use: row.get(15)?,
                })
            })
            .optional()?;
        Ok(record)
    }
}

/// A filter's value as SQLite binds it.
fn sql_value(value: FilterValue) -> Value {
    match value {
        FilterValue::Integer(number) => Value::Integer(number),
        FilterValue::Text(text) => Value::Text(text),
    }
}

/// A time column: Unix seconds, or NULL.
fn time(row: &Row<'_>, index: usize) -> rusqlite::Result<Option<DateTime<Utc>>> {
    Ok(row.get::<_, Option<i64>>(index)?.map(from_secs))
}

fn failure_from_row(row: &Row<'_>) -> rusqlite::Result<FailureCount> {
    Ok(FailureCount {
        token_id: row.get(0)?,
        reason: row.get(1)?,
        failures: row.get(2)?,
        first_at: from_secs(row.get(3)?),
        last_at: from_secs(row.get(4)?),
        unlogged: row.get(5)?,
        logged_at: time(row, 6)?,
    })
}

fn token_from_row(row: &Row<'_>) -> rusqlite::Result<TokenRecord> {
    Ok(TokenRecord {
        id: row.get(0)?,
        name: row.get(1)?,
        app: row.get(2)?,
        scopes: split_scopes(&row.get::<_, String>(3)?),
        note: row.get(4)?,
        secret_hash: row.get(5)?,
        secret_tail: row.get(6)?,
        secret_key_hash: row.get(7)?,
        created_at: from_secs(row.get(8)?),
        expires_at: time(row, 9)?,
        last_used_at: time(row, 10)?,
        revoked_at: time(row, 11)?,
        revoke_reason: row.get(12)?,
        secret_key_used_at: time(row, 13)?,
        rotated_from: row.get(14)?,
        replaced_by: row.get(15)?,
        lineage: row.get(16)?,
        controls: Controls {
            disabled_at: time(row, 17)?,
            disable_reason: row.get(18)?,
            uses_limit: row.get(19)?,
            uses_epoch: row.get(20)?,
            uses_spent: row.get(21)?,
            allow_from: split_nets(row.get(22)?),
            meta: split_meta(row.get(23)?),
            refresh_window: row
                .get::<_, Option<i64>>(26)?
                .map(chrono::Duration::seconds),
            disabled_batch: row.get(27)?,
        },
        waits_for: row.get(24)?,
        first_use_ends: row.get(25)?,
    })
}

impl Store for SqliteStore<'_> {
    fn find_by_id(&self, id: &str) -> Result<Option<TokenRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM tokens WHERE id = ?1");
        let mut statement = self.conn.prepare_cached(&sql)?;
        Ok(statement.query_row([id], token_from_row).optional()?)
    }

    fn find_by_ids(&self, ids: &[&str]) -> Result<Vec<TokenRecord>> {
        let mut found = Vec::new();
        // Well below SQLite's limit on bound parameters.
        for chunk in ids.chunks(500) {
            let marks = vec!["?"; chunk.len()].join(",");
            let sql = format!("SELECT {COLUMNS} FROM tokens WHERE id IN ({marks})");
            let mut statement = self.conn.prepare_cached(&sql)?;
            let rows = statement.query_map(rusqlite::params_from_iter(chunk), token_from_row)?;
            for row in rows {
                found.push(row?);
            }
        }
        Ok(found)
    }

    /// What `verify` needs of the token with `id`: half the columns of [`Store::find_by_id`], and
    /// a query string fixed at compile time rather than formatted on every lookup, which shows on
    /// a batch of 100,000 (docs/PERFORMANCE.md). The last use comes from a scalar subquery, not a
    /// join: SQLite marks the join's plan as depending on the bound id, and the statement cache
    /// then re-prepares it on every lookup (twice the time of a `verify --batch`).
    fn find_for_verify(&self, id: &str) -> Result<Option<VerifyRecord>> {
        Ok(retry_transient_read(|| self.query_for_verify(id))?)
    }

    fn find_by_name(&self, name: &str) -> Result<Option<TokenRecord>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM tokens WHERE name = ?1 \
             ORDER BY revoked_at IS NULL DESC, rowid DESC LIMIT 1"
        );
        let mut statement = self.conn.prepare_cached(&sql)?;
        Ok(statement.query_row([name], token_from_row).optional()?)
    }

    /// The live (not revoked, not rotated away) token named `name`, if any.
    fn live_by_name(&self, name: &str) -> Result<Option<TokenRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM tokens WHERE name = ?1 AND revoked_at IS NULL");
        let mut statement = self.conn.prepare_cached(&sql)?;
        Ok(statement.query_row([name], token_from_row).optional()?)
    }

    /// Tokens whose `column` (a fixed column name, never user input) is `value` and that still
    /// verify at `now`, oldest first.
    fn verifying_where(
        &self,
        column: Column,
        value: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<TokenRecord>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM tokens WHERE {} = ?1 AND ({REVOKED_AT} IS NULL OR {REVOKED_AT} > ?2) \
             ORDER BY rowid",
            column.as_sql()
        );
        let mut statement = self.conn.prepare_cached(&sql)?;
        let rows = statement.query_map(params![value, to_secs(now)], token_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Calls `visit` with each token `filter` selects, oldest first, without holding them all in memory.
    fn list(
        &self,
        filter: &ListFilter,
        now: DateTime<Utc>,
        visit: &mut dyn FnMut(TokenRecord) -> Result<()>,
    ) -> Result<()> {
        let (conditions, values) = filter.conditions(now, &DIALECT);
        let mut sql = format!("SELECT {COLUMNS} FROM tokens WHERE ?1 = ?1");
        for condition in &conditions {
            sql.push_str(" AND ");
            sql.push_str(condition);
        }
        sql.push_str(" ORDER BY rowid");
        let mut statement = self.conn.prepare(&sql)?;
        let mut rows = statement.query(params_from_iter(values.into_iter().map(sql_value)))?;
        while let Some(row) = rows.next()? {
            visit(token_from_row(row)?)?;
        }
        Ok(())
    }

    fn insert(&self, token: &NewToken) -> Result<()> {
        let mut statement = self.conn.prepare_cached(
            "INSERT INTO tokens (id, name, app, scopes, note, secret_hash, secret_tail, secret_key_hash, \
             created_at, expires_at, rotated_from, lineage, disabled_at, disable_reason, uses_limit, \
             allow_from, meta, first_use_ends, refresh_window, disabled_batch) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, \
             ?19, ?20)",
        )?;
        statement.execute(params![
            token.id,
            token.name,
            token.app,
            join_scopes(&token.scopes),
            token.note,
            token.secret_hash.as_slice(),
            token.secret_tail,
            token.secret_key_hash.as_ref().map(|hash| hash.as_slice()),
            to_secs(token.created_at),
            token.expires_at.map(to_secs),
            token.rotated_from,
            token.lineage,
            token.controls.disabled_at.map(to_secs),
            token.controls.disable_reason,
            token.controls.uses_limit,
            token.controls.allow_from_column(),
            token.controls.meta_column(),
            token.first_use_ends,
            token
                .controls
                .refresh_window
                .map(|window| window.num_seconds()),
            token.controls.disabled_batch,
        ])?;
        Ok(())
    }

    fn wait_for_first_use(&self, id: &str, successor: &str) -> Result<()> {
        self.conn
            .prepare_cached("UPDATE tokens SET waits_for = ?2 WHERE id = ?1")?
            .execute(params![id, successor])?;
        Ok(())
    }

    /// Makes `id` stop verifying at `at` (now, or when a rotation's grace ends).
    fn set_revoked(
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

    fn cancel_rotation(&self, id: &str) -> Result<()> {
        self.conn
            .prepare_cached(
                "UPDATE tokens SET revoked_at = NULL, revoke_reason = NULL, replaced_by = NULL, \
                 waits_for = NULL WHERE id = ?1",
            )?
            .execute([id])?;
        Ok(())
    }

    /// Marks `id`'s secret key as spent by a refresh at `at`.
    fn mark_secret_key_used(&self, id: &str, at: DateTime<Utc>) -> Result<()> {
        self.conn
            .prepare_cached("UPDATE tokens SET secret_key_used_at = ?2 WHERE id = ?1")?
            .execute(params![id, to_secs(at)])?;
        Ok(())
    }

    fn apply_edit(&self, id: &str, edit: &Edit) -> Result<()> {
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
            set("scopes", Value::Text(join_scopes(scopes)));
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
        if let Some(limit) = edit.uses_limit {
            set("uses_limit", limit.map_or(Value::Null, Value::Integer));
        }
        if let Some(nets) = &edit.allow_from {
            set("allow_from", text(&nets.as_deref().map(join_nets)));
        }
        if let Some(meta) = &edit.meta {
            set("meta", text(&meta_column(meta)));
        }
        if let Some(window) = edit.refresh_window {
            set(
                "refresh_window",
                window.map_or(Value::Null, |window| Value::Integer(window.num_seconds())),
            );
        }
        if sets.is_empty() {
            return Ok(());
        }
        let mut assignments: Vec<String> = sets
            .iter()
            .enumerate()
            .map(|(index, column)| format!("{column} = ?{}", index + 2))
            .collect();
        if edit.uses_limit.is_some() {
            // Uses spent so far stop counting: the new limit is counted from now.
            assignments.push("uses_epoch = uses_epoch + 1".into());
        }
        let sql = format!("UPDATE tokens SET {} WHERE id = ?1", assignments.join(", "));
        self.conn.execute(&sql, params_from_iter(values))?;
        Ok(())
    }

    /// Records that `id` verified at `at`.
    fn touch_last_used(&self, id: &str, at: DateTime<Utc>) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO token_usage (token_id, last_used_at, first_used_at) VALUES (?1, ?2, ?2) \
                 ON CONFLICT (token_id) DO UPDATE SET \
                 last_used_at = max(last_used_at, excluded.last_used_at), \
                 first_used_at = coalesce(first_used_at, excluded.first_used_at)",
            )?
            .execute(params![id, to_secs(at)])?;
        Ok(())
    }

    fn set_disabled(&self, id: &str, disabled: Option<Disabling<'_>>) -> Result<()> {
        let (at, reason, batch) = match disabled {
            Some(disabling) => (Some(disabling.at), disabling.reason, Some(disabling.batch)),
            None => (None, None, None),
        };
        self.conn
            .prepare_cached(
                "UPDATE tokens SET disabled_at = ?2, disable_reason = ?3, disabled_batch = ?4 \
                 WHERE id = ?1",
            )?
            .execute(params![id, at.map(to_secs), reason, batch])?;
        Ok(())
    }

    fn spend_use(
        &self,
        id: &str,
        _secret: &[u8; 32],
        epoch: i64,
        limit: i64,
        at: DateTime<Utc>,
    ) -> Result<Option<i64>> {
        let mut statement = self.conn.prepare_cached(
            "INSERT INTO token_usage (token_id, last_used_at, uses_spent, uses_epoch) \
             SELECT ?1, ?2, 1, ?3 WHERE ?4 >= 1 \
             ON CONFLICT (token_id) DO UPDATE SET \
             last_used_at = max(last_used_at, excluded.last_used_at), \
             uses_spent = CASE WHEN uses_epoch = excluded.uses_epoch THEN uses_spent + 1 ELSE 1 END, \
             uses_epoch = excluded.uses_epoch \
             WHERE uses_epoch < excluded.uses_epoch \
             OR (uses_epoch = excluded.uses_epoch AND uses_spent < ?4) \
             RETURNING uses_spent",
        )?;
        Ok(statement
            .query_row(params![id, to_secs(at), epoch, limit], |row| row.get(0))
            .optional()?)
    }

    /// Appends to the event log. `detail` must never contain a secret.
    fn log_event(
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

    /// SQLite numbers events under its one write lock, so they commit in their order: what is
    /// visible is settled.
    fn log_mark(&self) -> Result<LogMark> {
        let seq = self
            .conn
            .query_row("SELECT coalesce(max(seq), 0) FROM events", [], |row| {
                row.get(0)
            })?;
        Ok(LogMark {
            seq,
            writers: Vec::new(),
        })
    }

    fn events_committed_through(&self, after: i64) -> Result<i64> {
        // As on PostgreSQL (postgres/store.rs); here every number drawn is committed already.
        Ok(self
            .conn
            .prepare_cached(
                "SELECT coalesce(max(seq), ?1) FROM (SELECT seq, seq - row_number() OVER \
                 (ORDER BY seq) AS shift FROM (SELECT seq FROM events WHERE seq > ?1 \
                 ORDER BY seq LIMIT ?2) ahead) numbered WHERE shift = ?1",
            )?
            .query_row(params![after, COMMITTED_RUN], |row| row.get(0))?)
    }

    fn policy(&self) -> Result<Policy> {
        let policy = self
            .conn
            .prepare_cached(
                "SELECT max_lifetime, default_lifetime, require_app, scopes, max_refresh_window, \
                 default_refresh_window FROM policy",
            )?
            .query_row([], |row| {
                let seconds = |index| {
                    row.get::<_, Option<i64>>(index)
                        .map(|value| value.map(chrono::Duration::seconds))
                };
                Ok(Policy {
                    max_lifetime: seconds(0)?,
                    default_lifetime: seconds(1)?,
                    require_app: row.get(2)?,
                    scopes: row.get::<_, Option<String>>(3)?.map(|s| split_scopes(&s)),
                    max_refresh_window: seconds(4)?,
                    default_refresh_window: seconds(5)?,
                })
            })
            .optional()?;
        Ok(policy.unwrap_or_default())
    }

    fn set_policy(&self, policy: &Policy) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO policy (singleton, max_lifetime, default_lifetime, require_app, scopes, \
                 max_refresh_window, default_refresh_window) \
                 VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (singleton) DO UPDATE SET \
                 max_lifetime = excluded.max_lifetime, default_lifetime = excluded.default_lifetime, \
                 require_app = excluded.require_app, scopes = excluded.scopes, \
                 max_refresh_window = excluded.max_refresh_window, \
                 default_refresh_window = excluded.default_refresh_window",
            )?
            .execute(params![
                policy.max_lifetime.map(|d| d.num_seconds()),
                policy.default_lifetime.map(|d| d.num_seconds()),
                policy.require_app,
                policy.scopes.as_deref().map(join_scopes),
                policy.max_refresh_window.map(|d| d.num_seconds()),
                policy.default_refresh_window.map(|d| d.num_seconds()),
            ])?;
        Ok(())
    }

    fn events(
        &self,
        filter: &EventFilter,
        visit: &mut dyn FnMut(Event) -> Result<()>,
    ) -> Result<()> {
        let (sql, values) = filter.query(&DIALECT);
        let mut statement = self.conn.prepare(&sql)?;
        let mut rows = statement.query(params_from_iter(values.into_iter().map(sql_value)))?;
        while let Some(row) = rows.next()? {
            visit(Event {
                seq: row.get(0)?,
                at: from_secs(row.get(1)?),
                token_id: row.get(2)?,
                name: row.get(3)?,
                kind: row.get(4)?,
                detail: row.get(5)?,
            })?;
        }
        Ok(())
    }

    fn add_failures(
        &self,
        id: &str,
        reason: &str,
        failures: i64,
        first_at: DateTime<Utc>,
        last_at: DateTime<Utc>,
    ) -> Result<FailureCount> {
        let mut statement = self.conn.prepare_cached(&format!(
            "INSERT INTO verify_failures \
             ({FAILURE_COLUMNS}) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?3, NULL) \
             ON CONFLICT (token_id, reason) DO UPDATE SET \
             failures = failures + excluded.failures, \
             last_at = max(last_at, excluded.last_at), \
             unlogged = unlogged + excluded.unlogged \
             RETURNING {FAILURE_COLUMNS}"
        ))?;
        let params = params![id, reason, failures, to_secs(first_at), to_secs(last_at)];
        Ok(statement.query_row(params, failure_from_row)?)
    }

    fn mark_failures_logged(&self, id: &str, reason: &str, at: DateTime<Utc>) -> Result<()> {
        self.conn
            .prepare_cached(
                "UPDATE verify_failures SET unlogged = 0, logged_at = ?3 \
                 WHERE token_id = ?1 AND reason = ?2",
            )?
            .execute(params![id, reason, to_secs(at)])?;
        Ok(())
    }

    fn failure_counts(
        &self,
        token_id: Option<&str>,
        visit: &mut dyn FnMut(FailureCount) -> Result<()>,
    ) -> Result<()> {
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {FAILURE_COLUMNS} \
             FROM verify_failures WHERE ?1 IS NULL OR token_id = ?1 ORDER BY token_id, reason"
        ))?;
        let mut rows = statement.query([token_id])?;
        while let Some(row) = rows.next()? {
            visit(failure_from_row(row)?)?;
        }
        Ok(())
    }

    fn import_failure_count(&self, count: &FailureCount) -> Result<()> {
        self.conn
            .prepare_cached(&format!(
                "INSERT INTO verify_failures \
                 ({FAILURE_COLUMNS}) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
            ))?
            .execute(params![
                count.token_id,
                count.reason,
                count.failures,
                to_secs(count.first_at),
                to_secs(count.last_at),
                count.unlogged,
                count.logged_at.map(to_secs),
            ])?;
        Ok(())
    }

    fn live_tokens_for_completion(
        &self,
        prefix: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<LiveToken>> {
        let mut statement = self.conn.prepare(&format!(
            "SELECT id, name, app FROM tokens \
             WHERE ({REVOKED_AT} IS NULL OR {REVOKED_AT} > ?1) \
             AND (substr(name, 1, length(?2)) = ?2 OR substr(id, 1, length(?2)) = ?2) \
             ORDER BY name, id"
        ))?;
        let rows = statement.query_map(params![to_secs(now), prefix], |row| {
            Ok(LiveToken {
                id: row.get(0)?,
                name: row.get(1)?,
                app: row.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn import_token(&self, record: &TokenRecord) -> Result<()> {
        crate::vault::records::check_hashes(record)?;
        let sql = format!(
            "INSERT INTO tokens ({IMPORTED_COLUMNS}) VALUES \
             (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, \
             ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26)"
        );
        self.conn.prepare_cached(&sql)?.execute(params![
            record.id,
            record.name,
            record.app,
            join_scopes(&record.scopes),
            record.note,
            record.secret_hash,
            record.secret_tail,
            record.secret_key_hash,
            to_secs(record.created_at),
            record.expires_at.map(to_secs),
            record.revoked_at.map(to_secs),
            record.revoke_reason,
            record.secret_key_used_at.map(to_secs),
            record.rotated_from,
            record.replaced_by,
            record.lineage,
            record.controls.disabled_at.map(to_secs),
            record.controls.disable_reason,
            record.controls.uses_limit,
            record.controls.uses_epoch,
            record.controls.allow_from_column(),
            record.controls.meta_column(),
            record.waits_for,
            record.first_use_ends,
            record
                .controls
                .refresh_window
                .map(|window| window.num_seconds()),
            record.controls.disabled_batch,
        ])?;
        Ok(())
    }

    fn usages(&self, visit: &mut dyn FnMut(Usage) -> Result<()>) -> Result<()> {
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {USAGE_COLUMNS} FROM token_usage ORDER BY token_id"
        ))?;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            visit(Usage {
                token_id: row.get(0)?,
                last_used_at: from_secs(row.get(1)?),
                first_used_at: row.get::<_, Option<i64>>(2)?.map(from_secs),
                uses_spent: row.get(3)?,
                uses_epoch: row.get(4)?,
            })?;
        }
        Ok(())
    }

    fn import_usage(&self, usage: &Usage) -> Result<()> {
        self.conn
            .prepare_cached(&format!(
                "INSERT INTO token_usage ({USAGE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5)"
            ))?
            .execute(params![
                usage.token_id,
                to_secs(usage.last_used_at),
                usage.first_used_at.map(to_secs),
                usage.uses_spent,
                usage.uses_epoch,
            ])?;
        Ok(())
    }

    fn schema(&self) -> Result<(i64, Option<Marks>)> {
        let version = self
            .conn
            .pragma_query_value(None, "user_version", |row| row.get(0))?;
        Ok((version, super::open::read_marks(self.conn)))
    }

    fn raise_marks(&self, marks: &Marks) -> Result<()> {
        self.conn.execute(
            "UPDATE vault_marks SET read_mark = max(read_mark, ?1), \
             verify_mark = max(verify_mark, ?2), write_mark = max(write_mark, ?3)",
            [marks.read, marks.verify, marks.write],
        )?;
        Ok(())
    }

    fn import_events(&self, events: &[Event]) -> Result<()> {
        let mut statement = self.conn.prepare_cached(
            "INSERT INTO events (seq, at, token_id, kind, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for event in events {
            statement.execute(params![
                event.seq,
                to_secs(event.at),
                event.token_id,
                event.kind,
                event.detail
            ])?;
        }
        Ok(())
    }

    fn is_empty(&self) -> Result<bool> {
        Ok(self.conn.query_row(
            "SELECT NOT EXISTS (SELECT 1 FROM tokens) AND NOT EXISTS (SELECT 1 FROM events)",
            [],
            |row| row.get(0),
        )?)
    }

    fn raise_verify_mark(&self, version: i64) -> Result<()> {
        self.conn.execute(
            "UPDATE vault_marks SET verify_mark = max(verify_mark, ?1)",
            [version],
        )?;
        Ok(())
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
