//! Auto-grading: a TOML rubric of checks evaluated against captures of student programs.
//!
//! In: a [`rubric::Rubric`] and capture files. Out: one [`Verdict`] per capture with the result
//! of every check. Grading sits above the engine and drives it: each capture is read once,
//! with only the consumers the rubric's checks need (no TCP tracking for a UDP-only rubric, no
//! HTTP analysis without an `http_response` check). Each check owns the state it gathers
//! ([`check::CheckState`]: its own framing, its own echo bookkeeping); what several checks read
//! (connections, TFTP transfers, HTTP transactions, UDP ports) is gathered once into
//! [`Evidence`]. Captures are graded in parallel (rayon), each on its own: the same capture
//! given twice is read twice and graded identically (no file is written while grading).
//!
//! A capture that ends inside a record is graded on the frames before the cut and labelled
//! `partial (cut at record N)` ([`Verdict::cut_at_record`]); any other read error after the
//! first frame leaves the verdict of what was read, with the error beside it.

pub mod check;
pub mod rubric;

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use rayon::prelude::*;
use serde::Serialize;

use crate::app::consumer::{At, Datagram, DatagramConsumer, Note, StreamConsumer};
use crate::app::{http, tftp};
use crate::capture::CaptureReader;
use crate::engine::Engine;
use crate::flow::tcp::{Stream, StreamEvent, TableLimits};
use check::{CheckResult, CheckState};
use rubric::{CheckType, Rubric};

/// The grade of one capture.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    /// The capture file as given.
    pub capture: String,
    /// Points earned.
    pub score: f64,
    /// Points possible.
    pub max_score: f64,
    /// Every check, in rubric order.
    pub checks: Vec<CheckResult>,
    /// Why the capture could not be read (fully), when it could not (a cut capture is not an
    /// error: see [`Verdict::cut_at_record`]).
    pub error: Option<String>,
    /// When the capture ends inside a record: that record's number (the frame it would have
    /// been). The checks were evaluated on the frames before it.
    pub cut_at_record: Option<u64>,
}

impl Verdict {
    /// True when every check passed and the capture could be read (a cut capture passes when
    /// every check passed on what was read).
    pub fn passed(&self) -> bool {
        self.error.is_none() && self.checks.iter().all(|c| c.passed)
    }

    /// `partial (cut at record N)` for a cut capture.
    pub fn partial_label(&self) -> Option<String> {
        self.cut_at_record
            .map(|n| format!("partial (cut at record {n})"))
    }
}

/// What changes what the analyses behind the checks see (the same options as the other
/// commands: `--tftp-port`, the TCP reassembly limits).
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// TCP reassembly and connection-table limits.
    pub tcp: TableLimits,
    /// TFTP tracking (the server ports followed: 69 and those of `--tftp-port`).
    pub tftp: tftp::Config,
}

/// The class's results for one check of the rubric.
#[derive(Debug, Clone, Serialize)]
pub struct CheckSummary {
    /// The check's id.
    pub id: String,
    /// Its description.
    pub description: String,
    /// Its points.
    pub points: f64,
    /// Captures where it passed.
    pub passed: u64,
    /// Captures where it failed (unreadable captures included).
    pub failed: u64,
}

/// Per check (in rubric order): how many of `verdicts` passed and failed it. Every verdict
/// of one grading run has one result per check of the rubric, in its order.
pub fn summarize(verdicts: &[Verdict]) -> Vec<CheckSummary> {
    let Some(first) = verdicts.first() else {
        return Vec::new();
    };
    first
        .checks
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let passed = verdicts
                .iter()
                .filter(|v| v.checks.get(i).is_some_and(|r| r.passed))
                .count() as u64;
            CheckSummary {
                id: c.id.clone(),
                description: c.description.clone(),
                points: c.max_points,
                passed,
                failed: verdicts.len() as u64 - passed,
            }
        })
        .collect()
}

/// What several checks look at, gathered once per capture.
#[derive(Debug, Default)]
pub struct Evidence {
    /// Every TCP connection (when a check needs TCP).
    pub streams: Vec<Stream>,
    /// Every TFTP transfer (when a `tftp_transfer` check is there).
    pub transfers: Vec<tftp::Transfer>,
    /// Every HTTP transaction (when an `http_response` check is there). Response bodies are
    /// hashed and searched in memory while the capture is read ([`http::BodyHash`]): grading
    /// writes no file.
    pub transactions: Vec<http::Transaction>,
    /// The texts searched for in every response body (the `body_contains` of the rubric's
    /// `http_response` checks); [`http::BodyHash::contains`] answers in this order.
    pub body_needles: Vec<String>,
    /// Every UDP destination port seen (when a UDP check is there).
    pub udp_ports: BTreeSet<u16>,
    /// Request-looking datagrams to ports not followed as TFTP (for the `--tftp-port` hint).
    pub tftp_hints: Vec<tftp::PortHint>,
}

/// Collects the destination port of every UDP datagram.
#[derive(Debug, Default)]
struct UdpPorts(BTreeSet<u16>);

impl DatagramConsumer for UdpPorts {
    fn on_datagram<'a>(&'a mut self, d: &Datagram<'a>) -> Option<Note<'a>> {
        self.0.insert(d.dst.port());
        None
    }
}

/// Keeps the row of every TCP connection (a grading capture is a student's exercise: small).
#[derive(Debug, Default)]
struct Connections(Vec<Stream>);

impl StreamConsumer for Connections {
    fn on_event(&mut self, _event: &StreamEvent<'_>, _at: At) {}

    fn on_stream_end(&mut self, row: &Stream, _at: At) {
        self.0.push(row.clone());
    }

    fn finish(&mut self, _at: At) {
        self.0.sort_unstable_by_key(|s| s.id);
    }
}

/// How reading a capture ended.
enum ReadEnd {
    /// Every record read.
    Whole,
    /// The capture ends inside this record.
    Cut(u64),
    /// Another error after the frames before it.
    Error(String),
}

/// Reads one capture with the consumers the rubric needs; returns the evidence, each check's
/// state, and how the read ended (after everything before it was gathered).
fn gather<R: Read>(
    mut reader: CaptureReader<R>,
    rubric: &Rubric,
    options: &Options,
) -> (Evidence, Vec<CheckState>, ReadEnd) {
    let has = |kinds: &[CheckType]| rubric.checks.iter().any(|c| kinds.contains(&c.kind));
    let mut states: Vec<CheckState> = rubric.checks.iter().map(CheckState::new).collect();
    let http_checks = || {
        rubric
            .checks
            .iter()
            .filter(|c| c.kind == CheckType::HttpResponse)
    };
    let needs_bodies = http_checks().any(|c| c.sha256.is_some() || c.body_contains.is_some());
    let mut body_needles: Vec<String> = Vec::new();
    for text in http_checks().filter_map(|c| c.body_contains.as_ref()) {
        if !body_needles.contains(text) {
            body_needles.push(text.clone());
        }
    }
    let mut http = has(&[CheckType::HttpResponse]).then(|| {
        // Bodies as sent (de-chunked, not content-decoded), hashed in memory.
        let bodies = needs_bodies.then(|| {
            http::Bodies::Hash(Rc::new(http::HashOptions {
                needles: body_needles.iter().map(|t| t.as_bytes().to_vec()).collect(),
                ..http::HashOptions::default()
            }))
        });
        http::Tracker::new(http::Options {
            transactions: true,
            labels: http::Labels::Off,
            bodies,
        })
    });
    let mut tftp =
        has(&[CheckType::TftpTransfer]).then(|| tftp::Tracker::new(options.tftp.clone()));
    let mut ports = has(&[CheckType::UdpEcho, CheckType::UdpBroadcast]).then(UdpPorts::default);
    let mut connections = has(&[
        CheckType::TcpHandshake,
        CheckType::TcpClose,
        CheckType::Framing,
        CheckType::MaxRetransmissions,
        CheckType::HttpResponse,
    ])
    .then(Connections::default);
    let mut engine = Engine::new(options.tcp);
    if let Some(c) = &mut connections {
        engine.stream_consumer(c);
    }
    if let Some(h) = &mut http {
        engine.stream_consumer(h);
    }
    if let Some(t) = &mut tftp {
        engine.datagram_consumer(t);
    }
    if let Some(p) = &mut ports {
        engine.datagram_consumer(p);
    }
    for state in &mut states {
        state.plug(&mut engine);
    }
    let result = engine.run(&mut reader, |_, _, _| true);
    engine.finish();
    let tftp_hints = tftp
        .as_ref()
        .map(|t| t.port_hints().to_vec())
        .unwrap_or_default();
    let evidence = Evidence {
        streams: connections.map(|c| c.0).unwrap_or_default(),
        transfers: tftp.map(tftp::Tracker::finish).unwrap_or_default(),
        tftp_hints,
        transactions: http
            .map(http::Tracker::into_transactions)
            .unwrap_or_default(),
        body_needles,
        udp_ports: ports.map(|p| p.0).unwrap_or_default(),
    };
    let end = match result {
        Ok(()) => ReadEnd::Whole,
        Err(crate::Error::TruncatedRecord { frame, .. }) => ReadEnd::Cut(frame.0),
        Err(e) => ReadEnd::Error(e.to_string()),
    };
    (evidence, states, end)
}

/// The name standard input is graded under.
pub const STDIN_NAME: &str = "-";

/// Grades one capture file (`-`: standard input).
pub fn grade_one(path: &Path, rubric: &Rubric, options: &Options) -> Verdict {
    let capture = path.display().to_string();
    if path == Path::new(STDIN_NAME) {
        let stdin: Box<dyn Read> = Box::new(std::io::stdin().lock());
        return grade_reader(capture, CaptureReader::new(stdin), rubric, options);
    }
    grade_reader(capture, CaptureReader::open(path), rubric, options)
}

/// Grades the capture of an opened reader, shown as `capture`.
pub fn grade_reader<R: Read>(
    capture: String,
    reader: Result<CaptureReader<R>, crate::Error>,
    rubric: &Rubric,
    options: &Options,
) -> Verdict {
    let max_score = rubric.max_score();
    let (checks, error, cut_at_record) = match reader {
        Ok(reader) => {
            let (evidence, states, end) = gather(reader, rubric, options);
            let checks: Vec<CheckResult> = rubric
                .checks
                .iter()
                .zip(states)
                .map(|(c, state)| check::evaluate(c, state, &evidence))
                .collect();
            match end {
                ReadEnd::Whole => (checks, None, None),
                ReadEnd::Cut(n) => (checks, None, Some(n)),
                ReadEnd::Error(e) => (checks, Some(e), None),
            }
        }
        Err(error) => (
            rubric
                .checks
                .iter()
                .map(|c| CheckResult {
                    id: c.id.clone(),
                    description: c.description.clone(),
                    passed: false,
                    points: 0.0,
                    max_points: c.points,
                    message: format!("the capture could not be read: {error}"),
                })
                .collect(),
            Some(error.to_string()),
            None,
        ),
    };
    Verdict {
        capture,
        score: checks.iter().map(|c| c.points).sum(),
        max_score,
        checks,
        error,
        cut_at_record,
    }
}

/// Grades every capture in parallel; results come back in the order of `paths`.
pub fn grade_all(paths: &[PathBuf], rubric: &Rubric, options: &Options) -> Vec<Verdict> {
    paths
        .par_iter()
        .map(|p| grade_one(p, rubric, options))
        .collect()
}
