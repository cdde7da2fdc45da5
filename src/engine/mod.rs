//! The loop: capture → decode → TCP stream table → dispatch to the consumers a command asked
//! for, and each packet with its notes to the caller.
//!
//! The engine names no analysis and no protocol. A command builds it with only the consumers it
//! needs ([`Engine::stream_consumer`], [`Engine::datagram_consumer`]), lends them for the run,
//! and reads their results afterwards; the TCP stream table runs only when some stream
//! consumer is plugged in or the command wants TCP numbers ([`Engine::track_tcp`]), so `tftp`
//! never reassembles TCP. Per packet the engine allocates nothing and formats nothing: the
//! consumers get borrowed events and the caller gets the decoded packet with typed [`Notes`].
//!
//! ```no_run
//! use pcaplab::app::tftp::{self, Tracker};
//! use pcaplab::capture::CaptureReader;
//! use pcaplab::engine::Engine;
//!
//! let mut reader = CaptureReader::open(std::path::Path::new("capture.pcap"))?;
//! let mut tftp = Tracker::new(tftp::Config::default());
//! let mut engine = Engine::new(Default::default());
//! engine.datagram_consumer(&mut tftp);
//! engine.run(&mut reader, |_, _packet, _notes| true)?;
//! engine.finish();
//! let transfers = tftp.finish();
//! # Ok::<(), pcaplab::Error>(())
//! ```

use std::io::Read;
use std::net::SocketAddr;
use std::time::Duration;

use etherparse::TransportSlice;

use crate::app::{At, Datagram, DatagramConsumer, Notes, PacketObserver, StreamConsumer};
use crate::capture::{CaptureReader, Frame, FrameNumber};
use crate::decode::{self, Packet};
use crate::error::Error;
use crate::flow::ip::{Counters as FragmentCounters, Defragmenter, Fragment, Push};
use crate::flow::tcp::{
    Event, Flags, LimitKind, SegmentInfo, StreamEvent, StreamTable, TableCounters, TableLimits,
};

/// How often the reassembly memory limits forced data to be skipped (it became gaps).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct LimitsHit {
    /// Times a direction's out-of-order buffer was full.
    pub per_direction: u64,
    /// Times the global budget was exhausted.
    pub global: u64,
    /// Bytes skipped because of either limit.
    pub skipped_bytes: u64,
}

impl LimitsHit {
    fn count(&mut self, e: &StreamEvent<'_>) {
        if let Event::BufferLimit { skipped, limit, .. } = e.event {
            match limit {
                LimitKind::Direction => self.per_direction += 1,
                LimitKind::Global => self.global += 1,
            }
            self.skipped_bytes += skipped;
        }
    }
}

/// Where the run is, for the per-packet callback.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Position {
    /// Packets read so far (this one included).
    pub packets: u64,
    /// Bytes of the input read so far (for progress bars).
    pub input_offset: u64,
    /// Timestamp of the capture's first packet.
    pub first_timestamp: Duration,
}

/// What the run found besides the consumers' own results. The connections' rows went to the
/// stream consumers ([`StreamConsumer::on_stream_end`]) as they became final; none is kept here.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// TCP connections seen (their ids are 0 to `tcp_streams - 1`; 0 when TCP was not
    /// tracked).
    pub tcp_streams: u64,
    /// What the stream table did to bound its state (connections timed out, evicted).
    pub table: TableCounters,
    /// How often the reassembly memory limits were hit.
    pub limits_hit: LimitsHit,
    /// What IP fragment reassembly did: datagrams completed, dropped (and why).
    pub fragments: FragmentCounters,
    /// Packets read.
    pub packets: u64,
    /// Timestamp of the first packet.
    pub first_timestamp: Option<Duration>,
    /// Timestamp of the last packet.
    pub last_timestamp: Option<Duration>,
}

/// A packet pre-filter ([`Engine::select`]): the packet and the capture's first time in, keep
/// or not out.
pub type Select<'c> = dyn Fn(&Packet<'_>, Duration) -> bool + 'c;

/// One run over a capture, with the consumers lent for it.
pub struct Engine<'c> {
    /// IP fragment reassembly (always on: a datagram's consumers must see it whole).
    defrag: Defragmenter,
    d: Dispatch<'c>,
}

/// Everything but the fragment reassembly (so a reassembled datagram, which borrows the
/// defragmenter, can be dispatched).
struct Dispatch<'c> {
    limits: TableLimits,
    track_tcp: bool,
    table: Option<StreamTable>,
    streams: Vec<&'c mut dyn StreamConsumer>,
    datagrams: Vec<&'c mut dyn DatagramConsumer>,
    observers: Vec<&'c mut dyn PacketObserver>,
    /// The packets the consumers and the callback see (all when `None`): a pre-filter given
    /// the packet (a completed IP datagram whole) and the capture's first time.
    select: Option<&'c Select<'c>>,
    limits_hit: LimitsHit,
    tcp_streams: u64,
    position: Position,
    first_timestamp: Option<Duration>,
    last: At,
}

impl<'c> Engine<'c> {
    /// An engine with no consumer; `limits` bound TCP reassembly memory when TCP is tracked.
    pub fn new(limits: TableLimits) -> Self {
        Engine {
            defrag: Defragmenter::default(),
            d: Dispatch {
                limits,
                track_tcp: false,
                table: None,
                streams: Vec::new(),
                datagrams: Vec::new(),
                observers: Vec::new(),
                select: None,
                limits_hit: LimitsHit::default(),
                tcp_streams: 0,
                position: Position::default(),
                first_timestamp: None,
                last: At::default(),
            },
        }
    }

    /// Keeps no retransmission history: bytes a retransmission or overlap carries again are not
    /// compared with the first copy, so the connections' `inconsistencies` counts stay 0 and no
    /// delivered byte is copied to remember it (about a tenth of the CPU of a TCP-heavy
    /// capture). For commands that print no connection rows; call before [`Engine::run`].
    pub fn skip_retransmission_check(&mut self) -> &mut Self {
        self.d.limits.reassembly.history_window = 0;
        self
    }

    /// Tracks TCP connections even without a stream consumer: every TCP packet's notes then
    /// carry its stream and relative numbers, and [`Summary::tcp_streams`] counts the connections.
    pub fn track_tcp(&mut self) -> &mut Self {
        self.d.track_tcp = true;
        self
    }

    /// Plugs in a consumer of TCP stream events (and tracks TCP).
    pub fn stream_consumer(&mut self, consumer: &'c mut dyn StreamConsumer) -> &mut Self {
        self.d.streams.push(consumer);
        self.d.track_tcp = true;
        self
    }

    /// Plugs in a consumer of UDP datagrams.
    pub fn datagram_consumer(&mut self, consumer: &'c mut dyn DatagramConsumer) -> &mut Self {
        self.d.datagrams.push(consumer);
        self
    }

    /// Plugs in an observer of every packet and its notes.
    pub fn packet_observer(&mut self, observer: &'c mut dyn PacketObserver) -> &mut Self {
        self.d.observers.push(observer);
        self
    }

    /// Lets only the packets `keep` accepts reach the consumers, the observers and the callback
    /// (the others are still read, and their IP fragments still reassembled). `keep` gets the
    /// packet and the capture's first time; a display filter on the packet's own fields is the
    /// usual one (`-Y` on the summary commands).
    pub fn select(&mut self, keep: &'c Select<'c>) -> &mut Self {
        self.d.select = Some(keep);
        self
    }

    /// Reads every frame of `reader`, runs it through the consumers and calls `on_packet` with
    /// the decoded packet and its notes. Stops early when `on_packet` returns `false`.
    ///
    /// # Errors
    /// The capture's fatal error ([`Error`]), after every frame before it has been handed over.
    pub fn run<R: Read>(
        &mut self,
        reader: &mut CaptureReader<R>,
        mut on_packet: impl FnMut(&Position, &Packet<'_>, &Notes<'_>) -> bool,
    ) -> Result<(), Error> {
        if self.d.track_tcp && self.d.table.is_none() {
            // Client and server by content when the handshake was not captured (a request
            // line is the client's, a status line the server's): see `flow::tcp::table`.
            self.d.table =
                Some(StreamTable::new(self.d.limits).with_role_hint(crate::app::role_hint));
        }
        loop {
            self.d.position.input_offset = reader.offset();
            let Some(frame) = reader.next_frame() else {
                break;
            };
            let frame = frame?;
            if !self.process(&frame, &mut on_packet) {
                break;
            }
        }
        Ok(())
    }

    /// One frame: decode, fragment reassembly, consumers, callback.
    fn process(
        &mut self,
        frame: &Frame<'_>,
        on_packet: &mut impl FnMut(&Position, &Packet<'_>, &Notes<'_>) -> bool,
    ) -> bool {
        let d = &mut self.d;
        let first = *d.first_timestamp.get_or_insert(frame.timestamp);
        d.position.packets += 1;
        d.position.first_timestamp = first;
        let at = At {
            frame: frame.number,
            ts: frame.timestamp,
        };
        d.last = at;
        let packet = decode::decode(frame);
        let go_on = match Fragment::from_packet(&packet) {
            None => {
                self.defrag.expire(frame.timestamp);
                self.d.dispatch(&packet, None, at, on_packet)
            }
            // A fragment stays a layer-3 packet; the one that completes its datagram carries
            // the whole datagram to the consumers (decoded at layers 4 and 7) and names the
            // frames it came from.
            Some(f) => match self.defrag.push(frame.number, frame.timestamp, &f) {
                Push::Complete(datagram) => {
                    let whole = datagram.to_packet(&packet);
                    self.d
                        .dispatch(&whole, Some(datagram.frames), at, on_packet)
                }
                Push::Pending | Push::Dropped(_) => self.d.dispatch(&packet, None, at, on_packet),
            },
        };
        // The dropped datagrams are counted by the defragmenter; their records are not needed.
        self.defrag.drain_dropped().for_each(drop);
        go_on
    }

    /// Ends every connection still open (their last events and then every remaining row go to
    /// the stream consumers, then [`StreamConsumer::finish`]) and returns what the run found.
    /// The consumers are free again once the engine is gone.
    pub fn finish(mut self) -> Summary {
        self.defrag.finish();
        self.defrag.drain_dropped().for_each(drop);
        let fragments = *self.defrag.counters();
        self.d.finish(fragments)
    }
}

impl Dispatch<'_> {
    /// One packet (or the whole datagram its fragment completed, `reassembled` naming the
    /// frames of its fragments) through the consumers, then the callback.
    fn dispatch(
        &mut self,
        packet: &Packet<'_>,
        reassembled: Option<&[FrameNumber]>,
        at: At,
        on_packet: &mut impl FnMut(&Position, &Packet<'_>, &Notes<'_>) -> bool,
    ) -> bool {
        if let Some(keep) = self.select
            && !keep(packet, self.position.first_timestamp)
        {
            return true;
        }
        let mut notes = Notes {
            reassembled_from: reassembled,
            ..Notes::default()
        };
        if let Some(table) = &mut self.table
            && let Some(seg) = segment(packet)
        {
            let consumers = &mut self.streams;
            let hit = &mut self.limits_hit;
            let outcome = table.on_segment(&seg, &mut |e: StreamEvent<'_>| {
                hit.count(&e);
                for c in consumers.iter_mut() {
                    c.on_event(&e, at);
                }
            });
            for c in self.streams.iter_mut() {
                c.on_packet_end(outcome.stream, at, table);
            }
            notes.tcp = Some(outcome);
            notes.app = self.streams.iter().find_map(|c| c.note(outcome.stream));
            for o in self.observers.iter_mut() {
                o.on_packet(packet, &notes);
            }
            let go_on = on_packet(&self.position, packet, &notes);
            self.drain_rows(at);
            return go_on;
        }
        if !self.datagrams.is_empty()
            && let (Some((src, dst)), Some(TransportSlice::Udp(udp))) =
                (packet.ip_addrs(), packet.transport())
        {
            let datagram = Datagram {
                at,
                src: SocketAddr::new(src, udp.source_port()),
                dst: SocketAddr::new(dst, udp.destination_port()),
                payload: udp.payload(),
            };
            for c in self.datagrams.iter_mut() {
                if let Some(note) = c.on_datagram(&datagram) {
                    notes.app.get_or_insert(note);
                }
            }
        } else if !self.datagrams.is_empty()
            && let Some(error) = packet
                .transport()
                .and_then(decode::icmp::decode_transport_error)
        {
            for c in self.datagrams.iter_mut() {
                c.on_icmp_error(at, &error);
            }
        }
        for o in self.observers.iter_mut() {
            o.on_packet(packet, &notes);
        }
        on_packet(&self.position, packet, &notes)
    }

    /// Hands the rows the table made final to the stream consumers (and forgets them).
    fn drain_rows(&mut self, at: At) {
        let Some(table) = &mut self.table else {
            return;
        };
        let consumers = &mut self.streams;
        let count = &mut self.tcp_streams;
        table.drain_closed(|row| {
            *count = (*count).max(row.id.0.saturating_add(1));
            for c in consumers.iter_mut() {
                c.on_stream_end(&row, at);
            }
        });
    }

    /// Ends every connection still open (their last events and then every remaining row go to
    /// the stream consumers, then [`StreamConsumer::finish`]) and returns what the run found.
    /// The consumers are free again once the engine is gone.
    fn finish(mut self, fragments: FragmentCounters) -> Summary {
        let at = self.last;
        let mut table_counters = TableCounters::default();
        // One connection at a time, its row handed out before the next ends, so the rows never
        // pile up (a table at its flow cap holds 100,000 connections).
        let live = self.table.as_ref().map(StreamTable::live_ids);
        for id in live.into_iter().flatten() {
            if let Some(table) = &mut self.table {
                let consumers = &mut self.streams;
                let hit = &mut self.limits_hit;
                table.finish_stream(id, &mut |e: StreamEvent<'_>| {
                    hit.count(&e);
                    for c in consumers.iter_mut() {
                        c.on_event(&e, at);
                    }
                });
            }
            self.drain_rows(at);
        }
        if let Some(table) = &mut self.table {
            table_counters = *table.counters();
            self.drain_rows(at);
        }
        for c in self.streams.iter_mut() {
            c.finish(at);
        }
        Summary {
            tcp_streams: self.tcp_streams,
            table: table_counters,
            limits_hit: self.limits_hit,
            fragments,
            packets: self.position.packets,
            first_timestamp: self.first_timestamp,
            last_timestamp: (self.position.packets > 0).then_some(at.ts),
        }
    }
}

/// The TCP segment of a packet (also of one whose header was cut short, when its sequence
/// number and flags were captured), for the stream table.
fn segment<'a>(packet: &'a Packet<'a>) -> Option<SegmentInfo<'a>> {
    let (src, dst) = packet.ip_addrs()?;
    let frame = &packet.frame;
    let (sport, dport, seq, ack, flags, window, payload, wire_payload_len, options) =
        match packet.transport() {
            Some(TransportSlice::Tcp(t)) => (
                t.source_port(),
                t.destination_port(),
                t.sequence_number(),
                t.acknowledgment_number(),
                t.header_slice().get(13).copied().unwrap_or(0),
                t.window_size(),
                t.payload(),
                u32::try_from(packet.wire_payload_len()).unwrap_or(u32::MAX),
                Some(t.options()),
            ),
            Some(_) => return None,
            None => {
                let p = packet.partial_tcp()?;
                (
                    p.src_port,
                    p.dst_port,
                    p.seq?,
                    p.ack.unwrap_or(0),
                    p.flags?,
                    p.window.unwrap_or(0),
                    &[][..],
                    p.payload_len
                        .and_then(|n| u32::try_from(n).ok())
                        .unwrap_or(0),
                    None,
                )
            }
        };
    Some(SegmentInfo {
        frame: frame.number,
        ts: frame.timestamp,
        frame_len: u64::from(frame.original_len),
        src,
        sport,
        dst,
        dport,
        seq,
        ack,
        flags: Flags::from_byte(flags),
        window,
        payload,
        wire_payload_len,
        options,
    })
}

/// Reads the whole capture through `engine` with no per-packet work besides the consumers',
/// calling `progress` with the input offset now and then. A fatal read error comes back beside
/// the summary of every packet before it, so the caller can report both.
pub fn analyze<R: Read>(
    reader: &mut CaptureReader<R>,
    mut engine: Engine<'_>,
    mut progress: impl FnMut(u64),
) -> (Summary, Option<Error>) {
    let result = engine.run(reader, |pos, _, _| {
        if pos.packets.is_multiple_of(8192) {
            progress(pos.input_offset);
        }
        true
    });
    (engine.finish(), result.err())
}
