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

use foldhash::{HashMap, HashMapExt};

use super::conversation::{Conversation, Label, Labels, Options};
use super::detect::{self, Start};
use super::transaction::Transaction;
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

    /// Direction `d` ended: its bytes so far are all there is.
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

/// The HTTP analysis of a whole capture (see the module documentation).
#[derive(Debug)]
pub struct Tracker {
    options: Options,
    /// The streams with an event so far and not let go by the table yet.
    streams: HashMap<StreamId, Slot>,
    transactions: Vec<Transaction>,
    /// Labels of the packet just processed, for its frame only.
    labels: Vec<Label>,
    /// Conversations that closed during the current packet, to report and drop.
    closed: Vec<StreamId>,
}

impl Tracker {
    /// A tracker building what `options` asks for.
    pub fn new(options: Options) -> Self {
        Tracker {
            options,
            streams: HashMap::new(),
            transactions: Vec::new(),
            labels: Vec::new(),
            closed: Vec::new(),
        }
    }

    /// The transactions of every stream, in order of their first frame (call after the run;
    /// empty unless [`Options::transactions`]).
    pub fn into_transactions(self) -> Vec<Transaction> {
        self.transactions
    }

    /// Reports a closed conversation's transactions (between `endpoints`, client first) and
    /// drops its state, keeping a marker until the table lets the stream go.
    fn finalize(&mut self, id: StreamId, at: At, endpoints: Option<(Endpoint, Endpoint)>) {
        let Some(slot) = self.streams.get_mut(&id) else {
            return;
        };
        if let Slot::Http(conv) = std::mem::replace(slot, Slot::Done) {
            let before = self.transactions.len();
            self.transactions.extend(conv.finish(at.frame, at.ts));
            set_endpoints(&mut self.transactions, before, endpoints);
            if !self.options.transactions {
                self.transactions.clear();
            }
        }
    }

    /// Something arrived on stream `id` while it is not classified yet.
    fn on_undecided(&mut self, id: StreamId, d: Direction, arrival: Arrival<'_>, at: At) {
        let options = &self.options;
        let slot = self
            .streams
            .entry(id)
            .or_insert_with(|| Slot::Undecided(Box::default()));
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
        };
        match verdict {
            None => {}
            Some(false) => *slot = Slot::Done,
            Some(true) => {
                let Slot::Undecided(u) = std::mem::replace(slot, Slot::Done) else {
                    return;
                };
                // The endpoints are filled in from the stream table's summaries at the end.
                let unknown = SocketAddr::from(([0, 0, 0, 0], 0));
                let mut conv = Box::new(Conversation::new(id.0, unknown, unknown, options.clone()));
                u.replay(&mut conv);
                let closed = conv.is_closed();
                *slot = Slot::Http(conv);
                if closed {
                    self.closed.push(id);
                }
            }
        }
    }
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

/// Fills in the client and server of the transactions from `from` on.
fn set_endpoints(txs: &mut [Transaction], from: usize, endpoints: Option<(Endpoint, Endpoint)>) {
    let Some((client, server)) = endpoints else {
        return;
    };
    for t in txs.iter_mut().skip(from) {
        t.client = SocketAddr::new(client.addr, client.port);
        t.server = SocketAddr::new(server.addr, server.port);
    }
}

impl StreamConsumer for Tracker {
    fn on_event(&mut self, e: &StreamEvent<'_>, at: At) {
        let id = e.stream;
        let d = e.direction;
        match (e.event, self.streams.get_mut(&id)) {
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
            (Event::End { offset, .. }, Some(Slot::Undecided(_))) => {
                self.on_undecided(id, d, Arrival::End { offset }, at);
            }
            _ => {}
        }
    }

    fn on_packet_end(&mut self, stream: StreamId, at: At, table: &StreamTable) {
        self.labels.clear();
        let keep_transactions = self.options.transactions;
        let keep_labels = self.options.labels != Labels::Off;
        if let Some(Slot::Http(conv)) = self.streams.get_mut(&stream) {
            // Without transactions, finished ones are still taken out (and dropped at once) so
            // that memory stays bounded.
            let before = self.transactions.len();
            conv.take_finished(&mut self.transactions);
            if keep_transactions {
                set_endpoints(&mut self.transactions, before, table.endpoints(stream));
            } else {
                self.transactions.clear();
            }
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
        // A stream whose two directions have ended is reported now and its state released, so
        // memory follows the connections still open, not the capture's length.
        while let Some(id) = self.closed.pop() {
            self.finalize(id, at, table.endpoints(id));
        }
    }

    fn note(&self, _stream: StreamId) -> Option<Note<'_>> {
        let i = chosen_index(&self.labels)?;
        self.labels.get(i).map(Note::Http)
    }

    fn on_stream_end(&mut self, row: &Stream, at: At) {
        self.finalize(row.id, at, Some((row.client, row.server)));
        self.streams.remove(&row.id);
    }

    fn finish(&mut self, at: At) {
        // Every stream's row came before (the engine hands them all out first); anything left
        // was never a connection of the table's (a consumer driven by hand).
        let mut left: Vec<StreamId> = self.streams.keys().copied().collect();
        left.sort_unstable();
        for id in left {
            self.finalize(id, at, None);
        }
        self.streams.clear();
        self.closed.clear();
        self.transactions
            .sort_by_key(|t| (t.request_frame.or(t.response_frame), t.stream));
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

    #[test]
    fn a_stream_s_state_goes_when_it_closes_and_its_marker_when_the_table_lets_it_go() {
        use crate::flow::tcp::{Flags, SegmentInfo, TableLimits};
        use std::net::{IpAddr, Ipv4Addr};
        let (c, s) = (
            IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
            IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
        );
        let seg =
            |frame: u64, to_server: bool, seq: u32, ack: u32, f: &str, payload: &'static [u8]| {
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
            };
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
        assert_eq!(t.transactions.len(), 1);
        assert_eq!(t.transactions[0].client.to_string(), "10.0.0.1:40000");
        assert_eq!(t.transactions[0].server.to_string(), "10.0.0.2:80");
        assert!(matches!(t.streams.get(&StreamId(0)), Some(Slot::Done)));
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
}
