//! The routes; the layers around them are [`crate::middleware::around`].

pub(crate) mod admin;
mod auth;
mod health;
pub(crate) mod openrpc;
mod rpc;
#[cfg(test)]
mod tests;
mod ws;

use crate::error::Error;
use crate::middleware::observe::REQUEST_ID;
use crate::middleware::{self, guard, static_files};
use crate::state::AppState;
use axum::extract::Request;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, Method};
use axum::routing::{any, get, post};
use axum::{Extension, Router};
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::Predicate;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// The paths [`app`] routes, as metrics and traces name requests (a test checks that each is
/// routed); any other path is `/api/{unknown}` under `/api/`, else `static`.
const ROUTES: [&str; 8] = [
    "/api/signup",
    "/api/login",
    "/api/logoff",
    "/api/rpc",
    "/api/openrpc.json",
    "/api/ws",
    "/health/live",
    "/health/ready",
];

/// The route of `path`, from a closed set: never the raw path.
pub(crate) fn route_of(path: &str) -> &'static str {
    match ROUTES.iter().find(|route| **route == path) {
        Some(route) => route,
        None if path.starts_with("/api/") => "/api/{unknown}",
        None => crate::metrics::STATIC_ROUTE,
    }
}

pub(crate) fn app(state: AppState) -> Router {
    let mut api = Router::new()
        .route("/signup", post(auth::signup))
        .route("/login", post(auth::login))
        .route("/logoff", post(auth::logoff))
        .route("/rpc", post(rpc::rpc).layer(compress_large_answers()))
        .route("/openrpc.json", get(openrpc::document))
        .route("/ws", get(ws::ws))
        .fallback(any(|| async { Error::NotFound }))
        .layer(axum::middleware::from_fn_with_state(state.clone(), guard::api_guard));
    if !state.config.allowed_origins.is_empty() {
        api = api.layer(cors(&state.config.allowed_origins));
    }

    let files = static_files::Files::new(state.config.web_folder.as_deref());
    let metrics = state.metrics.clone();
    let request_timeout = state.config.request_timeout;
    let hsts = state.config.cookie_secure;
    let routes = Router::new()
        .nest("/api", api)
        .route("/health/live", get(health::live))
        .route("/health/ready", get(health::ready))
        .fallback(move |request: Request| static_files::serve(files.clone(), request))
        .with_state(state);
    middleware::around(routes, request_timeout, hsts).layer(Extension(metrics))
}

/// RPC answers from [`COMPRESS_ANSWERS_FROM`] to [`COMPRESS_ANSWERS_UP_TO`] bytes, gzip or
/// brotli as the client accepts.
///
/// The encoder pulls the answer's body ([`rpc`]'s `answer_body`) a chunk at a time as it writes
/// its output, so the answer still leaves its room in flight once its last chunk is taken; what
/// the encoder holds is not counted in flight, and stays as long as a client takes to read the
/// compressed answer. Brotli sizes its ring buffer to its input up to one 64 KiB block, but past
/// that reserves its whole window (8 MiB at tower-http's settings): larger answers go
/// uncompressed, so that a response being compressed holds some hundreds of KiB at most.
fn compress_large_answers() -> CompressionLayer<AnswerSize> {
    CompressionLayer::new().compress_when(AnswerSize)
}

/// The smallest RPC answer that is compressed, in bytes: below a KiB the bytes saved are worth
/// less than the time and the encoder's memory.
const COMPRESS_ANSWERS_FROM: u64 = 1024;
/// The largest RPC answer that is compressed, in bytes (see [`compress_large_answers`]).
const COMPRESS_ANSWERS_UP_TO: u64 = 64 * 1024;

/// Compress an answer whose exact size is within the bounds above.
#[derive(Clone, Copy)]
struct AnswerSize;

impl Predicate for AnswerSize {
    fn should_compress<B: http_body::Body>(&self, response: &axum::http::Response<B>) -> bool {
        response.extensions().get::<Uncompressed>().is_none()
            && response
                .body()
                .size_hint()
                .exact()
                .is_some_and(|size| (COMPRESS_ANSWERS_FROM..=COMPRESS_ANSWERS_UP_TO).contains(&size))
    }
}

/// Marks an answer that goes uncompressed whatever its size (an answer to a client without a
/// session).
#[derive(Clone, Copy)]
struct Uncompressed;

/// CORS for the configured origins only (none by default: the frontend is same-origin). The
/// session cookie is `SameSite=Strict`, so such origins must be on the same site.
fn cors(allowed_origins: &[String]) -> CorsLayer {
    let origins: Vec<HeaderValue> = allowed_origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::POST])
        .allow_headers([CONTENT_TYPE, REQUEST_ID])
        .expose_headers([REQUEST_ID])
        .allow_credentials(true)
}
