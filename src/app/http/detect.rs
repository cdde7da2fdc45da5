//! THE HTTP/1.x start detector: does a stream (or a direction) begin with an HTTP message?
//!
//! Every command that has to decide whether bytes are HTTP asks this one function: the `http`
//! and `stats` commands when a TCP stream's first bytes arrive, `sticky`/`streams`/`follow`
//! with `--framing auto`, and the grader. Detection is by content, never by port.
//!
//! The rule, from RFC 9112: a request line is `method SP request-target SP HTTP-version` where
//! the method is a `token` (RFC 9112 §3, RFC 9110 §5.6.2); a status line is
//! `HTTP-version SP 3DIGIT` (RFC 9112 §4). The method is case-sensitive (RFC 9110 §9.1), which
//! makes `get` a *different* method from `GET`, not an invalid one: `get / HTTP/1.1` is a
//! well-formed HTTP/1.1 request (for an extension method a server will refuse with 501), so it
//! is HTTP. The detector says yes for:
//! - a status line start `HTTP/1.d ddd`;
//! - one of the registered methods written exactly (`GET`, `HEAD`, `POST`, `PUT`, `DELETE`,
//!   `OPTIONS`, `TRACE`, `CONNECT`, `PATCH`) followed by a space, as soon as those bytes are there
//!   (whatever follows, the sender meant HTTP: a broken request line is then reported by the
//!   framer, which is what a student needs to see);
//! - any other token followed by a whole request line that ends in `HTTP/1.x`.

use super::parser::{parse_line, parse_request_line, request_prefix_ok, status_prefix};
use crate::flow::tcp::Role;

/// Methods recognised on sight (RFC 9110 §9 and RFC 5789), case-sensitive.
const KNOWN_METHODS: [&[u8]; 9] = [
    b"GET", b"HEAD", b"POST", b"PUT", b"DELETE", b"OPTIONS", b"TRACE", b"CONNECT", b"PATCH",
];

/// How far the detector looks for the end of an unknown method's request line; past it, the
/// bytes are not HTTP.
pub const MAX_DETECT_LINE: usize = 8192;

/// What the first bytes of a stream say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// They begin an HTTP/1.x request or response.
    Http,
    /// They cannot begin one.
    NotHttp,
    /// They are a consistent beginning, too short to tell: wait for more bytes (at the end of
    /// the stream, or past [`MAX_DETECT_LINE`], this means [`Start::NotHttp`]).
    NeedMore,
}

/// Classifies the first bytes of a stream or direction.
///
/// ```
/// use pcaplab::app::http::detect::{classify, Start};
/// assert_eq!(classify(b"GET /index.html HTTP/1.1\r\n"), Start::Http);
/// assert_eq!(classify(b"get / HTTP/1.1\r\n"), Start::Http); // an extension method, still HTTP
/// assert_eq!(classify(b"HTTP/1.0 404 Not Found\r\n"), Start::Http);
/// assert_eq!(classify(b"PROPFIND /dav"), Start::NeedMore);
/// assert_eq!(classify(b"\x16\x03\x01\x02\x00"), Start::NotHttp); // a TLS ClientHello
/// ```
pub fn classify(bytes: &[u8]) -> Start {
    let status = status_prefix(bytes);
    if status == Some(true) {
        return Start::Http;
    }
    for m in KNOWN_METHODS {
        let n = m.len();
        if bytes.get(..n) == Some(m) && bytes.get(n) == Some(&b' ') {
            return Start::Http;
        }
    }
    if !request_prefix_ok(bytes) {
        return if status.is_none() {
            Start::NeedMore
        } else {
            Start::NotHttp
        };
    }
    // Any other token: the whole request line must be there and end in HTTP/1.x.
    match parse_line(bytes) {
        Ok((_, (line, _))) => {
            if parse_request_line(line).is_ok_and(|(_, r)| r.version.major == 1) {
                Start::Http
            } else {
                Start::NotHttp
            }
        }
        Err(_) if bytes.len() > MAX_DETECT_LINE => Start::NotHttp,
        Err(_) => Start::NeedMore,
    }
}

/// Whose bytes these are, when they begin an HTTP/1.x message: a request line is the
/// client's, a status line the server's (the TCP stream table's content hook, for connections
/// whose handshake was not captured). `None` when they do not begin one, or not yet.
///
/// ```
/// use pcaplab::app::http::detect::role;
/// use pcaplab::flow::tcp::Role;
/// assert_eq!(role(b"GET /mid HTTP/1.1\r\n"), Some(Role::Client));
/// assert_eq!(role(b"HTTP/1.1 200 OK\r\n"), Some(Role::Server));
/// assert_eq!(role(b"...tail of an earlier body"), None);
/// ```
pub fn role(bytes: &[u8]) -> Option<Role> {
    match classify(bytes) {
        Start::Http if status_prefix(bytes) == Some(true) => Some(Role::Server),
        Start::Http => Some(Role::Client),
        Start::NotHttp | Start::NeedMore => None,
    }
}

/// True when `bytes` begin an HTTP/1.x message ([`classify`] says [`Start::Http`]); too few
/// bytes to tell give `false`.
///
/// ```
/// use pcaplab::app::http::looks_like_http_start;
/// assert!(looks_like_http_start(b"GET /index.html HTTP/1.1\r\n"));
/// assert!(looks_like_http_start(b"HTTP/1.0 404 Not Found\r\n"));
/// assert!(!looks_like_http_start(b"\x16\x03\x01\x02\x00")); // a TLS ClientHello
/// ```
pub fn looks_like_http_start(bytes: &[u8]) -> bool {
    classify(bytes) == Start::Http
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection_by_content() {
        for m in KNOWN_METHODS {
            let mut start = m.to_vec();
            start.extend_from_slice(b" /");
            assert!(looks_like_http_start(&start), "{m:?}");
        }
        assert!(looks_like_http_start(b"HTTP/1.0 404 Not Found\r\n"));
        assert!(looks_like_http_start(b"PROPFIND /dav HTTP/1.1\r\n")); // any token
        assert!(looks_like_http_start(b"CCM_POST / HTTP/1.1\n")); // zeek-methods stream 19
        assert!(!looks_like_http_start(b"CCM_POST / HTTP/1.\n")); // not HTTP/1.x
        assert!(!looks_like_http_start(b"PROPFIND /dav")); // too early to tell
        assert!(!looks_like_http_start(b"HTTP/2 200\r\n"));
        assert!(!looks_like_http_start(b"SSH-2.0-OpenSSH_9.6\r\n"));
        assert!(!looks_like_http_start(
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc"
        ));
        assert!(!looks_like_http_start(b""));
        assert_eq!(classify(b"HTTP/1"), Start::NeedMore);
        assert_eq!(classify(b"GE"), Start::NeedMore);
        assert_eq!(classify(b""), Start::NeedMore);
    }

    #[test]
    fn issue_10_method_case_is_a_different_method_not_another_protocol() {
        // RFC 9112 §3: the method is a case-sensitive token. `get` is an extension method, so
        // the line is a valid HTTP/1.1 request line (a server answers 501 Not Implemented).
        assert_eq!(classify(b"get / HTTP/1.1\r\n"), Start::Http);
        assert_eq!(classify(b"Get /x HTTP/1.0\r\nHost: a\r\n\r\n"), Start::Http);
        // A lowercase word that does not end in HTTP/1.x is text, not HTTP.
        assert_eq!(classify(b"get me a coffee\r\n"), Start::NotHttp);
        // Not a token: a space first, or a control byte.
        assert_eq!(classify(b" GET / HTTP/1.1\r\n"), Start::NotHttp);
    }

    #[test]
    fn long_lines_without_an_end_are_not_http() {
        let mut long = b"X".repeat(MAX_DETECT_LINE + 1);
        assert_eq!(classify(&long), Start::NotHttp);
        long.truncate(100);
        assert_eq!(classify(&long), Start::NeedMore);
    }

    #[test]
    fn every_prefix_is_safe() {
        let odd: &[u8] = b"GET \xff\xfe HTTP/9.9\r\n:\r\n \r\nX\t: y\r\n\r\n\r\nzz";
        for n in 0..=odd.len() {
            let _ = classify(&odd[..n]);
        }
    }
}
