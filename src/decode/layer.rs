//! OSI layer numbers and names used to label every decoded layer.

use serde::Serialize;

/// The OSI layer a decoded header belongs to. Layers 5 and 6 have no header of their own in the
/// TCP/IP stack, so they never appear.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OsiLayer {
    /// Layer 1: the frame as captured (lengths, time, interface).
    Physical,
    /// Layer 2: Ethernet, VLAN, Linux cooked, loopback headers, ARP.
    DataLink,
    /// Layer 3: IPv4, IPv6, ICMP, ICMPv6.
    Network,
    /// Layer 4: TCP, UDP.
    Transport,
    /// Layer 7: application payloads (TFTP, HTTP, raw data).
    Application,
}

impl OsiLayer {
    /// The layer number (1, 2, 3, 4 or 7).
    pub fn number(self) -> u8 {
        match self {
            OsiLayer::Physical => 1,
            OsiLayer::DataLink => 2,
            OsiLayer::Network => 3,
            OsiLayer::Transport => 4,
            OsiLayer::Application => 7,
        }
    }

    /// The layer's OSI name, e.g. `Data Link`.
    pub fn name(self) -> &'static str {
        match self {
            OsiLayer::Physical => "Physical",
            OsiLayer::DataLink => "Data Link",
            OsiLayer::Network => "Network",
            OsiLayer::Transport => "Transport",
            OsiLayer::Application => "Application",
        }
    }
}

impl Serialize for OsiLayer {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(self.number())
    }
}

impl std::fmt::Display for OsiLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "L{}", self.number())
    }
}
