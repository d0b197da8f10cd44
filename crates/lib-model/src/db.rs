//! [`Db`]: the pool, and how each of its statements reaches Postgres ([`PoolMode`]).
//!
//! Straight to Postgres (`session`, the default), a pool connection is a Postgres session of its
//! own: the statement limits are set once as it connects, and statements of a fixed shape are
//! prepared once and then cost one round trip each.
//!
//! Through a transaction-pooling PgBouncer (`transaction`), a pool connection holds a server
//! connection only for one transaction, and its next transaction may get another. PgBouncer 1.18
//! keeps no prepared statement across that, refuses the startup `options` that carry the limits,
//! and sqlx sends a statement with parameters as two messages (parse, then bind and execute),
//! between which PgBouncer could switch server connections. So no state may outlive a
//! transaction, and every statement runs in a transaction of its own ([`StatementConn`]): its
//! first message drops whatever an earlier client left prepared on that server connection and
//! sets the limits with `SET LOCAL`; sqlx keeps no statement (its cache is off). It costs three
//! round trips more per statement: the begin, the separate parse and the commit.

use crate::lease::CLIENT_CHECK_INTERVAL;
use crate::{Error, Result};
use futures_util::future::BoxFuture;
use futures_util::stream::{self, BoxStream};
use futures_util::{StreamExt as _, TryStreamExt as _};
use lib_core::Config;
use lib_core::config::PoolMode;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgQueryResult, PgRow, PgStatement, PgTypeInfo};
use sqlx::{AssertSqlSafe, Describe, Either, Execute, Executor, PgPool, Postgres, SqlStr};
use std::fmt;
use std::future::Future;
use std::str::FromStr as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The pool of the model's statements.
pub(crate) struct Db {
    pool: PgPool,
    /// Opens an explicit transaction, with the statement limits where the connection lacks them.
    begin: Arc<str>,
    mode: PoolMode,
    max_connections: u32,
    waits: Waits,
}

/// The waits for a connection of the calls' leases (sqlx counts none).
#[derive(Default)]
struct Waits {
    waiting: AtomicU64,
    acquired: AtomicU64,
    waited_micros: AtomicU64,
}

/// The pool as it is now, and the waits for its connections so far.
#[derive(Debug, Clone, Copy)]
pub struct PoolFigures {
    pub max: u32,
    pub open: u32,
    pub idle: u32,
    /// Leases waiting for a connection now.
    pub waiting: u64,
    /// Connections handed to leases since start, and the time they waited for them in all.
    pub acquired: u64,
    pub waited: Duration,
}

impl Db {
    /// Opens the pool lazily: the first statement connects.
    pub(crate) fn new(config: &Config) -> Result<Self> {
        let limits = statement_limits(config.db_statement_timeout);
        let options = connect_options(config.database_url.expose())?;
        let (options, begin) = match config.database_pool_mode {
            PoolMode::Session => (options.options(limits), Arc::from("BEGIN")),
            PoolMode::Transaction => (
                // PgBouncer passes on only the startup parameters it knows.
                options.statement_cache_capacity(0).extra_float_digits(None),
                Arc::from(begin_with_limits(&limits)),
            ),
        };
        let pool = PgPoolOptions::new()
            .max_connections(config.db_max_connections)
            .acquire_timeout(config.db_acquire_timeout)
            // A broken connection shows up as an error on use and is then dropped; pinging before
            // every acquire would cost a round trip per query.
            .test_before_acquire(false)
            .idle_timeout(Duration::from_secs(600))
            .connect_lazy_with(options);
        let max_connections = config.db_max_connections;
        Ok(Self { pool, begin, mode: config.database_pool_mode, max_connections, waits: Waits::default() })
    }

    pub(crate) async fn acquire(&self) -> Result<PoolConnection<Postgres>> {
        let started = Instant::now();
        self.waits.waiting.fetch_add(1, Ordering::Relaxed);
        let acquired = self.pool.acquire().await;
        self.waits.waiting.fetch_sub(1, Ordering::Relaxed);
        let waited = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.waits.waited_micros.fetch_add(waited, Ordering::Relaxed);
        self.waits.acquired.fetch_add(1, Ordering::Relaxed);
        Ok(acquired?)
    }

    pub(crate) fn figures(&self) -> PoolFigures {
        PoolFigures {
            max: self.max_connections,
            open: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
            waiting: self.waits.waiting.load(Ordering::Relaxed),
            acquired: self.waits.acquired.load(Ordering::Relaxed),
            waited: Duration::from_micros(self.waits.waited_micros.load(Ordering::Relaxed)),
        }
    }

    /// The statement that starts an explicit transaction on a connection of this pool.
    pub(crate) fn begin_statement(&self) -> &Arc<str> {
        &self.begin
    }

    /// The `BEGIN` each statement runs after when it needs a transaction of its own.
    pub(crate) fn own_transaction(&self) -> Option<Arc<str>> {
        (self.mode == PoolMode::Transaction).then(|| self.begin.clone())
    }

    /// An explicit transaction on a connection of the pool.
    pub(crate) async fn begin(&self) -> Result<sqlx::Transaction<'static, Postgres>> {
        Ok(self.pool.begin_with(AssertSqlSafe(self.begin.clone())).await?)
    }

    async fn in_own_transaction<'q>(&self, query: impl Execute<'q, Postgres> + 'q) -> sqlx::Result<Vec<Step>> {
        let mut conn = self.pool.acquire().await?;
        in_own_transaction(&mut conn, &self.begin, query).await
    }

    pub(crate) async fn close(&self) {
        self.pool.close().await;
    }
}

impl fmt::Debug for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Db").field("mode", &self.mode).finish_non_exhaustive()
    }
}

/// Parses a Postgres URL.
pub(crate) fn connect_options(url: &str) -> Result<PgConnectOptions> {
    PgConnectOptions::from_str(url).map_err(Error::Db)
}

/// Every statement is stopped past `statement_timeout`, and a transaction idle that long between
/// its statements; a statement whose client has gone is stopped at Postgres' next check for it
/// (see `lease.rs`); and no statement runs on parallel workers: a user's share of the database
/// is `USER_MAX_INFLIGHT` backends, and with parallel plans each of them could take two more
/// processes (an expensive filter from one user ran on 9 at once and took the victim's p99 from
/// 6 to 139 ms on two cores; bench/hostile.sh).
fn statement_limits(statement_timeout: Duration) -> [(&'static str, String); 4] {
    [
        ("statement_timeout", format!("{}ms", statement_timeout.as_millis())),
        // A transaction's connection waits between its calls only for the server's own work on
        // them; should that ever stall, Postgres ends the transaction rather than hold its locks.
        ("idle_in_transaction_session_timeout", format!("{}ms", statement_timeout.as_millis())),
        ("client_connection_check_interval", format!("{}ms", CLIENT_CHECK_INTERVAL.as_millis())),
        ("max_parallel_workers_per_gather", "0".to_string()),
    ]
}

/// One message (one round trip): forget the statements an earlier transaction on this server
/// connection prepared (sqlx names them from a counter of its own per client connection, so
/// two clients' names collide), then begin with the limits. The values are numbers from the
/// configuration.
fn begin_with_limits(limits: &[(&'static str, String)]) -> String {
    let settings: String = limits.iter().map(|(name, value)| format!(" SET LOCAL {name} = '{value}';")).collect();
    format!("DEALLOCATE ALL; BEGIN;{settings}")
}

/// A pool connection that runs each statement the way its pool needs: as it is, or (through
/// PgBouncer) in a transaction of its own.
pub(crate) struct StatementConn<'c> {
    conn: &'c mut PoolConnection<Postgres>,
    own_transaction: Option<&'c Arc<str>>,
}

impl<'c> StatementConn<'c> {
    pub(crate) fn new(conn: &'c mut PoolConnection<Postgres>, own_transaction: Option<&'c Arc<str>>) -> Self {
        Self { conn, own_transaction }
    }
}

impl fmt::Debug for StatementConn<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StatementConn").field("own_transaction", &self.own_transaction.is_some()).finish()
    }
}

type Step = Either<PgQueryResult, PgRow>;

/// Runs `query` between `begin` and its commit (or, when it fails, a rollback), and reads all
/// it answers: the server connection is the caller's only until the transaction ends.
async fn in_own_transaction<'q>(
    conn: &mut PoolConnection<Postgres>,
    begin: &Arc<str>,
    query: impl Execute<'q, Postgres> + 'q,
) -> sqlx::Result<Vec<Step>> {
    let mut open = OpenTransaction { conn, ended: false };
    open.conn.execute(sqlx::raw_sql(AssertSqlSafe(begin.clone()))).await?;
    let steps = open.conn.fetch_many(query).try_collect().await;
    let end = if steps.is_ok() { "COMMIT" } else { "ROLLBACK" };
    // A failed commit kept nothing: the statement's answer does not stand.
    open.conn.execute(sqlx::raw_sql(end)).await?;
    open.ended = true;
    steps
}

/// A connection inside a transaction of its own. Should the transaction not be seen to end (an
/// error on the way, or the caller's future dropped midway), the pool gets the connection back
/// closed: returned, its open transaction would take in the next statement run on it.
struct OpenTransaction<'a> {
    conn: &'a mut PoolConnection<Postgres>,
    ended: bool,
}

impl Drop for OpenTransaction<'_> {
    fn drop(&mut self) {
        if !self.ended {
            self.conn.close_on_drop();
        }
    }
}

/// What asks for a statement kept prepared (sqlx's `prepare` and `describe`, which nothing here
/// calls) gets this through PgBouncer: a prepared statement would not outlive its transaction.
fn nothing_kept<T: Send + 'static>() -> BoxFuture<'static, sqlx::Result<T>> {
    Box::pin(std::future::ready(Err(sqlx::Error::Protocol(
        "no statement stays prepared through a transaction-pooling PgBouncer".into(),
    ))))
}

fn stream_of<'e>(
    steps: impl Future<Output = sqlx::Result<Vec<Step>>> + Send + 'e,
) -> BoxStream<'e, sqlx::Result<Step>> {
    stream::once(steps).map_ok(|steps| stream::iter(steps.into_iter().map(Ok))).try_flatten().boxed()
}

fn first_row<'e>(
    steps: impl Future<Output = sqlx::Result<Vec<Step>>> + Send + 'e,
) -> BoxFuture<'e, sqlx::Result<Option<PgRow>>> {
    Box::pin(async move { Ok(steps.await?.into_iter().find_map(Either::right)) })
}

impl<'c> Executor<'c> for StatementConn<'c> {
    type Database = Postgres;

    fn fetch_many<'e, 'q: 'e, E>(self, query: E) -> BoxStream<'e, sqlx::Result<Step>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Postgres>,
    {
        match self.own_transaction {
            None => self.conn.as_mut().fetch_many(query),
            Some(begin) => stream_of(in_own_transaction(self.conn, begin, query)),
        }
    }

    fn fetch_optional<'e, 'q: 'e, E>(self, query: E) -> BoxFuture<'e, sqlx::Result<Option<PgRow>>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Postgres>,
    {
        match self.own_transaction {
            None => self.conn.as_mut().fetch_optional(query),
            Some(begin) => first_row(in_own_transaction(self.conn, begin, query)),
        }
    }

    fn prepare_with<'e>(self, sql: SqlStr, parameters: &'e [PgTypeInfo]) -> BoxFuture<'e, sqlx::Result<PgStatement>>
    where
        'c: 'e,
    {
        match self.own_transaction {
            None => self.conn.as_mut().prepare_with(sql, parameters),
            Some(_) => nothing_kept(),
        }
    }

    fn describe<'e>(self, sql: SqlStr) -> BoxFuture<'e, sqlx::Result<Describe<Postgres>>>
    where
        'c: 'e,
    {
        match self.own_transaction {
            None => self.conn.as_mut().describe(sql),
            Some(_) => nothing_kept(),
        }
    }
}

impl<'p> Executor<'p> for &'p Db {
    type Database = Postgres;

    fn fetch_many<'e, 'q: 'e, E>(self, query: E) -> BoxStream<'e, sqlx::Result<Step>>
    where
        'p: 'e,
        E: 'q + Execute<'q, Postgres>,
    {
        match self.mode {
            PoolMode::Session => self.pool.fetch_many(query),
            PoolMode::Transaction => stream_of(self.in_own_transaction(query)),
        }
    }

    fn fetch_optional<'e, 'q: 'e, E>(self, query: E) -> BoxFuture<'e, sqlx::Result<Option<PgRow>>>
    where
        'p: 'e,
        E: 'q + Execute<'q, Postgres>,
    {
        match self.mode {
            PoolMode::Session => self.pool.fetch_optional(query),
            PoolMode::Transaction => first_row(self.in_own_transaction(query)),
        }
    }

    fn prepare_with<'e>(self, sql: SqlStr, parameters: &'e [PgTypeInfo]) -> BoxFuture<'e, sqlx::Result<PgStatement>>
    where
        'p: 'e,
    {
        match self.mode {
            PoolMode::Session => self.pool.prepare_with(sql, parameters),
            PoolMode::Transaction => nothing_kept(),
        }
    }

    fn describe<'e>(self, sql: SqlStr) -> BoxFuture<'e, sqlx::Result<Describe<Postgres>>>
    where
        'p: 'e,
    {
        match self.mode {
            PoolMode::Session => self.pool.describe(sql),
            PoolMode::Transaction => nothing_kept(),
        }
    }
}
