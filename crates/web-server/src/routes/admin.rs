//! The admin listener (`ADMIN_LISTEN_ADDR`, loopback by default): `GET /metrics` in Prometheus'
//! text format, the diagnostics dashboard at `/` with its files (inside the binary, under the
//! same content security policy as the frontend: no inline script or style), and the history it
//! draws, `/history.json`. No API, no session: it must not be reachable from outside
//! (docs/operations.md).

use crate::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// The dashboard's files: path, content type, bytes.
const FILES: [(&str, &str, &[u8]); 6] = [
    ("/", "text/html; charset=utf-8", include_bytes!("../../admin/index.html")),
    ("/dashboard.js", "text/javascript; charset=utf-8", include_bytes!("../../admin/dashboard.js")),
    ("/dashboard.css", "text/css; charset=utf-8", include_bytes!("../../admin/dashboard.css")),
    ("/favicon.svg", "image/svg+xml", include_bytes!("../../admin/favicon.svg")),
    (
        "/vendor/uPlot.iife.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../admin/vendor/uPlot.iife.min.js"),
    ),
    ("/vendor/uPlot.min.css", "text/css; charset=utf-8", include_bytes!("../../admin/vendor/uPlot.min.css")),
];

pub(crate) fn app(state: AppState) -> Router {
    let mut router = Router::new().route("/metrics", get(metrics)).route("/history.json", get(history));
    for (path, content_type, bytes) in FILES {
        router = router.route(path, get(move || async move { file(content_type, bytes) }));
    }
    let router = router.fallback(|| async { StatusCode::NOT_FOUND }).with_state(state);
    crate::middleware::security_headers(router)
}

fn file(content_type: &'static str, bytes: &'static [u8]) -> Response {
    // The files change only with the binary: a page reloaded after an upgrade asks again.
    ([(CONTENT_TYPE, content_type), (CACHE_CONTROL, "no-cache")], bytes).into_response()
}

async fn metrics(State(state): State<AppState>) -> Response {
    let content_type = HeaderValue::from_static(prometheus_client::encoding::prometheus_text::CONTENT_TYPE);
    ([(CONTENT_TYPE, content_type)], state.metrics.encode()).into_response()
}

async fn history(State(state): State<AppState>) -> Response {
    let history = state.metrics.history_json(state.config.db_max_connections);
    ([(CACHE_CONTROL, "no-store")], axum::Json(history)).into_response()
}
