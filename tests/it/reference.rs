//! Comparison of `pcaplab packets --format ndjson` with a tshark field dump (`*.tsv` with the
//! columns of `captures/public/README.md`), value by value.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use crate::util;

/// The outcome of comparing one capture.
#[derive(Debug, Default)]
pub struct Comparison {
    /// Values compared.
    pub compared: usize,
    /// Values that agreed.
    pub agreed: usize,
    /// `file frame field: tshark X, pcaplab Y` for each disagreement.
    pub disagreements: Vec<Disagreement>,
}

/// One value that differs.
#[derive(Debug, Clone)]
pub struct Disagreement {
    pub file: String,
    pub frame: u64,
    pub field: &'static str,
    pub tshark: String,
    pub pcaplab: String,
}

impl std::fmt::Display for Disagreement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} frame {} {}: tshark {:?}, pcaplab {:?}",
            self.file, self.frame, self.field, self.tshark, self.pcaplab
        )
    }
}

/// One row of a tshark TSV, by column name.
pub struct TsvRow(HashMap<String, String>);

impl TsvRow {
    pub fn get(&self, name: &str) -> &str {
        self.0.get(name).map(String::as_str).unwrap_or("")
    }
}

/// Reads a tshark `-T fields -E header=y` TSV.
pub fn read_tsv(path: &Path) -> Vec<TsvRow> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let Some(header) = lines.next() else {
        return Vec::new();
    };
    let names: Vec<&str> = header.split('\t').collect();
    lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            TsvRow(
                names
                    .iter()
                    .zip(l.split('\t').chain(std::iter::repeat("")))
                    .map(|(n, v)| (n.to_string(), v.to_string()))
                    .collect(),
            )
        })
        .collect()
}

/// Finds the first layer named one of `names` in a packet row.
fn layer<'a>(row: &'a Value, names: &[&str]) -> Option<&'a Value> {
    row["layers"]
        .as_array()?
        .iter()
        .find(|l| names.contains(&l["name"].as_str().unwrap_or("")))
}

fn field_text(layer: Option<&Value>, name: &str) -> String {
    match layer.map(|l| &l["fields"][name]) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

/// tshark's `tcp.flags.str` (12 positions, `·` for clear) → our `SYN, ACK` list, sorted.
fn tshark_flags(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() != 12 {
        return String::new();
    }
    let names = [
        "", "", "", "AE", "CWR", "ECE", "URG", "ACK", "PSH", "RST", "SYN", "FIN",
    ];
    let mut set: Vec<&str> = chars
        .iter()
        .zip(names)
        .filter(|(c, n)| **c != '·' && !n.is_empty())
        .map(|(_, n)| n)
        .collect();
    set.sort_unstable();
    set.join(",")
}

fn our_flags(s: &str) -> String {
    let mut set: Vec<&str> = s.split(", ").filter(|f| !f.is_empty()).collect();
    set.sort_unstable();
    set.join(",")
}

/// The leading number of `6 (TCP)`.
fn leading_number(s: &str) -> String {
    s.split(' ').next().unwrap_or("").to_string()
}

/// Compares one capture with its tshark TSV. Frames missing on either side count as
/// disagreements on `frame.number`.
pub fn compare(capture: &Path, tsv: &Path, label: &str) -> Comparison {
    let expected = read_tsv(tsv);
    let out = util::run(&["packets", capture.to_str().unwrap(), "--format", "ndjson"]);
    let rows = util::ndjson(&out);
    let mut c = Comparison::default();
    let by_number: HashMap<u64, &Value> = rows
        .iter()
        .filter_map(|r| Some((r["number"].as_u64()?, r)))
        .collect();
    for exp in &expected {
        let frame: u64 = exp.get("frame.number").parse().unwrap_or(0);
        let mut check = |field: &'static str, tshark: String, ours: String| {
            if tshark.is_empty() && ours.is_empty() {
                return;
            }
            c.compared += 1;
            if tshark == ours {
                c.agreed += 1;
            } else {
                c.disagreements.push(Disagreement {
                    file: label.to_string(),
                    frame,
                    field,
                    tshark,
                    pcaplab: ours,
                });
            }
        };
        let Some(row) = by_number.get(&frame) else {
            check("frame.number", frame.to_string(), String::new());
            continue;
        };
        check("frame.number", frame.to_string(), row["number"].to_string());
        check(
            "frame.len",
            exp.get("frame.len").into(),
            row["length"].to_string(),
        );
        check(
            "frame.cap_len",
            exp.get("frame.cap_len").into(),
            row["captured_length"].to_string(),
        );
        let eth = layer(row, &["Ethernet"]);
        check("eth.src", exp.get("eth.src").into(), field_text(eth, "src"));
        check("eth.dst", exp.get("eth.dst").into(), field_text(eth, "dst"));
        let ip4 = layer(row, &["IPv4", "IPv4 fragment"]);
        check("ip.src", exp.get("ip.src").into(), field_text(ip4, "src"));
        check("ip.dst", exp.get("ip.dst").into(), field_text(ip4, "dst"));
        check(
            "ip.proto",
            exp.get("ip.proto").into(),
            leading_number(&field_text(ip4, "protocol")),
        );
        let ip6 = layer(row, &["IPv6"]);
        check(
            "ipv6.src",
            exp.get("ipv6.src").into(),
            field_text(ip6, "src"),
        );
        check(
            "ipv6.dst",
            exp.get("ipv6.dst").into(),
            field_text(ip6, "dst"),
        );
        let tcp = layer(row, &["TCP"]);
        check(
            "tcp.srcport",
            exp.get("tcp.srcport").into(),
            field_text(tcp, "src_port"),
        );
        check(
            "tcp.dstport",
            exp.get("tcp.dstport").into(),
            field_text(tcp, "dst_port"),
        );
        check(
            "tcp.len",
            exp.get("tcp.len").into(),
            field_text(tcp, "payload_length"),
        );
        check(
            "tcp.flags",
            tshark_flags(exp.get("tcp.flags.str")),
            our_flags(&field_text(tcp, "flags")),
        );
        check(
            "tcp.stream",
            exp.get("tcp.stream").into(),
            field_text(tcp, "stream"),
        );
        check("tcp.seq", exp.get("tcp.seq").into(), field_text(tcp, "seq"));
        let udp = layer(row, &["UDP"]);
        // On an ICMP error, tshark shows the quoted UDP header under the udp.* names; pcaplab
        // shows it as the ICMP layer's quoted_* fields.
        let quoted_udp = layer(row, &["ICMP", "ICMPv6"])
            .filter(|l| leading_number(&field_text(Some(l), "quoted_protocol")) == "17");
        let (udp_src, udp_dst, udp_len) = match (udp, quoted_udp) {
            (None, Some(q)) => (
                field_text(Some(q), "quoted_src_port"),
                field_text(Some(q), "quoted_dst_port"),
                field_text(Some(q), "quoted_udp_length"),
            ),
            _ => (
                field_text(udp, "src_port"),
                field_text(udp, "dst_port"),
                field_text(udp, "length"),
            ),
        };
        check("udp.srcport", exp.get("udp.srcport").into(), udp_src);
        check("udp.dstport", exp.get("udp.dstport").into(), udp_dst);
        check("udp.length", exp.get("udp.length").into(), udp_len);
        let tftp = layer(row, &["TFTP"]);
        // Likewise the quoted TFTP packet of an ICMP error (decoded when the datagram it
        // answers was TFTP).
        let (tftp_opcode, tftp_block) = match (tftp, quoted_udp) {
            (None, Some(q)) => (
                field_text(Some(q), "quoted_tftp_opcode"),
                field_text(Some(q), "quoted_tftp_block"),
            ),
            _ => (field_text(tftp, "opcode"), field_text(tftp, "block")),
        };
        check("tftp.opcode", exp.get("tftp.opcode").into(), tftp_opcode);
        check("tftp.block", exp.get("tftp.block").into(), tftp_block);
        // tshark names the file as `source_file` on a read request and as `destination_file`
        // on a write request and on every later packet of either kind of transfer.
        let (read_file, write_file) = match field_text(tftp, "opcode").as_str() {
            "1" => (field_text(tftp, "file"), String::new()),
            _ => (String::new(), field_text(tftp, "file")),
        };
        check(
            "tftp.source_file",
            exp.get("tftp.source_file").into(),
            read_file,
        );
        check(
            "tftp.destination_file",
            exp.get("tftp.destination_file").into(),
            write_file,
        );
        check(
            "tftp.error.code",
            exp.get("tftp.error.code").into(),
            field_text(tftp, "error_code"),
        );
    }
    for n in by_number.keys() {
        if !expected
            .iter()
            .any(|e| e.get("frame.number").parse::<u64>().ok() == Some(*n))
        {
            c.compared += 1;
            c.disagreements.push(Disagreement {
                file: label.to_string(),
                frame: *n,
                field: "frame.number",
                tshark: String::new(),
                pcaplab: n.to_string(),
            });
        }
    }
    c
}
