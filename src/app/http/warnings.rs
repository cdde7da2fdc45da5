//! Every warning the HTTP analysis gives, with its text: one table, so that a sentence is
//! written once and each kind keeps its wording across commands.
//!
//! Each function returns the [`Warning`] for one finding; the conversation decides which
//! transaction it belongs to.

use super::framer::{BodyKind, Issue, IssueKind, NoBody};
use super::types::Head;
use crate::units::Direction;

/// Kinds of warning, stable for grading rubrics and JSON consumers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    /// Lines end with LF instead of CRLF.
    BareLf,
    /// A header value was folded onto the next line.
    ObsoleteLineFolding,
    /// The blank line after the headers is missing.
    MissingBlankLine,
    /// A keep-alive response without Content-Length or chunked coding.
    KeepAliveWithoutLength,
    /// The connection closed before Content-Length body bytes were sent.
    BodyShorterThanContentLength,
    /// More bytes followed the Content-Length body than it announced.
    BodyLongerThanContentLength,
    /// Two different Content-Length values.
    ConflictingContentLength,
    /// A Content-Length that is not a number.
    InvalidContentLength,
    /// Both Content-Length and Transfer-Encoding.
    ContentLengthWithTransferEncoding,
    /// An HTTP/1.1 request without Host.
    MissingHost,
    /// A request line that does not parse.
    InvalidRequestLine,
    /// A status line that does not parse.
    InvalidStatusLine,
    /// A version other than HTTP/1.0 or HTTP/1.1.
    UnsupportedVersion,
    /// A malformed header line.
    InvalidHeaderLine,
    /// A head longer than the limit.
    HeadTooLong,
    /// The response started before the request was complete.
    ResponseBeforeRequestComplete,
    /// The connection closed inside a chunked body.
    ClosedMidBody,
    /// A malformed chunked body.
    InvalidChunkedBody,
    /// A response to HEAD (or a 204/304) carried a body.
    BodyNotAllowed,
    /// A request that got no response.
    MissingResponse,
    /// A response without a request.
    MissingRequest,
    /// Bytes lost in the capture.
    CaptureGap,
    /// Bytes on the wire that the capture cut off (snap length): sent, content unknown.
    NotCaptured,
    /// Bytes that were skipped to find the next response.
    SkippedBytes,
    /// The body could not be written or decoded.
    BodyExtraction,
    /// Too many requests were waiting for responses: this one was reported before its
    /// response came (a bound on memory).
    InFlightLimit,
}

/// One finding on a transaction, with a sentence that teaches what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Warning {
    /// Stable kind.
    pub kind: WarningKind,
    /// Explanation for a student.
    pub message: String,
}

impl Warning {
    fn new(kind: WarningKind, message: impl Into<String>) -> Self {
        Warning {
            kind,
            message: message.into(),
        }
    }
}

/// `request` or `response`: what a direction carries.
fn what(direction: Direction) -> &'static str {
    match direction {
        Direction::ClientToServer => "request",
        Direction::ServerToClient => "response",
    }
}

/// An HTTP/1.1 request without Host.
pub fn missing_host() -> Warning {
    Warning::new(
        WarningKind::MissingHost,
        "HTTP/1.1 request without a Host header: every HTTP/1.1 request must name the host it \
         is for (RFC 9112 §3.2)",
    )
}

/// The response began before the request had been fully sent.
pub fn response_before_request_complete() -> Warning {
    Warning::new(
        WarningKind::ResponseBeforeRequestComplete,
        "the server started its response before the request was complete: read the whole \
         request (headers up to the blank line, then the body) before answering",
    )
}

/// A keep-alive response whose body can only end when the connection closes.
pub fn keep_alive_without_length() -> Warning {
    Warning::new(
        WarningKind::KeepAliveWithoutLength,
        "response has neither Content-Length nor Transfer-Encoding: chunked on a keep-alive \
         connection, so the client can only find the end of the body when the server closes \
         the connection (RFC 9112 §6.3); send Content-Length or Connection: close",
    )
}

/// A request that never got its response.
pub fn missing_response() -> Warning {
    Warning::new(
        WarningKind::MissingResponse,
        "no response to this request: the connection closed (or the capture ended) before the \
         server answered",
    )
}

/// A response whose request is not in the capture.
pub fn missing_request() -> Warning {
    Warning::new(
        WarningKind::MissingRequest,
        "response without a request: the request is missing from the capture (or the server \
         spoke first)",
    )
}

/// More than `limit` transactions were in flight, on this connection (`per_connection`) or on
/// all of them together: this one is reported before its response.
pub fn in_flight_limit(limit: usize, per_connection: bool) -> Warning {
    let scope = if per_connection {
        "on this connection"
    } else {
        "on all connections together"
    };
    Warning::new(
        WarningKind::InFlightLimit,
        format!(
            "more than {limit} requests were waiting for their responses {scope}, so this one \
             was reported before its response came (pcaplab bounds the transactions it holds); \
             its response, if it came, is not shown with it"
        ),
    )
}

/// The body file could not be created.
pub fn body_file_not_created(error: &dyn std::fmt::Display) -> Warning {
    Warning::new(
        WarningKind::BodyExtraction,
        format!("could not create the body file: {error}"),
    )
}

/// Writing the body file failed part-way.
pub fn body_extraction_stopped(error: &dyn std::fmt::Display) -> Warning {
    Warning::new(
        WarningKind::BodyExtraction,
        format!("body extraction stopped: {error}"),
    )
}

/// The body file could not be finished (given its final name).
pub fn body_file_not_finished(error: &dyn std::fmt::Display) -> Warning {
    Warning::new(
        WarningKind::BodyExtraction,
        format!("could not finish the body file: {error}"),
    )
}

/// The body did not arrive whole: what arrived stays in `file` (a `.part` file).
pub fn body_incomplete(file: &str) -> Warning {
    Warning::new(
        WarningKind::BodyExtraction,
        format!(
            "the body did not arrive whole, so the file keeps the name {file}: it holds the \
             bytes that arrived"
        ),
    )
}

/// Writing or decoding the body stopped early (`stop` says why); what was written is in `file`.
pub fn body_stopped(stop: &crate::extract::Stop, file: &str) -> Warning {
    let hint = match stop {
        crate::extract::Stop::Limit { .. } => {
            " (a limit against compression bombs; raise it with --max-decoded-ratio or \
             --max-decoded-size)"
        }
        _ => "",
    };
    Warning::new(
        WarningKind::BodyExtraction,
        format!("{stop}{hint}; the bytes written before the stop are in {file}"),
    )
}

/// A file named `wanted` existed already in the extraction directory; the body went to `used`.
pub fn body_file_clash(wanted: &str, used: &str) -> Warning {
    Warning::new(
        WarningKind::BodyExtraction,
        format!(
            "a file named {wanted} already exists in the extraction directory and was left \
             alone; the body was written as {used}"
        ),
    )
}

/// `len` bytes of the messages of `direction` were cut off by the capture's snap length;
/// `head_cut` when that cut the head itself short.
pub fn not_captured(direction: Direction, len: u64, head_cut: bool) -> Warning {
    let (kind, message) = not_captured_message(direction, len, head_cut);
    Warning { kind, message }
}

fn not_captured_message(direction: Direction, len: u64, head_cut: bool) -> (WarningKind, String) {
    let what = what(direction);
    let head = if head_cut {
        format!(
            "the {what} head was cut short, so only its start line and the header lines before \
             the cut are known; "
        )
    } else {
        String::new()
    };
    (
        WarningKind::NotCaptured,
        format!(
            "{head}{} of the {what} {} sent but not captured: the capture's snap \
             length cut the packets (capture again without a small snaplen, e.g. tcpdump -s 0, \
             to see them)",
            crate::units::plural(len, "byte", "bytes"),
            crate::units::noun(len, "was", "were")
        ),
    )
}

/// Warnings that come from how a head was written (`what` is `request` or `response`).
pub fn head(head: &Head<'_>, direction: Direction, out: &mut Vec<Warning>) {
    let what = what(direction);
    if head.bare_lf {
        out.push(Warning::new(
            WarningKind::BareLf,
            format!(
                "{what} lines end with LF (\\n) only; HTTP requires CRLF (\\r\\n) at the end \
                 of the start line and of each header line (RFC 9112 §2.2)"
            ),
        ));
    }
    if head.obs_fold {
        out.push(Warning::new(
            WarningKind::ObsoleteLineFolding,
            format!(
                "a {what} header value continues on a line starting with a space (obsolete \
                 line folding, RFC 9112 §5.2); put each header on one line"
            ),
        ));
    }
    let version = head.start_line.version();
    if !version.is_http1() {
        out.push(Warning::new(
            WarningKind::UnsupportedVersion,
            format!("{what} version {version} is not HTTP/1.0 or HTTP/1.1"),
        ));
    }
}

/// True when a framing issue concerns the previous message (the one that ended before the
/// issue) rather than the one being read: bytes after a message that announced its length, or
/// junk skipped before the next response.
pub fn concerns_previous_message(kind: &IssueKind) -> bool {
    matches!(
        kind,
        IssueKind::BytesAfterMessage {
            previous: BodyKind::Length(_)
                | BodyKind::None(NoBody::HeadRequest)
                | BodyKind::None(NoBody::Status(_)),
            ..
        } | IssueKind::Resynced { .. }
    )
}

/// The warning for a framing issue in `direction` (see [`concerns_previous_message`] for the
/// transaction it belongs to).
pub fn from_issue(direction: Direction, issue: &Issue) -> Warning {
    let what = what(direction);
    let (kind, message) = match &issue.kind {
        IssueKind::InvalidStartLine { expected } => {
            let (kind, example, line) = match direction {
                Direction::ClientToServer => (
                    WarningKind::InvalidRequestLine,
                    "GET /path HTTP/1.1",
                    "request",
                ),
                Direction::ServerToClient => {
                    (WarningKind::InvalidStatusLine, "HTTP/1.1 200 OK", "status")
                }
            };
            (
                kind,
                format!(
                    "the {what} does not start with a valid {line} line like `{example}` \
                     (expected {expected} at stream offset {})",
                    issue.offset
                ),
            )
        }
        IssueKind::BytesAfterMessage { previous, expected } => match previous {
            BodyKind::Length(n) => (
                WarningKind::BodyLongerThanContentLength,
                format!(
                    "more bytes followed the {what} body than its Content-Length of {n}, \
                     and they are not a valid next message (expected {expected}): \
                     Content-Length must count the bytes of the body as sent (UTF-8 \
                     characters may take several bytes)"
                ),
            ),
            BodyKind::None(NoBody::HeadRequest) => (
                WarningKind::BodyNotAllowed,
                "the response to a HEAD request carried a body: a HEAD response has \
                 the headers of a GET response but never a body (RFC 9110 §9.3.2)"
                    .to_string(),
            ),
            BodyKind::None(NoBody::Status(code)) => (
                WarningKind::BodyNotAllowed,
                format!(
                    "a {code} response carried a body, which that status never has (RFC 9112 §6.3)"
                ),
            ),
            _ => (
                match direction {
                    Direction::ClientToServer => WarningKind::InvalidRequestLine,
                    Direction::ServerToClient => WarningKind::InvalidStatusLine,
                },
                format!(
                    "bytes after the previous {what} are not a valid start line \
                     (expected {expected} at stream offset {})",
                    issue.offset
                ),
            ),
        },
        IssueKind::InvalidHeaderLine { expected } => (
            WarningKind::InvalidHeaderLine,
            format!(
                "invalid {what} header line at stream offset {} (expected {expected}); \
                 each header is `Name: value` and the headers end with an empty line",
                issue.offset
            ),
        ),
        IssueKind::MissingBlankLine => (
            WarningKind::MissingBlankLine,
            format!(
                "the {what} headers are not followed by a blank line: the next request or \
                 status line came first; end the headers with an empty line (CRLF CRLF)"
            ),
        ),
        IssueKind::TruncatedHead => (
            WarningKind::MissingBlankLine,
            format!(
                "the connection closed before the blank line that ends the {what} headers: \
                 end the headers with an empty line (CRLF CRLF)"
            ),
        ),
        IssueKind::HeadTooLong { limit } => (
            WarningKind::HeadTooLong,
            format!("{what} head longer than {limit} bytes without the blank line that ends it"),
        ),
        IssueKind::InvalidChunk { expected } => (
            WarningKind::InvalidChunkedBody,
            format!(
                "invalid chunked {what} body at stream offset {} (expected {expected}); each \
                 chunk is `<hex size>CRLF<data>CRLF` and the body ends with `0CRLFCRLF`",
                issue.offset
            ),
        ),
        IssueKind::InvalidContentLength => (
            WarningKind::InvalidContentLength,
            format!("the {what} Content-Length is not a decimal number"),
        ),
        IssueKind::ConflictingContentLength { first, other } => (
            WarningKind::ConflictingContentLength,
            format!(
                "the {what} has two different Content-Length values ({first} and {other}); \
                 send exactly one"
            ),
        ),
        IssueKind::ContentLengthWithTransferEncoding => (
            WarningKind::ContentLengthWithTransferEncoding,
            format!(
                "the {what} has both Content-Length and Transfer-Encoding; receivers must \
                 ignore Content-Length (RFC 9112 §6.3), so send only one"
            ),
        ),
        IssueKind::UnframeableRequestCoding => (
            WarningKind::InvalidChunkedBody,
            "the request's Transfer-Encoding does not end in chunked, so the server cannot \
             tell where its body ends"
                .to_string(),
        ),
        IssueKind::BareLfInChunked => (
            WarningKind::BareLf,
            format!("lines of the chunked {what} body end with LF only instead of CRLF"),
        ),
        IssueKind::TruncatedBody { expected, received } => (
            WarningKind::BodyShorterThanContentLength,
            format!(
                "the connection closed after {received} of the {expected} {what} body bytes \
                 announced by Content-Length: the body sent is shorter than Content-Length"
            ),
        ),
        IssueKind::TruncatedChunked { received } => (
            WarningKind::ClosedMidBody,
            format!(
                "the connection closed in the middle of the chunked {what} body (after \
                 {}, before the last `0` chunk)",
                crate::units::plural(*received, "byte", "bytes")
            ),
        ),
        IssueKind::Gap { len, .. } => (
            WarningKind::CaptureGap,
            format!(
                "{} of the {what} {} not captured",
                crate::units::plural(*len, "byte", "bytes"),
                crate::units::noun(*len, "was", "were")
            ),
        ),
        IssueKind::NotCaptured { len, .. } => not_captured_message(direction, *len, false),
        IssueKind::Resynced { skipped } => (
            WarningKind::SkippedBytes,
            format!(
                "skipped {} of the server's data that {} not HTTP, up to the next response",
                crate::units::plural(*skipped, "byte", "bytes"),
                crate::units::noun(*skipped, "was", "were")
            ),
        ),
    };
    Warning { kind, message }
}
