//! Logging in: the password-work budget and the throttling of failures, one answer for unknown
//! user and wrong password, the re-hash of outdated password hashes, and the session that a
//! successful login starts.

use crate::pwd_budget::{self, UserKey};
use crate::session::{NewSession, SessionBmc};
use crate::user::UserBmc;
use crate::username;
use crate::{Error, ModelManager, Result};
use lib_auth::{PwdError, Verdict};
use std::net::IpAddr;
use std::time::Duration;
use time::OffsetDateTime;

/// No username is longer than this (64 characters of at most 4 bytes): longer ones are neither
/// looked up nor used as a throttling key.
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
    /// The verification is charged to the password-work budget of the account (or of the name,
    /// when no account has it) and of `client` first. Every attempt is then counted before the
    /// password is checked (so concurrent guesses cannot slip past the limit) and forgiven when
    /// it succeeds. Past either limit the answer is [`Error::TooManyAttempts`], even for the
    /// right password. An unknown user costs the same hashing time as a wrong password, and both
    /// answer [`Error::LoginFailed`].
    ///
    /// The name is looked up by its UsernameCaseMapped form (how names are stored since they
    /// are normalised) and by the older rule, `lower(username)`, so that accounts made before
    /// keep working, however they were typed then.
    pub async fn login(mm: &ModelManager, username: &str, pwd: &str, client: Option<IpAddr>) -> Result<LoggedIn> {
        // Postgres text cannot hold NUL: such a name cannot exist, nor be a throttling key.
        let plausible = (username.len() <= MAX_USERNAME_BYTES && !username.contains('\0')).then_some(username);
        let normalized = plausible.and_then(username::normalize);
        let user: Option<(i64, String)> = match plausible {
            Some(raw) => find(mm, raw, normalized.as_deref()).await?,
            None => None,
        };
        let name_key = normalized.or_else(|| plausible.map(str::to_lowercase));
        let user_key = match (&user, &name_key) {
            (Some((id, _)), _) => Some(UserKey::Id(*id)),
            (None, Some(name)) => Some(UserKey::Name(name)),
            (None, None) => None,
        };
        pwd_budget::spend(mm, user_key, client, 1)?;

        let throttle_keys = [
            match (&user, &name_key) {
                (Some((id, _)), _) => Some(format!("user:{id}")),
                (None, Some(name)) => Some(format!("name:{name}")),
                (None, None) => None,
            },
            client.map(|addr| format!("addr:{addr}")),
        ];
        let attempt = reserve_attempt(mm, throttle_keys.into_iter().flatten().collect()).await?;

        let (user_id, stored) = user.map_or((None, None), |(id, pwd)| (Some(id), Some(pwd)));
        match (user_id, mm.pwd().verify(pwd.to_string(), stored.clone()).await?) {
            (Some(user_id), Ok(verdict)) => {
                forgive(mm, &attempt).await?;
                let stored = stored.unwrap_or_default();
                let verified_hash = match verdict {
                    // The re-hash is work too; when the budget has no room it waits for a later login.
                    Verdict::Outdated if pwd_budget::spend(mm, Some(UserKey::Id(user_id)), client, 1).is_ok() => {
                        let upgraded = mm.pwd().hash(pwd.to_string()).await?;
                        // Only over the hash just verified: a password changed meanwhile stays.
                        if !UserBmc::set_pwd_hash(mm, user_id, &stored, &upgraded).await? {
                            return Err(Error::LoginFailed);
                        }
                        upgraded
                    }
                    _ => stored,
                };
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

/// The account that `raw` names: the one stored under its normalised form if there is one,
/// else one whose name matches the older rule (`lower()` of the name as typed).
async fn find(mm: &ModelManager, raw: &str, normalized: Option<&str>) -> Result<Option<(i64, String)>> {
    // Both conditions use the unique index on lower(username), so at most two rows match.
    Ok(sqlx::query_as(
        r#"SELECT id, pwd FROM "user"
           WHERE lower(username) = lower($1) OR lower(username) = lower($2)
           ORDER BY (username = $2) IS TRUE DESC
           LIMIT 1"#,
    )
    .bind(raw)
    .bind(normalized)
    .fetch_optional(mm.db())
    .await?)
}

/// Counts one attempt for each of `keys` before the password is checked, starting a new window
/// where the old one has passed; answers the keys, for [`forgive`]. When any key is already at
/// its limit within its window, nothing at all is written and the answer is
/// [`Error::TooManyAttempts`]: a throttled client costs the database no writes, and a blocked
/// address trying ever-new usernames adds no rows.
pub(crate) async fn reserve_attempt(mm: &ModelManager, keys: Vec<String>) -> Result<Vec<String>> {
    let policy = mm.policy();
    let now = policy.clock.now();
    let limits: Vec<i32> = keys.iter().map(|key| i32::try_from(limit_for(mm, key)).unwrap_or(i32::MAX)).collect();
    // One statement: the keys' state is read first and the upsert runs only when no key is
    // blocked. Concurrent attempts that all read "not blocked" still serialise on the upsert,
    // and the counts it answers decide (a count past the limit is refused below).
    let counted: Vec<(String, i32, OffsetDateTime, bool)> = sqlx::query_as(
        "WITH wanted AS (SELECT * FROM unnest($1::text[], $2::int[]) AS w(key, lim)),
         blocked AS (
           SELECT t.key, t.failures, t.window_start FROM wanted w JOIN login_throttle t USING (key)
           WHERE t.window_start > $4 AND t.failures >= w.lim
         ),
         counted AS (
           INSERT INTO login_throttle (key, window_start, failures)
           SELECT key, $3, 1 FROM wanted WHERE NOT EXISTS (SELECT 1 FROM blocked) ORDER BY key
           ON CONFLICT (key) DO UPDATE SET
             failures = CASE WHEN login_throttle.window_start <= $4 THEN 1 ELSE login_throttle.failures + 1 END,
             window_start = CASE WHEN login_throttle.window_start <= $4 THEN $3 ELSE login_throttle.window_start END
           RETURNING key, failures, window_start
         )
         SELECT key, failures, window_start, false FROM counted
         UNION ALL
         SELECT key, failures, window_start, true FROM blocked",
    )
    .bind(&keys)
    .bind(&limits)
    .bind(now)
    .bind(now - policy.login_window)
    .fetch_all(mm.db())
    .await?;

    let retry_after = counted
        .iter()
        .filter(|(key, failures, _, blocked)| *blocked || i64::from(*failures) > i64::from(limit_for(mm, key)))
        .map(|(_, _, window_start, _)| *window_start + policy.login_window - now)
        .max();
    match retry_after {
        Some(wait) => Err(Error::TooManyAttempts { retry_after: Duration::try_from(wait).unwrap_or_default() }),
        None => Ok(keys),
    }
}

/// A successful attempt clears the account's count and takes itself back from the address's.
///
/// Every statement here locks its throttle rows in key order (`ORDER BY key` in the upsert, the
/// `locked` CTE here): concurrent logins that share an address would otherwise deadlock, one
/// holding the account's row and waiting for the address's while the other holds the reverse.
pub(crate) async fn forgive(mm: &ModelManager, keys: &[String]) -> Result<()> {
    sqlx::query(
        "WITH locked AS (SELECT key FROM login_throttle WHERE key = ANY($1) ORDER BY key FOR UPDATE),
         cleared AS (DELETE FROM login_throttle WHERE key IN (SELECT key FROM locked) AND key NOT LIKE 'addr:%')
         UPDATE login_throttle SET failures = failures - 1
         WHERE key IN (SELECT key FROM locked) AND key LIKE 'addr:%' AND failures > 0",
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
