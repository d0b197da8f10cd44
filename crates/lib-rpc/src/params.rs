//! Params of the methods, decoded straight from the request's JSON text into typed structs:
//! unknown fields, server-owned fields and wrong types are invalid params whose detail names the
//! field.
//!
//! Nothing here builds a `serde_json::Value`. Decoding the text into the method's struct checks
//! the shape as it reads: `deny_unknown_fields` refuses an unexpected member when its key is read,
//! before its value costs anything, and the parts that the model parses itself (`filters`,
//! `list_options`, `data`) stay raw text until then.

use crate::{Error, Result};
use lib_model::Invalid;
use lib_model::base::Entity;
use lib_model::schema::{FiltersOf, ListOptionsOf, Timestamp};
use lib_model::time::OffsetDateTime;
use schemars::JsonSchema;
use serde::de::{self, DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use std::fmt;
use std::marker::PhantomData;

/// The entity's column a key names when the server sets it and no client may (see
/// `lib_model::base::server_owned`).
pub type ServerOwnedFn = fn(&str) -> Option<&'static str>;

/// `{"data": {...}}`: an entity `E`'s create input.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, bound = "")]
#[schemars(bound = "E: Entity")]
pub struct ParamsForCreate<E> {
    #[schemars(with = "E::ForCreate")]
    pub data: Box<RawValue>,
    #[serde(skip)]
    #[schemars(skip)]
    entity: PhantomData<E>,
}

/// `{"id": n, "data": {...}, "if_mtime"?: t}`: an entity `E`'s update input.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, bound = "")]
#[schemars(bound = "E: Entity")]
pub struct ParamsForUpdate<E> {
    pub id: i64,
    #[schemars(with = "E::ForUpdate")]
    pub data: Box<RawValue>,
    /// Only while the row's `mtime` is still this (RFC 3339, as the server returned it).
    #[serde(default, with = "lib_model::time::serde::rfc3339::option")]
    #[schemars(with = "Option<Timestamp>")]
    pub if_mtime: Option<OffsetDateTime>,
    #[serde(skip)]
    #[schemars(skip)]
    entity: PhantomData<E>,
}

/// `{"id": n, "if_mtime"?: t}`
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ParamsForDelete {
    pub id: i64,
    /// Only while the row's `mtime` is still this (RFC 3339, as the server returned it).
    #[serde(default, with = "lib_model::time::serde::rfc3339::option")]
    #[schemars(with = "Option<Timestamp>")]
    pub if_mtime: Option<OffsetDateTime>,
}

/// `{"id": n}`
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ParamsIded {
    pub id: i64,
}

/// `{"filters"?: F, "list_options"?: L}`; filters and options are checked by the entity `E`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, bound = "")]
#[schemars(bound = "E: Entity")]
pub struct ParamsList<E> {
    #[serde(default)]
    #[schemars(with = "FiltersOf<E>")]
    pub filters: Option<Box<RawValue>>,
    #[serde(default)]
    #[schemars(with = "Option<ListOptionsOf<E>>")]
    pub list_options: Option<Box<RawValue>>,
    #[serde(skip)]
    #[schemars(skip)]
    entity: PhantomData<E>,
}

/// `{"filters"?: F}`
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, bound = "")]
#[schemars(bound = "E: Entity")]
pub struct ParamsCount<E> {
    #[serde(default)]
    #[schemars(with = "FiltersOf<E>")]
    pub filters: Option<Box<RawValue>>,
    #[serde(skip)]
    #[schemars(skip)]
    entity: PhantomData<E>,
}

/// No params: absent or `{}`. Any member is refused when its key is read.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

/// Decodes a request's params as `T`; absent params read as `{}`.
pub fn from_params<T: DeserializeOwned>(params: Option<&RawValue>) -> Result<T> {
    from_text(params.map_or("{}", RawValue::get), "")
}

/// Decodes the JSON object `text` as `T`; an error names the field by its path below `prefix`
/// (`data.title: invalid type ...`). Arrays are refused: fields are given by name only.
pub fn from_text<T: DeserializeOwned>(text: &str, prefix: &str) -> Result<T> {
    let invalid = |field: &str, problem: String| Error::InvalidParams(Invalid::new(field, problem).within(prefix));
    if !text.trim_start().starts_with('{') {
        return Err(match prefix {
            "" => Error::invalid_params("", "params must be an object"),
            _ => invalid("", "must be an object".into()),
        });
    }
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = match error.path().to_string() {
            path if path == "." => String::new(),
            path => path,
        };
        invalid(&path, json_message(&error.into_inner()))
    })?;
    // Text after the object: impossible for params cut out of a validated body, checked anyway.
    deserializer.end().map_err(|error| invalid("", json_message(&error)))?;
    Ok(value)
}

/// serde's message in a client's words: no Rust type names.
pub fn client_message(error: &impl fmt::Display) -> String {
    error
        .to_string()
        .replace("expected i64", "expected a whole number within 64 bits")
        .replace("expected u64", "expected a whole number, 0 or more")
        .replace("expected a borrowed string", "expected a string")
}

/// A decoding error without its position: "line 1 column 12" counts within the params' own
/// text, which would only confuse a client reading its request.
pub(crate) fn json_message(error: &serde_json::Error) -> String {
    let message = client_message(error);
    let position = format!(" at line {} column {}", error.line(), error.column());
    match message.strip_suffix(&position) {
        Some(message) if error.line() > 0 => message.to_string(),
        _ => message,
    }
}

/// Decodes the `data` of a create or update, refusing the fields the server sets
/// (`server_owned`) by name. The keys are checked first, with nothing built for their values, so
/// a refused `data` costs no memory.
pub fn data<T: DeserializeOwned>(data: &RawValue, server_owned: ServerOwnedFn) -> Result<T> {
    if data.get().starts_with('{') {
        let mut deserializer = serde_json::Deserializer::from_str(data.get());
        if let Ok(Some(owned)) = FirstServerOwned(server_owned).deserialize(&mut deserializer) {
            return Err(Error::InvalidParams(
                Invalid::new(owned, "is set by the server and cannot be given").within("data"),
            ));
        }
    }
    from_text(data.get(), "data")
}

/// Finds the first server-owned key of an object: read key by key, values skipped unbuilt.
struct FirstServerOwned(ServerOwnedFn);

impl<'de> DeserializeSeed<'de> for FirstServerOwned {
    type Value = Option<&'static str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> std::result::Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for FirstServerOwned {
    type Value = Option<&'static str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Self::Value, A::Error> {
        let mut found = None;
        while let Some(key) = map.next_key_seed(KeyName(self.0))? {
            map.next_value::<IgnoredAny>()?;
            found = found.or(key);
        }
        Ok(found)
    }
}

/// A key looked up among the server-owned fields without being kept (an escaped key is
/// unescaped first, so `"\u0069d"` names `id`).
struct KeyName(ServerOwnedFn);

impl<'de> DeserializeSeed<'de> for KeyName {
    type Value = Option<&'static str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> std::result::Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for KeyName {
    type Value = Option<&'static str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> std::result::Result<Self::Value, E> {
        Ok((self.0)(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Data {
        title: String,
    }

    /// The server-owned fields of the tests' entity.
    const SERVER_OWNED: [&str; 3] = ["id", "cid", "mtime"];

    fn server_owned(key: &str) -> Option<&'static str> {
        SERVER_OWNED.into_iter().find(|owned| *owned == key)
    }

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_string()).unwrap()
    }

    fn detail(error: Error) -> String {
        match error {
            Error::InvalidParams(invalid) => invalid.to_string(),
            other => panic!("expected InvalidParams, got {other:?}"),
        }
    }

    #[test]
    fn errors_name_the_field_and_the_problem() {
        let wrong_type = detail(data::<Data>(&raw(r#"{"title": 5}"#), server_owned).unwrap_err());
        assert_eq!(wrong_type, "data.title: invalid type: integer `5`, expected a string");
        let unknown = detail(data::<Data>(&raw(r#"{"title": "x", "colour": "red"}"#), server_owned).unwrap_err());
        assert!(unknown.starts_with("data.colour: unknown field `colour`"), "{unknown}");
        let missing = detail(from_text::<ParamsIded>("{}", "").unwrap_err());
        assert_eq!(missing, "missing field `id`");
        let too_big = detail(from_text::<ParamsIded>(r#"{"id": 18446744073709551615}"#, "").unwrap_err());
        assert!(too_big.starts_with("id: "), "{too_big}");
        let text = detail(from_text::<ParamsIded>(r#"{"id": "3"}"#, "").unwrap_err());
        assert!(text.contains("expected a whole number within 64 bits") && !text.contains("i64"), "{text}");
    }

    #[test]
    fn undecodable_values_are_invalid_params() {
        for params in [r#"{"id": 1e400}"#, r#"{"id": "\ud800"}"#] {
            let error = detail(from_params::<ParamsIded>(Some(&raw(params))).unwrap_err());
            assert!(error.starts_with("id: ") && !error.contains("line"), "{params}: {error}");
        }
    }

    #[test]
    fn an_unexpected_member_is_refused_before_its_value_is_read() {
        // The value is not even valid for any type: the key alone decides.
        let error = detail(from_params::<NoParams>(Some(&raw(r#"{"x": [{"": 0}, 1e400]}"#))).unwrap_err());
        assert_eq!(error, "x: unknown field `x`, there are no fields");
        let error = detail(
            from_params::<ParamsList<lib_model::task::Task>>(Some(&raw(r#"{"x": [{"": 0}, 1e400]}"#))).unwrap_err(),
        );
        assert!(error.starts_with("x: unknown field `x`"), "{error}");
    }

    #[test]
    fn absent_params_read_as_an_empty_object() {
        assert!(from_params::<NoParams>(None).is_ok());
        assert!(from_params::<ParamsList<lib_model::task::Task>>(None).is_ok_and(|p| p.filters.is_none()));
    }

    #[test]
    fn fields_are_given_by_name_only() {
        assert_eq!(detail(data::<Data>(&raw(r#"["x"]"#), server_owned).unwrap_err()), "data: must be an object");
        assert_eq!(detail(from_text::<ParamsIded>("[1]", "").unwrap_err()), "params must be an object");
    }

    #[test]
    fn server_owned_fields_are_refused_by_name() {
        for field in SERVER_OWNED {
            let error =
                detail(data::<Data>(&raw(&format!(r#"{{"title": "x", "{field}": 1}}"#)), server_owned).unwrap_err());
            assert_eq!(error, format!("data.{field}: is set by the server and cannot be given"));
        }
        // An escaped key names the same field.
        let error = detail(data::<Data>(&raw(r#"{"\u0069d": 1}"#), server_owned).unwrap_err());
        assert_eq!(error, "data.id: is set by the server and cannot be given");
    }
}
