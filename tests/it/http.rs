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
    let Some(path) = util::shared_case("http-obs-fold.pcap") else {
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
fn a_capture_that_starts_on_the_server_s_data_gives_one_clean_transaction() {
    let Some(path) = util::shared_case("midstream-server-first.pcap") else {
        return;
    };
    let got = http_json(&path, &[]);
    // cases/README.md: client = the port 51000 side, `GET /mid` → 200. tshark -Y http shows
    // the request in frame 3 and the response in frame 5, and nothing for frame 1 (the tail
    // of a body sent before the capture began): one row, no warning.
    assert_eq!(got.len(), 1, "{got:?}");
    let t = &got[0];
    assert_eq!(t["client"], "192.0.2.10:51000");
    assert_eq!(t["server"], "198.51.100.20:80");
    assert_eq!(
        (&t["method"], &t["uri"], &t["status"]),
        (&"GET".into(), &"/mid".into(), &200.into())
    );
    assert_eq!(
        (&t["request_frame"], &t["response_frame"]),
        (&3.into(), &5.into())
    );
    assert!(warning_kinds(t).is_empty(), "{}", t["warnings"]);
    // The table and its lines under it say the same: no warning line.
    let out = util::run(&["http", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        !util::stdout(&out).contains("warning"),
        "{}",
        util::stdout(&out)
    );
    // cases/README.md: an `http_response` check for /mid passes, even one asking for no warning.
    let dir = tempfile::tempdir().unwrap();
    let rubric = dir.path().join("mid.toml");
    std::fs::write(
        &rubric,
        "[[check]]\nid = \"mid\"\ndescription = \"d\"\npoints = 1\ntype = \"http_response\"\n\
         path = \"/mid\"\nstatus = 200\nno_warnings = true\n",
    )
    .unwrap();
    let out = util::run(&[
        "grade",
        "--rubric",
        rubric.to_str().unwrap(),
        path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", util::stdout(&out));
}

#[test]
fn a_status_line_captured_before_a_snaplen_cut_is_reported() {
    let Some(path) = util::shared_case("snaplen-cut-http.pcap") else {
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

/// A classic pcap (Ethernet, IPv4) of one TCP connection 10.0.0.1:40000 → 10.0.0.2:80 with a
/// handshake, each `(request, response)` in turn (cut into 1,400-byte segments), and a FIN
/// each way. Written for these tests; checksums are zero (no tool checks them by default).
fn http_capture(exchanges: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    http_capture_cut(exchanges, usize::MAX)
}

/// [`http_capture`] with every frame cut to `snaplen` bytes (the record keeps the wire length).
fn http_capture_cut(exchanges: &[(Vec<u8>, Vec<u8>)], snaplen: usize) -> Vec<u8> {
    const SYN: u8 = 0x02;
    const FIN: u8 = 0x01;
    const PSH_ACK: u8 = 0x18;
    const ACK: u8 = 0x10;
    let mut out = Vec::new();
    for v in [
        0xa1b2_c3d4u32.to_le_bytes().as_slice(),
        &2u16.to_le_bytes(),
        &4u16.to_le_bytes(),
    ] {
        out.extend_from_slice(v);
    }
    for v in [0u32, 0, 262_144, 1] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    let mut t_us: u64 = 1_700_000_000_000_000;
    let mut packet =
        |out: &mut Vec<u8>, to_server: bool, seq: u32, ack: u32, flags: u8, data: &[u8]| {
            let (src, dst, sport, dport) = if to_server {
                ([10, 0, 0, 1], [10, 0, 0, 2], 40000u16, 80u16)
            } else {
                ([10, 0, 0, 2], [10, 0, 0, 1], 80, 40000)
            };
            let mut tcp = Vec::new();
            tcp.extend_from_slice(&sport.to_be_bytes());
            tcp.extend_from_slice(&dport.to_be_bytes());
            tcp.extend_from_slice(&seq.to_be_bytes());
            tcp.extend_from_slice(&ack.to_be_bytes());
            tcp.extend_from_slice(&[5 << 4, flags, 0xff, 0xff, 0, 0, 0, 0]);
            tcp.extend_from_slice(data);
            let total = (20 + tcp.len()) as u16;
            let mut ip = vec![0x45, 0];
            ip.extend_from_slice(&total.to_be_bytes());
            ip.extend_from_slice(&[0, 0, 0x40, 0, 64, 6, 0, 0]);
            ip.extend_from_slice(&src);
            ip.extend_from_slice(&dst);
            let mut frame = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0];
            frame.extend_from_slice(&ip);
            frame.extend_from_slice(&tcp);
            t_us += 1000;
            for v in [
                (t_us / 1_000_000) as u32,
                (t_us % 1_000_000) as u32,
                frame.len().min(snaplen) as u32,
                frame.len() as u32,
            ] {
                out.extend_from_slice(&v.to_le_bytes());
            }
            out.extend_from_slice(&frame[..frame.len().min(snaplen)]);
        };
    let (mut c, mut s) = (1000u32, 5000u32);
    packet(&mut out, true, c, 0, SYN, b"");
    packet(&mut out, false, s, c + 1, SYN | ACK, b"");
    c += 1;
    s += 1;
    packet(&mut out, true, c, s, ACK, b"");
    for (request, response) in exchanges {
        for seg in request.chunks(1400) {
            packet(&mut out, true, c, s, PSH_ACK, seg);
            c = c.wrapping_add(seg.len() as u32);
        }
        for seg in response.chunks(1400) {
            packet(&mut out, false, s, c, PSH_ACK, seg);
            s = s.wrapping_add(seg.len() as u32);
        }
    }
    packet(&mut out, true, c, s, FIN | ACK, b"");
    packet(&mut out, false, s, c + 1, FIN | ACK, b"");
    packet(&mut out, true, c + 1, s + 1, ACK, b"");
    out
}

fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n").into_bytes()
}

fn response(encoding: Option<&str>, body: &[u8]) -> Vec<u8> {
    let coding = encoding.map_or(String::new(), |e| format!("Content-Encoding: {e}\r\n"));
    let mut r = format!(
        "HTTP/1.1 200 OK\r\n{coding}Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

#[test]
fn every_transaction_of_a_capture_cut_by_the_snap_length_is_reported() {
    // Our own fixture for the kind of cases/snaplen-cut-http.pcap: snaplen 128 (74 bytes of
    // TCP payload), requests with long cookies and responses with long heads, all cut.
    let cookie = "c".repeat(400);
    let exchanges: Vec<(Vec<u8>, Vec<u8>)> = (0..3)
        .map(|i| {
            let req = format!("GET /page/{i} HTTP/1.1\r\nHost: test\r\nCookie: {cookie}\r\n\r\n");
            let body = vec![b'x'; 3000];
            let mut resp = format!(
                "HTTP/1.1 {} OK\r\nX-Filler: {cookie}\r\nContent-Length: 3000\r\n\r\n",
                200 + i
            )
            .into_bytes();
            resp.extend_from_slice(&body);
            (req.into_bytes(), resp)
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("cut.pcap");
    std::fs::write(&capture, http_capture_cut(&exchanges, 128)).unwrap();
    let got = http_json(&capture, &[]);
    let seen: Vec<(String, u64)> = got
        .iter()
        .map(|t| {
            (
                t["uri"].as_str().unwrap_or("-").to_string(),
                t["status"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            ("/page/0".to_string(), 200),
            ("/page/1".to_string(), 201),
            ("/page/2".to_string(), 202)
        ]
    );
    for t in &got {
        assert_eq!(t["host"], "test");
        // Only what was cut is warned about, once per direction.
        let kinds = warning_kinds(t);
        assert_eq!(
            kinds,
            vec!["not_captured", "not_captured"],
            "{}",
            t["warnings"]
        );
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn compress(kind: &str, data: &[u8]) -> Vec<u8> {
    use flate2::Compression;
    use std::io::Write;
    match kind {
        "gzip" => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), Compression::default());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        }
        "zlib" => {
            let mut e = flate2::write::ZlibEncoder::new(Vec::new(), Compression::default());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        }
        _ => {
            let mut e = flate2::write::DeflateEncoder::new(Vec::new(), Compression::default());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        }
    }
}

/// Names in `dir`, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn extraction_never_follows_a_symlink_in_the_directory() {
    // issue 16: a symlink named like the body file (`0-0-index.html` for http-get's GET
    // /index.html) pointing outside DIR; its target must stay as it was.
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let target = root.path().join("precious.txt");
    std::fs::write(&target, b"precious").unwrap();
    std::os::unix::fs::symlink(&target, out.join("0-0-index.html")).unwrap();
    std::os::unix::fs::symlink(&target, out.join("0-0-index-1.html.part")).unwrap();
    let got = http_json(
        &util::fixture("http-get.pcap"),
        &["--extract", out.to_str().unwrap()],
    );
    assert_eq!(std::fs::read(&target).unwrap(), b"precious");
    for link in ["0-0-index.html", "0-0-index-1.html.part"] {
        let meta = std::fs::symlink_metadata(out.join(link)).unwrap();
        assert!(meta.file_type().is_symlink(), "{link}");
    }
    // Neither name is taken over: the body goes to the next free one, and the row says so.
    let body = &got[0]["body_file"];
    assert_eq!(body["file_name"], "0-0-index-2.html");
    assert_eq!(body["wanted_name"], "0-0-index.html");
    assert_eq!(body["clash"], true);
    assert_eq!(body["complete"], true);
    let written = std::fs::read(out.join("0-0-index-2.html")).unwrap();
    let truth = &truth("http-get")[0];
    assert_eq!(sha256_hex(&written), truth["body_sha256"].as_str().unwrap());
    assert_eq!(body["sha256"], truth["body_sha256"]);
    let message = got[0]["warnings"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("0-0-index.html already exists") && message.contains("0-0-index-2.html"),
        "{message}"
    );
}

#[test]
fn a_taken_name_gets_the_next_free_number_and_nothing_is_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("0-0-page.txt"), b"mine").unwrap();
    std::fs::write(dir.path().join("0-0-page-1.txt"), b"mine too").unwrap();
    let capture = dir.path().join("c.pcap");
    // The same target twice on one connection: 0-0-page.txt and 0-1-page.txt.
    std::fs::write(
        &capture,
        http_capture(&[
            (get("/a/page.txt"), response(None, b"first")),
            (get("/b/page.txt?x=1"), response(None, b"second")),
        ]),
    )
    .unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("0-0-page.txt"), b"mine").unwrap();
    std::fs::write(out.join("0-0-page-1.txt"), b"mine too").unwrap();
    let got = http_json(&capture, &["--extract", out.to_str().unwrap()]);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0]["body_file"]["file_name"], "0-0-page-2.txt");
    assert_eq!(got[0]["body_file"]["clash"], true);
    assert_eq!(got[1]["body_file"]["file_name"], "0-1-page.txt");
    assert_eq!(got[1]["body_file"]["clash"], false);
    assert_eq!(std::fs::read(out.join("0-0-page.txt")).unwrap(), b"mine");
    assert_eq!(
        std::fs::read(out.join("0-0-page-1.txt")).unwrap(),
        b"mine too"
    );
    assert_eq!(std::fs::read(out.join("0-0-page-2.txt")).unwrap(), b"first");
    assert_eq!(std::fs::read(out.join("0-1-page.txt")).unwrap(), b"second");
    // No .part file left behind by complete bodies.
    assert_eq!(
        listing(&out),
        vec![
            "0-0-page-1.txt",
            "0-0-page-2.txt",
            "0-0-page.txt",
            "0-1-page.txt"
        ]
    );
}

#[test]
fn deflate_bodies_decode_zlib_wrapped_and_raw() {
    let dir = tempfile::tempdir().unwrap();
    let text: Vec<u8> = b"deflate me, RFC 9110 section 8.4.1.2\n".repeat(40);
    let capture = dir.path().join("c.pcap");
    std::fs::write(
        &capture,
        http_capture(&[
            (
                get("/zlib.txt"),
                response(Some("deflate"), &compress("zlib", &text)),
            ),
            (
                get("/raw.txt"),
                response(Some("deflate"), &compress("raw", &text)),
            ),
            (
                get("/gz.txt"),
                response(Some("gzip"), &compress("gzip", &text)),
            ),
        ]),
    )
    .unwrap();
    let out = dir.path().join("out");
    let got = http_json(&capture, &["--extract", out.to_str().unwrap(), "--decode"]);
    assert_eq!(got.len(), 3);
    for t in &got {
        let b = &t["body_file"];
        let path = Path::new(b["path"].as_str().unwrap());
        assert_eq!(std::fs::read(path).unwrap(), text, "{}", t["uri"]);
        assert_eq!(b["sha256"], sha256_hex(&text));
        assert_eq!(b["size"], text.len());
        assert_eq!(b["wire"]["size"], t["response_body_bytes"]);
        assert_eq!(b["decoded"], true);
        assert!(
            t["warnings"].as_array().unwrap().is_empty(),
            "{}",
            t["warnings"]
        );
    }
}

/// A gzip body of `members` gzip members of 1 MiB of zeros each (RFC 1952 allows members in a
/// row): about 1 KiB on the wire per MiB decoded.
fn gzip_bomb(members: usize) -> Vec<u8> {
    compress("gzip", &vec![0u8; 1 << 20]).repeat(members)
}

#[test]
fn a_gzip_bomb_stops_at_the_decoding_limit() {
    let dir = tempfile::tempdir().unwrap();
    // ~1 MB on the wire that would decode to 1 GiB.
    let bomb = gzip_bomb(1024);
    let capture = dir.path().join("bomb.pcap");
    std::fs::write(
        &capture,
        http_capture(&[(get("/bomb"), response(Some("gzip"), &bomb))]),
    )
    .unwrap();
    // Default limits: 50 decoded bytes per wire byte received (at least 1 MiB).
    let out = dir.path().join("default");
    let got = http_json(&capture, &["--extract", out.to_str().unwrap(), "--decode"]);
    let b = &got[0]["body_file"];
    assert_eq!(b["complete"], false);
    assert_eq!(b["stop"]["kind"], "limit");
    assert_eq!(b["stop"]["limit"]["rule"], "ratio");
    let size = b["size"].as_u64().unwrap();
    assert!(size <= 50 * bomb.len() as u64, "{size}");
    assert!(size >= 1 << 20, "{size}");
    // The bytes written are what the file holds; the full name is never given to it.
    assert_eq!(b["file_name"], "0-0-bomb.part");
    let on_disk = std::fs::metadata(out.join("0-0-bomb.part")).unwrap().len();
    assert_eq!(on_disk, size);
    assert!(!out.join("0-0-bomb").exists());
    assert_eq!(b["wire"]["size"], bomb.len());
    assert_eq!(b["wire"]["sha256"], sha256_hex(&bomb));
    let kinds = warning_kinds(&got[0]);
    assert_eq!(kinds, vec!["body_extraction"]);
    assert!(
        got[0]["warnings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("--max-decoded-ratio")
    );
    // The absolute cap, set by flag, stops it when the ratio allows more.
    let out = dir.path().join("capped");
    let got = http_json(
        &capture,
        &[
            "--extract",
            out.to_str().unwrap(),
            "--decode",
            "--max-decoded-ratio",
            "100000",
            "--max-decoded-size",
            "2M",
        ],
    );
    let b = &got[0]["body_file"];
    assert_eq!(b["stop"]["limit"]["rule"], "cap");
    assert_eq!(b["size"], 2 << 20);
    assert_eq!(
        std::fs::read(out.join("0-0-bomb.part")).unwrap(),
        vec![0u8; 2 << 20]
    );
    // Without --decode the body is written as it came.
    let out = dir.path().join("raw");
    let got = http_json(&capture, &["--extract", out.to_str().unwrap()]);
    assert_eq!(got[0]["body_file"]["size"], bomb.len());
    assert_eq!(got[0]["body_file"]["complete"], true);
}

#[test]
fn fifty_copies_of_one_capture_in_one_grade_run_grade_identically() {
    // issue 16: the same path given many times once shared (and deleted) one temporary
    // folder. Bodies are now hashed and searched in memory.
    let truth: Value = serde_json::from_str(
        &std::fs::read_to_string(util::fixture("student-http-correct.truth.json")).unwrap(),
    )
    .unwrap();
    let sha = truth["response"]["body_sha256"].as_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let rubric = dir.path().join("r.toml");
    std::fs::write(
        &rubric,
        format!(
            "[[check]]\nid = \"sha\"\npoints = 2\ntype = \"http_response\"\npath = \"/index.html\"\n\
             sha256 = \"{sha}\"\n\n\
             [[check]]\nid = \"h1\"\npoints = 3\ntype = \"http_response\"\npath = \"/index.html\"\n\
             body_contains = \"<h1>\"\n\n\
             [[check]]\nid = \"absent\"\npoints = 5\ntype = \"http_response\"\n\
             path = \"/index.html\"\nbody_contains = \"not in the page\"\n"
        ),
    )
    .unwrap();
    let capture = util::fixture("student-http-correct.pcap");
    let mut args = vec![
        "grade".to_string(),
        "--rubric".into(),
        rubric.to_str().unwrap().into(),
        "--format".into(),
        "json".into(),
    ];
    args.extend(std::iter::repeat_n(
        capture.to_str().unwrap().to_string(),
        50,
    ));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = util::run(&refs);
    assert_eq!(out.status.code(), Some(1), "{}", util::stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let verdicts = v.as_array().unwrap();
    assert_eq!(verdicts.len(), 50);
    for verdict in verdicts {
        assert_eq!(verdict["score"], 5.0, "{verdict}");
        assert_eq!(verdict["max_score"], 10.0);
        let passed: Vec<bool> = verdict["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["passed"].as_bool().unwrap())
            .collect();
        assert_eq!(passed, vec![true, true, false]);
    }
}
