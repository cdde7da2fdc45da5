//! Terminal output (issue 13, issue 11 item 10, issue 16): tables that fit 80 and 120 columns
//! without breaking a cell, streaming tables aligned from the first row, one flag vocabulary,
//! display filters, `-w`, time formats against tshark's `-t`, a closed pipe or stderr, and
//! hostile text escaped on every output path.
//!
//! The width is set with `--width N` (what a terminal of N columns gets); references are
//! independent: the JSON output of the same run for the cells, tshark's `-t` column committed in
//! `tests/refs/time/tshark-t.tsv` (scripts/refs/time-refs.sh), tshark's `-Y` frames committed in
//! `tests/refs/filter/tshark-Y.tsv`, the input capture's own bytes for `-w`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use unicode_width::UnicodeWidthStr;

use crate::util;

fn fixture(name: &str) -> String {
    util::fixture(name).to_str().unwrap().to_string()
}

fn out_err(args: &[&str]) -> (Option<i32>, String, String) {
    let o = util::run(args);
    (o.status.code(), util::stdout(&o), util::stderr(&o))
}

/// Every command that prints a table, on fixtures that fill its columns.
fn table_commands() -> Vec<Vec<String>> {
    let f = fixture;
    let cmds: Vec<Vec<&str>> = vec![
        vec!["packets", "lo-ethernet.pcap"],
        vec!["packets", "http-get.pcap"],
        vec!["packets", "tftp-read.pcap"],
        vec!["packets", "lo-ipv6.pcap"],
        vec!["streams", "http-keepalive.pcap"],
        vec!["streams", "ladder-sticky-burst.pcap"],
        // Framing issues under the table, wrapped at the width.
        vec!["streams", "http-broken.pcap"],
        vec!["stats", "http-get.pcap"],
        vec!["stats", "udp-echo.pcap"],
        vec!["tftp", "tftp-lossy.pcap"],
        vec!["tftp", "tftp-concurrent.pcap"],
        vec!["http", "http-keepalive.pcap"],
        vec!["http", "http-404.pcap"],
        vec!["sticky", "sticky-lenprefix.pcap"],
        vec!["sticky", "student-chat-wrong.pcap"],
        vec!["ladder", "ladder-handshake-close.pcap", "--stream", "0"],
    ];
    let mut all: Vec<Vec<String>> = cmds
        .into_iter()
        .map(|c| {
            let mut v = vec![c[0].to_string(), f(c[1])];
            v.extend(c[2..].iter().map(|s| s.to_string()));
            v
        })
        .collect();
    all.push(vec![
        "grade".into(),
        "--rubric".into(),
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples/rubrics/udp-echo.toml")
            .to_string_lossy()
            .into_owned(),
        f("student-udpecho-wrong.pcap"),
        f("not-a-capture.pcap"),
    ]);
    all
}

/// A line piece that looks like an IPv4 address cut after its third dot (`127.0.0.`), or a
/// port left alone at the start of a line (`1:39090`): what a wrapped address cell leaves.
fn broken_address(line: &str) -> bool {
    let re =
        regex::Regex::new(r"(^|[^\d.])\d{1,3}\.\d{1,3}\.\d{1,3}\.(\s|$)|^\s*\d{1,3}:\d{2,5}\s")
            .unwrap();
    re.is_match(line)
}

#[test]
fn issue_13_every_table_fits_80_and_120_columns_without_a_broken_cell() {
    for width in [80u16, 120] {
        for cmd in table_commands() {
            let mut args: Vec<&str> = cmd.iter().map(String::as_str).collect();
            let w = width.to_string();
            args.extend(["--width", &w]);
            let (code, text, err) = out_err(&args);
            assert!(
                code == Some(0) || code == Some(1) || code == Some(2),
                "{args:?}"
            );
            assert!(!text.is_empty(), "{args:?}: no output; {err}");
            for line in text.lines() {
                assert!(
                    line.width() <= usize::from(width),
                    "{args:?}: a line of {} columns:\n{line}",
                    line.width()
                );
                assert!(!broken_address(line), "{args:?}: a broken cell:\n{line}");
            }
            // The note about left-out columns comes once per table, never per chunk.
            let notes = err.matches("left out").count();
            assert!(notes <= 6, "{args:?}: {err}");
        }
    }
}

#[test]
fn issue_13_packets_rows_keep_every_address_whole_on_one_line() {
    let file = fixture("lo-ethernet.pcap");
    let json = util::ndjson(&util::run(&["packets", &file, "-f", "ndjson"]));
    for width in ["80", "120", "60"] {
        let (_, text, err) = out_err(&["packets", &file, "--width", width]);
        let rows: Vec<&str> = text.lines().skip(1).collect();
        assert_eq!(rows.len(), json.len(), "one line per packet at {width}");
        for (row, want) in rows.iter().zip(&json) {
            let cells: Vec<&str> = row.split_whitespace().collect();
            assert_eq!(cells[0], want["number"].to_string());
            let src = want["src"].as_str().unwrap();
            let with_port = format!("{src}:{}", want["src_port"]);
            assert!(
                cells.contains(&with_port.as_str()) || cells.contains(&src),
                "{width}: {row}"
            );
        }
        assert_eq!(err.matches("packets table").count(), 1, "{err}");
        if width == "60" {
            assert!(err.contains("without their ports"), "{err}");
        }
    }
    // 120 columns keep the ports and the length; --wide keeps every column.
    let (_, text, _) = out_err(&["packets", &file, "--width", "120"]);
    assert!(text.contains("127.0.0.1:39090") && text.contains("Length"));
    let (_, text, err) = out_err(&["packets", &file, "--width", "80", "--wide"]);
    assert!(text.lines().next().unwrap().contains("Layers"));
    assert!(text.lines().any(|l| l.width() > 80));
    assert!(err.is_empty(), "{err}");
    // A width of 0 is not a terminal: the same as a pipe.
    let (_, zero, _) = out_err(&["packets", &file, "--width", "0"]);
    let (_, pipe, _) = out_err(&["packets", &file]);
    assert_eq!(zero, pipe);
}

/// Display column where `header` starts in each line (the header line's position first).
fn column_positions(text: &str, header: &str) -> Vec<usize> {
    let mut lines = text.lines();
    let head = lines.next().unwrap();
    let at = head.find(header).unwrap();
    let col = head[..at].width();
    let mut positions = vec![col];
    for line in lines {
        // The first character of the cell under the header: the start of its word.
        let chars: Vec<char> = line.chars().collect();
        let mut w = 0;
        let mut start = None;
        for (i, c) in chars.iter().enumerate() {
            if w >= col && *c != ' ' && (i == 0 || chars[i - 1] == ' ') {
                start = Some(w);
                break;
            }
            w += unicode_width::UnicodeWidthChar::width(*c).unwrap_or(0);
        }
        positions.push(start.unwrap_or(usize::MAX));
    }
    positions
}

#[test]
fn issue_13_streaming_rows_align_from_the_first_to_the_last() {
    // 1,173 packets: more than one chunk of 1,000 rows.
    let file = fixture("tftp-large.pcap");
    let (_, text, _) = out_err(&["packets", &file]);
    assert_eq!(text.lines().count(), 1174);
    let at = column_positions(&text, "Protocol");
    assert!(at.iter().all(|p| *p == at[0]), "Protocol moves: {at:?}");
    // Live standard input: every row aligned with the header from the first.
    let bytes = std::fs::read(util::fixture("lo-dumpcap.pcapng")).unwrap();
    let out = util::run_with_stdin(&["packets", "-"], &bytes);
    let text = util::stdout(&out);
    for header in ["Source", "Protocol", "Info"] {
        let at = column_positions(&text, header);
        assert!(at.iter().all(|p| *p == at[0]), "{header} moves: {at:?}");
    }
}

#[test]
fn issue_13_flags_mean_the_same_everywhere_and_others_are_refused_with_the_reason() {
    let file = fixture("http-get.pcap");
    for (args, said) in [
        (
            vec!["streams", &file, "-t", "a"],
            "streams: --time-format/-t does not apply",
        ),
        (
            vec!["follow", &file, "--stream", "0", "-f", "csv"],
            "follow: --format/-f does not apply",
        ),
        (vec!["show", &file, "--wide"], "show: --wide does not apply"),
        (
            vec!["stats", &file, "--limit", "3"],
            "stats: --limit/-n does not apply",
        ),
        (
            vec!["tftp", &file, "--stream", "0"],
            "tftp: --stream does not apply",
        ),
        (
            vec!["packets", &file, "-f", "csv", "-t", "e"],
            "CSV and JSON always carry",
        ),
        // report takes the same vocabulary: the table flags do not apply to a page.
        (
            vec!["report", &file, "--stream", "0"],
            "report: --stream does not apply: the report covers every TCP stream",
        ),
        (
            vec!["report", &file, "--no-header"],
            "report: --no-header does not apply",
        ),
        (
            vec!["report", &file, "-t", "a"],
            "report: --time-format/-t does not apply",
        ),
        (
            vec!["report", &file, "--wide"],
            "report: --wide does not apply",
        ),
        (
            vec!["report", &file, "--width", "80"],
            "report: --width does not apply",
        ),
        (
            vec!["report", &file, "-Y", "tcp.stream == 0"],
            "only the analyses know",
        ),
    ] {
        let (code, _, err) = out_err(&args);
        assert_eq!(code, Some(2), "{args:?}");
        assert!(err.contains(said), "{args:?}: {err}");
    }
    // Hidden from the help of a command they do not apply to, shown where they do.
    let (_, help, _) = out_err(&["streams", "--help"]);
    assert!(!help.contains("--time-format") && help.contains("--no-header"));
    let (_, help, _) = out_err(&["packets", "--help"]);
    for flag in [
        "--no-header",
        "--limit",
        "--stream",
        "--filter",
        "--time-format",
        "--wide",
    ] {
        assert!(help.contains(flag), "packets --help lacks {flag}");
    }
    let (_, help, _) = out_err(&["report", "--help"]);
    assert!(!help.contains("--time-format") && !help.contains("--no-header"));
    assert!(help.contains("--filter") && help.contains("Most arrows per ladder"));
    // report -Y: the page's analyses see the packets the filter passes, as the summary
    // commands do; tshark's fields of the fixture (http-get.pcap.tsv) count them.
    let tsv = std::fs::read_to_string(util::fixtures().join("http-get.pcap.tsv")).unwrap();
    let header: Vec<&str> = tsv.lines().next().unwrap().split('\t').collect();
    let len_col = header.iter().position(|h| *h == "tcp.len").unwrap();
    let with_payload = tsv
        .lines()
        .skip(1)
        .filter(|l| {
            l.split('\t')
                .nth(len_col)
                .is_some_and(|v| v.parse::<u64>().unwrap_or(0) > 0)
        })
        .count();
    assert!(with_payload > 0 && with_payload < tsv.lines().count() - 1);
    for (filter, want) in [
        (None, tsv.lines().count() - 1),
        (Some("tcp.len > 0"), with_payload),
    ] {
        let mut args = vec!["report", file.as_str()];
        args.extend(filter.map(|f| ["-Y", f]).into_iter().flatten());
        let (code, html, err) = out_err(&args);
        assert_eq!(code, Some(0), "{err}");
        let cell = format!("<td>Ethernet</td><td class=\"num\">{want}</td>");
        assert!(html.contains(&cell), "{filter:?}: no {cell}");
    }
    // --no-header and --limit on commands beyond packets.
    let (_, text, _) = out_err(&[
        "http",
        &fixture("http-keepalive.pcap"),
        "-f",
        "csv",
        "--no-header",
        "--limit",
        "2",
    ]);
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(!text.starts_with("stream,"));
    let (_, text, _) = out_err(&[
        "streams",
        &fixture("http-keepalive.pcap"),
        "--stream",
        "0",
        "-f",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1);
    // show supports CSV (one row per field) instead of silently printing the tree.
    let (code, text, _) = out_err(&["show", &file, "-p", "1", "-f", "csv"]);
    assert_eq!(code, Some(0));
    assert!(text.starts_with("number,osi,layer,field,value\n"), "{text}");
    assert!(text.lines().skip(1).all(|l| l.starts_with("1,")), "{text}");
}

#[test]
fn issue_13_display_filters_on_packets_and_show_and_as_a_pre_filter() {
    let file = fixture("http-get.pcap");
    let csv = |args: &[&str]| -> Vec<u64> {
        let mut all = vec!["packets", &file, "-f", "csv", "--no-header"];
        all.extend(args);
        util::stdout(&util::run(&all))
            .lines()
            .map(|l| l.split(',').next().unwrap().parse().unwrap())
            .collect()
    };
    // Against tshark -Y on the same capture (tests/refs/filter/tshark-Y.tsv).
    let refs = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/refs/filter/tshark-Y.tsv"),
    )
    .unwrap();
    let mut compared = 0;
    let deviations = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/refs/filter/deviations.tsv"),
    )
    .unwrap();
    for line in refs
        .lines()
        .filter(|l| l.starts_with("fixtures/http-get.pcap\t"))
    {
        let cols: Vec<&str> = line.split('\t').collect();
        if deviations
            .lines()
            .any(|d| d.starts_with(&format!("fixtures/http-get.pcap\t{}\t", cols[1])))
        {
            continue;
        }
        let want: Vec<u64> = cols[2]
            .split_whitespace()
            .flat_map(|r| {
                let (a, b) = r.split_once('-').unwrap_or((r, r));
                a.parse::<u64>().unwrap()..=b.parse::<u64>().unwrap()
            })
            .collect();
        assert_eq!(csv(&["-Y", cols[1]]), want, "-Y {}", cols[1]);
        compared += 1;
    }
    assert!(compared >= 30, "{compared}");
    // --stream is tcp.stream.
    assert_eq!(csv(&["--stream", "0"]), csv(&["-Y", "tcp.stream == 0"]));
    // show -Y.
    let (_, text, _) = out_err(&["show", &file, "-Y", "tcp.flags.syn == 1"]);
    assert_eq!(text.matches("\nFrame ").count() + 1, 2, "{text}");
    // A bad filter points at the column of the bad token.
    let (code, _, err) = out_err(&["packets", &file, "-Y", "tcp.port == 80 && tcp.prot == 1"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("column 19") && err.contains("tcp.port"),
        "{err}"
    );
    let caret = err.lines().find(|l| l.trim() == "^").unwrap();
    let filter_line = err.lines().find(|l| l.starts_with("  -Y ")).unwrap();
    assert_eq!(
        caret.len() - 1,
        filter_line.find("tcp.prot").unwrap(),
        "{err}"
    );
    // Summary commands: the analyses see only the matching packets.
    let (_, text, _) = out_err(&[
        "streams",
        &fixture("tftp-concurrent.pcap"),
        "-Y",
        "udp",
        "-f",
        "csv",
        "--no-header",
    ]);
    assert!(text.is_empty(), "{text}");
    let all = util::stdout(&util::run(&[
        "stats",
        &fixture("tftp-concurrent.pcap"),
        "-f",
        "json",
    ]));
    let some = util::stdout(&util::run(&[
        "stats",
        &fixture("tftp-concurrent.pcap"),
        "-f",
        "json",
        "-Y",
        "frame.number <= 10",
    ]));
    let all: serde_json::Value = serde_json::from_str(&all).unwrap();
    let some: serde_json::Value = serde_json::from_str(&some).unwrap();
    assert_eq!(some["packets"], 10);
    assert!(all["packets"].as_u64().unwrap() > 10);
    // ... by each packet's own fields: an analysis field is refused with the reason.
    let (code, _, err) = out_err(&["streams", &file, "-Y", "tcp.stream == 0"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("only the analyses know") && err.contains("--stream"),
        "{err}"
    );
}

/// `(frame number, timestamp, original length, link type, bytes)` of every frame.
type Frames = Vec<(u64, std::time::Duration, u32, u32, Vec<u8>)>;

fn frames(path: &Path) -> Frames {
    let mut reader = pcaplab::capture::CaptureReader::open(path).unwrap();
    let mut all = Vec::new();
    while let Some(f) = reader.next_frame() {
        let f = f.unwrap();
        all.push((
            f.number.0,
            f.timestamp,
            f.original_len,
            f.link_type.number(),
            f.data.to_vec(),
        ));
    }
    all
}

#[test]
fn issue_13_write_keeps_the_chosen_frames_bytes_times_and_link_type() {
    let refs = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/refs/filter/tshark-Y.tsv"),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for (capture, filter) in [
        ("fixtures/lo-ethernet.pcap", "udp.length > 100"),
        ("fixtures/http-get.pcap", "tcp.len > 0"),
        ("fixtures/multi-if.pcapng", "frame.number <= 10"),
        ("fixtures/qinq.pcap", "vlan.id"),
        ("fixtures/tftp-lossy.pcap", "tftp.opcode == 3"),
        ("fixtures/lo-ipv6.pcap", "ipv6.addr == ::1"),
    ] {
        let want: Vec<u64> = refs
            .lines()
            .find(|l| l.starts_with(&format!("{capture}\t{filter}\t")))
            .map(|l| {
                l.split('\t')
                    .nth(2)
                    .unwrap()
                    .split_whitespace()
                    .flat_map(|r| {
                        let (a, b) = r.split_once('-').unwrap_or((r, r));
                        a.parse::<u64>().unwrap()..=b.parse::<u64>().unwrap()
                    })
                    .collect()
            })
            .unwrap_or_else(|| panic!("no tshark reference for {capture} {filter}"));
        let input = Path::new(env!("CARGO_MANIFEST_DIR")).join(capture);
        let original = frames(&input);
        for ext in ["pcap", "pcapng"] {
            let out = dir.path().join(format!("out-{checked}.{ext}"));
            let o = util::run(&[
                "packets",
                input.to_str().unwrap(),
                "-Y",
                filter,
                "-w",
                out.to_str().unwrap(),
            ]);
            assert_eq!(o.status.code(), Some(0), "{}", util::stderr(&o));
            assert!(o.stdout.is_empty(), "-w prints no rows");
            let written = frames(&out);
            assert_eq!(written.len(), want.len(), "{capture} {filter} {ext}");
            for (w, n) in written.iter().zip(&want) {
                let orig = &original[usize::try_from(*n).unwrap() - 1];
                assert_eq!(
                    (w.1, w.2, w.3, &w.4),
                    (orig.1, orig.2, orig.3, &orig.4),
                    "{capture} frame {n} in {ext}"
                );
            }
            // Read back by tshark too, when it is installed.
            if let Ok(t) = Command::new("tshark")
                .args([
                    "-n",
                    "-r",
                    out.to_str().unwrap(),
                    "-T",
                    "fields",
                    "-e",
                    "frame.len",
                ])
                .stderr(Stdio::null())
                .output()
            {
                assert_eq!(
                    String::from_utf8_lossy(&t.stdout).lines().count(),
                    want.len(),
                    "tshark reads {ext}"
                );
            }
            checked += 1;
        }
    }
    // Never over the capture being read.
    let copy = dir.path().join("in.pcap");
    std::fs::copy(util::fixture("lo-ethernet.pcap"), &copy).unwrap();
    let (code, _, err) = out_err(&[
        "packets",
        copy.to_str().unwrap(),
        "-w",
        copy.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(2));
    assert!(err.contains("the capture being read"), "{err}");
    assert_eq!(
        std::fs::read(&copy).unwrap(),
        std::fs::read(util::fixture("lo-ethernet.pcap")).unwrap()
    );
}

#[test]
fn issue_13_every_time_format_as_tshark_shows_it() {
    let refs = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/refs/time/tshark-t.tsv"),
    )
    .unwrap();
    // (capture, format, filter) -> [(frame, time)]
    let mut groups: std::collections::BTreeMap<(String, String, String), Vec<(String, String)>> =
        Default::default();
    for line in refs.lines().filter(|l| !l.starts_with('#')) {
        let c: Vec<&str> = line.split('\t').collect();
        groups
            .entry((c[0].into(), c[1].into(), c[2].into()))
            .or_default()
            .push((c[3].into(), c[4].into()));
    }
    let mut formats = std::collections::BTreeSet::new();
    for ((capture, format, filter), want) in &groups {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(capture);
        let mut args = vec![
            "packets",
            path.to_str().unwrap(),
            "-t",
            format,
            "--no-header",
        ];
        if !filter.is_empty() {
            args.extend(["-Y", filter]);
        }
        let out = Command::new(util::bin())
            .args(&args)
            .env("TZ", "IST-5:30")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let got: Vec<(String, String)> = text
            .lines()
            .map(|l| {
                let cells: Vec<&str> = l.split_whitespace().collect();
                let time = if format.ends_with('d') && format.len() == 2 && format != "dd" {
                    format!("{} {}", cells[1], cells[2])
                } else {
                    cells[1].to_string()
                };
                (cells[0].to_string(), time)
            })
            .collect();
        assert_eq!(&got, want, "{capture} -t {format} {filter}");
        formats.insert(format.clone());
    }
    assert_eq!(formats.len(), 8, "{formats:?}");
}

/// Runs `args` with standard output read for `keep` bytes and then closed.
fn closed_stdout(args: &[&str], keep: usize) -> (Option<i32>, String) {
    let mut child = Command::new(util::bin())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut buf = vec![0u8; keep];
    let _ = stdout.read_exact(&mut buf);
    drop(stdout);
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (child.wait().unwrap().code(), err)
}

#[test]
fn issue_11_a_closed_pipe_ends_every_format_quietly() {
    let file = fixture("tftp-large.pcap");
    for format in ["table", "csv", "json", "ndjson"] {
        for cmd in ["packets", "show"] {
            let (code, err) = closed_stdout(&[cmd, &file, "-f", format], 100);
            assert_eq!(code, Some(0), "{cmd} -f {format}: {err}");
            assert!(err.is_empty(), "{cmd} -f {format}: {err}");
        }
    }
}

#[test]
fn issue_16_a_closed_stderr_never_panics() {
    let mut child = Command::new(util::bin())
        .args(["streams", &fixture("cut-mid-record.pcap")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    assert_eq!(
        child.wait().unwrap().code(),
        Some(2),
        "exit 2, not a panic (101)"
    );
    // No eprintln! anywhere in the program: one stderr writer that ignores errors.
    for dir in ["src"] {
        let mut stack = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join(dir)];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    let text = std::fs::read_to_string(&p).unwrap();
                    assert!(!text.contains("eprintln!"), "{}", p.display());
                }
            }
        }
    }
}

#[test]
fn issue_11_messages_say_things_once_and_in_the_students_terms() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = out_err(&["packets", dir.path().to_str().unwrap()]);
    assert_eq!(code, Some(2));
    assert!(err.contains("is a directory, not a capture file"), "{err}");
    assert!(err.matches("os error").count() <= 1, "{err}");
    let (code, _, err) = out_err(&["show", &fixture("lo-ethernet.pcap"), "-p", "0"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("packets are numbered from 1"), "{err}");
    // The same enum value is spelled the same by stats and streams, in JSON and CSV.
    let file = fixture("http-get.pcap");
    let stats: serde_json::Value =
        serde_json::from_str(&util::stdout(&util::run(&["stats", &file, "-f", "json"]))).unwrap();
    let streams: serde_json::Value =
        serde_json::from_str(&util::stdout(&util::run(&["streams", &file, "-f", "json"]))).unwrap();
    let conv = &stats["tcp_conversations"][0];
    assert_eq!(conv["handshake"], streams[0]["handshake"]);
    assert_eq!(conv["handshake"], "complete");
    let csv = util::stdout(&util::run(&["stats", &file, "-f", "csv"]));
    assert!(csv.contains(",complete "), "{csv}");
    assert!(!csv.contains("Complete") && !csv.contains("NotSeen"));
}

#[test]
fn issue_11_junit_tests_count_the_test_cases() {
    let rubric = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/rubrics/udp-echo.toml");
    let out = util::run(&[
        "grade",
        "--rubric",
        rubric.to_str().unwrap(),
        &fixture("student-udpecho-correct.pcap"),
        &fixture("not-a-capture.pcap"),
        "-f",
        "junit",
    ]);
    let xml = util::stdout(&out);
    let cases = xml.matches("<testcase ").count();
    let re = regex::Regex::new(r#"<testsuites [^>]*tests="(\d+)""#).unwrap();
    let tests: usize = re.captures(&xml).unwrap()[1].parse().unwrap();
    assert_eq!(tests, cases, "{xml}");
    let suites = regex::Regex::new(r#"<testsuite name="[^"]*" tests="(\d+)""#).unwrap();
    let per_suite: usize = suites
        .captures_iter(&xml)
        .map(|c| c[1].parse::<usize>().unwrap())
        .sum();
    assert_eq!(per_suite, cases, "{xml}");
}

#[test]
fn issue_13_completions_and_man_page() {
    for shell in ["bash", "zsh", "fish"] {
        let (code, text, _) = out_err(&["completions", shell]);
        assert_eq!(code, Some(0));
        for word in ["pcaplab", "packets", "streams", "time-format"] {
            assert!(text.contains(word), "{shell}: {word}");
        }
    }
    let (code, text, _) = out_err(&["man"]);
    assert_eq!(code, Some(0));
    assert!(
        text.starts_with(".ie") || text.contains(".TH pcaplab"),
        "{}",
        &text[..200]
    );
    let (code, text, _) = out_err(&["man", "packets"]);
    assert_eq!(code, Some(0));
    assert!(text.contains("pcaplab\\-packets") && text.contains("time\\-format"));
}

// ---- hostile text, escaped on every path ----

const HOSTILE: &str = "x\u{1b}[2J\u{202e}gpj.exe\u{7}";

/// No raw control or bidi character (`\n` and `\t` aside) in `text`.
fn assert_clean(what: &str, text: &str) {
    let bad = text
        .chars()
        .find(|c| (c.is_control() && *c != '\n' && *c != '\t') || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}'));
    assert!(bad.is_none(), "{what}: raw {bad:?} in\n{text}");
}

/// A pcap (raw IP) with a TFTP read request for `name` refused with an ERROR whose message is
/// `name` too, and an HTTP GET of `uri`.
fn hostile_capture(name: &str, uri: &str) -> PathBuf {
    let mut rrq = vec![0, 1];
    rrq.extend_from_slice(name.as_bytes());
    rrq.push(0);
    rrq.extend_from_slice(b"octet\0");
    let request = format!("GET {uri} HTTP/1.1\r\nHost: h\u{202e}x\r\n\r\n");
    let response = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    let mut capture = crate::streams::tcp_pcap(&[
        (true, 1000, 0x02, &[]),
        (false, 5000, 0x12, &[]),
        (true, 1001, 0x10, &[]),
        (true, 1001, 0x10, request.as_bytes()),
        (false, 5001, 0x10, response),
    ]);
    let mut error = vec![0, 5, 0, 1];
    error.extend_from_slice(name.as_bytes());
    error.push(0);
    for (i, (src, dst, sport, dport, payload)) in [
        ([10, 0, 0, 1], [10, 0, 0, 2], 40001, 69, &rrq),
        ([10, 0, 0, 2], [10, 0, 0, 1], 50001, 40001, &error),
    ]
    .into_iter()
    .enumerate()
    {
        let mut packet = Vec::new();
        etherparse::PacketBuilder::ipv4(src, dst, 64)
            .udp(sport, dport)
            .write(&mut packet, payload)
            .unwrap();
        capture.extend_from_slice(&(1_700_000_100u32 + i as u32).to_le_bytes());
        capture.extend_from_slice(&0u32.to_le_bytes());
        capture.extend_from_slice(&(packet.len() as u32).to_le_bytes());
        capture.extend_from_slice(&(packet.len() as u32).to_le_bytes());
        capture.extend_from_slice(&packet);
    }
    let path = tempfile::Builder::new()
        .suffix(".pcap")
        .tempfile()
        .unwrap()
        .into_temp_path()
        .keep()
        .unwrap();
    std::fs::write(&path, capture).unwrap();
    path
}

#[test]
fn issue_16_hostile_text_is_escaped_on_every_output_path_and_kept_in_json() {
    let path = hostile_capture(HOSTILE, "/a\u{202e}b");
    let file = path.to_str().unwrap();
    for args in [
        vec!["packets", file],
        vec!["packets", file, "--width", "80"],
        vec!["packets", file, "-f", "csv"],
        vec!["show", file],
        vec!["show", file, "-f", "csv"],
        vec!["tftp", file],
        vec!["tftp", file, "-f", "csv"],
        vec!["http", file],
        vec!["http", file, "-f", "csv"],
        vec!["follow", file, "--stream", "0"],
        vec!["follow", file, "--stream", "0", "--as", "hex"],
        vec!["stats", file],
        vec!["streams", file],
        vec!["sticky", file],
        vec!["ladder", file, "--tftp", "0"],
        vec!["ladder", file, "--stream", "0"],
        vec!["report", file],
    ] {
        let (_, text, err) = out_err(&args);
        assert!(!text.is_empty(), "{args:?}");
        assert_clean(&format!("{args:?}"), &text);
        assert_clean(&format!("{args:?} stderr"), &err);
    }
    // The TFTP name is shown escaped, not dropped.
    let (_, text, _) = out_err(&["tftp", file, "--wide"]);
    assert!(text.contains("\\x1b[2J\\u{202e}gpj.exe\\x07"), "{text}");
    // JSON holds the original text (ESC, BEL and U+202E as JSON writes them), not the escaped
    // form the table shows: the TFTP file name and ERROR message, the HTTP URI and Host.
    let json = util::stdout(&util::run(&["tftp", file, "-f", "json"]));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v[0]["file"], HOSTILE, "{v}");
    assert_eq!(v[0]["error"]["message"], HOSTILE, "{v}");
    assert!(
        json.contains("\"file\":\"x\\u001b[2J\u{202e}gpj.exe\\u0007\""),
        "{json}"
    );
    let (_, text, _) = out_err(&["tftp", file, "--wide"]);
    assert!(
        text.contains("ERROR 1 (File not found) from the server (frame 7): x\\x1b[2J"),
        "{text}"
    );
    let v: serde_json::Value =
        serde_json::from_str(&util::stdout(&util::run(&["http", file, "-f", "json"]))).unwrap();
    assert_eq!(v[0]["uri"], "/a\u{202e}b", "{v}");
    assert_eq!(v[0]["host"], "h\u{202e}x", "{v}");
    let (_, text, _) = out_err(&["http", file, "--wide"]);
    assert!(
        text.contains("/a\\u{202e}b") && text.contains("h\\u{202e}x"),
        "{text}"
    );
    let (_, text, _) = out_err(&["http", file, "-f", "csv"]);
    assert!(text.contains("/a\\u{202e}b"), "{text}");
    // The packet view too: `show` JSON keeps the request's file name, its text escapes it.
    let json = util::stdout(&util::run(&["show", file, "-p", "6", "-f", "json"]));
    assert!(
        json.contains("\"file\":\"x\\u001b[2J\u{202e}gpj.exe"),
        "{json}"
    );
    let (_, text, _) = out_err(&["show", file, "-p", "6"]);
    assert!(text.contains("x\\x1b[2J\\u{202e}gpj.exe\\x07"), "{text}");
    // Capture file names and rubric ids from outside: grade's table and messages.
    let dir = tempfile::tempdir().unwrap();
    let evil = dir.path().join(format!("{HOSTILE}.pcap"));
    std::fs::copy(util::fixture("student-udpecho-wrong.pcap"), &evil).unwrap();
    let rubric = dir.path().join("r.toml");
    std::fs::write(
        &rubric,
        format!(
            "[[check]]\nid = \"echo{}\"\ndescription = \"d\"\npoints = 1\ntype = \"udp_echo\"\nport = 5005\n",
            "\\u001b]0;owned\\u0007\\u202e"
        ),
    )
    .unwrap();
    let missing = dir.path().join(format!("{HOSTILE}-missing.pcap"));
    // (JUnit and Gradescope are files for machines: their text is escaped by XML's and JSON's
    // rules, not for a terminal.)
    let (code, text, err) = out_err(&[
        "grade",
        "--rubric",
        rubric.to_str().unwrap(),
        evil.to_str().unwrap(),
        missing.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(2), "{text}{err}");
    assert_clean("grade table", &text);
    assert_clean("grade stderr", &err);
    let (_, _, err) = out_err(&["packets", missing.to_str().unwrap()]);
    assert!(err.contains("\\x1b[2J\\u{202e}gpj.exe"), "{err}");
    assert_clean("packets stderr", &err);
    let _ = std::fs::remove_file(&path);
}

/// Runs `pcaplab ARGS` on a real pseudo-terminal `cols` wide (util-linux `script`), or `None`
/// when `script` is not installed.
fn on_a_pty(cols: u16, args: &[&str], no_color: bool) -> Option<String> {
    let quoted: Vec<String> = std::iter::once(util::bin().to_string_lossy().into_owned())
        .chain(args.iter().map(|a| a.to_string()))
        .map(|a| format!("'{}'", a.replace('\'', "'\\''")))
        .collect();
    let line = format!("stty cols {cols} rows 24; exec {}", quoted.join(" "));
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &line, "/dev/null"])
        .stdin(Stdio::null())
        .env_remove("COLUMNS");
    if no_color {
        cmd.env("NO_COLOR", "1");
    } else {
        cmd.env_remove("NO_COLOR");
    }
    let out = cmd.output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).replace('\r', ""))
}

#[test]
fn issue_13_a_real_terminal_gives_its_width_and_colours() {
    let file = fixture("http-keepalive.pcap");
    let Some(text) = on_a_pty(80, &["packets", &file], false) else {
        eprintln!(
            "note: util-linux `script` is not installed; the pseudo-terminal test is skipped"
        );
        return;
    };
    let sgr = regex::Regex::new("\u{1b}\\[[0-9;]*m").unwrap();
    assert!(sgr.is_match(&text), "colours on a terminal:\n{text}");
    for cols in [80u16, 120] {
        for cmd in ["packets", "streams", "http"] {
            let text = on_a_pty(cols, &[cmd, &file], false).unwrap();
            let plain = sgr.replace_all(&text, "");
            for line in plain.lines().filter(|l| !l.starts_with("pcaplab: ")) {
                assert!(line.width() <= usize::from(cols), "{cmd} at {cols}: {line}");
                assert!(!broken_address(line), "{cmd} at {cols}: {line}");
            }
        }
    }
    let text = on_a_pty(80, &["packets", &file], true).unwrap();
    assert!(!text.contains('\u{1b}'), "NO_COLOR:\n{text}");
}

#[test]
fn http_times_with_a_pre_filter_stay_relative_to_the_capture_s_first_packet() {
    // tshark's frame.time_relative of each request (scripts/refs/http-time-refs.sh) counts from
    // the capture's first packet whatever -Y leaves out; so does the http table's Time column.
    let refs = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/refs/time/tshark-http-relative.tsv"),
    )
    .unwrap();
    let mut want: std::collections::BTreeMap<(String, u64), String> = Default::default();
    for line in refs.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = line.split('\t').collect();
        // tshark gives nanoseconds; the table shows microseconds.
        let secs = f[2].get(..f[2].len() - 3).unwrap().to_string();
        want.insert((f[0].to_string(), f[1].parse().unwrap()), secs);
    }
    let mut compared = 0;
    for cap in ["http-keepalive.pcap", "http-get.pcap", "http-post.pcap"] {
        let file = fixture(cap);
        for filter in [None, Some("frame.number > 2"), Some("tcp.len > 0")] {
            let mut extra: Vec<&str> = Vec::new();
            if let Some(f) = filter {
                extra.extend(["-Y", f]);
            }
            let run = |format: &str| {
                let mut args = vec!["http", file.as_str(), "-f", format, "--width", "0"];
                args.extend(&extra);
                let (code, text, err) = out_err(&args);
                assert_eq!(code, Some(0), "{err}");
                text
            };
            let json: serde_json::Value = serde_json::from_str(&run("json")).unwrap();
            let table = run("table");
            let rows: Vec<&str> = table.lines().skip(1).collect();
            let json = json.as_array().unwrap();
            assert_eq!(rows.len(), json.len(), "{table}");
            for (t, row) in json.iter().zip(rows) {
                let Some(frame) = t["request_frame"].as_u64() else {
                    continue;
                };
                let time = row.split_whitespace().nth(1).unwrap();
                let key = (format!("fixtures/{cap}"), frame);
                assert_eq!(
                    Some(&time.to_string()),
                    want.get(&key),
                    "{cap} {filter:?} frame {frame}"
                );
                compared += 1;
            }
        }
    }
    assert!(compared >= 12, "{compared}");
}
