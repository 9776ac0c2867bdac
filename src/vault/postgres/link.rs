//! One connection to the PostgreSQL server, on which every wait has a deadline (SPEC §8: no
//! verifier may hang).
//!
//! The `postgres` crate is tokio-postgres driven by a private current-thread runtime, and it
//! bounds only the TCP connect: a server that accepts the connection and then says nothing, or
//! a statement stuck behind a lock, would hold a verifier for ever. This is the same
//! arrangement, with each wait wrapped in `tokio::time::timeout`: logging in, every statement,
//! the next row of a result and the commit each give up after the vault's timeout
//! (`--timeout`, default 10 s), and the command ends with one line that says what it waited for.
//!
//! Every statement runs in a transaction that starts, in the round trip of its first statement,
//! with the prelude ([`Link::prelude`]): `RESET ALL`, a search path pinned to the vault's
//! schema (`pg_temp` last), and `lock_timeout` and `statement_timeout` with `SET LOCAL`, a little
//! shorter than the client's, so the server gives up first, releases what it holds and says what
//! it waited for; never as startup options or session settings, which a transaction-pooling
//! PgBouncer refuses (the first) or leaks to the next client (the second). A statement outside
//! an open transaction gets one of its own: prelude, statement and COMMIT sent together (one
//! round trip, pipelined), so a lookup costs no extra round trip for it.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::time::Duration;

use bytes::BytesMut;
use futures_util::StreamExt;
use tokio::task::JoinHandle;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, Row, SimpleQueryMessage};

use crate::error::{Error, Result};

/// How long a dropped link waits to say goodbye (PostgreSQL's Terminate message).
const GOODBYE: Duration = Duration::from_millis(100);

/// The runtime that drives a link's connection. Dropped without waiting for blocking work: a
/// DNS lookup that outlived its deadline must not hold the command up once it gave up.
pub(super) struct Runtime(Option<tokio::runtime::Runtime>);

impl Runtime {
    pub(super) fn new() -> std::io::Result<Runtime> {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map(|runtime| Runtime(Some(runtime)))
    }

    /// Runs `future` to completion, or until `limit` passes (`None`).
    pub(super) fn within<T>(&self, limit: Duration, future: impl Future<Output = T>) -> Option<T> {
        // Some until dropped.
        let runtime = self.0.as_ref().expect("a runtime until dropped");
        // `timeout` needs the runtime's clock: it is made inside the runtime, not before.
        runtime
            .block_on(async { tokio::time::timeout(limit, future).await })
            .ok()
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// What a request waited for, as the message that ends the command names it.
#[derive(Clone, Copy)]
enum Waiting {
    /// A statement's answer (or the next row of one).
    Answer,
    /// The answer to COMMIT: whether the change was made is then unknown.
    Commit,
}

/// A request given up at its deadline (the message names the wait): the link asks nothing more,
/// and a caller that can (`verify --batch`) opens the vault again.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(super) struct NoAnswer(String);

/// A connection whose every wait gives up after `timeout`.
pub(super) struct Link {
    runtime: Runtime,
    /// Some until dropped (the driver then sees the channel close and says goodbye).
    client: Option<Client>,
    driver: Option<JoinHandle<()>>,
    timeout: Duration,
    /// The vault's URL as messages show it (no password).
    shown: String,
    /// Set once a request was abandoned at its deadline: its answer may still come, so nothing
    /// more is asked on this connection.
    abandoned: Cell<bool>,
    /// The vault's schema (its name), once found: every transaction pins its search path to
    /// it (see [`Link::prelude`]); before, to `pg_catalog` alone.
    schema: RefCell<Option<String>>,
    /// Whether transactions are opened READ WRITE (the server is not a replica).
    read_write: Cell<bool>,
    /// True while a transaction is open: its statements need no prelude of their own.
    in_transaction: Cell<bool>,
}

impl Link {
    /// A link over a logged-in `client` whose connection `driver` runs on `runtime`.
    pub(super) fn new(
        runtime: Runtime,
        client: Client,
        driver: JoinHandle<()>,
        timeout: Duration,
        shown: String,
    ) -> Link {
        Link {
            runtime,
            client: Some(client),
            driver: Some(driver),
            timeout,
            shown,
            abandoned: Cell::new(false),
            schema: RefCell::new(None),
            read_write: Cell::new(false),
            in_transaction: Cell::new(false),
        }
    }

    /// Pins every later transaction to the vault's `schema` (its name, as the catalog has it),
    /// READ WRITE when `read_write`.
    pub(super) fn set_schema(&self, schema: &str, read_write: bool) {
        *self.schema.borrow_mut() = Some(schema.to_owned());
        self.read_write.set(read_write);
    }

    /// The vault's schema as a quoted identifier (`"public"`), once found.
    pub(super) fn schema(&self) -> String {
        super::schema::quoted(self.schema.borrow().as_deref().unwrap_or("pg_catalog"))
    }

    /// The first statements of every transaction, sent in one round trip with what follows:
    /// whatever a previous client of a pooled server connection left in the session
    /// (`default_transaction_read_only`, `search_path`, `statement_timeout`, planner settings,
    /// TEMP tables named like the vault's) changes no verdict. `RESET ALL` undoes its settings;
    /// the search path names the vault's schema before `pg_temp` (and `pg_catalog` first), so
    /// no TEMP relation is ever found for a vault's table; the timeouts hold for this
    /// transaction alone.
    fn prelude(&self, isolation: &str, read_write: bool, lock_wait: Duration) -> String {
        let path = match self.schema.borrow().as_deref() {
            Some(schema) => format!("pg_catalog, {}, pg_temp", super::schema::quoted(schema)),
            None => "pg_catalog, pg_temp".to_owned(),
        };
        let access = if read_write {
            "READ WRITE"
        } else {
            "READ ONLY"
        };
        format!(
            "BEGIN ISOLATION LEVEL {isolation} {access}; RESET ALL; \
             SET LOCAL search_path = {path}; {}",
            self.server_timeouts(lock_wait)
        )
    }

    /// Runs `request` in a transaction of its own when none is open: the prelude, the request
    /// and COMMIT are sent together (one round trip; tokio-postgres pipelines requests whose
    /// futures are polled together).
    fn autocommit<T>(
        &self,
        request: impl Future<Output = Result<T, tokio_postgres::Error>>,
    ) -> Result<T> {
        if self.in_transaction.get() {
            return self.wait(Waiting::Answer, request);
        }
        let prelude = self.prelude("READ COMMITTED", self.read_write.get(), self.timeout);
        let client = self.client();
        self.wait(Waiting::Answer, async {
            let (begun, answer, committed) = futures_util::future::join3(
                client.simple_query(&prelude),
                request,
                client.simple_query("COMMIT"),
            )
            .await;
            begun?;
            let answer = answer?;
            committed?;
            Ok(answer)
        })
    }

    fn client(&self) -> &Client {
        // Some until dropped.
        self.client.as_ref().expect("a client until dropped")
    }

    /// The vault's URL as messages show it.
    pub(super) fn shown(&self) -> &str {
        &self.shown
    }

    /// Waits at most the timeout for `request`. A server error comes back as it is (see
    /// [`Link::failure`]); no answer in time ends the command with one line.
    fn wait<T>(
        &self,
        waiting: Waiting,
        request: impl Future<Output = Result<T, tokio_postgres::Error>>,
    ) -> Result<T> {
        if self.abandoned.get() {
            return Err(self.no_answer(waiting));
        }
        match self.runtime.within(self.timeout, request) {
            Some(Ok(value)) => Ok(value),
            Some(Err(error)) => Err(self.failure(error, self.timeout)),
            None => {
                self.abandoned.set(true);
                Err(self.no_answer(waiting))
            }
        }
    }

    fn no_answer(&self, waiting: Waiting) -> Error {
        let (shown, within) = (&self.shown, seconds(self.timeout));
        let message = match waiting {
            Waiting::Answer => format!(
                "the vault at {shown} did not answer a query within {within}; check the server, or raise --timeout"
            ),
            Waiting::Commit => format!(
                "the vault at {shown} did not confirm the change within {within}; it may or may not \
                 have been made (tokens log shows it if it was); check the server, or raise --timeout"
            ),
        };
        Error::Other(anyhow::Error::new(NoAnswer(message)))
    }

    /// A server error: the server's own timeouts (set by [`Link::begin`]) as the one line that
    /// names the wait; anything else as it is, for `postgres::explain` to name.
    fn failure(&self, error: tokio_postgres::Error, lock_wait: Duration) -> Error {
        let shown = &self.shown;
        match error.code() {
            Some(code) if *code == SqlState::LOCK_NOT_AVAILABLE => Error::Other(anyhow::anyhow!(
                "waited {} for a lock on the vault at {shown} that another session holds; try \
                 again, or raise --timeout",
                seconds(lock_wait)
            )),
            // This client never sends a cancel request: a cancelled query is the statement
            // timeout (matched on the code, as the message is translated under `lc_messages`).
            Some(code) if *code == SqlState::QUERY_CANCELED => Error::Other(anyhow::anyhow!(
                "the vault at {shown} did not finish a statement within {}; check the \
                     server, or raise --timeout",
                seconds(self.timeout)
            )),
            _ => Error::from(error),
        }
    }

    /// `SET LOCAL` of the server's lock and statement timeouts, locks waiting at most
    /// `lock_wait`. A statement that waits for a lock the whole time is stopped by the lock
    /// timeout (the message then names the lock): the statement timeout is a little longer.
    fn server_timeouts(&self, lock_wait: Duration) -> String {
        let (lock, statement) = server_millis(lock_wait, self.timeout);
        format!("SET LOCAL lock_timeout = {lock}; SET LOCAL statement_timeout = {statement}")
    }

    /// Runs `sql` with `params` as one unnamed statement (see [`typed`]) and collects its rows.
    pub(super) fn query(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>> {
        let params = typed(params.iter().copied())?;
        self.autocommit(self.client().query_typed(sql, &params))
    }

    /// Runs `statements` (each SQL with its parameters) sent together: one round trip, in the
    /// open transaction or one of their own. Each one's rows, or its error (after an error the
    /// transaction is aborted, and the statements after it fail too).
    pub(super) fn query_together(
        &self,
        statements: &[(&str, Vec<&(dyn ToSql + Sync)>)],
    ) -> Result<Vec<Result<Vec<Row>>>> {
        let typed_params = statements
            .iter()
            .map(|(_, params)| typed(params.iter().copied()))
            .collect::<Result<Vec<_>>>()?;
        let client = self.client();
        let requests = statements
            .iter()
            .zip(&typed_params)
            .map(|((sql, _), params)| client.query_typed(sql, params));
        let answers = self.autocommit(async {
            Ok::<_, tokio_postgres::Error>(futures_util::future::join_all(requests).await)
        })?;
        Ok(answers
            .into_iter()
            .map(|answer| answer.map_err(|error| self.failure(error, self.timeout)))
            .collect())
    }

    /// Runs `sql` once for each of `param_sets` (their types `types`), in a transaction of its
    /// own: the prelude and a named statement prepared for this transaction alone (one round
    /// trip), then every execution and COMMIT sent together (a second). Parsed and planned once,
    /// not once a line; the statement is closed before COMMIT, inside the transaction, so it never
    /// outlives it on a pooled server connection. Each execution's rows, or its error.
    pub(super) fn query_prepared_together(
        &self,
        sql: &str,
        types: &[Type],
        param_sets: &[Vec<&(dyn ToSql + Sync)>],
    ) -> Result<Vec<Result<Vec<Row>>>> {
        if self.in_transaction.get() || self.abandoned.get() {
            return Err(self.no_answer(Waiting::Answer));
        }
        let prelude = self.prelude("READ COMMITTED", self.read_write.get(), self.timeout);
        let client = self.client();
        let outcome = self.runtime.within(self.timeout, async {
            let (begun, statement) = futures_util::future::join(
                client.simple_query(&prelude),
                client.prepare_typed(sql, types),
            )
            .await;
            let statement = match (begun, statement) {
                (Ok(_), Ok(statement)) => statement,
                (Err(error), _) | (_, Err(error)) => {
                    let _ = client.simple_query("ROLLBACK").await;
                    return Err(error);
                }
            };
            let answers = futures_util::future::join_all(
                param_sets
                    .iter()
                    .map(|params| client.query(&statement, params.as_slice())),
            )
            .await;
            // Closed inside the transaction: the Close goes out before COMMIT.
            drop(statement);
            client.simple_query("COMMIT").await?;
            Ok(answers)
        });
        match outcome {
            Some(Ok(answers)) => Ok(answers
                .into_iter()
                .map(|answer| answer.map_err(|error| self.failure(error, self.timeout)))
                .collect()),
            Some(Err(error)) => Err(self.failure(error, self.timeout)),
            None => {
                self.abandoned.set(true);
                Err(self.no_answer(Waiting::Answer))
            }
        }
    }

    /// Runs `sql` with `params` as one unnamed statement; the number of rows it changed.
    pub(super) fn execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64> {
        let params = typed(params.iter().copied())?;
        self.autocommit(self.client().execute_typed(sql, &params))
    }

    /// Runs `sql` (several statements, no parameters, no rows).
    pub(super) fn batch_execute(&self, sql: &str) -> Result<()> {
        self.wait(Waiting::Answer, self.client().batch_execute(sql))
    }

    /// Calls `visit` with each row as it arrives, without collecting them; each row is waited
    /// for at most the timeout (a slow reader of the output is not the server's fault).
    pub(super) fn for_each_row(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
        visit: &mut dyn FnMut(&Row) -> Result<()>,
    ) -> Result<()> {
        if !self.in_transaction.get() {
            let (transaction, _) =
                self.begin_as(self.read_write.get(), self.timeout, "SELECT 1")?;
            self.for_each_row(sql, params, visit)?;
            return transaction.commit();
        }
        let params = typed(params.iter().copied())?;
        let rows = self.wait(
            Waiting::Answer,
            self.client().query_typed_raw(
                sql,
                params.iter().map(|(value, kind)| (*value, kind.clone())),
            ),
        )?;
        let mut rows = std::pin::pin!(rows);
        while let Some(row) = self.wait(Waiting::Answer, async {
            rows.as_mut().next().await.transpose()
        })? {
            visit(&row)?;
        }
        Ok(())
    }

    /// Starts a READ COMMITTED transaction with the server's timeouts set for it alone (locks:
    /// at most `lock_wait`), and runs `lock` (the statement that takes the lock the transaction
    /// needs) in the same round trip. Returns the transaction and the first column of the
    /// first row `lock` returned.
    pub(super) fn begin(
        &self,
        lock_wait: Duration,
        lock: &str,
    ) -> Result<(Transaction<'_>, Option<String>)> {
        self.begin_as(true, lock_wait, lock)
    }

    /// [`Link::begin`], READ WRITE or READ ONLY.
    fn begin_as(
        &self,
        read_write: bool,
        lock_wait: Duration,
        lock: &str,
    ) -> Result<(Transaction<'_>, Option<String>)> {
        // READ COMMITTED whatever the database's default: each statement after the lock then
        // sees what the writer before committed (a REPEATABLE READ snapshot would predate it).
        let sql = format!(
            "{}; {lock}",
            self.prelude("READ COMMITTED", read_write, lock_wait)
        );
        if self.abandoned.get() {
            return Err(self.no_answer(Waiting::Answer));
        }
        // Rolled back when dropped: also when the lock or anything before it fails.
        let transaction = Transaction {
            link: self,
            open: true,
        };
        self.in_transaction.set(true);
        let answer = match self
            .runtime
            .within(self.timeout, self.client().simple_query(&sql))
        {
            Some(Ok(answer)) => answer,
            Some(Err(error)) => return Err(self.failure(error, lock_wait.min(self.timeout))),
            None => {
                self.abandoned.set(true);
                return Err(self.no_answer(Waiting::Answer));
            }
        };
        let first = answer.iter().find_map(|message| match message {
            SimpleQueryMessage::Row(row) => Some(row.get(0).map(str::to_owned)),
            _ => None,
        });
        Ok((transaction, first.flatten()))
    }
}

impl Link {
    /// Starts a `REPEATABLE READ, READ ONLY` transaction: every statement in it sees the
    /// snapshot its first one took. Locks wait at most the timeout, as the server counts it.
    pub(super) fn begin_snapshot(&self) -> Result<Transaction<'_>> {
        let sql = self.prelude("REPEATABLE READ", false, self.timeout);
        let transaction = Transaction {
            link: self,
            open: true,
        };
        self.in_transaction.set(true);
        self.batch_execute(&sql)?;
        Ok(transaction)
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        // Without its client the driver sends Terminate and ends: the server sees a clean
        // goodbye rather than a dropped socket.
        drop(self.client.take());
        if let Some(driver) = self.driver.take()
            && !self.abandoned.get()
        {
            let _ = self.runtime.within(GOODBYE, driver);
        }
    }
}

/// A transaction on a link: committed by [`Transaction::commit`], rolled back otherwise.
pub(super) struct Transaction<'l> {
    link: &'l Link,
    open: bool,
}

impl<'l> Transaction<'l> {
    pub(super) fn link(&self) -> &'l Link {
        self.link
    }

    pub(super) fn commit(mut self) -> Result<()> {
        self.open = false;
        self.link.in_transaction.set(false);
        self.link
            .wait(Waiting::Commit, self.link.client().batch_execute("COMMIT"))
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if self.open {
            self.link.in_transaction.set(false);
            // Best effort: a link that lost its server fails the next request anyway.
            let _ = self.link.batch_execute("ROLLBACK");
        }
    }
}

/// What a parameter of a statement may be, most likely first: the types `tokens` binds.
const PARAMETER_TYPES: [Type; 9] = [
    Type::INT8,
    Type::TEXT,
    Type::BYTEA,
    Type::BOOL,
    Type::INT4,
    Type::INT2,
    Type::FLOAT8,
    Type::TEXT_ARRAY,
    Type::INT8_ARRAY,
];

/// Each parameter with its PostgreSQL type, found by asking the value which it encodes as.
///
/// Statements are sent unnamed (Parse, Bind, Execute and Sync in one round trip), never
/// prepared by name: a transaction-pooling PgBouncer may run the next request of this
/// connection on another server session, where a statement prepared on the first does not
/// exist (and a second prepare of the same name fails). An unnamed statement needs its
/// parameters' types up front; a Rust value says which PostgreSQL types it accepts, and each
/// value `tokens` binds accepts exactly one of [`PARAMETER_TYPES`] first.
fn typed<'a>(
    params: impl Iterator<Item = &'a (dyn ToSql + Sync)>,
) -> Result<Vec<(&'a (dyn ToSql + Sync), Type)>> {
    let mut scratch = BytesMut::new();
    params
        .enumerate()
        .map(|(index, value)| {
            let kind = PARAMETER_TYPES.iter().find(|kind| {
                scratch.clear();
                value.to_sql_checked(kind, &mut scratch).is_ok()
            });
            match kind {
                Some(kind) => Ok((value, kind.clone())),
                None => Err(Error::Other(anyhow::anyhow!(
                    "parameter {} of a query has a type tokens cannot send (a bug)",
                    index + 1
                ))),
            }
        })
        .collect()
}

/// The server's lock and statement timeouts, in milliseconds, for a lock wait of `lock_wait`
/// and a client that waits `timeout`: a little shorter than the client's, so the server's error
/// (which names the wait) arrives before the client gives up; the lock's a little shorter still.
fn server_millis(lock_wait: Duration, timeout: Duration) -> (u64, u64) {
    let margin = (timeout / 4).min(Duration::from_millis(250));
    let millis = |limit: Duration| {
        // PostgreSQL's timeouts are 32-bit milliseconds; 0 would mean none.
        u64::try_from(limit.as_millis().max(1))
            .unwrap_or(u64::MAX)
            .min(i32::MAX as u64)
    };
    let statement = timeout.saturating_sub(margin / 2);
    let lock = lock_wait.min(timeout.saturating_sub(margin));
    (millis(lock), millis(statement))
}

/// `10s`, `10min`, `1.5s`, `200ms`: a timeout as messages show it (whole seconds as SPEC §3
/// writes durations, so that `--timeout` reads them back).
pub(crate) fn seconds(duration: Duration) -> String {
    if duration < Duration::from_secs(1) {
        format!("{}ms", duration.as_millis())
    } else if duration.subsec_millis() == 0 {
        crate::duration::format_std(duration)
    } else {
        format!("{:.1}s", duration.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_gives_up_a_little_before_the_client() {
        let seconds = Duration::from_secs;
        assert_eq!(server_millis(seconds(10), seconds(10)), (9_750, 9_875));
        assert_eq!(server_millis(seconds(1), seconds(1)), (750, 875));
        // Bookkeeping's short patience for the lock.
        assert_eq!(
            server_millis(Duration::from_millis(200), seconds(10)),
            (200, 9_875)
        );
        assert_eq!(server_millis(Duration::ZERO, Duration::ZERO), (1, 1));
        let long = seconds(100 * 86_400);
        assert_eq!(
            server_millis(long, long),
            (i32::MAX as u64, i32::MAX as u64)
        );
    }

    /// A link to the test server (TOKENS_TEST_POSTGRES_DIRECT, else TOKENS_TEST_POSTGRES), as
    /// the connect tests use; `None` (the test skipped) without one.
    fn test_link() -> Option<Link> {
        let Some(url) = std::env::var("TOKENS_TEST_POSTGRES_DIRECT")
            .or_else(|_| std::env::var("TOKENS_TEST_POSTGRES"))
            .ok()
            .filter(|url| !url.is_empty())
        else {
            eprintln!("skipped: needs TOKENS_TEST_POSTGRES (an admin URL)");
            return None;
        };
        Some(
            super::super::connect::connect(&url, Duration::from_secs(2))
                .unwrap_or_else(|error| panic!("{error}")),
        )
    }

    /// Against the test server (TOKENS_TEST_POSTGRES), as the connect tests are.
    #[test]
    fn server_timeouts_are_set_for_one_transaction_and_never_for_the_session() {
        let Some(link) = test_link() else { return };
        // Outside any transaction (a raw simple query: `Link::query` opens one of its own).
        let setting = |link: &Link, name: &str| -> String {
            let sql = format!("SELECT current_setting('{name}')");
            let answer = link
                .runtime
                .within(Duration::from_secs(2), link.client().simple_query(&sql))
                .unwrap()
                .unwrap();
            answer
                .iter()
                .find_map(|message| match message {
                    SimpleQueryMessage::Row(row) => row.get(0).map(str::to_owned),
                    _ => None,
                })
                .unwrap()
        };
        // Nothing at login: no startup options.
        assert_eq!(setting(&link, "lock_timeout"), "0");
        assert_eq!(setting(&link, "statement_timeout"), "0");
        for commit in [true, false] {
            let (transaction, lock_timeout) = link
                .begin(
                    Duration::from_millis(200),
                    "SELECT current_setting('lock_timeout')",
                )
                .unwrap();
            assert_eq!(lock_timeout.as_deref(), Some("200ms"));
            assert_eq!(setting(transaction.link(), "statement_timeout"), "1875ms");
            assert_eq!(
                setting(transaction.link(), "transaction_isolation"),
                "read committed"
            );
            if commit {
                transaction.commit().unwrap();
            } else {
                drop(transaction);
            }
            // Gone with the transaction: the next client of a pooled connection gets nothing.
            assert_eq!(setting(&link, "lock_timeout"), "0");
            assert_eq!(setting(&link, "statement_timeout"), "0");
        }
    }

    /// Against the test server: what a previous client of a pooled connection left in the
    /// session is undone by every transaction's prelude.
    #[test]
    fn every_transaction_resets_what_a_previous_client_left_in_the_session() {
        let Some(link) = test_link() else { return };
        link.batch_execute(
            "SET search_path = pg_temp, public; SET default_transaction_read_only = on; \
             SET enable_indexscan = off; SET plan_cache_mode = force_custom_plan; \
             SET default_transaction_isolation = 'serializable'",
        )
        .unwrap();
        link.set_schema("public", true);
        let rows = link
            .query(
                "SELECT current_setting('search_path'), current_setting('transaction_read_only'), \
                 current_setting('enable_indexscan'), current_setting('plan_cache_mode'), \
                 current_setting('transaction_isolation')",
                &[],
            )
            .unwrap();
        let settings: Vec<String> = (0..5).map(|index| rows[0].get(index)).collect();
        assert_eq!(
            settings,
            [
                "pg_catalog, public, pg_temp",
                "off",
                "on",
                "auto",
                "read committed"
            ]
        );
    }

    #[test]
    fn each_parameter_is_sent_with_the_type_its_value_encodes_as() {
        let (number, text, none, bytes, flag) = (7_i64, "x", None::<i64>, vec![1_u8, 2], true);
        let params: [&(dyn ToSql + Sync); 6] = [&number, &text, &none, &bytes, &flag, &3_i32];
        let kinds: Vec<Type> = typed(params.iter().copied())
            .unwrap()
            .into_iter()
            .map(|(_, kind)| kind)
            .collect();
        assert_eq!(
            kinds,
            [
                Type::INT8,
                Type::TEXT,
                Type::INT8,
                Type::BYTEA,
                Type::BOOL,
                Type::INT4
            ]
        );
    }

    #[test]
    fn timeouts_read_as_people_write_them() {
        assert_eq!(seconds(Duration::from_secs(10)), "10s");
        assert_eq!(seconds(Duration::from_millis(1_500)), "1.5s");
        assert_eq!(seconds(Duration::from_millis(200)), "200ms");
        assert_eq!(seconds(Duration::from_secs(600)), "10min");
        assert_eq!(seconds(Duration::from_secs(86_400)), "1d");
    }
}
