//! [`Responses`]: the responses of one body as they are written into its answer, and what the
//! request's log line needs of them.

use crate::answer::{AnswerBuf, ResultWriter, RpcLimits};
use crate::router::RpcOutcome;
use crate::{Error, ErrorObject};
use lib_core::Throttled;
use serde_json::value::RawValue;
use std::ops::Range;

pub(crate) struct Responses<'r> {
    answer: AnswerBuf,
    pub(crate) outcome: RpcOutcome,
    pub(crate) req_id: &'r str,
    /// Where this layer's own limits count their refusals.
    throttled: &'r Throttled,
    batch: bool,
    written: usize,
}

impl<'r> Responses<'r> {
    pub(crate) fn new(limits: &RpcLimits, req_id: &'r str, user_id: i64, throttled: &'r Throttled) -> Self {
        Self {
            answer: AnswerBuf::new(limits, user_id),
            outcome: RpcOutcome::default(),
            req_id,
            throttled,
            batch: false,
            written: 0,
        }
    }

    pub(crate) fn begin_batch(&mut self) {
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
    pub(crate) fn result(
        &mut self,
        id: &RawValue,
        write: impl FnOnce(&mut ResultWriter<'_>) -> serde_json::Result<()>,
    ) {
        self.next();
        // A batch's closing bracket must fit too.
        let tail = usize::from(self.batch);
        if let Err(error) = self.answer.try_result(Some(id), tail, write) {
            self.write_error(Some(id), &error);
        }
    }

    /// Starts a result written in parts as they come (a transaction's): the response's head,
    /// then `opening`. Answer it with [`Responses::close_parts`], or take it all back with
    /// [`Responses::abandon_parts`].
    pub(crate) fn open_parts(&mut self, id: Option<&RawValue>, opening: &[u8]) -> PartsMark {
        let mark = PartsMark { len: self.answer.len(), written: self.written };
        self.next();
        crate::envelope::write_head(&mut self.answer, id, "result").expect("forced writes cannot fail");
        self.answer.push(opening);
        mark
    }

    /// Writes `separator` (always), then one part within the answer's budgets, leaving room for
    /// `closing`; answers where the part lies, for reading it back.
    pub(crate) fn try_part(
        &mut self,
        separator: &[u8],
        closing: &[u8],
        write: impl FnOnce(&mut ResultWriter<'_>) -> serde_json::Result<()>,
    ) -> Result<Range<usize>, Error> {
        self.answer.push(separator);
        let start = self.answer.len();
        // The response's closing brace, and a batch's closing bracket.
        let tail = closing.len() + 1 + usize::from(self.batch);
        self.answer.try_write(tail, write)?;
        Ok(start..self.answer.len())
    }

    /// A part written earlier.
    pub(crate) fn part(&self, range: Range<usize>) -> &[u8] {
        self.answer.written(range)
    }

    pub(crate) fn close_parts(&mut self, closing: &[u8]) {
        self.answer.push(closing);
        self.answer.push(b"}");
    }

    /// Forgets the response begun at `mark`, as if it had never been started.
    pub(crate) fn abandon_parts(&mut self, mark: PartsMark) {
        self.answer.rollback(mark.len);
        self.written = mark.written;
    }

    pub(crate) fn error(&mut self, id: Option<&RawValue>, error: Error) {
        self.next();
        self.write_error(id, &error);
    }

    fn write_error(&mut self, id: Option<&RawValue>, error: &Error) {
        self.count_refusal(error);
        let (kind, object) = error.to_error_object(self.req_id);
        record_code(&object);
        self.outcome.error_kinds.push(kind);
        self.answer.error(id, &object);
    }

    /// An error made once for several calls (a failed `get_many`), logged once, counted and
    /// answered for each (`id` `None`: a notification, counted only).
    pub(crate) fn error_object(&mut self, id: Option<&RawValue>, kind: &'static str, object: &ErrorObject) {
        record_code(object);
        self.outcome.error_kinds.push(kind);
        if id.is_some() {
            self.next();
            self.answer.error(id, object);
        }
    }

    /// A notification's error: logged if it is a fault, counted for the log line.
    pub(crate) fn unanswered(&mut self, error: &Error) {
        self.count_refusal(error);
        let (kind, object) = error.to_error_object(self.req_id);
        record_code(&object);
        self.outcome.error_kinds.push(kind);
    }

    /// Counts a refusal by one of this layer's limits (the model counts its own).
    fn count_refusal(&self, error: &Error) {
        if let Some(limit) = error.refused_by() {
            self.throttled.count(limit);
        }
    }

    pub(crate) fn finish(mut self) -> RpcOutcome {
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

/// Where a response written in parts began.
pub(crate) struct PartsMark {
    len: usize,
    written: usize,
}

/// The error's code on the call's span (the current one where calls are answered), for traces.
fn record_code(object: &ErrorObject) {
    tracing::Span::current().record("rpc.jsonrpc.error_code", object.code);
}
