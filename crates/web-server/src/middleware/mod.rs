//! The request pipeline around the routes.

pub(crate) mod guard;
pub(crate) mod observe;
