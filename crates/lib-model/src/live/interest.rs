//! An instance's interest in changes (the table `live_interest`): while it lasts, the triggers
//! capture changes, those to tasks only for the readers it lists; and the wait that makes a new
//! reader's first subscription miss nothing.

use crate::{ModelManager, Result};
use std::time::Duration;

/// How long an instance's declared interest in changes lasts unless it declares it again.
pub const INTEREST_LASTS: Duration = Duration::from_secs(60);

/// How long [`wait_for_writes_in_flight`] waits at most.
const IN_FLIGHT_WAIT: Duration = Duration::from_secs(10);
/// How long it pauses between its looks, first and at most: the pause doubles, so that a short
/// write is seen ended within milliseconds, and a transaction left open costs each waiting reader
/// about a hundred looks over the whole wait rather than two thousand (after a restart, every
/// user reconnecting is a new reader waiting at once, each look a statement of the pool's).
const IN_FLIGHT_FIRST_PAUSE: Duration = Duration::from_millis(5);
const IN_FLIGHT_LAST_PAUSE: Duration = Duration::from_millis(100);

/// Declares that `instance` wants changes captured for [`INTEREST_LASTS`] from now, for
/// `readers`: changes to tasks only some member of whose project is among them, of any instance
/// (see the migrations `live_interest` and `live_readers`). `readers` replaces the instance's
/// earlier list.
///
/// Writes in flight may have looked before the declaration, and will not be captured for a
/// reader it adds: [`wait_for_writes_in_flight`] before telling that reader its changes come.
pub async fn declare_interest(mm: &ModelManager, instance: &str, readers: &[i64]) -> Result<()> {
    sqlx::query(
        "INSERT INTO live_interest (instance, until, readers)
         VALUES ($1, now() + make_interval(secs => $2), $3)
         ON CONFLICT (instance) DO UPDATE SET until = excluded.until, readers = excluded.readers",
    )
    .bind(instance)
    .bind(INTEREST_LASTS.as_secs_f64())
    .bind(readers)
    .execute(mm.db())
    .await?;
    Ok(())
}

/// Waits for the writes in flight now to end (at most [`IN_FLIGHT_WAIT`]): after a
/// [`declare_interest`], whatever commits once this returns is captured for its readers. Some
/// milliseconds, usually; a transaction left open holds it for the whole bound.
pub async fn wait_for_writes_in_flight(mm: &ModelManager) -> Result<()> {
    // The transactions in flight now, some of which may have looked before the declaration:
    // those the snapshot lists, and those with ids from its `xmax` (past the newest that had
    // ended, which it does not list) to the one this statement takes.
    let in_flight: Vec<String> = sqlx::query_scalar(
        "SELECT x::text FROM pg_snapshot_xip(pg_current_snapshot()) AS x
         UNION ALL
         SELECT x::text FROM generate_series(
             pg_snapshot_xmax(pg_current_snapshot())::text::bigint,
             pg_current_xact_id()::text::bigint - 1) AS x",
    )
    .fetch_all(mm.db())
    .await?;
    let deadline = tokio::time::Instant::now() + IN_FLIGHT_WAIT;
    let mut pause = IN_FLIGHT_FIRST_PAUSE;
    while !in_flight.is_empty() && tokio::time::Instant::now() < deadline {
        let running: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM unnest($1::text[]) AS x WHERE pg_xact_status(x::xid8) = 'in progress'",
        )
        .bind(&in_flight)
        .fetch_one(mm.db())
        .await?;
        if running == 0 {
            break;
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(IN_FLIGHT_LAST_PAUSE);
    }
    Ok(())
}

/// Withdraws `instance`'s interest (its last subscription went, or it stops).
pub async fn withdraw_interest(mm: &ModelManager, instance: &str) -> Result<()> {
    sqlx::query("DELETE FROM live_interest WHERE instance = $1").bind(instance).execute(mm.db()).await?;
    Ok(())
}
