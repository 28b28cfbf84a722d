//! Names derived from an instance: its DNS names, its interface's MAC address and attachment
//! id. Each has an `append_*` form that writes into a caller's buffer, which the streamed
//! DescribeInstances reuses across ten thousand instances instead of allocating per name.

use std::net::Ipv4Addr;

use super::store::Instance;

/// `ip-172-31-1-2.ec2.internal` (us-east-1) or `ip-….{region}.compute.internal`.
pub fn private_dns(ip: Ipv4Addr, region: &str) -> String {
    let mut out = String::new();
    append_private_dns(&mut out, ip, region);
    out
}

/// [`private_dns`], appended to `out`.
pub fn append_private_dns(out: &mut String, ip: Ipv4Addr, region: &str) {
    append_host(out, "ip-", ip, region, ".ec2.internal", ".compute.internal");
}

/// `ec2-54-1-2-3.compute-1.amazonaws.com` (us-east-1) or `ec2-….{region}.compute.amazonaws.com`.
pub fn public_dns(ip: Ipv4Addr, region: &str) -> String {
    let mut out = String::new();
    append_public_dns(&mut out, ip, region);
    out
}

/// [`public_dns`], appended to `out`.
pub fn append_public_dns(out: &mut String, ip: Ipv4Addr, region: &str) {
    append_host(
        out,
        "ec2-",
        ip,
        region,
        ".compute-1.amazonaws.com",
        ".compute.amazonaws.com",
    );
}

/// `{prefix}{dashed ip}` then `us_east_1` in us-east-1, else `.{region}{regional}`: how AWS
/// names both kinds of instance host.
fn append_host(
    out: &mut String,
    prefix: &str,
    ip: Ipv4Addr,
    region: &str,
    us_east_1: &str,
    regional: &str,
) {
    out.push_str(prefix);
    append_ip(out, ip, '-');
    if region == "us-east-1" {
        out.push_str(us_east_1);
    } else {
        out.push('.');
        out.push_str(region);
        out.push_str(regional);
    }
}

/// The four octets in decimal, joined by `separator` (`.` gives the address's `Display`
/// text), written digit by digit: `fmt` costs more than the digits.
pub fn append_ip(out: &mut String, ip: Ipv4Addr, separator: char) {
    for (n, octet) in ip.octets().into_iter().enumerate() {
        if n > 0 {
            out.push(separator);
        }
        if octet >= 100 {
            out.push(char::from(b'0' + octet / 100));
        }
        if octet >= 10 {
            out.push(char::from(b'0' + octet / 10 % 10));
        }
        out.push(char::from(b'0' + octet % 10));
    }
}

/// `eni-attach-…` of an instance's primary interface.
pub fn eni_attachment_id(i: &Instance) -> String {
    let mut out = String::new();
    append_eni_attachment_id(&mut out, i);
    out
}

/// [`eni_attachment_id`], appended to `out`.
pub fn append_eni_attachment_id(out: &mut String, i: &Instance) {
    out.push_str("eni-attach-");
    out.push_str(i.network_interface_id.get(4..).unwrap_or_default());
}

/// The MAC address of an instance's primary interface (stable, from its id).
pub fn mac(id: &str) -> String {
    let mut out = String::new();
    append_mac(&mut out, id);
    out
}

/// [`mac`], appended to `out`: `0a:` and the id's first five hex pairs (`00` where it is
/// too short).
pub fn append_mac(out: &mut String, id: &str) {
    let hex = id.trim_start_matches("i-");
    out.push_str("0a");
    for n in 0..5 {
        out.push(':');
        out.push_str(hex.get(n * 2..n * 2 + 2).unwrap_or("00"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_digits_are_the_display_text() {
        for octets in [[0, 9, 10, 99], [100, 199, 200, 255], [172, 31, 1, 2]] {
            let ip = Ipv4Addr::from(octets);
            let mut text = String::new();
            append_ip(&mut text, ip, '.');
            assert_eq!(text, ip.to_string());
        }
    }

    #[test]
    fn names_keep_their_spelling() {
        let ip = Ipv4Addr::new(172, 31, 1, 2);
        assert_eq!(private_dns(ip, "us-east-1"), "ip-172-31-1-2.ec2.internal");
        assert_eq!(
            private_dns(ip, "eu-west-1"),
            "ip-172-31-1-2.eu-west-1.compute.internal"
        );
        assert_eq!(
            public_dns(ip, "us-east-1"),
            "ec2-172-31-1-2.compute-1.amazonaws.com"
        );
        assert_eq!(
            public_dns(ip, "eu-west-1"),
            "ec2-172-31-1-2.eu-west-1.compute.amazonaws.com"
        );
        assert_eq!(mac("i-0123456789abcdef0"), "0a:01:23:45:67:89");
    }
}
