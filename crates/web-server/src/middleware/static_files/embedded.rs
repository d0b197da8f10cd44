//! The frontend built into the binary (`web-folder/` as build.rs prepared it, with brotli and
//! gzip twins): the answer for a checked path, with the same 404 and trailing-slash rules as the
//! folder on disk, a strong `ETag` per representation, `If-None-Match` → 304, and the encoding
//! the client prefers among those made at build time.
//!
//! `Cache-Control: no-cache` on every file: the frontend's names carry no content hash
//! (`index.html` loads `js/app.js`, which imports its modules by plain name), so a cached copy
//! of any of them could outlive a deploy and mix two versions; with no-cache a browser asks
//! every time and gets a 304 without a body while its copy is current.

use super::not_found;
use crate::negotiate::{Encoding, none_match, preferred};
use axum::body::{Body, Bytes};
use axum::http::header::{
    ACCEPT_ENCODING, ALLOW, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, ETAG, IF_NONE_MATCH, LOCATION, VARY,
};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse as _, Response};
use rust_embed::{EmbeddedFile, RustEmbed};
use std::borrow::Cow;

#[derive(RustEmbed)]
#[folder = "$OUT_DIR/web-folder"]
struct Frontend;

/// The answer to `method` on `path` (percent-decoded, checked by the caller), `query` kept for a
/// redirect.
pub(super) fn answer(method: &Method, path: &str, query: Option<&str>, headers: &HeaderMap) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return (StatusCode::METHOD_NOT_ALLOWED, [(ALLOW, "GET,HEAD")]).into_response();
    }
    let name = file_name(path);
    if name.ends_with(".br") || name.ends_with(".gz") {
        return StatusCode::NOT_FOUND.into_response(); // a twin, not a file of the frontend
    }
    let Some(file) = Frontend::get(&name) else {
        return if !path.ends_with('/') && is_folder(&name) { to_folder(path, query) } else { not_found() };
    };
    let twins: Vec<Encoding> =
        Encoding::ALL.into_iter().filter(|e| Frontend::get(&twin(&name, *e)).is_some()).collect();
    let chosen = preferred(headers.get(ACCEPT_ENCODING), &twins);
    let etag = etag(&file, chosen);

    let mut response = if none_match(headers.get(IF_NONE_MATCH), &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let body = match chosen {
            Some(encoding) => Frontend::get(&twin(&name, encoding)).expect("the twin was found above").data,
            None => file.data.clone(),
        };
        let mut response = Body::from(bytes(body)).into_response();
        let content_type = HeaderValue::from_str(file.metadata.mimetype()).expect("mime types are header values");
        response.headers_mut().insert(CONTENT_TYPE, content_type);
        if let Some(encoding) = chosen {
            response.headers_mut().insert(CONTENT_ENCODING, HeaderValue::from_static(encoding.token()));
        }
        response
    };
    let headers = response.headers_mut();
    headers.insert(ETAG, HeaderValue::from_str(&etag).expect("hex is a header value"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if !twins.is_empty() {
        headers.insert(VARY, HeaderValue::from_static("accept-encoding"));
    }
    response
}

/// The embedded file's name for a request path: without its leading `/` and `.` segments, and
/// `index.html` for a folder.
fn file_name(path: &str) -> String {
    let mut name: String =
        path.split('/').filter(|s| !s.is_empty() && *s != ".").map(|s| format!("{s}/")).collect::<String>();
    if path.ends_with('/') || name.is_empty() {
        name.push_str("index.html");
    } else {
        name.pop();
    }
    name
}

fn is_folder(name: &str) -> bool {
    let prefix = format!("{name}/");
    Frontend::iter().any(|file| file.starts_with(&prefix))
}

/// The folder's path with its `/`, as the folder on disk answers (see the parent module).
fn to_folder(path: &str, query: Option<&str>) -> Response {
    match super::folder_location(path, query) {
        Some(location) => (StatusCode::TEMPORARY_REDIRECT, [(LOCATION, location)]).into_response(),
        None => not_found(),
    }
}

fn twin(name: &str, encoding: Encoding) -> String {
    format!("{name}.{}", encoding.suffix())
}

fn bytes(data: Cow<'static, [u8]>) -> Bytes {
    match data {
        Cow::Borrowed(data) => Bytes::from_static(data),
        Cow::Owned(data) => Bytes::from(data),
    }
}

/// A strong tag from the file's content hash; each encoding is a representation of its own,
/// so it has its own tag (RFC 9110, 8.8.3).
fn etag(file: &EmbeddedFile, encoding: Option<Encoding>) -> String {
    let hash: String = file.metadata.sha256_hash()[..16].iter().map(|b| format!("{b:02x}")).collect();
    match encoding {
        Some(encoding) => format!("\"{hash}-{}\"", encoding.suffix()),
        None => format!("\"{hash}\""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_paths_name_embedded_files() {
        assert_eq!(file_name("/"), "index.html");
        assert_eq!(file_name("/js/"), "js/index.html");
        assert_eq!(file_name("/js/app.js"), "js/app.js");
        assert_eq!(file_name("/./js/./app.js"), "js/app.js");
        assert_eq!(file_name("/js"), "js");
    }
}
