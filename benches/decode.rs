//! Decode throughput: reading frames from an in-memory capture and slicing every layer.
//!
//! Input: `PCAPLAB_BENCH_CAPTURE` (e.g. the output of `../shared/bench/gen-bench.py`) or, by
//! default, the largest fixture. The file is loaded before timing starts.

use std::io::Cursor;
use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pcaplab::app::{http, tftp};
use pcaplab::capture::CaptureReader;
use pcaplab::decode;
use pcaplab::engine::Engine;

fn input() -> (String, Vec<u8>) {
    let path = std::env::var_os("PCAPLAB_BENCH_CAPTURE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/split-200k.pcap")
        });
    let bytes = std::fs::read(&path).expect("bench capture");
    (path.display().to_string(), bytes)
}

fn count_frames(bytes: &[u8]) -> u64 {
    let mut reader = CaptureReader::new(Cursor::new(bytes)).expect("capture");
    let mut n = 0;
    while let Some(Ok(_)) = reader.next_frame() {
        n += 1;
    }
    n
}

fn bench(c: &mut Criterion) {
    let (name, bytes) = input();
    let frames = count_frames(&bytes);
    let mut group = c.benchmark_group(format!("capture {name}"));
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.sample_size(10);
    group.bench_function("read", |b| b.iter(|| count_frames(&bytes)));
    group.bench_function("read+decode", |b| {
        b.iter(|| {
            let mut reader = CaptureReader::new(Cursor::new(&bytes)).expect("capture");
            let mut tcp_payload = 0usize;
            while let Some(Ok(frame)) = reader.next_frame() {
                tcp_payload += decode::decode(&frame).payload().len();
            }
            tcp_payload
        })
    });
    group.throughput(Throughput::Elements(frames));
    group.bench_function("engine", |b| {
        b.iter(|| {
            let mut reader = CaptureReader::new(Cursor::new(&bytes)).expect("capture");
            // The consumers of `stats`: TCP, HTTP labels without text, TFTP.
            let mut http = http::Tracker::new(http::Options {
                transactions: false,
                labels: http::Labels::Frames,
                bodies: None,
            });
            let mut tftp = tftp::Tracker::new(tftp::Config::default());
            let mut engine = Engine::new(Default::default());
            engine
                .stream_consumer(&mut http)
                .datagram_consumer(&mut tftp);
            let mut n = 0u64;
            engine
                .run(&mut reader, |_, _, _| {
                    n += 1;
                    true
                })
                .expect("run");
            engine.finish();
            n
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
