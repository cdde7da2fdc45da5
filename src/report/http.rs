//! Output of `pcaplab http`: one row per transaction, then its warnings and extracted bodies.
//!
//! Rows are written as they come ([`Writer`]): JSON, NDJSON and CSV stream; the table's widths
//! come from its first chunk of [`CHUNK_ROWS`] rows (then every row is written at once), and
//! the warnings and extracted files are printed under each chunk, so memory stays flat whatever
//! the number of transactions. Text from the wire (host, URI, reason, warnings) is escaped for
//! the terminal in the table, the lines under it and CSV; JSON keeps it as it is.

use std::io::{self, Write};
use std::time::Duration;

use super::table::{CHUNK_ROWS, Cell, Color, Column, Spec, Step, TableWriter, cell, write_prose};
use super::time::{Clock, TimeFormat};
use super::{Format, JsonArrayWriter, Terminal, write_ndjson};
use crate::app::http::Transaction;
use crate::view::text::{Escaped, escape};

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

const TABLE_COLUMNS: [Column<'static>; 13] = [
    Column::number("Stream"),
    Column::number("Time"),
    Column::atom("Client"),
    Column::atom("Server"),
    Column::atom("Method"),
    Column::text("Host", 8),
    Column::text("URI", 12),
    Column::text("Status", 6),
    Column::text("Type", 8),
    Column::number("Req B"),
    Column::number("Resp B"),
    Column::number("Resp time s"),
    Column::number("Warn"),
];

/// The transactions table; a narrow terminal leaves out, in this order: the request body size,
/// the response time, the time, the content type, the host, the warning count (the warnings are
/// listed under the table), the client and the response body size. URI, status, host and type
/// are cut with `…` first.
const TABLE_SPEC: Spec<'static> = Spec {
    name: "http",
    columns: &TABLE_COLUMNS,
    steps: &[
        Step::Drop(9),
        Step::Drop(11),
        Step::Drop(1),
        Step::Drop(8),
        Step::Drop(5),
        Step::Drop(12),
        Step::Drop(2),
        Step::Drop(10),
    ],
};

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
        escape(&opt(&t.method)).into_owned(),
        escape(&opt(&t.host)).into_owned(),
        escape(&opt(&t.uri)).into_owned(),
        escape(&opt(&t.version)).into_owned(),
        opt(&t.status),
        escape(&opt(&t.reason)).into_owned(),
        escape(&opt(&t.content_type)).into_owned(),
        opt(&t.request_body_bytes),
        opt(&t.response_body_bytes),
        t.response_time
            .map(|v| format!("{v:.6}"))
            .unwrap_or_default(),
        t.body_file
            .as_ref()
            .map(|b| b.sha256.clone())
            .unwrap_or_default(),
        escape(
            &t.warnings
                .iter()
                .map(|w| w.message.clone())
                .collect::<Vec<_>>()
                .join("; "),
        )
        .into_owned(),
    ]
}

/// The table cells of one transaction; times relative to `first`.
fn table_row(t: &Transaction, first: Duration, term: Terminal, clock: &mut Clock) -> Vec<Cell> {
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
        Cell::new(t.stream),
        Cell::new(t.time.map_or_else(
            || "-".into(),
            |d| {
                clock.set_first(first);
                // Transaction times are kept to the microsecond.
                clock.text(d, 6)
            },
        )),
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
            t.stream,
            t.index,
            Escaped(&w.message)
        ));
    }
    if let Some(b) = &t.body_file {
        let decoded = if b.decoded {
            format!(
                ", decoded from {} on the wire, sha256 {}",
                crate::units::plural(b.wire.size, "byte", "bytes"),
                b.wire.sha256_hex()
            )
        } else {
            String::new()
        };
        let incomplete = if b.complete { "" } else { ", incomplete" };
        out.push(format!(
            "stream {} transaction {}: extracted {} ({}, sha256 {}{decoded}){incomplete}",
            t.stream,
            t.index,
            Escaped(&b.path.display().to_string()),
            crate::units::plural(b.size, "byte", "bytes"),
            b.sha256,
        ));
    }
}

enum Sink<'o, W: Write> {
    Json(JsonArrayWriter<&'o mut W>),
    Ndjson(&'o mut W),
    Csv(Box<csv::Writer<&'o mut W>>),
    Table {
        table: Box<TableWriter<'o, &'o mut W>>,
        /// The lines under the rows of the chunk being filled.
        notes: Vec<String>,
    },
}

/// Writes transactions as they come (see the module documentation), so `http` holds no row it
/// has printed.
pub struct Writer<'o, W: Write> {
    sink: Sink<'o, W>,
    term: Terminal,
    rows: u64,
    clock: Clock,
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
                notes: Vec::new(),
            },
        };
        Ok(Writer {
            sink,
            term,
            rows: 0,
            clock: Clock::new(TimeFormat::Relative),
        })
    }

    /// How the table shows each transaction's time (`-t`; default seconds since the capture's
    /// first packet; `d`/`dd` since the previous transaction).
    pub fn time_format(mut self, format: TimeFormat) -> Self {
        self.clock = Clock::new(format);
        self
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
            Sink::Csv(w) => w.write_record(csv_row(t)).map_err(super::csv_error),
            Sink::Table { table, notes: n } => {
                table.add_row(table_row(t, first, term, &mut self.clock))?;
                notes(t, n);
                if table.rows().is_multiple_of(CHUNK_ROWS as u64) {
                    self.flush_chunk()?;
                }
                Ok(())
            }
        }
    }

    /// Prints the lines under the chunk just written (its rows are out once the table chose
    /// its widths, at the first chunk's end).
    fn flush_chunk(&mut self) -> io::Result<()> {
        let term = self.term;
        let Sink::Table { table, notes } = &mut self.sink else {
            return Ok(());
        };
        let out = table.get_mut();
        for line in notes.drain(..) {
            write_prose(*out, term, &line)?;
        }
        Ok(())
    }

    /// Ends the output (closes the JSON array; the table's last chunk, or "no HTTP
    /// transactions found").
    ///
    /// # Errors
    /// When writing fails.
    pub fn finish(self) -> io::Result<()> {
        match self.sink {
            Sink::Json(w) => w.finish().map(|_| ()),
            Sink::Ndjson(w) => w.flush(),
            Sink::Csv(mut w) => w.flush(),
            Sink::Table { table, notes } => {
                let out = table.finish_into("no HTTP transactions found")?;
                for line in notes {
                    write_prose(out, self.term, &line)?;
                }
                out.flush()
            }
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
