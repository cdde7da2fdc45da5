//! `Frame<'a>`: one captured record, borrowed from the reader's buffer.

use std::time::Duration;

use super::{FrameNumber, LinkType, TsResolution};

/// One captured packet as read from the file: metadata plus the bytes that were captured.
///
/// The data borrows the reader's buffer and is gone on the next read; copy what must outlive it.
/// Lengths are the record's own: a record whose captured length exceeds its wire length keeps
/// both numbers as written (decoding labels it), nothing is rewritten.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    /// 1-based position in the capture (Wireshark's `frame.number`).
    pub number: FrameNumber,
    /// Capture time since the Unix epoch (pcapng `if_tsoffset` already added).
    pub timestamp: Duration,
    /// Link-layer header type of the interface the frame was captured on.
    pub link_type: LinkType,
    /// Interface index within its section (Wireshark's `frame.interface_id`; 0 for classic pcap).
    pub interface: u32,
    /// Length of the packet on the wire, as the record gives it.
    pub original_len: u32,
    /// Byte order of the file that held the frame (needed for BSD NULL loopback headers).
    pub big_endian_file: bool,
    /// The captured bytes (`data.len()` is the captured length).
    pub data: &'a [u8],
    /// 1-based pcapng section the frame belongs to (Wireshark's `frame.section_number`); 1 for
    /// classic pcap. Interface indexes restart in every section.
    pub section: u32,
    /// Resolution of `timestamp` in the file: microseconds or nanoseconds for pcap, the
    /// interface's `if_tsresol` for pcapng. Print times with
    /// [`TsResolution::fraction_digits`] to show the capture's real precision.
    pub ts_resolution: TsResolution,
    /// Snapshot length of the interface (0 when the capture gives none).
    pub snaplen: u32,
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

    /// True when the record claims more captured bytes than the packet had on the wire, which
    /// no capture can do (tshark: "Frame length is less than captured length").
    pub fn has_captured_len_above_wire_len(&self) -> bool {
        (self.data.len() as u64) > u64::from(self.original_len)
    }
}
