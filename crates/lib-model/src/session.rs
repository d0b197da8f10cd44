//! Server-side sessions: a random token in the cookie, its hash in the database, an idle and an
//! absolute deadline.

use crate::{ModelManager, Result};
use lib_auth::SessionToken;
use lib_core::Ctx;
use std::time::Duration;
use time::OffsetDateTime;

/// A new session: the token for the cookie and how long the cookie should live.
#[derive(Debug)]
pub struct NewSession {
    pub token: SessionToken,
    pub max_age: Duration,
}

pub struct SessionBmc;

impl SessionBmc {
    /// Starts a session for `user_id` with a fresh token; the client never chooses it.
    pub async fn create(mm: &ModelManager, user_id: i64) -> Result<NewSession> {
        let policy = mm.policy();
        let now = policy.clock.now();
        let token = SessionToken::generate();
        sqlx::query(
            "INSERT INTO session (token_hash, user_id, ctime, expires_at, idle_expires_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token.hash().as_bytes())
        .bind(user_id)
        .bind(now)
        .bind(now + policy.session_max)
        .bind(now + policy.session_idle)
        .execute(mm.db())
        .await?;
        Ok(NewSession { token, max_age: policy.session_max })
    }

    /// The context of a live session, or `None` for an unknown, expired or malformed token.
    /// Activity pushes the idle deadline forward, writing only when it has moved noticeably.
    pub async fn resolve(mm: &ModelManager, token: &str) -> Result<Option<Ctx>> {
        let Some(token) = SessionToken::parse(token) else {
            return Ok(None);
        };
        let hash = token.hash();
        let row: Option<(i64, i64, Vec<u8>, OffsetDateTime, OffsetDateTime)> = sqlx::query_as(
            "SELECT id, user_id, token_hash, expires_at, idle_expires_at FROM session WHERE token_hash = $1",
        )
        .bind(hash.as_bytes())
        .fetch_optional(mm.db())
        .await?;
        let Some((id, user_id, stored_hash, expires_at, idle_expires_at)) = row else {
            return Ok(None);
        };
        if !hash.matches(&stored_hash) {
            return Ok(None);
        }

        let policy = mm.policy();
        let now = policy.clock.now();
        if now >= expires_at || now >= idle_expires_at {
            sqlx::query("DELETE FROM session WHERE id = $1").bind(id).execute(mm.db()).await?;
            return Ok(None);
        }
        let extended = (now + policy.session_idle).min(expires_at);
        if extended - idle_expires_at > touch_interval(policy.session_idle) {
            sqlx::query("UPDATE session SET idle_expires_at = $1 WHERE id = $2")
                .bind(extended)
                .bind(id)
                .execute(mm.db())
                .await?;
        }
        Ok(Some(Ctx::new(user_id, id)))
    }

    /// Ends the session of `token` (logoff). An unknown token is not an error.
    pub async fn delete(mm: &ModelManager, token: &str) -> Result<()> {
        if let Some(token) = SessionToken::parse(token) {
            sqlx::query("DELETE FROM session WHERE token_hash = $1")
                .bind(token.hash().as_bytes())
                .execute(mm.db())
                .await?;
        }
        Ok(())
    }

    /// Ends every session of `user_id` except `keep`.
    pub async fn delete_others(mm: &ModelManager, user_id: i64, keep: Option<i64>) -> Result<()> {
        sqlx::query("DELETE FROM session WHERE user_id = $1 AND id IS DISTINCT FROM $2")
            .bind(user_id)
            .bind(keep)
            .execute(mm.db())
            .await?;
        Ok(())
    }

    /// Removes sessions past either deadline and stale throttling windows; returns how many
    /// sessions went.
    pub async fn purge_expired(mm: &ModelManager) -> Result<u64> {
        let policy = mm.policy();
        let now = policy.clock.now();
        let purged = sqlx::query("DELETE FROM session WHERE expires_at <= $1 OR idle_expires_at <= $1")
            .bind(now)
            .execute(mm.db())
            .await?
            .rows_affected();
        sqlx::query("DELETE FROM login_throttle WHERE window_start <= $1")
            .bind(now - policy.login_window)
            .execute(mm.db())
            .await?;
        Ok(purged)
    }
}

/// How far the idle deadline must move before it is written: a tenth of the idle lifetime, at
/// most a minute. A session's idle end can thus be early by that much, never late.
fn touch_interval(idle: Duration) -> Duration {
    (idle / 10).min(Duration::from_secs(60))
}
