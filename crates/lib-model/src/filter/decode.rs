//! The filter decoder: serde visitors that read `filters` straight from the request's JSON text
//! (or a `serde_json::Value`, through the same code) and count every node and value as it is
//! read, refusing at the first one past a budget. Nothing is built for input that is refused, and
//! nothing is ever built for more than the budgets allow, so a filter costs memory in proportion
//! to its budgets, not to its bytes.
//!
//! The grammar has a fixed depth (filters, group, field, operators, list, scalar), so no visitor
//! recurses into itself: however deep a client nests arrays or objects, the decoder refuses at
//! the first level the grammar does not have.

use super::ops::{BoolOps, IntOps, OpKind, TextOps, TimeOps};
use super::parse::{FieldFilter, FieldOps};
use super::scalar::{Refusal, Scalar, visit_scalars};
use super::values::{BareArg, MapArg};
use super::{Column, FieldKind, MAX_FILTER_NODES, MAX_FILTER_VALUES};
use crate::Error;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;
use std::marker::PhantomData;

/// Decodes one request's `filters` into its groups, under the budgets.
pub(super) fn decode<'de, D: Deserializer<'de>>(input: D, columns: &[Column]) -> crate::Result<Vec<Vec<FieldFilter>>> {
    let mut state = State { columns, nodes: 0, values: 0, refusal: Refusal::default() };
    match FiltersSeed(&mut state).deserialize(input) {
        Ok(groups) => Ok(groups),
        Err(error) => Err(state.refusal.into_error(error)),
    }
}

/// What one decoding has counted so far, and the refusal that stopped it.
pub(super) struct State<'c> {
    columns: &'c [Column],
    nodes: usize,
    values: usize,
    refusal: Refusal,
}

impl State<'_> {
    pub(super) fn refuse<E: serde::de::Error>(&mut self, error: Error) -> E {
        self.refusal.refuse(error)
    }

    /// Counts a filter object, a condition or an operator, empty ones included: they bind
    /// nothing, but each still costs memory, SQL text and planner time.
    fn count_node<E: serde::de::Error>(&mut self) -> Result<(), E> {
        self.nodes += 1;
        if self.nodes > MAX_FILTER_NODES {
            return Err(self.refuse(Error::invalid(
                "",
                format!("at most {MAX_FILTER_NODES} nodes (filter objects, conditions and operators)"),
            )));
        }
        Ok(())
    }

    /// Counts a value: each becomes a bound parameter, and a statement holds at most 65,535.
    pub(super) fn count_value<E: serde::de::Error>(&mut self) -> Result<(), E> {
        self.values += 1;
        if self.values > MAX_FILTER_VALUES {
            return Err(self.refuse(Error::invalid("", format!("at most {MAX_FILTER_VALUES} values in all"))));
        }
        Ok(())
    }
}

/// Which filter object a condition is in, for error details: the only one (no path), or `[1]`.
#[derive(Clone, Copy)]
enum Group {
    Only,
    At(usize),
}

impl fmt::Display for Group {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Group::Only => Ok(()),
            Group::At(i) => write!(f, "[{i}]"),
        }
    }
}

/// Where a value sits, for error details: `[1].title.$in`, or `title.$in` in the only object.
#[derive(Clone, Copy)]
pub(super) struct At<'a> {
    group: Group,
    field: &'a str,
    /// Empty for an error about the field itself.
    op: &'a str,
}

impl At<'_> {
    pub(super) fn error(&self, what: impl fmt::Display) -> Error {
        let group_dot = if matches!(self.group, Group::Only) { "" } else { "." };
        let op_dot = if self.op.is_empty() { "" } else { "." };
        Error::invalid(format!("{}{group_dot}{}{op_dot}{}", self.group, self.field, self.op), what.to_string())
    }
}

/// `filters`: absent or `null`, one object, or an array of objects (OR-ed).
struct FiltersSeed<'s, 'c>(&'s mut State<'c>);

impl<'de> DeserializeSeed<'de> for FiltersSeed<'_, '_> {
    type Value = Vec<Vec<FieldFilter>>;

    fn deserialize<D: Deserializer<'de>>(self, input: D) -> Result<Self::Value, D::Error> {
        input.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for FiltersSeed<'_, '_> {
    type Value = Vec<Vec<FieldFilter>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object or an array of objects")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        Ok(vec![group(self.0, map, Group::Only)?])
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut groups = Vec::new();
        while let Some(group) =
            seq.next_element_seed(GroupSeed { state: &mut *self.0, group: Group::At(groups.len()) })?
        {
            groups.push(group);
        }
        Ok(groups)
    }

    visit_scalars!();
}

impl FiltersSeed<'_, '_> {
    fn scalar<E: serde::de::Error>(self, value: Scalar<'_>) -> Result<Vec<Vec<FieldFilter>>, E> {
        match value {
            Scalar::Null => Ok(Vec::new()),
            _ => Err(self.0.refuse(Error::invalid("", "must be an object or an array of objects"))),
        }
    }
}

/// One element of a `filters` array: an object whose conditions are AND-ed.
struct GroupSeed<'s, 'c> {
    state: &'s mut State<'c>,
    group: Group,
}

impl<'de> DeserializeSeed<'de> for GroupSeed<'_, '_> {
    type Value = Vec<FieldFilter>;

    fn deserialize<D: Deserializer<'de>>(self, input: D) -> Result<Self::Value, D::Error> {
        input.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for GroupSeed<'_, '_> {
    type Value = Vec<FieldFilter>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        group(self.state, map, self.group)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        self.scalar(Scalar::Array)
    }

    visit_scalars!();
}

impl GroupSeed<'_, '_> {
    fn scalar<E: serde::de::Error>(self, _: Scalar<'_>) -> Result<Vec<FieldFilter>, E> {
        Err(self.state.refuse(Error::invalid(self.group.to_string(), "must be an object")))
    }
}

/// The conditions of one filter object, each field at most once.
fn group<'de, A: MapAccess<'de>>(state: &mut State, mut map: A, group: Group) -> Result<Vec<FieldFilter>, A::Error> {
    state.count_node()?;
    let columns = state.columns;
    let mut filters: Vec<FieldFilter> = Vec::new();
    while let Some(field) = map.next_key::<String>()? {
        state.count_node()?;
        let at = At { group, field: &field, op: "" };
        let Some(column) = columns.iter().find(|c| c.name == field) else {
            let known: Vec<_> = columns.iter().map(|c| c.name).collect();
            return Err(state.refuse(at.error(format_args!("unknown field (filterable: {})", known.join(", ")))));
        };
        // A repeated key would be dropped silently by most JSON readers; here it is refused, so
        // the client learns that one of its conditions was not the one applied.
        if filters.iter().any(|f| f.column.name == column.name) {
            return Err(state.refuse(at.error("given twice")));
        }
        let ops = match column.kind {
            FieldKind::Text => map.next_value_seed(OpsSeed::<TextOps>::new(state, at))?,
            FieldKind::Bool => map.next_value_seed(OpsSeed::<BoolOps>::new(state, at))?,
            FieldKind::Int => map.next_value_seed(OpsSeed::<IntOps>::new(state, at))?,
            FieldKind::Time => map.next_value_seed(OpsSeed::<TimeOps>::new(state, at))?,
        };
        filters.push(FieldFilter { column: *column, ops });
    }
    Ok(filters)
}

/// A condition's value: an object of operators (AND-ed), or a bare value meaning `$eq`.
struct OpsSeed<'s, 'c, 'a, K> {
    state: &'s mut State<'c>,
    at: At<'a>,
    kind: PhantomData<K>,
}

impl<'s, 'c, 'a, K> OpsSeed<'s, 'c, 'a, K> {
    fn new(state: &'s mut State<'c>, at: At<'a>) -> Self {
        Self { state, at, kind: PhantomData }
    }
}

impl<'de, K: OpKind> DeserializeSeed<'de> for OpsSeed<'_, '_, '_, K> {
    type Value = FieldOps;

    fn deserialize<D: Deserializer<'de>>(self, input: D) -> Result<Self::Value, D::Error> {
        input.deserialize_any(self)
    }
}

impl<'de, K: OpKind> Visitor<'de> for OpsSeed<'_, '_, '_, K> {
    type Value = FieldOps;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value or an object of operators")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut ops = Vec::new();
        let mut seen: Vec<String> = Vec::new();
        while let Some(op) = map.next_key::<String>()? {
            self.state.count_node()?;
            let at = At { op: &op, ..self.at };
            if seen.contains(&op) {
                return Err(self.state.refuse(at.error("given twice")));
            }
            match K::parse(&op, MapArg { map: &mut map, state: &mut *self.state, at })? {
                Some(parsed) => ops.push(parsed),
                None => {
                    let unknown = format!("unknown operator `{op}` for a {} field", K::NAME);
                    return Err(self.state.refuse(self.at.error(unknown)));
                }
            }
            seen.push(op);
        }
        Ok(K::wrap(ops))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        self.scalar(Scalar::Array)
    }

    visit_scalars!();
}

impl<K: OpKind> OpsSeed<'_, '_, '_, K> {
    /// A bare value: `"field": v` is `"field": {"$eq": v}`, and costs the same node.
    fn scalar<E: serde::de::Error>(self, value: Scalar<'_>) -> Result<FieldOps, E> {
        self.state.count_node()?;
        let at = At { op: "$eq", ..self.at };
        match K::parse("$eq", BareArg { value, state: self.state, at })? {
            Some(op) => Ok(K::wrap(vec![op])),
            None => Err(self.state.refuse(at.error("unknown operator"))),
        }
    }
}
