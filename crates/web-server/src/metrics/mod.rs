//! What the server measures of itself, for Prometheus (`GET /metrics` on the admin listener)
//! and for the diagnostics dashboard (`history.rs`): requests by route and status, RPC calls by
//! method and outcome, logins and signups by result, refusals by limit, the database pool, the
//! session cache and the process (`figures.rs`, read at each scrape).
//!
//! Every label value comes from a closed set: routes as the router declares them (`static` for
//! the files), status codes, method names from the registry (`_OTHER` for any other name a
//! client sends), outcomes and results from the error kinds, limits from [`lib_core::Limit`].
//! No client can add a series.

mod figures;
mod history;

use history::History;
use lib_model::ModelManager;
use lib_rpc::CallRecord;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// The seconds of the request and call histograms' buckets: from half a millisecond (a cached
/// read) to ten seconds (past any timeout).
const DURATION_BUCKETS: [f64; 14] =
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// The route label of what no route matched: the frontend's files.
pub(crate) const STATIC_ROUTE: &str = "static";
const LOGIN_ROUTE: &str = "/api/login";
const SIGNUP_ROUTE: &str = "/api/signup";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    http_route: &'static str,
    http_response_status_code: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RpcLabels {
    rpc_method: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: &'static str,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

fn duration_histogram() -> Histogram {
    Histogram::new(DURATION_BUCKETS)
}

/// One server's measures (each test server has its own).
pub(crate) struct Metrics {
    registry: Registry,
    http: Histograms<HttpLabels>,
    rpc: Histograms<RpcLabels>,
    logins: Family<ResultLabels, Counter>,
    signups: Family<ResultLabels, Counter>,
    history: Mutex<History>,
}

impl Metrics {
    pub(crate) fn new(mm: &ModelManager) -> Self {
        let mut registry = Registry::default();
        let http = Histograms::<HttpLabels>::new_with_constructor(duration_histogram as fn() -> Histogram);
        registry.register(
            "http_server_request_duration_seconds",
            "Duration of HTTP requests, by route and status",
            http.clone(),
        );
        let rpc = Histograms::<RpcLabels>::new_with_constructor(duration_histogram as fn() -> Histogram);
        registry.register(
            "rpc_server_call_duration_seconds",
            "Duration of JSON-RPC calls, by method and outcome (ok or the error kind)",
            rpc.clone(),
        );
        let logins = Family::<ResultLabels, Counter>::default();
        registry.register("app_logins", "Logins, by result (ok or the error kind)", logins.clone());
        let signups = Family::<ResultLabels, Counter>::default();
        registry.register("app_signups", "Signups, by result (ok or the error kind)", signups.clone());
        registry.register_collector(Box::new(figures::Figures::new(mm.clone())));
        Self { registry, http, rpc, logins, signups, history: Mutex::default() }
    }

    fn history(&self) -> MutexGuard<'_, History> {
        self.history.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// One HTTP request to `route`, answered with `status` (and the error `error_kind`, if
    /// any) after `duration`. Logins and signups are counted by result too.
    pub(crate) fn record_request(
        &self,
        route: &'static str,
        status: u16,
        error_kind: Option<&'static str>,
        duration: Duration,
    ) {
        let labels = HttpLabels { http_route: route, http_response_status_code: status };
        self.http.get_or_create(&labels).observe(duration.as_secs_f64());
        let account = match route {
            LOGIN_ROUTE => Some(&self.logins),
            SIGNUP_ROUTE => Some(&self.signups),
            _ => None,
        };
        if let Some(counters) = account {
            counters.get_or_create(&ResultLabels { result: error_kind.unwrap_or("ok") }).inc();
        }
        self.history().record_request();
    }

    /// The RPC calls of one body (a request's, or a socket message's).
    pub(crate) fn record_calls(&self, calls: &[CallRecord]) {
        for call in calls {
            let labels = RpcLabels { rpc_method: call.method, outcome: call.outcome };
            self.rpc.get_or_create(&labels).observe(call.duration.as_secs_f64());
        }
        self.history().record_calls(calls);
    }

    /// Takes this second's figures that are read rather than counted (the pool, the refusals).
    pub(crate) fn sample(&self, mm: &ModelManager) {
        let pool = mm.pool_figures();
        let throttled = mm.throttled().counts();
        self.history().sample(pool, &throttled);
    }

    /// The Prometheus text of every measure.
    pub(crate) fn encode(&self) -> String {
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry);
        text
    }

    /// The dashboard's history, as `history.json`.
    pub(crate) fn history_json(&self, pool_max: u32) -> serde_json::Value {
        self.history().snapshot(pool_max)
    }
}

/// Samples what is read rather than counted once a second, for as long as it runs.
pub(crate) async fn sample_every_second(metrics: std::sync::Arc<Metrics>, mm: ModelManager) {
    let mut every = tokio::time::interval(Duration::from_secs(1));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        metrics.sample(&mm);
    }
}
