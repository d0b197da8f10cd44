//! Tasks: belong to a project, and to whoever owns that project.

use crate::base::{CreateScope, DbBmc, ParentGuard};
use crate::filter::{Column, FieldKind::*};
use crate::project::ProjectBmc;
use crate::serde_fields::{nullable, present};
use lib_core::Ctx;
use sea_query::{Condition, Expr, ExprTrait as _, Query};
use serde::{Deserialize, Serialize};
use sqlx::FromRow;
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq, Eq, FromRow, Serialize)]
pub struct Task {
    pub id: i64,
    pub project_id: i64,
    pub title: String,
    pub done: bool,
    pub description: Option<String>,
    pub cid: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub ctime: OffsetDateTime,
    pub mid: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub mtime: OffsetDateTime,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskForCreate {
    pub project_id: i64,
    pub title: String,
    #[serde(default)]
    pub done: Option<bool>,
    #[serde(default)]
    pub description: Option<String>,
}

/// A patch: absent fields stay as they are; `"description": null` clears the description.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskForUpdate {
    #[serde(default, deserialize_with = "present")]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub done: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    pub description: Option<Option<String>>,
}

crate::impl_write_fields!(TaskForCreate { project_id, title, done, description });
crate::impl_write_fields!(TaskForUpdate { title, done, description });

pub struct TaskBmc;

impl DbBmc for TaskBmc {
    const ENTITY: &'static str = "task";
    const TABLE: &'static str = "task";
    const COLUMNS: &'static [Column] = &[
        Column::new("id", Int),
        Column::new("project_id", Int),
        Column::new("title", Text),
        Column::new("done", Bool),
        Column::new("description", Text).nullable(),
        Column::new("cid", Int),
        Column::new("ctime", Time),
        Column::new("mid", Int),
        Column::new("mtime", Time),
    ];

    type Entity = Task;
    type ForCreate = TaskForCreate;
    type ForUpdate = TaskForUpdate;

    /// A task is the caller's when its project is.
    fn scope(ctx: &Ctx) -> Condition {
        let project = ProjectBmc::TABLE;
        owned_project(ctx, Expr::col((project, "id")).equals((Self::TABLE, "project_id")))
    }

    fn create_scope(ctx: &Ctx, data: &TaskForCreate) -> CreateScope {
        let owned_by_caller = owned_project(ctx, Expr::col((ProjectBmc::TABLE, "id")).eq(data.project_id));
        CreateScope {
            owned: Vec::new(),
            parent: Some(ParentGuard { entity: ProjectBmc::ENTITY, id: data.project_id, owned_by_caller }),
        }
    }
}

/// `EXISTS (SELECT 1 FROM project WHERE <which> AND project.owner_id = <caller>)`.
fn owned_project(ctx: &Ctx, which: Expr) -> Condition {
    let mut projects = Query::select();
    projects.expr(Expr::val(1)).from(ProjectBmc::TABLE).and_where(which).cond_where(ProjectBmc::scope(ctx));
    Condition::all().add(Expr::exists(projects))
}

crate::generate_crud_fns! {
    Bmc: TaskBmc,
    Entity: Task,
    ForCreate: TaskForCreate,
    ForUpdate: TaskForUpdate,
}
