//! Reading live changes (`lib_model::live::start_reading`): every committed transaction's batch
//! is read once, in commit order, however transactions overlap; a rolled back one never.

mod common;

use common::{listening, next_batch, project, reader};
use lib_model::live::LiveEvent;
use lib_model::sqlx::{self, Connection as _, PgConnection};
use lib_model::test_support::TestDb;
use std::collections::{HashMap, HashSet};
use std::time::Duration;

const INSERT: &str =
    "INSERT INTO task (project_id, title, cid, ctime, mid, mtime) VALUES ($1, $2, $3, now(), $3, now())";

/// Opens a transaction on `conn`, writes `rows` tasks in it, and answers it with its batch.
async fn writing<'c>(
    conn: &'c mut PgConnection,
    project_id: i64,
    user_id: i64,
    rows: usize,
) -> (sqlx::Transaction<'c, sqlx::Postgres>, i64) {
    let mut tx = conn.begin().await.unwrap();
    let batch: i64 = sqlx::query_scalar("SELECT txid_current()").fetch_one(&mut *tx).await.unwrap();
    for row in 0..rows {
        sqlx::query(INSERT).bind(project_id).bind(format!("row {row}")).bind(user_id).execute(&mut *tx).await.unwrap();
    }
    (tx, batch)
}

#[tokio::test]
async fn a_transaction_that_commits_after_a_later_one_is_still_read() {
    let db = TestDb::new().await;
    let (mm, mut feed) = listening(&db).await;
    let alice = reader(&db, &mm, "alice").await;
    let project_id = project(&alice, &mm, "Overlap").await;
    let mut first_conn = PgConnection::connect(db.url()).await.unwrap();
    let mut second_conn = PgConnection::connect(db.url()).await.unwrap();

    // The slow transaction's change is numbered below the quick one's, which is read first.
    let (slow, slow_batch) = writing(&mut first_conn, project_id, alice.user_id(), 1).await;
    let (quick, quick_batch) = writing(&mut second_conn, project_id, alice.user_id(), 1).await;
    quick.commit().await.unwrap();
    assert_eq!(next_batch(&mut feed, "task").await, quick_batch, "read while the slow one runs");

    slow.commit().await.unwrap();
    assert_eq!(next_batch(&mut feed, "task").await, slow_batch, "read once committed, though numbered below");
}

/// Postgres' snapshots do not list the transactions whose ids are past the newest one that had
/// ended (their `xmax`): here the later writer, while the earlier one's commit is read. Without
/// them in the reader's mark, its change was never read (when no other transaction in the
/// cluster ends in between, which would move the `xmax` past it).
#[tokio::test]
async fn a_transaction_with_a_newer_id_than_one_that_commits_first_is_still_read() {
    let db = TestDb::new().await;
    let (mm, mut feed) = listening(&db).await;
    let alice = reader(&db, &mm, "alice").await;
    let project_id = project(&alice, &mm, "Ids").await;
    let mut early_conn = PgConnection::connect(db.url()).await.unwrap();
    let mut late_conn = PgConnection::connect(db.url()).await.unwrap();

    // The early one takes its id first; the late one takes its id, and its change's number, next.
    let mut early = early_conn.begin().await.unwrap();
    let early_batch: i64 = sqlx::query_scalar("SELECT txid_current()").fetch_one(&mut *early).await.unwrap();
    let (late, late_batch) = writing(&mut late_conn, project_id, alice.user_id(), 1).await;
    assert!(late_batch > early_batch);
    sqlx::query(INSERT).bind(project_id).bind("early").bind(alice.user_id()).execute(&mut *early).await.unwrap();
    early.commit().await.unwrap();
    assert_eq!(next_batch(&mut feed, "task").await, early_batch, "read while the late one runs");

    late.commit().await.unwrap();
    assert_eq!(next_batch(&mut feed, "task").await, late_batch, "read once committed");
}

#[tokio::test]
async fn every_committed_transaction_is_read_once_in_commit_order() {
    const WRITERS: usize = 6;
    const TRANSACTIONS: usize = 30;
    let db = TestDb::new().await;
    let (mm, mut feed) = listening(&db).await;
    let alice = reader(&db, &mm, "alice").await;
    let project_id = project(&alice, &mm, "Busy").await;

    let writers = (0..WRITERS).map(|writer| {
        let (url, user_id) = (db.url().to_string(), alice.user_id());
        tokio::spawn(async move {
            let mut conn = PgConnection::connect(&url).await.unwrap();
            let (mut committed, mut rolled_back) = (Vec::new(), Vec::new());
            for n in 0..TRANSACTIONS {
                let (tx, batch) = writing(&mut conn, project_id, user_id, 1 + n % 3).await;
                if (writer + n) % 4 == 0 {
                    tx.rollback().await.unwrap();
                    rolled_back.push(batch);
                } else {
                    tx.commit().await.unwrap();
                    committed.push(batch);
                }
            }
            (committed, rolled_back)
        })
    });
    let mut committed_by_writer = Vec::new();
    let mut rolled_back = HashSet::new();
    for writer in writers {
        let (committed, rolled) = writer.await.unwrap();
        committed_by_writer.push(committed);
        rolled_back.extend(rolled);
    }
    let committed: HashSet<i64> = committed_by_writer.iter().flatten().copied().collect();

    let mut read = Vec::new();
    let reading = async {
        while read.len() < committed.len() {
            if let LiveEvent::Changed { entity, batch } = feed.recv().await.expect("the feed is open")
                && entity == "task"
            {
                read.push(batch);
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), reading).await.expect("as many batches as committed within 10 s");

    let read_set: HashSet<i64> = read.iter().copied().collect();
    assert_eq!(read_set.len(), read.len(), "no batch read twice");
    assert!(read_set.is_disjoint(&rolled_back), "no rolled back batch read");
    assert_eq!(read_set, committed, "every committed batch read");
    let position: HashMap<i64, usize> = read.iter().enumerate().map(|(at, batch)| (*batch, at)).collect();
    for batches in &committed_by_writer {
        let positions: Vec<usize> = batches.iter().map(|batch| position[batch]).collect();
        assert!(positions.is_sorted(), "one connection's transactions read in the order they committed");
    }
}
