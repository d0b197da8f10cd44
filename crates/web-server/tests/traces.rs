//! Traces: the server exports its spans with OTLP over HTTP/protobuf to the endpoint it is
//! given. A receiver in this test decodes what arrives with the official OTLP types and checks
//! the tree of one request: request → RPC call → database statement, all in the trace of the
//! incoming `traceparent`, with each call's method and error code; a password hash has its span.
//! The binary itself, exporting, keeps the request's fields (`req_id`, `trace_id`) on its log
//! lines, and the `trace_id` there is the exported trace's.
//!
//! One test in this binary runs a server in process: the exporter belongs to the process, set up
//! by the first server. The other runs the server's binary.

mod common;

use axum::body::Bytes;
use axum::routing::post;
use common::binary::{self, Binary};
use common::{PWD, spawn_app_with};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message as _;
use reqwest::StatusCode;
use serde_json::json;
use std::io::BufRead as _;
use std::process::Stdio;
use std::sync::{Arc, Mutex, mpsc};
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
    assert_eq!(text(attribute(request, "http.request.method")).as_deref(), Some("POST"));
    assert_eq!(text(attribute(request, "http.route")).as_deref(), Some("/api/rpc"));
    assert_eq!(attribute(request, "http.response.status_code"), Some(AnyValue::IntValue(200)));
    assert!(text(attribute(request, "req_id")).is_some_and(|id| !id.is_empty()), "the log's request id");
    for log_only in ["method", "path", "rpc", "trace_id"] {
        assert_eq!(attribute(request, log_only), None, "the log's `{log_only}` is not exported");
    }

    let calls: Vec<&Span> = spans.iter().filter(|s| is_call(s)).collect();
    let mut names: Vec<&str> = calls.iter().map(|s| s.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["get_project", "get_task", "list_tasks"], "a span per call of the batch");
    for call in &calls {
        assert_eq!(call.parent_span_id, request.span_id, "{} is the request's child", call.name);
        assert_eq!(attribute(call, "method"), None, "the log's `method` of {} is not exported", call.name);
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

/// The JSON log line `message` written inside the request `req_id`, from `lines` (at most 20 s).
fn log_line(lines: &mpsc::Receiver<String>, req_id: &str, message: &str) -> serde_json::Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
        let Ok(line) = lines.recv_timeout(left) else { break };
        let Ok(event) = serde_json::from_str::<serde_json::Value>(&line) else { continue };
        if event["message"] == message && event["span"]["req_id"] == req_id {
            return event;
        }
    }
    panic!("no log line '{message}' for request {req_id}");
}

// Two workers: the receiver answers the binary while the test waits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_exporting_keeps_the_requests_fields_and_its_trace_id_on_the_log_line() {
    let (endpoint, received) = receiver().await;
    let db = lib_model::test_support::TestDb::empty().await;
    let addr = binary::free_addr();
    let mut child = binary::command(db.url(), &binary::pwd_key(), addr)
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", &endpoint)
        .env("OTEL_BSP_SCHEDULE_DELAY", "100")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _server = Binary(child);
    let (send, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            if send.send(line).is_err() {
                break;
            }
        }
    });
    let base = format!("http://{addr}");
    let client = reqwest::Client::new();
    binary::wait_ready(&client, addr).await;

    // Without a session: answered 401, still a request with its span and log line.
    let rpc = json!({"jsonrpc": "2.0", "id": 1, "method": "list_projects"});
    let trace_id = "5bf92f3577b34da6a3ce929d0e0e4736";
    let continued = client
        .post(format!("{base}/api/rpc"))
        .header("x-request-id", "continued-request")
        .header("traceparent", format!("00-{trace_id}-00f067aa0ba902b7-01"))
        .json(&rpc)
        .send()
        .await
        .unwrap();
    assert_eq!(continued.status(), StatusCode::UNAUTHORIZED);
    let fresh = client.post(format!("{base}/api/rpc")).header("x-request-id", "fresh-request").json(&rpc).send();
    assert_eq!(fresh.await.unwrap().status(), StatusCode::UNAUTHORIZED);

    let line = log_line(&lines, "continued-request", "response");
    assert_eq!(line["span"]["trace_id"], trace_id, "{line}");
    assert_eq!(line["span"]["path"], "/api/rpc", "{line}");
    let line = log_line(&lines, "fresh-request", "response");
    let fresh_trace = line["span"]["trace_id"].as_str().unwrap_or_else(|| panic!("a trace id: {line}")).to_string();
    assert!(fresh_trace.len() == 32 && fresh_trace != trace_id, "{line}");

    // The log's trace id is the one the request's span was exported in.
    let fresh_trace: Vec<u8> =
        (0..16).map(|i| u8::from_str_radix(&fresh_trace[2 * i..2 * i + 2], 16).unwrap()).collect();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let exported = received.lock().unwrap().iter().any(|s| s.trace_id == fresh_trace && s.name == "POST /api/rpc");
        if exported {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the request's span was not exported in the logged trace");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
