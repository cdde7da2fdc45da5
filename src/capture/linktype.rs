//! Link-layer header types (the `LINKTYPE_*` numbers of pcap and pcapng) that pcaplab decodes.

/// The link-layer header type of a frame, from the pcap header or the pcapng interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkType {
    /// LINKTYPE_NULL (0): BSD loopback, 4-byte address family in the writer's byte order.
    Null,
    /// LINKTYPE_ETHERNET (1).
    Ethernet,
    /// LINKTYPE_RAW (101) and the historical DLT_RAW values 12 and 14: a bare IPv4 or IPv6 packet.
    RawIp,
    /// LINKTYPE_LOOP (108): OpenBSD loopback, 4-byte big-endian address family.
    Loop,
    /// LINKTYPE_LINUX_SLL (113): Linux cooked capture v1.
    LinuxSll,
    /// LINKTYPE_IPV4 (228).
    Ipv4,
    /// LINKTYPE_IPV6 (229).
    Ipv6,
    /// LINKTYPE_LINUX_SLL2 (276): Linux cooked capture v2.
    LinuxSll2,
    /// Any other value; its frames are reported as undecodable, not fatal.
    Other(u32),
}

impl LinkType {
    /// Maps a `LINKTYPE_*` number to a `LinkType`.
    pub fn from_number(n: u32) -> Self {
        match n {
            0 => LinkType::Null,
            1 => LinkType::Ethernet,
            12 | 14 | 101 => LinkType::RawIp,
            108 => LinkType::Loop,
            113 => LinkType::LinuxSll,
            228 => LinkType::Ipv4,
            229 => LinkType::Ipv6,
            276 => LinkType::LinuxSll2,
            other => LinkType::Other(other),
        }
    }

    /// The `LINKTYPE_*` number (101 for every raw-IP variant).
    pub fn number(self) -> u32 {
        match self {
            LinkType::Null => 0,
            LinkType::Ethernet => 1,
            LinkType::RawIp => 101,
            LinkType::Loop => 108,
            LinkType::LinuxSll => 113,
            LinkType::Ipv4 => 228,
            LinkType::Ipv6 => 229,
            LinkType::LinuxSll2 => 276,
            LinkType::Other(n) => n,
        }
    }

    /// A short human name, e.g. `Ethernet` or `Linux cooked v2`.
    pub fn name(self) -> &'static str {
        match self {
            LinkType::Null => "BSD loopback (NULL)",
            LinkType::Ethernet => "Ethernet",
            LinkType::RawIp => "Raw IP",
            LinkType::Loop => "OpenBSD loopback (LOOP)",
            LinkType::LinuxSll => "Linux cooked (SLL)",
            LinkType::Ipv4 => "Raw IPv4",
            LinkType::Ipv6 => "Raw IPv6",
            LinkType::LinuxSll2 => "Linux cooked v2 (SLL2)",
            LinkType::Other(_) => "unsupported link type",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip() {
        for n in [0, 1, 101, 108, 113, 228, 229, 276, 147] {
            assert_eq!(LinkType::from_number(n).number(), n);
        }
        assert_eq!(LinkType::from_number(12), LinkType::RawIp);
        assert_eq!(LinkType::from_number(14), LinkType::RawIp);
    }
}
