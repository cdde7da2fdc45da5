//! Output of `pcaplab packets`: rows streamed in the chosen format as packets are decoded.

use std::fmt::Write as _;
use std::io::{self, Write};

use comfy_table::Color;

use super::table::{cell, new_table};
use super::{Format, JsonArrayWriter, Terminal, write_ndjson};
use crate::decode::Packet;
use crate::view::text::{push_u64, push_u64_padded};
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
    /// Reused for number fields and for one serialized JSON line.
    scratch: String,
    line: Vec<u8>,
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
            scratch: String::new(),
            line: Vec::new(),
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

    /// Writes (or queues, for tables) the row of one packet from its `columns`; CSV is written
    /// straight from them, with nothing allocated per packet. JSON forms need [`push`](Self::push)
    /// with the layers.
    ///
    /// # Errors
    /// When writing fails (a closed pipe included).
    pub fn push_columns(
        &mut self,
        columns: &Columns,
        packet: &Packet<'_>,
        live: bool,
    ) -> io::Result<()> {
        let Some(c) = &mut self.csv else {
            return self.push(columns.to_row(packet), live);
        };
        let s = &mut self.scratch;
        let e = io::Error::other;
        number_field(c, s, Some(columns.number))?;
        s.clear();
        write_fixed9(s, columns.time);
        c.write_field(s.as_bytes()).map_err(e)?;
        s.clear();
        write_fixed9(s, columns.rel_time);
        c.write_field(s.as_bytes()).map_err(e)?;
        c.write_field(&columns.src).map_err(e)?;
        c.write_field(&columns.dst).map_err(e)?;
        number_field(c, s, columns.src_port.map(u64::from))?;
        number_field(c, s, columns.dst_port.map(u64::from))?;
        c.write_field(columns.protocol).map_err(e)?;
        number_field(c, s, Some(u64::from(columns.length)))?;
        number_field(c, s, Some(columns.captured_length as u64))?;
        c.write_field(&columns.layer_chain).map_err(e)?;
        c.write_field(&columns.info).map_err(e)?;
        c.write_field(&columns.malformed).map_err(e)?;
        c.write_record(None::<&[u8]>).map_err(e)?;
        if live {
            c.flush()?;
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
    c.write_field(s.as_bytes()).map_err(io::Error::other)
}

/// Appends `x` with nine decimals, exactly as `format!("{x:.9}")` does (the exact decimal value
/// of the `f64`, rounded half to even), without the slow general path for the common case of a
/// capture time.
fn write_fixed9(out: &mut String, x: f64) {
    const SCALE: u128 = 1_000_000_000;
    let bits = x.to_bits();
    let negative = bits >> 63 == 1;
    let exponent = ((bits >> 52) & 0x7ff) as i32;
    let fraction = bits & ((1 << 52) - 1);
    // Normal numbers whose binary point falls within 64 bits of the mantissa's end.
    let shift = 1075 - exponent; // x = mantissa / 2^shift
    if exponent == 0 || exponent == 0x7ff || !(1..=64).contains(&shift) {
        let _ = write!(out, "{x:.9}");
        return;
    }
    let mantissa = u128::from(fraction | (1 << 52));
    let mask = (1u128 << shift) - 1;
    let mut int = mantissa >> shift;
    let scaled = (mantissa & mask) * SCALE;
    let mut decimals = scaled >> shift;
    let rest = scaled & mask;
    let half = 1u128 << (shift - 1);
    if rest > half || (rest == half && decimals % 2 == 1) {
        decimals += 1;
        if decimals == SCALE {
            decimals = 0;
            int += 1;
        }
    }
    if negative {
        out.push('-');
    }
    match u64::try_from(int) {
        Ok(int) => push_u64(out, int),
        Err(_) => {
            let _ = write!(out, "{int}");
        }
    }
    out.push('.');
    push_u64_padded(out, decimals as u64, 9);
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

#[cfg(test)]
mod tests {
    use super::write_fixed9;

    fn fixed9(x: f64) -> String {
        let mut s = String::new();
        write_fixed9(&mut s, x);
        s
    }

    #[test]
    fn nine_decimals_exactly_as_std_formats_them() {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut values = vec![
            0.0,
            -0.0,
            1.0,
            0.5,
            0.000_000_000_5,
            0.000_000_001_5,
            1e-12,
            123.000_000_000_5,
            1_768_471_200.005_55,
            1_700_000_000.123_456,
            -3.25,
            4.0e18,
            1.0e20,
            f64::NAN,
            f64::INFINITY,
            0.999_999_999_5,
            2.5e-10,
        ];
        for _ in 0..20_000 {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            let r = x.wrapping_mul(0x2545_f491_4f6c_dd1d);
            // Capture times, relative times, and arbitrary bit patterns.
            values.push(1.7e9 + (r % 100_000_000_000) as f64 / 1e6);
            values.push((r % 1_000_000_000) as f64 / 1e6);
            values.push(f64::from_bits(r));
        }
        for v in values {
            assert_eq!(fixed9(v), format!("{v:.9}"), "{v:e}");
        }
    }
}
