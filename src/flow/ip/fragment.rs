//! `Fragment<'a>`: the fields of one IPv4 or IPv6 fragment that reassembly needs, read from the
//! IP header bytes of a frame (zero-copy), and `Key`, the identity of the datagram it belongs to.
//!
//! The IP headers are read here by hand rather than through etherparse's slices: etherparse keeps
//! walking IPv6 extension headers *after* a Fragment header, so on a fragment whose Next Header
//! is an extension header (Destination Options, AH) it reads fragment data as headers. RFC 8200
//! §4.5: everything after the Fragment header is the fragment's data.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use etherparse::{IpNumber, LaxNetSlice};

use crate::decode::Packet;

/// IPv6 Next Header values of the extension headers walked before a Fragment header.
const HOP_BY_HOP: u8 = 0; // RFC 8200 §4.3
const ROUTING: u8 = 43; // RFC 8200 §4.4
const FRAGMENT: u8 = 44; // RFC 8200 §4.5
const AUTH: u8 = 51; // RFC 4302 §2.2
const DEST_OPTIONS: u8 = 60; // RFC 8200 §4.6
/// Length of the fixed IPv6 header.
const IPV6_HEADER_LEN: usize = 40;
/// Length of the IPv6 Fragment header.
const FRAGMENT_HEADER_LEN: usize = 8;

/// What identifies the datagram a fragment belongs to.
///
/// RFC 791 §3.2: source, destination, protocol and identification for IPv4. RFC 8200 §4.5:
/// source, destination and the Fragment header's identification for IPv6 (the Next Header may
/// differ between fragments, so it is not part of the key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Key {
    /// An IPv4 datagram.
    V4 {
        /// Source address.
        src: Ipv4Addr,
        /// Destination address.
        dst: Ipv4Addr,
        /// Protocol of the payload.
        protocol: IpNumber,
        /// Identification field.
        id: u16,
    },
    /// An IPv6 packet.
    V6 {
        /// Source address.
        src: Ipv6Addr,
        /// Destination address.
        dst: Ipv6Addr,
        /// Identification of the Fragment header.
        id: u32,
    },
}

impl Key {
    /// The source address.
    pub fn src(&self) -> IpAddr {
        match self {
            Key::V4 { src, .. } => IpAddr::V4(*src),
            Key::V6 { src, .. } => IpAddr::V6(*src),
        }
    }

    /// The destination address.
    pub fn dst(&self) -> IpAddr {
        match self {
            Key::V4 { dst, .. } => IpAddr::V4(*dst),
            Key::V6 { dst, .. } => IpAddr::V6(*dst),
        }
    }

    /// The identification (Wireshark's `ip.id` or `ipv6.fraghdr.ident`).
    pub fn id(&self) -> u32 {
        match self {
            Key::V4 { id, .. } => u32::from(*id),
            Key::V6 { id, .. } => *id,
        }
    }

    /// True for an IPv6 key.
    pub fn is_ipv6(&self) -> bool {
        matches!(self, Key::V6 { .. })
    }
}

/// One IP fragment: which datagram it belongs to, where its bytes go, and the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fragment<'a> {
    /// The datagram it belongs to.
    pub key: Key,
    /// The protocol of the payload as this fragment names it (IPv4 Protocol, or the Next Header
    /// of the IPv6 Fragment header; only the offset-0 fragment's counts for IPv6).
    pub protocol: IpNumber,
    /// Position of the first byte in the reassembled payload (Fragment Offset × 8).
    pub offset: u32,
    /// The More Fragments flag: false on the last fragment.
    pub more_fragments: bool,
    /// The fragment's data as captured (may be shorter than `wire_len` when cut by snaplen).
    pub payload: &'a [u8],
    /// Length of the fragment's data on the wire, from the IP header's length field.
    pub wire_len: usize,
}

impl<'a> Fragment<'a> {
    /// The fragment carried by a decoded packet, or `None` when the packet is not a fragment
    /// (no IP layer, an unfragmented datagram, an IPv6 atomic fragment, or headers too short or
    /// inconsistent to tell).
    pub fn from_packet(packet: &Packet<'a>) -> Option<Fragment<'a>> {
        let header = match packet.sliced.as_ref()?.net.as_ref()? {
            LaxNetSlice::Ipv4(ip) => ip.header().slice(),
            LaxNetSlice::Ipv6(ip) => ip.header().slice(),
            LaxNetSlice::Arp(_) => return None,
        };
        let data = packet.frame.data;
        let start = offset_in(data, header)?;
        Fragment::from_ip(data.get(start..)?)
    }

    /// Reads the fragment from bytes that start with an IPv4 or IPv6 header (and may go on past
    /// the datagram's end, e.g. Ethernet padding). `None` when they are not a fragment.
    pub fn from_ip(ip: &'a [u8]) -> Option<Fragment<'a>> {
        match ip.first()? >> 4 {
            4 => from_ipv4(ip),
            6 => from_ipv6(ip),
            _ => None,
        }
    }

    /// True when the capture kept fewer bytes of the fragment than were on the wire.
    pub fn is_cut(&self) -> bool {
        self.payload.len() < self.wire_len
    }

    /// Offset just past the fragment's last byte in the reassembled payload (wire length).
    pub fn end(&self) -> usize {
        (self.offset as usize).saturating_add(self.wire_len)
    }
}

/// RFC 791 §3.1: the header fields that fragmentation uses.
fn from_ipv4(ip: &[u8]) -> Option<Fragment<'_>> {
    let header_len = usize::from(ip.first()? & 0x0f) * 4;
    if header_len < 20 {
        return None;
    }
    let header = ip.get(..header_len)?;
    let total_len = usize::from(be16(header, 2)?);
    if total_len < header_len {
        return None;
    }
    let flags_offset = be16(header, 6)?;
    let more_fragments = flags_offset & 0x2000 != 0;
    let offset = u32::from(flags_offset & 0x1fff) * 8;
    if !more_fragments && offset == 0 {
        return None;
    }
    let end = total_len.min(ip.len());
    Some(Fragment {
        key: Key::V4 {
            src: ipv4(header, 12)?,
            dst: ipv4(header, 16)?,
            protocol: IpNumber(*header.get(9)?),
            id: be16(header, 4)?,
        },
        protocol: IpNumber(*header.get(9)?),
        offset,
        more_fragments,
        payload: ip.get(header_len..end)?,
        wire_len: total_len - header_len,
    })
}

/// RFC 8200 §4.5: the Fragment header follows the unfragmentable part (Hop-by-Hop, Routing, and
/// Destination Options before a Routing header); the fragment's data follows it.
fn from_ipv6(ip: &[u8]) -> Option<Fragment<'_>> {
    let header = ip.get(..IPV6_HEADER_LEN)?;
    let payload_len = usize::from(be16(header, 4)?);
    let mut next = *header.get(6)?;
    // Bytes of the IPv6 payload that were captured.
    let captured_end = IPV6_HEADER_LEN.saturating_add(payload_len).min(ip.len());
    let payload = ip.get(IPV6_HEADER_LEN..captured_end)?;
    let mut pos = 0usize;
    let (frag_next, offset_flags, id) = loop {
        match next {
            HOP_BY_HOP | ROUTING | DEST_OPTIONS => {
                next = *payload.get(pos)?;
                let len = (usize::from(*payload.get(pos + 1)?) + 1) * 8;
                pos += len;
            }
            AUTH => {
                next = *payload.get(pos)?;
                let len = (usize::from(*payload.get(pos + 1)?) + 2) * 4;
                pos += len;
            }
            FRAGMENT => {
                let frag = payload.get(pos..pos + FRAGMENT_HEADER_LEN)?;
                break (*frag.first()?, be16(frag, 2)?, be32(frag, 4)?);
            }
            _ => return None,
        }
    };
    let more_fragments = offset_flags & 1 != 0;
    let offset = u32::from(offset_flags & 0xfff8);
    if !more_fragments && offset == 0 {
        // RFC 6946: an atomic fragment is processed as a whole packet.
        return None;
    }
    let data_start = pos + FRAGMENT_HEADER_LEN;
    if payload_len < data_start {
        return None;
    }
    Some(Fragment {
        key: Key::V6 {
            src: ipv6(header, 8)?,
            dst: ipv6(header, 24)?,
            id,
        },
        protocol: IpNumber(frag_next),
        offset,
        more_fragments,
        payload: payload.get(data_start..).unwrap_or_default(),
        wire_len: payload_len - data_start,
    })
}

/// Where `inner` starts in `outer`, when it is a sub-slice of it.
fn offset_in(outer: &[u8], inner: &[u8]) -> Option<usize> {
    let start = (inner.as_ptr() as usize).checked_sub(outer.as_ptr() as usize)?;
    (start.checked_add(inner.len())? <= outer.len()).then_some(start)
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(*b.get(at..)?.first_chunk::<2>()?))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(*b.get(at..)?.first_chunk::<4>()?))
}

fn ipv4(b: &[u8], at: usize) -> Option<Ipv4Addr> {
    Some(Ipv4Addr::from(*b.get(at..)?.first_chunk::<4>()?))
}

fn ipv6(b: &[u8], at: usize) -> Option<Ipv6Addr> {
    Some(Ipv6Addr::from(*b.get(at..)?.first_chunk::<16>()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// IPv4 header of a middle fragment: id 0x1234, MF, offset 185 (1480 bytes), UDP, 8 data bytes.
    const V4_MIDDLE: [u8; 28] = [
        0x45, 0x00, // version 4, IHL 5; DSCP/ECN
        0x00, 0x1c, // total length 28
        0x12, 0x34, // identification
        0x20, 0xb9, // flags MF, fragment offset 185
        0x40, 0x11, // TTL 64, protocol UDP
        0x00, 0x00, // checksum (not checked)
        192, 0, 2, 1, // source
        198, 51, 100, 2, // destination
        1, 2, 3, 4, 5, 6, 7, 8, // data
    ];

    /// IPv6 header + Destination Options (8 bytes) + Fragment header (next UDP, offset 2 = 16
    /// bytes, M, id 0xdeadbeef) + 8 data bytes.
    const V6_FIRST: [u8; 64] = [
        0x60, 0, 0, 0, // version 6, traffic class, flow label
        0x00, 0x18, // payload length 24
        60, 64, // next header Destination Options, hop limit 64
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, // source 2001:db8::1
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, // destination 2001:db8::2
        44, 0, 1, 4, 0, 0, 0, 0, // Destination Options: next Fragment, len 0 (8 bytes), PadN
        17, 0, // Fragment: next header UDP, reserved
        0x00, 0x11, // offset 2 (16 bytes), M
        0xde, 0xad, 0xbe, 0xef, // identification
        9, 9, 9, 9, 9, 9, 9, 9, // data
    ];

    #[test]
    fn ipv4_middle_fragment() {
        let f = Fragment::from_ip(&V4_MIDDLE).unwrap();
        assert_eq!(
            f.key,
            Key::V4 {
                src: Ipv4Addr::new(192, 0, 2, 1),
                dst: Ipv4Addr::new(198, 51, 100, 2),
                protocol: IpNumber::UDP,
                id: 0x1234
            }
        );
        assert_eq!(f.offset, 1480);
        assert!(f.more_fragments);
        assert_eq!(f.payload, &[1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(f.wire_len, 8);
        assert!(!f.is_cut());
        assert_eq!(f.end(), 1488);
    }

    #[test]
    fn ipv4_padding_after_total_length_is_not_data() {
        let mut padded = V4_MIDDLE.to_vec();
        padded.extend_from_slice(&[0xee; 18]);
        assert_eq!(Fragment::from_ip(&padded).unwrap().payload.len(), 8);
    }

    #[test]
    fn ipv4_unfragmented_is_not_a_fragment() {
        let mut whole = V4_MIDDLE;
        whole[6] = 0x40; // DF only, offset 0
        whole[7] = 0;
        assert_eq!(Fragment::from_ip(&whole), None);
        // Last fragment: offset set, MF clear.
        let mut last = V4_MIDDLE;
        last[6] = 0x00;
        assert!(!Fragment::from_ip(&last).unwrap().more_fragments);
    }

    #[test]
    fn ipv4_bad_header_lengths() {
        let mut short_ihl = V4_MIDDLE;
        short_ihl[0] = 0x44;
        assert_eq!(Fragment::from_ip(&short_ihl), None);
        let mut short_total = V4_MIDDLE;
        short_total[3] = 19;
        assert_eq!(Fragment::from_ip(&short_total), None);
    }

    #[test]
    fn ipv4_cut_fragment_keeps_wire_length() {
        let f = Fragment::from_ip(&V4_MIDDLE[..24]).unwrap();
        assert_eq!(f.payload, &[1, 2, 3, 4]);
        assert_eq!(f.wire_len, 8);
        assert!(f.is_cut());
    }

    #[test]
    fn ipv6_fragment_after_destination_options() {
        let f = Fragment::from_ip(&V6_FIRST).unwrap();
        assert_eq!(
            f.key,
            Key::V6 {
                src: "2001:db8::1".parse().unwrap(),
                dst: "2001:db8::2".parse().unwrap(),
                id: 0xdead_beef
            }
        );
        assert_eq!(f.protocol, IpNumber::UDP);
        assert_eq!(f.offset, 16);
        assert!(f.more_fragments);
        assert_eq!(f.payload, &[9; 8]);
        assert_eq!(f.wire_len, 8);
    }

    #[test]
    fn ipv6_fragment_whose_data_looks_like_a_header() {
        // Next Header in the Fragment header is Destination Options: the data is still data.
        let mut p = V6_FIRST;
        p[48] = DEST_OPTIONS;
        let f = Fragment::from_ip(&p).unwrap();
        assert_eq!(f.protocol, IpNumber(DEST_OPTIONS));
        assert_eq!(f.payload, &[9; 8]);
    }

    #[test]
    fn ipv6_atomic_fragment_and_no_fragment_header() {
        let mut atomic = V6_FIRST;
        atomic[51] = 0; // offset 0, M clear
        assert_eq!(Fragment::from_ip(&atomic), None);
        let mut udp = V6_FIRST;
        udp[6] = 17;
        assert_eq!(Fragment::from_ip(&udp), None);
    }

    #[test]
    fn every_prefix_is_handled() {
        for n in 0..V4_MIDDLE.len() {
            let f = Fragment::from_ip(&V4_MIDDLE[..n]);
            assert_eq!(f.is_some(), n >= 20, "ipv4 prefix {n}");
        }
        for n in 0..V6_FIRST.len() {
            let f = Fragment::from_ip(&V6_FIRST[..n]);
            // The fragment header ends at byte 56; the data may be cut.
            assert_eq!(f.is_some(), n >= 56, "ipv6 prefix {n}");
            if let Some(f) = f {
                assert_eq!(f.payload.len(), n - 56);
                assert_eq!(f.wire_len, 8);
            }
        }
    }

    #[test]
    fn offset_in_finds_sub_slices_only() {
        let outer = [0u8; 10];
        assert_eq!(offset_in(&outer, &outer[3..7]), Some(3));
        assert_eq!(offset_in(&outer, &outer[10..]), Some(10));
        assert_eq!(offset_in(&outer[..5], &outer[3..7]), None);
        assert_eq!(offset_in(&outer[4..], &outer[..6]), None);
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_are_read_without_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..120)) {
            if let Some(f) = Fragment::from_ip(&bytes) {
                proptest::prop_assert!(f.payload.len() <= bytes.len());
                proptest::prop_assert!(f.payload.len() <= f.wire_len || !f.is_cut());
            }
        }
    }
}
