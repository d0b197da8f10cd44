//! `TRUSTED_PROXIES` and the client behind them: which reverse proxies are believed, and how the
//! client's address is read from the `X-Forwarded-For` they write.
//!
//! The transport ([`crate::connection`]) decides once per connection whether its peer is a
//! trusted proxy and, if so, puts [`FromTrustedProxy`] into each request's extensions; the
//! observe layer then turns the peer and the header into the request's
//! [`ClientAddr`](crate::extract::ClientAddr). Requests from any other peer never look at the
//! header, so a client cannot choose the address its throttles count.

use axum::http::HeaderMap;
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// Most `X-Forwarded-For` entries looked at per request: more than any real proxy chain, and a
/// bound on the work a long header can cause.
const MOST_ENTRIES: usize = 64;

/// The reverse proxies whose `X-Forwarded-For` is believed (addresses or CIDR ranges).
#[derive(Debug, Clone, Default)]
pub(crate) struct TrustedProxies(Arc<[IpNet]>);

/// In a request's extensions when its TCP peer is one of the trusted proxies.
#[derive(Debug, Clone)]
pub(crate) struct FromTrustedProxy(pub(crate) TrustedProxies);

impl TrustedProxies {
    pub(crate) fn new(networks: &[IpNet]) -> Self {
        Self(networks.into())
    }

    /// Whether `addr` is one of the trusted proxies (`addr` in canonical form).
    pub(crate) fn contains(&self, addr: IpAddr) -> bool {
        self.0.iter().any(|network| network.contains(&addr))
    }

    /// The client behind `peer`, a trusted proxy: walking `X-Forwarded-For` from the right (all
    /// its header lines as one comma-separated list, the last line last), the first address that
    /// is not itself trusted.
    ///
    /// Each trusted proxy appends the address it received the request from, so entries are
    /// believed only as far as trusted proxies vouch for them; whatever a client wrote itself is
    /// further left and never reached unless its own address is trusted. Edge cases, each
    /// answering an address no client chose:
    /// - no header, or no entry: `peer` (the proxy itself);
    /// - every entry trusted: the leftmost, the farthest hop a trusted proxy vouches for;
    /// - an entry that is not an address (`unknown`, garbage, a zone id): the walk stops there
    ///   and answers the last address it reached (the trusted one to its right, or `peer`), since
    ///   nothing left of it can be attributed to anyone;
    /// - `addr:port` and `[v6]:port` count as their address; empty entries (`a,,b`) are skipped,
    ///   as HTTP's list syntax allows; after [`MOST_ENTRIES`] the walk stops as at a bad entry.
    pub(crate) fn client_behind(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let entries = headers
            .get_all("x-forwarded-for")
            .iter()
            .rev()
            .flat_map(|line| line.as_bytes().rsplit(|&byte| byte == b','))
            .take(MOST_ENTRIES);
        let mut client = peer;
        for entry in entries {
            let entry = entry.trim_ascii();
            if entry.is_empty() {
                continue;
            }
            let Some(addr) = parse_entry(entry) else { break };
            client = addr;
            if !self.contains(addr) {
                break;
            }
        }
        client
    }
}

/// An address, or a socket address' address, in canonical form (`::ffff:a.b.c.d` is `a.b.c.d`).
fn parse_entry(entry: &[u8]) -> Option<IpAddr> {
    let text = std::str::from_utf8(entry).ok()?;
    let addr = text.parse::<IpAddr>().or_else(|_| text.parse::<SocketAddr>().map(|socket| socket.ip())).ok()?;
    Some(addr.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn proxies(list: &[&str]) -> TrustedProxies {
        let networks: Vec<IpNet> = list
            .iter()
            .map(|text| text.parse().unwrap_or_else(|_| IpNet::from(text.parse::<IpAddr>().unwrap())))
            .collect();
        TrustedProxies::new(&networks)
    }

    fn headers(lines: &[&[u8]]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for line in lines {
            headers.append("x-forwarded-for", HeaderValue::from_bytes(line).unwrap());
        }
        headers
    }

    fn client(trusted: &[&str], lines: &[&[u8]]) -> String {
        proxies(trusted).client_behind("127.0.0.1".parse().unwrap(), &headers(lines)).to_string()
    }

    #[test]
    fn the_rightmost_untrusted_entry_is_the_client() {
        assert_eq!(client(&["127.0.0.1"], &[b"10.9.9.9, 10.0.0.1"]), "10.0.0.1");
        assert_eq!(client(&["127.0.0.1", "10.0.0.1"], &[b"10.9.9.9, 10.0.0.1"]), "10.9.9.9");
        assert_eq!(client(&["127.0.0.1", "10.0.0.0/8"], &[b"1.2.3.4,10.9.9.9, 10.0.0.1"]), "1.2.3.4");
    }

    #[test]
    fn header_lines_are_one_list_in_order_and_whitespace_is_tolerated() {
        assert_eq!(client(&["127.0.0.1", "10.0.0.1"], &[b"10.7.7.7", b"\t10.8.8.8 ,  10.0.0.1 "]), "10.8.8.8");
        assert_eq!(client(&["127.0.0.1", "10.0.0.1", "10.8.8.8"], &[b"10.7.7.7", b"10.8.8.8, 10.0.0.1"]), "10.7.7.7");
    }

    #[test]
    fn without_a_header_the_proxy_itself_is_the_client() {
        assert_eq!(client(&["127.0.0.1"], &[]), "127.0.0.1");
        assert_eq!(client(&["127.0.0.1"], &[b""]), "127.0.0.1");
        assert_eq!(client(&["127.0.0.1"], &[b" , ,"]), "127.0.0.1");
    }

    #[test]
    fn when_every_entry_is_trusted_the_leftmost_is_the_client() {
        assert_eq!(client(&["127.0.0.1", "10.0.0.0/8"], &[b"10.0.0.3, 10.0.0.2, 10.0.0.1"]), "10.0.0.3");
    }

    #[test]
    fn a_bad_entry_stops_the_walk_at_the_last_address_reached() {
        assert_eq!(client(&["127.0.0.1"], &[b"10.0.0.9, unknown"]), "127.0.0.1");
        assert_eq!(client(&["127.0.0.1", "10.0.0.1"], &[b"10.0.0.9, garbage, 10.0.0.1"]), "10.0.0.1");
        assert_eq!(client(&["127.0.0.1"], &[b"fe80::1%eth0"]), "127.0.0.1");
        assert_eq!(client(&["127.0.0.1"], &[b"10.0.0.9, \xff\xfe"]), "127.0.0.1");
    }

    #[test]
    fn a_bad_entry_left_of_the_client_does_not_matter() {
        assert_eq!(client(&["127.0.0.1"], &[b"garbage, 10.0.0.1"]), "10.0.0.1");
    }

    #[test]
    fn ports_are_dropped_and_mapped_addresses_canonical() {
        assert_eq!(client(&["127.0.0.1"], &[b"10.0.0.1:4711"]), "10.0.0.1");
        assert_eq!(client(&["127.0.0.1"], &[b"[2001:db8::1]:443"]), "2001:db8::1");
        assert_eq!(client(&["127.0.0.1"], &[b"::ffff:10.0.0.1"]), "10.0.0.1");
        assert_eq!(client(&["127.0.0.1", "10.0.0.1"], &[b"10.0.0.9, ::ffff:10.0.0.1"]), "10.0.0.9");
    }

    #[test]
    fn the_walk_is_bounded() {
        let long = vec!["10.0.0.1"; 1000].join(",");
        assert_eq!(client(&["127.0.0.1", "10.0.0.1"], &[long.as_bytes()]), "10.0.0.1");
        let behind_the_bound = format!("10.9.9.9,{}", vec!["10.0.0.1"; MOST_ENTRIES].join(","));
        assert_eq!(client(&["127.0.0.1", "10.0.0.1"], &[behind_the_bound.as_bytes()]), "10.0.0.1");
    }
}
