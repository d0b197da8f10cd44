//! Live updates, the model's side: which changes were committed, and who may see them.
//!
//! While some instance wants them ([`declare_interest`]), triggers write every change to a
//! project, and every change to a task some member of whose project is among the instances'
//! readers, into `live_change` (the row before and after), a transaction's changes one batch
//! (see the migrations `live_*`); each instance with subscribers reads the batches as they
//! commit (`read.rs`) and hands them to [`ModelManager::live_feed`]. [`deliveries`]
//! (`deliver.rs`) then answers, for some batches and every subscriber of their entity, the rows
//! each subscriber may see and whose filter matches the row before or after the change, in one
//! statement per 64 distinct filters. The instances' interest, and the wait that makes a new
//! reader miss nothing, are in `interest.rs`. Nothing here knows sockets or JSON-RPC.

use crate::{ModelManager, Result};
use std::time::Duration;

mod deliver;
mod interest;
mod read;

pub use deliver::{Delivered, Delivery, FILTERS_PER_STATEMENT, LiveFilter, MAX_BATCH_ROWS, Subscriber, deliveries};
pub use interest::{INTEREST_LASTS, declare_interest, wait_for_writes_in_flight, withdraw_interest};
pub(crate) use read::{Reading, read_changes};
pub use read::{start_reading, stop_reading};

/// How long a change is kept for the instances to read after it was written.
pub(crate) const KEPT_FOR: Duration = Duration::from_secs(300);

/// What the reader hands on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveEvent {
    /// A committed transaction changed rows of `entity` (a table name); its changes are `batch`.
    Changed { entity: String, batch: i64 },
    /// Changes may have been missed (a read failed, or fell too far behind): whoever
    /// relies on them must start over from the current rows.
    Lost,
}

/// What a change did to its row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Create,
    Update,
    Delete,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Create => "create",
            Op::Update => "update",
            Op::Delete => "delete",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<Self> {
        [Op::Create, Op::Update, Op::Delete].into_iter().find(|op| op.as_str() == text)
    }
}

/// The last change written so far, if any (the end of the primary key's index).
pub async fn last_change(mm: &ModelManager) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar("SELECT max(seq) FROM live_change").fetch_one(mm.db()).await?)
}

/// Forgets the changes up to `seq` (a range of the primary key); answers how many went.
pub async fn forget_through(mm: &ModelManager, seq: i64) -> Result<u64> {
    let deleted = sqlx::query("DELETE FROM live_change WHERE seq <= $1").bind(seq).execute(mm.db()).await?;
    Ok(deleted.rows_affected())
}
