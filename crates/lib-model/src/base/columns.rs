//! What the entity derives (`lib-model-macros`) build on: an entity's columns, each column's kind
//! and nullability from its Rust type, and how a field is written as JSON.

use crate::filter::{Column, FieldKind};
use serde::Serializer;
use serde::ser::SerializeStruct;
use time::OffsetDateTime;

/// A row struct's columns, in order: what is selected and returned, and the allowlist for
/// filters and `order_bys`. Derived by `#[derive(Entity)]` / `#[derive(ColumnGroup)]`.
pub trait Columns {
    const COLUMNS: &'static [Column];

    /// Writes each column as a member of the JSON object being written (a group's columns go
    /// inline into the entity's object).
    fn serialize_fields<S: SerializeStruct>(&self, out: &mut S) -> Result<(), S::Error>;
}

/// A Rust type a column can have: its filter kind, whether it is nullable, and its JSON form.
pub trait FieldType {
    const KIND: FieldKind;
    const NULLABLE: bool = false;

    fn serialize_json<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error>;
}

impl FieldType for i64 {
    const KIND: FieldKind = FieldKind::Int;

    fn serialize_json<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i64(*self)
    }
}

impl FieldType for bool {
    const KIND: FieldKind = FieldKind::Bool;

    fn serialize_json<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bool(*self)
    }
}

impl FieldType for String {
    const KIND: FieldKind = FieldKind::Text;

    fn serialize_json<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self)
    }
}

/// RFC 3339 in UTC with the database's microseconds, so a time the server returns can be sent
/// back as a filter value.
impl FieldType for OffsetDateTime {
    const KIND: FieldKind = FieldKind::Time;

    fn serialize_json<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        time::serde::rfc3339::serialize(self, serializer)
    }
}

/// A nullable column: `null` in JSON when there is no value.
impl<T: FieldType> FieldType for Option<T> {
    const KIND: FieldKind = T::KIND;
    const NULLABLE: bool = true;

    fn serialize_json<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Some(value) => value.serialize_json(serializer),
            None => serializer.serialize_none(),
        }
    }
}

/// A field written through its [`FieldType`] (the derives' `Serialize`).
pub struct AsJson<'a, T>(pub &'a T);

impl<T: FieldType> serde::Serialize for AsJson<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize_json(serializer)
    }
}

impl Column {
    /// The column `name` of a field of type `T`.
    pub const fn of<T: FieldType>(name: &'static str) -> Self {
        Self { name, kind: T::KIND, nullable: T::NULLABLE, computed: false }
    }
}

/// The parts of a column list (own columns and groups, in field order) as one array of `N`
/// columns; evaluated at compile time, where a wrong `N` stops the build.
pub const fn concat_columns<const N: usize>(parts: &[&[Column]]) -> [Column; N] {
    let mut columns = [Column::new("", FieldKind::Int); N];
    let (mut part, mut filled) = (0, 0);
    while part < parts.len() {
        let mut i = 0;
        while i < parts[part].len() {
            columns[filled] = parts[part][i];
            filled += 1;
            i += 1;
        }
        part += 1;
    }
    assert!(filled == N, "the column parts do not add up to the declared count");
    columns
}
