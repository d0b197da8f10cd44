//! One accepted connection, from accept to close: HTTP/1.1 through hyper, the header-read and
//! keep-alive idle deadlines, and the per-request values the transport knows (the peer's
//! address, whether it is a trusted proxy).
//!
//! hyper's own `header_read_timeout` is not used: its timer restarts whenever a connection goes
//! idle after a response, so it also bounds the wait for the next request, with the same
//! duration; `KEEPALIVE_IDLE_SEC` could then never be longer than `HEADER_READ_TIMEOUT_SEC`. It
//! also sets a new boxed timer per request. Here a connection keeps what it waits for and since
//! when in atomics ([`Activity`]) and one timer, which wakes at the earliest moment a deadline
//! could pass (at most the shorter timeout ahead) and is re-armed only then: no timer work per
//! request.

use crate::client_addr::FromTrustedProxy;
use crate::connections::Permit;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::{Request, Response};
use axum::routing::future::RouteFuture;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::watch;

/// What the accept loop asks of its open connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    Serving,
    /// Finish the request in flight, then close; an idle connection closes now.
    Draining,
    /// Close now, whatever is in flight (the shutdown grace is over).
    Stopping,
}

/// How long a connection may wait for request headers, and stay idle between requests.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timeouts {
    pub(crate) header_read: Duration,
    pub(crate) keepalive_idle: Duration,
}

/// What every connection of a server shares.
pub(crate) struct Shared {
    pub(crate) app: Router,
    pub(crate) http: http1::Builder,
    pub(crate) timeouts: Timeouts,
}

impl Shared {
    pub(crate) fn new(app: Router, timeouts: Timeouts) -> Self {
        let mut http = http1::Builder::new();
        // The deadlines are watched here (see the module's comment), not by hyper's timer.
        http.header_read_timeout(None);
        Self { app, http, timeouts }
    }
}

/// Serves `stream` until it closes, a deadline passes, or the server stops. `permit` travels with
/// the socket (into an upgraded connection too) and is given back when the socket closes.
pub(crate) async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    from_proxy: Option<FromTrustedProxy>,
    permit: Permit,
    shared: Arc<Shared>,
    mut stage: watch::Receiver<Stage>,
) {
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Watched { stream, activity: activity.clone(), _permit: permit });
    let service = PerRequest { app: shared.app.clone(), peer, from_proxy, activity: activity.clone() };
    let mut conn = pin!(shared.http.serve_connection(io, service).with_upgrades());
    // Armed no later than `shortest` ahead: any phase that starts later has a later deadline, so
    // the watchdog always wakes in time to see it.
    let mut watchdog = pin!(tokio::time::sleep(shared.timeouts.shortest()));
    loop {
        tokio::select! {
            ended = conn.as_mut() => {
                if let Err(error) = ended {
                    tracing::debug!(%peer, %error, "connection ended with an error");
                }
                return;
            }
            () = watchdog.as_mut() => {
                let now = Instant::now();
                let look_again = now + shared.timeouts.shortest();
                match activity.deadline(&shared.timeouts) {
                    Some((deadline, waiting_for)) if deadline <= now => {
                        tracing::debug!(%peer, waiting_for, "connection closed: its deadline passed");
                        return;
                    }
                    Some((deadline, _)) => watchdog.as_mut().reset(deadline.min(look_again).into()),
                    // A request in flight has its own timeout.
                    None => watchdog.as_mut().reset(look_again.into()),
                }
            }
            changed = stage.changed() => match changed.map(|()| *stage.borrow_and_update()) {
                Ok(Stage::Serving) => {}
                Ok(Stage::Draining) => conn.as_mut().graceful_shutdown(),
                Ok(Stage::Stopping) | Err(_) => return,
            },
        }
    }
}

impl Timeouts {
    fn shortest(&self) -> Duration {
        self.header_read.min(self.keepalive_idle)
    }
}

/// What a connection is waiting for, and since when, as its watchdog reads it.
///
/// Everything of one connection runs in its task, so the atomics are never contended; they are
/// atomics only because the task may move between threads.
struct Activity {
    opened: Instant,
    in_flight: AtomicU32,
    /// Nanoseconds since `opened` shifted left by one, with [`IDLE`] in the low bit: idle since
    /// the last response, or (bit clear) waiting for request headers since the connection opened
    /// or since the first bytes after an idle spell arrived.
    waiting: AtomicU64,
}

const IDLE: u64 = 1;

impl Activity {
    fn new() -> Self {
        Self { opened: Instant::now(), in_flight: AtomicU32::new(0), waiting: AtomicU64::new(0) }
    }

    fn now_shifted(&self) -> u64 {
        u64::try_from(self.opened.elapsed().as_nanos()).unwrap_or(u64::MAX) << 1
    }

    fn request_started(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Relaxed);
        InFlight(self.clone())
    }

    /// The next request's first bytes end an idle spell and start its header deadline. Bytes
    /// that arrive while a request is in flight (its body, or a pipelined request) do not: a
    /// request pipelined behind another then has the idle deadline, not the shorter header one.
    fn bytes_arrived(&self) {
        if self.waiting.load(Relaxed) & IDLE != 0 && self.in_flight.load(Relaxed) == 0 {
            self.waiting.store(self.now_shifted(), Relaxed);
        }
    }

    /// When the connection is due to close, and what it waits for; `None` while a request is in
    /// flight.
    fn deadline(&self, timeouts: &Timeouts) -> Option<(Instant, &'static str)> {
        if self.in_flight.load(Relaxed) > 0 {
            return None;
        }
        let waiting = self.waiting.load(Relaxed);
        let since = self.opened + Duration::from_nanos(waiting >> 1);
        Some(if waiting & IDLE != 0 {
            (since + timeouts.keepalive_idle, "the next request")
        } else {
            (since + timeouts.header_read, "request headers")
        })
    }
}

/// A request in flight: from its headers until its response has been written (or abandoned).
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let activity = &self.0;
        if activity.in_flight.fetch_sub(1, Relaxed) == 1 {
            activity.waiting.store(activity.now_shifted() | IDLE, Relaxed);
        }
    }
}

/// The socket, telling [`Activity`] when bytes arrive and holding the connection's [`Permit`].
struct Watched {
    stream: TcpStream,
    activity: Arc<Activity>,
    _permit: Permit,
}

impl AsyncRead for Watched {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            this.activity.bytes_arrived();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// Hands each request to the app with what the transport knows: `ConnectInfo` (the TCP peer)
/// and, from a trusted proxy, [`FromTrustedProxy`]; counts it in flight until its response body
/// is done.
struct PerRequest {
    app: Router,
    peer: SocketAddr,
    from_proxy: Option<FromTrustedProxy>,
    activity: Arc<Activity>,
}

impl hyper::service::Service<Request<Incoming>> for PerRequest {
    type Response = Response<InFlightBody>;
    type Error = Infallible;
    type Future = Answering;

    fn call(&self, mut request: Request<Incoming>) -> Answering {
        let in_flight = self.activity.request_started();
        let extensions = request.extensions_mut();
        extensions.insert(ConnectInfo(self.peer));
        if let Some(from_proxy) = &self.from_proxy {
            extensions.insert(from_proxy.clone());
        }
        // A Router is always ready (its `poll_ready` answers at once), and cloning it is one Arc.
        let routed = tower_service::Service::call(&mut self.app.clone(), request);
        Answering { routed, in_flight: Some(in_flight) }
    }
}

/// The app's response, its body carrying the request's [`InFlight`] mark.
struct Answering {
    routed: RouteFuture<Infallible>,
    in_flight: Option<InFlight>,
}

impl Future for Answering {
    type Output = Result<Response<InFlightBody>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let Ok(response) = ready!(Pin::new(&mut this.routed).poll(cx));
        let in_flight = this.in_flight.take();
        Poll::Ready(Ok(response.map(|body| InFlightBody { body, _in_flight: in_flight })))
    }
}

/// A response body; hyper drops it once written, which ends the request's time in flight.
struct InFlightBody {
    body: Body,
    _in_flight: Option<InFlight>,
}

impl http_body::Body for InFlightBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIMEOUTS: Timeouts =
        Timeouts { header_read: Duration::from_secs(10), keepalive_idle: Duration::from_secs(60) };

    #[test]
    fn a_new_connection_waits_for_headers_from_its_opening() {
        let activity = Arc::new(Activity::new());
        let (deadline, waiting_for) = activity.deadline(&TIMEOUTS).unwrap();
        assert_eq!(deadline, activity.opened + TIMEOUTS.header_read);
        assert_eq!(waiting_for, "request headers");
        activity.bytes_arrived();
        assert_eq!(
            activity.deadline(&TIMEOUTS).unwrap().0,
            activity.opened + TIMEOUTS.header_read,
            "not reset by bytes"
        );
    }

    #[test]
    fn a_request_in_flight_has_no_deadline_and_its_end_starts_the_idle_one() {
        let activity = Arc::new(Activity::new());
        let in_flight = activity.request_started();
        activity.bytes_arrived();
        assert!(activity.deadline(&TIMEOUTS).is_none());
        let ended = Instant::now();
        drop(in_flight);
        let (deadline, waiting_for) = activity.deadline(&TIMEOUTS).unwrap();
        assert_eq!(waiting_for, "the next request");
        assert!(deadline >= ended + TIMEOUTS.keepalive_idle && deadline <= Instant::now() + TIMEOUTS.keepalive_idle);
    }

    #[test]
    fn the_next_requests_first_bytes_start_its_header_deadline() {
        let activity = Arc::new(Activity::new());
        drop(activity.request_started());
        let arrived = Instant::now();
        activity.bytes_arrived();
        let (deadline, waiting_for) = activity.deadline(&TIMEOUTS).unwrap();
        assert_eq!(waiting_for, "request headers");
        assert!(deadline >= arrived + TIMEOUTS.header_read && deadline <= Instant::now() + TIMEOUTS.header_read);
    }
}
