//! Projects: owned by the user who created them.

use crate::base::{CreateScope, DbBmc};
use crate::filter::{Column, FieldKind::*};
use crate::serde_fields::present;
use lib_core::Ctx;
use sea_query::{Condition, Expr, ExprTrait as _};
use serde::{Deserialize, Serialize};
use sqlx::FromRow;
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq, Eq, FromRow, Serialize)]
pub struct Project {
    pub id: i64,
    pub owner_id: i64,
    pub name: String,
    pub cid: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub ctime: OffsetDateTime,
    pub mid: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub mtime: OffsetDateTime,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectForCreate {
    pub name: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectForUpdate {
    #[serde(default, deserialize_with = "present")]
    pub name: Option<String>,
}

crate::impl_write_fields!(ProjectForCreate { name });
crate::impl_write_fields!(ProjectForUpdate { name });

pub struct ProjectBmc;

impl DbBmc for ProjectBmc {
    const ENTITY: &'static str = "project";
    const TABLE: &'static str = "project";
    const COLUMNS: &'static [Column] = &[
        Column::new("id", Int),
        Column::new("owner_id", Int),
        Column::new("name", Text),
        Column::new("cid", Int),
        Column::new("ctime", Time),
        Column::new("mid", Int),
        Column::new("mtime", Time),
    ];

    type Entity = Project;
    type ForCreate = ProjectForCreate;
    type ForUpdate = ProjectForUpdate;

    fn scope(ctx: &Ctx) -> Condition {
        Condition::all().add(Expr::col((Self::TABLE, "owner_id")).eq(ctx.user_id()))
    }

    fn create_scope(ctx: &Ctx, _data: &ProjectForCreate) -> CreateScope {
        CreateScope { owned: vec![("owner_id", ctx.user_id().into())], parent: None }
    }
}

crate::generate_crud_fns! {
    Bmc: ProjectBmc,
    Entity: Project,
    ForCreate: ProjectForCreate,
    ForUpdate: ProjectForUpdate,
}
