//! The router's budgets at their edges: batch size, bytes of one answer, answer bytes in flight
//! (in all and per user); and a panicking call answered alone.

mod common;

use common::{REQ_ID, assert_envelope, call, handle, json_of, mm, router, router_with_bugs, text_of};
use lib_core::Ctx;
use lib_model::ModelManager;
use lib_rpc::{RpcLimits, RpcOutcome, RpcRouter};
use serde_json::Value;

const MIB: usize = 1024 * 1024;

/// The length of the answer to a single `text` call with id 1 that answers `n` x's.
fn single_answer_len(n: usize) -> usize {
    format!(r#"{{"jsonrpc":"2.0","id":1,"result":{{"data":"{}"}}}}"#, "x".repeat(n)).len()
}

fn assert_error(response: &Value, code: i64, kind: &str) {
    assert_envelope(response);
    assert_eq!(response["error"]["code"], code, "{response}");
    assert_eq!(response["error"]["data"]["kind"], kind, "{response}");
    assert_eq!(response["error"]["data"]["req_id"], REQ_ID, "{response}");
}

#[tokio::test]
async fn an_answer_exactly_at_the_budget_passes_and_one_byte_over_is_answer_too_large() {
    let (router, mm) = (router(), mm());
    let max = single_answer_len(1000);
    let limits = RpcLimits::new(10, max, MIB);

    let outcome = handle(&router, &mm, &limits, &call(1, "text", r#"{"n": 1000}"#)).await;
    assert_eq!(text_of(&outcome).unwrap().len(), max);
    assert_eq!(json_of(&outcome)["result"]["data"].as_str().unwrap().len(), 1000);

    let outcome = handle(&router, &mm, &limits, &call(1, "text", r#"{"n": 1001}"#)).await;
    let response = json_of(&outcome);
    assert_error(&response, -32010, "AnswerTooLarge");
    assert_eq!(response["error"]["message"], "Answer too large");
    assert_eq!(response["error"]["data"]["limit_bytes"], max);
    assert!(response["error"]["data"]["detail"].as_str().unwrap().contains("limit"), "{response}");
    assert_eq!(outcome.error_kinds, ["AnswerTooLarge"]);
}

#[tokio::test]
async fn a_batch_answer_exactly_at_the_budget_passes_and_one_byte_over_is_answer_too_large() {
    let (router, mm) = (router(), mm());
    // `[` + two answers + `,` + `]`.
    let max = 1 + single_answer_len(10) + 1 + single_answer_len(500) + 1;
    let limits = RpcLimits::new(10, max, MIB);
    let batch =
        |n: usize| format!("[{},{}]", call(1, "text", r#"{"n": 10}"#), call(1, "text", &format!(r#"{{"n": {n}}}"#)));

    let outcome = handle(&router, &mm, &limits, &batch(500)).await;
    assert_eq!(text_of(&outcome).unwrap().len(), max);
    assert!(outcome.error_kinds.is_empty());

    let outcome = handle(&router, &mm, &limits, &batch(501)).await;
    let responses = json_of(&outcome);
    assert_eq!(responses[0]["result"]["data"], "x".repeat(10));
    assert_error(&responses[1], -32010, "AnswerTooLarge");
}

#[tokio::test]
async fn calls_past_the_answer_budget_answer_too_large_and_the_others_as_usual() {
    let (router, mm) = (router(), mm());
    // Room for two results of 1200 bytes, the errors that follow them and two small results.
    let limits = RpcLimits::new(10, 3400, MIB);
    let batch = format!(
        "[{}]",
        [
            call(1, "text", r#"{"n": 1200}"#),
            call(2, "text", r#"{"n": 1200}"#),
            // Past the budget with the two before it.
            call(3, "text", r#"{"n": 1200}"#),
            // Alone bigger than the whole budget.
            call(4, "text", r#"{"n": 5000}"#),
            // Small enough for what is left: a later call gets its own chance.
            call(5, "text", r#"{"n": 10}"#),
            call(6, "get_me", "{}"),
        ]
        .join(",")
    );
    let outcome = handle(&router, &mm, &limits, &batch).await;
    let responses = json_of(&outcome);
    let responses = responses.as_array().unwrap();
    assert_eq!(responses.len(), 6);
    responses.iter().for_each(assert_envelope);
    let ids: Vec<i64> = responses.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [1, 2, 3, 4, 5, 6], "in the batch's order");
    assert_eq!(responses[0]["result"]["data"].as_str().unwrap().len(), 1200);
    assert_eq!(responses[1]["result"]["data"].as_str().unwrap().len(), 1200);
    assert_error(&responses[2], -32010, "AnswerTooLarge");
    assert_error(&responses[3], -32010, "AnswerTooLarge");
    assert_eq!(responses[4]["result"]["data"], "x".repeat(10));
    assert_eq!(responses[5]["result"]["data"], 7);
    assert!(text_of(&outcome).unwrap().len() <= 3400);
}

#[tokio::test]
async fn a_batch_of_the_limit_is_run_and_one_more_is_refused_whole() {
    let (router, mm) = (router(), mm());
    let limits = RpcLimits::new(5, MIB, MIB);
    let batch = |n: usize| format!("[{}]", vec![call(1, "get_me", "{}"); n].join(","));

    let outcome = handle(&router, &mm, &limits, &batch(5)).await;
    assert_eq!(json_of(&outcome).as_array().unwrap().len(), 5);

    let outcome = handle(&router, &mm, &limits, &batch(6)).await;
    let response = json_of(&outcome);
    assert_error(&response, -32600, "BatchTooLarge");
    assert_eq!(response["id"], Value::Null);
    assert!(outcome.methods.is_empty(), "nothing of it ran");
}

#[tokio::test]
async fn a_call_that_finds_no_room_in_flight_is_throttled_until_answers_are_sent() {
    let (router, mm) = (router(), mm());
    let limits = RpcLimits::new(10, 64 * 1024, 64 * 1024);
    assert_eq!(limits.bytes_in_flight(), 0);

    // An answer not yet sent holds the whole budget.
    let held = handle(&router, &mm, &limits, &call(1, "text", r#"{"n": 40000}"#)).await;
    assert!(json_of(&held)["result"].is_object());
    assert!(limits.bytes_in_flight() >= 40000);

    let batch = format!("[{},{}]", call(1, "text", r#"{"n": 100}"#), call(2, "get_me", "{}"));
    let throttled = handle(&router, &mm, &limits, &batch).await;
    let responses = json_of(&throttled);
    for response in responses.as_array().unwrap() {
        assert_error(response, -32029, "TooManyRequests");
        assert_eq!(response["error"]["data"]["retry_after_ms"], 500);
        assert_eq!(response["error"]["data"]["retry_after_sec"], 1);
    }

    // Once both are sent (dropped), the budget is whole again.
    drop((held, throttled));
    assert_eq!(limits.bytes_in_flight(), 0);
    let outcome = handle(&router, &mm, &limits, &batch).await;
    assert!(outcome.error_kinds.is_empty(), "{:?}", text_of(&outcome));
}

#[tokio::test]
async fn a_panicking_call_answers_internal_error_and_the_batch_goes_on() {
    let (router, mm) = (router_with_bugs(), mm());
    let limits = RpcLimits::new(10, MIB, MIB);
    let batch = format!(
        "[{}]",
        [
            call(1, "panics", "{}"),
            call(2, "get_me", "{}"),
            call(3, "panics_later", "{}"),
            r#"{"jsonrpc":"2.0","method":"panics"}"#.to_string(),
            call(4, "panics_in_result", "{}"),
            call(5, "text", r#"{"n": 3}"#),
        ]
        .join(",")
    );
    let outcome = handle(&router, &mm, &limits, &batch).await;
    let responses = json_of(&outcome);
    let responses = responses.as_array().unwrap();
    assert_eq!(responses.len(), 5, "the notification is not answered");
    for id in [1, 3, 4] {
        let response = responses.iter().find(|r| r["id"] == id).unwrap();
        assert_error(response, -32603, "Internal");
        assert_eq!(response["error"]["message"], "Internal error");
    }
    assert_eq!(responses.iter().find(|r| r["id"] == 2).unwrap()["result"]["data"], 7);
    assert_eq!(responses.iter().find(|r| r["id"] == 5).unwrap()["result"]["data"], "xxx");
    assert_eq!(outcome.error_kinds, ["Internal"; 4]);
}

/// Runs `body` for the user `user_id`.
async fn handle_as(router: &RpcRouter, mm: &ModelManager, limits: &RpcLimits, user_id: i64, body: &str) -> RpcOutcome {
    router.handle(Ctx::new(user_id, 1), mm, body.as_bytes(), REQ_ID, limits).await
}

#[tokio::test]
async fn one_users_answers_in_flight_cannot_take_the_room_of_another() {
    let (router, mm) = (router(), mm());
    // Room for many answers in all, but two full ones per user.
    let limits = RpcLimits::new(10, 64 * 1024, 16 * 64 * 1024);
    assert_eq!(limits.user_share(), 2 * 64 * 1024);
    let big = call(1, "text", r#"{"n": 40000}"#);
    let (alice, bob) = (1, 2);

    // Alice's answers not yet sent: two fill her share.
    let held: Vec<RpcOutcome> =
        vec![handle_as(&router, &mm, &limits, alice, &big).await, handle_as(&router, &mm, &limits, alice, &big).await];
    for outcome in &held {
        assert!(outcome.error_kinds.is_empty(), "{:?}", text_of(outcome));
    }
    assert_eq!(limits.user_bytes_in_flight(alice), limits.user_share());

    // Her next call finds no room, as when the whole budget is taken...
    let throttled = handle_as(&router, &mm, &limits, alice, &big).await;
    let response = json_of(&throttled);
    assert_error(&response, -32029, "TooManyRequests");
    assert_eq!(response["error"]["data"]["retry_after_ms"], 500);
    drop(throttled);

    // ... while Bob's call of the same size is answered, with plenty of room left in all.
    let bobs = handle_as(&router, &mm, &limits, bob, &big).await;
    assert_eq!(json_of(&bobs)["result"]["data"].as_str().unwrap().len(), 40000);
    assert_eq!(limits.users_in_flight(), 2);
    assert!(limits.bytes_in_flight() < 16 * 64 * 1024 - 64 * 1024);

    // Once sent, nothing is left of either: no entry per user outlives their answers.
    drop((held, bobs));
    assert_eq!(limits.bytes_in_flight(), 0);
    assert_eq!(limits.users_in_flight(), 0);
    let outcome = handle_as(&router, &mm, &limits, alice, &big).await;
    assert!(outcome.error_kinds.is_empty(), "{:?}", text_of(&outcome));
}
