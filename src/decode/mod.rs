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
mod layer;
pub mod link;
mod malformed;

use std::net::IpAddr;

use etherparse::err::Layer;
use etherparse::{LaxNetSlice, LaxSlicedPacket, LenSource, TransportSlice};

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
pub fn decode<'a>(frame: &Frame<'a>) -> Packet<'a> {
    let link = link::decode_link(frame);
    let mut malformed = link.malformed;
    if malformed.is_none()
        && let Some(sliced) = &link.sliced
    {
        malformed = stop_reason(frame, sliced);
    }
    Packet {
        frame: *frame,
        link: link.header,
        sliced: link.sliced,
        malformed,
    }
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
    /// when the capture cut the frame (snaplen): derived from the IP length fields like
    /// tshark's `tcp.len`.
    pub fn wire_payload_len(&self) -> usize {
        let captured = self.payload().len();
        if !self.frame.is_cut_by_snaplen() {
            return captured;
        }
        let header_len = match self.transport() {
            Some(TransportSlice::Tcp(t)) => usize::from(t.data_offset()) * 4,
            Some(TransportSlice::Udp(_)) => 8,
            _ => return captured,
        };
        self.ip_payload_wire_len()
            .map_or(captured, |len| len.saturating_sub(header_len).max(captured))
    }

    /// Length of the IP payload according to the IP header (not the capture).
    pub fn ip_payload_wire_len(&self) -> Option<usize> {
        match self.sliced.as_ref()?.net.as_ref()? {
            LaxNetSlice::Ipv4(ip) => {
                let h = ip.header();
                let total = usize::from(h.total_len());
                (total > 0).then(|| total.saturating_sub(usize::from(h.ihl()) * 4))
            }
            LaxNetSlice::Ipv6(ip) => Some(
                usize::from(ip.header().payload_length())
                    .saturating_sub(ip.extensions().slice().len()),
            ),
            LaxNetSlice::Arp(_) => None,
        }
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

/// Turns etherparse's stop error (or an IP payload shorter than its header says) into a
/// `Malformed` value.
fn stop_reason(frame: &Frame<'_>, sliced: &LaxSlicedPacket<'_>) -> Option<Malformed> {
    let cut = frame.is_cut_by_snaplen();
    let kind = if cut {
        MalformedKind::Truncated
    } else {
        MalformedKind::Malformed
    };
    if let Some((err, layer)) = &sliced.stop_err {
        let (osi, protocol) = layer_name(*layer);
        return Some(Malformed {
            kind,
            layer: osi,
            protocol,
            offset: None,
            reason: err.to_string().to_lowercase(),
        });
    }
    if let Some(payload) = sliced.net.as_ref().and_then(|n| n.ip_payload_ref())
        && (payload.incomplete || payload.len_source == LenSource::Slice && cut)
    {
        let reason = if cut {
            format!(
                "cut by snaplen: {} of {} bytes captured",
                frame.data.len(),
                frame.original_len
            )
        } else {
            "ip length field claims more bytes than the frame holds".to_string()
        };
        return Some(Malformed {
            kind,
            layer: OsiLayer::Network,
            protocol: "ip",
            offset: None,
            reason,
        });
    }
    if let Some(TransportSlice::Udp(udp)) = &sliced.transport
        && udp.payload_len_source() == LenSource::Slice
        && usize::from(udp.length()) != udp.slice().len()
    {
        return Some(Malformed {
            kind,
            layer: OsiLayer::Transport,
            protocol: "udp",
            offset: None,
            reason: format!(
                "udp length {} does not match the {} bytes present",
                udp.length(),
                udp.slice().len()
            ),
        });
    }
    if cut {
        return Some(Malformed {
            kind,
            layer: OsiLayer::Physical,
            protocol: "frame",
            offset: Some(frame.data.len()),
            reason: format!(
                "cut by snaplen: {} of {} bytes captured",
                frame.data.len(),
                frame.original_len
            ),
        });
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
