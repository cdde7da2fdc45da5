//! The TFTP datagram decoder, and the tracker fed the same bytes as a request, a reply and an
//! ICMP error.
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
    // The same bytes as an ICMP error (it may quote a datagram of the transfer).
    if let Some(e) = pcaplab::decode::icmp::decode_v4(data) {
        t.on_icmp_error(FrameNumber(4), Duration::ZERO, &e);
    }
    let _ = t.finish();
});
