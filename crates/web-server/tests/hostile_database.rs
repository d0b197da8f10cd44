//! The database under hostile load: the statement timeout, statements of abandoned requests,
//! and each user's fair share of the pool.
//!
//! A statement that runs as long as a test needs is one that waits for a lock: the test locks
//! the `task` table itself (`operator_sql::lock_table`), and every call that reads tasks waits.

mod common;

use common::{Api, TestApp, assert_error, spawn_app_with};
use lib_model::operator_sql::{lock_table, statements_on};
use serde_json::{Value, json};
use std::time::Duration;
use tokio::time::Instant;

/// Polls `condition` until it holds, failing after `within`.
async fn eventually<F: Future<Output = bool>>(within: Duration, what: &str, condition: impl Fn() -> F) -> Duration {
    let start = Instant::now();
    loop {
        if condition().await {
            return start.elapsed();
        }
        assert!(start.elapsed() < within, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn statements_on_task(app: &TestApp) -> i64 {
    statements_on(app.config.database_url.expose(), "task").await
}

async fn user_with_a_task(app: &TestApp, name: &str) -> Api {
    let api = app.user(name).await;
    let project = api.ok("create_project", json!({"data": {"name": "p"}})).await;
    api.ok("create_task", json!({"data": {"project_id": project["id"], "title": "t"}})).await;
    api
}

fn list_tasks() -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "list_tasks"})
}

#[tokio::test]
async fn a_statement_past_the_timeout_answers_query_timeout_and_leaves_its_connection_clean() {
    let app = spawn_app_with(|config| {
        config.db_statement_timeout = Duration::from_millis(200);
        // One connection, so the calls after the timeout reuse the very connection it hit.
        config.db_max_connections = 2;
        config.user_max_inflight = 1;
    })
    .await;
    let api = user_with_a_task(&app, "slowpoke").await;

    let lock = lock_table(app.config.database_url.expose(), "task").await;
    let error = api.err("list_tasks", json!({})).await;
    assert_error(&error, -32008, "QueryTimeout");
    assert!(error["data"]["detail"].as_str().unwrap().contains("narrow the filters"), "{error}");
    drop(lock);

    for _ in 0..3 {
        assert_eq!(api.ok("list_tasks", json!({})).await.as_array().unwrap().len(), 1);
    }
}

#[tokio::test]
async fn the_statement_of_a_request_whose_client_left_is_cancelled_within_a_second() {
    let app = spawn_app_with(|config| config.db_statement_timeout = Duration::from_secs(60)).await;
    let api = user_with_a_task(&app, "quitter").await;
    let _lock = lock_table(app.config.database_url.expose(), "task").await;

    let request = api.http.post(app.url("/api/rpc")).json(&list_tasks()).send();
    let waiting = async {
        eventually(Duration::from_secs(5), "the call waits", || async { statements_on_task(&app).await == 1 }).await
    };
    // The client gives up (the request future and its connection are dropped) once the
    // server's statement is running.
    tokio::select! {
        _ = request => panic!("the call cannot finish while the table is locked"),
        _ = waiting => {}
    }
    let gone = eventually(Duration::from_secs(1), "the abandoned statement is cancelled", || async {
        statements_on_task(&app).await == 0
    })
    .await;
    assert!(gone < Duration::from_secs(1), "{gone:?}");
}

#[tokio::test]
async fn the_statement_of_a_request_past_the_request_timeout_is_cancelled() {
    let app = spawn_app_with(|config| {
        config.db_statement_timeout = Duration::from_secs(60);
        config.request_timeout = Duration::from_secs(1);
    })
    .await;
    let api = user_with_a_task(&app, "patient").await;
    let _lock = lock_table(app.config.database_url.expose(), "task").await;

    let (status, body) = api.post("/api/rpc", list_tasks()).await;
    assert_eq!(status, 503, "{body}");
    eventually(Duration::from_secs(1), "the timed-out request's statement is cancelled", || async {
        statements_on_task(&app).await == 0
    })
    .await;
}

#[tokio::test]
async fn one_user_gets_at_most_its_share_and_others_are_served_meanwhile() {
    let app = spawn_app_with(|config| {
        config.db_statement_timeout = Duration::from_secs(60);
        config.user_max_inflight = 2;
        config.user_queue_wait = Duration::from_millis(300);
    })
    .await;
    let greedy = user_with_a_task(&app, "greedy").await;
    let other = app.user("other").await;
    let lock = lock_table(app.config.database_url.expose(), "task").await;

    // Two calls take the share: one batch (a batch counts as one call) and one single call.
    let batch = json!([
        {"jsonrpc": "2.0", "id": 1, "method": "list_tasks"},
        {"jsonrpc": "2.0", "id": 2, "method": "count_tasks"},
    ]);
    let first = tokio::spawn({
        let greedy = greedy.clone();
        async move { greedy.post("/api/rpc", batch).await }
    });
    let second = tokio::spawn({
        let greedy = greedy.clone();
        async move { greedy.ok("list_tasks", json!({})).await }
    });
    eventually(Duration::from_secs(5), "both calls wait", || async { statements_on_task(&app).await == 2 }).await;

    let third = greedy.err("list_tasks", json!({})).await;
    assert_error(&third, -32029, "TooManyRequests");
    assert_eq!(third["data"]["retry_after_ms"], 300, "{third}");
    // Another user is served while the first waits: the pool is not the first user's.
    assert_eq!(other.ok("get_me", Value::Null).await["username"], "other");

    drop(lock);
    let (status, answers) = first.await.unwrap();
    assert_eq!(status, 200);
    assert!(answers.as_array().unwrap().iter().all(|answer| answer.get("result").is_some()), "{answers}");
    assert_eq!(second.await.unwrap().as_array().unwrap().len(), 1);
    // The share is back whole.
    greedy.ok("list_tasks", json!({})).await;
    greedy.ok("count_tasks", json!({})).await;
}
