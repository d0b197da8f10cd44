//! [`RpcRouter::handle`]: a body's requests run in order, their responses written one after
//! another into one buffer, within the answer budgets of [`RpcLimits`].

use crate::answer::{AnswerBuf, ResultWriter, RpcLimits};
use crate::protocol::{Incoming, Rejected, Request, parse_body, parse_request, single_id};
use crate::router::{RpcOutcome, RpcRouter};
use crate::unwind::caught;
use crate::{Error, ErrorObject};
use lib_core::{Ctx, LogText};
use lib_model::ModelManager;
use serde_json::value::RawValue;
use std::collections::VecDeque;
use tracing::Instrument as _;

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
        let mut out = Responses::new(limits, req_id, ctx.user_id());
        match parse_body(body, limits.batch_limit) {
            Err(error) => out.error(None, error),
            Ok(Incoming::Single(raw)) => self.call(ctx, mm, parse_request(raw), &mut out).await,
            Ok(Incoming::Batch(entries)) if entries.is_empty() => {
                out.error(None, Error::InvalidRequest("an empty batch".into()))
            }
            Ok(Incoming::Batch(entries)) => {
                out.begin_batch();
                let mut requests: VecDeque<_> = entries.into_iter().map(parse_request).collect();
                while let Some(request) = requests.pop_front() {
                    let first = match request {
                        Ok(r) if self.get_many.contains_key(r.method.as_str()) && single_id(r.params).is_some() => r,
                        other => {
                            self.call(ctx, mm, other, &mut out).await;
                            continue;
                        }
                    };
                    // Consecutive reads of one entity: no write can come between them, so one
                    // statement answers them all exactly as one call each would.
                    let mut reads = vec![first];
                    while let Some(Ok(next)) = requests.front() {
                        if next.method != reads[0].method || single_id(next.params).is_none() {
                            break;
                        }
                        reads.extend(requests.pop_front().and_then(std::result::Result::ok));
                    }
                    if reads.len() == 1 {
                        self.call(ctx, mm, Ok(reads.remove(0)), &mut out).await;
                    } else {
                        self.call_many(ctx, mm, reads, &mut out).await;
                    }
                }
            }
        }
        out.finish()
    }

    /// One request, answered unless it is a notification (which runs all the same).
    async fn call(
        &self,
        ctx: Ctx,
        mm: &ModelManager,
        request: std::result::Result<Request<'_>, Rejected<'_>>,
        out: &mut Responses<'_>,
    ) {
        let request = match request {
            Ok(request) => request,
            Err(Rejected { is_notification: true, error, .. }) => return out.outcome.error_kinds.push(error.kind()),
            Err(Rejected { id, error, .. }) => return out.error(id, error),
        };
        out.outcome.methods.push(request.method.clone());
        let span = tracing::info_span!("rpc", method = %LogText(&request.method), notification = request.id.is_none());
        let result = match self.methods.get(request.method.as_str()) {
            Some(method) => caught(|| method(ctx, mm.clone(), request.params)).instrument(span.clone()).await,
            None => Err(Error::MethodNotFound(request.method.clone())),
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

    /// A run of reads of one entity, answered by one `get_many`, each in its place.
    async fn call_many(&self, ctx: Ctx, mm: &ModelManager, reads: Vec<Request<'_>>, out: &mut Responses<'_>) {
        let method = reads[0].method.as_str();
        let get_many = &self.get_many[method];
        let ids: Vec<i64> = reads.iter().filter_map(|r| single_id(r.params)).collect();
        out.outcome.methods.extend(reads.iter().map(|r| r.method.clone()));
        // `method` is a registered name (it has a `get_many`), not arbitrary client text.
        let span = tracing::info_span!("rpc", method, batched = reads.len());
        let fetched = caught(|| (get_many.fetch)(ctx, mm.clone(), ids.clone())).instrument(span.clone()).await;
        span.in_scope(|| match fetched {
            Ok(rows) => {
                for (read, id) in reads.iter().zip(ids) {
                    let found = rows.contains(id);
                    let missing = || Error::Model(lib_model::Error::EntityNotFound { entity: get_many.entity, id });
                    match read.id {
                        Some(rid) if found => out.result(rid, |w: &mut ResultWriter<'_>| rows.write(id, w)),
                        Some(rid) => out.error(Some(rid), missing()),
                        None if !found => out.outcome.error_kinds.push(missing().kind()),
                        None => {}
                    }
                }
            }
            Err(error) => {
                let object = error.to_error_object(out.req_id);
                for read in &reads {
                    out.outcome.error_kinds.push(error.kind());
                    if let Some(rid) = read.id {
                        out.error_object(Some(rid), &object);
                    }
                }
            }
        });
    }
}

/// The responses of one body as they are written, and what the log line needs of them.
struct Responses<'r> {
    answer: AnswerBuf,
    outcome: RpcOutcome,
    req_id: &'r str,
    batch: bool,
    written: usize,
}

impl<'r> Responses<'r> {
    fn new(limits: &RpcLimits, req_id: &'r str, user_id: i64) -> Self {
        Self {
            answer: AnswerBuf::new(limits, user_id),
            outcome: RpcOutcome::default(),
            req_id,
            batch: false,
            written: 0,
        }
    }

    fn begin_batch(&mut self) {
        self.batch = true;
        self.answer.push(b"[");
    }

    /// Starts the next response: after a comma, in a batch that has one already.
    fn next(&mut self) {
        if self.written > 0 {
            self.answer.push(b",");
        }
        self.written += 1;
    }

    /// A call's result; or, when it does not fit the budgets (or its serialisation fails), the
    /// error that says so.
    fn result(&mut self, id: &RawValue, write: impl FnOnce(&mut ResultWriter<'_>) -> serde_json::Result<()>) {
        self.next();
        // A batch's closing bracket must fit too.
        let tail = usize::from(self.batch);
        if let Err(error) = self.answer.try_result(Some(id), tail, write) {
            self.write_error(Some(id), &error);
        }
    }

    fn error(&mut self, id: Option<&RawValue>, error: Error) {
        self.next();
        self.write_error(id, &error);
    }

    fn write_error(&mut self, id: Option<&RawValue>, error: &Error) {
        self.outcome.error_kinds.push(error.kind());
        let object = error.to_error_object(self.req_id);
        self.write_object(id, &object);
    }

    /// An error object made once for several calls (a failed `get_many`), logged once.
    fn error_object(&mut self, id: Option<&RawValue>, object: &ErrorObject) {
        self.next();
        self.write_object(id, object);
    }

    fn write_object(&mut self, id: Option<&RawValue>, object: &ErrorObject) {
        self.answer.response_head(id, "error");
        serde_json::to_writer(&mut self.answer, object).expect("an error object always serializes");
        self.answer.push(b"}");
    }

    /// A notification's error: logged if it is a fault, counted for the log line.
    fn unanswered(&mut self, error: &Error) {
        let _ = error.to_error_object(self.req_id);
        self.outcome.error_kinds.push(error.kind());
    }

    fn finish(mut self) -> RpcOutcome {
        // A batch of notifications only is answered with nothing at all.
        if self.written > 0 {
            if self.batch {
                self.answer.push(b"]");
            }
            self.outcome.body = Some(self.answer.finish());
        }
        self.outcome
    }
}
