//! Why a write touched nothing: one more statement, on the failure path only, tells a row or
//! parent the caller does not see (-32004, the same as a missing one) from one they see but may
//! not change ([`Error::Forbidden`]), and a row changed since `if_mtime` ([`Error::Stale`]).

use super::fetch::{fetch_optional, fetch_scalar};
use super::statement::by_id;
use super::{Access, DbBmc, caller};
use crate::{Error, ModelManager};
use lib_core::Ctx;
use sea_query::{Condition, Expr, Query};
use time::OffsetDateTime;

/// Why a write under the parent `entity` `id` was refused, in one more statement on this failure
/// path only: the caller sees the parent but may not write under it ([`Error::Forbidden`]), or
/// does not see it, which is the same as its not being there ([`Error::EntityNotFound`]).
pub(super) async fn parent_refusal(
    ctx: &Ctx,
    mm: &ModelManager,
    entity: &'static str,
    id: i64,
    visible: Condition,
) -> Error {
    let mut probe = Query::select();
    probe.expr(Expr::val(1)).cond_where(visible);
    match fetch_scalar::<i32>(ctx, mm, &probe).await {
        Ok(Some(_)) => Error::Forbidden { entity, id },
        Ok(None) => Error::EntityNotFound { entity, id },
        Err(error) => error,
    }
}

/// Why a write of the row `id` touched nothing, in one more statement on this failure path only:
/// the row is not there or not the caller's to see ([`Error::EntityNotFound`]); the caller sees
/// it but may not change it ([`Error::Forbidden`]); an update that moves it to a new parent was
/// refused there (the parent's `Forbidden` or `EntityNotFound`); or, with `if_mtime`, it changed
/// since ([`Error::Stale`]).
pub(super) async fn why_unchanged<B: DbBmc>(
    ctx: &Ctx,
    mm: &ModelManager,
    id: i64,
    if_mtime: Option<OffsetDateTime>,
    new_parent: Option<(&'static str, i64, Condition, Condition)>,
) -> Error {
    let missing = Error::EntityNotFound { entity: B::ENTITY, id };
    let (parent_allowed, parent_visible) = match &new_parent {
        Some((_, _, allowed, visible)) => (Expr::from(allowed.clone()), Expr::from(visible.clone())),
        None => (Expr::val(true), Expr::val(true)),
    };
    let mut probe = Query::select();
    probe
        .expr(Expr::from(B::scope(&caller(ctx), B::CHANGE)))
        .expr(parent_allowed)
        .expr(parent_visible)
        .from(B::TABLE)
        .cond_where(by_id::<B>(ctx, id, Access::Read));
    match fetch_optional::<(bool, bool, bool)>(ctx, mm, &probe).await {
        Err(error) => error,
        Ok(None) => missing,
        Ok(Some((false, _, _))) => Error::Forbidden { entity: B::ENTITY, id },
        Ok(Some((true, false, visible))) => {
            let (entity, id, ..) = new_parent.expect("only a new parent can be refused");
            if visible { Error::Forbidden { entity, id } } else { Error::EntityNotFound { entity, id } }
        }
        Ok(Some((true, true, _))) if if_mtime.is_some() => Error::Stale { entity: B::ENTITY, id },
        // Deleted meanwhile.
        Ok(Some((true, true, _))) => missing,
    }
}
