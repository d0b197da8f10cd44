//! The audit columns every entity has, declared once: who created and last changed a row, and
//! when. The base layer sets them on every write; clients never can.

use crate::base::ColumnGroup;
use sea_query::Expr;
use time::OffsetDateTime;

/// Spliced into each entity's row struct as `#[entity(flatten)] pub audit: Audit`: the columns
/// come after the entity's own, and its JSON has them inline (`"cid"`, `"ctime"`, ...).
#[derive(Debug, Clone, PartialEq, Eq, ColumnGroup)]
pub struct Audit {
    /// The creating user.
    pub cid: i64,
    pub ctime: OffsetDateTime,
    /// The last modifying user.
    pub mid: i64,
    pub mtime: OffsetDateTime,
}

impl Audit {
    /// What an insert by `user` writes.
    pub(crate) fn on_create(user: i64) -> [(&'static str, Expr); 4] {
        [("cid", Expr::val(user)), ("ctime", now()), ("mid", Expr::val(user)), ("mtime", now())]
    }

    /// What an update by `user` writes.
    pub(crate) fn on_update(user: i64) -> [(&'static str, Expr); 2] {
        [("mid", Expr::val(user)), ("mtime", now())]
    }
}

/// The time the writing statement started. Not `now()`, the transaction's start: in a
/// `transaction`, a row updated after an earlier call created or changed it must get a later
/// `mtime`, or `if_mtime` could not tell the two versions apart.
fn now() -> Expr {
    Expr::cust("statement_timestamp()")
}
