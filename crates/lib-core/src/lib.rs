//! lib-core: what every other crate of the workspace shares.
//!
//! - [`config`]: the typed [`Config`], parsed and validated once at start from a variable lookup
//!   (the binary passes the process environment; tests pass a map), then handed down.
//! - [`ctx`]: [`Ctx`], who is asking.
//! - [`b64`]: base64url helpers used for keys and tokens.
//! - [`client_block`]: [`ClientBlock`], what every per-address limit counts as one client.
//! - [`clock`]: [`Clock`], the source of "now" for expiry logic, replaceable in tests.
//! - [`log_text`]: [`LogText`], the one way client text reaches a log line.
//!
//! It knows nothing of the database, HTTP or JSON-RPC, and it never reads the process environment
//! itself.

pub mod b64;
pub mod client_block;
pub mod clock;
pub mod config;
pub mod ctx;
pub mod log_text;
pub mod throttled;

pub use client_block::ClientBlock;
pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{AppEnv, Config, ConfigError, LogFormat, PwdKey};
pub use ctx::Ctx;
pub use log_text::LogText;
pub use throttled::{Limit, Throttled};
