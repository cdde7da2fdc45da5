//! A direct route to etherparse's lax slicing result for the frames that decode whole, which
//! are nearly all of them.
//!
//! etherparse's `LaxSlicedPacket::from_*` pass a 330-byte cursor by value from layer to layer
//! and return the result through each of them: four or five copies of it per packet, some 15 %
//! of reading and decoding a capture. Here the same etherparse slice constructors are called in
//! the same order and the result is built once. Whenever a layer does not slice cleanly (an
//! error, an IPv6 extension header problem, a MACsec or ARP layer, more VLAN tags than
//! etherparse keeps), the functions return `None` and the caller takes etherparse's own route,
//! so the result is always exactly etherparse's (the tests compare both on every fixture frame,
//! every cut of them and random bytes).

use etherparse::{
    EtherPayloadSlice, EtherType, Ethernet2Slice, Icmpv4Slice, Icmpv6Slice, IgmpSlice, IpNumber,
    LaxIpSlice, LaxLinkExtSlice, LaxNetSlice, LaxSlicedPacket, LenSource, LinkSlice,
    SingleVlanSlice, TcpSlice, TransportSlice, UdpSlice, ether_type, ip_number,
};

/// Writes `LaxSlicedPacket::from_ethernet(data)` into `out` when every layer slices cleanly
/// and returns true; false (and `out` to be overwritten) otherwise.
#[inline]
pub(super) fn ethernet<'a>(data: &'a [u8], out: &mut Option<LaxSlicedPacket<'a>>) -> bool {
    let Ok(eth) = Ethernet2Slice::from_slice_without_fcs(data) else {
        return false;
    };
    let payload = eth.payload();
    above_link(out.insert(empty(Some(LinkSlice::Ethernet2(eth)))), payload).is_some()
}

/// Writes `LaxSlicedPacket::from_ether_type(ether_type, data)` into `out` when every layer
/// slices cleanly and returns true; false (and `out` to be overwritten) otherwise.
#[inline]
pub(super) fn ether_payload<'a>(
    ether_type: EtherType,
    data: &'a [u8],
    out: &mut Option<LaxSlicedPacket<'a>>,
) -> bool {
    let payload = EtherPayloadSlice {
        ether_type,
        len_source: LenSource::Slice,
        payload: data,
    };
    let link = LinkSlice::EtherPayload(payload.clone());
    above_link(out.insert(empty(Some(link))), payload).is_some()
}

/// Writes `LaxSlicedPacket::from_ip(data)` into `out` when every layer slices cleanly and
/// returns true; false (and `out` to be overwritten) otherwise.
#[inline]
pub(super) fn ip<'a>(data: &'a [u8], out: &mut Option<LaxSlicedPacket<'a>>) -> bool {
    above_ip(out.insert(empty(None)), data).is_some()
}

/// A result with only its link layer.
#[inline]
fn empty(link: Option<LinkSlice<'_>>) -> LaxSlicedPacket<'_> {
    LaxSlicedPacket {
        link,
        link_exts: Default::default(),
        net: None,
        transport: None,
        stop_err: None,
    }
}

/// The VLAN tags and the IP layer after a link header whose payload is `payload`, into `out`.
#[inline]
fn above_link<'a>(out: &mut LaxSlicedPacket<'a>, mut payload: EtherPayloadSlice<'a>) -> Option<()> {
    loop {
        match payload.ether_type {
            ether_type::VLAN_TAGGED_FRAME
            | ether_type::PROVIDER_BRIDGING
            | ether_type::VLAN_DOUBLE_TAGGED_FRAME => {
                if out.link_exts.is_full() {
                    return None;
                }
                let vlan = SingleVlanSlice::from_slice(payload.payload).ok()?;
                let inner = vlan.payload();
                payload = EtherPayloadSlice {
                    ether_type: inner.ether_type,
                    len_source: LenSource::Slice,
                    payload: inner.payload,
                };
                out.link_exts.try_push(LaxLinkExtSlice::Vlan(vlan)).ok()?;
            }
            ether_type::IPV4 | ether_type::IPV6 => return above_ip(out, payload.payload),
            // Not IP (ARP, MACsec, anything else): etherparse's route.
            _ => return None,
        }
    }
}

/// The IP layer and the transport layer above it, into `out`.
#[inline]
fn above_ip<'a>(out: &mut LaxSlicedPacket<'a>, data: &'a [u8]) -> Option<()> {
    let (ip, stop) = LaxIpSlice::from_slice(data).ok()?;
    if stop.is_some() {
        return None;
    }
    let payload = ip.payload().clone();
    out.net = Some(LaxNetSlice::from(ip));
    if payload.fragmented {
        return Some(());
    }
    out.transport = transport(payload.ip_number, payload.payload)?;
    Some(())
}

/// The transport slice of an unfragmented IP payload: `Some(None)` for a protocol etherparse
/// does not slice, `None` when the slice fails (etherparse's route then says why).
#[inline]
fn transport(protocol: IpNumber, data: &[u8]) -> Option<Option<TransportSlice<'_>>> {
    Some(Some(match protocol {
        ip_number::TCP => TransportSlice::Tcp(TcpSlice::from_slice(data).ok()?),
        ip_number::UDP => TransportSlice::Udp(UdpSlice::from_slice_lax(data).ok()?),
        ip_number::ICMP => TransportSlice::Icmpv4(Icmpv4Slice::from_slice(data).ok()?),
        ip_number::IPV6_ICMP => TransportSlice::Icmpv6(Icmpv6Slice::from_slice(data).ok()?),
        ip_number::IGMP => TransportSlice::Igmp(IgmpSlice::from_slice(data).ok()?),
        _ => return Some(None),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::{CaptureReader, LinkType};

    /// Both routes on `data` as a frame of `link`.
    fn check(link: LinkType, data: &[u8]) {
        match link {
            LinkType::Ethernet => {
                let slow = LaxSlicedPacket::from_ethernet(data).ok();
                let mut fast = None;
                if ethernet(data, &mut fast) {
                    assert_eq!(fast, slow, "ethernet {data:02x?}");
                }
            }
            LinkType::RawIp | LinkType::Ipv4 | LinkType::Ipv6 => {
                let slow = LaxSlicedPacket::from_ip(data).ok();
                let mut fast = None;
                if ip(data, &mut fast) {
                    assert_eq!(fast, slow, "ip {data:02x?}");
                }
            }
            _ => {}
        }
        for et in [0x0800u16, 0x86dd, 0x8100, 0x0806] {
            let slow = LaxSlicedPacket::from_ether_type(EtherType(et), data);
            let mut fast = None;
            if ether_payload(EtherType(et), data, &mut fast) {
                assert_eq!(fast, Some(slow), "ether type {et:#x} {data:02x?}");
            }
        }
        let slow = LaxSlicedPacket::from_ip(data).ok();
        let mut fast = None;
        if ip(data, &mut fast) {
            assert_eq!(fast, slow, "ip {data:02x?}");
        }
    }

    /// Every frame of every capture in `fixtures/`, whole and cut at every length up to 80
    /// bytes and then every 7th, gives etherparse's result whenever the direct route answers;
    /// and it answers for most whole frames (else it would buy nothing).
    #[test]
    fn same_result_as_etherparse_on_every_fixture_frame_and_cut() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let mut frames = 0u64;
        let mut direct = 0u64;
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"))
            .collect();
        files.sort();
        for path in files {
            let Ok(mut reader) = CaptureReader::open(&path) else {
                continue;
            };
            let mut n = 0;
            while let Some(Ok(frame)) = reader.next_frame() {
                n += 1;
                if n > 400 {
                    break;
                }
                frames += 1;
                let data = frame.data;
                let whole = match frame.link_type {
                    LinkType::Ethernet => ethernet(data, &mut None),
                    _ => false,
                };
                direct += u64::from(whole);
                let mut cut = 0;
                while cut <= data.len() {
                    check(frame.link_type, &data[..cut]);
                    cut += if cut < 80 { 1 } else { 7 };
                }
                check(frame.link_type, data);
            }
        }
        assert!(frames > 1000, "{frames} frames");
        assert!(
            direct * 2 > frames,
            "{direct} of {frames} frames took the direct route"
        );
    }

    /// Random bytes after an Ethernet, VLAN, IPv4 or IPv6 start, with bits flipped.
    #[test]
    fn same_result_as_etherparse_on_damaged_headers() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let starts: [&[u8]; 4] = [
            &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00, 0x45],
            &[
                0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x81, 0x00, 0, 5, 0x86, 0xdd, 0x60,
            ],
            &[
                0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x86, 0xdd, 0x60, 0, 0, 0,
            ],
            &[
                0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x88, 0xa8, 0, 5, 0x81, 0x00, 0, 6,
            ],
        ];
        for i in 0..20_000 {
            let start = starts[i % starts.len()];
            let len = start.len() + (next() % 90) as usize;
            let mut data: Vec<u8> = start.to_vec();
            while data.len() < len {
                data.push(next() as u8);
            }
            // Plausible IP headers often enough: a valid version/IHL, then a flipped bit.
            if next() % 2 == 0 {
                let at = (next() as usize) % data.len();
                data[at] ^= 1 << (next() % 8);
            }
            check(LinkType::Ethernet, &data);
            check(LinkType::RawIp, data.get(14..).unwrap_or_default());
        }
    }
}
