//! Reading and writing capture files: header variants (issue 11), large and claimed-but-absent
//! records, pcapng versions (issue 16), bounded interfaces (issue 15), writing selected frames
//! back (issue 13) and each frame's timestamp resolution.
//!
//! Inputs are built here byte by byte from the formats' specs (pcap savefile,
//! draft-ietf-opsawg-pcapng) or taken from `fixtures/` and `../shared`; references are tshark,
//! capinfos and pcap-file's reader (an implementation independent of pcaplab's), each used only
//! when present.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use pcaplab::Error;
use pcaplab::capture::{
    CaptureReader, FileFormat, Interface, Limits, LinkType, TsResolution, Writer,
};
use pcaplab::decode::{self, MalformedKind};

use crate::reference;
use crate::util;

// ---------------------------------------------------------------------------------------------
// Builders for the formats (each field named after the spec).

/// A minimal Ethernet II / IPv4 / UDP packet with `payload`, lengths consistent.
fn udp_packet(payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00]; // dst, src, IPv4
    let total = u16::try_from(20 + 8 + payload.len()).unwrap();
    p.extend_from_slice(&[0x45, 0]); // version 4, IHL 5; DSCP
    p.extend_from_slice(&total.to_be_bytes()); // total length
    p.extend_from_slice(&[0, 1, 0x40, 0, 64, 17, 0, 0]); // id, DF, TTL, UDP, checksum
    p.extend_from_slice(&[192, 0, 2, 1, 192, 0, 2, 2]); // 192.0.2.1 → 192.0.2.2
    p.extend_from_slice(&40000u16.to_be_bytes()); // source port
    p.extend_from_slice(&7u16.to_be_bytes()); // destination port
    p.extend_from_slice(&u16::try_from(8 + payload.len()).unwrap().to_be_bytes()); // length
    p.extend_from_slice(&[0, 0]); // checksum (none)
    p.extend_from_slice(payload);
    p
}

fn u16b(v: u16, big: bool) -> [u8; 2] {
    if big {
        v.to_be_bytes()
    } else {
        v.to_le_bytes()
    }
}

fn u32b(v: u32, big: bool) -> [u8; 4] {
    if big {
        v.to_be_bytes()
    } else {
        v.to_le_bytes()
    }
}

/// pcap file header: magic (written in the file's order), version 2.4, snaplen, link type.
fn pcap_header(magic: u32, big: bool, snaplen: u32, linktype: u32) -> Vec<u8> {
    let mut h = u32b(magic, big).to_vec();
    h.extend_from_slice(&u16b(2, big));
    h.extend_from_slice(&u16b(4, big));
    h.extend_from_slice(&[0; 8]); // thiszone, sigfigs
    h.extend_from_slice(&u32b(snaplen, big));
    h.extend_from_slice(&u32b(linktype, big));
    h
}

/// pcap record: ts_sec, ts_frac, incl_len, orig_len (+ the modified variant's 8 bytes), data.
fn pcap_record(
    big: bool,
    secs: u32,
    frac: u32,
    orig_len: u32,
    data: &[u8],
    modified: bool,
) -> Vec<u8> {
    let mut r = u32b(secs, big).to_vec();
    r.extend_from_slice(&u32b(frac, big));
    r.extend_from_slice(&u32b(u32::try_from(data.len()).unwrap(), big));
    r.extend_from_slice(&u32b(orig_len, big));
    if modified {
        r.extend_from_slice(&u32b(2, big)); // ifindex
        r.extend_from_slice(&u16b(0x0800, big)); // protocol
        r.extend_from_slice(&[0, 0]); // pkt_type, pad
    }
    r.extend_from_slice(data);
    r
}

/// A pcapng block: type, total length, body padded to 32 bits, total length.
fn block(big: bool, block_type: u32, body: &[u8]) -> Vec<u8> {
    let padded = body.len().next_multiple_of(4);
    let len = u32::try_from(12 + padded).unwrap();
    let mut b = u32b(block_type, big).to_vec();
    b.extend_from_slice(&u32b(len, big));
    b.extend_from_slice(body);
    b.resize(8 + padded, 0);
    b.extend_from_slice(&u32b(len, big));
    b
}

/// Section Header Block with the given version and no options.
fn shb(big: bool, major: u16, minor: u16) -> Vec<u8> {
    let mut body = u32b(0x1A2B_3C4D, big).to_vec();
    body.extend_from_slice(&u16b(major, big));
    body.extend_from_slice(&u16b(minor, big));
    body.extend_from_slice(&(-1i64).to_le_bytes());
    block(big, 0x0A0D_0D0A, &body)
}

/// Interface Description Block with `if_tsresol` / `if_tsoffset` when given.
fn idb(
    big: bool,
    linktype: u16,
    snaplen: u32,
    tsresol: Option<u8>,
    tsoffset: Option<i64>,
) -> Vec<u8> {
    let mut body = u16b(linktype, big).to_vec();
    body.extend_from_slice(&[0, 0]);
    body.extend_from_slice(&u32b(snaplen, big));
    if let Some(r) = tsresol {
        body.extend_from_slice(&u16b(9, big));
        body.extend_from_slice(&u16b(1, big));
        body.extend_from_slice(&[r, 0, 0, 0]);
    }
    if let Some(o) = tsoffset {
        body.extend_from_slice(&u16b(14, big));
        body.extend_from_slice(&u16b(8, big));
        body.extend_from_slice(&if big {
            o.to_be_bytes()
        } else {
            o.to_le_bytes()
        });
    }
    if tsresol.is_some() || tsoffset.is_some() {
        body.extend_from_slice(&[0; 4]); // opt_endofopt
    }
    block(big, 1, &body)
}

/// Enhanced Packet Block.
fn epb(big: bool, interface: u32, ticks: u64, orig_len: u32, data: &[u8]) -> Vec<u8> {
    let mut body = u32b(interface, big).to_vec();
    body.extend_from_slice(&u32b(u32::try_from(ticks >> 32).unwrap(), big));
    body.extend_from_slice(&u32b(u32::try_from(ticks & 0xffff_ffff).unwrap(), big));
    body.extend_from_slice(&u32b(u32::try_from(data.len()).unwrap(), big));
    body.extend_from_slice(&u32b(orig_len, big));
    body.extend_from_slice(data);
    block(big, 6, &body)
}

// ---------------------------------------------------------------------------------------------
// Helpers.

/// `../shared/cases` when present.
fn shared_cases() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/cases");
    dir.is_dir().then_some(dir)
}

/// A scratch file under the test target directory.
fn scratch(name: &str, bytes: &[u8]) -> PathBuf {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("capture-{name}"));
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Runs a tool on a file, `None` when the tool is not installed.
fn tool(name: &str, args: &[&str]) -> Option<Output> {
    Command::new(name).args(args).output().ok()
}

/// tshark `-T fields` rows for `fields`, `None` when tshark is not installed.
fn tshark_fields(path: &Path, fields: &[&str]) -> Option<Vec<Vec<String>>> {
    let mut args = vec![
        "-r",
        path.to_str().unwrap(),
        "-T",
        "fields",
        "-E",
        "separator=/t",
    ];
    for f in fields {
        args.extend(["-e", f]);
    }
    let out = tool("tshark", &args)?;
    assert!(
        out.status.success(),
        "tshark failed: {}",
        util::stderr(&out)
    );
    Some(
        util::stdout(&out)
            .lines()
            .map(|l| l.split('\t').map(str::to_string).collect())
            .collect(),
    )
}

/// What a frame carries, owned, for comparisons.
#[derive(Debug, Clone, PartialEq)]
struct Owned {
    number: u64,
    timestamp: Duration,
    link_type: u32,
    section: u32,
    interface: u32,
    original_len: u32,
    ts_resolution: TsResolution,
    data: Vec<u8>,
}

/// Reads every frame of `bytes` with `limits`; the error that stopped reading, if any.
fn read_with(bytes: &[u8], limits: Limits) -> (Vec<Owned>, Option<Error>) {
    let mut reader = match CaptureReader::with_limits(Cursor::new(bytes), limits) {
        Ok(r) => r,
        Err(e) => return (Vec::new(), Some(e)),
    };
    let mut frames = Vec::new();
    while let Some(frame) = reader.next_frame() {
        match frame {
            Ok(f) => frames.push(Owned {
                number: f.number.0,
                timestamp: f.timestamp,
                link_type: f.link_type.number(),
                section: f.section,
                interface: f.interface,
                original_len: f.original_len,
                ts_resolution: f.ts_resolution,
                data: f.data.to_vec(),
            }),
            Err(e) => return (frames, Some(e)),
        }
    }
    (frames, None)
}

fn read(bytes: &[u8]) -> (Vec<Owned>, Option<Error>) {
    read_with(bytes, Limits::default())
}

/// Reads `input` and writes every frame `keep` selects to `format`.
fn rewrite(input: &[u8], format: FileFormat, keep: impl Fn(u64) -> bool) -> Result<Vec<u8>, Error> {
    let mut reader = CaptureReader::new(Cursor::new(input))?;
    let interfaces = reader.interfaces().to_vec();
    let mut writer = Writer::create(Vec::new(), format, &interfaces)?;
    while let Some(frame) = reader.next_frame() {
        let frame = frame?;
        if keep(frame.number.0) {
            writer.write(&frame)?;
        }
    }
    writer.finish()
}

// ---------------------------------------------------------------------------------------------
// Issue 11 item 5: capture headers.

#[test]
fn issue_11_linktype_fcs_bits_are_masked_to_the_link_type() {
    // Built here: LinkType 0x24000001 = FCS length 2 (bits 28-31), FCS-present bit 26, type 1.
    let mut bytes = pcap_header(0xa1b2_c3d4, false, 65535, 0x2400_0001);
    bytes.extend(pcap_record(false, 1, 0, 46, &udp_packet(b"hello"), false));
    let (frames, err) = read(&bytes);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(frames[0].link_type, 1);

    let Some(cases) = shared_cases() else {
        eprintln!("skipped the shared case: ../shared is not present");
        return;
    };
    let path = cases.join("pcap-linktype-fcs-bits.pcap");
    let (frames, err) = read(&std::fs::read(&path).unwrap());
    assert!(err.is_none(), "{err:?}");
    // cases/README.md: decoded as Ethernet, like tshark and tcpdump.
    assert!(!frames.is_empty());
    for f in &frames {
        assert_eq!(LinkType::from_number(f.link_type), LinkType::Ethernet);
    }
    let out = util::run(&["packets", path.to_str().unwrap(), "--format", "ndjson"]);
    assert_eq!(out.status.code(), Some(0));
    let rows = util::ndjson(&out);
    if let Some(tshark) = tshark_fields(&path, &["frame.protocols", "tcp.srcport", "udp.srcport"]) {
        assert_eq!(rows.len(), tshark.len());
        for (row, t) in rows.iter().zip(&tshark) {
            assert!(t[0].starts_with("eth:ethertype:ip:"), "{t:?}");
            let port = if t[1].is_empty() { &t[2] } else { &t[1] };
            assert_eq!(&row["src_port"].to_string(), port, "{row}");
            assert!(row["malformed"].is_null(), "{row}");
        }
    }
}

/// The three UDP packets of `cases/pcap-modified-magic.pcap` as tshark 4.0 shows them:
/// frame.len, frame.time_epoch, udp.srcport (`tshark -T fields`, taken when the case was
/// checked; the test also asks tshark itself when it is installed).
const MODIFIED_CASE: [(u32, Duration, u16); 3] = [
    (61, Duration::new(1_700_000_000, 1_000_000), 40000),
    (61, Duration::new(1_700_000_000, 2_000_000), 7),
    (48, Duration::new(1_700_000_000, 3_000_000), 40000),
];

/// Rewrites a modified-pcap file in the other byte order, field by field.
fn swap_modified_pcap(bytes: &[u8]) -> Vec<u8> {
    let swap32 = |b: &[u8]| [b[3], b[2], b[1], b[0]];
    let mut out = Vec::new();
    // Header: magic, 2 × u16, 4 × u32.
    out.extend(swap32(&bytes[0..4]));
    out.extend([bytes[5], bytes[4], bytes[7], bytes[6]]);
    for at in (8..24).step_by(4) {
        out.extend(swap32(&bytes[at..at + 4]));
    }
    let big = bytes[0] == 0xa1;
    let mut at = 24;
    while at + 24 <= bytes.len() {
        let incl = if big {
            u32::from_be_bytes(bytes[at + 8..at + 12].try_into().unwrap())
        } else {
            u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap())
        } as usize;
        for f in (at..at + 20).step_by(4) {
            out.extend(swap32(&bytes[f..f + 4]));
        }
        out.extend([
            bytes[at + 21],
            bytes[at + 20],
            bytes[at + 22],
            bytes[at + 23],
        ]);
        out.extend_from_slice(&bytes[at + 24..at + 24 + incl]);
        at += 24 + incl;
    }
    out
}

#[test]
fn issue_11_modified_pcap_reads_in_both_byte_orders() {
    // Built here from the format: 0xa1b2cd34, 24-byte record headers, two records.
    let mut built = pcap_header(0xa1b2_cd34, false, 65535, 1);
    built.extend(pcap_record(
        false,
        1_700_000_000,
        500,
        47,
        &udp_packet(b"hello"),
        true,
    ));
    built.extend(pcap_record(
        false,
        1_700_000_001,
        0,
        42,
        &udp_packet(b""),
        true,
    ));
    for bytes in [built.clone(), swap_modified_pcap(&built)] {
        let (frames, err) = read(&bytes);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[0].timestamp, Duration::new(1_700_000_000, 500_000));
        assert_eq!(frames[0].data, udp_packet(b"hello"));
        assert_eq!(frames[1].original_len, 42);
    }

    let Some(cases) = shared_cases() else {
        eprintln!("skipped the shared case: ../shared is not present");
        return;
    };
    let path = cases.join("pcap-modified-magic.pcap");
    let bytes = std::fs::read(&path).unwrap();
    let swapped = swap_modified_pcap(&bytes);
    assert_ne!(bytes, swapped);
    if let Some(t) = tshark_fields(&path, &["frame.len", "frame.time_epoch", "udp.srcport"]) {
        let expected: Vec<Vec<String>> = MODIFIED_CASE
            .iter()
            .map(|(len, ts, port)| {
                vec![
                    len.to_string(),
                    format!("{}.{:09}", ts.as_secs(), ts.subsec_nanos()),
                    port.to_string(),
                ]
            })
            .collect();
        assert_eq!(t, expected, "tshark no longer agrees with the constants");
        let swapped_path = scratch("modified-swapped.pcap", &swapped);
        let t2 = tshark_fields(
            &swapped_path,
            &["frame.len", "frame.time_epoch", "udp.srcport"],
        );
        assert_eq!(
            t2.as_ref(),
            Some(&t),
            "tshark reads the swapped file the same"
        );
    }
    for bytes in [bytes, swapped] {
        let (frames, err) = read(&bytes);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(frames.len(), 3);
        for (f, (len, ts, port)) in frames.iter().zip(MODIFIED_CASE) {
            assert_eq!(f.original_len, len);
            assert_eq!(f.data.len() as u32, len);
            assert_eq!(f.timestamp, ts);
            let frame = pcaplab::capture::Frame {
                number: pcaplab::capture::FrameNumber(f.number),
                timestamp: f.timestamp,
                link_type: LinkType::from_number(f.link_type),
                interface: 0,
                original_len: f.original_len,
                big_endian_file: false,
                data: &f.data,
                section: 1,
                ts_resolution: f.ts_resolution,
                snaplen: 0,
            };
            let packet = decode::decode(&frame);
            assert_eq!(packet.ports().map(|p| p.0), Some(port));
            assert!(packet.malformed.is_none());
        }
    }
}

#[test]
fn issue_11_captured_length_above_wire_length_is_reported_not_rewritten() {
    let packet = udp_packet(b""); // 42 bytes
    let mut padded = packet.clone();
    padded.resize(60, 0);
    let mut bytes = pcap_header(0xa1b2_c3d4, false, 65535, 1);
    bytes.extend(pcap_record(false, 1, 0, 42, &padded, false)); // caplen 60 > len 42
    bytes.extend(pcap_record(false, 2, 0, 42, &packet, false));
    let (frames, err) = read(&bytes);
    assert!(err.is_none(), "{err:?}");
    assert_eq!((frames[0].original_len, frames[0].data.len()), (42, 60));

    let path = scratch("caplen-above-len.pcap", &bytes);
    let out = util::run(&["packets", path.to_str().unwrap(), "--format", "ndjson"]);
    assert_eq!(out.status.code(), Some(0));
    let rows = util::ndjson(&out);
    assert_eq!(rows.len(), 2);
    assert_eq!(
        (
            rows[0]["length"].as_u64(),
            rows[0]["captured_length"].as_u64()
        ),
        (Some(42), Some(60))
    );
    let label = rows[0]["malformed"].as_str().unwrap_or_default();
    assert!(
        label.contains("frame length 42 is less than the captured length 60"),
        "{label}"
    );
    assert!(rows[1]["malformed"].is_null());
    // tshark marks the same frame, and only it, malformed.
    if let Some(t) = tshark_fields(&path, &["frame.number", "_ws.malformed"]) {
        assert_eq!(t[0], ["1", "_ws.malformed"]);
        assert_eq!(t[1], ["2", ""]);
    }
}

// ---------------------------------------------------------------------------------------------
// Issue 11 item 4: payloads cut by snaplen.

#[test]
fn issue_11_snaplen_cut_payload_is_labelled_not_malformed() {
    // Built here: a 1000-byte UDP payload of which a 128-byte snaplen kept 86 bytes.
    let whole = udp_packet(&[0x41; 1000]);
    let mut bytes = pcap_header(0xa1b2_c3d4, false, 128, 1);
    bytes.extend(pcap_record(false, 1, 0, 1042, &whole[..128], false));
    // And a frame cut inside its UDP header (14 + 20 + 4 bytes): still truncated.
    bytes.extend(pcap_record(false, 2, 0, 1042, &whole[..38], false));
    let mut reader = CaptureReader::new(Cursor::new(&bytes)).unwrap();
    {
        let frame = reader.next_frame().unwrap().unwrap();
        let packet = decode::decode(&frame);
        assert!(packet.malformed.is_none(), "{:?}", packet.malformed);
        let cut = packet.snaplen_cut().expect("labelled");
        assert_eq!((cut.protocol, cut.captured, cut.on_wire), ("udp", 86, 1000));
        assert!(cut.to_string().starts_with("payload cut by snaplen"));
        assert_eq!(packet.wire_payload_len(), 1000);
    }
    let frame = reader.next_frame().unwrap().unwrap();
    let packet = decode::decode(&frame);
    let m = packet.malformed.as_ref().expect("header cut");
    assert_eq!(
        (m.kind, m.protocol, m.offset),
        (MalformedKind::Truncated, "udp", Some(34))
    );
    assert!(packet.snaplen_cut().is_none());

    let Some(cases) = shared_cases() else {
        eprintln!("skipped the shared case: ../shared is not present");
        return;
    };
    // cases/README.md: 3 in-order 1000-byte segments and one of 81, each cut at 128 bytes;
    // tshark counts 0 malformed packets.
    let path = cases.join("snaplen-cut-http.pcap");
    let bytes = std::fs::read(&path).unwrap();
    let mut reader = CaptureReader::new(Cursor::new(&bytes)).unwrap();
    let mut cut_lens = Vec::new();
    let mut tcp_lens = Vec::new();
    while let Some(frame) = reader.next_frame() {
        let packet = decode::decode(&frame.unwrap());
        assert!(packet.malformed.is_none(), "{:?}", packet.malformed);
        if let Some(cut) = packet.snaplen_cut() {
            assert_eq!((cut.protocol, cut.captured), ("tcp", 74));
            cut_lens.push(packet.wire_payload_len());
        }
        tcp_lens.push(packet.wire_payload_len().to_string());
    }
    assert_eq!(cut_lens, [1000, 1000, 1000, 81]);
    let out = util::run(&["stats", path.to_str().unwrap()]);
    assert!(
        util::stdout(&out).contains(", 0 malformed"),
        "{}",
        util::stdout(&out)
    );
    if let Some(t) = tshark_fields(&path, &["_ws.malformed", "tcp.len"]) {
        assert!(
            t.iter().all(|r| r[0].is_empty()),
            "tshark counts no malformed packet"
        );
        let t: Vec<String> = t.into_iter().map(|r| r[1].clone()).collect();
        assert_eq!(tcp_lens, t, "tcp.len per frame");
    }
}

#[test]
fn issue_11_snaplen_public_captures_agree_with_tshark() {
    let Some(public) = util::public_corpus() else {
        eprintln!("skipped: ../shared/captures/public is not present");
        return;
    };
    // The IPv4 header itself is cut (6 of 20 bytes): truncated, not a cut payload.
    let bytes = std::fs::read(public.join("rustpcap-packet_snaplen_20.pcap")).unwrap();
    let mut reader = CaptureReader::new(Cursor::new(&bytes)).unwrap();
    let packet = decode::decode(&reader.next_frame().unwrap().unwrap());
    let m = packet.malformed.as_ref().expect("header cut");
    assert_eq!((m.kind, m.offset), (MalformedKind::Truncated, Some(14)));
    assert!(m.reason.contains("6 of its 20 header bytes"), "{m}");
    assert!(packet.snaplen_cut().is_none());

    // Header-only capture (snaplen 54): tcp.len per frame and per direction as tshark's.
    for (name, expected) in [
        (
            "zeek-retransmit-fast009.pcap",
            public.join("expected/zeek-retransmit-fast009.pcap.tsv"),
        ),
        ("snaplen-64.pcap", util::fixture("snaplen-64.pcap.tsv")),
    ] {
        let path = if name.starts_with("zeek") {
            public.join(name)
        } else {
            util::fixture(name)
        };
        let rows = reference::read_tsv(&expected);
        let bytes = std::fs::read(&path).unwrap();
        let mut reader = CaptureReader::new(Cursor::new(&bytes)).unwrap();
        let mut mismatches = Vec::new();
        let mut i = 0;
        while let Some(frame) = reader.next_frame() {
            let packet = decode::decode(&frame.unwrap());
            let row = &rows[i];
            i += 1;
            let wire = packet.wire_payload_len();
            let want = match (row.get("tcp.len"), row.get("udp.length")) {
                (t, _) if !t.is_empty() => t.parse::<usize>().unwrap(),
                (_, u) if !u.is_empty() => u.parse::<usize>().unwrap() - 8,
                _ => continue,
            };
            if wire != want {
                mismatches.push(format!("{name} frame {i}: tshark {want}, pcaplab {wire}"));
            }
            if row.get("_ws.malformed").is_empty()
                && let Some(m) = &packet.malformed
                && m.kind == MalformedKind::Malformed
            {
                mismatches.push(format!(
                    "{name} frame {i}: tshark not malformed, pcaplab {m}"
                ));
            }
        }
        assert_eq!(i, rows.len(), "{name}: frame count");
        util::assert_no_mismatch(name, &mismatches);
    }
}

// ---------------------------------------------------------------------------------------------
// Issue 16: large records, claimed sizes, pcapng versions.

/// A pcap with a small record, one of `big_len` bytes, and another small one.
fn pcap_with_big_record(big_len: usize) -> Vec<u8> {
    let small = udp_packet(b"before");
    let mut big = vec![0u8; big_len];
    for (i, b) in big.iter_mut().enumerate() {
        *b = (i % 251) as u8;
    }
    let mut bytes = pcap_header(0xa1b2_c3d4, false, 65535, 1);
    bytes.extend(pcap_record(false, 1, 0, small.len() as u32, &small, false));
    bytes.extend(pcap_record(false, 2, 0, big_len as u32, &big, false));
    bytes.extend(pcap_record(
        false,
        3,
        0,
        small.len() as u32,
        &udp_packet(b"after"),
        false,
    ));
    bytes
}

#[test]
fn issue_16_a_9_mb_record_reads_whole_and_the_packets_after_it_too() {
    let big_len = 9 * 1024 * 1024;
    let bytes = pcap_with_big_record(big_len);
    let (frames, err) = read(&bytes);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(frames.len(), 3);
    assert_eq!(frames[1].data.len(), big_len);
    assert!(
        frames[1]
            .data
            .iter()
            .enumerate()
            .all(|(i, b)| *b == (i % 251) as u8)
    );
    assert_eq!(frames[2].data, udp_packet(b"after"));

    // The binary, from a file and from standard input.
    let path = scratch("big-record.pcap", &bytes);
    let out = util::run(&["packets", path.to_str().unwrap(), "--format", "ndjson"]);
    assert_eq!(out.status.code(), Some(0), "{}", util::stderr(&out));
    assert_eq!(util::ndjson(&out).len(), 3);
    let out = util::run_with_stdin(&["packets", "-", "--format", "ndjson"], &bytes);
    assert_eq!(out.status.code(), Some(0), "{}", util::stderr(&out));
    assert_eq!(util::ndjson(&out)[2]["number"], 3);
    // (tshark and capinfos stop at this record: "pcap: File has 9437184-byte packet, bigger
    // than maximum of 262144". Issue 16 asks for records up to at least 256 MiB.)

    // Only a file that really ends inside the record is cut: frame 2, at its record's offset.
    let record_2 = 24 + 16 + udp_packet(b"before").len();
    let (frames, err) = read(&bytes[..record_2 + 16 + 1000]);
    assert_eq!(frames.len(), 1);
    match err {
        Some(Error::TruncatedRecord { frame, offset, .. }) => {
            assert_eq!((frame.0, offset), (2, record_2 as u64));
        }
        other => panic!("{other:?}"),
    }

    // Above a lowered limit the record is refused, naming frame and offset.
    let limits = Limits {
        max_record_len: 1024 * 1024,
        ..Limits::default()
    };
    let (frames, err) = read_with(&bytes, limits);
    assert_eq!(frames.len(), 1);
    match err {
        Some(e @ Error::Corrupt { .. }) => {
            let text = e.to_string();
            assert!(text.contains("frame 2"), "{text}");
            assert!(text.contains(&format!("byte offset {record_2}")), "{text}");
            assert!(text.contains("largest record accepted"), "{text}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn issue_16_claimed_lengths_that_are_absent_are_cut_not_allocated() {
    // A 28-byte pcapng whose first block claims 256 MiB.
    let mut bytes = shb(false, 1, 0);
    bytes[4..8].copy_from_slice(&(256u32 * 1024 * 1024).to_le_bytes());
    assert_eq!(bytes.len(), 28);
    let err = CaptureReader::new(Cursor::new(&bytes))
        .err()
        .expect("refused");
    assert!(matches!(err, Error::NotACapture { .. }), "{err}");
    assert!(
        err.to_string().contains("28 of its 268435456 bytes"),
        "{err}"
    );
    // A pcap record claiming 200 MiB in a file of a few bytes: cut, within the limit.
    let mut bytes = pcap_header(0xa1b2_c3d4, false, 65535, 1);
    bytes.extend_from_slice(&[0; 8]);
    bytes.extend_from_slice(&(200u32 << 20).to_le_bytes());
    bytes.extend_from_slice(&(200u32 << 20).to_le_bytes());
    bytes.extend_from_slice(&[1, 2, 3]);
    let (frames, err) = read(&bytes);
    assert!(frames.is_empty());
    assert!(
        matches!(err, Some(Error::TruncatedRecord { offset: 24, .. })),
        "{err:?}"
    );
    // A packet block claiming 200 MiB after a valid section and interface: cut as well.
    let mut bytes = shb(true, 1, 0);
    bytes.extend(idb(true, 1, 0, None, None));
    let at = bytes.len();
    bytes.extend(epb(true, 0, 0, 42, &udp_packet(b"")));
    bytes[at + 4..at + 8].copy_from_slice(&(200u32 << 20).to_be_bytes());
    let (frames, err) = read(&bytes);
    assert!(frames.is_empty());
    assert!(
        matches!(err, Some(Error::TruncatedRecord { offset, .. }) if offset == at as u64),
        "{err:?}"
    );
}

#[test]
fn issue_16_unknown_pcapng_section_versions_are_refused() {
    for (major, minor, accepted) in [
        (1, 0, true),
        (1, 2, true),
        (1, 1, false),
        (2, 0, false),
        (0, 9, false),
    ] {
        let mut bytes = shb(false, major, minor);
        bytes.extend(idb(false, 1, 0, None, None));
        bytes.extend(epb(false, 0, 5, 42, &udp_packet(b"")));
        let result = CaptureReader::new(Cursor::new(&bytes));
        assert_eq!(result.is_ok(), accepted, "{major}.{minor}");
        if let Err(e) = result {
            assert!(matches!(e, Error::Unsupported { offset: 0, .. }), "{e}");
            assert!(
                e.to_string().contains(&format!("version {major}.{minor}")),
                "{e}"
            );
            // libpcap and tshark refuse the same file.
            let path = scratch(&format!("version-{major}-{minor}.pcapng"), &bytes);
            if let Some(out) = tool("tshark", &["-r", path.to_str().unwrap()]) {
                assert!(!out.status.success(), "tshark read version {major}.{minor}");
            }
            let out = util::run(&["packets", path.to_str().unwrap()]);
            assert_eq!(out.status.code(), Some(2));
            assert!(
                util::stderr(&out).contains("only versions 1.0 and 1.2"),
                "{}",
                util::stderr(&out)
            );
        }
    }
    // A good section with a packet, then a section of version 2.0: the packet is kept and the
    // error names the second section's offset.
    let mut bytes = shb(false, 1, 0);
    bytes.extend(idb(false, 1, 0, None, None));
    bytes.extend(epb(false, 0, 5, 42, &udp_packet(b"")));
    let second = bytes.len();
    bytes.extend(shb(true, 2, 0));
    let (frames, err) = read(&bytes);
    assert_eq!(frames.len(), 1);
    match err {
        Some(Error::Unsupported { offset, reason }) => {
            assert_eq!(offset, second as u64);
            assert!(reason.contains("section 2 has version 2.0"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Issue 15: pcapng interfaces are bounded.

#[test]
fn issue_15_interfaces_per_section_are_capped_and_reported() {
    let mut bytes = shb(false, 1, 0);
    let mut fifth = 0;
    for i in 0..5u16 {
        if i == 4 {
            fifth = bytes.len();
        }
        bytes.extend(idb(false, if i == 4 { 113 } else { 1 }, 0, None, None));
    }
    bytes.extend(epb(false, 4, 7, 16, &[0u8; 16]));
    let limits = |n| Limits {
        max_interfaces: n,
        ..Limits::default()
    };
    let (frames, err) = read_with(&bytes, limits(5));
    assert!(err.is_none(), "{err:?}");
    assert_eq!((frames[0].interface, frames[0].link_type), (4, 113));
    let (frames, err) = read_with(&bytes, limits(4));
    assert!(frames.is_empty());
    match err {
        Some(e @ Error::LimitExceeded { .. }) => {
            let text = e.to_string();
            assert!(text.contains(&format!("byte offset {fifth}")), "{text}");
            assert!(
                text.contains("section 1 describes more than 4 interfaces"),
                "{text}"
            );
        }
        other => panic!("{other:?}"),
    }
    // The cap counts per section: three sections of three interfaces fit a cap of three.
    let mut bytes = Vec::new();
    for s in 0..3u32 {
        bytes.extend(shb(s % 2 == 1, 1, 0));
        for _ in 0..3 {
            bytes.extend(idb(s % 2 == 1, 1, 0, None, None));
        }
        bytes.extend(epb(s % 2 == 1, 2, u64::from(s), 42, &udp_packet(b"")));
    }
    let (frames, err) = read_with(&bytes, limits(3));
    assert!(err.is_none(), "{err:?}");
    let where_: Vec<(u32, u32)> = frames.iter().map(|f| (f.section, f.interface)).collect();
    assert_eq!(where_, [(1, 2), (2, 2), (3, 2)]);
}

#[test]
fn pcapng_timestamps_follow_each_interface_s_resolution_and_offset() {
    // Interface 0: nanoseconds; 1: 2^-20 s with an offset of 1,000 s; 2: default microseconds.
    let mut bytes = shb(true, 1, 0);
    bytes.extend(idb(true, 1, 0, Some(9), None));
    bytes.extend(idb(true, 1, 0, Some(0x80 | 20), Some(1000)));
    bytes.extend(idb(true, 1, 0, None, None));
    let packet = udp_packet(b"t");
    bytes.extend(epb(true, 0, 1_700_000_000_123_456_789, 43, &packet));
    bytes.extend(epb(true, 1, (5u64 << 20) | (1 << 19), 43, &packet));
    bytes.extend(epb(true, 2, 1_700_000_000_654_321, 43, &packet));
    let (frames, err) = read(&bytes);
    assert!(err.is_none(), "{err:?}");
    let got: Vec<(Duration, TsResolution)> = frames
        .iter()
        .map(|f| (f.timestamp, f.ts_resolution))
        .collect();
    assert_eq!(
        got,
        [
            (
                Duration::new(1_700_000_000, 123_456_789),
                TsResolution::NANO
            ),
            (
                Duration::new(1005, 500_000_000),
                TsResolution::PowerOfTwo(20)
            ),
            (
                Duration::new(1_700_000_000, 654_321_000),
                TsResolution::MICRO
            ),
        ]
    );
    if let Some(t) = tshark_fields(
        &scratch("resolutions.pcapng", &bytes),
        &["frame.time_epoch"],
    ) {
        let t: Vec<&str> = t.iter().map(|r| r[0].as_str()).collect();
        assert_eq!(
            t,
            [
                "1700000000.123456789",
                "1005.500000000",
                "1700000000.654321000"
            ]
        );
    }
}

#[test]
fn frames_carry_the_capture_s_timestamp_resolution() {
    for (name, expected) in [
        ("lo-ethernet.pcap", TsResolution::MICRO),
        ("lo-ethernet-be.pcap", TsResolution::MICRO),
        ("lo-nano.pcap", TsResolution::NANO),
        ("lo-dumpcap.pcapng", TsResolution::NANO),
    ] {
        let path = util::fixture(name);
        let (frames, err) = read(&std::fs::read(&path).unwrap());
        assert!(err.is_none(), "{name}: {err:?}");
        assert!(frames.iter().all(|f| f.ts_resolution == expected), "{name}");
        // capinfos names the same precision.
        if let Some(out) = tool("capinfos", &["-M", path.to_str().unwrap()]) {
            let digits = expected.fraction_digits();
            let text = util::stdout(&out);
            assert!(
                text.contains(&format!("seconds ({digits})")),
                "{name}: {text}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Issue 13: writing captures.

#[test]
fn issue_13_pcap_rewritten_whole_is_byte_identical() {
    // tcpdump wrote these (version 2.4, no thiszone/sigfigs, little-endian): writing every
    // frame back must give the same file, byte for byte.
    for name in [
        "lo-ethernet.pcap",
        "lo-nano.pcap",
        "snaplen-64.pcap",
        "any-sll2.pcap",
    ] {
        let input = std::fs::read(util::fixture(name)).unwrap();
        let output = rewrite(&input, FileFormat::Pcap, |_| true).unwrap();
        assert!(output == input, "{name}: rewritten file differs");
    }
    // The big-endian copy comes back little-endian, which fixtures/README.md says is
    // byte-for-byte lo-ethernet.pcap.
    let be = std::fs::read(util::fixture("lo-ethernet-be.pcap")).unwrap();
    let le = std::fs::read(util::fixture("lo-ethernet.pcap")).unwrap();
    assert!(rewrite(&be, FileFormat::Pcap, |_| true).unwrap() == le);
}

#[test]
fn issue_13_selected_frames_round_trip_through_pcapng_and_pcap() {
    for name in [
        "multi-if.pcapng",
        "lo-nano.pcap",
        "lo-ethernet.pcap",
        "lo-dumpcap.pcapng",
    ] {
        let input = std::fs::read(util::fixture(name)).unwrap();
        let (frames, err) = read(&input);
        assert!(err.is_none());
        let odd = |n: u64| !n.is_multiple_of(3);
        let selected: Vec<&Owned> = frames.iter().filter(|f| odd(f.number)).collect();
        let formats: &[FileFormat] = if name == "multi-if.pcapng" {
            &[FileFormat::PcapNg]
        } else {
            &[FileFormat::PcapNg, FileFormat::Pcap]
        };
        for &format in formats {
            let output = rewrite(&input, format, odd).unwrap();
            let (back, err) = read(&output);
            assert!(err.is_none(), "{name} {format:?}: {err:?}");
            assert_eq!(back.len(), selected.len(), "{name} {format:?}");
            for (b, s) in back.iter().zip(&selected) {
                assert_eq!(b.data, s.data, "{name} {format:?} frame {}", s.number);
                assert_eq!(
                    b.timestamp, s.timestamp,
                    "{name} {format:?} frame {}",
                    s.number
                );
                assert_eq!(
                    (b.link_type, b.interface, b.original_len, b.ts_resolution),
                    (s.link_type, s.interface, s.original_len, s.ts_resolution),
                    "{name} {format:?} frame {}",
                    s.number
                );
            }
            check_with_pcap_file(&output, &selected, format);
            // tshark sees the same times, lengths, interfaces and link types in both files.
            let fields = [
                "frame.time_epoch",
                "frame.len",
                "frame.cap_len",
                "frame.interface_id",
                "frame.encap_type",
            ];
            let path_in = util::fixture(name);
            let path_out = scratch(&format!("rewritten-{name}.{format:?}"), &output);
            if let (Some(t_in), Some(t_out)) = (
                tshark_fields(&path_in, &fields),
                tshark_fields(&path_out, &fields),
            ) {
                let mut t_in: Vec<Vec<String>> = t_in
                    .into_iter()
                    .enumerate()
                    .filter(|(i, _)| odd(*i as u64 + 1))
                    .map(|(_, r)| r)
                    .collect();
                let mut t_out = t_out;
                if format == FileFormat::Pcap || name.ends_with(".pcap") {
                    // pcap has no interfaces: tshark leaves frame.interface_id empty there.
                    for r in t_in.iter_mut().chain(t_out.iter_mut()) {
                        r[3].clear();
                    }
                }
                assert_eq!(t_in, t_out, "{name} {format:?}: tshark differs");
            }
        }
    }
}

/// Reads `output` with pcap-file (an independent implementation) and compares raw fields: the
/// bytes, the wire length and the raw timestamp at the declared resolution.
fn check_with_pcap_file(output: &[u8], selected: &[&Owned], format: FileFormat) {
    match format {
        FileFormat::Pcap => {
            let mut r = pcap_file::pcap::PcapReader::new(Cursor::new(output)).unwrap();
            let mut i = 0;
            while let Some(p) = r.next_raw_packet() {
                let p = p.unwrap();
                let s = selected[i];
                i += 1;
                assert_eq!(&p.data[..], &s.data[..]);
                assert_eq!(p.orig_len, s.original_len);
                let frac = if s.ts_resolution == TsResolution::NANO {
                    s.timestamp.subsec_nanos()
                } else {
                    s.timestamp.subsec_micros()
                };
                assert_eq!(
                    (u64::from(p.ts_sec), p.ts_frac),
                    (s.timestamp.as_secs(), frac)
                );
            }
            assert_eq!(i, selected.len());
        }
        FileFormat::PcapNg => {
            use pcap_file::pcapng::Block;
            use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionOption;
            let mut r = pcap_file::pcapng::PcapNgReader::new(Cursor::new(output)).unwrap();
            let mut per_second = Vec::new();
            let mut i = 0;
            while let Some(block) = r.next_block() {
                match block.unwrap() {
                    Block::InterfaceDescription(idb) => {
                        let mut resol = 6u8;
                        for o in &idb.options {
                            if let InterfaceDescriptionOption::IfTsResol(v) = o {
                                resol = *v;
                            }
                        }
                        assert!(resol < 0x80, "power-of-ten resolutions in these fixtures");
                        per_second.push(10u128.pow(u32::from(resol)));
                    }
                    Block::EnhancedPacket(p) => {
                        let s = selected[i];
                        i += 1;
                        assert_eq!(&p.data[..], &s.data[..]);
                        assert_eq!(p.original_len, s.original_len);
                        // pcap-file gives the raw tick count as nanoseconds.
                        let ticks = p.timestamp.as_nanos();
                        let per = per_second[p.interface_id as usize];
                        assert_eq!(ticks * 1_000_000_000 / per, s.timestamp.as_nanos());
                    }
                    _ => {}
                }
            }
            assert_eq!(i, selected.len());
        }
    }
}

#[test]
fn issue_13_pcapng_sections_merge_into_one_with_every_interface() {
    let Some(public) = util::public_corpus() else {
        eprintln!("skipped: ../shared/captures/public is not present");
        return;
    };
    // Three sections, Ethernet and NULL interfaces.
    for name in [
        "gopacket-test202.pcapng",
        "zeek-pcapng-multi-interface.pcapng",
        "gopacket-be-test001.pcapng",
    ] {
        let input = std::fs::read(public.join(name)).unwrap();
        let (frames, err) = read(&input);
        assert!(err.is_none(), "{name}: {err:?}");
        let output = rewrite(&input, FileFormat::PcapNg, |_| true).unwrap();
        let (back, err) = read(&output);
        assert!(err.is_none(), "{name}: {err:?}");
        assert_eq!(back.len(), frames.len());
        for (b, f) in back.iter().zip(&frames) {
            assert_eq!(
                (&b.data, b.timestamp, b.link_type, b.original_len, b.section),
                (&f.data, f.timestamp, f.link_type, f.original_len, 1),
                "{name} frame {}",
                f.number
            );
        }
        // capinfos counts the same packets, and every link type survives.
        let path = scratch(&format!("merged-{name}"), &output);
        if let Some(out) = tool("capinfos", &["-c", "-M", path.to_str().unwrap()]) {
            let text = util::stdout(&out);
            assert!(
                text.contains(&format!("Number of packets:   {}", frames.len())),
                "{text}"
            );
        }
    }
}

#[test]
fn issue_13_a_pcap_holds_one_link_type_and_says_so() {
    let input = std::fs::read(util::fixture("multi-if.pcapng")).unwrap();
    let err = rewrite(&input, FileFormat::Pcap, |_| true).unwrap_err();
    match &err {
        Error::NotWritable { frame, reason } => {
            // fixtures/README.md: each packet appears twice, once per interface; the first
            // frame on interface 1 (SLL2) is the one refused.
            let (frames, _) = read(&input);
            let first_sll2 = frames.iter().find(|f| f.interface == 1).unwrap().number;
            assert_eq!(frame.0, first_sll2);
            assert!(reason.contains("write pcapng to keep both"), "{reason}");
        }
        other => panic!("{other}"),
    }
    // Nothing declared and nothing written: an empty Ethernet pcap another reader accepts.
    let out = Writer::create(Vec::new(), FileFormat::Pcap, &[])
        .unwrap()
        .finish()
        .unwrap();
    let r = pcap_file::pcap::PcapReader::new(Cursor::new(&out)).unwrap();
    assert_eq!(u32::from(r.header().datalink), 1);
    assert_eq!(out.len(), 24);
}

#[test]
fn issue_13_writer_keeps_fine_and_binary_resolutions_exactly() {
    // Built here: nanoseconds, and 2^-20 s with a negative offset on a raw-IP interface.
    let mut bytes = shb(false, 1, 0);
    bytes.extend(idb(false, 1, 0, Some(9), None));
    bytes.extend(idb(false, 101, 1500, Some(0x80 | 20), Some(-100)));
    let packet = udp_packet(b"x");
    bytes.extend(epb(false, 0, 1_700_000_000_000_000_001, 43, &packet));
    bytes.extend(epb(
        false,
        1,
        (1_700_000_000u64 << 20) | 12_345,
        43,
        &packet[14..],
    ));
    let (frames, err) = read(&bytes);
    assert!(err.is_none(), "{err:?}");
    let out = rewrite(&bytes, FileFormat::PcapNg, |_| true).unwrap();
    let (back, err) = read(&out);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(back, frames);
    let interfaces = CaptureReader::new(Cursor::new(&out))
        .unwrap()
        .interfaces()
        .to_vec();
    assert_eq!(
        interfaces,
        [
            Interface {
                link_type: LinkType::Ethernet,
                snaplen: 0,
                ts_resolution: TsResolution::NANO,
                ts_offset_secs: 0
            },
            Interface {
                link_type: LinkType::RawIp,
                snaplen: 1500,
                ts_resolution: TsResolution::PowerOfTwo(20),
                ts_offset_secs: 0
            },
        ]
    );
    // Into pcap (one link type): the Ethernet frame alone, with nanosecond magic.
    let out = rewrite(&bytes, FileFormat::Pcap, |n| n == 1).unwrap();
    assert_eq!(&out[..4], &0xa1b2_3c4du32.to_le_bytes());
    let (back, _) = read(&out);
    assert_eq!(back[0].timestamp, Duration::new(1_700_000_000, 1));
}

/// Mutated captures (bit flips, overwritten bytes and length fields, cuts): reading never
/// panics, and whatever frames were read write back and read again identically.
#[test]
fn mutated_captures_read_without_panic_and_write_back_identically() {
    let mut state: u64 = 0x1234_5678_9abc_def1;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut inputs: Vec<Vec<u8>> = [
        "multi-if.pcapng",
        "lo-dumpcap.pcapng",
        "lo-nano.pcap",
        "any-sll.pcap",
    ]
    .iter()
    .map(|n| std::fs::read(util::fixture(n)).unwrap())
    .collect();
    let mut m = pcap_header(0xa1b2_cd34, true, 65535, 1);
    m.extend(pcap_record(true, 5, 6, 50, &udp_packet(b"abc"), true));
    m.extend(pcap_record(true, 5, 6, 50, &udp_packet(b"abcdef"), true));
    inputs.push(m);
    let mut ng = shb(true, 1, 0);
    ng.extend(idb(true, 1, 0, Some(0x80 | 20), Some(-3)));
    ng.extend(idb(true, 276, 100, Some(3), None));
    ng.extend(epb(true, 0, 1 << 40, 50, &udp_packet(b"x")));
    ng.extend(epb(true, 1, 1 << 40, 50, &udp_packet(b"x")));
    ng.extend(shb(false, 1, 2));
    ng.extend(idb(false, 101, 0, None, None));
    ng.extend(epb(false, 0, 77, 50, &udp_packet(b"x")[14..]));
    inputs.push(ng);
    let mut checked = 0;
    for round in 0..3_000 {
        let original = &inputs[round % inputs.len()];
        let mut bytes = original.clone();
        let k = next() % 4;
        for _ in 0..k {
            let r = next();
            let at = (r as usize) % bytes.len();
            match r >> 62 {
                0 => bytes[at] ^= 1 << ((r >> 8) % 8),
                1 => bytes[at] = (r >> 16) as u8,
                2 => bytes.truncate(at),
                _ => {
                    if at + 4 <= bytes.len() {
                        bytes[at..at + 4].copy_from_slice(&((r >> 20) as u32 % 4096).to_le_bytes());
                    }
                }
            }
            if bytes.is_empty() {
                break;
            }
        }
        let (frames, _err) = read(&bytes);
        if frames.is_empty() {
            continue;
        }
        // Write what was read, read it back.
        let interfaces = CaptureReader::new(Cursor::new(&bytes))
            .unwrap()
            .interfaces()
            .to_vec();
        for format in [FileFormat::PcapNg, FileFormat::Pcap] {
            let mut reader2 = CaptureReader::new(Cursor::new(&bytes)).unwrap();
            let Ok(mut w) = Writer::create(Vec::new(), format, &interfaces) else {
                continue;
            };
            let mut ok = true;
            while let Some(Ok(f)) = reader2.next_frame() {
                if w.write(&f).is_err() {
                    ok = false;
                    break;
                }
            }
            let out = w.finish().unwrap();
            if !ok {
                continue;
            }
            let (back, err) = read(&out);
            assert!(err.is_none(), "{format:?} {err:?}");
            assert_eq!(back.len(), frames.len());
            for (b, f) in back.iter().zip(&frames) {
                assert_eq!(b.data, f.data);
                assert_eq!(b.original_len, f.original_len);
                if format == FileFormat::PcapNg {
                    assert_eq!(b.timestamp, f.timestamp, "round {round}");
                    assert_eq!(b.link_type, f.link_type);
                }
            }
            checked += 1;
        }
    }
    assert!(checked > 1_000, "{checked} round trips");
}
