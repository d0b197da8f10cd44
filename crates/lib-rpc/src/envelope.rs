//! The bodies an error is answered in, written in one place for every endpoint, so that their
//! shapes cannot drift apart:
//!
//! - a JSON-RPC response `{"jsonrpc":"2.0","id":..,"error":{..}}`: inside an answer (written
//!   straight into it, see `answer.rs`), or alone with `"id": null` when the whole request fails
//!   ([`error_response`]: the web layer's 401, 413, 503 ... on `/api/rpc`);
//! - `{"error":{..}}` for the plain HTTP endpoints ([`error_body`]).
//!
//! The head of a response (`{"jsonrpc":"2.0","id":..,"result":`) is written here too, for results.

use crate::client::ErrorObject;
use serde_json::value::RawValue;
use std::io;

/// Writes `{"jsonrpc":"2.0","id":<id>,"<member>":` (a missing id is `null`), members in the
/// specification's order.
pub(crate) fn write_head<W: io::Write>(out: &mut W, id: Option<&RawValue>, member: &str) -> io::Result<()> {
    out.write_all(br#"{"jsonrpc":"2.0","id":"#)?;
    out.write_all(id.map_or("null", RawValue::get).as_bytes())?;
    out.write_all(b",\"")?;
    out.write_all(member.as_bytes())?;
    out.write_all(b"\":")
}

/// Writes the response `{"jsonrpc":"2.0","id":<id>,"error":<object>}`.
pub(crate) fn write_error<W: io::Write>(out: &mut W, id: Option<&RawValue>, object: &ErrorObject) -> io::Result<()> {
    write_head(out, id, "error")?;
    serde_json::to_writer(&mut *out, object)?;
    out.write_all(b"}")
}

/// A JSON-RPC response of `object` with `"id": null`: the answer to a request that failed as a
/// whole, before any call could be read.
pub fn error_response(object: &ErrorObject) -> Vec<u8> {
    let mut body = Vec::new();
    write_error(&mut body, None, object).expect("writing to a Vec cannot fail");
    body
}

/// `{"error": <object>}`: the error body of the plain HTTP endpoints.
pub fn error_body(object: &ErrorObject) -> Vec<u8> {
    #[derive(serde::Serialize)]
    struct ErrorBody<'o> {
        error: &'o ErrorObject,
    }
    serde_json::to_vec(&ErrorBody { error: object }).expect("an error object always serializes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn both_bodies_carry_the_same_object() {
        let object = ErrorObject { code: -32001, message: "Unauthorized", data: json!({"kind": "Unauthorized"}) };
        let rpc: serde_json::Value = serde_json::from_slice(&error_response(&object)).unwrap();
        let plain: serde_json::Value = serde_json::from_slice(&error_body(&object)).unwrap();
        assert_eq!(rpc, json!({"jsonrpc": "2.0", "id": null, "error": plain["error"]}));
        assert!(error_response(&object).starts_with(br#"{"jsonrpc":"2.0","id":null,"error":{"code":-32001"#));
    }
}
