//! Params of the methods, parsed strictly: unknown fields, server-owned fields and wrong types
//! are invalid params whose detail names the field.

use crate::{Error, Result};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_json::value::RawValue;

/// Fields the server sets; a client giving one in `data` is told so by name.
const SERVER_OWNED: [&str; 6] = ["id", "owner_id", "cid", "ctime", "mid", "mtime"];

/// `{"data": {...}}`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamsForCreate {
    pub data: Value,
}

/// `{"id": n, "data": {...}}`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamsForUpdate {
    pub id: i64,
    pub data: Value,
}

/// `{"id": n}`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamsIded {
    pub id: i64,
}

/// `{"filters"?: F, "list_options"?: L}`; filters and options are checked by the entity.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamsList {
    #[serde(default)]
    pub filters: Option<Box<RawValue>>,
    #[serde(default)]
    pub list_options: Option<Box<RawValue>>,
}

/// `{"filters"?: F}`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamsCount {
    #[serde(default)]
    pub filters: Option<Box<RawValue>>,
}

/// No params: absent or `{}`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

/// Parses the object `value` as `T`; an error names the path below `prefix`
/// (`data.title: invalid type ...`). Arrays are refused: fields are given by name only.
pub fn from_value<T: DeserializeOwned>(value: Value, prefix: &str) -> Result<T> {
    if !value.is_object() {
        let at = if prefix.is_empty() { "params" } else { prefix };
        return Err(Error::InvalidParams(format!("{at}: must be an object")));
    }
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        let at = match (prefix, path.as_str()) {
            ("", ".") => String::new(),
            (prefix, ".") => format!("{prefix}: "),
            ("", path) => format!("{path}: "),
            (prefix, path) => format!("{prefix}.{path}: "),
        };
        Error::InvalidParams(format!("{at}{}", client_message(&error.into_inner())))
    })
}

/// serde's message in a client's words: no Rust type names.
pub fn client_message(error: &impl std::fmt::Display) -> String {
    error
        .to_string()
        .replace("expected i64", "expected a whole number within 64 bits")
        .replace("expected u64", "expected a whole number, 0 or more")
        .replace("expected a borrowed string", "expected a string")
}

/// Parses the `data` of a create or update, refusing server-owned fields by name.
pub fn data<T: DeserializeOwned>(data: Value) -> Result<T> {
    if let Value::Object(fields) = &data
        && let Some(owned) = SERVER_OWNED.iter().find(|name| fields.contains_key(**name))
    {
        return Err(Error::InvalidParams(format!("data.{owned}: is set by the server and cannot be given")));
    }
    from_value(data, "data")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Data {
        title: String,
    }

    fn detail(error: Error) -> String {
        match error {
            Error::InvalidParams(detail) => detail,
            other => panic!("expected InvalidParams, got {other:?}"),
        }
    }

    #[test]
    fn errors_name_the_field_and_the_problem() {
        let wrong_type = detail(data::<Data>(json!({"title": 5})).unwrap_err());
        assert!(wrong_type.starts_with("data.title: invalid type"), "{wrong_type}");
        let unknown = detail(data::<Data>(json!({"title": "x", "colour": "red"})).unwrap_err());
        assert!(unknown.starts_with("data.colour: unknown field `colour`"), "{unknown}");
        let missing = detail(from_value::<ParamsIded>(json!({}), "").unwrap_err());
        assert!(missing.contains("missing field `id`"), "{missing}");
        let too_big = detail(from_value::<ParamsIded>(json!({"id": 18446744073709551615u64}), "").unwrap_err());
        assert!(too_big.starts_with("id: "), "{too_big}");
        let text = detail(from_value::<ParamsIded>(json!({"id": "3"}), "").unwrap_err());
        assert!(text.contains("expected a whole number within 64 bits") && !text.contains("i64"), "{text}");
    }

    #[test]
    fn fields_are_given_by_name_only() {
        assert_eq!(detail(data::<Data>(json!(["x"])).unwrap_err()), "data: must be an object");
        assert_eq!(detail(from_value::<ParamsIded>(json!([1]), "").unwrap_err()), "params: must be an object");
    }

    #[test]
    fn server_owned_fields_are_refused_by_name() {
        for field in SERVER_OWNED {
            let error = detail(data::<Data>(json!({"title": "x", field: 1})).unwrap_err());
            assert_eq!(error, format!("data.{field}: is set by the server and cannot be given"));
        }
    }
}
