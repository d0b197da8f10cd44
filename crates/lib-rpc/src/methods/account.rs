//! The caller's own account: `get_me`, `change_pwd`.

use crate::params::NoParams;
use crate::{Result, RpcRouter};
use lib_core::Ctx;
use lib_model::ModelManager;
use lib_model::session::NewSession;
use lib_model::user::{NewPwd, UserBmc, UserInfo};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ChangePwdParams {
    old_pwd: String,
    new_pwd: String,
}

pub(super) fn add_methods(router: &mut RpcRouter) {
    use lib_model::Error as M;
    router
        .add("get_me", get_me)
        .example("get_me", json!({}), json!({"data": {"id": 1, "username": "demo1"}}))
        .add_replacing_session("change_pwd", change_pwd)
        // A wrong old password is refused as invalid params; each attempt is charged like a login.
        .errors(
            "change_pwd",
            [
                crate::Error::Model(M::TooManyAttempts { retry_after: std::time::Duration::ZERO }),
                crate::Error::Model(M::Conflict { detail: "" }),
            ],
        )
        .example("change_pwd", json!({"old_pwd": "welcome", "new_pwd": "a longer secret"}), json!({"data": true}));
}

async fn get_me(ctx: Ctx, mm: ModelManager, _params: NoParams) -> Result<UserInfo> {
    Ok(UserBmc::get_info(&ctx, &mm).await?)
}

/// Answers `true`; every session of the caller ends, and the caller gets a new one (a new cookie).
/// The model names the param at fault itself (`new_pwd`, `old_pwd`): both are top-level params.
async fn change_pwd(ctx: Ctx, mm: ModelManager, params: ChangePwdParams) -> Result<(bool, Option<NewSession>)> {
    let new_pwd = NewPwd::parse("new_pwd", &params.new_pwd)?;
    let session = UserBmc::change_pwd(&ctx, &mm, &params.old_pwd, &new_pwd).await?;
    Ok((true, Some(session)))
}
