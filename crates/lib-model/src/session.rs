//! Server-side sessions: a random token in the cookie, its hash in the database, an idle and an
//! absolute deadline. Live sessions are served from an in-process cache (see `session_cache`);
//! a trigger on the table announces every deleted row, so that every instance forgets it.

use crate::session_cache::SessionRecord;
use crate::statement_span::{Timed as _, statement_span};
use crate::store::Policy;
use crate::{ModelManager, Result};
use lib_auth::{SessionToken, TokenHash};
use lib_core::Ctx;
use sqlx::PgExecutor;
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
        insert(mm.db(), mm.policy(), user_id, None)
            .await?
            .ok_or(crate::Error::EntityNotFound { entity: "user", id: user_id })
    }

    /// Starts a session only if the user's stored password hash is still `verified_hash`, in the
    /// same statement: a password change between the check and now leaves no session behind.
    pub async fn create_if_pwd(mm: &ModelManager, user_id: i64, verified_hash: &str) -> Result<Option<NewSession>> {
        insert(mm.db(), mm.policy(), user_id, Some(verified_hash)).await
    }

    /// The context of a live session, or `None` for an unknown, expired or malformed token.
    /// Activity pushes the idle deadline forward, writing only when it has moved noticeably.
    /// Whether the session of `token` is still valid, without counting the question as the
    /// user's activity (an open socket asks every second; its idle deadline must still pass).
    /// From the cache when it holds the session, else from the database.
    pub async fn is_live(mm: &ModelManager, token: &str) -> Result<bool> {
        let Some(token) = SessionToken::parse(token) else {
            return Ok(false);
        };
        let hash = token.hash();
        let now = mm.policy().clock.now();
        let live = |record: &SessionRecord| now < record.expires_at && now < record.idle_expires_at;
        if let Some(record) = mm.sessions().get(&hash)
            && live(&record)
        {
            return Ok(true);
        }
        // Not cached, or cached as expired: another instance may have moved its idle deadline.
        Ok(fetch(mm, &hash).await?.is_some_and(|record| live(&record)))
    }

    pub async fn resolve(mm: &ModelManager, token: &str) -> Result<Option<Ctx>> {
        let Some(token) = SessionToken::parse(token) else {
            return Ok(None);
        };
        let hash = token.hash();
        let cache = mm.sessions();
        let policy = mm.policy();
        let now = policy.clock.now();
        let expired = |record: &SessionRecord| now >= record.expires_at || now >= record.idle_expires_at;
        let cached = cache.get(&hash).filter(|record| !expired(record));
        // A cached record that looks expired is read again: another instance may have pushed its
        // idle deadline forward (those writes are not announced).
        let (mut record, read_at_generation) = match cached {
            Some(record) => (record, None),
            None => {
                let generation = cache.generation();
                match fetch(mm, &hash).await? {
                    Some(record) => (record, Some(generation)),
                    None => return Ok(None),
                }
            }
        };
        if expired(&record) {
            delete_expired(mm, record.id, now).await?;
            return Ok(None);
        }
        let extended = (now + policy.session_idle).min(record.expires_at);
        if extended - record.idle_expires_at > touch_interval(policy.session_idle) {
            let touch = "UPDATE session SET idle_expires_at = $1 WHERE id = $2";
            let touched = sqlx::query(touch)
                .bind(extended)
                .bind(record.id)
                .execute(mm.db())
                .timed(statement_span(touch))
                .await?
                .rows_affected();
            // No row: the session was deleted since it was cached or read (its user deleted, an
            // operator's SQL) and the notification has not arrived yet. It has ended.
            if touched == 0 {
                cache.revoke(record.id);
                return Ok(None);
            }
            record.idle_expires_at = extended;
            cache.update(&hash, record);
        }
        if let Some(generation) = read_at_generation {
            cache.insert_if_current(generation, hash, record);
        }
        Ok(Some(Ctx::new(record.user_id, record.id)))
    }

    /// Ends the session of `token` (logoff). An unknown token is not an error.
    pub async fn delete(mm: &ModelManager, token: &str) -> Result<()> {
        if let Some(token) = SessionToken::parse(token) {
            delete_where(mm, "token_hash = $1", token.hash().as_bytes()).await?;
        }
        Ok(())
    }

    /// Removes sessions past either deadline, stale throttling windows and unused devices;
    /// returns how many sessions went.
    pub async fn purge_expired(mm: &ModelManager) -> Result<u64> {
        let policy = mm.policy();
        let now = policy.clock.now();
        mm.sessions().purge(now);
        let purged = sqlx::query("DELETE FROM session WHERE expires_at <= $1 OR idle_expires_at <= $1")
            .bind(now)
            .execute(mm.db())
            .await?
            .rows_affected();
        crate::login::purge_stale(mm).await?;
        Ok(purged)
    }
}

/// Inserts a session for `user_id` with a fresh token, only if the user exists and (when given)
/// its password hash is still `verified_hash`. The user's row is read `FOR SHARE`: a password
/// change in progress makes this wait and then see the new hash, and one that starts after this
/// waits for it to commit and then deletes the session it made (see `UserBmc::change_pwd`).
pub(crate) async fn insert<'c>(
    db: impl PgExecutor<'c>,
    policy: &Policy,
    user_id: i64,
    verified_hash: Option<&str>,
) -> Result<Option<NewSession>> {
    let now = policy.clock.now();
    let token = SessionToken::generate();
    let sql = r#"INSERT INTO session (token_hash, user_id, ctime, expires_at, idle_expires_at)
           SELECT $1, id, $3, $4, $5 FROM "user" WHERE id = $2 AND ($6::text IS NULL OR pwd = $6) FOR SHARE"#;
    let inserted = sqlx::query(sql)
        .bind(token.hash().as_bytes())
        .bind(user_id)
        .bind(now)
        .bind(now + policy.session_max)
        .bind(now + policy.session_idle)
        .bind(verified_hash)
        .execute(db)
        .timed(statement_span(sql))
        .await?
        .rows_affected();
    Ok((inserted == 1).then_some(NewSession { token, max_age: policy.session_max }))
}

async fn fetch(mm: &ModelManager, hash: &TokenHash) -> Result<Option<SessionRecord>> {
    let sql = "SELECT id, user_id, token_hash, expires_at, idle_expires_at FROM session WHERE token_hash = $1";
    let row: Option<(i64, i64, Vec<u8>, OffsetDateTime, OffsetDateTime)> =
        sqlx::query_as(sql).bind(hash.as_bytes()).fetch_optional(mm.db()).timed(statement_span(sql)).await?;
    Ok(row.filter(|(.., stored, _, _)| hash.matches(stored)).map(|(id, user_id, _, expires_at, idle_expires_at)| {
        SessionRecord { id, user_id, expires_at, idle_expires_at }
    }))
}

/// Deletes session `id` if it is past a deadline by the database's own record.
async fn delete_expired(mm: &ModelManager, id: i64, now: OffsetDateTime) -> Result<()> {
    let condition = "id = $1 AND (expires_at <= $2 OR idle_expires_at <= $2)";
    let sql = deleting(condition);
    let span = statement_span(&sql);
    let revoked: Vec<i64> =
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(id).bind(now).fetch_all(mm.db()).timed(span).await?;
    revoked.into_iter().for_each(|id| mm.sessions().revoke(id));
    Ok(())
}

/// Deletes the sessions matching `condition` (one `$1` parameter).
async fn delete_where<'q, T>(mm: &ModelManager, condition: &'static str, value: T) -> Result<()>
where
    T: 'q + sqlx::Encode<'q, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send,
{
    let sql = deleting(condition);
    let span = statement_span(&sql);
    let revoked: Vec<i64> =
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(value).fetch_all(mm.db()).timed(span).await?;
    revoked.into_iter().for_each(|id| mm.sessions().revoke(id));
    Ok(())
}

/// A deletion answering the deleted ids. The table's trigger announces them to every instance
/// (this one included) at commit; the caller also drops them from this instance's cache at once,
/// so that the next request here is refused without waiting for the notification.
fn deleting(condition: &'static str) -> String {
    format!("DELETE FROM session WHERE {condition} RETURNING id")
}

/// How far the idle deadline must move before it is written: a tenth of the idle lifetime, at
/// most a minute. A session's idle end can thus be early by that much, never late.
fn touch_interval(idle: Duration) -> Duration {
    (idle / 10).min(Duration::from_secs(60))
}
