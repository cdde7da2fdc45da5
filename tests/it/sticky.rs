//! `sticky`, `streams` and `follow` on the cases of issues 11 (auto framing of large
//! messages), 12 (unknown boundaries said so, framing errors, follow showing UTF-8) and 13
//! (no over-long lines in a pipe).
//!
//! References are independent of pcaplab: each capture is read here with a small pcap reader
//! and etherparse, the bytes of each direction are put back together by sequence number, and
//! the course's framing (`struct.pack('!I', n)` before each message) is walked here; truth
//! files written by the programs that made the fixtures; the values `../shared/cases/README.md`
//! names. Tests on `../shared` captures skip with a note when it is absent.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util;

fn truth(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(util::fixture(name)).unwrap()).unwrap()
}

/// Runs pcaplab; returns (exit code, stdout as JSON, stderr).
fn json_run(args: &[&str]) -> (i32, Value, String) {
    let out = util::run(args);
    let stdout: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", util::stdout(&out)));
    (out.status.code().unwrap(), stdout, util::stderr(&out))
}

/// The sticky reports of `path` with `framing`, and the exit code.
fn sticky(path: &Path, framing: &str) -> (i32, Vec<Value>) {
    let (code, v, _) = json_run(&[
        "sticky",
        path.to_str().unwrap(),
        "--framing",
        framing,
        "--format",
        "json",
    ]);
    (code, v.as_array().unwrap().clone())
}

fn report<'a>(reports: &'a [Value], direction: &str) -> &'a Value {
    reports
        .iter()
        .find(|r| r["direction"] == direction)
        .unwrap_or_else(|| panic!("no report for {direction}"))
}

/// A TCP segment of the capture's one connection.
#[derive(Debug, Clone)]
struct Segment {
    frame: u64,
    from_client: bool,
    seq: u32,
    syn: bool,
    payload: Vec<u8>,
}

/// The TCP segments of a little-endian, microsecond pcap with Ethernet frames, read here.
fn tcp_segments(path: &Path) -> Vec<Segment> {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(
        &bytes[..4],
        &[0xd4, 0xc3, 0xb2, 0xa1],
        "a little-endian pcap"
    );
    assert_eq!(
        u32::from_le_bytes(bytes[20..24].try_into().unwrap()) & 0xffff,
        1
    );
    let mut at = 24;
    let mut frame = 0;
    let mut client_port = None;
    let mut out = Vec::new();
    while at + 16 <= bytes.len() {
        let caplen = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
        let data = &bytes[at + 16..at + 16 + caplen];
        at += 16 + caplen;
        frame += 1;
        let Ok(p) = etherparse::SlicedPacket::from_ethernet(data) else {
            continue;
        };
        let Some(etherparse::TransportSlice::Tcp(tcp)) = p.transport else {
            continue;
        };
        if tcp.syn() && !tcp.ack() {
            client_port = Some(tcp.source_port());
        }
        let from_client = Some(tcp.source_port()) == client_port;
        out.push(Segment {
            frame,
            from_client,
            seq: tcp.sequence_number(),
            syn: tcp.syn(),
            payload: tcp.payload().to_vec(),
        });
    }
    out
}

/// One direction put back together: its bytes, and its data segments (frame, offset, length
/// of the new bytes; retransmissions left out).
struct Side {
    bytes: Vec<u8>,
    data_segments: Vec<(u64, u64, u64)>,
}

fn side(segments: &[Segment], from_client: bool) -> Side {
    let mine: Vec<&Segment> = segments
        .iter()
        .filter(|s| s.from_client == from_client)
        .collect();
    let isn = mine
        .iter()
        .find(|s| s.syn)
        .expect("the SYN was captured")
        .seq;
    let mut bytes = Vec::new();
    let mut data_segments = Vec::new();
    for s in mine.iter().filter(|s| !s.payload.is_empty()) {
        let offset = u64::from(s.seq.wrapping_sub(isn).wrapping_sub(1));
        let end = offset + s.payload.len() as u64;
        if end <= bytes.len() as u64 {
            continue; // a retransmission
        }
        assert_eq!(offset, bytes.len() as u64, "in order on loopback");
        bytes.extend_from_slice(&s.payload);
        data_segments.push((s.frame, offset, s.payload.len() as u64));
    }
    Side {
        bytes,
        data_segments,
    }
}

/// The course's framing walked here: a 4-byte big-endian payload length before each message.
/// Returns each message's (start, length with the prefix), and whether the walk ended exactly
/// at the end of the bytes.
fn len4_messages(bytes: &[u8]) -> (Vec<(u64, u64)>, bool) {
    let mut at = 0usize;
    let mut out = Vec::new();
    while at + 4 <= bytes.len() {
        let n = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        if at + 4 + n > bytes.len() {
            return (out, false);
        }
        out.push((at as u64, 4 + n as u64));
        at += 4 + n;
    }
    (out, at == bytes.len())
}

/// (message number from 1, part, bytes) per data segment, worked out byte by byte.
type Parts = Vec<(u64, String, u64)>;

fn oracle(data_segments: &[(u64, u64, u64)], messages: &[(u64, u64)]) -> Vec<(u64, Parts)> {
    data_segments
        .iter()
        .map(|&(frame, offset, len)| {
            let mut parts: Parts = Vec::new();
            for (i, &(start, mlen)) in messages.iter().enumerate() {
                let end = start + mlen;
                let (lo, hi) = (offset.max(start), (offset + len).min(end));
                if lo >= hi {
                    continue;
                }
                let has_first = (offset..offset + len).contains(&start);
                let has_last = end > offset && end <= offset + len;
                let part = match (has_first, has_last) {
                    (true, true) => "whole",
                    (true, false) => "head",
                    (false, true) => "tail",
                    (false, false) => "middle",
                };
                parts.push((i as u64 + 1, part.to_string(), hi - lo));
            }
            (frame, parts)
        })
        .collect()
}

fn parts_of(report: &Value) -> Vec<(u64, Parts)> {
    report["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let parts = s["parts"]
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
            (s["frame"].as_u64().unwrap(), parts)
        })
        .collect()
}

fn counts(parts: &[(u64, Parts)]) -> (u64, u64) {
    let coalesced = parts.iter().filter(|(_, p)| p.len() > 1).count() as u64;
    let mut spans: BTreeMap<u64, u64> = BTreeMap::new();
    for (_, p) in parts {
        for part in p {
            *spans.entry(part.0).or_default() += 1;
        }
    }
    (coalesced, spans.values().filter(|n| **n > 1).count() as u64)
}

/// Checks a direction that the course's length prefix frames against the walk done here.
fn assert_len4_direction(path: &Path, r: &Value, from_client: bool) -> Vec<(u64, u64)> {
    let side = side(&tcp_segments(path), from_client);
    let (messages, exact) = len4_messages(&side.bytes);
    assert!(exact, "the course's prefixes end exactly");
    let expected = oracle(&side.data_segments, &messages);
    let (coalesced, split) = counts(&expected);
    assert_eq!(r["framing"], "len:4");
    assert_eq!(r["status"], "framed", "{r}");
    assert_eq!(r["issues"], serde_json::json!([]));
    assert_eq!(r["messages"], messages.len() as u64);
    assert_eq!(r["data_segments"], side.data_segments.len() as u64);
    assert_eq!(r["coalesced_segments"], coalesced);
    assert_eq!(r["split_messages"], split);
    assert_eq!(parts_of(r), expected);
    messages
}

#[test]
fn issue_11_auto_frames_the_course_file_transfer_by_its_4_byte_prefix() {
    let Some(path) = util::shared_case("course-filexfer-128k.pcap") else {
        return;
    };
    let (code, reports) = sticky(&path, "auto");
    assert_eq!(code, 0);
    // cases/README.md: c→s `len:4`, 2 messages (a file name, then the 128 KiB file), no
    // framing error — whatever the size of the second message.
    let c2s = report(&reports, "client_to_server");
    assert_eq!(c2s["auto"], true);
    let messages = assert_len4_direction(&path, c2s, true);
    assert_eq!(messages.len(), 2);
    // The second message is larger than the 64 KiB the old detection looked at.
    assert!(messages[1].1 > 64 * 1024, "{messages:?}");
    // The first is the file name.
    let bytes = side(&tcp_segments(&path), true).bytes;
    let name = &bytes[4..messages[0].1 as usize];
    assert!(name.iter().all(|b| b.is_ascii_graphic()), "{name:?}");
    // The server's bare `OK` is unframed text: its boundaries are unknown, not an error of
    // the client's stream.
    let s2c = report(&reports, "server_to_client");
    assert_eq!(s2c["status"], "unknown");
    assert_eq!(s2c["issues"], serde_json::json!([]));
    assert_eq!(s2c["messages"], Value::Null);
    assert_eq!(s2c["first_bytes"]["text"], "OK");
    // `streams` says the same and lists no framing issue.
    let (_, rows, _) = json_run(&["streams", path.to_str().unwrap(), "-f", "json"]);
    assert_eq!(rows[0]["framing"], "len:4 / unknown");
    assert_eq!(rows[0]["framing_issues"], serde_json::json!([]));
}

#[test]
fn issue_11_course_sticky_fix_keeps_every_boundary_of_its_explicit_framing() {
    let Some(path) = util::shared_case("course-sticky-fixed.pcap") else {
        return;
    };
    let (_, auto) = sticky(&path, "auto");
    let (_, explicit) = sticky(&path, "len:4");
    let auto_c2s = report(&auto, "client_to_server");
    let messages = assert_len4_direction(&path, auto_c2s, true);
    // cases/README.md: 10 small messages, then a large one.
    assert_eq!(messages.len(), 11);
    let explicit_c2s = report(&explicit, "client_to_server");
    assert_eq!(parts_of(auto_c2s), parts_of(explicit_c2s));
    assert_eq!(auto_c2s["messages"], explicit_c2s["messages"]);
}

#[test]
fn issue_11_one_message_of_200_000_bytes_is_found_by_auto() {
    // split-200k.truth.json: one message, prefix included 200,004 bytes, over 99 segments.
    let t = truth("split-200k.truth.json");
    let path = util::fixture("split-200k.pcap");
    let (_, reports) = sticky(&path, "auto");
    let c2s = report(&reports, "client_to_server");
    let messages = assert_len4_direction(&path, c2s, true);
    assert_eq!(messages, vec![(0, 200_004)]);
    let truth_messages = t["directions"][0]["messages"].as_array().unwrap();
    assert_eq!(truth_messages.len(), 1);
    assert_eq!(truth_messages[0]["len"], 200_004);
    assert_eq!(c2s["split_messages"], 1);
    assert!(crate::streams::check_sticky("split-200k", "auto") > 90);
}

#[test]
fn ladder_sticky_burst_has_the_truth_parts_on_every_frame() {
    let t = truth("ladder-sticky-burst.truth.json");
    let (code, reports) = sticky(&util::fixture("ladder-sticky-burst.pcap"), "auto");
    assert_eq!(code, 0);
    let c2s = report(&reports, "client_to_server");
    assert_eq!(c2s["framing"], "len:4");
    assert_eq!(c2s["coalesced_segments"], t["coalesced_segments"]);
    assert_eq!(c2s["split_messages"], t["split_messages"]);
    assert_eq!(c2s["data_segments"], t["data_segments"]);
    assert_eq!(t["coalesced_segments"], 4);
    assert_eq!(t["split_messages"], 3);
    let expected: Vec<(u64, Parts)> = t["arrows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a.get("parts").is_some())
        .map(|a| {
            let parts = a["parts"]
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
            (a["frame"].as_u64().unwrap(), parts)
        })
        .collect();
    assert_eq!(expected.len(), 5);
    assert_eq!(parts_of(c2s), expected);
    // The table names the parts as the truth's notes do (`msg 2 whole + msg 3 whole + …`).
    let out = util::run(&[
        "sticky",
        util::fixture("ladder-sticky-burst.pcap").to_str().unwrap(),
    ]);
    let text = util::stdout(&out);
    assert!(
        text.contains("msg 2 whole 44 B + msg 3 whole 13 B + msg 4 head 19 B"),
        "{text}"
    );
}

#[test]
fn issue_12_student_chat_without_delimiter_has_unknown_boundaries_one_way_only() {
    let t = truth("student-chat-wrong.truth.json");
    let path = util::fixture("student-chat-wrong.pcap");
    let (code, reports) = sticky(&path, "auto");
    assert_eq!(code, 0, "auto never fails");
    let c2s = report(&reports, "client_to_server");
    assert_eq!(c2s["status"], "unknown");
    for key in ["messages", "coalesced_segments", "split_messages"] {
        assert_eq!(c2s[key], Value::Null, "{key}");
    }
    // The first bytes are the three messages the client sent back to back.
    let sent: String = t["directions"][0]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(sent, "你好how are you?bye");
    assert_eq!(c2s["first_bytes"]["text"], sent.as_str());
    assert!(
        c2s["first_bytes"]["hex"]
            .as_str()
            .unwrap()
            .starts_with("e4 bd a0 e5 a5 bd 68 6f 77")
    );
    let tried = c2s["tried"].as_array().unwrap();
    let line = tried.iter().find(|t| t["framing"] == "line").unwrap();
    assert!(
        line["reason"]
            .as_str()
            .unwrap()
            .contains("no line feed (LF) in its 21 bytes")
    );
    let len4 = tried.iter().find(|t| t["framing"] == "len:4").unwrap();
    assert_eq!(len4["offset"], 0);
    // 0xe4bda0e5: the first 4 bytes of 你好 read as a length.
    assert!(
        len4["reason"].as_str().unwrap().contains("3,837,632,741"),
        "{len4}"
    );
    // Server to client: two LF-terminated lines (the truth's 27 + 7 bytes).
    let s2c = report(&reports, "server_to_client");
    assert_eq!(s2c["framing"], "line");
    assert_eq!(s2c["status"], "framed");
    assert_eq!(s2c["messages"], 2);
    let lens: Vec<u64> = t["directions"][1]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["len"].as_u64().unwrap())
        .collect();
    assert_eq!(lens, vec![27, 7]);
    assert_eq!(
        parts_of(s2c),
        vec![
            (8, vec![(1, "whole".to_string(), 27)]),
            (12, vec![(2, "whole".to_string(), 7)])
        ]
    );
    // The table says it plainly, once, with the fix and the recv() note.
    let out = util::run(&["sticky", path.to_str().unwrap()]);
    let text = util::stdout(&out);
    assert_eq!(
        text.matches("message boundaries unknown").count(),
        1,
        "{text}"
    );
    assert!(text.contains("stream 0 client → server: message boundaries unknown"));
    assert!(text.contains("first bytes as text: 你好how are you?bye"));
    assert!(text.contains("struct.pack('!I', len(data))"));
    assert!(text.contains("not recv() boundaries"));
}

#[test]
fn issue_12_explicit_framing_that_does_not_fit_exits_1() {
    let path = util::fixture("student-chat-wrong.pcap");
    let (code, reports) = sticky(&path, "line");
    assert_eq!(code, 1);
    let c2s = report(&reports, "client_to_server");
    assert_eq!(c2s["status"], "failed");
    assert_eq!(c2s["issues"][0]["offset"], 0);
    assert_eq!(c2s["issues"][0]["kind"], "mismatch");
    assert_eq!(report(&reports, "server_to_client")["status"], "framed");
    let out = util::run(&["sticky", path.to_str().unwrap(), "--framing", "line"]);
    assert_eq!(out.status.code(), Some(1));
    let err = util::stderr(&out);
    assert!(
        err.contains("framing line does not fit 1 direction: stream 0 client → server"),
        "{err}"
    );
    // The error is printed once, naming the direction.
    let text = util::stdout(&out);
    assert_eq!(text.matches("missing line terminator").count(), 1, "{text}");
    // The same capture framed as it really is passes; `none` never fails.
    assert_eq!(sticky(&path, "none").0, 0);
}

#[test]
fn issue_12_student_length_prefix_programs() {
    for (name, wrong) in [
        ("student-lenprefix-correct", false),
        ("student-lenprefix-wrong", true),
    ] {
        let t = truth(&format!("{name}.truth.json"));
        let path = util::fixture(&format!("{name}.pcap"));
        let lens: Vec<u64> = t["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["len"].as_u64().unwrap())
            .collect();
        assert_eq!(lens, vec![1204, 3004, 504]);
        let (code, auto) = sticky(&path, "auto");
        assert_eq!(code, 0);
        let c2s = report(&auto, "client_to_server");
        if !wrong {
            assert_eq!(c2s["framing"], "len:4");
            assert_eq!(c2s["status"], "framed");
            assert_eq!(c2s["messages"], 3);
            assert_len4_direction(&path, c2s, true);
            continue;
        }
        // The second prefix announces 3,004 bytes for 3,000: reading it, the next prefix is
        // taken at 1,204 + 4 + 3,004 = 4,212, inside the third file.
        let second = &t["messages"][1];
        let at = second["start"].as_u64().unwrap() + 4 + second["announced"].as_u64().unwrap();
        assert_eq!(at, 4212);
        assert_eq!(c2s["status"], "unknown");
        let len4 = c2s["tried"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["framing"] == "len:4")
            .unwrap();
        assert_eq!(len4["offset"], at);
        assert!(
            len4["reason"]
                .as_str()
                .unwrap()
                .starts_with("messages 1 to 2 fit, then")
        );
        let (code, explicit) = sticky(&path, "len:4");
        assert_eq!(code, 1);
        let c2s = report(&explicit, "client_to_server");
        assert_eq!(c2s["status"], "failed");
        assert_eq!(c2s["issues"].as_array().unwrap().len(), 1);
        assert_eq!(c2s["issues"][0]["offset"], at);
        assert!(
            c2s["issues"][0]["reason"]
                .as_str()
                .unwrap()
                .contains("message 3")
        );
        // `streams` shows the error too, naming the direction, once.
        let (_, rows, _) = json_run(&[
            "streams",
            path.to_str().unwrap(),
            "-f",
            "json",
            "--framing",
            "len:4",
        ]);
        assert_eq!(rows[0]["framing"], "len:4 (error) / len:4");
        assert_eq!(
            rows[0]["framing_issues"][0]["direction"],
            "client_to_server"
        );
        assert_eq!(rows[0]["framing_issues"][0]["offset"], at);
        assert_eq!(rows[0]["framing_issues"][0]["kind"], "mismatch");
        let out = util::run(&["streams", path.to_str().unwrap(), "--framing", "len:4"]);
        let text = util::stdout(&out);
        assert_eq!(text.matches("framing issues:").count(), 1, "{text}");
        assert_eq!(
            text.matches("stream 0 client → server (len:4), offset 4,212:")
                .count(),
            1
        );
    }
}

/// A raw-IPv4 pcap of the TCP segments `(from_client, seq, payload)` after a handshake
/// between 10.0.0.1:40000 and 10.0.0.2:9000 (client ISN 1000, server ISN 5000).
fn crafted(segments: &[(bool, u32, &[u8])]) -> PathBuf {
    let mut all: Vec<(bool, u32, u8, &[u8])> = vec![
        (true, 1000, 0x02, &[]),
        (false, 5000, 0x12, &[]),
        (true, 1001, 0x10, &[]),
    ];
    all.extend(segments.iter().map(|&(c, seq, p)| (c, seq, 0x10, p)));
    let capture = crate::streams::tcp_pcap(&all);
    let file = tempfile::Builder::new()
        .suffix(".pcap")
        .tempfile()
        .unwrap()
        .into_temp_path()
        .keep()
        .unwrap();
    std::fs::write(&file, capture).unwrap();
    file
}

#[test]
fn issue_13_long_part_lists_are_summarised_in_a_pipe_and_whole_in_json() {
    // One segment carrying 300 length-prefixed messages of 1 byte each.
    let mut payload = Vec::new();
    for i in 0..300u32 {
        payload.extend_from_slice(&1u32.to_be_bytes());
        payload.push((i % 26) as u8 + b'a');
    }
    let path = crafted(&[(true, 1001, &payload)]);
    let out = util::run(&["sticky", path.to_str().unwrap(), "--framing", "len:4"]);
    assert_eq!(out.status.code(), Some(0));
    let text = util::stdout(&out);
    let longest = text.lines().map(|l| l.chars().count()).max().unwrap();
    assert!(longest <= 120, "a line of {longest} characters:\n{text}");
    assert!(
        text.contains(
            "msg 1 whole 5 B + msgs 2–299 whole (298 messages, 1,490 B) + msg 300 whole 5 B"
        ),
        "{text}"
    );
    let (_, reports) = sticky(&path, "len:4");
    let parts = reports[0]["segments"][0]["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 300);
    assert_eq!(parts[0]["message"], 1);
    assert_eq!(parts[299]["message"], 300);
    // CSV keeps the whole list (it is data), JSON too.
    let out = util::run(&[
        "sticky",
        path.to_str().unwrap(),
        "--framing",
        "len:4",
        "-f",
        "csv",
    ]);
    assert!(util::stdout(&out).contains("msg 150 whole 5 B + msg 151 whole 5 B"));
    let _ = std::fs::remove_file(&path);
}

#[test]
fn issue_12_follow_shows_utf8_as_text_and_marks_fin_and_rst() {
    // student-chat-correct: UTF-8 lines both ways; the client's FIN is frame 17, the server's
    // frame 18 (fixtures/README.md).
    let t = truth("student-chat-correct.truth.json");
    let out = util::run(&[
        "follow",
        util::fixture("student-chat-correct.pcap").to_str().unwrap(),
        "--stream",
        "0",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = util::stdout(&out);
    for d in t["directions"].as_array().unwrap() {
        for m in d["messages"].as_array().unwrap() {
            let line = m["text"].as_str().unwrap();
            assert!(text.contains(&format!("{line}\n")), "{line} in\n{text}");
        }
    }
    assert!(
        text.contains(
            "━━ frame 17 · FIN from the client (127.0.0.1:35498): client → server closed"
        ),
        "{text}"
    );
    assert!(
        text.contains("━━ frame 18 · FIN from the server (127.0.0.1:8008): server → client closed")
    );
    // student-chat-wrong: the client's SO_LINGER close is a RST in frame 13 (truth `wire.rst`).
    let t = truth("student-chat-wrong.truth.json");
    assert_eq!(t["wire"]["rst"][0]["frame"], 13);
    assert_eq!(t["wire"]["rst"][0]["by"], "client");
    let out = util::run(&[
        "follow",
        util::fixture("student-chat-wrong.pcap").to_str().unwrap(),
        "--stream",
        "0",
    ]);
    let text = util::stdout(&out);
    assert_eq!(
        text.matches(
            "━━ frame 13 · RST from the client (127.0.0.1:35514): the connection is reset"
        )
        .count(),
        1,
        "{text}"
    );
    assert!(text.contains("收到: 你好how are you?\n"));
}

#[test]
fn issue_12_follow_course_chat_in_chinese() {
    let Some(path) = util::shared_case("course-chat-utf8.pcap") else {
        return;
    };
    let out = util::run(&["follow", path.to_str().unwrap(), "--stream", "0"]);
    assert_eq!(out.status.code(), Some(0));
    let text = util::stdout(&out);
    // Every data segment's payload, decoded here, appears as text.
    let segments = tcp_segments(&path);
    let mut shown = 0;
    for s in segments.iter().filter(|s| !s.payload.is_empty()) {
        let line = std::str::from_utf8(&s.payload).expect("the chat is UTF-8");
        assert!(
            text.contains(line.trim_end_matches('\n')),
            "{line:?} in\n{text}"
        );
        shown += 1;
    }
    assert!(shown >= 4);
    assert!(text.contains("你好"));
    assert!(text.matches(" · FIN from the ").count() == 2, "{text}");
}

#[test]
fn issue_16_follow_escapes_control_and_bidi_characters() {
    let path = crafted(&[(true, 1001, "a\x1b[31mred\u{202e}txt\r\n\u{7}".as_bytes())]);
    let out = util::run(&["follow", path.to_str().unwrap(), "--stream", "0"]);
    let text = util::stdout(&out);
    assert!(
        text.contains("a\\x1b[31mred\\u{202e}txt\\r\n\\x07"),
        "{text}"
    );
    assert!(!out.stdout.contains(&0x1b));
    assert!(!text.contains('\u{202e}'));
    let _ = std::fs::remove_file(&path);
}

#[test]
fn follow_marks_lost_bytes_and_bytes_cut_by_the_snap_length_differently() {
    // 100 bytes, a 100-byte hole the server acknowledges past, then 100 more.
    let a = [b'a'; 100];
    let c = [b'c'; 100];
    let path = crafted(&[(true, 1001, &a), (true, 1201, &c), (false, 5001, b"ok")]);
    let out = util::run(&["follow", path.to_str().unwrap(), "--stream", "0"]);
    let text = util::stdout(&out);
    assert!(
        text.contains("client → server · 100 bytes missing at offset 100: never captured"),
        "{text}"
    );
    assert!(!text.contains("snap length"));
    let _ = std::fs::remove_file(&path);
    let Some(path) = util::shared_case("snaplen-cut-http.pcap") else {
        return;
    };
    let out = util::run(&["follow", path.to_str().unwrap(), "--stream", "0"]);
    let text = util::stdout(&out);
    assert!(text.contains("cut by the capture's snap length"), "{text}");
    assert!(!text.contains("never captured"), "{text}");
}

#[test]
fn issue_11_bytes_missing_from_the_capture_are_not_the_programs_error() {
    // midstream-server-first: the capture starts on the server's data (no SYN), so its first
    // bytes are the end of an earlier response; snaplen-cut-http: payloads cut by snaplen.
    for name in ["midstream-server-first.pcap", "snaplen-cut-http.pcap"] {
        let Some(path) = util::shared_case(name) else {
            return;
        };
        let (code, reports) = sticky(&path, "http");
        assert_eq!(code, 0, "{name}");
        let s2c = report(&reports, "server_to_client");
        assert_eq!(s2c["status"], "incomplete", "{name}: {s2c}");
        assert!(
            s2c["issues"]
                .as_array()
                .unwrap()
                .iter()
                .all(|i| i["kind"] == "capture"),
            "{name}: {}",
            s2c["issues"]
        );
        assert_eq!(report(&reports, "client_to_server")["status"], "framed");
    }
}
