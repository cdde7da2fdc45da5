//! The whole read-and-decode path: any bytes as a capture file, every frame through the engine
//! (decode, TCP streams, TFTP, HTTP) and the per-packet views.
#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use pcaplab::capture::CaptureReader;
use pcaplab::engine::{self, Engine, Options};

fuzz_target!(|data: &[u8]| {
    let Ok(mut reader) = CaptureReader::new(Cursor::new(data)) else {
        return;
    };
    let mut engine = Engine::new(Options::default());
    let _ = engine::run(&mut reader, &mut engine, |engine, packet, ctx| {
        let _ = pcaplab::analysis::packets::row(packet, ctx, engine.first_timestamp());
        true
    });
    let _ = engine.finish();
});
