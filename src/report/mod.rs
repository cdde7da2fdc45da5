//! Rendering only: tables for people ([`table`]: laid out for the terminal's width), JSON,
//! NDJSON and CSV for pipelines. Nothing here computes a number shown to the user; it formats
//! result structs. Text from outside the program is escaped for the terminal in tables, CSV and
//! messages ([`crate::view::text::escape`]); JSON keeps it as it is, escaped by JSON's rules.

pub mod follow;
pub mod follow_udp;
pub mod grade;
pub mod html;
pub mod http;
pub mod ladder_svg;
pub mod ladder_text;
pub mod packets;
pub mod show;
pub mod stats;
pub mod sticky;
pub mod streams;
pub mod table;
pub mod tftp;
pub mod time;

use std::io::{self, Write};

use serde::Serialize;

/// Output format of a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A table for people, laid out for the terminal ([`table`]).
    Table,
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON array.
    Json,
    /// One JSON object per line, streamed.
    Ndjson,
}

/// How the terminal looks, decided once by the binary.
#[derive(Debug, Clone, Copy, Default)]
pub struct Terminal {
    /// Standard output is a terminal.
    pub is_tty: bool,
    /// Colours are allowed (a terminal, and `NO_COLOR` unset).
    pub color: bool,
    /// The width tables are laid out for, in columns: the terminal's, or `--width`. `None`
    /// (a pipe, a width of 0 or unknown) means "not a terminal": no column is dropped or cut.
    pub width: Option<u16>,
    /// `--wide`: keep every column whole whatever the width.
    pub wide: bool,
    /// Where a renderer says something for stderr (which columns a narrow terminal left out).
    /// The library never prints; the binary passes its stderr writer.
    pub note: Option<fn(&str)>,
}

impl Terminal {
    /// A terminal that is not one: plain tables, no colours, no width (pipes, tests).
    pub const PLAIN: Terminal = Terminal {
        is_tty: false,
        color: false,
        width: None,
        wide: false,
        note: None,
    };

    /// Hands `text` to the note sink, if any.
    pub fn say(&self, text: &str) {
        if let Some(f) = self.note {
            f(text);
        }
    }
}

/// A CSV error as the I/O error it wraps, when it wraps one (so a closed pipe is still
/// [`io::ErrorKind::BrokenPipe`]), or as an "other" I/O error.
pub fn csv_error(e: csv::Error) -> io::Error {
    if !e.is_io_error() {
        return io::Error::other(e);
    }
    match e.into_kind() {
        csv::ErrorKind::Io(io) => io,
        _ => io::Error::other("CSV write error"),
    }
}

/// A JSON error as the I/O error behind it when there is one (a closed pipe stays
/// [`io::ErrorKind::BrokenPipe`]).
pub fn json_error(e: serde_json::Error) -> io::Error {
    match e.io_error_kind() {
        Some(kind) => io::Error::from(kind),
        None => io::Error::other(e),
    }
}

/// Writes a sequence of serialisable rows as one JSON array, streaming element by element so the
/// array is never held in memory.
pub struct JsonArrayWriter<W: Write> {
    out: W,
    count: u64,
    buf: Vec<u8>,
}

impl<W: Write> JsonArrayWriter<W> {
    /// Starts the array.
    ///
    /// # Errors
    /// When writing fails.
    pub fn new(mut out: W) -> io::Result<Self> {
        out.write_all(b"[")?;
        Ok(JsonArrayWriter {
            out,
            count: 0,
            buf: Vec::new(),
        })
    }

    /// Writes one element.
    ///
    /// # Errors
    /// When writing or serialising fails.
    pub fn push<T: Serialize>(&mut self, item: &T) -> io::Result<()> {
        // Serialised into a reused buffer, then written at once: serde_json writes in many
        // small pieces, each a call through the writer otherwise.
        self.buf.clear();
        if self.count > 0 {
            self.buf.push(b',');
        }
        self.buf.push(b'\n');
        serde_json::to_writer(&mut self.buf, item).map_err(json_error)?;
        self.out.write_all(&self.buf)?;
        self.count += 1;
        Ok(())
    }

    /// The underlying writer (for a caller that drains a buffer between elements).
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }

    /// Closes the array.
    ///
    /// # Errors
    /// When writing fails.
    pub fn finish(mut self) -> io::Result<W> {
        if self.count > 0 {
            self.out.write_all(b"\n")?;
        }
        self.out.write_all(b"]\n")?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Writes one JSON object on its own line.
///
/// # Errors
/// When writing or serialising fails.
pub fn write_ndjson<W: Write, T: Serialize>(out: &mut W, item: &T) -> io::Result<()> {
    serde_json::to_writer(&mut *out, item).map_err(json_error)?;
    out.write_all(b"\n")
}

/// Writes a whole list in the chosen machine format (JSON array, NDJSON or CSV via `csv_row`).
/// Tables are the caller's business.
///
/// # Errors
/// When writing fails.
pub fn write_records<W: Write, T: Serialize>(
    out: &mut W,
    format: Format,
    items: &[T],
    csv_header: &[&str],
    csv_row: impl Fn(&T) -> Vec<String>,
    no_header: bool,
) -> io::Result<()> {
    match format {
        Format::Json => {
            let mut w = JsonArrayWriter::new(&mut *out)?;
            for item in items {
                w.push(item)?;
            }
            w.finish()?;
        }
        Format::Ndjson => {
            for item in items {
                write_ndjson(out, item)?;
            }
        }
        Format::Csv | Format::Table => {
            let mut w = csv::WriterBuilder::new().from_writer(&mut *out);
            if !no_header {
                w.write_record(csv_header).map_err(csv_error)?;
            }
            for item in items {
                w.write_record(csv_row(item)).map_err(csv_error)?;
            }
            w.flush()?;
        }
    }
    Ok(())
}
