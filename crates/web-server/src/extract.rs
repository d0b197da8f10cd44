//! Extractors: the session's [`Ctx`] from the cookie, and JSON bodies read within the limit.

use crate::error::Error;
use crate::state::AppState;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::header::COOKIE;
use axum::http::request::Parts;
use lib_core::Ctx;
use lib_model::session::SessionBmc;
use serde::de::DeserializeOwned;
use std::net::SocketAddr;

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
        let ctx = match parts.extensions.get::<ConnectInfo<SocketAddr>>() {
            Some(ConnectInfo(client)) => ctx.with_client_addr(client.ip()),
            None => ctx,
        };
        tracing::Span::current().record("user_id", ctx.user_id());
        Ok(SessionCtx { ctx, token })
    }
}

fn auth_cookie(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == AUTH_COOKIE)
        .map(|(_, value)| value.to_string())
}

/// The request body, read up to the configured limit (413 past it, without reading the rest).
pub(crate) struct BodyBytes(pub(crate) axum::body::Bytes);

impl FromRequest<AppState> for BodyBytes {
    type Rejection = Error;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Error> {
        let limit = state.config.body_limit_bytes;
        match axum::body::to_bytes(request.into_body(), limit).await {
            Ok(bytes) => Ok(BodyBytes(bytes)),
            Err(error) if is_length_limit(&error) => Err(Error::BodyTooLarge { limit }),
            Err(error) => Err(Error::BodyRead(error.to_string())),
        }
    }
}

fn is_length_limit(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(error) = source {
        if error.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = error.source();
    }
    false
}

/// A JSON body parsed strictly into `T`: not JSON is a parse error, a wrong shape names the field.
pub(crate) struct JsonBody<T>(pub(crate) T);

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = Error;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Error> {
        let BodyBytes(bytes) = BodyBytes::from_request(request, state).await?;
        let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| Error::BodyNotJson(e.to_string()))?;
        if !value.is_object() {
            return Err(Error::InvalidBody("the body must be a JSON object".into()));
        }
        serde_path_to_error::deserialize(value).map(JsonBody).map_err(|e| {
            let path = e.path().to_string();
            let at = if path == "." { String::new() } else { format!("{path}: ") };
            Error::InvalidBody(format!("{at}{}", lib_rpc::params::client_message(&e.into_inner())))
        })
    }
}
