//! What an instance follows in the database besides requests: its one `LISTEN` connection, for
//! revoked sessions (while it is down, notifications may be missed, so the session cache is
//! off and every request reads the database); the reading of live changes ([`crate::live`]);
//! and the forgetting of old ones.

use crate::ModelManager;
use crate::live;
use crate::session_cache::REVOKED_CHANNEL;
use sqlx::postgres::PgListener;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How often this instance forgets changes every instance has had time to read.
const PURGE_EVERY: Duration = Duration::from_secs(60);

/// Listens for as long as the returned future runs (spawn it), reconnecting after a lost
/// connection; meanwhile reads live changes while they are wanted, and forgets the changes every
/// instance has had time to read.
pub async fn run_listener(mm: ModelManager) {
    tokio::join!(listen(mm.clone()), live::read_changes(mm.clone()), forget_old_changes(mm));
}

async fn listen(mm: ModelManager) {
    let cache = mm.sessions();
    loop {
        if let Ok(mut listener) = PgListener::connect_with(mm.listen_pool()).await
            && listener.listen(REVOKED_CHANNEL).await.is_ok()
        {
            cache.set_enabled(true);
            // `Ok(None)` means the connection was lost; notifications may have been missed.
            while let Ok(Some(notification)) = listener.try_recv().await {
                on_revoked(&mm, notification.payload());
            }
            cache.set_enabled(false);
            tracing::warn!("the LISTEN connection was lost; reading sessions from the database");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Every [`PURGE_EVERY`], notes the last change written, and forgets those noted
/// [`live::KEPT_FOR`] ago: a range of the primary key, however large the table.
async fn forget_old_changes(mm: ModelManager) {
    let mut noted: VecDeque<(Instant, i64)> = VecDeque::new();
    let mut every = tokio::time::interval(PURGE_EVERY);
    loop {
        every.tick().await;
        let now = Instant::now();
        if let Ok(Some(last)) = live::last_change(&mm).await {
            noted.push_back((now, last));
        }
        let mut through = None;
        while noted.front().is_some_and(|(at, _)| now.duration_since(*at) >= live::KEPT_FOR) {
            through = noted.pop_front().map(|(_, seq)| seq);
        }
        if let Some(seq) = through
            && let Err(error) = live::forget_through(&mm, seq).await
        {
            tracing::warn!(%error, "could not forget old live changes");
        }
    }
}

fn on_revoked(mm: &ModelManager, payload: &str) {
    let cache = mm.sessions();
    match payload {
        "*" => cache.revoke_all(),
        session_id => {
            if let Ok(session_id) = session_id.parse::<i64>() {
                cache.revoke(session_id);
            }
        }
    }
}
