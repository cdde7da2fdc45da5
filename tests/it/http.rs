//! `pcaplab http` against the truth files written by the servers that made the HTTP fixtures
//! (methods, URIs, statuses, body sizes and SHA-256 as served), tshark's HTTP fields for the
//! public captures, and the warnings for a deliberately broken server.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::reference::read_tsv;
use crate::util;

fn http_json(capture: &Path, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["http", capture.to_str().unwrap(), "--format", "json"];
    args.extend_from_slice(extra);
    let out = util::run(&args);
    assert_eq!(out.status.code(), Some(0), "{}", util::stderr(&out));
    serde_json::from_slice::<Value>(&out.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn sha256_file(path: &Path) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(std::fs::read(path).unwrap())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn truth(name: &str) -> Vec<Value> {
    let v: Value = serde_json::from_str(
        &std::fs::read_to_string(util::fixture(&format!("{name}.truth.json"))).unwrap(),
    )
    .unwrap();
    v["transactions"].as_array().unwrap().clone()
}

#[test]
fn transactions_and_bodies_match_what_the_servers_sent() {
    let mut checked = 0;
    for name in [
        "http-get",
        "http-head",
        "http-404",
        "http-post",
        "http-keepalive",
        "http-1mb",
        "http-chunked",
        "http-gzip",
        "http-broken",
    ] {
        let dir =
            std::env::temp_dir().join(format!("pcaplab-it-http-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let got = http_json(
            &util::fixture(&format!("{name}.pcap")),
            &["--extract", dir.to_str().unwrap()],
        );
        let expected = truth(name);
        assert_eq!(got.len(), expected.len(), "{name}: transactions");
        for (t, e) in got.iter().zip(&expected) {
            let what = format!("{name} {}", e["uri"]);
            for key in [
                "stream",
                "time",
                "client",
                "server",
                "method",
                "host",
                "uri",
                "version",
                "status",
                "reason",
                "content_type",
                "request_body_bytes",
                "response_body_bytes",
                "response_time",
                "warnings",
            ] {
                assert!(t.get(key).is_some(), "{what}: key {key} missing");
            }
            assert_eq!(t["method"], e["method"], "{what}");
            assert_eq!(t["uri"], e["uri"], "{what}");
            assert_eq!(t["status"], e["status"], "{what}");
            assert_eq!(
                t["response_body_bytes"], e["body_length"],
                "{what}: body length"
            );
            if let Some(n) = e.get("request_body_length") {
                assert_eq!(&t["request_body_bytes"], n, "{what}: request body");
            }
            if e["body_length"].as_u64().unwrap() > 0 {
                let path = Path::new(t["body_file"]["path"].as_str().unwrap());
                assert!(path.starts_with(&dir), "{what}: written outside DIR");
                assert_eq!(
                    sha256_file(path),
                    e["body_sha256"].as_str().unwrap(),
                    "{what}: body"
                );
            }
            checked += 1;
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    assert_eq!(checked, 13);
}

#[test]
fn gzip_body_is_decoded_with_decode() {
    let dir = std::env::temp_dir().join(format!("pcaplab-it-http-gzip-dec-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let got = http_json(
        &util::fixture("http-gzip.pcap"),
        &["--extract", dir.to_str().unwrap(), "--decode"],
    );
    let e = &truth("http-gzip")[0];
    let path = Path::new(got[0]["body_file"]["path"].as_str().unwrap());
    assert_eq!(sha256_file(path), e["decoded_sha256"].as_str().unwrap());
    assert_eq!(got[0]["body_file"]["size"], e["decoded_length"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn each_broken_server_defect_gets_its_warning() {
    let got = http_json(&util::fixture("http-broken.pcap"), &[]);
    let kinds = |i: usize| -> Vec<String> {
        got[i]["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["kind"].as_str().unwrap().to_string())
            .collect()
    };
    // truth: /lf uses LF-only line endings, /short announces 100 body bytes and sends 80,
    // /nolength is a keep-alive response with neither Content-Length nor chunked.
    assert_eq!(got[0]["uri"], "/lf");
    assert_eq!(kinds(0), vec!["bare_lf".to_string()]);
    assert_eq!(got[1]["uri"], "/short");
    assert_eq!(
        kinds(1),
        vec!["body_shorter_than_content_length".to_string()]
    );
    assert_eq!(got[2]["uri"], "/nolength");
    assert_eq!(kinds(2), vec!["keep_alive_without_length".to_string()]);
    for clean in ["http-get", "http-keepalive", "http-chunked", "http-post"] {
        for t in http_json(&util::fixture(&format!("{clean}.pcap")), &[]) {
            assert!(
                t["warnings"].as_array().unwrap().is_empty(),
                "{clean}: {}",
                t["warnings"]
            );
        }
    }
}

#[test]
fn packets_show_http_start_lines_and_continuations() {
    let out = util::run(&[
        "packets",
        util::fixture("http-keepalive.pcap").to_str().unwrap(),
    ]);
    let text = util::stdout(&out);
    assert!(text.contains("GET /index.html HTTP/1.1"));
    assert!(text.contains("HTTP/1.1 200 OK  (text/css)"));
    assert!(text.contains("[continuation of HTTP response 0]"));
}

/// Multisets of request (method, URI) and of status codes in a tshark TSV.
fn tshark_http(tsv: &Path) -> (BTreeMap<(String, String), u32>, BTreeMap<String, u32>) {
    let mut requests = BTreeMap::new();
    let mut statuses = BTreeMap::new();
    for r in read_tsv(tsv) {
        if !r.get("http.request.method").is_empty() {
            *requests
                .entry((
                    r.get("http.request.method").to_string(),
                    r.get("http.request.uri").to_string(),
                ))
                .or_insert(0) += 1;
        }
        if !r.get("http.response.code").is_empty() {
            *statuses
                .entry(r.get("http.response.code").to_string())
                .or_insert(0) += 1;
        }
    }
    (requests, statuses)
}

#[test]
fn public_http_captures_agree_with_tshark() {
    let Some(dir) = util::public_corpus() else {
        eprintln!("skipped: ../shared/captures/public is not present");
        return;
    };
    // Left out: zeek-methods (tshark's -E occurrence=f keeps one value per frame while several
    // of its malformed requests share frames), zeek-pipelined-requests (pipelined requests in
    // one frame: occurrence=f shows only the first), sv-http-pipeline-files-with-gap-input (a
    // capture gap hides requests tshark still counts).
    let mut compared = 0;
    let mut mismatches = Vec::new();
    for name in [
        "zeek-get.pcap",
        "zeek-100-continue.pcap",
        "sv-http-event-chunk-input.pcap",
        "sv-http-close-headers-input.pcap",
        "gopacket-test_loopback.pcap",
        "packets-http_ip4and6.pcapng",
        "zeek-http-vlan-0.pcap",
        "sv-decode-sll2-01-input.pcap",
        "zeek-wikipedia.pcap",
        "zeek-http_large_req_8001.pcap",
    ] {
        let (exp_req, exp_status) = tshark_http(&dir.join("expected").join(format!("{name}.tsv")));
        let got = http_json(&dir.join(name), &[]);
        let mut req = BTreeMap::new();
        let mut status = BTreeMap::new();
        for t in &got {
            if let (Some(m), Some(u)) = (t["method"].as_str(), t["uri"].as_str()) {
                *req.entry((m.to_string(), u.to_string())).or_insert(0) += 1;
            }
            if let Some(s) = t["status"].as_u64() {
                *status.entry(s.to_string()).or_insert(0) += 1;
            }
            // tshark lists interim 1xx responses as responses too.
            for i in t["interim_statuses"].as_array().into_iter().flatten() {
                *status.entry(i.to_string()).or_insert(0) += 1;
            }
        }
        if req != exp_req || status != exp_status {
            mismatches.push(format!(
                "{name}: tshark {exp_req:?} {exp_status:?}\n  pcaplab {req:?} {status:?}"
            ));
        }
        compared += 1;
    }
    assert_eq!(compared, 10);
    util::assert_no_mismatch("http vs tshark", &mismatches);
}

/// `../shared/cases/<name>` when `../shared` is present (tests skip cleanly without it).
fn shared_case(name: &str) -> Option<std::path::PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/cases")
        .join(name);
    if path.exists() {
        Some(path)
    } else {
        eprintln!("skipped: ../shared/cases/{name} is not present");
        None
    }
}

fn warning_kinds(t: &Value) -> Vec<&str> {
    t["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["kind"].as_str().unwrap())
        .collect()
}

#[test]
fn folded_header_values_are_unfolded_with_one_space() {
    let Some(path) = shared_case("http-obs-fold.pcap") else {
        return;
    };
    let got = http_json(&path, &[]);
    // cases/README.md: RFC 9112 §5.2, one space per fold; the obs-fold warning stays.
    assert_eq!(got[0]["uri"], "/fold");
    assert_eq!(got[0]["content_type"], "text/plain; charset=utf-8");
    assert_eq!(
        warning_kinds(&got[0]),
        vec!["obsolete_line_folding", "obsolete_line_folding"]
    );
    assert_eq!(got[1]["uri"], "/after");
    assert!(warning_kinds(&got[1]).is_empty());
}

#[test]
fn a_status_line_captured_before_a_snaplen_cut_is_reported() {
    let Some(path) = shared_case("snaplen-cut-http.pcap") else {
        return;
    };
    let got = http_json(&path, &[]);
    assert_eq!(got.len(), 2);
    // cases/README.md: `/big` shows status 200 (its status line was captured).
    assert_eq!(got[0]["uri"], "/big");
    assert_eq!(got[0]["status"], 200);
    assert_eq!(got[0]["content_type"], "application/octet-stream");
    // Its head was cut (the Content-Length line is incomplete): the body size is unknown, and
    // the bytes cut off are the response's (tshark's tcp.len per segment minus the 74 bytes
    // captured: 926 in each of frames 6-8 and 7 in frame 9), neither lost nor junk.
    assert_eq!(got[0]["response_body_bytes"], Value::Null);
    assert_eq!(warning_kinds(&got[0]), vec!["not_captured"]);
    let message = got[0]["warnings"][0]["message"].as_str().unwrap();
    assert!(message.contains("2785 bytes"), "{message}");
    assert_eq!(got[0]["response_frame"], 6);
    assert_eq!(got[0]["response_end_frame"], 9);
    // The small second transaction is whole and clean.
    assert_eq!(got[1]["uri"], "/small");
    assert_eq!(got[1]["status"], 200);
    assert_eq!(got[1]["response_body_bytes"], 5);
    assert!(warning_kinds(&got[1]).is_empty(), "{}", got[1]["warnings"]);
}
