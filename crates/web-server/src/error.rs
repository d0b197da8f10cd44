//! The errors of the HTTP endpoints, and the one function that maps them to what clients see.
//!
//! A handler's error becomes a response carrying an [`ErrorAnswer`] extension and no body; the
//! observe middleware renders the body, because only it knows the request id and whether the
//! path speaks JSON-RPC.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lib_model::Invalid;
use lib_rpc::{ClientError, Code, Endpoint};

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
    InvalidBody(Invalid),
    #[error("no such endpoint")]
    NotFound,
    #[error("the body could not be read: {0}")]
    BodyRead(String),
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("the request took too long")]
    Timeout,
    /// `GET /api/ws` without a WebSocket handshake.
    #[error("not a WebSocket upgrade")]
    NotAnUpgrade,
    /// The user holds `WS_MAX_PER_USER` sockets already.
    #[error("at most {limit} sockets per user")]
    TooManySockets { limit: usize },
    /// A handler panicked; the panic hook has logged the message and location.
    #[error("a handler panicked")]
    Panicked,
    /// The file system failed for a reason that is not the client's (not a missing file).
    #[error("static file: {0}")]
    StaticFile(#[source] std::io::Error),
}

/// What a client is told: the HTTP status, and the rest as lib-rpc decides it for every
/// endpoint ([`ClientError`]).
#[derive(Debug, Clone)]
pub(crate) struct ErrorAnswer {
    pub(crate) status: StatusCode,
    pub(crate) error: ClientError,
}

impl Error {
    /// What clients see: a model error as [`ClientError::of_model`] maps it in the HTTP
    /// endpoints' words, with the status of its code; this layer's own errors here. Exhaustive
    /// on purpose: a new variant does not compile until someone decides. A server fault is logged
    /// here, once, with its cause.
    pub(crate) fn answer(&self) -> ErrorAnswer {
        let e = |code, message, kind| ClientError::new(code, message, kind);
        let (status, error) = match self {
            Error::Model(model) => {
                let error = ClientError::of_model(model, Endpoint::Http);
                (status_of(error.code), error)
            }
            Error::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                e(Code::Unauthorized, "Unauthorized", "Unauthorized").detail("no valid session"),
            ),
            Error::BodyTooLarge { limit } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                e(Code::InvalidRequest, "Payload too large", "PayloadTooLarge")
                    .detail(format!("the body may be at most {limit} bytes")),
            ),
            Error::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                e(Code::InvalidRequest, "Unsupported media type", "UnsupportedMediaType")
                    .detail("Content-Type must be application/json"),
            ),
            Error::CrossSite => (
                StatusCode::FORBIDDEN,
                e(Code::InvalidRequest, "Forbidden", "CrossSiteRequest").detail("cross-site requests are refused"),
            ),
            Error::BodyNotJson(d) => {
                (StatusCode::BAD_REQUEST, e(Code::ParseError, "Parse error", "ParseError").detail(d.as_str()))
            }
            Error::InvalidBody(invalid) => {
                (StatusCode::BAD_REQUEST, e(Code::InvalidParams, "Invalid input", "InvalidInput").invalid(invalid))
            }
            Error::NotFound => {
                (StatusCode::NOT_FOUND, e(Code::MethodNotFound, "Not found", "NotFound").detail("no such endpoint"))
            }
            Error::BodyRead(_) => (StatusCode::BAD_REQUEST, e(Code::InvalidRequest, "Bad request", "BadRequest")),
            Error::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                e(Code::InvalidRequest, "Method not allowed", "MethodNotAllowed")
                    .detail("this endpoint does not take this method: the Allow header says which it takes"),
            ),
            Error::Timeout => (
                StatusCode::SERVICE_UNAVAILABLE,
                e(Code::ServiceUnavailable, "Service unavailable", "Timeout").detail("the request took too long"),
            ),
            Error::NotAnUpgrade => (
                StatusCode::UPGRADE_REQUIRED,
                e(Code::InvalidRequest, "Upgrade required", "UpgradeRequired")
                    .detail("this endpoint speaks WebSocket only: open it with a WebSocket handshake"),
            ),
            Error::TooManySockets { limit } => (
                StatusCode::TOO_MANY_REQUESTS,
                // A bound, not a throttle: waiting helps only once a socket closes.
                ClientError::throttled("Too many sockets", "TooManySockets", std::time::Duration::from_secs(1))
                    .with("limit", *limit)
                    .detail(format!("a user may hold at most {limit} sockets open: close one first")),
            ),
            // The panic hook has logged it already.
            Error::Panicked => {
                (StatusCode::INTERNAL_SERVER_ERROR, ClientError { fault: None, ..ClientError::internal() })
            }
            Error::StaticFile(_) => (StatusCode::INTERNAL_SERVER_ERROR, ClientError::internal()),
        };
        error.log_fault(self);
        ErrorAnswer { status, error }
    }
}

/// The HTTP status of a model error, by its code.
fn status_of(code: Code) -> StatusCode {
    match code {
        Code::ParseError | Code::InvalidRequest | Code::InvalidParams => StatusCode::BAD_REQUEST,
        Code::Unauthorized => StatusCode::UNAUTHORIZED,
        Code::Forbidden => StatusCode::FORBIDDEN,
        Code::MethodNotFound | Code::EntityNotFound => StatusCode::NOT_FOUND,
        Code::Conflict => StatusCode::CONFLICT,
        Code::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
        Code::QueryTimeout | Code::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        // Not a model error's code; an answer too large for the HTTP endpoints is the server's.
        Code::AnswerTooLarge | Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
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
        let answer = self.answer();
        let mut response = answer.status.into_response();
        response.extensions_mut().insert(answer);
        response
    }
}
