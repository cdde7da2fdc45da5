//! `pcaplab packets FILE`: one row per packet, streamed.

use std::io::{self, BufWriter, Write};

use anyhow::{Context as _, Result};
use clap::Args;
use pcaplab::analysis::icmp;
use pcaplab::app::{http, tftp};
use pcaplab::report::Terminal;
use pcaplab::report::packets::PacketWriter;
use pcaplab::view;

use crate::cli::Outcome;
use crate::cli::args::{FormatArg, InputArgs};
use crate::cli::input;

/// `pcaplab packets`.
#[derive(Debug, Args)]
pub struct PacketsArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,
    /// Stop after this many packets.
    #[arg(long, short = 'n', value_name = "N")]
    pub limit: Option<u64>,
    /// Leave out the header row (table and CSV).
    #[arg(long)]
    pub no_header: bool,
}

/// How many rows a table collects before printing when reading a file.
const TABLE_CHUNK: usize = 1000;

/// Runs the command.
///
/// # Errors
/// Unreadable input (after printing every packet before the problem) or a write error.
pub fn run(args: PacketsArgs, term: Terminal) -> Result<Outcome> {
    let shown = args.input.file.display().to_string();
    let mut input = input::open(&args.input.file)?;
    // Every column needs the TCP numbers and the application notes, with start lines for the
    // info column; no HTTP transaction is built.
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
    let out: Box<dyn Write> = if input.live {
        Box::new(io::stdout().lock())
    } else {
        Box::new(BufWriter::with_capacity(64 * 1024, io::stdout().lock()))
    };
    let mut writer =
        PacketWriter::new(out, args.format.into(), term, !args.no_header, TABLE_CHUNK)?;
    let live = input.live;
    let with_layers = matches!(args.format, FormatArg::Json | FormatArg::Ndjson);
    let limit = args.limit.unwrap_or(u64::MAX);
    let mut written: u64 = 0;
    let mut write_error: Option<io::Error> = None;
    let progress = input.progress.clone();
    // Table and CSV rows are built in reused buffers; JSON needs every layer's fields.
    let mut columns = view::Columns::default();
    // Links each ICMP error to the datagram it answers, for its Info and fields.
    let mut linker = icmp::Linker::new(args.input.icmp_limits());
    let result = engine.run(&mut input.reader, |pos, packet, notes| {
        if written >= limit {
            return false;
        }
        let notes = &*linker.annotate(packet, notes);
        let pushed = if with_layers {
            writer.push(view::row(packet, notes, pos.first_timestamp), live)
        } else {
            columns.fill(packet, notes, pos.first_timestamp);
            writer.push_columns(&columns, packet, live)
        };
        if let Err(e) = pushed {
            write_error = Some(e);
            return false;
        }
        written += 1;
        if let Some(bar) = &progress
            && written.is_multiple_of(4096)
        {
            bar.set_position(pos.input_offset);
        }
        true
    });
    if let Some(bar) = &progress {
        bar.finish_and_clear();
    }
    input::report_notes(&engine.finish());
    if let Some(e) = write_error {
        return Err(e.into());
    }
    writer.finish()?;
    result.with_context(|| shown.clone())?;
    Ok(Outcome::Ok)
}
