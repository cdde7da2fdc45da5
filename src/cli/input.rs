//! Opening the input (a file or standard input) and the progress bar for long reads.

use std::fs::File;
use std::io::{self, IsTerminal, Read};
use std::path::Path;

use anyhow::{Context as _, Result};
use indicatif::{ProgressBar, ProgressStyle};
use pcaplab::capture::CaptureReader;
use pcaplab::units::{noun, plural};

/// Files smaller than this finish before a progress bar would be worth drawing.
const PROGRESS_MIN_BYTES: u64 = 32 * 1024 * 1024;

/// An opened capture with what the CLI needs to know about it.
pub struct Input {
    /// The reader.
    pub reader: CaptureReader<Box<dyn Read>>,
    /// True when reading standard input (possibly live: print as packets arrive).
    pub live: bool,
    /// A progress bar on stderr, for large files on a terminal.
    pub progress: Option<ProgressBar>,
    /// The file's size in bytes (`None` for standard input).
    pub size: Option<u64>,
}

/// Opens `path` (or standard input for `-`).
///
/// # Errors
/// When the file cannot be opened or is not a capture.
pub fn open(path: &Path) -> Result<Input> {
    let shown = path.display().to_string();
    if path == Path::new("-") {
        let stdin: Box<dyn Read> = Box::new(io::stdin().lock());
        let reader = CaptureReader::new(stdin).context("reading standard input")?;
        return Ok(Input {
            reader,
            live: true,
            progress: None,
            size: None,
        });
    }
    let file = File::open(path).with_context(|| format!("cannot open {shown}"))?;
    let meta = file.metadata().ok();
    if meta.as_ref().is_some_and(std::fs::Metadata::is_dir) {
        anyhow::bail!("{shown} is a directory, not a capture file");
    }
    let size = meta.map(|m| m.len()).unwrap_or(0);
    let boxed: Box<dyn Read> = Box::new(file);
    let reader = CaptureReader::new(boxed).with_context(|| format!("reading {shown}"))?;
    let progress = (size >= PROGRESS_MIN_BYTES && io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::new(size);
        if let Ok(style) = ProgressStyle::with_template(
            "{spinner} {bytes}/{total_bytes} [{bar:40}] {bytes_per_sec} eta {eta}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar
    });
    Ok(Input {
        reader,
        live: false,
        progress,
        size: Some(size),
    })
}

/// Opens `path` and runs the whole capture through `engine` (built by the command with the
/// consumers it needs), showing the progress bar when there is one. A read error comes back
/// beside the summary of every packet before it.
///
/// # Errors
/// When the file cannot be opened or is not a capture.
pub fn analyze(
    path: &Path,
    engine: pcaplab::engine::Engine<'_>,
) -> Result<(pcaplab::engine::Summary, Option<pcaplab::Error>)> {
    analyze_for(path, engine, Rows::Other)
}

/// What the rows of the command say about a TCP connection given up, for the notes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rows {
    /// One row per connection with its end (`streams`): the notes point at those rows.
    Connections,
    /// Rows of something else (transactions, segments, arrows, packets): the notes say what
    /// happened without pointing at rows that do not exist.
    Other,
}

/// [`analyze`], with notes worded for the command's `rows`.
///
/// # Errors
/// When the file cannot be opened or is not a capture.
pub fn analyze_for(
    path: &Path,
    engine: pcaplab::engine::Engine<'_>,
    rows: Rows,
) -> Result<(pcaplab::engine::Summary, Option<pcaplab::Error>)> {
    let mut input = open(path)?;
    let bar = input.progress.clone();
    let result = pcaplab::engine::analyze(&mut input.reader, engine, |at| {
        if let Some(b) = &bar {
            b.set_position(at);
        }
    });
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    report_notes_for(&result.0, rows);
    Ok(result)
}

/// Says on stderr, one note each with its count, when the run bounded its memory or gave
/// something up: TCP connections given up as timed out or evicted, IP datagrams whose fragments
/// could not be reassembled, TCP reassembly memory limits hit. Nothing when none happened.
pub fn report_notes(summary: &pcaplab::engine::Summary) {
    report_notes_for(summary, Rows::Other);
}

/// [`report_notes`], worded for the command's `rows`.
pub fn report_notes_for(summary: &pcaplab::engine::Summary, rows: Rows) {
    let table = summary.table;
    let (timed_out, evicted) = match rows {
        Rows::Connections => (": their rows say `timed_out`", ": their rows say `evicted`"),
        Rows::Other => (
            " (`pcaplab streams` shows them as `timed_out`)",
            " (`pcaplab streams` shows them as `evicted`)",
        ),
    };
    if table.timed_out > 0 {
        let (n, were) = connections(table.timed_out);
        note(&format!(
            "{n} {were} idle longer than the idle timeout (capture time) and given up{timed_out}; raise --tcp-idle-timeout to keep them"
        ));
    }
    if table.evicted > 0 {
        let (n, were) = connections(table.evicted);
        note(&format!(
            "{n} {were} evicted (the longest idle) because {} were open at once{evicted}; raise --max-flows to keep them",
            table.peak_live
        ));
    }
    let f = summary.fragments;
    if f.dropped() > 0 {
        let reasons: Vec<String> = [
            (f.end_of_capture, "incomplete at the end of the capture"),
            (f.expired, "timed out waiting for a fragment"),
            (f.evicted, "evicted when the reassembly memory was full"),
            (f.too_large, "larger than the largest IP datagram"),
            (f.too_many_fragments, "made of too many fragments"),
            (
                f.inconsistent_length,
                "with fragments that disagree on its length",
            ),
            (f.cut, "with a fragment cut by the snaplen"),
        ]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, why)| format!("{n} {why}"))
        .collect();
        note(&format!(
            "{} could not be reassembled ({}): their fragments are shown as layer-3 packets and their transport and application layers are not analysed",
            plural(
                f.dropped(),
                "fragmented IP datagram",
                "fragmented IP datagrams"
            ),
            reasons.join(", ")
        ));
    }
    let hit = summary.limits_hit;
    if hit.per_direction + hit.global > 0 {
        note(&format!(
            "TCP reassembly memory limits were hit {} (per direction) and {} (in all); {} skipped and reported as gaps (raise --max-buffer-per-direction / --max-buffer-total)",
            plural(hit.per_direction, "time", "times"),
            plural(hit.global, "time", "times"),
            plural(hit.skipped_bytes, "byte was", "bytes were")
        ));
    }
}

pub use crate::cli::note;

/// `1 TCP connection`, `was` / `3 TCP connections`, `were`.
fn connections(n: u64) -> (String, &'static str) {
    if n == 1 {
        ("1 TCP connection".into(), "was")
    } else {
        (format!("{n} TCP connections"), "were")
    }
}

/// Says on stderr, one note each with its count, when UDP conversations were given up (timed
/// out or evicted). Nothing when none was.
pub fn report_udp_notes(counters: &pcaplab::analysis::udp::Counters) {
    if counters.timed_out > 0 {
        note(&format!(
            "{} idle longer than the idle timeout (capture time) and ended: {} `timed_out`, and later datagrams of the same endpoints start a new conversation (raise --udp-idle-timeout)",
            plural(
                counters.timed_out,
                "UDP conversation was",
                "UDP conversations were"
            ),
            noun(counters.timed_out, "its row says", "their rows say")
        ));
    }
    if counters.evicted > 0 {
        note(&format!(
            "{} evicted (the longest idle) because {} were open at once: {} `evicted` (raise --max-udp-conversations)",
            plural(
                counters.evicted,
                "UDP conversation was",
                "UDP conversations were"
            ),
            counters.peak_live,
            noun(counters.evicted, "its row says", "their rows say")
        ));
    }
}

/// Makes `dir` ready for `--extract` (`flag`): an existing directory is used; a missing one is
/// created, but only its last part (a typo in a parent is not turned into a tree of new
/// directories).
///
/// # Errors
/// `DIR is not a directory`, a parent that does not exist, or the OS error.
pub fn extraction_dir(dir: &Path, flag: &str) -> Result<()> {
    let shown = pcaplab::view::text::Escaped(&dir.display().to_string()).to_string();
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => return Ok(()),
        Ok(_) => anyhow::bail!("{flag} {shown}: {shown} is not a directory"),
        Err(_) => {}
    }
    match std::fs::create_dir(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let parent = dir
                .parent()
                .map(|p| pcaplab::view::text::Escaped(&p.display().to_string()).to_string())
                .unwrap_or_default();
            anyhow::bail!(
                "{flag} {shown}: the directory {parent} does not exist (only the last part of the path is created)"
            )
        }
        Err(e) => {
            Err(anyhow::Error::new(e)
                .context(format!("{flag} {shown}: cannot create the directory")))
        }
    }
}
