//! Sticky packets: each direction of a TCP stream framed into application messages and checked
//! against the data segments that carried them (coalesced segments, split messages).
//!
//! In: the stream events of the engine ([`Sticky`] is a [`StreamConsumer`]). Out: a
//! [`Direction`] report per direction of each framed stream. `http` framing uses `app::http`'s
//! conversation framer for both directions of a stream together, so a response is framed by
//! its request (HEAD, CONNECT, 1xx, 204, 304) exactly as the `http` command pairs it. With
//! `auto` ([`auto`]) the first bytes of a direction (at most [`auto::LOOKAHEAD`]) are copied
//! until the framing can be chosen, then replayed into the chosen framer; HTTP is chosen as soon
//! as its start line is there, and then for both directions. Otherwise nothing is copied.

pub mod auto;

use foldhash::{HashMap, HashMapExt};
use serde::Serialize;

use super::order::InOrder;
use crate::app::consumer::{At, StreamConsumer};
use crate::app::http::ConversationFramer;
use crate::flow::tcp::{Event, Stream, StreamEvent, StreamTable};
use crate::framing::segments::{DataSegment, SegmentMapper, SegmentParts, Summary};
use crate::framing::{Framer, FramerOutput, FramingIssue, FramingSpec, new_framer};
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

/// The sticky-packet report of one direction of one stream.
#[derive(Debug, Clone, Serialize)]
pub struct Direction {
    /// The TCP stream id.
    pub stream: u64,
    /// `client_to_server` or `server_to_client`.
    pub direction: FlowDirection,
    /// The framing used (as given, or as chosen by `auto`).
    pub framing: String,
    /// Data segments: segments that carried new payload bytes (retransmissions excluded).
    pub data_segments: u64,
    /// Messages framed.
    pub messages: u64,
    /// Data segments carrying bytes of two or more messages.
    pub coalesced_segments: u64,
    /// Messages whose bytes came in two or more data segments.
    pub split_messages: u64,
    /// Framing problems, each with its stream offset.
    pub issues: Vec<FramingIssue>,
    /// Per data segment: frame, relative sequence number, length and the message parts (the
    /// first [`MAX_LISTED_SEGMENTS`]; empty when only the counts were asked for).
    pub segments: Vec<SegmentParts>,
    /// Data segments counted but not listed in `segments` because the listing was full.
    pub unlisted_segments: u64,
}

/// Most data segments listed per direction (about 100 bytes each); the rest are counted in
/// [`Direction::unlisted_segments`]. A hostile capture of 4 MiB in 1-byte segments would
/// otherwise hold 4 million entries.
pub const MAX_LISTED_SEGMENTS: usize = 100_000;

/// How a direction is framed once chosen.
enum Framing {
    /// Not framed (`none`).
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
    lookahead: Vec<u8>,
    out: FramerOutput,
    mapper: SegmentMapper,
    segments: Vec<SegmentParts>,
    issues: Vec<FramingIssue>,
    keep_segments: bool,
    finished: bool,
}

impl DirectionFramer {
    fn new(direction: FlowDirection, spec: &FramingSpec, keep_segments: bool) -> Self {
        let mut d = DirectionFramer {
            direction,
            requested: spec.clone(),
            chosen: None,
            framing: Framing::Nothing,
            lookahead: Vec::new(),
            out: FramerOutput::default(),
            // Offsets start at the first payload byte, whose relative sequence number is 1
            // whether or not the SYN was captured (the stream table bases on the first seq seen).
            mapper: SegmentMapper::new(true),
            segments: Vec::new(),
            issues: Vec::new(),
            keep_segments,
            finished: false,
        };
        if *spec != FramingSpec::Auto {
            d.choose(spec.clone());
        }
        d
    }

    fn is_undecided(&self) -> bool {
        self.chosen.is_none() && !self.finished
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

    fn gap(&mut self, offset: u64, len: u64, http: &mut SharedHttp) {
        match &mut self.framing {
            Framing::Nothing => {}
            Framing::Generic(f) => f.gap(offset, len, &mut self.out),
            Framing::Http => {
                if let Some(conv) = http {
                    conv.direction(self.direction)
                        .gap(offset, len, &mut self.out);
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

    /// Chooses `spec` and replays the look-ahead into it.
    fn decide_as(&mut self, spec: FramingSpec, http: &mut SharedHttp) {
        if spec == FramingSpec::Http && http.is_none() {
            *http = Some(Box::new(ConversationFramer::new()));
        }
        self.choose(spec);
        let bytes = std::mem::take(&mut self.lookahead);
        self.feed(0, &bytes, http);
        self.drain();
    }

    /// Auto framing: chooses from the look-ahead (`total_known`: the direction is over).
    fn decide(&mut self, total_known: bool, http: &mut SharedHttp) {
        let spec = auto::detect(&self.lookahead, total_known);
        self.decide_as(spec, http);
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
        if self.chosen.is_none() {
            self.lookahead.extend_from_slice(bytes);
            // HTTP is known from its start line; waiting for more would frame the same.
            if auto::is_http(&self.lookahead) {
                self.decide_as(FramingSpec::Http, http);
            } else if self.lookahead.len() >= auto::LOOKAHEAD {
                self.decide(false, http);
            }
            return;
        }
        self.feed(offset, bytes, http);
        self.drain();
    }

    /// `len` bytes at `offset` were never captured.
    fn on_gap(&mut self, offset: u64, len: u64, http: &mut SharedHttp) {
        if self.finished {
            return;
        }
        if self.chosen.is_none() {
            self.decide(false, http);
        }
        self.gap(offset, len, http);
        self.drain();
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

    /// The direction ended at `offset` (FIN, RST or end of capture).
    fn on_end(&mut self, offset: u64, http: &mut SharedHttp) {
        if self.finished {
            return;
        }
        if self.chosen.is_none() {
            self.decide(true, http);
        }
        self.end(offset, http);
        self.drain();
        self.finished = true;
    }

    fn drain(&mut self) {
        for m in &self.out.messages {
            self.mapper.push_message(m);
        }
        self.issues.append(&mut self.out.issues);
        self.out.clear();
    }

    /// The report; ends the direction first if it is still open.
    fn finish(
        mut self: Box<Self>,
        stream: u64,
        end_offset: u64,
        http: &mut SharedHttp,
    ) -> Direction {
        self.on_end(end_offset, http);
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
        let framing = self.chosen.as_ref().unwrap_or(&self.requested).to_string();
        Direction {
            stream,
            direction: self.direction,
            framing,
            data_segments: summary.data_segments,
            messages: summary.messages,
            coalesced_segments: summary.coalesced_segments,
            split_messages: summary.split_messages,
            issues: self.issues,
            segments: self.segments,
            unlisted_segments,
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
}

impl StreamFramers {
    fn new(options: &Options) -> Self {
        StreamFramers {
            dirs: [None, None],
            http: (options.framing == FramingSpec::Http)
                .then(|| Box::new(ConversationFramer::new())),
            end_offsets: [0; 2],
            ended: [false; 2],
        }
    }

    /// Runs `f` on direction `d` (made first if it is not there yet); when that made an `auto`
    /// direction choose HTTP, the other direction follows if it has not chosen yet (a response
    /// is framed by its request).
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
            if other.is_undecided() {
                other.decide_as(FramingSpec::Http, &mut self.http);
            }
        }
    }

    fn on_event(&mut self, d: FlowDirection, event: &Event<'_>, options: &Options) {
        let i = d.index();
        match *event {
            Event::Data {
                frame,
                offset,
                bytes,
            } => {
                self.with_direction(d, options, |dir, http| {
                    dir.on_data(frame, offset, bytes, http);
                });
                if let Some(end) = self.end_offsets.get_mut(i) {
                    *end = (*end).max(offset.saturating_add(bytes.len() as u64));
                }
            }
            Event::Gap { offset, len, .. } => {
                self.with_direction(d, options, |dir, http| dir.on_gap(offset, len, http));
                if let Some(end) = self.end_offsets.get_mut(i) {
                    *end = (*end).max(offset.saturating_add(len));
                }
            }
            Event::End { offset, .. } => {
                self.with_direction(d, options, |dir, http| dir.on_end(offset, http));
                if let Some(end) = self.end_offsets.get_mut(i) {
                    *end = (*end).max(offset);
                }
                if let Some(ended) = self.ended.get_mut(i) {
                    *ended = true;
                }
            }
            _ => {}
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
            ..
        } = self;
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
            framer(c2s, FlowDirection::ClientToServer).finish(stream, c2s_end, &mut http),
            framer(s2c, FlowDirection::ServerToClient).finish(stream, s2c_end, &mut http),
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

    fn on_packet_end(&mut self, stream: StreamId, _at: At, _table: &StreamTable) {
        if let Some(Slot::Framing(s)) = self.streams.get_mut(&stream) {
            s.end_delivery();
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
            vec![(0, 0, 2, 1), (0, 1, 0, 0), (1, 0, 2, 1), (1, 1, 0, 0)]
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
        assert_eq!((pair[0].messages, pair[1].messages), (1, 0));
        assert!(sticky.streams.is_empty());
    }
}
