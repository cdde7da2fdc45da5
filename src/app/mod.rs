//! One wing per application protocol ([`http`], [`tftp`]): parser, detector, framer, tracker,
//! results and warning texts of each live in its folder. [`consumer`] holds the small traits
//! through which the engine feeds the protocols (and the cross-protocol analyses above), and the
//! typed per-packet notes they give back.
#![cfg_attr(
    not(test),
    deny(
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic
    )
)]

pub mod consumer;
pub mod http;
mod parse_error;
pub mod tftp;

pub use consumer::{
    At, Datagram, DatagramConsumer, IcmpLink, Note, Notes, PacketObserver, StreamConsumer,
};

/// The content hook of the TCP stream table ([`crate::flow::tcp::StreamTable::with_role_hint`]):
/// whose first payload this is, by every application protocol that can tell — today HTTP's
/// request line (the client's) and status line (the server's).
pub fn role_hint(payload: &[u8]) -> Option<crate::flow::tcp::Role> {
    http::detect::role(payload)
}
pub use parse_error::ParseError;
