//! `$and`, `$or` and `$not` against Postgres: random trees over every operator select exactly
//! the rows that set algebra over their conditions' own rows gives; `$not` matches NULLs as a
//! client expects; a count agrees with its list; and no logic widens a user's scope.

mod common;

use common::{Fixture, TASKS, expected, fixture, project, task, user};
use lib_model::task::TaskBmc;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

/// One condition per operator of the contract, on the fixture's columns, NULLs included.
fn conditions() -> Vec<Value> {
    vec![
        json!({"title": "snake_case"}),
        json!({"title": {"$not": "1000 done"}}),
        json!({"title": {"$in": ["1000 done", "snakeXcase"]}}),
        json!({"title": {"$notIn": ["1000 done"]}}),
        json!({"title": {"$lt": "2"}}),
        json!({"title": {"$gte": "snake", "$lte": "snakf"}}),
        json!({"title": {"$gt": "b"}}),
        json!({"title": {"$contains": "_"}}),
        json!({"title": {"$notContains": "done"}}),
        json!({"title": {"$containsAny": ["%", "bb"]}}),
        json!({"title": {"$notContainsAny": ["%", "a"]}}),
        json!({"title": {"$containsAll": ["a", "e"]}}),
        json!({"title": {"$startsWith": "snake"}}),
        json!({"title": {"$notStartsWith": "1"}}),
        json!({"title": {"$startsWithAny": ["1", "T"]}}),
        json!({"title": {"$notStartsWithAny": ["1", "s"]}}),
        json!({"title": {"$endsWith": "case"}}),
        json!({"title": {"$notEndsWith": "done"}}),
        json!({"title": {"$endsWithAny": ["one", "two"]}}),
        json!({"title": {"$notEndsWithAny": ["one", "two"]}}),
        json!({"title": {"$containsCi": "BB"}}),
        json!({"title": {"$notContainsCi": "bb"}}),
        json!({"title": {"$startsWithCi": "TASK"}}),
        json!({"title": {"$notStartsWithCi": "task"}}),
        json!({"title": {"$endsWithCi": "ONE"}}),
        json!({"title": {"$notEndsWithCi": "DONE"}}),
        json!({"title": {"$ilike": "Done"}}),
        json!({"description": "x"}),
        json!({"description": {"$not": "x"}}),
        json!({"description": {"$in": ["x", ""]}}),
        json!({"description": {"$notIn": ["x"]}}),
        json!({"description": {"$contains": "e"}}),
        json!({"description": {"$notContains": "x"}}),
        json!({"description": {"$notContainsAny": ["e", "x"]}}),
        json!({"description": {"$containsCi": "desc"}}),
        json!({"description": {"$notStartsWithCi": "P"}}),
        json!({"description": {"$notEndsWith": "t"}}),
        json!({"description": {"$empty": true}}),
        json!({"description": {"$empty": false}}),
        json!({"description": {"$null": true}}),
        json!({"description": {"$null": false}}),
        json!({"done": true}),
        json!({"done": {"$not": true}}),
        json!({"done": {"$null": false}}),
        json!({"id": {"$gt": 0}}),
        json!({"id": {"$in": []}}),
        json!({"id": {"$notIn": []}}),
        json!({"ctime": {"$null": true}}),
        json!({"ctime": {"$gte": "2000-01-01T00:00:00Z"}}),
    ]
}

/// A filter object: at most one condition and each logic key at most once.
#[derive(Debug, Clone)]
struct Object {
    condition: Option<usize>,
    and: Option<Vec<Filter>>,
    or: Option<Vec<Filter>>,
    not: Option<Box<Filter>>,
}

/// `F`: an object, or a non-empty array of them.
#[derive(Debug, Clone)]
enum Filter {
    Object(Object),
    Array(Vec<Object>),
}

type Titles = BTreeSet<String>;

impl Object {
    fn json(&self, conditions: &[Value]) -> Value {
        let mut members = Map::new();
        if let Some(i) = self.condition {
            members.extend(conditions[i].as_object().unwrap().clone());
        }
        let list = |filters: &Vec<Filter>| Value::Array(filters.iter().map(|f| f.json(conditions)).collect());
        self.and.as_ref().map(|filters| members.insert("$and".into(), list(filters)));
        self.or.as_ref().map(|filters| members.insert("$or".into(), list(filters)));
        self.not.as_ref().map(|filter| members.insert("$not".into(), filter.json(conditions)));
        Value::Object(members)
    }

    /// The reference: the rows every member selects, from each condition's own rows.
    fn rows(&self, all: &Titles, selects: &[Titles]) -> Titles {
        let mut rows = all.clone();
        if let Some(i) = self.condition {
            rows = &rows & &selects[i];
        }
        for filter in self.and.iter().flatten() {
            rows = &rows & &filter.rows(all, selects);
        }
        if let Some(filters) = &self.or {
            let any = filters.iter().fold(Titles::new(), |any, f| &any | &f.rows(all, selects));
            rows = &rows & &any;
        }
        if let Some(filter) = &self.not {
            rows = &rows - &filter.rows(all, selects);
        }
        rows
    }
}

impl Filter {
    fn json(&self, conditions: &[Value]) -> Value {
        match self {
            Filter::Object(object) => object.json(conditions),
            Filter::Array(objects) => Value::Array(objects.iter().map(|o| o.json(conditions)).collect()),
        }
    }

    fn rows(&self, all: &Titles, selects: &[Titles]) -> Titles {
        match self {
            Filter::Object(object) => object.rows(all, selects),
            Filter::Array(objects) => objects.iter().fold(Titles::new(), |any, o| &any | &o.rows(all, selects)),
        }
    }
}

/// Filters whose objects nest at most `levels` deep (recursion levels of the strategy are logic
/// levels).
fn filter(count: usize, levels: u32) -> impl Strategy<Value = Filter> {
    let condition = proptest::option::of(0..count);
    let leaf = condition.clone().prop_map(|condition| Object { condition, and: None, or: None, not: None });
    let objects = leaf.prop_recursive(levels, 40, 3, move |inner| {
        let f = prop_oneof![
            inner.clone().prop_map(Filter::Object),
            prop::collection::vec(inner.clone(), 1..3).prop_map(Filter::Array),
        ];
        let list = proptest::option::of(prop::collection::vec(f.clone(), 1..3));
        (condition.clone(), list.clone(), list, proptest::option::of(f.prop_map(Box::new)))
            .prop_map(|(condition, and, or, not)| Object { condition, and, or, not })
    });
    prop_oneof![objects.clone().prop_map(Filter::Object), prop::collection::vec(objects, 1..4).prop_map(Filter::Array),]
}

async fn titles(f: &Fixture, filters: Value) -> Titles {
    let titles = f.titles(filters.clone()).await;
    let count = TaskBmc::count(&f.ctx, &f.mm, TaskBmc::parse_filters(Some(&common::raw(&filters))).unwrap()).await;
    assert_eq!(count.unwrap(), titles.len() as i64, "count and list agree for {filters}");
    titles.into_iter().collect()
}

#[test]
fn random_trees_select_what_set_algebra_over_their_conditions_selects() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let f = runtime.block_on(fixture());
    let conditions = conditions();
    let selects: Vec<Titles> = runtime.block_on(async {
        let mut selects = Vec::new();
        for condition in &conditions {
            selects.push(titles(&f, condition.clone()).await);
        }
        selects
    });
    let all: Titles = expected(|_, _, _| true).into_iter().collect();
    let config = Config { cases: 200, failure_persistence: None, ..Config::default() };
    TestRunner::new(config)
        .run(&filter(conditions.len(), 8), |tree| {
            let json = tree.json(&conditions);
            let selected = runtime.block_on(titles(&f, json.clone()));
            prop_assert_eq!(selected, tree.rows(&all, &selects), "{}", json);
            Ok(())
        })
        .unwrap();
}

#[tokio::test]
async fn not_matches_the_rows_whose_column_is_null() {
    let f = fixture().await;
    let no_x = expected(|_, _, d| !d.is_some_and(|d| d.contains('x')));
    assert_eq!(f.titles(json!({"$not": {"description": {"$contains": "x"}}})).await, no_x);
    assert_eq!(f.titles(json!({"description": {"$notContains": "x"}})).await, no_x, "as the negative operator");
    let not_x = expected(|_, _, d| d != Some("x"));
    assert_eq!(f.titles(json!({"$not": {"description": "x"}})).await, not_x);
    assert_eq!(
        f.titles(json!({"$not": {"description": {"$gt": "a"}}})).await,
        expected(|_, _, d| d.is_none_or(|d| d <= "a"))
    );
    // NOT of a negative operator that matches NULLs leaves them out.
    let with_x = expected(|_, _, d| d.is_some_and(|d| d.contains('x')));
    assert_eq!(f.titles(json!({"$not": {"description": {"$notContains": "x"}}})).await, with_x);
    assert_eq!(
        f.titles(json!({"$not": {"$not": {"description": {"$contains": "e"}}}})).await,
        f.titles(json!({"description": {"$contains": "e"}})).await
    );
    // Unknown AND false is false: a NOT over an OR or AND holding NULL parts is still two-valued.
    let either = json!({"$not": {"$or": [{"description": {"$contains": "x"}}, {"done": true}]}});
    assert_eq!(f.titles(either).await, expected(|_, done, d| !done && !d.is_some_and(|d| d.contains('x'))));
    assert_eq!(f.titles(json!({"$not": {}})).await, Vec::<String>::new());
    assert_eq!(
        f.titles(json!({"$not": [{"done": true}, {"description": {"$null": true}}]})).await,
        expected(|_, done, d| !done && d.is_some())
    );
}

#[tokio::test]
async fn logic_cannot_widen_a_users_scope() {
    let f = fixture().await;
    let bob = user(&f.mm, "bob").await;
    let bobs = project(&bob, &f.mm, "Bravo").await;
    let secret = task(&bob, &f.mm, bobs, "bob's secret").await;
    let alices = TASKS.len();
    for filters in [
        json!({"$or": [{}, {"project_id": bobs}]}),
        json!({"$or": [{"project_id": bobs}, {"id": secret.id}, {"title": "bob's secret"}]}),
        json!({"$not": {"project_id": f.project_id}}),
        json!({"$not": {"$and": [{"project_id": f.project_id}, {"done": {"$null": false}}]}}),
        json!([{"$not": {"done": true}}, {"$not": {"done": false}}, {"$not": {}}]),
    ] {
        let seen = titles(&f, filters.clone()).await;
        assert!(!seen.contains("bob's secret") && seen.len() <= alices, "{filters}: {seen:?}");
    }
    assert_eq!(titles(&f, json!({"$or": [{"$not": {"done": true}}, {"done": true}]})).await.len(), alices);
    let bobs_view = TaskBmc::parse_filters(Some(&common::raw(&json!({"$not": {"project_id": bobs}})))).unwrap();
    assert_eq!(TaskBmc::count(&bob, &f.mm, bobs_view).await.unwrap(), 0, "Bob sees only his own");
}
