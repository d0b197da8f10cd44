//! The binary's steps for shipping: `web-server migrate` applies what is pending and says what,
//! `MIGRATE_ON_START=false` keeps `serve` from migrating, and `web-server healthcheck` answers
//! with its exit code whether the server at `LISTEN_ADDR` is ready.

mod common;

use common::spawn_app;
use lib_model::MIGRATOR;
use lib_model::test_support::TestDb;
use std::process::{Command, Output};

/// Runs the server binary with `args` in development, against the database at `url`.
fn web_server(args: &[&str], vars: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_web-server"))
        .args(args)
        .env_clear()
        .env("APP_ENV", "development")
        .env("RUST_LOG", "warn")
        .envs(vars.iter().copied())
        .output()
        .expect("the server binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn migrate_applies_what_is_pending_says_what_and_then_finds_nothing() {
    let db = TestDb::empty().await;
    let first = web_server(&["migrate"], &[("DATABASE_URL", db.url())]);
    assert!(first.status.success(), "{first:?}");
    let lines: Vec<String> = stdout(&first).lines().map(str::to_string).collect();
    let expected: Vec<String> = MIGRATOR.iter().map(|m| format!("applied {} {}", m.version, m.description)).collect();
    assert_eq!(lines, expected);

    let again = web_server(&["migrate"], &[("DATABASE_URL", db.url())]);
    assert!(again.status.success(), "{again:?}");
    assert_eq!(stdout(&again), "no pending migration\n");
}

#[tokio::test]
async fn a_server_told_not_to_migrate_on_start_leaves_the_schema_alone() {
    let db = TestDb::empty().await;
    let mut config = db.config();
    config.env = lib_core::config::AppEnv::Production;
    config.migrate_on_start = false;
    let mm = web_server::prepare(&config, std::sync::Arc::new(lib_core::SystemClock)).await.expect("prepare");
    let url = db.url().to_string();
    let tables = lib_model::operator_sql::fetch_i64(
        &url,
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()",
    )
    .await;
    assert_eq!(tables, 0, "nothing was migrated");
    mm.close().await;
}

// Two workers: the server under test runs on one while the test waits for the binary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthcheck_exits_0_for_a_ready_server_and_1_when_none_answers() {
    let app = spawn_app().await;
    let ready = web_server(&["healthcheck"], &[("LISTEN_ADDR", &app.addr.to_string())]);
    assert!(ready.status.success(), "{ready:?}");

    // A port nothing listens on: bound, then let go.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let down = web_server(&["healthcheck"], &[("LISTEN_ADDR", &free.to_string())]);
    assert_eq!(down.status.code(), Some(1), "{down:?}");
    assert!(String::from_utf8_lossy(&down.stderr).contains("cannot connect"), "{down:?}");
}
