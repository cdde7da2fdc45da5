//! `Reassembler`: the segments of ONE direction of a TCP connection → in-order bytes at `u64`
//! stream offsets, plus explicit events for everything that is not plain in-order data.
//!
//! Offset 0 is the first payload byte: ISN + 1 when the SYN was seen, else the sequence number of
//! the first segment seen (the stream started mid-connection). SYN and FIN each consume one
//! sequence number. Sequence numbers are unwrapped to 64-bit positions near the next expected
//! byte, so streams longer than 4 GiB and an ISN near `u32::MAX` work.
//!
//! Policy:
//! - in-order bytes are handed out at once as a view into the segment (zero-copy);
//! - out-of-order bytes are copied into a buffer and handed out when the hole before them fills;
//! - the first copy of a byte wins; later copies are compared and a difference is flagged;
//! - a hole becomes an explicit [`Event::Gap`] (never silent concatenation) when the peer
//!   acknowledges past it ([`Reassembler::on_peer_ack`]), when buffering would exceed a limit,
//!   or at [`Reassembler::finish`].
//!
//! It does not track the connection (handshake, close, ids): that is `stream` and `table`.

use std::collections::BTreeMap;

use crate::capture::FrameNumber;

use super::seq::SeqNum;

/// Default cap on the out-of-order bytes buffered for one direction (4 MiB).
pub const DEFAULT_DIRECTION_CAP: u64 = 4 * 1024 * 1024;
/// Default budget shared by all directions of all connections (256 MiB).
pub const DEFAULT_GLOBAL_BUDGET: u64 = 256 * 1024 * 1024;
/// Default number of recently delivered bytes kept per direction to compare retransmissions
/// with (64 KiB). A retransmission of bytes older than this window is not compared.
pub const DEFAULT_HISTORY_WINDOW: usize = 64 * 1024;
/// Memory one buffered piece costs beyond its bytes: its B-tree entry (key, frame, boxed
/// slice), the B-tree node slack and the allocator's minimum block. Buffer limits count it, so
/// a flood of 1-byte segments hits the cap after `cap / (1 + PIECE_OVERHEAD)` pieces instead of
/// holding a hundred times the cap (issue 15).
pub const PIECE_OVERHEAD: u64 = 96;

/// Memory shared by all reassemblers: out-of-order buffers and delivered-byte history.
///
/// The owner (normally the stream table) passes it by `&mut` to each call. Accounting is by
/// bytes stored, not by allocator capacity, so real use can be somewhat higher.
///
/// It also keeps a few free history pages (4 KiB each) that connections
/// returned, so the history of the next connection reuses them instead of asking the
/// allocator again.
#[derive(Debug, Clone)]
pub struct Budget {
    limit: u64,
    used: u64,
    pages: PagePool,
}

impl Budget {
    /// A budget of `limit` bytes.
    pub fn new(limit: u64) -> Budget {
        Budget {
            limit,
            used: 0,
            pages: PagePool::default(),
        }
    }

    /// Bytes currently reserved.
    pub fn used(&self) -> u64 {
        self.used
    }

    /// The limit in bytes.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Reserves `n` bytes; false (and nothing reserved) when that would pass the limit.
    fn try_reserve(&mut self, n: u64) -> bool {
        match self.used.checked_add(n) {
            Some(total) if total <= self.limit => {
                self.used = total;
                true
            }
            _ => false,
        }
    }

    /// Returns `n` reserved bytes.
    fn release(&mut self, n: u64) {
        self.used = self.used.saturating_sub(n);
    }
}

impl Default for Budget {
    fn default() -> Budget {
        Budget::new(DEFAULT_GLOBAL_BUDGET)
    }
}

/// Per-direction limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most out-of-order bytes buffered for one direction.
    pub direction_cap: u64,
    /// Recently delivered bytes kept to compare retransmissions with (0 turns comparison off).
    pub history_window: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            direction_cap: DEFAULT_DIRECTION_CAP,
            history_window: DEFAULT_HISTORY_WINDOW,
        }
    }
}

/// One TCP segment as the reassembler needs it.
#[derive(Debug, Clone, Copy)]
pub struct Segment<'a> {
    /// The frame that carried it.
    pub frame: FrameNumber,
    /// Its sequence number (of the SYN when `syn` is set, else of the first payload byte).
    pub seq: SeqNum,
    /// SYN flag: consumes one sequence number before the payload.
    pub syn: bool,
    /// FIN flag: consumes one sequence number after the payload and marks the end.
    pub fin: bool,
    /// The TCP payload as captured.
    pub payload: &'a [u8],
    /// Payload bytes after `payload` that were on the wire but not captured (cut by snaplen):
    /// `payload.len() + uncaptured` is tshark's `tcp.len`.
    pub uncaptured: u64,
}

/// Why a hole became a gap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GapCause {
    /// The other direction acknowledged bytes the capture never showed.
    PeerAck,
    /// Buffering the bytes after the hole would have passed a memory limit.
    BufferLimit,
    /// The direction ended (FIN, RST, end of capture) with the hole still open.
    Finish,
}

/// Which memory limit was hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitKind {
    /// The per-direction cap ([`Limits::direction_cap`]).
    Direction,
    /// The budget shared by all connections ([`Budget`]).
    Global,
}

/// Why segment bytes were thrown away without being placed in the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DiscardReason {
    /// They lie before offset 0: sent before the capture started (or before the SYN).
    BeforeStart,
    /// They lie at or after the direction's end (its FIN, or after it was finished).
    AfterEnd,
}

/// How a direction ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndCause {
    /// Every byte up to the FIN was delivered (or declared a gap).
    Fin,
    /// The connection was reset.
    Reset,
    /// The capture ended first.
    EndOfCapture,
    /// A new connection on the same addresses and ports took over before this one closed.
    Replaced,
    /// Nothing was seen for longer than the idle timeout (capture time).
    TimedOut,
    /// The table was full and this was the longest-idle connection.
    Evicted,
}

/// What the reassembler reports. Events about one segment come in this order: its `Data`
/// (and any `Gap`/`Data` that buffering limits forced), then its classification
/// (`Retransmission`, `OutOfOrder`, `Overlap`, `KeepAlive`), then `BufferLimit`, `Discarded`,
/// and `End` when the direction just ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event<'a> {
    /// New bytes, in order: `offset` is the stream offset of `bytes[0]`, always the end of the
    /// previous `Data`, `Gap` or `NotCaptured`. `frame` is the frame that carried them (a buffered segment
    /// released later keeps its own frame number).
    Data {
        /// Frame that carried the bytes.
        frame: FrameNumber,
        /// Stream offset of `bytes[0]`.
        offset: u64,
        /// The bytes (borrowed from the segment when in order, from the buffer otherwise).
        bytes: &'a [u8],
    },
    /// `len` bytes at `offset` were never captured; the stream continues after them.
    Gap {
        /// Stream offset of the first missing byte.
        offset: u64,
        /// Number of missing bytes.
        len: u64,
        /// What made the reassembler give up waiting.
        cause: GapCause,
    },
    /// `len` bytes at `offset` were on the wire in frame `frame` but the capture cut them off
    /// (snaplen): not a loss. The stream continues after them.
    NotCaptured {
        /// Frame whose payload was cut.
        frame: FrameNumber,
        /// Stream offset of the first uncaptured byte.
        offset: u64,
        /// Number of uncaptured bytes.
        len: u64,
    },
    /// The segment carried only bytes already delivered or buffered (the first copy won).
    Retransmission {
        /// Frame of the retransmitted segment.
        frame: FrameNumber,
        /// Stream offset of its first byte.
        offset: u64,
        /// Its payload length.
        len: u64,
        /// Some byte differs from the first copy (an inconsistency). Only bytes still buffered
        /// or within the history window ([`Limits::history_window`]) are compared.
        differs: bool,
    },
    /// The segment carried new bytes together with `old_bytes` bytes already delivered or
    /// buffered; only the new bytes were used.
    Overlap {
        /// Frame of the segment.
        frame: FrameNumber,
        /// Stream offset of its first byte.
        offset: u64,
        /// Its payload length.
        len: u64,
        /// How many of its bytes were already delivered or buffered.
        old_bytes: u64,
        /// Some old byte differs from the first copy (compared as for `Retransmission`).
        differs: bool,
    },
    /// The segment started beyond the next expected byte; its new bytes were buffered.
    OutOfOrder {
        /// Frame of the segment.
        frame: FrameNumber,
        /// Stream offset of its first byte.
        offset: u64,
        /// Its payload length.
        len: u64,
    },
    /// A keep-alive: at most one byte at the offset just before the next expected byte, no
    /// SYN or FIN. Its byte is ignored.
    KeepAlive {
        /// Frame of the keep-alive.
        frame: FrameNumber,
    },
    /// Bytes of a segment that cannot be placed in the stream were dropped.
    Discarded {
        /// Frame of the segment.
        frame: FrameNumber,
        /// Number of dropped bytes.
        len: u64,
        /// Why.
        reason: DiscardReason,
    },
    /// A memory limit was hit: the reassembler skipped `skipped` bytes of holes starting at
    /// `offset` (each reported as a `Gap` with cause `BufferLimit` just before this event).
    BufferLimit {
        /// Stream offset where skipping started.
        offset: u64,
        /// Total bytes skipped.
        skipped: u64,
        /// Which limit.
        limit: LimitKind,
    },
    /// The direction ended at `offset` (the stream's length); nothing more will be delivered.
    End {
        /// Stream offset after the last delivered or gap byte.
        offset: u64,
        /// How it ended.
        cause: EndCause,
    },
}

/// Per-direction counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counters {
    /// Segments that carried at least one new byte.
    pub data_segments: u64,
    /// Bytes delivered in `Data` events.
    pub payload_bytes: u64,
    /// Bytes reported in `NotCaptured` events (on the wire, cut by snaplen).
    pub not_captured_bytes: u64,
    /// `Retransmission` events.
    pub retransmissions: u64,
    /// `Overlap` events.
    pub overlaps: u64,
    /// `OutOfOrder` events.
    pub out_of_order: u64,
    /// Bytes declared missing in `Gap` events.
    pub gap_bytes: u64,
    /// Retransmissions and overlaps whose bytes differed from the first copy.
    pub inconsistencies: u64,
    /// `KeepAlive` events.
    pub keep_alives: u64,
    /// Bytes dropped in `Discarded` events.
    pub discarded_bytes: u64,
    /// `BufferLimit` events.
    pub buffer_limit_hits: u64,
    /// Most memory (bytes plus [`PIECE_OVERHEAD`] per piece) the out-of-order buffer held.
    pub peak_buffered_cost: u64,
}

/// Per-direction counters as the stream table keeps them: the four that every connection moves
/// inline, the others (zero for most connections) in a box made on their first use. 40 bytes
/// per direction while nothing unusual happened, instead of the 136 of [`Counters`] plus the
/// table's own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Counts {
    /// Segments sent this way (counted by the stream).
    pub(super) packets: u64,
    /// Their frame lengths (counted by the stream).
    pub(super) bytes: u64,
    /// Segments that carried at least one new byte.
    pub(super) data_segments: u64,
    /// Bytes delivered in `Data` events.
    pub(super) payload_bytes: u64,
    rare: Option<Box<Rare>>,
}

/// The counters that stay zero on an ordinary connection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Rare {
    pub(super) not_captured_bytes: u64,
    pub(super) retransmissions: u64,
    pub(super) overlaps: u64,
    pub(super) out_of_order: u64,
    pub(super) gap_bytes: u64,
    pub(super) inconsistencies: u64,
    pub(super) keep_alives: u64,
    pub(super) discarded_bytes: u64,
    pub(super) buffer_limit_hits: u64,
    pub(super) peak_buffered_cost: u64,
    /// Payload bytes of RST segments (counted by the stream).
    pub(super) rst_payload_bytes: u64,
    /// Duplicate ACKs (counted by the stream).
    pub(super) dup_acks: u64,
    /// Zero-window segments (counted by the stream).
    pub(super) zero_windows: u64,
}

impl Counts {
    /// The rare counters, made on first use.
    pub(super) fn rare_mut(&mut self) -> &mut Rare {
        self.rare.get_or_insert_with(Box::default)
    }

    /// The rare counters (all zero when never used).
    pub(super) fn rare(&self) -> Rare {
        self.rare.as_deref().copied().unwrap_or_default()
    }

    /// The reassembler's counters.
    pub(super) fn counters(&self) -> Counters {
        let r = self.rare();
        Counters {
            data_segments: self.data_segments,
            payload_bytes: self.payload_bytes,
            not_captured_bytes: r.not_captured_bytes,
            retransmissions: r.retransmissions,
            overlaps: r.overlaps,
            out_of_order: r.out_of_order,
            gap_bytes: r.gap_bytes,
            inconsistencies: r.inconsistencies,
            keep_alives: r.keep_alives,
            discarded_bytes: r.discarded_bytes,
            buffer_limit_hits: r.buffer_limit_hits,
            peak_buffered_cost: r.peak_buffered_cost,
        }
    }
}

/// What a direction's reassembly needs besides its own state: the limits, the shared budget and
/// the counters to update (kept by the owner, so a connection stores its limits once, in the
/// table, and its counters in its summary).
pub(super) struct Cx<'a> {
    pub(super) limits: &'a Limits,
    pub(super) budget: &'a mut Budget,
    pub(super) counts: &'a mut Counts,
}

/// An out-of-order piece waiting for the hole before it to fill.
#[derive(Debug)]
struct Pending {
    frame: FrameNumber,
    data: PieceData,
}

/// What a buffered piece holds.
#[derive(Debug)]
enum PieceData {
    /// Captured bytes.
    Bytes(Box<[u8]>),
    /// This many bytes that were on the wire but not captured.
    Missing(u64),
}

impl Pending {
    fn len(&self) -> u64 {
        match &self.data {
            PieceData::Bytes(b) => b.len() as u64,
            PieceData::Missing(n) => *n,
        }
    }

    fn span(&self) -> Span<'_> {
        match &self.data {
            PieceData::Bytes(b) => Span::Bytes(b),
            PieceData::Missing(n) => Span::Missing(*n),
        }
    }

    /// Memory the piece holds, as the limits count it.
    fn cost(&self) -> u64 {
        match &self.data {
            PieceData::Bytes(b) => b.len() as u64 + PIECE_OVERHEAD,
            PieceData::Missing(_) => PIECE_OVERHEAD,
        }
    }
}

/// A run of segment bytes: captured, or known only by its length (cut by snaplen).
#[derive(Debug, Clone, Copy)]
enum Span<'a> {
    Bytes(&'a [u8]),
    Missing(u64),
}

impl<'a> Span<'a> {
    fn len(&self) -> u64 {
        match self {
            Span::Bytes(b) => b.len() as u64,
            Span::Missing(n) => *n,
        }
    }

    /// The part `[from, to)` of a span that starts at stream offset `start`.
    fn sub(&self, start: u64, from: u64, to: u64) -> Span<'a> {
        match self {
            Span::Bytes(b) => Span::Bytes(slice(b, start, from, to)),
            Span::Missing(n) => {
                let end = start.saturating_add(*n);
                let (a, b) = (from.max(start), to.min(end));
                Span::Missing(b.saturating_sub(a))
            }
        }
    }

    /// True when both are captured bytes and differ (uncaptured bytes compare equal to all).
    fn differs_from(&self, other: &Span<'_>) -> bool {
        match (self, other) {
            (Span::Bytes(a), Span::Bytes(b)) => a != b,
            _ => false,
        }
    }
}

/// Size of one page of the retransmission history past its first 4 KiB.
pub const HISTORY_PAGE: usize = 4096;
/// Free history pages the budget keeps for reuse (1 MiB).
const POOL_PAGES: usize = 256;

/// One page of history.
type Page = Box<[u8; HISTORY_PAGE]>;

/// Free history pages, handed back by connections that ended (see [`Budget`]).
#[derive(Default)]
struct PagePool(Vec<Page>);

impl PagePool {
    /// A page with unspecified contents.
    fn take(&mut self) -> Page {
        self.0.pop().unwrap_or_else(|| Box::new([0; HISTORY_PAGE]))
    }

    fn give_back(&mut self, pages: Vec<Page>) {
        for p in pages {
            if self.0.len() >= POOL_PAGES {
                break;
            }
            self.0.push(p);
        }
    }
}

impl Clone for PagePool {
    /// A clone starts with no free page.
    fn clone(&self) -> PagePool {
        PagePool::default()
    }
}

impl std::fmt::Debug for PagePool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} free pages", self.0.len())
    }
}

/// The last delivered bytes, to compare retransmissions with.
///
/// Stored as a ring of `len` bytes: while growing, ring position `i` holds the byte at offset
/// `i` (gaps are marked unknown by `valid_from`). Once it stops growing (window full, or the
/// budget said no), offset `o` lives at position `o % len`. Both rules agree for the bytes
/// stored while growing, so nothing moves when it switches. It is made when the first byte
/// (or gap) of the direction is delivered, at offset 0, so the first rule holds from the start.
///
/// Positions below 4 KiB live in `head`, a vector that grows with use (a connection
/// that carries a few bytes keeps a few bytes); the rest in whole pages from the budget's pool,
/// so a long connection's history is never copied to grow (a growing vector copied every byte
/// again at each doubling).
#[derive(Debug, Default)]
struct History {
    head: Vec<u8>,
    pages: Vec<Page>,
    /// Ring size: bytes (or unknown positions) stored.
    len: usize,
    fixed: bool,
    /// Offsets below this are unknown (before a gap).
    valid_from: u64,
}

impl History {
    /// Grows by up to `want` bytes if the window and the budget allow; returns how many.
    fn grow_room(&mut self, window: usize, want: usize, budget: &mut Budget) -> usize {
        if self.fixed {
            return 0;
        }
        let room = window.saturating_sub(self.len).min(want);
        if room > 0 && budget.try_reserve(room as u64) {
            room
        } else {
            0
        }
    }

    /// Memory held (the head's capacity and the pages).
    fn held(&self) -> u64 {
        (self.head.capacity() + self.pages.len() * HISTORY_PAGE) as u64
    }

    /// Where ring position `pos` (< `len`) lives: `None` in `head`, else its page and the range
    /// within the page that is stored from it on.
    fn page_span(&self, pos: usize) -> Option<(usize, std::ops::Range<usize>)> {
        let p = pos.checked_sub(HISTORY_PAGE)?;
        let page = p / HISTORY_PAGE;
        let end = (self.len.saturating_sub(HISTORY_PAGE + page * HISTORY_PAGE)).min(HISTORY_PAGE);
        Some((page, p % HISTORY_PAGE..end))
    }

    /// The stored run starting at ring position `pos` (< `len`), as far as its page goes.
    fn run_at(&self, pos: usize) -> &[u8] {
        match self.page_span(pos) {
            None => self.head.get(pos..).unwrap_or_default(),
            Some((page, range)) => self
                .pages
                .get(page)
                .and_then(|p| p.get(range))
                .unwrap_or_default(),
        }
    }

    /// The storage of ring position `pos` (< `len`) onwards, as far as its page goes.
    fn run_at_mut(&mut self, pos: usize) -> &mut [u8] {
        match self.page_span(pos) {
            None => self.head.get_mut(pos..).unwrap_or_default(),
            Some((page, range)) => self
                .pages
                .get_mut(page)
                .and_then(|p| p.get_mut(range))
                .unwrap_or_default(),
        }
    }

    /// Appends `n` positions at the end of the ring (filled from `bytes` when given, else left
    /// unknown); `n` is what [`History::grow_room`] granted.
    fn append(&mut self, n: usize, bytes: Option<&[u8]>, budget: &mut Budget) {
        let mut done = 0;
        while done < n {
            let pos = self.len;
            let step = if pos < HISTORY_PAGE {
                let step = (HISTORY_PAGE - pos).min(n - done);
                match bytes.and_then(|b| b.get(done..done + step)) {
                    Some(part) => self.head.extend_from_slice(part),
                    None => self.head.resize(pos + step, 0),
                }
                step
            } else {
                let in_page = (pos - HISTORY_PAGE) % HISTORY_PAGE;
                if in_page == 0 {
                    self.pages.push(budget.pages.take());
                }
                let step = (HISTORY_PAGE - in_page).min(n - done);
                if let (Some(page), Some(part)) = (
                    self.pages.last_mut(),
                    bytes.and_then(|b| b.get(done..done + step)),
                ) && let Some(dst) = page.get_mut(in_page..in_page + step)
                {
                    dst.copy_from_slice(part);
                }
                step
            };
            self.len += step;
            done += step;
        }
    }

    /// Writes `bytes` into the ring from position `pos`, wrapping at `len`.
    fn overwrite(&mut self, mut pos: usize, mut bytes: &[u8]) {
        while !bytes.is_empty() && self.len > 0 {
            pos %= self.len;
            // The run ends at the end of its page or of the ring.
            let dst = self.run_at_mut(pos);
            let n = dst.len().min(bytes.len());
            if n == 0 {
                return;
            }
            let (now, rest) = bytes.split_at(n);
            if let Some(d) = dst.get_mut(..n) {
                d.copy_from_slice(now);
            }
            bytes = rest;
            pos += n;
        }
    }

    /// Records `bytes` delivered at `offset` (the previous end of the stream).
    fn record(&mut self, window: usize, offset: u64, bytes: &[u8], budget: &mut Budget) {
        let grown = self.grow_room(window, bytes.len(), budget);
        self.append(grown, Some(bytes), budget);
        let rest = bytes.get(grown..).unwrap_or_default();
        if rest.is_empty() {
            return;
        }
        self.fixed = true;
        let m = self.len;
        if m == 0 {
            return;
        }
        // Only the last `m` bytes can survive in a ring of `m`.
        let skip = rest.len().saturating_sub(m);
        let tail = rest.get(skip..).unwrap_or_default();
        let start = offset
            .saturating_add(grown as u64)
            .saturating_add(skip as u64);
        self.overwrite((start % m as u64) as usize, tail);
    }

    /// Records a gap of `len` bytes at `offset`: those bytes are unknown.
    fn record_gap(&mut self, window: usize, offset: u64, len: u64, budget: &mut Budget) {
        let want = usize::try_from(len).unwrap_or(usize::MAX);
        let grown = self.grow_room(window, want, budget);
        self.append(grown, None, budget);
        if grown < want {
            self.fixed = true;
        }
        self.valid_from = offset.saturating_add(len);
    }

    /// True when some byte of `bytes` (at `offset`) that is still known differs from the
    /// recorded one. `end` is the offset after the last recorded byte.
    fn differs(&self, offset: u64, bytes: &[u8], end: u64) -> bool {
        let m = self.len as u64;
        if m == 0 {
            return false;
        }
        let known_from = self.valid_from.max(end.saturating_sub(m));
        let mut o = offset.max(known_from);
        let hi = offset.saturating_add(bytes.len() as u64).min(end);
        while o < hi {
            let pos = (o % m) as usize;
            let stored = self.run_at(pos);
            let n = (stored.len() as u64).min(hi - o).min(m - pos as u64);
            if n == 0 {
                return false;
            }
            let from = (o - offset) as usize;
            let seen = bytes.get(from..from + n as usize);
            if seen != stored.get(..n as usize) {
                return true;
            }
            o += n;
        }
        false
    }

    /// Hands the pages back to the budget's pool; returns the bytes to release.
    fn release(self, budget: &mut Budget) -> u64 {
        budget.pages.give_back(self.pages);
        self.len as u64
    }
}

/// The out-of-order buffer of a direction, made when the first piece arrives out of order and
/// dropped when the last one is delivered.
#[derive(Debug, Default)]
struct Buffer {
    /// Pieces by start offset; they never overlap and all start after `next`. A B-tree:
    /// insert, lookup and release are O(log n) whatever the segment pattern.
    pieces: BTreeMap<u64, Pending>,
    /// Bytes (captured or not) the pieces cover.
    bytes: u64,
    /// Memory the pieces hold as the limits count it (bytes + [`PIECE_OVERHEAD`] each).
    cost: u64,
}

/// What one segment turned out to be, gathered while placing its bytes.
#[derive(Debug, Default)]
struct Placement {
    new_bytes: u64,
    old_bytes: u64,
    differs: bool,
    skip_offset: Option<u64>,
    skipped: u64,
    skip_limit: Option<LimitKind>,
}

/// The state of one direction's reassembly without its limits and counters ([`Cx`]): what the
/// stream table keeps per direction of a live connection. 40 bytes inline; the history and the
/// out-of-order buffer are boxed when first needed (they hold payload).
#[derive(Debug, Default)]
pub(super) struct Core {
    /// Next expected offset: everything before it was delivered or declared a gap.
    next: u64,
    /// Offset of the FIN, when `marks` has [`Core::FIN`].
    fin_at: u64,
    /// Sequence number of offset 0, when `marks` has [`Core::ORIGIN`].
    origin_seq: u32,
    marks: u8,
    ended: Option<EndCause>,
    history: Option<Box<History>>,
    ooo: Option<Box<Buffer>>,
}

impl Core {
    const ORIGIN: u8 = 1;
    const FIN: u8 = 2;

    fn origin(&self) -> Option<SeqNum> {
        (self.marks & Core::ORIGIN != 0).then_some(SeqNum(self.origin_seq))
    }

    fn fin(&self) -> Option<u64> {
        (self.marks & Core::FIN != 0).then_some(self.fin_at)
    }

    /// The next expected stream offset.
    pub(super) fn next_offset(&self) -> u64 {
        self.next
    }

    /// Out-of-order bytes currently buffered (captured or known to be uncaptured).
    pub(super) fn pending_bytes(&self) -> u64 {
        self.ooo.as_ref().map_or(0, |b| b.bytes)
    }

    /// Memory the out-of-order buffer holds now, as the limits count it.
    pub(super) fn pending_cost(&self) -> u64 {
        self.ooo.as_ref().map_or(0, |b| b.cost)
    }

    /// Out-of-order pieces currently buffered.
    pub(super) fn pending_pieces(&self) -> usize {
        self.ooo.as_ref().map_or(0, |b| b.pieces.len())
    }

    /// How the direction ended, if it has.
    pub(super) fn end_cause(&self) -> Option<EndCause> {
        self.ended
    }

    /// True once any segment of this direction was seen.
    pub(super) fn has_started(&self) -> bool {
        self.origin().is_some()
    }

    /// True when nothing was delivered yet (no data, gap or uncaptured byte).
    pub(super) fn is_untouched(&self) -> bool {
        self.next == 0
    }

    /// Memory held now: buffered pieces (as counted) plus the retransmission history.
    pub(super) fn held_bytes(&self) -> u64 {
        self.pending_cost() + self.history.as_ref().map_or(0, |h| h.held())
    }

    /// Sequence number expected at offset `next`.
    fn anchor(&self, origin: SeqNum) -> SeqNum {
        // Truncation is the modulo-2^32 reduction we want.
        origin.wrapping_add(self.next as u32)
    }

    /// Signed stream position of `seq`, unwrapped near the next expected byte.
    fn position(&self, origin: SeqNum, seq: SeqNum) -> i64 {
        let next = i64::try_from(self.next).unwrap_or(i64::MAX);
        seq.unwrap_near(self.anchor(origin), next)
    }

    /// See [`Reassembler::on_segment`].
    pub(super) fn on_segment<F>(&mut self, seg: &Segment<'_>, cx: &mut Cx<'_>, sink: &mut F)
    where
        F: FnMut(Event<'_>),
    {
        let data_seq = if seg.syn {
            seg.seq.wrapping_add(1)
        } else {
            seg.seq
        };
        let origin = match self.origin() {
            Some(origin) => origin,
            None => {
                self.origin_seq = data_seq.0;
                self.marks |= Core::ORIGIN;
                data_seq
            }
        };
        let captured = seg.payload.len() as u64;
        // A u32 sequence space cannot hold more than 2^32 bytes in one segment.
        let uncaptured = seg.uncaptured.min(u64::from(u32::MAX));
        let len = captured.saturating_add(uncaptured);
        let start = self.position(origin, data_seq);
        let end = start.saturating_add(i64::try_from(len).unwrap_or(i64::MAX));

        if seg.fin && self.fin().is_none() && self.ended.is_none() && end >= 0 {
            self.fin_at = end as u64;
            self.marks |= Core::FIN;
        }

        // Keep-alive: seq = next - 1 with zero or one byte (as Wireshark defines it).
        let next_i = i64::try_from(self.next).unwrap_or(i64::MAX);
        if len <= 1 && !seg.syn && !seg.fin && start == next_i - 1 {
            cx.counts.rare_mut().keep_alives += 1;
            sink(Event::KeepAlive { frame: seg.frame });
            return;
        }
        if len == 0 {
            self.check_fin_reached(sink);
            return;
        }

        // Bytes before offset 0.
        let mut lo = start;
        if lo < 0 {
            let before = lo.unsigned_abs().min(len);
            self.discard(seg.frame, before, DiscardReason::BeforeStart, cx, sink);
            lo = lo.saturating_add(i64::try_from(before).unwrap_or(i64::MAX));
            if lo < 0 || before == len {
                self.check_fin_reached(sink);
                return;
            }
        }
        // Stream offset of the first uncaptured byte (may be negative: all before offset 0).
        let cut_at = start.saturating_add(i64::try_from(captured).unwrap_or(i64::MAX));
        // Payload bytes skipped because they lie before offset 0.
        let skipped = lo.saturating_sub(start).unsigned_abs();
        let lo = lo as u64;

        // Bytes at or after the end of the direction.
        let limit = if self.ended.is_some() {
            self.next
        } else {
            self.fin().unwrap_or(u64::MAX)
        };
        let end = end.max(0) as u64;
        let hi = end.min(limit.max(lo));
        let after_end = end.saturating_sub(hi);

        if hi > lo {
            // The captured part [lo, cut) and the uncaptured part [cut, hi).
            let cut = u64::try_from(cut_at).unwrap_or(0).clamp(lo, hi);
            let from = usize::try_from(skipped).unwrap_or(usize::MAX);
            let to = usize::try_from(skipped.saturating_add(cut - lo)).unwrap_or(usize::MAX);
            let bytes = seg.payload.get(from..to).unwrap_or_default();
            let spans = [(lo, Span::Bytes(bytes)), (cut, Span::Missing(hi - cut))];
            self.place(seg.frame, lo, hi, &spans, cx, sink);
        }
        if after_end > 0 {
            self.discard(seg.frame, after_end, DiscardReason::AfterEnd, cx, sink);
        }
        self.check_fin_reached(sink);
    }

    /// Places the spans (consecutive, together `[start, end)`, all within the direction) and
    /// reports what the segment was.
    fn place<F>(
        &mut self,
        frame: FrameNumber,
        start: u64,
        end: u64,
        spans: &[(u64, Span<'_>)],
        cx: &mut Cx<'_>,
        sink: &mut F,
    ) where
        F: FnMut(Event<'_>),
    {
        let len = end - start;
        let out_of_order = start > self.next;
        let mut p = Placement::default();
        for &(at, span) in spans {
            if span.len() > 0 {
                self.place_span(frame, at, span, &mut p, cx, sink);
            }
        }

        // Classify the segment.
        if p.new_bytes == 0 {
            let rare = cx.counts.rare_mut();
            rare.retransmissions += 1;
            if p.differs {
                rare.inconsistencies += 1;
            }
            sink(Event::Retransmission {
                frame,
                offset: start,
                len,
                differs: p.differs,
            });
        } else {
            cx.counts.data_segments += 1;
            if out_of_order {
                cx.counts.rare_mut().out_of_order += 1;
                sink(Event::OutOfOrder {
                    frame,
                    offset: start,
                    len,
                });
            }
            if p.old_bytes > 0 {
                let rare = cx.counts.rare_mut();
                rare.overlaps += 1;
                if p.differs {
                    rare.inconsistencies += 1;
                }
                sink(Event::Overlap {
                    frame,
                    offset: start,
                    len,
                    old_bytes: p.old_bytes,
                    differs: p.differs,
                });
            }
        }
        if let (Some(offset), Some(limit)) = (p.skip_offset, p.skip_limit) {
            cx.counts.rare_mut().buffer_limit_hits += 1;
            sink(Event::BufferLimit {
                offset,
                skipped: p.skipped,
                limit,
            });
        }
    }

    /// Places one span that starts at `start`.
    fn place_span<F>(
        &mut self,
        frame: FrameNumber,
        start: u64,
        span: Span<'_>,
        p: &mut Placement,
        cx: &mut Cx<'_>,
        sink: &mut F,
    ) where
        F: FnMut(Event<'_>),
    {
        let end = start.saturating_add(span.len());
        if end <= self.next {
            p.old_bytes += span.len();
            p.differs |= self.differs_from_history(start, span);
            return;
        }
        let mut cur = start;
        loop {
            if cur < self.next {
                // Bytes already delivered (or declared a gap): compare with the history.
                let stop = self.next.min(end);
                let old = span.sub(start, cur, stop);
                p.old_bytes += stop - cur;
                p.differs |= self.differs_from_history(cur, old);
                cur = stop;
            }
            if cur >= end {
                break;
            }
            if cur == self.next {
                self.deliver_in_order(frame, start, span, p, cx, sink);
                break;
            }
            // Out of order: buffer what is new, if it fits.
            let rest = span.sub(start, cur, end);
            let (new, pieces) = self.count_uncovered(cur, end);
            if new == 0 {
                self.buffer(frame, cur, rest, false, p, cx);
                break;
            }
            let cost = match rest {
                Span::Bytes(_) => new.saturating_add(pieces.saturating_mul(PIECE_OVERHEAD)),
                Span::Missing(_) => pieces.saturating_mul(PIECE_OVERHEAD),
            };
            let limit_hit = if self.pending_cost().saturating_add(cost) > cx.limits.direction_cap {
                Some(LimitKind::Direction)
            } else if !cx.budget.try_reserve(cost) {
                Some(LimitKind::Global)
            } else {
                None
            };
            match limit_hit {
                None => {
                    self.buffer(frame, cur, rest, true, p, cx);
                    break;
                }
                Some(kind) => {
                    // Skip the first hole and try again (each pass moves `next` on).
                    let before = (self.next, self.pending_pieces());
                    p.skip_limit.get_or_insert(kind);
                    p.skip_offset.get_or_insert(self.next);
                    let target = self.first_pending_start().map_or(cur, |k| k.min(cur));
                    p.skipped += target.saturating_sub(self.next);
                    self.gap(target, GapCause::BufferLimit, cx, sink);
                    self.drain(cx, sink);
                    if (self.next, self.pending_pieces()) == before {
                        break;
                    }
                }
            }
        }
    }

    fn differs_from_history(&self, offset: u64, span: Span<'_>) -> bool {
        match (span, self.history.as_deref()) {
            (Span::Bytes(b), Some(h)) => h.differs(offset, b, self.next),
            _ => false,
        }
    }

    /// Delivers `span[next - start..]` (the span reaches `next`), interleaving buffered
    /// pieces that came first, then everything buffered that became contiguous.
    fn deliver_in_order<F>(
        &mut self,
        frame: FrameNumber,
        start: u64,
        span: Span<'_>,
        p: &mut Placement,
        cx: &mut Cx<'_>,
        sink: &mut F,
    ) where
        F: FnMut(Event<'_>),
    {
        let mut cur = self.next;
        let end = start.saturating_add(span.len());
        while cur < end {
            // No buffered piece contains `cur` (they all start after `next`).
            let stop = self.first_pending_start().map_or(end, |k| k.min(end));
            let new = span.sub(start, cur, stop);
            p.new_bytes += stop - cur;
            self.emit(frame, cur, new, cx, sink);
            cur = stop;
            if cur >= end {
                break;
            }
            // A buffered piece starts at `cur`: it came first, so it wins.
            if let Some(piece) = self.take_piece(cur) {
                let piece_end = cur.saturating_add(piece.len());
                let overlap_end = piece_end.min(end);
                let ours = span.sub(start, cur, overlap_end);
                let theirs = piece.span().sub(cur, cur, overlap_end);
                p.old_bytes += overlap_end - cur;
                p.differs |= ours.differs_from(&theirs);
                self.deliver_piece(cur, piece, cx, sink);
                if self.next <= cur {
                    break;
                }
                cur = self.next;
            } else {
                // Unreachable by the invariant; stop rather than loop.
                break;
            }
        }
        self.drain(cx, sink);
    }

    /// The history, made at the first delivery (offset 0) unless comparison is off or the
    /// direction ended.
    fn history_mut(&mut self, window: usize) -> Option<&mut History> {
        if self.history.is_none() && window > 0 && self.ended.is_none() {
            self.history = Some(Box::default());
        }
        self.history.as_deref_mut()
    }

    /// Emits one `Data` (or `NotCaptured`) event and advances `next`.
    fn emit<F>(
        &mut self,
        frame: FrameNumber,
        offset: u64,
        span: Span<'_>,
        cx: &mut Cx<'_>,
        sink: &mut F,
    ) where
        F: FnMut(Event<'_>),
    {
        let n = span.len();
        if n == 0 {
            return;
        }
        self.next = offset.saturating_add(n);
        let window = cx.limits.history_window;
        match span {
            Span::Bytes(bytes) => {
                if let Some(h) = self.history_mut(window) {
                    h.record(window, offset, bytes, cx.budget);
                }
                cx.counts.payload_bytes += n;
                sink(Event::Data {
                    frame,
                    offset,
                    bytes,
                });
            }
            Span::Missing(len) => {
                if let Some(h) = self.history_mut(window) {
                    h.record_gap(window, offset, len, cx.budget);
                }
                cx.counts.rare_mut().not_captured_bytes += len;
                sink(Event::NotCaptured { frame, offset, len });
            }
        }
    }

    /// Declares `[next, target)` a gap (if not empty) and moves `next` to `target`.
    fn gap<F>(&mut self, target: u64, cause: GapCause, cx: &mut Cx<'_>, sink: &mut F)
    where
        F: FnMut(Event<'_>),
    {
        if target <= self.next {
            return;
        }
        let len = target - self.next;
        let (next, window) = (self.next, cx.limits.history_window);
        if let Some(h) = self.history_mut(window) {
            h.record_gap(window, next, len, cx.budget);
        }
        cx.counts.rare_mut().gap_bytes += len;
        sink(Event::Gap {
            offset: self.next,
            len,
            cause,
        });
        self.next = target;
    }

    /// Delivers buffered pieces while the first one starts at `next`.
    fn drain<F>(&mut self, cx: &mut Cx<'_>, sink: &mut F)
    where
        F: FnMut(Event<'_>),
    {
        while let Some(at) = self.first_pending_start() {
            if at > self.next || self.fin().is_some_and(|fin| at >= fin) {
                break;
            }
            let Some(piece) = self.take_piece(at) else {
                break;
            };
            self.deliver_piece(at, piece, cx, sink);
        }
    }

    /// Takes the piece starting at `at` out of the buffer (its bytes and cost are still
    /// counted: [`Core::deliver_piece`] returns them).
    fn take_piece(&mut self, at: u64) -> Option<Pending> {
        self.ooo.as_mut()?.pieces.remove(&at)
    }

    /// Delivers a buffered piece that starts at or before `next`: only its bytes from `next`
    /// up to the FIN are new.
    fn deliver_piece<F>(&mut self, at: u64, piece: Pending, cx: &mut Cx<'_>, sink: &mut F)
    where
        F: FnMut(Event<'_>),
    {
        let piece_len = piece.len();
        let cost = piece.cost();
        if let Some(b) = self.ooo.as_mut() {
            b.bytes = b.bytes.saturating_sub(piece_len);
            b.cost = b.cost.saturating_sub(cost);
            if b.pieces.is_empty() {
                self.ooo = None;
            }
        }
        cx.budget.release(cost);
        let piece_end = at.saturating_add(piece_len);
        let stop = self.fin().map_or(piece_end, |fin| fin.min(piece_end));
        let offset = self.next;
        let span = piece.span().sub(at, offset, stop);
        if stop < piece_end {
            self.discard(
                piece.frame,
                piece_end - stop,
                DiscardReason::AfterEnd,
                cx,
                sink,
            );
        }
        self.emit(piece.frame, offset, span, cx, sink);
    }

    fn first_pending_start(&self) -> Option<u64> {
        self.ooo.as_ref()?.pieces.keys().next().copied()
    }

    /// The buffered piece containing `at`, as (start, end).
    fn piece_at(&self, at: u64) -> Option<(u64, u64)> {
        let (&s, piece) = self.ooo.as_ref()?.pieces.range(..=at).next_back()?;
        let e = s.saturating_add(piece.len());
        (e > at).then_some((s, e))
    }

    /// End of the uncovered run starting at `at` (which no piece contains), capped at `end`.
    fn uncovered_until(&self, at: u64, end: u64) -> u64 {
        self.ooo
            .as_ref()
            .and_then(|b| b.pieces.range(at..end).next())
            .map_or(end, |(&s, _)| s)
    }

    /// How many bytes of `[start, end)` no buffered piece holds yet, and in how many runs.
    fn count_uncovered(&self, start: u64, end: u64) -> (u64, u64) {
        let mut cur = start;
        let (mut new, mut runs) = (0, 0);
        while cur < end {
            if let Some((_, e)) = self.piece_at(cur) {
                cur = e.min(end);
            } else {
                let stop = self.uncovered_until(cur, end);
                new += stop - cur;
                runs += 1;
                cur = stop;
            }
        }
        (new, runs)
    }

    /// Walks `span` (at `start`, beyond `next`): compares the parts already buffered, and when
    /// `insert` copies the others into new pieces (their budget is already reserved).
    fn buffer(
        &mut self,
        frame: FrameNumber,
        start: u64,
        span: Span<'_>,
        insert: bool,
        p: &mut Placement,
        cx: &mut Cx<'_>,
    ) {
        let end = start.saturating_add(span.len());
        let mut cur = start;
        while cur < end {
            if let Some((s, e)) = self.piece_at(cur) {
                let stop = e.min(end);
                let ours = span.sub(start, cur, stop);
                let theirs = self
                    .ooo
                    .as_ref()
                    .and_then(|b| b.pieces.get(&s))
                    .map(|piece| piece.span().sub(s, cur, stop));
                p.old_bytes += stop - cur;
                p.differs |= theirs.is_some_and(|t| ours.differs_from(&t));
                cur = stop;
            } else {
                let stop = self.uncovered_until(cur, end);
                if insert {
                    let data = match span.sub(start, cur, stop) {
                        Span::Bytes(b) => PieceData::Bytes(b.into()),
                        Span::Missing(n) => PieceData::Missing(n),
                    };
                    let piece = Pending { frame, data };
                    let b = self.ooo.get_or_insert_with(Box::default);
                    b.cost += piece.cost();
                    b.bytes += stop - cur;
                    b.pieces.insert(cur, piece);
                    let cost = b.cost;
                    p.new_bytes += stop - cur;
                    let rare = cx.counts.rare_mut();
                    rare.peak_buffered_cost = rare.peak_buffered_cost.max(cost);
                }
                cur = stop;
            }
        }
    }

    fn discard<F>(
        &mut self,
        frame: FrameNumber,
        len: u64,
        reason: DiscardReason,
        cx: &mut Cx<'_>,
        sink: &mut F,
    ) where
        F: FnMut(Event<'_>),
    {
        cx.counts.rare_mut().discarded_bytes += len;
        sink(Event::Discarded { frame, len, reason });
    }

    /// Ends the direction when everything up to the FIN is done.
    fn check_fin_reached<F>(&mut self, sink: &mut F)
    where
        F: FnMut(Event<'_>),
    {
        if self.ended.is_none() && self.fin() == Some(self.next) {
            self.ended = Some(EndCause::Fin);
            sink(Event::End {
                offset: self.next,
                cause: EndCause::Fin,
            });
        }
    }

    /// See [`Reassembler::on_peer_ack`].
    pub(super) fn on_peer_ack<F>(&mut self, ack: SeqNum, cx: &mut Cx<'_>, sink: &mut F)
    where
        F: FnMut(Event<'_>),
    {
        let Some(origin) = self.origin() else {
            return;
        };
        if self.ended.is_some() {
            return;
        }
        let pos = self.position(origin, ack);
        let Ok(mut acked) = u64::try_from(pos) else {
            return;
        };
        if let Some(fin) = self.fin() {
            // The ACK of a FIN covers the FIN's own sequence number too.
            acked = acked.min(fin);
        }
        while self.next < acked {
            let before = (self.next, self.pending_pieces());
            let target = self.first_pending_start().map_or(acked, |k| k.min(acked));
            self.gap(target, GapCause::PeerAck, cx, sink);
            self.drain(cx, sink);
            if (self.next, self.pending_pieces()) == before {
                break;
            }
        }
        self.check_fin_reached(sink);
    }

    /// See [`Reassembler::finish`].
    pub(super) fn finish<F>(&mut self, cause: EndCause, cx: &mut Cx<'_>, sink: &mut F)
    where
        F: FnMut(Event<'_>),
    {
        if self.ended.is_none() && self.origin().is_some() {
            while let Some(k) = self.first_pending_start() {
                if self.fin().is_some_and(|fin| k >= fin) {
                    // Pieces past the FIN are not part of the stream (released below).
                    break;
                }
                let before = (self.next, self.pending_pieces());
                self.gap(k, GapCause::Finish, cx, sink);
                self.drain(cx, sink);
                if (self.next, self.pending_pieces()) == before {
                    break;
                }
            }
            if let Some(fin) = self.fin() {
                self.gap(fin, GapCause::Finish, cx, sink);
            }
            self.ended = Some(cause);
            sink(Event::End {
                offset: self.next,
                cause,
            });
        }
        self.ended.get_or_insert(cause);
        self.release(cx);
    }

    /// Frees buffers and history (bytes still buffered are counted as discarded).
    fn release(&mut self, cx: &mut Cx<'_>) {
        if let Some(b) = self.ooo.take() {
            cx.budget.release(b.cost);
            if b.bytes > 0 {
                cx.counts.rare_mut().discarded_bytes += b.bytes;
            }
        }
        if let Some(h) = self.history.take() {
            let bytes = h.release(cx.budget);
            cx.budget.release(bytes);
        }
    }
}

/// Reassembles one direction of a TCP connection. See the module docs for the policy.
///
/// ```
/// use pcaplab::capture::FrameNumber;
/// use pcaplab::flow::tcp::{Budget, Event, Reassembler, SeqNum, Segment};
///
/// let mut r = Reassembler::default();
/// let mut budget = Budget::default();
/// let mut got = Vec::new();
/// let mut sink = |e: Event<'_>| {
///     if let Event::Data { offset, bytes, .. } = e {
///         got.push((offset, bytes.to_vec()));
///     }
/// };
/// // SYN with ISN 1000, then "world" out of order, then "hello ".
/// let seg = |frame, seq, syn, payload: &'static [u8]| Segment {
///     frame: FrameNumber(frame), seq: SeqNum(seq), syn, fin: false, payload, uncaptured: 0,
/// };
/// for s in [seg(1, 1000, true, b""), seg(2, 1007, false, b"world"), seg(3, 1001, false, b"hello ")] {
///     r.on_segment(&s, &mut budget, &mut sink);
/// }
/// assert_eq!(got, vec![(0, b"hello ".to_vec()), (6, b"world".to_vec())]);
/// ```
#[derive(Debug)]
pub struct Reassembler {
    limits: Limits,
    core: Core,
    counts: Counts,
}

impl Default for Reassembler {
    fn default() -> Reassembler {
        Reassembler::new(Limits::default())
    }
}

impl Reassembler {
    /// A reassembler that has seen nothing yet.
    pub fn new(limits: Limits) -> Reassembler {
        Reassembler {
            limits,
            core: Core::default(),
            counts: Counts::default(),
        }
    }

    /// The counters so far.
    pub fn counters(&self) -> Counters {
        self.counts.counters()
    }

    /// The next expected stream offset (= bytes delivered + gap and uncaptured bytes so far).
    pub fn next_offset(&self) -> u64 {
        self.core.next_offset()
    }

    /// Out-of-order bytes currently buffered (captured or known to be uncaptured).
    pub fn pending_bytes(&self) -> u64 {
        self.core.pending_bytes()
    }

    /// Memory the out-of-order buffer holds now, as the limits count it: its bytes plus
    /// [`PIECE_OVERHEAD`] per piece.
    pub fn pending_cost(&self) -> u64 {
        self.core.pending_cost()
    }

    /// Out-of-order pieces currently buffered.
    pub fn pending_pieces(&self) -> usize {
        self.core.pending_pieces()
    }

    /// How the direction ended, if it has.
    pub fn end_cause(&self) -> Option<EndCause> {
        self.core.end_cause()
    }

    /// True once any segment of this direction was seen.
    pub fn has_started(&self) -> bool {
        self.core.has_started()
    }

    /// True when nothing was delivered yet (no data, gap or uncaptured byte).
    pub fn is_untouched(&self) -> bool {
        self.core.is_untouched()
    }

    /// Memory held now: buffered pieces (as counted) plus the retransmission history.
    pub fn held_bytes(&self) -> u64 {
        self.core.held_bytes()
    }

    fn cx<'a>(limits: &'a Limits, counts: &'a mut Counts, budget: &'a mut Budget) -> Cx<'a> {
        Cx {
            limits,
            budget,
            counts,
        }
    }

    /// Takes one segment of this direction. Pure ACKs may be passed too (they only matter for
    /// SYN/FIN and for setting offset 0). Never panics, whatever the numbers.
    pub fn on_segment<F>(&mut self, seg: &Segment<'_>, budget: &mut Budget, sink: &mut F)
    where
        F: FnMut(Event<'_>),
    {
        let mut cx = Reassembler::cx(&self.limits, &mut self.counts, budget);
        self.core.on_segment(seg, &mut cx, sink);
    }

    /// The other direction acknowledged up to `ack` (a sequence number of THIS direction).
    ///
    /// When that is beyond a hole, the receiver got bytes the capture missed: the hole becomes
    /// a `Gap` (cause `PeerAck`) and buffered bytes after it are delivered. Ignored before
    /// this direction's first segment and after its end. An ACK of a FIN the capture never
    /// showed is counted as one more missing byte (the reassembler cannot tell them apart).
    pub fn on_peer_ack<F>(&mut self, ack: SeqNum, budget: &mut Budget, sink: &mut F)
    where
        F: FnMut(Event<'_>),
    {
        let mut cx = Reassembler::cx(&self.limits, &mut self.counts, budget);
        self.core.on_peer_ack(ack, &mut cx, sink);
    }

    /// Ends the direction now (RST, end of capture, timeout, eviction, or after a FIN close)
    /// and releases all its memory. Holes before buffered bytes, or before a FIN seen beyond
    /// `next`, become gaps (cause `Finish`), buffered bytes are delivered, then `End` is
    /// reported. Calling it on a direction that already ended only releases memory; on a
    /// direction never seen it reports nothing.
    pub fn finish<F>(&mut self, cause: EndCause, budget: &mut Budget, sink: &mut F)
    where
        F: FnMut(Event<'_>),
    {
        let mut cx = Reassembler::cx(&self.limits, &mut self.counts, budget);
        self.core.finish(cause, &mut cx, sink);
    }
}

/// `payload[from - start .. to - start]`, empty when out of range.
fn slice(payload: &[u8], start: u64, from: u64, to: u64) -> &[u8] {
    let a = usize::try_from(from.saturating_sub(start)).unwrap_or(usize::MAX);
    let b = usize::try_from(to.saturating_sub(start)).unwrap_or(usize::MAX);
    payload.get(a..b).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// One step of a direction's delivery, for the history's property test.
    #[derive(Debug, Clone)]
    enum Step {
        /// Deliver this many bytes (made from the offset, so every byte is checkable).
        Data(usize),
        /// Declare this many bytes a gap.
        Gap(u64),
        /// Compare a retransmission of `len` bytes ending `back` bytes before the end, with
        /// one byte changed at `flip` (when given).
        Compare {
            back: u64,
            len: usize,
            flip: Option<usize>,
        },
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            4 => (0usize..9000).prop_map(Step::Data),
            1 => (1u64..6000).prop_map(Step::Gap),
            4 => (0u64..80_000, 1usize..9000, proptest::option::of(0usize..9000))
                .prop_map(|(back, len, flip)| Step::Compare { back, len, flip }),
        ]
    }

    fn byte_at(o: u64) -> u8 {
        (o.wrapping_mul(2_654_435_761) >> 7) as u8
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// The paged ring answers like a model that keeps every byte: a retransmitted byte
        /// differs when it is known (after the last gap, within the last `m` bytes, `m` the
        /// ring size: everything stored until the window was full) and is not the byte sent.
        #[test]
        fn history_pages_answer_like_a_model(
            window in prop_oneof![Just(64 * 1024), Just(10_000usize), Just(4096usize), Just(5000usize)],
            steps in proptest::collection::vec(step(), 1..40),
        ) {
            let mut budget = Budget::new(u64::MAX);
            let mut h = History::default();
            let mut end = 0u64;
            let mut valid_from = 0u64;
            for s in steps {
                match s {
                    Step::Data(n) => {
                        let bytes: Vec<u8> = (end..end + n as u64).map(byte_at).collect();
                        h.record(window, end, &bytes, &mut budget);
                        end += n as u64;
                    }
                    Step::Gap(n) => {
                        h.record_gap(window, end, n, &mut budget);
                        end += n;
                        valid_from = end;
                    }
                    Step::Compare { back, len, flip } => {
                        let stop = end.saturating_sub(back);
                        let start = stop.saturating_sub(len as u64);
                        let mut bytes: Vec<u8> = (start..stop).map(byte_at).collect();
                        let flipped = flip.filter(|&f| f < bytes.len());
                        if let Some(f) = flipped {
                            bytes[f] ^= 0x5a;
                        }
                        let m = end.min(window as u64);
                        let known_from = valid_from.max(end - m);
                        let expected =
                            flipped.is_some_and(|f| start + f as u64 >= known_from);
                        prop_assert_eq!(h.differs(start, &bytes, end), expected);
                    }
                }
            }
            prop_assert!(h.len <= window);
            prop_assert_eq!(budget.used(), h.len as u64);
            let released = h.release(&mut budget);
            budget.release(released);
            prop_assert_eq!(budget.used(), 0);
        }
    }

    /// An owned copy of an event, to collect and compare.
    #[derive(Debug, Clone, PartialEq, Eq)]
    enum Got {
        Data(u64, u64, Vec<u8>),
        Other(Event<'static>),
    }

    fn own(e: Event<'_>) -> Got {
        match e {
            Event::Data {
                frame,
                offset,
                bytes,
            } => Got::Data(frame.0, offset, bytes.to_vec()),
            Event::Gap { offset, len, cause } => Got::Other(Event::Gap { offset, len, cause }),
            Event::Retransmission {
                frame,
                offset,
                len,
                differs,
            } => Got::Other(Event::Retransmission {
                frame,
                offset,
                len,
                differs,
            }),
            Event::Overlap {
                frame,
                offset,
                len,
                old_bytes,
                differs,
            } => Got::Other(Event::Overlap {
                frame,
                offset,
                len,
                old_bytes,
                differs,
            }),
            Event::OutOfOrder { frame, offset, len } => {
                Got::Other(Event::OutOfOrder { frame, offset, len })
            }
            Event::KeepAlive { frame } => Got::Other(Event::KeepAlive { frame }),
            Event::Discarded { frame, len, reason } => {
                Got::Other(Event::Discarded { frame, len, reason })
            }
            Event::BufferLimit {
                offset,
                skipped,
                limit,
            } => Got::Other(Event::BufferLimit {
                offset,
                skipped,
                limit,
            }),
            Event::End { offset, cause } => Got::Other(Event::End { offset, cause }),
            Event::NotCaptured { frame, offset, len } => {
                Got::Other(Event::NotCaptured { frame, offset, len })
            }
        }
    }

    struct H {
        r: Reassembler,
        budget: Budget,
        out: Vec<Got>,
    }

    const SYN: u8 = 1;
    const FIN: u8 = 2;

    impl H {
        fn new() -> H {
            H::with(Limits::default(), Budget::default())
        }

        fn with(limits: Limits, budget: Budget) -> H {
            H {
                r: Reassembler::new(limits),
                budget,
                out: Vec::new(),
            }
        }

        /// Feeds a segment and returns the events it produced.
        fn seg(&mut self, frame: u64, seq: u32, flags: u8, payload: &[u8]) -> Vec<Got> {
            let s = Segment {
                frame: FrameNumber(frame),
                seq: SeqNum(seq),
                syn: flags & SYN != 0,
                fin: flags & FIN != 0,
                payload,
                uncaptured: 0,
            };
            let mut got = Vec::new();
            self.r
                .on_segment(&s, &mut self.budget, &mut |e| got.push(own(e)));
            self.out.extend(got.iter().cloned());
            got
        }

        fn ack(&mut self, ack: u32) -> Vec<Got> {
            let mut got = Vec::new();
            self.r
                .on_peer_ack(SeqNum(ack), &mut self.budget, &mut |e| got.push(own(e)));
            got
        }

        fn finish(&mut self, cause: EndCause) -> Vec<Got> {
            let mut got = Vec::new();
            self.r
                .finish(cause, &mut self.budget, &mut |e| got.push(own(e)));
            got
        }
    }

    fn data(frame: u64, offset: u64, bytes: &[u8]) -> Got {
        Got::Data(frame, offset, bytes.to_vec())
    }

    fn ev(e: Event<'static>) -> Got {
        Got::Other(e)
    }

    const F: fn(u64) -> FrameNumber = FrameNumber;

    #[test]
    fn in_order_bytes_borrow_the_segment() {
        let mut r = Reassembler::default();
        let mut budget = Budget::default();
        let payload = b"hello".to_vec();
        let syn = Segment {
            frame: F(1),
            seq: SeqNum(1000),
            syn: true,
            fin: false,
            payload: &[],
            uncaptured: 0,
        };
        r.on_segment(&syn, &mut budget, &mut |_| {});
        let seg = Segment {
            frame: F(2),
            seq: SeqNum(1001), // ISN + 1: the SYN consumed 1000
            syn: false,
            fin: false,
            payload: &payload,
            uncaptured: 0,
        };
        let mut seen = 0;
        r.on_segment(&seg, &mut budget, &mut |e| {
            if let Event::Data { offset, bytes, .. } = e {
                assert_eq!(offset, 0);
                assert_eq!(
                    bytes.as_ptr(),
                    payload.as_ptr(),
                    "not a view of the segment"
                );
                seen += 1;
            }
        });
        assert_eq!(seen, 1);
        assert_eq!(r.counters().payload_bytes, 5);
        assert_eq!(r.counters().data_segments, 1);
    }

    #[test]
    fn syn_with_data_starts_at_offset_zero() {
        let mut h = H::new();
        // TCP Fast Open style: the SYN itself carries "hi" at ISN + 1.
        assert_eq!(h.seg(1, 77, SYN, b"hi"), vec![data(1, 0, b"hi")]);
        assert_eq!(h.seg(2, 80, 0, b"!"), vec![data(2, 2, b"!")]);
    }

    #[test]
    fn out_of_order_segment_is_released_with_its_own_frame() {
        let mut h = H::new();
        h.seg(1, 100, SYN, b"");
        assert_eq!(
            h.seg(2, 104, 0, b"def"),
            vec![ev(Event::OutOfOrder {
                frame: F(2),
                offset: 3,
                len: 3
            })]
        );
        assert_eq!(h.r.pending_bytes(), 3);
        assert_eq!(
            h.seg(3, 101, 0, b"abc"),
            vec![data(3, 0, b"abc"), data(2, 3, b"def")]
        );
        assert_eq!(h.r.pending_bytes(), 0);
        assert_eq!(h.budget.used(), 6, "only the history window remains");
        assert_eq!(h.r.counters().out_of_order, 1);
        assert_eq!(h.r.counters().data_segments, 2);
    }

    #[test]
    fn retransmission_of_delivered_bytes_is_not_delivered_twice() {
        let mut h = H::new();
        h.seg(1, 0, SYN, b"");
        h.seg(2, 1, 0, b"abcdef");
        assert_eq!(
            h.seg(3, 1, 0, b"abcdef"),
            vec![ev(Event::Retransmission {
                frame: F(3),
                offset: 0,
                len: 6,
                differs: false
            })]
        );
        // Same range, different bytes: an inconsistency.
        assert_eq!(
            h.seg(4, 3, 0, b"XY"),
            vec![ev(Event::Retransmission {
                frame: F(4),
                offset: 2,
                len: 2,
                differs: true
            })]
        );
        let c = h.r.counters();
        assert_eq!(
            (c.retransmissions, c.inconsistencies, c.payload_bytes),
            (2, 1, 6)
        );
    }

    #[test]
    fn partial_overlap_with_differing_bytes_is_flagged() {
        let mut h = H::new();
        h.seg(1, 0, SYN, b"");
        h.seg(2, 1, 0, b"abcdef");
        // Offsets 4..8: "ef" is old (sent here as "EF"), "gh" is new.
        assert_eq!(
            h.seg(3, 5, 0, b"EFgh"),
            vec![
                data(3, 6, b"gh"),
                ev(Event::Overlap {
                    frame: F(3),
                    offset: 4,
                    len: 4,
                    old_bytes: 2,
                    differs: true
                })
            ]
        );
        // Same overlap with identical bytes: not an inconsistency.
        assert_eq!(
            h.seg(4, 7, 0, b"ghij"),
            vec![
                data(4, 8, b"ij"),
                ev(Event::Overlap {
                    frame: F(4),
                    offset: 6,
                    len: 4,
                    old_bytes: 2,
                    differs: false
                })
            ]
        );
        assert_eq!(h.r.counters().inconsistencies, 1);
        assert_eq!(h.r.counters().overlaps, 2);
    }

    #[test]
    fn buffered_bytes_win_over_a_later_overlapping_copy() {
        let mut h = H::new();
        h.seg(1, 0, SYN, b"");
        h.seg(2, 11, 0, b"KLMNO"); // offsets 10..15, buffered
        // Offsets 8..13, in order? No: next is 0, so out of order too; 10..13 overlap ("klm").
        let got = h.seg(3, 9, 0, b"ijklm");
        assert_eq!(
            got,
            vec![
                ev(Event::OutOfOrder {
                    frame: F(3),
                    offset: 8,
                    len: 5
                }),
                ev(Event::Overlap {
                    frame: F(3),
                    offset: 8,
                    len: 5,
                    old_bytes: 3,
                    differs: true
                })
            ]
        );
        // A copy of only buffered bytes is a retransmission.
        assert_eq!(
            h.seg(4, 12, 0, b"LM"),
            vec![ev(Event::Retransmission {
                frame: F(4),
                offset: 11,
                len: 2,
                differs: false
            })]
        );
        // Fill the hole with a segment that also overlaps the buffered pieces.
        assert_eq!(
            h.seg(5, 1, 0, b"abcdefghIJ"),
            vec![
                data(5, 0, b"abcdefgh"),
                data(3, 8, b"ij"),
                data(2, 10, b"KLMNO"),
                ev(Event::Overlap {
                    frame: F(5),
                    offset: 0,
                    len: 10,
                    old_bytes: 2,
                    differs: true
                })
            ]
        );
        assert_eq!(h.r.next_offset(), 15);
    }

    #[test]
    fn fin_consumes_one_sequence_number_and_ends_the_direction() {
        let mut h = H::new();
        h.seg(1, 500, SYN, b"");
        assert_eq!(
            h.seg(2, 501, FIN, b"bye"),
            vec![
                data(2, 0, b"bye"),
                ev(Event::End {
                    offset: 3,
                    cause: EndCause::Fin
                })
            ]
        );
        // The peer's ACK of the FIN (501 + 3 + 1) is not a gap.
        assert_eq!(h.ack(505), vec![]);
        // Bytes after the FIN cannot belong to the stream.
        assert_eq!(
            h.seg(3, 504, 0, b"zz"),
            vec![ev(Event::Discarded {
                frame: F(3),
                len: 2,
                reason: DiscardReason::AfterEnd
            })]
        );
        // finish() after a FIN end reports nothing more.
        assert_eq!(h.finish(EndCause::EndOfCapture), vec![]);
        assert_eq!(h.r.end_cause(), Some(EndCause::Fin));
    }

    #[test]
    fn fin_waits_for_the_hole_before_it() {
        let mut h = H::new();
        h.seg(1, 0, SYN, b"");
        h.seg(2, 4, FIN, b"def"); // offsets 3..6, FIN at 6
        assert_eq!(h.r.end_cause(), None);
        assert_eq!(
            h.seg(3, 1, 0, b"abc"),
            vec![
                data(3, 0, b"abc"),
                data(2, 3, b"def"),
                ev(Event::End {
                    offset: 6,
                    cause: EndCause::Fin
                })
            ]
        );
    }

    #[test]
    fn mid_connection_start_uses_the_first_segment_seen() {
        let mut h = H::new();
        assert_eq!(h.seg(7, 5000, 0, b"hello"), vec![data(7, 0, b"hello")]);
        // 10 bytes before the start, then 5 already delivered.
        assert_eq!(
            h.seg(8, 4990, 0, b"0123456789hello"),
            vec![
                ev(Event::Discarded {
                    frame: F(8),
                    len: 10,
                    reason: DiscardReason::BeforeStart
                }),
                ev(Event::Retransmission {
                    frame: F(8),
                    offset: 0,
                    len: 5,
                    differs: false
                })
            ]
        );
        assert_eq!(h.seg(9, 5005, 0, b"!"), vec![data(9, 5, b"!")]);
    }

    #[test]
    fn sequence_numbers_wrap_past_u32_max() {
        let mut h = H::new();
        let isn = u32::MAX - 2;
        h.seg(1, isn, SYN, b""); // offset 0 = u32::MAX - 1
        assert_eq!(h.seg(2, u32::MAX - 1, 0, b"ab"), vec![data(2, 0, b"ab")]);
        // Sequence 0 comes right after u32::MAX.
        assert_eq!(h.seg(3, 0, 0, b"cd"), vec![data(3, 2, b"cd")]);
        // Out of order across the wrap, then the fill.
        h.seg(4, 4, 0, b"gh");
        assert_eq!(
            h.seg(5, 2, 0, b"ef"),
            vec![data(5, 4, b"ef"), data(4, 6, b"gh")]
        );
        // A retransmission from before the wrap is recognised.
        assert_eq!(
            h.seg(6, u32::MAX, 0, b"bcd"),
            vec![ev(Event::Retransmission {
                frame: F(6),
                offset: 1,
                len: 3,
                differs: false
            })]
        );
    }

    #[test]
    fn offsets_keep_counting_beyond_4_gib() {
        let mut h = H::new();
        h.seg(1, 10, SYN, b"");
        h.seg(2, 11, 0, b"a");
        // Three peer ACKs, each 2^31 - 1 further on, declare the bytes the capture lacks.
        let mut ack = 12u32;
        for _ in 0..3 {
            ack = ack.wrapping_add((1 << 31) - 1);
            h.ack(ack);
        }
        let expected = 1 + 3 * ((1u64 << 31) - 1);
        assert_eq!(h.r.next_offset(), expected);
        assert!(expected > 1 << 32);
        assert_eq!(h.seg(3, ack, 0, b"z"), vec![data(3, expected, b"z")]);
        assert_eq!(h.r.counters().gap_bytes, expected - 1);
    }

    #[test]
    fn peer_ack_beyond_a_hole_declares_a_gap() {
        let mut h = H::new();
        h.seg(1, 0, SYN, b"");
        h.seg(2, 1, 0, b"abcde"); // 0..5
        h.seg(3, 11, 0, b"klmno"); // 10..15 buffered
        assert_eq!(h.ack(6), vec![], "ACK of what was seen: nothing missing");
        assert_eq!(
            h.ack(18), // up to offset 17: 15..17 were never seen either
            vec![
                ev(Event::Gap {
                    offset: 5,
                    len: 5,
                    cause: GapCause::PeerAck
                }),
                data(3, 10, b"klmno"),
                ev(Event::Gap {
                    offset: 15,
                    len: 2,
                    cause: GapCause::PeerAck
                }),
            ]
        );
        // The lost bytes arriving late are old now.
        assert_eq!(
            h.seg(4, 6, 0, b"fghij"),
            vec![ev(Event::Retransmission {
                frame: F(4),
                offset: 5,
                len: 5,
                differs: false
            })]
        );
        assert_eq!(h.r.counters().gap_bytes, 7);
    }

    #[test]
    fn finish_turns_holes_into_gaps_and_delivers_the_rest() {
        let mut h = H::new();
        h.seg(1, 0, SYN, b"");
        h.seg(2, 1, 0, b"ab"); // 0..2
        h.seg(3, 5, 0, b"ef"); // 4..6
        h.seg(4, 9, FIN, b"ij"); // 8..10, FIN at 10
        assert_eq!(
            h.finish(EndCause::EndOfCapture),
            vec![
                ev(Event::Gap {
                    offset: 2,
                    len: 2,
                    cause: GapCause::Finish
                }),
                data(3, 4, b"ef"),
                ev(Event::Gap {
                    offset: 6,
                    len: 2,
                    cause: GapCause::Finish
                }),
                data(4, 8, b"ij"),
                ev(Event::End {
                    offset: 10,
                    cause: EndCause::EndOfCapture
                }),
            ]
        );
        assert_eq!(h.budget.used(), 0, "finish releases buffers and history");
    }

    #[test]
    fn finish_declares_the_bytes_before_a_lone_fin() {
        let mut h = H::new();
        h.seg(1, 0, SYN, b"");
        h.seg(2, 1, 0, b"ab");
        h.seg(3, 8, FIN, b""); // FIN at offset 7: offsets 2..7 never seen
        assert_eq!(
            h.finish(EndCause::Reset),
            vec![
                ev(Event::Gap {
                    offset: 2,
                    len: 5,
                    cause: GapCause::Finish
                }),
                ev(Event::End {
                    offset: 7,
                    cause: EndCause::Reset
                }),
            ]
        );
    }

    #[test]
    fn direction_cap_skips_the_hole() {
        // Room for 10 bytes in two pieces (each piece also costs its bookkeeping).
        let limits = Limits {
            direction_cap: 10 + 2 * PIECE_OVERHEAD,
            history_window: 0,
        };
        let mut h = H::with(limits, Budget::default());
        h.seg(1, 0, SYN, b"");
        h.seg(2, 1, 0, b"ab"); // 0..2
        h.seg(3, 6, 0, b"fghijk"); // 5..11 buffered (6 bytes)
        let got = h.seg(4, 13, 0, b"mnopqr"); // 12..18: 12 > 10 bytes buffered
        assert_eq!(
            got,
            vec![
                ev(Event::Gap {
                    offset: 2,
                    len: 3,
                    cause: GapCause::BufferLimit
                }),
                data(3, 5, b"fghijk"),
                ev(Event::OutOfOrder {
                    frame: F(4),
                    offset: 12,
                    len: 6
                }),
                ev(Event::BufferLimit {
                    offset: 2,
                    skipped: 3,
                    limit: LimitKind::Direction
                }),
            ]
        );
        assert_eq!(h.r.pending_bytes(), 6);
        // A single segment bigger than the cap is delivered after skipping to it.
        let big = [b'x'; 300];
        let got = h.seg(5, 31, 0, &big); // 30..330
        assert_eq!(
            got.first(),
            Some(&ev(Event::Gap {
                offset: 11,
                len: 1,
                cause: GapCause::BufferLimit
            }))
        );
        assert!(got.contains(&data(5, 30, &big)));
        assert_eq!(h.r.counters().buffer_limit_hits, 2);
    }

    #[test]
    fn global_budget_skips_the_hole() {
        let limits = Limits {
            direction_cap: 1000,
            history_window: 0,
        };
        let mut h = H::with(limits, Budget::new(8 + 2 * PIECE_OVERHEAD));
        h.seg(1, 0, SYN, b"");
        h.seg(2, 3, 0, b"cdefg"); // 2..7, uses 5 of 8 (+ one piece)
        let got = h.seg(3, 10, 0, b"jklm"); // 9..13 needs 4 more
        assert_eq!(
            got,
            vec![
                ev(Event::Gap {
                    offset: 0,
                    len: 2,
                    cause: GapCause::BufferLimit
                }),
                data(2, 2, b"cdefg"),
                ev(Event::OutOfOrder {
                    frame: F(3),
                    offset: 9,
                    len: 4
                }),
                ev(Event::BufferLimit {
                    offset: 0,
                    skipped: 2,
                    limit: LimitKind::Global
                }),
            ]
        );
        assert_eq!(h.budget.used(), 4 + PIECE_OVERHEAD);
        h.finish(EndCause::EndOfCapture);
        assert_eq!(h.budget.used(), 0);
    }

    #[test]
    fn one_byte_flood_is_bounded_by_its_bookkeeping() {
        // Issue 15: the first byte missing, then 1-byte segments. The cap counts each piece's
        // bookkeeping, so the buffer holds cap / (1 + PIECE_OVERHEAD) pieces, then skips the
        // hole and delivers the rest in order.
        let cap = 100 * (1 + PIECE_OVERHEAD);
        let limits = Limits {
            direction_cap: cap,
            history_window: 0,
        };
        let mut h = H::with(limits, Budget::default());
        h.seg(1, 0, SYN, b"");
        let mut peak_pieces = 0;
        for k in 1..1000u32 {
            h.seg(u64::from(k) + 1, 1 + k, 0, b"z");
            assert!(h.r.pending_cost() <= cap);
            peak_pieces = peak_pieces.max(h.r.pending_pieces());
        }
        assert_eq!(peak_pieces, 100);
        assert_eq!(h.r.counters().buffer_limit_hits, 1);
        assert_eq!(h.r.counters().gap_bytes, 1, "only the missing first byte");
        assert_eq!(h.r.counters().payload_bytes, 999);
        assert_eq!(h.r.pending_bytes(), 0);
        assert_eq!(h.r.counters().peak_buffered_cost, cap);
        assert_eq!(h.budget.used(), 0);
    }

    #[test]
    fn bytes_cut_by_snaplen_are_not_captured_not_lost() {
        let mut h = H::new();
        h.seg(1, 0, SYN, b"");
        let cut = |h: &mut H, frame: u64, seq: u32, payload: &[u8], uncaptured: u64| {
            let s = Segment {
                frame: FrameNumber(frame),
                seq: SeqNum(seq),
                syn: false,
                fin: false,
                payload,
                uncaptured,
            };
            let mut got = Vec::new();
            h.r.on_segment(&s, &mut h.budget, &mut |e| got.push(own(e)));
            got
        };
        // 10 bytes on the wire, 4 captured; then the next 10 in order, 4 captured.
        assert_eq!(
            cut(&mut h, 2, 1, b"abcd", 6),
            vec![
                data(2, 0, b"abcd"),
                ev(Event::NotCaptured {
                    frame: F(2),
                    offset: 4,
                    len: 6
                })
            ]
        );
        let got = cut(&mut h, 3, 11, b"klmn", 6);
        assert_eq!(got.first(), Some(&data(3, 10, b"klmn")));
        assert!(
            !got.iter()
                .any(|g| matches!(g, Got::Other(Event::OutOfOrder { .. })))
        );
        // Out of order and cut: the uncaptured tail is buffered as such.
        let got = cut(&mut h, 4, 31, b"uv", 3); // 30..35
        assert!(got.contains(&ev(Event::OutOfOrder {
            frame: F(4),
            offset: 30,
            len: 5
        })));
        let got = cut(&mut h, 5, 21, b"", 10); // 20..30, header-only capture
        assert_eq!(
            got,
            vec![
                ev(Event::NotCaptured {
                    frame: F(5),
                    offset: 20,
                    len: 10
                }),
                data(4, 30, b"uv"),
                ev(Event::NotCaptured {
                    frame: F(4),
                    offset: 32,
                    len: 3
                }),
            ]
        );
        // A retransmission of a cut segment is a retransmission, not new data.
        let got = cut(&mut h, 6, 1, b"ab", 8);
        assert!(matches!(
            got.as_slice(),
            [Got::Other(Event::Retransmission { len: 10, .. })]
        ));
        let c = h.r.counters();
        assert_eq!(
            (c.payload_bytes, c.not_captured_bytes, c.gap_bytes),
            (10, 25, 0)
        );
        assert_eq!(c.out_of_order, 1);
    }

    #[test]
    fn keep_alive_is_not_a_retransmission() {
        let mut h = H::new();
        h.seg(1, 0, SYN, b"");
        h.seg(2, 1, 0, b"abc");
        // seq = next - 1 with one garbage byte.
        assert_eq!(
            h.seg(3, 3, 0, b"\0"),
            vec![ev(Event::KeepAlive { frame: F(3) })]
        );
        assert_eq!(
            h.seg(4, 3, 0, b""),
            vec![ev(Event::KeepAlive { frame: F(4) })]
        );
        assert_eq!(h.r.counters().retransmissions, 0);
        assert_eq!(h.r.counters().keep_alives, 2);
    }

    #[test]
    fn only_the_history_window_is_compared() {
        let limits = Limits {
            direction_cap: DEFAULT_DIRECTION_CAP,
            history_window: 4,
        };
        let mut h = H::with(limits, Budget::default());
        h.seg(1, 0, SYN, b"");
        h.seg(2, 1, 0, b"0123456789");
        // Offsets 0..2 fell out of the 4-byte window: not compared.
        assert!(h.seg(3, 1, 0, b"XX").contains(&ev(Event::Retransmission {
            frame: F(3),
            offset: 0,
            len: 2,
            differs: false
        })));
        // Offsets 8..10 are within it.
        assert!(h.seg(4, 9, 0, b"8X").contains(&ev(Event::Retransmission {
            frame: F(4),
            offset: 8,
            len: 2,
            differs: true
        })));
        assert_eq!(h.budget.used(), 4);
    }

    #[test]
    fn history_survives_a_gap() {
        let mut h = H::new();
        h.seg(1, 0, SYN, b"");
        h.seg(2, 1, 0, b"abc"); // 0..3
        h.ack(8); // 3..7 lost
        h.seg(3, 8, 0, b"hij"); // 7..10
        // Gap bytes are unknown: no verdict; delivered bytes on both sides still compared.
        let got = h.seg(4, 2, 0, b"bcXXXXhij");
        assert!(got.contains(&ev(Event::Retransmission {
            frame: F(4),
            offset: 1,
            len: 9,
            differs: false
        })));
        let got = h.seg(5, 2, 0, b"bcXXXXhiJ");
        assert!(got.contains(&ev(Event::Retransmission {
            frame: F(5),
            offset: 1,
            len: 9,
            differs: true
        })));
    }

    #[test]
    fn ack_before_any_segment_is_ignored() {
        let mut h = H::new();
        assert_eq!(h.ack(12345), vec![]);
        assert_eq!(h.finish(EndCause::EndOfCapture), vec![]);
    }

    // ---- Property tests against a naive byte-map model ----

    /// One capture of a random stream: which segments were sent, in which order.
    #[derive(Debug, Clone)]
    struct Scenario {
        data: Vec<u8>,
        isn: u32,
        with_syn: bool,
        /// (start, end) byte ranges of the stream, in capture order.
        sends: Vec<(usize, usize)>,
        /// Capture position of a bare FIN segment, if one is sent.
        fin_at: Option<usize>,
    }

    fn scenario(with_syn: bool) -> impl Strategy<Value = Scenario> {
        let isn = prop_oneof![any::<u32>(), (u32::MAX - 5000)..=u32::MAX];
        (
            proptest::collection::vec(any::<u8>(), 0..4000),
            isn,
            proptest::collection::vec(1usize..600, 1..30),
            proptest::collection::vec((any::<bool>(), 0u8..4), 30),
            proptest::collection::vec((any::<u16>(), 1usize..400), 0..8),
            proptest::collection::vec(any::<u32>(), 80),
            prop_oneof![Just(None), any::<u16>().prop_map(Some)],
        )
            .prop_map(move |(data, isn, sizes, fate, extra, order, fin)| {
                // Cut the stream into consecutive segments.
                let mut cuts = Vec::new();
                let mut at = 0;
                for size in sizes.iter().cycle() {
                    if at >= data.len() {
                        break;
                    }
                    let end = (at + size).min(data.len());
                    cuts.push((at, end));
                    at = end;
                }
                // Drop some (never re-sent), duplicate others.
                let mut sends = Vec::new();
                for (i, range) in cuts.iter().enumerate() {
                    let (dropped, copies) = fate[i % fate.len()];
                    if dropped && copies == 0 {
                        continue;
                    }
                    for _ in 0..=copies.min(2) {
                        sends.push(*range);
                    }
                }
                // Re-send random sub-ranges (overlaps; may re-cover a dropped range).
                for (start, len) in extra {
                    if data.is_empty() {
                        break;
                    }
                    let s = usize::from(start) % data.len();
                    sends.push((s, (s + len).min(data.len())));
                }
                // Reorder by random keys.
                let mut keyed: Vec<(u32, (usize, usize))> = sends
                    .into_iter()
                    .enumerate()
                    .map(|(i, r)| (order[i % order.len()].wrapping_add(i as u32), r))
                    .collect();
                keyed.sort_by_key(|(k, _)| *k);
                let sends: Vec<(usize, usize)> = keyed.into_iter().map(|(_, r)| r).collect();
                let fin_at = fin.map(|f| usize::from(f) % (sends.len() + 1));
                Scenario {
                    data,
                    isn,
                    with_syn,
                    sends,
                    fin_at,
                }
            })
    }

    /// Runs the scenario; returns the events (after finish).
    fn run(s: &Scenario, limits: Limits) -> Vec<Got> {
        let mut h = H::with(limits, Budget::default());
        let base = s.isn.wrapping_add(1); // sequence number of data[0]
        let mut frame = 1;
        if s.with_syn {
            h.seg(frame, s.isn, SYN, b"");
        }
        for i in 0..=s.sends.len() {
            frame += 1;
            if s.fin_at == Some(i) {
                let seq = base.wrapping_add(s.data.len() as u32);
                h.seg(frame, seq, FIN, b"");
                frame += 1;
            }
            if let Some(&(a, b)) = s.sends.get(i) {
                h.seg(frame, base.wrapping_add(a as u32), 0, &s.data[a..b]);
            }
        }
        let tail = h.finish(EndCause::EndOfCapture);
        h.out.into_iter().chain(tail).collect()
    }

    /// The model: offset 0 (as a data index), which bytes were ever captured, where the
    /// stream is known to end, and whether the direction was seen at all.
    fn model(s: &Scenario) -> (usize, Vec<bool>, usize, bool) {
        // Without a SYN, offset 0 is the first segment in capture order (FIN included).
        let first = if s.fin_at == Some(0) || s.sends.is_empty() && s.fin_at.is_some() {
            Some(s.data.len())
        } else {
            s.sends.first().map(|&(a, _)| a)
        };
        let p0 = if s.with_syn { 0 } else { first.unwrap_or(0) };
        let mut covered = vec![false; s.data.len()];
        for &(a, b) in &s.sends {
            for c in covered.iter_mut().take(b).skip(a) {
                *c = true;
            }
        }
        let mut known_end = s.sends.iter().map(|&(_, b)| b).max().unwrap_or(0);
        if s.fin_at.is_some() {
            known_end = s.data.len();
        }
        (
            p0,
            covered,
            known_end.max(p0),
            s.with_syn || first.is_some(),
        )
    }

    /// Checks that Data and Gap events tile [0, known_end) with the right bytes; returns the
    /// gap ranges and data ranges found.
    fn check_tiling(s: &Scenario, got: &[Got], strict_gaps: bool) -> Result<(), TestCaseError> {
        let (p0, covered, known_end, seen) = model(s);
        let mut cursor = 0u64;
        let mut ends = 0;
        for g in got {
            match g {
                Got::Data(_, offset, bytes) => {
                    prop_assert_eq!(*offset, cursor, "data not contiguous");
                    let a = p0 + *offset as usize;
                    prop_assert_eq!(&bytes[..], &s.data[a..a + bytes.len()]);
                    prop_assert!(covered[a..a + bytes.len()].iter().all(|&c| c));
                    cursor += bytes.len() as u64;
                }
                Got::Other(Event::Gap { offset, len, cause }) => {
                    prop_assert_eq!(*offset, cursor, "gap not contiguous");
                    prop_assert!(*len > 0);
                    let a = p0 + *offset as usize;
                    if strict_gaps {
                        prop_assert_eq!(*cause, GapCause::Finish);
                        // Exactly the never-captured bytes.
                        prop_assert!(covered[a..a + *len as usize].iter().all(|&c| !c));
                    }
                    cursor += len;
                }
                Got::Other(Event::End { offset, .. }) => {
                    prop_assert_eq!(*offset, cursor);
                    ends += 1;
                }
                Got::Other(Event::Discarded { reason, .. }) => {
                    prop_assert_eq!(*reason, DiscardReason::BeforeStart);
                }
                Got::Other(_) => {}
            }
        }
        prop_assert_eq!(cursor, (known_end - p0) as u64, "stream length");
        prop_assert_eq!(ends, usize::from(seen));
        if strict_gaps {
            // Every uncovered byte below the end was reported (tiling + all data covered).
            let uncovered = covered[p0..known_end].iter().filter(|&&c| !c).count();
            let gap_total: u64 = got
                .iter()
                .filter_map(|g| match g {
                    Got::Other(Event::Gap { len, .. }) => Some(*len),
                    _ => None,
                })
                .sum();
            prop_assert_eq!(gap_total, uncovered as u64);
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn reassembles_any_order_with_syn(s in scenario(true)) {
            let got = run(&s, Limits::default());
            check_tiling(&s, &got, true)?;
        }

        #[test]
        fn reassembles_any_order_mid_connection(s in scenario(false)) {
            let got = run(&s, Limits::default());
            check_tiling(&s, &got, true)?;
        }

        #[test]
        fn tiny_limits_still_give_correct_bytes(
            s in scenario(true),
            cap in 1u64..300,
            window in 0usize..64,
        ) {
            let limits = Limits { direction_cap: cap, history_window: window };
            let got = run(&s, limits);
            check_tiling(&s, &got, false)?;
        }

        #[test]
        fn arbitrary_segments_never_panic(
            segs in proptest::collection::vec(
                (any::<u32>(), 0u8..4, proptest::collection::vec(any::<u8>(), 0..50), any::<Option<u32>>()),
                0..40,
            ),
            cap in 0u64..100,
        ) {
            let limits = Limits { direction_cap: cap, history_window: 16 };
            let mut h = H::with(limits, Budget::new(64));
            for (i, (seq, flags, payload, ack)) in segs.iter().enumerate() {
                h.seg(i as u64 + 1, *seq, *flags, payload);
                if let Some(ack) = ack {
                    h.ack(*ack);
                }
            }
            h.finish(EndCause::EndOfCapture);
            prop_assert_eq!(h.budget.used(), 0);
        }
    }
}
