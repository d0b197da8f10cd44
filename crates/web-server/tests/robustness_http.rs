//! The HTTP layer against hostile requests: static paths of any length or encoding, directory
//! redirects, chunked bodies charged on the wire, and client text meant for the log.
//!
//! Requests are written by hand on a TCP stream: an HTTP client library would normalise the very
//! paths and framing under test.

mod common;

use common::{assert_error, spawn_app, spawn_app_with};
use serde_json::Value;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// What the server answered: status code, lower-cased header lines, body.
struct Answer {
    status: u16,
    headers: String,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.lines().find_map(|line| line.strip_prefix(name)?.strip_prefix(": "))
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// Writes `request` on a fresh connection and reads one response (head, then `content-length`
/// bytes of body), without waiting for the connection to close.
async fn exchange(addr: SocketAddr, request: &[u8]) -> Answer {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    tokio::time::timeout(Duration::from_secs(5), read_answer(&mut stream)).await.expect("an answer in time")
}

async fn read_answer(stream: &mut TcpStream) -> Answer {
    let mut bytes = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        let read = stream.read(&mut buf).await.unwrap();
        assert!(read > 0, "closed before a response: {:?}", String::from_utf8_lossy(&bytes));
        bytes.extend_from_slice(&buf[..read]);
    };
    let head = String::from_utf8(bytes[..head_end].to_vec()).unwrap().to_ascii_lowercase();
    let (status_line, headers) = head.split_once("\r\n").unwrap_or((&head, ""));
    let status = status_line.split(' ').nth(1).unwrap().parse().unwrap();
    let headers = headers.to_string();
    let length: usize =
        headers.lines().find_map(|line| line.strip_prefix("content-length: ")).map_or(0, |len| len.parse().unwrap());
    let mut body = bytes[head_end + 4..].to_vec();
    while body.len() < length {
        let read = stream.read(&mut buf).await.unwrap();
        assert!(read > 0, "closed inside the body");
        body.extend_from_slice(&buf[..read]);
    }
    Answer { status, headers, body: String::from_utf8_lossy(&body).into_owned() }
}

async fn get(addr: SocketAddr, method: &str, target: &[u8]) -> Answer {
    let mut request = format!("{method} ").into_bytes();
    request.extend_from_slice(target);
    request.extend_from_slice(b" HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n");
    exchange(addr, &request).await
}

#[tokio::test]
async fn a_path_that_names_no_file_is_404_whatever_its_length_or_encoding() {
    let app = spawn_app().await;
    let long_name = format!("/{}", "a".repeat(256));
    let longest_name = format!("/{}", "a".repeat(255));
    let long_path = format!("/{}", "a".repeat(10 * 1024));
    let deep_path = format!("/{}x", "abcdefgh/".repeat(200));
    let long_inner = format!("/js/{}/app.js", "b".repeat(300));
    let encoded_long = format!("/{}", "%61".repeat(300));
    let targets: Vec<&[u8]> = vec![
        long_name.as_bytes(),
        longest_name.as_bytes(),
        long_path.as_bytes(),
        deep_path.as_bytes(),
        long_inner.as_bytes(),
        encoded_long.as_bytes(),
        b"/%00",
        b"/index.html%00",
        b"/js%00/app.js",
        b"/%zz",
        b"/%",
        b"/%ff%fe",
        b"/%c0%af",
        b"/\\js",
        b"/%5Cjs",
        b"/js%5Capp.js",
        b"/%2F/js",
        b"/%2fjs",
        b"//js",
        b"//js/app.js",
        b"/js//app.js",
        b"//evil.com/%2e%2e",
        b"//evil.com/",
        b"/%2e%2e/Cargo.toml",
        b"/..%2f..%2fetc%2fpasswd",
        b"/js/%2e%2e/index.html",
        b"/%0d%0aset-cookie:%20x=y",
        "/caf\u{e9}.html".as_bytes(),
    ];
    for target in targets {
        let shown = String::from_utf8_lossy(&target[..target.len().min(60)]).into_owned();
        for method in ["GET", "HEAD"] {
            let answer = get(app.addr, method, target).await;
            assert_eq!(answer.status, 404, "{method} {shown}: {}", answer.headers);
            assert!(answer.header("location").is_none(), "{method} {shown}: {}", answer.headers);
            assert!(answer.header("x-request-id").is_some(), "{method} {shown}");
        }
    }
    // Bytes that are not UTF-8 are not a URI at all: hyper refuses the request line.
    assert_eq!(get(app.addr, "GET", b"/\xff\xfe").await.status, 400);
    assert_eq!(get(app.addr, "GET", b"/js/app.js").await.status, 200, "files are still served");
}

#[tokio::test]
async fn a_directory_redirects_to_its_slash_path_on_this_server_only() {
    let app = spawn_app().await;
    let answer = get(app.addr, "GET", b"/js").await;
    assert_eq!(answer.status, 307, "{}", answer.headers);
    assert_eq!(answer.header("location"), Some("/js/"));

    let answer = get(app.addr, "GET", b"/js?v=1").await;
    assert_eq!(answer.header("location"), Some("/js/?v=1"));

    // An absolute-form request names a host; the redirect still stays on this server.
    let answer = get(app.addr, "GET", b"http://evil.example/js").await;
    assert_eq!(answer.status, 307, "{}", answer.headers);
    assert_eq!(answer.header("location"), Some("/js/"));

    let answer = get(app.addr, "GET", b"/js/views").await;
    assert_eq!(answer.header("location"), Some("/js/views/"));
}

/// A chunked `POST` head for `path`; the chunks follow.
fn chunked_head(path: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
    )
}

#[tokio::test]
async fn one_byte_chunks_are_charged_their_framing_and_refused_before_the_body_ends() {
    let app = spawn_app_with(|config| config.body_limit_bytes = 1024).await;
    // 300 data bytes, far under the limit; 1,800 bytes on the wire, past it. No last chunk is
    // sent: the answer must come as soon as the limit is passed, not when the body ends.
    let mut request = chunked_head("/api/login").into_bytes();
    for _ in 0..300 {
        request.extend_from_slice(b"1\r\n \r\n");
    }
    let answer = exchange(app.addr, &request).await;
    assert_eq!(answer.status, 413, "{}", answer.body);
    assert_error(&answer.json()["error"], -32600, "PayloadTooLarge");
}

#[tokio::test]
async fn chunked_bodies_under_the_limit_are_read_whole() {
    let app = spawn_app_with(|config| config.body_limit_bytes = 1024).await;
    let body = r#"{"username": "chunky", "pwd": "a good password"}"#;
    let mut request = chunked_head("/api/signup");
    for part in [&body[..10], &body[10..11], &body[11..]] {
        request.push_str(&format!("{:x}\r\n{part}\r\n", part.len()));
    }
    request.push_str("0\r\n\r\n");
    let answer = exchange(app.addr, request.as_bytes()).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(answer.json()["result"]["user_id"].is_i64(), "{}", answer.body);

    // 900 data bytes in one chunk: 905 on the wire, under the limit.
    let shell = r#"{"username": "chunky2", "pwd": ""}"#;
    let padded = format!(r#"{{"username": "chunky2", "pwd": "{}"}}"#, "p".repeat(900 - shell.len()));
    let request = format!("{}{:x}\r\n{padded}\r\n0\r\n\r\n", chunked_head("/api/signup"), padded.len());
    let answer = exchange(app.addr, request.as_bytes()).await;
    assert_eq!((padded.len(), answer.status), (900, 200), "{}", answer.body);
}

#[tokio::test]
async fn a_path_with_line_breaking_or_bidi_characters_is_an_ordinary_404() {
    let app = spawn_app().await;
    let raw = "/a\u{85}b\u{9b}31m\u{2028}c\u{202e}d\u{200b}e";
    let encoded = "/a%C2%85b%C2%9B31m%E2%80%A8c%E2%80%AEd%E2%80%8Be";
    for target in [raw, encoded, "/api/a%C2%85b"] {
        let answer = get(app.addr, "GET", target.as_bytes()).await;
        assert_eq!(answer.status, 404, "{target}");
        assert!(answer.header("x-request-id").is_some());
    }
    assert_eq!(get(app.addr, "GET", b"/health/live").await.status, 200);
}

#[tokio::test]
async fn an_unexpected_member_of_a_login_body_is_refused_by_name_whatever_it_carries() {
    let app = spawn_app().await;
    // Just under the body limit: a `Value` of it would take about 100 times its size.
    let bomb = vec![serde_json::json!({"": 0}); 140_000];
    let body = serde_json::json!({"username": "alice", "pwd": "a good password", "x": bomb});
    let (status, answer) = app.client().post("/api/login", body).await;
    assert_eq!(status, 400, "{answer}");
    assert_error(&answer["error"], -32602, "InvalidInput");
    let detail = answer["error"]["data"]["detail"].as_str().unwrap();
    assert!(detail.starts_with("x: unknown field `x`"), "{detail}");
}
