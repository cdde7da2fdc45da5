//! TFTP (RFC 1350) with options (RFC 2347 negotiation, RFC 2348 blksize, RFC 2349 timeout and
//! tsize, RFC 7440 windowsize): everything about it lives here.
//!
//! - [`decode`] (the parser) and the borrowed [`Packet`] views or [`Malformed`] values of one
//!   UDP payload; stateless.
//! - [`Tracker`]: which datagrams belong to which transfer (O(1) per datagram) and what happened
//!   in each; [`Transfer`] and [`Classification`] are its owned results and per-packet notes.
//! - `state`: one transfer's state while tracked and the findings per packet; `blocks`: block
//!   numbers and sets; `extract`: where a transfer's data goes (hashes, and files through the
//!   crate's one extraction sink, [`crate::extract`]).
#![cfg_attr(
    not(test),
    deny(
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic
    )
)]

mod blocks;
mod config;
mod extract;
mod parser;
mod state;
pub mod tracker;
pub mod transfer;
mod types;

pub use config::Config;
pub use parser::decode;
pub use tracker::{Counters, PortHint, Tracker};
pub use transfer::{
    BlockNumber, Classification, EndReason, ExtractedFile, IcmpLink, OptionEntry, Repeat, Repeated,
    Role, Transfer, TransferDirection, TransferError, TransferOptions, Warning, WarningKind,
};
pub use types::{
    Ack, Data, ErrorCode, ErrorPacket, Escaped, Info, Malformed, MalformedReason, Mode, Oack,
    Opcode, OptionIter, OptionKind, OptionPair, Options, Packet, Request, escape,
};

/// The well-known TFTP server port (RFC 1350 §4).
pub const SERVER_PORT: u16 = 69;

/// Data bytes per DATA block unless `blksize` was negotiated (RFC 1350 §2).
pub const DEFAULT_BLOCK_SIZE: u16 = 512;
