//! What this instance has declared to the database so that changes are captured for it: its
//! interest (`live_interest`) and its readers, the users it has subscriptions for
//! (`live_reader`), kept up to date while it has subscribers and withdrawn when it has none.

use super::Hub;
use lib_model::live::{self, INTEREST_LASTS};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A declared interest is renewed when it would lapse within this.
const RENEW_WITHIN: Duration = Duration::from_secs(30);
/// This instance's clock and the database's may differ by this much at most, as far as the
/// interest's deadline goes.
const INTEREST_MARGIN: Duration = Duration::from_secs(5);

/// What this instance has declared in `live_interest` and `live_reader`.
#[derive(Default)]
pub(super) struct Interest {
    /// Until when (by this clock, with a margin) it lasts; `None` when none is declared.
    until: Option<Instant>,
    /// The users whose changes are captured for this instance: those with subscriptions here,
    /// and, until the next renewal, those whose last one went.
    readers: HashSet<i64>,
}

impl Hub {
    /// Makes sure `user_id`'s changes are captured and read for this instance for a while yet:
    /// declares the instance's interest, with `user_id` among its readers, when the user is not
    /// one yet or the interest lapses within [`RENEW_WITHIN`] (waiting, for a new reader, for
    /// the writes in flight that may not be captured, and the first time for reading to begin).
    /// The caller adds its subscription before letting go of the answer, so that
    /// [`Hub::keep_interest`] never withdraws a reader between the two.
    pub(super) async fn want_changes(&self, user_id: i64) -> lib_model::Result<tokio::sync::MutexGuard<'_, Interest>> {
        let mut interest = self.interest.lock().await;
        let now = Instant::now();
        let lapsed = interest.until.is_none_or(|until| until <= now);
        if lapsed {
            if interest.until.is_some() {
                // It lapsed before `keep_interest` saw it: the subscriptions here may have
                // missed changes, and the readers declared anew are this user alone.
                self.restart_subscribers();
            }
            interest.readers.clear();
        }
        let new_reader = !interest.readers.contains(&user_id);
        if !new_reader && interest.until.is_some_and(|until| until > now + RENEW_WITHIN) {
            return Ok(interest);
        }
        let mut readers: Vec<i64> = interest.readers.iter().copied().chain([user_id]).collect();
        readers.sort_unstable();
        readers.dedup();
        live::declare_interest(&self.mm, &self.instance, &readers, new_reader).await?;
        if lapsed {
            live::start_reading(&self.mm).await?;
        }
        interest.readers.insert(user_id);
        interest.until = Some(now + INTEREST_LASTS - INTEREST_MARGIN);
        Ok(interest)
    }

    /// While this instance has subscriptions, keeps its interest declared, and its readers those
    /// users who still subscribe; withdraws it (and stops reading) once it has none. If the
    /// declaration lapsed meanwhile (the database did not answer), changes may have gone
    /// uncaptured: the subscribers start over.
    pub(super) async fn keep_interest(self: Arc<Self>) {
        let mut every = tokio::time::interval(RENEW_WITHIN / 2);
        loop {
            every.tick().await;
            self.tend_interest().await;
        }
    }

    /// One look of [`Hub::keep_interest`]'s.
    async fn tend_interest(&self) {
        let mut interest = self.interest.lock().await;
        let subscribed: HashSet<i64> =
            self.registry().subscriptions.values().flat_map(HashMap::values).map(|entry| entry.user_id).collect();
        let now = Instant::now();
        match interest.until {
            None => {}
            Some(_) if subscribed.is_empty() => {
                live::stop_reading(&self.mm);
                if live::withdraw_interest(&self.mm, &self.instance).await.is_ok() {
                    *interest = Interest::default();
                }
            }
            Some(until) if until <= now => {
                *interest = Interest::default();
                drop(interest);
                self.restart_subscribers();
            }
            Some(until) if until > now + RENEW_WITHIN && subscribed == interest.readers => {}
            Some(_) => {
                let readers: Vec<i64> = subscribed.iter().copied().collect();
                match live::declare_interest(&self.mm, &self.instance, &readers, false).await {
                    Ok(()) => {
                        interest.until = Some(now + INTEREST_LASTS - INTEREST_MARGIN);
                        interest.readers = subscribed;
                    }
                    Err(error) => tracing::warn!(%error, "could not renew this instance's interest in changes"),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::CloseCode;
    use lib_model::sqlx::{self, Connection as _, PgConnection};
    use lib_model::test_support::TestDb;
    use lib_rpc::live::{LiveEntity, Subscriptions as _};

    /// The readers declared in the database, and whether any interest is.
    async fn declared(db: &TestDb) -> (Vec<i64>, bool) {
        let mut conn = PgConnection::connect(db.url()).await.unwrap();
        let readers =
            sqlx::query_scalar("SELECT user_id FROM live_reader ORDER BY user_id").fetch_all(&mut conn).await.unwrap();
        let interest = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM live_interest)").fetch_one(&mut conn).await;
        (readers, interest.unwrap())
    }

    #[tokio::test]
    async fn the_readers_are_the_users_who_subscribe_and_the_interest_goes_with_the_last() {
        let db = TestDb::new().await;
        let mm = db.mm();
        tokio::spawn(lib_model::notifications::run_listener(mm.clone()));
        let hub = Arc::new(Hub::new(&db.config(), mm));
        let (alice, bob) = (hub.open(1).unwrap(), hub.open(2).unwrap());
        let alices = alice.registration.subscribe(LiveEntity::Task, None).await.unwrap();
        bob.registration.subscribe(LiveEntity::Project, None).await.unwrap();
        assert_eq!(declared(&db).await, (vec![1, 2], true));

        hub.tend_interest().await;
        assert_eq!(declared(&db).await, (vec![1, 2], true), "both still subscribe");

        assert!(alice.registration.unsubscribe(&alices));
        hub.tend_interest().await;
        assert_eq!(declared(&db).await, (vec![2], true), "alice's last subscription went");

        drop(bob);
        hub.tend_interest().await;
        assert_eq!(declared(&db).await, (vec![], false), "no subscription left: nothing declared");
    }

    #[tokio::test]
    async fn an_interest_that_lapsed_unnoticed_restarts_the_subscribers_before_the_next_declaration() {
        let db = TestDb::new().await;
        let mm = db.mm();
        tokio::spawn(lib_model::notifications::run_listener(mm.clone()));
        let hub = Arc::new(Hub::new(&db.config(), mm));
        let (alice, bob) = (hub.open(1).unwrap(), hub.open(2).unwrap());
        alice.registration.subscribe(LiveEntity::Task, None).await.unwrap();
        // As if the database had not answered the renewals for a minute.
        hub.interest.lock().await.until = Some(Instant::now() - Duration::from_secs(1));

        bob.registration.subscribe(LiveEntity::Task, None).await.unwrap();
        assert_eq!(*alice.close.borrow(), Some(CloseCode::TryAgainLater), "alice may have missed changes");
        assert_eq!(declared(&db).await, (vec![2], true), "declared anew: bob alone");
    }
}
