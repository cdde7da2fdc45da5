//! Output of `pcaplab sticky`: per stream and direction the counts, then each data segment with
//! the message parts it carried, and on a terminal a ruler of segment against message
//! boundaries.

use std::io::{self, Write};

use comfy_table::Color;

use super::table::{ChunkedTable, cell};
use super::{Format, Terminal, write_records};
use crate::analysis::sticky::Direction;
use crate::flow::Direction as FlowDirection;
use crate::framing::segments::{PartKind, SegmentParts};

fn arrow(d: FlowDirection) -> &'static str {
    match d {
        FlowDirection::ClientToServer => "client → server",
        FlowDirection::ServerToClient => "server → client",
    }
}

fn part_name(p: PartKind) -> &'static str {
    match p {
        PartKind::Whole => "whole",
        PartKind::Head => "head",
        PartKind::Middle => "middle",
        PartKind::Tail => "tail",
    }
}

/// `msg 3 whole 12 B + msg 4 head 4 B`.
pub fn parts_text(s: &SegmentParts) -> String {
    if s.parts.is_empty() {
        return "(no message)".into();
    }
    s.parts
        .iter()
        .map(|p| format!("msg {} {} {} B", p.message, part_name(p.part), p.bytes))
        .collect::<Vec<_>>()
        .join(" + ")
}

const CSV_HEADER: [&str; 9] = [
    "stream",
    "direction",
    "framing",
    "frame",
    "rel_seq",
    "len",
    "messages_in_segment",
    "coalesced",
    "parts",
];

/// One CSV row per data segment.
struct CsvSegment<'a> {
    report: &'a Direction,
    segment: &'a SegmentParts,
}

impl serde::Serialize for CsvSegment<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.segment.serialize(s)
    }
}

/// Writes the reports in `format`.
///
/// # Errors
/// When writing fails.
pub fn write<W: Write>(
    out: &mut W,
    format: Format,
    term: Terminal,
    reports: &[Direction],
) -> io::Result<()> {
    match format {
        Format::Json | Format::Ndjson => {
            return write_records(out, format, reports, &[], |_| Vec::new(), true);
        }
        Format::Csv => {
            let rows: Vec<CsvSegment<'_>> = reports
                .iter()
                .flat_map(|r| {
                    r.segments.iter().map(move |s| CsvSegment {
                        report: r,
                        segment: s,
                    })
                })
                .collect();
            return write_records(
                out,
                format,
                &rows,
                &CSV_HEADER,
                |c| {
                    vec![
                        c.report.stream.to_string(),
                        format!("{:?}", c.report.direction),
                        c.report.framing.clone(),
                        c.segment.frame.to_string(),
                        c.segment.rel_seq.map(|v| v.to_string()).unwrap_or_default(),
                        c.segment.len.to_string(),
                        c.segment.parts.len().to_string(),
                        c.segment.is_coalesced().to_string(),
                        parts_text(c.segment),
                    ]
                },
                false,
            );
        }
        Format::Table => {}
    }
    let framed: Vec<&Direction> = reports.iter().filter(|r| r.data_segments > 0).collect();
    if framed.is_empty() {
        return writeln!(out, "no TCP payload found");
    }
    let mut summary = ChunkedTable::new(
        out,
        &[
            "Stream",
            "Direction",
            "Framing",
            "Data segs",
            "Messages",
            "Coalesced segs",
            "Split msgs",
        ],
        term,
        true,
    );
    for r in &framed {
        summary.add_row(vec![
            cell(r.stream, None, term),
            cell(arrow(r.direction), None, term),
            cell(&r.framing, None, term),
            cell(r.data_segments, None, term),
            cell(r.messages, None, term),
            cell(
                r.coalesced_segments,
                (r.coalesced_segments > 0).then_some(Color::Yellow),
                term,
            ),
            cell(
                r.split_messages,
                (r.split_messages > 0).then_some(Color::Yellow),
                term,
            ),
        ])?;
    }
    summary.finish()?;
    for r in &framed {
        writeln!(
            out,
            "\nstream {} {} (framing {}): {} data segments, {} messages, {} coalesced, {} split",
            r.stream,
            arrow(r.direction),
            r.framing,
            r.data_segments,
            r.messages,
            r.coalesced_segments,
            r.split_messages
        )?;
        for issue in &r.issues {
            writeln!(
                out,
                "  framing issue at offset {}: {}",
                issue.offset, issue.reason
            )?;
        }
        if term.is_tty {
            for line in ruler(r, usize::from(term.width.unwrap_or(100)).saturating_sub(12)) {
                writeln!(out, "{line}")?;
            }
        }
        let mut table = ChunkedTable::new(
            out,
            &["Frame", "Rel seq", "Len", "Message parts"],
            term,
            true,
        )
        .indent("  ");
        for s in &r.segments {
            let color = s.is_coalesced().then_some(Color::Yellow);
            table.add_row(vec![
                cell(s.frame, None, term),
                cell(
                    s.rel_seq
                        .map_or_else(|| s.offset.to_string(), |v| v.to_string()),
                    None,
                    term,
                ),
                cell(s.len, None, term),
                cell(parts_text(s), color, term),
            ])?;
        }
        table.finish()?;
    }
    Ok(())
}

/// Two aligned lines drawing where segments and messages begin over the direction's bytes:
/// `|` marks a boundary, and a message boundary inside a segment shows the coalescing.
pub fn ruler(r: &Direction, width: usize) -> Vec<String> {
    let total: u64 = r
        .segments
        .iter()
        .map(|s| s.offset + s.len)
        .max()
        .unwrap_or(0);
    if total == 0 || width < 10 {
        return Vec::new();
    }
    let col = |offset: u64| -> usize {
        usize::try_from(offset.saturating_mul(width as u64) / total).unwrap_or(0)
    };
    let mut segs = vec!['─'; width + 1];
    let mut msgs = vec![' '; width + 1];
    for s in &r.segments {
        if let Some(c) = segs.get_mut(col(s.offset)) {
            *c = '│';
        }
        let mut at = s.offset;
        for p in &s.parts {
            if matches!(p.part, PartKind::Whole | PartKind::Head)
                && let Some(c) = msgs.get_mut(col(at))
            {
                *c = '▲';
            }
            at += p.bytes;
        }
    }
    if let Some(c) = segs.last_mut() {
        *c = '│';
    }
    vec![
        format!("  segments  {}", segs.iter().collect::<String>()),
        format!("  messages  {}", msgs.iter().collect::<String>()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::FrameNumber;
    use crate::framing::segments::MessagePart;

    fn part(message: u64, part: PartKind, bytes: u64) -> MessagePart {
        MessagePart {
            message,
            part,
            bytes,
        }
    }

    #[test]
    fn ruler_marks_segment_and_message_starts() {
        // Two 10-byte segments; messages of 5, 10 and 5 bytes: the second message is split.
        let report = Direction {
            stream: 0,
            direction: FlowDirection::ClientToServer,
            framing: "len:1".into(),
            data_segments: 2,
            messages: 3,
            coalesced_segments: 2,
            split_messages: 1,
            issues: Vec::new(),
            segments: vec![
                SegmentParts {
                    frame: FrameNumber(4),
                    offset: 0,
                    rel_seq: Some(1),
                    len: 10,
                    parts: vec![part(0, PartKind::Whole, 5), part(1, PartKind::Head, 5)],
                },
                SegmentParts {
                    frame: FrameNumber(5),
                    offset: 10,
                    rel_seq: Some(11),
                    len: 10,
                    parts: vec![part(1, PartKind::Tail, 5), part(2, PartKind::Whole, 5)],
                },
            ],
        };
        let lines = ruler(&report, 20);
        assert_eq!(lines[0], "  segments  │─────────│─────────│");
        assert_eq!(lines[1], "  messages  ▲    ▲         ▲     ");
        assert_eq!(
            parts_text(&report.segments[0]),
            "msg 0 whole 5 B + msg 1 head 5 B"
        );
    }
}
