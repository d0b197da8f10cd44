//! `$and`, `$or` and `$not`: the depth limit at its edge and refused unread past it, the budgets
//! shared across the tree, the shapes refused with their paths, and what the tree renders to.

use super::tests::{parse, render};
use super::{Filters, MAX_FILTER_DEPTH, MAX_FILTER_NODES, MAX_FILTER_VALUES, MAX_LIST_VALUES};
use crate::Error;
use crate::task::TaskBmc;

fn detail<T: std::fmt::Debug>(result: crate::Result<T>) -> String {
    match result {
        Err(Error::InvalidInput(invalid)) => invalid.to_string(),
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

/// `inner` under `depth` levels of `key`: `{"$and": [{"$and": [inner]}]}` for depth 2.
fn nested(key: &str, depth: usize, inner: &str) -> String {
    let (open, close) = match key {
        "$not" => (format!(r#"{{"{key}": "#), "}"),
        _ => (format!(r#"{{"{key}": ["#), "]}"),
    };
    format!("{}{inner}{}", open.repeat(depth), close.repeat(depth))
}

#[test]
fn filters_nest_8_levels_deep_and_not_9() {
    for key in ["$and", "$or", "$not"] {
        assert!(parse(&nested(key, MAX_FILTER_DEPTH, r#"{"done": true}"#)).unwrap().restricts(), "{key}");
        let path = [key; MAX_FILTER_DEPTH + 1].join(if key == "$not" { "." } else { "[0]." });
        assert_eq!(
            detail(parse(&nested(key, MAX_FILTER_DEPTH + 1, r#"{"done": true}"#))),
            format!("filters.{path}: filters nest at most 8 deep"),
        );
    }
    // Arrays of objects, at the top or under a logic key, are no level of their own.
    let in_arrays = format!("[{{}}, {}]", nested("$not", MAX_FILTER_DEPTH, r#"[{"id": 1}, {"done": true}]"#));
    assert!(parse(&in_arrays).is_ok());
    let mixed = nested("$and", 4, &nested("$or", 2, &nested("$not", 2, r#"{"$and": [{}]}"#)));
    assert_eq!(
        detail(parse(&mixed)),
        "filters.$and[0].$and[0].$and[0].$and[0].$or[0].$or[0].$not.$not.$and: filters nest at most 8 deep"
    );
}

#[test]
fn a_logic_key_past_the_depth_limit_is_refused_before_its_value_is_read() {
    // What follows the ninth level is never read: here it is nested past serde_json's own
    // recursion limit (128), and then not even JSON.
    let past = nested("$not", MAX_FILTER_DEPTH + 1, &format!("{} this is never read", "[".repeat(100_000)));
    let mut input = serde_json::Deserializer::from_str(&past);
    let refused = super::decode::decode(&mut input, columns()).map_err(|e| e.within("filters"));
    assert!(detail(refused).ends_with("filters nest at most 8 deep"));
}

fn columns() -> &'static [super::Column] {
    <TaskBmc as crate::base::DbBmc>::COLUMNS
}

/// `n` copies of `item` joined by commas.
fn repeat(item: &str, n: usize) -> String {
    vec![item; n].join(",")
}

fn ids(n: usize) -> String {
    format!("[{}]", (0..n).map(|i| i.to_string()).collect::<Vec<_>>().join(","))
}

fn words(n: usize) -> String {
    format!("[{}]", (0..n).map(|i| format!("\"w{i}\"")).collect::<Vec<_>>().join(","))
}

#[test]
fn the_value_budget_is_shared_across_the_tree() {
    // 10 lists of 1000, at levels 0 to 8 under `$or`, `$and` and `$not`.
    let full = format!(r#"{{"id": {{"$in": {}}}}}"#, ids(MAX_LIST_VALUES));
    let spread = |extra: &str| {
        let deep = nested("$not", 6, &format!("[{}{extra}]", repeat(&full, 6)));
        format!(r#"{{"$or": [{full}, {{"$and": [{full}, [{full}, {full}], {deep}]}}]}}"#)
    };
    let at_budget = parse(&spread("")).unwrap();
    assert_eq!(at_budget.value_count(), MAX_FILTER_VALUES);
    assert_eq!(detail(parse(&spread(r#", {"done": true}"#))), "filters: at most 10000 values in all");
}

#[test]
fn the_node_budget_counts_logic_keys_and_the_arrays_under_them() {
    // `{"$or": [...]}`: an object and a key; each `{"$not": [{}]}` in it: an object, a key, an
    // array and an object. 2 + 4 * 249 = 998 nodes.
    let nots = |n: usize| format!(r#"{{"$or": [{}]}}"#, repeat(r#"{"$not": [{}]}"#, n));
    assert_eq!(parse(&nots(249)).unwrap().node_count(), 998);
    let at_budget = format!(r#"[{}, {{}}, {{}}]"#, nots(249));
    assert_eq!(parse(&at_budget).unwrap().node_count(), MAX_FILTER_NODES);
    let past = format!(r#"[{}, {{}}, {{}}, {{}}]"#, nots(249));
    assert_eq!(detail(parse(&past)), "filters: at most 1000 nodes (filter objects, conditions and operators)");
}

#[test]
fn empty_lists_unknown_keys_and_wrong_types_are_refused_by_path() {
    for (filters, refusal) in [
        (r#"{"$and": []}"#, "filters.$and: must not be empty"),
        (r#"[{}, {"$or": []}]"#, "filters[1].$or: must not be empty"),
        (r#"{"$not": []}"#, "filters.$not: must not be an empty array"),
        (r#"{"$and": [{}, []]}"#, "filters.$and[1]: must not be an empty array"),
        (r#"{"$nor": [{}]}"#, "filters.$nor: unknown key (an object holds fields, $and, $or and $not)"),
        (r#"{"$or": [{"$eq": 1}]}"#, "filters.$or[0].$eq: unknown key (an object holds fields, $and, $or and $not)"),
        (r#"{"$and": 5}"#, "filters.$and: expected a non-empty array of filters"),
        (r#"{"$or": {"done": true}}"#, "filters.$or: expected a non-empty array of filters"),
        (r#"{"$not": null}"#, "filters.$not: must be a filter object or a non-empty array of them"),
        (r#"{"$not": "done"}"#, "filters.$not: must be a filter object or a non-empty array of them"),
        (r#"{"$and": [[[{}]]]}"#, "filters.$and[0][0]: must be an object"),
        (r#"{"$or": [{}], "done": true, "$or": [{}]}"#, "filters.$or: given twice"),
        (r#"{"$or": [{"done": true}, {"title": 5}]}"#, "filters.$or[1].title.$eq: expected a string"),
        (r#"[{}, {"$and": [[{}, {"id": {"$gt": "x"}}]]}]"#, "filters[1].$and[0][1].id.$gt: expected a number"),
        (
            r#"{"$not": {"$not": [{"titel": 1}]}}"#,
            "filters.$not.$not[0].titel: unknown field (filterable: id, project_id, title, done, description, cid, ctime, mid, mtime)",
        ),
    ] {
        assert_eq!(detail(parse(filters)), refusal, "{filters}");
    }
}

#[test]
fn what_restricts_nothing_renders_as_no_filter() {
    let (unfiltered, _) = render(Filters::default());
    for nothing in [r#"{"$and": [{}]}"#, r#"{"$or": [{}, {"done": true}]}"#, r#"[{"$and": [{}, [{}]]}]"#] {
        let filters = parse(nothing).unwrap();
        assert!(!filters.restricts(), "{nothing}");
        assert_eq!(render(filters).0, unfiltered, "{nothing}");
    }
    for something in
        [r#"{"$not": {}}"#, r#"{"$and": [{}, {"done": true}]}"#, r#"{"$or": [{"id": 1}, [{"done": true}]]}"#]
    {
        let filters = parse(something).unwrap();
        assert!(filters.restricts(), "{something}");
        assert_ne!(render(filters).0, unfiltered, "{something}");
    }
}

#[test]
fn not_renders_as_is_not_true_and_an_empty_one_as_false() {
    let (sql, values) = render(parse(r#"{"$not": {"description": {"$contains": "x"}}}"#).unwrap());
    assert!(sql.contains(r#"("task"."description" LIKE $"#) && sql.contains(") IS NOT TRUE"), "{sql}");
    assert_eq!(values, render(Filters::default()).1 + 1);
    let (sql, _) = render(parse(r#"{"$not": [{}, {"done": true}]}"#).unwrap());
    assert!(sql.contains("FALSE") && !sql.contains("IS NOT TRUE"), "{sql}");
}

#[test]
fn logic_decodes_alike_from_a_value_and_from_raw_text() {
    for text in [
        r#"{"$or": [{"done": true}, {"$not": {"title": {"$in": ["a", "b"]}}}], "id": {"$gt": 1}}"#,
        r#"[{"$and": [[{"id": 1}, {"id": 2}], {"$not": [{"done": false}]}]}]"#,
        r#"{"$not": {"$not": {"$or": []}}}"#,
        &nested("$and", MAX_FILTER_DEPTH + 1, "{}"),
    ] {
        let value: serde_json::Value = serde_json::from_str(text).unwrap();
        let from_value = Filters::parse(Some(&value), columns()).map_err(|e| e.within("filters"));
        assert_eq!(format!("{from_value:?}"), format!("{:?}", parse(text)), "{text}");
    }
}

#[test]
fn the_deepest_and_widest_logic_renders_on_a_256_kib_stack() {
    // 5 OR-ed objects of 1000 NOT LIKEs and a NOT IN of 1000, under 8 `$not`s.
    let leaf = format!(
        r#"{{"description": {{"$notContainsAny": {}}}, "id": {{"$notIn": {}}}}}"#,
        words(MAX_LIST_VALUES),
        ids(MAX_LIST_VALUES)
    );
    let deep = nested("$not", MAX_FILTER_DEPTH, &format!("[{}]", repeat(&leaf, 5)));
    // 50 OR-ed chains of 7 `$not`s.
    let wide = format!(r#"{{"$or": [{}]}}"#, repeat(&nested("$not", 7, r#"{"done": true}"#), 50));
    for text in [deep, wide] {
        let filters = parse(&text).unwrap();
        let (sql, _) =
            std::thread::Builder::new().stack_size(256 * 1024).spawn(move || render(filters)).unwrap().join().unwrap();
        assert!(sql.contains("IS NOT TRUE"));
    }
}
