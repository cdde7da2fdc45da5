//! `pcaplab tftp` against independent references: the truth files written by the programs that
//! made the TFTP fixtures (sizes and SHA-256 of the files as served, the faults each program
//! was made to commit and the frames that show them), the right answers of
//! `../shared/cases/README.md`, and RFC 1350's rules; and extraction under attack (symlinks,
//! clashes, hostile names, more transfers than descriptors) through `tftp --extract`.

use std::collections::BTreeSet;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::util;

fn tftp_json(capture: &Path, extract: Option<&Path>) -> Vec<Value> {
    let mut args = vec![
        "tftp".to_string(),
        capture.to_str().unwrap().to_string(),
        "--format".into(),
        "json".into(),
    ];
    if let Some(dir) = extract {
        args.push("--extract".into());
        args.push(dir.to_str().unwrap().to_string());
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = util::run(&refs);
    assert_eq!(out.status.code(), Some(0), "{}", util::stderr(&out));
    serde_json::from_slice::<Value>(&out.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn sha256_file(path: &Path) -> String {
    sha256_hex(&std::fs::read(path).unwrap())
}

fn truth(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(util::fixture(name)).unwrap()).unwrap()
}

/// The warning of `kind` in a transfer's JSON.
fn warning<'a>(t: &'a Value, kind: &str) -> Option<&'a Value> {
    t["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["kind"] == kind)
}

fn kinds(t: &Value) -> Vec<String> {
    t["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["kind"].as_str().unwrap().to_string())
        .collect()
}

fn frames(w: &Value) -> Vec<u64> {
    w["frames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_u64().unwrap())
        .collect()
}

#[test]
fn transfers_match_the_truth_files_and_extracted_files_match_the_originals() {
    let mut checked = 0;
    for name in [
        "tftp-read",
        "tftp-write",
        "tftp-missing",
        "tftp-1024",
        "tftp-large",
        "tftp-blksize",
        "tftp-netascii",
        "tftp-concurrent",
        "tftp-lossy",
    ] {
        let truth = truth(&format!("{name}.truth.json"));
        let expected = truth["transfers"].as_array().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let got = tftp_json(&util::fixture(&format!("{name}.pcap")), Some(dir.path()));
        assert_eq!(got.len(), expected.len(), "{name}: transfer count");
        for (t, e) in got.iter().zip(expected) {
            let what = format!("{name} {}", e["file"]);
            assert_eq!(t["direction"], e["direction"], "{what}");
            assert_eq!(t["file"], e["file"], "{what}");
            assert_eq!(t["mode"], e["mode"], "{what}");
            assert_eq!(t["complete"], e["complete"], "{what}");
            match &e["error"] {
                Value::Null => assert!(t["error"].is_null(), "{what}: {}", t["error"]),
                err => {
                    assert_eq!(t["error"]["code"], err["code"], "{what}");
                    assert_eq!(t["error"]["message"], err["message"], "{what}");
                }
            }
            if e["complete"] == true {
                let wire_bytes = e.get("wire_data_bytes").unwrap_or(&e["size"]);
                assert_eq!(&t["bytes"], wire_bytes, "{what}: bytes");
                if e["mode"] == "octet" {
                    assert_eq!(t["sha256"], e["sha256"], "{what}: sha256");
                    assert!(t["decoded"].is_null(), "{what}");
                } else {
                    // Netascii: the decoded fingerprint is the file as served.
                    assert_eq!(t["decoded"]["sha256"], e["sha256"], "{what}: decoded");
                    assert_eq!(t["decoded"]["size"], e["size"], "{what}: decoded");
                }
                // The rebuilt file (netascii converted back) equals the original, and the
                // size and hash reported are those of the bytes written.
                let path = Path::new(t["extracted"]["path"].as_str().unwrap());
                assert!(path.starts_with(dir.path()), "{what}: written outside DIR");
                assert_eq!(
                    sha256_file(path),
                    e["sha256"].as_str().unwrap(),
                    "{what}: extracted file"
                );
                assert_eq!(t["extracted"]["sha256"], e["sha256"], "{what}");
                assert_eq!(&t["extracted"]["size"], &e["size"], "{what}");
                assert_eq!(t["extracted"]["complete"], true, "{what}");
            }
            checked += 1;
        }
        // Nothing but finished files (and .part files of unfinished transfers) in DIR.
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            assert!(!name.starts_with('.') && !name.starts_with('-'), "{name}");
        }
    }
    assert_eq!(checked, 12);
}

#[test]
fn lossy_transfer_lists_the_repeats_the_relay_caused() {
    // The relay dropped DATA 5 and ACK 10 (each retransmitted by tftpd-hpa after its timeout)
    // and sent DATA 15 twice (tftp-lossy.truth.json, repeated_in_capture).
    let truth = truth("tftp-lossy.truth.json");
    let got = tftp_json(&util::fixture("tftp-lossy.pcap"), None);
    let t = &got[0];
    assert_eq!(t["retransmitted_blocks"], 2);
    assert_eq!(t["duplicate_acks"], 2);
    assert_eq!(t["missing_blocks"], 0);
    assert_eq!(
        (t["complete"].as_bool(), t["clean_end"].as_bool()),
        (Some(true), Some(true))
    );
    for r in truth["repeated_in_capture"].as_array().unwrap() {
        let list = if r["packet"] == "DATA" {
            &t["resent"]
        } else {
            &t["repeated_acks"]
        };
        let entry = list
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["block"]["wire"] == r["block"])
            .unwrap_or_else(|| panic!("{r} not listed in {list}"));
        let want: Vec<u64> = r["copies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["frame"].as_u64().unwrap())
            .collect();
        assert_eq!(frames(entry), want, "{r}");
        assert_eq!(entry["block"]["rollovers"], 0);
    }
    // Timeout recovery is not the Sorcerer's Apprentice, and nobody is at fault.
    assert!(t["warnings"].as_array().unwrap().is_empty(), "{t}");
}

#[test]
fn missing_file_reports_error_1_and_the_ack_after_it() {
    let got = tftp_json(&util::fixture("tftp-missing.pcap"), None);
    assert_eq!(got[0]["error"]["code"], 1);
    assert!(got[0]["sha256"].is_null());
    // tftpd-hpa's client ACKs after the ERROR: RFC 1350 §7, the client's doing.
    let w = warning(&got[0], "continues_after_error").expect("the ACK after the ERROR");
    assert_eq!(w["by"], "client");
    assert_eq!(w["rfc"], "RFC 1350 §7");
    assert!(warning(&got[0], "wrong_error_code").is_none());
}

#[test]
fn table_lists_every_transfer() {
    let out = util::run(&[
        "tftp",
        util::fixture("tftp-concurrent.pcap").to_str().unwrap(),
    ]);
    let text = util::stdout(&out);
    assert!(text.contains("left.bin") && text.contains("right.bin"));
    assert_eq!(text.matches("small.txt").count(), 2);
}

/// The faults a student truth file names, as pcaplab's warning kinds.
fn kind_of_fault(kind: &str) -> &'static str {
    match kind {
        "last_block_not_acked" => "last_block_not_acked",
        "acks_to_port_69" => "sent_to_listen_port",
        "closed_before_final_ack" => "closed_before_final_ack",
        "wrong_error_code" => "wrong_error_code",
        "no_retransmission" => "no_retransmission",
        other => panic!("unknown fault kind {other}"),
    }
}

/// Frames of the truth file's `wire` section that show a fault (see fixtures/README.md).
fn fault_frames(wire: &Value, kind: &str) -> Vec<u64> {
    let list = |key: &str, filter: &dyn Fn(&Value) -> bool| -> Vec<u64> {
        wire[key]
            .as_array()
            .unwrap()
            .iter()
            .filter(|v| filter(v))
            .map(|v| v["frame"].as_u64().unwrap())
            .collect()
    };
    match kind {
        "closed_before_final_ack" => list("icmp", &|_| true),
        "wrong_error_code" => list("errors", &|_| true),
        "acks_to_port_69" => list("acks", &|a| a["to_port"] == 69),
        "last_block_not_acked" => wire["repeated_data"][0]["frames"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_u64().unwrap())
            .chain(list("icmp", &|_| true))
            .collect(),
        _ => Vec::new(),
    }
}

#[test]
fn student_tftp_programs_are_judged_side_by_side_as_their_truth_files_say() {
    // Warnings about the graded side that the truth does not name, with why they are right.
    let allowed_extra: &[(&str, usize, &str)] = &[
        // The client gave up after the third copy of DATA 1 and closed its socket; the fourth
        // copy drew ICMP port unreachable (frame 8): a consequence of the named fault.
        (
            "student-tftpclient-wrongport",
            1,
            "port_closed_during_transfer",
        ),
    ];
    for name in [
        "student-tftpserver-correct",
        "student-tftpserver-wrong",
        "student-tftpclient-correct",
        "student-tftpclient-wrong",
        "student-tftpclient-wrongport",
    ] {
        let truth = truth(&format!("{name}.truth.json"));
        let side = if truth["exercise"] == "tftp_server" {
            "server"
        } else {
            "client"
        };
        let got = tftp_json(&util::fixture(&format!("{name}.pcap")), None);
        let expected = truth["transfers"].as_array().unwrap();
        assert_eq!(got.len(), expected.len(), "{name}");
        for (i, (t, e)) in got.iter().zip(expected).enumerate() {
            let number = i + 1; // the truth numbers transfers from 1
            let what = format!("{name} transfer {number} ({})", e["file"]);
            let wire = &truth["wire"]["transfers"][i];
            assert_eq!(t["file"], e["file"], "{what}");
            assert_eq!(t["complete"], e["complete"], "{what}: data complete");
            assert_eq!(t["request_frame"], wire["rrq_frame"], "{what}");
            assert_eq!(
                t["server"].as_str().unwrap().rsplit(':').next().unwrap(),
                wire["server_tid"].to_string(),
                "{what}"
            );
            if e["complete"] == true {
                assert_eq!(t["sha256"], e["sha256"], "{what}");
                assert_eq!(t["bytes"], e["size"], "{what}");
            } else {
                assert!(t["sha256"].is_null(), "{what}");
            }
            match &e["error"] {
                Value::Null => assert!(t["error"].is_null(), "{what}"),
                err => assert_eq!(t["error"]["code"], err["code"], "{what}"),
            }
            // Every ICMP error the truth links to this transfer is linked.
            let icmp: BTreeSet<u64> = t["icmp"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l["frame"].as_u64().unwrap())
                .collect();
            for l in wire["icmp"].as_array().unwrap() {
                assert!(
                    icmp.contains(&l["frame"].as_u64().unwrap()),
                    "{what}: icmp {l}"
                );
            }
            // Repeated DATA is listed with its frames.
            for r in wire["repeated_data"].as_array().unwrap() {
                let listed = t["resent"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|x| x["block"]["wire"] == r["block"])
                    .unwrap_or_else(|| panic!("{what}: {r} not in {}", t["resent"]));
                assert_eq!(&listed["frames"], &r["frames"], "{what}");
            }
            // The faults the truth names: kind, side, frames.
            let named: Vec<&Value> = truth["faults"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| f["transfer"] == number)
                .collect();
            for f in &named {
                let kind = kind_of_fault(f["kind"].as_str().unwrap());
                let w = warning(t, kind)
                    .unwrap_or_else(|| panic!("{what}: no {kind} in {:?}", kinds(t)));
                assert_eq!(w["by"], f["by"], "{what}: {kind}");
                assert!(
                    w["rfc"].as_str().unwrap().starts_with("RFC 1350"),
                    "{what}: {w}"
                );
                let got_frames: BTreeSet<u64> = frames(w).into_iter().collect();
                for frame in fault_frames(wire, f["kind"].as_str().unwrap()) {
                    assert!(
                        got_frames.contains(&frame),
                        "{what}: {kind} frames {got_frames:?} lack {frame}"
                    );
                }
            }
            // Nothing else is held against the graded side.
            for w in t["warnings"].as_array().unwrap() {
                if w["by"] != side {
                    continue;
                }
                let kind = w["kind"].as_str().unwrap();
                let named_here = named
                    .iter()
                    .any(|f| kind_of_fault(f["kind"].as_str().unwrap()) == kind);
                let allowed = allowed_extra
                    .iter()
                    .any(|(n, tr, k)| *n == name && *tr == number && *k == kind);
                assert!(
                    named_here || allowed,
                    "{what}: unexpected warning about the {side}: {w}"
                );
            }
            // Clean ending: complete, final ACK seen, nobody closed early.
            let clean = e["complete"] == true
                && named.is_empty()
                && e.get("final_ack_sent").is_none_or(|v| v == true)
                && e.get("final_ack_received").is_none_or(|v| v == true);
            if e["complete"] == true {
                assert_eq!(t["clean_end"], clean, "{what}: clean_end");
            }
        }
    }
}

#[test]
fn issue_12_course_tftp_diagnostics_name_the_side_frames_and_rule() {
    if let Some(p) = util::shared_case("course-tftp-missing-file.pcap") {
        let t = &tftp_json(&p, None)[0];
        assert_eq!(
            (t["error"]["code"].as_u64(), t["error"]["from"].as_str()),
            (Some(5), Some("server"))
        );
        let w = warning(t, "wrong_error_code").expect("code 5 for a missing file");
        assert_eq!((w["by"].as_str(), frames(w)), (Some("server"), vec![2]));
        let m = w["message"].as_str().unwrap();
        assert!(
            m.contains("code is 1 (File not found)") && m.contains("unexpected port"),
            "{m}"
        );
    }
    if let Some(p) = util::shared_case("course-tftp-client-skips-final-ack.pcap") {
        let t = &tftp_json(&p, None)[0];
        assert_eq!(
            (t["complete"].as_bool(), t["clean_end"].as_bool()),
            (Some(true), Some(false))
        );
        assert_eq!(t["bytes"], 1700);
        assert_eq!(
            t["sha256"].as_str().map(str::len),
            Some(64),
            "data complete: hashed"
        );
        let w = warning(t, "last_block_not_acked").expect("the client's missing ACK");
        assert_eq!((w["by"].as_str(), frames(w)), (Some("client"), vec![8]));
        let m = w["message"].as_str().unwrap();
        // Worded for what happened: the server never sent the block again.
        assert!(!m.contains("retransmits until"), "{m}");
        assert!(m.contains("did not send the block again"), "{m}");
    }
    if let Some(p) = util::shared_case("course-tftp-server-closes-before-final-ack.pcap") {
        let t = &tftp_json(&p, None)[0];
        assert_eq!(
            (t["complete"].as_bool(), t["clean_end"].as_bool()),
            (Some(true), Some(false))
        );
        assert_eq!(t["final_ack_frame"], 9);
        let w = warning(t, "closed_before_final_ack").expect("the server closed early");
        assert_eq!((w["by"].as_str(), frames(w)), (Some("server"), vec![9, 10]));
        assert_eq!(w["rfc"], "RFC 1350 §6");
        assert_eq!(t["icmp"][0]["frame"], 10);
        assert_eq!(t["icmp"][0]["quoted"], "ACK block 4");
        assert_eq!(t["icmp"][0]["quoted_from"], "client");
    }
}

#[test]
fn issue_11_second_server_port_is_its_own_abandoned_transfer() {
    let Some(p) = util::shared_case("tftp-duplicate-request-two-tids.pcap") else {
        return;
    };
    let got = tftp_json(&p, None);
    assert_eq!(got.len(), 2);
    assert_eq!(
        (got[0]["complete"].as_bool(), got[0]["clean_end"].as_bool()),
        (Some(true), Some(true))
    );
    assert_eq!(got[0]["server"], "198.51.100.69:61001");
    let t = &got[1];
    assert_eq!(t["server"], "198.51.100.69:61002");
    assert_eq!(
        (t["duplicate_of"].as_u64(), t["end"].as_str()),
        (Some(0), Some("error"))
    );
    assert_eq!(
        (
            t["error"]["code"].as_u64(),
            t["error"]["from"].as_str(),
            t["error"]["frame"].as_u64()
        ),
        (Some(5), Some("client"), Some(6))
    );
    assert_eq!(kinds(t), vec!["second_answer"]);
    // The client did refuse it (frame 6): the finding states the rule (RFC 1350 §4), it does
    // not tell the client to do what it did.
    let message = warning(t, "second_answer").unwrap()["message"]
        .as_str()
        .unwrap();
    assert!(
        message.contains("ERROR 5") && !message.contains("the client should"),
        "{message}"
    );
    // Every frame decodes as TFTP (the second port's DATA 1 and the ERROR 5 too).
    let out = util::run(&["packets", p.to_str().unwrap(), "--format", "csv"]);
    let text = util::stdout(&out);
    let rows: Vec<&str> = text.lines().skip(1).collect();
    assert_eq!(rows.len(), 8);
    for row in rows {
        assert!(row.contains(",TFTP,"), "{row}");
    }
}

#[test]
fn issue_11_timeout_resends_are_not_the_sorcerers_apprentice() {
    let Some(p) = util::shared_case("tftp-timeout-resends.pcap") else {
        return;
    };
    let t = &tftp_json(&p, None)[0];
    assert_eq!(t["retransmitted_blocks"], 2);
    assert!(warning(t, "sorcerers_apprentice").is_none(), "{t}");
    let resent: Vec<(u64, Vec<u64>)> = t["resent"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["block"]["wire"].as_u64().unwrap(), frames(r)))
        .collect();
    assert_eq!(resent, vec![(3, vec![6, 8]), (4, vec![10, 12])]);
    assert_eq!(
        (t["complete"].as_bool(), t["clean_end"].as_bool()),
        (Some(true), Some(true))
    );
}

#[test]
fn issue_11_tftp_over_ipv4_fragments_is_complete() {
    let Some(p) = util::shared_case("tftp-ipv4-fragments.pcap") else {
        return;
    };
    let t = &tftp_json(&p, None)[0];
    assert_eq!(
        (t["complete"].as_bool(), t["bytes"].as_u64()),
        (Some(true), Some(8292)),
        "{t}"
    );
    assert!(t["sha256"].as_str().unwrap().starts_with("117fbb02"));
    for kind in ["ack_for_unsent_block", "blocks_not_captured"] {
        assert!(warning(t, kind).is_none(), "{kind}: {t}");
    }
}

fn rrq(name: &[u8]) -> Vec<u8> {
    let mut p = vec![0, 1];
    p.extend_from_slice(name);
    p.extend_from_slice(b"\0octet\0");
    p
}

fn data(block: u16, bytes: &[u8]) -> Vec<u8> {
    let mut p = vec![0, 3];
    p.extend_from_slice(&block.to_be_bytes());
    p.extend_from_slice(bytes);
    p
}

fn ack(block: u16) -> Vec<u8> {
    let mut p = vec![0, 4];
    p.extend_from_slice(&block.to_be_bytes());
    p
}

/// One complete download of `content` named `name` by client port `port` (lock-step, from
/// transfer port `port + 20000` of 10.0.0.2).
fn download(port: u16, name: &[u8], content: &[u8]) -> Vec<(String, String, Vec<u8>)> {
    let client = format!("10.0.0.1:{port}");
    let tid = format!("10.0.0.2:{}", port + 20000);
    let mut v = vec![(client.clone(), "10.0.0.2:69".to_string(), rrq(name))];
    let mut chunks: Vec<&[u8]> = content.chunks(512).collect();
    if content.len().is_multiple_of(512) {
        chunks.push(&[]);
    }
    for (i, c) in chunks.iter().enumerate() {
        let b = i as u16 + 1;
        v.push((tid.clone(), client.clone(), data(b, c)));
        v.push((client.clone(), tid.clone(), ack(b)));
    }
    v
}

fn write_capture(dir: &Path, datagrams: &[(String, String, Vec<u8>)]) -> PathBuf {
    let refs: Vec<(&str, &str, Vec<u8>)> = datagrams
        .iter()
        .map(|(s, d, p)| (s.as_str(), d.as_str(), p.clone()))
        .collect();
    let path = dir.join("capture.pcap");
    std::fs::write(&path, util::udp_pcap(&refs)).unwrap();
    path
}

/// A work folder holding `out/` (the extraction directory) and `outside/target.txt`.
struct Attack {
    root: tempfile::TempDir,
    out: PathBuf,
    target: PathBuf,
}

fn attack() -> Attack {
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::create_dir(root.path().join("outside")).unwrap();
    let target = root.path().join("outside/target.txt");
    std::fs::write(&target, b"precious").unwrap();
    Attack { root, out, target }
}

#[test]
fn extraction_never_writes_outside_the_directory() {
    let a = attack();
    let capture = write_capture(
        a.root.path(),
        &download(3000, b"../outside/target.txt", b"root:x:0:0\n"),
    );
    let got = tftp_json(&capture, Some(&a.out));
    let x = &got[0]["extracted"];
    let path = Path::new(x["path"].as_str().unwrap());
    assert!(path.starts_with(&a.out), "{}", path.display());
    assert_eq!(std::fs::read(path).unwrap(), b"root:x:0:0\n");
    assert_eq!(std::fs::read(&a.target).unwrap(), b"precious");
    assert_eq!(
        x["name_changes"],
        serde_json::json!(["directory_parts_removed"])
    );
    assert!(warning(&got[0], "file_name_neutralised").is_some());
    // The server that served it is told about directory traversal.
    assert_eq!(
        warning(&got[0], "directory_traversal").unwrap()["by"],
        "server"
    );
}

#[test]
fn extraction_does_not_follow_a_symlink_in_the_directory() {
    let a = attack();
    symlink(&a.target, a.out.join("report.txt")).unwrap();
    symlink(&a.target, a.out.join("report.txt.part")).unwrap();
    let capture = write_capture(
        a.root.path(),
        &download(3000, b"report.txt", b"from the capture"),
    );
    let got = tftp_json(&capture, Some(&a.out));
    assert_eq!(std::fs::read(&a.target).unwrap(), b"precious");
    let x = &got[0]["extracted"];
    assert_eq!(
        (x["file_name"].as_str(), x["clash"].as_bool()),
        (Some("report-1.txt"), Some(true))
    );
    assert_eq!(
        std::fs::read(a.out.join("report-1.txt")).unwrap(),
        b"from the capture"
    );
    assert!(
        std::fs::symlink_metadata(a.out.join("report.txt"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let w = warning(&got[0], "extracted_under_other_name").expect("the clash is reported");
    assert!(w["message"].as_str().unwrap().contains("report-1.txt"));
}

#[test]
fn extraction_never_overwrites_and_reports_each_clash() {
    let a = attack();
    std::fs::write(a.out.join("notes.txt"), b"mine").unwrap();
    let mut d = download(3000, b"notes.txt", b"first");
    d.extend(download(3001, b"notes.txt", b"second"));
    d.extend(download(3002, b"dir/notes.txt", b"third"));
    let capture = write_capture(a.root.path(), &d);
    let got = tftp_json(&capture, Some(&a.out));
    assert_eq!(std::fs::read(a.out.join("notes.txt")).unwrap(), b"mine");
    let names: Vec<&str> = got
        .iter()
        .map(|t| t["extracted"]["file_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["notes-1.txt", "notes-2.txt", "notes-3.txt"]);
    for (t, want) in got.iter().zip([&b"first"[..], b"second", b"third"]) {
        let file = a.out.join(t["extracted"]["file_name"].as_str().unwrap());
        assert_eq!(std::fs::read(file).unwrap(), want);
        assert_eq!(t["extracted"]["sha256"], sha256_hex(want));
        assert_eq!(t["extracted"]["clash"], true);
    }
}

#[test]
fn hostile_names_are_made_safe_and_escaped_in_the_table() {
    let a = attack();
    let names: [&[u8]; 6] = [
        b"-rf",
        b".bashrc",
        "invoice\u{202e}txt.exe".as_bytes(),
        b"\x1b[31mred\x1b[0m",
        b"a..b",
        b"CON",
    ];
    let mut d = Vec::new();
    for (i, n) in names.iter().enumerate() {
        d.extend(download(3000 + i as u16, n, format!("file {i}").as_bytes()));
    }
    let capture = write_capture(a.root.path(), &d);
    let got = tftp_json(&capture, Some(&a.out));
    assert_eq!(got.len(), names.len());
    for t in &got {
        let name = t["extracted"]["file_name"].as_str().unwrap();
        assert!(!name.starts_with(['-', '.']), "{name}");
        assert!(!name.contains("..") && !name.contains('/'), "{name}");
        assert!(
            name.chars()
                .all(|c| !c.is_control() && !('\u{2000}'..='\u{206f}').contains(&c)),
            "{name:?}"
        );
        assert!(a.out.join(name).is_file(), "{name}");
    }
    // JSON holds the names as requested; the table shows no raw control or bidi character.
    assert_eq!(got[2]["file"], "invoice\u{202e}txt.exe");
    assert_eq!(got[3]["file"], "\x1b[31mred\x1b[0m");
    let out = util::run(&["tftp", capture.to_str().unwrap()]);
    let table = util::stdout(&out);
    assert!(
        !table.contains('\u{1b}') && !table.contains('\u{202e}'),
        "{table}"
    );
    assert!(table.contains("invoice\\u{202e}txt.exe"), "{table}");
}

#[test]
fn an_unfinished_transfer_stays_a_part_file() {
    let a = attack();
    let mut d = download(3000, b"big.bin", &[7u8; 1500]);
    d.truncate(4); // the request, DATA 1, ACK 1, DATA 2: blocks 3 and 4 never come
    let capture = write_capture(a.root.path(), &d);
    let got = tftp_json(&capture, Some(&a.out));
    let x = &got[0]["extracted"];
    assert_eq!(
        (x["file_name"].as_str(), x["complete"].as_bool()),
        (Some("big.bin.part"), Some(false))
    );
    assert_eq!(x["size"], 1024);
    assert!(!a.out.join("big.bin").exists());
    assert!(got[0]["sha256"].is_null());
}

#[test]
fn issue_16_three_thousand_concurrent_transfers_under_1024_descriptors() {
    // Every transfer is open at once (requests first, then DATA 1 of each, ...), with the
    // process limited to 1,024 descriptors: all 3,000 files are extracted, right.
    let a = attack();
    let n = 3000u16;
    let content = |i: u16| -> Vec<u8> {
        let mut v = format!("file {i} ").into_bytes();
        v.resize(700, b'a' + (i % 26) as u8);
        v
    };
    let per: Vec<Vec<(String, String, Vec<u8>)>> = (0..n)
        .map(|i| download(10_000 + i, format!("f{i}.bin").as_bytes(), &content(i)))
        .collect();
    let mut d = Vec::new();
    for step in 0..per[0].len() {
        for p in &per {
            d.push(p[step].clone());
        }
    }
    let capture = write_capture(a.root.path(), &d);
    let out = Command::new("sh")
        .arg("-c")
        .arg("ulimit -n 1024 && exec \"$0\" \"$@\"")
        .arg(util::bin())
        .args([
            "tftp",
            capture.to_str().unwrap(),
            "--format",
            "json",
            "--extract",
        ])
        .arg(&a.out)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got.len(), usize::from(n));
    for (i, t) in got.iter().enumerate() {
        let want = content(i as u16);
        assert_eq!(t["extracted"]["complete"], true, "{t}");
        let file = a.out.join(format!("f{i}.bin"));
        assert_eq!(std::fs::read(&file).unwrap(), want, "{}", file.display());
        assert_eq!(t["extracted"]["sha256"], sha256_hex(&want));
    }
}

#[test]
fn a_request_to_another_port_hints_at_tftp_port() {
    let dir = tempfile::tempdir().unwrap();
    let d = vec![
        (
            "10.0.0.1:4000".to_string(),
            "10.0.0.2:6969".to_string(),
            rrq(b"notes.txt"),
        ),
        (
            "10.0.0.2:5000".to_string(),
            "10.0.0.1:4000".to_string(),
            data(1, b"hello"),
        ),
        (
            "10.0.0.1:4000".to_string(),
            "10.0.0.2:5000".to_string(),
            ack(1),
        ),
    ];
    let capture = write_capture(dir.path(), &d);
    let out = util::run(&["tftp", capture.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert!(util::stdout(&out).contains("no TFTP transfers found"));
    let err = util::stderr(&out);
    assert!(
        err.contains("frame 1") && err.contains("add --tftp-port 6969"),
        "{err}"
    );
    let out = util::run(&[
        "tftp",
        capture.to_str().unwrap(),
        "--tftp-port",
        "6969",
        "--format",
        "json",
    ]);
    let got: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got[0]["clean_end"], true);
    assert_eq!(got[0]["sha256"], sha256_hex(b"hello"));
    assert!(!util::stderr(&out).contains("--tftp-port"));
}

/// `frame number → Info` of every TFTP packet of `capture` (`packets -f ndjson`).
fn tftp_infos(capture: &Path) -> std::collections::BTreeMap<u64, String> {
    let out = util::run(&["packets", capture.to_str().unwrap(), "-f", "ndjson"]);
    assert_eq!(out.status.code(), Some(0), "{}", util::stderr(&out));
    util::ndjson(&out)
        .into_iter()
        .filter(|p| p["protocol"] == "TFTP")
        .map(|p| {
            (
                p["number"].as_u64().unwrap(),
                p["info"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The frames `packets` marks as repeats: `(frame, "Retransmission"|"Duplicate ACK", first copy)`.
fn marked(infos: &std::collections::BTreeMap<u64, String>) -> BTreeSet<(u64, String, Option<u64>)> {
    infos
        .iter()
        .filter_map(|(n, info)| {
            let tag = info.rsplit_once(" [")?.1.strip_suffix(']')?;
            let (name, first) = match tag.split_once(" of frame ") {
                Some((name, f)) => (name, Some(f.parse().unwrap())),
                None => (tag, None),
            };
            matches!(name, "Retransmission" | "Duplicate ACK")
                .then(|| (*n, name.to_string(), first))
        })
        .collect()
}

/// What the `tftp` command lists as sent more than once, as [`marked`] would show it: every
/// frame after the first of each list entry.
fn listed_repeats(capture: &Path) -> BTreeSet<(u64, String, Option<u64>)> {
    let mut want = BTreeSet::new();
    for t in tftp_json(capture, None) {
        for (list, name) in [
            ("resent", "Retransmission"),
            ("repeated_acks", "Duplicate ACK"),
        ] {
            for r in t[list].as_array().unwrap() {
                let f = frames(r);
                for &repeat in f.iter().skip(1) {
                    want.insert((repeat, name.to_string(), Some(f[0])));
                }
            }
        }
    }
    want
}

#[test]
fn packets_marks_retransmitted_data_and_duplicate_acks_as_the_tftp_command_lists_them() {
    // The relay's own record of what it repeated (tftp-lossy.truth.json): every copy after the
    // first is marked in the Info column, naming the first copy's frame, and nothing else is.
    let capture = util::fixture("tftp-lossy.pcap");
    let infos = tftp_infos(&capture);
    let truth = truth("tftp-lossy.truth.json");
    let mut want = BTreeSet::new();
    for r in truth["repeated_in_capture"].as_array().unwrap() {
        let copies: Vec<u64> = r["copies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["frame"].as_u64().unwrap())
            .collect();
        let name = if r["packet"] == "DATA" {
            "Retransmission"
        } else {
            "Duplicate ACK"
        };
        for &f in &copies[1..] {
            want.insert((f, name.to_string(), Some(copies[0])));
        }
    }
    assert_eq!(want.len(), 4);
    assert_eq!(marked(&infos), want);
    assert_eq!(
        infos[&22],
        "Data Packet, Block: 10 [Retransmission of frame 20]"
    );
    // The same packets as the tftp command's lists, on every TFTP fixture and case.
    let mut captures: Vec<PathBuf> = std::fs::read_dir(util::fixtures())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            name.ends_with(".pcap") && name.contains("tftp")
        })
        .collect();
    captures.extend(util::shared_case("tftp-timeout-resends.pcap"));
    captures.sort();
    let mut with_repeats = 0;
    for capture in &captures {
        let got = marked(&tftp_infos(capture));
        assert_eq!(got, listed_repeats(capture), "{}", capture.display());
        with_repeats += usize::from(!got.is_empty());
    }
    assert!(with_repeats >= 3, "{with_repeats}");
    // cases/README.md: DATA 3 and DATA 4 are each sent again (the tftp command: frames 6 and 8,
    // 10 and 12).
    if let Some(p) = util::shared_case("tftp-timeout-resends.pcap") {
        let infos = tftp_infos(&p);
        assert_eq!(
            infos[&8],
            "Data Packet, Block: 3 [Retransmission of frame 6]"
        );
        assert_eq!(
            infos[&12],
            "Data Packet, Block: 4 [Retransmission of frame 10]"
        );
    }
}
