//! What one connection is waiting for and since when ([`Activity`]), as its watchdog reads it:
//! request headers (since it opened, or since the first bytes after an idle spell), the next
//! request (idle since the last response), or nothing (a request is in flight).

use super::Timeouts;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// What a connection is waiting for, and since when, as its watchdog reads it.
///
/// Everything of one connection runs in its task, so the atomics are never contended; they are
/// atomics only because the task may move between threads.
pub(super) struct Activity {
    opened: Instant,
    in_flight: AtomicU32,
    /// Nanoseconds since `opened` shifted left by one, with [`IDLE`] in the low bit: idle since
    /// the last response, or (bit clear) waiting for request headers since the connection opened
    /// or since the first bytes after an idle spell arrived.
    waiting: AtomicU64,
}

const IDLE: u64 = 1;

impl Activity {
    pub(super) fn new() -> Self {
        Self { opened: Instant::now(), in_flight: AtomicU32::new(0), waiting: AtomicU64::new(0) }
    }

    fn now_shifted(&self) -> u64 {
        u64::try_from(self.opened.elapsed().as_nanos()).unwrap_or(u64::MAX) << 1
    }

    pub(super) fn request_started(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Relaxed);
        InFlight(self.clone())
    }

    /// The next request's first bytes end an idle spell and start its header deadline. Bytes
    /// that arrive while a request is in flight (its body, or a pipelined request) do not: a
    /// request pipelined behind another then has the idle deadline, not the shorter header one.
    pub(super) fn bytes_arrived(&self) {
        if self.waiting.load(Relaxed) & IDLE != 0 && self.in_flight.load(Relaxed) == 0 {
            self.waiting.store(self.now_shifted(), Relaxed);
        }
    }

    /// When the connection is due to close, and what it waits for; `None` while a request is in
    /// flight.
    pub(super) fn deadline(&self, timeouts: &Timeouts) -> Option<(Instant, &'static str)> {
        if self.in_flight.load(Relaxed) > 0 {
            return None;
        }
        let waiting = self.waiting.load(Relaxed);
        let since = self.opened + Duration::from_nanos(waiting >> 1);
        Some(if waiting & IDLE != 0 {
            (since + timeouts.keepalive_idle, "the next request")
        } else {
            (since + timeouts.header_read, "request headers")
        })
    }
}

/// A request in flight: from its headers until its response has been written (or abandoned).
pub(super) struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let activity = &self.0;
        if activity.in_flight.fetch_sub(1, Relaxed) == 1 {
            activity.waiting.store(activity.now_shifted() | IDLE, Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIMEOUTS: Timeouts =
        Timeouts { header_read: Duration::from_secs(10), keepalive_idle: Duration::from_secs(60) };

    #[test]
    fn a_new_connection_waits_for_headers_from_its_opening() {
        let activity = Arc::new(Activity::new());
        let (deadline, waiting_for) = activity.deadline(&TIMEOUTS).unwrap();
        assert_eq!(deadline, activity.opened + TIMEOUTS.header_read);
        assert_eq!(waiting_for, "request headers");
        activity.bytes_arrived();
        assert_eq!(
            activity.deadline(&TIMEOUTS).unwrap().0,
            activity.opened + TIMEOUTS.header_read,
            "not reset by bytes"
        );
    }

    #[test]
    fn a_request_in_flight_has_no_deadline_and_its_end_starts_the_idle_one() {
        let activity = Arc::new(Activity::new());
        let in_flight = activity.request_started();
        activity.bytes_arrived();
        assert!(activity.deadline(&TIMEOUTS).is_none());
        let ended = Instant::now();
        drop(in_flight);
        let (deadline, waiting_for) = activity.deadline(&TIMEOUTS).unwrap();
        assert_eq!(waiting_for, "the next request");
        assert!(deadline >= ended + TIMEOUTS.keepalive_idle && deadline <= Instant::now() + TIMEOUTS.keepalive_idle);
    }

    #[test]
    fn the_next_requests_first_bytes_start_its_header_deadline() {
        let activity = Arc::new(Activity::new());
        drop(activity.request_started());
        let arrived = Instant::now();
        activity.bytes_arrived();
        let (deadline, waiting_for) = activity.deadline(&TIMEOUTS).unwrap();
        assert_eq!(waiting_for, "request headers");
        assert!(deadline >= arrived + TIMEOUTS.header_read && deadline <= Instant::now() + TIMEOUTS.header_read);
    }
}
