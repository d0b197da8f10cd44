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
//!
//! A call inside a [`Transaction`](crate::Transaction) leases the transaction's connection
//! instead (no slot: the transaction holds one for all its calls), and gives it back to the
//! transaction when it ends; abandoned mid-statement, it closes it, and the transaction is lost.
//!
//! Through a transaction-pooling PgBouncer, each statement a lease runs outside a transaction is
//! a transaction of its own (see `db.rs`).

use crate::db::StatementConn;
use crate::fair_share::Slot;
use crate::statement_span::{Timed as _, statement_span};
use crate::transaction::TxnConn;
use crate::{Error, Result};
use sqlx::Postgres;
use sqlx::pool::PoolConnection;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tracing::Span;

/// How often Postgres checks, while it runs a statement, whether its client has gone.
pub(crate) const CLIENT_CHECK_INTERVAL: Duration = Duration::from_millis(200);

pub(crate) struct Lease {
    conn: Option<PoolConnection<Postgres>>,
    slot: Option<Slot>,
    /// The transaction the connection belongs to, which gets it back when the lease ends.
    txn: Option<Arc<TxnConn>>,
    /// The `BEGIN` of the transaction each statement runs in, when it needs one of its own.
    own_transaction: Option<Arc<str>>,
    in_flight: bool,
}

impl Lease {
    pub(crate) fn new(conn: PoolConnection<Postgres>, slot: Option<Slot>, own_transaction: Option<Arc<str>>) -> Self {
        Self { conn: Some(conn), slot, txn: None, own_transaction, in_flight: false }
    }

    /// The connection of the transaction `txn`, for one of its calls.
    pub(crate) fn in_transaction(conn: PoolConnection<Postgres>, txn: Arc<TxnConn>) -> Self {
        Self { conn: Some(conn), slot: None, txn: Some(txn), own_transaction: None, in_flight: false }
    }

    /// The connection and the slot, for a lease that outlives this one (a transaction's).
    pub(crate) fn into_parts(mut self) -> (PoolConnection<Postgres>, Option<Slot>) {
        let conn = self.conn.take().expect("a lease holds its connection until it is dropped");
        (conn, self.slot.take())
    }

    /// Starts an explicit transaction with `begin`: the lease's statements from then on are part
    /// of it, not each a transaction of its own.
    pub(crate) async fn begin(&mut self, begin: &Arc<str>) -> Result<()> {
        self.own_transaction = None;
        let begun = self
            .run(statement_span("BEGIN"), |conn| sqlx::raw_sql(sqlx::AssertSqlSafe(begin.clone())).execute(conn))
            .await;
        if begun.is_err() {
            // It may have stopped inside the transaction (a failed `SET LOCAL`): not reusable.
            self.discard();
        }
        begun.map(|_| ())
    }

    /// Closes the connection when the lease ends instead of giving it back: for a connection
    /// whose state is no longer known (a failed `ROLLBACK`).
    pub(crate) fn discard(&mut self) {
        if let Some(conn) = self.conn.as_mut() {
            conn.close_on_drop();
        }
    }

    /// Runs one statement (`|conn| query.fetch_one(conn)`) in its span (`statement_span(&sql)`,
    /// for traces), marking it in flight until it ends.
    pub(crate) async fn run<'c, T, F>(
        &'c mut self,
        span: Span,
        statement: impl FnOnce(StatementConn<'c>) -> F,
    ) -> Result<T>
    where
        F: Future<Output = sqlx::Result<T>> + Send + 'c,
    {
        let Lease { conn, in_flight, txn, own_transaction, .. } = self;
        let conn = conn.as_mut().expect("a lease holds its connection until it is dropped");
        *in_flight = true;
        let answer = statement(StatementConn::new(conn, own_transaction.as_ref())).timed(span).await;
        // Not reached when the caller's future is dropped at the `.await` above.
        *in_flight = false;
        if answer.is_err()
            && let Some(txn) = txn
        {
            txn.mark_failed();
        }
        answer.map_err(Error::from)
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(txn) = self.txn.take()
            && let Some(mut conn) = self.conn.take()
        {
            if self.in_flight {
                // Closed, which ends the transaction in Postgres: its later calls find no connection.
                conn.close_on_drop();
            } else {
                txn.put_back(conn);
            }
            return;
        }
        if !self.in_flight {
            return;
        }
        if let Some(mut conn) = self.conn.take() {
            // sqlx closes it (Terminate, then the socket) instead of waiting for the statement.
            conn.close_on_drop();
        }
        release_once_stopped(self.slot.take());
    }
}

/// Gives `slot` back once Postgres has stopped the statement of a connection just closed: it
/// notices at its next check for a closed client, and until then the statement still counts
/// against its user's share.
pub(crate) fn release_once_stopped(slot: Option<Slot>) {
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn(async move {
            tokio::time::sleep(CLIENT_CHECK_INTERVAL * 2).await;
            drop(slot);
        });
    }
}
