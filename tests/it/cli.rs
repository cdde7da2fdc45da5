//! The command-line contract: formats, options, exit codes, standard input.

use crate::util;

fn fixture(name: &str) -> String {
    util::fixture(name).to_str().unwrap().to_string()
}

#[test]
fn json_is_one_array_with_the_documented_keys() {
    let out = util::run(&["packets", &fixture("lo-ethernet.pcap"), "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 24);
    let keys = [
        "number",
        "time",
        "rel_time",
        "src",
        "dst",
        "src_port",
        "dst_port",
        "protocol",
        "length",
        "captured_length",
        "layers",
        "info",
        "malformed",
    ];
    for k in keys {
        assert!(rows[0].get(k).is_some(), "missing key {k}");
    }
    let layers = rows[0]["layers"].as_array().unwrap();
    let osi: Vec<u64> = layers.iter().map(|l| l["osi"].as_u64().unwrap()).collect();
    assert_eq!(osi, vec![1, 2, 3, 4, 7]);
    assert_eq!(rows[0]["protocol"], "UDP");
    assert!(rows[0]["malformed"].is_null());
}

#[test]
fn csv_has_a_header_unless_asked_not_to() {
    let out = util::run(&["packets", &fixture("lo-ethernet.pcap"), "--format", "csv"]);
    let text = util::stdout(&out);
    let mut lines = text.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("number,time,rel_time,src,dst")
    );
    assert_eq!(lines.count(), 24);
    let out = util::run(&[
        "packets",
        &fixture("lo-ethernet.pcap"),
        "--format",
        "csv",
        "--no-header",
    ]);
    assert_eq!(util::stdout(&out).lines().count(), 24);
}

#[test]
fn limit_stops_early() {
    let out = util::run(&[
        "packets",
        &fixture("lo-ethernet.pcap"),
        "--format",
        "ndjson",
        "--limit",
        "3",
    ]);
    assert_eq!(util::ndjson(&out).len(), 3);
}

#[test]
fn table_is_plain_when_piped() {
    let out = util::run(&["packets", &fixture("lo-ethernet.pcap")]);
    let text = util::stdout(&out);
    assert!(text.lines().next().unwrap().contains("Protocol"));
    assert!(!text.contains('\u{1b}'), "no colour codes in a pipe");
    assert!(text.contains("L2 Ethernet › L3 IPv4 › L4 UDP"));
}

#[test]
fn standard_input_is_read_with_dash() {
    let bytes = std::fs::read(util::fixture("lo-dumpcap.pcapng")).unwrap();
    let out = util::run_with_stdin(&["packets", "-", "--format", "ndjson"], &bytes);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(util::ndjson(&out).len(), 24);
}

#[test]
fn missing_file_and_bad_usage_exit_2() {
    let out = util::run(&["packets", "/nonexistent/x.pcap"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(util::stderr(&out).contains("cannot open /nonexistent/x.pcap"));
    // The system's words without its error number (std appends " (os error 2)").
    assert!(
        util::stderr(&out).contains("No such file or directory"),
        "{}",
        util::stderr(&out)
    );
    assert!(
        !util::stderr(&out).contains("os error"),
        "{}",
        util::stderr(&out)
    );
    let out = util::run(&["packets"]);
    assert_eq!(out.status.code(), Some(2));
    let out = util::run(&["packets", &fixture("lo-ethernet.pcap"), "--format", "xml"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn show_prints_layers_under_osi_headings() {
    let out = util::run(&["show", &fixture("lo-ethernet.pcap"), "-p", "12", "--hex"]);
    assert_eq!(out.status.code(), Some(0));
    let text = util::stdout(&out);
    for heading in [
        "Layer 1 — Physical",
        "Layer 2 — Data Link",
        "Layer 3 — Network",
        "Layer 4 — Transport",
    ] {
        assert!(text.contains(heading), "{heading} missing:\n{text}");
    }
    // Field names and values are aligned per layer (the padding follows the longest name).
    assert!(
        text.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["flags", "SYN,", "ACK"]),
        "{text}"
    );
    assert!(text.contains("Hex dump (74 bytes)"));
    assert!(text.contains("class A, loopback"));
}

#[test]
fn show_rejects_a_packet_beyond_the_end() {
    let out = util::run(&["show", &fixture("lo-ethernet.pcap"), "-p", "99"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(util::stderr(&out).contains("no packet 99"));
}

#[test]
fn csv_layer_chain_matches_the_json_layers_on_every_capture() {
    // CSV and tables compute the chain without building fields; it must name exactly the layers
    // the JSON output lists.
    let mut dirs = vec![util::fixtures()];
    dirs.extend(util::public_corpus());
    let mut compared = 0;
    for dir in dirs {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.to_string_lossy().into_owned();
            if !(name.ends_with(".pcap") || name.ends_with(".pcapng")) {
                continue;
            }
            let json = util::ndjson(&util::run(&["packets", &name, "--format", "ndjson"]));
            let csv = util::stdout(&util::run(&["packets", &name, "--format", "csv"]));
            let mut reader = csv::Reader::from_reader(csv.as_bytes());
            let chains: Vec<String> = reader
                .records()
                .map(|r| r.unwrap().get(10).unwrap().to_string())
                .collect();
            assert_eq!(chains.len(), json.len(), "{name}");
            for (row, chain) in json.iter().zip(&chains) {
                let expected: Vec<String> = row["layers"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|l| l["osi"] != 1)
                    .map(|l| format!("L{} {}", l["osi"], l["name"].as_str().unwrap()))
                    .collect();
                assert_eq!(
                    chain,
                    &expected.join(" › "),
                    "{name} frame {}",
                    row["number"]
                );
                compared += 1;
            }
        }
    }
    assert!(compared > 1000, "{compared}");
}
