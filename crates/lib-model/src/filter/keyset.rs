//! The keyset condition: the rows that come after a given row in a list's order, which is how a
//! cursor continues a list at the same cost however deep it is.
//!
//! For an order `c1, c2, ..., id` and the last row's values `v1, v2, ..., vn`, a row comes after
//! when `c1` is beyond `v1`, or `c1` equals `v1` and `c2` is beyond `v2`, and so on; `id` is
//! unique, so no row ties with the last one. NULLs sort as if greater than every value (see
//! `SortKey::nulls`), and "equals" and "beyond" follow that rule exactly, a NULL last value
//! included. The default order (`id` alone) gives just `id > $1`, which the primary key answers.

use super::ColumnRefs;
use super::order_bys::SortKey;
use sea_query::{Condition, Expr, ExprTrait as _};

/// The rows after the one whose order values are `last` (`None`: NULL), in `order`.
pub(crate) fn after(refs: &ColumnRefs, order: &[SortKey], last: &[Option<sea_query::Value>]) -> Condition {
    let keys: Vec<_> = order.iter().zip(last).collect();
    let mut any = Condition::any();
    for (tie, (sort, value)) in keys.iter().enumerate() {
        let Some(beyond) = beyond(refs, **sort, value) else {
            continue;
        };
        let equal_before = keys[..tie]
            .iter()
            .fold(Condition::all(), |all, (sort, value)| all.add(equal(refs.expr(&sort.column), value)));
        any = any.add(equal_before.add(beyond));
    }
    any
}

/// The column equals `value` (both NULL counts as equal: they sort together).
fn equal(column: Expr, value: &Option<sea_query::Value>) -> Expr {
    match value {
        Some(value) => column.eq(value.clone()),
        None => column.is_null(),
    }
}

/// The column's value sorts after `value` in its direction; `None` when nothing can (the last
/// place of the order: NULL ascending).
fn beyond(refs: &ColumnRefs, sort: SortKey, value: &Option<sea_query::Value>) -> Option<Condition> {
    let column = || refs.expr(&sort.column);
    let nullable = sort.column.nullable;
    Some(match (sort.descending, value) {
        (false, Some(value)) if nullable => Condition::any().add(column().gt(value.clone())).add(column().is_null()),
        (false, Some(value)) => Condition::all().add(column().gt(value.clone())),
        (false, None) => return None,
        (true, Some(value)) => Condition::all().add(column().lt(value.clone())),
        (true, None) => Condition::all().add(column().is_not_null()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::{Column, FieldKind};
    use sea_query::{PostgresQueryBuilder, Query};

    const ID: Column = Column::new("id", FieldKind::Int);
    const TITLE: Column = Column::new("title", FieldKind::Text);
    const DESCRIPTION: Column = Column::new("description", FieldKind::Text).nullable();

    fn sql(order: &[SortKey], last: &[Option<sea_query::Value>]) -> String {
        let mut select = Query::select();
        select.column("id").from("t").cond_where(after(&ColumnRefs::table("t"), order, last));
        select.to_string(PostgresQueryBuilder)
    }

    fn key(column: Column, descending: bool) -> SortKey {
        SortKey { column, descending }
    }

    #[test]
    fn the_default_order_continues_with_the_primary_key_alone() {
        assert_eq!(sql(&[SortKey::ID_ASC], &[Some(7i64.into())]), r#"SELECT "id" FROM "t" WHERE "t"."id" > 7"#);
    }

    #[test]
    fn a_tie_on_the_first_column_is_settled_by_the_next() {
        let order = [key(TITLE, true), SortKey::ID_ASC];
        assert_eq!(
            sql(&order, &[Some("b".into()), Some(7i64.into())]),
            r#"SELECT "id" FROM "t" WHERE "t"."title" < 'b' OR ("t"."title" = 'b' AND "t"."id" > 7)"#
        );
    }

    #[test]
    fn nulls_come_after_every_value_ascending_and_before_every_value_descending() {
        let ascending = [key(DESCRIPTION, false), SortKey::ID_ASC];
        assert_eq!(
            sql(&ascending, &[Some("x".into()), Some(7i64.into())]),
            r#"SELECT "id" FROM "t" WHERE "t"."description" > 'x' OR "t"."description" IS NULL OR ("t"."description" = 'x' AND "t"."id" > 7)"#
        );
        assert_eq!(
            sql(&ascending, &[None, Some(7i64.into())]),
            r#"SELECT "id" FROM "t" WHERE "t"."description" IS NULL AND "t"."id" > 7"#
        );
        let descending = [key(DESCRIPTION, true), SortKey::ID_ASC];
        assert_eq!(
            sql(&descending, &[None, Some(7i64.into())]),
            r#"SELECT "id" FROM "t" WHERE "t"."description" IS NOT NULL OR ("t"."description" IS NULL AND "t"."id" > 7)"#
        );
        assert_eq!(
            sql(&descending, &[Some("x".into()), Some(7i64.into())]),
            r#"SELECT "id" FROM "t" WHERE "t"."description" < 'x' OR ("t"."description" = 'x' AND "t"."id" > 7)"#
        );
    }

    #[test]
    fn a_nullable_column_after_another_keeps_its_null_rule_inside_the_tie() {
        let order = [key(TITLE, false), key(DESCRIPTION, false), SortKey::ID_ASC];
        assert_eq!(
            sql(&order, &[Some("a".into()), Some("x".into()), Some(7i64.into())]),
            concat!(
                r#"SELECT "id" FROM "t" WHERE "t"."title" > 'a' "#,
                r#"OR ("t"."title" = 'a' AND ("t"."description" > 'x' OR "t"."description" IS NULL)) "#,
                r#"OR ("t"."title" = 'a' AND "t"."description" = 'x' AND "t"."id" > 7)"#
            )
        );
    }

    #[test]
    fn a_descending_id_continues_below_the_last_id() {
        let order = [key(ID, true)];
        assert_eq!(sql(&order, &[Some(7i64.into())]), r#"SELECT "id" FROM "t" WHERE "t"."id" < 7"#);
    }
}
