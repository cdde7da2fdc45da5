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
    let cases: &[(&str, &str, &str)] = &[
        // lo-ethernet: handshake frames 11-13 and a FIN close on 9001 (README); sticky-raw's
        // client talks to 9010.
        (
            "type = \"tcp_handshake\"\nport = 9001",
            "lo-ethernet.pcap",
            "sticky-raw.pcap",
        ),
        (
            "type = \"tcp_close\"\nport = 9001",
            "lo-ethernet.pcap",
            "sticky-raw.pcap",
        ),
        // udp-echo: the 7th datagram is deliberately not answered.
        (
            "type = \"udp_echo\"\nport = 5005",
            "lo-ethernet.pcap",
            "udp-echo.pcap",
        ),
        (
            "type = \"udp_broadcast\"\nport = 7788",
            "udp-broadcast.pcap",
            "udp-echo.pcap",
        ),
        (
            "type = \"tftp_transfer\"\nfile = \"small.txt\"\nsize = 1700\nsha256 = \"e6059d6a3e971929758df5651eb189dbc3d35f605967997d8a966cd19bdd91da\"",
            "tftp-read.pcap",
            "tftp-missing.pcap",
        ),
        (
            "type = \"http_response\"\nmethod = \"GET\"\npath = \"/index.html\"\nstatus = 200\ncontent_type = \"text/html\"\nsha256 = \"f21f0d4baeef38acf18b1d50bd0256f4434b943162c24e427419e705076a8b71\"",
            "http-get.pcap",
            "http-404.pcap",
        ),
        (
            "type = \"framing\"\nport = 9011\nframing = \"len:4\"",
            "sticky-lenprefix.pcap",
            "sticky-raw.pcap",
        ),
        // sticky-raw carries one real retransmission (fixtures/README.md), lo-ethernet none.
        (
            "type = \"max_retransmissions\"\nmax = 0",
            "lo-ethernet.pcap",
            "sticky-raw.pcap",
        ),
    ];
    for (check, good, bad) in cases {
        let (passed, message) = one(check, good);
        assert!(passed, "{check} on {good}: {message}");
        let (passed, message) = one(check, bad);
        assert!(!passed, "{check} on {bad} should fail: {message}");
        assert!(!message.is_empty());
    }
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
        message.contains("framing errors") || message.contains("no len:4 message"),
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
    let cases = [
        (
            "[[check]]\nid = \"a\"\npoints = 1\ntype = \"tcp_magic\"\nport = 1\n",
            "line 4",
            "tcp_magic",
        ),
        (
            "[[check]]\nid = \"a\"\npoints = 1\ntype = \"tcp_handshake\"\n",
            "line 2",
            "missing key `port`",
        ),
        (
            "[[check]]\nid = \"a\"\npoints = \"ten\"\ntype = \"tcp_handshake\"\nport = 1\n",
            "line 3",
            "ten",
        ),
        (
            "[[check]]\nid = \"a\"\npoints = 1\ntype = \"tcp_handshake\"\nport = 1\nprot = 2\n",
            "line 6",
            "prot",
        ),
        ("[[check]\nid = \"a\"\n", "line 1", ""),
        (
            "[[check]]\nid = \"a\"\npoints = 1\ntype = \"framing\"\nport = 1\nframing = \"len:3\"\n",
            "line 2",
            "len",
        ),
        (
            "[[check]]\npoints = 1\ntype = \"udp_echo\"\nport = 7\n",
            "line 1",
            "id",
        ),
    ];
    for (i, (text, line, key)) in cases.iter().enumerate() {
        let r = rubric(&format!("bad{i}"), text);
        let (code, out, err) = grade(&r, &["lo-ethernet.pcap"], "table");
        assert_eq!(code, Some(2), "case {i}: {err}");
        assert!(out.is_empty());
        assert!(err.contains(line), "case {i}: {err}");
        assert!(err.contains(key), "case {i}: {err}");
    }
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

#[test]
fn junit_and_gradescope_shapes() {
    let r = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/rubrics/http-server.toml");
    let (_, out, _) = grade(&r, &["http-get.pcap", "http-404.pcap"], "junit");
    assert!(out.starts_with("<?xml"));
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
}
