//! Property tests: generated `filters` and `list_options` text, deep and wide (random fields,
//! operators and values, empty objects and lists, huge arrays, repeated keys, nesting the grammar
//! does not have, trees of `$and`, `$or` and `$not` nested past the depth limit), always decode
//! to `Ok` or `InvalidInput`, never panic, and every `Ok` is within the budgets and the depth
//! limit and renders to SQL.

use super::logic_proptests::{logic_depth, logic_group};
use super::tests::{options, parse, render};
use super::{MAX_FILTER_DEPTH, MAX_FILTER_NODES, MAX_FILTER_VALUES, MAX_LIMIT, MAX_ORDER_BYS};
use crate::Error;
use proptest::prelude::*;
use proptest::sample::select;

/// JSON as text is written, so a generated object can repeat a key and an array can be huge
/// without a huge value being built first.
#[derive(Debug, Clone)]
pub(super) enum Json {
    Null,
    Bool(bool),
    Int(i64),
    Big(u64),
    Float(f64),
    Str(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
    /// `n` copies of one element.
    Repeat(Box<Json>, usize),
    /// `n` arrays nested in each other.
    Deep(usize),
}

impl Json {
    fn write(&self, out: &mut String) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(&b.to_string()),
            Json::Int(n) => out.push_str(&n.to_string()),
            Json::Big(n) => out.push_str(&n.to_string()),
            Json::Float(f) => out.push_str(&serde_json::Number::from_f64(*f).map_or("0.5".into(), |n| n.to_string())),
            Json::Str(s) => out.push_str(&serde_json::to_string(s).unwrap_or_default()),
            Json::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Json::Object(members) => {
                out.push('{');
                for (i, (key, value)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    Json::Str(key.clone()).write(out);
                    out.push(':');
                    value.write(out);
                }
                out.push('}');
            }
            Json::Repeat(item, n) => {
                out.push('[');
                for i in 0..*n {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Json::Deep(n) => {
                out.push_str(&"[".repeat(*n));
                out.push_str(&"]".repeat(*n));
            }
        }
    }

    pub(super) fn text(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }
}

const FIELDS: &[&str] = &["id", "project_id", "title", "done", "description", "cid", "ctime", "mid", "mtime"];
const OPS: &[&str] = &super::ops::OPERATOR_NAMES;
const TEXTS: &[&str] = &[
    "",
    "a%_\\",
    "nul\u{0}",
    "2026-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999999999Z",
    "9999-12-31T23:59:59-23:59",
    "0000-01-01T00:00:00+23:59",
    "snake_case",
];

fn name(known: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop_oneof![4 => select(known).prop_map(String::from), 1 => "[$a-z!]{0,8}"]
}

fn scalar() -> impl Strategy<Value = Json> {
    prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        any::<i64>().prop_map(Json::Int),
        (i64::MAX as u64..=u64::MAX).prop_map(Json::Big),
        any::<f64>().prop_map(Json::Float),
        select(TEXTS).prop_map(|s| Json::Str(s.into())),
        "\\PC{0,12}".prop_map(Json::Str),
    ]
}

/// Any JSON, a few levels deep, for where the grammar expects something else.
pub(super) fn junk() -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![scalar(), (1usize..400).prop_map(Json::Deep)];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Json::Array),
            prop::collection::vec(("\\PC{0,4}", inner), 0..4).prop_map(Json::Object),
        ]
    })
}

/// An operator's value: a scalar, a list (sometimes past 1000), or junk.
fn op_value() -> impl Strategy<Value = Json> {
    prop_oneof![
        4 => scalar(),
        2 => prop::collection::vec(scalar(), 0..8).prop_map(Json::Array),
        1 => (scalar(), 0usize..1200).prop_map(|(item, n)| Json::Repeat(Box::new(item), n)),
        1 => junk(),
    ]
}

/// A condition's value: a bare value or an object of operators (possibly empty or repeated).
fn condition() -> impl Strategy<Value = Json> {
    prop_oneof![
        1 => op_value(),
        3 => prop::collection::vec((name(OPS), op_value()), 0..4).prop_map(Json::Object),
    ]
}

/// A list of `n` copies of `item`, or a few different ones.
fn list_of(item: impl Strategy<Value = Json> + Clone) -> impl Strategy<Value = Json> {
    prop_oneof![
        prop::collection::vec(item.clone(), 0..6).prop_map(Json::Array),
        (item, 0usize..1100).prop_map(|(item, n)| Json::Repeat(Box::new(item), n)),
    ]
}

/// A well-typed condition, so that generated filters also pass and get rendered.
pub(super) fn typed_condition() -> impl Strategy<Value = (String, Json)> {
    let text = || select(TEXTS).prop_map(|s| Json::Str(s.replace('\0', "")));
    let flag = || any::<bool>().prop_map(Json::Bool);
    let text_ops = prop::collection::vec(
        prop_oneof![
            (select(&OPS[..2]), text()).prop_map(|(o, v)| (o.to_string(), v)),
            (
                select(&["$in", "$containsAny", "$notContainsAny", "$containsAll", "$notEndsWithAny"][..]),
                list_of(text())
            )
                .prop_map(|(o, v)| (o.to_string(), v)),
            (select(&["$empty", "$null"][..]), flag()).prop_map(|(o, v)| (o.to_string(), v)),
        ],
        0..4,
    );
    let cmp_ops = |value: fn() -> BoxedStrategy<Json>| {
        prop::collection::vec(
            prop_oneof![
                (select(&["$eq", "$not", "$lt", "$gte"][..]), value()).prop_map(|(o, v)| (o.to_string(), v)),
                (select(&["$in", "$notIn"][..]), list_of(value())).prop_map(|(o, v)| (o.to_string(), v)),
                flag().prop_map(|v| ("$null".to_string(), v)),
            ],
            0..3,
        )
    };
    prop_oneof![
        (select(&["title", "description"][..]), text_ops).prop_map(|(f, ops)| (f.to_string(), Json::Object(ops))),
        (select(&["title", "description"][..]), text()).prop_map(|(f, v)| (f.to_string(), v)),
        (select(&["id", "cid"][..]), cmp_ops(int_value)).prop_map(|(f, ops)| (f.to_string(), Json::Object(ops))),
        (select(&["ctime", "mtime"][..]), cmp_ops(time_value)).prop_map(|(f, ops)| (f.to_string(), Json::Object(ops))),
        flag().prop_map(|v| ("done".to_string(), v)),
    ]
}

fn int_value() -> BoxedStrategy<Json> {
    any::<i64>().prop_map(Json::Int).boxed()
}

/// Times in and out of range.
fn time_value() -> BoxedStrategy<Json> {
    select(&TEXTS[3..7]).prop_map(|s| Json::Str(s.into())).boxed()
}

pub(super) fn group() -> impl Strategy<Value = Json> {
    let member = prop_oneof![3 => typed_condition(), 1 => (name(FIELDS), condition())];
    prop_oneof![
        8 => prop::collection::vec(member, 0..5).prop_map(Json::Object),
        1 => junk(),
    ]
}

/// A small group, many copies of which make a wide filter.
fn small_group() -> impl Strategy<Value = Json> {
    prop::collection::vec((name(FIELDS), prop_oneof![scalar(), Just(Json::Object(vec![]))]), 0..3)
        .prop_map(Json::Object)
}

fn filters() -> impl Strategy<Value = Json> {
    prop_oneof![
        1 => Just(Json::Null),
        3 => group(),
        4 => prop::collection::vec(group(), 0..12).prop_map(Json::Array),
        3 => logic_group(),
        2 => prop::collection::vec(logic_group(), 0..4).prop_map(Json::Array),
        2 => (small_group(), 0usize..1100).prop_map(|(group, n)| Json::Repeat(Box::new(group), n)),
        1 => junk(),
    ]
}

fn list_options() -> impl Strategy<Value = Json> {
    let order = || name(&["id", "!id", "title", "!title", "done", "!ctime", "owner_id"]).prop_map(Json::Str);
    let value = prop_oneof![
        scalar(),
        (0i64..1100).prop_map(Json::Int),
        order(),
        prop::collection::vec(order(), 0..20).prop_map(Json::Array),
        (order(), 0usize..300).prop_map(|(o, n)| Json::Repeat(Box::new(o), n)),
        junk(),
    ];
    let key = name(&["order_bys", "limit", "offset"]);
    prop_oneof![
        6 => prop::collection::vec((key, value), 0..4).prop_map(Json::Object),
        1 => junk(),
    ]
}

pub(super) fn config() -> ProptestConfig {
    ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() }
}

/// `json` as `filters` decodes within the budgets and the depth limit and renders, or is the
/// client's mistake.
pub(super) fn check_filters(json: &Json) -> Result<(), TestCaseError> {
    let text = json.text();
    match parse(&text) {
        Ok(filters) => {
            prop_assert!(filters.node_count() <= MAX_FILTER_NODES, "{} nodes", filters.node_count());
            prop_assert!(filters.value_count() <= MAX_FILTER_VALUES, "{} values", filters.value_count());
            prop_assert!(logic_depth(json) <= MAX_FILTER_DEPTH, "{text}");
            let (sql, _) = render(filters);
            prop_assert!(sql.starts_with("SELECT"));
        }
        Err(Error::InvalidInput(invalid)) => prop_assert!(invalid.field.starts_with("filters"), "{invalid}"),
        Err(other) => prop_assert!(false, "{other:?} for {text}"),
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn generated_filters_decode_within_the_budgets_or_are_invalid_input(json in filters()) {
        check_filters(&json)?;
    }

    #[test]
    fn generated_list_options_decode_within_the_budgets_or_are_invalid_input(json in list_options()) {
        let text = json.text();
        match options(&text) {
            Ok(options) => {
                let (order_bys, limit, offset) = options.shape();
                prop_assert!(order_bys <= MAX_ORDER_BYS + 1, "{order_bys} order_bys");
                prop_assert!((1..=MAX_LIMIT).contains(&limit));
                prop_assert!(i64::try_from(offset).is_ok());
            }
            Err(Error::InvalidInput(invalid)) => prop_assert!(invalid.field.starts_with("list_options"), "{invalid}"),
            Err(other) => prop_assert!(false, "{other:?} for {text}"),
        }
    }
}
