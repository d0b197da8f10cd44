//! Sessions end with their row, however it goes: the user's row deleted by SQL, a session row
//! deleted or the table truncated by an operator, a password change. Two instances on one
//! database, each caching live sessions: both refuse the session within a second, and no answer
//! in between speaks of a missing row (-32004) or a server fault (-32603).

mod common;

use common::{Api, PWD, TestApp, spawn_two_instances};
use lib_model::operator_sql;
use reqwest::StatusCode;
use reqwest::header::SET_COOKIE;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// A client of `base` that sends `cookie` (`auth-token=...`) by hand, as a copied cookie would be.
fn with_cookie(base: String, cookie: &str) -> Api {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::COOKIE, cookie.parse().unwrap());
    Api { http: reqwest::Client::builder().default_headers(headers).build().unwrap(), base }
}

/// Both instances' clients for `cookie`, each with the session warmed into its cache.
async fn on_both(app: &TestApp, cookie: &str) -> [Api; 2] {
    let clients = [with_cookie(app.url(""), cookie), app.peer_client(cookie)];
    for api in &clients {
        for _ in 0..2 {
            assert!(api.ok("get_me", json!({})).await["username"].is_string());
        }
    }
    clients
}

/// Calls `method` on every client until each answers 401; any answer meanwhile must be a
/// success or -32001, never a missing row or a server fault.
async fn refused_everywhere_within(clients: &[Api], method: &str, params: Value, limit: Duration) -> Duration {
    let started = Instant::now();
    for api in clients {
        loop {
            let request = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
            let (status, body) = api.post("/api/rpc", request).await;
            if status == StatusCode::UNAUTHORIZED {
                assert_eq!(body["error"]["code"], -32001, "{body}");
                break;
            }
            if let Some(code) = body["error"]["code"].as_i64() {
                assert_eq!(code, -32001, "{method} while the session ends: {body}");
            }
            assert!(started.elapsed() < limit, "{} still accepts the session after {limit:?}", api.base);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    started.elapsed()
}

fn url(app: &TestApp) -> &str {
    app.config.database_url.expose()
}

#[tokio::test]
async fn deleting_the_users_row_ends_their_sessions_on_both_instances_within_a_second() {
    let app = spawn_two_instances().await;
    app.user("alice").await;
    let bob = app.user("bob").await;
    let cookie = app.login_cookie("alice").await;
    let clients = on_both(&app, &cookie).await;
    clients[0].ok("create_project", json!({"data": {"name": "before"}})).await;

    assert_eq!(operator_sql::execute(url(&app), r#"DELETE FROM "user" WHERE username = 'alice'"#).await, 1);
    let took = refused_everywhere_within(
        &clients,
        "create_project",
        json!({"data": {"name": "after"}}),
        Duration::from_secs(1),
    )
    .await;
    eprintln!("both instances refused the deleted user's session after {took:?}");
    refused_everywhere_within(&clients, "get_me", json!({}), Duration::from_secs(1)).await;
    assert_eq!(bob.ok("get_me", json!({})).await["username"], "bob", "other users are untouched");
}

#[tokio::test]
async fn deleting_a_session_row_by_sql_ends_it_on_every_instance() {
    let app = spawn_two_instances().await;
    app.user("alice").await;
    let doomed = app.login_cookie("alice").await;
    let kept = app.login_cookie("alice").await;
    let doomed_clients = on_both(&app, &doomed).await;
    let kept_clients = on_both(&app, &kept).await;

    // The operator knows only that it is alice's newest but one session.
    let sql = r#"DELETE FROM session WHERE id = (
                   SELECT id FROM session WHERE user_id = (SELECT id FROM "user" WHERE username = 'alice')
                   ORDER BY id DESC OFFSET 1 LIMIT 1)"#;
    assert_eq!(operator_sql::execute(url(&app), sql).await, 1);
    refused_everywhere_within(&doomed_clients, "get_me", json!({}), Duration::from_secs(1)).await;
    for api in &kept_clients {
        assert_eq!(api.ok("get_me", json!({})).await["username"], "alice", "the user's other sessions live on");
    }
}

#[tokio::test]
async fn truncating_the_session_table_ends_every_session_on_every_instance() {
    let app = spawn_two_instances().await;
    app.user("alice").await;
    app.user("bob").await;
    let alice = on_both(&app, &app.login_cookie("alice").await).await;
    let bob = on_both(&app, &app.login_cookie("bob").await).await;

    operator_sql::execute(url(&app), "TRUNCATE session").await;
    refused_everywhere_within(&alice, "get_me", json!({}), Duration::from_secs(1)).await;
    refused_everywhere_within(&bob, "get_me", json!({}), Duration::from_secs(1)).await;
}

#[tokio::test]
async fn change_pwd_answers_a_new_cookie_and_the_old_token_is_refused_everywhere() {
    let app = spawn_two_instances().await;
    app.user("alice").await;
    let old = app.login_cookie("alice").await;
    let old_clients = on_both(&app, &old).await;

    let response = old_clients[0]
        .http
        .post(app.url("/api/rpc"))
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "change_pwd",
                      "params": {"old_pwd": PWD, "new_pwd": "a new password"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let set_cookie = response.headers().get(SET_COOKIE).expect("a new session cookie").to_str().unwrap().to_string();
    assert_eq!(response.json::<Value>().await.unwrap()["result"]["data"], true);
    let new = set_cookie.split(';').next().unwrap().to_string();
    assert!(new.starts_with("auth-token=") && new != old, "{set_cookie}");

    refused_everywhere_within(&old_clients, "get_me", json!({}), Duration::from_secs(1)).await;
    for api in [with_cookie(app.url(""), &new), app.peer_client(&new)] {
        assert_eq!(api.ok("get_me", json!({})).await["username"], "alice", "the new cookie works on {}", api.base);
    }
}

#[tokio::test]
async fn a_cached_session_whose_row_is_gone_ends_at_its_next_idle_extension_even_without_a_notification() {
    let app = common::spawn_app().await;
    app.user("alice").await;
    let cookie = app.login_cookie("alice").await;
    let api = with_cookie(app.url(""), &cookie);
    assert_eq!(api.ok("get_me", json!({})).await["username"], "alice");

    // A lost notification, as when the listener missed it: the row goes, the cache keeps it.
    operator_sql::execute(url(&app), "DROP TRIGGER session_revoked_notify ON session").await;
    operator_sql::execute(url(&app), "DELETE FROM session").await;
    let (status, _) = api.post("/api/rpc", json!({"jsonrpc": "2.0", "id": 1, "method": "get_me"})).await;
    assert_ne!(status, StatusCode::UNAUTHORIZED, "still served from the cache: the case this test is about");

    // Past the touch interval the idle deadline is written, finds no row, and the session ends.
    app.clock.advance(Duration::from_secs(120));
    let (status, body) = api.post("/api/rpc", json!({"jsonrpc": "2.0", "id": 1, "method": "get_me"})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}
