//! Decoded values compared with tshark's, on our fixtures and on the shared public corpus.
//!
//! Every disagreement must be fixed or listed, with its reason, in `tests/it/allowlist.tsv`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::reference::{self, Comparison, Disagreement};
use crate::util;

/// An allow-listed disagreement: file, frame (or `*`), field, reason.
struct Allowed {
    file: String,
    frame: String,
    field: String,
}

fn allowlist() -> Vec<Allowed> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/allowlist.tsv");
    let text = std::fs::read_to_string(path).expect("allowlist.tsv");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            assert!(
                cols.len() >= 4 && !cols[3].trim().is_empty(),
                "allowlist line needs file, frame, field and a reason: {l}"
            );
            Allowed {
                file: cols[0].to_string(),
                frame: cols[1].to_string(),
                field: cols[2].to_string(),
            }
        })
        .collect()
}

fn is_allowed(d: &Disagreement, list: &[Allowed]) -> bool {
    list.iter().any(|a| {
        a.file == d.file && (a.frame == "*" || a.frame == d.frame.to_string()) && a.field == d.field
    })
}

/// Captures in `dir` that have a `<capture>.tsv` reference beside them (or in `expected/`).
fn captures_with_reference(dir: &Path, expected_dir: &Path) -> Vec<(PathBuf, PathBuf, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !(name.ends_with(".pcap") || name.ends_with(".pcapng")) {
            continue;
        }
        let tsv = expected_dir.join(format!("{name}.tsv"));
        if tsv.is_file() {
            out.push((path, tsv, name));
        }
    }
    out.sort_by(|a, b| a.2.cmp(&b.2));
    out
}

fn compare_all(set: &[(PathBuf, PathBuf, String)]) -> Comparison {
    let mut total = Comparison::default();
    for (capture, tsv, name) in set {
        let c = reference::compare(capture, tsv, name);
        total.compared += c.compared;
        total.agreed += c.agreed;
        total.disagreements.extend(c.disagreements);
    }
    total
}

fn check(set_name: &str, total: &Comparison, min_share: f64) {
    let list = allowlist();
    let unexplained: Vec<String> = total
        .disagreements
        .iter()
        .filter(|d| !is_allowed(d, &list))
        .map(|d| d.to_string())
        .collect();
    if let Some(path) = std::env::var_os("PCAPLAB_DUMP_DISAGREEMENTS") {
        let all: Vec<String> = total.disagreements.iter().map(|d| d.to_string()).collect();
        let _ = std::fs::write(
            Path::new(&path).join(format!("{}.txt", set_name.replace(' ', "-"))),
            all.join("\n"),
        );
    }
    let share = total.agreed as f64 / total.compared.max(1) as f64;
    eprintln!(
        "{set_name}: {} of {} values agree with tshark ({:.3}%), {} disagreements allow-listed",
        total.agreed,
        total.compared,
        share * 100.0,
        total.disagreements.len() - unexplained.len()
    );
    assert!(total.compared > 0, "{set_name}: nothing compared");
    assert!(
        share >= min_share,
        "{set_name}: only {:.3}% agree (need {:.1}%)",
        share * 100.0,
        min_share * 100.0
    );
    util::assert_no_mismatch(set_name, &unexplained);
}

#[test]
fn fixtures_agree_with_tshark() {
    let dir = util::fixtures();
    let set = captures_with_reference(&dir, &dir);
    assert!(
        set.len() >= 20,
        "expected the fixture captures, found {}",
        set.len()
    );
    let total = compare_all(&set);
    check("fixtures", &total, 0.999);
}

#[test]
fn public_corpus_agrees_with_tshark() {
    let Some(dir) = util::public_corpus() else {
        eprintln!("skipped: ../shared/captures/public is not present");
        return;
    };
    let set = captures_with_reference(&dir, &dir.join("expected"));
    assert!(
        set.len() >= 50,
        "expected the public corpus, found {}",
        set.len()
    );
    let total = compare_all(&set);
    check("public corpus", &total, 0.99);
    // Every allow-list entry must still be needed, so the list shrinks as pcaplab improves.
    let list = allowlist();
    let seen: HashSet<(String, String, String)> = total
        .disagreements
        .iter()
        .map(|d| (d.file.clone(), d.frame.to_string(), d.field.to_string()))
        .collect();
    let stale: Vec<String> = list
        .iter()
        .filter(|a| a.frame != "*")
        .filter(|a| !a.file.contains(".pcap") || dir.join(&a.file).is_file())
        .filter(|a| !seen.contains(&(a.file.clone(), a.frame.clone(), a.field.clone())))
        .map(|a| format!("{} {} {}", a.file, a.frame, a.field))
        .collect();
    util::assert_no_mismatch("stale allow-list entries (now agree with tshark)", &stale);
}
