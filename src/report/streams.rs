//! Output of `pcaplab streams`: one row per TCP stream.

use std::io::{self, Write};

use comfy_table::Color;

use super::table::{ChunkedTable, cell};
use super::{Format, Terminal, write_records};
use crate::analysis::streams::StreamRow;
use crate::flow::tcp::HandshakeState;

const HEADER: [&str; 16] = [
    "stream",
    "client",
    "server",
    "handshake",
    "close",
    "packets",
    "bytes_client_to_server",
    "bytes_server_to_client",
    "duration",
    "retransmissions",
    "out_of_order",
    "gap_bytes",
    "framing",
    "coalesced_segments",
    "split_messages",
    "frames",
];

/// The handshake state as the stream table shows it (`complete`, `syn_only`, ...).
pub(crate) fn handshake_name(h: HandshakeState) -> &'static str {
    match h {
        HandshakeState::Complete => "complete",
        HandshakeState::SynOnly => "syn_only",
        HandshakeState::NoSynAck => "no_syn_ack",
        HandshakeState::NoAck => "no_ack",
        HandshakeState::NotSeen => "not_seen",
    }
}

fn csv_row(r: &StreamRow) -> Vec<String> {
    vec![
        r.stream.to_string(),
        r.client.to_string(),
        r.server.to_string(),
        handshake_name(r.handshake).to_string(),
        r.close.clone(),
        r.packets.to_string(),
        r.bytes_client_to_server.to_string(),
        r.bytes_server_to_client.to_string(),
        format!("{:.6}", r.duration),
        r.retransmissions.to_string(),
        r.out_of_order.to_string(),
        r.gap_bytes.to_string(),
        r.framing.clone(),
        r.coalesced_segments.to_string(),
        r.split_messages.to_string(),
        format!("{}-{}", r.frames.0, r.frames.1),
    ]
}

/// Writes the rows in `format`.
///
/// # Errors
/// When writing fails.
pub fn write<W: Write>(
    out: &mut W,
    format: Format,
    term: Terminal,
    rows: &[StreamRow],
    header: bool,
) -> io::Result<()> {
    if format != Format::Table {
        return write_records(out, format, rows, &HEADER, csv_row, !header);
    }
    if rows.is_empty() {
        return writeln!(out, "no TCP streams found");
    }
    let mut table = ChunkedTable::new(
        out,
        &[
            "Stream",
            "Client",
            "Server",
            "Handshake",
            "Close",
            "Pkts",
            "Bytes c→s",
            "Bytes s→c",
            "Duration s",
            "Retrans",
            "OOO",
            "Gap B",
            "Framing",
            "Coalesced",
            "Split",
        ],
        term,
        header,
    );
    for r in rows {
        let hs_color = (r.handshake != HandshakeState::Complete).then_some(Color::Yellow);
        let close_color = r.close.starts_with("reset").then_some(Color::Red);
        table.add_row(vec![
            cell(r.stream, None, term),
            cell(r.client, None, term),
            cell(r.server, None, term),
            cell(handshake_name(r.handshake), hs_color, term),
            cell(&r.close, close_color, term),
            cell(r.packets, None, term),
            cell(r.bytes_client_to_server, None, term),
            cell(r.bytes_server_to_client, None, term),
            cell(format!("{:.3}", r.duration), None, term),
            cell(r.retransmissions, None, term),
            cell(r.out_of_order, None, term),
            cell(r.gap_bytes, None, term),
            cell(&r.framing, None, term),
            cell(r.coalesced_segments, None, term),
            cell(r.split_messages, None, term),
        ])?;
    }
    table.finish()
}
