//! A project's members: `add_project_member`, `list_project_members`, `update_project_member`,
//! `remove_project_member` (contract, "Shared projects").

use crate::{Result, RpcRouter};
use lib_core::Ctx;
use lib_model::ModelManager;
use lib_model::base::Columns;
use lib_model::member::{AddableRole, Member, MemberBmc, Role};
use lib_model::schema::example_row;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct AddParams {
    project_id: i64,
    username: String,
    #[schemars(with = "AddableRole")]
    role: Role,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ProjectParams {
    project_id: i64,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct UpdateParams {
    project_id: i64,
    user_id: i64,
    role: Role,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RemoveParams {
    project_id: i64,
    user_id: i64,
}

const ADD: &str = "add_project_member";
const LIST: &str = "list_project_members";
const UPDATE: &str = "update_project_member";
const REMOVE: &str = "remove_project_member";

pub(super) fn add_methods(router: &mut RpcRouter) {
    router
        .add(ADD, add)
        .add(LIST, list)
        .add(UPDATE, update)
        .add(REMOVE, remove)
        // They touch nothing but the model's tables: a transaction can hold them.
        .allow_in_transactions(&[ADD, LIST, UPDATE, REMOVE]);
    describe(router);
}

/// The errors each method can answer besides every method's, and an example of each: demo1
/// shares its first project with demo2 (user 2), changes demo2's role, then removes demo2.
fn describe(router: &mut RpcRouter) {
    use lib_model::Error as M;
    let not_found = |entity| crate::Error::Model(M::EntityNotFound { entity, id: 0 });
    let forbidden = || crate::Error::Model(M::Forbidden { entity: "project", id: 0 });
    let conflict = || crate::Error::Model(M::Conflict { detail: "" });
    let member = example_row(Member::COLUMNS);
    router
        .errors(ADD, [not_found("project"), crate::Error::Model(M::UsernameNotFound), forbidden(), conflict()])
        .example(ADD, json!({"project_id": 1, "username": "demo2", "role": "editor"}), json!({"data": member}))
        .errors(LIST, [not_found("project")])
        .example(LIST, json!({"project_id": 1}), json!({"data": [member]}))
        .errors(UPDATE, [not_found("project"), not_found("member"), forbidden(), conflict()])
        .example(UPDATE, json!({"project_id": 1, "user_id": 2, "role": "viewer"}), json!({"data": member}))
        .errors(REMOVE, [not_found("project"), not_found("member"), forbidden(), conflict()])
        .example(REMOVE, json!({"project_id": 1, "user_id": 2}), json!({"data": member}));
}

async fn add(ctx: Ctx, mm: ModelManager, p: AddParams) -> Result<Member> {
    Ok(MemberBmc::add(&ctx, &mm, p.project_id, &p.username, p.role).await?)
}

async fn list(ctx: Ctx, mm: ModelManager, p: ProjectParams) -> Result<Vec<Member>> {
    Ok(MemberBmc::list(&ctx, &mm, p.project_id).await?)
}

async fn update(ctx: Ctx, mm: ModelManager, p: UpdateParams) -> Result<Member> {
    Ok(MemberBmc::update(&ctx, &mm, p.project_id, p.user_id, p.role).await?)
}

async fn remove(ctx: Ctx, mm: ModelManager, p: RemoveParams) -> Result<Member> {
    Ok(MemberBmc::remove(&ctx, &mm, p.project_id, p.user_id).await?)
}
