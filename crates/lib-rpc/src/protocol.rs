//! The JSON-RPC 2.0 envelope: reading requests out of a body and writing responses.
//!
//! Ids are kept as raw JSON text and echoed byte for byte, so `1.10`, `1e3` and integers beyond
//! 64 bits come back exactly as sent.

use crate::{Error, ErrorObject};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// What a body holds: one request or a batch of them, each still raw.
pub(crate) enum Incoming<'a> {
    Single(&'a RawValue),
    Batch(Vec<&'a RawValue>),
}

pub(crate) fn parse_body(body: &[u8]) -> Result<Incoming<'_>, Error> {
    let text = std::str::from_utf8(body).map_err(|_| Error::Parse("the body is not UTF-8".into()))?;
    let raw: &RawValue = serde_json::from_str(text).map_err(|e| Error::Parse(e.to_string()))?;
    if raw.get().starts_with('[') {
        let entries: Vec<&RawValue> = serde_json::from_str(raw.get()).map_err(|e| Error::Parse(e.to_string()))?;
        Ok(Incoming::Batch(entries))
    } else {
        Ok(Incoming::Single(raw))
    }
}

/// A well-formed request. `id: None` makes it a notification.
pub(crate) struct Request<'a> {
    pub(crate) id: Option<&'a RawValue>,
    pub(crate) method: String,
    /// Named params; absent params are an empty object.
    pub(crate) params: Value,
}

/// A request that could not be accepted, and the id to answer it with (if one could be read).
pub(crate) struct Rejected<'a> {
    pub(crate) id: Option<&'a RawValue>,
    pub(crate) is_notification: bool,
    pub(crate) error: Error,
}

const MEMBERS: [&str; 4] = ["jsonrpc", "method", "params", "id"];

pub(crate) fn parse_request(raw: &RawValue) -> Result<Request<'_>, Rejected<'_>> {
    let invalid =
        |id, detail: &str| Rejected { id, is_notification: false, error: Error::InvalidRequest(detail.to_string()) };
    if !raw.get().starts_with('{') {
        return Err(invalid(None, "a request must be an object"));
    }
    let members: HashMap<String, &RawValue> =
        serde_json::from_str(raw.get()).map_err(|_| invalid(None, "a request must be an object"))?;

    // The id first, so that every later refusal can be answered with it.
    let id = match members.get("id") {
        None => None,
        Some(id) if is_valid_id(id) => Some(*id),
        Some(_) => return Err(invalid(None, "`id` must be a string, a number or null")),
    };
    if let Some(unknown) = members.keys().find(|key| !MEMBERS.contains(&key.as_str())) {
        return Err(invalid(id, &format!("unknown member `{unknown}`")));
    }
    let version = members.get("jsonrpc").and_then(|v| serde_json::from_str::<String>(v.get()).ok());
    if version.as_deref() != Some("2.0") {
        return Err(invalid(id, r#"`jsonrpc` must be "2.0""#));
    }
    let method = members
        .get("method")
        .and_then(|m| serde_json::from_str::<String>(m.get()).ok())
        .ok_or_else(|| invalid(id, "`method` must be a string"))?;
    let params = match members.get("params").map(|p| serde_json::from_str::<Value>(p.get())) {
        None => Value::Object(Map::new()),
        Some(Ok(params @ Value::Object(_))) => params,
        Some(Ok(Value::Array(_))) => {
            return Err(Rejected {
                id,
                is_notification: id.is_none(),
                error: Error::InvalidParams("params must be given by name (an object), not by position".into()),
            });
        }
        Some(Ok(_)) => return Err(invalid(id, "`params` must be an object or an array")),
        // Syntactically JSON, but not decodable: a number out of range (`1e400`), a lone
        // surrogate escape (`"\ud800"`), nesting deeper than 128.
        Some(Err(error)) => {
            return Err(Rejected {
                id,
                is_notification: id.is_none(),
                error: Error::InvalidParams(format!("params: {error}")),
            });
        }
    };
    Ok(Request { id, method, params })
}

fn is_valid_id(id: &RawValue) -> bool {
    let text = id.get();
    text == "null" || text.starts_with('"') || text.starts_with('-') || text.starts_with(|c: char| c.is_ascii_digit())
}

/// A response object: exactly `jsonrpc`, `id`, and one of `result` / `error`.
pub(crate) fn response(id: Option<&RawValue>, outcome: Result<Box<RawValue>, ErrorObject>) -> String {
    let id = id.map_or("null", RawValue::get);
    match outcome {
        Ok(result) => format!(r#"{{"jsonrpc":"2.0","id":{id},"result":{}}}"#, result.get()),
        Err(error) => {
            let error = serde_json::to_string(&error).expect("an error object always serializes");
            format!(r#"{{"jsonrpc":"2.0","id":{id},"error":{error}}}"#)
        }
    }
}
