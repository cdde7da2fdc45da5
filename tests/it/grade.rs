//! `pcaplab grade`: every check type passing and failing on real captures, rubric errors,
//! exit codes and output formats. The expected outcomes come from what the capturing programs
//! did (fixtures/README.md and the truth files), not from earlier runs.

use std::path::PathBuf;

use serde_json::Value;

use crate::util;

fn rubric(name: &str, text: &str) -> PathBuf {
    // Tests run in parallel: every rubric file gets its own name.
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!(
        "pcaplab-rubric-{name}-{}-{n}.toml",
        std::process::id()
    ));
    std::fs::write(&path, text).unwrap();
    path
}

fn grade(
    rubric: &std::path::Path,
    captures: &[&str],
    format: &str,
) -> (Option<i32>, String, String) {
    let mut args = vec![
        "grade".to_string(),
        "--rubric".into(),
        rubric.to_str().unwrap().into(),
        "--format".into(),
        format.into(),
    ];
    args.extend(
        captures
            .iter()
            .map(|c| util::fixture(c).to_str().unwrap().to_string()),
    );
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = util::run(&refs);
    (out.status.code(), util::stdout(&out), util::stderr(&out))
}

/// Runs one single-check rubric on `capture`; returns (passed, message).
fn one(check: &str, capture: &str) -> (bool, String) {
    let r = rubric(
        &format!("one-{}", capture.replace('.', "-")),
        &format!("[[check]]\nid = \"c\"\npoints = 1\n{check}\n"),
    );
    let (code, out, err) = grade(&r, &[capture], "json");
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}"));
    let c = &v[0]["checks"][0];
    let passed = c["passed"].as_bool().unwrap();
    assert_eq!(code, Some(if passed { 0 } else { 1 }), "{err}");
    (passed, c["message"].as_str().unwrap().to_string())
}

#[test]
fn every_check_type_passes_and_fails_on_real_captures() {
    // (check, capture where it passes, capture where it fails, text the failure must contain).
    // The facts come from fixtures/README.md and the tshark dumps, not from earlier runs.
    let cases: &[(&str, &str, &str, &str)] = &[
        // lo-ethernet: handshake frames 11-13 and a FIN close on 9001 (README); sticky-raw's
        // client talks to 9010.
        (
            "type = \"tcp_handshake\"\nport = 9001",
            "lo-ethernet.pcap",
            "sticky-raw.pcap",
            "no TCP connection to port 9001; saw connections to 9010",
        ),
        (
            "type = \"tcp_close\"\nport = 9001",
            "lo-ethernet.pcap",
            "sticky-raw.pcap",
            "no TCP connection to port 9001",
        ),
        // The wrong student HTTP server aborts with SO_LINGER 0: RST instead of FIN (its truth
        // file says "close": "rst"; frame 8 of the tshark dump has flags A·R).
        (
            "type = \"tcp_close\"\nport = 9120",
            "student-http-correct.pcap",
            "student-http-wrong.pcap",
            "1 of 1 connections to port 9120 did not close gracefully: stream 0: reset by the server (RST in frame 8)",
        ),
        (
            "type = \"tcp_handshake\"\nport = 9120",
            "student-http-wrong.pcap",
            "http-get.pcap",
            "no TCP connection to port 9120; saw connections to 8000",
        ),
        // The wrong server sends text/plain without <h1> (its truth file).
        (
            "type = \"http_response\"\npath = \"/index.html\"\nstatus = 200\ncontent_type = \"text/html\"\nbody_contains = \"<h1>\"",
            "student-http-correct.pcap",
            "student-http-wrong.pcap",
            "content type \"text/plain\" instead of \"text/html\", body does not contain \"<h1>\"",
        ),
        // udp-echo: the 7th datagram (frame 13 in the tshark dump) is deliberately not answered.
        (
            "type = \"udp_echo\"\nport = 5005",
            "lo-ethernet.pcap",
            "udp-echo.pcap",
            "1 of 10 datagrams to port 5005 were not echoed as sent: frame 13: no reply",
        ),
        (
            "type = \"udp_broadcast\"\nport = 7788",
            "udp-broadcast.pcap",
            "udp-echo.pcap",
            "saw datagrams to ports 5005, 45888",
        ),
        (
            "type = \"tftp_transfer\"\ndirection = \"read\"\nfile = \"small.txt\"\nsize = 1700\nsha256 = \"e6059d6a3e971929758df5651eb189dbc3d35f605967997d8a966cd19bdd91da\"",
            "tftp-read.pcap",
            "tftp-missing.pcap",
            "no TFTP read of small.txt; saw a read of missing.txt in frame 1 (ERROR 1: File not found)",
        ),
        (
            "type = \"http_response\"\nmethod = \"GET\"\npath = \"/index.html\"\nstatus = 200\ncontent_type = \"text/html\"\nsha256 = \"f21f0d4baeef38acf18b1d50bd0256f4434b943162c24e427419e705076a8b71\"",
            "http-get.pcap",
            "http-404.pcap",
            "no HTTP request GET /index.html; saw GET /missing.html",
        ),
        (
            "type = \"http_response\"\npath = \"/index.html\"\nbody_contains = \"<h1>\"",
            "http-get.pcap",
            "http-404.pcap",
            "saw GET /missing.html",
        ),
        (
            "type = \"framing\"\nport = 9011\nframing = \"len:4\"",
            "sticky-lenprefix.pcap",
            "sticky-raw.pcap",
            "no TCP connection to port 9011; saw connections to 9010",
        ),
        // split-200k: one 200,000-byte message over 99 segments (fixtures/README.md); the
        // correct student's three messages each fit one segment.
        (
            "type = \"framing\"\nport = 9012\nframing = \"len:4\"\nmax_split = 0",
            "student-lenprefix-correct.pcap",
            "split-200k.pcap",
            "port 9012: 1 split message (at most 0 allowed)",
        ),
        // sticky-raw carries one real retransmission (fixtures/README.md), lo-ethernet none.
        (
            "type = \"max_retransmissions\"\nmax = 0",
            "lo-ethernet.pcap",
            "sticky-raw.pcap",
            "1 TCP retransmission (at most 0 allowed)",
        ),
    ];
    for (check, good, bad, why) in cases {
        let (passed, message) = one(check, good);
        assert!(passed, "{check} on {good}: {message}");
        let (passed, message) = one(check, bad);
        assert!(!passed, "{check} on {bad} should fail: {message}");
        assert!(
            message.contains(why),
            "{check} on {bad}: want {why:?}, got {message:?}"
        );
    }
}

#[test]
fn http_body_sha256_matches_the_servers_truth_file() {
    let truth = |name: &str| -> String {
        let t: Value =
            serde_json::from_str(&std::fs::read_to_string(util::fixture(name)).unwrap()).unwrap();
        t["response"]["body_sha256"].as_str().unwrap().to_string()
    };
    let correct = truth("student-http-correct.truth.json");
    let wrong = truth("student-http-wrong.truth.json");
    let check =
        |sha: &str| format!("type = \"http_response\"\npath = \"/index.html\"\nsha256 = \"{sha}\"");
    assert!(one(&check(&correct), "student-http-correct.pcap").0);
    assert!(one(&check(&wrong), "student-http-wrong.pcap").0);
    let (passed, message) = one(&check(&correct), "student-http-wrong.pcap");
    assert!(!passed);
    assert_eq!(
        message,
        format!("/index.html: body sha256 {wrong} instead of {correct}")
    );
}

#[test]
fn missing_traffic_says_what_was_seen_instead() {
    let (passed, message) = one("type = \"tcp_handshake\"\nport = 8888", "http-get.pcap");
    assert!(!passed);
    assert_eq!(
        message,
        "no TCP connection to port 8888; saw connections to 8000"
    );
    let (_, message) = one(
        "type = \"framing\"\nport = 9010\nframing = \"len:4\"",
        "sticky-raw.pcap",
    );
    assert!(
        message.contains("the client does not follow len:4: offset 0"),
        "{message}"
    );
    let (_, message) = one(
        "type = \"http_response\"\npath = \"/\"\nno_warnings = true",
        "http-broken.pcap",
    );
    assert!(message.contains("saw GET /lf"), "{message}");
}

#[test]
fn example_rubrics_pass_correct_programs_and_fail_wrong_ones() {
    for (rubric_name, good, bad) in [
        ("udp-echo", "lo-ethernet.pcap", "udp-echo.pcap"),
        ("tftp-download", "tftp-read.pcap", "tftp-missing.pcap"),
        ("http-server", "http-get.pcap", "http-404.pcap"),
        (
            "length-prefixed-transfer",
            "student-lenprefix-correct.pcap",
            "student-lenprefix-wrong.pcap",
        ),
        // Another correct sender (200 kB in 4-byte-prefixed messages) and one with no prefixes.
        (
            "length-prefixed-transfer",
            "split-200k.pcap",
            "sticky-raw.pcap",
        ),
    ] {
        let r = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join(format!("examples/rubrics/{rubric_name}.toml"));
        let (code, out, err) = grade(&r, &[good, bad], "json");
        assert_eq!(code, Some(1), "{rubric_name}: {err}");
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v[0]["score"], v[0]["max_score"], "{rubric_name}: {}", v[0]);
        assert!(
            v[1]["score"].as_f64() < v[1]["max_score"].as_f64(),
            "{rubric_name}"
        );
        assert!(
            v[0]["capture"].as_str().unwrap().ends_with(good),
            "argument order kept"
        );
        let (code, _, _) = grade(&r, &[good], "table");
        assert_eq!(code, Some(0), "{rubric_name}: all checks pass");
    }
}

#[test]
fn rubric_mistakes_name_the_line_and_the_key() {
    // A valid first check, so the mistakes sit past line 1 and in check 2.
    let good =
        "title = \"t\"\n\n[[check]]\nid = \"ok\"\npoints = 1\ntype = \"udp_echo\"\nport = 5005\n\n";
    // (mistake, rubric after `good`, line, texts the message must contain)
    let cases: &[(&str, &str, &str, &[&str])] = &[
        (
            "unknown check type",
            "[[check]]\nid = \"a\"\npoints = 1\ntype = \"tcp_magic\"\nport = 1\n",
            "line 12, column 8",
            &[
                "check 2 (`a`)",
                "key `type`",
                "`tcp_magic`",
                "expected one of `tcp_handshake`",
            ],
        ),
        (
            "missing parameter of the check type",
            "[[check]]\nid = \"a\"\npoints = 1\ntype = \"tcp_handshake\"\n",
            "line 12",
            &[
                "check 2 (`a`)",
                "key `port`: missing, and a `tcp_handshake` check needs it",
                "`tcp_handshake` check needs",
            ],
        ),
        (
            "missing common key",
            "[[check]]\nid = \"a\"\ntype = \"udp_echo\"\nport = 7\n",
            "line 9",
            &["check 2 (`a`)", "missing key `points`"],
        ),
        (
            "wrong value type",
            "[[check]]\nid = \"a\"\npoints = \"ten\"\ntype = \"tcp_handshake\"\nport = 1\n",
            "line 11, column 10",
            &["key `points`", "expected a number", "\"ten\""],
        ),
        (
            "value out of range",
            "[[check]]\nid = \"a\"\npoints = 1\ntype = \"udp_echo\"\nport = 70000\n",
            "line 13",
            &["key `port`", "70000", "a port number 0–65535"],
        ),
        (
            "unknown key",
            "[[check]]\nid = \"a\"\npoints = 1\ntype = \"tcp_handshake\"\nport = 1\nprot = 2\n",
            "line 14, column 1",
            &["unknown key `prot`", "expected one of", "`port`"],
        ),
        (
            "TOML syntax",
            "[[check]\nid = \"a\"\n",
            "line 9, column 9",
            &["unclosed array table", "expected `]`"],
        ),
        (
            "TOML syntax in a value",
            "[[check]]\nid = \"a\"\npoints = 1 2\n",
            "line 11",
            &["key `points`"],
        ),
        (
            "invalid framing spec",
            "[[check]]\nid = \"a\"\npoints = 1\ntype = \"framing\"\nport = 1\nframing = \"len:3\"\n",
            "line 14",
            &["check 2 (`a`)", "key `framing`", "len"],
        ),
        (
            "duplicate id",
            "[[check]]\nid = \"ok\"\npoints = 1\ntype = \"udp_echo\"\nport = 7\n",
            "line 10",
            &["key `id`", "same id as check 1"],
        ),
        (
            "bad sha256",
            "[[check]]\nid = \"a\"\npoints = 1\ntype = \"tftp_transfer\"\nfile = \"x\"\nsha256 = \"abc\"\n",
            "line 14",
            &["key `sha256`", "64 hexadecimal digits"],
        ),
        (
            "bad direction",
            "[[check]]\nid = \"a\"\npoints = 1\ntype = \"tftp_transfer\"\nfile = \"x\"\ndirection = \"up\"\n",
            "line 14",
            &["key `direction`", "\"read\" or \"write\""],
        ),
    ];
    for (i, (mistake, text, line, wanted)) in cases.iter().enumerate() {
        let r = rubric(&format!("bad{i}"), &format!("{good}{text}"));
        let (code, out, err) = grade(&r, &["lo-ethernet.pcap"], "table");
        assert_eq!(code, Some(2), "{mistake}: {err}");
        assert!(out.is_empty(), "{mistake}: nothing graded");
        assert!(
            err.contains(&format!(": {line}")),
            "{mistake}: want {line}: {err}"
        );
        for w in *wanted {
            assert!(err.contains(w), "{mistake}: want {w:?} in {err}");
        }
    }
    let r = rubric("nochecks", "title = \"empty\"\n");
    let (code, _, err) = grade(&r, &["lo-ethernet.pcap"], "table");
    assert_eq!(code, Some(2));
    assert!(err.contains("no [[check]] tables"), "{err}");
}

#[test]
fn wrong_length_prefix_fails_only_the_framing_check() {
    // The wrong student announced n + 4 for the second file (its truth file): the stream
    // desynchronises after message 1, whose end is at 4 + 1200 + 4 + 3000 = 4208.
    let r = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("examples/rubrics/length-prefixed-transfer.toml");
    let (code, out, _) = grade(&r, &["student-lenprefix-wrong.pcap"], "json");
    assert_eq!(code, Some(1));
    let v: Value = serde_json::from_str(&out).unwrap();
    let failed: Vec<&str> = v[0]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["passed"] == false)
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(failed, vec!["framing"]);
}

#[test]
fn unreadable_capture_exits_2_after_grading_the_others() {
    let r = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/rubrics/udp-echo.toml");
    let (code, out, err) = grade(&r, &["lo-ethernet.pcap", "not-a-capture.pcap"], "json");
    assert_eq!(code, Some(2), "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2);
    assert_eq!(v[0]["score"], 8.0);
    assert!(err.contains("not a pcap or pcapng capture"));
}

/// A small structural XML check: one root, tags nest and close in order, attributes are
/// quoted, and text and attribute values hold no raw `<` or bare `&`.
fn assert_well_formed_xml(xml: &str) {
    let body = xml
        .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
        .expect("XML declaration");
    let check_text = |t: &str| {
        assert!(
            !t.contains('<') && !t.contains('>'),
            "raw angle bracket in {t:?}"
        );
        let mut rest = t;
        while let Some(at) = rest.find('&') {
            rest = &rest[at + 1..];
            assert!(
                ["amp;", "lt;", "gt;", "quot;", "apos;"]
                    .iter()
                    .any(|e| rest.starts_with(e)),
                "bare & in {t:?}"
            );
        }
    };
    let mut stack: Vec<String> = Vec::new();
    let mut roots = 0;
    let mut rest = body;
    while let Some(open) = rest.find('<') {
        check_text(&rest[..open]);
        let close = rest[open..].find('>').expect("tag ends") + open;
        let tag = &rest[open + 1..close];
        rest = &rest[close + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(stack.pop().as_deref(), Some(name), "closing tag order");
            continue;
        }
        let self_closing = tag.ends_with('/');
        let tag = tag.trim_end_matches('/');
        let (name, mut attrs) = tag.split_once(' ').unwrap_or((tag, ""));
        assert!(!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
        while !attrs.trim().is_empty() {
            let (_, value) = attrs.split_once("=\"").expect("attribute quoted");
            let end = value.find('"').expect("attribute closed");
            check_text(&value[..end]);
            attrs = &value[end + 1..];
        }
        if stack.is_empty() {
            roots += 1;
        }
        if !self_closing {
            stack.push(name.to_string());
        }
    }
    check_text(rest);
    assert!(stack.is_empty(), "unclosed {stack:?}");
    assert_eq!(roots, 1, "one root element");
}

#[test]
fn junit_and_gradescope_shapes() {
    let r = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/rubrics/http-server.toml");
    let (code, out, _) = grade(&r, &["http-get.pcap", "http-404.pcap"], "junit");
    assert_eq!(code, Some(1));
    assert_well_formed_xml(&out);
    assert_eq!(out.matches("<testsuite ").count(), 2);
    assert_eq!(out.matches("<testcase ").count(), 6);
    assert_eq!(out.matches("<failure ").count(), 1);
    assert_eq!(
        out.matches("<testcase").count(),
        out.matches("</testcase>").count()
    );
    let (_, out, _) = grade(&r, &["http-get.pcap"], "gradescope");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["score"], 10.0);
    let tests = v["tests"].as_array().unwrap();
    assert_eq!(tests.len(), 3);
    for t in tests {
        for k in ["name", "score", "max_score", "status", "output"] {
            assert!(t.get(k).is_some(), "{k}");
        }
        assert_eq!(t["status"], "passed");
    }
    // Several captures: an array of results.json objects, in argument order.
    let (code, out, _) = grade(&r, &["http-404.pcap", "http-get.pcap"], "gradescope");
    assert_eq!(code, Some(1));
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v.as_array().map(Vec::len), Some(2));
    assert!(v[0]["score"].as_f64() < Some(10.0));
    assert_eq!(v[1]["score"], 10.0);
    assert!(v[0]["output"].as_str().unwrap().contains("http-404.pcap"));
    // An unreadable capture in JUnit: an <error> testcase, still well-formed.
    let (code, out, _) = grade(&r, &["http-get.pcap", "not-a-capture.pcap"], "junit");
    assert_eq!(code, Some(2));
    assert_well_formed_xml(&out);
    assert_eq!(out.matches("<error ").count(), 1);
}
