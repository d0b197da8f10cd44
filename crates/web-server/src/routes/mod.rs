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
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::services::ServeDir;

pub(crate) fn app(state: AppState) -> Router {
    let mut api = Router::new()
        .route("/signup", post(auth::signup))
        .route("/login", post(auth::login))
        .route("/logoff", post(auth::logoff))
        .route("/rpc", post(rpc::rpc))
        .fallback(any(|| async { Error::NotFound }))
        .layer(axum::middleware::from_fn_with_state(state.clone(), guard::api_guard));
    if !state.config.allowed_origins.is_empty() {
        api = api.layer(cors(&state.config.allowed_origins));
    }

    let files = ServeDir::new(&state.config.web_folder);
    let request_timeout = state.config.request_timeout;
    let routes = Router::new()
        .nest("/api", api)
        .route("/health/live", get(health::live))
        .route("/health/ready", get(health::ready))
        .fallback(move |request: Request| static_files::serve(files.clone(), request))
        .with_state(state);
    middleware::around(routes, request_timeout)
}

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
