//! A WebSocket client of `/api/ws` for the tests: JSON-RPC calls answered by id, and the
//! `changed` notifications that arrive meanwhile, kept in order.

use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long a test waits for what must arrive: generous, as an upper bound only.
pub const ARRIVES_WITHIN: Duration = Duration::from_secs(5);

pub struct Socket {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    notifications: VecDeque<Value>,
}

/// What the server said to a handshake it refused.
pub fn refused_status(error: WsError) -> StatusCode {
    match error {
        WsError::Http(response) => response.status(),
        other => panic!("expected an HTTP refusal, got {other:?}"),
    }
}

/// The handshake request for `addr` with `cookie` (`auth-token=...`), if any, and `origin`.
fn request(
    addr: SocketAddr,
    cookie: Option<&str>,
    origin: Option<&str>,
) -> tokio_tungstenite::tungstenite::handshake::client::Request {
    let mut request = format!("ws://{addr}/api/ws").into_client_request().unwrap();
    if let Some(cookie) = cookie {
        request.headers_mut().insert("cookie", HeaderValue::from_str(cookie).unwrap());
    }
    if let Some(origin) = origin {
        request.headers_mut().insert("origin", HeaderValue::from_str(origin).unwrap());
    }
    request
}

impl Socket {
    /// Opens a socket to the instance at `addr` as the session `cookie`.
    pub async fn open(addr: SocketAddr, cookie: &str) -> Socket {
        Self::try_open(addr, Some(cookie), None).await.expect("the handshake succeeds")
    }

    pub async fn try_open(addr: SocketAddr, cookie: Option<&str>, origin: Option<&str>) -> Result<Socket, WsError> {
        let (ws, _) = tokio_tungstenite::connect_async(request(addr, cookie, origin)).await?;
        Ok(Socket { ws, next_id: 0, notifications: VecDeque::new() })
    }

    /// Opens a socket whose TCP receive buffer is `bytes`: a reader the server can outpace.
    pub async fn open_slow(addr: SocketAddr, cookie: &str, bytes: u32) -> Socket {
        let tcp = TcpSocket::new_v4().unwrap();
        tcp.set_recv_buffer_size(bytes).unwrap();
        let stream = tcp.connect(addr).await.unwrap();
        let (ws, _) = tokio_tungstenite::client_async(request(addr, Some(cookie), None), MaybeTlsStream::Plain(stream))
            .await
            .expect("the handshake succeeds");
        Socket { ws, next_id: 0, notifications: VecDeque::new() }
    }

    /// Sends `text` as one message.
    pub async fn send_text(&mut self, text: &str) {
        self.ws.send(Message::text(text)).await.unwrap();
    }

    /// The next message (answer or notification), as JSON; panics on a close or after
    /// [`ARRIVES_WITHIN`].
    pub async fn next_message(&mut self) -> Value {
        loop {
            let next = tokio::time::timeout(ARRIVES_WITHIN, self.ws.next()).await.expect("a message in time");
            match next {
                Some(Ok(Message::Text(text))) => return serde_json::from_str(&text).unwrap(),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                other => panic!("expected a message, got {other:?}"),
            }
        }
    }

    /// Calls `method` (`Null` params are left out): its whole response; notifications arriving
    /// first are kept.
    pub async fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut request = json!({"jsonrpc": "2.0", "id": id, "method": method});
        if !params.is_null() {
            request["params"] = params;
        }
        self.send_text(&request.to_string()).await;
        loop {
            let message = self.next_message().await;
            if message["id"] == id {
                return message;
            }
            self.notifications.push_back(message);
        }
    }

    /// `subscribe`: the subscription's id.
    pub async fn subscribe(&mut self, params: Value) -> String {
        let response = self.call("subscribe", params).await;
        let id = response["result"]["data"]["subscription"].as_str();
        id.unwrap_or_else(|| panic!("subscribe: {response}")).to_string()
    }

    /// The next `changed` notification's params.
    pub async fn changed(&mut self) -> Value {
        let message = match self.notifications.pop_front() {
            Some(message) => message,
            None => self.next_message().await,
        };
        assert_eq!(message["method"], "changed", "{message}");
        assert!(message.get("id").is_none(), "a notification has no id: {message}");
        message["params"].clone()
    }

    /// The close code the server ends the socket with, skipping messages before it.
    pub async fn close_code(&mut self) -> u16 {
        loop {
            let next = tokio::time::timeout(ARRIVES_WITHIN, self.ws.next()).await.expect("closed in time");
            match next {
                Some(Ok(Message::Close(Some(frame)))) => return frame.code.into(),
                Some(Ok(_)) => continue,
                other => panic!("expected a close frame, got {other:?}"),
            }
        }
    }
}
