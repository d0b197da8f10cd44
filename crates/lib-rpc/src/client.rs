//! What a client sees of a failure, decided in one place for every endpoint.
//!
//! - [`ClientError::of_model`]: the one mapping of a model error to its code, message, kind and
//!   `data`, in the words of the endpoint that answers ([`Endpoint`]: the contract names a few
//!   failures differently on `/api/rpc` and on the plain HTTP endpoints). lib-rpc's protocol
//!   errors map to a [`ClientError`] in `error.rs`, the web layer's own in web-server, which adds
//!   only the HTTP status and `Retry-After`.
//! - [`ClientError::to_object`]: the `error` member of a response (`kind` and `req_id` added);
//!   `envelope.rs` writes it into the bodies.
//! - [`ClientError::log_fault`]: a server fault, logged once with its cause.

use lib_core::LogText;
use lib_model::Invalid;
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::time::Duration;

/// What a client can do about a statement timeout.
pub const QUERY_TIMEOUT_DETAIL: &str = "the database stopped this call at the statement timeout: narrow the \
     filters (fewer values, conditions an index serves, such as by id or project_id) or ask for fewer rows";

/// Which endpoint answers, for the few failures the contract names per endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `/api/rpc`: `InvalidParams`; a throttled call is `TooManyRequests`.
    Rpc,
    /// `/api/signup`, `/api/login`, `/api/logoff`: `InvalidInput`; a throttled login is
    /// `TooManyAttempts`.
    Http,
}

/// The error codes of the contract (JSON-RPC's own and the server's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    ParseError,
    InvalidRequest,
    MethodNotFound,
    InvalidParams,
    Internal,
    Unauthorized,
    Forbidden,
    EntityNotFound,
    QueryTimeout,
    Conflict,
    AnswerTooLarge,
    TooManyRequests,
    ServiceUnavailable,
}

impl Code {
    /// The number clients see as `code`.
    pub const fn number(self) -> i64 {
        match self {
            Code::ParseError => -32700,
            Code::InvalidRequest => -32600,
            Code::MethodNotFound => -32601,
            Code::InvalidParams => -32602,
            Code::Internal => -32603,
            Code::Unauthorized => -32001,
            Code::Forbidden => -32003,
            Code::EntityNotFound => -32004,
            Code::QueryTimeout => -32008,
            Code::Conflict => -32009,
            Code::AnswerTooLarge => -32010,
            Code::TooManyRequests => -32029,
            Code::ServiceUnavailable => -32050,
        }
    }
}

/// A failure of the server's, not the client's: logged (once, by whoever answers it), never shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// A bug or a failure of the server's own parts: answered `Internal`.
    Internal,
    /// The database cannot be reached: answered `ServiceUnavailable`.
    Unavailable,
}

/// What a client is told: code, a fixed message per kind, the kind, and the `data` members the
/// kind adds (`detail`, `field`, `entity` and `id`, `retry_after_*`, ...).
#[derive(Debug, Clone)]
pub struct ClientError {
    pub code: Code,
    pub message: &'static str,
    pub kind: &'static str,
    /// `data` but for `kind` and `req_id`, which [`ClientError::to_object`] adds.
    pub data: Map<String, Value>,
    /// When a new attempt can succeed: `data.retry_after_*`, and HTTP's `Retry-After`.
    pub retry_after: Option<Duration>,
    pub fault: Option<Fault>,
}

/// The `error` member of a response.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorObject {
    pub code: i64,
    pub message: &'static str,
    pub data: Value,
}

impl ClientError {
    pub fn new(code: Code, message: &'static str, kind: &'static str) -> Self {
        Self { code, message, kind, data: Map::new(), retry_after: None, fault: None }
    }

    /// Adds `data.<key>`.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.data.insert(key.to_string(), value.into());
        self
    }

    pub fn detail(self, detail: impl Into<String>) -> Self {
        self.with("detail", detail.into())
    }

    /// `data.detail` (`field: problem`) and, when one field is at fault, `data.field`.
    pub fn invalid(self, invalid: &Invalid) -> Self {
        let with_detail = self.detail(invalid.to_string());
        match invalid.field.as_str() {
            "" => with_detail,
            field => with_detail.with("field", field),
        }
    }

    /// A server fault: `Internal`, nothing more said.
    pub fn internal() -> Self {
        Self { fault: Some(Fault::Internal), ..Self::new(Code::Internal, "Internal error", "Internal") }
    }

    /// -32029 with `data.retry_after_sec` (at least 1) and `data.retry_after_ms`.
    pub fn throttled(message: &'static str, kind: &'static str, retry_after: Duration) -> Self {
        let throttled = Self::new(Code::TooManyRequests, message, kind)
            .with("retry_after_sec", retry_after.as_secs().max(1))
            .with("retry_after_ms", u64::try_from(retry_after.as_millis().max(1)).unwrap_or(u64::MAX));
        Self { retry_after: Some(retry_after), ..throttled }
    }

    /// Whole seconds to wait, at least 1: `data.retry_after_sec`, HTTP's `Retry-After`.
    pub fn retry_after_secs(&self) -> Option<u64> {
        self.retry_after.map(|after| after.as_secs().max(1))
    }

    /// What a client sees of `error` when `endpoint` answers. Exhaustive on purpose: a new model
    /// error does not compile until someone decides what clients see.
    pub fn of_model(error: &lib_model::Error, endpoint: Endpoint) -> Self {
        use lib_model::Error as M;
        let rpc = endpoint == Endpoint::Rpc;
        match error {
            M::InvalidInput(invalid) => {
                let (message, kind) =
                    if rpc { ("Invalid params", "InvalidParams") } else { ("Invalid input", "InvalidInput") };
                Self::new(Code::InvalidParams, message, kind).invalid(invalid)
            }
            M::EntityNotFound { entity, id } => Self::new(Code::EntityNotFound, "Entity not found", "EntityNotFound")
                .with("entity", *entity)
                .with("id", *id),
            M::UsernameNotFound => Self::new(Code::EntityNotFound, "Entity not found", "EntityNotFound")
                .with("entity", "user")
                .detail("no user has this username"),
            M::Forbidden { entity, id } => Self::new(Code::Forbidden, "Forbidden", "Forbidden")
                .with("entity", *entity)
                .with("id", *id)
                .detail("your role in this project does not allow it"),
            M::Conflict { detail } => Self::new(Code::Conflict, "Conflict", "Conflict").detail(*detail),
            M::Stale { entity, id } => Self::new(Code::Conflict, "Stale", "Stale")
                .with("entity", *entity)
                .with("id", *id)
                .detail("the row changed since if_mtime: get it again, then decide whether to retry"),
            M::UsernameTaken => {
                Self::new(Code::Conflict, if rpc { "Conflict" } else { "Username taken" }, "UsernameTaken")
            }
            M::LoginFailed => {
                Self::new(Code::Unauthorized, if rpc { "Unauthorized" } else { "Login failed" }, "LoginFailed")
            }
            M::SessionEnded => {
                Self::new(Code::Unauthorized, "Unauthorized", "Unauthorized").detail("the session has ended")
            }
            M::TooManyAttempts { retry_after } if rpc => {
                Self::throttled("Too many requests", "TooManyRequests", *retry_after)
            }
            M::TooManyAttempts { retry_after } => Self::throttled("Too many attempts", "TooManyAttempts", *retry_after),
            M::TooManyRequests { retry_after } => Self::throttled("Too many requests", "TooManyRequests", *retry_after),
            M::QueryTimeout => {
                Self::new(Code::QueryTimeout, "Query timeout", "QueryTimeout").detail(QUERY_TIMEOUT_DETAIL)
            }
            M::Unavailable(_) => Self {
                fault: Some(Fault::Unavailable),
                ..Self::new(Code::ServiceUnavailable, "Service unavailable", "ServiceUnavailable")
            },
            M::Db(_) | M::Pwd(_) | M::BlockingTask(_) => Self::internal(),
        }
    }

    /// Logs `error`, the cause of this answer, if it is a server fault. Called once per failure,
    /// by whoever answers it. Driver messages can quote the values a client sent, so they are
    /// logged escaped.
    pub fn log_fault(&self, error: &(dyn std::error::Error + 'static)) {
        match self.fault {
            None => {}
            Some(Fault::Unavailable) => {
                let cause = error.source().unwrap_or(error);
                tracing::warn!(error = %LogText(&cause.to_string()), "database unavailable")
            }
            Some(Fault::Internal) => {
                tracing::error!(error = %LogText(&error.to_string()), cause = %LogText(&format!("{error:?}")), "internal error")
            }
        }
    }

    /// The `error` member of a response to request `req_id`: `data` with `kind` and `req_id`.
    pub fn to_object(&self, req_id: &str) -> ErrorObject {
        let mut data = self.data.clone();
        data.insert("kind".into(), json!(self.kind));
        data.insert("req_id".into(), json!(req_id));
        ErrorObject { code: self.code.number(), message: self.message, data: Value::Object(data) }
    }
}
