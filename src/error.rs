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
    /// Reading failed at the operating-system level.
    #[error("read error at byte offset {offset}: {source}")]
    Io {
        /// Byte offset in the input.
        offset: u64,
        /// The operating system's reason.
        source: std::io::Error,
    },
}
