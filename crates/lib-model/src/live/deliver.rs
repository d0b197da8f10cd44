//! Delivery: for some batches of changes to one entity and every subscriber of it, the changes
//! each subscriber may see and whose filter matches the row before or after, in one statement
//! per [`FILTERS_PER_STATEMENT`] distinct filters.

use super::Op;
use crate::base::{DbBmc, any_of, bigint_array, filter_condition};
use crate::filter::{ColumnRefs, Filters};
use crate::statement_span::statement_span;
use crate::{Ctx, ModelManager, Result};
use sea_query::{Condition, Expr, ExprTrait as _, Func, IntoIden as _, PostgresQueryBuilder, Query};
use sea_query_sqlx::SqlxBinder;
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, FromRow, Row};
use std::collections::HashMap;

/// A subscriber's filter, checked against `B`'s rows at delivery. Built once at subscription,
/// for the subscriber's own computed columns (a project's `role`).
#[derive(Debug, Clone)]
pub struct LiveFilter {
    condition: Condition,
    /// The condition's text with its values: equal filters (the many sockets of one list view)
    /// are evaluated once per change, whoever holds them. Never run: only compared.
    same_as: String,
}

impl LiveFilter {
    /// The filter `filters` (already checked against `B`'s columns) for `ctx`'s user; `None`
    /// when it selects every row.
    pub fn new<B: DbBmc>(ctx: &Ctx, filters: Filters) -> Option<Self> {
        let condition = filter_condition::<B>(ctx, filters)?;
        let same_as = Query::select().cond_where(condition.clone()).to_string(PostgresQueryBuilder);
        Some(LiveFilter { condition, same_as })
    }
}

/// One subscription, as delivery needs it: who, and which rows.
#[derive(Debug, Clone, Copy)]
pub struct Subscriber<'a> {
    /// The subscription's key, unique among those delivered together.
    pub key: i64,
    pub user_id: i64,
    pub filter: Option<&'a LiveFilter>,
}

/// One change for one subscriber: the row after a create or update, before a delete.
#[derive(Debug)]
pub struct Delivery<E> {
    /// The subscriptions that get it: one user's, whose filters the row matches.
    pub keys: Vec<i64>,
    pub op: Op,
    pub row: E,
}

/// What a batch holds for its subscribers.
#[derive(Debug)]
pub enum Delivered<E> {
    /// The changes, each with the subscriptions it goes to, in the order they were made.
    Changes(Vec<Delivery<E>>),
    /// More than [`MAX_BATCH_ROWS`] rows that some subscriber may see changed in the batches:
    /// their subscribers should list again.
    TooLarge,
}

/// The most changed rows delivered change by change by one call of [`deliveries`]; past it
/// (a bulk update by hand) they are delivered as "list again".
pub const MAX_BATCH_ROWS: usize = 1000;

/// The most distinct filters one delivery statement evaluates: the statement's columns and
/// bound values stay far below Postgres' limits (a subscription's filters are small, see
/// `lib_rpc::live`); more filters take more statements.
pub const FILTERS_PER_STATEMENT: usize = 64;

/// The changes of `batches` (to `B`'s rows, in the order they were announced) that each of
/// `subscribers` may see and whose filter the row matches before or after the change, in the
/// order they were made.
///
/// Access is the subscriber's now, by `B`'s readers ([`DbBmc::readers`]) of the row as it is
/// after the change (before it, for a delete); a deleted project's memberships are gone with
/// it, so its delete goes to those who were members when it was deleted. One statement per
/// [`FILTERS_PER_STATEMENT`] distinct filters (one, usually): its work grows with the changed
/// rows, their readers and the distinct filters, not with the subscriptions, which are fanned
/// out here.
pub async fn deliveries<B>(
    mm: &ModelManager,
    batches: &[i64],
    subscribers: &[Subscriber<'_>],
) -> Result<Delivered<B::Entity>>
where
    B: DbBmc<Entity: Clone>,
{
    let mut filters: Vec<&LiveFilter> = Vec::new();
    let mut index_of: HashMap<&str, usize> = HashMap::new();
    let filter_of: Vec<Option<usize>> = subscribers
        .iter()
        .map(|s| {
            let filter = s.filter?;
            Some(*index_of.entry(filter.same_as.as_str()).or_insert_with(|| {
                filters.push(filter);
                filters.len() - 1
            }))
        })
        .collect();

    let mut changes: Vec<(ChangeOrder, Delivery<B::Entity>)> = Vec::new();
    let chunks = filters.len().div_ceil(FILTERS_PER_STATEMENT).max(1);
    for chunk in 0..chunks {
        let first = chunk * FILTERS_PER_STATEMENT;
        let chunk_filters = &filters[first..filters.len().min(first + FILTERS_PER_STATEMENT)];
        // The unfiltered subscribers go with the first statement; each filtered one with its
        // filter's.
        let members: Vec<(&Subscriber<'_>, Option<usize>)> = subscribers
            .iter()
            .zip(&filter_of)
            .filter_map(|(subscriber, filter)| match filter {
                None if chunk == 0 => Some((subscriber, None)),
                Some(index) if (first..first + chunk_filters.len()).contains(index) => {
                    Some((subscriber, Some(index - first)))
                }
                _ => None,
            })
            .collect();
        let Some(found) = statement_deliveries::<B>(mm, batches, &members, chunk_filters).await? else {
            return Ok(Delivered::TooLarge);
        };
        changes.extend(found);
    }
    if chunks > 1 {
        // Each statement answered in the order of the changes; together, they are put back in it.
        changes.sort_by_key(|(order, _)| *order);
    }
    Ok(Delivered::Changes(changes.into_iter().map(|(_, delivery)| delivery).collect()))
}

/// Where a change stands in the order they were made: its batch's place among those announced,
/// then its place in the batch.
type ChangeOrder = (i32, i64);

/// One delivery statement, for `members` (each with its filter's index among `filters`); `None`
/// when the batches hold more than [`MAX_BATCH_ROWS`] changes some of `members` may see.
async fn statement_deliveries<B>(
    mm: &ModelManager,
    batches: &[i64],
    members: &[(&Subscriber<'_>, Option<usize>)],
    filters: &[&LiveFilter],
) -> Result<Option<Vec<(ChangeOrder, Delivery<B::Entity>)>>>
where
    B: DbBmc<Entity: Clone>,
{
    let mut by_user: HashMap<i64, Vec<(i64, Option<usize>)>> = HashMap::new();
    for (subscriber, filter) in members {
        by_user.entry(subscriber.user_id).or_default().push((subscriber.key, *filter));
    }
    if by_user.is_empty() {
        return Ok(Some(Vec::new()));
    }
    let mut users: Vec<i64> = by_user.keys().copied().collect();
    users.sort_unstable();

    let statement = statement::<B>(batches, &users, filters);
    let (sql, values) = statement.build_sqlx(PostgresQueryBuilder);
    let span = statement_span(&sql);
    let query = sqlx::query_with(AssertSqlSafe(sql), values).persistent(false);
    let mut lease = mm.lease(&Ctx::for_user(0)).await?;
    let rows: Vec<PgRow> = lease.run(span, |conn| query.fetch_all(conn)).await?;

    // Every change some subscriber may see comes once per such subscriber at least, so the
    // bound is on those changes, whatever their filters.
    let mut changes_seen = 0;
    let mut last_seq = None;
    let mut deliveries = Vec::new();
    let columns: Vec<String> = (0..filters.len()).map(|index| format!("live_f{index}")).collect();
    for row in &rows {
        let seq: i64 = row.try_get("live_seq")?;
        if last_seq != Some(seq) {
            last_seq = Some(seq);
            changes_seen += 1;
            if changes_seen > MAX_BATCH_ROWS {
                return Ok(None);
            }
        }
        let user: i64 = row.try_get("live_user")?;
        let Some(subscriptions) = by_user.get(&user) else { continue };
        let mut keys = Vec::new();
        for (key, filter) in subscriptions {
            let matches = match filter {
                Some(index) => row.try_get::<bool, _>(columns[*index].as_str())?,
                None => true,
            };
            if matches {
                keys.push(*key);
            }
        }
        if keys.is_empty() {
            continue;
        }
        let op: String = row.try_get("live_op")?;
        let op = Op::parse(&op).ok_or_else(|| sqlx::Error::Decode(format!("unknown change {op:?}").into()))?;
        let order = (row.try_get("live_pos")?, seq);
        deliveries.push((order, Delivery { keys, op, row: B::Entity::from_row(row)? }));
    }
    Ok(Some(deliveries))
}

/// The delivery statement: each change of the batches that some of `users` may see (at most one
/// past [`MAX_BATCH_ROWS`]), once per such user, with the row as that user reads it and, per
/// distinct filter, whether the row matches before or after.
fn statement<B: DbBmc>(batches: &[i64], users: &[i64], filters: &[&LiveFilter]) -> sea_query::SelectStatement {
    // The changes some subscriber may see, in the order their batches were read (the order
    // they were committed): a change none of whose readers subscribed costs one lookup of its
    // readers, and goes no further. OFFSET 0 keeps Postgres from folding each layer into the
    // next, where its work would be done once per change and reader.
    let order = bigint_array(batches);
    let position = Expr::cust_with_values("array_position(CAST($1 AS bigint[]), \"c\".\"batch\")", [order]);
    let mut subscribed_reader = Query::select();
    subscribed_reader
        .expr(Expr::val(1))
        .from_subquery(readers::<B>(), "r")
        .and_where(any_of(Expr::col(("r", "user_id")), users));
    let image = row_image::<B>(Expr::cust("coalesce(\"c\".\"new\", \"c\".\"old\")"));
    let mut changes = Query::select();
    changes
        .expr(Expr::cust("\"c\".*"))
        .expr_as(position, "live_pos")
        .from_as("live_change", "c")
        .cross_join(sea_query::TableRef::FunctionCall(image, sea_query::Alias::new(B::TABLE).into_iden()));
    // The range as well as the list: batches are new, beyond the statistics Postgres last
    // gathered on the table, so a range there is estimated at a few rows and read by the index;
    // with the list alone it may read the whole table, comparing each row with every batch.
    let (first, last) = (batches.iter().min().copied().unwrap_or(0), batches.iter().max().copied().unwrap_or(0));
    changes
        .and_where(Expr::col(("c", "batch")).between(first, last))
        .and_where(any_of(Expr::col(("c", "batch")), batches))
        .and_where(Expr::col(("c", "entity")).eq(B::TABLE))
        .and_where(Expr::exists(subscribed_reader))
        .order_by(sea_query::Alias::new("live_pos"), sea_query::Order::Asc)
        .order_by(("c", "seq"), sea_query::Order::Asc)
        .limit(MAX_BATCH_ROWS as u64 + 1)
        .offset(0);
    // Each filter evaluated on the row after the change, then (`filtered_before`) on the row
    // before: each image is made a row once per change, whatever the number of filters.
    let changes =
        if filters.is_empty() { changes } else { filtered_before::<B>(filtered_after::<B>(changes, filters), filters) };

    let user = Expr::col(("r", "user_id"));
    let refs = ColumnRefs::with_computed(B::TABLE, user.clone(), B::computed);
    let mut select = Query::select();
    select
        .expr_as(Expr::col(("c", "seq")), "live_seq")
        .expr_as(user.clone(), "live_user")
        .expr_as(Expr::col(("c", "op")), "live_op")
        .expr_as(Expr::col(("c", "live_pos")), "live_pos");
    for column in B::COLUMNS {
        select.expr_as(refs.expr(column), column.name);
    }
    for index in 0..filters.len() {
        let name = format!("live_f{index}");
        select.expr_as(Expr::col(("c", sea_query::Alias::new(name.clone()))), sea_query::Alias::new(name));
    }
    let image = row_image::<B>(Expr::cust("coalesce(\"c\".\"new\", \"c\".\"old\")"));
    select
        .from_subquery(changes, "c")
        .cross_join(sea_query::TableRef::FunctionCall(image, sea_query::Alias::new(B::TABLE).into_iden()))
        .join_lateral(sea_query::JoinType::InnerJoin, readers::<B>(), "r", any_of(user, users))
        .order_by(("c", "live_pos"), sea_query::Order::Asc)
        .order_by(("c", "seq"), sea_query::Order::Asc)
        .order_by(("r", "user_id"), sea_query::Order::Asc);
    select
}

/// Who may see the change `c` (its row named as `B`'s table): the row's readers, or the
/// readers a deleted project kept.
fn readers<B: DbBmc>() -> sea_query::SelectStatement {
    let mut kept_readers = Query::select();
    kept_readers
        .expr_as(Expr::cust("unnest(\"c\".\"readers\")"), "user_id")
        .and_where(Expr::col(("c", "readers")).is_not_null());
    let mut readers = B::readers();
    readers.and_where(Expr::col(("c", "readers")).is_null()).union(sea_query::UnionType::All, kept_readers);
    readers
}

/// `jsonb_populate_record(NULL::<table>, image)`: a row image as a row of `B`'s table, which
/// the statement names as the table itself, so that `B`'s scope and filters apply to it as
/// written.
fn row_image<B: DbBmc>(image: Expr) -> sea_query::FunctionCall {
    // The table's name is the Bmc's constant, an identifier of the code, never client text.
    Func::cust("jsonb_populate_record").arg(Expr::cust(format!("NULL::\"{}\"", B::TABLE))).arg(image)
}

/// The change's `image` (`new` or `old`, of the change `c`) as a row named as the table, so
/// that `B`'s filters read it as they read the table; a row of nulls where there is no image.
fn image_row<B: DbBmc>(image: &'static str) -> sea_query::TableRef {
    sea_query::TableRef::FunctionCall(
        row_image::<B>(Expr::col(("c", image))),
        sea_query::Alias::new(B::TABLE).into_iden(),
    )
}

/// Every column of `changes` (named `c`), beside its row image `image` named as `B`'s table: a
/// layer of the delivery statement, kept apart from the next by `OFFSET 0`.
fn with_image<B: DbBmc>(changes: sea_query::SelectStatement, image: &'static str) -> sea_query::SelectStatement {
    let mut select = Query::select();
    select
        .expr(Expr::cust("\"c\".*"))
        .from_subquery(changes, "c")
        .join(sea_query::JoinType::LeftJoin, image_row::<B>(image), Condition::all())
        .offset(0);
    select
}

/// `changes` with `live_after<i>`: whether filter `i` matches the row after the change.
fn filtered_after<B: DbBmc>(
    changes: sea_query::SelectStatement,
    filters: &[&LiveFilter],
) -> sea_query::SelectStatement {
    let mut select = with_image::<B>(changes, "new");
    for (index, filter) in filters.iter().enumerate() {
        let after = Condition::all().add(Expr::col(("c", "new")).is_not_null()).add(filter.condition.clone());
        select.expr_as(Expr::from(after), format!("live_after{index}"));
    }
    select
}

/// `changes` with `live_f<i>`: whether filter `i` matches the row after the change (computed
/// already) or the row before it.
fn filtered_before<B: DbBmc>(
    changes: sea_query::SelectStatement,
    filters: &[&LiveFilter],
) -> sea_query::SelectStatement {
    let mut select = with_image::<B>(changes, "old");
    for (index, filter) in filters.iter().enumerate() {
        let after = Expr::col(("c", sea_query::Alias::new(format!("live_after{index}"))));
        let before = Condition::all().add(Expr::col(("c", "old")).is_not_null()).add(filter.condition.clone());
        select.expr_as(Expr::from(Condition::any().add(after).add(before)), format!("live_f{index}"));
    }
    select
}
