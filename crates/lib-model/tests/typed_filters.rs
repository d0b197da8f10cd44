//! Integer, bool and time operators; groups; and the errors for bad filters.

mod common;

use common::{expected, fixture};
use lib_model::task::TaskBmc;
use serde_json::json;

#[tokio::test]
async fn integer_operators() {
    let f = fixture().await;
    let ids: Vec<i64> = {
        let options = TaskBmc::parse_list_options(None).unwrap();
        let all = TaskBmc::list(&f.ctx, &f.mm, Default::default(), &options).await.unwrap().rows;
        all.iter().map(|t| t.id).collect()
    };
    let all = expected(|_, _, _| true);
    assert_eq!(f.titles(json!({"id": ids[1]})).await, [all[1].clone()]);
    assert_eq!(f.titles(json!({"id": {"$not": ids[1]}})).await.len(), all.len() - 1);
    assert_eq!(f.titles(json!({"id": {"$in": [ids[0], ids[2]]}})).await, [all[0].clone(), all[2].clone()]);
    assert_eq!(f.titles(json!({"id": {"$notIn": [ids[0]]}})).await, all[1..].to_vec());
    assert!(f.titles(json!({"id": {"$in": []}})).await.is_empty());
    assert_eq!(f.titles(json!({"id": {"$notIn": []}})).await, all);
    assert_eq!(f.titles(json!({"id": {"$lt": ids[1]}})).await, [all[0].clone()]);
    assert_eq!(f.titles(json!({"id": {"$lte": ids[1]}})).await, all[..2].to_vec());
    assert_eq!(f.titles(json!({"id": {"$gt": ids[5]}})).await, all[6..].to_vec());
    assert_eq!(f.titles(json!({"id": {"$gte": ids[5]}})).await, all[5..].to_vec());
    assert_eq!(f.titles(json!({"id": {"$gt": ids[0], "$lt": ids[2]}})).await, [all[1].clone()]);
    assert!(f.titles(json!({"id": {"$null": true}})).await.is_empty());
    assert_eq!(f.titles(json!({"project_id": f.project_id})).await, all);
}

#[tokio::test]
async fn integers_beyond_64_bits_or_fractional_are_refused_not_wrapped() {
    let f = fixture().await;
    // modql defect: numbers were cast and silently wrapped.
    let detail = f.refusal(json!({"id": 18446744073709551615u64})).await;
    assert!(detail.contains("filters.id") && detail.contains("64 bits"), "{detail}");
    let detail = f.refusal(json!({"id": {"$in": [1, 9223372036854775808u64]}})).await;
    assert!(detail.contains("filters.id.$in"), "{detail}");
    let detail = f.refusal(json!({"id": 1.5})).await;
    assert!(detail.contains("filters.id"), "{detail}");
    assert!(f.titles(json!({"id": i64::MAX})).await.is_empty());
}

#[tokio::test]
async fn bool_operators() {
    let f = fixture().await;
    assert_eq!(f.titles(json!({"done": true})).await, expected(|_, d, _| d));
    assert_eq!(f.titles(json!({"done": {"$eq": false}})).await, expected(|_, d, _| !d));
    assert_eq!(f.titles(json!({"done": {"$not": true}})).await, expected(|_, d, _| !d));
    // modql defect: bool `$null` ran as `$not`.
    assert!(f.titles(json!({"done": {"$null": true}})).await.is_empty());
    assert_eq!(f.titles(json!({"done": {"$null": false}})).await, expected(|_, _, _| true));
}

#[tokio::test]
async fn time_operators_accept_the_times_the_server_returns() {
    let f = fixture().await;
    let options = TaskBmc::parse_list_options(None).unwrap();
    let tasks = TaskBmc::list(&f.ctx, &f.mm, Default::default(), &options).await.unwrap().rows;
    let as_text = |t: time::OffsetDateTime| t.format(&time::format_description::well_known::Rfc3339).unwrap();
    let first = as_text(tasks[0].audit.ctime);
    let last = as_text(tasks.last().unwrap().audit.ctime);

    assert_eq!(f.titles(json!({"ctime": {"$lte": last}})).await.len(), tasks.len());
    assert!(f.titles(json!({"ctime": {"$gt": last}})).await.is_empty());
    // modql defect: `$in` on value types ran as `NOT IN`.
    let matching = f.titles(json!({"ctime": {"$in": [first]}})).await;
    assert!(matching.contains(&tasks[0].title), "{matching:?}");
    assert!(f.titles(json!({"ctime": {"$in": []}})).await.is_empty());
    assert_eq!(f.titles(json!({"ctime": {"$notIn": []}})).await.len(), tasks.len());
    let not_first = f.titles(json!({"ctime": {"$notIn": [first]}})).await;
    assert!(!not_first.contains(&tasks[0].title));
    assert!(f.titles(json!({"mtime": {"$eq": as_text(tasks[3].audit.mtime)}})).await.contains(&tasks[3].title));
    assert!(!f.titles(json!({"ctime": {"$not": as_text(tasks[3].audit.ctime)}})).await.contains(&tasks[3].title));
    assert!(f.titles(json!({"ctime": {"$lt": first}})).await.len() < tasks.len());
    assert!(f.titles(json!({"ctime": {"$gte": first}})).await.contains(&tasks[0].title));
    assert!(f.titles(json!({"ctime": {"$null": true}})).await.is_empty());

    let detail = f.refusal(json!({"ctime": {"$gt": "yesterday"}})).await;
    assert!(detail.contains("filters.ctime.$gt") && detail.contains("RFC 3339"), "{detail}");
}

#[tokio::test]
async fn objects_are_anded_and_arrays_of_objects_ored() {
    let f = fixture().await;
    assert_eq!(f.titles(json!({"done": false, "title": {"$startsWith": "snake"}})).await, ["snake_case", "snakeXcase"]);
    assert_eq!(
        f.titles(json!([{"title": "snake_case"}, {"done": true, "title": {"$contains": "slash"}}])).await,
        ["snake_case", r"back\slash"]
    );
    // The contract's own example, on this data.
    let example = json!([
        {"project_id": f.project_id, "title": {"$contains": "BB"}},
        {"project_id": {"$in": [f.project_id]}, "title": {"$in": ["task bb two", "1000 done"]}}
    ]);
    assert_eq!(f.titles(example).await, ["1000 done", "Task BB one", "task bb two"]);
}

#[tokio::test]
async fn null_empty_object_and_empty_array_filter_nothing() {
    let f = fixture().await;
    let all = expected(|_, _, _| true);
    assert_eq!(f.titles(json!(null)).await, all);
    assert_eq!(f.titles(json!({})).await, all);
    assert_eq!(f.titles(json!([])).await, all);
    assert_eq!(f.titles(json!([{}, {"done": true}])).await, all);
}

#[tokio::test]
async fn unknown_fields_operators_and_wrong_types_name_the_field() {
    let f = fixture().await;
    // modql defect: unknown fields were silently ignored, which filtered nothing.
    let detail = f.refusal(json!({"titel": "x"})).await;
    assert!(detail.contains("filters.titel") && detail.contains("unknown field"), "{detail}");
    let detail = f.refusal(json!([{"done": true}, {"owner_id": 1}])).await;
    assert!(detail.contains("filters[1].owner_id"), "{detail}");
    let detail = f.refusal(json!({"title": {"$like": "x"}})).await;
    assert!(detail.contains("filters.title") && detail.contains("$like"), "{detail}");
    let detail = f.refusal(json!({"done": {"$contains": "x"}})).await;
    assert!(detail.contains("filters.done") && detail.contains("unknown operator"), "{detail}");
    let detail = f.refusal(json!({"title": 5})).await;
    assert!(detail.contains("filters.title") && detail.contains("string"), "{detail}");
    let detail = f.refusal(json!({"done": "yes"})).await;
    assert!(detail.contains("filters.done"), "{detail}");
    let detail = f.refusal(json!({"title": {"$in": "x"}})).await;
    assert!(detail.contains("filters.title.$in") && detail.contains("array"), "{detail}");
    let detail = f.refusal(json!({"title": {"$null": "yes"}})).await;
    assert!(detail.contains("filters.title.$null"), "{detail}");
    let detail = f.refusal(json!("title")).await;
    assert!(detail.starts_with("filters"), "{detail}");
    let detail = f.refusal(json!([1])).await;
    assert!(detail.contains("filters[0]"), "{detail}");
}

#[tokio::test]
async fn lists_hold_at_most_1000_values_and_text_no_nul() {
    let f = fixture().await;
    let thousand: Vec<i64> = (0..1000).collect();
    assert!(f.titles(json!({"id": {"$in": thousand}})).await.len() <= common::TASKS.len());
    let too_many: Vec<i64> = (0..1001).collect();
    let detail = f.refusal(json!({"id": {"$in": too_many}})).await;
    assert!(detail.contains("at most 1000"), "{detail}");
    let detail = f.refusal(json!({"title": {"$contains": "a\u{0}b"}})).await;
    assert!(detail.contains("NUL"), "{detail}");
}

#[tokio::test]
async fn a_whole_filter_binds_at_most_10000_values() {
    let f = fixture().await;
    let thousand: Vec<i64> = (0..1000).collect();
    let groups: Vec<_> = (0..11).map(|_| json!({"id": {"$in": thousand}})).collect();
    let detail = f.refusal(json!(groups)).await;
    assert!(detail.contains("at most 10000 values"), "{detail}");
    let groups: Vec<_> = (0..10).map(|_| json!({"id": {"$in": thousand}})).collect();
    assert!(f.titles(json!(groups)).await.len() <= common::TASKS.len());
}
