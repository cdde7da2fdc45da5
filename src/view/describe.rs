//! Human views of a decoded packet: the OSI-labelled layer list with every decoded field (for
//! `show` and JSON), the protocol column, the address columns and a Wireshark-like info line.
//!
//! This is presentation data, built on demand per packet for output only, from the decoded
//! packet and the [`Context`] made of its notes ([`super::context`]); decoding and the engine
//! allocate nothing for it.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use etherparse::{
    Icmpv4Type, Icmpv6Type, LaxLinkExtSlice, LaxNetSlice, LinkSlice, TcpOptionElement, TcpSlice,
    TransportSlice,
};
use serde::Serialize;

use super::text::{push_ip, push_u64};
use crate::decode::addr::{ip_notes, ipv4_class, port_range, service_name};
use crate::decode::link::{Cooked, LinkHeader};
use crate::decode::{OsiLayer, Packet, PartialTcp};
use crate::flow::tcp::{AnalysisFlags, DupAck, Outcome, WindowScale};

/// A field value: a number, a flag or text.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Value {
    /// An integer.
    Int(u64),
    /// A flag.
    Bool(bool),
    /// Text (addresses, names, hex values); fixed texts are borrowed, not allocated.
    Text(Cow<'static, str>),
    /// A short text kept inline (an address, a hex number): not allocated either.
    Short(ShortText),
    /// tshark's names of TCP analysis flags (`["retransmission", "duplicate_ack"]` in JSON,
    /// `retransmission, duplicate_ack` as text): not allocated.
    Analysis(AnalysisNames),
}

/// The tshark field names of a segment's TCP analysis flags ([`AnalysisFlags::names`]), as a
/// JSON list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnalysisNames(pub AnalysisFlags);

impl Serialize for AnalysisNames {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.names())
    }
}

impl std::fmt::Display for AnalysisNames {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, name) in self.0.names().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(name)?;
        }
        Ok(())
    }
}

/// Text of at most [`ShortText::CAPACITY`] bytes stored inline.
#[derive(Clone, Copy)]
pub struct ShortText {
    len: u8,
    /// A write did not fit: the text is incomplete and every later write fails too.
    overflow: bool,
    bytes: [u8; ShortText::CAPACITY],
}

impl ShortText {
    /// The most bytes it holds.
    pub const CAPACITY: usize = 46;

    fn new() -> Self {
        ShortText {
            len: 0,
            overflow: false,
            bytes: [0; Self::CAPACITY],
        }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        // Only whole `&str`s are copied in (see `write_str`).
        std::str::from_utf8(self.bytes.get(..usize::from(self.len)).unwrap_or_default())
            .unwrap_or_default()
    }
}

impl std::fmt::Write for ShortText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let start = usize::from(self.len);
        let end = start + s.len();
        match (
            self.overflow,
            self.bytes.get_mut(start..end),
            u8::try_from(end),
        ) {
            (false, Some(dest), Ok(len)) => {
                dest.copy_from_slice(s.as_bytes());
                self.len = len;
                Ok(())
            }
            _ => {
                self.overflow = true;
                Err(std::fmt::Error)
            }
        }
    }
}

impl PartialEq for ShortText {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl std::fmt::Debug for ShortText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.as_str().fmt(f)
    }
}

impl Serialize for ShortText {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// An address as text (`10.0.0.1`, `fe80::1`), as `Display` writes it; IPv4 is written
/// without `core::fmt` (its padding logic was a visible part of `packets --format ndjson`).
pub fn ip_text(ip: IpAddr) -> Value {
    match ip {
        IpAddr::V4(a) => {
            let mut short = ShortText::new();
            let mut digits = itoa::Buffer::new();
            for (i, o) in a.octets().into_iter().enumerate() {
                if i > 0 {
                    let _ = short.write_str(".");
                }
                let _ = short.write_str(digits.format(o));
            }
            Value::Short(short)
        }
        IpAddr::V6(_) => text(format_args!("{ip}")),
    }
}

/// `0x` and `value` in lowercase hex with at least `width` digits, as `format!("0x{value:0width$x}")`
/// writes it (`0x00ff`), without `core::fmt`.
pub fn hex_text(value: u32, width: usize) -> Value {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let significant = (32 - value.leading_zeros()).div_ceil(4).max(1) as usize;
    let n = significant.max(width).min(8);
    let mut buf = [b'0'; 10];
    buf[1] = b'x';
    for (i, slot) in buf.iter_mut().skip(2).take(n).enumerate() {
        let shift = 4 * (n - 1 - i);
        *slot = DIGITS[((value >> shift) & 0xf) as usize];
    }
    let mut short = ShortText::new();
    // Only ASCII was written.
    let _ = short.write_str(std::str::from_utf8(&buf[..2 + n]).unwrap_or_default());
    Value::Short(short)
}

/// A text value from format arguments: inline when short, allocated otherwise.
pub fn text(args: std::fmt::Arguments<'_>) -> Value {
    let mut short = ShortText::new();
    match short.write_fmt(args) {
        Ok(()) if !short.overflow => Value::Short(short),
        _ => Value::Text(Cow::Owned(std::fmt::format(args))),
    }
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Int(n) => n.fmt(f),
            Value::Bool(b) => b.fmt(f),
            Value::Text(t) => t.fmt(f),
            Value::Short(t) => t.as_str().fmt(f),
            Value::Analysis(a) => a.fmt(f),
        }
    }
}

impl From<u64> for Value {
    fn from(n: u64) -> Self {
        Value::Int(n)
    }
}
impl From<u32> for Value {
    fn from(n: u32) -> Self {
        Value::Int(u64::from(n))
    }
}
impl From<u16> for Value {
    fn from(n: u16) -> Self {
        Value::Int(u64::from(n))
    }
}
impl From<u8> for Value {
    fn from(n: u8) -> Self {
        Value::Int(u64::from(n))
    }
}
impl From<usize> for Value {
    fn from(n: usize) -> Self {
        Value::Int(n as u64)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Text(Cow::Owned(s))
    }
}
impl From<&'static str> for Value {
    fn from(s: &'static str) -> Self {
        Value::Text(Cow::Borrowed(s))
    }
}
impl From<Cow<'static, str>> for Value {
    fn from(s: Cow<'static, str>) -> Self {
        Value::Text(s)
    }
}

/// One named field of a layer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Field {
    /// Field name in snake_case, e.g. `ttl`.
    pub name: &'static str,
    /// Its value.
    pub value: Value,
}

/// One decoded layer with its OSI label and fields.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LayerView {
    /// OSI layer number (1, 2, 3, 4, 7).
    pub osi: OsiLayer,
    /// Protocol name, e.g. `Ethernet`, `802.1Q VLAN`, `IPv4`, `TCP`, `TFTP`.
    pub name: &'static str,
    /// Every decoded field, in header order.
    #[serde(serialize_with = "fields_as_map")]
    pub fields: Vec<Field>,
}

fn fields_as_map<S: serde::Serializer>(fields: &[Field], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = s.serialize_map(Some(fields.len()))?;
    for f in fields {
        map.serialize_entry(f.name, &f.value)?;
    }
    map.end()
}

impl LayerView {
    pub(crate) fn new(osi: OsiLayer, name: &'static str) -> Self {
        LayerView {
            osi,
            name,
            fields: Vec::with_capacity(16),
        }
    }

    pub(crate) fn add(&mut self, name: &'static str, value: impl Into<Value>) -> &mut Self {
        self.fields.push(Field {
            name,
            value: value.into(),
        });
        self
    }

    /// Adds an address and, when it has any, its class and notes under `note`.
    fn add_ip(&mut self, name: &'static str, note: &'static str, ip: IpAddr) -> &mut Self {
        self.add(name, ip_text(ip));
        if let Some(notes) = ip_annotation(ip) {
            self.add(note, notes);
        }
        self
    }

    /// Adds a port and its range and service name under `note`.
    fn add_port(&mut self, name: &'static str, note: &'static str, port: u16) -> &mut Self {
        self.add(name, port).add(note, port_annotation(port))
    }
}

/// `class A, loopback` style notes on an address (`None` when there is nothing to say), as
/// `decode::addr::describe_ip` gives them in parentheses.
fn ip_annotation(ip: IpAddr) -> Option<Value> {
    let mut short = ShortText::new();
    write_ip_annotation(&mut short, ip);
    if short.overflow {
        let mut long = String::new();
        write_ip_annotation(&mut long, ip);
        return Some(Value::Text(Cow::Owned(long)));
    }
    (short.len > 0).then_some(Value::Short(short))
}

fn write_ip_annotation(out: &mut impl std::fmt::Write, ip: IpAddr) {
    let mut sep = "";
    if let IpAddr::V4(a) = ip {
        let _ = write!(out, "class {}", ipv4_class(a));
        sep = ", ";
    }
    for note in ip_notes(ip) {
        let _ = write!(out, "{sep}{note}");
        sep = ", ";
    }
}

/// `http, well-known` style notes on a port (not allocated).
fn port_annotation(port: u16) -> Value {
    match service_name(port) {
        Some(name) => text(format_args!("{name}, {}", port_range(port))),
        None => Value::from(port_range(port)),
    }
}

impl LayerView {
    /// The value of field `name`, if present.
    pub fn field(&self, name: &str) -> Option<&Value> {
        self.fields
            .iter()
            .find(|f| f.name == name)
            .map(|f| &f.value)
    }
}

/// TCP sequence numbers relative to each direction's initial sequence number, as computed by the
/// stream tracker (Wireshark's default display).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpRelative {
    /// Relative sequence number.
    pub seq: u32,
    /// Relative acknowledgement number (when the ACK flag is set and the peer's ISN is known).
    pub ack: Option<u32>,
    /// The TCP stream id (Wireshark's `tcp.stream`).
    pub stream: u64,
    /// The window, scaled when the scale is known (tshark's `tcp.window_size`).
    pub window: u32,
    /// What is known about the sender's window scale; `None` for a SYN (never scaled).
    pub window_scale: Option<WindowScale>,
    /// Wireshark's analysis flags of the segment.
    pub analysis: AnalysisFlags,
    /// For a duplicate ACK: its number and the frame it repeats.
    pub dup_ack: Option<DupAck>,
}

impl TcpRelative {
    /// The stream table's numbers and analysis of a segment.
    pub fn from_outcome(o: &Outcome) -> TcpRelative {
        TcpRelative {
            seq: o.relative_seq,
            ack: o.relative_ack,
            stream: o.stream.0,
            window: o.window,
            window_scale: o.window_scale,
            analysis: o.analysis,
            dup_ack: o.dup_ack,
        }
    }
}

/// Wireshark's Info-column label of each analysis flag (packet-tcp.c), `None` for the
/// duplicate ACK (its label carries numbers).
fn analysis_label(name: &str) -> Option<&'static str> {
    Some(match name {
        "reused_ports" => "[TCP Port numbers reused]",
        "lost_segment" => "[TCP Previous segment not captured]",
        "ack_lost_segment" => "[TCP ACKed unseen segment]",
        "keep_alive" => "[TCP Keep-Alive]",
        "keep_alive_ack" => "[TCP Keep-Alive ACK]",
        "spurious_retransmission" => "[TCP Spurious Retransmission]",
        "fast_retransmission" => "[TCP Fast Retransmission]",
        "retransmission" => "[TCP Retransmission]",
        "out_of_order" => "[TCP Out-Of-Order]",
        "zero_window" => "[TCP ZeroWindow]",
        "zero_window_probe" => "[TCP ZeroWindowProbe]",
        "zero_window_probe_ack" => "[TCP ZeroWindowProbeAck]",
        "window_full" => "[TCP Window Full]",
        "window_update" => "[TCP Window Update]",
        _ => return None,
    })
}

/// The analysis flags in the order Wireshark's Info column shows them: Wireshark 4.0's
/// `tcp_print_sequence_number_analysis` prepends each label in turn (port reuse, the
/// retransmission family, lost segments, window, keep-alive, duplicate ACK, zero window), so
/// they read in the reverse order. Checked against tshark's `_ws.col.Info`: `[TCP ACKed unseen
/// segment] [TCP Fast Retransmission]`, `[TCP Window Full] [TCP Retransmission]`.
const INFO_ORDER: [AnalysisFlags; 15] = [
    AnalysisFlags::ZERO_WINDOW_PROBE_ACK,
    AnalysisFlags::ZERO_WINDOW,
    AnalysisFlags::ZERO_WINDOW_PROBE,
    AnalysisFlags::DUPLICATE_ACK,
    AnalysisFlags::KEEP_ALIVE_ACK,
    AnalysisFlags::KEEP_ALIVE,
    AnalysisFlags::WINDOW_FULL,
    AnalysisFlags::WINDOW_UPDATE,
    AnalysisFlags::ACK_LOST_SEGMENT,
    AnalysisFlags::LOST_SEGMENT,
    AnalysisFlags::OUT_OF_ORDER,
    AnalysisFlags::SPURIOUS_RETRANSMISSION,
    AnalysisFlags::FAST_RETRANSMISSION,
    AnalysisFlags::RETRANSMISSION,
    AnalysisFlags::REUSED_PORTS,
];

/// Appends Wireshark's analysis labels of a segment, each followed by a space
/// (`[TCP Dup ACK 5#2] `), in Wireshark's Info order (this module's `INFO_ORDER`); of the retransmission
/// family (spurious, fast, plain, out-of-order), which the analysis makes exclusive, only one.
pub fn write_analysis_labels(s: &mut String, rel: &TcpRelative) {
    let family = AnalysisFlags(
        AnalysisFlags::SPURIOUS_RETRANSMISSION.0
            | AnalysisFlags::FAST_RETRANSMISSION.0
            | AnalysisFlags::RETRANSMISSION.0
            | AnalysisFlags::OUT_OF_ORDER.0,
    );
    let mut family_done = false;
    for flag in INFO_ORDER {
        if !rel.analysis.contains(flag) {
            continue;
        }
        if family.contains(flag) {
            if family_done {
                continue;
            }
            family_done = true;
        }
        if flag == AnalysisFlags::DUPLICATE_ACK {
            if let Some(d) = rel.dup_ack {
                let _ = write!(s, "[TCP Dup ACK {}#{}] ", d.frame, d.num);
            }
            continue;
        }
        if let Some(label) = AnalysisFlags::ALL
            .iter()
            .find(|f| f.bit == flag.0)
            .and_then(|f| analysis_label(f.name))
        {
            s.push_str(label);
            s.push(' ');
        }
    }
}

/// Adds the stream table's window and analysis fields to a TCP layer.
fn add_tcp_analysis(l: &mut LayerView, rel: &TcpRelative) {
    l.add("calculated_window", rel.window);
    match rel.window_scale {
        Some(WindowScale::Unknown) => {
            l.add("window_scale", "unknown");
        }
        Some(WindowScale::NotUsed) => {
            l.add("window_scale", "not used");
        }
        Some(WindowScale::Shift(shift)) => {
            l.add("window_scale", 1u64 << shift);
        }
        None => {}
    }
    if !rel.analysis.is_empty() {
        l.add("analysis", Value::Analysis(AnalysisNames(rel.analysis)));
    }
    if let Some(d) = rel.dup_ack {
        l.add("duplicate_ack_num", d.num)
            .add("duplicate_ack_frame", d.frame.0);
    }
}

/// What an application decoder (TFTP, HTTP) found in this packet, as display data.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AppView {
    /// Protocol name for the protocol column, e.g. `TFTP`, `HTTP`.
    pub protocol: &'static str,
    /// Info column text, e.g. `Read Request, File: a.txt, Transfer type: octet`.
    pub info: String,
    /// Fields of the layer 7 entry.
    pub fields: Vec<Field>,
    /// Why the application payload did not decode, if it did not.
    pub malformed: Option<String>,
}

impl AppView {
    /// A layer 7 view with no fields yet.
    pub fn new(protocol: &'static str, info: String) -> Self {
        AppView {
            protocol,
            info,
            fields: Vec::new(),
            malformed: None,
        }
    }

    /// Adds a field.
    pub fn add(&mut self, name: &'static str, value: impl Into<Value>) -> &mut Self {
        self.fields.push(Field {
            name,
            value: value.into(),
        });
        self
    }
}

/// What the engine's notes say about one packet, made ready for display ([`super::context`]).
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Relative TCP numbers, when the packet is TCP.
    pub tcp: Option<TcpRelative>,
    /// The application layer decode, when known.
    pub app: Option<AppView>,
}

/// The one-line summary of a packet: columns of `pcaplab packets`.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Source address (IP, or MAC when there is no IP layer).
    pub src: String,
    /// Destination address.
    pub dst: String,
    /// Source port (TCP/UDP).
    pub src_port: Option<u16>,
    /// Destination port (TCP/UDP).
    pub dst_port: Option<u16>,
    /// Highest decoded protocol.
    pub protocol: String,
    /// Layer chain, e.g. `L2 Ethernet › L3 IPv4 › L4 UDP › L7 TFTP`.
    pub layer_chain: String,
    /// Wireshark-like info text.
    pub info: String,
}

/// Builds every layer of `packet`, OSI layer 1 first.
pub fn layers(packet: &Packet<'_>, ctx: &Context) -> Vec<LayerView> {
    let app_fields = ctx.app.as_ref().map(|a| a.fields.clone());
    layers_with(packet, ctx, app_fields)
}

/// [`layers`], moving the application layer's fields out of `ctx` instead of copying them.
pub fn take_layers(packet: &Packet<'_>, ctx: &mut Context) -> Vec<LayerView> {
    let app_fields = ctx.app.as_mut().map(|a| std::mem::take(&mut a.fields));
    layers_with(packet, ctx, app_fields)
}

fn layers_with(
    packet: &Packet<'_>,
    ctx: &Context,
    app_fields: Option<Vec<Field>>,
) -> Vec<LayerView> {
    let mut out = Vec::with_capacity(6);
    out.push(frame_layer(packet));
    link_layers(packet, &mut out);
    if let Some(sliced) = &packet.sliced {
        // ARP was already listed with the link layers (layer 2).
        if let Some(net) = sliced
            .net
            .as_ref()
            .filter(|n| !matches!(n, LaxNetSlice::Arp(_)))
        {
            out.push(net_layer(net));
        }
        if let Some(transport) = &sliced.transport {
            let mut l = transport_layer(transport, ctx.tcp.as_ref());
            let wire = packet.wire_payload_len();
            if wire != packet.payload().len() {
                for f in &mut l.fields {
                    if f.name == "payload_length" {
                        f.value = Value::from(wire);
                    }
                }
                l.add("captured_payload_length", packet.payload().len());
            }
            out.push(l);
        } else if let Some(tcp) = packet.partial_tcp() {
            out.push(partial_tcp_layer(&tcp, ctx.tcp.as_ref()));
        }
    }
    if let Some(app) = &ctx.app {
        let mut l7 = LayerView::new(OsiLayer::Application, app.protocol);
        l7.fields = app_fields.unwrap_or_default();
        out.push(l7);
    } else {
        let payload = packet.payload();
        if !payload.is_empty() {
            let mut l7 = LayerView::new(OsiLayer::Application, "Data");
            l7.add("length", payload.len());
            out.push(l7);
        } else if packet.is_fragment()
            && let Some(p) = packet
                .sliced
                .as_ref()
                .and_then(|s| s.net.as_ref())
                .and_then(|n| n.ip_payload_ref())
        {
            let mut l7 = LayerView::new(OsiLayer::Application, "Fragment data");
            l7.add("length", p.payload.len());
            out.push(l7);
        }
    }
    out
}

/// The layer chain (`L2 Ethernet › L3 IPv4 › L4 UDP › L7 TFTP`) without building any field:
/// the same names as [`layers`], for outputs that show only the chain.
pub fn layer_chain(packet: &Packet<'_>, ctx: &Context) -> String {
    let mut names = Vec::with_capacity(6);
    let mut chain = String::new();
    write_layer_chain(
        &mut chain,
        packet,
        ctx.app.as_ref().map(|a| a.protocol),
        &mut names,
    );
    chain
}

/// Appends the layer chain to `out`; `names` is scratch space (reused by the caller).
pub fn write_layer_chain(
    out: &mut String,
    packet: &Packet<'_>,
    app: Option<&'static str>,
    names: &mut Vec<(OsiLayer, &'static str)>,
) {
    names.clear();
    layer_names(packet, app, names);
    for (i, (osi, name)) in names.iter().enumerate() {
        if i > 0 {
            out.push_str(" › ");
        }
        out.push('L');
        push_u64(out, u64::from(osi.number()));
        out.push(' ');
        out.push_str(name);
    }
}

/// Appends the OSI layer and protocol name of every layer above the frame to `names`: the same
/// names as [`layers`] without building any field or string (for counting protocols per
/// packet). `app` is the application protocol's name, from the packet's note.
pub fn layer_names(
    packet: &Packet<'_>,
    app: Option<&'static str>,
    names: &mut Vec<(OsiLayer, &'static str)>,
) {
    match packet.link {
        LinkHeader::Ethernet => names.push((OsiLayer::DataLink, "Ethernet")),
        LinkHeader::Sll(_) => names.push((OsiLayer::DataLink, "Linux cooked (SLL)")),
        LinkHeader::Sll2(_) => names.push((OsiLayer::DataLink, "Linux cooked v2 (SLL2)")),
        LinkHeader::Loopback { .. } => names.push((OsiLayer::DataLink, "Loopback")),
        LinkHeader::RawIp => {}
        LinkHeader::Unsupported(_) => names.push((OsiLayer::DataLink, "Unsupported link layer")),
    }
    if let Some(sliced) = &packet.sliced {
        for ext in &sliced.link_exts {
            names.push((
                OsiLayer::DataLink,
                match ext {
                    LaxLinkExtSlice::Vlan(_) => "802.1Q VLAN",
                    LaxLinkExtSlice::Macsec(_) => "MACsec",
                },
            ));
        }
        match &sliced.net {
            Some(LaxNetSlice::Arp(_)) => names.push((OsiLayer::DataLink, "ARP")),
            Some(LaxNetSlice::Ipv4(ip)) => {
                let h = ip.header();
                let fragment = h.more_fragments() || h.fragments_offset().value() != 0;
                names.push((
                    OsiLayer::Network,
                    if fragment { "IPv4 fragment" } else { "IPv4" },
                ));
            }
            Some(LaxNetSlice::Ipv6(_)) => names.push((OsiLayer::Network, "IPv6")),
            None => {}
        }
        match &sliced.transport {
            Some(TransportSlice::Tcp(_)) => names.push((OsiLayer::Transport, "TCP")),
            Some(TransportSlice::Udp(_)) => names.push((OsiLayer::Transport, "UDP")),
            Some(TransportSlice::Icmpv4(_)) => names.push((OsiLayer::Network, "ICMP")),
            Some(TransportSlice::Icmpv6(_)) => names.push((OsiLayer::Network, "ICMPv6")),
            Some(_) => names.push((OsiLayer::Network, "IGMP")),
            None if packet.partial_tcp().is_some() => names.push((OsiLayer::Transport, "TCP")),
            None => {}
        }
    }
    if let Some(app) = app {
        names.push((OsiLayer::Application, app));
    } else if !packet.payload().is_empty() {
        names.push((OsiLayer::Application, "Data"));
    } else if packet.is_fragment()
        && packet
            .sliced
            .as_ref()
            .and_then(|s| s.net.as_ref())
            .and_then(|n| n.ip_payload_ref())
            .is_some()
    {
        names.push((OsiLayer::Application, "Fragment data"));
    }
}

/// Computes the summary columns of `packet`.
pub fn summary(packet: &Packet<'_>, ctx: &Context) -> Summary {
    summary_with_layers(packet, ctx, &layers(packet, ctx))
}

/// [`summary`] for a packet whose layers were already built.
pub fn summary_with_layers(packet: &Packet<'_>, ctx: &Context, views: &[LayerView]) -> Summary {
    let mut layer_chain = String::new();
    for l in views.iter().filter(|l| l.osi != OsiLayer::Physical) {
        if !layer_chain.is_empty() {
            layer_chain.push_str(" › ");
        }
        layer_chain.push('L');
        push_u64(&mut layer_chain, u64::from(l.osi.number()));
        layer_chain.push(' ');
        layer_chain.push_str(l.name);
    }
    let (src, dst) = addresses(packet);
    let ports = packet.ports();
    Summary {
        src,
        dst,
        src_port: ports.map(|p| p.0),
        dst_port: ports.map(|p| p.1),
        protocol: protocol(packet, ctx),
        layer_chain,
        info: info(packet, ctx),
    }
}

/// The highest decoded protocol's name.
pub fn protocol(packet: &Packet<'_>, ctx: &Context) -> String {
    protocol_name(packet, ctx.app.as_ref().map(|a| a.protocol)).to_string()
}

/// The highest decoded protocol's name; `app` is the application protocol's, from the notes.
pub fn protocol_name(packet: &Packet<'_>, app: Option<&'static str>) -> &'static str {
    if let Some(app) = app {
        return app;
    }
    let Some(sliced) = &packet.sliced else {
        return match packet.link {
            LinkHeader::Sll(c) | LinkHeader::Sll2(c) => cooked_protocol_name(&c),
            LinkHeader::Unsupported(_) => "Unknown",
            _ => link_name(packet),
        };
    };
    match (&sliced.transport, &sliced.net) {
        (Some(TransportSlice::Tcp(_)), _) => "TCP",
        (None, _) if packet.partial_tcp().is_some() => "TCP",
        (Some(TransportSlice::Udp(_)), _) => "UDP",
        (Some(TransportSlice::Icmpv4(_)), _) => "ICMP",
        (Some(TransportSlice::Icmpv6(_)), _) => "ICMPv6",
        (Some(_), _) => "IGMP",
        (None, Some(LaxNetSlice::Arp(_))) => "ARP",
        (None, Some(LaxNetSlice::Ipv4(_))) => "IPv4",
        (None, Some(LaxNetSlice::Ipv6(_))) => "IPv6",
        (None, None) => {
            if !sliced.link_exts.is_empty() {
                "802.1Q"
            } else {
                link_name(packet)
            }
        }
    }
}

fn link_name(packet: &Packet<'_>) -> &'static str {
    match packet.link {
        LinkHeader::Ethernet => "Ethernet",
        LinkHeader::Sll(_) => "SLL",
        LinkHeader::Sll2(_) => "SLL2",
        LinkHeader::Loopback { .. } => "Loopback",
        LinkHeader::RawIp => "Raw IP",
        LinkHeader::Unsupported(_) => "Unknown",
    }
}

fn cooked_protocol_name(c: &Cooked) -> &'static str {
    match c.protocol {
        0x0001 => "802.3",
        0x0004 => "LLC",
        _ => "SLL",
    }
}

/// Source and destination: IP addresses, else ARP / MAC addresses.
fn addresses(packet: &Packet<'_>) -> (String, String) {
    let (mut src, mut dst) = (String::new(), String::new());
    write_addresses(packet, &mut src, &mut dst);
    (src, dst)
}

/// Appends the source and destination addresses of `packet` (IP, else MAC) to `src`, `dst`.
pub fn write_addresses(packet: &Packet<'_>, src: &mut String, dst: &mut String) {
    if let Some((s, d)) = packet.ip_addrs() {
        push_ip(src, s);
        push_ip(dst, d);
        return;
    }
    if let Some(sliced) = &packet.sliced
        && let Some(LinkSlice::Ethernet2(eth)) = &sliced.link
    {
        write_hex_colon(src, &eth.source());
        write_hex_colon(dst, &eth.destination());
        return;
    }
    if let LinkHeader::Sll(c) | LinkHeader::Sll2(c) = packet.link {
        write_hex_colon(src, c.address());
    }
}

/// Appends `aa:bb:cc` for `bytes`.
fn write_hex_colon(out: &mut String, bytes: &[u8]) {
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        let _ = write!(out, "{b:02x}");
    }
}

fn hex_colon(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn frame_layer(packet: &Packet<'_>) -> LayerView {
    let f = &packet.frame;
    let mut l = LayerView::new(OsiLayer::Physical, "Frame");
    l.add("number", f.number.0)
        .add(
            "time",
            text(format_args!(
                "{}.{:09}",
                f.timestamp.as_secs(),
                f.timestamp.subsec_nanos()
            )),
        )
        .add("interface", f.interface)
        .add(
            "link_type",
            text(format_args!(
                "{} ({})",
                f.link_type.name(),
                f.link_type.number()
            )),
        )
        .add("wire_length", f.original_len)
        .add("captured_length", f.captured_len());
    if f.is_cut_by_snaplen() {
        l.add("cut_by_snaplen", true);
    }
    l
}

/// `aa:bb:cc:dd:ee:ff`, inline.
fn mac_value(bytes: [u8; 6]) -> Value {
    let [a, b, c, d, e, f] = bytes;
    text(format_args!(
        "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{f:02x}"
    ))
}

/// Seconds since the epoch with nanosecond precision, e.g. `1700000000.123456789`.
pub fn format_epoch(t: std::time::Duration) -> String {
    format!("{}.{:09}", t.as_secs(), t.subsec_nanos())
}

fn link_layers(packet: &Packet<'_>, out: &mut Vec<LayerView>) {
    match packet.link {
        LinkHeader::Ethernet => {
            if let Some(LinkSlice::Ethernet2(eth)) =
                packet.sliced.as_ref().and_then(|s| s.link.as_ref())
            {
                let mut l = LayerView::new(OsiLayer::DataLink, "Ethernet");
                let dst = eth.destination();
                l.add("src", mac_value(eth.source()))
                    .add("dst", mac_value(dst))
                    .add("ether_type", ether_type_text(eth.ether_type().0));
                if dst == [0xff; 6] {
                    l.add("dst_note", "broadcast");
                } else if dst[0] & 1 == 1 {
                    l.add("dst_note", "multicast");
                }
                out.push(l);
            } else {
                out.push(LayerView::new(OsiLayer::DataLink, "Ethernet"));
            }
        }
        LinkHeader::Sll(c) | LinkHeader::Sll2(c) => {
            let name = if matches!(packet.link, LinkHeader::Sll(_)) {
                "Linux cooked (SLL)"
            } else {
                "Linux cooked v2 (SLL2)"
            };
            let mut l = LayerView::new(OsiLayer::DataLink, name);
            l.add(
                "packet_type",
                format!("{} ({})", c.packet_type_name(), c.packet_type),
            )
            .add("hardware_type", c.hardware_type)
            .add("src", hex_colon(c.address()))
            .add("protocol", ether_type_text(c.protocol));
            if let Some(i) = c.interface_index {
                l.add("interface_index", i);
            }
            out.push(l);
        }
        LinkHeader::Loopback { family } => {
            let mut l = LayerView::new(OsiLayer::DataLink, "Loopback");
            let name = match family {
                2 => "IPv4",
                10 | 24 | 28 | 30 => "IPv6",
                _ => "unknown",
            };
            l.add("family", text(format_args!("{family} ({name})")));
            out.push(l);
        }
        LinkHeader::RawIp => {}
        LinkHeader::Unsupported(n) => {
            let mut l = LayerView::new(OsiLayer::DataLink, "Unsupported link layer");
            l.add("link_type", n);
            out.push(l);
        }
    }
    let Some(sliced) = &packet.sliced else {
        return;
    };
    for ext in &sliced.link_exts {
        match ext {
            LaxLinkExtSlice::Vlan(v) => {
                let mut l = LayerView::new(OsiLayer::DataLink, "802.1Q VLAN");
                l.add("id", v.vlan_identifier().value())
                    .add("priority", v.priority_code_point().value())
                    .add("drop_eligible", v.drop_eligible_indicator())
                    .add("ether_type", ether_type_text(v.ether_type().0));
                out.push(l);
            }
            LaxLinkExtSlice::Macsec(_) => out.push(LayerView::new(OsiLayer::DataLink, "MACsec")),
        }
    }
    if let Some(LaxNetSlice::Arp(arp)) = &sliced.net {
        let mut l = LayerView::new(OsiLayer::DataLink, "ARP");
        let op = arp.operation().0;
        l.add("hardware_type", arp.hw_addr_type().0)
            .add("protocol_type", ether_type_text(arp.proto_addr_type().0))
            .add(
                "operation",
                format!(
                    "{} ({op})",
                    match op {
                        1 => "request",
                        2 => "reply",
                        _ => "other",
                    }
                ),
            )
            .add("sender_mac", hex_colon(arp.sender_hw_addr()))
            .add("sender_ip", proto_addr(arp.sender_protocol_addr()))
            .add("target_mac", hex_colon(arp.target_hw_addr()))
            .add("target_ip", proto_addr(arp.target_protocol_addr()));
        out.push(l);
    }
}

fn proto_addr(bytes: &[u8]) -> String {
    match <[u8; 4]>::try_from(bytes) {
        Ok(a) => Ipv4Addr::from(a).to_string(),
        Err(_) => hex_colon(bytes),
    }
}

/// `0x0800 (IPv4)`; the known types are fixed texts.
fn ether_type_text(t: u16) -> Cow<'static, str> {
    Cow::Borrowed(match t {
        0x0800 => "0x0800 (IPv4)",
        0x0806 => "0x0806 (ARP)",
        0x86dd => "0x86dd (IPv6)",
        0x8100 => "0x8100 (802.1Q)",
        0x88a8 => "0x88a8 (802.1ad)",
        0x9100 => "0x9100 (QinQ)",
        0x88cc => "0x88cc (LLDP)",
        0x88e5 => "0x88e5 (MACsec)",
        _ => return Cow::Owned(format!("0x{t:04x}")),
    })
}

fn net_layer(net: &LaxNetSlice<'_>) -> LayerView {
    match net {
        LaxNetSlice::Ipv4(ip) => {
            let h = ip.header();
            let fragment = h.more_fragments() || h.fragments_offset().value() != 0;
            let mut l = LayerView::new(
                OsiLayer::Network,
                if fragment { "IPv4 fragment" } else { "IPv4" },
            );
            let flags = match (h.dont_fragment(), h.more_fragments()) {
                (true, true) => "DF,MF",
                (true, false) => "DF",
                (false, true) => "MF",
                (false, false) => "",
            };
            l.add("version", h.version())
                .add("header_length", usize::from(h.ihl()) * 4)
                .add("dscp", h.dcp().value())
                .add("ecn", h.ecn().value())
                .add("total_length", h.total_len())
                .add("identification", hex_text(u32::from(h.identification()), 4))
                .add("flags", flags)
                .add(
                    "fragment_offset",
                    u32::from(h.fragments_offset().value()) * 8,
                )
                .add("ttl", h.ttl())
                .add("protocol", ip_protocol_text(h.protocol().0))
                .add("checksum", hex_text(u32::from(h.header_checksum()), 4))
                .add_ip("src", "src_note", IpAddr::V4(h.source_addr()))
                .add_ip("dst", "dst_note", IpAddr::V4(h.destination_addr()));
            l
        }
        LaxNetSlice::Ipv6(ip) => {
            let h = ip.header();
            let mut l = LayerView::new(OsiLayer::Network, "IPv6");
            l.add("version", h.version())
                .add("traffic_class", h.traffic_class())
                .add("flow_label", hex_text(h.flow_label().value(), 5))
                .add("payload_length", h.payload_length())
                .add("next_header", ip_protocol_text(h.next_header().0))
                .add("hop_limit", h.hop_limit())
                .add_ip("src", "src_note", IpAddr::V6(Ipv6Addr::from(h.source())))
                .add_ip(
                    "dst",
                    "dst_note",
                    IpAddr::V6(Ipv6Addr::from(h.destination())),
                );
            // Walked by hand: etherparse 0.21's `Ipv6ExtensionSliceIter` reads past the end of a
            // lax-sliced extension chain (found by fuzzing, fuzz/README.md).
            let exts = ipv6_extension_names(h.next_header().0, ip.extensions().slice());
            if !exts.is_empty() {
                l.add("extension_headers", exts.join(", "));
            }
            if ip.is_payload_fragmented() {
                l.add("fragmented", true);
            }
            l
        }
        LaxNetSlice::Arp(_) => LayerView::new(OsiLayer::DataLink, "ARP"),
    }
}

/// Names of the IPv6 extension headers in `bytes`, the first being `first` (RFC 8200 §4),
/// stopping at the first header that does not fit.
fn ipv6_extension_names(first: u8, bytes: &[u8]) -> Vec<&'static str> {
    let mut names = Vec::new();
    let mut next = first;
    let mut rest = bytes;
    while !rest.is_empty() {
        let name = match next {
            0 => "hop-by-hop options",
            43 => "routing",
            44 => "fragment",
            60 => "destination options",
            51 => "authentication",
            _ => break,
        };
        let (Some(&following), Some(&len)) = (rest.first(), rest.get(1)) else {
            break;
        };
        let size = match next {
            44 => 8,
            51 => (usize::from(len) + 2) * 4,
            _ => (usize::from(len) + 1) * 8,
        };
        names.push(name);
        let Some(after) = rest.get(size..) else {
            break;
        };
        rest = after;
        next = following;
    }
    names
}

/// `6 (TCP)`; the known protocols are fixed texts.
pub(crate) fn ip_protocol_text(n: u8) -> Cow<'static, str> {
    Cow::Borrowed(match n {
        1 => "1 (ICMP)",
        2 => "2 (IGMP)",
        6 => "6 (TCP)",
        17 => "17 (UDP)",
        41 => "41 (IPv6)",
        44 => "44 (IPv6 fragment)",
        47 => "47 (GRE)",
        50 => "50 (ESP)",
        51 => "51 (AH)",
        58 => "58 (ICMPv6)",
        59 => "59 (no next header)",
        132 => "132 (SCTP)",
        _ => return Cow::Owned(n.to_string()),
    })
}

fn transport_layer(t: &TransportSlice<'_>, rel: Option<&TcpRelative>) -> LayerView {
    match t {
        TransportSlice::Tcp(tcp) => {
            let mut l = LayerView::new(OsiLayer::Transport, "TCP");
            l.add_port("src_port", "src_port_note", tcp.source_port())
                .add_port("dst_port", "dst_port_note", tcp.destination_port());
            if let Some(r) = rel {
                l.add("stream", r.stream).add("seq", r.seq);
            }
            l.add("seq_raw", tcp.sequence_number());
            if tcp.ack() {
                if let Some(ack) = rel.and_then(|r| r.ack) {
                    l.add("ack", ack);
                }
                l.add("ack_raw", tcp.acknowledgment_number());
            }
            l.add("header_length", usize::from(tcp.data_offset()) * 4)
                .add("flags", tcp_flags_static(tcp))
                .add("window", tcp.window_size());
            if let Some(r) = rel {
                add_tcp_analysis(&mut l, r);
            }
            l.add("checksum", hex_text(u32::from(tcp.checksum()), 4));
            if tcp.urg() {
                l.add("urgent_pointer", tcp.urgent_pointer());
            }
            if let Some(options) = tcp_options_value(tcp) {
                l.add("options", options);
            }
            l.add("payload_length", tcp.payload().len());
            l
        }
        TransportSlice::Udp(udp) => {
            let mut l = LayerView::new(OsiLayer::Transport, "UDP");
            l.add_port("src_port", "src_port_note", udp.source_port())
                .add_port("dst_port", "dst_port_note", udp.destination_port())
                .add("length", udp.length())
                .add("checksum", hex_text(u32::from(udp.checksum()), 4))
                .add("payload_length", udp.payload().len());
            l
        }
        TransportSlice::Icmpv4(icmp) => {
            if let Some(e) = crate::decode::icmp::decode_v4(icmp.slice()) {
                return super::icmp::error_layer("ICMP", &e, icmp.checksum());
            }
            let mut l = LayerView::new(OsiLayer::Network, "ICMP");
            l.add("type", icmp.type_u8())
                .add("code", icmp.code_u8())
                .add("description", icmpv4_text(&icmp.icmp_type()))
                .add("checksum", hex_text(u32::from(icmp.checksum()), 4));
            if let Icmpv4Type::EchoRequest(e) | Icmpv4Type::EchoReply(e) = icmp.icmp_type() {
                l.add("identifier", e.id).add("sequence", e.seq);
            }
            l.add("payload_length", icmp.payload().len());
            l
        }
        TransportSlice::Icmpv6(icmp) => {
            if let Some(e) = crate::decode::icmp::decode_v6(icmp.slice()) {
                return super::icmp::error_layer("ICMPv6", &e, icmp.checksum());
            }
            let mut l = LayerView::new(OsiLayer::Network, "ICMPv6");
            l.add("type", icmp.type_u8())
                .add("code", icmp.code_u8())
                .add("description", icmpv6_text(&icmp.icmp_type()))
                .add("checksum", hex_text(u32::from(icmp.checksum()), 4));
            if let Icmpv6Type::EchoRequest(e) | Icmpv6Type::EchoReply(e) = icmp.icmp_type() {
                l.add("identifier", e.id).add("sequence", e.seq);
            }
            l
        }
        _ => LayerView::new(OsiLayer::Network, "IGMP"),
    }
}

fn partial_tcp_layer(tcp: &PartialTcp, rel: Option<&TcpRelative>) -> LayerView {
    let mut l = LayerView::new(OsiLayer::Transport, "TCP");
    l.add_port("src_port", "src_port_note", tcp.src_port)
        .add_port("dst_port", "dst_port_note", tcp.dst_port);
    if let Some(r) = rel {
        l.add("stream", r.stream).add("seq", r.seq);
        if let Some(ack) = r.ack {
            l.add("ack", ack);
        }
    }
    if let Some(seq) = tcp.seq {
        l.add("seq_raw", seq);
    }
    if let (Some(ack), Some(f)) = (tcp.ack, tcp.flags)
        && f & 0x10 != 0
    {
        l.add("ack_raw", ack);
    }
    if let Some(off) = tcp.data_offset {
        l.add("header_length", usize::from(off) * 4);
    }
    if tcp.flags.is_some() {
        l.add("flags", tcp.flags_text());
    }
    if let Some(w) = tcp.window {
        l.add("window", w);
    }
    if let Some(r) = rel {
        add_tcp_analysis(&mut l, r);
    }
    if let Some(len) = tcp.payload_len {
        l.add("payload_length", len);
    }
    l.add("header_truncated", true);
    l
}

/// Appends Wireshark's flag list, e.g. `SYN, ACK` (the order of [`tcp_flags_text`]).
fn write_tcp_flags(s: &mut String, tcp: &TcpSlice<'_>) {
    let mut first = true;
    for (set, name) in [
        (tcp.syn(), "SYN"),
        (tcp.fin(), "FIN"),
        (tcp.rst(), "RST"),
        (tcp.psh(), "PSH"),
        (tcp.ack(), "ACK"),
        (tcp.urg(), "URG"),
        (tcp.ece(), "ECE"),
        (tcp.cwr(), "CWR"),
    ] {
        if set {
            if !first {
                s.push_str(", ");
            }
            s.push_str(name);
            first = false;
        }
    }
}

/// Wireshark's flag list of a header, from a table built once for the 256 flag bytes.
fn tcp_flags_static(tcp: &TcpSlice<'_>) -> &'static str {
    static TABLE: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        (0..=255u8)
            .map(|b| {
                let mut s = String::new();
                let mut first = true;
                // SYN FIN RST PSH ACK URG ECE CWR, as in [`tcp_flags_text`].
                for (bit, name) in [
                    (0x02, "SYN"),
                    (0x01, "FIN"),
                    (0x04, "RST"),
                    (0x08, "PSH"),
                    (0x10, "ACK"),
                    (0x20, "URG"),
                    (0x40, "ECE"),
                    (0x80, "CWR"),
                ] {
                    if b & bit != 0 {
                        if !first {
                            s.push_str(", ");
                        }
                        s.push_str(name);
                        first = false;
                    }
                }
                s
            })
            .collect()
    });
    let byte = tcp.header_slice().get(13).copied().unwrap_or(0);
    table.get(usize::from(byte)).map_or("", String::as_str)
}

/// Wireshark's flag list, e.g. `SYN, ACK`.
pub fn tcp_flags_text(tcp: &TcpSlice<'_>) -> String {
    let mut flags = Vec::with_capacity(3);
    for (set, name) in [
        (tcp.fin(), "FIN"),
        (tcp.syn(), "SYN"),
        (tcp.rst(), "RST"),
        (tcp.psh(), "PSH"),
        (tcp.ack(), "ACK"),
        (tcp.urg(), "URG"),
        (tcp.ece(), "ECE"),
        (tcp.cwr(), "CWR"),
    ] {
        if set {
            flags.push(name);
        }
    }
    // Wireshark lists SYN before FIN and ACK after PSH; keep its order for familiarity.
    flags.sort_by_key(|f| match *f {
        "SYN" => 0,
        "FIN" => 1,
        "RST" => 2,
        "PSH" => 3,
        "ACK" => 4,
        "URG" => 5,
        "ECE" => 6,
        _ => 7,
    });
    flags.join(", ")
}

fn tcp_options_text(tcp: &TcpSlice<'_>) -> String {
    let mut s = String::new();
    write_tcp_options(&mut s, tcp);
    s
}

/// Appends the options as Wireshark's info shows them (`MSS=1460 SACK_PERM TSval=1 TSecr=0`).
fn write_tcp_options(s: &mut impl std::fmt::Write, tcp: &TcpSlice<'_>) {
    let mut sep = "";
    for option in tcp.options_iterator() {
        let _ = match option {
            Ok(TcpOptionElement::Noop) => continue,
            Ok(TcpOptionElement::MaximumSegmentSize(mss)) => write!(s, "{sep}MSS={mss}"),
            Ok(TcpOptionElement::WindowScale(ws)) => write!(
                s,
                "{sep}WS={}",
                1u32.checked_shl(u32::from(ws)).unwrap_or(0)
            ),
            Ok(TcpOptionElement::SelectiveAcknowledgementPermitted) => {
                write!(s, "{sep}SACK_PERM")
            }
            Ok(TcpOptionElement::SelectiveAcknowledgement(first, rest)) => {
                let _ = write!(s, "{sep}SACK={}-{}", first.0, first.1);
                for (l, r) in rest.iter().flatten() {
                    let _ = write!(s, ",{l}-{r}");
                }
                Ok(())
            }
            Ok(TcpOptionElement::Timestamp(val, ecr)) => {
                write!(s, "{sep}TSval={val} TSecr={ecr}")
            }
            Err(e) => {
                let _ = write!(s, "{sep}[bad option: {e}]");
                break;
            }
        };
        sep = " ";
    }
}

/// The options of a header as a field value (inline when short), `None` when there are none.
fn tcp_options_value(tcp: &TcpSlice<'_>) -> Option<Value> {
    let mut short = ShortText::new();
    write_tcp_options(&mut short, tcp);
    if short.overflow {
        return Some(Value::Text(Cow::Owned(tcp_options_text(tcp))));
    }
    (short.len > 0).then_some(Value::Short(short))
}

fn icmpv4_text(t: &Icmpv4Type) -> String {
    match t {
        Icmpv4Type::EchoReply(_) => "Echo (ping) reply".into(),
        Icmpv4Type::EchoRequest(_) => "Echo (ping) request".into(),
        Icmpv4Type::DestinationUnreachable(_) => "Destination unreachable".into(),
        Icmpv4Type::Redirect(_) => "Redirect".into(),
        Icmpv4Type::TimeExceeded(_) => "Time-to-live exceeded".into(),
        Icmpv4Type::ParameterProblem(_) => "Parameter problem".into(),
        Icmpv4Type::TimestampRequest(_) => "Timestamp request".into(),
        Icmpv4Type::TimestampReply(_) => "Timestamp reply".into(),
        Icmpv4Type::Unknown {
            type_u8, code_u8, ..
        } => {
            format!("type {type_u8} code {code_u8}")
        }
    }
}

fn icmpv6_text(t: &Icmpv6Type) -> String {
    match t {
        Icmpv6Type::EchoRequest(_) => "Echo (ping) request".into(),
        Icmpv6Type::EchoReply(_) => "Echo (ping) reply".into(),
        Icmpv6Type::DestinationUnreachable(_) => "Destination Unreachable".into(),
        Icmpv6Type::PacketTooBig { mtu } => format!("Packet Too Big (MTU {mtu})"),
        Icmpv6Type::TimeExceeded(_) => "Time Exceeded".into(),
        Icmpv6Type::ParameterProblem(_) => "Parameter problem".into(),
        Icmpv6Type::RouterSolicitation => "Router solicitation".into(),
        Icmpv6Type::RouterAdvertisement(_) => "Router advertisement".into(),
        Icmpv6Type::NeighborSolicitation => "Neighbor solicitation".into(),
        Icmpv6Type::NeighborAdvertisement(_) => "Neighbor advertisement".into(),
        Icmpv6Type::Redirect => "Redirect".into(),
        Icmpv6Type::Unknown {
            type_u8, code_u8, ..
        } => {
            format!("type {type_u8} code {code_u8}")
        }
    }
}

/// The Wireshark-like info column.
pub fn info(packet: &Packet<'_>, ctx: &Context) -> String {
    if let Some(app) = &ctx.app
        && !app.info.is_empty()
    {
        return app.info.clone();
    }
    let mut s = String::new();
    write_info(&mut s, packet, ctx.tcp.as_ref());
    s
}

/// Appends the info column of the layers below the application (TCP with its relative
/// numbers `tcp`, UDP, ICMP, ARP, IP, link) to `s`.
pub fn write_info(s: &mut String, packet: &Packet<'_>, tcp_rel: Option<&TcpRelative>) {
    let Some(sliced) = &packet.sliced else {
        if let Some(m) = &packet.malformed {
            let _ = write!(s, "[{m}]");
        }
        return;
    };
    match (&sliced.transport, &sliced.net) {
        (Some(TransportSlice::Tcp(tcp)), _) => {
            if let Some(r) = tcp_rel {
                write_analysis_labels(s, r);
            }
            push_u64(s, u64::from(tcp.source_port()));
            s.push_str(" → ");
            push_u64(s, u64::from(tcp.destination_port()));
            s.push_str(" [");
            write_tcp_flags(s, tcp);
            s.push_str("] Seq=");
            let (seq, ack) = match tcp_rel {
                Some(r) => (r.seq, r.ack.filter(|_| tcp.ack())),
                None => (
                    tcp.sequence_number(),
                    tcp.ack().then(|| tcp.acknowledgment_number()),
                ),
            };
            push_u64(s, u64::from(seq));
            if let Some(ack) = ack {
                s.push_str(" Ack=");
                push_u64(s, u64::from(ack));
            }
            s.push_str(" Win=");
            push_u64(
                s,
                tcp_rel.map_or(u64::from(tcp.window_size()), |r| u64::from(r.window)),
            );
            s.push_str(" Len=");
            push_u64(s, packet.wire_payload_len() as u64);
            if tcp.syn() && tcp.options_iterator().next().is_some() {
                let before = s.len();
                s.push(' ');
                write_tcp_options(s, tcp);
                if s.len() == before + 1 {
                    s.truncate(before);
                }
            }
        }
        (Some(TransportSlice::Udp(udp)), _) => {
            push_u64(s, u64::from(udp.source_port()));
            s.push_str(" → ");
            push_u64(s, u64::from(udp.destination_port()));
            // tshark's Len: the UDP length field less the 8-byte header (udp.length - 8), also
            // when the snap length cut the payload; a length field under 8 is bogus, so the
            // captured payload is given.
            s.push_str(" Len=");
            let len = match udp.length() {
                n if n >= 8 => u64::from(n - 8),
                _ => udp.payload().len() as u64,
            };
            push_u64(s, len);
        }
        (Some(TransportSlice::Icmpv4(icmp)), net) => {
            if let Some(e) = crate::decode::icmp::decode_v4(icmp.slice()) {
                super::icmp::write_info(s, &e);
            } else {
                s.push_str(&icmpv4_text(&icmp.icmp_type()));
            }
            if let Icmpv4Type::EchoRequest(e) | Icmpv4Type::EchoReply(e) = icmp.icmp_type() {
                let _ = write!(s, "  id=0x{:04x}, seq={}", e.id, e.seq);
                if let Some(LaxNetSlice::Ipv4(ip)) = net {
                    let _ = write!(s, ", ttl={}", ip.header().ttl());
                }
            }
        }
        (Some(TransportSlice::Icmpv6(icmp)), _) => {
            if let Some(e) = crate::decode::icmp::decode_v6(icmp.slice()) {
                super::icmp::write_info(s, &e);
            } else {
                s.push_str(&icmpv6_text(&icmp.icmp_type()));
            }
            if let Icmpv6Type::EchoRequest(e) | Icmpv6Type::EchoReply(e) = icmp.icmp_type() {
                let _ = write!(s, "  id=0x{:04x}, seq={}", e.id, e.seq);
            }
        }
        (Some(_), _) => s.push_str("IGMP"),
        (None, _) if packet.partial_tcp().is_some() => {
            if let Some(t) = packet.partial_tcp() {
                if let Some(r) = tcp_rel {
                    write_analysis_labels(s, r);
                }
                let _ = write!(s, "{} → {} [{}]", t.src_port, t.dst_port, t.flags_text());
                match (tcp_rel, t.seq) {
                    (Some(r), _) => {
                        let _ = write!(s, " Seq={}", r.seq);
                    }
                    (None, Some(seq)) => {
                        let _ = write!(s, " Seq={seq}");
                    }
                    _ => {}
                }
                let has_ack = t.flags.is_some_and(|f| f & 0x10 != 0);
                match (tcp_rel.and_then(|r| r.ack), t.ack) {
                    (Some(ack), _) if has_ack => {
                        let _ = write!(s, " Ack={ack}");
                    }
                    (None, Some(ack)) if has_ack => {
                        let _ = write!(s, " Ack={ack}");
                    }
                    _ => {}
                }
                match (tcp_rel, t.window) {
                    (Some(r), Some(_)) => {
                        let _ = write!(s, " Win={}", r.window);
                    }
                    (None, Some(w)) => {
                        let _ = write!(s, " Win={w}");
                    }
                    _ => {}
                }
                if let Some(len) = t.payload_len {
                    let _ = write!(s, " Len={len}");
                }
            }
        }
        (None, Some(LaxNetSlice::Arp(arp))) => {
            let target = proto_addr(arp.target_protocol_addr());
            let sender = proto_addr(arp.sender_protocol_addr());
            match arp.operation().0 {
                1 if sender == target => {
                    let _ = write!(s, "Gratuitous ARP for {sender} (Request)");
                }
                1 => {
                    let _ = write!(s, "Who has {target}? Tell {sender}");
                }
                2 => {
                    let _ = write!(s, "{sender} is at {}", hex_colon(arp.sender_hw_addr()));
                }
                op => {
                    let _ = write!(s, "ARP operation {op}");
                }
            }
        }
        (None, Some(LaxNetSlice::Ipv4(ip))) => {
            let h = ip.header();
            if h.more_fragments() || h.fragments_offset().value() != 0 {
                let _ = write!(
                    s,
                    "Fragmented IP protocol (proto={}, off={}, ID={:04x})",
                    ip_protocol_text(h.protocol().0),
                    u32::from(h.fragments_offset().value()) * 8,
                    h.identification()
                );
            } else {
                let _ = write!(s, "IPv4 protocol {}", ip_protocol_text(h.protocol().0));
            }
        }
        (None, Some(LaxNetSlice::Ipv6(ip))) => {
            if ip.is_payload_fragmented() {
                let _ = write!(
                    s,
                    "IPv6 fragment (nxt={})",
                    ip_protocol_text(ip.payload().ip_number.0)
                );
            } else {
                let _ = write!(
                    s,
                    "IPv6 next header {}",
                    ip_protocol_text(ip.payload().ip_number.0)
                );
            }
        }
        (None, None) => {
            if let Some(LinkSlice::Ethernet2(eth)) = &sliced.link {
                let _ = write!(s, "Ethernet type {}", ether_type_text(eth.ether_type().0));
            }
        }
    }
    if let Some(m) = &packet.malformed {
        let _ = write!(s, " [{m}]");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_extension_walk_stops_at_the_end_of_the_bytes() {
        // Hop-by-hop (next: routing, 8 bytes), routing (next: UDP, 8 bytes).
        let chain = [43, 0, 0, 0, 0, 0, 0, 0, 17, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(
            ipv6_extension_names(0, &chain),
            vec!["hop-by-hop options", "routing"]
        );
        // A header claiming more bytes than exist is named, then the walk stops.
        assert_eq!(
            ipv6_extension_names(0, &[43, 200, 0]),
            vec!["hop-by-hop options"]
        );
        for n in 0..chain.len() {
            let _ = ipv6_extension_names(0, &chain[..n]);
        }
        assert!(ipv6_extension_names(17, &chain).is_empty());
    }

    #[test]
    fn hex_and_address_texts_match_what_format_writes() {
        for v in [
            0u32,
            1,
            0xf,
            0x10,
            0xabc,
            0xffff,
            0x1_0000,
            0xf_ffff,
            u32::MAX,
        ] {
            for width in [1, 4, 5] {
                assert_eq!(
                    hex_text(v, width).to_string(),
                    format!("0x{v:0width$x}"),
                    "{v} {width}"
                );
            }
        }
        for ip in [
            "0.0.0.0",
            "10.0.0.1",
            "192.168.100.255",
            "255.255.255.255",
            "fe80::1",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(ip_text(ip).to_string(), ip.to_string());
        }
    }
}
