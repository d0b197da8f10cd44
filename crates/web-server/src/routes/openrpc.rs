//! `GET /api/openrpc.json`: the OpenRPC document that `rpc.discover` answers, built at start and
//! compressed then (brotli and gzip, as the frontend's files are), so that serving it to anyone costs no compression; a strong
//! `ETag` per representation, and 304 for a client that has it.

use crate::compress::{brotli_of, gzip_of};
use crate::negotiate::{Encoding, none_match, preferred};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::{ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, ETAG, IF_NONE_MATCH, VARY};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// Brotli's quality for the document: made at every start (and in every test's app), so a
/// quality that takes milliseconds, not the build's best, which takes half a second in a debug
/// build for a few hundred bytes less.
const DOCUMENT_BROTLI_QUALITY: u32 = 9;

/// The document's text in each encoding, each with its entity tag, made once.
#[derive(Clone)]
pub(crate) struct Document {
    plain: Representation,
    brotli: Representation,
    gzip: Representation,
}

#[derive(Clone)]
struct Representation {
    body: Bytes,
    etag: HeaderValue,
}

impl Document {
    pub(crate) fn of(router: &lib_rpc::RpcRouter) -> Self {
        let text = router.discover().get().as_bytes();
        let digest = Sha256::digest(text);
        let hash: String = digest[..12].iter().map(|byte| format!("{byte:02x}")).collect();
        let representation = |body: Vec<u8>, encoding: Option<Encoding>| {
            let suffix = encoding.map(|encoding| format!("-{}", encoding.suffix())).unwrap_or_default();
            let etag = HeaderValue::from_str(&format!("\"{hash}{suffix}\"")).expect("hex is a header value");
            Representation { body: body.into(), etag }
        };
        Self {
            plain: representation(text.to_vec(), None),
            brotli: representation(brotli_of(text, DOCUMENT_BROTLI_QUALITY), Some(Encoding::Brotli)),
            gzip: representation(gzip_of(text), Some(Encoding::Gzip)),
        }
    }
}

pub(super) async fn document(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let document = &state.openrpc;
    let encoding = preferred(headers.get(ACCEPT_ENCODING), &Encoding::ALL);
    let chosen = match encoding {
        Some(Encoding::Brotli) => &document.brotli,
        Some(Encoding::Gzip) => &document.gzip,
        None => &document.plain,
    };
    let etag = chosen.etag.to_str().expect("an ASCII tag");
    let mut response = if none_match(headers.get(IF_NONE_MATCH), etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response =
            ([(CONTENT_TYPE, HeaderValue::from_static("application/json"))], chosen.body.clone()).into_response();
        if let Some(encoding) = encoding {
            response.headers_mut().insert(CONTENT_ENCODING, HeaderValue::from_static(encoding.token()));
        }
        response
    };
    let headers = response.headers_mut();
    headers.insert(ETAG, chosen.etag.clone());
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(VARY, HeaderValue::from_static("accept-encoding"));
    response
}
