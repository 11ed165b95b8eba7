//! Who is on the other end: the client address (honouring `X-Forwarded-For` only when the
//! connection comes from a configured trusted proxy) and the user agent.

use axum::extract::ConnectInfo;
use axum::http::request::Parts;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

/// A network (`10.0.0.0/8`, `::1/128`, or a single address).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Network {
    addr: IpAddr,
    prefix: u8,
}

impl FromStr for Network {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("`{s}` is not an IP address or network (CIDR)"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("`{s}`: the prefix length must be 0 to {max}"))?,
            None => max,
        };
        Ok(Self { addr, prefix })
    }
}

impl Network {
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match (self.addr, ip) {
            (IpAddr::V4(_), IpAddr::V6(v6)) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            _ => ip,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// The client address of a request: the peer address, or — when the peer is a trusted
/// proxy — the right-most address of `X-Forwarded-For` that is not itself a trusted proxy.
pub fn client_ip(parts: &Parts, trusted: &[Network]) -> Option<IpAddr> {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())?;
    if !trusted.iter().any(|n| n.contains(peer)) {
        return Some(peer);
    }
    let forwarded: Vec<IpAddr> = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    Some(
        forwarded
            .into_iter()
            .rev()
            .find(|ip| !trusted.iter().any(|n| n.contains(*ip)))
            .unwrap_or(peer),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn parts(peer: &str, xff: Option<&str>) -> Parts {
        let mut b = Request::builder();
        if let Some(x) = xff {
            b = b.header("x-forwarded-for", x);
        }
        let (mut parts, ()) = b.body(()).unwrap().into_parts();
        parts
            .extensions
            .insert(ConnectInfo(SocketAddr::new(peer.parse().unwrap(), 1234)));
        parts
    }

    #[test]
    fn forwarded_for_is_honoured_only_from_trusted_proxies() {
        let trusted = vec!["10.0.0.0/8".parse::<Network>().unwrap()];
        let ip = |p: &Parts| client_ip(p, &trusted).unwrap().to_string();
        assert_eq!(ip(&parts("203.0.113.9", Some("1.2.3.4"))), "203.0.113.9");
        assert_eq!(ip(&parts("10.1.2.3", Some("1.2.3.4"))), "1.2.3.4");
        assert_eq!(
            ip(&parts("10.1.2.3", Some("6.6.6.6, 1.2.3.4, 10.0.0.7"))),
            "1.2.3.4"
        );
        assert_eq!(ip(&parts("10.1.2.3", Some("garbage"))), "10.1.2.3");
        assert_eq!(ip(&parts("10.1.2.3", None)), "10.1.2.3");
        assert!("10.0.0.0/33".parse::<Network>().is_err());
        assert!(
            "::1"
                .parse::<Network>()
                .unwrap()
                .contains("::1".parse().unwrap())
        );
        assert!(
            "0.0.0.0/0"
                .parse::<Network>()
                .unwrap()
                .contains("8.8.8.8".parse().unwrap())
        );
    }
}
