//! `Stream`: one TCP connection as reported — its endpoints, handshake and close with frame
//! numbers, and per-direction counters — and the compact state the table keeps per connection.
//!
//! Three sizes matter (issue 15; `size_of` bounds are tested in `table`):
//! - a live connection is a `Record` (its summary: 216 bytes) plus a `Live` part (per
//!   direction the reassembly state, Wireshark's analysis state and the base sequence numbers:
//!   224 bytes). The rarely used counters, the out-of-order buffer and the retransmission
//!   history are boxed only once something needs them;
//! - a final connection waiting to be handed out is its `Record` alone;
//! - [`Stream`], the public row, is built from a `Record` when the caller asks for it.
//!
//! This module owns the per-connection state machine (handshake, close, ends) and drives
//! Wireshark's per-packet analysis ([`super::analysis`]) and the reassembly of each direction;
//! finding the connection of a segment, numbering connections and deciding who is the client
//! is `table`'s job.

use std::net::IpAddr;
use std::time::Duration;

use crate::capture::FrameNumber;
use crate::flow::Direction;

use super::analysis::{
    self, AnalysisFlags, ConnTrack, FlowTrack, SegHeader, Verdict, WindowScale, nanos,
};
use super::reassembly::{Budget, Core, Counts, Cx, EndCause, Event, Limits, Segment};
use super::segment::{SegmentInfo, StreamEvent};
use super::seq::SeqNum;

pub use crate::units::StreamId;

/// An IP address and a TCP port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct Endpoint {
    /// The address.
    pub addr: IpAddr,
    /// The port.
    pub port: u16,
}

/// How much of the three-way handshake the capture shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandshakeState {
    /// SYN, SYN-ACK and the client's ACK of the SYN-ACK.
    Complete,
    /// A SYN only: no answer, no data (a refused or unanswered attempt).
    SynOnly,
    /// SYN and client data, but no SYN-ACK (the capture missed it).
    NoSynAck,
    /// SYN and SYN-ACK, but the client never acknowledged the SYN-ACK.
    NoAck,
    /// No SYN from the client: the capture started mid-connection.
    NotSeen,
}

/// The handshake's frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Handshake {
    /// What the frames add up to.
    pub state: HandshakeState,
    /// The client's first SYN.
    pub syn: Option<FrameNumber>,
    /// The server's first SYN-ACK.
    pub syn_ack: Option<FrameNumber>,
    /// The client's first segment acknowledging the SYN-ACK.
    pub ack: Option<FrameNumber>,
}

/// How the connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum CloseState {
    /// No FIN and no RST (still open when the capture ended).
    Open,
    /// Only one side sent a FIN.
    HalfClosed {
        /// The side that sent it.
        by: Direction,
        /// Frame of the FIN.
        fin: FrameNumber,
    },
    /// FIN, then the other side's FIN acknowledging it (the four-way close).
    FourWay {
        /// The side that closed first.
        first_by: Direction,
        /// Frame of the first FIN.
        first_fin: FrameNumber,
        /// Frame of the second FIN.
        second_fin: FrameNumber,
        /// Frame of the first closer's ACK of the second FIN, if captured.
        last_ack: Option<FrameNumber>,
    },
    /// Both FINs crossed: the second FIN did not acknowledge the first.
    Simultaneous {
        /// Frame of the client's FIN.
        client_fin: FrameNumber,
        /// Frame of the server's FIN.
        server_fin: FrameNumber,
    },
    /// A RST ended it (before any FIN close completed).
    Reset {
        /// The side that sent the RST.
        by: Direction,
        /// Frame of the RST.
        frame: FrameNumber,
    },
}

/// Counters for one direction of a connection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DirectionStats {
    /// Segments sent this way.
    pub packets: u64,
    /// Their frame lengths (as `tshark -z conv,tcp` counts bytes).
    pub bytes: u64,
    /// Segments that carried new payload bytes.
    pub data_segments: u64,
    /// New payload bytes on the wire (each byte once, retransmissions not counted): the bytes
    /// delivered plus those cut by snaplen ([`DirectionStats::not_captured_bytes`]). Header-only
    /// captures still count every byte here, like tshark's `tcp.len`.
    pub payload_bytes: u64,
    /// Of `payload_bytes`, those on the wire but cut off by the capture's snaplen (not a loss).
    pub not_captured_bytes: u64,
    /// Payload bytes carried by RST segments (`tcp.len`; diagnostic text, not stream data).
    pub rst_payload_bytes: u64,
    /// Segments carrying only bytes seen before.
    pub retransmissions: u64,
    /// Segments that arrived beyond the next expected byte.
    pub out_of_order: u64,
    /// Segments carrying both old and new bytes.
    pub overlaps: u64,
    /// Retransmitted or overlapping bytes that differed from the first copy.
    pub inconsistencies: u64,
    /// Duplicate ACKs, as Wireshark defines them: no payload, same ACK, same non-zero window,
    /// sequence number at the highest seen, no SYN/FIN/RST.
    pub dup_acks: u64,
    /// Segments advertising a zero window (without SYN/FIN/RST).
    pub zero_windows: u64,
    /// Keep-alives.
    pub keep_alives: u64,
    /// Bytes never captured (gaps).
    pub gap_bytes: u64,
}

impl DirectionStats {
    fn from_counts(c: &Counts) -> DirectionStats {
        let r = c.rare();
        DirectionStats {
            packets: c.packets,
            bytes: c.bytes,
            data_segments: c.data_segments,
            payload_bytes: c.payload_bytes + r.not_captured_bytes,
            not_captured_bytes: r.not_captured_bytes,
            rst_payload_bytes: r.rst_payload_bytes,
            retransmissions: r.retransmissions,
            out_of_order: r.out_of_order,
            overlaps: r.overlaps,
            inconsistencies: r.inconsistencies,
            dup_acks: r.dup_acks,
            zero_windows: r.zero_windows,
            keep_alives: r.keep_alives,
            gap_bytes: r.gap_bytes,
        }
    }
}

/// Why a connection's row is final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StreamEnd {
    /// Still tracked: packets may still come.
    Active,
    /// Closed by FINs in both directions.
    Closed,
    /// Closed by a RST.
    Reset,
    /// Idle for longer than the idle timeout (capture time): given up, not closed.
    TimedOut,
    /// Dropped when the table was full (the longest-idle connection): given up, not closed.
    Evicted,
    /// A new connection (a SYN with another sequence number) took over its addresses and ports.
    Replaced,
    /// Still open when the capture ended.
    EndOfCapture,
}

/// How the client was told from the server, weakest first (issue 11: roles without a
/// captured handshake). See the `table` module docs for the rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RoleEvidence {
    /// The first packet's sender was taken as the client.
    FirstSender,
    /// A well-known or registered port against an ephemeral one.
    Port,
    /// The payload (a request line or a status line, by the content hook).
    Content,
    /// A SYN or a SYN-ACK.
    Handshake,
}

/// One TCP connection as reported: who, when, how it opened and closed, and what each
/// direction carried. An owned row, built by the table from its compact state
/// ([`super::StreamTable::stream`], [`super::StreamTable::drain_closed`],
/// [`super::StreamTable::take_streams`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Stream {
    /// Its number.
    pub id: StreamId,
    /// The side that opened the connection, by the best evidence seen
    /// ([`Stream::role_evidence`]).
    pub client: Endpoint,
    /// The other side.
    pub server: Endpoint,
    /// How `client` and `server` were decided.
    pub role_evidence: RoleEvidence,
    /// First frame of the connection.
    pub first_frame: FrameNumber,
    /// Last frame of the connection so far.
    pub last_frame: FrameNumber,
    /// Timestamp of the first frame (since the Unix epoch).
    pub first_ts: Duration,
    /// Timestamp of the last frame so far.
    pub last_ts: Duration,
    /// The handshake.
    pub handshake: Handshake,
    /// The close.
    pub close: CloseState,
    /// Why the row is final (or [`StreamEnd::Active`]).
    pub end: StreamEnd,
    /// Client → server counters.
    pub client_to_server: DirectionStats,
    /// Server → client counters.
    pub server_to_client: DirectionStats,
}

impl Stream {
    /// Counters of one direction.
    pub fn stats(&self, d: Direction) -> &DirectionStats {
        match d {
            Direction::ClientToServer => &self.client_to_server,
            Direction::ServerToClient => &self.server_to_client,
        }
    }

    /// True once both sides sent a FIN or one sent a RST.
    pub fn is_closed(&self) -> bool {
        match self.close {
            CloseState::FourWay { .. } | CloseState::Simultaneous { .. } => true,
            CloseState::Reset { .. } => true,
            CloseState::Open | CloseState::HalfClosed { .. } => false,
        }
    }
}

/// The element of a per-direction pair (client → server first).
fn side<T>(pair: &[T; 2], d: Direction) -> &T {
    let [c2s, s2c] = pair;
    match d {
        Direction::ClientToServer => c2s,
        Direction::ServerToClient => s2c,
    }
}

/// The element of a per-direction pair, mutably.
fn side_mut<T>(pair: &mut [T; 2], d: Direction) -> &mut T {
    let [c2s, s2c] = pair;
    match d {
        Direction::ClientToServer => c2s,
        Direction::ServerToClient => s2c,
    }
}

/// Both elements of a pair: (the one of `d`, the other one).
fn both_mut<T>(pair: &mut [T; 2], d: Direction) -> (&mut T, &mut T) {
    let [c2s, s2c] = pair;
    match d {
        Direction::ClientToServer => (c2s, s2c),
        Direction::ServerToClient => (s2c, c2s),
    }
}

/// A frame number kept as a plain `u64` where 0 means none (frame numbers start at 1).
fn frame_opt(raw: u64) -> Option<FrameNumber> {
    (raw != 0).then_some(FrameNumber(raw))
}

/// How the connection closed; the frames are in the [`Record`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Close {
    Open,
    HalfClosed(Direction),
    /// By the side that closed first.
    FourWay(Direction),
    Simultaneous,
    Reset(Direction),
}

/// What is kept of a connection for its row: 216 bytes, and all that remains of it once its
/// row is final and until the caller takes it. Frame numbers are plain `u64` (0 = none),
/// timestamps nanoseconds since the epoch.
#[derive(Debug)]
pub(super) struct Record {
    pub(super) id: StreamId,
    /// The endpoints in the table's canonical order (the lower first).
    pub(super) lo: Endpoint,
    pub(super) hi: Endpoint,
    first_frame: u64,
    last_frame: u64,
    first_ts: u64,
    pub(super) last_ts: u64,
    syn: u64,
    syn_ack: u64,
    hs_ack: u64,
    /// Each side's first FIN (client → server first).
    fin_frame: [u64; 2],
    /// The RST of a reset, or the last ACK of a four-way close.
    close_frame: u64,
    /// Counters (client → server first).
    counts: [Counts; 2],
    close: Close,
    pub(super) role_evidence: RoleEvidence,
    pub(super) end: StreamEnd,
    /// True when `hi` is the client.
    pub(super) client_is_hi: bool,
    client_data_seen: bool,
    /// The reassembly of both directions ended and its buffers were freed.
    released: bool,
}

impl Record {
    /// The client endpoint.
    pub(super) fn client(&self) -> Endpoint {
        if self.client_is_hi { self.hi } else { self.lo }
    }

    /// The server endpoint.
    pub(super) fn server(&self) -> Endpoint {
        if self.client_is_hi { self.lo } else { self.hi }
    }

    /// The direction of a segment sent by `src`.
    pub(super) fn direction_of(&self, src: Endpoint) -> Direction {
        if src == self.client() {
            Direction::ClientToServer
        } else {
            Direction::ServerToClient
        }
    }

    fn is_closed(&self) -> bool {
        match self.close {
            Close::FourWay(_) | Close::Simultaneous | Close::Reset(_) => true,
            Close::Open | Close::HalfClosed(_) => false,
        }
    }

    fn handshake(&self) -> Handshake {
        let (syn, syn_ack, ack) = (
            frame_opt(self.syn),
            frame_opt(self.syn_ack),
            frame_opt(self.hs_ack),
        );
        let state = match (syn, syn_ack, ack) {
            (None, _, _) => HandshakeState::NotSeen,
            (Some(_), Some(_), Some(_)) => HandshakeState::Complete,
            (Some(_), Some(_), None) => HandshakeState::NoAck,
            (Some(_), None, _) if self.client_data_seen => HandshakeState::NoSynAck,
            (Some(_), None, _) => HandshakeState::SynOnly,
        };
        Handshake {
            state,
            syn,
            syn_ack,
            ack,
        }
    }

    fn close_state(&self) -> CloseState {
        let fin = |d: Direction| FrameNumber(*side(&self.fin_frame, d));
        match self.close {
            Close::Open => CloseState::Open,
            Close::HalfClosed(by) => CloseState::HalfClosed { by, fin: fin(by) },
            Close::FourWay(first_by) => CloseState::FourWay {
                first_by,
                first_fin: fin(first_by),
                second_fin: fin(first_by.reverse()),
                last_ack: frame_opt(self.close_frame),
            },
            Close::Simultaneous => CloseState::Simultaneous {
                client_fin: fin(Direction::ClientToServer),
                server_fin: fin(Direction::ServerToClient),
            },
            Close::Reset(by) => CloseState::Reset {
                by,
                frame: FrameNumber(self.close_frame),
            },
        }
    }

    /// The public row.
    pub(super) fn to_stream(&self) -> Stream {
        let [c2s, s2c] = &self.counts;
        Stream {
            id: self.id,
            client: self.client(),
            server: self.server(),
            role_evidence: self.role_evidence,
            first_frame: FrameNumber(self.first_frame),
            last_frame: FrameNumber(self.last_frame),
            first_ts: Duration::from_nanos(self.first_ts),
            last_ts: Duration::from_nanos(self.last_ts),
            handshake: self.handshake(),
            close: self.close_state(),
            end: self.end,
            client_to_server: DirectionStats::from_counts(c2s),
            server_to_client: DirectionStats::from_counts(s2c),
        }
    }
}

/// One direction of a live connection: its reassembly, Wireshark's analysis of it, and the
/// raw sequence numbers kept for relative numbers, the handshake and the close.
#[derive(Debug, Default)]
struct Side {
    core: Core,
    flow: FlowTrack,
    /// Wireshark's `base_seq`: relative sequence numbers are `seq - base`.
    base: u32,
    /// Sequence number of this side's SYN.
    syn_seq: u32,
    /// The sequence number this side's first FIN occupies.
    fin_seq: u32,
    /// Which of the three numbers above are known.
    marks: u8,
}

impl Side {
    const BASE: u8 = 1;
    const SYN: u8 = 2;
    const FIN: u8 = 4;

    fn get(&self, mark: u8, value: u32) -> Option<SeqNum> {
        (self.marks & mark != 0).then_some(SeqNum(value))
    }

    fn base(&self) -> Option<SeqNum> {
        self.get(Side::BASE, self.base)
    }

    fn syn_seq(&self) -> Option<SeqNum> {
        self.get(Side::SYN, self.syn_seq)
    }

    fn fin_seq(&self) -> Option<SeqNum> {
        self.get(Side::FIN, self.fin_seq)
    }

    fn set_base(&mut self, base: Option<SeqNum>) {
        match base {
            Some(b) => {
                self.base = b.0;
                self.marks |= Side::BASE;
            }
            None => self.marks &= !Side::BASE,
        }
    }
}

/// The state a connection needs only while packets may still come: 224 bytes.
#[derive(Debug, Default)]
struct Live {
    sides: [Side; 2],
    conn: ConnTrack,
}

/// A live connection: its record and its live state.
#[derive(Debug)]
pub(super) struct Conn {
    pub(super) rec: Record,
    live: Live,
}

/// What [`Conn::on_segment`] learned about one segment, for the table's `Outcome`.
#[derive(Debug, Clone, Copy)]
pub(super) struct SegmentReport {
    pub(super) verdict: Verdict,
    pub(super) window: u32,
    pub(super) window_scale: Option<WindowScale>,
}

impl Conn {
    /// A new connection whose first packet is `seg`, between the endpoints `lo` < `hi` (the
    /// table's key), `hi` being the client when `client_is_hi`.
    pub(super) fn new(
        id: StreamId,
        (lo, hi): (Endpoint, Endpoint),
        client_is_hi: bool,
        role_evidence: RoleEvidence,
        seg: &SegmentInfo<'_>,
    ) -> Conn {
        let ts = nanos(seg.ts);
        Conn {
            rec: Record {
                id,
                lo,
                hi,
                first_frame: seg.frame.0,
                last_frame: seg.frame.0,
                first_ts: ts,
                last_ts: ts,
                syn: 0,
                syn_ack: 0,
                hs_ack: 0,
                fin_frame: [0; 2],
                close_frame: 0,
                counts: Default::default(),
                close: Close::Open,
                role_evidence,
                end: StreamEnd::Active,
                client_is_hi,
                client_data_seen: false,
                released: false,
            },
            live: Live::default(),
        }
    }

    /// Ends the live part: what remains is the record.
    pub(super) fn into_record(self) -> Record {
        self.rec
    }

    fn side(&self, d: Direction) -> &Side {
        side(&self.live.sides, d)
    }

    fn side_mut(&mut self, d: Direction) -> &mut Side {
        side_mut(&mut self.live.sides, d)
    }

    /// Wireshark's `base_seq` of the side sending in direction `d`, if known.
    pub(super) fn base_seq(&self, d: Direction) -> Option<SeqNum> {
        self.side(d).base()
    }

    /// Both base sequence numbers (client → server first).
    pub(super) fn bases(&self) -> [Option<SeqNum>; 2] {
        [
            self.base_seq(Direction::ClientToServer),
            self.base_seq(Direction::ServerToClient),
        ]
    }

    /// Restores Wireshark's base sequence numbers (client → server first) of a connection
    /// that continues after its record was retired.
    pub(super) fn set_bases(&mut self, bases: [Option<SeqNum>; 2]) {
        let [c2s, s2c] = bases;
        self.side_mut(Direction::ClientToServer).set_base(c2s);
        self.side_mut(Direction::ServerToClient).set_base(s2c);
    }

    /// True once the buffers were released (closed, timed out, evicted, replaced or finished).
    pub(super) fn is_released(&self) -> bool {
        self.rec.released
    }

    /// Memory the connection's buffers hold now (out-of-order pieces and history).
    pub(super) fn held_bytes(&self) -> u64 {
        self.live.sides.iter().map(|s| s.core.held_bytes()).sum()
    }

    /// The next expected stream offset of direction `d` (what was delivered, gaps included).
    pub(super) fn next_offset(&self, d: Direction) -> u64 {
        self.side(d).core.next_offset()
    }

    /// What is known about the window scale of the side sending in direction `d`.
    pub(super) fn window_scale(&self, d: Direction) -> WindowScale {
        self.side(d).flow.window_scale()
    }

    /// Relative sequence and acknowledgment numbers as Wireshark shows them (`seq - base`,
    /// `ack - peer base`), for a segment travelling in direction `d`.
    pub(super) fn relative(&self, d: Direction, seq: u32, ack: u32) -> (u32, u32) {
        let base = self.side(d).base().unwrap_or(SeqNum(0));
        let peer = self.side(d.reverse()).base().unwrap_or(SeqNum(0));
        (seq.wrapping_sub(base.0), ack.wrapping_sub(peer.0))
    }

    /// True while the roles may still change: no payload byte was delivered either way and
    /// no handshake decided them.
    pub(super) fn roles_revisable(&self) -> bool {
        self.rec.role_evidence < RoleEvidence::Handshake
            && !self.rec.released
            && self.live.sides.iter().all(|s| s.core.is_untouched())
    }

    /// Swaps client and server (and everything kept per direction).
    pub(super) fn swap_roles(&mut self) {
        let rec = &mut self.rec;
        rec.client_is_hi = !rec.client_is_hi;
        rec.counts.swap(0, 1);
        rec.fin_frame.swap(0, 1);
        rec.close = match rec.close {
            Close::HalfClosed(d) => Close::HalfClosed(d.reverse()),
            Close::FourWay(d) => Close::FourWay(d.reverse()),
            Close::Reset(d) => Close::Reset(d.reverse()),
            other => other,
        };
        self.live.sides.swap(0, 1);
    }

    /// Processes one segment travelling in direction `d`.
    pub(super) fn on_segment<F>(
        &mut self,
        d: Direction,
        seg: &SegmentInfo<'_>,
        limits: &Limits,
        budget: &mut Budget,
        sink: &mut F,
    ) -> SegmentReport
    where
        F: FnMut(StreamEvent<'_>),
    {
        let seq = SeqNum(seg.seq);
        let ack = SeqNum(seg.ack);
        let f = seg.flags;
        let rev = d.reverse();
        self.rec.last_frame = self.rec.last_frame.max(seg.frame.0);
        self.rec.last_ts = self.rec.last_ts.max(nanos(seg.ts));

        // A retransmitted SYN (same sequence number as the side's base), before the base is set.
        let syn_repeats_base = f.syn && !f.ack && self.side(d).base() == Some(seq);
        // A SYN-ACK whose sequence number is not the base already guessed for its side (from an
        // earlier ACK number): Wireshark takes the SYN-ACK's as the base and flags the segment
        // as reusing the ports, in the same stream (packet-tcp.c, issue 16944).
        let synack_rebases = f.syn && f.ack && self.side(d).base().is_some_and(|b| b != seq);
        if synack_rebases {
            self.side_mut(d).set_base(Some(seq));
        }
        // Wireshark's base_seq rules (packet-tcp.c, tcp_analyze_sequence_number).
        if self.side(d).base().is_none() {
            let base = if f.syn { seq } else { seq.wrapping_sub(1) };
            self.side_mut(d).set_base(Some(base));
        }
        if f.ack && self.side(rev).base().is_none() {
            self.side_mut(rev).set_base(Some(ack.wrapping_sub(1)));
        }

        // tcp.len: the payload length on the wire (never less than what was captured).
        let captured = u32::try_from(seg.payload.len()).unwrap_or(u32::MAX);
        let payload_len = seg.wire_payload_len.max(captured);
        // The window this segment advertises, scaled as known before it (Wireshark reads a
        // SYN's Window Scale option after analysing the SYN, and never scales a SYN).
        let window = self.side(d).flow.calculated_window(seg.window, f.syn);
        let window_scale = (!f.syn).then(|| self.side(d).flow.window_scale());
        let verdict = {
            let header = SegHeader {
                frame: seg.frame,
                ts: seg.ts,
                seq: seg.seq,
                ack: seg.ack,
                flags: f,
                window: seg.window,
                seglen: payload_len,
                ws_option: match seg.options {
                    Some(options) if f.syn => analysis::window_scale_option(options),
                    _ => None,
                },
                options_captured: seg.options.is_some(),
                syn_repeats_base,
            };
            let (fwd, back) = both_mut(&mut self.live.sides, d);
            let mut verdict =
                analysis::analyze(&mut fwd.flow, &mut back.flow, &mut self.live.conn, &header);
            if synack_rebases {
                verdict.flags.insert(AnalysisFlags::REUSED_PORTS);
            }
            verdict
        };
        {
            let c = side_mut(&mut self.rec.counts, d);
            c.packets += 1;
            c.bytes = c.bytes.saturating_add(seg.frame_len);
            if verdict.flags.contains(AnalysisFlags::DUPLICATE_ACK) {
                c.rare_mut().dup_acks += 1;
            }
            if verdict.flags.contains(AnalysisFlags::ZERO_WINDOW) {
                c.rare_mut().zero_windows += 1;
            }
            if f.rst && payload_len > 0 {
                c.rare_mut().rst_payload_bytes += u64::from(payload_len);
            }
        }

        self.update_handshake(d, seg, seq, ack);
        self.update_close(d, seg, seq, ack, payload_len);

        // Reassembly. RST payload (diagnostic text, RFC 9293 §3.5.3) is not stream data.
        let id = self.rec.id;
        let seg_view = Segment {
            frame: seg.frame,
            seq,
            syn: f.syn,
            fin: f.fin,
            payload: seg.payload,
            uncaptured: u64::from(payload_len - captured),
        };
        if !self.rec.released {
            if !f.rst {
                let mut fwd = |event: Event<'_>| {
                    sink(StreamEvent {
                        stream: id,
                        direction: d,
                        event,
                    });
                };
                let mut cx = Cx {
                    limits,
                    budget: &mut *budget,
                    counts: side_mut(&mut self.rec.counts, d),
                };
                side_mut(&mut self.live.sides, d)
                    .core
                    .on_segment(&seg_view, &mut cx, &mut fwd);
            }
            if f.ack {
                let mut back = |event: Event<'_>| {
                    sink(StreamEvent {
                        stream: id,
                        direction: rev,
                        event,
                    });
                };
                let mut cx = Cx {
                    limits,
                    budget: &mut *budget,
                    counts: side_mut(&mut self.rec.counts, rev),
                };
                side_mut(&mut self.live.sides, rev)
                    .core
                    .on_peer_ack(ack, &mut cx, &mut back);
            }
        }
        if payload_len > 0 && d == Direction::ClientToServer && !f.rst {
            self.rec.client_data_seen = true;
        }

        if f.rst {
            self.finish(EndCause::Reset, limits, budget, sink);
        } else if !self.rec.released && self.live.sides.iter().all(|s| s.core.end_cause().is_some())
        {
            // Both directions reached their FIN: free the buffers now.
            self.finish(EndCause::Fin, limits, budget, sink);
        }
        SegmentReport {
            verdict,
            window,
            window_scale,
        }
    }

    fn update_handshake(&mut self, d: Direction, seg: &SegmentInfo<'_>, seq: SeqNum, ack: SeqNum) {
        let f = seg.flags;
        let frame = seg.frame.0;
        match d {
            Direction::ClientToServer => {
                if f.syn && !f.ack {
                    if self.rec.syn == 0 {
                        self.rec.syn = frame;
                    }
                    self.set_syn_seq(d, seq);
                } else if f.ack
                    && !f.syn
                    && !f.rst
                    && self.rec.syn_ack != 0
                    && self.rec.hs_ack == 0
                    && self
                        .side(Direction::ServerToClient)
                        .syn_seq()
                        .is_some_and(|isn| ack.is_after(isn))
                {
                    // RFC 9293 §3.5: the third step acknowledges the SYN-ACK; it may also cover
                    // data the SYN-ACK carried (a banner, TCP Fast Open), so any ACK beyond the
                    // server's ISN completes the handshake (issue 11, synack-data.pcap).
                    self.rec.hs_ack = frame;
                }
            }
            Direction::ServerToClient => {
                if f.syn && f.ack {
                    if self.rec.syn_ack == 0 {
                        self.rec.syn_ack = frame;
                    }
                    self.set_syn_seq(d, seq);
                }
            }
        }
    }

    /// Keeps the first SYN's sequence number of direction `d`.
    fn set_syn_seq(&mut self, d: Direction, seq: SeqNum) {
        let s = self.side_mut(d);
        if s.syn_seq().is_none() {
            s.syn_seq = seq.0;
            s.marks |= Side::SYN;
        }
    }

    fn update_close(
        &mut self,
        d: Direction,
        seg: &SegmentInfo<'_>,
        seq: SeqNum,
        ack: SeqNum,
        payload_len: u32,
    ) {
        let f = seg.flags;
        let frame = seg.frame.0;
        if f.rst {
            if !self.rec.is_closed() {
                self.rec.close = Close::Reset(d);
                self.rec.close_frame = frame;
            }
            return;
        }
        // The first closer's ACK of the second FIN ends a four-way close.
        let second_fin_seq = self.side(d.reverse()).fin_seq();
        if self.rec.close == Close::FourWay(d)
            && self.rec.close_frame == 0
            && f.ack
            && second_fin_seq.is_some_and(|s| ack.is_after(s))
        {
            self.rec.close_frame = frame;
        }
        if !f.fin || self.side(d).fin_seq().is_some() {
            return;
        }
        let data_seq = if f.syn { seq.wrapping_add(1) } else { seq };
        let fin_seq = data_seq.wrapping_add(payload_len);
        {
            let s = self.side_mut(d);
            s.fin_seq = fin_seq.0;
            s.marks |= Side::FIN;
        }
        *side_mut(&mut self.rec.fin_frame, d) = frame;
        match (self.rec.close, self.side(d.reverse()).fin_seq()) {
            (Close::Reset(_), _) => {}
            (_, None) => self.rec.close = Close::HalfClosed(d),
            (_, Some(first_seq)) => {
                self.rec.close = if f.ack && ack.is_after(first_seq) {
                    Close::FourWay(d.reverse())
                } else {
                    Close::Simultaneous
                };
            }
        }
    }

    /// Ends both directions (if not already ended) and releases their memory. The end
    /// reason follows `cause` unless the connection was closed before.
    pub(super) fn finish<F>(
        &mut self,
        cause: EndCause,
        limits: &Limits,
        budget: &mut Budget,
        sink: &mut F,
    ) where
        F: FnMut(StreamEvent<'_>),
    {
        if self.rec.end == StreamEnd::Active {
            self.rec.end = match cause {
                EndCause::Fin => StreamEnd::Closed,
                EndCause::Reset => StreamEnd::Reset,
                EndCause::EndOfCapture => StreamEnd::EndOfCapture,
                EndCause::Replaced => StreamEnd::Replaced,
                EndCause::TimedOut => StreamEnd::TimedOut,
                EndCause::Evicted => StreamEnd::Evicted,
            };
        }
        if self.rec.released {
            return;
        }
        let id = self.rec.id;
        for d in [Direction::ClientToServer, Direction::ServerToClient] {
            let mut fwd = |event: Event<'_>| {
                sink(StreamEvent {
                    stream: id,
                    direction: d,
                    event,
                });
            };
            let mut cx = Cx {
                limits,
                budget: &mut *budget,
                counts: side_mut(&mut self.rec.counts, d),
            };
            side_mut(&mut self.live.sides, d)
                .core
                .finish(cause, &mut cx, &mut fwd);
        }
        self.rec.released = true;
    }
}
