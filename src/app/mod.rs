//! Application payload parsers (nom 8): pure functions over `&[u8]` that return borrowed views.
//!
//! This module owns the byte-level grammar of each application protocol; it keeps no state
//! between packets (conversation tracking lives in `analysis`).
#![cfg_attr(
    not(test),
    deny(
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic
    )
)]

pub mod http;
mod parse_error;
pub mod tftp;

pub use parse_error::ParseError;
