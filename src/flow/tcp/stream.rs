//! `Stream`: one TCP connection — its endpoints, handshake and close with frame numbers,
//! per-direction counters, and the two [`Reassembler`]s that turn its segments into bytes.
//!
//! It owns the per-connection state machine; finding the connection of a segment and numbering
//! connections is `table`'s job. Once a connection is over, its reassemblers hold no buffers
//! and the struct is a small summary (a few hundred bytes).

use std::net::IpAddr;
use std::time::Duration;

use crate::capture::FrameNumber;
use crate::flow::Direction;

use super::reassembly::{Budget, Counters, EndCause, Event, Limits, Reassembler, Segment};
use super::seq::SeqNum;
use super::table::{SegmentInfo, StreamEvent};

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
    /// New payload bytes delivered in order.
    pub payload_bytes: u64,
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
        self.payload_bytes = c.payload_bytes;
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
    /// Highest `seq + len (+ SYN/FIN)` seen.
    next_seq: Option<SeqNum>,
    last_ack: Option<SeqNum>,
    last_window: Option<u16>,
    last_was_keepalive: bool,
    /// This side's first FIN: its frame and the sequence number the FIN occupies.
    fin: Option<(FrameNumber, SeqNum)>,
}

/// One TCP connection: summary fields plus the state needed while it runs.
#[derive(Debug, serde::Serialize)]
pub struct Stream {
    /// Its number.
    pub id: StreamId,
    /// The side that sent the SYN (or, without one, the first packet's sender; the receiver
    /// when that packet was a SYN-ACK).
    pub client: Endpoint,
    /// The other side.
    pub server: Endpoint,
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
    /// Client → server counters.
    pub client_to_server: DirectionStats,
    /// Server → client counters.
    pub server_to_client: DirectionStats,
    #[serde(skip)]
    track: [Track; 2],
    #[serde(skip)]
    reassemblers: [Reassembler; 2],
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

impl Stream {
    /// A new stream whose first packet is `seg`, with the given client.
    pub(super) fn new(
        id: StreamId,
        client: Endpoint,
        server: Endpoint,
        seg: &SegmentInfo<'_>,
        limits: Limits,
    ) -> Stream {
        Stream {
            id,
            client,
            server,
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
            client_to_server: DirectionStats::default(),
            server_to_client: DirectionStats::default(),
            track: [Track::default(); 2],
            reassemblers: [Reassembler::new(limits), Reassembler::new(limits)],
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

    fn reassembler_mut(&mut self, d: Direction) -> &mut Reassembler {
        side_mut(&mut self.reassemblers, d)
    }

    /// Wireshark's `base_seq` of the side sending in direction `d`, if known.
    pub(super) fn base_seq(&self, d: Direction) -> Option<SeqNum> {
        self.track(d).base
    }

    /// True once both sides sent a FIN or one sent a RST.
    pub fn is_closed(&self) -> bool {
        match self.close {
            CloseState::FourWay { .. } | CloseState::Simultaneous { .. } => true,
            CloseState::Reset { .. } => true,
            CloseState::Open | CloseState::HalfClosed { .. } => false,
        }
    }

    /// The reassembler of direction `d` (read-only: counters, next offset).
    pub fn reassembler(&self, d: Direction) -> &Reassembler {
        side(&self.reassemblers, d)
    }

    /// Relative sequence and acknowledgment numbers as Wireshark shows them (`seq - base`,
    /// `ack - peer base`), for a segment travelling in direction `d`.
    pub fn relative(&self, d: Direction, seq: u32, ack: u32) -> (u32, u32) {
        let base = self.track(d).base.unwrap_or(SeqNum(0));
        let peer = self.track(d.reverse()).base.unwrap_or(SeqNum(0));
        (seq.wrapping_sub(base.0), ack.wrapping_sub(peer.0))
    }

    /// Processes one segment travelling in direction `d`.
    pub(super) fn on_segment<F>(
        &mut self,
        d: Direction,
        seg: &SegmentInfo<'_>,
        budget: &mut Budget,
        sink: &mut F,
    ) where
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

        // Packet-level counters.
        let payload_len = u32::try_from(seg.payload.len()).unwrap_or(u32::MAX);
        let peer_keepalive = self.track(rev).last_was_keepalive;
        {
            let t = *self.track(d);
            let is_dup_ack = payload_len == 0
                && seg.window != 0
                && t.last_window == Some(seg.window)
                && t.next_seq == Some(seq)
                && t.last_ack == Some(ack)
                && !f.syn
                && !f.fin
                && !f.rst
                && !peer_keepalive;
            let zero_window = seg.window == 0 && !f.syn && !f.fin && !f.rst;
            let frame_len = seg.frame_len;
            let st = self.stats_mut(d);
            st.packets += 1;
            st.bytes = st.bytes.saturating_add(frame_len);
            if is_dup_ack {
                st.dup_acks += 1;
            }
            if zero_window {
                st.zero_windows += 1;
            }
        }

        self.update_handshake(d, seg, seq, ack);
        self.update_close(d, seg, seq, ack, payload_len);

        // Reassembly. RST payload (diagnostic text, RFC 9293 §3.5.3) is not stream data.
        let id = self.id;
        let mut keepalive = false;
        let seg_view = Segment {
            frame: seg.frame,
            seq,
            syn: f.syn,
            fin: f.fin,
            payload: if f.rst { &[] } else { seg.payload },
        };
        {
            let mut fwd = |event: Event<'_>| {
                if matches!(event, Event::KeepAlive { .. }) {
                    keepalive = true;
                }
                sink(StreamEvent {
                    stream: id,
                    direction: d,
                    event,
                });
            };
            if !f.rst {
                side_mut(&mut self.reassemblers, d).on_segment(&seg_view, budget, &mut fwd);
            }
        }
        if f.ack {
            let mut back = |event: Event<'_>| {
                sink(StreamEvent {
                    stream: id,
                    direction: rev,
                    event,
                });
            };
            self.reassembler_mut(rev)
                .on_peer_ack(ack, budget, &mut back);
        }
        if !seg.payload.is_empty() && d == Direction::ClientToServer && !f.rst {
            self.client_data_seen = true;
            self.refresh_handshake_state();
        }

        // Header tracking for the next segment.
        {
            let mut span = payload_len;
            if f.syn {
                span = span.saturating_add(1);
            }
            if f.fin {
                span = span.saturating_add(1);
            }
            let end = seq.wrapping_add(span);
            let t = self.track_mut(d);
            if t.next_seq.is_none_or(|n| end.is_after(n)) {
                t.next_seq = Some(end);
            }
            t.last_ack = Some(ack);
            t.last_window = Some(seg.window);
            t.last_was_keepalive = keepalive;
        }

        if f.rst {
            self.finish(EndCause::Reset, budget, sink);
        } else if self.reassemblers.iter().all(|r| r.end_cause().is_some()) {
            // Both directions reached their FIN: free the buffers now.
            self.finish(EndCause::Fin, budget, sink);
        }
        self.sync_counters();
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
                        .is_some_and(|isn| ack == isn.wrapping_add(1))
                {
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

    /// Ends both directions (if not already ended) and releases their memory.
    pub(super) fn finish<F>(&mut self, cause: EndCause, budget: &mut Budget, sink: &mut F)
    where
        F: FnMut(StreamEvent<'_>),
    {
        if self.released {
            return;
        }
        let id = self.id;
        for d in [Direction::ClientToServer, Direction::ServerToClient] {
            let mut fwd = |event: Event<'_>| {
                sink(StreamEvent {
                    stream: id,
                    direction: d,
                    event,
                });
            };
            self.reassembler_mut(d).finish(cause, budget, &mut fwd);
        }
        self.released = true;
        self.sync_counters();
    }

    fn sync_counters(&mut self) {
        let [c2s, s2c] = &self.reassemblers;
        let (c2s, s2c) = (*c2s.counters(), *s2c.counters());
        self.client_to_server.absorb(&c2s);
        self.server_to_client.absorb(&s2c);
    }
}
