//! The answer budgets and the cost of reading params, against the real app with small limits:
//! `MAX_ANSWER_BYTES` (-32010 for the calls past it, the rest answered), `ANSWER_BYTES_IN_FLIGHT`
//! (-32029 with `retry_after_ms`), the share of it one user may hold, the deadline for sending an
//! answer, and an unexpected member refused before its value is decoded.

mod common;

use common::{Api, TestApp, assert_error, spawn_app, spawn_app_with};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpSocket, TcpStream};

const MAX_ANSWER_BYTES: usize = 8 * 1024;

/// Five tasks of about 1 KB each: a `list_tasks` answer of about 5.5 KB.
async fn five_big_tasks(api: &Api) {
    let pid = api.ok("create_project", json!({"data": {"name": "P"}})).await["id"].clone();
    for i in 0..5 {
        let task = json!({"data": {"project_id": pid, "title": format!("t{i}"), "description": "d".repeat(1000)}});
        api.ok("create_task", task).await;
    }
}

fn call(id: u64, method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

#[tokio::test]
async fn calls_whose_results_pass_the_answer_budget_answer_too_large_and_the_rest_are_answered() {
    let app = spawn_app_with(|config| config.max_answer_bytes = MAX_ANSWER_BYTES).await;
    let alice = app.user("alice").await;
    five_big_tasks(&alice).await;
    let one_list = serde_json::to_string(&alice.rpc("list_tasks", json!({})).await).unwrap().len();
    assert!(one_list < MAX_ANSWER_BYTES && 2 * one_list > MAX_ANSWER_BYTES, "one list is {one_list} bytes");

    let batch = json!([
        call(1, "list_tasks", json!({})),
        // Past the budget with the first.
        call(2, "list_tasks", json!({})),
        call(3, "get_me", json!({})),
        // Small enough for what is left.
        call(4, "list_tasks", json!({"list_options": {"limit": 1}})),
    ]);
    let (status, responses) = alice.post("/api/rpc", batch).await;
    assert_eq!(status, StatusCode::OK);
    let responses = responses.as_array().unwrap();
    assert_eq!(responses.len(), 4);
    assert_eq!(responses[0]["result"]["data"].as_array().unwrap().len(), 5);
    let error = &responses[1]["error"];
    assert_error(error, -32010, "AnswerTooLarge");
    assert_eq!(error["message"], "Answer too large");
    assert_eq!(error["data"]["limit_bytes"], MAX_ANSWER_BYTES);
    assert!(error["data"]["detail"].as_str().unwrap().contains("list_options.limit"), "{error}");
    assert_eq!(responses[2]["result"]["data"]["username"], "alice");
    assert_eq!(responses[3]["result"]["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_call_that_finds_no_room_among_the_answers_in_flight_is_throttled() {
    // Less room in flight than one answer may take: a configuration that validation refuses,
    // set here directly so that the refusal is certain without a second request held open.
    let app = spawn_app_with(|config| config.answer_bytes_in_flight = 4 * 1024).await;
    let alice = app.user("alice").await;
    five_big_tasks(&alice).await;

    let error = alice.err("list_tasks", json!({})).await;
    assert_error(&error, -32029, "TooManyRequests");
    let retry_after_ms = error["data"]["retry_after_ms"].as_u64().unwrap();
    assert!((100..=1000).contains(&retry_after_ms), "{error}");
    assert_eq!(error["data"]["retry_after_sec"], 1);
    // Smaller answers still fit, and the room is back once each answer has been sent.
    assert_eq!(alice.ok("list_tasks", json!({"list_options": {"limit": 1}})).await.as_array().unwrap().len(), 1);
    assert_eq!(alice.ok("get_me", json!({})).await["username"], "alice");
}

#[tokio::test]
async fn an_unexpected_member_carrying_a_huge_array_is_invalid_params() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    // About 900 KB of tiny objects: each would cost far more than its bytes once built.
    let bomb = format!("[{}]", vec![r#"{"":0}"#; 120_000].join(","));
    for (method, params) in [
        ("get_me", format!(r#"{{"x": {bomb}}}"#)),
        ("list_tasks", format!(r#"{{"filters": {{}}, "x": {bomb}}}"#)),
        ("create_project", format!(r#"{{"x": {bomb}, "data": {{"name": "never"}}}}"#)),
    ] {
        let body = format!(r#"{{"jsonrpc": "2.0", "id": 1, "method": "{method}", "params": {params}}}"#);
        let (status, text) = alice.rpc_raw(&body).await;
        assert_eq!(status, StatusCode::OK, "{method}");
        let response: Value = serde_json::from_str(&text).unwrap();
        assert_error(&response["error"], -32602, "InvalidParams");
        let detail = response["error"]["data"]["detail"].as_str().unwrap();
        assert!(detail.starts_with("x: unknown field `x`"), "{method}: {detail}");
    }
    assert_eq!(alice.ok("count_projects", json!({})).await, 0, "nothing was created");
}

const MIB: usize = 1024 * 1024;

/// Answers of about 9 MiB: far more than the socket buffers of a client that does not read take,
/// so such an answer stays with the server. Each holds 10 MiB in flight (its buffer, doubled up to
/// its limit); a user's share is 20 MiB, and 30 MiB in all leaves room for one more answer.
fn big_answers(config: &mut lib_core::Config) {
    config.max_answer_bytes = 10 * MIB;
    config.answer_bytes_in_flight = 30 * MIB;
}

/// Ninety tasks of 10,000 characters (the most a description takes): a `list_tasks` answer of
/// about 900 KB.
async fn ninety_long_tasks(api: &Api) {
    let pid = api.ok("create_project", json!({"data": {"name": "P"}})).await["id"].clone();
    let task = json!({"data": {"project_id": pid, "title": "t", "description": "d".repeat(10_000)}});
    let batch: Vec<Value> = (0..90).map(|i| call(i, "create_task", task.clone())).collect();
    let (status, responses) = api.post("/api/rpc", json!(batch)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(responses.as_array().unwrap().iter().all(|r| r.get("result").is_some()), "{responses:.200}");
}

/// A batch of ten lists: an answer of about 9 MB.
fn ten_lists() -> String {
    json!((1..=10).map(|i| call(i, "list_tasks", json!({}))).collect::<Vec<_>>()).to_string()
}

/// Sends `body` to /api/rpc with `cookie` over a connection with a small receive buffer, reads
/// the response head (the answer is built and counted by then) and no more.
async fn post_and_never_read(addr: SocketAddr, cookie: &str, body: &str) -> (TcpStream, usize) {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket.connect(addr).await.unwrap();
    let request = format!(
        "POST /api/rpc HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let mut byte = [0; 1];
        assert_eq!(stream.read(&mut byte).await.unwrap(), 1, "the response head");
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let length = head
        .lines()
        .find_map(|line| line.to_ascii_lowercase().strip_prefix("content-length: ").map(str::to_string))
        .expect("a content-length")
        .parse()
        .unwrap();
    assert!(length > 8 * MIB, "an answer of {length} bytes");
    (stream, length)
}

/// Alice with her ninety tasks, and the cookie of a second session of hers.
async fn alice_with_long_tasks(app: &TestApp) -> (Api, String) {
    let alice = app.user("alice").await;
    ninety_long_tasks(&alice).await;
    (alice, app.login_cookie("alice").await)
}

#[tokio::test]
async fn a_user_who_never_reads_their_answers_holds_only_their_share_of_the_room_in_flight() {
    let app = spawn_app_with(big_answers).await;
    let (alice, cookie) = alice_with_long_tasks(&app).await;
    let bob = app.user("bob").await;
    ninety_long_tasks(&bob).await;

    // Two answers that Alice never reads: her share, and two thirds of the whole budget.
    let _held = [
        post_and_never_read(app.addr, &cookie, &ten_lists()).await,
        post_and_never_read(app.addr, &cookie, &ten_lists()).await,
    ];

    // Her next call finds no room...
    let error = alice.err("list_tasks", json!({})).await;
    assert_error(&error, -32029, "TooManyRequests");
    assert!(error["data"]["retry_after_ms"].as_u64().is_some(), "{error}");
    // ... and Bob's calls are answered, big ones included.
    assert_eq!(bob.ok("list_tasks", json!({})).await.as_array().unwrap().len(), 90);
    assert_eq!(bob.ok("get_me", json!({})).await["username"], "bob");
}

#[tokio::test]
async fn an_answer_not_taken_within_the_deadline_gives_its_room_back_and_its_connection_is_closed() {
    let app = spawn_app_with(|config| {
        big_answers(config);
        config.request_timeout = Duration::from_secs(2);
    })
    .await;
    let (alice, cookie) = alice_with_long_tasks(&app).await;

    let (mut first, length) = post_and_never_read(app.addr, &cookie, &ten_lists()).await;
    let _second = post_and_never_read(app.addr, &cookie, &ten_lists()).await;
    assert_error(&alice.err("list_tasks", json!({})).await, -32029, "TooManyRequests");

    // Once the deadline has passed, her room is back though she has still read nothing.
    let mut answered = None;
    for _ in 0..100 {
        let response = alice.rpc("list_tasks", json!({})).await;
        if response.get("result").is_some() {
            answered = Some(response);
            break;
        }
        assert_error(&response["error"], -32029, "TooManyRequests");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let answered = answered.expect("the room held by unread answers is given back after the deadline");
    assert_eq!(answered["result"]["data"].as_array().unwrap().len(), 90);

    // The client that did not read gets what was already on its way, then the connection closes.
    let mut body = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(30), first.read_to_end(&mut body)).await.expect("closed");
    assert!(read.is_err() || body.len() < length, "{} of {length} bytes", body.len());
}
