//! The one-page HTML report of a capture: what is in it (statistics by OSI layer), every
//! warning with its frames, each TCP stream with its ladder and sticky-packet ruler, each TFTP
//! transfer and HTTP transaction with its ladder, and (from `grade --report-dir`) the grade.
//!
//! One self-contained file: inline CSS, inline SVG, no script, no font, image or link that
//! loads anything. Written with maud, whose templates escape every value they interpolate
//! (names, URIs and messages come from the capture); only the SVG pictures, written by
//! quick-xml (which escapes them itself), go in unescaped. Printable on A4.

use std::io::{self, Write};

use maud::{DOCTYPE, Markup, PreEscaped, html};
use quick_xml::Writer;
use quick_xml::events::BytesText;

use super::ladder_svg;
use super::streams::handshake_name;
use crate::analysis::ladder::Ladder;
use crate::analysis::page::Page;
use crate::analysis::sticky;
use crate::framing::segments::PartKind;
use crate::grade::Verdict;
use crate::view::text::escape as esc;

/// Most rows of the stream, transfer and transaction tables (the commands `streams`, `tftp` and
/// `http` list them all): a page stays readable, and small, for a large capture.
pub const MAX_TABLE_ROWS: usize = 1000;

/// The line under a table cut at [`MAX_TABLE_ROWS`].
fn more_rows(total: usize, command: &str) -> Markup {
    html! {
        @if total > MAX_TABLE_ROWS {
            p.meta { "The first " (MAX_TABLE_ROWS) " of " (total) " rows; `pcaplab " (command) "` lists them all." }
        }
    }
}

const CSS: &str = r#"
:root { color-scheme: light; }
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, Helvetica, sans-serif; font-size: 14px;
  color: #111; background: #fff; margin: 0 auto; padding: 16px 24px 48px; max-width: 1000px; }
h1 { font-size: 22px; margin: 8px 0 4px; }
h2 { font-size: 18px; border-bottom: 2px solid #1f4e8c; padding-bottom: 3px; margin-top: 32px; }
h3 { font-size: 15px; margin: 22px 0 6px; }
p.meta { color: #444; margin: 2px 0; }
table { border-collapse: collapse; margin: 8px 0; font-size: 12.5px; }
th, td { border: 1px solid #bbb; padding: 3px 7px; text-align: left; vertical-align: top; }
th { background: #e6edf7; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.problem td { background: #fbeee6; }
.bar { display: inline-block; height: 9px; background: #1f4e8c; vertical-align: middle; }
.pass { color: #1b5e20; font-weight: bold; }
.fail { color: #a33c00; font-weight: bold; }
.frames { font-family: "DejaVu Sans Mono", monospace; font-size: 12px; }
figure { margin: 6px 0 14px; }
figure svg { max-width: 100%; height: auto; border: 1px solid #ddd; }
figcaption { font-size: 12px; color: #444; }
nav ul { margin: 4px 0; padding-left: 20px; }
ul.notes { margin: 4px 0; font-size: 12.5px; }
.empty { color: #555; font-style: italic; }
@media print {
  @page { size: A4; margin: 14mm; }
  body { max-width: none; padding: 0; font-size: 11px; }
  h2 { break-after: avoid; }
  figure, table { break-inside: avoid; }
}
"#;

/// Writes the page for `page` (with the grade `verdict` when there is one).
///
/// # Errors
/// When writing fails.
pub fn write<W: Write>(out: &mut W, page: &Page, verdict: Option<&Verdict>) -> io::Result<()> {
    let markup = render(page, verdict)?;
    out.write_all(markup.into_string().as_bytes())
}

fn svg_of(ladder: &Ladder) -> io::Result<String> {
    let mut buf = Vec::new();
    let mut w = Writer::new(&mut buf);
    ladder_svg::element(&mut w, ladder)?;
    String::from_utf8(buf).map_err(io::Error::other)
}

fn figure(ladder: &Ladder) -> io::Result<Markup> {
    let svg = svg_of(ladder)?;
    Ok(html! {
        figure {
            (PreEscaped(svg))
            @if ladder.omitted_arrows > 0 || !ladder.notes.is_empty() {
                figcaption {
                    @for n in &ladder.notes { (n) br; }
                }
            }
        }
    })
}

fn frames_text(frames: &[crate::units::FrameNumber], more: u64) -> String {
    let mut s = frames
        .iter()
        .map(|f| f.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    if more > 0 {
        s.push_str(&format!(" and {more} more"));
    }
    s
}

fn render(page: &Page, verdict: Option<&Verdict>) -> io::Result<Markup> {
    let s = &page.stats;
    // The first 50 UDP conversations (the list may wait in a temporary file).
    let mut udp_rows = Vec::new();
    s.udp_conversations.for_each(|c| {
        if udp_rows.len() < 50 {
            udp_rows.push(c.clone());
        }
        Ok(())
    })?;
    let mut stream_figures = Vec::new();
    for row in &page.streams {
        let ladder = match page.stream_ladders.get(&row.stream) {
            Some(l) => Some(figure(l)?),
            None => None,
        };
        let rulers = match page.sticky.get(&row.stream) {
            Some(pair) => pair
                .iter()
                .filter(|d| d.data_segments > 0)
                .map(|d| ruler_svg(d).map(|svg| (d, svg)))
                .collect::<io::Result<Vec<_>>>()?,
            None => Vec::new(),
        };
        stream_figures.push((row, ladder, rulers));
    }
    let mut tftp_figures = Vec::new();
    for t in &page.transfers {
        let f = match page.tftp_ladders.get(&t.index) {
            Some(l) => Some(figure(l)?),
            None => None,
        };
        tftp_figures.push((t, f));
    }
    let mut http_figures = Vec::new();
    for h in &page.http_ladders {
        http_figures.push((h, figure(&h.ladder)?));
    }
    Ok(html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                // Nothing may load from anywhere: the page is all there is.
                meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="generator" content=(format!("pcaplab {}", env!("CARGO_PKG_VERSION")));
                title { "pcaplab report: " (page.file) }
                style { (PreEscaped(CSS)) }
            }
            body {
                h1 { "Capture report: " (page.file) }
                p.meta {
                    (s.packets) " packets, " (s.bytes) " bytes, "
                    (format!("{:.6}", s.duration)) " s"
                    @if s.malformed > 0 { ", " (s.malformed) " malformed" }
                    ". Made by pcaplab " (env!("CARGO_PKG_VERSION")) "."
                }
                @if let Some(e) = &page.read_error {
                    p.fail { "The capture could not be read to its end: " (e) }
                }
                nav {
                    ul {
                        @if verdict.is_some() { li { a href="#grade" { "Grade" } } }
                        li { a href="#overview" { "What is in the capture" } }
                        li { a href="#warnings" { "Warnings (" (page.warnings.len()) ")" } }
                        li { a href="#tcp" { "TCP streams (" (page.streams.len()) ")" } }
                        li { a href="#tftp" { "TFTP transfers (" (page.transfers.len()) ")" } }
                        li { a href="#http" { "HTTP transactions (" (page.transactions.len()) ")" } }
                    }
                }
                @if let Some(v) = verdict {
                    section #grade {
                        h2 { "Grade" }
                        p {
                            span class=(if v.passed() { "pass" } else { "fail" }) {
                                (format!("{} / {}", v.score, v.max_score))
                            }
                            @if let Some(e) = &v.error { " — " (e) }
                            @if let Some(p) = v.partial_label() { " — " (p) ": graded on the frames before it" }
                        }
                        table {
                            tr { th { "Check" } th { "Result" } th { "Points" } th { "What was found" } }
                            @for c in &v.checks {
                                tr class=(if c.passed { "" } else { "problem" }) {
                                    td { (c.title()) }
                                    td class=(if c.passed { "pass" } else { "fail" }) {
                                        (if c.passed { "passed" } else { "failed" })
                                    }
                                    td.num { (format!("{} / {}", c.points, c.max_points)) }
                                    td { (c.message) }
                                }
                            }
                        }
                    }
                }
                section #overview {
                    h2 { "What is in the capture" }
                    p { "Protocols by OSI layer (a packet counts once for every protocol it carries):" }
                    table {
                        tr { th { "OSI layer" } th { "Protocol" } th { "Packets" } th { "Bytes" } th { "Share of packets" } }
                        @for p in &s.protocols {
                            tr {
                                td { "L" (p.osi.number()) " " (p.osi.name()) }
                                td { (p.protocol) }
                                td.num { (p.packets) }
                                td.num { (p.bytes) }
                                td {
                                    span.bar style=(format!("width:{:.0}px", p.share * 120.0)) {}
                                    " " (format!("{:.1} %", p.share * 100.0))
                                }
                            }
                        }
                    }
                    @if !s.endpoints.is_empty() {
                        h3 { "Endpoints" }
                        table {
                            tr { th { "Address" } th { "Notes" } th { "Packets sent" } th { "Packets received" } }
                            @for e in s.endpoints.iter().take(50) {
                                tr {
                                    td { (e.address) }
                                    td { (e.notes.join(", ")) }
                                    td.num { (e.packets_sent) }
                                    td.num { (e.packets_received) }
                                }
                            }
                        }
                    }
                    @if !s.udp_conversations.is_empty() {
                        h3 { "UDP conversations" }
                        table {
                            tr { th { "A" } th { "B" } th { "A → B" } th { "B → A" } th { "First frame" } }
                            @for c in &udp_rows {
                                tr {
                                    td { (c.a) } td { (c.b) }
                                    td.num { (c.packets_a_to_b) } td.num { (c.packets_b_to_a) }
                                    td.num { (c.first_frame) }
                                }
                            }
                        }
                    }
                }
                section #warnings {
                    h2 { "Warnings" }
                    @if page.warnings.is_empty() {
                        p.empty { "pcaplab found nothing wrong." }
                    } @else {
                        table {
                            tr { th { "Where" } th { "What" } th { "Frames" } }
                            @for w in &page.warnings {
                                tr {
                                    td { (w.source) }
                                    td { (w.what) }
                                    td.frames { (frames_text(&w.frames, w.more_frames)) }
                                }
                            }
                        }
                    }
                }
                section #tcp {
                    h2 { "TCP streams" }
                    @if page.streams.is_empty() {
                        p.empty { "No TCP stream." }
                    } @else {
                        table {
                            tr {
                                th { "Stream" } th { "Client" } th { "Server" } th { "Handshake" }
                                th { "Close" } th { "Packets" } th { "Retrans." } th { "Out of order" }
                                th { "Gap bytes" } th { "Framing" } th { "Coalesced" } th { "Split" }
                            }
                            @for r in page.streams.iter().take(MAX_TABLE_ROWS) {
                                tr class=(if r.retransmissions + r.out_of_order + r.gap_bytes > 0 { "problem" } else { "" }) {
                                    td.num { (r.stream) } td { (r.client) } td { (r.server) }
                                    td { (handshake_name(r.handshake)) } td { (r.close) }
                                    td.num { (r.packets) } td.num { (r.retransmissions) }
                                    td.num { (r.out_of_order) } td.num { (r.gap_bytes) }
                                    td { (r.framing) } td.num { (count(r.coalesced_segments)) }
                                    td.num { (count(r.split_messages)) }
                                }
                            }
                        }
                        (more_rows(page.streams.len(), "streams"))
                        @if page.streams.len() > page.stream_ladders.len() {
                            p.meta { "Ladders are drawn for the first " (page.limits.ladders) " streams, with at most " (page.limits.arrows) " arrows each." }
                        }
                        @for (row, ladder, rulers) in &stream_figures {
                            @if ladder.is_some() || !rulers.is_empty() {
                                h3 { "Stream " (row.stream) ": " (row.client) " → " (row.server) }
                                @if let Some(f) = ladder { (f) }
                                @for (d, svg) in rulers {
                                    figure {
                                        (PreEscaped(svg))
                                        figcaption {
                                            "Sticky-packet ruler, " (direction_name(d)) " (framing " (d.framing) "): "
                                            (d.data_segments) " data segments, " (count(d.messages)) " messages, "
                                            (count(d.coalesced_segments)) " coalesced segments, " (count(d.split_messages)) " split messages."
                                            " Top row: the segments as they came (frame numbers); bottom row: the messages."
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                section #tftp {
                    h2 { "TFTP transfers" }
                    @if page.transfers.is_empty() {
                        p.empty { "No TFTP transfer." }
                    } @else {
                        table {
                            tr {
                                th { "#" } th { "Client" } th { "Server" } th { "File" } th { "Mode" }
                                th { "Blocks" } th { "Bytes" } th { "Complete" } th { "Retrans." } th { "SHA-256" }
                            }
                            @for t in page.transfers.iter().take(MAX_TABLE_ROWS) {
                                tr class=(if t.complete { "" } else { "problem" }) {
                                    td.num { (t.index) } td { (t.client) } td { (t.server) }
                                    td { (esc(&t.file)) } td { (esc(&t.mode)) } td.num { (t.blocks) }
                                    td.num { (t.bytes) } td { (if t.complete { "yes" } else { "no" }) }
                                    td.num { (t.retransmitted_blocks) }
                                    td.frames { (t.sha256.as_deref().unwrap_or("")) }
                                }
                            }
                        }
                        (more_rows(page.transfers.len(), "tftp"))
                        @for (t, f) in &tftp_figures {
                            @if let Some(f) = f {
                                h3 { "Transfer " (t.index) ": " (esc(&t.file)) }
                                (f)
                            }
                        }
                    }
                }
                section #http {
                    h2 { "HTTP transactions" }
                    @if page.transactions.is_empty() {
                        p.empty { "No HTTP transaction." }
                    } @else {
                        table {
                            tr {
                                th { "Stream" } th { "#" } th { "Method" } th { "URI" } th { "Status" }
                                th { "Response bytes" } th { "Frames" } th { "Warnings" }
                            }
                            @for t in page.transactions.iter().take(MAX_TABLE_ROWS) {
                                tr class=(if t.warnings.is_empty() { "" } else { "problem" }) {
                                    td.num { (t.stream) } td.num { (t.index) }
                                    td { (esc(t.method.as_deref().unwrap_or(""))) }
                                    td { (esc(t.uri.as_deref().unwrap_or(""))) }
                                    td { (t.status.map(|c| c.to_string()).unwrap_or_default()) " " (esc(t.reason.as_deref().unwrap_or(""))) }
                                    td.num { (t.response_body_bytes.map(|b| b.to_string()).unwrap_or_default()) }
                                    td.frames {
                                        (t.request_frame.map(|f| f.to_string()).unwrap_or_default())
                                        "–"
                                        (t.response_end_frame.map(|f| f.to_string()).unwrap_or_default())
                                    }
                                    td { (t.warnings.len()) }
                                }
                            }
                        }
                        (more_rows(page.transactions.len(), "http"))
                        @for (h, f) in &http_figures {
                            h3 { (h.ladder.title) }
                            (f)
                        }
                    }
                }
            }
        }
    })
}

/// A count the sticky analysis may not know (no framing fits the direction).
fn count(n: Option<u64>) -> String {
    n.map_or_else(|| "unknown".to_string(), |n| n.to_string())
}

fn direction_name(d: &sticky::Direction) -> &'static str {
    match d.direction {
        crate::units::Direction::ClientToServer => "client → server",
        crate::units::Direction::ServerToClient => "server → client",
    }
}

/// Most segments drawn on a ruler.
const RULER_SEGMENTS: usize = 48;

/// The sticky-packet ruler of one direction as SVG: the segments on top (alternating shades,
/// coalesced ones outlined in the warning colour and dashed), the messages below, both on the
/// same byte scale.
fn ruler_svg(d: &sticky::Direction) -> io::Result<String> {
    let segs: Vec<&crate::framing::segments::SegmentParts> =
        d.segments.iter().take(RULER_SEGMENTS).collect();
    let start = segs.first().map_or(0, |s| s.offset);
    let end = segs.iter().map(|s| s.offset + s.len).max().unwrap_or(start);
    let total = (end - start).max(1) as f64;
    let (x0, w) = (70.0, 682.0);
    let x = |off: u64| x0 + (off.saturating_sub(start)) as f64 / total * w;
    // Messages: each part's byte range, merged per message.
    let mut messages: Vec<(u64, u64, u64)> = Vec::new();
    for s in &segs {
        let mut at = s.offset;
        for p in &s.parts {
            let (a, b) = (at, at + p.bytes);
            match messages.last_mut() {
                Some(m)
                    if m.0 == p.message && !matches!(p.part, PartKind::Whole | PartKind::Head) =>
                {
                    m.2 = b;
                }
                _ => messages.push((p.message, a, b)),
            }
            at = b;
        }
    }
    let mut buf = Vec::new();
    let mut wr = Writer::new(&mut buf);
    let f = |v: f64| format!("{v:.1}");
    wr.create_element("svg")
        .with_attributes([
            ("xmlns", "http://www.w3.org/2000/svg"),
            ("width", "760"),
            ("height", "78"),
            ("viewBox", "0 0 760 78"),
            ("font-family", "DejaVu Sans Mono, monospace"),
            ("font-size", "10"),
            ("class", "ruler"),
            ("role", "img"),
        ])
        .write_inner_content(|wr| {
            wr.create_element("title")
                .write_text_content(BytesText::new(&format!(
                    "segments against messages, {}",
                    direction_name(d)
                )))?;
            text(wr, 8.0, 11.0, "segments")?;
            for (i, s) in segs.iter().enumerate() {
                let (a, b) = (x(s.offset), x(s.offset + s.len));
                let coalesced = s.is_coalesced();
                let fill = if i % 2 == 0 { "#c9d3e0" } else { "#8fa3bf" };
                let mut e = wr.create_element("rect").with_attributes([
                    ("x", f(a).as_str()),
                    ("y", "14"),
                    ("width", f((b - a).max(1.0)).as_str()),
                    ("height", "20"),
                    ("fill", fill),
                    ("stroke", if coalesced { "#a33c00" } else { "#ffffff" }),
                    ("stroke-width", if coalesced { "2" } else { "1" }),
                    ("class", "segment"),
                ]);
                if coalesced {
                    e = e.with_attribute(("stroke-dasharray", "4 2"));
                }
                e.write_empty()?;
                if b - a > 34.0 {
                    text_mid(wr, (a + b) / 2.0, 28.0, &format!("fr {}", s.frame))?;
                }
            }
            text(wr, 8.0, 48.0, "messages")?;
            for (i, &(m, a, b)) in messages.iter().enumerate() {
                let (a, b) = (x(a), x(b));
                wr.create_element("rect")
                    .with_attributes([
                        ("x", f(a).as_str()),
                        ("y", "52"),
                        ("width", f((b - a).max(1.0)).as_str()),
                        ("height", "20"),
                        ("fill", if i % 2 == 0 { "#ffffff" } else { "#eeeeee" }),
                        ("stroke", "#111111"),
                        ("stroke-width", "1"),
                        ("class", "message"),
                    ])
                    .write_empty()?;
                if b - a > 24.0 {
                    text_mid(wr, (a + b) / 2.0, 66.0, &format!("m{m}"))?;
                }
            }
            Ok(())
        })?;
    String::from_utf8(buf).map_err(io::Error::other)
}

fn text<W: Write>(w: &mut Writer<W>, x: f64, y: f64, s: &str) -> io::Result<()> {
    let (x, y) = (format!("{x:.1}"), format!("{y:.1}"));
    w.create_element("text")
        .with_attributes([("x", x.as_str()), ("y", y.as_str()), ("fill", "#333333")])
        .write_text_content(BytesText::new(s))?;
    Ok(())
}

fn text_mid<W: Write>(w: &mut Writer<W>, x: f64, y: f64, s: &str) -> io::Result<()> {
    let (x, y) = (format!("{x:.1}"), format!("{y:.1}"));
    w.create_element("text")
        .with_attributes([
            ("x", x.as_str()),
            ("y", y.as_str()),
            ("text-anchor", "middle"),
            ("fill", "#111111"),
        ])
        .write_text_content(BytesText::new(s))?;
    Ok(())
}
