//! The whole read-and-decode path: any bytes as a capture file, every frame through the engine
//! with the consumers of `packets` (TCP streams, TFTP, HTTP labels) and the per-packet views.
#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use pcaplab::capture::CaptureReader;
use pcaplab::app::{http, tftp};
use pcaplab::engine::Engine;

fuzz_target!(|data: &[u8]| {
    let Ok(mut reader) = CaptureReader::new(Cursor::new(data)) else {
        return;
    };
    let mut http = http::Tracker::new(http::Options {
        transactions: true,
        ..http::Options::default()
    });
    let mut tftp = tftp::Tracker::new(tftp::Config::default());
    let mut engine = Engine::new(Default::default());
    engine
        .track_tcp()
        .stream_consumer(&mut http)
        .datagram_consumer(&mut tftp);
    let _ = engine.run(&mut reader, |pos, packet, notes| {
        let _ = pcaplab::view::row(packet, notes, pos.first_timestamp);
        true
    });
    let _ = engine.finish();
    let _ = http.into_transactions();
    let _ = tftp.finish();
});
