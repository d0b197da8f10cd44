//! The bounds of live updates, and when the server closes a socket: sockets per user,
//! subscriptions per socket, the send queue of a slow reader (1013), and the session's end on
//! any instance (1008).

mod common;

use common::socket::{Socket, refused_status};
use common::{assert_error, spawn_app_with, spawn_two_instances};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn sockets_per_user_and_subscriptions_per_socket_are_bounded() {
    let app = spawn_app_with(|config| {
        config.ws_max_per_user = 2;
        config.ws_max_subscriptions = 2;
    })
    .await;
    app.user("alice").await;
    let cookie = app.login_cookie("alice").await;
    let mut first = Socket::open(app.addr, &cookie).await;
    let second = Socket::open(app.addr, &cookie).await;
    let third = Socket::try_open(app.addr, Some(&cookie), None).await.err().expect("refused");
    assert_eq!(refused_status(third), StatusCode::TOO_MANY_REQUESTS);

    drop(second);
    // The place is given back when the server sees the socket close: the next attempt may race it.
    let mut reopened = None;
    for _ in 0..100 {
        if let Ok(socket) = Socket::try_open(app.addr, Some(&cookie), None).await {
            reopened = Some(socket);
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(reopened.is_some(), "a closed socket gives its place back");

    first.subscribe(json!({"entity": "task"})).await;
    let two = first.subscribe(json!({"entity": "project"})).await;
    let refused = first.call("subscribe", json!({"entity": "task"})).await;
    assert_error(&refused["error"], -32029, "TooManySubscriptions");
    assert_eq!(refused["error"]["data"]["limit"], 2);
    first.call("unsubscribe", json!({"subscription": two})).await;
    first.subscribe(json!({"entity": "project"})).await;
}

#[tokio::test]
async fn a_reader_that_falls_behind_its_queue_is_closed_with_1013() {
    let app = spawn_app_with(|config| config.ws_send_queue = 4).await;
    let alice = app.user("alice").await;
    let project = alice.ok("create_project", json!({"data": {"name": "Busy"}})).await["id"].as_i64().unwrap();
    let mut slow = Socket::open_slow(app.addr, &app.login_cookie("alice").await, 4096).await;
    slow.subscribe(json!({"entity": "task"})).await;

    // About 4 MB of notifications, far more than the socket's buffers and its queue of 4 hold.
    let description = "x".repeat(9_000);
    let create = json!({"method": "create_task", "params": {"data": {"project_id": project, "title": "t", "description": description}}});
    for _ in 0..9 {
        alice.ok("transaction", json!({"calls": vec![create.clone(); 50]})).await;
    }
    assert_eq!(slow.close_code().await, 1013);
}

#[tokio::test]
async fn the_socket_closes_with_1008_when_its_session_ends_on_any_instance() {
    let app = spawn_two_instances().await;
    app.user("alice").await;

    let cookie = app.login_cookie("alice").await;
    let mut on_first = Socket::open(app.addr, &cookie).await;
    let mut on_peer = Socket::open(app.peer.unwrap(), &cookie).await;
    on_peer.subscribe(json!({"entity": "task"})).await;
    app.logoff_cookie(&cookie).await;
    assert_eq!(on_first.close_code().await, 1008);
    assert_eq!(on_peer.close_code().await, 1008, "the other instance hears of it too");

    // Idle expiry, by the server's clock.
    let cookie = app.login_cookie("alice").await;
    let mut idle = Socket::open(app.addr, &cookie).await;
    app.clock.advance(app.config.session_idle + std::time::Duration::from_secs(1));
    assert_eq!(idle.close_code().await, 1008);
}

#[tokio::test]
async fn a_message_past_the_body_limit_closes_the_socket_with_1009() {
    let app = spawn_app_with(|config| config.body_limit_bytes = 4096).await;
    app.user("alice").await;
    let cookie = app.login_cookie("alice").await;
    let mut socket = Socket::open(app.addr, &cookie).await;
    let at_the_limit =
        format!(r#"{{"jsonrpc":"2.0","id":1,"method":"get_me","params":{{}}}}{}"#, " ".repeat(4096 - 54));
    assert_eq!(at_the_limit.len(), 4096);
    socket.send_text(&at_the_limit).await;
    assert_eq!(socket.next_message().await["result"]["data"]["username"], "alice", "a message of the limit is read");

    socket.send_text(&format!("{at_the_limit} ")).await;
    assert_eq!(socket.close_code().await, 1009);
    let mut other = Socket::open(app.addr, &cookie).await;
    assert_eq!(other.call("get_me", serde_json::Value::Null).await["result"]["data"]["username"], "alice");
}

#[tokio::test]
async fn a_reader_that_stops_reading_is_dropped_and_gives_its_place_back() {
    let app = spawn_app_with(|config| {
        config.ws_max_per_user = 1;
        config.request_timeout = std::time::Duration::from_secs(1);
    })
    .await;
    let alice = app.user("alice").await;
    let project = alice.ok("create_project", json!({"data": {"name": "Busy"}})).await["id"].as_i64().unwrap();
    let cookie = app.login_cookie("alice").await;
    let mut stalled = Socket::open_slow(app.addr, &cookie, 4096).await;
    stalled.subscribe(json!({"entity": "task"})).await;

    // More than the socket's buffers hold (the kernel's up to 4 MiB), never read: the server's
    // send cannot finish.
    let description = "x".repeat(9_000);
    let create = json!({"method": "create_task", "params": {"data": {"project_id": project, "title": "t", "description": description}}});
    for _ in 0..12 {
        alice.ok("transaction", json!({"calls": vec![create.clone(); 50]})).await;
    }
    // Its one place comes back once the server has given up on it (the request timeout, 1 s).
    let mut reopened = None;
    for _ in 0..100 {
        if let Ok(socket) = Socket::try_open(app.addr, Some(&cookie), None).await {
            reopened = Some(socket);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(reopened.is_some(), "the stalled socket was dropped within 10 s");
    drop(stalled);
}

#[tokio::test]
async fn subscription_ids_are_never_given_twice_and_filters_are_small() {
    let app = spawn_app_with(|_| {}).await;
    app.user("alice").await;
    let mut socket = Socket::open(app.addr, &app.login_cookie("alice").await).await;
    let first = socket.subscribe(json!({"entity": "task"})).await;
    socket.call("unsubscribe", json!({"subscription": first})).await;
    let second = socket.subscribe(json!({"entity": "task"})).await;
    assert_ne!(first, second, "a notification on its way for the old one cannot be taken for the new");

    let many: Vec<i64> = (1_000_000..1_000_200).collect();
    let refused = socket.call("subscribe", json!({"entity": "task", "filters": {"id": {"$in": many}}})).await;
    assert_error(&refused["error"], -32602, "InvalidParams");
    assert!(refused["error"]["data"]["detail"].as_str().unwrap().contains("1024 bytes"), "{refused}");
}
