//! `transaction`: entity calls run in order, on one connection, in one database transaction.
//!
//! Params: `{"calls": [{"method": s, "params"?: object}, ...]}`, 1 to `RPC_BATCH_LIMIT` calls,
//! each a method the router allows in transactions (the entity methods). The result is
//! `{"data": [r0, r1, ...]}`, each `ri` what the call alone would have answered. A failing call
//! fails the transaction: nothing of it stays, and the answer is that call's error with
//! `data.call_index`.
//!
//! Each call's result is written straight into the answer as the call ends, within the answer's
//! budgets, so a transaction's results cost what a batch's would; `{"$ref": "i.path"}` in a later
//! call's params is read back from there (see `refs.rs`). On a failure the response written so
//! far is taken back, and the error written in its place.

mod refs;

use crate::dispatch::Calls;
use crate::params::json_message;
use crate::unwind::caught;
use crate::{Error, Result};
use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, Error as _, SeqAccess, Visitor};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;
use std::ops::Range;
use tracing::Instrument as _;

/// The method's name.
pub(crate) const TRANSACTION: &str = "transaction";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params<'a> {
    #[serde(borrow)]
    calls: &'a RawValue,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Call<'a> {
    #[serde(borrow)]
    method: Cow<'a, str>,
    #[serde(borrow, default)]
    params: Option<&'a RawValue>,
}

impl Calls<'_> {
    /// Runs the `transaction` request `id` (`None`: a notification, run and not answered).
    pub(crate) async fn transaction(&mut self, id: Option<&RawValue>, params: Option<&RawValue>) {
        let outcome = match self.decode(params) {
            Ok(calls) => self.run(id, &calls).await,
            Err(error) => Err(error),
        };
        if let Err(error) = outcome {
            match id {
                Some(_) => self.out.error(id, error),
                None => self.out.unanswered(&error),
            }
        }
    }

    /// The calls, each checked to be one a transaction may make, before anything runs.
    fn decode<'p>(&self, params: Option<&'p RawValue>) -> Result<Vec<Call<'p>>> {
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
                     count_*, update_*, delete_*) can",
                    lib_core::LogText(&call.method)
                );
                let error = Error::invalid_params("method", problem);
                return Err(Error::InCall { index, error: Box::new(error) });
            }
        }
        Ok(calls)
    }

    /// Runs `calls` in one database transaction, writing their results into the answer as they
    /// end. On any failure nothing stays, nothing of the response is left, and the error (of the
    /// call, with its index) is answered instead.
    async fn run(&mut self, id: Option<&RawValue>, calls: &[Call<'_>]) -> Result<()> {
        const OPENING: &[u8] = br#"{"data":["#;
        const CLOSING: &[u8] = b"]}";
        let txn = self.mm.begin(&self.ctx).await?;
        let mark = self.out.open_parts(id, OPENING);
        let mut parts: Vec<Range<usize>> = Vec::with_capacity(calls.len());
        for (index, call) in calls.iter().enumerate() {
            match self.run_call(txn.manager(), call, index, &parts).await {
                Ok(part) => parts.push(part),
                Err(error) => {
                    self.out.abandon_parts(mark);
                    // What a failed rollback leaves, Postgres ends when the connection closes.
                    let _ = txn.rollback().await;
                    return Err(Error::InCall { index, error: Box::new(error) });
                }
            }
        }
        if let Err(error) = txn.commit().await {
            self.out.abandon_parts(mark);
            return Err(error.into());
        }
        match id {
            Some(_) => self.out.close_parts(CLOSING),
            // A notification: run, never answered.
            None => self.out.abandon_parts(mark),
        }
        Ok(())
    }

    /// Runs call `index` on the transaction's manager `mm`, its `$ref`s resolved against the
    /// results `parts` of the calls before it, and writes its result into the answer.
    async fn run_call(
        &mut self,
        mm: &lib_model::ModelManager,
        call: &Call<'_>,
        index: usize,
        parts: &[Range<usize>],
    ) -> Result<Range<usize>> {
        let params = refs::resolve(call.params, |i| parts.get(i).map(|part| self.out.part(part.clone())))?;
        let params = params.as_deref().or(call.params);
        // A name the router allows in transactions: registered, not client text.
        let method = self.router.methods.get_key_value(call.method.as_ref()).map(|(name, method)| (*name, method));
        let Some((name, method)) = method else {
            return Err(Error::MethodNotFound(call.method.to_string()));
        };
        let span = tracing::info_span!("rpc", method = name, call_index = index);
        let (write, _) = caught(|| method(self.ctx, mm.clone(), params)).instrument(span).await?;
        let separator: &[u8] = if index == 0 { b"" } else { b"," };
        self.out.try_part(separator, b"]}", write)
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
