//! Regression tests, named after their issue.

use std::path::Path;

use serde_json::Value;

use crate::reference::read_tsv;
use crate::util;

fn json(args: &[&str]) -> Value {
    let out = util::run(args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        util::stderr(&out)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn grade_json(rubric_text: &str, name: &str, capture: &Path) -> Value {
    let path = std::env::temp_dir().join(format!(
        "pcaplab-regression-{name}-{}.toml",
        std::process::id()
    ));
    std::fs::write(&path, rubric_text).unwrap();
    let out = util::run(&[
        "grade",
        "--rubric",
        path.to_str().unwrap(),
        "--format",
        "json",
        capture.to_str().unwrap(),
    ]);
    let _ = std::fs::remove_file(&path);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", util::stderr(&out)))
}

/// What `http` says about the responses of a capture: final and interim, as a count.
fn http_responses(capture: &Path) -> u64 {
    let txs = json(&["http", capture.to_str().unwrap(), "--format", "json"]);
    txs.as_array()
        .unwrap()
        .iter()
        .map(|t| {
            u64::from(t["status"].is_u64()) + t["interim_statuses"].as_array().unwrap().len() as u64
        })
        .sum()
}

/// Checks that `sticky`, `streams`, `follow` and a `framing = "http"` grading check frame the
/// responses of stream 0 the way `http` pairs them: `responses` messages, no framing error.
fn frames_like_http(capture: &Path, port: u16, requests: u64, responses: u64) {
    let file = capture.to_str().unwrap();
    let what = capture.display();
    // `http` itself (the reference the others must agree with).
    assert_eq!(http_responses(capture), responses, "{what}: http");
    // sticky
    let reports = json(&["sticky", file, "--framing", "http", "--format", "json"]);
    let reports = reports.as_array().unwrap();
    let by_dir = |d: &str| {
        reports
            .iter()
            .find(|r| r["stream"] == 0 && r["direction"] == d)
            .unwrap_or_else(|| panic!("{what}: no {d} report"))
    };
    let (c2s, s2c) = (by_dir("client_to_server"), by_dir("server_to_client"));
    assert_eq!(c2s["messages"], requests, "{what}: sticky requests");
    assert_eq!(s2c["messages"], responses, "{what}: sticky responses");
    for r in [c2s, s2c] {
        assert_eq!(r["issues"], serde_json::json!([]), "{what}: sticky issues");
    }
    // streams: the same framing and counts.
    let rows = json(&["streams", file, "--framing", "http", "--format", "json"]);
    let row = &rows[0];
    assert_eq!(row["framing"], "http / http", "{what}: streams");
    let sum = |k: &str| c2s[k].as_u64().unwrap() + s2c[k].as_u64().unwrap();
    assert_eq!(
        row["coalesced_segments"],
        sum("coalesced_segments"),
        "{what}"
    );
    assert_eq!(row["split_messages"], sum("split_messages"), "{what}");
    // follow: one marker per message start.
    let out = util::run(&["follow", file, "--stream", "0", "--framing", "http"]);
    let text = util::stdout(&out);
    let starts = text
        .lines()
        .filter(|l| l.starts_with("┈┈ message ") && l.ends_with(" starts ┈┈"))
        .count() as u64;
    assert_eq!(starts, requests + responses, "{what}: follow\n{text}");
    // grade: a framing check on the server port passes and counts every message.
    let rubric = format!(
        "[[check]]\nid = \"framing\"\npoints = 1\ntype = \"framing\"\nport = {port}\nframing = \"http\"\n"
    );
    let v = grade_json(&rubric, "head", capture);
    let check = &v[0]["checks"][0];
    assert_eq!(check["passed"], true, "{what}: {check}");
    let expected = format!(
        "{requests} http message{} from the client, {responses} from the server, all well-formed",
        if requests == 1 { "" } else { "s" }
    );
    assert!(
        check["message"].as_str().unwrap().starts_with(&expected),
        "{what}: {check}"
    );
}

#[test]
fn issue_10_head_response_frames_without_a_body_everywhere() {
    // fixtures/README.md: `curl -I` to port 8000, a 200 with Content-Length 276 and no body.
    frames_like_http(&util::fixture("http-head.pcap"), 8000, 1, 1);
}

#[test]
fn issue_10_interim_304_and_head_responses_frame_as_http_pairs_them() {
    // cases/README.md: two 103 then 200; a 304 with Content-Length; a HEAD answered with
    // chunked coding; a HEAD answered with Content-Length 999; a last GET: 5 requests and
    // 7 response messages, no framing error.
    let Some(capture) = util::shared_case("http-1xx-304-head.pcap") else {
        eprintln!("skipped: ../shared/cases/http-1xx-304-head.pcap is not present");
        return;
    };
    frames_like_http(&capture, 80, 5, 7);
}

#[test]
fn issue_10_each_framing_check_frames_with_its_own_spec() {
    // sticky-lenprefix: 20 messages behind a 4-byte big-endian length (its truth file); the
    // payloads hold no LF, so `line` framing finds no complete line. Before issue 10 the second
    // check was evaluated with the first check's framing, in either order.
    let capture = util::fixture("sticky-lenprefix.pcap");
    let truth: Value = serde_json::from_str(
        &std::fs::read_to_string(util::fixture("sticky-lenprefix.truth.json")).unwrap(),
    )
    .unwrap();
    let messages = truth["messages"].as_array().unwrap().len();
    let len4 = "[[check]]\nid = \"len4\"\npoints = 1\ntype = \"framing\"\nport = 9011\nframing = \"len:4\"\n";
    let line = "[[check]]\nid = \"line\"\npoints = 1\ntype = \"framing\"\nport = 9011\nframing = \"line\"\n";
    for (name, rubric) in [
        ("len-first", format!("{len4}{line}")),
        ("line-first", format!("{line}{len4}")),
    ] {
        let v = grade_json(&rubric, name, &capture);
        let checks = v[0]["checks"].as_array().unwrap();
        let by_id = |id: &str| checks.iter().find(|c| c["id"] == id).unwrap();
        let (len4, line) = (by_id("len4"), by_id("line"));
        assert_eq!(len4["passed"], true, "{name}: {len4}");
        assert!(
            len4["message"].as_str().unwrap().starts_with(&format!(
                "{messages} len:4 messages from the client, 0 from the server, all well-formed"
            )),
            "{name}: {len4}"
        );
        assert_eq!(line["passed"], false, "{name}: {line}");
        assert!(
            line["message"].as_str().unwrap().contains("line"),
            "{name}: {line}"
        );
    }
}

#[test]
fn issue_10_a_stream_is_http_when_either_direction_starts_like_http() {
    // zeek-methods: requests with odd methods and targets that the server answers with 400 or
    // 405. The request side does not parse as a request line, the response side is HTTP:
    // tshark counts every response, and so must `http` (before issue 10, a stream whose first
    // bytes were not a request line was not HTTP at all).
    let Some(dir) = util::public_corpus() else {
        eprintln!("skipped: ../shared/captures/public is not present");
        return;
    };
    let name = "zeek-methods.pcap";
    let mut expected = std::collections::BTreeMap::new();
    for r in read_tsv(&dir.join("expected").join(format!("{name}.tsv"))) {
        let code = r.get("http.response.code");
        if !code.is_empty() {
            *expected.entry(code.to_string()).or_insert(0u32) += 1;
        }
    }
    let txs = json(&["http", dir.join(name).to_str().unwrap(), "--format", "json"]);
    let mut got = std::collections::BTreeMap::new();
    for t in txs.as_array().unwrap() {
        if let Some(s) = t["status"].as_u64() {
            *got.entry(s.to_string()).or_insert(0u32) += 1;
        }
    }
    assert_eq!(got, expected);
}

/// A raw-IPv4 pcap of TCP segments `(from_client, payload)` with ACK set and no handshake,
/// between 10.0.0.1:`client` and 10.0.0.2:`server`; sequence numbers follow the payloads.
fn midstream_pcap(client: u16, server: u16, segments: &[(bool, &[u8])]) -> Vec<u8> {
    let mut out = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    out.extend_from_slice(&65535u32.to_le_bytes());
    out.extend_from_slice(&101u32.to_le_bytes());
    let (mut c_seq, mut s_seq) = (1000u32, 5000u32);
    for (i, (from_client, payload)) in segments.iter().enumerate() {
        let (src, dst, sp, dp, seq, ack) = if *from_client {
            ([10, 0, 0, 1], [10, 0, 0, 2], client, server, c_seq, s_seq)
        } else {
            ([10, 0, 0, 2], [10, 0, 0, 1], server, client, s_seq, c_seq)
        };
        let mut packet = Vec::new();
        etherparse::PacketBuilder::ipv4(src, dst, 64)
            .tcp(sp, dp, seq, 65535)
            .ack(ack)
            .psh()
            .write(&mut packet, payload)
            .unwrap();
        if *from_client {
            c_seq += payload.len() as u32;
        } else {
            s_seq += payload.len() as u32;
        }
        out.extend_from_slice(&(1_700_000_000u32 + i as u32).to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&(packet.len() as u32).to_le_bytes());
        out.extend_from_slice(&(packet.len() as u32).to_le_bytes());
        out.extend_from_slice(&packet);
    }
    out
}

#[test]
fn issue_11_midstream_server_first_http_transaction() {
    let Some(path) = util::shared_case("midstream-server-first.pcap") else {
        eprintln!("note: ../shared is absent, skipping");
        return;
    };
    // The case's README: client = the port 51000 side; `http` shows GET /mid -> 200.
    let txs = json(&["http", path.to_str().unwrap(), "--format", "json"]);
    let got: Vec<(String, String, String, u64)> = txs
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["method"].is_string())
        .map(|t| {
            (
                t["method"].as_str().unwrap().to_string(),
                t["uri"].as_str().unwrap().to_string(),
                t["client"].as_str().unwrap().to_string(),
                t["status"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![(
            "GET".to_string(),
            "/mid".to_string(),
            "192.0.2.10:51000".to_string(),
            200
        )]
    );
}

#[test]
fn issue_11_roles_by_content_when_the_ports_do_not_tell() {
    // Both ports in the ephemeral range (no port evidence), no handshake, and the server's
    // status line comes first: its sender is the server (the content hook), not the client.
    let capture = midstream_pcap(
        50000,
        40000,
        &[
            (false, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"),
            (true, b"GET /next HTTP/1.1\r\nHost: x\r\n\r\n"),
            (false, b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nbye"),
        ],
    );
    let file = std::env::temp_dir().join(format!("pcaplab-roles-{}.pcap", std::process::id()));
    std::fs::write(&file, capture).unwrap();
    let path = file.to_str().unwrap();
    let rows = json(&["streams", path, "--format", "json"]);
    assert_eq!(rows[0]["client"], "10.0.0.1:50000");
    assert_eq!(rows[0]["server"], "10.0.0.2:40000");
    let txs = json(&["http", path, "--format", "json"]);
    let get = txs
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["method"] == "GET")
        .expect("the GET is paired");
    assert_eq!(get["uri"], "/next");
    assert_eq!(get["status"], 200);
    assert_eq!(get["client"], "10.0.0.1:50000");
    let _ = std::fs::remove_file(&file);
}
