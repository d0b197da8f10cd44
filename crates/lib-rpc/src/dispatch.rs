//! [`RpcRouter::handle`]: a body's requests run in order, their responses written one after
//! another into one buffer ([`Responses`]), within the answer budgets of [`RpcLimits`]. A batch's
//! runs of reads are answered together in `batch.rs`; a `transaction` runs in `transaction.rs`.

use crate::Error;
use crate::answer::RpcLimits;
use crate::live::{self, SUBSCRIBE, Subscriptions, UNSUBSCRIBE};
use crate::openrpc::DISCOVER;
use crate::protocol::{Incoming, Rejected, Request, parse_body, parse_request};
use crate::responses::Responses;
use crate::router::{CallRecord, OTHER_METHOD, RpcOutcome, RpcRouter};
use crate::transaction::TRANSACTION;
use crate::unwind::caught;
use lib_core::{Ctx, LogText};
use lib_model::ModelManager;
use std::time::Instant;
use tracing::Instrument as _;

/// What the calls of one body share: the methods, the caller, the model, and the responses
/// being written.
pub(crate) struct Calls<'a> {
    pub(crate) router: &'a RpcRouter,
    pub(crate) ctx: Ctx,
    pub(crate) mm: &'a ModelManager,
    pub(crate) out: Responses<'a>,
    /// The most requests in a batch, and calls in a transaction.
    pub(crate) batch_limit: usize,
    /// The socket's subscriptions, when the body came on one: `subscribe` and `unsubscribe`
    /// exist only there.
    pub(crate) live: Option<&'a dyn Subscriptions>,
}

impl RpcRouter {
    /// Runs every request of `body` for `ctx`, in order, and answers the response body.
    pub async fn handle(
        &self,
        ctx: Ctx,
        mm: &ModelManager,
        body: &[u8],
        req_id: &str,
        limits: &RpcLimits,
    ) -> RpcOutcome {
        self.handle_with(ctx, mm, body, req_id, limits, None).await
    }

    /// As [`RpcRouter::handle`], for a body that came on a socket holding `subscriptions`.
    pub async fn handle_on_socket(
        &self,
        ctx: Ctx,
        mm: &ModelManager,
        body: &[u8],
        req_id: &str,
        limits: &RpcLimits,
        subscriptions: &dyn Subscriptions,
    ) -> RpcOutcome {
        self.handle_with(ctx, mm, body, req_id, limits, Some(subscriptions)).await
    }

    async fn handle_with(
        &self,
        ctx: Ctx,
        mm: &ModelManager,
        body: &[u8],
        req_id: &str,
        limits: &RpcLimits,
        live: Option<&dyn Subscriptions>,
    ) -> RpcOutcome {
        let out = Responses::new(limits, req_id, ctx.user_id(), mm.throttled());
        let mut calls = Calls { router: self, ctx, mm, out, batch_limit: limits.batch_limit, live };
        match parse_body(body, limits.batch_limit) {
            Err(error) => calls.out.error(None, error),
            Ok(Incoming::Single(raw)) => calls.call(parse_request(raw)).await,
            Ok(Incoming::Batch(entries)) if entries.is_empty() => {
                calls.out.error(None, Error::InvalidRequest("an empty batch".into()))
            }
            Ok(Incoming::Batch(entries)) => calls.batch(entries).await,
        }
        calls.out.finish()
    }
}

impl RpcRouter {
    /// Whether `body` is a single request for the OpenRPC document: the one call that needs no
    /// session. Not a batch: a body of a hundred of them would answer a hundred documents to
    /// anyone, for the price of a few bytes.
    pub fn is_discovery(&self, body: &[u8], limits: &RpcLimits) -> bool {
        match parse_body(body, limits.batch_limit) {
            Ok(Incoming::Single(raw)) => matches!(parse_request(raw), Ok(request) if request.method == DISCOVER),
            _ => false,
        }
    }
}

/// The span of one call: `method` (the registry's name for it) is what traces call it; the
/// name the client sent is the `method` field of the log. Its error code is recorded when it
/// fails ([`Responses`]).
pub(crate) fn call_span(method: &'static str, notification: bool) -> tracing::Span {
    tracing::info_span!(
        "rpc",
        method,
        notification,
        call_index = tracing::field::Empty,
        otel.name = method,
        rpc.system = "jsonrpc",
        rpc.method = method,
        rpc.jsonrpc.error_code = tracing::field::Empty,
    )
}

impl Calls<'_> {
    /// One request, answered unless it is a notification (which runs all the same).
    pub(crate) async fn call(&mut self, request: std::result::Result<Request<'_>, Rejected<'_>>) {
        let started = Instant::now();
        let errors_before = self.out.outcome.error_kinds.len();
        let method = match &request {
            Ok(request) => self.router.method_label(&request.method),
            Err(_) => OTHER_METHOD,
        };
        self.answer(request, method).await;
        let outcome = &mut self.out.outcome;
        let result = outcome.error_kinds.get(errors_before).copied().unwrap_or("ok");
        outcome.calls.push(CallRecord { method, outcome: result, duration: started.elapsed() });
    }

    /// Runs and answers one request; `method` is its name as the registry knows it.
    async fn answer(&mut self, request: std::result::Result<Request<'_>, Rejected<'_>>, method: &'static str) {
        let out = &mut self.out;
        let request = match request {
            Ok(request) => request,
            Err(Rejected { is_notification: true, error, .. }) => return out.outcome.error_kinds.push(error.kind()),
            Err(Rejected { id, error, .. }) => return out.error(id, error),
        };
        out.outcome.methods.push(request.method.clone());
        if request.method == TRANSACTION {
            let span = call_span(TRANSACTION, request.id.is_none());
            return self.transaction(request.id, request.params).instrument(span).await;
        }
        let span = call_span(method, request.id.is_none());
        if method != request.method {
            span.record("method", tracing::field::display(LogText(&request.method)));
        }
        let result = if request.method == DISCOVER {
            self.router.discover_call(request.params)
        } else if let (SUBSCRIBE, Some(live)) = (request.method.as_str(), self.live) {
            live::subscribe(&self.ctx, live, request.params).instrument(span.clone()).await
        } else if let (UNSUBSCRIBE, Some(live)) = (request.method.as_str(), self.live) {
            span.in_scope(|| live::unsubscribe(live, request.params))
        } else if let Some(method) = self.router.methods.get(request.method.as_str()) {
            caught(|| method(self.ctx, self.mm.clone(), request.params)).instrument(span.clone()).await
        } else {
            Err(Error::MethodNotFound(request.method.clone()))
        };
        span.in_scope(|| match result {
            Ok((write, new_session)) => {
                if new_session.is_some() {
                    out.outcome.new_session = new_session;
                }
                // A notification's result is not even serialised.
                if let Some(id) = request.id {
                    out.result(id, write);
                }
            }
            Err(error) => match request.id {
                Some(id) => out.error(Some(id), error),
                // Never answered, but a server fault in a notification must still be logged.
                None => out.unanswered(&error),
            },
        });
    }
}
