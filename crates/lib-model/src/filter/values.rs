//! The values of operators: one scalar or a list of them, read and converted as they arrive,
//! each counted against the filter's value budget and each list against its own.

use super::MAX_LIST_VALUES;
use super::decode::{At, State};
use super::ops::OpArg;
use super::scalar::{Conv, Scalar, visit_scalars};
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// An operator's value, still unread in the map.
pub(super) struct MapArg<'m, 's, 'c, 'a, A> {
    pub(super) map: &'m mut A,
    pub(super) state: &'s mut State<'c>,
    pub(super) at: At<'a>,
}

impl<'de, A: MapAccess<'de>> OpArg<A::Error> for MapArg<'_, '_, '_, '_, A> {
    fn one<T>(self, conv: Conv<T>) -> Result<T, A::Error> {
        self.map.next_value_seed(ScalarSeed { state: self.state, at: self.at, conv, counted: true })
    }

    fn many<T>(self, conv: Conv<T>) -> Result<Vec<T>, A::Error> {
        self.map.next_value_seed(ListSeed { state: self.state, at: self.at, conv })
    }
}

/// A bare condition value, already read.
pub(super) struct BareArg<'v, 's, 'c, 'a> {
    pub(super) value: Scalar<'v>,
    pub(super) state: &'s mut State<'c>,
    pub(super) at: At<'a>,
}

impl<E: serde::de::Error> OpArg<E> for BareArg<'_, '_, '_, '_> {
    fn one<T>(self, conv: Conv<T>) -> Result<T, E> {
        self.state.count_value()?;
        conv(self.value).map_err(|what| self.state.refuse(self.at.error(what)))
    }

    fn many<T>(self, _: Conv<T>) -> Result<Vec<T>, E> {
        Err(self.state.refuse(self.at.error("expected an array")))
    }
}

/// One scalar, converted as it is read; an array or object is refused unread.
struct ScalarSeed<'s, 'c, 'a, T> {
    state: &'s mut State<'c>,
    at: At<'a>,
    conv: Conv<T>,
    /// Whether this value counts against the value budget here (list items are counted by
    /// their list, after its own limit).
    counted: bool,
}

impl<'de, T> DeserializeSeed<'de> for ScalarSeed<'_, '_, '_, T> {
    type Value = T;

    fn deserialize<D: Deserializer<'de>>(self, input: D) -> Result<T, D::Error> {
        input.deserialize_any(self)
    }
}

impl<'de, T> Visitor<'de> for ScalarSeed<'_, '_, '_, T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a scalar")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<T, A::Error> {
        self.scalar(Scalar::Array)
    }

    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<T, A::Error> {
        self.scalar(Scalar::Object)
    }

    visit_scalars!();
}

impl<T> ScalarSeed<'_, '_, '_, T> {
    fn scalar<E: serde::de::Error>(self, value: Scalar<'_>) -> Result<T, E> {
        if self.counted {
            self.state.count_value()?;
        }
        (self.conv)(value).map_err(|what| self.state.refuse(self.at.error(what)))
    }
}

/// A list operator's array: at most [`MAX_LIST_VALUES`] scalars, each counted as a value.
struct ListSeed<'s, 'c, 'a, T> {
    state: &'s mut State<'c>,
    at: At<'a>,
    conv: Conv<T>,
}

impl<'de, T> DeserializeSeed<'de> for ListSeed<'_, '_, '_, T> {
    type Value = Vec<T>;

    fn deserialize<D: Deserializer<'de>>(self, input: D) -> Result<Vec<T>, D::Error> {
        input.deserialize_any(self)
    }
}

impl<'de, T> Visitor<'de> for ListSeed<'_, '_, '_, T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        let mut items = Vec::new();
        loop {
            let seed = ScalarSeed { state: &mut *self.state, at: self.at, conv: self.conv, counted: false };
            let Some(item) = seq.next_element_seed(seed)? else {
                return Ok(items);
            };
            if items.len() == MAX_LIST_VALUES {
                return Err(self.state.refuse(self.at.error(format!("at most {MAX_LIST_VALUES} values in a list"))));
            }
            self.state.count_value()?;
            items.push(item);
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Vec<T>, A::Error> {
        self.scalar(Scalar::Object)
    }

    visit_scalars!();
}

impl<T> ListSeed<'_, '_, '_, T> {
    fn scalar<E: serde::de::Error>(self, _: Scalar<'_>) -> Result<Vec<T>, E> {
        Err(self.state.refuse(self.at.error("expected an array")))
    }
}
