//! `pcaplab::Error`: the fatal problems that stop reading a capture.
//!
//! Malformed packets are not errors: they are values (`decode::Malformed`) reported per packet.

use std::path::PathBuf;

use crate::units::FrameNumber;

/// A problem that stops the run: the input cannot be read (further).
///
/// Everything decoded before the error stays valid and should be reported first.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be opened.
    #[error("cannot open {path}: {source}")]
    Open {
        /// The path given.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The input does not start like a pcap or pcapng file.
    #[error("not a pcap or pcapng capture: {reason}")]
    NotACapture {
        /// What was found instead.
        reason: String,
    },
    /// The input ends inside a record: every whole packet before it was read.
    #[error(
        "capture cut short inside the record of frame {frame} at byte offset {offset} ({detail})"
    )]
    TruncatedRecord {
        /// The frame whose record is incomplete (the last whole frame is one less).
        frame: FrameNumber,
        /// Byte offset in the input where that record starts.
        offset: u64,
        /// What was missing.
        detail: String,
    },
    /// A record or block is invalid in a way that makes the rest of the file unreadable.
    #[error("corrupt capture at frame {frame}, byte offset {offset}: {reason}")]
    Corrupt {
        /// The frame being read.
        frame: FrameNumber,
        /// Byte offset in the input where the bad record or block starts.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// The capture uses a format version pcaplab does not read (e.g. a pcapng section whose
    /// version is not 1.0 or 1.2, which libpcap and Wireshark refuse too).
    #[error("unsupported capture at byte offset {offset}: {reason}")]
    Unsupported {
        /// Byte offset in the input of the block or header that is not understood.
        offset: u64,
        /// What is not supported.
        reason: String,
    },
    /// The capture needs more than a reading limit allows (e.g. too many pcapng interfaces).
    #[error("capture exceeds a limit before frame {frame}, at byte offset {offset}: {reason}")]
    LimitExceeded {
        /// The frame being read.
        frame: FrameNumber,
        /// Byte offset in the input of the block that went over the limit.
        offset: u64,
        /// Which limit, and by what.
        reason: String,
    },
    /// A frame cannot be written in the chosen output format.
    #[error("cannot write frame {frame}: {reason}")]
    NotWritable {
        /// The frame that cannot be written.
        frame: FrameNumber,
        /// Why.
        reason: String,
    },
    /// Writing a capture failed at the operating-system level.
    #[error("write error at byte offset {offset} of the output: {source}")]
    Write {
        /// Byte offset in the output.
        offset: u64,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// Reading failed at the operating-system level.
    #[error("read error at byte offset {offset}: {source}")]
    Io {
        /// Byte offset in the input.
        offset: u64,
        /// The operating system's reason.
        source: std::io::Error,
    },
}
