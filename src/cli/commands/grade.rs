//! `pcaplab grade --rubric RUBRIC.toml CAPTURE...`: grade captures of student programs.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, ValueEnum};
use pcaplab::grade::{self, rubric};
use pcaplab::report::Terminal;
use pcaplab::report::grade::GradeFormat;

use crate::cli::Outcome;
use crate::cli::args::OutputArgs;

/// Output formats of `grade`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GradeFormatArg {
    /// One row per capture.
    Table,
    /// A JSON array of verdicts.
    Json,
    /// JUnit XML for CI systems.
    Junit,
    /// Gradescope `results.json`: one object for one capture, an array of them for several.
    Gradescope,
}

/// `pcaplab grade`.
#[derive(Debug, Args)]
pub struct GradeArgs {
    /// The rubric (TOML with `[[check]]` tables).
    #[arg(long, value_name = "RUBRIC.toml")]
    pub rubric: PathBuf,
    /// Captures to grade (processed in parallel).
    #[arg(required = true, value_name = "CAPTURE")]
    pub captures: Vec<PathBuf>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = GradeFormatArg::Table)]
    pub format: GradeFormatArg,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Also write one HTML report per capture into DIR (created if missing), with its grade:
    /// `<capture file name>.html`; names never leave DIR and never replace a file.
    #[arg(long, value_name = "DIR")]
    pub report_dir: Option<PathBuf>,
}

/// Runs the command: exit 0 when every check passes, 1 when any fails, 2 for a bad rubric or an
/// unreadable capture.
///
/// # Errors
/// An unreadable or invalid rubric, an unreadable capture (after printing every verdict), or a
/// write error.
pub fn run(args: GradeArgs, term: Terminal) -> Result<Outcome> {
    let shown = args.rubric.display().to_string();
    let text = std::fs::read_to_string(&args.rubric)
        .map_err(|e| anyhow::anyhow!("cannot read rubric {shown}: {e}"))?;
    let rubric = rubric::parse(&shown, &text)?;
    let verdicts = grade::grade_all(&args.captures, &rubric);
    let format = match args.format {
        GradeFormatArg::Table => GradeFormat::Table,
        GradeFormatArg::Json => GradeFormat::Json,
        GradeFormatArg::Junit => GradeFormat::Junit,
        GradeFormatArg::Gradescope => GradeFormat::Gradescope,
    };
    let mut out = BufWriter::new(io::stdout().lock());
    pcaplab::report::grade::write(&mut out, format, term, &verdicts)?;
    out.flush()?;
    if let Some(dir) = &args.report_dir {
        super::report::write_graded(dir, &args.captures, &verdicts)?;
    }
    let unreadable: Vec<String> = verdicts
        .iter()
        .filter_map(|v| v.error.as_ref().map(|e| format!("{}: {e}", v.capture)))
        .collect();
    if !unreadable.is_empty() {
        anyhow::bail!("{}", unreadable.join("; "));
    }
    Ok(if verdicts.iter().all(|v| v.passed()) {
        Outcome::Ok
    } else {
        Outcome::ChecksFailed
    })
}
