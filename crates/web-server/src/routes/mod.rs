//! The routes, and the layers around them.

mod auth;
mod health;
mod rpc;

use crate::error::Error;
use crate::middleware::observe::REQUEST_ID;
use crate::middleware::{guard, observe};
use crate::state::AppState;
use axum::Router;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::routing::{any, get, post};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

/// Pages may load only what this server serves; nothing may frame them.
const CONTENT_SECURITY_POLICY: &str =
    "default-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'; object-src 'none'";

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

    // Layers run outermost last-added: observe → security headers → timeout → routes.
    Router::new()
        .nest("/api", api)
        .route("/health/live", get(health::live))
        .route("/health/ready", get(health::ready))
        .fallback_service(ServeDir::new(&state.config.web_folder))
        .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, state.config.request_timeout))
        .layer(security_header("content-security-policy", CONTENT_SECURITY_POLICY))
        .layer(security_header("x-content-type-options", "nosniff"))
        .layer(security_header("referrer-policy", "no-referrer"))
        .layer(axum::middleware::from_fn(observe::observe))
        .with_state(state)
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

fn security_header(name: &'static str, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(HeaderName::from_static(name), HeaderValue::from_static(value))
}
