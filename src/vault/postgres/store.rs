//! The PostgreSQL queries: the same questions as sqlite/store.rs, in PostgreSQL's dialect.

use chrono::{DateTime, Utc};
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use super::link::{Link, Transaction};
use crate::error::Result;
use crate::policy::Policy;
use crate::vault::records::{
    COLUMNS, Controls, Dialect, Disabling, Edit, Event, EventFilter, FAILURE_COLUMNS, FailureCount,
    FilterValue, IMPORTED_COLUMNS, ListFilter, LiveToken, LogMark, LogWriter, Lookup, NewToken,
    REVOKED_AT, TokenRecord, USAGE_COLUMNS, Usage, VERIFY_COLUMNS, VerifyRecord, join_nets,
    join_scopes, meta_column, split_meta, split_nets, split_scopes,
};
use crate::vault::store::{COMMITTED_RUN, Column, Store};
use crate::vault::{Marks, from_secs, to_secs};

/// PostgreSQL's way with `list` queries.
const DIALECT: Dialect = Dialect {
    placeholder: |n| format!("${n}"),
    has_scope: |scope| format!("position(' ' || {scope} || ' ' in ' ' || scopes || ' ') > 0"),
};

/// [`COLUMNS`] for a role that may not read the hashes (a reader, `tokens grants`): empty
/// hashes, and an empty secret-key hash where the token has a secret key.
const COLUMNS_WITHOUT_HASHES: &str = concat!(
    "id, name, app, scopes, note, ''::bytea, secret_tail, \
     CASE WHEN has_secret_key THEN ''::bytea END, created_at, expires_at, \
     (SELECT u.last_used_at FROM token_usage u WHERE u.token_id = tokens.id), ",
    crate::vault::records::revoked_at!(),
    ", revoke_reason, secret_key_used_at, rotated_from, replaced_by, lineage, \
     disabled_at, disable_reason, uses_limit, uses_epoch, \
     coalesce((SELECT CASE WHEN u.uses_epoch = tokens.uses_epoch THEN u.uses_spent ELSE 0 END \
     FROM token_usage u WHERE u.token_id = tokens.id), 0), allow_from, meta, waits_for, \
     first_use_ends, refresh_window, disabled_batch"
);

/// A parameter list built at run time (filters, edits).
type Params = Vec<Box<dyn ToSql + Sync>>;

/// The session statements run on: the connection itself, or a write transaction on it.
pub(super) enum Session<'a> {
    Autocommit(&'a Link),
    Transaction(Transaction<'a>),
    /// A read-only transaction on one snapshot (see [`super::PgVault::snapshot`]).
    Snapshot(Transaction<'a>),
}

/// Queries over one connection, or one write transaction (see [`super::PgVault::write`]).
/// Every statement waits at most the vault's timeout (see `link`).
pub struct PgStore<'a> {
    session: Session<'a>,
    /// The columns of a whole token record: [`COLUMNS`], or for a role that may not read the
    /// hashes [`COLUMNS_WITHOUT_HASHES`].
    columns: &'static str,
    /// The vault has its functions (schema.rs): verify's lookup and bookkeeping call them.
    functions: bool,
}

impl<'a> PgStore<'a> {
    pub(super) fn new(session: Session<'a>, hashes: bool, functions: bool) -> PgStore<'a> {
        PgStore {
            session,
            columns: if hashes {
                COLUMNS
            } else {
                COLUMNS_WITHOUT_HASHES
            },
            functions,
        }
    }

    /// Calls the vault's function `call` (`name($1, …)`), named with its schema.
    fn call(&self, call: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>> {
        let sql = format!("SELECT * FROM {}.{call}", self.link().schema());
        self.query(&sql, params)
    }

    /// The write transaction back, to commit it.
    pub(super) fn into_transaction(self) -> Option<Transaction<'a>> {
        match self.session {
            Session::Transaction(transaction) | Session::Snapshot(transaction) => Some(transaction),
            Session::Autocommit(_) => None,
        }
    }

    fn link(&self) -> &'a Link {
        match &self.session {
            Session::Autocommit(link) => link,
            Session::Transaction(transaction) | Session::Snapshot(transaction) => {
                transaction.link()
            }
        }
    }

    /// Inside a write transaction the rows a command reads are locked until it commits
    /// (`FOR UPDATE`), so no other machine changes them between the check and the change.
    fn lock_suffix(&self) -> &'static str {
        match self.session {
            Session::Transaction(_) => " FOR UPDATE",
            Session::Autocommit(_) | Session::Snapshot(_) => "",
        }
    }

    /// Each statement is sent unnamed, parsed and run in one round trip (see `link`).
    fn query(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>> {
        self.link().query(sql, params)
    }

    fn query_opt(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Option<Row>> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    fn execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64> {
        self.link().execute(sql, params)
    }

    /// Calls `visit` with each row as it arrives, without collecting them.
    fn for_each_row(
        &self,
        sql: &str,
        params: &Params,
        visit: &mut dyn FnMut(&Row) -> Result<()>,
    ) -> Result<()> {
        let params: Vec<&(dyn ToSql + Sync)> = params.iter().map(AsRef::as_ref).collect();
        self.link().for_each_row(sql, &params, visit)
    }

    fn tokens(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<TokenRecord>> {
        self.query(sql, params)?
            .iter()
            .map(|row| Ok(token_from_row(row)?))
            .collect()
    }

    fn token(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Option<TokenRecord>> {
        Ok(self.tokens(sql, params)?.into_iter().next())
    }
}

/// A filter's value as PostgreSQL binds it.
fn sql_value(value: FilterValue) -> Box<dyn ToSql + Sync> {
    match value {
        FilterValue::Integer(number) => Box::new(number),
        FilterValue::Text(text) => Box::new(text),
    }
}

fn time(row: &Row, index: usize) -> Result<Option<DateTime<Utc>>, tokio_postgres::Error> {
    Ok(row.try_get::<_, Option<i64>>(index)?.map(from_secs))
}

fn scopes(row: &Row, index: usize) -> Result<Vec<String>, tokio_postgres::Error> {
    Ok(split_scopes(&row.try_get::<_, String>(index)?))
}

fn failure_from_row(row: &Row) -> Result<FailureCount, tokio_postgres::Error> {
    Ok(FailureCount {
        token_id: row.try_get(0)?,
        reason: row.try_get(1)?,
        failures: row.try_get(2)?,
        first_at: from_secs(row.try_get(3)?),
        last_at: from_secs(row.try_get(4)?),
        unlogged: row.try_get(5)?,
        logged_at: time(row, 6)?,
    })
}

fn token_from_row(row: &Row) -> Result<TokenRecord, tokio_postgres::Error> {
    Ok(TokenRecord {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        app: row.try_get(2)?,
        scopes: scopes(row, 3)?,
        note: row.try_get(4)?,
        secret_hash: row.try_get(5)?,
        secret_tail: row.try_get(6)?,
        secret_key_hash: row.try_get(7)?,
        created_at: from_secs(row.try_get(8)?),
        expires_at: time(row, 9)?,
        last_used_at: time(row, 10)?,
        revoked_at: time(row, 11)?,
        revoke_reason: row.try_get(12)?,
        secret_key_used_at: time(row, 13)?,
        rotated_from: row.try_get(14)?,
        replaced_by: row.try_get(15)?,
        lineage: row.try_get(16)?,
        controls: Controls {
            refresh_window: row
                .try_get::<_, Option<i64>>(26)?
                .map(chrono::Duration::seconds),
            disabled_batch: row.try_get(27)?,
            ..controls(row, 17)?
        },
        waits_for: row.try_get(24)?,
        first_use_ends: row.try_get(25)?,
    })
}

/// The controls in the seven columns from `first` on (see `COLUMNS`, `VERIFY_COLUMNS`).
fn controls(row: &Row, first: usize) -> Result<Controls, tokio_postgres::Error> {
    Ok(Controls {
        disabled_at: time(row, first)?,
        disable_reason: row.try_get(first + 1)?,
        uses_limit: row.try_get(first + 2)?,
        uses_epoch: row.try_get(first + 3)?,
        uses_spent: row.try_get(first + 4)?,
        allow_from: split_nets(row.try_get(first + 5)?),
        meta: split_meta(row.try_get(first + 6)?),
        // Read only with the whole row ([`token_from_row`]): verify has no use for them.
        disabled_batch: None,
        refresh_window: None,
    })
}

impl PgStore<'_> {
    /// `lookup` of each presented token (`id`, its secret's SHA-256) sent together
    /// (`verify --batch`'s lines already waiting): one transaction, one statement prepared for
    /// it, two round trips whatever their number (see `Link::query_prepared_together`); `None`
    /// for a vault from before the functions.
    pub(super) fn lookup_many(
        &self,
        presented: &[(String, [u8; 32])],
    ) -> Result<Option<Vec<Lookup>>> {
        if !self.functions {
            return Ok(None);
        }
        let sql = format!("SELECT * FROM {}.lookup($1, $2)", self.link().schema());
        let secrets: Vec<&[u8]> = presented
            .iter()
            .map(|(_, secret)| secret.as_slice())
            .collect();
        let statements: Vec<(&str, Vec<&(dyn ToSql + Sync)>)> = presented
            .iter()
            .zip(&secrets)
            .map(|((id, _), secret)| {
                let params: Vec<&(dyn ToSql + Sync)> = vec![id, secret];
                (sql.as_str(), params)
            })
            .collect();
        let params: Vec<Vec<&(dyn ToSql + Sync)>> =
            statements.into_iter().map(|(_, params)| params).collect();
        let answers = self.link().query_prepared_together(
            &sql,
            &[
                tokio_postgres::types::Type::TEXT,
                tokio_postgres::types::Type::BYTEA,
            ],
            &params,
        )?;
        presented
            .iter()
            .zip(answers)
            .map(|((id, _), rows)| lookup_from_rows(id, &rows?))
            .collect::<Result<Vec<_>>>()
            .map(Some)
    }
}

/// What `lookup` answered (one row).
fn lookup_from_rows(id: &str, rows: &[Row]) -> Result<Lookup> {
    let row = rows
        .first()
        .ok_or_else(|| anyhow::anyhow!("the vault's lookup function answered no row"))?;
    let known: bool = row.try_get(0)?;
    let matched: bool = row.try_get::<_, Option<bool>>(1)?.unwrap_or(false);
    let record = if matched {
        Some(verify_record_from_lookup(id, row)?)
    } else {
        None
    };
    Ok(Lookup {
        known,
        record,
        failure_counted: known && !matched,
        now: time(row, 16)?,
    })
}

/// The token `lookup` (schema.rs) described, its secret matched; no hash.
fn verify_record_from_lookup(id: &str, row: &Row) -> Result<VerifyRecord, tokio_postgres::Error> {
    Ok(VerifyRecord {
        id: id.to_owned(),
        name: row.try_get(2)?,
        app: row.try_get(3)?,
        scopes: scopes(row, 4)?,
        secret_hash: Vec::new(),
        expires_at: time(row, 5)?,
        last_used_at: time(row, 6)?,
        revoked_at: time(row, 7)?,
        controls: controls(row, 8)?,
        ends_on_first_use: row.try_get(15)?,
    })
}

impl Store for PgStore<'_> {
    fn lookup_for_verify(&self, id: &str, secret: &[u8; 32]) -> Result<Lookup> {
        if !self.functions {
            // A vault from before the functions: as then (the trait's default).
            return crate::vault::store::lookup_here(self, id, secret);
        }
        let rows = self.call("lookup($1, $2)", &[&id, &secret.as_slice()])?;
        lookup_from_rows(id, &rows)
    }

    fn record_last_use(&self, id: &str, secret: &[u8; 32], at: DateTime<Utc>) -> Result<()> {
        if !self.functions {
            return self.touch_last_used(id, at);
        }
        self.call("touch_last_use($1, $2)", &[&id, &secret.as_slice()])?;
        Ok(())
    }

    fn record_last_uses(&self, uses: &[(&str, &[u8; 32], DateTime<Utc>)]) -> Result<()> {
        if !self.functions {
            for (id, _, at) in uses {
                self.touch_last_used(id, *at)?;
            }
            return Ok(());
        }
        let sql = format!("SELECT {}.touch_last_use($1, $2)", self.link().schema());
        let secrets: Vec<&[u8]> = uses
            .iter()
            .map(|(_, secret, _)| secret.as_slice())
            .collect();
        let statements: Vec<(&str, Vec<&(dyn ToSql + Sync)>)> = uses
            .iter()
            .zip(&secrets)
            .map(|((id, _, _), secret)| {
                let params: Vec<&(dyn ToSql + Sync)> = vec![id, secret];
                (sql.as_str(), params)
            })
            .collect();
        for answer in self.link().query_together(&statements)? {
            answer?;
        }
        Ok(())
    }

    fn record_first_use(&self, id: &str, secret: &[u8; 32], at: DateTime<Utc>) -> Result<()> {
        if !self.functions {
            return crate::vault::store::record_first_use_here(self, id, secret, at);
        }
        self.call("record_first_use($1, $2)", &[&id, &secret.as_slice()])?;
        Ok(())
    }

    fn record_failures(
        &self,
        id: &str,
        secret: &[u8; 32],
        reason: &str,
        failures: i64,
        first_at: DateTime<Utc>,
        last_at: DateTime<Utc>,
    ) -> Result<()> {
        if self.functions {
            self.call(
                "count_failures($1, $2, $3, $4)",
                &[&id, &secret.as_slice(), &reason, &failures],
            )?;
            return Ok(());
        }
        // As before the functions (the trait's default).
        crate::vault::store::count_failures_here(self, id, reason, failures, first_at, last_at)
    }

    fn find_by_id(&self, id: &str) -> Result<Option<TokenRecord>> {
        let sql = format!(
            "SELECT {} FROM tokens WHERE id = $1{}",
            self.columns,
            self.lock_suffix()
        );
        self.token(&sql, &[&id])
    }

    fn find_by_ids(&self, ids: &[&str]) -> Result<Vec<TokenRecord>> {
        let sql = format!(
            "SELECT {} FROM tokens WHERE id = ANY($1){}",
            self.columns,
            self.lock_suffix()
        );
        self.tokens(&sql, &[&ids])
    }

    fn find_for_verify(&self, id: &str) -> Result<Option<VerifyRecord>> {
        // Formatted once: the same text every time.
        static LOOKUP: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
            format!("SELECT {VERIFY_COLUMNS} FROM tokens WHERE id = $1")
        });
        let row = self.query_opt(&LOOKUP, &[&id])?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(VerifyRecord {
            id: row.try_get(0)?,
            name: row.try_get(1)?,
            app: row.try_get(2)?,
            scopes: scopes(&row, 3)?,
            secret_hash: row.try_get(4)?,
            expires_at: time(&row, 5)?,
            last_used_at: time(&row, 6)?,
            revoked_at: time(&row, 7)?,
            controls: controls(&row, 8)?,
            ends_on_first_use: row.try_get(15)?,
        }))
    }

    fn find_by_name(&self, name: &str) -> Result<Option<TokenRecord>> {
        let sql = format!(
            "SELECT {} FROM tokens WHERE name = $1 \
             ORDER BY (revoked_at IS NULL) DESC, seq DESC LIMIT 1{}",
            self.columns,
            self.lock_suffix()
        );
        self.token(&sql, &[&name])
    }

    fn live_by_name(&self, name: &str) -> Result<Option<TokenRecord>> {
        let sql = format!(
            "SELECT {} FROM tokens WHERE name = $1 AND revoked_at IS NULL{}",
            self.columns,
            self.lock_suffix()
        );
        self.token(&sql, &[&name])
    }

    fn verifying_where(
        &self,
        column: Column,
        value: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<TokenRecord>> {
        let sql = format!(
            "SELECT {} FROM tokens WHERE {} = $1 AND ({REVOKED_AT} IS NULL OR {REVOKED_AT} > $2) \
             ORDER BY seq{}",
            self.columns,
            column.as_sql(),
            self.lock_suffix()
        );
        self.tokens(&sql, &[&value, &to_secs(now)])
    }

    fn list(
        &self,
        filter: &ListFilter,
        now: DateTime<Utc>,
        visit: &mut dyn FnMut(TokenRecord) -> Result<()>,
    ) -> Result<()> {
        let (conditions, values) = filter.conditions(now, &DIALECT);
        let params: Params = values.into_iter().map(sql_value).collect();
        // `$1 = $1` uses the first parameter whatever the filter, so its type is always known.
        let mut sql = format!("SELECT {} FROM tokens WHERE $1::bigint = $1", self.columns);
        for condition in &conditions {
            sql.push_str(" AND ");
            sql.push_str(condition);
        }
        sql.push_str(" ORDER BY seq");
        self.for_each_row(&sql, &params, &mut |row| visit(token_from_row(row)?))
    }

    fn live_tokens_for_completion(
        &self,
        prefix: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<LiveToken>> {
        // Byte order (COLLATE "C"), as SQLite sorts, whatever the database's locale.
        let rows = self.query(
            &format!(
                "SELECT id, name, app FROM tokens \
                 WHERE ({REVOKED_AT} IS NULL OR {REVOKED_AT} > $1) \
                 AND (left(name, length($2)) = $2 OR left(id, length($2)) = $2) \
                 ORDER BY name COLLATE \"C\", id COLLATE \"C\""
            ),
            &[&to_secs(now), &prefix],
        )?;
        rows.iter()
            .map(|row| {
                Ok(LiveToken {
                    id: row.try_get(0)?,
                    name: row.try_get(1)?,
                    app: row.try_get(2)?,
                })
            })
            .collect()
    }

    fn insert(&self, token: &NewToken) -> Result<()> {
        self.execute(
            "INSERT INTO tokens (id, name, app, scopes, note, secret_hash, secret_tail, secret_key_hash, \
             created_at, expires_at, rotated_from, lineage, disabled_at, disable_reason, uses_limit, \
             allow_from, meta, first_use_ends, refresh_window, disabled_batch) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, \
             $19, $20)",
            &[
                &token.id,
                &token.name,
                &token.app,
                &join_scopes(&token.scopes),
                &token.note,
                &token.secret_hash.as_slice(),
                &token.secret_tail,
                &token.secret_key_hash.as_ref().map(|hash| hash.as_slice()),
                &to_secs(token.created_at),
                &token.expires_at.map(to_secs),
                &token.rotated_from,
                &token.lineage,
                &token.controls.disabled_at.map(to_secs),
                &token.controls.disable_reason,
                &token.controls.uses_limit,
                &token.controls.allow_from_column(),
                &token.controls.meta_column(),
                &token.first_use_ends,
                &token.controls.refresh_window.map(|window| window.num_seconds()),
                &token.controls.disabled_batch,
            ],
        )?;
        Ok(())
    }

    fn wait_for_first_use(&self, id: &str, successor: &str) -> Result<()> {
        self.execute(
            "UPDATE tokens SET waits_for = $2 WHERE id = $1",
            &[&id, &successor],
        )?;
        Ok(())
    }

    fn set_revoked(
        &self,
        id: &str,
        at: DateTime<Utc>,
        reason: &str,
        replaced_by: Option<&str>,
    ) -> Result<()> {
        self.execute(
            "UPDATE tokens SET revoked_at = $2, revoke_reason = $3, \
             replaced_by = coalesce($4, replaced_by) WHERE id = $1",
            &[&id, &to_secs(at), &reason, &replaced_by],
        )?;
        Ok(())
    }

    fn cancel_rotation(&self, id: &str) -> Result<()> {
        self.execute(
            "UPDATE tokens SET revoked_at = NULL, revoke_reason = NULL, replaced_by = NULL, \
             waits_for = NULL WHERE id = $1",
            &[&id],
        )?;
        Ok(())
    }

    fn mark_secret_key_used(&self, id: &str, at: DateTime<Utc>) -> Result<()> {
        self.execute(
            "UPDATE tokens SET secret_key_used_at = $2 WHERE id = $1",
            &[&id, &to_secs(at)],
        )?;
        Ok(())
    }

    fn apply_edit(&self, id: &str, edit: &Edit) -> Result<()> {
        let mut assignments: Vec<String> = Vec::new();
        let mut params: Params = vec![Box::new(id.to_owned())];
        let mut set = |column: &str, value: Box<dyn ToSql + Sync>| {
            params.push(value);
            assignments.push(format!("{column} = ${}", params.len()));
        };
        if let Some(name) = &edit.name {
            set("name", Box::new(name.clone()));
        }
        if let Some(app) = &edit.app {
            set("app", Box::new(app.clone()));
        }
        if let Some(scopes) = &edit.scopes {
            set("scopes", Box::new(join_scopes(scopes)));
        }
        if let Some(expires_at) = edit.expires_at {
            set("expires_at", Box::new(expires_at.map(to_secs)));
        }
        if let Some(note) = &edit.note {
            set("note", Box::new(note.clone()));
        }
        if let Some(limit) = edit.uses_limit {
            set("uses_limit", Box::new(limit));
        }
        if let Some(nets) = &edit.allow_from {
            set("allow_from", Box::new(nets.as_deref().map(join_nets)));
        }
        if let Some(meta) = &edit.meta {
            set("meta", Box::new(meta_column(meta)));
        }
        if let Some(window) = edit.refresh_window {
            set(
                "refresh_window",
                Box::new(window.map(|window| window.num_seconds())),
            );
        }
        if assignments.is_empty() {
            return Ok(());
        }
        if edit.uses_limit.is_some() {
            // Uses spent so far stop counting: the new limit is counted from now.
            assignments.push("uses_epoch = uses_epoch + 1".into());
        }
        let sql = format!("UPDATE tokens SET {} WHERE id = $1", assignments.join(", "));
        let params: Vec<&(dyn ToSql + Sync)> = params.iter().map(|param| param.as_ref()).collect();
        self.execute(&sql, &params)?;
        Ok(())
    }

    /// Never waits for a row another session holds (a verifier may lock any row of this
    /// table: `tokens grants` gives it UPDATE on a column): a held row keeps its last use, which
    /// is at most a minute old anyway. A row not there yet is inserted (waiting, within the
    /// bookkeeping's patience, only for another session inserting the same one).
    fn touch_last_used(&self, id: &str, at: DateTime<Utc>) -> Result<()> {
        self.execute(
            "WITH free AS (SELECT token_id FROM token_usage WHERE token_id = $1 \
                           FOR UPDATE SKIP LOCKED), \
                  bumped AS (UPDATE token_usage u SET last_used_at = greatest(u.last_used_at, $2), \
                             first_used_at = coalesce(u.first_used_at, $2) \
                             FROM free WHERE u.token_id = free.token_id RETURNING 1) \
             INSERT INTO token_usage (token_id, last_used_at, first_used_at) \
             SELECT $1, $2, $2 WHERE NOT EXISTS (SELECT 1 FROM token_usage WHERE token_id = $1) \
             ON CONFLICT (token_id) DO NOTHING",
            &[&id, &to_secs(at)],
        )?;
        Ok(())
    }

    fn mark_first_use(&self, id: &str, at: DateTime<Utc>) -> Result<()> {
        self.execute(
            "INSERT INTO token_usage (token_id, last_used_at, first_used_at) VALUES ($1, $2, $2) \
             ON CONFLICT (token_id) DO UPDATE SET \
             last_used_at = greatest(token_usage.last_used_at, excluded.last_used_at), \
             first_used_at = coalesce(token_usage.first_used_at, excluded.first_used_at)",
            &[&id, &to_secs(at)],
        )?;
        Ok(())
    }

    fn set_disabled(&self, id: &str, disabled: Option<Disabling<'_>>) -> Result<()> {
        let (at, reason, batch) = match disabled {
            Some(disabling) => (Some(disabling.at), disabling.reason, Some(disabling.batch)),
            None => (None, None, None),
        };
        self.execute(
            "UPDATE tokens SET disabled_at = $2, disable_reason = $3, disabled_batch = $4 \
             WHERE id = $1",
            &[&id, &at.map(to_secs), &reason, &batch],
        )?;
        Ok(())
    }

    /// The conflicting row is locked and read at its latest version (READ COMMITTED): a
    /// verifier that waited for another's spend counts on from what that one left.
    fn spend_use(
        &self,
        id: &str,
        secret: &[u8; 32],
        epoch: i64,
        limit: i64,
        at: DateTime<Utc>,
    ) -> Result<Option<i64>> {
        if self.functions {
            // The function reads the limit and the epoch itself; `None` when none was left.
            let rows = self.call("spend_use($1, $2, $3)", &[&id, &secret.as_slice(), &epoch])?;
            return Ok(rows
                .first()
                .map(|row| row.try_get::<_, Option<i64>>(0))
                .transpose()?
                .flatten());
        }
        let row = self.query_opt(
            "INSERT INTO token_usage AS u (token_id, last_used_at, uses_spent, uses_epoch) \
             SELECT $1::text, $2::bigint, 1, $3::bigint WHERE $4::bigint >= 1 \
             ON CONFLICT (token_id) DO UPDATE SET \
             last_used_at = greatest(u.last_used_at, excluded.last_used_at), \
             uses_spent = CASE WHEN u.uses_epoch = excluded.uses_epoch THEN u.uses_spent + 1 ELSE 1 END, \
             uses_epoch = excluded.uses_epoch \
             WHERE u.uses_epoch < excluded.uses_epoch \
             OR (u.uses_epoch = excluded.uses_epoch AND u.uses_spent < $4::bigint) \
             RETURNING u.uses_spent",
            &[&id, &to_secs(at), &epoch, &limit],
        )?;
        Ok(row.map(|row| row.try_get(0)).transpose()?)
    }

    fn log_event(
        &self,
        at: DateTime<Utc>,
        token_id: Option<&str>,
        kind: &str,
        detail: &str,
    ) -> Result<()> {
        self.execute(
            "INSERT INTO events (at, token_id, kind, detail) VALUES ($1, $2, $3, $4)",
            &[&to_secs(at), &token_id, &kind, &detail],
        )?;
        Ok(())
    }

    /// The highest number committed, then (a second statement, so after it) the transactions
    /// that hold `events` open for writing. Numbers are drawn in rising order, so every number
    /// below the highest visible one was drawn before it was read; an INSERT locks the table
    /// (ROW EXCLUSIVE) before it draws a number and keeps the lock until its transaction ends,
    /// after its rows became visible. So every event numbered up to `seq` is settled once these
    /// transactions are gone, whoever wrote it and whatever other lock it took or skipped.
    /// Transactions in other databases or on other tables never hold the log up; `pg_locks` is
    /// readable by every role, so SELECT on `events` is all a reader needs.
    fn log_mark(&self) -> Result<LogMark> {
        let rows = self.query("SELECT coalesce(max(seq), 0) FROM events", &[])?;
        let seq: i64 = rows[0].try_get(0)?;
        // pg_stat_activity names the session to every role; when its transaction began, only
        // to roles that may see that session's activity (NULL otherwise). The catalog's views
        // are named with their schema: a TEMP table of the same name, which any session with
        // TEMP may plant on a pooled connection, would otherwise hide the writers.
        let rows = self.query(
            "SELECT DISTINCT l.virtualtransaction, l.pid, a.usename::text, \
             extract(epoch FROM a.xact_start)::bigint FROM pg_catalog.pg_locks l \
             LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid \
             WHERE l.locktype = 'relation' AND l.relation = 'events'::regclass \
             AND l.database = (SELECT oid FROM pg_catalog.pg_database \
             WHERE datname = pg_catalog.current_database()) \
             AND l.mode = 'RowExclusiveLock' AND l.granted",
            &[],
        )?;
        let writers = rows
            .iter()
            .map(|row| {
                Ok(LogWriter {
                    transaction: row.try_get(0)?,
                    pid: row.try_get(1)?,
                    role: row.try_get(2)?,
                    since: row.try_get::<_, Option<i64>>(3)?.map(from_secs),
                })
            })
            .collect::<Result<_>>()?;
        Ok(LogMark { seq, writers })
    }

    fn events_committed_through(&self, after: i64) -> Result<i64> {
        // Numbers one after another keep `seq - row_number()` at `after`; the first missing
        // number raises it.
        let rows = self.query(
            "SELECT coalesce(max(seq), $1) FROM (SELECT seq, seq - row_number() OVER \
             (ORDER BY seq) AS shift FROM (SELECT seq FROM events WHERE seq > $1 \
             ORDER BY seq LIMIT $2) ahead) numbered WHERE shift = $1",
            &[&after, &COMMITTED_RUN],
        )?;
        Ok(rows[0].try_get(0)?)
    }

    fn policy(&self) -> Result<Policy> {
        let row = self.query_opt(
            "SELECT max_lifetime, default_lifetime, require_app, scopes, max_refresh_window, \
             default_refresh_window FROM policy",
            &[],
        )?;
        let Some(row) = row else {
            return Ok(Policy::default());
        };
        Ok(Policy {
            max_lifetime: row
                .try_get::<_, Option<i64>>(0)?
                .map(chrono::Duration::seconds),
            default_lifetime: row
                .try_get::<_, Option<i64>>(1)?
                .map(chrono::Duration::seconds),
            require_app: row.try_get(2)?,
            scopes: row
                .try_get::<_, Option<String>>(3)?
                .map(|scopes| split_scopes(&scopes)),
            max_refresh_window: row
                .try_get::<_, Option<i64>>(4)?
                .map(chrono::Duration::seconds),
            default_refresh_window: row
                .try_get::<_, Option<i64>>(5)?
                .map(chrono::Duration::seconds),
        })
    }

    fn set_policy(&self, policy: &Policy) -> Result<()> {
        self.execute(
            "INSERT INTO policy (singleton, max_lifetime, default_lifetime, require_app, scopes, \
             max_refresh_window, default_refresh_window) \
             VALUES (true, $1, $2, $3, $4, $5, $6) ON CONFLICT (singleton) DO UPDATE SET \
             max_lifetime = excluded.max_lifetime, default_lifetime = excluded.default_lifetime, \
             require_app = excluded.require_app, scopes = excluded.scopes, \
             max_refresh_window = excluded.max_refresh_window, \
             default_refresh_window = excluded.default_refresh_window",
            &[
                &policy.max_lifetime.map(|d| d.num_seconds()),
                &policy.default_lifetime.map(|d| d.num_seconds()),
                &policy.require_app,
                &policy.scopes.as_deref().map(join_scopes),
                &policy.max_refresh_window.map(|d| d.num_seconds()),
                &policy.default_refresh_window.map(|d| d.num_seconds()),
            ],
        )?;
        Ok(())
    }

    fn events(
        &self,
        filter: &EventFilter,
        visit: &mut dyn FnMut(Event) -> Result<()>,
    ) -> Result<()> {
        let (sql, values) = filter.query(&DIALECT);
        let params: Params = values.into_iter().map(sql_value).collect();
        self.for_each_row(&sql, &params, &mut |row| {
            visit(Event {
                seq: row.try_get(0)?,
                at: from_secs(row.try_get(1)?),
                token_id: row.try_get(2)?,
                name: row.try_get(3)?,
                kind: row.try_get(4)?,
                detail: row.try_get(5)?,
            })
        })
    }

    fn add_failures(
        &self,
        id: &str,
        reason: &str,
        failures: i64,
        first_at: DateTime<Utc>,
        last_at: DateTime<Utc>,
    ) -> Result<FailureCount> {
        let rows = self.query(
            &format!(
                "INSERT INTO verify_failures \
                 ({FAILURE_COLUMNS}) \
                 VALUES ($1, $2, $3, $4, $5, $3, NULL) \
                 ON CONFLICT (token_id, reason) DO UPDATE SET \
                 failures = verify_failures.failures + excluded.failures, \
                 last_at = greatest(verify_failures.last_at, excluded.last_at), \
                 unlogged = verify_failures.unlogged + excluded.unlogged \
                 RETURNING {FAILURE_COLUMNS}"
            ),
            &[
                &id,
                &reason,
                &failures,
                &to_secs(first_at),
                &to_secs(last_at),
            ],
        )?;
        Ok(failure_from_row(&rows[0])?)
    }

    fn mark_failures_logged(&self, id: &str, reason: &str, at: DateTime<Utc>) -> Result<()> {
        self.execute(
            "UPDATE verify_failures SET unlogged = 0, logged_at = $3 \
             WHERE token_id = $1 AND reason = $2",
            &[&id, &reason, &to_secs(at)],
        )?;
        Ok(())
    }

    fn failure_counts(
        &self,
        token_id: Option<&str>,
        visit: &mut dyn FnMut(FailureCount) -> Result<()>,
    ) -> Result<()> {
        let params: Params = vec![Box::new(token_id.map(str::to_owned))];
        self.for_each_row(
            &format!(
                "SELECT {FAILURE_COLUMNS} \
                 FROM verify_failures WHERE $1::text IS NULL OR token_id = $1 \
                 ORDER BY token_id COLLATE \"C\", reason COLLATE \"C\""
            ),
            &params,
            &mut |row| visit(failure_from_row(row)?),
        )
    }

    fn import_failure_count(&self, count: &FailureCount) -> Result<()> {
        self.execute(
            &format!(
                "INSERT INTO verify_failures \
                 ({FAILURE_COLUMNS}) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)"
            ),
            &[
                &count.token_id,
                &count.reason,
                &count.failures,
                &to_secs(count.first_at),
                &to_secs(count.last_at),
                &count.unlogged,
                &count.logged_at.map(to_secs),
            ],
        )?;
        Ok(())
    }

    fn import_token(&self, record: &TokenRecord) -> Result<()> {
        crate::vault::records::check_hashes(record)?;
        let sql = format!(
            "INSERT INTO tokens ({IMPORTED_COLUMNS}) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, \
             $19, $20, $21, $22, $23, $24, $25, $26)"
        );
        self.execute(
            &sql,
            &[
                &record.id,
                &record.name,
                &record.app,
                &join_scopes(&record.scopes),
                &record.note,
                &record.secret_hash,
                &record.secret_tail,
                &record.secret_key_hash,
                &to_secs(record.created_at),
                &record.expires_at.map(to_secs),
                &record.revoked_at.map(to_secs),
                &record.revoke_reason,
                &record.secret_key_used_at.map(to_secs),
                &record.rotated_from,
                &record.replaced_by,
                &record.lineage,
                &record.controls.disabled_at.map(to_secs),
                &record.controls.disable_reason,
                &record.controls.uses_limit,
                &record.controls.uses_epoch,
                &record.controls.allow_from_column(),
                &record.controls.meta_column(),
                &record.waits_for,
                &record.first_use_ends,
                &record
                    .controls
                    .refresh_window
                    .map(|window| window.num_seconds()),
                &record.controls.disabled_batch,
            ],
        )?;
        Ok(())
    }

    fn usages(&self, visit: &mut dyn FnMut(Usage) -> Result<()>) -> Result<()> {
        self.for_each_row(
            &format!("SELECT {USAGE_COLUMNS} FROM token_usage ORDER BY token_id COLLATE \"C\""),
            &Vec::new(),
            &mut |row| {
                visit(Usage {
                    token_id: row.try_get(0)?,
                    last_used_at: from_secs(row.try_get(1)?),
                    first_used_at: time(row, 2)?,
                    uses_spent: row.try_get(3)?,
                    uses_epoch: row.try_get(4)?,
                })
            },
        )
    }

    fn import_usage(&self, usage: &Usage) -> Result<()> {
        self.execute(
            &format!("INSERT INTO token_usage ({USAGE_COLUMNS}) VALUES ($1, $2, $3, $4, $5)"),
            &[
                &usage.token_id,
                &to_secs(usage.last_used_at),
                &usage.first_used_at.map(to_secs),
                &usage.uses_spent,
                &usage.uses_epoch,
            ],
        )?;
        Ok(())
    }

    fn schema(&self) -> Result<(i64, Option<Marks>)> {
        // Read as JSON: a vault from before the marks has no such columns (a failed statement
        // would end the caller's transaction).
        let rows = self.query(
            "SELECT version::bigint, (to_jsonb(v) ->> 'read_mark')::bigint, \
             (to_jsonb(v) ->> 'verify_mark')::bigint, (to_jsonb(v) ->> 'write_mark')::bigint \
             FROM tokens_vault v",
            &[],
        )?;
        let row = &rows[0];
        let marks = match (row.try_get(1)?, row.try_get(2)?, row.try_get(3)?) {
            (Some(read), Some(verify), Some(write)) => Some(Marks {
                read,
                verify,
                write,
            }),
            _ => None,
        };
        Ok((row.try_get(0)?, marks))
    }

    fn raise_marks(&self, marks: &Marks) -> Result<()> {
        let mark = |version: i64| i32::try_from(version).unwrap_or(i32::MAX);
        self.execute(
            "UPDATE tokens_vault SET read_mark = greatest(read_mark, $1), \
             verify_mark = greatest(verify_mark, $2), write_mark = greatest(write_mark, $3)",
            &[&mark(marks.read), &mark(marks.verify), &mark(marks.write)],
        )?;
        Ok(())
    }

    fn import_events(&self, events: &[Event]) -> Result<()> {
        for event in events {
            self.execute(
                "INSERT INTO events (seq, at, token_id, kind, detail) VALUES ($1, $2, $3, $4, $5)",
                &[
                    &event.seq,
                    &to_secs(event.at),
                    &event.token_id,
                    &event.kind,
                    &event.detail,
                ],
            )?;
        }
        // The identity column's sequence does not follow explicit numbers by itself (the vault
        // was empty: `migrate` checks).
        if let Some(last) = events.iter().map(|event| event.seq).max() {
            self.query(
                "SELECT setval(pg_get_serial_sequence('events', 'seq'), $1::bigint)",
                &[&last],
            )?;
        }
        Ok(())
    }

    fn is_empty(&self) -> Result<bool> {
        let row = self.query(
            "SELECT NOT EXISTS (SELECT 1 FROM tokens) AND NOT EXISTS (SELECT 1 FROM events)",
            &[],
        )?;
        Ok(row[0].try_get(0)?)
    }

    fn raise_verify_mark(&self, version: i64) -> Result<()> {
        let version = i32::try_from(version).unwrap_or(i32::MAX);
        self.execute(
            "UPDATE tokens_vault SET verify_mark = greatest(verify_mark, $1)",
            &[&version],
        )?;
        Ok(())
    }
}
