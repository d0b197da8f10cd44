//! Device cookies against Postgres: a login keeps a valid device and records a new one
//! otherwise, a device counts only for its own account, and the devices kept are bounded (per
//! account, and in time by the purge).

use lib_core::{Clock, ManualClock};
use lib_model::device::{DEVICE_LIFETIME, DeviceToken};
use lib_model::login::LoginBmc;
use lib_model::session::SessionBmc;
use lib_model::test_support::TestDb;
use lib_model::user::{NewPwd, UserBmc, Username};
use lib_model::{Error, ModelManager};
use std::sync::Arc;
use std::time::Duration;

const PWD: &str = "a good password";

fn with_clock(db: &TestDb) -> (ModelManager, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new());
    let mut config = db.config();
    config.login_fails_per_user = 3;
    config.pwd_work_per_user = 1000;
    (db.mm_with(&config, clock.clone() as Arc<dyn Clock>), clock)
}

async fn signup(mm: &ModelManager, name: &str) -> i64 {
    UserBmc::create(mm, &Username::parse(name).unwrap(), &NewPwd::parse("pwd", PWD).unwrap()).await.unwrap()
}

/// Logs in with the right password from `device`; answers the device token to keep.
async fn login(mm: &ModelManager, name: &str, device: Option<&str>) -> String {
    let logged_in = LoginBmc::login_on_device(mm, name, PWD, None, device).await.expect("login");
    assert_eq!(logged_in.device.max_age, DEVICE_LIFETIME);
    logged_in.device.token.as_str().to_string()
}

async fn devices_of(pool: &sqlx::PgPool, user_id: i64) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM device WHERE user_id = $1").bind(user_id).fetch_one(pool).await.unwrap()
}

#[tokio::test]
async fn a_login_keeps_a_valid_device_and_records_a_new_one_otherwise() {
    let db = TestDb::new().await;
    let (mm, _clock) = with_clock(&db);
    let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
    let alice = signup(&mm, "alice").await;
    let bob = signup(&mm, "bob").await;

    let first = login(&mm, "alice", None).await;
    assert_eq!(login(&mm, "alice", Some(&first)).await, first, "kept");
    let made_up = DeviceToken::generate();
    for other in [made_up.as_str(), "", "not a token"] {
        assert_ne!(login(&mm, "alice", Some(other)).await, first, "{other:?}");
    }
    assert_eq!(devices_of(&pool, alice).await, 4, "the first and one for each login without a valid device");
    // Only a hash is stored.
    let stored: Vec<Vec<u8>> = sqlx::query_scalar("SELECT token_hash FROM device").fetch_all(&pool).await.unwrap();
    assert!(stored.iter().all(|hash| hash.len() == 32 && hash.as_slice() != first.as_bytes()));

    let bobs = login(&mm, "bob", Some(&first)).await;
    assert_ne!(bobs, first, "alice's device is not bob's");
    assert_eq!(devices_of(&pool, bob).await, 1);
}

#[tokio::test]
async fn a_device_is_throttled_by_its_own_failures_only() {
    let db = TestDb::new().await;
    let (mm, clock) = with_clock(&db);
    signup(&mm, "alice").await;
    let device = login(&mm, "alice", None).await;
    let attempt = |pwd: &'static str, device: Option<String>| {
        let mm = mm.clone();
        async move { LoginBmc::login_on_device(&mm, "alice", pwd, None, device.as_deref()).await }
    };
    for _ in 0..3 {
        assert!(matches!(attempt("wrong password", None).await, Err(Error::LoginFailed)));
    }
    assert!(matches!(attempt(PWD, None).await, Err(Error::TooManyAttempts { .. })), "the name is locked");
    assert!(attempt(PWD, Some(device.clone())).await.is_ok(), "the device is not");

    for _ in 0..3 {
        assert!(matches!(attempt("wrong password", Some(device.clone())).await, Err(Error::LoginFailed)));
    }
    assert!(matches!(attempt(PWD, Some(device.clone())).await, Err(Error::TooManyAttempts { .. })));
    clock.advance(Duration::from_secs(900));
    assert!(attempt(PWD, Some(device)).await.is_ok(), "both windows have passed");
}

#[tokio::test]
async fn an_account_keeps_its_twenty_most_recently_used_devices() {
    let db = TestDb::new().await;
    let (mm, clock) = with_clock(&db);
    let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
    let alice = signup(&mm, "alice").await;
    let first = login(&mm, "alice", None).await;
    clock.advance(Duration::from_secs(1));
    let second = login(&mm, "alice", None).await;
    for i in 0..23 {
        clock.advance(Duration::from_secs(1));
        if i == 10 {
            assert_eq!(login(&mm, "alice", Some(&first)).await, first, "used again: among the most recent");
        }
        login(&mm, "alice", None).await;
    }
    assert_eq!(devices_of(&pool, alice).await, 20);
    assert_eq!(login(&mm, "alice", Some(&first)).await, first);
    assert_ne!(login(&mm, "alice", Some(&second)).await, second, "the least recently used went");
}

#[tokio::test]
async fn devices_unused_for_their_lifetime_are_invalid_and_purged() {
    let db = TestDb::new().await;
    let (mm, clock) = with_clock(&db);
    let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
    let alice = signup(&mm, "alice").await;
    let old = login(&mm, "alice", None).await;
    clock.advance(DEVICE_LIFETIME - Duration::from_secs(1));
    let recent = login(&mm, "alice", None).await;
    clock.advance(Duration::from_secs(1));
    SessionBmc::purge_expired(&mm).await.unwrap();
    assert_eq!(devices_of(&pool, alice).await, 1, "the device unused for a year went, the recent one stays");
    assert_ne!(login(&mm, "alice", Some(&old)).await, old, "a year unused: no longer valid");
    assert_eq!(login(&mm, "alice", Some(&recent)).await, recent);
}
