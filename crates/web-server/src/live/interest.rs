//! What this instance has declared to the database so that changes are captured for it: its
//! interest (its `live_interest` row) and its readers, the users it has subscriptions for
//! (that row's `readers`), kept up to date while it has subscribers and withdrawn when it has none.

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

/// What this instance has declared in its `live_interest` row.
#[derive(Default)]
pub(super) struct Interest {
    /// Until when (by this clock, with a margin) it lasts; `None` when none is declared.
    until: Option<Instant>,
    /// The users whose changes are captured for this instance: those with subscriptions here,
    /// and, until the next renewal, those whose last one went.
    readers: HashSet<i64>,
    /// Readers whose first subscription still waits for the writes that were in flight when
    /// they were declared: their other subscriptions wait too before they answer.
    settling: HashSet<i64>,
}

/// A subscription on its way in ([`Hub::want_changes`]): until it is dropped (once the
/// subscription is in the registry, or was refused), its user counts as subscribed, so that
/// [`Hub::tend_interest`] keeps them a reader.
pub(super) struct Incoming<'h> {
    hub: &'h Hub,
    user_id: i64,
}

impl Drop for Incoming<'_> {
    fn drop(&mut self) {
        let mut registry = self.hub.registry();
        if let Some(count) = registry.incoming.get_mut(&self.user_id) {
            *count -= 1;
            if *count == 0 {
                registry.incoming.remove(&self.user_id);
            }
        }
    }
}

impl Hub {
    /// Makes sure `user_id`'s changes are captured and read for this instance for a while yet
    /// ([`Hub::declare_reader`]), and, for a new reader, that the writes in flight when they
    /// were declared, which may not be captured for them, have ended. That wait holds no lock:
    /// other subscriptions go on meanwhile. The caller adds its subscription before it drops
    /// the answer.
    pub(super) async fn want_changes(&self, user_id: i64) -> lib_model::Result<Incoming<'_>> {
        *self.registry().incoming.entry(user_id).or_default() += 1;
        let incoming = Incoming { hub: self, user_id };
        if self.declare_reader(user_id).await? {
            live::wait_for_writes_in_flight(&self.mm).await?;
            self.interest.lock().await.settling.remove(&user_id);
        }
        Ok(incoming)
    }

    /// Declares the instance's interest, with `user_id` among its readers, when the user is not
    /// one yet or the interest lapses within [`RENEW_WITHIN`] (and the first time, waits for
    /// reading to begin). Answers whether the caller must wait for the writes in flight: the
    /// user is a new reader, or one whose first wait has not ended.
    async fn declare_reader(&self, user_id: i64) -> lib_model::Result<bool> {
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
            interest.settling.clear();
        }
        let new_reader = !interest.readers.contains(&user_id);
        if new_reader || interest.until.is_none_or(|until| until <= now + RENEW_WITHIN) {
            let mut readers: Vec<i64> = interest.readers.iter().copied().chain([user_id]).collect();
            readers.sort_unstable();
            readers.dedup();
            live::declare_interest(&self.mm, &self.instance, &readers).await?;
            if lapsed {
                live::start_reading(&self.mm).await?;
            }
            interest.readers.insert(user_id);
            interest.until = Some(now + INTEREST_LASTS - INTEREST_MARGIN);
            if new_reader {
                interest.settling.insert(user_id);
            }
        }
        Ok(interest.settling.contains(&user_id))
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

    /// One look of [`Hub::keep_interest`]'s: the readers kept are those still subscribing (or
    /// on their way in); a user is made a reader only by [`Hub::want_changes`], which waits.
    async fn tend_interest(&self) {
        let mut interest = self.interest.lock().await;
        let subscribed: HashSet<i64> = {
            let registry = self.registry();
            let subscribing = registry.subscriptions.values().flat_map(HashMap::values).map(|entry| entry.user_id);
            subscribing.chain(registry.incoming.keys().copied()).collect()
        };
        let now = Instant::now();
        match interest.until {
            None => {}
            Some(_) if subscribed.is_empty() => {
                // Reading stops once the database has let go: otherwise the interest is still
                // declared, and the next subscription would find no reading under way.
                let withdrawn = live::withdraw_interest(&self.mm, &self.instance).await;
                if withdrawn.is_ok() {
                    live::stop_reading(&self.mm);
                    *interest = Interest::default();
                }
            }
            Some(until) if until <= now => {
                *interest = Interest::default();
                drop(interest);
                self.restart_subscribers();
            }
            Some(until) => {
                let kept: HashSet<i64> = interest.readers.intersection(&subscribed).copied().collect();
                if until > now + RENEW_WITHIN && kept == interest.readers {
                    return;
                }
                let readers: Vec<i64> = kept.iter().copied().collect();
                match live::declare_interest(&self.mm, &self.instance, &readers).await {
                    Ok(()) => {
                        interest.until = Some(now + INTEREST_LASTS - INTEREST_MARGIN);
                        interest.settling.retain(|user| kept.contains(user));
                        interest.readers = kept;
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
    use crate::live::{CloseCode, Socket};
    use lib_model::sqlx::{self, Connection as _, PgConnection};
    use lib_model::test_support::TestDb;
    use lib_rpc::live::{LiveEntity, Subscriptions as _};

    /// The readers declared in the database, and whether any interest is.
    async fn declared(db: &TestDb) -> (Vec<i64>, bool) {
        let mut conn = PgConnection::connect(db.url()).await.unwrap();
        let readers = sqlx::query_scalar("SELECT r FROM live_interest, unnest(readers) AS r ORDER BY r")
            .fetch_all(&mut conn)
            .await
            .unwrap();
        let interest = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM live_interest)").fetch_one(&mut conn).await;
        (readers, interest.unwrap())
    }

    /// A hub reading changes, and a socket each for the users 1 (alice) and 2 (bob).
    async fn hub_with_two_sockets(db: &TestDb) -> (Arc<Hub>, Socket, Socket) {
        let mm = db.mm();
        tokio::spawn(lib_model::notifications::run_listener(mm.clone()));
        let hub = Arc::new(Hub::new(&db.config(), mm));
        let (alice, bob) = (hub.open(1).unwrap(), hub.open(2).unwrap());
        (hub, alice, bob)
    }

    #[tokio::test]
    async fn the_readers_are_the_users_who_subscribe_and_the_interest_goes_with_the_last() {
        let db = TestDb::new().await;
        let (hub, alice, bob) = hub_with_two_sockets(&db).await;
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
        let (hub, alice, bob) = hub_with_two_sockets(&db).await;
        alice.registration.subscribe(LiveEntity::Task, None).await.unwrap();
        // As if the database had not answered the renewals for a minute.
        hub.interest.lock().await.until = Some(Instant::now() - Duration::from_secs(1));

        bob.registration.subscribe(LiveEntity::Task, None).await.unwrap();
        assert_eq!(*alice.close.borrow(), Some(CloseCode::TryAgainLater), "alice may have missed changes");
        assert_eq!(declared(&db).await, (vec![2], true), "declared anew: bob alone");
    }

    #[tokio::test]
    async fn a_new_reader_waits_for_the_writes_in_flight_without_holding_up_the_others() {
        let db = TestDb::new().await;
        let (_hub, alice, bob) = hub_with_two_sockets(&db).await;
        bob.registration.subscribe(LiveEntity::Task, None).await.unwrap();

        // A write in flight: a transaction that has its id and has not ended.
        let mut conn = PgConnection::connect(db.url()).await.unwrap();
        let mut open = conn.begin().await.unwrap();
        sqlx::query("SELECT txid_current()").execute(&mut *open).await.unwrap();

        let mut alices = alice.registration.subscribe(LiveEntity::Task, None);
        let waiting = tokio::time::timeout(Duration::from_millis(300), &mut alices).await;
        assert!(waiting.is_err(), "alice, a new reader, waits for the write in flight");
        let bobs = tokio::time::timeout(Duration::from_secs(5), bob.registration.subscribe(LiveEntity::Project, None));
        assert!(bobs.await.expect("bob, a reader already, answers meanwhile").is_ok());

        open.commit().await.unwrap();
        let answered = tokio::time::timeout(Duration::from_secs(5), alices).await;
        assert!(answered.expect("alice answers once the write ended").is_ok());
    }
}
