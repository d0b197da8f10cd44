//! Keyset paging through `/api/rpc`: every `list_*` answers `{"data", "next_cursor"}`, a client
//! that follows `next_cursor` reads every row once, and a cursor that is not the server's, for
//! another entity or order, or given with an offset, is -32602 naming `list_options.cursor`.

mod common;

use common::{Api, assert_error, spawn_app};
use serde_json::{Value, json};

/// A project of `alice`'s with `n` tasks, titled with ties and some without a description.
async fn project_with_tasks(api: &Api, name: &str, n: usize) -> Value {
    let project_id = api.ok("create_project", json!({"data": {"name": name}})).await["id"].clone();
    for i in 0..n {
        let description = if i % 3 == 0 { Value::Null } else { json!(format!("d{}", i % 2)) };
        let data = json!({"project_id": project_id, "title": format!("task {}", i % 4), "description": description});
        api.ok("create_task", json!({"data": data})).await;
    }
    project_id
}

/// The whole `result` of a `list_*` call that must succeed.
async fn list(api: &Api, method: &str, list_options: Value) -> Value {
    let response = api.rpc(method, json!({"list_options": list_options})).await;
    assert!(response.get("error").is_none(), "{response}");
    response["result"].clone()
}

fn ids(result: &Value) -> Vec<i64> {
    result["data"].as_array().unwrap().iter().map(|row| row["id"].as_i64().unwrap()).collect()
}

#[tokio::test]
async fn every_list_answers_its_rows_and_a_next_cursor_that_is_null_on_the_last_page() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    project_with_tasks(&alice, "Alpha", 3).await;
    for (method, rows) in [("list_projects", 1), ("list_tasks", 3)] {
        let result = list(&alice, method, json!({})).await;
        let keys: Vec<&String> = result.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["data", "next_cursor"], "{result}");
        assert_eq!((ids(&result).len(), &result["next_cursor"]), (rows, &Value::Null));
    }
    let first = list(&alice, "list_tasks", json!({"limit": 2})).await;
    assert!(first["next_cursor"].as_str().is_some_and(|cursor| !cursor.is_empty()), "{first}");
}

#[tokio::test]
async fn following_next_cursor_forward_reads_every_task_once_in_order() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    project_with_tasks(&alice, "Alpha", 11).await;
    for order_bys in [json!(null), json!("!title"), json!(["description", "!id"])] {
        let whole = ids(&list(&alice, "list_tasks", json!({"order_bys": order_bys})).await);
        let (mut walked, mut cursor, mut pages) = (Vec::new(), Value::Null, 0);
        loop {
            let page = list(&alice, "list_tasks", json!({"order_bys": order_bys, "limit": 4, "cursor": cursor})).await;
            walked.extend(ids(&page));
            pages += 1;
            cursor = page["next_cursor"].clone();
            if cursor.is_null() {
                break;
            }
        }
        assert_eq!((walked, pages), (whole, 3), "{order_bys}");
    }
}

#[tokio::test]
async fn a_cursor_that_is_not_for_this_list_is_invalid_params_naming_it() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    project_with_tasks(&alice, "Alpha", 4).await;
    project_with_tasks(&alice, "Beta", 0).await;
    let task_cursor =
        list(&alice, "list_tasks", json!({"order_bys": "title", "limit": 2})).await["next_cursor"].clone();
    let project_cursor = list(&alice, "list_projects", json!({"limit": 1})).await["next_cursor"].clone();
    let tampered = {
        let text = task_cursor.as_str().unwrap();
        let flipped = if text.starts_with('e') { 'f' } else { 'e' };
        format!("{flipped}{}", &text[1..])
    };
    let refused = [
        ("list_tasks", json!({"cursor": project_cursor}), "another entity"),
        ("list_projects", json!({"cursor": task_cursor}), "another entity"),
        ("list_tasks", json!({"order_bys": "!title", "cursor": task_cursor}), "made for the order"),
        ("list_tasks", json!({"cursor": task_cursor}), "made for the order"),
        ("list_tasks", json!({"order_bys": "title", "cursor": task_cursor, "offset": 2}), "offset"),
        ("list_tasks", json!({"order_bys": "title", "cursor": tampered}), "not a cursor this server made"),
        ("list_tasks", json!({"cursor": "x".repeat(200_000)}), "longer than any cursor"),
        ("list_tasks", json!({"cursor": 12}), "expected a string"),
    ];
    for (method, list_options, words) in refused {
        let error = alice.err(method, json!({"list_options": list_options})).await;
        assert_error(&error, -32602, "InvalidParams");
        let detail = error["data"]["detail"].as_str().unwrap();
        assert!(detail.starts_with("list_options.cursor: ") && detail.contains(words), "{method}: {detail}");
    }
}

#[tokio::test]
async fn another_users_cursor_pages_through_only_the_callers_own_tasks() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    project_with_tasks(&alice, "Alpha", 6).await;
    let bobs_project = project_with_tasks(&bob, "Bob's", 6).await;
    let alices_cursor = list(&alice, "list_tasks", json!({"limit": 2})).await["next_cursor"].clone();
    let page = list(&bob, "list_tasks", json!({"cursor": alices_cursor})).await;
    assert!(!ids(&page).is_empty());
    assert!(page["data"].as_array().unwrap().iter().all(|task| task["project_id"] == bobs_project), "{page}");
}
