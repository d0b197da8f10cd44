//! Checks on `POST /api/*` before any work: cross-site requests (403), content type (415), and
//! a declared body length over the limit (413); on a WebSocket handshake, cross-site (403).

use crate::error::Error;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE, HOST, ORIGIN, UPGRADE};
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};

pub(crate) async fn api_guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let checked = match *request.method() {
        Method::POST => check(request.headers(), &state),
        // A WebSocket handshake is a GET that a page of any site may make with the cookie.
        Method::GET if request.headers().contains_key(UPGRADE) => same_site(request.headers(), &state),
        _ => Ok(()),
    };
    if let Err(error) = checked {
        return error.into_response();
    }
    next.run(request).await
}

fn check(headers: &HeaderMap, state: &AppState) -> Result<(), Error> {
    same_site(headers, state)?;
    if !header(headers, CONTENT_TYPE.as_str()).is_some_and(is_json) {
        return Err(Error::UnsupportedMediaType);
    }
    let declared_length = header(headers, CONTENT_LENGTH.as_str()).and_then(|len| len.parse::<u64>().ok());
    let limit = state.config.body_limit_bytes;
    if declared_length.is_some_and(|len| len > limit as u64) {
        return Err(Error::BodyTooLarge { limit });
    }
    Ok(())
}

/// Refuses a request a browser says comes from another site, by fetch metadata or `Origin`,
/// unless its origin is allowed.
fn same_site(headers: &HeaderMap, state: &AppState) -> Result<(), Error> {
    let origin = headers.get(ORIGIN).map(|o| o.to_str().unwrap_or("null").trim_end_matches('/'));
    let allowed = origin.is_some_and(|origin| state.config.allowed_origins.iter().any(|a| a == origin));
    // Fetch metadata: browsers say where a request comes from; other clients send nothing.
    if !allowed && header(headers, "sec-fetch-site") == Some("cross-site") {
        return Err(Error::CrossSite);
    }
    if let Some(origin) = origin
        && !allowed
        && !is_same_origin(origin, header(headers, HOST.as_str()))
    {
        return Err(Error::CrossSite);
    }
    Ok(())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

/// `http(s)://<the Host this request was sent to>`.
fn is_same_origin(origin: &str, host: Option<&str>) -> bool {
    let Some(host) = host else { return false };
    let origin_host = origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://"));
    origin_host.is_some_and(|origin_host| origin_host.eq_ignore_ascii_case(host))
}

/// `application/json`, in any letter case, with or without parameters such as `charset`.
fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_content_types() {
        assert!(is_json("application/json"));
        assert!(is_json("Application/JSON; charset=utf-8"));
        assert!(!is_json("text/plain"));
        assert!(!is_json("application/json-patch+json"));
        assert!(!is_json("multipart/form-data; boundary=x"));
    }

    #[test]
    fn same_origin_means_the_host_the_request_went_to() {
        assert!(is_same_origin("http://127.0.0.1:8080", Some("127.0.0.1:8080")));
        assert!(is_same_origin("https://App.example", Some("app.example")));
        assert!(!is_same_origin("http://evil.example", Some("app.example")));
        assert!(!is_same_origin("http://app.example.evil", Some("app.example")));
        assert!(!is_same_origin("null", Some("app.example")));
        assert!(!is_same_origin("http://app.example", None));
    }
}
