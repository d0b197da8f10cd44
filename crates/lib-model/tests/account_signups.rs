//! The signup limit per client address against Postgres: counted before the hash (concurrent
//! signups cannot slip past it), nothing written once blocked, and its window kept by the purge
//! even where it outlives the login window.

use lib_core::{Clock, ManualClock};
use lib_model::session::SessionBmc;
use lib_model::test_support::TestDb;
use lib_model::user::{NewPwd, UserBmc, Username};
use lib_model::{Error, ModelManager};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

const SIGNUP_WINDOW: Duration = Duration::from_secs(3600);
const LOGIN_WINDOW: Duration = Duration::from_secs(900);

fn with_limit(db: &TestDb, per_addr: u32) -> (ModelManager, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new());
    let mut config = db.config();
    config.signups_per_addr = per_addr;
    config.signup_window = SIGNUP_WINDOW;
    config.login_window = LOGIN_WINDOW;
    (db.mm_with(&config, clock.clone() as Arc<dyn Clock>), clock)
}

async fn signup(mm: &ModelManager, name: &str, client: IpAddr) -> lib_model::Result<i64> {
    let pwd = NewPwd::parse("pwd", "a good password").unwrap();
    UserBmc::signup(mm, &Username::parse(name).unwrap(), &pwd, Some(client)).await
}

async fn users_and_throttle_rows(pool: &sqlx::PgPool) -> (i64, Vec<(String, i32)>) {
    let users = sqlx::query_scalar(r#"SELECT count(*) FROM "user""#).fetch_one(pool).await.unwrap();
    let rows = sqlx::query_as("SELECT key, failures FROM login_throttle ORDER BY key").fetch_all(pool).await.unwrap();
    (users, rows)
}

#[tokio::test]
async fn concurrent_signups_from_one_address_cannot_slip_past_the_limit() {
    let db = TestDb::new().await;
    let (mm, _clock) = with_limit(&db, 3);
    let addr: IpAddr = "198.51.100.1".parse().unwrap();
    let signups: Vec<_> = (0..8)
        .map(|i| {
            let mm = mm.clone();
            tokio::spawn(async move { signup(&mm, &format!("user{i}"), addr).await })
        })
        .collect();
    let mut made = 0;
    for signup in signups {
        match signup.await.unwrap() {
            Ok(_) => made += 1,
            Err(Error::TooManyAttempts { retry_after }) => assert!(retry_after <= SIGNUP_WINDOW),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(made, 3);
    let other: IpAddr = "198.51.100.2".parse().unwrap();
    assert!(signup(&mm, "elsewhere", other).await.is_ok(), "another address has its own limit");
}

#[tokio::test]
async fn a_taken_name_counts_and_a_blocked_address_writes_nothing() {
    let db = TestDb::new().await;
    let (mm, _clock) = with_limit(&db, 2);
    let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
    let addr: IpAddr = "2001:db8::1".parse().unwrap();
    signup(&mm, "alice", addr).await.unwrap();
    assert!(matches!(signup(&mm, "Alice", addr).await, Err(Error::UsernameTaken)));

    let before = users_and_throttle_rows(&pool).await;
    assert_eq!(before.1, [("signup:2001:db8::/64".to_string(), 2)], "both signups counted");
    // Another address of the same IPv6 /64 is the same client.
    let neighbour: IpAddr = "2001:db8::ffff".parse().unwrap();
    for name in ["bob", "carol", "Alice"] {
        assert!(matches!(signup(&mm, name, neighbour).await, Err(Error::TooManyAttempts { .. })), "{name}");
    }
    assert_eq!(users_and_throttle_rows(&pool).await, before, "no account, no row, no count moved");
}

#[tokio::test]
async fn the_purge_keeps_a_signup_window_that_outlives_the_login_window() {
    let db = TestDb::new().await;
    let (mm, clock) = with_limit(&db, 1);
    let addr: IpAddr = "203.0.113.3".parse().unwrap();
    signup(&mm, "alice", addr).await.unwrap();

    clock.advance(LOGIN_WINDOW * 2);
    SessionBmc::purge_expired(&mm).await.unwrap();
    match signup(&mm, "bob", addr).await {
        Err(Error::TooManyAttempts { retry_after }) => {
            // Postgres keeps microseconds: the stored end may be that much earlier.
            let left = SIGNUP_WINDOW - LOGIN_WINDOW * 2;
            assert!(retry_after <= left && retry_after > left - Duration::from_millis(1), "{retry_after:?}");
        }
        other => panic!("the signup window is still open: {other:?}"),
    }

    clock.advance(SIGNUP_WINDOW - LOGIN_WINDOW * 2);
    SessionBmc::purge_expired(&mm).await.unwrap();
    let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
    assert_eq!(users_and_throttle_rows(&pool).await.1, [], "the passed window was purged");
    assert!(signup(&mm, "bob", addr).await.is_ok());
}
