//! The shared vault: the same tables in a PostgreSQL database, for a team's machines and CI.
//!
//! Writers are serialised as SQLite serialises them: every write transaction first locks the
//! one row of the version table `tokens_vault` (`SELECT … FOR UPDATE`), then reads the rows it
//! will change `FOR UPDATE`. Two machines that rotate, revoke or refresh the same token at once
//! therefore run one after the other, and the second sees what the first committed (a refresh
//! key cannot be spent twice). The lock ends with the transaction, also when a client dies.
//!
//! Only writers can hold that lock: a row lock needs UPDATE on the table, so a role that may
//! only read the vault, or do nothing in it, cannot delay a writer. What such roles can take —
//! advisory locks, `ACCESS SHARE` (SELECT-only: `LOCK TABLE … IN ACCESS SHARE MODE`, or an open
//! transaction that read a table), and the `ROW SHARE`/`ROW EXCLUSIVE` locks even a role with no
//! grants holds by `PREPARE`-ing a statement it may not run — conflict with none of the locks a
//! writer takes (`ROW SHARE` for `FOR UPDATE`, `ROW EXCLUSIVE` for its changes). They do conflict
//! with the `EXCLUSIVE`/`ACCESS EXCLUSIVE` locks a schema migration needs; a migration then
//! gives up after the timeout, naming the sessions that hold locks on the vault's tables
//! (tests/postgres.rs, `readers_and_strangers_holding_every_lock_they_can_do_not_delay_a_revoke`
//! covers changes; tests/roles.rs a migration held up).
//!
//! Verifiers (`tokens grants`, grants.rs) write no table: the vault's own functions
//! (schema.rs) answer their lookups and keep their books, acting only for the holder of a
//! presented secret and only forward, without the write lock ([`PgVault::write_briefly`]): a
//! verifier holds no lock an admin's change waits for (tests/roles.rs,
//! `a_verifier_holding_every_lock_it_can_delays_no_admin_change_and_no_verdict`), and whatever it
//! leaves in its session on a pooled connection changes no verdict (`a_verifier_poisoning_…`).
//!
//! Every wait on the server has a deadline ([`link`]).

pub mod connect;
pub mod grants;
mod link;
mod schema;
mod store;

use std::time::Duration;

use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;

pub use schema::CURRENT_VERSION;
pub use store::PgStore;

use chrono::{DateTime, Utc};

use super::records::{Controls, NewToken, split_meta, split_nets, split_scopes};
use super::store::Store;
use super::{Access, Doing, Marks, RefreshOutcome, allowed_by_marks};
use crate::error::{Error, Result};
use crate::token::Credential;
use link::{Link, Transaction};
use store::Session;

/// Locks the version table's one row: the write lock (see the module's comment).
const WRITE_LOCK: &str = "SELECT version FROM tokens_vault FOR UPDATE";

/// How often a command that met another machine creating the vault at the same moment tries
/// again (it then finds the vault made).
const CREATION_ATTEMPTS: usize = 3;

pub struct PgVault {
    link: Link,
    writable: bool,
    role: Rights,
    /// The vault has its own functions (schema [`schema::FUNCTIONS_SINCE`] on): verdicts and
    /// bookkeeping go through them. Before (a verifier upgraded ahead of the vault), as then.
    functions: bool,
    /// For a vault newer than this binary: its version and marks (SPEC §10).
    newer: Option<(i64, Marks)>,
}

/// What this role may do beyond reading, as `tokens grants` shapes it (grants.rs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Rights {
    /// May record verify's bookkeeping (last use, failure counts and their events).
    bookkeeping: bool,
    /// May verify: run the vault's `lookup` function (or, in a vault from before it, read the
    /// tokens' secret hashes).
    secret_hashes: bool,
    /// May read the secret-key hashes (whole records: refresh, migrate).
    secret_key_hashes: bool,
    /// May read what `list`, `show` and `log` show.
    records: bool,
    /// May run the vault's `refresh` function (a refresher: SPEC §10).
    refresh: bool,
}

impl Rights {
    /// The kind of access a role that may not change tokens was granted, when it is one of
    /// `tokens grants`' kinds.
    fn kind(self) -> Option<&'static str> {
        match self {
            Rights {
                refresh: true,
                bookkeeping: false,
                records: false,
                ..
            } => Some("refresher"),
            Rights {
                bookkeeping: true,
                secret_key_hashes: false,
                ..
            } => Some("verifier"),
            Rights {
                bookkeeping: false,
                secret_hashes: false,
                ..
            } => Some("reader"),
            _ => None,
        }
    }
}

impl PgVault {
    /// Connects to the vault at `url`, creating or migrating its tables when `access` is
    /// `Write`. Every wait on the server (connecting and logging in, each statement, each lock)
    /// gives up after `timeout`.
    pub fn open(url: &str, access: Access, timeout: Duration) -> Result<PgVault> {
        let link = connect::connect(url, timeout).map_err(|error| match error {
            // A URL (or PG* setting) that cannot be read is a usage error, as a bad scheme is.
            connect::ConnectError::BadUrl { .. } => Error::Usage(error.to_string()),
            error => Error::Other(anyhow::anyhow!("{error}")),
        })?;
        let shown = link.shown().to_owned();
        let Inspection {
            version,
            marks,
            writable,
            role,
            schema,
        } = inspect(&link, &connect::requested_schema(url))?;
        let mut newer = None;
        match version {
            Some(found) if found > CURRENT_VERSION => {
                // Newer: its marks say what this binary may do; it is never migrated.
                allowed_by_marks(&shown, found, marks, Doing::Read)?;
                if access == Access::Write {
                    allowed_by_marks(&shown, found, marks, Doing::Change)?;
                }
                newer = marks.map(|marks| (found, marks));
            }
            Some(CURRENT_VERSION) => {}
            // The schema before the vault's functions, and a role that cannot migrate it: a
            // verifier upgraded ahead of the vault verifies as before (the README's order).
            Some(found)
                if found == schema::FUNCTIONS_SINCE - 1 && access == Access::Read && !writable => {}
            None if access == Access::Read => return Err(Error::VaultMissing { vault: shown }),
            None if !writable => {
                return Err(Error::Other(anyhow::anyhow!(
                    "cannot create the vault at {shown}: this role may not create tables there \
                     (the database owner can GRANT CREATE ON SCHEMA public to it, or create the vault)"
                )));
            }
            // Missing (creating it needs Write) or older: bring it up to date under the write lock.
            _ if !writable => return Err(Error::VaultReadOnly { vault: shown }),
            _ => initialise(&link, &schema)?,
        }
        let functions = match version {
            Some(found) => found >= schema::FUNCTIONS_SINCE,
            None => true,
        } || writable;
        if access == Access::Write
            && !writable
            && let Some(kind) = role.kind()
        {
            return Err(Error::RoleRefused(format!(
                "this role may not change tokens at {shown}: it was granted {kind} access \
                 (tokens grants); run this command as an admin role"
            )));
        }
        Ok(PgVault {
            link,
            writable,
            role,
            functions,
            newer,
        })
    }

    /// Refuses `list`, `show` and `log` to a role that may not read what they show (a
    /// verifier): one line instead of the server's "permission denied".
    pub fn may_read(&self) -> Result<()> {
        if self.role.records {
            return Ok(());
        }
        let kind = self.role.kind().unwrap_or("too little");
        Err(Error::RoleRefused(format!(
            "this role may not read tokens' details at {}: it was granted {kind} access \
             (tokens grants); list, show and log need a role granted --kind reader or admin",
            self.link.shown()
        )))
    }

    /// Reads the vault's version and marks again (a newer tokens may have migrated it, or
    /// raised its verify mark, since this one opened it), for [`PgVault::may_verify`].
    pub fn reread_marks(&mut self) -> Result<()> {
        let shown = self.link.shown();
        let rows = self
            .link
            .query("SELECT version::bigint FROM tokens_vault", &[])
            // A lost connection stays recognisable: a batch opens the vault again.
            .map_err(|e| {
                if connection_lost(&e) {
                    e
                } else {
                    name(e, shown)
                }
            })?;
        let found: i64 = rows
            .first()
            .ok_or_else(|| corrupt(shown, "tokens_vault has no row"))?
            .try_get(0)?;
        self.newer = None;
        if found > CURRENT_VERSION {
            let marks = read_marks(&self.link);
            allowed_by_marks(shown, found, marks, Doing::Read)?;
            self.newer = marks.map(|marks| (found, marks));
        }
        Ok(())
    }

    /// See [`crate::vault::Vault::may_verify`]; also refuses a role that may not read the
    /// secret hashes (a reader).
    pub fn may_verify(&self) -> Result<()> {
        let shown = self.link.shown();
        if let Some((found, marks)) = self.newer {
            allowed_by_marks(shown, found, Some(marks), Doing::Verify)?;
        }
        if !self.role.secret_hashes {
            let kind = self.role.kind().unwrap_or("no verifier");
            return Err(Error::RoleRefused(format!(
                "this role may not verify tokens at {shown}: it was granted {kind} access \
                 (tokens grants); verifying needs a role granted --kind verifier"
            )));
        }
        Ok(())
    }

    /// See [`super::Vault::lookup_many`].
    pub fn lookup_many(
        &self,
        presented: &[(String, [u8; 32])],
    ) -> Result<Option<Vec<super::Lookup>>> {
        let shown = self.link.shown();
        self.store().lookup_many(presented).map_err(|e| {
            if connection_lost(&e) {
                e
            } else {
                name(e, shown)
            }
        })
    }

    /// True while PUBLIC may create TEMP tables in the vault's database (`tokens grants`' second
    /// block revokes it).
    pub fn public_has_temp(&self) -> Result<bool> {
        let rows = self.link.query(
            "SELECT has_database_privilege('public', current_database(), 'TEMPORARY')",
            &[],
        )?;
        let row = rows
            .first()
            .ok_or_else(|| corrupt(self.link.shown(), "the server answered no row"))?;
        Ok(row.try_get(0)?)
    }

    /// False for a vault this role may read but not write (or a read-only replica).
    pub fn writable(&self) -> bool {
        self.writable
    }

    /// Queries outside a transaction (each statement on its own).
    pub fn store(&self) -> PgStore<'_> {
        PgStore::new(
            Session::Autocommit(&self.link),
            self.role.secret_key_hashes,
            self.functions,
        )
    }

    /// Runs `read` in one `REPEATABLE READ, READ ONLY` transaction: every statement sees the
    /// same snapshot, whatever this role may do (`migrate` copies and checks one state).
    pub fn snapshot<T>(&self, read: impl FnOnce(&dyn Store) -> Result<T>) -> Result<T> {
        let shown = self.link.shown();
        let transaction = self.link.begin_snapshot().map_err(|e| name(e, shown))?;
        let store = PgStore::new(
            Session::Snapshot(transaction),
            self.role.secret_key_hashes,
            self.functions,
        );
        let value = read(&store)?;
        if let Some(transaction) = store.into_transaction() {
            transaction.commit().map_err(|e| name(e, shown))?;
        }
        Ok(value)
    }

    /// Runs `change` in one transaction that holds the vault's write lock: committed when it
    /// returns `Ok`, rolled back otherwise.
    pub fn write<T>(&mut self, change: impl FnOnce(&dyn Store) -> Result<T>) -> Result<T> {
        // Locks may take the whole timeout.
        self.write_within(Duration::MAX, change)
    }

    /// Verify's bookkeeping (last use, failure counts and their events): one transaction that
    /// waits at most `patience` for any lock and gives up quietly. It takes no write lock, so
    /// a verifier role (`tokens grants`) records what an admin's verify would, and neither
    /// holds the other up; a last use skips a row another session holds (store.rs).
    pub fn write_briefly(
        &mut self,
        patience: Duration,
        change: impl FnOnce(&dyn Store) -> Result<()>,
    ) {
        if self.role.bookkeeping {
            let _ = self.bookkeep_within(patience, change);
        }
    }

    /// Runs `change` in a transaction that takes no lock up front: only the row locks its
    /// statements take, each waiting at most the timeout (see [`super::Vault::record_use`]).
    /// A role that may not write them, or a read-only replica, is [`Error::VaultReadOnly`].
    pub fn record_use<T>(&mut self, change: impl FnOnce(&dyn Store) -> Result<T>) -> Result<T> {
        let shown = self.link.shown();
        let (transaction, _) = self
            .link
            .begin(Duration::MAX, "SELECT 1")
            .map_err(|e| name(e, shown))?;
        let store = PgStore::new(Session::Transaction(transaction), true, self.functions);
        let value = change(&store).map_err(|e| name(e, shown))?;
        if let Some(transaction) = store.into_transaction() {
            transaction.commit().map_err(|e| name(e, shown))?;
        }
        Ok(value)
    }

    fn bookkeep_within<T>(
        &mut self,
        patience: Duration,
        change: impl FnOnce(&dyn Store) -> Result<T>,
    ) -> Result<T> {
        let (transaction, version) = self
            .link
            .begin(patience, "SELECT version FROM tokens_vault")?;
        let found = version.and_then(|version| version.parse::<i64>().ok());
        if found.is_none_or(|found| found > CURRENT_VERSION) {
            // Migrated by a newer tokens since this one opened it: only where its verify
            // mark allows.
            let marks = read_marks(transaction.link());
            allowed_by_marks(
                self.link.shown(),
                found.unwrap_or(i64::MAX),
                marks,
                Doing::Verify,
            )?;
        }
        let store = PgStore::new(Session::Transaction(transaction), true, self.functions);
        let value = change(&store)?;
        if let Some(transaction) = store.into_transaction() {
            transaction.commit()?;
        }
        Ok(value)
    }

    /// [`PgVault::write`], waiting at most `patience` for the write lock.
    fn write_within<T>(
        &mut self,
        patience: Duration,
        change: impl FnOnce(&dyn Store) -> Result<T>,
    ) -> Result<T> {
        let shown = self.link.shown();
        let transaction = begin_write(&self.link, patience).map_err(|e| name(e, shown))?;
        let store = PgStore::new(Session::Transaction(transaction), true, self.functions);
        let value = change(&store)?;
        if let Some(transaction) = store.into_transaction() {
            transaction.commit().map_err(|e| name(e, shown))?;
        }
        Ok(value)
    }
}

/// The vault's refresh function (schema.rs), as the catalog names its signature.
const REFRESH_FUNCTION: &str = "refresh(text, bytea, bytea, text, bytea, text, bytea)";

impl PgVault {
    /// `tokens refresh` by a refresher role (SPEC §10): the vault's `refresh` function applies
    /// every refresh rule under the write lock and writes the events; this role only draws the
    /// new token (`new_token`, `new_key`). `None` when this role may not run it.
    pub fn refresh(
        &mut self,
        token: &Credential,
        key: &Credential,
        new_token: &Credential,
        new_key: &Credential,
    ) -> Result<Option<RefreshOutcome>> {
        if !self.functions || !self.role.refresh {
            return Ok(None);
        }
        let shown = self.link.shown();
        let (transaction, _) = self
            .link
            .begin(Duration::MAX, "SELECT 1")
            .map_err(|e| name(e, shown))?;
        let rows = transaction
            .link()
            .query(
                &format!(
                    "SELECT * FROM {}.{REFRESH_FUNCTION_CALL}",
                    self.link.schema()
                ),
                &[
                    &token.id(),
                    &token.secret_hash().as_slice(),
                    &key.secret_hash().as_slice(),
                    &new_token.id(),
                    &new_token.secret_hash().as_slice(),
                    &new_token.secret_tail(),
                    &new_key.secret_hash().as_slice(),
                ],
            )
            .map_err(|e| name(e, shown))?;
        transaction.commit().map_err(|e| name(e, shown))?;
        let row = rows
            .first()
            .ok_or_else(|| corrupt(shown, "its refresh function answered no row"))?;
        refresh_outcome(row, token.id(), new_token, new_key).map(Some)
    }
}

/// How the refresh function is called (see [`REFRESH_FUNCTION`]).
const REFRESH_FUNCTION_CALL: &str = "refresh($1, $2, $3, $4, $5, $6, $7)";

/// The refresh function's answer (schema.rs) as the outcome `tokens refresh` reports.
fn refresh_outcome(
    row: &tokio_postgres::Row,
    id: &str,
    new_token: &Credential,
    new_key: &Credential,
) -> Result<RefreshOutcome> {
    let outcome: String = row.try_get(0)?;
    let name: String = row.try_get::<_, Option<String>>(1)?.unwrap_or_default();
    let time = |index: usize| -> Result<Option<DateTime<Utc>>> {
        Ok(row.try_get::<_, Option<i64>>(index)?.map(super::from_secs))
    };
    Ok(match outcome.as_str() {
        "refreshed" => RefreshOutcome::Refreshed(Box::new(NewToken {
            id: new_token.id().to_owned(),
            name,
            app: row.try_get(4)?,
            scopes: split_scopes(&row.try_get::<_, String>(5)?),
            note: row.try_get(6)?,
            secret_hash: new_token.secret_hash(),
            secret_tail: new_token.secret_tail(),
            secret_key_hash: Some(new_key.secret_hash()),
            created_at: time(7)?.unwrap_or_else(Utc::now),
            expires_at: time(8)?,
            rotated_from: Some(id.to_owned()),
            lineage: row.try_get(9)?,
            first_use_ends: row.try_get(15)?,
            controls: Controls {
                disabled_at: time(10)?,
                disable_reason: row.try_get(11)?,
                disabled_batch: row.try_get(17)?,
                refresh_window: row
                    .try_get::<_, Option<i64>>(16)?
                    .map(chrono::Duration::seconds),
                uses_limit: row.try_get(12)?,
                uses_epoch: 0,
                uses_spent: 0,
                allow_from: split_nets(row.try_get(13)?),
                meta: split_meta(row.try_get(14)?),
            },
        })),
        "no_secret_key" => RefreshOutcome::NoSecretKey { name },
        "reuse_detected" => RefreshOutcome::ReuseDetected {
            name,
            revoked: usize::try_from(row.try_get::<_, Option<i64>>(2)?.unwrap_or(0)).unwrap_or(0),
        },
        "revoked" => RefreshOutcome::Revoked {
            name,
            rotated: row.try_get::<_, Option<bool>>(3)?.unwrap_or(false),
        },
        "window_ended" => RefreshOutcome::WindowEnded {
            name,
            expired_at: time(8)?.unwrap_or_else(Utc::now),
            window: chrono::Duration::seconds(row.try_get::<_, Option<i64>>(16)?.unwrap_or(0)),
        },
        "disabled" => RefreshOutcome::Disabled { name },
        "used_up" => RefreshOutcome::UsedUp { name },
        _ => RefreshOutcome::Invalid,
    })
}

/// Starts a write transaction and takes the vault's write lock, waiting at most `patience`.
/// A vault a newer tokens migrated since this one opened it is refused, unchanged.
fn begin_write(link: &Link, patience: Duration) -> Result<Transaction<'_>> {
    let (transaction, version) = link.begin(patience, WRITE_LOCK)?;
    match version.and_then(|version| version.parse::<i64>().ok()) {
        Some(version) if version <= CURRENT_VERSION => Ok(transaction),
        Some(found) => {
            // Newer: written only where its write mark allows (SPEC §10).
            let marks = read_marks(transaction.link());
            allowed_by_marks(link.shown(), found, marks, Doing::Change)?;
            Ok(transaction)
        }
        None => Err(corrupt(link.shown(), "tokens_vault has no row")),
    }
}

/// What opening finds (see [`inspect`]).
struct Inspection {
    /// The vault's schema version; `None` when the database holds no vault yet.
    version: Option<i64>,
    /// Its marks, when it is newer than this binary and has marks this binary reads.
    marks: Option<Marks>,
    /// Whether this role may change it: the database is not a read-only replica and the role
    /// may write the tables, the version table included (its row is the write lock), or,
    /// before they exist, create them.
    writable: bool,
    role: Rights,
    /// The schema the vault is in (or will be made in).
    schema: String,
}

/// The schema holding the vault, found in the catalog by name, never from the session's
/// `current_schema()` or search path (which a previous client of a pooled connection may have
/// set): the one given in the URL (`schema=`), else the one schema holding a `tokens_vault`
/// table, else `public` for a vault not made yet. Two candidates are refused: the URL must
/// name one. Also whether the server takes writes (not a replica).
const FIND_SCHEMA: &str = "SELECT NOT pg_catalog.pg_is_in_recovery(), ARRAY(SELECT n.nspname::text \
     FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
     WHERE c.relname = 'tokens_vault' AND c.relkind = 'r' \
     AND n.nspname !~ '^pg_(toast_)?temp_' AND ($1::text IS NULL OR n.nspname = $1) \
     ORDER BY 1)";

/// The schema [`FIND_SCHEMA`] found, and whether the server takes writes.
fn found_schema(
    shown: &str,
    rows: Result<Vec<tokio_postgres::Row>>,
    requested: &Option<String>,
) -> Result<(String, bool)> {
    let rows = rows.map_err(|e| name(e, shown))?;
    let row = rows
        .first()
        .ok_or_else(|| corrupt(shown, "the server answered no row"))?;
    let read_write: bool = row.try_get(0)?;
    let candidates: Vec<String> = row.try_get(1)?;
    match candidates.as_slice() {
        [] => Ok((
            requested.clone().unwrap_or_else(|| "public".to_owned()),
            read_write,
        )),
        [one] => Ok((one.clone(), read_write)),
        many => Err(Error::Other(anyhow::anyhow!(
            "the database at {shown} holds a tokens vault in each of the schemas {}; name the \
             one to use in the URL (?schema=NAME)",
            many.join(", ")
        ))),
    }
}

/// `name` in the vault's `schema` as a SQL string literal (`'"public".tokens'`), for the
/// catalog functions that take a relation's name.
fn relation(schema: &str, name: &str) -> String {
    format!("'{}.{name}'", schema::quoted(schema).replace('\'', "''"))
}

/// What this role may do with the vault in `schema` (see [`inspect`]). Each privilege is asked
/// alone: `has_table_privilege` with a list answers whether the role has any of them;
/// `has_any_column_privilege` counts column grants (`tokens grants`). Every name is qualified.
fn rights_query(schema: &str) -> String {
    let [vault, tokens, events, usage, failures] = [
        "tokens_vault",
        "tokens",
        "events",
        "token_usage",
        "verify_failures",
    ]
    .map(|table| relation(schema, table));
    let namespace = format!("'{}'", schema::quoted(schema).replace('\'', "''"));
    let lookup = relation(schema, "lookup(text, bytea)");
    let refresh = relation(schema, REFRESH_FUNCTION);
    format!(
        "SELECT to_regclass({vault}) IS NOT NULL, to_regclass({tokens}) IS NOT NULL, \
             NOT pg_is_in_recovery() AND \
             CASE WHEN to_regclass({vault}) IS NULL OR to_regclass({tokens}) IS NULL \
                       OR to_regclass({events}) IS NULL \
                  THEN to_regnamespace({namespace}) IS NOT NULL \
                       AND has_schema_privilege(to_regnamespace({namespace}), 'CREATE') \
                  ELSE has_table_privilege({tokens}, 'INSERT') \
                       AND has_table_privilege({tokens}, 'UPDATE') \
                       AND has_table_privilege({events}, 'INSERT') \
                       AND has_table_privilege({vault}, 'UPDATE') END, \
             CASE WHEN to_regprocedure({lookup}) IS NOT NULL \
                  THEN has_function_privilege(to_regprocedure({lookup}), 'EXECUTE') \
                  WHEN to_regclass({usage}) IS NULL OR to_regclass({failures}) IS NULL \
                       OR to_regclass({events}) IS NULL THEN true \
                  ELSE has_any_column_privilege({usage}, 'INSERT') \
                       AND has_any_column_privilege({failures}, 'INSERT') \
                       AND has_any_column_privilege({events}, 'INSERT') END, \
             CASE WHEN to_regprocedure({lookup}) IS NOT NULL \
                  THEN has_function_privilege(to_regprocedure({lookup}), 'EXECUTE') \
                  WHEN to_regclass({vault}) IS NULL OR to_regclass({tokens}) IS NULL THEN true \
                  ELSE has_column_privilege({tokens}, 'secret_hash', 'SELECT') END, \
             CASE WHEN to_regclass({vault}) IS NULL OR to_regclass({tokens}) IS NULL THEN true \
                  ELSE has_column_privilege({tokens}, 'secret_key_hash', 'SELECT') END, \
             CASE WHEN to_regclass({vault}) IS NULL OR to_regclass({tokens}) IS NULL \
                       OR to_regclass({events}) IS NULL THEN true \
                  ELSE has_column_privilege({tokens}, 'note', 'SELECT') \
                       AND has_table_privilege({events}, 'SELECT') END, \
             to_regprocedure({refresh}) IS NOT NULL \
                  AND has_function_privilege(to_regprocedure({refresh}), 'EXECUTE')"
    )
}

/// Reads the version of the vault in `schema`.
/// Reads the version of the vault in `schema`, and the schema it recorded it was made in
/// (none before the functions: read through `to_jsonb`, which any schema version answers).
fn version_query(schema: &str) -> String {
    format!(
        "SELECT application, version, to_jsonb(v) ->> 'vault_schema' FROM {}.tokens_vault v",
        schema::quoted(schema)
    )
}

/// What opening finds: the vault's schema, version, marks and what this role may do there, in
/// one round trip when the vault is where it is looked for first (the URL's schema, else
/// `public`): the schema, the rights and the version are asked together. A database whose
/// `tokens` table some other program made is refused, untouched.
fn inspect(link: &Link, requested: &Option<String>) -> Result<Inspection> {
    let shown = link.shown();
    let guess = requested.clone().unwrap_or_else(|| "public".to_owned());
    let (rights, version) = (rights_query(&guess), version_query(&guess));
    let mut answers = link
        .query_together(&[
            (FIND_SCHEMA, vec![requested as &(dyn ToSql + Sync)]),
            (&rights, vec![]),
            (&version, vec![]),
        ])
        .map_err(|e| name(e, shown))?
        .into_iter();
    let mut next = || answers.next().unwrap_or_else(|| Ok(Vec::new()));
    let (schema, read_write) = found_schema(shown, next(), requested)?;
    link.set_schema(&schema, read_write);
    let (rights, version) = if schema == guess {
        (next(), next())
    } else {
        let (rights, version) = (rights_query(&schema), version_query(&schema));
        let mut answers = link
            .query_together(&[(&rights, vec![]), (&version, vec![])])
            .map_err(|e| name(e, shown))?
            .into_iter();
        let mut next = || answers.next().unwrap_or_else(|| Ok(Vec::new()));
        (next(), next())
    };
    let rows = rights.map_err(|e| name(e, shown))?;
    let row = rows
        .first()
        .ok_or_else(|| corrupt(shown, "the server answered no row"))?;
    let (marked, has_tokens): (bool, bool) = (row.get(0), row.get(1));
    let writable = row.get::<_, Option<bool>>(2).unwrap_or(false);
    let role = Rights {
        bookkeeping: row.get::<_, Option<bool>>(3).unwrap_or(false),
        secret_hashes: row.get::<_, Option<bool>>(4).unwrap_or(false),
        secret_key_hashes: row.get::<_, Option<bool>>(5).unwrap_or(false),
        records: row.get::<_, Option<bool>>(6).unwrap_or(false),
        refresh: row.get::<_, Option<bool>>(7).unwrap_or(false),
    };
    if !marked {
        return if has_tokens {
            Err(corrupt(shown, "its tokens table was not made by tokens"))
        } else {
            Ok(Inspection {
                version: None,
                marks: None,
                writable,
                role,
                schema,
            })
        };
    }
    let rows = version.map_err(|error| match sql_state(&error) {
        Some(&SqlState::INSUFFICIENT_PRIVILEGE) => Error::RoleRefused(format!(
            "this role may not read the vault at {shown}: it was granted no access to it; \
                 its owner can grant some (tokens grants ROLE --kind admin|verifier|reader)"
        )),
        _ => name(error, shown),
    })?;
    let version = match rows.first() {
        Some(row) if row.get::<_, String>(0) == schema::APPLICATION => {
            // The functions name their schema: a vault whose schema was renamed (or whose
            // tables were moved) would run functions of another place.
            if let Some(recorded) = row.try_get::<_, Option<String>>(2)?
                && recorded != schema
            {
                return Err(corrupt(
                    shown,
                    &format!(
                        "it was made in schema {recorded} and is now in schema {schema}; move it \
                         back, or migrate it into a new vault (tokens migrate)"
                    ),
                ));
            }
            i64::from(row.get::<_, i32>(1))
        }
        _ => return Err(corrupt(shown, "tokens_vault does not name tokens")),
    };
    let marks = if version > CURRENT_VERSION {
        read_marks(link)
    } else {
        None
    };
    Ok(Inspection {
        version: Some(version),
        marks,
        writable,
        role,
        schema,
    })
}

/// The marks of a vault (SPEC §10), when it has them in a shape this binary reads.
fn read_marks(link: &Link) -> Option<Marks> {
    let rows = link
        .query(
            "SELECT read_mark::bigint, verify_mark::bigint, write_mark::bigint FROM tokens_vault",
            &[],
        )
        .ok()?;
    let row = rows.first()?;
    Some(Marks {
        read: row.try_get(0).ok()?,
        verify: row.try_get(1).ok()?,
        write: row.try_get(2).ok()?,
    })
}

/// Creates the vault or migrates it, in one transaction: machines that start at once wait for
/// the first, then find the work done.
///
/// An existing vault is migrated under `LOCK TABLE tokens_vault IN EXCLUSIVE MODE`: it waits
/// for the writers holding the row lock and keeps new ones out (they wait at the table, holding
/// nothing a migration's later `ALTER TABLE` could deadlock on), while plain reads go on. A
/// vault not there yet has nothing to lock: the creators race to create `tokens_vault`, the
/// losers wait for the winner's transaction (its catalog rows are unique) and then fail on the
/// duplicate, and try again, finding the vault made.
fn initialise(link: &Link, schema: &str) -> Result<()> {
    let shown = link.shown();
    for attempt in 1..=CREATION_ATTEMPTS {
        match create_or_migrate(link, schema) {
            Err(error) if attempt < CREATION_ATTEMPTS && lost_the_creation_race(&error) => {}
            outcome => return outcome.map_err(|e| name_the_blockers(link, name(e, shown))),
        }
    }
    unreachable!("the last attempt returns")
}

fn create_or_migrate(link: &Link, schema: &str) -> Result<()> {
    let name_literal = format!("'{}'", schema.replace('\'', "''"));
    // Read from the catalog itself, with this statement's snapshot: `to_regclass` answers
    // from this session's cache, which can miss the table another machine just committed.
    // Locks may take the whole timeout.
    let (transaction, marked) = link.begin(
        Duration::MAX,
        &format!(
            "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class c \
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relname = 'tokens_vault' AND n.nspname = {name_literal})"
        ),
    )?;
    let link = transaction.link();
    // What the migrations create goes in the vault's schema (the first on the path).
    link.batch_execute(&format!(
        "SET LOCAL search_path = {}, pg_catalog, pg_temp",
        schema::quoted(schema)
    ))?;
    if marked.as_deref() == Some("t") {
        link.batch_execute("LOCK TABLE tokens_vault IN EXCLUSIVE MODE")?;
    } else {
        link.batch_execute(schema::CREATE_VERSION_TABLE)?;
    }
    // After the lock (or the creation, which losers of the race wait on): one machine at a time.
    refuse_other_creators(link, schema)?;
    let rows = link.query("SELECT version FROM tokens_vault", &[])?;
    let version: i32 = rows
        .first()
        .ok_or_else(|| corrupt(link.shown(), "tokens_vault has no row"))?
        .get(0);
    for (index, sql) in schema::MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(version).unwrap_or(usize::MAX))
    {
        link.batch_execute(&schema::for_schema(sql, schema))?;
        let next = i32::try_from(index + 1).unwrap_or(i32::MAX);
        link.execute("UPDATE tokens_vault SET version = $1", &[&next])?;
    }
    transaction.commit()
}

/// Revokes CREATE on the vault's schema from PUBLIC (where this role may), then refuses to go
/// on while a role other than this one and the schema's owner may create there: such a role
/// could plant a table or function the vault's statements would find.
fn refuse_other_creators(link: &Link, schema: &str) -> Result<()> {
    let creators = other_creators(link, schema)?;
    if creators
        .as_deref()
        .is_some_and(|creators| creators.split(", ").any(|creator| creator == "PUBLIC"))
    {
        link.batch_execute(&format!(
            "DO $$ BEGIN REVOKE CREATE ON SCHEMA {} FROM PUBLIC; \
             EXCEPTION WHEN insufficient_privilege THEN NULL; END $$",
            schema::quoted(schema)
        ))?;
    }
    match other_creators(link, schema)? {
        None => Ok(()),
        Some(creators) => Err(Error::Other(anyhow::anyhow!(
            "the vault's schema {schema} at {} lets {creators} create objects in it, which could \
             plant tables or functions the vault would use; its owner can run: REVOKE CREATE ON \
             SCHEMA {} FROM {creators}",
            link.shown(),
            schema::quoted(schema)
        ))),
    }
}

/// The roles other than this one and the owner of the vault's schema that may create objects
/// in it (`PUBLIC` for everyone), comma separated; `None` when there are none.
fn other_creators(link: &Link, schema: &str) -> Result<Option<String>> {
    let rows = link.query(
        "SELECT string_agg(CASE WHEN a.grantee = 0 THEN 'PUBLIC' \
                ELSE pg_catalog.pg_get_userbyid(a.grantee)::text END, ', ') \
         FROM pg_catalog.pg_namespace n, \
              pg_catalog.aclexplode(coalesce(n.nspacl, pg_catalog.acldefault('n', n.nspowner))) a \
         WHERE n.nspname = $1 AND a.privilege_type = 'CREATE' AND a.grantee <> n.nspowner \
         AND a.grantee <> (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user)",
        &[&schema],
    )?;
    Ok(rows.first().and_then(|row| row.get::<_, Option<String>>(0)))
}

/// A migration that gave up waiting for a lock (link.rs says "waited … for a lock") names the
/// sessions holding locks on the vault's tables: their process id, application and user, from
/// `pg_locks` and `pg_stat_activity` (which every role may read), so the owner knows whom to
/// ask or what to end (`pg_terminate_backend`).
fn name_the_blockers(link: &Link, error: Error) -> Error {
    let message = error.to_string();
    if !message.contains("for a lock") {
        return error;
    }
    let holders = link
        .query(
            "SELECT string_agg(format('pid %s (%s, user %s)', a.pid, \
                    coalesce(nullif(a.application_name, ''), 'no application name'), \
                    coalesce(a.usename::text, 'unknown')), ', ' ORDER BY a.pid) \
             FROM (SELECT DISTINCT l.pid FROM pg_locks l JOIN pg_class c ON c.oid = l.relation \
                   WHERE l.granted AND l.pid <> pg_backend_pid() \
                   AND c.relnamespace = to_regnamespace($1) \
                   AND c.relname IN ('tokens_vault', 'tokens', 'events', 'token_usage', \
                                     'verify_failures')) AS h \
             JOIN pg_stat_activity a ON a.pid = h.pid",
            &[&link.schema()],
        )
        .ok()
        .and_then(|rows| rows.first().and_then(|row| row.get::<_, Option<String>>(0)));
    match holders {
        Some(holders) => Error::Other(anyhow::anyhow!(
            "{message}; migrating the vault's schema needs its tables alone, and {holders} \
             holds a lock on them"
        )),
        None => error,
    }
}

/// True when creating `tokens_vault` failed because another machine created it meanwhile.
fn lost_the_creation_race(error: &Error) -> bool {
    sql_state(error).is_some_and(|code| {
        *code == SqlState::UNIQUE_VIOLATION || *code == SqlState::DUPLICATE_TABLE
    })
}

/// True when `error` says the connection was lost: closed, broken, ended by the server (a
/// shutdown, a restart, a killed session), or given up at a deadline (the link then asks
/// nothing more: through a pooler, a server that went away looks like this).
pub fn connection_lost(error: &Error) -> bool {
    let Error::Other(inner) = error else {
        return false;
    };
    if inner.is::<link::NoAnswer>() {
        return true;
    }
    let Some(postgres) = inner.downcast_ref::<tokio_postgres::Error>() else {
        return false;
    };
    let io = std::error::Error::source(postgres).is_some_and(|cause| cause.is::<std::io::Error>());
    postgres.is_closed()
        || io
        || postgres.code().is_some_and(|code| {
            *code == SqlState::ADMIN_SHUTDOWN
                || *code == SqlState::CRASH_SHUTDOWN
                || *code == SqlState::CANNOT_CONNECT_NOW
                || *code == SqlState::IDLE_SESSION_TIMEOUT
        })
}

/// The SQLSTATE of a server error as the link returns it.
fn sql_state(error: &Error) -> Option<&SqlState> {
    match error {
        Error::Other(inner) => inner.downcast_ref::<tokio_postgres::Error>()?.code(),
        _ => None,
    }
}

fn corrupt(shown: &str, reason: &str) -> Error {
    Error::VaultCorrupt {
        vault: shown.to_owned(),
        reason: reason.to_owned(),
    }
}

/// Turns a raw PostgreSQL error from a command into the one-line error that names the vault.
pub fn explain(error: Error, url: &str) -> Error {
    name(error, &connect::redact(url))
}

/// [`explain`] with the URL already redacted.
fn name(error: Error, shown: &str) -> Error {
    match error {
        Error::Other(inner) => match inner.downcast::<tokio_postgres::Error>() {
            Ok(postgres) => classify(postgres, shown),
            Err(inner) => Error::Other(inner),
        },
        other => other,
    }
}

/// The one-line error for a PostgreSQL error; never shows the URL's password. (The server's
/// own timeouts are named where they were set: see `link`.)
fn classify(error: tokio_postgres::Error, shown: &str) -> Error {
    let Some(db) = error.as_db_error() else {
        if error.is_closed() {
            return Error::Other(anyhow::anyhow!(
                "lost the connection to the vault at {shown}; nothing was changed unless the command said so"
            ));
        }
        return Error::Other(anyhow::anyhow!("vault at {shown}: {error}"));
    };
    match *db.code() {
        SqlState::INSUFFICIENT_PRIVILEGE | SqlState::READ_ONLY_SQL_TRANSACTION => {
            Error::VaultReadOnly {
                vault: shown.to_owned(),
            }
        }
        SqlState::ADMIN_SHUTDOWN
        | SqlState::CRASH_SHUTDOWN
        | SqlState::CANNOT_CONNECT_NOW
        | SqlState::IDLE_SESSION_TIMEOUT => Error::Other(anyhow::anyhow!(
            "lost the connection to the vault at {shown} ({}); nothing was changed unless the command said so",
            db.message()
        )),
        SqlState::LOCK_NOT_AVAILABLE | SqlState::T_R_DEADLOCK_DETECTED => {
            Error::Other(anyhow::anyhow!(
                "the vault at {shown} stayed locked by another session for too long; try again"
            ))
        }
        _ => Error::Other(anyhow::anyhow!("vault at {shown}: {}", db.message())),
    }
}
