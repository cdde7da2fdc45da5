//! HTTP over every TCP stream of a capture: the [`StreamConsumer`] that finds the streams that
//! start like HTTP ([`super::detect`]) and runs a [`Conversation`] on each.
//!
//! In: stream events from the engine. Out: [`Transaction`]s in capture order
//! ([`Tracker::finish`]) and, per packet, the [`Label`] of the message the segment carried
//! ([`StreamConsumer::note`]). What is built is chosen by [`Options`]: `http` keeps
//! transactions, `stats` only labels (no text), `packets` labels with start lines.
//!
//! Memory follows the connections the stream table holds: a stream gets an entry at its first
//! event; its conversation (or its undecided first bytes) is dropped as soon as both of its
//! directions have ended, leaving a marker of a few bytes, and the marker goes when the table
//! lets the connection go ([`StreamConsumer::on_stream_end`]).

use std::net::SocketAddr;

use std::collections::{BTreeMap, BTreeSet};

use foldhash::{HashMap, HashMapExt};

use super::conversation::{Conversation, Label, Labels, Options};
use super::detect::{self, Start};
use super::transaction::Transaction;
use super::warnings;
use crate::app::consumer::{At, Note, StreamConsumer};
use crate::flow::tcp::{Endpoint, Event, Stream, StreamEvent, StreamTable};
use crate::units::{Direction, FrameNumber, StreamId};

/// Most bytes held (both directions together) while a stream's first bytes are too few to
/// classify; past it the stream is not HTTP.
const MAX_HELD: usize = 2 * detect::MAX_DETECT_LINE;

/// An event a stream delivered before it could be classified, kept to be replayed (a data
/// event's bytes are the next `len` bytes of its direction in [`Undecided::bytes`]).
#[derive(Debug)]
enum Held {
    Data {
        direction: Direction,
        frame: FrameNumber,
        offset: u64,
        len: usize,
        ts: std::time::Duration,
    },
    End {
        direction: Direction,
        offset: u64,
        at: At,
    },
    NotCaptured {
        direction: Direction,
        offset: u64,
        len: u64,
    },
}

/// The first bytes of a stream while they are too few to tell whether it is HTTP. A stream is
/// HTTP as soon as either direction starts like HTTP (a capture may begin with the server's
/// data), and is not when neither can. Each byte is kept once.
#[derive(Debug, Default)]
struct Undecided {
    /// Each direction's bytes so far.
    bytes: [Vec<u8>; 2],
    /// What each direction's first bytes say so far.
    verdict: [Option<Start>; 2],
    /// Everything delivered meanwhile, both directions, in order.
    held: Vec<Held>,
    /// The stream is HTTP: its conversation starts at the end of the packet, when the stream
    /// table can say whether the capture saw each direction begin.
    ready: bool,
}

impl Undecided {
    /// Adds one direction's bytes; returns the stream's verdict when there is one.
    fn on_data(&mut self, d: Direction, bytes: &[u8]) -> Option<bool> {
        let i = d.index();
        if let (Some(kept), Some(verdict)) = (self.bytes.get_mut(i), self.verdict.get_mut(i)) {
            kept.extend_from_slice(bytes);
            if matches!(verdict, None | Some(Start::NeedMore)) {
                *verdict = Some(detect::classify(kept));
            }
        }
        self.verdict()
    }

    /// Keeps an event to replay (the held list grows one at a time: most streams hold one).
    fn hold(&mut self, h: Held) {
        if self.held.capacity() == self.held.len() {
            self.held.reserve_exact(self.held.len().max(1));
        }
        self.held.push(h);
    }

    /// Direction `d` ended, or its next bytes were cut off by the snap length: its first bytes
    /// so far are all there is to classify it.
    fn on_end(&mut self, d: Direction) -> Option<bool> {
        if let Some(v) = self.verdict.get_mut(d.index())
            && *v != Some(Start::Http)
        {
            *v = Some(Start::NotHttp);
        }
        self.verdict()
    }

    fn verdict(&self) -> Option<bool> {
        let [a, b] = self.verdict;
        let held_bytes = self.bytes.iter().map(Vec::len).sum::<usize>();
        if a == Some(Start::Http) || b == Some(Start::Http) {
            Some(true)
        } else if (a == Some(Start::NotHttp) && b == Some(Start::NotHttp)) || held_bytes > MAX_HELD
        {
            Some(false)
        } else {
            None
        }
    }

    /// Replays every held event into `conv`.
    fn replay(&self, conv: &mut Conversation) {
        let mut at = [0usize; 2];
        for h in &self.held {
            match h {
                Held::Data {
                    direction,
                    frame,
                    offset,
                    len,
                    ts,
                } => {
                    let i = direction.index();
                    let (Some(kept), Some(pos)) = (self.bytes.get(i), at.get_mut(i)) else {
                        continue;
                    };
                    let end = pos.saturating_add(*len);
                    if let Some(bytes) = kept.get(*pos..end) {
                        conv.on_data(*direction, *offset, bytes, *frame, *ts);
                    }
                    *pos = end;
                }
                Held::End {
                    direction,
                    offset,
                    at,
                } => conv.on_end(Some(*direction), *offset, at.frame, at.ts),
                Held::NotCaptured {
                    direction,
                    offset,
                    len,
                } => conv.on_not_captured(*direction, *offset, *len),
            }
        }
    }
}

/// What arrived on a stream not classified yet.
enum Arrival<'b> {
    Data {
        frame: FrameNumber,
        offset: u64,
        bytes: &'b [u8],
    },
    Gap,
    NotCaptured {
        offset: u64,
        len: u64,
    },
    End {
        offset: u64,
    },
}

#[derive(Debug)]
enum Slot {
    /// Waiting for more bytes to classify.
    Undecided(Box<Undecided>),
    /// Not HTTP, or HTTP whose conversation has been reported: nothing more to do.
    Done,
    /// An HTTP conversation in progress.
    Http(Box<Conversation>),
}

impl Slot {
    /// The earliest frame a transaction of this stream not handed out yet can start at (see
    /// [`Conversation::floor`]); for undecided bytes, the first frame held.
    fn floor(&self) -> Option<u64> {
        match self {
            Slot::Undecided(u) => u.held.iter().find_map(|h| match h {
                Held::Data { frame, .. } => Some(frame.0),
                _ => None,
            }),
            Slot::Done => None,
            Slot::Http(conv) => conv.floor().map(|f| f.0),
        }
    }

    fn in_flight(&self) -> usize {
        match self {
            Slot::Http(conv) => conv.in_flight(),
            _ => 0,
        }
    }
}

/// A stream's state and what the tracker's bounds know of it.
#[derive(Debug)]
struct Entry {
    slot: Slot,
    /// Its transactions in flight, as last counted.
    in_flight: usize,
    /// Its floor in the order window, as last set.
    floor: Option<u64>,
}

/// Most finished transactions held back to hand them out in order of their first frame (see
/// [`Tracker`]); past it the earliest goes out anyway.
pub const ORDER_WINDOW: usize = 16_384;

/// Most transactions in flight on all connections together (each connection holds at most
/// [`super::conversation::MAX_IN_FLIGHT`]); past it the connection that grew reports its oldest
/// at once.
pub const MAX_IN_FLIGHT_TOTAL: usize = 65_536;

/// What the tracker's memory bounds did during a run (each is also said in the warnings of
/// the transactions concerned).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Bounds {
    /// Transactions reported before their response because their connection had
    /// [`super::conversation::MAX_IN_FLIGHT`] in flight.
    pub in_flight_per_connection: u64,
    /// Transactions reported before their response because [`MAX_IN_FLIGHT_TOTAL`] were in
    /// flight on all connections together.
    pub in_flight_total: u64,
    /// Transactions handed out before an earlier one could be, because [`ORDER_WINDOW`]
    /// finished transactions were waiting for it.
    pub out_of_order: u64,
    /// The most finished transactions held at once to order them.
    pub peak_window: usize,
}

/// Where finished transactions go.
enum Sink<'o> {
    /// Kept, for [`Tracker::into_transactions`].
    Keep(Vec<Transaction>),
    /// Handed to the caller one at a time.
    Call(&'o mut dyn FnMut(Transaction)),
}

impl std::fmt::Debug for Sink<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Sink::Keep(v) => f.debug_tuple("Keep").field(&v.len()).finish(),
            Sink::Call(_) => f.write_str("Call"),
        }
    }
}

/// Finished transactions put back in order of their first frame with bounded memory.
///
/// Each stream with something in progress has a floor: the earliest frame a transaction it has
/// not handed out yet can start at. A finished transaction waits until it starts before every
/// floor (no live stream can still produce an earlier one), then goes out. Transactions
/// finish in nearly that order, so few wait; when [`ORDER_WINDOW`] wait (a request that is
/// never answered while thousands of others finish), the earliest goes out anyway and is
/// counted ([`Bounds::out_of_order`]).
#[derive(Debug)]
struct Ordered<'o> {
    sink: Sink<'o>,
    /// By (first frame, stream, transaction index).
    waiting: BTreeMap<(u64, u64, u64), Transaction>,
    /// (floor frame, stream) of every stream with something in progress.
    floors: BTreeSet<(u64, StreamId)>,
    out_of_order: u64,
    peak: usize,
}

impl Ordered<'_> {
    fn push(&mut self, t: Transaction) {
        let first = t.request_frame.or(t.response_frame).map_or(0, |f| f.0);
        self.waiting.insert((first, t.stream, t.index), t);
        self.peak = self.peak.max(self.waiting.len());
    }

    fn set_floor(&mut self, stream: StreamId, old: Option<u64>, new: Option<u64>) {
        if old == new {
            return;
        }
        if let Some(f) = old {
            self.floors.remove(&(f, stream));
        }
        if let Some(f) = new {
            self.floors.insert((f, stream));
        }
    }

    /// Hands out every transaction that starts before every floor, then the earliest ones
    /// beyond the window.
    fn release(&mut self) {
        let floor = self.floors.first().map_or(u64::MAX, |(f, _)| *f);
        while let Some(entry) = self.waiting.first_entry() {
            if entry.key().0 >= floor {
                break;
            }
            let t = entry.remove();
            self.emit(t);
        }
        while self.waiting.len() > ORDER_WINDOW {
            let Some((_, t)) = self.waiting.pop_first() else {
                break;
            };
            self.out_of_order = self.out_of_order.saturating_add(1);
            self.emit(t);
        }
    }

    fn flush(&mut self) {
        while let Some((_, t)) = self.waiting.pop_first() {
            self.emit(t);
        }
    }

    fn emit(&mut self, t: Transaction) {
        match &mut self.sink {
            Sink::Keep(v) => v.push(t),
            Sink::Call(f) => f(t),
        }
    }
}

/// The HTTP analysis of a whole capture (see the module documentation).
///
/// Transactions come out in order of their first frame (the request's, or the response's when
/// there is no request), as soon as no connection can still produce an earlier one: into a
/// list ([`Tracker::new`], read with [`Tracker::into_transactions`]) or, one at a time, to a
/// function ([`Tracker::streaming`]), so a command can print them while the capture is read.
/// Memory is bounded by the connections in progress, at most
/// [`super::conversation::MAX_IN_FLIGHT`] transactions in flight per connection and
/// [`MAX_IN_FLIGHT_TOTAL`] in all, and [`ORDER_WINDOW`] finished ones waiting for their turn.
#[derive(Debug)]
pub struct Tracker<'o> {
    options: Options,
    /// The streams with an event so far and not let go by the table yet.
    streams: HashMap<StreamId, Entry>,
    /// Transactions taken from a conversation, before they are ordered.
    taken: Vec<Transaction>,
    ordered: Ordered<'o>,
    /// Transactions in flight on all connections.
    in_flight: usize,
    bounds: Bounds,
    /// Labels of the packet just processed, for its frame only.
    labels: Vec<Label>,
    /// Conversations that closed during the current packet, to report and drop.
    closed: Vec<StreamId>,
    /// Streams found to be HTTP during the current packet, to start at its end.
    ready: Vec<StreamId>,
}

impl Tracker<'static> {
    /// A tracker building what `options` asks for, keeping the transactions for
    /// [`Tracker::into_transactions`].
    pub fn new(options: Options) -> Self {
        Tracker::with_sink(options, Sink::Keep(Vec::new()))
    }
}

impl<'o> Tracker<'o> {
    /// A tracker handing each transaction to `out` as soon as it is final and in order.
    pub fn streaming(options: Options, out: &'o mut dyn FnMut(Transaction)) -> Self {
        Tracker::with_sink(options, Sink::Call(out))
    }

    fn with_sink(options: Options, sink: Sink<'o>) -> Self {
        Tracker {
            options,
            streams: HashMap::new(),
            taken: Vec::new(),
            ordered: Ordered {
                sink,
                waiting: BTreeMap::new(),
                floors: BTreeSet::new(),
                out_of_order: 0,
                peak: 0,
            },
            in_flight: 0,
            bounds: Bounds::default(),
            labels: Vec::new(),
            closed: Vec::new(),
            ready: Vec::new(),
        }
    }

    /// The transactions of every stream, in order of their first frame (call after
    /// [`StreamConsumer::finish`]; empty unless [`Options::transactions`], and for a
    /// [`Tracker::streaming`] tracker).
    pub fn into_transactions(self) -> Vec<Transaction> {
        match self.ordered.sink {
            Sink::Keep(v) => v,
            Sink::Call(_) => Vec::new(),
        }
    }

    /// What the memory bounds did so far.
    pub fn bounds(&self) -> Bounds {
        Bounds {
            out_of_order: self.ordered.out_of_order,
            peak_window: self.ordered.peak,
            ..self.bounds
        }
    }

    /// Hands the transactions taken (between `endpoints`, client first) to the order window.
    fn hand_out(&mut self, endpoints: Option<(Endpoint, Endpoint)>) {
        if !self.options.transactions {
            self.taken.clear();
            return;
        }
        set_endpoints(&mut self.taken, endpoints);
        for t in self.taken.drain(..) {
            self.ordered.push(t);
        }
    }

    /// Re-reads stream `id`'s floor and in-flight count after it changed.
    fn update(&mut self, id: StreamId) {
        let Some(entry) = self.streams.get_mut(&id) else {
            return;
        };
        let in_flight = entry.slot.in_flight();
        self.in_flight = self
            .in_flight
            .saturating_sub(entry.in_flight)
            .saturating_add(in_flight);
        entry.in_flight = in_flight;
        if self.options.transactions {
            let floor = entry.slot.floor();
            self.ordered.set_floor(id, entry.floor, floor);
            entry.floor = floor;
        }
    }

    /// Keeps the transactions in flight on all connections under [`MAX_IN_FLIGHT_TOTAL`]: the
    /// connection `id`, which just grew, reports its oldest ones at once.
    fn enforce_total(&mut self, id: StreamId) {
        let Some(entry) = self.streams.get_mut(&id) else {
            return;
        };
        let Slot::Http(conv) = &mut entry.slot else {
            return;
        };
        let others = self.in_flight.saturating_sub(entry.in_flight);
        while others.saturating_add(conv.in_flight()) > MAX_IN_FLIGHT_TOTAL
            && conv.evict_oldest(|| warnings::in_flight_limit(MAX_IN_FLIGHT_TOTAL, false))
        {
            self.bounds.in_flight_total = self.bounds.in_flight_total.saturating_add(1);
        }
        conv.take_finished(&mut self.taken);
    }

    /// Reports a closed conversation's transactions (between `endpoints`, client first) and
    /// drops its state, keeping a marker until the table lets the stream go.
    fn finalize(&mut self, id: StreamId, at: At, endpoints: Option<(Endpoint, Endpoint)>) {
        let Some(entry) = self.streams.get_mut(&id) else {
            return;
        };
        if let Slot::Http(conv) = std::mem::replace(&mut entry.slot, Slot::Done) {
            self.bounds.in_flight_per_connection = self
                .bounds
                .in_flight_per_connection
                .saturating_add(conv.evicted());
            self.taken.extend(conv.finish(at.frame, at.ts));
            self.hand_out(endpoints);
        }
        self.update(id);
    }

    /// Something arrived on stream `id` while it is not classified yet.
    fn on_undecided(&mut self, id: StreamId, d: Direction, arrival: Arrival<'_>, at: At) {
        let entry = self.streams.entry(id).or_insert_with(|| Entry {
            slot: Slot::Undecided(Box::default()),
            in_flight: 0,
            floor: None,
        });
        let slot = &mut entry.slot;
        let Slot::Undecided(u) = slot else {
            return;
        };
        let verdict = match arrival {
            Arrival::Data {
                frame,
                offset,
                bytes,
            } => {
                u.hold(Held::Data {
                    direction: d,
                    frame,
                    offset,
                    len: bytes.len(),
                    ts: at.ts,
                });
                u.on_data(d, bytes)
            }
            Arrival::End { offset } => {
                u.hold(Held::End {
                    direction: d,
                    offset,
                    at,
                });
                u.on_end(d)
            }
            // The start cannot be completed across lost bytes.
            Arrival::Gap => Some(false),
            // Bytes cut off by the snap length: the direction's first bytes are all there is
            // to classify it by, and the stream goes on after them.
            Arrival::NotCaptured { offset, len } => {
                u.hold(Held::NotCaptured {
                    direction: d,
                    offset,
                    len,
                });
                u.on_end(d)
            }
        };
        match verdict {
            None => {}
            Some(false) => *slot = Slot::Done,
            Some(true) if !u.ready => {
                u.ready = true;
                self.ready.push(id);
            }
            Some(true) => {}
        }
        self.update(id);
    }

    /// Starts the conversation of stream `id`, found to be HTTP, and replays what it held.
    /// `mid_stream[d]`: the capture did not see direction `d` begin (no SYN for it), so bytes
    /// before its first message are the rest of one sent before the capture.
    fn start_http(&mut self, id: StreamId, mid_stream: [bool; 2]) {
        let Some(entry) = self.streams.get_mut(&id) else {
            return;
        };
        let slot = &mut entry.slot;
        if !matches!(slot, Slot::Undecided(u) if u.ready) {
            return;
        }
        let Slot::Undecided(u) = std::mem::replace(slot, Slot::Done) else {
            return;
        };
        // The endpoints are filled in from the stream table's summaries at the end.
        let unknown = SocketAddr::from(([0, 0, 0, 0], 0));
        let mut conv = Box::new(Conversation::new(
            id.0,
            unknown,
            unknown,
            self.options.clone(),
        ));
        for d in [Direction::ClientToServer, Direction::ServerToClient] {
            let starts_http = u.verdict.get(d.index()) == Some(&Some(Start::Http));
            if mid_stream.get(d.index()) == Some(&true) && !starts_http {
                conv.begin_mid_stream(d);
            }
        }
        u.replay(&mut conv);
        let closed = conv.is_closed();
        *slot = Slot::Http(conv);
        if closed {
            self.closed.push(id);
        }
        self.update(id);
    }

    /// Starts the conversations found during this packet (see [`Tracker::start_http`]).
    fn start_ready(&mut self, table: &StreamTable) {
        while let Some(id) = self.ready.pop() {
            let mid_stream = table
                .stream(id)
                .map_or([false; 2], |row| unseen_starts(&row));
            self.start_http(id, mid_stream);
        }
    }
}

/// Which directions of `row` the capture did not see begin: the client's without its SYN, the
/// server's without its SYN-ACK.
fn unseen_starts(row: &Stream) -> [bool; 2] {
    let mut mid = [false; 2];
    if let Some(m) = mid.get_mut(Direction::ClientToServer.index()) {
        *m = row.handshake.syn.is_none();
    }
    if let Some(m) = mid.get_mut(Direction::ServerToClient.index()) {
        *m = row.handshake.syn_ack.is_none();
    }
    mid
}

/// The label a packet's note shows: the message starting in it, else the first one.
fn chosen_index(labels: &[Label]) -> Option<usize> {
    labels
        .iter()
        .position(|l| l.is_start)
        .or((!labels.is_empty()).then_some(0))
}

fn chosen(labels: &mut [Label]) -> Option<&mut Label> {
    let i = chosen_index(labels)?;
    labels.get_mut(i)
}

/// Fills in the client and server of `txs`.
fn set_endpoints(txs: &mut [Transaction], endpoints: Option<(Endpoint, Endpoint)>) {
    let Some((client, server)) = endpoints else {
        return;
    };
    for t in txs.iter_mut() {
        t.client = SocketAddr::new(client.addr, client.port);
        t.server = SocketAddr::new(server.addr, server.port);
    }
}

impl StreamConsumer for Tracker<'_> {
    fn on_event(&mut self, e: &StreamEvent<'_>, at: At) {
        let id = e.stream;
        let d = e.direction;
        match (e.event, self.streams.get_mut(&id).map(|e| &mut e.slot)) {
            (_, Some(Slot::Done)) => {}
            (
                Event::Data {
                    frame,
                    offset,
                    bytes,
                },
                Some(Slot::Http(conv)),
            ) => conv.on_data(d, offset, bytes, frame, at.ts),
            (Event::Gap { offset, len, .. }, Some(Slot::Http(conv))) => {
                conv.on_gap(d, offset, len);
            }
            (Event::NotCaptured { offset, len, .. }, Some(Slot::Http(conv))) => {
                conv.on_not_captured(d, offset, len);
            }
            (Event::End { offset, .. }, Some(Slot::Http(conv))) => {
                conv.on_end(Some(d), offset, at.frame, at.ts);
                if conv.is_closed() {
                    self.closed.push(id);
                }
            }
            (
                Event::Data {
                    frame,
                    offset,
                    bytes,
                },
                None | Some(Slot::Undecided(_)),
            ) if !bytes.is_empty() => {
                let data = Arrival::Data {
                    frame,
                    offset,
                    bytes,
                };
                self.on_undecided(id, d, data, at);
            }
            (Event::Gap { .. }, Some(Slot::Undecided(_))) => {
                self.on_undecided(id, d, Arrival::Gap, at);
            }
            (Event::NotCaptured { offset, len, .. }, Some(Slot::Undecided(_))) => {
                self.on_undecided(id, d, Arrival::NotCaptured { offset, len }, at);
            }
            (Event::End { offset, .. }, Some(Slot::Undecided(_))) => {
                self.on_undecided(id, d, Arrival::End { offset }, at);
            }
            _ => {}
        }
    }

    fn on_packet_end(&mut self, stream: StreamId, at: At, table: &StreamTable) {
        self.start_ready(table);
        self.labels.clear();
        let keep_labels = self.options.labels != Labels::Off;
        if let Some(Entry {
            slot: Slot::Http(conv),
            ..
        }) = self.streams.get_mut(&stream)
        {
            // Without transactions, finished ones are still taken out (and dropped at once) so
            // that memory stays bounded.
            conv.take_finished(&mut self.taken);
            if keep_labels {
                conv.drain_labels(&mut self.labels);
                self.labels.retain(|l| l.frame == at.frame);
                // The messages that ended during this packet are shown on its label (where
                // tshark shows a reassembled message).
                let mut completed = Vec::new();
                conv.drain_completed(&mut completed);
                if let Some(label) = chosen(&mut self.labels) {
                    label.completed = completed;
                }
            }
        }
        self.enforce_total(stream);
        self.hand_out(table.endpoints(stream));
        self.update(stream);
        // A stream whose two directions have ended is reported now and its state released, so
        // memory follows the connections still open, not the capture's length.
        while let Some(id) = self.closed.pop() {
            self.finalize(id, at, table.endpoints(id));
        }
        self.ordered.release();
    }

    fn note(&self, _stream: StreamId) -> Option<Note<'_>> {
        let i = chosen_index(&self.labels)?;
        self.labels.get(i).map(Note::Http)
    }

    fn on_stream_end(&mut self, row: &Stream, at: At) {
        self.start_http(row.id, unseen_starts(row));
        self.finalize(row.id, at, Some((row.client, row.server)));
        if let Some(entry) = self.streams.remove(&row.id) {
            self.ordered.set_floor(row.id, entry.floor, None);
            self.in_flight = self.in_flight.saturating_sub(entry.in_flight);
        }
        self.ordered.release();
    }

    fn finish(&mut self, at: At) {
        // Every stream's row came before (the engine hands them all out first); anything left
        // was never a connection of the table's (a consumer driven by hand).
        let mut left: Vec<StreamId> = self.streams.keys().copied().collect();
        left.sort_unstable();
        for id in left {
            self.start_http(id, [false; 2]);
            self.finalize(id, at, None);
        }
        self.streams.clear();
        self.closed.clear();
        self.ordered.floors.clear();
        self.in_flight = 0;
        self.ordered.flush();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::flow::tcp::EndCause;

    const C2S: Direction = Direction::ClientToServer;
    const S2C: Direction = Direction::ServerToClient;

    /// Feeds `(direction, bytes)` as the data of stream 0, one packet each, then ends it.
    fn run(steps: &[(Direction, &[u8])]) -> Vec<Transaction> {
        let mut t = Tracker::new(Options::default());
        let mut off = [0u64; 2];
        let mut frame = 0;
        let stream = StreamId(0);
        for (d, bytes) in steps {
            frame += 1;
            let at = At {
                frame: FrameNumber(frame),
                ts: Duration::from_millis(frame),
            };
            let event = Event::Data {
                frame: at.frame,
                offset: off[d.index()],
                bytes,
            };
            off[d.index()] += bytes.len() as u64;
            t.on_event(
                &StreamEvent {
                    stream,
                    direction: *d,
                    event,
                },
                at,
            );
            t.on_packet_end(stream, at, &StreamTable::default());
        }
        let at = At {
            frame: FrameNumber(frame + 1),
            ts: Duration::from_millis(frame + 1),
        };
        for d in [C2S, S2C] {
            let event = Event::End {
                offset: off[d.index()],
                cause: EndCause::Fin,
            };
            t.on_event(
                &StreamEvent {
                    stream,
                    direction: d,
                    event,
                },
                at,
            );
        }
        t.on_packet_end(stream, at, &StreamTable::default());
        t.finish(at);
        t.into_transactions()
    }

    /// Drives `t` with a real stream table, as the engine does: events, packet end, rows.
    fn drive(t: &mut Tracker, table: &mut StreamTable, segs: &[crate::flow::tcp::SegmentInfo<'_>]) {
        for seg in segs {
            let at = At {
                frame: seg.frame,
                ts: seg.ts,
            };
            let out = table.on_segment(seg, &mut |e| t.on_event(&e, at));
            t.on_packet_end(out.stream, at, table);
            table.drain_closed(|row| t.on_stream_end(&row, at));
        }
    }

    /// A segment of the connection 10.0.0.1:40000 → 10.0.0.2:80 (`to_server`: from the
    /// client), `f` its flags (`S`, `A`, `F`), at `frame` seconds.
    fn seg(
        frame: u64,
        to_server: bool,
        seq: u32,
        ack: u32,
        f: &str,
        payload: &'static [u8],
    ) -> crate::flow::tcp::SegmentInfo<'static> {
        use crate::flow::tcp::{Flags, SegmentInfo};
        use std::net::{IpAddr, Ipv4Addr};
        let (c, s) = (
            IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
            IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
        );
        let (src, sport, dst, dport) = if to_server {
            (c, 40000, s, 80)
        } else {
            (s, 80, c, 40000)
        };
        SegmentInfo {
            frame: FrameNumber(frame),
            ts: Duration::from_secs(frame),
            frame_len: 54 + payload.len() as u64,
            src,
            sport,
            dst,
            dport,
            seq,
            ack,
            flags: Flags {
                syn: f.contains('S'),
                ack: f.contains('A'),
                fin: f.contains('F'),
                ..Flags::default()
            },
            window: 65535,
            payload,
            wire_payload_len: payload.len() as u32,
            options: None,
        }
    }

    #[test]
    fn a_stream_s_state_goes_when_it_closes_and_its_marker_when_the_table_lets_it_go() {
        use crate::flow::tcp::TableLimits;
        let req: &[u8] = b"GET / HTTP/1.1\r\nHost: h\r\n\r\n";
        let resp: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
        let (rl, sl) = (req.len() as u32, resp.len() as u32);
        let mut t = Tracker::new(Options::default());
        // A 1-second linger: the closed connection is let go at the next packet 2 s later.
        let mut table = StreamTable::new(TableLimits {
            closed_linger: Duration::from_secs(1),
            ..TableLimits::default()
        });
        drive(
            &mut t,
            &mut table,
            &[
                seg(1, true, 100, 0, "S", b""),
                seg(2, false, 500, 101, "SA", b""),
                seg(3, true, 101, 501, "A", req),
                seg(4, false, 501, 101 + rl, "A", resp),
                seg(5, true, 101 + rl, 501 + sl, "FA", b""),
                seg(6, false, 501 + sl, 102 + rl, "FA", b""),
            ],
        );
        // Closed: the transaction is out, with its endpoints, and only a marker is left.
        let Sink::Keep(done) = &t.ordered.sink else {
            panic!("a kept list");
        };
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].client.to_string(), "10.0.0.1:40000");
        assert_eq!(done[0].server.to_string(), "10.0.0.2:80");
        assert!(matches!(
            t.streams.get(&StreamId(0)).map(|e| &e.slot),
            Some(Slot::Done)
        ));
        // A new connection on the same ports 3 s later: the closed one is let go, and its
        // marker with it.
        drive(&mut t, &mut table, &[seg(9, true, 7, 0, "S", b"")]);
        assert!(!t.streams.contains_key(&StreamId(0)));
    }

    #[test]
    fn a_capture_that_starts_with_the_server_s_data_is_still_http() {
        // cases/midstream-server-first: the tail of an earlier body comes first, then the
        // client's request and its answer.
        let txs = run(&[
            (S2C, b"...tail of an earlier body</html>"),
            (C2S, b"GET /mid HTTP/1.1\r\nHost: example.test\r\n\r\n"),
            (S2C, b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nmid"),
        ]);
        let got: Vec<_> = txs
            .iter()
            .filter(|t| t.method.is_some())
            .map(|t| (t.method.clone(), t.uri.clone(), t.status))
            .collect();
        assert_eq!(
            got,
            vec![(Some("GET".into()), Some("/mid".into()), Some(200))]
        );
    }

    /// The transactions of `segs` run through a real stream table.
    fn through_table(segs: &[crate::flow::tcp::SegmentInfo<'static>]) -> Vec<Transaction> {
        let mut t = Tracker::new(Options::default());
        let mut table = StreamTable::default();
        drive(&mut t, &mut table, segs);
        let at = At::default();
        table.finish_all(&mut |e| t.on_event(&e, at));
        for row in table.take_streams() {
            t.on_stream_end(&row, at);
        }
        t.finish(at);
        t.into_transactions()
    }

    #[test]
    fn bytes_before_the_first_message_of_a_capture_that_starts_mid_stream_are_skipped_quietly() {
        // cases/midstream-server-first: no SYN; the server's tail of an earlier body, then a
        // request and its answer. tshark shows one request and one response (frames 3 and 5
        // there) and nothing for the tail; so does `http`: one row, no warning.
        let tail: &[u8] = b"...tail of an earlier body</html>";
        let req: &[u8] = b"GET /mid HTTP/1.1\r\nHost: example.test\r\n\r\n";
        let resp: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nmid";
        let (tl, rl) = (tail.len() as u32, req.len() as u32);
        let txs = through_table(&[
            seg(1, false, 5000, 900, "A", tail),
            seg(2, true, 900, 5000 + tl, "A", req),
            seg(3, false, 5000 + tl, 900 + rl, "A", resp),
        ]);
        assert_eq!(txs.len(), 1, "{txs:?}");
        assert_eq!(txs[0].uri.as_deref(), Some("/mid"));
        assert_eq!(txs[0].status, Some(200));
        assert_eq!(txs[0].request_frame, Some(FrameNumber(2)));
        assert_eq!(txs[0].response_frame, Some(FrameNumber(3)));
        assert!(txs[0].warnings.is_empty(), "{:?}", txs[0].warnings);

        // The client's side too: the rest of an earlier request body, then a request in a
        // segment of its own.
        let body_tail: &[u8] = b"name=value&more=1";
        let bl = body_tail.len() as u32;
        let ok: &[u8] = b"HTTP/1.1 204 No Content\r\n\r\n";
        let txs = through_table(&[
            seg(1, true, 900, 5000, "A", body_tail),
            seg(2, true, 900 + bl, 5000, "A", req),
            seg(3, false, 5000, 900 + bl + rl, "A", ok),
        ]);
        assert_eq!(txs.len(), 1, "{txs:?}");
        assert_eq!(txs[0].status, Some(204));
        assert!(txs[0].warnings.is_empty(), "{:?}", txs[0].warnings);
    }

    #[test]
    fn bytes_before_the_first_response_of_a_connection_seen_from_its_syn_are_still_reported() {
        use crate::app::http::WarningKind;
        // The same bytes after a captured handshake are the server's own mistake (RFC 9112 §4:
        // a response starts with its status line).
        let junk: &[u8] = b"hello from the server\r\n";
        let req: &[u8] = b"GET / HTTP/1.1\r\nHost: h\r\n\r\n";
        let resp: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
        let (jl, rl) = (junk.len() as u32, req.len() as u32);
        let txs = through_table(&[
            seg(1, true, 100, 0, "S", b""),
            seg(2, false, 500, 101, "SA", b""),
            seg(3, true, 101, 501, "A", b""),
            seg(4, false, 501, 101, "A", junk),
            seg(5, true, 101, 501 + jl, "A", req),
            seg(6, false, 501 + jl, 101 + rl, "A", resp),
        ]);
        let kinds: Vec<_> = txs
            .iter()
            .flat_map(|t| &t.warnings)
            .map(|w| w.kind)
            .collect();
        assert!(kinds.contains(&WarningKind::InvalidStatusLine), "{kinds:?}");
    }

    #[test]
    fn a_start_split_over_segments_is_waited_for() {
        let txs = run(&[
            (C2S, b"PROPF"),
            (C2S, b"IND /dav HTTP/1.1\r\nHost: h\r\n\r\n"),
            (
                S2C,
                b"HTTP/1.1 207 Multi-Status\r\nContent-Length: 0\r\n\r\n",
            ),
        ]);
        assert_eq!(txs.len(), 1);
        assert_eq!(txs[0].method.as_deref(), Some("PROPFIND"));
        assert_eq!(txs[0].status, Some(207));
    }

    #[test]
    fn other_protocols_are_not_http() {
        assert!(
            run(&[
                (C2S, b"\x00\x00\x00\x05hello"),
                (S2C, b"\x00\x00\x00\x02ok")
            ])
            .is_empty()
        );
        assert!(run(&[(S2C, b"220 smtp ready\r\n"), (C2S, b"EHLO a\r\n")]).is_empty());
        // Too few bytes to tell, then the end: not HTTP.
        assert!(run(&[(C2S, b"GE")]).is_empty());
    }

    /// Feeds one data packet of `stream` (frame `frame`) to `t`.
    fn feed(t: &mut Tracker<'_>, stream: u64, d: Direction, offset: u64, bytes: &[u8], frame: u64) {
        let at = At {
            frame: FrameNumber(frame),
            ts: Duration::from_millis(frame),
        };
        let event = Event::Data {
            frame: at.frame,
            offset,
            bytes,
        };
        let stream = StreamId(stream);
        t.on_event(
            &StreamEvent {
                stream,
                direction: d,
                event,
            },
            at,
        );
        t.on_packet_end(stream, at, &StreamTable::default());
    }

    #[test]
    fn rows_come_out_in_order_of_their_first_frame_as_soon_as_none_earlier_can_come() {
        let out = std::cell::RefCell::new(Vec::new());
        let mut push = |t: Transaction| out.borrow_mut().push((t.stream, t.uri.clone()));
        let mut t = Tracker::streaming(Options::default(), &mut push);
        let req = |p: &str| format!("GET {p} HTTP/1.1\r\nHost: h\r\n\r\n").into_bytes();
        let ok: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
        // Stream 0 asks first (frame 1) and is answered last (frame 6).
        feed(&mut t, 0, C2S, 0, &req("/slow"), 1);
        feed(&mut t, 1, C2S, 0, &req("/a"), 2);
        feed(&mut t, 1, S2C, 0, ok, 3);
        feed(&mut t, 1, C2S, 26, &req("/b"), 4);
        feed(&mut t, 1, S2C, ok.len() as u64, ok, 5);
        // /a and /b are final but /slow (frame 1) can still come before them.
        assert!(out.borrow().is_empty());
        feed(&mut t, 0, S2C, 0, ok, 6);
        assert_eq!(
            *out.borrow(),
            vec![
                (0, Some("/slow".into())),
                (1, Some("/a".into())),
                (1, Some("/b".into()))
            ]
        );
        // A transaction that nothing precedes goes out at once.
        feed(&mut t, 1, C2S, 52, &req("/c"), 7);
        feed(&mut t, 1, S2C, 2 * ok.len() as u64, ok, 8);
        assert_eq!(out.borrow().len(), 4);
        t.finish(At::default());
        assert_eq!(t.bounds().out_of_order, 0);
    }

    #[test]
    fn pipelining_beyond_the_in_flight_limit_reports_the_oldest_early() {
        use crate::app::http::{MAX_IN_FLIGHT, WarningKind};
        let n = MAX_IN_FLIGHT + 44;
        let mut requests = Vec::new();
        let mut responses = Vec::new();
        for i in 0..n {
            requests.extend_from_slice(format!("GET /{i} HTTP/1.1\r\nHost: h\r\n\r\n").as_bytes());
            responses.extend_from_slice(
                format!("HTTP/1.1 200 R{i}\r\nContent-Length: 0\r\n\r\n").as_bytes(),
            );
        }
        let mut t = Tracker::new(Options::default());
        feed(&mut t, 0, C2S, 0, &requests, 1);
        // The 44 oldest were reported before any response (held only to keep the order).
        assert_eq!(t.bounds().peak_window, 44);
        feed(&mut t, 0, S2C, 0, &responses, 2);
        t.finish(At::default());
        let bounds = t.bounds();
        let txs = t.into_transactions();
        assert_eq!(txs.len(), n);
        assert_eq!(bounds.in_flight_per_connection, 44);
        for (i, tx) in txs.iter().enumerate() {
            assert_eq!(tx.uri.as_deref(), Some(format!("/{i}").as_str()));
            let kinds: Vec<_> = tx.warnings.iter().map(|w| w.kind).collect();
            if i < 44 {
                // Reported without its response; the response is framed, not paired.
                assert_eq!(kinds, vec![WarningKind::InFlightLimit], "{i}");
                assert_eq!(tx.status, None);
            } else {
                // Every later response still pairs with its own request.
                assert!(kinds.is_empty(), "{i}: {kinds:?}");
                assert_eq!(tx.reason.as_deref(), Some(format!("R{i}").as_str()));
            }
        }
    }
}
