//! lib-rpc's errors: the JSON-RPC protocol's own, and a call's model error. What a client sees
//! of each is [`Error::client_error`]; a model error's is [`ClientError::of_model`], the mapping
//! the HTTP endpoints use too.

use crate::client::{ClientError, Code, Endpoint, ErrorObject};
use lib_core::Limit;
use lib_model::Invalid;
use std::time::Duration;

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
    /// The params are not the method's: which one (a path from the params' top), and how.
    #[error("invalid params: {0}")]
    InvalidParams(Invalid),
    #[error("could not serialize the result: {0}")]
    ResultSerialization(#[source] serde_json::Error),
    /// The call's result would take the answer past `MAX_ANSWER_BYTES`.
    #[error("the result would take the answer past {limit_bytes} bytes")]
    AnswerTooLarge { limit_bytes: usize },
    /// The answers being built across all requests hold `ANSWER_BYTES_IN_FLIGHT` already.
    #[error("no room for the result among the answers in flight")]
    AnswersInFlight { retry_after: std::time::Duration },
    /// A socket's `subscribe` past its number of subscriptions.
    #[error("a socket holds at most {limit} subscriptions")]
    TooManySubscriptions { limit: usize },
    /// The call panicked: a bug, caught so that only this call fails.
    #[error("panic: {0}")]
    Panic(String),
    #[error(transparent)]
    Model(#[from] lib_model::Error),
    /// Call `index` of a transaction failed with `error`, and the transaction with it.
    #[error("call {index} of the transaction: {error}")]
    InCall { index: usize, error: Box<Error> },
}

impl Error {
    /// Invalid params: `field` (a path from the params' top, empty for the params as a whole)
    /// and the problem.
    pub fn invalid_params(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Error::InvalidParams(Invalid::new(field, problem))
    }

    /// For `.map_err`: a model error of the input a method handed over from its param `param`
    /// (`data`, `filters`, `list_options`, `new_pwd`), its invalid field named from the params'
    /// top (`title` becomes `data.title`).
    pub fn within(param: &'static str) -> impl FnOnce(lib_model::Error) -> Self {
        move |error| Error::Model(error.within(param))
    }

    /// The client's view of this error, decided once: its kind (for the request's log line) and
    /// the error object of a response to request `req_id`. A server fault is logged here, once,
    /// with its cause; the client sees only "Internal error".
    pub fn to_error_object(&self, req_id: &str) -> (&'static str, ErrorObject) {
        let client = self.client_error();
        client.log_fault(self);
        (client.kind, client.to_object(req_id))
    }

    /// The `data.kind` a client sees, for the request's log line.
    pub fn kind(&self) -> &'static str {
        self.client_error().kind
    }

    /// The limit of this layer that refused the call, if one did.
    pub(crate) fn refused_by(&self) -> Option<Limit> {
        match self {
            Error::AnswersInFlight { .. } => Some(Limit::AnswersInFlight),
            Error::TooManySubscriptions { .. } => Some(Limit::WsSubscriptions),
            _ => None,
        }
    }

    /// What a client sees. Exhaustive on purpose: a new variant does not compile until someone
    /// decides.
    pub fn client_error(&self) -> ClientError {
        match self {
            Error::Parse(d) => ClientError::new(Code::ParseError, "Parse error", "ParseError").detail(d.as_str()),
            Error::InvalidRequest(d) => {
                ClientError::new(Code::InvalidRequest, "Invalid Request", "InvalidRequest").detail(d.as_str())
            }
            Error::BatchTooLarge { limit } => {
                ClientError::new(Code::InvalidRequest, "Invalid Request", "BatchTooLarge")
                    .detail(format!("a batch holds at most {limit} requests"))
            }
            Error::MethodNotFound(method) => {
                ClientError::new(Code::MethodNotFound, "Method not found", "MethodNotFound")
                    .detail(format!("no method `{method}`"))
            }
            Error::InvalidParams(invalid) => {
                ClientError::new(Code::InvalidParams, "Invalid params", "InvalidParams").invalid(invalid)
            }
            Error::Model(model) => ClientError::of_model(model, Endpoint::Rpc),
            Error::AnswerTooLarge { limit_bytes } => {
                ClientError::new(Code::AnswerTooLarge, "Answer too large", "AnswerTooLarge")
                    .with("limit_bytes", *limit_bytes)
                    .detail(format!(
                        "this call's result would take the answer past {limit_bytes} bytes: \
                         ask for fewer rows (a smaller `list_options.limit`) or split the batch"
                    ))
            }
            Error::AnswersInFlight { retry_after } => {
                ClientError::throttled("Too many requests", "TooManyRequests", *retry_after)
            }
            // A bound, not a throttle: waiting helps only if the socket unsubscribes meanwhile.
            Error::TooManySubscriptions { limit } => {
                ClientError::throttled("Too many subscriptions", "TooManySubscriptions", Duration::from_secs(1))
                    .with("limit", *limit)
                    .detail(format!("a socket holds at most {limit} subscriptions: unsubscribe one first"))
            }
            Error::ResultSerialization(_) | Error::Panic(_) => ClientError::internal(),
            Error::InCall { index, error } => error.client_error().with("call_index", *index),
        }
    }
}
