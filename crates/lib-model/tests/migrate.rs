//! Migrations as a step of their own: instances starting together against one empty database
//! take turns, so exactly one applies each migration and the others find nothing left to do.

use lib_model::MIGRATOR;
use lib_model::test_support::TestDb;

#[tokio::test]
async fn four_instances_migrating_one_empty_database_at_once_apply_each_migration_once() {
    let db = TestDb::empty().await;
    let [a, b, c, d] = [db.mm(), db.mm(), db.mm(), db.mm()];
    // Polled together: each waits on the database, so all four are in flight at once.
    let runs = tokio::join!(a.migrate(), b.migrate(), c.migrate(), d.migrate());

    let mut applied: Vec<i64> = Vec::new();
    for run in [runs.0, runs.1, runs.2, runs.3] {
        applied.extend(run.expect("every instance starts").into_iter().map(|m| m.version));
    }
    applied.sort_unstable();
    let all: Vec<i64> = MIGRATOR.iter().map(|m| m.version).collect();
    assert_eq!(applied, all, "each migration applied once, by one of the instances");

    // Once migrated, another run applies nothing.
    assert!(db.mm().migrate().await.unwrap().is_empty());
}
