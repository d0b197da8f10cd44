//! The server behind a transaction-pooling PgBouncer (Debian's 1.18, no prepared statements in
//! that mode): with `DATABASE_POOL_MODE=transaction` every call works through it while its pool
//! connections take turns on fewer server connections, the statement limits still hold, and
//! what needs a session of its own (the revocation listener's `LISTEN`, the migrations'
//! advisory lock) connects to `DATABASE_LISTEN_URL`, never through the pool's `DATABASE_URL`.

mod common;

use common::{Api, TestApp, assert_error, spawn_app_with, spawn_two_instances_with};
use lib_core::Config;
use lib_core::config::{PoolMode, Redacted};
use lib_model::operator_sql::{fetch_i64, lock_table};
use lib_model::test_support::{PgBouncer, TestDb};
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;
use tokio::time::Instant;

/// Server connections PgBouncer lends, fewer than the pool's connections.
const SERVER_CONNECTIONS: u32 = 2;

/// The app, or with `TWO` two instances of it, whose pool goes through a PgBouncer started in
/// front of the test database (and whose direct connection goes to the database itself), with
/// what `adjust` changes; `None` where PgBouncer is not installed: the test is skipped.
async fn behind_pgbouncer<const TWO: bool>(adjust: impl FnOnce(&mut Config)) -> Option<(TestApp, PgBouncer)> {
    if !PgBouncer::available() {
        return None;
    }
    let mut bouncer = None;
    let route = |config: &mut Config| {
        let direct = config.database_url.expose().to_string();
        let started = bouncer.insert(PgBouncer::start(&direct, SERVER_CONNECTIONS));
        config.database_url = Redacted::new(started.url(&direct));
        config.database_listen_url = Some(Redacted::new(direct));
        config.database_pool_mode = PoolMode::Transaction;
        config.db_max_connections = 8;
        adjust(config);
    };
    let app = if TWO { spawn_two_instances_with(route).await } else { spawn_app_with(route).await };
    Some((app, bouncer.expect("started while the app was configured")))
}

fn direct_url(app: &TestApp) -> &str {
    app.config.database_listen_url.as_ref().expect("behind_pgbouncer sets it").expose()
}

/// The calls of one user, each kind of statement the model runs: fixed shapes (prepared in
/// session mode), shapes built from filters, a transaction with references, writes, deletes.
async fn a_users_work(api: Api, name: String) {
    let project = api.ok("create_project", json!({"data": {"name": name}})).await;
    let created = api
        .ok(
            "transaction",
            json!({"calls": [
                {"method": "create_task", "params": {"data": {"project_id": project["id"], "title": "first"}}},
                {"method": "create_task", "params": {"data": {"project_id": {"$ref": "0.data.project_id"}, "title": "second"}}},
            ]}),
        )
        .await;
    let (first, second) = (&created[0]["data"], &created[1]["data"]);
    for round in 0..10 {
        assert_eq!(api.ok("get_task", json!({"id": first["id"]})).await["title"], "first");
        let filter = json!({"filters": {"title": {"$startsWith": "sec"}, "project_id": project["id"]}});
        assert_eq!(api.ok("list_tasks", filter).await.as_array().map(Vec::len), Some(1));
        let updated =
            api.ok("update_task", json!({"id": first["id"], "data": {"description": format!("round {round}")}})).await;
        assert_eq!(updated["description"], format!("round {round}"));
        assert_eq!(api.ok("count_tasks", json!({})).await, 2);
    }
    assert_eq!(api.ok("delete_task", json!({"id": second["id"]})).await["id"], second["id"]);
    assert_eq!(api.ok("list_projects", json!({})).await.as_array().map(Vec::len), Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_call_works_through_a_transaction_pooling_pgbouncer() {
    let Some((app, _bouncer)) = behind_pgbouncer::<false>(|_| {}).await else { return };

    // Accounts (signup, login, sessions, throttles), then four users at once, so that the
    // pool's connections keep trading PgBouncer's two server connections between statements.
    let mut users = Vec::new();
    for n in 0..4 {
        users.push((app.user(&format!("user{n}")).await, format!("project {n}")));
    }
    let work: Vec<_> = users.into_iter().map(|(api, name)| tokio::spawn(a_users_work(api, name))).collect();
    for done in work {
        done.await.expect("a user's calls all succeed through PgBouncer");
    }

    // An explicit transaction of the account code (the password change) and a logoff.
    let alice = app.user("alice").await;
    let changed = alice.ok("change_pwd", json!({"old_pwd": common::PWD, "new_pwd": "another good password"})).await;
    assert_eq!(changed, true);
    assert_eq!(alice.post("/api/logoff", json!({"logoff": true})).await.0, StatusCode::OK);
}

#[tokio::test]
async fn the_statement_timeout_holds_through_pgbouncer() {
    let adjust = |config: &mut Config| config.db_statement_timeout = Duration::from_millis(300);
    let Some((app, _bouncer)) = behind_pgbouncer::<false>(adjust).await else { return };
    let api = user_with_a_task(&app, "slowpoke").await;

    // A statement waiting on a lock is stopped by the timeout its transaction set.
    let lock = lock_table(direct_url(&app), "task").await;
    assert_error(&api.err("list_tasks", json!({})).await, -32008, "QueryTimeout");
    drop(lock);
    assert_eq!(api.ok("list_tasks", json!({})).await.as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn the_statement_of_an_abandoned_request_is_cancelled_through_pgbouncer() {
    // Far longer than the test waits: only the cancelling can end the statement in time.
    let adjust = |config: &mut Config| config.db_statement_timeout = Duration::from_secs(60);
    let Some((app, _bouncer)) = behind_pgbouncer::<false>(adjust).await else { return };
    let api = user_with_a_task(&app, "quitter").await;

    // Postgres checks for its client (PgBouncer, which closes that server connection when the
    // pool's connection is closed) while the statement waits on the lock. A call's statement...
    let list_tasks =
        api.http.post(app.url("/api/rpc")).json(&json!({"jsonrpc": "2.0", "id": 1, "method": "list_tasks"}));
    abandon_while_locked(&app, "task", list_tasks).await;
    // ... and one outside any call (the logoff's), whose connection must not go back to the
    // pool with its transaction open either.
    let logoff = api.http.post(app.url("/api/logoff")).json(&json!({"logoff": true}));
    abandon_while_locked(&app, "session", logoff).await;
}

/// Sends `request` while `table` is locked, gives up on it once its statement waits for the
/// lock, and expects that statement gone within a second.
async fn abandon_while_locked(app: &TestApp, table: &str, request: reqwest::RequestBuilder) {
    let _lock = lock_table(direct_url(app), table).await;
    tokio::select! {
        _ = request.send() => panic!("the request cannot finish while {table} is locked"),
        _ = waiting_for_locks_become(app, 1, Duration::from_secs(5)) => {}
    }
    waiting_for_locks_become(app, 0, Duration::from_secs(1)).await;
}

async fn user_with_a_task(app: &TestApp, name: &str) -> Api {
    let api = app.user(name).await;
    let project = api.ok("create_project", json!({"data": {"name": "p"}})).await;
    api.ok("create_task", json!({"data": {"project_id": project["id"], "title": "t"}})).await;
    api
}

/// Waits until `count` statements of the database wait for a lock, failing after `within`.
async fn waiting_for_locks_become(app: &TestApp, count: i64, within: Duration) {
    const WAITING: &str = "SELECT count(*) FROM pg_stat_activity \
                           WHERE datname = current_database() AND wait_event_type = 'Lock'";
    let deadline = Instant::now() + within;
    while fetch_i64(direct_url(app), WAITING).await != count {
        assert!(Instant::now() < deadline, "not {count} statements waiting for a lock within {within:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_logoff_on_one_instance_ends_the_session_on_the_other_through_pgbouncer() {
    let Some((app, _bouncer)) = behind_pgbouncer::<true>(|_| {}).await else { return };
    app.user("alice").await;
    let cookie = app.login_cookie("alice").await;
    let peer = app.peer_client(&cookie);
    for _ in 0..3 {
        assert_eq!(peer.ok("get_me", json!({})).await["username"], "alice");
    }

    assert_eq!(app.logoff_cookie(&cookie).await.status(), StatusCode::OK);
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        let (status, _) = peer.post("/api/rpc", json!({"jsonrpc": "2.0", "id": 1, "method": "get_me"})).await;
        if status == StatusCode::UNAUTHORIZED {
            break;
        }
        assert!(Instant::now() < deadline, "the other instance still accepts the session after a second");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn the_listener_and_the_migrations_use_the_direct_connection() {
    let db = TestDb::empty().await;
    let mut config = db.config();
    config.database_listen_url = Some(Redacted::new(db.url().to_string()));
    // Nothing answers here: whatever still works went through the direct connection.
    config.database_url = Redacted::new("postgres://postgres@127.0.0.1:1/nowhere".to_string());
    config.db_acquire_timeout = Duration::from_millis(300);

    let mm = lib_model::ModelManager::new(&config).expect("a valid configuration");
    // The migrations run over the direct connection; only the data fix after them (through the
    // pool) finds nothing there.
    assert!(mm.migrate().await.is_err());
    let applied = lib_model::operator_sql::execute(db.url(), "UPDATE _sqlx_migrations SET success = success").await;
    assert!(applied > 0, "the migrations were applied over DATABASE_LISTEN_URL");
    tokio::spawn(lib_model::notifications::run_listener(mm.clone()));
    let deadline = Instant::now() + Duration::from_secs(10);
    while !mm.revocations_live() {
        assert!(Instant::now() < deadline, "the listener did not connect over DATABASE_LISTEN_URL");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(!mm.ping().await, "the pool itself goes to DATABASE_URL");
}
