//! Deserialisers for patch fields, where "absent" and "null" must not mean the same thing.

use serde::{Deserialize, Deserializer};

/// An optional field that may not be `null`: absent is `None`, `null` is an error.
/// Use with `#[serde(default, deserialize_with = "present")]`.
pub fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<Option<T>, D::Error> {
    T::deserialize(deserializer).map(Some)
}

/// An optional, nullable field: absent is `None`, `null` is `Some(None)` (clear it).
/// Use with `#[serde(default, deserialize_with = "nullable")]`.
pub fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}
