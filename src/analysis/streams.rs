//! The per-connection summary of `pcaplab streams`: lifecycle, counters and sticky counts of
//! each TCP stream, built from the stream table's summaries and the sticky reports.

use std::net::SocketAddr;

use serde::Serialize;

use super::sticky;
use crate::flow::tcp::{CloseState, DirectionStats, Handshake, HandshakeState, Stream};
use crate::units::Direction;

/// One row of `pcaplab streams` (and its JSON object).
#[derive(Debug, Clone, Serialize)]
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
    /// Framing of each direction, `client_to_server / server_to_client` (e.g. `http / http`).
    pub framing: String,
    /// Data segments carrying bytes of two or more messages, both directions.
    pub coalesced_segments: u64,
    /// Messages spread over two or more data segments, both directions.
    pub split_messages: u64,
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

/// Builds the rows from the streams and the sticky reports (two per stream, or none), in
/// linear time: each stream finds its reports by index, not by searching the list.
pub fn rows(streams: &[Stream], sticky: &[sticky::Direction]) -> Vec<StreamRow> {
    let mut by_stream: Vec<[Option<&sticky::Direction>; 2]> = vec![[None, None]; streams.len()];
    for r in sticky {
        if let Some(pair) = usize::try_from(r.stream)
            .ok()
            .and_then(|i| by_stream.get_mut(i))
            && let Some(slot) = pair.get_mut(r.direction.index())
        {
            slot.get_or_insert(r);
        }
    }
    streams
        .iter()
        .map(|s| {
            let reports = usize::try_from(s.id.0)
                .ok()
                .and_then(|i| by_stream.get(i))
                .copied()
                .unwrap_or_default();
            let framing_of = |d: Direction| {
                reports
                    .get(d.index())
                    .copied()
                    .flatten()
                    .map_or_else(|| "none".to_string(), |r| r.framing.clone())
            };
            let (c2s, s2c) = (&s.client_to_server, &s.server_to_client);
            StreamRow {
                stream: s.id.0,
                client: SocketAddr::new(s.client.addr, s.client.port),
                server: SocketAddr::new(s.server.addr, s.server.port),
                handshake: s.handshake.state,
                close: close_name(&s.close),
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
                coalesced_segments: reports.iter().flatten().map(|r| r.coalesced_segments).sum(),
                split_messages: reports.iter().flatten().map(|r| r.split_messages).sum(),
                handshake_frames: s.handshake,
                close_frames: s.close,
                frames: (s.first_frame.0, s.last_frame.0),
                client_to_server: *c2s,
                server_to_client: *s2c,
            }
        })
        .collect()
}
