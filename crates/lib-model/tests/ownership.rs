//! User B can neither see nor touch user A's projects and tasks, by id or by any filter.

mod common;

use common::{fixture, project, task, user};
use lib_model::Error;
use lib_model::project::{ProjectBmc, ProjectForUpdate};
use lib_model::task::{TaskBmc, TaskForCreate, TaskForUpdate};
use serde_json::json;

fn is_not_found<T: std::fmt::Debug>(result: &lib_model::Result<T>, entity: &str, id: i64) -> bool {
    matches!(result, Err(Error::EntityNotFound { entity: e, id: i }) if *e == entity && *i == id)
}

#[tokio::test]
async fn another_user_cannot_get_update_or_delete_by_id() {
    let f = fixture().await;
    let bob = user(&f.mm, "bob").await;
    let alices_task = task(&f.ctx, &f.mm, f.project_id, "secret").await;
    let pid = f.project_id;
    let tid = alices_task.id;

    assert!(is_not_found(&ProjectBmc::get(&bob, &f.mm, pid).await, "project", pid));
    assert!(is_not_found(&TaskBmc::get(&bob, &f.mm, tid).await, "task", tid));
    let rename = ProjectForUpdate { name: Some("mine".into()) };
    assert!(is_not_found(&ProjectBmc::update(&bob, &f.mm, pid, rename).await, "project", pid));
    let retitle = TaskForUpdate { title: Some("mine".into()), ..Default::default() };
    assert!(is_not_found(&TaskBmc::update(&bob, &f.mm, tid, retitle).await, "task", tid));
    assert!(is_not_found(&TaskBmc::delete(&bob, &f.mm, tid).await, "task", tid));
    assert!(is_not_found(&ProjectBmc::delete(&bob, &f.mm, pid).await, "project", pid));

    // Nothing changed for Alice.
    assert_eq!(ProjectBmc::get(&f.ctx, &f.mm, pid).await.unwrap().name, "Alpha");
    assert_eq!(TaskBmc::get(&f.ctx, &f.mm, tid).await.unwrap(), alices_task);
}

#[tokio::test]
async fn another_user_cannot_create_a_task_in_a_foreign_or_missing_project() {
    let f = fixture().await;
    let bob = user(&f.mm, "bob").await;
    let before = TaskBmc::count(&f.ctx, &f.mm, Default::default()).await.unwrap();
    let data = TaskForCreate { project_id: f.project_id, title: "intruder".into(), done: None, description: None };
    assert!(is_not_found(&TaskBmc::create(&bob, &f.mm, data).await, "project", f.project_id));
    let missing = TaskForCreate { project_id: i64::MAX, title: "x".into(), done: None, description: None };
    assert!(is_not_found(&TaskBmc::create(&bob, &f.mm, missing).await, "project", i64::MAX));
    assert_eq!(TaskBmc::count(&f.ctx, &f.mm, Default::default()).await.unwrap(), before);
}

#[tokio::test]
async fn no_filter_widens_the_scope() {
    let f = fixture().await;
    let bob = user(&f.mm, "bob").await;
    let bobs_project = project(&bob, &f.mm, "Bob's").await;
    let bobs_task = task(&bob, &f.mm, bobs_project, "bob's task").await;
    let alice = f.ctx.user_id();

    let widening = [
        json!(null),
        json!({"project_id": f.project_id}),
        json!({"project_id": {"$in": [f.project_id, bobs_project]}}),
        json!([{"project_id": f.project_id}, {"id": {"$gte": 0}}]),
        json!([{"title": {"$contains": ""}}, {"done": {"$null": false}}]),
        json!({"cid": alice}),
        json!({"id": {"$notIn": []}}),
    ];
    for filters in widening {
        let tasks = TaskBmc::list(
            &bob,
            &f.mm,
            TaskBmc::parse_filters(Some(&common::raw(&filters))).unwrap(),
            &Default::default(),
        )
        .await
        .unwrap()
        .rows;
        assert!(tasks.iter().all(|t| t.project_id == bobs_project), "{filters}: {tasks:?}");
        let count =
            TaskBmc::count(&bob, &f.mm, TaskBmc::parse_filters(Some(&common::raw(&filters))).unwrap()).await.unwrap();
        assert!(count <= 1, "{filters}: counted {count}");
    }
    for filters in [json!(null), json!({"owner_id": alice}), json!([{"id": f.project_id}, {}])] {
        let parsed = ProjectBmc::parse_filters(Some(&common::raw(&filters))).unwrap();
        let projects = ProjectBmc::list(&bob, &f.mm, parsed, &Default::default()).await.unwrap().rows;
        assert!(projects.iter().all(|p| p.owner_id == bob.user_id()), "{filters}: {projects:?}");
        let parsed = ProjectBmc::parse_filters(Some(&common::raw(&filters))).unwrap();
        assert!(ProjectBmc::count(&bob, &f.mm, parsed).await.unwrap() <= 1);
    }
    let visible = TaskBmc::list(&bob, &f.mm, Default::default(), &Default::default()).await.unwrap().rows;
    assert_eq!(visible, [bobs_task]);
}
