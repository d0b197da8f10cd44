//! `if_mtime` through the API: the `mtime` a call returned, sent back as it came, lets exactly
//! the next write through; a write from an older copy is -32009 `Stale` and changes nothing.

mod common;

use common::{assert_error, spawn_app};
use serde_json::json;

#[tokio::test]
async fn a_write_from_an_old_copy_is_stale_and_one_from_the_current_copy_goes_through() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let project = alice.ok("create_project", json!({"data": {"name": "p"}})).await;
    let task = alice.ok("create_task", json!({"data": {"project_id": project["id"], "title": "t"}})).await;
    let (id, seen) = (task["id"].clone(), task["mtime"].clone());

    let edited = alice.ok("update_task", json!({"id": id, "data": {"title": "mine"}, "if_mtime": seen.clone()})).await;
    assert_ne!(edited["mtime"], seen);

    let stale =
        alice.err("update_task", json!({"id": id, "data": {"title": "theirs"}, "if_mtime": seen.clone()})).await;
    assert_error(&stale, -32009, "Stale");
    assert_eq!((stale["data"]["entity"].as_str(), &stale["data"]["id"]), (Some("task"), &id));
    assert_error(&alice.err("delete_task", json!({"id": id, "if_mtime": seen})).await, -32009, "Stale");
    assert_eq!(alice.ok("get_task", json!({"id": id})).await, edited, "nothing changed");

    alice.ok("delete_task", json!({"id": id, "if_mtime": edited["mtime"]})).await;
    assert_error(&alice.err("get_task", json!({"id": id})).await, -32004, "EntityNotFound");
}

#[tokio::test]
async fn an_if_mtime_that_is_not_a_time_is_invalid_params() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let project = alice.ok("create_project", json!({"data": {"name": "p"}})).await;
    for bad in [json!("yesterday"), json!(5), json!("2026-13-01T00:00:00Z")] {
        let error = alice.err("update_project", json!({"id": project["id"], "data": {}, "if_mtime": bad})).await;
        assert_error(&error, -32602, "InvalidParams");
        assert!(error["data"]["detail"].as_str().unwrap().starts_with("if_mtime: "), "{error}");
    }
    let unchanged = alice.ok("update_project", json!({"id": project["id"], "data": {}, "if_mtime": null})).await;
    assert_eq!(unchanged, project, "null is no condition");
}
