//! The table writer every command shares: columns laid out for the terminal's width, rows kept on
//! one line, colours only when allowed.
//!
//! A table is described once ([`Column`]s and the [`Step`]s that make it narrower) and rows are
//! added as [`Cell`]s. The rules (issue 13):
//! - **Nothing is broken inside a cell.** An *atom* column (an address, a number, a flag, a
//!   state) is never cut; only a *text* column (Info, a URI, a list) may be shortened, at its
//!   end, with `…`. Every row stays on one line.
//! - **Narrow terminals.** When the columns do not fit, the table's steps are applied in order
//!   until they do: drop a column, or show a column's short form (an address without its port).
//!   Then text columns give up width, down to their minimum. What was left out is said once per
//!   table through [`Terminal::note`]. `--wide` ([`Terminal::wide`]) keeps every column whole.
//! - **Not a terminal.** With no width (a pipe, a width of 0 or unknown), every column is as wide
//!   as its data and nothing is dropped or cut.
//! - **Aligned from the first row to the last.** Widths come from the first chunk of
//!   [`CHUNK_ROWS`] rows (or, for a streaming table, from the widths the columns reserve) and stay
//!   for the rest of the output; a later cell wider than its atom column widens that column from
//!   that row on, and text columns give the room back so the line still fits.
//!
//! Display widths are measured with `unicode-width` (East Asian wide characters count two
//! columns, combining marks none); every cell is escaped for the terminal first
//! ([`crate::view::text::escape`]).

use std::borrow::Cow;
use std::io::{self, Write};

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::Terminal;
use crate::view::text;

/// Rows read before the widths are chosen (a non-streaming table prints nothing before).
pub const CHUNK_ROWS: usize = 1000;

/// Blank columns between two table columns.
const GAP: usize = 2;

/// Foreground colours used by the tables (ANSI SGR 31–36).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Color {
    /// Errors, resets, malformed packets.
    Red,
    /// Success.
    Green,
    /// Something to look at.
    Yellow,
    /// UDP.
    Blue,
    /// HTTP.
    Magenta,
    /// TCP, redirects.
    Cyan,
}

impl Color {
    fn sgr(self) -> &'static str {
        match self {
            Color::Red => "\x1b[31m",
            Color::Green => "\x1b[32m",
            Color::Yellow => "\x1b[33m",
            Color::Blue => "\x1b[34m",
            Color::Magenta => "\x1b[35m",
            Color::Cyan => "\x1b[36m",
        }
    }
}

/// How a column's cells are aligned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Text and addresses.
    Left,
    /// Numbers.
    Right,
}

/// One column of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column<'a> {
    /// The header text.
    pub header: &'a str,
    /// Alignment of its cells.
    pub align: Align,
    /// `Some(min)`: free text that may be cut (with `…`) down to `min` columns; `None`: an atom,
    /// never cut.
    pub text_min: Option<usize>,
    /// Width kept from the first row on, however narrow the data (streaming tables, whose widths
    /// must be known before the data).
    pub reserve: usize,
    /// The same for the column's short form ([`Step::Short`]).
    pub reserve_short: usize,
}

impl<'a> Column<'a> {
    /// A left-aligned atom (an address, a name, a state): never cut.
    pub const fn atom(header: &'a str) -> Column<'a> {
        Column {
            header,
            align: Align::Left,
            text_min: None,
            reserve: 0,
            reserve_short: 0,
        }
    }

    /// A right-aligned atom (a number): never cut.
    pub const fn number(header: &'a str) -> Column<'a> {
        Column {
            header,
            align: Align::Right,
            text_min: None,
            reserve: 0,
            reserve_short: 0,
        }
    }

    /// Free text that may be cut with `…`, down to `min` columns.
    pub const fn text(header: &'a str, min: usize) -> Column<'a> {
        Column {
            header,
            align: Align::Left,
            text_min: Some(min),
            reserve: 0,
            reserve_short: 0,
        }
    }

    /// The same column, at least `width` wide from the first row on (`short` in its short
    /// form).
    pub const fn reserve(mut self, width: usize, short: usize) -> Column<'a> {
        self.reserve = width;
        self.reserve_short = short;
        self
    }

    fn min_width(&self) -> usize {
        self.text_min
            .map_or(usize::MAX, |m| m.max(self.header.width()))
    }
}

/// One way to make a table narrower, tried in the order the table lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Leave out the column at this index.
    Drop(usize),
    /// Show these columns' short forms ([`Cell::short`]); the text says what that means for the
    /// note (`Source and Destination without their ports`).
    Short(&'static [usize], &'static str),
}

/// A table's description: its name for the note, its columns, and its steps from least to most
/// important (the first step is taken first).
#[derive(Debug, Clone, Copy)]
pub struct Spec<'a> {
    /// What the note calls the table (`packets`, `streams`, `endpoints`).
    pub name: &'a str,
    /// The columns, left to right.
    pub columns: &'a [Column<'a>],
    /// What to give up, in order, when the terminal is too narrow.
    pub steps: &'a [Step],
}

/// One cell: its text (escaped for the terminal), an optional short form, an optional colour.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cell {
    text: String,
    short: Option<String>,
    color: Option<Color>,
}

impl Cell {
    /// A cell showing `text`, escaped for the terminal.
    pub fn new(text: impl ToString) -> Cell {
        Cell {
            text: escaped(text.to_string()),
            short: None,
            color: None,
        }
    }

    /// The shorter form shown after a [`Step::Short`] naming this column.
    pub fn short(mut self, short: impl ToString) -> Cell {
        self.short = Some(escaped(short.to_string()));
        self
    }

    /// The cell in `color` (shown only when the terminal allows colours).
    pub fn fg(mut self, color: Color) -> Cell {
        self.color = Some(color);
        self
    }

    /// The text shown.
    pub fn text(&self) -> &str {
        &self.text
    }

    fn shown(&self, short: bool) -> &str {
        match (&self.short, short) {
            (Some(s), true) => s,
            _ => &self.text,
        }
    }
}

fn escaped(s: String) -> String {
    match text::escape(&s) {
        Cow::Borrowed(_) => s,
        Cow::Owned(e) => e,
    }
}

/// A cell with `text`, coloured when colours are allowed.
pub fn cell(text: impl ToString, color: Option<Color>, term: Terminal) -> Cell {
    let cell = Cell::new(text);
    match (color, term.color) {
        (Some(c), true) => cell.fg(c),
        _ => cell,
    }
}

/// The decided layout: which columns show, in which form, how wide.
#[derive(Debug, Clone)]
struct Layout {
    visible: Vec<bool>,
    short: Vec<bool>,
    widths: Vec<usize>,
    /// Width available to a line (after the indent), when laid out for a terminal.
    limit: Option<usize>,
}

/// A table written a row at a time: the first [`CHUNK_ROWS`] rows are held to choose the widths
/// (none for a [streaming](TableWriter::streaming) table), every later row is written at once.
pub struct TableWriter<'o, W: Write> {
    out: W,
    name: &'o str,
    columns: Vec<Column<'o>>,
    steps: Vec<Step>,
    term: Terminal,
    header: bool,
    indent: &'o str,
    streaming: bool,
    pending: Vec<Vec<Cell>>,
    layout: Option<Layout>,
    rows: u64,
    line: String,
}

impl<'o, W: Write> TableWriter<'o, W> {
    /// A table described by `spec`, written to `out`, with a header row when `header`.
    pub fn new(out: W, spec: Spec<'o>, term: Terminal, header: bool) -> Self {
        TableWriter {
            out,
            name: spec.name,
            columns: spec.columns.to_vec(),
            steps: spec.steps.to_vec(),
            term,
            header,
            indent: "",
            streaming: false,
            pending: Vec::new(),
            layout: None,
            rows: 0,
            line: String::new(),
        }
    }

    /// Prefixes every line with `indent`.
    pub fn indent(mut self, indent: &'o str) -> Self {
        self.indent = indent;
        self
    }

    /// Chooses the widths at the first row, from what the columns reserve (and that row), and
    /// writes every row at once: for output that must show rows as they come (`packets`, live
    /// input).
    pub fn streaming(mut self) -> Self {
        self.streaming = true;
        self
    }

    /// Changes what column `index` reserves (before the first row).
    pub fn set_reserve(&mut self, index: usize, width: usize) {
        if let Some(c) = self.columns.get_mut(index) {
            c.reserve = width;
            c.reserve_short = width;
        }
    }

    /// Adds a row (missing cells are blank).
    ///
    /// # Errors
    /// When writing fails.
    pub fn add_row(&mut self, cells: Vec<Cell>) -> io::Result<()> {
        self.rows += 1;
        if self.layout.is_some() {
            return self.write_row(&cells, false);
        }
        self.pending.push(cells);
        if self.streaming || self.pending.len() >= CHUNK_ROWS {
            self.start()?;
        }
        Ok(())
    }

    /// Rows added so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Flushes the output (rows already laid out are written at once; see
    /// [`TableWriter::streaming`]).
    ///
    /// # Errors
    /// When writing fails.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// The output, to write lines between rows once the table has chosen its widths (before
    /// that, rows are held and would come after such lines).
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }

    /// Writes what is still held and gives the output back.
    ///
    /// # Errors
    /// When writing fails.
    pub fn into_inner(mut self) -> io::Result<W> {
        if self.layout.is_none() {
            self.start()?;
        }
        Ok(self.out)
    }

    /// Chooses the layout from the pending rows and writes them (after the header).
    fn start(&mut self) -> io::Result<()> {
        let layout = self.plan();
        self.layout = Some(layout);
        if self.header {
            let header: Vec<Cell> = self.columns.iter().map(|c| Cell::new(c.header)).collect();
            self.write_row(&header, true)?;
        }
        let pending = std::mem::take(&mut self.pending);
        for row in &pending {
            self.write_row(row, false)?;
        }
        Ok(())
    }

    /// The widths the data needs, the steps the terminal's width forces, and the note about them.
    fn plan(&self) -> Layout {
        let n = self.columns.len();
        let natural = |short: bool| -> Vec<usize> {
            self.columns
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let data = self
                        .pending
                        .iter()
                        .filter_map(|r| r.get(i))
                        .map(|cell| cell.shown(short).width())
                        .max()
                        .unwrap_or(0);
                    let reserve = if short { c.reserve_short } else { c.reserve };
                    data.max(reserve)
                        .max(if self.header { c.header.width() } else { 0 })
                })
                .collect()
        };
        let full = natural(false);
        let shortened = natural(true);
        let limit = match (self.term.wide, self.term.width) {
            (false, Some(w)) if w > 0 => {
                Some(usize::from(w).saturating_sub(self.indent.width()).max(1))
            }
            _ => None,
        };
        let mut layout = Layout {
            visible: vec![true; n],
            short: vec![false; n],
            widths: full.clone(),
            limit,
        };
        let Some(limit) = limit else {
            return layout;
        };
        let columns = &self.columns;
        let least = |l: &Layout| -> usize {
            let shown: Vec<usize> = (0..n).filter(|i| l.visible[*i]).collect();
            let sum: usize = shown
                .iter()
                .map(|&i| {
                    let w = if l.short[i] { shortened[i] } else { full[i] };
                    w.min(columns[i].min_width())
                })
                .sum();
            sum + GAP * shown.len().saturating_sub(1)
        };
        let mut taken = Vec::new();
        for step in &self.steps {
            if least(&layout) <= limit {
                break;
            }
            match *step {
                Step::Drop(i) if i < n => layout.visible[i] = false,
                Step::Short(cols, _) => {
                    for &i in cols.iter().filter(|i| **i < n) {
                        layout.short[i] = true;
                    }
                }
                Step::Drop(_) => continue,
            }
            taken.push(*step);
        }
        for i in 0..n {
            layout.widths[i] = if layout.short[i] {
                shortened[i]
            } else {
                full[i]
            };
        }
        fit_text(&mut layout, columns, limit);
        if self.streaming {
            // Rows not seen yet may be longer: a text column at the end gets the rest of the line.
            let shown: Vec<usize> = (0..n).filter(|i| layout.visible[*i]).collect();
            if let Some(&last) = shown.last()
                && columns[last].text_min.is_some()
            {
                let others: usize = shown
                    .iter()
                    .filter(|i| **i != last)
                    .map(|i| layout.widths[*i] + GAP)
                    .sum();
                layout.widths[last] = layout.widths[last].max(limit.saturating_sub(others));
            }
        }
        if !taken.is_empty() {
            self.term
                .say(&omitted_note(self.name, limit, columns, &taken));
        }
        layout
    }

    /// Writes one row (the header when `header`) with the layout.
    fn write_row(&mut self, cells: &[Cell], header: bool) -> io::Result<()> {
        let Some(layout) = &mut self.layout else {
            return Ok(());
        };
        // An atom wider than its column widens it from this row on; text columns give the room
        // back.
        let mut grew = false;
        for (i, c) in self.columns.iter().enumerate() {
            if !layout.visible[i] || c.text_min.is_some() {
                continue;
            }
            let w = cells
                .get(i)
                .map_or(0, |cell| cell.shown(layout.short[i]).width());
            if w > layout.widths[i] {
                layout.widths[i] = w;
                grew = true;
            }
        }
        if grew && let Some(limit) = layout.limit {
            fit_text(layout, &self.columns, limit);
        }
        let line = &mut self.line;
        line.clear();
        line.push_str(self.indent);
        let last = (0..self.columns.len()).rev().find(|i| layout.visible[*i]);
        let blank = Cell::default();
        for (i, c) in self.columns.iter().enumerate() {
            if !layout.visible[i] {
                continue;
            }
            let cell = cells.get(i).unwrap_or(&blank);
            let width = layout.widths[i];
            let shown = cell.shown(layout.short[i]);
            let shown: Cow<'_, str> = if c.text_min.is_some() && layout.limit.is_some() {
                cut(shown, width)
            } else {
                Cow::Borrowed(shown)
            };
            let pad = width.saturating_sub(shown.width());
            let color = if header { None } else { cell.color };
            let is_last = Some(i) == last;
            if c.align == Align::Right {
                push_spaces(line, pad);
            }
            match color {
                Some(col) => {
                    line.push_str(col.sgr());
                    line.push_str(&shown);
                    line.push_str("\x1b[0m");
                }
                None if header && self.term.color => {
                    line.push_str("\x1b[1m");
                    line.push_str(&shown);
                    line.push_str("\x1b[0m");
                }
                None => line.push_str(&shown),
            }
            if c.align == Align::Left && !is_last {
                push_spaces(line, pad);
            }
            if !is_last {
                push_spaces(line, GAP);
            }
        }
        let trimmed = line.trim_end().len();
        line.truncate(trimmed);
        line.push('\n');
        self.out.write_all(line.as_bytes())
    }

    /// Writes what is still held (the header alone when no row came).
    ///
    /// # Errors
    /// When writing fails.
    pub fn finish(self) -> io::Result<()> {
        self.finish_or("")
    }

    /// Writes what is still held, or the line `note` instead of an empty table when no row was
    /// ever added (an empty `note` prints the header alone, as [`TableWriter::finish`]).
    ///
    /// # Errors
    /// When writing fails.
    pub fn finish_or(self, note: &str) -> io::Result<()> {
        self.finish_into(note).map(|_| ())
    }

    /// [`finish_or`](Self::finish_or), giving the output back for lines after the table.
    ///
    /// # Errors
    /// When writing fails.
    pub fn finish_into(mut self, note: &str) -> io::Result<W> {
        if self.rows == 0 && !note.is_empty() {
            writeln!(self.out, "{}{}", self.indent, text::escape(note))?;
            return Ok(self.out);
        }
        if self.layout.is_none() {
            self.start()?;
        }
        Ok(self.out)
    }
}

/// Writes a line of prose (a note under a table, a heading): as it is without a width or with
/// `--wide`, else wrapped between words at the terminal's width, the continuation lines
/// indented under the first line's text. A word wider than the terminal is never cut.
///
/// # Errors
/// When writing fails.
pub fn write_prose<W: Write + ?Sized>(out: &mut W, term: Terminal, line: &str) -> io::Result<()> {
    let limit = match (term.wide, term.width) {
        (false, Some(w)) if w > 0 => usize::from(w),
        _ => return writeln!(out, "{line}"),
    };
    if line.width() <= limit {
        return writeln!(out, "{line}");
    }
    let lead = line.len() - line.trim_start().len();
    let indent = format!("{}    ", line.get(..lead).unwrap_or_default());
    let mut current = line.get(..lead).unwrap_or_default().to_string();
    let mut used = current.width();
    let mut empty = true;
    for word in line.trim_start().split(' ') {
        let w = word.width();
        if !empty && used + 1 + w > limit {
            writeln!(out, "{}", current.trim_end())?;
            current.clone_from(&indent);
            used = indent.width();
            empty = true;
        }
        if !empty {
            current.push(' ');
            used += 1;
        }
        current.push_str(word);
        used += w;
        empty = false;
    }
    writeln!(out, "{}", current.trim_end())
}

/// Gives the text columns what the line has left, cutting the widest first, down to their
/// minimum; the atoms keep their width.
fn fit_text(layout: &mut Layout, columns: &[Column<'_>], limit: usize) {
    let shown: Vec<usize> = (0..columns.len()).filter(|i| layout.visible[*i]).collect();
    let total: usize = shown.iter().map(|&i| layout.widths[i]).sum::<usize>()
        + GAP * shown.len().saturating_sub(1);
    let mut excess = total.saturating_sub(limit);
    while excess > 0 {
        // The text column with the most room above its minimum gives one column at a time.
        let Some(i) = shown
            .iter()
            .copied()
            .filter(|&i| columns[i].text_min.is_some())
            .filter(|&i| layout.widths[i] > columns[i].min_width())
            .max_by_key(|&i| layout.widths[i] - columns[i].min_width())
        else {
            return;
        };
        let room = layout.widths[i] - columns[i].min_width();
        let give = room.min(excess).min(
            // Shrink in steps so two text columns end up about even.
            room.div_ceil(2).max(1),
        );
        layout.widths[i] -= give;
        excess -= give;
    }
}

/// `s` cut to `width` display columns, ending in `…` when it was cut.
fn cut(s: &str, width: usize) -> Cow<'_, str> {
    if s.width() <= width {
        return Cow::Borrowed(s);
    }
    if width == 0 {
        return Cow::Borrowed("");
    }
    let mut out = String::with_capacity(width + 3);
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > width - 1 {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    Cow::Owned(out)
}

fn push_spaces(line: &mut String, n: usize) {
    line.extend(std::iter::repeat_n(' ', n));
}

/// `packets: 80 columns are too few for every column: left out Layers and Length; Source and
/// Destination without their ports (--wide keeps them)`.
fn omitted_note(name: &str, limit: usize, columns: &[Column<'_>], taken: &[Step]) -> String {
    let dropped: Vec<&str> = taken
        .iter()
        .filter_map(|s| match s {
            Step::Drop(i) => columns.get(*i).map(|c| c.header),
            Step::Short(..) => None,
        })
        .collect();
    let shortened: Vec<&str> = taken
        .iter()
        .filter_map(|s| match s {
            Step::Short(_, what) => Some(*what),
            Step::Drop(_) => None,
        })
        .collect();
    let mut parts = Vec::new();
    if !dropped.is_empty() {
        parts.push(format!("left out {}", join_and(&dropped)));
    }
    parts.extend(shortened.iter().map(|s| s.to_string()));
    format!(
        "{name} table: {limit} columns are too few for every column: {} (--wide keeps every column)",
        parts.join("; ")
    )
}

/// `a`, `a and b`, `a, b and c`.
fn join_and(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn term(width: Option<u16>) -> Terminal {
        Terminal {
            is_tty: false,
            color: false,
            width,
            wide: false,
            note: None,
        }
    }

    const COLUMNS: [Column<'static>; 4] = [
        Column::number("No."),
        Column::atom("Source"),
        Column::atom("Layers"),
        Column::text("Info", 8),
    ];
    const SPEC: Spec<'static> = Spec {
        name: "test",
        columns: &COLUMNS,
        steps: &[Step::Drop(2), Step::Short(&[1], "Source without its port")],
    };

    fn render(width: Option<u16>, rows: &[[&str; 4]]) -> String {
        let mut out = Vec::new();
        let mut t = TableWriter::new(&mut out, SPEC, term(width), true);
        for r in rows {
            let cells = vec![
                Cell::new(r[0]),
                Cell::new(r[1]).short(r[1].split(':').next().unwrap_or_default()),
                Cell::new(r[2]),
                Cell::new(r[3]),
            ];
            t.add_row(cells).unwrap();
        }
        t.finish().unwrap();
        String::from_utf8(out).unwrap()
    }

    const ROWS: [[&str; 4]; 2] = [
        [
            "1",
            "127.0.0.1:39090",
            "L2 Ethernet › L3 IPv4",
            "39090 → 5005 Len=17",
        ],
        [
            "10",
            "10.0.0.1:80",
            "L2 Ethernet",
            "a long info text that goes on and on",
        ],
    ];

    #[test]
    fn without_a_width_every_column_is_as_wide_as_its_data() {
        let text = render(None, &ROWS);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "No.  Source           Layers                 Info"
        );
        assert_eq!(
            lines[1],
            "  1  127.0.0.1:39090  L2 Ethernet › L3 IPv4  39090 → 5005 Len=17"
        );
        assert_eq!(
            lines[2],
            " 10  10.0.0.1:80      L2 Ethernet            a long info text that goes on and on"
        );
    }

    #[test]
    fn a_narrow_terminal_cuts_text_then_drops_then_shortens() {
        // 50 columns: Info is cut first.
        let text = render(Some(60), &ROWS);
        for l in text.lines() {
            assert!(l.width() <= 60, "{l}");
        }
        assert!(text.contains("Layers"));
        assert!(text.contains('…'));
        // 40 columns: Layers is left out, the addresses keep their ports.
        let text = render(Some(40), &ROWS);
        assert!(!text.contains("Layers"), "{text}");
        assert!(text.contains("127.0.0.1:39090"), "{text}");
        for l in text.lines() {
            assert!(l.width() <= 40, "{l}");
        }
        // 25 columns: the short form of Source.
        let text = render(Some(25), &ROWS);
        assert!(text.contains("127.0.0.1 "), "{text}");
        assert!(!text.contains(":39090"), "{text}");
        for l in text.lines() {
            assert!(l.width() <= 25, "{l}");
        }
    }

    #[test]
    fn atoms_are_never_cut_even_when_nothing_else_fits() {
        let text = render(Some(10), &ROWS);
        assert!(text.contains("127.0.0.1"), "{text}");
        assert!(text.contains("10.0.0.1"), "{text}");
    }

    #[test]
    fn wide_keeps_every_column() {
        let mut t = term(Some(20));
        t.wide = true;
        let mut out = Vec::new();
        let mut w = TableWriter::new(&mut out, SPEC, t, true);
        w.add_row(vec![
            Cell::new("1"),
            Cell::new("127.0.0.1:1"),
            Cell::new("L2"),
            Cell::new("x".repeat(50)),
        ])
        .unwrap();
        w.finish().unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains(&"x".repeat(50)), "{text}");
    }

    #[test]
    fn a_streaming_table_aligns_from_its_reserved_widths() {
        let mut out = Vec::new();
        let mut t = TableWriter::new(&mut out, SPEC, term(None), true).streaming();
        t.set_reserve(0, 4);
        t.set_reserve(1, 21);
        for (n, src) in [(1, "10.0.0.1:1"), (1000, "192.168.100.200:65535")] {
            t.add_row(vec![
                Cell::new(n),
                Cell::new(src),
                Cell::new("L2"),
                Cell::new("info"),
            ])
            .unwrap();
        }
        t.finish().unwrap();
        let text = String::from_utf8(out).unwrap();
        let at: Vec<usize> = text.lines().map(|l| l.find("L2").unwrap_or(0)).collect();
        assert_eq!(at[1], at[2], "{text}");
        assert_eq!(text.lines().next().unwrap().find("Layers"), Some(at[1]));
    }

    #[test]
    fn a_streaming_table_never_cuts_later_text_without_a_width_and_fills_the_line_with_one() {
        for (width, want) in [
            (None, "a much longer info text than the first"),
            (Some(40), "a much longer info tex…"),
        ] {
            let mut out = Vec::new();
            let mut t = TableWriter::new(&mut out, SPEC, term(width), false).streaming();
            for info in ["short", "a much longer info text than the first"] {
                t.add_row(vec![
                    Cell::new(1),
                    Cell::new("10.0.0.1"),
                    Cell::new("L2"),
                    Cell::new(info),
                ])
                .unwrap();
            }
            t.finish().unwrap();
            let text = String::from_utf8(out).unwrap();
            assert!(text.lines().nth(1).unwrap().ends_with(want), "{text}");
            if let Some(w) = width {
                assert!(text.lines().all(|l| l.width() <= usize::from(w)), "{text}");
            }
        }
    }

    #[test]
    fn cells_are_escaped_and_widths_count_display_columns() {
        let c = Cell::new("a\u{1b}[2J\u{202e}b");
        assert_eq!(c.text(), "a\\x1b[2J\\u{202e}b");
        assert_eq!(cut("日本語テキスト", 7), "日本語…");
        assert_eq!(cut("abc", 3), "abc");
        assert_eq!(join_and(&["a", "b", "c"]), "a, b and c");
    }

    #[test]
    fn prose_wraps_between_words_at_the_width() {
        let mut out = Vec::new();
        let line = "  error at offset 4: the length prefix reads 1,836,279,600 bytes";
        write_prose(&mut out, term(Some(30)), line).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "  error at offset 4: the\n      length prefix reads\n      1,836,279,600 bytes\n"
        );
        let mut out = Vec::new();
        write_prose(&mut out, term(None), line).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), format!("{line}\n"));
    }

    #[test]
    fn colours_only_when_allowed() {
        let mut t = term(None);
        assert_eq!(cell("x", Some(Color::Red), t).color, None);
        t.color = true;
        assert_eq!(cell("x", Some(Color::Red), t).color, Some(Color::Red));
    }
}
