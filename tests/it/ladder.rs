//! `pcaplab ladder` against the truth files of the ladder fixtures (written by the programs
//! that made the exchanges, see fixtures/README.md): the arrow model (`-f json`), the golden
//! terminal diagrams in `tests/refs/ladder/` (made by `scripts/refs/ladder-golden.sh`, reviewed
//! by eye, and parsed back here and checked against the truth too), the SVG parsed as XML.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::util::{self, fixture, stdout};

/// The golden cases: fixture stem and the selection that draws it.
pub const CASES: [(&str, &[&str]); 7] = [
    ("handshake-close", &["--stream", "0"]),
    ("simultaneous-close", &["--stream", "0"]),
    ("reset", &["--stream", "0"]),
    ("refused", &["--stream", "0"]),
    ("tftp-retransmit", &["--tftp", "0"]),
    ("udp-echo", &["--udp", "127.0.0.1:9305"]),
    ("sticky-burst", &["--stream", "0"]),
];

fn truth(stem: &str) -> Value {
    let text =
        std::fs::read_to_string(fixture(&format!("ladder-{stem}.truth.json"))).expect("truth file");
    serde_json::from_str(&text).expect("truth json")
}

/// Runs `pcaplab ladder` on a fixture with a UTF-8 locale and no terminal.
fn ladder(stem: &str, selection: &[&str], extra: &[&str]) -> std::process::Output {
    let pcap = fixture(&format!("ladder-{stem}.pcap"));
    Command::new(util::bin())
        .arg("ladder")
        .arg(&pcap)
        .args(selection)
        .args(extra)
        .env("NO_COLOR", "1")
        .env("LC_ALL", "C.UTF-8")
        .env_remove("COLUMNS")
        .stdin(Stdio::null())
        .output()
        .expect("run pcaplab")
}

fn model(stem: &str, selection: &[&str]) -> Value {
    let out = ladder(stem, selection, &["-f", "json"]);
    assert!(out.status.success(), "{}", util::stderr(&out));
    serde_json::from_slice(&out.stdout).expect("ladder json")
}

fn golden_path(stem: &str, variant: &str) -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/refs/ladder")
        .join(format!("{stem}{variant}.txt"))
}

/// Truth's role name of an endpoint address.
fn names(truth: &Value) -> BTreeMap<String, String> {
    truth["endpoints"]
        .as_array()
        .expect("endpoints")
        .iter()
        .map(|e| {
            (
                e["address"].as_str().unwrap_or_default().to_string(),
                e["name"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn arrow_model_agrees_with_the_truth_files() {
    let mut bad = Vec::new();
    for (stem, selection) in CASES {
        let t = truth(stem);
        let m = model(stem, selection);
        // Columns: the truth's endpoints, left to right, with their roles.
        let cols: Vec<(String, String)> = m["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["address"].as_str().unwrap().to_string(),
                    c["role"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        let want: Vec<(String, String)> = t["endpoints"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["address"].as_str().unwrap().to_string(),
                    e["name"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        if cols != want {
            bad.push(format!("{stem}: columns {cols:?}, truth {want:?}"));
        }
        let arrows = m["arrows"].as_array().unwrap();
        let truth_arrows = t["arrows"].as_array().unwrap();
        if arrows.len() != truth_arrows.len() || arrows.len() as u64 != t["packets"] {
            bad.push(format!(
                "{stem}: {} arrows, truth {} ({} packets)",
                arrows.len(),
                truth_arrows.len(),
                t["packets"]
            ));
            continue;
        }
        for (a, w) in arrows.iter().zip(truth_arrows) {
            let frame = &w["frame"];
            let col = |i: &Value| cols[i.as_u64().unwrap() as usize].0.clone();
            let mut check = |what: &str, got: Value, want: Value| {
                if got != want {
                    bad.push(format!("{stem} frame {frame}: {what} {got}, truth {want}"));
                }
            };
            check("frame", a["frame"].clone(), frame.clone());
            let dt = (a["time"].as_f64().unwrap() - w["time"].as_f64().unwrap()).abs();
            check(
                "time off by more than 1 µs",
                Value::Bool(dt > 1e-6),
                Value::Bool(false),
            );
            check("src", col(&a["from"]).into(), w["src"].clone());
            check("dst", col(&a["to"]).into(), w["dst"].clone());
            if let Some(flags) = w.get("flags") {
                let tcp = &a["tcp"];
                check("flags", tcp["flags"].clone(), flags.clone());
                check("seq", tcp["seq"].clone(), w["seq"].clone());
                // tshark shows tcp.ack 0 when the ACK flag is clear; pcaplab has no number.
                let ack = if tcp["ack"].is_null() {
                    0.into()
                } else {
                    tcp["ack"].clone()
                };
                check("ack", ack, w["ack"].clone());
                check("len", tcp["len"].clone(), w["len"].clone());
                check("label", a["label"].clone(), w["label"].clone());
            } else if let Some(op) = w.get("opcode") {
                let tftp = &a["tftp"];
                check("opcode", tftp["opcode"].clone(), op.clone());
                check("block", tftp["block"].clone(), w["block"].clone());
                check("data_len", tftp["data_len"].clone(), w["data_len"].clone());
                check("label", a["label"].clone(), w["label"].clone());
            } else {
                check("udp len", a["udp_len"].clone(), w["len"].clone());
                check("label", a["label"].clone(), w["label"].clone());
            }
            if let Some(parts) = w.get("parts") {
                check("parts", a["parts"].clone(), parts.clone());
            }
            // What the truth says happened on the arrow is among pcaplab's notes.
            let kinds: Vec<&str> = a["notes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["kind"].as_str().unwrap())
                .collect();
            let said = w["notes"].to_string().to_lowercase();
            for (word, kind) in [
                ("retransmission", "retransmission"),
                ("rst", "reset"),
                ("resets", "reset"),
                ("msg ", "parts"),
            ] {
                check(
                    &format!("{kind} note for `{word}` in the truth"),
                    (!said.contains(word) || kinds.contains(&kind)).into(),
                    true.into(),
                );
            }
            if said.contains("refused") {
                let refused = a["notes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|n| n["short"] == "connection refused");
                check("connection refused", refused.into(), true.into());
            }
        }
        // Groups: label and frames.
        let groups: Vec<(String, Vec<u64>)> = m["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| {
                (
                    g["label"].as_str().unwrap().to_string(),
                    g["frames"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|f| f.as_u64().unwrap())
                        .collect(),
                )
            })
            .collect();
        let want: Vec<(String, Vec<u64>)> = t["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| {
                (
                    g["label"].as_str().unwrap().to_string(),
                    g["frames"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|f| f.as_u64().unwrap())
                        .collect(),
                )
            })
            .collect();
        if groups != want {
            bad.push(format!("{stem}: groups {groups:?}, truth {want:?}"));
        }
    }
    util::assert_no_mismatch("ladder model vs truth", &bad);
}

/// One arrow line of a text diagram read back: frame, sender lane, receiver lane, text.
struct DrawnArrow {
    frame: u64,
    from: usize,
    to: usize,
    line: String,
    in_group: Option<String>,
}

/// Reads a Unicode diagram back: the lanes (from the first line of lanes only), every arrow
/// line (its tee is on the sender's lane, its head next to the receiver's) and the bracket it
/// is in.
fn read_diagram(text: &str) -> (Vec<String>, Vec<DrawnArrow>) {
    let lines: Vec<Vec<char>> = text.lines().map(|l| l.chars().collect()).collect();
    let lane_line = lines
        .iter()
        .position(|l| !l.is_empty() && l.iter().all(|c| *c == ' ' || *c == '│'))
        .expect("a line of lanes");
    let lanes: Vec<usize> = lines[lane_line]
        .iter()
        .enumerate()
        .filter(|(_, c)| **c == '│')
        .map(|(i, _)| i)
        .collect();
    // The address line is just above: the text around each lane.
    let addr: &Vec<char> = &lines[lane_line - 1];
    let addresses: Vec<String> = lanes
        .iter()
        .map(|&x| {
            let s: String = addr.iter().collect();
            s.split_whitespace()
                .find(|w| {
                    let start = s.find(w).unwrap();
                    let start = s[..start].chars().count();
                    start <= x && x < start + w.chars().count()
                })
                .unwrap_or("")
                .to_string()
        })
        .collect();
    let mut arrows = Vec::new();
    let mut group: Option<String> = None;
    for l in &lines[lane_line + 1..] {
        let s: String = l.iter().collect();
        if s.starts_with("What pcaplab found") {
            break;
        }
        if let Some(label) = s.strip_prefix("┌ ") {
            let label: String = label.split('│').next().unwrap().trim().to_string();
            group = Some(label);
            continue;
        }
        if s.starts_with('└') {
            group = None;
            continue;
        }
        let Some(frame) = s
            .get(s.char_indices().nth(2).map_or(0, |(i, _)| i)..)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|w| w.parse::<u64>().ok())
        else {
            continue;
        };
        let lane_of = |x: usize| lanes.iter().position(|&l| l == x);
        let tee = l.iter().position(|c| *c == '├' || *c == '┤').unwrap();
        let from = lane_of(tee).expect("tee on a lane");
        let to = match l.iter().position(|c| *c == '▶' || *c == '◀') {
            Some(h) if l[h] == '▶' => lane_of(h + 1).expect("head before a lane"),
            Some(h) => lane_of(h - 1).expect("head after a lane"),
            None => from,
        };
        arrows.push(DrawnArrow {
            frame,
            from,
            to,
            line: s.clone(),
            in_group: group.clone(),
        });
    }
    (addresses, arrows)
}

#[test]
fn golden_diagrams_are_what_pcaplab_draws_and_agree_with_the_truth() {
    let bless = std::env::var_os("PCAPLAB_BLESS").is_some();
    let mut bad = Vec::new();
    for (stem, selection) in CASES {
        let out = ladder(stem, selection, &["--width", "100"]);
        assert!(out.status.success(), "{}", util::stderr(&out));
        let drawn = stdout(&out);
        let path = golden_path(stem, "");
        if bless {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &drawn).unwrap();
        }
        let golden = std::fs::read_to_string(&path).expect("golden file");
        if drawn != golden {
            bad.push(format!(
                "{stem}: output differs from {}:\n--- golden\n{golden}\n--- drawn\n{drawn}",
                path.display()
            ));
        }
        // The golden picture itself, read back, says what the truth says.
        let t = truth(stem);
        let names = names(&t);
        let (addresses, arrows) = read_diagram(&golden);
        let truth_arrows = t["arrows"].as_array().unwrap();
        if arrows.len() != truth_arrows.len() {
            bad.push(format!(
                "{stem}: golden has {} arrows, truth {}",
                arrows.len(),
                truth_arrows.len()
            ));
            continue;
        }
        for (a, w) in arrows.iter().zip(truth_arrows) {
            let want = (
                w["frame"].as_u64().unwrap(),
                w["src"].as_str().unwrap(),
                w["dst"].as_str().unwrap(),
            );
            let got = (
                a.frame,
                addresses[a.from].as_str(),
                addresses[a.to].as_str(),
            );
            if got != want {
                bad.push(format!("{stem}: golden arrow {got:?}, truth {want:?}"));
            }
            let label = w["label"].as_str().unwrap();
            if !a.line.contains(label) {
                bad.push(format!(
                    "{stem} frame {}: golden line lacks `{label}`: {}",
                    a.frame, a.line
                ));
            }
            let in_truth_group = t["groups"].as_array().unwrap().iter().find(|g| {
                g["frames"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|f| f.as_u64() == Some(a.frame))
            });
            let want_group = in_truth_group.map(|g| g["label"].as_str().unwrap().to_string());
            // A bracket spans from its first to its last frame, so an arrow between them is
            // inside it on the picture even when the truth does not list it.
            if want_group.is_some() && a.in_group != want_group {
                bad.push(format!(
                    "{stem} frame {}: golden bracket {:?}, truth {want_group:?}",
                    a.frame, a.in_group
                ));
            }
        }
        for (addr, name) in &names {
            if !golden.contains(addr.as_str()) || !golden.contains(name.as_str()) {
                bad.push(format!("{stem}: golden lacks column {name} {addr}"));
            }
        }
    }
    util::assert_no_mismatch("golden ladders", &bad);
}

#[test]
fn narrow_and_ascii_diagrams_fit_and_match_their_golden_files() {
    let bless = std::env::var_os("PCAPLAB_BLESS").is_some();
    let mut bad = Vec::new();
    for (stem, selection) in CASES {
        for (variant, args) in [
            ("-ascii", &["--ascii", "--width", "100"][..]),
            ("-60", &["--width", "60"][..]),
        ] {
            let out = ladder(stem, selection, args);
            assert!(out.status.success(), "{}", util::stderr(&out));
            let drawn = stdout(&out);
            let width = if variant == "-60" { 60 } else { 100 };
            // Labels are shortened, never wrapped: every line of the diagram fits.
            let diagram_end = drawn.find("What pcaplab found:").unwrap_or(drawn.len());
            for line in drawn[..diagram_end].lines() {
                if line.chars().count() > width {
                    bad.push(format!(
                        "{stem}{variant}: line of {} columns: {line}",
                        line.chars().count()
                    ));
                }
            }
            if variant == "-ascii" && !drawn.is_ascii() {
                bad.push(format!("{stem}: --ascii output has non-ASCII characters"));
            }
            // Same number of arrow lines as packets whatever the width.
            let arrow_lines = drawn[..diagram_end]
                .lines()
                .skip(1) // the title
                .filter(|l| l.contains(['▶', '◀', '>', '<']))
                .count();
            if arrow_lines as u64 != truth(stem)["packets"] {
                bad.push(format!("{stem}{variant}: {arrow_lines} arrow lines"));
            }
            let path = golden_path(stem, variant);
            if bless {
                std::fs::write(&path, &drawn).unwrap();
            }
            match std::fs::read_to_string(&path) {
                Ok(golden) if golden == drawn => {}
                Ok(golden) => bad.push(format!(
                    "{stem}{variant}: differs from {}:\n{golden}\n---\n{drawn}",
                    path.display()
                )),
                Err(e) => bad.push(format!("{}: {e}", path.display())),
            }
        }
    }
    util::assert_no_mismatch("narrow and ascii ladders", &bad);
}

#[test]
fn svg_parses_as_xml_with_one_arrow_and_label_per_packet() {
    let mut bad = Vec::new();
    for (stem, selection) in CASES {
        let out = ladder(stem, selection, &["-f", "svg"]);
        assert!(out.status.success(), "{}", util::stderr(&out));
        let text = stdout(&out);
        let doc = roxmltree::Document::parse(&text)
            .unwrap_or_else(|e| panic!("{stem}: the SVG is not XML: {e}"));
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "svg");
        assert_eq!(
            root.tag_name().namespace(),
            Some("http://www.w3.org/2000/svg")
        );
        // Standalone: no script, no link, no external resource, no font download.
        for node in doc.descendants().filter(|n| n.is_element()) {
            let name = node.tag_name().name();
            if matches!(
                name,
                "script" | "a" | "image" | "foreignObject" | "style" | "use"
            ) {
                bad.push(format!("{stem}: <{name}> in the SVG"));
            }
            for attr in node.attributes() {
                if attr.name().contains("href") || attr.value().contains("url(") {
                    bad.push(format!(
                        "{stem}: external reference {}={}",
                        attr.name(),
                        attr.value()
                    ));
                }
            }
        }
        let t = truth(stem);
        let truth_arrows = t["arrows"].as_array().unwrap();
        let arrows: Vec<roxmltree::Node<'_, '_>> = doc
            .descendants()
            .filter(|n| {
                n.tag_name().name() == "g"
                    && n.attribute("class")
                        .is_some_and(|c| c.split(' ').any(|c| c == "arrow"))
            })
            .collect();
        if arrows.len() != truth_arrows.len() {
            bad.push(format!(
                "{stem}: {} arrows in the SVG, truth {}",
                arrows.len(),
                truth_arrows.len()
            ));
            continue;
        }
        for (g, w) in arrows.iter().zip(truth_arrows) {
            let frame = w["frame"].as_u64().unwrap().to_string();
            if g.attribute("data-frame") != Some(frame.as_str()) {
                bad.push(format!(
                    "{stem}: arrow frame {:?}, truth {frame}",
                    g.attribute("data-frame")
                ));
            }
            let label = g
                .descendants()
                .find(|n| n.attribute("class") == Some("label"))
                .and_then(|n| n.text())
                .unwrap_or("");
            let want = w["label"].as_str().unwrap();
            if !label.starts_with(want) {
                bad.push(format!(
                    "{stem} frame {frame}: SVG label `{label}`, truth `{want}`"
                ));
            }
            // One shaft (line or loop) and one head per arrow.
            let shafts = g
                .descendants()
                .filter(|n| n.attribute("class") == Some("shaft"))
                .count();
            let heads = g
                .descendants()
                .filter(|n| n.attribute("class") == Some("head"))
                .count();
            if (shafts, heads) != (1, 1) {
                bad.push(format!(
                    "{stem} frame {frame}: {shafts} shafts, {heads} heads"
                ));
            }
        }
        let groups = doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("group"))
            .count();
        if groups != t["groups"].as_array().unwrap().len() {
            bad.push(format!("{stem}: {groups} group bands"));
        }
    }
    util::assert_no_mismatch("ladder svg", &bad);
}

#[test]
fn a_display_filter_draws_the_packets_it_passes() {
    // The truth's SYN-flagged arrows are the packets `tcp.flags.syn == 1` passes.
    let t = truth("handshake-close");
    let want: Vec<u64> = t["arrows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["flags"].as_str().unwrap().contains("SYN"))
        .map(|a| a["frame"].as_u64().unwrap())
        .collect();
    let m = model("handshake-close", &["-Y", "tcp.flags.syn == 1"]);
    let got: Vec<u64> = m["arrows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["frame"].as_u64().unwrap())
        .collect();
    assert_eq!(got, want);
    assert_eq!(m["subject"]["kind"], "filter");
    // An engine field (relative sequence numbers) works too.
    let m = model("sticky-burst", &["-Y", "tcp.seq == 99"]);
    let frames: Vec<u64> = m["arrows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["frame"].as_u64().unwrap())
        .collect();
    assert_eq!(frames, vec![6]);
}

#[test]
fn icmp_errors_are_drawn_and_linked_to_the_packet_they_answer() {
    // fixtures/netns-frag-icmp.pcap (tshark): frame 29 UDP 10.77.1.2:54298 → 10.77.2.2:9,
    // frame 30 its Port unreachable from 10.77.2.2; frame 21 a SYN to 10.77.9.5:80 (tcp.stream
    // 0), frame 22 Host unreachable from the router 10.77.1.1.
    let run = |args: &[&str]| {
        let mut all = vec!["ladder", "fixtures/netns-frag-icmp.pcap"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["-f", "json"]);
        let out = Command::new(util::bin())
            .args(&all)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", util::stderr(&out));
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let m = run(&["--udp", "10.77.2.2:9"]);
    let arrows = m["arrows"].as_array().unwrap();
    assert_eq!(arrows.len(), 2);
    assert_eq!(
        (arrows[0]["frame"].as_u64(), arrows[1]["frame"].as_u64()),
        (Some(29), Some(30))
    );
    assert_eq!(
        arrows[1]["label"],
        "ICMP Destination unreachable (Port unreachable)"
    );
    // The error comes back from the datagram's destination, to its sender.
    assert_eq!(
        (arrows[1]["from"].clone(), arrows[1]["to"].clone()),
        (arrows[0]["to"].clone(), arrows[0]["from"].clone())
    );
    assert!(arrows[0]["notes"].to_string().contains("frame 30"));
    assert!(arrows[1]["notes"].to_string().contains("frame 29"));
    let m = run(&["--stream", "0"]);
    let cols = m["columns"].as_array().unwrap();
    assert_eq!(cols.len(), 3);
    assert_eq!(cols[2]["address"], "10.77.1.1");
    assert_eq!(cols[2]["role"], "router");
    let arrows = m["arrows"].as_array().unwrap();
    assert_eq!(
        arrows[1]["label"],
        "ICMP Destination unreachable (Host unreachable)"
    );
    assert_eq!(
        (arrows[1]["from"].as_u64(), arrows[1]["to"].as_u64()),
        (Some(2), Some(0))
    );
}

#[test]
fn limit_draws_the_first_arrows_and_counts_the_rest() {
    let m = model("sticky-burst", &["--stream", "0", "--limit", "5"]);
    assert_eq!(m["arrows"].as_array().unwrap().len(), 5);
    assert_eq!(m["omitted_arrows"], 14 - 5);
    // The close (frames 12-14) is not drawn, so it has no bracket.
    let labels: Vec<&str> = m["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, vec!["3-way handshake"]);
}

#[test]
fn missing_streams_transfers_and_bad_filters_are_usage_errors() {
    for (args, says) in [
        (
            &["--stream", "5"][..],
            "no TCP stream 5 (the capture has 1 TCP stream, number 0)",
        ),
        (&["--tftp", "0"][..], "no TFTP transfer 0"),
        (
            &["--udp", "127.0.0.1:1"][..],
            "no UDP datagram to or from 127.0.0.1:1",
        ),
        (&["-Y", "tcp.prot == 1"][..], "did you mean \"tcp.port\""),
    ] {
        let out = ladder("handshake-close", args, &[]);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = util::stderr(&out);
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(
            !err.contains("Selection") && !err.contains("Error {"),
            "{err}"
        );
    }
    // No selection at all is a clap usage error.
    let out = ladder("handshake-close", &[], &[]);
    assert_eq!(out.status.code(), Some(2));
}

/// Runs `pcaplab report` on a fixture into a fresh file; returns its text.
fn report(name: &str, dir: &std::path::Path) -> (PathBuf, String) {
    let out_path = dir.join(format!("{name}.html"));
    let out = util::run(&[
        "report",
        fixture(name).to_str().unwrap(),
        "-o",
        out_path.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", util::stderr(&out));
    let text = std::fs::read_to_string(&out_path).unwrap();
    (out_path, text)
}

/// Nothing in the page can load anything: no script, link, image, frame, font or URL other
/// than the SVG namespace name.
fn assert_self_contained(name: &str, html: &str) {
    let lower = html.to_lowercase();
    for bad in [
        "<script",
        "<link",
        "<img",
        "<iframe",
        "<object",
        "<embed",
        "@import",
        "url(",
        "src=",
        "href=\"http",
        "@font-face",
    ] {
        assert!(!lower.contains(bad), "{name}: the page contains `{bad}`");
    }
    let urls = lower.matches("http://").count() + lower.matches("https://").count();
    let namespaces = lower
        .matches("xmlns=\"http://www.w3.org/2000/svg\"")
        .count();
    assert_eq!(urls, namespaces, "{name}: a URL besides the SVG namespace");
}

#[test]
fn report_page_has_every_part_and_nothing_from_outside() {
    let dir = tempfile::tempdir().unwrap();
    // (fixture, ladders drawn: TCP streams + TFTP transfers + HTTP transactions, rulers,
    //  texts the page must show). Facts from the truth files and fixtures/README.md.
    let cases: [(&str, usize, usize, &[&str]); 4] = [
        (
            "ladder-sticky-burst.pcap",
            1,
            2,
            &[
                "4 coalesced segments, 3 split messages",
                "3-way handshake",
                "4-way close",
            ],
        ),
        (
            "ladder-tftp-retransmit.pcap",
            1,
            0,
            &[
                "ladder.txt",
                "ee4d9f2bc04f3dc1cabe54c719013fdbec29337ecf0a1488e1d8d36f50009d8d",
                "DATA 2 again",
            ],
        ),
        // http-keepalive: three GETs on one connection (fixtures/README.md).
        (
            "http-keepalive.pcap",
            1 + 3,
            2,
            &["GET /index.html HTTP/1.1", "/style.css", "/data.json"],
        ),
        (
            "ladder-reset.pcap",
            1,
            2,
            &["RST: a connection was reset", "reset"],
        ),
    ];
    for (name, ladders, rulers, texts) in cases {
        let (_, html) = report(name, dir.path());
        assert!(html.starts_with("<!DOCTYPE html>"), "{name}");
        assert_self_contained(name, &html);
        assert_eq!(
            html.matches("<svg").count(),
            ladders + rulers,
            "{name}: pictures"
        );
        assert_eq!(
            html.matches("class=\"ladder\"").count(),
            ladders,
            "{name}: ladders"
        );
        assert_eq!(
            html.matches("class=\"ruler\"").count(),
            rulers,
            "{name}: rulers"
        );
        for section in [
            "What is in the capture",
            "Warnings",
            "TCP streams",
            "TFTP transfers",
            "HTTP transactions",
            "L2 Data Link",
            "L3 Network",
            "L4 Transport",
        ] {
            assert!(html.contains(section), "{name}: no `{section}`");
        }
        for t in texts {
            assert!(html.contains(t), "{name}: no `{t}`");
        }
    }
}

#[test]
fn report_escapes_what_the_capture_says() {
    // A TFTP request for a file named like markup, written by hand (RFC 1350: opcode 1, name,
    // NUL, mode, NUL) into a pcap with one Ethernet/IPv4/UDP frame.
    let name = b"<b>x&y</b>.txt";
    let mut tftp = vec![0, 1];
    tftp.extend_from_slice(name);
    tftp.push(0);
    tftp.extend_from_slice(b"octet\0");
    let udp_len = 8 + tftp.len();
    let ip_len = 20 + udp_len;
    let mut frame = vec![0u8; 12];
    frame.extend_from_slice(&[0x08, 0x00]);
    let mut ip = vec![
        0x45,
        0,
        (ip_len >> 8) as u8,
        ip_len as u8,
        0,
        1,
        0,
        0,
        64,
        17,
        0,
        0,
        127,
        0,
        0,
        1,
        127,
        0,
        0,
        1,
    ];
    let sum = ip
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
        .sum::<u32>();
    let sum = !((sum & 0xffff) + (sum >> 16)) as u16;
    ip[10..12].copy_from_slice(&sum.to_be_bytes());
    frame.extend_from_slice(&ip);
    frame.extend_from_slice(&[0xc0, 0x00, 0, 69, (udp_len >> 8) as u8, udp_len as u8, 0, 0]);
    frame.extend_from_slice(&tftp);
    let mut pcap = vec![
        0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0,
    ];
    pcap.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0]);
    pcap.extend_from_slice(&(frame.len() as u32).to_le_bytes());
    pcap.extend_from_slice(&(frame.len() as u32).to_le_bytes());
    pcap.extend_from_slice(&frame);
    let dir = tempfile::tempdir().unwrap();
    let cap = dir.path().join("markup.pcap");
    std::fs::write(&cap, &pcap).unwrap();
    let html_path = dir.path().join("markup.html");
    let out = util::run(&[
        "report",
        cap.to_str().unwrap(),
        "-o",
        html_path.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", util::stderr(&out));
    let html = std::fs::read_to_string(&html_path).unwrap();
    assert!(
        !html.contains("<b>x"),
        "the file name went into the page as markup"
    );
    assert!(
        html.contains("&lt;b&gt;x&amp;y&lt;/b&gt;.txt"),
        "the file name is not shown escaped"
    );
    assert_self_contained("markup", &html);
    // The SVG of the same transfer escapes it too, and still parses.
    let out = util::run(&["ladder", cap.to_str().unwrap(), "--tftp", "0", "-f", "svg"]);
    let svg = stdout(&out);
    roxmltree::Document::parse(&svg).expect("svg with a markup-like file name parses");
    assert!(svg.contains("RRQ &lt;b&gt;x&amp;y&lt;/b&gt;.txt octet"));
}

#[test]
fn grade_report_dir_writes_one_page_per_capture_inside_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    let rubric = dir.path().join("rubric.toml");
    std::fs::write(
        &rubric,
        "[[check]]\nid = \"handshake\"\ntype = \"tcp_close\"\nport = 9301\npoints = 1\n",
    )
    .unwrap();
    let reports = dir.path().join("pages");
    let hc = fixture("ladder-handshake-close.pcap");
    let reset = fixture("ladder-reset.pcap");
    let out = util::run(&[
        "grade",
        "--rubric",
        rubric.to_str().unwrap(),
        "--report-dir",
        reports.to_str().unwrap(),
        hc.to_str().unwrap(),
        reset.to_str().unwrap(),
        hc.to_str().unwrap(),
    ]);
    // ladder-reset talks to port 9303: its check fails (exit 1), the pages are written anyway.
    assert_eq!(out.status.code(), Some(1), "{}", util::stderr(&out));
    let mut names: Vec<String> = std::fs::read_dir(&reports)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    // The same capture twice: the second page gets a `-1` name, never replacing the first.
    assert_eq!(
        names,
        vec![
            "ladder-handshake-close.pcap-1.html",
            "ladder-handshake-close.pcap.html",
            "ladder-reset.pcap.html"
        ]
    );
    let passed = std::fs::read_to_string(reports.join("ladder-handshake-close.pcap.html")).unwrap();
    assert!(
        passed.contains("id=\"grade\"") && passed.contains(">passed<"),
        "no passing grade"
    );
    let failed = std::fs::read_to_string(reports.join("ladder-reset.pcap.html")).unwrap();
    assert!(
        failed.contains(">failed<") && failed.contains("0 / 1"),
        "no failing grade"
    );
    assert_self_contained("graded", &failed);
}

/// The Chromium binary, when one is installed (`scripts/browser-check.sh` installs it).
fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|b| std::env::split_paths(&path).map(move |d| d.join(b)))
        .find(|p| p.is_file())
}

/// Loads `page` in headless Chromium; returns its console lines (Chromium logs console
/// messages to stderr as `CONSOLE` lines with `--enable-logging=stderr --v=0`) and the URLs
/// the page itself requested (from the network log: requests whose network isolation key is
/// the `file://` page's; the browser's own background requests have another key). Every
/// request goes to a closed local proxy port, so nothing leaves the machine whatever it is.
fn load_in_chromium(
    browser: &std::path::Path,
    page: &std::path::Path,
    png: &std::path::Path,
    height: u32,
) -> (Vec<String>, Vec<String>) {
    let profile = tempfile::tempdir().unwrap();
    let netlog = profile.path().join("netlog.json");
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--proxy-server=http://127.0.0.1:9",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!(
            "--user-data-dir={}",
            profile.path().join("profile").display()
        ))
        .arg(format!("--log-net-log={}", netlog.display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("--window-size=1000,{height}"))
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .output()
        .expect("run chromium");
    let console: Vec<String> = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_string)
        .collect();
    let log: Value = serde_json::from_str(&std::fs::read_to_string(&netlog).expect("net log"))
        .expect("net log json");
    let mut requests = Vec::new();
    for e in log["events"].as_array().unwrap() {
        let p = &e["params"];
        if let (Some(url), Some(key)) = (p["url"].as_str(), p["network_isolation_key"].as_str())
            && key.starts_with("file://")
        {
            requests.push(url.to_string());
        }
    }
    (console, requests)
}

#[test]
fn report_pages_load_in_chromium_with_no_console_message_and_no_request() {
    let Some(browser) = chromium() else {
        eprintln!(
            "note: chromium is not installed (scripts/browser-check.sh installs it); browser check skipped"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // The method must see what it is looking for: a page with a console error and a request.
    let control = dir.path().join("control.html");
    std::fs::write(
        &control,
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>c</title></head><body>\
         <img src=\"http://127.0.0.1:9/x.png\"><script>console.error(\"control\")</script></body></html>",
    )
    .unwrap();
    let (console, requests) =
        load_in_chromium(&browser, &control, &dir.path().join("control.png"), 300);
    assert!(
        console.iter().any(|l| l.contains("control")),
        "control console error not seen"
    );
    assert_eq!(
        requests.first().map(String::as_str),
        Some("http://127.0.0.1:9/x.png"),
        "control request not seen"
    );
    for (stem, _) in CASES {
        let (page, _) = report(&format!("ladder-{stem}.pcap"), dir.path());
        let png = dir.path().join(format!("{stem}.png"));
        let (console, requests) = load_in_chromium(&browser, &page, &png, 1200);
        assert!(console.is_empty(), "{stem}: console: {console:?}");
        assert!(requests.is_empty(), "{stem}: requests: {requests:?}");
        let image = std::fs::read(&png).expect("screenshot");
        assert!(
            image.starts_with(b"\x89PNG\r\n\x1a\n") && image.len() > 10_000,
            "{stem}: screenshot"
        );
    }
}

#[test]
fn a_capture_cut_short_draws_what_came_before_and_exits_2() {
    // cut-mid-record.pcap ends inside frame 11 (its .cut.json); frames 1-10 are UDP 5005 echo
    // datagrams and the start of the TCP exchange (its .tsv).
    let out = util::run(&[
        "ladder",
        fixture("cut-mid-record.pcap").to_str().unwrap(),
        "--udp",
        "127.0.0.1:5005",
        "-f",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        util::stderr(&out).contains("frame 11"),
        "{}",
        util::stderr(&out)
    );
    let m: Value = serde_json::from_slice(&out.stdout).unwrap();
    let tsv = std::fs::read_to_string(fixture("cut-mid-record.pcap.tsv")).unwrap();
    // udp.srcport and udp.dstport are columns 20 and 21 of the tshark dump.
    let want: Vec<u64> = tsv
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f.get(19) == Some(&"5005") || f.get(20) == Some(&"5005"))
                .then(|| f[0].parse().unwrap())
        })
        .collect();
    let got: Vec<u64> = m["arrows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["frame"].as_u64().unwrap())
        .collect();
    assert!(!want.is_empty());
    assert_eq!(got, want);
    let out = util::run(&["report", fixture("cut-mid-record.pcap").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout(&out).contains("could not be read to its end"));
}
