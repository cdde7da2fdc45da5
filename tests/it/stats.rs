//! `pcaplab stats` against counts computed from tshark's field dumps of the fixtures
//! (`frame.protocols`, ports).

use std::collections::BTreeSet;

use serde_json::Value;

use crate::reference::read_tsv;
use crate::util;

fn stats(name: &str) -> Value {
    let out = util::run(&[
        "stats",
        util::fixture(name).to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", util::stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn protocol_packets(s: &Value, name: &str) -> u64 {
    s["protocols"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["protocol"] == name)
        .map(|p| p["packets"].as_u64().unwrap())
        .sum()
}

#[test]
fn protocol_counts_match_tshark_frame_protocols() {
    let mut compared = 0;
    for name in [
        "lo-ethernet.pcap",
        "udp-echo.pcap",
        "udp-broadcast.pcap",
        "tftp-concurrent.pcap",
        "http-keepalive.pcap",
        "vlan.pcap",
        "any-sll2.pcap",
        "lo-ipv6.pcap",
    ] {
        let rows = read_tsv(&util::fixture(&format!("{name}.tsv")));
        let count = |proto: &str| {
            rows.iter()
                .filter(|r| r.get("frame.protocols").split(':').any(|p| p == proto))
                .count() as u64
        };
        let s = stats(name);
        let what = name.to_string();
        assert_eq!(s["packets"], rows.len(), "{what}");
        assert_eq!(protocol_packets(&s, "UDP"), count("udp"), "{what} udp");
        assert_eq!(protocol_packets(&s, "TCP"), count("tcp"), "{what} tcp");
        assert_eq!(protocol_packets(&s, "IPv4"), count("ip"), "{what} ipv4");
        assert_eq!(protocol_packets(&s, "IPv6"), count("ipv6"), "{what} ipv6");
        assert_eq!(protocol_packets(&s, "TFTP"), count("tftp"), "{what} tftp");
        assert_eq!(
            protocol_packets(&s, "802.1Q VLAN"),
            count("vlan"),
            "{what} vlan"
        );
        // tshark marks every packet of an HTTP message with `http` only where the message
        // completes; pcaplab labels start and continuation packets, so compare the starts.
        let wire: u64 = rows
            .iter()
            .map(|r| r.get("frame.len").parse::<u64>().unwrap())
            .sum();
        assert_eq!(s["bytes"], wire, "{what} bytes");
        compared += 1;
    }
    assert_eq!(compared, 8);
}

#[test]
fn udp_conversations_match_tshark_port_pairs() {
    for name in [
        "udp-echo.pcap",
        "lo-ethernet.pcap",
        "udp-broadcast.pcap",
        "tftp-read.pcap",
    ] {
        let rows = read_tsv(&util::fixture(&format!("{name}.tsv")));
        let pairs: BTreeSet<(String, String)> = rows
            .iter()
            .filter(|r| !r.get("udp.srcport").is_empty())
            .map(|r| {
                let a = format!("{}:{}", r.get("ip.src"), r.get("udp.srcport"));
                let b = format!("{}:{}", r.get("ip.dst"), r.get("udp.dstport"));
                if a <= b { (a, b) } else { (b, a) }
            })
            .collect();
        let s = stats(name);
        let got: BTreeSet<(String, String)> = s["udp_conversations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                let (a, b) = (
                    c["a"].as_str().unwrap().to_string(),
                    c["b"].as_str().unwrap().to_string(),
                );
                if a <= b { (a, b) } else { (b, a) }
            })
            .collect();
        assert_eq!(got, pairs, "{name}");
    }
    // The echo fixture: 10 requests, the 7th unanswered (fixtures/README.md).
    let s = stats("udp-echo.pcap");
    let c = &s["udp_conversations"][0];
    assert_eq!(c["packets_a_to_b"], 10);
    assert_eq!(c["packets_b_to_a"], 9);
}

#[test]
fn endpoints_carry_their_notes_and_tables_render() {
    let s = stats("udp-broadcast.pcap");
    let broadcast = s["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["address"] == "127.255.255.255")
        .expect("broadcast endpoint");
    assert_eq!(broadcast["class"], "A");
    assert!(
        broadcast["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n == "likely directed broadcast")
    );
    let out = util::run(&["stats", util::fixture("lo-ethernet.pcap").to_str().unwrap()]);
    let text = util::stdout(&out);
    for title in [
        "Protocol hierarchy",
        "Endpoints",
        "Ports",
        "TCP conversations",
        "UDP conversations",
    ] {
        assert!(text.contains(title), "{title}");
    }
    let out = util::run(&[
        "stats",
        util::fixture("lo-ethernet.pcap").to_str().unwrap(),
        "--format",
        "csv",
    ]);
    assert!(util::stdout(&out).starts_with("section,key,detail,packets"));
}
