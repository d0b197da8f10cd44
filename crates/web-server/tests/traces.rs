//! Traces: the server exports its spans with OTLP over HTTP/protobuf to the endpoint it is
//! given. A receiver in this test decodes what arrives with the official OTLP types and checks
//! the tree of one request: request → RPC call → database statement, all in the trace of the
//! incoming `traceparent`, with each call's method and error code; a password hash has its span.
//!
//! One test in this binary: the exporter belongs to the process, set up by the first server.

mod common;

use axum::body::Bytes;
use axum::routing::post;
use common::{PWD, spawn_app_with};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message as _;
use reqwest::StatusCode;
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;

type Received = Arc<Mutex<Vec<Span>>>;

/// An OTLP/HTTP receiver on a free loopback port: every span it is sent.
async fn receiver() -> (String, Received) {
    let received: Received = Arc::default();
    let store = received.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        post(move |body: Bytes| async move {
            let request = ExportTraceServiceRequest::decode(body).expect("an OTLP protobuf export");
            let spans = request.resource_spans.into_iter().flat_map(|r| r.scope_spans).flat_map(|s| s.spans);
            store.lock().unwrap().extend(spans);
            StatusCode::OK
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/v1/traces"), received)
}

fn attribute(span: &Span, key: &str) -> Option<AnyValue> {
    span.attributes.iter().find(|kv| kv.key == key).and_then(|kv| kv.value.clone()?.value)
}

fn text(value: Option<AnyValue>) -> Option<String> {
    match value {
        Some(AnyValue::StringValue(text)) => Some(text),
        _ => None,
    }
}

/// The spans received so far of the trace `trace_id`, once `wanted` holds of them (at most 20 s).
async fn spans_of(received: &Received, trace_id: &[u8], wanted: impl Fn(&[Span]) -> bool) -> Vec<Span> {
    for _ in 0..200 {
        tokio::task::spawn_blocking(web_server::telemetry::flush).await.unwrap();
        let spans: Vec<Span> =
            received.lock().unwrap().iter().filter(|span| span.trace_id == trace_id).cloned().collect();
        if wanted(&spans) {
            return spans;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the trace's spans did not arrive: {:?}", received.lock().unwrap().len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_continues_the_incoming_trace_with_a_span_per_call_and_statement() {
    let (endpoint, received) = receiver().await;
    let app = spawn_app_with(|config| config.otel_traces_url = Some(endpoint)).await;
    let alice = app.user("alice").await;
    let project = alice.ok("create_project", json!({"data": {"name": "Traced"}})).await;

    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let parent_id = "00f067aa0ba902b7";
    let batch = json!([
        {"jsonrpc": "2.0", "id": 1, "method": "get_project", "params": {"id": project["id"]}},
        {"jsonrpc": "2.0", "id": 2, "method": "get_task", "params": {"id": 987_654_321}},
        {"jsonrpc": "2.0", "id": 3, "method": "list_tasks", "params": {"filters": {"project_id": project["id"]}}},
    ]);
    let response = alice
        .http
        .post(app.url("/api/rpc"))
        .header("traceparent", format!("00-{trace_id}-{parent_id}-01"))
        .json(&batch)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    let trace: Vec<u8> = (0..16).map(|i| u8::from_str_radix(&trace_id[2 * i..2 * i + 2], 16).unwrap()).collect();
    let is_call = |span: &Span| text(attribute(span, "rpc.system")).as_deref() == Some("jsonrpc");
    let spans = spans_of(&received, &trace, |spans| {
        spans.iter().filter(|s| is_call(s)).count() == 3 && spans.iter().any(|s| s.name.starts_with("SELECT"))
    })
    .await;

    let parent: Vec<u8> = (0..8).map(|i| u8::from_str_radix(&parent_id[2 * i..2 * i + 2], 16).unwrap()).collect();
    let request = spans.iter().find(|s| s.parent_span_id == parent).expect("the request's span, child of the caller's");
    assert_eq!(request.name, "POST /api/rpc");
    assert_eq!(attribute(request, "http.response.status_code"), Some(AnyValue::IntValue(200)));

    let calls: Vec<&Span> = spans.iter().filter(|s| is_call(s)).collect();
    let mut names: Vec<&str> = calls.iter().map(|s| s.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["get_project", "get_task", "list_tasks"], "a span per call of the batch");
    for call in &calls {
        assert_eq!(call.parent_span_id, request.span_id, "{} is the request's child", call.name);
    }
    let failed = calls.iter().find(|s| s.name == "get_task").unwrap();
    assert_eq!(attribute(failed, "rpc.jsonrpc.error_code"), Some(AnyValue::IntValue(-32004)));
    let listed = calls.iter().find(|s| s.name == "list_tasks").unwrap();
    assert_eq!(attribute(listed, "rpc.jsonrpc.error_code"), None, "no error, no code");

    let statements: Vec<&Span> = spans.iter().filter(|s| text(attribute(s, "db.system.name")).is_some()).collect();
    let of_list = statements.iter().find(|s| s.parent_span_id == listed.span_id).expect("list_tasks' statement");
    assert_eq!(of_list.name, "SELECT task");
    assert_eq!(text(attribute(of_list, "db.collection.name")).as_deref(), Some("task"));
    for statement in &statements {
        for kv in &statement.attributes {
            let value = format!("{:?}", kv.value);
            assert!(!value.contains("WHERE") && !value.contains("$1"), "no statement text in a span: {value}");
        }
    }

    // A login's password hash has a span of its own, inside the login's request.
    let login = reqwest::Client::new()
        .post(app.url("/api/login"))
        .header("traceparent", format!("00-{}-{parent_id}-01", "a".repeat(32)))
        .json(&json!({"username": "alice", "pwd": PWD}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    let login_trace = vec![0xaa; 16];
    let login_spans = spans_of(&received, &login_trace, |spans| spans.iter().any(|s| s.name == "password hash")).await;
    assert!(login_spans.iter().any(|s| s.name == "POST /api/login"));
}
