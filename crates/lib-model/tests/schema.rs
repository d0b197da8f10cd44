//! Every entity's declaration against the migrated schema: the columns its row struct derives
//! (names, kinds, nullability) are exactly its table's, the fields its inputs write are columns,
//! every check and unique constraint a client's data can trip answers a client error, and every
//! table with the audit columns is declared as an entity. A mismatch fails here, not at run time.

use lib_model::base::{Columns as _, DbBmc, ForCreate, ForUpdate, WriteFields};
use lib_model::filter::{Column, FieldKind};
use lib_model::member::Member;
use lib_model::project::ProjectBmc;
use lib_model::task::TaskBmc;
use lib_model::test_support::{TestDb, constraint_is_mapped};
use sqlx::PgPool;
use std::collections::BTreeSet;

/// (column, Postgres type, nullable), as `information_schema` names them.
type SchemaColumn = (String, String, bool);

async fn table_columns(pool: &PgPool, table: &str) -> BTreeSet<SchemaColumn> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns
         WHERE table_schema = current_schema() AND table_name = $1",
    )
    .bind(table)
    .fetch_all(pool)
    .await
    .unwrap();
    rows.into_iter().map(|(name, ty, nullable)| (name, ty, nullable == "YES")).collect()
}

fn postgres_type(kind: FieldKind) -> &'static str {
    match kind {
        FieldKind::Int => "bigint",
        FieldKind::Text => "text",
        FieldKind::Bool => "boolean",
        FieldKind::Time => "timestamp with time zone",
    }
}

/// The table's columns as `columns` declares them; computed columns are no table's.
fn declared(columns: &[Column]) -> BTreeSet<SchemaColumn> {
    let stored = columns.iter().filter(|c| !c.computed);
    let declared: BTreeSet<SchemaColumn> =
        stored.clone().map(|c| (c.name.to_string(), postgres_type(c.kind).to_string(), c.nullable)).collect();
    assert_eq!(declared.len(), stored.count(), "a column is declared twice");
    declared
}

async fn assert_declared_as_migrated<B: DbBmc>(pool: &PgPool) {
    assert_eq!(declared(B::COLUMNS), table_columns(pool, B::TABLE).await, "{}: declared vs migrated", B::ENTITY);
    for field in ForCreate::<B>::FIELDS.iter().chain(ForUpdate::<B>::FIELDS) {
        assert!(B::COLUMNS.iter().any(|c| c.name == *field), "{}: input field {field} is no column", B::ENTITY);
    }
    // A foreign key to the parent is the parent guard's (`Parent`); the primary key's values are
    // the server's own.
    let constraints: Vec<String> = sqlx::query_scalar(
        "SELECT conname::text FROM pg_constraint
         WHERE conrelid = $1::regclass AND contype IN ('c', 'u') ORDER BY conname",
    )
    .bind(B::TABLE)
    .fetch_all(pool)
    .await
    .unwrap();
    for constraint in constraints {
        assert!(
            constraint_is_mapped(&constraint),
            "{}: a write that trips {constraint} would answer Internal; map it in constraint_error",
            B::ENTITY
        );
    }
}

#[tokio::test]
async fn every_entity_is_declared_as_its_table_is_migrated() {
    let db = TestDb::new().await;
    let pool = PgPool::connect(db.url()).await.unwrap();
    assert_declared_as_migrated::<ProjectBmc>(&pool).await;
    assert_declared_as_migrated::<TaskBmc>(&pool).await;
    // Memberships are no entity of the generic CRUD (their key is a pair), but their row is
    // declared all the same, for the member methods.
    assert_eq!(declared(Member::COLUMNS), table_columns(&pool, "project_member").await, "member: declared vs migrated");

    // A table with the audit columns is an entity: it must be among those checked above.
    let audited: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.columns
         WHERE table_schema = current_schema() AND column_name IN ('cid', 'ctime', 'mid', 'mtime')
         GROUP BY table_name HAVING count(*) = 4 ORDER BY table_name",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(audited, [ProjectBmc::TABLE, "project_member", TaskBmc::TABLE]);
}

/// What the RPC layer refuses by name in `data`: the columns neither input writes.
fn server_owned<B: DbBmc>() -> Vec<&'static str> {
    B::COLUMNS.iter().filter_map(|c| lib_model::base::server_owned::<B>(c.name)).collect()
}

#[test]
fn the_server_owned_fields_are_the_columns_no_input_writes() {
    assert_eq!(server_owned::<ProjectBmc>(), ["id", "owner_id", "role", "cid", "ctime", "mid", "mtime"]);
    assert_eq!(server_owned::<TaskBmc>(), ["id", "cid", "ctime", "mid", "mtime"]);
    assert_eq!(lib_model::base::server_owned::<TaskBmc>("colour"), None, "not a column at all");
}
