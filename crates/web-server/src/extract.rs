//! Extractors: the session's [`Ctx`] from the cookie, the client's address, and JSON bodies read
//! within the limit.

use crate::client_addr::FromTrustedProxy;
use crate::error::Error;
use crate::state::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, OptionalFromRequestParts, Request};
use axum::http::header::{COOKIE, TRANSFER_ENCODING};
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap};
use http_body_util::BodyExt as _;
use lib_core::Ctx;
use lib_model::Invalid;
use lib_model::session::SessionBmc;
use serde::de::{DeserializeOwned, IgnoredAny};
use std::net::{IpAddr, SocketAddr};

pub(crate) const AUTH_COOKIE: &str = "auth-token";

/// The caller's context from a valid session; a missing or invalid cookie is
/// [`Error::Unauthorized`]. Records `user_id` on the request's span.
pub(crate) struct SessionCtx {
    pub(crate) ctx: Ctx,
    pub(crate) token: String,
}

impl FromRequestParts<AppState> for SessionCtx {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let token = auth_cookie(parts).ok_or(Error::Unauthorized)?;
        let ctx = SessionBmc::resolve(&state.mm, &token).await?.ok_or(Error::Unauthorized)?;
        let ctx = match ClientAddr::of(parts) {
            Some(ClientAddr(client)) => ctx.with_client_addr(client),
            None => ctx,
        };
        tracing::Span::current().record("user_id", ctx.user_id());
        Ok(SessionCtx { ctx, token })
    }
}

/// The client's address, as every throttle and the log line use it: the TCP peer, or, when the
/// peer is a trusted proxy, the client it names in `X-Forwarded-For`
/// ([`client_behind`](crate::client_addr::TrustedProxies::client_behind)). Worked out once per
/// request by the observe layer ([`ClientAddr::resolve`]) and kept in the request's extensions.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientAddr(pub(crate) IpAddr);

impl ClientAddr {
    /// The client of a request with these `extensions` and `headers`, if the transport told its
    /// peer. Only a request from a trusted proxy ([`FromTrustedProxy`]) reads the header.
    pub(crate) fn resolve(extensions: &Extensions, headers: &HeaderMap) -> Option<Self> {
        let ConnectInfo(peer) = extensions.get::<ConnectInfo<SocketAddr>>()?;
        let peer = peer.ip().to_canonical();
        Some(ClientAddr(match extensions.get::<FromTrustedProxy>() {
            Some(FromTrustedProxy(proxies)) => proxies.client_behind(peer, headers),
            None => peer,
        }))
    }

    /// The address of the request's client, as [`ClientAddr::resolve`] found it.
    pub(crate) fn of(parts: &Parts) -> Option<Self> {
        parts.extensions.get::<ClientAddr>().copied()
    }
}

/// `Option<ClientAddr>` in a handler: the client, when the transport told its peer (always, behind
/// this server's own listener; the model's throttles take an optional address either way).
impl<S: Sync> OptionalFromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Option<Self>, Self::Rejection> {
        Ok(Self::of(parts))
    }
}

fn auth_cookie(parts: &Parts) -> Option<String> {
    request_cookie(&parts.headers, AUTH_COOKIE).map(str::to_string)
}

/// The value of the cookie `name` in the request's `Cookie` headers, if any.
pub(crate) fn request_cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(cookie, _)| *cookie == name)
        .map(|(_, value)| value)
}

/// The request body, read up to the configured limit (413 past it, without reading the rest).
///
/// The limit counts bytes on the wire: a chunked body is also charged its chunk framing, else a
/// body of one-byte chunks costs six times its limit in bytes and far more in CPU.
pub(crate) struct BodyBytes(pub(crate) axum::body::Bytes);

impl FromRequest<AppState> for BodyBytes {
    type Rejection = Error;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Error> {
        let limit = state.config.body_limit_bytes;
        // hyper accepts `Transfer-Encoding` only with `chunked` last and drops `Content-Length`
        // then, so its presence means the body arrives in chunks.
        let chunked = request.headers().contains_key(TRANSFER_ENCODING);
        read_within(request.into_body(), limit, chunked).await.map(BodyBytes)
    }
}

/// Reads `body` frame by frame, charging each data frame its length plus, when `chunked`, the
/// framing of a chunk that size (`<hex length>\r\n` before it, `\r\n` after); stops at the first
/// frame that takes the charge past `limit`.
///
/// hyper yields one frame per chunk, or per part of a chunk that arrived in pieces, and does not
/// show the framing itself; so this is an approximation: a chunk split into parts is charged the
/// framing once per part (more than sent, by a few bytes per read of thousands), and chunk
/// extensions are not charged (hyper bounds them, 16 KiB per body).
async fn read_within(mut body: Body, limit: usize, chunked: bool) -> Result<Bytes, Error> {
    let mut charged = 0usize;
    let mut first: Option<Bytes> = None;
    let mut joined: Vec<u8> = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|error| Error::BodyRead(error.to_string()))?;
        let Ok(data) = frame.into_data() else { continue }; // trailers carry no body bytes
        let framing = if chunked { chunk_framing(data.len()) } else { 0 };
        charged = charged.saturating_add(data.len() + framing);
        if charged > limit {
            return Err(Error::BodyTooLarge { limit });
        }
        // A body in one frame (the usual case) is kept without a copy.
        match first.take() {
            None if joined.is_empty() => first = Some(data),
            None => joined.extend_from_slice(&data),
            Some(previous) => {
                joined.extend_from_slice(&previous);
                joined.extend_from_slice(&data);
            }
        }
    }
    Ok(first.unwrap_or_else(|| Bytes::from(joined)))
}

/// The bytes around a chunk of `len` data bytes: its length in hex, then CRLF twice.
fn chunk_framing(len: usize) -> usize {
    let hex_digits = (usize::BITS - len.leading_zeros()).div_ceil(4).max(1) as usize;
    hex_digits + 4
}

/// A JSON body parsed strictly into `T`: not JSON is a parse error, a wrong shape names the field.
pub(crate) struct JsonBody<T>(pub(crate) T);

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = Error;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Error> {
        let BodyBytes(bytes) = BodyBytes::from_request(request, state).await?;
        // Checked as JSON without building anything, then decoded straight into `T`, as RPC
        // params are: an unexpected member is refused at its name, so a body of these
        // unauthenticated endpoints costs no more memory than its fields (never a `Value` tree
        // many times its size).
        serde_json::from_slice::<IgnoredAny>(&bytes).map_err(|e| Error::BodyNotJson(e.to_string()))?;
        let text = std::str::from_utf8(&bytes).map_err(|_| Error::BodyNotJson("the body is not UTF-8".into()))?;
        if !text.trim_start().starts_with('{') {
            return Err(Error::InvalidBody(Invalid::new("", "the body must be a JSON object")));
        }
        lib_rpc::params::from_text(text, "").map(JsonBody).map_err(|error| match error {
            lib_rpc::Error::InvalidParams(invalid) => Error::InvalidBody(invalid),
            other => Error::InvalidBody(Invalid::new("", other.to_string())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_framing_counts_the_hex_length_and_two_line_ends() {
        assert_eq!(chunk_framing(0), 5);
        assert_eq!(chunk_framing(1), 5);
        assert_eq!(chunk_framing(15), 5);
        assert_eq!(chunk_framing(16), 6);
        assert_eq!(chunk_framing(0x3ff), 7);
        assert_eq!(chunk_framing(0x1000), 8);
    }
}
