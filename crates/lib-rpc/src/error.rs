//! JSON-RPC errors, and the one function that decides what a client sees for each of them.

use lib_core::LogText;
use serde::Serialize;
use serde_json::{Value, json};

pub type Result<T> = std::result::Result<T, Error>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("parse error: {0}")]
    Parse(String),
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    #[error("a batch of more than {limit} requests")]
    BatchTooLarge { limit: usize },
    #[error("method not found: {0}")]
    MethodNotFound(String),
    #[error("invalid params: {0}")]
    InvalidParams(String),
    #[error("could not serialize the result: {0}")]
    ResultSerialization(#[source] serde_json::Error),
    /// The call's result would take the answer past `MAX_ANSWER_BYTES`.
    #[error("the result would take the answer past {limit_bytes} bytes")]
    AnswerTooLarge { limit_bytes: usize },
    /// The answers being built across all requests hold `ANSWER_BYTES_IN_FLIGHT` already.
    #[error("no room for the result among the answers in flight")]
    AnswersInFlight { retry_after: std::time::Duration },
    /// The call panicked: a bug, caught so that only this call fails.
    #[error("panic: {0}")]
    Panic(String),
    #[error(transparent)]
    Model(#[from] lib_model::Error),
}

/// What a client can do about a statement timeout.
pub const QUERY_TIMEOUT_DETAIL: &str = "the database stopped this call at the statement timeout: narrow the \
     filters (fewer values, conditions an index serves, such as by id or project_id) or ask for fewer rows";

/// The `error` member of a response.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorObject {
    pub code: i64,
    pub message: &'static str,
    pub data: Value,
}

impl Error {
    /// The client's view of this error: code, fixed message, and `data` with `kind`, `req_id`
    /// and what the kind adds. Server faults are logged here, once, with their cause; the client
    /// sees only "Internal error".
    pub fn to_error_object(&self, req_id: &str) -> ErrorObject {
        let (code, message, kind, mut data) = self.classify();
        match self {
            Error::Model(lib_model::Error::Unavailable(cause)) => {
                tracing::warn!(error = %cause, "database unavailable")
            }
            // Driver messages can quote the values a client sent.
            _ if code == -32603 => {
                tracing::error!(error = %LogText(&self.to_string()), cause = %LogText(&format!("{self:?}")), "internal error in an RPC call")
            }
            _ => {}
        }
        data["kind"] = json!(kind);
        data["req_id"] = json!(req_id);
        ErrorObject { code, message, data }
    }

    /// The `data.kind` a client sees, for the request's log line.
    pub fn kind(&self) -> &'static str {
        self.classify().2
    }

    /// Code, message, kind and extra `data` members. Exhaustive on purpose: a new error variant
    /// does not compile until someone decides what clients see.
    fn classify(&self) -> (i64, &'static str, &'static str, Value) {
        use lib_model::Error as M;
        const INTERNAL: (i64, &str, &str) = (-32603, "Internal error", "Internal");
        let detail = |detail: &str| json!({ "detail": detail });
        let throttled = |retry_after: std::time::Duration| {
            let data = json!({
                "retry_after_sec": retry_after.as_secs().max(1),
                "retry_after_ms": retry_after.as_millis().max(1),
            });
            (-32029, "Too many requests", "TooManyRequests", data)
        };
        match self {
            Error::Parse(d) => (-32700, "Parse error", "ParseError", detail(d)),
            Error::InvalidRequest(d) => (-32600, "Invalid Request", "InvalidRequest", detail(d)),
            Error::BatchTooLarge { limit } => {
                let d = format!("a batch holds at most {limit} requests");
                (-32600, "Invalid Request", "BatchTooLarge", detail(&d))
            }
            Error::MethodNotFound(method) => {
                (-32601, "Method not found", "MethodNotFound", detail(&format!("no method `{method}`")))
            }
            Error::InvalidParams(d) => (-32602, "Invalid params", "InvalidParams", detail(d)),
            Error::Model(model) => match model {
                M::EntityNotFound { entity, id } => {
                    (-32004, "Entity not found", "EntityNotFound", json!({"entity": entity, "id": id}))
                }
                M::InvalidInput { detail: d } => (-32602, "Invalid params", "InvalidParams", detail(d)),
                M::Conflict { detail: d } => (-32009, "Conflict", "Conflict", detail(d)),
                M::UsernameTaken => (-32009, "Conflict", "UsernameTaken", json!({})),
                M::LoginFailed => (-32001, "Unauthorized", "LoginFailed", json!({})),
                M::SessionEnded => (-32001, "Unauthorized", "Unauthorized", detail("the session has ended")),
                M::TooManyAttempts { retry_after } | M::TooManyRequests { retry_after } => throttled(*retry_after),
                M::QueryTimeout => (-32008, "Query timeout", "QueryTimeout", detail(QUERY_TIMEOUT_DETAIL)),
                M::Unavailable(_) => (-32050, "Service unavailable", "ServiceUnavailable", json!({})),
                M::Db(_) | M::Pwd(_) | M::BlockingTask(_) => (INTERNAL.0, INTERNAL.1, INTERNAL.2, json!({})),
            },
            Error::AnswerTooLarge { limit_bytes } => (
                -32010,
                "Answer too large",
                "AnswerTooLarge",
                json!({
                    "limit_bytes": limit_bytes,
                    "detail": format!(
                        "this call's result would take the answer past {limit_bytes} bytes: \
                         ask for fewer rows (a smaller `list_options.limit`) or split the batch"
                    ),
                }),
            ),
            Error::AnswersInFlight { retry_after } => throttled(*retry_after),
            Error::ResultSerialization(_) | Error::Panic(_) => (INTERNAL.0, INTERNAL.1, INTERNAL.2, json!({})),
        }
    }
}
