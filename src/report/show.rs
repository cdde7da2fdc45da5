//! Output of `pcaplab show`: the decoded tree of a packet grouped under its OSI layers, and an
//! optional hex dump.

use std::fmt::Write as _;

use crate::view::PacketRow;

/// Renders the tree of one packet as text.
pub fn tree(row: &PacketRow, hex: Option<&[u8]>) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Frame {}: {} bytes on wire, {} captured — {}",
        row.number, row.length, row.captured_length, row.info
    );
    let mut current_osi = 0;
    for layer in &row.layers {
        let osi = layer.osi.number();
        if osi != current_osi {
            let _ = writeln!(s, "  Layer {osi} — {}", layer.osi.name());
            current_osi = osi;
        }
        let _ = writeln!(s, "    {}", layer.name);
        let width = layer.fields.iter().map(|f| f.name.len()).max().unwrap_or(0);
        for field in &layer.fields {
            let _ = writeln!(s, "      {:width$}  {}", field.name, field.value);
        }
    }
    if let Some(m) = &row.malformed {
        let _ = writeln!(s, "  [{m}]");
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
