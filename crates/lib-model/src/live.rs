//! Live updates, the model's side: which changes were committed, and who may see them.
//!
//! Triggers write every change to a project or a task into `live_change` (the row before and
//! after) and announce each statement's batch of changes with `NOTIFY` (see the migration
//! `live_changes`); the listener ([`crate::notifications`]) hands the announcements to
//! [`ModelManager::live_feed`]. [`deliveries`] then answers, in one statement for a batch and
//! every subscriber of its entity, the rows each subscriber may see and whose filter matches
//! the row before or after the change. Nothing here knows sockets or JSON-RPC.

use crate::base::{Access, DbBmc, filter_condition};
use crate::filter::{ColumnRefs, Filters};
use crate::{Ctx, ModelManager, Result};
use sea_query::{Condition, Expr, ExprTrait as _, Func, PostgresQueryBuilder, Query};
use sea_query_sqlx::SqlxBinder;
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, FromRow, Row};
use std::time::Duration;

/// The channel on which batches of changes are announced, as `<entity>:<batch>`.
pub(crate) const CHANNEL: &str = "live_change";

/// How long a change is kept for the instances to read after its announcement.
const KEPT_FOR: Duration = Duration::from_secs(300);

/// What the listener hands on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveEvent {
    /// A committed statement changed rows of `entity` (a table name); its changes are `batch`.
    Changed { entity: String, batch: i64 },
    /// Announcements may have been missed (the listener lost its connection): whoever relies on
    /// them must start over from the current rows.
    Lost,
}

impl LiveEvent {
    /// Reads an announcement's payload, `<entity>:<batch>`.
    pub(crate) fn parse(payload: &str) -> Option<Self> {
        let (entity, batch) = payload.split_once(':')?;
        Some(LiveEvent::Changed { entity: entity.to_string(), batch: batch.parse().ok()? })
    }
}

/// What a change did to its row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Create,
    Update,
    Delete,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Create => "create",
            Op::Update => "update",
            Op::Delete => "delete",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [Op::Create, Op::Update, Op::Delete].into_iter().find(|op| op.as_str() == text)
    }
}

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
    pub key: i64,
    pub op: Op,
    pub row: E,
}

/// What a batch holds for its subscribers.
#[derive(Debug)]
pub enum Delivered<E> {
    /// Each subscriber's changes, in the order they were made.
    Changes(Vec<Delivery<E>>),
    /// More than [`MAX_BATCH_ROWS`] rows changed together: their subscribers should list again.
    TooLarge,
}

/// The most rows of one batch delivered change by change; a statement that changes more (a bulk
/// update by hand) is delivered as "list again".
pub const MAX_BATCH_ROWS: usize = 1000;

/// The changes of `batch` (to `B`'s rows) that each of `subscribers` may see and whose filter
/// the row matches before or after the change, in the order they were made, in one statement.
///
/// Access is the subscriber's now, by `B`'s read scope, applied to the row as it is after the
/// change (before it, for a delete); a deleted project's memberships are gone with it, so its
/// delete goes to those who were members when it was deleted. The statement's work grows with
/// the batch's rows times the subscribers' distinct users and distinct filters, not with the
/// subscriptions: those are fanned out here.
pub async fn deliveries<B>(
    mm: &ModelManager,
    batch: i64,
    subscribers: &[Subscriber<'_>],
) -> Result<Delivered<B::Entity>>
where
    B: DbBmc<Entity: Clone>,
{
    let mut users: Vec<i64> = subscribers.iter().map(|s| s.user_id).collect();
    users.sort_unstable();
    users.dedup();
    let mut filters: Vec<&LiveFilter> = Vec::new();
    let filter_of: Vec<Option<usize>> = subscribers
        .iter()
        .map(|s| {
            let filter = s.filter?;
            Some(filters.iter().position(|f| f.same_as == filter.same_as).unwrap_or_else(|| {
                filters.push(filter);
                filters.len() - 1
            }))
        })
        .collect();
    if users.is_empty() {
        return Ok(Delivered::Changes(Vec::new()));
    }

    let statement = statement::<B>(batch, &users, &filters);
    let (sql, values) = statement.build_sqlx(PostgresQueryBuilder);
    let query = sqlx::query_with(AssertSqlSafe(sql), values).persistent(false);
    let mut lease = mm.lease(&Ctx::for_user(0)).await?;
    let rows: Vec<PgRow> = lease.run(|conn| query.fetch_all(conn)).await?;

    let mut seqs: Vec<i64> = Vec::new();
    let mut deliveries = Vec::new();
    for row in &rows {
        let (seq, user, op): (i64, i64, String) =
            (row.try_get("live_seq")?, row.try_get("live_user")?, row.try_get("live_op")?);
        if seqs.last() != Some(&seq) {
            seqs.push(seq);
            if seqs.len() > MAX_BATCH_ROWS {
                return Ok(Delivered::TooLarge);
            }
        }
        let op = Op::parse(&op).ok_or_else(|| sqlx::Error::Decode(format!("unknown change {op:?}").into()))?;
        let entity = B::Entity::from_row(row)?;
        for (subscriber, filter) in subscribers.iter().zip(&filter_of) {
            let matches = match filter {
                Some(index) => row.try_get::<bool, _>(format!("live_f{index}").as_str())?,
                None => true,
            };
            if subscriber.user_id == user && matches {
                deliveries.push(Delivery { key: subscriber.key, op, row: entity.clone() });
            }
        }
    }
    Ok(Delivered::Changes(deliveries))
}

/// The delivery statement: each change of the batch (at most one past [`MAX_BATCH_ROWS`]),
/// once per user who may see it, with the row as that user reads it and, per distinct filter,
/// whether the row matches before or after.
fn statement<B: DbBmc>(batch: i64, users: &[i64], filters: &[&LiveFilter]) -> sea_query::SelectStatement {
    // The changes, each filter evaluated once per change; OFFSET 0 keeps Postgres from folding
    // this into the outer query, where it would be evaluated once per change and user.
    let mut changes = Query::select();
    changes.column(sea_query::Asterisk).from_as("live_change", "c");
    for (index, filter) in filters.iter().enumerate() {
        let matches = Condition::any()
            .add(image_matches::<B>("new", filter.condition.clone()))
            .add(image_matches::<B>("old", filter.condition.clone()));
        changes.expr_as(Expr::from(matches), format!("live_f{index}"));
    }
    changes
        .and_where(Expr::col(("c", "batch")).eq(batch))
        .and_where(Expr::col(("c", "entity")).eq(B::TABLE))
        .order_by(("c", "seq"), sea_query::Order::Asc)
        .limit(MAX_BATCH_ROWS as u64 + 1)
        .offset(0);

    let user = Expr::col(("u", "user_id"));
    let refs = ColumnRefs::with_computed(B::TABLE, user.clone(), B::computed);
    let readers = Expr::cust_with_exprs("$1 = ANY(\"c\".\"readers\")", [user.clone()]);
    let visible = Expr::case(Expr::col(("c", "readers")).is_null(), B::scope(&user, Access::Read)).finally(readers);
    let literal = format!("{{{}}}", users.iter().map(i64::to_string).collect::<Vec<_>>().join(","));
    let mut subscribed = Query::select();
    subscribed.expr_as(Expr::cust_with_values("unnest(CAST($1 AS bigint[]))", [literal]), "user_id");

    let mut select = Query::select();
    select
        .expr_as(Expr::col(("c", "seq")), "live_seq")
        .expr_as(Expr::col(("u", "user_id")), "live_user")
        .expr_as(Expr::col(("c", "op")), "live_op");
    for column in B::COLUMNS {
        select.expr_as(refs.expr(column), column.name);
    }
    for index in 0..filters.len() {
        let name = format!("live_f{index}");
        select.expr_as(Expr::col(("c", sea_query::Alias::new(name.clone()))), sea_query::Alias::new(name));
    }
    select
        .from_subquery(changes, "c")
        .from_function(row_image::<B>(Expr::cust("coalesce(\"c\".\"new\", \"c\".\"old\")")), B::TABLE)
        .from_subquery(subscribed, "u")
        .and_where(visible.into())
        .order_by(("c", "seq"), sea_query::Order::Asc)
        .order_by(("u", "user_id"), sea_query::Order::Asc);
    select
}

/// `jsonb_populate_record(NULL::<table>, image)`: a row image as a row of `B`'s table, which
/// the statement names as the table itself, so that `B`'s scope and filters apply to it as
/// written.
fn row_image<B: DbBmc>(image: Expr) -> sea_query::FunctionCall {
    // The table's name is the Bmc's constant, an identifier of the code, never client text.
    Func::cust("jsonb_populate_record").arg(Expr::cust(format!("NULL::\"{}\"", B::TABLE))).arg(image)
}

/// That the change's `image` (`new` or `old`) exists and matches `filter`: the image is named
/// as the table inside the `EXISTS`, so the filter reads it as it reads the table.
fn image_matches<B: DbBmc>(image: &'static str, filter: Condition) -> Condition {
    let mut matching = Query::select();
    matching.expr(Expr::val(1)).from_function(row_image::<B>(Expr::col(("c", image))), B::TABLE).cond_where(filter);
    Condition::all().add(Expr::col(("c", image)).is_not_null()).add(Expr::exists(matching))
}

/// Forgets changes older than every instance needs them (run now and then by each instance);
/// answers how many went.
pub async fn purge(mm: &ModelManager) -> Result<u64> {
    let deleted = sqlx::query("DELETE FROM live_change WHERE at < now() - make_interval(secs => $1)")
        .bind(KEPT_FOR.as_secs_f64())
        .execute(mm.db())
        .await?;
    Ok(deleted.rows_affected())
}
