//! Which address a request came from, for rate limits. Behind a reverse proxy every request
//! arrives from the proxy, so `X-Forwarded-For` is believed, but only when the peer is one of
//! the proxies named in `TRUSTED_PROXIES`; then the nearest address that is not a trusted
//! proxy is the client.
//!
//! This is the one place that says which client a request is from: server functions call
//! [`ClientKey::of`], `/v1` handlers take it as an extractor (see `web`). Limits key IPv6 clients
//! by their /64 (one subscriber's whole network) and IPv4 clients by their address.
use axum::extract::ConnectInfo;
use http::request::Parts;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

/// Which client a request is from, as the key of its per-client rate limits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientKey(pub String);

impl ClientKey {
    /// The client of a request, behind the proxies named in `trusted`.
    pub fn of(parts: &Parts, trusted: &[IpAddr]) -> ClientKey {
        match parts.extensions.get::<ConnectInfo<SocketAddr>>() {
            Some(peer) => {
                let forwarded = parts.headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
                ClientKey(limit_key(client_ip(peer.0.ip(), forwarded, trusted)))
            }
            None => ClientKey("unknown".into()),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ClientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The rate-limit key of an address: IPv4 (and IPv4-mapped IPv6) by address, IPv6 by /64, since
/// one subscriber is usually given a whole /64 and could otherwise rotate addresses at will.
pub fn limit_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{}/64", Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

pub fn client_ip(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let Some(chain) = forwarded_for else {
        return peer;
    };
    let mut nearest = peer;
    for hop in chain.rsplit(',') {
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) if trusted.contains(&ip) => nearest = ip,
            Ok(ip) => return ip,
            Err(_) => return nearest,
        }
    }
    nearest
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn untrusted_peers_cannot_claim_another_address() {
        assert_eq!(client_ip(ip("203.0.113.9"), Some("1.2.3.4"), &[]), ip("203.0.113.9"));
        assert_eq!(client_ip(ip("203.0.113.9"), Some("1.2.3.4"), &[ip("10.0.0.1")]), ip("203.0.113.9"));
    }

    #[test]
    fn behind_trusted_proxies_the_nearest_untrusted_hop_is_the_client() {
        let proxies = [ip("10.0.0.1"), ip("10.0.0.2")];
        assert_eq!(client_ip(ip("10.0.0.1"), Some("198.51.100.7"), &proxies), ip("198.51.100.7"));
        // A client may prepend anything; only the hop our proxy appended counts.
        assert_eq!(client_ip(ip("10.0.0.1"), Some("1.1.1.1, 198.51.100.7, 10.0.0.2"), &proxies), ip("198.51.100.7"));
        assert_eq!(client_ip(ip("10.0.0.1"), None, &proxies), ip("10.0.0.1"));
        assert_eq!(client_ip(ip("10.0.0.1"), Some("garbage"), &proxies), ip("10.0.0.1"));
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_64_and_ipv4_by_address() {
        assert_eq!(limit_key(ip("203.0.113.9")), "203.0.113.9");
        assert_eq!(limit_key(ip("::ffff:203.0.113.9")), "203.0.113.9");
        assert_eq!(limit_key(ip("2001:db8:1:2:aaaa::1")), "2001:db8:1:2::/64");
        assert_eq!(limit_key(ip("2001:db8:1:2:ffff:ffff:ffff:ffff")), "2001:db8:1:2::/64");
        assert_ne!(limit_key(ip("2001:db8:1:3::1")), limit_key(ip("2001:db8:1:2::1")));
        assert_eq!(limit_key(ip("::1")), "::/64");
    }
}
