//! The whole read-and-decode path: any bytes as a capture file, every frame through the engine
//! with every consumer a command can plug in (TCP streams and reassembly, HTTP transactions,
//! TFTP transfers, sticky-packet framing, stream rows, protocol statistics, UDP conversations,
//! ICMP error linking) and both per-packet views (the table columns and the JSON row).
#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use pcaplab::analysis::stats::Collector;
use pcaplab::analysis::sticky::{self, Sticky};
use pcaplab::analysis::{icmp, streams, udp};
use pcaplab::app::{http, tftp};
use pcaplab::capture::CaptureReader;
use pcaplab::engine::Engine;
use pcaplab::framing::FramingSpec;
use pcaplab::view;

fuzz_target!(|data: &[u8]| {
    let Ok(mut reader) = CaptureReader::new(Cursor::new(data)) else {
        return;
    };
    let mut http = http::Tracker::new(http::Options {
        transactions: true,
        labels: http::Labels::StartLines,
        bodies: None,
    });
    let mut tftp = tftp::Tracker::new(tftp::Config::default());
    let mut sticky = Sticky::new(sticky::Options {
        framing: FramingSpec::Auto,
        stream: None,
        keep_segments: true,
    });
    let mut push = |row: streams::StreamRow| drop(row);
    let mut rows = streams::Rows::new(Some(FramingSpec::Auto), &mut push);
    let mut collector = Collector::new();
    let mut conversations = udp::Table::new(udp::Limits::default());
    let mut linker = icmp::Linker::new(icmp::Limits::default());
    let mut columns = view::Columns::default();
    let mut engine = Engine::new(Default::default());
    engine
        .stream_consumer(&mut http)
        .stream_consumer(&mut sticky)
        .stream_consumer(&mut rows)
        .datagram_consumer(&mut tftp)
        .packet_observer(&mut collector);
    let _ = engine.run(&mut reader, |pos, packet, notes| {
        let _ = conversations.on_packet(packet);
        conversations.drain_ended(drop);
        let notes = &*linker.annotate(packet, notes);
        columns.fill(packet, notes, pos.first_timestamp);
        let _ = view::row(packet, notes, pos.first_timestamp);
        true
    });
    let _ = engine.finish();
    conversations.finish(drop);
    let _ = http.into_transactions();
    let _ = tftp.finish();
    let _ = collector.finish(pcaplab::analysis::spill::Spill::default());
    let _ = sticky.into_reports();
});
