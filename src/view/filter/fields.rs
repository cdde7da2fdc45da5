//! The display-filter field table: every name a filter may use, its type, and whether the value
//! comes straight from the decoded packet or from the engine's per-packet annotations.
//!
//! Names and types follow Wireshark 4.0 (`tshark -G fields`); `osi.layer` is pcaplab's own.

/// One display-filter field or protocol.
///
/// A [`FieldSource`](super::FieldSource) is asked for values by `FieldId`; the name a user types
/// is resolved to it once, when the filter is compiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FieldId {
    /// `frame`: the captured bytes.
    Frame,
    /// `frame.number`.
    FrameNumber,
    /// `frame.len`: length on the wire.
    FrameLen,
    /// `frame.cap_len`: captured length.
    FrameCapLen,
    /// `frame.time_relative`: time since the first frame of the capture.
    FrameTimeRelative,
    /// `eth`: the Ethernet II header and what follows it.
    Eth,
    /// `eth.src`.
    EthSrc,
    /// `eth.dst`.
    EthDst,
    /// `eth.addr`: source or destination.
    EthAddr,
    /// `eth.type`: the EtherType of the Ethernet header (0x8100 when a VLAN tag follows).
    EthType,
    /// `vlan`: an 802.1Q / 802.1ad tag (once per tag).
    Vlan,
    /// `vlan.id`.
    VlanId,
    /// `arp`.
    Arp,
    /// `arp.opcode`.
    ArpOpcode,
    /// `ip`: an IPv4 header and its payload.
    Ip,
    /// `ip.src`.
    IpSrc,
    /// `ip.dst`.
    IpDst,
    /// `ip.addr`: source or destination.
    IpAddr,
    /// `ip.proto`.
    IpProto,
    /// `ip.ttl`.
    IpTtl,
    /// `ip.flags.df`.
    IpFlagsDf,
    /// `ip.flags.mf`.
    IpFlagsMf,
    /// `ip.frag_offset`, in 8-byte units as on the wire.
    IpFragOffset,
    /// `ip.len`: total length.
    IpLen,
    /// `ip.id`.
    IpId,
    /// `ip.hdr_len`, in bytes.
    IpHdrLen,
    /// `ipv6`.
    Ipv6,
    /// `ipv6.src`.
    Ipv6Src,
    /// `ipv6.dst`.
    Ipv6Dst,
    /// `ipv6.addr`: source or destination.
    Ipv6Addr,
    /// `ipv6.nxt`: next header of the fixed header.
    Ipv6Nxt,
    /// `ipv6.hlim`.
    Ipv6Hlim,
    /// `ipv6.plen`.
    Ipv6Plen,
    /// `icmp`.
    Icmp,
    /// `icmp.type`.
    IcmpType,
    /// `icmp.code`.
    IcmpCode,
    /// `icmpv6`.
    Icmpv6,
    /// `icmpv6.type`.
    Icmpv6Type,
    /// `icmpv6.code`.
    Icmpv6Code,
    /// `tcp`: the TCP header and its payload.
    Tcp,
    /// `tcp.port`: source or destination.
    TcpPort,
    /// `tcp.srcport`.
    TcpSrcport,
    /// `tcp.dstport`.
    TcpDstport,
    /// `tcp.flags`: the 12 flag bits.
    TcpFlags,
    /// `tcp.flags.cwr`.
    TcpFlagsCwr,
    /// `tcp.flags.ece`.
    TcpFlagsEce,
    /// `tcp.flags.urg`.
    TcpFlagsUrg,
    /// `tcp.flags.ack`.
    TcpFlagsAck,
    /// `tcp.flags.push`.
    TcpFlagsPush,
    /// `tcp.flags.reset`.
    TcpFlagsReset,
    /// `tcp.flags.syn`.
    TcpFlagsSyn,
    /// `tcp.flags.fin`.
    TcpFlagsFin,
    /// `tcp.len`: payload length on the wire.
    TcpLen,
    /// `tcp.seq_raw`: the sequence number as sent.
    TcpSeqRaw,
    /// `tcp.ack_raw`: the acknowledgement number as sent.
    TcpAckRaw,
    /// `tcp.hdr_len`, in bytes.
    TcpHdrLen,
    /// `tcp.window_size_value`: the window field as sent (unscaled).
    TcpWindowSizeValue,
    /// `tcp.urgent_pointer`.
    TcpUrgentPointer,
    /// `tcp.payload`: the captured payload bytes.
    TcpPayload,
    /// `udp`.
    Udp,
    /// `udp.port`: source or destination.
    UdpPort,
    /// `udp.srcport`.
    UdpSrcport,
    /// `udp.dstport`.
    UdpDstport,
    /// `udp.length`: the length field.
    UdpLength,
    /// `udp.payload`: the captured payload bytes.
    UdpPayload,
    /// `osi.layer`: the OSI number of each layer the packet has (pcaplab's own field).
    OsiLayer,
    /// `tcp.stream`: the conversation index.
    TcpStream,
    /// `tcp.seq`: sequence number relative to the direction's first one.
    TcpSeq,
    /// `tcp.ack`: acknowledgement number relative to the peer's first sequence number.
    TcpAck,
    /// `tcp.nxtseq`: the relative sequence number after this segment.
    TcpNxtseq,
    /// `tcp.window_size`: the window after scaling.
    TcpWindowSize,
    /// `tcp.analysis.flags`: any TCP analysis finding on this segment.
    TcpAnalysisFlags,
    /// `tcp.analysis.retransmission`.
    TcpAnalysisRetransmission,
    /// `tcp.analysis.fast_retransmission`.
    TcpAnalysisFastRetransmission,
    /// `tcp.analysis.spurious_retransmission`.
    TcpAnalysisSpuriousRetransmission,
    /// `tcp.analysis.out_of_order`.
    TcpAnalysisOutOfOrder,
    /// `tcp.analysis.lost_segment`.
    TcpAnalysisLostSegment,
    /// `tcp.analysis.ack_lost_segment`.
    TcpAnalysisAckLostSegment,
    /// `tcp.analysis.duplicate_ack`.
    TcpAnalysisDuplicateAck,
    /// `tcp.analysis.zero_window`.
    TcpAnalysisZeroWindow,
    /// `tcp.analysis.zero_window_probe`.
    TcpAnalysisZeroWindowProbe,
    /// `tcp.analysis.zero_window_probe_ack`.
    TcpAnalysisZeroWindowProbeAck,
    /// `tcp.analysis.keep_alive`.
    TcpAnalysisKeepAlive,
    /// `tcp.analysis.keep_alive_ack`.
    TcpAnalysisKeepAliveAck,
    /// `tcp.analysis.window_update`.
    TcpAnalysisWindowUpdate,
    /// `tcp.analysis.window_full`.
    TcpAnalysisWindowFull,
    /// `tftp`.
    Tftp,
    /// `tftp.opcode`.
    TftpOpcode,
    /// `tftp.block`.
    TftpBlock,
    /// `tftp.source_file`: the file named by a read request.
    TftpSourceFile,
    /// `tftp.destination_file`: the file named by a write request.
    TftpDestinationFile,
    /// `tftp.type`: the transfer mode of a request (`octet`, `netascii`).
    TftpType,
    /// `tftp.error.code`.
    TftpErrorCode,
    /// `tftp.error.message`.
    TftpErrorMessage,
    /// `http`.
    Http,
    /// `http.request`: true on a request.
    HttpRequest,
    /// `http.response`: true on a response.
    HttpResponse,
    /// `http.request.method`.
    HttpRequestMethod,
    /// `http.request.uri`.
    HttpRequestUri,
    /// `http.request.version`.
    HttpRequestVersion,
    /// `http.response.code`.
    HttpResponseCode,
    /// `http.response.phrase`.
    HttpResponsePhrase,
    /// `http.host`.
    HttpHost,
    /// `http.content_length`.
    HttpContentLength,
}

/// The type of a field's values, which decides the literals and operators it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// An unsigned integer of at most `bits` bits.
    UInt {
        /// Width of the field, for range checks on literals.
        bits: u8,
    },
    /// A flag: `True`/`False` or a number (non-zero is true).
    Bool,
    /// An IPv4 address; literals may be CIDR subnets.
    Ipv4,
    /// An IPv6 address; literals may be CIDR subnets.
    Ipv6,
    /// A MAC address.
    Ether,
    /// A byte sequence (`aa:bb:cc` or a string literal).
    Bytes,
    /// A character string (need not be UTF-8).
    Text,
    /// A relative time in seconds (`1.5`).
    Time,
    /// A protocol: tested for presence; its value is the bytes it spans.
    Protocol,
    /// A label with no value (`tcp.analysis.retransmission`): tested for presence only.
    Label,
}

impl FieldKind {
    /// The type's name in error messages, as Wireshark names it.
    pub fn name(self) -> &'static str {
        match self {
            FieldKind::UInt { .. } => "an unsigned integer",
            FieldKind::Bool => "a boolean",
            FieldKind::Ipv4 => "an IPv4 address",
            FieldKind::Ipv6 => "an IPv6 address",
            FieldKind::Ether => "a MAC address",
            FieldKind::Bytes => "a byte sequence",
            FieldKind::Text => "a character string",
            FieldKind::Time => "a time in seconds",
            FieldKind::Protocol => "a protocol",
            FieldKind::Label => "a label",
        }
    }

    /// True for the kinds whose values are byte strings (compared byte by byte).
    pub(super) fn is_bytes_like(self) -> bool {
        matches!(
            self,
            FieldKind::Bytes | FieldKind::Text | FieldKind::Protocol | FieldKind::Ether
        )
    }
}

/// Where a field's values come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The decoded packet alone ([`PacketFields`](super::PacketFields)).
    Packet,
    /// The engine's per-packet annotations ([`Annotations`](super::Annotations)): TCP stream
    /// state, application decoders.
    Engine,
}

/// A row of the field table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldInfo {
    /// The name a filter uses, e.g. `tcp.port`.
    pub name: &'static str,
    /// The id a [`FieldSource`](super::FieldSource) is asked for.
    pub id: FieldId,
    /// The type of its values.
    pub kind: FieldKind,
    /// Where its values come from.
    pub origin: Origin,
    /// A short description, like Wireshark's.
    pub description: &'static str,
}

const fn row(
    name: &'static str,
    id: FieldId,
    kind: FieldKind,
    origin: Origin,
    description: &'static str,
) -> FieldInfo {
    FieldInfo {
        name,
        id,
        kind,
        origin,
        description,
    }
}

const U8: FieldKind = FieldKind::UInt { bits: 8 };
const U16: FieldKind = FieldKind::UInt { bits: 16 };
const U32: FieldKind = FieldKind::UInt { bits: 32 };
const U64: FieldKind = FieldKind::UInt { bits: 64 };
const P: Origin = Origin::Packet;
const E: Origin = Origin::Engine;

use FieldId as F;
use FieldKind as K;

/// Every field a display filter may name, in the order of the module documentation.
pub static FIELDS: &[FieldInfo] = &[
    row(
        "frame",
        F::Frame,
        K::Protocol,
        P,
        "Frame (all captured bytes)",
    ),
    row("frame.number", F::FrameNumber, U32, P, "Frame number"),
    row("frame.len", F::FrameLen, U32, P, "Frame length on the wire"),
    row(
        "frame.cap_len",
        F::FrameCapLen,
        U32,
        P,
        "Frame length stored into the capture file",
    ),
    row(
        "frame.time_relative",
        F::FrameTimeRelative,
        K::Time,
        P,
        "Time since the first frame",
    ),
    row("eth", F::Eth, K::Protocol, P, "Ethernet II"),
    row("eth.src", F::EthSrc, K::Ether, P, "Source"),
    row("eth.dst", F::EthDst, K::Ether, P, "Destination"),
    row(
        "eth.addr",
        F::EthAddr,
        K::Ether,
        P,
        "Source or Destination Address",
    ),
    row("eth.type", F::EthType, U16, P, "Type"),
    row("vlan", F::Vlan, K::Protocol, P, "802.1Q Virtual LAN"),
    row("vlan.id", F::VlanId, U16, P, "ID"),
    row("arp", F::Arp, K::Protocol, P, "Address Resolution Protocol"),
    row("arp.opcode", F::ArpOpcode, U16, P, "Opcode"),
    row("ip", F::Ip, K::Protocol, P, "Internet Protocol Version 4"),
    row("ip.src", F::IpSrc, K::Ipv4, P, "Source Address"),
    row("ip.dst", F::IpDst, K::Ipv4, P, "Destination Address"),
    row(
        "ip.addr",
        F::IpAddr,
        K::Ipv4,
        P,
        "Source or Destination Address",
    ),
    row("ip.proto", F::IpProto, U8, P, "Protocol"),
    row("ip.ttl", F::IpTtl, U8, P, "Time to Live"),
    row("ip.flags.df", F::IpFlagsDf, K::Bool, P, "Don't fragment"),
    row("ip.flags.mf", F::IpFlagsMf, K::Bool, P, "More fragments"),
    row(
        "ip.frag_offset",
        F::IpFragOffset,
        U16,
        P,
        "Fragment Offset (8-byte units)",
    ),
    row("ip.len", F::IpLen, U16, P, "Total Length"),
    row("ip.id", F::IpId, U16, P, "Identification"),
    row("ip.hdr_len", F::IpHdrLen, U8, P, "Header Length (bytes)"),
    row(
        "ipv6",
        F::Ipv6,
        K::Protocol,
        P,
        "Internet Protocol Version 6",
    ),
    row("ipv6.src", F::Ipv6Src, K::Ipv6, P, "Source Address"),
    row("ipv6.dst", F::Ipv6Dst, K::Ipv6, P, "Destination Address"),
    row(
        "ipv6.addr",
        F::Ipv6Addr,
        K::Ipv6,
        P,
        "Source or Destination Address",
    ),
    row("ipv6.nxt", F::Ipv6Nxt, U8, P, "Next Header"),
    row("ipv6.hlim", F::Ipv6Hlim, U8, P, "Hop Limit"),
    row("ipv6.plen", F::Ipv6Plen, U16, P, "Payload Length"),
    row(
        "icmp",
        F::Icmp,
        K::Protocol,
        P,
        "Internet Control Message Protocol",
    ),
    row("icmp.type", F::IcmpType, U8, P, "Type"),
    row("icmp.code", F::IcmpCode, U8, P, "Code"),
    row(
        "icmpv6",
        F::Icmpv6,
        K::Protocol,
        P,
        "Internet Control Message Protocol v6",
    ),
    row("icmpv6.type", F::Icmpv6Type, U8, P, "Type"),
    row("icmpv6.code", F::Icmpv6Code, U8, P, "Code"),
    row(
        "tcp",
        F::Tcp,
        K::Protocol,
        P,
        "Transmission Control Protocol",
    ),
    row("tcp.port", F::TcpPort, U16, P, "Source or Destination Port"),
    row("tcp.srcport", F::TcpSrcport, U16, P, "Source Port"),
    row("tcp.dstport", F::TcpDstport, U16, P, "Destination Port"),
    row("tcp.flags", F::TcpFlags, U16, P, "Flags (12 bits)"),
    row(
        "tcp.flags.cwr",
        F::TcpFlagsCwr,
        K::Bool,
        P,
        "Congestion Window Reduced",
    ),
    row("tcp.flags.ece", F::TcpFlagsEce, K::Bool, P, "ECN-Echo"),
    row("tcp.flags.urg", F::TcpFlagsUrg, K::Bool, P, "Urgent"),
    row(
        "tcp.flags.ack",
        F::TcpFlagsAck,
        K::Bool,
        P,
        "Acknowledgment",
    ),
    row("tcp.flags.push", F::TcpFlagsPush, K::Bool, P, "Push"),
    row("tcp.flags.reset", F::TcpFlagsReset, K::Bool, P, "Reset"),
    row("tcp.flags.syn", F::TcpFlagsSyn, K::Bool, P, "Syn"),
    row("tcp.flags.fin", F::TcpFlagsFin, K::Bool, P, "Fin"),
    row("tcp.len", F::TcpLen, U32, P, "TCP Segment Len"),
    row("tcp.seq_raw", F::TcpSeqRaw, U32, P, "Sequence Number (raw)"),
    row(
        "tcp.ack_raw",
        F::TcpAckRaw,
        U32,
        P,
        "Acknowledgment number (raw)",
    ),
    row("tcp.hdr_len", F::TcpHdrLen, U8, P, "Header Length (bytes)"),
    row(
        "tcp.window_size_value",
        F::TcpWindowSizeValue,
        U16,
        P,
        "Window (unscaled)",
    ),
    row(
        "tcp.urgent_pointer",
        F::TcpUrgentPointer,
        U16,
        P,
        "Urgent Pointer",
    ),
    row("tcp.payload", F::TcpPayload, K::Bytes, P, "TCP payload"),
    row("udp", F::Udp, K::Protocol, P, "User Datagram Protocol"),
    row("udp.port", F::UdpPort, U16, P, "Source or Destination Port"),
    row("udp.srcport", F::UdpSrcport, U16, P, "Source Port"),
    row("udp.dstport", F::UdpDstport, U16, P, "Destination Port"),
    row("udp.length", F::UdpLength, U16, P, "Length"),
    row("udp.payload", F::UdpPayload, K::Bytes, P, "Payload"),
    row(
        "osi.layer",
        F::OsiLayer,
        U8,
        P,
        "OSI layer numbers present (pcaplab)",
    ),
    row("tcp.stream", F::TcpStream, U32, E, "Stream index"),
    row("tcp.seq", F::TcpSeq, U32, E, "Sequence Number (relative)"),
    row(
        "tcp.ack",
        F::TcpAck,
        U32,
        E,
        "Acknowledgment Number (relative)",
    ),
    row(
        "tcp.nxtseq",
        F::TcpNxtseq,
        U32,
        E,
        "Next Sequence Number (relative)",
    ),
    row(
        "tcp.window_size",
        F::TcpWindowSize,
        U32,
        E,
        "Calculated window size",
    ),
    row(
        "tcp.analysis.flags",
        F::TcpAnalysisFlags,
        K::Label,
        E,
        "TCP Analysis Flags",
    ),
    row(
        "tcp.analysis.retransmission",
        F::TcpAnalysisRetransmission,
        K::Label,
        E,
        "This frame is a (suspected) retransmission",
    ),
    row(
        "tcp.analysis.fast_retransmission",
        F::TcpAnalysisFastRetransmission,
        K::Label,
        E,
        "This frame is a (suspected) fast retransmission",
    ),
    row(
        "tcp.analysis.spurious_retransmission",
        F::TcpAnalysisSpuriousRetransmission,
        K::Label,
        E,
        "This frame is a (suspected) spurious retransmission",
    ),
    row(
        "tcp.analysis.out_of_order",
        F::TcpAnalysisOutOfOrder,
        K::Label,
        E,
        "This frame is a (suspected) out-of-order segment",
    ),
    row(
        "tcp.analysis.lost_segment",
        F::TcpAnalysisLostSegment,
        K::Label,
        E,
        "Previous segment(s) not captured",
    ),
    row(
        "tcp.analysis.ack_lost_segment",
        F::TcpAnalysisAckLostSegment,
        K::Label,
        E,
        "ACKed segment that wasn't captured",
    ),
    row(
        "tcp.analysis.duplicate_ack",
        F::TcpAnalysisDuplicateAck,
        K::Label,
        E,
        "Duplicate ACK",
    ),
    row(
        "tcp.analysis.zero_window",
        F::TcpAnalysisZeroWindow,
        K::Label,
        E,
        "TCP Zero Window segment",
    ),
    row(
        "tcp.analysis.zero_window_probe",
        F::TcpAnalysisZeroWindowProbe,
        K::Label,
        E,
        "TCP Zero Window Probe",
    ),
    row(
        "tcp.analysis.zero_window_probe_ack",
        F::TcpAnalysisZeroWindowProbeAck,
        K::Label,
        E,
        "ACK to a TCP Zero Window Probe",
    ),
    row(
        "tcp.analysis.keep_alive",
        F::TcpAnalysisKeepAlive,
        K::Label,
        E,
        "TCP keep-alive segment",
    ),
    row(
        "tcp.analysis.keep_alive_ack",
        F::TcpAnalysisKeepAliveAck,
        K::Label,
        E,
        "ACK to a TCP keep-alive segment",
    ),
    row(
        "tcp.analysis.window_update",
        F::TcpAnalysisWindowUpdate,
        K::Label,
        E,
        "TCP window update",
    ),
    row(
        "tcp.analysis.window_full",
        F::TcpAnalysisWindowFull,
        K::Label,
        E,
        "TCP window specified by the receiver is now completely full",
    ),
    row(
        "tftp",
        F::Tftp,
        K::Protocol,
        E,
        "Trivial File Transfer Protocol",
    ),
    row("tftp.opcode", F::TftpOpcode, U16, E, "Opcode"),
    row("tftp.block", F::TftpBlock, U16, E, "Block"),
    row(
        "tftp.source_file",
        F::TftpSourceFile,
        K::Text,
        E,
        "Source File",
    ),
    row(
        "tftp.destination_file",
        F::TftpDestinationFile,
        K::Text,
        E,
        "Destination File",
    ),
    row("tftp.type", F::TftpType, K::Text, E, "Type (transfer mode)"),
    row("tftp.error.code", F::TftpErrorCode, U16, E, "Error code"),
    row(
        "tftp.error.message",
        F::TftpErrorMessage,
        K::Text,
        E,
        "Error message",
    ),
    row(
        "http",
        F::Http,
        K::Protocol,
        E,
        "Hypertext Transfer Protocol",
    ),
    row("http.request", F::HttpRequest, K::Bool, E, "Request"),
    row("http.response", F::HttpResponse, K::Bool, E, "Response"),
    row(
        "http.request.method",
        F::HttpRequestMethod,
        K::Text,
        E,
        "Request Method",
    ),
    row(
        "http.request.uri",
        F::HttpRequestUri,
        K::Text,
        E,
        "Request URI",
    ),
    row(
        "http.request.version",
        F::HttpRequestVersion,
        K::Text,
        E,
        "Request Version",
    ),
    row(
        "http.response.code",
        F::HttpResponseCode,
        U16,
        E,
        "Status Code",
    ),
    row(
        "http.response.phrase",
        F::HttpResponsePhrase,
        K::Text,
        E,
        "Response Phrase",
    ),
    row("http.host", F::HttpHost, K::Text, E, "Host"),
    row(
        "http.content_length",
        F::HttpContentLength,
        U64,
        E,
        "Content length",
    ),
];

impl FieldId {
    /// The field's row in [`FIELDS`].
    pub fn info(self) -> &'static FieldInfo {
        // Every id has exactly one row (checked by a unit test); the fallback is never taken.
        FIELDS.iter().find(|f| f.id == self).unwrap_or(&FIELDS[0])
    }

    /// The field's Wireshark name, e.g. `tcp.port`.
    pub fn name(self) -> &'static str {
        self.info().name
    }
}

/// Looks a field up by its exact name.
pub fn lookup(name: &str) -> Option<&'static FieldInfo> {
    FIELDS.iter().find(|f| f.name == name)
}

/// The known name closest to `name` (for "did you mean"), if one is close enough to be a typo.
pub fn suggest(name: &str) -> Option<&'static str> {
    let limit = (name.chars().count() / 3).clamp(1, 3);
    FIELDS
        .iter()
        .map(|f| (edit_distance(name, f.name), f.name))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n)
}

/// Levenshtein distance between two short strings, in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_is_unique_and_every_id_has_one_row() {
        for (i, f) in FIELDS.iter().enumerate() {
            assert_eq!(
                FIELDS.iter().filter(|g| g.name == f.name).count(),
                1,
                "{}",
                f.name
            );
            assert_eq!(
                FIELDS.iter().filter(|g| g.id == f.id).count(),
                1,
                "{:?}",
                f.id
            );
            assert_eq!(f.id.info(), &FIELDS[i]);
        }
    }

    #[test]
    fn typos_get_the_nearest_name() {
        assert_eq!(suggest("tcp.prot"), Some("tcp.port"));
        assert_eq!(suggest("tcp.flags.rst"), Some("tcp.flags.reset"));
        assert_eq!(suggest("ip.sorce"), Some("ip.src"));
        assert_eq!(suggest("completely.unrelated.name"), None);
    }

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("abc", "abc"), 0);
    }
}
