//! `GET /health/live` and `GET /health/ready`.

use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

/// 200 while the process serves.
pub(super) async fn live() -> Json<Value> {
    Json(json!({"status": "live"}))
}

/// 200 when the database answers within two seconds, else 503.
pub(super) async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    match tokio::time::timeout(Duration::from_secs(2), state.mm.ping()).await {
        Ok(true) => (StatusCode::OK, Json(json!({"status": "ready"}))),
        _ => (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"status": "database unavailable"}))),
    }
}
