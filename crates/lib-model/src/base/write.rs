//! What a `ForCreate` / `ForUpdate` struct writes: its given fields as column/value pairs.

use sea_query::Value;

/// The columns a create or update writes, in declaration order. Absent optional fields are
/// left out, which makes every update a patch.
pub trait WriteFields {
    fn write_fields(self) -> Vec<(&'static str, Value)>;
}

/// How one field becomes a written value: `None` means "not given, leave the column alone".
pub trait FieldValue {
    fn into_field_value(self) -> Option<Value>;
}

macro_rules! impl_field_value {
    ($($ty:ty),*) => {$(
        impl FieldValue for $ty {
            fn into_field_value(self) -> Option<Value> {
                Some(self.into())
            }
        }
        /// Optional: given or not.
        impl FieldValue for Option<$ty> {
            fn into_field_value(self) -> Option<Value> {
                self.map(Into::into)
            }
        }
        /// Optional and nullable: not given, given as `null` (clears the column), or given.
        impl FieldValue for Option<Option<$ty>> {
            fn into_field_value(self) -> Option<Value> {
                self.map(Into::into)
            }
        }
    )*};
}

impl_field_value!(String, bool, i64);

/// Implements [`WriteFields`] for a struct by listing its fields:
/// `impl_write_fields!(TaskForUpdate { title, done, description });`
#[macro_export]
macro_rules! impl_write_fields {
    ($ty:ty { $($field:ident),* $(,)? }) => {
        impl $crate::base::WriteFields for $ty {
            fn write_fields(self) -> Vec<(&'static str, $crate::sea_query::Value)> {
                let mut fields = Vec::new();
                $(
                    if let Some(value) = $crate::base::FieldValue::into_field_value(self.$field) {
                        fields.push((stringify!($field), value));
                    }
                )*
                fields
            }
        }
    };
}
