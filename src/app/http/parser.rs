//! nom 8 parsers for HTTP/1.x message parts over reassembled stream bytes.
//!
//! Every parser that reads from the stream is `streaming`: `Err::Incomplete` means "wait for
//! more bytes", never "malformed". A line is split off first (at its LF, so both CRLF and a bare
//! LF end it); the line's contents are then parsed with `complete` combinators, because a whole
//! line is all there is. Error offsets are relative to the input given to the public parser.

use nom::bytes::complete::{tag, take_till1, take_while_m_n, take_while1};
use nom::combinator::{all_consuming, eof, rest};
use nom::error::context;
use nom::{IResult, Parser};

use super::types::{ChunkLine, Head, Headers, RequestLine, StartLine, StatusLine, Version};
use crate::app::ParseError;

/// Longest chunk size accepted, in hex digits: 16 digits fill a `u64`.
const MAX_CHUNK_SIZE_DIGITS: usize = 16;

/// Splits off one line: its contents without the line ending, and whether the ending was a bare
/// LF rather than CRLF (RFC 9112 §2.2).
pub(crate) fn parse_line(input: &[u8]) -> IResult<&[u8], (&[u8], bool), ParseError> {
    let (after, raw) =
        nom::bytes::streaming::take_until::<_, _, ParseError>(&b"\n"[..]).parse(input)?;
    let after = after.get(1..).unwrap_or_default();
    match raw.split_last() {
        Some((b'\r', line)) => Ok((after, (line, false))),
        _ => Ok((after, (raw, true))),
    }
}

/// `tchar` (RFC 9110 §5.6.2): the bytes allowed in a method or a field name.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// `HTTP/` DIGIT `.` DIGIT (RFC 9112 §2.3), complete.
fn parse_version(input: &[u8]) -> IResult<&[u8], Version, ParseError> {
    let digit = || take_while_m_n(1, 1, |b: u8| b.is_ascii_digit());
    context(
        "HTTP version (HTTP/1.1)",
        (tag(&b"HTTP/"[..]), digit(), tag(&b"."[..]), digit()),
    )
    .map(
        |(_, major, _, minor): (&[u8], &[u8], &[u8], &[u8])| Version {
            major: major.first().map_or(0, |d| d.saturating_sub(b'0')),
            minor: minor.first().map_or(0, |d| d.saturating_sub(b'0')),
        },
    )
    .parse(input)
}

/// A request line's contents (no line ending), complete: `method SP target SP version`.
pub(crate) fn parse_request_line(line: &[u8]) -> IResult<&[u8], RequestLine<'_>, ParseError> {
    context(
        "end of the request line after the version",
        all_consuming((
            context("method token", take_while1(is_tchar)),
            context("one space after the method", tag(&b" "[..])),
            context(
                "request target without spaces",
                take_till1(|b: u8| b <= b' ' || b == 0x7f),
            ),
            context("one space after the request target", tag(&b" "[..])),
            parse_version,
        )),
    )
    .map(|(method, _, target, _, version)| RequestLine {
        method,
        target,
        version,
    })
    .parse(line)
}

/// A status line's contents (no line ending), complete: `version SP code [SP reason]`.
///
/// A missing reason phrase together with its space (`HTTP/1.1 200`) is accepted, as RFC 9112 §4
/// asks of recipients.
pub(crate) fn parse_status_line(line: &[u8]) -> IResult<&[u8], StatusLine<'_>, ParseError> {
    let space_then_reason = (tag(&b" "[..]), rest).map(|(_, r): (&[u8], &[u8])| r);
    let no_reason = eof.map(|e: &[u8]| e);
    (
        parse_version,
        context("one space after the version", tag(&b" "[..])),
        context(
            "three-digit status code",
            take_while_m_n(3, 3, |b: u8| b.is_ascii_digit()),
        ),
        context(
            "space or end of line after the status code",
            nom::branch::alt((space_then_reason, no_reason)),
        ),
    )
        .map(|(version, _, code, reason): (_, _, &[u8], _)| StatusLine {
            version,
            code: code.iter().fold(0u16, |acc, d| {
                acc.saturating_mul(10)
                    .saturating_add(u16::from(d.saturating_sub(b'0')))
            }),
            reason,
        })
        .parse(line)
}

/// Which start line a head must begin with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Request,
    Response,
    Either,
}

/// A request head: request line, header fields, blank line (RFC 9112 §2.1), streaming.
pub(crate) fn parse_request_head(input: &[u8]) -> IResult<&[u8], Head<'_>, ParseError> {
    parse_head_as(input, Expect::Request)
}

/// A response head: status line, header fields, blank line (RFC 9112 §2.1), streaming.
pub(crate) fn parse_response_head(input: &[u8]) -> IResult<&[u8], Head<'_>, ParseError> {
    parse_head_as(input, Expect::Response)
}

/// A request or response head, whichever the start line is, streaming.
fn parse_head(input: &[u8]) -> IResult<&[u8], Head<'_>, ParseError> {
    parse_head_as(input, Expect::Either)
}

fn parse_head_as(input: &[u8], expect: Expect) -> IResult<&[u8], Head<'_>, ParseError> {
    let (after_line, (line, bare_lf)) = match parse_line(input) {
        Ok(ok) => ok,
        Err(nom::Err::Incomplete(n)) => {
            // Fail early on bytes that can never become a start line, so that a stream that is
            // not HTTP is reported at once instead of after the head size limit.
            // The error is the one the whole line would give, so that where a stream was cut
            // does not change the reported offset.
            return match start_prefix_error(input, expect) {
                Some(expected) => Err(nom::Err::Error(
                    parse_start_line(input, expect)
                        .err()
                        .unwrap_or(ParseError::new(input.len(), expected)),
                )),
                None => Err(nom::Err::Incomplete(n)),
            };
        }
        Err(e) => return Err(e),
    };
    let start_line = parse_start_line(line, expect)
        .map_err(|e| {
            ParseError::new(
                e.remaining.saturating_add(input.len() - line.len()),
                e.expected,
            )
        })
        .map_err(nom::Err::Error)?;
    let (rest, block) = parse_header_block(after_line)?;
    Ok((
        rest,
        Head {
            start_line,
            headers: block.headers,
            len: input.len() - rest.len(),
            bare_lf: bare_lf || block.bare_lf,
            obs_fold: block.obs_fold,
            missing_blank_line: block.missing_blank_line,
        },
    ))
}

/// Parses a whole start line as `expect` says; the error's `remaining` is within `line`.
fn parse_start_line(line: &[u8], expect: Expect) -> Result<StartLine<'_>, ParseError> {
    let as_status =
        expect == Expect::Response || (expect == Expect::Either && line.starts_with(b"HTTP/"));
    let result = if as_status {
        context("status line (HTTP/1.1 200 OK)", parse_status_line)
            .map(StartLine::Status)
            .parse(line)
    } else {
        context("request line (GET / HTTP/1.1)", parse_request_line)
            .map(StartLine::Request)
            .parse(line)
    };
    match result {
        Ok((_, s)) => Ok(s),
        Err(nom::Err::Error(e) | nom::Err::Failure(e)) => Err(e),
        Err(nom::Err::Incomplete(_)) => Err(ParseError::new(line.len(), "a whole start line")),
    }
}

/// The header section after the start line, up to and including its blank line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Block<'a> {
    /// The field lines (no blank line).
    pub headers: Headers<'a>,
    /// Some line ended with a bare LF.
    pub bare_lf: bool,
    /// Some line was an obsolete fold.
    pub obs_fold: bool,
    /// A start line came where the blank line should be; the block stops before it.
    pub missing_blank_line: bool,
}

/// Header field lines up to the blank line (RFC 9112 §5), streaming. Also parses a trailer
/// section (RFC 9112 §7.1.2).
pub(crate) fn parse_header_block(input: &[u8]) -> IResult<&[u8], Block<'_>, ParseError> {
    let mut rest = input;
    let mut bare_lf = false;
    let mut obs_fold = false;
    loop {
        let line_start = rest;
        let (after, (line, lf)) = parse_line(rest)?;
        let consumed = input.len() - line_start.len();
        let block = |end: usize| Headers::new(input.get(..end).unwrap_or_default());
        if line.is_empty() {
            return Ok((
                after,
                Block {
                    headers: block(consumed),
                    bare_lf: bare_lf || lf,
                    obs_fold,
                    missing_blank_line: false,
                },
            ));
        }
        let fail = |at_in_line: usize, expected| {
            nom::Err::Error(ParseError::new(
                line_start.len().saturating_sub(at_in_line),
                expected,
            ))
        };
        match line.first() {
            Some(b' ' | b'\t') => obs_fold = true,
            _ => match line.iter().position(|&b| b == b':') {
                Some(colon) => {
                    let name = line.get(..colon).unwrap_or_default();
                    if let Some(bad) = name.iter().position(|&b| !is_tchar(b)) {
                        return Err(fail(bad, "field name followed directly by a colon"));
                    }
                    if name.is_empty() {
                        return Err(fail(0, "field name before the colon"));
                    }
                }
                None if is_start_line(line) => {
                    // RFC 9112 §2.1: the head ends with an empty line. A start line here means
                    // it was left out.
                    return Ok((
                        line_start,
                        Block {
                            headers: block(consumed),
                            bare_lf,
                            obs_fold,
                            missing_blank_line: true,
                        },
                    ));
                }
                None => {
                    return Err(fail(
                        0,
                        "header field (name: value) or the blank line that ends the headers",
                    ));
                }
            },
        }
        bare_lf |= lf;
        rest = after;
    }
}

/// True when a whole line (no line ending) is a request line or a status line.
fn is_start_line(line: &[u8]) -> bool {
    parse_start_line(line, Expect::Either).is_ok()
}

/// A chunk-size line (RFC 9112 §7.1), streaming.
pub(crate) fn parse_chunk_line(input: &[u8]) -> IResult<&[u8], ChunkLine<'_>, ParseError> {
    let (after, (line, bare_lf)) = parse_line(input)?;
    let line_offset_err = |remaining_in_line: usize, expected| {
        nom::Err::Error(ParseError::new(
            remaining_in_line.saturating_add(input.len() - line.len()),
            expected,
        ))
    };
    let (ext, digits) = take_while1::<_, _, ParseError>(|b: u8| b.is_ascii_hexdigit())
        .parse(line)
        .map_err(|_| line_offset_err(line.len(), "hexadecimal chunk size"))?;
    if digits.len() > MAX_CHUNK_SIZE_DIGITS {
        return Err(line_offset_err(
            line.len(),
            "chunk size that fits in 64 bits",
        ));
    }
    let size = digits.iter().fold(0u64, |acc, &d| {
        let v = match d {
            b'0'..=b'9' => d - b'0',
            b'a'..=b'f' => d - b'a' + 10,
            _ => d.saturating_sub(b'A').saturating_add(10),
        };
        (acc << 4) | u64::from(v)
    });
    // BWS before the ';' of an extension is allowed (RFC 9112 §7.1.1).
    let ext_start = ext
        .iter()
        .position(|&b| b != b' ' && b != b'\t')
        .unwrap_or(ext.len());
    let extensions = ext.get(ext_start..).unwrap_or_default();
    if !extensions.is_empty() && extensions.first() != Some(&b';') {
        return Err(line_offset_err(
            ext.len(),
            "';' chunk extension or end of line after the chunk size",
        ));
    }
    Ok((
        after,
        ChunkLine {
            size,
            extensions,
            len: input.len() - after.len(),
            bare_lf,
        },
    ))
}

/// The line ending after a chunk's data (RFC 9112 §7.1), streaming; returns whether it was a
/// bare LF.
pub(crate) fn parse_chunk_data_end(input: &[u8]) -> IResult<&[u8], bool, ParseError> {
    let wrong = || nom::Err::Error(ParseError::new(input.len(), "CRLF after the chunk data"));
    match input {
        [b'\n', rest @ ..] => Ok((rest, true)),
        [b'\r', b'\n', rest @ ..] => Ok((rest, false)),
        [b'\r'] => Err(nom::Err::Incomplete(nom::Needed::new(1))),
        [] => Err(nom::Err::Incomplete(nom::Needed::new(2))),
        _ => Err(wrong()),
    }
}

/// Checks an incomplete first line: `Some(expected)` when no continuation can make it a start
/// line of the expected kind, `None` when it may still become one.
fn start_prefix_error(bytes: &[u8], expect: Expect) -> Option<&'static str> {
    let status_ok = status_prefix(bytes) != Some(false);
    let request_ok = request_prefix_ok(bytes);
    match expect {
        Expect::Response if !status_ok => Some("status line (HTTP/1.1 200 OK)"),
        Expect::Request if !request_ok => Some("request line (GET / HTTP/1.1)"),
        Expect::Either if !status_ok && !request_ok => Some("request or status line"),
        _ => None,
    }
}

/// `Some(true)` when `bytes` starts with `HTTP/1.x ddd`, `Some(false)` when it cannot, `None`
/// when it is a consistent prefix that is too short to tell.
pub(super) fn status_prefix(bytes: &[u8]) -> Option<bool> {
    // H T T P / 1 . d SP d d d
    const PATTERN: &[u8] = b"HTTP/1.# ###";
    for (i, &p) in PATTERN.iter().enumerate() {
        let b = bytes.get(i)?;
        let ok = if p == b'#' {
            b.is_ascii_digit()
        } else {
            *b == p
        };
        if !ok {
            return Some(false);
        }
    }
    Some(true)
}

/// True when `bytes` (no LF yet) could still begin a request line.
pub(super) fn request_prefix_ok(bytes: &[u8]) -> bool {
    match bytes.iter().position(|&b| b == b' ') {
        Some(0) => false,
        Some(sp) => bytes
            .get(..sp)
            .is_some_and(|m| m.iter().all(|&b| is_tchar(b))),
        None => bytes.iter().all(|&b| is_tchar(b)),
    }
}

/// Decodes a request or response head at the start of `bytes`.
///
/// Returns `Ok(None)` when the bytes so far are a valid beginning but the blank line has not
/// arrived yet.
///
/// # Errors
///
/// A [`ParseError`] when the bytes cannot begin an HTTP/1.x head; its
/// [`offset_in`](ParseError::offset_in)`(bytes.len())` is where the problem is.
pub fn decode_head(bytes: &[u8]) -> Result<Option<Head<'_>>, ParseError> {
    match parse_head(bytes) {
        Ok((_, head)) => Ok(Some(head)),
        Err(nom::Err::Incomplete(_)) => Ok(None),
        Err(nom::Err::Error(e) | nom::Err::Failure(e)) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::http::{ContentLength, TransferCoding};

    /// zeek-get.pcap frame 4: wget's request, one segment of 136 bytes.
    const ZEEK_GET_REQUEST: &[u8] = b"GET /download/CHANGES.bro-aux.txt HTTP/1.1\r\n\
        User-Agent: Wget/1.14 (darwin12.2.0)\r\n\
        Accept: */*\r\n\
        Host: bro.org\r\n\
        Connection: Keep-Alive\r\n\
        \r\n";

    /// zeek-get.pcap frame 6: the head of Apache's response (the body follows in the segment).
    const ZEEK_GET_RESPONSE_HEAD: &[u8] = b"HTTP/1.1 200 OK\r\n\
        Date: Thu, 07 Mar 2013 21:43:07 GMT\r\n\
        Server: Apache/2.4.3 (Fedora)\r\n\
        Last-Modified: Wed, 29 Aug 2012 23:49:27 GMT\r\n\
        ETag: \"1261-4c870358a6fc0\"\r\n\
        Accept-Ranges: bytes\r\n\
        Content-Length: 4705\r\n\
        Keep-Alive: timeout=5, max=100\r\n\
        Connection: Keep-Alive\r\n\
        Content-Type: text/plain; charset=UTF-8\r\n\
        \r\n";

    /// sv-http-event-chunk-input.pcap frame 5: a POST with bare-LF lines, chunk sizes followed by
    /// a space, chunk extensions on the last chunk, and two trailer fields.
    const SV_CHUNKED_POST: &[u8] = b"POST /qwe.asd HTTP/1.1\nHost: 127.0.0.1\n\
        Transfer-Encoding: chunked\nContent-Type: Application/binary\n\n\
        8 \ntototata\n4 \ntiti\n0 ; qwe3=asd3; zxc3=\"rt\"y3\"\n\
        trailehdr1: tralierdata1\ntrailehdr2: tralierdata2\n\n";

    fn head_of(bytes: &[u8]) -> Head<'_> {
        match parse_head(bytes) {
            Ok((_, h)) => h,
            other => panic!("head did not parse: {other:?}"),
        }
    }

    #[test]
    fn zeek_get_request_head_parses() {
        let (rest, h) = parse_request_head(ZEEK_GET_REQUEST).unwrap();
        assert!(rest.is_empty());
        let StartLine::Request(r) = h.start_line else {
            panic!("not a request")
        };
        assert_eq!(r.method, b"GET"); // method
        assert_eq!(r.target, b"/download/CHANGES.bro-aux.txt"); // request target
        assert_eq!(r.version, Version::HTTP_11); // HTTP/1.1
        assert_eq!(h.len, 136); // tcp.len of frame 4
        assert_eq!(h.headers.iter().count(), 4); // User-Agent, Accept, Host, Connection
        assert_eq!(h.headers.get("host"), Some(&b"bro.org"[..]));
        assert!(h.headers.has_token("Connection", "keep-alive"));
        assert!(!h.bare_lf && !h.obs_fold && !h.missing_blank_line);
    }

    #[test]
    fn zeek_get_response_head_parses() {
        let mut segment = ZEEK_GET_RESPONSE_HEAD.to_vec();
        segment.extend_from_slice(b"\n0.26 | 2012-08-24"); // first body bytes of frame 6
        let (rest, h) = parse_response_head(&segment).unwrap();
        assert_eq!(rest, b"\n0.26 | 2012-08-24");
        let StartLine::Status(s) = h.start_line else {
            panic!("not a response")
        };
        assert_eq!(s.code, 200);
        assert_eq!(s.reason, b"OK");
        assert_eq!(h.headers.content_length(), ContentLength::Valid(4705)); // http.content_length
        assert_eq!(
            h.headers.get("content-type"),
            Some(&b"text/plain; charset=UTF-8"[..])
        );
        assert_eq!(h.headers.transfer_coding(), TransferCoding::Absent);
    }

    #[test]
    fn every_prefix_of_a_head_is_incomplete_never_malformed() {
        for whole in [ZEEK_GET_REQUEST, ZEEK_GET_RESPONSE_HEAD, SV_CHUNKED_POST] {
            let head_len = head_of(whole).len;
            for n in 0..head_len {
                let r = parse_head(&whole[..n]);
                assert!(
                    matches!(r, Err(nom::Err::Incomplete(_))),
                    "prefix {n}: {r:?}"
                );
            }
        }
    }

    #[test]
    fn bare_lf_lines_are_accepted_and_flagged() {
        // zeek-methods.pcap stream 0: "OPTIONS * HTTP/1.1\nHost: www.google.com\n\n".
        let h = head_of(b"OPTIONS * HTTP/1.1\nHost: www.google.com\n\n");
        assert!(h.bare_lf);
        assert_eq!(h.len, 41);
        assert_eq!(h.headers.get("Host"), Some(&b"www.google.com"[..]));
    }

    #[test]
    fn invalid_request_lines_from_zeek_methods_name_the_problem_and_offset() {
        // (request bytes from zeek-methods.pcap, expected text, error offset)
        let cases: [(&[u8], &str, usize); 4] = [
            // stream 5: version cut after the dot; the minor digit is missing at offset 13
            (b"GET / HTTP/1.\nHost: x\n\n", "HTTP version (HTTP/1.1)", 13),
            // stream 3: no target or version; a space was expected after the method
            (b"OPTIONS\nHost: x\n\n", "one space after the method", 7),
            // stream 1: "HTTP/1.1" taken as the target, then no space and version
            (
                b"OPTIONS HTTP/1.1\nHost: x\n\n",
                "one space after the request target",
                16,
            ),
            // stream 7: "GET/" is not a method token
            (
                b"GET/ HTTP/1.1\nHost: x\n\n",
                "one space after the method",
                3,
            ),
        ];
        for (bytes, expected, offset) in cases {
            match parse_request_head(bytes) {
                Err(nom::Err::Error(e)) => {
                    assert_eq!(e.expected, expected, "{:?}", String::from_utf8_lossy(bytes));
                    assert_eq!(e.offset_in(bytes.len()), offset);
                }
                other => panic!("{:?}: {other:?}", String::from_utf8_lossy(bytes)),
            }
        }
    }

    #[test]
    fn status_line_variants() {
        // No reason phrase and no space: accepted (RFC 9112 §4).
        let h = head_of(b"HTTP/1.1 200\r\n\r\n");
        assert!(
            matches!(h.start_line, StartLine::Status(s) if s.code == 200 && s.reason.is_empty())
        );
        // Version 2.0 parses; flagging it is the caller's job.
        let h = head_of(b"HTTP/2.0 200 OK\r\n\r\n");
        assert!(!h.start_line.version().is_http1());
        // A four-digit code is not a status code.
        let e = parse_response_head(b"HTTP/1.1 2000 OK\r\n\r\n").unwrap_err();
        assert!(matches!(e, nom::Err::Error(e) if e.expected.starts_with("space or end")));
        // A student server that forgot the status line and began with a header.
        let e = parse_response_head(b"Content-Type: text/html\r\n\r\n").unwrap_err();
        assert!(matches!(e, nom::Err::Error(e) if e.expected == "HTTP version (HTTP/1.1)"));
        // ...which is detected from its first byte, without waiting for the line end.
        assert!(matches!(parse_response_head(b"C"), Err(nom::Err::Error(_))));
        assert!(matches!(
            parse_response_head(b"HTT"),
            Err(nom::Err::Incomplete(_))
        ));
    }

    #[test]
    fn obs_fold_and_missing_blank_line_are_flagged() {
        let h = head_of(b"GET / HTTP/1.1\r\nX-A: one\r\n two\r\nHost: h\r\n\r\n");
        assert!(h.obs_fold);
        assert_eq!(h.headers.get("x-a"), Some(&b"one\r\n two"[..]));
        // The next request line came where the blank line should be.
        let bytes = b"GET /a HTTP/1.1\r\nHost: h\r\nGET /b HTTP/1.1\r\n\r\n";
        let (rest, h) = parse_request_head(bytes).unwrap();
        assert!(h.missing_blank_line);
        assert_eq!(rest, b"GET /b HTTP/1.1\r\n\r\n");
        assert_eq!(h.headers.iter().count(), 1);
    }

    #[test]
    fn invalid_header_lines() {
        // Space before the colon (RFC 9112 §5.1), at offset 16 + 4.
        let bytes = b"GET / HTTP/1.1\r\nHost : h\r\n\r\n";
        let Err(nom::Err::Error(e)) = parse_request_head(bytes) else {
            panic!("should fail")
        };
        assert_eq!(e.expected, "field name followed directly by a colon");
        assert_eq!(e.offset_in(bytes.len()), 20);
        // A body line where the blank line was forgotten.
        let bytes = b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n<html>\r\n";
        let Err(nom::Err::Error(e)) = parse_response_head(bytes) else {
            panic!("should fail")
        };
        assert!(e.expected.starts_with("header field"));
        assert_eq!(e.offset_in(bytes.len()), 42);
    }

    #[test]
    fn chunk_lines_with_extensions() {
        // (line, size, extensions, bare LF)
        let cases: [(&[u8], u64, &[u8], bool); 4] = [
            (b"8 \n", 8, b"", true), // sv-http-event-chunk
            (
                b"0 ; qwe3=asd3; zxc3=\"rt\"y3\"\n",
                0,
                b"; qwe3=asd3; zxc3=\"rt\"y3\"",
                true,
            ), // same
            (b"1A;name=value\r\n", 26, b";name=value", false),
            (b"ffffffffffffffff\r\n", u64::MAX, b"", false),
        ];
        for (line, size, ext, bare_lf) in cases {
            let (rest, c) = parse_chunk_line(line).unwrap();
            assert!(rest.is_empty());
            assert_eq!(
                (c.size, c.extensions, c.bare_lf, c.len),
                (size, ext, bare_lf, line.len())
            );
            for n in 0..line.len() {
                assert!(matches!(
                    parse_chunk_line(&line[..n]),
                    Err(nom::Err::Incomplete(_))
                ));
            }
        }
        for bad in [
            &b"xyz\r\n"[..],
            b"10000000000000000\r\n",
            b"5 x\r\n",
            b"\r\n",
        ] {
            assert!(
                matches!(parse_chunk_line(bad), Err(nom::Err::Error(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn chunk_data_end_and_trailers() {
        assert_eq!(parse_chunk_data_end(b"\r\nX").unwrap(), (&b"X"[..], false));
        assert_eq!(parse_chunk_data_end(b"\nX").unwrap(), (&b"X"[..], true));
        assert!(matches!(
            parse_chunk_data_end(b"\r"),
            Err(nom::Err::Incomplete(_))
        ));
        assert!(matches!(
            parse_chunk_data_end(b"ab"),
            Err(nom::Err::Error(_))
        ));
        let (rest, b) =
            parse_header_block(b"trailehdr1: tralierdata1\ntrailehdr2: tralierdata2\n\nNEXT")
                .unwrap();
        assert_eq!(rest, b"NEXT");
        assert_eq!(b.headers.get("trailehdr2"), Some(&b"tralierdata2"[..]));
        assert!(b.bare_lf);
    }

    #[test]
    fn decode_head_reports_need_more_and_errors() {
        assert!(matches!(decode_head(b"GET / HTTP/1.1\r\n"), Ok(None)));
        assert!(matches!(decode_head(ZEEK_GET_REQUEST), Ok(Some(h)) if h.len == 136));
        assert!(decode_head(b"\x00\x01").is_err());
    }

    #[test]
    fn no_panic_on_any_prefix_of_odd_bytes() {
        let odd: &[u8] = b"GET \xff\xfe HTTP/9.9\r\n:\r\n \r\nX\t: y\r\n\r\n\r\nzz";
        for n in 0..=odd.len() {
            let _ = parse_head(&odd[..n]);
            let _ = parse_chunk_line(&odd[..n]);
            let _ = super::super::detect::classify(&odd[..n]);
        }
    }
}
