//! Fixed-size messages (`fixed:N`): message `i` is bytes `[i·N, (i+1)·N)` of the direction.
//!
//! The framer keeps no bytes at all. Gap handling: boundaries do not depend on content, so a gap
//! never breaks framing; the messages it touches are reported `complete: false`, and messages
//! lying wholly inside the gap (no byte seen) are not reported (indexes stay `offset / N`).

use std::num::NonZeroU64;

use super::{Framer, FramerOutput, Missing, align, gap_range, len_u64};

/// Incremental framer for fixed-size messages.
#[derive(Debug, Clone)]
pub struct FixedFramer {
    size: u64,
    /// Stream offset of the next byte expected.
    next: u64,
    /// Some bytes of the message containing `next` were lost in a gap.
    lost: bool,
    /// Some bytes of the message containing `next` were seen.
    seen_any: bool,
    finished: bool,
}

impl FixedFramer {
    /// A framer cutting every `size` bytes.
    pub fn new(size: NonZeroU64) -> FixedFramer {
        FixedFramer {
            size: size.get(),
            next: 0,
            lost: false,
            seen_any: false,
            finished: false,
        }
    }

    /// Start of the message that holds stream offset `offset`.
    fn message_start(&self, offset: u64) -> u64 {
        offset - offset % self.size
    }

    /// Moves `next` forward to `to`, emitting every message that ends on the way. The bytes
    /// between were seen when `seen` is true, lost in a gap otherwise.
    fn advance(&mut self, to: u64, seen: bool, out: &mut FramerOutput) {
        while self.next < to {
            let start = self.message_start(self.next);
            let end = start.saturating_add(self.size);
            if seen {
                self.seen_any = true;
            } else {
                self.lost = true;
            }
            if end > to {
                self.next = to;
                break;
            }
            if self.seen_any {
                out.message(start / self.size, start, end, !self.lost);
            }
            self.lost = false;
            self.seen_any = false;
            // Messages wholly inside a gap are skipped in one step, not one by one.
            self.next = if seen {
                end
            } else {
                end.max(self.message_start(to))
            };
        }
    }
}

impl Framer for FixedFramer {
    fn feed(&mut self, offset: u64, data: &[u8], out: &mut FramerOutput) {
        if self.finished {
            return;
        }
        let (gap, data) = align(self.next, offset, data);
        if let Some((gap_offset, gap_len)) = gap {
            self.gap(gap_offset, gap_len, out);
        }
        let to = self.next.saturating_add(len_u64(data));
        self.advance(to, true, out);
    }

    fn missing(&mut self, offset: u64, len: u64, cause: Missing, out: &mut FramerOutput) {
        if self.finished {
            return;
        }
        let Some((from, to)) = gap_range(self.next, offset, len) else {
            return;
        };
        out.issue(
            from,
            format!(
                "{}: the {}-byte messages over offsets {from}..{to} are incomplete; fixed-size framing goes on",
                cause.bytes(to - from),
                self.size
            ),
        );
        self.advance(to, false, out);
    }

    fn finish(&mut self, offset: u64, out: &mut FramerOutput) {
        if self.finished {
            return;
        }
        if offset > self.next {
            self.gap(self.next, offset - self.next, out);
        }
        self.finished = true;
        let start = self.message_start(self.next);
        if start == self.next || !self.seen_any {
            return;
        }
        let got = self.next - start;
        out.issue(
            start,
            format!(
                "the stream ends {} into message {}, which should have {} bytes",
                crate::units::plural(got, "byte", "bytes"),
                (start / self.size).saturating_add(1),
                self.size
            ),
        );
        out.message(start / self.size, start, self.next, false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framing::FramingIssue;
    use crate::framing::testutil::{run_cuts, run_whole, run_with_gap};

    fn framer(size: u64) -> FixedFramer {
        FixedFramer::new(NonZeroU64::new(size).unwrap())
    }

    #[test]
    fn cuts_every_n_bytes_whatever_the_feeds() {
        let bytes = [0u8; 12]; // three 4-byte messages
        let expected = vec![(0, 4, true), (4, 8, true), (8, 12, true)];
        for a in 0..=bytes.len() {
            for b in a..=bytes.len() {
                let run = run_cuts(&mut framer(4), &bytes, &[a, b]);
                assert_eq!(run.ranges(), expected, "cuts at {a} and {b}");
                assert!(run.issues.is_empty());
            }
        }
        let run = run_whole(&mut framer(4), &bytes);
        assert_eq!(
            run.messages.iter().map(|m| m.index).collect::<Vec<_>>(),
            vec![0, 1, 2]
        );
    }

    #[test]
    fn one_byte_messages() {
        let run = run_whole(&mut framer(1), b"abc");
        assert_eq!(run.ranges(), vec![(0, 1, true), (1, 2, true), (2, 3, true)]);
    }

    #[test]
    fn stream_ending_mid_message() {
        let run = run_whole(&mut framer(4), b"abcdef");
        assert_eq!(run.ranges(), vec![(0, 4, true), (4, 6, false)]);
        assert_eq!(
            run.issues,
            vec![FramingIssue {
                offset: 4,
                reason: "the stream ends 2 bytes into message 2, which should have 4 bytes".into()
            }]
        );
    }

    #[test]
    fn gap_inside_one_message() {
        let run = run_with_gap(&mut framer(4), b"abcde", 2, b"hij");
        assert_eq!(
            run.ranges(),
            vec![(0, 4, true), (4, 8, false), (8, 10, false)]
        );
        assert_eq!(run.issues.len(), 2);
        assert_eq!(run.issues[0].offset, 5);
        assert_eq!(
            run.issues[0].reason,
            "2 bytes lost in a capture gap: the 4-byte messages over offsets 5..7 are incomplete; fixed-size framing goes on"
        );
    }

    #[test]
    fn messages_wholly_inside_a_gap_are_not_reported() {
        // Bytes 0..2 seen, 2..14 lost, 14..16 seen: message 0 and 3 are partial, 1 and 2 lost.
        let run = run_with_gap(&mut framer(4), b"ab", 12, b"op");
        assert_eq!(run.ranges(), vec![(0, 4, false), (12, 16, false)]);
        assert_eq!(
            run.messages.iter().map(|m| m.index).collect::<Vec<_>>(),
            vec![0, 3]
        );
        // A gap on exact boundaries: messages 1 and 2 lost, 3 whole.
        let run = run_with_gap(&mut framer(4), b"abcd", 8, b"mnop");
        assert_eq!(run.ranges(), vec![(0, 4, true), (12, 16, true)]);
    }

    #[test]
    fn huge_gap_is_skipped_in_constant_time() {
        let run = run_with_gap(&mut framer(1), b"a", u64::MAX / 2, b"z");
        assert_eq!(run.messages.len(), 2);
        assert!(run.messages[1].complete);
    }

    #[test]
    fn nothing_after_finish() {
        let mut f = framer(2);
        let mut out = FramerOutput::default();
        f.feed(0, b"a", &mut out);
        f.finish(1, &mut out);
        out.clear();
        f.feed(1, b"b", &mut out);
        f.finish(2, &mut out);
        assert!(out.is_empty());
    }
}
