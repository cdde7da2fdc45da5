//! Output of `pcaplab follow`: both directions in capture order with segment boundaries (and
//! message boundaries when framed), or the raw bytes of one direction.
//!
//! Text is shown as text: UTF-8 as the characters it encodes (Chinese chat lines stay
//! readable); only what could disturb the terminal is escaped — control characters (C0 but
//! LF, DEL, C1: `\t`, `\x1b`, `\r`, `\u{85}`), the invisible bidi and direction marks
//! (U+202A–U+202E, U+2066–U+2069, U+200E/F: `\u{202e}`), and bytes that are not UTF-8
//! (`\xff`), all by [`crate::view::text`]. A segment that is mostly such bytes is shown as a hex dump instead. FIN and RST
//! are marked where they happen with who sent them; bytes lost before the capture point and
//! bytes cut by the snap length are marked differently.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::show::hex_dump;
use crate::analysis::follow::{FollowChunk, fin_frame, rst_sender};
use crate::analysis::sticky;
use crate::flow::Direction;
use crate::flow::tcp::{EndCause, Stream};
use crate::framing::grouped;
use crate::framing::segments::PartKind;

/// Appends `bytes` to `out` as text escaped for a terminal by [`crate::view::text`] (the one
/// escaping function); LF is kept when `keep_newlines`, else escaped too (a tab is `\t`). Returns the
/// number of escapes written.
fn escape_into(out: &mut String, bytes: &[u8], keep_newlines: bool) -> usize {
    let mut escapes = 0;
    for chunk in bytes.utf8_chunks() {
        escapes += crate::view::text::push_escaped_counting(out, chunk.valid(), keep_newlines);
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
            escapes += 1;
        }
    }
    escapes
}

/// `bytes` as text for a terminal, keeping line feeds (a tab is `\t`; see the module docs).
///
/// ```
/// use pcaplab::report::follow::escape_text;
/// assert_eq!(escape_text("你好\n".as_bytes()), "你好\n");
/// assert_eq!(escape_text(b"a\x1b[31mb\r\n"), "a\\x1b[31mb\\r\n");
/// assert_eq!(escape_text("x\u{202e}y".as_bytes()), "x\\u{202e}y");
/// assert_eq!(escape_text(b"\xff\x00"), "\\xff\\x00");
/// assert_eq!(escape_text(b"a\tb"), "a\\tb");
/// ```
pub fn escape_text(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    escape_into(&mut out, bytes, true);
    out
}

/// `bytes` as text on one line: [`escape_text`] with line feeds escaped too.
pub fn escape_line(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    escape_into(&mut out, bytes, false);
    out
}

/// Writes only the bytes of `only` (all directions when `None`); returns the bytes missing
/// from the output: lost before the capture point, and cut by the snap length. With `escaped`
/// (standard output is a terminal) the bytes are shown as [`escape_text`] shows them, never
/// raw.
///
/// # Errors
/// When writing fails.
pub fn write_raw<W: Write>(
    out: &mut W,
    chunks: &[FollowChunk],
    only: Option<Direction>,
    escaped: bool,
) -> io::Result<(u64, u64)> {
    let (mut lost, mut cut) = (0, 0);
    let wanted = |d: &Direction| only.is_none_or(|o| o == *d);
    for c in chunks {
        match c {
            FollowChunk::Data {
                direction, bytes, ..
            } if wanted(direction) => {
                if escaped {
                    out.write_all(escape_text(bytes).as_bytes())?;
                } else {
                    out.write_all(bytes)?;
                }
            }
            FollowChunk::Gap { direction, len, .. } if wanted(direction) => lost += len,
            FollowChunk::NotCaptured { direction, len, .. } if wanted(direction) => cut += len,
            _ => {}
        }
    }
    Ok((lost, cut))
}

fn name(d: Direction) -> &'static str {
    match d {
        Direction::ClientToServer => "client → server",
        Direction::ServerToClient => "server → client",
    }
}

/// `client (127.0.0.1:35514)`.
fn side(stream: &Stream, sender: Direction) -> String {
    match sender {
        Direction::ClientToServer => {
            format!("client ({}:{})", stream.client.addr, stream.client.port)
        }
        Direction::ServerToClient => {
            format!("server ({}:{})", stream.server.addr, stream.server.port)
        }
    }
}

/// Writes the conversation as text or hex with a header line per segment, and marks for
/// holes and for where each direction ended.
///
/// # Errors
/// When writing fails.
pub fn write_text<W: Write>(
    out: &mut W,
    stream: &Stream,
    chunks: &[FollowChunk],
    sticky: &[sticky::Direction],
    only: Option<Direction>,
    hex: bool,
) -> io::Result<()> {
    writeln!(
        out,
        "stream {}: client {}:{} ↔ server {}:{}",
        stream.id, stream.client.addr, stream.client.port, stream.server.addr, stream.server.port
    )?;
    let wanted = |d: &Direction| only.is_none_or(|o| o == *d);
    let mut rst_shown = None;
    for c in chunks {
        match c {
            FollowChunk::Gap {
                direction,
                offset,
                len,
            } if wanted(direction) => {
                writeln!(
                    out,
                    "━━ {} · {} {} missing at offset {}: never captured (lost before the capture point) ━━",
                    name(*direction),
                    grouped(*len),
                    crate::units::noun(*len, "byte", "bytes"),
                    grouped(*offset)
                )?;
            }
            FollowChunk::NotCaptured {
                direction,
                frame,
                offset,
                len,
            } if wanted(direction) => {
                writeln!(
                    out,
                    "┄┄ frame {frame} · {} · {} more {} on the wire, cut by the capture's snap length (offset {}) ┄┄",
                    name(*direction),
                    grouped(*len),
                    crate::units::noun(*len, "byte was", "bytes were"),
                    grouped(*offset)
                )?;
            }
            FollowChunk::Data {
                direction,
                frame,
                offset,
                bytes,
            } if wanted(direction) => {
                writeln!(
                    out,
                    "── frame {frame} · {} · seq {} · {} ──",
                    name(*direction),
                    offset + 1,
                    crate::units::plural(bytes.len() as u64, "byte", "bytes")
                )?;
                let marks = message_starts(sticky, *direction, *frame, *offset, bytes.len());
                let mut at = 0usize;
                for (pos, message) in marks.iter().chain(std::iter::once(&(bytes.len(), None))) {
                    if let Some(piece) = bytes.get(at..*pos) {
                        write_piece(out, piece, hex)?;
                    }
                    if let Some(m) = message {
                        writeln!(out, "┈┈ message {m} starts ┈┈")?;
                    }
                    at = *pos;
                }
            }
            FollowChunk::End {
                direction,
                frame,
                cause,
                ..
            } if wanted(direction) || *cause == EndCause::Reset => {
                write_end(out, stream, *direction, *frame, *cause, &mut rst_shown)?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// The mark for the end of `direction`; a RST ends both directions but is shown once.
fn write_end<W: Write>(
    out: &mut W,
    stream: &Stream,
    direction: Direction,
    frame: crate::units::FrameNumber,
    cause: EndCause,
    rst_shown: &mut Option<crate::units::FrameNumber>,
) -> io::Result<()> {
    match cause {
        EndCause::Fin => {
            let fin = fin_frame(&stream.close, direction).unwrap_or(frame);
            writeln!(
                out,
                "━━ frame {fin} · FIN from the {}: {} closed, nothing more comes this way ━━",
                side(stream, direction),
                name(direction)
            )
        }
        EndCause::Reset => {
            if *rst_shown == Some(frame) {
                return Ok(());
            }
            *rst_shown = Some(frame);
            match rst_sender(&stream.close, frame) {
                Some(by) => writeln!(
                    out,
                    "━━ frame {frame} · RST from the {}: the connection is reset, both directions end ━━",
                    side(stream, by)
                ),
                None => writeln!(
                    out,
                    "━━ frame {frame} · RST: the connection is reset, both directions end ━━"
                ),
            }
        }
        EndCause::EndOfCapture => writeln!(
            out,
            "━━ {} · the capture ends here, with this direction still open ━━",
            name(direction)
        ),
        EndCause::TimedOut => writeln!(
            out,
            "━━ {} · given up: idle longer than the TCP idle timeout ━━",
            name(direction)
        ),
        EndCause::Evicted => writeln!(
            out,
            "━━ {} · given up: the connection table was full ━━",
            name(direction)
        ),
        EndCause::Replaced => writeln!(
            out,
            "━━ {} · a new connection on the same addresses and ports took over ━━",
            name(direction)
        ),
    }
}

/// Positions inside a segment where a message starts (with its number), from the sticky
/// report.
fn message_starts(
    sticky: &[sticky::Direction],
    direction: Direction,
    frame: crate::capture::FrameNumber,
    offset: u64,
    len: usize,
) -> Vec<(usize, Option<u64>)> {
    let Some(report) = sticky.iter().find(|r| r.direction == direction) else {
        return Vec::new();
    };
    let mut marks = Vec::new();
    for s in report
        .segments
        .iter()
        .filter(|s| s.frame == frame && s.offset >= offset && s.offset < offset + len as u64)
    {
        let mut at = s.offset - offset;
        for p in &s.parts {
            if matches!(p.part, PartKind::Whole | PartKind::Head) {
                marks.push((usize::try_from(at).unwrap_or(len).min(len), Some(p.message)));
            }
            at += p.bytes;
        }
    }
    marks
}

/// A piece of at least this many bytes that is mostly escapes is shown as a hex dump.
const HEX_FALLBACK_MIN: usize = 16;

/// Writes `piece` as escaped text (a mostly binary piece as a hex dump), or as a hex dump when
/// `hex`, ending with a newline (also used by `follow --udp`, one datagram at a time).
///
/// # Errors
/// When writing fails.
pub fn write_piece<W: Write>(out: &mut W, piece: &[u8], hex: bool) -> io::Result<()> {
    if piece.is_empty() {
        return Ok(());
    }
    if hex {
        return out.write_all(hex_dump(piece).as_bytes());
    }
    let mut text = String::with_capacity(piece.len());
    let escapes = escape_into(&mut text, piece, true);
    if piece.len() >= HEX_FALLBACK_MIN && escapes * 2 > piece.len() {
        // Mostly binary: escapes would be longer than a dump and harder to read.
        return out.write_all(hex_dump(piece).as_bytes());
    }
    out.write_all(text.as_bytes())?;
    if !text.ends_with('\n') {
        writeln!(out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_text_stays_text_and_controls_are_escaped() {
        assert_eq!(
            escape_text("今天学了TCP粘包\n".as_bytes()),
            "今天学了TCP粘包\n"
        );
        assert_eq!(escape_text(b"\x00\x07\x7f"), "\\x00\\x07\\x7f");
        assert_eq!(escape_text("\u{85}".as_bytes()), "\\u{85}");
        for c in [
            '\u{202a}', '\u{202e}', '\u{2066}', '\u{2069}', '\u{200e}', '\u{200f}',
        ] {
            let s = c.to_string();
            assert_eq!(
                escape_text(s.as_bytes()),
                format!("\\u{{{:x}}}", u32::from(c))
            );
        }
        // A character cut at the end of a segment, and bytes that are not UTF-8.
        assert_eq!(escape_text(&"你".as_bytes()[..2]), "\\xe4\\xbd");
        assert_eq!(escape_text(b"ok\xc3("), "ok\\xc3(");
        assert_eq!(escape_line(b"a\tb\nc"), "a\\tb\\nc");
    }

    #[test]
    fn a_mostly_binary_piece_is_a_hex_dump() {
        let mut out = Vec::new();
        write_piece(
            &mut out,
            &[0u8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
            false,
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("    0000  00 01 02"), "{text}");
        let mut out = Vec::new();
        write_piece(&mut out, b"\x00\x00\x00\x05hello", false).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\\x00\\x00\\x00\\x05hello\n"
        );
    }
}
