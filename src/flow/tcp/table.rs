//! `StreamTable`: finds the connection of each TCP segment, numbers connections like
//! Wireshark's `tcp.stream`, decides who is the client, and bounds the memory of it all.
//!
//! In: one [`SegmentInfo`] per decoded TCP segment, in capture order. Out: the segment's
//! stream id, direction, relative sequence numbers and Wireshark's per-packet analysis
//! ([`Outcome`]); reassembly events tagged with stream and direction ([`StreamEvent`])
//! through the caller's sink; and a summary per connection ([`Stream`]), handed out as soon as
//! it is final ([`StreamTable::drain_closed`]) or at the end ([`StreamTable::take_streams`]).
//!
//! **Client and server** (issue 11). The roles come from the best evidence seen, strongest
//! first: a SYN (its sender is the client) or a SYN-ACK (its receiver is the client); else the
//! content of the first payload, through the optional hook [`StreamTable::with_role_hint`]
//! (e.g. an HTTP request line means the sender is the client, a status line that it is the
//! server); else the ports: a well-known port (below 1024) against a higher one, or a port
//! below 32768 against one at or above it (where Linux, BSD and Windows pick ephemeral
//! ports), makes the lower side the server; else the first packet's sender is the client.
//! Weaker evidence is replaced by stronger evidence until the first payload byte of the
//! connection is delivered; after that the roles stay.
//!
//! **Bounded state** (issue 15). Live connections sit in a hash map and in two
//! least-recently-used lists (open ones and closed ones), so each packet costs O(1) besides
//! its reassembly. A connection closed by FINs both ways or a RST releases its buffers at
//! once and keeps only its summary; it stays findable for [`TableLimits::closed_linger`] of
//! capture time (late ACKs and retransmissions keep its stream id, as in Wireshark), then
//! retires. An open connection idle for [`TableLimits::idle_timeout`] (default 5 minutes,
//! Zeek's `tcp_inactivity_timeout`) ends as [`super::StreamEnd::TimedOut`]. When
//! [`TableLimits::max_flows`] connections are live, the longest-idle closed one retires, or
//! else the longest-idle open one ends as [`super::StreamEnd::Evicted`]. Both are counted
//! ([`TableCounters`]) and visible in the stream's [`Stream::end`].
//!
//! **Costs.** Per packet: two or three hash lookups, O(1) list moves, expiry that only looks
//! at the heads of the two lists (each connection expires once), and its reassembly (O(log n)
//! per buffered piece). Memory: a live connection is a 456-byte slot (summary record and live
//! state; its payload buffers are boxed only when used) plus about 80 bytes of map entries,
//! in a slab that never grows past `max_flows` slots; a retired one leaves a 24-byte tombstone
//! under its 40-byte key (at most `max_flows` of them, oldest dropped first, O(1) amortised)
//! and its 216-byte record until the caller takes it ([`StreamTable::drain_closed`]: a caller
//! that never drains keeps one record per connection of the capture).
//!
//! **Hashing.** The addresses and ports are the capture writer's to choose, so the maps must
//! not let crafted 4-tuples collide. They use foldhash with a random seed per map (drawn from
//! a per-process random value): whoever writes the capture cannot see the seed, so cannot
//! aim at collisions, which is what SipHash's keying bought here too; foldhash hashes a
//! 4-tuple in a few nanoseconds where SipHash took some 40 (measured: SipHash was 3–4 % of
//! `stats` and `http` on the 1M-packet bench).

use std::collections::VecDeque;

use foldhash::{HashMap, HashMapExt};
use std::time::Duration;

use crate::flow::Direction;

use super::analysis::{AnalysisFlags, DupAck, WindowScale, nanos};
use super::reassembly::{Budget, DEFAULT_GLOBAL_BUDGET, EndCause, Limits};
use super::segment::{SegmentInfo, StreamEvent};
use super::seq::SeqNum;
use super::stream::{Conn, Endpoint, Record, RoleEvidence, Stream, StreamId};

/// Where a segment belongs, its numbers as Wireshark shows them, and Wireshark's analysis of
/// it (`tcp.analysis.*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Outcome {
    /// The connection.
    pub stream: StreamId,
    /// Its direction.
    pub direction: Direction,
    /// `seq` relative to the sender's base (Wireshark's relative sequence number).
    pub relative_seq: u32,
    /// `ack` relative to the receiver's base, when the ACK flag is set.
    pub relative_ack: Option<u32>,
    /// Payload length on the wire (`tcp.len`), also for a RST or a segment cut by snaplen.
    pub len: u32,
    /// The window the sender advertised, scaled when the scale is known (`tcp.window_size`).
    pub window: u32,
    /// What is known about the scale (`tcp.window_size_scalefactor`); `None` for a SYN,
    /// whose window is never scaled.
    pub window_scale: Option<WindowScale>,
    /// Wireshark's analysis flags for this segment.
    pub analysis: AnalysisFlags,
    /// For a duplicate ACK: its number and the frame it repeats (`[TCP Dup ACK 5#2]`).
    pub dup_ack: Option<DupAck>,
}

/// Default capture-time idle timeout of an open connection: 5 minutes, Zeek's
/// `tcp_inactivity_timeout`.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(300);
/// Default time a closed connection keeps its stream id for late packets: 60 s, Linux's
/// TIME-WAIT.
pub const DEFAULT_CLOSED_LINGER: Duration = Duration::from_secs(60);
/// Default cap on live connections: 65,536. An open connection costs about 800 bytes in the
/// table without buffered data (its slot of 456 bytes: summary record, Wireshark's analysis
/// state and the reassembly state of both directions; its map entries; the tombstone a retired
/// one leaves), plus what each analysis keeps for it (`streams` and `sticky`: the framing of
/// each direction that spoke, about 1.3 KB). The cap is one power of two of slots, so the table
/// never doubles past it, and keeps the worst case of every command under 256 MB (measured:
/// `streams` on 500,000 connections that stay open): room on a laptop, and far more
/// connections than a normal capture has open at once.
pub const DEFAULT_MAX_FLOWS: usize = 65_536;

/// Memory and time limits of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableLimits {
    /// Limits of each direction's reassembler.
    pub reassembly: Limits,
    /// Bytes all reassemblers together may buffer (out-of-order data and history).
    pub global_budget: u64,
    /// An open connection with no packet for this long (capture time) ends as timed out.
    pub idle_timeout: Duration,
    /// A closed connection is kept (for late packets) this long after its last packet.
    pub closed_linger: Duration,
    /// Most connections kept at once (open or recently closed); at least 1.
    pub max_flows: usize,
}

impl Default for TableLimits {
    fn default() -> TableLimits {
        TableLimits {
            reassembly: Limits::default(),
            global_budget: DEFAULT_GLOBAL_BUDGET,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            closed_linger: DEFAULT_CLOSED_LINGER,
            max_flows: DEFAULT_MAX_FLOWS,
        }
    }
}

/// Which end of a connection sent some bytes, as a content detector sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The bytes open an exchange (e.g. an HTTP request line): their sender is the client.
    Client,
    /// The bytes answer one (e.g. an HTTP status line): their sender is the server.
    Server,
}

/// A content detector: looks at the first payload of a connection without a captured
/// handshake and says whose it is, if it can tell.
pub type RoleHint = fn(&[u8]) -> Option<Role>;

/// What the table did to bound its state, for a note to the user.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct TableCounters {
    /// Connections ended because they were idle longer than the idle timeout.
    pub timed_out: u64,
    /// Open connections ended because the table was full.
    pub evicted: u64,
    /// Connections whose client/server roles were swapped after the first packet.
    pub roles_revised: u64,
    /// Connections live now.
    pub live: u64,
    /// Most connections live at once.
    pub peak_live: u64,
}

/// Canonical 4-tuple: the lower endpoint first, so both directions find the same entry.
type Key = (Endpoint, Endpoint);

fn key_of(a: Endpoint, b: Endpoint) -> Key {
    if a <= b { (a, b) } else { (b, a) }
}

/// Index of a slot; `NIL` ends a list.
type SlotId = u32;
const NIL: SlotId = u32::MAX;

/// Which least-recently-used list a live connection is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ListKind {
    Open,
    Closed,
}

/// A live connection in the slab (its key is the record's `lo`, `hi`).
#[derive(Debug)]
struct Slot {
    conn: Conn,
    prev: SlotId,
    next: SlotId,
    list: ListKind,
}

impl Slot {
    fn key(&self) -> Key {
        (self.conn.rec.lo, self.conn.rec.hi)
    }
}

/// A doubly linked list through the slab: head = least recently used.
#[derive(Debug, Clone, Copy)]
struct Lru {
    head: SlotId,
    tail: SlotId,
}

impl Default for Lru {
    fn default() -> Lru {
        Lru {
            head: NIL,
            tail: NIL,
        }
    }
}

/// What is kept of a connection after its summary became final, so a late packet on the same
/// addresses and ports continues the same stream id with the same relative numbers (as in
/// Wireshark, which never forgets a conversation): 24 bytes, the endpoints being the map key.
#[derive(Debug, Clone, Copy)]
struct Tomb {
    id: StreamId,
    /// Base sequence numbers, client → server first, valid where `has_base` says so.
    bases: [u32; 2],
    has_base: [bool; 2],
    client_is_hi: bool,
    role_evidence: RoleEvidence,
}

impl Tomb {
    fn bases(&self) -> [Option<SeqNum>; 2] {
        let [a, b] = self.bases;
        let [ha, hb] = self.has_base;
        [ha.then_some(SeqNum(a)), hb.then_some(SeqNum(b))]
    }
}

/// Where a stream id is found.
#[derive(Debug, Clone, Copy)]
enum Loc {
    Live(SlotId),
    /// Position in the closed queue, counting every summary ever queued.
    Closed(u64),
}

/// A [`Loc`] in 8 bytes (the map of stream ids holds one per connection not handed out yet):
/// a live slot has the top bit set.
#[derive(Debug, Clone, Copy)]
struct PackedLoc(u64);

impl PackedLoc {
    const LIVE: u64 = 1 << 63;

    fn new(loc: Loc) -> PackedLoc {
        match loc {
            Loc::Live(slot) => PackedLoc(PackedLoc::LIVE | u64::from(slot)),
            Loc::Closed(pos) => PackedLoc(pos & !PackedLoc::LIVE),
        }
    }

    fn get(self) -> Loc {
        if self.0 & PackedLoc::LIVE != 0 {
            Loc::Live(SlotId::try_from(self.0 & !PackedLoc::LIVE).unwrap_or(NIL))
        } else {
            Loc::Closed(self.0)
        }
    }
}

/// All TCP connections of a capture.
///
/// ```
/// use std::net::{IpAddr, Ipv4Addr};
/// use std::time::Duration;
/// use pcaplab::capture::FrameNumber;
/// use pcaplab::flow::Direction;
/// use pcaplab::flow::tcp::{Flags, SegmentInfo, StreamId, StreamTable};
///
/// let client = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
/// let server = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
/// let mut table = StreamTable::default();
/// let syn = SegmentInfo {
///     frame: FrameNumber(1), ts: Duration::ZERO, frame_len: 74,
///     src: client, sport: 40000, dst: server, dport: 80,
///     seq: 1000, ack: 0, flags: Flags { syn: true, ..Flags::default() },
///     window: 64240, payload: b"", wire_payload_len: 0, options: Some(&[]),
/// };
/// let out = table.on_segment(&syn, &mut |_| {});
/// assert_eq!(out.stream, StreamId(0));
/// assert_eq!(out.direction, Direction::ClientToServer);
/// assert_eq!(out.relative_seq, 0);
/// ```
#[derive(Debug)]
pub struct StreamTable {
    slots: Vec<Option<Slot>>,
    free: Vec<SlotId>,
    open: Lru,
    closed_lru: Lru,
    by_key: HashMap<Key, SlotId>,
    by_id: HashMap<StreamId, PackedLoc>,
    /// Tombstones of retired connections, oldest first in `tomb_order` (at most `max_flows`).
    tombs: HashMap<Key, Tomb>,
    tomb_order: VecDeque<(Key, StreamId)>,
    /// Final summaries not yet handed out, in the order they became final.
    closed: VecDeque<Record>,
    /// Summaries ever handed out of `closed` (the position of its front).
    closed_base: u64,
    next_id: u64,
    budget: Budget,
    limits: TableLimits,
    role_hint: Option<RoleHint>,
    counters: TableCounters,
}

impl Default for StreamTable {
    fn default() -> StreamTable {
        StreamTable::new(TableLimits::default())
    }
}

impl StreamTable {
    /// An empty table with the given limits.
    pub fn new(limits: TableLimits) -> StreamTable {
        StreamTable {
            slots: Vec::new(),
            free: Vec::new(),
            open: Lru::default(),
            closed_lru: Lru::default(),
            by_key: HashMap::new(),
            by_id: HashMap::new(),
            tombs: HashMap::new(),
            tomb_order: VecDeque::new(),
            closed: VecDeque::new(),
            closed_base: 0,
            next_id: 0,
            budget: Budget::new(limits.global_budget),
            limits,
            role_hint: None,
            counters: TableCounters::default(),
        }
    }

    /// Uses `hint` to tell client from server by content when no handshake was captured
    /// (see the module docs).
    pub fn with_role_hint(mut self, hint: RoleHint) -> StreamTable {
        self.role_hint = Some(hint);
        self
    }

    /// Takes every summary not handed out yet (call after [`StreamTable::finish_all`]), by
    /// stream id. Summaries already taken by [`StreamTable::drain_closed`] are not repeated.
    pub fn take_streams(&mut self) -> Vec<Stream> {
        // The maps go first, and each record as soon as its row is made, so the peak is about
        // the rows alone (a caller that needs no rows should drain and drop them instead).
        self.free = Vec::new();
        self.open = Lru::default();
        self.closed_lru = Lru::default();
        self.by_key = HashMap::new();
        self.by_id = HashMap::new();
        self.tombs = HashMap::new();
        self.tomb_order = VecDeque::new();
        self.closed_base = 0;
        self.counters.live = 0;
        let live = self.slots.iter().flatten().count();
        let mut out: Vec<Stream> = Vec::with_capacity(self.closed.len() + live);
        while let Some(r) = self.closed.pop_front() {
            out.push(r.to_stream());
            if self.closed.capacity() > 1024 && self.closed.len() < self.closed.capacity() / 4 {
                self.closed.shrink_to_fit();
            }
        }
        self.closed = VecDeque::new();
        for slot in std::mem::take(&mut self.slots).into_iter().flatten() {
            out.push(slot.conn.rec.to_stream());
        }
        out.sort_unstable_by_key(|s| s.id);
        out
    }

    /// Hands out, oldest first, the summaries that became final (closed and retired, timed
    /// out, evicted or replaced) since the last call, so a caller can stream rows instead of
    /// holding every summary. Call it between segments as often as convenient.
    pub fn drain_closed(&mut self, mut f: impl FnMut(Stream)) {
        while let Some(r) = self.closed.pop_front() {
            // A connection given up as timed out keeps its stream id when it resumes: the id
            // then names the live connection, which stays findable.
            if matches!(self.loc(r.id), Some(Loc::Closed(pos)) if pos == self.closed_base) {
                self.by_id.remove(&r.id);
            }
            self.closed_base += 1;
            f(r.to_stream());
        }
    }

    /// The connections still live (open, or closed and lingering for late packets), as rows
    /// built on the way.
    pub fn live_streams(&self) -> impl Iterator<Item = Stream> + '_ {
        self.slots.iter().flatten().map(|s| s.conn.rec.to_stream())
    }

    /// The row of one connection, live or final but not handed out yet (built on demand:
    /// prefer [`StreamTable::endpoints`] when only the endpoints are needed).
    pub fn stream(&self, id: StreamId) -> Option<Stream> {
        self.record(id).map(Record::to_stream)
    }

    /// The client and the server of one connection, live or final but not handed out yet.
    pub fn endpoints(&self, id: StreamId) -> Option<(Endpoint, Endpoint)> {
        self.record(id).map(|r| (r.client(), r.server()))
    }

    /// Memory the buffers of a live connection hold now (out-of-order pieces and the
    /// retransmission history); 0 once it was released or retired.
    pub fn held_bytes(&self, id: StreamId) -> u64 {
        match self.loc(id) {
            Some(Loc::Live(slot)) => self.slot(slot).map_or(0, |s| s.conn.held_bytes()),
            _ => 0,
        }
    }

    /// The next expected stream offset of direction `d` of a live connection (its bytes
    /// delivered, gaps and bytes not captured included).
    pub fn next_offset(&self, id: StreamId, d: Direction) -> Option<u64> {
        match self.loc(id)? {
            Loc::Live(slot) => self.slot(slot).map(|s| s.conn.next_offset(d)),
            Loc::Closed(_) => None,
        }
    }

    /// What is known about the window scale of the side sending in direction `d` of a live
    /// connection.
    pub fn window_scale(&self, id: StreamId, d: Direction) -> Option<WindowScale> {
        match self.loc(id)? {
            Loc::Live(slot) => self.slot(slot).map(|s| s.conn.window_scale(d)),
            Loc::Closed(_) => None,
        }
    }

    fn loc(&self, id: StreamId) -> Option<Loc> {
        self.by_id.get(&id).map(|p| p.get())
    }

    fn record(&self, id: StreamId) -> Option<&Record> {
        match self.loc(id)? {
            Loc::Live(slot) => self.slot(slot).map(|s| &s.conn.rec),
            Loc::Closed(pos) => {
                let i = usize::try_from(pos.checked_sub(self.closed_base)?).ok()?;
                self.closed.get(i)
            }
        }
    }

    /// The shared memory budget (for reporting how much is in use).
    pub fn budget(&self) -> &Budget {
        &self.budget
    }

    /// The limits in force.
    pub fn limits(&self) -> &TableLimits {
        &self.limits
    }

    /// What the table did to bound its state so far.
    pub fn counters(&self) -> &TableCounters {
        &self.counters
    }

    fn slot(&self, id: SlotId) -> Option<&Slot> {
        self.slots.get(id as usize)?.as_ref()
    }

    fn slot_mut(&mut self, id: SlotId) -> Option<&mut Slot> {
        self.slots.get_mut(id as usize)?.as_mut()
    }

    fn lru_mut(&mut self, kind: ListKind) -> &mut Lru {
        match kind {
            ListKind::Open => &mut self.open,
            ListKind::Closed => &mut self.closed_lru,
        }
    }

    /// Takes a slot off its list.
    fn unlink(&mut self, id: SlotId) {
        let Some(s) = self.slot(id) else {
            return;
        };
        let (prev, next, kind) = (s.prev, s.next, s.list);
        match self.slot_mut(prev) {
            Some(p) => p.next = next,
            None => self.lru_mut(kind).head = next,
        }
        match self.slot_mut(next) {
            Some(n) => n.prev = prev,
            None => self.lru_mut(kind).tail = prev,
        }
        if let Some(s) = self.slot_mut(id) {
            s.prev = NIL;
            s.next = NIL;
        }
    }

    /// Puts a slot at the tail (most recently used) of list `kind`.
    fn push_back(&mut self, id: SlotId, kind: ListKind) {
        let tail = self.lru_mut(kind).tail;
        if let Some(s) = self.slot_mut(id) {
            s.list = kind;
            s.prev = tail;
            s.next = NIL;
        }
        match self.slot_mut(tail) {
            Some(t) => t.next = id,
            None => self.lru_mut(kind).head = id,
        }
        self.lru_mut(kind).tail = id;
    }

    /// Marks a slot as just used, on the list its stream's state calls for.
    fn touch(&mut self, id: SlotId) {
        let Some(s) = self.slot(id) else {
            return;
        };
        let kind = if s.conn.is_released() {
            ListKind::Closed
        } else {
            ListKind::Open
        };
        self.unlink(id);
        self.push_back(id, kind);
    }

    /// Removes a live connection and queues its summary as final.
    fn retire(&mut self, id: SlotId) {
        self.unlink(id);
        let Some(slot) = self.slots.get_mut(id as usize).and_then(Option::take) else {
            return;
        };
        self.free.push(id);
        let key = slot.key();
        if self.by_key.get(&key) == Some(&id) {
            self.by_key.remove(&key);
        }
        let pos = self.closed_base + self.closed.len() as u64;
        self.by_id
            .insert(slot.conn.rec.id, PackedLoc::new(Loc::Closed(pos)));
        self.bury(key, &slot.conn);
        self.closed.push_back(slot.conn.into_record());
        self.counters.live = self.counters.live.saturating_sub(1);
    }

    /// Keeps a tombstone of a retiring connection (dropping the oldest beyond `max_flows`).
    fn bury(&mut self, key: Key, conn: &Conn) {
        let [c2s, s2c] = conn.bases();
        let tomb = Tomb {
            id: conn.rec.id,
            bases: [c2s.unwrap_or_default().0, s2c.unwrap_or_default().0],
            has_base: [c2s.is_some(), s2c.is_some()],
            client_is_hi: conn.rec.client_is_hi,
            role_evidence: conn.rec.role_evidence,
        };
        self.tombs.insert(key, tomb);
        self.tomb_order.push_back((key, conn.rec.id));
        while self.tomb_order.len() > self.limits.max_flows.max(1) {
            if let Some((old_key, old_id)) = self.tomb_order.pop_front()
                && self.tombs.get(&old_key).is_some_and(|t| t.id == old_id)
            {
                self.tombs.remove(&old_key);
            }
        }
    }

    /// Ends a live connection for `cause` (timeout, eviction, port reuse) and retires it.
    fn end_and_retire<F>(&mut self, id: SlotId, cause: EndCause, sink: &mut F)
    where
        F: FnMut(StreamEvent<'_>),
    {
        let budget = &mut self.budget;
        let limits = &self.limits.reassembly;
        if let Some(slot) = self.slots.get_mut(id as usize).and_then(Option::as_mut) {
            slot.conn.finish(cause, limits, budget, sink);
        }
        self.retire(id);
    }

    /// Retires closed connections that lingered long enough and ends open ones idle for
    /// longer than the idle timeout, as of capture time `now`.
    fn expire<F>(&mut self, now: Duration, sink: &mut F)
    where
        F: FnMut(StreamEvent<'_>),
    {
        let now = nanos(now);
        let linger = nanos(self.limits.closed_linger);
        let idle = nanos(self.limits.idle_timeout);
        while let Some(s) = self.slot(self.closed_lru.head) {
            if now.saturating_sub(s.conn.rec.last_ts) <= linger {
                break;
            }
            self.retire(self.closed_lru.head);
        }
        while let Some(s) = self.slot(self.open.head) {
            if now.saturating_sub(s.conn.rec.last_ts) <= idle {
                break;
            }
            self.counters.timed_out += 1;
            self.end_and_retire(self.open.head, EndCause::TimedOut, sink);
        }
    }

    /// Makes room for one more connection when `max_flows` are live.
    fn make_room<F>(&mut self, sink: &mut F)
    where
        F: FnMut(StreamEvent<'_>),
    {
        while self.counters.live >= self.limits.max_flows.max(1) as u64 {
            if self.closed_lru.head != NIL {
                self.retire(self.closed_lru.head);
            } else if self.open.head != NIL {
                self.counters.evicted += 1;
                self.end_and_retire(self.open.head, EndCause::Evicted, sink);
            } else {
                break;
            }
        }
    }

    /// Takes one TCP segment: finds or creates its connection, updates it, and sends the
    /// resulting reassembly events to `sink` (also those of connections that time out or are
    /// evicted meanwhile).
    ///
    /// A SYN without ACK whose sequence number differs from the base sequence number of the
    /// existing connection's sending side starts a new connection (port reuse), as in
    /// Wireshark; the old one ends with [`EndCause::Replaced`].
    pub fn on_segment<F>(&mut self, seg: &SegmentInfo<'_>, sink: &mut F) -> Outcome
    where
        F: FnMut(StreamEvent<'_>),
    {
        let src = Endpoint {
            addr: seg.src,
            port: seg.sport,
        };
        let dst = Endpoint {
            addr: seg.dst,
            port: seg.dport,
        };
        self.expire(seg.ts, sink);
        let key = key_of(src, dst);
        let existing = self.by_key.get(&key).copied();
        let mut reused = false;
        let id = match existing {
            Some(i) if !self.is_port_reuse(i, src, seg) => i,
            old => {
                if let Some(old) = old {
                    reused = true;
                    self.end_and_retire(old, EndCause::Replaced, sink);
                }
                self.make_room(sink);
                match self.tombs.remove(&key) {
                    Some(tomb) if !is_new_syn(&tomb, key, src, seg) => {
                        self.resume_stream(key, tomb, seg)
                    }
                    tomb => {
                        reused |= tomb.is_some();
                        self.open_stream(key, src, dst, seg)
                    }
                }
            }
        };
        self.revise_roles(id, src, seg);
        let budget = &mut self.budget;
        let limits = &self.limits.reassembly;
        let Some(slot) = self.slots.get_mut(id as usize).and_then(Option::as_mut) else {
            // Unreachable: `id` was just found or made.
            return Outcome {
                stream: StreamId(u64::MAX),
                direction: Direction::ClientToServer,
                relative_seq: seg.seq,
                relative_ack: None,
                len: seg.wire_payload_len,
                window: u32::from(seg.window),
                window_scale: None,
                analysis: AnalysisFlags::default(),
                dup_ack: None,
            };
        };
        let conn = &mut slot.conn;
        let direction = conn.rec.direction_of(src);
        let report = conn.on_segment(direction, seg, limits, budget, sink);
        let (relative_seq, relative_ack) = conn.relative(direction, seg.seq, seg.ack);
        let mut analysis = report.verdict.flags;
        if reused {
            analysis.insert(AnalysisFlags::REUSED_PORTS);
        }
        let outcome = Outcome {
            stream: conn.rec.id,
            direction,
            relative_seq,
            relative_ack: seg.flags.ack.then_some(relative_ack),
            len: seg
                .wire_payload_len
                .max(u32::try_from(seg.payload.len()).unwrap_or(u32::MAX)),
            window: report.window,
            window_scale: report.window_scale,
            analysis,
            dup_ack: report.verdict.dup_ack,
        };
        self.touch(id);
        outcome
    }

    /// Swaps client and server of slot `id` when `seg` (from `src`) gives stronger evidence
    /// than what decided them, while no payload byte was delivered.
    fn revise_roles(&mut self, id: SlotId, src: Endpoint, seg: &SegmentInfo<'_>) {
        let hint = self.role_hint;
        let Some(slot) = self.slot_mut(id) else {
            return;
        };
        let conn = &mut slot.conn;
        if !conn.roles_revisable() {
            return;
        }
        let Some((evidence, sender_is_client)) = role_evidence(seg, hint) else {
            return;
        };
        if evidence <= conn.rec.role_evidence {
            return;
        }
        conn.rec.role_evidence = evidence;
        if sender_is_client != (src == conn.rec.client()) {
            conn.swap_roles();
            self.counters.roles_revised += 1;
        }
    }

    /// True when `seg` (a SYN without ACK from `src`) starts a new connection on the 4-tuple
    /// of slot `i`: its sequence number differs from that side's base (packet-tcp.c).
    fn is_port_reuse(&self, i: SlotId, src: Endpoint, seg: &SegmentInfo<'_>) -> bool {
        if !seg.flags.syn || seg.flags.ack {
            return false;
        }
        let Some(slot) = self.slot(i) else {
            return false;
        };
        let conn = &slot.conn;
        conn.base_seq(conn.rec.direction_of(src))
            .is_some_and(|base| base != SeqNum(seg.seq))
    }

    /// Continues a retired connection under its old id (a late packet on its 4-tuple).
    fn resume_stream(&mut self, key: Key, tomb: Tomb, seg: &SegmentInfo<'_>) -> SlotId {
        let mut conn = Conn::new(tomb.id, key, tomb.client_is_hi, tomb.role_evidence, seg);
        conn.set_bases(tomb.bases());
        self.insert_stream(key, conn)
    }

    /// Creates a stream for the first packet `seg` and makes it current for `key`.
    fn open_stream(
        &mut self,
        key: Key,
        src: Endpoint,
        dst: Endpoint,
        seg: &SegmentInfo<'_>,
    ) -> SlotId {
        let (evidence, src_is_client) = role_evidence(seg, self.role_hint)
            .or_else(|| port_rule(src.port, dst.port).map(|c| (RoleEvidence::Port, c)))
            .unwrap_or((RoleEvidence::FirstSender, true));
        let client = if src_is_client { src } else { dst };
        let id = StreamId(self.next_id);
        self.next_id += 1;
        let conn = Conn::new(id, key, client == key.1, evidence, seg);
        self.insert_stream(key, conn)
    }

    /// Puts a new live connection in the slab, the open list and the maps.
    fn insert_stream(&mut self, key: Key, conn: Conn) -> SlotId {
        let id = conn.rec.id;
        let slot = Slot {
            conn,
            prev: NIL,
            next: NIL,
            list: ListKind::Open,
        };
        let slot_id = match self.free.pop() {
            Some(free) => {
                if let Some(place) = self.slots.get_mut(free as usize) {
                    *place = Some(slot);
                }
                free
            }
            None => {
                if self.slots.len() == self.slots.capacity() {
                    // Grow geometrically, but not beyond the flow cap (no slack at the cap).
                    let room = self.limits.max_flows.saturating_sub(self.slots.len());
                    self.slots
                        .reserve_exact(self.slots.len().max(16).min(room.max(1)));
                }
                self.slots.push(Some(slot));
                SlotId::try_from(self.slots.len() - 1).unwrap_or(NIL)
            }
        };
        self.push_back(slot_id, ListKind::Open);
        self.by_key.insert(key, slot_id);
        self.by_id.insert(id, PackedLoc::new(Loc::Live(slot_id)));
        self.counters.live += 1;
        self.counters.peak_live = self.counters.peak_live.max(self.counters.live);
        slot_id
    }

    /// Ends every connection still running (end of capture): holes before buffered bytes
    /// become gaps, buffered bytes are delivered, each direction reports `End`, and all
    /// buffers are freed. Every live connection becomes final (see
    /// [`StreamTable::drain_closed`] and [`StreamTable::take_streams`]); close states stay as
    /// they are (`Open` for the unclosed, whose end is [`super::StreamEnd::EndOfCapture`]).
    pub fn finish_all<F>(&mut self, sink: &mut F)
    where
        F: FnMut(StreamEvent<'_>),
    {
        for id in self.live_ids() {
            self.finish_stream(id, sink);
        }
    }

    /// The live connections (open, or closed and lingering), oldest first.
    pub fn live_ids(&self) -> Vec<StreamId> {
        let mut ids: Vec<StreamId> = self.slots.iter().flatten().map(|s| s.conn.rec.id).collect();
        ids.sort_unstable();
        ids
    }

    /// Ends one live connection as [`StreamTable::finish_all`] does (end of capture), so a
    /// caller can hand out its row ([`StreamTable::drain_closed`]) before ending the next one:
    /// the rows then never pile up. Returns false when `id` is not live.
    pub fn finish_stream<F>(&mut self, id: StreamId, sink: &mut F) -> bool
    where
        F: FnMut(StreamEvent<'_>),
    {
        match self.loc(id) {
            Some(Loc::Live(slot)) => {
                self.end_and_retire(slot, EndCause::EndOfCapture, sink);
                true
            }
            _ => false,
        }
    }
}

/// True when `seg` from `src` is a SYN (without ACK) that opens a new connection on a
/// retired connection's 4-tuple: its sequence number is not the one that side used before.
fn is_new_syn(tomb: &Tomb, key: Key, src: Endpoint, seg: &SegmentInfo<'_>) -> bool {
    if !seg.flags.syn || seg.flags.ack {
        return false;
    }
    let [c2s, s2c] = tomb.bases();
    let client = if tomb.client_is_hi { key.1 } else { key.0 };
    let base = if src == client { c2s } else { s2c };
    base != Some(SeqNum(seg.seq))
}

/// The roles a segment proves by itself: (how strongly, whether its sender is the client).
fn role_evidence(seg: &SegmentInfo<'_>, hint: Option<RoleHint>) -> Option<(RoleEvidence, bool)> {
    let f = seg.flags;
    if f.syn {
        // RFC 9293 §3.5: the SYN's sender opens; the SYN-ACK's sender answers.
        return Some((RoleEvidence::Handshake, !f.ack));
    }
    if f.rst || seg.payload.is_empty() {
        return None;
    }
    match hint?(seg.payload)? {
        Role::Client => Some((RoleEvidence::Content, true)),
        Role::Server => Some((RoleEvidence::Content, false)),
    }
}

/// Whether the `a` side is the client, judging by the ports alone: well-known (below 1024)
/// beats the rest, and below 32768 beats 32768 and above (the ephemeral ranges of Linux
/// 32768–60999, Windows and IANA 49152–65535). `None` when both are in the same class.
fn port_rule(a: u16, b: u16) -> Option<bool> {
    fn class(p: u16) -> u8 {
        match p {
            0..1024 => 0,
            1024..32768 => 1,
            _ => 2,
        }
    }
    let (ca, cb) = (class(a), class(b));
    (ca != cb).then_some(ca > cb)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::FrameNumber;
    use crate::flow::tcp::Flags;
    use crate::flow::tcp::{CloseState, Event, GapCause, HandshakeState, StreamEnd};
    use std::net::IpAddr;
    use std::net::{Ipv4Addr, Ipv6Addr};

    const C: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 168, 1, 10));
    const S: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 168, 1, 20));

    fn flags(s: &str) -> Flags {
        Flags {
            syn: s.contains('S'),
            ack: s.contains('A'),
            fin: s.contains('F'),
            rst: s.contains('R'),
            psh: s.contains('P'),
            ..Flags::default()
        }
    }

    /// A segment from (src, sport) to (dst, dport).
    fn seg<'a>(
        frame: u64,
        (src, sport): (IpAddr, u16),
        (dst, dport): (IpAddr, u16),
        seq: u32,
        ack: u32,
        f: &str,
        payload: &'a [u8],
    ) -> SegmentInfo<'a> {
        SegmentInfo {
            frame: FrameNumber(frame),
            ts: Duration::from_millis(frame),
            frame_len: 54 + payload.len() as u64,
            src,
            sport,
            dst,
            dport,
            seq,
            ack,
            flags: flags(f),
            window: 512,
            payload,
            wire_payload_len: payload.len() as u32,
            options: Some(&[]),
        }
    }

    /// Collected events as (stream, direction, debug text of the event).
    #[derive(Default)]
    struct Log(Vec<(u64, Direction, String)>);

    impl Log {
        fn push(&mut self, e: StreamEvent<'_>) {
            let text = match e.event {
                Event::Data { offset, bytes, .. } => {
                    format!("data {offset} {}", String::from_utf8_lossy(bytes))
                }
                other => format!("{other:?}"),
            };
            self.0.push((e.stream.0, e.direction, text));
        }
    }

    /// Feeds segments; returns (stream id, direction) of each.
    fn feed(t: &mut StreamTable, log: &mut Log, segs: &[SegmentInfo<'_>]) -> Vec<(u64, Direction)> {
        segs.iter()
            .map(|s| {
                let o = t.on_segment(s, &mut |e| log.push(e));
                (o.stream.0, o.direction)
            })
            .collect()
    }

    use Direction::{ClientToServer as C2S, ServerToClient as S2C};

    /// A whole connection: handshake, request, response, four-way close (8 frames from `f0`).
    fn connection(f0: u64, sport: u16, isn_c: u32, isn_s: u32) -> Vec<SegmentInfo<'static>> {
        let (c, s) = (isn_c, isn_s);
        vec![
            seg(f0, (C, sport), (S, 80), c, 0, "S", b""),
            seg(f0 + 1, (S, 80), (C, sport), s, c + 1, "SA", b""),
            seg(f0 + 2, (C, sport), (S, 80), c + 1, s + 1, "A", b""),
            seg(f0 + 3, (C, sport), (S, 80), c + 1, s + 1, "PA", b"GET"),
            seg(f0 + 4, (S, 80), (C, sport), s + 1, c + 4, "PA", b"OK"),
            seg(f0 + 5, (C, sport), (S, 80), c + 4, s + 3, "FA", b""),
            seg(f0 + 6, (S, 80), (C, sport), s + 3, c + 5, "FA", b""),
            seg(f0 + 7, (C, sport), (S, 80), c + 5, s + 4, "A", b""),
        ]
    }

    #[test]
    fn same_tuple_reused_after_close_gets_a_new_id() {
        let mut t = StreamTable::default();
        let mut log = Log::default();
        let mut segs = connection(1, 40000, 1000, 5000);
        segs.extend(connection(9, 40000, 90_000, 70_000));
        let ids = feed(&mut t, &mut log, &segs);
        let expected: Vec<(u64, Direction)> = [0, 1]
            .into_iter()
            .flat_map(|id| {
                [C2S, S2C, C2S, C2S, S2C, C2S, S2C, C2S]
                    .into_iter()
                    .map(move |d| (id, d))
            })
            .collect();
        assert_eq!(ids, expected);
        assert!(t.stream(StreamId(0)).is_some() && t.stream(StreamId(1)).is_some());

        let s0 = t.stream(StreamId(0)).unwrap();
        assert_eq!(
            s0.client,
            Endpoint {
                addr: C,
                port: 40000
            }
        );
        assert_eq!(s0.handshake.state, HandshakeState::Complete);
        assert_eq!(
            (s0.handshake.syn, s0.handshake.syn_ack, s0.handshake.ack),
            (
                Some(FrameNumber(1)),
                Some(FrameNumber(2)),
                Some(FrameNumber(3))
            )
        );
        assert_eq!(
            s0.close,
            CloseState::FourWay {
                first_by: C2S,
                first_fin: FrameNumber(6),
                second_fin: FrameNumber(7),
                last_ack: Some(FrameNumber(8)),
            }
        );
        assert_eq!(
            (s0.first_frame, s0.last_frame),
            (FrameNumber(1), FrameNumber(8))
        );
        let c2s = s0.stats(C2S);
        assert_eq!(
            (c2s.packets, c2s.data_segments, c2s.payload_bytes),
            (5, 1, 3)
        );
        assert_eq!(c2s.bytes, 5 * 54 + 3);
        assert_eq!(s0.stats(S2C).payload_bytes, 2);

        // Events carry stream and direction; each direction ends at its FIN.
        let s0_events: Vec<_> = log.0.iter().filter(|(id, ..)| *id == 0).cloned().collect();
        assert_eq!(
            s0_events,
            vec![
                (0, C2S, "data 0 GET".to_string()),
                (0, S2C, "data 0 OK".to_string()),
                (0, C2S, "End { offset: 3, cause: Fin }".to_string()),
                (0, S2C, "End { offset: 2, cause: Fin }".to_string()),
            ]
        );
        assert_eq!(t.budget().used(), 0, "closed streams hold no buffers");
    }

    #[test]
    fn connection_state_is_a_few_hundred_bytes() {
        // Issue 15: per-connection state that is not buffered payload. A live connection is
        // its slot (summary record + live state of both directions, list links); a final one
        // waiting to be handed out is its record; a retired one is a tombstone (+ its key).
        // Boxes (rare counters, out-of-order buffer, history) exist only once needed.
        use std::mem::size_of;
        let (slot, record, tomb) = (size_of::<Slot>(), size_of::<Record>(), size_of::<Tomb>());
        let key = size_of::<Key>();
        println!(
            "slot {slot}, record {record}, tomb {tomb}, key {key}, Option<Slot> {}, Stream row {}",
            size_of::<Option<Slot>>(),
            size_of::<Stream>()
        );
        assert!(slot <= 456, "slot {slot}");
        assert!(size_of::<Option<Slot>>() == slot, "no tag beyond the slot");
        assert!(record <= 216, "record {record}");
        assert!(tomb <= 24, "tomb {tomb}");
        // An ordinary closed connection keeps no box: no rare counter, buffer or history.
        let mut t = StreamTable::default();
        for s in connection(1, 40000, 10, 20) {
            t.on_segment(&s, &mut |_| {});
        }
        let Some(Loc::Live(i)) = t.loc(StreamId(0)) else {
            panic!("live");
        };
        let conn = &t.slot(i).unwrap().conn;
        assert!(conn.is_released());
        assert_eq!(conn.held_bytes(), 0);
        let s = t.stream(StreamId(0)).unwrap();
        assert_eq!(
            (
                s.client_to_server.retransmissions,
                s.client_to_server.gap_bytes
            ),
            (0, 0)
        );
        // Stream ids map to 8 bytes.
        for loc in [
            Loc::Live(0),
            Loc::Live(NIL - 1),
            Loc::Closed(0),
            Loc::Closed(1 << 40),
        ] {
            assert_eq!(
                format!("{:?}", PackedLoc::new(loc).get()),
                format!("{loc:?}")
            );
        }
        // The slab does not grow past the flow cap (no doubling slack at the cap).
        let limits = TableLimits {
            max_flows: 40,
            ..TableLimits::default()
        };
        let mut t = StreamTable::new(limits);
        for port in 1000..1100 {
            t.on_segment(&seg(1, (C, port), (S, 80), 1, 0, "S", b""), &mut |_| {});
        }
        assert_eq!(t.counters().evicted, 60);
        assert!(t.slots.capacity() <= 40, "{}", t.slots.capacity());
    }

    #[test]
    fn relative_numbers_match_wireshark() {
        let mut t = StreamTable::default();
        let segs = connection(1, 40000, 4_294_967_000, 123);
        let rel: Vec<(u32, Option<u32>)> = segs
            .iter()
            .map(|s| {
                let o = t.on_segment(s, &mut |_| {});
                (o.relative_seq, o.relative_ack)
            })
            .collect();
        // Wireshark: SYN Seq=0; SYN-ACK Seq=0 Ack=1; ACK Seq=1 Ack=1; GET Seq=1 Ack=1;
        // OK Seq=1 Ack=4; FIN Seq=4 Ack=3; FIN Seq=3 Ack=5; ACK Seq=5 Ack=4.
        assert_eq!(
            rel,
            vec![
                (0, None),
                (0, Some(1)),
                (1, Some(1)),
                (1, Some(1)),
                (1, Some(4)),
                (4, Some(3)),
                (3, Some(5)),
                (5, Some(4)),
            ]
        );
    }

    #[test]
    fn mid_connection_relative_numbers_start_at_one() {
        let mut t = StreamTable::default();
        let o = t.on_segment(&seg(1, (C, 1), (S, 2), 777, 999, "PA", b"x"), &mut |_| {});
        assert_eq!((o.relative_seq, o.relative_ack), (1, Some(1)));
        let o = t.on_segment(&seg(2, (S, 2), (C, 1), 999, 778, "A", b""), &mut |_| {});
        assert_eq!((o.relative_seq, o.relative_ack), (1, Some(2)));
    }

    #[test]
    fn interleaved_connections_are_numbered_by_first_packet() {
        let mut t = StreamTable::default();
        let mut log = Log::default();
        let a = connection(0, 40001, 100, 200);
        let b = connection(0, 40002, 300, 400);
        // b's SYN first, then a's SYN, then alternate; renumber frames in arrival order.
        let mut order = vec![b[0], a[0]];
        for i in 1..8 {
            order.push(a[i]);
            order.push(b[i]);
        }
        for (n, s) in order.iter_mut().enumerate() {
            s.frame = FrameNumber(n as u64 + 1);
        }
        // A third connection, first seen mid-stream from the server side.
        let v6a = IpAddr::V6(Ipv6Addr::LOCALHOST);
        let v6b = IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1));
        order.insert(3, seg(99, (v6a, 8080), (v6b, 5555), 10, 20, "PA", b"hi"));
        let ids = feed(&mut t, &mut log, &order);
        assert_eq!(ids[0], (0, C2S)); // b
        assert_eq!(ids[1], (1, C2S)); // a
        assert_eq!(ids[3], (2, C2S)); // the IPv6 one: its first sender is the client
        assert_eq!(t.stream(StreamId(0)).unwrap().client.port, 40002);
        assert_eq!(t.stream(StreamId(1)).unwrap().client.port, 40001);
        let v6 = t.stream(StreamId(2)).unwrap();
        assert_eq!(
            v6.client,
            Endpoint {
                addr: v6a,
                port: 8080
            }
        );
        assert_eq!(v6.handshake.state, HandshakeState::NotSeen);
        assert!(t.stream(StreamId(3)).is_none());
    }

    #[test]
    fn syn_ack_first_makes_its_receiver_the_client() {
        let mut t = StreamTable::default();
        let o = t.on_segment(
            &seg(1, (S, 80), (C, 40000), 5000, 1001, "SA", b""),
            &mut |_| {},
        );
        assert_eq!(o.direction, S2C);
        let st = t.stream(StreamId(0)).unwrap();
        assert_eq!(
            st.client,
            Endpoint {
                addr: C,
                port: 40000
            }
        );
        assert_eq!(st.handshake.state, HandshakeState::NotSeen);
        assert_eq!(st.handshake.syn_ack, Some(FrameNumber(1)));
    }

    #[test]
    fn retransmitted_syn_stays_in_the_same_stream() {
        let mut t = StreamTable::default();
        let mut log = Log::default();
        let ids = feed(
            &mut t,
            &mut log,
            &[
                seg(1, (C, 40000), (S, 80), 1000, 0, "S", b""),
                seg(2, (C, 40000), (S, 80), 1000, 0, "S", b""),
                seg(3, (S, 80), (C, 40000), 0, 1001, "RA", b""),
            ],
        );
        assert_eq!(ids, vec![(0, C2S), (0, C2S), (0, S2C)]);
        let st = t.stream(StreamId(0)).unwrap();
        assert_eq!(st.handshake.state, HandshakeState::SynOnly);
        assert_eq!(
            st.close,
            CloseState::Reset {
                by: S2C,
                frame: FrameNumber(3)
            }
        );
        // A new SYN with another ISN after the reset is a new connection.
        let o = t.on_segment(&seg(4, (C, 40000), (S, 80), 7777, 0, "S", b""), &mut |_| {});
        assert_eq!(o.stream, StreamId(1));
    }

    #[test]
    fn syn_and_data_without_syn_ack() {
        let mut t = StreamTable::default();
        let mut log = Log::default();
        feed(
            &mut t,
            &mut log,
            &[
                seg(1, (C, 1), (S, 2), 10, 0, "S", b""),
                seg(2, (C, 1), (S, 2), 11, 51, "PA", b"abc"),
            ],
        );
        assert_eq!(
            t.stream(StreamId(0)).unwrap().handshake.state,
            HandshakeState::NoSynAck
        );
    }

    #[test]
    fn simultaneous_close_and_half_close() {
        let mut t = StreamTable::default();
        let mut log = Log::default();
        feed(
            &mut t,
            &mut log,
            &[
                seg(1, (C, 1), (S, 2), 100, 200, "A", b""),
                seg(2, (C, 1), (S, 2), 100, 200, "FA", b""),
                seg(3, (S, 2), (C, 1), 200, 100, "FA", b""), // does not ACK the client's FIN
            ],
        );
        assert_eq!(
            t.stream(StreamId(0)).unwrap().close,
            CloseState::Simultaneous {
                client_fin: FrameNumber(2),
                server_fin: FrameNumber(3)
            }
        );
        feed(&mut t, &mut log, &[seg(4, (C, 3), (S, 2), 5, 9, "FA", b"")]);
        assert_eq!(
            t.stream(StreamId(1)).unwrap().close,
            CloseState::HalfClosed {
                by: C2S,
                fin: FrameNumber(4)
            }
        );
    }

    #[test]
    fn duplicate_acks_and_zero_windows_are_counted() {
        let mut t = StreamTable::default();
        let mut log = Log::default();
        let mut zero = seg(5, (S, 2), (C, 1), 500, 110, "A", b"");
        zero.window = 0;
        feed(
            &mut t,
            &mut log,
            &[
                seg(1, (C, 1), (S, 2), 100, 500, "PA", b"0123456789"),
                seg(2, (S, 2), (C, 1), 500, 110, "A", b""),
                seg(3, (S, 2), (C, 1), 500, 110, "A", b""), // duplicate
                seg(4, (S, 2), (C, 1), 500, 110, "A", b""), // duplicate
                zero,                                       // zero window: not a dup ACK
                seg(6, (S, 2), (C, 1), 500, 110, "FA", b""), // FIN: not a dup ACK
            ],
        );
        let st = t.stream(StreamId(0)).unwrap();
        assert_eq!(st.stats(S2C).dup_acks, 2);
        assert_eq!(st.stats(S2C).zero_windows, 1);
        assert_eq!(st.stats(C2S).dup_acks, 0);
    }

    #[test]
    fn finish_all_flushes_holes_as_gaps_and_ends_open_streams() {
        let mut t = StreamTable::default();
        let mut log = Log::default();
        feed(
            &mut t,
            &mut log,
            &[
                seg(1, (C, 1), (S, 2), 100, 0, "S", b""),
                seg(2, (C, 1), (S, 2), 101, 0, "PA", b"ab"),
                seg(3, (C, 1), (S, 2), 105, 0, "PA", b"ef"), // 2..4 missing
            ],
        );
        assert!(t.budget().used() > 0);
        t.finish_all(&mut |e| log.push(e));
        let tail: Vec<String> = log.0.iter().skip(1).map(|(_, _, s)| s.clone()).collect();
        assert_eq!(
            tail,
            vec![
                "OutOfOrder { frame: FrameNumber(3), offset: 4, len: 2 }".to_string(),
                format!(
                    "{:?}",
                    Event::Gap {
                        offset: 2,
                        len: 2,
                        cause: GapCause::Finish
                    }
                ),
                "data 4 ef".to_string(),
                "End { offset: 6, cause: EndOfCapture }".to_string(),
            ]
        );
        let st = t.stream(StreamId(0)).unwrap();
        assert_eq!(st.close, CloseState::Open);
        assert_eq!(st.stats(C2S).gap_bytes, 2);
        assert_eq!(t.budget().used(), 0);
        // finish_all is idempotent.
        let before = log.0.len();
        t.finish_all(&mut |e| log.push(e));
        assert_eq!(log.0.len(), before);
    }

    #[test]
    fn peer_ack_reveals_missed_data() {
        let mut t = StreamTable::default();
        let mut log = Log::default();
        feed(
            &mut t,
            &mut log,
            &[
                seg(1, (C, 1), (S, 2), 100, 0, "S", b""),
                seg(2, (S, 2), (C, 1), 300, 101, "SA", b""),
                seg(3, (C, 1), (S, 2), 101, 301, "A", b""),
                // The client's 5 bytes were not captured, but the server ACKs them.
                seg(4, (S, 2), (C, 1), 301, 106, "A", b""),
            ],
        );
        assert_eq!(
            log.0,
            vec![(
                0,
                C2S,
                format!(
                    "{:?}",
                    Event::Gap {
                        offset: 0,
                        len: 5,
                        cause: GapCause::PeerAck
                    }
                )
            )]
        );
    }

    fn at(mut s: SegmentInfo<'static>, secs: u64) -> SegmentInfo<'static> {
        s.ts = Duration::from_secs(secs);
        s
    }

    #[test]
    fn idle_connections_time_out_and_say_so() {
        let limits = TableLimits {
            idle_timeout: Duration::from_secs(10),
            ..TableLimits::default()
        };
        let mut t = StreamTable::new(limits);
        let mut log = Log::default();
        feed(
            &mut t,
            &mut log,
            &[
                at(seg(1, (C, 1000), (S, 80), 1, 0, "S", b""), 0),
                at(seg(2, (C, 1001), (S, 80), 1, 0, "S", b""), 5),
                at(seg(3, (C, 1000), (S, 80), 2, 9, "PA", b"x"), 8), // 1000 active again
                at(seg(4, (C, 1002), (S, 80), 1, 0, "S", b""), 16),  // 1001 idle 11 s: times out
            ],
        );
        assert_eq!(t.counters().timed_out, 1);
        let mut done = Vec::new();
        t.drain_closed(|s| done.push((s.id, s.end, s.client.port)));
        assert_eq!(done, vec![(StreamId(1), StreamEnd::TimedOut, 1001)]);
        assert!(
            log.0
                .iter()
                .any(|(id, _, e)| *id == 1 && e.contains("End") && e.contains("TimedOut"))
        );
        assert!(
            t.stream(StreamId(0))
                .is_some_and(|s| s.end == StreamEnd::Active)
        );
        // A late packet of the timed-out connection keeps its stream id (a new row).
        let o = t.on_segment(
            &at(seg(5, (S, 80), (C, 1001), 7, 2, "A", b""), 17),
            &mut |_| {},
        );
        assert_eq!(o.stream, StreamId(1));
        t.finish_all(&mut |_| {});
        let ends: Vec<_> = t.take_streams().iter().map(|s| (s.id.0, s.end)).collect();
        assert_eq!(
            ends,
            vec![
                (0, StreamEnd::EndOfCapture),
                (1, StreamEnd::EndOfCapture),
                (2, StreamEnd::EndOfCapture)
            ]
        );
    }

    #[test]
    fn a_resumed_connection_stays_findable_when_its_timed_out_row_is_drained_after() {
        // pcapparser-wireshark_samples-test.pcapng: an idle SMB connection times out and
        // resumes several times; draining the timed-out row must not lose the live one.
        let limits = TableLimits {
            idle_timeout: Duration::from_secs(10),
            ..TableLimits::default()
        };
        let mut t = StreamTable::new(limits);
        let mut rows = Vec::new();
        t.on_segment(
            &at(seg(1, (C, 1000), (S, 139), 1, 1, "A", b""), 0),
            &mut |_| {},
        );
        t.on_segment(
            &at(seg(2, (C, 1001), (S, 80), 1, 0, "S", b""), 20),
            &mut |_| {},
        );
        // Stream 0 timed out at frame 2; it resumes before its row is drained.
        let o = t.on_segment(
            &at(seg(3, (S, 139), (C, 1000), 9, 1, "A", b""), 21),
            &mut |_| {},
        );
        assert_eq!(o.stream, StreamId(0));
        t.drain_closed(|s| rows.push((s.id.0, s.end)));
        assert!(
            t.endpoints(StreamId(0)).is_some(),
            "the live connection is still found"
        );
        t.finish_all(&mut |_| {});
        t.drain_closed(|s| rows.push((s.id.0, s.end)));
        assert_eq!(
            rows,
            vec![
                (0, StreamEnd::TimedOut),
                (0, StreamEnd::EndOfCapture),
                (1, StreamEnd::EndOfCapture)
            ]
        );
    }

    #[test]
    fn the_flow_cap_evicts_the_longest_idle_connection() {
        let limits = TableLimits {
            max_flows: 2,
            ..TableLimits::default()
        };
        let mut t = StreamTable::new(limits);
        let mut log = Log::default();
        feed(
            &mut t,
            &mut log,
            &[
                seg(1, (C, 1000), (S, 80), 1, 0, "S", b""),
                seg(2, (C, 1001), (S, 80), 1, 0, "S", b""),
                seg(3, (C, 1000), (S, 80), 2, 9, "PA", b"x"), // 1001 is now the longest idle
                seg(4, (C, 1002), (S, 80), 1, 0, "S", b""),   // table full: 1001 evicted
            ],
        );
        assert_eq!(t.counters().evicted, 1);
        assert_eq!(t.counters().peak_live, 2);
        let mut done = Vec::new();
        t.drain_closed(|s| done.push((s.id.0, s.end)));
        assert_eq!(done, vec![(1, StreamEnd::Evicted)]);
        // A closed connection is retired before any open one is evicted.
        let mut t = StreamTable::new(limits);
        let mut segs = connection(1, 2000, 10, 20); // closed by FINs
        segs.push(seg(9, (C, 3000), (S, 80), 1, 0, "S", b""));
        segs.push(seg(10, (C, 4000), (S, 80), 1, 0, "S", b""));
        feed(&mut t, &mut log, &segs);
        assert_eq!(t.counters().evicted, 0);
        let mut done = Vec::new();
        t.drain_closed(|s| done.push((s.id.0, s.end)));
        assert_eq!(done, vec![(0, StreamEnd::Closed)]);
    }

    #[test]
    fn closed_connections_release_buffers_and_linger_then_retire() {
        let limits = TableLimits {
            closed_linger: Duration::from_secs(1),
            ..TableLimits::default()
        };
        let mut t = StreamTable::new(limits);
        let mut log = Log::default();
        let mut segs = connection(1, 2000, 10, 20);
        // A hole in the client's data, then the reset: buffers go at once.
        segs.truncate(4);
        segs.push(seg(5, (C, 2000), (S, 80), 20, 21, "PA", b"later"));
        segs.push(seg(6, (S, 80), (C, 2000), 21, 11, "R", b"bye"));
        feed(&mut t, &mut log, &segs);
        assert_eq!(t.budget().used(), 0, "a reset connection holds no buffers");
        let s = t.stream(StreamId(0)).unwrap();
        assert_eq!(s.end, StreamEnd::Reset);
        assert_eq!(t.held_bytes(StreamId(0)), 0);
        assert_eq!(
            t.next_offset(StreamId(0), C2S),
            Some(14),
            "'GET', the gap, 'later'"
        );
        assert_eq!(s.stats(C2S).gap_bytes, 6);
        assert_eq!(s.stats(S2C).rst_payload_bytes, 3, "tcp.len of the RST");
        // A late ACK within the linger keeps the id; after it, the summary is final.
        let o = t.on_segment(&seg(7, (C, 2000), (S, 80), 25, 21, "A", b""), &mut |_| {});
        assert_eq!(o.stream, StreamId(0));
        let mut late = seg(8, (C, 9), (S, 80), 1, 0, "S", b"");
        late.ts = Duration::from_secs(5);
        t.on_segment(&late, &mut |_| {});
        let mut done = Vec::new();
        t.drain_closed(|s| done.push((s.id.0, s.end, s.client_to_server.packets)));
        assert_eq!(done, vec![(0, StreamEnd::Reset, 5)]);
    }

    #[test]
    fn roles_without_a_handshake_follow_content_then_ports() {
        fn http(bytes: &[u8]) -> Option<Role> {
            if bytes.starts_with(b"HTTP/") {
                Some(Role::Server)
            } else if bytes.starts_with(b"GET ") {
                Some(Role::Client)
            } else {
                None
            }
        }
        // The server speaks first, from a port that gives no hint (both ephemeral).
        let mut t = StreamTable::default().with_role_hint(http);
        let o = t.on_segment(
            &seg(1, (S, 50001), (C, 50000), 1, 1, "PA", b"HTTP/1.1 200 OK"),
            &mut |_| {},
        );
        assert_eq!(o.direction, S2C);
        let s = t.stream(StreamId(0)).unwrap();
        assert_eq!(
            (s.client.port, s.role_evidence),
            (50000, RoleEvidence::Content)
        );
        // Without the hook: the ports decide (80 against 51000).
        let mut t = StreamTable::default();
        let o = t.on_segment(
            &seg(1, (S, 80), (C, 51000), 1, 1, "PA", b"HTTP/1.1 200 OK"),
            &mut |_| {},
        );
        assert_eq!(o.direction, S2C);
        assert_eq!(
            t.stream(StreamId(0)).unwrap().role_evidence,
            RoleEvidence::Port
        );
        // Revised while no payload was delivered: a pure ACK first, then the request.
        let mut t = StreamTable::default().with_role_hint(http);
        t.on_segment(&seg(1, (S, 50001), (C, 50000), 1, 1, "A", b""), &mut |_| {});
        assert_eq!(t.stream(StreamId(0)).unwrap().client.port, 50001);
        let o = t.on_segment(
            &seg(2, (C, 50000), (S, 50001), 1, 1, "PA", b"GET / HTTP/1.1"),
            &mut |_| {},
        );
        assert_eq!(o.direction, C2S);
        let s = t.stream(StreamId(0)).unwrap();
        assert_eq!(s.client.port, 50000);
        assert_eq!(s.stats(C2S).payload_bytes, 14);
        assert_eq!(s.stats(S2C).packets, 1);
        assert_eq!(t.counters().roles_revised, 1);
        // After payload was delivered, the roles stay.
        let o = t.on_segment(
            &seg(3, (S, 50001), (C, 50000), 1, 15, "PA", b"GET /x"),
            &mut |_| {},
        );
        assert_eq!(o.direction, S2C);
        assert_eq!(port_rule(80, 51000), Some(false));
        assert_eq!(port_rule(40000, 8080), Some(true));
        assert_eq!(port_rule(8080, 8081), None);
    }

    #[test]
    fn syn_ack_with_data_completes_the_handshake_when_acknowledged() {
        let mut t = StreamTable::default();
        let mut log = Log::default();
        feed(
            &mut t,
            &mut log,
            &[
                seg(1, (C, 40000), (S, 21), 100, 0, "S", b""),
                seg(2, (S, 21), (C, 40000), 500, 101, "SA", b"220 banner"),
                seg(3, (C, 40000), (S, 21), 101, 511, "A", b""), // ACKs the SYN and 10 bytes
            ],
        );
        let s = t.stream(StreamId(0)).unwrap();
        assert_eq!(s.handshake.state, HandshakeState::Complete);
        assert_eq!(s.handshake.ack, Some(FrameNumber(3)));
        assert_eq!(s.stats(S2C).payload_bytes, 10);
        assert!(log.0.contains(&(0, S2C, "data 0 220 banner".to_string())));
    }

    #[test]
    fn analysis_flags_and_scaled_window() {
        let mut t = StreamTable::default();
        // Both SYNs offer window scaling: 7 from the client, 2 from the server.
        let ws7 = [1, 3, 3, 7];
        let ws2 = [1, 3, 3, 2];
        let mut syn = seg(1, (C, 40000), (S, 80), 100, 0, "S", b"");
        syn.window = 65495;
        syn.options = Some(&ws7);
        let mut syn_ack = seg(2, (S, 80), (C, 40000), 500, 101, "SA", b"");
        syn_ack.options = Some(&ws2);
        let o = t.on_segment(&syn, &mut |_| {});
        assert_eq!((o.window, o.window_scale), (65495, None));
        t.on_segment(&syn_ack, &mut |_| {});
        let o = t.on_segment(
            &seg(3, (C, 40000), (S, 80), 101, 501, "A", b""),
            &mut |_| {},
        );
        assert_eq!(o.window_scale, Some(WindowScale::Shift(7)));
        assert_eq!(o.window, 512 << 7, "not the raw 512");
        let o = t.on_segment(
            &seg(4, (S, 80), (C, 40000), 501, 101, "PA", b"abc"),
            &mut |_| {},
        );
        assert_eq!(o.window, 512 << 2);
        // The client acknowledges it, then repeats the ACK twice: Dup ACK 5#1, 5#2.
        t.on_segment(
            &seg(5, (C, 40000), (S, 80), 101, 504, "A", b""),
            &mut |_| {},
        );
        let o = t.on_segment(
            &seg(6, (C, 40000), (S, 80), 101, 504, "A", b""),
            &mut |_| {},
        );
        assert!(o.analysis.contains(AnalysisFlags::DUPLICATE_ACK));
        assert_eq!(o.dup_ack.map(|d| (d.frame.0, d.num)), Some((5, 1)));
        let o = t.on_segment(
            &seg(7, (C, 40000), (S, 80), 101, 504, "A", b""),
            &mut |_| {},
        );
        assert_eq!(o.dup_ack.map(|d| (d.frame.0, d.num)), Some((5, 2)));
        // The server sends its 3 bytes again long after: they were acknowledged, so it is a
        // spurious retransmission, which tshark also shows as a `retransmission` field.
        let mut again = seg(8, (S, 80), (C, 40000), 501, 101, "PA", b"abc");
        again.ts = Duration::from_secs(3);
        let o = t.on_segment(&again, &mut |_| {});
        assert_eq!(o.analysis, AnalysisFlags::SPURIOUS_RETRANSMISSION);
        assert!(o.analysis.is_retransmission());
        assert_eq!(
            o.analysis.names().collect::<Vec<_>>(),
            vec!["spurious_retransmission", "retransmission"]
        );
        // A mid-stream connection: the scale is unknown and said so.
        let o = t.on_segment(&seg(9, (C, 1), (S, 2), 7, 9, "A", b""), &mut |_| {});
        assert_eq!(
            (o.window, o.window_scale),
            (512, Some(WindowScale::Unknown))
        );
    }
}
