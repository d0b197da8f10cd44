//! `POST /api/rpc`: a session is required; the body goes to lib-rpc.

use crate::extract::{BodyBytes, SessionCtx};
use crate::middleware::observe::ReqId;
use crate::state::AppState;
use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::{CONTENT_TYPE, SET_COOKIE};
use axum::response::{IntoResponse, Response};

pub(super) async fn rpc(
    State(state): State<AppState>,
    Extension(ReqId(req_id)): Extension<ReqId>,
    session: SessionCtx,
    BodyBytes(body): BodyBytes,
) -> Response {
    let outcome = state.rpc.handle(session.ctx, &state.mm, &body, &req_id, state.config.rpc_batch_limit).await;
    let span = tracing::Span::current();
    span.record("rpc", outcome.methods.join(","));
    if !outcome.error_kinds.is_empty() {
        span.record("error_kind", outcome.error_kinds.join(","));
    }
    let mut response = match outcome.body {
        Some(body) => ([(CONTENT_TYPE, "application/json")], body).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    };
    if let Some(session) = outcome.new_session {
        let cookie = super::auth::session_cookie(session.token.as_str(), session.max_age, state.config.cookie_secure);
        response.headers_mut().insert(SET_COOKIE, cookie);
    }
    response
}
