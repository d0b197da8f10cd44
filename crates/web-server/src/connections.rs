//! How many connections are open, per client address and in all, and which new ones are let in
//! (`MAX_CONNECTIONS_PER_ADDR`, `MAX_CONNECTIONS`); and the process' file limit that the global
//! cap must stay under.
//!
//! A connection is counted from accept to close by the [`Permit`] its socket carries: however the
//! connection ends (closed by either side, timed out, failed, dropped at shutdown, or upgraded and
//! closed later), dropping the socket drops the permit and gives its place back.

use lib_core::ClientBlock;
use lib_core::Config;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Descriptors kept back, besides the database pool's, for what else the process opens: the
/// listener, the LISTEN connection for revocations, static files being served, logs.
const RESERVED_FILES: u64 = 64;

/// The caps, shared by the accept loop and every open connection's [`Permit`].
#[derive(Clone)]
pub(crate) struct Admission {
    inner: Arc<Inner>,
}

struct Inner {
    per_addr: usize,
    total: usize,
    open: Mutex<Open>,
}

#[derive(Default)]
struct Open {
    total: usize,
    /// Only addresses with open connections: an entry goes when its count reaches zero, so the
    /// map holds at most `total` entries whatever addresses come and go.
    by_addr: HashMap<ClientBlock, usize>,
}

/// Why a connection was turned away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    PerAddr,
    Total,
}

/// One open connection's place; dropping it gives the place back.
pub(crate) struct Permit {
    inner: Arc<Inner>,
    /// `None` for a trusted proxy's connection, which counts only towards the global cap.
    addr: Option<ClientBlock>,
}

impl Admission {
    /// The configured caps, with the global one lowered (and a warning) when it does not fit
    /// under the process' file limit, which is raised to its hard limit first.
    pub(crate) fn from_config(config: &Config) -> Self {
        let reserve = u64::from(config.db_max_connections) + RESERVED_FILES;
        let mut total = config.max_connections;
        if let Some(file_limit) = raise_file_limit() {
            total = fit_under_file_limit(config.max_connections, file_limit, reserve);
            if total < config.max_connections {
                tracing::warn!(
                    configured = config.max_connections,
                    lowered_to = total,
                    file_limit,
                    reserved = reserve,
                    "MAX_CONNECTIONS lowered to fit under the process' file limit, less descriptors for the \
                     database pool and the server's own files"
                );
            }
        }
        Self::new(config.max_connections_per_addr, total)
    }

    pub(crate) fn new(per_addr: usize, total: usize) -> Self {
        Self { inner: Arc::new(Inner { per_addr, total, open: Mutex::default() }) }
    }

    /// The most connections open at once.
    pub(crate) fn total_cap(&self) -> usize {
        self.inner.total
    }

    /// A place for a new connection from `addr` (counted per [`ClientBlock`]: an IPv6 client
    /// holds a /64), or why there is none. A trusted
    /// proxy (`exempt`) speaks for many clients and skips the per-address cap.
    pub(crate) fn admit(&self, addr: IpAddr, exempt: bool) -> Result<Permit, Refusal> {
        let mut open = self.inner.lock();
        if open.total >= self.inner.total {
            return Err(Refusal::Total);
        }
        let counted = if exempt {
            None
        } else {
            let block = ClientBlock::of(addr);
            let count = open.by_addr.entry(block).or_insert(0);
            if *count >= self.inner.per_addr {
                return Err(Refusal::PerAddr); // the entry exists: it has open connections
            }
            *count += 1;
            Some(block)
        };
        open.total += 1;
        Ok(Permit { inner: self.inner.clone(), addr: counted })
    }

    #[cfg(test)]
    fn counts(&self) -> (usize, usize) {
        let open = self.inner.lock();
        (open.total, open.by_addr.len())
    }
}

impl Inner {
    /// Never held across an await; a panic while held cannot leave the counts half-changed, so
    /// a poisoned lock is used as is (a drop must not panic).
    fn lock(&self) -> MutexGuard<'_, Open> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut open = self.inner.lock();
        open.total = open.total.saturating_sub(1);
        if let Some(addr) = self.addr
            && let Some(count) = open.by_addr.get_mut(&addr)
        {
            *count -= 1;
            if *count == 0 {
                open.by_addr.remove(&addr);
            }
        }
    }
}

/// Raises the soft limit on open files to the hard limit; answers the soft limit now in force,
/// or `None` when it cannot be read (then no cap is derived from it).
fn raise_file_limit() -> Option<u64> {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => Some(limit),
        Err(error) => {
            tracing::warn!(%error, "could not raise the open-file limit");
            rlimit::Resource::NOFILE.get().ok().map(|(soft, _hard)| soft)
        }
    }
}

/// `configured`, or less so that connections plus `reserve` stay under `file_limit`; at least
/// one, so that a server with a tiny limit still serves someone.
fn fit_under_file_limit(configured: usize, file_limit: u64, reserve: u64) -> usize {
    let room = usize::try_from(file_limit.saturating_sub(reserve)).unwrap_or(usize::MAX);
    configured.min(room).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn an_address_past_its_cap_is_refused_while_others_are_let_in() {
        let admission = Admission::new(2, 10);
        let _a = admission.admit(ip("10.0.0.1"), false).unwrap();
        let _b = admission.admit(ip("10.0.0.1"), false).unwrap();
        assert_eq!(admission.admit(ip("10.0.0.1"), false).err(), Some(Refusal::PerAddr));
        assert!(admission.admit(ip("10.0.0.2"), false).is_ok());
    }

    #[test]
    fn an_ipv6_client_is_counted_per_64() {
        let admission = Admission::new(2, 10);
        let _a = admission.admit(ip("2001:db8:0:1::a"), false).unwrap();
        let _b = admission.admit(ip("2001:db8:0:1::b"), false).unwrap();
        assert_eq!(admission.admit(ip("2001:db8:0:1:ffff::c"), false).err(), Some(Refusal::PerAddr));
        assert!(admission.admit(ip("2001:db8:0:2::a"), false).is_ok());
    }

    #[test]
    fn the_global_cap_counts_every_address_and_trusted_proxies_too() {
        let admission = Admission::new(2, 3);
        let _a = admission.admit(ip("10.0.0.1"), false).unwrap();
        let _b = admission.admit(ip("10.0.0.2"), false).unwrap();
        let _c = admission.admit(ip("10.0.0.3"), true).unwrap();
        assert_eq!(admission.admit(ip("10.0.0.4"), false).err(), Some(Refusal::Total));
        assert_eq!(admission.admit(ip("10.0.0.3"), true).err(), Some(Refusal::Total));
    }

    #[test]
    fn a_trusted_proxy_is_not_held_to_the_per_address_cap() {
        let admission = Admission::new(1, 10);
        let permits: Vec<Permit> = (0..5).map(|_| admission.admit(ip("10.0.0.1"), true).unwrap()).collect();
        assert_eq!(admission.counts(), (5, 0));
        drop(permits);
        assert_eq!(admission.counts(), (0, 0));
    }

    #[test]
    fn dropping_permits_gives_places_back_and_forgets_idle_addresses() {
        let admission = Admission::new(2, 4);
        for round in 0..3 {
            let permits: Vec<Permit> = ["10.0.0.1", "10.0.0.1", "10.0.0.2", "10.0.0.3"]
                .iter()
                .map(|addr| admission.admit(ip(addr), false).unwrap_or_else(|r| panic!("round {round}: {r:?}")))
                .collect();
            assert_eq!(admission.counts(), (4, 3));
            drop(permits);
            assert_eq!(admission.counts(), (0, 0));
        }
    }

    #[test]
    fn a_refused_address_leaves_no_entry_behind() {
        let admission = Admission::new(1, 1);
        let _a = admission.admit(ip("10.0.0.1"), false).unwrap();
        assert_eq!(admission.admit(ip("10.0.0.2"), false).err(), Some(Refusal::Total));
        assert_eq!(admission.counts(), (1, 1));
    }

    #[test]
    fn the_global_cap_stays_under_the_file_limit() {
        assert_eq!(fit_under_file_limit(8192, 20_000, 80), 8192);
        assert_eq!(fit_under_file_limit(8192, 1024, 80), 944);
        assert_eq!(fit_under_file_limit(8192, 50, 80), 1);
    }
}
