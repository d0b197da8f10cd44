//! Running one statement of a call on its lease: [`Prepare`] decides whether its plan is kept
//! on the connection, and the fetch helpers run it and read its rows.

use crate::lease::Lease;
use crate::statement_span::statement_span;
use crate::{ModelManager, Result};
use lib_core::Ctx;
use sea_query::PostgresQueryBuilder;
use sea_query_sqlx::SqlxBinder;
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, FromRow};

pub(super) async fn fetch_scalar<T>(ctx: &Ctx, mm: &ModelManager, statement: &impl SqlxBinder) -> Result<Option<T>>
where
    T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send + Unpin,
{
    let mut lease = mm.lease(ctx).await?;
    let (sql, values) = statement.build_sqlx(PostgresQueryBuilder);
    let span = statement_span(&sql);
    let query = sqlx::query_scalar_with(AssertSqlSafe(sql), values);
    lease.run(span, |conn| query.fetch_optional(conn)).await
}

pub(super) async fn fetch_optional<E>(ctx: &Ctx, mm: &ModelManager, statement: &impl SqlxBinder) -> Result<Option<E>>
where
    E: for<'r> FromRow<'r, PgRow> + Send + Unpin,
{
    let mut lease = mm.lease(ctx).await?;
    let (sql, values) = statement.build_sqlx(PostgresQueryBuilder);
    let span = statement_span(&sql);
    let query = sqlx::query_as_with(AssertSqlSafe(sql), values);
    lease.run(span, |conn| query.fetch_optional(conn)).await
}

/// Whether a statement's plan is kept on the connection.
#[derive(Clone, Copy)]
pub(super) enum Prepare {
    /// A fixed shape (get by id, `get_many`, writes, an unfiltered list in the default order):
    /// prepared once per connection and reused, one round trip per call.
    Keep,
    /// A shape built from client input (filters, orders): run as Postgres' unnamed statement
    /// and not cached, so a client sending ever-new shapes leaves nothing behind in the server
    /// or in Postgres once the call ends (each cached statement can hold megabytes of plan).
    /// It costs a second round trip per call (parse and describe, then execute).
    Once,
}

impl Prepare {
    pub(super) fn fixed_if(fixed: bool) -> Self {
        if fixed { Prepare::Keep } else { Prepare::Once }
    }

    pub(super) fn persistent(self) -> bool {
        matches!(self, Prepare::Keep)
    }
}

pub(super) async fn fetch_all<E>(mut lease: Lease, statement: &impl SqlxBinder, prepare: Prepare) -> Result<Vec<E>>
where
    E: for<'r> FromRow<'r, PgRow> + Send + Unpin,
{
    let (sql, values) = statement.build_sqlx(PostgresQueryBuilder);
    let span = statement_span(&sql);
    let query = sqlx::query_as_with(AssertSqlSafe(sql), values).persistent(prepare.persistent());
    lease.run(span, |conn| query.fetch_all(conn)).await
}
