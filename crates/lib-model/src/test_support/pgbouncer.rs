//! [`PgBouncer`]: Debian's PgBouncer (1.18) in transaction mode in front of the tests' server,
//! for tests of the pool through it.

use crate::db::connect_options;
use crate::dev_cluster::tools::is_root;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A PgBouncer process, stopped when the value is dropped.
pub struct PgBouncer {
    child: Child,
    port: u16,
    dir: PathBuf,
    user: String,
}

impl PgBouncer {
    /// Whether `pgbouncer` can run here. Without it a test of the pool through it is skipped,
    /// saying so, so that `cargo test` works on a machine with only Postgres; CI sets
    /// `REQUIRE_PGBOUNCER`, and there a missing PgBouncer fails the test instead.
    pub fn available() -> bool {
        let installed = Command::new(program()).arg("--version").output().is_ok_and(|out| out.status.success());
        if !installed {
            assert!(
                std::env::var_os("REQUIRE_PGBOUNCER").is_none(),
                "REQUIRE_PGBOUNCER is set but pgbouncer does not run"
            );
            eprintln!("skipped: pgbouncer is not installed (apt-get install pgbouncer)");
        }
        installed
    }

    /// Starts PgBouncer in transaction mode in front of the server of `database_url`, passing
    /// any database name through, with at most `server_connections` server connections per
    /// database and user: fewer than the pool's, so that its connections take turns on them.
    pub fn start(database_url: &str, server_connections: u32) -> Self {
        let server = connect_options(database_url).expect("a valid database URL");
        // A Unix socket's folder (PGHOST may name one) is a host to PgBouncer too.
        let host = match server.get_socket() {
            Some(folder) => folder.display().to_string(),
            None if server.get_host() == "localhost" => "127.0.0.1".to_string(),
            None => server.get_host().to_string(),
        };
        let port =
            TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).and_then(|l| l.local_addr()).expect("a free port").port();
        let dir = std::env::temp_dir().join(format!("pgbouncer-test-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a folder for PgBouncer's files");
        let ini = format!(
            "[databases]\n* = host={host} port={server_port}\n\n[pgbouncer]\nlisten_addr = 127.0.0.1\n\
             listen_port = {port}\nunix_socket_dir =\nauth_type = trust\nauth_file = {users}\n\
             pool_mode = transaction\ndefault_pool_size = {server_connections}\nmax_client_conn = 200\n\
             log_connections = 0\nlog_disconnections = 0\n",
            server_port = server.get_port(),
            users = dir.join("users.txt").display(),
        );
        std::fs::write(dir.join("pgbouncer.ini"), ini).expect("PgBouncer's configuration written");
        // What PgBouncer logs in to the server with (the clients it trusts).
        let users = format!("\"{}\" \"{}\"\n", server.get_username(), password_in(database_url));
        std::fs::write(dir.join("users.txt"), users).expect("its user list");
        let log = std::fs::File::create(dir.join("pgbouncer.log")).expect("its log");

        let mut command = Command::new(program());
        if is_root() {
            // PgBouncer refuses to run as root; it reads its files before it switches.
            command.args(["-u", "postgres"]);
        }
        let child = command
            .arg(dir.join("pgbouncer.ini"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("pgbouncer runs (apt-get install pgbouncer)");
        let mut bouncer = Self { child, port, dir, user: server.get_username().to_string() };
        bouncer.wait_listening();
        bouncer
    }

    /// Until it accepts connections; a PgBouncer that exited (its port taken meanwhile, say)
    /// fails the test with its log.
    fn wait_listening(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)).is_err() {
            let exited = self.child.try_wait().ok().flatten();
            assert!(exited.is_none(), "PgBouncer exited ({exited:?}):\n{}", self.log());
            assert!(Instant::now() < deadline, "PgBouncer did not listen within 10 s:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The URL of `database_url`'s database through PgBouncer (trust: no password).
    pub fn url(&self, database_url: &str) -> String {
        let options = connect_options(database_url).expect("a valid database URL");
        let database = options.get_database().unwrap_or("postgres");
        format!("postgres://{}@127.0.0.1:{}/{database}", self.user, self.port)
    }

    /// What PgBouncer logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("pgbouncer.log")).unwrap_or_default()
    }
}

/// The password in `postgres://user:password@...`, or none (the tests' server trusts).
fn password_in(url: &str) -> &str {
    let authority = url.split_once("://").map_or("", |(_, rest)| rest.split(['/', '?']).next().unwrap_or(""));
    let credentials = authority.rsplit_once('@').map_or("", |(credentials, _)| credentials);
    credentials.split_once(':').map_or("", |(_, password)| password)
}

/// Debian installs it in `/usr/sbin`, which is not on every user's `PATH`.
fn program() -> &'static str {
    const DEBIAN: &str = "/usr/sbin/pgbouncer";
    if std::path::Path::new(DEBIAN).exists() { DEBIAN } else { "pgbouncer" }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
