//! Evaluating one check against what a capture showed, with messages that teach: each failure
//! says what the program did, in the student's terms, with the frames that show it (and the
//! RFC section where one applies). A check that finds no traffic says what it looked for and
//! what it saw instead.
//!
//! Checks that need their own view of the traffic own it in a [`CheckState`]: a `framing`
//! check frames the streams with its own spec, a `udp_echo` check pairs its own port's
//! datagrams with their replies (and the ICMP errors that answered them), a `udp_broadcast`
//! check counts its own port's datagrams.
//!
//! A `tftp_transfer` check with a `role` judges that side only: its duties are the transfer's
//! findings made against it ([`crate::app::tftp::Transfer::warnings_by`]); those about the
//! ending ([`ENDING_KINDS`]) count only when the check asks for `clean_end`. So a correct
//! server keeps its points when the client of the capture skipped the final ACK, and a server
//! that closed its port before the final ACK loses the `clean_end` points.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::net::{IpAddr, SocketAddr};

use serde::Serialize;

use super::Evidence;
use super::rubric::{Check, CheckType, FramingDirection};
use crate::analysis::sticky::{self, Status, Sticky};
use crate::app::consumer::{At, Datagram, DatagramConsumer, Note};
use crate::app::tftp::{Role, Transfer, TransferDirection, WarningKind};
use crate::decode::icmp::{ErrorKind, ErrorMessage, Version};
use crate::engine::Engine;
use crate::flow::tcp::{CloseState, HandshakeState, Stream};
use crate::units::{Direction, FrameNumber};
use crate::view::text::Escaped;

/// Unanswered echo requests remembered per check at most (older ones are counted unanswered).
const MAX_PENDING_ECHOES: usize = 100_000;
/// Bytes of request payloads kept per check to tell a truncated reply from a changed one
/// (requests past it are compared by hash and length only).
const MAX_STORED_ECHO_BYTES: usize = 16 * 1024 * 1024;
/// Echo failures described per check at most (the rest are counted).
const MAX_ECHO_FAILURES: usize = 1_000;
/// Non-broadcast datagrams remembered per `udp_broadcast` check, to say where they went.
const MAX_UNICAST_LISTED: usize = 32;

/// `1,500` for 1500: numbers in messages are written as people write them (the grouping every
/// report uses).
pub use crate::framing::grouped as thousands;

fn payload_hash(payload: &[u8]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    payload.hash(&mut h);
    h.finish()
}

/// A request waiting for its echo.
#[derive(Debug, Clone)]
struct Pending {
    frame: FrameNumber,
    server: SocketAddr,
    len: usize,
    hash: u64,
    /// The payload, while [`MAX_STORED_ECHO_BYTES`] allows.
    payload: Option<Vec<u8>>,
}

/// Why one datagram sent to an echo server did not come back as it went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EchoFailure {
    /// Nothing came back.
    NoReply {
        /// The request.
        frame: FrameNumber,
    },
    /// An ICMP error answered the request instead.
    Icmp {
        /// The request.
        frame: FrameNumber,
        /// The ICMP error.
        icmp_frame: FrameNumber,
        /// Where the request went.
        server: SocketAddr,
        /// True for port unreachable: nothing listened there.
        port_unreachable: bool,
        /// `Destination unreachable (Host unreachable)`, for other errors.
        what: String,
    },
    /// The reply is the first part of the request only.
    Truncated {
        /// The request.
        frame: FrameNumber,
        /// The reply.
        reply: FrameNumber,
        /// Bytes sent.
        sent: usize,
        /// Bytes back.
        back: usize,
    },
    /// The reply's bytes differ from the request's.
    Changed {
        /// The request.
        frame: FrameNumber,
        /// The reply.
        reply: FrameNumber,
        /// Bytes sent.
        sent: usize,
        /// Bytes back.
        back: usize,
        /// Offset of the first byte that differs, when the request's bytes were kept.
        first_difference: Option<usize>,
    },
    /// The reply came from another port than the one the request went to.
    OtherPort {
        /// The request.
        frame: FrameNumber,
        /// The reply.
        reply: FrameNumber,
        /// The port it came from.
        from_port: u16,
    },
}

impl EchoFailure {
    /// The request's frame.
    pub fn frame(&self) -> FrameNumber {
        match self {
            EchoFailure::NoReply { frame }
            | EchoFailure::Icmp { frame, .. }
            | EchoFailure::Truncated { frame, .. }
            | EchoFailure::Changed { frame, .. }
            | EchoFailure::OtherPort { frame, .. } => *frame,
        }
    }

    /// The frames that show it after the request (`reply in frame 8`), and what went wrong,
    /// for a message; failures with the same explanation are listed together.
    fn describe(&self, port: u16) -> (String, String) {
        match self {
            EchoFailure::NoReply { .. } => (String::new(), "no reply".into()),
            EchoFailure::Icmp {
                icmp_frame,
                server,
                port_unreachable: true,
                ..
            } => (
                format!("ICMP port unreachable in frame {icmp_frame}"),
                format!("no reply: nothing listened on {server}"),
            ),
            EchoFailure::Icmp {
                icmp_frame, what, ..
            } => (
                format!("ICMP in frame {icmp_frame}"),
                format!("no reply: ICMP {what} came back instead"),
            ),
            EchoFailure::Truncated {
                reply, sent, back, ..
            } => (
                format!("reply in frame {reply}"),
                format!(
                    "reply truncated — {} bytes sent, {} back, as a recvfrom({}) would: the server's receive buffer must hold the largest datagram (up to 65,507 bytes)",
                    thousands(*sent as u64),
                    thousands(*back as u64),
                    back
                ),
            ),
            EchoFailure::Changed {
                reply,
                sent,
                back,
                first_difference,
                ..
            } => (
                format!("reply in frame {reply}"),
                match first_difference {
                    Some(at) if sent == back => format!(
                        "reply changed — {} bytes both ways, but they differ from byte {at} on",
                        thousands(*sent as u64)
                    ),
                    _ => format!(
                        "reply changed — {} bytes sent, {} different bytes back",
                        thousands(*sent as u64),
                        thousands(*back as u64)
                    ),
                },
            ),
            EchoFailure::OtherPort {
                reply, from_port, ..
            } => (
                format!("reply in frame {reply}"),
                format!(
                    "the reply came from port {from_port}, not {port}: a client that connect()ed to the server drops it; answer with sendto() on the socket that received the datagram"
                ),
            ),
        }
    }
}

/// Echo bookkeeping for one UDP port: each datagram to the port should come back, with the
/// same payload, from the same port to its sender.
#[derive(Debug, Clone, Default)]
pub struct Echo {
    /// The server port.
    pub port: u16,
    /// Datagrams sent to it.
    pub requests: u64,
    /// Of those, answered with the same payload from the port to their sender.
    pub answered: u64,
    /// Requests not echoed as sent, in frame order (the first 1,000).
    pub failures: Vec<EchoFailure>,
    /// Every request not echoed (more than `failures.len()` when some were left out).
    pub failed: u64,
    pending: HashMap<SocketAddr, VecDeque<Pending>>,
    pending_count: usize,
    stored_bytes: usize,
}

impl Echo {
    fn new(port: u16) -> Self {
        Echo {
            port,
            ..Echo::default()
        }
    }

    fn fail(&mut self, f: EchoFailure) {
        self.failed += 1;
        if self.failures.len() < MAX_ECHO_FAILURES {
            self.failures.push(f);
        }
    }

    fn take(&mut self, client: SocketAddr, index: usize) -> Option<Pending> {
        let queue = self.pending.get_mut(&client)?;
        let p = queue.remove(index)?;
        if queue.is_empty() {
            self.pending.remove(&client);
        }
        self.pending_count -= 1;
        if let Some(b) = &p.payload {
            self.stored_bytes -= b.len();
        }
        Some(p)
    }

    /// Requests still waiting count as unanswered.
    fn finish(&mut self) {
        let mut left: Vec<FrameNumber> = self
            .pending
            .drain()
            .flat_map(|(_, q)| q.into_iter().map(|p| p.frame))
            .collect();
        left.sort_unstable();
        self.pending_count = 0;
        self.stored_bytes = 0;
        for frame in left {
            self.fail(EchoFailure::NoReply { frame });
        }
        self.failures.sort_by_key(EchoFailure::frame);
    }

    fn on_reply(&mut self, d: &Datagram<'_>) {
        let Some(queue) = self.pending.get(&d.dst) else {
            return;
        };
        // A reply comes from the address the request went to.
        if queue.front().is_none_or(|p| p.server.ip() != d.src.ip()) {
            return;
        }
        let hash = payload_hash(d.payload);
        let exact = queue
            .iter()
            .position(|p| p.len == d.payload.len() && p.hash == hash);
        let Some(p) = self.take(d.dst, exact.unwrap_or(0)) else {
            return;
        };
        let reply = d.at.frame;
        let (sent, back) = (p.len, d.payload.len());
        if d.src.port() != self.port {
            self.fail(EchoFailure::OtherPort {
                frame: p.frame,
                reply,
                from_port: d.src.port(),
            });
        } else if exact.is_some() {
            self.answered += 1;
        } else {
            let stored = p.payload.as_deref();
            let truncated = back < sent && stored.is_some_and(|s| s.starts_with(d.payload));
            if truncated {
                self.fail(EchoFailure::Truncated {
                    frame: p.frame,
                    reply,
                    sent,
                    back,
                });
            } else {
                let first_difference = stored.and_then(|s| {
                    s.iter()
                        .zip(d.payload)
                        .position(|(a, b)| a != b)
                        .or_else(|| (s.len() != d.payload.len()).then(|| s.len().min(back)))
                });
                self.fail(EchoFailure::Changed {
                    frame: p.frame,
                    reply,
                    sent,
                    back,
                    first_difference,
                });
            }
        }
    }
}

impl DatagramConsumer for Echo {
    fn on_datagram<'a>(&'a mut self, d: &Datagram<'a>) -> Option<Note<'a>> {
        let (sport, dport) = (d.src.port(), d.dst.port());
        if dport == self.port && sport != self.port {
            self.requests += 1;
            if self.pending_count >= MAX_PENDING_ECHOES {
                self.fail(EchoFailure::NoReply { frame: d.at.frame });
                return None;
            }
            let keep = self.stored_bytes + d.payload.len() <= MAX_STORED_ECHO_BYTES;
            if keep {
                self.stored_bytes += d.payload.len();
            }
            self.pending_count += 1;
            self.pending.entry(d.src).or_default().push_back(Pending {
                frame: d.at.frame,
                server: d.dst,
                len: d.payload.len(),
                hash: payload_hash(d.payload),
                payload: keep.then(|| d.payload.to_vec()),
            });
        } else {
            self.on_reply(d);
        }
        None
    }

    fn on_icmp_error(&mut self, at: At, error: &ErrorMessage<'_>) {
        let Some(flow) = error.flow() else {
            return;
        };
        if flow.dst.port() != self.port {
            return;
        }
        // The ICMP error answers the latest request of that client to that server.
        let Some(index) = self
            .pending
            .get(&flow.src)
            .and_then(|q| q.iter().rposition(|p| p.server == flow.dst))
        else {
            return;
        };
        let Some(p) = self.take(flow.src, index) else {
            return;
        };
        let port_unreachable = error.kind == ErrorKind::DestinationUnreachable
            && match error.version {
                Version::V4 => error.code == 3,
                Version::V6 => error.code == 4,
            };
        let what = match error.code_name() {
            Some(code) => format!("{} ({code})", error.type_name()),
            None => error.type_name().to_string(),
        };
        self.fail(EchoFailure::Icmp {
            frame: p.frame,
            icmp_frame: at.frame,
            server: p.server,
            port_unreachable,
            what,
        });
    }
}

/// Datagrams to one port: those to a broadcast address counted, the others listed.
#[derive(Debug, Clone, Default)]
pub struct Broadcasts {
    /// The port.
    pub port: u16,
    /// Datagrams to a broadcast address on it.
    pub count: u64,
    /// Frames of the first of them.
    pub frames: Vec<FrameNumber>,
    /// Datagrams to the port sent to a unicast address: how many.
    pub unicast: u64,
    /// Their destinations and frames (the first 32).
    pub unicast_listed: Vec<(IpAddr, FrameNumber)>,
}

impl DatagramConsumer for Broadcasts {
    fn on_datagram<'a>(&'a mut self, d: &Datagram<'a>) -> Option<Note<'a>> {
        if d.dst.port() != self.port {
            return None;
        }
        if is_broadcast(d.dst.ip()) {
            self.count += 1;
            if self.frames.len() < MAX_UNICAST_LISTED {
                self.frames.push(d.at.frame);
            }
        } else {
            self.unicast += 1;
            if self.unicast_listed.len() < MAX_UNICAST_LISTED {
                self.unicast_listed.push((d.dst.ip(), d.at.frame));
            }
        }
        None
    }
}

/// What one check gathers for itself while the capture is read.
pub enum CheckState {
    /// Nothing of its own: the check reads the shared [`Evidence`].
    Shared,
    /// A `udp_echo` check's pairing.
    Echo(Box<Echo>),
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
            CheckType::UdpEcho => CheckState::Echo(Box::new(Echo::new(port))),
            CheckType::UdpBroadcast => CheckState::Broadcasts(Broadcasts {
                port,
                ..Broadcasts::default()
            }),
            CheckType::Framing => match &check.framing {
                Some(framing) => CheckState::Framing(Box::new(Sticky::new(sticky::Options {
                    framing: framing.clone(),
                    stream: None,
                    keep_segments: false,
                }))),
                // The rubric parser requires a framing; nothing to frame with otherwise.
                None => CheckState::Shared,
            },
            _ => CheckState::Shared,
        }
    }

    /// Plugs the state into the engine that reads the capture.
    pub fn plug<'c>(&'c mut self, engine: &mut Engine<'c>) {
        match self {
            CheckState::Shared => {}
            CheckState::Echo(e) => {
                engine.datagram_consumer(e.as_mut());
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
    /// The check's description from the rubric (empty when it has none).
    pub description: String,
    /// Whether it passed.
    pub passed: bool,
    /// Points awarded.
    pub points: f64,
    /// Points possible.
    pub max_points: f64,
    /// What was found, for the student.
    pub message: String,
}

impl CheckResult {
    /// `id: description`, or the id alone when the check has no description (the name of the
    /// check in JUnit and Gradescope).
    pub fn title(&self) -> String {
        if self.description.trim().is_empty() {
            self.id.clone()
        } else {
            format!("{}: {}", self.id, self.description)
        }
    }
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

/// `frame 7` or `frames 1, 3, 5`.
fn frames_text(frames: &[FrameNumber]) -> String {
    match frames {
        [one] => format!("frame {one}"),
        _ => format!(
            "frames {}",
            listed(frames.iter().map(|f| f.to_string()), "")
        ),
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
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
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
            "the check could not be evaluated (its parameters are missing)".to_string(),
        ),
    };
    CheckResult {
        id: check.id.clone(),
        description: check.description.clone(),
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
fn streams_to(ev: &Evidence, port: u16) -> Result<Vec<&Stream>, String> {
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

/// `the client` / `the server` for a direction's sender.
fn sender(d: Direction) -> &'static str {
    match d {
        Direction::ClientToServer => "the client",
        Direction::ServerToClient => "the server",
    }
}

/// Why a connection's handshake is not complete, in words, with its frames.
fn handshake_words(s: &Stream, port: u16) -> String {
    let h = &s.handshake;
    let syn = h
        .syn
        .map(|f| format!("the SYN (frame {f})"))
        .unwrap_or_else(|| "the SYN".into());
    match (h.state, s.close) {
        (HandshakeState::Complete, _) => "complete".into(),
        (
            HandshakeState::SynOnly,
            CloseState::Reset {
                by: Direction::ServerToClient,
                frame,
            },
        ) => format!(
            "connection refused: {syn} was answered by RST (frame {frame}) — nothing listened on {port}"
        ),
        (HandshakeState::SynOnly, _) => format!(
            "{syn} was never answered: no SYN-ACK came back (is the server running, and listening on {}:{port}?)",
            s.server.addr
        ),
        (HandshakeState::NoSynAck, _) => {
            format!("{syn} was followed by data but no SYN-ACK was captured")
        }
        (HandshakeState::NoAck, _) => format!(
            "the client never acknowledged the SYN-ACK{}",
            h.syn_ack
                .map(|f| format!(" (frame {f})"))
                .unwrap_or_default()
        ),
        (HandshakeState::NotSeen, _) => format!(
            "it started before the capture (no SYN captured, first frame {}): start tcpdump before the programs",
            s.first_frame
        ),
    }
}

fn tcp_handshake(check: &Check, ev: &Evidence) -> (bool, String) {
    let port = check.port.unwrap_or_default();
    let streams = match streams_to(ev, port) {
        Ok(s) => s,
        Err(message) => return (false, message),
    };
    let complete: Vec<&&Stream> = streams
        .iter()
        .filter(|s| s.handshake.state == HandshakeState::Complete)
        .collect();
    if let Some(first) = complete.first() {
        let h = &first.handshake;
        let frame = |f: Option<FrameNumber>| f.map_or("-".into(), |f| f.to_string());
        (
            true,
            format!(
                "{} of {} to port {port} completed the three-way handshake (the first: SYN in frame {}, SYN-ACK {}, ACK {})",
                thousands(complete.len() as u64),
                plural(streams.len() as u64, "connection", "connections"),
                frame(h.syn),
                frame(h.syn_ack),
                frame(h.ack)
            ),
        )
    } else {
        (
            false,
            format!(
                "{} to port {port}, none with a complete SYN, SYN-ACK, ACK handshake: {}",
                plural(streams.len() as u64, "connection", "connections"),
                grouped(
                    streams
                        .iter()
                        .map(|s| (format!("stream {}", s.id), handshake_words(s, port)))
                )
            ),
        )
    }
}

/// Items with the same explanation listed together: `stream 0, stream 2: reset by the server`.
fn grouped(items: impl IntoIterator<Item = (String, String)>) -> String {
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    let mut total = 0usize;
    for (what, why) in items {
        total += 1;
        match groups.iter_mut().find(|(w, _)| *w == why) {
            Some((_, whats)) => whats.push(what),
            None => groups.push((why, vec![what])),
        }
    }
    let shown: Vec<String> = groups
        .iter()
        .take(MAX_LISTED)
        .map(|(why, whats)| {
            let whats = listed(whats.iter().cloned(), "");
            if why.is_empty() {
                whats
            } else if whats.is_empty() {
                why.clone()
            } else {
                format!("{whats}: {why}")
            }
        })
        .collect();
    let left: usize = groups.iter().skip(MAX_LISTED).map(|(_, w)| w.len()).sum();
    let mut text = shown.join("; ");
    if left > 0 {
        text.push_str(&format!("; and {left} more (of {total})"));
    }
    text
}

/// How a connection ended, in words, with the frames.
fn close_words(close: &CloseState) -> String {
    let who = |d: Direction| match d {
        Direction::ClientToServer => "the client",
        Direction::ServerToClient => "the server",
    };
    match *close {
        CloseState::Open => "still open when the capture ended (no FIN, no RST)".into(),
        CloseState::HalfClosed { by, fin } => format!(
            "only {} closed (FIN in frame {fin}); the other side never sent its FIN",
            who(by)
        ),
        CloseState::FourWay {
            first_fin,
            second_fin,
            ..
        } => format!("closed with FIN (frames {first_fin} and {second_fin})"),
        CloseState::Simultaneous {
            client_fin,
            server_fin,
        } => format!(
            "closed with FIN from both sides at once (frames {client_fin} and {server_fin})"
        ),
        CloseState::Reset { by, frame } => format!(
            "reset by {} (RST in frame {frame}) instead of a FIN close: an abortive close (SO_LINGER with a 0 timeout, or a program that exits with unread data) loses data still in flight",
            who(by)
        ),
    }
}

fn tcp_close(check: &Check, ev: &Evidence) -> (bool, String) {
    let port = check.port.unwrap_or_default();
    let streams = match streams_to(ev, port) {
        Ok(s) => s,
        Err(message) => return (false, message),
    };
    let bad: Vec<(String, String)> = streams
        .iter()
        .filter(|s| {
            !matches!(
                s.close,
                CloseState::FourWay { .. } | CloseState::Simultaneous { .. }
            )
        })
        .map(|s| (format!("stream {}", s.id), close_words(&s.close)))
        .collect();
    if bad.is_empty() {
        (
            true,
            format!(
                "all {} to port {port} closed with FIN",
                plural(streams.len() as u64, "connection", "connections")
            ),
        )
    } else {
        (
            false,
            format!(
                "{} of {} connections to port {port} did not close gracefully: {}",
                thousands(bad.len() as u64),
                thousands(streams.len() as u64),
                grouped(bad)
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
    if echo.failed == 0 && echo.answered == echo.requests {
        return (
            true,
            format!(
                "all {} to port {port} were echoed unchanged",
                plural(echo.requests, "datagram", "datagrams")
            ),
        );
    }
    let items = echo.failures.iter().map(|f| {
        let (after, why) = f.describe(port);
        let what = if after.is_empty() {
            format!("frame {}", f.frame())
        } else {
            format!("frame {} ({after})", f.frame())
        };
        (what, why)
    });
    let mut text = format!(
        "{} of {} datagrams to port {port} were not echoed as sent: {}",
        thousands(echo.failed.max(echo.requests - echo.answered)),
        thousands(echo.requests),
        grouped(items)
    );
    let left = echo.failed.saturating_sub(echo.failures.len() as u64);
    if left > 0 {
        text.push_str(&format!(" ({} more not described)", thousands(left)));
    }
    (false, text)
}

fn udp_broadcast(b: &Broadcasts, ev: &Evidence) -> (bool, String) {
    let port = b.port;
    if b.count > 0 {
        return (
            true,
            format!(
                "{} to a broadcast address on port {port} ({})",
                plural(b.count, "datagram", "datagrams"),
                frames_text(&b.frames)
            ),
        );
    }
    if b.unicast > 0 {
        let mut by_dest: Vec<(IpAddr, Vec<FrameNumber>)> = Vec::new();
        for (ip, f) in &b.unicast_listed {
            match by_dest.iter_mut().find(|(i, _)| i == ip) {
                Some((_, fs)) => fs.push(*f),
                None => by_dest.push((*ip, vec![*f])),
            }
        }
        let dests = listed(
            by_dest
                .iter()
                .map(|(ip, fs)| format!("{ip} ({})", frames_text(fs))),
            "",
        );
        return (
            false,
            format!(
                "no datagram to a broadcast address on port {port}: the {} to port {port} went to {dests}, a single host's address (unicast); a broadcast needs setsockopt(SOL_SOCKET, SO_BROADCAST, 1) and a broadcast destination (255.255.255.255, '<broadcast>' in Python, or the subnet's x.x.x.255)",
                plural(b.unicast, "datagram", "datagrams")
            ),
        );
    }
    (
        false,
        format!(
            "no datagram to a broadcast address on port {port}; {}",
            seen_udp(ev)
        ),
    )
}

/// Findings about the ending of a transfer: a side is held to them only when the check asks
/// for a clean ending (`clean_end = true`).
pub const ENDING_KINDS: [WarningKind; 4] = [
    WarningKind::LastBlockNotAcked,
    WarningKind::ClosedBeforeFinalAck,
    WarningKind::PortClosedDuringTransfer,
    WarningKind::ErrorAfterCompletion,
];

/// `read` / `write`.
fn direction_word(d: TransferDirection) -> &'static str {
    match d {
        TransferDirection::Read => "read",
        TransferDirection::Write => "write",
    }
}

/// The standard meaning of a TFTP error code (RFC 1350 appendix, RFC 2347).
fn error_meaning(code: u16) -> &'static str {
    match code {
        0 => "Not defined",
        1 => "File not found",
        2 => "Access violation",
        3 => "Disk full or allocation exceeded",
        4 => "Illegal TFTP operation",
        5 => "Unknown transfer ID",
        6 => "File already exists",
        7 => "No such user",
        8 => "Option negotiation refused",
        _ => "unknown code",
    }
}

/// `[RFC 1350 §6]` after a warning's message, when it cites one.
fn with_rfc(message: &str, rfc: Option<&str>) -> String {
    match rfc {
        Some(r) => format!("{message} [{r}]"),
        None => message.to_string(),
    }
}

/// Why the data of a transfer is not complete.
fn incomplete_words(t: &Transfer) -> String {
    if !t.answered {
        let why = t
            .warning(WarningKind::NoServer)
            .or_else(|| t.warning(WarningKind::NoAnswer))
            .map(|w| format!(": {}", with_rfc(&w.message, w.rfc)))
            .unwrap_or_default();
        return format!(
            "the {} (frame {}) was never answered{why}",
            t.direction.request_name(),
            t.request_frame
        );
    }
    let mut text = format!(
        "not all the data arrived: {} in {}",
        plural(t.bytes, "byte", "bytes"),
        plural(t.blocks, "block", "blocks")
    );
    if let Some(w) = t.warning(WarningKind::StoppedAtBlock65535) {
        text.push_str(&format!("; {}", with_rfc(&w.message, w.rfc)));
    } else if t.final_block.is_none() {
        text.push_str(", and no final (short) block");
    }
    if t.missing_blocks > 0 {
        text.push_str(&format!(
            "; {} never in the capture",
            plural(t.missing_blocks, "block", "blocks")
        ));
    }
    text
}

/// What one transfer lacks for the check, or nothing when it passes.
fn tftp_problems(check: &Check, t: &Transfer) -> Vec<String> {
    let role = check.role;
    let mut p = Vec::new();
    let want_complete = check.complete.unwrap_or(check.error_code.is_none());
    match (check.error_code, &t.error) {
        (Some(code), None) if t.complete => p.push(format!(
            "the server sent the file ({}) instead of ERROR {code} ({})",
            plural(t.bytes, "byte", "bytes"),
            error_meaning(code)
        )),
        (Some(code), None) => p.push(format!(
            "no ERROR {code} ({}) from the server: {}",
            error_meaning(code),
            incomplete_words(t)
        )),
        (Some(code), Some(e)) if e.from != Role::Server => p.push(format!(
            "the client sent ERROR {} ({}) in frame {}, not the server ERROR {code}",
            e.code, e.meaning, e.frame
        )),
        (Some(code), Some(e)) if e.code != code => {
            let why = t
                .warning(WarningKind::WrongErrorCode)
                .map(|w| format!(": {}", with_rfc(&w.message, w.rfc)))
                .unwrap_or_default();
            p.push(format!(
                "the server answered ERROR {} ({}) in frame {} where ERROR {code} ({}) was expected{why}",
                e.code,
                e.meaning,
                e.frame,
                error_meaning(code)
            ));
        }
        (Some(_), Some(_)) => {}
        (None, Some(e)) => {
            let fault = match role {
                Some(r) if r != e.from => format!(
                    " (the {} ended the transfer: the {} could not be judged on it)",
                    e.from,
                    r.name()
                ),
                _ => String::new(),
            };
            p.push(format!(
                "the {} sent ERROR {} ({}) in frame {}: \"{}\"{fault}",
                e.from,
                e.code,
                e.meaning,
                e.frame,
                Escaped(&e.message)
            ));
        }
        (None, None) => {}
    }
    if want_complete && !t.complete && t.error.is_none() {
        p.push(incomplete_words(t));
    }
    let (size, sha) = match &t.decoded {
        // Netascii: the file as stored may be the decoded one.
        Some(d) => (
            vec![t.bytes, d.size],
            vec![t.sha256.clone(), Some(d.sha256_hex())],
        ),
        None => (vec![t.bytes], vec![t.sha256.clone()]),
    };
    if let Some(want) = check.size
        && !size.contains(&want)
    {
        p.push(format!(
            "{} instead of {}",
            plural(t.bytes, "byte", "bytes"),
            thousands(want)
        ));
    }
    if let Some(want) = &check.sha256
        && !sha.iter().any(|s| s.as_deref() == Some(want.as_str()))
    {
        p.push(match &t.sha256 {
            Some(got) => format!("SHA-256 {got} instead of {want}: the content differs"),
            None => "no SHA-256: the data is not complete".into(),
        });
    }
    // The side's own duties, or the whole transfer's clean ending.
    match role {
        Some(r) => {
            for w in t.warnings_by(r) {
                if ENDING_KINDS.contains(&w.kind) && !check.clean_end {
                    continue;
                }
                // Already said with the ERROR the check expected.
                if w.kind == WarningKind::WrongErrorCode && check.error_code.is_some() {
                    continue;
                }
                p.push(format!(
                    "{} ({}): {}",
                    r.name(),
                    frames_text(&w.frames),
                    with_rfc(&w.message, w.rfc)
                ));
            }
            if check.clean_end
                && r == t.direction.data_receiver()
                && t.complete
                && t.final_ack_frame.is_none()
                && t.warning(WarningKind::LastBlockNotAcked).is_none()
            {
                p.push("no ACK of the last block in the capture".into());
            }
        }
        None if check.clean_end && !t.clean_end && t.complete => {
            let why: Vec<String> = t
                .warnings
                .iter()
                .filter(|w| ENDING_KINDS.contains(&w.kind))
                .map(|w| {
                    let by = w.by.map(|b| format!("{b}, ")).unwrap_or_default();
                    format!(
                        "{by}{}: {}",
                        frames_text(&w.frames),
                        with_rfc(&w.message, w.rfc)
                    )
                })
                .collect();
            p.push(if why.is_empty() {
                "the ending was not clean (no ACK of the last block in the capture)".into()
            } else {
                format!("the ending was not clean: {}", why.join("; "))
            });
        }
        None => {}
    }
    p
}

/// What a passing transfer showed.
fn tftp_passed(check: &Check, t: &Transfer) -> String {
    let what = format!(
        "{} of {} (request in frame {})",
        direction_word(t.direction),
        Escaped(&t.file),
        t.request_frame
    );
    if let Some(e) = &t.error {
        return format!(
            "{what}: the server answered ERROR {} ({}) in frame {}",
            e.code, e.meaning, e.frame
        );
    }
    let mut text = format!(
        "{what}: all {} arrived in {}",
        plural(t.bytes, "byte", "bytes"),
        plural(t.blocks, "block", "blocks")
    );
    if let Some(sha) = &t.sha256 {
        text.push_str(&format!(
            ", SHA-256 {}…",
            sha.get(..16).unwrap_or(sha.as_str())
        ));
    }
    if check.clean_end {
        match check.role {
            Some(r) => text.push_str(&format!("; the {r}'s part of the ending was clean")),
            None => text.push_str("; clean ending"),
        }
    }
    if let Some(r) = check.role {
        let other: Vec<String> = t
            .warnings_by(r.other())
            .map(|w| w.kind.name().replace('_', " "))
            .collect();
        if !other.is_empty() {
            text.push_str(&format!(
                " (not held against the {r}: the {}'s {})",
                r.other(),
                listed(other, "")
            ));
        }
    }
    text
}

fn tftp_transfer(check: &Check, ev: &Evidence) -> (bool, String) {
    let file = check.file.clone().unwrap_or_default();
    let wanted_dir = check.tftp_direction;
    let transfers = &ev.transfers;
    let all: Vec<&Transfer> = transfers
        .iter()
        .filter(|t| t.file == file && wanted_dir.is_none_or(|d| t.direction == d))
        .collect();
    // A second server port's answer to a repeated request is not the transfer itself.
    let matching: Vec<&Transfer> = if all.iter().any(|t| t.duplicate_of.is_none()) {
        all.into_iter()
            .filter(|t| t.duplicate_of.is_none())
            .collect()
    } else {
        all
    };
    let wanted = wanted_dir.map_or("transfer", direction_word);
    if matching.is_empty() {
        let seen = listed(
            transfers.iter().map(|t| {
                let error = t
                    .error
                    .as_ref()
                    .map(|e| format!(" (ERROR {}: {})", e.code, e.meaning))
                    .unwrap_or_default();
                // Names from the capture, in a verdict's text: escaped.
                format!(
                    "a {} of {} in frame {}{error}",
                    direction_word(t.direction),
                    Escaped(&t.file),
                    t.request_frame
                )
            }),
            "no TFTP transfer",
        );
        let hint = ev
            .tftp_hints
            .iter()
            .find(|h| h.file == file)
            .or_else(|| ev.tftp_hints.first())
            .map(|h| {
                format!(
                    "; frame {} looks like a TFTP {} request for {} sent to UDP port {}, which is not followed as TFTP: grade with --tftp-port {}",
                    h.first_frame,
                    direction_word(h.direction),
                    Escaped(&h.file),
                    h.port,
                    h.port
                )
            })
            .unwrap_or_default();
        return (
            false,
            format!("no TFTP {wanted} of {file}; saw {seen}{hint}"),
        );
    }
    let mut problems = Vec::new();
    for t in &matching {
        let p = tftp_problems(check, t);
        if p.is_empty() {
            return (true, tftp_passed(check, t));
        }
        problems.push(format!(
            "{} of {} (request in frame {}): {}",
            direction_word(t.direction),
            Escaped(&t.file),
            t.request_frame,
            p.join("; ")
        ));
    }
    (false, problems.join(" | "))
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
        let in_frame = t
            .response_frame
            .map(|f| format!(" (response in frame {f})"))
            .unwrap_or_default();
        if let Some(s) = check.status
            && t.status != Some(s)
        {
            p.push(format!(
                "status {} instead of {s}{in_frame}",
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
            && sha256.as_deref() != Some(sha.as_str())
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
        if check.no_warnings && !t.warnings.is_empty() {
            let w: Vec<&str> = t.warnings.iter().map(|w| w.message.as_str()).collect();
            p.push(format!("warnings: {}", w.join("; ")));
        }
        if p.is_empty() {
            return (
                true,
                format!(
                    "{} {path} answered {} {}{in_frame}",
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

/// `from the client` / `from the server` / `in both directions`.
fn direction_scope(d: FramingDirection) -> &'static str {
    match d {
        FramingDirection::ClientToServer => "from the client",
        FramingDirection::ServerToClient => "from the server",
        FramingDirection::Both => "in either direction",
    }
}

fn framing(check: &Check, sticky: &[sticky::Direction], ev: &Evidence) -> (bool, String) {
    let port = check.port.unwrap_or_default();
    let spec = check
        .framing
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    let scope = check.framing_direction;
    let ids: BTreeSet<u64> = match streams_to(ev, port) {
        Ok(streams) => streams.iter().map(|s| s.id.0).collect(),
        Err(message) => return (false, message),
    };
    let reports: Vec<&sticky::Direction> = sticky
        .iter()
        .filter(|r| ids.contains(&r.stream) && scope.includes(r.direction))
        .filter(|r| r.data_segments > 0)
        .collect();
    if reports.is_empty() {
        return (
            false,
            format!(
                "port {port}: no data {} on {}",
                direction_scope(scope),
                plural(ids.len() as u64, "connection", "connections")
            ),
        );
    }
    let arrow = |d: Direction| match d {
        Direction::ClientToServer => "client→server",
        Direction::ServerToClient => "server→client",
    };
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    for r in &reports {
        let at = format!("stream {} {}", r.stream, arrow(r.direction));
        match r.status {
            Status::Failed => {
                let errors: Vec<String> = r
                    .errors()
                    .map(|i| format!("offset {}: {}", thousands(i.offset), i.reason))
                    .collect();
                problems.push(format!(
                    "{at}: {} does not follow {spec}: {}",
                    sender(r.direction),
                    listed(errors, "the bytes do not fit")
                ));
            }
            Status::Unknown => problems.push(format!(
                "{at}: the message boundaries are unknown: no {spec} message fits"
            )),
            Status::Incomplete => {
                let first = r
                    .issues
                    .first()
                    .map(|i| format!(" (offset {}: {})", thousands(i.offset), i.reason))
                    .unwrap_or_default();
                notes.push(format!(
                    "{at}: the capture lacks bytes{first}; later messages not checked"
                ));
            }
            Status::Framed | Status::NoData => {}
        }
    }
    let messages: u64 = reports.iter().filter_map(|r| r.messages).sum();
    let coalesced: u64 = reports.iter().filter_map(|r| r.coalesced_segments).sum();
    let split: u64 = reports.iter().filter_map(|r| r.split_messages).sum();
    if problems.is_empty() && messages == 0 {
        problems.push(format!(
            "no whole {spec} message {}",
            direction_scope(scope)
        ));
    }
    if let Some(m) = check.max_coalesced
        && coalesced > m
    {
        problems.push(format!(
            "{} (at most {m} allowed): messages sent back to back left in one segment; the receiver must split them by their {spec} framing",
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
    let by_side = |d: Direction| -> u64 {
        reports
            .iter()
            .filter(|r| r.direction == d)
            .filter_map(|r| r.messages)
            .sum()
    };
    let counts = match scope {
        FramingDirection::ClientToServer => format!(
            "{} from the client",
            plural(
                messages,
                &format!("{spec} message"),
                &format!("{spec} messages")
            )
        ),
        FramingDirection::ServerToClient => format!(
            "{} from the server",
            plural(
                messages,
                &format!("{spec} message"),
                &format!("{spec} messages")
            )
        ),
        FramingDirection::Both => format!(
            "{} from the client, {} from the server",
            plural(
                by_side(Direction::ClientToServer),
                &format!("{spec} message"),
                &format!("{spec} messages")
            ),
            thousands(by_side(Direction::ServerToClient))
        ),
    };
    let notes = if notes.is_empty() {
        String::new()
    } else {
        format!("; {}", notes.join("; "))
    };
    if problems.is_empty() {
        (
            true,
            format!(
                "{counts}, all well-formed ({}, {}){notes}",
                plural(coalesced, "coalesced segment", "coalesced segments"),
                plural(split, "split message", "split messages")
            ),
        )
    } else {
        (
            false,
            format!("port {port}: {}{notes}", problems.join("; ")),
        )
    }
}

fn max_retransmissions(check: &Check, ev: &Evidence) -> (bool, String) {
    let max = check.max.unwrap_or_default();
    let mut total = 0u64;
    let mut per_stream = Vec::new();
    for s in ev
        .streams
        .iter()
        .filter(|s| check.port.is_none_or(|p| s.server.port == p))
    {
        let (c, r) = (
            s.client_to_server.retransmissions,
            s.server_to_client.retransmissions,
        );
        total += c + r;
        if c + r > 0 {
            per_stream.push(format!(
                "stream {}: {} by the client, {} by the server",
                s.id,
                thousands(c),
                thousands(r)
            ));
        }
    }
    let detail = if per_stream.is_empty() {
        String::new()
    } else {
        format!("; {}", listed(per_stream, ""))
    };
    (
        total <= max,
        format!(
            "{} (at most {max} allowed){detail}",
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::consumer::At;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1500), "1,500");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    fn datagram<'a>(frame: u64, src: &str, dst: &str, payload: &'a [u8]) -> Datagram<'a> {
        Datagram {
            at: At {
                frame: FrameNumber(frame),
                ts: std::time::Duration::ZERO,
            },
            src: src.parse().unwrap(),
            dst: dst.parse().unwrap(),
            payload,
        }
    }

    #[test]
    fn echo_tells_truncated_changed_other_port_and_missing_replies_apart() {
        let mut e = Echo::new(5005);
        let big = vec![7u8; 1500];
        let c = "10.0.0.1:40000";
        let s = "10.0.0.2:5005";
        for (frame, src, dst, payload) in [
            (1, c, s, &b"hello"[..]),
            (2, s, c, &b"hello"[..]),
            (3, c, s, &big[..]),
            (4, s, c, &big[..1024]),
            (5, c, s, &b"abcdef"[..]),
            (6, s, c, &b"abcxef"[..]),
            (7, c, s, &b"ping"[..]),
            (8, "10.0.0.2:57260", c, &b"ping"[..]),
            (9, c, s, &b"lost"[..]),
        ] {
            e.on_datagram(&datagram(frame, src, dst, payload));
        }
        e.finish();
        assert_eq!((e.requests, e.answered, e.failed), (5, 1, 4));
        let f = |n| FrameNumber(n);
        assert_eq!(
            e.failures,
            vec![
                EchoFailure::Truncated {
                    frame: f(3),
                    reply: f(4),
                    sent: 1500,
                    back: 1024
                },
                EchoFailure::Changed {
                    frame: f(5),
                    reply: f(6),
                    sent: 6,
                    back: 6,
                    first_difference: Some(3)
                },
                EchoFailure::OtherPort {
                    frame: f(7),
                    reply: f(8),
                    from_port: 57260
                },
                EchoFailure::NoReply { frame: f(9) },
            ]
        );
        let (passed, message) = udp_echo(&e, &Evidence::default());
        assert!(!passed);
        assert!(
            message.contains("frame 3 (reply in frame 4): reply truncated — 1,500 bytes sent, 1,024 back, as a recvfrom(1024) would"),
            "{message}"
        );
        assert!(message.contains("frame 9: no reply"), "{message}");
    }

    #[test]
    fn grouped_lists_items_with_the_same_reason_together() {
        let text = grouped([
            ("frame 1".to_string(), "no reply".to_string()),
            ("frame 3".to_string(), "changed".to_string()),
            ("frame 5".to_string(), "no reply".to_string()),
        ]);
        assert_eq!(text, "frame 1, frame 5: no reply; frame 3: changed");
    }
}
