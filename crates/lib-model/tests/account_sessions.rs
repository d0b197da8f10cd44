//! Sessions end with their row: every deletion is announced on the revocation channel, whatever
//! made it, and a request whose user is gone is told its session has ended.

use lib_model::project::{ProjectBmc, ProjectForCreate};
use lib_model::session::SessionBmc;
use lib_model::test_support::TestDb;
use lib_model::user::{NewPwd, UserBmc, Username};
use lib_model::{Ctx, Error, ModelManager};
use sqlx::postgres::PgListener;
use std::collections::BTreeSet;
use std::time::Duration;

async fn signup(mm: &ModelManager, name: &str) -> i64 {
    UserBmc::create(mm, &Username::parse(name).unwrap(), &NewPwd::parse("pwd", "a good password").unwrap())
        .await
        .unwrap()
}

async fn listen(db: &TestDb) -> PgListener {
    let mut listener = PgListener::connect(db.url()).await.unwrap();
    listener.listen("session_revoked").await.unwrap();
    listener
}

/// The next `n` payloads on the channel (each arrives well within the timeout once committed).
async fn announced(listener: &mut PgListener, n: usize) -> BTreeSet<String> {
    let mut payloads = BTreeSet::new();
    while payloads.len() < n {
        let next = tokio::time::timeout(Duration::from_secs(5), listener.recv()).await;
        payloads.insert(next.expect("an announcement").unwrap().payload().to_string());
    }
    payloads
}

async fn session_id(mm: &ModelManager, user_id: i64) -> i64 {
    let session = SessionBmc::create(mm, user_id).await.unwrap();
    SessionBmc::resolve(mm, session.token.as_str()).await.unwrap().unwrap().session_id().unwrap()
}

#[tokio::test]
async fn sessions_deleted_with_their_user_are_announced() {
    let db = TestDb::new().await;
    let mm = db.mm();
    let alice = signup(&mm, "alice").await;
    let bob = signup(&mm, "bob").await;
    let gone = BTreeSet::from([session_id(&mm, alice).await.to_string(), session_id(&mm, alice).await.to_string()]);
    session_id(&mm, bob).await;
    let mut listener = listen(&db).await;

    let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
    sqlx::query(r#"DELETE FROM "user" WHERE id = $1"#).bind(alice).execute(&pool).await.unwrap();
    assert_eq!(announced(&mut listener, 2).await, gone);
}

#[tokio::test]
async fn an_operators_delete_and_truncate_are_announced_and_a_rollback_is_not() {
    let db = TestDb::new().await;
    let mm = db.mm();
    let alice = signup(&mm, "alice").await;
    let first = session_id(&mm, alice).await;
    let second = session_id(&mm, alice).await;
    let mut listener = listen(&db).await;
    let pool = sqlx::PgPool::connect(db.url()).await.unwrap();

    let mut tx = pool.begin().await.unwrap();
    sqlx::query("DELETE FROM session WHERE id = $1").bind(second).execute(&mut *tx).await.unwrap();
    tx.rollback().await.unwrap();
    sqlx::query("DELETE FROM session WHERE id = $1").bind(first).execute(&pool).await.unwrap();
    assert_eq!(announced(&mut listener, 1).await, BTreeSet::from([first.to_string()]), "not the rolled-back one");

    sqlx::query("TRUNCATE session").execute(&pool).await.unwrap();
    assert_eq!(announced(&mut listener, 1).await, BTreeSet::from(["*".to_string()]));
}

#[tokio::test]
async fn a_request_whose_user_is_gone_is_told_its_session_ended() {
    let db = TestDb::new().await;
    let mm = db.mm();
    let alice = signup(&mm, "alice").await;
    let ctx = Ctx::new(alice, session_id(&mm, alice).await);
    let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
    sqlx::query(r#"DELETE FROM "user" WHERE id = $1"#).bind(alice).execute(&pool).await.unwrap();

    // What a request that resolved its session just before the deletion goes on to do.
    assert!(matches!(UserBmc::get_info(&ctx, &mm).await, Err(Error::SessionEnded)));
    let created = ProjectBmc::create(&ctx, &mm, ProjectForCreate { name: "after".into() }).await;
    assert!(matches!(created, Err(Error::SessionEnded)), "{created:?}");
    let new_pwd = NewPwd::parse("new_pwd", "a new password").unwrap();
    let changed = UserBmc::change_pwd(&ctx, &mm, "a good password", &new_pwd).await;
    assert!(matches!(changed, Err(Error::SessionEnded)), "{changed:?}");
}

#[tokio::test]
async fn a_password_change_through_a_session_that_ended_meanwhile_changes_nothing() {
    let db = TestDb::new().await;
    let mm = db.mm();
    let alice = signup(&mm, "alice").await;
    let session = SessionBmc::create(&mm, alice).await.unwrap();
    let ctx = SessionBmc::resolve(&mm, session.token.as_str()).await.unwrap().unwrap();
    let other = SessionBmc::create(&mm, alice).await.unwrap();
    // Logged off elsewhere (the stolen copy was revoked) after the request was let in.
    SessionBmc::delete(&mm, session.token.as_str()).await.unwrap();

    let new_pwd = NewPwd::parse("new_pwd", "a new password").unwrap();
    let changed = UserBmc::change_pwd(&ctx, &mm, "a good password", &new_pwd).await;
    assert!(matches!(changed, Err(Error::SessionEnded)), "{changed:?}");
    assert!(SessionBmc::resolve(&mm, other.token.as_str()).await.unwrap().is_some(), "nothing was rolled forward");
    let login = lib_model::login::LoginBmc::login(&mm, "alice", "a good password", None).await;
    assert!(login.is_ok(), "the old password still holds: {login:?}");
}
