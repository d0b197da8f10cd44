//! The request pipeline around the routes: [`around`] puts the same layers around any router,
//! so the tests of the pipeline (a panicking handler, log escaping) run the production stack.

pub(crate) mod guard;
pub(crate) mod observe;
pub(crate) mod static_files;
#[cfg(test)]
mod tests;

use crate::error::Error;
use axum::Router;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse as _, Response};
use std::any::Any;
use std::time::Duration;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

/// Pages may load only what this server serves; nothing may frame them.
const CONTENT_SECURITY_POLICY: &str =
    "default-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'; object-src 'none'";

/// Layers, outermost first: observe → security headers → catch panic → timeout → `router`.
///
/// The catch-panic layer sits inside observe, so a panic's 500 still gets the JSON error body,
/// `x-request-id` and the response log line; inside the security headers, so it gets those too.
pub(crate) fn around(router: Router, request_timeout: Duration) -> Router {
    router
        .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, request_timeout))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(security_header("content-security-policy", CONTENT_SECURITY_POLICY))
        .layer(security_header("x-content-type-options", "nosniff"))
        .layer(security_header("referrer-policy", "no-referrer"))
        .layer(axum::middleware::from_fn(observe::observe))
}

/// The panic hook ([`crate::logging`]) has already logged the message inside the request's
/// span; the client gets the usual -32603 with its `req_id`, rendered by observe.
fn panic_response(_payload: Box<dyn Any + Send + 'static>) -> Response {
    Error::Panicked.into_response()
}

fn security_header(name: &'static str, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(HeaderName::from_static(name), HeaderValue::from_static(value))
}
