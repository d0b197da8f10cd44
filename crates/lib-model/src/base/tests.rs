//! Against a real database, on a pool of one connection so that its session is the one looked
//! at: which statements stay prepared on the connection after a call.

use crate::filter::{Filters, ListOptions};
use crate::project::{ProjectBmc, ProjectForCreate};
use crate::task::{TaskBmc, TaskForCreate};
use crate::test_support::TestDb;
use crate::user::{NewPwd, UserBmc, Username};
use crate::{Ctx, ModelManager};
use lib_core::SystemClock;
use serde_json::json;
use std::sync::Arc;

/// A model manager whose pool holds a single connection, a user and a project with three tasks.
async fn one_connection(db: &TestDb) -> (ModelManager, Ctx, Vec<i64>) {
    let mut config = db.config();
    config.db_max_connections = 1;
    let mm = db.mm_with(&config, Arc::new(SystemClock));
    let user =
        UserBmc::create(&mm, &Username::parse("alice").unwrap(), &NewPwd::parse("pwd", "a good password").unwrap())
            .await
            .unwrap();
    let ctx = Ctx::for_user(user);
    let project_id = ProjectBmc::create(&ctx, &mm, ProjectForCreate { name: "Alpha".into() }).await.unwrap().id;
    let mut ids = Vec::new();
    for title in ["a", "b", "c"] {
        let data = TaskForCreate { project_id, title: title.into(), done: None, description: None };
        ids.push(TaskBmc::create(&ctx, &mm, data).await.unwrap().id);
    }
    (mm, ctx, ids)
}

/// The statements prepared on the pool's one connection (the query itself is not kept).
async fn prepared(mm: &ModelManager) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM pg_prepared_statements")
        .persistent(false)
        .fetch_one(mm.db())
        .await
        .unwrap()
}

fn filters(value: serde_json::Value) -> Filters {
    Filters::parse(Some(&value), <TaskBmc as crate::base::DbBmc>::COLUMNS).unwrap()
}

#[tokio::test]
async fn lists_and_counts_of_new_filter_shapes_leave_no_prepared_statement() {
    let db = TestDb::new().await;
    let (mm, ctx, _) = one_connection(&db).await;
    let before = prepared(&mm).await;
    for n in 1..=5 {
        let titles: Vec<String> = (0..n).map(|i| format!("t{i}")).collect();
        let shape = json!([{"title": {"$notContainsAny": titles}}, {"id": {"$in": (0..n).collect::<Vec<_>>()}}]);
        TaskBmc::list(&ctx, &mm, filters(shape.clone()), &ListOptions::default()).await.unwrap();
        assert_eq!(TaskBmc::count(&ctx, &mm, filters(shape)).await.unwrap(), 3);
    }
    assert_eq!(prepared(&mm).await, before);

    // Unfiltered, in the default order, a list and a count have one text each: kept.
    for _ in 0..3 {
        TaskBmc::list(&ctx, &mm, filters(json!([{"done": true}, {}])), &ListOptions::default()).await.unwrap();
        TaskBmc::count(&ctx, &mm, Filters::default()).await.unwrap();
    }
    assert_eq!(prepared(&mm).await, before + 2);
}

#[tokio::test]
async fn get_by_id_and_get_many_stay_prepared_as_one_statement_each() {
    let db = TestDb::new().await;
    let (mm, ctx, ids) = one_connection(&db).await;
    let before = prepared(&mm).await;
    for id in &ids {
        assert_eq!(TaskBmc::get(&ctx, &mm, *id).await.unwrap().id, *id);
    }
    assert_eq!(prepared(&mm).await, before + 1, "one statement for every get by id");
    for n in 1..=ids.len() {
        let mut found: Vec<i64> =
            TaskBmc::get_many(&ctx, &mm, ids[..n].to_vec()).await.unwrap().iter().map(|t| t.id).collect();
        found.sort_unstable();
        assert_eq!(found, ids[..n]);
    }
    assert_eq!(prepared(&mm).await, before + 2, "one statement for get_many, whatever the number of ids");
}

#[tokio::test]
async fn get_many_sees_only_the_callers_rows() {
    let db = TestDb::new().await;
    let (mm, _, ids) = one_connection(&db).await;
    let bob = UserBmc::create(&mm, &Username::parse("bob").unwrap(), &NewPwd::parse("pwd", "a good password").unwrap())
        .await
        .unwrap();
    let found = TaskBmc::get_many(&Ctx::for_user(bob), &mm, ids).await.unwrap();
    assert!(found.is_empty());
}
