//! `list_options`: order, limit and offset, checked against the entity's columns.

use super::Column;
use crate::{Error, Result};
use sea_query::{Expr, Order, SelectStatement};
use serde_json::Value;

pub const DEFAULT_LIMIT: u64 = 100;
pub const MAX_LIMIT: u64 = 1000;

/// Validated list options. The order always ends on `id`, so pages are stable.
#[derive(Debug, Clone)]
pub struct ListOptions {
    order_bys: Vec<(&'static str, Order)>,
    limit: u64,
    offset: u64,
}

impl Default for ListOptions {
    /// Order by `id` ascending, the default limit, no offset.
    fn default() -> Self {
        Self { order_bys: Vec::new(), limit: DEFAULT_LIMIT, offset: 0 }.with_id_last()
    }
}

impl ListOptions {
    /// Parses `{"order_bys"?: s | [s], "limit"?: n, "offset"?: n}`; absent or `null` means defaults.
    pub fn parse(options: Option<&Value>, columns: &[Column]) -> Result<Self> {
        let mut parsed = Self { order_bys: Vec::new(), limit: DEFAULT_LIMIT, offset: 0 };
        let options = match options {
            None | Some(Value::Null) => return Ok(Self::default()),
            Some(Value::Object(options)) => options,
            Some(_) => return Err(Error::invalid("list_options: must be an object")),
        };
        // A member given as `null` means its default, as an absent one does.
        for (key, value) in options.iter().filter(|(_, value)| !value.is_null()) {
            match key.as_str() {
                "order_bys" => parsed.order_bys = parse_order_bys(value, columns)?,
                "limit" => {
                    parsed.limit = value
                        .as_i64()
                        .filter(|limit| (1..=MAX_LIMIT as i64).contains(limit))
                        .ok_or_else(|| Error::invalid(format!("list_options.limit: must be 1 to {MAX_LIMIT}")))?
                        as u64
                }
                "offset" => {
                    parsed.offset = value
                        .as_i64()
                        .filter(|offset| *offset >= 0)
                        .ok_or_else(|| Error::invalid("list_options.offset: must be a whole number, 0 or more"))?
                        as u64
                }
                other => {
                    return Err(Error::invalid(format!(
                        "list_options.{other}: unknown option (order_bys, limit, offset)"
                    )));
                }
            }
        }
        Ok(parsed.with_id_last())
    }

    /// Parses `list_options` as the request carried them (raw JSON text).
    pub fn parse_raw(options: Option<&serde_json::value::RawValue>, columns: &[Column]) -> Result<Self> {
        // TODO(robustness): decode under the budgets instead of into a Value first.
        let value = options.map(|raw| serde_json::from_str::<Value>(raw.get())).transpose();
        Self::parse(value.map_err(|e| Error::invalid(format!("list_options: {e}")))?.as_ref(), columns)
    }

    /// Appends `id` ascending unless the client ordered by `id` already.
    fn with_id_last(mut self) -> Self {
        if !self.order_bys.iter().any(|(name, _)| *name == "id") {
            self.order_bys.push(("id", Order::Asc));
        }
        self
    }

    pub(crate) fn apply(&self, table: &'static str, select: &mut SelectStatement) {
        for (name, order) in &self.order_bys {
            select.order_by_expr(Expr::col((table, *name)), order.clone());
        }
        select.limit(self.limit).offset(self.offset);
    }
}

fn parse_order_bys(value: &Value, columns: &[Column]) -> Result<Vec<(&'static str, Order)>> {
    let names: Vec<&Value> = match value {
        Value::Array(names) => names.iter().collect(),
        one => vec![one],
    };
    names
        .into_iter()
        .map(|name| {
            let name = name
                .as_str()
                .ok_or_else(|| Error::invalid("list_options.order_bys: expected a field name or a list of them"))?;
            let (field, order) = match name.strip_prefix('!') {
                Some(field) => (field, Order::Desc),
                None => (name, Order::Asc),
            };
            let column = columns.iter().find(|c| c.name == field).ok_or_else(|| {
                let known: Vec<_> = columns.iter().map(|c| c.name).collect();
                Error::invalid(format!(
                    "list_options.order_bys: unknown field `{field}` (orderable: {})",
                    known.join(", ")
                ))
            })?;
            Ok((column.name, order))
        })
        .collect()
}
