//! Opening the input (a file or standard input) and the progress bar for long reads.

use std::fs::File;
use std::io::{self, IsTerminal, Read};
use std::path::Path;

use anyhow::{Context as _, Result};
use indicatif::{ProgressBar, ProgressStyle};
use pcaplab::capture::CaptureReader;

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
    report_notes(&result.0);
    Ok(result)
}

/// Says on stderr, one note each with its count, when the run bounded its memory or gave
/// something up: TCP connections given up as timed out or evicted, IP datagrams whose fragments
/// could not be reassembled, TCP reassembly memory limits hit. Nothing when none happened.
pub fn report_notes(summary: &pcaplab::engine::Summary) {
    let table = summary.table;
    if table.timed_out > 0 {
        note(&format!(
            "{} TCP connections were idle longer than the idle timeout (capture time) and were given up: their rows say `timed_out` (raise --tcp-idle-timeout)",
            table.timed_out
        ));
    }
    if table.evicted > 0 {
        note(&format!(
            "{} TCP connections were evicted (the longest idle) because {} were open at once: their rows say `evicted` (raise --max-flows)",
            table.evicted, table.peak_live
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
            "{} fragmented IP datagrams could not be reassembled ({}): their fragments are shown as layer-3 packets and their transport and application layers are not analysed",
            f.dropped(),
            reasons.join(", ")
        ));
    }
    let hit = summary.limits_hit;
    if hit.per_direction + hit.global > 0 {
        note(&format!(
            "TCP reassembly memory limits were hit {} times (per direction) and {} times (in all); {} bytes were skipped and reported as gaps (raise --max-buffer-per-direction / --max-buffer-total)",
            hit.per_direction, hit.global, hit.skipped_bytes
        ));
    }
}

pub use crate::cli::note;

/// Says on stderr, one note each with its count, when UDP conversations were given up (timed
/// out or evicted). Nothing when none was.
pub fn report_udp_notes(counters: &pcaplab::analysis::udp::Counters) {
    if counters.timed_out > 0 {
        note(&format!(
            "{} UDP conversations were idle longer than the idle timeout (capture time) and were ended: their rows say `timed_out`, and later datagrams of the same endpoints start a new conversation (raise --udp-idle-timeout)",
            counters.timed_out
        ));
    }
    if counters.evicted > 0 {
        note(&format!(
            "{} UDP conversations were evicted (the longest idle) because {} were open at once: their rows say `evicted` (raise --max-udp-conversations)",
            counters.evicted, counters.peak_live
        ));
    }
}
