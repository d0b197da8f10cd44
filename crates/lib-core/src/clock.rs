//! [`Clock`]: where "now" comes from, so expiry logic can be tested without sleeping.

use std::sync::Mutex;
use std::time::Duration;
use time::OffsetDateTime;

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> OffsetDateTime;
}

/// The real time.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that stands still until a test moves it.
#[derive(Debug)]
pub struct ManualClock(Mutex<OffsetDateTime>);

impl ManualClock {
    /// Starts at the real current time, so stored times stay plausible.
    pub fn new() -> Self {
        Self(Mutex::new(OffsetDateTime::now_utc()))
    }

    pub fn advance(&self, by: Duration) {
        *self.0.lock().expect("the clock's lock is never poisoned") += by;
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().expect("the clock's lock is never poisoned")
    }
}
