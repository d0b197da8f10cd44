//! One accepted connection, from accept to close: HTTP/1.1 through hyper, the header-read and
//! keep-alive idle deadlines, and the per-request values the transport knows (the peer's
//! address, whether it is a trusted proxy).
//!
//! HTTP/1.1 only, as `axum::serve` served it here (axum's `http2` feature was never enabled);
//! upgrades (`Connection: upgrade`) still work, and the upgraded socket keeps the connection's
//! place under the caps until it closes.
//!
//! hyper's own `header_read_timeout` is not used: its timer restarts whenever a connection goes
//! idle after a response, so it also bounds the wait for the next request, with the same
//! duration; `KEEPALIVE_IDLE_SEC` could then never be longer than `HEADER_READ_TIMEOUT_SEC`. It
//! also sets a new boxed timer per request. Here a connection keeps what it waits for and since
//! when in atomics ([`Activity`]) and one timer, which wakes at the earliest moment a deadline
//! could pass (at most the shorter timeout ahead) and is re-armed only then: no timer work per
//! request.

mod activity;

use crate::client_addr::FromTrustedProxy;
use crate::connections::Permit;
use activity::{Activity, InFlight};
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
