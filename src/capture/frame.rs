//! `Frame<'a>`: one captured record, borrowed from the reader's buffer.

use std::time::Duration;

use super::{FrameNumber, LinkType};

/// One captured packet as read from the file: metadata plus the bytes that were captured.
///
/// The data borrows the reader's buffer and is gone on the next read; copy what must outlive it.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    /// 1-based position in the capture (Wireshark's `frame.number`).
    pub number: FrameNumber,
    /// Capture time since the Unix epoch.
    pub timestamp: Duration,
    /// Link-layer header type of the interface the frame was captured on.
    pub link_type: LinkType,
    /// Interface index (always 0 for classic pcap).
    pub interface: u32,
    /// Length of the packet on the wire.
    pub original_len: u32,
    /// Byte order of the file that held the frame (needed for BSD NULL loopback headers).
    pub big_endian_file: bool,
    /// The captured bytes (`data.len()` is the captured length).
    pub data: &'a [u8],
}

impl Frame<'_> {
    /// Number of bytes captured.
    pub fn captured_len(&self) -> usize {
        self.data.len()
    }

    /// True when the capture kept fewer bytes than were on the wire (snaplen).
    pub fn is_cut_by_snaplen(&self) -> bool {
        (self.data.len() as u64) < u64::from(self.original_len)
    }
}
