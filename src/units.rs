//! The vocabulary every layer shares: which packet ([`FrameNumber`]), which TCP connection
//! ([`StreamId`]) and which way ([`Direction`]).
//!
//! Defined once here, at the bottom of the layer order, so that no layer has to reach up to
//! name them. The older paths `capture::FrameNumber`, `flow::tcp::StreamId` and
//! `flow::Direction` re-export these.

/// 1-based frame number, the same as Wireshark's `frame.number`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct FrameNumber(pub u64);

impl std::fmt::Display for FrameNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A connection number, 0-based in order of each connection's first packet: the same number
/// as Wireshark's `tcp.stream`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize)]
pub struct StreamId(pub u64);

impl std::fmt::Display for StreamId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Which way a TCP segment or UDP datagram travels relative to the conversation's initiator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// From the initiator (the client) to the responder.
    ClientToServer,
    /// From the responder (the server) back to the initiator.
    ServerToClient,
}

impl Direction {
    /// The opposite direction.
    pub fn reverse(self) -> Direction {
        match self {
            Direction::ClientToServer => Direction::ServerToClient,
            Direction::ServerToClient => Direction::ClientToServer,
        }
    }

    /// 0 for client to server, 1 for server to client: an index into per-direction pairs.
    pub fn index(self) -> usize {
        match self {
            Direction::ClientToServer => 0,
            Direction::ServerToClient => 1,
        }
    }
}

/// `one` when `n` is 1, else `many`: the noun that goes with a count in a sentence.
///
/// ```
/// assert_eq!(pcaplab::units::noun(1, "byte", "bytes"), "byte");
/// assert_eq!(pcaplab::units::noun(0, "byte", "bytes"), "bytes");
/// ```
pub fn noun<'a>(n: u64, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

/// `n` and its noun: `1 byte`, `2 bytes` (see [`noun`]).
///
/// ```
/// assert_eq!(pcaplab::units::plural(1, "stream", "streams"), "1 stream");
/// assert_eq!(pcaplab::units::plural(3, "stream", "streams"), "3 streams");
/// ```
pub fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", noun(n, one, many))
}
