//! Users: sign-up, the caller's own record, and password change. Logging in lives in
//! [`login`](crate::login), the username rules in [`username`](crate::username).

use crate::login::forgive;
use crate::pwd_budget::{self, UserKey};
use crate::session::{self, NewSession};
use crate::statement_span::{Timed as _, statement_span};
use crate::throttle::{Throttle, reserve, reserve_attempt};
use crate::username;
use crate::{Error, ModelManager, Result};
use lib_auth::PwdError;
use lib_core::{ClientBlock, Ctx, Limit};
use serde::Serialize;
use sqlx::FromRow;
use std::net::IpAddr;

pub use crate::username::Username;

/// A password acceptable for sign-up or change: 8 to 1024 bytes, no NUL.
#[derive(Clone, PartialEq, Eq)]
pub struct NewPwd(String);

impl NewPwd {
    /// `field` names the parameter in the error (`pwd`, `new_pwd`).
    pub fn parse(field: &str, text: &str) -> Result<Self> {
        if !(8..=1024).contains(&text.len()) {
            return Err(Error::invalid(field, "must be 8 to 1024 bytes"));
        }
        if text.contains('\0') {
            return Err(Error::invalid(field, "must not contain NUL characters"));
        }
        Ok(Self(text.to_string()))
    }
}

impl std::fmt::Debug for NewPwd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPwd(<redacted>)")
    }
}

/// What a user may see of their own account.
#[derive(Debug, Clone, PartialEq, Eq, FromRow, Serialize, schemars::JsonSchema)]
pub struct UserInfo {
    pub id: i64,
    pub username: String,
}

pub struct UserBmc;

/// Replaces a password hash only if it is still the one that was verified.
const SET_PWD_HASH: &str = r#"UPDATE "user" SET pwd = $1, mtime = now() WHERE id = $2 AND pwd = $3"#;

impl UserBmc {
    /// Creates an account with no client address to charge (seeding, tests); see [`Self::signup`].
    pub async fn create(mm: &ModelManager, username: &Username, pwd: &NewPwd) -> Result<i64> {
        Self::signup(mm, username, pwd, None).await
    }

    /// Creates an account. The hash is charged to the password-work budget of the name and of
    /// `client` first. A username equal to an existing one in any letter case or width, or one
    /// that looks like it (the same confusable skeleton), is [`Error::UsernameTaken`].
    ///
    /// Then the signup is counted against `client`'s signups (per IPv4 address or IPv6 /64)
    /// before anything else runs, whatever its outcome: an account made, a name taken (which
    /// tells the caller the name exists, so probing names is bounded too), or a failure. Past
    /// the limit the answer is [`Error::TooManyAttempts`] and nothing is written. The hash then
    /// waits for a place in signups' share of the hashing capacity, so that logins keep the rest.
    pub async fn signup(mm: &ModelManager, username: &Username, pwd: &NewPwd, client: Option<IpAddr>) -> Result<i64> {
        pwd_budget::spend(mm, Some(UserKey::Name(username.as_str())), client, 1)?;
        if let Some(client) = client {
            let policy = mm.policy();
            let key = format!("signup:{}", ClientBlock::of(client));
            reserve(
                mm,
                Limit::Signups,
                &[Throttle { key, limit: policy.signups_per_addr, window: policy.signup_window }],
            )
            .await?;
        }
        // Held through the name check and the insert around the hash: a few milliseconds more,
        // and a signup flood never holds more than its share of anything on the way.
        let _share = mm.pwd().signup_share().await;
        Self::insert(mm, username, pwd.0.clone()).await
    }

    /// Inserts with no password rule: the development seed's `welcome` is shorter than signup allows.
    pub(crate) async fn insert(mm: &ModelManager, username: &Username, clear_pwd: String) -> Result<i64> {
        // A taken name is refused before the hash is spent on it; the unique indexes still
        // decide a race between two signups.
        let sql = r#"SELECT EXISTS (SELECT 1 FROM "user" WHERE lower(username) = lower($1) OR username_skeleton = $2)"#;
        let taken: bool = sqlx::query_scalar(sql)
            .bind(username.as_str())
            .bind(username.skeleton())
            .fetch_one(mm.db())
            .timed(statement_span(sql))
            .await?;
        if taken {
            return Err(Error::UsernameTaken);
        }
        let hash = mm.pwd().hash(clear_pwd).await?;
        let sql = r#"INSERT INTO "user" (username, username_skeleton, pwd) VALUES ($1, $2, $3) RETURNING id"#;
        let id = sqlx::query_scalar(sql)
            .bind(username.as_str())
            .bind(username.skeleton())
            .bind(hash)
            .fetch_one(mm.db())
            .timed(statement_span(sql))
            .await?;
        Ok(id)
    }

    /// The caller's account; a caller whose user is gone has no session left.
    pub async fn get_info(ctx: &Ctx, mm: &ModelManager) -> Result<UserInfo> {
        let sql = r#"SELECT id, username FROM "user" WHERE id = $1"#;
        let query = sqlx::query_as(sql).bind(ctx.user_id());
        mm.lease(ctx)
            .await?
            .run(statement_span(sql), |conn| query.fetch_optional(conn))
            .await?
            .ok_or(Error::SessionEnded)
    }

    /// Replaces the caller's password after checking the old one, ends every session of the
    /// caller and answers a new one for the caller (the old token may be what an attacker
    /// held). The verification and the hash are charged to the password-work budget first;
    /// wrong old passwords count like failed logins, so a stolen session cannot be used to
    /// guess the password.
    ///
    /// The change replaces only the hash that was verified, and ends the sessions and starts
    /// the new one in the same transaction. When the hash changed meanwhile, nothing changes:
    /// [`Error::SessionEnded`] when a concurrent change (or logoff, or deletion) has ended the
    /// caller's session, else [`Error::Conflict`] (a login re-hashed it: try again).
    pub async fn change_pwd(ctx: &Ctx, mm: &ModelManager, old_pwd: &str, new_pwd: &NewPwd) -> Result<NewSession> {
        let user_id = ctx.user_id();
        pwd_budget::spend(mm, Some(UserKey::Id(user_id)), ctx.client_addr(), 2)?;
        let attempt = reserve_attempt(mm, vec![format!("pwd:{user_id}")]).await?;
        let sql = r#"SELECT pwd FROM "user" WHERE id = $1"#;
        let stored: String = sqlx::query_scalar(sql)
            .bind(user_id)
            .fetch_optional(mm.db())
            .timed(statement_span(sql))
            .await?
            .ok_or(Error::SessionEnded)?;
        match mm.pwd().verify(old_pwd.to_string(), Some(stored.clone())).await? {
            Ok(_) => forgive(mm, &attempt).await?,
            Err(PwdError::NotMatching) => return Err(Error::invalid("old_pwd", "does not match the current password")),
            Err(other) => return Err(other.into()),
        }
        let hash = mm.pwd().hash(new_pwd.0.clone()).await?;

        let mut tx = mm.db().begin().timed(statement_span("BEGIN")).await?;
        // The row lock taken here also orders this change with a login starting a session
        // (`session::insert` reads the user FOR SHARE): that login either waits and then sees
        // the new hash, or commits first and has its session deleted below.
        let changed = sqlx::query(SET_PWD_HASH)
            .bind(&hash)
            .bind(user_id)
            .bind(&stored)
            .execute(&mut *tx)
            .timed(statement_span(SET_PWD_HASH))
            .await?
            .rows_affected();
        let ended: Vec<i64> = if changed == 1 {
            let sql = "DELETE FROM session WHERE user_id = $1 RETURNING id";
            sqlx::query_scalar(sql).bind(user_id).fetch_all(&mut *tx).timed(statement_span(sql)).await?
        } else {
            Vec::new()
        };
        // A session that ended while the old password was checked cannot change it any more.
        let caller_live = ctx.session_id().is_none_or(|id| ended.contains(&id));
        if changed == 0 || !caller_live {
            drop(tx);
            return Err(match ctx.session_id() {
                Some(id) if changed == 0 && session_exists(mm, id).await? => {
                    Error::Conflict { detail: "the password changed meanwhile; try again" }
                }
                _ => Error::SessionEnded,
            });
        }
        let new_session = session::insert(&mut *tx, mm.policy(), user_id, None).await?.ok_or(Error::SessionEnded)?;
        tx.commit().timed(statement_span("COMMIT")).await?;
        // The trigger tells every instance at commit; this one forgets them at once.
        ended.into_iter().for_each(|id| mm.sessions().revoke(id));
        Ok(new_session)
    }

    /// Replaces `user_id`'s password hash with `new` only if it is still `expected` (the hash
    /// that was just verified); answers whether it did. A password changed in between stays.
    pub async fn set_pwd_hash(mm: &ModelManager, user_id: i64, expected: &str, new: &str) -> Result<bool> {
        let changed = sqlx::query(SET_PWD_HASH)
            .bind(new)
            .bind(user_id)
            .bind(expected)
            .execute(mm.db())
            .timed(statement_span(SET_PWD_HASH))
            .await?
            .rows_affected();
        Ok(changed == 1)
    }
}

async fn session_exists(mm: &ModelManager, session_id: i64) -> Result<bool> {
    let sql = "SELECT EXISTS (SELECT 1 FROM session WHERE id = $1)";
    Ok(sqlx::query_scalar(sql).bind(session_id).fetch_one(mm.db()).timed(statement_span(sql)).await?)
}

/// Fills in the confusable skeleton of every user that has none (every account made before
/// skeletons were kept), at start, from Rust: SQL cannot compute it. The name is not rewritten.
/// A skeleton that another user already has, or that two of these share, is left out (the
/// older account gets it): such an account keeps working, it only guards no look-alikes.
pub(crate) async fn backfill_skeletons(mm: &ModelManager) -> Result<()> {
    let missing: Vec<(i64, String)> =
        sqlx::query_as(r#"SELECT id, username FROM "user" WHERE username_skeleton IS NULL ORDER BY id"#)
            .fetch_all(mm.db())
            .await?;
    if missing.is_empty() {
        return Ok(());
    }
    let (ids, skeletons): (Vec<i64>, Vec<String>) = missing
        .into_iter()
        .map(|(id, name)| {
            // Legacy names the profile refuses still get a skeleton of their lower-case form.
            let form = username::normalize(&name).unwrap_or_else(|| name.to_lowercase());
            (id, username::skeleton(&form))
        })
        .unzip();
    let filled = sqlx::query(
        r#"UPDATE "user" u SET username_skeleton = s.skeleton
           FROM (SELECT DISTINCT ON (skeleton) id, skeleton
                 FROM unnest($1::bigint[], $2::text[]) AS t(id, skeleton) ORDER BY skeleton, id) s
           WHERE u.id = s.id AND u.username_skeleton IS NULL
             AND NOT EXISTS (SELECT 1 FROM "user" x WHERE x.username_skeleton = s.skeleton)"#,
    )
    .bind(&ids)
    .bind(&skeletons)
    .execute(mm.db())
    .await
    .map_err(Error::from_db);
    match filled {
        Ok(_) => Ok(()),
        // A signup (or another instance) took one of these skeletons meanwhile: the rest waits
        // for the next start rather than stopping this one.
        Err(Error::UsernameTaken) => {
            tracing::warn!("some username skeletons could not be filled in; the next start tries again");
            Ok(())
        }
        Err(error) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_follow_the_contract() {
        assert!(NewPwd::parse("pwd", "1234567").is_err());
        assert!(NewPwd::parse("pwd", "12345678").is_ok());
        assert!(NewPwd::parse("pwd", &"x".repeat(1024)).is_ok());
        let long = NewPwd::parse("new_pwd", &"x".repeat(1025)).unwrap_err();
        assert!(long.to_string().contains("new_pwd"));
        assert!(NewPwd::parse("pwd", "12345678\0").is_err());
    }
}
