//! The decoder at each budget's edge (exactly at the limit passes, one past fails), the shapes it
//! refuses unread, and the largest filters rendered on a small stack.

use super::decode::decode;
use super::{Filters, ListOptions, MAX_FILTER_NODES, MAX_FILTER_VALUES, MAX_LIST_VALUES, MAX_ORDER_BYS};
use crate::base::{DbBmc, list_statement};
use crate::task::TaskBmc;
use crate::{Ctx, Error, Result};
use sea_query::{Expr, PostgresQueryBuilder};
use sea_query_sqlx::SqlxBinder as _;
use serde_json::value::RawValue;

const NODES_DETAIL: &str = "filters: at most 1000 nodes (filter objects, conditions and operators)";
const VALUES_DETAIL: &str = "filters: at most 10000 values in all";

/// `filters` as a request's params hold them: errors name their field from there.
pub(super) fn parse(text: &str) -> Result<Filters> {
    let raw = RawValue::from_string(text.to_owned()).expect("test input is JSON");
    Filters::parse_raw(Some(&raw), TaskBmc::COLUMNS).map_err(|e| e.within("filters"))
}

/// `list_options` as a request's params hold them.
pub(super) fn options(text: &str) -> Result<ListOptions> {
    let raw = RawValue::from_string(text.to_owned()).expect("test input is JSON");
    ListOptions::parse_raw(Some(&raw), TaskBmc::COLUMNS).map_err(|e| e.within("list_options"))
}

fn detail<T: std::fmt::Debug>(result: Result<T>) -> String {
    match result {
        Err(Error::InvalidInput(invalid)) => invalid.to_string(),
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

/// `n` copies of `item`, as a JSON array.
fn array(item: &str, n: usize) -> String {
    format!("[{}]", vec![item; n].join(","))
}

/// The SQL and the number of bound values of `list_tasks` with `filters`.
pub(super) fn render(filters: Filters) -> (String, usize) {
    let select = list_statement::<TaskBmc>(&Ctx::for_user(1), filters, &ListOptions::default());
    let (sql, values) = select.build_sqlx(PostgresQueryBuilder);
    (sql, values.0.0.len())
}

#[test]
fn empty_filter_objects_count_as_nodes_up_to_the_budget() {
    assert_eq!(parse(&array("{}", MAX_FILTER_NODES)).unwrap().node_count(), MAX_FILTER_NODES);
    assert_eq!(detail(parse(&array("{}", MAX_FILTER_NODES + 1))), NODES_DETAIL);
}

#[test]
fn empty_operator_objects_and_empty_lists_count_as_nodes() {
    // A group, a condition: two nodes each.
    assert!(parse(&array(r#"{"done": {}}"#, 500)).is_ok());
    assert_eq!(detail(parse(&array(r#"{"done": {}}"#, 501))), NODES_DETAIL);
    // A group, a condition, an operator: three nodes, no value.
    let empty_in = r#"{"id": {"$in": []}}"#;
    assert_eq!(parse(&array(empty_in, 333)).unwrap().node_count(), 999);
    assert_eq!(detail(parse(&array(empty_in, 334))), NODES_DETAIL);
}

#[test]
fn a_bare_value_costs_the_same_nodes_as_its_eq() {
    assert_eq!(parse(&array(r#"{"done": true}"#, 333)).unwrap().node_count(), 999);
    assert_eq!(detail(parse(&array(r#"{"done": true}"#, 334))), NODES_DETAIL);
    assert_eq!(detail(parse(&array(r#"{"done": {"$eq": true}}"#, 334))), NODES_DETAIL);
}

#[test]
fn a_filter_binds_at_most_10000_values_and_a_list_holds_at_most_1000() {
    let list = |n: usize| format!("[{}]", (0..n).map(|i| i.to_string()).collect::<Vec<_>>().join(","));
    let full = format!(r#"{{"id": {{"$in": {}}}}}"#, list(MAX_LIST_VALUES));
    let at_budget = array(&full, MAX_FILTER_VALUES / MAX_LIST_VALUES);
    assert_eq!(parse(&at_budget).unwrap().value_count(), MAX_FILTER_VALUES);
    let one_more = format!("{},{{\"done\": true}}]", &at_budget[..at_budget.len() - 1]);
    assert_eq!(detail(parse(&one_more)), VALUES_DETAIL);

    let too_long = format!(r#"[{{"done": true}}, {{"id": {{"$notIn": {}}}}}]"#, list(MAX_LIST_VALUES + 1));
    assert_eq!(detail(parse(&too_long)), "filters[1].id.$notIn: at most 1000 values in a list");
}

#[test]
fn decoding_stops_at_the_first_node_past_the_budget() {
    // What follows the 1001st node is never read: here it is not even JSON.
    let nodes = array("{}", MAX_FILTER_NODES + 1);
    let text = format!("{}, this is never read", &nodes[..nodes.len() - 1]);
    let mut input = serde_json::Deserializer::from_str(&text);
    assert_eq!(detail(decode(&mut input, TaskBmc::COLUMNS).map_err(|e| e.within("filters"))), NODES_DETAIL);
    let text = format!("[{}, {{\"done\": true}} garbage", ["{}"; 10].join(","));
    let mut input = serde_json::Deserializer::from_str(&text);
    assert!(
        detail(decode(&mut input, TaskBmc::COLUMNS).map_err(|e| e.within("filters"))).starts_with("filters: "),
        "a syntax error is the client's"
    );
}

#[test]
fn nesting_the_grammar_does_not_have_is_refused_at_its_first_level() {
    let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    assert_eq!(detail(parse(&deep(5000))), "filters[0]: must be an object");
    let deep_value = format!(r#"{{"title": {}}}"#, deep(5000));
    assert_eq!(detail(parse(&deep_value)), "filters.title.$eq: expected a string");
    let deep_op = format!(r#"{{"title": {{"$in": [{}]}}}}"#, deep(5000));
    assert_eq!(detail(parse(&deep_op)), "filters.title.$in: expected a string");
    let objects = format!(r#"{{"id": {{"$in": {}}}}}"#, array(r#"{"x": [1, 2, 3]}"#, 5000));
    assert_eq!(detail(parse(&objects)), "filters.id.$in: expected a number");
}

#[test]
fn a_field_or_operator_given_twice_is_refused_not_dropped() {
    assert_eq!(detail(parse(r#"{"done": true, "done": false}"#)), "filters.done: given twice");
    assert_eq!(detail(parse(r#"[{}, {"id": {"$gt": 1, "$gt": 2}}]"#)), "filters[1].id.$gt: given twice");
    assert!(parse(r#"[{"done": true}, {"done": false}]"#).is_ok(), "the same field in two groups is fine");
}

#[test]
fn the_value_and_raw_entry_points_decode_alike() {
    for text in [
        // Keys in order: a `Value`'s map is sorted, the raw text is read in order.
        r#"[{"done": false, "title": {"$containsAny": ["a", "b"]}}, {"id": 3}]"#,
        r#"{"ctime": {"$gt": "9999-12-31T23:59:59-23:59"}}"#,
        r#"{"titel": 1}"#,
        r#"[{}, 5]"#,
        "null",
    ] {
        let value: serde_json::Value = serde_json::from_str(text).unwrap();
        let from_value = Filters::parse(Some(&value), TaskBmc::COLUMNS).map_err(|e| e.within("filters"));
        assert_eq!(format!("{from_value:?}"), format!("{:?}", parse(text)), "{text}");
    }
}

#[test]
fn a_time_whose_utc_instant_is_out_of_range_names_the_field() {
    let detail_of = |text: &str| detail(parse(text));
    assert_eq!(detail_of(r#"{"ctime": {"$gt": "9999-12-31T23:59:59-23:59"}}"#), "filters.ctime.$gt: time out of range");
    assert_eq!(
        detail_of(r#"[{}, {"mtime": {"$in": ["2026-01-01T00:00:00Z", "9999-12-31T23:00:00-01:00"]}}]"#),
        "filters[1].mtime.$in: time out of range"
    );
    assert_eq!(
        detail_of(r#"{"ctime": "9999-12-31T23:59:59.999999999-00:01"}"#),
        "filters.ctime.$eq: time out of range"
    );
    let (_, values) = render(parse(r#"{"ctime": {"$lte": "9999-12-31T23:59:59.999999999Z"}}"#).unwrap());
    assert!(values >= 1);
}

#[test]
fn order_bys_hold_at_most_16_entries() {
    let names = |n: usize| array(r#""!title""#, n);
    let at_budget = options(&format!(r#"{{"order_bys": {}}}"#, names(MAX_ORDER_BYS))).unwrap();
    assert_eq!(at_budget.shape().0, 2, "a repeated field is one sort key; id comes last");
    let past = options(&format!(r#"{{"order_bys": {}}}"#, names(MAX_ORDER_BYS + 1)));
    assert_eq!(detail(past), "list_options.order_bys: at most 16 entries");
    let huge = options(&format!(r#"{{"order_bys": {}}}"#, names(200_000)));
    assert_eq!(detail(huge), "list_options.order_bys: at most 16 entries");
}

#[test]
fn list_options_refuse_what_they_do_not_know_and_default_what_is_null() {
    assert!(options(r#"{"order_bys": null, "limit": null, "offset": null}"#).is_ok());
    assert!(options("null").is_ok());
    assert_eq!(detail(options(r#"{"limit": 5, "limit": 6}"#)), "list_options.limit: given twice");
    assert_eq!(detail(options(r#"{"limit": 1001}"#)), "list_options.limit: must be 1 to 1000");
    assert_eq!(detail(options(r#"{"limit": [1]}"#)), "list_options.limit: must be 1 to 1000");
    assert_eq!(
        detail(options(r#"{"offset": 9223372036854775808}"#)),
        "list_options.offset: must be a whole number, 0 or more"
    );
    assert!(options(r#"{"offset": 9223372036854775807}"#).is_ok());
    assert_eq!(
        detail(options(r#"{"order_bys": [["title"]]}"#)),
        "list_options.order_bys: expected a field name or a list of them"
    );
    assert_eq!(
        detail(options(r#"{"x": {"deep": [1]}}"#)),
        "list_options.x: unknown option (order_bys, limit, offset, cursor)"
    );
    assert_eq!(detail(options("[]")), "list_options: must be an object");
}

/// Runs `work` on a thread with a 256 KiB stack: a recursion as deep as the filter is wide would
/// overflow it (and abort the whole test binary).
fn on_small_stack<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new().stack_size(256 * 1024).spawn(work).unwrap().join().unwrap()
}

/// The widest filters the budgets allow, in the shapes that used to nest deepest.
fn largest_filters() -> Vec<String> {
    let words = |n: usize| format!("[{}]", (0..n).map(|i| format!("\"w{i}\"")).collect::<Vec<_>>().join(","));
    let list = words(MAX_LIST_VALUES);
    vec![
        // 333 OR-ed groups, each one condition.
        array(r#"{"done": true}"#, 333),
        // 500 OR-ed groups of an empty operator object.
        array(r#"{"title": {}}"#, 500),
        // 332 OR-ed groups of an always-false condition, and one that restricts.
        format!("[{},{{\"done\": false}}]", vec![r#"{"id": {"$in": []}}"#; 332].join(",")),
        // 10,000 AND-ed LIKEs, each an OR with NULL on the nullable description.
        array(&format!(r#"{{"description": {{"$notContainsAny": {list}}}}}"#), 10),
        // 10,000 LIKEs in AND and OR lists in one group.
        format!(
            r#"{{"title": {{"$containsAll": {list}, "$notStartsWithAny": {list}, "$endsWithAny": {list}}},
                "description": {{"$notEndsWithAny": {list}, "$startsWithAny": {list}, "$containsAny": {list}}},
                "id": {{"$in": {ids}, "$notIn": {ids}}}, "cid": {{"$notIn": {ids}, "$in": {ids}}}}}"#,
            ids = format!("[{}]", (0..MAX_LIST_VALUES).map(|i| i.to_string()).collect::<Vec<_>>().join(","))
        ),
    ]
}

#[test]
fn the_largest_filters_render_and_drop_on_a_256_kib_stack() {
    let (_, unfiltered) = render(Filters::default());
    for text in largest_filters() {
        let filters = parse(&text).unwrap();
        assert!(filters.node_count() <= MAX_FILTER_NODES && filters.value_count() <= MAX_FILTER_VALUES);
        let (sql, values) = on_small_stack(move || render(filters));
        assert!(sql.contains("WHERE") && values <= unfiltered + MAX_FILTER_VALUES, "{values}");
    }
}

/// How deep `expr` nests, measured without recursion.
fn depth(expr: &Expr) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(expr, 1)];
    while let Some((expr, depth)) = stack.pop() {
        deepest = deepest.max(depth);
        match expr {
            Expr::Binary(left, _, right) => stack.extend([(&**left, depth + 1), (&**right, depth + 1)]),
            Expr::Unary(_, inner) => stack.push((&**inner, depth + 1)),
            _ => {}
        }
    }
    deepest
}

#[test]
fn a_condition_of_n_parts_nests_log2_n_deep() {
    // sea-query renders a condition through this conversion: a flat OR of n parts would be a
    // left-deep chain n deep.
    let condition = |text: &str| {
        Expr::from(parse(text).unwrap().into_condition(&crate::filter::ColumnRefs::table("task")).unwrap())
    };
    let groups = condition(&array(r#"{"done": true}"#, 333));
    assert!(depth(&groups) <= 9 + 2, "333 groups nest {} deep", depth(&groups));
    let words = format!("[{}]", (0..1000).map(|i| format!("\"w{i}\"")).collect::<Vec<_>>().join(","));
    // 1000 parts of (description IS NULL OR description NOT LIKE ...).
    let likes = condition(&format!(r#"{{"description": {{"$notContainsAny": {words}}}}}"#));
    assert!(depth(&likes) <= 10 + 3, "1000 patterns nest {} deep", depth(&likes));
}

#[tokio::test]
async fn postgres_refuses_the_instant_before_the_first_one_the_filter_accepts() {
    use super::scalar::PG_MIN_TIME;
    let db = crate::test_support::TestDb::new().await;
    let mm = db.mm();
    let bind = |time: time::OffsetDateTime| {
        sqlx::query_scalar::<_, time::OffsetDateTime>("SELECT $1::timestamptz").bind(time).fetch_one(mm.db())
    };
    assert_eq!(bind(PG_MIN_TIME).await.unwrap(), PG_MIN_TIME);
    let before = bind(PG_MIN_TIME - time::Duration::microseconds(1)).await.unwrap_err();
    assert_eq!(before.as_database_error().and_then(|e| e.code()).as_deref(), Some("22008"), "{before}");
}
