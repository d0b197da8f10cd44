//! Accounts against Postgres: sign-up, login, throttling, re-hash, sessions and their expiry
//! (moved by an injected clock, not by sleeping).

use lib_auth::{PwdHasher, Scheme};
use lib_core::{Clock, ManualClock};
use lib_model::login::LoginBmc;
use lib_model::session::SessionBmc;
use lib_model::test_support::TestDb;
use lib_model::user::{NewPwd, UserBmc, Username};
use lib_model::{Error, ModelManager};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

async fn signup(mm: &ModelManager, name: &str, pwd: &str) -> i64 {
    UserBmc::create(mm, &Username::parse(name).unwrap(), &NewPwd::parse("pwd", pwd).unwrap()).await.unwrap()
}

fn with_clock(db: &TestDb) -> (ModelManager, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new());
    let mut config = db.config();
    config.session_idle = Duration::from_secs(600);
    config.session_max = Duration::from_secs(3600);
    config.login_fails_per_user = 3;
    config.login_fails_per_addr = 5;
    config.login_window = Duration::from_secs(900);
    (db.mm_with(&config, clock.clone() as Arc<dyn Clock>), clock)
}

#[tokio::test]
async fn usernames_are_unique_whatever_their_case() {
    let db = TestDb::new().await;
    let mm = db.mm();
    signup(&mm, "Alice", "a good password").await;
    let again =
        UserBmc::create(&mm, &Username::parse("aLICE").unwrap(), &NewPwd::parse("pwd", "another one").unwrap()).await;
    assert!(matches!(again, Err(Error::UsernameTaken)), "{again:?}");
}

#[tokio::test]
async fn login_accepts_any_case_of_the_name_and_refuses_wrong_passwords_alike() {
    let db = TestDb::new().await;
    let mm = db.mm();
    let id = signup(&mm, "Alice", "a good password").await;
    assert_eq!(LoginBmc::login(&mm, "alice", "a good password", None).await.unwrap().user_id, id);
    assert!(matches!(LoginBmc::login(&mm, "alice", "wrong password", None).await, Err(Error::LoginFailed)));
    assert!(matches!(LoginBmc::login(&mm, "nobody", "a good password", None).await, Err(Error::LoginFailed)));
    assert!(matches!(LoginBmc::login(&mm, "nul\u{0}name", "x", None).await, Err(Error::LoginFailed)));
}

#[tokio::test]
async fn failures_past_the_threshold_lock_out_even_the_right_password_until_the_window_passes() {
    let db = TestDb::new().await;
    let (mm, clock) = with_clock(&db);
    signup(&mm, "alice", "a good password").await;
    for _ in 0..3 {
        assert!(matches!(LoginBmc::login(&mm, "alice", "wrong password", None).await, Err(Error::LoginFailed)));
    }
    match LoginBmc::login(&mm, "ALICE", "a good password", None).await {
        Err(Error::TooManyAttempts { retry_after }) => assert!(retry_after <= Duration::from_secs(900)),
        other => panic!("expected TooManyAttempts, got {other:?}"),
    }
    clock.advance(Duration::from_secs(901));
    assert!(LoginBmc::login(&mm, "alice", "a good password", None).await.is_ok());
}

#[tokio::test]
async fn failures_from_one_address_across_usernames_are_throttled() {
    let db = TestDb::new().await;
    let (mm, _clock) = with_clock(&db);
    signup(&mm, "victim", "a good password").await;
    let addr: IpAddr = "203.0.113.7".parse().unwrap();
    for i in 0..5 {
        let result = LoginBmc::login(&mm, &format!("guess{i}"), "wrong password", Some(addr)).await;
        assert!(matches!(result, Err(Error::LoginFailed)));
    }
    let blocked = LoginBmc::login(&mm, "victim", "a good password", Some(addr)).await;
    assert!(matches!(blocked, Err(Error::TooManyAttempts { .. })), "{blocked:?}");
    let other_addr: IpAddr = "198.51.100.1".parse().unwrap();
    assert!(LoginBmc::login(&mm, "victim", "a good password", Some(other_addr)).await.is_ok());
}

#[tokio::test]
async fn an_outdated_hash_is_replaced_at_the_next_login() {
    let db = TestDb::new().await;
    let config = db.config();
    let mm = db.mm();
    let id = signup(&mm, "alice", "a good password").await;
    let old = PwdHasher::new(config.pwd_key.clone()).hash_with(Scheme::Argon2idLight01, "a good password").unwrap();
    let stored = |pool: sqlx::PgPool| async move {
        sqlx::query_scalar::<_, String>(r#"SELECT pwd FROM "user" WHERE id = $1"#)
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
    sqlx::query(r#"UPDATE "user" SET pwd = $1 WHERE id = $2"#).bind(&old).bind(id).execute(&pool).await.unwrap();

    assert_eq!(LoginBmc::login(&mm, "alice", "a good password", None).await.unwrap().user_id, id);
    let upgraded = stored(pool.clone()).await;
    assert!(upgraded.starts_with("#02#$argon2id$v=19$m=19456,t=2,p=1$"), "{upgraded}");
    assert!(LoginBmc::login(&mm, "alice", "a good password", None).await.is_ok());
}

#[tokio::test]
async fn sessions_resolve_until_idle_or_absolute_expiry_and_activity_extends_idle() {
    let db = TestDb::new().await;
    let (mm, clock) = with_clock(&db);
    let id = signup(&mm, "alice", "a good password").await;
    let session = SessionBmc::create(&mm, id).await.unwrap();
    let token = session.token.as_str().to_string();
    assert_eq!(session.max_age, Duration::from_secs(3600));
    assert_eq!(SessionBmc::resolve(&mm, &token).await.unwrap().map(|c| c.user_id()), Some(id));

    // Activity every 9 minutes keeps a 10-minute idle session alive ...
    for _ in 0..6 {
        clock.advance(Duration::from_secs(540));
        assert!(SessionBmc::resolve(&mm, &token).await.unwrap().is_some());
    }
    // ... but not past the absolute hour.
    clock.advance(Duration::from_secs(540));
    assert!(SessionBmc::resolve(&mm, &token).await.unwrap().is_none());

    let idle = SessionBmc::create(&mm, id).await.unwrap();
    clock.advance(Duration::from_secs(601));
    assert!(SessionBmc::resolve(&mm, idle.token.as_str()).await.unwrap().is_none());
}

#[tokio::test]
async fn made_up_malformed_and_logged_off_tokens_resolve_to_nothing() {
    let db = TestDb::new().await;
    let mm = db.mm();
    let id = signup(&mm, "alice", "a good password").await;
    let session = SessionBmc::create(&mm, id).await.unwrap();
    let made_up = lib_auth::SessionToken::generate();
    assert!(SessionBmc::resolve(&mm, made_up.as_str()).await.unwrap().is_none());
    assert!(SessionBmc::resolve(&mm, "not a token").await.unwrap().is_none());
    assert!(SessionBmc::resolve(&mm, "").await.unwrap().is_none());
    SessionBmc::delete(&mm, session.token.as_str()).await.unwrap();
    assert!(SessionBmc::resolve(&mm, session.token.as_str()).await.unwrap().is_none());
}

#[tokio::test]
async fn changing_the_password_ends_every_session_and_starts_a_new_one() {
    let db = TestDb::new().await;
    let mm = db.mm();
    let id = signup(&mm, "alice", "a good password").await;
    let current = SessionBmc::create(&mm, id).await.unwrap();
    let other = SessionBmc::create(&mm, id).await.unwrap();
    let ctx = SessionBmc::resolve(&mm, current.token.as_str()).await.unwrap().unwrap();

    let wrong = UserBmc::change_pwd(&ctx, &mm, "not it", &NewPwd::parse("new_pwd", "a new password").unwrap()).await;
    assert!(matches!(&wrong, Err(Error::InvalidInput(invalid)) if invalid.field == "old_pwd"), "{wrong:?}");
    assert!(SessionBmc::resolve(&mm, other.token.as_str()).await.unwrap().is_some());

    let replaced =
        UserBmc::change_pwd(&ctx, &mm, "a good password", &NewPwd::parse("new_pwd", "a new password").unwrap())
            .await
            .unwrap();
    assert!(SessionBmc::resolve(&mm, current.token.as_str()).await.unwrap().is_none());
    assert!(SessionBmc::resolve(&mm, other.token.as_str()).await.unwrap().is_none());
    let renewed = SessionBmc::resolve(&mm, replaced.token.as_str()).await.unwrap().unwrap();
    assert_eq!(renewed.user_id(), id);
    assert!(matches!(LoginBmc::login(&mm, "alice", "a good password", None).await, Err(Error::LoginFailed)));
    assert_eq!(LoginBmc::login(&mm, "alice", "a new password", None).await.unwrap().user_id, id);
}

#[tokio::test]
async fn wrong_old_passwords_are_throttled_like_failed_logins() {
    let db = TestDb::new().await;
    let (mm, clock) = with_clock(&db);
    let id = signup(&mm, "alice", "a good password").await;
    let session = SessionBmc::create(&mm, id).await.unwrap();
    let ctx = SessionBmc::resolve(&mm, session.token.as_str()).await.unwrap().unwrap();
    let new_pwd = NewPwd::parse("new_pwd", "a new password").unwrap();
    for _ in 0..3 {
        let wrong = UserBmc::change_pwd(&ctx, &mm, "a guess", &new_pwd).await;
        assert!(matches!(wrong, Err(Error::InvalidInput { .. })), "{wrong:?}");
    }
    let throttled = UserBmc::change_pwd(&ctx, &mm, "a good password", &new_pwd).await;
    assert!(matches!(throttled, Err(Error::TooManyAttempts { .. })), "{throttled:?}");
    clock.advance(Duration::from_secs(901));
    UserBmc::change_pwd(&ctx, &mm, "a good password", &new_pwd).await.unwrap();
}

#[tokio::test]
async fn concurrent_guesses_cannot_slip_past_the_limit() {
    let db = TestDb::new().await;
    let (mm, _clock) = with_clock(&db);
    signup(&mm, "alice", "a good password").await;
    let runs_before = mm.argon2_runs();
    let guesses: Vec<_> = (0..20)
        .map(|i| {
            let mm = mm.clone();
            tokio::spawn(async move { LoginBmc::login(&mm, "alice", &format!("guess {i}"), None).await })
        })
        .collect();
    let mut checked = 0;
    for guess in guesses {
        match guess.await.unwrap() {
            Err(Error::LoginFailed) => checked += 1,
            Err(Error::TooManyAttempts { .. }) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(checked, 3, "exactly the limit of guesses reached the password check");
    assert_eq!(mm.argon2_runs() - runs_before, 3, "and the throttled ones cost no argon2 run");
}

#[tokio::test]
async fn absurdly_long_usernames_fail_like_any_unknown_user() {
    let db = TestDb::new().await;
    let mm = db.mm();
    let long = "x".repeat(10_000);
    assert!(matches!(LoginBmc::login(&mm, &long, "a password", None).await, Err(Error::LoginFailed)));
    assert_eq!(mm.argon2_runs(), 1, "the dummy verification runs for it too");
}

#[tokio::test]
async fn a_login_checked_before_a_password_change_starts_no_session_after_it() {
    let db = TestDb::new().await;
    let mm = db.mm();
    let id = signup(&mm, "alice", "a good password").await;
    let old_hash: String = {
        let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
        sqlx::query_scalar(r#"SELECT pwd FROM "user" WHERE id = $1"#).bind(id).fetch_one(&pool).await.unwrap()
    };
    let session = SessionBmc::create(&mm, id).await.unwrap();
    let ctx = SessionBmc::resolve(&mm, session.token.as_str()).await.unwrap().unwrap();
    UserBmc::change_pwd(&ctx, &mm, "a good password", &NewPwd::parse("new_pwd", "a new password").unwrap())
        .await
        .unwrap();
    // What a login that verified the old password just before the change would now try.
    assert!(SessionBmc::create_if_pwd(&mm, id, &old_hash).await.unwrap().is_none());
}
