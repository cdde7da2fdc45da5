//! The per-packet listing: one owned row per packet with the columns of `pcaplab packets`
//! (also the object of its JSON forms and of `show`).

use std::time::Duration;

use serde::Serialize;

use std::fmt::Write as _;

use super::describe::{self, LayerView, TcpRelative};
use crate::app::{Note, Notes};
use crate::decode::{Malformed, OsiLayer, Packet};

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
    if !with_layers {
        let mut columns = Columns::default();
        columns.fill(packet, notes, first);
        return columns.to_row(packet);
    }
    let mut ctx = super::context(packet, notes);
    let mut layers = describe::take_layers(packet, &mut ctx);
    if let Some(frames) = notes.reassembled_from
        && let Some(ip) = layers.iter_mut().find(|l| l.osi == OsiLayer::Network)
    {
        let mut list = String::new();
        write_frame_list(&mut list, frames);
        ip.add("reassembled_from", list);
    }
    super::icmp::add_link_fields(&mut layers, packet, notes);
    let ctx = &ctx;
    let mut summary = describe::summary_with_layers(packet, ctx, &layers);
    super::icmp::write_link(&mut summary.info, packet, notes);
    write_reassembled(&mut summary.info, notes);
    write_cut(&mut summary.info, packet);
    let ts = packet.frame.timestamp;
    PacketRow {
        number: packet.frame.number.0,
        time: ts.as_secs_f64(),
        rel_time: rel_time(ts, first),
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

/// `4, 5, 6`.
fn write_frame_list(out: &mut String, frames: &[crate::units::FrameNumber]) {
    for (i, f) in frames.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "{f}");
    }
}

/// Appends where a reassembled IP datagram came from (`[reassembled from frames 4, 5, 6]`).
fn write_reassembled(info: &mut String, notes: &Notes<'_>) {
    if let Some(frames) = notes.reassembled_from {
        info.push_str(" [reassembled from frames ");
        write_frame_list(info, frames);
        info.push(']');
    }
}

/// Appends the snaplen-cut label (issue 11: a payload the capture cut is not malformed, it is
/// said so in the Info column, e.g. `[payload cut by snaplen (udp: 22 of 100 bytes)]`).
fn write_cut(info: &mut String, packet: &Packet<'_>) {
    if let Some(cut) = packet.snaplen_cut() {
        let _ = write!(info, " [{cut}]");
    }
}

/// Seconds from `first` to `ts` (negative when the capture goes back in time).
fn rel_time(ts: Duration, first: Duration) -> f64 {
    ts.checked_sub(first).map_or_else(
        || -(first.saturating_sub(ts).as_secs_f64()),
        |d| d.as_secs_f64(),
    )
}

/// The columns of `packets` (table and CSV) for one packet, written into buffers that are
/// reused from packet to packet: once they have grown, filling them allocates nothing.
#[derive(Debug, Default)]
pub struct Columns {
    /// Frame number.
    pub number: u64,
    /// Capture time, seconds since the epoch.
    pub time: f64,
    /// Seconds since the first packet.
    pub rel_time: f64,
    /// Source address.
    pub src: String,
    /// Destination address.
    pub dst: String,
    /// Source port.
    pub src_port: Option<u16>,
    /// Destination port.
    pub dst_port: Option<u16>,
    /// Highest decoded protocol.
    pub protocol: &'static str,
    /// Length on the wire.
    pub length: u32,
    /// Captured length.
    pub captured_length: usize,
    /// The layer chain.
    pub layer_chain: String,
    /// The info column.
    pub info: String,
    /// Why decoding stopped early; empty when the packet decoded completely.
    pub malformed: String,
    names: Vec<(OsiLayer, &'static str)>,
}

impl Columns {
    /// Fills the columns of `packet` with its `notes`; `first` is the first packet's time.
    pub fn fill(&mut self, packet: &Packet<'_>, notes: &Notes<'_>, first: Duration) {
        let frame = &packet.frame;
        self.number = frame.number.0;
        self.time = frame.timestamp.as_secs_f64();
        self.rel_time = rel_time(frame.timestamp, first);
        self.length = frame.original_len;
        self.captured_length = frame.captured_len();
        let ports = packet.ports();
        self.src_port = ports.map(|p| p.0);
        self.dst_port = ports.map(|p| p.1);
        let app = notes.app.as_ref();
        let app_name = app.map(Note::protocol);
        self.protocol = describe::protocol_name(packet, app_name);
        self.src.clear();
        self.dst.clear();
        describe::write_addresses(packet, &mut self.src, &mut self.dst);
        self.layer_chain.clear();
        describe::write_layer_chain(&mut self.layer_chain, packet, app_name, &mut self.names);
        let tcp = notes.tcp.as_ref().map(TcpRelative::from_outcome);
        self.info.clear();
        match app {
            Some(Note::Tftp(c)) => super::tftp::write_info(&mut self.info, c),
            Some(Note::Http(label)) => {
                super::http::write_info(&mut self.info, label, packet, tcp.as_ref());
            }
            None => describe::write_info(&mut self.info, packet, tcp.as_ref()),
        }
        super::icmp::write_link(&mut self.info, packet, notes);
        write_reassembled(&mut self.info, notes);
        write_cut(&mut self.info, packet);
        self.malformed.clear();
        match (&packet.malformed, app) {
            (Some(m), _) => {
                let _ = write!(self.malformed, "{m}");
            }
            (None, Some(Note::Tftp(c))) => super::tftp::write_malformed(&mut self.malformed, c),
            _ => {}
        }
    }

    /// An owned row with these columns (no layer list) for `packet`.
    pub fn to_row(&self, packet: &Packet<'_>) -> PacketRow {
        PacketRow {
            number: self.number,
            time: self.time,
            rel_time: self.rel_time,
            src: self.src.clone(),
            dst: self.dst.clone(),
            src_port: self.src_port,
            dst_port: self.dst_port,
            protocol: self.protocol.to_string(),
            length: self.length,
            captured_length: self.captured_length,
            layers: Vec::new(),
            layer_chain: self.layer_chain.clone(),
            info: self.info.clone(),
            malformed: (!self.malformed.is_empty()).then(|| self.malformed.clone()),
            malformed_detail: packet.malformed.clone(),
        }
    }
}
