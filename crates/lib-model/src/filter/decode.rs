//! The filter decoder: serde visitors that read `filters` straight from the request's JSON text
//! (or a `serde_json::Value`, through the same code) into a [`Node`] tree, counting every node
//! and value as it is read and refusing at the first one past a budget. Nothing is built for
//! input that is refused, and nothing is ever built for more than the budgets allow, so a filter
//! costs memory in proportion to its budgets, not to its bytes.
//!
//! The grammar: `filters` is `null`, an object, or an array of objects (OR-ed; `[]` is no
//! filter). An object's members are AND-ed: field conditions and the logic keys `"$and": [F, ...]`,
//! `"$or": [F, ...]` and `"$not": F`, where `F` is an object or a non-empty array of objects.
//!
//! Depth: the objects of `filters` are at depth 0, and the filters under a logic key of an
//! object at depth d are at depth d + 1 (an array of objects is no level of its own);
//! [`MAX_FILTER_DEPTH`](super::MAX_FILTER_DEPTH) is the deepest an object may be. A logic key
//! that would open a level past it is refused before its value is read (see `logic`), so however
//! deeply a client nests, the visitors recurse at most that many times, and serde_json's own
//! recursion limit (128) is never what stops a filter. Anywhere else (a field's value, an
//! operator's list) the grammar has a fixed depth and refuses the first level it does not have.

use super::condition::OpsSeed;
use super::logic::logic;
use super::ops::{BoolOps, IntOps, TextOps, TimeOps};
use super::parse::{FieldFilter, Node};
pub(super) use super::path::At;
use super::path::Place;
use super::scalar::{Refusal, Scalar, visit_scalars};
use super::{Column, FieldKind, MAX_FILTER_NODES, MAX_FILTER_VALUES};
use crate::Error;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// Decodes one request's `filters` into its tree (`None`: no filter), under the budgets.
pub(super) fn decode<'de, D: Deserializer<'de>>(input: D, columns: &[Column]) -> crate::Result<Option<Node>> {
    let mut state = State { columns, nodes: 0, values: 0, refusal: Refusal::default() };
    match FiltersSeed(&mut state).deserialize(input) {
        Ok(root) => Ok(root),
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

    /// Counts a filter object, a logic key, an array of objects under one, a condition or an
    /// operator, empty ones included: they bind nothing, but each still costs memory, SQL text
    /// and planner time. (The refusal's text predates logic keys and stays as clients know it.)
    pub(super) fn count_node<E: serde::de::Error>(&mut self) -> Result<(), E> {
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

/// Implements `DeserializeSeed` for a visitor of the filter decoder: it takes any JSON value.
macro_rules! seed_is_visitor {
    ($seed:ident, $value:ty) => {
        impl<'de> DeserializeSeed<'de> for $seed<'_, '_, '_> {
            type Value = $value;

            fn deserialize<D: Deserializer<'de>>(self, input: D) -> Result<Self::Value, D::Error> {
                input.deserialize_any(self)
            }
        }
    };
}

pub(super) use seed_is_visitor;

/// A filter object, or an array of them, at `place`, `depth` levels down.
pub(super) struct Filter<'s, 'c, 'p> {
    pub(super) state: &'s mut State<'c>,
    pub(super) place: &'p Place<'p>,
    pub(super) depth: usize,
}

/// `filters` itself: absent or `null`, one object, or an array of objects (OR-ed; `[]` is no
/// filter, as the contract has always had it).
struct FiltersSeed<'s, 'c>(&'s mut State<'c>);

impl<'de> DeserializeSeed<'de> for FiltersSeed<'_, '_> {
    type Value = Option<Node>;

    fn deserialize<D: Deserializer<'de>>(self, input: D) -> Result<Self::Value, D::Error> {
        input.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for FiltersSeed<'_, '_> {
    type Value = Option<Node>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object or an array of objects")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        object(self.0, map, &Place::Top, 0).map(Some)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        let objects = objects(Filter { state: self.0, place: &Place::Top, depth: 0 }, seq)?;
        Ok((!objects.is_empty()).then_some(Node::Any(objects)))
    }

    visit_scalars!();
}

impl FiltersSeed<'_, '_> {
    fn scalar<E: serde::de::Error>(self, value: Scalar<'_>) -> Result<Option<Node>, E> {
        match value {
            Scalar::Null => Ok(None),
            _ => Err(self.0.refuse(Error::invalid("", "must be an object or an array of objects"))),
        }
    }
}

/// The elements of an array of filter objects at `place`.
pub(super) fn objects<'de, A: SeqAccess<'de>>(filter: Filter, mut seq: A) -> Result<Vec<Node>, A::Error> {
    let Filter { state, place, depth } = filter;
    let mut objects = Vec::new();
    loop {
        let item = Place::Item(place, objects.len());
        let Some(object) = seq.next_element_seed(ObjectSeed(Filter { state: &mut *state, place: &item, depth }))?
        else {
            return Ok(objects);
        };
        objects.push(object);
    }
}

/// One element of an array of filters: an object.
struct ObjectSeed<'s, 'c, 'p>(Filter<'s, 'c, 'p>);

seed_is_visitor!(ObjectSeed, Node);

impl<'de> Visitor<'de> for ObjectSeed<'_, '_, '_> {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Node, A::Error> {
        object(self.0.state, map, self.0.place, self.0.depth)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Node, A::Error> {
        self.scalar(Scalar::Array)
    }

    visit_scalars!();
}

impl ObjectSeed<'_, '_, '_> {
    fn scalar<E: serde::de::Error>(self, _: Scalar<'_>) -> Result<Node, E> {
        Err(self.0.state.refuse(self.0.place.error("must be an object")))
    }
}

/// The keys an object may hold besides fields.
const LOGIC_KEYS: [&str; 3] = ["$and", "$or", "$not"];

/// What a key of a filter object names.
#[derive(Clone, Copy, PartialEq)]
enum Key {
    Field(Column),
    Logic(&'static str),
}

/// The members of one filter object, AND-ed: each field and each logic key at most once.
pub(super) fn object<'de, A: MapAccess<'de>>(
    state: &mut State,
    mut map: A,
    place: &Place,
    depth: usize,
) -> Result<Node, A::Error> {
    state.count_node()?;
    let mut members = Vec::new();
    let mut seen: Vec<Key> = Vec::new();
    while let Some(name) = map.next_key::<String>()? {
        state.count_node()?;
        let at = At { place, field: &name, op: "" };
        let key = key(state, &name).map_err(|problem| state.refuse(at.error(problem)))?;
        // A repeated key would be dropped silently by most JSON readers; here it is refused, so
        // the client learns that one of its conditions was not the one applied.
        if seen.contains(&key) {
            return Err(state.refuse(at.error("given twice")));
        }
        seen.push(key);
        members.push(match key {
            Key::Field(column) => condition(state, &mut map, column, at)?,
            Key::Logic(key) => logic(Filter { state: &mut *state, place, depth }, &mut map, key)?,
        });
    }
    Ok(Node::All(members))
}

/// The field or logic key `name` names, or why it names neither.
fn key(state: &State, name: &str) -> Result<Key, String> {
    if name.starts_with('$') {
        let logic = LOGIC_KEYS.into_iter().find(|k| *k == name);
        return logic.map(Key::Logic).ok_or_else(|| "unknown key (an object holds fields, $and, $or and $not)".into());
    }
    match state.columns.iter().find(|c| c.name == name) {
        Some(column) => Ok(Key::Field(*column)),
        None => {
            let known: Vec<_> = state.columns.iter().map(|c| c.name).collect();
            Err(format!("unknown field (filterable: {})", known.join(", ")))
        }
    }
}

/// One field's condition, read against the field's kind.
fn condition<'de, A: MapAccess<'de>>(state: &mut State, map: &mut A, column: Column, at: At) -> Result<Node, A::Error> {
    let ops = match column.kind {
        FieldKind::Text => map.next_value_seed(OpsSeed::<TextOps>::new(state, at))?,
        FieldKind::Bool => map.next_value_seed(OpsSeed::<BoolOps>::new(state, at))?,
        FieldKind::Int => map.next_value_seed(OpsSeed::<IntOps>::new(state, at))?,
        FieldKind::Time => map.next_value_seed(OpsSeed::<TimeOps>::new(state, at))?,
    };
    Ok(Node::Field(FieldFilter { column, ops }))
}
