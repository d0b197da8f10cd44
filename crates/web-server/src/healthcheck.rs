//! `web-server healthcheck`: asks the server at `LISTEN_ADDR` whether it is ready
//! (`GET /health/ready`), for container images that have no HTTP client of their own. Plain
//! HTTP/1.1 over one short-lived connection; only the status line is read.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::time::Duration;

/// How long the whole check may take: a container runtime's health probe has its own timeout,
/// and a server that cannot answer within this is not ready.
const TIMEOUT: Duration = Duration::from_secs(3);

/// `Ok` when the server listening on `listen_addr` answers `/health/ready` with 200; otherwise
/// what was wrong.
pub fn check(listen_addr: SocketAddr) -> Result<(), String> {
    let addr = reachable(listen_addr);
    let stream = TcpStream::connect_timeout(&addr, TIMEOUT).map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    stream.set_read_timeout(Some(TIMEOUT)).map_err(|e| e.to_string())?;
    stream.set_write_timeout(Some(TIMEOUT)).map_err(|e| e.to_string())?;
    let request = format!("GET /health/ready HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    (&stream).write_all(request.as_bytes()).map_err(|e| format!("cannot send to {addr}: {e}"))?;
    let mut status_line = String::new();
    // The status line is short; a server sending an endless one is cut off here.
    BufReader::new(std::io::Read::take(stream, 1024))
        .read_line(&mut status_line)
        .map_err(|e| format!("no answer from {addr}: {e}"))?;
    match status_line.split_whitespace().nth(1) {
        Some("200") => Ok(()),
        Some(status) => Err(format!("{addr} answered {status}: not ready")),
        None => Err(format!("{addr} did not answer HTTP")),
    }
}

/// The address to reach a server listening on `listen_addr`: a wildcard address (`0.0.0.0`,
/// `::`) listens on loopback too.
fn reachable(listen_addr: SocketAddr) -> SocketAddr {
    match listen_addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => SocketAddr::new(Ipv4Addr::LOCALHOST.into(), listen_addr.port()),
        IpAddr::V6(ip) if ip.is_unspecified() => SocketAddr::new(Ipv6Addr::LOCALHOST.into(), listen_addr.port()),
        _ => listen_addr,
    }
}
