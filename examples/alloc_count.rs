//! Counts heap allocations on the hot path of the summary commands, with a counting global
//! allocator: `cargo run --release --example alloc_count -- CAPTURE [COMMAND...]`.
//!
//! For each command (`read`, `tcp`, `tftp`, `streams`, `http`, `stats`, `sticky`, `csv`,
//! `ndjson`; default: the summary commands; `read` only decodes, `tcp` only tracks TCP, `csv`
//! and `ndjson` build the rows of `packets` without writing them) it
//! builds the engine with the consumers that command plugs in, runs the whole capture, and
//! prints the allocations made while packets were processed (the capture reader's own buffer is
//! made before counting starts), per packet, and the wall time. Per-message and per-stream
//! state (a transaction's strings, a connection's reassembly buffers) is allocated too, so the
//! figure is not zero: it is what remains once nothing is allocated per packet.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use pcaplab::analysis::stats::Collector;
use pcaplab::analysis::sticky::{self, Sticky};
use pcaplab::app::{http, tftp};
use pcaplab::capture::CaptureReader;
use pcaplab::engine::Engine;
use pcaplab::framing::FramingSpec;

/// Counts every allocation and reallocation made through it.
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn http_tracker(labels: http::Labels, transactions: bool) -> http::Tracker<'static> {
    http::Tracker::new(http::Options {
        transactions,
        labels,
        bodies: None,
    })
}

/// Runs `command`'s consumers over `path`; returns (packets, allocations, seconds).
fn measure(path: &str, command: &str) -> (u64, u64, f64) {
    let mut reader = CaptureReader::open(path).expect("capture");
    let mut tftp = tftp::Tracker::new(tftp::Config::default());
    let mut http_summary = http_tracker(http::Labels::Off, true);
    let mut http_labels = http_tracker(http::Labels::Frames, false);
    let mut http_text = http_tracker(http::Labels::StartLines, false);
    let mut columns = pcaplab::view::Columns::default();
    let mut line: Vec<u8> = Vec::new();
    let mut bytes_out = 0u64;
    let framing = |spec: &str| sticky::Options {
        framing: spec.parse::<FramingSpec>().expect("spec"),
        stream: None,
        keep_segments: false,
    };
    let mut sticky_auto = Sticky::new(framing("auto"));
    let mut collector = Collector::new();
    let mut engine = Engine::new(Default::default());
    match command {
        "read" => {}
        "tcp" => {
            engine.track_tcp();
        }
        "tftp" => {
            engine.datagram_consumer(&mut tftp);
        }
        "streams" => {
            engine.stream_consumer(&mut sticky_auto);
        }
        "sticky" => {
            engine.stream_consumer(&mut sticky_auto);
        }
        "http" => {
            engine.stream_consumer(&mut http_summary);
        }
        "stats" => {
            engine
                .stream_consumer(&mut http_labels)
                .datagram_consumer(&mut tftp);
        }
        "csv" | "ndjson" => {
            engine
                .track_tcp()
                .stream_consumer(&mut http_text)
                .datagram_consumer(&mut tftp);
        }
        other => panic!("unknown command {other}"),
    }
    let stats = command == "stats";
    let (csv, ndjson) = (command == "csv", command == "ndjson");
    let start = Instant::now();
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    engine
        .run(&mut reader, |pos, packet, notes| {
            if stats {
                collector.on_packet(packet, notes);
            }
            if csv {
                columns.fill(packet, notes, pos.first_timestamp);
                bytes_out += (columns.info.len() + columns.layer_chain.len()) as u64;
            }
            if ndjson {
                line.clear();
                let row = pcaplab::view::row(packet, notes, pos.first_timestamp);
                serde_json::to_writer(&mut line, &row).expect("json");
                bytes_out += line.len() as u64;
            }
            true
        })
        .expect("run");
    let during = ALLOCATIONS.load(Ordering::Relaxed) - before;
    let summary = engine.finish();
    std::hint::black_box(bytes_out);
    (summary.packets, during, start.elapsed().as_secs_f64())
}

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .expect("usage: alloc_count CAPTURE [COMMAND...]");
    let mut commands: Vec<String> = args.collect();
    if commands.is_empty() {
        commands = ["read", "tftp", "streams", "http", "stats"]
            .map(String::from)
            .to_vec();
    }
    println!("command   packets   allocations  per packet  seconds");
    for c in &commands {
        let (packets, allocations, secs) = measure(&path, c);
        println!(
            "{c:<8} {packets:>8} {allocations:>12} {:>11.4} {secs:>8.3}",
            allocations as f64 / packets.max(1) as f64
        );
    }
}
