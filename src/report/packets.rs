//! Output of `pcaplab packets`: rows streamed in the chosen format as packets are decoded.

use std::io::{self, Write};

use comfy_table::Color;

use super::table::{cell, new_table};
use super::{Format, JsonArrayWriter, Terminal, write_ndjson};
use crate::view::PacketRow;

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

const TABLE_HEADER: [&str; 8] = [
    "No.",
    "Time",
    "Source",
    "Destination",
    "Protocol",
    "Length",
    "Layers",
    "Info",
];

/// Streams packet rows to `out` in one format.
pub struct PacketWriter<W: Write> {
    format: Format,
    term: Terminal,
    header: bool,
    chunk: usize,
    pending: Vec<PacketRow>,
    printed_any: bool,
    json: Option<JsonArrayWriter<W>>,
    out: Option<W>,
    csv: Option<csv::Writer<W>>,
}

impl<W: Write> PacketWriter<W> {
    /// A writer for `format`. `chunk` is how many rows a table collects before printing (1 for
    /// live input, so each row shows as its packet arrives).
    ///
    /// # Errors
    /// When writing the start of the output fails.
    pub fn new(
        out: W,
        format: Format,
        term: Terminal,
        header: bool,
        chunk: usize,
    ) -> io::Result<Self> {
        let mut w = PacketWriter {
            format,
            term,
            header,
            chunk: chunk.max(1),
            pending: Vec::new(),
            printed_any: false,
            json: None,
            out: None,
            csv: None,
        };
        match format {
            Format::Json => w.json = Some(JsonArrayWriter::new(out)?),
            Format::Csv => {
                let mut c = csv::WriterBuilder::new().from_writer(out);
                if header {
                    c.write_record(CSV_HEADER).map_err(io::Error::other)?;
                }
                w.csv = Some(c);
            }
            Format::Table | Format::Ndjson => w.out = Some(out),
        }
        Ok(w)
    }

    /// Writes (or queues, for tables) one row.
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
                    write_ndjson(o, &row)?;
                    if live {
                        o.flush()?;
                    }
                }
            }
            Format::Csv => {
                if let Some(c) = &mut self.csv {
                    c.write_record(csv_fields(&row)).map_err(io::Error::other)?;
                    if live {
                        c.flush()?;
                    }
                }
            }
            Format::Table => {
                self.pending.push(row);
                if self.pending.len() >= self.chunk || live {
                    self.flush_table()?;
                }
            }
        }
        Ok(())
    }

    fn flush_table(&mut self) -> io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let show_header = self.header && !self.printed_any;
        let mut table = new_table(&TABLE_HEADER, self.term, show_header);
        for row in self.pending.drain(..) {
            let color = match row.protocol.as_str() {
                _ if row.malformed.is_some() => Some(Color::Red),
                "TCP" => Some(Color::Cyan),
                "UDP" => Some(Color::Blue),
                "TFTP" => Some(Color::Green),
                "HTTP" => Some(Color::Magenta),
                "ARP" => Some(Color::Yellow),
                _ => None,
            };
            table.add_row(vec![
                cell(row.number, None, self.term),
                cell(format!("{:.6}", row.rel_time), None, self.term),
                cell(endpoint(&row.src, row.src_port), None, self.term),
                cell(endpoint(&row.dst, row.dst_port), None, self.term),
                cell(&row.protocol, color, self.term),
                cell(row.length, None, self.term),
                cell(&row.layer_chain, None, self.term),
                cell(
                    &row.info,
                    color.filter(|_| row.malformed.is_some()),
                    self.term,
                ),
            ]);
        }
        if let Some(o) = &mut self.out {
            for line in table.lines() {
                writeln!(o, "{}", line.trim_end())?;
            }
            o.flush()?;
        }
        self.printed_any = true;
        Ok(())
    }

    /// Ends the output (closes the JSON array, flushes the last table rows).
    ///
    /// # Errors
    /// When writing fails.
    pub fn finish(mut self) -> io::Result<()> {
        self.flush_table()?;
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

fn endpoint(addr: &str, port: Option<u16>) -> String {
    match port {
        Some(p) if addr.contains(':') => format!("[{addr}]:{p}"),
        Some(p) => format!("{addr}:{p}"),
        None => addr.to_string(),
    }
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
        row.info.clone(),
        row.malformed.clone().unwrap_or_default(),
    ]
}
