//! `transaction` cut short: by its statement's timeout, by its client going away, by a server
//! shutdown. Each time nothing of it stays.

mod common;

use common::transactions::{call, projects_in_db, transaction};
use common::{Api, TestApp, assert_error, spawn_app_with};
use lib_model::operator_sql::{lock_table, statements_on};
use serde_json::json;
use std::time::Duration;
use tokio::time::Instant;

/// Polls `condition` until it holds, failing after `within`.
async fn eventually<F: Future<Output = bool>>(within: Duration, what: &str, condition: impl Fn() -> F) {
    let start = Instant::now();
    while !condition().await {
        assert!(start.elapsed() < within, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_statement_timeout_in_a_call_leaves_nothing() {
    let app = spawn_app_with(|config| config.db_statement_timeout = Duration::from_millis(200)).await;
    let alice = app.user("alice").await;
    let lock = lock_table(app.config.database_url.expose(), "task").await;
    let response = transaction(
        &alice,
        vec![call("create_project", json!({"data": {"name": "a"}})), call("list_tasks", json!({}))],
    )
    .await;
    assert_error(&response["error"], -32008, "QueryTimeout");
    assert_eq!(response["error"]["data"]["call_index"], 1);
    drop(lock);
    assert_eq!(projects_in_db(&app).await, 0);
    // The connection went back clean: the next transaction commits.
    let response = transaction(&alice, vec![call("create_project", json!({"data": {"name": "b"}}))]).await;
    assert!(response.get("result").is_some(), "{response}");
    assert_eq!(projects_in_db(&app).await, 1);
}

/// A transaction whose second call waits on the locked `task` table, sent by `alice`; answers
/// once the call is waiting (the request still in flight, dropped with the returned future).
async fn transaction_waiting_on_tasks(app: &TestApp, alice: &Api) -> impl Future<Output = ()> + use<> {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "transaction", "params": {"calls": [
        call("create_project", json!({"data": {"name": "half done"}})),
        call("list_tasks", json!({})),
    ]}});
    let request = alice.http.post(app.url("/api/rpc")).json(&body).send();
    let mut request = Box::pin(async move {
        let _ = request.await;
    });
    let url = app.config.database_url.expose().to_string();
    let waiting =
        eventually(Duration::from_secs(5), "the call waits", || async { statements_on(&url, "task").await == 1 });
    tokio::select! {
        _ = &mut request => panic!("the transaction cannot finish while the table is locked"),
        _ = waiting => {}
    }
    request
}

#[tokio::test]
async fn a_transaction_whose_client_left_leaves_nothing() {
    let app = spawn_app_with(|config| config.db_statement_timeout = Duration::from_secs(60)).await;
    let alice = app.user("alice").await;
    let lock = lock_table(app.config.database_url.expose(), "task").await;
    drop(transaction_waiting_on_tasks(&app, &alice).await);
    let url = app.config.database_url.expose().to_string();
    eventually(Duration::from_secs(2), "the abandoned call is stopped", || async {
        statements_on(&url, "task").await == 0
    })
    .await;
    drop(lock);
    assert_eq!(projects_in_db(&app).await, 0);
    assert_eq!(alice.ok("count_projects", json!({})).await, 0);
}

#[tokio::test]
async fn a_transaction_cut_by_a_shutdown_leaves_nothing() {
    let mut app = spawn_app_with(|config| {
        config.db_statement_timeout = Duration::from_secs(60);
        config.shutdown_grace = Duration::from_millis(300);
    })
    .await;
    let alice = app.user("alice").await;
    let lock = lock_table(app.config.database_url.expose(), "task").await;
    let request = tokio::spawn(transaction_waiting_on_tasks(&app, &alice).await);
    app.begin_shutdown();
    app.wait_stopped().await.expect("a clean stop");
    let url = app.config.database_url.expose().to_string();
    eventually(Duration::from_secs(2), "the cut call is stopped", || async { statements_on(&url, "task").await == 0 })
        .await;
    drop(lock);
    let _ = request.await;
    assert_eq!(projects_in_db(&app).await, 0);
}
