//! Logging in: throttling of failures, one answer for unknown user and wrong password, the
//! re-hash of outdated password hashes, and the session that a successful login starts.

use crate::session::{NewSession, SessionBmc};
use crate::user::UserBmc;
use crate::{Error, ModelManager, Result};
use lib_auth::{PwdError, Verdict};
use std::net::IpAddr;
use std::time::Duration;
use time::OffsetDateTime;

/// No username is longer than this (64 characters of at most 4 bytes): longer ones are neither
/// looked up nor stored as a throttling key.
const MAX_USERNAME_BYTES: usize = 256;

/// A successful login: who, and the session it started.
#[derive(Debug)]
pub struct LoggedIn {
    pub user_id: i64,
    pub session: NewSession,
}

pub struct LoginBmc;

impl LoginBmc {
    /// Checks the credentials and starts a session.
    ///
    /// Every attempt is counted before the password is checked (so concurrent guesses cannot slip
    /// past the limit) and forgiven when it succeeds. Past the limit for the username or for
    /// `client` within the window the answer is [`Error::TooManyAttempts`], even for the right
    /// password. An unknown user costs the same hashing time as a wrong password, and both answer
    /// [`Error::LoginFailed`].
    pub async fn login(mm: &ModelManager, username: &str, pwd: &str, client: Option<IpAddr>) -> Result<LoggedIn> {
        // Postgres text cannot hold NUL: such a name cannot exist, nor be a throttling key.
        let plausible = username.len() <= MAX_USERNAME_BYTES && !username.contains('\0');
        let name_key = plausible.then_some(username);
        let attempt = reserve_attempt(mm, name_key, client.map(|addr| format!("addr:{addr}"))).await?;

        let user: Option<(i64, String)> = match name_key {
            Some(name) => {
                sqlx::query_as(r#"SELECT id, pwd FROM "user" WHERE lower(username) = lower($1)"#)
                    .bind(name)
                    .fetch_optional(mm.db())
                    .await?
            }
            None => None,
        };
        let (user_id, stored) = user.map_or((None, None), |(id, pwd)| (Some(id), Some(pwd)));

        match (user_id, mm.pwd().verify(pwd.to_string(), stored.clone()).await?) {
            (Some(user_id), Ok(verdict)) => {
                forgive(mm, &attempt).await?;
                let mut verified_hash = stored.unwrap_or_default();
                if verdict == Verdict::Outdated {
                    verified_hash = mm.pwd().hash(pwd.to_string()).await?;
                    UserBmc::set_pwd_hash(mm, user_id, &verified_hash).await?;
                }
                // Only while the password is still the one just checked: a change_pwd that ran
                // meanwhile has ended the user's other sessions, and this one must not outlive it.
                let session =
                    SessionBmc::create_if_pwd(mm, user_id, &verified_hash).await?.ok_or(Error::LoginFailed)?;
                Ok(LoggedIn { user_id, session })
            }
            (_, Ok(_) | Err(PwdError::NotMatching)) => Err(Error::LoginFailed),
            (_, Err(other)) => Err(other.into()),
        }
    }
}

/// Counts one attempt for each key (the username's, built with Postgres' own `lower()` as the
/// lookup is, and `other_key`) before the password is checked, starting a new window where the
/// old one has passed; refuses with [`Error::TooManyAttempts`] when any key is past its limit.
/// Answers the keys, for [`forgive`].
pub(crate) async fn reserve_attempt(
    mm: &ModelManager,
    username: Option<&str>,
    other_key: Option<String>,
) -> Result<Vec<String>> {
    let policy = mm.policy();
    let now = policy.clock.now();
    let counted: Vec<(String, i32, OffsetDateTime)> = sqlx::query_as(
        "INSERT INTO login_throttle (key, window_start, failures)
         SELECT key, $3, 1 FROM unnest(ARRAY['user:' || lower($1), $2]) AS key WHERE key IS NOT NULL
         ON CONFLICT (key) DO UPDATE SET
           failures = CASE WHEN login_throttle.window_start <= $4 THEN 1 ELSE login_throttle.failures + 1 END,
           window_start = CASE WHEN login_throttle.window_start <= $4 THEN $3 ELSE login_throttle.window_start END
         RETURNING key, failures, window_start",
    )
    .bind(username)
    .bind(other_key)
    .bind(now)
    .bind(now - policy.login_window)
    .fetch_all(mm.db())
    .await?;

    let retry_after = counted
        .iter()
        .filter(|(key, failures, _)| *failures as i64 > limit_for(mm, key) as i64)
        .map(|(_, _, window_start)| *window_start + policy.login_window - now)
        .max();
    match retry_after {
        Some(wait) => Err(Error::TooManyAttempts { retry_after: Duration::try_from(wait).unwrap_or_default() }),
        None => Ok(counted.into_iter().map(|(key, ..)| key).collect()),
    }
}

/// A successful attempt clears the account's count and takes itself back from the address's.
pub(crate) async fn forgive(mm: &ModelManager, keys: &[String]) -> Result<()> {
    sqlx::query(
        "WITH cleared AS (DELETE FROM login_throttle WHERE key = ANY($1) AND key NOT LIKE 'addr:%')
         UPDATE login_throttle SET failures = failures - 1 WHERE key = ANY($1) AND key LIKE 'addr:%' AND failures > 0",
    )
    .bind(keys)
    .execute(mm.db())
    .await?;
    Ok(())
}

/// Addresses are shared by many users and get the higher limit.
fn limit_for(mm: &ModelManager, key: &str) -> u32 {
    let policy = mm.policy();
    if key.starts_with("addr:") { policy.login_fails_per_addr } else { policy.login_fails_per_user }
}
