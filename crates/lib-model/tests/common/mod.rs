//! Fixtures for the model tests: a fresh database, users, and a project full of awkward titles.

#![allow(dead_code, unreachable_pub)] // each test file uses a different part

use lib_model::live::LiveEvent;
use lib_model::project::{ProjectBmc, ProjectForCreate};
use lib_model::task::{Task, TaskBmc, TaskForCreate};
use lib_model::test_support::TestDb;
use lib_model::user::{NewPwd, UserBmc, Username};
use lib_model::{Ctx, ModelManager};
use serde_json::Value;
use std::time::Duration;
use tokio::sync::broadcast::Receiver;

pub struct Fixture {
    pub db: TestDb,
    pub mm: ModelManager,
    pub ctx: Ctx,
    pub project_id: i64,
}

/// (title, done, description): titles with LIKE metacharacters, mixed case and NULLs.
pub const TASKS: &[(&str, bool, Option<&str>)] = &[
    ("100% done", true, Some("percent")),
    ("1000 done", false, None),
    ("snake_case", false, Some("")),
    ("snakeXcase", false, Some("x")),
    (r"back\slash", true, None),
    ("Task BB one", false, Some("Mixed Case Desc")),
    ("task bb two", false, None),
];

pub async fn user(mm: &ModelManager, name: &str) -> Ctx {
    let id = UserBmc::create(mm, &Username::parse(name).unwrap(), &NewPwd::parse("pwd", "a good password").unwrap())
        .await
        .unwrap();
    Ctx::for_user(id)
}

/// A user with subscribers, as far as capture goes: their changes are captured for the
/// instance of [`listening`] (as `declare_interest` would list them among its readers).
pub async fn reader(db: &TestDb, mm: &ModelManager, name: &str) -> Ctx {
    use lib_model::sqlx::Connection as _;
    let ctx = user(mm, name).await;
    let mut conn = lib_model::sqlx::PgConnection::connect(db.url()).await.unwrap();
    lib_model::sqlx::query("UPDATE live_interest SET readers = readers || $1 WHERE instance = 'test'")
        .bind(ctx.user_id())
        .execute(&mut conn)
        .await
        .unwrap();
    ctx
}

pub async fn project(ctx: &Ctx, mm: &ModelManager, name: &str) -> i64 {
    ProjectBmc::create(ctx, mm, ProjectForCreate { name: name.into() }).await.unwrap().id
}

pub async fn task(ctx: &Ctx, mm: &ModelManager, project_id: i64, title: &str) -> Task {
    TaskBmc::create(ctx, mm, TaskForCreate { project_id, title: title.into(), done: None, description: None })
        .await
        .unwrap()
}

pub async fn fixture() -> Fixture {
    let db = TestDb::new().await;
    let mm = db.mm();
    let ctx = user(&mm, "alice").await;
    let project_id = project(&ctx, &mm, "Alpha").await;
    for (title, done, description) in TASKS {
        let data = TaskForCreate {
            project_id,
            title: title.to_string(),
            done: Some(*done),
            description: description.map(str::to_string),
        };
        TaskBmc::create(&ctx, &mm, data).await.unwrap();
    }
    Fixture { db, mm, ctx, project_id }
}

impl Fixture {
    /// Titles of the tasks `filters` selects, in id order.
    pub async fn titles(&self, filters: Value) -> Vec<String> {
        self.try_titles(filters).await.unwrap_or_else(|e| panic!("filter refused: {e}"))
    }

    pub async fn try_titles(&self, filters: Value) -> lib_model::Result<Vec<String>> {
        let filters = TaskBmc::parse_filters(Some(&raw(&filters)))?;
        let options = TaskBmc::parse_list_options(None)?;
        let tasks = TaskBmc::list(&self.ctx, &self.mm, filters, &options).await?;
        Ok(tasks.into_iter().map(|t| t.title).collect())
    }

    /// The detail of the invalid-input error `filters` must produce, as the request's params
    /// hold them (the field named from `filters`).
    pub async fn refusal(&self, filters: Value) -> String {
        match self.try_titles(filters).await {
            Err(lib_model::Error::InvalidInput(invalid)) => invalid.within("filters").to_string(),
            other => panic!("expected InvalidInput, got {other:?}"),
        }
    }
}

/// The titles of `TASKS` for which `keep` holds, in order.
pub fn expected(keep: impl Fn(&str, bool, Option<&str>) -> bool) -> Vec<String> {
    TASKS.iter().filter(|(t, d, desc)| keep(t, *d, *desc)).map(|(t, _, _)| t.to_string()).collect()
}

/// `value` as the raw JSON a request carries.
pub fn raw(value: &Value) -> Box<serde_json::value::RawValue> {
    serde_json::value::to_raw_value(value).expect("a Value serializes")
}

/// A manager with changes captured (an instance's interest declared, for the users made with
/// [`reader`]) and read, and its feed.
pub async fn listening(db: &TestDb) -> (ModelManager, Receiver<LiveEvent>) {
    let mm = db.mm();
    let feed = mm.live_feed();
    tokio::spawn(lib_model::notifications::run_listener(mm.clone()));
    lib_model::live::declare_interest(&mm, "test", &[]).await.unwrap();
    lib_model::live::wait_for_writes_in_flight(&mm).await.unwrap();
    lib_model::live::start_reading(&mm).await.unwrap();
    (mm, feed)
}

/// The next batch announced for `entity`.
pub async fn next_batch(feed: &mut Receiver<LiveEvent>, entity: &str) -> i64 {
    let wait = async {
        loop {
            match feed.recv().await.expect("the feed is open") {
                LiveEvent::Changed { entity: e, batch } if e == entity => return batch,
                _ => continue,
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(5), wait).await.expect("a batch within 5 s")
}
