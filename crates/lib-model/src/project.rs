//! Projects: created by a user, who becomes their owner, and shared with members (see `member`).
//! Who may do what to a project and its tasks comes from the `project_member` rows alone.

use crate::base::{Access, Audit, DbBmc, Entity, WriteFields, WriteScope};
use crate::serde_fields::present;
use lib_core::Ctx;
use sea_query::{Condition, Expr, ExprTrait as _, Query, SelectStatement, Value};
use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq, Entity)]
#[entity(create = ProjectForCreate, update = ProjectForUpdate)]
pub struct Project {
    pub id: i64,
    pub owner_id: i64,
    pub name: String,
    /// The caller's role in the project: `owner`, `editor` or `viewer`.
    #[entity(computed)]
    pub role: String,
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

/// The column that names a project's current owner (its creator until a transfer).
const OWNER: &str = "owner_id";
/// The memberships: `(project_id, user_id)` with a `role`.
pub(crate) const MEMBER: &str = "project_member";

/// The roles that may reach a project with `access`; `None`: any member.
pub(crate) fn roles_for(access: Access) -> Option<&'static [&'static str]> {
    match access {
        Access::Read => None,
        Access::Write => Some(&["owner", "editor"]),
        Access::Manage => Some(&["owner"]),
    }
}

/// The members of the project `id` whose role allows `access`, as `user_id`: who may do what,
/// in one place, for the scope of a call and for the readers of a change.
fn members_with(access: Access, id: Expr) -> SelectStatement {
    let mut members = Query::select();
    members.column((MEMBER, "user_id")).from(MEMBER).and_where(Expr::col((MEMBER, "project_id")).eq(id));
    if let Some(roles) = roles_for(access) {
        members.and_where(Expr::col((MEMBER, "role")).is_in(roles.iter().copied()));
    }
    members
}

impl DbBmc for ProjectBmc {
    const ENTITY: &'static str = "project";
    const TABLE: &'static str = "project";
    const CHANGE: Access = Access::Manage;

    type Entity = Project;

    fn scope(user: &Expr, access: Access) -> Condition {
        Self::scope_of(user, access, Expr::col((Self::TABLE, "id")))
    }

    /// The user's membership of the project `id`, with a role that allows `access`: one
    /// lookup in the membership's primary key, also for a task's scope.
    fn scope_of(user: &Expr, access: Access, id: Expr) -> Condition {
        let mut membership = members_with(access, id);
        membership.and_where(Expr::col((MEMBER, "user_id")).eq(user.clone()));
        Condition::all().add(Expr::exists(membership))
    }

    /// The project's members: one range of the membership's primary key.
    fn readers_of(id: Expr) -> SelectStatement {
        members_with(Access::Read, id)
    }

    /// `role`: the owner's without a lookup (a create's answer, before its membership row is
    /// visible to the statement), anyone else's from their membership. Only a deleted project
    /// (its live delete, sent to who were members) has memberships no more: `viewer` then.
    fn computed(user: &Expr, _column: &'static str) -> Expr {
        Expr::cust_with_exprs(
            r#"CASE WHEN "project"."owner_id" = $1 THEN 'owner' ELSE coalesce((SELECT "role" FROM "project_member" WHERE "project_member"."project_id" = "project"."id" AND "project_member"."user_id" = $2), 'viewer') END"#,
            [user.clone(), user.clone()],
        )
    }

    fn write_scope(ctx: &Ctx, _fields: &[(&'static str, Value)]) -> WriteScope {
        WriteScope { owned: vec![(OWNER, ctx.user_id().into())], parent: None }
    }
}

crate::generate_crud_fns!(ProjectBmc);
