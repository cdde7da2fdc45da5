//! Output of `pcaplab tftp`: one row per transfer, then what extraction wrote.

use std::io::{self, Write};

use super::table::{Cell, Color, Column, Spec, Step, TableWriter, cell, write_prose};
use super::{Format, Terminal, write_records};
use crate::app::tftp::{Transfer, TransferDirection};
use crate::view::text::{Escaped, escape};

const HEADER: [&str; 17] = [
    "client",
    "server",
    "direction",
    "file",
    "mode",
    "block_size",
    "blocks",
    "bytes",
    "complete",
    "error",
    "retransmitted_blocks",
    "duplicate_acks",
    "missing_blocks",
    "duration_secs",
    "throughput_bytes_per_sec",
    "sha256",
    "warnings",
];

const TABLE_COLUMNS: [Column<'static>; 15] = [
    Column::number("#"),
    Column::atom("Client"),
    Column::atom("Server"),
    Column::atom("Dir"),
    Column::text("File", 8),
    Column::atom("Mode"),
    Column::number("Blksize"),
    Column::number("Blocks"),
    Column::number("Bytes"),
    Column::atom("Complete"),
    Column::number("Retrans"),
    Column::number("Dup ACK"),
    Column::number("Missing"),
    Column::number("Time s"),
    Column::atom("SHA-256"),
];

/// The transfers table; the file name is cut with `…` first, then a narrow terminal leaves
/// out, in this order: the SHA-256 prefix, the mode, the duration, the block size, the block
/// count, the duplicate ACKs, the direction, the retransmissions.
const TABLE_SPEC: Spec<'static> = Spec {
    name: "tftp",
    columns: &TABLE_COLUMNS,
    steps: &[
        Step::Drop(14),
        Step::Drop(5),
        Step::Drop(13),
        Step::Drop(6),
        Step::Drop(7),
        Step::Drop(11),
        Step::Drop(3),
        Step::Drop(10),
    ],
};

fn direction(t: &Transfer) -> &'static str {
    match t.direction {
        TransferDirection::Read => "read",
        TransferDirection::Write => "write",
    }
}

fn error_text(t: &Transfer) -> String {
    t.error
        .as_ref()
        .map(|e| format!("{} {}: {}", e.code, e.meaning, e.message))
        .unwrap_or_default()
}

fn csv_row(t: &Transfer) -> Vec<String> {
    vec![
        t.client.to_string(),
        t.server.to_string(),
        direction(t).to_string(),
        escape(&t.file).into_owned(),
        escape(&t.mode).into_owned(),
        t.block_size.to_string(),
        t.blocks.to_string(),
        t.bytes.to_string(),
        t.complete.to_string(),
        escape(&error_text(t)).into_owned(),
        t.retransmitted_blocks.to_string(),
        t.duplicate_acks.to_string(),
        t.missing_blocks.to_string(),
        format!("{:.6}", t.duration_secs),
        t.throughput_bytes_per_sec
            .map(|v| format!("{v:.0}"))
            .unwrap_or_default(),
        t.sha256.clone().unwrap_or_default(),
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

/// Writes the transfers in `format`.
///
/// # Errors
/// When writing fails.
pub fn write<W: Write>(
    out: &mut W,
    format: Format,
    term: Terminal,
    transfers: &[Transfer],
    header: bool,
) -> io::Result<()> {
    if format != Format::Table {
        return write_records(out, format, transfers, &HEADER, csv_row, !header);
    }
    if transfers.is_empty() {
        return writeln!(out, "no TFTP transfers found");
    }
    let mut table = TableWriter::new(&mut *out, TABLE_SPEC, term, header);
    for t in transfers {
        let ok = if t.complete { "yes" } else { "no" };
        let color = Some(if t.complete { Color::Green } else { Color::Red });
        table.add_row(vec![
            Cell::new(t.index),
            cell(t.client, None, term),
            cell(t.server, None, term),
            cell(direction(t), None, term),
            cell(&t.file, None, term),
            cell(&t.mode, None, term),
            cell(t.block_size, None, term),
            cell(t.blocks, None, term),
            cell(t.bytes, None, term),
            cell(ok, color, term),
            cell(t.retransmitted_blocks, None, term),
            cell(t.duplicate_acks, None, term),
            cell(t.missing_blocks, None, term),
            cell(format!("{:.3}", t.duration_secs), None, term),
            cell(
                t.sha256
                    .as_deref()
                    .map_or("-", |h| h.get(..16).unwrap_or(h)),
                None,
                term,
            ),
        ])?;
    }
    table.finish()?;
    for t in transfers {
        if let Some(e) = &t.error {
            let line = format!(
                "transfer {}: ERROR {} ({}) from {:?}: {}",
                t.index,
                e.code,
                e.meaning,
                e.from,
                Escaped(&e.message)
            );
            write_prose(out, term, &line)?;
        }
        for w in &t.warnings {
            let at = w.frame.map(|f| format!(" (frame {f})")).unwrap_or_default();
            let line = format!("transfer {}: warning{at}: {}", t.index, Escaped(&w.message));
            write_prose(out, term, &line)?;
        }
        if let Some(x) = &t.extracted {
            let line = format!(
                "transfer {}: extracted {} ({} bytes, sha256 {}){}",
                t.index,
                Escaped(&x.path),
                x.size,
                x.sha256,
                if x.complete { "" } else { ", incomplete" }
            );
            write_prose(out, term, &line)?;
            for change in &x.name_changes {
                let line = format!(
                    "transfer {}: file name made safe: {}",
                    t.index,
                    Escaped(&change.to_string())
                );
                write_prose(out, term, &line)?;
            }
        }
    }
    Ok(())
}
