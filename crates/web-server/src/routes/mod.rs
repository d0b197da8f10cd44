//! The routes; the layers around them are [`crate::middleware::around`].

mod auth;
mod health;
mod rpc;

use crate::error::Error;
use crate::middleware::observe::REQUEST_ID;
use crate::middleware::{self, guard, static_files};
use crate::state::AppState;
use axum::Router;
use axum::extract::Request;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, Method};
use axum::routing::{any, get, post};
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::SizeAbove;
use tower_http::cors::{AllowOrigin, CorsLayer};

pub(crate) fn app(state: AppState) -> Router {
    let mut api = Router::new()
        .route("/signup", post(auth::signup))
        .route("/login", post(auth::login))
        .route("/logoff", post(auth::logoff))
        .route("/rpc", post(rpc::rpc).layer(compress_large_answers()))
        .fallback(any(|| async { Error::NotFound }))
        .layer(axum::middleware::from_fn_with_state(state.clone(), guard::api_guard));
    if !state.config.allowed_origins.is_empty() {
        api = api.layer(cors(&state.config.allowed_origins));
    }

    let files = static_files::Files::new(state.config.web_folder.as_deref());
    let request_timeout = state.config.request_timeout;
    let hsts = state.config.cookie_secure;
    let routes = Router::new()
        .nest("/api", api)
        .route("/health/live", get(health::live))
        .route("/health/ready", get(health::ready))
        .fallback(move |request: Request| static_files::serve(files.clone(), request))
        .with_state(state);
    middleware::around(routes, request_timeout, hsts)
}

/// RPC answers of at least [`COMPRESS_ANSWERS_FROM`] bytes, gzip or brotli as the client accepts.
///
/// The encoder pulls the answer's body ([`rpc`]'s `answer_body`) a chunk at a time as it writes
/// its output, so the answer still leaves its room in flight once its last chunk is taken, or at
/// its deadline; besides the answer, a response being compressed holds the encoder's state
/// (brotli at tower-http's default quality 4, or gzip's 32 KiB window, some hundreds of KiB at
/// most) and one chunk of output, neither counted in flight.
fn compress_large_answers() -> CompressionLayer<SizeAbove> {
    // Below a KiB the bytes saved are worth less than the time and the encoder's memory.
    CompressionLayer::new().compress_when(SizeAbove::new(COMPRESS_ANSWERS_FROM))
}

/// The smallest RPC answer that is compressed, in bytes.
const COMPRESS_ANSWERS_FROM: u64 = 1024;

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
