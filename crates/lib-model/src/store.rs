//! [`ModelManager`]: the connection pool, the password service and its budget, shared by every
//! model call.

use crate::db::{Db, connect_options};
use crate::fair_share::FairShare;
use crate::filter::cursor::CursorKey;
use crate::lease::Lease;
use crate::live::{self, LiveEvent};
use crate::pwd::PwdService;
use crate::pwd_budget::PwdBudget;
use crate::session_cache::SessionCache;
use crate::transaction::TxnConn;
use crate::{Error, Result};
use lib_core::{Clock, Config, Ctx, Limit, SystemClock, Throttled};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection as _, PgConnection, PgPool};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

/// The schema migrations under `sql/migrations`, embedded at compile time.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../sql/migrations");

/// Everything a model function needs besides the caller's `Ctx`. Cheap to clone.
#[derive(Clone)]
pub struct ModelManager {
    // One reference count for the rest: a clone per request and per call costs two atomic
    // increments, whatever the manager holds (its connect options alone are a dozen strings).
    shared: Arc<Shared>,
    /// Set in a [`Transaction`](crate::Transaction)'s manager: every call runs on its connection.
    txn: Option<Arc<TxnConn>>,
}

struct Shared {
    db: Db,
    pwd: PwdService,
    /// Seals list cursors; derived from the pepper, so instances of one configuration share it.
    cursor_key: CursorKey,
    pwd_budget: PwdBudget,
    policy: Policy,
    sessions: SessionCache,
    fair_share: Arc<FairShare>,
    /// The direct connection (`DATABASE_LISTEN_URL`) for what needs a session of its own: the
    /// migrations (a session-level advisory lock, no statement timeout) and the revocation
    /// listener (`LISTEN`). Neither survives a transaction-pooling PgBouncer, which hands each
    /// transaction to whichever server connection is free.
    direct_options: PgConnectOptions,
    /// The listener's pool: one connection, opened when the listener starts.
    listen_pool: PgPool,
    /// The batches of changes read (`live::read_changes`), for live updates.
    live_feed: broadcast::Sender<LiveEvent>,
    live_reading: live::Reading,
    throttled: Arc<Throttled>,
}

/// How many announcements the live feed holds for a follower that has not read them yet; one
/// that falls further behind is told it lagged, and starts over as after [`LiveEvent::Lost`].
const LIVE_FEED_CAPACITY: usize = 4096;

/// The account rules the model enforces, taken from the configuration.
pub(crate) struct Policy {
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) session_idle: Duration,
    pub(crate) session_max: Duration,
    pub(crate) login_fails_per_user: u32,
    pub(crate) login_fails_per_addr: u32,
    pub(crate) login_window: Duration,
    pub(crate) pwd_work_per_user: u32,
    pub(crate) pwd_work_per_addr: u32,
    pub(crate) signups_per_addr: u32,
    pub(crate) signup_window: Duration,
}

impl ModelManager {
    /// Opens the pool lazily: the first query connects, and an unreachable database surfaces as
    /// [`Error::Unavailable`] after `db_acquire_timeout` instead of failing the start.
    pub fn new(config: &Config) -> Result<Self> {
        Self::with_clock(config, Arc::new(SystemClock))
    }

    /// As [`ModelManager::new`], with session and throttling times read from `clock`.
    pub fn with_clock(config: &Config, clock: Arc<dyn Clock>) -> Result<Self> {
        let direct_options = connect_options(config.database_listen_url())?;
        let listen_pool = PgPoolOptions::new().max_connections(1).connect_lazy_with(direct_options.clone());
        let policy = Policy {
            clock,
            session_idle: config.session_idle,
            session_max: config.session_max,
            login_fails_per_user: config.login_fails_per_user,
            login_fails_per_addr: config.login_fails_per_addr,
            login_window: config.login_window,
            pwd_work_per_user: config.pwd_work_per_user,
            pwd_work_per_addr: config.pwd_work_per_addr,
            signups_per_addr: config.signups_per_addr,
            signup_window: config.signup_window,
        };
        let shared = Shared {
            db: Db::new(config)?,
            pwd: PwdService::new(config),
            cursor_key: CursorKey::from_pepper(config.pwd_key.as_bytes()),
            pwd_budget: PwdBudget::new(policy.clock.clone(), config.pwd_work_window),
            policy,
            sessions: SessionCache::default(),
            fair_share: Arc::new(FairShare::new(config.user_max_inflight, config.user_queue_wait)),
            direct_options,
            listen_pool,
            live_feed: broadcast::channel(LIVE_FEED_CAPACITY).0,
            live_reading: live::Reading::default(),
            throttled: Arc::default(),
        };
        Ok(Self { shared: Arc::new(shared), txn: None })
    }

    /// Applies pending migrations, then fills in what SQL cannot compute (the confusable
    /// skeletons of usernames that have none); answers the migrations this call applied.
    ///
    /// Migrations run on a connection of their own, without the statement timeout: building an
    /// index over a big table may well take longer than any call should. Instances starting
    /// together take turns under an advisory lock: one applies what is pending, the others then
    /// find nothing left to apply.
    pub async fn migrate(&self) -> Result<Vec<AppliedMigration>> {
        let mut conn = PgConnection::connect_with(&self.shared.direct_options).await?;
        sqlx::query("SELECT pg_advisory_lock($1)").bind(MIGRATE_LOCK).execute(&mut conn).await?;
        let ran = match applied_versions(&mut conn).await {
            Ok(before) => MIGRATOR.run(&mut conn).await.map(|()| before).map_err(migrate_error),
            Err(error) => Err(error),
        };
        // The lock and the connection go together; closing lets a waiting instance go on. A
        // failed close leaves nothing behind that Postgres will not clean up itself.
        let _ = conn.close().await;
        let before = ran?;
        crate::user::backfill_skeletons(self).await?;
        let applied = MIGRATOR.iter().filter(|m| !m.migration_type.is_down_migration() && !before.contains(&m.version));
        Ok(applied.map(|m| AppliedMigration { version: m.version, description: m.description.to_string() }).collect())
    }

    /// Answers whether the database responds right now.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(self.db()).await.is_ok()
    }

    /// Whether this instance's revocation listener is connected, so that live sessions are
    /// served from its cache (for health checks and tests).
    pub fn revocations_live(&self) -> bool {
        self.shared.sessions.is_enabled()
    }

    /// The changes read from now on (while [`crate::notifications::run_listener`] runs and
    /// [`live::start_reading`] was called).
    pub fn live_feed(&self) -> broadcast::Receiver<LiveEvent> {
        self.shared.live_feed.subscribe()
    }

    /// The refusals of the server's limits, counted by whichever layer enforces each.
    pub fn throttled(&self) -> &Arc<Throttled> {
        &self.shared.throttled
    }

    /// The pool's connections and the waits for them, for metrics.
    pub fn pool_figures(&self) -> crate::PoolFigures {
        self.shared.db.figures()
    }

    /// Sessions in this instance's cache, for metrics.
    pub fn cached_sessions(&self) -> usize {
        self.shared.sessions.len()
    }

    pub(crate) fn live_reading(&self) -> &live::Reading {
        &self.shared.live_reading
    }

    /// Hands `event` to the live feed's followers, if any.
    pub(crate) fn announce(&self, event: LiveEvent) {
        // No follower: nobody is subscribed on this instance, nothing to do.
        let _ = self.shared.live_feed.send(event);
    }

    /// Waits for checked-out connections to return, then closes them all.
    pub async fn close(&self) {
        self.shared.db.close().await;
        self.shared.listen_pool.close().await;
    }

    pub(crate) fn db(&self) -> &Db {
        &self.shared.db
    }

    /// A connection for a call of `ctx`'s user, within the user's fair share: waits for one of
    /// the user's slots first (then [`Error::TooManyRequests`]), then for the pool. In a
    /// transaction, its connection (the transaction holds the slot).
    pub(crate) async fn lease(&self, ctx: &Ctx) -> Result<Lease> {
        if let Some(txn) = &self.txn {
            return txn.lease();
        }
        let slot = self.shared.fair_share.take(ctx.user_id()).await.inspect_err(|_| {
            self.throttled().count(Limit::UserInflight);
        })?;
        let conn = self.db().acquire().await?;
        Ok(Lease::new(conn, Some(slot), self.db().own_transaction()))
    }

    /// This manager, with every call run on the transaction's connection `txn`.
    pub(crate) fn in_transaction(&self, txn: Arc<TxnConn>) -> Self {
        Self { txn: Some(txn), ..self.clone() }
    }

    /// The pool of the revocation listener's direct connection.
    pub(crate) fn listen_pool(&self) -> &PgPool {
        &self.shared.listen_pool
    }

    pub(crate) fn cursor_key(&self) -> &CursorKey {
        &self.shared.cursor_key
    }

    pub(crate) fn pwd(&self) -> &PwdService {
        &self.shared.pwd
    }

    pub(crate) fn pwd_budget(&self) -> &PwdBudget {
        &self.shared.pwd_budget
    }

    pub(crate) fn policy(&self) -> &Policy {
        &self.shared.policy
    }

    pub(crate) fn sessions(&self) -> &SessionCache {
        &self.shared.sessions
    }
}

/// A migration that [`ModelManager::migrate`] applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedMigration {
    pub version: i64,
    pub description: String,
}

/// The advisory lock the instances' migrations take turns under ("migrate" in ASCII).
const MIGRATE_LOCK: i64 = 0x006d_6967_7261_7465;

/// The versions applied so far, from sqlx's table of them (missing before the first run).
async fn applied_versions(conn: &mut PgConnection) -> Result<Vec<i64>> {
    let versions = sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success").fetch_all(conn).await;
    match versions {
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P01") => Ok(Vec::new()),
        other => Ok(other?),
    }
}

fn migrate_error(error: sqlx::migrate::MigrateError) -> Error {
    match error {
        sqlx::migrate::MigrateError::Execute(e) => Error::from_db(e),
        other => Error::Db(sqlx::Error::Migrate(Box::new(other))),
    }
}
