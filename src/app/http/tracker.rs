//! HTTP over every TCP stream of a capture: the [`StreamConsumer`] that finds the streams that
//! start like HTTP ([`super::detect`]) and runs a [`Conversation`] on each.
//!
//! In: stream events from the engine. Out: [`Transaction`]s in capture order
//! ([`Tracker::finish`]) and, per packet, the [`Label`] of the message the segment carried
//! ([`StreamConsumer::note`]). What is built is chosen by [`Options`]: `http` keeps
//! transactions, `stats` only labels (no text), `packets` labels with start lines. A stream's
//! state is dropped as soon as both of its directions have ended.

use std::net::SocketAddr;

use super::conversation::{Conversation, Label, Labels, Options};
use super::detect::{self, Start};
use super::transaction::Transaction;
use crate::app::consumer::{At, Note, StreamConsumer};
use crate::flow::tcp::{Event, Stream, StreamEvent};
use crate::units::{Direction, FrameNumber, StreamId};

/// Most bytes held (both directions together) while a stream's first bytes are too few to
/// classify; past it the stream is not HTTP.
const MAX_HELD: usize = 2 * detect::MAX_DETECT_LINE;

/// An event a stream delivered before it could be classified, kept to be replayed.
#[derive(Debug)]
enum Held {
    Data {
        direction: Direction,
        frame: FrameNumber,
        offset: u64,
        bytes: Vec<u8>,
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
/// data), and is not when neither can.
#[derive(Debug, Default)]
struct Undecided {
    /// Each direction's first bytes (until it is classified).
    start: [Vec<u8>; 2],
    /// What each direction's first bytes say so far.
    verdict: [Option<Start>; 2],
    /// Everything delivered meanwhile, both directions, in order.
    held: Vec<Held>,
    held_bytes: usize,
}

impl Undecided {
    /// Adds one direction's bytes; returns the stream's verdict when there is one.
    fn on_data(&mut self, d: Direction, bytes: &[u8]) -> Option<bool> {
        self.held_bytes = self.held_bytes.saturating_add(bytes.len());
        let i = d.index();
        if let (Some(start), Some(verdict)) = (self.start.get_mut(i), self.verdict.get_mut(i))
            && matches!(verdict, None | Some(Start::NeedMore))
        {
            start.extend_from_slice(bytes);
            *verdict = Some(detect::classify(start));
            if *verdict != Some(Start::NeedMore) {
                *start = Vec::new();
            }
        }
        self.verdict()
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
        if a == Some(Start::Http) || b == Some(Start::Http) {
            Some(true)
        } else if (a == Some(Start::NotHttp) && b == Some(Start::NotHttp))
            || self.held_bytes > MAX_HELD
        {
            Some(false)
        } else {
            None
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

#[derive(Debug, Default)]
enum Slot {
    /// No byte seen yet.
    #[default]
    Unseen,
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
    streams: Vec<Slot>,
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
            streams: Vec::new(),
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

    fn slot_mut(&mut self, id: StreamId) -> Option<&mut Slot> {
        slot_of(&mut self.streams, id)
    }

    /// Reports a closed conversation's transactions and drops its state.
    fn finalize(&mut self, id: StreamId, at: At) {
        let Some(slot) = self.slot_mut(id) else {
            return;
        };
        if let Slot::Http(conv) = std::mem::replace(slot, Slot::Done) {
            let txs = conv.finish(at.frame, at.ts);
            self.transactions.extend(txs);
        }
    }

    /// Something arrived on stream `id` while it is not classified yet.
    fn on_undecided(&mut self, id: StreamId, d: Direction, arrival: Arrival<'_>, at: At) {
        let options = &self.options;
        let Some(slot) = slot_of(&mut self.streams, id) else {
            return;
        };
        if matches!(slot, Slot::Unseen) {
            *slot = Slot::Undecided(Box::default());
        }
        let Slot::Undecided(u) = slot else {
            return;
        };
        let verdict = match arrival {
            Arrival::Data {
                frame,
                offset,
                bytes,
            } => {
                u.held.push(Held::Data {
                    direction: d,
                    frame,
                    offset,
                    bytes: bytes.to_vec(),
                    ts: at.ts,
                });
                u.on_data(d, bytes)
            }
            Arrival::End { offset } => {
                u.held.push(Held::End {
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
                for h in &u.held {
                    match h {
                        Held::Data {
                            direction,
                            frame,
                            offset,
                            bytes,
                            ts,
                        } => conv.on_data(*direction, *offset, bytes, *frame, *ts),
                        Held::End {
                            direction,
                            offset,
                            at,
                        } => conv.on_end(Some(*direction), *offset, at.frame, at.ts),
                    }
                }
                let closed = conv.is_closed();
                *slot = Slot::Http(conv);
                if closed {
                    self.closed.push(id);
                }
            }
        }
    }
}

/// The slot of stream `id`, growing the table (stream ids are dense, from 0).
fn slot_of(streams: &mut Vec<Slot>, id: StreamId) -> Option<&mut Slot> {
    let i = usize::try_from(id.0).ok()?;
    if i >= streams.len() {
        streams.resize_with(i.checked_add(1)?, Slot::default);
    }
    streams.get_mut(i)
}

impl StreamConsumer for Tracker {
    fn on_event(&mut self, e: &StreamEvent<'_>, at: At) {
        let id = e.stream;
        let d = e.direction;
        match (e.event, self.slot_mut(id)) {
            (_, None | Some(Slot::Done)) => {}
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
                Some(_),
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

    fn on_packet_end(&mut self, stream: StreamId, at: At) {
        self.labels.clear();
        let keep_transactions = self.options.transactions;
        let keep_labels = self.options.labels != Labels::Off;
        if let Some(Slot::Http(conv)) = slot_of(&mut self.streams, stream) {
            // Without transactions, finished ones are still taken out (and dropped at once) so
            // that memory stays bounded.
            conv.take_finished(&mut self.transactions);
            if !keep_transactions {
                self.transactions.clear();
            }
            if keep_labels {
                conv.drain_labels(&mut self.labels);
                self.labels.retain(|l| l.frame == at.frame);
            }
        }
        // A stream whose two directions have ended is reported now and its state released, so
        // memory follows the connections still open, not the capture's length.
        while let Some(id) = self.closed.pop() {
            self.finalize(id, at);
        }
    }

    fn note(&self, _stream: StreamId) -> Option<Note<'_>> {
        self.labels
            .iter()
            .find(|l| l.is_start)
            .or(self.labels.first())
            .map(Note::Http)
    }

    fn finish(&mut self, streams: &[Stream], at: At) {
        for i in 0..self.streams.len() {
            self.finalize(StreamId(i as u64), at);
        }
        self.streams.clear();
        for t in &mut self.transactions {
            if let Some(s) = usize::try_from(t.stream).ok().and_then(|i| streams.get(i)) {
                t.client = SocketAddr::new(s.client.addr, s.client.port);
                t.server = SocketAddr::new(s.server.addr, s.server.port);
            }
        }
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
            t.on_packet_end(stream, at);
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
        t.on_packet_end(stream, at);
        t.finish(&[], at);
        t.into_transactions()
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
