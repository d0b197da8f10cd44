//! The operator vocabulary of each field kind: which `$op` names exist and whether each takes
//! one value, a list, or a flag. The decoder asks these tables; they never see JSON themselves.

use super::parse::{Cmp, FieldOps};
use super::scalar::{self, Conv};
use modql::filter::{OpValBool, OpValString};
use time::OffsetDateTime;

/// The value of one operator, read only once its operator is known, so an unknown operator is
/// refused before its value is looked at.
pub(super) trait OpArg<E> {
    /// A single scalar.
    fn one<T>(self, conv: Conv<T>) -> Result<T, E>;
    /// An array of scalars (at most [`MAX_LIST_VALUES`](super::MAX_LIST_VALUES)).
    fn many<T>(self, conv: Conv<T>) -> Result<Vec<T>, E>;
}

/// The operators of one field kind.
pub(super) trait OpKind {
    type Op;
    /// How errors name the kind: "unknown operator `$x` for a text field".
    const NAME: &'static str;
    /// The operator `op` with its value read from `arg`; `None` if the kind has no such operator.
    fn parse<E>(op: &str, arg: impl OpArg<E>) -> Result<Option<Self::Op>, E>;
    fn wrap(ops: Vec<Self::Op>) -> FieldOps;
}

pub(super) struct TextOps;
pub(super) struct BoolOps;
pub(super) struct IntOps;
pub(super) struct TimeOps;

impl OpKind for TextOps {
    type Op = OpValString;
    const NAME: &'static str = "text";

    fn parse<E>(op: &str, arg: impl OpArg<E>) -> Result<Option<OpValString>, E> {
        use scalar::{flag, text};
        Ok(Some(match op {
            "$eq" => OpValString::Eq(arg.one(text)?),
            "$not" => OpValString::Not(arg.one(text)?),
            "$in" => OpValString::In(arg.many(text)?),
            "$notIn" => OpValString::NotIn(arg.many(text)?),
            "$lt" => OpValString::Lt(arg.one(text)?),
            "$lte" => OpValString::Lte(arg.one(text)?),
            "$gt" => OpValString::Gt(arg.one(text)?),
            "$gte" => OpValString::Gte(arg.one(text)?),
            "$contains" => OpValString::Contains(arg.one(text)?),
            "$notContains" => OpValString::NotContains(arg.one(text)?),
            "$containsAny" => OpValString::ContainsAny(arg.many(text)?),
            "$notContainsAny" => OpValString::NotContainsAny(arg.many(text)?),
            "$containsAll" => OpValString::ContainsAll(arg.many(text)?),
            "$startsWith" => OpValString::StartsWith(arg.one(text)?),
            "$notStartsWith" => OpValString::NotStartsWith(arg.one(text)?),
            "$startsWithAny" => OpValString::StartsWithAny(arg.many(text)?),
            "$notStartsWithAny" => OpValString::NotStartsWithAny(arg.many(text)?),
            "$endsWith" => OpValString::EndsWith(arg.one(text)?),
            "$notEndsWith" => OpValString::NotEndsWith(arg.one(text)?),
            "$endsWithAny" => OpValString::EndsWithAny(arg.many(text)?),
            "$notEndsWithAny" => OpValString::NotEndsWithAny(arg.many(text)?),
            "$containsCi" => OpValString::ContainsCi(arg.one(text)?),
            "$notContainsCi" => OpValString::NotContainsCi(arg.one(text)?),
            "$startsWithCi" => OpValString::StartsWithCi(arg.one(text)?),
            "$notStartsWithCi" => OpValString::NotStartsWithCi(arg.one(text)?),
            "$endsWithCi" => OpValString::EndsWithCi(arg.one(text)?),
            "$notEndsWithCi" => OpValString::NotEndsWithCi(arg.one(text)?),
            "$ilike" => OpValString::Ilike(arg.one(text)?),
            "$empty" => OpValString::Empty(arg.one(flag)?),
            "$null" => OpValString::Null(arg.one(flag)?),
            _ => return Ok(None),
        }))
    }

    fn wrap(ops: Vec<OpValString>) -> FieldOps {
        FieldOps::Text(ops)
    }
}

impl OpKind for BoolOps {
    type Op = OpValBool;
    const NAME: &'static str = "bool";

    fn parse<E>(op: &str, arg: impl OpArg<E>) -> Result<Option<OpValBool>, E> {
        use scalar::flag;
        Ok(Some(match op {
            "$eq" => OpValBool::Eq(arg.one(flag)?),
            "$not" => OpValBool::Not(arg.one(flag)?),
            "$null" => OpValBool::Null(arg.one(flag)?),
            _ => return Ok(None),
        }))
    }

    fn wrap(ops: Vec<OpValBool>) -> FieldOps {
        FieldOps::Bool(ops)
    }
}

impl OpKind for IntOps {
    type Op = Cmp<i64>;
    const NAME: &'static str = "number";

    fn parse<E>(op: &str, arg: impl OpArg<E>) -> Result<Option<Cmp<i64>>, E> {
        cmp_op(op, arg, scalar::int)
    }

    fn wrap(ops: Vec<Cmp<i64>>) -> FieldOps {
        FieldOps::Int(ops)
    }
}

impl OpKind for TimeOps {
    type Op = Cmp<OffsetDateTime>;
    const NAME: &'static str = "time";

    fn parse<E>(op: &str, arg: impl OpArg<E>) -> Result<Option<Cmp<OffsetDateTime>>, E> {
        cmp_op(op, arg, scalar::time)
    }

    fn wrap(ops: Vec<Cmp<OffsetDateTime>>) -> FieldOps {
        FieldOps::Time(ops)
    }
}

/// modql's numeric operator set, for numbers and times alike.
fn cmp_op<T, E>(op: &str, arg: impl OpArg<E>, conv: Conv<T>) -> Result<Option<Cmp<T>>, E> {
    Ok(Some(match op {
        "$eq" => Cmp::Eq(arg.one(conv)?),
        "$not" => Cmp::Not(arg.one(conv)?),
        "$in" => Cmp::In(arg.many(conv)?),
        "$notIn" => Cmp::NotIn(arg.many(conv)?),
        "$lt" => Cmp::Lt(arg.one(conv)?),
        "$lte" => Cmp::Lte(arg.one(conv)?),
        "$gt" => Cmp::Gt(arg.one(conv)?),
        "$gte" => Cmp::Gte(arg.one(conv)?),
        "$null" => Cmp::Null(arg.one(scalar::flag)?),
        _ => return Ok(None),
    }))
}

/// Every operator name of every kind: the names [`operators`] asks each kind's table about.
/// (A test checks that each `$name` of the tables above is here.)
pub(super) const OPERATOR_NAMES: [&str; 30] = [
    "$eq",
    "$not",
    "$in",
    "$notIn",
    "$lt",
    "$lte",
    "$gt",
    "$gte",
    "$contains",
    "$notContains",
    "$containsAny",
    "$notContainsAny",
    "$containsAll",
    "$startsWith",
    "$notStartsWith",
    "$startsWithAny",
    "$notStartsWithAny",
    "$endsWith",
    "$notEndsWith",
    "$endsWithAny",
    "$notEndsWithAny",
    "$containsCi",
    "$notContainsCi",
    "$startsWithCi",
    "$notStartsWithCi",
    "$endsWithCi",
    "$notEndsWithCi",
    "$ilike",
    "$empty",
    "$null",
];

/// What one operator takes: one value or a list of them, each of the field's kind or a flag
/// (`$null`, `$empty`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Operand {
    pub(crate) list: bool,
    pub(crate) flag: bool,
}

/// The operators of a field of `kind`, read from the kind's own table (the one the decoder
/// uses), so that what a filter's schema says is what the decoder accepts.
pub(crate) fn operators(kind: super::FieldKind) -> Vec<(&'static str, Operand)> {
    use super::FieldKind;
    match kind {
        FieldKind::Int => probe::<IntOps>(),
        FieldKind::Text => probe::<TextOps>(),
        FieldKind::Bool => probe::<BoolOps>(),
        FieldKind::Time => probe::<TimeOps>(),
    }
}

/// Asks `K`'s table about each name with an argument that records how it is read and then
/// stops the parse (it has no value to give).
fn probe<K: OpKind>() -> Vec<(&'static str, Operand)> {
    struct Probe<'a>(&'a mut Option<Operand>);
    impl Probe<'_> {
        fn record<T>(self, list: bool, conv: Conv<T>) -> Result<T, ()> {
            // Only a flag takes `true`: no kind's own values do, bar bool's, whose flags are bools too.
            let flag = conv(scalar::Scalar::Bool(true)).is_ok();
            *self.0 = Some(Operand { list, flag });
            Err(())
        }
    }
    impl OpArg<()> for Probe<'_> {
        fn one<T>(self, conv: Conv<T>) -> Result<T, ()> {
            self.record(false, conv)
        }
        fn many<T>(self, conv: Conv<T>) -> Result<Vec<T>, ()> {
            self.record(true, conv).map(|_| Vec::new())
        }
    }
    OPERATOR_NAMES
        .into_iter()
        .filter_map(|name| {
            let mut operand = None;
            match K::parse(name, Probe(&mut operand)) {
                Ok(None) => None,
                _ => Some((name, operand.expect("a known operator reads its value"))),
            }
        })
        .collect()
}

#[cfg(test)]
mod operator_tests {
    use super::*;
    use crate::filter::FieldKind;

    #[test]
    fn every_operator_of_the_tables_is_probed() {
        let source = include_str!("ops.rs");
        for literal in source.split('"').skip(1).step_by(2).filter(|s| s.starts_with('$')) {
            assert!(OPERATOR_NAMES.contains(&literal), "{literal} is missing from OPERATOR_NAMES");
        }
    }

    #[test]
    fn the_probe_reads_the_tables() {
        let names = |kind| operators(kind).into_iter().map(|(name, _)| name).collect::<Vec<_>>();
        assert_eq!(names(FieldKind::Bool), ["$eq", "$not", "$null"]);
        assert_eq!(names(FieldKind::Int), ["$eq", "$not", "$in", "$notIn", "$lt", "$lte", "$gt", "$gte", "$null"]);
        assert_eq!(names(FieldKind::Text).len(), 30);
        let text = operators(FieldKind::Text);
        let operand = |name| text.iter().find(|(n, _)| *n == name).unwrap().1;
        assert_eq!(operand("$in"), Operand { list: true, flag: false });
        assert_eq!(operand("$empty"), Operand { list: false, flag: true });
        assert_eq!(operand("$eq"), Operand { list: false, flag: false });
    }
}
