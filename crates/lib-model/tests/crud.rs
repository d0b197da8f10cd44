//! The generic CRUD through the project and task Bmcs: audit columns, patches, list options,
//! constraint mapping.

mod common;

use common::{fixture, project, task, user};
use lib_model::Error;
use lib_model::member::{MemberBmc, Role};
use lib_model::project::{ProjectBmc, ProjectForCreate, ProjectForUpdate};
use lib_model::task::{TaskBmc, TaskForCreate, TaskForUpdate};
use lib_model::test_support::TestDb;
use serde_json::json;

#[tokio::test]
async fn create_sets_owner_and_audit_columns_and_get_returns_the_same_row() {
    let db = TestDb::new().await;
    let mm = db.mm();
    let ctx = user(&mm, "alice").await;
    let created = ProjectBmc::create(&ctx, &mm, ProjectForCreate { name: "Alpha".into() }).await.unwrap();
    assert_eq!(created.owner_id, ctx.user_id());
    assert_eq!((created.audit.cid, created.audit.mid), (ctx.user_id(), ctx.user_id()));
    assert_eq!(created.audit.ctime, created.audit.mtime);
    assert_eq!(ProjectBmc::get(&ctx, &mm, created.id).await.unwrap(), created);
}

#[tokio::test]
async fn update_is_a_patch_and_moves_mid_and_mtime() {
    let db = TestDb::new().await;
    let mm = db.mm();
    let ctx = user(&mm, "alice").await;
    let project_id = project(&ctx, &mm, "Alpha").await;
    let data = TaskForCreate { project_id, title: "t".into(), done: None, description: Some("d".into()) };
    let created = TaskBmc::create(&ctx, &mm, data).await.unwrap();
    assert!(!created.done, "done defaults to false");

    let done =
        TaskBmc::update(&ctx, &mm, created.id, TaskForUpdate { done: Some(true), ..Default::default() }).await.unwrap();
    assert_eq!((done.title.as_str(), done.done, done.description.as_deref()), ("t", true, Some("d")));
    assert!(done.audit.mtime > created.audit.mtime);
    assert_eq!(done.audit.ctime, created.audit.ctime);

    let unchanged = TaskBmc::update(&ctx, &mm, created.id, TaskForUpdate::default()).await.unwrap();
    assert_eq!(unchanged, done, "an empty patch changes nothing, not even mtime");

    let cleared: TaskForUpdate = serde_json::from_value(json!({"description": null})).unwrap();
    let cleared = TaskBmc::update(&ctx, &mm, created.id, cleared).await.unwrap();
    assert_eq!(cleared.description, None);
    assert_eq!(cleared.title, "t");
}

#[test]
fn for_update_refuses_null_for_required_fields_and_unknown_fields() {
    assert!(serde_json::from_value::<TaskForUpdate>(json!({"title": null})).is_err());
    assert!(serde_json::from_value::<TaskForUpdate>(json!({"done": null})).is_err());
    assert!(serde_json::from_value::<TaskForUpdate>(json!({"mtime": "2026-01-01T00:00:00Z"})).is_err());
    assert!(serde_json::from_value::<ProjectForUpdate>(json!({"owner_id": 2})).is_err());
    assert!(serde_json::from_value::<ProjectForCreate>(json!({"name": "x", "id": 1})).is_err());
}

#[tokio::test]
async fn delete_returns_the_row_and_takes_the_tasks_with_it() {
    let db = TestDb::new().await;
    let mm = db.mm();
    let ctx = user(&mm, "alice").await;
    let project_id = project(&ctx, &mm, "Alpha").await;
    let t = task(&ctx, &mm, project_id, "t").await;
    let deleted = ProjectBmc::delete(&ctx, &mm, project_id).await.unwrap();
    assert_eq!(deleted.id, project_id);
    assert!(matches!(TaskBmc::get(&ctx, &mm, t.id).await, Err(Error::EntityNotFound { entity: "task", .. })));
    assert!(matches!(
        ProjectBmc::delete(&ctx, &mm, project_id).await,
        Err(Error::EntityNotFound { entity: "project", id }) if id == project_id
    ));
}

#[tokio::test]
async fn constraints_become_typed_errors_by_name() {
    let db = TestDb::new().await;
    let mm = db.mm();
    let ctx = user(&mm, "alice").await;
    let project_id = project(&ctx, &mm, "Alpha").await;
    // Names are labels: two projects may share one.
    let same_name = ProjectBmc::create(&ctx, &mm, ProjectForCreate { name: "Alpha".into() }).await;
    assert!(same_name.is_ok_and(|p| p.id != project_id));
    let member_again = MemberBmc::add(&ctx, &mm, project_id, "alice", Role::Viewer).await;
    assert!(matches!(member_again, Err(Error::Conflict { .. })), "{member_again:?}");
    let blank = ProjectBmc::create(&ctx, &mm, ProjectForCreate { name: "  ".into() }).await;
    assert!(matches!(&blank, Err(Error::InvalidInput(invalid)) if invalid.field == "name"), "{blank:?}");
    let long = TaskForCreate { project_id, title: "x".repeat(501), done: None, description: None };
    let long = TaskBmc::create(&ctx, &mm, long).await;
    assert!(matches!(&long, Err(Error::InvalidInput(invalid)) if invalid.field == "title"), "{long:?}");
    let nul = TaskForCreate { project_id, title: "a\u{0}b".into(), done: None, description: None };
    let nul = TaskBmc::create(&ctx, &mm, nul).await;
    assert!(matches!(&nul, Err(Error::InvalidInput(invalid)) if invalid.problem.contains("NUL")), "{nul:?}");
}

#[tokio::test]
async fn list_options_order_page_and_validate() {
    let f = fixture().await;
    let list = |options: serde_json::Value| {
        let (ctx, mm) = (f.ctx, f.mm.clone());
        async move {
            let options = TaskBmc::parse_list_options(Some(&common::raw(&options)))?;
            let tasks = TaskBmc::list(&ctx, &mm, Default::default(), &options).await?;
            Ok::<_, Error>(tasks.into_iter().map(|t| t.title).collect::<Vec<_>>())
        }
    };
    let all = common::expected(|_, _, _| true);
    assert_eq!(list(json!({})).await.unwrap(), all, "default order is id ascending");
    // Mixed case, `%`, `_` and `\` sort differently under different collations: the expected
    // order of these titles is the database's own.
    let by_title_desc = list(json!({"order_bys": "!title"})).await.unwrap();
    assert_eq!(by_title_desc, titles_by_postgres_descending(&f.db).await);
    assert_ne!(by_title_desc, all, "the order is not the default one");
    let by_done_then_id = list(json!({"order_bys": ["done", "!id"]})).await.unwrap();
    let expected = ["task bb two", "Task BB one", "snakeXcase", "snake_case", "1000 done", r"back\slash", "100% done"];
    assert_eq!(by_done_then_id, expected);
    assert_eq!(list(json!({"limit": 2, "offset": 1})).await.unwrap(), all[1..3].to_vec());
    assert!(list(json!({"offset": 100})).await.unwrap().is_empty());

    for (options, expected) in [
        (json!({"order_bys": "!owner_id"}), "unknown field `owner_id`"),
        (json!({"order_bys": "title; DROP TABLE task"}), "unknown field"),
        (json!({"order_bys": [1]}), "order_bys"),
        (json!({"limit": 0}), "limit: "),
        (json!({"limit": 1001}), "limit: "),
        (json!({"limit": "10"}), "limit: "),
        (json!({"offset": -1}), "offset: "),
        (json!({"ofset": 1}), "ofset: "),
        (json!([]), "must be an object"),
    ] {
        match list(options.clone()).await {
            Err(Error::InvalidInput(invalid)) => {
                assert!(invalid.to_string().contains(expected), "{options}: {invalid}")
            }
            other => panic!("{options}: expected InvalidInput, got {other:?}"),
        }
    }
}

/// Titles of one case, letters only and distinct first letters sort alike under every
/// collation, so this order is known without asking the database; inserted in neither order.
#[tokio::test]
async fn ordering_by_title_is_by_title_in_either_direction() {
    let db = TestDb::new().await;
    let mm = db.mm();
    let ctx = user(&mm, "alice").await;
    let project_id = project(&ctx, &mm, "Alpha").await;
    for title in ["delta", "alpha", "echo", "charlie", "bravo"] {
        task(&ctx, &mm, project_id, title).await;
    }
    let list = |order_bys: &'static str| {
        let mm = mm.clone();
        async move {
            let options = TaskBmc::parse_list_options(Some(&common::raw(&json!({"order_bys": order_bys})))).unwrap();
            let tasks = TaskBmc::list(&ctx, &mm, Default::default(), &options).await.unwrap();
            tasks.into_iter().map(|t| t.title).collect::<Vec<_>>()
        }
    };
    assert_eq!(list("title").await, ["alpha", "bravo", "charlie", "delta", "echo"]);
    assert_eq!(list("!title").await, ["echo", "delta", "charlie", "bravo", "alpha"]);
    assert_eq!(list("!id").await, ["bravo", "charlie", "echo", "alpha", "delta"]);
}

#[tokio::test]
async fn the_default_limit_is_100_and_the_largest_1000() {
    let db = TestDb::new().await;
    let mm = db.mm();
    let ctx = user(&mm, "alice").await;
    let project_id = project(&ctx, &mm, "Alpha").await;
    sqlx_insert_tasks(&db, project_id, ctx.user_id(), 1001).await;
    let count = TaskBmc::count(&ctx, &mm, Default::default()).await.unwrap();
    assert_eq!(count, 1001);
    let default = TaskBmc::parse_list_options(None).unwrap();
    assert_eq!(TaskBmc::list(&ctx, &mm, Default::default(), &default).await.unwrap().rows.len(), 100);
    let max = TaskBmc::parse_list_options(Some(&common::raw(&json!({"limit": 1000})))).unwrap();
    assert_eq!(TaskBmc::list(&ctx, &mm, Default::default(), &max).await.unwrap().rows.len(), 1000);
}

/// Bulk rows straight into the test's own database, to keep the test fast.
async fn sqlx_insert_tasks(db: &TestDb, project_id: i64, user_id: i64, n: i64) {
    use sqlx::Connection as _;
    let mut conn = sqlx::PgConnection::connect(db.url()).await.unwrap();
    sqlx::query(
        "INSERT INTO task (project_id, title, cid, ctime, mid, mtime)
         SELECT $1, 'bulk ' || i, $2, now(), $2, now() FROM generate_series(1, $3) AS i",
    )
    .bind(project_id)
    .bind(user_id)
    .bind(n)
    .execute(&mut conn)
    .await
    .unwrap();
}

/// Every task's title, last first, as Postgres orders them under the database's collation.
async fn titles_by_postgres_descending(db: &TestDb) -> Vec<String> {
    use sqlx::Connection as _;
    let mut conn = sqlx::PgConnection::connect(db.url()).await.unwrap();
    sqlx::query_scalar("SELECT title FROM task ORDER BY title DESC").fetch_all(&mut conn).await.unwrap()
}
