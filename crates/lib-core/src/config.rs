//! The typed server configuration: parsed and validated once at start, then passed down.
//!
//! [`Config::from_lookup`] reads named variables through a lookup function, so the binary can
//! pass the process environment while tests pass a plain map. Every variable has a development
//! default; production refuses a missing or development pepper (`PWD_KEY`).

use crate::b64::{b64u_decode, b64u_encode};
use ipnet::IpNet;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// The pepper used when `APP_ENV=development` and `PWD_KEY` is not set. Public on purpose:
/// production refuses to start with it.
pub const DEV_PWD_KEY: &str = "ZGV2ZWxvcG1lbnQtb25seS1wZXBwZXItbmV2ZXItdXNlLWluLXByb2R1Y3Rpb24";
/// The development database at its default address; in production `DATABASE_URL` must be given.
pub const DEV_DATABASE_URL: &str = "postgres://postgres:welcome@localhost:5432/app_dev";

/// The development database when `DATABASE_URL` is not set: [`DEV_DATABASE_URL`] at the address
/// that libpq's own `PGHOST` and `PGPORT` name, if set. When nothing answers there, development
/// and tests start a private cluster instead (lib-model's `dev_cluster`).
/// A `PGHOST` may be a socket folder (`/var/run/postgresql`) or an IPv6 address as well as a name.
pub fn dev_database_url(pghost: Option<&str>, pgport: Option<&str>) -> String {
    let port = pgport.unwrap_or("5432");
    match pghost.unwrap_or("localhost") {
        folder if folder.starts_with('/') => {
            format!("postgres://postgres:welcome@localhost:{port}/app_dev?host={folder}")
        }
        ipv6 if ipv6.contains(':') && !ipv6.starts_with('[') => {
            format!("postgres://postgres:welcome@[{ipv6}]:{port}/app_dev")
        }
        host => format!("postgres://postgres:welcome@{host}:{port}/app_dev"),
    }
}
const MIN_PWD_KEY_BYTES: usize = 32;

/// Which rules apply: development eases set-up, production insists on real secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnv {
    Development,
    Production,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// What `DATABASE_URL` leads to, which decides what a pool connection may keep between
/// statements (`DATABASE_POOL_MODE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolMode {
    /// Postgres, or a pooler that lends a server connection for a whole session: the
    /// statement limits are set once per connection and statements stay prepared.
    Session,
    /// A transaction-pooling PgBouncer, which may hand each transaction to another server
    /// connection: every statement runs in a transaction of its own and nothing is kept.
    Transaction,
}

/// The password pepper. Its bytes never appear in `Debug` output or logs.
#[derive(Clone, PartialEq, Eq)]
pub struct PwdKey(Vec<u8>);

impl PwdKey {
    /// Checks that `text` is base64url of at least 32 bytes.
    pub fn parse(text: &str) -> Result<Self, String> {
        let bytes = b64u_decode(text.trim()).ok_or("is not valid base64url (no padding)")?;
        if bytes.len() < MIN_PWD_KEY_BYTES {
            return Err(format!("decodes to {} bytes, at least {MIN_PWD_KEY_BYTES} are needed", bytes.len()));
        }
        Ok(Self(bytes))
    }

    /// A fresh random key, as `web-server gen-key` prints it.
    pub fn generate() -> String {
        let mut bytes = [0u8; 48];
        getrandom_fill(&mut bytes);
        b64u_encode(bytes)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for PwdKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PwdKey(<redacted>)")
    }
}

fn getrandom_fill(bytes: &mut [u8]) {
    // A machine without an entropy source cannot run this server safely at all.
    getrandom::fill(bytes).expect("the operating system's random source failed");
}

/// A configuration value that must not appear in logs (it may hold a password).
#[derive(Clone, PartialEq, Eq)]
pub struct Redacted<T>(T);

impl<T> Redacted<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }

    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Redacted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// A variable that could not be used; the message names it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("configuration variable {var}: {reason}")]
pub struct ConfigError {
    pub var: &'static str,
    pub reason: String,
}

/// Everything the server needs to know about its surroundings.
#[derive(Debug, Clone)]
pub struct Config {
    pub env: AppEnv,
    pub database_url: Redacted<String>,
    /// `DATABASE_URL` was not set: the development default, which may be replaced by a private
    /// cluster when nothing answers there.
    pub database_url_is_default: bool,
    /// `DATABASE_LISTEN_URL`: a direct connection for what needs a session of its own (the
    /// revocation listener's `LISTEN`, the migrations' advisory lock); `None` means `database_url`.
    pub database_listen_url: Option<Redacted<String>>,
    pub database_pool_mode: PoolMode,
    pub db_max_connections: u32,
    /// How long a request waits for a database connection before it is told the service is
    /// unavailable: the bound on how long an outage can stall a client.
    pub db_acquire_timeout: Duration,
    pub listen_addr: SocketAddr,
    /// The admin listener (metrics, the diagnostics dashboard); `None` when turned off.
    pub admin_listen_addr: Option<SocketAddr>,
    /// Where spans are exported (OTLP over HTTP): `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as given,
    /// else `OTEL_EXPORTER_OTLP_ENDPOINT` with `/v1/traces`; `None`: no exporter at all.
    pub otel_traces_url: Option<String>,
    /// `OTEL_SERVICE_NAME`, default `web-server`.
    pub otel_service_name: String,
    pub pwd_key: PwdKey,
    /// How many password hashes may run at once; more wait, so logins cannot starve other work.
    pub pwd_hash_concurrency: usize,
    pub session_idle: Duration,
    pub session_max: Duration,
    pub cookie_secure: bool,
    /// `WEB_FOLDER`: serve the static files from this folder (development); unset, the frontend
    /// built into the binary.
    pub web_folder: Option<PathBuf>,
    pub log_filter: String,
    pub log_format: LogFormat,
    /// Origins besides the server's own that may call `POST /api/*` from a browser.
    pub allowed_origins: Vec<String>,
    pub body_limit_bytes: usize,
    pub request_timeout: Duration,
    pub shutdown_grace: Duration,
    /// `serve` applies pending migrations before it listens (`MIGRATE_ON_START`, default true);
    /// off when a separate `web-server migrate` step does it.
    pub migrate_on_start: bool,
    pub rpc_batch_limit: usize,
    pub login_fails_per_user: u32,
    pub login_fails_per_addr: u32,
    pub login_window: Duration,
    /// The most bytes one `/api/rpc` answer may hold; a call past it answers -32010.
    pub max_answer_bytes: usize,
    /// The most answer bytes being built at once across all requests: bounds the memory that
    /// answers can take whatever clients do.
    pub answer_bytes_in_flight: usize,
    /// Password verifications and hashes one user, and one client address, may cause within
    /// `pwd_work_window` (signup, login, `change_pwd`, successful or not).
    pub pwd_work_per_user: u32,
    pub pwd_work_per_addr: u32,
    pub pwd_work_window: Duration,
    /// Every database statement of a call is stopped by Postgres past this (-32008).
    pub db_statement_timeout: Duration,
    /// How many calls of one user may use the database at once (per instance).
    pub user_max_inflight: usize,
    /// How long a call beyond `user_max_inflight` waits for a slot before -32029.
    pub user_queue_wait: Duration,
    /// A connection that has not sent complete request headers within this is closed.
    pub header_read_timeout: Duration,
    /// A keep-alive connection idle for this long is closed.
    pub keepalive_idle: Duration,
    /// Most open connections from one client address (the TCP peer).
    pub max_connections_per_addr: usize,
    /// Most open connections in all (kept below the process' file limit at start).
    pub max_connections: usize,
    /// Signups one client address may make within `signup_window`, then 429.
    pub signups_per_addr: u32,
    pub signup_window: Duration,
    /// Reverse proxies whose `X-Forwarded-For` is believed (addresses or CIDR ranges).
    pub trusted_proxies: Vec<IpNet>,
    /// Live updates: open sockets per user (`WS_MAX_PER_USER`), subscriptions per socket
    /// (`WS_MAX_SUBSCRIPTIONS`), and messages queued for a socket before it is closed as too
    /// slow (`WS_SEND_QUEUE`).
    pub ws_max_per_user: usize,
    pub ws_max_subscriptions: usize,
    pub ws_send_queue: usize,
}

impl Config {
    /// Parses the configuration from `lookup` (variable name to value). A variable that is set
    /// but empty counts as not set.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let vars = Vars(&|name| lookup(name).filter(|v| !v.trim().is_empty()));

        let env = match vars.get("APP_ENV").as_deref() {
            None | Some("production") => AppEnv::Production,
            Some("development") => AppEnv::Development,
            Some(other) => {
                return Err(err("APP_ENV", format!("'{other}' is neither 'development' nor 'production'")));
            }
        };
        let dev = env == AppEnv::Development;

        let database_url_is_default = vars.get("DATABASE_URL").is_none();
        let database_url = match vars.get("DATABASE_URL") {
            Some(url) => url,
            None if dev => dev_database_url(vars.get("PGHOST").as_deref(), vars.get("PGPORT").as_deref()),
            None => return Err(err("DATABASE_URL", "must be set in production")),
        };

        let pwd_key = match vars.get("PWD_KEY") {
            Some(text) => PwdKey::parse(&text).map_err(|reason| err("PWD_KEY", reason))?,
            None if dev => PwdKey::parse(DEV_PWD_KEY).expect("the development key is valid"),
            None => return Err(err("PWD_KEY", "must be set in production (`web-server gen-key` makes one)")),
        };
        if !dev && pwd_key.as_bytes() == PwdKey::parse(DEV_PWD_KEY).expect("valid").as_bytes() {
            return Err(err("PWD_KEY", "is the development key; production needs its own (`web-server gen-key`)"));
        }

        let session_idle = vars.seconds("SESSION_IDLE_SEC", 30 * 60)?;
        let session_max = vars.seconds("SESSION_MAX_SEC", 7 * 24 * 3600)?;
        if session_idle > session_max {
            return Err(err("SESSION_IDLE_SEC", "must not be longer than SESSION_MAX_SEC"));
        }

        let log_format = match vars.get("LOG_FORMAT").as_deref() {
            None | Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => return Err(err("LOG_FORMAT", format!("'{other}' is neither 'pretty' nor 'json'"))),
        };

        let max_answer_bytes: usize = vars.number("MAX_ANSWER_BYTES", 16 * 1024 * 1024)?;
        let answer_bytes_in_flight: usize = vars.number("ANSWER_BYTES_IN_FLIGHT", 256 * 1024 * 1024)?;
        if answer_bytes_in_flight < max_answer_bytes {
            return Err(err("ANSWER_BYTES_IN_FLIGHT", "must be at least MAX_ANSWER_BYTES"));
        }

        let database_pool_mode = match vars.get("DATABASE_POOL_MODE").as_deref() {
            None | Some("session") => PoolMode::Session,
            Some("transaction") => PoolMode::Transaction,
            Some(other) => {
                return Err(err("DATABASE_POOL_MODE", format!("'{other}' is neither 'session' nor 'transaction'")));
            }
        };
        if database_pool_mode == PoolMode::Transaction && vars.get("DATABASE_LISTEN_URL").is_none() {
            return Err(err(
                "DATABASE_LISTEN_URL",
                "must be set with DATABASE_POOL_MODE=transaction: the revocation listener's LISTEN and the \
                 migrations need a session of their own, which a transaction-pooling PgBouncer does not keep",
            ));
        }
        let db_max_connections: u32 = vars.number("DB_MAX_CONNECTIONS", 16)?;
        let user_max_inflight: usize = vars.number("USER_MAX_INFLIGHT", 4)?;
        if user_max_inflight >= db_max_connections as usize {
            return Err(err(
                "USER_MAX_INFLIGHT",
                "must be less than DB_MAX_CONNECTIONS, so that one user can never hold the whole pool",
            ));
        }
        let max_connections: usize = vars.number("MAX_CONNECTIONS", 8192)?;
        let max_connections_per_addr: usize = vars.number("MAX_CONNECTIONS_PER_ADDR", 256)?;
        if max_connections_per_addr > max_connections {
            return Err(err("MAX_CONNECTIONS_PER_ADDR", "must not be more than MAX_CONNECTIONS"));
        }
        let trusted_proxies = match vars.get("TRUSTED_PROXIES") {
            Some(list) => parse_networks(&list).map_err(|reason| err("TRUSTED_PROXIES", reason))?,
            None => Vec::new(),
        };

        Ok(Self {
            env,
            database_url: Redacted::new(database_url),
            database_url_is_default,
            database_listen_url: vars.get("DATABASE_LISTEN_URL").map(Redacted::new),
            database_pool_mode,
            db_max_connections,
            db_acquire_timeout: Duration::from_millis(vars.number("DB_ACQUIRE_TIMEOUT_MS", 3000)?),
            listen_addr: vars.parsed("LISTEN_ADDR", "127.0.0.1:8080")?,
            admin_listen_addr: admin_listen_addr(&lookup)?,
            otel_traces_url: vars.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").or_else(|| {
                let base = vars.get("OTEL_EXPORTER_OTLP_ENDPOINT")?;
                Some(format!("{}/v1/traces", base.trim_end_matches('/')))
            }),
            otel_service_name: vars.get("OTEL_SERVICE_NAME").unwrap_or_else(|| "web-server".to_string()),
            pwd_key,
            pwd_hash_concurrency: vars.number("PWD_HASH_CONCURRENCY", 2)?,
            session_idle,
            session_max,
            cookie_secure: vars.parsed("COOKIE_SECURE", if dev { "false" } else { "true" })?,
            web_folder: vars.get("WEB_FOLDER").map(PathBuf::from),
            log_filter: vars.get("RUST_LOG").unwrap_or_else(|| "info".into()),
            log_format,
            allowed_origins: vars
                .get("ALLOWED_ORIGINS")
                .map(|list| list.split(',').map(|o| o.trim().trim_end_matches('/').to_string()).collect())
                .unwrap_or_default(),
            body_limit_bytes: vars.number("BODY_LIMIT_BYTES", 1024 * 1024)?,
            request_timeout: vars.seconds("REQUEST_TIMEOUT_SEC", 30)?,
            shutdown_grace: vars.seconds("SHUTDOWN_GRACE_SEC", 10)?,
            migrate_on_start: vars.parsed("MIGRATE_ON_START", "true")?,
            rpc_batch_limit: vars.number("RPC_BATCH_LIMIT", 100)?,
            login_fails_per_user: vars.number("LOGIN_FAILS_PER_USER", 10)?,
            login_fails_per_addr: vars.number("LOGIN_FAILS_PER_ADDR", 100)?,
            login_window: vars.seconds("LOGIN_WINDOW_SEC", 15 * 60)?,
            max_answer_bytes,
            answer_bytes_in_flight,
            pwd_work_per_user: vars.number("PWD_WORK_PER_USER", 30)?,
            pwd_work_per_addr: vars.number("PWD_WORK_PER_ADDR", 300)?,
            pwd_work_window: vars.seconds("PWD_WORK_WINDOW_SEC", 60)?,
            db_statement_timeout: Duration::from_millis(vars.number("DB_STATEMENT_TIMEOUT_MS", 5000)?),
            user_max_inflight,
            user_queue_wait: Duration::from_millis(vars.number("USER_QUEUE_WAIT_MS", 1000)?),
            header_read_timeout: vars.seconds("HEADER_READ_TIMEOUT_SEC", 10)?,
            keepalive_idle: vars.seconds("KEEPALIVE_IDLE_SEC", 60)?,
            max_connections_per_addr,
            max_connections,
            signups_per_addr: vars.number("SIGNUPS_PER_ADDR", 20)?,
            signup_window: vars.seconds("SIGNUP_WINDOW_SEC", 3600)?,
            trusted_proxies,
            ws_max_per_user: vars.number("WS_MAX_PER_USER", 8)?,
            ws_max_subscriptions: vars.number("WS_MAX_SUBSCRIPTIONS", 32)?,
            ws_send_queue: vars.number("WS_SEND_QUEUE", 1024)?,
        })
    }

    /// The development configuration with no variable set, for tests and tools.
    pub fn development() -> Self {
        Self::from_lookup(|name| (name == "APP_ENV").then(|| "development".to_string()))
            .expect("the development defaults are valid")
    }

    /// The URL of the direct connection: `DATABASE_LISTEN_URL`, else `DATABASE_URL`.
    pub fn database_listen_url(&self) -> &str {
        self.database_listen_url.as_ref().unwrap_or(&self.database_url).expose()
    }

    pub fn is_development(&self) -> bool {
        self.env == AppEnv::Development
    }
}

/// `a.b.c.d, 10.0.0.0/8, ::1`: addresses (a network of one) or CIDR ranges.
fn parse_networks(list: &str) -> Result<Vec<IpNet>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            item.parse::<IpNet>()
                .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("'{item}' is neither an IP address nor a CIDR range"))
        })
        .collect()
}

/// `ADMIN_LISTEN_ADDR`: unset is the default, loopback port 9090; set but empty turns the admin
/// listener off (the one variable where empty is not the same as unset).
fn admin_listen_addr(lookup: &impl Fn(&str) -> Option<String>) -> Result<Option<SocketAddr>, ConfigError> {
    match lookup("ADMIN_LISTEN_ADDR") {
        None => Ok(Some(SocketAddr::from(([127, 0, 0, 1], 9090)))),
        Some(text) if text.trim().is_empty() => Ok(None),
        Some(text) => {
            let addr =
                text.trim().parse().map_err(|_| err("ADMIN_LISTEN_ADDR", format!("'{text}' is not a valid value")))?;
            Ok(Some(addr))
        }
    }
}

fn err(var: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError { var, reason: reason.into() }
}

/// Typed access to the variables, each error naming its variable.
struct Vars<'a>(&'a dyn Fn(&str) -> Option<String>);

impl Vars<'_> {
    fn get(&self, name: &str) -> Option<String> {
        (self.0)(name)
    }

    fn parsed<T: std::str::FromStr>(&self, name: &'static str, default: &str) -> Result<T, ConfigError> {
        let text = self.get(name).unwrap_or_else(|| default.to_string());
        text.trim().parse().map_err(|_| err(name, format!("'{text}' is not a valid value")))
    }

    /// A whole number of at least 1.
    fn number<T: std::str::FromStr + From<u8> + PartialOrd>(
        &self,
        name: &'static str,
        default: u32,
    ) -> Result<T, ConfigError> {
        let value: T = self.parsed(name, &default.to_string())?;
        if value < T::from(1) {
            return Err(err(name, "must be at least 1"));
        }
        Ok(value)
    }

    fn seconds(&self, name: &'static str, default: u32) -> Result<Duration, ConfigError> {
        self.number::<u64>(name, default).map(Duration::from_secs)
    }
}

#[cfg(test)]
mod tests;
