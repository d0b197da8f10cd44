//! `GET /metrics` on the admin listener: after known calls, the counts and outcomes a Prometheus
//! text parser reads are those of the calls; label values come from closed sets; the public
//! listener has no metrics. And the dashboard's history counts the same calls.

mod common;

use common::{PWD, TestApp, spawn_app};
use openmetrics_parser::prometheus::parse_prometheus;
use openmetrics_parser::{MetricsExposition, PrometheusType, PrometheusValue};
use reqwest::StatusCode;
use serde_json::{Value, json};

type Exposition = MetricsExposition<PrometheusType, PrometheusValue>;

async fn scrape(app: &TestApp) -> Exposition {
    let response = reqwest::get(format!("http://{}/metrics", app.admin)).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()["content-type"].to_str().unwrap().to_string();
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    parse_prometheus(&response.text().await.unwrap()).expect("valid Prometheus text")
}

/// The sample of `family` with exactly `labels`, if there is one.
fn sample<'e>(exposition: &'e Exposition, family: &str, labels: &[(&str, &str)]) -> Option<&'e PrometheusValue> {
    let family = exposition.families.get(family).unwrap_or_else(|| panic!("no family {family}"));
    let names = family.get_label_names();
    assert_eq!(names.len(), labels.len(), "{names:?}");
    let values: Vec<String> = names
        .iter()
        .map(|name| labels.iter().find(|(n, _)| n == name).map(|(_, v)| v.to_string()).expect("every label given"))
        .collect();
    family.get_sample_by_label_values(&values).map(|sample| &sample.value)
}

/// A histogram's count, or a counter's or gauge's value; 0 for a series that does not exist.
fn count(exposition: &Exposition, family: &str, labels: &[(&str, &str)]) -> f64 {
    match sample(exposition, family, labels) {
        None => 0.0,
        Some(PrometheusValue::Histogram(histogram)) => histogram.count.unwrap_or(0) as f64,
        Some(PrometheusValue::Counter(counter)) => counter.value.as_f64(),
        Some(PrometheusValue::Gauge(gauge)) => gauge.as_f64(),
        Some(other) => panic!("{family}: {other:?}"),
    }
}

#[tokio::test]
async fn metrics_count_what_was_sent_with_bounded_labels() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let failed = app.client().post("/api/login", json!({"username": "alice", "pwd": "not the password"})).await;
    assert_eq!(failed.0, StatusCode::UNAUTHORIZED);
    let project = alice.ok("create_project", json!({"data": {"name": "Measured"}})).await;
    let task = alice.ok("create_task", json!({"data": {"project_id": project["id"], "title": "one"}})).await;

    // A batch of three reads of one task, one of a missing task, and a made-up method name.
    let get = |id: &Value, n: u64| json!({"jsonrpc": "2.0", "id": n, "method": "get_task", "params": {"id": id}});
    let batch = json!([get(&task["id"], 1), get(&task["id"], 2), get(&json!(999_999), 3), {
        "jsonrpc": "2.0", "id": 4, "method": "a_method_no_one_registered_9f2c", "params": {}
    }]);
    assert_eq!(alice.post("/api/rpc", batch).await.0, StatusCode::OK);

    let metrics = scrape(&app).await;
    let rpc = "rpc_server_call_duration_seconds";
    assert_eq!(count(&metrics, rpc, &[("rpc_method", "get_task"), ("outcome", "ok")]), 2.0);
    assert_eq!(count(&metrics, rpc, &[("rpc_method", "get_task"), ("outcome", "EntityNotFound")]), 1.0);
    assert_eq!(count(&metrics, rpc, &[("rpc_method", "create_task"), ("outcome", "ok")]), 1.0);
    assert_eq!(count(&metrics, rpc, &[("rpc_method", "_OTHER"), ("outcome", "MethodNotFound")]), 1.0);
    let methods: Vec<String> = metrics.families[rpc]
        .iter_samples()
        .map(|s| s.get_labelset().unwrap().get_label_value("rpc_method").unwrap().to_string())
        .collect();
    assert!(!methods.iter().any(|m| m.contains("9f2c")), "a client's method name is never a label: {methods:?}");

    let http = "http_server_request_duration_seconds";
    let rpc_ok = [("http_route", "/api/rpc"), ("http_response_status_code", "200")];
    assert_eq!(count(&metrics, http, &rpc_ok), 3.0, "three POSTs to /api/rpc");
    let signup = [("http_route", "/api/signup"), ("http_response_status_code", "200")];
    assert_eq!(count(&metrics, http, &signup), 1.0);

    assert_eq!(count(&metrics, "app_logins_total", &[("result", "ok")]), 1.0);
    assert_eq!(count(&metrics, "app_logins_total", &[("result", "LoginFailed")]), 1.0);
    assert_eq!(count(&metrics, "app_signups_total", &[("result", "ok")]), 1.0);
    for limit in lib_core::Limit::ALL {
        assert_eq!(count(&metrics, "app_throttled_total", &[("limit", limit.as_str())]), 0.0, "{limit:?}");
    }
    let max = count(&metrics, "db_client_connection_max", &[]);
    assert_eq!(max, f64::from(app.config.db_max_connections));
    assert!(count(&metrics, "process_resident_memory_bytes", &[]) > 0.0);
    assert!(count(&metrics, "db_client_connection_acquired_total", &[]) >= 3.0, "the calls leased connections");
}

#[tokio::test]
async fn refusals_are_counted_by_limit() {
    let app = common::spawn_app_with(|config| config.login_fails_per_user = 1).await;
    let alice = app.client();
    assert_eq!(alice.post("/api/signup", json!({"username": "alice", "pwd": PWD})).await.0, StatusCode::OK);
    for _ in 0..3 {
        alice.post("/api/login", json!({"username": "alice", "pwd": "not the password"})).await;
    }
    let metrics = scrape(&app).await;
    let refused = count(&metrics, "app_throttled_total", &[("limit", "login_attempts")]);
    assert!(refused >= 1.0, "the second failure on is refused by the throttle: {refused}");
    assert_eq!(count(&metrics, "app_logins_total", &[("result", "TooManyAttempts")]), refused);
}

#[tokio::test]
async fn the_public_listener_has_no_metrics_and_the_history_counts_the_calls() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    alice.ok("list_projects", json!({})).await;
    alice.ok("list_projects", json!({})).await;

    let public = reqwest::get(app.url("/metrics")).await.unwrap();
    let text = public.text().await.unwrap();
    assert!(!text.contains("rpc_server_call_duration_seconds"), "the public listener shows no metrics");
    for path in ["/history.json", "/dashboard.js"] {
        let body = reqwest::get(app.url(path)).await.unwrap().text().await.unwrap();
        assert!(!body.contains("\"rpc_calls\"") && !body.contains("uPlot"), "{path} is the admin listener's only");
    }

    let history: Value =
        reqwest::get(format!("http://{}/history.json", app.admin)).await.unwrap().json().await.unwrap();
    let seconds = history["seconds"].as_array().unwrap().len();
    assert_eq!(seconds, 900, "fifteen minutes, one slot a second");
    let total = |series: &Value| series.as_array().unwrap().iter().map(|n| n.as_u64().unwrap()).sum::<u64>();
    assert_eq!(total(&history["rpc_calls"]["list_projects"]), 2);
    assert!(total(&history["requests"]) >= 4, "signup, login and two calls");
    assert_eq!(history["latency_ms"]["list_projects"]["p99"].as_array().unwrap().len(), seconds);
    assert_eq!(history["pool"]["max"], app.config.db_max_connections);
}
