//! HTTP/1.x transactions over one TCP stream: requests paired with responses in order
//! (keep-alive and pipelining give several per stream), with timing, frame numbers and warnings
//! that explain what a broken client or server did wrong, and the per-packet [`Label`]s that say
//! which message a segment carried.
//!
//! Owns pairing, per-transaction summaries, labels and the calls to body extraction. It does not
//! own byte syntax (`parser`), message boundaries (`framer`) nor the texts of warnings
//! (`warnings`). In: the stream's in-order bytes per direction, in capture order, with frame
//! numbers and times. Out: owned [`Transaction`]s and [`Label`]s, each only when asked for
//! ([`Options`]): a command that needs neither text nor transactions allocates nothing per
//! message.
//!
//! ```
//! use std::time::Duration;
//! use pcaplab::app::http::{Conversation, Options};
//! use pcaplab::capture::FrameNumber;
//! use pcaplab::flow::Direction;
//!
//! let client = "10.0.0.1:40000".parse().unwrap();
//! let server = "10.0.0.2:80".parse().unwrap();
//! let mut a = Conversation::new(0, client, server, Options::default());
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
use std::net::SocketAddr;
use std::time::Duration;

use super::extract::{Bodies, BodyResult, BodySink, kept_target};
use super::framer::{BodyKind, ConversationFramer, Event, IssueKind, Missing};
use super::transaction::{Transaction, text};
use super::types::{ContentLength, Head, StartLine, TransferCoding, Version};
use super::warnings::{self, Warning};
use crate::units::{Direction, FrameNumber};

/// Most transactions in flight on one connection (requests waiting for their response, and the
/// response being read): past it the oldest is reported at once, without its response
/// ([`WarningKind::InFlightLimit`](super::WarningKind::InFlightLimit)), so that a client
/// pipelining without end cannot make memory grow. Browsers pipeline a handful.
pub const MAX_IN_FLIGHT: usize = 256;

/// Which per-packet labels a conversation produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Labels {
    /// None.
    Off,
    /// Which message each segment carried (enough to count HTTP packets).
    Frames,
    /// The same, with the start line of each message that starts (for per-packet output).
    #[default]
    StartLines,
}

/// What a conversation keeps besides the pairing itself.
#[derive(Debug, Clone)]
pub struct Options {
    /// Build [`Transaction`] summaries with their warnings.
    pub transactions: bool,
    /// Per-packet labels.
    pub labels: Labels,
    /// Where response bodies go (de-chunked, optionally decoded): files, or a hash.
    pub bodies: Option<Bodies>,
}

impl Default for Options {
    /// Everything: transactions, labels with start lines, no body files.
    fn default() -> Self {
        Options {
            transactions: true,
            labels: Labels::StartLines,
            bodies: None,
        }
    }
}

/// The start line of a message, as data (the view turns it into an info column).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum StartSummary {
    /// A request line.
    Request {
        /// Method (as sent: [`crate::app::wire_text`]).
        method: String,
        /// Request target (as sent).
        target: String,
        /// Version.
        version: Version,
        /// The `Host` header (as sent), when sent.
        host: Option<String>,
        /// A valid `Content-Length`, when sent.
        content_length: Option<u64>,
    },
    /// A status line.
    Status {
        /// Version.
        version: Version,
        /// Status code.
        code: u16,
        /// Reason phrase (as sent).
        reason: String,
        /// Media type of `Content-Type` (without parameters), when sent.
        media_type: Option<String>,
        /// A valid `Content-Length`, when sent.
        content_length: Option<u64>,
    },
}

/// The value of a valid `Content-Length` header.
fn valid_content_length(head: &Head<'_>) -> Option<u64> {
    match head.headers.content_length() {
        ContentLength::Valid(n) => Some(n),
        _ => None,
    }
}

/// What a segment carried: the HTTP annotation of one packet.
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
    /// The start line of a message starting here, when labels keep start lines and the head
    /// parsed; `None` for continuations and unparseable starts.
    pub start: Option<StartSummary>,
    /// The messages (their start lines) that ended during the packet this label is shown on:
    /// where tshark, which reassembles messages, shows them. Set by the tracker on the label of
    /// each packet it annotates (labels with start lines only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub completed: Vec<StartSummary>,
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
    body: Option<BodySink>,
    /// The request target, kept to name the body file (only when bodies are kept).
    target: Option<Vec<u8>>,
    /// Bytes cut off by the snap length, per direction (one warning each at the end).
    not_captured: [u64; 2],
    /// The head of that direction was cut short by missing bytes.
    head_cut: [bool; 2],
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
    /// Warnings found before the message had a transaction (texts only when transactions are
    /// kept; `pending_any` either way).
    pending: Vec<Warning>,
    pending_any: bool,
    /// Frame and time of the last data seen.
    last_data: Option<(FrameNumber, Duration)>,
    ended: bool,
    /// The start line of the message being read (labels with start lines only), to name the
    /// message again where it ends.
    summary: Option<StartSummary>,
}

/// The HTTP analysis of one TCP stream. Keep one per stream whose first bytes are HTTP
/// ([`super::detect::classify`]).
#[derive(Debug)]
pub struct Conversation {
    framer: ConversationFramer,
    state: State,
}

/// Everything but the framer, so that the framer's events can update it while it runs.
#[derive(Debug)]
struct State {
    stream: u64,
    client: SocketAddr,
    server: SocketAddr,
    options: Options,
    slots: VecDeque<Slot>,
    first_id: u64,
    next_id: u64,
    /// Oldest transaction still waiting for its final response.
    next_response: u64,
    requests: Side,
    responses: Side,
    labels: Vec<Label>,
    /// Start lines of the messages that ended since the last [`Conversation::drain_completed`].
    completed: Vec<StartSummary>,
    closed: bool,
    /// Transactions reported before they finished (the in-flight limit), to hand out.
    early: Vec<Transaction>,
    /// How many transactions the per-connection in-flight limit reported early.
    evicted: u64,
}

impl Conversation {
    /// An analyzer for stream `stream` between `client` and `server`.
    pub fn new(stream: u64, client: SocketAddr, server: SocketAddr, options: Options) -> Self {
        Self {
            framer: ConversationFramer::new(),
            state: State {
                stream,
                client,
                server,
                options,
                slots: VecDeque::new(),
                first_id: 0,
                next_id: 0,
                next_response: 0,
                requests: Side::default(),
                responses: Side::default(),
                labels: Vec::new(),
                completed: Vec::new(),
                closed: false,
                early: Vec::new(),
                evicted: 0,
            },
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
        let state = &mut self.state;
        let side = state.side_mut(direction);
        // The frame before this one carried the last byte of a message that ends where this
        // data begins (one ended by the next status line, after bytes the capture cut off).
        let before = side.last_data.unwrap_or((frame, ts));
        side.last_data = Some((frame, ts));
        let tx = side.tx;
        if state.options.labels != Labels::Off
            && let Some(message) = self.framer.side(direction).current_index()
        {
            state.labels.push(Label {
                frame,
                direction,
                message,
                transaction: tx,
                is_start: false,
                start: None,
                completed: Vec::new(),
            });
        }
        self.framer.feed_events(direction, offset, bytes, &mut |e| {
            let (frame, ts) = match &e {
                Event::End { message, .. } if message.end <= offset => before,
                _ => (frame, ts),
            };
            state.on_event(direction, e, frame, ts);
        });
    }

    /// The capture began inside `direction`'s byte stream (its SYN was not captured): the bytes
    /// before its first message start are the rest of an earlier message, skipped without a
    /// warning or a row (tshark does the same). Call before any byte of `direction`.
    pub fn begin_mid_stream(&mut self, direction: Direction) {
        self.framer.begin_mid_stream(direction);
    }

    /// `len` bytes of `direction` at `offset` were never captured.
    pub fn on_gap(&mut self, direction: Direction, offset: u64, len: u64) {
        self.on_missing(direction, offset, len, Missing::Lost);
    }

    /// `len` bytes of `direction` at `offset` were on the wire but cut off by the capture's
    /// snap length: they count where a length is known (a body), and a head cut short is
    /// still reported with what was captured of it.
    pub fn on_not_captured(&mut self, direction: Direction, offset: u64, len: u64) {
        self.on_missing(direction, offset, len, Missing::NotCaptured);
    }

    fn on_missing(&mut self, direction: Direction, offset: u64, len: u64, cause: Missing) {
        let state = &mut self.state;
        let (frame, ts) = state.side_mut(direction).last_data.unwrap_or_default();
        self.framer
            .missing_events(direction, offset, len, cause, &mut |e| {
                state.on_event(direction, e, frame, ts);
            });
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
        let state = &mut self.state;
        for &dir in dirs {
            if state.side_mut(dir).ended {
                continue;
            }
            state.side_mut(dir).ended = true;
            let end = if direction.is_some() { offset } else { 0 };
            self.framer
                .finish_events(dir, end, &mut |e| state.on_event(dir, e, frame, ts));
        }
        if state.requests.ended && state.responses.ended {
            state.close_all();
        }
    }

    /// True once both directions ended: nothing more will change.
    pub fn is_closed(&self) -> bool {
        self.state.closed
    }

    /// Moves finished transactions, oldest first, into `out`; a transaction is finished once
    /// both halves ended (or cannot come any more), or when the in-flight limit reported it
    /// early.
    pub fn take_finished(&mut self, out: &mut Vec<Transaction>) {
        let state = &mut self.state;
        out.append(&mut state.early);
        while let Some(slot) = state.slots.front() {
            let done = (slot.request_done || !slot.request_started) && slot.response_done;
            if !done {
                break;
            }
            if let Some(slot) = state.slots.pop_front() {
                state.first_id = state.first_id.saturating_add(1);
                if state.options.transactions {
                    out.push(slot.into_transaction());
                }
            }
        }
    }

    /// Transactions begun and not handed out yet (at most [`MAX_IN_FLIGHT`], plus those
    /// reported early and not taken yet).
    pub fn in_flight(&self) -> usize {
        self.state.slots.len()
    }

    /// How many transactions [`MAX_IN_FLIGHT`] reported before their response.
    pub fn evicted(&self) -> u64 {
        self.state.evicted
    }

    /// Reports the oldest transaction in flight now, without waiting for the rest of it, with
    /// the warning `why` (a limit on memory); false when none is in flight.
    pub fn evict_oldest(&mut self, why: impl FnOnce() -> Warning) -> bool {
        self.state.evict_oldest(why)
    }

    /// The earliest frame any transaction not handed out yet (or the message being read in
    /// either direction) starts at: every transaction this conversation hands out from now on
    /// starts at this frame or later, or at a frame not seen yet. `None` when nothing is in
    /// progress.
    pub fn floor(&self) -> Option<FrameNumber> {
        let s = &self.state;
        let front = s
            .slots
            .front()
            .and_then(|slot| slot.tx.request_frame.or(slot.tx.response_frame));
        let begins = [&s.requests, &s.responses]
            .into_iter()
            .filter_map(|side| side.begin.map(|(_, frame, _)| frame));
        front.into_iter().chain(begins).min()
    }

    /// Ends both directions (end of capture at `frame`, `ts`) and returns every remaining
    /// transaction.
    pub fn finish(mut self, frame: FrameNumber, ts: Duration) -> Vec<Transaction> {
        self.on_end(None, 0, frame, ts);
        let mut out = Vec::new();
        self.take_finished(&mut out);
        if self.state.options.transactions {
            out.extend(self.state.slots.drain(..).map(Slot::into_transaction));
        }
        out
    }

    /// Moves the labels found since the last call into `out`. A start label may name an earlier
    /// frame than the last one fed, when a head spanned several segments.
    pub fn drain_labels(&mut self, out: &mut Vec<Label>) {
        out.append(&mut self.state.labels);
    }

    /// Forgets the labels found since the last call.
    pub fn clear_labels(&mut self) {
        self.state.labels.clear();
    }

    /// Moves the start lines of the messages that ended since the last call into `out` (labels
    /// with start lines only).
    pub fn drain_completed(&mut self, out: &mut Vec<StartSummary>) {
        out.append(&mut self.state.completed);
    }
}

impl Slot {
    /// Ends the response body's sink (when there is one); `complete` when every byte of the
    /// body arrived. What stopped it, and a name clash, become warnings.
    fn finish_body(&mut self, complete: bool) {
        let Some(body) = self.body.take() else {
            return;
        };
        let w = &mut self.tx.warnings;
        match body.finish(complete) {
            Ok(BodyResult::File(b)) => {
                if b.clash {
                    w.push(warnings::body_file_clash(&b.wanted_name, &b.file_name));
                }
                if let Some(stop) = &b.stop {
                    w.push(warnings::body_stopped(stop, &b.file_name));
                } else if !complete {
                    w.push(warnings::body_incomplete(&b.file_name));
                }
                self.tx.body_file = Some(b);
            }
            Ok(BodyResult::Hash(h)) => self.tx.body_hash = Some(h),
            Err(e) => w.push(warnings::body_file_not_finished(&e)),
        }
    }

    /// The finished transaction, with the one warning per direction about bytes the snap
    /// length cut off.
    fn into_transaction(mut self) -> Transaction {
        for d in [Direction::ClientToServer, Direction::ServerToClient] {
            let i = d.index();
            let (Some(&len), Some(&cut)) = (self.not_captured.get(i), self.head_cut.get(i)) else {
                continue;
            };
            if len > 0 || cut {
                self.tx.warnings.push(warnings::not_captured(d, len, cut));
            }
        }
        self.tx
    }
}

impl State {
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

    /// Hands out the oldest transaction in flight now, with the warning `why` (see
    /// [`MAX_IN_FLIGHT`]); its response, if it comes, is not paired (its framing still is).
    fn evict_oldest(&mut self, why: impl FnOnce() -> Warning) -> bool {
        let Some(mut slot) = self.slots.pop_front() else {
            return false;
        };
        self.first_id = self.first_id.saturating_add(1);
        slot.finish_body(false);
        if self.options.transactions {
            slot.tx.warnings.push(why());
            self.early.push(slot.into_transaction());
        }
        true
    }

    fn new_slot(&mut self) -> u64 {
        if self.slots.len() >= MAX_IN_FLIGHT
            && self.evict_oldest(|| warnings::in_flight_limit(MAX_IN_FLIGHT, true))
        {
            self.evicted = self.evicted.saturating_add(1);
        }
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
                body_hash: None,
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
            target: None,
            not_captured: [0; 2],
            head_cut: [false; 2],
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

    /// Takes the warnings found before the message of `direction` had a transaction.
    fn take_pending(&mut self, direction: Direction) -> Vec<Warning> {
        let side = self.side_mut(direction);
        side.pending_any = false;
        std::mem::take(&mut side.pending)
    }

    /// Records a warning of `direction` on its transaction, or keeps it until the message has
    /// one. The text is built only when transactions are kept; the pairing is the same either
    /// way (a message with warnings but no head still becomes a transaction).
    fn warn(&mut self, direction: Direction, w: impl FnOnce() -> Warning) {
        let keep = self.options.transactions;
        let target = self.target(direction);
        if let Some(slot) = target.and_then(|id| self.slot_mut(id)) {
            if keep {
                slot.tx.warnings.push(w());
            }
            return;
        }
        let side = self.side_mut(direction);
        side.pending_any = true;
        if keep {
            side.pending.push(w());
        }
    }

    /// The transaction a finding in `direction` belongs to now: the message being read once
    /// its head is parsed, the last message between messages, none while a head is read.
    fn target(&mut self, direction: Direction) -> Option<u64> {
        let side = self.side_mut(direction);
        match side.tx.or(side.last_tx) {
            Some(id) if side.tx.is_some() || side.begin.is_none() => Some(id),
            _ => None,
        }
    }

    fn warn_tx(&mut self, id: Option<u64>, direction: Direction, w: impl FnOnce() -> Warning) {
        let keep = self.options.transactions;
        match id.and_then(|id| self.slot_mut(id)) {
            Some(slot) => {
                if keep {
                    slot.tx.warnings.push(w());
                }
            }
            None => self.warn(direction, w),
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
                index,
                head,
                body,
                cut,
                ..
            } => match direction {
                Direction::ClientToServer => self.on_request_head(index, head, cut),
                Direction::ServerToClient => self.on_response_head(index, head, body, cut),
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
            Event::Issue(issue) => {
                if let IssueKind::NotCaptured { len, .. } = issue.kind
                    && let Some(slot) = self.target(direction).and_then(|id| self.slot_mut(id))
                {
                    // Summed into one warning per transaction and direction.
                    if let Some(n) = slot.not_captured.get_mut(direction.index()) {
                        *n = n.saturating_add(len);
                    }
                    return;
                }
                let make = || warnings::from_issue(direction, &issue);
                if warnings::concerns_previous_message(&issue.kind) {
                    let last = self.side_mut(direction).last_tx;
                    self.warn_tx(last, direction, make);
                } else {
                    self.warn(direction, make);
                }
            }
        }
    }

    fn push_label(
        &mut self,
        frame: FrameNumber,
        direction: Direction,
        message: u64,
        transaction: Option<u64>,
        start: impl FnOnce() -> Option<StartSummary>,
    ) {
        let start = match self.options.labels {
            Labels::Off => return,
            Labels::Frames => None,
            Labels::StartLines => start(),
        };
        self.side_mut(direction).summary.clone_from(&start);
        self.labels.push(Label {
            frame,
            direction,
            message,
            transaction,
            is_start: true,
            start,
            completed: Vec::new(),
        });
    }

    /// A request head; `cut` when the capture cut it short (only the lines before the cut).
    fn on_request_head(&mut self, index: u64, head: &Head<'_>, cut: bool) {
        let StartLine::Request(line) = head.start_line else {
            return;
        };
        let id = self.new_slot();
        let (begin_frame, begin_ts) = self.begin_of(Direction::ClientToServer);
        let pending = self.take_pending(Direction::ClientToServer);
        self.requests.tx = Some(id);
        self.push_label(
            begin_frame,
            Direction::ClientToServer,
            index,
            Some(id),
            || {
                Some(StartSummary::Request {
                    method: text(line.method),
                    target: text(line.target),
                    version: line.version,
                    host: head.headers.get_unfolded("host").as_deref().map(text),
                    content_length: valid_content_length(head),
                })
            },
        );
        let keep = self.options.transactions;
        let keep_target = self.options.bodies.is_some();
        let Some(slot) = self.slot_mut(id) else {
            return;
        };
        slot.request_started = true;
        if let Some(c) = slot.head_cut.get_mut(Direction::ClientToServer.index()) {
            *c = cut;
        }
        let tx = &mut slot.tx;
        tx.time = Some(begin_ts);
        tx.request_frame = Some(begin_frame);
        if !keep {
            return;
        }
        slot.request_keep_close = head.headers.has_token("connection", "close");
        if keep_target {
            slot.target = Some(kept_target(line.target));
        }
        tx.warnings.extend(pending);
        tx.method = Some(text(line.method));
        tx.uri = Some(text(line.target));
        tx.version = Some(line.version.to_string());
        tx.host = head.headers.get_unfolded("host").as_deref().map(text);
        let w = &mut tx.warnings;
        warnings::head(head, Direction::ClientToServer, w);
        // A head cut short may have had its Host after the cut.
        if line.version == Version::HTTP_11 && tx.host.is_none() && !cut {
            w.push(warnings::missing_host());
        }
    }

    /// A response head; `cut` when the capture cut it short (only the lines before the cut).
    fn on_response_head(&mut self, index: u64, head: &Head<'_>, body: BodyKind, cut: bool) {
        let StartLine::Status(line) = head.start_line else {
            return;
        };
        let id = self.response_slot();
        let (begin_frame, begin_ts) = self.begin_of(Direction::ServerToClient);
        self.push_label(
            begin_frame,
            Direction::ServerToClient,
            index,
            Some(id),
            || {
                let media_type = head.headers.get_unfolded("content-type").map(|ct| {
                    let ct = text(&ct);
                    ct.split(';').next().unwrap_or_default().trim().to_string()
                });
                Some(StartSummary::Status {
                    version: line.version,
                    code: line.code,
                    reason: text(line.reason),
                    media_type,
                    content_length: valid_content_length(head),
                })
            },
        );
        let pending = self.take_pending(Direction::ServerToClient);
        self.responses.tx = Some(id);
        let keep = self.options.transactions;
        if line.is_interim() {
            if let Some(slot) = self.slot_mut(id)
                && keep
            {
                slot.tx.interim_statuses.push(line.code);
                slot.tx.warnings.extend(pending);
            }
            return;
        }
        // This is the final response: later responses answer later requests.
        self.next_response = id.saturating_add(1);
        let bodies = self.options.bodies.clone();
        let stream = self.stream;
        let request_last = self.requests.last_data;
        let Some(slot) = self.slot_mut(id) else {
            return;
        };
        if let Some(c) = slot.head_cut.get_mut(Direction::ServerToClient.index()) {
            *c = cut;
        }
        // A request whose head the capture cut short has no known end: the response starting
        // says it was sent, so it ended with the request's last data before.
        if slot.request_started
            && !slot.request_done
            && slot.head_cut[0]
            && let Some((frame, ts)) = request_last
        {
            slot.request_done = true;
            slot.request_end_time = Some(ts);
            slot.tx.request_end_frame = Some(frame);
        }
        let tx = &mut slot.tx;
        tx.status = Some(line.code);
        tx.response_frame = Some(begin_frame);
        slot.response_first_time = Some(begin_ts);
        if !slot.request_started {
            tx.time = Some(begin_ts);
        }
        if !keep {
            return;
        }
        tx.warnings.extend(pending);
        tx.reason = Some(text(line.reason));
        tx.response_version = Some(line.version.to_string());
        // Folded values are read unfolded (RFC 9112 §5.2); the fold itself is warned about.
        tx.content_type = head
            .headers
            .get_unfolded("content-type")
            .as_deref()
            .map(text);
        tx.content_encoding = head
            .headers
            .get_unfolded("content-encoding")
            .as_deref()
            .map(text);
        if !slot.request_started {
            tx.version = Some(line.version.to_string());
        } else if !slot.request_done {
            tx.warnings
                .push(warnings::response_before_request_complete());
        }
        warnings::head(head, Direction::ServerToClient, &mut tx.warnings);
        let keep_alive = if line.version == Version::HTTP_10 {
            head.headers.has_token("connection", "keep-alive")
        } else {
            !head.headers.has_token("connection", "close")
        };
        // The length fields of a head cut short may have been after the cut.
        if body == BodyKind::UntilClose
            && !cut
            && keep_alive
            && !slot.request_keep_close
            && head.headers.transfer_coding() == TransferCoding::Absent
            && head.headers.content_length() == ContentLength::Absent
        {
            tx.warnings.push(warnings::keep_alive_without_length());
        }
        let has_body = !cut
            && (matches!(body, BodyKind::Chunked | BodyKind::UntilClose)
                || matches!(body, BodyKind::Length(n) if n > 0));
        if let (Some(bodies), true) = (bodies, has_body) {
            let target = slot.target.as_deref().unwrap_or_default();
            let coding = head.headers.get_unfolded("content-encoding");
            match BodySink::create(&bodies, stream, id, target, coding.as_deref()) {
                Ok(sink) => slot.body = Some(sink),
                Err(e) => slot.tx.warnings.push(warnings::body_file_not_created(&e)),
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
        // The first failure is reported here; the sink stops writing and says so again in its
        // result, where the file it leaves is named.
        if let Some(body) = slot.body.as_mut()
            && let Err(e) = body.write(data)
        {
            slot.tx.warnings.push(warnings::body_extraction_stopped(&e));
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
        if let Some(summary) = side.summary.take() {
            self.completed.push(summary);
        }
        let side = self.side_mut(direction);
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
                if !slot.request_done {
                    slot.request_end_time = Some(ts);
                    slot.tx.request_end_frame = Some(frame);
                }
                slot.request_done = true;
                // After a head cut short, where the body began is not known.
                slot.tx.request_body_bytes = (!slot.head_cut[0]).then_some(body_bytes);
            }
            Direction::ServerToClient => {
                if slot.tx.status.is_none() {
                    // An interim (1xx) response ended; the final one is still to come.
                    return;
                }
                slot.response_done = true;
                slot.response_end_time = Some(ts);
                slot.tx.response_end_frame = Some(frame);
                slot.tx.response_body_bytes = (!slot.head_cut[1]).then_some(body_bytes);
                if let (Some(req_end), Some(first)) =
                    (slot.request_end_time, slot.response_first_time)
                {
                    slot.tx.response_time = Some(signed_secs(first, req_end));
                    slot.tx.http_time = Some(signed_secs(ts, req_end));
                }
                slot.finish_body(complete);
            }
        }
    }

    /// A message whose head never parsed ended: its pending warnings go to a transaction row.
    fn orphan_message(
        &mut self,
        direction: Direction,
        begin: Option<(u64, FrameNumber, Duration)>,
    ) {
        if !self.side_mut(direction).pending_any {
            return;
        }
        let pending = self.take_pending(direction);
        let (frame, ts) = begin.map(|(_, f, t)| (f, t)).unwrap_or_default();
        if let Some((index, ..)) = begin {
            self.push_label(frame, direction, index, None, || None);
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

    /// Both directions ended: flag the halves that never came.
    fn close_all(&mut self) {
        if std::mem::replace(&mut self.closed, true) {
            return;
        }
        let keep = self.options.transactions;
        for slot in self.slots.iter_mut() {
            if keep {
                if slot.request_started && slot.tx.status.is_none() && !slot.response_done {
                    slot.tx.warnings.push(warnings::missing_response());
                }
                if !slot.request_started {
                    slot.tx.warnings.push(warnings::missing_request());
                }
            }
            slot.request_done = true;
            slot.response_done = true;
            slot.finish_body(false);
        }
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

#[cfg(test)]
mod tests {
    use std::fs::File;
    use std::io::{Read, Write};

    use sha2::{Digest, Sha256};

    use super::*;
    use crate::app::http::WarningKind;

    const C2S: Direction = Direction::ClientToServer;
    const S2C: Direction = Direction::ServerToClient;

    fn addrs() -> (SocketAddr, SocketAddr) {
        (
            "10.0.0.1:40000".parse().unwrap(),
            "10.0.0.2:80".parse().unwrap(),
        )
    }

    fn analyzer(options: Options) -> Conversation {
        let (c, s) = addrs();
        Conversation::new(7, c, s, options)
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
            labels[5].start,
            Some(StartSummary::Status {
                version: Version::HTTP_11,
                code: 404,
                reason: "Not Found".into(),
                media_type: Some("text/html".into()),
                content_length: Some(2),
            })
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
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
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
        let files = crate::app::http::Files::open(&dir, true, Default::default()).unwrap();
        let options = Options {
            bodies: Some(Bodies::Files(files)),
            ..Options::default()
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
        assert!(body.complete && !body.clash && body.stop.is_none());
        // The wire bytes are the gzip data, de-chunked.
        assert_eq!(body.wire, crate::extract::Fingerprint::of(&z));
        let mut on_disk = Vec::new();
        File::open(&body.path)
            .unwrap()
            .read_to_end(&mut on_disk)
            .unwrap();
        assert_eq!(on_disk, page);
        assert_eq!(txs[0].response_body_bytes, Some(z.len() as u64));
        assert!(txs[0].warnings.is_empty(), "{:?}", txs[0].warnings);
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

    /// Labels of a run, without start lines: what a packet annotation carries.
    fn labels_of(
        options: Options,
        steps: &[(Direction, &[u8])],
    ) -> Vec<(u64, u64, u64, Option<u64>, bool)> {
        let mut a = analyzer(options);
        let mut off = [0u64; 2];
        let mut out = Vec::new();
        for (frame, (dir, bytes)) in steps.iter().enumerate() {
            let frame = frame as u64 + 1;
            let o = &mut off[dir.index()];
            a.on_data(
                *dir,
                *o,
                bytes,
                FrameNumber(frame),
                Duration::from_millis(frame),
            );
            *o += bytes.len() as u64;
            let mut labels = Vec::new();
            a.drain_labels(&mut labels);
            out.extend(labels.iter().map(|l| {
                (
                    l.frame.0,
                    l.direction.index() as u64,
                    l.message,
                    l.transaction,
                    l.is_start,
                )
            }));
        }
        out
    }

    #[test]
    fn labels_do_not_depend_on_keeping_transactions_or_text() {
        let steps: [(Direction, &[u8]); 6] = [
            (C2S, b"GET /a HTTP/1.1\r\nHost: h\r\n\r\nGARBAGE\r\n\r\n"),
            (S2C, b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcXYZ"),
            (
                S2C,
                b"junk\r\nHTTP/1.1 404 Nope\r\nContent-Length: 0\r\n\r\n",
            ),
            (C2S, b"HEAD / HTTP/1.1\r\n\r\n"),
            (S2C, b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n"),
            (S2C, b"HTTP/1.0 204 No\r\n\r\n"),
        ];
        let full = labels_of(Options::default(), &steps);
        assert!(full.len() >= 5, "{full:?}");
        for (transactions, labels) in [
            (false, Labels::Frames),
            (false, Labels::StartLines),
            (true, Labels::Frames),
        ] {
            let lean = Options {
                transactions,
                labels,
                bodies: None,
            };
            assert_eq!(labels_of(lean, &steps), full, "{transactions} {labels:?}");
        }
        let mut off = analyzer(Options {
            transactions: false,
            labels: Labels::Off,
            bodies: None,
        });
        off.on_data(C2S, 0, steps[0].1, FrameNumber(1), Duration::ZERO);
        let mut labels = Vec::new();
        off.drain_labels(&mut labels);
        assert!(labels.is_empty());
    }
}
