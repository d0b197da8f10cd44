//! The accept loop: every new connection is admitted under the connection caps or closed at
//! once, before anything is read from it; accept errors (out of descriptors and the like) are
//! logged at a bounded rate and waited out; at shutdown the listener closes first, open
//! connections finish what is in flight within the grace period, and the rest are closed.

use crate::client_addr::{FromTrustedProxy, TrustedProxies};
use crate::connection::{self, Shared, Stage, Timeouts};
use crate::connections::{Admission, Refusal};
use axum::Router;
use lib_core::{Config, Limit, Throttled};
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// At most one log line per this long about refused connections, and one about accept errors.
const LOG_EVERY: Duration = Duration::from_secs(10);
/// The first pause after an accept error, doubled on each further error up to [`LONGEST_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(10);
const LONGEST_PAUSE: Duration = Duration::from_secs(1);

/// What the loop needs to know from the configuration.
pub(crate) struct Options {
    pub(crate) admission: Admission,
    pub(crate) timeouts: Timeouts,
    pub(crate) trusted_proxies: TrustedProxies,
    pub(crate) shutdown_grace: Duration,
    /// Where refused connections are counted, for metrics.
    pub(crate) throttled: Arc<Throttled>,
}

impl Options {
    /// Also raises the process' file limit (see [`Admission::from_config`]).
    pub(crate) fn from_config(config: &Config, throttled: Arc<Throttled>) -> Self {
        Self {
            admission: Admission::from_config(config),
            timeouts: Timeouts { header_read: config.header_read_timeout, keepalive_idle: config.keepalive_idle },
            trusted_proxies: TrustedProxies::new(&config.trusted_proxies),
            shutdown_grace: config.shutdown_grace,
            throttled,
        }
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then closes the listener, lets requests
/// in flight finish for up to the grace period, and closes whatever is still open.
pub(crate) async fn serve(listener: TcpListener, app: Router, options: Options, shutdown: impl Future<Output = ()>) {
    let Options { admission, timeouts, trusted_proxies, shutdown_grace, throttled } = options;
    // Turns every route into its final service once, not per connection or request.
    let shared = Arc::new(Shared::new(app.with_state(()), timeouts));
    let (stage, _) = watch::channel(Stage::Serving);
    let mut shutdown = pin!(shutdown);
    let mut refusals = Refusals::default();
    let mut accept_errors = AcceptErrors::default();
    loop {
        let accepted = tokio::select! {
            biased;
            () = shutdown.as_mut() => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => {
                accept_errors.succeeded();
                let addr = peer.ip().to_canonical();
                let from_proxy = trusted_proxies.contains(addr).then(|| FromTrustedProxy(trusted_proxies.clone()));
                match admission.admit(addr, from_proxy.is_some()) {
                    Ok(permit) => {
                        let serving =
                            connection::serve(stream, peer, from_proxy, permit, shared.clone(), stage.subscribe());
                        tokio::spawn(serving);
                    }
                    Err(refusal) => {
                        throttled.count(match refusal {
                            Refusal::PerAddr => Limit::ConnectionsPerAddr,
                            Refusal::Total => Limit::ConnectionsTotal,
                        });
                        refusals.refuse(stream, peer, refusal, &admission);
                    }
                }
            }
            // The client gave up while queued: nothing is wrong with the listener.
            Err(error) if is_about_one_connection(&error) => {}
            Err(error) => {
                let pause = accept_errors.failed(&error);
                tokio::select! {
                    biased;
                    () = shutdown.as_mut() => break,
                    () = tokio::time::sleep(pause) => {}
                }
            }
        }
    }
    drop(listener);
    tracing::info!("shutting down: no new connections, finishing requests in flight");
    stage.send_replace(Stage::Draining);
    // Every connection task holds a receiver: `closed` completes when the last one has ended.
    if tokio::time::timeout(shutdown_grace, stage.closed()).await.is_err() {
        tracing::warn!(grace = ?shutdown_grace, "requests still running after the grace period; stopping anyway");
        stage.send_replace(Stage::Stopping);
    }
}

fn is_about_one_connection(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionRefused
    )
}

/// Connections turned away at the caps, counted between log lines: under a flood of thousands
/// per second the log gets one line per [`LOG_EVERY`].
#[derive(Default)]
struct Refusals {
    last_logged: Option<Instant>,
    per_addr: u64,
    total: u64,
}

impl Refusals {
    fn refuse(&mut self, stream: TcpStream, peer: SocketAddr, refusal: Refusal, admission: &Admission) {
        // Closed before anything is read: the client sees the connection end at once.
        drop(stream);
        match refusal {
            Refusal::PerAddr => self.per_addr += 1,
            Refusal::Total => self.total += 1,
        }
        if self.last_logged.is_none_or(|at| at.elapsed() >= LOG_EVERY) {
            tracing::warn!(
                refused_per_addr = self.per_addr,
                refused_total = self.total,
                latest = %peer.ip(),
                max_connections = admission.total_cap(),
                "connections refused at the connection caps (MAX_CONNECTIONS_PER_ADDR, MAX_CONNECTIONS)"
            );
            *self = Self { last_logged: Some(Instant::now()), per_addr: 0, total: 0 };
        }
    }
}

/// Accept errors in a row (out of descriptors, out of memory): each one pauses the loop, longer
/// each time, so that a listener that keeps failing neither spins nor floods the log.
#[derive(Default)]
struct AcceptErrors {
    in_a_row: u32,
    last_logged: Option<Instant>,
    unlogged: u64,
}

impl AcceptErrors {
    fn succeeded(&mut self) {
        self.in_a_row = 0;
    }

    /// Logs `error` unless one was logged within [`LOG_EVERY`]; answers how long to pause.
    fn failed(&mut self, error: &io::Error) -> Duration {
        if self.last_logged.is_none_or(|at| at.elapsed() >= LOG_EVERY) {
            tracing::error!(%error, errors_not_logged = self.unlogged, "accept error; pausing before accepting again");
            self.last_logged = Some(Instant::now());
            self.unlogged = 0;
        } else {
            self.unlogged += 1;
        }
        let pause = FIRST_PAUSE.saturating_mul(1 << self.in_a_row.min(16)).min(LONGEST_PAUSE);
        self.in_a_row = self.in_a_row.saturating_add(1);
        pause
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_errors_pause_longer_each_time_up_to_a_bound_and_reset_on_success() {
        let mut errors = AcceptErrors::default();
        let error = io::Error::from_raw_os_error(24); // EMFILE
        let pauses: Vec<Duration> = (0..10).map(|_| errors.failed(&error)).collect();
        assert_eq!(pauses[0], FIRST_PAUSE);
        assert_eq!(pauses[1], FIRST_PAUSE * 2);
        assert!(pauses.windows(2).all(|pair| pair[0] <= pair[1]));
        assert_eq!(*pauses.last().unwrap(), LONGEST_PAUSE);
        assert_eq!(errors.unlogged, 9, "one line per period");
        errors.succeeded();
        assert_eq!(errors.failed(&error), FIRST_PAUSE);
    }
}
