//! The params of `transaction`, `{"calls": [{"method": s, "params"?: object}, ...]}`: decoded
//! with the calls counted as they are read (reading stops at the first past the limit), and each
//! checked to be a method a transaction may call before anything runs.

use crate::dispatch::Calls;
use crate::params::json_message;
use crate::{Error, Result};
use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, Error as _, SeqAccess, Visitor};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params<'a> {
    #[serde(borrow)]
    calls: &'a RawValue,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Call<'a> {
    #[serde(borrow)]
    pub(super) method: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(super) params: Option<&'a RawValue>,
}

impl Calls<'_> {
    /// The calls, each checked to be one a transaction may make, before anything runs.
    pub(super) fn decode<'p>(&self, params: Option<&'p RawValue>) -> Result<Vec<Call<'p>>> {
        let Some(params) = params else {
            return Err(Error::invalid_params("calls", "missing: give 1 or more calls"));
        };
        if !params.get().trim_start().starts_with('{') {
            return Err(Error::invalid_params("", "params must be an object"));
        }
        let Params { calls } =
            serde_json::from_str(params.get()).map_err(|error| Error::invalid_params("", json_message(&error)))?;
        let mut input = serde_json::Deserializer::from_str(calls.get());
        let calls = CallsSeed { limit: self.batch_limit }
            .deserialize(&mut input)
            .map_err(|error| Error::invalid_params("calls", json_message(&error)))?;
        for (index, call) in calls.iter().enumerate() {
            if !self.router.transactional.contains(call.method.as_ref()) {
                let problem = format!(
                    "`{}` cannot run in a transaction: only the entity methods (create_*, get_*, list_*, \
                     count_*, update_*, delete_*) and the project member methods can",
                    lib_core::LogText(&call.method)
                );
                let error = Error::invalid_params("method", problem);
                return Err(Error::InCall { index, error: Box::new(error) });
            }
        }
        Ok(calls)
    }
}

/// Reads the `calls` array, refusing an empty one and stopping at the first call past `limit`.
struct CallsSeed {
    limit: usize,
}

impl<'de> DeserializeSeed<'de> for CallsSeed {
    type Value = Vec<Call<'de>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> std::result::Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for CallsSeed {
    type Value = Vec<Call<'de>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an array of 1 to {} calls", self.limit)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Self::Value, A::Error> {
        let mut calls = Vec::new();
        while let Some(call) = seq.next_element::<Call<'de>>()? {
            if calls.len() == self.limit {
                return Err(A::Error::custom(format!("at most {} calls", self.limit)));
            }
            calls.push(call);
        }
        if calls.is_empty() {
            return Err(A::Error::custom("give 1 or more calls"));
        }
        Ok(calls)
    }
}
