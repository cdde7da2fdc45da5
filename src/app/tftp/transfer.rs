//! The owned results of TFTP analysis: one [`Transfer`] per request with its counters and
//! [`Warning`]s, and the per-datagram [`Classification`] (the packet's TFTP note).

use std::net::SocketAddr;

use serde::Serialize;

use super::extract::Extracted;
use super::{Malformed, Packet};
use crate::units::FrameNumber;

/// Whether the client reads (RRQ) or writes (WRQ) the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferDirection {
    /// RRQ: the server sends DATA, the client ACKs.
    Read,
    /// WRQ: the client sends DATA, the server ACKs.
    Write,
}

/// Which end of a transfer sent a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The endpoint that sent the request.
    Client,
    /// The server (its transfer-ID endpoint once it has answered).
    Server,
}

/// Why a transfer's tracking ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// Still being tracked (only seen in [`Tracker::transfers`](super::Tracker::transfers) before
    /// [`Tracker::finish`](super::Tracker::finish)).
    Open,
    /// The final block was received and acknowledged.
    Completed,
    /// An ERROR packet ended it (RFC 1350 §7).
    Error,
    /// The server never answered the request.
    NoAnswer,
    /// No packet for `idle_timeout`.
    IdleTimeout,
    /// A new request reused the same client and server endpoints.
    Replaced,
    /// Too many transfers at once; this one was the least recently active.
    Evicted,
    /// The capture ended first.
    CaptureEnd,
}

/// An option as sent, for reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OptionEntry {
    /// Option name as sent (escaped for display).
    pub name: String,
    /// Option value as sent (escaped for display).
    pub value: String,
}

/// Requested and negotiated options (RFC 2347).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TransferOptions {
    /// Options in the request, in order.
    pub requested: Vec<OptionEntry>,
    /// Options in the server's OACK; `None` when there was no OACK.
    pub negotiated: Option<Vec<OptionEntry>>,
}

/// The ERROR packet that ended a transfer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransferError {
    /// Error code (0–8 are defined).
    pub code: u16,
    /// The code's standard meaning, e.g. `File not found`.
    pub meaning: String,
    /// The message as sent (escaped for display).
    pub message: String,
    /// Frame of the ERROR packet.
    pub frame: FrameNumber,
    /// Who sent it.
    pub from: Role,
}

/// What a warning is about; the `message` explains it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)] // each variant is explained by the message written with it
pub enum WarningKind {
    ServerAnsweredFromListenPort,
    UnusualMode,
    MissingFinalNul,
    NonAsciiFileName,
    InvalidOptionValue,
    DuplicateOption,
    DuplicateRequest,
    RequestOnTransferPort,
    MalformedPacket,
    WrongSender,
    OptionsIgnored,
    UnrequestedOption,
    OackWithoutRequest,
    OackRaisedValue,
    OackAfterData,
    RepeatedOack,
    FragmentingBlockSize,
    OversizedData,
    DataBlockZero,
    DataAfterFinalBlock,
    AckForUnsentBlock,
    SorcerersApprentice,
    BlockRollover,
    RolloverToOne,
    ContinuesAfterError,
    UnknownErrorCode,
    ErrorAfterCompletion,
    NoAnswer,
    FinalBlockNotAcknowledged,
    BlocksNotCaptured,
    BufferLimit,
    BlockTrackingLimit,
    InvalidNetascii,
    FileNameNeutralised,
    ExtractionFailed,
    Evicted,
}

/// A finding about one transfer, written to teach: what happened and why it matters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// The frame that showed it, when one did.
    pub frame: Option<FrameNumber>,
    /// What kind of finding this is (each kind is reported once per transfer).
    pub kind: WarningKind,
    /// Explanation, lowercase, no trailing period.
    pub message: String,
}

/// Summary of one TFTP transfer (owned, serialisable).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Transfer {
    /// Index of the transfer in capture order of requests (the `transfer` of a
    /// [`Classification`]).
    pub index: usize,
    /// The client endpoint (source of the request).
    pub client: SocketAddr,
    /// The server's transfer-ID endpoint, or the request's destination while unanswered.
    pub server: SocketAddr,
    /// Whether the server answered at all.
    pub answered: bool,
    /// Frame of the RRQ/WRQ.
    pub request_frame: FrameNumber,
    /// Read or write.
    pub direction: TransferDirection,
    /// File name as requested (escaped for display).
    pub file: String,
    /// Mode as requested (escaped for display).
    pub mode: String,
    /// Requested and negotiated options.
    pub options: TransferOptions,
    /// DATA block size in force: 512 unless an OACK accepted `blksize` (RFC 2348).
    pub block_size: u16,
    /// Blocks per window: 1 unless an OACK accepted `windowsize` (RFC 7440).
    pub window_size: u16,
    /// Distinct DATA blocks seen (an empty final block counts).
    pub blocks: u64,
    /// File bytes carried by distinct DATA blocks (on the wire, before netascii decoding).
    pub bytes: u64,
    /// The final block (shorter than the block size) was seen and acknowledged, every block
    /// before it was captured, and no ERROR came first.
    pub complete: bool,
    /// The ERROR that ended the transfer.
    pub error: Option<TransferError>,
    /// DATA packets for a block already seen.
    pub retransmitted_blocks: u64,
    /// ACKs for a block already acknowledged.
    pub duplicate_acks: u64,
    /// Blocks before the last one seen (or the final one) that never appeared in the capture.
    pub missing_blocks: u64,
    /// New blocks that did not arrive right after the highest block so far.
    pub out_of_sequence_blocks: u64,
    /// Times the 16-bit block number wrapped past 65535.
    pub rollovers: u64,
    /// Times the client repeated its request.
    pub duplicate_requests: u64,
    /// Packets of this transfer that failed to decode.
    pub malformed_packets: u64,
    /// SHA-256 of the file as transferred (concatenated DATA, lowercase hex); `null` unless
    /// complete.
    pub sha256: Option<String>,
    /// Findings, each kind at most once.
    pub warnings: Vec<Warning>,
    /// Why tracking ended.
    pub end: EndReason,
    /// Packets of this transfer, the request included.
    pub frames: u64,
    /// Frame of the last packet.
    pub last_frame: FrameNumber,
    /// Capture time of the request, seconds since the epoch.
    pub first_seen_secs: f64,
    /// Capture time of the last packet.
    pub last_seen_secs: f64,
    /// `last_seen_secs − first_seen_secs`.
    pub duration_secs: f64,
    /// `bytes / duration_secs`, when the duration is not zero.
    pub throughput_bytes_per_sec: Option<f64>,
    /// The file written by extraction, when extraction is on and data arrived.
    pub extracted: Option<Extracted>,
}

/// What [`Tracker::on_datagram`](super::Tracker::on_datagram) says about a TFTP datagram.
#[derive(Debug, Clone, PartialEq)]
pub struct Classification<'a> {
    /// The decoded packet, or why it did not decode.
    pub packet: Result<Packet<'a>, Malformed>,
    /// Index of the transfer it belongs to ([`Transfer::index`]); `None` for a datagram that is
    /// TFTP only by its port.
    pub transfer: Option<usize>,
    /// Who sent it, within its transfer.
    pub role: Option<Role>,
    /// A DATA block shorter than the transfer's block size: the last one (Wireshark's `(last)`).
    pub last_block: bool,
    /// The name of the transfer's file ([`Transfer::file`]) on every packet after the request
    /// (as Wireshark names it); set by the engine's consumer, `None` from
    /// [`Tracker::on_datagram`](super::Tracker::on_datagram).
    pub file: Option<&'a str>,
}
