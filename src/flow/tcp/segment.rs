//! One TCP segment as the flow layer takes it ([`SegmentInfo`], with its [`Flags`]) and one
//! reassembly event tagged with its connection and direction ([`StreamEvent`]): the vocabulary
//! shared by the connection state (`stream`) and the table that finds connections (`table`),
//! kept apart from both so neither names the other's types.

use std::net::IpAddr;
use std::time::Duration;

use crate::units::{Direction, FrameNumber, StreamId};

use super::reassembly::Event;

/// The TCP header flags pcaplab looks at.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Flags {
    /// SYN: synchronize sequence numbers.
    pub syn: bool,
    /// ACK: the acknowledgment field is significant.
    pub ack: bool,
    /// FIN: no more data from the sender.
    pub fin: bool,
    /// RST: reset the connection.
    pub rst: bool,
    /// PSH: push.
    pub psh: bool,
    /// URG: the urgent pointer is significant.
    pub urg: bool,
    /// ECE: ECN echo.
    pub ece: bool,
    /// CWR: congestion window reduced.
    pub cwr: bool,
}

impl Flags {
    /// Reads the flags from byte 13 of the TCP header (RFC 9293 §3.1: CWR ECE URG ACK PSH RST
    /// SYN FIN, most significant bit first).
    pub fn from_byte(b: u8) -> Flags {
        Flags {
            fin: b & 0x01 != 0,
            syn: b & 0x02 != 0,
            rst: b & 0x04 != 0,
            psh: b & 0x08 != 0,
            ack: b & 0x10 != 0,
            urg: b & 0x20 != 0,
            ece: b & 0x40 != 0,
            cwr: b & 0x80 != 0,
        }
    }
}

/// One TCP segment as the table needs it (all fields straight from the decoded headers).
#[derive(Debug, Clone, Copy)]
pub struct SegmentInfo<'a> {
    /// Frame number.
    pub frame: FrameNumber,
    /// Capture timestamp, since the Unix epoch.
    pub ts: Duration,
    /// Original length of the frame (counted in [`super::DirectionStats::bytes`]).
    pub frame_len: u64,
    /// Source address.
    pub src: IpAddr,
    /// Source port.
    pub sport: u16,
    /// Destination address.
    pub dst: IpAddr,
    /// Destination port.
    pub dport: u16,
    /// Raw sequence number.
    pub seq: u32,
    /// Raw acknowledgment number.
    pub ack: u32,
    /// Header flags.
    pub flags: Flags,
    /// Raw (unscaled) window field.
    pub window: u16,
    /// TCP payload as captured (may be shorter than on the wire when cut by snaplen).
    pub payload: &'a [u8],
    /// Payload length on the wire, from the IP length fields (tshark's `tcp.len`); the bytes
    /// beyond `payload.len()` were cut by snaplen. A value below `payload.len()` is read as
    /// `payload.len()`.
    pub wire_payload_len: u32,
    /// The TCP options bytes (only a SYN's Window Scale option is read); `None` when the
    /// header was cut before them (snaplen).
    pub options: Option<&'a [u8]>,
}

/// A reassembly event of one direction of one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamEvent<'a> {
    /// The connection.
    pub stream: StreamId,
    /// The direction the event is about.
    pub direction: Direction,
    /// What happened.
    pub event: Event<'a>,
}
