//! `POST /api/signup`, `/api/login`, `/api/logoff`.

use crate::error::Error;
use crate::extract::{AUTH_COOKIE, ClientAddr, JsonBody, SessionCtx, request_cookie};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{AppendHeaders, IntoResponse, Response};
use lib_model::device::DeviceCookie;
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
    client: Option<ClientAddr>,
    JsonBody(body): JsonBody<Credentials>,
) -> Result<Json<serde_json::Value>, Error> {
    let username = Username::parse(&body.username)?;
    let pwd = NewPwd::parse("pwd", &body.pwd)?;
    let user_id = UserBmc::signup(&state.mm, &username, &pwd, client.map(|ClientAddr(addr)| addr)).await?;
    tracing::Span::current().record("user_id", user_id);
    Ok(Json(json!({"result": {"user_id": user_id}})))
}

/// Logs in. The `device` cookie, when the browser has one, goes along: for its own account it
/// keeps the owner out of the throttle that others' failures cause (see
/// [`LoginBmc::login_on_device`]). The answer sets the session cookie, then the device cookie.
pub(super) async fn login(
    State(state): State<AppState>,
    client: Option<ClientAddr>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<Credentials>,
) -> Result<Response, Error> {
    let device = request_cookie(&headers, DEVICE_COOKIE);
    let LoggedIn { user_id, session, device } =
        LoginBmc::login_on_device(&state.mm, &body.username, &body.pwd, client.map(|ClientAddr(addr)| addr), device)
            .await?;
    tracing::Span::current().record("user_id", user_id);
    let secure = state.config.cookie_secure;
    let cookies = AppendHeaders([
        (SET_COOKIE, session_cookie(session.token.as_str(), session.max_age, secure)),
        (SET_COOKIE, device_cookie(&device, secure)),
    ]);
    Ok((cookies, Json(json!({"result": {"success": true}}))).into_response())
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
    strict_cookie(AUTH_COOKIE, token, "/", max_age, secure)
}

/// The device cookie's name.
const DEVICE_COOKIE: &str = "device";

/// Only the login reads the device cookie, so only the login gets it: it is not sent with every
/// RPC call and static file (where it would do nothing but travel), and no other endpoint can
/// leak it into a log or an error.
const DEVICE_COOKIE_PATH: &str = "/api/login";

/// The long-lived `device` cookie: the browser's proof that it logged in to that account before.
/// It outlives sessions and logoffs by design.
fn device_cookie(device: &DeviceCookie, secure: bool) -> HeaderValue {
    strict_cookie(DEVICE_COOKIE, device.token.as_str(), DEVICE_COOKIE_PATH, device.max_age, secure)
}

/// Every cookie of this server: `HttpOnly` (no script reads it), `SameSite=Strict` (no other site
/// sends it), `Secure` when `COOKIE_SECURE`.
fn strict_cookie(name: &str, value: &str, path: &str, max_age: Duration, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let cookie =
        format!("{name}={value}; HttpOnly; SameSite=Strict; Path={path}; Max-Age={}{secure}", max_age.as_secs());
    HeaderValue::from_str(&cookie).expect("a base64url token makes a valid header")
}
