//! State kept per conversation (scratch copy: only the shared `Direction`).
#![cfg_attr(
    not(test),
    deny(
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic
    )
)]

/// Which way a TCP segment or UDP datagram travels relative to the conversation's initiator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// From the initiator (the side that sent the SYN / first datagram) to the responder.
    ClientToServer,
    /// From the responder back to the initiator.
    ServerToClient,
}
