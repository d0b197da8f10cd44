//! The JSON Schemas of `filters` and `list_options` for an entity's columns, as the decoders of
//! this module read them: each field's operators come from its kind's table in `ops`, the
//! budgets from the same constants the decoders count against.

use super::ops::{Operand, operators};
use super::{Column, FieldKind, MAX_CURSOR_LEN, MAX_LIMIT, MAX_LIST_VALUES, MAX_ORDER_BYS};
use serde_json::{Map, Value, json};

/// A value of `kind` as JSON carries it.
pub fn scalar(kind: FieldKind) -> Value {
    match kind {
        FieldKind::Int => json!({"type": "integer", "format": "int64"}),
        FieldKind::Text => json!({"type": "string"}),
        FieldKind::Bool => json!({"type": "boolean"}),
        FieldKind::Time => json!({"type": "string", "format": "date-time"}),
    }
}

/// The name of the schema of `kind`'s operators (`TextOperators`), which [`operators_schema`]
/// describes and every filter of a field of that kind refers to.
pub fn operators_name(kind: FieldKind) -> &'static str {
    match kind {
        FieldKind::Int => "IntOperators",
        FieldKind::Text => "TextOperators",
        FieldKind::Bool => "BoolOperators",
        FieldKind::Time => "TimeOperators",
    }
}

/// `{"$op": value, ...}` for a field of `kind`: every operator its table knows, nothing else.
pub fn operators_schema(kind: FieldKind) -> Value {
    let properties: Map<String, Value> = operators(kind)
        .into_iter()
        .map(|(name, Operand { list, flag })| {
            let value = if flag { json!({"type": "boolean"}) } else { scalar(kind) };
            let value =
                if list { json!({"type": "array", "items": value, "maxItems": MAX_LIST_VALUES}) } else { value };
            (name.to_string(), value)
        })
        .collect();
    json!({
        "title": operators_name(kind),
        "description": "Operators of a field, AND-ed.",
        "type": "object",
        "properties": properties,
        "additionalProperties": false,
    })
}

/// One filter object of an entity: its fields' conditions (a value for equality, or operators)
/// and the logic keys, AND-ed. `filter_ref` and `operators_ref` make the `$ref`s to the filter
/// object itself and to a kind's operators.
pub fn filter_object(
    title: &str,
    columns: &[Column],
    filter_ref: &Value,
    mut operators_ref: impl FnMut(FieldKind) -> Value,
) -> Value {
    let mut properties: Map<String, Value> = columns
        .iter()
        .map(|column| {
            let condition = json!({"anyOf": [scalar(column.kind), operators_ref(column.kind)]});
            (column.name.to_string(), condition)
        })
        .collect();
    let one_or_many = json!({"anyOf": [filter_ref, {"type": "array", "items": filter_ref, "minItems": 1}]});
    let list = json!({"type": "array", "items": one_or_many, "minItems": 1});
    properties.insert("$and".into(), list.clone());
    properties.insert("$or".into(), list);
    properties.insert("$not".into(), one_or_many);
    json!({
        "title": title,
        "description": "Conditions AND-ed: a field's value (equality) or its operators; `$and` and `$or` take lists of filters, `$not` one.",
        "type": "object",
        "properties": properties,
        "additionalProperties": false,
    })
}

/// `filters`: nothing, one filter object, or an array of them (OR-ed).
pub fn filters(title: &str, filter_ref: &Value) -> Value {
    json!({
        "title": title,
        "anyOf": [{"type": "null"}, filter_ref, {"type": "array", "items": filter_ref}],
    })
}

/// `list_options` of an entity: the order by its columns (`!` for descending), limit, offset
/// and cursor; a member given as `null` means its default, as an absent one does.
pub fn list_options(title: &str, columns: &[Column]) -> Value {
    let names: Vec<String> =
        columns.iter().flat_map(|column| [column.name.to_string(), format!("!{}", column.name)]).collect();
    let order = json!({"type": "string", "enum": names});
    json!({
        "title": title,
        "type": "object",
        "properties": {
            "order_bys": {"anyOf": [{"type": "null"}, order, {"type": "array", "items": order, "maxItems": MAX_ORDER_BYS}]},
            "limit": {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_LIMIT},
            "offset": {"type": ["integer", "null"], "minimum": 0},
            "cursor": {
                "type": ["string", "null"],
                "maxLength": MAX_CURSOR_LEN,
                "description": "A `next_cursor` as a list answered it; not with `offset`.",
            },
        },
        "additionalProperties": false,
    })
}
