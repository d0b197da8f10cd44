//! `POST /api/rpc`: a session is required, but for `rpc.discover`; the body goes to lib-rpc,
//! and its answer is sent within a deadline ([`body`]).

mod body;

use crate::error::Error;
use crate::extract::{BodyBytes, SessionCtx};
use crate::middleware::observe::ReqId;
use crate::state::AppState;
use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::{CONTENT_TYPE, SET_COOKIE};
use axum::response::{IntoResponse, Response};
use lib_core::{Ctx, LogText};

pub(super) async fn rpc(
    State(state): State<AppState>,
    Extension(ReqId(req_id)): Extension<ReqId>,
    session: Result<SessionCtx, Error>,
    BodyBytes(body): BodyBytes,
) -> Response {
    let (ctx, anonymous) = match session {
        Ok(session) => (session.ctx, false),
        // The document is the API's public face: anyone may ask for it, and for nothing else.
        Err(Error::Unauthorized) if state.rpc.is_discovery(&body, &state.rpc_limits) => (Ctx::for_user(0), true),
        Err(error) => return error.into_response(),
    };
    let outcome = state.rpc.handle(ctx, &state.mm, &body, &req_id, &state.rpc_limits).await;
    state.metrics.record_calls(&outcome.calls);
    // Nothing of the request is needed any more: its memory goes before the answer is sent.
    drop(body);
    let span = tracing::Span::current();
    // Method names are client text (any string a client sends), so they are logged escaped.
    span.record("rpc", tracing::field::display(LogText(&outcome.methods.join(","))));
    if !outcome.error_kinds.is_empty() {
        span.record("error_kind", outcome.error_kinds.join(","));
    }
    let mut response = match outcome.body {
        // The answer's bytes stay counted in flight until the connection has taken them, or at
        // most `request_timeout` from now: a client that does not read holds no room past that.
        Some(answer) => ([(CONTENT_TYPE, "application/json")], body::answer_body(answer, state.config.request_timeout))
            .into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    };
    if anonymous {
        // Compressing the document for anyone who asks would cost the server ten times what
        // sending it does; GET /api/openrpc.json serves it compressed once and for all.
        response.extensions_mut().insert(super::Uncompressed);
    }
    if let Some(session) = outcome.new_session {
        let cookie = super::auth::session_cookie(session.token.as_str(), session.max_age, state.config.cookie_secure);
        response.headers_mut().insert(SET_COOKIE, cookie);
    }
    response
}
