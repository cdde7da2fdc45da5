//! `Input`: the one read buffer of a capture reader. Frames borrow it until the next read.
//!
//! It allocates what is present, not what is claimed (issue 16): a record or block that claims
//! N bytes makes the buffer grow only as bytes actually arrive (doubling, capped at N), so a
//! 28-byte file claiming 256 MiB costs one small buffer, and standard input never reserves
//! more than twice what it has delivered. After a large record the buffer shrinks back.

use std::io::{self, Read};

/// Buffer size to start with, and to shrink back to.
const INITIAL_LEN: usize = 64 * 1024;
/// A buffer larger than this is shrunk once the data in it fits the initial size again.
const SHRINK_ABOVE: usize = 1024 * 1024;

/// A growing read buffer over a byte source, with the input offset of its first unread byte.
pub(super) struct Input<R> {
    source: R,
    buf: Vec<u8>,
    /// First unconsumed byte in `buf`.
    start: usize,
    /// End of the valid bytes in `buf`.
    end: usize,
    /// Input offset of `buf[start]`.
    offset: u64,
}

impl<R: Read> Input<R> {
    pub(super) fn new(source: R) -> Self {
        Input {
            source,
            buf: Vec::new(),
            start: 0,
            end: 0,
            offset: 0,
        }
    }

    /// Input offset of the next unconsumed byte.
    pub(super) fn offset(&self) -> u64 {
        self.offset
    }

    /// The unconsumed bytes read so far.
    pub(super) fn available(&self) -> &[u8] {
        self.buf.get(self.start..self.end).unwrap_or_default()
    }

    /// Makes at least `need` unconsumed bytes available. Returns `false` when the input ends
    /// first (the bytes that did arrive stay available).
    ///
    /// # Errors
    /// The source's read error.
    pub(super) fn fill(&mut self, need: usize) -> io::Result<bool> {
        if self.end - self.start >= need {
            return Ok(true);
        }
        self.compact(need);
        // After compaction `start` is 0, so `end` is the number of unconsumed bytes.
        while self.end < need {
            if self.end == self.buf.len() {
                // Grow by doubling (from the initial size), but never beyond what is needed:
                // memory follows the bytes that arrive, not the length a header claims.
                let grown = self.buf.len().saturating_mul(2).min(need).max(INITIAL_LEN);
                self.buf.resize(grown, 0);
            }
            let Some(space) = self.buf.get_mut(self.end..) else {
                return Ok(false);
            };
            match self.source.read(space) {
                Ok(0) => return Ok(false),
                Ok(n) => self.end += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }

    /// Moves the unconsumed bytes to the front, and gives back memory a large record needed
    /// once what is left fits the initial size.
    fn compact(&mut self, need: usize) {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.buf.len() > SHRINK_ABOVE && self.end <= INITIAL_LEN && need <= INITIAL_LEN {
            self.buf.truncate(INITIAL_LEN);
            self.buf.shrink_to_fit();
        }
    }

    /// Marks `n` bytes as consumed (at most what is available). Bytes borrowed through
    /// [`Input::bytes`] stay valid until the next [`Input::fill`].
    pub(super) fn consume(&mut self, n: usize) {
        let n = n.min(self.end - self.start);
        self.start += n;
        self.offset = self.offset.saturating_add(n as u64);
    }

    /// Consumes `n` bytes without keeping them, reading through the source in buffer-sized
    /// steps (a block nobody needs costs no memory, whatever its length). Returns `false` when
    /// the input ends first.
    ///
    /// # Errors
    /// The source's read error.
    pub(super) fn skip(&mut self, n: u64) -> io::Result<bool> {
        let mut left = n;
        loop {
            let now = usize::try_from(left)
                .unwrap_or(usize::MAX)
                .min(self.end - self.start);
            self.consume(now);
            left -= now as u64;
            if left == 0 {
                return Ok(true);
            }
            let want = usize::try_from(left).unwrap_or(usize::MAX).min(INITIAL_LEN);
            if !self.fill(want)? {
                let now = usize::try_from(left)
                    .unwrap_or(usize::MAX)
                    .min(self.end - self.start);
                self.consume(now);
                return Ok(false);
            }
        }
    }

    /// The bytes at `start..end` relative to the unconsumed start, before consuming them.
    pub(super) fn peek(&self, from: usize, to: usize) -> Option<&[u8]> {
        let a = self.start.checked_add(from)?;
        let b = self.start.checked_add(to)?;
        if b > self.end {
            return None;
        }
        self.buf.get(a..b)
    }

    /// Consumes `len` bytes and returns the sub-range `from..to` of them, borrowed from the
    /// buffer (valid until the next fill).
    pub(super) fn take(&mut self, len: usize, from: usize, to: usize) -> Option<&[u8]> {
        let base = self.start;
        if len > self.end - self.start || to > len || from > to {
            return None;
        }
        self.consume(len);
        self.buf.get(base + from..base + to)
    }

    /// Allocated size of the buffer, for tests of the allocation policy.
    #[cfg(test)]
    pub(super) fn capacity(&self) -> usize {
        self.buf.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A source that delivers at most `chunk` bytes per read, like a pipe.
    struct Trickle<'a> {
        data: &'a [u8],
        chunk: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(self.chunk).min(self.data.len());
            let (head, rest) = self.data.split_at(n);
            buf[..n].copy_from_slice(head);
            self.data = rest;
            Ok(n)
        }
    }

    #[test]
    fn a_claimed_length_that_is_absent_allocates_nothing_large() {
        let data = [7u8; 28];
        let mut input = Input::new(&data[..]);
        assert!(!input.fill(256 * 1024 * 1024).unwrap());
        assert_eq!(input.available().len(), 28);
        assert!(input.capacity() <= INITIAL_LEN, "{}", input.capacity());
    }

    #[test]
    fn a_pipe_grows_the_buffer_only_as_bytes_arrive() {
        let data = vec![1u8; 3 * 1024 * 1024 + 5];
        let mut input = Input::new(Trickle {
            data: &data,
            chunk: 4096,
        });
        assert!(!input.fill(256 * 1024 * 1024).unwrap());
        assert_eq!(input.available().len(), data.len());
        // Doubling from 64 KiB: at most twice what arrived.
        assert!(input.capacity() <= 2 * data.len(), "{}", input.capacity());
    }

    #[test]
    fn a_large_record_reads_whole_and_the_buffer_shrinks_after_it() {
        let mut data = vec![9u8; 9 * 1024 * 1024];
        data.extend_from_slice(&[1, 2, 3, 4]);
        let mut input = Input::new(Trickle {
            data: &data,
            chunk: 100_000,
        });
        assert!(input.fill(9 * 1024 * 1024).unwrap());
        assert_eq!(input.capacity(), 9 * 1024 * 1024);
        let record = input.take(9 * 1024 * 1024, 0, 9 * 1024 * 1024).unwrap();
        assert!(record.iter().all(|b| *b == 9));
        assert!(input.fill(4).unwrap());
        assert_eq!(input.available(), &[1, 2, 3, 4]);
        assert_eq!(input.offset(), 9 * 1024 * 1024);
        assert!(input.capacity() <= INITIAL_LEN);
    }

    #[test]
    fn skipping_a_long_block_keeps_the_buffer_small() {
        let data = vec![5u8; 5 * 1024 * 1024 + 3];
        let mut input = Input::new(Trickle {
            data: &data,
            chunk: 70_000,
        });
        assert!(input.skip(5 * 1024 * 1024).unwrap());
        assert!(input.capacity() <= INITIAL_LEN);
        assert!(input.fill(3).unwrap());
        assert!(!input.skip(10).unwrap());
        assert_eq!(input.offset(), data.len() as u64);
    }

    #[test]
    fn take_and_peek_stay_inside_the_buffer() {
        let data = [1u8, 2, 3, 4, 5, 6];
        let mut input = Input::new(&data[..]);
        assert!(input.fill(6).unwrap());
        assert_eq!(input.peek(1, 3), Some(&[2u8, 3][..]));
        assert_eq!(input.peek(4, 7), None);
        assert_eq!(input.take(7, 0, 1), None);
        assert_eq!(input.take(4, 2, 5), None);
        assert_eq!(input.take(4, 1, 3), Some(&[2u8, 3][..]));
        assert_eq!(input.available(), &[5, 6]);
        assert_eq!(input.offset(), 4);
    }
}
