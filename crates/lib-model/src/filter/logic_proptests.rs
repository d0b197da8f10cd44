//! Property tests of `$and`, `$or` and `$not`: generated trees of them (with unknown `$` keys,
//! empty and mistyped values, and chains past the depth limit) for the general property in
//! `proptests`, and the depth limit's edge for any filter object at the bottom of a chain.

use super::MAX_FILTER_DEPTH;
use super::proptests::{Json, check_filters, config, group, junk, typed_condition};
use super::tests::parse;
use crate::Error;
use proptest::prelude::*;
use proptest::sample::select;

const LOGIC_KEYS: &[&str] = &["$and", "$or", "$not"];

/// A filter object with logic keys, their filters nested up to 10 levels (past the limit).
/// Mostly well-formed, so that many pass and are rendered, and many nest too deep; now and then
/// an unknown `$` key, an empty list, or junk where a filter belongs.
pub(super) fn logic_group() -> impl Strategy<Value = Json> {
    (1u32..=10).prop_flat_map(logic_group_of)
}

/// A [`logic_group`] of about `levels` logic levels.
fn logic_group_of(levels: u32) -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
        100 => proptest::option::of(valid_condition()).prop_map(|c| Json::Object(c.into_iter().collect())),
        1 => group(),
    ];
    leaf.prop_recursive(levels, 128, 1, |inner| {
        let filter = prop_oneof![4 => inner.clone(), 1 => prop::collection::vec(inner, 1..3).prop_map(Json::Array)];
        let list = prop_oneof![
            200 => prop::collection::vec(filter.clone(), 1..3).prop_map(Json::Array),
            1 => Just(Json::Array(vec![])),
            1 => junk(),
        ];
        let member = move |key: &str| {
            (Just(key.to_string()), if key == "$not" { filter.clone().boxed() } else { list.clone().boxed() })
        };
        let keys = prop_oneof![
            200 => proptest::sample::subsequence(LOGIC_KEYS, 1..=2),
            1 => Just(vec!["$nor"]),
        ];
        let logic = keys.prop_flat_map(move |keys| keys.into_iter().map(&member).collect::<Vec<_>>());
        (proptest::option::of(valid_condition()), logic)
            .prop_map(|(condition, logic)| Json::Object(condition.into_iter().chain(logic).collect()))
    })
}

/// A condition every filter object accepts.
fn valid_condition() -> impl Strategy<Value = (String, Json)> {
    prop_oneof![
        any::<bool>().prop_map(|done| ("done".to_string(), Json::Bool(done))),
        any::<i64>().prop_map(|id| ("id".to_string(), Json::Object(vec![("$gt".into(), Json::Int(id))]))),
        "[a-z%_]{0,3}"
            .prop_map(|text| ("description".to_string(), Json::Object(vec![("$notContains".into(), Json::Str(text))]))),
    ]
}

/// How many logic levels deep the deepest filter object of `json` is.
pub(super) fn logic_depth(json: &Json) -> usize {
    match json {
        Json::Object(members) => members
            .iter()
            .map(|(key, value)| if LOGIC_KEYS.contains(&key.as_str()) { 1 + logic_depth(value) } else { 0 })
            .max()
            .unwrap_or(0),
        Json::Array(items) => items.iter().map(logic_depth).max().unwrap_or(0),
        Json::Repeat(item, _) => logic_depth(item),
        _ => 0,
    }
}

/// `inner` under the logic keys of `chain`, outermost first; `$and` and `$or` hold it in a list.
fn wrap(chain: &[&str], inner: Json) -> Json {
    chain.iter().rev().fold(inner, |inner, key| {
        let value = if *key == "$not" { inner } else { Json::Array(vec![inner]) };
        Json::Object(vec![(key.to_string(), value)])
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn generated_logic_trees_decode_within_the_budgets_and_the_depth_or_are_invalid_input(json in logic_group()) {
        check_filters(&json)?;
    }

    #[test]
    fn a_chain_of_logic_keys_is_accepted_up_to_8_deep_and_refused_past_it(
        chain in prop::collection::vec(select(LOGIC_KEYS), 0..=MAX_FILTER_DEPTH + 3),
        members in prop::collection::vec(typed_condition(), 0..3),
    ) {
        let object = Json::Object(members.clone());
        let bottom = parse(&object.text());
        prop_assume!(bottom.is_ok());
        let bottom_restricts = bottom.is_ok_and(|bottom| bottom.restricts());
        let text = wrap(&chain, object).text();
        match parse(&text) {
            Ok(filters) => {
                prop_assert!(chain.len() <= MAX_FILTER_DEPTH, "{text}");
                // `$and` and `$or` of one filter are that filter; `$not` always restricts.
                prop_assert_eq!(filters.restricts(), chain.contains(&"$not") || bottom_restricts);
            }
            Err(Error::InvalidInput(invalid)) => {
                prop_assert!(chain.len() > MAX_FILTER_DEPTH, "{invalid} for {text}");
                prop_assert!(invalid.problem.contains("nest at most 8 deep"), "{invalid}");
            }
            Err(other) => prop_assert!(false, "{other:?} for {text}"),
        }
    }
}
