//! Everything the one-page report of a capture shows (`pcaplab report`, `grade --report-dir`),
//! gathered from one run: statistics by OSI layer, the TCP streams with their ladders and
//! sticky reports, the TFTP transfers and HTTP transactions with their ladders, and every
//! warning with its frame numbers.
//!
//! In: the results of the analyses a command ran ([`Parts`]) and [`Findings`], a
//! [`PacketObserver`] that lists per-packet problems over the whole capture (not only the
//! streams drawn). Out: a [`Page`], which `report::html` renders. Memory: the ladders are
//! bounded by [`ladder::Limits`], each warning keeps at most [`MAX_FRAMES`] frame numbers (the
//! others are counted).

use std::collections::BTreeMap;

use serde::Serialize;

use super::ladder::{self, Ladder};
use super::stats::Stats;
use super::sticky;
use super::streams::StreamRow;
use crate::app::consumer::{Notes, PacketObserver};
use crate::app::{Note as AppNote, http, tftp};
use crate::decode::{Packet, icmp};
use crate::flow::tcp::AnalysisFlags;
use crate::units::FrameNumber;
use crate::view::text::Escaped;

/// Most frame numbers listed per warning.
pub const MAX_FRAMES: usize = 200;

/// One kind of problem and where it happened.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Warning {
    /// Where: `TCP`, `ICMP`, `TFTP transfer 0`, `HTTP stream 2, transaction 0`, `capture`.
    pub source: String,
    /// What, in a student's words.
    pub what: String,
    /// The frames that show it (the first [`MAX_FRAMES`]).
    pub frames: Vec<FrameNumber>,
    /// Frames not listed.
    pub more_frames: u64,
}

/// Per-packet problems of the whole capture: TCP analysis findings, resets, ICMP errors and
/// malformed packets, by kind.
#[derive(Debug, Default)]
pub struct Findings {
    by_kind: BTreeMap<(&'static str, String), (Vec<FrameNumber>, u64)>,
}

/// What each TCP analysis flag means on the report.
const TCP_FINDINGS: [(AnalysisFlags, &str); 9] = [
    (
        AnalysisFlags::RETRANSMISSION,
        "retransmission: bytes sent again (RFC 6298)",
    ),
    (
        AnalysisFlags::FAST_RETRANSMISSION,
        "fast retransmission after duplicate ACKs (RFC 5681 §3.2)",
    ),
    (
        AnalysisFlags::SPURIOUS_RETRANSMISSION,
        "spurious retransmission: bytes the receiver had already acknowledged",
    ),
    (AnalysisFlags::OUT_OF_ORDER, "segment out of order"),
    (
        AnalysisFlags::LOST_SEGMENT,
        "previous segment not captured (a gap)",
    ),
    (
        AnalysisFlags::ACK_LOST_SEGMENT,
        "acknowledges a segment the capture never showed",
    ),
    (AnalysisFlags::DUPLICATE_ACK, "duplicate ACK"),
    (
        AnalysisFlags::ZERO_WINDOW,
        "zero window: the receiver's buffer is full (RFC 9293 §3.8.6.1)",
    ),
    (
        AnalysisFlags::WINDOW_FULL,
        "window full: the sender filled the receiver's window",
    ),
];

impl Findings {
    /// No finding yet.
    pub fn new() -> Findings {
        Findings::default()
    }

    fn add(&mut self, source: &'static str, what: &str, frame: FrameNumber) {
        let entry = match self
            .by_kind
            .iter_mut()
            .find(|((s, w), _)| *s == source && w == what)
        {
            Some((_, e)) => e,
            None => self.by_kind.entry((source, what.to_string())).or_default(),
        };
        if entry.0.len() < MAX_FRAMES {
            entry.0.push(frame);
        } else {
            entry.1 += 1;
        }
    }

    /// The warnings found, by first frame.
    pub fn into_warnings(self) -> Vec<Warning> {
        let mut out: Vec<Warning> = self
            .by_kind
            .into_iter()
            .map(|((source, what), (frames, more))| Warning {
                source: source.to_string(),
                what,
                frames,
                more_frames: more,
            })
            .collect();
        out.sort_by_key(|w| w.frames.first().copied());
        out
    }
}

impl PacketObserver for Findings {
    fn on_packet(&mut self, packet: &Packet<'_>, notes: &Notes<'_>) {
        let frame = packet.frame.number;
        if let Some(o) = &notes.tcp {
            let a = o.analysis;
            // A fast or spurious retransmission is listed as such, not also as a plain one.
            let special = a.contains(AnalysisFlags::FAST_RETRANSMISSION)
                || a.contains(AnalysisFlags::SPURIOUS_RETRANSMISSION);
            for (flag, what) in TCP_FINDINGS {
                if a.contains(flag) && !(flag == AnalysisFlags::RETRANSMISSION && special) {
                    self.add("TCP", what, frame);
                }
            }
            if let Some(etherparse::TransportSlice::Tcp(t)) = packet.transport()
                && t.rst()
            {
                self.add(
                    "TCP",
                    "RST: a connection was reset (RFC 9293 §3.5.2)",
                    frame,
                );
            }
        }
        if let Some(e) = icmp::decode_error(packet) {
            let what = match e.code_name() {
                Some(code) => format!("{} ({code})", e.type_name()),
                None => e.type_name().to_string(),
            };
            self.add("ICMP", &what, frame);
        }
        if let Some(m) = &packet.malformed {
            self.add("capture", &format!("malformed packet: {m}"), frame);
        } else if let Some(AppNote::Tftp(c)) = &notes.app
            && let Err(m) = &c.packet
        {
            self.add("TFTP", &format!("malformed TFTP packet: {m}"), frame);
        }
    }
}

/// The results of one run that the page shows.
#[derive(Debug)]
pub struct Parts {
    /// The capture's name as given.
    pub file: String,
    /// Statistics (with the TCP conversations).
    pub stats: Stats,
    /// The stream rows, in stream order.
    pub streams: Vec<StreamRow>,
    /// The sticky reports of the streams drawn.
    pub sticky: BTreeMap<u64, [sticky::Direction; 2]>,
    /// The TFTP transfers.
    pub transfers: Vec<tftp::Transfer>,
    /// The HTTP transactions.
    pub transactions: Vec<http::Transaction>,
    /// The ladders of [`ladder::Selection::Every`].
    pub ladders: Vec<Ladder>,
    /// The per-packet findings.
    pub findings: Findings,
    /// The limits the ladders were drawn with.
    pub limits: ladder::Limits,
    /// Why the capture could not be read to its end, when it could not.
    pub read_error: Option<String>,
}

/// An HTTP transaction's ladder.
#[derive(Debug, Clone, Serialize)]
pub struct HttpLadder {
    /// Index of the transaction in [`Page::transactions`].
    pub transaction: usize,
    /// Its part of its stream's ladder.
    pub ladder: Ladder,
}

/// The one-page report of a capture.
#[derive(Debug, Serialize)]
pub struct Page {
    /// The capture's name as given.
    pub file: String,
    /// Statistics (protocols by OSI layer, endpoints, conversations).
    pub stats: Stats,
    /// The TCP streams.
    pub streams: Vec<StreamRow>,
    /// Sticky reports of the streams drawn.
    pub sticky: BTreeMap<u64, [sticky::Direction; 2]>,
    /// Ladders of the first TCP streams, by stream id.
    pub stream_ladders: BTreeMap<u64, Ladder>,
    /// The TFTP transfers.
    pub transfers: Vec<tftp::Transfer>,
    /// Ladders of the first TFTP transfers, by transfer index.
    pub tftp_ladders: BTreeMap<usize, Ladder>,
    /// The HTTP transactions.
    pub transactions: Vec<http::Transaction>,
    /// Ladders of the HTTP transactions in drawn streams.
    pub http_ladders: Vec<HttpLadder>,
    /// Every warning with its frames.
    pub warnings: Vec<Warning>,
    /// The limits the ladders were drawn with.
    pub limits: ladder::Limits,
    /// Why the capture could not be read to its end, when it could not.
    pub read_error: Option<String>,
}

impl Page {
    /// Puts the parts together: ladders by subject, each HTTP transaction's part of its
    /// stream's ladder, and the warnings of every analysis.
    pub fn build(parts: Parts) -> Page {
        let mut stream_ladders = BTreeMap::new();
        let mut tftp_ladders = BTreeMap::new();
        for l in parts.ladders {
            match l.subject {
                ladder::Subject::TcpStream(n) => {
                    stream_ladders.insert(n, l);
                }
                ladder::Subject::TftpTransfer(t) => {
                    tftp_ladders.insert(t, l);
                }
                ladder::Subject::Udp | ladder::Subject::Filter => {}
            }
        }
        let mut http_ladders = Vec::new();
        for (i, t) in parts.transactions.iter().enumerate() {
            let (Some(first), Some(stream)) = (
                t.request_frame.or(t.response_frame),
                stream_ladders.get(&t.stream),
            ) else {
                continue;
            };
            if http_ladders.len() >= parts.limits.ladders {
                break;
            }
            let last = t
                .response_end_frame
                .or(t.response_frame)
                .or(t.request_end_frame)
                .unwrap_or(first);
            let title = format!(
                "HTTP stream {}, transaction {}: {} {}",
                t.stream,
                t.index,
                Escaped(t.method.as_deref().unwrap_or("(no request)")),
                Escaped(t.uri.as_deref().unwrap_or(""))
            );
            http_ladders.push(HttpLadder {
                transaction: i,
                ladder: stream.between(first, last, title),
            });
        }
        let mut warnings = parts.findings.into_warnings();
        for t in &parts.transfers {
            for w in &t.warnings {
                warnings.push(Warning {
                    source: format!("TFTP transfer {}", t.index),
                    what: w.message.clone(),
                    frames: w.frames.clone(),
                    more_frames: w.occurrences.saturating_sub(w.frames.len() as u64),
                });
            }
            if let Some(e) = &t.error {
                warnings.push(Warning {
                    source: format!("TFTP transfer {}", t.index),
                    what: format!("ERROR {} ({}): {}", e.code, e.meaning, Escaped(&e.message)),
                    frames: vec![e.frame],
                    more_frames: 0,
                });
            }
        }
        for t in &parts.transactions {
            for w in &t.warnings {
                warnings.push(Warning {
                    source: format!("HTTP stream {}, transaction {}", t.stream, t.index),
                    what: w.message.clone(),
                    frames: t.request_frame.or(t.response_frame).into_iter().collect(),
                    more_frames: 0,
                });
            }
        }
        for s in &parts.streams {
            let lost = s.gap_bytes;
            if lost > 0 {
                warnings.push(Warning {
                    source: format!("TCP stream {}", s.stream),
                    what: format!(
                        "{} never captured (gaps)",
                        crate::units::plural(lost, "byte was", "bytes were")
                    ),
                    frames: Vec::new(),
                    more_frames: 0,
                });
            }
        }
        if let Some(e) = &parts.read_error {
            warnings.push(Warning {
                source: "capture".to_string(),
                what: format!("the capture could not be read to its end: {e}"),
                frames: Vec::new(),
                more_frames: 0,
            });
        }
        Page {
            file: parts.file,
            stats: parts.stats,
            streams: parts.streams,
            sticky: parts.sticky,
            stream_ladders,
            transfers: parts.transfers,
            tftp_ladders,
            transactions: parts.transactions,
            http_ladders,
            warnings,
            limits: parts.limits,
            read_error: parts.read_error,
        }
    }
}
