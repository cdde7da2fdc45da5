//! Evaluating one check against what a capture showed. A check that finds no traffic says what
//! it looked for and what it saw instead.
//!
//! Checks that need their own view of the traffic own it in a [`CheckState`]: a `framing`
//! check frames the streams with its own spec, a `udp_echo` check pairs its own port's
//! datagrams, a `udp_broadcast` check counts its own port's broadcasts.

use std::collections::{BTreeSet, HashMap};
use std::hash::{Hash, Hasher};
use std::net::{IpAddr, SocketAddr};

use serde::Serialize;

use super::Evidence;
use super::rubric::{Check, CheckType};
use crate::analysis::sticky::{self, Sticky};
use crate::app::consumer::{Datagram, DatagramConsumer, Note};
use crate::app::tftp::TransferDirection;
use crate::engine::Engine;
use crate::flow::tcp::{CloseState, HandshakeState};
use crate::framing::FramingSpec;
use crate::units::FrameNumber;
use crate::view::text::Escaped;

/// Unanswered echo requests remembered per check at most (older ones are counted unanswered).
const MAX_PENDING_ECHOES: usize = 100_000;

/// Echo bookkeeping for one UDP port: each datagram to the port should come back, with the
/// same payload, to its sender.
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

fn payload_hash(payload: &[u8]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    payload.hash(&mut h);
    h.finish()
}

impl Echo {
    fn new(port: u16) -> Self {
        Echo {
            port,
            ..Echo::default()
        }
    }

    /// Requests still waiting count as unanswered.
    fn finish(&mut self) {
        let mut left: Vec<FrameNumber> = self.pending.drain().flat_map(|(_, f)| f).collect();
        self.unanswered.append(&mut left);
        self.unanswered.sort_unstable();
    }
}

impl DatagramConsumer for Echo {
    fn on_datagram<'a>(&'a mut self, d: &Datagram<'a>) -> Option<Note<'a>> {
        let (sport, dport) = (d.src.port(), d.dst.port());
        let hash = payload_hash(d.payload);
        if dport == self.port && sport != self.port {
            self.requests += 1;
            if self.pending.len() < MAX_PENDING_ECHOES {
                self.pending
                    .entry((d.src, hash))
                    .or_default()
                    .push(d.at.frame);
            } else {
                self.unanswered.push(d.at.frame);
            }
        } else if sport == self.port
            && let Some(frames) = self.pending.get_mut(&(d.dst, hash))
            && !frames.is_empty()
        {
            frames.remove(0);
            self.answered += 1;
        }
        None
    }
}

/// Datagrams to a broadcast address on one port.
#[derive(Debug, Clone, Default)]
pub struct Broadcasts {
    /// The port.
    pub port: u16,
    /// Datagrams to a broadcast address on it.
    pub count: u64,
}

impl DatagramConsumer for Broadcasts {
    fn on_datagram<'a>(&'a mut self, d: &Datagram<'a>) -> Option<Note<'a>> {
        if d.dst.port() == self.port && is_broadcast(d.dst.ip()) {
            self.count += 1;
        }
        None
    }
}

/// What one check gathers for itself while the capture is read.
pub enum CheckState {
    /// Nothing of its own: the check reads the shared [`Evidence`].
    Shared,
    /// A `udp_echo` check's pairing.
    Echo(Echo),
    /// A `udp_broadcast` check's count.
    Broadcasts(Broadcasts),
    /// A `framing` check's own framing of every stream (with its own spec).
    Framing(Box<Sticky<'static>>),
}

impl CheckState {
    /// The state `check` needs (`Shared` when it needs none of its own).
    pub fn new(check: &Check) -> Self {
        let port = check.port.unwrap_or_default();
        match check.kind {
            CheckType::UdpEcho => CheckState::Echo(Echo::new(port)),
            CheckType::UdpBroadcast => CheckState::Broadcasts(Broadcasts { port, count: 0 }),
            CheckType::Framing => {
                match check.framing.as_deref().map(str::parse::<FramingSpec>) {
                    Some(Ok(framing)) => {
                        CheckState::Framing(Box::new(Sticky::new(sticky::Options {
                            framing,
                            stream: None,
                            keep_segments: false,
                        })))
                    }
                    // The rubric parser refuses a bad spec; nothing to frame with otherwise.
                    _ => CheckState::Shared,
                }
            }
            _ => CheckState::Shared,
        }
    }

    /// Plugs the state into the engine that reads the capture.
    pub fn plug<'c>(&'c mut self, engine: &mut Engine<'c>) {
        match self {
            CheckState::Shared => {}
            CheckState::Echo(e) => {
                engine.datagram_consumer(e);
            }
            CheckState::Broadcasts(b) => {
                engine.datagram_consumer(b);
            }
            CheckState::Framing(s) => {
                engine.stream_consumer(s.as_mut());
            }
        }
    }
}

/// The outcome of one check.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    /// The check's id.
    pub id: String,
    /// Whether it passed.
    pub passed: bool,
    /// Points awarded.
    pub points: f64,
    /// Points possible.
    pub max_points: f64,
    /// What was found, for the student.
    pub message: String,
}

/// Items shown in a "saw ..." list at most; the rest are counted.
const MAX_LISTED: usize = 10;

/// `a, b, c` (at most [`MAX_LISTED`] items, then `and N more`), or `none` when empty.
fn listed<I: IntoIterator<Item = String>>(items: I, none: &str) -> String {
    let items: Vec<String> = items.into_iter().collect();
    if items.is_empty() {
        return none.to_string();
    }
    let shown = items
        .iter()
        .take(MAX_LISTED)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    match items.len().saturating_sub(MAX_LISTED) {
        0 => shown,
        more => format!("{shown} and {more} more"),
    }
}

/// `saw connections to 8080, 9000` or `saw no TCP connection`.
fn seen_tcp(ev: &Evidence) -> String {
    let ports = server_ports(ev);
    if ports.is_empty() {
        "saw no TCP connection".into()
    } else {
        format!(
            "saw connections to {}",
            listed(ports.iter().map(u16::to_string), "")
        )
    }
}

/// `saw datagrams to ports 53, 69` or `saw no UDP datagram`.
fn seen_udp(ev: &Evidence) -> String {
    if ev.udp_ports.is_empty() {
        "saw no UDP datagram".into()
    } else {
        format!(
            "saw datagrams to ports {}",
            listed(ev.udp_ports.iter().map(u16::to_string), "")
        )
    }
}

fn plural(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Evaluates `check`, with the state it gathered, against `ev`.
pub fn evaluate(check: &Check, state: CheckState, ev: &Evidence) -> CheckResult {
    let (passed, message) = match (check.kind, state) {
        (CheckType::TcpHandshake, _) => tcp_handshake(check, ev),
        (CheckType::TcpClose, _) => tcp_close(check, ev),
        (CheckType::UdpEcho, CheckState::Echo(mut echo)) => {
            echo.finish();
            udp_echo(&echo, ev)
        }
        (CheckType::UdpBroadcast, CheckState::Broadcasts(b)) => udp_broadcast(&b, ev),
        (CheckType::TftpTransfer, _) => tftp_transfer(check, ev),
        (CheckType::HttpResponse, _) => http_response(check, ev),
        (CheckType::Framing, CheckState::Framing(s)) => framing(check, &s.into_reports(), ev),
        (CheckType::MaxRetransmissions, _) => max_retransmissions(check, ev),
        (CheckType::UdpEcho | CheckType::UdpBroadcast | CheckType::Framing, _) => (
            false,
            "the check could not be evaluated (invalid parameters)".to_string(),
        ),
    };
    CheckResult {
        id: check.id.clone(),
        passed,
        points: if passed { check.points } else { 0.0 },
        max_points: check.points,
        message,
    }
}

fn server_ports(ev: &Evidence) -> BTreeSet<u16> {
    ev.streams.iter().map(|s| s.server.port).collect()
}

/// The connections to `port`, or the message saying none was found and what was seen.
fn streams_to(ev: &Evidence, port: u16) -> Result<Vec<&crate::flow::tcp::Stream>, String> {
    let streams: Vec<_> = ev
        .streams
        .iter()
        .filter(|s| s.server.port == port)
        .collect();
    if streams.is_empty() {
        return Err(format!(
            "no TCP connection to port {port}; {}",
            seen_tcp(ev)
        ));
    }
    Ok(streams)
}

fn tcp_handshake(check: &Check, ev: &Evidence) -> (bool, String) {
    let port = check.port.unwrap_or_default();
    let streams = match streams_to(ev, port) {
        Ok(s) => s,
        Err(message) => return (false, message),
    };
    let complete = streams
        .iter()
        .filter(|s| s.handshake.state == HandshakeState::Complete)
        .count();
    if complete > 0 {
        (
            true,
            format!(
                "{complete} of {} connections to port {port} completed the three-way handshake",
                streams.len()
            ),
        )
    } else {
        (
            false,
            format!(
                "{} to port {port}, none with a complete SYN, SYN-ACK, ACK handshake ({})",
                plural(streams.len() as u64, "connection", "connections"),
                listed(
                    streams.iter().map(|s| match s.handshake.state {
                        HandshakeState::Complete => "complete".to_string(),
                        HandshakeState::SynOnly => "a SYN without answer".to_string(),
                        HandshakeState::NoSynAck => "no SYN-ACK captured".to_string(),
                        HandshakeState::NoAck => "the SYN-ACK was never acknowledged".to_string(),
                        HandshakeState::NotSeen => "started before the capture".to_string(),
                    }),
                    "",
                )
            ),
        )
    }
}

fn tcp_close(check: &Check, ev: &Evidence) -> (bool, String) {
    let port = check.port.unwrap_or_default();
    let streams = match streams_to(ev, port) {
        Ok(s) => s,
        Err(message) => return (false, message),
    };
    let bad: Vec<String> = streams
        .iter()
        .filter(|s| {
            !matches!(
                s.close,
                CloseState::FourWay { .. } | CloseState::Simultaneous { .. }
            )
        })
        .map(|s| {
            format!(
                "stream {}: {}",
                s.id,
                crate::analysis::streams::close_name(&s.close).replace('_', " ")
            )
        })
        .collect();
    if bad.is_empty() {
        (
            true,
            format!(
                "all {} connections to port {port} closed with FIN",
                streams.len()
            ),
        )
    } else {
        (
            false,
            format!(
                "{} of {} connections to port {port} did not close gracefully ({})",
                bad.len(),
                streams.len(),
                bad.join("; ")
            ),
        )
    }
}

fn udp_echo(echo: &Echo, ev: &Evidence) -> (bool, String) {
    let port = echo.port;
    if echo.requests == 0 {
        return (
            false,
            format!("no UDP datagram to port {port}; {}", seen_udp(ev)),
        );
    }
    if echo.answered == echo.requests {
        (
            true,
            format!(
                "all {} to port {port} were echoed",
                plural(echo.requests, "datagram", "datagrams")
            ),
        )
    } else {
        let frames = listed(echo.unanswered.iter().map(|f| f.to_string()), "none");
        (
            false,
            format!(
                "{} of {} datagrams to port {port} not echoed with the same payload to the sender ({} {frames})",
                echo.requests - echo.answered,
                echo.requests,
                if echo.unanswered.len() == 1 {
                    "frame"
                } else {
                    "frames"
                },
            ),
        )
    }
}

fn udp_broadcast(b: &Broadcasts, ev: &Evidence) -> (bool, String) {
    let (port, n) = (b.port, b.count);
    if n > 0 {
        (
            true,
            format!("{n} datagrams to a broadcast address on port {port}"),
        )
    } else {
        (
            false,
            format!(
                "no datagram to a broadcast address on port {port}; {}",
                seen_udp(ev)
            ),
        )
    }
}

fn tftp_transfer(check: &Check, ev: &Evidence) -> (bool, String) {
    let file = check.file.clone().unwrap_or_default();
    let transfers = &ev.transfers;
    let wanted_dir = check.direction.as_deref().map(|d| {
        if d == "write" {
            TransferDirection::Write
        } else {
            TransferDirection::Read
        }
    });
    let matching: Vec<_> = transfers
        .iter()
        .filter(|t| t.file == file && wanted_dir.is_none_or(|d| t.direction == d))
        .collect();
    if matching.is_empty() {
        let name = |d: TransferDirection| match d {
            TransferDirection::Read => "read",
            TransferDirection::Write => "write",
        };
        let seen = listed(
            transfers.iter().map(|t| {
                let error = t
                    .error
                    .as_ref()
                    .map(|e| format!(" (ERROR {}: {})", e.code, Escaped(&e.message)))
                    .unwrap_or_default();
                // Names and messages from the capture, in a verdict's text: escaped.
                format!("a {} of {}{error}", name(t.direction), Escaped(&t.file))
            }),
            "no TFTP transfer",
        );
        let wanted = wanted_dir.map_or("transfer", name);
        return (false, format!("no TFTP {wanted} of {file}; saw {seen}"));
    }
    let mut problems = Vec::new();
    for t in &matching {
        let mut p = Vec::new();
        if let Some(e) = &t.error {
            p.push(format!(
                "ERROR {} ({}): {}",
                e.code,
                e.meaning,
                Escaped(&e.message)
            ));
        }
        if check.complete.unwrap_or(true) && !t.complete {
            p.push("not complete".to_string());
        }
        if let Some(size) = check.size
            && t.bytes != size
        {
            p.push(format!("{} bytes instead of {size}", t.bytes));
        }
        if let Some(sha) = &check.sha256
            && t.sha256.as_deref() != Some(sha.to_ascii_lowercase().as_str())
        {
            p.push(format!(
                "sha256 {} instead of {sha}",
                t.sha256.as_deref().unwrap_or("unknown")
            ));
        }
        if p.is_empty() {
            return (
                true,
                format!(
                    "transfer of {file} complete: {} bytes in {} blocks",
                    t.bytes, t.blocks
                ),
            );
        }
        problems.push(p.join(", "));
    }
    (
        false,
        format!("transfer of {file}: {}", problems.join("; ")),
    )
}

fn http_response(check: &Check, ev: &Evidence) -> (bool, String) {
    let path = check.path.clone().unwrap_or_default();
    let txs: Vec<_> = ev
        .transactions
        .iter()
        .filter(|t| t.uri.as_deref() == Some(path.as_str()))
        .filter(|t| {
            check.method.as_deref().is_none_or(|m| {
                t.method
                    .as_deref()
                    .is_some_and(|x| x.eq_ignore_ascii_case(m))
            })
        })
        .collect();
    if txs.is_empty() {
        let txs = &ev.transactions;
        let seen = if txs.is_empty() {
            let ports = server_ports(ev);
            if ports.is_empty() {
                "no HTTP request and no TCP connection".to_string()
            } else {
                format!(
                    "no HTTP request on the connections to {}",
                    listed(ports.iter().map(u16::to_string), "")
                )
            }
        } else {
            listed(
                txs.iter().map(|t| {
                    format!(
                        "{} {}",
                        Escaped(t.method.as_deref().unwrap_or("?")),
                        Escaped(t.uri.as_deref().unwrap_or("?"))
                    )
                }),
                "",
            )
        };
        let method = check
            .method
            .as_deref()
            .map(|m| format!("{m} "))
            .unwrap_or_default();
        return (false, format!("no HTTP request {method}{path}; saw {seen}"));
    }
    let mut problems = Vec::new();
    for t in &txs {
        let mut p = Vec::new();
        if let Some(s) = check.status
            && t.status != Some(s)
        {
            p.push(format!(
                "status {} instead of {s}",
                t.status.map_or("none".into(), |x| x.to_string())
            ));
        }
        if let Some(ct) = &check.content_type {
            let got = t.content_type.as_deref().unwrap_or("");
            if !got
                .to_ascii_lowercase()
                .starts_with(&ct.to_ascii_lowercase())
            {
                p.push(format!("content type {got:?} instead of {ct:?}"));
            }
        }
        // The body as sent (de-chunked), hashed and searched while the capture was read.
        let body = t.body_hash.as_ref();
        let sha256 = body.map(|b| b.written.sha256_hex());
        if let Some(sha) = &check.sha256
            && sha256.as_deref() != Some(sha.to_ascii_lowercase().as_str())
        {
            p.push(format!(
                "body sha256 {} instead of {sha}",
                sha256.as_deref().unwrap_or("unknown")
            ));
        }
        if let Some(text) = &check.body_contains {
            let needle = ev.body_needles.iter().position(|n| n == text);
            let contains = body
                .zip(needle)
                .and_then(|(b, i)| b.contains.get(i).copied())
                .unwrap_or(false);
            if !contains {
                p.push(format!("body does not contain {text:?}"));
            }
        }
        if check.no_warnings.unwrap_or(false) && !t.warnings.is_empty() {
            let w: Vec<&str> = t.warnings.iter().map(|w| w.message.as_str()).collect();
            p.push(format!("warnings: {}", w.join("; ")));
        }
        if p.is_empty() {
            return (
                true,
                format!(
                    "{} {path} answered {} {}",
                    Escaped(t.method.as_deref().unwrap_or("?")),
                    t.status.map_or("-".into(), |s| s.to_string()),
                    Escaped(t.content_type.as_deref().unwrap_or(""))
                ),
            );
        }
        problems.push(p.join(", "));
    }
    (false, format!("{path}: {}", problems.join("; ")))
}

fn framing(check: &Check, sticky: &[sticky::Direction], ev: &Evidence) -> (bool, String) {
    let port = check.port.unwrap_or_default();
    let spec = check.framing.clone().unwrap_or_default();
    let ids: BTreeSet<u64> = match streams_to(ev, port) {
        Ok(streams) => streams.iter().map(|s| s.id.0).collect(),
        Err(message) => return (false, message),
    };
    let reports: Vec<_> = sticky
        .iter()
        .filter(|r| ids.contains(&r.stream) && r.data_segments > 0)
        .collect();
    let messages: u64 = reports.iter().filter_map(|r| r.messages).sum();
    let issues: Vec<String> = reports
        .iter()
        .flat_map(|r| {
            r.issues
                .iter()
                .map(move |i| format!("stream {} offset {}: {}", r.stream, i.offset, i.reason))
        })
        .collect();
    let coalesced: u64 = reports.iter().filter_map(|r| r.coalesced_segments).sum();
    let split: u64 = reports.iter().filter_map(|r| r.split_messages).sum();
    let mut problems = Vec::new();
    if messages == 0 {
        problems.push(format!("no {spec} message found"));
    }
    if !issues.is_empty() {
        problems.push(format!("framing errors: {}", issues.join("; ")));
    }
    if let Some(m) = check.max_coalesced
        && coalesced > m
    {
        problems.push(format!(
            "{} (at most {m} allowed)",
            plural(coalesced, "coalesced segment", "coalesced segments")
        ));
    }
    if let Some(m) = check.max_split
        && split > m
    {
        problems.push(format!(
            "{} (at most {m} allowed)",
            plural(split, "split message", "split messages")
        ));
    }
    if problems.is_empty() {
        (
            true,
            format!(
                "{messages} well-formed {spec} messages ({coalesced} coalesced segments, {split} split messages)"
            ),
        )
    } else {
        (false, format!("port {port}: {}", problems.join("; ")))
    }
}

fn max_retransmissions(check: &Check, ev: &Evidence) -> (bool, String) {
    let max = check.max.unwrap_or_default();
    let total: u64 = ev
        .streams
        .iter()
        .filter(|s| check.port.is_none_or(|p| s.server.port == p))
        .map(|s| s.client_to_server.retransmissions + s.server_to_client.retransmissions)
        .sum();
    (
        total <= max,
        format!(
            "{} (at most {max} allowed)",
            plural(total, "TCP retransmission", "TCP retransmissions")
        ),
    )
}

/// True for 255.255.255.255 and for an IPv4 address ending in .255 (a likely directed
/// broadcast).
pub fn is_broadcast(addr: IpAddr) -> bool {
    match addr {
        IpAddr::V4(a) => a.is_broadcast() || a.octets()[3] == 255,
        IpAddr::V6(_) => false,
    }
}
