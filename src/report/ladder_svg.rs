//! The ladder diagram as a standalone SVG picture, for a lab report or the one-page HTML
//! report: 760 px wide (A4 width at 96 dpi, less margins), generic font families only, no
//! script, no link, no external resource. Written with quick-xml's writer, which escapes every
//! text and attribute value (labels come from the capture: file names, URIs).
//!
//! Grey-scale printing: normal arrows are black and solid; an arrow pcaplab found a problem on
//! is dark orange *and dashed*, a RST is thicker, problem notes are bold and other notes
//! italic, and the handshake and close brackets sit on a light band: every distinction
//! survives without colour.

use std::io::{self, Write};

use quick_xml::Writer;
use quick_xml::events::BytesText;

use crate::analysis::ladder::{Arrow, Ladder, NoteKind};

/// Width of the picture in pixels.
pub const WIDTH: f64 = 760.0;
const FONT: &str = "DejaVu Sans Mono, Menlo, Consolas, Liberation Mono, monospace";
/// Width of one character of the 11 px monospace font (0.6 em).
const CHAR_W: f64 = 6.6;
const ROW_H: f64 = 24.0;
const GROUP_H: f64 = 16.0;
const SLOPE: f64 = 6.0;
const INK: &str = "#111111";
const PROBLEM: &str = "#a33c00";
const INFO: &str = "#1f4e8c";
const LANE: &str = "#666666";
const BAND: &str = "#e6edf7";

/// `s` cut to `max` characters with an ellipsis.
fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

fn px(v: f64) -> String {
    format!("{v:.1}")
}

/// Where everything goes.
struct Layout {
    lanes: Vec<f64>,
    notes_x: f64,
    notes_chars: usize,
    /// y of each arrow's start, and of each group label row (by arrow index where it opens).
    rows: Vec<f64>,
    group_rows: Vec<(usize, usize, f64, &'static str)>,
    height: f64,
}

fn notes_text(a: &Arrow) -> String {
    a.notes
        .iter()
        .map(|n| n.short.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

fn layout(ladder: &Ladder) -> Layout {
    let n = ladder.columns.len().max(1);
    let frame_chars = ladder
        .arrows
        .iter()
        .map(|a| a.frame.0.to_string().len())
        .max()
        .unwrap_or(1);
    let margin = 16.0 + (frame_chars + 11) as f64 * 6.0;
    let notes_chars = ladder
        .arrows
        .iter()
        .map(|a| notes_text(a).chars().count())
        .max()
        .unwrap_or(0)
        .min(40);
    let notes_w = if notes_chars > 0 {
        (notes_chars as f64 * 6.0 + 16.0).min(240.0)
    } else {
        0.0
    };
    // The first and last lanes leave room for half an address each.
    let half = 11.0 * CHAR_W;
    let left = margin + half;
    let right = (WIDTH - notes_w - half).max(left + 60.0);
    let lanes: Vec<f64> = if n == 1 {
        vec![left]
    } else {
        (0..n)
            .map(|i| left + (right - left) * i as f64 / (n - 1) as f64)
            .collect()
    };
    let notes_x = lanes.last().copied().unwrap_or(left) + 12.0;
    let notes_chars = ((WIDTH - notes_x - 4.0) / 6.0).max(0.0) as usize;
    let row_of = |f| ladder.arrows.iter().position(|a| a.frame == f);
    let spans: Vec<(usize, usize, &'static str)> = ladder
        .groups
        .iter()
        .filter_map(|g| {
            Some((
                row_of(*g.frames.first()?)?,
                row_of(*g.frames.last()?)?,
                g.label,
            ))
        })
        .collect();
    let mut y = 84.0;
    let mut rows = Vec::with_capacity(ladder.arrows.len());
    let mut group_rows = Vec::new();
    for i in 0..ladder.arrows.len() {
        for &(first, last, label) in &spans {
            if first == i {
                group_rows.push((first, last, y, label));
                y += GROUP_H;
            }
        }
        rows.push(y);
        y += ROW_H;
    }
    Layout {
        lanes,
        notes_x,
        notes_chars,
        rows,
        group_rows,
        height: y + 16.0,
    }
}

/// Writes the picture.
///
/// # Errors
/// When writing fails.
pub fn write<W: Write>(out: &mut W, ladder: &Ladder) -> io::Result<()> {
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    let mut w = Writer::new_with_indent(&mut *out, b' ', 1);
    element(&mut w, ladder)?;
    writeln!(out)
}

/// The `<svg>` element alone (for inlining in HTML).
///
/// # Errors
/// When writing fails.
pub fn element<W: Write>(w: &mut Writer<W>, ladder: &Ladder) -> io::Result<()> {
    let l = layout(ladder);
    let height = px(l.height);
    let view_box = format!("0 0 {} {height}", px(WIDTH));
    w.create_element("svg")
        .with_attributes([
            ("xmlns", "http://www.w3.org/2000/svg"),
            ("version", "1.1"),
            ("width", &px(WIDTH)),
            ("height", &height),
            ("viewBox", &view_box),
            ("font-family", FONT),
            ("font-size", "11"),
            ("role", "img"),
            ("class", "ladder"),
        ])
        .write_inner_content(|w| {
            w.create_element("title")
                .write_text_content(BytesText::new(&ladder.title))?;
            w.create_element("desc")
                .write_text_content(BytesText::new(&format!(
                    "Ladder diagram: {} columns, {} arrows, one per packet, time going down.",
                    ladder.columns.len(),
                    ladder.arrows.len()
                )))?;
            w.create_element("rect")
                .with_attributes([
                    ("x", "0"),
                    ("y", "0"),
                    ("width", px(WIDTH).as_str()),
                    ("height", height.as_str()),
                    ("fill", "#ffffff"),
                ])
                .write_empty()?;
            text(
                w,
                8.0,
                20.0,
                &cut(&ladder.title, 110),
                &[("font-weight", "bold"), ("font-size", "13")],
            )?;
            bands(w, &l)?;
            headers(w, ladder, &l)?;
            for (a, &y) in ladder.arrows.iter().zip(&l.rows) {
                arrow(w, a, y, &l)?;
            }
            Ok(())
        })?;
    Ok(())
}

fn text<W: Write>(
    w: &mut Writer<W>,
    x: f64,
    y: f64,
    content: &str,
    extra: &[(&str, &str)],
) -> io::Result<()> {
    let (x, y) = (px(x), px(y));
    let mut e = w
        .create_element("text")
        .with_attributes([("x", x.as_str()), ("y", y.as_str())]);
    for &(k, v) in extra {
        e = e.with_attribute((k, v));
    }
    e.write_text_content(BytesText::new(content))?;
    Ok(())
}

fn line<W: Write>(
    w: &mut Writer<W>,
    (x1, y1): (f64, f64),
    (x2, y2): (f64, f64),
    extra: &[(&str, &str)],
) -> io::Result<()> {
    let (x1, y1, x2, y2) = (px(x1), px(y1), px(x2), px(y2));
    let mut e = w.create_element("line").with_attributes([
        ("x1", x1.as_str()),
        ("y1", y1.as_str()),
        ("x2", x2.as_str()),
        ("y2", y2.as_str()),
    ]);
    for &(k, v) in extra {
        e = e.with_attribute((k, v));
    }
    e.write_empty()?;
    Ok(())
}

/// The light bands and left brackets of the groups, with their labels.
fn bands<W: Write>(w: &mut Writer<W>, l: &Layout) -> io::Result<()> {
    for &(_, last, y, label) in &l.group_rows {
        let bottom = l.rows.get(last).copied().unwrap_or(y) + ROW_H - 4.0;
        let (y0, h) = (px(y - 2.0), px(bottom - y + 2.0));
        let width = px(WIDTH - 8.0);
        w.create_element("rect")
            .with_attributes([
                ("class", "group"),
                ("x", "4"),
                ("y", y0.as_str()),
                ("width", width.as_str()),
                ("height", h.as_str()),
                ("fill", BAND),
                ("rx", "3"),
            ])
            .write_empty()?;
        let stroke = [("stroke", INFO), ("stroke-width", "2")];
        line(w, (6.0, y), (6.0, bottom), &stroke)?;
        line(w, (6.0, y), (12.0, y), &stroke)?;
        line(w, (6.0, bottom), (12.0, bottom), &stroke)?;
        text(
            w,
            16.0,
            y + 10.0,
            label,
            &[("fill", INFO), ("font-weight", "bold"), ("font-size", "10")],
        )?;
    }
    Ok(())
}

/// Roles and addresses on top, and the lanes.
fn headers<W: Write>(w: &mut Writer<W>, ladder: &Ladder, l: &Layout) -> io::Result<()> {
    let room = if l.lanes.len() > 1 {
        ((l.lanes.get(1).copied().unwrap_or(0.0) - l.lanes.first().copied().unwrap_or(0.0))
            / CHAR_W) as usize
    } else {
        40
    };
    for (c, &x) in ladder.columns.iter().zip(&l.lanes) {
        if let Some(role) = &c.role {
            text(
                w,
                x,
                44.0,
                &cut(role, room),
                &[("text-anchor", "middle"), ("font-weight", "bold")],
            )?;
        }
        text(
            w,
            x,
            58.0,
            &cut(&c.address, room),
            &[("text-anchor", "middle")],
        )?;
        line(
            w,
            (x, 66.0),
            (x, l.height - 10.0),
            &[("stroke", LANE), ("stroke-width", "1.2"), ("class", "lane")],
        )?;
    }
    Ok(())
}

/// One arrow: margin text, line, head, label, notes, in a `<g class="arrow">`.
fn arrow<W: Write>(w: &mut Writer<W>, a: &Arrow, y: f64, l: &Layout) -> io::Result<()> {
    let (Some(&x1), Some(&x2)) = (l.lanes.get(a.from), l.lanes.get(a.to)) else {
        return Ok(());
    };
    let problem = a.is_flagged();
    let reset = a.notes.iter().any(|n| n.kind == NoteKind::Reset);
    let colour = if problem { PROBLEM } else { INK };
    let frame = a.frame.0.to_string();
    let (from, to) = (a.from.to_string(), a.to.to_string());
    let mut tip = a.full_label();
    for n in &a.notes {
        tip.push_str(&format!("\n{}", n.text));
    }
    w.create_element("g")
        .with_attributes([
            ("class", if problem { "arrow flagged" } else { "arrow" }),
            ("data-frame", frame.as_str()),
            ("data-from", from.as_str()),
            ("data-to", to.as_str()),
        ])
        .write_inner_content(|w| {
            w.create_element("title")
                .write_text_content(BytesText::new(&tip))?;
            text(
                w,
                16.0,
                y + 8.0,
                &format!("{frame:>4}  {:.6}", a.time),
                &[
                    ("fill", "#333333"),
                    ("font-size", "10"),
                    ("xml:space", "preserve"),
                ],
            )?;
            let width = if reset { "2.6" } else { "1.4" };
            let mut style = vec![
                ("stroke", colour),
                ("stroke-width", width),
                ("class", "shaft"),
            ];
            if problem {
                style.push(("stroke-dasharray", "6 3"));
            }
            let span = (x2 - x1).abs();
            if span < 1.0 {
                // A packet to its own endpoint: a small loop.
                let d = format!("M {} {} h 24 v {SLOPE} h -20", px(x1), px(y));
                let mut e = w
                    .create_element("path")
                    .with_attributes([("d", d.as_str()), ("fill", "none")]);
                for &(k, v) in &style {
                    e = e.with_attribute((k, v));
                }
                e.write_empty()?;
            } else {
                let dir = (x2 - x1).signum();
                let (ex, ey) = (x2 - dir * 1.0, y + SLOPE);
                line(
                    w,
                    (x1, y),
                    (ex - dir * 7.0, ey - SLOPE * 7.0 / span),
                    &style,
                )?;
                // The head along the line's direction.
                let points = format!(
                    "{},{} {},{} {},{}",
                    px(ex),
                    px(ey),
                    px(ex - dir * 9.0),
                    px(ey - 4.0),
                    px(ex - dir * 9.0),
                    px(ey + 4.0)
                );
                w.create_element("polygon")
                    .with_attributes([
                        ("points", points.as_str()),
                        ("fill", colour),
                        ("class", "head"),
                    ])
                    .write_empty()?;
            }
            let chars = ((span.max(60.0) - 16.0) / CHAR_W) as usize;
            let full = a.full_label();
            let label = if full.chars().count() <= chars {
                full
            } else {
                cut(&a.label, chars)
            };
            // Centred over the arrow; next to the sender when the arrow crosses other lanes,
            // so the label stays clear of them.
            let (mid, anchor) = if span < 1.0 {
                (x1 + 60.0, "middle")
            } else if a.from.abs_diff(a.to) > 1 {
                if x2 > x1 {
                    (x1 + 10.0, "start")
                } else {
                    (x1 - 10.0, "end")
                }
            } else {
                ((x1 + x2) / 2.0, "middle")
            };
            text(
                w,
                mid,
                y - 3.0,
                &label,
                &[
                    ("text-anchor", anchor),
                    ("class", "label"),
                    ("fill", colour),
                    // A white halo keeps the label readable over a lane it crosses.
                    ("stroke", "#ffffff"),
                    ("stroke-width", "4"),
                    ("stroke-linejoin", "round"),
                    ("paint-order", "stroke"),
                ],
            )?;
            if !a.notes.is_empty() {
                let notes = cut(&notes_text(a), l.notes_chars);
                let attrs: &[(&str, &str)] = if problem {
                    &[
                        ("fill", PROBLEM),
                        ("font-weight", "bold"),
                        ("font-size", "10"),
                        ("class", "notes"),
                    ]
                } else {
                    &[
                        ("fill", INFO),
                        ("font-style", "italic"),
                        ("font-size", "10"),
                        ("class", "notes"),
                    ]
                };
                text(w, l.notes_x, y + 6.0, &notes, attrs)?;
            }
            Ok(())
        })?;
    Ok(())
}
