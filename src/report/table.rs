//! comfy-table set-up shared by every command: borders and width on a terminal, plain text when
//! piped, colours only when allowed.

use comfy_table::presets::{NOTHING, UTF8_FULL_CONDENSED};
use comfy_table::{Cell, Color, ContentArrangement, Table};

use super::Terminal;

/// A new table with `header`, styled for `term`.
pub fn new_table(header: &[&str], term: Terminal, show_header: bool) -> Table {
    let mut table = Table::new();
    if term.is_tty {
        table.load_style(UTF8_FULL_CONDENSED);
        table.set_content_arrangement(ContentArrangement::Dynamic);
        if let Some(w) = term.width {
            table.set_width(w);
        }
    } else {
        table.load_style(NOTHING);
        table.force_no_tty();
        table.set_content_arrangement(ContentArrangement::Disabled);
    }
    if show_header {
        table.set_header(header.iter().map(|h| Cell::new(*h)).collect::<Vec<_>>());
    }
    table
}

/// A cell, coloured when colours are allowed.
pub fn cell(text: impl ToString, color: Option<Color>, term: Terminal) -> Cell {
    let cell = Cell::new(text);
    match (color, term.color) {
        (Some(c), true) => cell.fg(c),
        _ => cell,
    }
}

/// Rows printed per table: a table is laid out (and held) a chunk at a time, so memory stays
/// flat whatever the number of rows. Column widths are those of each chunk.
pub const CHUNK_ROWS: usize = 1000;

/// A table printed in chunks of [`CHUNK_ROWS`] rows, the header above the first chunk only.
pub struct ChunkedTable<'o, W: std::io::Write> {
    out: &'o mut W,
    header: &'o [&'o str],
    term: Terminal,
    show_header: bool,
    table: Option<Table>,
    rows: usize,
    total: u64,
    indent: &'o str,
}

impl<'o, W: std::io::Write> ChunkedTable<'o, W> {
    /// A table writing to `out`, each line prefixed with `indent`.
    pub fn new(out: &'o mut W, header: &'o [&'o str], term: Terminal, show_header: bool) -> Self {
        ChunkedTable {
            out,
            header,
            term,
            show_header,
            table: None,
            rows: 0,
            total: 0,
            indent: "",
        }
    }

    /// Prefixes every printed line with `indent`.
    pub fn indent(mut self, indent: &'o str) -> Self {
        self.indent = indent;
        self
    }

    /// Adds a row; prints the chunk when it is full.
    ///
    /// # Errors
    /// When writing fails.
    pub fn add_row(&mut self, cells: Vec<Cell>) -> std::io::Result<()> {
        let (header, term, show) = (self.header, self.term, self.show_header);
        self.table
            .get_or_insert_with(|| new_table(header, term, show))
            .add_row(cells);
        self.rows += 1;
        self.total += 1;
        if self.rows >= CHUNK_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if let Some(table) = self.table.take() {
            for line in table.lines() {
                writeln!(self.out, "{}{}", self.indent, line.trim_end())?;
            }
            self.show_header = false;
        }
        self.rows = 0;
        Ok(())
    }

    /// Prints the last chunk.
    ///
    /// # Errors
    /// When writing fails.
    pub fn finish(self) -> std::io::Result<()> {
        self.finish_or("")
    }

    /// Prints the last chunk, or the line `note` instead of an empty table when no row was
    /// ever added (an empty `note` prints the header alone, as [`ChunkedTable::finish`]).
    ///
    /// # Errors
    /// When writing fails.
    pub fn finish_or(self, note: &str) -> std::io::Result<()> {
        self.finish_into(note).map(|_| ())
    }

    /// [`finish_or`](Self::finish_or), giving the output back for lines after the table.
    ///
    /// # Errors
    /// When writing fails.
    pub fn finish_into(mut self, note: &str) -> std::io::Result<&'o mut W> {
        if self.total == 0 && !note.is_empty() {
            writeln!(self.out, "{}{note}", self.indent)?;
            return Ok(self.out);
        }
        if self.table.is_none() && self.show_header {
            // No row at all: the header alone, as an empty table prints.
            self.table = Some(new_table(self.header, self.term, true));
        }
        self.flush()?;
        Ok(self.out)
    }
}
