//! Output of `pcaplab stats`: several tables for people, one JSON object, or CSV rows tagged
//! with their section.

use std::io::{self, Write};

use super::streams::handshake_name;
use super::table::{Column, Spec, Step, TableWriter, cell, write_prose};

const PROTOCOLS: Spec<'static> = Spec {
    name: "protocol hierarchy",
    columns: &[
        Column::atom("OSI"),
        Column::atom("Protocol"),
        Column::number("Packets"),
        Column::number("Bytes"),
        Column::number("Share"),
    ],
    steps: &[Step::Drop(3)],
};

const ENDPOINTS: Spec<'static> = Spec {
    name: "endpoints",
    columns: &[
        Column::atom("Address"),
        Column::atom("Class"),
        Column::text("Notes", 10),
        Column::number("Pkts sent"),
        Column::number("Bytes sent"),
        Column::number("Pkts recv"),
        Column::number("Bytes recv"),
    ],
    steps: &[Step::Drop(3), Step::Drop(5), Step::Drop(1), Step::Drop(2)],
};

const PORTS: Spec<'static> = Spec {
    name: "ports",
    columns: &[
        Column::atom("Transport"),
        Column::number("Port"),
        Column::atom("Service"),
        Column::atom("Range"),
        Column::number("Packets"),
    ],
    steps: &[Step::Drop(3)],
};

const TCP_CONVERSATIONS: Spec<'static> = Spec {
    name: "TCP conversations",
    columns: &[
        Column::number("Stream"),
        Column::atom("Client"),
        Column::atom("Server"),
        Column::atom("Handshake"),
        Column::atom("Close"),
        Column::number("Pkts"),
        Column::number("Bytes c→s"),
        Column::number("Bytes s→c"),
    ],
    steps: &[Step::Drop(5), Step::Drop(4), Step::Drop(3)],
};

const UDP_CONVERSATIONS: Spec<'static> = Spec {
    name: "UDP conversations",
    columns: &[
        Column::number("No."),
        Column::atom("A"),
        Column::atom("B"),
        Column::number("Pkts A→B"),
        Column::number("Bytes A→B"),
        Column::number("Pkts B→A"),
        Column::number("Bytes B→A"),
        Column::number("Duration s"),
        Column::number("ICMP errors"),
    ],
    steps: &[Step::Drop(7), Step::Drop(3), Step::Drop(5), Step::Drop(8)],
};
use super::{Format, Terminal, write_ndjson};
use crate::analysis::stats::Stats;

/// Writes the statistics in `format`, with the tables' and CSV's header rows when `header`.
pub fn write<W: Write>(
    out: &mut W,
    format: Format,
    term: Terminal,
    s: &Stats,
    header: bool,
) -> io::Result<()> {
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, s).map_err(super::json_error)?;
            return writeln!(out);
        }
        Format::Ndjson => return write_ndjson(out, s),
        Format::Csv => return write_csv(out, s, header),
        Format::Table => {}
    }
    let line = format!(
        "{}, {}, {:.6} s, {} malformed{}",
        crate::units::plural(s.packets, "packet", "packets"),
        crate::units::plural(s.bytes, "byte", "bytes"),
        s.duration,
        s.malformed,
        s.packets_per_second
            .map(|r| format!(
                ", {r:.1} packets/s, {:.0} bit/s",
                s.bits_per_second.unwrap_or(0.0)
            ))
            .unwrap_or_default()
    );
    write_prose(out, term, &line)?;
    writeln!(out, "\nProtocol hierarchy")?;
    let mut t = TableWriter::new(&mut *out, PROTOCOLS, term, header);
    for p in &s.protocols {
        t.add_row(vec![
            cell(format!("L{} {}", p.osi.number(), p.osi.name()), None, term),
            cell(p.protocol, None, term),
            cell(p.packets, None, term),
            cell(p.bytes, None, term),
            cell(format!("{:.1} %", p.share * 100.0), None, term),
        ])?;
    }
    t.finish()?;
    writeln!(out, "\nEndpoints")?;
    let mut t = TableWriter::new(&mut *out, ENDPOINTS, term, header);
    for e in &s.endpoints {
        t.add_row(vec![
            cell(e.address, None, term),
            cell(e.class.map(String::from).unwrap_or_default(), None, term),
            cell(e.notes.join(", "), None, term),
            cell(e.packets_sent, None, term),
            cell(e.bytes_sent, None, term),
            cell(e.packets_received, None, term),
            cell(e.bytes_received, None, term),
        ])?;
    }
    t.finish()?;
    writeln!(out, "\nPorts")?;
    let mut t = TableWriter::new(&mut *out, PORTS, term, header);
    for p in &s.ports {
        t.add_row(vec![
            cell(p.transport, None, term),
            cell(p.port, None, term),
            cell(p.service.unwrap_or("-"), None, term),
            cell(p.range, None, term),
            cell(p.packets, None, term),
        ])?;
    }
    t.finish()?;
    writeln!(out, "\nTCP conversations")?;
    let mut t = TableWriter::new(&mut *out, TCP_CONVERSATIONS, term, header);
    s.tcp_conversations.for_each(|c| {
        t.add_row(vec![
            cell(c.stream, None, term),
            cell(c.client, None, term),
            cell(c.server, None, term),
            cell(handshake_name(c.handshake), None, term),
            cell(&c.close, None, term),
            cell(c.packets, None, term),
            cell(c.bytes_client_to_server, None, term),
            cell(c.bytes_server_to_client, None, term),
        ])
    })?;
    t.finish_or("no TCP conversations")?;
    writeln!(out, "\nUDP conversations")?;
    let mut t = TableWriter::new(&mut *out, UDP_CONVERSATIONS, term, header);
    s.udp_conversations.for_each(|c| {
        t.add_row(vec![
            cell(c.id, None, term),
            cell(c.a, None, term),
            cell(c.b, None, term),
            cell(c.packets_a_to_b, None, term),
            cell(c.bytes_a_to_b, None, term),
            cell(c.packets_b_to_a, None, term),
            cell(c.bytes_b_to_a, None, term),
            cell(format!("{:.3}", c.duration), None, term),
            cell(
                if c.icmp_errors_total > 0 {
                    c.icmp_errors_total.to_string()
                } else {
                    String::new()
                },
                None,
                term,
            ),
        ])
    })?;
    t.finish_or("no UDP conversations")?;
    write_udp_icmp_notes(out, s, term)
}

/// Most ICMP errors listed under the UDP conversations table (all are in JSON).
const MAX_ICMP_NOTES: usize = 20;

/// One line per ICMP error that answered a UDP conversation: what it answered and what it
/// means, e.g. `conversation 0: frame 2 Destination unreachable (Port unreachable) answers
/// frame 1 (127.0.0.1:49213 → 127.0.0.1:8080): nothing listened on 127.0.0.1:8080 …`.
fn write_udp_icmp_notes<W: Write>(out: &mut W, s: &Stats, term: Terminal) -> io::Result<()> {
    let mut total: u64 = 0;
    let mut lines = Vec::new();
    s.udp_conversations.for_each(|c| {
        total += c.icmp_errors_total;
        for e in c
            .icmp_errors
            .iter()
            .take(MAX_ICMP_NOTES - lines.len().min(MAX_ICMP_NOTES))
        {
            let (src, dst) = match e.direction {
                crate::flow::Direction::ClientToServer => (c.a, c.b),
                crate::flow::Direction::ServerToClient => (c.b, c.a),
            };
            let mut line = format!(
                "  conversation {}: frame {} {}{} from {} answers ",
                c.id,
                e.frame,
                e.type_name,
                e.code_name
                    .as_ref()
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default(),
                e.from
            );
            match e.answers {
                Some(f) => line.push_str(&format!("frame {f} ({src} → {dst})")),
                None => line.push_str(&format!("a datagram {src} → {dst} not in the capture")),
            }
            if let Some(m) = &e.meaning {
                line.push_str(": ");
                line.push_str(m);
            }
            lines.push(line);
        }
        Ok(())
    })?;
    if total == 0 {
        return Ok(());
    }
    writeln!(out, "\nICMP errors about UDP datagrams")?;
    for line in &lines {
        write_prose(out, term, line)?;
    }
    if (lines.len() as u64) < total {
        writeln!(
            out,
            "  … {} more (all in --format json)",
            total - lines.len() as u64
        )?;
    }
    Ok(())
}

/// CSV: `section,key,detail,packets,bytes,packets_reverse,bytes_reverse,share`.
fn write_csv<W: Write>(out: &mut W, s: &Stats, header: bool) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let e = super::csv_error;
    if header {
        w.write_record([
            "section",
            "key",
            "detail",
            "packets",
            "bytes",
            "packets_reverse",
            "bytes_reverse",
            "share",
        ])
        .map_err(e)?;
    }
    w.write_record([
        "capture".to_string(),
        "total".into(),
        format!("{:.6} s, {} malformed", s.duration, s.malformed),
        s.packets.to_string(),
        s.bytes.to_string(),
        String::new(),
        String::new(),
        "1".into(),
    ])
    .map_err(e)?;
    for p in &s.protocols {
        w.write_record([
            "protocol".to_string(),
            p.protocol.to_string(),
            format!("L{}", p.osi.number()),
            p.packets.to_string(),
            p.bytes.to_string(),
            String::new(),
            String::new(),
            format!("{:.6}", p.share),
        ])
        .map_err(e)?;
    }
    for x in &s.endpoints {
        w.write_record([
            "endpoint".to_string(),
            x.address.to_string(),
            x.class
                .map(|c| format!("class {c}"))
                .into_iter()
                .chain(x.notes.iter().map(|n| n.to_string()))
                .collect::<Vec<_>>()
                .join("; "),
            x.packets_sent.to_string(),
            x.bytes_sent.to_string(),
            x.packets_received.to_string(),
            x.bytes_received.to_string(),
            String::new(),
        ])
        .map_err(e)?;
    }
    for p in &s.ports {
        w.write_record([
            "port".to_string(),
            format!("{}/{}", p.transport, p.port),
            format!("{} {}", p.service.unwrap_or("-"), p.range),
            p.packets.to_string(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ])
        .map_err(e)?;
    }
    s.tcp_conversations.for_each(|c| {
        w.write_record([
            "tcp".to_string(),
            format!("{} {} {}", c.stream, c.client, c.server),
            format!("{} {}", handshake_name(c.handshake), c.close),
            c.client_to_server.packets.to_string(),
            c.bytes_client_to_server.to_string(),
            c.server_to_client.packets.to_string(),
            c.bytes_server_to_client.to_string(),
            String::new(),
        ])
        .map_err(e)
    })?;
    s.udp_conversations.for_each(|c| {
        w.write_record([
            "udp".to_string(),
            format!("{} {} {}", c.id, c.a, c.b),
            udp_detail(c),
            c.packets_a_to_b.to_string(),
            c.bytes_a_to_b.to_string(),
            c.packets_b_to_a.to_string(),
            c.bytes_b_to_a.to_string(),
            String::new(),
        ])
        .map_err(e)
    })?;
    w.flush()
}

/// The CSV detail of a UDP conversation: `0.000123 s`, then its end when it did not last to
/// the end of the capture and its ICMP errors, e.g. `0.002451 s; 1 ICMP error (Port unreachable)`.
fn udp_detail(c: &crate::analysis::udp::Conversation) -> String {
    let mut d = format!("{:.6} s", c.duration);
    if c.end != crate::analysis::udp::End::EndOfCapture {
        d.push_str("; ");
        d.push_str(c.end.name());
    }
    if c.icmp_errors_total > 0 {
        d.push_str(&format!(
            "; {} ICMP error{}",
            c.icmp_errors_total,
            if c.icmp_errors_total == 1 { "" } else { "s" }
        ));
        if let Some(name) = c.icmp_errors.first().and_then(|e| e.code_name.as_ref()) {
            d.push_str(&format!(" ({name})"));
        }
    }
    d
}
