//! Extraction throughput: the hashing sinks, the decoders and the bounded pool, on inputs built
//! before timing starts. Files go to a temporary directory on the machine's disk.
//!
//! `file/*`: 16 MiB into one file (16 KiB and 512-byte writes, as HTTP and TFTP give them).
//! `memory/*`: the same through the in-memory `HashSink` (identity, with a needle, netascii,
//! gzip, deflate). `pool`: 3,000 files written round-robin with 64 descriptors at most.

use std::hint::black_box;
use std::io::Write;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pcaplab::extract::{Coding, Dir, HashSink, Limits, Options, SafeName};

const SIZE: usize = 16 << 20;

fn text(len: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(len);
    let mut i = 0u64;
    while v.len() < len {
        v.extend_from_slice(
            format!("line {i}: the quick brown fox {}\r\n", i * 7919 % 1000).as_bytes(),
        );
        i += 1;
    }
    v.truncate(len);
    v
}

fn compress<W: Write>(mut e: W, data: &[u8]) -> W {
    e.write_all(data).unwrap();
    e
}

fn file(c: &mut Criterion) {
    let data = text(SIZE);
    let tmp = tempfile::tempdir().unwrap();
    let mut g = c.benchmark_group("file");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(SIZE as u64));
    for piece in [16 * 1024, 512] {
        g.bench_function(format!("identity_{piece}B_writes"), |b| {
            let mut dir = Dir::open(tmp.path(), Options::default()).unwrap();
            b.iter(|| {
                let id = dir
                    .create(&SafeName::new(b"bench.bin"), Coding::Identity)
                    .unwrap();
                for p in data.chunks(piece) {
                    dir.write(id, p).unwrap();
                }
                let x = dir.finish(id, true).unwrap();
                std::fs::remove_file(&x.path).unwrap();
                black_box(x.summary.written.sha256)
            })
        });
    }
    g.finish();
}

fn memory(c: &mut Criterion) {
    let data = text(SIZE);
    let gz = compress(
        flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default()),
        &data,
    )
    .finish()
    .unwrap();
    let zlib = compress(
        flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default()),
        &data,
    )
    .finish()
    .unwrap();
    let mut g = c.benchmark_group("memory");
    g.sample_size(10);
    // Throughput counts the decoded (written) bytes in every case.
    g.throughput(Throughput::Bytes(SIZE as u64));
    let run = |coding: Coding, wire: &[u8], needles: &[&[u8]]| {
        let mut s = HashSink::new(coding, Limits::default(), needles);
        for p in wire.chunks(16 * 1024) {
            s.write(p);
        }
        s.finish()
    };
    // Baseline: one SHA-256 over the same bytes (every sink hashes the wire bytes and the
    // written bytes, so identity costs two).
    g.bench_function("sha256_only", |b| {
        b.iter(|| black_box(pcaplab::extract::Fingerprint::of(&data)))
    });
    g.bench_function("identity", |b| {
        b.iter(|| black_box(run(Coding::Identity, &data, &[])))
    });
    g.bench_function("identity_with_needle", |b| {
        b.iter(|| black_box(run(Coding::Identity, &data, &[b"not in the text"])))
    });
    g.bench_function("netascii", |b| {
        b.iter(|| black_box(run(Coding::Netascii, &data, &[])))
    });
    let limits_ok = |w: &[u8]| Limits::default().allowed(w.len() as u64).0 >= SIZE as u64;
    assert!(
        limits_ok(&gz) && limits_ok(&zlib),
        "the default limits would cut the bench input"
    );
    g.bench_function("gzip", |b| {
        b.iter(|| black_box(run(Coding::Gzip, &gz, &[])))
    });
    g.bench_function("deflate_zlib", |b| {
        b.iter(|| black_box(run(Coding::Deflate, &zlib, &[])))
    });
    g.finish();
}

fn pool(c: &mut Criterion) {
    const SINKS: usize = 3000;
    const ROUNDS: usize = 4;
    let piece = vec![b'x'; 512];
    let tmp = tempfile::tempdir().unwrap();
    let options = Options {
        max_open: 64,
        ..Options::default()
    };
    let names: Vec<SafeName> = (0..SINKS)
        .map(|i| SafeName::new(format!("f{i}").as_bytes()))
        .collect();
    // Each run gets a new directory: deleting 3,000 files and creating them again makes ext4
    // scan its recently-deleted inodes, which would measure the file system, not this code.
    let mut run = 0u64;
    let mut fresh_dir = || {
        run += 1;
        let d = tmp.path().join(run.to_string());
        std::fs::create_dir(&d).unwrap();
        Dir::open(&d, options).unwrap()
    };
    let mut g = c.benchmark_group("pool");
    g.sample_size(10);
    // Round-robin writes: with 64 descriptors for 3,000 files, every write closes one file
    // (flush, fstat, close) and reopens another (openat O_APPEND|O_NOFOLLOW, fstat check).
    g.throughput(Throughput::Elements((SINKS * ROUNDS) as u64));
    g.bench_function("round_robin_512B_writes_3000_files_64_open", |b| {
        b.iter_custom(|iters| {
            let mut total = std::time::Duration::ZERO;
            for _ in 0..iters {
                let mut dir = fresh_dir();
                let ids: Vec<_> = names
                    .iter()
                    .map(|n| dir.create(n, Coding::Identity).unwrap())
                    .collect();
                let start = std::time::Instant::now();
                for _ in 0..ROUNDS {
                    for id in &ids {
                        dir.write(*id, &piece).unwrap();
                    }
                }
                total += start.elapsed();
                for id in ids {
                    black_box(dir.finish(id, true).unwrap());
                }
            }
            total
        })
    });
    // Whole lifecycle per file: create .part, 4 writes, rename.
    g.throughput(Throughput::Elements(SINKS as u64));
    g.bench_function("create_write_finish_3000_files_64_open", |b| {
        b.iter_custom(|iters| {
            let mut total = std::time::Duration::ZERO;
            for _ in 0..iters {
                let mut dir = fresh_dir();
                let start = std::time::Instant::now();
                let ids: Vec<_> = names
                    .iter()
                    .map(|n| dir.create(n, Coding::Identity).unwrap())
                    .collect();
                for _ in 0..ROUNDS {
                    for id in &ids {
                        dir.write(*id, &piece).unwrap();
                    }
                }
                for id in ids {
                    black_box(dir.finish(id, true).unwrap());
                }
                total += start.elapsed();
            }
            total
        })
    });
    g.finish();
}

criterion_group!(benches, file, memory, pool);
criterion_main!(benches);
