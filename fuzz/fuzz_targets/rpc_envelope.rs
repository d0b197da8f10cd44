//! The JSON-RPC envelope and params decoding: any body through `RpcRouter::handle`.
//!
//! The router holds the API's method names with their real params types and decoding (the
//! envelope, `params::from_params`, `params::data` into `TaskForCreate` and the rest, the filter
//! and list-option parsers, `NewPwd::parse`), but handlers that answer from what they decoded
//! instead of querying, so that no input needs or reaches a database. `get_task` also has a
//! `get_many`, so that a batch's runs of reads take the batched path. One `text` method answers a
//! string of a chosen length, to fill the answer budgets.
//!
//! Each body is handled twice, with ample and with scarce answer bytes in flight. Holds: no panic
//! (libFuzzer aborts on any, even one the dispatcher catches), the answer is valid JSON-RPC or
//! nothing, no error is -32603 (or any code the contract does not give these methods), a batch
//! answers at most the batch limit, a result stays within `MAX_ANSWER_BYTES`, and a dropped
//! answer gives back all its bytes in flight.

#![no_main]

use lib_core::{Config, Ctx};
use lib_model::ModelManager;
use lib_model::base::{Identified, server_owned};
use lib_model::project::{Project, ProjectBmc, ProjectForCreate, ProjectForUpdate};
use lib_model::task::{Task, TaskBmc, TaskForCreate, TaskForUpdate};
use lib_model::user::NewPwd;
use lib_rpc::params::{self, NoParams, ParamsCount, ParamsForCreate, ParamsForUpdate, ParamsIded, ParamsList};
use lib_rpc::{Error, Result, RpcLimits, RpcRouter};
use libfuzzer_sys::fuzz_target;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;
use std::sync::LazyLock;
use std::time::Duration;

const REQ_ID: &str = "fuzz-req-id";
const BATCH_LIMIT: usize = 8;
const MAX_ANSWER_BYTES: usize = 4096;
/// The codes these methods may answer: parse, invalid request, no method, invalid params, not
/// found (a batched read of a missing row), answer too large, no room in flight.
const CODES: [i64; 7] = [-32700, -32600, -32601, -32602, -32004, -32010, -32029];

struct Fixture {
    runtime: tokio::runtime::Runtime,
    router: RpcRouter,
    mm: ModelManager,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    // Never used to connect; should a handler query after all, it fails at once and the answer
    // is a -32603, which the checks below report.
    let mut config = Config::development();
    config.database_url = lib_core::config::Redacted::new("postgres://fuzz:fuzz@127.0.0.1:9/none".into());
    config.db_acquire_timeout = Duration::from_millis(50);
    let mm = runtime.block_on(async { ModelManager::new(&config).expect("a lazy pool") });
    Fixture { runtime, router: router(), mm }
});

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct Bytes {
    n: usize,
}

/// `text`: `{"n": n}` answers a string of `n` x's (at most twice the answer budget).
async fn text(_: Ctx, _: ModelManager, p: Bytes) -> Result<String> {
    if p.n > 2 * MAX_ANSWER_BYTES {
        return Err(Error::invalid_params("n", "too large"));
    }
    Ok("x".repeat(p.n))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct ChangePwdParams {
    old_pwd: String,
    new_pwd: String,
}

/// A row for `get_task`'s batched reads: it echoes its id.
#[derive(Serialize, schemars::JsonSchema)]
struct Row {
    id: i64,
}

impl Identified for Row {
    fn id(&self) -> i64 {
        self.id
    }
}

/// The API's methods, each decoding its params as the real one does, none touching a database.
fn router() -> RpcRouter {
    let mut router = RpcRouter::new();
    router
        .add("text", text)
        .add("get_me", |ctx: Ctx, _: ModelManager, _: NoParams| async move { Result::Ok(ctx.user_id()) })
        .add("change_pwd", |_: Ctx, _: ModelManager, p: ChangePwdParams| async move {
            NewPwd::parse("new_pwd", &p.new_pwd)?;
            Result::Ok(p.old_pwd.len())
        })
        .add("create_task", |_: Ctx, _: ModelManager, p: ParamsForCreate<Task>| async move {
            let task: TaskForCreate = params::data(&p.data, server_owned::<TaskBmc>)?;
            Result::Ok((task.project_id, task.title, task.done, task.description))
        })
        .add("update_task", |_: Ctx, _: ModelManager, p: ParamsForUpdate<Task>| async move {
            let task: TaskForUpdate = params::data(&p.data, server_owned::<TaskBmc>)?;
            Result::Ok((p.id, task.title, task.done, task.description))
        })
        .add("get_task", |_: Ctx, _: ModelManager, p: ParamsIded| async move { Result::Ok(Row { id: p.id }) })
        .add("delete_task", |_: Ctx, _: ModelManager, p: ParamsIded| async move { Result::Ok(p.id) })
        .add("list_tasks", |_: Ctx, _: ModelManager, p: ParamsList<Task>| async move {
            TaskBmc::parse_filters(p.filters.as_deref())?;
            TaskBmc::parse_list_options(p.list_options.as_deref())?;
            Result::Ok(true)
        })
        .add("count_tasks", |_: Ctx, _: ModelManager, p: ParamsCount<Task>| async move {
            TaskBmc::parse_filters(p.filters.as_deref())?;
            Result::Ok(0)
        })
        .add("create_project", |_: Ctx, _: ModelManager, p: ParamsForCreate<Project>| async move {
            let project: ProjectForCreate = params::data(&p.data, server_owned::<ProjectBmc>)?;
            Result::Ok(project.name)
        })
        .add("update_project", |_: Ctx, _: ModelManager, p: ParamsForUpdate<Project>| async move {
            let project: ProjectForUpdate = params::data(&p.data, server_owned::<ProjectBmc>)?;
            Result::Ok((p.id, project.name))
        })
        .add("list_projects", |_: Ctx, _: ModelManager, p: ParamsList<Project>| async move {
            ProjectBmc::parse_filters(p.filters.as_deref())?;
            ProjectBmc::parse_list_options(p.list_options.as_deref())?;
            Result::Ok(true)
        })
        // Odd ids are "missing", so that a batched read answers -32004 for some.
        .add_get_many("get_task", "task", |_: Ctx, _: ModelManager, ids: Vec<i64>| async move {
            Result::Ok(ids.into_iter().filter(|id| id % 2 == 0).map(|id| Row { id }).collect::<Vec<_>>())
        });
    router
}

fuzz_target!(|body: &[u8]| {
    check(body, 4 * MAX_ANSWER_BYTES);
    check(body, MAX_ANSWER_BYTES / 2);
});

fn check(body: &[u8], in_flight: usize) {
    let f = &*FIXTURE;
    let limits = RpcLimits::new(BATCH_LIMIT, MAX_ANSWER_BYTES, in_flight);
    let outcome = f.runtime.block_on(f.router.handle(Ctx::new(7, 1), &f.mm, body, REQ_ID, &limits));
    if let Some(answer) = &outcome.body {
        check_answer(answer.as_ref());
    }
    drop(outcome);
    assert_eq!(limits.bytes_in_flight(), 0, "a dropped answer gives its bytes back");
}

fn check_answer(answer: &[u8]) {
    let text = std::str::from_utf8(answer).expect("an answer is UTF-8");
    let value: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    let (responses, tail): (Vec<&RawValue>, usize) = if value.is_array() {
        (serde_json::from_str(text).unwrap(), 1)
    } else {
        (vec![serde_json::from_str(text).unwrap()], 0)
    };
    assert!(!responses.is_empty() && responses.len() <= BATCH_LIMIT, "{} responses: {text}", responses.len());
    for raw in responses {
        let response: Value = serde_json::from_str(raw.get()).unwrap();
        let members = response.as_object().unwrap_or_else(|| panic!("not an object: {response}"));
        assert_eq!(members.len(), 3, "{response}");
        assert_eq!(members["jsonrpc"], "2.0", "{response}");
        assert!(members.contains_key("id"), "{response}");
        assert!(members.contains_key("result") ^ members.contains_key("error"), "{response}");
        if let Some(error) = response.get("error") {
            let code = error["code"].as_i64().unwrap_or_else(|| panic!("no code: {response}"));
            assert!(CODES.contains(&code), "code {code}: {response}");
            assert!(error["data"]["kind"].is_string(), "{response}");
        } else {
            // A result ends within the budget, with room for a batch's closing bracket.
            let end = raw.get().as_ptr() as usize - text.as_ptr() as usize + raw.get().len();
            assert!(end + tail <= MAX_ANSWER_BYTES, "a result ends at byte {end}: {text}");
        }
    }
}
