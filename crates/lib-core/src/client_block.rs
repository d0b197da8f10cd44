//! [`ClientBlock`]: what every per-address limit counts as one client.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};

/// An IPv4 address, or the /64 network of an IPv6 address: the block one subscriber usually
/// holds, which gives its holder 2^64 addresses, so counting single IPv6 addresses would let one
/// client take endless places. An IPv4-mapped IPv6 address counts as its IPv4 address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientBlock(IpAddr);

impl ClientBlock {
    pub fn of(addr: IpAddr) -> Self {
        match addr {
            IpAddr::V4(_) => Self(addr),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Self(IpAddr::V4(v4)),
                None => Self(IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !u128::from(u64::MAX)))),
            },
        }
    }
}

/// `192.0.2.7` or `2001:db8:1:2::/64`.
impl fmt::Display for ClientBlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            IpAddr::V4(v4) => write!(f, "{v4}"),
            IpAddr::V6(v6) => write!(f, "{v6}/64"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(text: &str) -> String {
        ClientBlock::of(text.parse().unwrap()).to_string()
    }

    #[test]
    fn ipv4_counts_per_address_and_ipv6_per_64() {
        assert_eq!(block("192.0.2.7"), "192.0.2.7");
        assert_eq!(block("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(block("2001:db8:1:2:bbbb::9"), block("2001:db8:1:2:aaaa::1"));
        assert_ne!(block("2001:db8:1:3::1"), block("2001:db8:1:2::1"));
        assert_eq!(block("::ffff:192.0.2.7"), "192.0.2.7");
    }
}
