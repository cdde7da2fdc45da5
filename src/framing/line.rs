//! Text lines (`line`): each message ends with LF; a CR before it belongs to the message, so
//! both LF and CRLF endings work.
//!
//! A thin wrapper over the delimiter framer with a one-byte delimiter and line wording in its
//! issues. Gap handling is the delimiter framer's: the line the gap falls in is reported
//! `complete: false` and runs to the next LF after the gap, then framing goes on.

use super::delimiter::{DelimiterFramer, Naming};
use super::spec::Delimiter;
use super::{Framer, FramerOutput};

/// Incremental framer for LF- or CRLF-terminated lines.
#[derive(Debug, Clone)]
pub struct LineFramer(DelimiterFramer);

impl LineFramer {
    /// A framer cutting after each LF.
    pub fn new() -> LineFramer {
        LineFramer(DelimiterFramer::with_naming(
            Delimiter::line_feed(),
            Naming::LineFeed,
        ))
    }
}

impl Default for LineFramer {
    fn default() -> Self {
        LineFramer::new()
    }
}

impl Framer for LineFramer {
    fn feed(&mut self, offset: u64, data: &[u8], out: &mut FramerOutput) {
        self.0.feed(offset, data, out);
    }

    fn missing(&mut self, offset: u64, len: u64, cause: super::Missing, out: &mut FramerOutput) {
        self.0.missing(offset, len, cause, out);
    }

    fn finish(&mut self, offset: u64, out: &mut FramerOutput) {
        self.0.finish(offset, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framing::FramingIssue;
    use crate::framing::testutil::{run_cuts, run_whole, run_with_gap};

    #[test]
    fn lf_and_crlf_lines_keep_their_terminator() {
        let bytes = b"USER bob\r\nPASS x\n\r\n"; // CRLF line, LF line, empty CRLF line
        let run = run_whole(&mut LineFramer::new(), bytes);
        assert_eq!(
            run.ranges(),
            vec![(0, 10, true), (10, 17, true), (17, 19, true)]
        );
        assert!(run.issues.is_empty());
    }

    #[test]
    fn cut_at_every_position_including_between_cr_and_lf() {
        let bytes = b"a\r\nbb\ncc\r\n";
        let expected = vec![(0, 3, true), (3, 6, true), (6, 10, true)];
        for cut in 0..=bytes.len() {
            let run = run_cuts(&mut LineFramer::new(), bytes, &[cut]);
            assert_eq!(run.ranges(), expected, "cut at {cut}");
        }
    }

    #[test]
    fn last_line_without_newline_is_partial() {
        let run = run_whole(&mut LineFramer::new(), b"hello\nworld");
        assert_eq!(run.ranges(), vec![(0, 6, true), (6, 11, false)]);
        assert_eq!(
            run.issues,
            vec![FramingIssue {
                offset: 6,
                reason:
                    "missing line terminator at end: message 2 (the last 5 bytes) is not terminated"
                        .into()
            }]
        );
    }

    #[test]
    fn a_lone_cr_at_the_end_is_not_a_terminator() {
        let run = run_whole(&mut LineFramer::new(), b"x\r");
        assert_eq!(run.ranges(), vec![(0, 2, false)]);
        assert_eq!(run.issues.len(), 1);
    }

    #[test]
    fn gap_inside_a_line_resynchronises_at_the_next_lf() {
        let run = run_with_gap(&mut LineFramer::new(), b"one\ntw", 5, b"o\nthree\n");
        assert_eq!(
            run.ranges(),
            vec![(0, 4, true), (4, 13, false), (13, 19, true)]
        );
        assert_eq!(run.issues.len(), 1);
        assert_eq!(run.issues[0].offset, 6);
        assert_eq!(
            run.issues[0].reason,
            "5 bytes lost in a capture gap: message 2 (from offset 4) is incomplete and may hide line feed boundaries; framing resumes after the next line feed"
        );
    }
}
