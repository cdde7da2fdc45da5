//! `pcaplab tftp` against the truth files written by the programs that made the TFTP fixtures
//! (sizes and SHA-256 of the files as served), and extraction safety.

use std::path::Path;

use serde_json::Value;

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

fn sha256_file(path: &Path) -> String {
    use sha2::{Digest, Sha256};
    let bytes = std::fs::read(path).unwrap();
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("pcaplab-it-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
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
        let truth: Value = serde_json::from_str(
            &std::fs::read_to_string(util::fixture(&format!("{name}.truth.json"))).unwrap(),
        )
        .unwrap();
        let expected = truth["transfers"].as_array().unwrap();
        let dir = temp_dir(name);
        let got = tftp_json(&util::fixture(&format!("{name}.pcap")), Some(&dir));
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
                }
                // The rebuilt file (netascii converted back) equals the original.
                let path = Path::new(t["extracted"]["path"].as_str().unwrap());
                assert!(path.starts_with(&dir), "{what}: written outside DIR");
                assert_eq!(
                    sha256_file(path),
                    e["sha256"].as_str().unwrap(),
                    "{what}: extracted file"
                );
                assert_eq!(&t["extracted"]["size"], &e["size"], "{what}");
            }
            checked += 1;
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    assert_eq!(checked, 12);
}

#[test]
fn lossy_transfer_counts_the_retransmissions_the_relay_caused() {
    // The relay dropped DATA 5 and ACK 10 (each retransmitted by tftpd-hpa after its timeout)
    // and sent DATA 15 twice: DATA 10 and DATA 15 are each seen twice, and ACK 10 / ACK 15 are
    // each acknowledged twice (fixtures/README.md, tftp-lossy.truth.json).
    let got = tftp_json(&util::fixture("tftp-lossy.pcap"), None);
    assert_eq!(got[0]["retransmitted_blocks"], 2);
    assert_eq!(got[0]["duplicate_acks"], 2);
    assert_eq!(got[0]["missing_blocks"], 0);
    assert_eq!(got[0]["complete"], true);
}

#[test]
fn missing_file_reports_error_1_and_the_ack_after_it() {
    let got = tftp_json(&util::fixture("tftp-missing.pcap"), None);
    assert_eq!(got[0]["error"]["code"], 1);
    assert!(got[0]["sha256"].is_null());
    let kinds: Vec<&str> = got[0]["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["kind"].as_str().unwrap())
        .collect();
    assert!(
        !kinds.is_empty(),
        "tftp-hpa's ACK after the ERROR is flagged"
    );
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

/// Builds a classic pcap (raw IPv4 link type) of UDP datagrams `(src port, dst port, payload)`
/// between 10.0.0.1 and 10.0.0.2.
fn udp_pcap(datagrams: &[(u16, u16, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&[0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0]);
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&65535u32.to_le_bytes());
    out.extend_from_slice(&101u32.to_le_bytes());
    for (i, (sport, dport, payload)) in datagrams.iter().enumerate() {
        let (src, dst) = if *dport == 69 || *sport > 2000 {
            ([10, 0, 0, 1], [10, 0, 0, 2])
        } else {
            ([10, 0, 0, 2], [10, 0, 0, 1])
        };
        let builder = etherparse::PacketBuilder::ipv4(src, dst, 64).udp(*sport, *dport);
        let mut packet = Vec::new();
        builder.write(&mut packet, payload).unwrap();
        out.extend_from_slice(&(1_700_000_000u32 + i as u32).to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&(packet.len() as u32).to_le_bytes());
        out.extend_from_slice(&(packet.len() as u32).to_le_bytes());
        out.extend_from_slice(&packet);
    }
    out
}

#[test]
fn extraction_never_writes_outside_the_directory() {
    let mut rrq = vec![0, 1];
    rrq.extend_from_slice(b"../../etc/passwd\0octet\0");
    let mut data = vec![0, 3, 0, 1];
    data.extend_from_slice(b"root:x:0:0\n");
    let capture = udp_pcap(&[
        (3000, 69, rrq),
        (1500, 3000, data),
        (3000, 1500, vec![0, 4, 0, 1]),
    ]);
    let dir = temp_dir("traversal");
    let file = std::env::temp_dir().join(format!("pcaplab-traversal-{}.pcap", std::process::id()));
    std::fs::write(&file, capture).unwrap();
    let got = tftp_json(&file, Some(&dir.join("out")));
    let extracted = &got[0]["extracted"];
    let path = Path::new(extracted["path"].as_str().unwrap());
    assert!(path.starts_with(dir.join("out")), "{}", path.display());
    assert_eq!(std::fs::read(path).unwrap(), b"root:x:0:0\n");
    assert!(!extracted["name_changes"].as_array().unwrap().is_empty());
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_file(&file);
}
