//! The filter attacks of issue 16, through the real app: shapes that overflowed the stack or
//! panicked in the time encoding are -32602 naming the limit or the field, the rest of the batch
//! is answered, and the server goes on serving.

mod common;

use common::{Api, assert_error, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn call(id: u64, method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

async fn batch(api: &Api, calls: Value) -> Vec<Value> {
    let (status, body) = api.post("/api/rpc", calls).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body.as_array().expect("a batch answer").clone()
}

#[tokio::test]
async fn fifteen_thousand_empty_groups_are_refused_and_the_server_goes_on() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let groups = vec![json!({"done": {}}); 15_000];

    let answers =
        batch(&alice, json!([call(1, "count_tasks", json!({"filters": groups})), call(2, "get_me", json!({}))])).await;

    assert_error(&answers[0]["error"], -32602, "InvalidParams");
    let detail = answers[0]["error"]["data"]["detail"].as_str().unwrap();
    assert!(detail.contains("1000 nodes"), "{detail}");
    assert_eq!(answers[1]["result"]["data"]["username"], "alice");
    assert_eq!(alice.ok("count_tasks", json!({"filters": vec![json!({"done": {}}); 499]})).await, 0);
}

#[tokio::test]
async fn a_time_out_of_range_names_the_field_and_the_batch_goes_on() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let out_of_range = json!({"filters": {"ctime": {"$gt": "9999-12-31T23:59:59-23:59"}}});

    let answers = batch(&alice, json!([call(1, "list_tasks", out_of_range), call(2, "count_tasks", json!({}))])).await;

    assert_error(&answers[0]["error"], -32602, "InvalidParams");
    assert_eq!(answers[0]["error"]["data"]["detail"], "filters.ctime.$gt: time out of range");
    assert_eq!(answers[1]["result"]["data"], 0);
    let latest = json!({"filters": {"ctime": {"$lt": "9999-12-31T23:59:59Z"}}});
    assert_eq!(alice.ok("count_tasks", latest).await, 0);
}

#[tokio::test]
async fn order_bys_hold_at_most_sixteen_entries() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let orders = |n: usize| json!({"list_options": {"order_bys": vec!["!title"; n]}});

    assert_eq!(alice.ok("list_tasks", orders(16)).await, json!([]));
    let error = alice.err("list_tasks", orders(17)).await;
    assert_error(&error, -32602, "InvalidParams");
    assert_eq!(error["data"]["detail"], "list_options.order_bys: at most 16 entries");
}
