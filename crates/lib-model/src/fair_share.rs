//! Each user's fair share of the database: at most `USER_MAX_INFLIGHT` of one user's calls hold a
//! connection at once, per instance.
//!
//! A call past the share waits up to `USER_QUEUE_WAIT_MS` for one of the user's slots and then
//! answers [`Error::TooManyRequests`]; it never waits for the pool while it waits for its slot,
//! so a user with many calls queued holds no more connections than the share. The state is one
//! semaphore per user with a call in flight or waiting: an entry goes as its last holder or waiter
//! does, so the map holds no more users than there are calls.

use crate::{Error, Result};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub(crate) struct FairShare {
    per_user: Mutex<HashMap<i64, Arc<Semaphore>>>,
    max_inflight: usize,
    queue_wait: Duration,
}

/// One of a user's slots, held for as long as the call's connection is in use (see `Lease`).
pub(crate) struct Slot {
    // Field order matters: the permit goes back before the entry is looked at in `drop`.
    permit: Option<OwnedSemaphorePermit>,
    user_id: i64,
    share: Arc<FairShare>,
}

impl FairShare {
    pub(crate) fn new(max_inflight: usize, queue_wait: Duration) -> Self {
        Self { per_user: Mutex::default(), max_inflight, queue_wait }
    }

    /// Takes one of `user_id`'s slots, waiting up to the queue wait for one.
    pub(crate) async fn take(self: &Arc<Self>, user_id: i64) -> Result<Slot> {
        let semaphore = self.semaphore(user_id);
        // A free slot is taken at once: no timer is set up on the common path.
        let permit = match semaphore.clone().try_acquire_owned() {
            Ok(permit) => Some(permit),
            // The entry stays while `semaphore` (a holder of the map's Arc) waits here.
            Err(_) => tokio::time::timeout(self.queue_wait, semaphore.acquire_owned())
                .await
                .ok()
                .and_then(|acquired| acquired.ok()),
        };
        let granted = permit.is_some();
        // Made either way: dropping it without a permit removes the entry if it was the last.
        let slot = Slot { permit, user_id, share: self.clone() };
        if granted { Ok(slot) } else { Err(Error::TooManyRequests { retry_after: self.queue_wait }) }
    }

    /// How many users have a call holding or waiting for a slot.
    #[cfg(test)]
    fn users_tracked(&self) -> usize {
        self.map().len()
    }

    fn semaphore(&self, user_id: i64) -> Arc<Semaphore> {
        self.map().entry(user_id).or_insert_with(|| Arc::new(Semaphore::new(self.max_inflight))).clone()
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Arc<Semaphore>>> {
        // The map is consistent after every statement: a panic elsewhere cannot leave it torn.
        self.per_user.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        drop(self.permit.take());
        let mut map = self.share.map();
        // Clones of the Arc are made only under this lock, so a count of one (the map's own)
        // means no call holds or waits for this user's semaphore any more.
        if map.get(&self.user_id).is_some_and(|semaphore| Arc::strong_count(semaphore) == 1) {
            map.remove(&self.user_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_user_past_the_share_waits_then_is_refused_and_others_are_not_affected() {
        let share = Arc::new(FairShare::new(2, Duration::from_millis(20)));
        let held = [share.take(1).await.unwrap(), share.take(1).await.unwrap()];
        let refused = share.take(1).await.err().expect("a third slot");
        assert!(matches!(refused, Error::TooManyRequests { retry_after } if retry_after == Duration::from_millis(20)));
        let other = share.take(2).await.expect("another user's slot");
        assert_eq!(share.users_tracked(), 2);

        drop(held);
        drop(other);
        assert_eq!(share.users_tracked(), 0, "no entry outlives its last call");
    }

    #[tokio::test]
    async fn a_waiter_gets_the_slot_a_call_gives_back() {
        let share = Arc::new(FairShare::new(1, Duration::from_secs(30)));
        let first = share.take(7).await.unwrap();
        let waiter = tokio::spawn({
            let share = share.clone();
            async move { share.take(7).await.map(drop).is_ok() }
        });
        // The waiter's entry is the same one: it is not removed while someone waits on it.
        for _ in 0..100_000 {
            if Arc::strong_count(&share.semaphore(7)) == 4 {
                break;
            }
            tokio::task::yield_now().await;
        }
        drop(first);
        assert!(waiter.await.unwrap());
        assert_eq!(share.users_tracked(), 0);
    }
}
