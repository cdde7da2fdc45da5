//! Gathering a ladder while the engine runs: [`Collector`] turns each selected packet into an
//! arrow (label, TCP numbers, per-packet findings); [`StreamFacts`] keeps what only the end of
//! a TCP stream tells (its row, its sticky reports) and the gaps found on the way.

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use etherparse::TransportSlice;
use foldhash::{HashMap, HashMapExt};

use super::{Arrow, Limits, Note, NoteKind, Selection, TcpArrow, TftpArrow};
use crate::analysis::sticky::{self, Sticky};
use crate::app::consumer::{At, Notes, PacketObserver, StreamConsumer};
use crate::app::{Note as AppNote, tftp};
use crate::decode::{Packet, icmp};
use crate::flow::tcp::{AnalysisFlags, Event, Outcome, Stream, StreamEvent, StreamTable};
use crate::framing::FramingSpec;
use crate::units::{FrameNumber, StreamId};
use crate::view;
use crate::view::filter::{NoteFields, PacketFields};

/// Which diagram a packet belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) enum Key {
    Stream(u64),
    Udp,
    Tftp(usize),
    Filter,
}

/// A place in a diagram: a socket, or a host without a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Place {
    Socket(SocketAddr),
    Host(IpAddr),
}

/// One diagram being gathered.
#[derive(Debug)]
pub(super) struct Draft {
    pub(super) key: Key,
    pub(super) places: Vec<Place>,
    pub(super) arrows: Vec<Arrow>,
    pub(super) omitted: u64,
    /// The first frame of each (sender column, opcode, block) of a TFTP transfer.
    tftp_seen: HashMap<(usize, &'static str, u16), FrameNumber>,
    /// The last arrow of each (source, destination) socket pair, for ICMP errors.
    last_by_flow: HashMap<(SocketAddr, SocketAddr), usize>,
}

impl Draft {
    fn new(key: Key) -> Draft {
        Draft {
            key,
            places: Vec::new(),
            arrows: Vec::new(),
            omitted: 0,
            tftp_seen: HashMap::new(),
            last_by_flow: HashMap::new(),
        }
    }

    fn column(&mut self, place: Place) -> usize {
        match self.places.iter().position(|p| *p == place) {
            Some(i) => i,
            None => {
                self.places.push(place);
                self.places.len() - 1
            }
        }
    }
}

/// The arrow side of a ladder: a [`PacketObserver`] that keeps an arrow for every packet the
/// [`Selection`] picks (see the module docs).
pub struct Collector {
    selection: Selection,
    limits: Limits,
    first_ts: Option<Duration>,
    pub(super) drafts: Vec<Draft>,
    index: HashMap<Key, usize>,
    /// Socket pairs drawn so far and their diagram, for the ICMP errors that quote them.
    flows: HashMap<(SocketAddr, SocketAddr), Key>,
    /// Packets a filter passed that have no IP address to draw them between.
    pub(super) unplaced: u64,
}

impl Collector {
    /// A collector drawing what `selection` picks, within `limits`.
    pub fn new(selection: Selection, limits: Limits) -> Collector {
        Collector {
            selection,
            limits,
            first_ts: None,
            drafts: Vec::new(),
            index: HashMap::new(),
            flows: HashMap::new(),
            unplaced: 0,
        }
    }

    /// What is drawn.
    pub fn selection(&self) -> &Selection {
        &self.selection
    }

    /// The diagram `packet` belongs to, if it is drawn.
    fn key(&self, packet: &Packet<'_>, notes: &Notes<'_>) -> Option<Key> {
        let wanted_stream = |id: u64| match &self.selection {
            Selection::Stream(n) => *n == id,
            Selection::Every => id < self.limits.ladders as u64,
            _ => false,
        };
        let wanted_transfer = |t: usize| match &self.selection {
            Selection::Tftp(n) => *n == t,
            Selection::Every => t < self.limits.ladders,
            _ => false,
        };
        if let Selection::Filter(filter) = &self.selection {
            let first = self.first_ts.unwrap_or(packet.frame.timestamp);
            let fields = (
                PacketFields::new(packet, first),
                NoteFields::new(packet, notes),
            );
            return filter.matches(&fields).then_some(Key::Filter);
        }
        if let Some(o) = &notes.tcp {
            return wanted_stream(o.stream.0).then_some(Key::Stream(o.stream.0));
        }
        if let Some(AppNote::Tftp(c)) = &notes.app
            && let Some(t) = c.transfer
        {
            return wanted_transfer(t).then_some(Key::Tftp(t));
        }
        if let Some(error) = icmp::decode_error(packet) {
            let flow = error.flow()?;
            return self.flows.get(&(flow.src, flow.dst)).copied();
        }
        if let Selection::Udp(x) = &self.selection
            && let (Some((src, dst)), Some(TransportSlice::Udp(udp))) =
                (packet.ip_addrs(), packet.transport())
        {
            let s = SocketAddr::new(src, udp.source_port());
            let d = SocketAddr::new(dst, udp.destination_port());
            return (s == *x || d == *x).then_some(Key::Udp);
        }
        None
    }
}

impl PacketObserver for Collector {
    fn on_packet(&mut self, packet: &Packet<'_>, notes: &Notes<'_>) {
        let first = *self.first_ts.get_or_insert(packet.frame.timestamp);
        let Some(key) = self.key(packet, notes) else {
            return;
        };
        let i = match self.index.get(&key) {
            Some(&i) => i,
            None => {
                self.drafts.push(Draft::new(key));
                self.index.insert(key, self.drafts.len() - 1);
                self.drafts.len() - 1
            }
        };
        let Some(draft) = self.drafts.get_mut(i) else {
            return;
        };
        if draft.arrows.len() >= self.limits.arrows {
            draft.omitted += 1;
            return;
        }
        let time = relative_secs(packet.frame.timestamp, first);
        match draw(draft, packet, notes, time) {
            Some(flow) => {
                if let Some(flow) = flow {
                    self.flows.insert(flow, key);
                }
            }
            None => self.unplaced += 1,
        }
    }
}

/// Seconds from `first` to `ts` (negative when the capture's clock went back).
fn relative_secs(ts: Duration, first: Duration) -> f64 {
    match ts.checked_sub(first) {
        Some(d) => d.as_secs_f64(),
        None => -(first.saturating_sub(ts).as_secs_f64()),
    }
}

/// Adds the arrow of `packet` to `draft`. `None` when it has no address to draw it between;
/// otherwise the socket pair it travelled on, if any.
fn draw(
    draft: &mut Draft,
    packet: &Packet<'_>,
    notes: &Notes<'_>,
    time: f64,
) -> Option<Option<(SocketAddr, SocketAddr)>> {
    let (src, dst) = packet.ip_addrs()?;
    let frame = packet.frame.number;
    let ports = packet.ports();
    let error = icmp::decode_error(packet);
    let (from_place, to_place) = match (&error, ports) {
        (Some(e), _) if e.flow().is_some() => {
            let flow = e.flow()?;
            // The host the datagram was sent to said it could not be delivered (same column);
            // else a router on the way (a column of its own).
            let from = if flow.dst.ip() == src {
                Place::Socket(flow.dst)
            } else {
                Place::Host(src)
            };
            (from, Place::Socket(flow.src))
        }
        (_, Some((sp, dp))) => (
            Place::Socket(SocketAddr::new(src, sp)),
            Place::Socket(SocketAddr::new(dst, dp)),
        ),
        (_, None) => (Place::Host(src), Place::Host(dst)),
    };
    let from = draft.column(from_place);
    let to = draft.column(to_place);
    let mut arrow = Arrow {
        frame,
        time,
        from,
        to,
        protocol: "IP",
        tcp: None,
        udp_len: None,
        tftp: None,
        label: String::new(),
        detail: None,
        notes: Vec::new(),
        parts: Vec::new(),
    };
    let mut flow = None;
    if let Some(e) = &error {
        icmp_arrow(draft, &mut arrow, e);
    } else if let Some(o) = &notes.tcp {
        tcp_arrow(&mut arrow, packet, notes, o);
        flow = ports.map(|(sp, dp)| (SocketAddr::new(src, sp), SocketAddr::new(dst, dp)));
    } else if let Some(TransportSlice::Udp(udp)) = packet.transport() {
        let len = u64::from(udp.length()).saturating_sub(8);
        arrow.udp_len = Some(len.max(udp.payload().len() as u64));
        match &notes.app {
            Some(AppNote::Tftp(c)) => tftp_arrow(draft, &mut arrow, c),
            _ => {
                arrow.protocol = "UDP";
                arrow.label = format!("UDP len={}", arrow.udp_len.unwrap_or(0));
            }
        }
        flow = ports.map(|(sp, dp)| (SocketAddr::new(src, sp), SocketAddr::new(dst, dp)));
    } else {
        let ctx = view::context(packet, notes);
        arrow.protocol =
            view::describe::protocol_name(packet, ctx.app.as_ref().map(|a| a.protocol));
        arrow.label = view::describe::info(packet, &ctx);
    }
    if let Some(m) = &packet.malformed {
        arrow
            .notes
            .push(Note::new(NoteKind::Malformed, "malformed", m.to_string()));
    }
    if let Some(f) = flow {
        draft.last_by_flow.insert(f, draft.arrows.len());
    }
    draft.arrows.push(arrow);
    Some(flow)
}

/// `SYN, ACK`, `PSH, ACK len=14` with `seq=1 ack=1`; or an HTTP start line with the TCP label
/// as its detail.
fn tcp_arrow(arrow: &mut Arrow, packet: &Packet<'_>, notes: &Notes<'_>, o: &Outcome) {
    let flags = match packet.transport() {
        Some(TransportSlice::Tcp(t)) => view::describe::tcp_flags_text(t),
        _ => packet
            .partial_tcp()
            .map(|p| p.flags_text())
            .unwrap_or_default(),
    };
    let mut label = flags.clone();
    if o.len > 0 {
        let _ = write!(label, " len={}", o.len);
    }
    let mut detail = format!("seq={}", o.relative_seq);
    if let Some(ack) = o.relative_ack {
        let _ = write!(detail, " ack={ack}");
    }
    arrow.protocol = "TCP";
    if let Some(AppNote::Http(l)) = &notes.app
        && l.is_start
        && let Some(start) = &l.start
    {
        arrow.protocol = "HTTP";
        arrow.detail = Some(format!("{label} {detail}"));
        arrow.label = view::text::escape(&view::http::start_line(start)).into_owned();
    } else {
        arrow.label = label;
        arrow.detail = Some(detail);
    }
    arrow.notes.extend(analysis_notes(o));
    if flags.split(", ").any(|f| f == "RST") {
        arrow.notes.push(Note::new(
            NoteKind::Reset,
            "RST",
            "RST: the sender aborts the connection; nothing more is sent on it (RFC 9293 §3.5.2)",
        ));
    }
    arrow.tcp = Some(TcpArrow {
        flags,
        seq: o.relative_seq,
        ack: o.relative_ack,
        len: o.len,
    });
}

/// The notes of Wireshark's analysis flags of a segment.
fn analysis_notes(o: &Outcome) -> Vec<Note> {
    let a = o.analysis;
    let mut notes = Vec::new();
    let has = |f: AnalysisFlags| a.contains(f);
    if has(AnalysisFlags::FAST_RETRANSMISSION) {
        notes.push(Note::new(
            NoteKind::Retransmission,
            "fast retransmission",
            "fast retransmission: sent again after duplicate ACKs said it was missing (RFC 5681 §3.2)",
        ));
    } else if has(AnalysisFlags::SPURIOUS_RETRANSMISSION) {
        notes.push(Note::new(
            NoteKind::Retransmission,
            "spurious retransmission",
            "spurious retransmission: the receiver had already acknowledged these bytes",
        ));
    } else if has(AnalysisFlags::RETRANSMISSION) {
        notes.push(Note::new(
            NoteKind::Retransmission,
            "retransmission",
            "retransmission: these bytes were sent before and not acknowledged in time (RFC 6298)",
        ));
    }
    if has(AnalysisFlags::OUT_OF_ORDER) {
        notes.push(Note::new(
            NoteKind::OutOfOrder,
            "out of order",
            "out of order: this segment arrived after one with higher sequence numbers",
        ));
    }
    if has(AnalysisFlags::LOST_SEGMENT) {
        notes.push(Note::new(
            NoteKind::Gap,
            "previous segment not captured",
            "gap: the bytes just before this segment were never captured (lost, or missed by the capture)",
        ));
    }
    if has(AnalysisFlags::ACK_LOST_SEGMENT) {
        notes.push(Note::new(
            NoteKind::Gap,
            "ACKs unseen segment",
            "acknowledges bytes the capture never showed",
        ));
    }
    if has(AnalysisFlags::DUPLICATE_ACK) {
        let short = match o.dup_ack {
            Some(d) => format!("dup ACK #{} of frame {}", d.num, d.frame),
            None => "dup ACK".to_string(),
        };
        notes.push(Note::new(
            NoteKind::DuplicateAck,
            short.clone(),
            format!("{short}: the receiver is still waiting for the same byte (a segment is missing or late)"),
        ));
    }
    let windows = [
        (
            AnalysisFlags::ZERO_WINDOW,
            "zero window",
            "zero window: the sender's receive buffer is full; the peer must stop sending (RFC 9293 §3.8.6.1)",
        ),
        (
            AnalysisFlags::ZERO_WINDOW_PROBE,
            "zero window probe",
            "zero window probe: asks whether the peer's window has opened again",
        ),
        (
            AnalysisFlags::ZERO_WINDOW_PROBE_ACK,
            "zero window probe ACK",
            "answer to a zero window probe",
        ),
        (
            AnalysisFlags::WINDOW_FULL,
            "window full",
            "window full: this segment fills the receiver's advertised window",
        ),
    ];
    for (flag, short, text) in windows {
        if has(flag) {
            notes.push(Note::new(NoteKind::Window, short, text));
        }
    }
    if has(AnalysisFlags::KEEP_ALIVE) {
        notes.push(Note::new(
            NoteKind::KeepAlive,
            "keep-alive",
            "keep-alive: checks that the idle peer is still there (RFC 9293 §3.8.4)",
        ));
    }
    if has(AnalysisFlags::KEEP_ALIVE_ACK) {
        notes.push(Note::new(
            NoteKind::KeepAlive,
            "keep-alive ACK",
            "answer to a keep-alive",
        ));
    }
    if has(AnalysisFlags::WINDOW_UPDATE) {
        notes.push(Note::new(
            NoteKind::Info,
            "window update",
            "window update: only the advertised window changed",
        ));
    }
    if has(AnalysisFlags::REUSED_PORTS) {
        notes.push(Note::new(
            NoteKind::Info,
            "reused ports",
            "a new connection on the addresses and ports of an earlier one",
        ));
    }
    notes
}

/// `RRQ file octet`, `DATA 2 (512 bytes)`, `ACK 2`, `ERROR 1 File not found`, `OACK ...`, with
/// the blocks and requests seen again.
fn tftp_arrow(draft: &mut Draft, arrow: &mut Arrow, c: &tftp::Classification<'_>) {
    arrow.protocol = "TFTP";
    let packet = match &c.packet {
        Ok(p) => p,
        Err(m) => {
            arrow.label = "TFTP (malformed)".to_string();
            arrow.tftp = Some(TftpArrow {
                opcode: "malformed",
                block: None,
                data_len: None,
            });
            arrow
                .notes
                .push(Note::new(NoteKind::Malformed, "malformed", m.to_string()));
            return;
        }
    };
    let (opcode, block, data_len, label) = match packet {
        tftp::Packet::Rrq(r) | tftp::Packet::Wrq(r) => {
            let name = if matches!(packet, tftp::Packet::Rrq(_)) {
                "RRQ"
            } else {
                "WRQ"
            };
            let mut label = format!(
                "{name} {} {}",
                tftp::escape(r.file_name),
                tftp::escape(r.mode_raw)
            );
            for o in r.options.iter() {
                let _ = write!(label, " {}={}", tftp::escape(o.name), tftp::escape(o.value));
            }
            (name, None, None, label)
        }
        tftp::Packet::Data(d) => (
            "DATA",
            Some(d.block),
            Some(d.data.len()),
            format!("DATA {} ({} bytes)", d.block, d.data.len()),
        ),
        tftp::Packet::Ack(a) => ("ACK", Some(a.block), None, format!("ACK {}", a.block)),
        tftp::Packet::Error(e) => {
            let code = e.code.to_u16();
            let meaning = e.code.description().unwrap_or("undefined code");
            let mut label = format!("ERROR {code} {meaning}");
            if !e.message.is_empty() {
                let _ = write!(label, ": {}", tftp::escape(e.message));
            }
            ("ERROR", None, None, label)
        }
        tftp::Packet::Oack(o) => {
            let mut label = "OACK".to_string();
            for p in o.options.iter() {
                let _ = write!(label, " {}={}", tftp::escape(p.name), tftp::escape(p.value));
            }
            ("OACK", None, None, label)
        }
    };
    arrow.label = label;
    arrow.tftp = Some(TftpArrow {
        opcode,
        block,
        data_len,
    });
    // RFC 1350 §2: a DATA or ACK repeated by the same sender is a retransmission after a
    // timeout (or a duplicate that crossed the first answer).
    let key = (arrow.from, opcode, block.unwrap_or(0));
    if matches!(opcode, "RRQ" | "WRQ" | "DATA" | "ACK") {
        match draft.tftp_seen.get(&key) {
            Some(first) => {
                let what = match block {
                    Some(b) => format!("{opcode} {b}"),
                    None => opcode.to_string(),
                };
                let (kind, text) = match opcode {
                    "DATA" => (
                        NoteKind::Retransmission,
                        format!(
                            "retransmission: {what} was first sent in frame {first}; the sender's timer ran out before its ACK arrived (RFC 1350 §2)"
                        ),
                    ),
                    "ACK" => (
                        NoteKind::DuplicateAck,
                        format!(
                            "{what} again: first sent in frame {first}; answers a DATA block that came again"
                        ),
                    ),
                    _ => (
                        NoteKind::Retransmission,
                        format!("request repeated: first sent in frame {first}"),
                    ),
                };
                arrow.notes.push(Note::new(
                    kind,
                    format!("{what} again (frame {first})"),
                    text,
                ));
            }
            None => {
                draft.tftp_seen.insert(key, arrow.frame);
            }
        }
    }
    if c.last_block {
        arrow.notes.push(Note::new(
            NoteKind::Info,
            "last block",
            "shorter than the block size: the last block of the file (RFC 1350 §6)",
        ));
    }
}

/// `ICMP Destination unreachable (Port unreachable)`, linked to the packet it answers.
fn icmp_arrow(draft: &mut Draft, arrow: &mut Arrow, e: &icmp::ErrorMessage<'_>) {
    arrow.protocol = match e.version {
        icmp::Version::V4 => "ICMP",
        icmp::Version::V6 => "ICMPv6",
    };
    let mut what = e.type_name().to_string();
    if let Some(code) = e.code_name() {
        let _ = write!(what, " ({code})");
    }
    if let Some(mtu) = e.mtu() {
        let _ = write!(what, ", MTU {mtu}");
    }
    arrow.label = format!("{} {what}", arrow.protocol);
    let answered = e
        .flow()
        .and_then(|f| draft.last_by_flow.get(&(f.src, f.dst)).copied());
    let frame = arrow.frame;
    match answered.and_then(|i| draft.arrows.get_mut(i)) {
        Some(original) => {
            original.notes.push(Note::new(
                NoteKind::Icmp,
                format!("ICMP error in frame {frame}"),
                format!("the {what} in frame {frame} says this packet was not delivered"),
            ));
            arrow.notes.push(Note::new(
                NoteKind::Icmp,
                format!("about frame {}", original.frame),
                format!("ICMP error about frame {}: {what}", original.frame),
            ));
        }
        None => arrow.notes.push(Note::new(
            NoteKind::Icmp,
            "ICMP error",
            format!("ICMP error about a packet of this conversation: {what}"),
        )),
    }
}

/// Which streams [`StreamFacts`] keeps facts about.
#[derive(Debug, Clone, Copy)]
enum Wanted {
    One(u64),
    Below(u64),
    None,
}

/// The stream side of a ladder: a [`StreamConsumer`] keeping, for the streams the selection
/// draws, their final rows (client and server, handshake and close frames), their sticky
/// reports (message parts per segment) and the gaps found in them.
pub struct StreamFacts {
    wanted: Wanted,
    sticky: Sticky<'static>,
    pub(super) rows: HashMap<u64, Stream>,
    pub(super) reports: HashMap<u64, [sticky::Direction; 2]>,
    /// (stream, frame being processed, direction's sender is the client, offset, length).
    pub(super) gaps: Vec<(u64, FrameNumber, bool, u64, u64)>,
}

impl StreamFacts {
    /// Facts for the streams `selection` draws, framed with `framing` for the message parts.
    pub fn new(selection: &Selection, limits: Limits, framing: FramingSpec) -> StreamFacts {
        let wanted = match selection {
            Selection::Stream(n) => Wanted::One(*n),
            Selection::Every => Wanted::Below(limits.ladders as u64),
            _ => Wanted::None,
        };
        StreamFacts {
            wanted,
            sticky: Sticky::by_stream(sticky::Options {
                framing,
                stream: None,
                keep_segments: true,
            }),
            rows: HashMap::new(),
            reports: HashMap::new(),
            gaps: Vec::new(),
        }
    }

    /// The sticky reports of the streams drawn (client to server first), by stream id.
    pub fn into_reports(self) -> std::collections::BTreeMap<u64, [sticky::Direction; 2]> {
        self.reports.into_iter().collect()
    }

    fn wants(&self, id: StreamId) -> bool {
        match self.wanted {
            Wanted::One(n) => id.0 == n,
            Wanted::Below(n) => id.0 < n,
            Wanted::None => false,
        }
    }
}

impl StreamConsumer for StreamFacts {
    fn on_event(&mut self, event: &StreamEvent<'_>, at: At) {
        if !self.wants(event.stream) {
            return;
        }
        if let Event::Gap { offset, len, .. } = event.event {
            let c2s = event.direction == crate::units::Direction::ClientToServer;
            self.gaps.push((event.stream.0, at.frame, c2s, offset, len));
        }
        self.sticky.on_event(event, at);
    }

    fn on_packet_end(&mut self, stream: StreamId, at: At, table: &StreamTable) {
        if self.wants(stream) {
            self.sticky.on_packet_end(stream, at, table);
        }
    }

    fn on_stream_end(&mut self, row: &Stream, _at: At) {
        if !self.wants(row.id) {
            return;
        }
        self.rows.insert(row.id.0, row.clone());
        if let Some(pair) = self.sticky.take(row.id) {
            self.reports.insert(row.id.0, pair);
        }
    }
}
