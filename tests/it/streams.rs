//! `streams`, `sticky` and `follow` against independent references: the message boundaries the
//! sending programs wrote down (`fixtures/*.truth.json`), tshark's segment list (`tcp.seq`,
//! `tcp.len` in `*.pcap.tsv`) and tshark's conversation table (`-z conv,tcp`).

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::reference::read_tsv;
use crate::util;

fn json(args: &[&str]) -> Value {
    let out = util::run(args);
    assert_eq!(out.status.code(), Some(0), "{}", util::stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// (message number from 1, part name, bytes) of one message part.
type Part = (u64, String, u64);
/// (frame, relative seq, length, parts) of one data segment.
type SegmentTruth = (u64, u64, u64, Vec<Part>);

/// The oracle: per data segment of one direction, the (message, part, bytes) list computed
/// naively byte by byte from the truth boundaries and tshark's segments.
fn oracle(capture: &str, direction: &str, messages: &[Value]) -> Vec<SegmentTruth> {
    let rows = read_tsv(&util::fixture(&format!("{capture}.pcap.tsv")));
    let truth: Value = serde_json::from_str(
        &std::fs::read_to_string(util::fixture(&format!("{capture}.truth.json"))).unwrap(),
    )
    .unwrap();
    let server_port = truth["server_port"].to_string();
    // Truth files number messages from 0 (`index`); pcaplab numbers them from 1, like frames.
    let mut message_of = Vec::new();
    for m in messages {
        for _ in 0..m["len"].as_u64().unwrap() {
            message_of.push(m["index"].as_u64().unwrap() + 1);
        }
    }
    let mut segments = Vec::new();
    for r in rows {
        let to_server = r.get("tcp.dstport") == server_port;
        let wanted = (direction == "client_to_server") == to_server;
        let len: u64 = r.get("tcp.len").parse().unwrap_or(0);
        if !wanted || len == 0 || r.get("tcp.analysis.retransmission") == "1" {
            continue;
        }
        let seq: u64 = r.get("tcp.seq").parse().unwrap();
        let frame: u64 = r.get("frame.number").parse().unwrap();
        let offset = seq - 1;
        let mut parts: Vec<Part> = Vec::new();
        for b in offset..offset + len {
            let m = message_of[b as usize];
            match parts.last_mut() {
                Some(p) if p.0 == m => p.2 += 1,
                _ => parts.push((m, String::new(), 1)),
            }
        }
        for p in &mut parts {
            let m = &messages[p.0 as usize - 1];
            let (start, end) = (
                m["start"].as_u64().unwrap(),
                m["start"].as_u64().unwrap() + m["len"].as_u64().unwrap(),
            );
            let has_start = start >= offset && start < offset + len;
            let has_end = end > offset && end <= offset + len;
            p.1 = match (has_start, has_end) {
                (true, true) => "whole",
                (true, false) => "head",
                (false, true) => "tail",
                (false, false) => "middle",
            }
            .to_string();
        }
        segments.push((frame, seq, len, parts));
    }
    segments
}

pub(crate) fn check_sticky(capture: &str, framing: &str) -> usize {
    let truth: Value = serde_json::from_str(
        &std::fs::read_to_string(util::fixture(&format!("{capture}.truth.json"))).unwrap(),
    )
    .unwrap();
    let path = util::fixture(&format!("{capture}.pcap"));
    let reports = json(&[
        "sticky",
        path.to_str().unwrap(),
        "--framing",
        framing,
        "--format",
        "json",
    ]);
    let mut checked = 0;
    for d in truth["directions"].as_array().unwrap() {
        let direction = d["direction"].as_str().unwrap();
        let messages = d["messages"].as_array().unwrap();
        let expected = oracle(capture, direction, messages);
        let report = reports
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["direction"] == direction)
            .unwrap_or_else(|| panic!("{capture}: no report for {direction}"));
        let coalesced = expected.iter().filter(|s| s.3.len() > 1).count() as u64;
        let mut spans: BTreeMap<u64, usize> = BTreeMap::new();
        for s in &expected {
            for p in &s.3 {
                *spans.entry(p.0).or_default() += 1;
            }
        }
        let split = spans.values().filter(|n| **n > 1).count() as u64;
        let what = format!("{capture} {direction}");
        assert_eq!(report["messages"], messages.len(), "{what}: messages");
        assert_eq!(
            report["data_segments"],
            expected.len(),
            "{what}: data segments"
        );
        assert_eq!(report["coalesced_segments"], coalesced, "{what}: coalesced");
        assert_eq!(report["split_messages"], split, "{what}: split");
        let got = report["segments"].as_array().unwrap();
        assert_eq!(got.len(), expected.len(), "{what}");
        for (g, e) in got.iter().zip(&expected) {
            assert_eq!(g["frame"], e.0, "{what}");
            assert_eq!(g["rel_seq"], e.1, "{what} frame {}", e.0);
            assert_eq!(g["len"], e.2, "{what} frame {}", e.0);
            let parts: Vec<Part> = g["parts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    (
                        p["message"].as_u64().unwrap(),
                        p["part"].as_str().unwrap().to_string(),
                        p["bytes"].as_u64().unwrap(),
                    )
                })
                .collect();
            assert_eq!(parts, e.3, "{what} frame {}", e.0);
            checked += 1;
        }
    }
    checked
}

#[test]
fn length_prefixed_burst_matches_the_senders_boundaries() {
    // Auto-detection must find the 4-byte big-endian prefix the program used.
    assert!(check_sticky("sticky-lenprefix", "auto") > 0);
    assert!(check_sticky("sticky-lenprefix", "len:4") > 0);
}

#[test]
fn line_chat_matches_both_directions() {
    assert!(check_sticky("line-chat", "auto") > 0);
}

#[test]
fn one_large_message_is_split_over_every_segment() {
    assert!(check_sticky("split-200k", "len:4") > 90);
}

#[test]
fn unframed_burst_is_reported_without_invented_boundaries() {
    let path = util::fixture("sticky-raw.pcap");
    let reports = json(&["sticky", path.to_str().unwrap(), "--format", "json"]);
    let c2s = &reports[0];
    // Issue 12: no framing fits, so the boundaries are unknown — not "0 coalesced, 0 split".
    assert_eq!(c2s["framing"], "none");
    assert_eq!(c2s["status"], "unknown");
    assert_eq!(c2s["messages"], Value::Null);
    assert_eq!(c2s["coalesced_segments"], Value::Null);
    assert_eq!(c2s["split_messages"], Value::Null);
    // The truth file's first message is `01:aa`, the second `02:bbbbbbbbb`.
    assert!(
        c2s["first_bytes"]["text"]
            .as_str()
            .unwrap()
            .starts_with("01:aa02:bbbbbbbbb"),
        "{}",
        c2s["first_bytes"]
    );
    // With the real framing unknown to pcaplab, its data segments are still all listed.
    let expected = oracle(
        "sticky-raw",
        "client_to_server",
        &[serde_json::json!({"index": 0, "start": 0, "len": 1_000_000})],
    );
    assert_eq!(c2s["data_segments"], expected.len());
}

/// `tshark -z conv,tcp` lines: (endpoint pair, frames, bytes), endpoints sorted.
fn conversations(path: &Path) -> BTreeMap<(String, String), (u64, u64)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = BTreeMap::new();
    for line in text.lines().filter(|l| l.contains("<->")) {
        let cols: Vec<&str> = line.split_whitespace().collect();
        let (a, b) = (cols[0].to_string(), cols[2].to_string());
        // a <-> b | frames bytes "bytes" (b→a) | frames bytes (a→b) | total frames bytes ...
        let num = |i: usize| cols[i].parse::<u64>().unwrap();
        let total_frames = num(9);
        // tshark prints sizes with SI units: `5477 bytes`, `214 kB` (214652 bytes), `1 MB`.
        let total_bytes = match cols[11] {
            "kB" => num(10) * 1000,
            "MB" => num(10) * 1_000_000,
            _ => num(10),
        };
        let key = if a <= b { (a, b) } else { (b, a) };
        let e = out.entry(key).or_insert((0, 0));
        e.0 += total_frames;
        e.1 += total_bytes;
    }
    out
}

fn ours(path: &Path) -> BTreeMap<(String, String), (u64, u64)> {
    let rows = json(&["streams", path.to_str().unwrap(), "--format", "json"]);
    let mut out = BTreeMap::new();
    for r in rows.as_array().unwrap() {
        let (a, b) = (
            r["client"].as_str().unwrap().to_string(),
            r["server"].as_str().unwrap().to_string(),
        );
        let key = if a <= b { (a, b) } else { (b, a) };
        let e = out.entry(key).or_insert((0, 0));
        e.0 += r["packets"].as_u64().unwrap();
        e.1 += r["bytes_client_to_server"].as_u64().unwrap()
            + r["bytes_server_to_client"].as_u64().unwrap();
    }
    out
}

#[test]
fn stream_packets_and_bytes_match_tshark_conversations() {
    let mut sets = vec![util::fixtures()];
    if let Some(dir) = util::public_corpus() {
        sets.push(dir);
    } else {
        eprintln!("public corpus absent: fixtures only");
    }
    let mut compared = 0;
    let mut mismatches = Vec::new();
    for dir in sets {
        let conv_dir = if dir.join("expected").is_dir() {
            dir.join("expected")
        } else {
            dir.clone()
        };
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            // tshark 4.0 lists no conversation for packets cut by snaplen; snaplen-64.pcap was
            // captured in the same run as lo-ethernet.pcap (same packets, full length), whose
            // table is the reference (fixtures/README.md).
            let reference = if name == "snaplen-64.pcap" {
                "lo-ethernet.pcap"
            } else {
                &name
            };
            let conv = conv_dir.join(format!("{reference}.conv.txt"));
            // Left out: cut files (tshark stops with an error).
            if !conv.is_file() || name.starts_with("cut-") || name.contains("truncated-hdr") {
                continue;
            }
            // tshark counts IPv6 and IPv4 addresses in brackets-free form; both sides print
            // `addr:port`, and IPv6 addresses contain colons, so only IPv4 lines are compared.
            let expected: BTreeMap<_, _> = conversations(&conv)
                .into_iter()
                .filter(|((a, _), _)| a.matches(':').count() == 1)
                .collect();
            let got: BTreeMap<_, _> = ours(&path)
                .into_iter()
                .filter(|((a, _), _)| a.matches(':').count() == 1)
                .collect();
            // tshark rounds down to its unit: compare in that unit.
            let in_unit = |bytes: u64, t: u64| -> u64 {
                if t.is_multiple_of(1_000_000) && t >= 1_000_000 {
                    bytes / 1_000_000 * 1_000_000
                } else if t.is_multiple_of(1000) && t >= 1000 {
                    bytes / 1000 * 1000
                } else {
                    bytes
                }
            };
            let got: BTreeMap<_, _> = got
                .into_iter()
                .map(|(k, (f, b))| {
                    let t = expected.get(&k).map_or(b, |e| e.1);
                    (k, (f, in_unit(b, t)))
                })
                .collect();
            if expected != got {
                mismatches.push(format!("{name}: tshark {expected:?}\n  pcaplab {got:?}"));
            }
            compared += 1;
        }
    }
    assert!(compared > 30, "compared {compared} captures");
    util::assert_no_mismatch("conversations", &mismatches);
}

#[test]
fn handshake_and_close_follow_the_flags() {
    let rows = json(&[
        "streams",
        util::fixture("lo-ethernet.pcap").to_str().unwrap(),
        "--format",
        "json",
    ]);
    // The exchange program connects, sends, shuts down its write side and the server closes:
    // frames 11-13 are the handshake, 22-24 the FIN close (lo-ethernet.pcap.tsv).
    assert_eq!(rows[0]["handshake"], "complete");
    assert_eq!(rows[0]["handshake_frames"]["syn"], 11);
    assert_eq!(rows[0]["handshake_frames"]["syn_ack"], 12);
    assert_eq!(rows[0]["handshake_frames"]["ack"], 13);
    assert_eq!(rows[0]["close"], "four_way");
    assert_eq!(rows[0]["close_frames"]["first_fin"], 22);
    assert_eq!(rows[0]["close_frames"]["second_fin"], 23);
    if let Some(dir) = util::public_corpus() {
        // Two RSTs from the server (tshark: flags=rst:2).
        let rows = json(&[
            "streams",
            dir.join("zeek-get-to-ssh-server.pcap").to_str().unwrap(),
            "--format",
            "json",
        ]);
        assert_eq!(rows[0]["close"], "reset_by_server");
        let rows = json(&[
            "streams",
            dir.join("sv-eve-payload-05-tcp-data-gap-tcp-simple-gap2.pcap")
                .to_str()
                .unwrap(),
            "--format",
            "json",
        ]);
        assert_eq!(rows[0]["gap_bytes"], 4, "the crafted 4-byte hole");
    }
}

#[test]
fn follow_raw_gives_the_exact_bytes_of_one_direction() {
    let out = util::run(&[
        "follow",
        util::fixture("split-200k.pcap").to_str().unwrap(),
        "--stream",
        "0",
        "--as",
        "raw",
        "--dir",
        "c2s",
    ]);
    assert_eq!(out.status.code(), Some(0));
    // Truth: a 4-byte big-endian prefix of 200000, then byte k = (7k + 3) mod 256.
    let bytes = out.stdout;
    assert_eq!(bytes.len(), 200_004);
    assert_eq!(&bytes[..4], &200_000u32.to_be_bytes());
    assert!(
        bytes[4..]
            .iter()
            .enumerate()
            .all(|(k, b)| *b == ((7 * k + 3) % 256) as u8)
    );
}

#[test]
fn follow_text_marks_segments_and_messages() {
    let out = util::run(&[
        "follow",
        util::fixture("line-chat.pcap").to_str().unwrap(),
        "--stream",
        "0",
        "--framing",
        "line",
    ]);
    let text = util::stdout(&out);
    assert!(text.contains("client → server"));
    assert!(text.contains("server → client"));
    assert_eq!(text.matches("┈┈ message ").count(), 16, "8 lines each way");
    assert!(text.contains("HELLO alice from the socket programming lab"));
}

#[test]
fn unknown_stream_is_an_error() {
    let out = util::run(&[
        "follow",
        util::fixture("lo-ethernet.pcap").to_str().unwrap(),
        "--stream",
        "7",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(util::stderr(&out).contains("no TCP stream 7"));
}

/// A raw-IPv4 pcap of TCP segments `(from_client, seq, flags, payload)` between
/// 10.0.0.1:40000 and 10.0.0.2:9000.
pub(crate) fn tcp_pcap(segments: &[(bool, u32, u8, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&[0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0]);
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&65535u32.to_le_bytes());
    out.extend_from_slice(&101u32.to_le_bytes());
    for (i, (from_client, seq, flags, payload)) in segments.iter().enumerate() {
        let (src, dst, sp, dp) = if *from_client {
            ([10, 0, 0, 1], [10, 0, 0, 2], 40000, 9000)
        } else {
            ([10, 0, 0, 2], [10, 0, 0, 1], 9000, 40000)
        };
        let mut b = etherparse::PacketBuilder::ipv4(src, dst, 64).tcp(sp, dp, *seq, 65535);
        if flags & 0x02 != 0 {
            b = b.syn();
        }
        if flags & 0x10 != 0 {
            b = b.ack(if *from_client { 5001 } else { 1001 });
        }
        let mut packet = Vec::new();
        b.write(&mut packet, payload).unwrap();
        out.extend_from_slice(&(1_700_000_000u32 + i as u32).to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&(packet.len() as u32).to_le_bytes());
        out.extend_from_slice(&(packet.len() as u32).to_le_bytes());
        out.extend_from_slice(&packet);
    }
    out
}

#[test]
fn buffer_limit_turns_skipped_bytes_into_a_reported_gap() {
    let data = [b'a'; 100];
    let capture = tcp_pcap(&[
        (true, 1000, 0x02, &[]),
        (false, 5000, 0x12, &[]),
        (true, 1001, 0x10, &[]),
        // The second 100 bytes arrive first and must wait for the first 100.
        (true, 1101, 0x10, &data),
        (true, 1001, 0x10, &data),
    ]);
    let file = std::env::temp_dir().join(format!("pcaplab-limit-{}.pcap", std::process::id()));
    std::fs::write(&file, capture).unwrap();
    let path = file.to_str().unwrap();
    // Default limits: the reordering is absorbed, nothing is lost.
    let rows = json(&["streams", path, "--format", "json"]);
    assert_eq!(rows[0]["gap_bytes"], 0);
    assert_eq!(rows[0]["out_of_order"], 1);
    // A 10-byte cap cannot hold the early segment: the skipped bytes are reported, not lost
    // silently.
    let out = util::run(&[
        "streams",
        path,
        "--format",
        "json",
        "--max-buffer-per-direction",
        "10",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        util::stderr(&out).contains("memory limits were hit"),
        "{}",
        util::stderr(&out)
    );
    let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(rows[0]["gap_bytes"].as_u64().unwrap() > 0, "{rows}");
    let _ = std::fs::remove_file(&file);
}

#[test]
fn bytes_cut_by_the_snap_length_are_framing_issues_of_the_capture_not_losses() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/cases/snaplen-cut-http.pcap");
    if !path.exists() {
        eprintln!("skipped: ../shared/cases/snaplen-cut-http.pcap is not present");
        return;
    }
    // cases/README.md: the cut bytes are counted as not captured, not as loss gaps. tshark
    // (tcp.len per segment minus the 74 bytes captured): 926 bytes in each of three segments and
    // 7 in the fourth.
    let rows = json(&["streams", path.to_str().unwrap(), "-f", "json"]);
    let row = &rows[0];
    assert_eq!(row["gap_bytes"], 0);
    let issues = row["framing_issues"].as_array().unwrap();
    let reasons: Vec<&str> = issues
        .iter()
        .map(|i| i["reason"].as_str().unwrap())
        .collect();
    assert!(!reasons.is_empty());
    assert!(
        reasons
            .iter()
            .all(|r| r.contains("snap length") && !r.contains("lost")),
        "{reasons:?}"
    );
    let cut: Vec<u64> = reasons
        .iter()
        .map(|r| r.split_whitespace().next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(cut, vec![926, 926, 926, 7]);
    assert!(issues.iter().all(|i| i["kind"] == "capture"), "{issues:?}");
}
