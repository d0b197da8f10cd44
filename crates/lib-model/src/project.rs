//! Projects: owned by the user who created them.

use crate::base::{Audit, DbBmc, Entity, WriteFields, WriteScope};
use crate::serde_fields::present;
use lib_core::Ctx;
use sea_query::{Condition, Expr, ExprTrait as _, Value};
use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq, Entity)]
#[entity(create = ProjectForCreate, update = ProjectForUpdate)]
pub struct Project {
    pub id: i64,
    pub owner_id: i64,
    pub name: String,
    #[entity(flatten)]
    pub audit: Audit,
}

#[derive(Debug, Clone, Deserialize, WriteFields)]
#[serde(deny_unknown_fields)]
pub struct ProjectForCreate {
    pub name: String,
}

#[derive(Debug, Clone, Default, Deserialize, WriteFields)]
#[serde(deny_unknown_fields)]
pub struct ProjectForUpdate {
    #[serde(default, deserialize_with = "present")]
    pub name: Option<String>,
}

pub struct ProjectBmc;

/// The column that makes a project its creator's.
const OWNER: &str = "owner_id";

impl DbBmc for ProjectBmc {
    const ENTITY: &'static str = "project";
    const TABLE: &'static str = "project";

    type Entity = Project;

    fn scope(ctx: &Ctx) -> Condition {
        Condition::all().add(Expr::col((Self::TABLE, OWNER)).eq(ctx.user_id()))
    }

    fn write_scope(ctx: &Ctx, _fields: &[(&'static str, Value)]) -> WriteScope {
        WriteScope { owned: vec![(OWNER, ctx.user_id().into())], parent: None }
    }
}

crate::generate_crud_fns!(ProjectBmc);
