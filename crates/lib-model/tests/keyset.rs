//! Keyset paging against Postgres: following `next_cursor` returns every row once, in the order
//! one big list gives, for every order (NULLs and ties included), at every page size; rows
//! inserted and deleted between pages skip or repeat nothing; a cursor that was altered, made
//! for another entity or order, or sealed with another key is refused, never run.

mod common;

use common::{project, raw, user};
use lib_model::base::Page;
use lib_model::filter::MAX_CURSOR_LEN;
use lib_model::project::ProjectBmc;
use lib_model::task::{Task, TaskBmc, TaskForCreate};
use lib_model::test_support::TestDb;
use lib_model::{Ctx, Error, ModelManager};
use serde_json::{Value, json};
use std::collections::HashSet;

/// A user's tasks with ties in every column and NULLs in `description`.
struct Tasks {
    db: TestDb,
    mm: ModelManager,
    ctx: Ctx,
    project_id: i64,
}

/// `n` tasks: four titles, `done` on every third, no description on every third (and an empty
/// one on every fifth), five creation times shared by several rows each.
async fn tasks(n: i64) -> Tasks {
    let db = TestDb::new().await;
    let mm = db.mm();
    let ctx = user(&mm, "alice").await;
    let project_id = project(&ctx, &mm, "Alpha").await;
    insert(&db, project_id, ctx.user_id(), n).await;
    Tasks { db, mm, ctx, project_id }
}

async fn insert(db: &TestDb, project_id: i64, user_id: i64, n: i64) {
    use sqlx::Connection as _;
    let mut conn = sqlx::PgConnection::connect(db.url()).await.unwrap();
    sqlx::query(
        "INSERT INTO task (project_id, title, done, description, cid, ctime, mid, mtime)
         SELECT $1, 't' || (i % 4), i % 3 = 0,
                CASE WHEN i % 3 = 0 THEN NULL WHEN i % 5 = 0 THEN '' ELSE 'd' || (i % 4) END,
                $2, timestamptz '2026-01-01 00:00:00.000001Z' + (i % 5) * interval '1 second', $2, now()
         FROM generate_series(1, $3) AS i",
    )
    .bind(project_id)
    .bind(user_id)
    .bind(n)
    .execute(&mut conn)
    .await
    .unwrap();
}

async fn list(ctx: &Ctx, mm: &ModelManager, options: Value) -> lib_model::Result<Page<Task>> {
    let options = TaskBmc::parse_list_options(Some(&raw(&options)))?;
    TaskBmc::list(ctx, mm, Default::default(), &options).await
}

fn ids(rows: &[Task]) -> Vec<i64> {
    rows.iter().map(|t| t.id).collect()
}

impl Tasks {
    async fn page(&self, options: Value) -> lib_model::Result<Page<Task>> {
        list(&self.ctx, &self.mm, options).await
    }

    /// Every row in `order_bys`, in one list.
    async fn whole(&self, order_bys: &Value) -> Vec<i64> {
        let page = self.page(json!({"order_bys": order_bys, "limit": 1000})).await.unwrap();
        assert_eq!(page.next_cursor, None);
        ids(&page.rows)
    }

    /// Every row in `order_bys`, `limit` at a time, following `next_cursor` to its end.
    async fn walk(&self, order_bys: &Value, limit: u64) -> Vec<i64> {
        let (mut seen, mut cursor) = (Vec::new(), Value::Null);
        loop {
            let options = json!({"order_bys": order_bys, "limit": limit, "cursor": cursor});
            let page = self.page(options).await.unwrap();
            assert!(page.rows.len() as u64 <= limit);
            assert!(cursor.is_null() || !page.rows.is_empty(), "{order_bys}: a cursor led to an empty page");
            seen.extend(ids(&page.rows));
            match page.next_cursor {
                Some(next) => cursor = json!(next),
                None => return seen,
            }
        }
    }

    /// The next cursor of the first page in `order_bys`, `limit` rows long.
    async fn cursor(&self, order_bys: Value, limit: u64) -> String {
        let page = self.page(json!({"order_bys": order_bys, "limit": limit})).await.unwrap();
        page.next_cursor.expect("more rows follow")
    }
}

/// The invalid field and problem of a refused list.
fn refusal(result: lib_model::Result<Page<Task>>) -> (String, String) {
    match result {
        Err(Error::InvalidInput(invalid)) => (invalid.field, invalid.problem),
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

/// Asserts that `result` is a refusal of `cursor` whose problem contains `words`.
fn assert_cursor_refused(result: lib_model::Result<Page<Task>>, words: &str) {
    let (field, problem) = refusal(result);
    assert_eq!(field, "cursor", "{problem}");
    assert!(problem.contains(words), "{problem:?} should say {words:?}");
}

#[tokio::test]
async fn following_cursors_returns_the_whole_list_once_in_order_for_every_order_and_page_size() {
    let t = tasks(23).await;
    let mut orders: Vec<Value> = Vec::new();
    for column in ["id", "project_id", "title", "done", "description", "cid", "ctime", "mid", "mtime"] {
        orders.push(json!(column));
        orders.push(json!(format!("!{column}")));
    }
    orders.extend([json!(["done", "!description"]), json!(["!description", "title"]), json!(["title", "!ctime"])]);
    for order_bys in &orders {
        let whole = t.whole(order_bys).await;
        assert_eq!(whole.len(), 23);
        for limit in [1, 4, 22, 23, 24] {
            assert_eq!(t.walk(order_bys, limit).await, whole, "order_bys {order_bys}, limit {limit}");
        }
    }
}

#[tokio::test]
async fn the_last_page_says_no_more_rows_follow_even_when_it_is_exactly_full() {
    let t = tasks(6).await;
    let all = t.page(json!({"limit": 6})).await.unwrap();
    assert_eq!((all.rows.len(), all.next_cursor.as_deref()), (6, None));

    let first = t.page(json!({"limit": 3})).await.unwrap();
    let second = t.page(json!({"limit": 3, "cursor": first.next_cursor.unwrap()})).await.unwrap();
    assert_eq!((second.rows.len(), second.next_cursor.as_deref()), (3, None));

    let first = t.page(json!({"limit": 5})).await.unwrap();
    let second = t.page(json!({"limit": 5, "cursor": first.next_cursor.unwrap()})).await.unwrap();
    assert_eq!((second.rows.len(), second.next_cursor.as_deref()), (1, None));

    let bob = user(&t.mm, "bob").await;
    let empty = list(&bob, &t.mm, json!({"limit": 1})).await.unwrap();
    assert_eq!((empty.rows.len(), empty.next_cursor.as_deref()), (0, None));
}

#[tokio::test]
async fn rows_inserted_and_deleted_between_pages_make_no_other_row_skipped_or_repeated() {
    for order_bys in [json!("title"), json!("!description"), json!(null)] {
        let t = tasks(30).await;
        let initial = t.whole(&order_bys).await;
        let (mut seen, mut deleted, mut cursor) = (Vec::new(), HashSet::new(), Value::Null);
        for round in 0.. {
            let options = json!({"order_bys": order_bys, "limit": 4, "cursor": cursor});
            let page = t.page(options).await.unwrap();
            seen.extend(ids(&page.rows));
            let Some(next) = page.next_cursor else { break };
            cursor = json!(next);
            // The row the cursor names goes, and so does the next row not yet seen.
            let last = page.rows.last().unwrap().id;
            let unseen = initial.iter().find(|id| !seen.contains(id) && !deleted.contains(*id));
            for id in [Some(last), unseen.copied()].into_iter().flatten() {
                TaskBmc::delete(&t.ctx, &t.mm, id).await.unwrap();
                deleted.insert(id);
            }
            // New rows that sort before the cursor, among it ties, and after it.
            for title in ["t0", "t2", "zz"] {
                let data = TaskForCreate {
                    project_id: t.project_id,
                    title: title.to_string(),
                    done: None,
                    description: (round % 2 == 0).then(|| format!("new {round}")),
                };
                TaskBmc::create(&t.ctx, &t.mm, data).await.unwrap();
            }
        }
        let unique: HashSet<i64> = seen.iter().copied().collect();
        assert_eq!(unique.len(), seen.len(), "{order_bys}: a row came twice: {seen:?}");
        for id in &initial {
            assert!(seen.contains(id) || deleted.contains(id), "{order_bys}: row {id} was skipped");
        }
        // What was seen and is still there came in the order the table now has.
        let now = t.whole(&order_bys).await;
        let still_there: Vec<i64> = seen.iter().copied().filter(|id| now.contains(id)).collect();
        let in_order: Vec<i64> = now.into_iter().filter(|id| unique.contains(id)).collect();
        assert_eq!(still_there, in_order, "{order_bys}");
    }
}

#[tokio::test]
async fn a_cursor_of_another_entity_or_another_order_is_refused() {
    let t = tasks(5).await;
    project(&t.ctx, &t.mm, "Beta").await;
    let options = TaskBmc::parse_list_options(None).unwrap();
    let projects = ProjectBmc::list(&t.ctx, &t.mm, Default::default(), &options).await.unwrap();
    assert_eq!(projects.rows.len(), 2);
    let one = ProjectBmc::parse_list_options(Some(&raw(&json!({"limit": 1})))).unwrap();
    let project_cursor = ProjectBmc::list(&t.ctx, &t.mm, Default::default(), &one).await.unwrap().next_cursor;
    assert_cursor_refused(t.page(json!({"cursor": project_cursor.unwrap()})).await, "another entity (project)");

    let by_title = t.cursor(json!("title"), 2).await;
    for other in [json!("!title"), json!(null), json!(["title", "done"]), json!("id")] {
        let result = t.page(json!({"order_bys": other, "cursor": by_title})).await;
        assert_cursor_refused(result, "made for the order [title, id]");
    }
    // The same order, spelled out to its end: the same cursor.
    assert_eq!(t.page(json!({"order_bys": ["title", "id"], "cursor": by_title})).await.unwrap().rows.len(), 3);
    assert_eq!(t.page(json!({"order_bys": ["title", "title"], "cursor": by_title})).await.unwrap().rows.len(), 3);
}

#[tokio::test]
async fn a_cursor_with_an_offset_is_refused_and_a_null_offset_is_no_offset() {
    let t = tasks(5).await;
    let cursor = t.cursor(json!(null), 2).await;
    for offset in [0, 2] {
        assert_cursor_refused(t.page(json!({"cursor": cursor, "offset": offset})).await, "offset");
    }
    assert_eq!(t.page(json!({"cursor": cursor, "offset": null})).await.unwrap().rows.len(), 3);
}

#[tokio::test]
async fn an_altered_truncated_or_made_up_cursor_is_refused_and_never_runs() {
    let t = tasks(5).await;
    let cursor = t.cursor(json!("!description"), 2).await;
    let (payload, mac) = cursor.split_once('.').unwrap();
    let flip = |text: &str, at: usize| {
        let mut chars: Vec<char> = text.chars().collect();
        chars[at] = if chars[at] == 'A' { 'B' } else { 'A' };
        chars.into_iter().collect::<String>()
    };
    let other = t.cursor(json!("!description"), 3).await;
    let altered = [
        format!("{}.{mac}", flip(payload, 3)),
        format!("{}.{mac}", flip(payload, payload.len() - 1)),
        format!("{payload}.{}", flip(mac, 0)),
        format!("{payload}.{}", flip(mac, mac.len() - 1)),
        format!("{}.{mac}", other.split_once('.').unwrap().0),
        cursor[..cursor.len() - 1].to_string(),
        cursor[..cursor.len() / 2].to_string(),
        payload.to_string(),
        format!("{payload}."),
        format!(".{mac}"),
        format!("{cursor}.{mac}"),
        String::new(),
        "garbage".into(),
        "!!!.***".into(),
        "a".repeat(MAX_CURSOR_LEN),
    ];
    for bad in altered {
        let result = t.page(json!({"order_bys": "!description", "cursor": bad}));
        assert_cursor_refused(result.await, "not a cursor this server made");
    }
    let overlong = format!("{cursor}{}", "A".repeat(MAX_CURSOR_LEN + 1 - cursor.len()));
    assert_cursor_refused(t.page(json!({"cursor": overlong})).await, "longer than any cursor");
    for not_text in [json!(5), json!(["x"]), json!({"v": 1})] {
        assert_cursor_refused(t.page(json!({"cursor": not_text})).await, "expected a string");
    }
    // The untouched cursor still opens.
    assert_eq!(t.page(json!({"order_bys": "!description", "cursor": cursor})).await.unwrap().rows.len(), 3);
}

#[tokio::test]
async fn instances_sharing_the_pepper_open_each_others_cursors_and_another_pepper_does_not() {
    let t = tasks(5).await;
    let cursor = t.cursor(json!("title"), 2).await;
    let options = json!({"order_bys": "title", "cursor": cursor});

    let same = t.db.mm_with(&t.db.config(), std::sync::Arc::new(lib_core::SystemClock));
    assert_eq!(list(&t.ctx, &same, options.clone()).await.unwrap().rows.len(), 3);

    let mut config = t.db.config();
    config.pwd_key = lib_core::config::PwdKey::parse(&lib_core::config::PwdKey::generate()).unwrap();
    let other = t.db.mm_with(&config, std::sync::Arc::new(lib_core::SystemClock));
    assert_cursor_refused(list(&t.ctx, &other, options).await, "not a cursor this server made");
}

#[tokio::test]
async fn a_cursor_never_shows_another_users_rows() {
    let t = tasks(10).await;
    let bob = user(&t.mm, "bob").await;
    let bobs_project = project(&bob, &t.mm, "Bob's").await;
    insert(&t.db, bobs_project, bob.user_id(), 10).await;
    for order_bys in [json!(null), json!("title"), json!("!description")] {
        let alices = t.cursor(order_bys.clone(), 3).await;
        let page = list(&bob, &t.mm, json!({"order_bys": order_bys, "cursor": alices, "limit": 1000})).await.unwrap();
        assert!(page.rows.iter().all(|task| task.project_id == bobs_project), "{order_bys}: {:?}", page.rows);
    }
}

#[tokio::test]
async fn offset_paging_is_unchanged_and_its_cursor_continues_after_its_last_row() {
    let t = tasks(12).await;
    let order_bys = json!(["!done", "title"]);
    let whole = t.whole(&order_bys).await;
    for offset in [0, 5, 11, 12, 20] {
        let page = t.page(json!({"order_bys": order_bys, "limit": 5, "offset": offset})).await.unwrap();
        let expected: Vec<i64> = whole.iter().copied().skip(offset).take(5).collect();
        assert_eq!(ids(&page.rows), expected, "offset {offset}");
        assert_eq!(page.next_cursor.is_some(), offset + 5 < whole.len(), "offset {offset}");
    }
    let at_5 = t.page(json!({"order_bys": order_bys, "limit": 5, "offset": 5})).await.unwrap();
    let rest = t.page(json!({"order_bys": order_bys, "cursor": at_5.next_cursor.unwrap()})).await.unwrap();
    assert_eq!(ids(&rest.rows), whole[10..]);
}
