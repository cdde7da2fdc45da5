//! The view of an ICMP or ICMPv6 error: its Info text, its layer's fields (type, code, their
//! names, the type-specific MTU / pointer / gateway and the quoted IP and transport header),
//! what it means for the datagram it answers, and the packet the ICMP linker found for it.
//!
//! In: the error as [`crate::decode::icmp`] decodes it, and the [`IcmpLink`] the command's
//! linker put in the notes (`analysis::icmp`). Out: text and fields, built only when `packets`
//! or `show` print the packet. Names are Wireshark's; the meanings cite the RFCs.

use std::fmt::Write as _;
use std::net::IpAddr;

use etherparse::IpNumber;

use super::describe::{LayerView, Value, ip_protocol_text, text};
use crate::app::{IcmpLink, Notes, tftp};
use crate::decode::icmp::{ErrorKind, ErrorMessage, Quote, QuotedTransport, Version};
use crate::decode::{OsiLayer, Packet};

/// `Destination unreachable (Port unreachable)`: the type name with the code's (or the code
/// number when Wireshark has no name for it), and the next-hop MTU when the error gives one.
pub fn write_title(out: &mut String, e: &ErrorMessage<'_>) {
    out.push_str(e.type_name());
    let mtu = e.mtu();
    match (e.code_name(), e.kind) {
        (Some(name), _) => {
            let _ = write!(out, " ({name}");
            if let Some(mtu) = mtu {
                let _ = write!(out, ", next-hop MTU {mtu}");
            }
            out.push(')');
        }
        // These types have no codes (RFC 792, RFC 4443 §3.2).
        (None, ErrorKind::SourceQuench | ErrorKind::PacketTooBig) => {
            if let Some(mtu) = mtu {
                let _ = write!(out, " (MTU {mtu})");
            }
        }
        (None, _) => {
            let _ = write!(out, " (code {})", e.code);
        }
    }
}

/// The Info text of an error: its title and the datagram it quotes, e.g.
/// `Destination unreachable (Port unreachable) for UDP 127.0.0.1:49213 → 127.0.0.1:8080`
/// (the linked frame is appended by [`write_link`]).
pub fn write_info(out: &mut String, e: &ErrorMessage<'_>) {
    write_title(out, e);
    let Some(q) = &e.quote else {
        return;
    };
    out.push_str(" for ");
    out.push_str(protocol_name(q.protocol, e.version));
    match e.flow() {
        Some(flow) => {
            let _ = write!(out, " {} → {}", flow.src, flow.dst);
        }
        None => {
            let _ = write!(out, " {} → {}", q.src, q.dst);
            if q.fragment_offset != 0 {
                let _ = write!(out, ", fragment at offset {}", q.fragment_offset);
            }
        }
    }
}

/// Appends the packet the error answers, from the linker's note: ` (frame 1)`,
/// ` (frame 21, stream 0)`, or ` (datagram not in the capture)` when the capture has no earlier
/// packet of the quoted flow; then, for a Port unreachable, `: nothing listened on ADDR:PORT`.
/// Nothing when the linker did not run or the packet is not a linked error.
pub fn write_link(out: &mut String, packet: &Packet<'_>, notes: &Notes<'_>) {
    let Some(link) = notes.icmp else {
        return;
    };
    match (link.answers, link.stream) {
        (Some(frame), Some(stream)) => {
            let _ = write!(out, " (frame {frame}, stream {stream})");
        }
        (Some(frame), None) => match quoted_tftp(packet, &link) {
            Some(Ok(p)) => {
                let _ = write!(out, " (frame {frame}, TFTP {})", p.info());
            }
            _ => {
                let _ = write!(out, " (frame {frame})");
            }
        },
        (None, _) => {
            let what = match crate::decode::icmp::decode_error(packet).and_then(|e| e.flow()) {
                Some(f) if f.protocol == IpNumber::TCP => "segment",
                _ => "datagram",
            };
            let _ = write!(out, " ({what} not in the capture)");
        }
    }
    // The course's most common error says what it means in the Info column itself.
    if let Some(e) = crate::decode::icmp::decode_error(packet)
        && is_port_unreachable(&e)
        && let Some(flow) = e.flow()
    {
        let _ = write!(out, ": nothing listened on {}", flow.dst);
    }
}

/// ICMP Port unreachable (RFC 792) or ICMPv6 Port unreachable (RFC 4443 §3.1).
fn is_port_unreachable(e: &ErrorMessage<'_>) -> bool {
    e.kind == ErrorKind::DestinationUnreachable
        && matches!((e.version, e.code), (Version::V4, 3) | (Version::V6, 4))
}

/// Adds the linked packet to the ICMP layer of `layers`: `answers_frame` (and
/// `answers_stream` for a tracked TCP segment), or `answers_seen: false` when the capture has
/// no earlier packet of the quoted flow.
pub fn add_link_fields(layers: &mut [LayerView], packet: &Packet<'_>, notes: &Notes<'_>) {
    let Some(link) = notes.icmp else {
        return;
    };
    let Some(l) = layers
        .iter_mut()
        .find(|l| l.osi == OsiLayer::Network && matches!(l.name, "ICMP" | "ICMPv6"))
    else {
        return;
    };
    add_link(l, &link);
    // The answered datagram was TFTP: so is the quoted one (Linux quotes it whole).
    if let Some(Ok(p)) = quoted_tftp(packet, &link) {
        l.add("quoted_tftp_opcode", p.opcode().to_u16())
            .add("quoted_tftp_opcode_name", p.opcode().name());
        match p {
            tftp::Packet::Data(d) => {
                l.add("quoted_tftp_block", d.block);
            }
            tftp::Packet::Ack(a) => {
                l.add("quoted_tftp_block", a.block);
            }
            _ => {}
        }
    }
}

/// The quoted UDP payload decoded as TFTP, when the linker found that the answered datagram
/// was TFTP and the error quotes more than the UDP header.
fn quoted_tftp<'a>(
    packet: &Packet<'a>,
    link: &IcmpLink,
) -> Option<Result<tftp::Packet<'a>, tftp::Malformed>> {
    if link.app != Some("TFTP") {
        return None;
    }
    let e = crate::decode::icmp::decode_error(packet)?;
    let q = e.quote?;
    if !matches!(q.transport, Some(QuotedTransport::Udp { .. })) {
        return None;
    }
    let payload = q.transport_bytes.get(8..).filter(|p| !p.is_empty())?;
    Some(tftp::decode(payload))
}

fn add_link(l: &mut LayerView, link: &IcmpLink) {
    match link.answers {
        Some(frame) => {
            l.add("answers_frame", frame.0);
            if let Some(stream) = link.stream {
                l.add("answers_stream", stream.0);
            }
        }
        None => {
            l.add("answers_seen", false);
        }
    }
}

/// The ICMP or ICMPv6 layer of an error message: `name` is `ICMP` or `ICMPv6`.
pub fn error_layer(name: &'static str, e: &ErrorMessage<'_>, checksum: u16) -> LayerView {
    let mut l = LayerView::new(OsiLayer::Network, name);
    let mut description = String::new();
    write_title(&mut description, e);
    l.add("type", e.icmp_type)
        .add("code", e.code)
        .add("type_name", e.type_name());
    if let Some(code) = e.code_name() {
        l.add("code_name", code);
    }
    l.add("description", description)
        .add("checksum", text(format_args!("0x{checksum:04x}")));
    if let Some(mtu) = e.mtu() {
        l.add("mtu", mtu);
    }
    if let Some(p) = e.pointer() {
        l.add("pointer", p);
    }
    if let Some(g) = e.gateway() {
        l.add("gateway", text(format_args!("{g}")));
    }
    l.add("quoted_length", e.quoted.len());
    if let Some(q) = &e.quote {
        add_quote(&mut l, q, e.version);
    }
    if let Some(m) = meaning(e) {
        l.add("meaning", m);
    }
    l
}

/// The quoted IP header and transport fields, each named `quoted_*`.
fn add_quote(l: &mut LayerView, q: &Quote<'_>, version: Version) {
    l.add(
        "quoted_ip_version",
        match q.src {
            IpAddr::V4(_) => 4u8,
            IpAddr::V6(_) => 6,
        },
    )
    .add("quoted_src", text(format_args!("{}", q.src)))
    .add("quoted_dst", text(format_args!("{}", q.dst)))
    .add("quoted_protocol", ip_protocol_text(q.protocol.0))
    .add(
        if q.src.is_ipv4() {
            "quoted_ttl"
        } else {
            "quoted_hop_limit"
        },
        q.ttl,
    )
    .add("quoted_total_length", q.datagram_len);
    if let Some(id) = q.identification {
        l.add(
            "quoted_identification",
            text(format_args!(
                "0x{id:0width$x}",
                width = if q.src.is_ipv4() { 4 } else { 8 }
            )),
        );
    }
    if q.fragment_offset != 0 || q.more_fragments {
        l.add("quoted_fragment_offset", q.fragment_offset)
            .add("quoted_more_fragments", q.more_fragments);
    }
    match q.transport {
        Some(QuotedTransport::Udp {
            src_port,
            dst_port,
            length,
        }) => {
            l.add("quoted_src_port", src_port)
                .add("quoted_dst_port", dst_port);
            if let Some(len) = length {
                l.add("quoted_udp_length", len);
            }
        }
        Some(QuotedTransport::Tcp {
            src_port,
            dst_port,
            seq,
        }) => {
            l.add("quoted_src_port", src_port)
                .add("quoted_dst_port", dst_port);
            if let Some(seq) = seq {
                l.add("quoted_tcp_seq_raw", seq);
            }
        }
        Some(QuotedTransport::Icmp { icmp_type, code }) => {
            l.add(
                match version {
                    Version::V4 => "quoted_icmp_type",
                    Version::V6 => "quoted_icmpv6_type",
                },
                icmp_type,
            )
            .add(
                match version {
                    Version::V4 => "quoted_icmp_code",
                    Version::V6 => "quoted_icmpv6_code",
                },
                code,
            );
        }
        None => {}
    }
    if q.is_cut() {
        l.add("quote_cut", Value::Bool(true));
    }
}

/// `UDP`, `TCP`, `ICMP`, or `IP protocol 132`.
fn protocol_name(p: IpNumber, version: Version) -> &'static str {
    match (p, version) {
        (IpNumber::UDP, _) => "UDP",
        (IpNumber::TCP, _) => "TCP",
        (IpNumber::ICMP, _) => "ICMP",
        (IpNumber::IPV6_ICMP, _) => "ICMPv6",
        _ => "IP",
    }
}

/// What the error says about the datagram it answers, in a student's terms, e.g. `nothing
/// listened on 127.0.0.1:8080 (RFC 1122 §4.1.3.1)`; `None` for codes without a clear meaning.
pub fn meaning(e: &ErrorMessage<'_>) -> Option<String> {
    let q = e.quote.as_ref();
    let flow = e.flow();
    let host = q.map(|q| q.dst);
    let len = q.map(|q| q.datagram_len);
    let v4 = e.version == Version::V4;
    let text = match (e.kind, e.version, e.code) {
        (ErrorKind::DestinationUnreachable, Version::V4, 3)
        | (ErrorKind::DestinationUnreachable, Version::V6, 4) => match flow {
            Some(f) if f.protocol == IpNumber::UDP => format!(
                "nothing listened on {}: no socket was bound to that UDP port (RFC 1122 §4.1.3.1)",
                f.dst
            ),
            Some(f) => format!("nothing listened on {}", f.dst),
            None => format!(
                "nothing listened on the port the datagram was sent to{}",
                on(host)
            ),
        },
        (ErrorKind::DestinationUnreachable, Version::V4, 0 | 6 | 11)
        | (ErrorKind::DestinationUnreachable, Version::V6, 0) => format!(
            "a router had no route to the network of {} ({})",
            or_dest(host),
            if v4 { "RFC 792" } else { "RFC 4443 §3.1" }
        ),
        (ErrorKind::DestinationUnreachable, Version::V4, 1 | 7 | 12)
        | (ErrorKind::DestinationUnreachable, Version::V6, 3) => format!(
            "{} could not be reached: the last router got no answer from it on its link ({})",
            or_dest(host),
            if v4 {
                "RFC 1812 §5.2.7.1"
            } else {
                "RFC 4443 §3.1"
            }
        ),
        (ErrorKind::DestinationUnreachable, Version::V4, 2) => format!(
            "{} does not handle IP protocol {} (RFC 1122 §3.2.2.1)",
            or_dest(host),
            q.map_or(0, |q| q.protocol.0)
        ),
        (ErrorKind::DestinationUnreachable, Version::V4, 4) => format!(
            "the {}-byte datagram had Don't Fragment set and a link on the way carries at most {} bytes: send smaller datagrams (RFC 1191)",
            len.unwrap_or(0),
            e.mtu().unwrap_or(0)
        ),
        (ErrorKind::DestinationUnreachable, Version::V4, 5) => {
            "the source route in the datagram could not be followed (RFC 792)".to_string()
        }
        (ErrorKind::DestinationUnreachable, Version::V4, 9 | 10 | 13)
        | (ErrorKind::DestinationUnreachable, Version::V6, 1 | 5 | 6) => format!(
            "a firewall or a route on the way refused traffic to {} ({})",
            flow.map_or_else(|| or_dest(host), |f| f.dst.to_string()),
            if v4 {
                "RFC 1812 §5.2.7.1"
            } else {
                "RFC 4443 §3.1"
            }
        ),
        (ErrorKind::DestinationUnreachable, Version::V4, 14 | 15) => {
            "refused because of the datagram's IP precedence (RFC 1812 §5.3.7)".to_string()
        }
        (ErrorKind::PacketTooBig, _, _) => format!(
            "the {}-byte packet is larger than a link on the way carries ({} bytes); IPv6 routers never fragment, so the sender must send smaller packets (RFC 8201)",
            len.unwrap_or(0),
            e.mtu().unwrap_or(0)
        ),
        (ErrorKind::SourceQuench, _, _) => {
            "the receiver asked the sender to slow down (deprecated by RFC 6633)".to_string()
        }
        (ErrorKind::Redirect, _, _) => format!(
            "a router says traffic for {} should go through {} (RFC 792)",
            or_dest(host),
            e.gateway()
                .map_or_else(|| "another gateway".to_string(), |g| g.to_string())
        ),
        (ErrorKind::TimeExceeded, _, 0) => format!(
            "the {} ran out before the datagram reached {}: a router dropped it (traceroute does this on purpose; otherwise a routing loop) ({})",
            if v4 { "TTL" } else { "hop limit" },
            or_dest(host),
            if v4 { "RFC 792" } else { "RFC 4443 §3.3" }
        ),
        (ErrorKind::TimeExceeded, _, 1) => format!(
            "{} gave up reassembling the fragments of this datagram: a fragment was lost ({})",
            or_dest(host),
            if v4 { "RFC 792" } else { "RFC 8200 §4.5" }
        ),
        (ErrorKind::ParameterProblem, _, _) => match e.pointer() {
            Some(p) => format!(
                "a router or {} rejected a header field at byte {p} of the datagram ({})",
                or_dest(host),
                if v4 { "RFC 792" } else { "RFC 4443 §3.4" }
            ),
            None => format!("a router or {} rejected a header field", or_dest(host)),
        },
        _ => return None,
    };
    Some(text)
}

/// ` on 192.0.2.1`, or nothing.
fn on(host: Option<IpAddr>) -> String {
    host.map_or_else(String::new, |h| format!(" on {h}"))
}

/// The destination host, or `the destination`.
fn or_dest(host: Option<IpAddr>) -> String {
    host.map_or_else(|| "the destination".to_string(), |h| h.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::icmp::decode_v4;

    /// Port unreachable quoting UDP 127.0.0.1:49213 → 127.0.0.1:8080.
    const PORT_UNREACHABLE: [u8; 36] = [
        3, 3, 0, 0, 0, 0, 0, 0, // type 3 code 3, checksum, unused
        0x45, 0x00, 0x00, 0x25, 0xab, 0xcd, 0x40, 0x00, // IPv4, total length 37, id, DF
        0x40, 0x11, 0x00, 0x00, 127, 0, 0, 1, 127, 0, 0, 1, // TTL 64, UDP, addresses
        0xc0, 0x3d, 0x1f, 0x90, 0x00, 0x11, 0x00, 0x00, // ports 49213 → 8080, length 17
    ];

    #[test]
    fn port_unreachable_info_and_meaning() {
        let e = decode_v4(&PORT_UNREACHABLE).unwrap();
        let mut s = String::new();
        write_info(&mut s, &e);
        assert_eq!(
            s,
            "Destination unreachable (Port unreachable) for UDP 127.0.0.1:49213 → 127.0.0.1:8080"
        );
        assert_eq!(
            meaning(&e).unwrap(),
            "nothing listened on 127.0.0.1:8080: no socket was bound to that UDP port (RFC 1122 §4.1.3.1)"
        );
        let l = error_layer("ICMP", &e, 0xfc1f);
        assert_eq!(l.field("quoted_dst_port"), Some(&Value::Int(8080)));
        assert_eq!(l.field("quoted_udp_length"), Some(&Value::Int(17)));
        assert_eq!(
            l.field("code_name").unwrap().to_string(),
            "Port unreachable"
        );
        assert_eq!(
            l.field("quoted_identification").unwrap().to_string(),
            "0xabcd"
        );
        assert_eq!(l.field("quote_cut"), None);
    }

    #[test]
    fn titles_name_the_code_or_its_number() {
        let mut m = PORT_UNREACHABLE;
        m[1] = 4;
        m[6] = 0x05;
        m[7] = 0x78;
        let mut s = String::new();
        write_title(&mut s, &decode_v4(&m).unwrap());
        assert_eq!(
            s,
            "Destination unreachable (Fragmentation needed, next-hop MTU 1400)"
        );
        m[1] = 16;
        let mut s = String::new();
        write_title(&mut s, &decode_v4(&m).unwrap());
        assert_eq!(s, "Destination unreachable (code 16)");
        assert_eq!(meaning(&decode_v4(&m).unwrap()), None);
        m[0] = 4;
        m[1] = 0;
        let mut s = String::new();
        write_title(&mut s, &decode_v4(&m).unwrap());
        assert_eq!(s, "Source quench (flow control)");
    }

    proptest::proptest! {
        #[test]
        fn any_error_bytes_are_shown_without_panic(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 8..120),
            v6 in proptest::prelude::any::<bool>(),
        ) {
            let e = if v6 {
                crate::decode::icmp::decode_v6(&bytes)
            } else {
                decode_v4(&bytes)
            };
            if let Some(e) = e {
                let mut s = String::new();
                write_info(&mut s, &e);
                proptest::prop_assert!(s.starts_with(e.type_name()));
                let _ = (meaning(&e), error_layer("ICMP", &e, 0));
            }
        }
    }

    #[test]
    fn every_prefix_has_a_title_and_no_panic() {
        for n in 8..=PORT_UNREACHABLE.len() {
            let e = decode_v4(&PORT_UNREACHABLE[..n]).unwrap();
            let mut s = String::new();
            write_info(&mut s, &e);
            assert!(
                s.starts_with("Destination unreachable (Port unreachable)"),
                "{n}: {s}"
            );
            let _ = (meaning(&e), error_layer("ICMP", &e, 0));
        }
    }
}
