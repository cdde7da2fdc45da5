//! Output of `pcaplab streams`: one row per TCP stream.

use std::io::{self, Write};

use super::table::{Cell, Color, Column, Spec, Step, TableWriter, cell, write_prose};
use super::{Format, JsonArrayWriter, Terminal, write_ndjson};
use crate::analysis::streams::StreamRow;
use crate::flow::tcp::{HandshakeState, StreamEnd};

const HEADER: [&str; 17] = [
    "stream",
    "client",
    "server",
    "handshake",
    "close",
    "end",
    "packets",
    "bytes_client_to_server",
    "bytes_server_to_client",
    "duration",
    "retransmissions",
    "out_of_order",
    "gap_bytes",
    "framing",
    "coalesced_segments",
    "split_messages",
    "frames",
];

/// The handshake state as the stream table shows it (`complete`, `syn_only`, ...).
pub(crate) fn handshake_name(h: HandshakeState) -> &'static str {
    match h {
        HandshakeState::Complete => "complete",
        HandshakeState::SynOnly => "syn_only",
        HandshakeState::NoSynAck => "no_syn_ack",
        HandshakeState::NoAck => "no_ack",
        HandshakeState::NotSeen => "not_seen",
    }
}

/// Why a stream's row is final, as in CSV and JSON (`closed`, `timed_out`, `evicted`, ...).
pub(crate) fn end_name(e: StreamEnd) -> &'static str {
    match e {
        StreamEnd::Active => "active",
        StreamEnd::Closed => "closed",
        StreamEnd::Reset => "reset",
        StreamEnd::TimedOut => "timed_out",
        StreamEnd::Evicted => "evicted",
        StreamEnd::Replaced => "replaced",
        StreamEnd::EndOfCapture => "end_of_capture",
    }
}

/// The close as the table shows it: the close state, and why the stream was given up when it
/// was (`open (timed out)`).
fn close_text(r: &StreamRow) -> String {
    match r.end {
        StreamEnd::TimedOut => format!("{} (timed out)", r.close),
        StreamEnd::Evicted => format!("{} (evicted)", r.close),
        StreamEnd::Replaced => format!("{} (replaced)", r.close),
        _ => r.close.clone(),
    }
}

fn csv_row(r: &StreamRow) -> Vec<String> {
    vec![
        r.stream.to_string(),
        r.client.to_string(),
        r.server.to_string(),
        handshake_name(r.handshake).to_string(),
        r.close.clone(),
        end_name(r.end).to_string(),
        r.packets.to_string(),
        r.bytes_client_to_server.to_string(),
        r.bytes_server_to_client.to_string(),
        format!("{:.6}", r.duration),
        r.retransmissions.to_string(),
        r.out_of_order.to_string(),
        r.gap_bytes.to_string(),
        r.framing.clone(),
        r.coalesced_segments
            .map(|n| n.to_string())
            .unwrap_or_default(),
        r.split_messages.map(|n| n.to_string()).unwrap_or_default(),
        format!("{}-{}", r.frames.0, r.frames.1),
    ]
}

const TABLE_COLUMNS: [Column<'static>; 15] = [
    Column::number("Stream"),
    Column::atom("Client"),
    Column::atom("Server"),
    Column::atom("Handshake"),
    Column::atom("Close"),
    Column::number("Pkts"),
    Column::number("Bytes c→s"),
    Column::number("Bytes s→c"),
    Column::number("Duration s"),
    Column::number("Retrans"),
    Column::number("OOO"),
    Column::number("Gap B"),
    Column::atom("Framing"),
    Column::number("Coalesced"),
    Column::number("Split"),
];

/// The streams table; a narrow terminal leaves out, in this order: the duration, the packet
/// count, the framing name, the out-of-order and gap counts, the byte counts, the
/// retransmissions, and last the sticky counts (split, coalesced).
pub const TABLE_SPEC: Spec<'static> = Spec {
    name: "streams",
    columns: &TABLE_COLUMNS,
    steps: &[
        Step::Drop(8),
        Step::Drop(5),
        Step::Drop(12),
        Step::Drop(10),
        Step::Drop(11),
        Step::Drop(7),
        Step::Drop(6),
        Step::Drop(9),
        Step::Drop(14),
        Step::Drop(13),
    ],
};

enum Sink<'o, W: Write> {
    Json(JsonArrayWriter<&'o mut W>),
    Ndjson(&'o mut W),
    Csv(csv::Writer<&'o mut W>),
    Table(TableWriter<'o, &'o mut W>),
}

/// A count, or `-` when the message boundaries are unknown.
fn count_or_dash(n: Option<u64>) -> String {
    n.map_or_else(|| "-".to_string(), |n| n.to_string())
}

/// Framing issues listed under the table; the others are counted (JSON lists them all).
const MAX_LISTED_ISSUES: usize = 50;

fn arrow(d: crate::units::Direction) -> &'static str {
    match d {
        crate::units::Direction::ClientToServer => "client → server",
        crate::units::Direction::ServerToClient => "server → client",
    }
}

/// Writes rows as they come (JSON, NDJSON and CSV stream; the table is laid out a chunk at a
/// time), so `streams` holds no row it has printed. The table form lists the framing issues
/// under the table, each once with its stream and direction.
pub struct Writer<'o, W: Write> {
    sink: Sink<'o, W>,
    term: Terminal,
    rows: u64,
    issues: Vec<String>,
    more_issues: u64,
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
                Sink::Csv(w)
            }
            Format::Table => Sink::Table(TableWriter::new(out, TABLE_SPEC, term, header)),
        };
        Ok(Writer {
            sink,
            term,
            rows: 0,
            issues: Vec::new(),
            more_issues: 0,
        })
    }

    /// Keeps the table's footnotes for the framing issues of `r`.
    fn note_issues(&mut self, r: &StreamRow) {
        for i in &r.framing_issues {
            if self.issues.len() < MAX_LISTED_ISSUES {
                self.issues.push(format!(
                    "  stream {} {} ({}), offset {}: {}",
                    r.stream,
                    arrow(i.direction),
                    i.framing,
                    crate::framing::grouped(i.offset),
                    i.reason
                ));
            } else {
                self.more_issues += 1;
            }
        }
    }

    /// Writes one row.
    ///
    /// # Errors
    /// When writing fails.
    pub fn push(&mut self, r: &StreamRow) -> io::Result<()> {
        self.rows += 1;
        let term = self.term;
        match &mut self.sink {
            Sink::Json(w) => w.push(r),
            Sink::Ndjson(w) => write_ndjson(w, r),
            Sink::Csv(w) => w.write_record(csv_row(r)).map_err(super::csv_error),
            Sink::Table(table) => {
                let hs_color = (r.handshake != HandshakeState::Complete).then_some(Color::Yellow);
                let close_color = r.close.starts_with("reset").then_some(Color::Red);
                table.add_row(vec![
                    Cell::new(r.stream),
                    Cell::new(r.client),
                    Cell::new(r.server),
                    cell(handshake_name(r.handshake), hs_color, term),
                    cell(close_text(r), close_color, term),
                    cell(r.packets, None, term),
                    cell(r.bytes_client_to_server, None, term),
                    cell(r.bytes_server_to_client, None, term),
                    cell(format!("{:.3}", r.duration), None, term),
                    cell(r.retransmissions, None, term),
                    cell(r.out_of_order, None, term),
                    cell(r.gap_bytes, None, term),
                    cell(&r.framing, None, term),
                    cell(count_or_dash(r.coalesced_segments), None, term),
                    cell(count_or_dash(r.split_messages), None, term),
                ])?;
                self.note_issues(r);
                Ok(())
            }
        }
    }

    /// Ends the output (closes the JSON array; the table's last chunk, or "no TCP streams
    /// found").
    ///
    /// # Errors
    /// When writing fails.
    pub fn finish(self) -> io::Result<()> {
        match self.sink {
            Sink::Json(w) => w.finish().map(|_| ()),
            Sink::Ndjson(w) => w.flush(),
            Sink::Csv(mut w) => w.flush(),
            Sink::Table(table) => {
                let out = table.finish_into("no TCP streams found")?;
                if !self.issues.is_empty() {
                    writeln!(out, "\nframing issues:")?;
                    // Wrapped at the terminal's width, like the lines under the other tables.
                    for line in &self.issues {
                        write_prose(out, self.term, &crate::view::text::escape(line))?;
                    }
                    if self.more_issues > 0 {
                        writeln!(
                            out,
                            "  … and {} more (all of them: --format json)",
                            self.more_issues
                        )?;
                    }
                }
                Ok(())
            }
        }
    }

    /// True when no row was written yet.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }
}

/// Writes the rows in `format` (see [`Writer`]).
///
/// # Errors
/// When writing fails.
pub fn write<W: Write>(
    out: &mut W,
    format: Format,
    term: Terminal,
    rows: &[StreamRow],
    header: bool,
) -> io::Result<()> {
    let mut w = Writer::new(out, format, term, header)?;
    for r in rows {
        w.push(r)?;
    }
    w.finish()
}
