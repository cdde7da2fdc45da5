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
pub use parse_error::ParseError;
