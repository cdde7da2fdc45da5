//! comfy-table set-up shared by every command: borders and width on a terminal, plain text when
//! piped, colours only when allowed.

use comfy_table::presets::{NOTHING, UTF8_FULL_CONDENSED};
use comfy_table::{Cell, Color, ContentArrangement, Table};

use super::Terminal;

/// A new table with `header`, styled for `term`.
pub fn new_table(header: &[&str], term: Terminal, show_header: bool) -> Table {
    let mut table = Table::new();
    if term.is_tty {
        table.load_style(UTF8_FULL_CONDENSED);
        table.set_content_arrangement(ContentArrangement::Dynamic);
        if let Some(w) = term.width {
            table.set_width(w);
        }
    } else {
        table.load_style(NOTHING);
        table.force_no_tty();
        table.set_content_arrangement(ContentArrangement::Disabled);
    }
    if show_header {
        table.set_header(header.iter().map(|h| Cell::new(*h)).collect::<Vec<_>>());
    }
    table
}

/// A cell, coloured when colours are allowed.
pub fn cell(text: impl ToString, color: Option<Color>, term: Terminal) -> Cell {
    let cell = Cell::new(text);
    match (color, term.color) {
        (Some(c), true) => cell.fg(c),
        _ => cell,
    }
}
