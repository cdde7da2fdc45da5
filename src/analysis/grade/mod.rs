//! Auto-grading: a TOML rubric of checks evaluated against captures of student programs.
//!
//! In: a [`rubric::Rubric`] and capture files. Out: one [`Verdict`] per capture with the result
//! of every check. Captures are read in parallel (rayon); each is read once through the engine,
//! with the extra per-datagram bookkeeping the UDP checks need.

pub mod check;
pub mod rubric;

use std::collections::{BTreeSet, HashMap};
use std::hash::{Hash, Hasher};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use etherparse::TransportSlice;
use rayon::prelude::*;
use serde::Serialize;

use crate::capture::{CaptureReader, FrameNumber};
use crate::engine::{self, Engine, Findings, Options, StickyOptions};
use crate::framing::FramingSpec;
use check::CheckResult;
use rubric::{CheckType, Rubric};

/// Unanswered echo requests remembered per port at most (older ones are counted unanswered).
const MAX_PENDING_ECHOES: usize = 100_000;

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

/// Echo bookkeeping for one UDP port.
#[derive(Debug, Clone, Default)]
pub struct Echo {
    /// The server port.
    pub port: u16,
    /// Datagrams sent to it.
    pub requests: u64,
    /// Of those, answered with the same payload to their sender.
    pub answered: u64,
    /// Frames of requests never answered.
    pub unanswered: Vec<FrameNumber>,
    pending: HashMap<(SocketAddr, u64), Vec<FrameNumber>>,
}

/// What the checks look at.
#[derive(Debug)]
pub struct Evidence {
    /// The engine's findings.
    pub findings: Findings,
    /// Echo results for the ports `udp_echo` checks name.
    pub echo: Vec<Echo>,
    /// Datagrams to a broadcast address, per destination port.
    pub broadcasts: Vec<(u16, u64)>,
    /// Every UDP destination port seen.
    pub udp_ports: BTreeSet<u16>,
}

fn payload_hash(payload: &[u8]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    payload.hash(&mut h);
    h.finish()
}

/// Reads one capture and gathers the evidence the rubric's checks need.
///
/// # Errors
/// The capture's fatal error, with the evidence gathered before it.
pub fn gather(
    path: &Path,
    rubric: &Rubric,
    body_dir: Option<PathBuf>,
) -> (Option<Evidence>, Option<String>) {
    let mut reader = match CaptureReader::open(path) {
        Ok(r) => r,
        Err(e) => return (None, Some(e.to_string())),
    };
    let framing = rubric
        .checks
        .iter()
        .find(|c| c.kind == CheckType::Framing)
        .and_then(|c| c.framing.as_deref())
        .and_then(|f| f.parse::<FramingSpec>().ok());
    let mut options = Options {
        sticky: framing.map(|framing| StickyOptions {
            framing,
            stream: None,
            keep_segments: false,
        }),
        ..Options::default()
    };
    if let Some(dir) = body_dir {
        options.http.bodies = Some(crate::analysis::http::BodyOptions { dir, decode: false });
    }
    let mut engine = Engine::new(options);
    let mut echo: Vec<Echo> = rubric
        .checks
        .iter()
        .filter(|c| c.kind == CheckType::UdpEcho)
        .filter_map(|c| c.port)
        .map(|port| Echo {
            port,
            ..Echo::default()
        })
        .collect();
    let mut broadcasts: HashMap<u16, u64> = HashMap::new();
    let mut udp_ports = BTreeSet::new();
    let result = engine::run(&mut reader, &mut engine, |_, packet, _| {
        let (Some((src, dst)), Some(TransportSlice::Udp(udp))) =
            (packet.ip_addrs(), packet.transport())
        else {
            return true;
        };
        let (sport, dport) = (udp.source_port(), udp.destination_port());
        udp_ports.insert(dport);
        if check::is_broadcast(dst) {
            *broadcasts.entry(dport).or_default() += 1;
        }
        for e in &mut echo {
            let hash = payload_hash(udp.payload());
            if dport == e.port && sport != e.port {
                e.requests += 1;
                let sender = SocketAddr::new(src, sport);
                if e.pending.len() < MAX_PENDING_ECHOES {
                    e.pending
                        .entry((sender, hash))
                        .or_default()
                        .push(packet.frame.number);
                } else {
                    e.unanswered.push(packet.frame.number);
                }
            } else if sport == e.port {
                let receiver = SocketAddr::new(dst, dport);
                if let Some(frames) = e.pending.get_mut(&(receiver, hash))
                    && !frames.is_empty()
                {
                    frames.remove(0);
                    e.answered += 1;
                }
            }
        }
        true
    });
    for e in &mut echo {
        let mut left: Vec<FrameNumber> = e.pending.drain().flat_map(|(_, f)| f).collect();
        e.unanswered.append(&mut left);
        e.unanswered.sort_unstable();
    }
    let mut broadcasts: Vec<(u16, u64)> = broadcasts.into_iter().collect();
    broadcasts.sort_unstable();
    let evidence = Evidence {
        findings: engine.finish(),
        echo,
        broadcasts,
        udp_ports,
    };
    (Some(evidence), result.err().map(|e| e.to_string()))
}

/// Grades one capture.
pub fn grade_one(path: &Path, rubric: &Rubric) -> Verdict {
    let needs_bodies = rubric.checks.iter().any(|c| {
        c.kind == CheckType::HttpResponse && (c.sha256.is_some() || c.body_contains.is_some())
    });
    // One directory per grading, even when the same capture is named twice: the process id and
    // a counter keep parallel gradings (and concurrent runs) apart.
    static NEXT_DIR: AtomicU64 = AtomicU64::new(0);
    let body_dir = needs_bodies.then(|| {
        let n = NEXT_DIR.fetch_add(1, Ordering::Relaxed);
        std::env::temp_dir().join(format!("pcaplab-grade-{}-{n}", std::process::id()))
    });
    if let Some(d) = &body_dir {
        let _ = std::fs::create_dir_all(d);
    }
    let (evidence, error) = gather(path, rubric, body_dir.clone());
    let max_score = rubric.checks.iter().map(|c| c.points).sum();
    let checks: Vec<CheckResult> = match &evidence {
        Some(ev) => rubric
            .checks
            .iter()
            .map(|c| check::evaluate(c, ev))
            .collect(),
        None => rubric
            .checks
            .iter()
            .map(|c| CheckResult {
                id: c.id.clone(),
                passed: false,
                points: 0.0,
                max_points: c.points,
                message: "the capture could not be read".into(),
            })
            .collect(),
    };
    if let Some(d) = &body_dir {
        let _ = std::fs::remove_dir_all(d);
    }
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
