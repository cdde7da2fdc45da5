//! Sticky-packet analysis: which messages each TCP data segment of one direction carried.
//!
//! In: the *data segments* of a direction (frame, stream offset and length of the **new** payload
//! bytes each one delivered; retransmitted bytes excluded), in offset order, and the framer's
//! [`Message`]s. Out: one [`SegmentParts`] per data segment listing the message parts it carries,
//! and a [`Summary`]. A segment is *coalesced* when it carries bytes of two or more messages; a
//! message is *split* when its bytes came in two or more data segments (it can be both).
//!
//! [`SegmentMapper`] works incrementally with memory bounded by what is still open; [`map`] is
//! the same over two slices. A segment whose new bytes were delivered in several pieces (it
//! filled a hole in front of bytes that had arrived out of order) counts once, with the union of
//! its pieces.

use std::collections::VecDeque;

use foldhash::{HashMap, HashMapExt};

use super::Message;
use crate::capture::FrameNumber;

/// New payload bytes one captured TCP segment delivered to the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataSegment {
    /// The frame that carried the segment.
    pub frame: FrameNumber,
    /// Stream offset of the first new byte.
    pub offset: u64,
    /// Number of new bytes.
    pub len: u64,
}

/// Which ends of a message a segment carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PartKind {
    /// Both its first and its last byte: the whole message when nothing was lost.
    Whole,
    /// Its first byte but not its last.
    Head,
    /// Neither its first nor its last byte.
    Middle,
    /// Its last byte but not its first.
    Tail,
}

impl PartKind {
    fn from_ends(has_first: bool, has_last: bool) -> PartKind {
        match (has_first, has_last) {
            (true, true) => PartKind::Whole,
            (true, false) => PartKind::Head,
            (false, false) => PartKind::Middle,
            (false, true) => PartKind::Tail,
        }
    }
}

/// The bytes of one message that one segment carries.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MessagePart {
    /// The message's number in its direction, counted from 1 like frames
    /// ([`Message::index`] + 1).
    pub message: u64,
    /// Which ends of the message the segment carries.
    pub part: PartKind,
    /// How many of the message's bytes the segment carries.
    pub bytes: u64,
}

/// The message parts one data segment carries.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SegmentParts {
    /// The frame that carried the segment.
    pub frame: FrameNumber,
    /// Stream offset of its first new byte.
    pub offset: u64,
    /// Relative sequence number of that byte, as Wireshark shows it (`offset + 1`); `None` when
    /// the SYN was not captured, so offsets do not start at the initial sequence number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rel_seq: Option<u64>,
    /// Number of new bytes it delivered.
    pub len: u64,
    /// The message parts, in stream order. Bytes that no message covers (framing stopped, or
    /// no framing) are in no part.
    pub parts: Vec<MessagePart>,
}

impl SegmentParts {
    /// True when the segment carries bytes of two or more messages (a "sticky packet").
    pub fn is_coalesced(&self) -> bool {
        self.parts.len() >= 2
    }
}

/// Counts over one direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    /// Data segments (segments that delivered new bytes).
    pub data_segments: u64,
    /// Messages framed.
    pub messages: u64,
    /// Data segments carrying bytes of two or more messages.
    pub coalesced_segments: u64,
    /// Messages whose bytes came in two or more data segments.
    pub split_messages: u64,
}

/// Everything [`map`] computes for one direction.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    /// One entry per data segment, in stream order.
    pub segments: Vec<SegmentParts>,
    /// The counts.
    pub summary: Summary,
}

/// A data segment whose parts are not known yet.
#[derive(Debug, Clone)]
struct OpenSegment {
    frame: FrameNumber,
    /// The first piece `[start, end)`.
    first: (u64, u64),
    /// Further pieces, in offset order (rare: an empty Vec does not allocate).
    more: Vec<(u64, u64)>,
}

impl OpenSegment {
    fn pieces(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        std::iter::once(self.first).chain(self.more.iter().copied())
    }

    fn end(&self) -> u64 {
        self.more.last().map_or(self.first.1, |piece| piece.1)
    }
}

/// The segments opened within one delivery, by frame: almost always one or two (the packet's
/// own bytes, and the buffered segments it released), so the first few are kept in a `Vec`
/// searched in place and only a large delivery (a hole filled in front of thousands of buffered
/// segments) spills into a map. Emptying it costs the entries it got, not the capacity a large
/// delivery once gave it (issue 15: a `HashMap::clear` per packet touched every bucket).
#[derive(Debug, Clone, Default)]
struct Batch {
    few: Vec<(FrameNumber, u64)>,
    many: HashMap<FrameNumber, u64>,
}

impl Batch {
    /// Entries searched in place before spilling into the map.
    const FEW: usize = 16;

    fn get(&self, frame: FrameNumber) -> Option<u64> {
        match self.few.iter().find(|(f, _)| *f == frame) {
            Some(&(_, seq)) => Some(seq),
            None if self.many.is_empty() => None,
            None => self.many.get(&frame).copied(),
        }
    }

    fn insert(&mut self, frame: FrameNumber, seq: u64) {
        if self.few.len() < Batch::FEW {
            self.few.push((frame, seq));
        } else {
            self.many.insert(frame, seq);
        }
    }

    fn clear(&mut self) {
        self.few.clear();
        if !self.many.is_empty() {
            // Freed, not cleared: `clear` would touch every bucket again on the next delivery.
            self.many = HashMap::new();
        }
    }
}

/// A message that a segment still open or still to come may carry bytes of.
#[derive(Debug, Clone, Copy)]
struct OpenMessage {
    index: u64,
    start: u64,
    end: u64,
    /// Data segments seen so far carrying its bytes.
    segments: u32,
    /// Its end is where the stream stopped, not its real end: no segment carries its last
    /// byte.
    cut: bool,
}

/// Builds [`SegmentParts`] incrementally for one direction.
///
/// Protocol: push the data segments ([`push_segment`](Self::push_segment)) in offset order as
/// the reassembler delivers them, and the messages ([`push_message`](Self::push_message)) as the
/// framer emits them. After all the bytes delivered because of one captured packet were pushed,
/// call [`end_delivery`](Self::end_delivery): it emits the segments whose messages are all known
/// (segments are only emitted there, and the pieces of one segment pushed within one delivery
/// are merged). When framing stopped for good, call
/// [`no_more_messages`](Self::no_more_messages) so that waiting segments are released. At the
/// end call [`finish`](Self::finish). Memory holds only the segments still waiting for the end
/// of a message and the messages they may touch.
#[derive(Debug, Clone)]
pub struct SegmentMapper {
    syn_seen: bool,
    open: VecDeque<OpenSegment>,
    /// Sequence number (count of segments opened before it) of `open.front()`.
    front_seq: u64,
    /// Segments opened in the current delivery: frame → sequence number, to merge pieces.
    batch: Batch,
    messages: VecDeque<OpenMessage>,
    /// Reused while closing a segment: whether it holds each part's first and last byte.
    ends: Vec<(bool, bool)>,
    /// Reused while closing a segment: its parts.
    parts: Vec<MessagePart>,
    /// End of the last byte pushed as a segment.
    byte_frontier: u64,
    /// End of the last message pushed.
    message_frontier: u64,
    messages_done: bool,
    summary: Summary,
}

impl SegmentMapper {
    /// A mapper for one direction; `syn_seen` says offsets count from the initial sequence number,
    /// so [`SegmentParts::rel_seq`] can be filled.
    pub fn new(syn_seen: bool) -> SegmentMapper {
        SegmentMapper {
            syn_seen,
            open: VecDeque::new(),
            front_seq: 0,
            batch: Batch::default(),
            messages: VecDeque::new(),
            ends: Vec::new(),
            parts: Vec::new(),
            byte_frontier: 0,
            message_frontier: 0,
            messages_done: false,
            summary: Summary::default(),
        }
    }

    /// Adds new bytes a segment delivered. Bytes before the end of earlier pushes are ignored
    /// (they are not new); a second piece of the same frame within one delivery joins the first.
    pub fn push_segment(&mut self, segment: DataSegment) {
        let end = segment.offset.saturating_add(segment.len);
        let start = segment.offset.max(self.byte_frontier);
        if start >= end {
            return;
        }
        self.byte_frontier = end;
        let open_seq = self.batch.get(segment.frame);
        if let Some(open) = open_seq
            .and_then(|seq| usize::try_from(seq.saturating_sub(self.front_seq)).ok())
            .and_then(|position| self.open.get_mut(position))
        {
            open.more.push((start, end));
            return;
        }
        let seq = self.front_seq.saturating_add(self.open.len() as u64);
        self.batch.insert(segment.frame, seq);
        self.open.push_back(OpenSegment {
            frame: segment.frame,
            first: (start, end),
            more: Vec::new(),
        });
    }

    /// Adds a message (in stream order; one that overlaps an earlier message is ignored).
    pub fn push_message(&mut self, message: &Message) {
        self.push(message, false);
    }

    /// Adds a message cut by the end of the stream: the framer emitted it incomplete when the
    /// direction ended, so its `end` is where the bytes stopped, not where the message ends.
    /// The segments holding its bytes carry its head or middle, never its tail.
    pub fn push_cut_message(&mut self, message: &Message) {
        self.push(message, true);
    }

    fn push(&mut self, message: &Message, cut: bool) {
        if message.end <= message.start || message.start < self.message_frontier {
            return;
        }
        self.message_frontier = message.end;
        self.summary.messages = self.summary.messages.saturating_add(1);
        self.messages.push_back(OpenMessage {
            index: message.index,
            start: message.start,
            end: message.end,
            segments: 0,
            cut,
        });
    }

    /// Data segments waiting for the message boundaries that will say which parts they carry.
    pub fn open_segments(&self) -> usize {
        self.open.len()
    }

    /// Says no message will be pushed any more (framing stopped): segments are then emitted
    /// with the parts of the messages already known.
    pub fn no_more_messages(&mut self) {
        self.messages_done = true;
    }

    /// Marks the end of what one captured packet delivered and appends to `out` the segments
    /// whose parts are now known, in stream order.
    pub fn end_delivery(&mut self, out: &mut Vec<SegmentParts>) {
        self.deliver(Some(out));
    }

    /// [`end_delivery`](Self::end_delivery) for a caller that needs only the counts
    /// ([`summary`](Self::summary)): no per-segment listing is built, nothing is allocated.
    pub fn end_delivery_counting(&mut self) {
        self.deliver(None);
    }

    fn deliver(&mut self, mut out: Option<&mut Vec<SegmentParts>>) {
        while let Some(open) = self.open.front() {
            if !self.messages_done && open.end() > self.message_frontier {
                break;
            }
            if let Some(open) = self.open.pop_front() {
                self.front_seq = self.front_seq.saturating_add(1);
                let len = self.close(&open);
                if let Some(out) = out.as_deref_mut() {
                    out.push(SegmentParts {
                        frame: open.frame,
                        offset: open.first.0,
                        rel_seq: self.syn_seen.then(|| open.first.0.saturating_add(1)),
                        len,
                        parts: self.parts.clone(),
                    });
                }
            }
        }
        self.batch.clear();
        self.forget_messages();
    }

    /// Emits every remaining segment (with the parts of the messages known) and returns the
    /// summary of the direction.
    pub fn finish(&mut self, out: &mut Vec<SegmentParts>) -> Summary {
        self.messages_done = true;
        self.end_delivery(out);
        self.summary
    }

    /// [`finish`](Self::finish) without the per-segment listing.
    pub fn finish_counting(&mut self) -> Summary {
        self.messages_done = true;
        self.end_delivery_counting();
        self.summary
    }

    /// The counts so far.
    pub fn summary(&self) -> Summary {
        self.summary
    }

    /// Drops messages that no open or future segment can touch.
    fn forget_messages(&mut self) {
        let lowest = self.open.front().map_or(self.byte_frontier, |open| {
            open.first.0.min(self.byte_frontier)
        });
        while self.messages.front().is_some_and(|m| m.end <= lowest) {
            self.messages.pop_front();
        }
    }

    /// Works out the parts of a segment whose messages are all known (into `self.parts`) and
    /// counts them; returns the segment's length.
    fn close(&mut self, open: &OpenSegment) -> u64 {
        let parts = &mut self.parts;
        parts.clear();
        let ends = &mut self.ends;
        ends.clear();
        let mut len = 0u64;
        for (start, end) in open.pieces() {
            len = len.saturating_add(end - start);
            let first = self.messages.partition_point(|m| m.end <= start);
            for message in self.messages.range_mut(first..) {
                if message.start >= end {
                    break;
                }
                let bytes = end.min(message.end) - start.max(message.start);
                let has_first = start <= message.start;
                let has_last = message.end <= end && !message.cut;
                match (parts.last_mut(), ends.last_mut()) {
                    (Some(part), Some(part_ends))
                        if part.message == message.index.saturating_add(1) =>
                    {
                        part.bytes = part.bytes.saturating_add(bytes);
                        part_ends.0 |= has_first;
                        part_ends.1 |= has_last;
                    }
                    _ => {
                        message.segments = message.segments.saturating_add(1);
                        if message.segments == 2 {
                            self.summary.split_messages =
                                self.summary.split_messages.saturating_add(1);
                        }
                        parts.push(MessagePart {
                            message: message.index.saturating_add(1),
                            part: PartKind::Whole,
                            bytes,
                        });
                        ends.push((has_first, has_last));
                    }
                }
            }
        }
        for (part, (has_first, has_last)) in parts.iter_mut().zip(ends.iter()) {
            part.part = PartKind::from_ends(*has_first, *has_last);
        }
        self.summary.data_segments = self.summary.data_segments.saturating_add(1);
        if parts.len() >= 2 {
            self.summary.coalesced_segments = self.summary.coalesced_segments.saturating_add(1);
        }
        len
    }
}

/// Maps whole lists at once: the data segments of a direction (sorted here by offset) against
/// its messages (in stream order).
///
/// ```
/// use pcaplab::capture::FrameNumber;
/// use pcaplab::framing::Message;
/// use pcaplab::framing::segments::{map, DataSegment, PartKind};
/// // Two 5-byte messages sent in one 10-byte segment: a sticky packet.
/// let segments = [DataSegment { frame: FrameNumber(4), offset: 0, len: 10 }];
/// let messages = [
///     Message { index: 0, start: 0, end: 5, complete: true },
///     Message { index: 1, start: 5, end: 10, complete: true },
/// ];
/// let report = map(&segments, &messages, true);
/// assert_eq!(report.summary.coalesced_segments, 1);
/// assert_eq!(report.segments[0].parts[1].part, PartKind::Whole);
/// assert_eq!(report.segments[0].rel_seq, Some(1));
/// ```
pub fn map(segments: &[DataSegment], messages: &[Message], syn_seen: bool) -> Report {
    let mut sorted = segments.to_vec();
    sorted.sort_by_key(|segment| segment.offset);
    let mut mapper = SegmentMapper::new(syn_seen);
    for segment in sorted {
        mapper.push_segment(segment);
    }
    for message in messages {
        mapper.push_message(message);
    }
    let mut out = Vec::new();
    let summary = mapper.finish(&mut out);
    Report {
        segments: out,
        summary,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(frame: u64, offset: u64, len: u64) -> DataSegment {
        DataSegment {
            frame: FrameNumber(frame),
            offset,
            len,
        }
    }

    fn msg(index: u64, start: u64, end: u64) -> Message {
        Message {
            index,
            start,
            end,
            complete: true,
        }
    }

    /// The part of the message whose 0-based index is `index` (numbered from 1 in the part).
    fn part(index: u64, part: PartKind, bytes: u64) -> MessagePart {
        MessagePart {
            message: index + 1,
            part,
            bytes,
        }
    }

    #[test]
    fn coalesced_segment_reports_both_messages() {
        // Messages of 3, 4 and 5 bytes; segments of 7 and 5 bytes.
        let report = map(
            &[seg(10, 0, 7), seg(11, 7, 5)],
            &[msg(0, 0, 3), msg(1, 3, 7), msg(2, 7, 12)],
            false,
        );
        assert_eq!(report.segments.len(), 2);
        assert_eq!(
            report.segments[0].parts,
            vec![part(0, PartKind::Whole, 3), part(1, PartKind::Whole, 4)]
        );
        assert!(report.segments[0].is_coalesced());
        assert_eq!(report.segments[1].parts, vec![part(2, PartKind::Whole, 5)]);
        assert_eq!(report.segments[0].rel_seq, None);
        assert_eq!(
            report.summary,
            Summary {
                data_segments: 2,
                messages: 3,
                coalesced_segments: 1,
                split_messages: 0
            }
        );
    }

    #[test]
    fn split_message_has_head_middle_and_tail() {
        // One 10-byte message over segments of 3, 4 and 3 bytes.
        let report = map(
            &[seg(1, 0, 3), seg(2, 3, 4), seg(3, 7, 3)],
            &[msg(0, 0, 10)],
            true,
        );
        let kinds: Vec<_> = report.segments.iter().map(|s| s.parts.clone()).collect();
        assert_eq!(
            kinds,
            vec![
                vec![part(0, PartKind::Head, 3)],
                vec![part(0, PartKind::Middle, 4)],
                vec![part(0, PartKind::Tail, 3)],
            ]
        );
        assert_eq!(report.summary.split_messages, 1);
        assert_eq!(report.summary.coalesced_segments, 0);
        assert_eq!(
            report
                .segments
                .iter()
                .map(|s| s.rel_seq)
                .collect::<Vec<_>>(),
            vec![Some(1), Some(4), Some(8)]
        );
    }

    #[test]
    fn a_message_can_be_split_and_coalesced() {
        // Messages 0..4, 4..8; segments 0..6, 6..8: segment 1 carries message 0 and the head
        // of message 1, whose tail comes in segment 2.
        let report = map(
            &[seg(1, 0, 6), seg(2, 6, 2)],
            &[msg(0, 0, 4), msg(1, 4, 8)],
            false,
        );
        assert_eq!(
            report.segments[0].parts,
            vec![part(0, PartKind::Whole, 4), part(1, PartKind::Head, 2)]
        );
        assert_eq!(report.segments[1].parts, vec![part(1, PartKind::Tail, 2)]);
        assert_eq!(report.summary.coalesced_segments, 1);
        assert_eq!(report.summary.split_messages, 1);
    }

    #[test]
    fn out_of_order_fill_counts_as_one_segment() {
        // Frame 7 covers 0..30, but 10..20 had arrived earlier in frame 6 (out of order), so
        // frame 7's new bytes come in two pieces around frame 6's.
        let report = map(
            &[seg(7, 0, 10), seg(6, 10, 10), seg(7, 20, 10)],
            &[msg(0, 0, 15), msg(1, 15, 30)],
            false,
        );
        assert_eq!(report.summary.data_segments, 2);
        let seven = &report.segments[0];
        assert_eq!(
            (seven.frame, seven.offset, seven.len),
            (FrameNumber(7), 0, 20)
        );
        assert_eq!(
            seven.parts,
            vec![part(0, PartKind::Head, 10), part(1, PartKind::Tail, 10)]
        );
        let six = &report.segments[1];
        assert_eq!(
            six.parts,
            vec![part(0, PartKind::Tail, 5), part(1, PartKind::Head, 5)]
        );
        assert_eq!(report.summary.coalesced_segments, 2);
        assert_eq!(report.summary.split_messages, 2);
    }

    #[test]
    fn bytes_outside_messages_and_lost_bytes() {
        // Message 0 is 0..10 but bytes 4..6 were never captured; bytes 10..14 are unframed.
        let report = map(&[seg(1, 0, 4), seg(2, 6, 8)], &[msg(0, 0, 10)], false);
        assert_eq!(report.segments[0].parts, vec![part(0, PartKind::Head, 4)]);
        assert_eq!(report.segments[1].parts, vec![part(0, PartKind::Tail, 4)]);
        assert_eq!(report.segments[1].len, 8);
        assert_eq!(report.summary.split_messages, 1);
        // A message whose only bytes came in one segment after a gap is not split.
        let report = map(&[seg(2, 6, 4)], &[msg(0, 0, 10)], false);
        assert_eq!(report.segments[0].parts, vec![part(0, PartKind::Tail, 4)]);
        assert_eq!(report.summary.split_messages, 0);
    }

    #[test]
    fn repeated_bytes_and_empty_segments_are_ignored() {
        let report = map(
            &[seg(1, 0, 5), seg(2, 0, 5), seg(3, 5, 0), seg(4, 3, 4)],
            &[msg(0, 0, 7)],
            false,
        );
        assert_eq!(report.summary.data_segments, 2);
        assert_eq!(report.segments[1].frame, FrameNumber(4));
        assert_eq!((report.segments[1].offset, report.segments[1].len), (5, 2));
    }

    #[test]
    fn incremental_emission_waits_for_the_message_end() {
        let mut mapper = SegmentMapper::new(true);
        let mut out = Vec::new();
        mapper.push_segment(seg(1, 0, 4));
        mapper.end_delivery(&mut out);
        assert!(out.is_empty(), "message 0 not known yet");
        mapper.push_segment(seg(2, 4, 4));
        mapper.push_message(&msg(0, 0, 6));
        mapper.end_delivery(&mut out);
        assert_eq!(out.len(), 1, "segment 1 is inside message 0");
        assert_eq!(out[0].parts, vec![part(0, PartKind::Head, 4)]);
        mapper.push_message(&msg(1, 6, 8));
        mapper.end_delivery(&mut out);
        assert_eq!(out.len(), 2);
        assert_eq!(
            out[1].parts,
            vec![part(0, PartKind::Tail, 2), part(1, PartKind::Whole, 2)]
        );
        assert!(
            mapper.messages.is_empty(),
            "finished messages are forgotten"
        );
        let summary = mapper.finish(&mut out);
        assert_eq!(
            summary,
            Summary {
                data_segments: 2,
                messages: 2,
                coalesced_segments: 1,
                split_messages: 1
            }
        );
    }

    #[test]
    fn pieces_merge_within_one_delivery_only() {
        let mut mapper = SegmentMapper::new(false);
        let mut out = Vec::new();
        // Frame 7 fills 0..10 in front of frame 6's 10..20, and goes on with 20..30.
        mapper.push_segment(seg(7, 0, 10));
        mapper.push_segment(seg(6, 10, 10));
        mapper.push_segment(seg(7, 20, 10));
        mapper.push_message(&msg(0, 0, 30));
        mapper.end_delivery(&mut out);
        // A later delivery from frame 7 again (a contract breach) is a new segment.
        mapper.push_segment(seg(7, 30, 5));
        mapper.push_message(&msg(1, 30, 35));
        mapper.end_delivery(&mut out);
        let frames: Vec<_> = out.iter().map(|s| (s.frame.0, s.len)).collect();
        assert_eq!(frames, vec![(7, 20), (6, 10), (7, 5)]);
        assert_eq!(out[0].parts, vec![part(0, PartKind::Whole, 20)]);
        assert_eq!(out[1].parts, vec![part(0, PartKind::Middle, 10)]);
    }

    #[test]
    fn no_more_messages_releases_waiting_segments() {
        let mut mapper = SegmentMapper::new(false);
        let mut out = Vec::new();
        mapper.push_message(&msg(0, 0, 2));
        mapper.push_segment(seg(1, 0, 5));
        mapper.end_delivery(&mut out);
        assert!(out.is_empty());
        mapper.no_more_messages();
        mapper.end_delivery(&mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].parts, vec![part(0, PartKind::Whole, 2)]);
    }

    #[test]
    fn a_large_delivery_merges_pieces_beyond_the_first_few_frames() {
        // One packet (frame 100) fills byte 0 in front of 40 buffered 1-byte segments (frames
        // 1..=40), then goes on; frame 30's buffered copy was split around frame 29's, so it
        // has two pieces too. More frames than the in-place list holds: the map is used.
        let mut mapper = SegmentMapper::new(false);
        let mut out = Vec::new();
        mapper.push_segment(seg(100, 0, 1));
        for f in 1..=40 {
            mapper.push_segment(seg(f, f, 1));
        }
        mapper.push_segment(seg(30, 41, 1));
        mapper.push_segment(seg(100, 42, 3));
        mapper.push_message(&msg(0, 0, 45));
        mapper.end_delivery(&mut out);
        // The next packets are new segments even when a frame number repeats (the batch was
        // emptied), small and large batches alike.
        mapper.push_segment(seg(30, 45, 1));
        mapper.push_segment(seg(100, 46, 1));
        mapper.push_message(&msg(1, 45, 47));
        mapper.end_delivery(&mut out);
        let rows: Vec<(u64, u64, u64)> = out.iter().map(|s| (s.frame.0, s.offset, s.len)).collect();
        let mut expected = vec![(100, 0, 4)];
        expected.extend((1..=40).map(|f| (f, f, if f == 30 { 2 } else { 1 })));
        expected.extend([(30, 45, 1), (100, 46, 1)]);
        assert_eq!(rows, expected);
        assert_eq!(out[0].parts, vec![part(0, PartKind::Whole, 4)]);
        assert_eq!(out[30].parts, vec![part(0, PartKind::Middle, 2)]);
        assert!(mapper.batch.few.is_empty() && mapper.batch.many.capacity() == 0);
    }

    #[test]
    fn serializes_with_snake_case_parts() {
        let report = map(&[seg(3, 0, 4)], &[msg(0, 0, 2), msg(1, 2, 6)], true);
        let json = serde_json::to_string(&report.segments[0]).unwrap();
        assert_eq!(
            json,
            r#"{"frame":3,"offset":0,"rel_seq":1,"len":4,"parts":[{"message":1,"part":"whole","bytes":2},{"message":2,"part":"head","bytes":2}]}"#
        );
    }

    mod properties {
        use std::collections::BTreeMap;

        use proptest::prelude::*;

        use super::*;

        /// Frame number, offset, length and parts of one segment.
        type Row = (u64, u64, u64, Vec<MessagePart>);

        /// The naive model: which message each byte belongs to, then per segment the messages
        /// of its bytes. Returns (per segment: frame, offset, len, parts) and the summary.
        fn oracle(segments: &[DataSegment], messages: &[Message]) -> (Vec<Row>, Summary) {
            let total = messages.last().map_or(0, |m| m.end);
            let mut owner: Vec<Option<usize>> = vec![None; total as usize];
            for (i, m) in messages.iter().enumerate() {
                for b in m.start..m.end {
                    owner[b as usize] = Some(i);
                }
            }
            let mut rows = Vec::new();
            let mut segments_per_message = vec![0u64; messages.len()];
            let mut coalesced = 0;
            for s in segments {
                let mut bytes_of: BTreeMap<usize, u64> = BTreeMap::new();
                let mut firsts = Vec::new();
                let mut lasts = Vec::new();
                for b in s.offset..s.offset + s.len {
                    if let Some(Some(i)) = owner.get(b as usize) {
                        *bytes_of.entry(*i).or_default() += 1;
                        if b == messages[*i].start {
                            firsts.push(*i);
                        }
                        if b + 1 == messages[*i].end {
                            lasts.push(*i);
                        }
                    }
                }
                let parts: Vec<MessagePart> = bytes_of
                    .iter()
                    .map(|(&i, &bytes)| {
                        let part = match (firsts.contains(&i), lasts.contains(&i)) {
                            (true, true) => PartKind::Whole,
                            (true, false) => PartKind::Head,
                            (false, true) => PartKind::Tail,
                            (false, false) => PartKind::Middle,
                        };
                        segments_per_message[i] += 1;
                        MessagePart {
                            message: messages[i].index + 1,
                            part,
                            bytes,
                        }
                    })
                    .collect();
                if parts.len() >= 2 {
                    coalesced += 1;
                }
                rows.push((s.frame.0, s.offset, s.len, parts));
            }
            let summary = Summary {
                data_segments: segments.len() as u64,
                messages: messages.len() as u64,
                coalesced_segments: coalesced,
                split_messages: segments_per_message.iter().filter(|&&n| n >= 2).count() as u64,
            };
            (rows, summary)
        }

        /// Messages of the given sizes back to back from offset 0.
        fn messages_of(sizes: &[u64]) -> Vec<Message> {
            let mut start = 0;
            sizes
                .iter()
                .enumerate()
                .map(|(i, &size)| {
                    let m = Message {
                        index: i as u64,
                        start,
                        end: start + size,
                        complete: true,
                    };
                    start += size;
                    m
                })
                .collect()
        }

        /// Segments cutting `[0, total)` at `cuts`, frames numbered from 1, dropping the ones
        /// whose `lost` flag is set (bytes lost in a capture gap).
        fn segments_of(total: u64, cuts: &[u64], lost: &[bool]) -> Vec<DataSegment> {
            let mut bounds: Vec<u64> = cuts.iter().map(|c| c % (total + 1)).collect();
            bounds.push(0);
            bounds.push(total);
            bounds.sort_unstable();
            bounds.dedup();
            bounds
                .windows(2)
                .enumerate()
                .filter(|(i, _)| !lost.get(*i).copied().unwrap_or(false))
                .map(|(i, w)| DataSegment {
                    frame: FrameNumber(i as u64 + 1),
                    offset: w[0],
                    len: w[1] - w[0],
                })
                .collect()
        }

        fn rows(report: &[SegmentParts]) -> Vec<Row> {
            report
                .iter()
                .map(|s| (s.frame.0, s.offset, s.len, s.parts.clone()))
                .collect()
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(96))]

            #[test]
            fn any_segments_and_messages_never_panic(
                segments in proptest::collection::vec((1u64..5, 0u64..100, 0u64..30), 0..12),
                messages in proptest::collection::vec((0u64..100, 0u64..30), 0..12),
            ) {
                let segments: Vec<DataSegment> = segments
                    .into_iter()
                    .map(|(frame, offset, len)| DataSegment { frame: FrameNumber(frame), offset, len })
                    .collect();
                let messages: Vec<Message> = messages
                    .into_iter()
                    .enumerate()
                    .map(|(i, (start, len))| Message {
                        index: i as u64, start, end: start + len, complete: true,
                    })
                    .collect();
                let report = map(&segments, &messages, true);
                let new_bytes: u64 = report.segments.iter().map(|s| s.len).sum();
                let carried: u64 = report
                    .segments
                    .iter()
                    .flat_map(|s| s.parts.iter().map(|p| p.bytes))
                    .sum();
                prop_assert!(carried <= new_bytes);
                prop_assert_eq!(report.summary.data_segments, report.segments.len() as u64);
            }

            #[test]
            fn parts_and_counts_match_a_byte_map(
                sizes in proptest::collection::vec(1u64..20, 1..15),
                cuts in proptest::collection::vec(any::<u64>(), 0..15),
                lost in proptest::collection::vec(proptest::bool::weighted(0.15), 0..16),
            ) {
                let messages = messages_of(&sizes);
                let total = messages.last().map_or(0, |m| m.end);
                let segments = segments_of(total, &cuts, &lost);
                let (expected_rows, expected_summary) = oracle(&segments, &messages);

                let report = map(&segments, &messages, false);
                prop_assert_eq!(rows(&report.segments), expected_rows.clone());
                prop_assert_eq!(report.summary, expected_summary);

                // Incrementally, with each message pushed as soon as its last byte arrived
                // and a delivery ending after each segment.
                let mut mapper = SegmentMapper::new(true);
                let mut out = Vec::new();
                let mut pending = messages.iter().peekable();
                for segment in &segments {
                    mapper.push_segment(*segment);
                    let delivered = segment.offset + segment.len;
                    while let Some(m) = pending.next_if(|m| m.end <= delivered) {
                        mapper.push_message(m);
                    }
                    mapper.end_delivery(&mut out);
                    // Everything before the last message known has been emitted.
                    prop_assert!(mapper.open.iter().all(|o| o.end() > mapper.message_frontier));
                }
                for m in pending {
                    mapper.push_message(m);
                }
                let summary = mapper.finish(&mut out);
                prop_assert_eq!(rows(&out), expected_rows);
                prop_assert_eq!(summary, expected_summary);
                prop_assert!(out.iter().all(|s| s.rel_seq == Some(s.offset + 1)));
            }

            #[test]
            fn deliveries_of_any_size_give_the_same_parts(
                sizes in proptest::collection::vec(1u64..6, 1..40),
                cuts in proptest::collection::vec(any::<u64>(), 0..60),
                groups in proptest::collection::vec(1usize..40, 1..8),
            ) {
                // Segments delivered in groups (a packet releasing buffered segments), the
                // messages known by then pushed after each group.
                let messages = messages_of(&sizes);
                let total = messages.last().map_or(0, |m| m.end);
                let segments = segments_of(total, &cuts, &[]);
                let (expected_rows, expected_summary) = oracle(&segments, &messages);
                let mut mapper = SegmentMapper::new(false);
                let mut out = Vec::new();
                let mut pending = messages.iter().peekable();
                let mut rest = segments.as_slice();
                for n in groups.iter().cycle() {
                    if rest.is_empty() {
                        break;
                    }
                    let (group, tail) = rest.split_at((*n).min(rest.len()));
                    rest = tail;
                    for segment in group {
                        mapper.push_segment(*segment);
                    }
                    let delivered = group.last().map_or(0, |s| s.offset + s.len);
                    while let Some(m) = pending.next_if(|m| m.end <= delivered) {
                        mapper.push_message(m);
                    }
                    mapper.end_delivery(&mut out);
                }
                for m in pending {
                    mapper.push_message(m);
                }
                let summary = mapper.finish(&mut out);
                prop_assert_eq!(rows(&out), expected_rows);
                prop_assert_eq!(summary, expected_summary);
            }
        }
    }
}
