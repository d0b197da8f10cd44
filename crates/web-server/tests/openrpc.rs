//! `rpc.discover` and `GET /api/openrpc.json`: the same document, built once, to anyone; the
//! method needs no session, and nothing else is answered without one.

mod common;

use common::{assert_error, spawn_app};
use reqwest::StatusCode;
use reqwest::header::{ETAG, IF_NONE_MATCH};
use serde_json::{Value, json};

#[tokio::test]
async fn rpc_discover_answers_the_document_without_a_session() {
    let app = spawn_app().await;
    let anonymous = app.client();
    let response = anonymous.rpc("rpc.discover", Value::Null).await;
    let document = &response["result"];
    assert_eq!(document["openrpc"], "1.3.2", "the document itself, not wrapped in data: {response}");
    assert!(document["methods"].as_array().unwrap().iter().any(|m| m["name"] == "list_tasks"));

    let fetched = reqwest::get(app.url("/api/openrpc.json")).await.unwrap();
    assert_eq!(fetched.status(), StatusCode::OK);
    assert_eq!(fetched.headers()["content-type"], "application/json");
    let served: Value = fetched.json().await.unwrap();
    assert_eq!(&served, document, "one document at both places");

    // With a session too, and in a batch beside other calls.
    let user = app.user("discoverer").await;
    let (status, body) = user
        .post(
            "/api/rpc",
            json!([
                {"jsonrpc": "2.0", "id": 1, "method": "rpc.discover"},
                {"jsonrpc": "2.0", "id": 2, "method": "get_me"},
            ]),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(&body[0]["result"], document);
    assert_eq!(body[1]["result"]["data"]["username"], "discoverer");
}

#[tokio::test]
async fn without_a_session_nothing_but_the_document_is_answered() {
    let app = spawn_app().await;
    let anonymous = app.client();
    let (status, body) = anonymous
        .post(
            "/api/rpc",
            json!([
                {"jsonrpc": "2.0", "id": 1, "method": "rpc.discover"},
                {"jsonrpc": "2.0", "id": 2, "method": "get_me"},
            ]),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_error(&body["error"], -32001, "Unauthorized");
    let (status, _) = anonymous.post("/api/rpc", json!({"jsonrpc": "2.0", "id": 1, "method": "get_me"})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Its params are checked as any method's: it takes none.
    let refused = anonymous.rpc("rpc.discover", json!({"verbose": true})).await;
    assert_error(&refused["error"], -32602, "InvalidParams");
}

#[tokio::test]
async fn the_served_document_has_an_etag() {
    let app = spawn_app().await;
    let client = reqwest::Client::new();
    let first = client.get(app.url("/api/openrpc.json")).send().await.unwrap();
    let etag = first.headers()[ETAG].clone();
    assert!(etag.to_str().unwrap().starts_with('"'), "{etag:?}");
    let again = client.get(app.url("/api/openrpc.json")).header(IF_NONE_MATCH, etag.clone()).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(again.headers()[ETAG], etag);
    let other = client.get(app.url("/api/openrpc.json")).header(IF_NONE_MATCH, "\"other\"").send().await.unwrap();
    assert_eq!(other.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_transaction_cannot_hold_rpc_discover() {
    let app = spawn_app().await;
    let user = app.user("transactor").await;
    let error = user.err("transaction", json!({"calls": [{"method": "rpc.discover"}]})).await;
    assert_error(&error, -32602, "InvalidParams");
}
