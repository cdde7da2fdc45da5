//! Display filters compared with `tshark -Y`: for every capture and filter in
//! `tests/refs/filter/tshark-Y.tsv` (made by `scripts/refs/filter-refs.sh` with tshark 4.0.17),
//! the frames pcaplab's filter selects must be the frames tshark selected.
//!
//! Every packet goes through the engine as `packets` runs it (IP fragments reassembled, TCP
//! tracked, HTTP and TFTP recognised), and the filter reads both the decoded packet
//! (`PacketFields`) and the engine's notes on it (`NoteFields`: `tcp.stream`, relative
//! `tcp.seq`/`tcp.ack`, `tcp.analysis.*`, `tcp.window_size`, `tftp*`, `http*`).
//!
//! A pair that disagrees for a reason outside the filter (a layer pcaplab does not decode, such
//! as IP reassembly) must be listed with that reason in `tests/refs/filter/deviations.tsv`
//! (filter `*`: every filter on that capture); a listed pair that agrees, or a `*` entry under
//! which nothing deviates, fails the test, so the list cannot go stale.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use pcaplab::app::{http, tftp};
use pcaplab::capture::CaptureReader;
use pcaplab::engine::Engine;
use pcaplab::view::filter::{Filter, NoteFields, PacketFields};

use crate::util;

fn refs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/refs/filter")
}

/// One reference row: the frames tshark selected with `filter` on `capture`.
struct Row {
    capture: String,
    filter: String,
    frames: Vec<u64>,
}

fn reference() -> Vec<Row> {
    let path = refs_dir().join("tshark-Y.tsv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            assert_eq!(cols.len(), 3, "reference line needs 3 columns: {l}");
            Row {
                capture: cols[0].to_string(),
                filter: cols[1].to_string(),
                frames: cols[2]
                    .split_whitespace()
                    .flat_map(|item| frame_run(item).unwrap_or_else(|| panic!("bad frames: {l}")))
                    .collect(),
            }
        })
        .collect()
}

/// `7` or a run `3-9` of frame numbers.
fn frame_run(item: &str) -> Option<std::ops::RangeInclusive<u64>> {
    let (low, high) = item.split_once('-').unwrap_or((item, item));
    Some(low.parse().ok()?..=high.parse().ok()?)
}

/// `(capture, filter)` pairs that disagree for a stated reason outside the filter.
fn deviations() -> BTreeMap<(String, String), String> {
    let path = refs_dir().join("deviations.tsv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            assert!(
                cols.len() == 3 && !cols[2].trim().is_empty(),
                "deviation line needs capture, filter and a reason: {l}"
            );
            (
                (cols[0].to_string(), cols[1].to_string()),
                cols[2].to_string(),
            )
        })
        .collect()
}

/// The capture file of a reference name, or `None` when the public corpus is absent.
fn capture_path(name: &str) -> Option<PathBuf> {
    match name.strip_prefix("public/") {
        Some(file) => util::public_corpus().map(|dir| dir.join(file)),
        None => Some(Path::new(env!("CARGO_MANIFEST_DIR")).join(name)),
    }
}

/// The frames of `path` each filter selects, with the engine's notes (as `packets` runs it).
fn select(path: &Path, filters: &[&Filter]) -> Vec<Vec<u64>> {
    let mut selected = vec![Vec::new(); filters.len()];
    let mut reader =
        CaptureReader::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut http = http::Tracker::new(http::Options {
        transactions: false,
        labels: http::Labels::StartLines,
        bodies: None,
    });
    let mut tftp = tftp::Tracker::new(tftp::Config::default());
    let mut engine = Engine::new(Default::default());
    engine
        .track_tcp()
        .stream_consumer(&mut http)
        .datagram_consumer(&mut tftp);
    let mut first: Option<Duration> = None;
    // tshark stops at the first unreadable record too; the frames before it count.
    let _ = engine.run(&mut reader, |_, packet, notes| {
        let first = *first.get_or_insert(packet.frame.timestamp);
        let fields = (
            PacketFields::new(packet, first),
            NoteFields::new(packet, notes),
        );
        for (filter, frames) in filters.iter().zip(&mut selected) {
            if filter.matches(&fields) {
                frames.push(packet.frame.number.0);
            }
        }
        true
    });
    engine.finish();
    selected
}

fn show(frames: &[u64]) -> String {
    let text: Vec<String> = frames.iter().map(u64::to_string).collect();
    if text.len() > 30 {
        format!("{} … ({} frames)", text[..30].join(" "), text.len())
    } else {
        format!("[{}]", text.join(" "))
    }
}

#[test]
fn frames_selected_equal_tshark_display_filter() {
    let rows = reference();
    let deviations = deviations();
    let mut by_capture: BTreeMap<&str, Vec<&Row>> = BTreeMap::new();
    for row in &rows {
        by_capture.entry(&row.capture).or_default().push(row);
    }
    let mut compared = 0;
    let mut agreed = 0;
    let mut deviated = 0;
    let mut compared_filters = BTreeSet::new();
    let mut engine_filters = BTreeSet::new();
    let mut skipped_captures = 0;
    let mut mismatches = Vec::new();
    let mut stale = Vec::new();
    let mut used_whole_capture = BTreeSet::new();
    for (capture, rows) in &by_capture {
        let Some(path) = capture_path(capture) else {
            skipped_captures += 1;
            continue;
        };
        let whole_capture = (capture.to_string(), "*".to_string());
        if deviations.contains_key(&whole_capture) {
            // Checked after the loop: at least one filter must still deviate on it.
            stale.push(format!("{capture} | *"));
        }
        let compiled: Vec<Filter> = rows
            .iter()
            .map(|r| Filter::compile(&r.filter).unwrap_or_else(|e| panic!("{}: {e}", r.filter)))
            .collect();
        let all: Vec<(&Row, &Filter)> = rows.iter().copied().zip(&compiled).collect();
        for (r, f) in &all {
            if f.needs_annotations() {
                engine_filters.insert(r.filter.clone());
            }
        }
        let filters: Vec<&Filter> = all.iter().map(|(_, f)| *f).collect();
        let got = select(&path, &filters);
        for ((row, _), got) in all.iter().zip(got) {
            compared_filters.insert(row.filter.clone());
            compared += 1;
            let key = (row.capture.clone(), row.filter.clone());
            let listed = deviations.contains_key(&key);
            let whole_capture = (row.capture.clone(), "*".to_string());
            if got == row.frames {
                agreed += 1;
                if listed {
                    stale.push(format!("{} | {}", row.capture, row.filter));
                }
            } else if listed {
                deviated += 1;
            } else if deviations.contains_key(&whole_capture) {
                deviated += 1;
                used_whole_capture.insert(whole_capture);
            } else {
                mismatches.push(format!(
                    "{} | {}\n    tshark  {}\n    pcaplab {}",
                    row.capture,
                    row.filter,
                    show(&row.frames),
                    show(&got)
                ));
            }
        }
    }
    stale.retain(|entry| {
        entry
            .strip_suffix(" | *")
            .is_none_or(|c| !used_whole_capture.contains(&(c.to_string(), "*".to_string())))
    });
    eprintln!(
        "display filters vs tshark -Y: {agreed} of {compared} (capture, filter) pairs agree, \
         {deviated} listed deviations; {} filters compared, {} of them on the engine's \
         annotations",
        compared_filters.len(),
        engine_filters.len(),
    );
    if skipped_captures > 0 {
        eprintln!(
            "note: ../shared/captures/public is absent; {skipped_captures} public captures skipped"
        );
    }
    util::assert_no_mismatch("filter selections that differ from tshark -Y", &mismatches);
    util::assert_no_mismatch(
        "deviations.tsv entries that now agree (remove them)",
        &stale,
    );
    if skipped_captures == 0 {
        assert!(
            compared_filters.len() >= 30 && engine_filters.len() >= 30,
            "only {} filters compared ({} on annotations)",
            compared_filters.len(),
            engine_filters.len()
        );
    }
}

#[test]
fn every_reference_filter_compiles_and_engine_fields_need_annotations() {
    for row in reference() {
        let f = Filter::compile(&row.filter).unwrap_or_else(|e| panic!("{}: {e}", row.filter));
        let engine_words = [
            "tcp.stream",
            "tcp.nxtseq",
            "tcp.seq ",
            "tcp.ack ",
            "tcp.analysis",
            "tcp.window_size ",
            "tftp",
            "http",
        ];
        let padded = format!("{} ", row.filter);
        assert_eq!(
            f.needs_annotations(),
            engine_words.iter().any(|w| padded.contains(w)),
            "{}",
            row.filter
        );
    }
}

/// `osi.layer` is pcaplab's own field; its reference is tshark's view of the same packets:
/// layer 7 exactly when TCP or UDP carries payload bytes, layer 4 when there is TCP or UDP (no
/// IP fragments and nothing cut by the snap length in these fixtures).
#[test]
fn osi_layers_agree_with_tshark_payload_and_transport() {
    let rows = reference();
    let layer7 = Filter::compile("osi.layer == 7").unwrap();
    let layer4 = Filter::compile("osi.layer == 4").unwrap();
    let layer3 = Filter::compile("osi.layer == 3").unwrap();
    for capture in [
        "fixtures/lo-ethernet.pcap",
        "fixtures/lo-ipv6.pcap",
        "fixtures/tftp-read.pcap",
        "fixtures/http-get.pcap",
        "fixtures/udp-broadcast.pcap",
    ] {
        let frames_of = |f: &str| -> BTreeSet<u64> {
            rows.iter()
                .find(|r| r.capture == capture && r.filter == f)
                .unwrap_or_else(|| panic!("no reference for {capture} | {f}"))
                .frames
                .iter()
                .copied()
                .collect()
        };
        let payload = frames_of("tcp.len > 0 || udp.length > 8");
        let transport: BTreeSet<u64> = frames_of("tcp").union(&frames_of("udp")).copied().collect();
        let network: BTreeSet<u64> = frames_of("ip").union(&frames_of("ipv6")).copied().collect();
        let path = capture_path(capture).unwrap();
        let got = select(&path, &[&layer7, &layer4, &layer3]);
        let set = |v: &Vec<u64>| v.iter().copied().collect::<BTreeSet<u64>>();
        assert_eq!(set(&got[0]), payload, "{capture}: osi.layer == 7");
        assert_eq!(set(&got[1]), transport, "{capture}: osi.layer == 4");
        assert_eq!(set(&got[2]), network, "{capture}: osi.layer == 3");
    }
}
