//! State kept per conversation: TCP connection tracking and reassembly ([`tcp`]), IP fragment
//! reassembly ([`ip`]).
//!
//! It owns the mapping from packets to conversations and their directions; it does not decode
//! headers (that is `decode`) nor frame application messages (that is `framing`).
#![cfg_attr(
    not(test),
    deny(
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic
    )
)]

pub mod ip;
pub mod tcp;

/// Which way a TCP segment or UDP datagram travels relative to the conversation's initiator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
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
}
