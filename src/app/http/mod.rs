//! HTTP/1.x message parts (RFC 9112): start lines, header blocks, chunk-size lines.
//!
//! Owns the byte-level syntax only. It does not decide where a message ends (that is
//! `framing::http`) nor pair requests with responses (`analysis::http`). Parsers take
//! reassembled stream bytes and return views borrowing them; see [`Head`] and [`Headers`].

mod parser;
mod types;

pub use parser::{decode_head, looks_like_http_start};
pub(crate) use parser::{
    parse_chunk_data_end, parse_chunk_line, parse_header_block, parse_request_head,
    parse_response_head,
};
pub use types::{
    ChunkLine, ContentLength, Head, Header, HeaderIter, Headers, RequestLine, StartLine,
    StatusLine, TransferCoding, Version,
};
