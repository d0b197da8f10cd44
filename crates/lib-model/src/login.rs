//! Logging in: throttling of failures, one answer for unknown user and wrong password, and the
//! re-hash of outdated password hashes.

use crate::user::UserBmc;
use crate::{Error, ModelManager, Result};
use lib_auth::{PwdError, Verdict};
use std::net::IpAddr;
use std::time::Duration;
use time::OffsetDateTime;

pub struct LoginBmc;

impl LoginBmc {
    /// Checks the credentials and answers the user id.
    ///
    /// Past the failure threshold for the username or for `client` within the window, the answer
    /// is [`Error::TooManyAttempts`] even for the right password. An unknown user costs the same
    /// hashing time as a wrong password, and both answer [`Error::LoginFailed`].
    pub async fn login(mm: &ModelManager, username: &str, pwd: &str, client: Option<IpAddr>) -> Result<i64> {
        let policy = mm.policy();
        // Postgres text cannot hold NUL; such a name cannot exist, but its failures still count.
        let user_key = format!("user:{}", username.to_lowercase().replace('\0', "\u{fffd}"));
        let mut keys = vec![(user_key, policy.login_fails_per_user)];
        if let Some(addr) = client {
            keys.push((format!("addr:{addr}"), policy.login_fails_per_addr));
        }
        check_throttle(mm, &keys).await?;

        let user: Option<(i64, String)> = if username.contains('\0') {
            None
        } else {
            sqlx::query_as(r#"SELECT id, pwd FROM "user" WHERE lower(username) = lower($1)"#)
                .bind(username)
                .fetch_optional(mm.db())
                .await?
        };
        let (user_id, stored) = user.map_or((None, None), |(id, pwd)| (Some(id), Some(pwd)));

        match (user_id, mm.pwd().verify(pwd.to_string(), stored).await?) {
            (Some(user_id), Ok(verdict)) => {
                sqlx::query("DELETE FROM login_throttle WHERE key = $1").bind(&keys[0].0).execute(mm.db()).await?;
                if verdict == Verdict::Outdated {
                    let hash = mm.pwd().hash(pwd.to_string()).await?;
                    UserBmc::set_pwd_hash(mm, user_id, &hash).await?;
                }
                Ok(user_id)
            }
            (_, Ok(_) | Err(PwdError::NotMatching)) => {
                record_failure(mm, &keys).await?;
                Err(Error::LoginFailed)
            }
            (_, Err(other)) => Err(other.into()),
        }
    }
}

/// Refuses with [`Error::TooManyAttempts`] when any key has reached its limit in the window.
pub(crate) async fn check_throttle(mm: &ModelManager, keys: &[(String, u32)]) -> Result<()> {
    let policy = mm.policy();
    let names: Vec<&str> = keys.iter().map(|(key, _)| key.as_str()).collect();
    let rows: Vec<(String, i32, OffsetDateTime)> =
        sqlx::query_as("SELECT key, failures, window_start FROM login_throttle WHERE key = ANY($1)")
            .bind(&names)
            .fetch_all(mm.db())
            .await?;
    let now = policy.clock.now();
    let retry_after = rows
        .iter()
        .filter_map(|(key, failures, window_start)| {
            let limit = keys.iter().find(|(k, _)| k == key)?.1;
            let window_end = *window_start + policy.login_window;
            (*failures >= limit as i32 && window_end > now).then(|| window_end - now)
        })
        .max();
    match retry_after {
        Some(wait) => Err(Error::TooManyAttempts { retry_after: Duration::try_from(wait).unwrap_or_default() }),
        None => Ok(()),
    }
}

/// Counts a failure for every key, starting a new window where the old one has passed.
pub(crate) async fn record_failure(mm: &ModelManager, keys: &[(String, u32)]) -> Result<()> {
    let policy = mm.policy();
    let now = policy.clock.now();
    let names: Vec<&str> = keys.iter().map(|(key, _)| key.as_str()).collect();
    sqlx::query(
        "INSERT INTO login_throttle (key, window_start, failures)
         SELECT key, $2, 1 FROM unnest($1::text[]) AS key
         ON CONFLICT (key) DO UPDATE SET
           failures = CASE WHEN login_throttle.window_start <= $3 THEN 1 ELSE login_throttle.failures + 1 END,
           window_start = CASE WHEN login_throttle.window_start <= $3 THEN $2 ELSE login_throttle.window_start END",
    )
    .bind(&names)
    .bind(now)
    .bind(now - policy.login_window)
    .execute(mm.db())
    .await?;
    Ok(())
}
