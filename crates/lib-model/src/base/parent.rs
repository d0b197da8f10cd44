//! The scope of an entity owned through a parent row: a task is the caller's when its project
//! is. Any child entity reuses it by naming its parent's Bmc and the column that points to it.

use crate::base::{DbBmc, ParentGuard, WriteScope};
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

    /// A write of the parent column (a create, or an update that moves the row): it writes
    /// nothing unless the parent its `fields` name is in `ctx`'s scope of `P`, checked in the
    /// statement itself. A write that leaves the column alone needs no guard.
    pub fn write_scope(&self, ctx: &Ctx, fields: &[(&'static str, Value)]) -> WriteScope {
        let parent = fields.iter().find(|(column, _)| *column == self.column).map(|(_, value)| {
            let id = match value {
                Value::BigInt(Some(id)) => *id,
                // Only a null could be written here; no parent has it.
                _ => 0,
            };
            let owned_by_caller = self.parent_in_scope(ctx, Expr::col((P::TABLE, "id")).eq(id));
            ParentGuard { entity: P::ENTITY, id, owned_by_caller }
        });
        WriteScope { owned: Vec::new(), parent }
    }

    fn parent_in_scope(&self, ctx: &Ctx, which: Expr) -> Condition {
        let mut parents = Query::select();
        parents.expr(Expr::val(1)).from(P::TABLE).and_where(which).cond_where(P::scope(ctx));
        Condition::all().add(Expr::exists(parents))
    }
}
