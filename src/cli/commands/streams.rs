//! `pcaplab streams FILE`: one row per TCP stream.

use std::io::{self, BufWriter, Write};

use anyhow::{Context as _, Result};
use clap::Args;
use pcaplab::analysis::streams;
use pcaplab::framing::FramingSpec;
use pcaplab::report::{self, Terminal};

use crate::cli::Outcome;
use crate::cli::args::{FormatArg, InputArgs, OutputArgs, parse_framing};
use crate::cli::input;

/// `pcaplab streams`.
#[derive(Debug, Args)]
pub struct StreamsArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,
    /// Framing used to count coalesced segments and split messages (`auto`, `http`,
    /// `len:N[:be|le][:inclusive]`, `line`, `delim:HEX`, `fixed:N`, `none`).
    #[arg(long, default_value = "auto", value_parser = parse_framing)]
    pub framing: FramingSpec,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Runs the command.
///
/// # Errors
/// Unreadable input (after reporting every stream seen before the problem) or a write error.
pub fn run(args: StreamsArgs, term: Terminal) -> Result<Outcome> {
    let shown = args.input.file.display().to_string();
    let filter = args.output.packet_filter("streams")?;
    let keep = |p: &pcaplab::decode::Packet<'_>, first: std::time::Duration| {
        filter
            .as_ref()
            .is_none_or(|f| f.matches(&pcaplab::view::filter::PacketFields::new(p, first)))
    };
    let (only, limit) = (args.output.stream, args.output.limit.unwrap_or(u64::MAX));
    // Only TCP: the stream table and the framing that counts sticky segments. Each row is
    // written as the table lets its connection go (in stream order, through a bounded window).
    let mut out = BufWriter::new(io::stdout().lock());
    let mut writer =
        report::streams::Writer::new(&mut out, args.format.into(), term, !args.output.no_header)?;
    let mut write_error = None;
    let mut written = 0u64;
    let mut push = |r: streams::StreamRow| {
        if only.is_some_and(|s| r.stream != s) || written >= limit {
            return;
        }
        written += 1;
        if write_error.is_none()
            && let Err(e) = writer.push(&r)
        {
            write_error = Some(e);
        }
    };
    let mut rows = streams::Rows::new(Some(args.framing.clone()), &mut push);
    let mut engine = args.input.engine();
    engine.stream_consumer(&mut rows);
    if filter.is_some() {
        engine.select(&keep);
    }
    let (summary, error) = input::analyze_for(&args.input.file, engine, input::Rows::Connections)?;
    drop(rows);
    if let Some(e) = write_error {
        return Err(e.into());
    }
    if error.is_none() {
        args.output.check_stream(&shown, summary.tcp_streams)?;
    }
    writer.finish()?;
    out.flush()?;
    if let Some(e) = error {
        return Err(e).context(shown);
    }
    Ok(Outcome::Ok)
}
