//! UDP conversations: the datagrams between two endpoints (address and port), both ways, with
//! the ICMP errors that answered them.
//!
//! In: every packet in capture order. Out: per packet, which conversation a UDP datagram or an
//! ICMP error quoting one belongs to ([`Event`]); and one [`Conversation`] row per
//! conversation, handed out when it ends ([`Table::drain_ended`], [`Table::finish`]).
//! Conversations are numbered from 0 in order of their first datagram, like Wireshark's
//! `udp.stream`; the endpoint that sent first is `a` (the client, in Follow UDP Stream's
//! terms).
//!
//! An ICMP or ICMPv6 error whose quoted datagram belongs to a live conversation is attached to
//! it, naming the datagram it answers (the latest earlier one sent the way the quoted one went)
//! and what it means (`nothing listened on 127.0.0.1:8080`).
//!
//! **Bounded** (issue 15). Live conversations sit in a map kept in least-recently-active order
//! (O(1) per packet, no allocation once grown): one idle for [`Limits::idle_timeout`] of capture
//! time (default 1 minute, Zeek's `udp_inactivity_timeout`) ends as [`End::TimedOut`]; when
//! [`Limits::max_conversations`] are live, the longest idle one ends as [`End::Evicted`]; the
//! rest end with the capture ([`End::EndOfCapture`]). Datagrams of an ended conversation's
//! endpoints start a new conversation (a new number: unlike Wireshark, which never ends one).
//! A live conversation costs about 300 bytes; a row keeps at most [`Limits::max_icmp_errors`]
//! errors (and counts the rest).

use std::borrow::Cow;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use etherparse::{IpNumber, TransportSlice};
use serde::{Deserialize, Serialize};

use super::lru::Lru;
use crate::decode::Packet;
use crate::decode::icmp::{self, ErrorMessage};
use crate::units::{Direction, FrameNumber};

/// Default number of live conversations.
pub const DEFAULT_MAX_CONVERSATIONS: usize = 100_000;
/// Default idle timeout in capture time: 1 minute, Zeek's `udp_inactivity_timeout`.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Default number of ICMP errors a conversation's row lists.
pub const DEFAULT_MAX_ICMP_ERRORS: usize = 16;

/// The table's bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most conversations live at once; past it the longest idle one ends as `evicted`.
    pub max_conversations: usize,
    /// A conversation with no datagram for this long (capture time) ends as `timed_out`.
    pub idle_timeout: Duration,
    /// Most ICMP errors listed per conversation (all are counted).
    pub max_icmp_errors: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_conversations: DEFAULT_MAX_CONVERSATIONS,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            max_icmp_errors: DEFAULT_MAX_ICMP_ERRORS,
        }
    }
}

/// Why a conversation's row was handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum End {
    /// Idle for longer than the idle timeout.
    TimedOut,
    /// The longest idle when the table was full.
    Evicted,
    /// Still live when the capture ended.
    EndOfCapture,
}

impl End {
    /// The name used in every output (`timed_out`, `evicted`, `end_of_capture`).
    pub fn name(self) -> &'static str {
        match self {
            End::TimedOut => "timed_out",
            End::Evicted => "evicted",
            End::EndOfCapture => "end_of_capture",
        }
    }
}

/// An ICMP or ICMPv6 error that answered a datagram of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IcmpError {
    /// The frame of the error.
    pub frame: FrameNumber,
    /// Who sent it (the destination host, or a router on the way).
    pub from: IpAddr,
    /// The direction of the datagram it quotes (`client_to_server` = from `a` to `b`).
    pub direction: Direction,
    /// The datagram it answers: the latest earlier one sent that way.
    pub answers: Option<FrameNumber>,
    /// ICMP (`v4`) or ICMPv6 (`v6`).
    pub version: icmp::Version,
    /// Type number.
    pub icmp_type: u8,
    /// Code number.
    pub code: u8,
    /// Wireshark's name of the type, e.g. `Destination unreachable`.
    pub type_name: Cow<'static, str>,
    /// Wireshark's name of the code, e.g. `Port unreachable`.
    pub code_name: Option<Cow<'static, str>>,
    /// What it means for the datagram, e.g. `nothing listened on 127.0.0.1:8080: …`.
    pub meaning: Option<String>,
}

/// One UDP conversation's summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    /// Its number, from 0 in order of first datagram (Wireshark's `udp.stream`, as long as no
    /// conversation timed out or was evicted).
    pub id: u64,
    /// The endpoint that sent first.
    pub a: SocketAddr,
    /// The other endpoint.
    pub b: SocketAddr,
    /// Datagrams from `a` to `b`.
    pub packets_a_to_b: u64,
    /// Wire bytes (whole frames) from `a` to `b`.
    pub bytes_a_to_b: u64,
    /// UDP payload bytes from `a` to `b`, as on the wire.
    pub payload_bytes_a_to_b: u64,
    /// Datagrams from `b` to `a`.
    pub packets_b_to_a: u64,
    /// Wire bytes from `b` to `a`.
    pub bytes_b_to_a: u64,
    /// UDP payload bytes from `b` to `a`, as on the wire.
    pub payload_bytes_b_to_a: u64,
    /// Frame of the first datagram.
    pub first_frame: u64,
    /// Frame of the last datagram.
    pub last_frame: u64,
    /// Seconds from the first to the last datagram.
    pub duration: f64,
    /// ICMP errors that answered its datagrams (the first [`Limits::max_icmp_errors`]).
    pub icmp_errors: Vec<IcmpError>,
    /// Every such error, listed or not.
    pub icmp_errors_total: u64,
    /// Why the row was handed out.
    pub end: End,
}

impl Conversation {
    /// True when `endpoint` is one of its two ends.
    pub fn involves(&self, endpoint: SocketAddr) -> bool {
        self.a == endpoint || self.b == endpoint
    }

    /// The direction of a datagram from `src`.
    pub fn direction_from(&self, src: SocketAddr) -> Direction {
        if src == self.a {
            Direction::ClientToServer
        } else {
            Direction::ServerToClient
        }
    }
}

/// What one packet was to the table.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A datagram of conversation `id`, sent in `direction`.
    Datagram {
        /// The conversation.
        id: u64,
        /// Its direction (`client_to_server` = from `a`).
        direction: Direction,
    },
    /// An ICMP error about a datagram of conversation `id`.
    IcmpError {
        /// The conversation.
        id: u64,
        /// The error, as attached to the conversation.
        error: IcmpError,
    },
}

/// What the table counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counters {
    /// Conversations seen.
    pub conversations: u64,
    /// Conversations ended by the idle timeout.
    pub timed_out: u64,
    /// Conversations ended because the table was full.
    pub evicted: u64,
    /// Most conversations live at once.
    pub peak_live: usize,
    /// ICMP errors about a UDP datagram that belonged to no live conversation.
    pub icmp_unmatched: u64,
}

/// A live conversation.
struct Live {
    row: Conversation,
    /// Capture time of its first and last datagram.
    first_ts: Duration,
    last_ts: Duration,
    /// The last datagram each way (for the ICMP errors).
    last: [Option<FrameNumber>; 2],
}

/// The conversation table; see the module documentation.
pub struct Table {
    limits: Limits,
    live: Lru<(SocketAddr, SocketAddr), Live>,
    ended: Vec<Conversation>,
    counters: Counters,
}

impl std::fmt::Debug for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Table")
            .field("limits", &self.limits)
            .field("live", &self.live.len())
            .field("ended", &self.ended.len())
            .field("counters", &self.counters)
            .finish()
    }
}

impl Default for Table {
    fn default() -> Self {
        Table::new(Limits::default())
    }
}

/// The map key of a pair of endpoints, whichever sent.
fn key(x: SocketAddr, y: SocketAddr) -> (SocketAddr, SocketAddr) {
    if x <= y { (x, y) } else { (y, x) }
}

impl Table {
    /// A table with these bounds.
    pub fn new(limits: Limits) -> Self {
        Table {
            limits,
            live: Lru::new(),
            ended: Vec::new(),
            counters: Counters::default(),
        }
    }

    /// Looks at one packet: a UDP datagram is counted in its conversation (started if new); an
    /// ICMP error quoting a UDP datagram is attached to that datagram's conversation. Ends the
    /// conversations idle for longer than the timeout first.
    pub fn on_packet(&mut self, packet: &Packet<'_>) -> Option<Event> {
        let ts = packet.frame.timestamp;
        self.expire(ts);
        let (src, dst) = packet.ip_addrs()?;
        match packet.transport()? {
            TransportSlice::Udp(u) => {
                let src = SocketAddr::new(src, u.source_port());
                let dst = SocketAddr::new(dst, u.destination_port());
                Some(self.datagram(packet, src, dst))
            }
            TransportSlice::Icmpv4(_) | TransportSlice::Icmpv6(_) => {
                let e = icmp::decode_error(packet)?;
                self.icmp_error(packet, src, &e)
            }
            _ => None,
        }
    }

    fn datagram(&mut self, packet: &Packet<'_>, src: SocketAddr, dst: SocketAddr) -> Event {
        let k = key(src, dst);
        if let Some(c) = self.live.touch(&k) {
            return count(c, packet, src);
        }
        if self.live.len() >= self.limits.max_conversations.max(1) {
            self.end_oldest(End::Evicted);
        }
        let id = self.counters.conversations;
        self.counters.conversations += 1;
        let (frame, ts) = (packet.frame.number.0, packet.frame.timestamp);
        let mut c = Live {
            row: Conversation {
                id,
                a: src,
                b: dst,
                packets_a_to_b: 0,
                bytes_a_to_b: 0,
                payload_bytes_a_to_b: 0,
                packets_b_to_a: 0,
                bytes_b_to_a: 0,
                payload_bytes_b_to_a: 0,
                first_frame: frame,
                last_frame: frame,
                duration: 0.0,
                icmp_errors: Vec::new(),
                icmp_errors_total: 0,
                end: End::EndOfCapture,
            },
            first_ts: ts,
            last_ts: ts,
            last: [None, None],
        };
        let event = count(&mut c, packet, src);
        self.live.insert(k, c);
        self.counters.peak_live = self.counters.peak_live.max(self.live.len());
        event
    }

    fn icmp_error(
        &mut self,
        packet: &Packet<'_>,
        from: IpAddr,
        e: &ErrorMessage<'_>,
    ) -> Option<Event> {
        let flow = e.flow().filter(|f| f.protocol == IpNumber::UDP)?;
        let Some(c) = self.live.get_mut(&key(flow.src, flow.dst)) else {
            self.counters.icmp_unmatched += 1;
            return None;
        };
        let direction = c.row.direction_from(flow.src);
        let error = IcmpError {
            frame: packet.frame.number,
            from,
            direction,
            answers: c.last.get(direction.index()).copied().flatten(),
            version: e.version,
            icmp_type: e.icmp_type,
            code: e.code,
            type_name: Cow::Borrowed(e.type_name()),
            code_name: e.code_name().map(Cow::Borrowed),
            meaning: crate::view::icmp::meaning(e),
        };
        c.row.icmp_errors_total += 1;
        if c.row.icmp_errors.len() < self.limits.max_icmp_errors {
            c.row.icmp_errors.push(error.clone());
        }
        Some(Event::IcmpError {
            id: c.row.id,
            error,
        })
    }

    /// Ends the conversations idle for longer than the timeout at capture time `now`.
    fn expire(&mut self, now: Duration) {
        while let Some((_, c)) = self.live.oldest() {
            if now.saturating_sub(c.last_ts) <= self.limits.idle_timeout {
                break;
            }
            self.end_oldest(End::TimedOut);
        }
    }

    fn end_oldest(&mut self, end: End) {
        if let Some((_, mut c)) = self.live.pop_oldest() {
            match end {
                End::TimedOut => self.counters.timed_out += 1,
                End::Evicted => self.counters.evicted += 1,
                End::EndOfCapture => {}
            }
            c.row.end = end;
            self.ended.push(c.row);
        }
    }

    /// Hands out the rows of the conversations that ended (timed out or evicted) so far.
    pub fn drain_ended(&mut self, mut f: impl FnMut(Conversation)) {
        for c in self.ended.drain(..) {
            f(c);
        }
    }

    /// Ends every live conversation (`end_of_capture`) and hands out every row not yet handed
    /// out, the ended ones first, then the live ones by number.
    pub fn finish(&mut self, mut f: impl FnMut(Conversation)) {
        self.drain_ended(&mut f);
        let mut rest: Vec<Conversation> = Vec::with_capacity(self.live.len());
        while let Some((_, c)) = self.live.pop_oldest() {
            rest.push(c.row);
        }
        rest.sort_by_key(|c| c.id);
        rest.into_iter().for_each(f);
    }

    /// Conversations live now.
    pub fn live_count(&self) -> usize {
        self.live.len()
    }

    /// What was counted.
    pub fn counters(&self) -> Counters {
        self.counters
    }
}

/// Counts a datagram from `src` in its conversation.
fn count(c: &mut Live, packet: &Packet<'_>, src: SocketAddr) -> Event {
    let frame = packet.frame.number;
    let ts = packet.frame.timestamp;
    let wire = u64::from(packet.frame.original_len);
    let payload = packet.wire_payload_len() as u64;
    let r = &mut c.row;
    let direction = r.direction_from(src);
    match direction {
        Direction::ClientToServer => {
            r.packets_a_to_b += 1;
            r.bytes_a_to_b += wire;
            r.payload_bytes_a_to_b += payload;
        }
        Direction::ServerToClient => {
            r.packets_b_to_a += 1;
            r.bytes_b_to_a += wire;
            r.payload_bytes_b_to_a += payload;
        }
    }
    r.last_frame = frame.0;
    c.last_ts = ts;
    r.duration = ts.saturating_sub(c.first_ts).as_secs_f64();
    if let Some(l) = c.last.get_mut(direction.index()) {
        *l = Some(frame);
    }
    Event::Datagram {
        id: r.id,
        direction,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::{Frame, LinkType, TsResolution};
    use crate::decode;

    fn udp(sport: u16, dport: u16, reverse: bool, payload: &[u8]) -> Vec<u8> {
        let (s, d) = ([127, 0, 0, 1], [127, 0, 0, 2]);
        let (s, d) = if reverse { (d, s) } else { (s, d) };
        let mut p = Vec::new();
        etherparse::PacketBuilder::ipv4(s, d, 64)
            .udp(sport, dport)
            .write(&mut p, payload)
            .unwrap();
        p
    }

    fn unreachable(datagram: &[u8]) -> Vec<u8> {
        let mut p = Vec::new();
        etherparse::PacketBuilder::ipv4([127, 0, 0, 2], [127, 0, 0, 1], 64)
            .icmpv4(etherparse::Icmpv4Type::DestinationUnreachable(
                etherparse::icmpv4::DestUnreachableHeader::Port,
            ))
            .write(&mut p, &datagram[..28])
            .unwrap();
        p
    }

    fn feed(t: &mut Table, number: u64, second: u64, data: &[u8]) -> Option<Event> {
        let f = Frame {
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
        };
        t.on_packet(&decode::decode(&f))
    }

    fn rows(t: &mut Table) -> Vec<Conversation> {
        let mut out = Vec::new();
        t.finish(|c| out.push(c));
        out
    }

    #[test]
    fn both_directions_count_in_one_conversation() {
        let mut t = Table::default();
        let ev = feed(&mut t, 1, 0, &udp(4000, 7, false, b"hello"));
        assert_eq!(
            ev,
            Some(Event::Datagram {
                id: 0,
                direction: Direction::ClientToServer
            })
        );
        let ev = feed(&mut t, 2, 1, &udp(7, 4000, true, b"hel"));
        assert_eq!(
            ev,
            Some(Event::Datagram {
                id: 0,
                direction: Direction::ServerToClient
            })
        );
        feed(&mut t, 3, 2, &udp(4001, 7, false, b"x"));
        let rows = rows(&mut t);
        assert_eq!(rows.len(), 2);
        let c = &rows[0];
        assert_eq!(c.a, "127.0.0.1:4000".parse().unwrap());
        assert_eq!((c.packets_a_to_b, c.payload_bytes_a_to_b), (1, 5));
        assert_eq!((c.packets_b_to_a, c.payload_bytes_b_to_a), (1, 3));
        assert_eq!((c.bytes_a_to_b, c.bytes_b_to_a), (33, 31));
        assert_eq!((c.first_frame, c.last_frame, c.duration), (1, 2, 1.0));
        assert_eq!(c.end, End::EndOfCapture);
        assert_eq!(rows[1].id, 1);
    }

    #[test]
    fn an_icmp_error_is_attached_with_the_datagram_it_answers() {
        let mut t = Table::default();
        let d = udp(49213, 8080, false, b"hello");
        feed(&mut t, 1, 0, &d);
        feed(&mut t, 2, 0, &d);
        let ev = feed(&mut t, 3, 0, &unreachable(&d)).unwrap();
        let Event::IcmpError { id, error } = ev else {
            panic!("{ev:?}")
        };
        assert_eq!(id, 0);
        assert_eq!(error.answers, Some(FrameNumber(2)));
        assert_eq!(error.direction, Direction::ClientToServer);
        assert_eq!(error.code_name.as_deref(), Some("Port unreachable"));
        assert!(
            error
                .meaning
                .as_deref()
                .unwrap()
                .starts_with("nothing listened on 127.0.0.2:8080")
        );
        // An error about a datagram never seen is counted, not attached.
        assert_eq!(
            feed(&mut t, 4, 0, &unreachable(&udp(1, 2, false, b""))),
            None
        );
        assert_eq!(t.counters().icmp_unmatched, 1);
        let rows = rows(&mut t);
        assert_eq!(rows[0].icmp_errors, vec![error]);
        assert_eq!(rows[0].icmp_errors_total, 1);
    }

    #[test]
    fn idle_conversations_time_out_and_come_back_as_new_ones() {
        let mut t = Table::new(Limits {
            idle_timeout: Duration::from_secs(10),
            ..Limits::default()
        });
        feed(&mut t, 1, 0, &udp(1000, 7, false, b"a"));
        feed(&mut t, 2, 1, &udp(1001, 7, false, b"b"));
        feed(&mut t, 3, 9, &udp(1000, 7, false, b"c"));
        // At 15 s, 1001 has been idle 14 s: it ends; 1000 (idle 6 s) does not.
        feed(&mut t, 4, 15, &udp(1002, 7, false, b"d"));
        let mut ended = Vec::new();
        t.drain_ended(|c| ended.push((c.id, c.end)));
        assert_eq!(ended, vec![(1, End::TimedOut)]);
        // 1001 again: a new conversation.
        assert_eq!(
            feed(&mut t, 5, 16, &udp(1001, 7, false, b"e")),
            Some(Event::Datagram {
                id: 3,
                direction: Direction::ClientToServer
            })
        );
        let rows = rows(&mut t);
        assert_eq!(
            rows.iter().map(|c| (c.id, c.end)).collect::<Vec<_>>(),
            vec![
                (0, End::EndOfCapture),
                (2, End::EndOfCapture),
                (3, End::EndOfCapture)
            ]
        );
        assert_eq!(t.counters().timed_out, 1);
    }

    #[test]
    fn the_cap_evicts_the_longest_idle_conversation() {
        let mut t = Table::new(Limits {
            max_conversations: 2,
            ..Limits::default()
        });
        feed(&mut t, 1, 0, &udp(1000, 7, false, b"a"));
        feed(&mut t, 2, 0, &udp(1001, 7, false, b"b"));
        feed(&mut t, 3, 0, &udp(7, 1000, true, b"a"));
        feed(&mut t, 4, 0, &udp(1002, 7, false, b"c"));
        let mut ended = Vec::new();
        t.drain_ended(|c| ended.push((c.id, c.end, c.packets_a_to_b)));
        assert_eq!(ended, vec![(1, End::Evicted, 1)]);
        let c = t.counters();
        assert_eq!((c.evicted, c.peak_live, c.conversations), (1, 2, 3));
        assert_eq!(t.live_count(), 2);
    }
}
