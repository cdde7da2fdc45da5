//! Sticky packets: each direction of a TCP stream framed into application messages and checked
//! against the data segments that carried them (coalesced segments, split messages).
//!
//! In: the reassembler's in-order data, gaps and end of one direction. Out: a [`Direction`]
//! report. With `auto` framing the first bytes (at most [`auto::LOOKAHEAD`]) are copied until the
//! framing can be chosen, then replayed into the chosen framer; otherwise nothing is copied.

use serde::Serialize;

use crate::capture::FrameNumber;
use crate::flow::Direction as FlowDirection;
use crate::framing::http::{MessageFramer, Role};
use crate::framing::segments::{DataSegment, SegmentMapper, SegmentParts, Summary};
use crate::framing::{Framer, FramerOutput, FramingIssue, FramingSpec, auto, new_framer};

/// The sticky-packet report of one direction of one stream.
#[derive(Debug, Clone, Serialize)]
pub struct Direction {
    /// The TCP stream id.
    pub stream: u64,
    /// `client_to_server` or `server_to_client`.
    pub direction: FlowDirection,
    /// The framing used (as given, or as detected by `auto`).
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

/// Frames one direction incrementally.
pub struct DirectionFramer {
    stream: u64,
    direction: FlowDirection,
    requested: FramingSpec,
    chosen: Option<FramingSpec>,
    framer: Option<Box<dyn Framer>>,
    lookahead: Vec<u8>,
    out: FramerOutput,
    mapper: SegmentMapper,
    segments: Vec<SegmentParts>,
    issues: Vec<FramingIssue>,
    keep_segments: bool,
    finished: bool,
}

impl DirectionFramer {
    /// A framer for one direction using `spec` (`auto` decides from the first bytes).
    /// `keep_segments` keeps the per-segment listing (else only the counts).
    pub fn new(
        stream: u64,
        direction: FlowDirection,
        spec: FramingSpec,
        keep_segments: bool,
    ) -> Self {
        let mut d = DirectionFramer {
            stream,
            direction,
            requested: spec.clone(),
            chosen: None,
            framer: None,
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
        if spec != FramingSpec::Auto {
            d.choose(spec);
        }
        d
    }

    fn choose(&mut self, spec: FramingSpec) {
        self.framer = match &spec {
            FramingSpec::Http => Some(Box::new(MessageFramer::new(match self.direction {
                FlowDirection::ClientToServer => Role::Requests,
                FlowDirection::ServerToClient => Role::Responses,
            }))),
            other => new_framer(other),
        };
        if self.framer.is_none() {
            self.mapper.no_more_messages();
        }
        self.chosen = Some(spec);
    }

    /// New in-order bytes from `frame` at stream `offset`.
    pub fn on_data(&mut self, frame: FrameNumber, offset: u64, bytes: &[u8]) {
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
            if self.lookahead.len() < auto::LOOKAHEAD {
                return;
            }
            self.decide(false);
            return;
        }
        if let Some(f) = &mut self.framer {
            f.feed(offset, bytes, &mut self.out);
        }
        self.drain();
    }

    /// Auto framing: choose from the look-ahead and replay it.
    fn decide(&mut self, total_known: bool) {
        let spec = auto::detect(&self.lookahead, total_known);
        self.choose(spec);
        let bytes = std::mem::take(&mut self.lookahead);
        if let Some(f) = &mut self.framer {
            f.feed(0, &bytes, &mut self.out);
        }
        self.drain();
    }

    /// `len` bytes at `offset` were never captured.
    pub fn on_gap(&mut self, offset: u64, len: u64) {
        if self.finished {
            return;
        }
        if self.chosen.is_none() {
            self.decide(false);
        }
        if let Some(f) = &mut self.framer {
            f.gap(offset, len, &mut self.out);
        }
        self.drain();
    }

    /// Call once per captured packet, after its events: completes the segments it delivered.
    pub fn end_delivery(&mut self) {
        let mut done = Vec::new();
        self.mapper.end_delivery(&mut done);
        self.keep(done);
    }

    /// The direction ended at `offset` (FIN, RST or end of capture).
    pub fn on_end(&mut self, offset: u64) {
        if self.finished {
            return;
        }
        if self.chosen.is_none() {
            self.decide(true);
        }
        if let Some(f) = &mut self.framer {
            f.finish(offset, &mut self.out);
        }
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

    fn keep(&mut self, done: Vec<SegmentParts>) {
        if self.keep_segments {
            self.segments.extend(done);
        }
    }

    /// The report; ends the direction first if it is still open.
    pub fn finish(mut self, end_offset: u64) -> Direction {
        self.on_end(end_offset);
        let mut done = Vec::new();
        let summary: Summary = self.mapper.finish(&mut done);
        self.keep(done);
        let framing = self.chosen.as_ref().unwrap_or(&self.requested).to_string();
        Direction {
            stream: self.stream,
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
