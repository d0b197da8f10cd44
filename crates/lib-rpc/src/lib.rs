//! lib-rpc: JSON-RPC 2.0 over any transport, and the server's methods.
//!
//! - [`RpcRouter`]: methods registered by name as `async fn(Ctx, ModelManager, Params) ->
//!   Result<T>`; [`RpcRouter::handle`] takes a request body and answers the response body (or
//!   nothing, for notifications), following the specification in full: batches, notifications,
//!   exact `id` echo, version and shape checks.
//! - [`RpcLimits`]: the budgets a body is handled within (batch size, bytes of one answer, answer
//!   bytes in flight across all requests, and a share of them per user); [`Answer`] is a response
//!   body that holds its part of both until it is dropped. A request costs memory in proportion to these budgets, not
//!   to its size: params are decoded from the body's text straight into each method's type, and
//!   results serialised straight into the one response buffer.
//! - A panic in a call is that call's -32603; the batch and the connection go on.
//! - `transaction`: entity calls in one database transaction, with `$ref`s to earlier results
//!   (`transaction.rs`).
//! - [`live`]: `subscribe` and `unsubscribe`, answered only on a socket
//!   ([`RpcRouter::handle_on_socket`]), and the `changed` notifications of a batch of changes.
//! - [`methods::router`]: every method of the API contract; [`crud_methods!`] gives an entity its
//!   six CRUD methods.
//! - [`openrpc`]: the API's OpenRPC document (`rpc.discover`, the one method needing no
//!   session), derived from the registry: each method registers its params and result types
//!   (`JsonSchema`), and may add the errors it can answer and examples.
//! - [`ClientError`]: what a client sees of a failure; [`ClientError::of_model`] is the one
//!   mapping of model errors, for this endpoint and the web layer's HTTP ones alike, and
//!   [`envelope`] renders every error body. [`Error`] is this crate's errors
//!   ([`Error::to_error_object`]).
//!
//! It knows nothing of HTTP: the web layer hands it bytes, a `Ctx` and a request id.

mod answer;
mod batch;
mod client;
mod dispatch;
pub mod envelope;
mod error;
pub mod live;
pub mod methods;
pub mod openrpc;
pub mod params;
mod protocol;
mod responses;
mod router;
mod transaction;
mod unwind;

pub use answer::{Answer, RpcLimits};
pub use client::{ClientError, Code, Endpoint, ErrorObject, Fault, QUERY_TIMEOUT_DETAIL};
pub use error::{Error, Result};
pub use router::{CallRecord, OTHER_METHOD, RpcOutcome, RpcRouter};
