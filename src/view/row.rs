//! The per-packet listing: one owned row per packet with the columns of `pcaplab packets`
//! (also the object of its JSON forms and of `show`).

use std::time::Duration;

use serde::Serialize;

use super::describe::{self, LayerView};
use crate::app::Notes;
use crate::decode::{Malformed, Packet};

/// One row of `pcaplab packets`; also the JSON object documented in the README.
#[derive(Debug, Clone, Serialize)]
pub struct PacketRow {
    /// Frame number (1-based, as Wireshark).
    pub number: u64,
    /// Capture time in seconds since the epoch.
    pub time: f64,
    /// Seconds since the first packet.
    pub rel_time: f64,
    /// Source address.
    pub src: String,
    /// Destination address.
    pub dst: String,
    /// Source port (TCP/UDP), null otherwise.
    pub src_port: Option<u16>,
    /// Destination port (TCP/UDP), null otherwise.
    pub dst_port: Option<u16>,
    /// Highest decoded protocol.
    pub protocol: String,
    /// Length on the wire.
    pub length: u32,
    /// Captured length.
    pub captured_length: usize,
    /// Every decoded layer with its OSI number and fields.
    pub layers: Vec<LayerView>,
    /// The layer chain as text, e.g. `L2 Ethernet › L3 IPv4 › L4 UDP › L7 TFTP`.
    #[serde(skip)]
    pub layer_chain: String,
    /// Wireshark-like info text.
    pub info: String,
    /// Why decoding stopped early, null when the packet decoded completely.
    pub malformed: Option<String>,
    /// The structured reason behind `malformed`.
    #[serde(skip)]
    pub malformed_detail: Option<Malformed>,
}

/// Builds the row of `packet` with its `notes`; `first` is the timestamp of the capture's
/// first packet.
pub fn row(packet: &Packet<'_>, notes: &Notes<'_>, first: Duration) -> PacketRow {
    row_with(packet, notes, first, true)
}

/// [`row`], with `layers` left empty when `with_layers` is false (table and CSV output show only
/// the layer chain, which is much cheaper to compute).
pub fn row_with(
    packet: &Packet<'_>,
    notes: &Notes<'_>,
    first: Duration,
    with_layers: bool,
) -> PacketRow {
    let ctx = &super::context(packet, notes);
    let (layers, summary) = if with_layers {
        let layers = describe::layers(packet, ctx);
        let summary = describe::summary_with_layers(packet, ctx, &layers);
        (layers, summary)
    } else {
        (Vec::new(), describe::summary_fast(packet, ctx))
    };
    let ts = packet.frame.timestamp;
    let rel = ts.checked_sub(first).map_or_else(
        || -(first.saturating_sub(ts).as_secs_f64()),
        |d| d.as_secs_f64(),
    );
    PacketRow {
        number: packet.frame.number.0,
        time: ts.as_secs_f64(),
        rel_time: rel,
        src: summary.src,
        dst: summary.dst,
        src_port: summary.src_port,
        dst_port: summary.dst_port,
        protocol: summary.protocol,
        length: packet.frame.original_len,
        captured_length: packet.frame.captured_len(),
        layers,
        layer_chain: summary.layer_chain,
        info: summary.info,
        malformed: packet
            .malformed
            .as_ref()
            .map(|m| m.to_string())
            .or_else(|| ctx.app.as_ref().and_then(|a| a.malformed.clone())),
        malformed_detail: packet.malformed.clone(),
    }
}
