//! [`NoteFields`]: the engine's notes on one packet ([`Notes`]: the TCP stream table's outcome,
//! the TFTP classification, the HTTP label) as the filter's [`Annotations`], in tshark's terms.
//! Built per packet from borrowed values; allocates nothing.

use super::annotations::{Annotations, HttpAnnotation, TcpAnalysis, TcpAnnotation, TftpAnnotation};
use super::{FieldId, FieldSource, Value};
use crate::app::http::{StartSummary, Version};
use crate::app::tftp::Packet as TftpPacket;
use crate::app::{Note, Notes};
use crate::decode::Packet;
use crate::flow::tcp::{AnalysisFlags, Outcome};

/// The annotations of one packet, made from its notes (see the module docs).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoteFields<'a> {
    tcp: Option<TcpAnnotation>,
    tftp: Option<TftpAnnotation<'a>>,
    /// The HTTP messages that ended in this packet (tshark shows a message where its
    /// reassembly completes), and the packet's payload.
    http: &'a [StartSummary],
    payload: &'a [u8],
}

impl<'a> NoteFields<'a> {
    /// The annotations of `packet` from the engine's `notes` on it.
    pub fn new(packet: &Packet<'a>, notes: &Notes<'a>) -> NoteFields<'a> {
        let tcp = notes.tcp.as_ref().map(|o| tcp(packet, o));
        let mut fields = NoteFields {
            tcp,
            payload: packet.payload(),
            ..NoteFields::default()
        };
        match &notes.app {
            Some(Note::Tftp(c)) => {
                fields.tftp = c.packet.as_ref().ok().map(|p| tftp(packet, p, c.file));
            }
            Some(Note::Http(label)) => {
                let label: &'a crate::app::http::Label = label;
                fields.http = &label.completed;
            }
            None => {}
        }
        fields
    }
}

impl FieldSource for NoteFields<'_> {
    fn visit(&self, field: FieldId, out: &mut dyn FnMut(Value<'_>)) {
        Annotations {
            tcp: self.tcp,
            tftp: self.tftp,
            http: &[],
        }
        .visit(field, out);
        for start in self.http {
            let h = http(self.payload, start);
            Annotations {
                tcp: None,
                tftp: None,
                http: std::slice::from_ref(&h),
            }
            .visit(field, out);
        }
    }
}

/// tshark's TCP fields from the stream table's outcome: relative numbers, `tcp.nxtseq` (after
/// the payload, SYN and FIN; absent on a segment that occupies no sequence number), the
/// calculated window, and the `tcp.analysis.*` fields (a fast or spurious retransmission is
/// also a `retransmission`, as in tshark).
fn tcp(packet: &Packet<'_>, o: &Outcome) -> TcpAnnotation {
    let (syn, fin) = packet
        .transport()
        .and_then(|t| match t {
            etherparse::TransportSlice::Tcp(t) => Some((t.syn(), t.fin())),
            _ => None,
        })
        .or_else(|| {
            let f = packet.partial_tcp()?.flags?;
            Some((f & 0x02 != 0, f & 0x01 != 0))
        })
        .unwrap_or((false, false));
    let occupied = o.len + u32::from(syn) + u32::from(fin);
    let f = o.analysis.fields();
    let has = |flag: AnalysisFlags| f.contains(flag);
    TcpAnnotation {
        stream: o.stream,
        seq: o.relative_seq,
        ack: o.relative_ack.unwrap_or(0),
        // tshark 4.0 shows tcp.nxtseq on every segment (a pure ACK's is its own seq).
        next_seq: Some(o.relative_seq.wrapping_add(occupied)),
        window_size: Some(o.window),
        analysis: TcpAnalysis {
            retransmission: has(AnalysisFlags::RETRANSMISSION),
            fast_retransmission: has(AnalysisFlags::FAST_RETRANSMISSION),
            spurious_retransmission: has(AnalysisFlags::SPURIOUS_RETRANSMISSION),
            out_of_order: has(AnalysisFlags::OUT_OF_ORDER),
            lost_segment: has(AnalysisFlags::LOST_SEGMENT),
            ack_lost_segment: has(AnalysisFlags::ACK_LOST_SEGMENT),
            duplicate_ack: has(AnalysisFlags::DUPLICATE_ACK),
            zero_window: has(AnalysisFlags::ZERO_WINDOW),
            zero_window_probe: has(AnalysisFlags::ZERO_WINDOW_PROBE),
            zero_window_probe_ack: has(AnalysisFlags::ZERO_WINDOW_PROBE_ACK),
            keep_alive: has(AnalysisFlags::KEEP_ALIVE),
            keep_alive_ack: has(AnalysisFlags::KEEP_ALIVE_ACK),
            window_update: has(AnalysisFlags::WINDOW_UPDATE),
            window_full: has(AnalysisFlags::WINDOW_FULL),
        },
    }
}

/// tshark's TFTP fields of one decoded TFTP packet; `file` is the transfer's file name on the
/// packets after its request (tshark's `tftp.destination_file` there, whatever the request).
fn tftp<'a>(packet: &Packet<'a>, p: &TftpPacket<'a>, file: Option<&'a str>) -> TftpAnnotation<'a> {
    let mut t = TftpAnnotation {
        bytes: packet.payload(),
        opcode: p.opcode().to_u16(),
        destination_file: file.map(str::as_bytes),
        ..TftpAnnotation::default()
    };
    match p {
        TftpPacket::Rrq(r) => {
            t.source_file = Some(r.file_name);
            t.destination_file = None;
            t.mode = Some(r.mode_raw);
        }
        TftpPacket::Wrq(r) => {
            t.destination_file = Some(r.file_name);
            t.mode = Some(r.mode_raw);
        }
        TftpPacket::Data(d) => t.block = Some(d.block),
        TftpPacket::Ack(a) => t.block = Some(a.block),
        TftpPacket::Error(e) => {
            t.error_code = Some(e.code.to_u16());
            t.error_message = Some(e.message);
        }
        TftpPacket::Oack(_) => {}
    }
    t
}

/// The version as tshark spells it (`HTTP/1.1`), for the versions it can be.
fn version_text(v: Version) -> Option<&'static [u8]> {
    match (v.major, v.minor) {
        (1, 0) => Some(b"HTTP/1.0"),
        (1, 1) => Some(b"HTTP/1.1"),
        (0, 9) => Some(b"HTTP/0.9"),
        _ => None,
    }
}

/// tshark's HTTP fields of a message that ended in this segment (`payload`: its bytes).
fn http<'a>(payload: &'a [u8], start: &'a StartSummary) -> HttpAnnotation<'a> {
    let mut h = HttpAnnotation {
        bytes: payload,
        ..HttpAnnotation::default()
    };
    match start {
        StartSummary::Request {
            method,
            target,
            version,
            host,
            content_length,
        } => {
            h.method = Some(method.as_bytes());
            h.uri = Some(target.as_bytes());
            h.version = version_text(*version);
            h.host = host.as_deref().map(str::as_bytes);
            h.content_length = *content_length;
        }
        StartSummary::Status {
            code,
            reason,
            content_length,
            ..
        } => {
            h.status = Some(*code);
            h.phrase = Some(reason.as_bytes());
            h.content_length = *content_length;
        }
    }
    h
}
