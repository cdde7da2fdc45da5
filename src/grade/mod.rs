//! Auto-grading: a TOML rubric of checks evaluated against captures of student programs.
//!
//! In: a [`rubric::Rubric`] and capture files. Out: one [`Verdict`] per capture with the result
//! of every check. Grading sits above the engine and drives it: each capture is read once,
//! with only the consumers the rubric's checks need (no TCP tracking for a UDP-only rubric, no
//! HTTP analysis without an `http_response` check). Each check owns the state it gathers
//! ([`check::CheckState`]: its own framing, its own echo bookkeeping); what several checks read
//! (connections, TFTP transfers, HTTP transactions, UDP ports) is gathered once into
//! [`Evidence`]. Captures are graded in parallel (rayon).

pub mod check;
pub mod rubric;

use std::collections::BTreeSet;
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
    /// Why the capture could not be read (fully), when it could not.
    pub error: Option<String>,
}

impl Verdict {
    /// True when every check passed and the capture was read completely.
    pub fn passed(&self) -> bool {
        self.error.is_none() && self.checks.iter().all(|c| c.passed)
    }
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

/// Reads one capture with the consumers the rubric needs; returns the evidence, each check's
/// state, and the capture's read error (after everything before it was gathered).
fn gather(
    path: &Path,
    rubric: &Rubric,
) -> Result<(Evidence, Vec<CheckState>, Option<String>), String> {
    let mut reader = CaptureReader::open(path).map_err(|e| e.to_string())?;
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
    let mut tftp = has(&[CheckType::TftpTransfer]).then(|| tftp::Tracker::new(Default::default()));
    let mut ports = has(&[CheckType::UdpEcho, CheckType::UdpBroadcast]).then(UdpPorts::default);
    let mut connections = has(&[
        CheckType::TcpHandshake,
        CheckType::TcpClose,
        CheckType::Framing,
        CheckType::MaxRetransmissions,
        CheckType::HttpResponse,
    ])
    .then(Connections::default);
    let mut engine = Engine::new(TableLimits::default());
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
    Ok((evidence, states, result.err().map(|e| e.to_string())))
}

/// Grades one capture.
pub fn grade_one(path: &Path, rubric: &Rubric) -> Verdict {
    let max_score = rubric.checks.iter().map(|c| c.points).sum();
    let (checks, error): (Vec<CheckResult>, Option<String>) = match gather(path, rubric) {
        Ok((evidence, states, error)) => (
            rubric
                .checks
                .iter()
                .zip(states)
                .map(|(c, state)| check::evaluate(c, state, &evidence))
                .collect(),
            error,
        ),
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
                    message: "the capture could not be read".into(),
                })
                .collect(),
            Some(error),
        ),
    };
    Verdict {
        capture: path.display().to_string(),
        score: checks.iter().map(|c| c.points).sum(),
        max_score,
        checks,
        error,
    }
}

/// Grades every capture in parallel; results come back in the order of `paths`.
pub fn grade_all(paths: &[PathBuf], rubric: &Rubric) -> Vec<Verdict> {
    paths.par_iter().map(|p| grade_one(p, rubric)).collect()
}
