//! TCP in the engine: segments go to the stream table; its reassembled data feeds the HTTP
//! analyzer of streams that start like HTTP, the sticky-packet framers when asked for, and the
//! byte capture of `follow`.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::analysis::http::{self, Label, StreamAnalyzer, Transaction};
use crate::analysis::sticky;
use crate::capture::FrameNumber;
use crate::flow::Direction;
use crate::flow::tcp::{
    Event, Flags, LimitKind, Outcome, SegmentInfo, StreamEvent, StreamTable, TableLimits,
};
use crate::framing::FramingSpec;

/// Which streams to frame for the sticky-packet analysis, and how.
#[derive(Debug, Clone)]
pub struct StickyOptions {
    /// Framing to apply (`auto` detects per direction).
    pub framing: FramingSpec,
    /// Only this stream, or every stream.
    pub stream: Option<u64>,
    /// Keep the per-segment listing (else only the counts).
    pub keep_segments: bool,
}

/// A piece of one direction of a followed stream.
#[derive(Debug, Clone)]
pub enum FollowChunk {
    /// Bytes delivered in order.
    Data {
        /// Direction of the bytes.
        direction: Direction,
        /// The frame that carried them.
        frame: FrameNumber,
        /// Stream offset of the first byte.
        offset: u64,
        /// The bytes.
        bytes: Vec<u8>,
    },
    /// Bytes that were never captured.
    Gap {
        /// Direction of the hole.
        direction: Direction,
        /// Stream offset of the hole.
        offset: u64,
        /// Its length.
        len: u64,
    },
}

#[derive(Default)]
struct StreamApps {
    http_decided: bool,
    http: Option<StreamAnalyzer>,
    sticky: Option<[sticky::DirectionFramer; 2]>,
    end_offsets: [u64; 2],
    ended: [bool; 2],
}

/// TCP state of a run.
pub(super) struct Tcp {
    table: StreamTable,
    apps: HashMap<u64, StreamApps>,
    http_options: http::Options,
    sticky: Option<StickyOptions>,
    follow: Option<u64>,
    pub(super) followed: Vec<FollowChunk>,
    pub(super) transactions: Vec<Transaction>,
    pub(super) sticky_reports: Vec<sticky::Direction>,
    labels: Vec<Label>,
    pub(super) limits_hit: LimitsHit,
}

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

fn index(d: Direction) -> usize {
    match d {
        Direction::ClientToServer => 0,
        Direction::ServerToClient => 1,
    }
}

impl Tcp {
    pub(super) fn new(
        limits: TableLimits,
        http_options: http::Options,
        sticky: Option<StickyOptions>,
        follow: Option<u64>,
    ) -> Self {
        Tcp {
            table: StreamTable::new(limits),
            apps: HashMap::new(),
            http_options,
            sticky,
            follow,
            followed: Vec::new(),
            transactions: Vec::new(),
            sticky_reports: Vec::new(),
            labels: Vec::new(),
            limits_hit: LimitsHit::default(),
        }
    }

    /// One TCP segment; returns where it belongs and the HTTP labels for its frame.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn on_segment(
        &mut self,
        frame: FrameNumber,
        ts: Duration,
        frame_len: u64,
        src: IpAddr,
        dst: IpAddr,
        header: (u16, u16, u32, u32, u8, u16),
        (payload, wire_payload_len, options): (&[u8], u32, Option<&[u8]>),
        labels_out: &mut Vec<Label>,
    ) -> Outcome {
        let (sport, dport, seq, ack, flags, window) = header;
        let seg = SegmentInfo {
            frame,
            ts,
            frame_len,
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
        };
        let apps = &mut self.apps;
        let http_options = &self.http_options;
        let sticky = &self.sticky;
        let follow = self.follow;
        let followed = &mut self.followed;
        let hit = &mut self.limits_hit;
        let outcome = self.table.on_segment(&seg, &mut |e: StreamEvent<'_>| {
            count_limit(&e, hit);
            handle(e, apps, http_options, sticky, follow, followed, frame, ts);
        });
        let id = outcome.stream.0;
        if let Some(app) = self.apps.get_mut(&id) {
            if let Some(a) = &mut app.http {
                let before = self.transactions.len();
                a.take_finished(&mut self.transactions);
                a.drain_labels(&mut self.labels);
                if let Some(s) = self.table.stream(outcome.stream) {
                    for t in self.transactions.iter_mut().skip(before) {
                        t.client = SocketAddr::new(s.client.addr, s.client.port);
                        t.server = SocketAddr::new(s.server.addr, s.server.port);
                    }
                }
            }
            if let Some(dirs) = &mut app.sticky {
                for d in dirs.iter_mut() {
                    d.end_delivery();
                }
            }
        }
        labels_out.extend(self.labels.drain(..).filter(|l| l.frame == frame));
        // A stream whose two directions have ended is reported now and its state released, so
        // memory follows the connections still open, not the capture's length.
        if self.apps.get(&id).is_some_and(|a| a.ended == [true, true]) {
            self.finalize(id, frame, ts);
        }
        outcome
    }

    /// Reports one stream's HTTP transactions and sticky findings and drops its state.
    fn finalize(&mut self, id: u64, frame: FrameNumber, ts: Duration) {
        let Some(app) = self.apps.remove(&id) else {
            return;
        };
        let endpoints = self.table.stream(crate::flow::tcp::StreamId(id)).map(|s| {
            (
                SocketAddr::new(s.client.addr, s.client.port),
                SocketAddr::new(s.server.addr, s.server.port),
            )
        });
        if let Some(a) = app.http {
            let mut txs = a.finish(frame, ts);
            if let Some((c, s)) = endpoints {
                for t in &mut txs {
                    t.client = c;
                    t.server = s;
                }
            }
            self.transactions.extend(txs);
        }
        if let Some(dirs) = app.sticky {
            let [c2s, s2c] = dirs;
            self.sticky_reports.push(c2s.finish(app.end_offsets[0]));
            self.sticky_reports.push(s2c.finish(app.end_offsets[1]));
        }
    }

    /// Ends every stream and collects the reports.
    pub(super) fn finish(&mut self, frame: FrameNumber, ts: Duration) {
        let apps = &mut self.apps;
        let http_options = &self.http_options;
        let sticky = &self.sticky;
        let follow = self.follow;
        let followed = &mut self.followed;
        let hit = &mut self.limits_hit;
        self.table.finish_all(&mut |e: StreamEvent<'_>| {
            count_limit(&e, hit);
            handle(e, apps, http_options, sticky, follow, followed, frame, ts);
        });
        let mut ids: Vec<u64> = self.apps.keys().copied().collect();
        ids.sort_unstable();
        for id in ids {
            self.finalize(id, frame, ts);
        }
        self.sticky_reports
            .sort_by_key(|r| (r.stream, index(r.direction)));
        self.transactions
            .sort_by_key(|t| (t.request_frame.or(t.response_frame), t.stream));
    }

    /// The summaries of every connection (call after `finish`).
    pub(super) fn take_streams(&mut self) -> Vec<crate::flow::tcp::Stream> {
        self.table.take_streams()
    }
}

fn count_limit(e: &StreamEvent<'_>, hit: &mut LimitsHit) {
    if let Event::BufferLimit { skipped, limit, .. } = e.event {
        match limit {
            LimitKind::Direction => hit.per_direction += 1,
            LimitKind::Global => hit.global += 1,
        }
        hit.skipped_bytes += skipped;
    }
}

#[allow(clippy::too_many_arguments)]
fn handle(
    e: StreamEvent<'_>,
    apps: &mut HashMap<u64, StreamApps>,
    http_options: &http::Options,
    sticky: &Option<StickyOptions>,
    follow: Option<u64>,
    followed: &mut Vec<FollowChunk>,
    frame: FrameNumber,
    ts: Duration,
) {
    let id = e.stream.0;
    let app = apps.entry(id).or_insert_with(|| {
        let mut app = StreamApps::default();
        if let Some(s) = sticky
            && s.stream.is_none_or(|only| only == id)
        {
            app.sticky = Some([
                sticky::DirectionFramer::new(
                    id,
                    Direction::ClientToServer,
                    s.framing.clone(),
                    s.keep_segments,
                ),
                sticky::DirectionFramer::new(
                    id,
                    Direction::ServerToClient,
                    s.framing.clone(),
                    s.keep_segments,
                ),
            ]);
        }
        app
    });
    let dir = e.direction;
    let i = index(dir);
    match e.event {
        Event::Data {
            frame: data_frame,
            offset,
            bytes,
        } => {
            if !app.http_decided && !bytes.is_empty() {
                app.http_decided = true;
                if crate::app::http::looks_like_http_start(bytes) {
                    let unknown = SocketAddr::from(([0, 0, 0, 0], 0));
                    app.http = Some(StreamAnalyzer::new(
                        id,
                        unknown,
                        unknown,
                        http_options.clone(),
                    ));
                }
            }
            if let Some(a) = &mut app.http {
                a.on_data(dir, offset, bytes, data_frame, ts);
            }
            if let Some(dirs) = &mut app.sticky
                && let Some(d) = dirs.get_mut(i)
            {
                d.on_data(data_frame, offset, bytes);
            }
            if follow == Some(id) {
                followed.push(FollowChunk::Data {
                    direction: dir,
                    frame: data_frame,
                    offset,
                    bytes: bytes.to_vec(),
                });
            }
            if let Some(end) = app.end_offsets.get_mut(i) {
                *end = (*end).max(offset.saturating_add(bytes.len() as u64));
            }
        }
        Event::Gap { offset, len, .. } => {
            if let Some(a) = &mut app.http {
                a.on_gap(dir, offset, len);
            }
            if let Some(dirs) = &mut app.sticky
                && let Some(d) = dirs.get_mut(i)
            {
                d.on_gap(offset, len);
            }
            if follow == Some(id) {
                followed.push(FollowChunk::Gap {
                    direction: dir,
                    offset,
                    len,
                });
            }
            if let Some(end) = app.end_offsets.get_mut(i) {
                *end = (*end).max(offset.saturating_add(len));
            }
        }
        Event::End { offset, .. } => {
            if let Some(a) = &mut app.http {
                a.on_end(Some(dir), offset, frame, ts);
            }
            if let Some(dirs) = &mut app.sticky
                && let Some(d) = dirs.get_mut(i)
            {
                d.on_end(offset);
            }
            if let Some(end) = app.end_offsets.get_mut(i) {
                *end = (*end).max(offset);
            }
            if let Some(ended) = app.ended.get_mut(i) {
                *ended = true;
            }
        }
        _ => {}
    }
}
