//! The filter and list-option parsers, as `list_tasks` and `count_tasks` call them: any JSON text
//! is parsed against the task entity's columns, as `filters` and as `list_options`.
//!
//! Holds: no panic (libFuzzer aborts on any, caught or not), and every refusal is the client's
//! mistake (`InvalidInput`, answered -32602), never another error.

#![no_main]

use lib_model::base::DbBmc;
use lib_model::filter::{Filters, ListOptions};
use lib_model::task::TaskBmc;
use libfuzzer_sys::fuzz_target;
use serde_json::value::RawValue;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // The parsers receive params already cut out of a body checked to be JSON.
    let Ok(raw) = serde_json::from_str::<Box<RawValue>>(text) else { return };
    let columns = <TaskBmc as DbBmc>::COLUMNS;
    match Filters::parse_raw(Some(&raw), columns) {
        Ok(_) | Err(lib_model::Error::InvalidInput { .. }) => {}
        Err(other) => panic!("filters {text:?}: not an InvalidInput: {other:?}"),
    }
    match ListOptions::parse_raw(Some(&raw), columns) {
        Ok(_) | Err(lib_model::Error::InvalidInput { .. }) => {}
        Err(other) => panic!("list_options {text:?}: not an InvalidInput: {other:?}"),
    }
});
