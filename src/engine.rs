//! The glue: drives capture → decode → stateful stages (TCP streams, TFTP and HTTP conversations)
//! and hands each decoded packet, with what the stateful stages learned about it, to the caller.

use std::io::Read;
use std::time::Duration;

use crate::capture::{CaptureReader, Frame};
use crate::decode::describe::Context;
use crate::decode::{self, Packet};
use crate::error::Error;

/// Settings of a run.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Extra UDP ports whose requests open TFTP transfers (69 always does).
    pub tftp_ports: Vec<u16>,
}

/// Per-capture state of the stateful stages.
pub struct Engine {
    first_timestamp: Option<Duration>,
    packets: u64,
}

impl Engine {
    /// A fresh engine.
    pub fn new(_options: Options) -> Self {
        Engine {
            first_timestamp: None,
            packets: 0,
        }
    }

    /// Decodes one frame and runs it through the stateful stages.
    pub fn process<'a>(&mut self, frame: &Frame<'a>) -> (Packet<'a>, Context) {
        self.first_timestamp.get_or_insert(frame.timestamp);
        self.packets += 1;
        let packet = decode::decode(frame);
        (packet, Context::default())
    }

    /// Timestamp of the first packet seen.
    pub fn first_timestamp(&self) -> Duration {
        self.first_timestamp.unwrap_or_default()
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
    while let Some(frame) = reader.next_frame() {
        let frame = frame?;
        let (packet, ctx) = engine.process(&frame);
        if !on_packet(engine, &packet, &ctx) {
            break;
        }
    }
    Ok(())
}
