//! [`Lease`]: the connection a user's call runs its statements on, with the user's slot of the
//! fair share held alongside, and the rule that no statement outlives its request.
//!
//! When a request is abandoned (the client goes, the request timeout fires, the server shuts
//! down) its future is dropped mid-statement. Returned to the pool, the connection would first
//! wait for Postgres to finish that statement, which kept running for minutes. A lease dropped
//! with a statement in flight closes its connection instead: every connection asks Postgres to
//! check for a closed client while it runs a statement (`client_connection_check_interval`,
//! see `store.rs`), so the statement is stopped within that interval. The user's slot stays
//! taken until then: an abandoned statement still counts against its user's share.

use crate::fair_share::Slot;
use crate::{Error, Result};
use sqlx::pool::PoolConnection;
use sqlx::{PgConnection, Postgres};
use std::future::Future;
use std::time::Duration;

/// How often Postgres checks, while it runs a statement, whether its client has gone.
pub(crate) const CLIENT_CHECK_INTERVAL: Duration = Duration::from_millis(200);

pub(crate) struct Lease {
    conn: Option<PoolConnection<Postgres>>,
    slot: Option<Slot>,
    in_flight: bool,
}

impl Lease {
    pub(crate) fn new(conn: PoolConnection<Postgres>, slot: Slot) -> Self {
        Self { conn: Some(conn), slot: Some(slot), in_flight: false }
    }

    /// Runs one statement (`|conn| query.fetch_one(conn)`), marking it in flight until it ends.
    pub(crate) async fn run<'c, T, F>(&'c mut self, statement: impl FnOnce(&'c mut PgConnection) -> F) -> Result<T>
    where
        F: Future<Output = sqlx::Result<T>> + 'c,
    {
        let Lease { conn, in_flight, .. } = self;
        let conn = conn.as_mut().expect("a lease holds its connection until it is dropped");
        *in_flight = true;
        let answer = statement(conn).await;
        // Not reached when the caller's future is dropped at the `.await` above.
        *in_flight = false;
        answer.map_err(Error::from)
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if !self.in_flight {
            return;
        }
        if let Some(mut conn) = self.conn.take() {
            // sqlx closes it (Terminate, then the socket) instead of waiting for the statement.
            conn.close_on_drop();
        }
        let slot = self.slot.take();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                // Postgres notices the closed connection at its next check and stops there.
                tokio::time::sleep(CLIENT_CHECK_INTERVAL * 2).await;
                drop(slot);
            });
        }
    }
}
