//! HTTP/1.x message framing over one TCP conversation (RFC 9112 §6): where each request and
//! response starts and ends, however the stream was cut into segments.
//!
//! Owns body-length rules (Content-Length, chunked with extensions and trailers, close-delimited,
//! no body for HEAD responses, 1xx, 204 and 304, tunnels after 101 and CONNECT), pipelining and
//! resynchronisation. Does not own the byte syntax (`parser`) nor request/response pairing
//! (`conversation`). In: in-order stream bytes per direction. Out: [`Event`]s (message begin,
//! parsed head, de-chunked body bytes, message end, issues), or plain [`Message`]s and
//! [`FramingIssue`]s through the [`Framer`] trait.
//!
//! Memory: a framer keeps only the bytes of the head, chunk-size line or trailer section it is
//! still reading (bounded by [`DEFAULT_HEAD_LIMIT`] and [`CHUNK_LINE_LIMIT`]), never a body.
//!
//! ```
//! use pcaplab::flow::Direction;
//! use pcaplab::framing::{Framer, FramerOutput};
//! use pcaplab::app::http::ConversationFramer;
//!
//! let mut conv = ConversationFramer::new();
//! let mut out = FramerOutput::default();
//! conv.direction(Direction::ClientToServer)
//!     .feed(0, b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\n", &mut out);
//! // The response to HEAD has no body even though it announces 5 bytes.
//! conv.direction(Direction::ServerToClient)
//!     .feed(0, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", &mut out);
//! assert_eq!(out.messages.len(), 2);
//! assert!(out.messages.iter().all(|m| m.complete));
//! ```

use std::collections::VecDeque;

use super::parser::{
    parse_chunk_data_end, parse_chunk_line, parse_header_block, parse_request_head,
    parse_response_head,
};
use super::types::{ContentLength, Head, StartLine, TransferCoding};
use crate::app::ParseError;
use crate::framing::{Framer, FramerOutput, FramingIssue, Message};
use crate::units::Direction;

/// Default bound on a message head (start line + header fields), in bytes. Longer heads are
/// reported as [`IssueKind::HeadTooLong`] and framing of that direction stops.
pub const DEFAULT_HEAD_LIMIT: usize = 64 * 1024;
/// Bound on one chunk-size line, extensions included.
pub const CHUNK_LINE_LIMIT: usize = 4096;
/// Requests waiting for a response that are remembered (for HEAD / CONNECT); more are counted
/// but treated as plain requests.
const MAX_PENDING_REQUESTS: usize = 4096;
/// What a status line starts with; the response framer resynchronises on it.
const STATUS_PREFIX: &[u8] = b"HTTP/1.";

/// Which messages a direction carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Client to server: requests.
    Requests,
    /// Server to client: responses.
    Responses,
}

impl Role {
    /// The role of a conversation direction.
    pub fn of(direction: Direction) -> Self {
        match direction {
            Direction::ClientToServer => Role::Requests,
            Direction::ServerToClient => Role::Responses,
        }
    }
}

/// Why a message has no body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoBody {
    /// A request without Content-Length or Transfer-Encoding (RFC 9112 §6.3 item 7).
    NoLength,
    /// The response to a HEAD request (RFC 9110 §9.3.2).
    HeadRequest,
    /// A 1xx, 204 or 304 response (RFC 9112 §6.3 item 1).
    Status(u16),
    /// The blank line after the headers is missing and a start line followed at once.
    MissingBlankLine,
}

/// How the body of a message is delimited (RFC 9112 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BodyKind {
    /// No body.
    None(NoBody),
    /// Exactly this many bytes (Content-Length).
    Length(u64),
    /// Chunked transfer coding.
    Chunked,
    /// Everything until the server closes the connection (a response without a length).
    UntilClose,
    /// 101 Switching Protocols or a 2xx answer to CONNECT: the rest of the connection is not
    /// HTTP and is not framed.
    Tunnel,
}

/// A framing problem, with the stream offset it was found at.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Issue {
    /// Stream offset in the direction.
    pub offset: u64,
    /// Index of the message it concerns, when there is one.
    pub message: Option<u64>,
    /// What went wrong.
    pub kind: IssueKind,
}

/// The framing problems the HTTP framer reports.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum IssueKind {
    /// The first message of the direction (or the first after a gap) does not start with a
    /// valid start line.
    InvalidStartLine {
        /// What the parser expected.
        expected: &'static str,
    },
    /// Bytes right after the end of a message are not a valid start line: the previous
    /// message's length was probably wrong (or a HEAD/204/304 response carried a body).
    BytesAfterMessage {
        /// How the previous message's end was determined.
        previous: BodyKind,
        /// What the parser expected.
        expected: &'static str,
    },
    /// A header line is malformed.
    InvalidHeaderLine {
        /// What the parser expected.
        expected: &'static str,
    },
    /// A start line came where the blank line ending the headers should be.
    MissingBlankLine,
    /// The head is longer than the limit.
    HeadTooLong {
        /// The limit in bytes.
        limit: usize,
    },
    /// A chunk-size line or the CRLF after chunk data is malformed.
    InvalidChunk {
        /// What the parser expected.
        expected: &'static str,
    },
    /// Content-Length is not a decimal number.
    InvalidContentLength,
    /// Two Content-Length values differ; framing uses the first.
    ConflictingContentLength {
        /// The first value (used).
        first: u64,
        /// The differing value.
        other: u64,
    },
    /// Both Transfer-Encoding and Content-Length: Transfer-Encoding wins (RFC 9112 §6.3 item 3).
    ContentLengthWithTransferEncoding,
    /// A request whose final transfer coding is not chunked cannot be framed (RFC 9112 §6.3 item 4).
    UnframeableRequestCoding,
    /// A chunk line ended with a bare LF.
    BareLfInChunked,
    /// The direction ended before the blank line that ends the headers.
    TruncatedHead,
    /// The direction ended before Content-Length bytes of body arrived.
    TruncatedBody {
        /// The Content-Length.
        expected: u64,
        /// Body bytes that arrived (lost bytes included).
        received: u64,
    },
    /// The direction ended inside a chunked body (before the last chunk and trailers).
    TruncatedChunked {
        /// Body bytes that arrived.
        received: u64,
    },
    /// Bytes were never captured.
    Gap {
        /// Number of bytes lost.
        len: u64,
        /// True when framing could go on (the gap was inside a body of known length).
        resynced: bool,
    },
    /// Bytes were on the wire but cut off by the capture (snaplen): they exist, their content
    /// is unknown.
    NotCaptured {
        /// Number of bytes not captured.
        len: u64,
        /// True when framing could go on (inside a body of known length).
        resynced: bool,
    },
    /// Bytes were skipped up to the next status line.
    Resynced {
        /// Bytes skipped.
        skipped: u64,
    },
}

impl std::fmt::Display for IssueKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IssueKind::InvalidStartLine { expected } => {
                write!(f, "invalid start line: expected {expected}")
            }
            IssueKind::BytesAfterMessage { previous, expected } => {
                let why = match previous {
                    BodyKind::Length(n) => {
                        format!("the previous message declared Content-Length {n}")
                    }
                    BodyKind::None(NoBody::HeadRequest) => {
                        "the previous response answered a HEAD request and must not have a body"
                            .to_string()
                    }
                    BodyKind::None(NoBody::Status(code)) => {
                        format!("the previous response has status {code}, which never has a body")
                    }
                    BodyKind::None(_) => "the previous message had no body".to_string(),
                    BodyKind::Chunked => {
                        "the previous message ended with its last chunk".to_string()
                    }
                    BodyKind::UntilClose | BodyKind::Tunnel => {
                        "the previous message ended".to_string()
                    }
                };
                write!(
                    f,
                    "bytes after the end of the previous message are not a valid start line \
                     (expected {expected}); {why}"
                )
            }
            IssueKind::InvalidHeaderLine { expected } => {
                write!(f, "invalid header line: expected {expected}")
            }
            IssueKind::MissingBlankLine => write!(
                f,
                "a start line came before the blank line that must end the headers"
            ),
            IssueKind::HeadTooLong { limit } => {
                write!(
                    f,
                    "message head longer than {limit} bytes without a blank line"
                )
            }
            IssueKind::InvalidChunk { expected } => {
                write!(f, "invalid chunked body: expected {expected}")
            }
            IssueKind::InvalidContentLength => write!(f, "content-length is not a decimal number"),
            IssueKind::ConflictingContentLength { first, other } => write!(
                f,
                "conflicting content-length values {first} and {other}; framing uses {first}"
            ),
            IssueKind::ContentLengthWithTransferEncoding => write!(
                f,
                "both transfer-encoding and content-length; transfer-encoding wins"
            ),
            IssueKind::UnframeableRequestCoding => write!(
                f,
                "request transfer-encoding does not end in chunked, so its length is unknown"
            ),
            IssueKind::BareLfInChunked => write!(f, "chunked body line ends with a bare LF"),
            IssueKind::TruncatedHead => write!(
                f,
                "stream ended before the blank line that ends the headers"
            ),
            IssueKind::TruncatedBody { expected, received } => write!(
                f,
                "stream ended after {received} of {expected} body bytes (content-length)"
            ),
            IssueKind::TruncatedChunked { received } => write!(
                f,
                "stream ended inside a chunked body after {}, before the last chunk",
                crate::units::plural(*received, "byte", "bytes")
            ),
            IssueKind::Gap {
                len,
                resynced: true,
            } => {
                write!(f, "{} inside a body", Missing::Lost.bytes(*len))
            }
            IssueKind::Gap {
                len,
                resynced: false,
            } => {
                write!(f, "{}; framing stops", Missing::Lost.bytes(*len))
            }
            IssueKind::NotCaptured {
                len,
                resynced: true,
            } => write!(f, "{} inside a body", Missing::NotCaptured.bytes(*len)),
            IssueKind::NotCaptured {
                len,
                resynced: false,
            } => write!(
                f,
                "{}; framing resumes at the next message found",
                Missing::NotCaptured.bytes(*len)
            ),
            IssueKind::Resynced { skipped } => {
                write!(
                    f,
                    "skipped {} up to the next status line",
                    crate::units::plural(*skipped, "byte", "bytes")
                )
            }
        }
    }
}

/// What the framer reports while it reads a direction.
#[derive(Debug)]
pub enum Event<'d> {
    /// The first byte of message `index` is at `offset`.
    Begin {
        /// Message index in the direction.
        index: u64,
        /// Stream offset of its first byte.
        offset: u64,
    },
    /// The head of message `index` was parsed.
    Head {
        /// Message index in the direction.
        index: u64,
        /// Stream offset of the head's first byte.
        offset: u64,
        /// The head, borrowing the stream bytes (or the framer's head buffer).
        head: &'d Head<'d>,
        /// How the body is delimited.
        body: BodyKind,
        /// True when the head was cut short by bytes missing from the capture (lost or cut off
        /// by the snap length): `head` holds the start line and the whole header lines before
        /// the cut, and the message ends (incomplete) right after this event.
        cut: bool,
    },
    /// De-chunked body bytes of message `index`, in order.
    Body {
        /// Message index in the direction.
        index: u64,
        /// The bytes.
        data: &'d [u8],
    },
    /// Message ended (complete or not).
    End {
        /// Its range and completeness.
        message: Message,
        /// Body bytes (de-chunked; bytes lost in gaps included).
        body_bytes: u64,
    },
    /// A framing problem.
    Issue(Issue),
}

pub use crate::framing::Missing;

/// The request kinds a response framer must know about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RequestKind {
    Head,
    Connect,
    Other,
}

/// Requests sent but not yet answered, oldest first: tells the response framer which responses
/// answer HEAD (no body) or CONNECT (tunnel).
#[derive(Debug, Default, Clone)]
pub struct MethodQueue {
    pending: VecDeque<RequestKind>,
    /// Requests not remembered because the queue was full.
    overflow: u64,
}

impl MethodQueue {
    /// Records a request by its method.
    pub fn push_request(&mut self, method: &[u8]) {
        if self.pending.len() >= MAX_PENDING_REQUESTS {
            self.overflow = self.overflow.saturating_add(1);
            return;
        }
        self.pending.push_back(match method {
            b"HEAD" => RequestKind::Head,
            b"CONNECT" => RequestKind::Connect,
            _ => RequestKind::Other,
        });
    }

    /// Takes the oldest unanswered request for a final response; `None` when no request is
    /// waiting (a response without a request is framed as if it answered a GET).
    fn pop(&mut self) -> Option<RequestKind> {
        let r = self.pending.pop_front();
        if r.is_none() && self.overflow > 0 {
            self.overflow -= 1;
            return Some(RequestKind::Other);
        }
        r
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between messages; `buf` may hold the first bytes of the next one.
    Idle,
    /// Reading a head; `buf` holds its bytes so far.
    Head,
    /// Content-Length body.
    Length { remaining: u64 },
    /// Reading a chunk-size line.
    ChunkLine,
    /// Inside chunk data.
    ChunkData { remaining: u64 },
    /// Expecting the CRLF after chunk data.
    ChunkDataEnd,
    /// Reading the trailer section after the last chunk.
    Trailers,
    /// Close-delimited body.
    UntilClose,
    /// Not HTTP any more.
    Tunnel,
    /// Skipping bytes until the next `HTTP/1.` (responses only). `cut`: the skipping started
    /// because the capture cut a head short, so the bytes skipped are the rest of that message
    /// (already reported as missing), not junk.
    Junk { skipped: u64, cut: bool },
    /// Framing gave up or the direction finished.
    Stopped,
}

/// The message being read.
#[derive(Debug, Clone, Copy)]
struct Current {
    index: u64,
    start: u64,
    body: BodyKind,
    body_bytes: u64,
    bare_lf_reported: bool,
    /// Bytes of the body were lost in a gap.
    lost: bool,
}

/// Outcome of a buffered parse step.
enum Parsed {
    /// Consumed this many bytes of the parser's input.
    Done(usize),
    Incomplete,
    Invalid(ParseError),
}

/// Incremental framer for one direction of an HTTP connection.
///
/// Use it alone through [`Framer`] (responses to HEAD are then not recognised), or as a half of a
/// [`ConversationFramer`].
#[derive(Debug, Clone)]
pub struct MessageFramer {
    role: Role,
    state: State,
    buf: Vec<u8>,
    head_limit: usize,
    next_offset: u64,
    next_index: u64,
    current: Option<Current>,
    /// How the last finished message was delimited (for "bytes after message").
    previous: Option<BodyKind>,
    /// Used only when the framer is driven alone.
    own_queue: MethodQueue,
    /// Stream offset of the first byte of the data being fed (a segment's first byte).
    feed_start: u64,
}

impl MessageFramer {
    /// A framer for a direction carrying `role` messages, with the default head limit.
    pub fn new(role: Role) -> Self {
        Self::with_head_limit(role, DEFAULT_HEAD_LIMIT)
    }

    /// A framer whose heads may be at most `head_limit` bytes.
    pub fn with_head_limit(role: Role, head_limit: usize) -> Self {
        Self {
            role,
            state: State::Idle,
            buf: Vec::new(),
            head_limit,
            next_offset: 0,
            next_index: 0,
            current: None,
            previous: None,
            own_queue: MethodQueue::default(),
            feed_start: 0,
        }
    }

    /// The role given at construction.
    pub fn role(&self) -> Role {
        self.role
    }

    /// True when the framer is inside a message (its next byte continues a message that
    /// started earlier).
    pub fn is_inside_message(&self) -> bool {
        self.current.is_some()
    }

    /// Index of the message being read, if the framer is inside one.
    pub fn current_index(&self) -> Option<u64> {
        self.current.map(|c| c.index)
    }

    /// True once the connection switched protocols (101 or CONNECT): nothing more is framed.
    pub fn is_tunnel(&self) -> bool {
        self.state == State::Tunnel
    }

    /// The capture began inside this direction's byte stream (no SYN captured for it): bytes
    /// before the first message start are the rest of a message sent before the capture, and
    /// are skipped without an issue up to the next status line (responses) or the next
    /// segment that starts a request (requests). Only before the first byte is fed.
    pub fn begin_mid_stream(&mut self) {
        if self.state == State::Idle
            && self.current.is_none()
            && self.buf.is_empty()
            && self.next_offset == 0
        {
            // The "cut" form of skipping: what is skipped is not junk, and no message is open.
            self.state = State::Junk {
                skipped: 0,
                cut: true,
            };
        }
    }

    /// Feeds in-order bytes and reports events; `queue` says which requests were HEAD/CONNECT
    /// (the request side pushes into it, the response side pops).
    pub fn feed_events(
        &mut self,
        offset: u64,
        data: &[u8],
        queue: &mut MethodQueue,
        sink: &mut dyn FnMut(Event<'_>),
    ) {
        let data = if offset < self.next_offset {
            let skip = usize::try_from(self.next_offset - offset).unwrap_or(usize::MAX);
            match data.get(skip..) {
                Some(d) if !d.is_empty() => d,
                _ => return,
            }
        } else {
            if offset > self.next_offset {
                let len = offset - self.next_offset;
                self.missing_events(self.next_offset, len, Missing::Lost, queue, sink);
            }
            data
        };
        let base = self.next_offset;
        self.feed_start = base;
        self.next_offset = base.saturating_add(data.len() as u64);
        let mut pos = 0usize;
        let mut idle_steps = 0u8;
        while let Some(chunk) = data.get(pos..).filter(|c| !c.is_empty()) {
            let at = base.saturating_add(pos as u64);
            let used = self.step(at, chunk, queue, sink);
            pos = pos.saturating_add(used);
            // Every zero-length step changes the state towards one that consumes; more than a
            // few in a row would be a framer bug, so stop rather than spin.
            idle_steps = if used == 0 {
                idle_steps.saturating_add(1)
            } else {
                0
            };
            if idle_steps > 4 {
                self.stop();
                break;
            }
        }
    }

    /// `len` bytes at `offset` were lost: resynchronise inside a body of known length, skip to
    /// the next status line for responses, otherwise stop (see [`MessageFramer::missing_events`]).
    pub fn gap_events(&mut self, offset: u64, len: u64, sink: &mut dyn FnMut(Event<'_>)) {
        let mut queue = std::mem::take(&mut self.own_queue);
        self.missing_events(offset, len, Missing::Lost, &mut queue, sink);
        self.own_queue = queue;
    }

    /// `len` bytes at `offset` are missing from the capture, for the reason `cause`.
    ///
    /// Inside a body of known length framing goes on (the bytes count as body bytes). A head
    /// cut short still gives what was captured of it: the start line and the whole header
    /// lines before the cut come as a [`Event::Head`] with `cut: true`, so a status line
    /// captured before a snap-length cut is still reported (the message then ends,
    /// incomplete). After that, or when nothing can be kept, responses skip to the next status
    /// line and requests stop.
    pub fn missing_events(
        &mut self,
        offset: u64,
        len: u64,
        cause: Missing,
        queue: &mut MethodQueue,
        sink: &mut dyn FnMut(Event<'_>),
    ) {
        if len == 0 {
            return;
        }
        if self.state == State::Idle && !self.buf.is_empty() {
            // The first bytes of the next message were kept: it began before the cut.
            self.begin(offset.saturating_sub(self.buf.len() as u64), sink);
        }
        if self.state == State::Head && self.cut_head(offset, len, cause, queue, sink) {
            return;
        }
        self.next_offset = offset.saturating_add(len).max(self.next_offset);
        let index = self.current.map(|c| c.index);
        let mut issue = |resynced| {
            let kind = match cause {
                Missing::Lost => IssueKind::Gap { len, resynced },
                Missing::NotCaptured => IssueKind::NotCaptured { len, resynced },
            };
            sink(Event::Issue(Issue {
                offset,
                message: index,
                kind,
            }))
        };
        match self.state {
            State::Stopped | State::Tunnel => {}
            State::Junk { skipped, cut } => {
                issue(true);
                self.state = State::Junk {
                    skipped: skipped.saturating_add(len),
                    cut,
                };
                self.buf.clear();
            }
            State::UntilClose => {
                issue(true);
                self.add_body(len);
                if let Some(c) = self.current.as_mut() {
                    c.lost = true;
                }
            }
            State::Length { remaining } | State::ChunkData { remaining } if len <= remaining => {
                issue(true);
                self.add_body(len);
                if let Some(c) = self.current.as_mut() {
                    c.lost = true;
                }
                let remaining = remaining - len;
                self.state = match self.state {
                    State::Length { .. } if remaining == 0 => {
                        self.end(offset.saturating_add(len), false, sink);
                        State::Idle
                    }
                    State::Length { .. } => State::Length { remaining },
                    _ if remaining == 0 => State::ChunkDataEnd,
                    _ => State::ChunkData { remaining },
                };
            }
            State::Idle if self.buf.is_empty() && self.role == Role::Responses => {
                issue(false);
                self.state = State::Junk {
                    skipped: len,
                    cut: false,
                };
            }
            _ => {
                issue(false);
                self.end(offset, false, sink);
                self.buf.clear();
                self.state = if self.role == Role::Responses {
                    State::Junk {
                        skipped: len,
                        cut: false,
                    }
                } else {
                    State::Stopped
                };
            }
        }
    }

    /// The head being read is cut at `offset` by `len` missing bytes: reports what was read of
    /// it (whole lines) as a cut head, the missing bytes, and the end of the message. False
    /// (nothing done) when not even the start line was captured whole or it does not parse.
    fn cut_head(
        &mut self,
        offset: u64,
        len: u64,
        cause: Missing,
        queue: &mut MethodQueue,
        sink: &mut dyn FnMut(Event<'_>),
    ) -> bool {
        let Some(last_lf) = self.buf.iter().rposition(|&b| b == b'\n') else {
            return false;
        };
        // The whole lines, then a blank line standing for the end of the head.
        let mut lines = Vec::with_capacity(last_lf.saturating_add(3));
        lines.extend_from_slice(self.buf.get(..=last_lf).unwrap_or_default());
        lines.extend_from_slice(b"\r\n");
        let parsed = match self.role {
            Role::Requests => parse_request_head(&lines),
            Role::Responses => parse_response_head(&lines),
        };
        let Ok((_, head)) = parsed else {
            return false;
        };
        let Some(current) = self.current else {
            return false;
        };
        let index = current.index;
        let (body, _) = self.body_kind(current.start, &head, queue, sink);
        sink(Event::Head {
            index,
            offset: current.start,
            head: &head,
            body,
            cut: true,
        });
        if let Some(c) = self.current.as_mut() {
            c.body = body;
            c.lost = true;
        }
        self.next_offset = offset.saturating_add(len).max(self.next_offset);
        sink(Event::Issue(Issue {
            offset,
            message: Some(index),
            kind: match cause {
                Missing::Lost => IssueKind::Gap {
                    len,
                    resynced: false,
                },
                Missing::NotCaptured => IssueKind::NotCaptured {
                    len,
                    resynced: false,
                },
            },
        }));
        self.buf.clear();
        // The message stays open while the rest of it is skipped: it ends where the next
        // message is found (a status line; a request line at the start of a segment) or where
        // the direction ends, and the bytes missing meanwhile are its.
        self.state = if body == BodyKind::Tunnel {
            self.end(offset.saturating_add(len), false, sink);
            State::Tunnel
        } else {
            State::Junk {
                skipped: 0,
                cut: true,
            }
        };
        true
    }

    /// The direction ended at `offset`: ends a close-delimited body, reports a partial message.
    pub fn finish_events(&mut self, offset: u64, sink: &mut dyn FnMut(Event<'_>)) {
        let mut queue = std::mem::take(&mut self.own_queue);
        self.finish_with(offset, &mut queue, sink);
        self.own_queue = queue;
    }

    fn finish_with(
        &mut self,
        offset: u64,
        queue: &mut MethodQueue,
        sink: &mut dyn FnMut(Event<'_>),
    ) {
        if offset > self.next_offset {
            let (at, len) = (self.next_offset, offset - self.next_offset);
            self.missing_events(at, len, Missing::Lost, queue, sink);
        }
        let end = offset.max(self.next_offset);
        let index = self.current.map(|c| c.index);
        let received = self.current.map_or(0, |c| c.body_bytes);
        let issue = match self.state {
            State::Idle if !self.buf.is_empty() => {
                // The first bytes of a message with nothing else: report it as a head cut short.
                self.begin(end.saturating_sub(self.buf.len() as u64), sink);
                Some(IssueKind::TruncatedHead)
            }
            State::Head => Some(IssueKind::TruncatedHead),
            State::Length { .. } => {
                let expected = match self.current.map(|c| c.body) {
                    Some(BodyKind::Length(n)) => n,
                    _ => received,
                };
                Some(IssueKind::TruncatedBody { expected, received })
            }
            State::ChunkLine | State::ChunkData { .. } | State::ChunkDataEnd | State::Trailers => {
                Some(IssueKind::TruncatedChunked { received })
            }
            State::UntilClose => {
                self.end(end, true, sink);
                None
            }
            State::Junk { cut: true, .. } => {
                self.end(end, false, sink);
                None
            }
            State::Idle | State::Tunnel | State::Junk { .. } | State::Stopped => None,
        };
        if let Some(kind) = issue {
            sink(Event::Issue(Issue {
                offset: end,
                message: index.or(self.current.map(|c| c.index)),
                kind,
            }));
            self.end(end, false, sink);
        }
        self.buf.clear();
        self.state = State::Stopped;
    }

    /// Switches to tunnel mode (the other direction saw 101 or a CONNECT answer).
    fn enter_tunnel(&mut self) {
        if self.current.is_none() && self.buf.is_empty() && self.state == State::Idle {
            self.state = State::Tunnel;
        }
    }

    fn stop(&mut self) {
        self.buf.clear();
        self.state = State::Stopped;
    }

    fn add_body(&mut self, n: u64) {
        if let Some(c) = self.current.as_mut() {
            c.body_bytes = c.body_bytes.saturating_add(n);
        }
    }

    fn begin(&mut self, offset: u64, sink: &mut dyn FnMut(Event<'_>)) {
        let index = self.next_index;
        self.next_index = self.next_index.saturating_add(1);
        self.current = Some(Current {
            index,
            start: offset,
            body: BodyKind::None(NoBody::NoLength),
            body_bytes: 0,
            bare_lf_reported: false,
            lost: false,
        });
        self.state = State::Head;
        sink(Event::Begin { index, offset });
    }

    fn end(&mut self, offset: u64, complete: bool, sink: &mut dyn FnMut(Event<'_>)) {
        if let Some(c) = self.current.take() {
            self.previous = Some(c.body);
            sink(Event::End {
                message: Message {
                    index: c.index,
                    start: c.start,
                    end: offset.max(c.start),
                    complete: complete && !c.lost,
                },
                body_bytes: c.body_bytes,
            });
        }
    }

    /// One step on `chunk` (non-empty) at stream offset `at`; returns the bytes used.
    fn step(
        &mut self,
        at: u64,
        chunk: &[u8],
        queue: &mut MethodQueue,
        sink: &mut dyn FnMut(Event<'_>),
    ) -> usize {
        match self.state {
            State::Stopped | State::Tunnel => chunk.len(),
            State::Idle => {
                if !self.buf.is_empty() {
                    self.begin(at.saturating_sub(self.buf.len() as u64), sink);
                    return 0;
                }
                // RFC 9112 §2.2: a server ignores empty lines before a request line.
                let blank = chunk
                    .iter()
                    .take_while(|&&b| b == b'\r' || b == b'\n')
                    .count();
                if self.role == Role::Requests && blank > 0 {
                    return blank;
                }
                self.begin(at, sink);
                0
            }
            State::Head => self.step_head(at, chunk, queue, sink),
            State::Length { remaining } => {
                let n = usize::try_from(remaining)
                    .unwrap_or(usize::MAX)
                    .min(chunk.len());
                let (body, _) = chunk.split_at_checked(n).unwrap_or((chunk, &[]));
                self.body(body, sink);
                let remaining = remaining.saturating_sub(n as u64);
                if remaining == 0 {
                    self.end(at.saturating_add(n as u64), true, sink);
                    self.state = State::Idle;
                } else {
                    self.state = State::Length { remaining };
                }
                n
            }
            State::ChunkData { remaining } => {
                let n = usize::try_from(remaining)
                    .unwrap_or(usize::MAX)
                    .min(chunk.len());
                let (body, _) = chunk.split_at_checked(n).unwrap_or((chunk, &[]));
                self.body(body, sink);
                let remaining = remaining.saturating_sub(n as u64);
                self.state = if remaining == 0 {
                    State::ChunkDataEnd
                } else {
                    State::ChunkData { remaining }
                };
                n
            }
            State::UntilClose => {
                self.body(chunk, sink);
                chunk.len()
            }
            State::ChunkLine => self.step_chunk_line(at, chunk, sink),
            State::ChunkDataEnd => self.step_chunk_data_end(at, chunk, sink),
            State::Trailers => self.step_trailers(at, chunk, sink),
            State::Junk { skipped, cut } => self.step_junk(at, chunk, skipped, cut, sink),
        }
    }

    fn body(&mut self, data: &[u8], sink: &mut dyn FnMut(Event<'_>)) {
        if data.is_empty() {
            return;
        }
        self.add_body(data.len() as u64);
        if let Some(c) = self.current {
            sink(Event::Body {
                index: c.index,
                data,
            });
        }
    }

    /// Runs `parse` over the buffered bytes followed by `chunk`, keeping at most `limit` bytes.
    /// Returns the bytes of `chunk` used, the outcome and the offset of the parser's input.
    fn parse_buffered(
        &mut self,
        at: u64,
        chunk: &[u8],
        limit: usize,
        parse: &mut dyn FnMut(&mut Self, u64, &[u8]) -> Parsed,
    ) -> (usize, Result<(), (u64, Option<ParseError>)>) {
        let mut buf = std::mem::take(&mut self.buf);
        let result = if buf.is_empty() {
            match parse(self, at, chunk) {
                Parsed::Done(n) => (n, Ok(())),
                Parsed::Incomplete if chunk.len() > limit => (chunk.len(), Err((at, None))),
                Parsed::Incomplete => {
                    buf.extend_from_slice(chunk);
                    (chunk.len(), Ok(()))
                }
                Parsed::Invalid(e) => (
                    0,
                    Err((at.saturating_add(e.offset_in(chunk.len()) as u64), Some(e))),
                ),
            }
        } else {
            let old = buf.len();
            let start = at.saturating_sub(old as u64);
            let take = limit.saturating_add(1).saturating_sub(old).min(chunk.len());
            buf.extend_from_slice(chunk.get(..take).unwrap_or_default());
            match parse(self, start, &buf) {
                Parsed::Done(n) if n >= old => {
                    buf.clear();
                    (n - old, Ok(()))
                }
                Parsed::Done(n) => {
                    // The parsed part ended inside the buffered bytes (a start line where the
                    // blank line should be): keep the rest for the next message.
                    buf.truncate(old);
                    buf.drain(..n);
                    (0, Ok(()))
                }
                Parsed::Incomplete if buf.len() > limit => {
                    buf.clear();
                    (take, Err((start, None)))
                }
                Parsed::Incomplete => (take, Ok(())),
                Parsed::Invalid(e) => {
                    let offset = start.saturating_add(e.offset_in(buf.len()) as u64);
                    buf.clear();
                    (0, Err((offset, Some(e))))
                }
            }
        };
        // `parse` may have left bytes for the next message in `self.buf`; keep whichever is set.
        if self.buf.is_empty() {
            self.buf = buf;
        }
        (result.0, result.1)
    }

    fn step_head(
        &mut self,
        at: u64,
        chunk: &[u8],
        queue: &mut MethodQueue,
        sink: &mut dyn FnMut(Event<'_>),
    ) -> usize {
        let role = self.role;
        let limit = self.head_limit;
        let mut on_input = |this: &mut Self, start: u64, input: &[u8]| -> Parsed {
            let parsed = match role {
                Role::Requests => parse_request_head(input),
                Role::Responses => parse_response_head(input),
            };
            match parsed {
                Ok((_, head)) => {
                    this.on_head(start, &head, queue, sink);
                    Parsed::Done(head.len)
                }
                Err(nom::Err::Incomplete(_)) => Parsed::Incomplete,
                Err(nom::Err::Error(e) | nom::Err::Failure(e)) => Parsed::Invalid(e),
            }
        };
        let buffered = !self.buf.is_empty();
        let (used, result) = self.parse_buffered(at, chunk, limit, &mut on_input);
        match result {
            Ok(()) => used,
            Err((offset, None)) => {
                self.fail(offset, IssueKind::HeadTooLong { limit }, sink);
                used
            }
            Err((offset, Some(e))) => {
                let start = self.current.map_or(at, |c| c.start);
                // Header-block errors name a field; every other error is about the start line.
                let in_headers =
                    e.expected.starts_with("field") || e.expected.starts_with("header");
                let kind = if in_headers {
                    IssueKind::InvalidHeaderLine {
                        expected: e.expected,
                    }
                } else if let Some(previous) = self.previous {
                    IssueKind::BytesAfterMessage {
                        previous,
                        expected: e.expected,
                    }
                } else {
                    IssueKind::InvalidStartLine {
                        expected: e.expected,
                    }
                };
                self.fail(offset, kind, sink);
                // Skipping starts after the first byte of the broken message (or after the
                // part of it that was buffered), so it cannot find the same start again.
                let used = if buffered { used } else { used.max(1) };
                if let State::Junk { cut, .. } = self.state {
                    self.state = State::Junk {
                        skipped: at.saturating_add(used as u64).saturating_sub(start),
                        cut,
                    };
                }
                used
            }
        }
    }

    /// Reports `kind`, ends the current message incomplete, and skips ahead (responses) or stops.
    fn fail(&mut self, offset: u64, kind: IssueKind, sink: &mut dyn FnMut(Event<'_>)) {
        let index = self.current.map(|c| c.index);
        sink(Event::Issue(Issue {
            offset,
            message: index,
            kind,
        }));
        let start = self.current.map_or(offset, |c| c.start);
        // The broken message covers what was read of it; junk skipping starts at its start.
        self.end(offset.max(start), false, sink);
        self.buf.clear();
        self.state = if self.role == Role::Responses {
            State::Junk {
                skipped: 0,
                cut: false,
            }
        } else {
            State::Stopped
        };
    }

    /// How the body of a message with `head` (starting at `start`) is delimited, reporting the
    /// header problems that decide it; a request is recorded in `queue`, a final response takes
    /// its request from it. Also returns true when the length cannot be framed.
    fn body_kind(
        &mut self,
        start: u64,
        head: &Head<'_>,
        queue: &mut MethodQueue,
        sink: &mut dyn FnMut(Event<'_>),
    ) -> (BodyKind, bool) {
        let index = self.current.map_or(self.next_index, |c| c.index);
        let issue = |sink: &mut dyn FnMut(Event<'_>), kind| {
            sink(Event::Issue(Issue {
                offset: start,
                message: Some(index),
                kind,
            }))
        };
        if head.missing_blank_line {
            issue(sink, IssueKind::MissingBlankLine);
        }
        let coding = head.headers.transfer_coding();
        let length = head.headers.content_length();
        if coding != TransferCoding::Absent && length != ContentLength::Absent {
            issue(sink, IssueKind::ContentLengthWithTransferEncoding);
        }
        let mut unframeable = false;
        let from_length =
            |sink: &mut dyn FnMut(Event<'_>), unframeable: &mut bool, otherwise| match length {
                ContentLength::Valid(n) => BodyKind::Length(n),
                ContentLength::Conflicting { first, other } => {
                    issue(sink, IssueKind::ConflictingContentLength { first, other });
                    BodyKind::Length(first)
                }
                ContentLength::Invalid => {
                    issue(sink, IssueKind::InvalidContentLength);
                    *unframeable = true;
                    BodyKind::UntilClose
                }
                ContentLength::Absent => otherwise,
            };
        let body = match head.start_line {
            _ if head.missing_blank_line => BodyKind::None(NoBody::MissingBlankLine),
            StartLine::Request(r) => {
                queue.push_request(r.method);
                match coding {
                    TransferCoding::Chunked => BodyKind::Chunked,
                    TransferCoding::Other => {
                        issue(sink, IssueKind::UnframeableRequestCoding);
                        unframeable = true;
                        BodyKind::UntilClose
                    }
                    TransferCoding::Absent => {
                        from_length(sink, &mut unframeable, BodyKind::None(NoBody::NoLength))
                    }
                }
            }
            StartLine::Status(s) => {
                let request = if s.is_interim() { None } else { queue.pop() };
                match (s.code, request) {
                    (101, _) => BodyKind::Tunnel,
                    (c, Some(RequestKind::Connect)) if (200..300).contains(&c) => BodyKind::Tunnel,
                    (c, _) if s.is_interim() || c == 204 || c == 304 => {
                        BodyKind::None(NoBody::Status(c))
                    }
                    (_, Some(RequestKind::Head)) => BodyKind::None(NoBody::HeadRequest),
                    _ => match coding {
                        TransferCoding::Chunked => BodyKind::Chunked,
                        TransferCoding::Other => BodyKind::UntilClose,
                        TransferCoding::Absent => {
                            from_length(sink, &mut unframeable, BodyKind::UntilClose)
                        }
                    },
                }
            }
        };
        (body, unframeable)
    }

    fn on_head(
        &mut self,
        start: u64,
        head: &Head<'_>,
        queue: &mut MethodQueue,
        sink: &mut dyn FnMut(Event<'_>),
    ) {
        let index = self.current.map_or(self.next_index, |c| c.index);
        let (body, unframeable) = self.body_kind(start, head, queue, sink);
        sink(Event::Head {
            index,
            offset: start,
            head,
            body,
            cut: false,
        });
        if let Some(c) = self.current.as_mut() {
            c.body = body;
        }
        let head_end = start.saturating_add(head.len as u64);
        self.state = match body {
            BodyKind::None(_) | BodyKind::Length(0) => {
                self.end(head_end, true, sink);
                State::Idle
            }
            BodyKind::Tunnel => {
                self.end(head_end, true, sink);
                State::Tunnel
            }
            BodyKind::Length(n) => State::Length { remaining: n },
            BodyKind::Chunked => State::ChunkLine,
            BodyKind::UntilClose if unframeable && self.role == Role::Requests => {
                self.end(head_end, false, sink);
                State::Stopped
            }
            BodyKind::UntilClose => State::UntilClose,
        };
    }

    fn step_chunk_line(&mut self, at: u64, chunk: &[u8], sink: &mut dyn FnMut(Event<'_>)) -> usize {
        let mut on_input = |this: &mut Self, start: u64, input: &[u8]| -> Parsed {
            match parse_chunk_line(input) {
                Ok((_, line)) => {
                    if line.bare_lf {
                        this.report_bare_lf(start, sink);
                    }
                    this.state = if line.size == 0 {
                        State::Trailers
                    } else {
                        State::ChunkData {
                            remaining: line.size,
                        }
                    };
                    Parsed::Done(line.len)
                }
                Err(nom::Err::Incomplete(_)) => Parsed::Incomplete,
                Err(nom::Err::Error(e) | nom::Err::Failure(e)) => Parsed::Invalid(e),
            }
        };
        let (used, result) = self.parse_buffered(at, chunk, CHUNK_LINE_LIMIT, &mut on_input);
        self.chunk_result(used, result, "chunk-size line shorter than the limit", sink)
    }

    fn step_chunk_data_end(
        &mut self,
        at: u64,
        chunk: &[u8],
        sink: &mut dyn FnMut(Event<'_>),
    ) -> usize {
        let mut on_input = |this: &mut Self, start: u64, input: &[u8]| -> Parsed {
            match parse_chunk_data_end(input) {
                Ok((rest, bare_lf)) => {
                    if bare_lf {
                        this.report_bare_lf(start, sink);
                    }
                    this.state = State::ChunkLine;
                    Parsed::Done(input.len() - rest.len())
                }
                Err(nom::Err::Incomplete(_)) => Parsed::Incomplete,
                Err(nom::Err::Error(e) | nom::Err::Failure(e)) => Parsed::Invalid(e),
            }
        };
        let (used, result) = self.parse_buffered(at, chunk, 2, &mut on_input);
        self.chunk_result(used, result, "CRLF after the chunk data", sink)
    }

    fn step_trailers(&mut self, at: u64, chunk: &[u8], sink: &mut dyn FnMut(Event<'_>)) -> usize {
        let limit = self.head_limit;
        let mut on_input = |this: &mut Self, start: u64, input: &[u8]| -> Parsed {
            match parse_header_block(input) {
                Ok((rest, block)) => {
                    let n = input.len() - rest.len();
                    if block.bare_lf {
                        this.report_bare_lf(start, sink);
                    }
                    this.end(start.saturating_add(n as u64), true, sink);
                    this.state = State::Idle;
                    Parsed::Done(n)
                }
                Err(nom::Err::Incomplete(_)) => Parsed::Incomplete,
                Err(nom::Err::Error(e) | nom::Err::Failure(e)) => Parsed::Invalid(e),
            }
        };
        let (used, result) = self.parse_buffered(at, chunk, limit, &mut on_input);
        match result {
            Ok(()) => used,
            Err((offset, None)) => {
                self.fail(offset, IssueKind::HeadTooLong { limit }, sink);
                used
            }
            Err((offset, Some(e))) => {
                self.fail(
                    offset,
                    IssueKind::InvalidHeaderLine {
                        expected: e.expected,
                    },
                    sink,
                );
                used
            }
        }
    }

    fn chunk_result(
        &mut self,
        used: usize,
        result: Result<(), (u64, Option<ParseError>)>,
        too_long: &'static str,
        sink: &mut dyn FnMut(Event<'_>),
    ) -> usize {
        match result {
            Ok(()) => used,
            Err((offset, e)) => {
                let expected = e.map_or(too_long, |e| e.expected);
                self.fail(offset, IssueKind::InvalidChunk { expected }, sink);
                used
            }
        }
    }

    fn report_bare_lf(&mut self, at: u64, sink: &mut dyn FnMut(Event<'_>)) {
        if let Some(c) = self.current.as_mut().filter(|c| !c.bare_lf_reported) {
            c.bare_lf_reported = true;
            sink(Event::Issue(Issue {
                offset: at,
                message: Some(c.index),
                kind: IssueKind::BareLfInChunked,
            }));
        }
    }

    /// Skips bytes up to the next `HTTP/1.`; a match split across feeds is found through the
    /// few bytes kept in `buf`.
    fn step_junk(
        &mut self,
        at: u64,
        chunk: &[u8],
        skipped: u64,
        cut: bool,
        sink: &mut dyn FnMut(Event<'_>),
    ) -> usize {
        if self.role == Role::Requests {
            // Only after a cut head: a request line has no fixed prefix to search for, but the
            // next request after bytes cut off starts a segment of its own.
            if at == self.feed_start
                && !chunk.starts_with(b"HTTP/")
                && super::detect::classify(chunk) == super::detect::Start::Http
            {
                self.resynced(at, skipped, cut, sink);
                return 0;
            }
            self.state = State::Junk {
                skipped: skipped.saturating_add(chunk.len() as u64),
                cut,
            };
            return chunk.len();
        }
        let carry = std::mem::take(&mut self.buf);
        // A match starting inside the carried bytes.
        for c in 0..carry.len() {
            let head = carry.get(c..).unwrap_or_default();
            let need = STATUS_PREFIX.len().saturating_sub(head.len());
            if STATUS_PREFIX.starts_with(head)
                && chunk
                    .get(..need)
                    .is_some_and(|t| STATUS_PREFIX.ends_with(t))
            {
                let skipped = skipped.saturating_add(c as u64);
                self.resynced(at.saturating_sub(head.len() as u64), skipped, cut, sink);
                self.buf = head.to_vec();
                return 0;
            }
        }
        let carried = carry.len() as u64;
        if let Some(p) = chunk
            .windows(STATUS_PREFIX.len())
            .position(|w| w == STATUS_PREFIX)
        {
            let skipped = skipped.saturating_add(carried).saturating_add(p as u64);
            self.resynced(at.saturating_add(p as u64), skipped, cut, sink);
            return p;
        }
        // Keep the last bytes that could start a match.
        let mut tail = carry;
        tail.extend_from_slice(chunk);
        let keep = tail.len().min(STATUS_PREFIX.len() - 1);
        let drop = tail.len() - keep;
        tail.drain(..drop);
        self.buf = tail;
        self.state = State::Junk {
            skipped: skipped.saturating_add(drop as u64),
            cut,
        };
        chunk.len()
    }

    /// The next status line is at `offset`. Skipped bytes are an issue unless they are the rest
    /// of a message the capture cut short (`cut`), which was reported as missing already.
    fn resynced(&mut self, offset: u64, skipped: u64, cut: bool, sink: &mut dyn FnMut(Event<'_>)) {
        if cut {
            self.end(offset, false, sink);
        } else {
            sink(Event::Issue(Issue {
                offset,
                message: None,
                kind: IssueKind::Resynced { skipped },
            }));
        }
        self.previous = None;
        self.state = State::Idle;
    }
}

impl Framer for MessageFramer {
    fn feed(&mut self, offset: u64, data: &[u8], out: &mut FramerOutput) {
        let mut queue = std::mem::take(&mut self.own_queue);
        self.feed_events(offset, data, &mut queue, &mut |e| collect(e, out));
        self.own_queue = queue;
    }

    fn missing(&mut self, offset: u64, len: u64, cause: Missing, out: &mut FramerOutput) {
        let mut queue = std::mem::take(&mut self.own_queue);
        self.missing_events(offset, len, cause, &mut queue, &mut |e| collect(e, out));
        self.own_queue = queue;
    }

    fn finish(&mut self, offset: u64, out: &mut FramerOutput) {
        self.finish_events(offset, &mut |e| collect(e, out));
    }
}

/// Keeps the message boundaries and issues of an event.
fn collect(event: Event<'_>, out: &mut FramerOutput) {
    match event {
        // A message of no bytes is the place where unparseable bytes began; the issue says so.
        Event::End { message, .. } if message.end > message.start => out.messages.push(message),
        Event::Issue(issue) => out.issues.push(FramingIssue {
            offset: issue.offset,
            reason: issue.kind.to_string(),
        }),
        Event::End { .. } | Event::Begin { .. } | Event::Head { .. } | Event::Body { .. } => {}
    }
}

/// Both directions of one HTTP connection: the request side tells the response side which
/// requests were HEAD (no response body) or CONNECT (tunnel), and a 101 or CONNECT answer stops
/// framing on both sides.
#[derive(Debug, Clone)]
pub struct ConversationFramer {
    requests: MessageFramer,
    responses: MessageFramer,
    queue: MethodQueue,
}

impl Default for ConversationFramer {
    fn default() -> Self {
        Self::new()
    }
}

impl ConversationFramer {
    /// A framer for a new connection, with the default head limit.
    pub fn new() -> Self {
        Self::with_head_limit(DEFAULT_HEAD_LIMIT)
    }

    /// A framer whose heads may be at most `head_limit` bytes.
    pub fn with_head_limit(head_limit: usize) -> Self {
        Self {
            requests: MessageFramer::with_head_limit(Role::Requests, head_limit),
            responses: MessageFramer::with_head_limit(Role::Responses, head_limit),
            queue: MethodQueue::default(),
        }
    }

    /// The capture began inside `direction`'s byte stream: see
    /// [`MessageFramer::begin_mid_stream`].
    pub fn begin_mid_stream(&mut self, direction: Direction) {
        match direction {
            Direction::ClientToServer => self.requests.begin_mid_stream(),
            Direction::ServerToClient => self.responses.begin_mid_stream(),
        }
    }

    /// The framer of one direction, for inspection.
    pub fn side(&self, direction: Direction) -> &MessageFramer {
        match direction {
            Direction::ClientToServer => &self.requests,
            Direction::ServerToClient => &self.responses,
        }
    }

    /// Feeds in-order bytes of `direction`, reporting events to `sink`.
    pub fn feed_events(
        &mut self,
        direction: Direction,
        offset: u64,
        data: &[u8],
        sink: &mut dyn FnMut(Event<'_>),
    ) {
        match direction {
            Direction::ClientToServer => {
                self.requests
                    .feed_events(offset, data, &mut self.queue, sink);
            }
            Direction::ServerToClient => {
                self.responses
                    .feed_events(offset, data, &mut self.queue, sink);
                if self.responses.is_tunnel() {
                    self.requests.enter_tunnel();
                }
            }
        }
    }

    /// Reports a capture gap in `direction`.
    pub fn gap_events(
        &mut self,
        direction: Direction,
        offset: u64,
        len: u64,
        sink: &mut dyn FnMut(Event<'_>),
    ) {
        self.missing_events(direction, offset, len, Missing::Lost, sink);
    }

    /// Reports bytes of `direction` missing from the capture for the reason `cause` (see
    /// [`MessageFramer::missing_events`]).
    pub fn missing_events(
        &mut self,
        direction: Direction,
        offset: u64,
        len: u64,
        cause: Missing,
        sink: &mut dyn FnMut(Event<'_>),
    ) {
        let side = match direction {
            Direction::ClientToServer => &mut self.requests,
            Direction::ServerToClient => &mut self.responses,
        };
        side.missing_events(offset, len, cause, &mut self.queue, sink);
        if direction == Direction::ServerToClient && self.responses.is_tunnel() {
            self.requests.enter_tunnel();
        }
    }

    /// Ends `direction` at `offset`.
    pub fn finish_events(
        &mut self,
        direction: Direction,
        offset: u64,
        sink: &mut dyn FnMut(Event<'_>),
    ) {
        let side = match direction {
            Direction::ClientToServer => &mut self.requests,
            Direction::ServerToClient => &mut self.responses,
        };
        side.finish_with(offset, &mut self.queue, sink);
    }

    /// One direction as a [`Framer`] (for the generic framing path).
    pub fn direction(&mut self, direction: Direction) -> DirectionFramer<'_> {
        DirectionFramer {
            conversation: self,
            direction,
        }
    }
}

/// One direction of a [`ConversationFramer`], usable wherever a [`Framer`] is expected.
#[derive(Debug)]
pub struct DirectionFramer<'c> {
    conversation: &'c mut ConversationFramer,
    direction: Direction,
}

impl Framer for DirectionFramer<'_> {
    fn feed(&mut self, offset: u64, data: &[u8], out: &mut FramerOutput) {
        self.conversation
            .feed_events(self.direction, offset, data, &mut |e| collect(e, out));
    }

    fn missing(&mut self, offset: u64, len: u64, cause: Missing, out: &mut FramerOutput) {
        self.conversation
            .missing_events(self.direction, offset, len, cause, &mut |e| collect(e, out));
    }

    fn finish(&mut self, offset: u64, out: &mut FramerOutput) {
        self.conversation
            .finish_events(self.direction, offset, &mut |e| collect(e, out));
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// Everything a framer reported, in a form that can be compared across feed patterns.
    #[derive(Debug, Default, PartialEq)]
    struct Trace {
        messages: Vec<Message>,
        issues: Vec<Issue>,
        heads: Vec<(u64, u64, BodyKind)>,
        bodies: BTreeMap<u64, Vec<u8>>,
        body_counts: Vec<u64>,
    }

    impl Trace {
        fn record(&mut self, e: Event<'_>) {
            match e {
                Event::Begin { .. } => {}
                Event::Head {
                    index, head, body, ..
                } => self.heads.push((index, head.len as u64, body)),
                Event::Body { index, data } => self
                    .bodies
                    .entry(index)
                    .or_default()
                    .extend_from_slice(data),
                Event::End {
                    message,
                    body_bytes,
                } => {
                    self.messages.push(message);
                    self.body_counts.push(body_bytes);
                }
                Event::Issue(i) => self.issues.push(i),
            }
        }
    }

    /// Feeds `stream` to a fresh framer in pieces cut at `cuts`, then finishes it.
    fn run(role: Role, stream: &[u8], cuts: &[usize]) -> Trace {
        let mut f = MessageFramer::new(role);
        let mut q = MethodQueue::default();
        let mut t = Trace::default();
        let mut start = 0;
        for &c in cuts.iter().chain(std::iter::once(&stream.len())) {
            f.feed_events(start as u64, &stream[start..c], &mut q, &mut |e| {
                t.record(e)
            });
            start = c;
        }
        f.finish_events(stream.len() as u64, &mut |e| t.record(e));
        t
    }

    /// Checks that every single cut point and byte-by-byte feeding give the whole-feed trace.
    fn assert_split_invariant(role: Role, stream: &[u8]) -> Trace {
        let whole = run(role, stream, &[]);
        for cut in 1..stream.len() {
            assert_eq!(run(role, stream, &[cut]), whole, "cut at {cut}");
        }
        let bytes: Vec<usize> = (1..stream.len()).collect();
        assert_eq!(run(role, stream, &bytes), whole, "byte by byte");
        whole
    }

    fn msg(index: u64, start: usize, end: usize, complete: bool) -> Message {
        Message {
            index,
            start: start as u64,
            end: end as u64,
            complete,
        }
    }

    const GET_A: &[u8] = b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n";
    const POST_B: &[u8] = b"POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello";
    const POST_C: &[u8] = b"POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n\
        3;ext=1\r\nabc\r\n0\r\nT: v\r\n\r\n";
    const GET_D: &[u8] = b"GET /d HTTP/1.0\n\n";

    #[test]
    fn pipelined_requests_frame_the_same_at_every_cut() {
        // Four requests back to back; an empty line before the last one is ignored (RFC 9112 §2.2).
        let stream = [GET_A, POST_B, POST_C, b"\r\n", GET_D].concat();
        let t = assert_split_invariant(Role::Requests, &stream);
        let a = GET_A.len();
        let b = a + POST_B.len();
        let c = b + POST_C.len();
        assert_eq!(
            t.messages,
            vec![
                msg(0, 0, a, true),
                msg(1, a, b, true),
                msg(2, b, c, true),
                msg(3, c + 2, stream.len(), true),
            ]
        );
        assert_eq!(t.body_counts, vec![0, 5, 3, 0]);
        assert_eq!(t.bodies[&1], b"hello");
        assert_eq!(t.bodies[&2], b"abc");
        assert!(t.issues.is_empty(), "{:?}", t.issues);
    }

    #[test]
    fn response_kinds_interim_204_304_chunked_and_close_delimited() {
        let parts: [&[u8]; 6] = [
            b"HTTP/1.1 100 Continue\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
            b"HTTP/1.1 204 No Content\r\n\r\n",
            // 304 never has a body, even with Content-Length (RFC 9112 §6.3 item 1).
            b"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwiki\r\n0\r\n\r\n",
            b"HTTP/1.0 200 OK\r\n\r\nuntil close",
        ];
        let stream = parts.concat();
        let t = assert_split_invariant(Role::Responses, &stream);
        let mut start = 0;
        let expected: Vec<Message> = parts
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let m = msg(i as u64, start, start + p.len(), true);
                start += p.len();
                m
            })
            .collect();
        assert_eq!(t.messages, expected);
        let kinds: Vec<BodyKind> = t.heads.iter().map(|h| h.2).collect();
        assert_eq!(
            kinds,
            vec![
                BodyKind::None(NoBody::Status(100)),
                BodyKind::Length(3),
                BodyKind::None(NoBody::Status(204)),
                BodyKind::None(NoBody::Status(304)),
                BodyKind::Chunked,
                BodyKind::UntilClose,
            ]
        );
        assert_eq!(t.bodies[&4], b"wiki");
        assert_eq!(t.bodies[&5], b"until close");
        assert!(t.issues.is_empty(), "{:?}", t.issues);
    }

    #[test]
    fn chunked_with_extensions_and_trailers_from_suricata_capture() {
        // sv-http-event-chunk-input.pcap frame 5 (bare LF lines, "8 " sizes, extensions, trailers).
        let post: &[u8] = b"POST /qwe.asd HTTP/1.1\nHost: 127.0.0.1\n\
            Transfer-Encoding: chunked\nContent-Type: Application/binary\n\n\
            8 \ntototata\n4 \ntiti\n0 ; qwe3=asd3; zxc3=\"rt\"y3\"\n\
            trailehdr1: tralierdata1\ntrailehdr2: tralierdata2\n\n";
        let t = assert_split_invariant(Role::Requests, post);
        assert_eq!(t.messages, vec![msg(0, 0, post.len(), true)]); // 199 bytes, the whole segment
        assert_eq!(post.len(), 199);
        assert_eq!(t.bodies[&0], b"tototatatiti");
        // The bare LF of the chunk lines is reported once, at the first chunk line: the head
        // is 23 + 16 + 27 + 33 + 1 = 100 bytes.
        assert_eq!(t.issues.len(), 1);
        assert_eq!(t.issues[0].kind, IssueKind::BareLfInChunked);
        assert_eq!(t.issues[0].offset, 100);
    }

    #[test]
    fn head_response_has_no_body_through_the_conversation() {
        let mut conv = ConversationFramer::new();
        let mut t = Trace::default();
        let c2s = [b"HEAD /x HTTP/1.1\r\nHost: h\r\n\r\n".as_slice(), GET_A].concat();
        conv.feed_events(Direction::ClientToServer, 0, &c2s, &mut |e| t.record(e));
        let r1: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
        let r2: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
        let mut s = Trace::default();
        conv.feed_events(Direction::ServerToClient, 0, &[r1, r2].concat(), &mut |e| {
            s.record(e)
        });
        assert_eq!(
            s.messages,
            vec![
                msg(0, 0, r1.len(), true),
                msg(1, r1.len(), r1.len() + r2.len(), true)
            ]
        );
        assert_eq!(s.heads[0].2, BodyKind::None(NoBody::HeadRequest));
        assert_eq!(s.bodies[&1], b"hello");
    }

    #[test]
    fn body_on_head_response_is_bytes_after_message() {
        let mut conv = ConversationFramer::new();
        let mut out = FramerOutput::default();
        conv.direction(Direction::ClientToServer).feed(
            0,
            b"HEAD / HTTP/1.1\r\nHost: h\r\n\r\n",
            &mut out,
        );
        let resp: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
        let mut s = Trace::default();
        conv.feed_events(Direction::ServerToClient, 0, resp, &mut |e| s.record(e));
        assert_eq!(s.issues.len(), 1);
        assert_eq!(s.issues[0].offset, 38); // where "hello" starts
        assert!(matches!(
            s.issues[0].kind,
            IssueKind::BytesAfterMessage {
                previous: BodyKind::None(NoBody::HeadRequest),
                ..
            }
        ));
    }

    #[test]
    fn switching_protocols_stops_framing_both_sides() {
        let mut conv = ConversationFramer::new();
        let mut out = FramerOutput::default();
        conv.direction(Direction::ClientToServer).feed(
            0,
            b"GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
            &mut out,
        );
        let r: &[u8] =
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello";
        conv.direction(Direction::ServerToClient)
            .feed(0, r, &mut out);
        conv.direction(Direction::ClientToServer)
            .feed(69, b"\x81\x85abcd....", &mut out);
        conv.direction(Direction::ClientToServer)
            .finish(80, &mut out);
        conv.direction(Direction::ServerToClient)
            .finish(r.len() as u64, &mut out);
        assert_eq!(out.messages.len(), 2);
        assert!(out.issues.is_empty(), "{:?}", out.issues);
    }

    #[test]
    fn truncated_head_body_and_chunked_at_finish() {
        let cases: [(&[u8], IssueKind); 3] = [
            (
                b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n",
                IssueKind::TruncatedHead,
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
                IssueKind::TruncatedBody {
                    expected: 10,
                    received: 3,
                },
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
                IssueKind::TruncatedChunked { received: 2 },
            ),
        ];
        for (bytes, kind) in cases {
            let t = assert_split_invariant(Role::Responses, bytes);
            assert_eq!(t.messages, vec![msg(0, 0, bytes.len(), false)]);
            assert_eq!(t.issues.len(), 1);
            assert_eq!(t.issues[0].kind, kind);
            assert_eq!(t.issues[0].offset, bytes.len() as u64);
        }
    }

    #[test]
    fn extra_bytes_after_content_length_resynchronise_on_the_next_status_line() {
        // Content-Length 2 but 5 body bytes, then a valid response.
        let first: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nab";
        let junk: &[u8] = b"cde";
        let next: &[u8] = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
        let stream = [first, junk, next].concat();
        let t = assert_split_invariant(Role::Responses, &stream);
        let n = first.len();
        let kinds: Vec<_> = t
            .issues
            .iter()
            .map(|i| (i.offset, i.kind.clone()))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (
                    n as u64,
                    IssueKind::BytesAfterMessage {
                        previous: BodyKind::Length(2),
                        expected: "HTTP version (HTTP/1.1)"
                    }
                ),
                ((n + 3) as u64, IssueKind::Resynced { skipped: 3 }),
            ]
        );
        let complete: Vec<_> = t.messages.iter().filter(|m| m.complete).cloned().collect();
        assert_eq!(
            complete,
            vec![msg(0, 0, n, true), msg(2, n + 3, stream.len(), true)]
        );
    }

    #[test]
    fn missing_blank_line_before_the_next_request() {
        let stream: &[u8] = b"GET /a HTTP/1.1\r\nHost: h\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n";
        let t = assert_split_invariant(Role::Requests, stream);
        assert_eq!(
            t.messages,
            vec![msg(0, 0, 26, true), msg(1, 26, stream.len(), true)]
        );
        assert_eq!(t.issues.len(), 1);
        assert_eq!(t.issues[0].kind, IssueKind::MissingBlankLine);
    }

    #[test]
    fn invalid_starts_report_the_same_offset_at_every_cut() {
        for bytes in [
            &b"GET\x01 / HTTP/1.1\r\n\r\n"[..],
            b"HTTX/1.1 200 OK\r\n\r\n",
            b"HTTP/1.1 2000 OK\r\n\r\n",
        ] {
            let role = if bytes.starts_with(b"GET") {
                Role::Requests
            } else {
                Role::Responses
            };
            let t = assert_split_invariant(role, bytes);
            assert!(matches!(
                t.issues[0].kind,
                IssueKind::InvalidStartLine { .. }
            ));
        }
    }

    #[test]
    fn gap_inside_a_body_resynchronises() {
        let mut f = MessageFramer::new(Role::Responses);
        let mut out = FramerOutput::default();
        let head: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n";
        let h = head.len() as u64;
        f.feed(0, &[head, b"abc"].concat(), &mut out);
        f.gap(h + 3, 4, &mut out);
        f.feed(h + 7, b"hij", &mut out);
        f.feed(h + 10, b"HTTP/1.1 204 No Content\r\n\r\n", &mut out);
        assert_eq!(out.messages.len(), 2);
        assert_eq!(out.messages[0].end, h + 10);
        assert!(!out.messages[0].complete);
        assert!(out.messages[1].complete);
        assert_eq!(out.issues.len(), 1);
        assert!(out.issues[0].reason.contains("4 bytes lost"));
    }

    /// Feeds `pieces` (`Ok(bytes)` captured, `Err(len)` cut off by the snap length) to one
    /// direction, then ends it; returns the trace and the cut flags of the heads.
    fn run_cut(role: Role, pieces: &[Result<&[u8], u64>]) -> (Trace, Vec<bool>) {
        let mut f = MessageFramer::new(role);
        let mut q = MethodQueue::default();
        let mut t = Trace::default();
        let mut cuts = Vec::new();
        let mut at = 0u64;
        for p in pieces {
            let mut sink = |e: Event<'_>| {
                if let Event::Head { cut, .. } = &e {
                    cuts.push(*cut);
                }
                t.record(e);
            };
            match p {
                Ok(bytes) => {
                    f.feed_events(at, bytes, &mut q, &mut sink);
                    at += bytes.len() as u64;
                }
                Err(len) => {
                    f.missing_events(at, *len, Missing::NotCaptured, &mut q, &mut sink);
                    at += len;
                }
            }
        }
        f.finish_events(at, &mut |e| t.record(e));
        (t, cuts)
    }

    #[test]
    fn a_head_cut_by_the_snap_length_still_gives_its_captured_lines() {
        // cases/snaplen-cut-http.pcap: 74 of 1000 bytes captured per segment; the head's last
        // captured line (`Content-Length: 3`) is cut in the middle.
        let first: &[u8] =
            b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 3";
        let next: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nworld";
        let (t, cuts) = run_cut(
            Role::Responses,
            &[
                Ok(first),
                Err(926),
                Ok(&[b'9'; 74]),
                Err(926),
                Ok(&[b'0'; 74]),
                Err(7),
                Ok(next),
            ],
        );
        let first_len = first.len() as u64;
        // The cut head: its whole lines (status line and Content-Type), no length known.
        assert_eq!(cuts, vec![true, false]);
        // 17 + 40 bytes of lines, and the blank line standing for the end of the head.
        assert_eq!(t.heads[0].1, 17 + 40 + 2);
        assert_eq!(t.heads[0].2, BodyKind::UntilClose);
        // Message 0 runs up to the next status line, incomplete; message 1 is whole.
        let end0 = first_len + 926 + 74 + 926 + 74 + 7;
        assert_eq!(
            t.messages,
            vec![
                msg(0, 0, end0 as usize, false),
                msg(1, end0 as usize, end0 as usize + next.len(), true)
            ]
        );
        // Every missing run is reported on message 0, none as junk skipped.
        let missing: Vec<(Option<u64>, u64)> = t
            .issues
            .iter()
            .map(|i| match i.kind {
                IssueKind::NotCaptured { len, .. } => (i.message, len),
                ref k => panic!("unexpected issue {k:?}"),
            })
            .collect();
        assert_eq!(missing, vec![(Some(0), 926), (Some(0), 926), (Some(0), 7)]);
    }

    #[test]
    fn a_cut_inside_a_body_of_known_length_keeps_framing() {
        let head: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789";
        let (t, cuts) = run_cut(
            Role::Responses,
            &[Ok(head), Err(90), Ok(b"HTTP/1.1 204 No Content\r\n\r\n")],
        );
        assert_eq!(cuts, vec![false, false]);
        assert_eq!(t.messages.len(), 2);
        assert!(!t.messages[0].complete && t.messages[1].complete);
        assert_eq!(t.body_counts, vec![100, 0]);
        assert!(matches!(
            t.issues[..],
            [Issue {
                kind: IssueKind::NotCaptured {
                    len: 90,
                    resynced: true
                },
                ..
            }]
        ));
    }

    #[test]
    fn a_cut_request_head_gives_its_request_line_and_the_next_request_is_found() {
        let captured: &[u8] = b"GET /big HTTP/1.1\r\nHost: h\r\nCookie: a=b";
        let (t, cuts) = run_cut(Role::Requests, &[Ok(captured), Err(500)]);
        assert_eq!(cuts, vec![true]);
        assert_eq!(t.messages, vec![msg(0, 0, captured.len() + 500, false)]);
        // Each request cut by the snap length; the next one starts its own segment.
        let next: &[u8] = b"GET /next HTTP/1.1\r\nHost: h\r\nCookie: c";
        let (t, cuts) = run_cut(
            Role::Requests,
            &[
                Ok(captured),
                Err(500),
                Ok(b"more cookie"),
                Err(9),
                Ok(next),
                Err(400),
            ],
        );
        assert_eq!(cuts, vec![true, true]);
        let end0 = captured.len() + 500 + 11 + 9;
        assert_eq!(
            t.messages,
            vec![
                msg(0, 0, end0, false),
                msg(1, end0, end0 + next.len() + 400, false)
            ]
        );
        // Not even the start line: nothing to report but the missing bytes.
        let (t, cuts) = run_cut(Role::Responses, &[Ok(b"HTTP/1.1 2"), Err(500)]);
        assert!(cuts.is_empty() && t.heads.is_empty());
        assert_eq!(t.messages.len(), 1);
        assert!(!t.messages[0].complete);
    }

    #[test]
    fn head_limit_bounds_memory() {
        let mut f = MessageFramer::with_head_limit(Role::Requests, 32);
        let mut out = FramerOutput::default();
        let mut long = b"GET /".to_vec();
        long.extend(std::iter::repeat_n(b'a', 100));
        for (i, b) in long.chunks(7).enumerate() {
            f.feed((i * 7) as u64, b, &mut out);
            assert!(f.buf.len() <= 33);
        }
        assert_eq!(out.issues.len(), 1);
        assert!(out.issues[0].reason.contains("longer than 32 bytes"));
        // Framing stopped: later bytes give nothing.
        f.feed(105, GET_A, &mut out);
        assert!(out.messages.len() <= 1);
    }

    #[test]
    fn conflicting_content_length_uses_the_first_and_says_so() {
        let stream: &[u8] =
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 4\r\n\r\nabHTTP/1.1 204 X\r\n\r\n";
        let t = assert_split_invariant(Role::Responses, stream);
        assert_eq!(t.messages.len(), 2);
        assert_eq!(
            t.issues[0].kind,
            IssueKind::ConflictingContentLength { first: 2, other: 4 }
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        #[test]
        fn random_cuts_give_the_same_messages(cuts in proptest::collection::btree_set(1usize..150, 0..12)) {
            let stream = [GET_A, POST_B, POST_C, GET_D].concat();
            let cuts: Vec<usize> = cuts.into_iter().filter(|&c| c < stream.len()).collect();
            proptest::prop_assert_eq!(run(Role::Requests, &stream, &cuts), run(Role::Requests, &stream, &[]));
        }

        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(proptest::num::u8::ANY, 0..300), cut in 0usize..300) {
            for role in [Role::Requests, Role::Responses] {
                let cut = cut.min(data.len());
                let _ = run(role, &data, &[cut]);
            }
        }
    }
}
