//! `list_options`: order, limit, offset and cursor, checked against the entity's columns and
//! decoded straight from the request's JSON text under their own budgets ([`MAX_ORDER_BYS`],
//! [`MAX_CURSOR_LEN`]).

use super::cursor::MAX_CURSOR_LEN;
use super::order_bys::{OrderBysSeed, SortKey, settled};
use super::scalar::{Refusal, Scalar, visit_scalars};
use super::{Column, ColumnRefs};
use crate::Error;
use sea_query::SelectStatement;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;
use std::fmt;

pub const DEFAULT_LIMIT: u64 = 100;
pub const MAX_LIMIT: u64 = 1000;
/// The most entries of `order_bys`: each is a sort key of the statement, and more than a few
/// cannot change an order that already ends on the unique `id`.
pub const MAX_ORDER_BYS: usize = 16;

/// Validated list options. The order always ends on `id`, so pages are stable.
#[derive(Debug, Clone)]
pub struct ListOptions {
    order_bys: Vec<SortKey>,
    limit: u64,
    offset: u64,
    /// A `next_cursor` as the client sent it back, of at most [`MAX_CURSOR_LEN`] bytes: opened
    /// (its seal, entity and order checked) by the list that runs it, which holds the key.
    cursor: Option<String>,
}

impl Default for ListOptions {
    /// Order by `id` ascending, the default limit, no offset, no cursor.
    fn default() -> Self {
        Self::unsettled().settled()
    }
}

impl ListOptions {
    /// Parses `{"order_bys"?: s | [s], "limit"?: n, "offset"?: n, "cursor"?: s}` given as a
    /// `Value`; absent or `null` means defaults. The same decoder as [`ListOptions::parse_raw`].
    pub fn parse(options: Option<&Value>, columns: &[Column]) -> crate::Result<Self> {
        match options {
            None => Ok(Self::default()),
            Some(value) => decode(value, columns),
        }
    }

    /// Parses `list_options` as the request carried them (raw JSON text).
    pub fn parse_raw(options: Option<&RawValue>, columns: &[Column]) -> crate::Result<Self> {
        let Some(raw) = options else {
            return Ok(Self::default());
        };
        let mut input = serde_json::Deserializer::from_str(raw.get());
        let options = decode(&mut input, columns)?;
        input.end().map_err(|e| Error::invalid("", e.to_string()))?;
        Ok(options)
    }

    fn unsettled() -> Self {
        Self { order_bys: Vec::new(), limit: DEFAULT_LIMIT, offset: 0, cursor: None }
    }

    /// The order as it runs (see [`settled`]).
    fn settled(mut self) -> Self {
        self.order_bys = settled(self.order_bys);
        self
    }

    /// Whether the order is the default one (`id` ascending alone), whatever the page.
    pub(crate) fn has_default_order(&self) -> bool {
        self.order_bys == [SortKey::ID_ASC]
    }

    /// The order, ending on `id`.
    pub(crate) fn order_bys(&self) -> &[SortKey] {
        &self.order_bys
    }

    /// The most rows a page holds.
    pub(crate) fn limit(&self) -> u64 {
        self.limit
    }

    /// The cursor to continue after, still sealed.
    pub(crate) fn cursor(&self) -> Option<&str> {
        self.cursor.as_deref()
    }

    /// Orders `select`, with NULLs placed explicitly in nullable columns, and asks for one row
    /// more than the limit: the row that tells whether another page follows.
    pub(crate) fn apply(&self, refs: &ColumnRefs, select: &mut SelectStatement) {
        for key in &self.order_bys {
            let column = refs.expr(&key.column);
            match key.column.nullable {
                true => select.order_by_expr_with_nulls(column, key.order(), key.nulls()),
                false => select.order_by_expr(column, key.order()),
            };
        }
        select.limit(self.limit + 1).offset(self.offset);
    }

    /// How many sort keys (with the final `id`), the limit and the offset.
    #[cfg(test)]
    pub(super) fn shape(&self) -> (usize, u64, u64) {
        (self.order_bys.len(), self.limit, self.offset)
    }
}

fn decode<'de, D: Deserializer<'de>>(input: D, columns: &[Column]) -> crate::Result<ListOptions> {
    let mut refusal = Refusal::default();
    match input.deserialize_any(OptionsVisitor { columns, refusal: &mut refusal }) {
        Ok(options) => Ok(options.settled()),
        Err(error) => Err(refusal.into_error(error)),
    }
}

struct OptionsVisitor<'c, 'r> {
    columns: &'c [Column],
    refusal: &'r mut Refusal,
}

impl<'de> Visitor<'de> for OptionsVisitor<'_, '_> {
    type Value = ListOptions;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ListOptions, A::Error> {
        let mut parsed = ListOptions::unsettled();
        let mut offset_given = false;
        let mut seen: [bool; 4] = [false; 4];
        while let Some(key) = map.next_key::<String>()? {
            let slot = match key.as_str() {
                "order_bys" => 0,
                "limit" => 1,
                "offset" => 2,
                "cursor" => 3,
                other => {
                    let unknown = Error::invalid(other, "unknown option (order_bys, limit, offset, cursor)");
                    return Err(self.refusal.refuse(unknown));
                }
            };
            if std::mem::replace(&mut seen[slot], true) {
                return Err(self.refusal.refuse(Error::invalid(key, "given twice")));
            }
            // A member given as `null` means its default, as an absent one does.
            match slot {
                0 => {
                    let seed = OrderBysSeed::new(self.columns, &mut *self.refusal);
                    parsed.order_bys = map.next_value_seed(seed)?;
                }
                1 => {
                    let limit = map.next_value_seed(IntSeed { refusal: &mut *self.refusal, bound: Bound::Limit })?;
                    parsed.limit = limit.unwrap_or(DEFAULT_LIMIT);
                }
                2 => {
                    let offset = map.next_value_seed(IntSeed { refusal: &mut *self.refusal, bound: Bound::Offset })?;
                    offset_given = offset.is_some();
                    parsed.offset = offset.unwrap_or(0);
                }
                _ => parsed.cursor = map.next_value_seed(CursorSeed { refusal: &mut *self.refusal })?,
            }
        }
        if offset_given && parsed.cursor.is_some() {
            let both =
                Error::invalid("cursor", "cannot be given with an offset: the cursor says where the page starts");
            return Err(self.refusal.refuse(both));
        }
        Ok(parsed)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<ListOptions, A::Error> {
        self.scalar(Scalar::Array)
    }

    visit_scalars!();
}

impl OptionsVisitor<'_, '_> {
    fn scalar<E: serde::de::Error>(self, value: Scalar<'_>) -> Result<ListOptions, E> {
        match value {
            Scalar::Null => Ok(ListOptions::unsettled()),
            _ => Err(self.refusal.refuse(Error::invalid("", "must be an object"))),
        }
    }
}

/// Which whole-number option an [`IntSeed`] reads.
#[derive(Clone, Copy)]
enum Bound {
    Limit,
    Offset,
}

impl Bound {
    fn check(self, value: Scalar<'_>) -> Option<u64> {
        let whole = match value {
            Scalar::Int(n) => u64::try_from(n).ok()?,
            Scalar::UInt(n) => n,
            _ => return None,
        };
        match self {
            Bound::Limit => (1..=MAX_LIMIT).contains(&whole).then_some(whole),
            // At most i64::MAX: Postgres' OFFSET is a bigint.
            Bound::Offset => i64::try_from(whole).is_ok().then_some(whole),
        }
    }

    fn refused(self) -> Error {
        match self {
            Bound::Limit => Error::invalid("limit", format!("must be 1 to {MAX_LIMIT}")),
            Bound::Offset => Error::invalid("offset", "must be a whole number, 0 or more"),
        }
    }
}

/// `limit` or `offset`: `null` (the default) or a whole number in its bound.
struct IntSeed<'r> {
    refusal: &'r mut Refusal,
    bound: Bound,
}

impl IntSeed<'_> {
    fn scalar<E: serde::de::Error>(self, value: Scalar<'_>) -> Result<Option<u64>, E> {
        match (value, self.bound.check(value)) {
            (Scalar::Null, _) => Ok(None),
            (_, Some(n)) => Ok(Some(n)),
            (_, None) => Err(self.refusal.refuse(self.bound.refused())),
        }
    }
}

impl<'de> DeserializeSeed<'de> for IntSeed<'_> {
    type Value = Option<u64>;

    fn deserialize<D: Deserializer<'de>>(self, input: D) -> Result<Option<u64>, D::Error> {
        input.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for IntSeed<'_> {
    type Value = Option<u64>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a whole number")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Option<u64>, A::Error> {
        self.scalar(Scalar::Array)
    }

    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Option<u64>, A::Error> {
        self.scalar(Scalar::Object)
    }

    visit_scalars!();
}

/// `cursor`: `null` (none) or a string of at most [`MAX_CURSOR_LEN`] bytes, its length checked
/// before anything else is done with it.
struct CursorSeed<'r> {
    refusal: &'r mut Refusal,
}

impl CursorSeed<'_> {
    fn scalar<E: serde::de::Error>(self, value: Scalar<'_>) -> Result<Option<String>, E> {
        let refused = match value {
            Scalar::Null => return Ok(None),
            Scalar::Str(text) if text.len() <= MAX_CURSOR_LEN => return Ok(Some(text.to_owned())),
            Scalar::Str(_) => format!("longer than any cursor this server makes ({MAX_CURSOR_LEN} bytes)"),
            _ => "expected a string: the next_cursor of an earlier page".to_owned(),
        };
        Err(self.refusal.refuse(Error::invalid("cursor", refused)))
    }
}

impl<'de> DeserializeSeed<'de> for CursorSeed<'_> {
    type Value = Option<String>;

    fn deserialize<D: Deserializer<'de>>(self, input: D) -> Result<Option<String>, D::Error> {
        input.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for CursorSeed<'_> {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a cursor")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Option<String>, A::Error> {
        self.scalar(Scalar::Array)
    }

    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Option<String>, A::Error> {
        self.scalar(Scalar::Object)
    }

    visit_scalars!();
}
