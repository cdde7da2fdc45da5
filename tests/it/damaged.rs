//! Damaged input: cut files, bit flips, non-captures. No panic, every whole packet kept, exit 2
//! with a message naming the frame.

use std::io::Cursor;

use pcaplab::capture::CaptureReader;
use pcaplab::decode;

use crate::util;

/// Reads and decodes every frame of `bytes` in-process; returns the frame count and the error.
fn read_all(bytes: &[u8]) -> (u64, Option<pcaplab::Error>) {
    let mut reader = match CaptureReader::new(Cursor::new(bytes)) {
        Ok(r) => r,
        Err(e) => return (0, Some(e)),
    };
    let mut n = 0;
    while let Some(frame) = reader.next_frame() {
        match frame {
            Ok(f) => {
                let packet = decode::decode(&f);
                let ctx = pcaplab::view::context(&packet, &pcaplab::app::Notes::default());
                let _ = pcaplab::view::describe::layers(&packet, &ctx);
                let _ = pcaplab::view::describe::info(&packet, &ctx);
                n += 1;
            }
            Err(e) => return (n, Some(e)),
        }
    }
    (n, None)
}

/// Byte offsets where each record of a classic pcap ends.
fn pcap_record_ends(bytes: &[u8]) -> Vec<usize> {
    let mut ends = Vec::new();
    let mut at = 24;
    while at + 16 <= bytes.len() {
        let incl = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
        at += 16 + incl;
        if at > bytes.len() {
            break;
        }
        ends.push(at);
    }
    ends
}

#[test]
fn cut_fixture_keeps_whole_packets_and_names_the_frame() {
    let out = util::run(&[
        "packets",
        util::fixture("cut-mid-record.pcap").to_str().unwrap(),
        "--format",
        "ndjson",
    ]);
    assert_eq!(out.status.code(), Some(2));
    // The generator wrote down: 10 whole records, record 11 cut after 37 of its 74 bytes.
    assert_eq!(util::ndjson(&out).len(), 10);
    let err = util::stderr(&out);
    assert!(err.contains("frame 11"), "{err}");
    assert!(err.contains("byte offset 974"), "{err}");
}

#[test]
fn every_cut_of_a_pcap_keeps_every_whole_record() {
    let bytes = std::fs::read(util::fixture("lo-ethernet.pcap")).unwrap();
    let ends = pcap_record_ends(&bytes);
    assert_eq!(ends.len(), 24);
    for cut in 0..bytes.len() {
        let (n, err) = read_all(&bytes[..cut]);
        let whole = ends.iter().filter(|e| **e <= cut).count() as u64;
        assert_eq!(n, whole, "cut at {cut}");
        let at_boundary = cut == 24 || ends.contains(&cut);
        match err {
            None => assert!(at_boundary, "cut at {cut}: no error reported"),
            Some(pcaplab::Error::TruncatedRecord { frame, .. }) => {
                assert_eq!(frame.0, whole + 1, "cut at {cut}");
            }
            Some(pcaplab::Error::NotACapture { .. }) => assert!(cut < 24, "cut at {cut}"),
            Some(e) => panic!("cut at {cut}: unexpected error {e}"),
        }
    }
}

#[test]
fn every_cut_of_a_pcapng_keeps_every_whole_packet() {
    let bytes = std::fs::read(util::fixture("lo-dumpcap.pcapng")).unwrap();
    let (total, err) = read_all(&bytes);
    assert!(err.is_none());
    assert_eq!(total, 24);
    let mut last = 0;
    for cut in 0..bytes.len() {
        let (n, _err) = read_all(&bytes[..cut]);
        assert!(n >= last, "cut at {cut}: fewer packets than a shorter cut");
        assert!(n <= total);
        last = n;
    }
    assert_eq!(last, 24, "the last byte is the trailer of the last block");
}

#[test]
fn bit_flips_never_panic() {
    for name in [
        "lo-ethernet.pcap",
        "lo-dumpcap.pcapng",
        "any-sll2.pcap",
        "qinq.pcap",
    ] {
        let original = std::fs::read(util::fixture(name)).unwrap();
        // A fixed xorshift sequence: deterministic and different for every position.
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..400 {
            let mut bytes = original.clone();
            for _ in 0..4 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let at = (state as usize) % bytes.len();
                bytes[at] ^= 1u8 << (state >> 61);
            }
            let _ = read_all(&bytes);
        }
    }
}

#[test]
fn not_a_capture_is_one_clear_sentence() {
    let out = util::run(&[
        "packets",
        util::fixture("not-a-capture.pcap").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = util::stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("not a pcap or pcapng capture"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn snaplen_cut_payloads_are_labelled_not_malformed_and_still_decoded() {
    // Issue 11 item 4: a payload cut by snaplen is not malformed (tshark's `_ws.malformed` is
    // empty on every row of this fixture's .tsv) and is labelled `payload cut by snaplen`; it
    // used to be `truncated ip header`.
    let out = util::run(&[
        "packets",
        util::fixture("snaplen-64.pcap").to_str().unwrap(),
        "--format",
        "ndjson",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let rows = util::ndjson(&out);
    assert_eq!(rows.len(), 24);
    let cut: Vec<&serde_json::Value> = rows
        .iter()
        .filter(|r| r["captured_length"].as_u64() < r["length"].as_u64())
        .collect();
    // The fixture's README: 22 of 24 records have caplen 64 < len.
    assert_eq!(cut.len(), 22);
    for r in cut {
        let number = &r["number"];
        let info = r["info"].as_str().unwrap_or_default();
        let malformed = r["malformed"].as_str();
        if r["protocol"] == "UDP" {
            // 14 + 20 + 8 header bytes captured whole: only the payload was cut.
            assert_eq!(malformed, None, "frame {number}");
            assert!(
                info.contains("[payload cut by snaplen (udp: 22 of "),
                "frame {number}: {info}"
            );
        } else {
            // TCP with options (32 or 40 header bytes): the cut at byte 64 falls inside the
            // TCP header, which stays labelled truncated (not malformed).
            let m = malformed.unwrap_or_default();
            assert!(
                m.starts_with("truncated tcp header: cut by snaplen: 30 of its "),
                "frame {number}: {m}"
            );
        }
        assert!(r["src_port"].is_u64(), "ports decoded despite the cut");
    }
}

#[test]
fn empty_capture_prints_nothing_and_succeeds() {
    let Some(dir) = util::public_corpus() else {
        eprintln!("skipped: ../shared/captures/public is not present");
        return;
    };
    let out = util::run(&[
        "packets",
        dir.join("tcpdump-empty.pcap").to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(util::stdout(&out).trim(), "[]");
    let out = util::run(&[
        "packets",
        dir.join("libpcap-pcap-truncated-hdr-23.pcap")
            .to_str()
            .unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(util::stderr(&out).contains("ends inside the 24-byte pcap header"));
}

#[test]
fn issue_2_fuzz_ipv6_extension_overread() {
    // Found by the capture_file fuzz target: an IPv6 packet whose extension chain runs past the
    // frame made etherparse's extension iterator read out of bounds (fuzz/README.md).
    let out = util::run(&[
        "packets",
        util::fixture("fuzz-ipv6-ext-overread.pcap")
            .to_str()
            .unwrap(),
        "--format",
        "json",
    ]);
    assert!(matches!(out.status.code(), Some(0) | Some(2)), "{out:?}");
    assert!(!util::stderr(&out).contains("panicked"));
}
