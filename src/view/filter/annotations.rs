//! `Annotations`: the per-packet facts only the engine knows (TCP stream state and analysis,
//! TFTP and HTTP decodes), in the form the display filter reads them. The engine fills one per
//! packet, borrowing from its own state and the frame; nothing here allocates.
//!
//! Each field must hold the value tshark 4.0 shows for the same frame with default preferences
//! (relative sequence numbers on, TCP reassembly on), because `tshark -Y` is the reference the
//! filter is tested against.

use crate::flow::tcp::StreamId;

use super::{FieldId, FieldSource, Value};

/// What the engine knows about one packet beyond its headers.
#[derive(Debug, Clone, Copy, Default)]
pub struct Annotations<'a> {
    /// TCP stream facts; `None` for a packet that is not TCP.
    pub tcp: Option<TcpAnnotation>,
    /// The TFTP message this datagram carries, when the engine recognised one.
    pub tftp: Option<TftpAnnotation<'a>>,
    /// The HTTP messages shown on this packet: as tshark does with reassembly on, a message
    /// appears on the frame that completes it (several when one segment ends several).
    pub http: &'a [HttpAnnotation<'a>],
}

/// TCP facts that need the stream's history.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TcpAnnotation {
    /// `tcp.stream`.
    pub stream: StreamId,
    /// `tcp.seq`: relative to the direction's initial sequence number.
    pub seq: u32,
    /// `tcp.ack`: relative to the peer's initial sequence number (tshark shows it on every
    /// segment, 0 when the ACK flag is clear).
    pub ack: u32,
    /// `tcp.nxtseq`: relative sequence number after this segment (tshark 4.0 shows it on
    /// every segment: a pure ACK's is its own `tcp.seq`).
    pub next_seq: Option<u32>,
    /// `tcp.window_size`: the window scaled by the factor from the handshake (`None` when
    /// tshark would not show it).
    pub window_size: Option<u32>,
    /// `tcp.analysis.*` labels.
    pub analysis: TcpAnalysis,
}

/// The `tcp.analysis.*` labels of a segment (Wireshark's expert findings).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TcpAnalysis {
    /// `tcp.analysis.retransmission`.
    pub retransmission: bool,
    /// `tcp.analysis.fast_retransmission`.
    pub fast_retransmission: bool,
    /// `tcp.analysis.spurious_retransmission`.
    pub spurious_retransmission: bool,
    /// `tcp.analysis.out_of_order`.
    pub out_of_order: bool,
    /// `tcp.analysis.lost_segment`: previous segment not captured.
    pub lost_segment: bool,
    /// `tcp.analysis.ack_lost_segment`: ACKs a segment that was not captured.
    pub ack_lost_segment: bool,
    /// `tcp.analysis.duplicate_ack`.
    pub duplicate_ack: bool,
    /// `tcp.analysis.zero_window`.
    pub zero_window: bool,
    /// `tcp.analysis.zero_window_probe`.
    pub zero_window_probe: bool,
    /// `tcp.analysis.zero_window_probe_ack`.
    pub zero_window_probe_ack: bool,
    /// `tcp.analysis.keep_alive`.
    pub keep_alive: bool,
    /// `tcp.analysis.keep_alive_ack`.
    pub keep_alive_ack: bool,
    /// `tcp.analysis.window_update`.
    pub window_update: bool,
    /// `tcp.analysis.window_full`.
    pub window_full: bool,
}

impl TcpAnalysis {
    /// True when any label is set (`tcp.analysis.flags`).
    pub fn any(&self) -> bool {
        let TcpAnalysis {
            retransmission,
            fast_retransmission,
            spurious_retransmission,
            out_of_order,
            lost_segment,
            ack_lost_segment,
            duplicate_ack,
            zero_window,
            zero_window_probe,
            zero_window_probe_ack,
            keep_alive,
            keep_alive_ack,
            window_update,
            window_full,
        } = *self;
        retransmission
            || fast_retransmission
            || spurious_retransmission
            || out_of_order
            || lost_segment
            || ack_lost_segment
            || duplicate_ack
            || zero_window
            || zero_window_probe
            || zero_window_probe_ack
            || keep_alive
            || keep_alive_ack
            || window_update
            || window_full
    }
}

/// One TFTP message (RFC 1350), borrowed from the datagram.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TftpAnnotation<'a> {
    /// The TFTP bytes (the UDP payload): the value of the `tftp` protocol field.
    pub bytes: &'a [u8],
    /// `tftp.opcode` (1 RRQ, 2 WRQ, 3 DATA, 4 ACK, 5 ERROR, 6 OACK).
    pub opcode: u16,
    /// `tftp.block` (DATA and ACK).
    pub block: Option<u16>,
    /// `tftp.source_file` (RRQ).
    pub source_file: Option<&'a [u8]>,
    /// `tftp.destination_file` (WRQ).
    pub destination_file: Option<&'a [u8]>,
    /// `tftp.type`: the transfer mode of a request.
    pub mode: Option<&'a [u8]>,
    /// `tftp.error.code` (ERROR).
    pub error_code: Option<u16>,
    /// `tftp.error.message` (ERROR).
    pub error_message: Option<&'a [u8]>,
}

/// One HTTP message's start line and the headers the filter knows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HttpAnnotation<'a> {
    /// The message bytes shown under `http` (reassembled when it spanned segments).
    pub bytes: &'a [u8],
    /// `http.request.method`; a message with a method is a request (`http.request`).
    pub method: Option<&'a [u8]>,
    /// `http.request.uri`.
    pub uri: Option<&'a [u8]>,
    /// `http.request.version`.
    pub version: Option<&'a [u8]>,
    /// `http.response.code`; a message with a status is a response (`http.response`).
    pub status: Option<u16>,
    /// `http.response.phrase`.
    pub phrase: Option<&'a [u8]>,
    /// `http.host`.
    pub host: Option<&'a [u8]>,
    /// `http.content_length`.
    pub content_length: Option<u64>,
}

impl FieldSource for Annotations<'_> {
    fn visit(&self, field: FieldId, out: &mut dyn FnMut(Value<'_>)) {
        if let Some(tcp) = &self.tcp {
            visit_tcp(tcp, field, out);
        }
        if let Some(tftp) = &self.tftp {
            visit_tftp(tftp, field, out);
        }
        for http in self.http {
            visit_http(http, field, out);
        }
    }
}

fn bytes(b: Option<&[u8]>, out: &mut dyn FnMut(Value<'_>)) {
    if let Some(b) = b {
        out(Value::Bytes(b));
    }
}

fn uint(n: Option<u64>, out: &mut dyn FnMut(Value<'_>)) {
    if let Some(n) = n {
        out(Value::UInt(n));
    }
}

fn label(set: bool, out: &mut dyn FnMut(Value<'_>)) {
    if set {
        out(Value::Present);
    }
}

fn visit_tcp(t: &TcpAnnotation, field: FieldId, out: &mut dyn FnMut(Value<'_>)) {
    let a = &t.analysis;
    match field {
        FieldId::TcpStream => out(Value::UInt(t.stream.0)),
        FieldId::TcpSeq => out(Value::UInt(u64::from(t.seq))),
        FieldId::TcpAck => out(Value::UInt(u64::from(t.ack))),
        FieldId::TcpNxtseq => uint(t.next_seq.map(u64::from), out),
        FieldId::TcpWindowSize => uint(t.window_size.map(u64::from), out),
        FieldId::TcpAnalysisFlags => label(a.any(), out),
        FieldId::TcpAnalysisRetransmission => label(a.retransmission, out),
        FieldId::TcpAnalysisFastRetransmission => label(a.fast_retransmission, out),
        FieldId::TcpAnalysisSpuriousRetransmission => label(a.spurious_retransmission, out),
        FieldId::TcpAnalysisOutOfOrder => label(a.out_of_order, out),
        FieldId::TcpAnalysisLostSegment => label(a.lost_segment, out),
        FieldId::TcpAnalysisAckLostSegment => label(a.ack_lost_segment, out),
        FieldId::TcpAnalysisDuplicateAck => label(a.duplicate_ack, out),
        FieldId::TcpAnalysisZeroWindow => label(a.zero_window, out),
        FieldId::TcpAnalysisZeroWindowProbe => label(a.zero_window_probe, out),
        FieldId::TcpAnalysisZeroWindowProbeAck => label(a.zero_window_probe_ack, out),
        FieldId::TcpAnalysisKeepAlive => label(a.keep_alive, out),
        FieldId::TcpAnalysisKeepAliveAck => label(a.keep_alive_ack, out),
        FieldId::TcpAnalysisWindowUpdate => label(a.window_update, out),
        FieldId::TcpAnalysisWindowFull => label(a.window_full, out),
        _ => {}
    }
}

fn visit_tftp(t: &TftpAnnotation<'_>, field: FieldId, out: &mut dyn FnMut(Value<'_>)) {
    match field {
        FieldId::Tftp => out(Value::Bytes(t.bytes)),
        FieldId::TftpOpcode => out(Value::UInt(u64::from(t.opcode))),
        FieldId::TftpBlock => uint(t.block.map(u64::from), out),
        FieldId::TftpSourceFile => bytes(t.source_file, out),
        FieldId::TftpDestinationFile => bytes(t.destination_file, out),
        FieldId::TftpType => bytes(t.mode, out),
        FieldId::TftpErrorCode => uint(t.error_code.map(u64::from), out),
        FieldId::TftpErrorMessage => bytes(t.error_message, out),
        _ => {}
    }
}

fn visit_http(h: &HttpAnnotation<'_>, field: FieldId, out: &mut dyn FnMut(Value<'_>)) {
    match field {
        FieldId::Http => out(Value::Bytes(h.bytes)),
        FieldId::HttpRequest if h.method.is_some() => out(Value::Bool(true)),
        FieldId::HttpResponse if h.status.is_some() => out(Value::Bool(true)),
        FieldId::HttpRequestMethod => bytes(h.method, out),
        FieldId::HttpRequestUri => bytes(h.uri, out),
        FieldId::HttpRequestVersion => bytes(h.version, out),
        FieldId::HttpResponseCode => uint(h.status.map(u64::from), out),
        FieldId::HttpResponsePhrase => bytes(h.phrase, out),
        FieldId::HttpHost => bytes(h.host, out),
        FieldId::HttpContentLength => uint(h.content_length, out),
        _ => {}
    }
}
