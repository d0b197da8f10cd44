//! `list_options.order_bys`: one field name or a list of at most [`MAX_ORDER_BYS`] of them, each
//! checked against the entity's columns as it is read, and the order they make.

use super::list_options::MAX_ORDER_BYS;
use super::scalar::{Refusal, Scalar, visit_scalars};
use super::{Column, FieldKind};
use crate::Error;
use sea_query::{NullOrdering, Order};
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// `order_bys`: `null`, one field name, or an array of at most [`MAX_ORDER_BYS`] of them; `!`
/// before a name means descending.
pub(super) struct OrderBysSeed<'c, 'r> {
    columns: &'c [Column],
    refusal: &'r mut Refusal,
}

/// One key of an order: a column and its direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SortKey {
    pub(crate) column: Column,
    pub(crate) descending: bool,
}

/// Every entity's unique key: the last key of every order.
const ID: Column = Column::new("id", FieldKind::Int);

impl SortKey {
    pub(crate) const ID_ASC: SortKey = SortKey { column: ID, descending: false };

    pub(crate) fn order(self) -> Order {
        if self.descending { Order::Desc } else { Order::Asc }
    }

    /// Where NULLs sort: as if greater than every value, so last ascending and first
    /// descending. It is Postgres' own default, said explicitly so that the order and the
    /// keyset condition that continues it (see `keyset.rs`) cannot disagree.
    pub(crate) fn nulls(self) -> NullOrdering {
        if self.descending { NullOrdering::First } else { NullOrdering::Last }
    }

    /// The key as a client writes it in `order_bys`: `title`, `!title`.
    pub(crate) fn client_form(self) -> String {
        let bang = if self.descending { "!" } else { "" };
        format!("{bang}{}", self.column.name)
    }
}

/// The order a list runs, from the keys a client gave: each column at its first mention only (a
/// later one cannot change the order), nothing after `id` (unique, it settles every tie), and
/// `id` ascending last when the client did not name it. Pages are stable, and a cursor holds
/// each column's value once.
pub(super) fn settled(keys: Vec<SortKey>) -> Vec<SortKey> {
    let mut order: Vec<SortKey> = Vec::with_capacity(keys.len() + 1);
    for key in keys {
        if order.iter().any(|seen| seen.column.name == key.column.name) {
            continue;
        }
        order.push(key);
        if key.column.name == ID.name {
            return order;
        }
    }
    order.push(SortKey::ID_ASC);
    order
}

const EXPECTED_ORDER: &str = "expected a field name or a list of them";

impl<'c, 'r> OrderBysSeed<'c, 'r> {
    pub(super) fn new(columns: &'c [Column], refusal: &'r mut Refusal) -> Self {
        Self { columns, refusal }
    }

    fn scalar<E: serde::de::Error>(mut self, value: Scalar<'_>) -> Result<Vec<SortKey>, E> {
        match value {
            Scalar::Null => Ok(Vec::new()),
            name => Ok(vec![self.order_by(name)?]),
        }
    }

    fn order_by<E: serde::de::Error>(&mut self, name: Scalar<'_>) -> Result<SortKey, E> {
        let Scalar::Str(name) = name else {
            return Err(self.refusal.refuse(Error::invalid("order_bys", EXPECTED_ORDER)));
        };
        let (field, descending) = match name.strip_prefix('!') {
            Some(field) => (field, true),
            None => (name, false),
        };
        match self.columns.iter().find(|c| c.name == field) {
            Some(column) => Ok(SortKey { column: *column, descending }),
            None => {
                let known: Vec<_> = self.columns.iter().map(|c| c.name).collect();
                let unknown = format!("unknown field `{field}` (orderable: {})", known.join(", "));
                Err(self.refusal.refuse(Error::invalid("order_bys", unknown)))
            }
        }
    }
}

impl<'de> DeserializeSeed<'de> for OrderBysSeed<'_, '_> {
    type Value = Vec<SortKey>;

    fn deserialize<D: Deserializer<'de>>(self, input: D) -> Result<Self::Value, D::Error> {
        input.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for OrderBysSeed<'_, '_> {
    type Value = Vec<SortKey>;

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
