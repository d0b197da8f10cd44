//! The values of the logic keys `$and`, `$or` and `$not`: one level deeper than the object that
//! holds them, refused before they are read when that level is past [`MAX_FILTER_DEPTH`]. Their
//! filters are decoded by the same object visitor as `filters` itself, under the same budgets.

use super::MAX_FILTER_DEPTH;
use super::decode::{Filter, object, objects, seed_is_visitor};
use super::parse::Node;
use super::path::Place;
use super::scalar::{Scalar, visit_scalars};
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// The value of `$and`, `$or` or `$not` in an object at `filter.place`, one level deeper: refused
/// before it is read when that level is past [`MAX_FILTER_DEPTH`].
pub(super) fn logic<'de, A: MapAccess<'de>>(filter: Filter, map: &mut A, key: &'static str) -> Result<Node, A::Error> {
    let Filter { state, place, depth } = filter;
    let here = Place::Key(place, key);
    if depth == MAX_FILTER_DEPTH {
        return Err(state.refuse(here.error(format_args!("filters nest at most {MAX_FILTER_DEPTH} deep"))));
    }
    let inner = Filter { state, place: &here, depth: depth + 1 };
    Ok(match key {
        "$not" => Node::Not(Box::new(map.next_value_seed(FilterSeed(inner))?)),
        "$and" => Node::All(map.next_value_seed(ListSeed(inner))?),
        _ => Node::Any(map.next_value_seed(ListSeed(inner))?),
    })
}

/// The list of `$and` or `$or`: a non-empty array of filters.
struct ListSeed<'s, 'c, 'p>(Filter<'s, 'c, 'p>);

seed_is_visitor!(ListSeed, Vec<Node>);

impl<'de> Visitor<'de> for ListSeed<'_, '_, '_> {
    type Value = Vec<Node>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a non-empty array of filters")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Node>, A::Error> {
        let Filter { state, place, depth } = self.0;
        let mut filters = Vec::new();
        loop {
            let item = Place::Item(place, filters.len());
            let Some(filter) = seq.next_element_seed(FilterSeed(Filter { state: &mut *state, place: &item, depth }))?
            else {
                break;
            };
            filters.push(filter);
        }
        if filters.is_empty() {
            return Err(state.refuse(place.error("must not be empty")));
        }
        Ok(filters)
    }

    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Vec<Node>, A::Error> {
        self.scalar(Scalar::Object)
    }

    visit_scalars!();
}

impl ListSeed<'_, '_, '_> {
    fn scalar<E: serde::de::Error>(self, _: Scalar<'_>) -> Result<Vec<Node>, E> {
        Err(self.0.state.refuse(self.0.place.error("expected a non-empty array of filters")))
    }
}

/// The filter under `$not`, or one of `$and`'s or `$or`'s: an object, or a non-empty array of
/// objects (OR-ed). An empty array is refused: whether it meant "nothing" (an empty OR) or
/// "no filter" (as `filters: []` does) would be a guess.
struct FilterSeed<'s, 'c, 'p>(Filter<'s, 'c, 'p>);

seed_is_visitor!(FilterSeed, Node);

impl<'de> Visitor<'de> for FilterSeed<'_, '_, '_> {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object or a non-empty array of objects")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Node, A::Error> {
        object(self.0.state, map, self.0.place, self.0.depth)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Node, A::Error> {
        let Filter { state, place, depth } = self.0;
        state.count_node()?;
        let objects = objects(Filter { state: &mut *state, place, depth }, seq)?;
        if objects.is_empty() {
            return Err(state.refuse(place.error("must not be an empty array")));
        }
        Ok(Node::Any(objects))
    }

    visit_scalars!();
}

impl FilterSeed<'_, '_, '_> {
    fn scalar<E: serde::de::Error>(self, _: Scalar<'_>) -> Result<Node, E> {
        Err(self.0.state.refuse(self.0.place.error("must be a filter object or a non-empty array of them")))
    }
}
