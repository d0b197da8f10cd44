//! A router of test methods that need no database, and one helper to run a body through it.

#![allow(dead_code, unreachable_pub)] // each test file uses a different part

use lib_core::{Config, Ctx};
use lib_model::ModelManager;
use lib_model::task::{Task, TaskBmc, TaskForCreate};
use lib_rpc::params::{self, NoParams, ParamsForCreate, ParamsList};
use lib_rpc::{Result, RpcLimits, RpcOutcome, RpcRouter};
use serde::Deserialize;
use serde_json::Value;

pub const REQ_ID: &str = "test-req-id";

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Bytes {
    pub n: usize,
}

/// `text`: `{"n": n}` answers a string of `n` x's, so a result's size is chosen exactly.
async fn text(_: Ctx, _: ModelManager, p: Bytes) -> Result<String> {
    Ok("x".repeat(p.n))
}

async fn me(ctx: Ctx, _: ModelManager, _: NoParams) -> Result<i64> {
    Ok(ctx.user_id())
}

/// The real filter and list-option parsers, without the query.
async fn list(_: Ctx, _: ModelManager, p: ParamsList<Task>) -> Result<bool> {
    TaskBmc::parse_filters(p.filters.as_deref())?;
    TaskBmc::parse_list_options(p.list_options.as_deref())?;
    Ok(true)
}

/// The real `data` decoding of `create_task`, answering what it decoded.
async fn create(_: Ctx, _: ModelManager, p: ParamsForCreate<Task>) -> Result<String> {
    let task: TaskForCreate = params::data(&p.data, lib_model::base::server_owned::<TaskBmc>)?;
    Ok(task.title)
}

/// Methods that never panic: for properties that must hold of every answer.
pub fn router() -> RpcRouter {
    let mut router = RpcRouter::new();
    router.add("text", text).add("get_me", me).add("list_tasks", list).add("create_task", create);
    router
}

async fn panics(_: Ctx, _: ModelManager, _: NoParams) -> Result<bool> {
    panic!("a bug in a handler")
}

/// Panics at its second poll, after it has yielded once.
async fn panics_later(_: Ctx, _: ModelManager, _: NoParams) -> Result<bool> {
    tokio::task::yield_now().await;
    let answers: Vec<bool> = Vec::new();
    Ok(answers[0])
}

/// Its result panics while it is serialised.
#[derive(schemars::JsonSchema)]
struct Unserialisable;

impl serde::Serialize for Unserialisable {
    fn serialize<S: serde::Serializer>(&self, _: S) -> std::result::Result<S::Ok, S::Error> {
        panic!("a bug in a Serialize impl")
    }
}

async fn panics_in_result(_: Ctx, _: ModelManager, _: NoParams) -> Result<Unserialisable> {
    Ok(Unserialisable)
}

/// [`router`] plus methods that panic in each place a call can.
pub fn router_with_bugs() -> RpcRouter {
    let mut router = router();
    router.add("panics", panics).add("panics_later", panics_later).add("panics_in_result", panics_in_result);
    router
}

/// A model manager that never connects: no test method touches the database.
pub fn mm() -> ModelManager {
    ModelManager::new(&Config::development()).expect("a lazy pool")
}

/// Runs `body` through `router` within `limits`.
pub async fn handle(router: &RpcRouter, mm: &ModelManager, limits: &RpcLimits, body: &str) -> RpcOutcome {
    router.handle(Ctx::new(7, 1), mm, body.as_bytes(), REQ_ID, limits).await
}

/// The response body's text (`None` for nothing to answer).
pub fn text_of(outcome: &RpcOutcome) -> Option<&str> {
    outcome.body.as_ref().map(|answer| std::str::from_utf8(answer.as_ref()).expect("UTF-8"))
}

pub fn json_of(outcome: &RpcOutcome) -> Value {
    serde_json::from_str(text_of(outcome).expect("an answer")).expect("the answer is JSON")
}

/// A request to `method` with raw `params` text and id `id`.
pub fn call(id: u64, method: &str, params: &str) -> String {
    format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"{method}","params":{params}}}"#)
}

/// Asserts a response has exactly `jsonrpc`, `id` and one of `result` / `error`.
pub fn assert_envelope(response: &Value) {
    let members = response.as_object().unwrap_or_else(|| panic!("not an object: {response}"));
    assert_eq!(members.len(), 3, "{response}");
    assert_eq!(members["jsonrpc"], "2.0", "{response}");
    assert!(members.contains_key("id"), "{response}");
    assert!(members.contains_key("result") ^ members.contains_key("error"), "{response}");
}
