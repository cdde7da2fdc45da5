//! The glue: drives capture → decode → stateful stages (TCP streams, TFTP and HTTP conversations)
//! and hands each decoded packet, with what the stateful stages learned about it, to the caller.

mod tcp;
mod tftp;

pub use tcp::{FollowChunk, LimitsHit, StickyOptions};

use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use etherparse::TransportSlice;

use crate::analysis::http as http_analysis;
use crate::analysis::sticky;
use crate::analysis::tftp as tftp_analysis;
use crate::capture::{CaptureReader, Frame};
use crate::decode::describe::Context;
use crate::decode::describe::{AppView, TcpRelative};
use crate::decode::{self, Packet};
use crate::error::Error;
use crate::flow::tcp::Stream;

/// Settings of a run.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Extra UDP ports whose requests open TFTP transfers (69 always does).
    pub tftp_ports: Vec<u16>,
    /// Write every transferred TFTP file into this directory.
    pub tftp_extract_dir: Option<PathBuf>,
    /// HTTP analysis settings (body extraction).
    pub http: http_analysis::Options,
    /// Frame streams into messages for the sticky-packet analysis.
    pub sticky: Option<StickyOptions>,
    /// Keep the reassembled bytes of this TCP stream (for `follow`).
    pub follow: Option<u64>,
    /// Memory limits of TCP reassembly (out-of-order bytes per direction and in all).
    pub tcp_limits: crate::flow::tcp::TableLimits,
}

/// What the stateful stages found in the whole capture, once it has been read.
#[derive(Debug)]
pub struct Findings {
    /// Every TFTP transfer, in order of its request.
    pub tftp_transfers: Vec<tftp_analysis::Transfer>,
    /// Every TCP connection, by stream id.
    pub streams: Vec<Stream>,
    /// Every HTTP transaction, in capture order.
    pub http_transactions: Vec<http_analysis::Transaction>,
    /// Sticky-packet reports, two per framed stream (client to server first).
    pub sticky: Vec<sticky::Direction>,
    /// The reassembled bytes of the followed stream.
    pub followed: Vec<FollowChunk>,
    /// How often the reassembly memory limits were hit.
    pub limits_hit: LimitsHit,
    /// Packets read.
    pub packets: u64,
    /// Timestamp of the first packet.
    pub first_timestamp: Option<Duration>,
    /// Timestamp of the last packet.
    pub last_timestamp: Option<Duration>,
}

/// Per-capture state of the stateful stages.
pub struct Engine {
    first_timestamp: Option<Duration>,
    packets: u64,
    input_offset: u64,
    last_frame: (crate::capture::FrameNumber, Duration),
    tftp: tftp_analysis::Tracker,
    tcp: tcp::Tcp,
    labels: Vec<http_analysis::Label>,
}

impl Engine {
    /// A fresh engine.
    pub fn new(options: Options) -> Self {
        let mut tftp_config = tftp_analysis::Config::default();
        tftp_config
            .server_ports
            .extend(options.tftp_ports.iter().copied());
        tftp_config.extract_dir = options.tftp_extract_dir.clone();
        Engine {
            first_timestamp: None,
            packets: 0,
            input_offset: 0,
            last_frame: Default::default(),
            tftp: tftp_analysis::Tracker::new(tftp_config),
            tcp: tcp::Tcp::new(
                options.tcp_limits,
                options.http.clone(),
                options.sticky.clone(),
                options.follow,
            ),
            labels: Vec::new(),
        }
    }

    /// Ends every conversation still open and returns what was found.
    pub fn finish(mut self) -> Findings {
        let (frame, ts) = self.last_frame;
        self.tcp.finish(frame, ts);
        let mut tcp = self.tcp;
        Findings {
            tftp_transfers: self.tftp.finish(),
            streams: tcp.take_streams(),
            http_transactions: std::mem::take(&mut tcp.transactions),
            sticky: std::mem::take(&mut tcp.sticky_reports),
            followed: std::mem::take(&mut tcp.followed),
            limits_hit: tcp.limits_hit,
            packets: self.packets,
            first_timestamp: self.first_timestamp,
            last_timestamp: (self.packets > 0).then_some(ts),
        }
    }

    /// Decodes one frame and runs it through the stateful stages.
    pub fn process<'a>(&mut self, frame: &Frame<'a>) -> (Packet<'a>, Context) {
        self.first_timestamp.get_or_insert(frame.timestamp);
        self.packets += 1;
        self.last_frame = (frame.number, frame.timestamp);
        let packet = decode::decode(frame);
        let mut ctx = Context::default();
        if let Some((src, dst)) = packet.ip_addrs() {
            self.on_tcp(&packet, src, dst, &mut ctx);
        }
        if let (Some((src, dst)), Some(TransportSlice::Udp(udp))) =
            (packet.ip_addrs(), packet.transport())
        {
            ctx.app = tftp::on_datagram(
                &mut self.tftp,
                frame.number,
                frame.timestamp,
                SocketAddr::new(src, udp.source_port()),
                SocketAddr::new(dst, udp.destination_port()),
                udp.payload(),
            );
        }
        (packet, ctx)
    }

    /// Runs a TCP segment (also one whose header was cut short) through the stream table.
    fn on_tcp(
        &mut self,
        packet: &Packet<'_>,
        src: std::net::IpAddr,
        dst: std::net::IpAddr,
        ctx: &mut Context,
    ) {
        let (header, payload) = match packet.transport() {
            Some(TransportSlice::Tcp(t)) => {
                let flags = t.header_slice().get(13).copied().unwrap_or(0);
                (
                    (
                        t.source_port(),
                        t.destination_port(),
                        t.sequence_number(),
                        t.acknowledgment_number(),
                        flags,
                        t.window_size(),
                    ),
                    (
                        t.payload(),
                        u32::try_from(packet.wire_payload_len()).unwrap_or(u32::MAX),
                        Some(t.options()),
                    ),
                )
            }
            Some(_) => return,
            None => match packet.partial_tcp() {
                Some(p) => match (p.seq, p.flags) {
                    (Some(seq), Some(flags)) => (
                        (
                            p.src_port,
                            p.dst_port,
                            seq,
                            p.ack.unwrap_or(0),
                            flags,
                            p.window.unwrap_or(0),
                        ),
                        (
                            &[][..],
                            p.payload_len
                                .and_then(|n| u32::try_from(n).ok())
                                .unwrap_or(0),
                            None,
                        ),
                    ),
                    _ => return,
                },
                None => return,
            },
        };
        let frame = &packet.frame;
        self.labels.clear();
        let outcome = self.tcp.on_segment(
            frame.number,
            frame.timestamp,
            u64::from(frame.original_len),
            src,
            dst,
            header,
            payload,
            &mut self.labels,
        );
        ctx.tcp = Some(TcpRelative {
            seq: outcome.relative_seq,
            ack: outcome.relative_ack,
            stream: outcome.stream.0,
        });
        if let Some(label) = self
            .labels
            .iter()
            .find(|l| l.is_start)
            .or(self.labels.first())
        {
            let mut app = if label.is_start {
                AppView::new(
                    "HTTP",
                    label.info.clone().unwrap_or_else(|| "HTTP message".into()),
                )
            } else {
                let mut v = AppView::new(
                    "HTTP",
                    format!(
                        "[continuation of HTTP {} {}] {}",
                        match label.direction {
                            crate::flow::Direction::ClientToServer => "request",
                            crate::flow::Direction::ServerToClient => "response",
                        },
                        label.message,
                        crate::decode::describe::info(packet, ctx)
                    ),
                );
                v.add("continuation", true);
                v
            };
            app.add("message", label.message);
            if let Some(t) = label.transaction {
                app.add("transaction", t);
            }
            if let Some(i) = &label.info {
                app.add("start_line", i.clone());
            }
            ctx.app = Some(app);
        }
    }

    /// Timestamp of the first packet seen.
    pub fn first_timestamp(&self) -> Duration {
        self.first_timestamp.unwrap_or_default()
    }

    /// Bytes of the input read so far (for progress bars).
    pub fn input_offset(&self) -> u64 {
        self.input_offset
    }

    /// Number of packets processed.
    pub fn packets(&self) -> u64 {
        self.packets
    }
}

/// Reads every frame of `reader` through `engine`, calling `on_packet` for each. Stops early when
/// `on_packet` returns `false`.
///
/// # Errors
/// The capture's fatal error ([`Error`]), after every frame before it has been handed over.
pub fn run<R: Read>(
    reader: &mut CaptureReader<R>,
    engine: &mut Engine,
    mut on_packet: impl FnMut(&Engine, &Packet<'_>, &Context) -> bool,
) -> Result<(), Error> {
    loop {
        engine.input_offset = reader.offset();
        let Some(frame) = reader.next_frame() else {
            break;
        };
        let frame = frame?;
        let (packet, ctx) = engine.process(&frame);
        if !on_packet(engine, &packet, &ctx) {
            break;
        }
    }
    Ok(())
}

/// Reads the whole capture through `engine` for the analyses only (no per-packet output) and
/// returns what was found. A fatal read error comes back beside the findings from every packet
/// before it, so the caller can report both.
pub fn analyze<R: Read>(
    reader: &mut CaptureReader<R>,
    mut engine: Engine,
    mut progress: impl FnMut(u64),
) -> (Findings, Option<Error>) {
    let mut n: u64 = 0;
    let result = run(reader, &mut engine, |engine, _, _| {
        n += 1;
        if n.is_multiple_of(8192) {
            progress(engine.input_offset());
        }
        true
    });
    (engine.finish(), result.err())
}
