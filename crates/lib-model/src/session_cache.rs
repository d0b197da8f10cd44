//! The in-process session cache: a valid session costs no query per request.
//!
//! Correctness across server instances rests on Postgres `LISTEN/NOTIFY`: a trigger on the
//! `session` table sends the id of every deleted row on [`REVOKED_CHANNEL`] (`*` for a TRUNCATE),
//! whatever deleted it, and each instance's listener ([`run_listener`]) drops them from its cache,
//! typically within milliseconds. The cache is used
//! only while that listener is connected; whenever it is not, the cache is emptied and every
//! request reads the database, so a missed notification can never keep a revoked session alive.

use lib_auth::TokenHash;
use std::collections::HashMap;
use std::sync::Mutex;
use time::OffsetDateTime;

/// The channel on which deleted session ids are announced.
pub(crate) const REVOKED_CHANNEL: &str = "session_revoked";

/// More sessions than this are not worth the memory: the cache starts over.
const MAX_ENTRIES: usize = 100_000;

#[derive(Debug, Clone, Copy)]
pub(crate) struct SessionRecord {
    pub(crate) id: i64,
    pub(crate) user_id: i64,
    pub(crate) expires_at: OffsetDateTime,
    pub(crate) idle_expires_at: OffsetDateTime,
}

#[derive(Default)]
pub(crate) struct SessionCache {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    enabled: bool,
    by_hash: HashMap<TokenHash, SessionRecord>,
    by_id: HashMap<i64, TokenHash>,
    /// Moves on every revocation, so a record read from the database before a revocation
    /// arrived is not cached after it ([`SessionCache::insert_if_current`]).
    generation: u64,
}

impl SessionCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn get(&self, hash: &TokenHash) -> Option<SessionRecord> {
        let inner = self.lock();
        if inner.enabled { inner.by_hash.get(hash).copied() } else { None }
    }

    /// How many sessions it holds.
    pub(crate) fn len(&self) -> usize {
        self.lock().by_hash.len()
    }

    /// Whether the cache is in use (its listener is connected).
    pub(crate) fn is_enabled(&self) -> bool {
        self.lock().enabled
    }

    pub(crate) fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// Caches `record` unless a revocation arrived since `generation` was read.
    pub(crate) fn insert_if_current(&self, generation: u64, hash: TokenHash, record: SessionRecord) {
        let mut inner = self.lock();
        if !inner.enabled || inner.generation != generation {
            return;
        }
        if inner.by_hash.len() >= MAX_ENTRIES {
            inner.by_hash.clear();
            inner.by_id.clear();
        }
        inner.by_id.insert(record.id, hash);
        inner.by_hash.insert(hash, record);
    }

    /// Updates a cached record (a moved idle deadline); absent records stay absent.
    pub(crate) fn update(&self, hash: &TokenHash, record: SessionRecord) {
        if let Some(cached) = self.lock().by_hash.get_mut(hash) {
            *cached = record;
        }
    }

    pub(crate) fn revoke(&self, session_id: i64) {
        let mut inner = self.lock();
        inner.generation += 1;
        if let Some(hash) = inner.by_id.remove(&session_id) {
            inner.by_hash.remove(&hash);
        }
    }

    /// Forgets every session: the table was truncated.
    pub(crate) fn revoke_all(&self) {
        let mut inner = self.lock();
        inner.generation += 1;
        inner.by_hash.clear();
        inner.by_id.clear();
    }

    /// Drops sessions past either deadline.
    pub(crate) fn purge(&self, now: OffsetDateTime) {
        let mut inner = self.lock();
        let Inner { by_hash, by_id, .. } = &mut *inner;
        by_hash.retain(|_, record| {
            let live = now < record.expires_at && now < record.idle_expires_at;
            if !live {
                by_id.remove(&record.id);
            }
            live
        });
    }

    /// Starts (true) or stops (false) using the cache; either way it starts empty.
    pub(crate) fn set_enabled(&self, enabled: bool) {
        let mut inner = self.lock();
        inner.enabled = enabled;
        inner.generation += 1;
        inner.by_hash.clear();
        inner.by_id.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn record(id: i64) -> SessionRecord {
        let now = OffsetDateTime::now_utc();
        SessionRecord {
            id,
            user_id: 7,
            expires_at: now + Duration::from_secs(60),
            idle_expires_at: now + Duration::from_secs(30),
        }
    }

    fn hash() -> TokenHash {
        lib_auth::SessionToken::generate().hash()
    }

    #[test]
    fn nothing_is_cached_while_the_listener_is_down() {
        let cache = SessionCache::default();
        let h = hash();
        cache.insert_if_current(cache.generation(), h, record(1));
        assert!(cache.get(&h).is_none());
    }

    #[test]
    fn a_revocation_removes_the_session() {
        let cache = SessionCache::default();
        cache.set_enabled(true);
        let h = hash();
        cache.insert_if_current(cache.generation(), h, record(1));
        assert_eq!(cache.get(&h).map(|r| r.id), Some(1));
        cache.revoke(1);
        assert!(cache.get(&h).is_none());
    }

    #[test]
    fn a_record_read_before_a_revocation_is_not_cached_after_it() {
        let cache = SessionCache::default();
        cache.set_enabled(true);
        let h = hash();
        let before = cache.generation();
        cache.revoke(1); // arrives while the request was reading the database
        cache.insert_if_current(before, h, record(1));
        assert!(cache.get(&h).is_none());
    }

    #[test]
    fn losing_the_listener_empties_the_cache() {
        let cache = SessionCache::default();
        cache.set_enabled(true);
        let h = hash();
        cache.insert_if_current(cache.generation(), h, record(1));
        cache.set_enabled(false);
        cache.set_enabled(true);
        assert!(cache.get(&h).is_none());
    }

    #[test]
    fn a_truncation_forgets_every_session() {
        let cache = SessionCache::default();
        cache.set_enabled(true);
        let (one, two) = (hash(), hash());
        cache.insert_if_current(cache.generation(), one, record(1));
        cache.insert_if_current(cache.generation(), two, record(2));
        cache.revoke_all();
        assert!(cache.get(&one).is_none() && cache.get(&two).is_none());
    }

    /// A record with the given deadlines, in seconds after `t0`.
    fn expiring(id: i64, t0: OffsetDateTime, expires: u64, idle_expires: u64) -> SessionRecord {
        SessionRecord {
            id,
            user_id: 7,
            expires_at: t0 + Duration::from_secs(expires),
            idle_expires_at: t0 + Duration::from_secs(idle_expires),
        }
    }

    #[test]
    fn purge_drops_sessions_past_either_deadline_and_keeps_live_ones() {
        let cache = SessionCache::default();
        cache.set_enabled(true);
        let t0 = OffsetDateTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let records = [
            ("live", expiring(1, t0, 60, 30)),
            ("idle", expiring(2, t0, 60, 10)),
            ("expired", expiring(3, t0, 10, 30)),
            ("idle exactly now", expiring(4, t0, 60, 20)),
        ];
        let hashes: Vec<_> = records
            .iter()
            .map(|(_, record)| {
                let h = hash();
                cache.insert_if_current(cache.generation(), h, *record);
                h
            })
            .collect();

        cache.purge(t0 + Duration::from_secs(20));
        let kept: Vec<_> =
            records.iter().zip(&hashes).filter(|(_, h)| cache.get(h).is_some()).map(|((name, _), _)| *name).collect();
        assert_eq!(kept, ["live"], "a deadline reached is a deadline passed");
        assert_eq!(cache.lock().by_id.keys().copied().collect::<Vec<_>>(), [1], "purged ids are forgotten too");
        assert_eq!(cache.get(&hashes[0]).map(|r| r.id), Some(1), "the live record is the one kept, unchanged");

        cache.purge(t0 + Duration::from_secs(30));
        assert!(cache.get(&hashes[0]).is_none(), "then it goes too, at its idle deadline");
    }
}
