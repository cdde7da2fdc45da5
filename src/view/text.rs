//! Text for people: the one terminal-escaping function every output path uses ([`escape`],
//! [`push_escaped`], [`escape_bytes`], [`Escaped`]), and small writers for the hot per-packet
//! columns (integers and addresses appended to a reused `String` without going through
//! `core::fmt`, which dominated the CSV profile).
//!
//! Escaping (issue 16): a string that came from outside the program (capture contents, file
//! names of captures and rubrics, rubric ids, TFTP file names, HTTP URIs and headers) may carry
//! characters that steer a terminal instead of showing: C0 controls (ESC starts a control
//! sequence), DEL, C1 controls (U+0080–U+009F, CSI among them), and the invisible bidi and
//! format controls that reorder the text around them ("Trojan Source", CVE-2021-42574: U+202A–
//! U+202E, U+2066–U+2069, U+200E/U+200F, U+061C, and the line and paragraph separators U+2028/
//! U+2029). Tables, CSV, messages and `follow` show them as visible escapes: `\n`, `\r`, `\t`,
//! `\x1b` (C0 and DEL), `\u{202e}` (C1 and format controls); bytes that are not UTF-8 as `\xNN`.
//! A backslash is left as it is, so escaping text twice changes nothing. JSON keeps the original
//! text, escaped by JSON's own rules.

use std::borrow::Cow;
use std::fmt::{self, Write as _};
use std::net::IpAddr;

/// True when `c` must not reach a terminal as it is (see the module docs).
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
        )
}

/// True when `s` holds a character [`escape`] would change. Fast on ASCII text.
pub fn needs_escape(s: &str) -> bool {
    // One pass over printable ASCII, 16 bytes at a time without early exit (the compiler
    // vectorises it); anything else takes the exact test.
    let printable = s.as_bytes().chunks(16).all(|chunk| {
        chunk
            .iter()
            .fold(true, |ok, &b| ok & (0x20..0x7f).contains(&b))
    });
    if printable {
        return false;
    }
    if s.is_ascii() {
        return s.bytes().any(|b| b < 0x20 || b == 0x7f);
    }
    s.chars().any(is_unsafe)
}

/// `s` safe for a terminal: borrowed when nothing needed escaping.
pub fn escape(s: &str) -> Cow<'_, str> {
    if needs_escape(s) {
        let mut out = String::with_capacity(s.len() + 8);
        push_escaped(&mut out, s);
        Cow::Owned(out)
    } else {
        Cow::Borrowed(s)
    }
}

/// Appends `s` to `out`, escaped for a terminal.
pub fn push_escaped(out: &mut String, s: &str) {
    for c in s.chars() {
        push_char(out, c);
    }
}

/// Appends `s` escaped, but keeps its line feeds (`follow`'s text, where the lines are the
/// data's own); a tab is shown as `\t`, as everywhere else.
pub fn push_escaped_keep_lines(out: &mut String, s: &str) {
    for c in s.chars() {
        if c == '\n' {
            out.push(c);
        } else {
            push_char(out, c);
        }
    }
}

/// Appends `s` escaped (line feeds kept when `keep_lines`; a tab is always `\t`) and returns
/// how many characters were escaped, not counting kept line feeds nor an escaped LF or tab (for
/// a caller that tells text from binary by it).
pub fn push_escaped_counting(out: &mut String, s: &str, keep_lines: bool) -> usize {
    let mut escapes = 0;
    for c in s.chars() {
        match c {
            '\n' if keep_lines => out.push(c),
            '\n' | '\t' => push_char(out, c),
            c if is_unsafe(c) => {
                push_char(out, c);
                escapes += 1;
            }
            c => out.push(c),
        }
    }
    escapes
}

fn push_char(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if (c as u32) < 0x20 || c == '\u{7f}' => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c if is_unsafe(c) => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
        c => out.push(c),
    }
}

/// Bytes from the wire as terminal-safe text: valid UTF-8 as [`escape`] shows it, every other
/// byte as `\xNN`.
pub fn escape_bytes(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => escape(s),
        Err(_) => {
            let mut out = String::with_capacity(bytes.len() + 8);
            for chunk in bytes.utf8_chunks() {
                push_escaped(&mut out, chunk.valid());
                for b in chunk.invalid() {
                    let _ = write!(out, "\\x{b:02x}");
                }
            }
            Cow::Owned(out)
        }
    }
}

/// A `Display` adapter that escapes its text for a terminal (for messages built with
/// `format!`).
#[derive(Debug, Clone, Copy)]
pub struct Escaped<'a>(pub &'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !needs_escape(self.0) {
            return f.write_str(self.0);
        }
        let mut out = String::with_capacity(self.0.len() + 8);
        push_escaped(&mut out, self.0);
        f.write_str(&out)
    }
}

/// Appends the decimal form of `n`.
pub fn push_u64(out: &mut String, n: u64) {
    push_u64_padded(out, n, 1);
}

/// Appends `n` with at least `width` digits (zeros in front, at most 20 digits in all).
pub fn push_u64_padded(out: &mut String, n: u64, width: usize) {
    // itoa: two digits per step and no UTF-8 validation of its own ASCII digits (the
    // validation was a tenth of `packets --format csv`).
    let mut buf = itoa::Buffer::new();
    let digits = buf.format(n);
    for _ in digits.len()..width.min(20) {
        out.push('0');
    }
    out.push_str(digits);
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
    fn controls_and_bidi_are_escaped_and_the_rest_is_kept() {
        assert_eq!(escape("plain.pcap"), Cow::Borrowed("plain.pcap"));
        assert_eq!(
            escape("caf\u{e9} \u{1f600} a\\b"),
            "caf\u{e9} \u{1f600} a\\b"
        );
        assert_eq!(escape("\u{1b}[31mred\u{7}"), "\\x1b[31mred\\x07");
        assert_eq!(escape("a\nb\tc\rd\u{7f}"), "a\\nb\\tc\\rd\\x7f");
        assert_eq!(escape("\u{9b}31m"), "\\u{9b}31m");
        for c in [
            '\u{202a}', '\u{202b}', '\u{202c}', '\u{202d}', '\u{202e}', '\u{2066}', '\u{2067}',
            '\u{2068}', '\u{2069}', '\u{200e}', '\u{200f}',
        ] {
            let s = format!("x{c}y");
            let e = escape(&s);
            assert_eq!(e, format!("x\\u{{{:x}}}y", c as u32));
            assert!(!needs_escape(&e), "{e}");
        }
        // Escaping twice changes nothing.
        let once = escape("\u{1b}\u{202e}").into_owned();
        assert_eq!(escape(&once), once);
        assert_eq!(escape_bytes(b"ok\xff\x1b"), "ok\\xff\\x1b");
        assert_eq!(Escaped("\u{202e}gpj.exe").to_string(), "\\u{202e}gpj.exe");
        let mut kept = String::new();
        push_escaped_keep_lines(&mut kept, "a\nb\t\u{1b}");
        assert_eq!(kept, "a\nb\\t\\x1b");
    }

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
