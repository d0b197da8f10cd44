//! The response body as it is written, and the two budgets on it.
//!
//! - [`RpcLimits`]: the batch limit, `MAX_ANSWER_BYTES` (one answer) and `ANSWER_BYTES_IN_FLIGHT`
//!   (all answers being built or sent at once, across every request), of which one user may hold
//!   at most their share ([`RpcLimits::user_share`]: twice `MAX_ANSWER_BYTES`).
//! - [`AnswerBuf`]: the one buffer a body's responses are written into. Each result is serialised
//!   once, straight into it, through a writer that stops at the first byte past either budget;
//!   the buffer then rolls back to the call's start and the call is answered with an error.
//! - [`Answer`]: the finished body, which keeps its bytes counted in flight until it is dropped
//!   (by the web layer once the connection has taken it, or its send deadline has passed).
//!
//! What the budgets count: results. Envelopes and error objects are always written (and counted
//! in flight), since their size follows from the request itself (its ids and names) and the batch
//! limit, not from data; so an answer holds at most `MAX_ANSWER_BYTES` of results, and passes it
//! only by the errors that follow once it is full.

use crate::Error;
use crate::client::ErrorObject;
use serde_json::value::RawValue;
use std::collections::HashMap;
use std::io;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
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
        let in_flight = Arc::new(InFlight {
            limit: answer_bytes_in_flight,
            used: AtomicUsize::new(0),
            user_limit: max_answer_bytes.saturating_mul(2).min(answer_bytes_in_flight),
            users: Mutex::new(HashMap::new()),
        });
        Self { batch_limit, max_answer_bytes, in_flight }
    }

    pub fn from_config(config: &lib_core::Config) -> Self {
        Self::new(config.rpc_batch_limit, config.max_answer_bytes, config.answer_bytes_in_flight)
    }

    /// Answer bytes held in flight right now, across all requests.
    pub fn bytes_in_flight(&self) -> usize {
        self.in_flight.used.load(Ordering::Relaxed)
    }

    /// The most answer bytes one user may hold in flight across all their requests: twice
    /// `max_answer_bytes` (one full answer being sent while the next is built), never more than
    /// the whole budget. One user can thus take at most this much of the room of everyone else.
    pub fn user_share(&self) -> usize {
        self.in_flight.user_limit
    }

    /// Answer bytes `user_id` holds in flight right now.
    pub fn user_bytes_in_flight(&self, user_id: i64) -> usize {
        self.in_flight.users().get(&user_id).copied().unwrap_or(0)
    }

    /// How many users hold answer bytes in flight right now (the entries of the per-user count,
    /// which exist only while their user holds bytes).
    pub fn users_in_flight(&self) -> usize {
        self.in_flight.users().len()
    }
}

/// Answer bytes held across all requests, and by each user. Counters rather than semaphores:
/// nothing ever waits for room (a call that finds none is answered -32029 at once, so that a
/// request never holds its memory while queueing for more), and a counter reserves exact bytes.
#[derive(Debug)]
struct InFlight {
    limit: usize,
    used: AtomicUsize,
    /// The most one user may hold: [`RpcLimits::user_share`].
    user_limit: usize,
    /// Bytes held per user id. An entry exists only while its user holds bytes (it is removed
    /// when they fall to zero), so the map is bounded by the answers in flight. Locked only when
    /// an answer grows (by doubling: a few times per answer) or is dropped.
    users: Mutex<HashMap<i64, usize>>,
}

impl InFlight {
    /// Nothing panics while the lock is held; a poisoned lock is used as it is all the same.
    fn users(&self) -> MutexGuard<'_, HashMap<i64, usize>> {
        self.users.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Bytes of one answer counted in flight, globally and for its user; given back when dropped.
#[derive(Debug)]
struct Reservation {
    in_flight: Arc<InFlight>,
    user_id: i64,
    bytes: usize,
}

impl Reservation {
    /// Grows by `bytes` if both the user's share and the global budget have room.
    fn try_grow(&mut self, bytes: usize) -> bool {
        if bytes == 0 {
            return true;
        }
        let in_flight = &*self.in_flight;
        // Held across the global update, so that the user's count and the global one move together.
        let mut users = in_flight.users();
        let held = users.get(&self.user_id).copied().unwrap_or(0);
        if held.checked_add(bytes).is_none_or(|total| total > in_flight.user_limit) {
            return false;
        }
        let limit = in_flight.limit;
        let grown = in_flight.used.fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
            used.checked_add(bytes).filter(|total| *total <= limit)
        });
        if grown.is_err() {
            return false;
        }
        *users.entry(self.user_id).or_insert(0) += bytes;
        self.bytes += bytes;
        true
    }

    /// Grows by `bytes` whatever the budgets: for the writes that are always made.
    fn force_grow(&mut self, bytes: usize) {
        if bytes == 0 {
            return;
        }
        let mut users = self.in_flight.users();
        self.in_flight.used.fetch_add(bytes, Ordering::AcqRel);
        *users.entry(self.user_id).or_insert(0) += bytes;
        self.bytes += bytes;
    }

    /// Whether what is counted in flight, forced writes included, is within both budgets.
    fn within_budgets(&self) -> bool {
        let users = self.in_flight.users();
        let held = users.get(&self.user_id).copied().unwrap_or(0);
        held <= self.in_flight.user_limit && self.in_flight.used.load(Ordering::Acquire) <= self.in_flight.limit
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if self.bytes == 0 {
            return;
        }
        let mut users = self.in_flight.users();
        self.in_flight.used.fetch_sub(self.bytes, Ordering::AcqRel);
        if let Some(held) = users.get_mut(&self.user_id) {
            *held = held.saturating_sub(self.bytes);
            if *held == 0 {
                users.remove(&self.user_id);
            }
        }
    }
}

/// Why a budgeted write stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    TooLarge,
    InFlight,
}

/// A finished response body. Its bytes stay counted in flight until it is dropped: the transport
/// should drop it once sent, and give up on a connection that does not take it in time.
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

impl Answer {
    /// The bytes, no longer counted in flight: for a transport that bounds what it holds itself.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

/// The response body being written.
pub(crate) struct AnswerBuf {
    bytes: Vec<u8>,
    max_bytes: usize,
    /// The length results may reach without asking the budgets again: the capacity obtained
    /// within them, short of what forced writes took past them.
    granted: usize,
    reservation: Reservation,
}

impl AnswerBuf {
    /// An empty answer of `user_id`, whose bytes count against their share.
    pub(crate) fn new(limits: &RpcLimits, user_id: i64) -> Self {
        let reservation = Reservation { in_flight: limits.in_flight.clone(), user_id, bytes: 0 };
        Self { bytes: Vec::new(), max_bytes: limits.max_answer_bytes, granted: 0, reservation }
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
        crate::envelope::write_head(self, id, "result").expect("forced writes cannot fail");
        match self.try_write(tail + 1, write) {
            Ok(()) => {
                self.push(b"}");
                Ok(())
            }
            Err(error) => {
                self.rollback(mark);
                Err(error)
            }
        }
    }

    /// Writes what `write` writes, within the budgets and leaving `tail` bytes free for what
    /// will close the body; or answers the error to answer instead, leaving the caller to roll
    /// back what was written.
    pub(crate) fn try_write(
        &mut self,
        tail: usize,
        write: impl FnOnce(&mut ResultWriter<'_>) -> serde_json::Result<()>,
    ) -> Result<(), Error> {
        let limit = self.max_bytes.saturating_sub(tail);
        let mut writer = ResultWriter { answer: self, limit, stop: None };
        // A `Serialize` that panics is a bug of one call: caught here so that the buffer is rolled
        // back and the batch goes on. Nothing but `bytes` is touched mid-write, and the rollback
        // restores it.
        let written = crate::unwind::catch(AssertUnwindSafe(|| write(&mut writer)));
        let stop = writer.stop;
        match (written, stop) {
            (Ok(Ok(())), _) => Ok(()),
            (Ok(Err(_)), Some(Stop::TooLarge)) => Err(Error::AnswerTooLarge { limit_bytes: self.max_bytes }),
            (Ok(Err(_)), Some(Stop::InFlight)) => Err(Error::AnswersInFlight { retry_after: IN_FLIGHT_RETRY_AFTER }),
            (Ok(Err(error)), None) => Err(Error::ResultSerialization(error)),
            (Err(panic), _) => Err(panic),
        }
    }

    /// What was written from `range` on (a part of a result written earlier).
    pub(crate) fn written(&self, range: std::ops::Range<usize>) -> &[u8] {
        &self.bytes[range]
    }

    /// Writes the response `{"jsonrpc":"2.0","id":<id>,"error":<object>}` (forced, as every error).
    pub(crate) fn error(&mut self, id: Option<&RawValue>, object: &ErrorObject) {
        crate::envelope::write_error(self, id, object).expect("an error object always serializes");
    }

    /// Makes room for `more` bytes. Capacity is grown here, by doubling, and never by `Vec`
    /// itself, so that what is counted in flight is the memory really held.
    fn make_room(&mut self, more: usize, always: bool) -> Result<(), Stop> {
        let needed = self.bytes.len() + more;
        let capacity = self.bytes.capacity();
        if needed <= self.granted || (always && needed <= capacity) {
            return Ok(());
        }
        if needed <= capacity {
            // Room that only forced writes took: a result may use it once what is counted is
            // within the budgets again (other answers sent), not before.
            if !self.reservation.within_budgets() {
                return Err(Stop::InFlight);
            }
            self.granted = capacity;
            return Ok(());
        }
        let wanted = if needed <= self.max_bytes {
            // Doubling past the answer's own limit would only hold memory that can never be used.
            (capacity * 2).max(MIN_STEP).min(self.max_bytes).max(needed)
        } else {
            // Past its limit an answer takes only forced writes (the errors of the calls after it
            // was full): the part past the limit still grows geometrically, so that a run of them
            // does not copy the whole buffer at each.
            let past = capacity.saturating_sub(self.max_bytes);
            (self.max_bytes + 2 * past).max(capacity + MIN_STEP).max(needed)
        };
        let reserved = self.reservation.bytes;
        let grown = self.reservation.try_grow(wanted.saturating_sub(reserved))
            || self.reservation.try_grow(needed.saturating_sub(reserved));
        if !grown {
            if !always {
                return Err(Stop::InFlight);
            }
            // By the same steps as above: growing to exactly `needed` would copy the buffer at
            // every forced write once the budget is full.
            self.reservation.force_grow(wanted.saturating_sub(reserved));
        }
        let target = self.reservation.bytes;
        self.bytes.reserve_exact(target - self.bytes.len());
        // The allocator may give more than asked: count what is held.
        let extra = self.bytes.capacity().saturating_sub(self.reservation.bytes);
        self.reservation.force_grow(extra);
        if grown {
            self.granted = self.bytes.capacity();
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forced_writes_with_no_room_in_flight_grow_by_doubling() {
        // No room at all: every growth is forced.
        let limits = RpcLimits::new(10, 1024 * 1024, 0);
        let mut answer = AnswerBuf::new(&limits, 1);
        let mut reallocations = 0;
        for _ in 0..20_000 {
            let capacity = answer.bytes.capacity();
            answer.push(&[b'x'; 100]);
            reallocations += usize::from(answer.bytes.capacity() != capacity);
        }
        assert_eq!(answer.len(), 2_000_000);
        // 16 KiB doubled up to the 1 MiB limit, then steps past it: a handful, not one per write.
        assert!(reallocations <= 20, "{reallocations} reallocations");
        assert_eq!(limits.bytes_in_flight(), answer.bytes.capacity(), "what is held is counted");
        assert_eq!(limits.user_bytes_in_flight(1), answer.bytes.capacity());
        drop(answer);
        assert_eq!(limits.bytes_in_flight(), 0);
        assert_eq!(limits.users_in_flight(), 0);
    }

    #[test]
    fn a_users_share_is_twice_an_answer_within_the_global_budget() {
        assert_eq!(RpcLimits::new(10, 1000, 10_000).user_share(), 2000);
        assert_eq!(RpcLimits::new(10, 1000, 1500).user_share(), 1500);
    }
}
