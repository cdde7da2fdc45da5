//! Per-packet TCP analysis (issue 11 item 6) against tshark 4.0: the stream table runs over
//! each capture and its `Outcome` is compared, frame by frame and field by field, with
//! `tests/refs/tcp-analysis/<capture>.tsv` (written by `scripts/refs/tcp-analysis.sh`):
//! `tcp.stream`, `tcp.len`, `tcp.window_size`, `tcp.window_size_scalefactor`, one column per
//! `tcp.analysis.*` flag, and the duplicate-ACK number and frame. Every difference is listed
//! with its reason in `tests/refs/tcp-analysis/allowlist.tsv`; an entry that no longer matches
//! a difference fails the test too.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use etherparse::TransportSlice;
use pcaplab::capture::CaptureReader;
use pcaplab::decode;
use pcaplab::flow::tcp::{AnalysisFlags, Flags, Outcome, SegmentInfo, StreamTable, WindowScale};

use crate::util;

fn refs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/refs/tcp-analysis")
}

/// Runs the stream table over a capture the way the engine feeds it; outcomes by frame.
fn outcomes(path: &Path) -> BTreeMap<u64, Outcome> {
    let mut out = BTreeMap::new();
    let Ok(mut reader) = CaptureReader::open(path) else {
        return out;
    };
    let mut table = StreamTable::default();
    while let Some(Ok(frame)) = reader.next_frame() {
        let packet = decode::decode(&frame);
        let Some((src, dst)) = packet.ip_addrs() else {
            continue;
        };
        // A whole TCP header, or one cut short by snaplen (as the engine does).
        let (sport, dport, seq, ack, flags, window, payload, wire, options) =
            match packet.transport() {
                Some(TransportSlice::Tcp(t)) => (
                    t.source_port(),
                    t.destination_port(),
                    t.sequence_number(),
                    t.acknowledgment_number(),
                    t.header_slice().get(13).copied().unwrap_or(0),
                    t.window_size(),
                    t.payload(),
                    u32::try_from(packet.wire_payload_len()).unwrap(),
                    Some(t.options()),
                ),
                Some(_) => continue,
                None => match packet.partial_tcp() {
                    Some(p) => match (p.seq, p.flags) {
                        (Some(seq), Some(flags)) => (
                            p.src_port,
                            p.dst_port,
                            seq,
                            p.ack.unwrap_or(0),
                            flags,
                            p.window.unwrap_or(0),
                            &[][..],
                            p.payload_len.map_or(0, |n| u32::try_from(n).unwrap()),
                            None,
                        ),
                        _ => continue,
                    },
                    None => continue,
                },
            };
        let seg = SegmentInfo {
            frame: frame.number,
            ts: frame.timestamp,
            frame_len: u64::from(frame.original_len),
            src,
            sport,
            dst,
            dport,
            seq,
            ack,
            flags: Flags::from_byte(flags),
            window,
            payload,
            wire_payload_len: wire,
            options,
        };
        let o = table.on_segment(&seg, &mut |_| {});
        out.insert(frame.number.0, o);
    }
    out
}

/// The value pcaplab gives for a tshark column, in tshark's spelling.
fn value(o: &Outcome, field: &str) -> String {
    match field {
        "tcp.stream" => o.stream.0.to_string(),
        "tcp.len" => o.len.to_string(),
        "tcp.window_size" => o.window.to_string(),
        "tcp.window_size_scalefactor" => match o.window_scale {
            None => String::new(),
            Some(WindowScale::Unknown) => "-1".into(),
            Some(WindowScale::NotUsed) => "-2".into(),
            Some(WindowScale::Shift(s)) => (1u32 << s).to_string(),
        },
        "tcp.analysis.duplicate_ack_num" => {
            o.dup_ack.map(|d| d.num.to_string()).unwrap_or_default()
        }
        "tcp.analysis.duplicate_ack_frame" => {
            o.dup_ack.map(|d| d.frame.0.to_string()).unwrap_or_default()
        }
        flag => {
            let name = flag.strip_prefix("tcp.analysis.").unwrap_or(flag);
            let bit = AnalysisFlags::from_name(name).unwrap_or_else(|| panic!("field {field}"));
            if o.analysis.contains(bit) { "1" } else { "" }.to_string()
        }
    }
}

/// (file, frame, field) → reason.
fn allowlist() -> BTreeMap<(String, String, String), String> {
    let text = std::fs::read_to_string(refs_dir().join("allowlist.tsv")).unwrap_or_default();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.splitn(4, '\t').collect();
            assert!(
                cols.len() == 4 && !cols[3].trim().is_empty(),
                "allowlist line needs file, frame, field and a reason: {l}"
            );
            (
                (cols[0].into(), cols[1].into(), cols[2].into()),
                cols[3].into(),
            )
        })
        .collect()
}

#[derive(Default)]
struct Tally {
    compared: u64,
    agreed: u64,
    allowed: u64,
    per_field: BTreeMap<String, (u64, u64)>,
    mismatches: Vec<String>,
    used: BTreeSet<(String, String, String)>,
}

fn compare(
    name: &str,
    capture: &Path,
    allow: &BTreeMap<(String, String, String), String>,
    t: &mut Tally,
) {
    let text = std::fs::read_to_string(refs_dir().join(format!("{name}.tsv"))).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let got = outcomes(capture);
    for line in lines {
        let cols: Vec<&str> = line.split('\t').collect();
        let frame = cols[0];
        let o = got.get(&frame.parse::<u64>().unwrap());
        for (field, want) in header.iter().zip(&cols).skip(1) {
            let have = o.map(|o| value(o, field));
            let ok = have.as_deref() == Some(*want);
            t.compared += 1;
            let e = t.per_field.entry(field.to_string()).or_default();
            e.0 += 1;
            if ok {
                t.agreed += 1;
                e.1 += 1;
                continue;
            }
            let keys = [
                (name.to_string(), frame.to_string(), field.to_string()),
                (name.to_string(), "*".to_string(), field.to_string()),
            ];
            if let Some(k) = keys.iter().find(|k| allow.contains_key(*k)) {
                t.allowed += 1;
                t.used.insert(k.clone());
            } else {
                t.mismatches.push(format!(
                    "{name}\t{frame}\t{field}\ttshark {want:?}, pcaplab {:?}",
                    have.unwrap_or_else(|| "(no outcome)".into())
                ));
            }
        }
    }
}

#[test]
fn per_packet_analysis_agrees_with_tshark() {
    let allow = allowlist();
    let mut t = Tally::default();
    let mut files = 0;
    let public = util::public_corpus();
    if public.is_none() {
        eprintln!("note: ../shared/captures/public is absent; comparing fixtures only");
    }
    for entry in std::fs::read_dir(refs_dir()).unwrap() {
        let path = entry.unwrap().path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some(capture_name) = name.strip_suffix(".tsv") else {
            continue;
        };
        let capture = [Some(util::fixtures()), public.clone()]
            .into_iter()
            .flatten()
            .map(|d| d.join(capture_name))
            .find(|p| p.is_file());
        let Some(capture) = capture else {
            continue;
        };
        compare(capture_name, &capture, &allow, &mut t);
        files += 1;
    }
    eprintln!(
        "tcp analysis: {files} captures, {} of {} values agree with tshark ({:.3}%), {} allow-listed",
        t.agreed,
        t.compared,
        100.0 * t.agreed as f64 / t.compared.max(1) as f64,
        t.allowed
    );
    for (field, (n, ok)) in &t.per_field {
        eprintln!(
            "  {field}: {ok}/{n} ({:.2}%)",
            100.0 * *ok as f64 / (*n).max(1) as f64
        );
    }
    assert!(files > 0);
    assert!(
        t.mismatches.is_empty(),
        "{} differences not in allowlist.tsv:\n{}",
        t.mismatches.len(),
        t.mismatches.join("\n")
    );
    assert!(t.agreed as f64 >= 0.99 * t.compared as f64, "below 99 %");
    if public.is_some() {
        let stale: Vec<_> = allow.keys().filter(|k| !t.used.contains(*k)).collect();
        assert!(stale.is_empty(), "stale allowlist entries: {stale:?}");
    }
}
