//! The in-memory hashing sink: the same pipeline as a file, with no file.
//!
//! Grading uses it to check a body's SHA-256 and whether it contains a text, while streaming,
//! with no temporary file. Memory: the decoder state (about 45 KiB for a compressed coding), one
//! [`super::CHUNK`] of scratch, and the needles plus the last `longest needle − 1` bytes seen,
//! whatever the size of the body.

use memchr::memmem::Finder;
use serde::Serialize;

use super::{Coding, Limits, Meter, Pipeline, Summary};

/// Longest needle searched for, in bytes; a longer one is reported as not contained (the
/// search memory is bounded by this, not by the caller).
pub const MAX_NEEDLE_BYTES: usize = 64 * 1024;

/// Hashes (and optionally searches) a byte stream without writing it anywhere.
///
/// ```
/// use pcaplab::extract::{Coding, HashSink, Limits};
/// let mut sink = HashSink::new(Coding::Identity, Limits::default(), [&b"needle"[..]]);
/// sink.write(b"hay nee");
/// sink.write(b"dle hay");
/// let h = sink.finish();
/// assert_eq!(h.contains, vec![true]);
/// assert_eq!(h.summary.written.size, 14);
/// ```
#[derive(Debug)]
pub struct HashSink {
    pipeline: Pipeline,
    written: Meter,
    search: Search,
    scratch: Vec<u8>,
}

/// The result of a [`HashSink`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hashed {
    /// Wire and written fingerprints, and any stop (a limit, corrupt data).
    pub summary: Summary,
    /// For each needle given to [`HashSink::new`], in order: whether the written (decoded)
    /// bytes contain it. An empty needle is always contained; one longer than
    /// [`MAX_NEEDLE_BYTES`] never is.
    pub contains: Vec<bool>,
}

impl HashSink {
    /// A sink decoding with `coding` under `limits`, searching the written bytes for each of
    /// `needles` (pass an empty list when only hashes are wanted).
    pub fn new<I, N>(coding: Coding, limits: Limits, needles: I) -> HashSink
    where
        I: IntoIterator<Item = N>,
        N: AsRef<[u8]>,
    {
        HashSink {
            pipeline: Pipeline::new_infallible(coding, limits),
            written: Meter::default(),
            search: Search::new(needles),
            scratch: Vec::new(),
        }
    }

    /// Feeds the next wire bytes. Never fails: bad compressed data or a limit stops the
    /// decoding (reported in [`Hashed::summary`]), and the wire bytes are still counted.
    pub fn write(&mut self, wire: &[u8]) {
        let HashSink {
            pipeline,
            written,
            search,
            scratch,
        } = self;
        let _ = pipeline.push::<std::convert::Infallible>(wire, scratch, &mut |chunk| {
            written.update(chunk);
            search.feed(chunk);
            Ok(())
        });
    }

    /// Ends the input and returns the fingerprints and search results.
    pub fn finish(mut self) -> Hashed {
        let HashSink {
            pipeline,
            written,
            search,
            scratch,
        } = &mut self;
        let _ = pipeline.finish::<std::convert::Infallible>(scratch, &mut |chunk| {
            written.update(chunk);
            search.feed(chunk);
            Ok(())
        });
        Hashed {
            summary: self.pipeline.summary(self.written.finish()),
            contains: self.search.needles.iter().map(|n| n.found).collect(),
        }
    }
}

#[derive(Debug)]
struct Needle {
    finder: Finder<'static>,
    len: usize,
    found: bool,
}

/// Substring search across writes: each needle is looked for in every chunk and in the seam
/// made of the previous chunks' last bytes and the new chunk's first bytes.
#[derive(Debug)]
struct Search {
    needles: Vec<Needle>,
    /// The last `keep` bytes seen.
    tail: Vec<u8>,
    /// Longest needle − 1: a match spanning chunks needs at most this many old bytes.
    keep: usize,
    seam: Vec<u8>,
    left: usize,
}

impl Search {
    fn new<I, N>(needles: I) -> Search
    where
        I: IntoIterator<Item = N>,
        N: AsRef<[u8]>,
    {
        let needles: Vec<Needle> = needles
            .into_iter()
            .map(|n| {
                let n = n.as_ref();
                Needle {
                    finder: Finder::new(n).into_owned(),
                    len: n.len(),
                    // An empty needle is in every byte string; an oversized one is refused.
                    found: n.is_empty(),
                }
            })
            .collect();
        let keep = needles
            .iter()
            .filter(|n| n.len <= MAX_NEEDLE_BYTES)
            .map(|n| n.len.saturating_sub(1))
            .max()
            .unwrap_or(0);
        let left = needles
            .iter()
            .filter(|n| !n.found && n.len <= MAX_NEEDLE_BYTES)
            .count();
        Search {
            needles,
            tail: Vec::new(),
            keep,
            seam: Vec::new(),
            left,
        }
    }

    fn feed(&mut self, chunk: &[u8]) {
        if self.left == 0 || chunk.is_empty() {
            return;
        }
        self.seam.clear();
        self.seam.extend_from_slice(&self.tail);
        self.seam
            .extend_from_slice(chunk.get(..self.keep.min(chunk.len())).unwrap_or_default());
        for n in &mut self.needles {
            if n.found || n.len > MAX_NEEDLE_BYTES {
                continue;
            }
            if n.finder.find(&self.seam).is_some() || n.finder.find(chunk).is_some() {
                n.found = true;
                self.left = self.left.saturating_sub(1);
            }
        }
        // Keep the last `keep` bytes of tail + chunk.
        if chunk.len() >= self.keep {
            self.tail.clear();
            self.tail
                .extend_from_slice(chunk.get(chunk.len() - self.keep..).unwrap_or_default());
        } else {
            self.tail.extend_from_slice(chunk);
            let excess = self.tail.len().saturating_sub(self.keep);
            self.tail.drain(..excess);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::extract::{Fingerprint, LimitRule, Stop};

    fn contains(needles: &[&[u8]], pieces: &[&[u8]]) -> Vec<bool> {
        let mut s = HashSink::new(Coding::Identity, Limits::default(), needles);
        for p in pieces {
            s.write(p);
        }
        s.finish().contains
    }

    #[test]
    fn needles_are_found_across_any_split() {
        let hay = b"the quick brown fox jumps over the lazy dog";
        let needles: &[&[u8]] = &[b"fox jumps", b"dog", b"the q", b"cat", b"", b"g"];
        let expected = [true, true, true, false, true, true];
        // Every way of cutting the haystack in three.
        for a in 0..=hay.len() {
            for b in a..=hay.len() {
                let pieces: [&[u8]; 3] = [&hay[..a], &hay[a..b], &hay[b..]];
                assert_eq!(contains(needles, &pieces), expected, "cuts {a} {b}");
            }
        }
        // One byte at a time.
        let bytes: Vec<&[u8]> = hay.chunks(1).collect();
        assert_eq!(contains(needles, &bytes), expected);
        // Too long a needle is never found (and costs no memory).
        let huge = vec![b'a'; MAX_NEEDLE_BYTES + 1];
        assert_eq!(contains(&[&huge], &[&huge]), [false]);
    }

    #[test]
    fn tail_memory_stays_bounded() {
        let mut s = HashSink::new(Coding::Identity, Limits::default(), [b"xyz"]);
        for _ in 0..10_000 {
            s.write(&[b'a'; 1000]);
            assert!(s.search.tail.len() <= 2);
        }
        s.write(b"x");
        s.write(b"y");
        s.write(b"z");
        assert_eq!(s.finish().contains, [true]);
    }

    #[test]
    fn identity_wire_and_written_are_the_input() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 253) as u8).collect();
        let mut s = HashSink::new(Coding::Identity, Limits::default(), [b""; 0]);
        for c in data.chunks(999) {
            s.write(c);
        }
        let h = s.finish();
        assert_eq!(h.summary.wire, Fingerprint::of(&data));
        assert_eq!(h.summary.written, Fingerprint::of(&data));
        assert_eq!(h.summary.stop, None);
    }

    #[test]
    fn hashes_the_decoded_bytes_and_the_wire_bytes() {
        let plain = b"hello gzip world ".repeat(1000);
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&plain).unwrap();
        let z = e.finish().unwrap();
        let mut s = HashSink::new(Coding::Gzip, Limits::default(), [b"world hello"]);
        for c in z.chunks(7) {
            s.write(c);
        }
        let h = s.finish();
        assert_eq!(h.summary.wire, Fingerprint::of(&z));
        assert_eq!(h.summary.written, Fingerprint::of(&plain));
        assert_eq!(h.summary.stop, None);
        assert_eq!(h.contains, [true]);
    }

    #[test]
    fn a_limit_stops_decoding_at_exactly_the_limit() {
        let zeros = vec![0u8; 4 << 20];
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(&zeros).unwrap();
        let z = e.finish().unwrap();
        let limits = Limits {
            ratio: 100,
            floor_bytes: 0,
            cap_bytes: 1 << 40,
        };
        let mut s = HashSink::new(Coding::Deflate, limits, [&[1u8][..]]);
        s.write(&z);
        let h = s.finish();
        let limit = 100 * z.len() as u64;
        assert_eq!(h.summary.written.size, limit);
        assert_eq!(h.summary.written, Fingerprint::of(&zeros[..limit as usize]));
        assert_eq!(h.summary.wire, Fingerprint::of(&z));
        assert_eq!(
            h.summary.stop,
            Some(Stop::Limit {
                at_bytes: limit,
                wire_bytes: z.len() as u64,
                limit: LimitRule::Ratio {
                    ratio: 100,
                    floor_bytes: 0
                }
            })
        );
    }

    #[test]
    fn corrupt_data_is_reported_with_its_offset() {
        let mut s = HashSink::new(Coding::Gzip, Limits::default(), [b""; 0]);
        s.write(b"\x1f\x8b\x08\x00");
        s.write(b"not the rest of a gzip header, nor deflate");
        let h = s.finish();
        assert!(
            matches!(h.summary.stop, Some(Stop::Corrupt { .. })),
            "{:?}",
            h.summary.stop
        );
        assert_eq!(h.summary.wire.size, 46);
    }
}
