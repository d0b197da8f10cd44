//! The dashboard's memory: one aggregate per second for the last [`SECONDS`] seconds (requests,
//! calls and their latency per method, errors per kind, refusals per limit, the pool), and
//! nothing else. Its size is bounded by the seconds times the methods (a closed set) times
//! [`BUCKETS`], whatever the traffic.

use lib_core::Limit;
use lib_model::PoolFigures;
use lib_rpc::CallRecord;
use serde_json::{Map, Value, json};
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Fifteen minutes.
pub(super) const SECONDS: u64 = 900;

/// A call's latency falls in bucket `i` when it took at most 10 µs × √2^i: 48 buckets reach two
/// minutes, and a percentile read from them is at most 41% above the truth.
const BUCKETS: usize = 48;

fn bucket_of(duration: Duration) -> usize {
    let tens_of_micros = duration.as_secs_f64() * 100_000.0;
    if tens_of_micros <= 1.0 {
        return 0;
    }
    // At most BUCKETS - 1 after the min, so the cast cannot overflow.
    ((tens_of_micros.log2() * 2.0).ceil().min((BUCKETS - 1) as f64)) as usize
}

fn bucket_ms(bucket: usize) -> f64 {
    0.01 * 2f64.powf(bucket as f64 / 2.0)
}

struct MethodSecond {
    calls: u32,
    buckets: [u32; BUCKETS],
}

impl Default for MethodSecond {
    fn default() -> Self {
        Self { calls: 0, buckets: [0; BUCKETS] }
    }
}

impl MethodSecond {
    /// The upper bound of the bucket holding the `share`-th of this second's calls, in ms.
    fn percentile_ms(&self, share: f64) -> Option<f64> {
        let rank = (f64::from(self.calls) * share).ceil().max(1.0);
        let mut seen = 0.0;
        self.buckets.iter().enumerate().find_map(|(bucket, count)| {
            seen += f64::from(*count);
            (seen >= rank).then(|| bucket_ms(bucket))
        })
    }
}

struct Second {
    /// Unix seconds.
    at: u64,
    requests: u32,
    /// By method and by kind: a few each second, looked up by a scan.
    calls: Vec<(&'static str, MethodSecond)>,
    errors: Vec<(&'static str, u32)>,
    throttled: [u64; Limit::ALL.len()],
    pool_in_use: u32,
    pool_waiting: u64,
}

impl Second {
    fn new(at: u64) -> Self {
        Self {
            at,
            requests: 0,
            calls: Vec::new(),
            errors: Vec::new(),
            throttled: [0; Limit::ALL.len()],
            pool_in_use: 0,
            pool_waiting: 0,
        }
    }
}

#[derive(Default)]
pub(super) struct History {
    seconds: VecDeque<Second>,
    /// The refusals counted so far at the last sample: each second holds the difference.
    throttled_before: Option<[(Limit, u64); Limit::ALL.len()]>,
}

/// The value of `key` in `entries`, added if missing.
fn entry<'e, V: Default>(entries: &'e mut Vec<(&'static str, V)>, key: &'static str) -> &'e mut V {
    let index = match entries.iter().position(|(k, _)| *k == key) {
        Some(index) => index,
        None => {
            entries.push((key, V::default()));
            entries.len() - 1
        }
    };
    &mut entries[index].1
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.as_secs())
}

impl History {
    /// This second's aggregate, forgetting those older than [`SECONDS`].
    fn now(&mut self) -> &mut Second {
        let now = unix_now();
        while self.seconds.front().is_some_and(|second| second.at + SECONDS <= now) {
            self.seconds.pop_front();
        }
        if self.seconds.back().is_none_or(|second| second.at != now) {
            self.seconds.push_back(Second::new(now));
        }
        self.seconds.back_mut().expect("pushed above")
    }

    pub(super) fn record_request(&mut self) {
        self.now().requests += 1;
    }

    pub(super) fn record_calls(&mut self, calls: &[CallRecord]) {
        let second = self.now();
        for call in calls {
            let method = entry(&mut second.calls, call.method);
            method.calls += 1;
            method.buckets[bucket_of(call.duration)] += 1;
            if call.outcome != "ok" {
                *entry(&mut second.errors, call.outcome) += 1;
            }
        }
    }

    pub(super) fn sample(&mut self, pool: PoolFigures, throttled: &[(Limit, u64); Limit::ALL.len()]) {
        let before = self.throttled_before.replace(*throttled);
        let second = self.now();
        second.pool_in_use = pool.open.saturating_sub(pool.idle);
        second.pool_waiting = pool.waiting;
        if let Some(before) = before {
            for (index, ((_, now), (_, then))) in throttled.iter().zip(before).enumerate() {
                second.throttled[index] = now.saturating_sub(then);
            }
        }
    }

    /// The last [`SECONDS`] seconds, oldest first, one value per second in every series (zero,
    /// or null for a latency, where nothing happened); series only for what happened at all.
    pub(super) fn snapshot(&mut self, pool_max: u32) -> Value {
        let now = unix_now();
        self.now();
        let first = now + 1 - SECONDS;
        let slots = SECONDS as usize;
        let slot_of = |second: &Second| usize::try_from(second.at.checked_sub(first)?).ok().filter(|at| *at < slots);

        let mut requests = vec![0u32; slots];
        let mut in_use = vec![0u32; slots];
        let mut waiting = vec![0u64; slots];
        let mut calls: HashMap<&str, Vec<u32>> = HashMap::new();
        let mut p50: HashMap<&str, Vec<Option<f64>>> = HashMap::new();
        let mut p99: HashMap<&str, Vec<Option<f64>>> = HashMap::new();
        let mut errors: HashMap<&str, Vec<u32>> = HashMap::new();
        let mut throttled: HashMap<&str, Vec<u64>> = HashMap::new();
        for second in &self.seconds {
            let Some(slot) = slot_of(second) else { continue };
            requests[slot] = second.requests;
            in_use[slot] = second.pool_in_use;
            waiting[slot] = second.pool_waiting;
            for (method, aggregate) in &second.calls {
                calls.entry(method).or_insert_with(|| vec![0; slots])[slot] = aggregate.calls;
                p50.entry(method).or_insert_with(|| vec![None; slots])[slot] = aggregate.percentile_ms(0.5);
                p99.entry(method).or_insert_with(|| vec![None; slots])[slot] = aggregate.percentile_ms(0.99);
            }
            for (kind, count) in &second.errors {
                errors.entry(kind).or_insert_with(|| vec![0; slots])[slot] = *count;
            }
            for (limit, count) in Limit::ALL.iter().zip(second.throttled) {
                if count > 0 {
                    throttled.entry(limit.as_str()).or_insert_with(|| vec![0; slots])[slot] = count;
                }
            }
        }
        let latency: Map<String, Value> = p50
            .into_iter()
            .map(|(method, p50)| (method.to_string(), json!({"p50": p50, "p99": p99.remove(method)})))
            .collect();
        json!({
            "step_seconds": 1,
            "seconds": (first..=now).collect::<Vec<u64>>(),
            "requests": requests,
            "rpc_calls": calls,
            "latency_ms": latency,
            "errors": errors,
            "pool": {"in_use": in_use, "waiting": waiting, "max": pool_max},
            "throttled": throttled,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_buckets_bound_the_duration_within_a_factor_of_root_two() {
        for micros in [5, 10, 11, 99, 1_000, 12_345, 1_000_000, 60_000_000] {
            let duration = Duration::from_micros(micros);
            let upper_ms = bucket_ms(bucket_of(duration));
            let ms = micros as f64 / 1000.0;
            assert!(
                upper_ms >= ms.min(upper_ms) && upper_ms <= (ms * 1.415).max(0.01),
                "{micros} µs in a bucket up to {upper_ms} ms"
            );
        }
        assert_eq!(bucket_of(Duration::from_secs(3600)), BUCKETS - 1, "past the last bucket: the last");
    }

    #[test]
    fn percentiles_come_from_the_buckets() {
        let mut method = MethodSecond::default();
        for micros in (1..=100).map(|n| n * 100) {
            method.calls += 1;
            method.buckets[bucket_of(Duration::from_micros(micros))] += 1;
        }
        let p50 = method.percentile_ms(0.5).unwrap();
        let p99 = method.percentile_ms(0.99).unwrap();
        assert!((5.0..=5.0 * 1.415).contains(&p50), "p50 {p50}");
        assert!((9.9..=9.9 * 1.415).contains(&p99), "p99 {p99}");
    }
}
