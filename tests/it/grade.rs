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
        (
            "tftp-server",
            "student-tftpserver-correct.pcap",
            "student-tftpserver-wrong.pcap",
        ),
        (
            "http-server",
            "student-http-correct.pcap",
            "student-http-wrong.pcap",
        ),
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
            &[
                "key `prot`: unknown key, not one any check takes",
                "a `tcp_handshake` check takes `port`",
            ],
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
    let (code, out, _) = grade(
        &r,
        &["student-http-correct.pcap", "student-http-wrong.pcap"],
        "junit",
    );
    assert_eq!(code, Some(1));
    assert_well_formed_xml(&out);
    assert_eq!(out.matches("<testsuite ").count(), 2);
    assert_eq!(out.matches("<testcase ").count(), 6);
    // The wrong server fails `index` (text/plain, no <h1>) and `close` (RST in frame 8).
    assert_eq!(out.matches("<failure ").count(), 2);
    assert_eq!(
        out.matches("<testcase").count(),
        out.matches("</testcase>").count()
    );
    let (_, out, _) = grade(&r, &["student-http-correct.pcap"], "gradescope");
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
    let (code, out, _) = grade(
        &r,
        &["student-http-wrong.pcap", "student-http-correct.pcap"],
        "gradescope",
    );
    assert_eq!(code, Some(1));
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v.as_array().map(Vec::len), Some(2));
    assert!(v[0]["score"].as_f64() < Some(10.0));
    assert_eq!(v[1]["score"], 10.0);
    assert!(
        v[0]["output"]
            .as_str()
            .unwrap()
            .contains("student-http-wrong.pcap")
    );
    // An unreadable capture in JUnit: an <error> testcase, still well-formed.
    let (code, out, _) = grade(
        &r,
        &["student-http-correct.pcap", "not-a-capture.pcap"],
        "junit",
    );
    assert_eq!(code, Some(2));
    assert_well_formed_xml(&out);
    assert_eq!(out.matches("<error ").count(), 1);
}

/// Runs `rubric` (a path) on `captures` (paths) in `format`; returns (exit code, stdout, stderr).
fn grade_paths(
    rubric: &std::path::Path,
    captures: &[PathBuf],
    format: &str,
    extra: &[&str],
) -> (Option<i32>, String, String) {
    let mut args = vec![
        "grade".to_string(),
        "--rubric".into(),
        rubric.to_str().unwrap().into(),
        "--format".into(),
        format.into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend(captures.iter().map(|c| c.to_str().unwrap().to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = util::run(&refs);
    (out.status.code(), util::stdout(&out), util::stderr(&out))
}

fn example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("examples/rubrics/{name}.toml"))
}

/// (exit code, score, max, ids of the failed checks, id → message) of one capture.
type Graded = (Option<i32>, f64, f64, Vec<String>, Vec<(String, String)>);

fn verdict(rubric: &std::path::Path, capture: PathBuf) -> Graded {
    let (code, out, err) = grade_paths(rubric, &[capture], "json", &[]);
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}"));
    let checks = v[0]["checks"].as_array().unwrap();
    let failed = checks
        .iter()
        .filter(|c| c["passed"] == false)
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    let messages = checks
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_string(),
                c["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    (
        code,
        v[0]["score"].as_f64().unwrap(),
        v[0]["max_score"].as_f64().unwrap(),
        failed,
        messages,
    )
}

#[test]
fn every_example_rubric_gives_full_marks_to_the_correct_program_and_fails_the_wrong_ones_checks() {
    // (rubric, fixture, the checks that fail): the failures are the ones the programs were
    // written to make (fixtures/README.md and each fixture's .truth.json).
    let cases: &[(&str, &str, &[&str])] = &[
        ("udp-echo", "student-udpecho-correct.pcap", &[]),
        // recvfrom(1024) truncates the 1,500-byte datagram (truth: truncated_reply).
        ("udp-echo", "student-udpecho-wrong.pcap", &["echo"]),
        // Replies from a second socket's port (truth: reply_from_port).
        ("udp-echo", "student-udpecho-wrongport.pcap", &["echo"]),
        ("udp-broadcast", "student-broadcast-correct.pcap", &[]),
        // No SO_BROADCAST: sent unicast to 10.99.1.2.
        (
            "udp-broadcast",
            "student-broadcast-wrong.pcap",
            &["broadcast"],
        ),
        ("tftp-server", "student-tftpserver-correct.pcap", &[]),
        // Closed before the final ACK (ICMP frames 10, 22), ERROR 5 for a missing file, no
        // re-send of DATA 2 within 5 s; every byte of small.txt still arrived.
        (
            "tftp-server",
            "student-tftpserver-wrong.pcap",
            &["final-ack", "file-not-found", "timeout"],
        ),
        ("tftp-client", "student-tftpclient-correct.pcap", &[]),
        // No ACK of the last block; the data is complete.
        ("tftp-client", "student-tftpclient-wrong.pcap", &["acks"]),
        // ACKs to port 69: only block 1 arrives.
        (
            "tftp-client",
            "student-tftpclient-wrongport.pcap",
            &["download", "acks"],
        ),
        ("tcp-chat", "student-chat-correct.pcap", &[]),
        // No LF from the client; SO_LINGER 0 reset (frame 13); the server's lines are right.
        (
            "tcp-chat",
            "student-chat-wrong.pcap",
            &["client-lines", "close"],
        ),
        (
            "length-prefixed-transfer",
            "student-lenprefix-correct.pcap",
            &[],
        ),
        (
            "length-prefixed-transfer",
            "student-lenprefix-wrong.pcap",
            &["framing"],
        ),
        ("http-server", "student-http-correct.pcap", &[]),
        // text/plain without <h1> (its truth file), then the server's RST in frame 8.
        (
            "http-server",
            "student-http-wrong.pcap",
            &["index", "close"],
        ),
    ];
    for (rubric, capture, want_failed) in cases {
        let (code, score, max, failed, messages) =
            verdict(&example(rubric), util::fixture(capture));
        assert_eq!(failed, *want_failed, "{rubric} on {capture}: {messages:?}");
        if want_failed.is_empty() {
            assert_eq!(score, max, "{rubric} on {capture}");
            assert_eq!(code, Some(0));
        } else {
            assert!(score < max);
            assert_eq!(code, Some(1));
        }
    }
    // The course's own length-prefixed program: the server's bare "OK" is not the client's
    // framing (../shared/cases/README.md).
    if let Some(c) = util::shared_case("course-filexfer-128k.pcap") {
        let (code, score, max, failed, m) = verdict(&example("length-prefixed-transfer"), c);
        assert!(failed.is_empty(), "{m:?}");
        assert_eq!((code, score), (Some(0), max));
        let framing = &m.iter().find(|(id, _)| id == "framing").unwrap().1;
        assert!(
            framing.starts_with("2 len:4 messages from the client"),
            "{framing}"
        );
    }
}

#[test]
fn tftp_roles_judge_each_side_for_its_own_duties() {
    let r = |name: &str, body: &str| {
        rubric(
            name,
            &format!(
                "[[check]]\nid = \"t\"\npoints = 1\ntype = \"tftp_transfer\"\nfile = \"small.txt\"\n{body}\n"
            ),
        )
    };
    let server = r("role-server", "role = \"server\"");
    let server_clean = r("role-server-clean", "role = \"server\"\nclean_end = true");
    let client = r("role-client", "role = \"client\"");
    let client_clean = r("role-client-clean", "role = \"client\"\nclean_end = true");
    let whole_clean = r("whole-clean", "clean_end = true");
    let complete = r("whole", "size = 1700");
    // (capture, rubric, passes, text the message contains)
    let mut cases: Vec<(PathBuf, &PathBuf, bool, &str)> = Vec::new();
    if let Some(c) = util::shared_case("course-tftp-client-skips-final-ack.pcap") {
        // Every byte arrived (data complete); the client skipped the final ACK: a correct
        // tftpd-hpa server keeps its points, even with clean_end; the client loses them.
        cases.extend([
            (
                c.clone(),
                &complete,
                true,
                "all 1,700 bytes arrived in 4 blocks",
            ),
            (c.clone(), &server, true, "not held against the server"),
            (
                c.clone(),
                &server_clean,
                true,
                "the server's part of the ending was clean",
            ),
            (c.clone(), &client, true, "all 1,700 bytes arrived"),
            (
                c.clone(),
                &client_clean,
                false,
                "client (frame 8): the client never acknowledged the last block",
            ),
            (c.clone(), &whole_clean, false, "the ending was not clean"),
        ]);
    }
    if let Some(c) = util::shared_case("course-tftp-server-closes-before-final-ack.pcap") {
        // The server closed its port after the last DATA: the final ACK (frame 9) drew ICMP
        // port unreachable (frame 10).
        cases.extend([
            (c.clone(), &server, true, "all 1,700 bytes arrived"),
            (
                c.clone(),
                &server_clean,
                false,
                "server (frames 9, 10): the server closed its port",
            ),
            (
                c.clone(),
                &client_clean,
                true,
                "the client's part of the ending was clean",
            ),
            (c.clone(), &whole_clean, false, "the ending was not clean"),
        ]);
    }
    // The students' fixtures (fixtures/README.md): the client never ACKs DATA 4 (frame 8).
    let wrong_client = util::fixture("student-tftpclient-wrong.pcap");
    cases.extend([
        (
            wrong_client.clone(),
            &server_clean,
            true,
            "the server's part of the ending was clean",
        ),
        (
            wrong_client.clone(),
            &client_clean,
            false,
            "the client never acknowledged the last block",
        ),
    ]);
    for (capture, rubric, passes, text) in &cases {
        let (code, _, _, failed, m) = verdict(rubric, capture.clone());
        let message = &m[0].1;
        assert_eq!(
            failed.is_empty(),
            *passes,
            "{} with {}: {message}",
            capture.display(),
            rubric.display()
        );
        assert_eq!(code, Some(if *passes { 0 } else { 1 }));
        assert!(
            message.contains(text),
            "{}: want {text:?} in {message}",
            capture.display()
        );
    }
}

#[test]
fn tftp_error_code_grades_the_servers_answer_to_a_missing_file() {
    let r = rubric(
        "error-code",
        "[[check]]\nid = \"nf\"\npoints = 2\ntype = \"tftp_transfer\"\nrole = \"server\"\nfile = \"missing.txt\"\nerror_code = 1\n",
    );
    // tftpd-hpa answers ERROR 1 (frame 11); the course's kind of server ERROR 5 (frame 12).
    let (_, _, _, failed, _) = verdict(&r, util::fixture("student-tftpserver-correct.pcap"));
    assert!(failed.is_empty());
    let (_, _, _, failed, m) = verdict(&r, util::fixture("student-tftpserver-wrong.pcap"));
    assert_eq!(failed, ["nf"]);
    assert!(
        m[0].1.contains("the server answered ERROR 5 (Unknown transfer ID) in frame 12 where ERROR 1 (File not found) was expected"),
        "{}",
        m[0].1
    );
    if let Some(c) = util::shared_case("course-tftp-missing-file.pcap") {
        let r = rubric(
            "error-code-course",
            "[[check]]\nid = \"nf\"\npoints = 2\ntype = \"tftp_transfer\"\nrole = \"server\"\nfile = \"nosuch.txt\"\nerror_code = 1\n",
        );
        let (_, _, _, failed, m) = verdict(&r, c);
        assert_eq!(failed, ["nf"]);
        assert!(
            m[0].1
                .contains("ERROR 5 (Unknown transfer ID) in frame 2 where ERROR 1"),
            "{}",
            m[0].1
        );
        assert!(m[0].1.contains("RFC 1350"), "{}", m[0].1);
    }
}

#[test]
fn messages_teach_what_went_wrong() {
    // (check, capture, text): facts from fixtures/README.md and ../shared/cases/README.md.
    let mut cases: Vec<(&str, PathBuf, &str)> = vec![
        (
            "type = \"udp_echo\"\nport = 5005",
            util::fixture("student-udpecho-wrong.pcap"),
            "frame 7 (reply in frame 8): reply truncated — 1,500 bytes sent, 1,024 back, as a recvfrom(1024) would",
        ),
        (
            "type = \"udp_echo\"\nport = 5005",
            util::fixture("student-udpecho-wrongport.pcap"),
            "the reply came from port 57260, not 5005",
        ),
        (
            "type = \"tcp_handshake\"\nport = 9304",
            util::fixture("ladder-refused.pcap"),
            "connection refused: the SYN (frame 1) was answered by RST (frame 2) — nothing listened on 9304",
        ),
        (
            "type = \"udp_broadcast\"\nport = 7788",
            util::fixture("student-broadcast-wrong.pcap"),
            "went to 10.99.1.2 (frames 1, 2, 3), a single host's address (unicast)",
        ),
    ];
    if let Some(c) = util::shared_case("course-udp-no-server.pcap") {
        cases.push((
            "type = \"udp_echo\"\nport = 8080",
            c,
            "frame 1 (ICMP port unreachable in frame 2): no reply: nothing listened on 127.0.0.1:8080",
        ));
    }
    for (check, capture, text) in cases {
        let r = rubric(
            "teach",
            &format!("[[check]]\nid = \"c\"\npoints = 1\n{check}\n"),
        );
        let (_, _, _, failed, m) = verdict(&r, capture);
        assert_eq!(failed, ["c"]);
        assert!(m[0].1.contains(text), "want {text:?} in {}", m[0].1);
        for rust in ["SynOnly", "NoAck", "Reset {", "Some(", "None"] {
            assert!(!m[0].1.contains(rust), "{rust} in {}", m[0].1);
        }
    }
}

#[test]
fn rubric_errors_name_the_line_and_key_of_each_kind_of_mistake() {
    // (rubric text, line, key, text the message contains)
    let echo = "[[check]]\nid = \"e\"\npoints = 1\ntype = \"udp_echo\"\nport = 7\n";
    let cases: Vec<(String, usize, &str, &str)> = vec![
        (
            "[[check]]\nid = \"t\"\npoints = 1\ntype = \"tftp_transfer\"\nfile = \"f\"\nport = 6969\n".into(),
            6,
            "port",
            "a `tftp_transfer` check does not take `port`",
        ),
        // The second check repeats the first's id: the error is on line 7 and names line 2.
        (
            format!("{echo}[[check]]\nid = \"e\"\npoints = 1\ntype = \"udp_echo\"\nport = 8\n"),
            7,
            "id",
            "the same id as check 1 (line 2)",
        ),
        (
            "[[check]]\nid = \"t\"\npoints = 1\ntype = \"tftp_transfer\"\nfile = \"f\"\nsha256 = \"e6059d6a3e971929758df5651eb189dbc3d35f605967997d8a966cd19bdd91dz\"\n".into(),
            6,
            "sha256",
            "expected 64 hexadecimal digits",
        ),
        (
            "[[check]]\nid = \"a\"\npoints = nan\ntype = \"udp_echo\"\nport = 7\n".into(),
            3,
            "points",
            "expected a finite number of points, 0 or more",
        ),
        (
            "[[check]]\nid = \"a\"\npoints = inf\ntype = \"udp_echo\"\nport = 7\n".into(),
            3,
            "points",
            "expected a finite number of points, 0 or more",
        ),
        (
            "[[check]]\nid = \"a\"\npoints = -1\ntype = \"udp_echo\"\nport = 7\n".into(),
            3,
            "points",
            "expected a finite number of points, 0 or more",
        ),
        // Each finite, the total not.
        (
            "[[check]]\nid = \"a\"\npoints = 1.7e308\ntype = \"udp_echo\"\nport = 7\n[[check]]\nid = \"b\"\npoints = 1.7e308\ntype = \"udp_echo\"\nport = 8\n".into(),
            8,
            "points",
            "add up to more than the largest number",
        ),
        (
            "[[check]]\nid = \"a\"\npoints = 1\ntype = \"udp_echo\"\nport = 70000\n".into(),
            5,
            "port",
            "expected a port number 0–65535",
        ),
        (
            "[[check]]\nid = \"t\"\npoints = 1\ntype = \"tftp_transfer\"\nfile = \"f\"\nrole = \"sender\"\n".into(),
            6,
            "role",
            "expected \"server\" or \"client\"",
        ),
        (
            "[[check]]\nid = \"f\"\npoints = 1\ntype = \"framing\"\nport = 9\nframing = \"line\"\ndirection = \"up\"\n".into(),
            7,
            "direction",
            "expected \"client_to_server\", \"server_to_client\" or \"both\"",
        ),
        (
            "[[check]]\nid = \"t\"\npoints = 1\ntype = \"tftp_transfer\"\nfile = \"f\"\nerror_code = 1\nclean_end = true\n".into(),
            7,
            "clean_end",
            "cannot be asked together with `error_code`",
        ),
    ];
    for (i, (text, line, key, wanted)) in cases.iter().enumerate() {
        let r = rubric(&format!("kind{i}"), text);
        let (code, out, err) = grade(&r, &["lo-ethernet.pcap"], "table");
        assert_eq!(code, Some(2), "{text}: {err}");
        assert!(out.is_empty());
        assert!(
            err.contains(&format!(": line {line}, column ")),
            "want line {line}: {err}"
        );
        assert!(
            err.contains(&format!("key `{key}`")),
            "want key {key}: {err}"
        );
        assert!(err.contains(wanted), "want {wanted:?}: {err}");
        for rust in [
            "u16", "u64", "f64", "struct", "Raw", "NoAck", "variant", "sequence",
        ] {
            assert!(!err.contains(rust), "{rust} in {err}");
        }
    }
}

#[test]
fn a_rubric_that_is_not_a_regular_file_or_too_large_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.toml");
    // A valid rubric padded with comments past 1 MiB.
    let mut text =
        String::from("[[check]]\nid = \"e\"\npoints = 1\ntype = \"udp_echo\"\nport = 7\n");
    while text.len() <= 1024 * 1024 {
        text.push_str("# padding padding padding padding padding padding padding padding\n");
    }
    std::fs::write(&big, &text).unwrap();
    let fixture = util::fixture("lo-ethernet.pcap");
    for (rubric, wanted) in [
        (
            PathBuf::from("/dev/zero"),
            "is a character device, not a regular file",
        ),
        (
            dir.path().to_path_buf(),
            "is a directory, not a regular file",
        ),
        (big, "is larger than 1024 KiB"),
    ] {
        let (code, out, err) = grade_paths(&rubric, std::slice::from_ref(&fixture), "table", &[]);
        assert_eq!(code, Some(2), "{err}");
        assert!(out.is_empty());
        assert!(err.contains(wanted), "want {wanted:?}: {err}");
    }
}

#[test]
fn descriptions_appear_in_every_output_format() {
    let r = example("tftp-server");
    let wrong = util::fixture("student-tftpserver-wrong.pcap");
    let description = "the server keeps its port open until the ACK of the last block arrives";
    let (_, out, _) = grade_paths(&r, std::slice::from_ref(&wrong), "json", &[]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["checks"][1]["description"], description);
    let (_, out, _) = grade_paths(&r, std::slice::from_ref(&wrong), "gradescope", &[]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["tests"][1]["name"], format!("final-ack: {description}"));
    let (_, out, _) = grade_paths(&r, std::slice::from_ref(&wrong), "junit", &[]);
    assert!(
        out.contains(&format!("<testcase name=\"final-ack: {description}\"")),
        "{out}"
    );
    let (_, out, _) = grade_paths(&r, std::slice::from_ref(&wrong), "table", &["--width", "0"]);
    assert!(
        out.contains(&format!("final-ack failed ({description}): ")),
        "{out}"
    );
    let (_, out, _) = grade_paths(&r, &[wrong], "csv", &[]);
    assert!(out.contains(description), "{out}");
}

#[test]
fn csv_has_one_row_per_capture_and_check_and_the_class_summary_counts_them() {
    let r = example("tftp-server");
    let captures = [
        util::fixture("student-tftpserver-correct.pcap"),
        util::fixture("student-tftpserver-wrong.pcap"),
        util::fixture("student-tftpserver-correct.pcap"),
    ];
    let (code, out, _) = grade_paths(&r, &captures, "csv", &[]);
    assert_eq!(code, Some(1));
    let mut reader = csv::Reader::from_reader(out.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header,
        [
            "capture",
            "partial",
            "unreadable",
            "check",
            "description",
            "passed",
            "points",
            "max_points",
            "score",
            "max_score",
            "message"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    // 3 captures × 4 checks, in argument and rubric order.
    assert_eq!(rows.len(), 12);
    let failed: Vec<(String, String)> = rows
        .iter()
        .filter(|r| &r[5] == "false")
        .map(|r| {
            (
                r[0].rsplit('/').next().unwrap().to_string(),
                r[3].to_string(),
            )
        })
        .collect();
    let wrong = "student-tftpserver-wrong.pcap".to_string();
    assert_eq!(
        failed,
        [
            (wrong.clone(), "final-ack".to_string()),
            (wrong.clone(), "file-not-found".to_string()),
            (wrong, "timeout".to_string())
        ]
    );
    for r in &rows {
        let score: f64 = r[8].parse().unwrap();
        assert_eq!(
            score,
            if r[0].ends_with("wrong.pcap") {
                4.0
            } else {
                10.0
            }
        );
    }
    // The class summary: per check, passed and failed counts over the three captures.
    let (_, out, _) = grade_paths(&r, &captures, "summary", &["--width", "0"]);
    let counts: Vec<Vec<&str>> = out
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().take(4).collect())
        .collect();
    assert_eq!(
        counts,
        [
            ["download", "4", "3", "0"],
            ["final-ack", "2", "2", "1"],
            ["file-not-found", "2", "2", "1"],
            ["timeout", "2", "2", "1"],
        ]
    );
    // The table shows the same summary under the captures.
    let (_, out, _) = grade_paths(&r, &captures, "table", &["--width", "0"]);
    assert!(
        out.contains("Check           Points  Passed  Failed  Description"),
        "{out}"
    );
}

#[test]
fn gradescope_output_dir_writes_one_results_json_per_capture_inside_the_directory() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("results");
    std::fs::create_dir(&dir).unwrap();
    // A symlink where the first capture's folder would go, pointing outside: never followed.
    let outside = root.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::os::unix::fs::symlink(&outside, dir.join("student-tftpserver-correct.pcap")).unwrap();
    let r = example("tftp-server");
    let captures = [
        util::fixture("student-tftpserver-correct.pcap"),
        util::fixture("student-tftpserver-wrong.pcap"),
        root.path().join("missing.pcap"),
    ];
    let (code, out, err) = grade_paths(
        &r,
        &captures,
        "gradescope",
        &["--output-dir", dir.to_str().unwrap()],
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(out.is_empty(), "{out}");
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
    let read = |sub: &str| -> Value {
        let text = std::fs::read_to_string(dir.join(sub).join("results.json"))
            .unwrap_or_else(|e| panic!("{sub}: {e}; {err}"));
        serde_json::from_str(&text).unwrap()
    };
    let correct = read("student-tftpserver-correct-1.pcap");
    assert_eq!(correct["score"], 10.0);
    assert_eq!(correct["tests"].as_array().unwrap().len(), 4);
    let wrong = read("student-tftpserver-wrong.pcap");
    assert_eq!(wrong["score"], 4.0);
    assert_eq!(wrong["tests"][1]["status"], "failed");
    let missing = read("missing.pcap");
    assert_eq!(missing["score"], 0.0);
    assert!(
        missing["output"]
            .as_str()
            .unwrap()
            .contains("unreadable: cannot open"),
        "{missing}"
    );
    let mut entries: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    entries.sort();
    assert_eq!(
        entries,
        [
            "missing.pcap",
            "student-tftpserver-correct-1.pcap",
            "student-tftpserver-correct.pcap",
            "student-tftpserver-wrong.pcap"
        ]
    );
    // Without --format gradescope the option is refused.
    let (code, _, err) = grade_paths(
        &r,
        &captures[..1],
        "json",
        &["--output-dir", dir.to_str().unwrap()],
    );
    assert_eq!(code, Some(2));
    assert!(err.contains("--format gradescope"), "{err}");
}

#[test]
fn standard_input_is_graded_like_the_file() {
    let r = example("tftp-server");
    let file = util::fixture("student-tftpserver-wrong.pcap");
    let bytes = std::fs::read(&file).unwrap();
    let out = util::run_with_stdin(
        &["grade", "--rubric", r.to_str().unwrap(), "-f", "json", "-"],
        &bytes,
    );
    assert_eq!(out.status.code(), Some(1));
    let from_stdin: Value = serde_json::from_slice(&out.stdout).unwrap();
    let (_, out, _) = grade_paths(&r, &[file], "json", &[]);
    let from_file: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(from_stdin[0]["checks"], from_file[0]["checks"]);
    assert_eq!(from_stdin[0]["capture"], "-");
    let out = util::run(&["grade", "--rubric", r.to_str().unwrap(), "-", "-"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(util::stderr(&out).contains("can be given once"));
}

#[test]
fn a_cut_capture_is_graded_on_what_was_read_and_labelled_partial() {
    // Cut in the middle of record 6 of the tftp-server fixture: record boundaries from the
    // pcap format itself (24-byte file header, 16-byte record headers with the captured length).
    let bytes = std::fs::read(util::fixture("student-tftpserver-correct.pcap")).unwrap();
    let mut at = 24;
    for _ in 0..5 {
        let len = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
        at += 16 + len;
    }
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("cut.pcap");
    std::fs::write(&cut, &bytes[..at + 20]).unwrap();
    let r = rubric(
        "cut",
        "[[check]]\nid = \"asked\"\npoints = 1\ntype = \"tftp_transfer\"\nfile = \"small.txt\"\ncomplete = false\n\
         [[check]]\nid = \"all\"\npoints = 1\ntype = \"tftp_transfer\"\nfile = \"small.txt\"\n",
    );
    let (code, out, err) = grade_paths(&r, std::slice::from_ref(&cut), "json", &[]);
    assert_eq!(code, Some(1), "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["cut_at_record"], 6);
    assert_eq!(v[0]["error"], Value::Null);
    // Frames 1-5: the request and DATA 1-2 with their ACKs (fixtures/README.md).
    assert_eq!(v[0]["checks"][0]["passed"], true);
    assert_eq!(v[0]["checks"][1]["passed"], false);
    assert!(
        v[0]["checks"][1]["message"]
            .as_str()
            .unwrap()
            .contains("1,024 bytes in 2 blocks"),
        "{}",
        v[0]
    );
    assert!(err.contains("partial (cut at record 6)"), "{err}");
    let (_, out, _) = grade_paths(&r, std::slice::from_ref(&cut), "table", &["--width", "0"]);
    assert!(out.contains("partial (cut at record 6)"), "{out}");
    let (_, out, _) = grade_paths(&r, &[cut], "gradescope", &[]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert!(
        v["output"]
            .as_str()
            .unwrap()
            .contains("partial (cut at record 6)")
    );
}

#[test]
fn tftp_port_lets_grade_follow_a_server_on_another_port() {
    let dir = tempfile::tempdir().unwrap();
    let mut rrq = vec![0, 1];
    rrq.extend_from_slice(b"notes.txt\0octet\0");
    let mut data = vec![0, 3, 0, 1];
    data.extend_from_slice(b"hello");
    let capture = dir.path().join("p.pcap");
    std::fs::write(
        &capture,
        util::udp_pcap(&[
            ("10.0.0.1:4000", "10.0.0.2:6969", rrq),
            ("10.0.0.2:5000", "10.0.0.1:4000", data),
            ("10.0.0.1:4000", "10.0.0.2:5000", vec![0, 4, 0, 1]),
        ]),
    )
    .unwrap();
    // sha256("hello"), as sha256sum prints it.
    let r = rubric(
        "tftp-port",
        "[[check]]\nid = \"t\"\npoints = 1\ntype = \"tftp_transfer\"\nrole = \"server\"\nfile = \"notes.txt\"\nclean_end = true\n\
         sha256 = \"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824\"\n",
    );
    let (code, out, _) = grade_paths(&r, std::slice::from_ref(&capture), "json", &[]);
    assert_eq!(code, Some(1));
    let v: Value = serde_json::from_str(&out).unwrap();
    let m = v[0]["checks"][0]["message"].as_str().unwrap();
    assert!(
        m.contains("sent to UDP port 6969") && m.contains("--tftp-port 6969"),
        "{m}"
    );
    let (code, _, err) = grade_paths(&r, &[capture], "json", &["--tftp-port", "6969"]);
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn hostile_capture_names_and_rubric_text_are_escaped_for_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let name = "evil\u{1b}[31m\u{202e}gpj.pcap";
    let capture = dir.path().join(name);
    std::fs::copy(util::fixture("student-udpecho-wrong.pcap"), &capture).unwrap();
    let r = rubric(
        "hostile",
        "[[check]]\nid = \"echo\\u001b[2J\"\ndescription = \"bidi \u{202e}txt.exe\"\npoints = 1\ntype = \"udp_echo\"\nport = 5005\n",
    );
    for extra in [&["--width", "0"][..], &["--width", "120"][..]] {
        let (code, out, err) = grade_paths(&r, std::slice::from_ref(&capture), "table", extra);
        assert_eq!(code, Some(1), "{err}");
        for text in [&out, &err] {
            assert!(!text.contains('\u{1b}'), "raw ESC in {text:?}");
            assert!(!text.contains('\u{202e}'), "raw U+202E in {text:?}");
        }
        assert!(out.contains("evil"), "{out}");
    }
    // An unreadable hostile name reaches stderr escaped too.
    let missing = dir.path().join("gone\u{1b}]0;x\u{7}\u{202e}.pcap");
    let (code, _, err) = grade_paths(&r, &[missing], "table", &[]);
    assert_eq!(code, Some(2));
    assert!(
        !err.contains('\u{1b}') && !err.contains('\u{202e}'),
        "{err:?}"
    );
    // JSON keeps the original text, escaped by JSON's rules.
    let (_, out, _) = grade_paths(&r, &[capture], "json", &[]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert!(v[0]["capture"].as_str().unwrap().ends_with(name));
    assert_eq!(v[0]["checks"][0]["id"], "echo\u{1b}[2J");
    assert_eq!(v[0]["checks"][0]["description"], "bidi \u{202e}txt.exe");
    assert!(!out.contains('\u{1b}'));
}
