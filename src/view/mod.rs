//! Per-packet presentation, for `packets` and `show` only: the OSI layer list with every field,
//! the protocol and address columns, the layer chain and the Wireshark-like info column.
//!
//! In: a decoded packet and the typed notes the engine gathered for it (TCP numbers, the TFTP
//! classification, the HTTP label). Out: text and field trees, built on demand. Nothing below
//! this layer formats a packet; summary commands never call it (except [`describe::layer_names`],
//! which builds no string). One file per protocol for the application layer ([`tftp`],
//! [`http`]); [`filter`]: the display filter (`-Y`) that picks the packets, reading decoded
//! packets and the engine's annotations.

pub mod describe;
pub mod filter;
pub mod http;
pub mod icmp;
pub mod row;
pub mod text;
pub mod tftp;

pub use describe::{AppView, Context, Field, LayerView, Summary, TcpRelative, Value};
pub use row::{Columns, PacketRow, row, row_with};

use crate::app::{Note, Notes};
use crate::decode::Packet;

/// The display context of a packet: its TCP numbers and its application layer view.
pub fn context(packet: &Packet<'_>, notes: &Notes<'_>) -> Context {
    let mut ctx = Context {
        tcp: notes.tcp.as_ref().map(TcpRelative::from_outcome),
        app: None,
    };
    ctx.app = match &notes.app {
        Some(Note::Tftp(c)) => Some(tftp::app_view(c, packet.payload())),
        Some(Note::Http(label)) => Some(http::app_view(label, packet, &ctx)),
        None => None,
    };
    ctx
}
