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

/// Text from the wire as it was sent, for the results a command keeps (transactions,
/// transfers): valid UTF-8 as it is, control and bidi characters included, so that JSON holds the
/// original (escaped by JSON's own rules); each byte that is not UTF-8 as the four characters
/// `\xNN` (JSON text is UTF-8). Whatever prints a result to a terminal, a table or CSV escapes it
/// there (`view::text`).
///
/// ```
/// assert_eq!(pcaplab::app::wire_text(b"a\x1b[2J\xe9"), "a\u{1b}[2J\\xe9");
/// assert_eq!(pcaplab::app::wire_text("r\u{202e}l".as_bytes()), "r\u{202e}l");
/// ```
pub fn wire_text(bytes: &[u8]) -> String {
    if let Ok(s) = std::str::from_utf8(bytes) {
        return s.to_owned();
    }
    let mut out = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            push_byte_escape(&mut out, *b);
        }
    }
    out
}

/// Appends `\xNN` for `b`.
fn push_byte_escape(out: &mut String, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push_str("\\x");
    for nibble in [b >> 4, b & 0xf] {
        if let Some(&h) = HEX.get(usize::from(nibble)) {
            out.push(char::from(h));
        }
    }
}
