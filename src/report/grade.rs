//! Output of `pcaplab grade`: a table (one row per capture, then the class summary), JSON,
//! CSV (one row per capture and check), JUnit XML, Gradescope's `results.json` and the class
//! summary alone. Every format names each check with its rubric description; text from outside
//! (capture names, rubric ids and descriptions, what the checks quote) is escaped for the
//! terminal in tables and by the format's own rules elsewhere.

use std::io::{self, Write};

use serde::Serialize;

use super::Terminal;
use super::table::{Cell, Color, Column, Spec, Step, TableWriter, write_prose};
use crate::grade::{CheckSummary, Verdict, summarize};
use crate::view::text::Escaped;

const TABLE_COLUMNS: [Column<'static>; 3] = [
    Column::atom("Capture"),
    Column::atom("Score"),
    Column::text("Failed checks", 16),
];

/// The grade table: the failed checks' ids are cut first; nothing is left out.
const TABLE_SPEC: Spec<'static> = Spec {
    name: "grade",
    columns: &TABLE_COLUMNS,
    steps: &[Step::Drop(2)],
};

const SUMMARY_COLUMNS: [Column<'static>; 5] = [
    Column::atom("Check"),
    Column::number("Points"),
    Column::number("Passed"),
    Column::number("Failed"),
    Column::text("Description", 16),
];

/// The class summary: the description goes first.
const SUMMARY_SPEC: Spec<'static> = Spec {
    name: "class summary",
    columns: &SUMMARY_COLUMNS,
    steps: &[Step::Drop(4)],
};

/// The CSV header (one row per capture and check).
pub const CSV_HEADER: [&str; 11] = [
    "capture",
    "partial",
    "unreadable",
    "check",
    "description",
    "passed",
    "points",
    "max_points",
    "score",
    "max_score",
    "message",
];

/// Grade output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GradeFormat {
    /// One row per capture.
    Table,
    /// `[{capture, score, max_score, checks: [{id, passed, points, max_points, message}]}]`.
    Json,
    /// JUnit XML: one testsuite per capture, one testcase per check.
    Junit,
    /// Gradescope `results.json`: one object for one capture, an array for several.
    Gradescope,
    /// CSV: one row per capture and check ([`CSV_HEADER`]).
    Csv,
    /// The class summary alone: per check, how many captures passed and failed it.
    Summary,
}

/// Writes the verdicts.
///
/// # Errors
/// When writing fails.
pub fn write<W: Write>(
    out: &mut W,
    format: GradeFormat,
    term: Terminal,
    verdicts: &[Verdict],
) -> io::Result<()> {
    match format {
        GradeFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, verdicts).map_err(super::json_error)?;
            writeln!(out)
        }
        GradeFormat::Gradescope => gradescope(out, verdicts),
        GradeFormat::Junit => junit(out, verdicts),
        GradeFormat::Table => {
            table(out, term, verdicts)?;
            if verdicts.len() > 1 {
                writeln!(out)?;
                summary_table(out, term, &summarize(verdicts))?;
            }
            Ok(())
        }
        GradeFormat::Csv => csv(out, verdicts),
        GradeFormat::Summary => summary_table(out, term, &summarize(verdicts)),
    }
}

/// Points as people write them: `2`, `2.5`.
fn points(p: f64) -> String {
    format!("{p}")
}

fn summary_table<W: Write>(out: &mut W, term: Terminal, rows: &[CheckSummary]) -> io::Result<()> {
    let mut t = TableWriter::new(&mut *out, SUMMARY_SPEC, term, true);
    for r in rows {
        t.add_row(vec![
            Cell::new(&r.id),
            Cell::new(points(r.points)),
            Cell::new(r.passed),
            Cell::new(r.failed),
            Cell::new(if r.description.is_empty() {
                "-"
            } else {
                r.description.as_str()
            }),
        ])?;
    }
    t.finish()
}

fn csv<W: Write>(out: &mut W, verdicts: &[Verdict]) -> io::Result<()> {
    let mut w = csv::WriterBuilder::new().from_writer(&mut *out);
    w.write_record(CSV_HEADER).map_err(super::csv_error)?;
    for v in verdicts {
        let partial = v.partial_label().unwrap_or_default();
        let unreadable = v.error.clone().unwrap_or_default();
        for c in &v.checks {
            w.write_record([
                v.capture.as_str(),
                partial.as_str(),
                unreadable.as_str(),
                c.id.as_str(),
                c.description.as_str(),
                if c.passed { "true" } else { "false" },
                &points(c.points),
                &points(c.max_points),
                &points(v.score),
                &points(v.max_score),
                c.message.as_str(),
            ])
            .map_err(super::csv_error)?;
        }
    }
    w.flush()
}

fn table<W: Write>(out: &mut W, term: Terminal, verdicts: &[Verdict]) -> io::Result<()> {
    let mut t = TableWriter::new(&mut *out, TABLE_SPEC, term, true);
    for v in verdicts {
        let failed: Vec<&str> = v
            .checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.id.as_str())
            .collect();
        let color = if v.passed() { Color::Green } else { Color::Red };
        let score = Cell::new(format!("{} / {}", v.score, v.max_score));
        t.add_row(vec![
            Cell::new(&v.capture),
            if term.color { score.fg(color) } else { score },
            Cell::new({
                let failed = match (&v.error, failed.is_empty()) {
                    (Some(e), _) => format!("unreadable: {e}"),
                    (None, true) => "-".into(),
                    (None, false) => failed.join(", "),
                };
                match v.partial_label() {
                    Some(p) => format!("{p}; {failed}"),
                    None => failed,
                }
            }),
        ])?;
    }
    t.finish()?;
    for v in verdicts {
        if let Some(p) = v.partial_label() {
            let line = format!(
                "{}: {p}: graded on the frames before it",
                Escaped(&v.capture)
            );
            write_prose(out, term, &line)?;
        }
        for c in v.checks.iter().filter(|c| !c.passed) {
            let about = if c.description.trim().is_empty() {
                String::new()
            } else {
                format!(" ({})", Escaped(&c.description))
            };
            let line = format!(
                "{}: {} failed{about}: {}",
                Escaped(&v.capture),
                Escaped(&c.id),
                Escaped(&c.message)
            );
            write_prose(out, term, &line)?;
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct GsTest<'a> {
    name: String,
    score: f64,
    max_score: f64,
    status: &'static str,
    output: &'a str,
}

#[derive(Serialize)]
struct GsResult<'a> {
    score: f64,
    /// Gradescope's top-level text: which capture, and why it could not be read.
    output: String,
    tests: Vec<GsTest<'a>>,
}

fn gs_result(v: &Verdict) -> GsResult<'_> {
    let mut output = format!("{}: {} / {}", v.capture, v.score, v.max_score);
    if let Some(p) = v.partial_label() {
        output.push_str(&format!("; {p}: graded on the frames before it"));
    }
    if let Some(e) = &v.error {
        output.push_str(&format!("; unreadable: {e}"));
    }
    GsResult {
        score: v.score,
        output,
        tests: v
            .checks
            .iter()
            .map(|c| GsTest {
                name: c.title(),
                score: c.points,
                max_score: c.max_points,
                status: if c.passed { "passed" } else { "failed" },
                output: &c.message,
            })
            .collect(),
    }
}

/// One capture's Gradescope `results.json` (for `--output-dir`).
///
/// # Errors
/// When writing fails.
pub fn write_gradescope_one<W: Write>(out: &mut W, verdict: &Verdict) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &gs_result(verdict)).map_err(super::json_error)?;
    writeln!(out)
}

fn gradescope<W: Write>(out: &mut W, verdicts: &[Verdict]) -> io::Result<()> {
    let results: Vec<GsResult<'_>> = verdicts.iter().map(gs_result).collect();
    let value = match results.as_slice() {
        [one] => serde_json::to_value(one),
        _ => serde_json::to_value(&results),
    }
    .map_err(super::json_error)?;
    serde_json::to_writer_pretty(&mut *out, &value).map_err(super::json_error)?;
    writeln!(out)
}

/// Escapes text for XML attributes and content.
pub fn xml_escape(s: &str) -> String {
    let mut e = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => e.push_str("&amp;"),
            '<' => e.push_str("&lt;"),
            '>' => e.push_str("&gt;"),
            '"' => e.push_str("&quot;"),
            '\'' => e.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' && c != '\r' => {}
            c => e.push(c),
        }
    }
    e
}

fn junit<W: Write>(out: &mut W, verdicts: &[Verdict]) -> io::Result<()> {
    // An unreadable capture gets one extra testcase, "read capture", with an <error>.
    let errors: usize = verdicts.iter().filter(|v| v.error.is_some()).count();
    let tests: usize = verdicts.iter().map(|v| v.checks.len()).sum::<usize>() + errors;
    let failures: usize = verdicts
        .iter()
        .map(|v| v.checks.iter().filter(|c| !c.passed).count())
        .sum();
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="pcaplab grade" tests="{tests}" failures="{failures}" errors="{errors}">"#
    )?;
    for v in verdicts {
        let name = xml_escape(&v.capture);
        let failed = v.checks.iter().filter(|c| !c.passed).count();
        let error = usize::from(v.error.is_some());
        writeln!(
            out,
            r#"  <testsuite name="{name}" tests="{}" failures="{failed}" errors="{error}">"#,
            v.checks.len() + error,
        )?;
        if let Some(p) = v.partial_label() {
            writeln!(
                out,
                r#"    <properties><property name="partial" value="{}"/></properties>"#,
                xml_escape(&p)
            )?;
        }
        if let Some(e) = &v.error {
            writeln!(
                out,
                r#"    <testcase name="read capture" classname="{name}"><error message="{}"/></testcase>"#,
                xml_escape(e)
            )?;
        }
        for c in &v.checks {
            write!(
                out,
                r#"    <testcase name="{}" classname="{name}">"#,
                xml_escape(&c.title())
            )?;
            if c.passed {
                write!(out, "<system-out>{}</system-out>", xml_escape(&c.message))?;
            } else {
                write!(
                    out,
                    r#"<failure message="{}">{} of {} points</failure>"#,
                    xml_escape(&c.message),
                    c.points,
                    c.max_points
                )?;
            }
            writeln!(out, "</testcase>")?;
        }
        writeln!(out, "  </testsuite>")?;
    }
    writeln!(out, "</testsuites>")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grade::check::CheckResult;

    fn check(id: &str, passed: bool, max: f64, message: &str) -> CheckResult {
        CheckResult {
            id: id.into(),
            description: String::new(),
            passed,
            points: if passed { max } else { 0.0 },
            max_points: max,
            message: message.into(),
        }
    }

    fn verdicts() -> Vec<Verdict> {
        vec![
            Verdict {
                capture: "alice.pcap".into(),
                score: 3.0,
                max_score: 3.0,
                checks: vec![check("echo", true, 3.0, "all 4 datagrams echoed")],
                error: None,
                cut_at_record: None,
            },
            Verdict {
                capture: "bob & <eve>.pcap".into(),
                score: 1.0,
                max_score: 3.0,
                checks: vec![
                    check("echo", false, 2.0, "frame 7: \"hi\" not echoed"),
                    check("close", true, 1.0, "ok"),
                ],
                error: Some("frame 9: record cut".into()),
                cut_at_record: None,
            },
        ]
    }

    const PLAIN: Terminal = Terminal::PLAIN;

    fn render(format: GradeFormat) -> String {
        let mut out = Vec::new();
        write(&mut out, format, PLAIN, &verdicts()).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn junit_has_one_suite_per_capture_and_escapes_text() {
        let want = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="pcaplab grade" tests="4" failures="1" errors="1">
  <testsuite name="alice.pcap" tests="1" failures="0" errors="0">
    <testcase name="echo" classname="alice.pcap"><system-out>all 4 datagrams echoed</system-out></testcase>
  </testsuite>
  <testsuite name="bob &amp; &lt;eve&gt;.pcap" tests="3" failures="1" errors="1">
    <testcase name="read capture" classname="bob &amp; &lt;eve&gt;.pcap"><error message="frame 9: record cut"/></testcase>
    <testcase name="echo" classname="bob &amp; &lt;eve&gt;.pcap"><failure message="frame 7: &quot;hi&quot; not echoed">0 of 2 points</failure></testcase>
    <testcase name="close" classname="bob &amp; &lt;eve&gt;.pcap"><system-out>ok</system-out></testcase>
  </testsuite>
</testsuites>
"#;
        assert_eq!(render(GradeFormat::Junit), want);
    }

    #[test]
    fn gradescope_is_an_array_for_several_captures_and_an_object_for_one() {
        let v: serde_json::Value = serde_json::from_str(&render(GradeFormat::Gradescope)).unwrap();
        assert_eq!(v.as_array().map(Vec::len), Some(2));
        assert_eq!(v[1]["score"], 1.0);
        assert_eq!(v[1]["tests"][0]["status"], "failed");
        assert_eq!(v[1]["tests"][0]["max_score"], 2.0);
        assert_eq!(v[1]["tests"][1]["status"], "passed");
        assert!(v[1]["output"].as_str().unwrap().contains("unreadable"));
        let mut out = Vec::new();
        write(&mut out, GradeFormat::Gradescope, PLAIN, &verdicts()[..1]).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["score"], 3.0);
        assert_eq!(v["tests"][0]["name"], "echo");
        assert_eq!(v["tests"][0]["output"], "all 4 datagrams echoed");
    }

    #[test]
    fn table_lists_failed_checks_and_their_messages() {
        let text = render(GradeFormat::Table);
        assert!(text.contains("3 / 3"), "{text}");
        assert!(text.contains("1 / 3"), "{text}");
        assert!(text.contains("unreadable: frame 9: record cut"), "{text}");
        assert!(
            text.contains("bob & <eve>.pcap: echo failed: frame 7: \"hi\" not echoed"),
            "{text}"
        );
    }

    #[test]
    fn xml_special_characters_are_escaped() {
        assert_eq!(
            xml_escape(r#"a<b & "c" 'd'>"#),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;"
        );
        assert_eq!(xml_escape("bell\u{7}"), "bell");
    }
}
