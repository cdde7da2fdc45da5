//! Delimiter-terminated messages (`delim:HEX`), and the matching engine `line` reuses.
//!
//! A message ends just after its delimiter (the delimiter belongs to the message), so messages
//! tile the stream. A multi-byte delimiter is matched across feed boundaries with a KMP automaton:
//! the framer keeps only the length of the partial match, never bytes. Gap handling: the message
//! the gap falls in is reported `complete: false` and runs to the next delimiter after the gap
//! (the gap may have hidden boundaries, the issue says so); framing then goes on normally.

use super::spec::Delimiter;
use super::{Framer, FramerOutput, Missing, align, gap_range, len_u64};

/// Incremental framer for messages ending with a delimiter.
#[derive(Debug, Clone)]
pub struct DelimiterFramer {
    matcher: Matcher,
    /// How issues name the terminator.
    naming: Naming,
    /// Stream offset of the next byte expected.
    next: u64,
    /// Start of the message being read.
    start: u64,
    /// Index of the message being read.
    index: u64,
    /// `false` when a gap fell inside the message being read.
    complete: bool,
    finished: bool,
}

/// How issues name what ends a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Naming {
    /// `line`: "line feed".
    LineFeed,
    /// `delim:HEX`: "delimiter HEX".
    Delimiter,
}

/// KMP matcher for the delimiter: state is the length of the current partial match.
#[derive(Debug, Clone)]
struct Matcher {
    delimiter: Delimiter,
    /// `failure[i]`: length of the longest proper prefix of `delimiter[..=i]` that is also a
    /// suffix of it.
    failure: Vec<usize>,
    matched: usize,
}

impl Matcher {
    fn new(delimiter: Delimiter) -> Matcher {
        let bytes = delimiter.as_bytes();
        let mut failure = vec![0; bytes.len()];
        let mut k = 0;
        for (i, &b) in bytes.iter().enumerate().skip(1) {
            while k > 0 && bytes.get(k) != Some(&b) {
                k = failure.get(k - 1).copied().unwrap_or(0);
            }
            if bytes.get(k) == Some(&b) {
                k += 1;
            }
            if let Some(slot) = failure.get_mut(i) {
                *slot = k;
            }
        }
        Matcher {
            delimiter,
            failure,
            matched: 0,
        }
    }

    /// Advances over one byte; true when it completes the delimiter (the match then restarts:
    /// delimiters do not overlap).
    fn step(&mut self, b: u8) -> bool {
        let bytes = self.delimiter.as_bytes();
        while self.matched > 0 && bytes.get(self.matched) != Some(&b) {
            self.matched = self.failure.get(self.matched - 1).copied().unwrap_or(0);
        }
        if bytes.get(self.matched) == Some(&b) {
            self.matched += 1;
        }
        if self.matched == bytes.len() {
            self.matched = 0;
            return true;
        }
        false
    }

    /// The single delimiter byte, when the delimiter has one byte (the fast path).
    fn single_byte(&self) -> Option<u8> {
        match self.delimiter.as_bytes() {
            [b] => Some(*b),
            _ => None,
        }
    }
}

impl DelimiterFramer {
    /// A framer cutting after each occurrence of `delimiter`.
    pub fn new(delimiter: Delimiter) -> DelimiterFramer {
        DelimiterFramer::with_naming(delimiter, Naming::Delimiter)
    }

    pub(crate) fn with_naming(delimiter: Delimiter, naming: Naming) -> DelimiterFramer {
        DelimiterFramer {
            matcher: Matcher::new(delimiter),
            naming,
            next: 0,
            start: 0,
            index: 0,
            complete: true,
            finished: false,
        }
    }

    /// What issues call the terminator.
    fn terminator_name(&self) -> String {
        match self.naming {
            Naming::LineFeed => "line feed".to_string(),
            Naming::Delimiter => format!("delimiter {}", self.matcher.delimiter),
        }
    }

    fn end_message(&mut self, end: u64, out: &mut FramerOutput) {
        out.message(self.index, self.start, end, self.complete);
        self.index = self.index.saturating_add(1);
        self.start = end;
        self.complete = true;
    }

    fn scan(&mut self, data: &[u8], out: &mut FramerOutput) {
        let base = self.next;
        if let Some(byte) = self.matcher.single_byte() {
            let mut from = 0;
            while let Some(found) = data
                .get(from..)
                .and_then(|rest| rest.iter().position(|&b| b == byte))
            {
                from += found + 1;
                self.end_message(base.saturating_add(from as u64), out);
            }
        } else {
            for (i, &b) in data.iter().enumerate() {
                if self.matcher.step(b) {
                    self.end_message(base.saturating_add(i as u64 + 1), out);
                }
            }
        }
        self.next = base.saturating_add(len_u64(data));
    }
}

impl Framer for DelimiterFramer {
    fn feed(&mut self, offset: u64, data: &[u8], out: &mut FramerOutput) {
        if self.finished {
            return;
        }
        let (gap, data) = align(self.next, offset, data);
        if let Some((gap_offset, gap_len)) = gap {
            self.gap(gap_offset, gap_len, out);
        }
        self.scan(data, out);
    }

    fn missing(&mut self, offset: u64, len: u64, cause: Missing, out: &mut FramerOutput) {
        if self.finished {
            return;
        }
        let Some((from, to)) = gap_range(self.next, offset, len) else {
            return;
        };
        let name = self.terminator_name();
        out.issue(
            from,
            format!(
                "{}: message {} (from offset {}) is incomplete and may hide {name} boundaries; framing resumes after the next {name}",
                cause.bytes(to - from),
                self.index.saturating_add(1),
                self.start
            ),
        );
        self.next = to;
        self.complete = false;
        // A partial delimiter before the gap cannot be completed by bytes after it.
        self.matcher.matched = 0;
    }

    fn finish(&mut self, offset: u64, out: &mut FramerOutput) {
        if self.finished {
            return;
        }
        if offset > self.next {
            self.gap(self.next, offset - self.next, out);
        }
        self.finished = true;
        if self.next == self.start {
            return;
        }
        let what = match self.naming {
            Naming::LineFeed => "missing line terminator at end".to_string(),
            Naming::Delimiter => format!("missing delimiter {} at end", self.matcher.delimiter),
        };
        out.issue(
            self.start,
            format!(
                "{what}: message {} (the last {}) is not terminated",
                self.index.saturating_add(1),
                crate::units::plural(self.next - self.start, "byte", "bytes")
            ),
        );
        self.complete = false;
        self.end_message(self.next, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framing::FramingIssue;
    use crate::framing::testutil::{run_cuts, run_whole, run_with_gap};

    fn framer(hex: &[u8]) -> DelimiterFramer {
        DelimiterFramer::new(Delimiter::new(hex.to_vec()).unwrap())
    }

    #[test]
    fn nul_delimited_messages() {
        let bytes = b"ab\0\0cde\0"; // "ab" NUL, empty message NUL, "cde" NUL
        let run = run_whole(&mut framer(&[0]), bytes);
        assert_eq!(run.ranges(), vec![(0, 3, true), (3, 4, true), (4, 8, true)]);
        assert!(run.issues.is_empty());
    }

    #[test]
    fn crlf_delimiter_split_at_every_position() {
        let bytes = b"one\r\ntwo\r\r\nthree\r\n"; // "two\r" contains a lone CR
        let expected = vec![(0, 5, true), (5, 11, true), (11, 18, true)];
        for a in 0..=bytes.len() {
            for b in a..=bytes.len() {
                let run = run_cuts(&mut framer(b"\r\n"), bytes, &[a, b]);
                assert_eq!(run.ranges(), expected, "cuts at {a} and {b}");
                assert!(run.issues.is_empty());
            }
        }
    }

    #[test]
    fn self_overlapping_delimiter_needs_the_failure_function() {
        // Delimiter "aab": in "aaab" the match restarts inside the run of a's.
        let bytes = b"xaaabyaab";
        let expected = vec![(0, 5, true), (5, 9, true)];
        for cut in 0..=bytes.len() {
            let run = run_cuts(&mut framer(b"aab"), bytes, &[cut]);
            assert_eq!(run.ranges(), expected, "cut at {cut}");
        }
        // Delimiters do not overlap: "aa" in "aaa" is one match and a 1-byte partial.
        let run = run_whole(&mut framer(b"aa"), b"aaa");
        assert_eq!(run.ranges(), vec![(0, 2, true), (2, 3, false)]);
    }

    #[test]
    fn failure_function_of_a_known_pattern() {
        let m = Matcher::new(Delimiter::new(b"abacabab".to_vec()).unwrap());
        assert_eq!(m.failure, vec![0, 0, 1, 0, 1, 2, 3, 2]);
    }

    #[test]
    fn missing_delimiter_at_end_is_a_partial_message() {
        let run = run_whole(&mut framer(b"\r\n"), b"ok\r\npartial\r");
        assert_eq!(run.ranges(), vec![(0, 4, true), (4, 12, false)]);
        assert_eq!(
            run.issues,
            vec![FramingIssue {
                offset: 4,
                reason:
                    "missing delimiter 0d0a at end: message 2 (the last 8 bytes) is not terminated"
                        .into()
            }]
        );
    }

    #[test]
    fn gap_resynchronises_at_the_next_delimiter() {
        let before = b"a\0bc"; // "a" NUL, then "bc" and 3 lost bytes
        let after = b"d\0e\0"; // tail of that message, then "e" NUL
        let run = run_with_gap(&mut framer(&[0]), before, 3, after);
        assert_eq!(
            run.ranges(),
            vec![(0, 2, true), (2, 9, false), (9, 11, true)]
        );
        assert_eq!(run.issues.len(), 1);
        assert_eq!(run.issues[0].offset, 4);
        assert_eq!(
            run.issues[0].reason,
            "3 bytes lost in a capture gap: message 2 (from offset 2) is incomplete and may hide delimiter 00 boundaries; framing resumes after the next delimiter 00"
        );
    }

    #[test]
    fn gap_discards_a_partial_delimiter_match() {
        // "x\r" then a gap: the "\n" after the gap must not complete the "\r\n".
        let run = run_with_gap(&mut framer(b"\r\n"), b"x\r", 1, b"\ny\r\n");
        assert_eq!(run.ranges(), vec![(0, 7, false)]);
    }

    #[test]
    fn gap_at_the_end_gives_a_partial_message() {
        let run = run_with_gap(&mut framer(&[0]), b"a\0", 4, b"");
        assert_eq!(run.ranges(), vec![(0, 2, true), (2, 6, false)]);
        assert_eq!(run.issues.len(), 2);
        assert!(
            run.issues[1]
                .reason
                .starts_with("missing delimiter 00 at end")
        );
    }

    #[test]
    fn nothing_after_finish() {
        let mut f = framer(&[0]);
        let mut out = FramerOutput::default();
        f.feed(0, b"a", &mut out);
        f.finish(1, &mut out);
        out.clear();
        f.feed(1, b"\0", &mut out);
        f.gap(2, 1, &mut out);
        f.finish(3, &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn empty_stream_gives_nothing() {
        let run = run_whole(&mut framer(&[0]), b"");
        assert_eq!(run.messages, vec![]);
        assert_eq!(run.issues, vec![]);
    }
}
