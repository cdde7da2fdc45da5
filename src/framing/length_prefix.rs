//! Length-prefixed messages (`len:N[:be|le][:inclusive]`).
//!
//! A message is the prefix plus the bytes it announces, so `start` is the offset of the prefix.
//! The framer keeps at most the 8 bytes of a prefix it is still reading. Gap handling: a gap
//! inside a message body leaves the framing intact (the prefix already gave the end), so the
//! message is reported `complete: false` and framing goes on; a gap that hides a prefix makes
//! every later boundary unknown, so framing stops there with an issue.

use super::spec::LengthPrefix;
use super::{Framer, FramerOutput, Missing, align, gap_range, grouped, hex_and_text, len_u64};

/// Largest payload accepted by default: a prefix announcing more is taken as a sign that the
/// stream is not framed this way (or lost sync), not as a real message.
pub const DEFAULT_MAX_MESSAGE_LEN: u64 = 64 * 1024 * 1024;

/// Where a [`LengthPrefixFramer`] is in its stream (for a caller weighing a framing before the
/// stream is over, as `auto` does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Between two messages: the next byte starts a prefix.
    Boundary,
    /// Reading the prefix of the message starting at `start`.
    InPrefix {
        /// Stream offset of the prefix.
        start: u64,
    },
    /// Inside the body of the message `[start, end)`, whose prefix announced `payload` bytes.
    InBody {
        /// Stream offset of the prefix.
        start: u64,
        /// Where the prefix says the message ends.
        end: u64,
        /// Payload bytes the prefix announced (the prefix itself not counted).
        payload: u64,
    },
    /// Framing stopped (an impossible prefix, a gap hiding a prefix) or finished.
    Stopped,
}

/// Incremental framer for length-prefixed messages.
#[derive(Debug, Clone)]
pub struct LengthPrefixFramer {
    prefix: LengthPrefix,
    max_len: u64,
    /// Stream offset of the next byte expected.
    next: u64,
    /// Index of the next message.
    index: u64,
    state: State,
}

#[derive(Debug, Clone)]
enum State {
    /// Reading the prefix of a message starting at `start`; `have` bytes of it are in `buf`.
    Prefix {
        start: u64,
        buf: [u8; 8],
        have: usize,
    },
    /// Inside the body of the message `[start, end)`; `complete` is false after a gap in it.
    Body {
        start: u64,
        end: u64,
        complete: bool,
    },
    /// Framing stopped (lost sync, implausible prefix) or the direction finished.
    Stopped,
}

impl LengthPrefixFramer {
    /// A framer for `prefix`, rejecting payloads above [`DEFAULT_MAX_MESSAGE_LEN`].
    pub fn new(prefix: LengthPrefix) -> LengthPrefixFramer {
        LengthPrefixFramer {
            prefix,
            max_len: DEFAULT_MAX_MESSAGE_LEN,
            next: 0,
            index: 0,
            state: State::Prefix {
                start: 0,
                buf: [0; 8],
                have: 0,
            },
        }
    }

    /// Sets the largest payload length taken as plausible; a prefix above it stops framing with
    /// an "implausible length" issue.
    pub fn with_max_message_len(mut self, max_len: u64) -> LengthPrefixFramer {
        self.max_len = max_len;
        self
    }

    /// The length prefix this framer reads.
    pub fn prefix(&self) -> LengthPrefix {
        self.prefix
    }

    /// Where the framer is (see [`Progress`]).
    pub fn progress(&self) -> Progress {
        let width = self.prefix.width.bytes_u64();
        match self.state {
            State::Prefix { have: 0, .. } => Progress::Boundary,
            State::Prefix { start, .. } => Progress::InPrefix { start },
            State::Body { start, end, .. } => Progress::InBody {
                start,
                end,
                payload: end.saturating_sub(start).saturating_sub(width),
            },
            State::Stopped => Progress::Stopped,
        }
    }

    fn emit(&mut self, start: u64, end: u64, complete: bool, out: &mut FramerOutput) {
        out.message(self.index, start, end, complete);
        self.index = self.index.saturating_add(1);
    }

    /// The prefix of the message at `start` is whole (`bytes`, read as `value`): decide where
    /// the message ends.
    fn prefix_done(
        &mut self,
        start: u64,
        bytes: &[u8],
        value: u64,
        out: &mut FramerOutput,
    ) -> State {
        let width = self.prefix.width.bytes_u64();
        let number = self.index.saturating_add(1);
        let read = || {
            format!(
                "the {width}-byte prefix of message {number} at offset {} — {} — reads as a length of {}",
                grouped(start),
                hex_and_text(bytes),
                grouped(value)
            )
        };
        let total = if self.prefix.inclusive {
            if value < width {
                out.issue(
                    start,
                    format!(
                        "{}, smaller than the prefix itself (an inclusive length counts its own {width} bytes); framing stopped",
                        read()
                    ),
                );
                return State::Stopped;
            }
            value
        } else {
            value.saturating_add(width)
        };
        let payload = total - width;
        if payload > self.max_len {
            out.issue(
                start,
                format!(
                    "{}, more than the {} bytes taken as a plausible message; framing stopped",
                    read(),
                    grouped(self.max_len)
                ),
            );
            return State::Stopped;
        }
        let end = start.saturating_add(total);
        if payload == 0 {
            self.emit(start, end, true, out);
            return State::Prefix {
                start: end,
                buf: [0; 8],
                have: 0,
            };
        }
        State::Body {
            start,
            end,
            complete: true,
        }
    }

    /// Frames `data`, which starts at `self.next`.
    fn frame(&mut self, mut data: &[u8], out: &mut FramerOutput) {
        let width = self.prefix.width.bytes();
        while !data.is_empty() {
            let state = std::mem::replace(&mut self.state, State::Stopped);
            self.state = match state {
                State::Stopped => {
                    self.next = self.next.saturating_add(len_u64(data));
                    data = &[];
                    State::Stopped
                }
                State::Prefix {
                    start,
                    mut buf,
                    have,
                } => {
                    let take = (width.saturating_sub(have)).min(data.len());
                    let (head, rest) = data.split_at_checked(take).unwrap_or((data, &[]));
                    if let Some(slot) = buf.get_mut(have..have + take) {
                        slot.copy_from_slice(head);
                    }
                    data = rest;
                    self.next = self.next.saturating_add(len_u64(head));
                    let have = have + take;
                    match buf.get(..width).filter(|_| have == width) {
                        Some(bytes) => {
                            let value = self.prefix.decode(bytes).unwrap_or_default();
                            self.prefix_done(start, bytes, value, out)
                        }
                        None => State::Prefix { start, buf, have },
                    }
                }
                State::Body {
                    start,
                    end,
                    complete,
                } => {
                    let wanted = end.saturating_sub(self.next);
                    let take = usize::try_from(wanted)
                        .unwrap_or(usize::MAX)
                        .min(data.len());
                    data = data.get(take..).unwrap_or_default();
                    self.next = self.next.saturating_add(take as u64);
                    if self.next == end {
                        self.emit(start, end, complete, out);
                        State::Prefix {
                            start: end,
                            buf: [0; 8],
                            have: 0,
                        }
                    } else {
                        State::Body {
                            start,
                            end,
                            complete,
                        }
                    }
                }
            };
        }
    }
}

impl Framer for LengthPrefixFramer {
    fn feed(&mut self, offset: u64, data: &[u8], out: &mut FramerOutput) {
        let (gap, data) = align(self.next, offset, data);
        if let Some((gap_offset, gap_len)) = gap {
            self.gap(gap_offset, gap_len, out);
        }
        self.frame(data, out);
    }

    fn missing(&mut self, offset: u64, len: u64, cause: Missing, out: &mut FramerOutput) {
        let Some((from, to)) = gap_range(self.next, offset, len) else {
            return;
        };
        self.next = to;
        let lost = to - from;
        self.state = match std::mem::replace(&mut self.state, State::Stopped) {
            State::Stopped => State::Stopped,
            State::Body { start, end, .. } if to <= end => {
                out.issue(
                    from,
                    format!(
                        "{} inside message {} (offsets {}..{}); its length prefix still gives its end, so framing goes on",
                        cause.bytes(lost),
                        self.index.saturating_add(1),
                        grouped(start),
                        grouped(end)
                    ),
                );
                if to == end {
                    self.emit(start, end, false, out);
                    State::Prefix {
                        start: end,
                        buf: [0; 8],
                        have: 0,
                    }
                } else {
                    State::Body {
                        start,
                        end,
                        complete: false,
                    }
                }
            }
            State::Body { start, end, .. } => {
                out.issue(
                    from,
                    format!(
                        "{} hide the length prefix after message {} (which ends at offset {}); framing stopped",
                        cause.bytes(lost),
                        self.index.saturating_add(1),
                        grouped(end)
                    ),
                );
                self.emit(start, end, false, out);
                State::Stopped
            }
            State::Prefix { start, have, .. } => {
                let what = if have == 0 {
                    "at the start of a length prefix"
                } else {
                    "inside a length prefix"
                };
                out.issue(
                    from,
                    format!("{} {what}; framing stopped", cause.bytes(lost)),
                );
                if have > 0 {
                    self.emit(start, from, false, out);
                }
                State::Stopped
            }
        };
    }

    fn finish(&mut self, offset: u64, out: &mut FramerOutput) {
        if offset > self.next {
            self.gap(self.next, offset - self.next, out);
        }
        let width = self.prefix.width.bytes();
        match std::mem::replace(&mut self.state, State::Stopped) {
            State::Stopped => {}
            State::Prefix { have: 0, .. } => {}
            State::Prefix { start, have, .. } => {
                out.issue(
                    start,
                    format!(
                        "the stream ends after {have} of the {width} bytes of the length prefix of message {} at offset {}",
                        self.index.saturating_add(1),
                        grouped(start)
                    ),
                );
                self.emit(start, self.next, false, out);
            }
            State::Body { start, end, .. } => {
                let wb = self.prefix.width.bytes_u64();
                let payload = end - start - wb;
                let got = self.next.saturating_sub(start).saturating_sub(wb);
                out.issue(
                    start,
                    format!(
                        "the prefix of message {} at offset {} announces {} {}, but the stream ends {} {} into them",
                        self.index.saturating_add(1),
                        grouped(start),
                        grouped(payload),
                        crate::units::noun(payload, "byte", "bytes"),
                        grouped(got),
                        crate::units::noun(got, "byte", "bytes")
                    ),
                );
                self.emit(start, self.next, false, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framing::FramingIssue;
    use crate::framing::spec::{Endian, PrefixWidth};
    use crate::framing::testutil::{run_cuts, run_whole, run_with_gap};

    fn be(width: PrefixWidth) -> LengthPrefixFramer {
        LengthPrefixFramer::new(LengthPrefix::new(width))
    }

    fn framer(width: PrefixWidth, endian: Endian, inclusive: bool) -> LengthPrefixFramer {
        LengthPrefixFramer::new(LengthPrefix {
            width,
            endian,
            inclusive,
        })
    }

    /// Two messages with a 4-byte big-endian prefix.
    const TWO_BE4: &[u8] = &[
        0x00, 0x00, 0x00, 0x03, // length 3
        b'a', b'b', b'c', // payload
        0x00, 0x00, 0x00, 0x01, // length 1
        b'z', // payload
    ];

    #[test]
    fn frames_two_messages_including_their_prefix() {
        let run = run_whole(&mut be(PrefixWidth::Four), TWO_BE4);
        assert_eq!(run.ranges(), vec![(0, 7, true), (7, 12, true)]);
        assert_eq!(run.messages[1].index, 1);
        assert!(run.issues.is_empty());
    }

    #[test]
    fn same_messages_for_every_single_and_double_cut() {
        let whole = run_whole(&mut be(PrefixWidth::Four), TWO_BE4);
        for a in 0..=TWO_BE4.len() {
            for b in a..=TWO_BE4.len() {
                let run = run_cuts(&mut be(PrefixWidth::Four), TWO_BE4, &[a, b]);
                assert_eq!(run, whole, "cuts at {a} and {b}");
            }
        }
    }

    #[test]
    fn little_endian_inclusive_two_byte_prefix() {
        let bytes = [
            0x05, 0x00, // length 5, little-endian, counts itself
            b'h', b'i', b'!', // payload (3 bytes)
            0x02, 0x00, // length 2: an empty message
            0x03, 0x00, // length 3
            b'x', // payload
        ];
        let run = run_whole(&mut framer(PrefixWidth::Two, Endian::Little, true), &bytes);
        assert_eq!(
            run.ranges(),
            vec![(0, 5, true), (5, 7, true), (7, 10, true)]
        );
        assert!(run.issues.is_empty());
    }

    #[test]
    fn zero_length_message_is_just_its_prefix() {
        let bytes = [
            0x00, // length 0
            0x00, // length 0
            0x01, // length 1
            0xff, // payload
        ];
        let run = run_whole(&mut be(PrefixWidth::One), &bytes);
        assert_eq!(run.ranges(), vec![(0, 1, true), (1, 2, true), (2, 4, true)]);
    }

    #[test]
    fn eight_byte_prefix() {
        let bytes = [
            0, 0, 0, 0, 0, 0, 0, 2, // length 2
            0xaa, 0xbb, // payload
        ];
        let run = run_whole(&mut be(PrefixWidth::Eight), &bytes);
        assert_eq!(run.ranges(), vec![(0, 10, true)]);
    }

    #[test]
    fn prefix_longer_than_the_rest_gives_a_partial_message() {
        let bytes = [
            0x00, 0x00, 0x00, 0x01, // length 1
            b'a', // payload
            0x00, 0x00, 0x00, 0x0a, // length 10
            b'h', b'e', b'l', // only 3 of the 10 bytes
        ];
        for cut in 0..=bytes.len() {
            let run = run_cuts(&mut be(PrefixWidth::Four), &bytes, &[cut]);
            assert_eq!(run.ranges(), vec![(0, 5, true), (5, 12, false)]);
            assert_eq!(
                run.issues,
                vec![FramingIssue {
                    offset: 5,
                    reason: "the prefix of message 2 at offset 5 announces 10 bytes, but the stream ends 3 bytes into them"
                        .into()
                }]
            );
        }
    }

    #[test]
    fn stream_ending_inside_a_prefix() {
        let bytes = [
            0x00, 0x01, // length 1
            b'a', // payload
            0x00, // first byte of the next prefix
        ];
        let run = run_whole(&mut be(PrefixWidth::Two), &bytes);
        assert_eq!(run.ranges(), vec![(0, 3, true), (3, 4, false)]);
        assert_eq!(run.issues.len(), 1);
        assert_eq!(run.issues[0].offset, 3);
        assert_eq!(
            run.issues[0].reason,
            "the stream ends after 1 of the 2 bytes of the length prefix of message 2 at offset 3"
        );
    }

    #[test]
    fn inclusive_length_below_the_prefix_width_stops_framing() {
        let bytes = [
            0x00, 0x02, // length 2: just the prefix, fine
            0x00, 0x01, // length 1 < 2: impossible
            0x00, 0x02, // never framed
        ];
        let run = run_whole(&mut framer(PrefixWidth::Two, Endian::Big, true), &bytes);
        assert_eq!(run.ranges(), vec![(0, 2, true)]);
        assert_eq!(
            run.issues,
            vec![FramingIssue {
                offset: 2,
                reason: "the 2-byte prefix of message 2 at offset 2 — 00 01 (\"..\") — reads as a length of 1, smaller than the prefix itself (an inclusive length counts its own 2 bytes); framing stopped"
                    .into()
            }]
        );
    }

    #[test]
    fn implausible_length_stops_framing() {
        let bytes = [
            0x7f, 0xff, 0xff, 0xff, // 2 GiB
            b'x', b'y',
        ];
        let run = run_whole(&mut be(PrefixWidth::Four), &bytes);
        assert!(run.messages.is_empty());
        assert_eq!(run.issues.len(), 1);
        assert_eq!(run.issues[0].offset, 0);
        assert!(
            run.issues[0].reason
                == "the 4-byte prefix of message 1 at offset 0 — 7f ff ff ff (\"....\") — reads as a length of 2,147,483,647, more than the 67,108,864 bytes taken as a plausible message; framing stopped",
            "{}",
            run.issues[0].reason
        );
        // A lower limit applies to a smaller message too.
        let mut small = be(PrefixWidth::Four).with_max_message_len(2);
        let run = run_whole(&mut small, TWO_BE4);
        assert!(run.messages.is_empty());
        assert!(run.issues[0].reason.contains("reads as a length of 3,"));
    }

    #[test]
    fn eight_byte_prefix_at_u64_max_does_not_overflow() {
        let run = run_whole(&mut be(PrefixWidth::Eight), &[0xff; 9]);
        assert!(run.messages.is_empty());
        assert!(
            run.issues[0]
                .reason
                .contains("taken as a plausible message")
        );
        let run = run_whole(
            &mut framer(PrefixWidth::Eight, Endian::Big, true).with_max_message_len(u64::MAX),
            &[0xff; 9],
        );
        assert_eq!(run.ranges(), vec![(0, 9, false)]);
    }

    #[test]
    fn gap_inside_a_body_keeps_framing() {
        let before = [
            0x00, 0x05, // length 5
            b'a', // 1 payload byte, then 2 lost
        ];
        let after = [
            b'd', b'e', // last 2 payload bytes
            0x00, 0x01, // length 1
            b'z',
        ];
        let run = run_with_gap(&mut be(PrefixWidth::Two), &before, 2, &after);
        assert_eq!(run.ranges(), vec![(0, 7, false), (7, 10, true)]);
        assert_eq!(run.issues.len(), 1);
        assert_eq!(run.issues[0].offset, 3);
        assert!(
            run.issues[0]
                .reason
                .starts_with("2 bytes lost in a capture gap inside message 1")
        );
    }

    #[test]
    fn gap_ending_exactly_at_the_end_of_a_body() {
        let before = [0x00, 0x03, b'a']; // length 3, 1 byte
        let after = [0x00, 0x00]; // an empty message
        let run = run_with_gap(&mut be(PrefixWidth::Two), &before, 2, &after);
        assert_eq!(run.ranges(), vec![(0, 5, false), (5, 7, true)]);
    }

    #[test]
    fn gap_hiding_a_prefix_stops_framing() {
        let before = [0x00, 0x01, b'a']; // a whole message
        let after = [0x00, 0x01, b'b']; // never framed
        let run = run_with_gap(&mut be(PrefixWidth::Two), &before, 4, &after);
        assert_eq!(run.ranges(), vec![(0, 3, true)]);
        assert_eq!(
            run.issues,
            vec![FramingIssue {
                offset: 3,
                reason:
                    "4 bytes lost in a capture gap at the start of a length prefix; framing stopped"
                        .into()
            }]
        );
    }

    #[test]
    fn gap_inside_a_prefix_emits_the_partial_prefix() {
        let before = [0x00]; // half a prefix
        let run = run_with_gap(&mut be(PrefixWidth::Two), &before, 1, b"x");
        assert_eq!(run.ranges(), vec![(0, 1, false)]);
        assert_eq!(
            run.issues[0].reason,
            "1 byte lost in a capture gap inside a length prefix; framing stopped"
        );
    }

    #[test]
    fn gap_running_past_a_body_stops_after_emitting_it() {
        let before = [0x00, 0x02, b'a']; // length 2, 1 byte seen
        let run = run_with_gap(&mut be(PrefixWidth::Two), &before, 10, &[1, 2, 3]);
        assert_eq!(run.ranges(), vec![(0, 4, false)]);
        assert_eq!(run.issues.len(), 1);
        assert!(run.issues[0].reason.ends_with("framing stopped"));
    }

    #[test]
    fn implicit_gap_from_a_skipped_offset() {
        let mut framer = be(PrefixWidth::One);
        let mut out = FramerOutput::default();
        framer.feed(0, &[0x03, b'a'], &mut out); // length 3, 1 byte
        framer.feed(3, &[b'c', 0x00], &mut out); // byte 2 never fed
        framer.finish(5, &mut out);
        let ranges: Vec<_> = out
            .messages
            .iter()
            .map(|m| (m.start, m.end, m.complete))
            .collect();
        assert_eq!(ranges, vec![(0, 4, false), (4, 5, true)]);
        assert_eq!(out.issues.len(), 1);
        assert_eq!(out.issues[0].offset, 2);
    }

    #[test]
    fn repeated_bytes_are_not_framed_twice() {
        let mut framer = be(PrefixWidth::One);
        let mut out = FramerOutput::default();
        framer.feed(0, &[0x01, b'a', 0x01], &mut out);
        framer.feed(1, &[b'a', 0x01, b'b'], &mut out); // overlaps the first feed
        framer.finish(4, &mut out);
        let ranges: Vec<_> = out.messages.iter().map(|m| (m.start, m.end)).collect();
        assert_eq!(ranges, vec![(0, 2), (2, 4)]);
        assert!(out.issues.is_empty());
    }

    #[test]
    fn nothing_after_finish_or_stop() {
        let mut framer = be(PrefixWidth::One);
        let mut out = FramerOutput::default();
        framer.feed(0, &[0x05, b'a'], &mut out);
        framer.finish(2, &mut out);
        assert_eq!(out.messages.len(), 1);
        out.clear();
        framer.finish(2, &mut out);
        framer.feed(2, &[0x00], &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn every_truncation_gives_a_consistent_partial() {
        for n in 0..TWO_BE4.len() {
            let run = run_whole(&mut be(PrefixWidth::Four), &TWO_BE4[..n]);
            let covered: u64 = run.messages.iter().map(|m| m.end - m.start).sum();
            assert_eq!(covered, n as u64, "prefix of {n} bytes");
            let partial = run.messages.iter().filter(|m| !m.complete).count();
            assert_eq!(partial, run.issues.len(), "prefix of {n} bytes");
            assert_eq!(
                partial,
                usize::from(n != 0 && n != 7),
                "prefix of {n} bytes"
            );
        }
    }
}
