//! `SeqNum`: TCP sequence numbers with modulo-2^32 arithmetic and comparisons (RFC 9293 §3.4).
//!
//! Raw sequence numbers never leave `flow::tcp`: the reassembler turns them into 64-bit stream
//! offsets with [`SeqNum::unwrap_near`]. Stream offsets are plain `u64` (offset 0 = the first
//! payload byte of a direction), the same type the `framing` interface uses, so no conversion is
//! needed at that boundary.

use std::fmt;

/// A 32-bit TCP sequence (or acknowledgment) number.
///
/// Arithmetic wraps at 2^32. Comparisons are only meaningful between numbers less than 2^31
/// apart (RFC 9293 §3.4), so `SeqNum` deliberately does not implement `PartialOrd`: the order is
/// not transitive over the whole space. Use [`SeqNum::is_before`] and friends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
pub struct SeqNum(pub u32);

impl SeqNum {
    /// `self + n` modulo 2^32.
    pub fn wrapping_add(self, n: u32) -> SeqNum {
        SeqNum(self.0.wrapping_add(n))
    }

    /// `self - n` modulo 2^32.
    pub fn wrapping_sub(self, n: u32) -> SeqNum {
        SeqNum(self.0.wrapping_sub(n))
    }

    /// Signed distance from `from` to `self`: positive when `self` is after `from`.
    ///
    /// The result is the difference modulo 2^32 read as a two's-complement `i32`, so it lies in
    /// `-2^31 ..= 2^31 - 1`; exactly 2^31 apart reads as `-2^31`.
    pub fn distance_from(self, from: SeqNum) -> i32 {
        // Reinterpreting the wrapped difference as i32 is the RFC 1982 serial-number comparison.
        self.0.wrapping_sub(from.0) as i32
    }

    /// `self < other` in sequence space (RFC 9293 §3.4 "=<" family, strict form).
    pub fn is_before(self, other: SeqNum) -> bool {
        self.distance_from(other) < 0
    }

    /// `self =< other` in sequence space.
    pub fn is_before_or_eq(self, other: SeqNum) -> bool {
        self.distance_from(other) <= 0
    }

    /// `self > other` in sequence space.
    pub fn is_after(self, other: SeqNum) -> bool {
        self.distance_from(other) > 0
    }

    /// `self >= other` in sequence space.
    pub fn is_after_or_eq(self, other: SeqNum) -> bool {
        self.distance_from(other) >= 0
    }

    /// `start =< self < end` in sequence space: the acceptability test of RFC 9293 §3.4
    /// (`RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND`). An empty window (`start == end`) holds nothing.
    pub fn is_within(self, start: SeqNum, end: SeqNum) -> bool {
        // Measured from `start`, the window is the unsigned interval [0, end - start).
        self.0.wrapping_sub(start.0) < end.0.wrapping_sub(start.0)
    }

    /// The 64-bit position of `self`, given that `anchor` sits at 64-bit position `anchor_pos`.
    ///
    /// The result is `anchor_pos + self.distance_from(anchor)`: sequence numbers within 2^31 of
    /// the anchor are placed correctly across any number of wraps. It is an `i64` because a
    /// segment may lie before position 0 (a retransmission of bytes sent before the capture
    /// started). Saturates instead of overflowing.
    pub fn unwrap_near(self, anchor: SeqNum, anchor_pos: i64) -> i64 {
        anchor_pos.saturating_add(i64::from(self.distance_from(anchor)))
    }
}

impl fmt::Display for SeqNum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_wraps_past_u32_max() {
        assert_eq!(SeqNum(u32::MAX).wrapping_add(1), SeqNum(0));
        assert_eq!(SeqNum(u32::MAX - 9).wrapping_add(20), SeqNum(10));
        assert_eq!(SeqNum(5).wrapping_sub(10), SeqNum(u32::MAX - 4));
    }

    #[test]
    fn distance_across_the_wrap() {
        // 10 is 16 steps after u32::MAX - 5 (6 to reach 0, then 10).
        assert_eq!(SeqNum(10).distance_from(SeqNum(u32::MAX - 5)), 16);
        assert_eq!(SeqNum(u32::MAX - 5).distance_from(SeqNum(10)), -16);
        assert_eq!(SeqNum(7).distance_from(SeqNum(7)), 0);
        // Half the space apart: reads as the most negative value.
        assert_eq!(SeqNum(1 << 31).distance_from(SeqNum(0)), i32::MIN);
        assert_eq!(SeqNum((1 << 31) - 1).distance_from(SeqNum(0)), i32::MAX);
    }

    #[test]
    fn comparisons_near_u32_max() {
        let a = SeqNum(u32::MAX);
        let b = SeqNum(0);
        assert!(a.is_before(b));
        assert!(a.is_before_or_eq(b));
        assert!(b.is_after(a));
        assert!(b.is_after_or_eq(a));
        assert!(!b.is_before(a));
        assert!(a.is_before_or_eq(a) && a.is_after_or_eq(a));
        assert!(!a.is_before(a) && !a.is_after(a));
    }

    #[test]
    fn within_window_across_the_wrap() {
        let start = SeqNum(u32::MAX - 1);
        let end = SeqNum(3); // window of 5: MAX-1, MAX, 0, 1, 2
        assert!(SeqNum(u32::MAX - 1).is_within(start, end));
        assert!(SeqNum(0).is_within(start, end));
        assert!(SeqNum(2).is_within(start, end));
        assert!(!SeqNum(3).is_within(start, end));
        assert!(!SeqNum(u32::MAX - 2).is_within(start, end));
        assert!(!SeqNum(7).is_within(SeqNum(7), SeqNum(7)));
    }

    #[test]
    fn unwrap_near_follows_wraps() {
        // Anchor: sequence u32::MAX - 2 is stream position 4_294_967_290.
        let anchor = SeqNum(u32::MAX - 2);
        let pos = 4_294_967_290_i64;
        assert_eq!(SeqNum(u32::MAX).unwrap_near(anchor, pos), pos + 2);
        assert_eq!(SeqNum(0).unwrap_near(anchor, pos), pos + 3);
        assert_eq!(SeqNum(100).unwrap_near(anchor, pos), pos + 103);
        assert_eq!(SeqNum(u32::MAX - 12).unwrap_near(anchor, pos), pos - 10);
        // Before position 0.
        assert_eq!(SeqNum(90).unwrap_near(SeqNum(100), 0), -10);
        // Saturation instead of overflow.
        assert_eq!(SeqNum(1).unwrap_near(SeqNum(0), i64::MAX), i64::MAX);
    }
}
