//! Helpers for the tests of `transaction`.

use super::{Api, TestApp};
use lib_model::operator_sql::fetch_i64;
use serde_json::{Value, json};

pub fn call(method: &str, params: Value) -> Value {
    json!({"method": method, "params": params})
}

pub async fn transaction(api: &Api, calls: Vec<Value>) -> Value {
    api.rpc("transaction", json!({"calls": calls})).await
}

/// Projects in the database but the development seed's (demo1's).
pub async fn projects_in_db(app: &TestApp) -> i64 {
    let sql = r#"SELECT count(*) FROM project WHERE owner_id <> (SELECT id FROM "user" WHERE username = 'demo1')"#;
    fetch_i64(app.config.database_url.expose(), sql).await
}
