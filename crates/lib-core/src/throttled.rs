//! How often each of the server's limits refused work: one counter per [`Limit`], counted by
//! whichever crate enforces it, read by the metrics. Shared as one [`Throttled`] per server.

use std::sync::atomic::{AtomicU64, Ordering};

/// A limit that refuses work when reached (a throttle or a bound on what one client holds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Limit {
    /// `USER_MAX_INFLIGHT`: a user's calls holding a connection at once.
    UserInflight,
    /// `PWD_WORK_PER_*`: password hashing per address and user.
    PwdWork,
    /// `LOGIN_FAILS_PER_*`: failed logins (and password checks) per address and user.
    LoginAttempts,
    /// `SIGNUPS_PER_ADDR`.
    Signups,
    /// `ANSWER_BYTES_IN_FLIGHT`: answer bytes the server holds at once.
    AnswersInFlight,
    /// `WS_MAX_SUBSCRIPTIONS`: subscriptions per socket.
    WsSubscriptions,
    /// `WS_MAX_PER_USER`: sockets per user.
    WsSockets,
    /// `MAX_CONNECTIONS_PER_ADDR`.
    ConnectionsPerAddr,
    /// `MAX_CONNECTIONS`.
    ConnectionsTotal,
}

impl Limit {
    pub const ALL: [Limit; 9] = [
        Limit::UserInflight,
        Limit::PwdWork,
        Limit::LoginAttempts,
        Limit::Signups,
        Limit::AnswersInFlight,
        Limit::WsSubscriptions,
        Limit::WsSockets,
        Limit::ConnectionsPerAddr,
        Limit::ConnectionsTotal,
    ];

    /// The limit's name in metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Limit::UserInflight => "user_inflight",
            Limit::PwdWork => "pwd_work",
            Limit::LoginAttempts => "login_attempts",
            Limit::Signups => "signups",
            Limit::AnswersInFlight => "answers_in_flight",
            Limit::WsSubscriptions => "ws_subscriptions",
            Limit::WsSockets => "ws_sockets",
            Limit::ConnectionsPerAddr => "connections_per_addr",
            Limit::ConnectionsTotal => "connections_total",
        }
    }
}

/// The refusals of each limit since start.
#[derive(Debug, Default)]
pub struct Throttled {
    counts: [AtomicU64; Limit::ALL.len()],
}

impl Throttled {
    /// `limit` refused one piece of work.
    pub fn count(&self, limit: Limit) {
        self.counts[limit as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Each limit with its refusals so far.
    pub fn counts(&self) -> [(Limit, u64); Limit::ALL.len()] {
        Limit::ALL.map(|limit| (limit, self.counts[limit as usize].load(Ordering::Relaxed)))
    }
}
