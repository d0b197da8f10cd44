//! [`lib_model::Transaction`]: calls on its manager stay only when it commits; rolled back, or
//! dropped unfinished between calls (its request abandoned), nothing of them stays, and the
//! connection it held serves other calls again.

mod common;

use common::{project, user};
use lib_model::ModelManager;
use lib_model::project::{ProjectBmc, ProjectForCreate};
use lib_model::test_support::TestDb;
use lib_model::{Ctx, Error};

async fn names(ctx: &Ctx, mm: &ModelManager) -> Vec<String> {
    let projects = ProjectBmc::list(ctx, mm, Default::default(), &Default::default()).await.unwrap();
    projects.into_iter().map(|p| p.name).collect()
}

async fn create(ctx: &Ctx, mm: &ModelManager, name: &str) -> lib_model::Result<i64> {
    Ok(ProjectBmc::create(ctx, mm, ProjectForCreate { name: name.into() }).await?.id)
}

/// A manager with one connection: every call after a transaction reuses the one it held.
fn one_connection(db: &TestDb) -> ModelManager {
    let mut config = db.config();
    config.db_max_connections = 1;
    db.mm_with(&config, std::sync::Arc::new(lib_core::SystemClock))
}

#[tokio::test]
async fn what_a_transaction_does_stays_only_when_it_commits() {
    let db = TestDb::new().await;
    let mm = one_connection(&db);
    let ctx = user(&mm, "alice").await;

    let txn = mm.begin(&ctx).await.unwrap();
    create(&ctx, txn.manager(), "committed").await.unwrap();
    assert_eq!(names(&ctx, txn.manager()).await, ["committed"], "the transaction sees its own write");
    txn.commit().await.unwrap();
    assert_eq!(names(&ctx, &mm).await, ["committed"]);

    let txn = mm.begin(&ctx).await.unwrap();
    create(&ctx, txn.manager(), "rolled back").await.unwrap();
    txn.rollback().await.unwrap();

    let txn = mm.begin(&ctx).await.unwrap();
    create(&ctx, txn.manager(), "dropped").await.unwrap();
    drop(txn);

    assert_eq!(names(&ctx, &mm).await, ["committed"]);
}

#[tokio::test]
async fn a_failed_call_fails_the_commit_and_the_connections_come_back() {
    let db = TestDb::new().await;
    let mm = one_connection(&db);
    let ctx = user(&mm, "alice").await;
    project(&ctx, &mm, "taken").await;

    for _ in 0..3 {
        let txn = mm.begin(&ctx).await.unwrap();
        create(&ctx, txn.manager(), "new").await.unwrap();
        let refused = create(&ctx, txn.manager(), "  ").await;
        assert!(matches!(refused, Err(Error::InvalidInput(_))), "{refused:?}");
        // Postgres refuses everything after a failed statement, the commit included.
        assert!(create(&ctx, txn.manager(), "after").await.is_err());
        assert!(txn.commit().await.is_err());
    }
    // With one connection, every transaction above gave it back.
    assert_eq!(names(&ctx, &mm).await, ["taken"]);
}

#[tokio::test]
async fn create_many_creates_every_row_in_order_or_none() {
    use lib_model::task::{TaskBmc, TaskForCreate};
    let db = TestDb::new().await;
    let mm = db.mm();
    let alice = user(&mm, "alice").await;
    let bob = user(&mm, "bob").await;
    let (mine, bobs) = (project(&alice, &mm, "mine").await, project(&bob, &mm, "bob's").await);
    let task =
        |project_id: i64, title: &str| TaskForCreate { project_id, title: title.into(), done: None, description: None };

    let titles = ["c", "a", "b", "a"];
    let created = TaskBmc::create_many(&alice, &mm, titles.map(|t| task(mine, t)).to_vec()).await.unwrap();
    assert_eq!(created.iter().map(|t| t.title.as_str()).collect::<Vec<_>>(), titles);
    assert!(created.iter().all(|t| t.project_id == mine && t.audit.cid == alice.user_id()));

    let foreign = TaskBmc::create_many(&alice, &mm, vec![task(mine, "d"), task(bobs, "e"), task(mine, "f")]).await;
    assert!(matches!(foreign, Err(Error::EntityNotFound { entity: "project", .. })), "{foreign:?}");
    let all = TaskBmc::list(&alice, &mm, Default::default(), &Default::default()).await.unwrap();
    assert_eq!(all.rows.len(), 4, "none of the three was created");
    let bobs_tasks = TaskBmc::list(&bob, &mm, Default::default(), &Default::default()).await.unwrap();
    assert!(bobs_tasks.rows.is_empty());
}

#[tokio::test]
async fn two_transactions_that_deadlock_answer_conflict_and_the_other_goes_through() {
    use lib_model::task::{TaskBmc, TaskForUpdate};
    let db = TestDb::new().await;
    let mm = db.mm();
    let ctx = user(&mm, "alice").await;
    let project_id = project(&ctx, &mm, "p").await;
    let (a, b) = (common::task(&ctx, &mm, project_id, "a").await.id, common::task(&ctx, &mm, project_id, "b").await.id);
    let tick = || TaskForUpdate { done: Some(true), ..Default::default() };

    // Each holds one row and then asks for the other's: Postgres breaks the cycle by failing one.
    let (first, second) = (mm.begin(&ctx).await.unwrap(), mm.begin(&ctx).await.unwrap());
    TaskBmc::update(&ctx, first.manager(), a, tick()).await.unwrap();
    TaskBmc::update(&ctx, second.manager(), b, tick()).await.unwrap();
    let cross = |txn: lib_model::Transaction, id: i64| async move {
        let updated = TaskBmc::update(&ctx, txn.manager(), id, tick()).await.map(|_| ());
        // The loser's rollback frees its row for the winner.
        match &updated {
            Ok(()) => txn.commit().await.unwrap(),
            Err(_) => txn.rollback().await.unwrap(),
        }
        updated
    };
    let (one, two) = tokio::join!(cross(first, b), cross(second, a));
    let conflicts = [&one, &two].iter().filter(|r| matches!(r, Err(Error::Conflict { .. }))).count();
    assert_eq!((conflicts, one.is_ok() || two.is_ok()), (1, true), "{one:?} {two:?}");
}
