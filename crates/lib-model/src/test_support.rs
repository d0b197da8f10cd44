//! Fresh databases for tests: each [`TestDb`] is a new database cloned from a migrated template,
//! so tests run in parallel without seeing each other's rows.
//!
//! The server comes from `DATABASE_URL` (the development default otherwise). The template's name
//! carries a hash of the migrations, so a schema change builds a new one; databases of finished
//! tests are dropped, and any a crashed run left behind are dropped by the next run after an hour.

mod pgbouncer;

pub use pgbouncer::PgBouncer;

use crate::db::connect_options;
use crate::dev_cluster;
use crate::dev_db::{admin_connection, quote_ident};
use crate::{MIGRATOR, ModelManager};
use lib_core::config::{Redacted, dev_database_url};
use lib_core::{Clock, Config, SystemClock};
use sqlx::{AssertSqlSafe, ConnectOptions as _, Connection as _, PgConnection};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

impl ModelManager {
    /// How many argon2 runs (hashes and verifications, real or dummy) this manager has done:
    /// what a test compares instead of timings to see that two paths cost the same.
    pub fn argon2_runs(&self) -> u64 {
        self.pwd().argon2_runs()
    }
}

/// Whether a write that trips `constraint` answers a client error (rather than `Internal`): what
/// the schema test asks of every constraint a client's data can trip.
pub fn constraint_is_mapped(constraint: &str) -> bool {
    crate::error::constraint_error(constraint).is_some()
}

/// The server the tests' databases are made on: `DATABASE_URL`, else the development default
/// (`PGHOST`/`PGPORT` honoured), else the private cluster that [`dev_cluster::resolve`] starts
/// when nothing answers there. Resolved once per test binary.
async fn server_url() -> &'static str {
    static URL: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    URL.get_or_init(|| async {
        match std::env::var("DATABASE_URL") {
            Ok(url) => url,
            Err(_) => {
                let default = dev_database_url(env("PGHOST").as_deref(), env("PGPORT").as_deref());
                dev_cluster::resolve(&default)
                    .await
                    .unwrap_or_else(|error| panic!("no database for the tests: {error}"))
            }
        }
    })
    .await
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.trim().is_empty())
}

const PREFIX: &str = "apptest_";
const STALE_AFTER_SECS: u64 = 3600;

/// A database of its own for one test, dropped when the value is.
pub struct TestDb {
    url: String,
    name: String,
}

impl TestDb {
    /// A migrated database.
    pub async fn new() -> Self {
        Self::create(true).await
    }

    /// A database with nothing in it, not even the migrations.
    pub async fn empty() -> Self {
        Self::create(false).await
    }

    async fn create(migrated: bool) -> Self {
        let server_url = server_url().await;
        let (mut admin, _) = admin_connection(server_url).await.expect("Postgres answers on DATABASE_URL");
        let template = match migrated {
            true => ensure_template(&mut admin, server_url).await,
            false => "template0".to_string(),
        };

        let name = format!("{PREFIX}{}_{}", unix_secs(), random_suffix());
        sqlx::raw_sql(AssertSqlSafe(format!(
            "CREATE DATABASE {} TEMPLATE {}",
            quote_ident(&name),
            quote_ident(&template)
        )))
        .execute(&mut admin)
        .await
        .expect("create the test database from the template");
        drop_stale(&mut admin).await;

        let url = connect_options(server_url).expect("valid DATABASE_URL").database(&name).to_url_lossy().to_string();
        Self { url, name }
    }

    /// A development configuration pointing at this database.
    pub fn config(&self) -> Config {
        let mut config = Config::development();
        config.database_url = Redacted::new(self.url.clone());
        config.database_url_is_default = false;
        config
    }

    /// A model manager on this database with the given configuration and clock.
    pub fn mm_with(&self, config: &Config, clock: Arc<dyn Clock>) -> ModelManager {
        let mut config = config.clone();
        config.database_url = Redacted::new(self.url.clone());
        ModelManager::with_clock(&config, clock).expect("model manager")
    }

    pub fn mm(&self) -> ModelManager {
        self.mm_with(&self.config(), Arc::new(SystemClock))
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // Drop runs inside the test's runtime, which cannot be blocked on: use a thread of its own.
        let url = self.url.clone();
        let name = self.name.clone();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            runtime.block_on(async {
                let (mut admin, _) = admin_connection(&url).await.ok()?;
                let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(&name));
                sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut admin).await.ok()
            })
        });
        let _ = dropped.join();
    }
}

/// The migrated template, made once per schema version under an advisory lock.
async fn ensure_template(admin: &mut PgConnection, server_url: &str) -> String {
    let checksum = MIGRATOR
        .iter()
        .flat_map(|m| m.checksum.iter().copied())
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| (hash ^ byte as u64).wrapping_mul(0x100_0000_01b3));
    let template = format!("{PREFIX}template_{checksum:016x}");
    let lock_key = (checksum & 0x7fff_ffff) as i64;

    sqlx::query("SELECT pg_advisory_lock($1)").bind(lock_key).execute(&mut *admin).await.expect("advisory lock");
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(&template)
        .fetch_one(&mut *admin)
        .await
        .expect("look up the template");
    if !exists {
        // Build under a temporary name and rename, so a half-built template is never used.
        let building = format!("{template}_building");
        for sql in [
            format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(&building)),
            format!("CREATE DATABASE {}", quote_ident(&building)),
        ] {
            sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut *admin).await.expect("prepare the template");
        }
        let options = connect_options(server_url).expect("valid DATABASE_URL").database(&building);
        let mut conn = PgConnection::connect_with(&options).await.expect("connect to the template");
        MIGRATOR.run(&mut conn).await.expect("migrate the template");
        conn.close().await.expect("close the template connection");
        let sql = format!("ALTER DATABASE {} RENAME TO {}", quote_ident(&building), quote_ident(&template));
        sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut *admin).await.expect("publish the template");
        drop_other_templates(admin, &template).await;
    }
    sqlx::query("SELECT pg_advisory_unlock($1)").bind(lock_key).execute(&mut *admin).await.expect("unlock");
    template
}

/// Templates of earlier schema versions are of no more use once a new one is built.
async fn drop_other_templates(admin: &mut PgConnection, current: &str) {
    let stale: Vec<String> = sqlx::query_scalar(
        "SELECT datname FROM pg_database WHERE datname LIKE 'apptest\\_template\\_%' AND datname <> $1",
    )
    .bind(current)
    .fetch_all(&mut *admin)
    .await
    .unwrap_or_default();
    for name in stale {
        let _ = sqlx::raw_sql(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {}", quote_ident(&name))))
            .execute(&mut *admin)
            .await;
    }
}

/// Drops test databases older than an hour: what a killed test run left behind.
async fn drop_stale(admin: &mut PgConnection) {
    let names: Vec<String> = sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'apptest\\_%'")
        .fetch_all(&mut *admin)
        .await
        .unwrap_or_default();
    let now = unix_secs();
    for name in names {
        let created = name.strip_prefix(PREFIX).and_then(|rest| rest.split('_').next()?.parse::<u64>().ok());
        if created.is_some_and(|created| created + STALE_AFTER_SECS < now) {
            let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(&name));
            let _ = sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut *admin).await;
        }
    }
}

fn unix_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}

fn random_suffix() -> String {
    lib_auth::SessionToken::generate().as_str()[..12].to_lowercase().replace(['-', '_'], "x")
}
