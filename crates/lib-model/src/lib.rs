//! lib-model: the data layer. Everything that touches Postgres lives here.
//!
//! - [`ModelManager`]: the pool (and the password service); [`MIGRATOR`]: the schema.
//! - [`base`]: CRUD generic over entities declared once: a row struct with
//!   `#[derive(Entity)]` (its columns, kinds and nullability, its create and update inputs with
//!   `#[derive(WriteFields)]`, the shared [`base::Audit`] columns) and a [`base::DbBmc`] impl
//!   naming the table and the ownership scope ([`base::Parent`] for a child entity). The base
//!   layer applies the scope and sets the audit columns itself, one statement per call;
//!   [`generate_crud_fns!`] gives an entity's Bmc its `create/get/list/count/update/delete`.
//! - [`filter`]: filters and list options (modql's operators) checked against each entity's
//!   column allowlist.
//! - [`schema`]: the JSON Schemas of an entity's row, inputs, filters and list options, from the
//!   same declaration (the derives implement `JsonSchema` with them), for the API's description.
//! - [`live`]: the changes triggers announce, and which subscribers may see them, for live
//!   updates; [`notifications`]: the one `LISTEN` connection that hears them and revocations.
//! - [`Transaction`]: several calls in one database transaction ([`ModelManager::begin`]).
//! - Entities: [`project`], [`task`]; accounts: [`user`] (with [`username`]'s rules), [`session`]
//!   (with an in-process cache kept true across instances by `LISTEN/NOTIFY`), [`login`] (with
//!   [`device`] cookies that keep an owner out of others' throttle); every
//!   password verification or hash is charged to a per-user and per-address budget first.
//! - [`dev_db`]: development-only database creation and seeding; [`dev_cluster`]: a private
//!   Postgres for development and tests when none answers at the default address.
//!
//! Every model function takes the caller's [`Ctx`] (where it acts for a user) and the
//! [`ModelManager`]. It knows nothing of HTTP or JSON-RPC; errors are typed ([`Error`]) so the
//! layers above can tell client mistakes from server faults.

// The entity derives name `::lib_model`, in this crate as in any other.
extern crate self as lib_model;

pub mod base;
mod db;
pub mod dev_cluster;
pub mod dev_db;
pub mod device;
mod error;
mod fair_share;
pub mod filter;
mod lease;
pub mod live;
pub mod login;
mod macros;
pub mod member;
pub mod notifications;
#[cfg(feature = "test-support")]
pub mod operator_sql;
pub mod project;
mod pwd;
mod pwd_budget;
pub mod schema;
pub mod serde_fields;
pub mod session;
mod session_cache;
mod statement_span;
mod store;
pub mod task;
#[cfg(feature = "test-support")]
pub mod test_support;
mod throttle;
mod transaction;
pub mod user;
pub mod username;

pub use db::PoolFigures;
pub use error::{Error, Invalid, Result};
pub use lib_core::Ctx;
pub use store::{AppliedMigration, MIGRATOR, ModelManager};
pub use transaction::Transaction;

// Re-exported for the macros, so entity crates need no direct dependency on them.
#[doc(hidden)]
pub use {schemars, sea_query, serde, serde_json, sqlx, time};
