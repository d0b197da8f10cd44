//! Request ids, the client's address, the request span, error bodies, and the one log line per
//! request.

use crate::error::{ClientError, Error};
use crate::extract::ClientAddr;
use axum::body::Body;
use axum::extract::Request;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use lib_core::LogText;
use serde::Serialize;
use serde_json::json;
use std::time::Instant;
use tracing::Instrument as _;
use tracing::field::Empty;

pub(crate) const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The request's id, for handlers that put it in bodies (`data.req_id`).
#[derive(Debug, Clone)]
pub(crate) struct ReqId(pub(crate) String);

/// Keeps a valid incoming `x-request-id` or makes one; works out the client's address
/// ([`ClientAddr::resolve`]) for the throttles and the log line; runs the request in a span that
/// handlers fill in (user, RPC methods, error kinds); renders [`ClientError`]s with the request
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
    let client = ClientAddr::resolve(request.extensions(), request.headers());
    let span = tracing::info_span!(
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
    );
    request.extensions_mut().insert(ReqId(req_id.clone()));
    if let Some(client) = client {
        request.extensions_mut().insert(client);
    }

    let mut response = next.run(request).instrument(span.clone()).await;

    let bare_api_error = path.starts_with("/api/") && !response.headers().contains_key(CONTENT_TYPE);
    if bare_api_error
        && response.extensions().get::<ClientError>().is_none()
        && let Some(error) = Error::from_bare_status(response.status())
    {
        response.extensions_mut().insert(error.client_error());
    }
    if let Some(error) = response.extensions_mut().remove::<ClientError>() {
        span.record("error_kind", error.kind);
        render_error(&mut response, &error, &req_id, path == "/api/rpc");
    }
    if let Ok(value) = HeaderValue::from_str(&req_id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    let status = response.status().as_u16();
    let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    span.in_scope(|| {
        if status >= 500 {
            tracing::warn!(status, duration_ms, "response");
        } else {
            tracing::info!(status, duration_ms, "response");
        }
    });
    response
}

/// Ids of 1 to 128 characters from a conservative set, so they are safe in logs and headers.
fn is_valid_request_id(id: &str) -> bool {
    (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

/// `{"error": {...}}` for the plain endpoints; a JSON-RPC response with `id: null` for `/api/rpc`.
fn render_error(response: &mut Response, error: &ClientError, req_id: &str, json_rpc: bool) {
    let mut data = error.data.clone();
    data["kind"] = json!(error.kind);
    data["req_id"] = json!(req_id);
    let error_object = ErrorObject { code: error.code, message: error.message, data };
    let body = if json_rpc {
        serde_json::to_string(&RpcErrorBody { jsonrpc: "2.0", id: (), error: error_object })
    } else {
        serde_json::to_string(&ErrorBody { error: error_object })
    };
    *response.body_mut() = Body::from(body.expect("error bodies always serialize"));
    // The empty placeholder may carry `content-length: 0`; the new body has its own length.
    response.headers_mut().remove(CONTENT_LENGTH);
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Some(secs) = error.retry_after_secs {
        response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(secs));
    }
}

#[derive(Serialize)]
struct ErrorObject {
    code: i64,
    message: &'static str,
    data: serde_json::Value,
}

#[derive(Serialize)]
struct ErrorBody {
    error: ErrorObject,
}

/// A JSON-RPC response with `"id": null`, members in the specification's order.
#[derive(Serialize)]
struct RpcErrorBody {
    jsonrpc: &'static str,
    id: (),
    error: ErrorObject,
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
