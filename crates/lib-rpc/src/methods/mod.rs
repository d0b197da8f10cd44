//! The API contract's methods. [`router`] registers them all.

mod account;
#[doc(hidden)]
pub mod crud;
mod member;

use crate::RpcRouter;
use lib_model::project::ProjectBmc;
use lib_model::task::TaskBmc;

/// Every method the server answers.
pub fn router() -> RpcRouter {
    let mut router = RpcRouter::new();
    crate::crud_methods!(router, "project", "projects", ProjectBmc);
    crate::crud_methods!(router, "task", "tasks", TaskBmc);
    member::add_methods(&mut router);
    account::add_methods(&mut router);
    router
}
