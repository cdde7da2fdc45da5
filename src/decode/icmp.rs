//! ICMP and ICMPv6 error messages: type and code with their names, and the datagram they quote.
//!
//! In: the bytes of an ICMP or ICMPv6 message (or the packet that carries one). Out: an
//! [`ErrorMessage`] view for the error types — ICMPv4 Destination Unreachable, Source Quench,
//! Redirect, Time Exceeded, Parameter Problem (RFC 792, RFC 1812 §5.2.7); ICMPv6 Destination
//! Unreachable, Packet Too Big, Time Exceeded, Parameter Problem (RFC 4443 §3) — whose
//! [`Quote`] decodes the quoted IP header and the first bytes of its transport header as far as
//! they were quoted and captured. Names are Wireshark's, as `&'static str`; nothing is allocated.
//!
//! It does not link an error to the datagram or connection it answers (that is for the
//! analyses, through [`Quote::flow`]) and builds no display text (that is `view`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use etherparse::{IpNumber, TransportSlice};
use serde::Serialize;

use super::Packet;

/// Length of an ICMP or ICMPv6 error header: type, code, checksum and four more bytes.
const HEADER_LEN: usize = 8;
/// Length of the fixed IPv6 header.
const IPV6_HEADER_LEN: usize = 40;

/// ICMP for IPv4 or ICMPv6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Version {
    /// ICMP (RFC 792), IP protocol 1.
    V4,
    /// ICMPv6 (RFC 4443), Next Header 58.
    V6,
}

/// The error message types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// ICMP type 3, ICMPv6 type 1.
    DestinationUnreachable,
    /// ICMP type 4 (deprecated by RFC 6633).
    SourceQuench,
    /// ICMP type 5.
    Redirect,
    /// ICMP type 11, ICMPv6 type 3.
    TimeExceeded,
    /// ICMP type 12, ICMPv6 type 4.
    ParameterProblem,
    /// ICMPv6 type 2.
    PacketTooBig,
}

impl ErrorKind {
    /// The error kind of an ICMP or ICMPv6 type, or `None` for other messages (echo, ...).
    pub fn from_type(version: Version, icmp_type: u8) -> Option<ErrorKind> {
        match (version, icmp_type) {
            (Version::V4, 3) | (Version::V6, 1) => Some(ErrorKind::DestinationUnreachable),
            (Version::V4, 4) => Some(ErrorKind::SourceQuench),
            (Version::V4, 5) => Some(ErrorKind::Redirect),
            (Version::V4, 11) | (Version::V6, 3) => Some(ErrorKind::TimeExceeded),
            (Version::V4, 12) | (Version::V6, 4) => Some(ErrorKind::ParameterProblem),
            (Version::V6, 2) => Some(ErrorKind::PacketTooBig),
            _ => None,
        }
    }
}

/// An ICMP or ICMPv6 error message, borrowed from the packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorMessage<'a> {
    /// ICMP or ICMPv6.
    pub version: Version,
    /// The message type as a kind.
    pub kind: ErrorKind,
    /// The type number (`icmp.type`, `icmpv6.type`).
    pub icmp_type: u8,
    /// The code number (`icmp.code`, `icmpv6.code`).
    pub code: u8,
    /// Bytes 4 to 7 of the header (MTU, pointer, gateway or unused, depending on the type).
    pub rest_of_header: [u8; 4],
    /// The quoted datagram as captured (RFC 4884: only the "original datagram" part when the
    /// message carries a length and extensions).
    pub quoted: &'a [u8],
    /// The quoted datagram decoded, when its IP header is whole.
    pub quote: Option<Quote<'a>>,
}

impl<'a> ErrorMessage<'a> {
    /// Wireshark's name of the type, e.g. `Destination unreachable` (ICMP) or
    /// `Destination Unreachable` (ICMPv6).
    pub fn type_name(&self) -> &'static str {
        match (self.version, self.kind) {
            (Version::V4, ErrorKind::DestinationUnreachable) => "Destination unreachable",
            (Version::V4, ErrorKind::SourceQuench) => "Source quench (flow control)",
            (Version::V4, ErrorKind::Redirect) => "Redirect",
            (Version::V4, ErrorKind::TimeExceeded) => "Time-to-live exceeded",
            (Version::V4, ErrorKind::ParameterProblem) => "Parameter problem",
            (Version::V6, ErrorKind::DestinationUnreachable) => "Destination Unreachable",
            (Version::V6, ErrorKind::PacketTooBig) => "Packet Too Big",
            (Version::V6, ErrorKind::TimeExceeded) => "Time Exceeded",
            (Version::V6, ErrorKind::ParameterProblem) => "Parameter Problem",
            // Not produced: these kinds exist in one version only.
            (Version::V4, ErrorKind::PacketTooBig) => "Packet Too Big",
            (Version::V6, ErrorKind::SourceQuench) => "Source quench (flow control)",
            (Version::V6, ErrorKind::Redirect) => "Redirect",
        }
    }

    /// Wireshark's name of the code, e.g. `Port unreachable`; `None` for a code it does not
    /// name (and for types without codes: Source Quench, Packet Too Big).
    pub fn code_name(&self) -> Option<&'static str> {
        match self.version {
            Version::V4 => v4_code_name(self.kind, self.code),
            Version::V6 => v6_code_name(self.kind, self.code),
        }
    }

    /// The MTU of the next hop: ICMP Fragmentation needed (RFC 1191 §4) or ICMPv6 Packet Too
    /// Big (RFC 4443 §3.2).
    pub fn mtu(&self) -> Option<u32> {
        let [a, b, c, d] = self.rest_of_header;
        match (self.version, self.kind, self.code) {
            (Version::V4, ErrorKind::DestinationUnreachable, 4) => {
                Some(u32::from(u16::from_be_bytes([c, d])))
            }
            (Version::V6, ErrorKind::PacketTooBig, _) => Some(u32::from_be_bytes([a, b, c, d])),
            _ => None,
        }
    }

    /// The offset of the octet in error: ICMP Parameter Problem (RFC 792: one byte) or ICMPv6
    /// Parameter Problem (RFC 4443 §3.4: four bytes).
    pub fn pointer(&self) -> Option<u32> {
        let [a, b, c, d] = self.rest_of_header;
        match (self.version, self.kind) {
            (Version::V4, ErrorKind::ParameterProblem) => Some(u32::from(a)),
            (Version::V6, ErrorKind::ParameterProblem) => Some(u32::from_be_bytes([a, b, c, d])),
            _ => None,
        }
    }

    /// The gateway a Redirect points to (RFC 792).
    pub fn gateway(&self) -> Option<Ipv4Addr> {
        (self.kind == ErrorKind::Redirect && self.version == Version::V4)
            .then(|| Ipv4Addr::from(self.rest_of_header))
    }

    /// The flow the quoted datagram belongs to, as its sender saw it (see [`Quote::flow`]).
    pub fn flow(&self) -> Option<QuotedFlow> {
        self.quote.as_ref().and_then(Quote::flow)
    }
}

/// The datagram an error quotes: its IP header fields and the start of its transport header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quote<'a> {
    /// Source address (the host the error is sent back to).
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Upper-layer protocol: IPv4 Protocol, or for IPv6 the Next Header after the quoted
    /// extension headers (the last one read when the quote ends inside them).
    pub protocol: IpNumber,
    /// Time to Live or Hop Limit as the datagram had it where the error was raised.
    pub ttl: u8,
    /// IPv4 Identification, or the identification of a quoted IPv6 Fragment header.
    pub identification: Option<u32>,
    /// Fragment offset in bytes (0 when not a fragment).
    pub fragment_offset: u32,
    /// More Fragments flag.
    pub more_fragments: bool,
    /// Length of the original datagram from its header (IPv4 Total Length, IPv6 40 + Payload
    /// Length).
    pub datagram_len: usize,
    /// Length of the quoted IP header (IPv4 IHL × 4; IPv6 40 + the extension headers read).
    pub header_len: usize,
    /// The quoted bytes after the IP header (and IPv6 extension headers).
    pub transport_bytes: &'a [u8],
    /// The transport header fields that were quoted.
    pub transport: Option<QuotedTransport>,
}

impl Quote<'_> {
    /// The flow key of a quoted TCP or UDP datagram: protocol and both socket addresses as the
    /// datagram's sender saw them (source = the host the error went back to). Matches the key of
    /// the conversation the datagram belongs to.
    pub fn flow(&self) -> Option<QuotedFlow> {
        let (src_port, dst_port) = match self.transport? {
            QuotedTransport::Udp {
                src_port, dst_port, ..
            }
            | QuotedTransport::Tcp {
                src_port, dst_port, ..
            } => (src_port, dst_port),
            QuotedTransport::Icmp { .. } => return None,
        };
        Some(QuotedFlow {
            protocol: self.protocol,
            src: SocketAddr::new(self.src, src_port),
            dst: SocketAddr::new(self.dst, dst_port),
        })
    }

    /// True when fewer transport bytes were quoted (or captured) than RFC 792 asks for: the
    /// first 8 bytes of the data, or all of it when the datagram is shorter.
    pub fn is_cut(&self) -> bool {
        if self.fragment_offset != 0 {
            return false;
        }
        let expected = HEADER_LEN.min(self.datagram_len.saturating_sub(self.header_len));
        self.transport_bytes.len() < expected
    }
}

/// The transport fields of a quoted datagram, as far as they were quoted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotedTransport {
    /// UDP ports and length.
    Udp {
        /// Source port.
        src_port: u16,
        /// Destination port.
        dst_port: u16,
        /// Length field, if quoted.
        length: Option<u16>,
    },
    /// TCP ports and sequence number.
    Tcp {
        /// Source port.
        src_port: u16,
        /// Destination port.
        dst_port: u16,
        /// Raw sequence number, if quoted (RFC 792's 64 bits include it).
        seq: Option<u32>,
    },
    /// A quoted ICMP or ICMPv6 message (an echo request that ran out of TTL, ...).
    Icmp {
        /// Its type.
        icmp_type: u8,
        /// Its code.
        code: u8,
    },
}

/// A TCP or UDP flow as the sender of a quoted datagram saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct QuotedFlow {
    /// TCP or UDP.
    pub protocol: IpNumber,
    /// The sender's address and port.
    pub src: SocketAddr,
    /// The address and port it was sent to.
    pub dst: SocketAddr,
}

/// The ICMP or ICMPv6 error a decoded packet carries, if it carries one.
pub fn decode_error<'a>(packet: &Packet<'a>) -> Option<ErrorMessage<'a>> {
    decode_transport_error(packet.transport()?)
}

/// The error an ICMP or ICMPv6 transport slice holds, if it is an error message.
pub fn decode_transport_error<'a>(transport: &TransportSlice<'a>) -> Option<ErrorMessage<'a>> {
    match transport {
        TransportSlice::Icmpv4(icmp) => decode_v4(icmp.slice()),
        TransportSlice::Icmpv6(icmp) => decode_v6(icmp.slice()),
        _ => None,
    }
}

/// Decodes an ICMP message (starting at its type byte); `None` when it is not an error message
/// or is shorter than the 8-byte header.
pub fn decode_v4(message: &[u8]) -> Option<ErrorMessage<'_>> {
    decode(Version::V4, message)
}

/// Decodes an ICMPv6 message (starting at its type byte); `None` when it is not an error
/// message or is shorter than the 8-byte header.
pub fn decode_v6(message: &[u8]) -> Option<ErrorMessage<'_>> {
    decode(Version::V6, message)
}

fn decode(version: Version, message: &[u8]) -> Option<ErrorMessage<'_>> {
    let (header, body) = message.split_first_chunk::<HEADER_LEN>()?;
    let [icmp_type, code, _, _, a, b, c, d] = *header;
    let kind = ErrorKind::from_type(version, icmp_type)?;
    let rest_of_header = [a, b, c, d];
    // RFC 4884 §4.1/§4.4: a non-zero length gives the original datagram's part of the body
    // (ICMP: second byte, in 32-bit words; ICMPv6: first byte, in 64-bit words), with
    // extensions after it. Only for the message types that define it.
    let rfc4884_len = match (version, kind) {
        (
            Version::V4,
            ErrorKind::DestinationUnreachable
            | ErrorKind::TimeExceeded
            | ErrorKind::ParameterProblem,
        ) => usize::from(b) * 4,
        (Version::V6, ErrorKind::DestinationUnreachable | ErrorKind::TimeExceeded) => {
            usize::from(a) * 8
        }
        _ => 0,
    };
    let quoted = match rfc4884_len {
        0 => body,
        n => body.get(..n).unwrap_or(body),
    };
    let quote = match version {
        Version::V4 => quote_v4(quoted),
        Version::V6 => quote_v6(quoted),
    };
    Some(ErrorMessage {
        version,
        kind,
        icmp_type,
        code,
        rest_of_header,
        quoted,
        quote,
    })
}

/// RFC 792: the Internet header + 64 bits of the original datagram.
fn quote_v4(q: &[u8]) -> Option<Quote<'_>> {
    let fixed = q.first_chunk::<20>()?;
    if fixed[0] >> 4 != 4 {
        return None;
    }
    let header_len = usize::from(fixed[0] & 0x0f) * 4;
    let flags_offset = u16::from_be_bytes([fixed[6], fixed[7]]);
    let fragment_offset = u32::from(flags_offset & 0x1fff) * 8;
    let protocol = IpNumber(fixed[9]);
    let transport_bytes = q.get(header_len.max(20)..).unwrap_or_default();
    let transport = if fragment_offset == 0 && header_len >= 20 {
        quoted_transport(protocol, IpNumber::ICMP, transport_bytes)
    } else {
        None
    };
    Some(Quote {
        src: IpAddr::V4(Ipv4Addr::new(fixed[12], fixed[13], fixed[14], fixed[15])),
        dst: IpAddr::V4(Ipv4Addr::new(fixed[16], fixed[17], fixed[18], fixed[19])),
        protocol,
        ttl: fixed[8],
        identification: Some(u32::from(u16::from_be_bytes([fixed[4], fixed[5]]))),
        fragment_offset,
        more_fragments: flags_offset & 0x2000 != 0,
        datagram_len: usize::from(u16::from_be_bytes([fixed[2], fixed[3]])),
        header_len: header_len.max(20),
        transport_bytes,
        transport,
    })
}

/// RFC 4443 §2.4(c): as much of the invoking packet as fits in the minimum IPv6 MTU.
fn quote_v6(q: &[u8]) -> Option<Quote<'_>> {
    let fixed = q.first_chunk::<IPV6_HEADER_LEN>()?;
    if fixed[0] >> 4 != 6 {
        return None;
    }
    let src = Ipv6Addr::from(*fixed[8..].first_chunk::<16>()?);
    let dst = Ipv6Addr::from(*fixed[24..].first_chunk::<16>()?);
    let mut next = fixed[6];
    let mut rest = q.get(IPV6_HEADER_LEN..).unwrap_or_default();
    let mut identification = None;
    let mut fragment_offset = 0;
    let mut more_fragments = false;
    // Walk the quoted extension headers (RFC 8200 §4); stop where the quote ends.
    let complete = loop {
        let len = match next {
            0 | 43 | 60 => rest.get(1).map(|l| (usize::from(*l) + 1) * 8),
            51 => rest.get(1).map(|l| (usize::from(*l) + 2) * 4),
            44 => {
                if let Some(f) = rest.first_chunk::<8>() {
                    let offset_flags = u16::from_be_bytes([f[2], f[3]]);
                    fragment_offset = u32::from(offset_flags & 0xfff8);
                    more_fragments = offset_flags & 1 != 0;
                    identification = Some(u32::from_be_bytes([f[4], f[5], f[6], f[7]]));
                    Some(8)
                } else {
                    None
                }
            }
            _ => break true,
        };
        match (len, rest.first()) {
            (Some(len), Some(&n)) if len <= rest.len() => {
                next = n;
                rest = rest.get(len..).unwrap_or_default();
            }
            _ => break false,
        }
    };
    let protocol = IpNumber(next);
    let transport = if complete && fragment_offset == 0 {
        quoted_transport(protocol, IpNumber::IPV6_ICMP, rest)
    } else {
        None
    };
    Some(Quote {
        src: IpAddr::V6(src),
        dst: IpAddr::V6(dst),
        protocol,
        ttl: fixed[7],
        identification,
        fragment_offset,
        more_fragments,
        datagram_len: IPV6_HEADER_LEN + usize::from(u16::from_be_bytes([fixed[4], fixed[5]])),
        header_len: q.len() - rest.len(),
        transport_bytes: if complete { rest } else { &[] },
        transport,
    })
}

/// The transport fields in the first quoted bytes, as far as they go.
fn quoted_transport(protocol: IpNumber, icmp: IpNumber, b: &[u8]) -> Option<QuotedTransport> {
    let word16 = |at: usize| {
        b.get(at..)
            .and_then(|s| s.first_chunk::<2>())
            .map(|s| u16::from_be_bytes(*s))
    };
    match protocol {
        IpNumber::UDP => Some(QuotedTransport::Udp {
            src_port: word16(0)?,
            dst_port: word16(2)?,
            length: word16(4),
        }),
        IpNumber::TCP => Some(QuotedTransport::Tcp {
            src_port: word16(0)?,
            dst_port: word16(2)?,
            seq: b
                .get(4..)
                .and_then(|s| s.first_chunk::<4>())
                .map(|s| u32::from_be_bytes(*s)),
        }),
        p if p == icmp => Some(QuotedTransport::Icmp {
            icmp_type: *b.first()?,
            code: *b.get(1)?,
        }),
        _ => None,
    }
}

/// Wireshark's ICMP code names (packet-icmp.c), from RFC 792, RFC 1812 §5.2.7.1 and RFC 1191.
fn v4_code_name(kind: ErrorKind, code: u8) -> Option<&'static str> {
    Some(match (kind, code) {
        (ErrorKind::DestinationUnreachable, 0) => "Network unreachable",
        (ErrorKind::DestinationUnreachable, 1) => "Host unreachable",
        (ErrorKind::DestinationUnreachable, 2) => "Protocol unreachable",
        (ErrorKind::DestinationUnreachable, 3) => "Port unreachable",
        (ErrorKind::DestinationUnreachable, 4) => "Fragmentation needed",
        (ErrorKind::DestinationUnreachable, 5) => "Source route failed",
        (ErrorKind::DestinationUnreachable, 6) => "Destination network unknown",
        (ErrorKind::DestinationUnreachable, 7) => "Destination host unknown",
        (ErrorKind::DestinationUnreachable, 8) => "Source host isolated",
        (ErrorKind::DestinationUnreachable, 9) => "Network administratively prohibited",
        (ErrorKind::DestinationUnreachable, 10) => "Host administratively prohibited",
        (ErrorKind::DestinationUnreachable, 11) => "Network unreachable for TOS",
        (ErrorKind::DestinationUnreachable, 12) => "Host unreachable for TOS",
        (ErrorKind::DestinationUnreachable, 13) => "Communication administratively filtered",
        (ErrorKind::DestinationUnreachable, 14) => "Host precedence violation",
        (ErrorKind::DestinationUnreachable, 15) => "Precedence cutoff in effect",
        (ErrorKind::Redirect, 0) => "Redirect for network",
        (ErrorKind::Redirect, 1) => "Redirect for host",
        (ErrorKind::Redirect, 2) => "Redirect for TOS and network",
        (ErrorKind::Redirect, 3) => "Redirect for TOS and host",
        (ErrorKind::TimeExceeded, 0) => "Time to live exceeded in transit",
        (ErrorKind::TimeExceeded, 1) => "Fragment reassembly time exceeded",
        (ErrorKind::ParameterProblem, 0) => "Pointer indicates the error",
        (ErrorKind::ParameterProblem, 1) => "Required option missing",
        (ErrorKind::ParameterProblem, 2) => "Bad length",
        _ => return None,
    })
}

/// Wireshark's ICMPv6 code names (packet-icmpv6.c), from RFC 4443 §3, RFC 6554 and RFC 7112.
fn v6_code_name(kind: ErrorKind, code: u8) -> Option<&'static str> {
    Some(match (kind, code) {
        (ErrorKind::DestinationUnreachable, 0) => "no route to destination",
        (ErrorKind::DestinationUnreachable, 1) => "Administratively prohibited",
        (ErrorKind::DestinationUnreachable, 2) => "Beyond scope of source address",
        (ErrorKind::DestinationUnreachable, 3) => "Address unreachable",
        (ErrorKind::DestinationUnreachable, 4) => "Port unreachable",
        (ErrorKind::DestinationUnreachable, 5) => "Source address failed ingress/egress policy",
        (ErrorKind::DestinationUnreachable, 6) => "Reject route to destination",
        (ErrorKind::DestinationUnreachable, 7) => "Error in Source Routing Header",
        (ErrorKind::TimeExceeded, 0) => "hop limit exceeded in transit",
        (ErrorKind::TimeExceeded, 1) => "fragment reassembly time exceeded",
        (ErrorKind::ParameterProblem, 0) => "erroneous header field encountered",
        (ErrorKind::ParameterProblem, 1) => "unrecognized Next Header type encountered",
        (ErrorKind::ParameterProblem, 2) => "unrecognized IPv6 option encountered",
        (ErrorKind::ParameterProblem, 3) => "IPv6 First Fragment has incomplete IPv6 Header Chain",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ICMP Port unreachable quoting a UDP datagram 127.0.0.1:49213 → 127.0.0.1:8080 (9 data
    /// bytes, not quoted past the first 8 bytes of the UDP header).
    const PORT_UNREACHABLE: [u8; 36] = [
        3, 3, 0, 0, // type 3 Destination unreachable, code 3 Port unreachable, checksum
        0, 0, 0, 0, // unused
        0x45, 0x00, 0x00, 0x25, // quoted IPv4: IHL 5, total length 37
        0xab, 0xcd, 0x40, 0x00, // identification 0xabcd, DF, offset 0
        0x40, 0x11, 0x00, 0x00, // TTL 64, protocol UDP, checksum
        127, 0, 0, 1, // source
        127, 0, 0, 1, // destination
        0xc0, 0x3d, 0x1f, 0x90, // UDP source port 49213, destination port 8080
        0x00, 0x11, 0x00, 0x00, // UDP length 17, checksum
    ];

    /// IPv6 header (Next Header Destination Options, payload length 24) + Destination Options
    /// (next: Fragment, 8 bytes) + Fragment header (next: UDP, offset 0, M, id 7) + UDP ports.
    fn v6_quote() -> Vec<u8> {
        let mut q = vec![0x60, 0, 0, 0, 0, 24, 60, 1];
        q.extend_from_slice(&[
            0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ]);
        q.extend_from_slice(&[
            0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x20,
        ]);
        q.extend_from_slice(&[44, 0, 1, 4, 0, 0, 0, 0]); // Destination Options, PadN
        q.extend_from_slice(&[17, 0, 0x00, 0x01, 0, 0, 0, 7]); // Fragment: UDP, offset 0, M, id 7
        q.extend_from_slice(&[0x1f, 0x40, 0x00, 0x35, 0x00, 0x10, 0, 0]); // UDP 8000 → 53, len 16
        q
    }

    #[test]
    fn port_unreachable_names_the_udp_flow() {
        let e = decode_v4(&PORT_UNREACHABLE).unwrap();
        assert_eq!(e.kind, ErrorKind::DestinationUnreachable);
        assert_eq!(e.type_name(), "Destination unreachable");
        assert_eq!(e.code_name(), Some("Port unreachable"));
        assert_eq!(e.mtu(), None);
        let q = e.quote.unwrap();
        assert_eq!(q.protocol, IpNumber::UDP);
        assert_eq!(q.identification, Some(0xabcd));
        assert_eq!(q.datagram_len, 37);
        assert_eq!(q.ttl, 64);
        assert!(!q.is_cut());
        assert_eq!(
            q.transport,
            Some(QuotedTransport::Udp {
                src_port: 49213,
                dst_port: 8080,
                length: Some(17)
            })
        );
        assert_eq!(
            e.flow(),
            Some(QuotedFlow {
                protocol: IpNumber::UDP,
                src: "127.0.0.1:49213".parse().unwrap(),
                dst: "127.0.0.1:8080".parse().unwrap(),
            })
        );
    }

    #[test]
    fn every_prefix_decodes_as_far_as_it_goes() {
        for n in 0..=PORT_UNREACHABLE.len() {
            let e = decode_v4(&PORT_UNREACHABLE[..n]);
            assert_eq!(e.is_some(), n >= 8, "prefix {n}");
            let Some(e) = e else { continue };
            assert_eq!(e.quote.is_some(), n >= 28, "prefix {n}");
            let Some(q) = e.quote else { continue };
            assert_eq!(q.flow().is_some(), n >= 32, "prefix {n}");
            assert_eq!(q.is_cut(), n < 36, "prefix {n}");
            if let Some(QuotedTransport::Udp { length, .. }) = q.transport {
                assert_eq!(length.is_some(), n >= 34, "prefix {n}");
            }
        }
        let q = v6_quote();
        let mut msg = vec![1, 4, 0, 0, 0, 0, 0, 0];
        msg.extend_from_slice(&q);
        for n in 0..=msg.len() {
            let e = decode_v6(&msg[..n]);
            let Some(e) = e else {
                assert!(n < 8);
                continue;
            };
            assert_eq!(e.quote.is_some(), n >= 48, "prefix {n}");
            // The ports come after 40 + 8 + 8 quoted header bytes.
            assert_eq!(e.flow().is_some(), n >= 8 + 56 + 4, "prefix {n}");
        }
    }

    #[test]
    fn type_specific_fields() {
        let mut m = PORT_UNREACHABLE;
        m[1] = 4; // Fragmentation needed, next-hop MTU 1400 (RFC 1191)
        m[6] = 0x05;
        m[7] = 0x78;
        let e = decode_v4(&m).unwrap();
        assert_eq!(e.code_name(), Some("Fragmentation needed"));
        assert_eq!(e.mtu(), Some(1400));
        let mut m = PORT_UNREACHABLE;
        m[0] = 5; // Redirect for host, gateway 192.0.2.1
        m[1] = 1;
        m[4..8].copy_from_slice(&[192, 0, 2, 1]);
        let e = decode_v4(&m).unwrap();
        assert_eq!(e.type_name(), "Redirect");
        assert_eq!(e.code_name(), Some("Redirect for host"));
        assert_eq!(e.gateway(), Some(Ipv4Addr::new(192, 0, 2, 1)));
        assert!(e.flow().is_some());
        let mut m = PORT_UNREACHABLE;
        m[0] = 12; // Parameter problem, pointer 20
        m[1] = 0;
        m[4] = 20;
        let e = decode_v4(&m).unwrap();
        assert_eq!(e.pointer(), Some(20));
        assert_eq!(e.code_name(), Some("Pointer indicates the error"));
        let mut m = PORT_UNREACHABLE;
        m[0] = 4; // Source quench: no code names
        m[1] = 0;
        let e = decode_v4(&m).unwrap();
        assert_eq!(e.type_name(), "Source quench (flow control)");
        assert_eq!(e.code_name(), None);
        let mut m = PORT_UNREACHABLE;
        m[0] = 11;
        m[1] = 0;
        assert_eq!(
            decode_v4(&m).unwrap().code_name(),
            Some("Time to live exceeded in transit")
        );
    }

    #[test]
    fn informational_messages_are_not_errors() {
        let mut m = PORT_UNREACHABLE;
        for t in [0, 8, 13, 1, 2] {
            m[0] = t;
            assert_eq!(decode_v4(&m), None, "icmp type {t}");
        }
        for t in [128, 129, 133, 135, 5, 11] {
            m[0] = t;
            assert_eq!(decode_v6(&m), None, "icmpv6 type {t}");
        }
    }

    #[test]
    fn ipv6_quote_walks_extension_headers() {
        let mut msg = vec![2, 0, 0, 0, 0, 0, 0x05, 0x00]; // Packet Too Big, MTU 1280
        msg.extend_from_slice(&v6_quote());
        let e = decode_v6(&msg).unwrap();
        assert_eq!(e.type_name(), "Packet Too Big");
        assert_eq!(e.code_name(), None);
        assert_eq!(e.mtu(), Some(1280));
        let q = e.quote.unwrap();
        assert_eq!(q.protocol, IpNumber::UDP);
        assert_eq!(q.identification, Some(7));
        assert!(q.more_fragments);
        assert_eq!(q.header_len, 56);
        assert_eq!(q.datagram_len, 64);
        assert_eq!(q.ttl, 1);
        let flow = q.flow().unwrap();
        assert_eq!(flow.src, "[2001:db8::10]:8000".parse().unwrap());
        assert_eq!(flow.dst, "[2001:db8:1::20]:53".parse().unwrap());
        // A non-first fragment quotes no transport header.
        let mut msg = vec![3, 1, 0, 0, 0, 0, 0, 0];
        let mut q = v6_quote();
        q[50] = 0x00; // offset 20 units = 160 bytes, M clear
        q[51] = 0xa0;
        msg.extend_from_slice(&q);
        let e = decode_v6(&msg).unwrap();
        assert_eq!(e.code_name(), Some("fragment reassembly time exceeded"));
        let q = e.quote.unwrap();
        assert_eq!(q.fragment_offset, 160);
        assert_eq!(q.transport, None);
        assert!(!q.is_cut());
    }

    #[test]
    fn ipv6_parameter_problem_pointer() {
        let mut msg = vec![4, 1, 0, 0, 0, 0, 0, 40];
        msg.extend_from_slice(&v6_quote());
        let e = decode_v6(&msg).unwrap();
        assert_eq!(e.type_name(), "Parameter Problem");
        assert_eq!(
            e.code_name(),
            Some("unrecognized Next Header type encountered")
        );
        assert_eq!(e.pointer(), Some(40));
    }

    #[test]
    fn quoted_icmp_echo_and_ipv4_options() {
        let mut m = PORT_UNREACHABLE.to_vec();
        m[0] = 11;
        m[1] = 0;
        m[17] = 1; // protocol ICMP
        m[28..32].copy_from_slice(&[8, 0, 0x12, 0x34]); // echo request
        let q = decode_v4(&m).unwrap().quote.unwrap();
        assert_eq!(
            q.transport,
            Some(QuotedTransport::Icmp {
                icmp_type: 8,
                code: 0
            })
        );
        assert_eq!(q.flow(), None);
        // IHL 6: four option bytes before the UDP header.
        let mut m = PORT_UNREACHABLE[..28].to_vec();
        m[8] = 0x46;
        m.extend_from_slice(&[1, 1, 1, 0]);
        m.extend_from_slice(&PORT_UNREACHABLE[28..]);
        let q = decode_v4(&m).unwrap().quote.unwrap();
        assert_eq!(q.header_len, 24);
        assert_eq!(q.flow().unwrap().dst.port(), 8080);
    }

    #[test]
    fn rfc4884_length_limits_the_quote() {
        // Length 8 words = 32 bytes of original datagram, then 4 bytes of extension header.
        let mut m = PORT_UNREACHABLE.to_vec();
        m[0] = 11;
        m[1] = 0;
        m[5] = 8;
        m.extend_from_slice(&[0x20, 0, 0, 0]);
        let e = decode_v4(&m).unwrap();
        assert_eq!(e.quoted.len(), 32);
        assert_eq!(e.quote.unwrap().transport_bytes.len(), 12);
    }

    #[test]
    fn a_quote_that_is_not_ip_is_not_decoded() {
        let mut m = PORT_UNREACHABLE;
        m[8] = 0x65;
        let e = decode_v4(&m).unwrap();
        assert_eq!(e.quote, None);
        assert_eq!(e.quoted.len(), 28);
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_are_read_without_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..120)) {
            for e in [decode_v4(&bytes), decode_v6(&bytes)].into_iter().flatten() {
                let _ = (e.type_name(), e.code_name(), e.mtu(), e.pointer(), e.gateway(), e.flow());
                proptest::prop_assert!(e.quoted.len() + 8 <= bytes.len());
                if let Some(q) = e.quote {
                    proptest::prop_assert!(q.transport_bytes.len() <= e.quoted.len());
                    let _ = q.is_cut();
                }
            }
        }
    }
}
