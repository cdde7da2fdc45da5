//! Output of `pcaplab http`: one row per transaction, then its warnings and extracted bodies.

use std::io::{self, Write};
use std::time::Duration;

use super::table::{ChunkedTable, Color, cell};
use super::{Format, Terminal, write_records};
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

/// Writes the transactions in `format`; `first` is the capture's first timestamp (the table
/// shows times relative to it).
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
    if format != Format::Table {
        return write_records(out, format, transactions, &HEADER, csv_row, !header);
    }
    if transactions.is_empty() {
        return writeln!(out, "no HTTP transactions found");
    }
    let mut table = ChunkedTable::new(
        out,
        &[
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
        ],
        term,
        header,
    );
    for t in transactions {
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
        table.add_row(vec![
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
        ])?;
    }
    table.finish()?;
    for t in transactions {
        for w in &t.warnings {
            writeln!(
                out,
                "stream {} transaction {}: warning: {}",
                t.stream, t.index, w.message
            )?;
        }
        if let Some(b) = &t.body_file {
            writeln!(
                out,
                "stream {} transaction {}: extracted {} ({} bytes, sha256 {}){}",
                t.stream,
                t.index,
                b.path.display(),
                b.size,
                b.sha256,
                if b.decoded { ", decoded" } else { "" }
            )?;
        }
    }
    Ok(())
}
