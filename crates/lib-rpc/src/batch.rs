//! A batch: its requests run in order, and each run of consecutive `get_*` calls of one entity
//! by id alone is answered by one statement ([`RpcRouter::add_get_many`]), each call's response
//! in its place, exactly as one call each would answer. No write can come between the reads of
//! a run, so reading them together changes nothing but the cost.
//!
//! [`RpcRouter::add_get_many`]: crate::RpcRouter::add_get_many

use crate::Error;
use crate::answer::ResultWriter;
use crate::dispatch::{Calls, call_span};
use crate::protocol::{Request, parse_request, single_id};
use crate::router::CallRecord;
use crate::unwind::caught;
use serde_json::value::RawValue;
use std::collections::VecDeque;
use std::time::Instant;
use tracing::Instrument as _;

impl Calls<'_> {
    /// Runs the batch `entries` (not empty), answering each in order.
    pub(crate) async fn batch(&mut self, entries: Vec<&RawValue>) {
        self.out.begin_batch();
        let mut requests: VecDeque<_> = entries.into_iter().map(parse_request).collect();
        while let Some(request) = requests.pop_front() {
            let first = match request {
                Ok(r) if self.router.get_many.contains_key(r.method.as_str()) && single_id(r.params).is_some() => r,
                other => {
                    self.call(other).await;
                    continue;
                }
            };
            let mut reads = vec![first];
            while let Some(Ok(next)) = requests.front() {
                if next.method != reads[0].method || single_id(next.params).is_none() {
                    break;
                }
                reads.extend(requests.pop_front().and_then(std::result::Result::ok));
            }
            if reads.len() == 1 {
                self.call(Ok(reads.remove(0))).await;
            } else {
                self.read_many(reads).await;
            }
        }
    }

    /// A run of reads of one entity, answered by one `get_many`, each in its place.
    async fn read_many(&mut self, reads: Vec<Request<'_>>) {
        let out = &mut self.out;
        let method = reads[0].method.as_str();
        let get_many = &self.router.get_many[method];
        let ids: Vec<i64> = reads.iter().filter_map(|r| single_id(r.params)).collect();
        out.outcome.methods.extend(reads.iter().map(|r| r.method.clone()));
        // `method` is a registered name (it has a `get_many`), not arbitrary client text. One span
        // per call, though one statement answers them all: each lasts as long.
        let label = self.router.method_label(method);
        let spans: Vec<tracing::Span> = reads.iter().map(|read| call_span(label, read.id.is_none())).collect();
        let started = Instant::now();
        let fetched =
            caught(|| (get_many.fetch)(self.ctx, self.mm.clone(), ids.clone())).instrument(spans[0].clone()).await;
        let outcomes: Vec<&'static str> = match fetched {
            Ok(rows) => (reads.iter().zip(ids).zip(&spans))
                .map(|((read, id), span)| {
                    let _in_call = span.enter();
                    let found = rows.contains(id);
                    let missing = || Error::Model(lib_model::Error::EntityNotFound { entity: get_many.entity, id });
                    match read.id {
                        Some(rid) if found => out.result(rid, |w: &mut ResultWriter<'_>| rows.write(id, w)),
                        Some(rid) => out.error(Some(rid), missing()),
                        None if !found => out.unanswered(&missing()),
                        None => {}
                    }
                    if found { "ok" } else { missing().kind() }
                })
                .collect(),
            Err(error) => {
                let (kind, object) = error.to_error_object(out.req_id);
                for (read, span) in reads.iter().zip(&spans) {
                    span.in_scope(|| out.error_object(read.id, kind, &object));
                }
                vec![kind; reads.len()]
            }
        };
        drop(spans);
        // One statement answered them all: each call took its time.
        let duration = started.elapsed();
        let records = outcomes.into_iter().map(|outcome| CallRecord { method: label, outcome, duration });
        out.outcome.calls.extend(records);
    }
}
