//! Packet times as tshark's `-t` shows them, at the capture's real resolution: the
//! [`TimeFormat`]s and the [`Clock`] that remembers what the relative and delta forms need.
//!
//! The number of digits after the point is the frame's own
//! ([`TsResolution::fraction_digits`](crate::capture::TsResolution::fraction_digits): 6 for
//! microsecond captures, 9 for nanosecond ones), the fraction cut (not rounded) as Wireshark
//! does. Local times use the system's time zone (`TZ`, else `/etc/localtime`), read with
//! `jiff`.

use std::fmt::Write as _;
use std::time::Duration;

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::view::text::{push_u64, push_u64_padded};

/// How a packet's time is shown (tshark's `-t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimeFormat {
    /// `r`: seconds since the first packet of the capture.
    #[default]
    Relative,
    /// `a`: local time of day (`11:27:00.226379`).
    Absolute,
    /// `ad`: local date and time (`2026-11-24 11:27:00.226379`).
    AbsoluteDate,
    /// `u`: UTC time of day.
    Utc,
    /// `ud`: UTC date and time.
    UtcDate,
    /// `e`: seconds since 1970-01-01 00:00:00 UTC.
    Epoch,
    /// `d`: seconds since the previous packet of the capture.
    Delta,
    /// `dd`: seconds since the previous packet shown (after a display filter).
    DeltaDisplayed,
}

impl TimeFormat {
    /// Display columns the time takes with `digits` after the point, for usual values (a
    /// relative time under 1,000 s): what a streaming table reserves.
    pub fn typical_width(self, digits: u8) -> usize {
        let fraction = if digits == 0 {
            0
        } else {
            1 + usize::from(digits)
        };
        fraction
            + match self {
                TimeFormat::Relative | TimeFormat::Delta | TimeFormat::DeltaDisplayed => 3,
                TimeFormat::Absolute | TimeFormat::Utc => 8,
                TimeFormat::AbsoluteDate | TimeFormat::UtcDate => 19,
                TimeFormat::Epoch => 10,
            }
    }
}

/// Formats packet times one packet after the other, in capture order.
#[derive(Debug, Clone)]
pub struct Clock {
    format: TimeFormat,
    first: Option<Duration>,
    previous: Option<Duration>,
    previous_shown: Option<Duration>,
    zone: TimeZone,
}

impl Clock {
    /// A clock for `format`; a local format reads the system's time zone now.
    pub fn new(format: TimeFormat) -> Clock {
        let zone = match format {
            TimeFormat::Absolute | TimeFormat::AbsoluteDate => TimeZone::system(),
            _ => TimeZone::UTC,
        };
        Clock {
            format,
            first: None,
            previous: None,
            previous_shown: None,
            zone,
        }
    }

    /// The format.
    pub fn format(&self) -> TimeFormat {
        self.format
    }

    /// Sets the capture's first time (relative times count from it) when it is not the first
    /// time this clock is given.
    pub fn set_first(&mut self, first: Duration) {
        self.first.get_or_insert(first);
    }

    /// A packet that is not shown: only `d` (and `r`'s start) remember it.
    pub fn skip(&mut self, ts: Duration) {
        self.first.get_or_insert(ts);
        self.previous = Some(ts);
    }

    /// Appends the time of a shown packet at `ts` with `digits` after the point.
    pub fn write(&mut self, out: &mut String, ts: Duration, digits: u8) {
        let first = *self.first.get_or_insert(ts);
        let digits = digits.min(9);
        match self.format {
            TimeFormat::Relative => write_signed(out, ts, first, digits),
            TimeFormat::Delta => write_signed(out, ts, self.previous.unwrap_or(ts), digits),
            TimeFormat::DeltaDisplayed => {
                write_signed(out, ts, self.previous_shown.unwrap_or(ts), digits);
            }
            TimeFormat::Epoch => write_seconds(out, ts, digits),
            TimeFormat::Absolute | TimeFormat::Utc => self.write_civil(out, ts, digits, false),
            TimeFormat::AbsoluteDate | TimeFormat::UtcDate => {
                self.write_civil(out, ts, digits, true);
            }
        }
        self.previous = Some(ts);
        self.previous_shown = Some(ts);
    }

    /// The time of a shown packet as a new string (see [`Clock::write`]).
    pub fn text(&mut self, ts: Duration, digits: u8) -> String {
        let mut s = String::new();
        self.write(&mut s, ts, digits);
        s
    }

    fn write_civil(&self, out: &mut String, ts: Duration, digits: u8, date: bool) {
        let secs = i64::try_from(ts.as_secs()).unwrap_or(i64::MAX);
        let Ok(stamp) = Timestamp::new(secs, 0) else {
            // Beyond year 9999: show the seconds rather than nothing.
            write_seconds(out, ts, digits);
            return;
        };
        let civil = self.zone.to_datetime(stamp);
        if date {
            let _ = write!(
                out,
                "{:04}-{:02}-{:02} ",
                civil.year(),
                civil.month(),
                civil.day()
            );
        }
        push_u64_padded(out, u64::try_from(civil.hour()).unwrap_or(0), 2);
        out.push(':');
        push_u64_padded(out, u64::try_from(civil.minute()).unwrap_or(0), 2);
        out.push(':');
        push_u64_padded(out, u64::try_from(civil.second()).unwrap_or(0), 2);
        write_fraction(out, ts.subsec_nanos(), digits);
    }
}

/// `secs.fraction` of a time since the epoch.
fn write_seconds(out: &mut String, ts: Duration, digits: u8) {
    push_u64(out, ts.as_secs());
    write_fraction(out, ts.subsec_nanos(), digits);
}

/// `ts - from` in seconds, with a `-` when negative (a capture that goes back in time).
fn write_signed(out: &mut String, ts: Duration, from: Duration, digits: u8) {
    let d = match ts.checked_sub(from) {
        Some(d) => d,
        None => {
            out.push('-');
            from.saturating_sub(ts)
        }
    };
    write_seconds(out, d, digits);
}

/// `.ffffff`: the first `digits` decimals of `nanos`, cut (nothing for 0 digits).
pub(crate) fn write_fraction(out: &mut String, nanos: u32, digits: u8) {
    let digits = digits.min(9);
    if digits == 0 {
        return;
    }
    out.push('.');
    let cut = 10u32.pow(9 - u32::from(digits));
    push_u64_padded(out, u64::from(nanos / cut), usize::from(digits));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(secs: u64, nanos: u32) -> Duration {
        Duration::new(secs, nanos)
    }

    #[test]
    fn every_format_as_tshark_shows_it() {
        // 2026-11-24 11:27:00.226379073 UTC and 161,380 ns later.
        let a = ts(1_795_519_620, 226_379_073);
        let b = ts(1_795_519_620, 226_540_453);
        let show = |format, digits| {
            let mut c = Clock::new(format);
            [c.text(a, digits), c.text(b, digits)]
        };
        assert_eq!(show(TimeFormat::Relative, 6), ["0.000000", "0.000161"]);
        assert_eq!(
            show(TimeFormat::Relative, 9),
            ["0.000000000", "0.000161380"]
        );
        assert_eq!(
            show(TimeFormat::Epoch, 6),
            ["1795519620.226379", "1795519620.226540"]
        );
        assert_eq!(
            show(TimeFormat::Utc, 9),
            ["11:27:00.226379073", "11:27:00.226540453"]
        );
        assert_eq!(
            show(TimeFormat::UtcDate, 6)[1],
            "2026-11-24 11:27:00.226540"
        );
        assert_eq!(show(TimeFormat::Delta, 6), ["0.000000", "0.000161"]);
        assert_eq!(TimeFormat::UtcDate.typical_width(6), 26);
        assert_eq!(TimeFormat::Relative.typical_width(6), 10);
    }

    #[test]
    fn delta_displayed_skips_what_was_not_shown() {
        let mut d = Clock::new(TimeFormat::Delta);
        let mut dd = Clock::new(TimeFormat::DeltaDisplayed);
        d.text(ts(10, 0), 6);
        dd.text(ts(10, 0), 6);
        d.skip(ts(11, 0));
        dd.skip(ts(11, 0));
        assert_eq!(d.text(ts(12, 500_000_000), 6), "1.500000");
        assert_eq!(dd.text(ts(12, 500_000_000), 6), "2.500000");
        assert_eq!(d.text(ts(12, 0), 3), "-0.500");
    }
}
