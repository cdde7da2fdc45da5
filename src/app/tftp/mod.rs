//! TFTP (RFC 1350) with options (RFC 2347 negotiation, RFC 2348 blksize, RFC 2349 timeout and
//! tsize, RFC 7440 windowsize): one UDP payload in, one borrowed [`Packet`] view or a
//! [`Malformed`] value out.
//!
//! This module is stateless: which datagrams belong to which transfer (TIDs, block sequence,
//! completion) is decided by `analysis::tftp`.

mod parser;
mod types;

pub use parser::decode;
pub use types::{
    Ack, Data, ErrorCode, ErrorPacket, Escaped, Info, Malformed, MalformedReason, Mode, Oack,
    Opcode, OptionIter, OptionKind, OptionPair, Options, Packet, Request, escape,
};

/// The well-known TFTP server port (RFC 1350 §4).
pub const SERVER_PORT: u16 = 69;

/// Data bytes per DATA block unless `blksize` was negotiated (RFC 1350 §2).
pub const DEFAULT_BLOCK_SIZE: u16 = 512;
