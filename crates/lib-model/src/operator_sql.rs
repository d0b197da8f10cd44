//! What an operator runs by hand with `psql`, for black-box tests that need it (deleting a
//! user's row, a session's row, counting rows) without a database driver of their own.
//! Only with the `test-support` feature; nothing in the server calls it.

use crate::store::connect_options;
use sqlx::{AssertSqlSafe, Connection as _, PgConnection};

/// Runs `sql` (one statement, no parameters) on the database at `url`; answers the rows affected.
pub async fn execute(url: &str, sql: &str) -> u64 {
    let mut conn = connect(url).await;
    sqlx::query(AssertSqlSafe(sql.to_string())).execute(&mut conn).await.expect("operator SQL runs").rows_affected()
}

/// Runs `sql`, a query answering one `bigint`, on the database at `url`.
pub async fn fetch_i64(url: &str, sql: &str) -> i64 {
    let mut conn = connect(url).await;
    sqlx::query_scalar(AssertSqlSafe(sql.to_string())).fetch_one(&mut conn).await.expect("operator SQL answers")
}

async fn connect(url: &str) -> PgConnection {
    let options = connect_options(url).expect("a valid database URL");
    PgConnection::connect_with(&options).await.expect("connect to the test database")
}
