//! `--framing auto`: chooses the framing of one direction from its bytes, incrementally.
//!
//! A [`Detector`] sees every byte of a direction as it arrives and keeps no copy of the stream:
//! each candidate framing runs as a real framer side by side with the others, and a candidate
//! is **eliminated** as soon as the bytes contradict it (a length prefix above 64 MiB, an
//! inclusive length below its own width, a byte that cannot be text). What a candidate keeps
//! while the choice is open is its state (a few bytes) and the message boundaries it found
//! (at most [`MAX_PENDING_MESSAGES`] over all candidates); the chosen one hands both over and
//! goes on framing, so nothing is replayed.
//!
//! The rule, in order:
//! 1. `http` as soon as the direction starts like an HTTP/1.x message, by THE detector of
//!    `app::http` (the one the `http` command uses, so the two cannot disagree); the other
//!    direction of the stream follows (a response is framed by its request).
//! 2. At the end of the direction (FIN, RST or end of capture), a **length prefix** when every
//!    prefix in the direction is consistent with what follows — the last message ends exactly
//!    where the direction ends — whatever the message sizes, the bytes are not all text, and
//!    the lengths look like real ones (see [`Detector::finish`]). [`CANDIDATES`] are tried in
//!    order, each also as `inclusive`.
//! 3. `line` when the whole direction is UTF-8 text (no control characters but tab, CR, LF and
//!    form feed) with at least one LF.
//! 4. Otherwise nothing fits: the message boundaries are **unknown**, and [`Tried`] says where
//!    each framing failed.
//!
//! A direction can be decided earlier, on the evidence so far ([`Detector::decide_now`]): when
//! a capture gap hides bytes (no framing can be checked across it), or when
//! [`MAX_PENDING_SEGMENTS`] data segments or [`MAX_PENDING_MESSAGES`] messages wait for the
//! choice (memory stays bounded on a long connection). A message still arriving then counts
//! by its prefix. A framing chosen early that the later bytes contradict reports a framing
//! error at that point.

use serde::Serialize;

use crate::app::http::detect::{self as http_detect, MAX_DETECT_LINE, Start};
use crate::framing::length_prefix::{LengthPrefixFramer, Progress};
use crate::framing::spec::{Endian, FramingSpec, LengthPrefix, PrefixWidth};
use crate::framing::{Framer, FramerOutput, LineFramer, grouped, hex_and_text};

/// Length prefixes tried, in order of preference (each also as `inclusive`, right after it).
pub const CANDIDATES: [(PrefixWidth, Endian); 7] = [
    (PrefixWidth::Four, Endian::Big),
    (PrefixWidth::Two, Endian::Big),
    (PrefixWidth::Four, Endian::Little),
    (PrefixWidth::Two, Endian::Little),
    (PrefixWidth::One, Endian::Big),
    (PrefixWidth::Eight, Endian::Big),
    (PrefixWidth::Eight, Endian::Little),
];

/// Most message boundaries all candidates of one direction hold before the choice is forced.
pub const MAX_PENDING_MESSAGES: usize = 8192;

/// Most data segments of one direction waiting for the choice before it is forced (the sticky
/// analysis checks this; each is about 50 bytes).
pub const MAX_PENDING_SEGMENTS: usize = 8192;

/// First bytes of a direction kept to show them when no framing fits.
pub const FIRST_BYTES: usize = 32;

/// Bytes of a direction held as they are before the candidates start: a direction that ends
/// (or is decided) within them is judged on them at that point, so a connection that sent a
/// few bytes and stays open costs these bytes, not a framer per candidate (issue 15: 500,000
/// open connections).
pub const EARLY_BYTES: usize = 512;

/// A body seen for longer than this (the largest 2-byte length) lets a message still
/// arriving count as evidence for its prefix.
const LONG_BODY: u64 = 65_535;

/// Messages a length-prefix candidate reads before its lengths are judged on the way: past
/// it, a candidate whose messages are mostly empty, or (1-byte prefixes) whose lengths are as
/// long as random bytes give, is dropped — it could not be chosen at the end either, and its
/// boundaries would only take memory.
pub const PRUNE_AFTER: u64 = 256;

/// Bits of evidence a length prefix must gather when its last message is still arriving.
const MIN_EVIDENCE_BITS: f64 = 32.0;
/// Average bits of evidence per message a length prefix must have when its last message is
/// still arriving. Random bytes give about 1.44 bits per message whatever the width.
const MIN_MEAN_EVIDENCE_BITS: f64 = 4.0;
/// Average bits of evidence per message a `len:1` reading must have even when it ends exactly.
const MIN_MEAN_EVIDENCE_BITS_ONE_BYTE: f64 = 2.5;

/// One framing `auto` tried and why it was not chosen.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tried {
    /// The framing (`len:4`, `line`, `http`, ...).
    pub framing: String,
    /// Stream offset where the bytes contradicted it, when they did.
    pub offset: Option<u64>,
    /// Why it does not fit, in the student's terms.
    pub reason: String,
}

/// What `auto` chose for a direction.
pub enum Choice {
    /// No byte: nothing to frame.
    Empty,
    /// HTTP (the caller frames with its conversation framer, replaying [`Detector::replay`]).
    Http,
    /// A generic framer that has seen every byte so far (and the end, when the choice was made
    /// there), with the messages and issues it found meanwhile.
    Framer {
        /// The framing chosen.
        spec: FramingSpec,
        /// The framer, to be fed the next bytes.
        framer: Box<dyn Framer>,
        /// Its messages and issues so far, in stream order.
        found: FramerOutput,
    },
    /// Nothing fits: the message boundaries are unknown.
    Unknown {
        /// Each framing tried, in order, and why it does not fit.
        tried: Vec<Tried>,
    },
}

impl Choice {
    /// The framing spec of the choice (`none` when nothing fits or nothing was sent).
    pub fn spec(&self) -> FramingSpec {
        match self {
            Choice::Http => FramingSpec::Http,
            Choice::Framer { spec, .. } => spec.clone(),
            Choice::Empty | Choice::Unknown { .. } => FramingSpec::None,
        }
    }
}

/// Messages counted by a length-prefix candidate, with the evidence their lengths give.
#[derive(Debug, Clone, Copy, Default)]
struct Evidence {
    /// Messages read.
    messages: u64,
    /// Of them, with a non-empty payload.
    with_payload: u64,
    /// Sum over them of `8·width − log2(payload + 1)`: a short length in a wide prefix is
    /// unlikely by chance.
    bits: f64,
}

impl Evidence {
    fn add(&mut self, width: u64, payload: u64) {
        self.messages += 1;
        if payload > 0 {
            self.with_payload += 1;
        }
        self.bits += (8 * width) as f64 - ((payload as f64) + 1.0).log2();
    }

    /// Why these messages, ending exactly at the end of what was seen, do not look like a
    /// length-prefixed stream (`None`: they do). `whole` says the bytes seen are the whole
    /// direction.
    fn exact_objection(&self, width: u64, whole: bool) -> Option<String> {
        if self.messages == 0 {
            return Some("no whole message".into());
        }
        // Most messages must carry a payload: a 2-byte prefix read as `len:1`, or an 8-byte
        // one read as `len:4`, gives an empty message before each real one.
        if self.with_payload * 2 <= self.messages {
            return Some(format!(
                "{} of its {} messages are empty (a wider prefix read in pieces)",
                grouped(self.messages - self.with_payload),
                grouped(self.messages)
            ));
        }
        if width == 1 {
            // A 1-byte prefix chains through any bytes and lands exactly on the end of random
            // bytes about once in 128 tries: ask for short messages too (payloads averaging
            // under about 44 bytes), which random bytes rarely give.
            if self.with_payload < 2 {
                return Some("a 1-byte length needs at least 2 messages to be believed".into());
            }
            if self.bits < MIN_MEAN_EVIDENCE_BITS_ONE_BYTE * self.messages as f64 {
                return Some(
                    "its lengths are as long as random bytes give, not like real messages".into(),
                );
            }
            return None;
        }
        if self.with_payload >= 2 || (self.messages == 1 && whole) {
            None
        } else {
            Some("a single message before the direction goes on is not enough evidence".into())
        }
    }

    /// Why a candidate that has read [`PRUNE_AFTER`] messages or more can be dropped now.
    fn hopeless(&self, width: u64) -> Option<String> {
        if self.messages < PRUNE_AFTER {
            return None;
        }
        if self.with_payload * 2 <= self.messages {
            return Some(format!(
                "{} of its first {} messages are empty",
                grouped(self.messages - self.with_payload),
                grouped(self.messages)
            ));
        }
        // The bar of a 1-byte prefix at the end, with a margin for the messages to come.
        if width == 1 && self.bits < 2.0 * self.messages as f64 {
            return Some(
                "its lengths are as long as random bytes give, not like real messages".into(),
            );
        }
        None
    }

    /// Why these messages, the last of them still arriving, are not enough evidence.
    fn partial_objection(&self) -> Option<String> {
        if self.with_payload * 2 <= self.messages {
            return Some(format!(
                "{} of its {} messages are empty",
                grouped(self.messages - self.with_payload),
                grouped(self.messages)
            ));
        }
        if self.with_payload < 2
            || self.bits < MIN_EVIDENCE_BITS
            || self.bits < MIN_MEAN_EVIDENCE_BITS * self.messages as f64
        {
            return Some("not enough messages with plausible lengths yet".into());
        }
        None
    }
}

/// A length prefix still consistent with the bytes.
struct LivePrefix {
    framer: LengthPrefixFramer,
    found: FramerOutput,
    evidence: Evidence,
}

/// One length-prefix candidate.
enum PrefixCandidate {
    Live(Box<LivePrefix>),
    /// Contradicted by the bytes (or given to the caller).
    Out(Tried),
}

/// Tracks whether the bytes so far are UTF-8 text without control characters (tab, LF, CR and
/// form feed allowed), across feeds, keeping the bytes of a character cut between two feeds.
#[derive(Debug, Clone, Default)]
struct Text {
    /// Why the bytes are not text, once they are not.
    not_text: Option<Tried>,
    /// LF bytes seen.
    line_feeds: u64,
    /// Bytes of a character not finished yet.
    carry: [u8; 4],
    carry_len: usize,
}

impl Text {
    fn fail(&mut self, offset: u64, why: String) {
        if self.not_text.is_none() {
            self.not_text = Some(Tried {
                framing: "line".into(),
                offset: Some(offset),
                reason: why,
            });
        }
    }

    /// Checks the characters of `text`, which starts at stream offset `at`.
    fn check(&mut self, text: &str, at: u64) {
        for (i, c) in text.char_indices() {
            if c == '\n' {
                self.line_feeds += 1;
            } else if c.is_control() && !matches!(c, '\t' | '\r' | '\x0c') {
                self.fail(
                    at + i as u64,
                    format!(
                        "not text: a control character (U+{:04X}) at offset {}",
                        u32::from(c),
                        grouped(at + i as u64)
                    ),
                );
                return;
            }
        }
    }

    fn feed(&mut self, offset: u64, data: &[u8]) {
        if self.not_text.is_some() {
            return;
        }
        let mut data = data;
        let mut at = offset;
        if self.carry_len > 0 {
            let need = utf8_len(self.carry[0]);
            while self.carry_len < need {
                let Some((&b, rest)) = data.split_first() else {
                    return;
                };
                if let Some(slot) = self.carry.get_mut(self.carry_len) {
                    *slot = b;
                }
                self.carry_len += 1;
                data = rest;
                at += 1;
            }
            let start = at - self.carry_len as u64;
            let carry = self.carry;
            let carried = carry.get(..need).unwrap_or_default();
            self.carry_len = 0;
            match std::str::from_utf8(carried) {
                Ok(c) => self.check(c, start),
                Err(_) => return self.fail(start, bad_utf8(start, carried)),
            }
            if self.not_text.is_some() {
                return;
            }
        }
        match std::str::from_utf8(data) {
            Ok(text) => self.check(text, at),
            Err(e) => {
                let (valid, rest) = data.split_at(e.valid_up_to());
                self.check(std::str::from_utf8(valid).unwrap_or_default(), at);
                let bad_at = at + valid.len() as u64;
                if e.error_len().is_some() || rest.len() > 3 {
                    self.fail(bad_at, bad_utf8(bad_at, rest));
                } else if self.not_text.is_none() {
                    self.carry_len = rest.len();
                    if let Some(slot) = self.carry.get_mut(..rest.len()) {
                        slot.copy_from_slice(rest);
                    }
                }
            }
        }
    }

    /// The direction is over: a character still cut is not text.
    fn finish(&mut self, end: u64) {
        if self.carry_len > 0 {
            let start = end.saturating_sub(self.carry_len as u64);
            let why = format!(
                "not text: the bytes end inside a UTF-8 character at offset {}",
                grouped(start)
            );
            self.fail(start, why);
        }
    }
}

/// Length of the UTF-8 sequence that `lead` starts (1 for a byte that starts none).
fn utf8_len(lead: u8) -> usize {
    match lead {
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf7 => 4,
        _ => 1,
    }
}

fn bad_utf8(offset: u64, bytes: &[u8]) -> String {
    let shown = bytes.get(..bytes.len().min(4)).unwrap_or_default();
    format!(
        "not text: bytes that are not UTF-8 at offset {} ({})",
        grouped(offset),
        hex_and_text(shown)
    )
}

/// Chooses the framing of one direction incrementally (see the module docs).
pub struct Detector {
    /// Bytes seen (the stream offset after the last one).
    seen: u64,
    /// The first [`FIRST_BYTES`] bytes.
    first: Vec<u8>,
    /// Every byte so far while the HTTP detector still needs more (at most
    /// [`MAX_DETECT_LINE`] + 1): the start line, and what HTTP framing replays.
    probe: Vec<u8>,
    /// What the HTTP detector said.
    http: Start,
    /// The bytes so far while they are at most [`EARLY_BYTES`] and the candidates have not
    /// started (then empty for good).
    early: Vec<u8>,
    /// Stream offset of the first byte of `early`.
    early_at: u64,
    /// Whether the candidates run (`text`, `line` and `prefixes` hold their state).
    started: bool,
    text: Text,
    line: Option<(LineFramer, FramerOutput)>,
    prefixes: Vec<(LengthPrefix, PrefixCandidate)>,
}

impl Default for Detector {
    fn default() -> Self {
        Detector::new()
    }
}

impl Detector {
    /// A detector that has seen nothing.
    pub fn new() -> Self {
        Detector {
            seen: 0,
            first: Vec::new(),
            probe: Vec::new(),
            http: Start::NeedMore,
            early: Vec::new(),
            early_at: 0,
            started: false,
            text: Text::default(),
            line: None,
            prefixes: Vec::new(),
        }
    }

    /// Leaves the early stage: the early bytes become the first bytes and the HTTP probe, and
    /// the candidates (every length prefix, `line`) start on them.
    fn start(&mut self) {
        if self.started {
            return;
        }
        self.started = true;
        self.line = Some((LineFramer::new(), FramerOutput::default()));
        self.prefixes = CANDIDATES
            .iter()
            .flat_map(|&(width, endian)| {
                [false, true].map(|inclusive| LengthPrefix {
                    width,
                    endian,
                    inclusive,
                })
            })
            .map(|prefix| {
                let live = LivePrefix {
                    framer: LengthPrefixFramer::new(prefix),
                    found: FramerOutput::default(),
                    evidence: Evidence::default(),
                };
                (prefix, PrefixCandidate::Live(Box::new(live)))
            })
            .collect();
        let early = std::mem::take(&mut self.early);
        self.first = early
            .get(..FIRST_BYTES.min(early.len()))
            .unwrap_or_default()
            .to_vec();
        if self.http == Start::NeedMore {
            self.probe.clone_from(&early);
        }
        if !early.is_empty() && self.http != Start::Http {
            self.feed_candidates(self.early_at, &early);
        }
    }

    /// Bytes seen so far.
    pub fn seen(&self) -> u64 {
        self.seen
    }

    /// True once the direction started like an HTTP/1.x message: choose HTTP now.
    pub fn is_http(&self) -> bool {
        self.http == Start::Http
    }

    /// Every byte seen so far, while they are still held (at most [`MAX_DETECT_LINE`] + 1,
    /// and only while they might start HTTP): what HTTP framing replays.
    pub fn replay(&self) -> Option<&[u8]> {
        let held = if self.started {
            &self.probe
        } else {
            &self.early
        };
        (self.seen == held.len() as u64 && self.http != Start::NotHttp).then_some(held.as_slice())
    }

    /// Message boundaries the candidates hold while the choice is open.
    pub fn pending_messages(&self) -> usize {
        let prefixes: usize = self
            .prefixes
            .iter()
            .map(|(_, c)| match c {
                PrefixCandidate::Live(live) => live.found.messages.len(),
                PrefixCandidate::Out(_) => 0,
            })
            .sum();
        prefixes + self.line.as_ref().map_or(0, |(_, out)| out.messages.len())
    }

    /// True when no framing can fit any more (not text, every length prefix contradicted):
    /// waiting for more bytes cannot change the answer.
    pub fn hopeless(&self) -> bool {
        // Before the candidates start, the early bytes are judged when the direction ends
        // or goes past them.
        self.started
            && self.text.not_text.is_some()
            && self
                .prefixes
                .iter()
                .all(|(_, c)| matches!(c, PrefixCandidate::Out(_)))
    }

    /// The first bytes of the direction (at most [`FIRST_BYTES`]).
    pub fn first_bytes(&self) -> &[u8] {
        if self.started {
            &self.first
        } else {
            self.early
                .get(..FIRST_BYTES.min(self.early.len()))
                .unwrap_or_default()
        }
    }

    /// The next in-order bytes, at stream offset `offset` (the end of the previous ones).
    pub fn feed(&mut self, offset: u64, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if !self.started {
            if self.early.is_empty() {
                self.early_at = offset;
            }
            if self.early.len() + bytes.len() <= EARLY_BYTES {
                // The early bytes are the first bytes and the HTTP probe as well.
                self.early.extend_from_slice(bytes);
                self.seen = offset.saturating_add(bytes.len() as u64);
                if self.http == Start::NeedMore {
                    self.http = http_detect::classify(&self.early);
                }
                return;
            }
            self.start();
        }
        let room = FIRST_BYTES.saturating_sub(self.first.len());
        self.first
            .extend_from_slice(bytes.get(..room.min(bytes.len())).unwrap_or_default());
        if self.http == Start::NeedMore {
            let room = (MAX_DETECT_LINE + 1).saturating_sub(self.probe.len());
            if bytes.len() <= room {
                self.probe.extend_from_slice(bytes);
            }
            self.http = if bytes.len() > room {
                Start::NotHttp
            } else {
                http_detect::classify(&self.probe)
            };
            if self.http == Start::NotHttp {
                self.probe = Vec::new();
            }
        }
        self.seen = offset.saturating_add(bytes.len() as u64);
        if self.http == Start::Http {
            // Chosen: the caller replays the probe into HTTP framing; the other candidates
            // are not needed any more.
            return;
        }
        self.feed_candidates(offset, bytes);
    }

    /// Feeds the next in-order bytes to every candidate still in the running.
    fn feed_candidates(&mut self, offset: u64, bytes: &[u8]) {
        self.text.feed(offset, bytes);
        if self.text.not_text.is_some() {
            self.line = None;
        } else if let Some((framer, out)) = &mut self.line {
            framer.feed(offset, bytes, out);
        }
        for (prefix, candidate) in &mut self.prefixes {
            let PrefixCandidate::Live(live) = candidate else {
                continue;
            };
            let before = live.found.messages.len();
            live.framer.feed(offset, bytes, &mut live.found);
            let width = prefix.width.bytes_u64();
            for m in live.found.messages.get(before..).unwrap_or_default() {
                let payload = (m.end - m.start).saturating_sub(width);
                live.evidence.add(width, payload);
            }
            if let Some(issue) = live.found.issues.first() {
                *candidate = PrefixCandidate::Out(Tried {
                    framing: prefix.to_string(),
                    offset: Some(issue.offset),
                    reason: failure(&live.evidence, &issue.reason),
                });
            } else if let Some(why) = live.evidence.hopeless(width) {
                *candidate = PrefixCandidate::Out(Tried {
                    framing: prefix.to_string(),
                    offset: None,
                    reason: exact_reason(&live.evidence, &why),
                });
            }
        }
    }

    /// The direction is over at stream offset `end` (FIN, RST or end of capture) with every
    /// byte seen: the final choice (see the module docs). The chosen framer has been told
    /// the end.
    pub fn finish(mut self, end: u64) -> Choice {
        if self.seen == 0 {
            return Choice::Empty;
        }
        if self.is_http() {
            return Choice::Http;
        }
        self.start();
        self.text.finish(end);
        let mut tried = vec![self.http_tried()];
        for (prefix, candidate) in &mut self.prefixes {
            let framing = prefix.to_string();
            let PrefixCandidate::Live(live) = candidate else {
                continue;
            };
            live.framer.finish(end, &mut live.found);
            let objection = match live.found.issues.first() {
                // The last message runs past the end.
                Some(issue) => Some((Some(issue.offset), failure(&live.evidence, &issue.reason))),
                None if self.text.not_text.is_none() => {
                    Some((None, text_objection(&live.evidence)))
                }
                None => live
                    .evidence
                    .exact_objection(prefix.width.bytes_u64(), true)
                    .map(|why| (None, exact_reason(&live.evidence, &why))),
            };
            if let Some((offset, reason)) = objection {
                *candidate = PrefixCandidate::Out(Tried {
                    framing,
                    offset,
                    reason,
                });
            }
        }
        if self.text.not_text.is_none() {
            if self.text.line_feeds > 0
                && let Some((mut framer, mut found)) = self.line.take()
            {
                framer.finish(end, &mut found);
                return Choice::Framer {
                    spec: FramingSpec::Line,
                    framer: Box::new(framer),
                    found,
                };
            }
            tried.push(Tried {
                framing: "line".into(),
                offset: None,
                reason: format!(
                    "text, but no line feed (LF) in its {} bytes: nothing marks where a message ends",
                    grouped(self.seen)
                ),
            });
        } else if let Some(t) = &self.text.not_text {
            tried.push(t.clone());
        }
        self.choose_prefix(tried)
    }

    /// Chooses now, on the bytes seen so far (a capture gap follows, or too much waits for
    /// the choice): the chosen framer has not been told any end.
    pub fn decide_now(mut self) -> Choice {
        if self.seen == 0 {
            return Choice::Empty;
        }
        if self.is_http() {
            return Choice::Http;
        }
        self.start();
        let mut tried = vec![self.http_tried()];
        if self.text.not_text.is_none() {
            if self.text.line_feeds > 0
                && let Some((framer, found)) = self.line.take()
            {
                return Choice::Framer {
                    spec: FramingSpec::Line,
                    framer: Box::new(framer),
                    found,
                };
            }
            tried.push(Tried {
                framing: "line".into(),
                offset: None,
                reason: format!(
                    "text, but no line feed (LF) in its first {} bytes",
                    grouped(self.seen)
                ),
            });
        } else if let Some(t) = &self.text.not_text {
            tried.push(t.clone());
        }
        let text = self.text.not_text.is_none();
        for (prefix, candidate) in &mut self.prefixes {
            let PrefixCandidate::Live(live) = candidate else {
                continue;
            };
            let width = prefix.width.bytes_u64();
            let objection = if text {
                Some(text_objection(&live.evidence))
            } else {
                match live.framer.progress() {
                    // Ending on a message boundary by chance is likely after a few long
                    // random "messages": ask for plausible lengths too.
                    Progress::Boundary => live.evidence.exact_objection(width, false).or_else(|| {
                        (live.evidence.bits < MIN_MEAN_EVIDENCE_BITS * live.evidence.messages as f64)
                            .then(|| "its lengths are as long as random bytes give, not like real messages".to_string())
                    }),
                    // A message still arriving counts by its prefix once its body has run
                    // longer than 1- and 2-byte lengths can announce: random bytes read as a
                    // length rarely announce so much and then stay consistent.
                    Progress::InBody { start, payload, .. }
                        if self.seen.saturating_sub(start + width) > LONG_BODY =>
                    {
                        let mut with_current = live.evidence;
                        with_current.add(width, payload);
                        with_current.partial_objection()
                    }
                    Progress::InBody { .. } => live.evidence.partial_objection(),
                    Progress::InPrefix { .. } | Progress::Stopped => {
                        live.evidence.partial_objection()
                    }
                }
                .map(|why| exact_reason(&live.evidence, &why))
            };
            if let Some(reason) = objection {
                *candidate = PrefixCandidate::Out(Tried {
                    framing: prefix.to_string(),
                    offset: None,
                    reason,
                });
            }
        }
        self.choose_prefix(tried)
    }

    /// The first live length prefix in order of preference, or nothing fits.
    fn choose_prefix(self, mut tried: Vec<Tried>) -> Choice {
        let mut chosen = None;
        for (prefix, candidate) in self.prefixes {
            match candidate {
                PrefixCandidate::Live(live) if chosen.is_none() => {
                    chosen = Some((prefix, live));
                }
                PrefixCandidate::Live(_) => {}
                PrefixCandidate::Out(t) => tried.push(t),
            }
        }
        match chosen {
            Some((prefix, live)) => {
                let LivePrefix { framer, found, .. } = *live;
                Choice::Framer {
                    spec: FramingSpec::LengthPrefix(prefix),
                    framer: Box::new(framer),
                    found,
                }
            }
            None => Choice::Unknown { tried },
        }
    }

    fn http_tried(&self) -> Tried {
        Tried {
            framing: "http".into(),
            offset: Some(0),
            reason: "does not start with an HTTP/1.x request or status line".into(),
        }
    }
}

/// A framer's issue, after the messages that fitted before it.
fn failure(evidence: &Evidence, reason: &str) -> String {
    match evidence.messages {
        0 => reason.to_string(),
        1 => format!("message 1 fits, then {reason}"),
        n => format!("messages 1 to {} fit, then {reason}", grouped(n)),
    }
}

fn text_objection(evidence: &Evidence) -> String {
    format!(
        "reads the bytes as {} {}, but they are text: a length prefix is binary",
        grouped(evidence.messages),
        crate::units::noun(evidence.messages, "message", "messages")
    )
}

fn exact_reason(evidence: &Evidence, why: &str) -> String {
    format!(
        "reads the bytes as {} {}, but {why}",
        grouped(evidence.messages),
        crate::units::noun(evidence.messages, "message", "messages")
    )
}

/// Guesses the framing of one direction from `bytes`, its beginning; `total_known` says they
/// are the whole direction. The same rule as the sticky analysis applies incrementally
/// (see the module docs), in one call.
///
/// ```
/// use pcaplab::analysis::sticky::auto::detect;
/// let dns_over_tcp = [0x00, 0x02, 0xab, 0xcd, 0x00, 0x01, 0xef];
/// assert_eq!(detect(&dns_over_tcp, true).to_string(), "len:2");
/// assert_eq!(detect(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", false).to_string(), "http");
/// assert_eq!(detect(b"hello\nworld\n", true).to_string(), "line");
/// assert_eq!(detect(b"msg0msg1msg2", true).to_string(), "none");
/// ```
pub fn detect(bytes: &[u8], total_known: bool) -> FramingSpec {
    choose(bytes, total_known).spec()
}

/// [`detect`] with the whole answer (what each framing gave when nothing fits).
pub fn choose(bytes: &[u8], total_known: bool) -> Choice {
    let mut d = Detector::new();
    d.feed(0, bytes);
    if total_known {
        d.finish(bytes.len() as u64)
    } else {
        d.decide_now()
    }
}

/// Guesses the framing of both directions of a stream: each is detected on its own, except that
/// HTTP in either direction means HTTP in both (a response is framed by its request).
///
/// Returns `(client_to_server, server_to_client)`.
pub fn detect_pair(
    client_to_server: &[u8],
    client_to_server_total_known: bool,
    server_to_client: &[u8],
    server_to_client_total_known: bool,
) -> (FramingSpec, FramingSpec) {
    let c2s = detect(client_to_server, client_to_server_total_known);
    let s2c = detect(server_to_client, server_to_client_total_known);
    if c2s == FramingSpec::Http || s2c == FramingSpec::Http {
        return (FramingSpec::Http, FramingSpec::Http);
    }
    (c2s, s2c)
}

/// True when `bytes` begin an HTTP/1.x message ([`http_detect::classify`]); bytes still too
/// few to tell are not HTTP here.
pub fn is_http(bytes: &[u8]) -> bool {
    http_detect::classify(bytes) == Start::Http
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str) -> FramingSpec {
        text.parse().unwrap()
    }

    /// Encodes `payloads` with `prefix`.
    fn encode(prefix: &LengthPrefix, payloads: &[&[u8]]) -> Vec<u8> {
        let width = prefix.width.bytes() as u64;
        let mut out = Vec::new();
        for p in payloads {
            let len = p.len() as u64 + if prefix.inclusive { width } else { 0 };
            out.extend(prefix.encode(len));
            out.extend_from_slice(p);
        }
        out
    }

    /// Deterministic pseudo-random bytes (xorshift64*), so the noise tests cannot flake.
    fn noise(seed: u64, len: usize) -> Vec<u8> {
        let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        (0..len)
            .map(|_| {
                state ^= state >> 12;
                state ^= state << 25;
                state ^= state >> 27;
                (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8
            })
            .collect()
    }

    #[test]
    fn four_byte_big_endian_prefix() {
        let bytes = [
            0x00, 0x00, 0x00, 0x05, // length 5
            b'h', b'e', b'l', b'l', b'o', // payload
            0x00, 0x00, 0x00, 0x03, // length 3
            0x01, 0x02, 0x03, // payload
        ];
        assert_eq!(detect(&bytes, true), spec("len:4"));
        assert_eq!(detect(&bytes, false), spec("len:4"));
    }

    #[test]
    fn dns_over_tcp_two_byte_prefix() {
        // RFC 1035 §4.2.2: each DNS message is preceded by a 2-byte big-endian length.
        let query = [
            0x00, 0x1d, // length 29
            0x12, 0x34, // ID
            0x01, 0x00, // flags: RD
            0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // QD=1, AN=NS=AR=0
            0x07, b'e', b'x', b'a', b'm', b'p', b'l', b'e', // "example"
            0x03, b'c', b'o', b'm', 0x00, // "com", root
            0x00, 0x01, 0x00, 0x01, // QTYPE A, QCLASS IN
        ];
        assert_eq!(query.len(), 31);
        let mut two = query.to_vec();
        two.extend_from_slice(&query);
        assert_eq!(detect(&two, true), spec("len:2"));
        // One query alone covering the whole direction.
        assert_eq!(detect(&query, true), spec("len:2"));
        // One query alone, direction not over: not enough evidence.
        assert_eq!(detect(&query, false), spec("none"));
    }

    #[test]
    fn other_prefix_shapes_are_found() {
        let payloads: [&[u8]; 3] = [b"\x01abc", b"\x02defgh", b"\x03ij"];
        for text in [
            "len:4:le",
            "len:2:le",
            "len:2:inclusive",
            "len:4:inclusive",
            "len:2:le:inclusive",
            "len:8",
            "len:8:le",
            "len:1",
        ] {
            let FramingSpec::LengthPrefix(prefix) = spec(text) else {
                unreachable!()
            };
            let bytes = encode(&prefix, &payloads);
            assert_eq!(detect(&bytes, true).to_string(), text, "{bytes:02x?}");
        }
    }

    #[test]
    fn long_streams_and_early_choices() {
        // 200 messages of 500 bytes behind a 4-byte prefix: 100 KB, seen whole.
        let prefix = LengthPrefix::new(PrefixWidth::Four);
        let payload = vec![0x55u8; 500];
        let payloads: Vec<&[u8]> = (0..200).map(|_| payload.as_slice()).collect();
        let bytes = encode(&prefix, &payloads);
        assert_eq!(detect(&bytes, true), spec("len:4"));
        // The same, chosen early (a capture gap after 10,000 bytes, mid-message).
        assert_eq!(detect(&bytes[..10_000], false), spec("len:4"));
        // A 2-byte prefix with 3000-byte messages, chosen early mid-message.
        let prefix = LengthPrefix::new(PrefixWidth::Two);
        let payload = vec![0xaau8; 3000];
        let payloads: Vec<&[u8]> = (0..20).map(|_| payload.as_slice()).collect();
        let bytes = encode(&prefix, &payloads);
        assert_eq!(detect(&bytes[..40_000], false), spec("len:2"));
    }

    #[test]
    fn issue_11_a_message_larger_than_any_look_ahead_keeps_its_prefix() {
        // course-filexfer-128k's shape: `struct.pack('!I', n)` + a file name, then
        // `struct.pack('!I', n)` + 128 KiB of file. A 2-byte reading chains through the first
        // 64 KiB but not to the end; only len:4 ends exactly where the direction ends.
        let prefix = LengthPrefix::new(PrefixWidth::Four);
        let file = noise(7, 128 * 1024);
        let bytes = encode(&prefix, &[b"big.bin", &file]);
        assert_eq!(detect(&bytes, true), spec("len:4"));
        // Fed in 1,448-byte pieces, as segments arrive: the same choice and boundaries.
        let mut d = Detector::new();
        for (i, piece) in bytes.chunks(1448).enumerate() {
            d.feed((i * 1448) as u64, piece);
            assert!(d.pending_messages() <= 2 * PRUNE_AFTER as usize + 4);
        }
        let Choice::Framer {
            spec: chosen,
            found,
            ..
        } = d.finish(bytes.len() as u64)
        else {
            panic!("no framing")
        };
        assert_eq!(chosen, spec("len:4"));
        let ranges: Vec<(u64, u64)> = found.messages.iter().map(|m| (m.start, m.end)).collect();
        assert_eq!(ranges, vec![(0, 11), (11, bytes.len() as u64)]);
        assert!(found.issues.is_empty());
        // One message of 200,000 bytes (split-200k's shape) covering the whole direction.
        let one = encode(&prefix, &[&noise(3, 200_000)]);
        assert_eq!(detect(&one, true), spec("len:4"));
    }

    #[test]
    fn issue_12_text_without_delimiters_fits_nothing_and_says_where_each_failed() {
        let Choice::Unknown { tried } = choose(b"msg0msg1msg2msg3", true) else {
            panic!("a framing was chosen")
        };
        let of = |f: &str| tried.iter().find(|t| t.framing == f).unwrap();
        assert_eq!(of("http").offset, Some(0));
        assert!(
            of("line").reason.contains("no line feed"),
            "{:?}",
            of("line")
        );
        let len4 = of("len:4");
        assert_eq!(len4.offset, Some(0));
        assert!(
            len4.reason
                .contains("6d 73 67 30 (\"msg0\") — reads as a length of 1,836,279,600"),
            "{}",
            len4.reason
        );
        // Every candidate is accounted for: http, line and the 14 length prefixes.
        assert_eq!(tried.len(), 16);
    }

    #[test]
    fn feeding_in_pieces_chooses_like_feeding_at_once() {
        let prefix = LengthPrefix::new(PrefixWidth::Two);
        let payloads: Vec<Vec<u8>> = (0..30).map(|i| noise(i, (i * 37 % 300) as usize)).collect();
        let refs: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
        let cases: [Vec<u8>; 4] = [
            encode(&prefix, &refs),
            "第一行\n第二行\nthird\n".as_bytes().to_vec(),
            noise(99, 5000),
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        ];
        for bytes in cases {
            let whole = detect(&bytes, true);
            for step in [1, 2, 3, 7, 100, 1448] {
                let mut d = Detector::new();
                for (i, piece) in bytes.chunks(step).enumerate() {
                    d.feed((i * step) as u64, piece);
                }
                let got = if d.is_http() {
                    FramingSpec::Http
                } else {
                    d.finish(bytes.len() as u64).spec()
                };
                assert_eq!(got, whole, "step {step}");
            }
        }
    }

    #[test]
    fn binary_that_no_framing_fits_is_given_up_early() {
        // Zeros: not text, every inclusive length is below its width, and every exclusive one
        // reads only empty messages — dropped after PRUNE_AFTER of them, long before the end.
        let mut d = Detector::new();
        let zeros = [0u8; 512];
        let mut fed = 0;
        while !d.hopeless() {
            d.feed(fed, &zeros);
            fed += zeros.len() as u64;
            assert!(fed <= 8 * PRUNE_AFTER, "still hoping after {fed} bytes");
        }
        assert_eq!(d.pending_messages(), 0);
        let Choice::Unknown { tried } = d.decide_now() else {
            panic!("a framing was chosen")
        };
        let len4 = tried.iter().find(|t| t.framing == "len:4").unwrap();
        assert!(
            len4.reason
                .contains("256 of its first 256 messages are empty"),
            "{len4:?}"
        );
        // Random bytes keep 1- and 2-byte readings alive, but 1-byte ones are pruned.
        let mut d = Detector::new();
        d.feed(0, &noise(11, 200_000));
        assert!(!d.hopeless());
        assert!(d.pending_messages() < 2 * PRUNE_AFTER as usize);
    }

    #[test]
    fn http_request_and_response() {
        assert_eq!(
            detect(b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n", false),
            spec("http")
        );
        assert_eq!(detect(b"M-SEARCH * HTTP/1.1\r\n", false), spec("http"));
        assert_eq!(detect(b"POST /a HTTP/1.0\n", true), spec("http"));
        assert_eq!(detect(b"HTTP/1.1 200 OK\r\n", true), spec("http"));
        assert_eq!(detect(b"HTTP/1.0 404", false), spec("http"));
        // Not HTTP start lines: fall through to line.
        assert_eq!(detect(b"HTTP/1.1 20 OK\r\n", true), spec("line"));
        assert_eq!(detect(b"get me a coffee\r\n", true), spec("line"));
        assert_eq!(detect(b"CCM_POST / HTTP/1.\n", true), spec("line"));
    }

    #[test]
    fn issue_10_auto_uses_the_same_http_detector_as_the_http_command() {
        // Before issue 10, `auto` had its own check (uppercase methods, a whole line) and
        // disagreed with `http` on these; now both ask `app::http::detect`.
        let cases: [&[u8]; 6] = [
            b"get / HTTP/1.1\r\n", // RFC 9112 §3: a case-sensitive token, an extension method
            b"GET /index.html\r\n", // a registered method: the sender meant HTTP
            b"GET / HTTP/2.0\r\n",
            b"GET  / HTTP/1.1\r\n",
            b"GET /index.html HTTP/1.1", // the line is not finished yet
            b"PROPFIND /dav HTTP/1.1\r\n",
        ];
        for bytes in cases {
            let http = crate::app::http::looks_like_http_start(bytes);
            assert!(http, "{bytes:?}");
            assert_eq!(detect(bytes, true), spec("http"), "{bytes:?}");
            assert_eq!(detect(bytes, false), spec("http"), "{bytes:?}");
        }
        for bytes in [&b"HELO example.org\r\n"[..], b"\x00\x00\x00\x02hi"] {
            assert!(!crate::app::http::looks_like_http_start(bytes));
            assert_ne!(detect(bytes, true), spec("http"));
        }
    }

    #[test]
    fn http_in_one_direction_means_http_in_both() {
        let request = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
        let binary = [0x00, 0x00, 0x00, 0x01, 0xff, 0x00, 0x00, 0x00, 0x01, 0xee];
        assert_eq!(
            detect_pair(request, false, &binary, true),
            (spec("http"), spec("http"))
        );
        assert_eq!(
            detect_pair(b"", true, b"HTTP/1.1 200 OK\r\n", false),
            (spec("http"), spec("http"))
        );
        assert_eq!(
            detect_pair(b"hi\n", true, &binary, true),
            (spec("line"), spec("len:4"))
        );
    }

    #[test]
    fn text_lines() {
        assert_eq!(
            detect(b"HELO example.org\r\nMAIL FROM:<a@b>\r\n", true),
            spec("line")
        );
        assert_eq!(detect("héllo wörld\n".as_bytes(), true), spec("line"));
        // UTF-8 cut by the look-ahead in the middle of a character.
        let cut = "ok\nnaïve".as_bytes();
        assert_eq!(detect(&cut[..cut.len() - 3], false), spec("line"));
        assert_eq!(detect(&cut[..cut.len() - 3], true), spec("none"));
        // Text without any newline is not line-framed.
        assert_eq!(detect(b"just some text", true), spec("none"));
        // Text whose first bytes would chain as a 1-byte prefix is still text.
        assert_eq!(detect(b"\n123456789\n", true), spec("line"));
    }

    #[test]
    fn binary_noise_is_none() {
        for seed in 1..=20 {
            for len in [10, 100, 1000, 70_000] {
                let bytes = noise(seed, len);
                assert_eq!(
                    detect(&bytes, false),
                    spec("none"),
                    "seed {seed}, {len} bytes"
                );
            }
        }
        assert_eq!(detect(&[0u8; 64], true), spec("none"));
        assert_eq!(detect(&[0xffu8; 64], true), spec("none"));
        assert_eq!(detect(b"", true), spec("none"));
    }

    #[test]
    fn impossible_prefixes_are_rejected() {
        // Inclusive length 1 < width 2 and exclusive lengths that overrun: no candidate fits.
        assert_eq!(detect(&[0x00, 0x01, 0x00, 0x01], true), spec("none"));
    }

    #[test]
    fn every_prefix_of_real_bytes_is_safe() {
        let bytes = b"GET / HTTP/1.1\r\n\x00\x00\x00\x02ab\xff\xfe";
        for n in 0..=bytes.len() {
            for total_known in [false, true] {
                let _ = detect(&bytes[..n], total_known);
            }
        }
    }

    #[test]
    fn random_bytes_are_rarely_taken_for_a_length_prefix() {
        // Measured when tuning: about 1 in 1000 random buffers of 30 to 100 bytes passes as
        // `len:1:inclusive`, none of 1000 bytes or more. Allow 1 in 100 here.
        let mut wrong = 0;
        let mut trials = 0;
        for seed in 0..300 {
            for len in [30, 100, 1000] {
                let bytes = noise(1000 + seed, len);
                for total_known in [false, true] {
                    trials += 1;
                    if matches!(detect(&bytes, total_known), FramingSpec::LengthPrefix(_)) {
                        wrong += 1;
                    }
                }
            }
        }
        assert!(wrong * 100 <= trials, "{wrong} of {trials}");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        #[test]
        fn any_bytes_are_detected_without_panic(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
            total_known in proptest::prelude::any::<bool>(),
        ) {
            let _ = detect(&bytes, total_known);
            let (a, b) = detect_pair(&bytes, total_known, &bytes, !total_known);
            proptest::prop_assert_eq!(a == FramingSpec::Http, b == FramingSpec::Http);
        }
    }
}
