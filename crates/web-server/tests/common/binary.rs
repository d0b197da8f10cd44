//! The server's binary, run as an operator runs it: its own key, a free loopback port, no
//! admin listener, the environment cleared but for what the test adds; killed when the test
//! ends, however it ends.

use reqwest::StatusCode;
use std::net::SocketAddr;
use std::process::{Child, Command};
use std::time::Duration;

/// A running binary.
pub struct Binary(pub Child);

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A key for `PWD_KEY`, made by the binary (`web-server gen-key`).
pub fn pwd_key() -> String {
    let key = Command::new(env!("CARGO_BIN_EXE_web-server")).arg("gen-key").output().unwrap();
    String::from_utf8(key.stdout).unwrap().trim().to_string()
}

/// A loopback address nothing listens on: bound, then let go.
pub fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}

/// `web-server` serving on `addr` from the database at `database_url`, with `key`, logging
/// warnings (more variables, the working folder and the output are the caller's to set).
/// Several may run on one host: none takes the default admin port.
pub fn command(database_url: &str, key: &str, addr: SocketAddr) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_web-server"));
    command
        .env_clear()
        .env("DATABASE_URL", database_url)
        .env("PWD_KEY", key)
        .env("LISTEN_ADDR", addr.to_string())
        .env("ADMIN_LISTEN_ADDR", "")
        .env("RUST_LOG", "warn");
    command
}

/// Waits (at most 30 s) until the binary on `addr` answers that it is ready.
pub async fn wait_ready(client: &reqwest::Client, addr: SocketAddr) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let ready = client.get(format!("http://{addr}/health/ready")).send().await;
        if ready.is_ok_and(|r| r.status() == StatusCode::OK) {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "the binary on {addr} did not become ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
