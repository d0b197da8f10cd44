//! Every text operator of the contract against Postgres, including modql's known defects.

mod common;

use common::{expected, fixture};
use serde_json::json;

#[tokio::test]
async fn equality_inequality_and_ranges_on_text() {
    let f = fixture().await;
    assert_eq!(f.titles(json!({"title": "snake_case"})).await, ["snake_case"]);
    assert_eq!(f.titles(json!({"title": {"$eq": "snake_case"}})).await, ["snake_case"]);
    assert_eq!(f.titles(json!({"title": {"$not": "snake_case"}})).await, expected(|t, _, _| t != "snake_case"));
    // Only comparisons every collation agrees on: digits before letters, shared prefixes.
    assert_eq!(f.titles(json!({"title": {"$lt": "2"}})).await, ["100% done", "1000 done"]);
    assert_eq!(f.titles(json!({"title": {"$gt": "b", "$lte": r"back\slash"}})).await, [r"back\slash"]);
    assert_eq!(f.titles(json!({"title": {"$gte": "snake", "$lt": "snakf"}})).await, ["snake_case", "snakeXcase"]);
}

#[tokio::test]
async fn in_and_not_in_on_text_including_empty_lists() {
    let f = fixture().await;
    assert_eq!(
        f.titles(json!({"title": {"$in": ["1000 done", "snake_case", "nope"]}})).await,
        ["1000 done", "snake_case"]
    );
    assert_eq!(
        f.titles(json!({"title": {"$notIn": ["1000 done", "snake_case"]}})).await,
        expected(|t, _, _| t != "1000 done" && t != "snake_case")
    );
    assert!(f.titles(json!({"title": {"$in": []}})).await.is_empty(), "$in: [] matches nothing");
    assert_eq!(f.titles(json!({"title": {"$notIn": []}})).await, expected(|_, _, _| true), "$notIn: [] matches all");
}

#[tokio::test]
async fn pattern_values_are_literal_not_wildcards() {
    let f = fixture().await;
    // modql defect: `%` and `_` in values acted as LIKE wildcards.
    assert_eq!(f.titles(json!({"title": {"$contains": "%"}})).await, ["100% done"]);
    assert_eq!(f.titles(json!({"title": {"$contains": "_"}})).await, ["snake_case"]);
    assert_eq!(f.titles(json!({"title": {"$contains": r"\"}})).await, [r"back\slash"]);
    assert_eq!(f.titles(json!({"title": {"$startsWith": "100%"}})).await, ["100% done"]);
    assert_eq!(f.titles(json!({"title": {"$startsWith": "snake_"}})).await, ["snake_case"]);
    assert_eq!(f.titles(json!({"title": {"$endsWith": "_case"}})).await, ["snake_case"]);
    assert_eq!(f.titles(json!({"title": {"$ilike": "E_C"}})).await, ["snake_case"]);
    assert_eq!(f.titles(json!({"title": {"$containsCi": "% DONE"}})).await, ["100% done"]);
    assert_eq!(f.titles(json!({"title": {"$containsAny": ["%", "_"]}})).await, ["100% done", "snake_case"]);
    assert_eq!(f.titles(json!({"title": {"$startsWithAny": [r"back\"]}})).await, [r"back\slash"]);
}

#[tokio::test]
async fn contains_family() {
    let f = fixture().await;
    assert_eq!(f.titles(json!({"title": {"$contains": "BB"}})).await, ["Task BB one"]);
    assert_eq!(f.titles(json!({"title": {"$notContains": "done"}})).await, expected(|t, _, _| !t.contains("done")));
    assert_eq!(f.titles(json!({"title": {"$containsAny": ["BB", "slash"]}})).await, [r"back\slash", "Task BB one"]);
    assert_eq!(
        f.titles(json!({"title": {"$notContainsAny": ["done", "snake"]}})).await,
        [r"back\slash", "Task BB one", "task bb two"],
        "contains none of them"
    );
    assert_eq!(f.titles(json!({"title": {"$containsAll": ["snake", "case"]}})).await, ["snake_case", "snakeXcase"]);
    assert!(f.titles(json!({"title": {"$containsAny": []}})).await.is_empty());
    assert_eq!(f.titles(json!({"title": {"$containsAll": []}})).await.len(), common::TASKS.len());
}

#[tokio::test]
async fn starts_and_ends_with_families() {
    let f = fixture().await;
    assert_eq!(f.titles(json!({"title": {"$startsWith": "snake"}})).await, ["snake_case", "snakeXcase"]);
    assert_eq!(
        f.titles(json!({"title": {"$notStartsWith": "snake"}})).await,
        expected(|t, _, _| !t.starts_with("snake"))
    );
    assert_eq!(
        f.titles(json!({"title": {"$startsWithAny": ["100", "Task"]}})).await,
        ["100% done", "1000 done", "Task BB one"]
    );
    assert_eq!(
        f.titles(json!({"title": {"$notStartsWithAny": ["100", "snake"]}})).await,
        [r"back\slash", "Task BB one", "task bb two"]
    );
    assert_eq!(f.titles(json!({"title": {"$endsWith": "done"}})).await, ["100% done", "1000 done"]);
    // modql defect: `$notEndsWith` ran as `$endsWith`.
    assert_eq!(f.titles(json!({"title": {"$notEndsWith": "done"}})).await, expected(|t, _, _| !t.ends_with("done")));
    assert_eq!(
        f.titles(json!({"title": {"$endsWithAny": ["one", "two"]}})).await,
        ["100% done", "1000 done", "Task BB one", "task bb two"]
    );
    assert_eq!(
        f.titles(json!({"title": {"$notEndsWithAny": ["done", "case"]}})).await,
        [r"back\slash", "Task BB one", "task bb two"]
    );
}

#[tokio::test]
async fn case_insensitive_family() {
    let f = fixture().await;
    assert_eq!(f.titles(json!({"title": {"$containsCi": "bb"}})).await, ["Task BB one", "task bb two"]);
    assert_eq!(
        f.titles(json!({"title": {"$notContainsCi": "BB"}})).await,
        expected(|t, _, _| !t.to_lowercase().contains("bb"))
    );
    assert_eq!(f.titles(json!({"title": {"$startsWithCi": "TASK"}})).await, ["Task BB one", "task bb two"]);
    assert_eq!(
        f.titles(json!({"title": {"$notStartsWithCi": "TASK"}})).await,
        expected(|t, _, _| !t.to_lowercase().starts_with("task"))
    );
    assert_eq!(f.titles(json!({"title": {"$endsWithCi": "ONE"}})).await, ["100% done", "1000 done", "Task BB one"]);
    assert_eq!(
        f.titles(json!({"title": {"$notEndsWithCi": "ONE"}})).await,
        expected(|t, _, _| !t.to_lowercase().ends_with("one"))
    );
    assert_eq!(
        f.titles(json!({"title": {"$ilike": "bb t"}})).await,
        ["task bb two"],
        "$ilike is a case-insensitive contains"
    );
}

#[tokio::test]
async fn null_and_empty_both_ways() {
    let f = fixture().await;
    assert_eq!(f.titles(json!({"description": {"$null": true}})).await, expected(|_, _, d| d.is_none()));
    assert_eq!(f.titles(json!({"description": {"$null": false}})).await, expected(|_, _, d| d.is_some()));
    assert_eq!(
        f.titles(json!({"description": {"$empty": true}})).await,
        expected(|_, _, d| d.is_none_or(str::is_empty))
    );
    // modql defect: `$empty: false` was an OR, which let NULLs and empty strings through.
    assert_eq!(
        f.titles(json!({"description": {"$empty": false}})).await,
        expected(|_, _, d| d.is_some_and(|d| !d.is_empty()))
    );
}

#[tokio::test]
async fn negative_operators_on_a_nullable_field_include_null() {
    let f = fixture().await;
    assert_eq!(f.titles(json!({"description": {"$not": "x"}})).await, expected(|_, _, d| d != Some("x")));
    assert_eq!(
        f.titles(json!({"description": {"$notContains": "e"}})).await,
        expected(|_, _, d| !d.unwrap_or("").contains('e'))
    );
    assert_eq!(
        f.titles(json!({"description": {"$notIn": ["x", "percent"]}})).await,
        expected(|_, _, d| !matches!(d, Some("x" | "percent")))
    );
}

#[tokio::test]
async fn several_operators_on_one_field_are_anded() {
    let f = fixture().await;
    assert_eq!(f.titles(json!({"title": {"$startsWith": "snake", "$endsWith": "_case"}})).await, ["snake_case"]);
}
