//! `POST /api/signup`, `/api/login`, `/api/logoff`.

use crate::error::Error;
use crate::extract::{AUTH_COOKIE, ClientAddr, JsonBody, SessionCtx};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::HeaderValue;
use axum::http::header::SET_COOKIE;
use axum::response::{IntoResponse, Response};
use lib_model::login::{LoggedIn, LoginBmc};
use lib_model::session::SessionBmc;
use lib_model::user::{NewPwd, UserBmc, Username};
use serde::Deserialize;
use serde_json::json;
use std::time::Duration;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Credentials {
    username: String,
    pwd: String,
}

pub(super) async fn signup(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    JsonBody(body): JsonBody<Credentials>,
) -> Result<Json<serde_json::Value>, Error> {
    let username = Username::parse(&body.username)?;
    let pwd = NewPwd::parse("pwd", &body.pwd)?;
    let user_id = UserBmc::signup(&state.mm, &username, &pwd, Some(client)).await?;
    tracing::Span::current().record("user_id", user_id);
    Ok(Json(json!({"result": {"user_id": user_id}})))
}

pub(super) async fn login(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    JsonBody(body): JsonBody<Credentials>,
) -> Result<Response, Error> {
    let LoggedIn { user_id, session } = LoginBmc::login(&state.mm, &body.username, &body.pwd, Some(client)).await?;
    tracing::Span::current().record("user_id", user_id);
    let cookie = session_cookie(session.token.as_str(), session.max_age, state.config.cookie_secure);
    Ok(([(SET_COOKIE, cookie)], Json(json!({"result": {"success": true}}))).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Logoff {
    logoff: bool,
}

/// Ends the session of the cookie (`{"logoff": true}`); `false` changes nothing.
pub(super) async fn logoff(
    State(state): State<AppState>,
    session: SessionCtx,
    JsonBody(body): JsonBody<Logoff>,
) -> Result<Response, Error> {
    if !body.logoff {
        return Ok(Json(json!({"result": {"logged_off": false}})).into_response());
    }
    SessionBmc::delete(&state.mm, &session.token).await?;
    let cleared = session_cookie("", Duration::ZERO, state.config.cookie_secure);
    Ok(([(SET_COOKIE, cleared)], Json(json!({"result": {"logged_off": true}}))).into_response())
}

/// The session cookie for `token` (an empty token and zero age clear it).
pub(super) fn session_cookie(token: &str, max_age: Duration, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let cookie =
        format!("{AUTH_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{secure}", max_age.as_secs());
    HeaderValue::from_str(&cookie).expect("a base64url token makes a valid header")
}
