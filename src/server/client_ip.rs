//! Which address a request came from, for rate limits. Behind a reverse proxy every request
//! arrives from the proxy, so `X-Forwarded-For` is believed, but only when the peer is one of
//! the proxies named in `TRUSTED_PROXIES`; then the nearest address that is not a trusted
//! proxy is the client.
use std::net::IpAddr;

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

/// Parses "10.0.0.1, 10.0.0.2"; unparsable entries are an error for the operator to fix.
pub fn parse_trusted(list: &str) -> Result<Vec<IpAddr>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<IpAddr>().map_err(|_| format!("TRUSTED_PROXIES: {s:?} is not an IP address")))
        .collect()
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
    fn parses_lists() {
        assert_eq!(parse_trusted(" 10.0.0.1 , ::1 ").unwrap(), vec![ip("10.0.0.1"), ip("::1")]);
        assert!(parse_trusted("10.0.0.1, proxy").is_err());
        assert!(parse_trusted("").unwrap().is_empty());
    }
}
