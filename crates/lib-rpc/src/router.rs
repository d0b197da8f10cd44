//! [`RpcRouter`]: methods by name, and the dispatch of a body's requests to them.

use crate::protocol::{Incoming, Rejected, Request, parse_body, parse_request, response};
use crate::{Error, Result};
use lib_core::Ctx;
use lib_model::ModelManager;
use lib_model::base::Identified;
use lib_model::session::NewSession;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_json::value::{RawValue, to_raw_value};
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use tracing::Instrument as _;

/// A call's result as JSON text, and the session it replaced the caller's with, if any.
type MethodFuture = Pin<Box<dyn Future<Output = Result<(Box<RawValue>, Option<NewSession>)>> + Send>>;
type Method = Box<dyn Fn(Ctx, ModelManager, Value) -> MethodFuture + Send + Sync>;
type GetManyFuture = Pin<Box<dyn Future<Output = Result<HashMap<i64, Box<RawValue>>>> + Send>>;

/// Reads many rows of one entity by id in one statement: how a batch's run of `get_*` calls is
/// answered.
struct GetMany {
    entity: &'static str,
    fetch: Box<dyn Fn(Ctx, ModelManager, Vec<i64>) -> GetManyFuture + Send + Sync>,
}

/// The registered methods. Built once at start, shared by every request.
#[derive(Default)]
pub struct RpcRouter {
    methods: HashMap<&'static str, Method>,
    get_many: HashMap<&'static str, GetMany>,
}

/// What one body produced: the response body (`None`: nothing to answer, HTTP 204) and, for the
/// request's log line, the methods called and the error kinds answered.
#[derive(Debug, Default)]
pub struct RpcOutcome {
    pub body: Option<String>,
    pub methods: Vec<String>,
    pub error_kinds: Vec<&'static str>,
    /// A call replaced the caller's session (`change_pwd`): the web layer sends its cookie.
    pub new_session: Option<NewSession>,
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
        self.add_replacing_session(name, move |ctx, mm, params: P| async move {
            Ok((handler(ctx, mm, params).await?, None))
        })
    }

    /// As [`RpcRouter::add`], for a method that may end the caller's session and start a new
    /// one (`change_pwd`): the new session reaches [`RpcOutcome::new_session`].
    pub fn add_replacing_session<P, R, F, Fut>(&mut self, name: &'static str, handler: F) -> &mut Self
    where
        P: DeserializeOwned + Send + 'static,
        R: Serialize + 'static,
        F: Fn(Ctx, ModelManager, P) -> Fut + Send + Sync + Copy + 'static,
        Fut: Future<Output = Result<(R, Option<NewSession>)>> + Send + 'static,
    {
        let method: Method = Box::new(move |ctx, mm, params| {
            Box::pin(async move {
                let params = crate::params::from_value::<P>(params, "")?;
                let (data, new_session) = handler(ctx, mm, params).await?;
                // Straight to JSON text: fields keep their declared order, no intermediate Value.
                let result = to_raw_value(&DataResult { data }).map_err(Error::ResultSerialization)?;
                Ok((result, new_session))
            })
        });
        assert!(self.methods.insert(name, method).is_none(), "method {name} registered twice");
        self
    }

    /// Lets consecutive calls of the `get_*` method `name` in a batch be answered together by
    /// `fetch` (one statement for the run instead of one per call). `name` must also be
    /// registered with [`RpcRouter::add`]; results are the same as calling it once per id.
    pub fn add_get_many<R, F, Fut>(&mut self, name: &'static str, entity: &'static str, fetch: F) -> &mut Self
    where
        R: Serialize + Identified + 'static,
        F: Fn(Ctx, ModelManager, Vec<i64>) -> Fut + Send + Sync + Copy + 'static,
        Fut: Future<Output = Result<Vec<R>>> + Send + 'static,
    {
        let fetch = Box::new(move |ctx, mm, ids| -> GetManyFuture {
            Box::pin(async move {
                let rows = fetch(ctx, mm, ids).await?;
                rows.into_iter()
                    .map(|row| {
                        Ok((row.id(), to_raw_value(&DataResult { data: &row }).map_err(Error::ResultSerialization)?))
                    })
                    .collect()
            })
        });
        self.get_many.insert(name, GetMany { entity, fetch });
        self
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
                let mut requests: VecDeque<_> = entries.into_iter().map(parse_request).collect();
                while let Some(request) = requests.pop_front() {
                    let first = match request {
                        Ok(r) if self.get_many.contains_key(r.method.as_str()) && single_id(&r.params).is_some() => r,
                        other => {
                            responses.extend(self.call(ctx, mm, other, req_id, &mut outcome).await);
                            continue;
                        }
                    };
                    let method = first.method.clone();
                    // Consecutive reads of one entity: no write can come between them, so one
                    // statement answers them all exactly as one call each would.
                    let mut reads = vec![first];
                    while let Some(Ok(next)) = requests.front() {
                        if next.method != method || single_id(&next.params).is_none() {
                            break;
                        }
                        reads.extend(requests.pop_front().and_then(std::result::Result::ok));
                    }
                    if reads.len() == 1 {
                        responses.extend(self.call(ctx, mm, Ok(reads.remove(0)), req_id, &mut outcome).await);
                    } else {
                        self.call_many(ctx, mm, &method, reads, req_id, &mut outcome, &mut responses).await;
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
        let result = result.map(|(result, new_session)| {
            if new_session.is_some() {
                outcome.new_session = new_session;
            }
            result
        });
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

impl RpcRouter {
    /// A run of reads of one entity, answered by one `get_many`, each in its place.
    #[allow(clippy::too_many_arguments)]
    async fn call_many(
        &self,
        ctx: Ctx,
        mm: &ModelManager,
        method: &str,
        reads: Vec<Request<'_>>,
        req_id: &str,
        outcome: &mut RpcOutcome,
        responses: &mut Vec<String>,
    ) {
        let get_many = &self.get_many[method];
        let ids: Vec<i64> = reads.iter().filter_map(|r| single_id(&r.params)).collect();
        outcome.methods.extend(reads.iter().map(|r| r.method.clone()));
        let span = tracing::info_span!("rpc", method, batched = reads.len());
        match (get_many.fetch)(ctx, mm.clone(), ids.clone()).instrument(span.clone()).await {
            Ok(rows) => {
                for (read, id) in reads.iter().zip(ids) {
                    let result = rows
                        .get(&id)
                        .cloned()
                        .ok_or(Error::Model(lib_model::Error::EntityNotFound { entity: get_many.entity, id }));
                    match (read.id, result) {
                        (Some(rid), result) => responses.push(outcome.answer(Some(rid), result, req_id)),
                        (None, Err(error)) => outcome.error_kinds.push(error.kind()),
                        (None, Ok(_)) => {}
                    }
                }
            }
            Err(error) => {
                let object = span.in_scope(|| error.to_error_object(req_id));
                for read in &reads {
                    outcome.error_kinds.push(error.kind());
                    if read.id.is_some() {
                        responses.push(response(read.id, Err(object.clone())));
                    }
                }
            }
        }
    }
}

/// `{"id": n}` and nothing else: a call a `get_many` can answer.
fn single_id(params: &Value) -> Option<i64> {
    match params {
        Value::Object(fields) if fields.len() == 1 => fields.get("id")?.as_i64(),
        _ => None,
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
