//! The filter budgets and checked values through the public interface, against Postgres: the
//! largest filters the budgets allow run, one node or value more is refused, and times at the
//! edge of the range are accepted or refused naming the field.

mod common;

use common::{expected, fixture};
use lib_model::task::TaskBmc;
use serde_json::{Value, json};

/// `n` copies of `item`.
fn copies(item: Value, n: usize) -> Value {
    Value::Array(vec![item; n])
}

fn words(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("w{i}")).collect()
}

#[tokio::test]
async fn the_largest_filters_the_budgets_allow_run_on_postgres() {
    let f = fixture().await;
    let all = expected(|_, _, _| true);
    assert_eq!(f.titles(copies(json!({"done": {}}), 500)).await, all, "an empty operator object filters nothing");
    assert!(f.titles(copies(json!({"id": {"$in": []}}), 333)).await.is_empty());
    let none_of = copies(json!({"description": {"$notContainsAny": words(1000)}}), 10);
    assert_eq!(f.titles(none_of).await, all, "no description contains w0..w999");
    let wide = json!({
        "title": {"$containsAll": [""], "$notStartsWithAny": words(1000), "$notEndsWithAny": words(1000)},
        "description": {"$notContainsAny": words(1000), "$notEndsWithAny": words(1000)},
        "id": {"$notIn": (-3000..-2000).collect::<Vec<i64>>(), "$gte": 0},
        "cid": {"$in": [f.ctx.user_id()], "$notIn": (-1000..0).collect::<Vec<i64>>()}
    });
    assert_eq!(f.titles(wide).await, all);
}

#[tokio::test]
async fn one_node_or_value_past_a_budget_is_refused_naming_it() {
    let f = fixture().await;
    let nodes = "filters: at most 1000 nodes (filter objects, conditions and operators)";
    assert_eq!(f.refusal(copies(json!({}), 1001)).await, nodes);
    assert_eq!(f.refusal(copies(json!({"done": true}), 334)).await, nodes);
    let values = copies(json!({"title": {"$in": words(1000)}}), 10);
    assert!(f.titles(values.clone()).await.is_empty());
    let Value::Array(mut past) = values else { unreachable!() };
    past.push(json!({"done": true}));
    assert_eq!(f.refusal(Value::Array(past)).await, "filters: at most 10000 values in all");
}

#[tokio::test]
async fn times_at_the_edges_of_the_range_run_or_are_refused_naming_the_field() {
    let f = fixture().await;
    let all = expected(|_, _, _| true);
    // The latest instant the time crate holds, and the earliest RFC 3339 text can name.
    assert_eq!(f.titles(json!({"ctime": {"$lt": "9999-12-31T23:59:59.999999999Z"}})).await, all);
    assert_eq!(f.titles(json!({"ctime": {"$gt": "0000-01-01T00:00:00+23:59"}})).await, all);
    assert_eq!(
        f.refusal(json!({"ctime": {"$gt": "9999-12-31T23:59:59-23:59"}})).await,
        "filters.ctime.$gt: time out of range"
    );
    assert_eq!(
        f.refusal(json!([{}, {"mtime": {"$notIn": ["9999-12-31T23:59:59.999999999-00:01"]}}])).await,
        "filters[1].mtime.$notIn: time out of range"
    );
}

#[tokio::test]
async fn order_bys_past_16_entries_are_refused() {
    let sixteen = json!({"order_bys": vec!["!title"; 16]});
    assert!(TaskBmc::parse_list_options(Some(&common::raw(&sixteen))).is_ok());
    let seventeen = json!({"order_bys": vec!["!title"; 17]});
    match TaskBmc::parse_list_options(Some(&common::raw(&seventeen))) {
        Err(lib_model::Error::InvalidInput(invalid)) => {
            assert_eq!(invalid.to_string(), "order_bys: at most 16 entries")
        }
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}
