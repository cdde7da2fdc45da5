//! `Stream`: one TCP connection — its endpoints, handshake and close with frame numbers,
//! per-direction counters, and the two [`Reassembler`]s that turn its segments into bytes.
//!
//! It owns the per-connection state machine and Wireshark's per-packet analysis state
//! ([`super::analysis`]); finding the connection of a segment, numbering connections and
//! deciding who is the client is `table`'s job. Once a connection is over, its reassemblers
//! hold no buffers and the struct is a small summary (`size_of::<Stream>()` is measured by a
//! test: a few hundred bytes).

use std::net::IpAddr;
use std::time::Duration;

use crate::capture::FrameNumber;
use crate::flow::Direction;

use super::analysis::{self, ConnTrack, FlowTrack, SegHeader, Verdict, WindowScale};
use super::reassembly::{Budget, Counters, EndCause, Event, Limits, Reassembler, Segment};
use super::seq::SeqNum;
use super::table::{SegmentInfo, StreamEvent};

/// A connection number, 0-based in order of each connection's first packet: the same number
/// as Wireshark's `tcp.stream`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize)]
pub struct StreamId(pub u64);

impl std::fmt::Display for StreamId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// An IP address and a TCP port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct Endpoint {
    /// The address.
    pub addr: IpAddr,
    /// The port.
    pub port: u16,
}

/// How much of the three-way handshake the capture shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
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
    fn absorb(&mut self, c: &Counters) {
        self.data_segments = c.data_segments;
        self.payload_bytes = c.payload_bytes + c.not_captured_bytes;
        self.not_captured_bytes = c.not_captured_bytes;
        self.retransmissions = c.retransmissions;
        self.out_of_order = c.out_of_order;
        self.overlaps = c.overlaps;
        self.inconsistencies = c.inconsistencies;
        self.keep_alives = c.keep_alives;
        self.gap_bytes = c.gap_bytes;
    }
}

/// Per-direction header tracking (raw numbers stay here).
#[derive(Debug, Clone, Copy, Default)]
struct Track {
    /// Wireshark's `base_seq`: relative sequence numbers are `seq - base`.
    base: Option<SeqNum>,
    /// Sequence number of this side's SYN.
    syn_seq: Option<SeqNum>,
    /// This side's first FIN: its frame and the sequence number the FIN occupies.
    fin: Option<(FrameNumber, SeqNum)>,
    /// Wireshark's analysis state of this direction.
    flow: FlowTrack,
}

/// Why a connection's row is final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
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

/// One TCP connection: summary fields plus the state needed while it runs.
#[derive(Debug, serde::Serialize)]
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
    #[serde(skip)]
    track: [Track; 2],
    #[serde(skip)]
    conn: ConnTrack,
    /// The two reassemblers while the connection runs; dropped (after their counters were
    /// copied into the summary) when it is released, so a closed connection keeps no more
    /// than this struct.
    #[serde(skip)]
    reassemblers: Option<Box<[Reassembler; 2]>>,
    #[serde(skip)]
    client_data_seen: bool,
    #[serde(skip)]
    released: bool,
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

/// What [`Stream::on_segment`] learned about one segment, for the table's `Outcome`.
#[derive(Debug, Clone, Copy)]
pub(super) struct SegmentReport {
    pub(super) verdict: Verdict,
    pub(super) window: u32,
    pub(super) window_scale: Option<WindowScale>,
}

impl Stream {
    /// A new stream whose first packet is `seg`, with the given client.
    pub(super) fn new(
        id: StreamId,
        client: Endpoint,
        server: Endpoint,
        role_evidence: RoleEvidence,
        seg: &SegmentInfo<'_>,
        limits: Limits,
    ) -> Stream {
        Stream {
            id,
            client,
            server,
            role_evidence,
            first_frame: seg.frame,
            last_frame: seg.frame,
            first_ts: seg.ts,
            last_ts: seg.ts,
            handshake: Handshake {
                state: HandshakeState::NotSeen,
                syn: None,
                syn_ack: None,
                ack: None,
            },
            close: CloseState::Open,
            end: StreamEnd::Active,
            client_to_server: DirectionStats::default(),
            server_to_client: DirectionStats::default(),
            track: [Track::default(); 2],
            conn: ConnTrack::default(),
            reassemblers: Some(Box::new([
                Reassembler::new(limits),
                Reassembler::new(limits),
            ])),
            client_data_seen: false,
            released: false,
        }
    }

    /// Counters of one direction.
    pub fn stats(&self, d: Direction) -> &DirectionStats {
        match d {
            Direction::ClientToServer => &self.client_to_server,
            Direction::ServerToClient => &self.server_to_client,
        }
    }

    fn stats_mut(&mut self, d: Direction) -> &mut DirectionStats {
        match d {
            Direction::ClientToServer => &mut self.client_to_server,
            Direction::ServerToClient => &mut self.server_to_client,
        }
    }

    fn track(&self, d: Direction) -> &Track {
        side(&self.track, d)
    }

    fn track_mut(&mut self, d: Direction) -> &mut Track {
        side_mut(&mut self.track, d)
    }

    /// Wireshark's `base_seq` of the side sending in direction `d`, if known.
    pub(super) fn base_seq(&self, d: Direction) -> Option<SeqNum> {
        self.track(d).base
    }

    /// Restores Wireshark's base sequence numbers (client → server first) of a connection
    /// that continues after its summary was retired.
    pub(super) fn set_bases(&mut self, bases: [Option<SeqNum>; 2]) {
        let [c2s, s2c] = bases;
        self.track[0].base = c2s;
        self.track[1].base = s2c;
    }

    /// True once both sides sent a FIN or one sent a RST.
    pub fn is_closed(&self) -> bool {
        match self.close {
            CloseState::FourWay { .. } | CloseState::Simultaneous { .. } => true,
            CloseState::Reset { .. } => true,
            CloseState::Open | CloseState::HalfClosed { .. } => false,
        }
    }

    /// True once the buffers were released (closed, timed out, evicted, replaced or finished).
    pub fn is_released(&self) -> bool {
        self.released
    }

    /// The reassembler of direction `d` (read-only: counters, next offset), while the
    /// connection runs; `None` once it was released.
    pub fn reassembler(&self, d: Direction) -> Option<&Reassembler> {
        self.reassemblers.as_deref().map(|pair| side(pair, d))
    }

    /// Memory the connection's buffers hold now (out-of-order pieces and history).
    pub fn held_bytes(&self) -> u64 {
        self.reassemblers
            .iter()
            .flat_map(|pair| pair.iter())
            .map(Reassembler::held_bytes)
            .sum()
    }

    /// What is known about the window scale of the side sending in direction `d`.
    pub fn window_scale(&self, d: Direction) -> WindowScale {
        self.track(d).flow.window_scale()
    }

    /// Relative sequence and acknowledgment numbers as Wireshark shows them (`seq - base`,
    /// `ack - peer base`), for a segment travelling in direction `d`.
    pub fn relative(&self, d: Direction, seq: u32, ack: u32) -> (u32, u32) {
        let base = self.track(d).base.unwrap_or(SeqNum(0));
        let peer = self.track(d.reverse()).base.unwrap_or(SeqNum(0));
        (seq.wrapping_sub(base.0), ack.wrapping_sub(peer.0))
    }

    /// True while the roles may still change: no payload byte was delivered either way and
    /// no handshake decided them.
    pub(super) fn roles_revisable(&self) -> bool {
        self.role_evidence < RoleEvidence::Handshake
            && self
                .reassemblers
                .as_deref()
                .is_some_and(|pair| pair.iter().all(Reassembler::is_untouched))
    }

    /// Swaps client and server (and everything kept per direction).
    pub(super) fn swap_roles(&mut self) {
        std::mem::swap(&mut self.client, &mut self.server);
        std::mem::swap(&mut self.client_to_server, &mut self.server_to_client);
        self.track.swap(0, 1);
        if let Some(pair) = self.reassemblers.as_deref_mut() {
            pair.swap(0, 1);
        }
    }

    /// Processes one segment travelling in direction `d`.
    pub(super) fn on_segment<F>(
        &mut self,
        d: Direction,
        seg: &SegmentInfo<'_>,
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
        self.last_frame = self.last_frame.max(seg.frame);
        self.last_ts = self.last_ts.max(seg.ts);

        // Wireshark's base_seq rules (packet-tcp.c, tcp_analyze_sequence_number).
        if self.track(d).base.is_none() {
            self.track_mut(d).base = Some(if f.syn { seq } else { seq.wrapping_sub(1) });
        }
        if f.ack && self.track(rev).base.is_none() {
            self.track_mut(rev).base = Some(ack.wrapping_sub(1));
        }

        // tcp.len: the payload length on the wire (never less than what was captured).
        let captured = u32::try_from(seg.payload.len()).unwrap_or(u32::MAX);
        let payload_len = seg.wire_payload_len.max(captured);
        // The window this segment advertises, scaled as known before it (Wireshark reads a
        // SYN's Window Scale option after analysing the SYN, and never scales a SYN).
        let window = self.track(d).flow.calculated_window(seg.window, f.syn);
        let window_scale = (!f.syn).then(|| self.track(d).flow.window_scale());
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
            };
            let (fwd, back) = both_mut(&mut self.track, d);
            analysis::analyze(&mut fwd.flow, &mut back.flow, &mut self.conn, &header)
        };
        {
            let frame_len = seg.frame_len;
            let st = self.stats_mut(d);
            st.packets += 1;
            st.bytes = st.bytes.saturating_add(frame_len);
            if verdict
                .flags
                .contains(super::analysis::AnalysisFlags::DUPLICATE_ACK)
            {
                st.dup_acks += 1;
            }
            if verdict
                .flags
                .contains(super::analysis::AnalysisFlags::ZERO_WINDOW)
            {
                st.zero_windows += 1;
            }
            if f.rst {
                st.rst_payload_bytes += u64::from(payload_len);
            }
        }

        self.update_handshake(d, seg, seq, ack);
        self.update_close(d, seg, seq, ack, payload_len);

        // Reassembly. RST payload (diagnostic text, RFC 9293 §3.5.3) is not stream data.
        let id = self.id;
        let seg_view = Segment {
            frame: seg.frame,
            seq,
            syn: f.syn,
            fin: f.fin,
            payload: seg.payload,
            uncaptured: u64::from(payload_len - captured),
        };
        if let Some(pair) = self.reassemblers.as_deref_mut() {
            if !f.rst {
                let mut fwd = |event: Event<'_>| {
                    sink(StreamEvent {
                        stream: id,
                        direction: d,
                        event,
                    });
                };
                side_mut(pair, d).on_segment(&seg_view, budget, &mut fwd);
            }
            if f.ack {
                let mut back = |event: Event<'_>| {
                    sink(StreamEvent {
                        stream: id,
                        direction: rev,
                        event,
                    });
                };
                side_mut(pair, rev).on_peer_ack(ack, budget, &mut back);
            }
        }
        if payload_len > 0 && d == Direction::ClientToServer && !f.rst {
            self.client_data_seen = true;
            self.refresh_handshake_state();
        }

        if f.rst {
            self.finish(EndCause::Reset, budget, sink);
        } else if self
            .reassemblers
            .as_deref()
            .is_some_and(|pair| pair.iter().all(|r| r.end_cause().is_some()))
        {
            // Both directions reached their FIN: free the buffers now.
            self.finish(EndCause::Fin, budget, sink);
        }
        self.sync_counters();
        SegmentReport {
            verdict,
            window,
            window_scale,
        }
    }

    fn update_handshake(&mut self, d: Direction, seg: &SegmentInfo<'_>, seq: SeqNum, ack: SeqNum) {
        let f = seg.flags;
        match d {
            Direction::ClientToServer => {
                if f.syn && !f.ack {
                    if self.handshake.syn.is_none() {
                        self.handshake.syn = Some(seg.frame);
                    }
                    self.track_mut(d).syn_seq.get_or_insert(seq);
                } else if f.ack
                    && !f.syn
                    && !f.rst
                    && self.handshake.syn_ack.is_some()
                    && self.handshake.ack.is_none()
                    && self
                        .track(Direction::ServerToClient)
                        .syn_seq
                        .is_some_and(|isn| ack.is_after(isn))
                {
                    // RFC 9293 §3.5: the third step acknowledges the SYN-ACK; it may also cover
                    // data the SYN-ACK carried (a banner, TCP Fast Open), so any ACK beyond the
                    // server's ISN completes the handshake (issue 11, synack-data.pcap).
                    self.handshake.ack = Some(seg.frame);
                }
            }
            Direction::ServerToClient => {
                if f.syn && f.ack {
                    if self.handshake.syn_ack.is_none() {
                        self.handshake.syn_ack = Some(seg.frame);
                    }
                    self.track_mut(d).syn_seq.get_or_insert(seq);
                }
            }
        }
        self.refresh_handshake_state();
    }

    fn refresh_handshake_state(&mut self) {
        let h = &self.handshake;
        self.handshake.state = match (h.syn, h.syn_ack, h.ack) {
            (None, _, _) => HandshakeState::NotSeen,
            (Some(_), Some(_), Some(_)) => HandshakeState::Complete,
            (Some(_), Some(_), None) => HandshakeState::NoAck,
            (Some(_), None, _) if self.client_data_seen => HandshakeState::NoSynAck,
            (Some(_), None, _) => HandshakeState::SynOnly,
        };
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
        if f.rst {
            if !self.is_closed() {
                self.close = CloseState::Reset {
                    by: d,
                    frame: seg.frame,
                };
            }
            return;
        }
        // The first closer's ACK of the second FIN ends a four-way close.
        let second_fin_seq = self.track(d.reverse()).fin.map(|(_, s)| s);
        if let CloseState::FourWay {
            first_by, last_ack, ..
        } = &mut self.close
            && *first_by == d
            && last_ack.is_none()
            && f.ack
            && second_fin_seq.is_some_and(|s| ack.is_after(s))
        {
            *last_ack = Some(seg.frame);
        }
        if !f.fin || self.track(d).fin.is_some() {
            return;
        }
        let data_seq = if f.syn { seq.wrapping_add(1) } else { seq };
        let fin_seq = data_seq.wrapping_add(payload_len);
        self.track_mut(d).fin = Some((seg.frame, fin_seq));
        match (self.close, self.track(d.reverse()).fin) {
            (CloseState::Reset { .. }, _) => {}
            (_, None) => {
                self.close = CloseState::HalfClosed {
                    by: d,
                    fin: seg.frame,
                };
            }
            (_, Some((first_frame, first_seq))) => {
                self.close = if f.ack && ack.is_after(first_seq) {
                    CloseState::FourWay {
                        first_by: d.reverse(),
                        first_fin: first_frame,
                        second_fin: seg.frame,
                        last_ack: None,
                    }
                } else {
                    let (client_fin, server_fin) = match d {
                        Direction::ClientToServer => (seg.frame, first_frame),
                        Direction::ServerToClient => (first_frame, seg.frame),
                    };
                    CloseState::Simultaneous {
                        client_fin,
                        server_fin,
                    }
                };
            }
        }
    }

    /// Ends both directions (if not already ended) and releases their memory. The end
    /// reason follows `cause` unless the connection was closed before.
    pub(super) fn finish<F>(&mut self, cause: EndCause, budget: &mut Budget, sink: &mut F)
    where
        F: FnMut(StreamEvent<'_>),
    {
        if self.end == StreamEnd::Active {
            self.end = match cause {
                EndCause::Fin => StreamEnd::Closed,
                EndCause::Reset => StreamEnd::Reset,
                EndCause::EndOfCapture => StreamEnd::EndOfCapture,
                EndCause::Replaced => StreamEnd::Replaced,
                EndCause::TimedOut => StreamEnd::TimedOut,
                EndCause::Evicted => StreamEnd::Evicted,
            };
        }
        if self.released {
            return;
        }
        let id = self.id;
        if let Some(pair) = self.reassemblers.as_deref_mut() {
            for d in [Direction::ClientToServer, Direction::ServerToClient] {
                let mut fwd = |event: Event<'_>| {
                    sink(StreamEvent {
                        stream: id,
                        direction: d,
                        event,
                    });
                };
                side_mut(pair, d).finish(cause, budget, &mut fwd);
            }
        }
        self.released = true;
        self.sync_counters();
        self.reassemblers = None;
    }

    fn sync_counters(&mut self) {
        let Some([c2s, s2c]) = self.reassemblers.as_deref() else {
            return;
        };
        let (c2s, s2c) = (*c2s.counters(), *s2c.counters());
        self.client_to_server.absorb(&c2s);
        self.server_to_client.absorb(&s2c);
    }
}
