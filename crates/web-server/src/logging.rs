//! Log output: `RUST_LOG` filters, `LOG_FORMAT` picks human-readable or JSON lines; panics are
//! logged as events too, so they land in the request's span with its `req_id`. Beside the log,
//! the spans go to an OTLP collector when one is configured ([`crate::telemetry`]).

use lib_core::{Config, LogFormat, LogText};
use std::sync::Once;
use tracing::Subscriber;
use tracing_subscriber::filter::Filtered;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Layered, SubscriberExt as _};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer, Registry};

/// Installs the global subscriber (the log, and the trace exporter when `config` names an
/// endpoint) and the panic hook; a second call (tests) leaves the first in place.
pub fn init(config: &Config) {
    let traces = crate::telemetry::layer(config);
    let _ = subscriber(&config.log_format, &config.log_filter, std::io::stdout, traces).try_init();
    install_panic_hook();
}

/// The subscriber with the log alone, before any traces layer.
pub(crate) type Logged = Layered<Filtered<Box<dyn Layer<Registry> + Send + Sync>, EnvFilter, Registry>, Registry>;

/// The log of both formats, writing to `writer` and filtered by `filter` (`RUST_LOG`), and the
/// traces layer when there is one: what [`init`] installs, so tests check what production
/// writes.
///
/// With traces, one filter for both decides what exists at all: the log's, with the traced
/// spans added ([`crate::telemetry::TRACED`]); the log keeps its own filter besides. The traces
/// layer has none of its own: a filter there beside the log's hides the request's span from the
/// log's lines (tracing-opentelemetry issue 257).
pub(crate) fn subscriber<W, T>(
    format: &LogFormat,
    filter: &str,
    writer: W,
    traces: Option<T>,
) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
    T: Layer<Logged> + Send + Sync + 'static,
{
    let log_filter = || EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let logged: Logged = tracing_subscriber::registry().with(log_layer(format, writer).with_filter(log_filter()));
    match traces {
        None => Box::new(logged),
        Some(traces) => {
            let wanted = crate::telemetry::TRACED
                .iter()
                .fold(log_filter(), |filter, directive| filter.add_directive(directive.parse().expect("a directive")));
            Box::new(logged.with(traces).with(wanted))
        }
    }
}

fn log_layer<S, W>(format: &LogFormat, writer: W) -> Box<dyn Layer<S> + Send + Sync>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let layer = tracing_subscriber::fmt::layer().with_target(false).with_writer(writer);
    match format {
        LogFormat::Json => layer.json().flatten_event(true).with_current_span(true).with_span_list(false).boxed(),
        LogFormat::Pretty => layer.compact().boxed(),
    }
}

/// Replaces the default hook (raw text on stderr, outside any log format) with an error event.
/// The hook runs on the panicking thread, inside whatever span is entered there, so a handler's
/// panic is logged with its request's `req_id`; the catch-panic layer then answers 500.
pub(crate) fn install_panic_hook() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            // A thread with no subscriber (before `init`, unit tests) would lose the message.
            if tracing::dispatcher::get_default(|dispatch| dispatch.is::<tracing::subscriber::NoSubscriber>()) {
                return previous(info);
            }
            let payload = info.payload();
            let message = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
                .unwrap_or("(a panic without a message)");
            let location = info.location().map(ToString::to_string).unwrap_or_default();
            // The message may quote client input (a value that failed an `expect`).
            let message = LogText(message);
            let backtrace = std::backtrace::Backtrace::capture();
            if backtrace.status() == std::backtrace::BacktraceStatus::Captured {
                tracing::error!(panic = %message, %location, %backtrace, "panic");
            } else {
                tracing::error!(panic = %message, %location, "panic");
            }
        }));
    });
}
