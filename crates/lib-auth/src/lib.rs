//! lib-auth: the cryptography of accounts, pure and synchronous.
//!
//! - [`pwd`]: scheme-tagged password hashes ([`PwdHasher`]): argon2id with a per-user salt and the
//!   server's pepper; verification says whether a hash is in an outdated scheme so the caller can
//!   re-hash it.
//! - [`token`]: session tokens ([`SessionToken`]): 256 random bits in base64url, stored only as a
//!   SHA-256 [`TokenHash`], compared in constant time.
//!
//! No database, no HTTP, no async: callers decide where the (slow) hashing runs.

pub mod pwd;
pub mod token;

pub use pwd::{PwdError, PwdHasher, Scheme, Verdict};
pub use token::{SessionToken, TokenHash};
