//! A project's members: `add_project_member`, `list_project_members`, `update_project_member`,
//! `remove_project_member` (contract, "Shared projects").

use crate::{Result, RpcRouter};
use lib_core::Ctx;
use lib_model::ModelManager;
use lib_model::member::{Member, MemberBmc, Role};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddParams {
    project_id: i64,
    username: String,
    role: Role,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProjectParams {
    project_id: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateParams {
    project_id: i64,
    user_id: i64,
    role: Role,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RemoveParams {
    project_id: i64,
    user_id: i64,
}

const METHODS: [&str; 4] =
    ["add_project_member", "list_project_members", "update_project_member", "remove_project_member"];

pub(super) fn add_methods(router: &mut RpcRouter) {
    router
        .add(METHODS[0], add)
        .add(METHODS[1], list)
        .add(METHODS[2], update)
        .add(METHODS[3], remove)
        // They touch nothing but the model's tables: a transaction can hold them.
        .allow_in_transactions(&METHODS);
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
