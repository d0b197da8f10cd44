//! Device cookies (OWASP's answer to account lockout): a browser that logged in to an account
//! once carries a random token, kept server-side only as a hash and tied to that account. A login
//! that presents it for that account is throttled by the device's own failures alone (see
//! [`login`](crate::login)), so failures from elsewhere cannot lock the owner out of it.
//!
//! The state is bounded: a device unused for [`DEVICE_LIFETIME`] is no longer valid and is
//! purged with expired sessions, and an account keeps at most [`MAX_DEVICES_PER_USER`] (a new
//! one pushes out the least recently used).

use crate::{ModelManager, Result};
use lib_auth::{SessionToken, TokenHash};
use std::time::Duration;

/// How long a device stays valid after its last successful login; also the cookie's `Max-Age`.
pub const DEVICE_LIFETIME: Duration = Duration::from_secs(365 * 24 * 3600);

/// Enough for every browser a person uses; a login flood from many new browsers of one account
/// (an attacker who knows the password) cannot grow the table past it.
pub(crate) const MAX_DEVICES_PER_USER: i64 = 20;

/// A device token: 256 random bits, as a session's token, but a cookie of its own.
pub type DeviceToken = SessionToken;

/// The `device` cookie a successful login sets: the one presented, when it was valid for this
/// account, or a new one. Sent again either way, so the browser's copy lives as long as the
/// server's.
#[derive(Debug)]
pub struct DeviceCookie {
    pub token: DeviceToken,
    pub max_age: Duration,
}

/// What a successful login does with devices.
pub(crate) enum DeviceUse {
    /// The presented device was valid for the account: its last use moves to now.
    Known { id: i64, token: DeviceToken },
    /// No valid device was presented: this one is recorded for the account.
    New(DeviceToken),
}

impl DeviceUse {
    /// The stored row to touch, if any.
    pub(crate) fn known_id(&self) -> Option<i64> {
        match self {
            Self::Known { id, .. } => Some(*id),
            Self::New(_) => None,
        }
    }

    /// The hash of a token to record, if any.
    pub(crate) fn new_hash(&self) -> Option<TokenHash> {
        match self {
            Self::Known { .. } => None,
            Self::New(token) => Some(token.hash()),
        }
    }

    pub(crate) fn into_cookie(self) -> DeviceCookie {
        let (Self::Known { token, .. } | Self::New(token)) = self;
        DeviceCookie { token, max_age: DEVICE_LIFETIME }
    }
}

/// Deletes devices unused for longer than [`DEVICE_LIFETIME`]; answers how many went. Rows a
/// login holds right now are skipped (the next purge gets them), so a purge never waits for,
/// nor deadlocks with, a login.
pub(crate) async fn purge_unused(mm: &ModelManager) -> Result<u64> {
    let cutoff = mm.policy().clock.now() - DEVICE_LIFETIME;
    Ok(sqlx::query(
        "WITH unused AS (SELECT id FROM device WHERE last_used <= $1 ORDER BY id FOR UPDATE SKIP LOCKED)
         DELETE FROM device WHERE id IN (SELECT id FROM unused)",
    )
    .bind(cutoff)
    .execute(mm.db())
    .await?
    .rows_affected())
}
