//! Reassembly and framing throughput on synthetic streams built before timing starts.
//!
//! `reassembly`: 4 MB cut into 1448-byte segments, fed in order and with every 8th pair of
//! segments swapped (out of order) plus 1 % retransmitted. `framing`: 20,000 length-prefixed and
//! 20,000 line messages fed in 1448-byte pieces, with the segment-to-message mapping.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pcaplab::capture::FrameNumber;
use pcaplab::flow::tcp::{Budget, EndCause, Limits, Reassembler, Segment, SeqNum};
use pcaplab::framing::segments::{DataSegment, SegmentMapper};
use pcaplab::framing::{Framer, FramerOutput, LengthPrefixFramer, LineFramer, spec::LengthPrefix};

const MSS: usize = 1448;

fn stream(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + 3) as u8).collect()
}

fn reassemble(data: &[u8], order: &[usize]) -> u64 {
    let mut r = Reassembler::new(Limits::default());
    let mut budget = Budget::new(256 << 20);
    let mut delivered = 0u64;
    let isn = SeqNum(u32::MAX - 100_000);
    r.on_segment(
        &Segment {
            frame: FrameNumber(1),
            seq: isn,
            syn: true,
            fin: false,
            payload: &[],
            uncaptured: 0,
        },
        &mut budget,
        &mut |_| {},
    );
    for (n, &i) in order.iter().enumerate() {
        let start = i * MSS;
        let end = (start + MSS).min(data.len());
        let seg = Segment {
            frame: FrameNumber(n as u64 + 2),
            seq: isn.wrapping_add(1 + start as u32),
            syn: false,
            fin: false,
            payload: &data[start..end],
            uncaptured: 0,
        };
        r.on_segment(&seg, &mut budget, &mut |e| {
            if let pcaplab::flow::tcp::Event::Data { bytes, .. } = e {
                delivered += bytes.len() as u64;
            }
        });
    }
    r.finish(EndCause::EndOfCapture, &mut budget, &mut |_| {});
    delivered
}

fn bench_reassembly(c: &mut Criterion) {
    let data = stream(4_000_000);
    let n = data.len().div_ceil(MSS);
    let in_order: Vec<usize> = (0..n).collect();
    let mut shuffled = in_order.clone();
    for pair in shuffled.chunks_mut(16) {
        if pair.len() >= 2 {
            pair.swap(0, 1);
        }
    }
    let mut with_retransmissions = Vec::with_capacity(n + n / 100);
    for i in &shuffled {
        with_retransmissions.push(*i);
        if i % 100 == 0 {
            with_retransmissions.push(*i);
        }
    }
    let mut g = c.benchmark_group("reassembly");
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.bench_function("in_order", |b| b.iter(|| reassemble(&data, &in_order)));
    g.bench_function("reordered_and_retransmitted", |b| {
        b.iter(|| reassemble(&data, &with_retransmissions))
    });
    g.finish();
}

fn frame_all(framer: &mut dyn Framer, data: &[u8]) -> u64 {
    let mut out = FramerOutput::default();
    let mut mapper = SegmentMapper::new(true);
    let mut parts = Vec::new();
    let mut messages = 0;
    for (i, chunk) in data.chunks(MSS).enumerate() {
        let offset = (i * MSS) as u64;
        mapper.push_segment(DataSegment {
            frame: FrameNumber(i as u64 + 1),
            offset,
            len: chunk.len() as u64,
        });
        framer.feed(offset, chunk, &mut out);
        for m in &out.messages {
            mapper.push_message(m);
        }
        messages += out.messages.len() as u64;
        out.clear();
        mapper.end_delivery(&mut parts);
        parts.clear();
    }
    framer.finish(data.len() as u64, &mut out);
    messages + mapper.finish(&mut parts).coalesced_segments
}

fn bench_framing(c: &mut Criterion) {
    let mut prefixed = Vec::new();
    let mut lines = Vec::new();
    for i in 0..20_000usize {
        let body = stream(20 + i % 180);
        prefixed.extend_from_slice(&(body.len() as u32).to_be_bytes());
        prefixed.extend_from_slice(&body);
        lines.extend(std::iter::repeat_n(b'x', 20 + i % 180));
        lines.push(b'\n');
    }
    let mut g = c.benchmark_group("framing");
    g.throughput(Throughput::Bytes(prefixed.len() as u64));
    g.bench_function("len:4", |b| {
        b.iter(|| {
            let spec: LengthPrefix = "len:4"
                .parse::<pcaplab::framing::FramingSpec>()
                .map_or_else(
                    |_| unreachable!(),
                    |s| match s {
                        pcaplab::framing::FramingSpec::LengthPrefix(p) => p,
                        _ => unreachable!(),
                    },
                );
            frame_all(&mut LengthPrefixFramer::new(spec), &prefixed)
        })
    });
    g.throughput(Throughput::Bytes(lines.len() as u64));
    g.bench_function("line", |b| {
        b.iter(|| frame_all(&mut LineFramer::new(), &lines))
    });
    g.finish();
}

criterion_group!(benches, bench_reassembly, bench_framing);
criterion_main!(benches);
