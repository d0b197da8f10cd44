//! [`lib_model::live`]: every committed change is announced, by whoever made it, and delivered
//! to the subscribers who may see the row and whose filter it matches before or after.

mod common;

use common::{listening, next_batch, project, reader, task, user};
use lib_model::base::DbBmc;
use lib_model::live::{Delivered, Delivery, LiveEvent, LiveFilter, Op, Subscriber};
use lib_model::member::{MemberBmc, Role};
use lib_model::project::{Project, ProjectBmc, ProjectForUpdate};
use lib_model::sqlx::Connection as _;
use lib_model::task::{Task, TaskBmc, TaskForUpdate};
use lib_model::test_support::TestDb;
use lib_model::{Ctx, ModelManager};
use serde_json::json;
use tokio::sync::broadcast::Receiver;

fn filter(ctx: &Ctx, filters: serde_json::Value) -> LiveFilter {
    let raw = common::raw(&filters);
    LiveFilter::new::<TaskBmc>(ctx, TaskBmc::parse_filters(Some(&raw)).unwrap()).expect("a filter")
}

/// Each delivery's subscriptions, with the change.
fn keys<E>(deliveries: &[Delivery<E>]) -> Vec<(i64, Op)> {
    deliveries.iter().flat_map(|d| d.keys.iter().map(|key| (*key, d.op))).collect()
}

async fn deliveries<B: DbBmc<Entity: Clone>>(
    mm: &ModelManager,
    batch: i64,
    subscribers: &[Subscriber<'_>],
) -> Vec<Delivery<B::Entity>> {
    delivered_together::<B>(mm, &[batch], subscribers).await
}

async fn delivered_together<B: DbBmc<Entity: Clone>>(
    mm: &ModelManager,
    batches: &[i64],
    subscribers: &[Subscriber<'_>],
) -> Vec<Delivery<B::Entity>> {
    match lib_model::live::deliveries::<B>(mm, batches, subscribers).await.unwrap() {
        Delivered::Changes(deliveries) => deliveries,
        Delivered::TooLarge => panic!("a batch of a few rows is not too large"),
    }
}

async fn tasks_for(mm: &ModelManager, batch: i64, subscribers: &[Subscriber<'_>]) -> Vec<Delivery<Task>> {
    deliveries::<TaskBmc>(mm, batch, subscribers).await
}

#[tokio::test]
async fn a_filter_matches_the_row_before_or_after_an_update() {
    let db = TestDb::new().await;
    let (mm, mut feed) = listening(&db).await;
    let alice = reader(&db, &mm, "alice").await;
    let project_id = project(&alice, &mm, "Alpha").await;
    let open = filter(&alice, json!({"done": false}));
    let subscribers = [
        Subscriber { key: 1, user_id: alice.user_id(), filter: None },
        Subscriber { key: 2, user_id: alice.user_id(), filter: Some(&open) },
    ];

    let created = task(&alice, &mm, project_id, "write the spec").await;
    let got = tasks_for(&mm, next_batch(&mut feed, "task").await, &subscribers).await;
    assert_eq!(keys(&got), [(1, Op::Create), (2, Op::Create)]);
    assert_eq!(got[0].row, created, "the row as created");

    let done = TaskForUpdate { done: Some(true), ..Default::default() };
    TaskBmc::update(&alice, &mm, created.id, done).await.unwrap();
    let got = tasks_for(&mm, next_batch(&mut feed, "task").await, &subscribers).await;
    assert_eq!(keys(&got), [(1, Op::Update), (2, Op::Update)], "open before the update: the filter matched");
    assert!(got[0].row.done, "the row as it is after");

    let renamed = TaskForUpdate { title: Some("spec written".into()), ..Default::default() };
    TaskBmc::update(&alice, &mm, created.id, renamed).await.unwrap();
    let got = tasks_for(&mm, next_batch(&mut feed, "task").await, &subscribers).await;
    assert_eq!(keys(&got), [(1, Op::Update)], "done before and after: not for the open tasks' subscriber");

    TaskBmc::delete(&alice, &mm, created.id).await.unwrap();
    let got = tasks_for(&mm, next_batch(&mut feed, "task").await, &subscribers).await;
    assert_eq!(keys(&got), [(1, Op::Delete)]);
    assert_eq!(got[0].row.title, "spec written", "a delete carries the row as it was");
}

#[tokio::test]
async fn access_is_checked_at_delivery_and_follows_membership() {
    let db = TestDb::new().await;
    let (mm, mut feed) = listening(&db).await;
    let alice = reader(&db, &mm, "alice").await;
    let bob = reader(&db, &mm, "bob").await;
    let project_id = project(&alice, &mm, "Alpha").await;
    let _ = next_batch(&mut feed, "project").await;
    let bobs = [Subscriber { key: 7, user_id: bob.user_id(), filter: None }];

    task(&alice, &mm, project_id, "before bob").await;
    assert!(tasks_for(&mm, next_batch(&mut feed, "task").await, &bobs).await.is_empty(), "not a member yet");

    MemberBmc::add(&alice, &mm, project_id, "bob", Role::Viewer).await.unwrap();
    let got: Vec<Delivery<Project>> =
        deliveries::<ProjectBmc>(&mm, next_batch(&mut feed, "project").await, &bobs).await;
    assert_eq!(keys(&got), [(7, Op::Update)], "a member added sees the project");
    assert_eq!(got[0].row.role, "viewer", "computed for the subscriber");

    task(&alice, &mm, project_id, "with bob").await;
    assert_eq!(keys(&tasks_for(&mm, next_batch(&mut feed, "task").await, &bobs).await), [(7, Op::Create)]);

    MemberBmc::remove(&alice, &mm, project_id, bob.user_id()).await.unwrap();
    task(&alice, &mm, project_id, "after bob").await;
    assert!(tasks_for(&mm, next_batch(&mut feed, "task").await, &bobs).await.is_empty(), "removed: nothing more");
}

#[tokio::test]
async fn a_deleted_project_goes_to_those_who_were_its_members() {
    let db = TestDb::new().await;
    let (mm, mut feed) = listening(&db).await;
    let alice = reader(&db, &mm, "alice").await;
    let bob = reader(&db, &mm, "bob").await;
    let carol = reader(&db, &mm, "carol").await;
    let project_id = project(&alice, &mm, "Alpha").await;
    let subscribers = [
        Subscriber { key: 1, user_id: bob.user_id(), filter: None },
        Subscriber { key: 2, user_id: carol.user_id(), filter: None },
    ];
    // Each change is delivered as it comes, as an instance does: access is checked then.
    let mut seen = Vec::new();
    let mut deliver = async |feed: &mut Receiver<LiveEvent>| {
        let batch = next_batch(feed, "project").await;
        let got = deliveries::<ProjectBmc>(&mm, batch, &subscribers).await;
        seen.extend(
            got.iter().flat_map(|d| d.keys.iter().map(|key| (*key, d.row.name.clone(), d.row.role.clone(), d.op))),
        );
    };
    deliver(&mut feed).await; // the create, before bob was a member
    MemberBmc::add(&alice, &mm, project_id, "bob", Role::Editor).await.unwrap();
    deliver(&mut feed).await;
    let renamed = ProjectForUpdate { name: Some("Beta".into()) };
    ProjectBmc::update(&alice, &mm, project_id, renamed).await.unwrap();
    deliver(&mut feed).await;
    ProjectBmc::delete(&alice, &mm, project_id).await.unwrap();
    deliver(&mut feed).await;

    let row = |name: &str, role: &str, op| (1, name.to_string(), role.to_string(), op);
    assert_eq!(
        seen,
        [row("Alpha", "editor", Op::Update), row("Beta", "editor", Op::Update), row("Beta", "viewer", Op::Delete)],
        "bob's, in commit order, the delete too though the memberships went with it; carol was never a member"
    );
}

#[tokio::test]
async fn a_rolled_back_change_is_never_announced() {
    let db = TestDb::new().await;
    let (mm, mut feed) = listening(&db).await;
    let alice = reader(&db, &mm, "alice").await;
    let project_id = project(&alice, &mm, "Alpha").await;
    let everyone = [Subscriber { key: 1, user_id: alice.user_id(), filter: None }];

    let txn = mm.begin(&alice).await.unwrap();
    task(&alice, txn.manager(), project_id, "rolled back").await;
    txn.rollback().await.unwrap();
    let txn = mm.begin(&alice).await.unwrap();
    task(&alice, txn.manager(), project_id, "committed").await;
    txn.commit().await.unwrap();

    let got = tasks_for(&mm, next_batch(&mut feed, "task").await, &everyone).await;
    assert_eq!(got.iter().map(|d| d.row.title.as_str()).collect::<Vec<_>>(), ["committed"]);
}

#[tokio::test]
async fn a_batch_is_delivered_row_by_row_up_to_its_bound() {
    use lib_model::live::{MAX_BATCH_ROWS, deliveries};
    use lib_model::sqlx::{self, Connection as _};
    let db = TestDb::new().await;
    let (mm, mut feed) = listening(&db).await;
    let alice = reader(&db, &mm, "alice").await;
    let project_id = project(&alice, &mm, "Bulk").await;
    let everyone = [Subscriber { key: 1, user_id: alice.user_id(), filter: None }];
    let mut conn = sqlx::PgConnection::connect(db.url()).await.unwrap();

    let insert = "INSERT INTO task (project_id, title, cid, ctime, mid, mtime)
                  SELECT $1, 'bulk ' || n, $2, now(), $2, now() FROM generate_series(1, $3) n";
    let past_the_bound = MAX_BATCH_ROWS as i64 + 1;
    sqlx::query(insert).bind(project_id).bind(alice.user_id()).bind(past_the_bound).execute(&mut conn).await.unwrap();
    let batch = next_batch(&mut feed, "task").await;
    assert!(matches!(deliveries::<TaskBmc>(&mm, &[batch], &everyone).await.unwrap(), Delivered::TooLarge));

    let update = "UPDATE task SET done = true WHERE id IN (SELECT id FROM task ORDER BY id LIMIT $1)";
    sqlx::query(update).bind(MAX_BATCH_ROWS as i64).execute(&mut conn).await.unwrap();
    let batch = next_batch(&mut feed, "task").await;
    match deliveries::<TaskBmc>(&mm, &[batch], &everyone).await.unwrap() {
        Delivered::Changes(changes) => assert_eq!(keys(&changes).len(), MAX_BATCH_ROWS, "at the bound, every row"),
        Delivered::TooLarge => panic!("{MAX_BATCH_ROWS} rows are within the bound"),
    }
}

#[tokio::test]
async fn only_rows_a_subscriber_may_see_count_toward_the_bound() {
    use lib_model::live::{MAX_BATCH_ROWS, deliveries};
    use lib_model::sqlx::{self, Connection as _};
    let db = TestDb::new().await;
    let (mm, mut feed) = listening(&db).await;
    let alice = reader(&db, &mm, "alice").await;
    let bob = reader(&db, &mm, "bob").await;
    let hidden = project(&alice, &mm, "Hidden from bob").await;
    let shared = project(&bob, &mm, "Bob's").await;
    let bobs = [Subscriber { key: 1, user_id: bob.user_id(), filter: None }];
    let alices = [Subscriber { key: 2, user_id: alice.user_id(), filter: None }];
    let mut conn = sqlx::PgConnection::connect(db.url()).await.unwrap();
    let insert = "INSERT INTO task (project_id, title, cid, ctime, mid, mtime)
                  SELECT $1, 'bulk ' || n, $2, now(), $2, now() FROM generate_series(1, $3) n";
    sqlx::query(insert)
        .bind(hidden)
        .bind(alice.user_id())
        .bind(MAX_BATCH_ROWS as i64 + 1)
        .execute(&mut conn)
        .await
        .unwrap();
    let invisible = next_batch(&mut feed, "task").await;
    task(&bob, &mm, shared, "bob's own").await;
    let visible = next_batch(&mut feed, "task").await;

    // Together, the batches are too many rows for alice, who may see them: she lists again.
    let for_alice = deliveries::<TaskBmc>(&mm, &[invisible, visible], &alices).await.unwrap();
    assert!(matches!(for_alice, Delivered::TooLarge), "{for_alice:?}");
    // Bob may see one of them: he gets it, and need not list again.
    let for_bob = deliveries::<TaskBmc>(&mm, &[invisible, visible], &bobs).await.unwrap();
    match for_bob {
        Delivered::Changes(changes) => {
            assert_eq!(changes.iter().map(|c| c.row.title.as_str()).collect::<Vec<_>>(), ["bob's own"]);
        }
        Delivered::TooLarge => panic!("bob may see one row of the two batches"),
    }
}

#[tokio::test]
async fn more_filters_than_one_statement_holds_are_all_matched_in_order() {
    use lib_model::live::FILTERS_PER_STATEMENT;
    let db = TestDb::new().await;
    let (mm, mut feed) = listening(&db).await;
    let alice = reader(&db, &mm, "alice").await;
    let project_id = project(&alice, &mm, "Many views").await;
    let titles: Vec<String> = (0..FILTERS_PER_STATEMENT + 2).map(|n| format!("title {n}")).collect();
    let filters: Vec<LiveFilter> = titles.iter().map(|title| filter(&alice, json!({"title": title}))).collect();
    let subscribers: Vec<Subscriber<'_>> = filters
        .iter()
        .enumerate()
        .map(|(n, filter)| Subscriber { key: n as i64, user_id: alice.user_id(), filter: Some(filter) })
        .collect();

    let txn = mm.begin(&alice).await.unwrap();
    for title in titles.iter().rev() {
        task(&alice, txn.manager(), project_id, title).await;
    }
    txn.commit().await.unwrap();
    // The transaction's changes are one batch.
    let batch = next_batch(&mut feed, "task").await;
    let got = delivered_together::<TaskBmc>(&mm, &[batch], &subscribers).await;
    let expected: Vec<(i64, Op)> = (0..titles.len() as i64).rev().map(|key| (key, Op::Create)).collect();
    assert_eq!(keys(&got), expected, "each title to its one subscriber, in the order they were made");
}

#[tokio::test]
async fn nothing_is_captured_while_no_instance_wants_changes() {
    use lib_model::live::{declare_interest, wait_for_writes_in_flight, withdraw_interest};
    let db = TestDb::new().await;
    let (mm, mut feed) = listening(&db).await;
    let alice = reader(&db, &mm, "alice").await;
    let project_id = project(&alice, &mm, "Quiet").await;
    let everyone = [Subscriber { key: 1, user_id: alice.user_id(), filter: None }];
    let _ = next_batch(&mut feed, "project").await;

    withdraw_interest(&mm, "test").await.unwrap();
    task(&alice, &mm, project_id, "unseen").await;
    declare_interest(&mm, "test", &[alice.user_id()]).await.unwrap();
    wait_for_writes_in_flight(&mm).await.unwrap();
    task(&alice, &mm, project_id, "seen").await;
    let got = tasks_for(&mm, next_batch(&mut feed, "task").await, &everyone).await;
    assert_eq!(
        got.iter().map(|d| d.row.title.as_str()).collect::<Vec<_>>(),
        ["seen"],
        "the first batch is the second task's"
    );
}

#[tokio::test]
async fn a_task_change_is_captured_only_when_a_member_of_its_project_has_subscribers() {
    let db = TestDb::new().await;
    let (mm, mut feed) = listening(&db).await;
    let alice = reader(&db, &mm, "alice").await;
    let bob = user(&mm, "bob").await;
    let watched = project(&alice, &mm, "Watched").await;
    let unwatched = project(&bob, &mm, "Unwatched").await;
    let alices = [Subscriber { key: 1, user_id: alice.user_id(), filter: None }];

    task(&bob, &mm, unwatched, "no one subscribes to bob's").await;
    task(&alice, &mm, watched, "alice subscribes").await;
    let mut conn = lib_model::sqlx::PgConnection::connect(db.url()).await.unwrap();
    let first: i64 = lib_model::sqlx::query_scalar("SELECT count(*) FROM live_change WHERE entity = 'task'")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(first, 1, "bob's task was not captured");
    let got = tasks_for(&mm, next_batch(&mut feed, "task").await, &alices).await;
    assert_eq!(got.iter().map(|d| d.row.title.as_str()).collect::<Vec<_>>(), ["alice subscribes"]);

    // Once alice may see bob's project, its changes are captured for her.
    MemberBmc::add(&bob, &mm, unwatched, "alice", Role::Viewer).await.unwrap();
    task(&bob, &mm, unwatched, "shared with alice").await;
    let got = tasks_for(&mm, next_batch(&mut feed, "task").await, &alices).await;
    assert_eq!(got.iter().map(|d| d.row.title.as_str()).collect::<Vec<_>>(), ["shared with alice"]);
}
