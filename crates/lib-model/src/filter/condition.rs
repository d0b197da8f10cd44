//! One field's condition: its value, an object of operators (AND-ed) or a bare value meaning
//! `$eq`, read against the field's kind; each operator is counted as a node before its value is read.

use super::decode::State;
use super::ops::OpKind;
use super::parse::FieldOps;
use super::path::At;
use super::scalar::{Scalar, visit_scalars};
use super::values::{BareArg, MapArg};
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;
use std::marker::PhantomData;

/// A condition's value: an object of operators (AND-ed), or a bare value meaning `$eq`.
pub(super) struct OpsSeed<'s, 'c, 'a, K> {
    state: &'s mut State<'c>,
    at: At<'a>,
    kind: PhantomData<K>,
}

impl<'s, 'c, 'a, K> OpsSeed<'s, 'c, 'a, K> {
    pub(super) fn new(state: &'s mut State<'c>, at: At<'a>) -> Self {
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
