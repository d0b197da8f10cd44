//! The server beside a pooling proxy: what needs a session of its own (the revocation
//! listener's `LISTEN`, the migrations' advisory lock) connects to `DATABASE_LISTEN_URL`, never
//! through the pool's `DATABASE_URL`.

use lib_core::config::Redacted;
use lib_model::test_support::TestDb;

use std::time::Duration;

#[tokio::test]
async fn the_listener_and_the_migrations_use_the_direct_connection() {
    let db = TestDb::empty().await;
    let mut config = db.config();
    config.database_listen_url = Some(Redacted::new(db.url().to_string()));
    // Nothing answers here: whatever still works went through the direct connection.
    config.database_url = Redacted::new("postgres://postgres@127.0.0.1:1/nowhere".to_string());
    config.db_acquire_timeout = Duration::from_millis(300);

    let mm = lib_model::ModelManager::new(&config).expect("a valid configuration");
    // The migrations run over the direct connection; only the data fix after them (through the
    // pool) finds nothing there.
    assert!(mm.migrate().await.is_err());
    let applied = lib_model::operator_sql::execute(db.url(), "UPDATE _sqlx_migrations SET success = success").await;
    assert!(applied > 0, "the migrations were applied over DATABASE_LISTEN_URL");
    tokio::spawn(lib_model::session::run_revocation_listener(mm.clone()));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !mm.revocations_live() {
        assert!(tokio::time::Instant::now() < deadline, "the listener did not connect over DATABASE_LISTEN_URL");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(!mm.ping().await, "the pool itself goes to DATABASE_URL");
}
