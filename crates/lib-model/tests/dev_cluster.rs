//! What a developer is told when the database at the default address cannot be used: the
//! server answers, but not to the development default's role.

use lib_model::dev_cluster::{SetupError, resolve};
use lib_model::test_support::TestDb;

#[tokio::test]
async fn a_missing_role_is_named_with_the_fix() {
    // The tests' own server (the machine's, or the private cluster), asked for a role it lacks.
    let db = TestDb::new().await;
    let (_, at) = db.url().split_once('@').expect("user@host in the URL");
    let url = format!("postgres://no_such_role:welcome@{at}");
    match resolve(&url).await {
        Err(error @ SetupError::MissingRole { .. }) => {
            let message = error.to_string();
            assert!(message.contains("no role `no_such_role`") && message.contains("DATABASE_URL"), "{message}");
        }
        other => panic!("expected MissingRole, got {other:?}"),
    }
}
