//! Unit tests of the filter language: semantics on hand-made field sets, error columns, no
//! panic on any input, no allocation while evaluating.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use proptest::prelude::*;

use super::*;
use crate::capture::{Frame, FrameNumber, LinkType};
use crate::flow::tcp::StreamId;

/// A packet given as a list of field occurrences.
struct Fake(Vec<(FieldId, Value<'static>)>);

impl FieldSource for Fake {
    fn visit(&self, field: FieldId, out: &mut dyn FnMut(Value<'_>)) {
        for (id, v) in &self.0 {
            if *id == field {
                out(*v);
            }
        }
    }
}

fn v4(a: u8, b: u8, c: u8, d: u8) -> Value<'static> {
    Value::Ipv4(Ipv4Addr::new(a, b, c, d))
}

/// An IPv4/TCP packet from 10.0.0.1:1234 to 192.168.1.7:80 with SYN set, 64 ttl, a payload.
fn tcp_packet() -> Fake {
    use FieldId as F;
    Fake(vec![
        (F::Frame, Value::Bytes(b"....GET /index.html HTTP/1.1\r\n")),
        (F::FrameNumber, Value::UInt(3)),
        (F::FrameTimeRelative, Value::TimeNanos(1_500_000_000)),
        (F::Eth, Value::Bytes(b"")),
        (F::EthSrc, Value::Ether([0, 0x24, 0x7e, 0xe0, 0x1d, 0xb5])),
        (F::Ip, Value::Bytes(b"")),
        (F::IpSrc, v4(10, 0, 0, 1)),
        (F::IpDst, v4(192, 168, 1, 7)),
        (F::IpAddr, v4(10, 0, 0, 1)),
        (F::IpAddr, v4(192, 168, 1, 7)),
        (F::IpTtl, Value::UInt(64)),
        (F::IpFlagsMf, Value::Bool(false)),
        (F::Tcp, Value::Bytes(b"GET /index.html HTTP/1.1\r\n")),
        (F::TcpPort, Value::UInt(1234)),
        (F::TcpPort, Value::UInt(80)),
        (F::TcpSrcport, Value::UInt(1234)),
        (F::TcpDstport, Value::UInt(80)),
        (F::TcpFlags, Value::UInt(0x018)),
        (F::TcpFlagsSyn, Value::Bool(false)),
        (F::TcpFlagsAck, Value::Bool(true)),
        (F::TcpPayload, Value::Bytes(b"GET /index.html HTTP/1.1\r\n")),
        (F::OsiLayer, Value::UInt(1)),
        (F::OsiLayer, Value::UInt(2)),
        (F::OsiLayer, Value::UInt(3)),
        (F::OsiLayer, Value::UInt(4)),
        (F::OsiLayer, Value::UInt(7)),
        (F::HttpRequestMethod, Value::Bytes(b"GET")),
        (F::Ipv6Addr, Value::Ipv6(Ipv6Addr::LOCALHOST)),
    ])
}

fn check(filter: &str, packet: &Fake) -> bool {
    Filter::compile(filter)
        .unwrap_or_else(|e| panic!("{filter}: {e}"))
        .matches(packet)
}

fn error(filter: &str) -> FilterError {
    match Filter::compile(filter) {
        Ok(_) => panic!("{filter} compiled"),
        Err(e) => e,
    }
}

#[test]
fn presence_of_fields_and_protocols() {
    let p = tcp_packet();
    assert!(check("tcp", &p));
    assert!(check("ip.src", &p));
    assert!(!check("udp", &p));
    assert!(check("!udp", &p));
    assert!(check("not udp", &p));
    assert!(!check("tftp", &p));
    // A flag field is present whatever its value, as in Wireshark.
    assert!(check("tcp.flags.syn", &p));
}

#[test]
fn equality_on_multi_occurrence_fields_follows_wireshark_4() {
    let p = tcp_packet();
    // `==` is any, `!=` is all-not-equal, `===` all, `!==` any-not-equal.
    assert!(check("ip.addr == 10.0.0.1", &p));
    assert!(check("ip.addr eq 192.168.1.7", &p));
    assert!(!check("ip.addr != 10.0.0.1", &p));
    assert!(!check("ip.addr ne 10.0.0.1", &p));
    assert!(check("ip.addr != 10.0.0.2", &p));
    assert!(!check("ip.addr === 10.0.0.1", &p));
    assert!(check("ip.addr !== 10.0.0.1", &p));
    assert!(check("any ip.addr != 10.0.0.1", &p));
    assert!(!check("all ip.addr == 10.0.0.1", &p));
    assert!(check("all tcp.port > 79", &p));
    assert!(!check("all tcp.port > 80", &p));
    assert!(check("tcp.port > 1000", &p));
    // Absent fields fail every comparison, `!=` included.
    assert!(!check("udp.port != 53", &p));
    assert!(check("!(udp.port == 53)", &p));
}

#[test]
fn every_comparison_operator() {
    let p = tcp_packet();
    for (f, want) in [
        ("ip.ttl == 64", true),
        ("ip.ttl != 64", false),
        ("ip.ttl > 63", true),
        ("ip.ttl gt 64", false),
        ("ip.ttl < 65", true),
        ("ip.ttl lt 64", false),
        ("ip.ttl >= 64", true),
        ("ip.ttl ge 65", false),
        ("ip.ttl <= 64", true),
        ("ip.ttl le 63", false),
        ("ip.ttl == 0x40", true),
        ("ip.ttl == 0100", true),
        ("ip.ttl == 0b1000000", true),
        ("ip.ttl == '@'", true),
        ("ip.ttl == -1", false),
        ("ip.ttl != -1", true),
    ] {
        assert_eq!(check(f, &p), want, "{f}");
    }
}

#[test]
fn not_binds_tighter_than_and_then_or() {
    let p = tcp_packet();
    // !a && b || c with a = udp (false), b = tcp (true), c = icmp (false).
    assert!(check("!udp && tcp || icmp", &p));
    assert!(!check("!tcp && tcp || icmp", &p));
    assert!(check("!tcp && udp || tcp", &p));
    assert!(!check("!(udp || tcp) && tcp", &p));
    assert!(check("tcp and not udp or icmp", &p));
    assert!(!check("not tcp or udp and tcp", &p));
}

#[test]
fn sets_and_ranges() {
    let p = tcp_packet();
    assert!(check("tcp.port in {80, 443}", &p));
    assert!(check("tcp.port in {80 443}", &p));
    assert!(check("tcp.port in {1000..2000}", &p));
    assert!(check("tcp.port in {1..79, 81..90, 0x50}", &p));
    assert!(!check("tcp.port in {1..79, 81..90}", &p));
    assert!(!check("tcp.port not in {80}", &p));
    assert!(check("udp.port not in {53}", &p));
    assert!(check("ip.addr in {10.0.0.0/8}", &p));
    assert!(check("ip.src in {10.0.0.0 .. 10.0.0.5}", &p));
    assert!(check("http.request.method in {\"POST\", \"GET\"}", &p));
    assert!(check("frame.time_relative in {1 .. 2}", &p));
    assert!(check("tcp.srcport in {tcp.dstport, 1234}", &p));
}

#[test]
fn cidr_subnets_on_addresses() {
    let p = tcp_packet();
    assert!(check("ip.addr == 10.0.0.0/8", &p));
    assert!(check("ip.dst == 192.168.0.0/16", &p));
    assert!(!check("ip.src == 192.168.0.0/16", &p));
    assert!(check("ip.src == 0.0.0.0/0", &p));
    assert!(check("ip.dst > 10.0.0.0/8", &p));
    assert!(check("ipv6.addr == ::1", &p));
    assert!(check("ipv6.addr == ::/64", &p));
    assert!(!check("ipv6.addr == fe80::/10", &p));
}

#[test]
fn strings_bytes_contains_and_matches() {
    let p = tcp_packet();
    assert!(check("tcp contains \"GET\"", &p));
    assert!(check("frame contains 47:45:54", &p));
    assert!(check("tcp.payload contains 0d:0a", &p));
    assert!(check("tcp.payload contains 0x0a", &p));
    assert!(!check("tcp contains \"POST\"", &p));
    assert!(check("http.request.method == \"GET\"", &p));
    assert!(check("http.request.method == GET", &p));
    assert!(check("http.request.method == \"\\x47ET\"", &p));
    assert!(check("http.request.method == \"\\107ET\"", &p));
    assert!(check("http.request.method == r\"GET\"", &p));
    assert!(!check("http.request.method == \"get\"", &p));
    assert!(check("http.request.method > \"F\"", &p));
    assert!(check("http.request.method contains \"E\"", &p));
    assert!(check("http.request.method matches \"^g\"", &p));
    assert!(check("http.request.method ~ \"et$\"", &p));
    assert!(!check("http.request.method matches \"(?-i)^g\"", &p));
    assert!(check("frame matches \"get /[a-z]+\\\\.html\"", &p));
    assert!(check("eth.src == 00:24:7e:e0:1d:b5", &p));
    assert!(check("eth.src == 00-24-7e-e0-1d-b5", &p));
    assert!(check("eth.src == 00.24.7e.e0.1d.b5", &p));
    assert!(check("eth.src contains 7e:e0", &p));
}

#[test]
fn booleans_masks_and_field_comparisons() {
    let p = tcp_packet();
    assert!(check("tcp.flags.ack == 1", &p));
    assert!(check("tcp.flags.ack == True", &p));
    assert!(check("tcp.flags.ack == 2", &p));
    assert!(check("tcp.flags.syn == 0", &p));
    assert!(check("tcp.flags.syn == FALSE", &p));
    assert!(!check("tcp.flags.syn == 1", &p));
    assert!(check("tcp.flags & 0x10", &p));
    assert!(!check("tcp.flags & 0x02", &p));
    assert!(check("tcp.flags & 0x12 == 0x10", &p));
    assert!(check("tcp.flags bitwise_and 0x08", &p));
    assert!(check("tcp.flags == 0x018", &p));
    assert!(!check("tcp.srcport == tcp.dstport", &p));
    assert!(check("tcp.port == tcp.dstport", &p));
    assert!(check("tcp.srcport > tcp.dstport", &p));
    assert!(check("tcp.flags.ack != tcp.flags.syn", &p));
    assert!(check("osi.layer == 7", &p));
    assert!(!check("osi.layer == 5", &p));
    assert!(check("frame.time_relative > 1.4999", &p));
    assert!(check("frame.time_relative == 1.5", &p));
    assert!(!check("frame.time_relative < 1.5", &p));
}

#[test]
fn needs_annotations_is_set_by_engine_fields_only() {
    assert!(
        !Filter::compile("tcp.port == 80 && osi.layer == 7")
            .unwrap()
            .needs_annotations()
    );
    assert!(
        Filter::compile("tcp.stream == 0")
            .unwrap()
            .needs_annotations()
    );
    assert!(Filter::compile("tcp || tftp").unwrap().needs_annotations());
    assert!(
        Filter::compile("frame.len == tcp.seq")
            .unwrap()
            .needs_annotations()
    );
}

#[test]
fn annotations_answer_engine_fields() {
    let http = [
        HttpAnnotation {
            bytes: b"GET / HTTP/1.1\r\nHost: example.org\r\n\r\n",
            method: Some(b"GET"),
            uri: Some(b"/"),
            version: Some(b"HTTP/1.1"),
            host: Some(b"example.org"),
            ..HttpAnnotation::default()
        },
        HttpAnnotation {
            bytes: b"HTTP/1.1 404 Not Found\r\n\r\n",
            status: Some(404),
            phrase: Some(b"Not Found"),
            ..HttpAnnotation::default()
        },
    ];
    let a = Annotations {
        tcp: Some(TcpAnnotation {
            stream: StreamId(2),
            seq: 1,
            ack: 1,
            next_seq: Some(40),
            window_size: Some(65535),
            analysis: TcpAnalysis {
                retransmission: true,
                ..TcpAnalysis::default()
            },
        }),
        tftp: None,
        http: &http,
    };
    let both = (tcp_packet(), &a);
    for (f, want) in [
        ("tcp.stream == 2", true),
        ("tcp.stream in {0, 1}", false),
        ("tcp.seq == 1 && tcp.ack == 1 && tcp.nxtseq == 40", true),
        ("tcp.window_size > 60000", true),
        ("tcp.analysis.retransmission", true),
        ("tcp.analysis.flags", true),
        ("tcp.analysis.duplicate_ack", false),
        ("http", true),
        ("http.request && http.response", true),
        ("http.response.code >= 400", true),
        ("http.host matches \"EXAMPLE\"", true),
        ("http.request.uri == \"/\"", true),
        ("http contains \"Not Found\"", true),
        ("tftp", false),
        ("tcp.port == 80 && tcp.stream == 2", true),
    ] {
        assert_eq!(check(f, &tcp_packet_with(&both)), want, "{f}");
    }
    let tftp = Annotations {
        tftp: Some(TftpAnnotation {
            bytes: b"\x00\x01a.txt\x00octet\x00",
            opcode: 1,
            source_file: Some(b"a.txt"),
            mode: Some(b"octet"),
            ..TftpAnnotation::default()
        }),
        ..Annotations::default()
    };
    for (f, want) in [
        ("tftp", true),
        ("tftp.opcode == 1", true),
        ("tftp.source_file contains \"txt\"", true),
        ("tftp.type == \"octet\"", true),
        ("tftp.destination_file", false),
        ("tftp.block", false),
        ("tcp.stream", false),
    ] {
        assert_eq!(check(f, &Fake(flatten(&tftp))), want, "{f}");
    }
}

/// The occurrences of every field from any source, as a `Fake` (to reuse `check`).
fn flatten(src: &impl FieldSource) -> Vec<(FieldId, Value<'static>)> {
    let mut out = Vec::new();
    for info in FIELDS {
        src.visit(info.id, &mut |v| {
            // Leak the bytes: test-only, keeps `Fake` simple.
            let v = match v {
                Value::Bytes(b) => Value::Bytes(Box::leak(b.to_vec().into_boxed_slice())),
                Value::UInt(n) => Value::UInt(n),
                Value::Bool(b) => Value::Bool(b),
                Value::Ipv4(a) => Value::Ipv4(a),
                Value::Ipv6(a) => Value::Ipv6(a),
                Value::Ether(m) => Value::Ether(m),
                Value::TimeNanos(t) => Value::TimeNanos(t),
                Value::Present => Value::Present,
            };
            out.push((info.id, v));
        });
    }
    out
}

fn tcp_packet_with(src: &impl FieldSource) -> Fake {
    Fake(flatten(src))
}

#[test]
fn errors_name_the_column_of_the_bad_token() {
    let e = error("tcp.port == 80 && tcp.prot == 1");
    assert_eq!(
        e.to_string(),
        "filter: column 19: unknown field \"tcp.prot\"; did you mean \"tcp.port\"?"
    );
    let e = error("tcp.flags.rst == 1");
    assert_eq!(
        e.to_string(),
        "filter: column 1: unknown field \"tcp.flags.rst\"; did you mean \"tcp.flags.reset\"?"
    );
    assert_eq!(
        error("xyzzy").to_string(),
        "filter: column 1: unknown field \"xyzzy\""
    );
    assert_eq!(
        error("tcp.port == 70000").to_string(),
        "filter: column 13: 70000 is too big for tcp.port, maximum 65535"
    );
    assert_eq!(
        error("ip.src == 10.0.0").to_string(),
        "filter: column 11: \"10.0.0\" is not an IPv4 address (the type of ip.src)"
    );
    assert_eq!(
        error("ip.src == 10.0.0.0/33").to_string(),
        "filter: column 11: \"10.0.0.0/33\" is not an IPv4 address (the type of ip.src)"
    );
    assert_eq!(
        error("tcp.port contains 80").to_string(),
        "filter: column 1: tcp.port (an unsigned integer) cannot be used with contains"
    );
    assert_eq!(
        error("tcp.analysis.flags == 1").to_string(),
        "filter: column 1: tcp.analysis.flags (a label) cannot be used with =="
    );
    assert_eq!(
        error("tcp.port == ip.src").to_string(),
        "filter: column 13: tcp.port (an unsigned integer) cannot be compared with ip.src (an IPv4 address)"
    );
    assert_eq!(
        error("tcp.port == 80 and").to_string(),
        "filter: column 19: expected a field or protocol name, found end of filter"
    );
    assert_eq!(
        error("tcp.port == 80 AND tcp").to_string(),
        "filter: column 16: expected \"&&\", \"||\" or the end of the filter, found \"AND\""
    );
    assert_eq!(
        error("(tcp.port == 80").to_string(),
        "filter: column 16: expected \")\", found end of filter"
    );
    assert_eq!(
        error("80 == tcp.port").to_string(),
        "filter: column 1: the left side of a test must be a field, not \"80\""
    );
    assert_eq!(
        error("http.host matches \"(\"")
            .to_string()
            .split(':')
            .next(),
        Some("filter")
    );
    assert_eq!(error("http.host matches \"(\"").column(), 19);
    assert_eq!(error("http.host matches host").column(), 19);
    assert_eq!(
        error("http.host == \"abc").to_string(),
        "filter: column 14: unterminated string"
    );
    assert_eq!(error("frame.number == 1.5").column(), 17);
    assert_eq!(
        error("frame.number == 99999999999999999999999999999999999999999999").to_string(),
        "filter: column 17: 99999999999999999999999999999999999999999999 is too big for \
         frame.number, maximum 4294967295"
    );
    assert_eq!(error("ip.src == \"1.2.3.4\"").column(), 11);
    assert_eq!(error("tcp.flags.syn == maybe").column(), 18);
    assert_eq!(error("tcp.port in {80..tcp.port}").column(), 18);
    assert_eq!(error("ip.src & 0xff").column(), 1);
    // Columns count characters, not bytes.
    assert_eq!(error("http.host == \"é\" && bogus").column(), 21);
}

#[test]
fn regex_matches_bytes_that_are_not_utf8() {
    let p = Fake(vec![(FieldId::Frame, Value::Bytes(b"\xff\xfeab"))]);
    assert!(check("frame matches \"^..AB$\"", &p));
    assert!(check("frame contains \"\\xffb\"", &p) || check("frame contains ff:fe", &p));
}

#[test]
fn display_and_from_str_keep_the_text() {
    let f: Filter = "tcp.port == 80".parse().unwrap();
    assert_eq!(f.to_string(), "tcp.port == 80");
    assert_eq!(f.as_str(), "tcp.port == 80");
}

#[test]
fn module_doc_lists_every_field() {
    let doc = include_str!("mod.rs");
    for info in FIELDS {
        assert!(
            doc.contains(&format!("`{}`", info.name)),
            "{} is missing from the module documentation",
            info.name
        );
    }
}

/// An Ethernet/IPv4/TCP frame: 10.0.0.1:1234 → 192.168.1.7:80, PSH+ACK, "GET / HTTP/1.1\r\n".
fn real_frame() -> Vec<u8> {
    let payload = b"GET / HTTP/1.1\r\n";
    let mut f = vec![
        0x00, 0x11, 0x22, 0x33, 0x44, 0x55, // eth dst
        0x00, 0x24, 0x7e, 0xe0, 0x1d, 0xb5, // eth src
        0x08, 0x00, // ether type IPv4
        0x45, 0x00, // version/ihl, dscp
        0x00, 0x00, // total length (set below)
        0x12, 0x34, 0x40, 0x00, // id, DF
        0x40, 0x06, 0x00, 0x00, // ttl 64, proto TCP, checksum
        10, 0, 0, 1, // src
        192, 168, 1, 7, // dst
        0x04, 0xd2, 0x00, 0x50, // ports 1234 → 80
        0x00, 0x00, 0x00, 0x01, // seq
        0x00, 0x00, 0x00, 0x02, // ack
        0x50, 0x18, 0xff, 0xff, // data offset 5, PSH+ACK, window
        0x00, 0x00, 0x00, 0x00, // checksum, urgent
    ];
    f.extend_from_slice(payload);
    let total = (f.len() - 14) as u16;
    f[16..18].copy_from_slice(&total.to_be_bytes());
    f
}

fn real_packet(data: &[u8]) -> crate::decode::Packet<'_> {
    let frame = Frame {
        number: FrameNumber(7),
        timestamp: Duration::from_millis(2500),
        link_type: LinkType::Ethernet,
        interface: 0,
        original_len: data.len() as u32,
        big_endian_file: false,
        data,
        section: 1,
        ts_resolution: crate::capture::TsResolution::MICRO,
        snaplen: 0,
    };
    crate::decode::decode(&frame)
}

#[test]
fn packet_fields_read_the_decoded_headers() {
    let data = real_frame();
    let packet = real_packet(&data);
    let fields = PacketFields::new(&packet, Duration::from_secs(1));
    let f = |text: &str| Filter::compile(text).unwrap().matches(&fields);
    for text in [
        "frame.number == 7",
        "frame.len == 70 && frame.cap_len == 70",
        "frame.time_relative == 1.5",
        "eth.src == 00:24:7e:e0:1d:b5 && eth.addr == 00:11:22:33:44:55",
        "eth.type == 0x0800",
        "ip.src == 10.0.0.1 && ip.dst == 192.168.1.7 && ip.proto == 6",
        "ip.ttl == 64 && ip.flags.df && ip.flags.df == 1 && ip.flags.mf == 0",
        "ip.len == 56 && ip.id == 0x1234 && ip.hdr_len == 20 && ip.frag_offset == 0",
        "tcp.srcport == 1234 && tcp.dstport == 80 && tcp.port == 80",
        "tcp.flags == 0x018 && tcp.flags.push == 1 && tcp.flags.ack == 1 && tcp.flags.syn == 0",
        "tcp.len == 16 && tcp.seq_raw == 1 && tcp.ack_raw == 2 && tcp.hdr_len == 20",
        "tcp.window_size_value == 65535 && tcp.urgent_pointer == 0",
        "tcp.payload == \"GET / HTTP/1.1\\r\\n\"",
        "tcp contains \"GET\" && ip contains \"GET\" && eth contains \"GET\"",
        "frame contains 47:45:54",
        "osi.layer == 1 && osi.layer == 2 && osi.layer == 3 && osi.layer == 4 && osi.layer == 7",
        "!udp && !ipv6 && !arp && !vlan && !icmp",
    ] {
        assert!(f(text), "{text}");
    }
    assert!(!f("tcp.stream == 0"));
}

#[test]
fn truncated_frames_answer_what_was_captured() {
    let data = real_frame();
    for n in 0..data.len() {
        let packet = real_packet(&data[..n]);
        let fields = PacketFields::new(&packet, Duration::ZERO);
        let every = FIELDS
            .iter()
            .map(|f| format!("{} || ", f.name))
            .collect::<String>()
            + "frame";
        // No panic whatever is missing, and the frame is always there.
        assert!(Filter::compile(&every).unwrap().matches(&fields));
        assert!(
            Filter::compile("frame.cap_len == frame.len")
                .unwrap()
                .matches(&fields)
        );
    }
}

// Allocation counting for the no-allocation test. Counts per thread, so other tests running in
// parallel do not disturb it.
mod counting {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    thread_local! {
        static COUNT: Cell<usize> = const { Cell::new(0) };
    }

    pub struct Counting;

    // SAFETY: delegates every call to the system allocator unchanged.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            COUNT.with(|c| c.set(c.get() + 1));
            // SAFETY: same contract as the caller's.
            unsafe { System.alloc(layout) }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: same contract as the caller's.
            unsafe { System.dealloc(ptr, layout) }
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            COUNT.with(|c| c.set(c.get() + 1));
            // SAFETY: same contract as the caller's.
            unsafe { System.realloc(ptr, layout, new_size) }
        }
    }

    pub fn count() -> usize {
        COUNT.with(Cell::get)
    }
}

#[global_allocator]
static ALLOCATOR: counting::Counting = counting::Counting;

#[test]
fn evaluation_allocates_nothing() {
    let data = real_frame();
    let packet = real_packet(&data);
    let http = [HttpAnnotation {
        method: Some(b"GET"),
        host: Some(b"example.org"),
        ..HttpAnnotation::default()
    }];
    let annotations = Annotations {
        tcp: Some(TcpAnnotation::default()),
        tftp: None,
        http: &http,
    };
    let filter = Filter::compile(
        "(ip.addr in {10.0.0.0/8, 172.16.0.0/12} && tcp.port in {80, 8000..8080}) \
         && !(ip.addr == 1.2.3.4) && tcp contains \"GET\" && frame matches \"get / http\" \
         && tcp.flags & 0x18 == 0x18 && tcp.srcport > tcp.dstport && osi.layer == 7 \
         && http.request.method == \"GET\" && http.host ~ \"example\" && tcp.stream == 0 \
         && all tcp.port != 443 && frame.time_relative >= 0",
    )
    .unwrap();
    let fields = PacketFields::new(&packet, Duration::ZERO);
    let source = (fields, &annotations);
    assert!(filter.matches(&source));
    let before = counting::count();
    for _ in 0..1000 {
        assert!(filter.matches(&source));
    }
    assert_eq!(
        counting::count() - before,
        0,
        "allocations while evaluating"
    );
}

/// Pieces of filters, so that random combinations reach deep into the grammar.
fn token() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "tcp",
        "tcp.port",
        "ip.addr",
        "eth.src",
        "frame",
        "http.host",
        "tcp.flags",
        "osi.layer",
        "frame.time_relative",
        "tcp.stream",
        "==",
        "!=",
        "===",
        "!==",
        ">",
        "<=",
        "eq",
        "ne",
        "&&",
        "||",
        "!",
        "and",
        "or",
        "not",
        "in",
        "not in",
        "contains",
        "matches",
        "~",
        "&",
        "any",
        "all",
        "(",
        ")",
        "{",
        "}",
        ",",
        "..",
        "80",
        "0x50",
        "-1",
        "1.5",
        "10.0.0.0/8",
        "::1",
        "fe80::/10",
        "aa:bb:cc",
        "\"GET\"",
        "r\"a\\\"\"",
        "'A'",
        "'\\n'",
        "\"\\x41",
        "\"(\"",
        "True",
        "99999999999999999999999",
        " ",
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        if let Ok(f) = Filter::compile(&text) {
            let _ = f.matches(&tcp_packet());
        }
    }

    #[test]
    fn token_soup_never_panics(tokens in prop::collection::vec(token(), 0..24)) {
        let text = tokens.join(" ");
        match Filter::compile(&text) {
            Ok(f) => {
                let _ = f.matches(&tcp_packet());
                let data = real_frame();
                let packet = real_packet(&data);
                let _ = f.matches(&PacketFields::new(&packet, Duration::ZERO));
            }
            Err(e) => {
                // The column is inside the text (or just past its end).
                prop_assert!(e.column() >= 1);
                prop_assert!(e.column() <= text.chars().count() + 1);
            }
        }
    }
}
