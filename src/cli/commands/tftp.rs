//! `pcaplab tftp FILE`: one row per TFTP transfer, optionally rebuilding the files.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use anyhow::{Context as _, Result};
use clap::Args;
use pcaplab::app::tftp::Tracker;
use pcaplab::report::{self, Terminal};

use crate::cli::Outcome;
use crate::cli::args::{FormatArg, InputArgs, OutputArgs};
use crate::cli::input;

/// `pcaplab tftp`.
#[derive(Debug, Args)]
pub struct TftpArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,
    /// Rebuild every transferred file inside DIR (created if missing); names from the capture
    /// are made safe and never leave DIR.
    #[arg(long, value_name = "DIR")]
    pub extract: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Runs the command.
///
/// # Errors
/// Unreadable input (after reporting every transfer seen before the problem), an extraction
/// directory that cannot be created, or a write error.
pub fn run(args: TftpArgs, term: Terminal) -> Result<Outcome> {
    let shown = args.input.file.display().to_string();
    let filter = args.output.packet_filter("tftp")?;
    let keep = |p: &pcaplab::decode::Packet<'_>, first: std::time::Duration| {
        filter
            .as_ref()
            .is_none_or(|f| f.matches(&pcaplab::view::filter::PacketFields::new(p, first)))
    };
    if let Some(dir) = &args.extract {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create extraction directory {}", dir.display()))?;
    }
    // Only UDP datagrams: no TCP is tracked.
    let mut config = args.input.tftp_config();
    config.extract_dir = args.extract.clone();
    let mut tracker = Tracker::new(config);
    let mut engine = args.input.engine();
    engine.datagram_consumer(&mut tracker);
    if filter.is_some() {
        engine.select(&keep);
    }
    let (_, error) = input::analyze(&args.input.file, engine)?;
    let mut transfers = tracker.finish();
    if let Some(n) = args.output.limit {
        transfers.truncate(usize::try_from(n).unwrap_or(usize::MAX));
    }
    let mut out = BufWriter::new(io::stdout().lock());
    report::tftp::write(
        &mut out,
        args.format.into(),
        term,
        &transfers,
        !args.output.no_header,
    )?;
    out.flush()?;
    if let Some(e) = error {
        return Err(e).context(shown);
    }
    Ok(Outcome::Ok)
}
