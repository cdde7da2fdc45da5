//! `Interface`: what decoding and writing need to know about the interface a frame was captured
//! on, and `Limits`, the bounds the reader keeps on what a capture may make it hold.

use super::{LinkType, TsResolution};

/// The interface a frame was captured on: the classic pcap file header, or one pcapng Interface
/// Description Block reduced to what decoding needs (no names, descriptions or other options,
/// so memory per interface is a few bytes whatever the block held; issue 15).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interface {
    /// Link-layer header type of its frames.
    pub link_type: LinkType,
    /// Snapshot length: the most bytes of a packet the capture kept (0: no limit given).
    pub snaplen: u32,
    /// Resolution of its timestamps.
    pub ts_resolution: TsResolution,
    /// Seconds added to every timestamp of the interface (pcapng `if_tsoffset`; 0 for pcap).
    pub ts_offset_secs: i64,
}

impl Interface {
    /// An interface with the given link type, microsecond timestamps, no offset and no snaplen.
    pub fn new(link_type: LinkType) -> Self {
        Interface {
            link_type,
            snaplen: 0,
            ts_resolution: TsResolution::MICRO,
            ts_offset_secs: 0,
        }
    }
}

/// Bounds on what the reader will hold for one capture. A capture that needs more is refused with
/// an error naming the limit (never silently cut).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest captured length of one record, in bytes (default 256 MiB). The read buffer grows
    /// only as a record's bytes actually arrive, so a length that is claimed but absent costs
    /// nothing; this bound only refuses records that are really there and larger.
    pub max_record_len: usize,
    /// Most interfaces one pcapng section may describe (default 65,536; real captures have a
    /// handful). Each kept interface costs 24 bytes.
    pub max_interfaces: usize,
}

impl Limits {
    /// 256 MiB: far above any real snapshot length (libpcap's largest is 256 KiB, Wireshark's
    /// 256 MiB for D-Bus), as issue 16 asks.
    pub const DEFAULT_MAX_RECORD_LEN: usize = 256 * 1024 * 1024;
    /// Interfaces per pcapng section kept by default.
    pub const DEFAULT_MAX_INTERFACES: usize = 65_536;
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_record_len: Limits::DEFAULT_MAX_RECORD_LEN,
            max_interfaces: Limits::DEFAULT_MAX_INTERFACES,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interface_costs_a_few_bytes_whatever_its_block_held() {
        // Issue 15: names, descriptions and other options are not kept.
        assert_eq!(std::mem::size_of::<Interface>(), 24);
    }
}
