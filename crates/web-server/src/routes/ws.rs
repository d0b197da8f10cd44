//! `GET /api/ws`: JSON-RPC over a WebSocket, through the same router as `POST /api/rpc`, with
//! `subscribe` and `unsubscribe` ([`crate::live`]).
//!
//! The session cookie authenticates the handshake (401 without one; a cross-site `Origin` is 403
//! in the guard). The socket then lives until the client closes it or:
//! - its session ends (logoff, expiry, `change_pwd`, revocation on any instance): checked every
//!   second, from the session cache (kept true by the revocations every instance hears), without
//!   counting as activity; the socket closes with 1008;
//! - it falls behind its queue, the instance may have missed changes, or a message runs past
//!   the request timeout: 1013;
//! - it does not take what is sent to it within the request timeout, or does not answer a ping
//!   within [`PING_EVERY`]: the connection is dropped;
//! - the server stops: 1001.
//!
//! Each text message is one request body, answered on the socket in order. One message runs at
//! a time (the next is not read until it is answered), while notifications, pings and the
//! session check go on.

use crate::error::Error;
use crate::extract::SessionCtx;
use crate::live::{Registration, Socket};
use crate::middleware::observe::ReqId;
use crate::state::AppState;
use axum::Extension;
use axum::extract::State;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::response::{IntoResponse, Response};
use lib_core::{Ctx, Limit, LogText};
use lib_model::session::SessionBmc;
use lib_rpc::Answer;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The session ended: RFC 6455's "policy violation".
const SESSION_ENDED: (u16, &str) = (1008, "the session ended");
/// A binary message: "unsupported data".
const NOT_TEXT: (u16, &str) = (1003, "JSON-RPC messages are text");
/// A message ran past the request timeout: its caller should start over.
const TOO_LONG: (u16, &str) = (1013, "a message ran past the request timeout");
/// How often the server pings a socket, and how long it waits for the answer.
const PING_EVERY: Duration = Duration::from_secs(30);
/// How often a socket's session is checked.
const SESSION_CHECK_EVERY: Duration = Duration::from_secs(1);
/// What the socket's transport buffers for reading: enough for most messages at once; a larger
/// one (up to the body limit) grows it while it is read. Idle sockets are many: keep them small.
const READ_BUFFER: usize = 8 * 1024;

/// A message being answered: its answer (`None`: it held notifications only), or
/// [`RanTooLong`].
type Answering = Pin<Box<dyn Future<Output = Result<Option<Answer>, RanTooLong>> + Send>>;

/// A message ran past the request timeout.
struct RanTooLong;

pub(super) async fn ws(
    State(state): State<AppState>,
    Extension(ReqId(req_id)): Extension<ReqId>,
    session: Result<SessionCtx, Error>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(_) => return Error::NotAnUpgrade.into_response(),
    };
    let session = match session {
        Ok(session) => session,
        Err(error) => return error.into_response(),
    };
    let socket = match state.live.open(session.ctx.user_id()) {
        Ok(socket) => socket,
        Err(limit) => {
            state.mm.throttled().count(Limit::WsSockets);
            return Error::TooManySockets { limit }.into_response();
        }
    };
    let limit = state.config.body_limit_bytes;
    upgrade
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(0)
        .max_message_size(limit)
        .max_frame_size(limit)
        .on_upgrade(move |websocket| serve(websocket, socket, session, state, req_id))
}

async fn serve(mut websocket: WebSocket, socket: Socket, session: SessionCtx, state: AppState, req_id: String) {
    let SessionCtx { ctx, token } = session;
    let Socket { mut queue, mut close, registration } = socket;
    let send_within = state.config.request_timeout;
    let mut messages = 0u64;
    let mut answering: Option<Answering> = None;
    let mut session_check = tokio::time::interval(SESSION_CHECK_EVERY);
    let mut ping = tokio::time::interval_at((Instant::now() + PING_EVERY).into(), PING_EVERY);
    let mut awaiting_pong = false;
    let closing = loop {
        let outgoing = tokio::select! {
            incoming = websocket.recv(), if answering.is_none() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    messages += 1;
                    let req_id = format!("{req_id}.{messages}");
                    answering = Some(Box::pin(answer(state.clone(), ctx, text.as_bytes().to_vec(), req_id, registration.clone())));
                    continue;
                }
                Some(Ok(Message::Binary(_))) => break Some(NOT_TEXT),
                Some(Ok(Message::Pong(_))) => {
                    awaiting_pong = false;
                    continue;
                }
                // Pings are answered by the transport.
                Some(Ok(Message::Ping(_))) => continue,
                Some(Err(error)) => break refusal(error),
                Some(Ok(Message::Close(_))) | None => return,
            },
            answered = async { answering.as_mut().expect("polled only while answering").await }, if answering.is_some() => {
                answering = None;
                match answered {
                    Ok(Some(answer)) => Outgoing::Answer(answer),
                    Ok(None) => continue,
                    Err(RanTooLong) => break Some(TOO_LONG),
                }
            }
            Some(message) = queue.next() => Outgoing::Text(message),
            Ok(()) = close.changed() => match *close.borrow_and_update() {
                Some(code) => break Some(code.frame()),
                None => continue,
            },
            _ = session_check.tick() => match SessionBmc::is_live(&state.mm, &token).await {
                Ok(false) => break Some(SESSION_ENDED),
                // The database cannot say: the next check may.
                Ok(true) | Err(_) => continue,
            },
            _ = ping.tick() => {
                if awaiting_pong {
                    return;
                }
                awaiting_pong = true;
                Outgoing::Ping
            }
        };
        if !send(&mut websocket, outgoing, send_within).await {
            return;
        }
    };
    if let Some((code, reason)) = closing {
        let frame = CloseFrame { code, reason: reason.into() };
        let _ = tokio::time::timeout(send_within, websocket.send(Message::Close(Some(frame)))).await;
    }
}

/// What the socket sends next.
enum Outgoing {
    /// An answer, counted among the answers in flight until it is sent.
    Answer(Answer),
    Text(String),
    Ping,
}

/// Sends `outgoing` within `within`; false when the client did not take it in time (a reader
/// that stopped reading holds nothing past this) or the connection is gone.
async fn send(websocket: &mut WebSocket, outgoing: Outgoing, within: Duration) -> bool {
    let (message, _answer) = match outgoing {
        // The router writes JSON, which is UTF-8; the answer itself stays counted until sent.
        Outgoing::Answer(answer) => match std::str::from_utf8(answer.as_ref()) {
            Ok(text) => (Message::text(text), Some(answer)),
            Err(_) => return true,
        },
        Outgoing::Text(text) => (Message::Text(text.into()), None),
        Outgoing::Ping => (Message::Ping(Default::default()), None),
    };
    matches!(tokio::time::timeout(within, websocket.send(message)).await, Ok(Ok(())))
}

/// The answer to one message, as `POST /api/rpc` would give it, within the request timeout;
/// logged like a request.
async fn answer(
    state: AppState,
    ctx: Ctx,
    body: Vec<u8>,
    req_id: String,
    subscriptions: Arc<Registration>,
) -> Result<Option<Answer>, RanTooLong> {
    let started = Instant::now();
    let handled = state.rpc.handle_on_socket(ctx, &state.mm, &body, &req_id, &state.rpc_limits, &*subscriptions);
    let Ok(outcome) = tokio::time::timeout(state.config.request_timeout, handled).await else {
        tracing::warn!(req_id, user_id = ctx.user_id(), "a socket message ran past the request timeout");
        return Err(RanTooLong);
    };
    tracing::info!(
        req_id,
        user_id = ctx.user_id(),
        rpc = %LogText(&outcome.methods.join(",")),
        error_kind = outcome.error_kinds.join(","),
        duration_ms = started.elapsed().as_secs_f64() * 1000.0,
        "ws message"
    );
    state.metrics.record_calls(&outcome.calls);
    Ok(outcome.body)
}

/// What the transport refused of a message, as the close code (RFC 6455, 7.4.1) that says so;
/// `None` when the connection is gone and there is no one to tell.
fn refusal(error: axum::Error) -> Option<(u16, &'static str)> {
    use tokio_tungstenite::tungstenite::Error as Transport;
    match error.into_inner().downcast::<Transport>().map(|error| *error) {
        Ok(Transport::Capacity(_)) => Some((1009, "a message may be at most BODY_LIMIT_BYTES")),
        Ok(Transport::Utf8(_)) => Some((1007, "a text message must be UTF-8")),
        Ok(Transport::Protocol(_)) => Some((1002, "not the WebSocket protocol")),
        _ => None,
    }
}
