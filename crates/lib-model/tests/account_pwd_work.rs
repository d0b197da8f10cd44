//! The password-work budget and the failure throttle against Postgres: work is charged before it
//! runs, a throttled client writes nothing, and a password change is never undone by a stale
//! re-hash.

use lib_core::{Clock, ManualClock};
use lib_model::login::LoginBmc;
use lib_model::session::SessionBmc;
use lib_model::test_support::TestDb;
use lib_model::user::{NewPwd, UserBmc, Username};
use lib_model::{Ctx, Error, ModelManager};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

const PWD: &str = "a good password";

fn small_limits(db: &TestDb, per_user: u32, per_addr: u32) -> (ModelManager, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new());
    let mut config = db.config();
    config.pwd_work_per_user = per_user;
    config.pwd_work_per_addr = per_addr;
    config.pwd_work_window = Duration::from_secs(60);
    config.login_fails_per_user = 3;
    config.login_fails_per_addr = 5;
    (db.mm_with(&config, clock.clone() as Arc<dyn Clock>), clock)
}

async fn signup(mm: &ModelManager, name: &str, client: Option<IpAddr>) -> lib_model::Result<i64> {
    UserBmc::signup(mm, &Username::parse(name).unwrap(), &NewPwd::parse("pwd", PWD).unwrap(), client).await
}

async fn session_ctx(mm: &ModelManager, user_id: i64, addr: IpAddr) -> Ctx {
    let session = SessionBmc::create(mm, user_id).await.unwrap();
    SessionBmc::resolve(mm, session.token.as_str()).await.unwrap().unwrap().with_client_addr(addr)
}

async fn throttle_rows(pool: &sqlx::PgPool) -> Vec<(String, i32)> {
    sqlx::query_as("SELECT key, failures FROM login_throttle ORDER BY key").fetch_all(pool).await.unwrap()
}

#[tokio::test]
async fn a_batch_of_password_changes_is_throttled_past_the_budget_until_the_window_passes() {
    let db = TestDb::new().await;
    let (mm, clock) = small_limits(&db, 6, 100);
    let addr: IpAddr = "203.0.113.9".parse().unwrap();
    let id = signup(&mm, "alice", None).await.unwrap();
    let same = NewPwd::parse("new_pwd", PWD).unwrap();

    // Each change costs two units (the check and the new hash): three fit in six. Each needs a
    // live session, as a client would have one from the previous answer.
    let calls: Vec<_> = (0..10)
        .map(|_| {
            let (mm, same) = (mm.clone(), same.clone());
            tokio::spawn(async move {
                let ctx = session_ctx(&mm, id, addr).await;
                UserBmc::change_pwd(&ctx, &mm, PWD, &same).await
            })
        })
        .collect();
    let mut throttled = 0;
    for call in calls {
        match call.await.unwrap() {
            Err(Error::TooManyAttempts { retry_after }) => {
                assert!(retry_after > Duration::ZERO && retry_after <= Duration::from_secs(60));
                throttled += 1;
            }
            // A concurrent change may have ended this call's session first; it still did the work.
            Ok(_) | Err(Error::SessionEnded) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(throttled, 7, "exactly three changes reached the password check");

    clock.advance(Duration::from_secs(60));
    let ctx = session_ctx(&mm, id, addr).await;
    UserBmc::change_pwd(&ctx, &mm, PWD, &same).await.expect("the window has passed");
}

#[tokio::test]
async fn logins_and_signups_share_the_address_budget_whatever_their_outcome() {
    let db = TestDb::new().await;
    let (mm, _clock) = small_limits(&db, 100, 4);
    let addr: IpAddr = "198.51.100.4".parse().unwrap();
    signup(&mm, "alice", Some(addr)).await.unwrap();
    assert!(LoginBmc::login(&mm, "alice", PWD, Some(addr)).await.is_ok());
    assert!(matches!(LoginBmc::login(&mm, "alice", "wrong password", Some(addr)).await, Err(Error::LoginFailed)));
    assert!(matches!(LoginBmc::login(&mm, "nobody", PWD, Some(addr)).await, Err(Error::LoginFailed)));

    let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
    let users_before: i64 = sqlx::query_scalar(r#"SELECT count(*) FROM "user""#).fetch_one(&pool).await.unwrap();
    assert!(matches!(signup(&mm, "bob", Some(addr)).await, Err(Error::TooManyAttempts { .. })));
    assert!(matches!(LoginBmc::login(&mm, "alice", PWD, Some(addr)).await, Err(Error::TooManyAttempts { .. })));
    let users_after: i64 = sqlx::query_scalar(r#"SELECT count(*) FROM "user""#).fetch_one(&pool).await.unwrap();
    assert_eq!(users_before, users_after);

    let elsewhere: IpAddr = "198.51.100.5".parse().unwrap();
    assert!(LoginBmc::login(&mm, "alice", PWD, Some(elsewhere)).await.is_ok(), "another address has its own");
}

#[tokio::test]
async fn logins_for_one_account_share_its_budget_across_addresses() {
    let db = TestDb::new().await;
    let (mm, _clock) = small_limits(&db, 3, 100);
    signup(&mm, "alice", None).await.unwrap();
    for i in 1..=3 {
        let addr: IpAddr = format!("192.0.2.{i}").parse().unwrap();
        assert!(LoginBmc::login(&mm, "Alice", PWD, Some(addr)).await.is_ok());
    }
    let fourth: IpAddr = "192.0.2.4".parse().unwrap();
    assert!(matches!(LoginBmc::login(&mm, "ALICE", PWD, Some(fourth)).await, Err(Error::TooManyAttempts { .. })));
}

#[tokio::test]
async fn a_blocked_address_trying_new_usernames_writes_no_throttle_rows() {
    let db = TestDb::new().await;
    let (mm, _clock) = small_limits(&db, 100, 100);
    let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
    let addr: IpAddr = "203.0.113.7".parse().unwrap();
    for i in 0..5 {
        let guess = LoginBmc::login(&mm, &format!("guess{i}"), "wrong password", Some(addr)).await;
        assert!(matches!(guess, Err(Error::LoginFailed)), "{guess:?}");
    }
    let before = throttle_rows(&pool).await;
    assert_eq!(before.len(), 6, "five names and the address: {before:?}");

    for i in 5..15 {
        let blocked = LoginBmc::login(&mm, &format!("guess{i}"), "wrong password", Some(addr)).await;
        assert!(matches!(blocked, Err(Error::TooManyAttempts { .. })), "{blocked:?}");
    }
    assert_eq!(throttle_rows(&pool).await, before, "no new rows, no counts moved");
}

#[tokio::test]
async fn a_blocked_username_writes_nothing_for_its_next_attempts() {
    let db = TestDb::new().await;
    let (mm, _clock) = small_limits(&db, 100, 100);
    let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
    signup(&mm, "alice", None).await.unwrap();
    for _ in 0..3 {
        assert!(matches!(LoginBmc::login(&mm, "alice", "wrong password", None).await, Err(Error::LoginFailed)));
    }
    let before = throttle_rows(&pool).await;
    let fresh: IpAddr = "192.0.2.77".parse().unwrap();
    let blocked = LoginBmc::login(&mm, "alice", PWD, Some(fresh)).await;
    assert!(matches!(blocked, Err(Error::TooManyAttempts { .. })), "{blocked:?}");
    assert_eq!(throttle_rows(&pool).await, before, "not even a row for the new address");
}

#[tokio::test]
async fn a_re_hash_over_a_stale_hash_changes_nothing() {
    let db = TestDb::new().await;
    let mm = db.mm();
    let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
    let id = signup(&mm, "alice", None).await.unwrap();
    let current = || async {
        sqlx::query_scalar::<_, String>(r#"SELECT pwd FROM "user" WHERE id = $1"#)
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    let verified = current().await;
    // A password change lands between a login's verification and its re-hash.
    let ctx = session_ctx(&mm, id, "192.0.2.1".parse().unwrap()).await;
    UserBmc::change_pwd(&ctx, &mm, PWD, &NewPwd::parse("new_pwd", "a new password").unwrap()).await.unwrap();
    let changed = current().await;

    assert!(!UserBmc::set_pwd_hash(&mm, id, &verified, "#02#what the login computed").await.unwrap());
    assert_eq!(current().await, changed, "the new password stays");
    assert!(LoginBmc::login(&mm, "alice", "a new password", None).await.is_ok());
    assert!(UserBmc::set_pwd_hash(&mm, id, &changed, &verified).await.unwrap(), "the current hash is replaced");
}
