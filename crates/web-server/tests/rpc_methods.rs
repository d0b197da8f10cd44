//! Every method of the contract, invalid params of each kind, and ownership through RPC.

mod common;

use common::{PWD, assert_error, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn assert_fields(entity: &Value, expected: &[&str]) {
    let mut fields: Vec<&str> = entity.as_object().unwrap().keys().map(String::as_str).collect();
    let mut expected = expected.to_vec();
    fields.sort_unstable();
    expected.sort_unstable();
    assert_eq!(fields, expected, "{entity}");
}

#[tokio::test]
async fn project_methods() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let me = alice.ok("get_me", json!({})).await;

    let created = alice.ok("create_project", json!({"data": {"name": "Alpha"}})).await;
    assert_fields(&created, &["id", "owner_id", "name", "role", "cid", "ctime", "mid", "mtime"]);
    assert_eq!(created["owner_id"], me["id"]);
    assert_eq!(created["cid"], me["id"]);
    let id = created["id"].clone();

    assert_eq!(alice.ok("get_project", json!({"id": id})).await, created);
    alice.ok("create_project", json!({"data": {"name": "Beta"}})).await;
    let listed = alice.ok("list_projects", json!({"list_options": {"order_bys": "!name"}})).await;
    let names: Vec<&str> = listed.as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Beta", "Alpha"]);
    assert_eq!(alice.ok("list_projects", Value::Null).await.as_array().unwrap().len(), 2, "params may be omitted");
    assert_eq!(alice.ok("count_projects", json!({"filters": {"name": {"$startsWith": "A"}}})).await, 1);

    let renamed = alice.ok("update_project", json!({"id": id, "data": {"name": "Alpha 2"}})).await;
    assert_eq!(renamed["name"], "Alpha 2");
    assert_eq!(renamed["ctime"], created["ctime"]);
    assert_ne!(renamed["mtime"], created["mtime"]);

    let deleted = alice.ok("delete_project", json!({"id": id})).await;
    assert_eq!(deleted["name"], "Alpha 2");
    assert_error(&alice.err("get_project", json!({"id": id})).await, -32004, "EntityNotFound");
}

#[tokio::test]
async fn task_methods_and_times_usable_as_filter_values() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let project_id = alice.ok("create_project", json!({"data": {"name": "P"}})).await["id"].clone();

    let task = alice.ok("create_task", json!({"data": {"project_id": project_id, "title": "write docs"}})).await;
    assert_fields(&task, &["id", "project_id", "title", "done", "description", "cid", "ctime", "mid", "mtime"]);
    assert_eq!((task["done"].clone(), task["description"].clone()), (json!(false), Value::Null));
    let full = alice
        .ok(
            "create_task",
            json!({"data": {"project_id": project_id, "title": "ship", "done": true, "description": "v1"}}),
        )
        .await;
    assert_eq!((full["done"].clone(), full["description"].clone()), (json!(true), json!("v1")));

    assert_eq!(alice.ok("get_task", json!({"id": task["id"]})).await, task);
    let updated = alice.ok("update_task", json!({"id": task["id"], "data": {"done": true, "description": "d"}})).await;
    assert_eq!((updated["title"].clone(), updated["done"].clone()), (json!("write docs"), json!(true)));
    let cleared = alice.ok("update_task", json!({"id": task["id"], "data": {"description": null}})).await;
    assert_eq!(cleared["description"], Value::Null);

    // A time the server returns works as a filter value, to the microsecond.
    let same_time = alice.ok("list_tasks", json!({"filters": {"ctime": task["ctime"]}})).await;
    assert!(same_time.as_array().unwrap().iter().any(|t| t["id"] == task["id"]), "{same_time}");
    assert_eq!(alice.ok("count_tasks", json!({"filters": {"done": true}})).await, 2);
    assert_eq!(alice.ok("count_tasks", Value::Null).await, 2);

    assert_eq!(alice.ok("delete_task", json!({"id": task["id"]})).await["id"], task["id"]);
    assert_eq!(alice.ok("count_tasks", json!({})).await, 1);
    alice.ok("delete_project", json!({"id": project_id})).await;
    assert_error(&alice.err("get_task", json!({"id": full["id"]})).await, -32004, "EntityNotFound");
}

#[tokio::test]
async fn the_contracts_list_example() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let pid = alice.ok("create_project", json!({"data": {"name": "P"}})).await["id"].clone();
    for title in ["task AAA 1", "task AAA 2", "task AAA 3", "task AAA 4", "task BB 1", "task BB 2"] {
        alice.ok("create_task", json!({"data": {"project_id": pid, "title": title}})).await;
    }
    let listed = alice
        .ok(
            "list_tasks",
            json!({
                "filters": [
                    {"project_id": pid, "title": {"$contains": "BB"}},
                    {"project_id": {"$in": [pid]}, "title": {"$in": ["task AAA 3", "task AAA 4"]}}
                ],
                "list_options": {"order_bys": "!title"}
            }),
        )
        .await;
    let titles: Vec<&str> = listed.as_array().unwrap().iter().map(|t| t["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["task BB 2", "task BB 1", "task AAA 4", "task AAA 3"]);
}

#[tokio::test]
async fn change_pwd_ends_the_other_sessions() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let other = app.client();
    other.post("/api/login", json!({"username": "alice", "pwd": PWD})).await;

    let error = alice.err("change_pwd", json!({"old_pwd": "wrong", "new_pwd": "a new password"})).await;
    assert_error(&error, -32602, "InvalidParams");
    assert!(error["data"]["detail"].as_str().unwrap().contains("old_pwd"));
    let error = alice.err("change_pwd", json!({"old_pwd": PWD, "new_pwd": "short"})).await;
    assert!(error["data"]["detail"].as_str().unwrap().contains("new_pwd"), "{error}");

    assert_eq!(alice.ok("change_pwd", json!({"old_pwd": PWD, "new_pwd": "a new password"})).await, true);
    assert_eq!(alice.ok("get_me", json!({})).await["username"], "alice", "the caller goes on with its new cookie");
    let (status, _) = other.post("/api/rpc", json!({"jsonrpc": "2.0", "id": 1, "method": "get_me"})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the other session ended");
    let (status, _) = app.client().post("/api/login", json!({"username": "alice", "pwd": "a new password"})).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn invalid_params_of_each_kind_name_the_field() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let pid = alice.ok("create_project", json!({"data": {"name": "P"}})).await["id"].clone();
    let cases = [
        ("create_project", json!({}), "missing field `data`"),
        ("create_project", json!({"data": {}}), "missing field `name`"),
        ("create_project", json!({"data": {"name": 5}}), "data.name"),
        ("create_project", json!({"data": {"name": "x", "colour": "red"}}), "unknown field `colour`"),
        ("create_project", json!({"data": {"name": "x", "owner_id": 1}}), "data.owner_id: is set by the server"),
        ("create_task", json!({"data": {"project_id": pid, "title": "x", "cid": 1}}), "data.cid"),
        ("update_task", json!({"id": 1, "data": {"mtime": "2026-01-01T00:00:00Z"}}), "data.mtime"),
        ("update_task", json!({"id": 1, "data": {"title": null}}), "data.title"),
        ("create_project", json!({"data": {"name": "x"}, "extra": 1}), "unknown field `extra`"),
        ("get_project", json!({"id": "1"}), "id"),
        ("get_project", json!({"id": 18446744073709551616u128 as f64}), "id"),
        ("get_project", json!({"id": 1.5}), "id"),
        ("create_task", json!({"data": {"project_id": pid, "title": "a\u{0}b"}}), "NUL"),
        ("list_tasks", json!({"filters": {"nope": 1}}), "filters.nope"),
        ("list_tasks", json!({"filters": {"title": {"$regex": "x"}}}), "$regex"),
        ("list_tasks", json!({"filters": {"done": "yes"}}), "filters.done"),
        ("list_tasks", json!({"filters": {"id": 99999999999999999999u128 as f64}}), "filters.id"),
        ("list_tasks", json!({"filters": {"title": {"$in": vec!["x"; 1001]}}}), "at most 1000"),
        ("list_tasks", json!({"list_options": {"order_bys": "nope"}}), "order_bys"),
        ("list_tasks", json!({"list_options": {"limit": 0}}), "list_options.limit"),
        ("list_tasks", json!({"list_options": {"limit": 1001}}), "list_options.limit"),
        ("list_tasks", json!({"list_options": {"offset": -1}}), "list_options.offset"),
        ("count_tasks", json!({"list_options": {}}), "unknown field `list_options`"),
        ("get_me", json!({"verbose": true}), "unknown field `verbose`"),
    ];
    for (method, params, expected) in cases {
        let error = alice.err(method, params.clone()).await;
        assert_error(&error, -32602, "InvalidParams");
        let detail = error["data"]["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(expected), "{method} {params}: {detail}");
    }
    assert_eq!(alice.ok("count_tasks", json!({})).await, 0, "nothing was created");
}

#[tokio::test]
async fn constraint_violations_are_conflicts_or_invalid_params_never_internal() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let project = alice.ok("create_project", json!({"data": {"name": "Same"}})).await;
    alice.ok("create_project", json!({"data": {"name": "Same"}})).await;
    let again = json!({"project_id": project["id"], "username": "alice", "role": "viewer"});
    assert_error(&alice.err("add_project_member", again).await, -32009, "Conflict");
    assert_error(&alice.err("create_project", json!({"data": {"name": " "}})).await, -32602, "InvalidParams");
    let bob = app.user("bob").await;
    bob.ok("create_project", json!({"data": {"name": "Same"}})).await;
}

#[tokio::test]
async fn one_users_batch_cannot_touch_another_users_rows() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let mallory = app.user("mallory").await;
    let project = alice.ok("create_project", json!({"data": {"name": "Secret"}})).await;
    let task = alice.ok("create_task", json!({"data": {"project_id": project["id"], "title": "hidden"}})).await;
    let (pid, tid) = (project["id"].clone(), task["id"].clone());

    let batch = json!([
        {"jsonrpc": "2.0", "id": 1, "method": "get_project", "params": {"id": pid}},
        {"jsonrpc": "2.0", "id": 2, "method": "update_project", "params": {"id": pid, "data": {"name": "pwned"}}},
        {"jsonrpc": "2.0", "id": 3, "method": "get_task", "params": {"id": tid}},
        {"jsonrpc": "2.0", "id": 4, "method": "update_task", "params": {"id": tid, "data": {"done": true}}},
        {"jsonrpc": "2.0", "id": 5, "method": "create_task", "params": {"data": {"project_id": pid, "title": "planted"}}},
        {"jsonrpc": "2.0", "id": 6, "method": "list_tasks", "params": {"filters": [{"project_id": pid}, {"id": tid}]}},
        {"jsonrpc": "2.0", "id": 7, "method": "count_projects", "params": {"filters": {"owner_id": project["owner_id"]}}},
        {"jsonrpc": "2.0", "id": 8, "method": "delete_task", "params": {"id": tid}},
        {"jsonrpc": "2.0", "id": 9, "method": "delete_project", "params": {"id": pid}},
        {"jsonrpc": "2.0", "method": "delete_project", "params": {"id": pid}}
    ]);
    let (status, responses) = mallory.post("/api/rpc", batch).await;
    assert_eq!(status, StatusCode::OK);
    let responses = responses.as_array().unwrap();
    assert_eq!(responses.len(), 9);
    for response in responses {
        match response["id"].as_i64().unwrap() {
            6 => assert_eq!(response["result"]["data"], json!([])),
            7 => assert_eq!(response["result"]["data"], 0),
            5 => {
                assert_error(&response["error"], -32004, "EntityNotFound");
                assert_eq!(response["error"]["data"]["entity"], "project");
            }
            _ => assert_error(&response["error"], -32004, "EntityNotFound"),
        }
    }
    assert_eq!(alice.ok("get_project", json!({"id": pid})).await, project);
    assert_eq!(alice.ok("get_task", json!({"id": tid})).await, task);
    assert_eq!(alice.ok("count_tasks", json!({})).await, 1);
}

#[tokio::test]
async fn not_found_errors_name_the_entity_and_id_and_look_like_foreign_rows() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let bobs = bob.ok("create_project", json!({"data": {"name": "B"}})).await["id"].as_i64().unwrap();
    let missing = alice.err("get_project", json!({"id": 987654})).await;
    let foreign = alice.err("get_project", json!({"id": bobs})).await;
    assert_eq!(missing["data"]["entity"], "project");
    assert_eq!(missing["data"]["id"], 987654);
    assert_eq!(foreign["data"]["id"], bobs);
    assert_eq!(
        (missing["code"].clone(), missing["message"].clone()),
        (foreign["code"].clone(), foreign["message"].clone())
    );
}

#[tokio::test]
async fn fields_are_given_by_name_never_by_position() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let error = alice.err("create_project", json!({"data": ["by position"]})).await;
    assert_error(&error, -32602, "InvalidParams");
    assert_eq!(error["data"]["detail"], "data: must be an object");
    assert_eq!(alice.ok("count_projects", json!({})).await, 0);

    let (status, body) = app.client().post("/api/signup", json!(["bob", PWD])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&body["error"], -32602, "InvalidInput");
    let (status, _) = app.client().post("/api/login", json!(["alice", PWD])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_wrong_old_password_is_throttled_with_too_many_requests() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    for _ in 0..app.config.login_fails_per_user {
        assert_error(
            &alice.err("change_pwd", json!({"old_pwd": "guess", "new_pwd": "a new password"})).await,
            -32602,
            "InvalidParams",
        );
    }
    let error = alice.err("change_pwd", json!({"old_pwd": PWD, "new_pwd": "a new password"})).await;
    assert_error(&error, -32029, "TooManyRequests");
    assert!(error["data"]["retry_after_sec"].as_u64().unwrap() >= 1);
}
