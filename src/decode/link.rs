//! Link-layer headers: Ethernet and VLAN (through etherparse), Linux cooked SLL and SLL2, BSD
//! NULL and OpenBSD LOOP loopback, raw IP. Headers etherparse has no lax entry point for are
//! read here by hand; the rest of the packet goes to etherparse's lax slicer.

use etherparse::{EtherType, LaxSlicedPacket};

use super::{Malformed, MalformedKind, OsiLayer};
use crate::capture::{Frame, LinkType};

/// Length of a Linux cooked (v1) header.
const SLL_LEN: usize = 16;
/// Length of a Linux cooked v2 header.
const SLL2_LEN: usize = 20;
/// Length of a BSD / OpenBSD loopback header (the address family).
const LOOPBACK_LEN: usize = 4;
/// ARPHRD_* values whose protocol field is not an EtherType (netlink, IEEE 802.11 ...).
const ARPHRD_NETLINK: u16 = 824;

/// The link-layer header a frame started with, when pcaplab reads it by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkHeader {
    /// Ethernet II (the header itself is in `LaxSlicedPacket::link`).
    Ethernet,
    /// Linux cooked capture v1.
    Sll(Cooked),
    /// Linux cooked capture v2.
    Sll2(Cooked),
    /// BSD NULL or OpenBSD LOOP loopback header carrying an address family.
    Loopback {
        /// The address family value (2 = IPv4; 10, 24, 28 or 30 = IPv6 depending on the OS).
        family: u32,
    },
    /// No link header: the frame starts with an IP header.
    RawIp,
    /// A link type pcaplab does not decode.
    Unsupported(u32),
}

/// Fields of a Linux cooked (SLL or SLL2) header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cooked {
    /// Packet type: 0 to us, 1 broadcast, 2 multicast, 3 to another host, 4 sent by us.
    pub packet_type: u16,
    /// ARPHRD_* hardware type.
    pub hardware_type: u16,
    /// Link-layer address of the sender (only the valid bytes).
    pub address: [u8; 8],
    /// How many bytes of `address` are valid.
    pub address_len: u8,
    /// Protocol type, usually an EtherType.
    pub protocol: u16,
    /// Interface index (SLL2 only).
    pub interface_index: Option<u32>,
}

impl Cooked {
    /// Wireshark's name for the packet type.
    pub fn packet_type_name(&self) -> &'static str {
        match self.packet_type {
            0 => "Unicast to us",
            1 => "Broadcast",
            2 => "Multicast",
            3 => "Unicast to another host",
            4 => "Sent by us",
            _ => "Unknown",
        }
    }

    /// The valid bytes of the sender address.
    pub fn address(&self) -> &[u8] {
        self.address
            .get(..usize::from(self.address_len.min(8)))
            .unwrap_or_default()
    }
}

/// Result of reading the link layer: what header it was, and why decoding stopped there if it
/// did (etherparse's slices of the rest go straight into the packet: see [`decode_link`]).
pub(super) struct LinkDecode {
    pub header: LinkHeader,
    pub malformed: Option<Malformed>,
}

/// Reads the link-layer header of `frame` and slices the rest with etherparse into `sliced`
/// (left `None` when the link layer failed or carries no EtherType). The slices are written in
/// place: they are 330 bytes, and moving them through return values was a tenth of decoding.
pub(super) fn decode_link<'a>(
    frame: &Frame<'a>,
    sliced: &mut Option<LaxSlicedPacket<'a>>,
) -> LinkDecode {
    let data = frame.data;
    match frame.link_type {
        LinkType::Ethernet => {
            if super::fast::ethernet(data, sliced) {
                return LinkDecode {
                    header: LinkHeader::Ethernet,
                    malformed: None,
                };
            }
            match LaxSlicedPacket::from_ethernet(data) {
                Ok(s) => {
                    *sliced = Some(s);
                    LinkDecode {
                        header: LinkHeader::Ethernet,
                        malformed: None,
                    }
                }
                Err(_) => {
                    *sliced = None;
                    short_header(frame, LinkHeader::Ethernet, "ethernet", 14)
                }
            }
        }
        LinkType::LinuxSll => {
            let Some((head, rest)) = data.split_first_chunk::<SLL_LEN>() else {
                return short_header(frame, LinkHeader::Unsupported(113), "linux sll", SLL_LEN);
            };
            let mut address = [0u8; 8];
            address.copy_from_slice(&head[6..14]);
            let cooked = Cooked {
                packet_type: be16(head[0], head[1]),
                hardware_type: be16(head[2], head[3]),
                address_len: u8::try_from(be16(head[4], head[5])).unwrap_or(8).min(8),
                address,
                protocol: be16(head[14], head[15]),
                interface_index: None,
            };
            from_cooked(LinkHeader::Sll(cooked), cooked, rest, sliced)
        }
        LinkType::LinuxSll2 => {
            let Some((head, rest)) = data.split_first_chunk::<SLL2_LEN>() else {
                return short_header(frame, LinkHeader::Unsupported(276), "linux sll2", SLL2_LEN);
            };
            let mut address = [0u8; 8];
            address.copy_from_slice(&head[12..20]);
            let cooked = Cooked {
                protocol: be16(head[0], head[1]),
                interface_index: Some(u32::from_be_bytes([head[4], head[5], head[6], head[7]])),
                hardware_type: be16(head[8], head[9]),
                packet_type: u16::from(head[10]),
                address_len: head[11].min(8),
                address,
            };
            from_cooked(LinkHeader::Sll2(cooked), cooked, rest, sliced)
        }
        LinkType::Null | LinkType::Loop => {
            let Some((head, rest)) = data.split_first_chunk::<LOOPBACK_LEN>() else {
                return short_header(
                    frame,
                    LinkHeader::Loopback { family: 0 },
                    "loopback",
                    LOOPBACK_LEN,
                );
            };
            let family = loopback_family(*head, frame.link_type, frame.big_endian_file);
            from_ip(LinkHeader::Loopback { family }, rest, LOOPBACK_LEN, sliced)
        }
        LinkType::RawIp | LinkType::Ipv4 | LinkType::Ipv6 => {
            from_ip(LinkHeader::RawIp, data, 0, sliced)
        }
        LinkType::Other(n) => LinkDecode {
            header: LinkHeader::Unsupported(n),
            malformed: Some(Malformed {
                kind: MalformedKind::Malformed,
                layer: OsiLayer::DataLink,
                protocol: "link",
                offset: Some(0),
                reason: format!("link type {n} is not supported, frame left undecoded"),
            }),
        },
    }
}

/// Decodes the address family of a loopback header. NULL uses the writer's byte order, which
/// need not be the file's: like Wireshark, a value with its low 16 bits zero is taken swapped.
fn loopback_family(head: [u8; 4], link_type: LinkType, big_endian_file: bool) -> u32 {
    if link_type == LinkType::Loop {
        return u32::from_be_bytes(head);
    }
    let value = if big_endian_file {
        u32::from_be_bytes(head)
    } else {
        u32::from_le_bytes(head)
    };
    if value & 0xffff_0000 != 0 {
        value.swap_bytes()
    } else {
        value
    }
}

/// Hands the bytes after a cooked header to etherparse when the protocol is an EtherType.
fn from_cooked<'a>(
    header: LinkHeader,
    cooked: Cooked,
    rest: &'a [u8],
    sliced: &mut Option<LaxSlicedPacket<'a>>,
) -> LinkDecode {
    // SLL protocol values below 0x0600 are not EtherTypes (0x0001 802.3, 0x0004 802.2 LLC ...).
    if cooked.protocol < 0x0600 || cooked.hardware_type == ARPHRD_NETLINK {
        *sliced = None;
    } else if !super::fast::ether_payload(EtherType(cooked.protocol), rest, sliced) {
        *sliced = Some(LaxSlicedPacket::from_ether_type(
            EtherType(cooked.protocol),
            rest,
        ));
    }
    LinkDecode {
        header,
        malformed: None,
    }
}

/// Slices bytes that start with an IP header.
fn from_ip<'a>(
    header: LinkHeader,
    rest: &'a [u8],
    link_len: usize,
    sliced: &mut Option<LaxSlicedPacket<'a>>,
) -> LinkDecode {
    if super::fast::ip(rest, sliced) {
        return LinkDecode {
            header,
            malformed: None,
        };
    }
    match LaxSlicedPacket::from_ip(rest) {
        Ok(s) => {
            *sliced = Some(s);
            LinkDecode {
                header,
                malformed: None,
            }
        }
        Err(e) => {
            *sliced = None;
            LinkDecode {
                header,
                malformed: Some(Malformed {
                    kind: if rest.len() < 20 {
                        MalformedKind::Truncated
                    } else {
                        MalformedKind::Malformed
                    },
                    layer: OsiLayer::Network,
                    protocol: "ip",
                    offset: Some(link_len),
                    reason: e.to_string().to_lowercase(),
                }),
            }
        }
    }
}

fn short_header(
    frame: &Frame<'_>,
    header: LinkHeader,
    protocol: &'static str,
    needed: usize,
) -> LinkDecode {
    LinkDecode {
        header,
        malformed: Some(Malformed {
            kind: if frame.is_cut_by_snaplen() {
                MalformedKind::Truncated
            } else {
                MalformedKind::Malformed
            },
            layer: OsiLayer::DataLink,
            protocol,
            offset: Some(0),
            reason: format!(
                "{} bytes captured, fewer than the {needed}-byte header",
                frame.data.len()
            ),
        }),
    }
}

fn be16(hi: u8, lo: u8) -> u16 {
    u16::from_be_bytes([hi, lo])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_family_in_either_byte_order() {
        assert_eq!(loopback_family([2, 0, 0, 0], LinkType::Null, false), 2);
        assert_eq!(loopback_family([0, 0, 0, 2], LinkType::Null, false), 2);
        assert_eq!(loopback_family([0, 0, 0, 30], LinkType::Null, true), 30);
        assert_eq!(loopback_family([0, 0, 0, 2], LinkType::Loop, false), 2);
    }
}
