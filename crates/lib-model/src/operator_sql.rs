//! What an operator runs by hand with `psql`, for black-box tests that need it (deleting a
//! user's row, a session's row, counting rows) without a database driver of their own.
//! Only with the `test-support` feature; nothing in the server calls it.

use crate::db::connect_options;
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

/// A table locked against every other session (`ACCESS EXCLUSIVE`), so that any statement
/// touching it waits: a statement that runs as long as a test needs. Released on drop.
pub struct TableLock {
    _conn: PgConnection,
}

/// Locks `table` in a transaction of its own on the database at `url`.
pub async fn lock_table(url: &str, table: &str) -> TableLock {
    let mut conn = connect(url).await;
    sqlx::query("BEGIN").execute(&mut conn).await.expect("begin");
    let lock = format!(r#"LOCK TABLE "{}" IN ACCESS EXCLUSIVE MODE"#, table.replace('"', ""));
    sqlx::query(AssertSqlSafe(lock)).execute(&mut conn).await.expect("lock the table");
    TableLock { _conn: conn }
}

/// How many statements of other sessions are running (or waiting) on `table` right now.
pub async fn statements_on(url: &str, table: &str) -> i64 {
    let sql = format!(
        r#"SELECT count(*) FROM pg_stat_activity
           WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active'
             AND query LIKE '%FROM "{}"%'"#,
        table.replace(['"', '\'', '%', '_'], "")
    );
    fetch_i64(url, &sql).await
}
