//! Usernames against Postgres: stored normalised, refused when they look like a taken one, and
//! accounts made under the older rules (names stored as typed) still log in.

use lib_auth::PwdHasher;
use lib_model::login::LoginBmc;
use lib_model::test_support::TestDb;
use lib_model::user::{NewPwd, UserBmc, Username};
use lib_model::{Error, ModelManager};

const PWD: &str = "a good password";

async fn signup(mm: &ModelManager, name: &str) -> lib_model::Result<i64> {
    UserBmc::create(mm, &Username::parse(name)?, &NewPwd::parse("pwd", PWD).unwrap()).await
}

/// Inserts a row as the older code did: the name as typed, no skeleton.
async fn legacy_row(db: &TestDb, pool: &sqlx::PgPool, name: &str) -> i64 {
    let hash = PwdHasher::new(db.config().pwd_key.clone()).hash(PWD).unwrap();
    sqlx::query_scalar(r#"INSERT INTO "user" (username, pwd) VALUES ($1, $2) RETURNING id"#)
        .bind(name)
        .bind(hash)
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn stored(pool: &sqlx::PgPool, id: i64) -> (String, Option<String>) {
    sqlx::query_as(r#"SELECT username, username_skeleton FROM "user" WHERE id = $1"#)
        .bind(id)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn new_names_are_stored_in_their_normalised_form_and_log_in_in_any_width_or_case() {
    let db = TestDb::new().await;
    let mm = db.mm();
    let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
    let id = signup(&mm, "ＡＬＩＣＥ").await.unwrap();
    assert_eq!(stored(&pool, id).await, ("alice".to_string(), Some("alice".to_string())));
    for typed in ["alice", "Alice", "ａｌｉｃｅ"] {
        assert_eq!(LoginBmc::login(&mm, typed, PWD, None).await.unwrap().user_id, id, "{typed}");
    }
    assert!(matches!(signup(&mm, "ALICE").await, Err(Error::UsernameTaken)));
}

#[tokio::test]
async fn a_name_that_looks_like_a_taken_one_is_taken() {
    let db = TestDb::new().await;
    let mm = db.mm();
    signup(&mm, "paypal").await.unwrap();
    // All Cyrillic (р а у р а ӏ): one script, so only the skeleton can tell.
    assert!(matches!(signup(&mm, "раураӏ").await, Err(Error::UsernameTaken)));
    // Cyrillic letters with a Latin l: refused for mixing scripts before any lookup.
    assert!(matches!(signup(&mm, "раураl").await, Err(Error::InvalidInput { .. })));
    assert!(signup(&mm, "paypa").await.is_ok(), "a different name is not taken");
}

#[tokio::test]
async fn accounts_made_under_the_old_rules_still_log_in_and_guard_their_look_alikes() {
    let db = TestDb::new().await;
    let mm = db.mm();
    let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
    let mixed_case = legacy_row(&db, &pool, "OldTimer").await;
    let invisible = legacy_row(&db, &pool, "ab\u{200b}cd").await;
    let first = legacy_row(&db, &pool, "Paypal").await;
    let look_alike = legacy_row(&db, &pool, "раураӏ").await;

    // What a start does after migrating: skeletons for the rows that have none.
    mm.migrate().await.unwrap();
    assert_eq!(stored(&pool, mixed_case).await, ("OldTimer".to_string(), Some("oldtirner".to_string())));
    assert_eq!(stored(&pool, first).await.1.as_deref(), Some("paypal"));
    assert_eq!(stored(&pool, look_alike).await.1, None, "a collision leaves the younger row without a skeleton");

    for (typed, id) in
        [("OldTimer", mixed_case), ("oldtimer", mixed_case), ("ab\u{200b}cd", invisible), ("раураӏ", look_alike)]
    {
        assert_eq!(LoginBmc::login(&mm, typed, PWD, None).await.unwrap().user_id, id, "{typed:?}");
    }
    assert!(matches!(LoginBmc::login(&mm, "abcd", PWD, None).await, Err(Error::LoginFailed)));
    assert!(matches!(signup(&mm, "oldtimer").await, Err(Error::UsernameTaken)));
    assert!(matches!(signup(&mm, "PayPal").await, Err(Error::UsernameTaken)));
}
