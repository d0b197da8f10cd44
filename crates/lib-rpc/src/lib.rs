//! lib-rpc: JSON-RPC 2.0 over any transport, and the server's methods.
//!
//! - [`RpcRouter`]: methods registered by name as `async fn(Ctx, ModelManager, Params) ->
//!   Result<T>`; [`RpcRouter::handle`] takes a request body and answers the response body (or
//!   nothing, for notifications), following the specification in full: batches, notifications,
//!   exact `id` echo, version and shape checks.
//! - [`methods::router`]: every method of the API contract; [`crud_methods!`] gives an entity its
//!   six CRUD methods.
//! - [`Error`] and its one mapping to JSON-RPC error objects ([`Error::to_error_object`]).
//!
//! It knows nothing of HTTP: the web layer hands it bytes, a `Ctx` and a request id.

mod error;
pub mod methods;
pub mod params;
mod protocol;
mod router;

pub use error::{Error, ErrorObject, Result};
pub use router::{RpcOutcome, RpcRouter};
