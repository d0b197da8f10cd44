//! The response body as it is written, and the two budgets on it.
//!
//! - [`RpcLimits`]: the batch limit, `MAX_ANSWER_BYTES` (one answer) and `ANSWER_BYTES_IN_FLIGHT`
//!   (all answers being built or sent at once, across every request).
//! - [`AnswerBuf`]: the one buffer a body's responses are written into. Each result is serialised
//!   once, straight into it, through a writer that stops at the first byte past either budget;
//!   the buffer then rolls back to the call's start and the call is answered with an error.
//! - [`Answer`]: the finished body, which keeps its bytes counted in flight until it is dropped
//!   (after the web layer has sent it).
//!
//! What the budgets count: results. Envelopes and error objects are always written (and counted
//! in flight), since their size follows from the request itself (its ids and names) and the batch
//! limit, not from data; so an answer holds at most `MAX_ANSWER_BYTES` of results, and passes it
//! only by the errors that follow once it is full.

use crate::Error;
use serde_json::value::RawValue;
use std::io;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// How long a call refused for want of room in flight suggests waiting: answers in flight are
/// sent within moments, so a short back-off is enough.
const IN_FLIGHT_RETRY_AFTER: Duration = Duration::from_millis(500);

/// The smallest step by which an answer's room in flight grows: fewer atomic operations for many
/// small writes, while an answer never holds more than one step beyond its bytes.
const MIN_STEP: usize = 16 * 1024;

/// The limits of [`crate::RpcRouter::handle`], built once from the configuration and shared by
/// every request (cloning shares the in-flight budget).
#[derive(Clone, Debug)]
pub struct RpcLimits {
    /// Most requests in one batch.
    pub batch_limit: usize,
    /// Most bytes of results in one answer.
    pub max_answer_bytes: usize,
    in_flight: Arc<InFlight>,
}

impl RpcLimits {
    pub fn new(batch_limit: usize, max_answer_bytes: usize, answer_bytes_in_flight: usize) -> Self {
        let in_flight = Arc::new(InFlight { limit: answer_bytes_in_flight, used: AtomicUsize::new(0) });
        Self { batch_limit, max_answer_bytes, in_flight }
    }

    pub fn from_config(config: &lib_core::Config) -> Self {
        Self::new(config.rpc_batch_limit, config.max_answer_bytes, config.answer_bytes_in_flight)
    }

    /// Answer bytes held in flight right now, across all requests.
    pub fn bytes_in_flight(&self) -> usize {
        self.in_flight.used.load(Ordering::Relaxed)
    }
}

/// Answer bytes held across all requests. A counter rather than a semaphore: nothing ever waits
/// for room (a call that finds none is answered -32029 at once, so that a request never holds
/// its memory while queueing for more), and a counter reserves exact bytes.
#[derive(Debug)]
struct InFlight {
    limit: usize,
    used: AtomicUsize,
}

/// Bytes of one answer counted in flight; given back when dropped.
#[derive(Debug)]
struct Reservation {
    in_flight: Arc<InFlight>,
    bytes: usize,
}

impl Reservation {
    /// Grows by `bytes` if the budget has room.
    fn try_grow(&mut self, bytes: usize) -> bool {
        let limit = self.in_flight.limit;
        let grown = self.in_flight.used.fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
            used.checked_add(bytes).filter(|total| *total <= limit)
        });
        self.bytes += if grown.is_ok() { bytes } else { 0 };
        grown.is_ok()
    }

    /// Grows by `bytes` whatever the budget: for the writes that are always made.
    fn force_grow(&mut self, bytes: usize) {
        self.in_flight.used.fetch_add(bytes, Ordering::AcqRel);
        self.bytes += bytes;
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.in_flight.used.fetch_sub(self.bytes, Ordering::AcqRel);
    }
}

/// Why a budgeted write stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    TooLarge,
    InFlight,
}

/// A finished response body. Its bytes stay counted in flight until it is dropped, so hand it
/// to the transport by move (for axum: `Bytes::from_owner(answer)`).
#[derive(Debug)]
pub struct Answer {
    bytes: Vec<u8>,
    _reservation: Reservation,
}

impl AsRef<[u8]> for Answer {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}

/// The response body being written.
pub(crate) struct AnswerBuf {
    bytes: Vec<u8>,
    max_bytes: usize,
    reservation: Reservation,
}

impl AnswerBuf {
    pub(crate) fn new(limits: &RpcLimits) -> Self {
        let reservation = Reservation { in_flight: limits.in_flight.clone(), bytes: 0 };
        Self { bytes: Vec::new(), max_bytes: limits.max_answer_bytes, reservation }
    }

    pub(crate) fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Forgets everything written after `mark` (a length seen before). The memory stays, and so
    /// does its count in flight, ready for what is written next.
    pub(crate) fn rollback(&mut self, mark: usize) {
        self.bytes.truncate(mark);
    }

    /// Writes `bytes` whatever the budgets: envelopes and errors.
    pub(crate) fn push(&mut self, bytes: &[u8]) {
        let _always = self.make_room(bytes.len(), true);
        self.bytes.extend_from_slice(bytes);
    }

    /// Writes the response `{"jsonrpc":"2.0","id":..,"result":..}` whose result `write` writes;
    /// or, when the result does not fit the budgets (or its serialisation fails or panics),
    /// nothing, and answers the error to answer instead. The result must leave `tail` bytes free
    /// for what will close the body.
    pub(crate) fn try_result(
        &mut self,
        id: Option<&RawValue>,
        tail: usize,
        write: impl FnOnce(&mut ResultWriter<'_>) -> serde_json::Result<()>,
    ) -> Result<(), Error> {
        let mark = self.len();
        self.response_head(id, "result");
        let limit = self.max_bytes.saturating_sub(tail + 1);
        let mut writer = ResultWriter { answer: self, limit, stop: None };
        // A `Serialize` that panics is a bug of one call: caught here so that the buffer is rolled
        // back and the batch goes on. Nothing but `bytes` is touched mid-write, and the rollback
        // restores it.
        let written = crate::unwind::catch(AssertUnwindSafe(|| write(&mut writer)));
        let stop = writer.stop;
        let error = match (written, stop) {
            (Ok(Ok(())), _) => {
                self.push(b"}");
                return Ok(());
            }
            (Ok(Err(_)), Some(Stop::TooLarge)) => Error::AnswerTooLarge { limit_bytes: self.max_bytes },
            (Ok(Err(_)), Some(Stop::InFlight)) => Error::AnswersInFlight { retry_after: IN_FLIGHT_RETRY_AFTER },
            (Ok(Err(error)), None) => Error::ResultSerialization(error),
            (Err(panic), _) => panic,
        };
        self.rollback(mark);
        Err(error)
    }

    /// Writes `{"jsonrpc":"2.0","id":<id>,"<member>":` (a missing id is `null`).
    pub(crate) fn response_head(&mut self, id: Option<&RawValue>, member: &str) {
        self.push(br#"{"jsonrpc":"2.0","id":"#);
        self.push(id.map_or("null", RawValue::get).as_bytes());
        self.push(b",\"");
        self.push(member.as_bytes());
        self.push(b"\":");
    }

    /// Makes room for `more` bytes. Capacity is grown here, by doubling, and never by `Vec`
    /// itself, so that what is counted in flight is the memory really held.
    fn make_room(&mut self, more: usize, always: bool) -> Result<(), Stop> {
        let needed = self.bytes.len() + more;
        if needed <= self.bytes.capacity() {
            return Ok(());
        }
        let doubled = (self.bytes.capacity() * 2).max(MIN_STEP).max(needed);
        // Doubling past the answer's own limit would only hold memory that can never be used.
        let wanted = if needed <= self.max_bytes { doubled.min(self.max_bytes) } else { needed };
        let reserved = self.reservation.bytes;
        let grown = self.reservation.try_grow(wanted.saturating_sub(reserved))
            || self.reservation.try_grow(needed.saturating_sub(reserved));
        if !grown {
            if !always {
                return Err(Stop::InFlight);
            }
            self.reservation.force_grow(needed.saturating_sub(reserved));
        }
        let target = self.reservation.bytes;
        self.bytes.reserve_exact(target - self.bytes.len());
        // The allocator may give more than asked: count what is held.
        let extra = self.bytes.capacity().saturating_sub(self.reservation.bytes);
        self.reservation.force_grow(extra);
        Ok(())
    }

    /// The finished body, still counted in flight until dropped.
    pub(crate) fn finish(self) -> Answer {
        Answer { bytes: self.bytes, _reservation: self.reservation }
    }
}

/// Forced writes, for error objects.
impl io::Write for AnswerBuf {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.push(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Where a result is serialised: straight into the answer, up to its budget.
pub(crate) struct ResultWriter<'a> {
    answer: &'a mut AnswerBuf,
    /// The length the answer may reach with this result.
    limit: usize,
    stop: Option<Stop>,
}

impl io::Write for ResultWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let stop = if self.answer.len() + buf.len() > self.limit {
            Some(Stop::TooLarge)
        } else {
            self.answer.make_room(buf.len(), false).err()
        };
        if let Some(stop) = stop {
            self.stop = Some(stop);
            return Err(io::Error::other("the answer's budget is spent"));
        }
        self.answer.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
