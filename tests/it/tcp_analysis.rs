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
use pcaplab::capture::Frame;
use pcaplab::decode::{self, Packet};
use pcaplab::flow::ip::{Defragmenter, Fragment, Push};
use pcaplab::flow::tcp::{AnalysisFlags, Flags, Outcome, SegmentInfo, StreamTable, WindowScale};

use crate::util;

fn refs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/refs/tcp-analysis")
}

/// Runs the stream table over a capture the way the engine feeds it (IP fragments reassembled
/// first, as `flow::ip` documents: the datagram is analysed in the frame that completed it, like
/// tshark does); outcomes by frame.
fn outcomes(path: &Path) -> BTreeMap<u64, Outcome> {
    let mut out = BTreeMap::new();
    let Ok(mut reader) = CaptureReader::open(path) else {
        return out;
    };
    let mut table = StreamTable::default();
    let mut defrag = Defragmenter::default();
    while let Some(Ok(frame)) = reader.next_frame() {
        let packet = decode::decode(&frame);
        match Fragment::from_packet(&packet) {
            None => {
                defrag.expire(frame.timestamp);
                feed(&mut table, &frame, &packet, &mut out);
            }
            Some(f) => {
                if let Push::Complete(d) = defrag.push(frame.number, frame.timestamp, &f) {
                    feed(&mut table, &frame, &d.to_packet(&packet), &mut out);
                }
            }
        }
        defrag.drain_dropped().for_each(drop);
    }
    out
}

/// One decoded packet (or reassembled datagram) into the table.
fn feed(
    table: &mut StreamTable,
    frame: &Frame<'_>,
    packet: &Packet<'_>,
    out: &mut BTreeMap<u64, Outcome>,
) {
    let Some((src, dst)) = packet.ip_addrs() else {
        return;
    };
    // A whole TCP header, or one cut short by snaplen (as the engine does).
    let (sport, dport, seq, ack, flags, window, payload, wire, options) = match packet.transport() {
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
        Some(_) => return,
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
                _ => return,
            },
            None => return,
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
            if o.analysis.fields().contains(bit) {
                "1"
            } else {
                ""
            }
            .to_string()
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
        let capture = [
            Some(util::fixtures()),
            Some(refs_dir().join("crafted")),
            public.clone(),
        ]
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

/// Runs a capture through the stream table; returns the final summaries by stream id.
fn summaries(path: &Path) -> Vec<pcaplab::flow::tcp::Stream> {
    let mut reader = CaptureReader::open(path).unwrap();
    let mut table = StreamTable::default();
    while let Some(Ok(frame)) = reader.next_frame() {
        let packet = decode::decode(&frame);
        let (Some((src, dst)), Some(TransportSlice::Tcp(t))) =
            (packet.ip_addrs(), packet.transport())
        else {
            continue;
        };
        let seg = SegmentInfo {
            frame: frame.number,
            ts: frame.timestamp,
            frame_len: u64::from(frame.original_len),
            src,
            sport: t.source_port(),
            dst,
            dport: t.destination_port(),
            seq: t.sequence_number(),
            ack: t.acknowledgment_number(),
            flags: Flags::from_byte(t.header_slice().get(13).copied().unwrap_or(0)),
            window: t.window_size(),
            payload: t.payload(),
            wire_payload_len: u32::try_from(packet.wire_payload_len()).unwrap(),
            options: Some(t.options()),
        };
        table.on_segment(&seg, &mut |_| {});
    }
    table.finish_all(&mut |_| {});
    table.take_streams()
}

#[test]
fn issue_11_synack_data_completes_the_handshake() {
    use pcaplab::flow::tcp::HandshakeState;
    let Some(path) = util::shared_case("synack-data.pcap") else {
        return;
    };
    let streams = summaries(&path);
    let s = &streams[1];
    assert_eq!(s.handshake.state, HandshakeState::Complete);
    assert!(
        s.handshake.syn.is_some() && s.handshake.syn_ack.is_some() && s.handshake.ack.is_some()
    );
    // The 22 bytes of the SYN-ACK are server → client stream data: every byte tshark counts
    // in that direction (tcp.len without retransmissions) is delivered, banner included.
    let Some(wire) = wire_bytes_from_tshark(&path) else {
        return;
    };
    let (c2s, s2c) = wire[&(1, s.server.port)];
    assert_eq!(s.server_to_client.payload_bytes, s2c);
    assert_eq!(s.client_to_server.payload_bytes, c2s);
    let Some(synack_len) = tshark(&[
        "-n",
        "-r",
        path.to_str().unwrap(),
        "-Y",
        "tcp.stream==1 && tcp.flags.syn==1 && tcp.flags.ack==1",
        "-T",
        "fields",
        "-e",
        "tcp.len",
    ]) else {
        return;
    };
    assert_eq!(synack_len.trim(), "22");
}

#[test]
fn issue_11_midstream_server_first_roles_by_port() {
    let Some(path) = util::shared_case("midstream-server-first.pcap") else {
        return;
    };
    let streams = summaries(&path);
    assert_eq!(streams.len(), 1);
    assert_eq!(streams[0].client.port, 51000);
    assert_eq!(streams[0].server.port, 80);
}

#[test]
fn issue_11_snaplen_cut_payload_is_not_captured_not_lost() {
    let Some(path) = util::shared_case("snaplen-cut-http.pcap") else {
        return;
    };
    let streams = summaries(&path);
    let out_of_order: u64 = streams
        .iter()
        .map(|s| s.client_to_server.out_of_order + s.server_to_client.out_of_order)
        .sum();
    let gaps: u64 = streams
        .iter()
        .map(|s| s.client_to_server.gap_bytes + s.server_to_client.gap_bytes)
        .sum();
    let not_captured: u64 = streams
        .iter()
        .map(|s| s.server_to_client.not_captured_bytes)
        .sum();
    assert_eq!(out_of_order, 0);
    assert_eq!(gaps, 0);
    assert!(not_captured > 0);
    // Payload bytes as on the wire: tshark's tcp.len summed over segments that are not
    // retransmissions, per direction.
    let Some(wire) = wire_bytes_from_tshark(&path) else {
        return;
    };
    for s in &streams {
        let key = (s.id.0, s.server.port);
        assert_eq!(
            s.server_to_client.payload_bytes, wire[&key].1,
            "stream {}",
            s.id
        );
        assert_eq!(
            s.client_to_server.payload_bytes, wire[&key].0,
            "stream {}",
            s.id
        );
    }
}

/// Runs tshark and returns its standard output; `None` (with a note: the test then passes
/// without this check) when tshark is not installed, as on a CI machine without Wireshark.
fn tshark(args: &[&str]) -> Option<String> {
    match std::process::Command::new("tshark").args(args).output() {
        Ok(out) => {
            assert!(
                out.status.success(),
                "tshark {args:?} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            Some(String::from_utf8(out.stdout).unwrap())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("skipped: tshark is not on PATH, this check needs it");
            None
        }
        Err(e) => panic!("running tshark: {e}"),
    }
}

/// tshark's new payload bytes per (stream, server port): (client → server, server → client);
/// `None` when tshark is not installed.
fn wire_bytes_from_tshark(path: &Path) -> Option<BTreeMap<(u64, u16), (u64, u64)>> {
    let text = tshark(&[
        "-n",
        "-r",
        path.to_str().unwrap(),
        "-Y",
        "tcp",
        "-T",
        "fields",
        "-e",
        "tcp.stream",
        "-e",
        "tcp.srcport",
        "-e",
        "tcp.dstport",
        "-e",
        "tcp.len",
        "-e",
        "tcp.analysis.retransmission",
        "-e",
        "tcp.flags.syn",
        "-e",
        "tcp.flags.ack",
    ])?;
    let mut server: BTreeMap<u64, u16> = BTreeMap::new();
    let rows: Vec<Vec<String>> = text
        .lines()
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect();
    for r in &rows {
        let stream: u64 = r[0].parse().unwrap();
        let (sport, dport): (u16, u16) = (r[1].parse().unwrap(), r[2].parse().unwrap());
        // The server port: the SYN-ACK's source, else the lower port.
        if r[5] == "1" && r[6] == "1" {
            server.insert(stream, sport);
        }
        server.entry(stream).or_insert(sport.min(dport));
    }
    let mut bytes: BTreeMap<(u64, u16), (u64, u64)> = BTreeMap::new();
    for r in &rows {
        let stream: u64 = r[0].parse().unwrap();
        let port = server[&stream];
        let len: u64 = r[3].parse().unwrap();
        let e = bytes.entry((stream, port)).or_default();
        if r[4] == "1" {
            continue;
        }
        if r[1].parse::<u16>().unwrap() == port {
            e.1 += len;
        } else {
            e.0 += len;
        }
    }
    Some(bytes)
}

#[test]
fn issue_11_header_only_capture_counts_payload_like_tshark() {
    let Some(dir) = util::public_corpus() else {
        eprintln!("skipped: ../shared/captures/public is not present");
        return;
    };
    let path = dir.join("zeek-retransmit-fast009.pcap");
    let streams = summaries(&path);
    let s = &streams[0];
    // tshark: tcp.len summed without retransmissions: 474 c→s, 23,783 s→c.
    assert_eq!(s.client_to_server.payload_bytes, 474);
    assert_eq!(s.server_to_client.payload_bytes, 23_783);
    assert_eq!(s.server_to_client.not_captured_bytes, 23_783);
    assert!(s.server_to_client.retransmissions > 0);
}

/// Every capture with a reference in `tests/refs/tcp-analysis/`: (name, path).
fn referenced_captures() -> Vec<(String, PathBuf)> {
    let public = util::public_corpus();
    let mut out = Vec::new();
    for entry in std::fs::read_dir(refs_dir()).unwrap() {
        let path = entry.unwrap().path();
        let Some(name) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".tsv"))
        else {
            continue;
        };
        let capture = [
            Some(util::fixtures()),
            Some(refs_dir().join("crafted")),
            public.clone(),
        ]
        .into_iter()
        .flatten()
        .map(|d| d.join(name))
        .find(|p| p.is_file());
        if let Some(capture) = capture {
            out.push((name.to_string(), capture));
        }
    }
    out.sort();
    out
}

/// The TCP layer's fields of each frame, with the row's Info.
type TcpRows = BTreeMap<u64, (serde_json::Value, String)>;

/// The TCP layer of each frame of `packets --format ndjson`, with the row's Info.
fn tcp_rows(capture: &Path) -> TcpRows {
    let out = util::run(&["packets", capture.to_str().unwrap(), "--format", "ndjson"]);
    util::ndjson(&out)
        .into_iter()
        .filter_map(|r| {
            let tcp = r["layers"]
                .as_array()?
                .iter()
                .find(|l| l["name"] == "TCP")?
                .clone();
            Some((
                r["number"].as_u64()?,
                (tcp["fields"].clone(), r["info"].as_str()?.to_string()),
            ))
        })
        .collect()
}

fn json_tcp_fields_agree(all: &[(String, PathBuf, TcpRows)]) {
    // The TCP layer of `packets` JSON: `calculated_window` = tshark's tcp.window_size,
    // `window_scale` its scale factor ("unknown" for -1, "not used" for -2, else the
    // multiplier), `analysis` the tcp.analysis.* fields set, the duplicate-ACK number and frame.
    let mut compared = 0;
    let mut mismatches = Vec::new();
    for (name, _, rows) in all {
        let text = std::fs::read_to_string(refs_dir().join(format!("{name}.tsv"))).unwrap();
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
        for line in lines {
            let cols: BTreeMap<&str, &str> = header.iter().copied().zip(line.split('\t')).collect();
            let frame: u64 = cols["frame.number"].parse().unwrap();
            // Frames tshark gives a TCP analysis to but pcaplab does not show as TCP (none
            // expected) count as differences.
            let Some((fields, _)) = rows.get(&frame) else {
                mismatches.push(format!("{name} {frame}: no TCP layer"));
                continue;
            };
            let scale = match cols["tcp.window_size_scalefactor"] {
                "" => serde_json::Value::Null,
                "-1" => "unknown".into(),
                "-2" => "not used".into(),
                n => n.parse::<u64>().unwrap().into(),
            };
            let flags: Vec<String> = AnalysisFlags::ALL
                .iter()
                .map(|f| f.name)
                .filter(|n| !cols[format!("tcp.analysis.{n}").as_str()].is_empty())
                .map(str::to_string)
                .collect();
            let ours_flags: Vec<String> = fields["analysis"]
                .as_array()
                .map(|a| a.iter().map(|v| v.as_str().unwrap().to_string()).collect())
                .unwrap_or_default();
            let pairs = [
                (
                    "calculated_window",
                    cols["tcp.window_size"].to_string(),
                    fields["calculated_window"].to_string(),
                ),
                (
                    "window_scale",
                    scale.to_string(),
                    fields["window_scale"].to_string(),
                ),
                ("analysis", flags.join(","), ours_flags.join(",")),
                (
                    "duplicate_ack_num",
                    cols["tcp.analysis.duplicate_ack_num"].to_string(),
                    fields["duplicate_ack_num"]
                        .as_u64()
                        .map(|n| n.to_string())
                        .unwrap_or_default(),
                ),
            ];
            for (field, want, have) in pairs {
                compared += 1;
                if want != have {
                    mismatches.push(format!(
                        "{name} {frame} {field}: tshark {want}, pcaplab {have}"
                    ));
                }
            }
        }
    }
    eprintln!("json tcp fields: {compared} values compared");
    assert!(compared > 1000, "{compared}");
    util::assert_no_mismatch("json tcp fields", &mismatches);
}

/// Frames whose Info differs from tshark's for a reason outside the TCP analysis: (capture,
/// frame, reason).
const INFO_ALLOWED: [(&str, u64, &str); 2] = [
    (
        "sv-http-close-headers-input.pcap",
        6,
        "tshark names the first segment of a multi-segment HTTP response by its status line \
         (`[TCP segment of a reassembled PDU]`); pcaplab labels the segment that completes it",
    ),
    (
        "zeek-http_large_req_8001.pcap",
        4,
        "tshark names the first segment of a multi-segment HTTP request by its request line \
         (`[TCP segment of a reassembled PDU]`); pcaplab labels the segment that completes it",
    ),
];

fn info_column_agrees(all: &[(String, PathBuf, TcpRows)]) {
    // Wireshark's Info of a TCP segment: its analysis labels (`[TCP Retransmission]`,
    // `[TCP Dup ACK 5#2]`, in Wireshark's order), ports, flags, relative Seq/Ack, the
    // calculated window (`Win=`) and `Len=`. Compared up to `Len=N` (pcaplab does not repeat
    // the TCP options of every segment, as tshark does with TSval/TSecr, SLE/SRE).
    let cut = |s: &str| -> String {
        match s.find(" Len=") {
            Some(i) => {
                let rest = &s[i + 5..];
                let digits = rest.chars().take_while(char::is_ascii_digit).count();
                s[..i + 5 + digits].to_string()
            }
            None => s.to_string(),
        }
    };
    let (mut compared, mut agreed, mut labelled) = (0, 0, 0);
    let mut mismatches = Vec::new();
    for (name, capture, rows) in all {
        let Some(text) = tshark(&[
            "-n",
            "-r",
            capture.to_str().unwrap(),
            "-Y",
            "tcp && !icmp && !icmpv6",
            "-T",
            "fields",
            "-e",
            "frame.number",
            "-e",
            "_ws.col.Protocol",
            "-e",
            "_ws.col.Info",
        ]) else {
            return;
        };
        for line in text.lines() {
            let cols: Vec<&str> = line.splitn(3, '\t').collect();
            let [frame, protocol, info] = cols[..] else {
                continue;
            };
            let frame: u64 = frame.parse().unwrap();
            let Some((_, ours)) = rows.get(&frame) else {
                continue;
            };
            // Segments both sides show as plain TCP (an application's Info is its own).
            if protocol != "TCP" || ours.contains("[continuation of HTTP") || !ours.contains(" → ")
            {
                continue;
            }
            compared += 1;
            if info.starts_with("[TCP ") {
                labelled += 1;
            }
            if cut(info) == cut(ours) {
                agreed += 1;
            } else if !INFO_ALLOWED
                .iter()
                .any(|(f, n, _)| *f == name && *n == frame)
            {
                mismatches.push(format!(
                    "{name} {frame}: tshark {info:?}\n  pcaplab {ours:?}"
                ));
            }
        }
    }
    eprintln!(
        "info: {agreed} of {compared} TCP Info columns agree ({labelled} with analysis labels)"
    );
    assert!(compared > 500 && labelled > 50, "{compared} {labelled}");
    util::assert_no_mismatch("tcp info", &mismatches);
}

#[test]
fn packets_show_the_tcp_analysis_and_window_like_tshark() {
    // One `packets --format ndjson` run per capture for both comparisons.
    let all: Vec<(String, PathBuf, TcpRows)> = referenced_captures()
        .into_iter()
        .map(|(name, capture)| {
            let rows = tcp_rows(&capture);
            (name, capture, rows)
        })
        .collect();
    json_tcp_fields_agree(&all);
    info_column_agrees(&all);
}
