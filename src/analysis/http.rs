//! HTTP/1.x transactions over one TCP stream: requests paired with responses in order
//! (keep-alive and pipelining give several per stream), with timing, frame numbers and warnings
//! that explain what a broken client or server did wrong.
//!
//! Owns pairing, per-transaction summaries, packet labels and optional body extraction. It does
//! not own byte syntax (`app::http`) or message boundaries (`framing::http`). In: the stream's
//! in-order bytes per direction, in capture order, with frame numbers and times. Out: owned
//! [`Transaction`]s and [`Label`]s.
//!
//! ```
//! use std::time::Duration;
//! use pcaplab::analysis::http::{Options, StreamAnalyzer};
//! use pcaplab::capture::FrameNumber;
//! use pcaplab::flow::Direction;
//!
//! let client = "10.0.0.1:40000".parse().unwrap();
//! let server = "10.0.0.2:80".parse().unwrap();
//! let mut a = StreamAnalyzer::new(0, client, server, Options::default());
//! a.on_data(Direction::ClientToServer, 0, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
//!           FrameNumber(4), Duration::from_millis(100));
//! a.on_data(Direction::ServerToClient, 0, b"HTTP/1.1 204 No Content\r\n\r\n",
//!           FrameNumber(6), Duration::from_millis(130));
//! let mut done = Vec::new();
//! a.take_finished(&mut done);
//! assert_eq!(done[0].status, Some(204));
//! assert!(done[0].warnings.is_empty());
//! ```

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::app::http::{ContentLength, Head, StartLine, TransferCoding};
use crate::capture::FrameNumber;
use crate::flow::Direction;
use crate::framing::http::{BodyKind, ConversationFramer, Event, Issue, IssueKind, NoBody};

/// Longest text kept from a start line or header value, in bytes; longer text is cut with `…`.
const MAX_TEXT: usize = 2048;
/// Longest file-name part taken from a URI.
const MAX_NAME_PART: usize = 64;

/// What the analyzer does besides summarising.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Write response bodies to files (de-chunked, optionally decoded).
    pub bodies: Option<BodyOptions>,
}

/// Where and how response bodies are written.
#[derive(Debug, Clone)]
pub struct BodyOptions {
    /// Directory the files go in (must exist); nothing is written outside it.
    pub dir: PathBuf,
    /// Decode `Content-Encoding: gzip` / `deflate` bodies (the CLI's `--decode`).
    pub decode: bool,
}

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
    /// Bytes that were skipped to find the next response.
    SkippedBytes,
    /// The body could not be written or decoded.
    BodyExtraction,
}

/// One finding on a transaction, with a sentence that teaches what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Warning {
    /// Stable kind.
    pub kind: WarningKind,
    /// Explanation for a student.
    pub message: String,
}

/// A body written to disk.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ExtractedBody {
    /// The file, inside the chosen directory.
    pub path: PathBuf,
    /// Bytes written (after decoding when it was decoded).
    pub size: u64,
    /// SHA-256 of the bytes written, lowercase hex.
    pub sha256: String,
    /// True when a Content-Encoding was decoded.
    pub decoded: bool,
}

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
    /// What went wrong.
    pub warnings: Vec<Warning>,
}

fn ser_opt_secs<S: serde::Serializer>(t: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(d) => s.serialize_f64(d.as_secs_f64()),
        None => s.serialize_none(),
    }
}

/// What a segment carried, for per-packet labels.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Label {
    /// The frame.
    pub frame: FrameNumber,
    /// Its direction.
    pub direction: Direction,
    /// Index of the message in that direction.
    pub message: u64,
    /// Transaction index, once known.
    pub transaction: Option<u64>,
    /// True when the message starts in this frame; false for a continuation.
    pub is_start: bool,
    /// Wireshark-like info for a start (`GET /index.html HTTP/1.1`,
    /// `HTTP/1.1 200 OK  (text/html)`); `None` for continuations and unparseable starts.
    pub info: Option<String>,
}

/// A transaction being built.
#[derive(Debug)]
struct Slot {
    tx: Transaction,
    request_started: bool,
    request_done: bool,
    request_end_time: Option<Duration>,
    response_done: bool,
    response_end_time: Option<Duration>,
    response_first_time: Option<Duration>,
    request_keep_close: bool,
    body: Option<BodyFile>,
}

/// Per-direction progress.
#[derive(Debug, Default)]
struct Side {
    /// Frame and time of the first byte of the message being read.
    begin: Option<(u64, FrameNumber, Duration)>,
    /// Transaction of the message being read, once its head is parsed.
    tx: Option<u64>,
    /// Transaction of the last message finished.
    last_tx: Option<u64>,
    /// Warnings found before the message had a transaction.
    pending: Vec<Warning>,
    /// Frame and time of the last data seen.
    last_data: Option<(FrameNumber, Duration)>,
    ended: bool,
}

/// The HTTP analysis of one TCP stream. Keep one per stream whose first bytes look like HTTP
/// (`app::http::looks_like_http_start`).
#[derive(Debug)]
pub struct StreamAnalyzer {
    stream: u64,
    client: SocketAddr,
    server: SocketAddr,
    options: Options,
    framer: ConversationFramer,
    slots: VecDeque<Slot>,
    first_id: u64,
    next_id: u64,
    /// Oldest transaction still waiting for its final response.
    next_response: u64,
    requests: Side,
    responses: Side,
    labels: Vec<Label>,
    closed: bool,
}

impl StreamAnalyzer {
    /// An analyzer for stream `stream` between `client` and `server`.
    pub fn new(stream: u64, client: SocketAddr, server: SocketAddr, options: Options) -> Self {
        Self {
            stream,
            client,
            server,
            options,
            framer: ConversationFramer::new(),
            slots: VecDeque::new(),
            first_id: 0,
            next_id: 0,
            next_response: 0,
            requests: Side::default(),
            responses: Side::default(),
            labels: Vec::new(),
            closed: false,
        }
    }

    /// The next in-order bytes of `direction` at stream `offset`, carried by `frame` at `ts`.
    /// Call in capture order across both directions.
    pub fn on_data(
        &mut self,
        direction: Direction,
        offset: u64,
        bytes: &[u8],
        frame: FrameNumber,
        ts: Duration,
    ) {
        if bytes.is_empty() {
            return;
        }
        let side = self.side_mut(direction);
        side.last_data = Some((frame, ts));
        let tx = side.tx;
        if let Some(message) = self.framer.side(direction).current_index() {
            self.labels.push(Label {
                frame,
                direction,
                message,
                transaction: tx,
                is_start: false,
                info: None,
            });
        }
        let mut framer = std::mem::take(&mut self.framer);
        framer.feed_events(direction, offset, bytes, &mut |e| {
            self.on_event(direction, e, frame, ts);
        });
        self.framer = framer;
    }

    /// `len` bytes of `direction` at `offset` were never captured.
    pub fn on_gap(&mut self, direction: Direction, offset: u64, len: u64) {
        let (frame, ts) = self.side_mut(direction).last_data.unwrap_or_default();
        let mut framer = std::mem::take(&mut self.framer);
        framer.gap_events(direction, offset, len, &mut |e| {
            self.on_event(direction, e, frame, ts);
        });
        self.framer = framer;
    }

    /// `direction` ended at stream `offset` (FIN, RST) in `frame` at `ts`; `None` ends both
    /// directions (end of capture, or a reset), each where its bytes ended, and `offset` is
    /// ignored. A close-delimited response ends here, so `frame` becomes its last frame, as in
    /// Wireshark.
    pub fn on_end(
        &mut self,
        direction: Option<Direction>,
        offset: u64,
        frame: FrameNumber,
        ts: Duration,
    ) {
        let dirs: &[Direction] = match direction {
            Some(Direction::ClientToServer) => &[Direction::ClientToServer],
            Some(Direction::ServerToClient) => &[Direction::ServerToClient],
            None => &[Direction::ClientToServer, Direction::ServerToClient],
        };
        for &dir in dirs {
            if self.side_mut(dir).ended {
                continue;
            }
            self.side_mut(dir).ended = true;
            let end = if direction.is_some() { offset } else { 0 };
            let mut framer = std::mem::take(&mut self.framer);
            framer.finish_events(dir, end, &mut |e| self.on_event(dir, e, frame, ts));
            self.framer = framer;
        }
        if self.requests.ended && self.responses.ended {
            self.close_all();
        }
    }

    /// Moves finished transactions, oldest first, into `out`; a transaction is finished once
    /// both halves ended (or cannot come any more).
    pub fn take_finished(&mut self, out: &mut Vec<Transaction>) {
        while let Some(slot) = self.slots.front() {
            let done = (slot.request_done || !slot.request_started) && slot.response_done;
            if !done {
                break;
            }
            if let Some(slot) = self.slots.pop_front() {
                self.first_id = self.first_id.saturating_add(1);
                out.push(slot.tx);
            }
        }
    }

    /// Ends both directions (end of capture at `frame`, `ts`) and returns every remaining
    /// transaction.
    pub fn finish(mut self, frame: FrameNumber, ts: Duration) -> Vec<Transaction> {
        self.on_end(None, 0, frame, ts);
        let mut out = Vec::new();
        self.take_finished(&mut out);
        out.extend(self.slots.drain(..).map(|s| s.tx));
        out
    }

    /// Moves the labels found since the last call into `out`. A start label may name an earlier
    /// frame than the last one fed, when a head spanned several segments.
    pub fn drain_labels(&mut self, out: &mut Vec<Label>) {
        out.append(&mut self.labels);
    }

    fn side_mut(&mut self, direction: Direction) -> &mut Side {
        match direction {
            Direction::ClientToServer => &mut self.requests,
            Direction::ServerToClient => &mut self.responses,
        }
    }

    fn slot_mut(&mut self, id: u64) -> Option<&mut Slot> {
        let i = usize::try_from(id.checked_sub(self.first_id)?).ok()?;
        self.slots.get_mut(i)
    }

    fn new_slot(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id = self.next_id.saturating_add(1);
        self.slots.push_back(Slot {
            tx: Transaction {
                stream: self.stream,
                index: id,
                time: None,
                client: self.client,
                server: self.server,
                method: None,
                host: None,
                uri: None,
                version: None,
                status: None,
                reason: None,
                content_type: None,
                request_body_bytes: None,
                response_body_bytes: None,
                response_time: None,
                http_time: None,
                response_version: None,
                content_encoding: None,
                interim_statuses: Vec::new(),
                request_frame: None,
                request_end_frame: None,
                response_frame: None,
                response_end_frame: None,
                body_file: None,
                warnings: Vec::new(),
            },
            request_started: false,
            request_done: false,
            request_end_time: None,
            response_done: false,
            response_end_time: None,
            response_first_time: None,
            request_keep_close: false,
            body: None,
        });
        id
    }

    /// The transaction a response-side message belongs to: the oldest waiting for a response,
    /// or a new response-only one.
    fn response_slot(&mut self) -> u64 {
        if self.next_response < self.next_id {
            self.next_response
        } else {
            let id = self.new_slot();
            self.next_response = id;
            id
        }
    }

    fn warn(&mut self, direction: Direction, kind: WarningKind, message: String) {
        let w = Warning { kind, message };
        let side = self.side_mut(direction);
        match side.tx.or(side.last_tx) {
            Some(id) if side.tx.is_some() || side.begin.is_none() => {
                if let Some(slot) = self.slot_mut(id) {
                    slot.tx.warnings.push(w);
                    return;
                }
                self.side_mut(direction).pending.push(w);
            }
            _ => side.pending.push(w),
        }
    }

    fn warn_tx(
        &mut self,
        id: Option<u64>,
        direction: Direction,
        kind: WarningKind,
        message: String,
    ) {
        match id.and_then(|id| self.slot_mut(id)) {
            Some(slot) => slot.tx.warnings.push(Warning { kind, message }),
            None => self.warn(direction, kind, message),
        }
    }

    fn on_event(
        &mut self,
        direction: Direction,
        event: Event<'_>,
        frame: FrameNumber,
        ts: Duration,
    ) {
        match event {
            Event::Begin { index, .. } => {
                let side = self.side_mut(direction);
                side.begin = Some((index, frame, ts));
                side.tx = None;
            }
            Event::Head {
                index, head, body, ..
            } => match direction {
                Direction::ClientToServer => self.on_request_head(index, head),
                Direction::ServerToClient => self.on_response_head(index, head, body),
            },
            Event::Body { data, .. } => {
                if direction == Direction::ServerToClient {
                    self.write_body(data);
                }
            }
            Event::End {
                message,
                body_bytes,
            } => {
                self.on_end_message(direction, message.complete, body_bytes, frame, ts);
            }
            Event::Issue(issue) => self.on_issue(direction, issue),
        }
    }

    fn on_request_head(&mut self, index: u64, head: &Head<'_>) {
        let StartLine::Request(line) = head.start_line else {
            return;
        };
        let id = self.new_slot();
        let (begin_frame, begin_ts) = self.begin_of(Direction::ClientToServer);
        let pending = std::mem::take(&mut self.requests.pending);
        self.requests.tx = Some(id);
        let info = format!(
            "{} {} {}",
            text(line.method),
            text(line.target),
            line.version
        );
        self.labels.push(Label {
            frame: begin_frame,
            direction: Direction::ClientToServer,
            message: index,
            transaction: Some(id),
            is_start: true,
            info: Some(info),
        });
        let Some(slot) = self.slot_mut(id) else {
            return;
        };
        slot.request_started = true;
        slot.request_keep_close = head.headers.has_token("connection", "close");
        let tx = &mut slot.tx;
        tx.warnings.extend(pending);
        tx.time = Some(begin_ts);
        tx.request_frame = Some(begin_frame);
        tx.method = Some(text(line.method));
        tx.uri = Some(text(line.target));
        tx.version = Some(line.version.to_string());
        tx.host = head.headers.get("host").map(text);
        let w = &mut tx.warnings;
        head_warnings(head, "request", w);
        if line.version == crate::app::http::Version::HTTP_11 && tx.host.is_none() {
            w.push(Warning {
                kind: WarningKind::MissingHost,
                message: "HTTP/1.1 request without a Host header: every HTTP/1.1 request must \
                          name the host it is for (RFC 9112 §3.2)"
                    .to_string(),
            });
        }
    }

    fn on_response_head(&mut self, index: u64, head: &Head<'_>, body: BodyKind) {
        let StartLine::Status(line) = head.start_line else {
            return;
        };
        let id = self.response_slot();
        let (begin_frame, begin_ts) = self.begin_of(Direction::ServerToClient);
        let content_type = head.headers.get("content-type").map(text);
        let mut info = format!("{} {} {}", line.version, line.code, text(line.reason));
        if let Some(ct) = &content_type {
            let media = ct.split(';').next().unwrap_or_default().trim();
            info.push_str(&format!("  ({media})"));
        }
        self.labels.push(Label {
            frame: begin_frame,
            direction: Direction::ServerToClient,
            message: index,
            transaction: Some(id),
            is_start: true,
            info: Some(info),
        });
        let pending = std::mem::take(&mut self.responses.pending);
        self.responses.tx = Some(id);
        if line.is_interim() {
            if let Some(slot) = self.slot_mut(id) {
                slot.tx.interim_statuses.push(line.code);
                slot.tx.warnings.extend(pending);
            }
            return;
        }
        // This is the final response: later responses answer later requests.
        self.next_response = id.saturating_add(1);
        let bodies = self.options.bodies.clone();
        let stream = self.stream;
        let Some(slot) = self.slot_mut(id) else {
            return;
        };
        let tx = &mut slot.tx;
        tx.warnings.extend(pending);
        tx.status = Some(line.code);
        tx.reason = Some(text(line.reason));
        tx.response_version = Some(line.version.to_string());
        tx.content_type = content_type;
        tx.content_encoding = head.headers.get("content-encoding").map(text);
        tx.response_frame = Some(begin_frame);
        slot.response_first_time = Some(begin_ts);
        if !slot.request_started {
            tx.time = Some(begin_ts);
            tx.version = Some(line.version.to_string());
        } else if !slot.request_done {
            tx.warnings.push(Warning {
                kind: WarningKind::ResponseBeforeRequestComplete,
                message: "the server started its response before the request was complete: \
                          read the whole request (headers up to the blank line, then the body) \
                          before answering"
                    .to_string(),
            });
        }
        head_warnings(head, "response", &mut tx.warnings);
        let keep_alive = if line.version == crate::app::http::Version::HTTP_10 {
            head.headers.has_token("connection", "keep-alive")
        } else {
            !head.headers.has_token("connection", "close")
        };
        if body == BodyKind::UntilClose
            && keep_alive
            && !slot.request_keep_close
            && head.headers.transfer_coding() == TransferCoding::Absent
            && head.headers.content_length() == ContentLength::Absent
        {
            tx.warnings.push(Warning {
                kind: WarningKind::KeepAliveWithoutLength,
                message: "response has neither Content-Length nor Transfer-Encoding: chunked on \
                          a keep-alive connection, so the client can only find the end of the \
                          body when the server closes the connection (RFC 9112 §6.3); send \
                          Content-Length or Connection: close"
                    .to_string(),
            });
        }
        let has_body = matches!(body, BodyKind::Chunked | BodyKind::UntilClose)
            || matches!(body, BodyKind::Length(n) if n > 0);
        if let (Some(opts), true) = (bodies, has_body) {
            let encoding = if opts.decode {
                tx.content_encoding
                    .as_deref()
                    .and_then(Encoding::from_header)
            } else {
                None
            };
            match BodyFile::create(&opts.dir, stream, id, tx.uri.as_deref(), encoding) {
                Ok(f) => slot.body = Some(f),
                Err(e) => slot.tx.warnings.push(Warning {
                    kind: WarningKind::BodyExtraction,
                    message: format!("could not create the body file: {e}"),
                }),
            }
        }
    }

    fn begin_of(&self, direction: Direction) -> (FrameNumber, Duration) {
        let side = match direction {
            Direction::ClientToServer => &self.requests,
            Direction::ServerToClient => &self.responses,
        };
        side.begin
            .map(|(_, f, t)| (f, t))
            .or(side.last_data)
            .unwrap_or_default()
    }

    fn write_body(&mut self, data: &[u8]) {
        let Some(id) = self.responses.tx else {
            return;
        };
        let Some(slot) = self.slot_mut(id) else {
            return;
        };
        if let Some(body) = slot.body.as_mut()
            && let Err(e) = body.write(data)
        {
            slot.body = None;
            slot.tx.warnings.push(Warning {
                kind: WarningKind::BodyExtraction,
                message: format!("body extraction stopped: {e}"),
            });
        }
    }

    fn on_end_message(
        &mut self,
        direction: Direction,
        complete: bool,
        body_bytes: u64,
        frame: FrameNumber,
        ts: Duration,
    ) {
        let side = self.side_mut(direction);
        let begin = side.begin.take();
        let Some(id) = side.tx.take() else {
            // A message that never got a parsed head: give its warnings a row.
            self.orphan_message(direction, begin);
            return;
        };
        side.last_tx = Some(id);
        let Some(slot) = self.slot_mut(id) else {
            return;
        };
        match direction {
            Direction::ClientToServer => {
                slot.request_done = true;
                slot.request_end_time = Some(ts);
                slot.tx.request_end_frame = Some(frame);
                slot.tx.request_body_bytes = Some(body_bytes);
            }
            Direction::ServerToClient => {
                if slot.tx.status.is_none() {
                    // An interim (1xx) response ended; the final one is still to come.
                    return;
                }
                slot.response_done = true;
                slot.response_end_time = Some(ts);
                slot.tx.response_end_frame = Some(frame);
                slot.tx.response_body_bytes = Some(body_bytes);
                if let (Some(req_end), Some(first)) =
                    (slot.request_end_time, slot.response_first_time)
                {
                    slot.tx.response_time = Some(signed_secs(first, req_end));
                    slot.tx.http_time = Some(signed_secs(ts, req_end));
                }
                if let Some(body) = slot.body.take() {
                    match body.finish() {
                        Ok(b) => slot.tx.body_file = Some(b),
                        Err(e) => slot.tx.warnings.push(Warning {
                            kind: WarningKind::BodyExtraction,
                            message: format!("could not finish the body file: {e}"),
                        }),
                    }
                    if !complete {
                        slot.tx.warnings.push(Warning {
                            kind: WarningKind::BodyExtraction,
                            message: "the extracted body is incomplete".to_string(),
                        });
                    }
                }
            }
        }
    }

    /// A message whose head never parsed ended: its pending warnings go to a transaction row.
    fn orphan_message(
        &mut self,
        direction: Direction,
        begin: Option<(u64, FrameNumber, Duration)>,
    ) {
        let pending = std::mem::take(&mut self.side_mut(direction).pending);
        if pending.is_empty() {
            return;
        }
        let (frame, ts) = begin.map(|(_, f, t)| (f, t)).unwrap_or_default();
        if let Some((index, ..)) = begin {
            self.labels.push(Label {
                frame,
                direction,
                message: index,
                transaction: None,
                is_start: true,
                info: None,
            });
        }
        let id = match direction {
            Direction::ClientToServer => {
                let id = self.new_slot();
                if let Some(slot) = self.slot_mut(id) {
                    slot.request_started = true;
                    slot.request_done = true;
                    slot.tx.time = Some(ts);
                    slot.tx.request_frame = Some(frame);
                }
                id
            }
            Direction::ServerToClient => {
                let id = self.response_slot();
                self.next_response = id.saturating_add(1);
                if let Some(slot) = self.slot_mut(id) {
                    slot.response_done = true;
                    slot.tx.response_frame = Some(frame);
                    if !slot.request_started {
                        slot.tx.time = Some(ts);
                    }
                }
                id
            }
        };
        self.side_mut(direction).last_tx = Some(id);
        if let Some(slot) = self.slot_mut(id) {
            slot.tx.warnings.extend(pending);
        }
    }

    fn on_issue(&mut self, direction: Direction, issue: Issue) {
        let what = match direction {
            Direction::ClientToServer => "request",
            Direction::ServerToClient => "response",
        };
        let last = self.side_mut(direction).last_tx;
        let (kind, message, on_previous) = match issue.kind {
            IssueKind::InvalidStartLine { expected } => {
                let kind = match direction {
                    Direction::ClientToServer => WarningKind::InvalidRequestLine,
                    Direction::ServerToClient => WarningKind::InvalidStatusLine,
                };
                let example = match direction {
                    Direction::ClientToServer => "GET /path HTTP/1.1",
                    Direction::ServerToClient => "HTTP/1.1 200 OK",
                };
                (
                    kind,
                    format!(
                        "the {what} does not start with a valid {} line like `{example}` \
                         (expected {expected} at stream offset {})",
                        if direction == Direction::ClientToServer {
                            "request"
                        } else {
                            "status"
                        },
                        issue.offset
                    ),
                    false,
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
                    true,
                ),
                BodyKind::None(NoBody::HeadRequest) => (
                    WarningKind::BodyNotAllowed,
                    "the response to a HEAD request carried a body: a HEAD response has \
                     the headers of a GET response but never a body (RFC 9110 §9.3.2)"
                        .to_string(),
                    true,
                ),
                BodyKind::None(NoBody::Status(code)) => (
                    WarningKind::BodyNotAllowed,
                    format!(
                        "a {code} response carried a body, which that status never has (RFC 9112 §6.3)"
                    ),
                    true,
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
                    false,
                ),
            },
            IssueKind::InvalidHeaderLine { expected } => (
                WarningKind::InvalidHeaderLine,
                format!(
                    "invalid {what} header line at stream offset {} (expected {expected}); \
                     each header is `Name: value` and the headers end with an empty line",
                    issue.offset
                ),
                false,
            ),
            IssueKind::MissingBlankLine => (
                WarningKind::MissingBlankLine,
                format!(
                    "the {what} headers are not followed by a blank line: the next request or \
                     status line came first; end the headers with an empty line (CRLF CRLF)"
                ),
                false,
            ),
            IssueKind::TruncatedHead => (
                WarningKind::MissingBlankLine,
                format!(
                    "the connection closed before the blank line that ends the {what} headers: \
                     end the headers with an empty line (CRLF CRLF)"
                ),
                false,
            ),
            IssueKind::HeadTooLong { limit } => (
                WarningKind::HeadTooLong,
                format!(
                    "{what} head longer than {limit} bytes without the blank line that ends it"
                ),
                false,
            ),
            IssueKind::InvalidChunk { expected } => (
                WarningKind::InvalidChunkedBody,
                format!(
                    "invalid chunked {what} body at stream offset {} (expected {expected}); each \
                     chunk is `<hex size>CRLF<data>CRLF` and the body ends with `0CRLFCRLF`",
                    issue.offset
                ),
                false,
            ),
            IssueKind::InvalidContentLength => (
                WarningKind::InvalidContentLength,
                format!("the {what} Content-Length is not a decimal number"),
                false,
            ),
            IssueKind::ConflictingContentLength { first, other } => (
                WarningKind::ConflictingContentLength,
                format!(
                    "the {what} has two different Content-Length values ({first} and {other}); \
                     send exactly one"
                ),
                false,
            ),
            IssueKind::ContentLengthWithTransferEncoding => (
                WarningKind::ContentLengthWithTransferEncoding,
                format!(
                    "the {what} has both Content-Length and Transfer-Encoding; receivers must \
                     ignore Content-Length (RFC 9112 §6.3), so send only one"
                ),
                false,
            ),
            IssueKind::UnframeableRequestCoding => (
                WarningKind::InvalidChunkedBody,
                "the request's Transfer-Encoding does not end in chunked, so the server cannot \
                 tell where its body ends"
                    .to_string(),
                false,
            ),
            IssueKind::BareLfInChunked => (
                WarningKind::BareLf,
                format!("lines of the chunked {what} body end with LF only instead of CRLF"),
                false,
            ),
            IssueKind::TruncatedBody { expected, received } => (
                WarningKind::BodyShorterThanContentLength,
                format!(
                    "the connection closed after {received} of the {expected} {what} body bytes \
                     announced by Content-Length: the body sent is shorter than Content-Length"
                ),
                false,
            ),
            IssueKind::TruncatedChunked { received } => (
                WarningKind::ClosedMidBody,
                format!(
                    "the connection closed in the middle of the chunked {what} body (after \
                     {received} bytes, before the last `0` chunk)"
                ),
                false,
            ),
            IssueKind::Gap { len, .. } => (
                WarningKind::CaptureGap,
                format!("{len} bytes of the {what} were not captured"),
                false,
            ),
            IssueKind::Resynced { skipped } => (
                WarningKind::SkippedBytes,
                format!(
                    "skipped {skipped} bytes of the server's data that were not HTTP, up to the next response"
                ),
                true,
            ),
        };
        if on_previous {
            self.warn_tx(last, direction, kind, message);
        } else {
            self.warn(direction, kind, message);
        }
    }

    /// Both directions ended: flag the halves that never came.
    fn close_all(&mut self) {
        if std::mem::replace(&mut self.closed, true) {
            return;
        }
        for i in 0..self.slots.len() {
            let Some(slot) = self.slots.get_mut(i) else {
                continue;
            };
            if slot.request_started && slot.tx.status.is_none() && !slot.response_done {
                slot.tx.warnings.push(Warning {
                    kind: WarningKind::MissingResponse,
                    message: "no response to this request: the connection closed (or the \
                              capture ended) before the server answered"
                        .to_string(),
                });
            }
            if !slot.request_started {
                slot.tx.warnings.push(Warning {
                    kind: WarningKind::MissingRequest,
                    message: "response without a request: the request is missing from the \
                              capture (or the server spoke first)"
                        .to_string(),
                });
            }
            slot.request_done = true;
            slot.response_done = true;
            if let Some(body) = slot.body.take()
                && let Ok(b) = body.finish()
            {
                slot.tx.body_file = Some(b);
            }
        }
    }
}

/// Warnings that come from how a head was written.
fn head_warnings(head: &Head<'_>, what: &str, w: &mut Vec<Warning>) {
    if head.bare_lf {
        w.push(Warning {
            kind: WarningKind::BareLf,
            message: format!(
                "{what} lines end with LF (\\n) only; HTTP requires CRLF (\\r\\n) at the end \
                 of the start line and of each header line (RFC 9112 §2.2)"
            ),
        });
    }
    if head.obs_fold {
        w.push(Warning {
            kind: WarningKind::ObsoleteLineFolding,
            message: format!(
                "a {what} header value continues on a line starting with a space (obsolete \
                 line folding, RFC 9112 §5.2); put each header on one line"
            ),
        });
    }
    let version = head.start_line.version();
    if !version.is_http1() {
        w.push(Warning {
            kind: WarningKind::UnsupportedVersion,
            message: format!("{what} version {version} is not HTTP/1.0 or HTTP/1.1"),
        });
    }
}

/// `a - b` in seconds, negative when `a` is earlier.
fn signed_secs(a: Duration, b: Duration) -> f64 {
    if a >= b {
        (a - b).as_secs_f64()
    } else {
        -(b - a).as_secs_f64()
    }
}

/// Bytes as display text: UTF-8 kept, control characters and invalid bytes escaped (`\xNN`),
/// cut at [`MAX_TEXT`].
fn text(bytes: &[u8]) -> String {
    let (bytes, cut) = match bytes.get(..MAX_TEXT) {
        Some(b) if bytes.len() > MAX_TEXT => (b, true),
        _ => (bytes, false),
    };
    let mut s = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c.is_control() {
                s.extend(c.escape_default());
            } else {
                s.push(c);
            }
        }
        for b in chunk.invalid() {
            s.push_str(&format!("\\x{b:02x}"));
        }
    }
    if cut {
        s.push('…');
    }
    s
}

/// A content coding the body writer can undo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// `gzip` / `x-gzip` (RFC 9110 §8.4.1.3).
    Gzip,
    /// `deflate`: zlib-wrapped deflate (RFC 9110 §8.4.1.2).
    Deflate,
}

impl Encoding {
    /// The coding named by a Content-Encoding value, when it is one coding this can undo.
    pub fn from_header(value: &str) -> Option<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "gzip" | "x-gzip" => Some(Encoding::Gzip),
            "deflate" => Some(Encoding::Deflate),
            _ => None,
        }
    }
}

/// Counts and hashes what goes through it.
#[derive(Debug)]
struct Hashing<W> {
    inner: W,
    hasher: Sha256,
    size: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        let written = buf.get(..n).unwrap_or_default();
        self.hasher.update(written);
        self.size = self.size.saturating_add(n as u64);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

type Sink = Hashing<BufWriter<File>>;

#[derive(Debug)]
enum Out {
    Plain(Sink),
    Gzip(flate2::write::GzDecoder<Sink>),
    Deflate(flate2::write::ZlibDecoder<Sink>),
}

/// One body being streamed to a file inside a directory, optionally decoded, hashed as written.
#[derive(Debug)]
pub struct BodyFile {
    path: PathBuf,
    out: Out,
}

impl BodyFile {
    /// Creates `dir/<safe name>` for transaction `transaction` of stream `stream` (see
    /// [`safe_file_name`]); an existing file of that name is replaced.
    ///
    /// # Errors
    ///
    /// The I/O error from creating the file.
    pub fn create(
        dir: &Path,
        stream: u64,
        transaction: u64,
        uri: Option<&str>,
        encoding: Option<Encoding>,
    ) -> io::Result<Self> {
        let path = dir.join(safe_file_name(stream, transaction, uri.unwrap_or_default()));
        let file = File::create(&path)?;
        let sink = Hashing {
            inner: BufWriter::new(file),
            hasher: Sha256::new(),
            size: 0,
        };
        let out = match encoding {
            None => Out::Plain(sink),
            Some(Encoding::Gzip) => Out::Gzip(flate2::write::GzDecoder::new(sink)),
            Some(Encoding::Deflate) => Out::Deflate(flate2::write::ZlibDecoder::new(sink)),
        };
        Ok(Self { path, out })
    }

    /// Appends body bytes (still encoded when decoding is on).
    ///
    /// # Errors
    ///
    /// An I/O error, or invalid compressed data.
    pub fn write(&mut self, data: &[u8]) -> io::Result<()> {
        match &mut self.out {
            Out::Plain(w) => w.write_all(data),
            Out::Gzip(w) => w.write_all(data),
            Out::Deflate(w) => w.write_all(data),
        }
    }

    /// Flushes the file and returns where it is, its size and its SHA-256.
    ///
    /// # Errors
    ///
    /// An I/O error, or compressed data that ended early.
    pub fn finish(self) -> io::Result<ExtractedBody> {
        let (sink, decoded) = match self.out {
            Out::Plain(w) => (w, false),
            Out::Gzip(w) => (w.finish()?, true),
            Out::Deflate(w) => (w.finish()?, true),
        };
        let Hashing {
            mut inner,
            hasher,
            size,
        } = sink;
        inner.flush()?;
        let digest = hasher.finalize();
        let sha256 = digest.iter().map(|b| format!("{b:02x}")).collect();
        Ok(ExtractedBody {
            path: self.path,
            size,
            sha256,
            decoded,
        })
    }
}

/// A file name for a body that cannot leave its directory: `<stream>-<transaction>-<name>`,
/// where `<name>` is the last path segment of `uri` (query and fragment dropped) keeping only
/// ASCII letters, digits, `.`, `-` and `_` (others become `_`), without leading dots, at most
/// 64 bytes, or `body` when nothing is left.
///
/// ```
/// use pcaplab::analysis::http::safe_file_name;
/// assert_eq!(safe_file_name(3, 1, "/img/cat.png?x=1"), "3-1-cat.png");
/// assert_eq!(safe_file_name(0, 0, "/../../etc/passwd"), "0-0-passwd");
/// assert_eq!(safe_file_name(0, 2, "/"), "0-2-body");
/// ```
pub fn safe_file_name(stream: u64, transaction: u64, uri: &str) -> String {
    let path = uri.split(['?', '#']).next().unwrap_or_default();
    let segment = path
        .rsplit(['/', '\\'])
        .find(|s| !s.is_empty())
        .unwrap_or_default();
    let cleaned: String = segment
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .skip_while(|&c| c == '.')
        .take(MAX_NAME_PART)
        .collect();
    let name = if cleaned.is_empty() {
        "body"
    } else {
        cleaned.as_str()
    };
    format!("{stream}-{transaction}-{name}")
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    const C2S: Direction = Direction::ClientToServer;
    const S2C: Direction = Direction::ServerToClient;

    fn addrs() -> (SocketAddr, SocketAddr) {
        (
            "10.0.0.1:40000".parse().unwrap(),
            "10.0.0.2:80".parse().unwrap(),
        )
    }

    fn analyzer(options: Options) -> StreamAnalyzer {
        let (c, s) = addrs();
        StreamAnalyzer::new(7, c, s, options)
    }

    /// Feeds `(direction, bytes)` steps as frames 1, 2, ... at 1 ms apart, ends both directions
    /// with a FIN each, and returns the transactions.
    fn drive(steps: &[(Direction, &[u8])]) -> Vec<Transaction> {
        let mut a = analyzer(Options::default());
        let mut off = [0u64; 2];
        let mut frame = 0;
        for (dir, bytes) in steps {
            frame += 1;
            let o = &mut off[*dir as usize];
            a.on_data(
                *dir,
                *o,
                bytes,
                FrameNumber(frame),
                Duration::from_millis(frame),
            );
            *o += bytes.len() as u64;
        }
        for dir in [S2C, C2S] {
            frame += 1;
            a.on_end(
                Some(dir),
                off[dir as usize],
                FrameNumber(frame),
                Duration::from_millis(frame),
            );
        }
        a.finish(FrameNumber(frame), Duration::from_millis(frame))
    }

    fn kinds(tx: &Transaction) -> Vec<WarningKind> {
        tx.warnings.iter().map(|w| w.kind).collect()
    }

    #[test]
    fn pipelined_keep_alive_pairs_in_order_with_labels() {
        let mut a = analyzer(Options::default());
        let reqs: &[u8] = b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\nHEAD /3 HTTP/1.1\r\nHost: h\r\n\r\n";
        a.on_data(C2S, 0, reqs, FrameNumber(1), Duration::from_secs(1));
        let r1: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nA";
        let r2: &[u8] =
            b"HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: 2\r\n\r\nBB";
        let r3: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n";
        let all = [r1, r2, r3].concat();
        // The three responses cut into two segments in the middle of the second.
        a.on_data(S2C, 0, &all[..50], FrameNumber(2), Duration::from_secs(2));
        a.on_data(S2C, 50, &all[50..], FrameNumber(3), Duration::from_secs(3));
        let mut done = Vec::new();
        a.take_finished(&mut done);
        assert_eq!(done.len(), 3);
        let got: Vec<_> = done
            .iter()
            .map(|t| {
                (
                    t.uri.clone().unwrap(),
                    t.status.unwrap(),
                    t.response_body_bytes.unwrap(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("/1".into(), 200, 1),
                ("/2".into(), 404, 2),
                ("/3".into(), 200, 0)
            ]
        );
        assert!(done.iter().all(|t| t.warnings.is_empty()));
        let mut labels = Vec::new();
        a.drain_labels(&mut labels);
        let summary: Vec<_> = labels
            .iter()
            .map(|l| (l.frame.0, l.direction, l.message, l.is_start))
            .collect();
        // The second response's head is split over frames 2 and 3: its start label (frame 2)
        // comes once the head is whole, after frame 3's continuation label.
        assert_eq!(
            summary,
            vec![
                (1, C2S, 0, true),
                (1, C2S, 1, true),
                (1, C2S, 2, true),
                (2, S2C, 0, true),
                (3, S2C, 1, false),
                (2, S2C, 1, true),
                (3, S2C, 2, true),
            ]
        );
        assert_eq!(
            labels[5].info.as_deref(),
            Some("HTTP/1.1 404 Not Found  (text/html)")
        );
    }

    #[test]
    fn each_student_mistake_gets_its_warning() {
        use WarningKind as W;
        let get: &[u8] = b"GET / HTTP/1.1\r\nHost: h\r\n\r\n";
        /// (name, segments in capture order, expected warning kinds per transaction)
        type Case<'a> = (&'a str, Vec<(Direction, &'a [u8])>, Vec<Vec<WarningKind>>);
        let cases: Vec<Case<'_>> = vec![
            (
                "lf only",
                vec![
                    (C2S, b"GET / HTTP/1.1\nHost: h\n\n"),
                    (S2C, b"HTTP/1.1 204 OK\n\n"),
                ],
                vec![vec![W::BareLf, W::BareLf]],
            ),
            (
                "no blank line before the next request",
                vec![
                    (
                        C2S,
                        b"GET /a HTTP/1.1\r\nHost: h\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n",
                    ),
                    (S2C, b"HTTP/1.1 204 A\r\n\r\nHTTP/1.1 204 B\r\n\r\n"),
                ],
                vec![vec![W::MissingBlankLine], vec![]],
            ),
            (
                "server closes before the blank line",
                vec![
                    (C2S, get),
                    (S2C, b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n"),
                ],
                vec![vec![W::MissingBlankLine]],
            ),
            (
                "keep-alive without length",
                vec![
                    (C2S, get),
                    (
                        S2C,
                        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<p>hi</p>",
                    ),
                ],
                vec![vec![W::KeepAliveWithoutLength]],
            ),
            (
                "close-delimited with Connection: close is fine",
                vec![
                    (C2S, get),
                    (
                        S2C,
                        b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n<p>hi</p>",
                    ),
                ],
                vec![vec![]],
            ),
            (
                "body shorter than content-length",
                vec![
                    (C2S, get),
                    (
                        S2C,
                        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789",
                    ),
                ],
                vec![vec![W::BodyShorterThanContentLength]],
            ),
            (
                // Content-Length counted characters: "héllo" is 6 bytes.
                "body longer than content-length",
                vec![
                    (C2S, get),
                    (
                        S2C,
                        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhéllo".as_bytes(),
                    ),
                ],
                vec![vec![W::BodyLongerThanContentLength]],
            ),
            (
                "conflicting content-length",
                vec![
                    (C2S, get),
                    (
                        S2C,
                        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nab",
                    ),
                ],
                vec![vec![W::ConflictingContentLength]],
            ),
            (
                "missing host",
                vec![
                    (C2S, b"GET / HTTP/1.1\r\n\r\n"),
                    (
                        S2C,
                        b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
                    ),
                ],
                vec![vec![W::MissingHost]],
            ),
            (
                "no status line",
                vec![
                    (C2S, get),
                    (S2C, b"Content-Type: text/html\r\n\r\n<html></html>"),
                ],
                vec![vec![W::InvalidStatusLine]],
            ),
            (
                "unsupported version",
                vec![(C2S, get), (S2C, b"HTTP/2.0 204 No Content\r\n\r\n")],
                vec![vec![W::UnsupportedVersion]],
            ),
            (
                "response before the request body",
                vec![
                    (
                        C2S,
                        b"POST /u HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nab",
                    ),
                    (S2C, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
                    (C2S, b"cd"),
                ],
                vec![vec![W::ResponseBeforeRequestComplete]],
            ),
            (
                "closed mid chunked body",
                vec![
                    (C2S, get),
                    (
                        S2C,
                        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc",
                    ),
                ],
                vec![vec![W::ClosedMidBody]],
            ),
            (
                "body on a HEAD response",
                vec![
                    (C2S, b"HEAD / HTTP/1.1\r\nHost: h\r\n\r\n"),
                    (S2C, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"),
                ],
                vec![vec![W::BodyNotAllowed]],
            ),
            (
                "request without response",
                vec![(C2S, get)],
                vec![vec![W::MissingResponse]],
            ),
            (
                "response without request",
                vec![(S2C, b"HTTP/1.1 204 No Content\r\n\r\n")],
                vec![vec![W::MissingRequest]],
            ),
        ];
        for (name, steps, want) in cases {
            let txs = drive(&steps);
            let got: Vec<Vec<WarningKind>> = txs.iter().map(kinds).collect();
            assert_eq!(got, want, "{name}: {txs:#?}");
            // Every warning explains itself.
            assert!(
                txs.iter()
                    .flat_map(|t| &t.warnings)
                    .all(|w| w.message.len() > 20)
            );
        }
    }

    #[test]
    fn json_shape_has_the_agreed_fields() {
        let txs = drive(&[
            (C2S, b"GET /x HTTP/1.1\r\nHost: h\r\n\r\n"),
            (
                S2C,
                b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok",
            ),
        ]);
        let v = serde_json::to_value(&txs[0]).unwrap();
        for key in [
            "stream",
            "time",
            "client",
            "server",
            "method",
            "host",
            "uri",
            "version",
            "status",
            "reason",
            "content_type",
            "request_body_bytes",
            "response_body_bytes",
            "response_time",
            "warnings",
        ] {
            assert!(v.get(key).is_some(), "missing {key}");
        }
        assert_eq!(v["client"], "10.0.0.1:40000");
        assert_eq!(v["time"], 0.001); // frame 1 at 1 ms
        assert_eq!(v["response_time"], 0.001); // frame 2 − frame 1
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn gzip_chunked_body_is_extracted_decoded_and_hashed() {
        let dir = std::env::temp_dir().join(format!("pcaplab-http-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let page: Vec<u8> = b"<html>hello, students</html>\n".repeat(50);
        let z = gzip(&page);
        // Chunked in two chunks, with an extension on the first.
        let (c1, c2) = z.split_at(z.len() / 2);
        let mut resp = format!(
            "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n{:x};x=y\r\n",
            c1.len()
        )
        .into_bytes();
        resp.extend_from_slice(c1);
        resp.extend_from_slice(format!("\r\n{:x}\r\n", c2.len()).as_bytes());
        resp.extend_from_slice(c2);
        resp.extend_from_slice(b"\r\n0\r\n\r\n");
        let options = Options {
            bodies: Some(BodyOptions {
                dir: dir.clone(),
                decode: true,
            }),
        };
        let mut a = analyzer(options);
        a.on_data(
            C2S,
            0,
            b"GET /pages/../index.html?x=1 HTTP/1.1\r\nHost: h\r\n\r\n",
            FrameNumber(1),
            Duration::ZERO,
        );
        for (i, seg) in resp.chunks(37).enumerate() {
            a.on_data(
                S2C,
                (i * 37) as u64,
                seg,
                FrameNumber(2 + i as u64),
                Duration::ZERO,
            );
        }
        let txs = a.finish(FrameNumber(99), Duration::ZERO);
        let body = txs[0].body_file.clone().expect("extracted");
        assert_eq!(body.path, dir.join("7-0-index.html"));
        assert_eq!(body.size, page.len() as u64);
        assert!(body.decoded);
        let expected_hash: String = Sha256::digest(&page)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(body.sha256, expected_hash);
        let mut on_disk = Vec::new();
        File::open(&body.path)
            .unwrap()
            .read_to_end(&mut on_disk)
            .unwrap();
        assert_eq!(on_disk, page);
        assert_eq!(txs[0].response_body_bytes, Some(z.len() as u64));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn safe_names_never_leave_the_directory() {
        let cases = [
            ("/a/b/report.pdf", "1-2-report.pdf"),
            ("/..", "1-2-body"),
            ("/x/..%2f..%2fetc", "1-2-_2f.._2fetc"),
            ("C:\\windows\\system.ini", "1-2-system.ini"),
            ("/\u{7}bell\nname", "1-2-_bell_name"),
            ("", "1-2-body"),
            ("/.hidden", "1-2-hidden"),
        ];
        for (uri, want) in cases {
            let name = safe_file_name(1, 2, uri);
            assert_eq!(name, want, "{uri:?}");
            assert!(!name.contains('/') && !name.contains('\\'));
        }
        assert!(safe_file_name(0, 0, &"a".repeat(500)).len() <= 4 + MAX_NAME_PART);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(32))]
        #[test]
        fn arbitrary_segments_never_panic(
            segs in proptest::collection::vec((proptest::bool::ANY, proptest::collection::vec(proptest::num::u8::ANY, 0..80)), 0..8)
        ) {
            let prefix: &[u8] = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
            let mut steps: Vec<(Direction, Vec<u8>)> = vec![(S2C, prefix.to_vec())];
            steps.extend(segs.into_iter().map(|(c, b)| (if c { C2S } else { S2C }, b)));
            let steps: Vec<(Direction, &[u8])> = steps.iter().map(|(d, b)| (*d, b.as_slice())).collect();
            let _ = drive(&steps);
        }
    }

    #[test]
    fn text_escapes_control_and_invalid_bytes() {
        assert_eq!(text(b"ok"), "ok");
        assert_eq!(text(b"a\x01\xff"), "a\\u{1}\\xff");
    }
}
