//! The TFTP datagram decoder, and the tracker fed the same bytes as a request and a reply.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use pcaplab::app::tftp::{Config, Tracker};
use pcaplab::capture::FrameNumber;

fuzz_target!(|data: &[u8]| {
    let _ = pcaplab::app::tftp::decode(data);
    let client = "10.0.0.1:4000".parse().unwrap();
    let server = "10.0.0.2:69".parse().unwrap();
    let tid = "10.0.0.2:5000".parse().unwrap();
    let mut t = Tracker::new(Config::default());
    let half = data.len() / 2;
    t.on_datagram(FrameNumber(1), Duration::ZERO, client, server, &data[..half]);
    t.on_datagram(FrameNumber(2), Duration::ZERO, tid, client, &data[half..]);
    t.on_datagram(FrameNumber(3), Duration::ZERO, client, tid, data);
    let _ = t.finish();
});
