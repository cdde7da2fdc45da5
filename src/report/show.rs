//! Output of `pcaplab show`: the decoded tree of a packet grouped under its OSI layers, and an
//! optional hex dump; as CSV, one row per field ([`FieldWriter`]). Every value is escaped for
//! the terminal (the tree and CSV); JSON keeps the original text.

use std::fmt::Write as _;
use std::io::{self, Write};

use crate::view::PacketRow;
use crate::view::text::Escaped;

/// Renders the tree of one packet as text; `time` is the packet's time as the run shows times.
pub fn tree(row: &PacketRow, time: &str, hex: Option<&[u8]>) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Frame {}: {} bytes on wire, {} captured, time {} — {}",
        row.number,
        row.length,
        row.captured_length,
        time,
        Escaped(&row.info)
    );
    let mut current_osi = 0;
    for layer in &row.layers {
        let osi = layer.osi.number();
        if osi != current_osi {
            let _ = writeln!(s, "  Layer {osi} — {}", layer.osi.name());
            current_osi = osi;
        }
        let _ = writeln!(s, "    {}", Escaped(layer.name));
        let width = layer.fields.iter().map(|f| f.name.len()).max().unwrap_or(0);
        for field in &layer.fields {
            let value = field.value.to_string();
            let _ = writeln!(s, "      {:width$}  {}", field.name, Escaped(&value));
        }
    }
    if let Some(m) = &row.malformed {
        let _ = writeln!(s, "  [{}]", Escaped(m));
    }
    if let Some(bytes) = hex {
        let _ = writeln!(s, "  Hex dump ({} bytes)", bytes.len());
        s.push_str(&hex_dump(bytes));
    }
    s
}

/// A classic 16-bytes-per-line hex dump with an ASCII column.
pub fn hex_dump(bytes: &[u8]) -> String {
    let mut s = String::new();
    for (i, chunk) in bytes.chunks(16).enumerate() {
        let _ = write!(s, "    {:04x}  ", i * 16);
        for j in 0..16 {
            match chunk.get(j) {
                Some(b) => {
                    let _ = write!(s, "{b:02x} ");
                }
                None => s.push_str("   "),
            }
            if j == 7 {
                s.push(' ');
            }
        }
        s.push(' ');
        for b in chunk {
            s.push(if b.is_ascii_graphic() || *b == b' ' {
                char::from(*b)
            } else {
                '.'
            });
        }
        s.push('\n');
    }
    s
}

/// `show --format csv`: one row per field, `number,osi,layer,field,value`.
#[derive(Debug, Clone, Copy)]
pub struct FieldWriter {
    header: bool,
}

impl FieldWriter {
    /// A writer that starts with the header row when `header`.
    pub fn new(header: bool) -> Self {
        FieldWriter { header }
    }

    /// Writes every field of one packet to `out`.
    ///
    /// # Errors
    /// When writing fails.
    pub fn push<W: Write>(&mut self, out: &mut W, row: &PacketRow) -> io::Result<()> {
        let mut csv = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(out);
        if std::mem::take(&mut self.header) {
            csv.write_record(["number", "osi", "layer", "field", "value"])
                .map_err(super::csv_error)?;
        }
        let number = row.number.to_string();
        for layer in &row.layers {
            let osi = layer.osi.number().to_string();
            for field in &layer.fields {
                let value = field.value.to_string();
                csv.write_record([
                    number.as_str(),
                    &osi,
                    layer.name,
                    field.name,
                    &crate::view::text::escape(&value),
                ])
                .map_err(super::csv_error)?;
            }
        }
        csv.flush()
    }

    /// Ends the output: the header row alone when no packet was written.
    ///
    /// # Errors
    /// When writing fails.
    pub fn finish<W: Write>(mut self, out: &mut W) -> io::Result<()> {
        if std::mem::take(&mut self.header) {
            writeln!(out, "number,osi,layer,field,value")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_dump_layout() {
        let d = hex_dump(b"GET / HTTP/1.1\r\nHost");
        let lines: Vec<&str> = d.lines().collect();
        assert_eq!(
            lines[0],
            "    0000  47 45 54 20 2f 20 48 54  54 50 2f 31 2e 31 0d 0a  GET / HTTP/1.1.."
        );
        assert!(lines[1].starts_with("    0010  48 6f 73 74 "));
        assert!(lines[1].ends_with("Host"));
    }
}
