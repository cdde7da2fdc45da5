//! `TsResolution`: how finely a capture's timestamps were recorded (pcap micro- or nanoseconds,
//! pcapng `if_tsresol`), and the conversions between tick counts and [`Duration`]s.

use std::time::Duration;

const NANOS_PER_SEC: u128 = 1_000_000_000;

/// The resolution of a frame's timestamp: the capture's ticks per second, as a power of ten or of
/// two (pcapng `if_tsresol`, draft-ietf-opsawg-pcapng §4.2; classic pcap is 10⁻⁶ or, with the
/// nanosecond magic, 10⁻⁹).
///
/// Timestamps are kept as [`Duration`]s, so a resolution finer than a nanosecond is rounded down
/// to whole nanoseconds on reading. Use [`TsResolution::fraction_digits`] to print a time with
/// the digits the capture really has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TsResolution {
    /// 10^-n seconds per tick (6: microseconds, 9: nanoseconds).
    PowerOfTen(u8),
    /// 2^-n seconds per tick.
    PowerOfTwo(u8),
}

impl Default for TsResolution {
    /// Microseconds: classic pcap's, and pcapng's when an interface has no `if_tsresol`.
    fn default() -> Self {
        TsResolution::MICRO
    }
}

impl TsResolution {
    /// Microseconds (classic pcap, and pcapng without `if_tsresol`).
    pub const MICRO: TsResolution = TsResolution::PowerOfTen(6);
    /// Nanoseconds (pcap with the nanosecond magic `0xa1b23c4d`).
    pub const NANO: TsResolution = TsResolution::PowerOfTen(9);

    /// Decodes the `if_tsresol` option byte: the high bit selects base 2, the other seven bits
    /// are the exponent (draft-ietf-opsawg-pcapng §4.2).
    pub fn from_if_tsresol(byte: u8) -> Self {
        if byte & 0x80 == 0 {
            TsResolution::PowerOfTen(byte)
        } else {
            TsResolution::PowerOfTwo(byte & 0x7f)
        }
    }

    /// The `if_tsresol` option byte for this resolution.
    pub fn to_if_tsresol(self) -> u8 {
        match self {
            TsResolution::PowerOfTen(e) => e & 0x7f,
            TsResolution::PowerOfTwo(e) => 0x80 | (e & 0x7f),
        }
    }

    /// Ticks per second, or `None` when the number does not fit in a `u128` (an absurd exponent).
    pub fn ticks_per_second(self) -> Option<u128> {
        match self {
            TsResolution::PowerOfTen(e) => 10u128.checked_pow(u32::from(e)),
            TsResolution::PowerOfTwo(e) => 1u128.checked_shl(u32::from(e)),
        }
    }

    /// Digits after the decimal point needed to show one tick, at most 9 (what a [`Duration`]
    /// holds): 6 for microseconds, 9 for nanoseconds, 4 for 2⁻¹⁰ s. This is the precision to
    /// print times with ("the capture's real resolution"), without invented digits.
    pub fn fraction_digits(self) -> u8 {
        match self {
            TsResolution::PowerOfTen(e) => e.min(9),
            TsResolution::PowerOfTwo(e) => {
                // 2^-e needs ceil(e × log10 2) decimal digits; 30103/100000 is log10 2 rounded up
                // enough for every e < 128.
                let digits = (u32::from(e) * 30_103).div_ceil(100_000);
                u8::try_from(digits.min(9)).unwrap_or(9)
            }
        }
    }

    /// True when this resolution has more ticks per second than `other`.
    pub fn is_finer_than(self, other: TsResolution) -> bool {
        match (self.ticks_per_second(), other.ticks_per_second()) {
            (Some(a), Some(b)) => a > b,
            (None, Some(_)) => true,
            _ => false,
        }
    }

    /// Converts a tick count to a duration (rounded down to whole nanoseconds). An exponent too
    /// large to compute with gives [`Duration::ZERO`].
    pub fn to_duration(self, ticks: u64) -> Duration {
        if let TsResolution::PowerOfTen(e @ 0..=9) = self {
            // The usual resolutions, in 64 bits (no 128-bit division per packet): a tick is a
            // whole number of nanoseconds, so the result is the same exactly.
            let per_sec = 10u64.pow(u32::from(e));
            let nanos = (ticks % per_sec) * (1_000_000_000 / per_sec);
            return Duration::new(ticks / per_sec, u32::try_from(nanos).unwrap_or(0));
        }
        let Some(per_sec) = self.ticks_per_second() else {
            return Duration::ZERO;
        };
        let ticks = u128::from(ticks);
        let secs = u64::try_from(ticks / per_sec).unwrap_or(u64::MAX);
        let nanos = (ticks % per_sec) * NANOS_PER_SEC / per_sec;
        Duration::new(secs, u32::try_from(nanos).unwrap_or(0))
    }

    /// Converts a duration back to a tick count, the inverse of [`TsResolution::to_duration`]
    /// for every tick count that resolution produced when a tick is at least a nanosecond
    /// (power-of-two fractions are rounded up, so a value read at 2⁻ⁿ s comes back exactly).
    /// `None` when the count does not fit in 64 bits.
    pub fn ticks(self, time: Duration) -> Option<u64> {
        let per_sec = self.ticks_per_second()?;
        let whole = u128::from(time.as_secs()).checked_mul(per_sec)?;
        let frac = u128::from(time.subsec_nanos()) * per_sec;
        let frac = match self {
            TsResolution::PowerOfTen(_) => frac / NANOS_PER_SEC,
            TsResolution::PowerOfTwo(_) => frac.div_ceil(NANOS_PER_SEC),
        };
        u64::try_from(whole.checked_add(frac)?).ok()
    }
}

impl std::fmt::Display for TsResolution {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TsResolution::PowerOfTen(3) => f.write_str("milliseconds"),
            TsResolution::PowerOfTen(6) => f.write_str("microseconds"),
            TsResolution::PowerOfTen(9) => f.write_str("nanoseconds"),
            TsResolution::PowerOfTen(e) => write!(f, "10^-{e} seconds"),
            TsResolution::PowerOfTwo(e) => write!(f, "2^-{e} seconds"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolutions_convert_ticks() {
        let micro = TsResolution::from_if_tsresol(6);
        assert_eq!(micro.to_duration(1_500_000), Duration::new(1, 500_000_000));
        let nano = TsResolution::from_if_tsresol(9);
        assert_eq!(nano.to_duration(2_000_000_007), Duration::new(2, 7));
        let binary = TsResolution::from_if_tsresol(0x80 | 10);
        assert_eq!(binary, TsResolution::PowerOfTwo(10));
        assert_eq!(
            binary.to_duration(1024 + 512),
            Duration::new(1, 500_000_000)
        );
        assert_eq!(
            TsResolution::from_if_tsresol(0x7f).to_duration(5),
            Duration::ZERO
        );
        assert_eq!(
            TsResolution::PowerOfTen(12).to_duration(1_000_000_000_001_999),
            { Duration::new(1000, 1) }
        );
    }

    #[test]
    fn ticks_come_back_exactly_at_nanosecond_or_coarser_resolution() {
        let samples = [
            0u64,
            1,
            7,
            999_999,
            1_000_000,
            1_700_000_000_123_456,
            1_700_000_000_123_456_789,
            u64::MAX / 4_000,
        ];
        for e in 0..=9u8 {
            let r = TsResolution::PowerOfTen(e);
            for &t in &samples {
                assert_eq!(r.ticks(r.to_duration(t)), Some(t), "10^-{e}, {t}");
            }
        }
        for e in 0..=29u8 {
            let r = TsResolution::PowerOfTwo(e);
            for &t in &samples {
                let t = t >> 2;
                assert_eq!(r.ticks(r.to_duration(t)), Some(t), "2^-{e}, {t}");
            }
        }
    }

    #[test]
    fn if_tsresol_bytes_round_trip() {
        for byte in 0..=u8::MAX {
            assert_eq!(TsResolution::from_if_tsresol(byte).to_if_tsresol(), byte);
        }
    }

    #[test]
    fn fraction_digits_follow_the_tick_size() {
        assert_eq!(TsResolution::MICRO.fraction_digits(), 6);
        assert_eq!(TsResolution::NANO.fraction_digits(), 9);
        assert_eq!(TsResolution::PowerOfTen(12).fraction_digits(), 9);
        assert_eq!(TsResolution::PowerOfTwo(0).fraction_digits(), 0);
        assert_eq!(TsResolution::PowerOfTwo(1).fraction_digits(), 1); // 0.5
        assert_eq!(TsResolution::PowerOfTwo(10).fraction_digits(), 4); // 0.0009765625
        assert_eq!(TsResolution::PowerOfTwo(20).fraction_digits(), 7);
        assert!(TsResolution::PowerOfTwo(20).is_finer_than(TsResolution::MICRO));
        assert!(!TsResolution::PowerOfTwo(19).is_finer_than(TsResolution::MICRO));
        assert!(TsResolution::NANO.is_finer_than(TsResolution::MICRO));
    }

    #[test]
    fn decimal_resolutions_convert_like_the_128_bit_formula() {
        for e in 0..=9u8 {
            let per_sec = 10u128.pow(u32::from(e));
            for t in [
                0,
                1,
                999,
                1_000_000,
                1_700_000_000_123_456,
                u64::MAX - 1,
                u64::MAX,
            ] {
                let want = Duration::new(
                    u64::try_from(u128::from(t) / per_sec).unwrap(),
                    u32::try_from((u128::from(t) % per_sec) * NANOS_PER_SEC / per_sec).unwrap(),
                );
                assert_eq!(
                    TsResolution::PowerOfTen(e).to_duration(t),
                    want,
                    "10^-{e}, {t}"
                );
            }
        }
    }
}
