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

pub use crate::units::Direction;
