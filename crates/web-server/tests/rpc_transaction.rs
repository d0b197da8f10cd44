//! `transaction` through the API: entity calls in one database transaction, `$ref`s to earlier
//! results, the failing call's error with `call_index`, and nothing left behind when a call
//! fails (`rpc_transaction_cut.rs`: when the transaction is cut short).

mod common;

use common::transactions::{call, projects_in_db, transaction};
use common::{assert_error, spawn_app, spawn_app_with};
use lib_model::operator_sql::fetch_i64;
use serde_json::{Value, json};

#[tokio::test]
async fn calls_run_in_order_with_refs_and_each_answers_what_it_would_alone() {
    // One slot per user: a transaction takes one, whatever the number of its calls.
    let app = spawn_app_with(|config| config.user_max_inflight = 1).await;
    let alice = app.user("alice").await;
    let response = transaction(
        &alice,
        vec![
            call("create_project", json!({"data": {"name": "launch"}})),
            call("create_task", json!({"data": {"project_id": {"$ref": "0.data.id"}, "title": "plan"}})),
            call(
                "update_task",
                json!({"id": {"$ref": "1.data.id"}, "data": {"done": true}, "if_mtime": {"$ref": "1.data.mtime"}}),
            ),
            call("list_tasks", json!({"filters": {"project_id": {"$ref": "0.data.id"}}})),
            call("count_tasks", json!({})),
            call("get_project", json!({"id": {"$ref": "0.data.id"}})),
        ],
    )
    .await;
    let results = response["result"]["data"].as_array().unwrap_or_else(|| panic!("{response}"));
    assert_eq!(results.len(), 6);
    let (project, task) = (&results[0]["data"], &results[1]["data"]);
    assert_eq!(task["project_id"], project["id"]);
    assert_eq!(results[2]["data"]["done"], true);
    // Each statement of a transaction has its own time: the update is a new version.
    let time = |row: &Value| {
        let text = row["mtime"].as_str().unwrap();
        lib_model::time::OffsetDateTime::parse(text, &lib_model::time::format_description::well_known::Rfc3339).unwrap()
    };
    assert!(time(&results[2]["data"]) > time(task), "{response}");
    assert_eq!(results[3]["data"].as_array().unwrap().len(), 1);
    assert_eq!(results[4], json!({"data": 1}));
    assert_eq!(&results[5]["data"], project);

    // What stays is what the calls answered.
    assert_eq!(alice.ok("get_task", json!({"id": task["id"]})).await, results[2]["data"]);
    assert_eq!(alice.ok("list_tasks", json!({"filters": {"project_id": project["id"]}})).await, results[3]["data"]);
}

#[tokio::test]
async fn a_failure_in_the_last_call_leaves_nothing_and_names_the_call() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let kept = alice.ok("create_project", json!({"data": {"name": "kept"}})).await;
    let response = transaction(
        &alice,
        vec![
            call("create_project", json!({"data": {"name": "new"}})),
            call("update_project", json!({"id": kept["id"], "data": {"name": "renamed"}})),
            call("create_task", json!({"data": {"project_id": {"$ref": "0.data.id"}, "title": "t"}})),
            call("get_task", json!({"id": 999_999})),
        ],
    )
    .await;
    let error = &response["error"];
    assert_error(error, -32004, "EntityNotFound");
    assert_eq!((&error["data"]["call_index"], &error["data"]["id"]), (&json!(3), &json!(999_999)), "{error}");
    assert!(response.get("result").is_none(), "{response}");

    assert_eq!(projects_in_db(&app).await, 1, "the created project is gone");
    assert_eq!(alice.ok("get_project", json!({"id": kept["id"]})).await, kept, "the rename is undone");
    let tasks = r#"SELECT count(*) FROM task WHERE cid <> (SELECT id FROM "user" WHERE username = 'demo1')"#;
    assert_eq!(fetch_i64(app.config.database_url.expose(), tasks).await, 0);
}

#[tokio::test]
async fn a_call_keeps_its_validation_and_its_owners_scope() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let bobs = bob.ok("create_project", json!({"data": {"name": "bob's"}})).await;

    let invalid = transaction(
        &alice,
        vec![
            call("create_project", json!({"data": {"name": "a"}})),
            call("create_task", json!({"data": {"project_id": {"$ref": "0.data.id"}, "title": 5}})),
        ],
    )
    .await;
    assert_error(&invalid["error"], -32602, "InvalidParams");
    assert_eq!(invalid["error"]["data"]["call_index"], 1);
    assert_eq!(invalid["error"]["data"]["field"], "data.title", "{invalid}");

    let foreign = transaction(
        &alice,
        vec![
            call("create_project", json!({"data": {"name": "a"}})),
            call("update_project", json!({"id": bobs["id"], "data": {"name": "mine now"}})),
        ],
    )
    .await;
    assert_error(&foreign["error"], -32004, "EntityNotFound");
    assert_eq!(foreign["error"]["data"]["call_index"], 1);

    assert_eq!(projects_in_db(&app).await, 1, "only bob's project");
    assert_eq!(bob.ok("get_project", json!({"id": bobs["id"]})).await, bobs);
}

#[tokio::test]
async fn a_ref_that_does_not_resolve_is_invalid_params_of_its_call() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    for (reference, problem) in [
        ("0.data.nope", "finds nothing"),
        ("1.data.id", "does not name an earlier call"),
        ("7.data.id", "does not name an earlier call"),
        ("data.id", "does not name an earlier call"),
    ] {
        let response = transaction(
            &alice,
            vec![
                call("create_project", json!({"data": {"name": "a"}})),
                call("get_project", json!({"id": {"$ref": reference}})),
            ],
        )
        .await;
        let error = &response["error"];
        assert_error(error, -32602, "InvalidParams");
        assert_eq!(error["data"]["call_index"], 1, "{error}");
        assert_eq!(error["data"]["field"], "id.$ref", "{error}");
        assert!(error["data"]["detail"].as_str().unwrap().contains(problem), "{reference}: {error}");
    }
    assert_eq!(projects_in_db(&app).await, 0);
}

#[tokio::test]
async fn only_entity_methods_may_be_called_and_nothing_runs_otherwise() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    for method in ["get_me", "change_pwd", "transaction", "rpc.discover", "no_such_method"] {
        let response = transaction(
            &alice,
            vec![call("create_project", json!({"data": {"name": "a"}})), json!({"method": method, "params": {}})],
        )
        .await;
        let error = &response["error"];
        assert_error(error, -32602, "InvalidParams");
        assert_eq!((&error["data"]["call_index"], &error["data"]["field"]), (&json!(1), &json!("method")), "{error}");
    }
    assert_eq!(projects_in_db(&app).await, 0, "a refused transaction runs no call");
}

#[tokio::test]
async fn calls_must_be_1_to_the_batch_limit_of_well_formed_entries() {
    let app = spawn_app_with(|config| config.rpc_batch_limit = 3).await;
    let alice = app.user("alice").await;
    let create = call("create_project", json!({"data": {"name": "a"}}));
    let create_named = |name: &str| call("create_project", json!({"data": {"name": name}}));
    for params in [
        json!({}),
        json!({"calls": []}),
        json!({"calls": {}}),
        json!({"calls": [create, create, create, create]}),
        json!({"calls": [{"method": "create_project", "params": {"data": {"name": "a"}}, "id": 1}]}),
        json!({"calls": [{"params": {}}]}),
        json!({"calls": [create], "atomic": true}),
        json!([[create]]),
    ] {
        let error = alice.err("transaction", params.clone()).await;
        assert_error(&error, -32602, "InvalidParams");
        assert!(error["data"].get("call_index").is_none(), "{params}: {error}");
    }
    assert_eq!(projects_in_db(&app).await, 0);
    let at_the_limit = transaction(&alice, vec![create_named("x"), create_named("y"), create_named("z")]).await;
    assert_eq!(at_the_limit["result"]["data"].as_array().map(Vec::len), Some(3), "{at_the_limit}");
}

#[tokio::test]
async fn a_transaction_in_a_batch_and_as_a_notification() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let create = |name: &str| call("create_project", json!({"data": {"name": name}}));
    let (status, body) = alice
        .post(
            "/api/rpc",
            json!([
                {"jsonrpc": "2.0", "id": "t", "method": "transaction", "params": {"calls": [create("a"), create("b")]}},
                {"jsonrpc": "2.0", "method": "transaction", "params": {"calls": [create("c")]}},
                {"jsonrpc": "2.0", "id": 2, "method": "count_projects"},
            ]),
        )
        .await;
    assert_eq!(status, 200);
    let answers = body.as_array().unwrap_or_else(|| panic!("{body}"));
    assert_eq!(answers.len(), 2, "the notification is not answered: {body}");
    assert_eq!(answers[0]["result"]["data"].as_array().map(Vec::len), Some(2), "{body}");
    assert_eq!(answers[1]["result"]["data"], 3, "the notification ran: {body}");
}

#[tokio::test]
async fn a_result_past_the_answer_limit_fails_the_transaction() {
    let app = spawn_app_with(|config| config.max_answer_bytes = 2_000).await;
    let alice = app.user("alice").await;
    let calls: Vec<Value> =
        (0..12).map(|i| call("create_project", json!({"data": {"name": format!("{i:0>200}")}}))).collect();
    let response = transaction(&alice, calls).await;
    assert_error(&response["error"], -32010, "AnswerTooLarge");
    assert!(response["error"]["data"]["call_index"].as_u64().is_some_and(|i| i > 0 && i < 12), "{response}");
    assert_eq!(projects_in_db(&app).await, 0);
}

#[tokio::test]
async fn a_run_of_creates_answers_each_in_order_and_a_failure_in_it_names_its_call() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let bobs = bob.ok("create_project", json!({"data": {"name": "bob's"}})).await;
    let task =
        |title: &str, project: Value| call("create_task", json!({"data": {"project_id": project, "title": title}}));
    let mine = json!({"$ref": "0.data.id"});

    let response = transaction(
        &alice,
        vec![
            call("create_project", json!({"data": {"name": "p"}})),
            task("one", mine.clone()),
            task("two", mine.clone()),
            call("create_task", json!({"data": {"project_id": mine, "title": "three", "done": true}})),
            task("four", mine.clone()),
        ],
    )
    .await;
    let results = response["result"]["data"].as_array().unwrap_or_else(|| panic!("{response}"));
    let titles: Vec<&str> = results[1..].iter().map(|r| r["data"]["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["one", "two", "three", "four"], "in the order of the calls");
    assert_eq!(results[3]["data"]["done"], true);
    let ids: Vec<i64> = results[1..].iter().map(|r| r["data"]["id"].as_i64().unwrap()).collect();
    assert!(ids.is_sorted(), "{ids:?}");

    let response = transaction(
        &alice,
        vec![
            call("create_project", json!({"data": {"name": "q"}})),
            task("one", mine.clone()),
            task("two", mine.clone()),
            task("not mine", bobs["id"].clone()),
            task("four", mine.clone()),
        ],
    )
    .await;
    assert_error(&response["error"], -32004, "EntityNotFound");
    assert_eq!(response["error"]["data"]["call_index"], 3, "{response}");

    let names = ["a", "b", "  ", "c"].map(|name| call("create_project", json!({"data": {"name": name}})));
    let response = transaction(&alice, names.to_vec()).await;
    assert_error(&response["error"], -32602, "InvalidParams");
    assert_eq!(response["error"]["data"]["call_index"], 2, "{response}");

    assert_eq!(alice.ok("count_projects", json!({})).await, 1, "only the first transaction's project");
    assert_eq!(alice.ok("count_tasks", json!({})).await, 4);
}

#[tokio::test]
async fn a_transaction_resolves_at_most_1000_references() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let with_refs = |n: usize| {
        let ids: Vec<Value> = (0..n).map(|_| json!({"$ref": "0.data.id"})).collect();
        vec![
            call("create_project", json!({"data": {"name": format!("p{n}")}})),
            call("list_projects", json!({"filters": {"id": {"$in": ids}}})),
        ]
    };
    let at_the_limit = transaction(&alice, with_refs(1000)).await;
    assert_eq!(at_the_limit["result"]["data"][1]["data"].as_array().map(Vec::len), Some(1), "{at_the_limit}");

    let past_it = transaction(&alice, with_refs(1001)).await;
    let error = &past_it["error"];
    assert_error(error, -32602, "InvalidParams");
    assert_eq!(error["data"]["call_index"], 1, "{error}");
    assert!(error["data"]["detail"].as_str().unwrap().contains("at most 1000 references"), "{error}");
    assert_eq!(alice.ok("count_projects", json!({})).await, 1, "only the first transaction's project");
}
