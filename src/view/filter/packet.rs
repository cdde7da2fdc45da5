//! `PacketFields`: the fields a decoded packet answers by itself (frame, link, network and
//! transport headers, `osi.layer`), read from etherparse's slices with no allocation.
//!
//! Fields that need state across packets (TCP stream numbers, relative sequence numbers,
//! analysis flags, TFTP and HTTP) are not answered here: see [`Annotations`](super::Annotations).

use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use etherparse::{
    ArpPacketSlice, EtherType, Ethernet2Slice, LaxIpv4Slice, LaxIpv6Slice, LaxLinkExtSlice,
    LaxNetSlice, LinkSlice, TcpSlice, TransportSlice,
};

use super::{FieldId, FieldSource, Value};
use crate::decode::{LinkHeader, Packet, PartialTcp};

/// Largest IEEE 802.3 length field; larger values are EtherTypes (IEEE 802.3 §3.2.6).
const IEEE_802_3_MAX_LEN: u16 = 1500;
/// EtherType of Reverse ARP (RFC 903).
const ETHERTYPE_RARP: EtherType = EtherType(0x8035);

/// The stateless fields of one decoded packet.
///
/// `frame.time_relative` needs the capture's first timestamp, which the caller knows (the
/// reader's first frame).
#[derive(Debug, Clone, Copy)]
pub struct PacketFields<'p, 'a> {
    packet: &'p Packet<'a>,
    first_timestamp: Duration,
}

impl<'p, 'a> PacketFields<'p, 'a> {
    /// The fields of `packet`, in a capture whose first frame was taken at `first_timestamp`.
    pub fn new(packet: &'p Packet<'a>, first_timestamp: Duration) -> Self {
        PacketFields {
            packet,
            first_timestamp,
        }
    }

    fn ethernet(&self) -> Option<&'p Ethernet2Slice<'a>> {
        match self.packet.sliced.as_ref()?.link.as_ref()? {
            LinkSlice::Ethernet2(eth) => Some(eth),
            _ => None,
        }
    }

    /// ARP, and RARP (EtherType 0x8035), which Wireshark's `arp` dissector also shows and
    /// etherparse leaves as an unknown payload.
    fn arp(&self) -> Option<ArpPacketSlice<'a>> {
        let sliced = self.packet.sliced.as_ref()?;
        match &sliced.net {
            Some(LaxNetSlice::Arp(arp)) => Some(arp.clone()),
            Some(_) => None,
            None => {
                let payload = sliced.ether_payload()?;
                (payload.ether_type == ETHERTYPE_RARP)
                    .then(|| ArpPacketSlice::from_slice(payload.payload).ok())
                    .flatten()
            }
        }
    }

    fn ipv4(&self) -> Option<&'p LaxIpv4Slice<'a>> {
        match self.packet.sliced.as_ref()?.net.as_ref()? {
            LaxNetSlice::Ipv4(ip) => Some(ip),
            _ => None,
        }
    }

    fn ipv6(&self) -> Option<&'p LaxIpv6Slice<'a>> {
        match self.packet.sliced.as_ref()?.net.as_ref()? {
            LaxNetSlice::Ipv6(ip) => Some(ip),
            _ => None,
        }
    }

    fn tcp(&self) -> Option<&'p TcpSlice<'a>> {
        match self.packet.transport()? {
            TransportSlice::Tcp(t) => Some(t),
            _ => None,
        }
    }

    /// The bytes from the start of `first` to the end of `last`, both inside the frame.
    fn span(&self, first: &[u8], last: &[u8]) -> Option<&'a [u8]> {
        let whole = self.packet.frame.data;
        let base = whole.as_ptr() as usize;
        let start = (first.as_ptr() as usize).checked_sub(base)?;
        let end = (last.as_ptr() as usize)
            .checked_sub(base)?
            .checked_add(last.len())?;
        whole.get(start..end)
    }

    /// `ip.len` as Wireshark shows it: the header's total length, except that a total length
    /// of 0 (TCP segmentation offload, the NIC fills it in) is replaced by the length of the IP
    /// packet on the wire.
    fn ip_total_len(&self, total_len: u16, header: &[u8]) -> u64 {
        if total_len != 0 {
            return u64::from(total_len);
        }
        let frame = &self.packet.frame;
        let offset = (header.as_ptr() as usize).saturating_sub(frame.data.as_ptr() as usize);
        u64::from(frame.original_len).saturating_sub(offset as u64)
    }

    /// The IP payload bytes (for a TCP header cut short, which etherparse did not slice).
    fn ip_payload(&self) -> &'a [u8] {
        self.packet
            .sliced
            .as_ref()
            .and_then(|s| s.net.as_ref())
            .and_then(|n| n.ip_payload_ref())
            .map_or(&[], |p| p.payload)
    }

    fn visit_frame(&self, field: FieldId, out: &mut dyn FnMut(Value<'_>)) {
        let frame = &self.packet.frame;
        match field {
            FieldId::Frame => out(Value::Bytes(frame.data)),
            FieldId::FrameNumber => out(Value::UInt(frame.number.0)),
            FieldId::FrameLen => out(Value::UInt(u64::from(frame.original_len))),
            FieldId::FrameCapLen => out(Value::UInt(frame.data.len() as u64)),
            FieldId::FrameTimeRelative => {
                let nanos = i128::try_from(frame.timestamp.as_nanos()).unwrap_or(i128::MAX)
                    - i128::try_from(self.first_timestamp.as_nanos()).unwrap_or(i128::MAX);
                let nanos =
                    i64::try_from(nanos).unwrap_or(if nanos < 0 { i64::MIN } else { i64::MAX });
                out(Value::TimeNanos(nanos));
            }
            _ => {}
        }
    }

    fn visit_link(&self, field: FieldId, out: &mut dyn FnMut(Value<'_>)) {
        match field {
            FieldId::Eth
            | FieldId::EthSrc
            | FieldId::EthDst
            | FieldId::EthAddr
            | FieldId::EthType => {
                let Some(eth) = self.ethernet() else { return };
                match field {
                    FieldId::Eth => out(Value::Bytes(eth.slice())),
                    FieldId::EthSrc => out(Value::Ether(eth.source())),
                    FieldId::EthDst => out(Value::Ether(eth.destination())),
                    FieldId::EthAddr => {
                        out(Value::Ether(eth.destination()));
                        out(Value::Ether(eth.source()));
                    }
                    // IEEE 802.3: the field is a length (`eth.len`), not a type.
                    _ if eth.ether_type().0 <= IEEE_802_3_MAX_LEN => {}
                    _ => out(Value::UInt(u64::from(eth.ether_type().0))),
                }
            }
            FieldId::Vlan | FieldId::VlanId => {
                let Some(sliced) = &self.packet.sliced else {
                    return;
                };
                for ext in &sliced.link_exts {
                    if let LaxLinkExtSlice::Vlan(v) = ext {
                        out(if field == FieldId::Vlan {
                            Value::Bytes(v.slice())
                        } else {
                            Value::UInt(u64::from(v.vlan_identifier().value()))
                        });
                    }
                }
            }
            FieldId::Arp | FieldId::ArpOpcode => {
                if let Some(arp) = self.arp() {
                    out(if field == FieldId::Arp {
                        Value::Bytes(arp.slice())
                    } else {
                        Value::UInt(u64::from(arp.operation().0))
                    });
                }
            }
            _ => {}
        }
    }

    /// The bytes of an IPv4 or IPv6 header cut short by the capture (`ether_type` says which),
    /// which etherparse could not slice; Wireshark still shows the fields that were captured.
    fn cut_network_header(&self, ether_type: EtherType) -> Option<&'a [u8]> {
        let sliced = self.packet.sliced.as_ref()?;
        if sliced.net.is_some() {
            return None;
        }
        let payload = sliced.ether_payload()?;
        (payload.ether_type == ether_type && !payload.payload.is_empty()).then_some(payload.payload)
    }

    /// The captured fields of an IPv4 header cut short (RFC 791 §3.1 layout).
    fn visit_cut_ipv4(&self, bytes: &'a [u8], field: FieldId, out: &mut dyn FnMut(Value<'_>)) {
        let byte = |at: usize| bytes.get(at).copied();
        let addr = |at: usize| {
            bytes
                .get(at..at + 4)
                .and_then(|b| <[u8; 4]>::try_from(b).ok())
                .map(|a| Value::Ipv4(Ipv4Addr::from(a)))
        };
        let mut emit = |v: Option<Value<'a>>| {
            if let Some(v) = v {
                out(v);
            }
        };
        let uint = |v: Option<u16>| v.map(|n| Value::UInt(u64::from(n)));
        match field {
            FieldId::Ip => emit(Some(Value::Bytes(bytes))),
            FieldId::IpHdrLen => emit(byte(0).map(|b| Value::UInt(u64::from(b & 0x0f) * 4))),
            FieldId::IpLen => emit(uint(be16(bytes, 2))),
            FieldId::IpId => emit(uint(be16(bytes, 4))),
            FieldId::IpFlagsDf => emit(byte(6).map(|b| Value::Bool(b & 0x40 != 0))),
            FieldId::IpFlagsMf => emit(byte(6).map(|b| Value::Bool(b & 0x20 != 0))),
            FieldId::IpFragOffset => emit(uint(be16(bytes, 6).map(|n| n & 0x1fff))),
            FieldId::IpTtl => emit(byte(8).map(|b| Value::UInt(u64::from(b)))),
            FieldId::IpProto => emit(byte(9).map(|b| Value::UInt(u64::from(b)))),
            FieldId::IpSrc => emit(addr(12)),
            FieldId::IpDst => emit(addr(16)),
            FieldId::IpAddr => {
                emit(addr(12));
                emit(addr(16));
            }
            _ => {}
        }
    }

    /// The captured fields of an IPv6 header cut short (RFC 8200 §3 layout).
    fn visit_cut_ipv6(&self, bytes: &'a [u8], field: FieldId, out: &mut dyn FnMut(Value<'_>)) {
        let byte = |at: usize| bytes.get(at).map(|b| Value::UInt(u64::from(*b)));
        let addr = |at: usize| {
            bytes
                .get(at..at + 16)
                .and_then(|b| <[u8; 16]>::try_from(b).ok())
                .map(|a| Value::Ipv6(Ipv6Addr::from(a)))
        };
        let mut emit = |v: Option<Value<'a>>| {
            if let Some(v) = v {
                out(v);
            }
        };
        match field {
            FieldId::Ipv6 => emit(Some(Value::Bytes(bytes))),
            FieldId::Ipv6Plen => emit(be16(bytes, 4).map(|n| Value::UInt(u64::from(n)))),
            FieldId::Ipv6Nxt => emit(byte(6)),
            FieldId::Ipv6Hlim => emit(byte(7)),
            FieldId::Ipv6Src => emit(addr(8)),
            FieldId::Ipv6Dst => emit(addr(24)),
            FieldId::Ipv6Addr => {
                emit(addr(8));
                emit(addr(24));
            }
            _ => {}
        }
    }

    fn visit_ipv4(&self, field: FieldId, out: &mut dyn FnMut(Value<'_>)) {
        let Some(ip) = self.ipv4() else {
            if let Some(bytes) = self.cut_network_header(EtherType::IPV4) {
                self.visit_cut_ipv4(bytes, field, out);
            }
            return;
        };
        let h = ip.header();
        let addr = |a: Ipv4Addr| Value::Ipv4(a);
        match field {
            FieldId::Ip => out(Value::Bytes(
                self.span(h.slice(), ip.payload().payload)
                    .unwrap_or(h.slice()),
            )),
            FieldId::IpSrc => out(addr(h.source_addr())),
            FieldId::IpDst => out(addr(h.destination_addr())),
            FieldId::IpAddr => {
                out(addr(h.source_addr()));
                out(addr(h.destination_addr()));
            }
            FieldId::IpProto => out(Value::UInt(u64::from(h.protocol().0))),
            FieldId::IpTtl => out(Value::UInt(u64::from(h.ttl()))),
            FieldId::IpFlagsDf => out(Value::Bool(h.dont_fragment())),
            FieldId::IpFlagsMf => out(Value::Bool(h.more_fragments())),
            FieldId::IpFragOffset => out(Value::UInt(u64::from(h.fragments_offset().value()))),
            FieldId::IpLen => out(Value::UInt(self.ip_total_len(h.total_len(), h.slice()))),
            FieldId::IpId => out(Value::UInt(u64::from(h.identification()))),
            FieldId::IpHdrLen => out(Value::UInt(u64::from(h.ihl()) * 4)),
            _ => {}
        }
    }

    fn visit_ipv6(&self, field: FieldId, out: &mut dyn FnMut(Value<'_>)) {
        let Some(ip) = self.ipv6() else {
            if let Some(bytes) = self.cut_network_header(EtherType::IPV6) {
                self.visit_cut_ipv6(bytes, field, out);
            }
            return;
        };
        let h = ip.header();
        let addr = |a: [u8; 16]| Value::Ipv6(Ipv6Addr::from(a));
        match field {
            FieldId::Ipv6 => out(Value::Bytes(
                self.span(h.slice(), ip.payload().payload)
                    .unwrap_or(h.slice()),
            )),
            FieldId::Ipv6Src => out(addr(h.source())),
            FieldId::Ipv6Dst => out(addr(h.destination())),
            FieldId::Ipv6Addr => {
                out(addr(h.source()));
                out(addr(h.destination()));
            }
            FieldId::Ipv6Nxt => out(Value::UInt(u64::from(h.next_header().0))),
            FieldId::Ipv6Hlim => out(Value::UInt(u64::from(h.hop_limit()))),
            FieldId::Ipv6Plen => out(Value::UInt(u64::from(h.payload_length()))),
            _ => {}
        }
    }

    fn visit_icmp(&self, field: FieldId, out: &mut dyn FnMut(Value<'_>)) {
        match (field, self.packet.transport()) {
            (FieldId::Icmp, Some(TransportSlice::Icmpv4(i))) => out(Value::Bytes(i.slice())),
            (FieldId::IcmpType, Some(TransportSlice::Icmpv4(i))) => {
                out(Value::UInt(u64::from(i.type_u8())))
            }
            (FieldId::IcmpCode, Some(TransportSlice::Icmpv4(i))) => {
                out(Value::UInt(u64::from(i.code_u8())))
            }
            (FieldId::Icmpv6, Some(TransportSlice::Icmpv6(i))) => out(Value::Bytes(i.slice())),
            (FieldId::Icmpv6Type, Some(TransportSlice::Icmpv6(i))) => {
                out(Value::UInt(u64::from(i.type_u8())))
            }
            (FieldId::Icmpv6Code, Some(TransportSlice::Icmpv6(i))) => {
                out(Value::UInt(u64::from(i.code_u8())))
            }
            _ => {}
        }
    }

    fn visit_tcp(&self, field: FieldId, out: &mut dyn FnMut(Value<'_>)) {
        if let Some(t) = self.tcp() {
            let header = t.header_slice();
            let flags = match (header.get(12), header.get(13)) {
                (Some(hi), Some(lo)) => u16::from_be_bytes([*hi, *lo]) & 0x0fff,
                _ => 0,
            };
            let flag = |bit: u16| Value::Bool(flags & bit != 0);
            match field {
                FieldId::Tcp => out(Value::Bytes(t.slice())),
                FieldId::TcpPort => {
                    out(Value::UInt(u64::from(t.source_port())));
                    out(Value::UInt(u64::from(t.destination_port())));
                }
                FieldId::TcpSrcport => out(Value::UInt(u64::from(t.source_port()))),
                FieldId::TcpDstport => out(Value::UInt(u64::from(t.destination_port()))),
                FieldId::TcpFlags => out(Value::UInt(u64::from(flags))),
                FieldId::TcpFlagsCwr => out(flag(0x80)),
                FieldId::TcpFlagsEce => out(flag(0x40)),
                FieldId::TcpFlagsUrg => out(flag(0x20)),
                FieldId::TcpFlagsAck => out(flag(0x10)),
                FieldId::TcpFlagsPush => out(flag(0x08)),
                FieldId::TcpFlagsReset => out(flag(0x04)),
                FieldId::TcpFlagsSyn => out(flag(0x02)),
                FieldId::TcpFlagsFin => out(flag(0x01)),
                FieldId::TcpLen => out(Value::UInt(self.packet.wire_payload_len() as u64)),
                FieldId::TcpSeqRaw => out(Value::UInt(u64::from(t.sequence_number()))),
                FieldId::TcpAckRaw => out(Value::UInt(u64::from(t.acknowledgment_number()))),
                FieldId::TcpHdrLen => out(Value::UInt(u64::from(t.data_offset()) * 4)),
                FieldId::TcpWindowSizeValue => out(Value::UInt(u64::from(t.window_size()))),
                FieldId::TcpUrgentPointer => out(Value::UInt(u64::from(t.urgent_pointer()))),
                FieldId::TcpPayload if !t.payload().is_empty() => out(Value::Bytes(t.payload())),
                _ => {}
            }
        } else if let Some(p) = self.packet.partial_tcp() {
            self.visit_partial_tcp(&p, field, out);
        }
    }

    /// A TCP header cut short: the fields whose bytes were captured.
    fn visit_partial_tcp(&self, p: &PartialTcp, field: FieldId, out: &mut dyn FnMut(Value<'_>)) {
        let bytes = self.ip_payload();
        let flags = match (bytes.get(12), bytes.get(13)) {
            (Some(hi), Some(lo)) => Some(u16::from_be_bytes([*hi, *lo]) & 0x0fff),
            _ => None,
        };
        let flag = |bit: u16, out: &mut dyn FnMut(Value<'_>)| {
            if let Some(f) = flags {
                out(Value::Bool(f & bit != 0));
            }
        };
        let num = |n: Option<u64>, out: &mut dyn FnMut(Value<'_>)| {
            if let Some(n) = n {
                out(Value::UInt(n));
            }
        };
        match field {
            FieldId::Tcp => out(Value::Bytes(bytes)),
            FieldId::TcpPort => {
                out(Value::UInt(u64::from(p.src_port)));
                out(Value::UInt(u64::from(p.dst_port)));
            }
            FieldId::TcpSrcport => out(Value::UInt(u64::from(p.src_port))),
            FieldId::TcpDstport => out(Value::UInt(u64::from(p.dst_port))),
            FieldId::TcpFlags => num(flags.map(u64::from), out),
            FieldId::TcpFlagsCwr => flag(0x80, out),
            FieldId::TcpFlagsEce => flag(0x40, out),
            FieldId::TcpFlagsUrg => flag(0x20, out),
            FieldId::TcpFlagsAck => flag(0x10, out),
            FieldId::TcpFlagsPush => flag(0x08, out),
            FieldId::TcpFlagsReset => flag(0x04, out),
            FieldId::TcpFlagsSyn => flag(0x02, out),
            FieldId::TcpFlagsFin => flag(0x01, out),
            FieldId::TcpLen => num(p.payload_len.map(|n| n as u64), out),
            FieldId::TcpSeqRaw => num(p.seq.map(u64::from), out),
            FieldId::TcpAckRaw => num(p.ack.map(u64::from), out),
            FieldId::TcpHdrLen => num(p.data_offset.map(|o| u64::from(o) * 4), out),
            FieldId::TcpWindowSizeValue => num(p.window.map(u64::from), out),
            _ => {}
        }
    }

    fn visit_udp(&self, field: FieldId, out: &mut dyn FnMut(Value<'_>)) {
        let Some(TransportSlice::Udp(u)) = self.packet.transport() else {
            return;
        };
        match field {
            FieldId::Udp => out(Value::Bytes(u.slice())),
            FieldId::UdpPort => {
                out(Value::UInt(u64::from(u.source_port())));
                out(Value::UInt(u64::from(u.destination_port())));
            }
            FieldId::UdpSrcport => out(Value::UInt(u64::from(u.source_port()))),
            FieldId::UdpDstport => out(Value::UInt(u64::from(u.destination_port()))),
            FieldId::UdpLength => out(Value::UInt(u64::from(u.length()))),
            FieldId::UdpPayload if !u.payload().is_empty() => out(Value::Bytes(u.payload())),
            _ => {}
        }
    }

    /// The OSI layer numbers present, lowest first, each once: the same layers `show` lists
    /// (frame = 1; link headers, VLAN tags and ARP = 2; IP and ICMP = 3; TCP and UDP = 4;
    /// a payload or fragment data = 7).
    fn visit_osi_layers(&self, out: &mut dyn FnMut(Value<'_>)) {
        let packet = self.packet;
        out(Value::UInt(1));
        let sliced = packet.sliced.as_ref();
        let link = !matches!(packet.link, LinkHeader::RawIp)
            || sliced.is_some_and(|s| {
                !s.link_exts.is_empty() || matches!(s.net, Some(LaxNetSlice::Arp(_)))
            });
        if link {
            out(Value::UInt(2));
        }
        let transport = packet.transport();
        let network = matches!(
            sliced.and_then(|s| s.net.as_ref()),
            Some(LaxNetSlice::Ipv4(_) | LaxNetSlice::Ipv6(_))
        ) || matches!(
            transport,
            Some(TransportSlice::Icmpv4(_) | TransportSlice::Icmpv6(_))
        );
        if network {
            out(Value::UInt(3));
        }
        if matches!(
            transport,
            Some(TransportSlice::Tcp(_) | TransportSlice::Udp(_))
        ) || (transport.is_none() && packet.partial_tcp().is_some())
        {
            out(Value::UInt(4));
        }
        let fragment_data = packet.is_fragment()
            && sliced
                .and_then(|s| s.net.as_ref())
                .and_then(|n| n.ip_payload_ref())
                .is_some();
        if !packet.payload().is_empty() || fragment_data {
            out(Value::UInt(7));
        }
    }
}

impl FieldSource for PacketFields<'_, '_> {
    fn visit(&self, field: FieldId, out: &mut dyn FnMut(Value<'_>)) {
        use FieldId as F;
        match field {
            F::Frame | F::FrameNumber | F::FrameLen | F::FrameCapLen | F::FrameTimeRelative => {
                self.visit_frame(field, out)
            }
            F::Eth | F::EthSrc | F::EthDst | F::EthAddr | F::EthType | F::Vlan | F::VlanId => {
                self.visit_link(field, out)
            }
            F::Arp | F::ArpOpcode => self.visit_link(field, out),
            F::Ip
            | F::IpSrc
            | F::IpDst
            | F::IpAddr
            | F::IpProto
            | F::IpTtl
            | F::IpFlagsDf
            | F::IpFlagsMf
            | F::IpFragOffset
            | F::IpLen
            | F::IpId
            | F::IpHdrLen => self.visit_ipv4(field, out),
            F::Ipv6
            | F::Ipv6Src
            | F::Ipv6Dst
            | F::Ipv6Addr
            | F::Ipv6Nxt
            | F::Ipv6Hlim
            | F::Ipv6Plen => self.visit_ipv6(field, out),
            F::Icmp | F::IcmpType | F::IcmpCode | F::Icmpv6 | F::Icmpv6Type | F::Icmpv6Code => {
                self.visit_icmp(field, out)
            }
            F::Tcp
            | F::TcpPort
            | F::TcpSrcport
            | F::TcpDstport
            | F::TcpFlags
            | F::TcpFlagsCwr
            | F::TcpFlagsEce
            | F::TcpFlagsUrg
            | F::TcpFlagsAck
            | F::TcpFlagsPush
            | F::TcpFlagsReset
            | F::TcpFlagsSyn
            | F::TcpFlagsFin
            | F::TcpLen
            | F::TcpSeqRaw
            | F::TcpAckRaw
            | F::TcpHdrLen
            | F::TcpWindowSizeValue
            | F::TcpUrgentPointer
            | F::TcpPayload => self.visit_tcp(field, out),
            F::Udp | F::UdpPort | F::UdpSrcport | F::UdpDstport | F::UdpLength | F::UdpPayload => {
                self.visit_udp(field, out)
            }
            F::OsiLayer => self.visit_osi_layers(out),
            // Engine fields: answered by `Annotations`.
            _ => {}
        }
    }
}

/// The big-endian `u16` at `at`, if captured.
fn be16(bytes: &[u8], at: usize) -> Option<u16> {
    let b = bytes.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([*b.first()?, *b.get(1)?]))
}
