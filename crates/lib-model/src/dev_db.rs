//! Development database chores: create the database if missing, recreate it on request, seed
//! the demo user. Nothing here runs in production: the binary checks `APP_ENV` first.

use crate::db::connect_options;
use crate::user::{UserBmc, Username};
use crate::{Error, ModelManager, Result};
use sqlx::{AssertSqlSafe, Connection as _, PgConnection};

const DEMO_USERNAME: &str = "demo1";
const DEMO_PWD: &str = "welcome";

/// Creates the database named in `url` when it does not exist yet; answers whether it did.
pub async fn create_database_if_missing(url: &str) -> Result<bool> {
    let (mut admin, name) = admin_connection(url).await?;
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(&name)
        .fetch_one(&mut admin)
        .await?;
    if exists {
        return Ok(false);
    }
    let create = sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {}", quote_ident(&name))));
    match create.execute(&mut admin).await {
        Ok(_) => Ok(true),
        // Another server starting at the same moment created it first: 42P04 once its CREATE
        // committed, a unique violation on the catalogue while it was still in flight.
        Err(sqlx::Error::Database(e))
            if e.code().as_deref() == Some("42P04") || e.constraint() == Some("pg_database_datname_index") =>
        {
            Ok(false)
        }
        Err(error) => Err(error.into()),
    }
}

/// Drops the database named in `url` (ending its connections) and creates it empty.
pub async fn recreate_database(url: &str) -> Result<()> {
    let (mut admin, name) = admin_connection(url).await?;
    let name = quote_ident(&name);
    sqlx::raw_sql(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))).execute(&mut admin).await?;
    sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut admin).await?;
    Ok(())
}

/// Creates `demo1` / `welcome` and a little demo data when the database has no user; answers
/// whether it seeded.
pub async fn seed_if_empty(mm: &ModelManager) -> Result<bool> {
    let has_users: bool = sqlx::query_scalar(r#"SELECT EXISTS (SELECT 1 FROM "user")"#).fetch_one(mm.db()).await?;
    if has_users {
        return Ok(false);
    }
    match UserBmc::insert(mm, &Username::parse(DEMO_USERNAME)?, DEMO_PWD.to_string()).await {
        Ok(_) => {}
        // Another server starting at the same moment seeded it first.
        Err(Error::UsernameTaken) => return Ok(false),
        Err(error) => return Err(error),
    }
    sqlx::raw_sql(include_str!("../../../sql/dev/seed.sql")).execute(mm.db()).await?;
    Ok(true)
}

/// A connection to the server's `postgres` database, and the name of the database in `url`.
pub(crate) async fn admin_connection(url: &str) -> Result<(PgConnection, String)> {
    let options = connect_options(url)?;
    let name = options.get_database().unwrap_or("postgres").to_string();
    let admin = PgConnection::connect_with(&options.database("postgres")).await.map_err(Error::from_db)?;
    Ok((admin, name))
}

/// Quotes a Postgres identifier (the database name comes from configuration, not from clients).
pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
