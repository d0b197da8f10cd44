//! `list_options.order_bys`: one field name or a list of at most [`MAX_ORDER_BYS`] of them, each
//! checked against the entity's columns as it is read.

use super::Column;
use super::list_options::MAX_ORDER_BYS;
use super::scalar::{Refusal, Scalar, visit_scalars};
use crate::Error;
use sea_query::Order;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// `order_bys`: `null`, one field name, or an array of at most [`MAX_ORDER_BYS`] of them; `!`
/// before a name means descending.
pub(super) struct OrderBysSeed<'c, 'r> {
    columns: &'c [Column],
    refusal: &'r mut Refusal,
}

const EXPECTED_ORDER: &str = "expected a field name or a list of them";

impl<'c, 'r> OrderBysSeed<'c, 'r> {
    pub(super) fn new(columns: &'c [Column], refusal: &'r mut Refusal) -> Self {
        Self { columns, refusal }
    }

    fn scalar<E: serde::de::Error>(mut self, value: Scalar<'_>) -> Result<Vec<(&'static str, Order)>, E> {
        match value {
            Scalar::Null => Ok(Vec::new()),
            name => Ok(vec![self.order_by(name)?]),
        }
    }

    fn order_by<E: serde::de::Error>(&mut self, name: Scalar<'_>) -> Result<(&'static str, Order), E> {
        let Scalar::Str(name) = name else {
            return Err(self.refusal.refuse(Error::invalid("order_bys", EXPECTED_ORDER)));
        };
        let (field, order) = match name.strip_prefix('!') {
            Some(field) => (field, Order::Desc),
            None => (name, Order::Asc),
        };
        match self.columns.iter().find(|c| c.name == field) {
            Some(column) => Ok((column.name, order)),
            None => {
                let known: Vec<_> = self.columns.iter().map(|c| c.name).collect();
                let unknown = format!("unknown field `{field}` (orderable: {})", known.join(", "));
                Err(self.refusal.refuse(Error::invalid("order_bys", unknown)))
            }
        }
    }
}

impl<'de> DeserializeSeed<'de> for OrderBysSeed<'_, '_> {
    type Value = Vec<(&'static str, Order)>;

    fn deserialize<D: Deserializer<'de>>(self, input: D) -> Result<Self::Value, D::Error> {
        input.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for OrderBysSeed<'_, '_> {
    type Value = Vec<(&'static str, Order)>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name or a list of them")
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut order_bys = Vec::new();
        while let Some(name) = seq.next_element_seed(NameSeed { refusal: &mut *self.refusal })? {
            if order_bys.len() == MAX_ORDER_BYS {
                let too_many = Error::invalid("order_bys", format!("at most {MAX_ORDER_BYS} entries"));
                return Err(self.refusal.refuse(too_many));
            }
            order_bys.push(self.order_by(Scalar::Str(&name))?);
        }
        Ok(order_bys)
    }

    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        self.scalar(Scalar::Object)
    }

    visit_scalars!();
}

/// One entry of an `order_bys` array: a string, anything else refused unread.
struct NameSeed<'r> {
    refusal: &'r mut Refusal,
}

impl NameSeed<'_> {
    fn scalar<E: serde::de::Error>(self, value: Scalar<'_>) -> Result<String, E> {
        match value {
            Scalar::Str(name) => Ok(name.to_owned()),
            _ => Err(self.refusal.refuse(Error::invalid("order_bys", EXPECTED_ORDER))),
        }
    }
}

impl<'de> DeserializeSeed<'de> for NameSeed<'_> {
    type Value = String;

    fn deserialize<D: Deserializer<'de>>(self, input: D) -> Result<String, D::Error> {
        input.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for NameSeed<'_> {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<String, A::Error> {
        self.scalar(Scalar::Array)
    }

    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<String, A::Error> {
        self.scalar(Scalar::Object)
    }

    visit_scalars!();
}
