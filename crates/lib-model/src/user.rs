//! Users: sign-up, the caller's own record, and password change. Logging in lives in
//! [`login`](crate::login).

use crate::login::{forgive, reserve_attempt};
use crate::session::{NewSession, SessionBmc};
use crate::{Error, ModelManager, Result};
use lib_auth::PwdError;
use lib_core::Ctx;
use serde::Serialize;
use sqlx::FromRow;

/// A username that passed the rules: 3 to 64 characters, no whitespace or control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(text: &str) -> Result<Self> {
        let chars = text.chars().count();
        if !(3..=64).contains(&chars) {
            return Err(Error::invalid("username: must be 3 to 64 characters"));
        }
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(Error::invalid("username: must not contain whitespace or control characters"));
        }
        Ok(Self(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password acceptable for sign-up or change: 8 to 1024 bytes, no NUL.
#[derive(Clone, PartialEq, Eq)]
pub struct NewPwd(String);

impl NewPwd {
    /// `field` names the parameter in the error (`pwd`, `new_pwd`).
    pub fn parse(field: &str, text: &str) -> Result<Self> {
        if !(8..=1024).contains(&text.len()) {
            return Err(Error::invalid(format!("{field}: must be 8 to 1024 bytes")));
        }
        if text.contains('\0') {
            return Err(Error::invalid(format!("{field}: must not contain NUL characters")));
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
#[derive(Debug, Clone, PartialEq, Eq, FromRow, Serialize)]
pub struct UserInfo {
    pub id: i64,
    pub username: String,
}

pub struct UserBmc;

impl UserBmc {
    /// Creates an account; a username taken in any letter case is [`Error::UsernameTaken`].
    pub async fn create(mm: &ModelManager, username: &Username, pwd: &NewPwd) -> Result<i64> {
        Self::insert(mm, username.as_str(), pwd.0.clone()).await
    }

    /// Inserts with no password rule: the development seed's `welcome` is shorter than signup allows.
    pub(crate) async fn insert(mm: &ModelManager, username: &str, clear_pwd: String) -> Result<i64> {
        let hash = mm.pwd().hash(clear_pwd).await?;
        let id = sqlx::query_scalar(r#"INSERT INTO "user" (username, pwd) VALUES ($1, $2) RETURNING id"#)
            .bind(username)
            .bind(hash)
            .fetch_one(mm.db())
            .await?;
        Ok(id)
    }

    pub async fn get_info(ctx: &Ctx, mm: &ModelManager) -> Result<UserInfo> {
        sqlx::query_as(r#"SELECT id, username FROM "user" WHERE id = $1"#)
            .bind(ctx.user_id())
            .fetch_optional(mm.db())
            .await?
            .ok_or(Error::EntityNotFound { entity: "user", id: ctx.user_id() })
    }

    /// Replaces the caller's password after checking the old one, ends every session of the
    /// caller and answers a new one for the caller (the old token may be what an attacker
    /// held). Wrong old passwords count like failed logins, so a stolen session cannot be used
    /// to guess the password.
    pub async fn change_pwd(ctx: &Ctx, mm: &ModelManager, old_pwd: &str, new_pwd: &NewPwd) -> Result<NewSession> {
        let attempt = reserve_attempt(mm, None, Some(format!("pwd:{}", ctx.user_id()))).await?;
        let stored: Option<String> = sqlx::query_scalar(r#"SELECT pwd FROM "user" WHERE id = $1"#)
            .bind(ctx.user_id())
            .fetch_optional(mm.db())
            .await?;
        let Some(stored) = stored else {
            return Err(Error::EntityNotFound { entity: "user", id: ctx.user_id() });
        };
        match mm.pwd().verify(old_pwd.to_string(), Some(stored)).await? {
            Ok(_) => forgive(mm, &attempt).await?,
            Err(PwdError::NotMatching) => return Err(Error::invalid("old_pwd: does not match the current password")),
            Err(other) => return Err(other.into()),
        }
        let hash = mm.pwd().hash(new_pwd.0.clone()).await?;
        Self::set_pwd_hash(mm, ctx.user_id(), &hash).await?;
        SessionBmc::delete_others(mm, ctx.user_id(), None).await?;
        SessionBmc::create(mm, ctx.user_id()).await
    }

    pub(crate) async fn set_pwd_hash(mm: &ModelManager, user_id: i64, hash: &str) -> Result<()> {
        sqlx::query(r#"UPDATE "user" SET pwd = $1, mtime = now() WHERE id = $2"#)
            .bind(hash)
            .bind(user_id)
            .execute(mm.db())
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_follow_the_contract() {
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse("abc").is_ok());
        assert!(Username::parse(&"é".repeat(64)).is_ok(), "characters, not bytes");
        assert!(Username::parse(&"a".repeat(65)).is_err());
        assert!(Username::parse("a b c").is_err());
        assert!(Username::parse("abc\u{0}").is_err());
        assert!(Username::parse("abc\t").is_err());
    }

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
