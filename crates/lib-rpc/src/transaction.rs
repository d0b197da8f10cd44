//! `transaction`: entity calls run in order, on one connection, in one database transaction.
//!
//! Params: `{"calls": [{"method": s, "params"?: object}, ...]}`, 1 to `RPC_BATCH_LIMIT` calls,
//! each a method the router allows in transactions (the entity methods). The result is
//! `{"data": [r0, r1, ...]}`, each `ri` what the call alone would have answered. A failing call
//! fails the transaction: nothing of it stays, and the answer is that call's error with
//! `data.call_index`.
//!
//! Each call's result is written straight into the answer as the call ends, within the answer's
//! budgets, so a transaction's results cost what a batch's would; `{"$ref": "i.path"}` in a later
//! call's params is read back from there (see `refs.rs`). On a failure the response written so
//! far is taken back, and the error written in its place.
//!
//! A run of consecutive creates of one entity is created by one statement
//! ([`RpcRouter::add_create_many`](crate::RpcRouter::add_create_many)): a round trip to the
//! database per row was most of what such a run cost.

mod calls;
mod refs;
mod strict;

use crate::dispatch::Calls;
use crate::router::CreateMany;
use crate::unwind::caught;
use crate::{Error, Result};
use calls::Call;
use refs::RefBudget;
use serde_json::value::RawValue;
use std::ops::Range;
use tracing::Instrument as _;

/// The method's name.
pub(crate) const TRANSACTION: &str = "transaction";

impl Calls<'_> {
    /// Runs the `transaction` request `id` (`None`: a notification, run and not answered).
    pub(crate) async fn transaction(&mut self, id: Option<&RawValue>, params: Option<&RawValue>) {
        let outcome = match self.decode(params) {
            Ok(calls) => self.run(id, &calls).await,
            Err(error) => Err(error),
        };
        if let Err(error) = outcome {
            match id {
                Some(_) => self.out.error(id, error),
                None => self.out.unanswered(&error),
            }
        }
    }

    /// Runs `calls` in one database transaction, writing their results into the answer as they
    /// end. On any failure nothing stays, nothing of the response is left, and the error (of the
    /// call, with its index) is answered instead.
    ///
    /// Runs of creates go first as one statement each; if one fails, which of its calls failed is
    /// not known, so the transaction is run again (from a clean slate, nothing of the first
    /// attempt having stayed) one call at a time, and that names it.
    async fn run(&mut self, id: Option<&RawValue>, calls: &[Call<'_>]) -> Result<()> {
        match self.attempt(id, calls, Runs::Merged).await {
            Err(Failure::InRun) => self.attempt(id, calls, Runs::OneByOne).await.map_err(Failure::into_error),
            outcome => outcome.map_err(Failure::into_error),
        }
    }

    /// One attempt at the transaction. Even a transaction of one statement runs between `BEGIN`
    /// and `COMMIT`: its results must be in the answer (within the answer's budgets) before
    /// anything of it stays.
    async fn attempt(
        &mut self,
        id: Option<&RawValue>,
        calls: &[Call<'_>],
        runs: Runs,
    ) -> std::result::Result<(), Failure> {
        let router = self.router;
        let mut refs = RefBudget::default();
        let txn = self.mm.begin(&self.ctx).await.map_err(|e| Failure::Call(e.into()))?;
        let mm = txn.manager();
        let mark = self.out.open_parts(id, OPENING);
        let mut parts: Vec<Range<usize>> = Vec::with_capacity(calls.len());
        while parts.len() < calls.len() {
            let index = parts.len();
            let run = match runs {
                Runs::Merged => self.run_of_creates(calls, &parts, &mut refs),
                Runs::OneByOne => None,
            };
            let ran = match run {
                Some(params) => {
                    let (method, create_many) =
                        router.create_many.get_key_value(calls[index].method.as_ref()).expect("a run of creates");
                    self.run_many(method, create_many, mm.clone(), &params, index)
                        .await
                        .map_err(|error| Failure::of_run(error, index))
                }
                None => {
                    let ran = self.run_call(mm, &calls[index], index, &parts, &mut refs).await;
                    ran.map(|part| vec![part])
                        .map_err(|error| Failure::Call(Error::InCall { index, error: Box::new(error) }))
                }
            };
            match ran {
                Ok(ran) => parts.extend(ran),
                Err(failure) => {
                    self.out.abandon_parts(mark);
                    // What a failed rollback leaves, Postgres ends when the connection closes.
                    let _ = txn.rollback().await;
                    return Err(failure);
                }
            }
        }
        if let Err(error) = txn.commit().await {
            self.out.abandon_parts(mark);
            return Err(Failure::Call(error.into()));
        }
        match id {
            Some(_) => self.out.close_parts(CLOSING),
            // A notification: run, never answered.
            None => self.out.abandon_parts(mark),
        }
        Ok(())
    }

    /// The run of creates that starts at the next call, if it makes one: two or more
    /// consecutive calls of one `create_*` method that can be created together, none referring
    /// to a call of the run itself. Answers each call's params, their references resolved.
    fn run_of_creates(
        &self,
        calls: &[Call<'_>],
        parts: &[Range<usize>],
        refs: &mut RefBudget,
    ) -> Option<Vec<Option<Box<RawValue>>>> {
        let start = parts.len();
        let method = calls[start].method.as_ref();
        if !self.router.create_many.contains_key(method) {
            return None;
        }
        let mut params = Vec::new();
        for call in calls[start..].iter().take_while(|call| call.method == method) {
            // A reference to a call of the run cannot be resolved before the run: it ends here.
            let result = |i: usize| parts.get(i).map(|part| self.out.part(part.clone()));
            let Ok(resolved) = refs::resolve(call.params, result, refs) else {
                break;
            };
            params.push(resolved.or_else(|| call.params.map(ToOwned::to_owned)));
        }
        (params.len() >= 2).then_some(params)
    }

    /// Creates a run of rows in one statement and writes each call's result into the answer.
    async fn run_many(
        &mut self,
        method: &'static str,
        create_many: &CreateMany,
        mm: lib_model::ModelManager,
        params: &[Option<Box<RawValue>>],
        first: usize,
    ) -> Result<Vec<Range<usize>>> {
        let params: Vec<Option<&RawValue>> = params.iter().map(Option::as_deref).collect();
        // One span per call, though one statement creates them all: each lasts as long.
        let spans: Vec<tracing::Span> = (first..first + params.len()).map(|index| call_span(method, index)).collect();
        let results = caught(|| create_many(self.ctx, mm, &params)).instrument(spans[0].clone()).await?;
        drop(spans);
        let mut parts = Vec::with_capacity(results.len());
        for (offset, write) in results.into_iter().enumerate() {
            let separator: &[u8] = if first + offset == 0 { b"" } else { b"," };
            parts.push(self.out.try_part(separator, CLOSING, write)?);
        }
        Ok(parts)
    }

    /// Runs call `index` on the transaction's manager `mm`, its `$ref`s resolved against the
    /// results `parts` of the calls before it, and writes its result into the answer.
    async fn run_call(
        &mut self,
        mm: &lib_model::ModelManager,
        call: &Call<'_>,
        index: usize,
        parts: &[Range<usize>],
        refs: &mut RefBudget,
    ) -> Result<Range<usize>> {
        let params = refs::resolve(call.params, |i| parts.get(i).map(|part| self.out.part(part.clone())), refs)?;
        let params = params.as_deref().or(call.params);
        // A name the router allows in transactions: registered, not client text.
        let method = self.router.methods.get_key_value(call.method.as_ref()).map(|(name, method)| (*name, method));
        let Some((name, method)) = method else {
            return Err(Error::MethodNotFound(call.method.to_string()));
        };
        let (write, _) = caught(|| method(self.ctx, mm.clone(), params)).instrument(call_span(name, index)).await?;
        let separator: &[u8] = if index == 0 { b"" } else { b"," };
        self.out.try_part(separator, CLOSING, write)
    }
}

const OPENING: &[u8] = br#"{"data":["#;
const CLOSING: &[u8] = b"]}";

/// Whether runs of creates are created by one statement each.
#[derive(Clone, Copy)]
enum Runs {
    Merged,
    OneByOne,
}

/// Why an attempt at the transaction failed.
enum Failure {
    /// The answer: a call's error (with its index), or the transaction's own.
    Call(Error),
    /// A run of creates failed, at a call not known: run them one by one to know.
    InRun,
}

impl Failure {
    /// The failure of the run of creates starting at call `first`. One of its calls' own errors
    /// (bad input, a rule, a parent not found, a result past the answer's limit) is found by
    /// running them one by one; a failure
    /// that running again would only repeat (a timeout, the database gone, no room in the
    /// answer, a server fault) is the run's, answered at its first call.
    fn of_run(error: Error, first: usize) -> Self {
        use lib_model::Error as M;
        let calls_own = matches!(
            &error,
            Error::InvalidParams(_)
                | Error::AnswerTooLarge { .. }
                | Error::Model(
                    M::InvalidInput(_)
                        | M::EntityNotFound { .. }
                        | M::Forbidden { .. }
                        | M::Conflict { .. }
                        | M::SessionEnded
                )
        );
        if calls_own { Failure::InRun } else { Failure::Call(Error::InCall { index: first, error: Box::new(error) }) }
    }

    fn into_error(self) -> Error {
        match self {
            Failure::Call(error) => error,
            // Not reached: one by one, every failure is a call's.
            Failure::InRun => Error::Panic("a run of creates failed outside a merged attempt".into()),
        }
    }
}

/// The span of the transaction's call `index`, named as the method for traces.
fn call_span(method: &'static str, index: usize) -> tracing::Span {
    let span = crate::dispatch::call_span(method, false);
    span.record("call_index", index);
    span
}
