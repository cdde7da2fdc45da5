//! `pcaplab show FILE [-p N]...`: the decoded tree of chosen packets.

use std::collections::BTreeSet;
use std::io::{self, BufWriter, Write};

use anyhow::{Context as _, Result};
use clap::Args;
use pcaplab::analysis::icmp;
use pcaplab::app::{http, tftp};
use pcaplab::report::{self, Format, Terminal};
use pcaplab::view;

use crate::cli::Outcome;
use crate::cli::args::{FormatArg, InputArgs};
use crate::cli::input;

/// `pcaplab show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Packet numbers to show (repeatable; default: all).
    #[arg(long = "packet", short = 'p', value_name = "N")]
    pub packets: Vec<u64>,
    /// Add a hex dump of each packet.
    #[arg(long)]
    pub hex: bool,
    /// Output format: `table` prints the tree, `json`/`ndjson` the layers as objects.
    #[arg(long, short = 'f', value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,
}

/// Runs the command.
///
/// # Errors
/// Unreadable input (after printing every chosen packet before the problem), a packet number
/// beyond the end of the capture, or a write error.
pub fn run(args: ShowArgs, _term: Terminal) -> Result<Outcome> {
    let shown = args.input.file.display().to_string();
    let mut input = input::open(&args.input.file)?;
    let mut http = http::Tracker::new(http::Options {
        transactions: false,
        labels: http::Labels::StartLines,
        bodies: None,
    });
    let mut tftp = tftp::Tracker::notes_only(args.input.tftp_config());
    let mut engine = args.input.engine();
    engine
        .track_tcp()
        .stream_consumer(&mut http)
        .datagram_consumer(&mut tftp);
    let wanted: BTreeSet<u64> = args.packets.iter().copied().collect();
    let last_wanted = wanted.last().copied();
    let format: Format = args.format.into();
    let mut out = BufWriter::new(io::stdout().lock());
    let mut json = match format {
        Format::Json => Some(report::JsonArrayWriter::new(Vec::new())?),
        _ => None,
    };
    let mut write_error: Option<io::Error> = None;
    let mut seen_max = 0;
    // Links each ICMP error to the datagram it answers (every packet is seen, shown or not).
    let mut linker = icmp::Linker::new(args.input.icmp_limits());
    let result = engine.run(&mut input.reader, |pos, packet, notes| {
        let n = packet.frame.number.0;
        seen_max = n;
        let notes = &*linker.annotate(packet, notes);
        if !wanted.is_empty() && !wanted.contains(&n) {
            return last_wanted.is_none_or(|last| n < last);
        }
        let row = view::row(packet, notes, pos.first_timestamp);
        let written = match format {
            Format::Json => json.as_mut().map_or(Ok(()), |j| j.push(&row)),
            Format::Ndjson => report::write_ndjson(&mut out, &row),
            Format::Table | Format::Csv => {
                let hex = args.hex.then_some(packet.frame.data);
                writeln!(out, "{}", report::show::tree(&row, hex))
            }
        };
        if let Err(e) = written {
            write_error = Some(e);
            return false;
        }
        last_wanted.is_none_or(|last| n < last)
    });
    input::report_notes(&engine.finish());
    if let Some(e) = write_error {
        return Err(e.into());
    }
    if let Some(j) = json {
        out.write_all(&j.finish()?)?;
    }
    out.flush()?;
    result.with_context(|| shown.clone())?;
    if let Some(missing) = wanted.iter().find(|n| **n > seen_max || **n == 0) {
        anyhow::bail!("{shown}: no packet {missing} (the capture has {seen_max} packets)");
    }
    Ok(Outcome::Ok)
}
