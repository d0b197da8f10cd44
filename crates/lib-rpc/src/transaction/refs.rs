//! `{"$ref": "i.path"}` in a transaction call's params: replaced, before the call runs, by the
//! value at `path` in the result of the earlier call `i`.
//!
//! A reference is an object whose only member is `"$ref"`, a string: `i`, then dot-separated
//! keys or array indexes (`"0.data.id"`; `"0"` alone is the whole result). It may stand anywhere
//! in the params, at any depth. A reference that does not resolve (a call that is not an earlier
//! one, a key or index that is not there, a malformed one) is invalid params naming it.
//!
//! The results are read back from the answer's text, where they were written: a path is followed
//! one level at a time, each level read as a map or list of raw values, so nothing is built for
//! the parts of a result the path does not go through.

use crate::{Error, Result};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::collections::HashMap;

const REF: &str = "$ref";

/// `params` with every reference replaced, or `None` when it holds none (the call then reads
/// its params as they came). `result(i)` is the text of call `i`'s result, if it has run.
pub(super) fn resolve<'r>(
    params: Option<&RawValue>,
    result: impl Fn(usize) -> Option<&'r [u8]>,
) -> Result<Option<Box<RawValue>>> {
    let Some(params) = params else { return Ok(None) };
    // Any way of writing the key `$ref` has `ref"` in it or, escaped, a `\u`: params without
    // either hold no reference, and are not read twice.
    if !params.get().contains("ref\"") && !params.get().contains("\\u") {
        return Ok(None);
    }
    // Params were read from a body of bounded size, and are valid JSON: this cannot fail on depth.
    let mut value: Value = serde_json::from_str(params.get()).map_err(|e| Error::invalid_params("", e.to_string()))?;
    if !replace(&mut value, "", &result)? {
        return Ok(None);
    }
    let text = serde_json::value::to_raw_value(&value).map_err(Error::ResultSerialization)?;
    Ok(Some(text))
}

/// Replaces the references in `value` (at `path` in the params, for errors); answers whether
/// there were any.
fn replace<'r>(value: &mut Value, path: &str, result: &impl Fn(usize) -> Option<&'r [u8]>) -> Result<bool> {
    match value {
        Value::Object(members) if members.contains_key(REF) => {
            *value = referenced(members, path, result)?;
            Ok(true)
        }
        Value::Object(members) => {
            let mut any = false;
            for (key, member) in members.iter_mut() {
                any |= replace(member, &join(path, key), result)?;
            }
            Ok(any)
        }
        Value::Array(items) => {
            let mut any = false;
            for (index, item) in items.iter_mut().enumerate() {
                any |= replace(item, &format!("{path}[{index}]"), result)?;
            }
            Ok(any)
        }
        _ => Ok(false),
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_string() } else { format!("{path}.{key}") }
}

/// The value the reference `members` (an object with a `$ref` member) stands for.
fn referenced<'r>(
    members: &Map<String, Value>,
    path: &str,
    result: &impl Fn(usize) -> Option<&'r [u8]>,
) -> Result<Value> {
    let at = join(path, REF);
    let invalid = |problem: String| Error::invalid_params(at.clone(), problem);
    let (Some(Value::String(reference)), 1) = (members.get(REF), members.len()) else {
        return Err(invalid("a reference is an object with one member, `$ref`, a string such as \"0.data.id\"".into()));
    };
    let mut steps = reference.split('.');
    let call = steps.next().and_then(|i| i.parse::<usize>().ok());
    let Some(text) = call.and_then(result) else {
        return Err(invalid(format!("`{reference}` does not name an earlier call of the transaction")));
    };
    let text = std::str::from_utf8(text).map_err(|_| invalid("the result is not text".into()))?;
    let found = steps.try_fold(text, step).ok_or_else(|| invalid(format!("`{reference}` finds nothing")))?;
    serde_json::from_str(found).map_err(|e| invalid(e.to_string()))
}

/// The member `key` of the object `text`, or item `key` of the array `text`.
fn step<'t>(text: &'t str, key: &str) -> Option<&'t str> {
    match text.trim_start().as_bytes().first()? {
        b'{' => {
            let members: HashMap<String, &RawValue> = serde_json::from_str(text).ok()?;
            members.get(key).map(|member| member.get())
        }
        b'[' => {
            let index: usize = key.parse().ok()?;
            let items: Vec<&RawValue> = serde_json::from_str(text).ok()?;
            items.get(index).map(|item| item.get())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RESULTS: [&str; 2] = [r#"{"data":{"id":7,"tags":["a","b"]}}"#, r#"{"data":[{"id":1},{"id":2}]}"#];

    fn run(params: &str) -> Result<Option<String>> {
        let params = RawValue::from_string(params.to_string()).unwrap();
        let resolved = resolve(Some(&params), |i| RESULTS.get(i).map(|r| r.as_bytes()))?;
        Ok(resolved.map(|text| text.get().to_string()))
    }

    fn problem(params: &str) -> String {
        match run(params) {
            Err(Error::InvalidParams(invalid)) => invalid.to_string(),
            other => panic!("expected invalid params, got {other:?}"),
        }
    }

    #[test]
    fn references_are_replaced_at_any_depth() {
        assert_eq!(run(r#"{"id": {"$ref": "0.data.id"}}"#).unwrap().unwrap(), r#"{"id":7}"#);
        assert_eq!(
            run(r#"{"a": [{"b": {"$ref": "1.data.1.id"}}], "t": {"$ref": "0.data.tags"}}"#).unwrap().unwrap(),
            r#"{"a":[{"b":2}],"t":["a","b"]}"#
        );
        assert_eq!(run(r#"{"all": {"$ref": "1"}}"#).unwrap().unwrap(), r#"{"all":{"data":[{"id":1},{"id":2}]}}"#);
        // The key written with escapes is the same key.
        assert_eq!(run(r#"{"id": {"\u0024r\u0065f": "0.data.id"}}"#).unwrap().unwrap(), r#"{"id":7}"#);
    }

    #[test]
    fn params_without_references_are_left_as_they_came() {
        assert_eq!(run(r#"{"id": 5, "x": {"y": "$ref"}}"#).unwrap(), None);
    }

    #[test]
    fn a_reference_that_does_not_resolve_is_invalid_params_naming_it() {
        assert_eq!(
            problem(r#"{"id": {"$ref": "2.data.id"}}"#),
            "id.$ref: `2.data.id` does not name an earlier call of the transaction"
        );
        assert_eq!(
            problem(r#"{"id": {"$ref": "x"}}"#),
            "id.$ref: `x` does not name an earlier call of the transaction"
        );
        assert_eq!(problem(r#"{"id": {"$ref": "0.data.nope"}}"#), "id.$ref: `0.data.nope` finds nothing");
        assert_eq!(problem(r#"{"id": {"$ref": "1.data.9"}}"#), "id.$ref: `1.data.9` finds nothing");
        assert_eq!(problem(r#"{"id": {"$ref": "0.data.id.x"}}"#), "id.$ref: `0.data.id.x` finds nothing");
        assert!(problem(r#"{"a": [{"$ref": 0}]}"#).starts_with("a[0].$ref: a reference is an object with one member"));
        assert!(problem(r#"{"id": {"$ref": "0.data.id", "x": 1}}"#).starts_with("id.$ref: a reference is"));
    }
}
