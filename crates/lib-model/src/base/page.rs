//! [`Page`]: what a list answers, its rows and the cursor that continues after them.

use crate::filter::ListOptions;
use crate::filter::cursor::{CursorKey, seal};
use serde::Serialize;

/// One page of a list: at most the limit's rows, and `next_cursor` when more rows follow (the
/// list fetched one row past the limit and found it), `None` when none do, so no client ever
/// asks for a page that turns out empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<E> {
    pub rows: Vec<E>,
    /// Opaque: give it back as `list_options.cursor`, with the same `order_bys`.
    pub next_cursor: Option<String>,
}

impl<E: Serialize> Page<E> {
    /// The page of `fetched` (up to one row past `options`' limit) for a list of `entity`.
    pub(crate) fn of(mut fetched: Vec<E>, options: &ListOptions, entity: &str, key: &CursorKey) -> Self {
        let limit = usize::try_from(options.limit()).expect("a limit of at most 1000");
        if fetched.len() <= limit {
            return Self { rows: fetched, next_cursor: None };
        }
        fetched.truncate(limit);
        let next_cursor = fetched.last().map(|last| {
            // The row as a client reads it: its values are sealed in the same form, so a time
            // keeps its microseconds.
            let last = serde_json::to_value(last).expect("an entity row serializes");
            seal(key, entity, options.order_bys(), &last)
        });
        Self { rows: fetched, next_cursor }
    }
}

impl<E> IntoIterator for Page<E> {
    type Item = E;
    type IntoIter = std::vec::IntoIter<E>;

    fn into_iter(self) -> Self::IntoIter {
        self.rows.into_iter()
    }
}
