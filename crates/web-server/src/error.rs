//! The errors of the HTTP endpoints, and the one function that maps them to what clients see.
//!
//! A handler's error becomes a response carrying a [`ClientError`] extension and no body; the
//! observe middleware renders the body, because only it knows the request id and whether the
//! path speaks JSON-RPC.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lib_core::LogText;
use serde_json::{Value, json};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Model(#[from] lib_model::Error),
    #[error("no valid session")]
    Unauthorized,
    #[error("the body is larger than {limit} bytes")]
    BodyTooLarge { limit: usize },
    #[error("the body must be application/json")]
    UnsupportedMediaType,
    #[error("cross-site request refused")]
    CrossSite,
    #[error("the body is not JSON: {0}")]
    BodyNotJson(String),
    #[error("invalid body: {0}")]
    InvalidBody(String),
    #[error("no such endpoint")]
    NotFound,
    #[error("the body could not be read: {0}")]
    BodyRead(String),
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("the request took too long")]
    Timeout,
    /// A handler panicked; the panic hook has logged the message and location.
    #[error("a handler panicked")]
    Panicked,
    /// The file system failed for a reason that is not the client's (not a missing file).
    #[error("static file: {0}")]
    StaticFile(#[source] std::io::Error),
}

/// What a client is told: status, JSON-RPC-style code, a fixed message, the kind, extra data.
#[derive(Debug, Clone)]
pub(crate) struct ClientError {
    pub(crate) status: StatusCode,
    pub(crate) code: i64,
    pub(crate) message: &'static str,
    pub(crate) kind: &'static str,
    pub(crate) data: Value,
    pub(crate) retry_after_secs: Option<u64>,
}

impl Error {
    /// Exhaustive on purpose: a new variant does not compile until someone decides what
    /// clients see. Server faults are logged here with their cause.
    pub(crate) fn client_error(&self) -> ClientError {
        use lib_model::Error as M;
        let e = |status, code, message, kind, data| ClientError {
            status,
            code,
            message,
            kind,
            data,
            retry_after_secs: None,
        };
        let detail = |detail: &str| json!({ "detail": detail });
        let none = || json!({});
        let throttled = |retry_after: std::time::Duration, message, kind| {
            let secs = retry_after.as_secs().max(1);
            let data = json!({"retry_after_sec": secs, "retry_after_ms": retry_after.as_millis().max(1)});
            ClientError {
                retry_after_secs: Some(secs),
                ..e(StatusCode::TOO_MANY_REQUESTS, -32029, message, kind, data)
            }
        };
        match self {
            Error::Unauthorized => {
                e(StatusCode::UNAUTHORIZED, -32001, "Unauthorized", "Unauthorized", detail("no valid session"))
            }
            Error::BodyTooLarge { limit } => e(
                StatusCode::PAYLOAD_TOO_LARGE,
                -32600,
                "Payload too large",
                "PayloadTooLarge",
                detail(&format!("the body may be at most {limit} bytes")),
            ),
            Error::UnsupportedMediaType => e(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                -32600,
                "Unsupported media type",
                "UnsupportedMediaType",
                detail("Content-Type must be application/json"),
            ),
            Error::CrossSite => e(
                StatusCode::FORBIDDEN,
                -32600,
                "Forbidden",
                "CrossSiteRequest",
                detail("cross-site requests are refused"),
            ),
            Error::BodyNotJson(d) => e(StatusCode::BAD_REQUEST, -32700, "Parse error", "ParseError", detail(d)),
            Error::InvalidBody(d) => e(StatusCode::BAD_REQUEST, -32602, "Invalid input", "InvalidInput", detail(d)),
            Error::NotFound => e(StatusCode::NOT_FOUND, -32601, "Not found", "NotFound", detail("no such endpoint")),
            Error::BodyRead(_) => e(StatusCode::BAD_REQUEST, -32600, "Bad request", "BadRequest", none()),
            Error::MethodNotAllowed => e(
                StatusCode::METHOD_NOT_ALLOWED,
                -32600,
                "Method not allowed",
                "MethodNotAllowed",
                detail("this endpoint takes POST"),
            ),
            Error::Timeout => e(
                StatusCode::SERVICE_UNAVAILABLE,
                -32050,
                "Service unavailable",
                "Timeout",
                detail("the request took too long"),
            ),
            Error::Panicked => e(StatusCode::INTERNAL_SERVER_ERROR, -32603, "Internal error", "Internal", none()),
            Error::StaticFile(cause) => {
                tracing::error!(error = %cause, "cannot serve a static file");
                e(StatusCode::INTERNAL_SERVER_ERROR, -32603, "Internal error", "Internal", none())
            }
            Error::Model(model) => match model {
                M::InvalidInput { detail: d } => {
                    e(StatusCode::BAD_REQUEST, -32602, "Invalid input", "InvalidInput", detail(d))
                }
                M::UsernameTaken => e(StatusCode::CONFLICT, -32009, "Username taken", "UsernameTaken", none()),
                M::Conflict { detail: d } => e(StatusCode::CONFLICT, -32009, "Conflict", "Conflict", detail(d)),
                M::LoginFailed => e(StatusCode::UNAUTHORIZED, -32001, "Login failed", "LoginFailed", none()),
                M::SessionEnded => {
                    e(StatusCode::UNAUTHORIZED, -32001, "Unauthorized", "Unauthorized", detail("the session has ended"))
                }
                M::EntityNotFound { entity, id } => e(
                    StatusCode::NOT_FOUND,
                    -32004,
                    "Entity not found",
                    "EntityNotFound",
                    json!({"entity": entity, "id": id}),
                ),
                M::TooManyAttempts { retry_after } => throttled(*retry_after, "Too many attempts", "TooManyAttempts"),
                M::TooManyRequests { retry_after } => throttled(*retry_after, "Too many requests", "TooManyRequests"),
                M::QueryTimeout => e(
                    StatusCode::SERVICE_UNAVAILABLE,
                    -32008,
                    "Query timeout",
                    "QueryTimeout",
                    detail(lib_rpc::QUERY_TIMEOUT_DETAIL),
                ),
                M::Unavailable(cause) => {
                    tracing::warn!(error = %cause, "database unavailable");
                    e(StatusCode::SERVICE_UNAVAILABLE, -32050, "Service unavailable", "ServiceUnavailable", none())
                }
                M::Db(_) | M::Pwd(_) | M::BlockingTask(_) => {
                    // Driver messages can quote the values a client sent.
                    let (error, cause) = (self.to_string(), format!("{self:?}"));
                    tracing::error!(error = %LogText(&error), cause = %LogText(&cause), "internal error");
                    e(StatusCode::INTERNAL_SERVER_ERROR, -32603, "Internal error", "Internal", none())
                }
            },
        }
    }
}

impl Error {
    /// The error behind a body-less error response made by a layer rather than a handler
    /// (axum's 405, the timeout's 503), so that it too gets the JSON error shape.
    pub(crate) fn from_bare_status(status: StatusCode) -> Option<Self> {
        match status {
            StatusCode::METHOD_NOT_ALLOWED => Some(Error::MethodNotAllowed),
            StatusCode::SERVICE_UNAVAILABLE => Some(Error::Timeout),
            _ => None,
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let client_error = self.client_error();
        let mut response = client_error.status.into_response();
        response.extensions_mut().insert(client_error);
        response
    }
}
