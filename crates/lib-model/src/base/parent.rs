//! The scope of an entity owned through a parent row: a task is the caller's when its project
//! is. Any child entity reuses it by naming its parent's Bmc and the column that points to it.

use crate::base::{CreateScope, DbBmc, ParentGuard};
use lib_core::Ctx;
use sea_query::{Condition, Expr, ExprTrait as _, Query, Value};
use std::marker::PhantomData;

/// The link from a child entity to its parent `P`: the child's column that holds the parent's id.
pub struct Parent<P> {
    column: &'static str,
    parent: PhantomData<fn() -> P>,
}

impl<P: DbBmc> Parent<P> {
    /// The parent whose `id` the child's `column` holds.
    pub const fn via(column: &'static str) -> Self {
        Self { column, parent: PhantomData }
    }

    /// The rows of `child_table` whose parent is in `ctx`'s scope of `P`:
    /// `EXISTS (SELECT 1 FROM <parent> WHERE <parent>.id = <child>.<column> AND <P's scope>)`.
    pub fn scope(&self, ctx: &Ctx, child_table: &'static str) -> Condition {
        self.parent_in_scope(ctx, Expr::col((P::TABLE, "id")).equals((child_table, self.column)))
    }

    /// A create under the parent its `fields` name: it inserts nothing, and answers that the
    /// parent was not found, unless the parent is in `ctx`'s scope of `P` (checked in the insert
    /// itself). The parent's column is a required field of the create input, so it is there.
    pub fn create_scope(&self, ctx: &Ctx, fields: &[(&'static str, Value)]) -> CreateScope {
        let parent_id = fields
            .iter()
            .find_map(|(column, value)| match value {
                Value::BigInt(Some(id)) if *column == self.column => Some(*id),
                _ => None,
            })
            .unwrap_or_default();
        let owned_by_caller = self.parent_in_scope(ctx, Expr::col((P::TABLE, "id")).eq(parent_id));
        CreateScope {
            owned: Vec::new(),
            parent: Some(ParentGuard { entity: P::ENTITY, id: parent_id, owned_by_caller }),
        }
    }

    fn parent_in_scope(&self, ctx: &Ctx, which: Expr) -> Condition {
        let mut parents = Query::select();
        parents.expr(Expr::val(1)).from(P::TABLE).and_where(which).cond_where(P::scope(ctx));
        Condition::all().add(Expr::exists(parents))
    }
}
