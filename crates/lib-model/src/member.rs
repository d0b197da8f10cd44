//! [`MemberBmc`]: who shares a project, with which role. Only the owner adds, changes and removes
//! members; any member but the owner may leave; making a member `owner` transfers ownership, the
//! old owner staying on as an `editor`.
//!
//! Each method is one statement that carries its own check of the caller's role, as the generic
//! CRUD's do. When it touches nothing, one more statement, on that failure path only, tells why:
//! a project the caller cannot see ([`Error::EntityNotFound`]), a role that does not allow it
//! ([`Error::Forbidden`]), a member that is not there, or a rule (the owner cannot leave).

use crate::base::{Audit, ColumnGroup};
use crate::lease::Lease;
use crate::statement_span::statement_span;
use crate::username::Username;
use crate::{Error, ModelManager, Result};
use lib_core::Ctx;
use serde::Deserialize;
use sqlx::{FromRow, Postgres};

/// A member of a project, as the member methods answer it.
#[derive(Debug, Clone, PartialEq, Eq, ColumnGroup)]
pub struct Member {
    pub project_id: i64,
    pub user_id: i64,
    /// From the user's row.
    #[entity(computed)]
    pub username: String,
    pub role: String,
    #[entity(flatten)]
    pub audit: Audit,
}

/// A member's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Owner,
    Editor,
    Viewer,
}

impl Role {
    /// The roles a member is added with: ownership moves only by a transfer (`update`).
    pub const ADDABLE: [Role; 2] = [Role::Editor, Role::Viewer];

    fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Editor => "editor",
            Role::Viewer => "viewer",
        }
    }
}

/// The schema of a role given to [`MemberBmc::add`]: one of [`Role::ADDABLE`]. (The params
/// decode any [`Role`], so that `owner` is refused with the way to transfer ownership.)
pub struct AddableRole;

impl schemars::JsonSchema for AddableRole {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "AddableRole".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let roles: Vec<&str> = Role::ADDABLE.iter().map(|role| role.as_str()).collect();
        schemars::json_schema!({"type": "string", "enum": roles})
    }
}

pub struct MemberBmc;

/// A member's row with its username, from `m` (a `project_member` row, or the rows a statement
/// returns under that name) joined to `"user" u`.
const MEMBER_COLUMNS: &str = "m.project_id, m.user_id, u.username, m.role, m.cid, m.ctime, m.mid, m.mtime";

/// The caller (`$me`) is the owner of the project `$p` (by its membership row).
const CALLER_OWNS: &str =
    "EXISTS (SELECT 1 FROM project_member o WHERE o.project_id = $1 AND o.user_id = $2 AND o.role = 'owner')";

/// Why a member statement touched nothing: the caller's role in the project, and the target's.
#[derive(FromRow)]
struct Standing {
    caller: Option<String>,
    target: Option<String>,
}

impl MemberBmc {
    /// Adds the user `username` to the project as `editor` or `viewer` (owner only).
    pub async fn add(ctx: &Ctx, mm: &ModelManager, project_id: i64, username: &str, role: Role) -> Result<Member> {
        if !Role::ADDABLE.contains(&role) {
            return Err(Error::invalid("role", "must be editor or viewer: make a member owner to transfer ownership"));
        }
        // Looked up as stored (normalised); a name no rule allows is simply one no user has.
        let username = Username::parse(username).map_or_else(|_| username.to_string(), |u| u.as_str().to_string());
        let sql = format!(
            r#"WITH m AS (
                   INSERT INTO project_member (project_id, user_id, role, cid, ctime, mid, mtime)
                   SELECT $1, u.id, $4, $2, statement_timestamp(), $2, statement_timestamp()
                   FROM "user" u WHERE lower(u.username) = lower($3) AND {CALLER_OWNS}
                   RETURNING *)
               SELECT {MEMBER_COLUMNS} FROM m JOIN "user" u ON u.id = m.user_id"#
        );
        let span = statement_span(&sql);
        let query = sqlx::query_as::<Postgres, Member>(sqlx::AssertSqlSafe(sql))
            .bind(project_id)
            .bind(ctx.user_id())
            .bind(&username)
            .bind(role.as_str());
        let mut lease = mm.lease(ctx).await?;
        if let Some(member) = lease.run(span, |conn| query.fetch_optional(conn)).await? {
            return Ok(member);
        }
        let standing = standing(&mut lease, ctx, project_id, None).await?;
        Err(match standing.caller.as_deref() {
            None => project_not_found(project_id),
            Some("owner") => Error::UsernameNotFound,
            Some(_) => Error::Forbidden { entity: "project", id: project_id },
        })
    }

    /// The project's members, owner first, then by username (any member may list them).
    pub async fn list(ctx: &Ctx, mm: &ModelManager, project_id: i64) -> Result<Vec<Member>> {
        let sql = format!(
            r#"SELECT {MEMBER_COLUMNS} FROM project_member m JOIN "user" u ON u.id = m.user_id
               WHERE m.project_id = $1
                 AND EXISTS (SELECT 1 FROM project_member c WHERE c.project_id = $1 AND c.user_id = $2)
               ORDER BY m.role = 'owner' DESC, lower(u.username), u.username"#
        );
        let span = statement_span(&sql);
        let query = sqlx::query_as::<Postgres, Member>(sqlx::AssertSqlSafe(sql)).bind(project_id).bind(ctx.user_id());
        let members = mm.lease(ctx).await?.run(span, |conn| query.fetch_all(conn)).await?;
        // A project the caller can see has at least its owner.
        if members.is_empty() { Err(project_not_found(project_id)) } else { Ok(members) }
    }

    /// Changes the member `user_id`'s role (owner only). `owner` transfers ownership: the member
    /// becomes the owner, the caller an editor, and the project's `owner_id` follows, at once.
    pub async fn update(ctx: &Ctx, mm: &ModelManager, project_id: i64, user_id: i64, role: Role) -> Result<Member> {
        let sql = match role {
            Role::Owner => format!(
                r#"WITH moved AS (
                       UPDATE project SET owner_id = $3, mid = $2, mtime = statement_timestamp()
                       WHERE id = $1 AND {CALLER_OWNS}
                         AND EXISTS (SELECT 1 FROM project_member t WHERE t.project_id = $1 AND t.user_id = $3)
                       RETURNING id),
                   m AS (
                       UPDATE project_member
                       SET role = CASE WHEN user_id = $3 THEN 'owner' ELSE 'editor' END,
                           mid = $2, mtime = statement_timestamp()
                       WHERE project_id IN (SELECT id FROM moved) AND user_id IN ($2, $3)
                       RETURNING *)
                   SELECT {MEMBER_COLUMNS} FROM m JOIN "user" u ON u.id = m.user_id WHERE m.user_id = $3"#
            ),
            Role::Editor | Role::Viewer => format!(
                r#"WITH m AS (
                       UPDATE project_member SET role = $4, mid = $2, mtime = statement_timestamp()
                       WHERE project_id = $1 AND user_id = $3 AND role <> 'owner' AND {CALLER_OWNS}
                       RETURNING *)
                   SELECT {MEMBER_COLUMNS} FROM m JOIN "user" u ON u.id = m.user_id"#
            ),
        };
        let span = statement_span(&sql);
        let query = sqlx::query_as::<Postgres, Member>(sqlx::AssertSqlSafe(sql))
            .bind(project_id)
            .bind(ctx.user_id())
            .bind(user_id)
            .bind(role.as_str());
        let mut lease = mm.lease(ctx).await?;
        if let Some(member) = lease.run(span, |conn| query.fetch_optional(conn)).await? {
            return Ok(member);
        }
        let standing = standing(&mut lease, ctx, project_id, Some(user_id)).await?;
        Err(match (standing.caller.as_deref(), standing.target.as_deref()) {
            (None, _) => project_not_found(project_id),
            (Some("owner"), None) => member_not_found(user_id),
            (Some("owner"), Some(_)) => {
                Error::Conflict { detail: "a project has exactly one owner: make another member owner to hand it over" }
            }
            (Some(_), _) => Error::Forbidden { entity: "project", id: project_id },
        })
    }

    /// Removes the member `user_id`: the owner may remove anyone else; any other member only
    /// themselves (leaving). The owner cannot leave: they transfer ownership first.
    pub async fn remove(ctx: &Ctx, mm: &ModelManager, project_id: i64, user_id: i64) -> Result<Member> {
        let sql = format!(
            r#"WITH m AS (
                   DELETE FROM project_member
                   WHERE project_id = $1 AND user_id = $3 AND role <> 'owner' AND ($3 = $2 OR {CALLER_OWNS})
                   RETURNING *)
               SELECT {MEMBER_COLUMNS} FROM m JOIN "user" u ON u.id = m.user_id"#
        );
        let span = statement_span(&sql);
        let query = sqlx::query_as::<Postgres, Member>(sqlx::AssertSqlSafe(sql))
            .bind(project_id)
            .bind(ctx.user_id())
            .bind(user_id);
        let mut lease = mm.lease(ctx).await?;
        if let Some(member) = lease.run(span, |conn| query.fetch_optional(conn)).await? {
            return Ok(member);
        }
        let standing = standing(&mut lease, ctx, project_id, None).await?;
        let leaving = user_id == ctx.user_id();
        Err(match standing.caller.as_deref() {
            None => project_not_found(project_id),
            Some("owner") if leaving => {
                Error::Conflict { detail: "the owner cannot leave: make another member owner first" }
            }
            // The owner removing someone who is no member; a member who left meanwhile.
            Some("owner") => member_not_found(user_id),
            Some(_) if leaving => member_not_found(user_id),
            Some(_) => Error::Forbidden { entity: "project", id: project_id },
        })
    }
}

/// The caller's role in the project and the target's (`None`: not a member), read after a
/// member statement touched nothing.
async fn standing(lease: &mut Lease, ctx: &Ctx, project_id: i64, target: Option<i64>) -> Result<Standing> {
    let sql = "SELECT (SELECT role FROM project_member WHERE project_id = $1 AND user_id = $2) AS caller,
                      (SELECT role FROM project_member WHERE project_id = $1 AND user_id = $3) AS target";
    let query = sqlx::query_as::<Postgres, Standing>(sql).bind(project_id).bind(ctx.user_id()).bind(target);
    lease.run(statement_span(sql), |conn| query.fetch_one(conn)).await
}

fn project_not_found(id: i64) -> Error {
    Error::EntityNotFound { entity: "project", id }
}

fn member_not_found(user_id: i64) -> Error {
    Error::EntityNotFound { entity: "member", id: user_id }
}
