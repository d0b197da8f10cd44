//! [`PwdBudget`]: how much password work (argon2 verifications and hashes) one user and one
//! client address may cause on this instance per window, whatever the outcome.
//!
//! It protects this instance's CPU, so it lives in process memory: no database round trip, and
//! nothing written for a client that is already over its budget. Memory is bounded: past
//! [`MAX_KEYS`] keys, stale windows are swept, and if every key is still live the oldest windows
//! are forgotten to make room. Refusing new keys instead would let anyone who fills the map (a
//! few hundred IPv6 blocks trying unknown names) lock every other visitor out; forgetting old
//! windows only lets the owners of those keys, who already waited longest, start anew.

use crate::{Error, ModelManager, Result};
use lib_core::{ClientBlock, Clock, Limit};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use time::OffsetDateTime;

/// About 100 bytes a key: a few MiB at most.
const MAX_KEYS: usize = 50_000;
/// When the map is full of live windows, this share of it (the oldest) is forgotten at once, so
/// that a flood pays the scan once per many new keys rather than once per key.
const EVICT_SHARE: usize = 8;

/// Spends `units` of password work (one per verification or hash about to run) for `user`, from
/// `addr`, before any of it runs and before anything is written; past either budget the answer
/// is [`Error::TooManyAttempts`] and nothing is spent.
pub(crate) fn spend(mm: &ModelManager, user: Option<UserKey<'_>>, addr: Option<IpAddr>, units: u32) -> Result<()> {
    let policy = mm.policy();
    let mut charge = Charge::new().addr(addr, policy.pwd_work_per_addr);
    if let Some(user) = user {
        charge = charge.user(user, policy.pwd_work_per_user);
    }
    mm.pwd_budget().spend(&charge, units).map_err(|retry_after| {
        mm.throttled().count(Limit::PwdWork);
        Error::TooManyAttempts { retry_after }
    })
}

/// One charge: the keys it counts against, each with its limit.
pub(crate) struct Charge {
    keys: Vec<(String, u32)>,
}

impl Charge {
    pub(crate) fn new() -> Self {
        Self { keys: Vec::with_capacity(2) }
    }

    /// Counts against the client address (when known), per [`ClientBlock`](lib_core::ClientBlock).
    pub(crate) fn addr(mut self, addr: Option<IpAddr>, limit: u32) -> Self {
        if let Some(addr) = addr {
            self.keys.push((format!("addr:{}", ClientBlock::of(addr)), limit));
        }
        self
    }

    /// Counts against the user: `user:<id>` when the account is known, `name:<normalised name>`
    /// when not (signup, a login for an unknown name), `device:<id>` for a login from a device
    /// the account has logged in from before (so that others exhausting the account's budget
    /// cannot block its owner there).
    pub(crate) fn user(mut self, user: UserKey<'_>, limit: u32) -> Self {
        let key = match user {
            UserKey::Id(id) => format!("user:{id}"),
            UserKey::Name(name) => format!("name:{name}"),
            UserKey::Device(id) => format!("device:{id}"),
        };
        self.keys.push((key, limit));
        self
    }
}

pub(crate) enum UserKey<'a> {
    Id(i64),
    Name(&'a str),
    /// A device cookie valid for the account being logged into (see [`crate::device`]).
    Device(i64),
}

pub(crate) struct PwdBudget {
    clock: Arc<dyn Clock>,
    window: Duration,
    max_keys: usize,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// key -> (window start, units spent in it).
    spent: HashMap<String, (OffsetDateTime, u32)>,
    last_sweep: Option<OffsetDateTime>,
}

impl PwdBudget {
    pub(crate) fn new(clock: Arc<dyn Clock>, window: Duration) -> Self {
        Self::with_max_keys(clock, window, MAX_KEYS)
    }

    fn with_max_keys(clock: Arc<dyn Clock>, window: Duration, max_keys: usize) -> Self {
        Self { clock, window, max_keys, inner: Mutex::new(Inner::default()) }
    }

    /// Spends `units` against every key of `charge`, or nothing at all: when any key would pass
    /// its limit, answers how long until it has room again.
    pub(crate) fn spend(&self, charge: &Charge, units: u32) -> std::result::Result<(), Duration> {
        let now = self.clock.now();
        let mut inner = self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let live =
            |entry: Option<&(OffsetDateTime, u32)>| entry.copied().filter(|(start, _)| now < *start + self.window);

        let mut wait = None::<Duration>;
        let mut new_keys = 0;
        for (key, limit) in &charge.keys {
            match live(inner.spent.get(key)) {
                Some((start, spent)) if spent.saturating_add(units) > *limit => {
                    let until = Duration::try_from(start + self.window - now).unwrap_or_default();
                    wait = Some(wait.map_or(until, |w| w.max(until)));
                }
                Some(_) => {}
                None if units > *limit => wait = Some(self.window),
                None => new_keys += usize::from(!inner.spent.contains_key(key)),
            }
        }
        if let Some(wait) = wait {
            return Err(wait);
        }
        if inner.spent.len() + new_keys > self.max_keys {
            self.sweep(&mut inner, now);
            if inner.spent.len() + new_keys > self.max_keys {
                self.forget_oldest(&mut inner, new_keys);
            }
        } else if inner.last_sweep.is_none_or(|at| now >= at + self.window) {
            // Now and then even when not full, so that stale keys do not sit until the cap.
            self.sweep(&mut inner, now);
        }
        for (key, _) in &charge.keys {
            let entry = inner.spent.entry(key.clone()).or_insert((now, 0));
            if now >= entry.0 + self.window {
                *entry = (now, 0);
            }
            entry.1 += units;
        }
        Ok(())
    }

    fn sweep(&self, inner: &mut Inner, now: OffsetDateTime) {
        inner.spent.retain(|_, (start, _)| now < *start + self.window);
        inner.last_sweep = Some(now);
    }

    /// Forgets the oldest windows: at least `room` keys, and an eighth of the map.
    fn forget_oldest(&self, inner: &mut Inner, room: usize) {
        let count = room.max(self.max_keys / EVICT_SHARE).min(inner.spent.len());
        if count == 0 {
            return;
        }
        let mut starts: Vec<OffsetDateTime> = inner.spent.values().map(|(start, _)| *start).collect();
        let (_, cutoff, _) = starts.select_nth_unstable(count - 1);
        let cutoff = *cutoff;
        inner.spent.retain(|_, (start, _)| *start > cutoff);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lib_core::ManualClock;

    const WINDOW: Duration = Duration::from_secs(60);

    fn budget(max_keys: usize) -> (PwdBudget, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock::new());
        (PwdBudget::with_max_keys(clock.clone(), WINDOW, max_keys), clock)
    }

    fn charge(addr: &str, user: i64) -> Charge {
        Charge::new().addr(Some(addr.parse().unwrap()), 10).user(UserKey::Id(user), 4)
    }

    #[test]
    fn work_past_the_user_limit_waits_for_the_window() {
        let (budget, clock) = budget(100);
        assert!(budget.spend(&charge("192.0.2.1", 1), 2).is_ok());
        assert!(budget.spend(&charge("192.0.2.1", 1), 2).is_ok());
        let wait = budget.spend(&charge("192.0.2.1", 1), 1).unwrap_err();
        assert_eq!(wait, WINDOW);
        clock.advance(Duration::from_secs(15));
        assert_eq!(budget.spend(&charge("192.0.2.1", 1), 1).unwrap_err(), Duration::from_secs(45));
        clock.advance(Duration::from_secs(45));
        assert!(budget.spend(&charge("192.0.2.1", 1), 1).is_ok());
    }

    #[test]
    fn a_refused_charge_spends_nothing_on_any_key() {
        let (budget, _clock) = budget(100);
        budget.spend(&charge("192.0.2.1", 1), 4).unwrap();
        assert!(budget.spend(&charge("192.0.2.1", 1), 1).is_err());
        // The address was not charged for the refused attempt: 6 more units fit for other users.
        for user in 2..=3 {
            budget.spend(&charge("192.0.2.1", user), 3).unwrap();
        }
        assert!(budget.spend(&charge("192.0.2.1", 4), 1).is_err(), "4 + 6 reached the address limit of 10");
    }

    #[test]
    fn the_address_limit_covers_every_user_from_it() {
        let (budget, _clock) = budget(100);
        for user in 0..10 {
            budget.spend(&charge("192.0.2.1", user), 1).unwrap();
        }
        assert!(budget.spend(&charge("192.0.2.1", 99), 1).is_err());
        assert!(budget.spend(&charge("192.0.2.2", 99), 1).is_ok(), "another address has its own budget");
    }

    #[test]
    fn one_ipv6_block_is_one_address() {
        let (budget, _clock) = budget(100);
        for i in 1..=10 {
            budget.spend(&charge(&format!("2001:db8::{i:x}"), i), 1).unwrap();
        }
        assert!(budget.spend(&charge("2001:db8::ffff:1", 50), 1).is_err());
        assert!(budget.spend(&charge("2001:db8:0:1::1", 50), 1).is_ok());
    }

    #[test]
    fn a_full_map_forgets_its_oldest_windows_and_still_serves_new_keys() {
        let (budget, clock) = budget(4);
        budget.spend(&charge("192.0.2.1", 1), 4).unwrap();
        clock.advance(Duration::from_secs(10));
        budget.spend(&charge("192.0.2.2", 2), 1).unwrap();
        clock.advance(Duration::from_secs(10));
        assert!(budget.spend(&charge("192.0.2.3", 3), 1).is_ok(), "an unseen client is served while the map is full");
        let spent = &budget.inner.lock().unwrap().spent;
        assert!(spent.len() <= 4, "{} keys", spent.len());
        assert!(!spent.contains_key("user:1") && spent.contains_key("user:2"), "the oldest window went first");
    }

    #[test]
    fn a_flood_of_new_keys_never_grows_the_map_past_its_cap() {
        let (budget, _clock) = budget(64);
        for i in 0..1000u32 {
            let addr = std::net::Ipv4Addr::from(0xc000_0200 + i).to_string();
            budget.spend(&charge(&addr, i64::from(i)), 1).unwrap();
            assert!(budget.inner.lock().unwrap().spent.len() <= 64);
        }
    }
}
