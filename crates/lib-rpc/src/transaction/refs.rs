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

use super::strict::Strict;
use crate::{Error, Result};
use serde::de::DeserializeSeed as _;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::collections::HashMap;

const REF: &str = "$ref";

/// The most references one transaction may resolve.
pub(crate) const MAX_REFS: usize = 1000;
/// The most bytes of results one transaction's references may read (each step of a path reads
/// the value it steps into) and copy into params.
pub(crate) const MAX_REF_BYTES: usize = 16 * 1024 * 1024;

/// What one transaction's references may still cost: each costs the bytes it reads and copies,
/// so a transaction of a few calls cannot make the server copy a large result thousands of times.
pub(crate) struct RefBudget {
    refs: usize,
    bytes: usize,
}

impl Default for RefBudget {
    fn default() -> Self {
        Self { refs: MAX_REFS, bytes: MAX_REF_BYTES }
    }
}

impl RefBudget {
    fn spend_ref(&mut self, at: &str) -> Result<()> {
        self.refs = self.refs.checked_sub(1).ok_or_else(|| {
            Error::invalid_params(at, format!("a transaction resolves at most {MAX_REFS} references"))
        })?;
        Ok(())
    }

    fn spend_bytes(&mut self, bytes: usize, at: &str) -> Result<()> {
        self.bytes = self.bytes.checked_sub(bytes).ok_or_else(|| {
            Error::invalid_params(
                at,
                format!("a transaction's references read at most {MAX_REF_BYTES} bytes of results"),
            )
        })?;
        Ok(())
    }
}

/// `params` with every reference replaced, or `None` when it holds none (the call then reads
/// its params as they came). `result(i)` is the text of call `i`'s result, if it has run.
pub(super) fn resolve<'r>(
    params: Option<&RawValue>,
    result: impl Fn(usize) -> Option<&'r [u8]>,
    budget: &mut RefBudget,
) -> Result<Option<Box<RawValue>>> {
    let Some(params) = params else { return Ok(None) };
    // Any way of writing the key `$ref` has `ref"` in it or, escaped, a `\u`: params without
    // either hold no reference, and are not read twice.
    if !params.get().contains("ref\"") && !params.get().contains("\\u") {
        return Ok(None);
    }
    // Read strictly, as the call would read them: a key given twice is refused, not merged.
    // Params were read from a body of bounded size, and are valid JSON: this cannot fail on depth.
    let mut input = serde_json::Deserializer::from_str(params.get());
    let mut value =
        Strict.deserialize(&mut input).map_err(|e| Error::invalid_params("", crate::params::json_message(&e)))?;
    let mut resolver = Resolver { result, budget };
    if !resolver.replace(&mut value, "")? {
        return Ok(None);
    }
    let text = serde_json::value::to_raw_value(&value).map_err(Error::ResultSerialization)?;
    Ok(Some(text))
}

struct Resolver<'b, F> {
    result: F,
    budget: &'b mut RefBudget,
}

impl<'r, F: Fn(usize) -> Option<&'r [u8]>> Resolver<'_, F> {
    /// Replaces the references in `value` (at `path` in the params, for errors); answers
    /// whether there were any.
    fn replace(&mut self, value: &mut Value, path: &str) -> Result<bool> {
        match value {
            Value::Object(members) if members.contains_key(REF) => {
                *value = self.referenced(members, path)?;
                Ok(true)
            }
            Value::Object(members) => {
                let mut any = false;
                for (key, member) in members.iter_mut() {
                    any |= self.replace(member, &join(path, key))?;
                }
                Ok(any)
            }
            Value::Array(items) => {
                let mut any = false;
                for (index, item) in items.iter_mut().enumerate() {
                    any |= self.replace(item, &format!("{path}[{index}]"))?;
                }
                Ok(any)
            }
            _ => Ok(false),
        }
    }

    /// The value the reference `members` (an object with a `$ref` member) stands for.
    fn referenced(&mut self, members: &Map<String, Value>, path: &str) -> Result<Value> {
        let at = join(path, REF);
        let invalid = |problem: String| Error::invalid_params(at.clone(), problem);
        let (Some(Value::String(reference)), 1) = (members.get(REF), members.len()) else {
            return Err(invalid(
                "a reference is an object with one member, `$ref`, a string such as \"0.data.id\"".into(),
            ));
        };
        self.budget.spend_ref(&at)?;
        let mut steps = reference.split('.');
        let call = steps.next().and_then(|i| i.parse::<usize>().ok());
        let Some(text) = call.and_then(&self.result) else {
            return Err(invalid(format!("`{reference}` does not name an earlier call of the transaction")));
        };
        let mut found = std::str::from_utf8(text).map_err(|_| invalid("the result is not text".into()))?;
        for key in steps {
            self.budget.spend_bytes(found.len(), &at)?;
            found = step(found, key).ok_or_else(|| invalid(format!("`{reference}` finds nothing")))?;
        }
        self.budget.spend_bytes(found.len(), &at)?;
        serde_json::from_str(found).map_err(|e| invalid(e.to_string()))
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_string() } else { format!("{path}.{key}") }
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
        let resolved = resolve(Some(&params), |i| RESULTS.get(i).map(|r| r.as_bytes()), &mut RefBudget::default())?;
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
    fn a_key_given_twice_is_refused_as_the_call_would() {
        assert_eq!(problem(r#"{"id": {"$ref": "0.data.id"}, "x": 1, "x": 2}"#), "`x` given twice");
    }

    #[test]
    fn references_spend_one_budget() {
        let params = RawValue::from_string(r#"{"a": {"$ref": "0.data"}, "b": {"$ref": "0.data.id"}}"#.into()).unwrap();
        let result = |i: usize| RESULTS.get(i).map(|r| r.as_bytes());
        let mut budget = RefBudget { refs: 1, bytes: MAX_REF_BYTES };
        assert!(
            matches!(resolve(Some(&params), result, &mut budget), Err(Error::InvalidParams(i)) if i.field == "b.$ref")
        );
        // Each step reads the value it steps into: the whole result, then `data`, and copies the id.
        let mut budget = RefBudget { refs: 2, bytes: 100 };
        assert!(resolve(Some(&params), result, &mut budget).is_err());
        let mut budget = RefBudget::default();
        assert!(resolve(Some(&params), result, &mut budget).unwrap().is_some());
        assert_eq!(budget.refs, MAX_REFS - 2);
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
