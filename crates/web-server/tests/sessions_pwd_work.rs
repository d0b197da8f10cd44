//! The password-work budget over HTTP: signups, logins and `change_pwd` calls (in a batch too)
//! past it are throttled with `retry_after_ms`, before any hash runs.

mod common;

use common::{PWD, assert_error, spawn_app_with};
use reqwest::StatusCode;
use reqwest::header::RETRY_AFTER;
use serde_json::{Value, json};
use std::time::Duration;

#[tokio::test]
async fn a_batch_of_change_pwd_calls_is_throttled_past_the_users_budget() {
    // The login costs one unit, each change two (the check and the new hash): three fit.
    let app = spawn_app_with(|config| config.pwd_work_per_user = 7).await;
    let alice = app.user("alice").await;
    let batch: Vec<Value> = (0..10)
        .map(|id| json!({"jsonrpc": "2.0", "id": id, "method": "change_pwd", "params": {"old_pwd": PWD, "new_pwd": PWD}}))
        .collect();
    let (status, text) = alice.rpc_raw(&Value::Array(batch).to_string()).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let answers: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(answers.len(), 10);
    let throttled: Vec<&Value> = answers.iter().filter(|a| a["error"]["code"] == -32029).collect();
    assert_eq!(throttled.len(), 7, "{text}");
    for answer in throttled {
        let data = &answer["error"]["data"];
        assert!(data["retry_after_ms"].as_u64().is_some_and(|ms| (1..=60_000).contains(&ms)), "{answer}");
    }
    for answer in &answers {
        assert!(![-32603, -32004].contains(&answer["error"]["code"].as_i64().unwrap_or(0)), "{answer}");
    }
}

#[tokio::test]
async fn signups_and_logins_past_the_address_budget_answer_429_with_retry_after() {
    let app = spawn_app_with(|config| {
        config.pwd_work_per_addr = 3;
        config.pwd_work_window = Duration::from_secs(60);
    })
    .await;
    let api = app.client();
    assert_eq!(api.post("/api/signup", json!({"username": "alice", "pwd": PWD})).await.0, StatusCode::OK);
    assert_eq!(api.post("/api/login", json!({"username": "alice", "pwd": PWD})).await.0, StatusCode::OK);
    let (status, _) = api.post("/api/login", json!({"username": "alice", "pwd": "wrong password"})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    for (path, username) in [("/api/signup", "bob"), ("/api/login", "alice")] {
        let response =
            api.http.post(app.url(path)).json(&json!({"username": username, "pwd": PWD})).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS, "{path}");
        let retry_after: u64 = response.headers().get(RETRY_AFTER).unwrap().to_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&retry_after), "{retry_after}");
        let body: Value = response.json().await.unwrap();
        assert_error(&body["error"], -32029, "TooManyAttempts");
        assert!(body["error"]["data"]["retry_after_ms"].as_u64().is_some_and(|ms| ms <= 60_000), "{body}");
    }

    app.clock.advance(Duration::from_secs(60));
    assert_eq!(api.post("/api/signup", json!({"username": "bob", "pwd": PWD})).await.0, StatusCode::OK);
}
