//! Property tests of the JSON-RPC envelope: bodies of every shape (random, deep and wide JSON,
//! batches of any size, random members, ids and params of every kind) never panic the router,
//! never answer -32603, always answer valid JSON-RPC, and keep to the batch limit and the answer
//! budget.

mod common;

use common::{REQ_ID, assert_envelope, mm, router};
use lib_core::Ctx;
use lib_model::ModelManager;
use lib_rpc::{RpcLimits, RpcRouter};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::Value;
use serde_json::value::RawValue;
use std::sync::LazyLock;

const BATCH_LIMIT: usize = 8;
const MAX_ANSWER_BYTES: usize = 4096;
const CODES: [i64; 6] = [-32700, -32600, -32601, -32602, -32010, -32029];

struct Fixture {
    runtime: tokio::runtime::Runtime,
    router: RpcRouter,
    mm: ModelManager,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let mm = runtime.block_on(async { mm() });
    Fixture { runtime, router: router(), mm }
});

/// Limits of one case (the tests run in parallel, so each case has its own bytes in flight):
/// room in flight for several answers, or for less than one, so that -32029 happens too.
fn limits(in_flight: usize) -> RpcLimits {
    RpcLimits::new(BATCH_LIMIT, MAX_ANSWER_BYTES, in_flight)
}

/// Runs `body` with ample and with scarce room in flight, and checks every property of the
/// answers.
fn check(body: &[u8]) -> Result<(), TestCaseError> {
    check_within(body, 4 * MAX_ANSWER_BYTES)?;
    check_within(body, MAX_ANSWER_BYTES / 2)
}

fn check_within(body: &[u8], in_flight: usize) -> Result<(), TestCaseError> {
    let f = &*FIXTURE;
    let limits = limits(in_flight);
    let outcome = f.runtime.block_on(f.router.handle(Ctx::new(7, 1), &f.mm, body, REQ_ID, &limits));
    let Some(answer) = &outcome.body else {
        // Nothing to answer: only notifications, which are never answered.
        return Ok(());
    };
    let text = std::str::from_utf8(answer.as_ref()).expect("an answer is UTF-8");
    let value: Value =
        serde_json::from_str(text).map_err(|e| TestCaseError::fail(format!("not JSON ({e}): {text}")))?;
    let (responses, tail): (Vec<&RawValue>, usize) = if value.is_array() {
        (serde_json::from_str(text).unwrap(), 1)
    } else {
        (vec![serde_json::from_str(text).unwrap()], 0)
    };
    prop_assert!(!responses.is_empty() && responses.len() <= BATCH_LIMIT, "{} responses", responses.len());
    for raw in responses {
        let response: Value = serde_json::from_str(raw.get()).unwrap();
        assert_envelope(&response);
        if let Some(error) = response.get("error") {
            let code = error["code"].as_i64().unwrap();
            prop_assert!(CODES.contains(&code), "code {code}: {response}");
            prop_assert!(error["data"]["kind"].is_string(), "{response}");
            prop_assert_eq!(error["data"]["req_id"].as_str(), Some(REQ_ID));
        } else {
            // A result ends within the budget, with room for the batch's closing bracket.
            let end = raw.get().as_ptr() as usize - text.as_ptr() as usize + raw.get().len();
            prop_assert!(end + tail <= MAX_ANSWER_BYTES, "a result ends at byte {end}");
        }
    }
    drop(outcome);
    prop_assert_eq!(limits.bytes_in_flight(), 0, "a dropped answer gives its bytes back");
    Ok(())
}

/// `cases` cases; no regression files (an integration test has no source file proptest can find).
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

/// A JSON string, as text: random, or one of the awkward ones.
fn string_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>().prop_map(|s| serde_json::to_string(&s).unwrap()),
        select(vec![
            r#""\ud800""#,
            r#""\u0000""#,
            r#""a\"b\\""#,
            r#""\u2028\u202e\u0085""#,
            r#""$in""#,
            r#""$and""#,
            r#""2026-01-01T00:00:00Z""#,
            r#""9999-12-31T23:59:59-23:59""#,
        ])
        .prop_map(String::from),
    ]
}

/// An object key, as text: mostly names the methods and filters know.
fn key_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => select(vec![
            "id", "n", "data", "filters", "list_options", "title", "project_id", "done", "description",
            "owner_id", "ctime", "mtime", "$and", "$or", "$not", "$in", "$eq", "$gt", "$contains",
            "order_bys", "limit", "offset", "x", "", "jsonrpc", "method", "params",
        ])
        .prop_map(|key| format!("\"{key}\"")),
        1 => string_text(),
    ]
}

/// Any JSON text, including what no `Value` can hold (`1e400`, lone surrogates, repeated keys).
fn json_text() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        select(vec!["null", "true", "false", "0", "-0", "1.50", "1e3", "1e400", "-1e400", "1e-400"])
            .prop_map(String::from),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u128>().prop_map(|n| n.to_string()),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| f.to_string()),
        string_text(),
    ];
    leaf.prop_recursive(6, 48, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(|items| format!("[{}]", items.join(","))),
            prop::collection::vec((key_text(), inner), 0..8).prop_map(|members| {
                let members: Vec<String> = members.into_iter().map(|(k, v)| format!("{k}:{v}")).collect();
                format!("{{{}}}", members.join(","))
            }),
        ]
    })
}

/// Nesting past any depth limit, and arrays wider than any budget.
fn deep_or_wide() -> impl Strategy<Value = String> {
    prop_oneof![
        (0..300usize).prop_map(|d| format!("{}{}", "[".repeat(d), "]".repeat(d))),
        (0..300usize).prop_map(|d| format!("{}1{}", r#"{"$and":"#.repeat(d), "}".repeat(d))),
        (0..3000usize).prop_map(|n| format!("[{}]", vec![r#"{"":0}"#; n].join(","))),
        (0..3000usize).prop_map(|n| format!(r#"{{"done":[{}]}}"#, vec!["{}"; n].join(","))),
    ]
}

/// Params of every shape, mostly objects that a method may take.
fn params_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => (0..6000usize).prop_map(|n| format!(r#"{{"n":{n}}}"#)),
        2 => (json_text(), json_text())
            .prop_map(|(filters, options)| format!(r#"{{"filters":{filters},"list_options":{options}}}"#)),
        2 => json_text().prop_map(|data| format!(r#"{{"data":{data}}}"#)),
        1 => deep_or_wide().prop_map(|filters| format!(r#"{{"filters":{filters}}}"#)),
        1 => deep_or_wide().prop_map(|x| format!(r#"{{"x":{x}}}"#)),
        2 => json_text(),
    ]
}

fn id_text() -> impl Strategy<Value = String> {
    prop_oneof![
        select(vec!["null", "0", "-7", "1.50", "1e3", "123456789012345678901234567890", r#""""#, "true", "{}", "[1]"])
            .prop_map(String::from),
        any::<u32>().prop_map(|n| n.to_string()),
        string_text(),
    ]
}

/// A request object: each member present or not, well-formed or not, in any order, sometimes
/// with an extra or repeated member.
fn request_text() -> impl Strategy<Value = String> {
    let jsonrpc = prop_oneof![4 => Just(r#""2.0""#.to_string()), 1 => json_text()];
    let method = prop_oneof![
        4 => select(vec!["text", "get_me", "list_tasks", "create_task", "nope", "rpc.discover"])
            .prop_map(|m| format!("\"{m}\"")),
        1 => json_text(),
    ];
    let extra = (key_text(), prop_oneof![json_text(), deep_or_wide()]);
    (
        prop::option::weighted(0.95, jsonrpc),
        prop::option::weighted(0.95, method),
        prop::option::weighted(0.8, params_text()),
        prop::option::weighted(0.8, id_text()),
        prop::option::weighted(0.1, extra),
    )
        .prop_flat_map(|(jsonrpc, method, params, id, extra)| {
            let mut members: Vec<String> = Vec::new();
            members.extend(jsonrpc.map(|v| format!(r#""jsonrpc":{v}"#)));
            members.extend(method.map(|v| format!(r#""method":{v}"#)));
            members.extend(params.map(|v| format!(r#""params":{v}"#)));
            members.extend(id.map(|v| format!(r#""id":{v}"#)));
            members.extend(extra.map(|(k, v)| format!("{k}:{v}")));
            Just(members).prop_shuffle()
        })
        .prop_map(|members| format!("{{{}}}", members.join(",")))
}

fn batch_text(entries: impl Strategy<Value = String>, sizes: std::ops::Range<usize>) -> impl Strategy<Value = String> {
    prop::collection::vec(entries, sizes).prop_map(|entries| format!("[{}]", entries.join(",")))
}

proptest! {
    #![proptest_config(config(200))]

    #[test]
    fn any_request_is_answered_with_valid_json_rpc_within_the_budgets(body in request_text()) {
        check(body.as_bytes())?;
    }

    #[test]
    fn any_batch_is_answered_with_valid_json_rpc_within_the_budgets(
        body in batch_text(prop_oneof![4 => request_text(), 1 => json_text()], 0..BATCH_LIMIT + 3)
    ) {
        check(body.as_bytes())?;
    }

    #[test]
    fn any_json_or_bytes_is_answered_with_valid_json_rpc(
        body in prop_oneof![
            json_text().prop_map(String::into_bytes),
            deep_or_wide().prop_map(String::into_bytes),
            prop::collection::vec(any::<u8>(), 0..64),
        ]
    ) {
        check(&body)?;
    }
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn a_batch_past_the_limit_is_one_batch_too_large_error(n in 0..3 * BATCH_LIMIT) {
        let call = r#"{"jsonrpc":"2.0","id":1,"method":"get_me"}"#;
        let body = format!("[{}]", vec![call; n].join(","));
        check(body.as_bytes())?;
        let f = &*FIXTURE;
        let outcome = f.runtime.block_on(f.router.handle(Ctx::new(7, 1), &f.mm, body.as_bytes(), REQ_ID, &limits(MAX_ANSWER_BYTES)));
        let answer: Value = serde_json::from_slice(outcome.body.as_ref().unwrap().as_ref()).unwrap();
        match n {
            0 => prop_assert_eq!(&answer["error"]["data"]["kind"], "InvalidRequest"),
            n if n <= BATCH_LIMIT => prop_assert_eq!(answer.as_array().map(Vec::len), Some(n)),
            _ => prop_assert_eq!(&answer["error"]["data"]["kind"], "BatchTooLarge"),
        }
    }
}
