//! `Malformed`: why a packet could not be decoded completely, as a value, not an error.

use serde::Serialize;

use super::OsiLayer;

/// Whether the bytes are missing because the capture cut them (snaplen) or the packet itself is
/// inconsistent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MalformedKind {
    /// The capture kept fewer bytes than were on the wire; the packet itself may be fine.
    Truncated,
    /// The packet contradicts itself or its protocol (a length field, a header value).
    Malformed,
}

/// Where and why decoding of a packet stopped early. Layers before it stay decoded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Malformed {
    /// Truncated by the capture or malformed on the wire.
    pub kind: MalformedKind,
    /// The OSI layer whose header could not be decoded.
    pub layer: OsiLayer,
    /// The protocol being decoded, e.g. `tcp`.
    pub protocol: &'static str,
    /// Byte offset in the frame where the problem starts, when known.
    pub offset: Option<usize>,
    /// What is wrong, in a short lowercase phrase.
    pub reason: String,
}

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.kind {
            MalformedKind::Truncated => "truncated",
            MalformedKind::Malformed => "malformed",
        };
        write!(f, "{kind} {} header: {}", self.protocol, self.reason)?;
        if let Some(offset) = self.offset {
            write!(f, " (at byte {offset})")?;
        }
        Ok(())
    }
}
