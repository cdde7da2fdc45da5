//! `--framing auto`: guesses the framing of a direction from its first bytes.
//!
//! The sticky analysis buffers up to [`LOOKAHEAD`] bytes of each direction (less when the
//! direction ends first, or when the first bytes are HTTP), calls [`detect`], then replays the
//! buffered bytes into the chosen framer. Detection is pure and looks at no more than
//! [`LOOKAHEAD`] bytes. In order:
//! 1. `http` when the direction starts like an HTTP/1.x message, by THE detector of
//!    `app::http` (the same that the `http` command uses, so the two cannot disagree);
//! 2. a length prefix when one of [`CANDIDATES`] walks the bytes consistently (see [`detect`]);
//! 3. `line` when the bytes are text with at least one LF;
//! 4. `none` otherwise (also for an empty direction).

use crate::app::http::detect::{self as http_detect, Start};
use crate::framing::length_prefix::DEFAULT_MAX_MESSAGE_LEN;
use crate::framing::spec::{Endian, FramingSpec, LengthPrefix, PrefixWidth};

/// How many bytes of a direction detection looks at.
pub const LOOKAHEAD: usize = 64 * 1024;

/// Length prefixes tried, in order of preference (each also as `inclusive`, right after it).
pub const CANDIDATES: [(PrefixWidth, Endian); 7] = [
    (PrefixWidth::Four, Endian::Big),
    (PrefixWidth::Two, Endian::Big),
    (PrefixWidth::Four, Endian::Little),
    (PrefixWidth::Two, Endian::Little),
    (PrefixWidth::One, Endian::Big),
    (PrefixWidth::Eight, Endian::Big),
    (PrefixWidth::Eight, Endian::Little),
];

/// Bits of evidence a walk must gather when its last message runs past the look-ahead (see
/// [`detect`]).
const MIN_EVIDENCE_BITS: f64 = 32.0;
/// Average bits of evidence per message a walk must have when its last message runs past the
/// look-ahead. Random bytes give about 1.44 bits per message whatever the width.
const MIN_MEAN_EVIDENCE_BITS: f64 = 4.0;

/// Average bits of evidence per message a `len:1` walk must have even when it ends exactly.
const MIN_MEAN_EVIDENCE_BITS_ONE_BYTE: f64 = 2.5;

/// Guesses the framing of one direction from its first bytes.
///
/// `prefix` is the start of the direction (only its first [`LOOKAHEAD`] bytes are used);
/// `total_known` says it is the whole direction (the direction ended within the look-ahead).
///
/// A length-prefix candidate is read as a chain of messages from offset 0. It is accepted when
/// the bytes are not all text, every prefix is possible (an inclusive length is at least the
/// prefix width, no payload above 64 MiB), more than half of the whole messages have a payload
/// (a 2-byte prefix read as `len:1` gives an empty message before each real one), and:
/// - the chain ends exactly at the end of `prefix` with ≥ 2 messages that have a payload, or
///   with one message covering the whole direction (`total_known`); or
/// - the last message runs past the end (cut by the look-ahead or by the end of the capture)
///   after ≥ 2 whole messages with a payload, whose lengths are small for the prefix width:
///   each message gives `8·width − log2(payload + 1)` bits of evidence, and the walk needs 32
///   bits in total and 4 on average (random bytes chain through any look-ahead, but average
///   1.44 bits).
///
/// A 1-byte prefix chains through any bytes, so it also needs 2.5 bits per message on average
/// when it ends exactly, and never passes with a single message.
///
/// ```
/// use pcaplab::analysis::sticky::auto::detect;
/// let dns_over_tcp = [0x00, 0x02, 0xab, 0xcd, 0x00, 0x01, 0xef];
/// assert_eq!(detect(&dns_over_tcp, true).to_string(), "len:2");
/// assert_eq!(detect(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", false).to_string(), "http");
/// assert_eq!(detect(b"hello\nworld\n", true).to_string(), "line");
/// ```
pub fn detect(prefix: &[u8], total_known: bool) -> FramingSpec {
    let (bytes, total_known) = match prefix.get(..LOOKAHEAD) {
        Some(head) if prefix.len() > LOOKAHEAD => (head, false),
        _ => (prefix, total_known),
    };
    if bytes.is_empty() {
        return FramingSpec::None;
    }
    if is_http(bytes) {
        return FramingSpec::Http;
    }
    let text = looks_like_text(bytes, !total_known);
    if !text {
        for (width, endian) in CANDIDATES {
            for inclusive in [false, true] {
                let prefix = LengthPrefix {
                    width,
                    endian,
                    inclusive,
                };
                if walk(&prefix, bytes).accepts(total_known) {
                    return FramingSpec::LengthPrefix(prefix);
                }
            }
        }
    }
    if text && bytes.contains(&b'\n') {
        return FramingSpec::Line;
    }
    FramingSpec::None
}

/// Guesses the framing of both directions of a stream: each is detected on its own, except that
/// HTTP in either direction means HTTP in both (a response is framed by its request).
///
/// Returns `(client_to_server, server_to_client)`.
pub fn detect_pair(
    client_to_server: &[u8],
    client_to_server_total_known: bool,
    server_to_client: &[u8],
    server_to_client_total_known: bool,
) -> (FramingSpec, FramingSpec) {
    let c2s = detect(client_to_server, client_to_server_total_known);
    let s2c = detect(server_to_client, server_to_client_total_known);
    if c2s == FramingSpec::Http || s2c == FramingSpec::Http {
        return (FramingSpec::Http, FramingSpec::Http);
    }
    (c2s, s2c)
}

/// How a chain of length-prefixed messages read from offset 0 ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// The last message ends exactly at the end of the bytes.
    Exact,
    /// The last message (or its prefix) runs past the end of the bytes.
    Beyond,
    /// A prefix is impossible (inclusive length below the width, implausible length).
    Invalid,
}

/// What reading `bytes` as a chain of length-prefixed messages gave.
#[derive(Debug, Clone, Copy)]
struct Walk {
    /// Prefix width in bytes.
    width: usize,
    /// Whole messages read.
    messages: usize,
    /// Whole messages with a non-empty payload.
    with_payload: usize,
    /// Sum over whole messages of `8·width − log2(payload + 1)`.
    evidence_bits: f64,
    ending: Ending,
}

impl Walk {
    fn accepts(&self, total_known: bool) -> bool {
        // Most messages must carry a payload: a 2-byte prefix read as `len:1`, or an 8-byte one
        // read as `len:4`, gives an empty message before each real one.
        if self.with_payload * 2 <= self.messages {
            return false;
        }
        match self.ending {
            Ending::Invalid => false,
            // A 1-byte prefix chains through any bytes and lands exactly on the end of random
            // bytes about once in 128 tries: ask for short messages too (payloads averaging
            // under about 44 bytes), which random bytes rarely give.
            Ending::Exact if self.width == 1 => {
                self.with_payload >= 2
                    && self.evidence_bits >= MIN_MEAN_EVIDENCE_BITS_ONE_BYTE * self.messages as f64
            }
            Ending::Exact => self.with_payload >= 2 || (self.messages == 1 && total_known),
            Ending::Beyond => {
                self.with_payload >= 2
                    && self.evidence_bits >= MIN_EVIDENCE_BITS
                    && self.evidence_bits >= MIN_MEAN_EVIDENCE_BITS * self.messages as f64
            }
        }
    }
}

fn walk(prefix: &LengthPrefix, bytes: &[u8]) -> Walk {
    let width = prefix.width.bytes();
    let width_bits = 8.0 * width as f64;
    let mut result = Walk {
        width,
        messages: 0,
        with_payload: 0,
        evidence_bits: 0.0,
        ending: Ending::Exact,
    };
    let mut rest = bytes;
    while !rest.is_empty() {
        let Some((head, _)) = rest.split_at_checked(width) else {
            result.ending = Ending::Beyond;
            break;
        };
        let value = prefix.decode(head).unwrap_or_default();
        let total = if prefix.inclusive {
            if value < width as u64 {
                result.ending = Ending::Invalid;
                break;
            }
            value
        } else {
            value.saturating_add(width as u64)
        };
        let payload = total - width as u64;
        if payload > DEFAULT_MAX_MESSAGE_LEN {
            result.ending = Ending::Invalid;
            break;
        }
        // `total` ≤ 64 MiB + 8 here, so it fits a usize on every supported target.
        match usize::try_from(total).ok().and_then(|t| rest.get(t..)) {
            Some(after) => {
                result.messages += 1;
                if payload > 0 {
                    result.with_payload += 1;
                }
                result.evidence_bits += width_bits - ((payload + 1) as f64).log2();
                rest = after;
            }
            None => {
                result.ending = Ending::Beyond;
                break;
            }
        }
    }
    result
}

/// True when `bytes` begin an HTTP/1.x message ([`http_detect::classify`]); bytes still too
/// few to tell are not HTTP here, because detection runs only once the look-ahead is full or
/// the direction is over.
pub fn is_http(bytes: &[u8]) -> bool {
    http_detect::classify(bytes) == Start::Http
}

/// True when `bytes` are UTF-8 text without control characters other than tab, LF, CR and form
/// feed. When `may_be_cut`, a character cut at the very end is allowed.
fn looks_like_text(bytes: &[u8], may_be_cut: bool) -> bool {
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) if may_be_cut && e.error_len().is_none() => {
            let valid = bytes.get(..e.valid_up_to()).unwrap_or_default();
            std::str::from_utf8(valid).unwrap_or_default()
        }
        Err(_) => return false,
    };
    text.chars()
        .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r' | '\x0c'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str) -> FramingSpec {
        text.parse().unwrap()
    }

    /// Encodes `payloads` with `prefix`.
    fn encode(prefix: &LengthPrefix, payloads: &[&[u8]]) -> Vec<u8> {
        let width = prefix.width.bytes() as u64;
        let mut out = Vec::new();
        for p in payloads {
            let len = p.len() as u64 + if prefix.inclusive { width } else { 0 };
            out.extend(prefix.encode(len));
            out.extend_from_slice(p);
        }
        out
    }

    /// Deterministic pseudo-random bytes (xorshift64*), so the noise tests cannot flake.
    fn noise(seed: u64, len: usize) -> Vec<u8> {
        let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        (0..len)
            .map(|_| {
                state ^= state >> 12;
                state ^= state << 25;
                state ^= state >> 27;
                (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8
            })
            .collect()
    }

    #[test]
    fn four_byte_big_endian_prefix() {
        let bytes = [
            0x00, 0x00, 0x00, 0x05, // length 5
            b'h', b'e', b'l', b'l', b'o', // payload
            0x00, 0x00, 0x00, 0x03, // length 3
            0x01, 0x02, 0x03, // payload
        ];
        assert_eq!(detect(&bytes, true), spec("len:4"));
        assert_eq!(detect(&bytes, false), spec("len:4"));
    }

    #[test]
    fn dns_over_tcp_two_byte_prefix() {
        // RFC 1035 §4.2.2: each DNS message is preceded by a 2-byte big-endian length.
        let query = [
            0x00, 0x1d, // length 29
            0x12, 0x34, // ID
            0x01, 0x00, // flags: RD
            0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // QD=1, AN=NS=AR=0
            0x07, b'e', b'x', b'a', b'm', b'p', b'l', b'e', // "example"
            0x03, b'c', b'o', b'm', 0x00, // "com", root
            0x00, 0x01, 0x00, 0x01, // QTYPE A, QCLASS IN
        ];
        assert_eq!(query.len(), 31);
        let mut two = query.to_vec();
        two.extend_from_slice(&query);
        assert_eq!(detect(&two, true), spec("len:2"));
        // One query alone covering the whole direction.
        assert_eq!(detect(&query, true), spec("len:2"));
        // One query alone, direction not over: not enough evidence.
        assert_eq!(detect(&query, false), spec("none"));
    }

    #[test]
    fn other_prefix_shapes_are_found() {
        let payloads: [&[u8]; 3] = [b"\x01abc", b"\x02defgh", b"\x03ij"];
        for text in [
            "len:4:le",
            "len:2:le",
            "len:2:inclusive",
            "len:4:inclusive",
            "len:2:le:inclusive",
            "len:8",
            "len:8:le",
            "len:1",
        ] {
            let FramingSpec::LengthPrefix(prefix) = spec(text) else {
                unreachable!()
            };
            let bytes = encode(&prefix, &payloads);
            assert_eq!(detect(&bytes, true).to_string(), text, "{bytes:02x?}");
        }
    }

    #[test]
    fn long_stream_cut_by_the_look_ahead() {
        // 200 messages of 500 bytes behind a 4-byte prefix: 100 KB, more than the look-ahead.
        let prefix = LengthPrefix::new(PrefixWidth::Four);
        let payload = vec![0x55u8; 500];
        let payloads: Vec<&[u8]> = (0..200).map(|_| payload.as_slice()).collect();
        let bytes = encode(&prefix, &payloads);
        assert!(bytes.len() > LOOKAHEAD);
        assert_eq!(detect(&bytes, true), spec("len:4"));
        // The same, cut by the engine at an arbitrary point.
        assert_eq!(detect(&bytes[..10_000], false), spec("len:4"));
        // A 2-byte prefix with 3000-byte messages cut mid-message.
        let prefix = LengthPrefix::new(PrefixWidth::Two);
        let payload = vec![0xaau8; 3000];
        let payloads: Vec<&[u8]> = (0..20).map(|_| payload.as_slice()).collect();
        let bytes = encode(&prefix, &payloads);
        assert_eq!(detect(&bytes[..40_000], false), spec("len:2"));
    }

    #[test]
    fn http_request_and_response() {
        assert_eq!(
            detect(b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n", false),
            spec("http")
        );
        assert_eq!(detect(b"M-SEARCH * HTTP/1.1\r\n", false), spec("http"));
        assert_eq!(detect(b"POST /a HTTP/1.0\n", true), spec("http"));
        assert_eq!(detect(b"HTTP/1.1 200 OK\r\n", true), spec("http"));
        assert_eq!(detect(b"HTTP/1.0 404", false), spec("http"));
        // Not HTTP start lines: fall through to line.
        assert_eq!(detect(b"HTTP/1.1 20 OK\r\n", true), spec("line"));
        assert_eq!(detect(b"get me a coffee\r\n", true), spec("line"));
        assert_eq!(detect(b"CCM_POST / HTTP/1.\n", true), spec("line"));
    }

    #[test]
    fn issue_10_auto_uses_the_same_http_detector_as_the_http_command() {
        // Before issue 10, `auto` had its own check (uppercase methods, a whole line) and
        // disagreed with `http` on these; now both ask `app::http::detect`.
        let cases: [&[u8]; 6] = [
            b"get / HTTP/1.1\r\n", // RFC 9112 §3: a case-sensitive token, an extension method
            b"GET /index.html\r\n", // a registered method: the sender meant HTTP
            b"GET / HTTP/2.0\r\n",
            b"GET  / HTTP/1.1\r\n",
            b"GET /index.html HTTP/1.1", // the line is not finished yet
            b"PROPFIND /dav HTTP/1.1\r\n",
        ];
        for bytes in cases {
            let http = crate::app::http::looks_like_http_start(bytes);
            assert!(http, "{bytes:?}");
            assert_eq!(detect(bytes, true), spec("http"), "{bytes:?}");
            assert_eq!(detect(bytes, false), spec("http"), "{bytes:?}");
        }
        for bytes in [&b"HELO example.org\r\n"[..], b"\x00\x00\x00\x02hi"] {
            assert!(!crate::app::http::looks_like_http_start(bytes));
            assert_ne!(detect(bytes, true), spec("http"));
        }
    }

    #[test]
    fn http_in_one_direction_means_http_in_both() {
        let request = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
        let binary = [0x00, 0x00, 0x00, 0x01, 0xff, 0x00, 0x00, 0x00, 0x01, 0xee];
        assert_eq!(
            detect_pair(request, false, &binary, true),
            (spec("http"), spec("http"))
        );
        assert_eq!(
            detect_pair(b"", true, b"HTTP/1.1 200 OK\r\n", false),
            (spec("http"), spec("http"))
        );
        assert_eq!(
            detect_pair(b"hi\n", true, &binary, true),
            (spec("line"), spec("len:4"))
        );
    }

    #[test]
    fn text_lines() {
        assert_eq!(
            detect(b"HELO example.org\r\nMAIL FROM:<a@b>\r\n", true),
            spec("line")
        );
        assert_eq!(detect("héllo wörld\n".as_bytes(), true), spec("line"));
        // UTF-8 cut by the look-ahead in the middle of a character.
        let cut = "ok\nnaïve".as_bytes();
        assert_eq!(detect(&cut[..cut.len() - 3], false), spec("line"));
        assert_eq!(detect(&cut[..cut.len() - 3], true), spec("none"));
        // Text without any newline is not line-framed.
        assert_eq!(detect(b"just some text", true), spec("none"));
        // Text whose first bytes would chain as a 1-byte prefix is still text.
        assert_eq!(detect(b"\n123456789\n", true), spec("line"));
    }

    #[test]
    fn binary_noise_is_none() {
        for seed in 1..=20 {
            for len in [10, 100, 1000, 70_000] {
                let bytes = noise(seed, len);
                assert_eq!(
                    detect(&bytes, false),
                    spec("none"),
                    "seed {seed}, {len} bytes"
                );
            }
        }
        assert_eq!(detect(&[0u8; 64], true), spec("none"));
        assert_eq!(detect(&[0xffu8; 64], true), spec("none"));
        assert_eq!(detect(b"", true), spec("none"));
    }

    #[test]
    fn impossible_prefixes_are_rejected() {
        // Inclusive length 1 < width 2 and exclusive lengths that overrun: no candidate fits.
        assert_eq!(detect(&[0x00, 0x01, 0x00, 0x01], true), spec("none"));
    }

    #[test]
    fn every_prefix_of_real_bytes_is_safe() {
        let bytes = b"GET / HTTP/1.1\r\n\x00\x00\x00\x02ab\xff\xfe";
        for n in 0..=bytes.len() {
            for total_known in [false, true] {
                let _ = detect(&bytes[..n], total_known);
            }
        }
    }

    #[test]
    fn random_bytes_are_rarely_taken_for_a_length_prefix() {
        // Measured when tuning: about 1 in 1000 random buffers of 30 to 100 bytes passes as
        // `len:1:inclusive`, none of 1000 bytes or more. Allow 1 in 100 here.
        let mut wrong = 0;
        let mut trials = 0;
        for seed in 0..300 {
            for len in [30, 100, 1000] {
                let bytes = noise(1000 + seed, len);
                for total_known in [false, true] {
                    trials += 1;
                    if matches!(detect(&bytes, total_known), FramingSpec::LengthPrefix(_)) {
                        wrong += 1;
                    }
                }
            }
        }
        assert!(wrong * 100 <= trials, "{wrong} of {trials}");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        #[test]
        fn any_bytes_are_detected_without_panic(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
            total_known in proptest::prelude::any::<bool>(),
        ) {
            let _ = detect(&bytes, total_known);
            let (a, b) = detect_pair(&bytes, total_known, &bytes, !total_known);
            proptest::prop_assert_eq!(a == FramingSpec::Http, b == FramingSpec::Http);
        }
    }
}
