//! Connection hygiene on raw sockets: the header-read and keep-alive idle timeouts, the caps per
//! client address and in all, and places given back however a connection ends. Other clients
//! are other loopback addresses (127.0.0.2, ...).

mod common;

use common::spawn_app_with;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::{Instant, timeout};

/// Longer than any deadline under test, far shorter than the defaults they replace (10 s, 60 s).
const PATIENCE: Duration = Duration::from_secs(5);
const LIVE: &str = "GET /health/live HTTP/1.1\r\nhost: x\r\n\r\n";
/// Headers, then a body that stops short: a request in flight until the client goes.
const BODY_NEVER_FINISHED: &str =
    "POST /api/login HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"user";

/// One raw HTTP/1.1 connection from a chosen loopback address.
struct Conn {
    stream: TcpStream,
    unread: Vec<u8>,
}

impl Conn {
    async fn open(server: SocketAddr, from: &str) -> Self {
        let socket = TcpSocket::new_v4().unwrap();
        socket.bind(SocketAddr::new(from.parse::<IpAddr>().unwrap(), 0)).unwrap();
        Self { stream: socket.connect(server).await.unwrap(), unread: Vec::new() }
    }

    /// Sends `request` (a whole request, no body expected back beyond Content-Length) and answers
    /// the response's status, or `None` when the server closes the connection instead.
    async fn exchange(&mut self, request: &str) -> Option<u16> {
        self.stream.write_all(request.as_bytes()).await.ok()?;
        timeout(PATIENCE, self.read_response()).await.expect("an answer or a close within the deadline")
    }

    async fn read_response(&mut self) -> Option<u16> {
        loop {
            if let Some(end) = self.unread.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8(self.unread[..end].to_vec()).unwrap().to_ascii_lowercase();
                let status = head.get(9..12).and_then(|code| code.parse().ok()).expect("a status line");
                let length: usize = head
                    .lines()
                    .find_map(|line| line.strip_prefix("content-length:"))
                    .map_or(0, |value| value.trim().parse().unwrap());
                while self.unread.len() < end + 4 + length {
                    self.fill().await?;
                }
                self.unread.drain(..end + 4 + length);
                return Some(status);
            }
            self.fill().await?;
        }
    }

    /// Reads more; `None` when the server has closed the connection.
    async fn fill(&mut self) -> Option<()> {
        let mut chunk = [0u8; 4096];
        match self.stream.read(&mut chunk).await {
            Ok(0) | Err(_) => None,
            Ok(n) => {
                self.unread.extend_from_slice(&chunk[..n]);
                Some(())
            }
        }
    }

    /// Whether the server closes the connection, without sending anything, within [`PATIENCE`].
    async fn closed_by_server(&mut self) -> bool {
        let mut byte = [0u8; 1];
        match timeout(PATIENCE, self.stream.read(&mut byte)).await {
            Ok(Ok(0) | Err(_)) => true,
            Ok(Ok(_)) => panic!("the server sent bytes instead of closing"),
            Err(_) => false,
        }
    }
}

/// A connection from `from` that has been served once, so the server has surely counted it.
async fn served(server: SocketAddr, from: &str) -> Conn {
    let mut conn = Conn::open(server, from).await;
    assert_eq!(conn.exchange(LIVE).await, Some(200), "a connection from {from} is served");
    conn
}

/// A served connection from `from`, retried while the server turns connections away: places are
/// given back when the server notices a close, a moment after the client's.
async fn served_once_there_is_room(server: SocketAddr, from: &str) -> Conn {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let mut conn = Conn::open(server, from).await;
        if conn.exchange(LIVE).await == Some(200) {
            return conn;
        }
        assert!(Instant::now() < deadline, "no room for a connection from {from}: places were not given back");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_half_sent_request_line_is_closed_after_the_header_read_timeout() {
    let app = spawn_app_with(|config| config.header_read_timeout = Duration::from_secs(1)).await;
    let mut conn = Conn::open(app.addr, "127.0.0.1").await;
    conn.stream.write_all(b"GET /health/li").await.unwrap();
    assert!(conn.closed_by_server().await, "a half-sent request line was left open");
}

#[tokio::test]
async fn headers_trickled_byte_by_byte_are_cut_at_the_header_read_timeout() {
    let app = spawn_app_with(|config| config.header_read_timeout = Duration::from_secs(1)).await;
    let mut conn = Conn::open(app.addr, "127.0.0.1").await;
    let endless_header = format!("GET /health/live HTTP/1.1\r\nx-slow: {}", "a".repeat(1000));
    for byte in endless_header.bytes().take(50) {
        if conn.stream.write_all(&[byte]).await.is_err() {
            return; // closed by the server
        }
        // Each byte a tenth of a second apart: the server may close meanwhile.
        let mut probe = [0u8; 1];
        match timeout(Duration::from_millis(100), conn.stream.read(&mut probe)).await {
            Ok(Ok(0) | Err(_)) => return,
            Ok(Ok(_)) => panic!("the server answered headers that never ended"),
            Err(_) => {}
        }
    }
    panic!("headers still being accepted after 5 s, past the 1 s header read timeout");
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let app = spawn_app_with(|config| config.keepalive_idle = Duration::from_secs(1)).await;
    let mut conn = served(app.addr, "127.0.0.1").await;
    assert!(conn.closed_by_server().await, "an idle keep-alive connection was left open");
}

/// The header deadline restarts with the next request's first bytes, not when the connection
/// goes idle (as hyper's own header timer would): idle is bounded by the idle timeout alone.
#[tokio::test]
async fn an_idle_keep_alive_connection_outlives_the_header_read_timeout() {
    let app = spawn_app_with(|config| {
        config.header_read_timeout = Duration::from_secs(1);
        config.keepalive_idle = Duration::from_secs(30);
    })
    .await;
    let mut conn = served(app.addr, "127.0.0.1").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(conn.exchange(LIVE).await, Some(200), "idle for 1.5 s of 30 s allowed");
}

#[tokio::test]
async fn past_the_per_address_cap_new_connections_are_closed_at_once_and_others_are_served() {
    let app = spawn_app_with(|config| config.max_connections_per_addr = 3).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(served(app.addr, "127.0.0.1").await);
    }
    let mut one_too_many = Conn::open(app.addr, "127.0.0.1").await;
    assert!(one_too_many.closed_by_server().await, "a fourth connection from 127.0.0.1 was kept");

    let mut other_client = Conn::open(app.addr, "127.0.0.2").await;
    assert_eq!(other_client.exchange(LIVE).await, Some(200), "another address is served");
    for conn in &mut held {
        assert_eq!(conn.exchange(LIVE).await, Some(200), "the held connections still work");
    }
}

#[tokio::test]
async fn a_trusted_proxy_is_held_only_to_the_global_cap() {
    let app = spawn_app_with(|config| {
        config.max_connections_per_addr = 2;
        config.max_connections = 4;
        config.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(served(app.addr, "127.0.0.1").await);
    }
    let mut past_the_global_cap = Conn::open(app.addr, "127.0.0.1").await;
    assert!(past_the_global_cap.closed_by_server().await, "the global cap holds for the proxy too");
}

#[tokio::test]
async fn past_the_global_cap_nothing_new_is_served_until_connections_close() {
    let app = spawn_app_with(|config| {
        config.max_connections_per_addr = 4;
        config.max_connections = 4;
    })
    .await;
    let mut held = Vec::new();
    for from in ["127.0.0.1", "127.0.0.1", "127.0.0.3", "127.0.0.3"] {
        held.push(served(app.addr, from).await);
    }
    for from in ["127.0.0.2", "127.0.0.4", "127.0.0.1"] {
        let mut refused = Conn::open(app.addr, from).await;
        assert!(refused.closed_by_server().await, "a connection from {from} past the global cap was kept");
    }

    drop(held.pop());
    let mut again = served_once_there_is_room(app.addr, "127.0.0.2").await;
    assert_eq!(again.exchange(LIVE).await, Some(200));
}

/// Every way a connection ends gives its place back: closed by the server after
/// `connection: close`, dropped by the client when idle, mid-headers or mid-body, and closed by
/// the server at the header deadline. Each round needs all three places of the address again.
#[tokio::test]
async fn places_are_given_back_however_connections_end() {
    let app = spawn_app_with(|config| {
        config.max_connections_per_addr = 3;
        config.header_read_timeout = Duration::from_secs(1);
    })
    .await;
    for round in 0..5 {
        let mut conns = Vec::new();
        for _ in 0..3 {
            conns.push(served_once_there_is_room(app.addr, "127.0.0.1").await);
        }
        for mut conn in conns {
            match round {
                0 => {
                    let closing = "GET /health/live HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n";
                    assert_eq!(conn.exchange(closing).await, Some(200));
                    assert!(conn.closed_by_server().await);
                }
                1 => drop(conn),
                2 => conn.stream.write_all(b"GET /health/live HTTP/1.1\r\nhos").await.unwrap(),
                3 => conn.stream.write_all(BODY_NEVER_FINISHED.as_bytes()).await.unwrap(),
                _ => {
                    conn.stream.write_all(b"GET /hea").await.unwrap();
                    assert!(conn.closed_by_server().await, "closed at the header deadline");
                }
            }
        }
    }
    let mut all_places = Vec::new();
    for _ in 0..3 {
        all_places.push(served_once_there_is_room(app.addr, "127.0.0.1").await);
    }
}

#[tokio::test]
async fn shutdown_closes_idle_keep_alive_connections_at_once() {
    let mut app = spawn_app_with(|_| {}).await;
    let mut idle = served(app.addr, "127.0.0.1").await;
    app.begin_shutdown();
    assert!(idle.closed_by_server().await, "an idle connection was kept open while shutting down");
    timeout(PATIENCE, app.wait_stopped()).await.expect("stopped without waiting out the grace").unwrap();
}

#[tokio::test]
async fn shutdown_closes_a_request_still_running_after_the_grace_period() {
    let mut app = spawn_app_with(|config| config.shutdown_grace = Duration::from_secs(1)).await;
    let mut stuck = Conn::open(app.addr, "127.0.0.1").await;
    let (head, body) = BODY_NEVER_FINISHED.split_once("\r\n\r\n").unwrap();
    stuck.stream.write_all(format!("{head}\r\nexpect: 100-continue\r\n\r\n").as_bytes()).await.unwrap();
    // The handler has started reading the body: the request is in flight.
    assert_eq!(timeout(PATIENCE, stuck.read_response()).await.unwrap(), Some(100));
    stuck.stream.write_all(body.as_bytes()).await.unwrap();
    app.begin_shutdown();
    timeout(PATIENCE, app.wait_stopped()).await.expect("stopped after the grace period").unwrap();
    assert!(stuck.closed_by_server().await, "a request past the grace period kept its connection");
}
