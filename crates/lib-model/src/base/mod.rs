//! The generic CRUD every entity gets: create, get, list, count, update, delete.
//!
//! An entity is declared once: its row struct (`#[derive(Entity)]`, see [`Columns`]) gives the
//! columns, its create and update inputs (`#[derive(WriteFields)]`) the fields a client may set,
//! and a [`DbBmc`] impl names the table and the ownership scope ([`Parent`] for an entity owned
//! through its parent). These functions build each statement with sea-query, apply the scope
//! themselves, set the [`Audit`] columns, and run exactly one statement per call (writes return
//! the row with `RETURNING`). [`generate_crud_fns!`](crate::generate_crud_fns) gives the Bmc
//! inherent methods over them.
//!
//! Fixed-shape statements (by id, `get_many`, writes, unfiltered lists and counts) stay prepared
//! on their connection; those whose text a client's filter or order shapes run unprepared (see
//! `Prepare`).

mod audit;
mod columns;
mod create_many;
mod fetch;
mod page;
mod parent;
#[cfg(test)]
mod tests;
mod write;

pub use audit::Audit;
pub use columns::{AsJson, Columns, FieldType, concat_columns};
pub use create_many::create_many;
pub use lib_model_macros::{ColumnGroup, Entity, WriteFields};
pub use page::Page;
pub use parent::Parent;
pub use write::{FieldValue, WriteFields};

use crate::filter::{Column, Filters, ListOptions, cursor, keyset};
use crate::{Error, ModelManager, Result};
use fetch::{Prepare, fetch_all, fetch_optional, fetch_scalar};
use lib_core::Ctx;
use sea_query::{Condition, Expr, ExprTrait as _, InsertStatement, PostgresQueryBuilder, Query, SelectStatement};
use sea_query_sqlx::SqlxBinder;
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, FromRow};
use time::OffsetDateTime;

/// An entity row with an `id` (every entity has one; `#[derive(Entity)]` implements this).
pub trait Identified {
    fn id(&self) -> i64;
}

/// An entity's row, as `#[derive(Entity)]` declares it: its columns, how it is read, its `id`,
/// and the inputs of its create and update (the fields a client may set).
pub trait Entity: Columns + Identified + for<'r> FromRow<'r, PgRow> + Send + Unpin {
    type ForCreate: WriteFields + Send;
    type ForUpdate: WriteFields + Send;
}

/// The create input of `B`'s entity.
pub type ForCreate<B> = <<B as DbBmc>::Entity as Entity>::ForCreate;
/// The update input of `B`'s entity.
pub type ForUpdate<B> = <<B as DbBmc>::Entity as Entity>::ForUpdate;

/// A backend model controller: everything the generic CRUD needs to know about one entity.
pub trait DbBmc {
    /// The entity's name in errors and method names (`project`).
    const ENTITY: &'static str;
    const TABLE: &'static str;
    /// Every column of [`DbBmc::Entity`], in order: what is selected and returned, and the
    /// allowlist for filters and `order_bys`. Derived from the row struct.
    const COLUMNS: &'static [Column] = <Self::Entity as Columns>::COLUMNS;

    type Entity: Entity;

    /// The rows `ctx` may see and change, as a condition on [`DbBmc::TABLE`]. Applied to every
    /// get, list, count, update and delete; filters are AND-ed to it and cannot widen it.
    fn scope(ctx: &Ctx) -> Condition;

    /// What a write must add or prove for `ctx`, given the fields it writes: the columns a
    /// create sets from the context (an owner column), and the parent that a create, or an
    /// update that changes the parent column, must find in the caller's scope.
    fn write_scope(ctx: &Ctx, fields: &[(&'static str, sea_query::Value)]) -> WriteScope;
}

/// The ownership side of a write.
#[derive(Default)]
pub struct WriteScope {
    /// Columns a create sets from the context, such as `owner_id`.
    pub owned: Vec<(&'static str, sea_query::Value)>,
    /// A parent row the caller must own. If the condition fails, a create inserts nothing and
    /// answers that the parent was not found; an update changes nothing and answers that the row
    /// was not found (one statement cannot tell which of the two it missed).
    pub parent: Option<ParentGuard>,
}

pub struct ParentGuard {
    pub entity: &'static str,
    pub id: i64,
    pub owned_by_caller: Condition,
}

/// The column a key of a create's or update's `data` names, when the server sets it and no
/// client may: a column of the entity that neither its create nor its update input writes (`id`,
/// the audit columns, an owner column). The RPC layer refuses such a key by name.
pub fn server_owned<B: DbBmc>(key: &str) -> Option<&'static str> {
    let settable = |name: &str| ForCreate::<B>::FIELDS.contains(&name) || ForUpdate::<B>::FIELDS.contains(&name);
    B::COLUMNS.iter().map(|column| column.name).find(|name| *name == key && !settable(name))
}

pub async fn create<B: DbBmc>(ctx: &Ctx, mm: &ModelManager, data: ForCreate<B>) -> Result<B::Entity> {
    let fields = checked_fields(data.write_fields())?;
    let scope = B::write_scope(ctx, &fields);
    let user = ctx.user_id();

    let (columns, values): (Vec<&str>, Vec<Expr>) = fields
        .into_iter()
        .chain(scope.owned)
        .map(|(column, value)| (column, Expr::val(value)))
        .chain(Audit::on_create(user))
        .unzip();

    let mut insert = Query::insert();
    insert.into_table(B::TABLE).columns(columns).returning(returning::<B>());
    let missing_parent = match scope.parent {
        None => {
            insert.values_panic(values);
            None
        }
        Some(guard) => {
            // INSERT ... SELECT <values> WHERE <caller owns the parent>: the check and the write
            // are one statement, so nothing can change in between and it costs one round trip.
            let mut select = Query::select();
            select.exprs(values).cond_where(guard.owned_by_caller);
            insert_select(&mut insert, select)?;
            Some(Error::EntityNotFound { entity: guard.entity, id: guard.id })
        }
    };

    match fetch_optional::<B::Entity>(ctx, mm, &insert).await {
        Ok(Some(row)) => Ok(row),
        // No row: the guard found no parent of the caller's. A foreign-key violation: the parent
        // was deleted between the guard and the insert; to the client both are the same.
        Ok(None) => Err(missing_parent.unwrap_or(Error::Db(sqlx::Error::RowNotFound))),
        Err(error) if missing_parent.is_some() && error.is_foreign_key_violation() => {
            Err(missing_parent.unwrap_or(error))
        }
        Err(error) => Err(error),
    }
}

pub async fn get<B: DbBmc>(ctx: &Ctx, mm: &ModelManager, id: i64) -> Result<B::Entity> {
    let mut select = select_columns::<B>();
    select.cond_where(by_id::<B>(ctx, id));
    fetch_optional(ctx, mm, &select).await?.ok_or(Error::EntityNotFound { entity: B::ENTITY, id })
}

/// The rows among `ids` that `ctx` may see, in one statement, in no particular order; ids that
/// are missing or not the caller's are simply absent.
pub async fn get_many<B: DbBmc>(ctx: &Ctx, mm: &ModelManager, ids: Vec<i64>) -> Result<Vec<B::Entity>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut select = select_columns::<B>();
    select.cond_where(Condition::all().add(id_in::<B>(&ids)).add(B::scope(ctx)));
    fetch_all(mm.lease(ctx).await?, &select, Prepare::Keep).await
}

/// `id = ANY($1)`: one statement text whatever the number of ids, so it is prepared once per
/// connection (`id IN ($1, ..., $n)` would be a new statement for every n). sea-query binds no
/// arrays without its `postgres-array` feature, so the ids travel as one array literal in text,
/// which Postgres casts; the literal is made of integers only.
fn id_in<B: DbBmc>(ids: &[i64]) -> Expr {
    let literal = format!("{{{}}}", ids.iter().map(i64::to_string).collect::<Vec<_>>().join(","));
    // One custom expression: sea-query would parenthesise `ANY(...)` as the right side of `=`.
    Expr::cust_with_exprs("$1 = ANY(CAST($2 AS bigint[]))", [Expr::col((B::TABLE, "id")), Expr::val(literal)])
}

/// One page of the rows `ctx` may see that `filters` select, in `options`' order, from the
/// start (or its offset) or after the row `options`' cursor names: in one statement, which
/// also fetches one row past the limit to tell whether a next page exists.
pub async fn list<B: DbBmc>(
    ctx: &Ctx,
    mm: &ModelManager,
    filters: Filters,
    options: &ListOptions,
) -> Result<Page<B::Entity>>
where
    B::Entity: serde::Serialize,
{
    let key = mm.cursor_key();
    // Opened before a slot is taken: a cursor that does not open costs no share.
    let after = match options.cursor() {
        Some(sealed) => Some(cursor::open(key, sealed, B::ENTITY, options.order_bys())?),
        None => None,
    };
    // Fixed shapes with and without a cursor: its values are bound, so a deep page in the
    // default order is the same prepared statement as page 2.
    let prepare = Prepare::fixed_if(!filters.restricts() && options.has_default_order());
    // The slot first: a call waiting for its user's share has not yet spent the CPU of building
    // and rendering its statement (for a big filter, the larger part of the call's own work).
    let lease = mm.lease(ctx).await?;
    let mut select = list_statement::<B>(ctx, filters, options);
    if let Some(last) = after {
        select.cond_where(keyset::after(B::TABLE, options.order_bys(), &last));
    }
    let rows = fetch_all(lease, &select, prepare).await?;
    Ok(Page::of(rows, options, B::ENTITY, key))
}

pub async fn count<B: DbBmc>(ctx: &Ctx, mm: &ModelManager, filters: Filters) -> Result<i64> {
    let prepare = Prepare::fixed_if(!filters.restricts());
    let mut lease = mm.lease(ctx).await?;
    let (sql, values) = count_statement::<B>(ctx, filters).build_sqlx(PostgresQueryBuilder);
    let query = sqlx::query_scalar_with(AssertSqlSafe(sql), values).persistent(prepare.persistent());
    lease.run(|conn| query.fetch_one(conn)).await
}

/// The `SELECT` of a list's first page (or a page at an offset): what `list` runs, less the
/// keyset condition of a cursor.
pub(crate) fn list_statement<B: DbBmc>(ctx: &Ctx, filters: Filters, options: &ListOptions) -> SelectStatement {
    let mut select = select_columns::<B>();
    select.cond_where(scoped::<B>(ctx, filters));
    options.apply(B::TABLE, &mut select);
    select
}

/// The `SELECT count(*)` of a count: what `count` runs.
pub(crate) fn count_statement<B: DbBmc>(ctx: &Ctx, filters: Filters) -> SelectStatement {
    let mut select = Query::select();
    select.expr(Expr::cust("count(*)")).from(B::TABLE).cond_where(scoped::<B>(ctx, filters));
    select
}

/// Updates the row `id` with the fields `data` gives. With `if_mtime`, only while the row's
/// `mtime` still equals it (optimistic concurrency): otherwise [`Error::Stale`], and nothing
/// changes.
pub async fn update<B: DbBmc>(
    ctx: &Ctx,
    mm: &ModelManager,
    id: i64,
    data: ForUpdate<B>,
    if_mtime: Option<OffsetDateTime>,
) -> Result<B::Entity> {
    let fields = checked_fields(data.write_fields())?;
    if fields.is_empty() {
        // Nothing to change: answer with the row as it is, and leave mid/mtime alone.
        let mut select = select_columns::<B>();
        select.cond_where(unchanged_since(by_id::<B>(ctx, id), B::TABLE, if_mtime));
        return match fetch_optional(ctx, mm, &select).await? {
            Some(row) => Ok(row),
            None => Err(stale_or_missing::<B>(ctx, mm, id, if_mtime).await),
        };
    }
    // A new parent must be the caller's too: moving a row is a create under the new parent.
    let new_parent = B::write_scope(ctx, &fields).parent;
    let mut update = Query::update();
    update
        .table(B::TABLE)
        .values(fields.into_iter().map(|(column, value)| (column, Expr::val(value))))
        .values(Audit::on_update(ctx.user_id()))
        .cond_where(unchanged_since(by_id::<B>(ctx, id), B::TABLE, if_mtime))
        .returning(returning::<B>());
    if let Some(guard) = new_parent {
        update.cond_where(guard.owned_by_caller);
    }
    match fetch_optional(ctx, mm, &update).await? {
        Some(row) => Ok(row),
        None => Err(stale_or_missing::<B>(ctx, mm, id, if_mtime).await),
    }
}

/// Deletes the row `id`; with `if_mtime`, only while its `mtime` still equals it (see
/// [`update`]).
pub async fn delete<B: DbBmc>(
    ctx: &Ctx,
    mm: &ModelManager,
    id: i64,
    if_mtime: Option<OffsetDateTime>,
) -> Result<B::Entity> {
    let mut delete = Query::delete();
    delete
        .from_table(B::TABLE)
        .cond_where(unchanged_since(by_id::<B>(ctx, id), B::TABLE, if_mtime))
        .returning(returning::<B>());
    match fetch_optional(ctx, mm, &delete).await? {
        Some(row) => Ok(row),
        None => Err(stale_or_missing::<B>(ctx, mm, id, if_mtime).await),
    }
}

/// `which`, and with `if_mtime`, `AND mtime = <if_mtime>`: the write's one statement carries
/// the check, so nothing can change between the check and the write.
fn unchanged_since(which: Condition, table: &'static str, if_mtime: Option<OffsetDateTime>) -> Condition {
    match if_mtime {
        Some(mtime) => which.add(Expr::col((table, "mtime")).eq(mtime)),
        None => which,
    }
}

/// Why a write of the row `id` touched nothing. Without `if_mtime` the row is missing (or not
/// the caller's). With it, one more statement, on this failure path only, tells a row that
/// changed since ([`Error::Stale`]) from one that is not there.
async fn stale_or_missing<B: DbBmc>(ctx: &Ctx, mm: &ModelManager, id: i64, if_mtime: Option<OffsetDateTime>) -> Error {
    let missing = Error::EntityNotFound { entity: B::ENTITY, id };
    if if_mtime.is_none() {
        return missing;
    }
    let mut exists = Query::select();
    exists.expr(Expr::val(1)).from(B::TABLE).cond_where(by_id::<B>(ctx, id));
    match fetch_scalar::<i32>(ctx, mm, &exists).await {
        Ok(Some(_)) => Error::Stale { entity: B::ENTITY, id },
        Ok(None) => missing,
        Err(error) => error,
    }
}

fn select_columns<B: DbBmc>() -> SelectStatement {
    let mut select = Query::select();
    select.columns(B::COLUMNS.iter().map(|c| (B::TABLE, c.name))).from(B::TABLE);
    select
}

fn returning<B: DbBmc>() -> sea_query::ReturningClause {
    Query::returning().columns(B::COLUMNS.iter().map(|c| c.name))
}

fn by_id<B: DbBmc>(ctx: &Ctx, id: i64) -> Condition {
    Condition::all().add(Expr::col((B::TABLE, "id")).eq(id)).add(B::scope(ctx))
}

fn scoped<B: DbBmc>(ctx: &Ctx, filters: Filters) -> Condition {
    let scope = Condition::all().add(B::scope(ctx));
    match filters.into_condition(B::TABLE) {
        Some(filter) => scope.add(filter),
        None => scope,
    }
}

fn insert_select(insert: &mut InsertStatement, select: SelectStatement) -> Result<()> {
    insert
        .select_from(select)
        .map(|_| ())
        .map_err(|e| Error::Db(sqlx::Error::Protocol(format!("building INSERT ... SELECT: {e}"))))
}

/// Refuses text Postgres cannot store (NUL) as the client's mistake, naming the field.
fn checked_fields(fields: Vec<(&'static str, sea_query::Value)>) -> Result<Vec<(&'static str, sea_query::Value)>> {
    for (column, value) in &fields {
        if let sea_query::Value::String(Some(text)) = value
            && text.contains('\0')
        {
            return Err(Error::invalid(*column, "text must not contain NUL characters"));
        }
    }
    Ok(fields)
}
