//! List cursors: the opaque `next_cursor` a list answers, and the opening of one a client sends
//! back as `list_options.cursor`.
//!
//! A cursor is `base64url(payload) "." base64url(HMAC-SHA256(key, base64url(payload)))`. The
//! payload (JSON) names the format version, the entity, the order (as `order_bys` writes it,
//! ending on `id`) and the last row's value of each order column, typed as the entity's JSON
//! writes them (`null` for NULL). The filters are not in it: a client may refine them while it
//! pages. The key is derived from the server's `PWD_KEY`, so every instance that shares the
//! configuration opens the others' cursors, and nothing new needs configuring. The seal is
//! checked before any of the payload is decoded; a cursor that is not exactly as this server
//! made it for this entity and order is refused, never run.

use super::order_bys::SortKey;
use super::scalar::{self, Scalar};
use super::{Column, FieldKind};
use crate::{Error, Result};
use hmac::{Hmac, KeyInit as _, Mac as _};
use lib_core::b64::{b64u_decode, b64u_encode};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

/// The longest cursor accepted, in bytes; a longer one is refused unread. A cursor carries the
/// last row's order values, so this bounds them: the largest any entity has (a task ordered by
/// all of its columns, with a 500-character title and a 10,000-character description made of
/// characters JSON writes as six bytes each) seals to about 85 KB (a test builds it).
pub const MAX_CURSOR_LEN: usize = 96 * 1024;

/// The payload's format; a cursor of another version is refused like any foreign one.
const VERSION: u8 = 1;

/// What the MAC key is derived for, so that it is like no other key made from the pepper.
const KEY_LABEL: &[u8] = b"lib-model list cursor key v1\0";

/// The key that seals and opens cursors.
#[derive(Clone)]
pub(crate) struct CursorKey(Hmac<Sha256>);

impl CursorKey {
    /// The key derived from the server's pepper (`PWD_KEY`): SHA-256 of a fixed label and it.
    pub(crate) fn from_pepper(pepper: &[u8]) -> Self {
        let key = Sha256::new().chain_update(KEY_LABEL).chain_update(pepper).finalize();
        Self(Hmac::new_from_slice(&key).expect("HMAC takes a key of any length"))
    }

    fn mac(&self, text: &str) -> Hmac<Sha256> {
        let mut mac = self.0.clone();
        mac.update(text.as_bytes());
        mac
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Payload {
    v: u8,
    /// The entity (`task`).
    e: String,
    /// The order, as `order_bys` writes it: `["!title", "id"]`.
    o: Vec<String>,
    /// The last row's value of each order column, in the order's order.
    k: Vec<Value>,
}

/// The cursor that continues after `last_row` (the entity's JSON object) in `order`.
pub(crate) fn seal(key: &CursorKey, entity: &str, order: &[SortKey], last_row: &Value) -> String {
    let payload = Payload {
        v: VERSION,
        e: entity.to_owned(),
        o: order.iter().map(|sort| sort.client_form()).collect(),
        k: order.iter().map(|sort| last_row.get(sort.column.name).cloned().unwrap_or(Value::Null)).collect(),
    };
    let text = b64u_encode(serde_json::to_vec(&payload).expect("a payload of JSON values serializes"));
    let tag = b64u_encode(key.mac(&text).finalize().into_bytes());
    format!("{text}.{tag}")
}

/// Opens `cursor` for a list of `entity` in `order`: the last row's value of each order column,
/// typed for binding (`None`: NULL). Anything but a cursor this server sealed for the same entity and order is
/// the client's mistake, named `cursor`.
pub(crate) fn open(
    key: &CursorKey,
    cursor: &str,
    entity: &str,
    order: &[SortKey],
) -> Result<Vec<Option<sea_query::Value>>> {
    let payload = unsealed(key, cursor).ok_or_else(|| refused("not a cursor this server made, or altered since"))?;
    if payload.v != VERSION {
        return Err(refused("made by another version of this server; start again from the first page"));
    }
    if payload.e != entity {
        return Err(refused(format!("made for a list of another entity ({}), not {entity}", payload.e)));
    }
    let asked: Vec<String> = order.iter().map(|sort| sort.client_form()).collect();
    if payload.o != asked || payload.k.len() != order.len() {
        let made_for = payload.o.join(", ");
        return Err(refused(format!(
            "made for the order [{made_for}]: give the order_bys of the list that answered it"
        )));
    }
    order.iter().zip(&payload.k).map(|(sort, value)| bound(sort.column, value)).collect()
}

/// The payload of `cursor` if its seal holds, else `None`. The MAC is checked (in constant
/// time) before the payload is decoded at all.
fn unsealed(key: &CursorKey, cursor: &str) -> Option<Payload> {
    let (text, tag) = cursor.split_once('.')?;
    key.mac(text).verify_slice(&b64u_decode(tag)?).ok()?;
    serde_json::from_slice(&b64u_decode(text)?).ok()
}

/// A value of the sealed payload, as the statement binds it for `column` (`None`: NULL).
fn bound(column: Column, value: &Value) -> Result<Option<sea_query::Value>> {
    let scalar = match value {
        Value::Null if column.nullable => return Ok(None),
        Value::Bool(flag) => Scalar::Bool(*flag),
        Value::Number(n) => n.as_i64().map(Scalar::Int).unwrap_or(Scalar::Float),
        Value::String(text) => Scalar::Str(text),
        _ => return Err(refused("holds a value its column cannot have")),
    };
    let converted = match column.kind {
        FieldKind::Int => scalar::int(scalar).map(Into::into),
        FieldKind::Text => scalar::text(scalar).map(Into::into),
        FieldKind::Bool => scalar::flag(scalar).map(Into::into),
        FieldKind::Time => scalar::time(scalar).map(Into::into),
    };
    converted.map(Some).map_err(|_| refused("holds a value its column cannot have"))
}

fn refused(problem: impl Into<String>) -> Error {
    Error::invalid("cursor", problem)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::DbBmc;
    use crate::task::TaskBmc;
    use serde_json::json;

    #[test]
    fn the_largest_cursor_any_list_can_make_is_within_the_bound() {
        // The schema's longest texts (task_title_check, task_description_check), each made of a
        // character JSON writes as six bytes; every column in the order, each descending.
        let control = "\u{1}";
        let row = json!({
            "id": i64::MIN, "project_id": i64::MIN, "title": control.repeat(500), "done": false,
            "description": control.repeat(10_000), "cid": i64::MIN, "ctime": "2026-11-22T10:00:00.123456Z",
            "mid": i64::MIN, "mtime": "2026-11-22T10:00:00.123456Z",
        });
        let mut order: Vec<SortKey> = TaskBmc::COLUMNS
            .iter()
            .filter(|c| c.name != "id")
            .map(|&column| SortKey { column, descending: true })
            .collect();
        order.push(SortKey { column: TaskBmc::COLUMNS[0], descending: true });
        let key = CursorKey::from_pepper(b"any pepper");
        let cursor = seal(&key, TaskBmc::ENTITY, &order, &row);
        assert!(cursor.len() > 80_000, "the worst case is built: {}", cursor.len());
        assert!(cursor.len() <= MAX_CURSOR_LEN, "{} bytes", cursor.len());
        assert_eq!(open(&key, &cursor, TaskBmc::ENTITY, &order).unwrap().len(), TaskBmc::COLUMNS.len());
    }
}
