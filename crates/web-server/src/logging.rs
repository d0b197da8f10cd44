//! Log output: `RUST_LOG` filters, `LOG_FORMAT` picks human-readable or JSON lines.

use lib_core::{Config, LogFormat};
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber; a second call (tests) leaves the first in place.
pub fn init(config: &Config) {
    let filter = EnvFilter::try_new(&config.log_filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false);
    let _ = match config.log_format {
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).with_span_list(false).try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
}
