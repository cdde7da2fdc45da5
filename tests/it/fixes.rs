//! Defects a new user found: each test states the rule it checks (the README, an RFC, tshark's
//! value, a case README) rather than what pcaplab printed before.

use std::path::PathBuf;

use crate::util::{fixture, run, stderr, stdout};

/// A fresh scratch directory under the target directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("fixes-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn s(p: &std::path::Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// `report -o` refuses the capture being read (its bytes stay as they were, checked against the
/// fixture) and an existing file unless `--force` is given (README: report).
#[test]
fn report_never_overwrites_the_capture_and_asks_before_replacing() {
    let dir = scratch("report-o");
    let original = std::fs::read(fixture("http-get.pcap")).expect("fixture");
    let capture = dir.join("v.pcap");
    std::fs::write(&capture, &original).expect("copy");

    let o = run(&["report", s(&capture), "-o", s(&capture)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("that is the capture being read"), "{}", stderr(&o));
    let o = run(&["report", s(&capture), "-o", s(&capture), "--force"]);
    assert_eq!(o.status.code(), Some(2), "--force must not allow it either");
    assert_eq!(std::fs::read(&capture).expect("read"), original, "capture changed");

    let page = dir.join("page.html");
    std::fs::write(&page, b"keep me").expect("write");
    let o = run(&["report", s(&capture), "-o", s(&page)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));
    assert_eq!(std::fs::read(&page).expect("read"), b"keep me");

    let o = run(&["report", s(&capture), "-o", s(&page), "--force"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let html = std::fs::read_to_string(&page).expect("read");
    assert!(html.starts_with("<!DOCTYPE html>") || html.starts_with("<!doctype html>"), "{}", &html[..40.min(html.len())]);

    let fresh = dir.join("fresh.html");
    let o = run(&["report", s(&capture), "-o", s(&fresh)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(fresh.is_file());
    let _ = stdout(&o);
}

