//! The throttle: attempts counted per key in Postgres (`login_throttle`), so every instance sees
//! the same counts. Failed logins (per account or name, per address, per device), wrong
//! `change_pwd` passwords and signups per address are all counted here, each key with its own
//! limit and window. Forgiving a successful attempt and purging stale rows are in `login.rs`,
//! where they share a statement with the device record.

use crate::statement_span::{Timed as _, statement_span};
use crate::{Error, ModelManager, Result};
use lib_core::Limit;
use std::time::Duration;
use time::OffsetDateTime;

/// One throttling key with its own limit and window: at most `limit` attempts counted within
/// `window` of the first.
pub(crate) struct Throttle {
    pub(crate) key: String,
    pub(crate) limit: u32,
    pub(crate) window: Duration,
}

/// [`reserve`] under the login rules: addresses (`addr:`) get the higher limit, being shared by
/// many users; accounts, unknown names, devices and password checks the per-user one.
pub(crate) async fn reserve_attempt(mm: &ModelManager, keys: Vec<String>) -> Result<Vec<String>> {
    let policy = mm.policy();
    let throttles: Vec<Throttle> = keys
        .into_iter()
        .map(|key| {
            let limit =
                if key.starts_with("addr:") { policy.login_fails_per_addr } else { policy.login_fails_per_user };
            Throttle { key, limit, window: policy.login_window }
        })
        .collect();
    reserve(mm, Limit::LoginAttempts, &throttles).await
}

/// Counts one attempt for each of `throttles` (together, `limit`) before the work it guards runs, starting a new
/// window where the old one has passed; answers the keys, for `forgive`. When any key is
/// already at its limit within its window, nothing at all is written and the answer is
/// [`Error::TooManyAttempts`]: a throttled client costs the database no writes, and a blocked
/// address trying ever-new usernames adds no rows.
pub(crate) async fn reserve(mm: &ModelManager, limit: Limit, throttles: &[Throttle]) -> Result<Vec<String>> {
    let now = mm.policy().clock.now();
    let keys: Vec<String> = throttles.iter().map(|t| t.key.clone()).collect();
    let limits: Vec<i32> = throttles.iter().map(|t| i32::try_from(t.limit).unwrap_or(i32::MAX)).collect();
    let window_ends: Vec<OffsetDateTime> = throttles.iter().map(|t| now + t.window).collect();
    // One statement: the keys' state is read first and the upsert runs only when no key is
    // blocked. Concurrent attempts that all read "not blocked" still serialise on the upsert,
    // and the counts it answers decide (a count past the limit is refused below).
    let sql = "WITH wanted AS (SELECT * FROM unnest($1::text[], $2::int[], $3::timestamptz[]) AS w(key, lim, window_end)),
         blocked AS (
           SELECT w.lim, t.failures, t.window_end FROM wanted w JOIN login_throttle t USING (key)
           WHERE t.window_end > $4 AND t.failures >= w.lim
         ),
         counted AS (
           INSERT INTO login_throttle (key, window_end, failures)
           SELECT key, window_end, 1 FROM wanted WHERE NOT EXISTS (SELECT 1 FROM blocked) ORDER BY key
           ON CONFLICT (key) DO UPDATE SET
             failures = CASE WHEN login_throttle.window_end <= $4 THEN 1 ELSE login_throttle.failures + 1 END,
             window_end = CASE WHEN login_throttle.window_end <= $4 THEN excluded.window_end ELSE login_throttle.window_end END
           RETURNING key, failures, window_end
         )
         SELECT w.lim, c.failures, c.window_end, false FROM counted c JOIN wanted w USING (key)
         UNION ALL
         SELECT lim, failures, window_end, true FROM blocked";
    let counted: Vec<(i32, i32, OffsetDateTime, bool)> = sqlx::query_as(sql)
        .bind(&keys)
        .bind(&limits)
        .bind(&window_ends)
        .bind(now)
        .fetch_all(mm.db())
        .timed(statement_span(sql))
        .await?;

    let retry_after = counted
        .iter()
        .filter(|(limit, failures, _, blocked)| *blocked || failures > limit)
        .map(|(_, _, window_end, _)| *window_end - now)
        .max();
    match retry_after {
        Some(wait) => {
            mm.throttled().count(limit);
            Err(Error::TooManyAttempts { retry_after: Duration::try_from(wait).unwrap_or_default() })
        }
        None => Ok(keys),
    }
}
