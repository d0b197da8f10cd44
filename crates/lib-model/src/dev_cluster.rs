//! A private Postgres for development and tests, so a fresh machine needs no database set-up.
//!
//! [`resolve`] takes the development default URL. When a server answers there, that is the one
//! used. When nothing answers, it finds the machine's Postgres server binaries (`initdb`,
//! `pg_ctl`), creates a cluster once under `target/dev-postgres/` (trust authentication, a Unix
//! socket in that folder and a loopback port of its own, fsync off), starts it, and answers its
//! URL; the cluster keeps running for the next start, until [`stop`]. Concurrent starts (two
//! terminals, parallel test binaries) take a file lock around creating and starting it.
//!
//! `initdb` and `postgres` refuse to run as root; as root (how CI runs) they run as the
//! `postgres` system user, who owns the cluster's files. Development only: production never gets
//! here, because its `DATABASE_URL` must be given.

pub(crate) mod tools;

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions as _, Connection as _, PgConnection};
use std::fs::{self, File, OpenOptions};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::str::FromStr as _;
use std::time::Duration;
use tools::Tools;

/// Where the cluster lives: the workspace's `target/dev-postgres` (beside the build output, so a
/// `cargo clean` removes it and git never sees it).
const TARGET_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../target");
/// The first port tried for the cluster; the next free one above it is kept for good.
const FIRST_PORT: u16 = 54329;
/// How long a probe of the default address may take before it counts as "nothing answers".
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// Why no development database could be had; each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(
        "nothing answers at {addr}, and no Postgres server binaries (initdb, pg_ctl) were found on PATH \
         or in {searched} to start a private one. Install Postgres (Debian/Ubuntu: `sudo apt-get install \
         postgresql`; macOS: `brew install postgresql@16`), or start one with `docker run -d -p 5432:5432 \
         -e POSTGRES_PASSWORD=welcome postgres:16`, or set DATABASE_URL to a server you have"
    )]
    NoBinaries { addr: String, searched: String },
    #[error(
        "the Postgres at {addr} refused the password of user `{user}` (the development default is \
         `welcome`): set DATABASE_URL to postgres://USER:PASSWORD@{addr}/app_dev, or give `{user}` that \
         password (`ALTER ROLE {user} PASSWORD 'welcome'`)"
    )]
    WrongPassword { addr: String, user: String },
    #[error(
        "the Postgres at {addr} has no role `{user}`: create it (`createuser --superuser {user}`, as \
         the postgres system user) or set DATABASE_URL to a role that can create databases"
    )]
    MissingRole { addr: String, user: String },
    #[error("the Postgres at {addr} answered but cannot be used: {cause}; set DATABASE_URL to a server you have")]
    Unusable { addr: String, cause: String },
    #[error(
        "the private development Postgres in {dir}: {step} failed: {detail}. Remove that folder to \
         start afresh (as root, the postgres system user must be able to reach it), or set DATABASE_URL"
    )]
    Cluster { dir: String, step: &'static str, detail: String },
}

/// The URL to develop and test against: `default_url` when a server answers there, else the
/// private cluster's (started if need be), with the same user, password and database name.
pub async fn resolve(default_url: &str) -> Result<String, SetupError> {
    let options = PgConnectOptions::from_str(default_url).map_err(|e| SetupError::Unusable {
        addr: "the default address (PGHOST, PGPORT)".into(),
        cause: e.to_string(),
    })?;
    let addr = format!("{}:{}", options.get_host(), options.get_port());
    let user = options.get_username().to_string();
    let probe = options.clone().database("postgres");
    match tokio::time::timeout(PROBE_TIMEOUT, PgConnection::connect_with(&probe)).await {
        Ok(Ok(connection)) => {
            let _ = connection.close().await;
            return Ok(default_url.to_string());
        }
        // Accepted but silent: nothing usable answers there either.
        Err(_elapsed) => {}
        Ok(Err(error)) => match error.as_database_error().and_then(|e| e.code()).as_deref() {
            Some("28P01") => return Err(SetupError::WrongPassword { addr, user }),
            // 28000 is also a refusal by pg_hba.conf or peer authentication: only a role that
            // does not exist gets the advice to create it.
            Some("28000") if error.to_string().contains("does not exist") => {
                return Err(SetupError::MissingRole { addr, user });
            }
            Some(_) => return Err(SetupError::Unusable { addr, cause: error.to_string() }),
            // Refused, unreachable, timed out: nothing answers there.
            None => {}
        },
    }
    // The cluster of an earlier start, still running: no lock, no process to spawn.
    let running = recorded_port().map(|port| on_cluster(&options, port));
    if let Some(cluster) = running
        && let Ok(connection) = PgConnection::connect_with(&cluster.clone().database("postgres")).await
    {
        let _ = connection.close().await;
        log_use("using the private development Postgres", cluster.get_port());
        return Ok(cluster.to_url_lossy().to_string());
    }
    let started = tokio::task::spawn_blocking(move || ensure_running(&addr))
        .await
        .map_err(|e| cluster_error("starting", e.to_string()))??;
    let what =
        if started.now { "started a private development Postgres" } else { "using the private development Postgres" };
    log_use(what, started.port);
    Ok(on_cluster(&options, started.port).to_url_lossy().to_string())
}

/// The default's user and database on the cluster's loopback port. Built anew rather than
/// changed: a default whose `PGHOST` is a socket folder would keep connecting to that folder.
fn on_cluster(default: &PgConnectOptions, port: u16) -> PgConnectOptions {
    let database = default.get_database().unwrap_or("postgres");
    PgConnectOptions::new_without_pgpass()
        .host("127.0.0.1")
        .port(port)
        .username(default.get_username())
        .database(database)
}

/// The one line a start logs about the private cluster.
fn log_use(what: &str, port: u16) {
    tracing::info!(
        dir = %cluster_dir().display(), port,
        "nothing answers at the default database address: {what} (it keeps running; \
         `cargo run -p web-server -- dev-db stop` stops it)"
    );
}

/// `web-server dev-db stop`: stops the private cluster if it runs; answers whether it did.
pub fn stop() -> Result<bool, SetupError> {
    let dir = cluster_dir();
    let data = dir.join("data");
    if !data.join("PG_VERSION").exists() {
        return Ok(false);
    }
    let _lock = lock(&dir)?;
    let tools = Tools::find().map_err(|searched| cluster_error("finding pg_ctl", searched))?;
    if !tools.is_running(&data)? {
        return Ok(false);
    }
    tools.run("pg_ctl stop", &tools.pg_ctl, &["stop", "-D", &path_arg(&data), "-m", "fast", "-w"])?;
    Ok(true)
}

struct Started {
    port: u16,
    /// Started by this call, not found running.
    now: bool,
}

/// Creates the cluster if it does not exist and starts it if it is not running, under the lock.
fn ensure_running(addr: &str) -> Result<Started, SetupError> {
    let dir = cluster_dir();
    let _lock = lock(&dir)?;
    let tools = Tools::find().map_err(|searched| SetupError::NoBinaries { addr: addr.to_string(), searched })?;
    let data = dir.join("data");
    if !data.join("PG_VERSION").exists() {
        create(&tools, &dir, &data)?;
    }
    let port = recorded_port().ok_or_else(|| cluster_error("reading its port", "its `port` file is missing"))?;
    if tools.is_running(&data)? {
        return Ok(Started { port, now: false });
    }
    let log = dir.join("server.log");
    let start = ["start", "-D", &path_arg(&data), "-l", &path_arg(&log), "-w", "-t", "60"];
    match tools.run("pg_ctl start", &tools.pg_ctl, &start) {
        Ok(()) => Ok(Started { port, now: true }),
        // The server's own reason is in its log, not in what pg_ctl printed.
        Err(SetupError::Cluster { dir, step, detail }) => {
            let tail = log_tail(&log);
            let mut last: Vec<&str> = tail.lines().rev().take(3).collect();
            last.reverse();
            Err(SetupError::Cluster { dir, step, detail: format!("{detail}; server.log ends: {}", last.join(" | ")) })
        }
        Err(other) => Err(other),
    }
}

/// The last few KiB of the server's log (it grows for as long as the cluster is kept).
fn log_tail(log: &Path) -> String {
    const TAIL_BYTES: u64 = 4096;
    let mut tail = Vec::new();
    if let Ok(mut file) = File::open(log) {
        let start = file.metadata().map_or(0, |m| m.len().saturating_sub(TAIL_BYTES));
        let _ = file.seek(SeekFrom::Start(start)).and_then(|_| file.read_to_end(&mut tail));
    }
    String::from_utf8_lossy(&tail).into_owned()
}

/// `initdb` into `data`, then the settings of a throwaway development server.
fn create(tools: &Tools, dir: &Path, data: &Path) -> Result<(), SetupError> {
    fs::create_dir_all(dir).map_err(|e| cluster_error("creating its folder", e.to_string()))?;
    tools.hand_over(dir)?;
    let port = free_port()?;
    let data_arg = path_arg(data);
    let base = ["-D", &data_arg, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-sync"];
    // A UTF-8 locale, so that case-insensitive filters fold non-ASCII letters; C.UTF-8 where the
    // C library has it, en_US.UTF-8 (macOS) otherwise.
    let made = ["--locale=C.UTF-8", "--locale=en_US.UTF-8"]
        .iter()
        .find_map(|locale| tools.run("initdb", &tools.initdb, &[&base[..], &[locale]].concat()).ok());
    if made.is_none() {
        tools.run("initdb", &tools.initdb, &base)?;
    }
    // The socket in the cluster's folder, unless its path would pass the 107 bytes a socket
    // path may have (a deep checkout): then TCP only, which is all the server and tests use.
    let socket_dir = dir.display().to_string();
    let socket_dir = if socket_dir.len() + "/.s.PGSQL.65535".len() < 107 { socket_dir } else { String::new() };
    let settings = format!(
        "\n# The private development server (lib-model dev_cluster.rs)\nport = {port}\n\
         listen_addresses = '127.0.0.1'\nunix_socket_directories = '{socket_dir}'\nmax_connections = 200\n\
         fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
    );
    fs::write(dir.join("port"), port.to_string()).map_err(|e| cluster_error("recording its port", e.to_string()))?;
    let append = |path: PathBuf, text: &str| -> std::io::Result<()> {
        OpenOptions::new().append(true).create(true).open(path)?.write_all(text.as_bytes())
    };
    append(data.join("postgresql.conf"), &settings).map_err(|e| cluster_error("configuring", e.to_string()))
}

/// The port the cluster was created with, if there is one.
fn recorded_port() -> Option<u16> {
    fs::read_to_string(cluster_dir().join("port")).ok()?.trim().parse().ok()
}

fn cluster_dir() -> PathBuf {
    // `target` resolved (made first if need be), so that messages and the socket path read
    // plainly, without `crates/lib-model/../..`.
    let target = PathBuf::from(TARGET_DIR);
    let _ = fs::create_dir_all(&target);
    target.canonicalize().unwrap_or(target).join("dev-postgres")
}

/// An exclusive lock on `target/dev-postgres.lock`, held until dropped (the operating system
/// drops it if the process dies).
fn lock(dir: &Path) -> Result<File, SetupError> {
    let parent = dir.parent().unwrap_or(dir);
    fs::create_dir_all(parent).map_err(|e| cluster_error("creating target/", e.to_string()))?;
    let file = File::create(parent.join("dev-postgres.lock")).map_err(|e| cluster_error("locking", e.to_string()))?;
    file.lock().map_err(|e| cluster_error("locking", e.to_string()))?;
    Ok(file)
}

/// The first port from [`FIRST_PORT`] that nothing listens on.
fn free_port() -> Result<u16, SetupError> {
    (FIRST_PORT..FIRST_PORT + 100)
        .find(|port| std::net::TcpListener::bind(("127.0.0.1", *port)).is_ok())
        .ok_or_else(|| cluster_error("choosing a port", format!("no free port in {FIRST_PORT}..+100")))
}

fn cluster_error(step: &'static str, detail: impl Into<String>) -> SetupError {
    SetupError::Cluster { dir: cluster_dir().display().to_string(), step, detail: detail.into() }
}

fn path_arg(path: &Path) -> String {
    path.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tools::package_dirs;

    #[test]
    fn without_binaries_the_error_names_every_fix() {
        let searched = Tools::find_in(Vec::new()).err().expect("nothing to find in no folder");
        let error = SetupError::NoBinaries { addr: "localhost:5432".into(), searched }.to_string();
        for fix in ["apt-get install postgresql", "brew install postgresql", "docker run", "DATABASE_URL"] {
            assert!(error.contains(fix), "{fix} missing from: {error}");
        }
        assert!(error.contains("/usr/lib/postgresql/<version>/bin"), "{error}");
    }

    #[test]
    fn a_failed_start_reads_only_the_end_of_a_long_log() {
        let log = std::env::temp_dir().join(format!("dev-cluster-log-{}", std::process::id()));
        let long = format!("{}\nsecond to last\nFATAL: the reason\n", "old line\n".repeat(10_000));
        fs::write(&log, long).unwrap();
        let tail = log_tail(&log);
        let _ = fs::remove_file(&log);
        assert!(tail.len() <= 4096, "{}", tail.len());
        assert!(tail.ends_with("second to last\nFATAL: the reason\n"), "{tail}");
    }

    #[test]
    fn package_folders_are_found_newest_version_first() {
        // This machine's Debian package, when installed; otherwise there is nothing to order.
        let debian: Vec<_> = package_dirs().into_iter().filter(|d| d.starts_with("/usr/lib/postgresql")).collect();
        let versions: Vec<u32> = debian
            .iter()
            .filter_map(|d| d.components().nth(4)?.as_os_str().to_str()?.split('.').next()?.parse().ok())
            .collect();
        assert!(versions.windows(2).all(|pair| pair[0] >= pair[1]), "{debian:?}");
        assert!(debian.iter().all(|d| d.ends_with("bin")), "{debian:?}");
    }
}
