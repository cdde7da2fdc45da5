//! The owned results of TFTP analysis: one [`Transfer`] per request (and per extra server port
//! that answered it) with its counters, lists and [`Warning`]s, and the per-datagram
//! [`Classification`] (the packet's TFTP note).
//!
//! The result separates two questions a teacher asks of every transfer:
//! - **data complete** ([`Transfer::complete`]): every byte through the final short block
//!   arrived; the SHA-256 of the data is then always computed;
//! - **clean ending** ([`Transfer::clean_end`]): on top of that, the final block was
//!   acknowledged and nobody closed its port early or sent an ERROR.
//!
//! Each [`Warning`] says which side is at fault ([`Warning::by`], `"client"` or `"server"` in
//! JSON; `null` for a note about the capture or a normal recovery), the frames that show it and
//! the RFC section it rests on, so grading can judge each side on its own duties.
//!
//! Judging one side (what a `tftp_transfer` check with `role = "server" | "client"` needs):
//! - the data arrived: [`Transfer::complete`], with [`Transfer::bytes`] / [`Transfer::sha256`]
//!   (for netascii the file as stored is [`Transfer::decoded`]);
//! - `clean_end = true`: [`Transfer::clean_end`] — but a clean ending can fail because of the
//!   *other* side; the side's own part of it is "no [`WarningKind::ClosedBeforeFinalAck`] /
//!   [`WarningKind::PortClosedDuringTransfer`] by it" for the data sender and "no
//!   [`WarningKind::LastBlockNotAcked`] by it" for the receiver;
//! - `error_code = N`: [`Transfer::error`] with that code, sent by the server (a
//!   [`WarningKind::WrongErrorCode`] by the server says why another code was wrong);
//! - the side's duties overall: [`Transfer::warnings_by`] — every warning with `by` set is a
//!   fault of that side (answering from port 69, not re-sending on timeout, the Sorcerer's
//!   Apprentice, sending to the listening port, going on after an ERROR, ...); warnings with
//!   `by: None` blame nobody. [`Transfer::duplicate_of`] marks the extra transfer opened by a
//!   second server port, which a client rightly refuses with ERROR 5.

use std::fmt;
use std::net::SocketAddr;

use serde::Serialize;

use super::{Malformed, Packet};
use crate::extract::{Fingerprint, NameChangeKind, Stop};
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

impl TransferDirection {
    /// The side that sends DATA: the server in a read, the client in a write.
    pub fn data_sender(self) -> Role {
        match self {
            TransferDirection::Read => Role::Server,
            TransferDirection::Write => Role::Client,
        }
    }

    /// The side that receives DATA and sends ACKs.
    pub fn data_receiver(self) -> Role {
        self.data_sender().other()
    }

    /// `read request` / `write request`, for messages.
    pub fn request_name(self) -> &'static str {
        match self {
            TransferDirection::Read => "read request (RRQ)",
            TransferDirection::Write => "write request (WRQ)",
        }
    }
}

/// One end of a transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The endpoint that sent the request.
    Client,
    /// The server (its transfer-ID endpoint once it has answered).
    Server,
}

impl Role {
    /// The other end.
    pub fn other(self) -> Role {
        match self {
            Role::Client => Role::Server,
            Role::Server => Role::Client,
        }
    }

    /// `client` / `server`.
    pub fn name(self) -> &'static str {
        match self {
            Role::Client => "client",
            Role::Server => "server",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A block number as on the wire (16 bits) with the number of times the counter had wrapped
/// past 65535 before it, so that `block 871 after 1 rollover` names one block of a long
/// transfer without ambiguity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
pub struct BlockNumber {
    /// The 16-bit number in the packet.
    pub wire: u16,
    /// Wraps of the counter before this block (0 for the first 65535 blocks).
    pub rollovers: u64,
}

impl fmt::Display for BlockNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "block {}", self.wire)?;
        match self.rollovers {
            0 => Ok(()),
            1 => f.write_str(" after 1 rollover"),
            n => write!(f, " after {n} rollovers"),
        }
    }
}

/// Why a transfer's tracking ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// Still being tracked (only seen before [`Tracker::finish`](super::Tracker::finish)).
    Open,
    /// The final block was received and acknowledged.
    Completed,
    /// An ERROR packet ended it (RFC 1350 §7).
    Error,
    /// The server never answered the request.
    NoAnswer,
    /// No packet for the idle timeout (capture time).
    IdleTimeout,
    /// A new request reused the same client and server endpoints.
    Replaced,
    /// Too many transfers at once; this one was the one closest to its expiry.
    Evicted,
    /// The capture ended first.
    CaptureEnd,
}

impl EndReason {
    /// The name used in CSV and JSON (`completed`, `idle_timeout`, ...).
    pub fn name(self) -> &'static str {
        match self {
            EndReason::Open => "open",
            EndReason::Completed => "completed",
            EndReason::Error => "error",
            EndReason::NoAnswer => "no_answer",
            EndReason::IdleTimeout => "idle_timeout",
            EndReason::Replaced => "replaced",
            EndReason::Evicted => "evicted",
            EndReason::CaptureEnd => "capture_end",
        }
    }
}

/// An option as sent, for reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OptionEntry {
    /// Option name as sent ([`crate::app::wire_text`]; escaped where it is printed).
    pub name: String,
    /// Option value as sent.
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
    /// The message as sent ([`crate::app::wire_text`]; escaped where it is printed).
    pub message: String,
    /// Frame of the ERROR packet.
    pub frame: FrameNumber,
    /// Who sent it.
    pub from: Role,
}

/// A block sent (or acknowledged) more than once, with the frames that carried it: the first
/// copy (when still remembered) and every repeat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Repeat {
    /// The block, as on the wire with its rollover count.
    pub block: BlockNumber,
    /// Frames in capture order; the first is the original when it was remembered (the last
    /// [`Transfer::REMEMBERED_BLOCKS`] new blocks are), every later one a repeat.
    pub frames: Vec<FrameNumber>,
}

/// An ICMP or ICMPv6 error that quotes a datagram of the transfer (linked by the quoted UDP
/// header).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IcmpLink {
    /// Frame of the ICMP error.
    pub frame: FrameNumber,
    /// Wireshark's name of the type, e.g. `Destination unreachable`.
    pub kind: &'static str,
    /// Wireshark's name of the code, e.g. `Port unreachable`, when it has one.
    pub code: Option<&'static str>,
    /// True for port unreachable: nothing listened on the quoted datagram's destination port.
    pub port_unreachable: bool,
    /// Who sent the quoted datagram (the ICMP error went back to that side).
    pub quoted_from: Role,
    /// What the quoted datagram was, when its TFTP header was quoted: `ACK block 4`.
    pub quoted: Option<String>,
}

/// What a warning is about; the `message` explains it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)] // each variant is explained by the message written with it (see docs below)
pub enum WarningKind {
    // The request.
    UnusualMode,
    MissingFinalNul,
    NonAsciiFileName,
    InvalidOptionValue,
    DuplicateOption,
    DuplicateRequest,
    /// The request went unanswered; the message names its opcode and mode, and ICMP evidence.
    NoAnswer,
    /// An ICMP port unreachable answered the request: nothing listened on the server port.
    NoServer,
    // Ports and addresses (RFC 1350 §4).
    ServerAnsweredFromListenPort,
    /// The answer came from another IP address than the one the request went to.
    ReplyFromOtherAddress,
    /// A second server port answered the same request (this transfer is that second one).
    SecondAnswer,
    RequestOnTransferPort,
    /// A packet of the transfer went to the server's listening port instead of its TID.
    SentToListenPort,
    WrongSender,
    MalformedPacket,
    // Options (RFC 2347–2349, 7440).
    OptionsIgnored,
    UnrequestedOption,
    OackWithoutRequest,
    OackRaisedValue,
    OackAfterData,
    RepeatedOack,
    FragmentingBlockSize,
    // Data and acknowledgements (RFC 1350 §6).
    OversizedData,
    DataBlockZero,
    DataAfterFinalBlock,
    AckForUnsentBlock,
    SorcerersApprentice,
    /// The data sender waited longer than its timeout should allow without re-sending.
    NoRetransmission,
    BlockRollover,
    RolloverToOne,
    /// The sender stopped at block 65535 although its last block was full.
    #[serde(rename = "stopped_at_block_65535")]
    StoppedAtBlock65535,
    /// The data receiver never acknowledged the last block.
    LastBlockNotAcked,
    /// The data sender's port was closed when the final ACK came (ICMP port unreachable).
    ClosedBeforeFinalAck,
    /// A side's port was closed in the middle of the transfer (ICMP port unreachable).
    PortClosedDuringTransfer,
    // Errors (RFC 1350 §7 and the appendix's codes).
    ContinuesAfterError,
    UnknownErrorCode,
    /// An ERROR code that does not fit the condition (code 5 answering a request, ...).
    WrongErrorCode,
    ErrorAfterCompletion,
    /// The server served (or accepted) a name with `..` or an absolute path.
    DirectoryTraversal,
    // The capture and pcaplab's own limits.
    BlocksNotCaptured,
    BufferLimit,
    BlockTrackingLimit,
    Evicted,
    // Netascii and extraction.
    InvalidNetascii,
    FileNameNeutralised,
    ExtractedUnderOtherName,
    ExtractionFailed,
}

impl WarningKind {
    /// The JSON name of the kind (`last_block_not_acked`, ...).
    pub fn name(self) -> &'static str {
        // serde gives the same snake_case name; this keeps it available without serde_json.
        match self {
            WarningKind::UnusualMode => "unusual_mode",
            WarningKind::MissingFinalNul => "missing_final_nul",
            WarningKind::NonAsciiFileName => "non_ascii_file_name",
            WarningKind::InvalidOptionValue => "invalid_option_value",
            WarningKind::DuplicateOption => "duplicate_option",
            WarningKind::DuplicateRequest => "duplicate_request",
            WarningKind::NoAnswer => "no_answer",
            WarningKind::NoServer => "no_server",
            WarningKind::ServerAnsweredFromListenPort => "server_answered_from_listen_port",
            WarningKind::ReplyFromOtherAddress => "reply_from_other_address",
            WarningKind::SecondAnswer => "second_answer",
            WarningKind::RequestOnTransferPort => "request_on_transfer_port",
            WarningKind::SentToListenPort => "sent_to_listen_port",
            WarningKind::WrongSender => "wrong_sender",
            WarningKind::MalformedPacket => "malformed_packet",
            WarningKind::OptionsIgnored => "options_ignored",
            WarningKind::UnrequestedOption => "unrequested_option",
            WarningKind::OackWithoutRequest => "oack_without_request",
            WarningKind::OackRaisedValue => "oack_raised_value",
            WarningKind::OackAfterData => "oack_after_data",
            WarningKind::RepeatedOack => "repeated_oack",
            WarningKind::FragmentingBlockSize => "fragmenting_block_size",
            WarningKind::OversizedData => "oversized_data",
            WarningKind::DataBlockZero => "data_block_zero",
            WarningKind::DataAfterFinalBlock => "data_after_final_block",
            WarningKind::AckForUnsentBlock => "ack_for_unsent_block",
            WarningKind::SorcerersApprentice => "sorcerers_apprentice",
            WarningKind::NoRetransmission => "no_retransmission",
            WarningKind::BlockRollover => "block_rollover",
            WarningKind::RolloverToOne => "rollover_to_one",
            WarningKind::StoppedAtBlock65535 => "stopped_at_block_65535",
            WarningKind::LastBlockNotAcked => "last_block_not_acked",
            WarningKind::ClosedBeforeFinalAck => "closed_before_final_ack",
            WarningKind::PortClosedDuringTransfer => "port_closed_during_transfer",
            WarningKind::ContinuesAfterError => "continues_after_error",
            WarningKind::UnknownErrorCode => "unknown_error_code",
            WarningKind::WrongErrorCode => "wrong_error_code",
            WarningKind::ErrorAfterCompletion => "error_after_completion",
            WarningKind::DirectoryTraversal => "directory_traversal",
            WarningKind::BlocksNotCaptured => "blocks_not_captured",
            WarningKind::BufferLimit => "buffer_limit",
            WarningKind::BlockTrackingLimit => "block_tracking_limit",
            WarningKind::Evicted => "evicted",
            WarningKind::InvalidNetascii => "invalid_netascii",
            WarningKind::FileNameNeutralised => "file_name_neutralised",
            WarningKind::ExtractedUnderOtherName => "extracted_under_other_name",
            WarningKind::ExtractionFailed => "extraction_failed",
        }
    }
}

/// A finding about one transfer, written to teach: what happened, who did it, and the rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// What kind of finding this is (each kind appears once per transfer; later occurrences
    /// add their frames).
    pub kind: WarningKind,
    /// The side at fault; `None` when no side is (a note about the capture, pcaplab's limits,
    /// or a normal recovery such as a repeated request).
    pub by: Option<Role>,
    /// The frames that show it, in capture order (at most [`Warning::MAX_FRAMES`]).
    pub frames: Vec<FrameNumber>,
    /// How many times it was seen (more than `frames.len()` when frames were left out).
    pub occurrences: u64,
    /// The rule it rests on, e.g. `RFC 1350 §6`.
    pub rfc: Option<&'static str>,
    /// Explanation, lowercase, no trailing period.
    pub message: String,
}

impl Warning {
    /// Most frames listed per warning.
    pub const MAX_FRAMES: usize = 32;
}

/// The file written by `--extract`, as the extraction module reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExtractedFile {
    /// Where the file is (the directory given, joined with `file_name`).
    pub path: String,
    /// Its name inside the directory: the safe name, a `-N` variant when the name was taken
    /// (`clash`), ending in `.part` when the data is not complete.
    pub file_name: String,
    /// True when the wanted name existed (a file or a symlink): a `-N` variant was used.
    pub clash: bool,
    /// True when the data was complete and the file has its final name.
    pub complete: bool,
    /// Bytes written (after netascii decoding).
    pub size: u64,
    /// SHA-256 of the bytes written, lowercase hex.
    pub sha256: String,
    /// How the captured name was changed to make it safe, empty when unchanged.
    pub name_changes: Vec<NameChangeKind>,
    /// Why writing stopped early, if it did.
    pub stop: Option<Stop>,
}

/// Summary of one TFTP transfer (owned, serialisable).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Transfer {
    /// Index of the transfer in the order transfers were opened (the `transfer` of a
    /// [`Classification`]).
    pub index: usize,
    /// The client endpoint (source of the request).
    pub client: SocketAddr,
    /// The server's transfer-ID endpoint, or the request's destination while unanswered.
    pub server: SocketAddr,
    /// Where the request went (the server's listening address and port).
    pub request_to: SocketAddr,
    /// Whether the server answered at all.
    pub answered: bool,
    /// Frame of the RRQ/WRQ (for a [`WarningKind::SecondAnswer`] transfer: the repeated
    /// request it answers).
    pub request_frame: FrameNumber,
    /// For a transfer opened by a second server port answering a repeated request: the index
    /// of the transfer the first port's answer belongs to.
    pub duplicate_of: Option<usize>,
    /// Read or write.
    pub direction: TransferDirection,
    /// File name as requested ([`crate::app::wire_text`]; escaped where it is printed).
    pub file: String,
    /// Mode as requested (as sent).
    pub mode: String,
    /// Requested and negotiated options.
    pub options: TransferOptions,
    /// DATA block size in force: 512 unless an OACK accepted `blksize` (RFC 2348).
    pub block_size: u16,
    /// Blocks per window: 1 unless an OACK accepted `windowsize` (RFC 7440).
    pub window_size: u16,
    /// Distinct DATA blocks seen (an empty final block counts).
    pub blocks: u64,
    /// File bytes carried by distinct DATA blocks, as on the wire (before netascii decoding).
    pub bytes: u64,
    /// **Data complete**: the final (short) block arrived and every block before it was
    /// captured. The SHA-256 is then computed whatever happened afterwards.
    pub complete: bool,
    /// **Clean ending**: data complete, the final block acknowledged ([`Self::final_ack_frame`]),
    /// no ERROR, and no side's port found closed early (ICMP port unreachable).
    pub clean_end: bool,
    /// The final (short) block, when seen.
    pub final_block: Option<BlockNumber>,
    /// Frame of the DATA that carried the final block (its first copy).
    pub final_block_frame: Option<FrameNumber>,
    /// Frame of the first ACK of the final block.
    pub final_ack_frame: Option<FrameNumber>,
    /// The ERROR that ended the transfer.
    pub error: Option<TransferError>,
    /// DATA packets for a block already seen.
    pub retransmitted_blocks: u64,
    /// ACKs for a block already acknowledged.
    pub duplicate_acks: u64,
    /// The blocks sent more than once, with their frames (at most [`Transfer::MAX_LISTED`]
    /// blocks; `retransmitted_blocks` counts them all).
    pub resent: Vec<Repeat>,
    /// The blocks acknowledged more than once, with the frames of the ACKs (at most
    /// [`Transfer::MAX_LISTED`]; `duplicate_acks` counts them all).
    pub repeated_acks: Vec<Repeat>,
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
    /// SHA-256 of the data as transferred (the DATA payloads in order, lowercase hex); `null`
    /// unless the data is complete.
    pub sha256: Option<String>,
    /// Netascii only, when the data is complete: size and SHA-256 of the file after netascii
    /// decoding (CR LF → LF, CR NUL → CR), i.e. of the file as the receiver stores it; `bytes`
    /// and `sha256` are those on the wire.
    pub decoded: Option<Fingerprint>,
    /// ICMP errors that quote datagrams of this transfer (at most [`Transfer::MAX_LISTED`]).
    pub icmp: Vec<IcmpLink>,
    /// Findings, each kind once.
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
    pub extracted: Option<ExtractedFile>,
}

impl Transfer {
    /// Most entries kept in each of [`Transfer::resent`], [`Transfer::repeated_acks`] and
    /// [`Transfer::icmp`].
    pub const MAX_LISTED: usize = 64;
    /// How many of the latest new blocks (and ACKs) remember the frame that first carried them.
    pub const REMEMBERED_BLOCKS: usize = 32;

    /// The warnings about one side (`by == Some(role)`), for grading that side's duties.
    pub fn warnings_by(&self, role: Role) -> impl Iterator<Item = &Warning> {
        self.warnings.iter().filter(move |w| w.by == Some(role))
    }

    /// The warning of a kind, if present.
    pub fn warning(&self, kind: WarningKind) -> Option<&Warning> {
        self.warnings.iter().find(|w| w.kind == kind)
    }
}

/// Adds a finding, or when one of the same kind is there, adds the frame to it. The message is
/// only built for the first occurrence.
pub(super) fn warn(
    t: &mut Transfer,
    kind: WarningKind,
    by: Option<Role>,
    rfc: Option<&'static str>,
    frame: Option<FrameNumber>,
    message: impl FnOnce() -> String,
) {
    if let Some(w) = t.warnings.iter_mut().find(|w| w.kind == kind) {
        w.occurrences = w.occurrences.saturating_add(1);
        if let Some(f) = frame
            && !w.frames.contains(&f)
            && w.frames.len() < Warning::MAX_FRAMES
        {
            w.frames.push(f);
        }
        return;
    }
    t.warnings.push(Warning {
        kind,
        by,
        frames: frame.into_iter().collect(),
        occurrences: 1,
        rfc,
        message: message(),
    });
}

/// Adds frames to a finding already made.
pub(super) fn add_frames(t: &mut Transfer, kind: WarningKind, frames: &[FrameNumber]) {
    if let Some(w) = t.warnings.iter_mut().find(|w| w.kind == kind) {
        for &f in frames {
            if !w.frames.contains(&f) && w.frames.len() < Warning::MAX_FRAMES {
                w.frames.push(f);
            }
        }
        w.frames.sort_unstable();
    }
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
    /// A DATA block its sender had sent before (a retransmission, counted in
    /// [`Transfer::retransmitted_blocks`] and listed in [`Transfer::resent`]) or an ACK of a
    /// block already acknowledged (a duplicate ACK: [`Transfer::duplicate_acks`],
    /// [`Transfer::repeated_acks`]).
    pub repeated: Option<Repeated>,
}

/// A packet that repeats an earlier one of its transfer (see [`Classification::repeated`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Repeated {
    /// The frame of the first copy, when the transfer still remembered it (the same frame the
    /// transfer's lists start with).
    pub first: Option<FrameNumber>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_numbers_name_their_rollovers() {
        let b = |wire, rollovers| BlockNumber { wire, rollovers }.to_string();
        assert_eq!(b(871, 0), "block 871");
        assert_eq!(b(871, 1), "block 871 after 1 rollover");
        assert_eq!(b(0, 2), "block 0 after 2 rollovers");
    }

    #[test]
    fn kind_names_match_serde() {
        for k in [
            WarningKind::LastBlockNotAcked,
            WarningKind::ClosedBeforeFinalAck,
            WarningKind::WrongErrorCode,
            WarningKind::StoppedAtBlock65535,
            WarningKind::ServerAnsweredFromListenPort,
            WarningKind::ExtractedUnderOtherName,
        ] {
            assert_eq!(
                serde_json::to_value(k).unwrap(),
                serde_json::Value::from(k.name())
            );
        }
    }
}
