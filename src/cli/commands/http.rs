//! `pcaplab http FILE`: one row per HTTP/1.x transaction, on any port.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use anyhow::{Context as _, Result};
use clap::Args;
use pcaplab::app::http::{self, BodyOptions};
use pcaplab::report::{self, Terminal};

use crate::cli::Outcome;
use crate::cli::args::{FormatArg, InputArgs, OutputArgs};
use crate::cli::input;

/// `pcaplab http`.
#[derive(Debug, Args)]
pub struct HttpArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,
    /// Write every response body (de-chunked) inside DIR (created if missing), under safe names.
    #[arg(long, value_name = "DIR")]
    pub extract: Option<PathBuf>,
    /// With `--extract`, decode gzip and deflate bodies (`Content-Encoding`).
    #[arg(long, requires = "extract")]
    pub decode: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Runs the command.
///
/// # Errors
/// Unreadable input (after reporting every transaction seen before the problem), an extraction
/// directory that cannot be created, or a write error.
pub fn run(args: HttpArgs, term: Terminal) -> Result<Outcome> {
    let shown = args.input.file.display().to_string();
    let filter = args.output.packet_filter("http")?;
    let keep = |p: &pcaplab::decode::Packet<'_>, first: std::time::Duration| {
        filter
            .as_ref()
            .is_none_or(|f| f.matches(&pcaplab::view::filter::PacketFields::new(p, first)))
    };
    if let Some(dir) = &args.extract {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create extraction directory {}", dir.display()))?;
    }
    // Only TCP and HTTP: transactions, no per-packet labels.
    let mut tracker = http::Tracker::new(http::Options {
        transactions: true,
        labels: http::Labels::Off,
        bodies: args.extract.clone().map(|dir| BodyOptions {
            dir,
            decode: args.decode,
        }),
    });
    let mut engine = args.input.engine();
    engine.stream_consumer(&mut tracker);
    if filter.is_some() {
        engine.select(&keep);
    }
    let (summary, error) = input::analyze(&args.input.file, engine)?;
    let mut transactions = tracker.into_transactions();
    if let Some(s) = args.output.stream {
        transactions.retain(|t| t.stream == s);
    }
    if let Some(n) = args.output.limit {
        transactions.truncate(usize::try_from(n).unwrap_or(usize::MAX));
    }
    let mut out = BufWriter::new(io::stdout().lock());
    report::http::write(
        &mut out,
        args.format.into(),
        term,
        &transactions,
        summary.first_timestamp.unwrap_or_default(),
        !args.output.no_header,
    )?;
    out.flush()?;
    if let Some(e) = error {
        return Err(e).context(shown);
    }
    Ok(Outcome::Ok)
}
