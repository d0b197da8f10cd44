//! [`Transaction`]: several model calls on one connection, in one database transaction, that
//! all stay or all go.
//!
//! [`ModelManager::begin`] takes one of the user's fair-share slots and a connection and starts
//! the transaction; [`Transaction::manager`] is a manager whose every call runs on that
//! connection (see `Lease::in_transaction`), one call at a time. Nothing stays unless
//! [`Transaction::commit`] succeeds: [`Transaction::rollback`] undoes it explicitly, and a
//! transaction dropped unfinished (its request abandoned: the client gone, the request timeout,
//! a shutdown) closes its connection, which Postgres answers by rolling the transaction back.

use crate::fair_share::Slot;
use crate::lease::{Lease, release_once_stopped};
use crate::statement_span::statement_span;
use crate::{Error, ModelManager, Result};
use lib_core::Ctx;
use sqlx::Postgres;
use sqlx::pool::PoolConnection;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// A transaction in progress. Commit it, roll it back, or drop it to have it rolled back.
pub struct Transaction {
    mm: ModelManager,
    conn: Arc<TxnConn>,
    slot: Option<Slot>,
    finished: bool,
}

/// The transaction's connection while no call holds it (empty while a call runs, and for good
/// once a call abandoned mid-statement has closed it), and whether a statement of it failed.
pub(crate) struct TxnConn {
    conn: Mutex<Option<PoolConnection<Postgres>>>,
    failed: AtomicBool,
}

impl TxnConn {
    /// Nothing panics while the lock is held; a poisoned lock is used as it is all the same.
    fn take(&self) -> Option<PoolConnection<Postgres>> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner).take()
    }

    pub(crate) fn put_back(&self, conn: PoolConnection<Postgres>) {
        *self.conn.lock().unwrap_or_else(PoisonError::into_inner) = Some(conn);
    }

    /// After a failed statement Postgres ignores the rest of the transaction, and would answer
    /// its `COMMIT` as a `ROLLBACK`, with no error: so the commit must know.
    pub(crate) fn mark_failed(&self) {
        self.failed.store(true, Ordering::Relaxed);
    }

    /// The connection for the transaction's next call.
    pub(crate) fn lease(self: &Arc<Self>) -> Result<Lease> {
        match self.take() {
            Some(conn) => Ok(Lease::in_transaction(conn, self.clone())),
            None => Err(lost()),
        }
    }
}

/// The transaction's connection is gone: closed by a call abandoned mid-statement, or held by
/// another call (calls of one transaction run one after another; anything else is a bug).
fn lost() -> Error {
    Error::Db(sqlx::Error::Protocol("the transaction's connection is closed or in use".into()))
}

impl ModelManager {
    /// Starts a transaction for `ctx`'s user: one slot of their fair share, however many calls
    /// it runs.
    pub async fn begin(&self, ctx: &Ctx) -> Result<Transaction> {
        let mut lease = self.lease(ctx).await?;
        lease.begin(self.db().begin_statement()).await?;
        let (conn, slot) = lease.into_parts();
        let conn = Arc::new(TxnConn { conn: Mutex::new(Some(conn)), failed: AtomicBool::new(false) });
        let mm = self.in_transaction(conn.clone());
        Ok(Transaction { mm, conn, slot, finished: false })
    }
}

impl Transaction {
    /// A manager whose calls run in this transaction, one at a time.
    pub fn manager(&self) -> &ModelManager {
        &self.mm
    }

    /// Makes every change of the transaction stay. On an error nothing stays: a transaction
    /// in which a statement failed is rolled back, and its commit is an error.
    pub async fn commit(mut self) -> Result<()> {
        if self.conn.failed.load(Ordering::Relaxed) {
            self.finish("ROLLBACK").await?;
            return Err(Error::Db(sqlx::Error::Protocol("a statement of the transaction failed: rolled back".into())));
        }
        self.finish("COMMIT").await
    }

    /// Undoes every change of the transaction.
    pub async fn rollback(mut self) -> Result<()> {
        self.finish("ROLLBACK").await
    }

    async fn finish(&mut self, statement: &'static str) -> Result<()> {
        self.finished = true;
        let Some(conn) = self.conn.take() else {
            // Closed mid-statement: Postgres has rolled it back already.
            return if statement == "ROLLBACK" { Ok(()) } else { Err(lost()) };
        };
        // Ends the transaction: not a statement to wrap in a transaction of its own.
        let mut lease = Lease::new(conn, self.slot.take(), None);
        let ended = lease.run(statement_span(statement), |conn| sqlx::raw_sql(statement).execute(conn)).await;
        if ended.is_err() {
            // Where the connection stands is not known: it does not go back to the pool.
            lease.discard();
        }
        ended.map(|_| ())
    }
}

impl Drop for Transaction {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        if let Some(mut conn) = self.conn.take() {
            // Closing the connection ends the transaction in Postgres, with nothing kept.
            conn.close_on_drop();
        }
        // A call's statement may have been running (its lease closed the connection): the slot
        // stays taken until Postgres has stopped it.
        release_once_stopped(self.slot.take());
    }
}
