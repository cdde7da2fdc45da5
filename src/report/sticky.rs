//! Output of `pcaplab sticky`: per stream and direction each data segment with the message parts
//! it carried (on a terminal with a ruler of segment against message boundaries), then the
//! counts of every direction. Written as reports come, so the listing is never held whole.
//!
//! A direction whose message boundaries are unknown says so — with the framings tried and
//! where each failed, its first bytes as text and hex, and how to fix the program — instead of
//! counting 0 coalesced segments. Long part lists are summarised in the table (JSON has them
//! all), so no line is longer than its own data needs.

use std::io::{self, Write};

use super::follow::escape_line;
use super::table::{Cell, Color, Column, Spec, Step, TableWriter, cell, write_prose};
use super::{Format, JsonArrayWriter, Terminal, write_ndjson};
use crate::analysis::sticky::{Direction, IssueKind, Status};
use crate::flow::Direction as FlowDirection;
use crate::framing::grouped;
use crate::framing::segments::{MessagePart, PartKind, SegmentParts};

fn arrow(d: FlowDirection) -> &'static str {
    match d {
        FlowDirection::ClientToServer => "client → server",
        FlowDirection::ServerToClient => "server → client",
    }
}

fn direction_name(d: FlowDirection) -> &'static str {
    match d {
        FlowDirection::ClientToServer => "client_to_server",
        FlowDirection::ServerToClient => "server_to_client",
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

fn part_text(p: &MessagePart) -> String {
    format!(
        "msg {} {} {} B",
        p.message,
        part_name(p.part),
        grouped(p.bytes)
    )
}

/// Most parts written out in full; a longer list keeps its first and last part and sums up
/// the whole messages between them.
pub const MAX_PARTS_SHOWN: usize = 4;

/// `msg 3 whole 12 B + msg 4 head 4 B` (messages numbered from 1). A segment carrying more
/// than [`MAX_PARTS_SHOWN`] parts is summarised: `msg 3 tail 2 B + msgs 4–997 whole (994
/// messages, 11,928 B) + msg 998 head 4 B`.
pub fn parts_text(s: &SegmentParts) -> String {
    if s.parts.is_empty() {
        return "(no message)".into();
    }
    if s.parts.len() <= MAX_PARTS_SHOWN {
        return full_parts_text(s);
    }
    let (Some(first), Some(last)) = (s.parts.first(), s.parts.last()) else {
        return String::new();
    };
    let middle = s.parts.get(1..s.parts.len() - 1).unwrap_or_default();
    let bytes: u64 = middle.iter().map(|p| p.bytes).sum();
    let (from, to) = (
        middle.first().map_or(0, |p| p.message),
        middle.last().map_or(0, |p| p.message),
    );
    format!(
        "{} + msgs {from}–{to} whole ({} messages, {} B) + {}",
        part_text(first),
        grouped(middle.len() as u64),
        grouped(bytes),
        part_text(last)
    )
}

/// Every part of `s`, however many (CSV).
pub fn full_parts_text(s: &SegmentParts) -> String {
    s.parts
        .iter()
        .map(part_text)
        .collect::<Vec<_>>()
        .join(" + ")
}

/// A count, or `-` when the message boundaries are unknown.
fn count(n: Option<u64>) -> String {
    n.map_or_else(|| "-".to_string(), grouped)
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", grouped(n), if n == 1 { one } else { many })
}

/// One direction's segments: the message parts are cut with `…` on a narrow terminal.
const SEGMENTS: Spec<'static> = Spec {
    name: "sticky segments",
    columns: &[
        Column::number("Frame"),
        Column::number("Rel seq"),
        Column::number("Len"),
        Column::text("Message parts", 16),
    ],
    steps: &[Step::Drop(1)],
};

/// The summary of every direction; a narrow terminal leaves out the framing name, then the
/// data segment count.
const SUMMARY: Spec<'static> = Spec {
    name: "sticky summary",
    columns: &[
        Column::number("Stream"),
        Column::atom("Direction"),
        Column::atom("Framing"),
        Column::number("Data segs"),
        Column::number("Messages"),
        Column::number("Coalesced segs"),
        Column::number("Split msgs"),
    ],
    steps: &[Step::Drop(2), Step::Drop(3)],
};

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

/// The counts of one direction, kept for the summary table.
struct SummaryRow {
    stream: u64,
    direction: FlowDirection,
    framing: String,
    data_segments: u64,
    messages: Option<u64>,
    coalesced_segments: Option<u64>,
    split_messages: Option<u64>,
}

/// Length prefixes shown in the table's list of framings tried (all of them are in JSON).
const SHOWN_TRIES: [&str; 6] = ["http", "line", "len:4", "len:2", "len:1", "len:8"];

/// What to do when no framing fits.
const FIX: [&str; 3] = [
    "fix: mark where each message ends, so the receiver can find it: send a length before each",
    "     message (Python: sock.sendall(struct.pack('!I', len(data)) + data); the receiver reads",
    "     4 bytes, then exactly that many), or end each message with a delimiter such as b'\\n'.",
];

/// Said once under the table.
const RECV_NOTE: &str = "note: TCP segment boundaries are not recv() boundaries: a receiver can read several\n      segments in one recv(), or one segment in several; only the program's framing\n      tells where a message ends.";

/// Writes reports as they come, in `format`: each direction's segments are printed and
/// forgotten, so memory does not grow with the capture. The table form prints each direction
/// that carried data (its status, issues and segments), then the summary table of every
/// direction at the end.
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
                let known = r.status != Status::Unknown;
                let framing = r.framing_label();
                for s in &r.segments {
                    c.write_record([
                        r.stream.to_string(),
                        direction_name(r.direction).to_string(),
                        framing.clone(),
                        s.frame.to_string(),
                        s.rel_seq.map(|v| v.to_string()).unwrap_or_default(),
                        s.len.to_string(),
                        if known {
                            s.parts.len().to_string()
                        } else {
                            String::new()
                        },
                        if known {
                            s.is_coalesced().to_string()
                        } else {
                            String::new()
                        },
                        full_parts_text(s),
                    ])
                    .map_err(super::csv_error)?;
                }
                c.flush()?;
            }
            Format::Table => {
                if r.data_segments > 0 || !r.issues.is_empty() || r.not_captured_bytes > 0 {
                    self.summary.push(SummaryRow {
                        stream: r.stream,
                        direction: r.direction,
                        framing: r.framing_label(),
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

    /// The line that opens a direction's section.
    fn heading(r: &Direction) -> String {
        let segments = plural(r.data_segments, "data segment", "data segments");
        let name = format!("stream {} {}", r.stream, arrow(r.direction));
        let chosen = if r.auto { ", chosen by auto" } else { "" };
        let counts = || {
            format!(
                "{segments}, {}, {}, {}",
                plural(r.messages.unwrap_or(0), "message", "messages"),
                plural(r.coalesced_segments.unwrap_or(0), "coalesced", "coalesced"),
                plural(r.split_messages.unwrap_or(0), "split", "split")
            )
        };
        match r.status {
            Status::Unknown if r.data_segments == 0 && r.not_captured_bytes > 0 => format!(
                "{name}: {} of payload on the wire, none captured (cut by the snap length): message boundaries unknown",
                plural(r.not_captured_bytes, "byte", "bytes")
            ),
            Status::Unknown if r.auto => {
                format!("{name}: message boundaries unknown, no framing fits ({segments})")
            }
            Status::Unknown => format!(
                "{name}: not framed (framing {}), message boundaries unknown ({segments})",
                r.framing
            ),
            Status::Failed => format!(
                "{name} (framing {}{chosen}): FRAMING ERROR; {}",
                r.framing,
                counts()
            ),
            Status::Incomplete => format!(
                "{name} (framing {}{chosen}, capture incomplete): {}",
                r.framing,
                counts()
            ),
            Status::Framed | Status::NoData => {
                format!("{name} (framing {}{chosen}): {}", r.framing, counts())
            }
        }
    }

    /// One direction's section of the table form.
    fn details(&mut self, r: &Direction) -> io::Result<()> {
        let (out, term, header) = (&mut *self.out, self.term, self.header);
        write_prose(out, term, &Self::heading(r))?;
        if r.tunnel {
            write_prose(
                out,
                term,
                "  the connection switched protocols (101 Switching Protocols or an answer to CONNECT): the bytes after it are not HTTP and belong to no message",
            )?;
        }
        for issue in &r.issues {
            let what = match issue.kind {
                IssueKind::Mismatch => "error",
                IssueKind::Capture => "capture problem",
            };
            let line = format!(
                "  {what} at offset {}: {}",
                grouped(issue.offset),
                escape_line(issue.reason.as_bytes())
            );
            write_prose(out, term, &line)?;
        }
        if r.status == Status::Unknown && r.auto && r.data_segments > 0 {
            unknown_details(out, r, term)?;
        }
        if r.data_segments == 0 {
            // Nothing captured to list (the payload was cut by the snap length).
            return writeln!(out);
        }
        if let Some(width) = term.width.filter(|_| r.status != Status::Unknown) {
            // "  segments  " (12 columns) and one column past the last byte.
            for line in ruler(r, usize::from(width).saturating_sub(13)) {
                writeln!(out, "{line}")?;
            }
        }
        let mut table = TableWriter::new(&mut *out, SEGMENTS, term, header).indent("  ");
        for s in &r.segments {
            let color = s.is_coalesced().then_some(Color::Yellow);
            let parts = if r.status == Status::Unknown {
                "-".to_string()
            } else {
                parts_text(s)
            };
            table.add_row(vec![
                Cell::new(s.frame),
                cell(
                    s.rel_seq
                        .map_or_else(|| s.offset.to_string(), |v| v.to_string()),
                    None,
                    term,
                ),
                cell(s.len, None, term),
                cell(parts, color, term),
            ])?;
        }
        let out = table.finish_into("")?;
        if r.unlisted_segments > 0 {
            let line = format!(
                "  … and {} more data segments, counted but not listed (the listing keeps the first {} of a direction)",
                grouped(r.unlisted_segments),
                grouped(crate::analysis::sticky::MAX_LISTED_SEGMENTS as u64)
            );
            write_prose(out, term, &line)?;
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
        let mut summary = TableWriter::new(&mut *self.out, SUMMARY, term, self.header);
        for r in &self.summary {
            let some = |n: Option<u64>| n.is_some_and(|n| n > 0);
            summary.add_row(vec![
                Cell::new(r.stream),
                cell(arrow(r.direction), None, term),
                cell(&r.framing, None, term),
                cell(r.data_segments, None, term),
                cell(count(r.messages), None, term),
                cell(
                    count(r.coalesced_segments),
                    some(r.coalesced_segments).then_some(Color::Yellow),
                    term,
                ),
                cell(
                    count(r.split_messages),
                    some(r.split_messages).then_some(Color::Yellow),
                    term,
                ),
            ])?;
        }
        let out = summary.finish_into("")?;
        writeln!(out)?;
        write_paragraph(out, term, RECV_NOTE.split('\n'))
    }
}

/// Why no framing fits: the framings tried, the first bytes, the fix.
fn unknown_details<W: Write>(out: &mut W, r: &Direction, term: Terminal) -> io::Result<()> {
    if let Some(first) = &r.first_bytes {
        let text = format!("  first bytes as text: {}", escape_line(&first.bytes));
        write_prose(out, term, &text)?;
        write_prose(out, term, &format!("  first bytes in hex:  {}", first.hex))?;
    }
    if !r.tried.is_empty() {
        writeln!(out, "  framings tried:")?;
        let mut others = Vec::new();
        for t in &r.tried {
            if !SHOWN_TRIES.contains(&t.framing.as_str()) {
                others.push(t.framing.as_str());
                continue;
            }
            let line = format!("    {:<6} {}", t.framing, escape_line(t.reason.as_bytes()));
            write_prose(out, term, &line)?;
        }
        if !others.is_empty() {
            let line = format!(
                "    (also tried little-endian and inclusive lengths: {} more, none fits; each: --format json)",
                others.len()
            );
            write_prose(out, term, &line)?;
        }
    }
    write_paragraph(out, term, FIX.iter().map(|l| format!("  {l}")))
}

/// Lines laid out by hand (for a pipe): as they are when they fit the terminal, else joined and
/// wrapped at its width.
fn write_paragraph<W: Write, S: AsRef<str>>(
    out: &mut W,
    term: Terminal,
    lines: impl Iterator<Item = S> + Clone,
) -> io::Result<()> {
    let fits = match (term.wide, term.width) {
        (false, Some(w)) => lines
            .clone()
            .all(|l| unicode_width::UnicodeWidthStr::width(l.as_ref()) <= usize::from(w)),
        _ => true,
    };
    if fits {
        for l in lines {
            writeln!(out, "{}", l.as_ref())?;
        }
        return Ok(());
    }
    let mut joined = String::new();
    for (i, l) in lines.enumerate() {
        let l = l.as_ref();
        if i == 0 {
            joined.push_str(l);
        } else {
            joined.push(' ');
            joined.push_str(l.trim_start());
        }
    }
    write_prose(out, term, &joined)
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

    /// A part of message number `message` (counted from 1).
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
            auto: false,
            status: Status::Framed,
            data_segments: 2,
            messages: Some(3),
            coalesced_segments: Some(2),
            split_messages: Some(1),
            issues: Vec::new(),
            tried: Vec::new(),
            first_bytes: None,
            unlisted_segments: 0,
            not_captured_bytes: 0,
            tunnel: false,
            segments: vec![
                SegmentParts {
                    frame: FrameNumber(4),
                    offset: 0,
                    rel_seq: Some(1),
                    len: 10,
                    parts: vec![part(1, PartKind::Whole, 5), part(2, PartKind::Head, 5)],
                },
                SegmentParts {
                    frame: FrameNumber(5),
                    offset: 10,
                    rel_seq: Some(11),
                    len: 10,
                    parts: vec![part(2, PartKind::Tail, 5), part(3, PartKind::Whole, 5)],
                },
            ],
        };
        let lines = ruler(&report, 20);
        assert_eq!(lines[0], "  segments  │─────────│─────────│");
        assert_eq!(lines[1], "  messages  ▲    ▲         ▲     ");
        assert_eq!(
            parts_text(&report.segments[0]),
            "msg 1 whole 5 B + msg 2 head 5 B"
        );
    }

    #[test]
    fn long_part_lists_are_summarised() {
        // A 1,000-byte segment: the tail of message 1, 98 whole 10-byte messages, the head of
        // message 100.
        let mut parts = vec![part(1, PartKind::Tail, 6)];
        parts.extend((2..=99).map(|m| part(m, PartKind::Whole, 10)));
        parts.push(part(100, PartKind::Head, 14));
        let segment = SegmentParts {
            frame: FrameNumber(7),
            offset: 4,
            rel_seq: Some(5),
            len: 1000,
            parts,
        };
        assert_eq!(
            parts_text(&segment),
            "msg 1 tail 6 B + msgs 2–99 whole (98 messages, 980 B) + msg 100 head 14 B"
        );
        assert!(full_parts_text(&segment).len() > 1500);
        let short = SegmentParts {
            parts: segment.parts[..4].to_vec(),
            ..segment
        };
        assert_eq!(
            parts_text(&short),
            "msg 1 tail 6 B + msg 2 whole 10 B + msg 3 whole 10 B + msg 4 whole 10 B"
        );
    }
}
