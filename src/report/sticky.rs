//! Output of `pcaplab sticky`: per stream and direction each data segment with the message parts
//! it carried (on a terminal with a ruler of segment against message boundaries), then the
//! counts of every direction. Written as reports come, so the listing is never held whole.

use std::io::{self, Write};

use super::table::{ChunkedTable, Color, cell};
use super::{Format, JsonArrayWriter, Terminal, write_ndjson};
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

/// The counts of one framed direction, kept for the summary table.
struct SummaryRow {
    stream: u64,
    direction: FlowDirection,
    framing: String,
    data_segments: u64,
    messages: u64,
    coalesced_segments: u64,
    split_messages: u64,
}

/// Writes reports as they come, in `format`: each direction's segments are printed and
/// forgotten, so memory does not grow with the capture. The table form prints each framed
/// direction's segments, then the summary table of every direction at the end.
pub struct Writer<'o, W: Write> {
    out: &'o mut W,
    format: Format,
    term: Terminal,
    json: Option<JsonArrayWriter<Vec<u8>>>,
    summary: Vec<SummaryRow>,
    started: bool,
    header: bool,
}

impl<'o, W: Write> Writer<'o, W> {
    /// A writer to `out`; nothing is written before the first report (or the end).
    ///
    /// # Errors
    /// None yet; kept fallible for symmetry with the other writers.
    pub fn new(out: &'o mut W, format: Format, term: Terminal) -> io::Result<Self> {
        Ok(Writer {
            out,
            format,
            term,
            json: None,
            summary: Vec::new(),
            started: false,
            header: true,
        })
    }

    /// With `false`, leaves out the header rows of the tables and CSV (`--no-header`).
    pub fn header(mut self, header: bool) -> Self {
        self.header = header;
        self
    }

    /// Writes the start of the output (JSON's `[`, the CSV header) once.
    fn start(&mut self) -> io::Result<()> {
        if std::mem::replace(&mut self.started, true) {
            return Ok(());
        }
        match self.format {
            Format::Json => self.json = Some(JsonArrayWriter::new(Vec::new())?),
            Format::Csv if self.header => {
                let mut c = csv::WriterBuilder::new().from_writer(&mut *self.out);
                c.write_record(CSV_HEADER).map_err(super::csv_error)?;
                c.flush()?;
            }
            Format::Csv => {}
            Format::Ndjson | Format::Table => {}
        }
        Ok(())
    }

    /// Moves what the JSON or CSV writer buffered to the output.
    fn drain(&mut self) -> io::Result<()> {
        if let Some(j) = &mut self.json {
            let buf = j.get_mut();
            self.out.write_all(buf)?;
            buf.clear();
        }
        Ok(())
    }

    /// Writes one direction's report.
    ///
    /// # Errors
    /// When writing fails.
    pub fn push(&mut self, r: &Direction) -> io::Result<()> {
        self.start()?;
        match self.format {
            Format::Json => {
                if let Some(j) = &mut self.json {
                    j.push(r)?;
                }
            }
            Format::Ndjson => write_ndjson(self.out, r)?,
            Format::Csv => {
                let mut c = csv::WriterBuilder::new()
                    .has_headers(false)
                    .from_writer(&mut *self.out);
                {
                    for s in &r.segments {
                        c.write_record([
                            r.stream.to_string(),
                            format!("{:?}", r.direction),
                            r.framing.clone(),
                            s.frame.to_string(),
                            s.rel_seq.map(|v| v.to_string()).unwrap_or_default(),
                            s.len.to_string(),
                            s.parts.len().to_string(),
                            s.is_coalesced().to_string(),
                            parts_text(s),
                        ])
                        .map_err(super::csv_error)?;
                    }
                }
                c.flush()?;
            }
            Format::Table => {
                if r.data_segments > 0 {
                    self.summary.push(SummaryRow {
                        stream: r.stream,
                        direction: r.direction,
                        framing: r.framing.clone(),
                        data_segments: r.data_segments,
                        messages: r.messages,
                        coalesced_segments: r.coalesced_segments,
                        split_messages: r.split_messages,
                    });
                    self.details(r)?;
                }
            }
        }
        self.drain()
    }

    /// One framed direction's section of the table form.
    fn details(&mut self, r: &Direction) -> io::Result<()> {
        let (out, term, header) = (&mut *self.out, self.term, self.header);
        writeln!(
            out,
            "stream {} {} (framing {}): {} data segments, {} messages, {} coalesced, {} split",
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
            header,
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
        if r.unlisted_segments > 0 {
            writeln!(
                out,
                "  … and {} more data segments, counted but not listed (the listing keeps the first {} of a direction)",
                r.unlisted_segments,
                crate::analysis::sticky::MAX_LISTED_SEGMENTS
            )?;
        }
        writeln!(out)
    }

    /// Ends the output: closes the JSON array; for the table form, prints the summary table.
    ///
    /// # Errors
    /// When writing fails.
    pub fn finish(mut self) -> io::Result<()> {
        self.start()?;
        if let Some(j) = self.json.take() {
            let buf = j.finish()?;
            self.out.write_all(&buf)?;
        }
        self.drain()?;
        if self.format != Format::Table {
            return Ok(());
        }
        let term = self.term;
        if self.summary.is_empty() {
            return writeln!(self.out, "no TCP payload found");
        }
        let mut summary = ChunkedTable::new(
            self.out,
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
            self.header,
        );
        for r in &self.summary {
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
        summary.finish()
    }
}

/// Writes the reports in `format` (see [`Writer`]).
///
/// # Errors
/// When writing fails.
pub fn write<W: Write>(
    out: &mut W,
    format: Format,
    term: Terminal,
    reports: &[Direction],
) -> io::Result<()> {
    let mut w = Writer::new(out, format, term)?;
    for r in reports {
        w.push(r)?;
    }
    w.finish()
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
            unlisted_segments: 0,
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
