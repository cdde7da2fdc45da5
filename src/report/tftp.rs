//! Output of `pcaplab tftp`: one row per transfer, then, under the table, what each transfer's
//! findings, repeats, ICMP errors and extracted file are.
//!
//! JSON, NDJSON and CSV stream one transfer at a time ([`Writer`]); the table is laid out a
//! chunk of rows at a time and the details of a chunk follow it, so memory stays flat whatever
//! the number of transfers. Strings from the capture (file names, modes, options, error
//! messages) are kept as sent in the transfer, so JSON holds the original; the table, the lines
//! under it and CSV escape them here ([`crate::view::text`]: control, bidi and other invisible
//! format characters shown as escapes), so they reach the terminal inert.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::table::{CHUNK_ROWS, Cell, Color, Column, Spec, Step, TableWriter, cell, write_prose};
use super::{Format, JsonArrayWriter, Terminal, write_ndjson};
use crate::app::tftp::{Repeat, Transfer, TransferDirection, Warning};
use crate::view::text;

const HEADER: [&str; 21] = [
    "index",
    "client",
    "server",
    "direction",
    "file",
    "mode",
    "block_size",
    "blocks",
    "bytes",
    "complete",
    "clean_end",
    "end",
    "error",
    "retransmitted_blocks",
    "duplicate_acks",
    "missing_blocks",
    "duration_secs",
    "throughput_bytes_per_sec",
    "sha256",
    "decoded_sha256",
    "warnings",
];

const TABLE_COLUMNS: [Column<'static>; 16] = [
    Column::number("#"),
    Column::atom("Client"),
    Column::atom("Server"),
    Column::atom("Dir"),
    Column::text("File", 8),
    Column::atom("Mode"),
    Column::number("Blksize"),
    Column::number("Blocks"),
    Column::number("Bytes"),
    Column::atom("Data"),
    Column::atom("Clean end"),
    Column::number("Retrans"),
    Column::number("Dup ACK"),
    Column::number("Missing"),
    Column::number("Time s"),
    Column::atom("SHA-256"),
];

/// The transfers table; the file name is cut with `…` first, then a narrow terminal leaves
/// out, in this order: the SHA-256 prefix, the mode, the duration, the block size, the block
/// count, the duplicate ACKs, the direction, the retransmissions, the clean end (the lines
/// under the table say what was not clean).
const TABLE_SPEC: Spec<'static> = Spec {
    name: "tftp",
    columns: &TABLE_COLUMNS,
    steps: &[
        Step::Drop(15),
        Step::Drop(5),
        Step::Drop(14),
        Step::Drop(6),
        Step::Drop(7),
        Step::Drop(12),
        Step::Drop(3),
        Step::Drop(11),
        Step::Drop(10),
    ],
};

fn direction(t: &Transfer) -> &'static str {
    match t.direction {
        TransferDirection::Read => "read",
        TransferDirection::Write => "write",
    }
}

fn error_text(t: &Transfer) -> String {
    t.error
        .as_ref()
        .map(|e| format!("{} {}: {}", e.code, e.meaning, e.message))
        .unwrap_or_default()
}

/// `[client, RFC 1350 §6] message`, the form of a finding in CSV.
fn warning_text(w: &Warning) -> String {
    let mut s = String::new();
    let by = w.by.map_or("", |r| r.name());
    match (by.is_empty(), w.rfc) {
        (false, Some(rfc)) => {
            let _ = write!(s, "[{by}, {rfc}] ");
        }
        (false, None) => {
            let _ = write!(s, "[{by}] ");
        }
        (true, Some(rfc)) => {
            let _ = write!(s, "[{rfc}] ");
        }
        (true, None) => {}
    }
    s.push_str(&w.message);
    if !w.frames.is_empty() {
        let _ = write!(
            s,
            " ({} {})",
            crate::units::noun(w.frames.len() as u64, "frame", "frames"),
            frame_list(&w.frames)
        );
    }
    s
}

fn frame_list(frames: &[crate::units::FrameNumber]) -> String {
    frames
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn csv_row(t: &Transfer) -> Vec<String> {
    let mut row = vec![
        t.index.to_string(),
        t.client.to_string(),
        t.server.to_string(),
        direction(t).to_string(),
        t.file.clone(),
        t.mode.clone(),
        t.block_size.to_string(),
        t.blocks.to_string(),
        t.bytes.to_string(),
        t.complete.to_string(),
        t.clean_end.to_string(),
        t.end.name().to_string(),
        error_text(t),
        t.retransmitted_blocks.to_string(),
        t.duplicate_acks.to_string(),
        t.missing_blocks.to_string(),
        format!("{:.6}", t.duration_secs),
        t.throughput_bytes_per_sec
            .map(|v| format!("{v:.0}"))
            .unwrap_or_default(),
        t.sha256.clone().unwrap_or_default(),
        t.decoded.map(|d| d.sha256_hex()).unwrap_or_default(),
        t.warnings
            .iter()
            .map(warning_text)
            .collect::<Vec<_>>()
            .join("; "),
    ];
    // Text from the capture (file, mode, error message) is escaped for a terminal.
    for field in &mut row {
        if text::needs_escape(field) {
            *field = text::escape(field).into_owned();
        }
    }
    row
}

/// `block 4 (frames 8, 9)` for each repeat.
fn repeats(list: &[Repeat]) -> String {
    list.iter()
        .map(|r| {
            format!(
                "{} ({} {})",
                r.block,
                crate::units::noun(r.frames.len() as u64, "frame", "frames"),
                frame_list(&r.frames)
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The lines under the table about one transfer.
fn details(out: &mut Vec<String>, t: &Transfer) {
    let i = t.index;
    if let Some(orig) = t.duplicate_of {
        out.push(format!(
            "transfer {i}: a second answer to the request of transfer {orig} (frame {})",
            t.request_frame
        ));
    }
    if let Some(e) = &t.error {
        out.push(format!(
            "transfer {i}: ERROR {} ({}) from the {} (frame {}): {}",
            e.code, e.meaning, e.from, e.frame, e.message
        ));
    }
    if t.complete && !t.clean_end {
        out.push(format!(
            "transfer {i}: all data arrived, but the ending was not clean (see below)"
        ));
    }
    if let (Some(d), Some(wire)) = (&t.decoded, &t.sha256) {
        out.push(format!(
            "transfer {i}: netascii: {} bytes on the wire (sha256 {wire}), {} bytes as a local \
             file after decoding (sha256 {})",
            t.bytes,
            d.size,
            d.sha256_hex()
        ));
    }
    if !t.resent.is_empty() {
        out.push(format!(
            "transfer {i}: DATA sent more than once: {}",
            repeats(&t.resent)
        ));
    }
    if !t.repeated_acks.is_empty() {
        out.push(format!(
            "transfer {i}: ACKs sent more than once: {}",
            repeats(&t.repeated_acks)
        ));
    }
    for l in &t.icmp {
        out.push(format!(
            "transfer {i}: frame {}: ICMP {}{} for the {}'s {}",
            l.frame,
            l.kind,
            l.code.map(|c| format!(" ({c})")).unwrap_or_default(),
            l.quoted_from,
            l.quoted.as_deref().unwrap_or("datagram")
        ));
    }
    for w in &t.warnings {
        let mut head = String::from("warning");
        if let Some(by) = w.by {
            let _ = write!(head, " about the {by}");
        }
        if !w.frames.is_empty() {
            let word = if w.frames.len() == 1 {
                "frame"
            } else {
                "frames"
            };
            let _ = write!(head, " ({word} {})", frame_list(&w.frames));
        }
        match w.rfc {
            Some(rfc) => out.push(format!("transfer {i}: {head}: {} [{rfc}]", w.message)),
            None => out.push(format!("transfer {i}: {head}: {}", w.message)),
        }
    }
    if let Some(x) = &t.extracted {
        out.push(format!(
            "transfer {i}: extracted {} ({}, sha256 {}){}",
            x.path,
            crate::units::plural(x.size, "byte", "bytes"),
            x.sha256,
            if x.complete {
                ""
            } else {
                ", incomplete: kept as .part"
            }
        ));
    }
}

enum Sink<'o, W: Write> {
    Json(JsonArrayWriter<&'o mut W>),
    Ndjson(&'o mut W),
    Csv(Box<csv::Writer<&'o mut W>>),
    /// The table (its widths from the first chunk), and the lines under the chunk being filled.
    Table {
        table: Box<TableWriter<'o, &'o mut W>>,
        lines: Vec<String>,
    },
}

/// Writes transfers as they come (see the module docs).
pub struct Writer<'o, W: Write> {
    sink: Sink<'o, W>,
    term: Terminal,
    count: u64,
}

impl<'o, W: Write> Writer<'o, W> {
    /// A writer to `out` in `format`, with a header row (table and CSV) when `header`.
    ///
    /// # Errors
    /// When writing the start (`[`, the CSV header) fails.
    pub fn new(out: &'o mut W, format: Format, term: Terminal, header: bool) -> io::Result<Self> {
        let sink = match format {
            Format::Json => Sink::Json(JsonArrayWriter::new(out)?),
            Format::Ndjson => Sink::Ndjson(out),
            Format::Csv => {
                let mut w = csv::WriterBuilder::new().from_writer(out);
                if header {
                    w.write_record(HEADER).map_err(super::csv_error)?;
                }
                Sink::Csv(Box::new(w))
            }
            Format::Table => Sink::Table {
                table: Box::new(TableWriter::new(out, TABLE_SPEC, term, header)),
                lines: Vec::new(),
            },
        };
        Ok(Writer {
            sink,
            term,
            count: 0,
        })
    }

    /// Writes one transfer.
    ///
    /// # Errors
    /// When writing fails.
    pub fn push(&mut self, t: Transfer) -> io::Result<()> {
        self.count += 1;
        match &mut self.sink {
            Sink::Json(w) => w.push(&t),
            Sink::Ndjson(w) => write_ndjson(w, &t),
            Sink::Csv(w) => w.write_record(csv_row(&t)).map_err(super::csv_error),
            Sink::Table { table, lines } => {
                table.add_row(table_row(&t, self.term))?;
                details(lines, &t);
                if table.rows().is_multiple_of(CHUNK_ROWS as u64) {
                    self.flush_lines()?;
                }
                Ok(())
            }
        }
    }

    /// Writes the lines under the chunk just written (its rows are out once the table chose
    /// its widths, at the first chunk's end).
    fn flush_lines(&mut self) -> io::Result<()> {
        let term = self.term;
        let Sink::Table { table, lines } = &mut self.sink else {
            return Ok(());
        };
        let out = table.get_mut();
        for line in lines.drain(..) {
            write_prose(*out, term, &text::escape(&line))?;
        }
        Ok(())
    }

    /// Ends the output (closes the JSON array; the table's last chunk, or "no TFTP transfers
    /// found").
    ///
    /// # Errors
    /// When writing fails.
    pub fn finish(self) -> io::Result<()> {
        match self.sink {
            Sink::Json(w) => w.finish().map(|_| ()),
            Sink::Ndjson(w) => w.flush(),
            Sink::Csv(mut w) => w.flush(),
            Sink::Table { table, lines } => {
                let out = table.finish_into("no TFTP transfers found")?;
                for line in lines {
                    write_prose(out, self.term, &text::escape(&line))?;
                }
                out.flush()
            }
        }
    }
}

fn table_row(t: &Transfer, term: Terminal) -> Vec<Cell> {
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    let data_color = Some(if t.complete { Color::Green } else { Color::Red });
    let clean_color = Some(if t.clean_end {
        Color::Green
    } else {
        Color::Yellow
    });
    let sha = match (&t.sha256, &t.decoded) {
        (Some(h), Some(_)) => format!("{} (wire)", h.get(..16).unwrap_or(h)),
        (Some(h), None) => h.get(..16).unwrap_or(h).to_string(),
        (None, _) => "-".to_string(),
    };
    vec![
        Cell::new(t.index),
        cell(t.client, None, term),
        cell(t.server, None, term),
        cell(direction(t), None, term),
        cell(&t.file, None, term),
        cell(&t.mode, None, term),
        cell(t.block_size, None, term),
        cell(t.blocks, None, term),
        cell(t.bytes, None, term),
        cell(
            if t.complete { "complete" } else { "incomplete" },
            data_color,
            term,
        ),
        cell(yes_no(t.clean_end), clean_color, term),
        cell(t.retransmitted_blocks, None, term),
        cell(t.duplicate_acks, None, term),
        cell(t.missing_blocks, None, term),
        cell(format!("{:.3}", t.duration_secs), None, term),
        cell(sha, None, term),
    ]
}

/// Writes a list of transfers in `format` (see [`Writer`]).
///
/// # Errors
/// When writing fails.
pub fn write<W: Write>(
    out: &mut W,
    format: Format,
    term: Terminal,
    transfers: &[Transfer],
    header: bool,
) -> io::Result<()> {
    let mut w = Writer::new(out, format, term, header)?;
    for t in transfers {
        w.push(t.clone())?;
    }
    w.finish()
}
