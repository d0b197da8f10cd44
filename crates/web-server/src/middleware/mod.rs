//! The request pipeline around the routes: [`around`] puts the same layers around any router,
//! so the tests of the pipeline (a panicking handler, log escaping) run the production stack.

pub(crate) mod guard;
pub(crate) mod observe;
pub(crate) mod static_files;
#[cfg(test)]
mod tests;

use crate::error::Error;
use axum::Router;
use axum::http::header::STRICT_TRANSPORT_SECURITY as STRICT_TRANSPORT_SECURITY_HEADER;
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

/// Browsers that saw this over HTTPS use only HTTPS for the host for a year.
const STRICT_TRANSPORT_SECURITY: &str = "max-age=31536000";

/// Layers, outermost first: observe → security headers → catch panic → timeout → `router`.
/// `hsts` (on with `COOKIE_SECURE`, which says the server is reached over HTTPS) adds
/// `Strict-Transport-Security`; over plain HTTP it would be ignored or, behind a proxy that
/// sometimes speaks HTTP, lock users out.
///
/// The catch-panic layer sits inside observe, so a panic's 500 still gets the JSON error body,
/// `x-request-id` and the response log line; inside the security headers, so it gets those too.
pub(crate) fn around(router: Router, request_timeout: Duration, hsts: bool) -> Router {
    let strict_transport_security = hsts.then(|| HeaderValue::from_static(STRICT_TRANSPORT_SECURITY));
    let router = router
        .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, request_timeout))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(SetResponseHeaderLayer::if_not_present(STRICT_TRANSPORT_SECURITY_HEADER, strict_transport_security));
    security_headers(router).layer(axum::middleware::from_fn(observe::observe))
}

/// The headers every page and answer carries (the admin listener's too): a content security
/// policy that allows only this server's own files, no type sniffing, no referrer.
pub(crate) fn security_headers<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router
        .layer(security_header("content-security-policy", CONTENT_SECURITY_POLICY))
        .layer(security_header("x-content-type-options", "nosniff"))
        .layer(security_header("referrer-policy", "no-referrer"))
}

/// The panic hook ([`crate::logging`]) has already logged the message inside the request's
/// span; the client gets the usual -32603 with its `req_id`, rendered by observe.
fn panic_response(_payload: Box<dyn Any + Send + 'static>) -> Response {
    Error::Panicked.into_response()
}

fn security_header(name: &'static str, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(HeaderName::from_static(name), HeaderValue::from_static(value))
}
