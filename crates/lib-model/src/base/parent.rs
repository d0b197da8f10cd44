//! The scope of an entity reached through a parent row: a task may be read by whoever may read
//! its project, and changed by whoever may write under it. Any child entity reuses it by naming
//! its parent's Bmc and the column that points to it.

use crate::base::{Access, DbBmc, ParentGuard, WriteScope, caller};
use lib_core::Ctx;
use sea_query::{Condition, Expr, SelectStatement, Value};
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

    /// The rows of `child_table` that `user` may reach with `access`: reading a child needs its
    /// parent readable, changing it needs the parent writable (`P`'s `Write`).
    pub fn scope(&self, user: &Expr, access: Access, child_table: &'static str) -> Condition {
        let access = if access == Access::Read { Access::Read } else { Access::Write };
        P::scope_of(user, access, Expr::col((child_table, self.column)))
    }

    /// The users who may read the row of `child_table` a statement is at: those of its parent.
    pub fn readers(&self, child_table: &'static str) -> SelectStatement {
        P::readers_of(Expr::col((child_table, self.column)))
    }

    /// A write of the parent column (a create, or an update that moves the row): it writes
    /// nothing unless `ctx` may write under the parent its `fields` name, checked in the
    /// statement itself. A write that leaves the column alone needs no guard.
    pub fn write_scope(&self, ctx: &Ctx, fields: &[(&'static str, Value)]) -> WriteScope {
        let parent = fields.iter().find(|(column, _)| *column == self.column).map(|(_, value)| {
            let id = match value {
                Value::BigInt(Some(id)) => *id,
                // Only a null could be written here; no parent has it.
                _ => 0,
            };
            ParentGuard {
                entity: P::ENTITY,
                id,
                allowed: P::scope_of(&caller(ctx), Access::Write, Expr::val(id)),
                visible: P::scope_of(&caller(ctx), Access::Read, Expr::val(id)),
            }
        });
        WriteScope { owned: Vec::new(), parent }
    }
}
