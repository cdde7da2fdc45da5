//! One HTTP transaction: a request and its response as an owned summary, the row of `pcaplab
//! http` and the object of its JSON output.

use std::net::SocketAddr;
use std::time::Duration;

use super::extract::{BodyHash, ExtractedBody};
use super::warnings::Warning;
use crate::units::FrameNumber;

/// Longest text kept from a start line or header value, in bytes; longer text is cut with `…`.
const MAX_TEXT: usize = 2048;

/// One request and its response (either half may be missing), as owned summary values.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Transaction {
    /// Stream id given by the caller.
    pub stream: u64,
    /// 0-based transaction index in the stream.
    pub index: u64,
    /// Capture time (since the Unix epoch) of the request's first frame, or the response's when
    /// there is no request; seconds in JSON.
    #[serde(serialize_with = "ser_opt_secs")]
    pub time: Option<Duration>,
    /// Client address.
    pub client: SocketAddr,
    /// Server address.
    pub server: SocketAddr,
    /// Request method.
    pub method: Option<String>,
    /// Host header of the request.
    pub host: Option<String>,
    /// Request target as sent.
    pub uri: Option<String>,
    /// Request version (`HTTP/1.1`), or the response's when there is no request.
    pub version: Option<String>,
    /// Final status code.
    pub status: Option<u16>,
    /// Reason phrase.
    pub reason: Option<String>,
    /// Response Content-Type as sent.
    pub content_type: Option<String>,
    /// Request body bytes (de-chunked).
    pub request_body_bytes: Option<u64>,
    /// Response body bytes (de-chunked, before any content decoding).
    pub response_body_bytes: Option<u64>,
    /// Seconds from the frame carrying the request's last byte to the frame carrying the final
    /// response's first byte (time to first byte; negative when the server answered early).
    pub response_time: Option<f64>,
    /// Seconds from the request's last frame to the response's last frame: Wireshark's
    /// `http.time` (with its default reassembly).
    pub http_time: Option<f64>,
    /// Response version.
    pub response_version: Option<String>,
    /// Response Content-Encoding.
    pub content_encoding: Option<String>,
    /// 1xx interim status codes received before the final response.
    pub interim_statuses: Vec<u16>,
    /// Frame with the request's first byte.
    pub request_frame: Option<FrameNumber>,
    /// Frame with the request's last byte (Wireshark's `http.request_in`).
    pub request_end_frame: Option<FrameNumber>,
    /// Frame with the final response's first byte.
    pub response_frame: Option<FrameNumber>,
    /// Frame with the response's last byte (where Wireshark shows the response).
    pub response_end_frame: Option<FrameNumber>,
    /// The extracted response body, when extraction was on and the response had a body.
    pub body_file: Option<ExtractedBody>,
    /// The response body's hash and searches, when bodies were hashed in memory (grading);
    /// not part of the output.
    #[serde(skip)]
    pub body_hash: Option<BodyHash>,
    /// What went wrong.
    pub warnings: Vec<Warning>,
}

fn ser_opt_secs<S: serde::Serializer>(t: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(d) => s.serialize_f64(d.as_secs_f64()),
        None => s.serialize_none(),
    }
}

/// Bytes as sent ([`crate::app::wire_text`]: UTF-8 kept as it is, control characters
/// included; bytes that are not UTF-8 as `\xNN`), cut at 2048 bytes (then ending in `…`). Used
/// for every string a transaction keeps from the wire; whatever prints it to a terminal, a
/// table or CSV escapes it there.
pub fn text(bytes: &[u8]) -> String {
    let (bytes, cut) = match bytes.get(..MAX_TEXT) {
        Some(b) if bytes.len() > MAX_TEXT => (b, true),
        _ => (bytes, false),
    };
    let mut s = crate::app::wire_text(bytes);
    if cut {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_keeps_what_was_sent_and_shows_invalid_bytes() {
        assert_eq!(text(b"ok"), "ok");
        // Control and bidi characters are kept (JSON holds the original); a byte that is not
        // UTF-8 cannot be, and is written as `\xNN`.
        assert_eq!(text(b"a\x01\xff"), "a\u{1}\\xff");
        assert_eq!(text("a\u{202e}b".as_bytes()), "a\u{202e}b");
        let long = text(&[b'a'; 3000]);
        assert!(long.ends_with('…') && long.len() == MAX_TEXT + '…'.len_utf8());
    }
}
