//! Defects a new user found: each test states the rule it checks (the README, an RFC, tshark's
//! value, a case README) rather than what pcaplab printed before.

use std::path::PathBuf;

use crate::util::{fixture, run, stderr, stdout};

/// A fresh scratch directory under the target directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("fixes-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn s(p: &std::path::Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// `report -o` refuses the capture being read (its bytes stay as they were, checked against the
/// fixture) and an existing file unless `--force` is given (README: report).
#[test]
fn report_never_overwrites_the_capture_and_asks_before_replacing() {
    let dir = scratch("report-o");
    let original = std::fs::read(fixture("http-get.pcap")).expect("fixture");
    let capture = dir.join("v.pcap");
    std::fs::write(&capture, &original).expect("copy");

    let o = run(&["report", s(&capture), "-o", s(&capture)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("that is the capture being read"),
        "{}",
        stderr(&o)
    );
    let o = run(&["report", s(&capture), "-o", s(&capture), "--force"]);
    assert_eq!(o.status.code(), Some(2), "--force must not allow it either");
    assert_eq!(
        std::fs::read(&capture).expect("read"),
        original,
        "capture changed"
    );

    let page = dir.join("page.html");
    std::fs::write(&page, b"keep me").expect("write");
    let o = run(&["report", s(&capture), "-o", s(&page)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));
    assert_eq!(std::fs::read(&page).expect("read"), b"keep me");

    let o = run(&["report", s(&capture), "-o", s(&page), "--force"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let html = std::fs::read_to_string(&page).expect("read");
    assert!(
        html.starts_with("<!DOCTYPE html>") || html.starts_with("<!doctype html>"),
        "{}",
        &html[..40.min(html.len())]
    );

    let fresh = dir.join("fresh.html");
    let o = run(&["report", s(&capture), "-o", s(&fresh)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(fresh.is_file());
    let _ = stdout(&o);
}

/// A completion script written into a closed pipe ends quietly with 0, and into a full device
/// with exit 2 and a sentence, never a panic (exit 101) — PLAN: "a closed pipe exits 0".
#[test]
fn completions_survive_closed_pipes_and_full_disks() {
    use std::process::{Command, Stdio};
    for shell in ["bash", "elvish", "zsh"] {
        let mut child = Command::new(crate::util::bin())
            .args(["completions", shell])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        drop(child.stdout.take());
        let o = child.wait_with_output().expect("wait");
        assert_eq!(o.status.code(), Some(0), "{shell}: {}", stderr(&o));
        assert!(stderr(&o).is_empty(), "{shell}: {}", stderr(&o));
    }
    if let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") {
        for args in [&["completions", "bash"][..], &["man"][..]] {
            let o = Command::new(crate::util::bin())
                .args(args)
                .stdout(full.try_clone().expect("dup"))
                .output()
                .expect("run");
            assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
            assert!(
                stderr(&o).contains("writing to standard output"),
                "{}",
                stderr(&o)
            );
            assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
        }
    } else {
        eprintln!("note: no /dev/full here; the full-device half is skipped");
    }
}

/// Runs tshark with `args`, or `None` when it is not installed.
fn tshark(args: &[&str]) -> Option<String> {
    let o = std::process::Command::new("tshark")
        .args(args)
        .output()
        .ok()?;
    o.status
        .success()
        .then(|| String::from_utf8_lossy(&o.stdout).into_owned())
}

/// A `101 Switching Protocols` is the final response of its request (RFC 9110 §15.2.2, RFC 9112
/// §9): the transaction's status is 101 with no missing-response warning, every status matches
/// tshark's `http.response.code` per stream, and the tunnelled bytes are not framed as HTTP.
#[test]
fn switching_protocols_is_the_final_response() {
    let Some(dir) = crate::util::public_corpus() else {
        eprintln!("note: ../shared is absent; skipped");
        return;
    };
    let file = dir.join("zeek-docker-http-upgrade.pcap");
    let o = run(&["http", s(&file), "-f", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let rows: Vec<serde_json::Value> = serde_json::from_str(&stdout(&o)).expect("json");
    let upgrade: Vec<&serde_json::Value> = rows.iter().filter(|r| r["stream"] == 1).collect();
    assert_eq!(upgrade.len(), 1, "{upgrade:?}");
    assert_eq!(upgrade[0]["status"], 101);
    assert_eq!(upgrade[0]["interim_statuses"], serde_json::json!([]));
    let warnings = upgrade[0]["warnings"].to_string();
    assert!(!warnings.contains("missing_response"), "{warnings}");

    // tshark's statuses, stream by stream in order (when tshark is here).
    if let Some(text) = tshark(&[
        "-r",
        s(&file),
        "-Y",
        "http.response",
        "-T",
        "fields",
        "-e",
        "tcp.stream",
        "-e",
        "http.response.code",
    ]) {
        let mut want: Vec<(u64, u64)> = text
            .lines()
            .filter_map(|l| {
                let (a, b) = l.split_once('\t')?;
                Some((a.parse().ok()?, b.parse().ok()?))
            })
            .collect();
        want.sort_by_key(|(stream, _)| *stream);
        let mut got: Vec<(u64, u64)> = rows
            .iter()
            .filter_map(|r| Some((r["stream"].as_u64()?, r["status"].as_u64()?)))
            .collect();
        got.sort_by_key(|(stream, _)| *stream);
        assert_eq!(got, want, "statuses by stream against tshark");
    } else {
        eprintln!("note: tshark not installed; the per-stream comparison is skipped");
    }

    // After the 101 the connection is a tunnel: one HTTP message each way, no framing issue.
    let o = run(&[
        "sticky",
        s(&file),
        "--stream",
        "1",
        "--framing",
        "http",
        "-f",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let dirs: Vec<serde_json::Value> = serde_json::from_str(&stdout(&o)).expect("json");
    for d in &dirs {
        assert_eq!(d["messages"], 1, "{}", d["direction"]);
        assert_eq!(d["issues"], serde_json::json!([]), "{}", d["direction"]);
        assert_eq!(d["tunnel"], true, "{}", d["direction"]);
    }
    let o = run(&["sticky", s(&file), "--stream", "1", "--framing", "http"]);
    assert!(
        stdout(&o).contains("the connection switched protocols"),
        "{}",
        stdout(&o)
    );
    // Streams 0 and 2 never switched.
    let o = run(&["sticky", s(&file), "--stream", "0", "-f", "json"]);
    let dirs: Vec<serde_json::Value> = serde_json::from_str(&stdout(&o)).expect("json");
    assert!(dirs.iter().all(|d| d["tunnel"] == false));
}

/// Bytes the snap length cut are "not captured", never loss (cases/README.md,
/// `snaplen-cut-http.pcap`): every framing issue of the stream names the snap length, none a
/// capture gap, and the stream's gap bytes stay 0.
#[test]
fn snaplen_cut_bytes_are_not_called_a_capture_gap() {
    let Some(public) = crate::util::public_corpus() else {
        eprintln!("note: ../shared is absent; skipped");
        return;
    };
    let file = public.join("../../cases/snaplen-cut-http.pcap");
    let o = run(&["streams", s(&file), "-f", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let rows: Vec<serde_json::Value> = serde_json::from_str(&stdout(&o)).expect("json");
    assert_eq!(rows[0]["gap_bytes"], 0);
    let issues = rows[0]["framing_issues"].as_array().expect("issues");
    assert!(!issues.is_empty());
    for i in issues {
        let reason = i["reason"].as_str().expect("reason");
        assert!(reason.contains("cut by the snap length"), "{reason}");
        assert!(!reason.contains("lost"), "{reason}");
    }
    // The same bytes framed by a generic framer (line) are named the same way.
    let o = run(&["sticky", s(&file), "--framing", "line", "-f", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(!text.contains("lost in a capture gap"), "{text}");
    assert!(text.contains("cut by the snap length"), "{text}");
}

/// fixtures/snaplen-64.pcap (tcpdump -s 64): the payload was on the wire (tshark's tcp.len sums
/// to 510 client→server and 167 server→client) but none was captured. sticky says so with null
/// counts (README: `unknown` with null counts), and streams shows `unknown` and `-` — never
/// "no TCP payload found", never a count of 0 coalesced segments.
#[test]
fn payload_cut_by_the_snap_length_has_unknown_boundaries() {
    let file = fixture("snaplen-64.pcap");
    let o = run(&["sticky", s(&file)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(!text.contains("no TCP payload found"), "{text}");
    assert!(
        text.contains("510 bytes of payload on the wire, none captured"),
        "{text}"
    );
    assert!(
        text.contains("167 bytes of payload on the wire, none captured"),
        "{text}"
    );

    let o = run(&["sticky", s(&file), "-f", "json"]);
    let dirs: Vec<serde_json::Value> = serde_json::from_str(&stdout(&o)).expect("json");
    let cut: Vec<u64> = dirs
        .iter()
        .filter_map(|d| d["not_captured_bytes"].as_u64())
        .collect();
    assert_eq!(cut, [510, 167]);
    for d in &dirs {
        assert_eq!(d["status"], "unknown");
        assert!(d["messages"].is_null() && d["coalesced_segments"].is_null());
        assert!(d["split_messages"].is_null());
    }

    let o = run(&["streams", s(&file), "-f", "json"]);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&stdout(&o)).expect("json");
    assert_eq!(rows[0]["framing"], "unknown / unknown");
    assert!(rows[0]["coalesced_segments"].is_null(), "{}", rows[0]);
    assert!(rows[0]["split_messages"].is_null());
    let o = run(&["streams", s(&file)]);
    assert!(!stdout(&o).contains("none / none"), "{}", stdout(&o));
}

/// The UDP Info column's `Len=` is tshark's: the UDP length field less 8 (`udp.length` in the
/// fixtures' tshark reference TSVs), also when the snap length cut the payload.
#[test]
fn udp_info_len_is_the_length_field_less_eight() {
    let mut checked = 0;
    let mut cut = 0;
    let mut mismatches = Vec::new();
    for entry in std::fs::read_dir(crate::util::fixtures()).expect("fixtures") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let Some(capture) = name.strip_suffix(".pcap.tsv") else {
            continue;
        };
        let capture = crate::util::fixture(&format!("{capture}.pcap"));
        let tsv = std::fs::read_to_string(&path).expect("tsv");
        let mut lines = tsv.lines();
        let header: Vec<&str> = lines.next().unwrap_or_default().split('\t').collect();
        let col = |n: &str| header.iter().position(|h| *h == n);
        let (Some(number), Some(udp_len), Some(len), Some(cap)) = (
            col("frame.number"),
            col("udp.length"),
            col("frame.len"),
            col("frame.cap_len"),
        ) else {
            continue;
        };
        let o = run(&["packets", s(&capture), "-f", "json"]);
        let rows: Vec<serde_json::Value> = serde_json::from_str(&stdout(&o)).expect("json");
        for line in lines {
            let f: Vec<&str> = line.split('\t').collect();
            let (Some(n), Some(Ok(l))) = (
                f.get(number).and_then(|v| v.parse::<usize>().ok()),
                f.get(udp_len).map(|v| v.parse::<u64>()),
            ) else {
                continue;
            };
            let Some(row) = rows.get(n - 1) else { continue };
            let info = row["info"].as_str().unwrap_or_default();
            if row["protocol"] != "UDP" || !info.contains(" Len=") || l < 8 {
                continue;
            }
            checked += 1;
            if f.get(len) != f.get(cap) {
                cut += 1;
            }
            let want = format!(" Len={}", l - 8);
            let got_len = info.split(" Len=").nth(1).and_then(|r| r.split(' ').next());
            if got_len != Some(&want[5..]) {
                mismatches.push(format!("{name} frame {n}: expected{want}, got {info}"));
            }
        }
    }
    crate::util::assert_no_mismatch("UDP Info Len", &mismatches);
    assert!(checked > 0 && cut > 0, "checked {checked}, cut {cut}");
}

/// `--stream 99` on a capture of one TCP stream (tshark: `tcp.stream` is 0 only): every command
/// says the same sentence and exits 2 (README: `--stream N`).
#[test]
fn a_stream_that_does_not_exist_is_the_same_error_everywhere() {
    let file = fixture("http-get.pcap");
    if let Some(text) = tshark(&["-r", s(&file), "-T", "fields", "-e", "tcp.stream"]) {
        let max = text.lines().filter_map(|l| l.parse::<u64>().ok()).max();
        assert_eq!(max, Some(0), "the fixture has one stream");
    }
    for command in [
        "streams", "http", "packets", "show", "sticky", "ladder", "follow",
    ] {
        let o = run(&[command, s(&file), "--stream", "99"]);
        assert_eq!(o.status.code(), Some(2), "{command}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("no TCP stream 99 (the capture has 1 TCP stream, number 0)"),
            "{command}: {}",
            stderr(&o)
        );
        assert!(!stdout(&o).contains("No."), "{command}: {}", stdout(&o));
        // The stream that exists is fine.
        let o = run(&[command, s(&file), "--stream", "0"]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{command} --stream 0: {}",
            stderr(&o)
        );
    }
    // A filter that matches nothing is not an error.
    let o = run(&["streams", s(&file), "-Y", "tcp.port == 1"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// `follow` shows a tab as `\t` (README: text from outside is escaped, `follow` keeps only the
/// data's line feeds), in a pipe as on a terminal: the third message of the burst, `m3:cccccc`,
/// has the 4-byte length prefix 00 00 00 09 (9 bytes), which must not reach the output as a raw
/// TAB (follow writes the same text to a pipe and a terminal).
#[test]
fn follow_shows_tabs_escaped() {
    let file = fixture("ladder-sticky-burst.pcap");
    {
        let o = run(&["follow", s(&file), "--stream", "0"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(!o.stdout.contains(&b'\t'), "a raw TAB in {}", stdout(&o));
        assert!(
            stdout(&o).contains("\\x00\\x00\\x00\\tm3:cccccc"),
            "{}",
            stdout(&o)
        );
    }
}

/// Numbers and addresses are refused with what is expected, never a Rust parser's wording
/// ("invalid digit found in string", "number too large to fit in target type", "invalid socket
/// address syntax"); caps and timeouts of 0 are refused (README: options of every command).
#[test]
fn option_values_say_what_is_expected() {
    let file = fixture("http-get.pcap");
    let f = s(&file);
    let cases: &[(&[&str], &str)] = &[
        (
            &["streams", f, "--tcp-idle-timeout", "1.5"],
            "a whole number of seconds, e.g. 300",
        ),
        (&["streams", f, "--tcp-idle-timeout", "0"], "at least 1"),
        (&["stats", f, "--udp-idle-timeout", "0"], "at least 1"),
        (
            &["streams", f, "-n", "99999999999999999999"],
            "at most 18446744073709551615",
        ),
        (&["streams", f, "--stream", "-1"], ""),
        (
            &["ladder", f, "--udp", "localhost:9305"],
            "an address:port such as 127.0.0.1:9305",
        ),
        (
            &["follow", f, "--udp", "localhost:9305"],
            "an address:port such as 127.0.0.1:9305",
        ),
        (&["streams", f, "--max-flows", "0"], "at least 1"),
        (&["tftp", f, "--max-transfers", "0"], "at least 1"),
        (&["stats", f, "--max-udp-conversations", "0"], "at least 1"),
        (&["streams", f, "--tftp-port", "70000"], "at most 65535"),
        (&["packets", f, "--width", "wide"], "a number of columns"),
    ];
    for (args, want) in cases {
        let o = run(args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
        for library in [
            "invalid digit",
            "too large to fit",
            "invalid socket address",
            "panicked",
        ] {
            assert!(!err.contains(library), "{args:?}: {err}");
        }
    }
    // 1 is a valid cap and timeout.
    let o = run(&["streams", f, "--max-flows", "1", "--tcp-idle-timeout", "1"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// `--extract` names a directory: a regular file is refused ("is not a directory"), a missing
/// parent is not created (README: only the last part of the path is created), a missing last
/// part is.
#[test]
fn extract_wants_a_directory_and_creates_only_the_last_part() {
    let dir = scratch("extract-dir");
    let file = fixture("tftp-rrq-small.pcap");
    let file = if file.exists() {
        file
    } else {
        fixture("http-get.pcap")
    };
    let afile = dir.join("afile");
    std::fs::write(&afile, b"x").expect("write");
    for command in ["tftp", "http"] {
        let o = run(&[command, s(&file), "--extract", s(&afile)]);
        assert_eq!(o.status.code(), Some(2), "{command}");
        assert!(stderr(&o).contains("is not a directory"), "{}", stderr(&o));

        let deep = dir.join(format!("missing-{command}/out"));
        let o = run(&[command, s(&file), "--extract", s(&deep)]);
        assert_eq!(o.status.code(), Some(2), "{command}");
        assert!(stderr(&o).contains("does not exist"), "{}", stderr(&o));
        assert!(
            !deep.parent().expect("parent").exists(),
            "a parent was created"
        );

        let fresh = dir.join(format!("fresh-{command}"));
        let o = run(&[command, s(&file), "--extract", s(&fresh)]);
        assert_eq!(o.status.code(), Some(0), "{command}: {}", stderr(&o));
        assert!(fresh.is_dir());
    }
}

/// The note about connections given up by the idle timeout points at rows only where rows say
/// `timed_out` (`streams`, whose JSON `end` is `timed_out` for as many rows as the note
/// counts); `http`, `follow`, `ladder` have no such rows and say where to look instead.
#[test]
fn timed_out_note_points_at_rows_only_where_they_exist() {
    let Some(dir) = crate::util::public_corpus() else {
        eprintln!("note: ../shared is absent; skipped");
        return;
    };
    let file = dir.join("zeek-docker-http-upgrade.pcap");
    let f = s(&file);
    let o = run(&["streams", f, "--tcp-idle-timeout", "1", "-f", "json"]);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&stdout(&o)).expect("json");
    let timed_out = rows.iter().filter(|r| r["end"] == "timed_out").count();
    assert!(timed_out > 1, "{timed_out}");
    let err = stderr(&o);
    assert!(
        err.contains(&format!("{timed_out} TCP connections were idle")),
        "{err}"
    );
    assert!(err.contains("their rows say `timed_out`"), "{err}");
    for command in ["http", "follow", "ladder"] {
        let o = run(&[command, f, "--tcp-idle-timeout", "1", "--stream", "1"]);
        let err = stderr(&o);
        assert!(
            err.contains("TCP connections were idle"),
            "{command}: {err}"
        );
        assert!(!err.contains("their rows say"), "{command}: {err}");
        assert!(
            err.contains("`pcaplab streams` shows them"),
            "{command}: {err}"
        );
    }
}

/// A count of one takes the singular noun (English grammar): one TFTP transfer (tshark: one
/// read/write request in tftp-1024.pcap), one packet (a capture of one frame written by
/// `packets -w`), one TCP stream.
#[test]
fn a_count_of_one_is_singular() {
    let file = fixture("tftp-1024.pcap");
    if let Some(text) = tshark(&[
        "-r",
        s(&file),
        "-Y",
        "tftp.opcode <= 2",
        "-T",
        "fields",
        "-e",
        "frame.number",
    ]) {
        assert_eq!(text.lines().count(), 1, "one request");
    }
    let o = run(&["ladder", s(&file), "--tftp", "5"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("the capture has 1 transfer;"),
        "{}",
        stderr(&o)
    );

    let dir = scratch("singular");
    let one = dir.join("one.pcap");
    let o = run(&[
        "packets",
        s(&fixture("http-get.pcap")),
        "-Y",
        "frame.number == 1",
        "-w",
        s(&one),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = run(&["stats", s(&one)]);
    assert!(stdout(&o).starts_with("1 packet, "), "{}", stdout(&o));
    let o = run(&["show", s(&one), "-p", "3"]);
    assert!(
        stderr(&o).contains("the capture has 1 packet)"),
        "{}",
        stderr(&o)
    );
    for text in [stdout(&o), stderr(&o)] {
        for bad in [
            "1 packets",
            "1 streams",
            "1 transfers",
            "1 bytes",
            "(frames 1)",
        ] {
            assert!(!text.contains(bad), "{text}");
        }
    }
}
