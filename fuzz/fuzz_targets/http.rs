//! The HTTP head parser and the per-stream analyzer, with the bytes cut into segments at
//! positions taken from the input itself.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use pcaplab::app::http::{Conversation, Options};
use pcaplab::capture::FrameNumber;
use pcaplab::flow::Direction;

fuzz_target!(|data: &[u8]| {
    let _ = pcaplab::app::http::decode_head(data);
    let client = "10.0.0.1:4000".parse().unwrap();
    let server = "10.0.0.2:80".parse().unwrap();
    let mut a = Conversation::new(0, client, server, Options::default());
    let mut offsets = [0u64; 2];
    let mut rest = data;
    let mut frame = 1;
    while let Some((&cut, tail)) = rest.split_first() {
        let n = usize::from(cut % 64).min(tail.len());
        let (chunk, after) = tail.split_at(n);
        let dir = if cut & 0x80 == 0 {
            Direction::ClientToServer
        } else {
            Direction::ServerToClient
        };
        let i = dir as usize;
        a.on_data(dir, offsets[i], chunk, FrameNumber(frame), Duration::from_millis(frame));
        offsets[i] += chunk.len() as u64;
        frame += 1;
        rest = after;
    }
    let _ = a.finish(FrameNumber(frame), Duration::from_millis(frame));
});
