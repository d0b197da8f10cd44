//! Log output: `RUST_LOG` filters, `LOG_FORMAT` picks human-readable or JSON lines; panics are
//! logged as events too, so they land in the request's span with its `req_id`. Beside the log,
//! the spans go to an OTLP collector when one is configured ([`crate::telemetry`]).

use lib_core::{Config, LogFormat, LogText};
use std::sync::Once;
use tracing::Subscriber;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer};

/// Installs the global subscriber (the log, and the trace exporter when `config` names an
/// endpoint) and the panic hook; a second call (tests) leaves the first in place.
pub fn init(config: &Config) {
    let filter = EnvFilter::try_new(&config.log_filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let log = log_layer(&config.log_format, std::io::stdout).with_filter(filter);
    let subscriber = tracing_subscriber::registry().with(log);
    let _ = subscriber.with(crate::telemetry::layer(config)).try_init();
    install_panic_hook();
}

/// The log of both formats alone, writing to `writer`: the same layer as [`init`]'s, so tests
/// can check the exact bytes production writes.
#[cfg(test)]
pub(crate) fn subscriber<W>(format: &LogFormat, filter: EnvFilter, writer: W) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    Box::new(tracing_subscriber::registry().with(log_layer(format, writer).with_filter(filter)))
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
