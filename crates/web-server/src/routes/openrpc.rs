//! `GET /api/openrpc.json`: the OpenRPC document that `rpc.discover` answers, built at start,
//! with an `ETag` so that a client that has it gets 304.

use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// The document's text and its entity tag, made once.
#[derive(Clone)]
pub(crate) struct Document {
    text: Bytes,
    etag: HeaderValue,
}

impl Document {
    pub(crate) fn of(router: &lib_rpc::RpcRouter) -> Self {
        let text = router.discover().get().to_owned();
        let digest = Sha256::digest(text.as_bytes());
        let tag: String = digest[..12].iter().map(|byte| format!("{byte:02x}")).collect();
        let etag = HeaderValue::from_str(&format!("\"{tag}\"")).expect("hex is a header value");
        Self { text: text.into(), etag }
    }
}

pub(super) async fn document(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let document = &state.openrpc;
    let cached = headers.get_all(IF_NONE_MATCH).iter().any(|tags| {
        tags.to_str().is_ok_and(|tags| tags.split(',').any(|tag| tag.trim() == document.etag || tag.trim() == "*"))
    });
    let headers = [(ETAG, document.etag.clone()), (CACHE_CONTROL, HeaderValue::from_static("no-cache"))];
    if cached {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    (headers, [(CONTENT_TYPE, HeaderValue::from_static("application/json"))], document.text.clone()).into_response()
}
