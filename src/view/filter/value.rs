//! Field values handed out by a [`FieldSource`](super::FieldSource), the literals a compiled
//! filter holds, and how the two compare.

use std::cmp::Ordering;
use std::net::{Ipv4Addr, Ipv6Addr};

/// One occurrence of a field in a packet. Byte strings borrow the packet or the annotations, so
/// handing a value out never allocates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value<'a> {
    /// An unsigned integer (ports, lengths, types, numbers).
    UInt(u64),
    /// A flag.
    Bool(bool),
    /// An IPv4 address.
    Ipv4(Ipv4Addr),
    /// An IPv6 address.
    Ipv6(Ipv6Addr),
    /// A MAC address.
    Ether([u8; 6]),
    /// A byte or character string, or the bytes a protocol spans.
    Bytes(&'a [u8]),
    /// A relative time in nanoseconds (negative when a frame is older than the first).
    TimeNanos(i64),
    /// A label or protocol that is present but carries no value.
    Present,
}

impl Value<'_> {
    /// The bytes of a byte-like value (strings, byte sequences, MAC addresses).
    pub(super) fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
        match self {
            Value::Bytes(b) => Some(f(b)),
            Value::Ether(mac) => Some(f(mac)),
            _ => None,
        }
    }
}

/// A literal of a compiled filter, already converted to the type of the field it is compared
/// with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Literal {
    /// An integer; signed so that `tcp.port == -1` is valid and simply never true, as in
    /// Wireshark.
    Int(i128),
    /// A boolean.
    Bool(bool),
    /// An IPv4 address or subnet: equal when the masked bits are equal.
    Ipv4 { net: u32, mask: u32 },
    /// An IPv6 address or subnet.
    Ipv6 { net: u128, mask: u128 },
    /// Bytes: a byte sequence, a string, or a MAC address.
    Bytes(Box<[u8]>),
    /// A relative time in nanoseconds.
    Time(i64),
}

/// Orders a field value against a literal of the field's type; `None` when the types differ
/// (a source that handed out the wrong type never matches).
///
/// Addresses compare under the literal's mask, so `ip.src > 10.0.0.0/8` means "above the whole
/// subnet", like Wireshark.
pub(super) fn compare_literal(value: &Value<'_>, literal: &Literal) -> Option<Ordering> {
    match (value, literal) {
        (Value::UInt(v), Literal::Int(l)) => Some(i128::from(*v).cmp(l)),
        (Value::Bool(v), Literal::Bool(l)) => Some(v.cmp(l)),
        (Value::Ipv4(a), Literal::Ipv4 { net, mask }) => {
            Some((u32::from(*a) & mask).cmp(&(net & mask)))
        }
        (Value::Ipv6(a), Literal::Ipv6 { net, mask }) => {
            Some((u128::from(*a) & mask).cmp(&(net & mask)))
        }
        (Value::TimeNanos(t), Literal::Time(l)) => Some(t.cmp(l)),
        (v, Literal::Bytes(l)) => v.with_bytes(|b| b.cmp(l)),
        _ => None,
    }
}

/// Orders two field values of the same type (`tcp.srcport > tcp.dstport`).
pub(super) fn compare_values(a: &Value<'_>, b: &Value<'_>) -> Option<Ordering> {
    match (a, b) {
        (Value::UInt(x), Value::UInt(y)) => Some(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::Ipv4(x), Value::Ipv4(y)) => Some(x.cmp(y)),
        (Value::Ipv6(x), Value::Ipv6(y)) => Some(x.cmp(y)),
        (Value::TimeNanos(x), Value::TimeNanos(y)) => Some(x.cmp(y)),
        _ => a.with_bytes(|x| b.with_bytes(|y| x.cmp(y))).flatten(),
    }
}

/// True when `haystack` contains `needle` (an empty needle is always contained).
pub(super) fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnet_literals_compare_under_their_mask() {
        let net = Literal::Ipv4 {
            net: u32::from(Ipv4Addr::new(10, 0, 0, 0)),
            mask: 0xff00_0000,
        };
        let inside = Value::Ipv4(Ipv4Addr::new(10, 1, 2, 3));
        let above = Value::Ipv4(Ipv4Addr::new(11, 0, 0, 0));
        assert_eq!(compare_literal(&inside, &net), Some(Ordering::Equal));
        assert_eq!(compare_literal(&above, &net), Some(Ordering::Greater));
    }

    #[test]
    fn mismatched_types_never_compare() {
        assert_eq!(compare_literal(&Value::UInt(1), &Literal::Bool(true)), None);
        assert_eq!(compare_values(&Value::UInt(1), &Value::Bool(true)), None);
        assert_eq!(
            compare_literal(&Value::Present, &Literal::Bytes(Box::new([]))),
            None
        );
    }

    #[test]
    fn negative_literals_are_below_every_unsigned_value() {
        assert_eq!(
            compare_literal(&Value::UInt(0), &Literal::Int(-1)),
            Some(Ordering::Greater)
        );
    }

    #[test]
    fn mac_addresses_compare_as_bytes() {
        let mac = Value::Ether([0, 1, 2, 3, 4, 5]);
        assert_eq!(
            compare_values(&mac, &Value::Bytes(&[0, 1, 2, 3, 4, 5])),
            Some(Ordering::Equal)
        );
        assert!(mac.with_bytes(|b| contains(b, &[2, 3])).unwrap_or(false));
        assert!(contains(b"abc", b""));
        assert!(!contains(b"ab", b"abc"));
    }
}
