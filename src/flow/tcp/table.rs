//! `StreamTable`: finds the connection of each TCP segment, numbers connections like
//! Wireshark's `tcp.stream`, and owns the memory budget shared by all reassemblers.
//!
//! In: one [`SegmentInfo`] per decoded TCP segment, in capture order. Out: the segment's
//! stream id, direction and relative sequence numbers ([`Outcome`]); reassembly events tagged
//! with stream and direction ([`StreamEvent`]) through the caller's sink; and a summary per
//! connection ([`Stream`]). Summaries stay for the whole run (one per connection); buffers are
//! freed as soon as a connection ends.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use crate::capture::FrameNumber;
use crate::flow::Direction;

use super::reassembly::{Budget, DEFAULT_GLOBAL_BUDGET, EndCause, Event, Limits};
use super::seq::SeqNum;
use super::stream::{Endpoint, Stream, StreamId};

/// The TCP header flags pcaplab looks at.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Flags {
    /// SYN: synchronize sequence numbers.
    pub syn: bool,
    /// ACK: the acknowledgment field is significant.
    pub ack: bool,
    /// FIN: no more data from the sender.
    pub fin: bool,
    /// RST: reset the connection.
    pub rst: bool,
    /// PSH: push.
    pub psh: bool,
    /// URG: the urgent pointer is significant.
    pub urg: bool,
    /// ECE: ECN echo.
    pub ece: bool,
    /// CWR: congestion window reduced.
    pub cwr: bool,
}

impl Flags {
    /// Reads the flags from byte 13 of the TCP header (RFC 9293 §3.1: CWR ECE URG ACK PSH RST
    /// SYN FIN, most significant bit first).
    pub fn from_byte(b: u8) -> Flags {
        Flags {
            fin: b & 0x01 != 0,
            syn: b & 0x02 != 0,
            rst: b & 0x04 != 0,
            psh: b & 0x08 != 0,
            ack: b & 0x10 != 0,
            urg: b & 0x20 != 0,
            ece: b & 0x40 != 0,
            cwr: b & 0x80 != 0,
        }
    }
}

/// One TCP segment as the table needs it (all fields straight from the decoded headers).
#[derive(Debug, Clone, Copy)]
pub struct SegmentInfo<'a> {
    /// Frame number.
    pub frame: FrameNumber,
    /// Capture timestamp, since the Unix epoch.
    pub ts: Duration,
    /// Original length of the frame (counted in [`super::DirectionStats::bytes`]).
    pub frame_len: u64,
    /// Source address.
    pub src: IpAddr,
    /// Source port.
    pub sport: u16,
    /// Destination address.
    pub dst: IpAddr,
    /// Destination port.
    pub dport: u16,
    /// Raw sequence number.
    pub seq: u32,
    /// Raw acknowledgment number.
    pub ack: u32,
    /// Header flags.
    pub flags: Flags,
    /// Raw (unscaled) window field.
    pub window: u16,
    /// TCP payload as captured (may be shorter than on the wire when cut by snaplen).
    pub payload: &'a [u8],
}

/// A reassembly event of one direction of one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamEvent<'a> {
    /// The connection.
    pub stream: StreamId,
    /// The direction the event is about.
    pub direction: Direction,
    /// What happened.
    pub event: Event<'a>,
}

/// Where a segment belongs, and its numbers as Wireshark shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Outcome {
    /// The connection.
    pub stream: StreamId,
    /// Its direction.
    pub direction: Direction,
    /// `seq` relative to the sender's base (Wireshark's relative sequence number).
    pub relative_seq: u32,
    /// `ack` relative to the receiver's base, when the ACK flag is set.
    pub relative_ack: Option<u32>,
}

/// Memory limits of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableLimits {
    /// Limits of each direction's reassembler.
    pub reassembly: Limits,
    /// Bytes all reassemblers together may buffer (out-of-order data and history).
    pub global_budget: u64,
}

impl Default for TableLimits {
    fn default() -> TableLimits {
        TableLimits {
            reassembly: Limits::default(),
            global_budget: DEFAULT_GLOBAL_BUDGET,
        }
    }
}

/// Canonical 4-tuple: the lower endpoint first, so both directions find the same entry.
type Key = (Endpoint, Endpoint);

fn key_of(a: Endpoint, b: Endpoint) -> Key {
    if a <= b { (a, b) } else { (b, a) }
}

/// All TCP connections of a capture.
///
/// ```
/// use std::net::{IpAddr, Ipv4Addr};
/// use std::time::Duration;
/// use pcaplab::capture::FrameNumber;
/// use pcaplab::flow::Direction;
/// use pcaplab::flow::tcp::{Flags, SegmentInfo, StreamId, StreamTable};
///
/// let client = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
/// let server = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
/// let mut table = StreamTable::default();
/// let syn = SegmentInfo {
///     frame: FrameNumber(1), ts: Duration::ZERO, frame_len: 74,
///     src: client, sport: 40000, dst: server, dport: 80,
///     seq: 1000, ack: 0, flags: Flags { syn: true, ..Flags::default() },
///     window: 64240, payload: b"",
/// };
/// let out = table.on_segment(&syn, &mut |_| {});
/// assert_eq!(out.stream, StreamId(0));
/// assert_eq!(out.direction, Direction::ClientToServer);
/// assert_eq!(out.relative_seq, 0);
/// ```
#[derive(Debug)]
pub struct StreamTable {
    streams: Vec<Stream>,
    by_key: HashMap<Key, usize>,
    budget: Budget,
    limits: TableLimits,
}

impl Default for StreamTable {
    fn default() -> StreamTable {
        StreamTable::new(TableLimits::default())
    }
}

impl StreamTable {
    /// An empty table with the given limits.
    pub fn new(limits: TableLimits) -> StreamTable {
        StreamTable {
            streams: Vec::new(),
            by_key: HashMap::new(),
            budget: Budget::new(limits.global_budget),
            limits,
        }
    }

    /// Takes every connection's summary out of the table (at the end of a run), by stream id.
    pub fn take_streams(&mut self) -> Vec<Stream> {
        self.by_key.clear();
        std::mem::take(&mut self.streams)
    }

    /// Every connection seen so far, by id.
    pub fn streams(&self) -> &[Stream] {
        &self.streams
    }

    /// One connection.
    pub fn stream(&self, id: StreamId) -> Option<&Stream> {
        usize::try_from(id.0).ok().and_then(|i| self.streams.get(i))
    }

    /// The shared memory budget (for reporting how much is in use).
    pub fn budget(&self) -> &Budget {
        &self.budget
    }

    /// Takes one TCP segment: finds or creates its connection, updates it, and sends the
    /// resulting reassembly events to `sink`.
    ///
    /// A SYN without ACK whose sequence number differs from the base sequence number of the
    /// existing connection's sending side starts a new connection (port reuse), as in
    /// Wireshark; the old one ends with [`EndCause::Replaced`].
    pub fn on_segment<F>(&mut self, seg: &SegmentInfo<'_>, sink: &mut F) -> Outcome
    where
        F: FnMut(StreamEvent<'_>),
    {
        let src = Endpoint {
            addr: seg.src,
            port: seg.sport,
        };
        let dst = Endpoint {
            addr: seg.dst,
            port: seg.dport,
        };
        let key = key_of(src, dst);
        let existing = self
            .by_key
            .get(&key)
            .copied()
            .filter(|&i| i < self.streams.len());
        let index = match existing {
            Some(i) if !self.is_port_reuse(i, src, seg) => i,
            old => {
                if let Some(old_index) = old
                    && let Some(old_stream) = self.streams.get_mut(old_index)
                {
                    old_stream.finish(EndCause::Replaced, &mut self.budget, sink);
                }
                self.open(key, src, dst, seg)
            }
        };
        let Some(stream) = self.streams.get_mut(index) else {
            // Unreachable: `index` was just checked or pushed.
            return Outcome {
                stream: StreamId(index as u64),
                direction: Direction::ClientToServer,
                relative_seq: seg.seq,
                relative_ack: None,
            };
        };
        let direction = if src == stream.client {
            Direction::ClientToServer
        } else {
            Direction::ServerToClient
        };
        stream.on_segment(direction, seg, &mut self.budget, sink);
        let (relative_seq, relative_ack) = stream.relative(direction, seg.seq, seg.ack);
        Outcome {
            stream: stream.id,
            direction,
            relative_seq,
            relative_ack: seg.flags.ack.then_some(relative_ack),
        }
    }

    /// True when `seg` (a SYN without ACK from `src`) starts a new connection on the 4-tuple
    /// of stream `i`: its sequence number differs from that side's base (packet-tcp.c).
    fn is_port_reuse(&self, i: usize, src: Endpoint, seg: &SegmentInfo<'_>) -> bool {
        if !seg.flags.syn || seg.flags.ack {
            return false;
        }
        let Some(stream) = self.streams.get(i) else {
            return false;
        };
        let d = if src == stream.client {
            Direction::ClientToServer
        } else {
            Direction::ServerToClient
        };
        stream
            .base_seq(d)
            .is_some_and(|base| base != SeqNum(seg.seq))
    }

    /// Creates a stream for the first packet `seg` and makes it current for `key`.
    fn open(&mut self, key: Key, src: Endpoint, dst: Endpoint, seg: &SegmentInfo<'_>) -> usize {
        // Client: the SYN's sender; the SYN-ACK's receiver; else the first packet's sender.
        let (client, server) = if seg.flags.syn && seg.flags.ack {
            (dst, src)
        } else {
            (src, dst)
        };
        let index = self.streams.len();
        let id = StreamId(index as u64);
        self.streams
            .push(Stream::new(id, client, server, seg, self.limits.reassembly));
        self.by_key.insert(key, index);
        index
    }

    /// Ends every connection still running (end of capture): holes before buffered bytes
    /// become gaps, buffered bytes are delivered, each direction reports `End`, and all
    /// buffers are freed. Close states stay as they are (`Open` for the unclosed).
    pub fn finish_all<F>(&mut self, sink: &mut F)
    where
        F: FnMut(StreamEvent<'_>),
    {
        for stream in &mut self.streams {
            stream.finish(EndCause::EndOfCapture, &mut self.budget, sink);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::tcp::{CloseState, Event, GapCause, HandshakeState};
    use std::net::{Ipv4Addr, Ipv6Addr};

    const C: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 168, 1, 10));
    const S: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 168, 1, 20));

    fn flags(s: &str) -> Flags {
        Flags {
            syn: s.contains('S'),
            ack: s.contains('A'),
            fin: s.contains('F'),
            rst: s.contains('R'),
            psh: s.contains('P'),
            ..Flags::default()
        }
    }

    /// A segment from (src, sport) to (dst, dport).
    #[allow(clippy::too_many_arguments)]
    fn seg<'a>(
        frame: u64,
        src: IpAddr,
        sport: u16,
        dst: IpAddr,
        dport: u16,
        seq: u32,
        ack: u32,
        f: &str,
        payload: &'a [u8],
    ) -> SegmentInfo<'a> {
        SegmentInfo {
            frame: FrameNumber(frame),
            ts: Duration::from_millis(frame),
            frame_len: 54 + payload.len() as u64,
            src,
            sport,
            dst,
            dport,
            seq,
            ack,
            flags: flags(f),
            window: 512,
            payload,
        }
    }

    /// Collected events as (stream, direction, debug text of the event).
    #[derive(Default)]
    struct Log(Vec<(u64, Direction, String)>);

    impl Log {
        fn push(&mut self, e: StreamEvent<'_>) {
            let text = match e.event {
                Event::Data { offset, bytes, .. } => {
                    format!("data {offset} {}", String::from_utf8_lossy(bytes))
                }
                other => format!("{other:?}"),
            };
            self.0.push((e.stream.0, e.direction, text));
        }
    }

    /// Feeds segments; returns (stream id, direction) of each.
    fn feed(t: &mut StreamTable, log: &mut Log, segs: &[SegmentInfo<'_>]) -> Vec<(u64, Direction)> {
        segs.iter()
            .map(|s| {
                let o = t.on_segment(s, &mut |e| log.push(e));
                (o.stream.0, o.direction)
            })
            .collect()
    }

    use Direction::{ClientToServer as C2S, ServerToClient as S2C};

    /// A whole connection: handshake, request, response, four-way close (8 frames from `f0`).
    fn connection(f0: u64, sport: u16, isn_c: u32, isn_s: u32) -> Vec<SegmentInfo<'static>> {
        let (c, s) = (isn_c, isn_s);
        vec![
            seg(f0, C, sport, S, 80, c, 0, "S", b""),
            seg(f0 + 1, S, 80, C, sport, s, c + 1, "SA", b""),
            seg(f0 + 2, C, sport, S, 80, c + 1, s + 1, "A", b""),
            seg(f0 + 3, C, sport, S, 80, c + 1, s + 1, "PA", b"GET"),
            seg(f0 + 4, S, 80, C, sport, s + 1, c + 4, "PA", b"OK"),
            seg(f0 + 5, C, sport, S, 80, c + 4, s + 3, "FA", b""),
            seg(f0 + 6, S, 80, C, sport, s + 3, c + 5, "FA", b""),
            seg(f0 + 7, C, sport, S, 80, c + 5, s + 4, "A", b""),
        ]
    }

    #[test]
    fn same_tuple_reused_after_close_gets_a_new_id() {
        let mut t = StreamTable::default();
        let mut log = Log::default();
        let mut segs = connection(1, 40000, 1000, 5000);
        segs.extend(connection(9, 40000, 90_000, 70_000));
        let ids = feed(&mut t, &mut log, &segs);
        let expected: Vec<(u64, Direction)> = [0, 1]
            .into_iter()
            .flat_map(|id| {
                [C2S, S2C, C2S, C2S, S2C, C2S, S2C, C2S]
                    .into_iter()
                    .map(move |d| (id, d))
            })
            .collect();
        assert_eq!(ids, expected);
        assert_eq!(t.streams().len(), 2);

        let s0 = t.stream(StreamId(0)).unwrap();
        assert_eq!(
            s0.client,
            Endpoint {
                addr: C,
                port: 40000
            }
        );
        assert_eq!(s0.handshake.state, HandshakeState::Complete);
        assert_eq!(
            (s0.handshake.syn, s0.handshake.syn_ack, s0.handshake.ack),
            (
                Some(FrameNumber(1)),
                Some(FrameNumber(2)),
                Some(FrameNumber(3))
            )
        );
        assert_eq!(
            s0.close,
            CloseState::FourWay {
                first_by: C2S,
                first_fin: FrameNumber(6),
                second_fin: FrameNumber(7),
                last_ack: Some(FrameNumber(8)),
            }
        );
        assert_eq!(
            (s0.first_frame, s0.last_frame),
            (FrameNumber(1), FrameNumber(8))
        );
        let c2s = s0.stats(C2S);
        assert_eq!(
            (c2s.packets, c2s.data_segments, c2s.payload_bytes),
            (5, 1, 3)
        );
        assert_eq!(c2s.bytes, 5 * 54 + 3);
        assert_eq!(s0.stats(S2C).payload_bytes, 2);

        // Events carry stream and direction; each direction ends at its FIN.
        let s0_events: Vec<_> = log.0.iter().filter(|(id, ..)| *id == 0).cloned().collect();
        assert_eq!(
            s0_events,
            vec![
                (0, C2S, "data 0 GET".to_string()),
                (0, S2C, "data 0 OK".to_string()),
                (0, C2S, "End { offset: 3, cause: Fin }".to_string()),
                (0, S2C, "End { offset: 2, cause: Fin }".to_string()),
            ]
        );
        assert_eq!(t.budget().used(), 0, "closed streams hold no buffers");
    }

    #[test]
    fn a_finished_connection_is_a_small_summary() {
        // Memory grows with connections only by this much (plus the map entry).
        let size = std::mem::size_of::<Stream>();
        println!("size_of::<Stream>() = {size}");
        assert!(size <= 1024, "{size}");
    }

    #[test]
    fn relative_numbers_match_wireshark() {
        let mut t = StreamTable::default();
        let segs = connection(1, 40000, 4_294_967_000, 123);
        let rel: Vec<(u32, Option<u32>)> = segs
            .iter()
            .map(|s| {
                let o = t.on_segment(s, &mut |_| {});
                (o.relative_seq, o.relative_ack)
            })
            .collect();
        // Wireshark: SYN Seq=0; SYN-ACK Seq=0 Ack=1; ACK Seq=1 Ack=1; GET Seq=1 Ack=1;
        // OK Seq=1 Ack=4; FIN Seq=4 Ack=3; FIN Seq=3 Ack=5; ACK Seq=5 Ack=4.
        assert_eq!(
            rel,
            vec![
                (0, None),
                (0, Some(1)),
                (1, Some(1)),
                (1, Some(1)),
                (1, Some(4)),
                (4, Some(3)),
                (3, Some(5)),
                (5, Some(4)),
            ]
        );
    }

    #[test]
    fn mid_connection_relative_numbers_start_at_one() {
        let mut t = StreamTable::default();
        let o = t.on_segment(&seg(1, C, 1, S, 2, 777, 999, "PA", b"x"), &mut |_| {});
        assert_eq!((o.relative_seq, o.relative_ack), (1, Some(1)));
        let o = t.on_segment(&seg(2, S, 2, C, 1, 999, 778, "A", b""), &mut |_| {});
        assert_eq!((o.relative_seq, o.relative_ack), (1, Some(2)));
    }

    #[test]
    fn interleaved_connections_are_numbered_by_first_packet() {
        let mut t = StreamTable::default();
        let mut log = Log::default();
        let a = connection(0, 40001, 100, 200);
        let b = connection(0, 40002, 300, 400);
        // b's SYN first, then a's SYN, then alternate; renumber frames in arrival order.
        let mut order = vec![b[0], a[0]];
        for i in 1..8 {
            order.push(a[i]);
            order.push(b[i]);
        }
        for (n, s) in order.iter_mut().enumerate() {
            s.frame = FrameNumber(n as u64 + 1);
        }
        // A third connection, first seen mid-stream from the server side.
        let v6a = IpAddr::V6(Ipv6Addr::LOCALHOST);
        let v6b = IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1));
        order.insert(3, seg(99, v6a, 8080, v6b, 5555, 10, 20, "PA", b"hi"));
        let ids = feed(&mut t, &mut log, &order);
        assert_eq!(ids[0], (0, C2S)); // b
        assert_eq!(ids[1], (1, C2S)); // a
        assert_eq!(ids[3], (2, C2S)); // the IPv6 one: its first sender is the client
        assert_eq!(t.stream(StreamId(0)).unwrap().client.port, 40002);
        assert_eq!(t.stream(StreamId(1)).unwrap().client.port, 40001);
        let v6 = t.stream(StreamId(2)).unwrap();
        assert_eq!(
            v6.client,
            Endpoint {
                addr: v6a,
                port: 8080
            }
        );
        assert_eq!(v6.handshake.state, HandshakeState::NotSeen);
        assert!(t.stream(StreamId(3)).is_none());
    }

    #[test]
    fn syn_ack_first_makes_its_receiver_the_client() {
        let mut t = StreamTable::default();
        let o = t.on_segment(&seg(1, S, 80, C, 40000, 5000, 1001, "SA", b""), &mut |_| {});
        assert_eq!(o.direction, S2C);
        let st = t.stream(StreamId(0)).unwrap();
        assert_eq!(
            st.client,
            Endpoint {
                addr: C,
                port: 40000
            }
        );
        assert_eq!(st.handshake.state, HandshakeState::NotSeen);
        assert_eq!(st.handshake.syn_ack, Some(FrameNumber(1)));
    }

    #[test]
    fn retransmitted_syn_stays_in_the_same_stream() {
        let mut t = StreamTable::default();
        let mut log = Log::default();
        let ids = feed(
            &mut t,
            &mut log,
            &[
                seg(1, C, 40000, S, 80, 1000, 0, "S", b""),
                seg(2, C, 40000, S, 80, 1000, 0, "S", b""),
                seg(3, S, 80, C, 40000, 0, 1001, "RA", b""),
            ],
        );
        assert_eq!(ids, vec![(0, C2S), (0, C2S), (0, S2C)]);
        let st = t.stream(StreamId(0)).unwrap();
        assert_eq!(st.handshake.state, HandshakeState::SynOnly);
        assert_eq!(
            st.close,
            CloseState::Reset {
                by: S2C,
                frame: FrameNumber(3)
            }
        );
        // A new SYN with another ISN after the reset is a new connection.
        let o = t.on_segment(&seg(4, C, 40000, S, 80, 7777, 0, "S", b""), &mut |_| {});
        assert_eq!(o.stream, StreamId(1));
    }

    #[test]
    fn syn_and_data_without_syn_ack() {
        let mut t = StreamTable::default();
        let mut log = Log::default();
        feed(
            &mut t,
            &mut log,
            &[
                seg(1, C, 1, S, 2, 10, 0, "S", b""),
                seg(2, C, 1, S, 2, 11, 51, "PA", b"abc"),
            ],
        );
        assert_eq!(
            t.stream(StreamId(0)).unwrap().handshake.state,
            HandshakeState::NoSynAck
        );
    }

    #[test]
    fn simultaneous_close_and_half_close() {
        let mut t = StreamTable::default();
        let mut log = Log::default();
        feed(
            &mut t,
            &mut log,
            &[
                seg(1, C, 1, S, 2, 100, 200, "A", b""),
                seg(2, C, 1, S, 2, 100, 200, "FA", b""),
                seg(3, S, 2, C, 1, 200, 100, "FA", b""), // does not ACK the client's FIN
            ],
        );
        assert_eq!(
            t.stream(StreamId(0)).unwrap().close,
            CloseState::Simultaneous {
                client_fin: FrameNumber(2),
                server_fin: FrameNumber(3)
            }
        );
        feed(&mut t, &mut log, &[seg(4, C, 3, S, 2, 5, 9, "FA", b"")]);
        assert_eq!(
            t.stream(StreamId(1)).unwrap().close,
            CloseState::HalfClosed {
                by: C2S,
                fin: FrameNumber(4)
            }
        );
    }

    #[test]
    fn duplicate_acks_and_zero_windows_are_counted() {
        let mut t = StreamTable::default();
        let mut log = Log::default();
        let mut zero = seg(5, S, 2, C, 1, 500, 110, "A", b"");
        zero.window = 0;
        feed(
            &mut t,
            &mut log,
            &[
                seg(1, C, 1, S, 2, 100, 500, "PA", b"0123456789"),
                seg(2, S, 2, C, 1, 500, 110, "A", b""),
                seg(3, S, 2, C, 1, 500, 110, "A", b""), // duplicate
                seg(4, S, 2, C, 1, 500, 110, "A", b""), // duplicate
                zero,                                   // zero window: not a dup ACK
                seg(6, S, 2, C, 1, 500, 110, "FA", b""), // FIN: not a dup ACK
            ],
        );
        let st = t.stream(StreamId(0)).unwrap();
        assert_eq!(st.stats(S2C).dup_acks, 2);
        assert_eq!(st.stats(S2C).zero_windows, 1);
        assert_eq!(st.stats(C2S).dup_acks, 0);
    }

    #[test]
    fn finish_all_flushes_holes_as_gaps_and_ends_open_streams() {
        let mut t = StreamTable::default();
        let mut log = Log::default();
        feed(
            &mut t,
            &mut log,
            &[
                seg(1, C, 1, S, 2, 100, 0, "S", b""),
                seg(2, C, 1, S, 2, 101, 0, "PA", b"ab"),
                seg(3, C, 1, S, 2, 105, 0, "PA", b"ef"), // 2..4 missing
            ],
        );
        assert!(t.budget().used() > 0);
        t.finish_all(&mut |e| log.push(e));
        let tail: Vec<String> = log.0.iter().skip(1).map(|(_, _, s)| s.clone()).collect();
        assert_eq!(
            tail,
            vec![
                "OutOfOrder { frame: FrameNumber(3), offset: 4, len: 2 }".to_string(),
                format!(
                    "{:?}",
                    Event::Gap {
                        offset: 2,
                        len: 2,
                        cause: GapCause::Finish
                    }
                ),
                "data 4 ef".to_string(),
                "End { offset: 6, cause: EndOfCapture }".to_string(),
            ]
        );
        let st = t.stream(StreamId(0)).unwrap();
        assert_eq!(st.close, CloseState::Open);
        assert_eq!(st.stats(C2S).gap_bytes, 2);
        assert_eq!(t.budget().used(), 0);
        // finish_all is idempotent.
        let before = log.0.len();
        t.finish_all(&mut |e| log.push(e));
        assert_eq!(log.0.len(), before);
    }

    #[test]
    fn peer_ack_reveals_missed_data() {
        let mut t = StreamTable::default();
        let mut log = Log::default();
        feed(
            &mut t,
            &mut log,
            &[
                seg(1, C, 1, S, 2, 100, 0, "S", b""),
                seg(2, S, 2, C, 1, 300, 101, "SA", b""),
                seg(3, C, 1, S, 2, 101, 301, "A", b""),
                // The client's 5 bytes were not captured, but the server ACKs them.
                seg(4, S, 2, C, 1, 301, 106, "A", b""),
            ],
        );
        assert_eq!(
            log.0,
            vec![(
                0,
                C2S,
                format!(
                    "{:?}",
                    Event::Gap {
                        offset: 0,
                        len: 5,
                        cause: GapCause::PeerAck
                    }
                )
            )]
        );
    }
}
