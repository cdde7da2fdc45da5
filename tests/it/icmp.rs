//! ICMP errors in `packets`/`show` (decoded quote, linked datagram, meaning), UDP
//! conversations in `stats` (bounded, with their ICMP errors) and `follow --udp`.
//!
//! References: tshark 4.0's ICMP fields and the frame each error answers, from
//! `scripts/refs/icmp.py` (`tests/refs/icmp/*.tsv`: `answers` is the earlier frame whose own IP
//! header is the quoted one, matched by tshark's fields); the truth files the fixture
//! generators wrote (`fixtures/*.truth.json`); the failing-case descriptions of
//! `../shared/cases/README.md` (skipped with a note when `../shared` is absent).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::util;

/// A reference TSV of `tests/refs/icmp/`: one map per row, keyed by column name.
fn read_ref(capture: &str) -> Vec<HashMap<String, String>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/refs/icmp")
        .join(format!("{capture}.tsv"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split('\t').collect();
    lines
        .map(|l| {
            header
                .iter()
                .zip(l.split('\t').chain(std::iter::repeat("")))
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

fn skip(name: &str) {
    eprintln!("note: ../shared is absent, skipping the test on {name}");
}

/// `packets --format ndjson` rows by frame number.
fn packets(path: &Path) -> HashMap<u64, Value> {
    let out = util::run(&["packets", path.to_str().unwrap(), "--format", "ndjson"]);
    assert_eq!(out.status.code(), Some(0), "{}", util::stderr(&out));
    util::ndjson(&out)
        .into_iter()
        .map(|r| (r["number"].as_u64().unwrap(), r))
        .collect()
}

/// The ICMP or ICMPv6 layer's fields of a row, if it has one.
fn icmp_layer(row: &Value) -> Option<&serde_json::Map<String, Value>> {
    row["layers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| matches!(l["name"].as_str(), Some("ICMP" | "ICMPv6")))
        .and_then(|l| l["fields"].as_object())
}

/// The ICMP or ICMPv6 layer's fields of a row.
fn icmp_fields(row: &Value) -> &serde_json::Map<String, Value> {
    icmp_layer(row).unwrap_or_else(|| panic!("no ICMP layer in frame {}", row["number"]))
}

/// A field as the text tshark would show (numbers plain, `17 (UDP)` → `17`), or empty.
fn text(fields: &serde_json::Map<String, Value>, name: &str) -> String {
    match fields.get(name) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

fn is_error(row: &HashMap<String, String>) -> bool {
    let t: u8 = row["type"].parse().unwrap();
    match row["version"].as_str() {
        "4" => matches!(t, 3 | 4 | 5 | 11 | 12),
        _ => matches!(t, 1..=4),
    }
}

/// Checks every ICMP message of `capture` in `packets` JSON against tshark's reference: the
/// decoded fields, the quoted header and the frame the error answers. Returns (errors
/// checked, errors linked to a frame, allowed differences).
fn check_against_tshark(path: &Path, capture: &str) -> (usize, usize, usize) {
    let rows = packets(path);
    let mut bad = Vec::new();
    let (mut errors, mut linked, mut allowed) = (0, 0, 0);
    for r in read_ref(capture) {
        let n: u64 = r["frame"].parse().unwrap();
        let row = &rows[&n];
        let info = row["info"].as_str().unwrap();
        if !is_error(&r)
            && icmp_layer(row).is_none()
            && (info.starts_with("Fragmented IP protocol") || info.starts_with("IPv6 fragment"))
        {
            // A ping in IP fragments: tshark shows it on the last fragment, reassembled;
            // pcaplab's decode does not reassemble (the engine's flow::ip does).
            continue;
        }
        let f = icmp_fields(row);
        let mut check = |what: &str, got: String, want: &str| {
            if got != want {
                bad.push(format!("frame {n}: {what} {got:?}, tshark {want:?}"));
            }
        };
        check("type", text(f, "type"), &r["type"]);
        check("code", text(f, "code"), &r["code"]);
        if !is_error(&r) {
            check("answers", text(f, "answers_frame"), "");
            continue;
        }
        errors += 1;
        check("type name", text(f, "type_name"), &r["type_name"]);
        let want_code = if r["code_name"].starts_with("Unknown") {
            ""
        } else {
            &r["code_name"]
        };
        check("code name", text(f, "code_name"), want_code);
        check("mtu", text(f, "mtu"), &r["mtu"]);
        check("pointer", text(f, "pointer"), &r["pointer"]);
        check("gateway", text(f, "gateway"), &r["gateway"]);
        if !f.contains_key("quoted_ip_version") {
            // A quote cut inside its IP header is not decoded; tshark may show the fields
            // before the cut, but not the destination either.
            check("quoted destination", String::new(), &r["q_dst"]);
            check("answers", text(f, "answers_frame"), &r["answers"]);
            continue;
        }
        check("quoted source", text(f, "quoted_src"), &r["q_src"]);
        check("quoted destination", text(f, "quoted_dst"), &r["q_dst"]);
        let proto = text(f, "quoted_protocol");
        check(
            "quoted protocol",
            proto.split(' ').next().unwrap_or("").to_string(),
            &r["q_proto"],
        );
        check(
            "quoted identification",
            text(f, "quoted_identification"),
            &r["q_ip_id"],
        );
        let ports = (text(f, "quoted_src_port"), text(f, "quoted_dst_port"));
        if !ports.0.is_empty()
            && r["q_sport"].is_empty()
            && r["q_src"].contains(':')
            && !r["q_ip_id"].is_empty()
        {
            // tshark does not decode the transport header inside a quoted IPv6 first
            // fragment; the header is there (offset 0) and the link needs it.
            allowed += 1;
        } else {
            check("quoted source port", ports.0, &r["q_sport"]);
            check("quoted destination port", ports.1, &r["q_dport"]);
        }
        let seq = text(f, "quoted_tcp_seq_raw");
        if r["q_tcp_seq"].is_empty() && !seq.is_empty() {
            // tshark shows no sequence number when only 8 TCP bytes are quoted (RFC 792's
            // 64 bits), though they hold it.
            allowed += 1;
        } else {
            check("quoted tcp seq", seq, &r["q_tcp_seq"]);
        }
        let icmp_type = match r["version"].as_str() {
            "4" => text(f, "quoted_icmp_type"),
            _ => text(f, "quoted_icmpv6_type"),
        };
        check("quoted icmp type", icmp_type, &r["q_icmp_type"]);
        // The packet it answers, in the fields and at the end of the Info column.
        check("answers", text(f, "answers_frame"), &r["answers"]);
        if !r["answers"].is_empty() {
            linked += 1;
            let tail = format!("(frame {}", r["answers"]);
            if !info.contains(&tail) {
                bad.push(format!("frame {n}: info {info:?} does not name {tail})"));
            }
        }
        if !info.starts_with(text(f, "description").as_str()) {
            bad.push(format!(
                "frame {n}: info {info:?} does not start with the type"
            ));
        }
    }
    util::assert_no_mismatch(&format!("{capture}: packets JSON vs tshark"), &bad);
    (errors, linked, allowed)
}

#[test]
fn fixture_icmp_errors_agree_with_tshark_and_name_the_datagram_they_answer() {
    for (name, want) in [
        // 62 errors of every type and code, none answering a datagram of the capture.
        ("icmp-errors-crafted.pcap", (62, 0, 6)),
        // 11 errors, each answering the datagram before it (9 and 11 quote two fragments of
        // one IPv6 datagram: frames 8 and 10).
        ("netns-frag-icmp.pcap", (11, 11, 4)),
        // Port unreachable for a TFTP ACK or DATA sent to a port that was closed.
        ("student-tftpserver-correct.pcap", (1, 1, 0)),
        ("student-tftpserver-wrong.pcap", (3, 3, 0)),
        ("student-tftpclient-wrong.pcap", (1, 1, 0)),
        ("student-tftpclient-wrongport.pcap", (1, 1, 0)),
    ] {
        let got = check_against_tshark(&util::fixture(name), name);
        assert_eq!(got, want, "{name}: (errors, linked, allowed)");
    }
}

#[test]
fn pings_carry_no_error_fields() {
    for name in ["zeek-5-pings.pcap", "tcpdump-icmp-length-zero.pcapng"] {
        let Some(path) = util::shared_capture(name) else {
            skip(name);
            continue;
        };
        assert_eq!(check_against_tshark(&path, name).0, 0, "{name}");
    }
}

#[test]
fn issue_12_udp_no_server_names_frame_1_and_says_nothing_listened() {
    let name = "course-udp-no-server.pcap";
    let Some(path) = util::shared_capture(name) else {
        return skip(name);
    };
    // The case says: the error names frame 1 and 127.0.0.1:8080, from its quoted IP/UDP
    // header, and says that nothing was listening.
    assert_eq!(check_against_tshark(&path, name), (1, 1, 0));
    let rows = packets(&path);
    assert_eq!(
        rows[&2]["info"],
        "Destination unreachable (Port unreachable) for UDP 127.0.0.1:49213 → 127.0.0.1:8080 (frame 1): nothing listened on 127.0.0.1:8080"
    );
    let meaning = text(icmp_fields(&rows[&2]), "meaning");
    assert!(
        meaning.starts_with("nothing listened on 127.0.0.1:8080"),
        "{meaning}"
    );
    // The table says it too.
    let out = util::run(&["packets", path.to_str().unwrap()]);
    assert!(util::stdout(&out).contains("→ 127.0.0.1:8080 (frame 1)"));
    // `show` prints the quoted header and the meaning.
    let out = util::run(&["show", path.to_str().unwrap(), "-p", "2"]);
    let tree = util::stdout(&out);
    for line in [
        "quoted_dst_port",
        "8080",
        "answers_frame",
        "nothing listened on 127.0.0.1:8080",
    ] {
        assert!(tree.contains(line), "show lacks {line:?}:\n{tree}");
    }
    // `stats`: the conversation carries the error, with the frame it answers.
    let out = util::run(&["stats", path.to_str().unwrap(), "--format", "json"]);
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    let c = &s["udp_conversations"][0];
    assert_eq!(c["b"], "127.0.0.1:8080");
    assert_eq!(c["icmp_errors_total"], 1);
    let e = &c["icmp_errors"][0];
    assert_eq!(
        (e["frame"].as_u64(), e["answers"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(e["code_name"], "Port unreachable");
    assert!(
        e["meaning"]
            .as_str()
            .unwrap()
            .starts_with("nothing listened on 127.0.0.1:8080")
    );
    let out = util::run(&["stats", path.to_str().unwrap()]);
    assert!(
        util::stdout(&out).contains(
            "answers frame 1 (127.0.0.1:49213 → 127.0.0.1:8080): nothing listened on 127.0.0.1:8080"
        ),
        "{}",
        util::stdout(&out)
    );
    // `follow --udp`: the datagram, then the error that answered it.
    let out = util::run(&["follow", path.to_str().unwrap(), "--udp", "127.0.0.1:8080"]);
    let text = util::stdout(&out);
    let datagram = text
        .find("── frame 1 · client → server · 9 bytes ──")
        .unwrap();
    let error = text
        .find("━━ frame 2 · ICMP from 127.0.0.1 · Destination unreachable (Port unreachable) · answers frame 1 ━━")
        .unwrap();
    assert!(datagram < error, "{text}");
    assert!(
        text.contains("nothing listened on 127.0.0.1:8080"),
        "{text}"
    );
}

#[test]
fn issue_12_tftp_final_ack_error_answers_frame_9() {
    let name = "course-tftp-server-closes-before-final-ack.pcap";
    let Some(path) = util::shared_capture(name) else {
        return skip(name);
    };
    // Frame 10 (ICMP port unreachable) answers the client's final ACK, frame 9.
    assert_eq!(check_against_tshark(&path, name), (1, 1, 0));
    let rows = packets(&path);
    let ack = rows[&9]["layers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == "TFTP")
        .unwrap()["fields"]["block"]
        .clone();
    let f = icmp_fields(&rows[&10]);
    assert_eq!(text(f, "quoted_tftp_opcode"), "4");
    assert_eq!(f["quoted_tftp_block"], ack);
    assert_eq!(
        rows[&10]["info"].as_str().unwrap(),
        format!(
            "Destination unreachable (Port unreachable) for UDP 127.0.0.1:49095 → 127.0.0.1:60675 (frame 9, TFTP Acknowledgement, Block: {ack}): nothing listened on 127.0.0.1:60675"
        )
    );
}

/// `follow` output with `args`, checked to succeed.
fn follow(path: &Path, args: &[&str]) -> Vec<u8> {
    let mut all = vec!["follow", path.to_str().unwrap()];
    all.extend_from_slice(args);
    let out = util::run(&all);
    assert_eq!(out.status.code(), Some(0), "{}", util::stderr(&out));
    out.stdout
}

fn truth(name: &str) -> Value {
    let text = std::fs::read_to_string(util::fixture(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn follow_udp_shows_the_echo_conversation_of_the_ladder_fixture() {
    let path = util::fixture("ladder-udp-echo.pcap");
    let t = truth("ladder-udp-echo.truth.json");
    let server = t["endpoints"][1]["address"].as_str().unwrap();
    let text = String::from_utf8(follow(&path, &["--udp", server])).unwrap();
    let client = t["endpoints"][0]["address"].as_str().unwrap();
    assert!(
        text.starts_with(&format!(
            "udp conversation 0: client {client} ↔ server {server}"
        )),
        "{text}"
    );
    // One block per arrow of the truth: frame, direction, length, then the payload text.
    let mut expected = String::new();
    for a in t["arrows"].as_array().unwrap() {
        let dir = if a["from"] == "client" {
            "client → server"
        } else {
            "server → client"
        };
        expected.push_str(&format!(
            "── frame {} · {dir} · {} bytes ──\n{}\n",
            a["frame"],
            a["len"],
            a["payload"].as_str().unwrap()
        ));
    }
    assert!(text.contains(&expected), "want:\n{expected}\ngot:\n{text}");
    assert!(text.contains(
        "client → server: 3 datagrams, 18 bytes · server → client: 3 datagrams, 18 bytes"
    ));
    // The same conversation by number.
    assert_eq!(
        String::from_utf8(follow(&path, &["--udp-conv", "0"])).unwrap(),
        text
    );
}

#[test]
fn follow_udp_shows_a_reply_truncated_by_recvfrom_1024() {
    let path = util::fixture("student-udpecho-wrong.pcap");
    let t = truth("student-udpecho-wrong.truth.json");
    let server = t["server"].as_str().unwrap();
    let text = String::from_utf8(follow(&path, &["--udp", server])).unwrap();
    let datagrams = t["wire"]["datagrams"].as_array().unwrap();
    let mut at = 0;
    for d in datagrams {
        for (frame, dir, len) in [
            (&d["request_frame"], "client → server", &d["request_len"]),
            (&d["reply_frame"], "server → client", &d["reply_len"]),
        ] {
            let head = format!("── frame {frame} · {dir} · {len} bytes ──");
            let found = text[at..]
                .find(&head)
                .unwrap_or_else(|| panic!("{head} not after byte {at}:\n{text}"));
            at += found + head.len();
        }
    }
    // The last one: 1,500 bytes sent, 1,024 back.
    let last = datagrams.last().unwrap();
    assert_eq!(
        (last["request_len"].as_u64(), last["reply_len"].as_u64()),
        (Some(1500), Some(1024))
    );
    // Each direction's raw bytes, cut at the truth's lengths, hash to the truth's digests.
    for (dir, len_key, hash_key) in [
        ("c2s", "sent_len", "sent_sha256"),
        ("s2c", "reply_len", "reply_sha256"),
    ] {
        let raw = follow(&path, &["--udp", server, "--as", "raw", "--dir", dir]);
        let mut rest = &raw[..];
        for d in t["datagrams"].as_array().unwrap() {
            let n = d[len_key].as_u64().unwrap() as usize;
            let (one, after) = rest.split_at(n);
            assert_eq!(
                sha256(one),
                d[hash_key].as_str().unwrap(),
                "{dir} datagram {}",
                d["index"]
            );
            rest = after;
        }
        assert!(rest.is_empty(), "{dir}: {} bytes too many", rest.len());
    }
}

#[test]
fn follow_udp_names_the_other_conversation_of_a_reply_from_another_port() {
    let path = util::fixture("student-udpecho-wrongport.pcap");
    let t = truth("student-udpecho-wrongport.truth.json");
    let server = t["server"].as_str().unwrap();
    let client = t["client"].as_str().unwrap();
    let text = String::from_utf8(follow(&path, &["--udp", server])).unwrap();
    let datagrams = t["wire"]["datagrams"].as_array().unwrap();
    let port = datagrams[0]["reply_src_port"].as_u64().unwrap();
    assert!(
        text.contains(&format!(
            "client → server: {} datagrams, {} bytes · server → client: 0 datagrams, 0 bytes",
            datagrams.len(),
            datagrams
                .iter()
                .map(|d| d["request_len"].as_u64().unwrap())
                .sum::<u64>()
        )),
        "{text}"
    );
    let first = datagrams[0]["reply_frame"].as_u64().unwrap();
    let last = datagrams.last().unwrap()["reply_frame"].as_u64().unwrap();
    let other = format!(
        "conversation 1: 127.0.0.1:{port} → {client}: {} datagrams, 0 back (frames {first}–{last})",
        datagrams.len()
    );
    assert!(text.contains(&other), "want {other:?} in:\n{text}");
}

#[test]
fn follow_udp_usage_errors_exit_2() {
    let path = util::fixture("ladder-udp-echo.pcap");
    let p = path.to_str().unwrap();
    for (args, says) in [
        (
            vec!["follow", p, "--udp-conv", "7"],
            "no UDP conversation 7 (the capture has 1 UDP conversation,",
        ),
        (
            vec!["follow", p, "--udp", "127.0.0.1:1"],
            "no UDP datagram to or from 127.0.0.1:1",
        ),
        (
            vec!["follow", p, "--udp", "localhost"],
            "an address:port such as",
        ),
        (
            vec!["follow", p, "--udp-conv", "0", "--framing", "line"],
            "--framing",
        ),
        (
            vec!["follow", p, "--udp-conv", "0", "--stream", "0"],
            "cannot be used with",
        ),
        (vec!["follow", p], "--stream"),
    ] {
        let out = util::run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            util::stderr(&out).contains(says),
            "{args:?}: {}",
            util::stderr(&out)
        );
    }
}

/// A raw-IPv4 pcap of UDP datagrams `(second, source port)` from 10.0.0.1 to 10.0.0.2:7.
fn udp_pcap(name: &str, datagrams: &[(u32, u16)]) -> PathBuf {
    let mut out = Vec::new();
    out.extend_from_slice(&[0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0]);
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&65535u32.to_le_bytes());
    out.extend_from_slice(&101u32.to_le_bytes());
    for (second, port) in datagrams {
        let mut packet = Vec::new();
        etherparse::PacketBuilder::ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .udp(*port, 7)
            .write(&mut packet, b"x")
            .unwrap();
        out.extend_from_slice(&(1_700_000_000 + second).to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&(packet.len() as u32).to_le_bytes());
        out.extend_from_slice(&(packet.len() as u32).to_le_bytes());
        out.extend_from_slice(&packet);
    }
    let file = std::env::temp_dir().join(format!("pcaplab-udp-{name}-{}.pcap", std::process::id()));
    std::fs::write(&file, out).unwrap();
    file
}

/// `stats` UDP rows as (number, source port, datagrams, end), and stderr.
fn udp_rows(path: &Path, extra: &[&str]) -> (Vec<(u64, u64, u64, String)>, String) {
    let mut args = vec!["stats", path.to_str().unwrap(), "--format", "json"];
    args.extend_from_slice(extra);
    let out = util::run(&args);
    assert_eq!(out.status.code(), Some(0), "{}", util::stderr(&out));
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = s["udp_conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let port = c["a"].as_str().unwrap().rsplit(':').next().unwrap();
            (
                c["id"].as_u64().unwrap(),
                port.parse().unwrap(),
                c["packets_a_to_b"].as_u64().unwrap(),
                c["end"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    (rows, util::stderr(&out))
}

#[test]
fn issue_15_idle_udp_conversations_time_out_and_say_so() {
    // Port 1000 sends at 0 s and 9 s, port 1001 at 1 s, port 1002 at 15 s, port 1001 again
    // at 16 s. With a 10 s timeout, 1001 (idle 14 s at 15 s) ends; its next datagram starts
    // conversation 3. 1000 (idle 6 s) goes on.
    let file = udp_pcap(
        "idle",
        &[(0, 1000), (1, 1001), (9, 1000), (15, 1002), (16, 1001)],
    );
    let (rows, stderr) = udp_rows(&file, &["--udp-idle-timeout", "10"]);
    assert_eq!(
        rows,
        vec![
            (0, 1000, 2, "end_of_capture".into()),
            (1, 1001, 1, "timed_out".into()),
            (2, 1002, 1, "end_of_capture".into()),
            (3, 1001, 1, "end_of_capture".into()),
        ]
    );
    assert!(
        stderr.contains("1 UDP conversation was idle longer than the idle timeout"),
        "{stderr}"
    );
    // The default timeout (60 s) keeps them all.
    let (rows, stderr) = udp_rows(&file, &[]);
    assert_eq!(rows.len(), 3);
    assert!(!stderr.contains("UDP conversations"), "{stderr}");
    let _ = std::fs::remove_file(file);
}

#[test]
fn issue_15_the_udp_conversation_cap_evicts_the_longest_idle_and_says_so() {
    let file = udp_pcap(
        "cap",
        &[(0, 1000), (1, 1001), (2, 1000), (3, 1002), (4, 1003)],
    );
    let (rows, stderr) = udp_rows(&file, &["--max-udp-conversations", "2"]);
    // 1001 is the longest idle when 1002 comes; then 1000 when 1003 comes.
    assert_eq!(
        rows,
        vec![
            (0, 1000, 2, "evicted".into()),
            (1, 1001, 1, "evicted".into()),
            (2, 1002, 1, "end_of_capture".into()),
            (3, 1003, 1, "end_of_capture".into()),
        ]
    );
    assert!(
        stderr.contains(
            "2 UDP conversations were evicted (the longest idle) because 2 were open at once"
        ),
        "{stderr}"
    );
    let _ = std::fs::remove_file(file);
}
