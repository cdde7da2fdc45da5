//! Output of `pcaplab follow --udp`: the datagrams of one UDP conversation in capture order,
//! each under a line with its frame, direction and size, the ICMP errors that answered them,
//! and a summary; or the raw payload bytes of one direction.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::show::hex_dump;
use crate::analysis::follow_udp::{Followed, Item};
use crate::analysis::udp::{Conversation, End};
use crate::flow::Direction;

/// Writes the payloads of `only` (both directions when `None`) one after the other; returns
/// the bytes the capture did not keep (datagrams cut by the snaplen).
///
/// # Errors
/// When writing fails.
pub fn write_raw<W: Write>(out: &mut W, f: &Followed, only: Option<Direction>) -> io::Result<u64> {
    let mut missing = 0;
    for item in &f.items {
        if let Item::Datagram {
            direction,
            wire_len,
            bytes,
            ..
        } = item
            && only.is_none_or(|d| d == *direction)
        {
            out.write_all(bytes)?;
            missing += wire_len.saturating_sub(bytes.len()) as u64;
        }
    }
    Ok(missing)
}

/// `client → server` or `server → client`.
fn direction_name(d: Direction) -> &'static str {
    match d {
        Direction::ClientToServer => "client → server",
        Direction::ServerToClient => "server → client",
    }
}

/// Writes the conversation as text (`hex` = false) or hex dumps, one block per datagram.
///
/// # Errors
/// When writing fails.
pub fn write_text<W: Write>(
    out: &mut W,
    f: &Followed,
    c: &Conversation,
    only: Option<Direction>,
    hex: bool,
) -> io::Result<()> {
    writeln!(
        out,
        "udp conversation {}: client {} ↔ server {} (the client sent first)",
        c.id, c.a, c.b
    )?;
    for item in &f.items {
        match item {
            Item::Datagram {
                frame,
                direction,
                wire_len,
                bytes,
                ..
            } if only.is_none_or(|d| d == *direction) => {
                let mut head = format!(
                    "── frame {frame} · {} · {wire_len} bytes",
                    direction_name(*direction)
                );
                if bytes.len() < *wire_len {
                    let _ = write!(head, " ({} captured)", bytes.len());
                }
                writeln!(out, "{head} ──")?;
                if hex {
                    out.write_all(hex_dump(bytes).as_bytes())?;
                } else {
                    out.write_all(escape_text(bytes).as_bytes())?;
                }
            }
            Item::IcmpError(e) if only.is_none_or(|d| d == e.direction) => {
                let mut line = format!(
                    "━━ frame {} · ICMP{} from {} · {}",
                    e.frame,
                    match e.version {
                        crate::decode::icmp::Version::V4 => "",
                        crate::decode::icmp::Version::V6 => "v6",
                    },
                    e.from,
                    e.type_name
                );
                if let Some(code) = &e.code_name {
                    let _ = write!(line, " ({code})");
                }
                match e.answers {
                    Some(a) => {
                        let _ = write!(line, " · answers frame {a}");
                    }
                    None => line.push_str(" · answers a datagram not in the capture"),
                }
                writeln!(out, "{line} ━━")?;
                if let Some(m) = &e.meaning {
                    writeln!(out, "{m}")?;
                }
            }
            _ => {}
        }
    }
    write_summary(out, f, c)
}

/// The totals per direction, how the conversation ended, and the related conversations.
fn write_summary<W: Write>(out: &mut W, f: &Followed, c: &Conversation) -> io::Result<()> {
    writeln!(
        out,
        "══ client → server: {}, {} bytes · server → client: {}, {} bytes",
        datagrams(c.packets_a_to_b),
        c.payload_bytes_a_to_b,
        datagrams(c.packets_b_to_a),
        c.payload_bytes_b_to_a
    )?;
    if c.icmp_errors_total > 0 {
        writeln!(
            out,
            "══ {} ICMP error{} answered its datagrams",
            c.icmp_errors_total,
            if c.icmp_errors_total == 1 { "" } else { "s" }
        )?;
    }
    match c.end {
        End::EndOfCapture => {}
        End::TimedOut => writeln!(
            out,
            "══ ended: no datagram for longer than the UDP idle timeout (later datagrams of these endpoints are another conversation)"
        )?,
        End::Evicted => writeln!(
            out,
            "══ ended: evicted, too many UDP conversations were open at once (later datagrams are another conversation)"
        )?,
    }
    if f.related_total > 0 {
        writeln!(out, "══ other UDP conversations of these endpoints:")?;
        for r in &f.related {
            writeln!(
                out,
                "   conversation {}: {} → {}: {}, {} back (frames {}–{})",
                r.id,
                r.a,
                r.b,
                datagrams(r.packets_a_to_b),
                r.packets_b_to_a,
                r.first_frame,
                r.last_frame
            )?;
        }
        if f.related_total > f.related.len() as u64 {
            writeln!(
                out,
                "   … and {} more",
                f.related_total - f.related.len() as u64
            )?;
        }
    }
    Ok(())
}

/// `1 datagram`, `2 datagrams`.
fn datagrams(n: u64) -> String {
    format!("{n} datagram{}", if n == 1 { "" } else { "s" })
}

/// A payload as text: UTF-8 shown as it is, except control and bidirectional-formatting
/// characters, which are escaped (`\x07`, `\u{202e}`); a carriage return shows as `␍`; bytes
/// that are not UTF-8 show as `\xNN`. Ends with a newline.
pub fn escape_text(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() + 1);
    for chunk in bytes.utf8_chunks() {
        for ch in chunk.valid().chars() {
            match ch {
                '\n' | '\t' => s.push(ch),
                '\r' => s.push('␍'),
                c if c.is_control() => {
                    let _ = write!(s, "\\x{:02x}", u32::from(c));
                }
                '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {
                    let _ = write!(s, "\\u{{{:04x}}}", u32::from(ch));
                }
                c => s.push(c),
            }
        }
        for b in chunk.invalid() {
            let _ = write!(s, "\\x{b:02x}");
        }
    }
    if !s.ends_with('\n') {
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_keeps_utf8_and_escapes_controls() {
        assert_eq!(escape_text("你好\r\n".as_bytes()), "你好␍\n");
        assert_eq!(escape_text(b"a\x07b\xffc"), "a\\x07b\\xffc\n");
        assert_eq!(escape_text("x\u{202e}y".as_bytes()), "x\\u{202e}y\n");
        assert_eq!(escape_text(b"\x1b[31m"), "\\x1b[31m\n");
        assert_eq!(escape_text("\u{85}".as_bytes()), "\\x85\n");
        assert_eq!(escape_text(b""), "\n");
    }
}
