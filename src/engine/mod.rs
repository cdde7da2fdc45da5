//! The glue: drives capture → decode → stateful stages (TCP streams, TFTP and HTTP conversations)
//! and hands each decoded packet, with what the stateful stages learned about it, to the caller.

mod tftp;

use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use etherparse::TransportSlice;

use crate::analysis::tftp as tftp_analysis;
use crate::capture::{CaptureReader, Frame};
use crate::decode::describe::Context;
use crate::decode::{self, Packet};
use crate::error::Error;

/// Settings of a run.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Extra UDP ports whose requests open TFTP transfers (69 always does).
    pub tftp_ports: Vec<u16>,
    /// Write every transferred TFTP file into this directory.
    pub tftp_extract_dir: Option<PathBuf>,
}

/// What the stateful stages found in the whole capture, once it has been read.
#[derive(Debug)]
pub struct Findings {
    /// Every TFTP transfer, in order of its request.
    pub tftp_transfers: Vec<tftp_analysis::Transfer>,
}

/// Per-capture state of the stateful stages.
pub struct Engine {
    first_timestamp: Option<Duration>,
    packets: u64,
    input_offset: u64,
    tftp: tftp_analysis::Tracker,
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
            tftp: tftp_analysis::Tracker::new(tftp_config),
        }
    }

    /// Ends every conversation still open and returns what was found.
    pub fn finish(self) -> Findings {
        Findings {
            tftp_transfers: self.tftp.finish(),
        }
    }

    /// Decodes one frame and runs it through the stateful stages.
    pub fn process<'a>(&mut self, frame: &Frame<'a>) -> (Packet<'a>, Context) {
        self.first_timestamp.get_or_insert(frame.timestamp);
        self.packets += 1;
        let packet = decode::decode(frame);
        let mut ctx = Context::default();
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
