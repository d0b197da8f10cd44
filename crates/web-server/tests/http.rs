//! The HTTP layer: CSRF and body checks, request ids, health, static files, database outage,
//! graceful shutdown, and refusing to start in production without a pepper.

mod common;

use common::proxy::Proxy;
use common::{assert_error, spawn_app, spawn_app_with};
use lib_core::config::Redacted;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

#[tokio::test]
async fn cross_site_requests_are_refused_before_any_work() {
    let app = spawn_app_with(|config| config.allowed_origins = vec!["https://app.example".into()]).await;
    let post = |headers: Vec<(&'static str, String)>| {
        let mut request = reqwest::Client::new()
            .post(app.url("/api/signup"))
            .json(&json!({"username": "mallory", "pwd": "a good password"}));
        for (name, value) in headers {
            request = request.header(name, value);
        }
        request.send()
    };
    for headers in [
        vec![("sec-fetch-site", "cross-site".to_string())],
        vec![("origin", "http://evil.example".to_string())],
        vec![("origin", "null".to_string())],
        vec![("origin", format!("http://{}.evil.example", app.addr))],
    ] {
        let response = post(headers.clone()).await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{headers:?}");
        assert_error(&response.json::<Value>().await.unwrap()["error"], -32600, "CrossSiteRequest");
    }
    // Nothing was done: the username is still free.
    let same_origin = post(vec![("origin", format!("http://{}", app.addr)), ("sec-fetch-site", "same-origin".into())]);
    assert_eq!(same_origin.await.unwrap().status(), StatusCode::OK);
    let allowed = reqwest::Client::new()
        .post(app.url("/api/signup"))
        .header("origin", "https://app.example")
        .json(&json!({"username": "friend", "pwd": "a good password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(allowed.status(), StatusCode::OK, "a configured origin may call");
}

#[tokio::test]
async fn post_bodies_must_be_json() {
    let app = spawn_app().await;
    for content_type in [None, Some("text/plain"), Some("application/x-www-form-urlencoded")] {
        let mut request =
            reqwest::Client::new().post(app.url("/api/signup")).body(r#"{"username":"eve","pwd":"a good password"}"#);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "{content_type:?}");
        assert_error(&response.json::<Value>().await.unwrap()["error"], -32600, "UnsupportedMediaType");
    }
    let (status, _) = app.client().post("/api/signup", json!({"username": "eve", "pwd": "a good password"})).await;
    assert_eq!(status, StatusCode::OK, "nothing was created by the refused requests");
}

#[tokio::test]
async fn bodies_over_the_limit_get_413_declared_or_streamed() {
    let app = spawn_app_with(|config| config.body_limit_bytes = 1024).await;
    let big = format!(r#"{{"username":"eve","pwd":"{}"}}"#, "x".repeat(2000));
    let response = reqwest::Client::new()
        .post(app.url("/api/signup"))
        .header("content-type", "application/json")
        .body(big.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_error(&response.json::<Value>().await.unwrap()["error"], -32600, "PayloadTooLarge");

    // Chunked, with no length declared: refused once the limit is crossed.
    let chunk = "x".repeat(800);
    let chunked = format!(
        "POST /api/signup HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n\
         {len:x}\r\n{chunk}\r\n{len:x}\r\n{chunk}\r\n0\r\n\r\n",
        len = chunk.len()
    );
    assert!(raw_exchange(app.addr, &chunked).await.starts_with("HTTP/1.1 413"));

    // A declared length far beyond the limit is answered without waiting for the body.
    let huge =
        "POST /api/signup HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000000000\r\n\r\n";
    assert!(raw_exchange(app.addr, huge).await.starts_with("HTTP/1.1 413"));
}

/// Writes `request` on a fresh connection and answers what the server says first.
async fn raw_exchange(addr: std::net::SocketAddr, request: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 2048];
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut answer)).await.unwrap().unwrap();
    String::from_utf8_lossy(&answer[..read]).into_owned()
}

#[tokio::test]
async fn request_ids_are_kept_when_valid_made_otherwise_and_shown_in_errors() {
    let app = spawn_app().await;
    let client = reqwest::Client::new();
    let response = client.get(app.url("/health/live")).header("x-request-id", "client-42.a").send().await.unwrap();
    assert_eq!(response.headers()["x-request-id"], "client-42.a");

    let response = client.get(app.url("/health/live")).header("x-request-id", "bad id!").send().await.unwrap();
    let made = response.headers()["x-request-id"].to_str().unwrap().to_string();
    assert!(made != "bad id!" && uuid_like(&made), "{made}");

    let response =
        client.post(app.url("/api/rpc")).header("x-request-id", "trace-7").json(&json!({})).send().await.unwrap();
    assert_eq!(response.headers()["x-request-id"], "trace-7");
    assert_eq!(response.json::<Value>().await.unwrap()["error"]["data"]["req_id"], "trace-7");

    let alice = app.user("alice").await;
    let response = alice
        .http
        .post(app.url("/api/rpc"))
        .header("x-request-id", "trace-8")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "get_project", "params": {"id": 999}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.json::<Value>().await.unwrap()["error"]["data"]["req_id"], "trace-8");
}

fn uuid_like(id: &str) -> bool {
    id.len() == 36 && id.chars().filter(|c| *c == '-').count() == 4
}

#[tokio::test]
async fn health_and_static_files() {
    let app = spawn_app().await;
    let client = reqwest::Client::new();
    assert_eq!(client.get(app.url("/health/live")).send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(client.get(app.url("/health/ready")).send().await.unwrap().status(), StatusCode::OK);
    let index = client.get(app.url("/")).send().await.unwrap();
    assert_eq!(index.status(), StatusCode::OK);
    assert!(index.headers()["content-security-policy"].to_str().unwrap().contains("default-src 'self'"));
    assert_eq!(index.headers()["x-content-type-options"], "nosniff");
    assert!(index.text().await.unwrap().contains("<html"));
    assert_eq!(client.get(app.url("/no-such-file.txt")).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    let (status, body) = app.client().post("/api/nothing-here", json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error(&body["error"], -32601, "NotFound");
}

#[tokio::test]
async fn a_database_outage_is_answered_quickly_and_the_server_recovers() {
    let proxy = Proxy::start().await;
    let app = spawn_app_with(|config| {
        // postgres://user:password@HOST:PORT/database: the database's address goes to the proxy.
        let url = config.database_url.expose().clone();
        let authority = url.split('@').nth(1).and_then(|rest| rest.split('/').next()).expect("host:port in the URL");
        proxy.forward_to(authority);
        config.database_url = Redacted::new(url.replacen(authority, &proxy.addr.to_string(), 1));
        config.db_acquire_timeout = Duration::from_secs(1);
    })
    .await;
    let alice = app.user("alice").await;
    let project = alice.ok("create_project", json!({"data": {"name": "p"}})).await;

    proxy.cut();
    let started = Instant::now();
    let (status, body) = alice.post("/api/rpc", json!({"jsonrpc": "2.0", "id": 1, "method": "get_me"})).await;
    assert!(started.elapsed() < Duration::from_secs(5), "answered in {:?}", started.elapsed());
    // The contract allows two answers: the session was still known (from the cache) and the
    // call fails (HTTP 200, the call's id), or the session itself cannot be checked (503, id null).
    match status {
        StatusCode::OK => assert_eq!(body["id"], 1, "{body}"),
        StatusCode::SERVICE_UNAVAILABLE => assert_eq!(body["id"], Value::Null, "{body}"),
        other => panic!("unexpected {other}: {body}"),
    }
    assert_error(&body["error"], -32050, "ServiceUnavailable");
    let (status, body) = app.client().post("/api/login", json!({"username": "alice", "pwd": common::PWD})).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_error(&body["error"], -32050, "ServiceUnavailable");
    let ready = reqwest::get(app.url("/health/ready")).await.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(reqwest::get(app.url("/health/live")).await.unwrap().status(), StatusCode::OK);

    proxy.restore();
    let mut recovered = false;
    for _ in 0..20 {
        let (status, body) = alice
            .post(
                "/api/rpc",
                json!({"jsonrpc": "2.0", "id": 1, "method": "get_project", "params": {"id": project["id"]}}),
            )
            .await;
        if status == StatusCode::OK && body.get("result").is_some() {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(recovered, "the server answers again once the database is back");
    assert_eq!(reqwest::get(app.url("/health/ready")).await.unwrap().status(), StatusCode::OK);
}

#[tokio::test]
async fn shutdown_finishes_the_request_in_flight_and_stops_accepting() {
    let mut app = spawn_app().await;
    let body = r#"{"username":"latecomer","pwd":"a good password"}"#;
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    // With `expect: 100-continue` the server says when it holds the head and waits for the
    // body: from then on the request is in flight, whatever the shutdown does.
    let head = format!(
        "POST /api/signup HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         expect: 100-continue\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut interim = [0u8; CONTINUE.len()];
    tokio::time::timeout(Duration::from_secs(10), stream.read_exact(&mut interim)).await.unwrap().unwrap();
    assert_eq!(String::from_utf8_lossy(&interim), CONTINUE);

    app.begin_shutdown();
    let deadline = Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(app.addr).await.is_ok() {
        assert!(Instant::now() < deadline, "still accepting new connections 10 s after the shutdown began");
        tokio::time::sleep(Duration::from_millis(5)).await; // a poll interval
    }

    stream.write_all(body.as_bytes()).await.unwrap();
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_string(&mut answer)).await.unwrap().unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("user_id"), "{answer}");
    tokio::time::timeout(Duration::from_secs(10), app.wait_stopped()).await.unwrap().unwrap();
}

/// The interim answer to `expect: 100-continue`, sent when the server starts reading the body.
const CONTINUE: &str = "HTTP/1.1 100 Continue\r\n\r\n";

#[test]
fn production_refuses_to_start_without_a_pwd_key() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_web-server"))
        .env_clear()
        .env("DATABASE_URL", "postgres://postgres@localhost:5432/unused")
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("PWD_KEY"), "{stderr}");

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_web-server"))
        .env_clear()
        .env("APP_ENV", "production")
        .env("DATABASE_URL", "postgres://postgres@localhost:5432/unused")
        .env("PWD_KEY", lib_core::config::DEV_PWD_KEY)
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("PWD_KEY"));
}

#[test]
fn gen_key_prints_a_key_production_accepts() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_web-server")).arg("gen-key").output().unwrap();
    assert!(output.status.success());
    let key = String::from_utf8(output.stdout).unwrap();
    assert!(lib_core::PwdKey::parse(key.trim()).is_ok(), "{key}");
}

#[tokio::test]
async fn errors_made_by_layers_get_the_json_shape_too() {
    let app = spawn_app_with(|config| config.request_timeout = Duration::from_secs(1)).await;
    let response = reqwest::get(app.url("/api/rpc")).await.unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_error(&response.json::<Value>().await.unwrap()["error"], -32600, "MethodNotAllowed");

    // A body that never completes runs into the request timeout.
    let slow = "POST /api/signup HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{";
    let answer = raw_exchange(app.addr, slow).await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains(r#""kind":"Timeout""#), "{answer}");
    assert!(answer.contains("x-content-type-options: nosniff"), "{answer}");
}

#[tokio::test]
async fn configured_origins_get_cors_and_others_do_not() {
    let app = spawn_app_with(|config| config.allowed_origins = vec!["https://app.example".into()]).await;
    let preflight = |origin: &'static str| {
        reqwest::Client::new()
            .request(reqwest::Method::OPTIONS, app.url("/api/rpc"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let allowed = preflight("https://app.example").await.unwrap();
    assert_eq!(allowed.headers()["access-control-allow-origin"], "https://app.example");
    assert_eq!(allowed.headers()["access-control-allow-credentials"], "true");
    let refused = preflight("https://evil.example").await.unwrap();
    assert!(refused.headers().get("access-control-allow-origin").is_none());
}
