//! The JSON-RPC 2.0 envelope: reading requests out of a body.
//!
//! Reading builds nothing that grows with the body: the body is checked to be JSON without being
//! decoded, a batch is cut into at most `batch_limit` raw entries (one more and reading stops),
//! and a request object is read member by member into borrowed raw slices, unknown members
//! skipped unbuilt. Params stay raw JSON text until the method decodes them into its own type.
//!
//! Ids are kept as raw JSON text and echoed byte for byte, so `1.10`, `1e3` and integers beyond
//! 64 bits come back exactly as sent.

use crate::Error;
use serde::de::{self, Deserializer as _, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use std::fmt;

/// What a body holds: one request or a batch of them, each still raw.
pub(crate) enum Incoming<'a> {
    Single(&'a RawValue),
    Batch(Vec<&'a RawValue>),
}

/// Reads `body` as one request or a batch of at most `batch_limit` (else `BatchTooLarge`).
pub(crate) fn parse_body(body: &[u8], batch_limit: usize) -> Result<Incoming<'_>, Error> {
    let text = std::str::from_utf8(body).map_err(|_| Error::Parse("the body is not UTF-8".into()))?;
    // Validates the whole body first, so that any syntax error is a parse error (as the
    // specification asks), however far into a batch it is; a borrowed raw value allocates nothing.
    let raw: &RawValue = serde_json::from_str(text).map_err(|e| Error::Parse(e.to_string()))?;
    if !raw.get().starts_with('[') {
        return Ok(Incoming::Single(raw));
    }
    let mut too_large = false;
    let entries = serde_json::Deserializer::from_str(raw.get())
        .deserialize_seq(BatchVisitor { limit: batch_limit, too_large: &mut too_large });
    match entries {
        Ok(entries) => Ok(Incoming::Batch(entries)),
        Err(_) if too_large => Err(Error::BatchTooLarge { limit: batch_limit }),
        Err(error) => Err(Error::Parse(error.to_string())),
    }
}

/// Collects a batch's entries, and stops at the first one past the limit.
struct BatchVisitor<'f> {
    limit: usize,
    too_large: &'f mut bool,
}

impl<'de> Visitor<'de> for BatchVisitor<'_> {
    type Value = Vec<&'de RawValue>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a batch of requests")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = seq.next_element::<&RawValue>()? {
            if entries.len() == self.limit {
                // An error is the only way to stop a sequence midway; the flag says which one.
                *self.too_large = true;
                return Err(de::Error::custom("batch too large"));
            }
            entries.push(entry);
        }
        Ok(entries)
    }
}

/// A well-formed request. `id: None` makes it a notification.
pub(crate) struct Request<'a> {
    pub(crate) id: Option<&'a RawValue>,
    pub(crate) method: String,
    /// Named params (an object), still raw; `None` when absent.
    pub(crate) params: Option<&'a RawValue>,
}

/// A request that could not be accepted, and the id to answer it with (if one could be read).
pub(crate) struct Rejected<'a> {
    pub(crate) id: Option<&'a RawValue>,
    pub(crate) is_notification: bool,
    pub(crate) error: Error,
}

pub(crate) fn parse_request(raw: &RawValue) -> Result<Request<'_>, Rejected<'_>> {
    let invalid =
        |id, detail: &str| Rejected { id, is_notification: false, error: Error::InvalidRequest(detail.to_string()) };
    if !raw.get().starts_with('{') {
        return Err(invalid(None, "a request must be an object"));
    }
    let members = serde_json::Deserializer::from_str(raw.get())
        .deserialize_map(MembersVisitor)
        .map_err(|_| invalid(None, "a request must be an object"))?;

    // The id first, so that every later refusal can be answered with it.
    let id = match members.id {
        _ if members.id_repeated => None,
        Some(id) if !is_valid_id(id) => return Err(invalid(None, "`id` must be a string, a number or null")),
        id => id,
    };
    if let Some(problem) = members.problem {
        return Err(invalid(id, &problem));
    }
    let version = members.jsonrpc.and_then(|v| serde_json::from_str::<String>(v.get()).ok());
    if version.as_deref() != Some("2.0") {
        return Err(invalid(id, r#"`jsonrpc` must be "2.0""#));
    }
    let method = members
        .method
        .and_then(|m| serde_json::from_str::<String>(m.get()).ok())
        .ok_or_else(|| invalid(id, "`method` must be a string"))?;
    let params = match members.params {
        None => None,
        Some(params) if params.get().starts_with('{') => Some(params),
        Some(params) if params.get().starts_with('[') => {
            return Err(Rejected {
                id,
                is_notification: id.is_none(),
                error: Error::invalid_params("", "params must be given by name (an object), not by position"),
            });
        }
        Some(_) => return Err(invalid(id, "`params` must be an object or an array")),
    };
    Ok(Request { id, method, params })
}

/// A string, a number or null, that decodes: a string with no lone surrogate escape, a number
/// within the range of a double (`1e400` is not). The id is echoed as sent, and an answer whose
/// id a client cannot decode would lose the client the whole answer, its batch included.
fn is_valid_id(id: &RawValue) -> bool {
    let text = id.get();
    match text.as_bytes()[0] {
        b'"' => serde_json::from_str::<String>(text).is_ok(),
        b'n' => text == "null",
        b'-' | b'0'..=b'9' => serde_json::from_str::<f64>(text).is_ok(),
        _ => false,
    }
}

/// The members of a request object, as raw slices of the body, and the first thing wrong with
/// them (an unknown or repeated member) to be answered once the id is known.
#[derive(Default)]
struct Members<'a> {
    jsonrpc: Option<&'a RawValue>,
    method: Option<&'a RawValue>,
    params: Option<&'a RawValue>,
    id: Option<&'a RawValue>,
    id_repeated: bool,
    problem: Option<String>,
}

struct MembersVisitor;

impl<'de> Visitor<'de> for MembersVisitor {
    type Value = Members<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a request object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut members = Members::default();
        while let Some(key) = map.next_key::<MemberKey>()? {
            let (slot, name) = match key {
                MemberKey::Jsonrpc => (&mut members.jsonrpc, "jsonrpc"),
                MemberKey::Method => (&mut members.method, "method"),
                MemberKey::Params => (&mut members.params, "params"),
                MemberKey::Id => (&mut members.id, "id"),
                MemberKey::Unknown(name) => {
                    // Skipped without being built: only the first unknown name is kept.
                    map.next_value::<IgnoredAny>()?;
                    members.problem.get_or_insert_with(|| format!("unknown member `{name}`"));
                    continue;
                }
            };
            if slot.replace(map.next_value::<&RawValue>()?).is_some() {
                members.problem.get_or_insert_with(|| format!("member `{name}` is given twice"));
                // Two ids: neither can be told to be the one to answer with.
                members.id_repeated |= name == "id";
            }
        }
        Ok(members)
    }
}

enum MemberKey {
    Jsonrpc,
    Method,
    Params,
    Id,
    Unknown(String),
}

impl<'de> de::Deserialize<'de> for MemberKey {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(MemberKeyVisitor)
    }
}

struct MemberKeyVisitor;

impl Visitor<'_> for MemberKeyVisitor {
    type Value = MemberKey;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<MemberKey, E> {
        Ok(match key {
            "jsonrpc" => MemberKey::Jsonrpc,
            "method" => MemberKey::Method,
            "params" => MemberKey::Params,
            "id" => MemberKey::Id,
            other => MemberKey::Unknown(other.to_string()),
        })
    }
}

/// Reads only what it needs to size a run of reads: `{"id": n}` and nothing else, as an `i64`.
pub(crate) fn single_id(params: Option<&RawValue>) -> Option<i64> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct OnlyId {
        id: i64,
    }
    serde_json::from_str::<OnlyId>(params?.get()).ok().map(|only| only.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(text: &str) -> Result<Request<'_>, Rejected<'_>> {
        parse_request(serde_json::from_str(text).unwrap())
    }

    fn refusal(text: &str) -> (Option<String>, String) {
        let Err(rejected) = request(text) else { panic!("{text} was accepted") };
        (rejected.id.map(|id| id.get().to_string()), rejected.error.to_string())
    }

    #[test]
    fn a_batch_of_exactly_the_limit_is_read_and_one_more_is_refused() {
        let batch = |n: usize| format!("[{}]", vec!["1"; n].join(","));
        assert!(matches!(parse_body(batch(3).as_bytes(), 3), Ok(Incoming::Batch(entries)) if entries.len() == 3));
        assert!(matches!(parse_body(batch(4).as_bytes(), 3), Err(Error::BatchTooLarge { limit: 3 })));
        assert!(matches!(parse_body(b"[1,2,3,4,", 3), Err(Error::Parse(_))), "syntax first");
    }

    #[test]
    fn an_unknown_or_repeated_member_is_answered_with_the_id() {
        let (id, error) = refusal(r#"{"x": [{"": 0}], "jsonrpc": "2.0", "method": "m", "id": 7}"#);
        assert_eq!((id.as_deref(), error.as_str()), (Some("7"), "invalid request: unknown member `x`"));
        let (id, error) = refusal(r#"{"jsonrpc": "2.0", "method": "m", "method": "n", "id": "a"}"#);
        assert_eq!(
            (id.as_deref(), error.as_str()),
            (Some(r#""a""#), "invalid request: member `method` is given twice")
        );
        let (id, _) = refusal(r#"{"jsonrpc": "2.0", "method": "m", "id": 1, "id": 2}"#);
        assert_eq!(id, None, "no telling which id to answer");
        for id in [r#""\ud800""#, "1e400", "true"] {
            let (answered, error) = refusal(&format!(r#"{{"jsonrpc": "2.0", "method": "m", "id": {id}}}"#));
            assert_eq!((answered, error.as_str()), (None, "invalid request: `id` must be a string, a number or null"));
        }
    }

    #[test]
    fn params_stay_raw_and_must_be_an_object() {
        let accepted = request(r#"{"jsonrpc": "2.0", "method": "m", "params": {"id": 1e400}}"#).ok().unwrap();
        assert_eq!(accepted.params.map(RawValue::get), Some(r#"{"id": 1e400}"#));
        assert!(refusal(r#"{"jsonrpc": "2.0", "method": "m", "params": [1], "id": 1}"#).1.contains("by position"));
        assert!(refusal(r#"{"jsonrpc": "2.0", "method": "m", "params": 1, "id": 1}"#).1.contains("`params`"));
    }

    #[test]
    fn single_id_reads_only_an_id_alone() {
        let raw = |text: &str| -> Box<RawValue> { RawValue::from_string(text.into()).unwrap() };
        assert_eq!(single_id(Some(&raw(r#"{"id": 5}"#))), Some(5));
        for text in [r#"{"id": "5"}"#, r#"{"id": 5, "x": 1}"#, r#"{"id": 5, "id": 6}"#, "{}"] {
            assert_eq!(single_id(Some(&raw(text))), None, "{text}");
        }
        assert_eq!(single_id(None), None);
    }
}
