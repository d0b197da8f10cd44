//! Which transactions' changes have committed since the last look: while this instance wants
//! changes ([`start_reading`]), it reads `live_change` every [`READ_EVERY`] and hands each newly
//! committed batch to [`ModelManager::live_feed`], in commit order.
//!
//! Reading replaces a `NOTIFY` per writing transaction: Postgres serialises the commits of
//! transactions that notify (they hold one lock from before their commit record is written until
//! after it is flushed), which cost writes a sixth of their throughput while anyone subscribed.
//!
//! How no batch is missed or read twice: a row's `seq` is drawn after its transaction has its
//! id (the triggers call `txid_current()` first), and a sequence hands out numbers in the order
//! they are asked for. So, in the snapshot of one read, every row numbered below the highest
//! visible one is either visible (its transaction committed) or belongs to a transaction in
//! progress as that snapshot sees it: one it lists (`pg_snapshot_xip`), or one whose id is at
//! or past its `xmax`, which it does not list (ids handed out after the newest transaction
//! that had ended: a writer that took its id after another, and its `seq` before it, is one
//! while the other commits). The next read takes the rows past that highest number, and the
//! rows of those transactions: a batch is read, whole, by the first read that sees it committed,
//! and by no other.

use super::LiveEvent;
use crate::{Error, ModelManager, Result};
use sqlx::Row as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::watch;

/// How often changes are read while wanted: what it adds to a change's delivery, at most.
const READ_EVERY: Duration = Duration::from_millis(25);

/// The most batches one read hands on; past it (a long stall, a flood of small transactions),
/// the feed says [`LiveEvent::Lost`] and reading goes on from the newest change.
const MOST_BATCHES_PER_READ: i64 = 1024;

/// How long [`start_reading`] waits for reads to happen.
const START_WAIT: Duration = Duration::from_secs(5);

/// Whether this instance reads changes, and how many reads it has made.
pub(crate) struct Reading {
    wanted: AtomicBool,
    reads: watch::Sender<u64>,
}

impl Default for Reading {
    fn default() -> Self {
        Self { wanted: AtomicBool::new(false), reads: watch::channel(0).0 }
    }
}

/// Where the last read stopped: the highest change it saw, and the transactions then in
/// progress, whose changes may still commit below it: those listed (by id), and every one from
/// `xmax` on.
struct Mark {
    last: i64,
    running: Vec<i64>,
    xmax: i64,
}

/// Starts reading changes, and returns once a read has begun after this call: whatever commits
/// from now on is handed to the feed.
pub async fn start_reading(mm: &ModelManager) -> Result<()> {
    let reading = mm.live_reading();
    let mut reads = reading.reads.subscribe();
    let seen = *reads.borrow_and_update();
    reading.wanted.store(true, Ordering::SeqCst);
    // The read that ends next may have begun before this call; the one after it did not.
    let begun_after = reads.wait_for(|count| *count >= seen + 2);
    match tokio::time::timeout(START_WAIT, begun_after).await {
        Ok(Ok(_)) => Ok(()),
        // The reader is not running, or the database does not answer it.
        _ => Err(Error::Unavailable(sqlx::Error::PoolTimedOut)),
    }
}

/// Stops reading changes (this instance has no subscriber left).
pub fn stop_reading(mm: &ModelManager) {
    mm.live_reading().wanted.store(false, Ordering::SeqCst);
}

/// Reads changes every [`READ_EVERY`] while they are wanted, for as long as it runs.
pub(crate) async fn read_changes(mm: ModelManager) {
    let mut every = tokio::time::interval(READ_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut mark: Option<Mark> = None;
    loop {
        every.tick().await;
        let reading = mm.live_reading();
        if !reading.wanted.load(Ordering::SeqCst) {
            // Whatever commits while no one wants it is not captured: start afresh next time.
            mark = None;
            continue;
        }
        let read = match &mark {
            Some(mark) => read_after(&mm, mark).await,
            None => first_mark(&mm).await.map(|mark| (mark, Vec::new())),
        };
        match read {
            Ok((next, batches)) => {
                batches.into_iter().for_each(|event| mm.announce(event));
                mark = Some(next);
                reading.reads.send_modify(|count| *count += 1);
            }
            // A failed read may be Postgres restarting after a crash, which empties the
            // (unlogged) table: changes not read yet may be gone.
            Err(error) if mark.is_some() => {
                tracing::warn!(%error, "could not read live changes; their subscribers start over");
                mark = None;
                mm.announce(LiveEvent::Lost);
            }
            Err(_) => {}
        }
    }
}

/// Where reading starts: past every change committed now, with the transactions in progress.
async fn first_mark(mm: &ModelManager) -> Result<Mark> {
    let row = sqlx::query(
        "SELECT coalesce((SELECT max(seq) FROM live_change), 0) AS last,
                ARRAY(SELECT x::text::bigint FROM pg_snapshot_xip(pg_current_snapshot()) AS x) AS running,
                pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS xmax",
    )
    .fetch_one(mm.db())
    .await?;
    Ok(Mark { last: row.try_get("last")?, running: row.try_get("running")?, xmax: row.try_get("xmax")? })
}

/// The batches committed since `mark` (entity by entity, a batch in the order of its last
/// change), and the next mark; one statement, so one snapshot.
async fn read_after(mm: &ModelManager, mark: &Mark) -> Result<(Mark, Vec<LiveEvent>)> {
    let (low, high) = match (mark.running.iter().min(), mark.running.iter().max()) {
        (Some(low), Some(high)) => (*low, *high),
        _ => (0, -1),
    };
    // The range beside the list, as in the delivery statement: new batches are past the
    // table's statistics, and a range there is read by the index.
    let row = sqlx::query(
        "WITH seen AS (
             SELECT entity, batch, seq FROM live_change WHERE seq > $1
             UNION ALL
             SELECT entity, batch, seq FROM live_change
             WHERE batch BETWEEN $3 AND $4 AND batch = ANY($2) AND seq <= $1
             UNION ALL
             SELECT entity, batch, seq FROM live_change WHERE batch >= $6 AND seq <= $1
         ), batches AS (
             SELECT entity, batch, max(seq) AS top FROM seen GROUP BY entity, batch ORDER BY top LIMIT $5
         )
         SELECT (SELECT max(seq) FROM live_change) AS newest,
                ARRAY(SELECT x::text::bigint FROM pg_snapshot_xip(pg_current_snapshot()) AS x) AS running,
                pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS xmax,
                ARRAY(SELECT entity FROM batches ORDER BY top) AS entities,
                ARRAY(SELECT batch FROM batches ORDER BY top) AS batches",
    )
    .bind(mark.last)
    .bind(&mark.running)
    .bind(low)
    .bind(high)
    .bind(MOST_BATCHES_PER_READ + 1)
    .bind(mark.xmax)
    .fetch_one(mm.db())
    .await?;
    let newest: Option<i64> = row.try_get("newest")?;
    let entities: Vec<String> = row.try_get("entities")?;
    let batches: Vec<i64> = row.try_get("batches")?;
    let next = Mark {
        last: newest.unwrap_or(mark.last).max(mark.last),
        running: row.try_get("running")?,
        xmax: row.try_get("xmax")?,
    };
    if batches.len() as i64 > MOST_BATCHES_PER_READ {
        tracing::info!(
            "more than {MOST_BATCHES_PER_READ} batches of live changes at once; their subscribers start over"
        );
        return Ok((next, vec![LiveEvent::Lost]));
    }
    let events = entities.into_iter().zip(batches).map(|(entity, batch)| LiveEvent::Changed { entity, batch });
    Ok((next, events.collect()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::TestDb;

    /// `count` committed transactions, each writing one task (so each one batch), in one round
    /// trip: a procedure block may commit between its statements.
    async fn commit_transactions(mm: &ModelManager, count: i64) {
        let writes = format!(
            "DO $$ DECLARE u BIGINT; p BIGINT; BEGIN
               INSERT INTO \"user\" (username, pwd) VALUES ('bound' || clock_timestamp(), 'x') RETURNING id INTO u;
               INSERT INTO project (owner_id, name, cid, ctime, mid, mtime) VALUES (u, 'Bound', u, now(), u, now())
                 RETURNING id INTO p;
               UPDATE live_interest SET readers = readers || u WHERE instance = 'test';
               COMMIT;
               FOR i IN 1..{count} LOOP
                 INSERT INTO task (project_id, title, cid, ctime, mid, mtime) VALUES (p, 'row', u, now(), u, now());
                 COMMIT;
               END LOOP;
             END $$"
        );
        sqlx::raw_sql(sqlx::AssertSqlSafe(writes)).execute(mm.db()).await.unwrap();
    }

    #[tokio::test]
    async fn one_read_hands_on_at_most_its_bound_of_batches_and_past_it_says_lost() {
        let db = TestDb::new().await;
        let mm = db.mm();
        // Captured, as while an instance has subscribers (the writer among its readers, below).
        sqlx::query("INSERT INTO live_interest (instance, until) VALUES ('test', now() + interval '1 hour')")
            .execute(mm.db())
            .await
            .unwrap();
        let mark = first_mark(&mm).await.unwrap();
        // The project's own change is one batch more.
        commit_transactions(&mm, MOST_BATCHES_PER_READ - 1).await;
        let (_, events) = read_after(&mm, &mark).await.unwrap();
        assert_eq!(events.len() as i64, MOST_BATCHES_PER_READ, "at the bound: every batch");
        assert!(events.iter().all(|event| matches!(event, LiveEvent::Changed { .. })));

        commit_transactions(&mm, 1).await;
        let (next, events) = read_after(&mm, &mark).await.unwrap();
        assert_eq!(events, [LiveEvent::Lost], "one past the bound: lost");
        let (_, after) = read_after(&mm, &next).await.unwrap();
        assert!(after.is_empty(), "reading goes on from the newest change");
    }
}
