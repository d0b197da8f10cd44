//! `rpc.discover` and `GET /api/openrpc.json`: the same document, built once, to anyone; the
//! method needs no session when it comes alone, and nothing else is answered without one.

mod common;

use common::{assert_error, spawn_app};
use reqwest::StatusCode;
use reqwest::header::{ACCEPT_ENCODING, CONTENT_ENCODING, ETAG, IF_NONE_MATCH};
use serde_json::{Value, json};
use std::io::Read as _;

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
    // Not even a batch of documents: it would answer a hundred of them for a few bytes.
    let (status, _) = anonymous
        .post(
            "/api/rpc",
            json!([
                {"jsonrpc": "2.0", "id": 1, "method": "rpc.discover"},
                {"jsonrpc": "2.0", "id": 2, "method": "rpc.discover"},
            ]),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Its params are checked as any method's: it takes none.
    let refused = anonymous.rpc("rpc.discover", json!({"verbose": true})).await;
    assert_error(&refused["error"], -32602, "InvalidParams");
}

#[tokio::test]
async fn the_served_document_is_compressed_once_with_a_tag_per_encoding() {
    let app = spawn_app().await;
    let client = reqwest::Client::new();
    let get = |accept: &'static str| client.get(app.url("/api/openrpc.json")).header(ACCEPT_ENCODING, accept).send();
    let plain = get("identity").await.unwrap();
    let plain_tag = plain.headers()[ETAG].to_str().unwrap().to_owned();
    assert!(plain.headers().get(CONTENT_ENCODING).is_none());
    let plain_body = plain.bytes().await.unwrap();

    let brotli = get("gzip, br").await.unwrap();
    assert_eq!(brotli.headers()[CONTENT_ENCODING], "br");
    assert_eq!(brotli.headers()["vary"], "accept-encoding");
    let brotli_tag = brotli.headers()[ETAG].to_str().unwrap().to_owned();
    assert_ne!(brotli_tag, plain_tag, "each representation has its own tag");
    let mut decoded = Vec::new();
    brotli::BrotliDecompress(&mut &brotli.bytes().await.unwrap()[..], &mut decoded).unwrap();
    assert_eq!(decoded, plain_body);

    let gzip = get("gzip").await.unwrap();
    assert_eq!(gzip.headers()[CONTENT_ENCODING], "gzip");
    let mut decoded = Vec::new();
    flate2::read::GzDecoder::new(&gzip.bytes().await.unwrap()[..]).read_to_end(&mut decoded).unwrap();
    assert_eq!(decoded, plain_body);

    for tag in [brotli_tag.clone(), format!("W/{brotli_tag}"), format!("\"other\", {brotli_tag}")] {
        let again = client
            .get(app.url("/api/openrpc.json"))
            .header(ACCEPT_ENCODING, "br")
            .header(IF_NONE_MATCH, tag.as_str())
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{tag}");
        assert_eq!(again.headers()[ETAG].to_str().unwrap(), brotli_tag);
    }
    let other = get("br").await.unwrap();
    assert_eq!(other.status(), StatusCode::OK);
    let stale = client
        .get(app.url("/api/openrpc.json"))
        .header(IF_NONE_MATCH, plain_tag.as_str())
        .header(ACCEPT_ENCODING, "br");
    assert_eq!(stale.send().await.unwrap().status(), StatusCode::OK, "the plain tag is not the brotli one's");
}

#[tokio::test]
async fn rpc_discover_without_a_session_is_answered_uncompressed() {
    // Compressing 40 KB for anyone who asks would cost the server more than sending it.
    let app = spawn_app().await;
    let response = reqwest::Client::new()
        .post(app.url("/api/rpc"))
        .header("content-type", "application/json")
        .header(ACCEPT_ENCODING, "gzip, br")
        .body(r#"{"jsonrpc":"2.0","id":1,"method":"rpc.discover"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().get(CONTENT_ENCODING).is_none());
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["result"]["openrpc"], "1.3.2");
}

#[tokio::test]
async fn a_transaction_cannot_hold_rpc_discover() {
    let app = spawn_app().await;
    let user = app.user("transactor").await;
    let error = user.err("transaction", json!({"calls": [{"method": "rpc.discover"}]})).await;
    assert_error(&error, -32602, "InvalidParams");
}
