//! `pcaplab grade --rubric RUBRIC.toml CAPTURE...`: grade captures of student programs.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::{Args, ValueEnum};
use pcaplab::grade::{self, rubric};
use pcaplab::report::Terminal;
use pcaplab::report::grade::GradeFormat;

use crate::cli::Outcome;
use crate::cli::args::{OutputArgs, parse_size};

/// Output formats of `grade`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GradeFormatArg {
    /// One row per capture, each failed check's message, then the class summary.
    Table,
    /// A JSON array of verdicts (every check with its description and message).
    Json,
    /// JUnit XML for CI systems.
    Junit,
    /// Gradescope `results.json`: one object for one capture, an array of them for several
    /// (with --output-dir: one DIR/<capture>/results.json per capture).
    Gradescope,
    /// CSV: one row per capture and check.
    Csv,
    /// The class summary alone: per check, how many captures passed and failed it.
    Summary,
}

/// `pcaplab grade`.
#[derive(Debug, Args)]
pub struct GradeArgs {
    /// The rubric (TOML with `[[check]]` tables).
    #[arg(long, value_name = "RUBRIC.toml")]
    pub rubric: PathBuf,
    /// Captures to grade (processed in parallel); `-` reads one from standard input.
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
    /// With --format gradescope: write one DIR/<capture file name>/results.json per capture
    /// (DIR created if missing; each capture's folder is new, never a symlink followed or a
    /// file replaced: a name already there gets `-1`, `-2`, ...) instead of standard output.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// Also treat UDP requests to this port as TFTP (repeatable; 69 always is), as for `tftp`.
    #[arg(long = "tftp-port", value_name = "PORT")]
    pub tftp_ports: Vec<u16>,
    /// Most out-of-order TCP bytes buffered per direction (e.g. `4M`), as for the other
    /// commands.
    #[arg(long, value_name = "BYTES", default_value = "4M", value_parser = parse_size)]
    pub max_buffer_per_direction: u64,
    /// Most out-of-order TCP bytes buffered for all connections together (e.g. `256M`).
    #[arg(long, value_name = "BYTES", default_value = "256M", value_parser = parse_size)]
    pub max_buffer_total: u64,
    /// A TCP connection with no packet for this many seconds of capture time is given up.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub tcp_idle_timeout: u64,
    /// Most TCP connections tracked at once.
    #[arg(long, value_name = "N", default_value_t = pcaplab::flow::tcp::DEFAULT_MAX_FLOWS,
          value_parser = clap::value_parser!(usize))]
    pub max_flows: usize,
}

impl GradeArgs {
    /// What the analyses behind the checks see.
    fn options(&self) -> grade::Options {
        let mut tcp = pcaplab::flow::tcp::TableLimits::default();
        tcp.reassembly.direction_cap = self.max_buffer_per_direction;
        tcp.global_budget = self.max_buffer_total;
        tcp.idle_timeout = std::time::Duration::from_secs(self.tcp_idle_timeout);
        tcp.max_flows = self.max_flows.max(1);
        let mut tftp = pcaplab::app::tftp::Config::default();
        tftp.server_ports.extend(self.tftp_ports.iter().copied());
        grade::Options { tcp, tftp }
    }
}

/// Writes one `results.json` per verdict into `DIR/<capture file name>/`, every folder and file
/// created new relative to DIR's descriptor without following a symlink.
fn write_gradescope_dir(dir: &Path, verdicts: &[grade::Verdict]) -> Result<()> {
    use pcaplab::extract;
    std::fs::create_dir_all(dir)
        .map_err(|e| anyhow::anyhow!("cannot create output directory {}: {e}", dir.display()))?;
    let mut out = extract::Dir::open(dir, extract::Options::default())?;
    for v in verdicts {
        let base = if v.capture == grade::STDIN_NAME {
            "stdin".to_string()
        } else {
            Path::new(&v.capture)
                .file_name()
                .map_or_else(|| "capture".into(), |n| n.to_string_lossy().into_owned())
        };
        let name = extract::SafeName::new(base.as_bytes());
        let mut sub = out.create_dir(&name)?;
        let mut json = Vec::new();
        pcaplab::report::grade::write_gradescope_one(&mut json, v)?;
        let id = sub.create(
            &extract::SafeName::new(b"results.json"),
            extract::Coding::Identity,
        )?;
        sub.write(id, &json)?;
        let written = sub.finish(id, true)?;
        crate::cli::note(&format!("wrote {}", written.path.display()));
    }
    Ok(())
}

/// Runs the command: exit 0 when every check passes, 1 when any fails, 2 for a bad rubric or an
/// unreadable capture.
///
/// # Errors
/// An unreadable or invalid rubric, an unreadable capture (after printing every verdict), or a
/// write error.
pub fn run(args: GradeArgs, term: Terminal) -> Result<Outcome> {
    let shown = args.rubric.display().to_string();
    let rubric = rubric::load(&args.rubric, &shown)?;
    let stdin = Path::new(grade::STDIN_NAME);
    let from_stdin = args.captures.iter().filter(|c| *c == stdin).count();
    if from_stdin > 1 {
        anyhow::bail!("`-` (standard input) can be given once: it holds one capture");
    }
    if from_stdin == 1 && args.report_dir.is_some() {
        anyhow::bail!(
            "--report-dir reads each capture again, which standard input cannot do: save the capture to a file first"
        );
    }
    if args.output_dir.is_some() && args.format != GradeFormatArg::Gradescope {
        anyhow::bail!(
            "--output-dir writes Gradescope results.json files: give --format gradescope with it"
        );
    }
    let verdicts = grade::grade_all(&args.captures, &rubric, &args.options());
    let format = match args.format {
        GradeFormatArg::Table => GradeFormat::Table,
        GradeFormatArg::Json => GradeFormat::Json,
        GradeFormatArg::Junit => GradeFormat::Junit,
        GradeFormatArg::Gradescope => GradeFormat::Gradescope,
        GradeFormatArg::Csv => GradeFormat::Csv,
        GradeFormatArg::Summary => GradeFormat::Summary,
    };
    if let Some(dir) = &args.output_dir {
        write_gradescope_dir(dir, &verdicts)?;
    } else {
        let mut out = BufWriter::new(io::stdout().lock());
        pcaplab::report::grade::write(&mut out, format, term, &verdicts)?;
        out.flush()?;
    }
    for v in &verdicts {
        if let Some(p) = v.partial_label() {
            crate::cli::note(&format!(
                "{}: {p}: graded on the frames before it",
                v.capture
            ));
        }
    }
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
