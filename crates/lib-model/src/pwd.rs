//! [`PwdService`]: password hashing off the async threads, a bounded number at a time, with
//! signups held to their share of it.

use crate::Result;
use lib_auth::{PwdError, PwdHasher, Verdict};
use lib_core::Config;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::{Semaphore, SemaphorePermit};
use tracing::Instrument as _;

pub(crate) struct PwdService {
    hasher: Arc<CountedHasher>,
    /// Argon2 is CPU-bound by design; a login storm must queue here rather than occupy every
    /// blocking thread and core while other requests wait.
    permits: Semaphore,
    /// A signup takes one of these before its hash takes one of `permits`, so at most half of
    /// `permits` (see [`signup_share`]) are ever held or waited for by signups: a signup flood
    /// queues here, and a login finds the other half free, or is at most behind that half in
    /// the (first-come, first-served) queue of `permits`.
    signup_share: Semaphore,
}

/// Signups' part of `concurrency` hashing permits: half, rounded down, but at least one, or
/// nobody could sign up. With a single permit the share is that permit: signups and logins then
/// take turns on it, and a login waits for at most one signup's hash (no signup queues behind
/// the one that holds the share).
pub(crate) fn signup_share(concurrency: usize) -> usize {
    (concurrency / 2).max(1)
}

impl PwdService {
    pub(crate) fn new(config: &Config) -> Self {
        Self {
            hasher: Arc::new(CountedHasher { inner: PwdHasher::new(config.pwd_key.clone()), runs: AtomicU64::new(0) }),
            permits: Semaphore::new(config.pwd_hash_concurrency),
            signup_share: Semaphore::new(signup_share(config.pwd_hash_concurrency)),
        }
    }

    /// Waits for a place in signups' share of the hashing capacity; a signup holds it until its
    /// hash is done (and its row written).
    pub(crate) async fn signup_share(&self) -> SemaphorePermit<'_> {
        self.signup_share.acquire().await.expect("the semaphore is never closed")
    }

    pub(crate) async fn hash(&self, clear: String) -> Result<String> {
        Ok(self.run(move |hasher| hasher.hash(&clear)).await??)
    }

    /// Verifies `clear` against `stored`; with no stored hash (unknown user) it spends the same
    /// time on a dummy hash and fails.
    pub(crate) async fn verify(
        &self,
        clear: String,
        stored: Option<String>,
    ) -> Result<std::result::Result<Verdict, PwdError>> {
        self.run(move |hasher| match stored {
            Some(stored) => hasher.verify(&clear, &stored),
            None => Err(hasher.verify_dummy(&clear)),
        })
        .await
    }

    /// How many argon2 runs (hashes, verifications, dummy verifications) this service has done.
    #[cfg(feature = "test-support")]
    pub(crate) fn argon2_runs(&self) -> u64 {
        self.hasher.runs.load(Ordering::Relaxed)
    }

    async fn run<T: Send + 'static>(&self, work: impl FnOnce(&CountedHasher) -> T + Send + 'static) -> Result<T> {
        // For traces: the wait for a permit and the hash itself.
        let span = tracing::debug_span!("password hash", otel.name = "password hash");
        async {
            let _permit = self.permits.acquire().await.expect("the semaphore is never closed");
            let hasher = self.hasher.clone();
            Ok(tokio::task::spawn_blocking(move || work(&hasher)).await?)
        }
        .instrument(span)
        .await
    }
}

/// The hasher, counting its argon2 runs where they happen, so that a path that skips one (an
/// unknown user answered without the dummy verification) shows in the count. Only tests read it;
/// the request path pays a relaxed increment beside tens of milliseconds of hashing.
struct CountedHasher {
    inner: PwdHasher,
    runs: AtomicU64,
}

impl CountedHasher {
    fn hash(&self, clear: &str) -> std::result::Result<String, PwdError> {
        self.runs.fetch_add(1, Ordering::Relaxed);
        self.inner.hash(clear)
    }

    fn verify(&self, clear: &str, stored: &str) -> std::result::Result<Verdict, PwdError> {
        self.runs.fetch_add(1, Ordering::Relaxed);
        self.inner.verify(clear, stored)
    }

    fn verify_dummy(&self, clear: &str) -> PwdError {
        self.runs.fetch_add(1, Ordering::Relaxed);
        self.inner.verify_dummy(clear)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::login::LoginBmc;
    use crate::test_support::TestDb;
    use crate::user::{NewPwd, UserBmc, Username};
    use lib_core::SystemClock;
    use std::time::Duration;

    fn service(concurrency: usize) -> PwdService {
        let mut config = Config::development();
        config.pwd_hash_concurrency = concurrency;
        PwdService::new(&config)
    }

    #[test]
    fn signups_get_half_the_permits_and_at_least_one() {
        assert_eq!(signup_share(1), 1);
        for concurrency in 2..=16 {
            let share = signup_share(concurrency);
            assert!(share >= 1 && share * 2 <= concurrency, "{concurrency}: {share}");
            assert_eq!(share, concurrency / 2);
        }
    }

    #[tokio::test]
    async fn every_hash_and_verification_real_or_dummy_is_one_argon2_run() {
        let service = service(2);
        let stored = service.hash("a good password".into()).await.unwrap();
        assert_eq!(service.argon2_runs(), 1);
        assert!(service.verify("a wrong password".into(), Some(stored)).await.unwrap().is_err());
        assert_eq!(service.argon2_runs(), 2);
        assert!(service.verify("a wrong password".into(), None).await.unwrap().is_err());
        assert_eq!(service.argon2_runs(), 3);
    }

    #[tokio::test]
    async fn a_login_verifies_while_signups_hold_their_whole_share_and_hash() {
        let service = service(4);
        // Two signups in their hash: each holds a place in the share and a hashing permit.
        let signups: Vec<_> = [service.signup_share().await, service.signup_share().await]
            .into_iter()
            .map(|share| (share, service.permits.try_acquire().expect("a hashing permit is free")))
            .collect();
        assert!(service.signup_share.try_acquire().is_err(), "a third signup has to wait for its share");
        assert_eq!(service.permits.available_permits(), 2, "the other half stays with logins");

        let stored = service.hash("a good password".into()).await.unwrap();
        let verified = service.verify("a good password".into(), Some(stored)).await.unwrap();
        assert!(verified.is_ok(), "the login's verification ran while the signups held theirs");
        drop(signups);
        assert!(service.signup_share.try_acquire().is_ok(), "the share is free again");
    }

    #[tokio::test]
    async fn a_signup_waits_for_its_share_while_a_login_proceeds() {
        let db = TestDb::new().await;
        let mut config = db.config();
        config.pwd_hash_concurrency = 2;
        let mm = db.mm_with(&config, Arc::new(SystemClock));
        let pwd = NewPwd::parse("pwd", "a good password").unwrap();
        UserBmc::create(&mm, &Username::parse("alice").unwrap(), &pwd).await.unwrap();

        // Another signup holds signups' whole share (one of the two permits).
        let held = mm.pwd().signup_share().await;
        let signup = tokio::spawn({
            let (mm, pwd) = (mm.clone(), pwd.clone());
            async move { UserBmc::signup(&mm, &Username::parse("bob").unwrap(), &pwd, None).await }
        });
        // A bound on a hang, not a timing claim: the login needs no place in the share.
        let login =
            tokio::time::timeout(Duration::from_secs(60), LoginBmc::login(&mm, "alice", "a good password", None));
        login.await.expect("the login did not wait for the signups").expect("the login succeeds");
        assert!(!signup.is_finished(), "the second signup waits for its share");
        drop(held);
        signup.await.unwrap().expect("then it signs up");
    }

    #[tokio::test]
    async fn a_signup_takes_its_place_in_the_share_before_waiting_for_a_hashing_permit() {
        let db = TestDb::new().await;
        let mut config = db.config();
        config.pwd_hash_concurrency = 2;
        let mm = db.mm_with(&config, Arc::new(SystemClock));
        let busy = mm.pwd().permits.acquire_many(2).await.unwrap();
        let signup = tokio::spawn({
            let mm = mm.clone();
            async move {
                let pwd = NewPwd::parse("pwd", "a good password").unwrap();
                UserBmc::signup(&mm, &Username::parse("bob").unwrap(), &pwd, None).await
            }
        });
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while mm.pwd().signup_share.available_permits() > 0 {
            assert!(tokio::time::Instant::now() < deadline, "the signup never took a place in the share");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(!signup.is_finished(), "it waits for a hashing permit, holding its place");
        drop(busy);
        signup.await.unwrap().expect("then it signs up");
        assert_eq!(mm.pwd().signup_share.available_permits(), 1, "and gives its place back");
    }

    #[tokio::test]
    async fn with_one_permit_a_waiting_signup_never_has_another_queued_behind_it() {
        let service = service(1);
        let share = service.signup_share().await;
        assert!(service.signup_share.try_acquire().is_err(), "the one signup place is taken");
        // The signup has not taken the hashing permit yet: a login's verification runs.
        assert!(service.verify("x".repeat(8), None).await.unwrap().is_err());
        drop(share);
    }
}
