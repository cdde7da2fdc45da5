//! The transport layer of a reassembled datagram, as the same etherparse views that `decode`
//! gives for a whole packet, so TCP and UDP consumers take either without knowing.

use etherparse::{Icmpv4Slice, Icmpv6Slice, IpNumber, TcpSlice, TransportSlice, UdpSlice};

use super::defrag::Datagram;
use crate::decode::{Malformed, MalformedKind, OsiLayer, Packet};

/// IPv6 extension headers that may start the fragmentable part (RFC 8200 §4.1).
const HOP_BY_HOP: u8 = 0;
const ROUTING: u8 = 43;
const FRAGMENT: u8 = 44;
const AUTH: u8 = 51;
const NO_NEXT_HEADER: u8 = 59;
const DEST_OPTIONS: u8 = 60;

impl<'d> Datagram<'d> {
    /// The upper-layer protocol and its bytes: for IPv6 the extension headers at the start of
    /// the fragmentable part (Destination Options, Routing, AH) are skipped. `None` when that
    /// chain runs past the payload or ends in No Next Header.
    pub fn upper_layer(&self) -> Option<(IpNumber, &'d [u8])> {
        if !self.key.is_ipv6() {
            return Some((self.protocol, self.payload));
        }
        let mut next = self.protocol.0;
        let mut rest = self.payload;
        loop {
            let len = match next {
                HOP_BY_HOP | ROUTING | DEST_OPTIONS => (usize::from(*rest.get(1)?) + 1) * 8,
                AUTH => (usize::from(*rest.get(1)?) + 2) * 4,
                FRAGMENT => 8,
                NO_NEXT_HEADER => return None,
                _ => return Some((IpNumber(next), rest)),
            };
            next = *rest.first()?;
            rest = rest.get(len..)?;
        }
    }

    /// Decodes the transport header of the reassembled payload: TCP, UDP, ICMP or ICMPv6.
    /// `Ok(None)` for another protocol.
    ///
    /// # Errors
    /// A [`Malformed`] naming the layer when the header does not fit the payload.
    pub fn transport(&self) -> Result<Option<TransportSlice<'d>>, Malformed> {
        let Some((protocol, bytes)) = self.upper_layer() else {
            return Err(malformed(
                OsiLayer::Network,
                "ipv6",
                "extension headers run past the reassembled payload".to_string(),
            ));
        };
        let result = match protocol {
            IpNumber::TCP => TcpSlice::from_slice(bytes)
                .map(TransportSlice::Tcp)
                .map_err(|e| malformed(OsiLayer::Transport, "tcp", e.to_string())),
            IpNumber::UDP => UdpSlice::from_slice(bytes)
                .map(TransportSlice::Udp)
                .map_err(|e| malformed(OsiLayer::Transport, "udp", e.to_string())),
            IpNumber::ICMP if !self.key.is_ipv6() => Icmpv4Slice::from_slice(bytes)
                .map(TransportSlice::Icmpv4)
                .map_err(|e| malformed(OsiLayer::Network, "icmp", e.to_string())),
            IpNumber::IPV6_ICMP if self.key.is_ipv6() => Icmpv6Slice::from_slice(bytes)
                .map(TransportSlice::Icmpv6)
                .map_err(|e| malformed(OsiLayer::Network, "icmpv6", e.to_string())),
            _ => return Ok(None),
        };
        result.map(Some)
    }

    /// The packet of the frame that completed the datagram, with its transport layer replaced
    /// by the reassembled one, for consumers that take a [`Packet`]: `ip_addrs()`,
    /// `transport()`, `ports()` and `payload()` then describe the whole datagram, while the
    /// frame and the IP header remain those of the last fragment (`is_fragment()` stays true).
    /// A transport header that does not decode becomes the packet's `malformed`.
    pub fn to_packet<'x>(&self, completing: &Packet<'x>) -> Packet<'x>
    where
        'd: 'x,
    {
        let mut packet = completing.clone();
        let (transport, problem) = match self.transport() {
            Ok(t) => (t, None),
            Err(m) => (None, Some(m)),
        };
        if let Some(sliced) = packet.sliced.as_mut() {
            sliced.transport = transport;
            sliced.stop_err = None;
        }
        packet.malformed = problem;
        packet
    }
}

fn malformed(layer: OsiLayer, protocol: &'static str, reason: String) -> Malformed {
    Malformed {
        kind: MalformedKind::Malformed,
        layer,
        protocol,
        offset: None,
        reason: format!("reassembled datagram: {}", reason.to_lowercase()),
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};
    use std::time::Duration;

    use super::*;
    use crate::capture::{Frame, FrameNumber, LinkType};
    use crate::flow::ip::{Defragmenter, Fragment, Key, Push};

    fn datagram(key: Key, protocol: IpNumber, payload: &[u8]) -> Datagram<'_> {
        Datagram {
            key,
            protocol,
            payload,
            frames: &[],
            reassembled_in: FrameNumber(1),
            overlap: false,
            conflict: false,
            first_seen: Duration::ZERO,
        }
    }

    const V4: Key = Key::V4 {
        src: Ipv4Addr::new(192, 0, 2, 1),
        dst: Ipv4Addr::new(198, 51, 100, 2),
        protocol: IpNumber::UDP,
        id: 1,
    };

    fn v6() -> Key {
        Key::V6 {
            src: Ipv6Addr::LOCALHOST,
            dst: Ipv6Addr::LOCALHOST,
            id: 1,
        }
    }

    /// UDP 12345 → 69, length 12, 4 data bytes.
    const UDP: [u8; 12] = [0x30, 0x39, 0, 69, 0, 12, 0, 0, b'd', b'a', b't', b'a'];

    #[test]
    fn udp_over_ipv4() {
        let d = datagram(V4, IpNumber::UDP, &UDP);
        match d.transport() {
            Ok(Some(TransportSlice::Udp(u))) => {
                assert_eq!((u.source_port(), u.destination_port()), (12345, 69));
                assert_eq!(u.payload(), b"data");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn udp_length_past_the_payload_is_malformed() {
        let mut bad = UDP;
        bad[5] = 200;
        let err = datagram(V4, IpNumber::UDP, &bad).transport().unwrap_err();
        assert_eq!(err.protocol, "udp");
        assert_eq!(err.layer, OsiLayer::Transport);
    }

    #[test]
    fn tcp_and_icmp() {
        // TCP 80 → 1234, seq 1, data offset 5, ACK, 2 data bytes.
        let tcp = [
            0, 80, 0x04, 0xd2, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x10, 0xff, 0xff, 0, 0, 0, 0, b'h',
            b'i',
        ];
        match datagram(V4, IpNumber::TCP, &tcp).transport() {
            Ok(Some(TransportSlice::Tcp(t))) => assert_eq!(t.payload(), b"hi"),
            other => panic!("{other:?}"),
        }
        let echo = [8, 0, 0, 0, 0, 1, 0, 1, 1, 2, 3];
        assert!(matches!(
            datagram(V4, IpNumber::ICMP, &echo).transport(),
            Ok(Some(TransportSlice::Icmpv4(_)))
        ));
        assert!(matches!(
            datagram(v6(), IpNumber::IPV6_ICMP, &[128, 0, 0, 0, 0, 1, 0, 1]).transport(),
            Ok(Some(TransportSlice::Icmpv6(_)))
        ));
        // ICMP numbers do not cross IP versions; other protocols are not decoded.
        assert!(matches!(
            datagram(v6(), IpNumber::ICMP, &echo).transport(),
            Ok(None)
        ));
        assert!(matches!(
            datagram(V4, IpNumber(47), &echo).transport(),
            Ok(None)
        ));
    }

    #[test]
    fn ipv6_extension_headers_in_the_fragmentable_part_are_skipped() {
        let mut payload = vec![17, 0, 1, 4, 0, 0, 0, 0]; // Destination Options → UDP, 8 bytes
        payload.extend_from_slice(&UDP);
        let d = datagram(v6(), IpNumber(60), &payload);
        assert_eq!(d.upper_layer(), Some((IpNumber::UDP, &UDP[..])));
        assert!(matches!(d.transport(), Ok(Some(TransportSlice::Udp(_)))));
        // A chain that runs past the end, and No Next Header.
        let d = datagram(v6(), IpNumber(60), &payload[..4]);
        assert_eq!(d.upper_layer(), None);
        assert_eq!(d.transport().unwrap_err().protocol, "ipv6");
        let d = datagram(v6(), IpNumber(59), &payload);
        assert_eq!(d.upper_layer(), None);
    }

    /// Ethernet + IPv4 fragment (id 9, UDP) of `bytes` at `offset` with the MF flag.
    fn ether_fragment(offset: u16, more: bool, bytes: &[u8]) -> Vec<u8> {
        let mut f = vec![0; 12];
        f.extend_from_slice(&[0x08, 0x00]);
        let total = 20 + bytes.len() as u16;
        let flags = (offset / 8) | if more { 0x2000 } else { 0 };
        f.extend_from_slice(&[0x45, 0, (total >> 8) as u8, total as u8, 0, 9]);
        f.extend_from_slice(&flags.to_be_bytes());
        f.extend_from_slice(&[64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
        f.extend_from_slice(bytes);
        f
    }

    fn frame(n: u64, data: &[u8]) -> Frame<'_> {
        Frame {
            number: FrameNumber(n),
            timestamp: Duration::ZERO,
            link_type: LinkType::Ethernet,
            interface: 0,
            original_len: data.len() as u32,
            big_endian_file: false,
            data,
            section: 1,
            ts_resolution: crate::capture::TsResolution::MICRO,
            snaplen: 0,
        }
    }

    #[test]
    fn to_packet_gives_consumers_the_whole_datagram() {
        let first = ether_fragment(0, true, &UDP[..8]);
        let last = ether_fragment(8, false, &UDP[8..]);
        let mut defrag = Defragmenter::default();
        let p1 = crate::decode::decode(&frame(1, &first));
        assert!(p1.is_fragment());
        let f1 = Fragment::from_packet(&p1).unwrap();
        assert_eq!(
            defrag.push(FrameNumber(1), Duration::ZERO, &f1),
            Push::Pending
        );
        let p2 = crate::decode::decode(&frame(2, &last));
        let f2 = Fragment::from_packet(&p2).unwrap();
        let Push::Complete(d) = defrag.push(FrameNumber(2), Duration::ZERO, &f2) else {
            panic!("not complete");
        };
        let whole = d.to_packet(&p2);
        assert_eq!(whole.ports(), Some((12345, 69)));
        assert_eq!(whole.payload(), b"data");
        assert_eq!(whole.frame.number, FrameNumber(2));
        assert!(whole.malformed.is_none());
        assert_eq!(p2.ports(), None, "the fragment itself has no ports");
    }
}
