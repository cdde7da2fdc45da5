//! `pcaplab report FILE -o report.html`: one self-contained HTML page about a capture (also
//! written per capture by `grade --report-dir`).

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use clap::Args;
use pcaplab::analysis::ladder::{self, Collector, Extras, Limits, Selection, StreamFacts};
use pcaplab::analysis::page::{Findings, Page, Parts};
use pcaplab::analysis::stats;
use pcaplab::analysis::streams;
use pcaplab::app::{http, tftp};
use pcaplab::engine::Engine;
use pcaplab::extract;
use pcaplab::flow::tcp::TableLimits;
use pcaplab::framing::FramingSpec;
use pcaplab::grade::Verdict;
use pcaplab::report::Terminal;
use pcaplab::view::text::Escaped;

use pcaplab::view::filter::{Filter, PacketFields};

use crate::cli::Outcome;
use crate::cli::args::{InputArgs, OutputArgs};
use crate::cli::input;

/// Most arrows per ladder when `--limit` is not given.
const DEFAULT_ARROWS: usize = 200;

/// `pcaplab report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Where to write the page (`-` or nothing: standard output); an existing file is not
    /// replaced unless `--force` is given, and the capture being read never is.
    #[arg(long = "output", short = 'o', value_name = "FILE")]
    pub output_file: Option<PathBuf>,
    /// Replace the `-o` file when it already exists.
    #[arg(long)]
    pub force: bool,
    /// Most TCP streams, TFTP transfers and HTTP transactions drawn as ladders.
    #[arg(long, value_name = "N", default_value_t = 32, value_parser = crate::cli::args::parse_usize)]
    pub ladders: usize,
    /// `--limit N`: at most N arrows per ladder (default 200), as on `ladder`; `-Y FILTER`: the
    /// packets the page's analyses see, by each packet's own fields, as on the other summary
    /// commands. The table flags do not apply to a page.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Reads `path` once with every analysis the page shows and puts the page together; a read
/// error after some packets is in the page ([`Page::read_error`]).
///
/// # Errors
/// When the file cannot be opened or is not a capture.
pub fn build(
    path: &Path,
    table: TableLimits,
    tftp_config: tftp::Config,
    limits: Limits,
    filter: Option<&Filter>,
) -> Result<Page> {
    let mut http = http::Tracker::new(http::Options {
        transactions: true,
        labels: http::Labels::StartLines,
        bodies: None,
    });
    let mut tftp = tftp::Tracker::new(tftp_config);
    let mut rows = Vec::new();
    let mut push = |r| rows.push(r);
    let mut stream_rows = streams::Rows::new(Some(FramingSpec::Auto), &mut push);
    let mut facts = StreamFacts::new(&Selection::Every, limits, FramingSpec::Auto);
    let mut collector = Collector::new(Selection::Every, limits);
    let mut stats = stats::Collector::new();
    let mut findings = Findings::new();
    let keep = |p: &pcaplab::decode::Packet<'_>, first: std::time::Duration| {
        filter.is_none_or(|f| f.matches(&PacketFields::new(p, first)))
    };
    let mut engine = Engine::new(table);
    if filter.is_some() {
        engine.select(&keep);
    }
    engine
        .stream_consumer(&mut http)
        .stream_consumer(&mut stream_rows)
        .stream_consumer(&mut facts)
        .datagram_consumer(&mut tftp)
        .packet_observer(&mut stats)
        .packet_observer(&mut collector)
        .packet_observer(&mut findings);
    let (_, error) = input::analyze(path, engine)?;
    drop(stream_rows);
    let transfers = tftp.finish();
    let ladders = ladder::finish(
        collector,
        &facts,
        &Extras {
            transfers: &transfers,
        },
    );
    // The page lists the streams from `rows`; the statistics need not keep them again.
    let stats = stats
        .finish(Default::default())
        .context("writing the UDP conversations to a temporary file")?;
    Ok(Page::build(Parts {
        file: path.display().to_string(),
        stats,
        streams: rows,
        sticky: facts.into_reports(),
        transfers,
        transactions: http.into_transactions(),
        ladders,
        findings,
        limits,
        read_error: error.map(|e| e.to_string()),
    }))
}

/// Runs the command.
///
/// # Errors
/// An unreadable capture (the page is still written when some packets were read) or a write
/// error.
pub fn run(args: ReportArgs, _term: Terminal) -> Result<Outcome> {
    let arrows = args
        .output
        .limit
        .map_or(DEFAULT_ARROWS, |n| usize::try_from(n).unwrap_or(usize::MAX));
    let limits = Limits {
        arrows: arrows.clamp(1, ladder::MAX_ARROWS),
        ladders: args.ladders,
    };
    let target = args.output_file.as_deref().filter(|p| *p != Path::new("-"));
    if let Some(p) = target {
        check_target(p, &args.input.file, args.force)?;
    }
    let filter = args.output.packet_filter("report")?;
    let page = build(
        &args.input.file,
        args.input.table_limits(),
        args.input.tftp_config(),
        limits,
        filter.as_ref(),
    )?;
    match target {
        None => write_to(&mut BufWriter::new(io::stdout().lock()), &page)?,
        Some(p) => {
            let mut options = std::fs::OpenOptions::new();
            options.write(true);
            if args.force {
                options.create(true).truncate(true);
            } else {
                options.create_new(true);
            }
            let file = options.open(p).map_err(|e| {
                if e.kind() == io::ErrorKind::AlreadyExists {
                    anyhow::anyhow!(exists(p))
                } else {
                    anyhow::Error::new(e).context(format!("cannot create {}", p.display()))
                }
            })?;
            write_to(&mut BufWriter::new(file), &page)
                .with_context(|| format!("writing {}", p.display()))?;
        }
    }
    if let Some(e) = &page.read_error {
        anyhow::bail!("{}: {e}", args.input.file.display());
    }
    Ok(Outcome::Ok)
}

/// Refuses `-o` naming the capture being read (even with `--force`), or an existing file
/// without `--force`: checked before the capture is read, so nothing is lost either way.
fn check_target(path: &Path, input: &Path, force: bool) -> Result<()> {
    let same = match (std::fs::canonicalize(path), std::fs::canonicalize(input)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if same {
        anyhow::bail!(
            "-o {}: that is the capture being read; write the page to another file",
            Escaped(&path.display().to_string())
        );
    }
    if !force && std::fs::symlink_metadata(path).is_ok() {
        anyhow::bail!(exists(path));
    }
    Ok(())
}

/// The sentence for an `-o` file that already exists.
fn exists(path: &Path) -> String {
    format!(
        "-o {}: the file exists; pass --force to replace it, or name another file",
        Escaped(&path.display().to_string())
    )
}

fn write_to<W: Write>(out: &mut W, page: &Page) -> Result<()> {
    pcaplab::report::html::write(out, page, None)?;
    out.flush()?;
    Ok(())
}

/// `grade --report-dir DIR`: one page per graded capture, with its verdict, created through
/// the extraction directory ([`pcaplab::extract::Dir`]: a name from the command line is made
/// safe, stays inside DIR and never replaces a file; a clash gets a `-N` suffix). A capture
/// that cannot be opened gets no page (its verdict says why).
///
/// # Errors
/// When DIR cannot be created or opened, or a page cannot be written.
pub fn write_graded(dir: &Path, captures: &[PathBuf], verdicts: &[Verdict]) -> Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create report directory {}", dir.display()))?;
    let mut out = extract::Dir::open(dir, extract::Options::default())?;
    for (path, verdict) in captures.iter().zip(verdicts) {
        let page = match build(
            path,
            TableLimits::default(),
            tftp::Config::default(),
            Limits {
                arrows: DEFAULT_ARROWS,
                ladders: 32,
            },
            None,
        ) {
            Ok(page) => page,
            Err(e) => {
                crate::cli::note(&format!("no report for {}: {e:#}", path.display()));
                continue;
            }
        };
        let mut html = Vec::new();
        pcaplab::report::html::write(&mut html, &page, Some(verdict))?;
        let file_name = path
            .file_name()
            .map_or_else(|| "capture".into(), |n| n.to_string_lossy().into_owned());
        let name = extract::SafeName::new(format!("{file_name}.html").as_bytes());
        let id = out.create(&name, extract::Coding::Identity)?;
        out.write(id, &html)?;
        let written = out.finish(id, true)?;
        crate::cli::note(&format!("wrote {}", written.path.display()));
    }
    Ok(())
}
