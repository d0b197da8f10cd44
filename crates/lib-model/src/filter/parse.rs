//! A parsed filter: a tree of the client's filter objects, arrays and logic keys over the typed
//! operators of each field, and the entry points that decode it under the budgets.

use super::Column;
use super::decode::decode;
use crate::{Error, Result};
use modql::filter::{OpValBool, OpValString};
use serde_json::Value;
use serde_json::value::RawValue;
use time::OffsetDateTime;

/// The most values one list operator (`$in`, `$containsAny`, ...) may carry.
pub const MAX_LIST_VALUES: usize = 1000;
/// The most values a whole filter may carry: each is a bound parameter, and a statement holds at
/// most 65,535 of them.
pub const MAX_FILTER_VALUES: usize = 10_000;
/// The most nodes a whole filter may hold: filter objects, logic keys (`$and`, `$or`, `$not`),
/// arrays of objects under a logic key, conditions and operators, empty ones included. Values are budgeted apart ([`MAX_FILTER_VALUES`]); this bounds what binds nothing
/// (`[{}, {}, ...]`, `{"id": {"$in": []}}`) but still costs memory, SQL text and planning.
pub const MAX_FILTER_NODES: usize = 1000;
/// The deepest a filter object may sit: those of `filters` are at depth 0, and each `$and`,
/// `$or` or `$not` puts its filters one level deeper than the object that holds it.
pub const MAX_FILTER_DEPTH: usize = 8;

/// A parsed filter, or none.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub(super) root: Option<Node>,
}

/// One node of a filter, shaped as the client wrote it.
#[derive(Debug, Clone)]
pub(super) enum Node {
    /// One field's operators, all of which must hold.
    Field(FieldFilter),
    /// A filter object's members, or `$and`'s filters: all must hold.
    All(Vec<Node>),
    /// An array of filter objects, or `$or`'s filters: at least one must hold. Never empty.
    Any(Vec<Node>),
    /// `$not`: its filter does not hold.
    Not(Box<Node>),
}

#[derive(Debug, Clone)]
pub(super) struct FieldFilter {
    pub(super) column: Column,
    pub(super) ops: FieldOps,
}

/// The operators given for one field, typed by the field's kind.
#[derive(Debug, Clone)]
pub(super) enum FieldOps {
    Text(Vec<OpValString>),
    Bool(Vec<OpValBool>),
    Int(Vec<Cmp<i64>>),
    Time(Vec<Cmp<OffsetDateTime>>),
}

/// The comparison operators of numbers and times (modql's numeric operator set).
#[derive(Debug, Clone)]
pub(super) enum Cmp<T> {
    Eq(T),
    Not(T),
    In(Vec<T>),
    NotIn(Vec<T>),
    Lt(T),
    Lte(T),
    Gt(T),
    Gte(T),
    Null(bool),
}

impl Filters {
    /// Parses `filters` given as a `Value`: absent, `null`, one object, or an array of objects.
    /// The same decoder as [`Filters::parse_raw`], with the same budgets and errors.
    pub fn parse(filters: Option<&Value>, columns: &[Column]) -> Result<Self> {
        let root = match filters {
            None => None,
            Some(value) => decode(value, columns)?,
        };
        Ok(Self { root })
    }

    /// Parses `filters` as the request carried them (raw JSON text), counting nodes and values
    /// as they are read: a filter past a budget is refused before the rest of it is decoded.
    pub fn parse_raw(filters: Option<&RawValue>, columns: &[Column]) -> Result<Self> {
        let Some(raw) = filters else {
            return Ok(Self::default());
        };
        let mut input = serde_json::Deserializer::from_str(raw.get());
        let root = decode(&mut input, columns)?;
        input.end().map_err(|e| Error::invalid("", e.to_string()))?;
        Ok(Self { root })
    }
}

#[cfg(test)]
impl Filters {
    /// Nodes as the decoder counts them: every tree node but a top-level array, and each
    /// operator (a bare value is its `$eq`).
    pub(super) fn node_count(&self) -> usize {
        let top_array = usize::from(matches!(self.root, Some(Node::Any(_))));
        self.nodes().map(Node::cost).sum::<usize>() - top_array
    }

    /// How many values the filter binds (a flag counts as one).
    pub(super) fn value_count(&self) -> usize {
        self.nodes().map(Node::value_count).sum()
    }

    fn nodes(&self) -> impl Iterator<Item = &Node> {
        let mut stack: Vec<&Node> = self.root.iter().collect();
        std::iter::from_fn(move || {
            let node = stack.pop()?;
            match node {
                Node::Field(_) => {}
                Node::All(nodes) | Node::Any(nodes) => stack.extend(nodes),
                Node::Not(node) => stack.push(node),
            }
            Some(node)
        })
    }
}

#[cfg(test)]
impl Node {
    fn cost(&self) -> usize {
        match self {
            Node::Field(filter) => 1 + filter.ops.len(),
            Node::All(_) | Node::Any(_) | Node::Not(_) => 1,
        }
    }

    fn value_count(&self) -> usize {
        let Node::Field(filter) = self else {
            return 0;
        };
        let text = |op: &OpValString| match op {
            OpValString::In(values)
            | OpValString::NotIn(values)
            | OpValString::ContainsAny(values)
            | OpValString::NotContainsAny(values)
            | OpValString::ContainsAll(values)
            | OpValString::StartsWithAny(values)
            | OpValString::NotStartsWithAny(values)
            | OpValString::EndsWithAny(values)
            | OpValString::NotEndsWithAny(values) => values.len(),
            _ => 1,
        };
        match &filter.ops {
            FieldOps::Text(ops) => ops.iter().map(text).sum(),
            FieldOps::Bool(ops) => ops.len(),
            FieldOps::Int(ops) => ops.iter().map(Cmp::value_count).sum(),
            FieldOps::Time(ops) => ops.iter().map(Cmp::value_count).sum(),
        }
    }
}

#[cfg(test)]
impl<T> Cmp<T> {
    fn value_count(&self) -> usize {
        match self {
            Cmp::In(values) | Cmp::NotIn(values) => values.len(),
            _ => 1,
        }
    }
}

#[cfg(test)]
impl FieldOps {
    fn len(&self) -> usize {
        match self {
            FieldOps::Text(ops) => ops.len(),
            FieldOps::Bool(ops) => ops.len(),
            FieldOps::Int(ops) => ops.len(),
            FieldOps::Time(ops) => ops.len(),
        }
    }
}
