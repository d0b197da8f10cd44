//! The production layer stack ([`super::around`]) around test routes that the real app must not
//! have: a handler that panics, and the log lines of a request, captured in both formats.

use crate::logging;
use axum::Router;
use axum::routing::{get, post};
use lib_core::LogFormat;
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tracing_subscriber::layer::Identity;

/// Serves the stack around `routes` on port 0, on the test's (current-thread) runtime, so a
/// subscriber set for the test's thread sees the server's events too.
async fn serve(routes: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, super::around(routes, Duration::from_secs(5), false)).await });
    addr
}

fn panicking_routes() -> Router {
    Router::new()
        .route("/boom", get(boom))
        .route("/api/rpc", post(boom_in_a_call))
        .route("/fine", get(|| async { "fine" }))
}

async fn boom() -> &'static str {
    panic!("a bug with client text \u{85} in it")
}

async fn boom_in_a_call() -> &'static str {
    panic!("a bug in a call")
}

/// One request on a fresh connection (closed after the answer): status line, headers, body.
async fn exchange(addr: SocketAddr, method: &str, path: &[u8]) -> (String, String, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut request = format!("{method} ").into_bytes();
    request.extend_from_slice(path);
    request.extend_from_slice(b" HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
    stream.write_all(&request).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await.unwrap().unwrap();
    let answer = String::from_utf8(answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    let (status, headers) = head.split_once("\r\n").unwrap();
    (status.to_string(), headers.to_ascii_lowercase(), body.to_string())
}

fn header<'a>(headers: &'a str, name: &str) -> &'a str {
    headers.lines().find_map(|line| line.strip_prefix(name)?.strip_prefix(": ")).unwrap_or_default()
}

/// Log output written into memory, by the production subscriber of `format`.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn set_for_this_thread(&self, format: &LogFormat) -> tracing::subscriber::DefaultGuard {
        let writer = self.clone();
        let subscriber = logging::subscriber(format, "info", move || writer.clone(), None::<Identity>);
        tracing::subscriber::set_default(subscriber)
    }

    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

/// Every test here sets a subscriber before its first request: tracing caches whether a call
/// site is enabled, and a thread without one would cache "never" for the others.
#[tokio::test]
async fn a_panicking_handler_answers_500_with_the_json_error_the_log_has_its_req_id_and_the_server_goes_on() {
    logging::install_panic_hook();
    let captured = Captured::default();
    let guard = captured.set_for_this_thread(&LogFormat::Json);
    let addr = serve(panicking_routes()).await;

    let (status, headers, body) = exchange(addr, "GET", b"/boom").await;
    let (rpc_status, rpc_headers, rpc_body) = exchange(addr, "POST", b"/api/rpc").await;
    let (fine_status, _, fine_body) = exchange(addr, "GET", b"/fine").await;
    drop(guard); // a failed assertion's message goes to the test's output, not into `captured`

    assert!(status.starts_with("HTTP/1.1 500"), "{status}");
    assert_eq!(header(&headers, "content-type"), "application/json");
    assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
    let req_id = header(&headers, "x-request-id");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"]["code"], -32603, "{body}");
    assert_eq!(body["error"]["message"], "Internal error", "{body}");
    assert_eq!(body["error"]["data"]["kind"], "Internal", "{body}");
    assert_eq!(body["error"]["data"]["req_id"], req_id, "{body}");
    assert!(!body.to_string().contains("bug"), "no panic text reaches the client: {body}");

    assert!(rpc_status.starts_with("HTTP/1.1 500"), "{rpc_status}");
    let rpc_body: Value = serde_json::from_str(&rpc_body).unwrap();
    assert_eq!(rpc_body["jsonrpc"], "2.0", "{rpc_body}");
    assert_eq!(rpc_body["id"], Value::Null, "{rpc_body}");
    assert_eq!(rpc_body["error"]["code"], -32603, "{rpc_body}");
    assert_eq!(rpc_body["error"]["data"]["req_id"], header(&rpc_headers, "x-request-id"), "{rpc_body}");

    assert!(fine_status.starts_with("HTTP/1.1 200") && fine_body == "fine", "goes on: {fine_status} {fine_body}");

    let lines: Vec<Value> = captured.text().lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    let of_request = |message: &str| {
        lines.iter().find(|line| line["message"] == message && line["span"]["req_id"] == req_id).cloned()
    };
    let panic = of_request("panic").expect("the panic is logged in the request's span");
    assert_eq!(panic["level"], "ERROR");
    assert_eq!(panic["panic"], "a bug with client text \\u{0085} in it", "{panic}");
    assert!(panic["location"].as_str().unwrap().contains("tests.rs"), "{panic}");
    let response = of_request("response").expect("the response line");
    assert_eq!(response["status"], 500);
}

#[tokio::test]
async fn client_text_in_the_request_line_reaches_neither_log_format_raw() {
    let hostile = ['\u{85}', '\u{9b}', '\u{2028}', '\u{202e}', '\u{200b}'];
    let path: String = ["/a", "\u{85}", "b", "\u{9b}", "31m", "\u{2028}", "c", "\u{202e}", "d", "\u{200b}"].concat();
    for format in [LogFormat::Pretty, LogFormat::Json] {
        let captured = Captured::default();
        let guard = captured.set_for_this_thread(&format);
        let addr = serve(Router::new()).await;

        let (status, _, _) = exchange(addr, "GET", path.as_bytes()).await;
        drop(guard);
        assert!(status.starts_with("HTTP/1.1 404"), "{status}");
        let text = captured.text();
        assert!(text.contains("response"), "{text}");
        assert!(text.contains(r"\u{0085}") && text.contains(r"\u{202e}"), "escaped, still readable: {text}");
        assert!(!text.chars().any(|c| hostile.contains(&c)), "raw client text: {text:?}");
        // One request, one line: nothing in the path starts another.
        assert_eq!(text.lines().count(), 1, "{text:?}");
    }
}
