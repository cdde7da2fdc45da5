//! Output of `pcaplab follow`: both directions in capture order with segment boundaries (and
//! message boundaries when framed), or the raw bytes of one direction.

use std::io::{self, Write};

use super::show::hex_dump;
use crate::analysis::follow::FollowChunk;
use crate::analysis::sticky;
use crate::flow::Direction;
use crate::flow::tcp::Stream;
use crate::framing::segments::PartKind;

/// Writes only the bytes of `only` (all directions when `None`); returns the gap bytes skipped.
/// With `escaped` (standard output is a terminal) the bytes are shown as text escaped for it
/// (line breaks and tabs kept), never raw.
///
/// # Errors
/// When writing fails.
pub fn write_raw<W: Write>(
    out: &mut W,
    chunks: &[FollowChunk],
    only: Option<Direction>,
    escaped: bool,
) -> io::Result<u64> {
    let mut gaps = 0;
    let mut text = String::new();
    for c in chunks {
        match c {
            FollowChunk::Data {
                direction, bytes, ..
            } if only.is_none_or(|d| d == *direction) => {
                if escaped {
                    text.clear();
                    for chunk in bytes.utf8_chunks() {
                        crate::view::text::push_escaped_keep_lines(&mut text, chunk.valid());
                        for b in chunk.invalid() {
                            let _ =
                                std::fmt::Write::write_fmt(&mut text, format_args!("\\x{b:02x}"));
                        }
                    }
                    out.write_all(text.as_bytes())?;
                } else {
                    out.write_all(bytes)?;
                }
            }
            FollowChunk::Gap { direction, len, .. } if only.is_none_or(|d| d == *direction) => {
                gaps += len;
            }
            _ => {}
        }
    }
    Ok(gaps)
}

/// Writes the conversation as text or hex with a header line per segment.
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
    let name = |d: Direction| match d {
        Direction::ClientToServer => "client → server",
        Direction::ServerToClient => "server → client",
    };
    for c in chunks {
        match c {
            FollowChunk::Gap {
                direction,
                offset,
                len,
            } if only.is_none_or(|d| d == *direction) => {
                writeln!(
                    out,
                    "━━ {} · {len} bytes never captured at offset {offset} ━━",
                    name(*direction)
                )?;
            }
            FollowChunk::Data {
                direction,
                frame,
                offset,
                bytes,
            } if only.is_none_or(|d| d == *direction) => {
                writeln!(
                    out,
                    "── frame {frame} · {} · seq {} · {} bytes ──",
                    name(*direction),
                    offset + 1,
                    bytes.len()
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
            _ => {}
        }
    }
    Ok(())
}

/// Positions inside a segment where a message starts, from the sticky report.
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

fn write_piece<W: Write>(out: &mut W, piece: &[u8], hex: bool) -> io::Result<()> {
    if piece.is_empty() {
        return Ok(());
    }
    if hex {
        return out.write_all(hex_dump(piece).as_bytes());
    }
    let text: String = piece
        .iter()
        .map(|b| match b {
            b'\n' | b'\t' => char::from(*b),
            b'\r' => '␍',
            0x20..=0x7e => char::from(*b),
            _ => '.',
        })
        .collect();
    out.write_all(text.as_bytes())?;
    if !text.ends_with('\n') {
        writeln!(out)?;
    }
    Ok(())
}
