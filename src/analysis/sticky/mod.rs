//! Sticky packets: each direction of a TCP stream framed into application messages and checked
//! against the data segments that carried them (coalesced segments, split messages).
//!
//! In: the stream events of the engine ([`Sticky`] is a [`StreamConsumer`]). Out: a
//! [`Direction`] report per direction of each framed stream. `http` framing uses `app::http`'s
//! conversation framer for both directions of a stream together, so a response is framed by
//! its request (HEAD, CONNECT, 1xx, 204, 304) exactly as the `http` command pairs it. With
//! `auto` each direction is framed on its own by an incremental [`auto::Detector`]: candidate
//! framings are eliminated as bytes arrive, nothing of the stream is copied, and the segments
//! wait (at most [`auto::MAX_PENDING_SEGMENTS`]) until the choice says which messages they
//! carried. HTTP is chosen as soon as its start line is there, and then for both directions.
//!
//! A direction's [`Status`] says whether its message boundaries are known: `framed` (every
//! byte in a whole message), `failed` (the bytes contradict the framing: a program error),
//! `incomplete` (the capture lost or cut bytes, or ended mid-message), `unknown` (no framing
//! fits: then no message count is given) or `no_data`.

pub mod auto;

use foldhash::{HashMap, HashMapExt};
use serde::Serialize;

use self::auto::{Choice, Detector, Tried};
use super::order::InOrder;
use crate::app::consumer::{At, StreamConsumer};
use crate::app::http::ConversationFramer;
use crate::flow::tcp::{EndCause, Event, Stream, StreamEvent, StreamTable};
use crate::framing::segments::{DataSegment, SegmentMapper, SegmentParts, Summary};
use crate::framing::{Framer, FramerOutput, FramingSpec, Missing, new_framer};
use crate::units::{Direction as FlowDirection, FrameNumber, StreamId};

/// Which streams to frame, and how.
#[derive(Debug, Clone)]
pub struct Options {
    /// Framing to apply (`auto` chooses per direction).
    pub framing: FramingSpec,
    /// Only this stream, or every stream.
    pub stream: Option<u64>,
    /// Keep the per-segment listing (else only the counts).
    pub keep_segments: bool,
}

/// Whether a direction's message boundaries are known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Every byte belongs to a whole message of the framing.
    Framed,
    /// The bytes contradict the framing (a length the stream does not hold, a last message
    /// without its delimiter before the FIN, ...): an error of the sending program.
    Failed,
    /// The framing fits, but the capture lost or cut bytes, or ended in the middle of a
    /// message: boundaries after that point may be unknown. Not the program's fault.
    Incomplete,
    /// No framing fits (`auto`), or none was asked for: the message boundaries are unknown.
    Unknown,
    /// The direction carried no payload.
    NoData,
}

impl Status {
    /// The name used in JSON and tables (`framed`, `failed`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Status::Framed => "framed",
            Status::Failed => "failed",
            Status::Incomplete => "incomplete",
            Status::Unknown => "unknown",
            Status::NoData => "no_data",
        }
    }
}

/// Who is to blame for a framing issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IssueKind {
    /// The bytes do not fit the framing: the sending program's error.
    Mismatch,
    /// Bytes are missing from the capture (a gap, snaplen, the capture ended first).
    Capture,
}

/// A framing problem of one direction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    /// Stream offset the problem is about (usually the start of the message concerned).
    pub offset: u64,
    /// What went wrong, in the student's terms.
    pub reason: String,
    /// The program's error, or the capture's.
    pub kind: IssueKind,
}

/// The first bytes of a direction (at most [`auto::FIRST_BYTES`]), shown when no framing
/// fits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FirstBytes {
    /// Hex pairs separated by spaces.
    pub hex: String,
    /// The same bytes as text (invalid UTF-8 replaced by U+FFFD).
    pub text: String,
    /// The bytes themselves.
    #[serde(skip)]
    pub bytes: Vec<u8>,
}

impl FirstBytes {
    fn new(bytes: &[u8]) -> Self {
        let hex: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
        FirstBytes {
            hex: hex.join(" "),
            text: String::from_utf8_lossy(bytes).into_owned(),
            bytes: bytes.to_vec(),
        }
    }
}

/// The sticky-packet report of one direction of one stream.
#[derive(Debug, Clone, Serialize)]
pub struct Direction {
    /// The TCP stream id.
    pub stream: u64,
    /// `client_to_server` or `server_to_client`.
    pub direction: FlowDirection,
    /// The framing used: as given, or as chosen by `auto` (`none` when nothing fits).
    pub framing: String,
    /// True when `auto` chose the framing.
    pub auto: bool,
    /// Whether the message boundaries are known (see [`Status`]).
    pub status: Status,
    /// Data segments: segments that carried new payload bytes (retransmissions excluded).
    pub data_segments: u64,
    /// Messages framed; `None` when the boundaries are unknown.
    pub messages: Option<u64>,
    /// Data segments carrying bytes of two or more messages; `None` when unknown.
    pub coalesced_segments: Option<u64>,
    /// Messages whose bytes came in two or more data segments; `None` when unknown.
    pub split_messages: Option<u64>,
    /// Framing problems, each once, in stream order.
    pub issues: Vec<Issue>,
    /// When `auto` found no framing: each framing tried and where it failed.
    pub tried: Vec<Tried>,
    /// When no framing fits: the direction's first bytes.
    pub first_bytes: Option<FirstBytes>,
    /// Per data segment: frame, relative sequence number, length and the message parts (the
    /// first [`MAX_LISTED_SEGMENTS`]; empty when only the counts were asked for).
    pub segments: Vec<SegmentParts>,
    /// Data segments counted but not listed in `segments` because the listing was full.
    pub unlisted_segments: u64,
    /// Payload bytes on the wire that the capture's snap length cut off (not in any data
    /// segment's captured bytes; their message boundaries are unknown).
    pub not_captured_bytes: u64,
    /// HTTP only: a `101 Switching Protocols` (or a 2xx answer to CONNECT) made the connection a
    /// tunnel (RFC 9110 §15.2.2, §9.3.6); the bytes after it are another protocol and belong to
    /// no HTTP message.
    pub tunnel: bool,
}

impl Direction {
    /// True when the bytes contradict the framing (a program error, not a capture problem).
    pub fn failed(&self) -> bool {
        self.status == Status::Failed
    }

    /// The framing as a short label: `len:4`, `len:4 (error)` when the bytes contradict it,
    /// `len:4 (incomplete)` when the capture lacks bytes, `unknown` when no framing fits (or
    /// the payload was not captured), `-` when `auto` had no payload to look at.
    pub fn framing_label(&self) -> String {
        match self.status {
            Status::NoData if self.auto => "-".into(),
            Status::Framed | Status::NoData => self.framing.clone(),
            Status::Failed => format!("{} (error)", self.framing),
            Status::Incomplete => format!("{} (incomplete)", self.framing),
            Status::Unknown if self.auto => "unknown".into(),
            Status::Unknown => self.framing.clone(),
        }
    }

    /// The issues that are the sending program's errors.
    pub fn errors(&self) -> impl Iterator<Item = &Issue> {
        self.issues.iter().filter(|i| i.kind == IssueKind::Mismatch)
    }
}

/// Most data segments listed per direction (about 100 bytes each); the rest are counted in
/// [`Direction::unlisted_segments`]. A hostile capture of 4 MiB in 1-byte segments would
/// otherwise hold 4 million entries.
pub const MAX_LISTED_SEGMENTS: usize = 100_000;

/// How a direction is framed once chosen.
enum Framing {
    /// Not framed (`none`, or nothing fits).
    Nothing,
    /// A generic framer (`len:`, `line`, `delim:`, `fixed:`).
    Generic(Box<dyn Framer>),
    /// This direction of the stream's HTTP conversation framer.
    Http,
}

/// Frames one direction incrementally.
struct DirectionFramer {
    direction: FlowDirection,
    requested: FramingSpec,
    chosen: Option<FramingSpec>,
    framing: Framing,
    /// `auto` while undecided.
    detector: Option<Box<Detector>>,
    out: FramerOutput,
    mapper: SegmentMapper,
    segments: Vec<SegmentParts>,
    issues: Vec<Issue>,
    tried: Vec<Tried>,
    first_bytes: Option<FirstBytes>,
    /// End of the first whole message framed.
    first_complete_end: Option<u64>,
    keep_segments: bool,
    finished: bool,
    /// Payload bytes cut by the snap length.
    not_captured: u64,
    /// HTTP switched protocols: the rest of the direction is a tunnel (seen when it ends).
    tunnel: bool,
}

/// Who is to blame for what a framer says at the end of a direction ended by `cause`: the
/// sender when it closed (FIN, RST), the capture otherwise.
fn end_kind(cause: EndCause) -> IssueKind {
    match cause {
        EndCause::Fin | EndCause::Reset => IssueKind::Mismatch,
        EndCause::EndOfCapture | EndCause::Replaced | EndCause::TimedOut | EndCause::Evicted => {
            IssueKind::Capture
        }
    }
}

impl DirectionFramer {
    fn new(direction: FlowDirection, spec: &FramingSpec, keep_segments: bool) -> Self {
        let mut d = DirectionFramer {
            direction,
            requested: spec.clone(),
            chosen: None,
            framing: Framing::Nothing,
            detector: None,
            out: FramerOutput::default(),
            // Offsets start at the first payload byte, whose relative sequence number is 1
            // whether or not the SYN was captured (the stream table bases on the first seq seen).
            mapper: SegmentMapper::new(true),
            segments: Vec::new(),
            issues: Vec::new(),
            tried: Vec::new(),
            first_bytes: None,
            first_complete_end: None,
            keep_segments,
            finished: false,
            not_captured: 0,
            tunnel: false,
        };
        if *spec == FramingSpec::Auto {
            d.detector = Some(Box::new(Detector::new()));
        } else {
            d.choose(spec.clone());
        }
        d
    }

    fn is_undecided(&self) -> bool {
        self.chosen.is_none() && !self.finished
    }

    /// The bytes to replay into HTTP framing when the other direction chose HTTP: `None`
    /// when they are no longer held (then this direction decides on its own).
    fn http_replay(&self) -> Option<Vec<u8>> {
        self.detector
            .as_ref()
            .and_then(|d| d.replay())
            .map(<[u8]>::to_vec)
    }

    fn choose(&mut self, spec: FramingSpec) {
        self.framing = match &spec {
            FramingSpec::Http => Framing::Http,
            other => new_framer(other).map_or(Framing::Nothing, Framing::Generic),
        };
        if matches!(self.framing, Framing::Nothing) {
            self.mapper.no_more_messages();
        }
        self.chosen = Some(spec);
    }

    fn feed(&mut self, offset: u64, bytes: &[u8], http: &mut SharedHttp) {
        match &mut self.framing {
            Framing::Nothing => {}
            Framing::Generic(f) => f.feed(offset, bytes, &mut self.out),
            Framing::Http => {
                if let Some(conv) = http {
                    conv.direction(self.direction)
                        .feed(offset, bytes, &mut self.out);
                }
            }
        }
    }

    fn missing(&mut self, offset: u64, len: u64, cause: Missing, http: &mut SharedHttp) {
        match &mut self.framing {
            Framing::Nothing => {}
            Framing::Generic(f) => f.missing(offset, len, cause, &mut self.out),
            Framing::Http => {
                if let Some(conv) = http {
                    conv.direction(self.direction)
                        .missing(offset, len, cause, &mut self.out);
                }
            }
        }
    }

    fn end(&mut self, offset: u64, http: &mut SharedHttp) {
        match &mut self.framing {
            Framing::Nothing => {}
            Framing::Generic(f) => f.finish(offset, &mut self.out),
            Framing::Http => {
                if let Some(conv) = http {
                    conv.direction(self.direction).finish(offset, &mut self.out);
                }
            }
        }
    }

    /// Chooses HTTP and replays `bytes`, the direction's start, into it.
    fn decide_http(&mut self, bytes: &[u8], http: &mut SharedHttp) {
        self.detector = None;
        if http.is_none() {
            *http = Some(Box::new(ConversationFramer::new()));
        }
        self.choose(FramingSpec::Http);
        self.feed(0, bytes, http);
        self.drain(IssueKind::Mismatch);
    }

    /// Takes `auto`'s choice; `kind` is the blame for issues its framer found at the end.
    fn apply(&mut self, choice: Choice, kind: IssueKind, http: &mut SharedHttp) {
        let detector = self.detector.take();
        match choice {
            Choice::Empty => self.choose(FramingSpec::None),
            Choice::Http => {
                let bytes = detector
                    .as_ref()
                    .and_then(|d| d.replay())
                    .unwrap_or_default()
                    .to_vec();
                self.decide_http(&bytes, http);
            }
            Choice::Framer {
                spec,
                framer,
                found,
            } => {
                self.chosen = Some(spec);
                self.framing = Framing::Generic(framer);
                self.out = found;
                self.drain(kind);
            }
            Choice::Unknown { tried } => {
                self.tried = tried;
                if let Some(d) = detector.as_deref() {
                    self.first_bytes = Some(FirstBytes::new(d.first_bytes()));
                }
                self.choose(FramingSpec::None);
            }
        }
    }

    /// `auto` chooses now, on the bytes seen so far; `cause`: why the bytes that follow are
    /// missing, when that is what makes it choose.
    fn decide_now(&mut self, http: &mut SharedHttp, cause: Missing) {
        let Some(detector) = self.detector.take() else {
            return;
        };
        if detector.seen() == 0 {
            // The direction starts with bytes the capture does not hold.
            let reason = match cause {
                Missing::Lost => {
                    "the capture lost the first bytes of this direction: no framing can be checked from an unknown start"
                }
                Missing::NotCaptured => {
                    "the first bytes of this direction were sent but cut by the capture's snap length: no framing can be checked from an unknown start"
                }
            };
            self.tried = vec![Tried {
                framing: "auto".into(),
                offset: Some(0),
                reason: reason.into(),
            }];
            self.choose(FramingSpec::None);
            return;
        }
        let first = FirstBytes::new(detector.first_bytes());
        let choice = detector.decide_now();
        if matches!(choice, Choice::Unknown { .. }) {
            self.first_bytes = Some(first);
        }
        self.apply(choice, IssueKind::Mismatch, http);
    }

    /// New in-order bytes from `frame` at stream `offset`.
    fn on_data(&mut self, frame: FrameNumber, offset: u64, bytes: &[u8], http: &mut SharedHttp) {
        if self.finished {
            return;
        }
        self.mapper.push_segment(DataSegment {
            frame,
            offset,
            len: bytes.len() as u64,
        });
        if let Some(detector) = &mut self.detector {
            detector.feed(offset, bytes);
            if detector.is_http() {
                let bytes = detector.replay().unwrap_or_default().to_vec();
                self.decide_http(&bytes, http);
            } else if detector.hopeless()
                || detector.pending_messages() > auto::MAX_PENDING_MESSAGES
                || self.mapper.open_segments() > auto::MAX_PENDING_SEGMENTS
            {
                self.decide_now(http, Missing::Lost);
            }
            return;
        }
        self.feed(offset, bytes, http);
        self.drain(IssueKind::Mismatch);
    }

    /// `len` bytes at `offset` are not in the capture (`cause`: lost, or cut by snaplen).
    fn on_gap(&mut self, offset: u64, len: u64, cause: Missing, http: &mut SharedHttp) {
        if self.finished {
            return;
        }
        if cause == Missing::NotCaptured {
            self.not_captured = self.not_captured.saturating_add(len);
        }
        self.decide_now(http, cause);
        self.missing(offset, len, cause, http);
        self.drain(IssueKind::Capture);
    }

    /// Call once per captured packet, after its events: completes the segments it delivered.
    fn end_delivery(&mut self) {
        if self.keep_segments && self.segments.len() < MAX_LISTED_SEGMENTS {
            self.mapper.end_delivery(&mut self.segments);
            self.segments.truncate(MAX_LISTED_SEGMENTS);
        } else {
            self.mapper.end_delivery_counting();
        }
    }

    /// The direction ended at `offset` (FIN, RST or end of capture: `cause`).
    fn on_end(&mut self, offset: u64, cause: EndCause, http: &mut SharedHttp) {
        if self.finished {
            return;
        }
        let kind = end_kind(cause);
        if let Some(detector) = self.detector.take() {
            let first = FirstBytes::new(detector.first_bytes());
            let choice = detector.finish(offset);
            if matches!(choice, Choice::Unknown { .. }) {
                self.first_bytes = Some(first);
            }
            // `apply` wants the detector for HTTP replay; finish never chooses HTTP late
            // (HTTP is chosen as soon as its start line arrives).
            self.apply(choice, kind, http);
        }
        // Ending stops the framer: whether it had become a tunnel is read first.
        self.tunnel = matches!(self.framing, Framing::Http)
            && http
                .as_ref()
                .is_some_and(|c| c.side(self.direction).is_tunnel());
        self.end(offset, http);
        // A message left incomplete by the end stops where the bytes stopped, not at its end.
        for m in &self.out.messages {
            if m.complete && self.first_complete_end.is_none() {
                self.first_complete_end = Some(m.end);
            }
            if !m.complete && m.end == offset {
                self.mapper.push_cut_message(m);
            } else {
                self.mapper.push_message(m);
            }
        }
        self.out.messages.clear();
        self.drain(kind);
        self.finished = true;
    }

    /// Hands what the framer emitted to the segment mapper; its issues are blamed on `kind`.
    fn drain(&mut self, kind: IssueKind) {
        for m in &self.out.messages {
            if m.complete && self.first_complete_end.is_none() {
                self.first_complete_end = Some(m.end);
            }
            self.mapper.push_message(m);
        }
        self.issues.extend(self.out.issues.drain(..).map(|i| Issue {
            offset: i.offset,
            reason: i.reason,
            kind,
        }));
        self.out.clear();
    }

    /// Blames the capture, not the program, for the issues it cannot be sure of: those after
    /// bytes went missing from the capture (a framer resynchronising after a gap), and, when
    /// the capture started after the direction did (`start_unknown`: its SYN was not seen),
    /// those before the first whole message (the first bytes may be the end of an earlier one).
    fn blame(&mut self, start_unknown: bool) {
        let after_loss = self
            .issues
            .iter()
            .filter(|i| i.kind == IssueKind::Capture)
            .map(|i| i.offset)
            .min();
        let unsure_until = start_unknown.then(|| self.first_complete_end.unwrap_or(u64::MAX));
        for i in &mut self.issues {
            if i.kind == IssueKind::Capture {
                continue;
            }
            if unsure_until.is_some_and(|end| i.offset < end) {
                i.kind = IssueKind::Capture;
                i.reason
                    .push_str(" (the capture started after this direction did)");
            } else if after_loss.is_some_and(|at| i.offset >= at) {
                i.kind = IssueKind::Capture;
            }
        }
    }

    /// The report; ends the direction first if it is still open. `start_unknown`: the
    /// capture started after the direction did.
    fn finish(
        mut self: Box<Self>,
        stream: u64,
        end_offset: u64,
        start_unknown: bool,
        http: &mut SharedHttp,
    ) -> Direction {
        self.on_end(end_offset, EndCause::EndOfCapture, http);
        self.blame(start_unknown);
        let tunnel = self.tunnel;
        let summary: Summary = if self.keep_segments && self.segments.len() < MAX_LISTED_SEGMENTS {
            let s = self.mapper.finish(&mut self.segments);
            self.segments.truncate(MAX_LISTED_SEGMENTS);
            s
        } else {
            self.mapper.finish_counting()
        };
        let unlisted_segments = if self.keep_segments {
            summary
                .data_segments
                .saturating_sub(self.segments.len() as u64)
        } else {
            0
        };
        let unframed = matches!(self.framing, Framing::Nothing);
        // Payload cut by the snap length was on the wire: its boundaries are unknown, not
        // absent.
        let status = if unframed && (summary.data_segments > 0 || self.not_captured > 0) {
            Status::Unknown
        } else if self.issues.iter().any(|i| i.kind == IssueKind::Mismatch) {
            Status::Failed
        } else if !self.issues.is_empty() {
            Status::Incomplete
        } else if summary.data_segments == 0 {
            Status::NoData
        } else {
            Status::Framed
        };
        let known = |n: u64| (status != Status::Unknown).then_some(n);
        let framing = self.chosen.as_ref().unwrap_or(&self.requested).to_string();
        Direction {
            stream,
            direction: self.direction,
            framing,
            auto: self.requested == FramingSpec::Auto,
            status,
            data_segments: summary.data_segments,
            messages: known(summary.messages),
            coalesced_segments: known(summary.coalesced_segments),
            split_messages: known(summary.split_messages),
            issues: self.issues,
            tried: self.tried,
            first_bytes: self.first_bytes.filter(|_| status == Status::Unknown),
            segments: self.segments,
            unlisted_segments,
            not_captured_bytes: self.not_captured,
            tunnel,
        }
    }
}

/// The HTTP conversation framer both directions of a stream share when HTTP (boxed: most
/// streams never need one).
type SharedHttp = Option<Box<ConversationFramer>>;

/// Both directions of one stream, with the HTTP conversation framer they share when HTTP. A
/// direction's framer is made at its first event (an open connection whose server never spoke
/// costs one direction, not two).
struct StreamFramers {
    dirs: [Option<Box<DirectionFramer>>; 2],
    http: SharedHttp,
    end_offsets: [u64; 2],
    ended: [bool; 2],
    /// Per direction: the capture started after it did (its SYN was not seen); `None` until
    /// the stream table was asked.
    start_unknown: Option<[bool; 2]>,
}

impl StreamFramers {
    fn new(options: &Options) -> Self {
        StreamFramers {
            dirs: [None, None],
            http: (options.framing == FramingSpec::Http)
                .then(|| Box::new(ConversationFramer::new())),
            end_offsets: [0; 2],
            ended: [false; 2],
            start_unknown: None,
        }
    }

    /// Runs `f` on direction `d` (made first if it is not there yet); when that made an `auto`
    /// direction choose HTTP, the other direction follows if it has not chosen yet and its
    /// bytes can still be replayed (a response is framed by its request).
    fn with_direction(
        &mut self,
        d: FlowDirection,
        options: &Options,
        f: impl FnOnce(&mut DirectionFramer, &mut SharedHttp),
    ) {
        let new = |d| {
            Box::new(DirectionFramer::new(
                d,
                &options.framing,
                options.keep_segments,
            ))
        };
        let [c2s, s2c] = &mut self.dirs;
        let (this, other) = match d {
            FlowDirection::ClientToServer => (c2s, s2c),
            FlowDirection::ServerToClient => (s2c, c2s),
        };
        let this = this.get_or_insert_with(|| new(d));
        let was_undecided = this.is_undecided();
        f(this, &mut self.http);
        if was_undecided && this.chosen == Some(FramingSpec::Http) {
            let other = other.get_or_insert_with(|| new(d.reverse()));
            if other.is_undecided()
                && let Some(bytes) = other.http_replay()
            {
                other.decide_http(&bytes, &mut self.http);
            }
        }
    }

    fn on_event(&mut self, d: FlowDirection, event: &Event<'_>, options: &Options) {
        let i = d.index();
        let reach = match *event {
            Event::Data {
                frame,
                offset,
                bytes,
            } => {
                self.with_direction(d, options, |dir, http| {
                    dir.on_data(frame, offset, bytes, http);
                });
                offset.saturating_add(bytes.len() as u64)
            }
            Event::Gap { offset, len, .. } => {
                self.with_direction(d, options, |dir, http| {
                    dir.on_gap(offset, len, Missing::Lost, http);
                });
                offset.saturating_add(len)
            }
            Event::NotCaptured { offset, len, .. } => {
                self.with_direction(d, options, |dir, http| {
                    dir.on_gap(offset, len, Missing::NotCaptured, http);
                });
                offset.saturating_add(len)
            }
            Event::End { offset, cause } => {
                self.with_direction(d, options, |dir, http| dir.on_end(offset, cause, http));
                if let Some(ended) = self.ended.get_mut(i) {
                    *ended = true;
                }
                offset
            }
            _ => return,
        };
        if let Some(end) = self.end_offsets.get_mut(i) {
            *end = (*end).max(reach);
        }
    }

    fn end_delivery(&mut self) {
        for d in self.dirs.iter_mut().flatten() {
            d.end_delivery();
        }
    }

    /// The two reports, client to server first.
    fn finish(self, stream: u64, options: &Options) -> [Direction; 2] {
        let StreamFramers {
            dirs: [c2s, s2c],
            mut http,
            end_offsets: [c2s_end, s2c_end],
            start_unknown,
            ..
        } = self;
        let [c2s_unknown, s2c_unknown] = start_unknown.unwrap_or_default();
        let framer = |dir: Option<Box<DirectionFramer>>, d| {
            dir.unwrap_or_else(|| {
                Box::new(DirectionFramer::new(
                    d,
                    &options.framing,
                    options.keep_segments,
                ))
            })
        };
        [
            framer(c2s, FlowDirection::ClientToServer).finish(
                stream,
                c2s_end,
                c2s_unknown,
                &mut http,
            ),
            framer(s2c, FlowDirection::ServerToClient).finish(
                stream,
                s2c_end,
                s2c_unknown,
                &mut http,
            ),
        ]
    }
}

/// What is kept of one stream until the table lets it go.
enum Slot {
    /// Being framed.
    Framing(Box<StreamFramers>),
    /// Both directions ended: the reports, waiting for the stream's row.
    Ready(Box<[Direction; 2]>),
    /// Reported, or not selected.
    Done,
}

/// Where finished reports go.
enum Output<'e> {
    /// Kept for [`Sticky::into_reports`].
    Keep(Vec<Direction>),
    /// Kept by stream until [`Sticky::take`] asks for them.
    Take,
    /// Handed to a callback in stream order.
    Stream {
        out: &'e mut dyn FnMut(Direction),
        order: InOrder<[Direction; 2]>,
    },
}

/// Most streams whose reports wait for a lower stream to end before they are handed out in
/// stream order (see [`InOrder`]).
const ORDER_WINDOW: usize = 4096;

/// The sticky-packet analysis of a capture: a [`StreamConsumer`] that frames the selected
/// streams and reports each direction, kept until the end ([`Sticky::new`]), handed out in
/// stream order as soon as possible ([`Sticky::streaming`]), or taken stream by stream by
/// another consumer ([`Sticky::by_stream`], [`Sticky::take`]).
///
/// Memory follows the streams the TCP table holds: a stream's framers are made at its first
/// event and dropped when both directions end; the few bytes left go when the table lets the
/// stream go ([`StreamConsumer::on_stream_end`]). Each direction lists at most
/// [`MAX_LISTED_SEGMENTS`] data segments; the others are counted
/// ([`Direction::unlisted_segments`]).
pub struct Sticky<'e> {
    options: Options,
    streams: HashMap<StreamId, Slot>,
    closed: Vec<StreamId>,
    output: Output<'e>,
}

impl Sticky<'static> {
    /// An analysis framing the streams `options` selects; the reports are kept
    /// ([`into_reports`](Sticky::into_reports)).
    pub fn new(options: Options) -> Self {
        Sticky::with_output(options, Output::Keep(Vec::new()))
    }

    /// An analysis whose reports are taken stream by stream with [`Sticky::take`] (by a
    /// consumer that drives this one); nothing is kept beyond what has not been taken.
    pub fn by_stream(options: Options) -> Self {
        Sticky::with_output(options, Output::Take)
    }
}

impl<'e> Sticky<'e> {
    fn with_output(options: Options, output: Output<'e>) -> Self {
        Sticky {
            options,
            streams: HashMap::new(),
            closed: Vec::new(),
            output,
        }
    }

    /// An analysis that hands each report to `out`, in stream order, as soon as the stream and
    /// every stream before it have ended: memory holds the open streams, not the listing of
    /// the whole capture.
    pub fn streaming(options: Options, out: &'e mut dyn FnMut(Direction)) -> Self {
        Sticky::with_output(
            options,
            Output::Stream {
                out,
                order: InOrder::new(ORDER_WINDOW),
            },
        )
    }

    /// The reports, two per framed stream (client to server first), by stream (call after the
    /// run).
    pub fn into_reports(self) -> Vec<Direction> {
        match self.output {
            Output::Keep(reports) => reports,
            Output::Take | Output::Stream { .. } => Vec::new(),
        }
    }

    /// The two reports of stream `id` (client to server first), ending its directions first if
    /// they are still open, and forgets the stream. `None` when the stream was not framed (not
    /// selected, or no event).
    pub fn take(&mut self, id: StreamId) -> Option<[Direction; 2]> {
        match self.streams.remove(&id)? {
            Slot::Framing(s) => Some(s.finish(id.0, &self.options)),
            Slot::Ready(pair) => Some(*pair),
            Slot::Done => None,
        }
    }

    /// Both directions of stream `id` ended: its reports are final.
    fn finalize(&mut self, id: StreamId) {
        if let Some(slot) = self.streams.get_mut(&id)
            && matches!(slot, Slot::Framing(_))
            && let Slot::Framing(s) = std::mem::replace(slot, Slot::Done)
        {
            let pair = s.finish(id.0, &self.options);
            match &mut self.output {
                Output::Keep(reports) => reports.extend(pair),
                Output::Take | Output::Stream { .. } => *slot = Slot::Ready(Box::new(pair)),
            }
        }
    }
}

impl StreamConsumer for Sticky<'_> {
    fn on_event(&mut self, e: &StreamEvent<'_>, _at: At) {
        let id = e.stream;
        let options = &self.options;
        let slot = self.streams.entry(id).or_insert_with(|| {
            if options.stream.is_none_or(|only| only == id.0) {
                Slot::Framing(Box::new(StreamFramers::new(options)))
            } else {
                Slot::Done
            }
        });
        if let Slot::Framing(s) = slot {
            s.on_event(e.direction, &e.event, options);
            if s.ended == [true, true] {
                self.closed.push(id);
            }
        }
    }

    fn on_packet_end(&mut self, stream: StreamId, _at: At, table: &StreamTable) {
        if let Some(Slot::Framing(s)) = self.streams.get_mut(&stream) {
            s.end_delivery();
            if s.start_unknown.is_none()
                && let Some(row) = table.stream(stream)
            {
                // Once per stream: whether the capture saw each direction start.
                let h = row.handshake;
                s.start_unknown = Some([h.syn.is_none(), h.syn_ack.is_none()]);
            }
        }
        // A stream whose two directions have ended is reported now and its state released, so
        // memory follows the connections still open, not the capture's length.
        while let Some(id) = self.closed.pop() {
            self.finalize(id);
        }
    }

    fn on_stream_end(&mut self, row: &Stream, _at: At) {
        match &mut self.output {
            Output::Take => {}
            Output::Keep(_) => {
                self.finalize(row.id);
                self.streams.remove(&row.id);
            }
            Output::Stream { .. } => {
                let pair = self.take(row.id);
                if let Output::Stream { out, order } = &mut self.output {
                    order.push(row.id.0, pair, &mut |[a, b]: [Direction; 2]| {
                        out(a);
                        out(b);
                    });
                }
            }
        }
    }

    fn finish(&mut self, _at: At) {
        // Streams never let go by a table (a consumer driven by hand): in stream order.
        let mut left: Vec<StreamId> = self.streams.keys().copied().collect();
        left.sort_unstable();
        self.closed.clear();
        match &mut self.output {
            Output::Take => {}
            Output::Keep(_) => {
                for id in left {
                    self.finalize(id);
                }
                self.streams.clear();
                if let Output::Keep(reports) = &mut self.output {
                    reports.sort_by_key(|r| (r.stream, r.direction.index()));
                }
            }
            Output::Stream { .. } => {
                let pairs: Vec<(StreamId, Option<[Direction; 2]>)> =
                    left.into_iter().map(|id| (id, self.take(id))).collect();
                if let Output::Stream { out, order } = &mut self.output {
                    let mut emit = |[a, b]: [Direction; 2]| {
                        out(a);
                        out(b);
                    };
                    for (id, pair) in pairs {
                        order.push(id.0, pair, &mut emit);
                    }
                    order.flush(&mut emit);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::flow::tcp::EndCause;

    fn event(stream: u64, direction: FlowDirection, event: Event<'_>) -> StreamEvent<'_> {
        StreamEvent {
            stream: StreamId(stream),
            direction,
            event,
        }
    }

    /// Stream 1 sends two 4-byte-prefixed messages and ends; then stream 0 does the same.
    fn feed(c: &mut dyn StreamConsumer) {
        let msg: &[u8] = b"\0\0\0\x02hi\0\0\0\x01!";
        let mut frame = 0;
        for stream in [0, 1, 1, 0] {
            frame += 1;
            let at = At {
                frame: FrameNumber(frame),
                ts: Duration::from_millis(frame),
            };
            let dir = FlowDirection::ClientToServer;
            if frame <= 2 {
                let data = Event::Data {
                    frame: at.frame,
                    offset: 0,
                    bytes: msg,
                };
                c.on_event(&event(stream, dir, data), at);
            } else {
                for d in [dir, dir.reverse()] {
                    let end = Event::End {
                        offset: if d == dir { msg.len() as u64 } else { 0 },
                        cause: EndCause::Fin,
                    };
                    c.on_event(&event(stream, d, end), at);
                }
            }
            c.on_packet_end(StreamId(stream), at, &StreamTable::default());
        }
        c.finish(At::default());
    }

    fn options() -> Options {
        Options {
            framing: "len:4".parse().unwrap(),
            stream: None,
            keep_segments: true,
        }
    }

    #[test]
    fn streaming_hands_reports_out_in_stream_order_as_kept_ones() {
        let mut kept = Sticky::new(options());
        feed(&mut kept);
        let kept = kept.into_reports();
        let mut streamed = Vec::new();
        let mut out = |r: Direction| streamed.push(r);
        let mut s = Sticky::streaming(options(), &mut out);
        feed(&mut s);
        drop(s);
        let key = |r: &Direction| (r.stream, r.direction.index(), r.messages, r.data_segments);
        assert_eq!(
            streamed.iter().map(key).collect::<Vec<_>>(),
            kept.iter().map(key).collect::<Vec<_>>()
        );
        assert_eq!(
            streamed.iter().map(key).collect::<Vec<_>>(),
            vec![
                (0, 0, Some(2), 1),
                (0, 1, Some(0), 0),
                (1, 0, Some(2), 1),
                (1, 1, Some(0), 0)
            ]
        );
    }

    #[test]
    fn the_listing_keeps_the_first_segments_and_counts_the_rest() {
        let options = Options {
            framing: "none".parse().unwrap(),
            stream: None,
            keep_segments: true,
        };
        let mut sticky = Sticky::new(options);
        let n = MAX_LISTED_SEGMENTS as u64 + 7;
        let dir = FlowDirection::ClientToServer;
        let table = StreamTable::default();
        for i in 0..n {
            let at = At {
                frame: FrameNumber(i + 1),
                ts: Duration::ZERO,
            };
            let data = Event::Data {
                frame: at.frame,
                offset: i,
                bytes: b"x",
            };
            sticky.on_event(&event(0, dir, data), at);
            sticky.on_packet_end(StreamId(0), at, &table);
        }
        sticky.finish(At::default());
        let reports = sticky.into_reports();
        let c2s = &reports[0];
        assert_eq!(c2s.data_segments, n);
        assert_eq!(c2s.segments.len(), MAX_LISTED_SEGMENTS);
        assert_eq!(c2s.unlisted_segments, 7);
        assert_eq!(c2s.segments.last().map(|s| s.offset), Some(n - 8));
    }

    #[test]
    fn a_stream_s_framers_go_when_it_ends_and_the_rest_when_its_row_comes() {
        let mut sticky = Sticky::by_stream(options());
        let at = At::default();
        let table = StreamTable::default();
        let dir = FlowDirection::ClientToServer;
        let data = Event::Data {
            frame: FrameNumber(1),
            offset: 0,
            bytes: b"\0\0\0\x02hi",
        };
        sticky.on_event(&event(3, dir, data), at);
        sticky.on_packet_end(StreamId(3), at, &table);
        assert!(matches!(
            sticky.streams.get(&StreamId(3)),
            Some(Slot::Framing(_))
        ));
        for (d, offset) in [(dir, 6), (dir.reverse(), 0)] {
            let end = Event::End {
                offset,
                cause: EndCause::Fin,
            };
            sticky.on_event(&event(3, d, end), at);
        }
        sticky.on_packet_end(StreamId(3), at, &table);
        assert!(matches!(
            sticky.streams.get(&StreamId(3)),
            Some(Slot::Ready(_))
        ));
        let pair = sticky.take(StreamId(3)).expect("reports");
        assert_eq!((pair[0].messages, pair[1].messages), (Some(1), Some(0)));
        assert!(sticky.streams.is_empty());
    }

    /// Frames `chunks` (one packet each) in one direction of stream 0, then ends both
    /// directions with `cause`.
    fn run(framing: &str, chunks: &[&[u8]], cause: EndCause) -> Vec<Direction> {
        let options = Options {
            framing: framing.parse().unwrap(),
            stream: None,
            keep_segments: true,
        };
        let mut sticky = Sticky::new(options);
        let table = StreamTable::default();
        let dir = FlowDirection::ClientToServer;
        let mut offset = 0;
        for (i, bytes) in chunks.iter().enumerate() {
            let at = At {
                frame: FrameNumber(i as u64 + 1),
                ts: Duration::ZERO,
            };
            let data = Event::Data {
                frame: at.frame,
                offset,
                bytes,
            };
            sticky.on_event(&event(0, dir, data), at);
            sticky.on_packet_end(StreamId(0), at, &table);
            offset += bytes.len() as u64;
        }
        for (d, end) in [(dir, offset), (dir.reverse(), 0)] {
            let at = At::default();
            sticky.on_event(&event(0, d, Event::End { offset: end, cause }), at);
        }
        sticky.finish(At::default());
        sticky.into_reports()
    }

    #[test]
    fn who_is_to_blame_for_a_message_cut_at_the_end() {
        // The prefix announces 10 bytes, 3 follow.
        let bytes: &[u8] = b"\0\0\0\x01a\0\0\0\x0abcd";
        let closed = run("len:4", &[bytes], EndCause::Fin);
        assert_eq!(closed[0].status, Status::Failed);
        assert_eq!(closed[0].issues[0].kind, IssueKind::Mismatch);
        let cut = run("len:4", &[bytes], EndCause::EndOfCapture);
        assert_eq!(cut[0].status, Status::Incomplete);
        assert_eq!(cut[0].issues[0].kind, IssueKind::Capture);
        // The cut message's segment carries its head, not the whole of it.
        let parts = &cut[0].segments[0].parts;
        assert_eq!(parts[1].message, 2);
        assert_eq!(parts[1].part, crate::framing::segments::PartKind::Head);
        assert_eq!(closed[1].status, Status::NoData);
        assert_eq!(closed[1].messages, Some(0));
    }

    #[test]
    fn auto_decides_before_too_many_segments_wait() {
        // A length-prefixed stream whose second message (50 MB) never ends within the test,
        // in 100-byte segments of random bytes: the choice is forced when
        // MAX_PENDING_SEGMENTS wait, not at the end, and the long body counts for its prefix.
        let mut chunks: Vec<Vec<u8>> = vec![b"\0\0\0\x02hi".to_vec()];
        chunks.push(50_000_000u32.to_be_bytes().to_vec());
        let body = auto::MAX_PENDING_SEGMENTS + 10;
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        chunks.extend((0..body).map(|_| {
            (0..100)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    (state >> 56) as u8
                })
                .collect()
        }));
        let refs: Vec<&[u8]> = chunks.iter().map(Vec::as_slice).collect();
        let reports = run("auto", &refs, EndCause::EndOfCapture);
        let c2s = &reports[0];
        assert_eq!(c2s.framing, "len:4");
        // Chosen early: at the end, len:4 would have been contradicted (message 2 runs past
        // it). Message 2 is cut by the end of the capture: not the program's fault.
        assert_eq!(c2s.status, Status::Incomplete);
        assert_eq!(c2s.messages, Some(2));
        assert_eq!(c2s.data_segments, body as u64 + 2);
    }

    #[test]
    fn auto_without_a_fitting_framing_reports_unknown_boundaries() {
        let reports = run("auto", &[b"msg0", b"msg1msg2"], EndCause::Fin);
        let c2s = &reports[0];
        assert_eq!(c2s.status, Status::Unknown);
        assert_eq!(
            (c2s.messages, c2s.coalesced_segments, c2s.split_messages),
            (None, None, None)
        );
        assert_eq!(c2s.framing_label(), "unknown");
        assert_eq!(c2s.data_segments, 2);
        assert!(c2s.segments.iter().all(|s| s.parts.is_empty()));
        let first = c2s.first_bytes.as_ref().unwrap();
        assert_eq!(first.text, "msg0msg1msg2");
        assert!(c2s.tried.iter().any(
            |t| t.framing == "len:4" && t.reason.contains("reads as a length of 1,836,279,600")
        ));
    }
}
