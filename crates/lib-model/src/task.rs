//! Tasks: belong to a project; its members may read them, its editors and owner change them.

use crate::base::{Access, Audit, DbBmc, Entity, Parent, WriteFields, WriteScope};
use crate::project::ProjectBmc;
use crate::serde_fields::{nullable, present};
use lib_core::Ctx;
use sea_query::{Condition, Expr, SelectStatement, Value};
use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq, Entity)]
#[entity(create = TaskForCreate, update = TaskForUpdate)]
pub struct Task {
    pub id: i64,
    pub project_id: i64,
    pub title: String,
    pub done: bool,
    pub description: Option<String>,
    #[entity(flatten)]
    pub audit: Audit,
}

#[derive(Debug, Clone, Deserialize, WriteFields)]
#[serde(deny_unknown_fields)]
pub struct TaskForCreate {
    pub project_id: i64,
    pub title: String,
    pub done: Option<bool>,
    pub description: Option<String>,
}

/// A patch: absent fields stay as they are; a nullable field given as `null` is cleared.
#[derive(Debug, Clone, Default, Deserialize, WriteFields)]
#[serde(deny_unknown_fields)]
pub struct TaskForUpdate {
    #[serde(default, deserialize_with = "present")]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub done: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    pub description: Option<Option<String>>,
}

pub struct TaskBmc;

/// A task is reached through its project.
const PROJECT: Parent<ProjectBmc> = Parent::via("project_id");

impl DbBmc for TaskBmc {
    const ENTITY: &'static str = "task";
    const TABLE: &'static str = "task";

    type Entity = Task;

    fn scope(user: &Expr, access: Access) -> Condition {
        PROJECT.scope(user, access, Self::TABLE)
    }

    fn readers() -> SelectStatement {
        PROJECT.readers(Self::TABLE)
    }

    fn write_scope(ctx: &Ctx, fields: &[(&'static str, Value)]) -> WriteScope {
        PROJECT.write_scope(ctx, fields)
    }
}

crate::generate_crud_fns!(TaskBmc);
