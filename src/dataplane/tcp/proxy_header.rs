//! PROXY protocol headers a flow's target gets before the client's bytes: version 1 (a text
//! line, as Classic ELB sends with `ProxyProtocolPolicyType`) and version 2 (binary, as a
//! network load balancer sends with `proxy_protocol_v2.enabled`).

use std::net::{IpAddr, SocketAddr};

use crate::lb::ProxyHeader;

/// The header of `kind` for a TCP connection from `client` to `listener` (empty for none).
pub fn header(kind: ProxyHeader, client: SocketAddr, listener: SocketAddr) -> Vec<u8> {
    match kind {
        ProxyHeader::None => Vec::new(),
        ProxyHeader::V1 => v1(client, listener).into_bytes(),
        ProxyHeader::V2 => v2(client, listener),
    }
}

/// The PROXY protocol v1 line: `PROXY TCP4 <client> <listener> <client port> <listener
/// port>\r\n` (`TCP6` with both addresses as IPv6 when either is IPv6).
pub fn v1(client: SocketAddr, listener: SocketAddr) -> String {
    let (family, src, dst) = match (client.ip(), listener.ip()) {
        (IpAddr::V4(s), IpAddr::V4(d)) => ("TCP4", s.to_string(), d.to_string()),
        (s, d) => ("TCP6", to_v6(s).to_string(), to_v6(d).to_string()),
    };
    format!(
        "PROXY {family} {src} {dst} {} {}\r\n",
        client.port(),
        listener.port()
    )
}

fn to_v6(ip: IpAddr) -> std::net::Ipv6Addr {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    }
}

/// The PROXY protocol v2 header for a TCP connection from `client` to `listener` (a
/// `PROXY` command; IPv4 or IPv6 addresses, both of the client's family).
pub fn v2(client: SocketAddr, listener: SocketAddr) -> Vec<u8> {
    const SIGNATURE: [u8; 12] = *b"\r\n\r\n\0\r\nQUIT\n";
    let mut out = Vec::with_capacity(52);
    out.extend_from_slice(&SIGNATURE);
    // Version 2, command PROXY.
    out.push(0x21);
    match (client.ip(), listener.ip()) {
        (IpAddr::V4(src), IpAddr::V4(dst)) => {
            // AF_INET, STREAM; 12 bytes of addresses.
            out.push(0x11);
            out.extend_from_slice(&12u16.to_be_bytes());
            out.extend_from_slice(&src.octets());
            out.extend_from_slice(&dst.octets());
        }
        (src, dst) => {
            // AF_INET6, STREAM; 36 bytes of addresses.
            out.push(0x21);
            out.extend_from_slice(&36u16.to_be_bytes());
            out.extend_from_slice(&to_v6(src).octets());
            out.extend_from_slice(&to_v6(dst).octets());
        }
    }
    out.extend_from_slice(&client.port().to_be_bytes());
    out.extend_from_slice(&listener.port().to_be_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_lines_for_both_families() {
        assert_eq!(
            v1(
                "10.1.2.3:40000".parse().unwrap(),
                "127.0.0.1:80".parse().unwrap()
            ),
            "PROXY TCP4 10.1.2.3 127.0.0.1 40000 80\r\n"
        );
        assert_eq!(
            v1(
                "[::1]:5000".parse().unwrap(),
                "127.0.0.1:443".parse().unwrap()
            ),
            "PROXY TCP6 ::1 ::ffff:127.0.0.1 5000 443\r\n"
        );
        assert!(
            header(
                ProxyHeader::None,
                "[::1]:1".parse().unwrap(),
                "[::1]:2".parse().unwrap()
            )
            .is_empty()
        );
    }

    #[test]
    fn v2_headers_for_both_families() {
        let h = v2(
            "10.1.2.3:40000".parse().unwrap(),
            "127.0.0.1:80".parse().unwrap(),
        );
        assert_eq!(&h[..12], b"\r\n\r\n\0\r\nQUIT\n");
        assert_eq!(h[12..16], [0x21, 0x11, 0, 12]);
        assert_eq!(h[16..20], [10, 1, 2, 3]);
        assert_eq!(h[20..24], [127, 0, 0, 1]);
        assert_eq!(h[24..26], 40000u16.to_be_bytes());
        assert_eq!(h[26..28], 80u16.to_be_bytes());
        assert_eq!(h.len(), 28);
        let h6 = v2(
            "[::1]:5000".parse().unwrap(),
            "127.0.0.1:80".parse().unwrap(),
        );
        assert_eq!(h6[12..16], [0x21, 0x21, 0, 36]);
        assert_eq!(h6.len(), 16 + 36);
        assert_eq!(h6[16 + 15], 1);
        // The listener's IPv4 address, mapped.
        assert_eq!(h6[32 + 10..32 + 16], [0xff, 0xff, 127, 0, 0, 1]);
    }
}
