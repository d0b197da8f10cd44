//! [`Ctx`]: the acting user of a request, handed to every model function.

use std::net::IpAddr;

/// Who is asking. Built by the web layer from a valid session, never from client-supplied ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ctx {
    user_id: i64,
    session_id: Option<i64>,
    client_addr: Option<IpAddr>,
}

impl Ctx {
    /// A context for `user_id` acting through the session `session_id`.
    pub fn new(user_id: i64, session_id: i64) -> Self {
        Self { user_id, session_id: Some(session_id), client_addr: None }
    }

    /// A context for `user_id` outside any session (seeding, tests, background work).
    pub fn for_user(user_id: i64) -> Self {
        Self { user_id, session_id: None, client_addr: None }
    }

    pub fn user_id(&self) -> i64 {
        self.user_id
    }

    /// The session the request came through, if any.
    pub fn session_id(&self) -> Option<i64> {
        self.session_id
    }

    /// The same context, for a request from `addr` (the client address the throttles key on).
    pub fn with_client_addr(self, addr: IpAddr) -> Self {
        Self { client_addr: Some(addr), ..self }
    }

    /// The client address the request came from, if the web layer knows it.
    pub fn client_addr(&self) -> Option<IpAddr> {
        self.client_addr
    }
}
