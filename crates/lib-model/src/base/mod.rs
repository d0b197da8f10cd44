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
mod refusal;
mod statement;
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
use crate::statement_span::statement_span;
use crate::{Error, ModelManager, Result};
use fetch::{Prepare, fetch_all, fetch_optional};
use lib_core::Ctx;
use refusal::{parent_refusal, why_unchanged};
use schemars::JsonSchema;
use sea_query::{Condition, Expr, ExprTrait as _, PostgresQueryBuilder, Query, SelectStatement};
use sea_query_sqlx::SqlxBinder;
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, FromRow};
pub(crate) use statement::{any_of, bigint_array};
use statement::{
    by_id, checked_fields, id_in, insert_select, refs, returning, scoped, select_columns, unchanged_since,
};
use time::OffsetDateTime;

/// An entity row with an `id` (every entity has one; `#[derive(Entity)]` implements this).
pub trait Identified {
    fn id(&self) -> i64;
}

/// An entity's row, as `#[derive(Entity)]` declares it: its columns, how it is read, its `id`,
/// and the inputs of its create and update (the fields a client may set).
pub trait Entity: Columns + Identified + JsonSchema + for<'r> FromRow<'r, PgRow> + Send + Unpin {
    type ForCreate: WriteFields + JsonSchema + Send;
    type ForUpdate: WriteFields + JsonSchema + Send;
}

/// The create input of `B`'s entity.
pub type ForCreate<B> = <<B as DbBmc>::Entity as Entity>::ForCreate;
/// The update input of `B`'s entity.
pub type ForUpdate<B> = <<B as DbBmc>::Entity as Entity>::ForUpdate;

/// What a call does to a row, which decides whose rows it may touch. Every statement of the
/// generic CRUD carries the scope of the access it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// See it: get, list, count.
    Read,
    /// Change what it holds: of a project, create, update and delete its tasks.
    Write,
    /// Change the row itself and who may reach it: a project's update, delete and members.
    Manage,
}

/// A backend model controller: everything the generic CRUD needs to know about one entity.
pub trait DbBmc {
    /// The entity's name in errors and method names (`project`).
    const ENTITY: &'static str;
    const TABLE: &'static str;
    /// Every column of [`DbBmc::Entity`], in order: what is selected and returned, and the
    /// allowlist for filters and `order_bys`. Derived from the row struct.
    const COLUMNS: &'static [Column] = <Self::Entity as Columns>::COLUMNS;

    /// The access an update or delete of a row needs: a task's is `Write` (to its project), a
    /// project's `Manage`.
    const CHANGE: Access = Access::Write;

    type Entity: Entity;

    /// The rows the user `user` may reach with `access`, as a condition on [`DbBmc::TABLE`].
    /// Applied to every get, list and count (`Read`), update and delete ([`DbBmc::CHANGE`]);
    /// filters are AND-ed to it and cannot widen it.
    ///
    /// `user` is the user's id as an expression: a call's caller is a bound value
    /// ([`caller`]); live delivery checks many subscribers in one statement, each its own row,
    /// so there it is a column ([`crate::live`]).
    fn scope(user: &Expr, access: Access) -> Condition;

    /// That the row whose id `id` holds is one `user` may reach with `access`: what a child
    /// entity's scope is made of ([`Parent`]). By default, `EXISTS` such a row within
    /// [`DbBmc::scope`]; an entity whose scope has a cheaper form of its own says so here.
    fn scope_of(user: &Expr, access: Access, id: Expr) -> Condition {
        let mut rows = Query::select();
        rows.expr(Expr::val(1))
            .from(Self::TABLE)
            .and_where(Expr::col((Self::TABLE, "id")).eq(id))
            .cond_where(Self::scope(user, access));
        Condition::all().add(Expr::exists(rows))
    }

    /// The users who may read the row whose id `id` holds, as a statement selecting `user_id`:
    /// [`DbBmc::scope`] with `Read` turned around, which live delivery asks of each changed row
    /// (one lookup per row, whatever the number of subscribers). By default, every user for whom
    /// the scope holds, which is right for any scope but reads every user; an entity whose
    /// readers are a lookup of their own (a project's members) says so here.
    fn readers_of(id: Expr) -> SelectStatement {
        let user = Expr::col(("user", "id"));
        let mut readers = Query::select();
        readers.expr_as(user.clone(), "user_id").from("user").cond_where(Self::scope_of(&user, Access::Read, id));
        readers
    }

    /// The readers (as [`DbBmc::readers_of`]) of the row of [`DbBmc::TABLE`] a statement is at;
    /// a child entity's are its parent's.
    fn readers() -> SelectStatement {
        Self::readers_of(Expr::col((Self::TABLE, "id")))
    }

    /// The expression of the computed column `column` (`#[entity(computed)]`) for `user`. Only
    /// an entity that declares one overrides this; the default is the plain column.
    fn computed(_user: &Expr, column: &'static str) -> Expr {
        Expr::col((Self::TABLE, column))
    }

    /// What a write must add or prove for `ctx`, given the fields it writes: the columns a
    /// create sets from the context (an owner column), and the parent that a create, or an
    /// update that changes the parent column, must find in the caller's scope.
    fn write_scope(ctx: &Ctx, fields: &[(&'static str, sea_query::Value)]) -> WriteScope;
}

/// `filters` as a condition on `B`'s rows for `ctx`'s user (computed columns are theirs);
/// `None` when they select every row.
pub(crate) fn filter_condition<B: DbBmc>(ctx: &Ctx, filters: Filters) -> Option<Condition> {
    filters.into_condition(&statement::refs::<B>(ctx))
}

/// A call's caller, as the user expression of [`DbBmc::scope`]: their id, bound as a value.
pub fn caller(ctx: &Ctx) -> Expr {
    Expr::val(ctx.user_id())
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
    /// The caller may write under the parent: what the write itself checks.
    pub allowed: Condition,
    /// The caller may see the parent: asked only after a write was refused, to answer
    /// [`Error::Forbidden`] rather than [`Error::EntityNotFound`].
    pub visible: Condition,
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
    insert.into_table(B::TABLE).columns(columns).returning(returning::<B>(ctx));
    let refused = match scope.parent {
        None => {
            insert.values_panic(values);
            None
        }
        Some(ParentGuard { entity, id, allowed, visible }) => {
            // INSERT ... SELECT <values> WHERE <caller may write under the parent>: the check and
            // the write are one statement, so nothing can change in between and it costs one
            // round trip.
            let mut select = Query::select();
            select.exprs(values).cond_where(allowed);
            insert_select(&mut insert, select)?;
            Some((entity, id, visible))
        }
    };

    match (fetch_optional::<B::Entity>(ctx, mm, &insert).await, refused) {
        (Ok(Some(row)), _) => Ok(row),
        // No row: the guard refused the parent.
        (Ok(None), Some((entity, id, visible))) => Err(parent_refusal(ctx, mm, entity, id, visible).await),
        // A foreign-key violation: the parent was deleted between the guard and the insert.
        (Err(error), Some((entity, id, _))) if error.is_foreign_key_violation() => {
            Err(Error::EntityNotFound { entity, id })
        }
        (Ok(None), None) => Err(Error::Db(sqlx::Error::RowNotFound)),
        (Err(error), _) => Err(error),
    }
}

pub async fn get<B: DbBmc>(ctx: &Ctx, mm: &ModelManager, id: i64) -> Result<B::Entity> {
    let mut select = select_columns::<B>(ctx);
    select.cond_where(by_id::<B>(ctx, id, Access::Read));
    fetch_optional(ctx, mm, &select).await?.ok_or(Error::EntityNotFound { entity: B::ENTITY, id })
}

/// The rows among `ids` that `ctx` may see, in one statement, in no particular order; ids that
/// are missing or not the caller's are simply absent.
pub async fn get_many<B: DbBmc>(ctx: &Ctx, mm: &ModelManager, ids: Vec<i64>) -> Result<Vec<B::Entity>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut select = select_columns::<B>(ctx);
    select.cond_where(Condition::all().add(id_in::<B>(&ids)).add(B::scope(&caller(ctx), Access::Read)));
    fetch_all(mm.lease(ctx).await?, &select, Prepare::Keep).await
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
        select.cond_where(keyset::after(&refs::<B>(ctx), options.order_bys(), &last));
    }
    let rows = fetch_all(lease, &select, prepare).await?;
    Ok(Page::of(rows, options, B::ENTITY, key))
}

pub async fn count<B: DbBmc>(ctx: &Ctx, mm: &ModelManager, filters: Filters) -> Result<i64> {
    let prepare = Prepare::fixed_if(!filters.restricts());
    let mut lease = mm.lease(ctx).await?;
    let (sql, values) = count_statement::<B>(ctx, filters).build_sqlx(PostgresQueryBuilder);
    let span = statement_span(&sql);
    let query = sqlx::query_scalar_with(AssertSqlSafe(sql), values).persistent(prepare.persistent());
    lease.run(span, |conn| query.fetch_one(conn)).await
}

/// The `SELECT` of a list's first page (or a page at an offset): what `list` runs, less the
/// keyset condition of a cursor.
pub(crate) fn list_statement<B: DbBmc>(ctx: &Ctx, filters: Filters, options: &ListOptions) -> SelectStatement {
    let mut select = select_columns::<B>(ctx);
    select.cond_where(scoped::<B>(ctx, filters));
    options.apply(&refs::<B>(ctx), &mut select);
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
        // Nothing to change: answer with the row as it is, and leave mid/mtime alone (as any
        // update, only for a caller who may change it).
        let mut select = select_columns::<B>(ctx);
        select.cond_where(unchanged_since(by_id::<B>(ctx, id, B::CHANGE), B::TABLE, if_mtime));
        return match fetch_optional(ctx, mm, &select).await? {
            Some(row) => Ok(row),
            None => Err(why_unchanged::<B>(ctx, mm, id, if_mtime, None).await),
        };
    }
    // A new parent must allow the caller to write under it: moving a row is a create there.
    let new_parent = B::write_scope(ctx, &fields).parent;
    let mut update = Query::update();
    update
        .table(B::TABLE)
        .values(fields.into_iter().map(|(column, value)| (column, Expr::val(value))))
        .values(Audit::on_update(ctx.user_id()))
        .cond_where(unchanged_since(by_id::<B>(ctx, id, B::CHANGE), B::TABLE, if_mtime))
        .returning(returning::<B>(ctx));
    let refused_parent = new_parent.map(|ParentGuard { entity, id, allowed, visible }| {
        update.cond_where(allowed.clone());
        (entity, id, allowed, visible)
    });
    match fetch_optional(ctx, mm, &update).await? {
        Some(row) => Ok(row),
        None => Err(why_unchanged::<B>(ctx, mm, id, if_mtime, refused_parent).await),
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
        .cond_where(unchanged_since(by_id::<B>(ctx, id, B::CHANGE), B::TABLE, if_mtime))
        .returning(returning::<B>(ctx));
    match fetch_optional(ctx, mm, &delete).await? {
        Some(row) => Ok(row),
        None => Err(why_unchanged::<B>(ctx, mm, id, if_mtime, None).await),
    }
}
