//! Output of `pcaplab packets`: rows streamed in the chosen format as packets are decoded.
//!
//! The table is a streaming table ([`TableWriter::streaming`]): its column widths are fixed at
//! the first row (the frame number's digits from [`Hints::max_number`], the time format's width,
//! an IPv4 address and port for the endpoints), so every row aligns with the first, from a file
//! or from live standard input alike. On a narrow terminal it leaves out, in this order, the
//! layer chain, the length, the time, and then the ports of the endpoints (the Info of a TCP or
//! UDP packet still shows them); Info is cut with `…` to keep each row on one line.

use std::io::{self, Write};
use std::time::Duration;

use super::table::{Cell, Color, Column, Spec, Step, TableWriter};
use super::time::{Clock, TimeFormat, write_fraction};
use super::{Format, JsonArrayWriter, Terminal, write_ndjson};
use crate::decode::Packet;
use crate::view::text::{self, push_u64};
use crate::view::{Columns, PacketRow};

/// Column names of the table and CSV forms.
pub const CSV_HEADER: [&str; 13] = [
    "number",
    "time",
    "rel_time",
    "src",
    "dst",
    "src_port",
    "dst_port",
    "protocol",
    "length",
    "captured_length",
    "layers",
    "info",
    "malformed",
];

/// The table's columns (widths reserved for a frame number, a relative time and an IPv4
/// address with its port; the number and time reserves are set per run).
const TABLE_COLUMNS: [Column<'static>; 8] = [
    Column::number("No."),
    Column::number("Time"),
    Column::atom("Source").reserve(21, 15),
    Column::atom("Destination").reserve(21, 15),
    Column::atom("Protocol"),
    Column::number("Length").reserve(5, 5),
    Column::atom("Layers"),
    Column::text("Info", 24),
];

/// What a narrow terminal gives up first: the layer chain, the length, the time, then the ports.
const TABLE_SPEC: Spec<'static> = Spec {
    name: "packets",
    columns: &TABLE_COLUMNS,
    steps: &[
        Step::Drop(6),
        Step::Drop(5),
        Step::Drop(1),
        Step::Short(
            &[2, 3],
            "Source and Destination without their ports (the Info of plain TCP and UDP packets shows them; a TFTP or HTTP line does not)",
        ),
    ],
};

/// What the writer can know before the first packet.
#[derive(Debug, Clone, Copy)]
pub struct Hints {
    /// The largest frame number the input can hold (from its size), for the width of `No.`;
    /// `None` for live input (7 digits are kept).
    pub max_number: Option<u64>,
    /// How the table shows times.
    pub time_format: TimeFormat,
}

impl Default for Hints {
    fn default() -> Self {
        Hints {
            max_number: None,
            time_format: TimeFormat::Relative,
        }
    }
}

/// Streams packet rows to `out` in one format.
pub struct PacketWriter<W: Write> {
    format: Format,
    term: Terminal,
    json: Option<JsonArrayWriter<W>>,
    out: Option<W>,
    csv: Option<csv::Writer<W>>,
    table: Option<TableWriter<'static, W>>,
    hints: Hints,
    clock: Clock,
    /// Reused for number fields and for one serialized JSON line.
    scratch: String,
    line: Vec<u8>,
}

impl<W: Write> PacketWriter<W> {
    /// A writer for `format`, with a header row (table and CSV) when `header`.
    ///
    /// # Errors
    /// When writing the start of the output fails.
    pub fn new(
        out: W,
        format: Format,
        term: Terminal,
        header: bool,
        hints: Hints,
    ) -> io::Result<Self> {
        let mut w = PacketWriter {
            format,
            term,
            json: None,
            out: None,
            csv: None,
            table: None,
            hints,
            clock: Clock::new(hints.time_format),
            scratch: String::new(),
            line: Vec::new(),
        };
        match format {
            Format::Json => w.json = Some(JsonArrayWriter::new(out)?),
            Format::Csv => {
                let mut c = csv::WriterBuilder::new().from_writer(out);
                if header {
                    c.write_record(CSV_HEADER).map_err(super::csv_error)?;
                }
                w.csv = Some(c);
            }
            Format::Table => {
                let mut t = TableWriter::new(out, TABLE_SPEC, term, header).streaming();
                let digits = hints
                    .max_number
                    .map_or(7, |n| n.max(1).ilog10() as usize + 1);
                t.set_reserve(0, digits.max(3));
                w.table = Some(t);
            }
            Format::Ndjson => w.out = Some(out),
        }
        Ok(w)
    }

    /// Writes one row in a JSON form (the other forms take [`push_columns`](Self::push_columns)).
    ///
    /// # Errors
    /// When writing fails (a closed pipe included).
    pub fn push(&mut self, row: PacketRow, live: bool) -> io::Result<()> {
        match self.format {
            Format::Json => {
                if let Some(j) = &mut self.json {
                    j.push(&row)?;
                }
            }
            Format::Ndjson => {
                if let Some(o) = &mut self.out {
                    // One write per line: serde_json's many small writes go to a Vec.
                    self.line.clear();
                    write_ndjson(&mut self.line, &row)?;
                    o.write_all(&self.line)?;
                    if live {
                        o.flush()?;
                    }
                }
            }
            Format::Csv => {
                if let Some(c) = &mut self.csv {
                    c.write_record(csv_fields(&row)).map_err(super::csv_error)?;
                    if live {
                        c.flush()?;
                    }
                }
            }
            Format::Table => {
                if let Some(t) = &mut self.table {
                    let text = RowText {
                        number: row.number,
                        time: format!("{:.6}", row.rel_time),
                        src: (&row.src, row.src_port),
                        dst: (&row.dst, row.dst_port),
                        protocol: &row.protocol,
                        length: row.length,
                        layers: &row.layer_chain,
                        info: &row.info,
                        malformed: row.malformed.is_some(),
                    };
                    t.add_row(text.cells(self.term))?;
                }
            }
        }
        Ok(())
    }

    /// A packet that is not shown (a display filter left it out): the delta time (`-t d`)
    /// still counts from it.
    pub fn skip(&mut self, packet: &Packet<'_>) {
        self.clock.skip(packet.frame.timestamp);
    }

    /// Writes the table or CSV row of one packet from its `columns` (`first`: the capture's
    /// first time); CSV is written straight from them, with nothing allocated per packet. JSON
    /// forms need [`push`](Self::push) with the layers.
    ///
    /// # Errors
    /// When writing fails (a closed pipe included).
    pub fn push_columns(
        &mut self,
        columns: &Columns,
        packet: &Packet<'_>,
        first: Duration,
        live: bool,
    ) -> io::Result<()> {
        self.clock.set_first(first);
        let frame = &packet.frame;
        let digits = frame.ts_resolution.fraction_digits();
        if let Some(t) = &mut self.table {
            if t.rows() == 0 {
                t.set_reserve(1, self.hints.time_format.typical_width(digits));
            }
            let text = RowText {
                number: columns.number,
                time: self.clock.text(frame.timestamp, digits),
                src: (&columns.src, columns.src_port),
                dst: (&columns.dst, columns.dst_port),
                protocol: columns.protocol,
                length: columns.length,
                layers: &columns.layer_chain,
                info: &columns.info,
                malformed: !columns.malformed.is_empty(),
            };
            t.add_row(text.cells(self.term))?;
            if live {
                t.flush()?;
            }
            return Ok(());
        }
        let Some(c) = &mut self.csv else {
            return self.push(columns.to_row(packet), live);
        };
        self.clock.skip(frame.timestamp);
        let s = &mut self.scratch;
        let e = super::csv_error;
        number_field(c, s, Some(columns.number))?;
        s.clear();
        push_u64(s, frame.timestamp.as_secs());
        write_fraction(s, frame.timestamp.subsec_nanos(), digits);
        c.write_field(s.as_bytes()).map_err(e)?;
        s.clear();
        match frame.timestamp.checked_sub(first) {
            Some(d) => {
                push_u64(s, d.as_secs());
                write_fraction(s, d.subsec_nanos(), digits);
            }
            None => {
                let d = first.saturating_sub(frame.timestamp);
                s.push('-');
                push_u64(s, d.as_secs());
                write_fraction(s, d.subsec_nanos(), digits);
            }
        }
        c.write_field(s.as_bytes()).map_err(e)?;
        c.write_field(&columns.src).map_err(e)?;
        c.write_field(&columns.dst).map_err(e)?;
        number_field(c, s, columns.src_port.map(u64::from))?;
        number_field(c, s, columns.dst_port.map(u64::from))?;
        c.write_field(columns.protocol).map_err(e)?;
        number_field(c, s, Some(u64::from(columns.length)))?;
        number_field(c, s, Some(columns.captured_length as u64))?;
        c.write_field(&columns.layer_chain).map_err(e)?;
        escaped_field(c, s, &columns.info)?;
        escaped_field(c, s, &columns.malformed)?;
        c.write_record(None::<&[u8]>).map_err(e)?;
        if live {
            c.flush()?;
        }
        Ok(())
    }

    /// Ends the output (closes the JSON array, flushes the last rows).
    ///
    /// # Errors
    /// When writing fails.
    pub fn finish(mut self) -> io::Result<()> {
        if let Some(t) = self.table.take() {
            let mut out = t.into_inner()?;
            out.flush()?;
        }
        if let Some(j) = self.json.take() {
            j.finish()?;
        }
        if let Some(mut c) = self.csv.take() {
            c.flush()?;
        }
        if let Some(mut o) = self.out.take() {
            o.flush()?;
        }
        Ok(())
    }
}

/// The text of one table row.
struct RowText<'a> {
    number: u64,
    time: String,
    src: (&'a str, Option<u16>),
    dst: (&'a str, Option<u16>),
    protocol: &'a str,
    length: u32,
    layers: &'a str,
    info: &'a str,
    malformed: bool,
}

impl RowText<'_> {
    /// The cells, coloured by protocol (red when malformed) when colours are allowed.
    fn cells(&self, term: Terminal) -> Vec<Cell> {
        let color = match self.protocol {
            _ if self.malformed => Some(Color::Red),
            "TCP" => Some(Color::Cyan),
            "UDP" => Some(Color::Blue),
            "TFTP" => Some(Color::Green),
            "HTTP" => Some(Color::Magenta),
            "ARP" => Some(Color::Yellow),
            _ => None,
        }
        .filter(|_| term.color);
        let colored = |c: Cell, col: Option<Color>| match col {
            Some(col) => c.fg(col),
            None => c,
        };
        vec![
            Cell::new(self.number),
            Cell::new(&self.time),
            Cell::new(endpoint(self.src.0, self.src.1)).short(self.src.0),
            Cell::new(endpoint(self.dst.0, self.dst.1)).short(self.dst.0),
            colored(Cell::new(self.protocol), color),
            Cell::new(self.length),
            Cell::new(self.layers),
            colored(Cell::new(self.info), color.filter(|_| self.malformed)),
        ]
    }
}

/// A text field escaped for the terminal (through the scratch string only when it must be).
fn escaped_field<W: Write>(c: &mut csv::Writer<W>, s: &mut String, value: &str) -> io::Result<()> {
    if !text::needs_escape(value) {
        return c.write_field(value).map_err(super::csv_error);
    }
    s.clear();
    text::push_escaped(s, value);
    c.write_field(s.as_bytes()).map_err(super::csv_error)
}

fn endpoint(addr: &str, port: Option<u16>) -> String {
    match port {
        Some(p) if addr.contains(':') => format!("[{addr}]:{p}"),
        Some(p) => format!("{addr}:{p}"),
        None => addr.to_string(),
    }
}

/// Writes a number field (empty for `None`) through the scratch string `s`.
fn number_field<W: Write>(
    c: &mut csv::Writer<W>,
    s: &mut String,
    n: Option<u64>,
) -> io::Result<()> {
    s.clear();
    if let Some(n) = n {
        push_u64(s, n);
    }
    c.write_field(s.as_bytes()).map_err(super::csv_error)
}

/// The CSV fields of a row, in `CSV_HEADER` order.
pub fn csv_fields(row: &PacketRow) -> Vec<String> {
    vec![
        row.number.to_string(),
        format!("{:.9}", row.time),
        format!("{:.9}", row.rel_time),
        row.src.clone(),
        row.dst.clone(),
        row.src_port.map(|p| p.to_string()).unwrap_or_default(),
        row.dst_port.map(|p| p.to_string()).unwrap_or_default(),
        row.protocol.clone(),
        row.length.to_string(),
        row.captured_length.to_string(),
        row.layer_chain.clone(),
        text::escape(&row.info).into_owned(),
        text::escape(row.malformed.as_deref().unwrap_or_default()).into_owned(),
    ]
}
