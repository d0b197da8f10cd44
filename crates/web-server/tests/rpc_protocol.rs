//! JSON-RPC 2.0 over `POST /api/rpc`: the specification's examples, mapped onto real methods,
//! and the edge cases of batches, notifications and ids.

mod common;

use common::{assert_error, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Asserts a response has exactly `jsonrpc`, `id` and one of `result` / `error`.
fn assert_envelope(response: &Value) {
    let members = response.as_object().unwrap();
    assert_eq!(members.len(), 3, "{response}");
    assert_eq!(members["jsonrpc"], "2.0");
    assert!(members.contains_key("id"));
    assert!(members.contains_key("result") ^ members.contains_key("error"), "{response}");
}

#[tokio::test]
async fn call_with_named_params() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let project = alice.ok("create_project", json!({"data": {"name": "subtract"}})).await;
    let (status, text) = alice
        .rpc_raw(&format!(
            r#"{{"jsonrpc": "2.0", "method": "get_project", "params": {{"id": {}}}, "id": 3}}"#,
            project["id"]
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    let response = parse(&text);
    assert_envelope(&response);
    assert_eq!(response["id"], 3);
    assert_eq!(response["result"]["data"]["name"], "subtract");
}

#[tokio::test]
async fn positional_params_are_invalid_params() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let (_, text) = alice.rpc_raw(r#"{"jsonrpc": "2.0", "method": "get_project", "params": [42, 23], "id": 1}"#).await;
    let response = parse(&text);
    assert_envelope(&response);
    assert_eq!(response["id"], 1);
    assert_error(&response["error"], -32602, "InvalidParams");
}

#[tokio::test]
async fn a_notification_runs_and_is_not_answered() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let (status, text) =
        alice.rpc_raw(r#"{"jsonrpc": "2.0", "method": "create_project", "params": {"data": {"name": "quiet"}}}"#).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(text, "");
    assert_eq!(alice.ok("count_projects", json!({"filters": {"name": "quiet"}})).await, 1, "it ran");
    // A failing notification is not answered either.
    let (status, text) = alice.rpc_raw(r#"{"jsonrpc": "2.0", "method": "get_project", "params": {"id": 999}}"#).await;
    assert_eq!((status, text.as_str()), (StatusCode::NO_CONTENT, ""));
    let (status, _) = alice.rpc_raw(r#"{"jsonrpc": "2.0", "method": "no_such_method"}"#).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn unknown_and_reserved_methods_are_not_found() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    for method in ["foobar", "rpc.describe", "rpc.get_me", "GET_ME", ""] {
        let error = alice.err(method, json!({})).await;
        assert_error(&error, -32601, "MethodNotFound");
    }
}

#[tokio::test]
async fn invalid_json_is_a_parse_error_with_null_id() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    for body in [
        r#"{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]"#,
        "",
        "\u{0}",
        r#"[{"jsonrpc": "2.0", "method": "sum"},{"jsonrpc": "2.0", "method""#,
    ] {
        let (status, text) = alice.rpc_raw(body).await;
        assert_eq!(status, StatusCode::OK);
        let response = parse(&text);
        assert_envelope(&response);
        assert_eq!(response["id"], Value::Null);
        assert_error(&response["error"], -32700, "ParseError");
    }
}

#[tokio::test]
async fn invalid_request_objects() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    for (body, id) in [
        (r#"{"jsonrpc": "2.0", "method": 1, "params": "bar"}"#, Value::Null),
        (r#"{"jsonrpc": "2.0", "method": "get_me", "params": "bar", "id": 7}"#, json!(7)),
        (r#"{"jsonrpc": "1.0", "method": "get_me", "id": 8}"#, json!(8)),
        (r#"{"method": "get_me", "id": "no-version"}"#, json!("no-version")),
        (r#"{"jsonrpc": 2.0, "method": "get_me", "id": 9}"#, json!(9)),
        (r#"{"jsonrpc": "2.0", "method": "get_me", "id": {"a": 1}}"#, Value::Null),
        (r#"{"jsonrpc": "2.0", "method": "get_me", "id": [1]}"#, Value::Null),
        (r#"{"jsonrpc": "2.0", "method": "get_me", "id": true}"#, Value::Null),
        (r#"{"jsonrpc": "2.0", "method": "get_me", "id": 10, "param": {}}"#, json!(10)),
        (r#""get_me""#, Value::Null),
        ("42", Value::Null),
    ] {
        let (status, text) = alice.rpc_raw(body).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let response = parse(&text);
        assert_envelope(&response);
        assert_eq!(response["id"], id, "{body}");
        assert_error(&response["error"], -32600, "InvalidRequest");
    }
}

#[tokio::test]
async fn ids_are_echoed_exactly() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    for id in [r#""abc""#, r#""""#, "0", "-7", "1.50", "1e3", "123456789012345678901234567890", "null", r#""\u00e9""#] {
        let (_, text) = alice.rpc_raw(&format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"get_me"}}"#)).await;
        assert!(text.starts_with(&format!(r#"{{"jsonrpc":"2.0","id":{id},"result":"#)), "id {id}: {text}");
    }
}

#[tokio::test]
async fn the_specifications_batch_example() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let body = r#"[
        {"jsonrpc": "2.0", "method": "create_project", "params": {"data": {"name": "one"}}, "id": "1"},
        {"jsonrpc": "2.0", "method": "create_project", "params": {"data": {"name": "notified"}}},
        {"jsonrpc": "2.0", "method": "count_projects", "params": {}, "id": "2"},
        {"foo": "boo"},
        {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
        {"jsonrpc": "2.0", "method": "get_me", "id": "9"}
    ]"#;
    let (status, text) = alice.rpc_raw(body).await;
    assert_eq!(status, StatusCode::OK);
    let responses = parse(&text);
    let responses = responses.as_array().unwrap();
    assert_eq!(responses.len(), 5, "the notification is not answered: {text}");
    responses.iter().for_each(assert_envelope);
    let by_id = |id: Value| responses.iter().find(|r| r["id"] == id).unwrap_or_else(|| panic!("no response for {id}"));
    assert_eq!(by_id(json!("1"))["result"]["data"]["name"], "one");
    assert_eq!(by_id(json!("2"))["result"]["data"], 2, "the notification ran before it, in order");
    assert_error(&by_id(Value::Null)["error"], -32600, "InvalidRequest");
    assert_error(&by_id(json!("5"))["error"], -32601, "MethodNotFound");
    assert_eq!(by_id(json!("9"))["result"]["data"]["username"], "alice");
}

#[tokio::test]
async fn batch_edge_cases() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;

    let (status, text) = alice.rpc_raw("[]").await;
    assert_eq!(status, StatusCode::OK);
    let response = parse(&text);
    assert_envelope(&response);
    assert_error(&response["error"], -32600, "InvalidRequest");

    for (body, n) in [("[1]", 1), ("[1,2,3]", 3)] {
        let (_, text) = alice.rpc_raw(body).await;
        let responses = parse(&text);
        let responses = responses.as_array().unwrap();
        assert_eq!(responses.len(), n);
        for response in responses {
            assert_envelope(response);
            assert_eq!(response["id"], Value::Null);
            assert_error(&response["error"], -32600, "InvalidRequest");
        }
    }

    let notifications = r#"[
        {"jsonrpc": "2.0", "method": "create_project", "params": {"data": {"name": "a"}}},
        {"jsonrpc": "2.0", "method": "no_such_method"}
    ]"#;
    let (status, text) = alice.rpc_raw(notifications).await;
    assert_eq!((status, text.as_str()), (StatusCode::NO_CONTENT, ""), "a batch of notifications gets nothing");
    assert_eq!(alice.ok("count_projects", json!({})).await, 1);

    let call = r#"{"jsonrpc": "2.0", "method": "get_me", "id": 1}"#;
    let hundred = format!("[{}]", vec![call; 100].join(","));
    let (_, text) = alice.rpc_raw(&hundred).await;
    assert_eq!(parse(&text).as_array().unwrap().len(), 100);

    let too_many = format!("[{}]", vec![call; 101].join(","));
    let (status, text) = alice.rpc_raw(&too_many).await;
    assert_eq!(status, StatusCode::OK);
    let response = parse(&text);
    assert!(response.is_object(), "one error, not a batch: {text}");
    assert_envelope(&response);
    assert_error(&response["error"], -32600, "BatchTooLarge");
    assert_eq!(alice.ok("count_projects", json!({})).await, 1, "nothing of the refused batch ran");
}

#[tokio::test]
async fn no_session_is_401_with_a_json_rpc_error() {
    let app = spawn_app().await;
    let (status, text) = app.client().rpc_raw(r#"{"jsonrpc": "2.0", "method": "get_me", "id": 1}"#).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let response = parse(&text);
    assert_envelope(&response);
    assert_eq!(response["id"], Value::Null);
    assert_error(&response["error"], -32001, "Unauthorized");
}

#[tokio::test]
async fn consecutive_reads_in_a_batch_answer_exactly_as_single_calls() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let pid = alice.ok("create_project", json!({"data": {"name": "P"}})).await["id"].clone();
    let t1 = alice.ok("create_task", json!({"data": {"project_id": pid, "title": "one"}})).await;
    let t2 = alice.ok("create_task", json!({"data": {"project_id": pid, "title": "two"}})).await;
    let bobs_pid = bob.ok("create_project", json!({"data": {"name": "B"}})).await["id"].clone();
    let bobs = bob.ok("create_task", json!({"data": {"project_id": bobs_pid, "title": "bob's"}})).await;

    let get =
        |id: u64, task: &Value| json!({"jsonrpc": "2.0", "id": id, "method": "get_task", "params": {"id": task["id"]}});
    let batch = json!([
        get(1, &t1),
        get(2, &bobs),
        {"jsonrpc": "2.0", "id": 3, "method": "get_task", "params": {"id": 987654}},
        get(4, &t2),
        get(5, &t1),
        {"jsonrpc": "2.0", "method": "get_task", "params": {"id": t2["id"]}},
        {"jsonrpc": "2.0", "id": 6, "method": "update_task", "params": {"id": t1["id"], "data": {"done": true}}},
        get(7, &t1),
        {"jsonrpc": "2.0", "id": 8, "method": "get_task", "params": {"id": "not a number"}},
        get(9, &t2),
    ]);
    let (status, responses) = alice.post("/api/rpc", batch).await;
    assert_eq!(status, StatusCode::OK);
    let responses = responses.as_array().unwrap();
    let ids: Vec<i64> = responses.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [1, 2, 3, 4, 5, 6, 7, 8, 9], "answers keep the batch's order");
    responses.iter().for_each(assert_envelope);
    let by_id = |id: i64| &responses[ids.iter().position(|i| *i == id).unwrap()];

    assert_eq!(by_id(1)["result"]["data"], t1);
    assert_error(&by_id(2)["error"], -32004, "EntityNotFound");
    assert_eq!(by_id(2)["error"]["data"]["id"], bobs["id"], "another user's row looks missing");
    assert_eq!(by_id(3)["error"]["data"]["entity"], "task");
    assert_eq!(by_id(4)["result"]["data"], t2);
    assert_eq!(by_id(5)["result"]["data"], t1, "the same id twice answers twice");
    assert_eq!(by_id(7)["result"]["data"]["done"], true, "a read after a write sees it");
    assert_error(&by_id(8)["error"], -32602, "InvalidParams");
    assert_eq!(by_id(9)["result"]["data"], t2);
}
