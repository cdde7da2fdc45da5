//! Output of `pcaplab http`: one row per transaction, then its warnings and extracted bodies.
//!
//! Rows are written as they come ([`Writer`]): JSON, NDJSON and CSV stream; the table is laid
//! out a chunk of [`CHUNK_ROWS`] rows at a time, each chunk followed by the warnings and
//! extracted files of its rows, so memory stays flat whatever the number of transactions.

use std::io::{self, Write};
use std::time::Duration;

use comfy_table::{Cell, Color};

use super::table::{CHUNK_ROWS, ChunkedTable, cell};
use super::{Format, JsonArrayWriter, Terminal, write_ndjson};
use crate::app::http::Transaction;

const HEADER: [&str; 17] = [
    "stream",
    "transaction",
    "time",
    "client",
    "server",
    "method",
    "host",
    "uri",
    "version",
    "status",
    "reason",
    "content_type",
    "request_body_bytes",
    "response_body_bytes",
    "response_time",
    "body_sha256",
    "warnings",
];

const TABLE_HEADER: [&str; 13] = [
    "Stream",
    "Time s",
    "Client",
    "Server",
    "Method",
    "Host",
    "URI",
    "Status",
    "Type",
    "Req B",
    "Resp B",
    "Resp time s",
    "Warn",
];

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(ToString::to_string).unwrap_or_default()
}

fn csv_row(t: &Transaction) -> Vec<String> {
    vec![
        t.stream.to_string(),
        t.index.to_string(),
        t.time
            .map(|d| format!("{}.{:06}", d.as_secs(), d.subsec_micros()))
            .unwrap_or_default(),
        t.client.to_string(),
        t.server.to_string(),
        opt(&t.method),
        opt(&t.host),
        opt(&t.uri),
        opt(&t.version),
        opt(&t.status),
        opt(&t.reason),
        opt(&t.content_type),
        opt(&t.request_body_bytes),
        opt(&t.response_body_bytes),
        t.response_time
            .map(|v| format!("{v:.6}"))
            .unwrap_or_default(),
        t.body_file
            .as_ref()
            .map(|b| b.sha256.clone())
            .unwrap_or_default(),
        t.warnings
            .iter()
            .map(|w| w.message.clone())
            .collect::<Vec<_>>()
            .join("; "),
    ]
}

/// The table cells of one transaction; times relative to `first`.
fn table_row(t: &Transaction, first: Duration, term: Terminal) -> Vec<Cell> {
    let status_color = t.status.map(|s| match s {
        200..=299 => Color::Green,
        300..=399 => Color::Cyan,
        _ => Color::Red,
    });
    let status = match (&t.status, &t.reason) {
        (Some(s), Some(r)) => format!("{s} {r}"),
        (Some(s), None) => s.to_string(),
        _ => "-".into(),
    };
    vec![
        cell(t.stream, None, term),
        cell(
            t.time.map_or_else(
                || "-".into(),
                |d| format!("{:.6}", d.saturating_sub(first).as_secs_f64()),
            ),
            None,
            term,
        ),
        cell(t.client, None, term),
        cell(t.server, None, term),
        cell(t.method.as_deref().unwrap_or("-"), None, term),
        cell(t.host.as_deref().unwrap_or("-"), None, term),
        cell(t.uri.as_deref().unwrap_or("-"), None, term),
        cell(status, status_color, term),
        cell(t.content_type.as_deref().unwrap_or("-"), None, term),
        cell(opt(&t.request_body_bytes), None, term),
        cell(opt(&t.response_body_bytes), None, term),
        cell(
            t.response_time
                .map_or_else(|| "-".into(), |v| format!("{v:.6}")),
            None,
            term,
        ),
        cell(
            t.warnings.len(),
            (!t.warnings.is_empty()).then_some(Color::Yellow),
            term,
        ),
    ]
}

/// The lines printed under the table for one transaction: its warnings, then its body file.
fn notes(t: &Transaction, out: &mut Vec<String>) {
    for w in &t.warnings {
        out.push(format!(
            "stream {} transaction {}: warning: {}",
            t.stream, t.index, w.message
        ));
    }
    if let Some(b) = &t.body_file {
        let decoded = if b.decoded {
            format!(
                ", decoded from {} bytes on the wire, sha256 {}",
                b.wire.size,
                b.wire.sha256_hex()
            )
        } else {
            String::new()
        };
        let incomplete = if b.complete { "" } else { ", incomplete" };
        out.push(format!(
            "stream {} transaction {}: extracted {} ({} bytes, sha256 {}{decoded}){incomplete}",
            t.stream,
            t.index,
            b.path.display(),
            b.size,
            b.sha256,
        ));
    }
}

enum Sink<'o, W: Write> {
    Json(JsonArrayWriter<&'o mut W>),
    Ndjson(&'o mut W),
    Csv(Box<csv::Writer<&'o mut W>>),
    Table {
        out: &'o mut W,
        /// The rows of the chunk being filled, and the lines under them.
        rows: Vec<Vec<Cell>>,
        notes: Vec<String>,
        /// The header is printed above the first chunk only.
        header: bool,
    },
}

/// Writes transactions as they come (see the module documentation), so `http` holds no row it
/// has printed.
pub struct Writer<'o, W: Write> {
    sink: Sink<'o, W>,
    term: Terminal,
    rows: u64,
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
                    w.write_record(HEADER).map_err(io::Error::other)?;
                }
                Sink::Csv(Box::new(w))
            }
            Format::Table => Sink::Table {
                out,
                rows: Vec::new(),
                notes: Vec::new(),
                header,
            },
        };
        Ok(Writer {
            sink,
            term,
            rows: 0,
        })
    }

    /// Writes one transaction; the table shows its time relative to `first` (the capture's
    /// first timestamp).
    ///
    /// # Errors
    /// When writing fails.
    pub fn push(&mut self, t: &Transaction, first: Duration) -> io::Result<()> {
        self.rows += 1;
        let term = self.term;
        match &mut self.sink {
            Sink::Json(w) => w.push(t),
            Sink::Ndjson(w) => write_ndjson(w, t),
            Sink::Csv(w) => w.write_record(csv_row(t)).map_err(io::Error::other),
            Sink::Table { rows, notes: n, .. } => {
                rows.push(table_row(t, first, term));
                notes(t, n);
                if rows.len() >= CHUNK_ROWS {
                    self.flush_chunk()?;
                }
                Ok(())
            }
        }
    }

    /// Prints the table chunk being filled and the lines under it.
    fn flush_chunk(&mut self) -> io::Result<()> {
        let term = self.term;
        let Sink::Table {
            out,
            rows,
            notes,
            header,
        } = &mut self.sink
        else {
            return Ok(());
        };
        if rows.is_empty() {
            return Ok(());
        }
        let mut table = ChunkedTable::new(&mut **out, &TABLE_HEADER, term, *header);
        for r in rows.drain(..) {
            table.add_row(r)?;
        }
        table.finish()?;
        *header = false;
        for line in notes.drain(..) {
            writeln!(out, "{line}")?;
        }
        Ok(())
    }

    /// Ends the output (closes the JSON array; the table's last chunk, or "no HTTP
    /// transactions found").
    ///
    /// # Errors
    /// When writing fails.
    pub fn finish(mut self) -> io::Result<()> {
        if self.rows == 0
            && let Sink::Table { out, .. } = &mut self.sink
        {
            return writeln!(out, "no HTTP transactions found");
        }
        self.flush_chunk()?;
        match self.sink {
            Sink::Json(w) => w.finish().map(|_| ()),
            Sink::Ndjson(w) => w.flush(),
            Sink::Csv(mut w) => w.flush(),
            Sink::Table { out, .. } => out.flush(),
        }
    }

    /// Transactions written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }
}

/// Writes the transactions in `format` (see [`Writer`]); `first` is the capture's first
/// timestamp (the table shows times relative to it).
///
/// # Errors
/// When writing fails.
pub fn write<W: Write>(
    out: &mut W,
    format: Format,
    term: Terminal,
    transactions: &[Transaction],
    first: Duration,
    header: bool,
) -> io::Result<()> {
    let mut w = Writer::new(out, format, term, header)?;
    for t in transactions {
        w.push(t, first)?;
    }
    w.finish()
}
