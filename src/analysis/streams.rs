//! The per-connection summary of `pcaplab streams`: lifecycle, counters and sticky counts of
//! each TCP stream, built from the stream table's final rows and the sticky reports.
//!
//! [`Rows`] is the consumer: it frames the streams (counting only) and, as the table lets each
//! connection go, joins its row with its two reports (found by stream id, O(1)) and hands the
//! [`StreamRow`] out in stream order through a bounded window ([`InOrder`]). Nothing is kept
//! per stream beyond the connections the table holds and that window.

use std::net::SocketAddr;

use serde::Serialize;

use super::order::InOrder;
use super::sticky::{self, Sticky};
use crate::app::consumer::{At, StreamConsumer};
use crate::flow::tcp::{
    CloseState, DirectionStats, Handshake, HandshakeState, Stream, StreamEnd, StreamEvent,
    StreamTable,
};
use crate::units::{Direction, StreamId};

/// One row of `pcaplab streams` (and its JSON object).
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct StreamRow {
    /// Stream id, as Wireshark's `tcp.stream`.
    pub stream: u64,
    /// The side that opened the connection.
    pub client: SocketAddr,
    /// The other side.
    pub server: SocketAddr,
    /// `complete`, `syn_only`, `no_syn_ack`, `no_ack` or `not_seen`.
    pub handshake: HandshakeState,
    /// `four_way`, `simultaneous`, `half_closed`, `reset_by_client`, `reset_by_server`, `open`.
    pub close: String,
    /// Why the row is final: `closed`, `reset`, `timed_out` (idle longer than the idle timeout),
    /// `evicted` (the table was full), `replaced` (a new connection on the same ports) or
    /// `end_of_capture`.
    pub end: StreamEnd,
    /// Packets in both directions.
    pub packets: u64,
    /// Frame bytes from client to server (as `tshark -z conv,tcp`).
    pub bytes_client_to_server: u64,
    /// Frame bytes from server to client.
    pub bytes_server_to_client: u64,
    /// Seconds from the first to the last packet.
    pub duration: f64,
    /// Retransmitted segments, both directions.
    pub retransmissions: u64,
    /// Out-of-order segments, both directions.
    pub out_of_order: u64,
    /// Bytes never captured, both directions.
    pub gap_bytes: u64,
    /// Framing of each direction, `client_to_server / server_to_client` (e.g. `http / http`,
    /// `len:4 (error) / unknown`; see [`sticky::Direction::framing_label`]).
    pub framing: String,
    /// Data segments carrying bytes of two or more messages, over the directions whose
    /// message boundaries are known (`None` when neither's are).
    pub coalesced_segments: Option<u64>,
    /// Messages spread over two or more data segments, over the directions whose message
    /// boundaries are known (`None` when neither's are).
    pub split_messages: Option<u64>,
    /// Framing problems of both directions (client to server first), each once.
    pub framing_issues: Vec<FramingIssue>,
    /// Frame numbers of the handshake.
    pub handshake_frames: Handshake,
    /// The close with its frame numbers.
    pub close_frames: CloseState,
    /// First and last frame.
    pub frames: (u64, u64),
    /// Counters from client to server.
    pub client_to_server: DirectionStats,
    /// Counters from server to client.
    pub server_to_client: DirectionStats,
}

/// A framing problem of one direction of a stream, as `streams` lists it.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct FramingIssue {
    /// The direction whose bytes it is about.
    pub direction: Direction,
    /// The framing in use there.
    pub framing: String,
    /// Stream offset in that direction.
    pub offset: u64,
    /// What went wrong.
    pub reason: String,
    /// `mismatch` (the program's error) or `capture` (bytes missing from the capture).
    pub kind: sticky::IssueKind,
}

/// Short name of a close state, naming who reset.
pub fn close_name(close: &CloseState) -> String {
    match close {
        CloseState::Open => "open".into(),
        CloseState::HalfClosed { .. } => "half_closed".into(),
        CloseState::FourWay { .. } => "four_way".into(),
        CloseState::Simultaneous { .. } => "simultaneous".into(),
        CloseState::Reset {
            by: Direction::ClientToServer,
            ..
        } => "reset_by_client".into(),
        CloseState::Reset {
            by: Direction::ServerToClient,
            ..
        } => "reset_by_server".into(),
    }
}

/// Most rows held to hand them out in stream order (see [`InOrder`]).
pub const ORDER_WINDOW: usize = 65_536;

/// The row of stream `s` with its sticky reports (client to server first), when framed.
pub fn row(s: &Stream, reports: Option<&[sticky::Direction; 2]>) -> StreamRow {
    let report = |d: Direction| reports.and_then(|r| r.get(d.index()));
    let framing_of = |d: Direction| {
        report(d).map_or_else(|| "none".to_string(), sticky::Direction::framing_label)
    };
    let known = || {
        reports
            .into_iter()
            .flatten()
            .filter(|r| r.messages.is_some())
    };
    let any_known = known().next().is_some();
    let coalesced_segments = any_known.then(|| known().filter_map(|r| r.coalesced_segments).sum());
    let split_messages = any_known.then(|| known().filter_map(|r| r.split_messages).sum());
    let framing_issues = reports
        .into_iter()
        .flatten()
        .flat_map(|r| {
            r.issues.iter().map(|i| FramingIssue {
                direction: r.direction,
                framing: r.framing.clone(),
                offset: i.offset,
                reason: i.reason.clone(),
                kind: i.kind,
            })
        })
        .collect();
    let (c2s, s2c) = (&s.client_to_server, &s.server_to_client);
    StreamRow {
        stream: s.id.0,
        client: SocketAddr::new(s.client.addr, s.client.port),
        server: SocketAddr::new(s.server.addr, s.server.port),
        handshake: s.handshake.state,
        close: close_name(&s.close),
        end: s.end,
        packets: c2s.packets + s2c.packets,
        bytes_client_to_server: c2s.bytes,
        bytes_server_to_client: s2c.bytes,
        duration: s.last_ts.saturating_sub(s.first_ts).as_secs_f64(),
        retransmissions: c2s.retransmissions + s2c.retransmissions,
        out_of_order: c2s.out_of_order + s2c.out_of_order,
        gap_bytes: c2s.gap_bytes + s2c.gap_bytes,
        framing: format!(
            "{} / {}",
            framing_of(Direction::ClientToServer),
            framing_of(Direction::ServerToClient)
        ),
        coalesced_segments,
        split_messages,
        framing_issues,
        handshake_frames: s.handshake,
        close_frames: s.close,
        frames: (s.first_frame.0, s.last_frame.0),
        client_to_server: *c2s,
        server_to_client: *s2c,
    }
}

/// The rows of `pcaplab streams` (and of `stats`' TCP conversations): a [`StreamConsumer`]
/// that hands each connection's [`StreamRow`] to a callback, in stream order, as the stream
/// table lets the connection go (see the module docs).
pub struct Rows<'e> {
    sticky: Option<Sticky<'static>>,
    order: InOrder<StreamRow>,
    out: &'e mut dyn FnMut(StreamRow),
}

impl<'e> Rows<'e> {
    /// Rows framed with `framing` (`None`: not framed, the framing columns say `none`), each
    /// handed to `out`.
    pub fn new(
        framing: Option<crate::framing::FramingSpec>,
        out: &'e mut dyn FnMut(StreamRow),
    ) -> Self {
        Rows {
            sticky: framing.map(|framing| {
                Sticky::by_stream(sticky::Options {
                    framing,
                    stream: None,
                    keep_segments: false,
                })
            }),
            order: InOrder::new(ORDER_WINDOW),
            out,
        }
    }

    /// Times the reordering window was full and a row went out before a lower stream's
    /// (see [`InOrder`]).
    pub fn order_overflows(&self) -> u64 {
        self.order.overflows()
    }
}

impl StreamConsumer for Rows<'_> {
    fn on_event(&mut self, event: &StreamEvent<'_>, at: At) {
        if let Some(s) = &mut self.sticky {
            s.on_event(event, at);
        }
    }

    fn on_packet_end(&mut self, stream: StreamId, at: At, table: &StreamTable) {
        if let Some(s) = &mut self.sticky {
            s.on_packet_end(stream, at, table);
        }
    }

    fn on_stream_end(&mut self, s: &Stream, _at: At) {
        let reports = self.sticky.as_mut().and_then(|st| st.take(s.id));
        let r = row(s, reports.as_ref());
        self.order.push(s.id.0, Some(r), &mut *self.out);
    }

    fn finish(&mut self, _at: At) {
        self.order.flush(&mut *self.out);
    }
}
