//! JSON Schemas (draft 7, through `schemars`) of what an entity's declaration says: its row
//! (from its columns), its create and update inputs (from their fields), its `filters` and its
//! `list_options` (from its columns and the filter decoders' tables). The entity derives
//! implement `JsonSchema` with these; lib-rpc's OpenRPC document is made of them. Nothing here
//! is written per entity.

use crate::base::Entity;
use crate::filter::schema as filter_schema;
use crate::filter::{Column, FieldKind};
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::{Map, Value, json};
use std::borrow::Cow;
use std::marker::PhantomData;

/// A column's value: its kind's, or `null` too when it is nullable.
fn value(kind: FieldKind, nullable: bool) -> Value {
    let mut value = filter_schema::scalar(kind);
    if nullable {
        let kind = value["type"].take();
        value["type"] = json!([kind, "null"]);
    }
    value
}

/// An object with `properties`. An input is closed (the server refuses a member it does not
/// name); a row is open, since a later version of the API may answer more fields in it.
fn object(title: &str, properties: Map<String, Value>, required: Vec<&str>, closed: bool) -> Schema {
    let mut schema = json!({
        "title": title,
        "type": "object",
        "properties": properties,
        "required": required,
    });
    if closed {
        schema["additionalProperties"] = json!(false);
    }
    Schema::try_from(schema).expect("an object is a schema")
}

/// A row as it is answered: every column, always present (`null` when a nullable one is empty).
pub fn row(title: &str, columns: &[Column]) -> Schema {
    let properties = columns
        .iter()
        .map(|column| {
            let mut schema = value(column.kind, column.nullable);
            if column.computed {
                schema["readOnly"] = json!(true);
            }
            (column.name.to_string(), schema)
        })
        .collect();
    object(title, properties, columns.iter().map(|column| column.name).collect(), false)
}

/// One field of a create or update input, as its declaration types it.
#[derive(Debug, Clone, Copy)]
pub struct InputField {
    pub name: &'static str,
    pub kind: FieldKind,
    /// Not an `Option`: the input needs it.
    pub required: bool,
    /// `null` is accepted: it clears the field (an update's `Option<Option<T>>`) or leaves it
    /// to its default (a create's `Option<T>`).
    pub nullable: bool,
}

/// A create or update input: its fields, no others.
pub fn input(title: &str, fields: &[InputField]) -> Schema {
    let properties = fields.iter().map(|field| (field.name.to_string(), value(field.kind, field.nullable))).collect();
    object(title, properties, fields.iter().filter(|field| field.required).map(|field| field.name).collect(), true)
}

/// The `filters` of entity `E`: its schema is named `<Entity>Filters`, its filter object
/// `<Entity>Filter`, and the operators of each kind `<Kind>Operators`.
pub struct FiltersOf<E>(PhantomData<E>);

impl<E: Entity + JsonSchema> JsonSchema for FiltersOf<E> {
    fn schema_name() -> Cow<'static, str> {
        format!("{}Filters", E::schema_name()).into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let filter_ref = generator.subschema_for::<FilterOf<E>>();
        schema(filter_schema::filters(&Self::schema_name(), filter_ref.as_value()))
    }
}

/// One filter object of `E` (see [`FiltersOf`]).
struct FilterOf<E>(PhantomData<E>);

impl<E: Entity + JsonSchema> JsonSchema for FilterOf<E> {
    fn schema_name() -> Cow<'static, str> {
        format!("{}Filter", E::schema_name()).into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let filter_ref = generator.subschema_for::<Self>();
        let operators_ref = |kind| {
            let name = filter_schema::operators_name(kind);
            generator.definitions_mut().entry(name).or_insert_with(|| filter_schema::operators_schema(kind));
            json!({"$ref": format!("{}/{name}", definitions_ref(generator))})
        };
        let object =
            filter_schema::filter_object(&Self::schema_name(), E::COLUMNS, filter_ref.as_value(), operators_ref);
        schema(object)
    }
}

/// Where the generator's `$ref`s point, `#/components/schemas` say.
fn definitions_ref(generator: &SchemaGenerator) -> String {
    let path = generator.settings().definitions_path.trim_start_matches('#').trim_end_matches('/');
    format!("#{path}")
}

/// The `list_options` of entity `E`, named `<Entity>ListOptions`.
pub struct ListOptionsOf<E>(PhantomData<E>);

impl<E: Entity + JsonSchema> JsonSchema for ListOptionsOf<E> {
    fn schema_name() -> Cow<'static, str> {
        format!("{}ListOptions", E::schema_name()).into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        schema(filter_schema::list_options(&Self::schema_name(), E::COLUMNS))
    }
}

/// A time as the API carries it: RFC 3339 text (an `if_mtime`).
pub struct Timestamp;

impl JsonSchema for Timestamp {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "Timestamp".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        schema(filter_schema::scalar(FieldKind::Time))
    }
}

/// The time the examples show.
pub const EXAMPLE_TIME: &str = "2026-11-30T12:00:00.000000Z";

/// An example value of a field named `name` of `kind`: ids are 1, which on a freshly seeded
/// development database name demo1's first project and task.
fn example_value(name: &str, kind: FieldKind) -> Value {
    match kind {
        FieldKind::Int => json!(1),
        FieldKind::Text => json!(format!("Example {name}")),
        FieldKind::Bool => json!(false),
        FieldKind::Time => json!(EXAMPLE_TIME),
    }
}

/// An example row: every column with an example value.
pub fn example_row(columns: &[Column]) -> Value {
    columns.iter().map(|column| (column.name.to_string(), example_value(column.name, column.kind))).collect()
}

/// An example input: every field with an example value.
pub fn example_input(fields: &[InputField]) -> Value {
    fields.iter().map(|field| (field.name.to_string(), example_value(field.name, field.kind))).collect()
}

fn schema(value: Value) -> Schema {
    Schema::try_from(value).expect("an object is a schema")
}
