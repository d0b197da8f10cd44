//! web-server: the HTTP face of the application, and the only crate that knows HTTP.
//!
//! [`run`] is the one way to start the server: it prepares the database ([`prepare`]) and serves
//! on a given listener until a given shutdown future completes ([`serve`]). `main` calls it with
//! the real listener and SIGTERM/SIGINT; the black-box tests call it with port 0 and a channel.
//!
//! Connections are accepted by the server's own loop ([`listener`]) under the connection caps
//! ([`connections`]), and each is served over HTTP/1.1 with its header-read and keep-alive
//! deadlines ([`connection`]).
//!
//! Layers, outermost first ([`middleware::around`]): request id, span and log line
//! ([`middleware::observe`]) → security headers → catch panic (a handler's panic is that
//! request's 500) → timeout → CSRF and body checks on `POST /api/*` ([`middleware::guard`]) →
//! routes, where the session cookie becomes a `Ctx` ([`extract::SessionCtx`]) for the routes that
//! need one (`/api/rpc`, but for a lone `rpc.discover`); other paths are static files ([`middleware::static_files`]).

mod client_addr;
mod compress;
mod connection;
mod connections;
mod error;
mod extract;
pub mod healthcheck;
mod listener;
mod live;
pub mod logging;
mod metrics;
mod middleware;
mod negotiate;
mod routes;
mod state;
pub mod telemetry;

pub use error::Error;

use lib_core::{Clock, Config, SystemClock};
use lib_model::ModelManager;
use lib_model::dev_db;
use lib_model::session::SessionBmc;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// Why the server could not start (or stopped with an error).
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {0}: {1}")]
    Bind(SocketAddr, #[source] std::io::Error),
    #[error("database: {0}")]
    Database(#[from] lib_model::Error),
    #[error("development database: {0}")]
    DevDatabase(#[from] lib_model::dev_cluster::SetupError),
    #[error("`reset-dev-db` only runs with APP_ENV=development")]
    NotDevelopment,
    #[error("serving failed: {0}")]
    Serve(#[source] std::io::Error),
}

/// Where the server listens: the public listener, and the admin listener (metrics and the
/// diagnostics dashboard) unless it is turned off.
pub struct Listeners {
    pub public: TcpListener,
    pub admin: Option<TcpListener>,
}

impl Listeners {
    /// Binds `LISTEN_ADDR` and, unless it is empty, `ADMIN_LISTEN_ADDR`.
    pub async fn bind(config: &Config) -> Result<Self, StartError> {
        let bind =
            |addr: SocketAddr| async move { TcpListener::bind(addr).await.map_err(|e| StartError::Bind(addr, e)) };
        let public = bind(config.listen_addr).await?;
        let admin = match config.admin_listen_addr {
            Some(addr) => Some(bind(addr).await?),
            None => None,
        };
        Ok(Self { public, admin })
    }
}

/// Prepares the database, then serves until `shutdown` completes.
pub async fn run(
    config: Config,
    listeners: Listeners,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    let config = with_dev_database(config).await?;
    let mm = prepare(&config, Arc::new(SystemClock)).await?;
    serve(config, mm, listeners, shutdown).await
}

/// In development with no `DATABASE_URL`: the default address when a server answers there, else
/// the private cluster (`lib_model::dev_cluster`), started if need be.
pub async fn with_dev_database(mut config: Config) -> Result<Config, StartError> {
    if config.is_development() && config.database_url_is_default {
        let url = lib_model::dev_cluster::resolve(config.database_url.expose()).await?;
        config.database_url = lib_core::config::Redacted::new(url);
    }
    Ok(config)
}

/// In development, creates the database if missing; applies migrations (unless
/// `MIGRATE_ON_START` is off); in development, seeds the demo user into an empty database. Never
/// deletes data.
pub async fn prepare(config: &Config, clock: Arc<dyn Clock>) -> Result<ModelManager, StartError> {
    if config.is_development() && dev_db::create_database_if_missing(config.database_listen_url()).await? {
        tracing::info!("created the development database");
    }
    let mm = ModelManager::with_clock(config, clock)?;
    if config.migrate_on_start {
        for applied in mm.migrate().await? {
            tracing::info!(version = applied.version, description = %applied.description, "applied a migration");
        }
    }
    if config.is_development() && dev_db::seed_if_empty(&mm).await? {
        tracing::info!("seeded the demo user demo1");
    }
    Ok(mm)
}

/// `web-server migrate`: applies the pending migrations (in development, creating the database
/// first if missing) and answers them; nothing else.
pub async fn migrate(config: Config) -> Result<Vec<lib_model::AppliedMigration>, StartError> {
    let config = with_dev_database(config).await?;
    if config.is_development() {
        dev_db::create_database_if_missing(config.database_listen_url()).await?;
    }
    let mm = ModelManager::new(&config)?;
    let applied = mm.migrate().await;
    mm.close().await;
    Ok(applied?)
}

/// Serves HTTP on the listeners until `shutdown` completes, then stops accepting, lets in-flight
/// requests finish for up to `shutdown_grace`, closes the connections still open, and closes the
/// pool. Connections are admitted and timed by the server's own accept loop ([`listener`]).
pub async fn serve(
    config: Config,
    mm: ModelManager,
    listeners: Listeners,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    let Listeners { public: listener, admin } = listeners;
    let addr = listener.local_addr().map_err(StartError::Serve)?;
    let options = listener::Options::from_config(&config, mm.throttled().clone());
    let purge = tokio::spawn(purge_expired_sessions(mm.clone()));
    let revocations = tokio::spawn(lib_model::notifications::run_listener(mm.clone()));
    let state = state::AppState::new(config, mm.clone());
    let hub = state.live.clone();
    let deliveries = tokio::spawn(hub.clone().run(mm.clone()));
    let sampling = tokio::spawn(metrics::sample_every_second(state.metrics.clone(), mm.clone()));
    let admin = admin.map(|admin| tokio::spawn(serve_admin(admin, routes::admin::app(state.clone()))));
    let app = routes::app(state);
    // Upgraded sockets are no longer the accept loop's: the hub closes them when the stop begins.
    let shutdown = async move {
        shutdown.await;
        hub.close_every_socket(live::CloseCode::GoingAway);
    };

    tracing::info!(%addr, max_connections = options.admission.total_cap(), "listening");
    listener::serve(listener, app, options, shutdown).await;
    purge.abort();
    revocations.abort();
    deliveries.abort();
    sampling.abort();
    if let Some(admin) = admin {
        admin.abort();
    }
    if tokio::time::timeout(Duration::from_secs(5), mm.close()).await.is_err() {
        tracing::warn!("the database pool did not close in time");
    }
    tracing::info!("stopped");
    Ok(())
}

/// The admin listener: plain axum, loopback traffic of operators and scrapers, stopped with the
/// server.
async fn serve_admin(listener: TcpListener, app: axum::Router) {
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "admin listener (metrics, dashboard)");
    }
    if let Err(error) = axum::serve(listener, app).await {
        tracing::warn!(%error, "the admin listener stopped");
    }
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

/// `web-server reset-dev-db`: wipes and rebuilds the development database.
pub async fn reset_dev_db(config: Config) -> Result<(), StartError> {
    if !config.is_development() {
        return Err(StartError::NotDevelopment);
    }
    let config = with_dev_database(config).await?;
    dev_db::recreate_database(config.database_url.expose()).await?;
    let mm = prepare(&config, Arc::new(SystemClock)).await?;
    mm.close().await;
    tracing::info!("the development database was reset and seeded");
    Ok(())
}

/// Expired sessions and stale login counters are deleted every ten minutes.
async fn purge_expired_sessions(mm: ModelManager) {
    let mut every = tokio::time::interval(Duration::from_secs(600));
    loop {
        every.tick().await;
        match SessionBmc::purge_expired(&mm).await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "purged expired sessions"),
            Err(error) => tracing::warn!(%error, "could not purge expired sessions"),
        }
    }
}
