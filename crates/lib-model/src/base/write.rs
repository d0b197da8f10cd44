//! What a `ForCreate` / `ForUpdate` struct writes: its given fields as column/value pairs.

use sea_query::Value;

/// The columns a create or update writes, in declaration order; `#[derive(WriteFields)]`
/// implements it, one column per field, named as the field.
pub trait WriteFields {
    /// Every field a client may give: the columns this input can write.
    const FIELDS: &'static [&'static str];
    /// The same fields with their types, as the input's schema says them.
    const INPUTS: &'static [crate::schema::InputField];

    /// The fields given, as column/value pairs. Absent optional fields are left out, which
    /// makes every update a patch.
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

impl_field_value!(String, bool, i64, time::OffsetDateTime);
