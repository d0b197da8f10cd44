//! Logging in: the password-work budget and the throttling of failures, one answer for unknown
//! user and wrong password, the re-hash of outdated password hashes, the session that a
//! successful login starts, and the device cookie that keeps its owner out of others' throttle.
//! The counting itself is `throttle.rs`.

use crate::device::{DEVICE_LIFETIME, DeviceCookie, DeviceToken, DeviceUse, MAX_DEVICES_PER_USER};
use crate::pwd_budget::{self, UserKey};
use crate::session::{NewSession, SessionBmc};
use crate::statement_span::{Timed as _, statement_span};
use crate::throttle::reserve_attempt;
use crate::user::UserBmc;
use crate::username;
use crate::{Error, ModelManager, Result};
use lib_auth::{PwdError, TokenHash, Verdict};
use lib_core::ClientBlock;
use sqlx::FromRow;
use std::net::IpAddr;

/// No username is longer than this (64 characters of at most 4 bytes): longer ones are neither
/// looked up nor used as a throttling key.
const MAX_USERNAME_BYTES: usize = 256;

/// A successful login: who, the session it started, and the device cookie to set.
#[derive(Debug)]
pub struct LoggedIn {
    pub user_id: i64,
    pub session: NewSession,
    pub device: DeviceCookie,
}

pub struct LoginBmc;

impl LoginBmc {
    /// Checks the credentials and starts a session, with no device cookie presented; see
    /// [`Self::login_on_device`].
    pub async fn login(mm: &ModelManager, username: &str, pwd: &str, client: Option<IpAddr>) -> Result<LoggedIn> {
        Self::login_on_device(mm, username, pwd, client, None).await
    }

    /// Checks the credentials and starts a session.
    ///
    /// The verification is charged to the password-work budget of the account (or of the name,
    /// when no account has it) and of `client` first. Every attempt is then counted before the
    /// password is checked (so concurrent guesses cannot slip past the limit) and forgiven when
    /// it succeeds. Past either limit the answer is [`Error::TooManyAttempts`], even for the
    /// right password. An unknown user costs the same hashing time as a wrong password, and both
    /// answer [`Error::LoginFailed`].
    ///
    /// `device` is the token of the browser's device cookie. When it is a live device of the
    /// account being logged into, the attempt is counted against that device alone (its failures
    /// and its password work, the address's password work still), not against the account or the
    /// address: failures from elsewhere cannot lock the owner out of a browser they used before.
    /// Any other token (unknown, expired, malformed, another account's) changes nothing. A
    /// successful login keeps a valid device (its last use moves to now) or records a new one.
    ///
    /// The name is looked up by its UsernameCaseMapped form (how names are stored since they
    /// are normalised) and by the older rule, `lower(username)`, so that accounts made before
    /// keep working, however they were typed then.
    pub async fn login_on_device(
        mm: &ModelManager,
        username: &str,
        pwd: &str,
        client: Option<IpAddr>,
        device: Option<&str>,
    ) -> Result<LoggedIn> {
        // Postgres text cannot hold NUL: such a name cannot exist, nor be a throttling key.
        let plausible = (username.len() <= MAX_USERNAME_BYTES && !username.contains('\0')).then_some(username);
        let normalized = plausible.and_then(username::normalize);
        let presented = device.and_then(DeviceToken::parse);
        let account = match plausible {
            Some(raw) => find(mm, raw, normalized.as_deref(), presented.as_ref().map(DeviceToken::hash)).await?,
            None => None,
        };
        let name_key = normalized.or_else(|| plausible.map(str::to_lowercase));
        let device_id = account.as_ref().and_then(|account| account.device_id);
        let work_key = match (device_id, &account, &name_key) {
            (Some(device_id), _, _) => Some(UserKey::Device(device_id)),
            (None, Some(account), _) => Some(UserKey::Id(account.id)),
            (None, None, Some(name)) => Some(UserKey::Name(name)),
            (None, None, None) => None,
        };
        pwd_budget::spend(mm, work_key, client, 1)?;

        let throttle_keys: Vec<String> = match device_id {
            Some(device_id) => vec![format!("device:{device_id}")],
            None => {
                let name = match (&account, &name_key) {
                    (Some(account), _) => Some(format!("user:{}", account.id)),
                    (None, Some(name)) => Some(format!("name:{name}")),
                    (None, None) => None,
                };
                [name, client.map(|addr| format!("addr:{}", ClientBlock::of(addr)))].into_iter().flatten().collect()
            }
        };
        let attempt = reserve_attempt(mm, throttle_keys).await?;

        let (user_id, stored) = account.map_or((None, None), |account| (Some(account.id), Some(account.pwd)));
        match (user_id, mm.pwd().verify(pwd.to_string(), stored.clone()).await?) {
            (Some(user_id), Ok(verdict)) => {
                let device = match (device_id, presented) {
                    (Some(id), Some(token)) => DeviceUse::Known { id, token },
                    _ => DeviceUse::New(DeviceToken::generate()),
                };
                settle(mm, &attempt, Some((user_id, &device))).await?;
                let stored = stored.unwrap_or_default();
                let rehash_key = device_id.map_or(UserKey::Id(user_id), UserKey::Device);
                let verified_hash = match verdict {
                    // The re-hash is work too; when the budget has no room it waits for a later login.
                    Verdict::Outdated if pwd_budget::spend(mm, Some(rehash_key), client, 1).is_ok() => {
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
                Ok(LoggedIn { user_id, session, device: device.into_cookie() })
            }
            (_, Ok(_) | Err(PwdError::NotMatching)) => Err(Error::LoginFailed),
            (_, Err(other)) => Err(other.into()),
        }
    }
}

/// The account a login names, with the presented device when it is a live one of that account.
#[derive(FromRow)]
struct Account {
    id: i64,
    pwd: String,
    device_id: Option<i64>,
}

/// The account that `raw` names: the one stored under its normalised form if there is one,
/// else one whose name matches the older rule (`lower()` of the name as typed); with the device
/// of `device_hash` when it is that account's and still live. One statement: the device costs
/// the login no round trip.
async fn find(
    mm: &ModelManager,
    raw: &str,
    normalized: Option<&str>,
    device_hash: Option<TokenHash>,
) -> Result<Option<Account>> {
    // Both conditions use the unique index on lower(username), so at most two rows match; the
    // token hash is unique, so each has at most one device.
    let live_since = mm.policy().clock.now() - DEVICE_LIFETIME;
    let sql = r#"SELECT u.id, u.pwd, d.id AS device_id FROM "user" u
           LEFT JOIN device d ON d.user_id = u.id AND d.token_hash = $3 AND d.last_used > $4
           WHERE lower(u.username) = lower($1) OR lower(u.username) = lower($2)
           ORDER BY (u.username = $2) IS TRUE DESC
           LIMIT 1"#;
    Ok(sqlx::query_as(sql)
        .bind(raw)
        .bind(normalized)
        .bind(device_hash.as_ref().map(TokenHash::as_bytes))
        .bind(live_since)
        .fetch_optional(mm.db())
        .timed(statement_span(sql))
        .await?)
}

/// A successful attempt clears the account's count and takes itself back from the address's.
pub(crate) async fn forgive(mm: &ModelManager, keys: &[String]) -> Result<()> {
    settle(mm, keys, None).await
}

/// [`forgive`], and for a login the device's record, in the same statement: the last use of a
/// known device moves to now, or a new device is recorded and the account's least recently used
/// ones beyond [`MAX_DEVICES_PER_USER`] go.
///
/// Every statement here locks its throttle rows in key order (`ORDER BY key` in the upsert, the
/// `locked` CTE here): concurrent logins that share an address would otherwise deadlock, one
/// holding the account's row and waiting for the address's while the other holds the reverse.
/// Devices to trim that another login holds are skipped, not waited for (the next new device
/// trims them), so two new devices of one account cannot deadlock either.
async fn settle(mm: &ModelManager, keys: &[String], device: Option<(i64, &DeviceUse)>) -> Result<()> {
    let user_id = device.map(|(user_id, _)| user_id);
    let known = device.and_then(|(_, device)| device.known_id());
    let new_hash = device.and_then(|(_, device)| device.new_hash());
    let sql = "WITH locked AS (SELECT key FROM login_throttle WHERE key = ANY($1) ORDER BY key FOR UPDATE),
         cleared AS (DELETE FROM login_throttle WHERE key IN (SELECT key FROM locked) AND key NOT LIKE 'addr:%'),
         touched AS (UPDATE device SET last_used = $5 WHERE id = $3 AND user_id = $2),
         issued AS (
           INSERT INTO device (token_hash, user_id, ctime, last_used)
           SELECT $4, $2, $5, $5 WHERE $4::bytea IS NOT NULL
         ),
         crowded AS (
           SELECT id FROM device
           WHERE $4::bytea IS NOT NULL AND user_id = $2 AND id NOT IN (
             SELECT id FROM device WHERE user_id = $2 ORDER BY last_used DESC, id DESC LIMIT $6
           )
           ORDER BY id FOR UPDATE SKIP LOCKED
         ),
         trimmed AS (DELETE FROM device WHERE id IN (SELECT id FROM crowded))
         UPDATE login_throttle SET failures = failures - 1
         WHERE key IN (SELECT key FROM locked) AND key LIKE 'addr:%' AND failures > 0";
    sqlx::query(sql)
        .bind(keys)
        .bind(user_id)
        .bind(known)
        .bind(new_hash.as_ref().map(TokenHash::as_bytes))
        .bind(mm.policy().clock.now())
        // The statement sees the devices as they were before the new one: keep one place for it.
        .bind(MAX_DEVICES_PER_USER - 1)
        .execute(mm.db())
        .timed(statement_span(sql))
        .await?;
    Ok(())
}

/// Removes throttle rows whose window has passed (each key's own window) and devices unused for
/// longer than their lifetime; called with the purge of expired sessions.
pub(crate) async fn purge_stale(mm: &ModelManager) -> Result<()> {
    // In key order and skipping rows a login holds, like every statement on these rows
    // (see `settle`): a purge must never deadlock with a login.
    sqlx::query(
        "WITH stale AS (
           SELECT key FROM login_throttle WHERE window_end <= $1 ORDER BY key FOR UPDATE SKIP LOCKED
         )
         DELETE FROM login_throttle WHERE key IN (SELECT key FROM stale)",
    )
    .bind(mm.policy().clock.now())
    .execute(mm.db())
    .await?;
    crate::device::purge_unused(mm).await?;
    Ok(())
}
