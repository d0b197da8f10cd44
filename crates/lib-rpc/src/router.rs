//! [`RpcRouter`]: methods by name, and the dispatch of a body's requests to them.

use crate::protocol::{Incoming, Rejected, Request, parse_body, parse_request, response};
use crate::{Error, Result};
use lib_core::Ctx;
use lib_model::ModelManager;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_json::value::{RawValue, to_raw_value};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use tracing::Instrument as _;

type MethodFuture = Pin<Box<dyn Future<Output = Result<Box<RawValue>>> + Send>>;
type Method = Box<dyn Fn(Ctx, ModelManager, Value) -> MethodFuture + Send + Sync>;

/// The registered methods. Built once at start, shared by every request.
#[derive(Default)]
pub struct RpcRouter {
    methods: HashMap<&'static str, Method>,
}

/// What one body produced: the response body (`None`: nothing to answer, HTTP 204) and, for the
/// request's log line, the methods called and the error kinds answered.
#[derive(Debug, Default)]
pub struct RpcOutcome {
    pub body: Option<String>,
    pub methods: Vec<String>,
    pub error_kinds: Vec<&'static str>,
}

/// Every method answers `{"data": ...}`.
#[derive(Serialize)]
struct DataResult<T> {
    data: T,
}

impl RpcRouter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `handler` under `name`. Its params are parsed strictly from the request's named
    /// params, and its result is answered as `{"data": result}`.
    pub fn add<P, R, F, Fut>(&mut self, name: &'static str, handler: F) -> &mut Self
    where
        P: DeserializeOwned + Send + 'static,
        R: Serialize + 'static,
        F: Fn(Ctx, ModelManager, P) -> Fut + Send + Sync + Copy + 'static,
        Fut: Future<Output = Result<R>> + Send + 'static,
    {
        let method: Method = Box::new(move |ctx, mm, params| {
            Box::pin(async move {
                let params = crate::params::from_value::<P>(params, "")?;
                let data = handler(ctx, mm, params).await?;
                // Straight to JSON text: fields keep their declared order, no intermediate Value.
                to_raw_value(&DataResult { data }).map_err(Error::ResultSerialization)
            })
        });
        assert!(self.methods.insert(name, method).is_none(), "method {name} registered twice");
        self
    }

    pub fn method_names(&self) -> Vec<&'static str> {
        let mut names: Vec<_> = self.methods.keys().copied().collect();
        names.sort_unstable();
        names
    }

    /// Runs every request of `body` for `ctx`, in order, and answers the response body.
    pub async fn handle(
        &self,
        ctx: Ctx,
        mm: &ModelManager,
        body: &[u8],
        req_id: &str,
        batch_limit: usize,
    ) -> RpcOutcome {
        let mut outcome = RpcOutcome::default();
        match parse_body(body) {
            Err(error) => outcome.body = Some(outcome.answer(None, Err(error), req_id)),
            Ok(Incoming::Single(raw)) => {
                outcome.body = self.call(ctx, mm, parse_request(raw), req_id, &mut outcome).await
            }
            Ok(Incoming::Batch(entries)) if entries.is_empty() => {
                let error = Error::InvalidRequest("an empty batch".into());
                outcome.body = Some(outcome.answer(None, Err(error), req_id));
            }
            Ok(Incoming::Batch(entries)) if entries.len() > batch_limit => {
                let error = Error::BatchTooLarge { size: entries.len(), limit: batch_limit };
                outcome.body = Some(outcome.answer(None, Err(error), req_id));
            }
            Ok(Incoming::Batch(entries)) => {
                let mut responses = Vec::with_capacity(entries.len());
                for raw in entries {
                    if let Some(response) = self.call(ctx, mm, parse_request(raw), req_id, &mut outcome).await {
                        responses.push(response);
                    }
                }
                // A batch of notifications only is answered with nothing at all.
                outcome.body = (!responses.is_empty()).then(|| format!("[{}]", responses.join(",")));
            }
        }
        outcome
    }

    /// One request: its response, or `None` for a notification (which runs all the same).
    async fn call<'a>(
        &self,
        ctx: Ctx,
        mm: &ModelManager,
        request: std::result::Result<Request<'a>, Rejected<'a>>,
        req_id: &str,
        outcome: &mut RpcOutcome,
    ) -> Option<String> {
        let request = match request {
            Ok(request) => request,
            Err(Rejected { is_notification: true, error, .. }) => {
                outcome.error_kinds.push(error.kind());
                return None;
            }
            Err(Rejected { id, error, .. }) => return Some(outcome.answer(id, Err(error), req_id)),
        };
        outcome.methods.push(request.method.clone());
        let span = tracing::info_span!("rpc", method = %request.method, notification = request.id.is_none());
        let result = match self.methods.get(request.method.as_str()) {
            Some(method) => method(ctx, mm.clone(), request.params).instrument(span.clone()).await,
            None => Err(Error::MethodNotFound(request.method.clone())),
        };
        match request.id {
            Some(id) => Some(span.in_scope(|| outcome.answer(Some(id), result, req_id))),
            None => {
                if let Err(error) = result {
                    // Never answered, but a server fault in a notification must still be logged.
                    let _ = span.in_scope(|| error.to_error_object(req_id));
                    outcome.error_kinds.push(error.kind());
                }
                None
            }
        }
    }
}

impl RpcOutcome {
    fn answer(&mut self, id: Option<&RawValue>, result: Result<Box<RawValue>>, req_id: &str) -> String {
        let result = result.map_err(|error| {
            self.error_kinds.push(error.kind());
            error.to_error_object(req_id)
        });
        response(id, result)
    }
}
