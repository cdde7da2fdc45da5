//! Reassembled stream → message boundaries.
//!
//! In: the in-order bytes of one direction of a TCP stream (with the capture gaps the reassembler
//! found), fed piece by piece. Out: [`Message`] ranges in stream offsets and [`FramingIssue`]s.
//! Framers keep only the header bytes they are still reading, never the stream. [`spec`] parses
//! the `--framing` strings and [`segments`] checks each message against the TCP segments that
//! carried it (sticky packets). This module holds the generic framers only: it does not
//! reassemble TCP, and it knows no application protocol (the HTTP framer is `app::http`'s, and
//! choosing a framing for `auto` is the sticky analysis's).
#![cfg_attr(
    not(test),
    deny(
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic
    )
)]

pub mod delimiter;
pub mod fixed;
pub mod length_prefix;
pub mod line;
pub mod segments;
pub mod spec;

pub use delimiter::DelimiterFramer;
pub use fixed::FixedFramer;
pub use length_prefix::LengthPrefixFramer;
pub use line::LineFramer;
pub use spec::FramingSpec;

/// One application message found in one direction of a reassembled stream, in stream offsets
/// (offset 0 = the first payload byte of that direction).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Message {
    /// 0-based position of the message in its direction.
    pub index: u64,
    /// Stream offset of the message's first byte (its header or length prefix included).
    pub start: u64,
    /// Stream offset just past the message's last byte (exclusive).
    pub end: u64,
    /// `false` when some of its bytes were never seen: cut by the end of the stream or lost in
    /// a capture gap (an issue says which).
    pub complete: bool,
}

/// A framing problem at a stream offset (length prefix larger than the rest of the stream, missing
/// delimiter at the end, bytes lost in a capture gap, an unparseable HTTP start line, ...).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FramingIssue {
    /// Stream offset the problem is about (usually the start of the message concerned).
    pub offset: u64,
    /// What went wrong, lowercase, no trailing period.
    pub reason: String,
}

/// Why bytes of a direction are missing from the capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// Never captured: lost before the capture point, or given up by the reassembler.
    Lost,
    /// On the wire but cut off by the capture's snap length.
    NotCaptured,
}

impl Missing {
    /// `926 bytes lost in a capture gap` or `926 bytes cut by the snap length` (`1 byte …`).
    pub fn bytes(self, len: u64) -> String {
        let unit = if len == 1 { "byte" } else { "bytes" };
        let n = grouped(len);
        match self {
            Missing::Lost => format!("{n} {unit} lost in a capture gap"),
            Missing::NotCaptured => format!("{n} {unit} cut by the snap length"),
        }
    }
}

/// Incremental message framer over one direction of a reassembled TCP stream. It keeps only the
/// bytes of a header it is still reading (a length prefix, an HTTP head, a chunk-size line), never
/// the whole stream, so memory stays bounded.
pub trait Framer {
    /// The next in-order bytes of the direction; `offset` is the stream offset of `data[0]`.
    fn feed(&mut self, offset: u64, data: &[u8], out: &mut FramerOutput);
    /// `len` bytes at `offset` were never captured (`cause` says why); the framer
    /// resynchronises if it can, else reports an issue and stops framing (later feeds produce
    /// nothing).
    fn missing(&mut self, offset: u64, len: u64, cause: Missing, out: &mut FramerOutput);
    /// `len` bytes at `offset` were lost in a capture gap (see [`Framer::missing`]).
    fn gap(&mut self, offset: u64, len: u64, out: &mut FramerOutput) {
        self.missing(offset, len, Missing::Lost, out);
    }
    /// `len` bytes at `offset` were on the wire but cut off by the capture's snap length (not a
    /// loss): [`Framer::missing`] with [`Missing::NotCaptured`].
    fn not_captured(&mut self, offset: u64, len: u64, out: &mut FramerOutput) {
        self.missing(offset, len, Missing::NotCaptured, out);
    }
    /// The direction ended (FIN, RST or end of capture) at `offset`: a partial message is emitted
    /// with `complete: false` plus an issue saying what was missing.
    fn finish(&mut self, offset: u64, out: &mut FramerOutput);
}

/// What framers emit; the caller drains it after each call (clear(), not a new Vec).
#[derive(Debug, Default)]
pub struct FramerOutput {
    /// Messages whose end is known, in stream order.
    pub messages: Vec<Message>,
    /// Framing problems, in stream order.
    pub issues: Vec<FramingIssue>,
}

impl FramerOutput {
    /// Empties both lists, keeping their allocations.
    pub fn clear(&mut self) {
        self.messages.clear();
        self.issues.clear();
    }

    /// True when nothing was emitted since the last [`clear`](Self::clear).
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty() && self.issues.is_empty()
    }

    pub(crate) fn message(&mut self, index: u64, start: u64, end: u64, complete: bool) {
        self.messages.push(Message {
            index,
            start,
            end,
            complete,
        });
    }

    pub(crate) fn issue(&mut self, offset: u64, reason: String) {
        self.issues.push(FramingIssue { offset, reason });
    }
}

/// Builds the framer for a spec that frames by itself: `len:…`, `line`, `delim:…`, `fixed:…`.
///
/// Returns `None` for `http` (framed by `app::http`), `auto` (choose first, then call this with
/// the choice) and `none` (no framing).
pub fn new_framer(spec: &FramingSpec) -> Option<Box<dyn Framer>> {
    match spec {
        FramingSpec::LengthPrefix(prefix) => Some(Box::new(LengthPrefixFramer::new(*prefix))),
        FramingSpec::Line => Some(Box::new(LineFramer::new())),
        FramingSpec::Delimiter(delimiter) => {
            Some(Box::new(DelimiterFramer::new(delimiter.clone())))
        }
        FramingSpec::Fixed(size) => Some(Box::new(FixedFramer::new(*size))),
        FramingSpec::Http | FramingSpec::Auto | FramingSpec::None => None,
    }
}

/// Lines a feed up with the next expected offset `next`: returns the implicit gap (when `offset`
/// is past `next`) and the part of `data` not seen yet (bytes before `next` are dropped, so a
/// repeated or overlapping feed never frames the same bytes twice).
pub(crate) fn align(next: u64, offset: u64, data: &[u8]) -> (Option<(u64, u64)>, &[u8]) {
    if offset > next {
        return (Some((next, offset - next)), data);
    }
    let skip = usize::try_from(next - offset).unwrap_or(usize::MAX);
    (None, data.get(skip..).unwrap_or_default())
}

/// The range `[next, offset + len)` a gap report adds to what was already seen, or `None` when
/// it adds nothing. A gap that starts after `next` also covers the unreported bytes before it.
pub(crate) fn gap_range(next: u64, offset: u64, len: u64) -> Option<(u64, u64)> {
    let end = offset.saturating_add(len);
    (end > next).then_some((next, end))
}

/// `n` with its digits grouped by thousands (`1,836,279,600`), as issue texts and tables show
/// byte counts and lengths.
///
/// ```
/// assert_eq!(pcaplab::framing::grouped(1_836_279_600), "1,836,279,600");
/// assert_eq!(pcaplab::framing::grouped(999), "999");
/// ```
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `bytes` as the student would see them: hex pairs, and the printable ASCII text (other bytes
/// as `.`) — e.g. `6d 73 67 30 ("msg0")`.
pub fn hex_and_text(bytes: &[u8]) -> String {
    let hex: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let text: String = bytes
        .iter()
        .map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                char::from(b)
            } else {
                '.'
            }
        })
        .collect();
    format!("{} (\"{text}\")", hex.join(" "))
}

/// Counts how many bytes `data` holds, as a stream-offset distance.
pub(crate) fn len_u64(data: &[u8]) -> u64 {
    u64::try_from(data.len()).unwrap_or(u64::MAX)
}

#[cfg(test)]
pub(crate) mod testutil {
    //! Helpers shared by the framer tests: feeding with cuts and collecting everything.
    use super::{Framer, FramerOutput, FramingIssue, Message};

    /// Everything a framer emitted over a whole run.
    #[derive(Debug, Default, PartialEq, Eq)]
    pub struct Run {
        pub messages: Vec<Message>,
        pub issues: Vec<FramingIssue>,
    }

    impl Run {
        /// `(start, end, complete)` of each message, for short assertions.
        pub fn ranges(&self) -> Vec<(u64, u64, bool)> {
            self.messages
                .iter()
                .map(|m| (m.start, m.end, m.complete))
                .collect()
        }
    }

    fn drain(out: &mut FramerOutput, run: &mut Run) {
        run.messages.append(&mut out.messages);
        run.issues.append(&mut out.issues);
    }

    /// Feeds `data` cut at `cuts` (sorted offsets inside it), then finishes.
    pub fn run_cuts(framer: &mut dyn Framer, data: &[u8], cuts: &[usize]) -> Run {
        let mut run = Run::default();
        let mut out = FramerOutput::default();
        let mut start = 0;
        for &cut in cuts.iter().chain(std::iter::once(&data.len())) {
            let cut = cut.clamp(start, data.len());
            framer.feed(start as u64, &data[start..cut], &mut out);
            drain(&mut out, &mut run);
            start = cut;
        }
        framer.finish(data.len() as u64, &mut out);
        drain(&mut out, &mut run);
        run
    }

    /// Feeds `data` in one piece, then finishes.
    pub fn run_whole(framer: &mut dyn Framer, data: &[u8]) -> Run {
        run_cuts(framer, data, &[])
    }

    /// Feeds `before`, reports a gap of `gap` bytes, feeds `after`, then finishes.
    pub fn run_with_gap(framer: &mut dyn Framer, before: &[u8], gap: u64, after: &[u8]) -> Run {
        let mut run = Run::default();
        let mut out = FramerOutput::default();
        framer.feed(0, before, &mut out);
        framer.gap(before.len() as u64, gap, &mut out);
        let after_offset = before.len() as u64 + gap;
        framer.feed(after_offset, after, &mut out);
        framer.finish(after_offset + after.len() as u64, &mut out);
        drain(&mut out, &mut run);
        run
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn align_drops_seen_bytes_and_reports_skipped_ones() {
        // In order: nothing dropped.
        assert_eq!(align(10, 10, b"abc"), (None, &b"abc"[..]));
        // Overlap: the first two bytes were already seen.
        assert_eq!(align(12, 10, b"abc"), (None, &b"c"[..]));
        // Entirely seen.
        assert_eq!(align(20, 10, b"abc"), (None, &b""[..]));
        // Bytes 10..15 never fed: an implicit gap.
        assert_eq!(align(10, 15, b"abc"), (Some((10, 5)), &b"abc"[..]));
    }

    #[test]
    fn missing_bytes_name_their_cause_and_number() {
        assert_eq!(Missing::Lost.bytes(1), "1 byte lost in a capture gap");
        assert_eq!(
            Missing::NotCaptured.bytes(2785),
            "2,785 bytes cut by the snap length"
        );
        let mut out = FramerOutput::default();
        let mut framer = LineFramer::new();
        framer.feed(0, b"ab", &mut out);
        framer.missing(2, 5, Missing::NotCaptured, &mut out);
        assert!(
            out.issues[0]
                .reason
                .starts_with("5 bytes cut by the snap length")
        );
    }

    #[test]
    fn gap_range_covers_unreported_bytes() {
        assert_eq!(gap_range(10, 10, 5), Some((10, 15)));
        assert_eq!(gap_range(10, 12, 5), Some((10, 17)));
        assert_eq!(gap_range(10, 2, 5), None);
        assert_eq!(gap_range(10, u64::MAX, 5), Some((10, u64::MAX)));
    }

    #[test]
    fn new_framer_builds_the_self_framing_specs_only() {
        for spec in ["len:4", "line", "delim:00", "fixed:3"] {
            let spec: FramingSpec = spec.parse().unwrap();
            assert!(new_framer(&spec).is_some(), "{spec}");
        }
        for spec in ["http", "auto", "none"] {
            let spec: FramingSpec = spec.parse().unwrap();
            assert!(new_framer(&spec).is_none(), "{spec}");
        }
    }

    #[test]
    fn output_clear_keeps_nothing() {
        let mut out = FramerOutput::default();
        out.message(0, 0, 1, true);
        out.issue(0, "x".into());
        assert!(!out.is_empty());
        out.clear();
        assert!(out.is_empty());
    }

    mod properties {
        use std::num::NonZeroU64;

        use proptest::prelude::*;

        use crate::framing::spec::{Delimiter, Endian, LengthPrefix, PrefixWidth};
        use crate::framing::testutil::run_cuts;
        use crate::framing::{
            DelimiterFramer, FixedFramer, Framer, FramerOutput, LengthPrefixFramer, LineFramer,
        };

        /// One way of encoding messages, with the framer that should find them again.
        #[derive(Debug, Clone, Copy)]
        enum Encoding {
            Len4,
            Len2LeInclusive,
            Line,
            Nul,
            Crlf,
            Fixed(u64),
        }

        impl Encoding {
            fn framer(self) -> Box<dyn Framer> {
                match self {
                    Encoding::Len4 => Box::new(LengthPrefixFramer::new(LengthPrefix::new(
                        PrefixWidth::Four,
                    ))),
                    Encoding::Len2LeInclusive => Box::new(LengthPrefixFramer::new(LengthPrefix {
                        width: PrefixWidth::Two,
                        endian: Endian::Little,
                        inclusive: true,
                    })),
                    Encoding::Line => Box::new(LineFramer::new()),
                    Encoding::Nul => {
                        Box::new(DelimiterFramer::new(Delimiter::new(vec![0]).unwrap()))
                    }
                    Encoding::Crlf => Box::new(DelimiterFramer::new(
                        Delimiter::new(b"\r\n".to_vec()).unwrap(),
                    )),
                    Encoding::Fixed(n) => Box::new(FixedFramer::new(NonZeroU64::new(n).unwrap())),
                }
            }

            /// The wire bytes of one message, written by hand for each encoding.
            fn encode(self, payload: &[u8], crlf: bool) -> Vec<u8> {
                match self {
                    Encoding::Len4 => {
                        let mut out = (payload.len() as u32).to_be_bytes().to_vec();
                        out.extend_from_slice(payload);
                        out
                    }
                    Encoding::Len2LeInclusive => {
                        let mut out = (payload.len() as u16 + 2).to_le_bytes().to_vec();
                        out.extend_from_slice(payload);
                        out
                    }
                    Encoding::Line => {
                        let mut out: Vec<u8> =
                            payload.iter().copied().filter(|&b| b != b'\n').collect();
                        if crlf {
                            out.push(b'\r');
                        }
                        out.push(b'\n');
                        out
                    }
                    Encoding::Nul => {
                        let mut out: Vec<u8> =
                            payload.iter().copied().filter(|&b| b != 0).collect();
                        out.push(0);
                        out
                    }
                    Encoding::Crlf => {
                        // No LF inside, so no CRLF inside (a CR at the end is fine).
                        let mut out: Vec<u8> =
                            payload.iter().copied().filter(|&b| b != b'\n').collect();
                        out.extend_from_slice(b"\r\n");
                        out
                    }
                    Encoding::Fixed(n) => {
                        // Fixed-size messages: cycle the payload (or zeros) to exactly n bytes.
                        let source = if payload.is_empty() {
                            &[0u8][..]
                        } else {
                            payload
                        };
                        source.iter().copied().cycle().take(n as usize).collect()
                    }
                }
            }
        }

        fn encoding() -> impl Strategy<Value = Encoding> {
            prop_oneof![
                Just(Encoding::Len4),
                Just(Encoding::Len2LeInclusive),
                Just(Encoding::Line),
                Just(Encoding::Nul),
                Just(Encoding::Crlf),
                (1u64..9).prop_map(Encoding::Fixed),
            ]
        }

        fn cuts(max: usize) -> impl Strategy<Value = Vec<usize>> {
            proptest::collection::vec(0..=max, 0..12).prop_map(|mut cuts| {
                cuts.sort_unstable();
                cuts
            })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(96))]

            #[test]
            fn same_messages_whatever_the_cuts(
                encoding in encoding(),
                messages in proptest::collection::vec(
                    (proptest::collection::vec(any::<u8>(), 0..40), any::<bool>()),
                    0..12,
                ),
                cut_seeds in cuts(10_000),
            ) {
                let mut bytes = Vec::new();
                let mut expected = Vec::new();
                for (payload, crlf) in &messages {
                    let start = bytes.len() as u64;
                    bytes.extend(encoding.encode(payload, *crlf));
                    expected.push((start, bytes.len() as u64, true));
                }
                let cuts: Vec<usize> = cut_seeds.iter().map(|c| c % (bytes.len() + 1)).collect();
                let run = run_cuts(encoding.framer().as_mut(), &bytes, &cuts);
                prop_assert_eq!(run.ranges(), expected);
                prop_assert!(run.issues.is_empty(), "{:?}", run.issues);
                let indexes: Vec<u64> = run.messages.iter().map(|m| m.index).collect();
                prop_assert_eq!(indexes, (0..messages.len() as u64).collect::<Vec<_>>());
            }

            #[test]
            fn truncated_stream_keeps_the_whole_messages_before_the_cut(
                encoding in encoding(),
                payloads in proptest::collection::vec(
                    proptest::collection::vec(any::<u8>(), 0..40), 1..8),
                cut_seed in any::<usize>(),
            ) {
                let mut bytes = Vec::new();
                let mut ends = Vec::new();
                for payload in &payloads {
                    bytes.extend(encoding.encode(payload, false));
                    ends.push(bytes.len() as u64);
                }
                let cut = cut_seed % (bytes.len() + 1);
                let run = run_cuts(encoding.framer().as_mut(), &bytes[..cut], &[]);
                let whole = ends.iter().filter(|&&end| end <= cut as u64).count();
                prop_assert_eq!(run.messages.iter().filter(|m| m.complete).count(), whole);
                let partial = run.messages.iter().filter(|m| !m.complete).count();
                let at_boundary = cut == 0 || ends.contains(&(cut as u64));
                prop_assert_eq!(partial, usize::from(!at_boundary));
                prop_assert_eq!(run.issues.len(), partial);
                let covered: u64 = run.messages.iter().map(|m| m.end - m.start).sum();
                prop_assert_eq!(covered, cut as u64);
            }

            #[test]
            fn arbitrary_bytes_and_gaps_never_panic_and_stay_ordered(
                encoding in encoding(),
                pieces in proptest::collection::vec(
                    (proptest::collection::vec(any::<u8>(), 0..64), 0u64..20, any::<bool>()),
                    0..10,
                ),
            ) {
                let mut framer = encoding.framer();
                let mut out = FramerOutput::default();
                let mut offset = 0u64;
                for (data, gap, overlap) in &pieces {
                    if *gap > 0 {
                        framer.gap(offset, *gap, &mut out);
                        offset += gap;
                    }
                    // Sometimes re-send the last bytes: they must not be framed twice.
                    let back = if *overlap { offset.min(3) } else { 0 };
                    framer.feed(offset - back, data, &mut out);
                    offset = (offset - back + data.len() as u64).max(offset);
                }
                framer.finish(offset, &mut out);
                let mut last_end = 0;
                for (i, m) in out.messages.iter().enumerate() {
                    prop_assert!(m.start < m.end, "empty message {:?}", m);
                    prop_assert!(m.start >= last_end, "message {} overlaps: {:?}", i, out.messages);
                    prop_assert!(m.end <= offset, "{:?} past {}", m, offset);
                    last_end = m.end;
                }
            }
        }
    }
}
