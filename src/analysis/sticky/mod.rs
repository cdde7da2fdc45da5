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

use std::collections::BTreeMap;

use serde::Serialize;

use crate::app::consumer::{At, StreamConsumer};
use crate::app::http::ConversationFramer;
use crate::flow::tcp::{Event, Stream, StreamEvent};
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
    /// Per data segment: frame, relative sequence number, length and the message parts.
    pub segments: Vec<SegmentParts>,
}

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

    fn feed(&mut self, offset: u64, bytes: &[u8], http: &mut Option<ConversationFramer>) {
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

    fn gap(&mut self, offset: u64, len: u64, http: &mut Option<ConversationFramer>) {
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

    fn end(&mut self, offset: u64, http: &mut Option<ConversationFramer>) {
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
    fn decide_as(&mut self, spec: FramingSpec, http: &mut Option<ConversationFramer>) {
        if spec == FramingSpec::Http && http.is_none() {
            *http = Some(ConversationFramer::new());
        }
        self.choose(spec);
        let bytes = std::mem::take(&mut self.lookahead);
        self.feed(0, &bytes, http);
        self.drain();
    }

    /// Auto framing: chooses from the look-ahead (`total_known`: the direction is over).
    fn decide(&mut self, total_known: bool, http: &mut Option<ConversationFramer>) {
        let spec = auto::detect(&self.lookahead, total_known);
        self.decide_as(spec, http);
    }

    /// New in-order bytes from `frame` at stream `offset`.
    fn on_data(
        &mut self,
        frame: FrameNumber,
        offset: u64,
        bytes: &[u8],
        http: &mut Option<ConversationFramer>,
    ) {
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
    fn on_gap(&mut self, offset: u64, len: u64, http: &mut Option<ConversationFramer>) {
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
        if self.keep_segments {
            self.mapper.end_delivery(&mut self.segments);
        } else {
            self.mapper.end_delivery_counting();
        }
    }

    /// The direction ended at `offset` (FIN, RST or end of capture).
    fn on_end(&mut self, offset: u64, http: &mut Option<ConversationFramer>) {
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
        mut self,
        stream: u64,
        end_offset: u64,
        http: &mut Option<ConversationFramer>,
    ) -> Direction {
        self.on_end(end_offset, http);
        let summary: Summary = if self.keep_segments {
            self.mapper.finish(&mut self.segments)
        } else {
            self.mapper.finish_counting()
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
        }
    }
}

/// Both directions of one stream, with the HTTP conversation framer they share when HTTP.
struct StreamFramers {
    dirs: [DirectionFramer; 2],
    http: Option<ConversationFramer>,
    end_offsets: [u64; 2],
    ended: [bool; 2],
}

impl StreamFramers {
    fn new(options: &Options) -> Self {
        let new = |d| DirectionFramer::new(d, &options.framing, options.keep_segments);
        StreamFramers {
            dirs: [
                new(FlowDirection::ClientToServer),
                new(FlowDirection::ServerToClient),
            ],
            http: (options.framing == FramingSpec::Http).then(ConversationFramer::new),
            end_offsets: [0; 2],
            ended: [false; 2],
        }
    }

    /// Runs `f` on direction `d`; when that made an `auto` direction choose HTTP, the other
    /// direction follows if it has not chosen yet (a response is framed by its request).
    fn with_direction(
        &mut self,
        d: FlowDirection,
        f: impl FnOnce(&mut DirectionFramer, &mut Option<ConversationFramer>),
    ) {
        let [c2s, s2c] = &mut self.dirs;
        let (this, other) = match d {
            FlowDirection::ClientToServer => (c2s, s2c),
            FlowDirection::ServerToClient => (s2c, c2s),
        };
        let was_undecided = this.is_undecided();
        f(this, &mut self.http);
        if was_undecided && this.chosen == Some(FramingSpec::Http) && other.is_undecided() {
            other.decide_as(FramingSpec::Http, &mut self.http);
        }
    }

    fn on_event(&mut self, d: FlowDirection, event: &Event<'_>) {
        let i = d.index();
        match *event {
            Event::Data {
                frame,
                offset,
                bytes,
            } => {
                self.with_direction(d, |dir, http| dir.on_data(frame, offset, bytes, http));
                if let Some(end) = self.end_offsets.get_mut(i) {
                    *end = (*end).max(offset.saturating_add(bytes.len() as u64));
                }
            }
            Event::Gap { offset, len, .. } => {
                self.with_direction(d, |dir, http| dir.on_gap(offset, len, http));
                if let Some(end) = self.end_offsets.get_mut(i) {
                    *end = (*end).max(offset.saturating_add(len));
                }
            }
            Event::End { offset, .. } => {
                self.with_direction(d, |dir, http| dir.on_end(offset, http));
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
        for d in &mut self.dirs {
            d.end_delivery();
        }
    }

    /// The two reports, client to server first.
    fn finish(self, stream: u64) -> [Direction; 2] {
        let StreamFramers {
            dirs: [c2s, s2c],
            mut http,
            end_offsets: [c2s_end, s2c_end],
            ..
        } = self;
        [
            c2s.finish(stream, c2s_end, &mut http),
            s2c.finish(stream, s2c_end, &mut http),
        ]
    }
}

#[derive(Default)]
enum Slot {
    /// No event yet.
    #[default]
    Unseen,
    /// Being framed.
    Framing(Box<StreamFramers>),
    /// Reported, or not selected.
    Done,
}

/// The sticky-packet analysis of a capture: a [`StreamConsumer`] that frames the selected
/// streams and reports each direction, kept until the end ([`Sticky::new`]) or handed out in
/// stream order as soon as possible ([`Sticky::streaming`]).
pub struct Sticky<'e> {
    options: Options,
    streams: Vec<Slot>,
    reports: Vec<Direction>,
    closed: Vec<StreamId>,
    out: Option<&'e mut dyn FnMut(Direction)>,
    /// Reports of streams finished before a lower stream, waiting for it (streaming only).
    waiting: BTreeMap<u64, [Direction; 2]>,
    /// The lowest stream not handed out yet (streaming only).
    next_out: usize,
}

impl Sticky<'static> {
    /// An analysis framing the streams `options` selects; the reports are kept
    /// ([`into_reports`](Sticky::into_reports)).
    pub fn new(options: Options) -> Self {
        Sticky {
            options,
            streams: Vec::new(),
            reports: Vec::new(),
            closed: Vec::new(),
            out: None,
            waiting: BTreeMap::new(),
            next_out: 0,
        }
    }
}

impl<'e> Sticky<'e> {
    /// An analysis that hands each report to `out`, in stream order, as soon as the stream and
    /// every stream before it have ended: memory holds the open streams, not the listing of
    /// the whole capture.
    pub fn streaming(options: Options, out: &'e mut dyn FnMut(Direction)) -> Self {
        Sticky {
            options,
            streams: Vec::new(),
            reports: Vec::new(),
            closed: Vec::new(),
            out: Some(out),
            waiting: BTreeMap::new(),
            next_out: 0,
        }
    }

    /// Hands out the reports of every ended stream with no open stream before it.
    fn hand_out(&mut self) {
        let Some(out) = self.out.as_mut() else {
            return;
        };
        while let Some(slot) = self.streams.get(self.next_out) {
            if !matches!(slot, Slot::Done) {
                break;
            }
            if let Some(pair) = self.waiting.remove(&(self.next_out as u64)) {
                for r in pair {
                    out(r);
                }
            }
            self.next_out += 1;
        }
    }

    /// The reports, two per framed stream (client to server first), by stream (call after the
    /// run).
    pub fn into_reports(self) -> Vec<Direction> {
        self.reports
    }

    fn slot_mut(&mut self, id: StreamId) -> Option<&mut Slot> {
        let i = usize::try_from(id.0).ok()?;
        if i >= self.streams.len() {
            self.streams.resize_with(i.checked_add(1)?, Slot::default);
        }
        self.streams.get_mut(i)
    }

    /// Reports one stream and drops its state.
    fn finalize(&mut self, id: StreamId) {
        let Some(slot) = self.slot_mut(id) else {
            return;
        };
        if let Slot::Framing(s) = std::mem::replace(slot, Slot::Done) {
            let pair = s.finish(id.0);
            if self.out.is_some() {
                self.waiting.insert(id.0, pair);
            } else {
                self.reports.extend(pair);
            }
        }
    }
}

impl StreamConsumer for Sticky<'_> {
    fn on_event(&mut self, e: &StreamEvent<'_>, _at: At) {
        let id = e.stream;
        let selected = self.options.stream.is_none_or(|only| only == id.0);
        let options = &self.options;
        let i = usize::try_from(id.0).unwrap_or(usize::MAX);
        if i >= self.streams.len() && i != usize::MAX {
            self.streams.resize_with(i + 1, Slot::default);
        }
        let Some(slot) = self.streams.get_mut(i) else {
            return;
        };
        if matches!(slot, Slot::Unseen) {
            *slot = if selected {
                Slot::Framing(Box::new(StreamFramers::new(options)))
            } else {
                Slot::Done
            };
        }
        if let Slot::Framing(s) = slot {
            s.on_event(e.direction, &e.event);
            if s.ended == [true, true] {
                self.closed.push(id);
            }
        }
    }

    fn on_packet_end(&mut self, stream: StreamId, _at: At) {
        if let Some(Slot::Framing(s)) = self.slot_mut(stream) {
            s.end_delivery();
        }
        // A stream whose two directions have ended is reported now and its state released, so
        // memory follows the connections still open, not the capture's length.
        while let Some(id) = self.closed.pop() {
            self.finalize(id);
        }
        self.hand_out();
    }

    fn finish(&mut self, _streams: &[Stream], _at: At) {
        for i in 0..self.streams.len() {
            self.finalize(StreamId(i as u64));
        }
        self.hand_out();
        self.streams.clear();
        self.reports
            .sort_by_key(|r| (r.stream, r.direction.index()));
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
            c.on_packet_end(StreamId(stream), at);
        }
        c.finish(&[], At::default());
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
}
