//! `SnaplenCut`: the payload a capture did not keep because of its snapshot length. Not a
//! malformation (the packet on the wire was fine, and tshark counts no malformed packet for it):
//! a label, with the numbers that tell how much is missing.

use serde::Serialize;

use super::OsiLayer;

/// Where a frame cut by snaplen was cut, when every header up to the cut was captured whole
/// (a header cut inside itself is a [`Malformed`](super::Malformed) value of kind
/// [`Truncated`](super::MalformedKind::Truncated) instead).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SnaplenCut {
    /// The layer whose payload was cut: transport for TCP and UDP, network for ICMP or an IP
    /// payload that is not decoded further, physical (`frame`) when only the frame's totals
    /// are known (no IP length, or bytes after the IP datagram such as an Ethernet trailer).
    pub layer: OsiLayer,
    /// The protocol whose payload was cut: `tcp`, `udp`, `icmp`, `icmpv6`, `ipv4`, `ipv6` or
    /// `frame`.
    pub protocol: &'static str,
    /// Payload bytes captured.
    pub captured: usize,
    /// Payload bytes on the wire, from the headers' length fields (`tcp.len`, `udp.length` − 8,
    /// the IP payload length) or, for `frame`, the frame's wire length.
    pub on_wire: usize,
}

impl SnaplenCut {
    /// Payload bytes the capture did not keep.
    pub fn missing(&self) -> usize {
        self.on_wire.saturating_sub(self.captured)
    }
}

impl std::fmt::Display for SnaplenCut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "payload cut by snaplen ({}: {} of {} bytes captured)",
            self.protocol, self.captured, self.on_wire
        )
    }
}
