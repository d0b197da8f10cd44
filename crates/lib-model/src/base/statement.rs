//! The pieces every statement of the generic CRUD is built from: how it names the entity's
//! columns (computed ones included), which rows it may touch, and the checks of what it writes.

use super::{Access, DbBmc, caller};
use crate::filter::{ColumnRefs, Filters};
use crate::{Error, Result};
use lib_core::Ctx;
use sea_query::{Condition, Expr, ExprTrait as _, InsertStatement, Query, SelectStatement};
use time::OffsetDateTime;

/// `id = ANY($1)`: one statement text whatever the number of ids, so it is prepared once per
/// connection (`id IN ($1, ..., $n)` would be a new statement for every n).
pub(super) fn id_in<B: DbBmc>(ids: &[i64]) -> Expr {
    any_of(Expr::col((B::TABLE, "id")), ids)
}

/// `expr = ANY($1)`, the values bound as one array (see [`bigint_array`]).
pub(crate) fn any_of(expr: Expr, values: &[i64]) -> Expr {
    // One custom expression: sea-query would parenthesise `ANY(...)` as the right side of `=`.
    Expr::cust_with_exprs("$1 = ANY(CAST($2 AS bigint[]))", [expr, Expr::val(bigint_array(values))])
}

/// `values` as one array literal in text, which the statement casts to `bigint[]`: sea-query binds
/// no arrays without its `postgres-array` feature. The literal is made of integers only.
pub(crate) fn bigint_array(values: &[i64]) -> String {
    format!("{{{}}}", values.iter().map(i64::to_string).collect::<Vec<_>>().join(","))
}

/// `which`, and with `if_mtime`, `AND mtime = <if_mtime>`: the write's one statement carries
/// the check, so nothing can change between the check and the write.
pub(super) fn unchanged_since(which: Condition, table: &'static str, if_mtime: Option<OffsetDateTime>) -> Condition {
    match if_mtime {
        Some(mtime) => which.add(Expr::col((table, "mtime")).eq(mtime)),
        None => which,
    }
}

/// How `B`'s statements for `ctx` name its columns, computed ones included.
pub(super) fn refs<B: DbBmc>(ctx: &Ctx) -> ColumnRefs {
    ColumnRefs::with_computed(B::TABLE, caller(ctx), B::computed)
}

pub(super) fn select_columns<B: DbBmc>(ctx: &Ctx) -> SelectStatement {
    let refs = refs::<B>(ctx);
    let mut select = Query::select();
    for column in B::COLUMNS {
        select.expr_as(refs.expr(column), column.name);
    }
    select.from(B::TABLE);
    select
}

/// The columns a write answers, computed ones named as the row's fields.
pub(super) fn returning<B: DbBmc>(ctx: &Ctx) -> sea_query::ReturningClause {
    let refs = refs::<B>(ctx);
    Query::returning().exprs(B::COLUMNS.iter().map(|column| match column.computed {
        // The name is the derive's, a Rust identifier: nothing to quote beyond it.
        true => Expr::cust_with_exprs(format!("$1 AS \"{}\"", column.name), [refs.expr(column)]),
        false => Expr::col(column.name),
    }))
}

pub(super) fn by_id<B: DbBmc>(ctx: &Ctx, id: i64, access: Access) -> Condition {
    Condition::all().add(Expr::col((B::TABLE, "id")).eq(id)).add(B::scope(&caller(ctx), access))
}

pub(super) fn scoped<B: DbBmc>(ctx: &Ctx, filters: Filters) -> Condition {
    let scope = Condition::all().add(B::scope(&caller(ctx), Access::Read));
    match filters.into_condition(&refs::<B>(ctx)) {
        Some(filter) => scope.add(filter),
        None => scope,
    }
}

pub(super) fn insert_select(insert: &mut InsertStatement, select: SelectStatement) -> Result<()> {
    insert
        .select_from(select)
        .map(|_| ())
        .map_err(|e| Error::Db(sqlx::Error::Protocol(format!("building INSERT ... SELECT: {e}"))))
}

/// Refuses text Postgres cannot store (NUL) as the client's mistake, naming the field.
pub(super) fn checked_fields(
    fields: Vec<(&'static str, sea_query::Value)>,
) -> Result<Vec<(&'static str, sea_query::Value)>> {
    for (column, value) in &fields {
        if let sea_query::Value::String(Some(text)) = value
            && text.contains('\0')
        {
            return Err(Error::invalid(*column, "text must not contain NUL characters"));
        }
    }
    Ok(fields)
}
