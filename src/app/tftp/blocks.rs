//! Block bookkeeping for one transfer: 64-bit block numbers from 16-bit wire values (rollover),
//! and the bounded set of block numbers seen so far.

/// Maps a 16-bit wire block number to the 64-bit block number nearest to `reference` (the block
/// the sender is expected to send next).
///
/// RFC 1350 has no rule for what follows block 65535. Most implementations go on with 0
/// (`wrap_to_one == false`: block k is sent as k mod 65536); some skip 0 and go on with 1
/// (`wrap_to_one == true`: blocks cycle through 1..=65535, so k is sent as ((k-1) mod 65535)+1).
pub(super) fn absolute(wire: u16, reference: u64, wrap_to_one: bool) -> u64 {
    let modulus: u64 = if wrap_to_one { 65_535 } else { 65_536 };
    let wire = u64::from(wire) % modulus;
    // How far `reference` is above the nearest candidate at or below it.
    let below_by = (reference % modulus + modulus - wire) % modulus;
    if below_by == 0 {
        return reference;
    }
    let above_by = modulus - below_by;
    match reference.checked_sub(below_by) {
        Some(below) if below_by <= above_by => below,
        _ => reference.saturating_add(above_by),
    }
}

/// How many times the wire block number has wrapped once block `highest` has been sent.
pub(super) fn rollovers(highest: u64, wrap_to_one: bool) -> u64 {
    if wrap_to_one {
        highest.saturating_sub(1) / 65_535
    } else {
        highest / 65_536
    }
}

/// Sorted, disjoint, non-adjacent ranges `[start, end)` of block numbers seen. A transfer seen
/// in order is one range; each capture gap adds one. Bounded by `max_ranges`.
#[derive(Debug, Clone)]
pub(super) struct BlockSet {
    ranges: Vec<(u64, u64)>,
    max_ranges: usize,
}

impl BlockSet {
    /// An empty set that keeps at most `max_ranges` ranges.
    pub(super) fn new(max_ranges: usize) -> Self {
        BlockSet {
            ranges: Vec::new(),
            max_ranges: max_ranges.max(1),
        }
    }

    /// Index of the first range whose end is above `block`.
    fn position(&self, block: u64) -> usize {
        self.ranges.partition_point(|&(_, end)| end <= block)
    }

    /// True when `block` has been inserted.
    pub(super) fn contains(&self, block: u64) -> bool {
        self.ranges
            .get(self.position(block))
            .is_some_and(|&(start, _)| start <= block)
    }

    /// Inserts `block`. Returns `false` when the set is full (a new separate range would exceed
    /// the limit); the block is then not recorded.
    pub(super) fn insert(&mut self, block: u64) -> bool {
        let i = self.position(block);
        let next = self.ranges.get(i).copied();
        if next.is_some_and(|(start, _)| start <= block) {
            return true;
        }
        let end = block.saturating_add(1);
        let joins_prev = i
            .checked_sub(1)
            .and_then(|p| self.ranges.get(p))
            .is_some_and(|&(_, e)| e == block);
        let joins_next = next.is_some_and(|(start, _)| start == end);
        match (joins_prev, joins_next) {
            (true, true) => {
                let next_end = next.map_or(end, |(_, e)| e);
                if let Some(prev) = i.checked_sub(1).and_then(|p| self.ranges.get_mut(p)) {
                    prev.1 = next_end;
                }
                self.ranges.remove(i);
            }
            (true, false) => {
                if let Some(prev) = i.checked_sub(1).and_then(|p| self.ranges.get_mut(p)) {
                    prev.1 = end;
                }
            }
            (false, true) => {
                if let Some(r) = self.ranges.get_mut(i) {
                    r.0 = block;
                }
            }
            (false, false) => {
                if self.ranges.len() >= self.max_ranges {
                    return false;
                }
                self.ranges.insert(i, (block, end));
            }
        }
        true
    }

    /// How many blocks in `1..=last` were never inserted.
    pub(super) fn missing_up_to(&self, last: u64) -> u64 {
        let seen: u64 = self
            .ranges
            .iter()
            .map(|&(s, e)| {
                let s = s.max(1);
                let e = e.min(last.saturating_add(1));
                e.saturating_sub(s)
            })
            .sum();
        last.saturating_sub(seen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_block_numbers_without_rollover() {
        assert_eq!(absolute(1, 1, false), 1);
        assert_eq!(absolute(5, 6, false), 5); // a retransmission just behind
        assert_eq!(absolute(9, 6, false), 9); // a block ahead
        assert_eq!(absolute(0, 0, false), 0); // ACK 0
    }

    #[test]
    fn absolute_block_numbers_across_rollover_to_zero() {
        // 65535 then 0, 1, ... keep counting.
        assert_eq!(absolute(65535, 65535, false), 65535);
        assert_eq!(absolute(0, 65536, false), 65536);
        assert_eq!(absolute(1, 65537, false), 65537);
        // A late retransmission of 65535 after the wrap.
        assert_eq!(absolute(65535, 65537, false), 65535);
        // Second wrap.
        assert_eq!(absolute(0, 131_072, false), 131_072);
    }

    #[test]
    fn absolute_block_numbers_across_rollover_to_one() {
        assert_eq!(absolute(65535, 65535, true), 65535);
        assert_eq!(absolute(1, 65536, true), 65536);
        assert_eq!(absolute(2, 65537, true), 65537);
        assert_eq!(absolute(65535, 65536, true), 65535);
        assert_eq!(rollovers(65536, true), 1);
        assert_eq!(rollovers(65535, true), 0);
        assert_eq!(rollovers(65536, false), 1);
        assert_eq!(rollovers(65535, false), 0);
    }

    #[test]
    fn block_set_merges_and_counts_missing() {
        let mut s = BlockSet::new(8);
        for b in [1, 2, 3, 5, 7, 6] {
            assert!(s.insert(b));
        }
        assert_eq!(s.ranges, vec![(1, 4), (5, 8)]);
        assert!(s.contains(3) && !s.contains(4) && s.contains(7) && !s.contains(8));
        assert_eq!(s.missing_up_to(7), 1);
        assert_eq!(s.missing_up_to(10), 4);
        assert!(s.insert(4));
        assert_eq!(s.ranges, vec![(1, 8)]);
        assert_eq!(s.missing_up_to(7), 0);
        assert!(s.insert(3)); // already there
    }

    #[test]
    fn block_set_is_bounded() {
        let mut s = BlockSet::new(2);
        assert!(s.insert(1));
        assert!(s.insert(3));
        assert!(!s.insert(5));
        assert!(!s.contains(5));
        assert!(s.insert(2)); // merging needs no new range
        assert!(s.insert(5));
    }
}
