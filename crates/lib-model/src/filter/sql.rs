//! A filter's tree to sea-query conditions. Values are always bound parameters; pattern values
//! are escaped so that `%`, `_` and `\` match themselves.
//!
//! A node that restricts nothing (`{}`, an object of such nodes, an OR holding one) is left out
//! of the statement, and a filter made only of such nodes renders as no condition at all, so
//! that the statement is the unfiltered one (see [`Filters::restricts`]).
//!
//! `$not` renders as `(filter) IS NOT TRUE`, not `NOT (filter)`: a field condition is unknown
//! (NULL) on a NULL column, and `NOT` of unknown is unknown, which `WHERE` drops. A client who
//! asks for the tasks whose description does not contain "x" means those without a description
//! too, as the negative operators (`$notContains`, ...) already have it. So every node is
//! two-valued as the client sees it: AND and OR treat unknown as false on the way to `WHERE`,
//! and `IS NOT TRUE` is exactly NOT of that.
//!
//! Every AND or OR of many parts is built as a balanced tree ([`all_of`], [`any_of`]). sea-query
//! renders a `Condition` by folding its parts into a left-deep chain of binary expressions
//! (`((a OR b) OR c) OR ...`), which it then renders, clones and drops recursively: a flat
//! condition of n parts costs n stack frames several times over, and 15,000 of them overflowed a
//! worker's stack. Nested two at a time, the depth is log2(n) whatever the filter.

use super::ColumnRefs;
use super::parse::{Cmp, FieldFilter, FieldOps, Filters, Node};
use modql::filter::{OpValBool, OpValString};
use sea_query::extension::postgres::PgExpr as _;
use sea_query::{Condition, Expr, ExprTrait as _, LikeExpr};

impl Filters {
    /// Whether the filter restricts anything: when it does not, it renders as no condition and
    /// the statement is the same as for no filter at all.
    pub(crate) fn restricts(&self) -> bool {
        self.root.as_ref().is_some_and(Node::restricts)
    }

    /// The condition on the columns `refs` names, or `None` when the filter restricts nothing.
    pub(crate) fn into_condition(self, refs: &ColumnRefs) -> Option<Condition> {
        self.root.filter(Node::restricts).map(|root| root.into_condition(refs))
    }
}

impl Node {
    /// Whether some row may fail this node. Recursion is bounded by the decoder's depth limit.
    fn restricts(&self) -> bool {
        match self {
            Node::Field(_) | Node::Not(_) => true,
            Node::All(nodes) => nodes.iter().any(Node::restricts),
            Node::Any(nodes) => nodes.iter().all(Node::restricts),
        }
    }

    /// The condition of a node that [`restricts`](Node::restricts).
    fn into_condition(self, refs: &ColumnRefs) -> Condition {
        match self {
            Node::Field(filter) => filter.into_condition(refs),
            Node::All(nodes) => all_of(nodes.into_iter().filter(Node::restricts).map(|n| n.into_condition(refs))),
            Node::Any(nodes) => any_of(nodes.into_iter().map(|n| n.into_condition(refs))),
            Node::Not(node) if node.restricts() => is_not_true(node.into_condition(refs)),
            Node::Not(_) => always(false),
        }
    }
}

/// True when `condition` is false or unknown: NOT in the two-valued logic clients expect.
fn is_not_true(condition: Condition) -> Condition {
    Condition::all().add(Expr::cust_with_exprs("($1) IS NOT TRUE", [Expr::from(condition)]))
}

impl FieldFilter {
    fn into_condition(self, refs: &ColumnRefs) -> Condition {
        let col = refs.expr(&self.column);
        let field = Field { col, nullable: self.column.nullable };
        match self.ops {
            FieldOps::Text(ops) => all_of(ops.into_iter().map(|op| field.text(op))),
            FieldOps::Bool(ops) => all_of(ops.into_iter().map(|op| field.bool(op))),
            FieldOps::Int(ops) => all_of(ops.into_iter().map(|op| field.cmp(op))),
            FieldOps::Time(ops) => all_of(ops.into_iter().map(|op| field.cmp(op))),
        }
    }
}

struct Field {
    col: Expr,
    nullable: bool,
}

impl Field {
    fn col(&self) -> Expr {
        self.col.clone()
    }

    /// A negative test also matches NULL on a nullable column (SQL's `NULL <> 'x'` is not true).
    fn negative(&self, expr: impl Into<Condition>) -> Condition {
        let expr = expr.into();
        if self.nullable { Condition::any().add(self.col().is_null()).add(expr) } else { expr }
    }

    fn null(&self, is_null: bool) -> Condition {
        Condition::all().add(if is_null { self.col().is_null() } else { self.col().is_not_null() })
    }

    fn cmp<T: Into<sea_query::Value>>(&self, op: Cmp<T>) -> Condition {
        let col = self.col();
        match op {
            Cmp::Eq(v) => col.eq(v).into(),
            Cmp::Not(v) => self.negative(col.ne(v)),
            Cmp::In(vs) => in_list(col, vs),
            Cmp::NotIn(vs) => self.negative(not_in_list(col, vs)),
            Cmp::Lt(v) => col.lt(v).into(),
            Cmp::Lte(v) => col.lte(v).into(),
            Cmp::Gt(v) => col.gt(v).into(),
            Cmp::Gte(v) => col.gte(v).into(),
            Cmp::Null(is_null) => self.null(is_null),
        }
    }

    fn bool(&self, op: OpValBool) -> Condition {
        match op {
            OpValBool::Eq(v) => self.col().eq(v).into(),
            OpValBool::Not(v) => self.negative(self.col().ne(v)),
            OpValBool::Null(is_null) => self.null(is_null),
        }
    }

    fn text(&self, op: OpValString) -> Condition {
        use Pattern::{Contains, EndsWith, StartsWith};
        let col = self.col();
        match op {
            OpValString::Eq(v) => col.eq(v).into(),
            OpValString::Not(v) => self.negative(col.ne(v)),
            OpValString::In(vs) => in_list(col, vs),
            OpValString::NotIn(vs) => self.negative(not_in_list(col, vs)),
            OpValString::Lt(v) => col.lt(v).into(),
            OpValString::Lte(v) => col.lte(v).into(),
            OpValString::Gt(v) => col.gt(v).into(),
            OpValString::Gte(v) => col.gte(v).into(),

            OpValString::Contains(v) => self.like(Contains, &v),
            OpValString::NotContains(v) => self.not_like(Contains, &v),
            OpValString::ContainsAny(vs) => self.any_like(Contains, vs),
            OpValString::NotContainsAny(vs) => self.none_like(Contains, vs),
            OpValString::ContainsAll(vs) => all_of(vs.iter().map(|v| self.like(Contains, v))),
            OpValString::StartsWith(v) => self.like(StartsWith, &v),
            OpValString::NotStartsWith(v) => self.not_like(StartsWith, &v),
            OpValString::StartsWithAny(vs) => self.any_like(StartsWith, vs),
            OpValString::NotStartsWithAny(vs) => self.none_like(StartsWith, vs),
            OpValString::EndsWith(v) => self.like(EndsWith, &v),
            OpValString::NotEndsWith(v) => self.not_like(EndsWith, &v),
            OpValString::EndsWithAny(vs) => self.any_like(EndsWith, vs),
            OpValString::NotEndsWithAny(vs) => self.none_like(EndsWith, vs),

            // Case-insensitive forms use ILIKE, which a trigram index can serve.
            OpValString::ContainsCi(v) | OpValString::Ilike(v) => col.ilike(Contains.of(&v)).into(),
            OpValString::NotContainsCi(v) => self.negative(col.not_ilike(Contains.of(&v))),
            OpValString::StartsWithCi(v) => col.ilike(StartsWith.of(&v)).into(),
            OpValString::NotStartsWithCi(v) => self.negative(col.not_ilike(StartsWith.of(&v))),
            OpValString::EndsWithCi(v) => col.ilike(EndsWith.of(&v)).into(),
            OpValString::NotEndsWithCi(v) => self.negative(col.not_ilike(EndsWith.of(&v))),

            OpValString::Empty(true) => Condition::any().add(col.clone().is_null()).add(col.eq("")),
            OpValString::Empty(false) => Condition::all().add(col.clone().is_not_null()).add(col.ne("")),
            OpValString::Null(is_null) => self.null(is_null),
        }
    }

    fn like(&self, pattern: Pattern, value: &str) -> Condition {
        self.col().like(pattern.of(value)).into()
    }

    fn not_like(&self, pattern: Pattern, value: &str) -> Condition {
        self.negative(self.col().not_like(pattern.of(value)))
    }

    /// At least one pattern matches; an empty list matches nothing.
    fn any_like(&self, pattern: Pattern, values: Vec<String>) -> Condition {
        if values.is_empty() {
            return always(false);
        }
        any_of(values.iter().map(|v| self.like(pattern, v)))
    }

    /// No pattern matches; an empty list excludes nothing.
    fn none_like(&self, pattern: Pattern, values: Vec<String>) -> Condition {
        all_of(values.iter().map(|v| self.not_like(pattern, v)))
    }
}

#[derive(Clone, Copy)]
enum Pattern {
    Contains,
    StartsWith,
    EndsWith,
}

impl Pattern {
    /// The LIKE pattern for `value` taken literally. Backslash is Postgres' default LIKE escape,
    /// so no `ESCAPE` clause is needed (sea-query renders one after ILIKE in a way Postgres
    /// rejects).
    fn of(self, value: &str) -> LikeExpr {
        let literal = escape_like(value);
        let pattern = match self {
            Pattern::Contains => format!("%{literal}%"),
            Pattern::StartsWith => format!("{literal}%"),
            Pattern::EndsWith => format!("%{literal}"),
        };
        LikeExpr::new(pattern)
    }
}

fn escape_like(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(c, '\\' | '%' | '_') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// `IN ()` is not SQL: an empty `$in` matches nothing.
fn in_list<T: Into<sea_query::Value>>(col: Expr, values: Vec<T>) -> Condition {
    if values.is_empty() { always(false) } else { col.is_in(values.into_iter().map(Into::into)).into() }
}

/// An empty `$notIn` excludes nothing.
fn not_in_list<T: Into<sea_query::Value>>(col: Expr, values: Vec<T>) -> Condition {
    if values.is_empty() { always(true) } else { col.is_not_in(values.into_iter().map(Into::into)).into() }
}

/// The AND of `parts` (true when there are none), nested so that its depth is log2 of their count.
fn all_of(parts: impl Iterator<Item = Condition>) -> Condition {
    balanced(parts, Condition::all)
}

/// The OR of `parts` (false when there are none), nested so that its depth is log2 of their count.
fn any_of(parts: impl Iterator<Item = Condition>) -> Condition {
    balanced(parts, Condition::any)
}

/// Pairs up `parts` level by level, without recursion, until one condition is left.
fn balanced(parts: impl Iterator<Item = Condition>, join: fn() -> Condition) -> Condition {
    let mut level: Vec<Condition> = parts.collect();
    if level.is_empty() {
        return join();
    }
    while level.len() > 1 {
        let mut pairs = Vec::with_capacity(level.len().div_ceil(2));
        let mut parts = level.into_iter();
        while let Some(first) = parts.next() {
            pairs.push(match parts.next() {
                Some(second) => join().add(first).add(second),
                None => first,
            });
        }
        level = pairs;
    }
    level.pop().unwrap_or_else(join)
}

fn always(value: bool) -> Condition {
    Condition::all().add(Expr::cust(if value { "TRUE" } else { "FALSE" }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_metacharacters_are_escaped() {
        assert_eq!(escape_like(r"50%_off\now"), r"50\%\_off\\now");
        assert_eq!(escape_like("plain"), "plain");
    }
}
