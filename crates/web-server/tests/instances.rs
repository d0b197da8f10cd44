//! Two server instances on one database: a session revoked on one stops working on the other
//! within a second, although each serves live sessions from its own cache.

mod common;

use common::{PWD, spawn_two_instances};
use reqwest::StatusCode;
use serde_json::json;
use std::time::{Duration, Instant};

/// Polls the peer until it refuses the session; answers how long that took.
async fn refused_within(peer: &common::Api, limit: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let (status, _) = peer.post("/api/rpc", json!({"jsonrpc": "2.0", "id": 1, "method": "get_me"})).await;
        if status == StatusCode::UNAUTHORIZED {
            return started.elapsed();
        }
        assert!(started.elapsed() < limit, "the peer still accepts the session after {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn logoff_on_one_instance_ends_the_session_on_the_other_within_a_second() {
    let app = spawn_two_instances().await;
    app.user("alice").await;
    let cookie = app.login_cookie("alice").await;
    let peer = app.peer_client(&cookie);
    // Warm the peer's cache: several calls, all served.
    for _ in 0..3 {
        assert_eq!(peer.ok("get_me", json!({})).await["username"], "alice");
    }

    let response = app.logoff_cookie(&cookie).await;
    assert_eq!(response.status(), StatusCode::OK);
    let took = refused_within(&peer, Duration::from_secs(1)).await;
    eprintln!("the peer refused the logged-off session after {took:?}");
}

#[tokio::test]
async fn change_pwd_on_one_instance_ends_the_other_sessions_on_the_other() {
    let app = spawn_two_instances().await;
    let alice = app.user("alice").await;
    let other_cookie = app.login_cookie("alice").await;
    let peer = app.peer_client(&other_cookie);
    assert_eq!(peer.ok("get_me", json!({})).await["username"], "alice");

    assert_eq!(alice.ok("change_pwd", json!({"old_pwd": PWD, "new_pwd": "a new password"})).await, true);
    refused_within(&peer, Duration::from_secs(1)).await;
    assert_eq!(alice.ok("get_me", json!({})).await["username"], "alice");
}

#[tokio::test]
async fn activity_on_one_instance_keeps_the_session_alive_on_the_other() {
    let app = spawn_two_instances().await;
    app.user("alice").await;
    let cookie = app.login_cookie("alice").await;
    let peer = app.peer_client(&cookie);
    let here = common::Api { http: reqwest::Client::new(), base: app.url("") };
    let call = |api: &common::Api| {
        api.http
            .post(format!("{}/api/rpc", api.base))
            .header("cookie", &cookie)
            .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "get_me"}))
            .send()
    };
    assert_eq!(peer.ok("get_me", json!({})).await["username"], "alice", "the peer caches the session");

    // Only the first instance sees activity for longer than the idle lifetime (1800 s).
    for _ in 0..4 {
        app.clock.advance(Duration::from_secs(500));
        assert_eq!(call(&here).await.unwrap().status(), StatusCode::OK);
    }
    assert_eq!(peer.ok("get_me", json!({})).await["username"], "alice", "the peer reads the pushed deadline");
}
