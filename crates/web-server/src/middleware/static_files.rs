//! Static files: the frontend built into the binary ([`embedded`]) or, when `WEB_FOLDER` is set,
//! the files of that folder (for development: an edit shows at the next reload). Both are behind
//! one guard, so that a path naming no file is 404 whatever its length or encoding, and a
//! directory redirect stays on this server.
//!
//! `ServeDir` alone answers 500 when the file system refuses a name (too long, a NUL), and it
//! builds its trailing-slash redirect from the request's URI as sent, so `GET //js` went to the
//! protocol-relative `//js/` (host `js`) and an absolute-form request to the host it named.

use crate::error::Error;
use axum::body::Body;
use axum::extract::Request;
use axum::http::header::LOCATION;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse as _, Response};
use std::io;
use tower_http::services::ServeDir;

mod embedded;

/// Where the static files come from.
#[derive(Clone)]
pub(crate) enum Files {
    Embedded,
    Folder(ServeDir),
}

impl Files {
    /// The folder at `web_folder` when it is set, else the frontend built into the binary.
    pub(crate) fn new(web_folder: Option<&std::path::Path>) -> Self {
        match web_folder {
            Some(folder) => Files::Folder(ServeDir::new(folder)),
            None => Files::Embedded,
        }
    }
}

/// Longest file name the common file systems accept (`NAME_MAX`); a longer segment names no file.
const MAX_SEGMENT_BYTES: usize = 255;
/// No file we serve has a longer path; longer ones are refused before touching the file system,
/// well under `PATH_MAX` with the folder's own path in front.
const MAX_PATH_BYTES: usize = 1024;

/// Serves `request` from `files`, or answers 404 (empty body, as for any missing file).
pub(crate) async fn serve(files: Files, request: Request) -> Response {
    let path = request.uri().path().to_string();
    if !may_name_a_file(&path) {
        return not_found();
    }
    let query = request.uri().query().map(str::to_string);
    let mut files = match files {
        Files::Folder(files) => files,
        Files::Embedded => {
            let decoded = String::from_utf8(percent_decode(path.as_bytes())).expect("checked to be UTF-8 above");
            return embedded::answer(request.method(), &decoded, query.as_deref(), request.headers());
        }
    };
    match files.try_call(request).await {
        Ok(response) if response.status().is_redirection() && response.headers().contains_key(LOCATION) => {
            // Only the trailing-slash redirect exists; rebuilt from the checked path alone.
            match folder_location(&path, query.as_deref()) {
                Some(location) => {
                    let (mut parts, body) = response.into_parts();
                    parts.headers.insert(LOCATION, location);
                    Response::from_parts(parts, Body::new(body))
                }
                None => not_found(),
            }
        }
        // Its only 5xx (an unbuildable redirect URI) comes from the request's URI.
        Ok(response) if response.status().is_server_error() => not_found(),
        Ok(response) => response.map(Body::new),
        Err(error) if names_no_file(&error) => not_found(),
        Err(error) => Error::StaticFile(error).into_response(),
    }
}

fn not_found() -> Response {
    StatusCode::NOT_FOUND.into_response()
}

/// Where a folder's path without its `/` redirects: the same path with it, and the query. Built
/// from a path [`may_name_a_file`] accepted, it is a same-origin path starting with a single `/`,
/// whatever the request's URI held; `None` when it cannot be a header value.
fn folder_location(path: &str, query: Option<&str>) -> Option<HeaderValue> {
    let location = match query {
        Some(query) => format!("{path}/?{query}"),
        None => format!("{path}/"),
    };
    HeaderValue::from_str(&location).ok()
}

/// False for a path that cannot name a file under the folder, judged on its percent-decoded
/// form (as `ServeDir` decodes it): not UTF-8, a NUL or other control, a backslash, an empty
/// segment (`//`, which also makes redirects protocol-relative), `..`, a segment longer than
/// [`MAX_SEGMENT_BYTES`] or a path longer than [`MAX_PATH_BYTES`]. A trailing `/` is allowed.
fn may_name_a_file(raw_path: &str) -> bool {
    if raw_path.len() > 3 * MAX_PATH_BYTES {
        return false; // even fully percent-encoded it would decode past the limit
    }
    let Ok(path) = String::from_utf8(percent_decode(raw_path.as_bytes())) else {
        return false;
    };
    let Some(rest) = path.strip_prefix('/') else {
        return false;
    };
    if path.len() > MAX_PATH_BYTES || path.chars().any(|c| c == '\\' || c.is_control()) {
        return false;
    }
    let segments: Vec<&str> = rest.split('/').collect();
    let (last, inner) = segments.split_last().expect("split yields at least one segment");
    inner.iter().all(|segment| !segment.is_empty())
        && segments.iter().all(|segment| *segment != ".." && segment.len() <= MAX_SEGMENT_BYTES)
        && (last.is_empty() || last.len() <= MAX_SEGMENT_BYTES)
}

/// `%XX` decoded; a `%` not followed by two hex digits stays as it is (as `ServeDir` does).
fn percent_decode(raw: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'%'
            && let (Some(hi), Some(lo)) = (raw.get(i + 1).and_then(|b| hex(*b)), raw.get(i + 2).and_then(|b| hex(*b)))
        {
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(raw[i]);
            i += 1;
        }
    }
    out
}

/// File-system errors that mean "no such file" for a name the client chose; anything else (an
/// I/O error, too many open files) is the server's fault and stays a logged 500.
fn names_no_file(error: &io::Error) -> bool {
    use io::ErrorKind as K;
    matches!(
        error.kind(),
        K::NotFound | K::PermissionDenied | K::NotADirectory | K::IsADirectory | K::InvalidFilename | K::InvalidInput
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_paths_may_name_files() {
        for path in ["/", "/index.html", "/js/", "/js/app.js", "/a%20b.txt", "/./js", "/%E2%9C%93.txt"] {
            assert!(may_name_a_file(path), "{path}");
        }
    }

    #[test]
    fn paths_no_file_can_have_are_refused_before_the_file_system() {
        let long_segment = format!("/{}", "a".repeat(256));
        let long_path = format!("/{}", "abc/".repeat(300));
        let encoded_long = format!("/{}", "%61".repeat(256));
        for path in [
            "//js",
            "//evil.com/%2e%2e",
            "/%2F/js",
            "/js//app.js",
            "/\\js",
            "/%5Cjs",
            "/%00",
            "/js%00.html",
            "/%0a",
            "/%C2%85",
            "/%ff%fe",
            "/..%2f..%2fetc/passwd",
            "/js/%2e%2e/index.html",
            "js",
            &long_segment,
            &long_path,
            &encoded_long,
        ] {
            assert!(!may_name_a_file(path), "{path}");
        }
        assert!(may_name_a_file(&format!("/{}", "a".repeat(255))), "255 bytes is a valid name");
    }

    #[test]
    fn invalid_percent_escapes_stay_literal() {
        assert_eq!(percent_decode(b"/%zz%4"), b"/%zz%4");
        assert_eq!(percent_decode(b"/%41%2f"), b"/A/");
    }
}
