//! Request ids, the client's address, the request span, error bodies, the one log line per
//! request, and its metrics.

use crate::error::{Error, ErrorAnswer};
use crate::extract::ClientAddr;
use crate::metrics::Metrics;
use crate::telemetry;
use axum::body::Body;
use axum::extract::Request;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use lib_core::LogText;
use lib_rpc::envelope;
use std::sync::Arc;
use std::time::Instant;
use tracing::field::Empty;
use tracing::{Instrument as _, Level};

pub(crate) const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The request's id, for handlers that put it in bodies (`data.req_id`).
#[derive(Debug, Clone)]
pub(crate) struct ReqId(pub(crate) String);

/// Keeps a valid incoming `x-request-id` or makes one; works out the client's address
/// ([`ClientAddr::resolve`]) for the throttles and the log line; runs the request in a span that
/// handlers fill in (user, RPC methods, error kinds); renders [`ErrorAnswer`]s with the request
/// id; and logs one line when the response is ready.
pub(crate) async fn observe(mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let req_id = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .filter(|id| is_valid_request_id(id))
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_string);
    let path = request.uri().path().to_string();
    let metrics = request.extensions().get::<Arc<Metrics>>().cloned();
    let client = ClientAddr::resolve(request.extensions(), request.headers());
    let route = crate::routes::route_of(&path);
    let traced = telemetry::traced_request(request.method().as_str(), route);
    let span = tracing::info_span!(
        // A target of its own: traces take the span ([`telemetry::TRACED`]), not the log's
        // events in this module.
        target: "web_server::request",
        "request",
        req_id = %req_id,
        // Client text, escaped so that it cannot forge or hide log lines (both formats).
        method = %LogText(request.method().as_str()),
        path = %LogText(&path),
        // Parsed from the peer or X-Forwarded-For: an address, never raw header text.
        client = client.map(|ClientAddr(addr)| tracing::field::display(addr)),
        user_id = Empty,
        rpc = Empty,
        error_kind = Empty,
        trace_id = Empty,
        // Only while traces are exported (none is written otherwise): the span there.
        otel.name = traced.as_ref().map(|traced| traced.name.as_str()),
        otel.kind = traced.as_ref().map(|_| "server"),
        http.request.method = traced.as_ref().map(|traced| traced.method),
        http.route = traced.as_ref().map(|_| route),
    );
    let trace_id = telemetry::start_request(&span, request.headers());
    if let Some(trace_id) = &trace_id {
        span.record("trace_id", trace_id.as_str());
    }
    request.extensions_mut().insert(ReqId(req_id.clone()));
    if let Some(client) = client {
        request.extensions_mut().insert(client);
    }

    let mut response = next.run(request).instrument(span.clone()).await;

    let bare_api_error = path.starts_with("/api/") && !response.headers().contains_key(CONTENT_TYPE);
    if bare_api_error
        && response.extensions().get::<ErrorAnswer>().is_none()
        && let Some(error) = Error::from_bare_status(response.status())
    {
        response.extensions_mut().insert(error.answer());
    }
    let mut error_kind = None;
    if let Some(answer) = response.extensions_mut().remove::<ErrorAnswer>() {
        span.record("error_kind", answer.error.kind);
        error_kind = Some(answer.error.kind);
        render_error(&mut response, &answer, &req_id, path == "/api/rpc");
    }
    if let Ok(value) = HeaderValue::from_str(&req_id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    let status = response.status().as_u16();
    let duration = started.elapsed();
    if let Some(metrics) = metrics {
        metrics.record_request(route, status, error_kind, duration);
    }
    telemetry::end_request(&span, status, trace_id.is_some());
    let duration_ms = duration.as_secs_f64() * 1000.0;
    // Not even entered when the log does not take the line (exporting makes the span).
    if status >= 500 {
        span.in_scope(|| tracing::warn!(status, duration_ms, "response"));
    } else if tracing::enabled!(Level::INFO) {
        span.in_scope(|| tracing::info!(status, duration_ms, "response"));
    }
    response
}

/// Ids of 1 to 128 characters from a conservative set, so they are safe in logs and headers.
fn is_valid_request_id(id: &str) -> bool {
    (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

/// `{"error": {...}}` for the plain endpoints; a JSON-RPC response with `id: null` for
/// `/api/rpc`: both rendered by lib-rpc's [`envelope`], as the errors of RPC calls are.
fn render_error(response: &mut Response, answer: &ErrorAnswer, req_id: &str, json_rpc: bool) {
    let object = answer.error.to_object(req_id);
    let body = if json_rpc { envelope::error_response(&object) } else { envelope::error_body(&object) };
    *response.body_mut() = Body::from(body);
    // The empty placeholder may carry `content-length: 0`; the new body has its own length.
    response.headers_mut().remove(CONTENT_LENGTH);
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Some(secs) = answer.error.retry_after_secs() {
        response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(secs));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_kept_only_when_safe() {
        assert!(is_valid_request_id("3f2c9a1e-7b6d-4c1a-9e8f-0a1b2c3d4e5f"));
        assert!(is_valid_request_id("client.req:42_a"));
        assert!(!is_valid_request_id(""));
        assert!(!is_valid_request_id(&"a".repeat(129)));
        assert!(!is_valid_request_id("has space"));
        assert!(!is_valid_request_id("line\nbreak"));
    }
}
