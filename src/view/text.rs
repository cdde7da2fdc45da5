//! Small text writers for the hot per-packet columns: integers and addresses appended to a
//! reused `String` without going through `core::fmt` (which dominated the CSV profile).

use std::fmt::Write as _;
use std::net::IpAddr;

/// Appends the decimal form of `n`.
pub fn push_u64(out: &mut String, n: u64) {
    push_u64_padded(out, n, 1);
}

/// Appends `n` with at least `width` digits (zeros in front, at most 20 digits in all).
pub fn push_u64_padded(out: &mut String, mut n: u64, width: usize) {
    let mut buf = [b'0'; 20];
    let mut i = buf.len();
    while n > 0 && i > 0 {
        i -= 1;
        if let Some(d) = buf.get_mut(i) {
            *d = b'0' + (n % 10) as u8;
        }
        n /= 10;
    }
    let start = i.min(buf.len().saturating_sub(width.max(1)));
    // Only ASCII digits were written: this cannot fail.
    out.push_str(std::str::from_utf8(buf.get(start..).unwrap_or_default()).unwrap_or_default());
}

/// Appends an address as `Display` writes it (`10.0.0.1`, `fe80::1`).
pub fn push_ip(out: &mut String, ip: IpAddr) {
    match ip {
        IpAddr::V4(a) => {
            for (i, o) in a.octets().into_iter().enumerate() {
                if i > 0 {
                    out.push('.');
                }
                push_u64(out, u64::from(o));
            }
        }
        IpAddr::V6(a) => {
            let _ = write!(out, "{a}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_text_as_display() {
        for n in [0u64, 7, 10, 99, 100, 65535, 1_768_471_200, u64::MAX] {
            let mut s = String::from("x");
            push_u64(&mut s, n);
            assert_eq!(s, format!("x{n}"));
            let mut p = String::new();
            push_u64_padded(&mut p, n % 1_000_000_000, 9);
            assert_eq!(p, format!("{:09}", n % 1_000_000_000));
        }
        for ip in [
            "0.0.0.0",
            "10.1.4.123",
            "255.255.255.255",
            "fe80::1",
            "::ffff:1.2.3.4",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            let mut s = String::new();
            push_ip(&mut s, ip);
            assert_eq!(s, ip.to_string());
        }
    }
}
