//! The ladder diagram on a terminal: one column per endpoint, one line per arrow, brackets in
//! the left margin, short notes to the right of the last column, and the explanations of the
//! problems under the diagram. Unicode box drawing, or plain ASCII.
//!
//! The diagram fits `width` columns: the spacing of the columns shrinks first, then labels lose
//! their detail (`seq=… ack=…`), then they are cut with an ellipsis; notes are cut too. No line
//! is ever wrapped, and no line is longer than `width` (a terminal narrower than the margin and
//! two columns gets lines cut at its edge).

use std::io::{self, Write};

use unicode_width::UnicodeWidthChar;

use crate::analysis::ladder::{Arrow, Ladder};

/// How to draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// Terminal width in columns.
    pub width: usize,
    /// Box-drawing characters and arrows (else ASCII).
    pub unicode: bool,
}

/// The characters of one style.
struct Glyphs {
    lane: char,
    shaft: char,
    head_right: char,
    head_left: char,
    tee_right: char,
    tee_left: char,
    top: char,
    side: char,
    bottom: char,
    ellipsis: &'static str,
    self_arrow: &'static str,
}

const UNICODE: Glyphs = Glyphs {
    lane: '│',
    shaft: '─',
    head_right: '▶',
    head_left: '◀',
    tee_right: '├',
    tee_left: '┤',
    top: '┌',
    side: '│',
    bottom: '└',
    ellipsis: "…",
    self_arrow: "↺ ",
};

const ASCII: Glyphs = Glyphs {
    lane: '|',
    shaft: '-',
    head_right: '>',
    head_left: '<',
    tee_right: '+',
    tee_left: '+',
    top: '+',
    side: '|',
    bottom: '+',
    ellipsis: "...",
    self_arrow: "@ ",
};

/// Narrowest spacing of two columns.
const MIN_SPACING: usize = 12;
/// Widest spacing wanted for a label (longer labels are cut rather than spreading the columns).
const MAX_SPACING: usize = 64;
/// Widest notes column wanted.
const MAX_NOTES: usize = 72;

/// Display width of a string.
fn width(s: &str) -> usize {
    s.chars().map(|c| c.width().unwrap_or(0)).sum()
}

/// `s` cut to at most `max` display columns, ending in the ellipsis when cut.
pub fn shorten(s: &str, max: usize, ellipsis: &str) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    let room = max.saturating_sub(width(ellipsis));
    if room == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut w = 0;
    for c in s.chars() {
        let cw = c.width().unwrap_or(0);
        if w + cw > room {
            break;
        }
        out.push(c);
        w += cw;
    }
    out.push_str(ellipsis);
    out
}

/// `s` cut to at most `max` display columns from the left, starting with the ellipsis when cut.
pub fn shorten_left(s: &str, max: usize, ellipsis: &str) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    let room = max.saturating_sub(width(ellipsis));
    if room == 0 {
        return String::new();
    }
    let mut kept = Vec::new();
    let mut w = 0;
    for c in s.chars().rev() {
        let cw = c.width().unwrap_or(0);
        if w + cw > room {
            break;
        }
        kept.push(c);
        w += cw;
    }
    let mut out = ellipsis.to_string();
    out.extend(kept.into_iter().rev());
    out
}

/// One line being drawn: a cell per column (a wide character takes two, the second is `None`).
struct Line {
    cells: Vec<Option<char>>,
}

impl Line {
    fn new(len: usize) -> Line {
        Line {
            cells: vec![Some(' '); len],
        }
    }

    fn put(&mut self, x: usize, c: char) {
        if let Some(cell) = self.cells.get_mut(x) {
            *cell = Some(c);
        }
    }

    /// Writes `s` from column `x`; returns the column after it.
    fn text(&mut self, x: usize, s: &str) -> usize {
        let mut at = x;
        for c in s.chars() {
            let w = c.width().unwrap_or(0);
            if w == 0 {
                continue;
            }
            if at + w > self.cells.len() {
                self.cells.resize(at + w, Some(' '));
            }
            self.put(at, c);
            if w == 2
                && let Some(cell) = self.cells.get_mut(at + 1)
            {
                *cell = None;
            }
            at += w;
        }
        at
    }

    /// The line without trailing blanks, cut at `max` columns.
    fn finish(self, max: usize) -> String {
        let s: String = self.cells.into_iter().take(max).flatten().collect();
        s.trim_end().to_string()
    }
}

/// Where everything goes.
struct Layout {
    /// Column of each lane.
    lanes: Vec<usize>,
    spacing: usize,
    frame_w: usize,
    time_w: usize,
    /// First column of the notes.
    notes_x: usize,
    /// Total width.
    width: usize,
}

fn time_text(t: f64) -> String {
    format!("{t:.6}")
}

fn notes_text(a: &Arrow) -> String {
    a.notes
        .iter()
        .map(|n| n.short.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

fn layout(ladder: &Ladder, style: Style) -> Layout {
    let n = ladder.columns.len().max(1);
    let frame_w = ladder
        .arrows
        .iter()
        .map(|a| a.frame.0.to_string().len())
        .max()
        .unwrap_or(1);
    let time_w = ladder
        .arrows
        .iter()
        .map(|a| time_text(a.time).len())
        .max()
        .unwrap_or(8);
    let group_w = ladder
        .groups
        .iter()
        .map(|g| width(g.label))
        .max()
        .unwrap_or(0);
    let margin = (2 + frame_w + 2 + time_w + 2).max(2 + group_w + 2);
    let header_w = |i: usize| {
        ladder.columns.get(i).map_or(0, |c| {
            width(&c.address).max(c.role.as_deref().map_or(0, width))
        })
    };
    let x0 = margin.max(header_w(0).div_ceil(2) + 1);
    // Spacing wanted: every label with its detail (`full`), or at least without it (`short`),
    // and the headers side by side.
    let (mut full, mut short) = (MIN_SPACING, MIN_SPACING);
    for a in &ladder.arrows {
        let span = a.from.abs_diff(a.to);
        if span > 0 {
            full = full.max((width(&a.full_label()) + 6).div_ceil(span));
            short = short.max((width(&a.label) + 6).div_ceil(span));
        }
    }
    for i in 1..n {
        full = full.max((header_w(i - 1) + header_w(i)).div_ceil(2) + 2);
    }
    let full = full.min(MAX_SPACING);
    let short = short.min(full);
    let notes_w = ladder
        .arrows
        .iter()
        .map(|a| width(&notes_text(a)))
        .max()
        .unwrap_or(0)
        .min(MAX_NOTES);
    let spacing = if n > 1 {
        // Everything when it fits; else labels without their detail before long notes, and
        // notes keep at least a dozen columns.
        let lanes_room = style.width.saturating_sub(x0 + 1);
        let notes_need = if notes_w > 0 { 2 + notes_w } else { 0 };
        let notes_min = if notes_w > 0 { 2 + notes_w.min(12) } else { 0 };
        let per = |room: usize| room / (n - 1);
        if per(lanes_room.saturating_sub(notes_need)) >= full {
            full
        } else {
            per(lanes_room.saturating_sub(notes_need))
                .max(short)
                .min(per(lanes_room.saturating_sub(notes_min)))
                .min(full)
                .max(MIN_SPACING)
        }
    } else {
        0
    };
    let lanes: Vec<usize> = (0..n).map(|i| x0 + i * spacing).collect();
    let last = lanes.last().copied().unwrap_or(x0);
    let notes_x = last + 3;
    Layout {
        lanes,
        spacing,
        frame_w,
        time_w,
        notes_x,
        width: style.width.max(notes_x),
    }
}

/// Draws the ladder.
///
/// # Errors
/// When writing fails.
pub fn write<W: Write>(out: &mut W, ladder: &Ladder, style: Style) -> io::Result<()> {
    if style.unicode {
        draw(out, ladder, style, &UNICODE)
    } else {
        draw(out, &to_ascii(ladder), style, &ASCII)
    }
}

/// `s` in ASCII: the few symbols pcaplab writes spelled out, any other character `?` (a
/// terminal without UTF-8 cannot show it).
pub fn ascii(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            c if c.is_ascii() => out.push(c),
            '→' => out.push_str("->"),
            '←' => out.push_str("<-"),
            '↔' | '⇄' => out.push_str("<->"),
            '§' => out.push_str("section "),
            '…' => out.push_str("..."),
            'µ' => out.push('u'),
            _ => out.push('?'),
        }
    }
    out
}

/// A copy of `ladder` with every text in ASCII.
fn to_ascii(ladder: &Ladder) -> Ladder {
    let mut l = ladder.clone();
    l.title = ascii(&l.title);
    for c in &mut l.columns {
        c.address = ascii(&c.address);
        c.role = c.role.as_deref().map(ascii);
    }
    for a in &mut l.arrows {
        a.label = ascii(&a.label);
        a.detail = a.detail.as_deref().map(ascii);
        for n in &mut a.notes {
            n.short = ascii(&n.short);
            n.text = ascii(&n.text);
        }
    }
    for n in &mut l.notes {
        *n = ascii(n);
    }
    l
}

fn draw<W: Write>(out: &mut W, ladder: &Ladder, style: Style, g: &Glyphs) -> io::Result<()> {
    let max = style.width.max(20);
    writeln!(out, "{}", shorten(&ladder.title, max, g.ellipsis))?;
    if ladder.arrows.is_empty() {
        writeln!(out, "no packets to draw")?;
        for note in &ladder.notes {
            writeln!(out, "{}", shorten(note, max, g.ellipsis))?;
        }
        return Ok(());
    }
    let l = layout(ladder, style);
    let blank = |l: &Layout| {
        let mut line = Line::new(l.width);
        for &x in &l.lanes {
            line.put(x, g.lane);
        }
        line
    };
    writeln!(out)?;
    // Headers: roles, then addresses, centred on their lanes.
    for row in 0..2 {
        let mut line = Line::new(l.width);
        for (i, c) in ladder.columns.iter().enumerate() {
            let text = if row == 0 {
                c.role.clone().unwrap_or_default()
            } else {
                c.address.clone()
            };
            let room = if ladder.columns.len() > 1 {
                l.spacing.saturating_sub(1)
            } else {
                max
            };
            // An address loses its start, not its port.
            let text = if row == 0 {
                shorten(&text, room, g.ellipsis)
            } else {
                shorten_left(&text, room, g.ellipsis)
            };
            let x = l.lanes.get(i).copied().unwrap_or(0);
            line.text(x.saturating_sub(width(&text) / 2), &text);
        }
        writeln!(out, "{}", line.finish(max))?;
    }
    writeln!(out, "{}", blank(&l).finish(max))?;
    // Which arrows open and close a bracket.
    let row_of = |f| ladder.arrows.iter().position(|a| a.frame == f);
    let spans: Vec<(usize, usize, &str)> = ladder
        .groups
        .iter()
        .filter_map(|grp| {
            let first = row_of(*grp.frames.first()?)?;
            let last = row_of(*grp.frames.last()?)?;
            Some((first, last, grp.label))
        })
        .collect();
    for (i, a) in ladder.arrows.iter().enumerate() {
        for &(first, _, label) in &spans {
            if first == i {
                let mut line = blank(&l);
                line.put(0, g.top);
                line.text(2, label);
                writeln!(out, "{}", line.finish(max))?;
            }
        }
        let inside = spans.iter().any(|&(f, last, _)| f <= i && i <= last);
        let mut line = blank(&l);
        if inside {
            line.put(0, g.side);
        }
        line.text(
            2,
            &format!(
                "{:>fw$}  {:>tw$}",
                a.frame.0,
                time_text(a.time),
                fw = l.frame_w,
                tw = l.time_w
            ),
        );
        draw_arrow(&mut line, &l, a, g);
        let notes = notes_text(a);
        if !notes.is_empty() {
            let room = max.saturating_sub(l.notes_x);
            line.text(l.notes_x, &shorten(&notes, room, g.ellipsis));
        }
        writeln!(out, "{}", line.finish(max))?;
        for &(_, last, _) in &spans {
            if last == i {
                let mut line = blank(&l);
                line.put(0, g.bottom);
                writeln!(out, "{}", line.finish(max))?;
            }
        }
    }
    writeln!(out, "{}", blank(&l).finish(max))?;
    findings(out, ladder, max, g)
}

/// One arrow on its line.
fn draw_arrow(line: &mut Line, l: &Layout, a: &Arrow, g: &Glyphs) {
    let (Some(&xa), Some(&xb)) = (l.lanes.get(a.from), l.lanes.get(a.to)) else {
        return;
    };
    if xa == xb {
        line.put(xa, g.tee_right);
        let room = l.notes_x.saturating_sub(xa + 4);
        line.text(
            xa + 1,
            &format!("{}{}", g.self_arrow, shorten(&a.label, room, g.ellipsis)),
        );
        return;
    }
    let (lo, hi) = (xa.min(xb), xa.max(xb));
    // Shaft between the lanes, tee on the sender's lane, head next to the receiver's.
    for x in lo + 1..hi {
        line.put(x, g.shaft);
    }
    let room = (hi - lo).saturating_sub(6);
    let full = a.full_label();
    let label = if width(&full) <= room {
        full
    } else if width(&a.label) <= room {
        a.label.clone()
    } else {
        shorten(&a.label, room, g.ellipsis)
    };
    let lw = width(&label);
    if xa < xb {
        line.put(xa, g.tee_right);
        line.put(xb - 1, g.head_right);
        if lw > 0 {
            line.put(xa + 2, ' ');
            let end = line.text(xa + 3, &label);
            line.put(end, ' ');
        }
    } else {
        line.put(xa, g.tee_left);
        line.put(xb + 1, g.head_left);
        if lw > 0 {
            let start = xa.saturating_sub(2 + lw);
            line.put(start.saturating_sub(1), ' ');
            line.text(start, &label);
            line.put(xa - 2, ' ');
        }
    }
}

/// The explanation of every problem note, and the diagram's own notes.
fn findings<W: Write>(out: &mut W, ladder: &Ladder, max: usize, g: &Glyphs) -> io::Result<()> {
    let mut lines = Vec::new();
    for a in &ladder.arrows {
        for n in a.notes.iter().filter(|n| n.kind.is_problem()) {
            lines.push(format!("frame {}: {}", a.frame, n.text));
        }
    }
    lines.extend(ladder.notes.iter().cloned());
    if lines.is_empty() {
        return Ok(());
    }
    let _ = g;
    writeln!(out, "What pcaplab found:")?;
    for line in lines {
        // Prose, not a label: wrapped at word boundaries under the diagram, with a hanging
        // indent, so no explanation is lost on a narrow terminal.
        for (i, part) in wrap(&line, max.saturating_sub(4).max(20))
            .iter()
            .enumerate()
        {
            let indent = if i == 0 { "  " } else { "    " };
            writeln!(out, "{indent}{part}")?;
        }
    }
    Ok(())
}

/// `text` in lines of at most `max` columns, broken at spaces (a longer word gets a line of
/// its own, cut).
fn wrap(text: &str, max: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let needed = if line.is_empty() {
            width(word)
        } else {
            width(&line) + 1 + width(word)
        };
        if needed > max && !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines.into_iter().map(|l| shorten(&l, max, "…")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shorten_cuts_by_display_width_with_an_ellipsis() {
        assert_eq!(shorten("hello", 5, "…"), "hello");
        assert_eq!(shorten("hello world", 6, "…"), "hello…");
        assert_eq!(shorten("hello world", 6, "..."), "hel...");
        // CJK characters are two columns wide.
        assert_eq!(shorten("文件名.txt", 5, "…"), "文件…");
        assert_eq!(shorten("abc", 0, "…"), "");
        assert_eq!(shorten_left("127.0.0.1:43208", 10, "…"), "…0.1:43208");
    }

    #[test]
    fn ascii_spells_out_symbols() {
        assert_eq!(
            ascii("a → b (RFC 9293 §3.5)"),
            "a -> b (RFC 9293 section 3.5)"
        );
        assert_eq!(ascii("café"), "caf?");
    }

    #[test]
    fn findings_wrap_at_spaces() {
        assert_eq!(wrap("aaa bbb ccc", 7), vec!["aaa bbb", "ccc"]);
        assert_eq!(wrap("aaa", 7), vec!["aaa"]);
    }
}
