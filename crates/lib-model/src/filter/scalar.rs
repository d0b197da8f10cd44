//! One JSON value where a scalar is expected, its checked conversion to what a statement binds,
//! and the side channel that carries a typed refusal out of serde.
//!
//! The decoders of this module's siblings never build a `serde_json::Value`: a visitor sees each
//! scalar once as a [`Scalar`] and converts it at once; an array or object where a scalar belongs
//! is refused before a byte of it is read.

use crate::Error;
use serde::de;
use time::format_description::well_known::Rfc3339;
use time::macros::datetime;
use time::{OffsetDateTime, UtcOffset};

/// A JSON value as a visitor sees it; compound values are only named, never read.
#[derive(Debug, Clone, Copy)]
pub(super) enum Scalar<'a> {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    /// A number with a fraction or an exponent, or past 64 bits: its value is never needed.
    Float,
    Str(&'a str),
    Array,
    Object,
}

/// A conversion of one scalar, with the client-facing reason when it does not fit.
pub(super) type Conv<T> = for<'a> fn(Scalar<'a>) -> Result<T, &'static str>;

/// Implements the scalar `visit_*` methods of a `Visitor` by handing each value to the
/// visitor's own `fn scalar<E: de::Error>(self, Scalar<'_>) -> ::std::result::Result<Self::Value, E>`, so every
/// shape a client can send ends in code that names the field (serde's default errors do not).
macro_rules! visit_scalars {
    () => {
        fn visit_unit<E: serde::de::Error>(self) -> ::std::result::Result<Self::Value, E> {
            self.scalar($crate::filter::scalar::Scalar::Null)
        }
        fn visit_none<E: serde::de::Error>(self) -> ::std::result::Result<Self::Value, E> {
            self.scalar($crate::filter::scalar::Scalar::Null)
        }
        fn visit_bool<E: serde::de::Error>(self, v: bool) -> ::std::result::Result<Self::Value, E> {
            self.scalar($crate::filter::scalar::Scalar::Bool(v))
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> ::std::result::Result<Self::Value, E> {
            self.scalar($crate::filter::scalar::Scalar::Int(v))
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> ::std::result::Result<Self::Value, E> {
            self.scalar($crate::filter::scalar::Scalar::UInt(v))
        }
        fn visit_f64<E: serde::de::Error>(self, _: f64) -> ::std::result::Result<Self::Value, E> {
            self.scalar($crate::filter::scalar::Scalar::Float)
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> ::std::result::Result<Self::Value, E> {
            self.scalar($crate::filter::scalar::Scalar::Str(v))
        }
    };
}
pub(super) use visit_scalars;

/// Where a decoder keeps the client's mistake that stopped it. serde's error type holds only
/// text (serde_json appends a position to it), so the typed [`Error`] with its exact detail
/// travels here, and the serde error is only the signal to stop.
#[derive(Default)]
pub(super) struct Refusal(Option<Error>);

impl Refusal {
    pub(super) fn refuse<E: de::Error>(&mut self, error: Error) -> E {
        self.0 = Some(error);
        E::custom("input refused")
    }

    /// The refusal if one was made, else the decoder's own error (such as a JSON syntax error)
    /// as the client's mistake in the input as a whole.
    pub(super) fn into_error(self, error: impl std::fmt::Display) -> Error {
        self.0.unwrap_or_else(|| Error::invalid("", error.to_string()))
    }
}

pub(super) fn text(value: Scalar<'_>) -> Result<String, &'static str> {
    match value {
        // Postgres text cannot hold NUL; refused here rather than failing in the driver.
        Scalar::Str(text) if text.contains('\0') => Err("text must not contain NUL characters"),
        Scalar::Str(text) => Ok(text.to_owned()),
        _ => Err("expected a string"),
    }
}

pub(super) fn flag(value: Scalar<'_>) -> Result<bool, &'static str> {
    match value {
        Scalar::Bool(flag) => Ok(flag),
        _ => Err("expected true or false"),
    }
}

/// A whole number that fits `bigint`; larger or fractional numbers are refused, never wrapped.
pub(super) fn int(value: Scalar<'_>) -> Result<i64, &'static str> {
    const TOO_BIG: &str = "expected a whole number within 64 bits";
    match value {
        Scalar::Int(n) => Ok(n),
        Scalar::UInt(n) => i64::try_from(n).map_err(|_| TOO_BIG),
        Scalar::Float => Err(TOO_BIG),
        _ => Err("expected a number"),
    }
}

/// The earliest instant of Postgres' `timestamptz` (Julian day 0, 4714-11-24 BC). Its latest,
/// 294276 AD, is past anything the `time` crate represents.
pub(super) const PG_MIN_TIME: OffsetDateTime = datetime!(-4713-11-24 0:00 UTC);

/// An RFC 3339 time, as the UTC instant that is bound. A local time near the end of the `time`
/// crate's range can name an instant past it (`9999-12-31T23:59:59-23:59`), which sqlx would
/// panic converting to UTC; such a time is the client's mistake, refused here.
pub(super) fn time(value: Scalar<'_>) -> Result<OffsetDateTime, &'static str> {
    let Scalar::Str(text) = value else {
        return Err(EXPECTED_TIME);
    };
    let local = OffsetDateTime::parse(text, &Rfc3339).map_err(|_| EXPECTED_TIME)?;
    in_postgres_range(local).ok_or("time out of range")
}

const EXPECTED_TIME: &str = "expected an RFC 3339 time, like 2026-11-22T10:00:00.123456Z";

/// `time` as UTC if Postgres can store it, else `None`.
fn in_postgres_range(time: OffsetDateTime) -> Option<OffsetDateTime> {
    time.checked_to_offset(UtcOffset::UTC).filter(|utc| *utc >= PG_MIN_TIME)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;

    #[test]
    fn the_latest_rfc_3339_time_whose_utc_instant_exists_is_accepted_and_one_later_is_not() {
        // 9999-12-31T23:59:59.999999999Z is the time crate's last instant.
        assert!(time(Scalar::Str("9999-12-31T23:59:59.999999999Z")).is_ok());
        assert!(time(Scalar::Str("9999-12-31T23:59:59.999999999+00:01")).is_ok());
        assert!(time(Scalar::Str("9999-12-31T00:00:00-23:59")).is_ok());
        assert_eq!(time(Scalar::Str("9999-12-31T23:59:59.999999999-00:01")), Err("time out of range"));
        assert_eq!(time(Scalar::Str("9999-12-31T23:59:59-23:59")), Err("time out of range"));
        assert_eq!(time(Scalar::Str("9999-12-31T00:01:00-23:59")), Err("time out of range"));
    }

    #[test]
    fn the_earliest_rfc_3339_time_is_inside_postgres_range() {
        // RFC 3339 years start at 0000, so text cannot reach below Postgres' 4714 BC.
        let earliest = time(Scalar::Str("0000-01-01T00:00:00+23:59")).unwrap();
        assert_eq!(earliest.year(), -1);
        assert!(earliest > PG_MIN_TIME);
    }

    #[test]
    fn instants_before_postgres_first_day_are_out_of_range() {
        assert_eq!(in_postgres_range(PG_MIN_TIME), Some(PG_MIN_TIME));
        assert_eq!(in_postgres_range(PG_MIN_TIME - Duration::microseconds(1)), None);
        let same_instant_elsewhere = PG_MIN_TIME.to_offset(time::macros::offset!(+10));
        assert_eq!(in_postgres_range(same_instant_elsewhere), Some(PG_MIN_TIME));
    }

    #[test]
    fn integers_past_64_bits_and_fractions_are_refused() {
        assert_eq!(int(Scalar::UInt(i64::MAX as u64)), Ok(i64::MAX));
        assert!(int(Scalar::UInt(i64::MAX as u64 + 1)).is_err());
        assert!(int(Scalar::Float).is_err());
        assert_eq!(int(Scalar::Str("1")), Err("expected a number"));
    }
}
