//! JSON filters to typed operators, with an error naming the field for anything unknown or
//! ill-typed.

use super::{Column, FieldKind};
use crate::{Error, Result};
use modql::filter::{OpValBool, OpValString};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The most values one list operator (`$in`, `$containsAny`, ...) may carry.
pub const MAX_LIST_VALUES: usize = 1000;
/// The most values a whole filter may carry: each is a bound parameter, and a statement holds at
/// most 65,535 of them.
pub const MAX_FILTER_VALUES: usize = 10_000;

/// A parsed filter: groups OR-ed together, the conditions of a group AND-ed.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub(super) groups: Vec<Vec<FieldFilter>>,
}

#[derive(Debug, Clone)]
pub(super) struct FieldFilter {
    pub(super) column: Column,
    pub(super) ops: FieldOps,
}

/// The operators given for one field, typed by the field's kind.
#[derive(Debug, Clone)]
pub(super) enum FieldOps {
    Text(Vec<OpValString>),
    Bool(Vec<OpValBool>),
    Int(Vec<Cmp<i64>>),
    Time(Vec<Cmp<OffsetDateTime>>),
}

/// The comparison operators of numbers and times (modql's numeric operator set).
#[derive(Debug, Clone)]
pub(super) enum Cmp<T> {
    Eq(T),
    Not(T),
    In(Vec<T>),
    NotIn(Vec<T>),
    Lt(T),
    Lte(T),
    Gt(T),
    Gte(T),
    Null(bool),
}

impl<T> Cmp<T> {
    fn value_count(&self) -> usize {
        match self {
            Cmp::In(values) | Cmp::NotIn(values) => values.len(),
            _ => 1,
        }
    }
}

impl Filters {
    /// Parses `filters` as clients send it: absent, `null`, one object, or an array of objects.
    pub fn parse(filters: Option<&Value>, columns: &[Column]) -> Result<Self> {
        let groups = match filters {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Object(group)) => vec![parse_group(group, columns, "filters")?],
            Some(Value::Array(groups)) => groups
                .iter()
                .enumerate()
                .map(|(i, group)| match group {
                    Value::Object(group) => parse_group(group, columns, &format!("filters[{i}]")),
                    _ => Err(Error::invalid(format!("filters[{i}]: must be an object"))),
                })
                .collect::<Result<_>>()?,
            Some(_) => return Err(Error::invalid("filters: must be an object or an array of objects")),
        };
        let filters = Self { groups };
        if filters.value_count() > MAX_FILTER_VALUES {
            return Err(Error::invalid(format!("filters: at most {MAX_FILTER_VALUES} values in all")));
        }
        Ok(filters)
    }

    /// Parses `filters` as the request carried them (raw JSON text).
    pub fn parse_raw(filters: Option<&serde_json::value::RawValue>, columns: &[Column]) -> Result<Self> {
        // TODO(robustness): decode under the budgets instead of into a Value first.
        let value = filters.map(|raw| serde_json::from_str::<Value>(raw.get())).transpose();
        Self::parse(value.map_err(|e| Error::invalid(format!("filters: {e}")))?.as_ref(), columns)
    }

    /// How many values the filter binds.
    fn value_count(&self) -> usize {
        let text = |op: &OpValString| match op {
            OpValString::In(values)
            | OpValString::NotIn(values)
            | OpValString::ContainsAny(values)
            | OpValString::NotContainsAny(values)
            | OpValString::ContainsAll(values)
            | OpValString::StartsWithAny(values)
            | OpValString::NotStartsWithAny(values)
            | OpValString::EndsWithAny(values)
            | OpValString::NotEndsWithAny(values) => values.len(),
            _ => 1,
        };
        self.groups
            .iter()
            .flatten()
            .map(|filter| match &filter.ops {
                FieldOps::Text(ops) => ops.iter().map(text).sum(),
                FieldOps::Bool(ops) => ops.len(),
                FieldOps::Int(ops) => ops.iter().map(Cmp::value_count).sum(),
                FieldOps::Time(ops) => ops.iter().map(Cmp::value_count).sum(),
            })
            .sum()
    }
}

fn parse_group(group: &Map<String, Value>, columns: &[Column], path: &str) -> Result<Vec<FieldFilter>> {
    group
        .iter()
        .map(|(field, value)| {
            let column = columns.iter().find(|c| c.name == field).ok_or_else(|| {
                let known: Vec<_> = columns.iter().map(|c| c.name).collect();
                Error::invalid(format!("{path}.{field}: unknown field (filterable: {})", known.join(", ")))
            })?;
            let at = Path { path, field };
            let ops = match column.kind {
                FieldKind::Text => FieldOps::Text(parse_ops(value, at, text_op)?),
                FieldKind::Bool => FieldOps::Bool(parse_ops(value, at, bool_op)?),
                FieldKind::Int => FieldOps::Int(parse_ops(value, at, |op, v, at| cmp_op(op, v, at, int_value))?),
                FieldKind::Time => FieldOps::Time(parse_ops(value, at, |op, v, at| cmp_op(op, v, at, time_value))?),
            };
            Ok(FieldFilter { column: *column, ops })
        })
        .collect()
}

/// Where a value sits, for error details: `filters[1].title.$in`.
#[derive(Clone, Copy)]
struct Path<'a> {
    path: &'a str,
    field: &'a str,
}

impl Path<'_> {
    fn error(&self, op: &str, what: impl std::fmt::Display) -> Error {
        Error::invalid(format!("{}.{}{}{op}: {what}", self.path, self.field, if op.is_empty() { "" } else { "." }))
    }
}

/// A bare value means `$eq`; an object holds operators, all of which must hold.
fn parse_ops<T>(value: &Value, at: Path, parse_op: impl Fn(&str, &Value, Path) -> Result<T>) -> Result<Vec<T>> {
    match value {
        Value::Object(ops) => ops.iter().map(|(op, v)| parse_op(op, v, at)).collect(),
        bare => Ok(vec![parse_op("$eq", bare, at)?]),
    }
}

fn text_op(op: &str, value: &Value, at: Path) -> Result<OpValString> {
    let one = || text_value(value, at, op);
    let many = || list(value, at, op, |v| text_value(v, at, op));
    let flag = || bool_value(value, at, op);
    Ok(match op {
        "$eq" => OpValString::Eq(one()?),
        "$not" => OpValString::Not(one()?),
        "$in" => OpValString::In(many()?),
        "$notIn" => OpValString::NotIn(many()?),
        "$lt" => OpValString::Lt(one()?),
        "$lte" => OpValString::Lte(one()?),
        "$gt" => OpValString::Gt(one()?),
        "$gte" => OpValString::Gte(one()?),
        "$contains" => OpValString::Contains(one()?),
        "$notContains" => OpValString::NotContains(one()?),
        "$containsAny" => OpValString::ContainsAny(many()?),
        "$notContainsAny" => OpValString::NotContainsAny(many()?),
        "$containsAll" => OpValString::ContainsAll(many()?),
        "$startsWith" => OpValString::StartsWith(one()?),
        "$notStartsWith" => OpValString::NotStartsWith(one()?),
        "$startsWithAny" => OpValString::StartsWithAny(many()?),
        "$notStartsWithAny" => OpValString::NotStartsWithAny(many()?),
        "$endsWith" => OpValString::EndsWith(one()?),
        "$notEndsWith" => OpValString::NotEndsWith(one()?),
        "$endsWithAny" => OpValString::EndsWithAny(many()?),
        "$notEndsWithAny" => OpValString::NotEndsWithAny(many()?),
        "$containsCi" => OpValString::ContainsCi(one()?),
        "$notContainsCi" => OpValString::NotContainsCi(one()?),
        "$startsWithCi" => OpValString::StartsWithCi(one()?),
        "$notStartsWithCi" => OpValString::NotStartsWithCi(one()?),
        "$endsWithCi" => OpValString::EndsWithCi(one()?),
        "$notEndsWithCi" => OpValString::NotEndsWithCi(one()?),
        "$ilike" => OpValString::Ilike(one()?),
        "$empty" => OpValString::Empty(flag()?),
        "$null" => OpValString::Null(flag()?),
        _ => return Err(unknown_op(op, at, "text")),
    })
}

fn bool_op(op: &str, value: &Value, at: Path) -> Result<OpValBool> {
    let flag = || bool_value(value, at, op);
    Ok(match op {
        "$eq" => OpValBool::Eq(flag()?),
        "$not" => OpValBool::Not(flag()?),
        "$null" => OpValBool::Null(flag()?),
        _ => return Err(unknown_op(op, at, "bool")),
    })
}

fn cmp_op<T>(op: &str, value: &Value, at: Path, parse: fn(&Value, Path, &str) -> Result<T>) -> Result<Cmp<T>> {
    let one = || parse(value, at, op);
    let many = || list(value, at, op, |v| parse(v, at, op));
    Ok(match op {
        "$eq" => Cmp::Eq(one()?),
        "$not" => Cmp::Not(one()?),
        "$in" => Cmp::In(many()?),
        "$notIn" => Cmp::NotIn(many()?),
        "$lt" => Cmp::Lt(one()?),
        "$lte" => Cmp::Lte(one()?),
        "$gt" => Cmp::Gt(one()?),
        "$gte" => Cmp::Gte(one()?),
        "$null" => Cmp::Null(bool_value(value, at, op)?),
        _ => return Err(unknown_op(op, at, "this")),
    })
}

fn unknown_op(op: &str, at: Path, kind: &str) -> Error {
    at.error("", format!("unknown operator `{op}` for a {kind} field"))
}

fn list<T>(value: &Value, at: Path, op: &str, item: impl Fn(&Value) -> Result<T>) -> Result<Vec<T>> {
    let Value::Array(items) = value else {
        return Err(at.error(op, "expected an array"));
    };
    if items.len() > MAX_LIST_VALUES {
        return Err(at.error(op, format!("at most {MAX_LIST_VALUES} values, got {}", items.len())));
    }
    items.iter().map(item).collect()
}

fn text_value(value: &Value, at: Path, op: &str) -> Result<String> {
    match value {
        Value::String(text) if text.contains('\0') => Err(at.error(op, "text must not contain NUL characters")),
        Value::String(text) => Ok(text.clone()),
        _ => Err(at.error(op, "expected a string")),
    }
}

fn bool_value(value: &Value, at: Path, op: &str) -> Result<bool> {
    value.as_bool().ok_or_else(|| at.error(op, "expected true or false"))
}

fn int_value(value: &Value, at: Path, op: &str) -> Result<i64> {
    match value {
        Value::Number(n) => n.as_i64().ok_or_else(|| at.error(op, "expected a whole number within 64 bits")),
        _ => Err(at.error(op, "expected a number")),
    }
}

fn time_value(value: &Value, at: Path, op: &str) -> Result<OffsetDateTime> {
    value
        .as_str()
        .and_then(|text| OffsetDateTime::parse(text, &Rfc3339).ok())
        .ok_or_else(|| at.error(op, "expected an RFC 3339 time, like 2026-11-22T10:00:00.123456Z"))
}
