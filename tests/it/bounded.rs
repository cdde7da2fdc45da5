//! Issue 15: bounded state. Connections given up by the idle timeout or the flow cap are said
//! so in their row (`end`) and in one stderr note with the count; every command still reports
//! every connection once.

use serde_json::Value;

use crate::util;

/// A raw-IPv4 pcap of TCP segments `(second, client port, flags, payload)` from 10.0.0.1:PORT
/// to 10.0.0.2:80 (SYN = 0x02, ACK = 0x10).
fn pcap(segments: &[(u32, u16, u8, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&[0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0]);
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&65535u32.to_le_bytes());
    out.extend_from_slice(&101u32.to_le_bytes());
    for (second, port, flags, payload) in segments {
        let seq = if flags & 0x02 != 0 { 1000 } else { 1001 };
        let mut b = etherparse::PacketBuilder::ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .tcp(*port, 80, seq, 65535);
        if flags & 0x02 != 0 {
            b = b.syn();
        }
        if flags & 0x10 != 0 {
            b = b.ack(1);
        }
        let mut packet = Vec::new();
        b.write(&mut packet, payload).unwrap();
        out.extend_from_slice(&(1_700_000_000 + second).to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&(packet.len() as u32).to_le_bytes());
        out.extend_from_slice(&(packet.len() as u32).to_le_bytes());
        out.extend_from_slice(&packet);
    }
    out
}

fn write(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let file = std::env::temp_dir().join(format!(
        "pcaplab-bounded-{name}-{}.pcap",
        std::process::id()
    ));
    std::fs::write(&file, bytes).unwrap();
    file
}

/// `streams` rows as (stream, end, packets), and stderr.
fn streams(path: &std::path::Path, extra: &[&str]) -> (Vec<(u64, String, u64)>, String) {
    let mut args = vec!["streams", path.to_str().unwrap(), "--format", "json"];
    args.extend_from_slice(extra);
    let out = util::run(&args);
    assert_eq!(out.status.code(), Some(0), "{}", util::stderr(&out));
    let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["stream"].as_u64().unwrap(),
                r["end"].as_str().unwrap().to_string(),
                r["packets"].as_u64().unwrap(),
            )
        })
        .collect();
    (rows, util::stderr(&out))
}

#[test]
fn idle_connections_time_out_and_say_so() {
    // Port 1000 opens at 0 s and sends at 9 s; port 1001 opens at 1 s and is silent; port
    // 1002 opens at 15 s. With a 10 s timeout, 1001 (idle 14 s at 15 s) is given up; 1000
    // (idle 6 s) is not.
    let file = write(
        "idle",
        &pcap(&[
            (0, 1000, 0x02, b""),
            (1, 1001, 0x02, b""),
            (9, 1000, 0x10, b"x"),
            (15, 1002, 0x02, b""),
        ]),
    );
    let (rows, err) = streams(&file, &["--tcp-idle-timeout", "10"]);
    assert_eq!(
        rows,
        vec![
            (0, "end_of_capture".to_string(), 2),
            (1, "timed_out".to_string(), 1),
            (2, "end_of_capture".to_string(), 1)
        ]
    );
    let notes: Vec<&str> = err.lines().filter(|l| l.contains("idle longer")).collect();
    assert_eq!(notes.len(), 1, "{err}");
    assert!(
        notes[0].starts_with("pcaplab: note: 1 TCP connection was idle"),
        "{err}"
    );
    // Defaults (5 minutes): nothing is given up, no note.
    let (rows, err) = streams(&file, &[]);
    assert!(rows.iter().all(|r| r.1 == "end_of_capture"), "{rows:?}");
    assert!(!err.contains("note"), "{err}");
    // The other commands say the same on stderr.
    for cmd in ["packets", "http", "sticky", "stats"] {
        let out = util::run(&[
            cmd,
            file.to_str().unwrap(),
            "--format",
            "json",
            "--tcp-idle-timeout",
            "10",
        ]);
        assert_eq!(out.status.code(), Some(0), "{cmd}");
        let err = util::stderr(&out);
        assert_eq!(err.matches("idle longer").count(), 1, "{cmd}: {err}");
    }
    let _ = std::fs::remove_file(&file);
}

#[test]
fn the_flow_cap_evicts_the_longest_idle_connection_and_says_so() {
    let file = write(
        "cap",
        &pcap(&[
            (0, 1000, 0x02, b""),
            (1, 1001, 0x02, b""),
            (2, 1000, 0x10, b"x"), // 1001 is now the longest idle
            (3, 1002, 0x02, b""),  // full at 2: 1001 goes
            (4, 1003, 0x02, b""),  // then 1000
        ]),
    );
    let (rows, err) = streams(&file, &["--max-flows", "2"]);
    assert_eq!(
        rows,
        vec![
            (0, "evicted".to_string(), 2),
            (1, "evicted".to_string(), 1),
            (2, "end_of_capture".to_string(), 1),
            (3, "end_of_capture".to_string(), 1)
        ]
    );
    let notes: Vec<&str> = err.lines().filter(|l| l.contains("evicted")).collect();
    assert_eq!(notes.len(), 1, "{err}");
    assert!(
        notes[0].starts_with("pcaplab: note: 2 TCP connections were evicted"),
        "{err}"
    );
    let _ = std::fs::remove_file(&file);
}

#[test]
fn every_connection_is_one_row_in_stream_order_whatever_order_they_end_in() {
    // Stream 0 stays open to the end while 1..=40 open and are evicted (cap 3): rows are
    // written as connections end, in stream order.
    let mut segments: Vec<(u32, u16, u8, &[u8])> = vec![(0, 999, 0x02, b"")];
    for i in 0..40u16 {
        segments.push((1 + u32::from(i), 1000 + i, 0x02, b""));
        segments.push((1 + u32::from(i), 999, 0x10, b"")); // keep stream 0 the most recent
    }
    let file = write("order", &pcap(&segments));
    let (rows, _) = streams(&file, &["--max-flows", "3"]);
    let ids: Vec<u64> = rows.iter().map(|r| r.0).collect();
    assert_eq!(ids, (0..=40).collect::<Vec<u64>>());
    assert_eq!(rows[0].2, 41);
    let _ = std::fs::remove_file(&file);
}

/// A raw-IPv4 pcap of UDP datagrams `(source, destination)`, 4 bytes of payload each.
fn udp_pcap(datagrams: &[([u8; 4], [u8; 4])]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&[0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0]);
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&65535u32.to_le_bytes());
    out.extend_from_slice(&101u32.to_le_bytes());
    for (i, (src, dst)) in datagrams.iter().enumerate() {
        let mut packet = Vec::new();
        etherparse::PacketBuilder::ipv4(*src, *dst, 64)
            .udp(5000, 7)
            .write(&mut packet, b"ping")
            .unwrap();
        out.extend_from_slice(&(1_700_000_000 + i as u32).to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&(packet.len() as u32).to_le_bytes());
        out.extend_from_slice(&(packet.len() as u32).to_le_bytes());
        out.extend_from_slice(&packet);
    }
    out
}

#[test]
fn the_endpoint_list_counts_the_first_addresses_and_says_how_many_packets_it_left_out() {
    let (a, b, c, d, e) = (
        [10, 0, 0, 1],
        [10, 0, 0, 2],
        [10, 0, 0, 3],
        [10, 0, 0, 4],
        [10, 0, 0, 5],
    );
    // With room for two addresses: A and B are counted; the packets naming C, D or E (the
    // 2nd, 3rd and 4th) are the ones left out of the list, each once.
    let file = write(
        "endpoints",
        &udp_pcap(&[(a, b), (a, c), (d, a), (b, e), (b, a)]),
    );
    let path = file.to_str().unwrap();
    let out = util::run(&["stats", path, "--format", "json", "--max-endpoints", "2"]);
    assert_eq!(out.status.code(), Some(0), "{}", util::stderr(&out));
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    let endpoints: Vec<(String, u64, u64)> = s["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["address"].as_str().unwrap().to_string(),
                e["packets_sent"].as_u64().unwrap(),
                e["packets_received"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        endpoints,
        [("10.0.0.1".into(), 2, 2), ("10.0.0.2".into(), 2, 1)]
    );
    assert_eq!(s["endpoints_not_tracked"], 3);
    assert_eq!(s["packets"], 5, "every packet is still counted");
    let err = util::stderr(&out);
    assert!(
        err.contains("first 2 IP addresses") && err.contains("3 packets"),
        "{err}"
    );
    // With the default room nothing is left out, and the JSON does not mention it.
    let out = util::run(&["stats", path, "--format", "json"]);
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["endpoints"].as_array().unwrap().len(), 5);
    assert!(s.get("endpoints_not_tracked").is_none());
    assert!(!util::stderr(&out).contains("endpoint list"));
    std::fs::remove_file(file).ok();
}
