//! `$and`, `$or` and `$not` in `filters` through the API: against known tasks, each kind of
//! operator under each logic key selects what the rule says (`$not` including NULLs), and
//! `count_tasks` agrees; the depth limit and the budgets hold at their edges across the tree;
//! malformed logic is -32602 naming its path; and no logic shows another user's rows.

mod common;

use common::{Api, assert_error, spawn_app};
use serde_json::{Value, json};

/// (title, done, description): known rows, some without a description.
const TASKS: &[(&str, bool, Option<&str>)] = &[
    ("alpha one", true, Some("red fox")),
    ("alpha two", false, None),
    ("beta_one", false, Some("")),
    ("Beta 100%", true, None),
    ("gamma", false, Some("blue fox")),
    ("delta", true, Some("Red")),
];

type Row = (&'static str, bool, Option<&'static str>);
/// Whether a row should be selected.
type Rule = Box<dyn Fn(&Row) -> bool>;

async fn with_tasks(api: &Api) -> i64 {
    let project = api.ok("create_project", json!({"data": {"name": "known"}})).await;
    for (title, done, description) in TASKS {
        let data = json!({"project_id": project["id"], "title": title, "done": done, "description": description});
        api.ok("create_task", json!({"data": data})).await;
    }
    project["id"].as_i64().unwrap()
}

/// Titles `filters` selects, in id order, checked against `count_tasks` with the same filters.
async fn titles(api: &Api, filters: Value) -> Vec<String> {
    let tasks = api.ok("list_tasks", json!({"filters": filters})).await;
    let titles: Vec<String> = tasks.as_array().unwrap().iter().map(|t| t["title"].as_str().unwrap().into()).collect();
    let count = api.ok("count_tasks", json!({"filters": filters})).await;
    assert_eq!(count, titles.len(), "count_tasks agrees with list_tasks for {filters}");
    titles
}

fn expected(keep: impl Fn(&Row) -> bool) -> Vec<String> {
    TASKS.iter().filter(|row| keep(row)).map(|(title, _, _)| title.to_string()).collect()
}

/// The -32602 detail of `filters`, from `list_tasks` and, the same, from `count_tasks`.
async fn refusal(api: &Api, filters: Value) -> String {
    let mut details = Vec::new();
    for method in ["list_tasks", "count_tasks"] {
        let error = api.err(method, json!({"filters": filters})).await;
        assert_error(&error, -32602, "InvalidParams");
        details.push(error["data"]["detail"].as_str().unwrap().to_string());
    }
    assert_eq!(details[0], details[1]);
    details.remove(0)
}

fn contains(d: Option<&str>, part: &str) -> bool {
    d.is_some_and(|d| d.contains(part))
}

#[tokio::test]
async fn each_kind_of_operator_under_and_or_and_not_selects_what_the_rule_says() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    with_tasks(&alice).await;
    let conditions: Vec<(Value, Rule)> = vec![
        (json!({"title": {"$startsWith": "alpha"}}), Box::new(|r| r.0.starts_with("alpha"))),
        (json!({"title": {"$contains": "_"}}), Box::new(|r| r.0.contains('_'))),
        (json!({"title": {"$endsWithCi": "ONE"}}), Box::new(|r| r.0.ends_with("one"))),
        (json!({"title": {"$in": ["gamma", "delta"]}}), Box::new(|r| ["gamma", "delta"].contains(&r.0))),
        (json!({"title": {"$notContains": "a"}}), Box::new(|r| !r.0.contains('a'))),
        (json!({"description": {"$contains": "fox"}}), Box::new(|r| contains(r.2, "fox"))),
        (
            json!({"description": {"$containsCi": "red"}}),
            Box::new(|r| r.2.is_some_and(|d| d.to_lowercase().contains("red"))),
        ),
        (json!({"description": {"$notContains": "fox"}}), Box::new(|r| !contains(r.2, "fox"))),
        (json!({"description": "Red"}), Box::new(|r| r.2 == Some("Red"))),
        (json!({"description": {"$empty": true}}), Box::new(|r| r.2.is_none_or(str::is_empty))),
        (json!({"description": {"$null": true}}), Box::new(|r| r.2.is_none())),
        (json!({"done": true}), Box::new(|r| r.1)),
        (json!({"done": {"$not": true}}), Box::new(|r| !r.1)),
        (json!({"id": {"$gt": 0}}), Box::new(|_| true)),
        (json!({"id": {"$in": []}}), Box::new(|_| false)),
        (json!({"ctime": {"$null": false}}), Box::new(|_| true)),
    ];
    let other = json!({"title": {"$containsCi": "BETA"}});
    let is_other = |r: &Row| r.0.to_lowercase().contains("beta");
    for (condition, rule) in &conditions {
        assert_eq!(titles(&alice, condition.clone()).await, expected(rule), "{condition}");
        let not = json!({"$not": condition});
        assert_eq!(titles(&alice, not).await, expected(|r| !rule(r)), "$not {condition}");
        let and = json!({"$and": [condition, {"$not": other}]});
        assert_eq!(titles(&alice, and).await, expected(|r| rule(r) && !is_other(r)), "$and {condition}");
        let or = json!({"$or": [condition, other]});
        assert_eq!(titles(&alice, or).await, expected(|r| rule(r) || is_other(r)), "$or {condition}");
        let deep = json!([{"$not": {"$or": [[{"$not": condition}], {"done": false}]}}, {"title": "gamma"}]);
        let want = expected(|r| (rule(r) && r.1) || r.0 == "gamma");
        assert_eq!(titles(&alice, deep).await, want, "nested {condition}");
    }
}

#[tokio::test]
async fn not_of_a_condition_on_a_null_column_matches_the_null_rows() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    with_tasks(&alice).await;
    let no_fox = expected(|r| !contains(r.2, "fox"));
    assert_eq!(no_fox, ["alpha two", "beta_one", "Beta 100%", "delta"]);
    assert_eq!(titles(&alice, json!({"$not": {"description": {"$contains": "fox"}}})).await, no_fox);
    assert_eq!(
        titles(&alice, json!({"$not": {"description": {"$gte": "a"}}})).await,
        expected(|r| r.2.is_none_or(|d| d < "a"))
    );
    assert_eq!(
        titles(&alice, json!({"$not": {"$not": {"description": {"$contains": "fox"}}}})).await,
        ["alpha one", "gamma"]
    );
}

/// `inner` under `depth` levels of `$and`, `$or` and `$not` in turn.
fn nested(depth: usize, inner: Value) -> Value {
    (0..depth).fold(inner, |inner, level| match level % 3 {
        0 => json!({"$not": inner}),
        1 => json!({"$and": [inner]}),
        _ => json!({"$or": [inner, {"id": {"$in": []}}]}),
    })
}

#[tokio::test]
async fn filters_nest_8_levels_deep_and_the_9th_is_refused_naming_its_path() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    with_tasks(&alice).await;
    // Levels from the top: $and, $not, $or, $and, $not, $or, $and, $not: three NOTs.
    let eight = nested(8, json!({"done": true}));
    assert_eq!(titles(&alice, eight).await, expected(|r| !r.1));
    let nine = nested(9, json!({"done": true}));
    assert_eq!(
        refusal(&alice, nine).await,
        "filters.$or[0].$and[0].$not.$or[0].$and[0].$not.$or[0].$and[0].$not: filters nest at most 8 deep"
    );
}

/// `n` distinct numbers, none an id.
fn numbers(from: usize, n: usize) -> Value {
    json!((from..from + n).map(|i| -(i as i64)).collect::<Vec<_>>())
}

#[tokio::test]
async fn the_value_and_node_budgets_hold_across_the_tree() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    with_tasks(&alice).await;
    let lists = |extra: usize| {
        let leaf = |i: usize| json!({"id": {"$in": numbers(i * 1000, 1000)}});
        let mut or: Vec<Value> = (0..5).map(leaf).collect();
        or.push(json!({"$or": (5..9).map(leaf).chain([json!({"$not": {"$or": [leaf(9), {"id": {"$in": numbers(9000, extra)}}]}})]).collect::<Vec<_>>()}));
        json!({"$or": or})
    };
    // 10,000 values over three levels: 9 lists of 1000 ruling every row out, a NOT of the tenth.
    assert_eq!(titles(&alice, lists(0)).await, expected(|_| true));
    assert_eq!(refusal(&alice, lists(1)).await, "filters: at most 10000 values in all");

    // `{"$not": {}}` is 3 nodes (object, key, object), 331 of them in `{"$or": [...]}` (2 nodes):
    // 995; then `{"done": true}` (3) and `extra` empty conditions (1 each).
    let nots = |extra: &[&str]| {
        let mut tail = json!({"done": true});
        extra.iter().for_each(|field| tail[field] = json!({}));
        json!([{"$or": vec![json!({"$not": {}}); 331]}, tail])
    };
    assert_eq!(titles(&alice, nots(&["title", "mid"])).await, expected(|r| r.1));
    assert_eq!(
        refusal(&alice, nots(&["title", "mid", "cid"])).await,
        "filters: at most 1000 nodes (filter objects, conditions and operators)"
    );
}

#[tokio::test]
async fn malformed_logic_is_invalid_params_naming_its_path() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    for (filters, detail) in [
        (json!({"$and": []}), "filters.$and: must not be empty"),
        (json!([{"done": true}, {"$or": []}]), "filters[1].$or: must not be empty"),
        (json!({"$xor": [{"done": true}]}), "filters.$xor: unknown key (an object holds fields, $and, $or and $not)"),
        (json!({"$and": 5}), "filters.$and: expected a non-empty array of filters"),
        (json!({"$not": []}), "filters.$not: must not be an empty array"),
        (json!({"$or": [{"done": true}, {"title": 5}]}), "filters.$or[1].title.$eq: expected a string"),
    ] {
        assert_eq!(refusal(&alice, filters.clone()).await, detail, "{filters}");
    }
}

#[tokio::test]
async fn no_logic_shows_another_users_rows() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let alices = with_tasks(&alice).await;
    let bobs = bob.ok("create_project", json!({"data": {"name": "bob's"}})).await["id"].clone();
    let secret = bob.ok("create_task", json!({"data": {"project_id": bobs, "title": "bob's secret"}})).await;
    for filters in [
        json!({"$or": [{}, {"project_id": bobs}, {"id": secret["id"]}]}),
        json!({"$not": {"project_id": alices}}),
        json!({"$or": [{"$not": {"done": true}}, {"$not": {"done": false}}]}),
        json!([{"$not": {"title": "x"}}, {"$and": [{"project_id": {"$notIn": [alices]}}]}]),
    ] {
        let seen = titles(&alice, filters.clone()).await;
        assert!(!seen.iter().any(|t| t == "bob's secret") && seen.len() <= TASKS.len(), "{filters}: {seen:?}");
    }
    assert_eq!(titles(&bob, json!({"$not": {"project_id": bobs}})).await, Vec::<String>::new());
}
