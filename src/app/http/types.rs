//! Borrowed views of HTTP/1.x message parts: start lines, the header block and its lazy
//! iterator, chunk-size lines. Everything here borrows the parsed bytes; only unfolding a value
//! that was folded over several lines ([`Header::unfolded`]) allocates.

use std::borrow::Cow;

/// An `HTTP/x.y` protocol version (RFC 9112 §2.3). The parser accepts any single digits; a
/// version other than 1.0 or 1.1 is for the caller to flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Version {
    /// The digit before the dot.
    pub major: u8,
    /// The digit after the dot.
    pub minor: u8,
}

impl Version {
    /// HTTP/1.0.
    pub const HTTP_10: Version = Version { major: 1, minor: 0 };
    /// HTTP/1.1.
    pub const HTTP_11: Version = Version { major: 1, minor: 1 };

    /// True for HTTP/1.0 and HTTP/1.1, the versions this module frames.
    pub fn is_http1(self) -> bool {
        self == Self::HTTP_10 || self == Self::HTTP_11
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HTTP/{}.{}", self.major, self.minor)
    }
}

/// `method SP request-target SP HTTP-version` (RFC 9112 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestLine<'a> {
    /// The method token, e.g. `GET` (case-sensitive, RFC 9110 §9.1).
    pub method: &'a [u8],
    /// The request target as sent, e.g. `/index.html` or `http://host/x`.
    pub target: &'a [u8],
    /// The protocol version.
    pub version: Version,
}

impl RequestLine<'_> {
    /// True for `HEAD`, whose response never has a body (RFC 9110 §9.3.2).
    pub fn is_head(&self) -> bool {
        self.method == b"HEAD"
    }

    /// True for `CONNECT`, whose 2xx response turns the connection into a tunnel.
    pub fn is_connect(&self) -> bool {
        self.method == b"CONNECT"
    }
}

/// `HTTP-version SP status-code SP [reason-phrase]` (RFC 9112 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusLine<'a> {
    /// The protocol version.
    pub version: Version,
    /// The three-digit status code.
    pub code: u16,
    /// The reason phrase (may be empty, may be any bytes).
    pub reason: &'a [u8],
}

impl StatusLine<'_> {
    /// True for 1xx interim responses, which are followed by another response to the same
    /// request. `101 Switching Protocols` is not one: it is the final HTTP response, after which
    /// the connection speaks the new protocol (RFC 9110 §15.2.2, RFC 9112 §9).
    pub fn is_interim(&self) -> bool {
        (100..200).contains(&self.code) && self.code != 101
    }
}

/// The first line of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartLine<'a> {
    /// A request line.
    Request(RequestLine<'a>),
    /// A status line.
    Status(StatusLine<'a>),
}

impl StartLine<'_> {
    /// The version on the line.
    pub fn version(&self) -> Version {
        match self {
            StartLine::Request(r) => r.version,
            StartLine::Status(s) => s.version,
        }
    }
}

/// A parsed message head: start line, header block and how it was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head<'a> {
    /// The request or status line.
    pub start_line: StartLine<'a>,
    /// The header fields.
    pub headers: Headers<'a>,
    /// Bytes the head occupies, the blank line included (when there was one).
    pub len: usize,
    /// Some line ended with a bare LF instead of CRLF (RFC 9112 §2.2 tolerates it, but it is wrong).
    pub bare_lf: bool,
    /// Some field value was continued on the next line (obsolete line folding, RFC 9112 §5.2).
    pub obs_fold: bool,
    /// The head ended because the next line was a start line, not a blank line: the blank line
    /// after the headers is missing. `len` stops before that start line.
    pub missing_blank_line: bool,
}

/// The header block of a head or a trailer section, kept as the raw bytes and iterated lazily.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Headers<'a> {
    block: &'a [u8],
}

/// One header field: name and value, both borrowed. A folded value keeps its inner line breaks
/// in [`Header::value`]; [`Header::unfolded`] gives the value as a recipient must read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header<'a> {
    /// The field name as sent.
    pub name: &'a [u8],
    /// The field value without leading and trailing whitespace.
    pub value: &'a [u8],
}

impl<'a> Header<'a> {
    /// The value with each obsolete line folding (`OWS CRLF RWS`, or a bare LF) replaced by one
    /// space, as RFC 9112 §5.2 tells a recipient to do before interpreting it: `text/plain;`
    /// CRLF SP `charset=utf-8` reads `text/plain; charset=utf-8`. Borrowed when the value was
    /// on one line.
    pub fn unfolded(&self) -> Cow<'a, [u8]> {
        unfold(self.value)
    }
}

/// See [`Header::unfolded`]: continuation lines are joined with one space; whitespace around
/// each fold (and lines holding only whitespace) disappears.
pub(crate) fn unfold(value: &[u8]) -> Cow<'_, [u8]> {
    if !value.contains(&b'\n') {
        return Cow::Borrowed(value);
    }
    let mut out = Vec::with_capacity(value.len());
    for line in value.split(|&b| b == b'\n') {
        let line = trim_ows_and_eol(line);
        if line.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(b' ');
        }
        out.extend_from_slice(line);
    }
    Cow::Owned(out)
}

/// What the `Content-Length` fields of a head say (RFC 9112 §6.3 items 5 and 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentLength {
    /// No `Content-Length` field.
    Absent,
    /// One length (repeated identical values count as one, RFC 9110 §8.6).
    Valid(u64),
    /// A value that is not a decimal number, or too large.
    Invalid,
    /// Two different lengths.
    Conflicting {
        /// The first length seen.
        first: u64,
        /// The first length that differs from it.
        other: u64,
    },
}

/// What the `Transfer-Encoding` fields of a head say about framing (RFC 9112 §6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferCoding {
    /// No `Transfer-Encoding` field.
    Absent,
    /// `chunked` is the final coding.
    Chunked,
    /// Some other final coding: a response body then runs until close; a request is invalid.
    Other,
}

impl<'a> Headers<'a> {
    /// A view of `block`, the header lines without the blank line that ends them.
    pub(crate) fn new(block: &'a [u8]) -> Self {
        Self { block }
    }

    /// The raw header lines.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.block
    }

    /// Iterates over the fields in order.
    pub fn iter(&self) -> HeaderIter<'a> {
        HeaderIter { rest: self.block }
    }

    /// The first value of the field `name` (case-insensitive), as sent (a folded value keeps
    /// its line breaks; see [`Headers::get_unfolded`]).
    pub fn get(&self, name: &str) -> Option<&'a [u8]> {
        self.iter()
            .find(|h| h.name.eq_ignore_ascii_case(name.as_bytes()))
            .map(|h| h.value)
    }

    /// The first value of the field `name` (case-insensitive) with obsolete line folding
    /// replaced by one space (RFC 9112 §5.2, [`Header::unfolded`]).
    pub fn get_unfolded(&self, name: &str) -> Option<Cow<'a, [u8]>> {
        self.iter()
            .find(|h| h.name.eq_ignore_ascii_case(name.as_bytes()))
            .map(|h| h.unfolded())
    }

    /// True when some field `name` has `token` in its comma-separated list (case-insensitive).
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        self.iter()
            .filter(|h| h.name.eq_ignore_ascii_case(name.as_bytes()))
            .flat_map(|h| h.value.split(|&b| b == b','))
            .any(|t| trim_ows_and_eol(t).eq_ignore_ascii_case(token.as_bytes()))
    }

    /// The combined meaning of every `Content-Length` field.
    pub fn content_length(&self) -> ContentLength {
        let mut seen: Option<u64> = None;
        for h in self.iter() {
            if !h.name.eq_ignore_ascii_case(b"content-length") {
                continue;
            }
            for item in h.value.split(|&b| b == b',') {
                let Some(n) = parse_decimal(trim_ows_and_eol(item)) else {
                    return ContentLength::Invalid;
                };
                match seen {
                    None => seen = Some(n),
                    Some(first) if first != n => {
                        return ContentLength::Conflicting { first, other: n };
                    }
                    Some(_) => {}
                }
            }
        }
        seen.map_or(ContentLength::Absent, ContentLength::Valid)
    }

    /// The final transfer coding named by the `Transfer-Encoding` fields.
    pub fn transfer_coding(&self) -> TransferCoding {
        let mut last: Option<&[u8]> = None;
        for h in self.iter() {
            if h.name.eq_ignore_ascii_case(b"transfer-encoding") {
                for item in h.value.split(|&b| b == b',') {
                    let coding = item.split(|&b| b == b';').next().unwrap_or_default();
                    let coding = trim_ows_and_eol(coding);
                    if !coding.is_empty() {
                        last = Some(coding);
                    }
                }
            }
        }
        match last {
            None => TransferCoding::Absent,
            Some(c) if c.eq_ignore_ascii_case(b"chunked") => TransferCoding::Chunked,
            Some(_) => TransferCoding::Other,
        }
    }
}

impl<'a> IntoIterator for Headers<'a> {
    type Item = Header<'a>;
    type IntoIter = HeaderIter<'a>;
    fn into_iter(self) -> HeaderIter<'a> {
        self.iter()
    }
}

/// Lazy iterator over the fields of a [`Headers`] block.
#[derive(Debug, Clone)]
pub struct HeaderIter<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for HeaderIter<'a> {
    type Item = Header<'a>;

    fn next(&mut self) -> Option<Header<'a>> {
        loop {
            if self.rest.is_empty() {
                return None;
            }
            let block = self.rest;
            // The field runs to the end of its line plus any folded continuation lines
            // (lines starting with SP or HTAB, RFC 9112 §5.2).
            let mut end = line_end(block);
            while let Some(&next) = block.get(end) {
                if next == b' ' || next == b'\t' {
                    end = end.saturating_add(line_end(block.get(end..).unwrap_or_default()));
                } else {
                    break;
                }
            }
            let (field, rest) = block.split_at_checked(end).unwrap_or((block, &[]));
            self.rest = rest;
            let Some(colon) = field.iter().position(|&b| b == b':') else {
                // The parser validated the block, so this only happens for a continuation line
                // at the very start; skip it.
                continue;
            };
            let (name, value) = field.split_at_checked(colon).unwrap_or((field, &[]));
            let value = value.get(1..).unwrap_or_default();
            return Some(Header {
                name,
                value: trim_ows_and_eol(value),
            });
        }
    }
}

/// A chunk-size line: `chunk-size *( BWS ";" BWS chunk-ext ) CRLF` (RFC 9112 §7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkLine<'a> {
    /// The chunk size (0 marks the last chunk).
    pub size: u64,
    /// The raw chunk extensions after the size, starting at the first `;` (empty when none).
    pub extensions: &'a [u8],
    /// Bytes the line occupies, its line ending included.
    pub len: usize,
    /// The line ended with a bare LF.
    pub bare_lf: bool,
}

/// Index one past the LF ending the first line of `bytes`, or `bytes.len()` when there is none.
fn line_end(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |i| i.saturating_add(1))
}

/// `bytes` without surrounding whitespace, CR and LF.
fn trim_ows_and_eol(bytes: &[u8]) -> &[u8] {
    let is_space = |b: &u8| matches!(*b, b' ' | b'\t' | b'\r' | b'\n');
    let start = bytes
        .iter()
        .position(|b| !is_space(b))
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !is_space(b))
        .map_or(start, |i| i.saturating_add(1));
    bytes.get(start..end).unwrap_or_default()
}

/// A non-empty run of ASCII digits as a `u64`, `None` when empty, not digits, or too large.
pub(crate) fn parse_decimal(bytes: &[u8]) -> Option<u64> {
    if bytes.is_empty() {
        return None;
    }
    bytes.iter().try_fold(0u64, |acc, &b| {
        if b.is_ascii_digit() {
            acc.checked_mul(10)?.checked_add(u64::from(b - b'0'))
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iterator_yields_fields_with_trimmed_values_and_folds() {
        // Two plain fields, then one folded over two lines.
        let block = b"Host: example.com\r\nAccept:*/*  \r\nX-Long: a\r\n  b\r\n";
        let h = Headers::new(block);
        let fields: Vec<_> = h.iter().collect();
        assert_eq!(fields.len(), 3);
        assert_eq!(fields[0].name, b"Host");
        assert_eq!(fields[0].value, b"example.com");
        assert_eq!(fields[1].value, b"*/*");
        assert_eq!(fields[2].name, b"X-Long");
        assert_eq!(fields[2].value, b"a\r\n  b");
        assert_eq!(h.get("HOST"), Some(&b"example.com"[..]));
    }

    #[test]
    fn folded_values_are_unfolded_with_one_space() {
        // RFC 9112 §5.2: each obs-fold is replaced by SP before the value is interpreted. The
        // block is the response of cases/http-obs-fold.pcap.
        let block = b"Content-Type: text/plain;\r\n charset=utf-8\r\nX-Long: a\r\n\tb\r\n \t\r\n\
                      Connection: keep-alive,\r\n close\r\nContent-Length: 5\r\n";
        let h = Headers::new(block);
        assert_eq!(
            h.get_unfolded("content-type").as_deref(),
            Some(&b"text/plain; charset=utf-8"[..])
        );
        assert_eq!(h.get_unfolded("x-long").as_deref(), Some(&b"a b"[..]));
        assert!(matches!(
            h.get_unfolded("content-length"),
            Some(Cow::Borrowed(b"5"))
        ));
        // A list continued on the next line still has its items.
        assert!(h.has_token("connection", "close"));
        assert_eq!(h.content_length(), ContentLength::Valid(5));
        assert_eq!(unfold(b"a \n  b"), Cow::<[u8]>::Owned(b"a b".to_vec()));
    }

    #[test]
    fn content_length_cases() {
        let cl = |b: &'static [u8]| Headers::new(b).content_length();
        assert_eq!(cl(b"A: b\r\n"), ContentLength::Absent);
        assert_eq!(cl(b"Content-Length: 42\r\n"), ContentLength::Valid(42));
        // Identical repeated values are one length (RFC 9110 §8.6).
        assert_eq!(
            cl(b"content-length: 5, 5\r\nContent-Length: 5\r\n"),
            ContentLength::Valid(5)
        );
        assert_eq!(
            cl(b"Content-Length: 5\r\nContent-Length: 7\r\n"),
            ContentLength::Conflicting { first: 5, other: 7 }
        );
        assert_eq!(cl(b"Content-Length: -1\r\n"), ContentLength::Invalid);
        assert_eq!(
            cl(b"Content-Length: 99999999999999999999\r\n"),
            ContentLength::Invalid
        );
    }

    #[test]
    fn transfer_coding_uses_the_final_coding() {
        let te = |b: &'static [u8]| Headers::new(b).transfer_coding();
        assert_eq!(te(b"X: y\r\n"), TransferCoding::Absent);
        assert_eq!(
            te(b"Transfer-Encoding: gzip, Chunked\r\n"),
            TransferCoding::Chunked
        );
        assert_eq!(
            te(b"Transfer-Encoding: chunked, gzip\r\n"),
            TransferCoding::Other
        );
    }
}
