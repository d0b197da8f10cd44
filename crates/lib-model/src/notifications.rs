//! The instance's one `LISTEN` connection: revoked sessions for the session cache, and batches
//! of changes for live updates ([`crate::live`]).
//!
//! While the connection is down, announcements may be missed: the session cache is off (every
//! request reads the database) and the live feed says [`LiveEvent::Lost`], so that whoever
//! follows it starts over from the current rows.

use crate::ModelManager;
use crate::live::{self, LiveEvent};
use crate::session_cache::REVOKED_CHANNEL;
use sqlx::postgres::PgListener;
use std::time::Duration;

/// How often this instance forgets changes every instance has had time to read.
const PURGE_EVERY: Duration = Duration::from_secs(60);

/// Listens for as long as the returned future runs (spawn it), reconnecting after a lost
/// connection.
pub async fn run_listener(mm: ModelManager) {
    let cache = mm.sessions();
    let mut purge = tokio::time::interval(PURGE_EVERY);
    loop {
        if let Ok(mut listener) = PgListener::connect_with(mm.listen_pool()).await
            && listener.listen_all([REVOKED_CHANNEL, live::CHANNEL]).await.is_ok()
        {
            cache.set_enabled(true);
            // Anything announced before this connection listened is gone.
            mm.announce(LiveEvent::Lost);
            loop {
                tokio::select! {
                    received = listener.try_recv() => match received {
                        Ok(Some(notification)) => on_notification(&mm, notification.channel(), notification.payload()),
                        // `Ok(None)`: the connection was lost; notifications may have been missed.
                        _ => break,
                    },
                    _ = purge.tick() => {
                        if let Err(error) = live::purge(&mm).await {
                            tracing::warn!(%error, "could not purge old live changes");
                        }
                    }
                }
            }
            cache.set_enabled(false);
            mm.announce(LiveEvent::Lost);
            tracing::warn!("the LISTEN connection was lost; reading sessions from the database");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

fn on_notification(mm: &ModelManager, channel: &str, payload: &str) {
    let cache = mm.sessions();
    match (channel, payload) {
        (REVOKED_CHANNEL, "*") => cache.revoke_all(),
        (REVOKED_CHANNEL, session_id) => {
            if let Ok(session_id) = session_id.parse::<i64>() {
                cache.revoke(session_id);
            }
        }
        (_, payload) => {
            if let Some(event) = LiveEvent::parse(payload) {
                mm.announce(event);
            }
        }
    }
}
