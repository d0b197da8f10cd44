//! Traces. When an OTLP endpoint is configured (`OTEL_EXPORTER_OTLP_ENDPOINT`, or
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as given), the spans of the workspace's crates (requests,
//! RPC calls, statements, password hashes) go to it with OTLP over HTTP/protobuf, batched by the
//! SDK on its own thread, off the request path; `OTEL_TRACES_SAMPLER` and the SDK's other
//! standard variables apply. An unreachable collector is reported once, when exports start
//! failing, and once when they work again. Without an endpoint there is no exporter and no
//! layer: the spans only traces want (statements, hashes) are DEBUG and stay disabled.
//!
//! An incoming W3C `traceparent` is continued; every request's log line carries the trace's id
//! (`trace_id`): the exported trace's, else the incoming one's, else one made for the request.

use axum::http::HeaderMap;
use lib_core::Config;
use opentelemetry::propagation::{Extractor, TextMapPropagator as _};
use opentelemetry::trace::{TraceContextExt as _, TracerProvider as _};
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tracing::Subscriber;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::Layer;
use tracing_subscriber::registry::LookupSpan;

/// The process' exporter, when there is one: flushed and shut down from `main`.
static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();

/// What is traced, as filter directives: the request, call, statement and hash spans, whatever
/// `RUST_LOG` says; the log's events within them (those `RUST_LOG` lets into the log) go along
/// as span events. Never the HTTP client's spans, so that exporting is not itself traced
/// (unless `RUST_LOG` asks for them).
pub(crate) const TRACED: [&str; 4] =
    ["web_server::request=info", "lib_rpc=info", "lib_model::statement=debug", "lib_model::pwd=debug"];

/// How long one export may take before it counts as failed.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

/// The layer that exports spans, when `config` names an endpoint; `None` otherwise. Called
/// once per process, before the runtime starts (the exporter's client has a thread of its own).
pub(crate) fn layer<S>(config: &Config) -> Option<impl Layer<S>>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
{
    let url = config.otel_traces_url.clone()?;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_endpoint(url.clone())
        .with_timeout(EXPORT_TIMEOUT)
        .build();
    let exporter = match exporter {
        Ok(exporter) => exporter,
        Err(error) => {
            // No subscriber yet: said on stderr, once, and the server runs without traces.
            eprintln!("web-server: traces will not be exported to {url}: {error}");
            return None;
        }
    };
    let resource = Resource::builder().with_service_name(config.otel_service_name.clone()).build();
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(ReportOnce { inner: exporter, url, failing: AtomicBool::new(false) })
        .with_resource(resource)
        .build();
    let tracer = provider.tracer("web-server");
    if PROVIDER.set(provider).is_err() {
        // A second server in the same process (tests): the first one's exporter serves both.
        return None;
    }
    // No filter of its own (see `logging::subscriber`). Only what the spans need: no OpenTelemetry
    // context made current on every entry of a span (each poll of an instrumented future; no
    // OpenTelemetry-native code here reads it), no target, thread, source location or busy
    // and idle times on each span.
    let layer = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_context_activation(false)
        .with_target(false)
        .with_tracked_inactivity(false)
        .with_threads(false)
        .with_location(false);
    Some(layer)
}

/// Sends the spans that are waiting (tests; `main` before it exits).
pub fn flush() {
    if let Some(provider) = PROVIDER.get() {
        let _ = provider.force_flush();
    }
}

/// Flushes and stops the exporter, outside the runtime (its client has a runtime of its own).
pub fn shutdown() {
    if let Some(provider) = PROVIDER.get() {
        let _ = provider.shutdown();
    }
}

/// What the request's span is in a trace, when traces are exported: `<METHOD> <route>` (the
/// route from a closed set, never the raw path; a method the client made up is `_OTHER`).
pub(crate) struct TracedRequest {
    pub(crate) name: String,
    pub(crate) method: &'static str,
}

/// The request's span's name and method for traces; `None` when none are exported.
pub(crate) fn traced_request(method: &str, route: &str) -> Option<TracedRequest> {
    PROVIDER.get()?;
    const KNOWN: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
    let method = KNOWN.into_iter().find(|known| *known == method).unwrap_or("_OTHER");
    Some(TracedRequest { name: format!("{method} {route}"), method })
}

/// Continues in the request's span the trace of an incoming `traceparent`, when traces are
/// exported; answers the trace id for the log line when it is known now: the incoming one's,
/// or, with no exporter, one made for the request. Otherwise the exported trace's id is known
/// once the span has started ([`end_request`]).
pub(crate) fn start_request(span: &tracing::Span, headers: &HeaderMap) -> Option<String> {
    let incoming = incoming_trace_id(headers);
    if PROVIDER.get().is_some() {
        // Not the span's context: reading it before the span is entered starts it in a way that
        // hides it from the log's layer (its lines lose the request's fields).
        if incoming.is_some() {
            let _ = span.set_parent(TraceContextPropagator::new().extract(&Headers(headers)));
        }
        return incoming;
    }
    Some(incoming.unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string()))
}

/// The request's answer on its span, and the trace's id if [`start_request`] did not know it,
/// when traces are exported.
pub(crate) fn end_request(span: &tracing::Span, status: u16, trace_id_known: bool) {
    if PROVIDER.get().is_none() {
        return;
    }
    if !trace_id_known {
        let trace_id = span.context().span().span_context().trace_id();
        if trace_id != opentelemetry::trace::TraceId::INVALID {
            span.record("trace_id", trace_id.to_string());
        }
    }
    span.set_attribute("http.response.status_code", i64::from(status));
    if status >= 500 {
        span.set_status(opentelemetry::trace::Status::error(status.to_string()));
    }
}

/// The trace id of a valid `traceparent` (`00-<32 hex>-<16 hex>-<2 hex>`, not all zeros).
fn incoming_trace_id(headers: &HeaderMap) -> Option<String> {
    let value = headers.get("traceparent")?.to_str().ok()?;
    let mut parts = value.split('-');
    let (version, trace_id, parent_id, flags) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let hex =
        |part: &str, len: usize| part.len() == len && part.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    let valid = hex(version, 2)
        && version != "ff"
        && hex(trace_id, 32)
        && trace_id.bytes().any(|b| b != b'0')
        && hex(parent_id, 16)
        && hex(flags, 2);
    valid.then(|| trace_id.to_string())
}

/// The request's headers, as the propagator reads them.
struct Headers<'h>(&'h HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|name| name.as_str()).collect()
    }
}

/// The log's span fields that a trace holds in a form of its own, left out of the exported spans:
/// the request's `method` (`http.request.method`), `path` (`http.route`), `rpc` (the call
/// spans) and `trace_id` (the trace's own id), and the call's `method` (`rpc.method`). Every
/// attribute costs the exporter's thread as much again to convert and encode.
const NOT_EXPORTED: [&str; 4] = ["method", "path", "rpc", "trace_id"];

/// The OTLP exporter: leaves out the fields in [`NOT_EXPORTED`], and says in the log when
/// exporting starts failing and when it works again, rather than once per batch.
#[derive(Debug)]
struct ReportOnce {
    inner: opentelemetry_otlp::SpanExporter,
    url: String,
    failing: AtomicBool,
}

impl opentelemetry_sdk::trace::SpanExporter for ReportOnce {
    async fn export(&self, mut batch: Vec<SpanData>) -> OTelSdkResult {
        for span in &mut batch {
            span.attributes.retain(|attribute| !NOT_EXPORTED.contains(&attribute.key.as_str()));
        }
        let result = self.inner.export(batch).await;
        match &result {
            Err(error) if !self.failing.swap(true, Ordering::Relaxed) => {
                tracing::warn!(%error, url = %self.url, "traces cannot be exported; they are dropped until the collector answers");
            }
            Ok(()) if self.failing.swap(false, Ordering::Relaxed) => {
                tracing::info!(url = %self.url, "traces are exported again");
            }
            _ => {}
        }
        result
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_valid_traceparent_gives_its_trace_id() {
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert("traceparent", value.parse().unwrap());
            incoming_trace_id(&headers)
        };
        let id = "4bf92f3577b34da6a3ce929d0e0e4736";
        assert_eq!(with(&format!("00-{id}-00f067aa0ba902b7-01")).as_deref(), Some(id));
        assert_eq!(with("00-00000000000000000000000000000000-00f067aa0ba902b7-01"), None, "all zeros");
        assert_eq!(with(&format!("00-{}-00f067aa0ba902b7-01", id.to_uppercase())), None, "upper case");
        assert_eq!(with(&format!("ff-{id}-00f067aa0ba902b7-01")), None, "version ff");
        assert_eq!(with(&format!("00-{id}-00f067aa0ba902b7")), None, "no flags");
        assert_eq!(incoming_trace_id(&HeaderMap::new()), None);
    }
}
