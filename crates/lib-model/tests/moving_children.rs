//! A child entity whose update input includes its parent column (a task that can be moved to
//! another project): the base layer checks the new parent as it checks a create's, so a row can
//! move between the caller's parents but never into someone else's (nor, shared, into a project
//! where the caller may only read: see `tests/sharing.rs`). Declared here, over the task
//! table, because the API's own task update has no `project_id`.

mod common;

use common::{fixture, project, task, user};
use lib_model::base::{self, Access, Audit, DbBmc, Entity, Parent, WriteFields, WriteScope};
use lib_model::project::ProjectBmc;
use lib_model::task::TaskForCreate;
use lib_model::{Ctx, Error};
use sea_query::{Condition, Expr, Value};

#[derive(Debug, Entity)]
#[entity(create = TaskForCreate, update = Move)]
struct MovableTask {
    id: i64,
    project_id: i64,
    title: String,
    done: bool,
    description: Option<String>,
    #[entity(flatten)]
    audit: Audit,
}

#[derive(WriteFields)]
struct Move {
    project_id: Option<i64>,
}

struct MovableTaskBmc;

const PROJECT: Parent<ProjectBmc> = Parent::via("project_id");

impl DbBmc for MovableTaskBmc {
    const ENTITY: &'static str = "task";
    const TABLE: &'static str = "task";
    type Entity = MovableTask;

    fn scope(user: &Expr, access: Access) -> Condition {
        PROJECT.scope(user, access, Self::TABLE)
    }

    fn write_scope(ctx: &Ctx, fields: &[(&'static str, Value)]) -> WriteScope {
        PROJECT.write_scope(ctx, fields)
    }
}

#[tokio::test]
async fn a_row_moves_between_the_callers_parents_but_never_into_anothers() {
    let f = fixture().await;
    let bob = user(&f.mm, "bob").await;
    let bobs_project = project(&bob, &f.mm, "Bob's").await;
    let alices_other = project(&f.ctx, &f.mm, "Beta").await;
    let tid = task(&f.ctx, &f.mm, f.project_id, "movable").await.id;

    let into_bobs =
        base::update::<MovableTaskBmc>(&f.ctx, &f.mm, tid, Move { project_id: Some(bobs_project) }, None).await;
    // The new parent is one the caller cannot see: as missing as a project that is not there.
    let refused = matches!(into_bobs, Err(Error::EntityNotFound { entity: "project", id }) if id == bobs_project);
    assert!(refused, "{into_bobs:?}");
    let unmoved = base::get::<MovableTaskBmc>(&f.ctx, &f.mm, tid).await.unwrap();
    assert_eq!(unmoved.project_id, f.project_id);

    let moved = base::update::<MovableTaskBmc>(&f.ctx, &f.mm, tid, Move { project_id: Some(alices_other) }, None).await;
    assert_eq!(moved.unwrap().project_id, alices_other);
}
