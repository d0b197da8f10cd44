//! [`create_many`]: several rows of one entity created by one statement, for a transaction's run
//! of creates (a round trip per row is most of what such a run costs).
//!
//! `INSERT INTO t (...) SELECT * FROM (SELECT <row 1> UNION ALL SELECT <row 2> ...) AS new_rows
//! WHERE <guards> RETURNING ...`: the guards of all the rows' parents hold for all the rows, so
//! they are created all or none, and the check and the writes are still one statement. The rows
//! come back in the order given (their ids are drawn in that order).

use super::{
    Audit, DbBmc, ForCreate, Identified as _, Prepare, WriteFields as _, checked_fields, fetch_all, insert_select,
    returning,
};
use crate::{Error, ModelManager, Result};
use lib_core::Ctx;
use sea_query::{Condition, Expr, Query, SelectStatement, UnionType};

/// The most rows of a run whose statement is kept prepared on its connection.
const MAX_PREPARED_ROWS: usize = 16;

/// Creates the rows `data` in one statement, all or none, and answers them in the same order.
/// When one cannot be created (a parent that is not the caller's, a constraint), none is, and
/// the error does not say which: run them one by one ([`super::create`]) to know.
pub async fn create_many<B: DbBmc>(ctx: &Ctx, mm: &ModelManager, data: Vec<ForCreate<B>>) -> Result<Vec<B::Entity>> {
    let count = data.len();
    let user = ctx.user_id();
    let mut columns: Option<Vec<&'static str>> = None;
    let mut rows: Vec<SelectStatement> = Vec::with_capacity(count);
    let mut guards = Condition::all();
    let mut guarded: Vec<i64> = Vec::new();
    let mut missing_parent = None;
    for item in data {
        let fields = checked_fields(item.write_fields())?;
        let scope = B::write_scope(ctx, &fields);
        let (names, values): (Vec<&'static str>, Vec<Expr>) = fields
            .into_iter()
            .chain(scope.owned)
            .map(|(column, value)| (column, Expr::val(value)))
            .chain(Audit::on_create(user))
            .unzip();
        match &columns {
            Some(first) if *first != names => return Err(Error::invalid("", "the rows do not give the same fields")),
            Some(_) => {}
            None => columns = Some(names.clone()),
        }
        if let Some(guard) = scope.parent
            && !guarded.contains(&guard.id)
        {
            guarded.push(guard.id);
            guards = guards.add(guard.allowed);
            missing_parent.get_or_insert(Error::EntityNotFound { entity: guard.entity, id: guard.id });
        }
        let mut row = Query::select();
        for (name, value) in names.iter().zip(values) {
            row.expr_as(value, *name);
        }
        rows.push(row);
    }
    let mut rows = rows.into_iter();
    let (Some(columns), Some(mut new_rows)) = (columns, rows.next()) else {
        return Ok(Vec::new());
    };
    new_rows.unions(rows.map(|row| (UnionType::All, row)));
    let mut select = Query::select();
    select
        .columns(columns.iter().map(|name| ("new_rows", *name)))
        .from_subquery(new_rows, "new_rows")
        .cond_where(guards);
    let mut insert = Query::insert();
    insert.into_table(B::TABLE).columns(columns).returning(returning::<B>(ctx));
    insert_select(&mut insert, select)?;

    // The statement's text depends on the number of rows, of distinct parents and on the fields
    // given. Small runs (a client's usual) stay prepared: their shapes are few, and sqlx keeps at
    // most 100 statements per connection, dropping the least used. Larger ones, whose plans are
    // bigger and whose shapes a client could vary at will, are planned once and not kept.
    let prepare = if count <= MAX_PREPARED_ROWS { Prepare::Keep } else { Prepare::Once };
    let mut created: Vec<B::Entity> = fetch_all(mm.lease(ctx).await?, &insert, prepare).await?;
    if created.len() != count {
        // A guard refused a parent: nothing was created. Which, and whether the caller sees it
        // (Forbidden) or not, the calls run one by one say.
        return Err(missing_parent.unwrap_or(Error::Db(sqlx::Error::RowNotFound)));
    }
    created.sort_by_key(|row| row.id());
    Ok(created)
}
