//! The ladder diagram (a sequence or flow graph, as every networking textbook draws it): one
//! column per endpoint, one arrow per packet going down in time, each arrow labelled with what
//! the packet was and annotated with what pcaplab found on it, and brackets around the
//! handshake and the close.
//!
//! In: the decoded packets and the engine's typed notes (through [`Collector`], a
//! [`PacketObserver`](crate::app::PacketObserver)), the TCP stream rows, sticky reports and gaps
//! (through [`StreamFacts`], a [`StreamConsumer`](crate::app::StreamConsumer)), and the TFTP
//! transfers and HTTP transactions of the run. Out: owned [`Ladder`]s ([`finish`]), which the
//! renderers in `report` draw as text, SVG or HTML. Nothing here draws or decides a width.
//!
//! What is drawn is chosen by a [`Selection`]: one TCP stream, one UDP endpoint's datagrams,
//! one TFTP transfer, the packets a display filter passes, or (for the one-page report) the
//! first streams and transfers of the capture. Memory is bounded: at most
//! [`Limits::arrows`] arrows per ladder (the rest are counted) and [`Limits::ladders`]
//! ladders of each kind.

mod collect;
mod finish;

use serde::Serialize;

use crate::units::FrameNumber;

pub use collect::{Collector, StreamFacts};
pub use finish::{Extras, finish};

/// What to draw.
#[derive(Debug, Clone)]
pub enum Selection {
    /// One TCP connection (Wireshark's `tcp.stream`).
    Stream(u64),
    /// Every UDP datagram to or from this address and port (and the ICMP errors about them).
    Udp(std::net::SocketAddr),
    /// One TFTP transfer (its index in `pcaplab tftp`), request port and transfer port both.
    Tftp(usize),
    /// Every packet the display filter passes, in one diagram.
    Filter(Box<crate::view::filter::Filter>),
    /// The first [`Limits::ladders`] TCP streams and TFTP transfers, one ladder each (the
    /// one-page report).
    Every,
}

/// Bounds on what is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Limits {
    /// Most arrows drawn per ladder; later packets are counted in [`Ladder::omitted_arrows`].
    pub arrows: usize,
    /// With [`Selection::Every`]: most TCP streams and most TFTP transfers drawn.
    pub ladders: usize,
}

/// Most arrows a ladder keeps when no smaller limit is asked for (about 200 bytes each).
pub const MAX_ARROWS: usize = 100_000;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            arrows: MAX_ARROWS,
            ladders: 32,
        }
    }
}

/// What a ladder is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "id")]
pub enum Subject {
    /// A TCP stream.
    TcpStream(u64),
    /// The datagrams of a UDP endpoint.
    Udp,
    /// A TFTP transfer.
    TftpTransfer(usize),
    /// The packets of a display filter.
    Filter,
}

/// One diagram.
#[derive(Debug, Clone, Serialize)]
pub struct Ladder {
    /// What it shows.
    pub subject: Subject,
    /// A one-line title, e.g. `TCP stream 0: 127.0.0.1:44380 → 127.0.0.1:9301`.
    pub title: String,
    /// The columns, left to right.
    pub columns: Vec<Column>,
    /// The arrows, in capture order.
    pub arrows: Vec<Arrow>,
    /// Brackets around consecutive arrows (handshake, close).
    pub groups: Vec<Group>,
    /// Findings about the whole diagram rather than one arrow (a TFTP warning without a frame,
    /// an HTTP warning, packets that could not be placed).
    pub notes: Vec<String>,
    /// Packets that belong to the diagram but were not drawn (past the arrow limit).
    pub omitted_arrows: u64,
}

/// One endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Column {
    /// `address:port` (`[v6]:port`), or a bare address for a host without a port (a router
    /// that sent an ICMP error).
    pub address: String,
    /// `client`, `server`, `server (request port)`, `server (transfer ID)`, `router`, or none.
    pub role: Option<String>,
}

/// One packet.
#[derive(Debug, Clone, Serialize)]
pub struct Arrow {
    /// Its frame number.
    pub frame: FrameNumber,
    /// Seconds since the capture's first packet (Wireshark's `frame.time_relative`).
    pub time: f64,
    /// Index of the sender's column.
    pub from: usize,
    /// Index of the receiver's column.
    pub to: usize,
    /// The protocol named by the label (`TCP`, `UDP`, `TFTP`, `HTTP`, `ICMP`, ...).
    pub protocol: &'static str,
    /// TCP numbers, for a TCP segment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tcp: Option<TcpArrow>,
    /// UDP payload length, for a UDP datagram.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub udp_len: Option<u64>,
    /// TFTP opcode and block, for a TFTP packet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tftp: Option<TftpArrow>,
    /// The label: `SYN, ACK`, `PSH, ACK len=12`, `DATA 2 (512 bytes)`, `GET / HTTP/1.1`.
    pub label: String,
    /// More of the label, dropped first when space is short: `seq=1 ack=1` for TCP, the TCP
    /// flags for an HTTP start line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// What pcaplab found on this packet.
    pub notes: Vec<Note>,
    /// The application messages the segment's new bytes belong to (sticky analysis).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<Part>,
}

impl Arrow {
    /// The label with its detail, as drawn when there is room.
    pub fn full_label(&self) -> String {
        match &self.detail {
            Some(d) => format!("{} {d}", self.label),
            None => self.label.clone(),
        }
    }

    /// True when some note is a problem (not only a description such as message parts).
    pub fn is_flagged(&self) -> bool {
        self.notes.iter().any(|n| n.kind.is_problem())
    }
}

/// The TCP numbers of an arrow, as Wireshark shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TcpArrow {
    /// Flag names in Wireshark's order: `SYN`, `SYN, ACK`, `FIN, ACK`, `RST, ACK`.
    pub flags: String,
    /// Relative sequence number (`tcp.seq`).
    pub seq: u32,
    /// Relative acknowledgment number (`tcp.ack`), when the ACK flag is set.
    pub ack: Option<u32>,
    /// Payload length (`tcp.len`).
    pub len: u32,
}

/// The TFTP fields of an arrow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TftpArrow {
    /// `RRQ`, `WRQ`, `DATA`, `ACK`, `ERROR`, `OACK`, or `malformed`.
    pub opcode: &'static str,
    /// Block number of a DATA or ACK.
    pub block: Option<u16>,
    /// Data bytes of a DATA.
    pub data_len: Option<usize>,
}

/// The bytes of one application message that one segment carried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Part {
    /// The message, numbered from 1 in its direction.
    pub message: u64,
    /// `whole`, `head`, `middle` or `tail`.
    pub part: &'static str,
    /// Bytes of the message in this segment.
    pub bytes: u64,
}

/// Something pcaplab found on one arrow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    /// What kind of finding.
    pub kind: NoteKind,
    /// A few words, drawn beside the arrow (`retransmission`, `msg 3 tail + msg 4 whole`).
    pub short: String,
    /// The explanation, listed under the diagram when it says more than `short`.
    pub text: String,
}

impl Note {
    fn new(kind: NoteKind, short: impl Into<String>, text: impl Into<String>) -> Note {
        Note {
            kind,
            short: short.into(),
            text: text.into(),
        }
    }
}

/// Kinds of [`Note`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoteKind {
    /// A retransmission (TCP: plain, fast or spurious; TFTP: a block or ACK sent again).
    Retransmission,
    /// A TCP segment out of order.
    OutOfOrder,
    /// Bytes the capture never showed (a gap), or a segment acknowledging them.
    Gap,
    /// A duplicate ACK.
    DuplicateAck,
    /// A zero window, window full, or a probe of a zero window.
    Window,
    /// A keep-alive or its ACK.
    KeepAlive,
    /// A RST.
    Reset,
    /// An ICMP error, or a packet an ICMP error answered.
    Icmp,
    /// The message parts a segment carried (not a problem).
    Parts,
    /// A TFTP finding.
    Tftp,
    /// A packet that did not decode.
    Malformed,
    /// A description that is not a problem (a window update, the last TFTP block).
    Info,
}

impl NoteKind {
    /// True for findings that are problems (drawn in the warning colour).
    pub fn is_problem(self) -> bool {
        !matches!(self, NoteKind::Parts | NoteKind::Info)
    }
}

/// A bracket around arrows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    /// What it groups.
    pub kind: GroupKind,
    /// `3-way handshake`, `4-way close`, `simultaneous close` or `reset`.
    pub label: &'static str,
    /// The frames it groups (all drawn), in order.
    pub frames: Vec<FrameNumber>,
}

/// Kinds of [`Group`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupKind {
    /// SYN, SYN-ACK, ACK (RFC 9293 §3.5).
    Handshake,
    /// FIN, ACK, FIN, ACK, or FIN, FIN-ACK, ACK (RFC 9293 §3.6).
    FourWayClose,
    /// Both FINs crossed (RFC 9293 §3.6, Figure 13).
    SimultaneousClose,
    /// A RST ended the connection (RFC 9293 §3.5.2).
    Reset,
}

impl GroupKind {
    /// The bracket's label.
    pub fn label(self) -> &'static str {
        match self {
            GroupKind::Handshake => "3-way handshake",
            GroupKind::FourWayClose => "4-way close",
            GroupKind::SimultaneousClose => "simultaneous close",
            GroupKind::Reset => "reset",
        }
    }
}
