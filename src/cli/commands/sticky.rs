//! `pcaplab sticky FILE`: where application messages were coalesced or split against TCP
//! segment boundaries, per stream and direction.

use std::io::{self, BufWriter, Write};

use anyhow::{Context as _, Result};
use clap::Args;
use pcaplab::analysis::sticky::{self, Sticky};
use pcaplab::framing::FramingSpec;
use pcaplab::report::{self, Terminal};

use crate::cli::Outcome;
use crate::cli::args::parse_framing;
use crate::cli::args::{FormatArg, InputArgs, OutputArgs};
use crate::cli::input;

/// `pcaplab sticky`.
#[derive(Debug, Args)]
pub struct StickyArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// How messages are delimited: `auto`, `http`, `len:N[:be|le][:inclusive]`, `line`,
    /// `delim:HEX`, `fixed:N`, `none`.
    #[arg(long, default_value = "auto", value_parser = parse_framing)]
    pub framing: FramingSpec,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Runs the command.
///
/// Exits 1 ([`Outcome::ChecksFailed`]) when an explicit `--framing` does not fit a direction
/// (its bytes contradict it); `auto` never fails: it says the boundaries are unknown.
///
/// # Errors
/// Unreadable input (after reporting what was found before the problem), an unknown stream,
/// or a write error.
pub fn run(args: StickyArgs, term: Terminal) -> Result<Outcome> {
    let shown = args.input.file.display().to_string();
    let filter = args.output.packet_filter("sticky")?;
    let keep = |p: &pcaplab::decode::Packet<'_>, first: std::time::Duration| {
        filter
            .as_ref()
            .is_none_or(|f| f.matches(&pcaplab::view::filter::PacketFields::new(p, first)))
    };
    // Reports are written as streams end (in stream order), never held for the whole capture.
    let mut out = BufWriter::new(io::stdout().lock());
    let mut writer = report::sticky::Writer::new(&mut out, args.format.into(), term)?
        .header(!args.output.no_header);
    let mut write_error = None;
    // With an explicit framing, a direction whose bytes contradict it fails the run (exit 1).
    let explicit = args.framing != FramingSpec::Auto;
    let mut failed: Vec<String> = Vec::new();
    let mut failed_count = 0u64;
    let mut write = |r: sticky::Direction| {
        if explicit && r.failed() {
            failed_count += 1;
            // The first few are named here; each one's report says it.
            if failed.len() < 3 {
                failed.push(format!("stream {} {}", r.stream, arrow(r.direction)));
            }
        }
        if write_error.is_none()
            && let Err(e) = writer.push(&r)
        {
            write_error = Some(e);
        }
    };
    let mut sticky = Sticky::streaming(
        sticky::Options {
            framing: args.framing.clone(),
            stream: args.output.stream,
            keep_segments: true,
        },
        &mut write,
    );
    let mut engine = args.input.engine();
    // No connection rows are printed: no retransmission comparison (no byte history).
    engine.skip_retransmission_check();
    engine.stream_consumer(&mut sticky);
    if filter.is_some() {
        engine.select(&keep);
    }
    let (summary, error) = input::analyze(&args.input.file, engine)?;
    drop(sticky);
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
    if failed_count > 0 {
        let more = failed_count.saturating_sub(failed.len() as u64);
        crate::cli::say(&format!(
            "framing {} does not fit {}: {}{}",
            args.framing,
            if failed_count == 1 {
                "1 direction".to_string()
            } else {
                format!("{failed_count} directions")
            },
            failed.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        ));
        return Ok(Outcome::ChecksFailed);
    }
    Ok(Outcome::Ok)
}

fn arrow(d: pcaplab::flow::Direction) -> &'static str {
    match d {
        pcaplab::flow::Direction::ClientToServer => "client → server",
        pcaplab::flow::Direction::ServerToClient => "server → client",
    }
}
