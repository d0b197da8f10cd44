//! `GET /api/ws`: JSON-RPC over a WebSocket, through the same router as `POST /api/rpc`, with
//! `subscribe` and `unsubscribe` ([`crate::live`]).
//!
//! The session cookie authenticates the handshake (401 without one; a cross-site `Origin` is 403
//! in the guard). The socket then lives until the client closes it or:
//! - its session ends (logoff, expiry, `change_pwd`, revocation on any instance): it is checked
//!   every second, from the session cache (kept true by the revocations every instance hears),
//!   and the socket closes with 1008;
//! - it falls behind its queue, or the instance may have missed changes: 1013;
//! - it does not answer a ping within [`PING_EVERY`]: closed;
//! - the server stops: 1001.
//!
//! Each text message is one request body, answered on the socket in order; a message is held
//! to the body limit and runs under the request timeout.

use crate::error::Error;
use crate::extract::SessionCtx;
use crate::live::Socket;
use crate::middleware::observe::ReqId;
use crate::state::AppState;
use axum::Extension;
use axum::extract::State;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::response::{IntoResponse, Response};
use lib_core::{Ctx, LogText};
use lib_model::session::SessionBmc;
use std::time::{Duration, Instant};

/// The session ended: RFC 6455's "policy violation".
const SESSION_ENDED: (u16, &str) = (1008, "the session ended");
/// A binary message: "unsupported data".
const NOT_TEXT: (u16, &str) = (1003, "JSON-RPC messages are text");

/// How often the server pings a socket, and how long it waits for the answer.
const PING_EVERY: Duration = Duration::from_secs(30);
/// How often a socket's session is checked.
const SESSION_CHECK_EVERY: Duration = Duration::from_secs(1);
/// What the socket's transport buffers for reading: enough for most messages at once; a larger
/// one (up to the body limit) grows it while it is read. Idle sockets are many: keep them small.
const READ_BUFFER: usize = 8 * 1024;

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
        Err(limit) => return Error::TooManySockets { limit }.into_response(),
    };
    let limit = state.config.body_limit_bytes;
    upgrade
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(0)
        .max_message_size(limit)
        .max_frame_size(limit)
        .on_upgrade(move |websocket| serve(websocket, socket, session, state, req_id))
}

async fn serve(mut websocket: WebSocket, mut socket: Socket, session: SessionCtx, state: AppState, req_id: String) {
    let SessionCtx { ctx, token } = session;
    let mut messages = 0u64;
    let mut session_check = tokio::time::interval(SESSION_CHECK_EVERY);
    let mut ping = tokio::time::interval_at((Instant::now() + PING_EVERY).into(), PING_EVERY);
    let mut awaiting_pong = false;
    let code = loop {
        tokio::select! {
            incoming = websocket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    messages += 1;
                    let req_id = format!("{req_id}.{messages}");
                    if let Some(answer) = answer(&state, ctx, text.as_bytes(), &req_id, &socket).await
                        && websocket.send(Message::Text(answer.into())).await.is_err()
                    {
                        return;
                    }
                }
                Some(Ok(Message::Binary(_))) => break Some(NOT_TEXT),
                Some(Ok(Message::Pong(_))) => awaiting_pong = false,
                // Pings are answered by the transport.
                Some(Ok(Message::Ping(_))) => {}
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
            },
            Some(message) = socket.queue.recv() => {
                if websocket.send(Message::Text(message.into())).await.is_err() {
                    return;
                }
            }
            Ok(()) = socket.close.changed() => {
                if let Some(code) = *socket.close.borrow_and_update() {
                    break Some(code.frame());
                }
            }
            _ = session_check.tick() => {
                if matches!(SessionBmc::resolve(&state.mm, &token).await, Ok(None)) {
                    break Some(SESSION_ENDED);
                }
            }
            _ = ping.tick() => {
                if awaiting_pong {
                    break None;
                }
                awaiting_pong = true;
                if websocket.send(Message::Ping(Default::default())).await.is_err() {
                    return;
                }
            }
        }
    };
    if let Some((code, reason)) = code {
        let frame = CloseFrame { code, reason: reason.into() };
        let _ = websocket.send(Message::Close(Some(frame))).await;
    }
}

/// The answer to one message, as `POST /api/rpc` would give it, within the request timeout;
/// logged like a request.
async fn answer(state: &AppState, ctx: Ctx, body: &[u8], req_id: &str, socket: &Socket) -> Option<String> {
    let started = Instant::now();
    let handled = state.rpc.handle_on_socket(ctx, &state.mm, body, req_id, &state.rpc_limits, &socket.registration);
    let Ok(outcome) = tokio::time::timeout(state.config.request_timeout, handled).await else {
        tracing::warn!(req_id, user_id = ctx.user_id(), "a socket message took too long; not answered");
        return None;
    };
    tracing::info!(
        req_id,
        user_id = ctx.user_id(),
        rpc = %LogText(&outcome.methods.join(",")),
        error_kind = outcome.error_kinds.join(","),
        duration_ms = started.elapsed().as_secs_f64() * 1000.0,
        "ws message"
    );
    // The answer's bytes leave the in-flight count: the socket sends one message at a time, and
    // what waits is bounded by its queue.
    let answer = outcome.body?.into_bytes();
    // The router writes JSON, which is UTF-8.
    String::from_utf8(answer).ok()
}
