//! Output of `pcaplab follow --udp`: the datagrams of one UDP conversation in capture order,
//! each under a line with its frame, direction and size, the ICMP errors that answered them,
//! and a summary; or the raw payload bytes of one direction.

use std::fmt::Write as _;
use std::io::{self, Write};

use crate::analysis::follow_udp::{Followed, Item};
use crate::analysis::udp::{Conversation, End};
use crate::flow::Direction;

/// Writes the payloads of `only` (both directions when `None`) one after the other; returns
/// the bytes the capture did not keep (datagrams cut by the snaplen). With `escaped` (standard
/// output is a terminal) the bytes are shown as text escaped for it, never raw.
///
/// # Errors
/// When writing fails.
pub fn write_raw<W: Write>(
    out: &mut W,
    f: &Followed,
    only: Option<Direction>,
    escaped: bool,
) -> io::Result<u64> {
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
            if escaped {
                out.write_all(super::follow::escape_text(bytes).as_bytes())?;
            } else {
                out.write_all(bytes)?;
            }
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
                    "── frame {frame} · {} · {}",
                    direction_name(*direction),
                    crate::units::plural(*wire_len as u64, "byte", "bytes")
                );
                if bytes.len() < *wire_len {
                    let _ = write!(head, " ({} captured)", bytes.len());
                }
                writeln!(out, "{head} ──")?;
                // The same text (or hex dump) as Follow TCP Stream.
                super::follow::write_piece(out, bytes, hex)?;
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
        "══ client → server: {}, {} · server → client: {}, {}",
        datagrams(c.packets_a_to_b),
        crate::units::plural(c.payload_bytes_a_to_b, "byte", "bytes"),
        datagrams(c.packets_b_to_a),
        crate::units::plural(c.payload_bytes_b_to_a, "byte", "bytes")
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
