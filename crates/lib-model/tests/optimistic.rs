//! `if_mtime` on updates and deletes: the write happens only while the row's `mtime` is still
//! the one the caller saw; otherwise `Stale`, and nothing changes. A missing or invisible row
//! stays `EntityNotFound`, so `Stale` never tells anyone that someone else's row exists.

mod common;

use common::{fixture, task, user};
use lib_model::Error;
use lib_model::task::{TaskBmc, TaskForUpdate};

fn retitle(title: &str) -> TaskForUpdate {
    TaskForUpdate { title: Some(title.into()), ..Default::default() }
}

fn is_stale<T: std::fmt::Debug>(result: &lib_model::Result<T>, id: i64) -> bool {
    matches!(result, Err(Error::Stale { entity: "task", id: i }) if *i == id)
}

fn is_not_found<T: std::fmt::Debug>(result: &lib_model::Result<T>, id: i64) -> bool {
    matches!(result, Err(Error::EntityNotFound { entity: "task", id: i }) if *i == id)
}

#[tokio::test]
async fn an_update_or_delete_with_an_old_mtime_is_stale_and_changes_nothing() {
    let f = fixture().await;
    let seen = task(&f.ctx, &f.mm, f.project_id, "seen").await;
    let seen_at = Some(seen.audit.mtime);

    let first = TaskBmc::update_if(&f.ctx, &f.mm, seen.id, retitle("first"), seen_at).await.unwrap();
    assert!(first.audit.mtime > seen.audit.mtime);

    let late = TaskBmc::update_if(&f.ctx, &f.mm, seen.id, retitle("late"), seen_at).await;
    assert!(is_stale(&late, seen.id), "{late:?}");
    let empty = TaskBmc::update_if(&f.ctx, &f.mm, seen.id, TaskForUpdate::default(), seen_at).await;
    assert!(is_stale(&empty, seen.id), "an empty patch checks the mtime too: {empty:?}");
    let late_delete = TaskBmc::delete_if(&f.ctx, &f.mm, seen.id, seen_at).await;
    assert!(is_stale(&late_delete, seen.id), "{late_delete:?}");
    assert_eq!(TaskBmc::get(&f.ctx, &f.mm, seen.id).await.unwrap(), first, "nothing changed");

    let current = Some(first.audit.mtime);
    let unchanged = TaskBmc::update_if(&f.ctx, &f.mm, seen.id, TaskForUpdate::default(), current).await;
    assert_eq!(unchanged.unwrap(), first);
    TaskBmc::delete_if(&f.ctx, &f.mm, seen.id, current).await.unwrap();
    assert!(is_not_found(&TaskBmc::get(&f.ctx, &f.mm, seen.id).await, seen.id));
}

#[tokio::test]
async fn a_missing_or_invisible_row_is_not_found_whatever_the_mtime() {
    let f = fixture().await;
    let bob = user(&f.mm, "bob").await;
    let alices = task(&f.ctx, &f.mm, f.project_id, "alice's").await;
    let old = Some(alices.audit.mtime - time::Duration::seconds(1));

    assert!(is_not_found(&TaskBmc::update_if(&bob, &f.mm, alices.id, retitle("x"), old).await, alices.id));
    assert!(is_not_found(&TaskBmc::delete_if(&bob, &f.mm, alices.id, old).await, alices.id));
    let missing = alices.id + 1_000_000;
    assert!(is_not_found(&TaskBmc::update_if(&f.ctx, &f.mm, missing, retitle("x"), old).await, missing));
}

#[tokio::test]
async fn of_two_concurrent_updates_from_the_same_mtime_exactly_one_wins() {
    let f = fixture().await;
    let seen = task(&f.ctx, &f.mm, f.project_id, "contended").await;
    for round in 0..5 {
        let current = TaskBmc::get(&f.ctx, &f.mm, seen.id).await.unwrap().audit.mtime;
        let (a, b) = tokio::join!(
            TaskBmc::update_if(&f.ctx, &f.mm, seen.id, retitle(&format!("a{round}")), Some(current)),
            TaskBmc::update_if(&f.ctx, &f.mm, seen.id, retitle(&format!("b{round}")), Some(current)),
        );
        let (won, lost) = match (&a, &b) {
            (Ok(won), lost) | (lost, Ok(won)) => (won.clone(), lost),
            _ => panic!("neither won: {a:?} {b:?}"),
        };
        assert!(is_stale(lost, seen.id), "round {round}: {a:?} {b:?}");
        assert_eq!(TaskBmc::get(&f.ctx, &f.mm, seen.id).await.unwrap(), won);
    }
}
