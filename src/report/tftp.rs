//! Output of `pcaplab tftp`: one row per transfer, then what extraction wrote.

use std::io::{self, Write};

use super::table::{ChunkedTable, Color, cell};
use super::{Format, Terminal, write_records};
use crate::app::tftp::{Transfer, TransferDirection};

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
        t.file.clone(),
        t.mode.clone(),
        t.block_size.to_string(),
        t.blocks.to_string(),
        t.bytes.to_string(),
        t.complete.to_string(),
        error_text(t),
        t.retransmitted_blocks.to_string(),
        t.duplicate_acks.to_string(),
        t.missing_blocks.to_string(),
        format!("{:.6}", t.duration_secs),
        t.throughput_bytes_per_sec
            .map(|v| format!("{v:.0}"))
            .unwrap_or_default(),
        t.sha256.clone().unwrap_or_default(),
        t.warnings
            .iter()
            .map(|w| w.message.clone())
            .collect::<Vec<_>>()
            .join("; "),
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
    let mut table = ChunkedTable::new(
        out,
        &[
            "#", "Client", "Server", "Dir", "File", "Mode", "Blksize", "Blocks", "Bytes",
            "Complete", "Retrans", "Dup ACK", "Missing", "Time s", "SHA-256",
        ],
        term,
        header,
    );
    for t in transfers {
        let ok = if t.complete { "yes" } else { "no" };
        let color = Some(if t.complete { Color::Green } else { Color::Red });
        table.add_row(vec![
            cell(t.index, None, term),
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
            writeln!(
                out,
                "transfer {}: ERROR {} ({}) from {:?}: {}",
                t.index, e.code, e.meaning, e.from, e.message
            )?;
        }
        for w in &t.warnings {
            let at = w.frame.map(|f| format!(" (frame {f})")).unwrap_or_default();
            writeln!(out, "transfer {}: warning{at}: {}", t.index, w.message)?;
        }
        if let Some(x) = &t.extracted {
            writeln!(
                out,
                "transfer {}: extracted {} ({} bytes, sha256 {}){}",
                t.index,
                x.path,
                x.size,
                x.sha256,
                if x.complete { "" } else { ", incomplete" }
            )?;
            for change in &x.name_changes {
                writeln!(out, "transfer {}: file name made safe: {change}", t.index)?;
            }
        }
    }
    Ok(())
}
