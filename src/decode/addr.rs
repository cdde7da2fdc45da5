//! Address and port annotations that teach: IPv4 classes and special ranges, port ranges and
//! well-known service names.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The classful-network class of an IPv4 address (RFC 791 §3.2, historical but still taught).
pub fn ipv4_class(addr: Ipv4Addr) -> char {
    match addr.octets()[0] {
        0..=127 => 'A',
        128..=191 => 'B',
        192..=223 => 'C',
        224..=239 => 'D',
        _ => 'E',
    }
}

/// Notes on what kind of address this is: `private`, `loopback`, `link-local`, `multicast`,
/// `broadcast`, `likely directed broadcast`, `unspecified`, `documentation`, `shared (CGN)`.
pub fn ip_notes(addr: IpAddr) -> Vec<&'static str> {
    match addr {
        IpAddr::V4(a) => ipv4_notes(a),
        IpAddr::V6(a) => ipv6_notes(a),
    }
}

fn ipv4_notes(a: Ipv4Addr) -> Vec<&'static str> {
    let mut notes = Vec::new();
    let [o0, o1, _, o3] = a.octets();
    if a.is_unspecified() {
        notes.push("unspecified");
    }
    if a.is_loopback() {
        notes.push("loopback");
    }
    if a.is_private() {
        notes.push("private");
    }
    if o0 == 100 && (64..128).contains(&o1) {
        notes.push("shared (CGN)");
    }
    if a.is_link_local() {
        notes.push("link-local");
    }
    if a.is_multicast() {
        notes.push("multicast");
    }
    if a.is_broadcast() {
        notes.push("broadcast");
    } else if o3 == 255 && !a.is_multicast() && o0 < 240 {
        // Without the netmask this can only be a guess: .255 ends the host part of any /24 or
        // shorter prefix, so it is most likely a directed broadcast.
        notes.push("likely directed broadcast");
    }
    if a.is_documentation() {
        notes.push("documentation");
    }
    notes
}

fn ipv6_notes(a: Ipv6Addr) -> Vec<&'static str> {
    let mut notes = Vec::new();
    let first = a.segments()[0];
    if a.is_unspecified() {
        notes.push("unspecified");
    }
    if a.is_loopback() {
        notes.push("loopback");
    }
    if first & 0xffc0 == 0xfe80 {
        notes.push("link-local");
    }
    if first & 0xfe00 == 0xfc00 {
        notes.push("unique local (private)");
    }
    if a.is_multicast() {
        notes.push("multicast");
    }
    if a.to_ipv4_mapped().is_some() {
        notes.push("IPv4-mapped");
    }
    notes
}

/// The IANA range a port falls in.
pub fn port_range(port: u16) -> &'static str {
    match port {
        0..=1023 => "well-known",
        1024..=49151 => "registered",
        _ => "dynamic",
    }
}

/// The usual service name of a port, for the services a networking course meets.
pub fn service_name(port: u16) -> Option<&'static str> {
    Some(match port {
        7 => "echo",
        9 => "discard",
        13 => "daytime",
        20 => "ftp-data",
        21 => "ftp",
        22 => "ssh",
        23 => "telnet",
        25 => "smtp",
        53 => "dns",
        67 => "dhcp-server",
        68 => "dhcp-client",
        69 => "tftp",
        80 => "http",
        110 => "pop3",
        123 => "ntp",
        137 => "netbios-ns",
        138 => "netbios-dgm",
        143 => "imap",
        161 => "snmp",
        443 => "https",
        514 => "syslog",
        546 => "dhcpv6-client",
        547 => "dhcpv6-server",
        853 => "dns-over-tls",
        993 => "imaps",
        995 => "pop3s",
        1900 => "ssdp",
        3306 => "mysql",
        5353 => "mdns",
        5355 => "llmnr",
        5432 => "postgresql",
        6379 => "redis",
        8000 => "http-alt",
        8080 => "http-alt",
        8443 => "https-alt",
        _ => return None,
    })
}

/// `80 (http, well-known)` style description of a port.
pub fn describe_port(port: u16) -> String {
    match service_name(port) {
        Some(name) => format!("{port} ({name}, {})", port_range(port)),
        None => format!("{port} ({})", port_range(port)),
    }
}

/// `192.168.1.10 (class C, private)` style description of an address.
pub fn describe_ip(addr: IpAddr) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let IpAddr::V4(a) = addr {
        parts.push(format!("class {}", ipv4_class(a)));
    }
    parts.extend(ip_notes(addr).into_iter().map(str::to_string));
    if parts.is_empty() {
        addr.to_string()
    } else {
        format!("{addr} ({})", parts.join(", "))
    }
}

/// Formats a MAC address as `aa:bb:cc:dd:ee:ff`.
pub fn mac(bytes: [u8; 6]) -> String {
    let [a, b, c, d, e, f] = bytes;
    format!("{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{f:02x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_and_notes() {
        let a: Ipv4Addr = "10.1.2.3".parse().unwrap();
        assert_eq!(ipv4_class(a), 'A');
        assert_eq!(ip_notes(a.into()), vec!["private"]);
        assert_eq!(ipv4_class("172.16.0.1".parse().unwrap()), 'B');
        assert_eq!(ipv4_class("192.168.0.1".parse().unwrap()), 'C');
        assert_eq!(ipv4_class("224.0.0.251".parse().unwrap()), 'D');
        assert_eq!(ipv4_class("250.0.0.1".parse().unwrap()), 'E');
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        assert_eq!(describe_ip(lo), "127.0.0.1 (class A, loopback)");
        let bc: IpAddr = "255.255.255.255".parse().unwrap();
        assert!(ip_notes(bc).contains(&"broadcast"));
        let directed: IpAddr = "192.168.1.255".parse().unwrap();
        assert_eq!(
            ip_notes(directed),
            vec!["private", "likely directed broadcast"]
        );
        let ll: IpAddr = "169.254.1.1".parse().unwrap();
        assert_eq!(ip_notes(ll), vec!["link-local"]);
        let v6: IpAddr = "fe80::1".parse().unwrap();
        assert_eq!(ip_notes(v6), vec!["link-local"]);
    }

    #[test]
    fn ports() {
        assert_eq!(describe_port(69), "69 (tftp, well-known)");
        assert_eq!(describe_port(8080), "8080 (http-alt, registered)");
        assert_eq!(describe_port(54321), "54321 (dynamic)");
        assert_eq!(port_range(1023), "well-known");
        assert_eq!(port_range(1024), "registered");
        assert_eq!(port_range(49152), "dynamic");
    }
}
