//! HTTP/1.x (RFC 9110, RFC 9112): everything about it lives here.
//!
//! - `parser` (crate-private) and `types`: the byte-level syntax of start lines, header
//!   blocks and chunk-size lines, as views borrowing the stream bytes ([`Head`], [`Headers`]).
//! - [`detect`]: THE start detector, used by every command that decides whether bytes are HTTP.
//! - [`framer`]: where each message starts and ends (RFC 9112 §6), knowing HEAD, CONNECT, 1xx,
//!   204 and 304 from the paired request ([`ConversationFramer`]); it also serves the generic
//!   [`crate::framing::Framer`] path (`--framing http`).
//! - [`conversation`]: requests paired with responses on one stream, per-packet [`Label`]s;
//!   [`transaction`]: the owned [`Transaction`] summary; [`warnings`]: every warning text.
//! - [`tracker`]: the engine's stream consumer over every stream of a capture.
//! - [`extract`]: where response bodies go: files through the crate's extraction sink, or an
//!   in-memory hash for grading.

pub mod conversation;
pub mod detect;
pub mod extract;
pub mod framer;
mod parser;
pub mod tracker;
pub mod transaction;
mod types;
pub mod warnings;

pub use conversation::MAX_IN_FLIGHT;
pub use conversation::{Conversation, Label, Labels, Options, StartSummary};
pub use detect::looks_like_http_start;
pub use extract::{Bodies, BodyHash, ExtractedBody, Files, HashOptions};
pub use framer::{ConversationFramer, MessageFramer, Role};
pub use parser::decode_head;
pub use tracker::{Bounds, MAX_IN_FLIGHT_TOTAL, ORDER_WINDOW, Tracker};
pub use transaction::Transaction;
pub use types::{
    ChunkLine, ContentLength, Head, Header, HeaderIter, Headers, RequestLine, StartLine,
    StatusLine, TransferCoding, Version,
};
pub use warnings::{Warning, WarningKind};
