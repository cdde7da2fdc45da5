//! `pcaplab http FILE`: one row per HTTP/1.x transaction, on any port.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use anyhow::{Context as _, Result};
use clap::Args;
use pcaplab::app::http::{self, Bodies, Files};
use pcaplab::extract::Limits;
use pcaplab::report::{self, Terminal};

use crate::cli::Outcome;
use crate::cli::args::{FormatArg, InputArgs, parse_size};
use crate::cli::input;

/// `pcaplab http`.
#[derive(Debug, Args)]
pub struct HttpArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,
    /// Write every response body (de-chunked) inside DIR (created if missing), under safe names
    /// made from the request target; an existing file or symlink is never overwritten nor
    /// followed (a taken name gets `-1`, `-2`, …), and a body that did not arrive whole stays
    /// in a `.part` file.
    #[arg(long, value_name = "DIR")]
    pub extract: Option<PathBuf>,
    /// With `--extract`, decode gzip and deflate bodies (`Content-Encoding`; deflate either
    /// zlib-wrapped or raw).
    #[arg(long, requires = "extract")]
    pub decode: bool,
    /// With `--decode`: most decoded bytes written per body byte received (a limit against
    /// compression bombs; at least 1 MiB is always allowed).
    #[arg(long, value_name = "N", default_value_t = Limits::default().ratio, requires = "decode")]
    pub max_decoded_ratio: u64,
    /// With `--decode`: most decoded bytes written per body, whatever the ratio (e.g. `1G`).
    #[arg(long, value_name = "BYTES", default_value = "256M", value_parser = parse_size,
          requires = "decode")]
    pub max_decoded_size: u64,
    /// Leave out the header row (table and CSV).
    #[arg(long)]
    pub no_header: bool,
}

/// Runs the command.
///
/// # Errors
/// Unreadable input (after reporting every transaction seen before the problem), an extraction
/// directory that cannot be created, or a write error.
pub fn run(args: HttpArgs, term: Terminal) -> Result<Outcome> {
    let shown = args.input.file.display().to_string();
    let bodies = match &args.extract {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create extraction directory {}", dir.display()))?;
            let limits = Limits {
                ratio: args.max_decoded_ratio,
                cap_bytes: args.max_decoded_size,
                ..Limits::default()
            };
            Some(Bodies::Files(Files::open(dir, args.decode, limits)?))
        }
        None => None,
    };
    // Only TCP and HTTP: transactions, no per-packet labels.
    let mut tracker = http::Tracker::new(http::Options {
        transactions: true,
        labels: http::Labels::Off,
        bodies,
    });
    let mut engine = args.input.engine();
    engine.stream_consumer(&mut tracker);
    let (summary, error) = input::analyze(&args.input.file, engine)?;
    let transactions = tracker.into_transactions();
    let mut out = BufWriter::new(io::stdout().lock());
    report::http::write(
        &mut out,
        args.format.into(),
        term,
        &transactions,
        summary.first_timestamp.unwrap_or_default(),
        !args.no_header,
    )?;
    out.flush()?;
    if let Some(e) = error {
        return Err(e).context(shown);
    }
    Ok(Outcome::Ok)
}
