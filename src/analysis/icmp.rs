//! ICMP linking: the datagram or TCP segment each ICMP or ICMPv6 error answers.
//!
//! In: every packet in capture order, with the engine's notes (for the TCP stream id). Out: per
//! ICMP error that quotes a TCP or UDP datagram, an [`IcmpLink`] naming the latest earlier
//! packet with the quoted flow key (protocol, source and destination address and port, as the
//! sender of the quoted datagram saw them) — the packet `packets` and `show` put in the error's
//! Info and fields — and, kept for the analyses, a [`Link`] with the error's type and code.
//!
//! **Bounded.** The linker remembers the last frame of each recent flow (one direction of a
//! UDP conversation or TCP connection) in a map of at most [`Limits::max_flows`] keys; a flow
//! idle for [`Limits::idle_timeout`] of capture time, or the longest idle one when the map is
//! full, is forgotten, and an error quoting it is then reported as answering no captured
//! packet. Per packet: one hash lookup and O(1) list moves; nothing is allocated once the map
//! has grown. The [`Link`]s kept for the analyses are capped too ([`Limits::max_links`]).
//!
//! The first fragment of a fragmented datagram carries its ports and is remembered like a
//! whole datagram; an error quoting a later fragment (no ports) links to nothing.

use std::borrow::Cow;
use std::hash::Hash;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use etherparse::{IpNumber, TransportSlice};
use serde::Serialize;

use super::lru::Lru;
use crate::app::{IcmpLink, Note, Notes, PacketObserver};
use crate::decode::Packet;
use crate::decode::icmp::{self, ErrorMessage, QuotedFlow};
use crate::flow::ip::Fragment;
use crate::units::{FrameNumber, StreamId};

/// Default number of recent flows remembered.
pub const DEFAULT_MAX_FLOWS: usize = 100_000;
/// Default idle time (capture time) after which a flow is forgotten: 1 minute, Zeek's
/// `udp_inactivity_timeout` (an ICMP error follows its datagram within a round trip).
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Default number of [`Link`]s kept for the analyses.
pub const DEFAULT_MAX_LINKS: usize = 10_000;

/// The linker's bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most flows remembered at once; past it the longest idle one is forgotten.
    pub max_flows: usize,
    /// A flow with no packet for this long (capture time) is forgotten.
    pub idle_timeout: Duration,
    /// Most [`Link`]s kept for [`Linker::links`] (the rest are only counted).
    pub max_links: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_flows: DEFAULT_MAX_FLOWS,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            max_links: DEFAULT_MAX_LINKS,
        }
    }
}

/// One ICMP or ICMPv6 error linked (or not) to the packet it answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link {
    /// The frame of the error.
    pub frame: FrameNumber,
    /// ICMP (`v4`) or ICMPv6 (`v6`).
    pub version: icmp::Version,
    /// Its type number.
    pub icmp_type: u8,
    /// Its code number.
    pub code: u8,
    /// Wireshark's name of the type.
    pub type_name: &'static str,
    /// Wireshark's name of the code, when it has one.
    pub code_name: Option<&'static str>,
    /// The quoted datagram's protocol (IP protocol number: 6 TCP, 17 UDP).
    pub protocol: u8,
    /// The quoted datagram's source address (the host the error went back to).
    pub src: IpAddr,
    /// Its source port, when quoted (not in a later fragment).
    pub src_port: Option<u16>,
    /// The quoted datagram's destination address.
    pub dst: IpAddr,
    /// Its destination port, when quoted.
    pub dst_port: Option<u16>,
    /// The packet it answers: the latest earlier one with that flow key (or, for a quoted
    /// fragment without ports, with that fragment's identification).
    pub answers: Option<FrameNumber>,
    /// The TCP stream of that packet, when TCP was tracked.
    pub stream: Option<StreamId>,
}

/// What the linker counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counters {
    /// ICMP and ICMPv6 errors quoting a TCP or UDP datagram (or a fragment of one).
    pub errors: u64,
    /// Those linked to a captured packet.
    pub linked: u64,
    /// Flows forgotten because the map was full (not because they were idle).
    pub evicted_flows: u64,
    /// Links not kept in [`Linker::links`] because of [`Limits::max_links`].
    pub links_not_kept: u64,
}

/// The last packet of one flow.
#[derive(Debug, Clone, Copy)]
struct Last {
    frame: FrameNumber,
    ts: Duration,
    stream: Option<StreamId>,
    app: Option<&'static str>,
}

/// Links ICMP errors to the packets they answer; see the module documentation.
pub struct Linker {
    limits: Limits,
    flows: Lru<QuotedFlow, Last>,
    /// The last frame of each recent IP fragment identity (for quotes of later fragments,
    /// which carry no ports).
    fragments: Lru<FragmentKey, Last>,
    links: Vec<Link>,
    counters: Counters,
}

impl std::fmt::Debug for Linker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Linker")
            .field("limits", &self.limits)
            .field("flows", &self.flows.len())
            .field("fragments", &self.fragments.len())
            .field("links", &self.links.len())
            .field("counters", &self.counters)
            .finish()
    }
}

impl Default for Linker {
    fn default() -> Self {
        Linker::new(Limits::default())
    }
}

impl Linker {
    /// A linker with these bounds.
    pub fn new(limits: Limits) -> Self {
        Linker {
            limits,
            flows: Lru::new(),
            fragments: Lru::new(),
            links: Vec::new(),
            counters: Counters::default(),
        }
    }

    /// Looks at one packet: remembers it as the last packet of its flow (TCP or UDP) and, for
    /// a fragment, of its fragment identity; or, for an ICMP error quoting a TCP or UDP
    /// datagram, returns the packet it answers (and keeps a [`Link`]).
    pub fn on_packet(&mut self, packet: &Packet<'_>, notes: &Notes<'_>) -> Option<IcmpLink> {
        let ts = packet.frame.timestamp;
        self.expire(ts);
        if let Some(error) = icmp::decode_error(packet) {
            return self.link(packet.frame.number, &error);
        }
        let fragment = Fragment::from_packet(packet);
        if let Some(f) = &fragment {
            let key = FragmentKey {
                src: f.key.src(),
                dst: f.key.dst(),
                id: f.key.id(),
                protocol: f.protocol.0,
            };
            let last = Last {
                frame: packet.frame.number,
                ts,
                stream: None,
                app: None,
            };
            remember(
                &mut self.fragments,
                key,
                last,
                self.limits.max_flows,
                &mut self.counters,
            );
        }
        let (key, stream) = flow_of(packet, fragment.as_ref(), notes)?;
        let last = Last {
            frame: packet.frame.number,
            ts,
            stream,
            app: notes.app.as_ref().map(Note::protocol),
        };
        remember(
            &mut self.flows,
            key,
            last,
            self.limits.max_flows,
            &mut self.counters,
        );
        None
    }

    /// [`Linker::on_packet`], returning `notes` with the link set when `packet` is an ICMP
    /// error quoting a TCP or UDP datagram (copied only then): for commands that print
    /// packets, whose callback gets the engine's notes.
    pub fn annotate<'n, 'a>(
        &mut self,
        packet: &Packet<'_>,
        notes: &'n Notes<'a>,
    ) -> Cow<'n, Notes<'a>> {
        match self.on_packet(packet, notes) {
            Some(link) => Cow::Owned(Notes {
                icmp: Some(link),
                ..notes.clone()
            }),
            None => Cow::Borrowed(notes),
        }
    }

    /// Forgets the flows idle for longer than the timeout at capture time `now`.
    fn expire(&mut self, now: Duration) {
        let idle = self.limits.idle_timeout;
        self.flows.expire(now, idle);
        self.fragments.expire(now, idle);
    }

    fn link(&mut self, frame: FrameNumber, error: &ErrorMessage<'_>) -> Option<IcmpLink> {
        let q = error.quote?;
        let flow = error.flow();
        let fragment = (q.identification.is_some() && (q.fragment_offset != 0 || q.more_fragments))
            .then(|| FragmentKey {
                src: q.src,
                dst: q.dst,
                id: q.identification.unwrap_or(0),
                protocol: q.protocol.0,
            });
        if flow.is_none() && fragment.is_none() {
            // Not a TCP or UDP datagram (an ICMP echo, a quote cut before the ports).
            return None;
        }
        let last = flow
            .and_then(|f| self.flows.get(&f))
            .or_else(|| fragment.and_then(|k| self.fragments.get(&k)))
            .copied();
        self.counters.errors += 1;
        self.counters.linked += u64::from(last.is_some());
        let link = IcmpLink {
            answers: last.map(|l| l.frame),
            stream: last.and_then(|l| l.stream),
            app: last.and_then(|l| l.app),
        };
        if self.links.len() < self.limits.max_links {
            self.links.push(Link {
                frame,
                version: error.version,
                icmp_type: error.icmp_type,
                code: error.code,
                type_name: error.type_name(),
                code_name: error.code_name(),
                protocol: q.protocol.0,
                src: q.src,
                src_port: flow.map(|f| f.src.port()),
                dst: q.dst,
                dst_port: flow.map(|f| f.dst.port()),
                answers: link.answers,
                stream: link.stream,
            });
        } else {
            self.counters.links_not_kept += 1;
        }
        Some(link)
    }

    /// The errors linked so far, in capture order (at most [`Limits::max_links`]).
    pub fn links(&self) -> &[Link] {
        &self.links
    }

    /// What was counted.
    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// The links, once the run is over.
    pub fn into_links(self) -> (Vec<Link>, Counters) {
        (self.links, self.counters)
    }
}

impl PacketObserver for Linker {
    fn on_packet(&mut self, packet: &Packet<'_>, notes: &Notes<'_>) {
        Linker::on_packet(self, packet, notes);
    }
}

/// Which datagram a fragment belongs to (RFC 791 §3.2, RFC 8200 §4.5), with its upper-layer
/// protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct FragmentKey {
    src: IpAddr,
    dst: IpAddr,
    id: u32,
    protocol: u8,
}

/// Makes `last` the last packet of `key`, forgetting the longest idle key when `map` is full.
fn remember<K: Hash + Eq + Clone>(
    map: &mut Lru<K, Last>,
    key: K,
    last: Last,
    max: usize,
    counters: &mut Counters,
) {
    if let Some(l) = map.touch(&key) {
        *l = last;
        return;
    }
    if map.len() >= max.max(1) {
        map.pop_oldest();
        counters.evicted_flows += 1;
    }
    map.insert(key, last);
}

/// A map whose entries can go idle.
trait Expire {
    /// Forgets the entries idle for longer than `idle` at capture time `now`.
    fn expire(&mut self, now: Duration, idle: Duration);
}

impl<K: Hash + Eq + Clone> Expire for Lru<K, Last> {
    fn expire(&mut self, now: Duration, idle: Duration) {
        while let Some((_, last)) = self.oldest() {
            if now.saturating_sub(last.ts) <= idle {
                break;
            }
            self.pop_oldest();
        }
    }
}

/// The flow key of a TCP segment or UDP datagram (also of a first fragment, whose payload
/// starts with the ports), with its TCP stream when the engine tracked it.
fn flow_of(
    packet: &Packet<'_>,
    fragment: Option<&Fragment<'_>>,
    notes: &Notes<'_>,
) -> Option<(QuotedFlow, Option<StreamId>)> {
    let (src, dst) = packet.ip_addrs()?;
    let (protocol, sport, dport) = match packet.transport() {
        Some(TransportSlice::Udp(u)) => (IpNumber::UDP, u.source_port(), u.destination_port()),
        Some(TransportSlice::Tcp(t)) => (IpNumber::TCP, t.source_port(), t.destination_port()),
        Some(_) => return None,
        None => match packet.partial_tcp() {
            Some(t) => (IpNumber::TCP, t.src_port, t.dst_port),
            None => {
                let f = fragment?;
                if f.offset != 0 || !matches!(f.protocol, IpNumber::UDP | IpNumber::TCP) {
                    return None;
                }
                let ports = f.payload.first_chunk::<4>()?;
                (
                    f.protocol,
                    u16::from_be_bytes([ports[0], ports[1]]),
                    u16::from_be_bytes([ports[2], ports[3]]),
                )
            }
        },
    };
    let stream = (protocol == IpNumber::TCP)
        .then(|| notes.tcp.map(|o| o.stream))
        .flatten();
    Some((
        QuotedFlow {
            protocol,
            src: SocketAddr::new(src, sport),
            dst: SocketAddr::new(dst, dport),
        },
        stream,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::{Frame, LinkType, TsResolution};
    use crate::decode;

    fn frame(number: u64, second: u64, data: &[u8]) -> Frame<'_> {
        Frame {
            number: FrameNumber(number),
            timestamp: Duration::from_secs(second),
            link_type: LinkType::Ipv4,
            interface: 0,
            original_len: data.len() as u32,
            big_endian_file: false,
            data,
            section: 1,
            ts_resolution: TsResolution::MICRO,
            snaplen: 0,
        }
    }

    fn udp(sport: u16, dport: u16) -> Vec<u8> {
        let mut p = Vec::new();
        etherparse::PacketBuilder::ipv4([127, 0, 0, 1], [127, 0, 0, 2], 64)
            .udp(sport, dport)
            .write(&mut p, b"hello")
            .unwrap();
        p
    }

    /// Port unreachable from 127.0.0.2 quoting `datagram`.
    fn unreachable(datagram: &[u8]) -> Vec<u8> {
        let mut p = Vec::new();
        let quote = &datagram[..28];
        etherparse::PacketBuilder::ipv4([127, 0, 0, 2], [127, 0, 0, 1], 64)
            .icmpv4(etherparse::Icmpv4Type::DestinationUnreachable(
                etherparse::icmpv4::DestUnreachableHeader::Port,
            ))
            .write(&mut p, quote)
            .unwrap();
        p
    }

    fn feed(l: &mut Linker, number: u64, second: u64, data: &[u8]) -> Option<IcmpLink> {
        let f = frame(number, second, data);
        let p = decode::decode(&f);
        l.on_packet(&p, &Notes::default())
    }

    #[test]
    fn an_error_answers_the_latest_datagram_of_its_flow() {
        let mut l = Linker::default();
        let a = udp(4000, 8080);
        let b = udp(4001, 8080);
        assert_eq!(feed(&mut l, 1, 0, &a), None);
        assert_eq!(feed(&mut l, 2, 0, &b), None);
        assert_eq!(feed(&mut l, 3, 1, &a), None);
        let link = feed(&mut l, 4, 1, &unreachable(&a)).unwrap();
        assert_eq!(link.answers, Some(FrameNumber(3)));
        assert_eq!(link.stream, None);
        let link = feed(&mut l, 5, 1, &unreachable(&b)).unwrap();
        assert_eq!(link.answers, Some(FrameNumber(2)));
        // The reverse direction is another flow.
        let c = udp(8080, 4000);
        assert_eq!(feed(&mut l, 6, 1, &unreachable(&c)).unwrap().answers, None);
        let links = l.links();
        assert_eq!(links.len(), 3);
        assert_eq!(links[0].frame, FrameNumber(4));
        assert_eq!(links[0].dst, "127.0.0.2".parse::<IpAddr>().unwrap());
        assert_eq!(links[0].dst_port, Some(8080));
        assert_eq!(links[0].protocol, 17);
        assert_eq!(links[0].code_name, Some("Port unreachable"));
        assert_eq!(
            l.counters(),
            Counters {
                errors: 3,
                linked: 2,
                ..Counters::default()
            }
        );
    }

    /// IPv4 fragment `offset` (bytes) of datagram `id`: UDP 4000 → 8080 in the first one.
    fn fragment(id: u16, offset: u16, more: bool) -> Vec<u8> {
        let mut ip = etherparse::Ipv4Header::new(
            16,
            64,
            etherparse::IpNumber::UDP,
            [127, 0, 0, 1],
            [127, 0, 0, 2],
        )
        .unwrap();
        ip.identification = id;
        ip.more_fragments = more;
        ip.fragment_offset = etherparse::IpFragOffset::try_new(offset / 8).unwrap();
        let mut p = Vec::new();
        ip.write(&mut p).unwrap();
        // The first fragment starts with the UDP header (ports 4000 → 8080).
        p.extend_from_slice(&[0x0f, 0xa0, 0x1f, 0x90, 0, 24, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
        p
    }

    #[test]
    fn a_quoted_fragment_answers_its_fragment() {
        let mut l = Linker::default();
        let first = fragment(7, 0, true);
        let second = fragment(7, 16, false);
        feed(&mut l, 1, 0, &first);
        feed(&mut l, 2, 0, &second);
        // The first fragment quotes the ports: the flow key finds it.
        assert_eq!(
            feed(&mut l, 3, 0, &unreachable(&first)).unwrap().answers,
            Some(FrameNumber(1))
        );
        // A later fragment has no ports: its identification finds it.
        let link = feed(&mut l, 4, 0, &unreachable(&second)).unwrap();
        assert_eq!(link.answers, Some(FrameNumber(2)));
        assert_eq!(l.links()[1].dst_port, None);
        // Another datagram's fragment is not in the capture.
        let link = feed(&mut l, 5, 0, &unreachable(&fragment(8, 16, false))).unwrap();
        assert_eq!(link.answers, None);
    }

    #[test]
    fn idle_flows_are_forgotten() {
        let mut l = Linker::new(Limits {
            idle_timeout: Duration::from_secs(10),
            ..Limits::default()
        });
        let a = udp(4000, 8080);
        feed(&mut l, 1, 0, &a);
        assert_eq!(
            feed(&mut l, 2, 10, &unreachable(&a)).unwrap().answers,
            Some(FrameNumber(1))
        );
        assert_eq!(feed(&mut l, 3, 11, &unreachable(&a)).unwrap().answers, None);
    }

    #[test]
    fn the_cap_forgets_the_longest_idle_flow() {
        let mut l = Linker::new(Limits {
            max_flows: 2,
            max_links: 1,
            ..Limits::default()
        });
        let (a, b, c) = (udp(1, 9), udp(2, 9), udp(3, 9));
        feed(&mut l, 1, 0, &a);
        feed(&mut l, 2, 0, &b);
        feed(&mut l, 3, 0, &a);
        feed(&mut l, 4, 0, &c); // b is the longest idle
        assert_eq!(feed(&mut l, 5, 0, &unreachable(&b)).unwrap().answers, None);
        assert_eq!(
            feed(&mut l, 6, 0, &unreachable(&a)).unwrap().answers,
            Some(FrameNumber(3))
        );
        let c_link = feed(&mut l, 7, 0, &unreachable(&c)).unwrap();
        assert_eq!(c_link.answers, Some(FrameNumber(4)));
        let counters = l.counters();
        assert_eq!(counters.evicted_flows, 1);
        assert_eq!(counters.links_not_kept, 2);
        assert_eq!(l.links().len(), 1);
    }
}
