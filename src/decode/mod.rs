//! One frame → a layered, OSI-labelled view of it. Stateless and zero-copy: every view borrows
//! the frame's bytes, and nothing is allocated unless the packet is malformed.
//!
//! Link headers etherparse does not cover are read in [`link`]; the network and transport layers
//! come from etherparse's lax slicing, which keeps the layers that decoded and the error that
//! stopped it. That error becomes a [`Malformed`] value naming the layer and the reason.
#![cfg_attr(
    not(test),
    deny(
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic
    )
)]

pub mod addr;
mod cut;
mod fast;
pub mod icmp;
mod layer;
pub mod link;
mod malformed;

use std::net::IpAddr;

use etherparse::err::Layer;
use etherparse::err::packet::SliceError;
use etherparse::{LaxNetSlice, LaxSlicedPacket, LenSource, TransportSlice};

pub use cut::SnaplenCut;
pub use layer::OsiLayer;
pub use link::LinkHeader;
pub use malformed::{Malformed, MalformedKind};

use crate::capture::Frame;

/// A decoded frame: the link header, etherparse's slices of the layers above it, and what (if
/// anything) stopped decoding.
#[derive(Debug, Clone)]
pub struct Packet<'a> {
    /// The frame this packet was decoded from.
    pub frame: Frame<'a>,
    /// The link-layer header.
    pub link: LinkHeader,
    /// Ethernet, VLAN, network and transport slices (absent when the link layer failed).
    pub sliced: Option<LaxSlicedPacket<'a>>,
    /// Why decoding stopped early, if it did.
    pub malformed: Option<Malformed>,
}

/// Decodes one frame as far as its bytes allow.
///
/// A payload cut by the capture's snaplen is not malformed: see [`Packet::snaplen_cut`]. A
/// header cut inside itself is labelled [`MalformedKind::Truncated`].
pub fn decode<'a>(frame: &Frame<'a>) -> Packet<'a> {
    // Built in place: the slices are large, and each move of them costs a copy.
    let mut packet = Packet {
        frame: *frame,
        link: LinkHeader::Ethernet,
        sliced: None,
        malformed: None,
    };
    let link = link::decode_link(frame, &mut packet.sliced);
    packet.link = link.header;
    let mut malformed = link.malformed;
    if malformed.is_none()
        && let Some(sliced) = &packet.sliced
    {
        malformed = stop_reason(frame, sliced);
    }
    // A record with more captured bytes than the packet had on the wire contradicts itself at
    // the frame level; that comes first (tshark: "Frame length is less than captured length",
    // counted as malformed). The layers are still decoded from the bytes that are there.
    if frame.has_captured_len_above_wire_len() {
        malformed = Some(Malformed {
            kind: MalformedKind::Malformed,
            layer: OsiLayer::Physical,
            protocol: "frame",
            offset: None,
            reason: format!(
                "frame length {} is less than the captured length {}",
                frame.original_len,
                frame.data.len()
            ),
        });
    }
    packet.malformed = malformed;
    packet
}

impl<'a> Packet<'a> {
    /// The IPv4 or IPv6 source and destination addresses, if there is an IP layer.
    pub fn ip_addrs(&self) -> Option<(IpAddr, IpAddr)> {
        match self.sliced.as_ref()?.net.as_ref()? {
            LaxNetSlice::Ipv4(ip) => Some((
                IpAddr::V4(ip.header().source_addr()),
                IpAddr::V4(ip.header().destination_addr()),
            )),
            LaxNetSlice::Ipv6(ip) => Some((
                IpAddr::V6(ip.header().source_addr()),
                IpAddr::V6(ip.header().destination_addr()),
            )),
            LaxNetSlice::Arp(_) => None,
        }
    }

    /// The transport slice (TCP, UDP, ICMP, ICMPv6), if decoded.
    pub fn transport(&self) -> Option<&TransportSlice<'a>> {
        self.sliced.as_ref()?.transport.as_ref()
    }

    /// Source and destination ports of a TCP or UDP packet (also of a cut-short TCP header).
    pub fn ports(&self) -> Option<(u16, u16)> {
        match self.transport() {
            Some(TransportSlice::Tcp(t)) => Some((t.source_port(), t.destination_port())),
            Some(TransportSlice::Udp(u)) => Some((u.source_port(), u.destination_port())),
            Some(_) => None,
            None => self.partial_tcp().map(|t| (t.src_port, t.dst_port)),
        }
    }

    /// The TCP or UDP payload (the application bytes), empty when there is none.
    pub fn payload(&self) -> &'a [u8] {
        match self.transport() {
            Some(TransportSlice::Tcp(t)) => t.payload(),
            Some(TransportSlice::Udp(u)) => u.payload(),
            _ => &[],
        }
    }

    /// Number of TCP or UDP payload bytes on the wire, which can exceed the captured payload
    /// when the capture cut the frame (snaplen): tshark's `tcp.len` (IP payload length minus
    /// the TCP header, also when the TCP header itself was cut after its data offset) and
    /// `udp.length` − 8, from the headers.
    pub fn wire_payload_len(&self) -> usize {
        let captured = self.payload().len();
        if !self.frame.is_cut_by_snaplen() {
            return captured;
        }
        let wire = match self.transport() {
            Some(TransportSlice::Tcp(t)) => self
                .ip_payload_wire_len()
                .map(|len| len.saturating_sub(t.header_len())),
            Some(TransportSlice::Udp(u)) => usize::from(u.length()).checked_sub(8),
            Some(_) => None,
            // A TCP header cut inside itself: its data offset, if captured, still gives tcp.len.
            None => self.partial_tcp().and_then(|p| p.payload_len),
        };
        wire.map_or(captured, |w| w.max(captured))
    }

    /// Length of the IP payload according to the IP header (not the capture), after any IPv4
    /// authentication header or IPv6 extension headers. `None` without an IP layer, or when the
    /// length field does not give it (an IPv4 total length of 0, as TCP segmentation offload
    /// writes; an IPv6 jumbogram).
    pub fn ip_payload_wire_len(&self) -> Option<usize> {
        ip_payload_wire_len(self.sliced.as_ref()?.net.as_ref()?)
    }

    /// How much of the payload the capture did not keep, when the frame was cut by snaplen
    /// after its last whole header. `None` when the frame is whole, and when decoding stopped
    /// with a [`Malformed`] value (a header cut inside itself is labelled there, as
    /// [`MalformedKind::Truncated`]). A cut payload is not a malformation.
    pub fn snaplen_cut(&self) -> Option<SnaplenCut> {
        if !self.frame.is_cut_by_snaplen() || self.malformed.is_some() {
            return None;
        }
        let frame_level = SnaplenCut {
            layer: OsiLayer::Physical,
            protocol: "frame",
            captured: self.frame.data.len(),
            on_wire: usize::try_from(self.frame.original_len).unwrap_or(usize::MAX),
        };
        let Some(sliced) = &self.sliced else {
            return Some(frame_level);
        };
        let Some(net) = &sliced.net else {
            return Some(frame_level);
        };
        let (Some(ip_end), Some(wire)) = (ip_end(self.frame.data, net), ip_payload_wire_len(net))
        else {
            return Some(frame_level);
        };
        if ip_end <= self.frame.data.len() {
            // The whole IP datagram was captured; what is missing comes after it.
            return Some(frame_level);
        }
        let (layer, protocol, captured, on_wire) = match &sliced.transport {
            Some(TransportSlice::Tcp(t)) => (
                OsiLayer::Transport,
                "tcp",
                t.payload().len(),
                wire.saturating_sub(t.header_len()),
            ),
            Some(TransportSlice::Udp(u)) => (
                OsiLayer::Transport,
                "udp",
                u.payload().len(),
                usize::from(u.length()).saturating_sub(8),
            ),
            Some(TransportSlice::Icmpv4(i)) => (OsiLayer::Network, "icmp", i.slice().len(), wire),
            Some(TransportSlice::Icmpv6(i)) => (OsiLayer::Network, "icmpv6", i.slice().len(), wire),
            Some(TransportSlice::Igmp(_)) => (
                OsiLayer::Network,
                "igmp",
                net.ip_payload_ref().map_or(0, |p| p.payload.len()),
                wire,
            ),
            None => {
                let captured = net.ip_payload_ref().map_or(0, |p| p.payload.len());
                let protocol = match net {
                    LaxNetSlice::Ipv6(_) => "ipv6",
                    _ => "ipv4",
                };
                (OsiLayer::Network, protocol, captured, wire)
            }
        };
        Some(SnaplenCut {
            layer,
            protocol,
            captured,
            on_wire: on_wire.max(captured),
        })
    }

    /// The fixed TCP fields of a segment whose header was cut short (by snaplen or a short
    /// frame), read from the bytes that are there. `None` when the TCP header decoded fully.
    pub fn partial_tcp(&self) -> Option<PartialTcp> {
        let sliced = self.sliced.as_ref()?;
        if sliced.transport.is_some() {
            return None;
        }
        let payload = sliced.net.as_ref()?.ip_payload_ref()?;
        if payload.ip_number != etherparse::IpNumber::TCP || payload.fragmented {
            return None;
        }
        let bytes = payload.payload;
        let word16 = |at: usize| -> Option<u16> {
            Some(u16::from_be_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
        };
        let word32 = |at: usize| -> Option<u32> {
            Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
        };
        let data_offset = bytes.get(12).map(|b| b >> 4);
        Some(PartialTcp {
            src_port: word16(0)?,
            dst_port: word16(2)?,
            seq: word32(4),
            ack: word32(8),
            data_offset,
            flags: bytes.get(13).copied(),
            window: word16(14),
            payload_len: match (self.ip_payload_wire_len(), data_offset) {
                (Some(len), Some(off)) => Some(len.saturating_sub(usize::from(off) * 4)),
                _ => None,
            },
        })
    }

    /// True when the IP layer carries a fragment (IPv4 MF/offset or an IPv6 fragment header).
    pub fn is_fragment(&self) -> bool {
        self.sliced
            .as_ref()
            .and_then(|s| s.net.as_ref())
            .and_then(|n| n.ip_payload_ref())
            .is_some_and(|p| p.fragmented)
    }
}

/// The fields of a TCP header that was cut short, as far as they were captured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartialTcp {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number, if captured.
    pub seq: Option<u32>,
    /// Acknowledgement number, if captured.
    pub ack: Option<u32>,
    /// Data offset in 32-bit words, if captured.
    pub data_offset: Option<u8>,
    /// The flag byte (CWR ECE URG ACK PSH RST SYN FIN), if captured.
    pub flags: Option<u8>,
    /// Window, if captured.
    pub window: Option<u16>,
    /// Payload length from the IP length field and the data offset, if both are known.
    pub payload_len: Option<usize>,
}

impl PartialTcp {
    /// Flag names in Wireshark's order, e.g. `SYN, ACK`.
    pub fn flags_text(&self) -> String {
        let Some(f) = self.flags else {
            return String::new();
        };
        [
            (0x02, "SYN"),
            (0x01, "FIN"),
            (0x04, "RST"),
            (0x08, "PSH"),
            (0x10, "ACK"),
            (0x20, "URG"),
            (0x40, "ECE"),
            (0x80, "CWR"),
        ]
        .iter()
        .filter(|(bit, _)| f & bit != 0)
        .map(|(_, n)| *n)
        .collect::<Vec<_>>()
        .join(", ")
    }
}

/// Where `inner` starts in `outer`, when it is a sub-slice of it.
fn offset_in(outer: &[u8], inner: &[u8]) -> Option<usize> {
    let at = inner.as_ptr().addr().checked_sub(outer.as_ptr().addr())?;
    (at.checked_add(inner.len())? <= outer.len()).then_some(at)
}

/// Where the IP datagram ends in the frame according to its length field, if it gives one.
fn ip_end(data: &[u8], net: &LaxNetSlice<'_>) -> Option<usize> {
    let (header, total) = match net {
        LaxNetSlice::Ipv4(ip) => {
            let h = ip.header();
            let total = usize::from(h.total_len());
            (h.slice(), (total >= h.slice().len()).then_some(total)?)
        }
        LaxNetSlice::Ipv6(ip) => {
            let h = ip.header();
            let payload = usize::from(h.payload_length());
            (
                h.slice(),
                (payload > 0).then_some(h.slice().len() + payload)?,
            )
        }
        LaxNetSlice::Arp(_) => return None,
    };
    offset_in(data, header)?.checked_add(total)
}

/// IP payload length from the IP header, after IPv4 AH or IPv6 extension headers.
fn ip_payload_wire_len(net: &LaxNetSlice<'_>) -> Option<usize> {
    match net {
        LaxNetSlice::Ipv4(ip) => {
            let h = ip.header();
            let total = usize::from(h.total_len());
            let header = usize::from(h.ihl()) * 4;
            let auth = ip.extensions().auth.map_or(0, |a| a.slice().len());
            (total >= header).then(|| total - header - auth.min(total - header))
        }
        LaxNetSlice::Ipv6(ip) => {
            let payload = usize::from(ip.header().payload_length());
            (payload > 0).then(|| payload.saturating_sub(ip.extensions().slice().len()))
        }
        LaxNetSlice::Arp(_) => None,
    }
}

/// Turns etherparse's stop error, or a length field that contradicts the frame, into a
/// `Malformed` value. A payload cut by snaplen is not one (see [`Packet::snaplen_cut`]); a
/// header the capture cut inside itself is, with kind [`MalformedKind::Truncated`].
fn stop_reason(frame: &Frame<'_>, sliced: &LaxSlicedPacket<'_>) -> Option<Malformed> {
    let cut = frame.is_cut_by_snaplen();
    if let Some((err, layer)) = &sliced.stop_err {
        let (osi, protocol) = layer_name(*layer);
        // The data ran out inside this header (no length field limited it) and the capture
        // did cut the frame: the header was cut by snaplen. Any other stop is a malformation.
        if cut
            && let SliceError::Len(len) = err
            && len.len_source == LenSource::Slice
        {
            return Some(Malformed {
                kind: MalformedKind::Truncated,
                layer: osi,
                protocol,
                offset: frame.data.len().checked_sub(len.len),
                reason: format!(
                    "cut by snaplen: {} of its {} header bytes captured",
                    len.len, len.required_len
                ),
            });
        }
        return Some(Malformed {
            kind: MalformedKind::Malformed,
            layer: osi,
            protocol,
            offset: None,
            reason: err.to_string().to_lowercase(),
        });
    }
    let net = sliced.net.as_ref();
    // An IP length field that claims more than the frame had on the wire (captured or not).
    if let Some(net) = net
        && let Some(end) = ip_end(frame.data, net)
        && end > usize::try_from(frame.original_len).unwrap_or(usize::MAX)
    {
        let protocol = match net {
            LaxNetSlice::Ipv6(_) => "ipv6",
            _ => "ipv4",
        };
        return Some(Malformed {
            kind: MalformedKind::Malformed,
            layer: OsiLayer::Network,
            protocol,
            offset: None,
            reason: format!(
                "its length field ends the datagram at byte {end}, after the end of the {}-byte frame",
                frame.original_len
            ),
        });
    }
    if let Some(TransportSlice::Udp(udp)) = &sliced.transport {
        let length = usize::from(udp.length());
        // On the wire the UDP datagram is the IP payload (when the IP header gives its length),
        // else what was captured of a frame that was not cut.
        let room = match net.and_then(ip_payload_wire_len) {
            Some(room) => Some(room),
            None if !cut => Some(udp.slice().len()),
            None => None,
        };
        let too_long = room.is_some_and(|room| length > room);
        if length < 8 || too_long || (!cut && udp.payload_len_source() == LenSource::Slice) {
            return Some(Malformed {
                kind: MalformedKind::Malformed,
                layer: OsiLayer::Transport,
                protocol: "udp",
                offset: None,
                reason: format!(
                    "udp length {} does not match the {} bytes of the ip payload",
                    udp.length(),
                    room.unwrap_or(udp.slice().len())
                ),
            });
        }
    }
    None
}

/// Maps etherparse's error layer to the OSI layer and a protocol name.
fn layer_name(layer: Layer) -> (OsiLayer, &'static str) {
    match layer {
        Layer::LinuxSllHeader => (OsiLayer::DataLink, "linux sll"),
        Layer::Ethernet2Header | Layer::EtherPayload => (OsiLayer::DataLink, "ethernet"),
        Layer::VlanHeader => (OsiLayer::DataLink, "vlan"),
        Layer::MacsecHeader | Layer::MacsecPacket => (OsiLayer::DataLink, "macsec"),
        Layer::Arp => (OsiLayer::DataLink, "arp"),
        Layer::IpHeader => (OsiLayer::Network, "ip"),
        Layer::Ipv4Header | Layer::Ipv4Packet => (OsiLayer::Network, "ipv4"),
        Layer::IpAuthHeader => (OsiLayer::Network, "ip auth"),
        Layer::Ipv6Header
        | Layer::Ipv6Packet
        | Layer::Ipv6ExtHeader
        | Layer::Ipv6HopByHopHeader
        | Layer::Ipv6DestOptionsHeader
        | Layer::Ipv6RouteHeader
        | Layer::Ipv6FragHeader => (OsiLayer::Network, "ipv6"),
        Layer::Icmpv4 | Layer::Icmpv4Timestamp | Layer::Icmpv4TimestampReply => {
            (OsiLayer::Network, "icmp")
        }
        Layer::Icmpv6 => (OsiLayer::Network, "icmpv6"),
        Layer::Igmp => (OsiLayer::Network, "igmp"),
        Layer::UdpHeader | Layer::UdpPayload => (OsiLayer::Transport, "udp"),
        Layer::TcpHeader => (OsiLayer::Transport, "tcp"),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::capture::{FrameNumber, LinkType, TsResolution};

    /// Ethernet II + IPv4 (20 bytes) + TCP (20 bytes, no options) + `payload`.
    fn tcp_packet(payload: usize) -> Vec<u8> {
        let mut p = vec![0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00];
        let total = u16::try_from(40 + payload).unwrap();
        p.extend_from_slice(&[0x45, 0]); // version 4, IHL 5
        p.extend_from_slice(&total.to_be_bytes()); // total length
        p.extend_from_slice(&[0, 1, 0x40, 0, 64, 6, 0, 0]); // id, DF, TTL, TCP, checksum
        p.extend_from_slice(&[192, 0, 2, 1, 192, 0, 2, 2]);
        p.extend_from_slice(&[0x9c, 0x40, 0, 80]); // ports 40000 → 80
        p.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0]); // seq, ack
        p.extend_from_slice(&[0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0]); // offset 5, PSH ACK
        p.extend(std::iter::repeat_n(0x61, payload));
        p
    }

    fn frame(data: &[u8], original_len: usize) -> Frame<'_> {
        Frame {
            number: FrameNumber(1),
            timestamp: Duration::ZERO,
            link_type: LinkType::Ethernet,
            interface: 0,
            original_len: u32::try_from(original_len).unwrap(),
            big_endian_file: false,
            data,
            section: 1,
            ts_resolution: TsResolution::MICRO,
            snaplen: 0,
        }
    }

    #[test]
    fn every_snaplen_cut_is_labelled_by_where_it_falls() {
        let whole = tcp_packet(100);
        for n in 0..whole.len() {
            let packet = decode(&frame(&whole[..n], whole.len()));
            let cut = packet.snaplen_cut();
            match n {
                // Ethernet, IPv4 or TCP header cut inside itself: truncated, not a cut payload.
                0..54 => {
                    let m = packet.malformed.as_ref().expect("labelled");
                    assert_eq!(m.kind, MalformedKind::Truncated, "{n}: {m}");
                    assert!(cut.is_none(), "{n}");
                    if n >= 14 {
                        assert_eq!(m.offset, Some(if n < 34 { 14 } else { 34 }), "{n}: {m}");
                    }
                }
                _ => {
                    assert!(packet.malformed.is_none(), "{n}: {:?}", packet.malformed);
                    let cut = cut.expect("payload cut");
                    assert_eq!(
                        (cut.protocol, cut.captured, cut.on_wire),
                        ("tcp", n - 54, 100)
                    );
                    assert_eq!(packet.wire_payload_len(), 100, "{n}");
                }
            }
        }
        let packet = decode(&frame(&whole, whole.len()));
        assert!(packet.malformed.is_none() && packet.snaplen_cut().is_none());
    }

    #[test]
    fn a_cut_after_the_ip_datagram_is_a_frame_level_cut() {
        // 54-byte segment padded to the 60-byte Ethernet minimum, cut at 56.
        let mut padded = tcp_packet(0);
        padded.resize(60, 0);
        let packet = decode(&frame(&padded[..56], 60));
        assert!(packet.malformed.is_none());
        let cut = packet.snaplen_cut().expect("cut");
        assert_eq!((cut.protocol, cut.captured, cut.on_wire), ("frame", 56, 60));
        assert_eq!(packet.wire_payload_len(), 0);
    }

    #[test]
    fn length_fields_beyond_the_wire_stay_malformed_even_when_cut() {
        // IPv4 total length 140 in a frame of 100 bytes on the wire, captured 80.
        let whole = tcp_packet(100);
        let packet = decode(&frame(&whole[..80], 100));
        let m = packet.malformed.expect("malformed");
        assert_eq!((m.kind, m.protocol), (MalformedKind::Malformed, "ipv4"));
        // Not cut at all, IP claims more than the frame: malformed as before.
        let packet = decode(&frame(&whole[..80], 80));
        assert_eq!(
            packet.malformed.map(|m| m.kind),
            Some(MalformedKind::Malformed)
        );
    }

    #[test]
    fn captured_length_above_wire_length_is_malformed_at_the_frame() {
        let whole = tcp_packet(10);
        let packet = decode(&frame(&whole, 40));
        let m = packet.malformed.clone().expect("malformed");
        assert_eq!((m.kind, m.protocol), (MalformedKind::Malformed, "frame"));
        assert_eq!(
            m.reason,
            "frame length 40 is less than the captured length 64"
        );
        assert_eq!(packet.ports(), Some((40000, 80)), "the layers still decode");
    }
}
