//! Filters and list options: what clients may ask of `list_*` and `count_*`, checked against an
//! entity's column allowlist and the shape budgets while they are decoded, then rendered as
//! sea-query conditions.
//!
//! The operator vocabulary is modql's (`$eq`, `$containsCi`, `$in`, ...), and text and bool
//! operators parse into modql's `OpValString` / `OpValBool`. The JSON decoding and the SQL
//! rendering are this crate's own, because modql's have defects the contract forbids: unknown
//! fields pass silently, `%` `_` `\` act as wildcards, `$notEndsWith` runs as `$endsWith`, bool
//! `$null` runs as `$not`, `$empty: false` is an OR, numbers may wrap, and `$in` on time is
//! inverted. Each is covered by a test in `tests/typed_filters.rs` or `tests/text_filters.rs`.
//!
//! Logic: a filter object may hold `$and`, `$or` and `$not` besides its fields, nested at most
//! [`MAX_FILTER_DEPTH`] levels (see `decode` for what a level is). They are decoded by the same
//! visitors, under the same budgets, into one tree, and rendered by the same code: there is no
//! second path for filters with logic. `$not` is two-valued (see `sql`): it matches every row its
//! filter does not, NULLs included.
//!
//! Budgets, each refused as `InvalidInput` naming it, at the first node past it:
//! [`MAX_FILTER_NODES`], [`MAX_FILTER_VALUES`], [`MAX_LIST_VALUES`], [`MAX_FILTER_DEPTH`] and
//! [`MAX_ORDER_BYS`]; a `cursor` past [`MAX_CURSOR_LEN`] is refused unread.
//!
//! Keyset paging: a list's next page starts after its last row ([`keyset`]), named by a sealed
//! cursor ([`cursor`]).

mod condition;
pub(crate) mod cursor;
mod decode;
pub(crate) mod keyset;
mod list_options;
mod logic;
#[cfg(test)]
mod logic_proptests;
#[cfg(test)]
mod logic_tests;
mod ops;
mod order_bys;
mod parse;
mod path;
#[cfg(test)]
mod proptests;
mod scalar;
pub mod schema;
mod sql;
#[cfg(test)]
mod tests;
mod values;

use sea_query::Expr;

pub use cursor::MAX_CURSOR_LEN;
pub use list_options::{DEFAULT_LIMIT, ListOptions, MAX_LIMIT, MAX_ORDER_BYS};
pub use parse::{Filters, MAX_FILTER_DEPTH, MAX_FILTER_NODES, MAX_FILTER_VALUES, MAX_LIST_VALUES};

/// What a column holds: it decides which operators and which JSON values a filter may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Int,
    Text,
    Bool,
    /// `timestamptz`; filter values are RFC 3339 text.
    Time,
}

/// One column of an entity's allowlist: every filter field and every `order_bys` name must be one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    pub kind: FieldKind,
    /// Nullable columns make negative operators (`$not`, `$notIn`, `$notContains`, ...) match
    /// NULL too: a task without a description does not contain "x".
    pub nullable: bool,
    /// Not a column of the table: an expression computed for the caller (see [`ColumnRefs`]).
    pub computed: bool,
}

impl Column {
    pub const fn new(name: &'static str, kind: FieldKind) -> Self {
        Self { name, kind, nullable: false, computed: false }
    }

    pub const fn nullable(self) -> Self {
        Self { nullable: true, ..self }
    }

    pub const fn computed(self) -> Self {
        Self { computed: true, ..self }
    }
}

/// How a statement refers to an entity's columns: `table.column`, or for a computed column the
/// expression it stands for, which may depend on the caller (a project's `role`).
#[derive(Clone)]
pub struct ColumnRefs {
    table: &'static str,
    computed: Option<(Expr, Computed)>,
}

/// The expression of a computed column (by name) for a user (an expression of their id).
pub type Computed = fn(&Expr, &'static str) -> Expr;

impl ColumnRefs {
    /// The columns of `table`, none of them computed.
    pub const fn table(table: &'static str) -> Self {
        Self { table, computed: None }
    }

    /// The columns of `table`, the computed ones for `user` by `computed`.
    pub fn with_computed(table: &'static str, user: Expr, computed: Computed) -> Self {
        Self { table, computed: Some((user, computed)) }
    }

    pub fn expr(&self, column: &Column) -> Expr {
        match (column.computed, &self.computed) {
            (true, Some((user, computed))) => computed(user, column.name),
            _ => Expr::col((self.table, column.name)),
        }
    }
}
