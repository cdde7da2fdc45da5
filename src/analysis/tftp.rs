//! TFTP conversations: which UDP datagrams belong to which transfer, and what happened in each
//! transfer ([`Transfer`]: blocks, completion, retransmissions, loss, errors, hash, warnings).
//!
//! In: every UDP datagram of the capture, in order ([`Tracker::on_datagram`]). Out: a
//! [`Classification`] per TFTP datagram (for per-packet output) and owned [`Transfer`] summaries
//! ([`Tracker::finish`]). Decoding of single packets is `app::tftp`'s job; printing is the
//! report layer's.
//!
//! A transfer starts with a RRQ/WRQ sent to a server port (69 or a configured one). The server
//! answers from a new port, its transfer ID (RFC 1350 §4); every later packet between the client
//! endpoint and that server endpoint belongs to the transfer. Bookkeeping is bounded: unanswered
//! requests expire, idle transfers end, finished transfers stop matching after a short linger, at
//! most `max_active` transfers are tracked at once, out-of-order data is buffered up to a limit,
//! and file bytes are kept only when extracting (streamed to disk).

mod blocks;
mod extract;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::app::tftp::{
    self, DEFAULT_BLOCK_SIZE, ErrorCode, Malformed, Mode, OptionKind, Options, Packet, Request,
    SERVER_PORT, escape,
};
use crate::capture::FrameNumber;

pub use extract::{Extracted, NetasciiDecoder, SafeName, safe_file_name};

/// The largest block size whose DATA fits an Ethernet frame without IP fragmentation:
/// 1500 (MTU) − 20 (IPv4) − 8 (UDP) − 4 (TFTP header). RFC 2348 §1 gives this example.
const UNFRAGMENTED_BLOCK_SIZE: u64 = 1468;

/// Tuning of the tracker. `Default` suits normal captures.
#[derive(Debug, Clone)]
pub struct Config {
    /// Ports a RRQ/WRQ may be sent to (`--tftp-port`); 69 by default.
    pub server_ports: Vec<u16>,
    /// A request with no answer for this long (capture time) ends as `no_answer`.
    pub request_timeout: Duration,
    /// A transfer with no packet for this long ends as `idle_timeout`. RFC 2349 allows
    /// retransmission timeouts up to 255 s, hence the generous default.
    pub idle_timeout: Duration,
    /// How long a finished (complete or failed) transfer still claims its packets, so that a
    /// retransmitted final DATA or ACK (RFC 1350 §6 "dallying") is counted, not lost.
    pub linger: Duration,
    /// Most transfers tracked at once; past it the least recently active one is ended.
    pub max_active: usize,
    /// Most bytes of out-of-order DATA buffered per transfer while waiting for a missing block.
    pub max_buffered_bytes: usize,
    /// Most separate runs of blocks remembered per transfer (each capture gap adds one).
    pub max_block_ranges: usize,
    /// Write each transferred file into this directory (`--extract DIR`).
    pub extract_dir: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            server_ports: vec![SERVER_PORT],
            request_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(300),
            linger: Duration::from_secs(10),
            max_active: 4096,
            max_buffered_bytes: 1 << 20,
            max_block_ranges: 1024,
            extract_dir: None,
        }
    }
}

/// Whether the client reads (RRQ) or writes (WRQ) the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferDirection {
    /// RRQ: the server sends DATA, the client ACKs.
    Read,
    /// WRQ: the client sends DATA, the server ACKs.
    Write,
}

/// Which end of a transfer sent a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The endpoint that sent the request.
    Client,
    /// The server (its transfer-ID endpoint once it has answered).
    Server,
}

/// Why a transfer's tracking ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// Still being tracked (only seen in [`Tracker::transfers`] before [`Tracker::finish`]).
    Open,
    /// The final block was received and acknowledged.
    Completed,
    /// An ERROR packet ended it (RFC 1350 §7).
    Error,
    /// The server never answered the request.
    NoAnswer,
    /// No packet for `idle_timeout`.
    IdleTimeout,
    /// A new request reused the same client and server endpoints.
    Replaced,
    /// Too many transfers at once; this one was the least recently active.
    Evicted,
    /// The capture ended first.
    CaptureEnd,
}

/// An option as sent, for reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OptionEntry {
    /// Option name as sent (escaped for display).
    pub name: String,
    /// Option value as sent (escaped for display).
    pub value: String,
}

/// Requested and negotiated options (RFC 2347).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TransferOptions {
    /// Options in the request, in order.
    pub requested: Vec<OptionEntry>,
    /// Options in the server's OACK; `None` when there was no OACK.
    pub negotiated: Option<Vec<OptionEntry>>,
}

/// The ERROR packet that ended a transfer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransferError {
    /// Error code (0–8 are defined).
    pub code: u16,
    /// The code's standard meaning, e.g. `File not found`.
    pub meaning: String,
    /// The message as sent (escaped for display).
    pub message: String,
    /// Frame of the ERROR packet.
    pub frame: FrameNumber,
    /// Who sent it.
    pub from: Role,
}

/// What a warning is about; the `message` explains it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)] // each variant is explained by the message written with it
pub enum WarningKind {
    ServerAnsweredFromListenPort,
    UnusualMode,
    MissingFinalNul,
    NonAsciiFileName,
    InvalidOptionValue,
    DuplicateOption,
    DuplicateRequest,
    RequestOnTransferPort,
    MalformedPacket,
    WrongSender,
    OptionsIgnored,
    UnrequestedOption,
    OackWithoutRequest,
    OackRaisedValue,
    OackAfterData,
    RepeatedOack,
    FragmentingBlockSize,
    OversizedData,
    DataBlockZero,
    DataAfterFinalBlock,
    AckForUnsentBlock,
    SorcerersApprentice,
    BlockRollover,
    RolloverToOne,
    ContinuesAfterError,
    UnknownErrorCode,
    ErrorAfterCompletion,
    NoAnswer,
    FinalBlockNotAcknowledged,
    BlocksNotCaptured,
    BufferLimit,
    BlockTrackingLimit,
    InvalidNetascii,
    FileNameNeutralised,
    ExtractionFailed,
    Evicted,
}

/// A finding about one transfer, written to teach: what happened and why it matters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// The frame that showed it, when one did.
    pub frame: Option<FrameNumber>,
    /// What kind of finding this is (each kind is reported once per transfer).
    pub kind: WarningKind,
    /// Explanation, lowercase, no trailing period.
    pub message: String,
}

/// Summary of one TFTP transfer (owned, serialisable).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Transfer {
    /// Index of the transfer in capture order of requests (the `transfer` of a
    /// [`Classification`]).
    pub index: usize,
    /// The client endpoint (source of the request).
    pub client: SocketAddr,
    /// The server's transfer-ID endpoint, or the request's destination while unanswered.
    pub server: SocketAddr,
    /// Whether the server answered at all.
    pub answered: bool,
    /// Frame of the RRQ/WRQ.
    pub request_frame: FrameNumber,
    /// Read or write.
    pub direction: TransferDirection,
    /// File name as requested (escaped for display).
    pub file: String,
    /// Mode as requested (escaped for display).
    pub mode: String,
    /// Requested and negotiated options.
    pub options: TransferOptions,
    /// DATA block size in force: 512 unless an OACK accepted `blksize` (RFC 2348).
    pub block_size: u16,
    /// Blocks per window: 1 unless an OACK accepted `windowsize` (RFC 7440).
    pub window_size: u16,
    /// Distinct DATA blocks seen (an empty final block counts).
    pub blocks: u64,
    /// File bytes carried by distinct DATA blocks (on the wire, before netascii decoding).
    pub bytes: u64,
    /// The final block (shorter than the block size) was seen and acknowledged, every block
    /// before it was captured, and no ERROR came first.
    pub complete: bool,
    /// The ERROR that ended the transfer.
    pub error: Option<TransferError>,
    /// DATA packets for a block already seen.
    pub retransmitted_blocks: u64,
    /// ACKs for a block already acknowledged.
    pub duplicate_acks: u64,
    /// Blocks before the last one seen (or the final one) that never appeared in the capture.
    pub missing_blocks: u64,
    /// New blocks that did not arrive right after the highest block so far.
    pub out_of_sequence_blocks: u64,
    /// Times the 16-bit block number wrapped past 65535.
    pub rollovers: u64,
    /// Times the client repeated its request.
    pub duplicate_requests: u64,
    /// Packets of this transfer that failed to decode.
    pub malformed_packets: u64,
    /// SHA-256 of the file as transferred (concatenated DATA, lowercase hex); `null` unless
    /// complete.
    pub sha256: Option<String>,
    /// Findings, each kind at most once.
    pub warnings: Vec<Warning>,
    /// Why tracking ended.
    pub end: EndReason,
    /// Packets of this transfer, the request included.
    pub frames: u64,
    /// Frame of the last packet.
    pub last_frame: FrameNumber,
    /// Capture time of the request, seconds since the epoch.
    pub first_seen_secs: f64,
    /// Capture time of the last packet.
    pub last_seen_secs: f64,
    /// `last_seen_secs − first_seen_secs`.
    pub duration_secs: f64,
    /// `bytes / duration_secs`, when the duration is not zero.
    pub throughput_bytes_per_sec: Option<f64>,
    /// The file written by extraction, when extraction is on and data arrived.
    pub extracted: Option<Extracted>,
}

/// What [`Tracker::on_datagram`] says about a TFTP datagram.
#[derive(Debug, Clone, PartialEq)]
pub struct Classification<'a> {
    /// The decoded packet, or why it did not decode.
    pub packet: Result<Packet<'a>, Malformed>,
    /// Index of the transfer it belongs to ([`Transfer::index`]); `None` for a datagram that is
    /// TFTP only by its port.
    pub transfer: Option<usize>,
    /// Who sent it, within its transfer.
    pub role: Option<Role>,
    /// A DATA block shorter than the transfer's block size: the last one (Wireshark's `(last)`).
    pub last_block: bool,
}

impl Classification<'_> {
    /// Wireshark-style summary, e.g. `Data Packet, Block: 3 (last)`, or the malformed reason.
    pub fn info(&self) -> impl fmt::Display + '_ {
        ClassificationInfo(self)
    }
}

struct ClassificationInfo<'c, 'a>(&'c Classification<'a>);

impl fmt::Display for ClassificationInfo<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0.packet {
            Ok(p) => p.info().with_last(self.0.last_block).fmt(f),
            Err(m) => write!(f, "Malformed TFTP packet: {m}"),
        }
    }
}

/// Per-transfer state that lives only while the transfer is tracked.
#[derive(Debug)]
struct Active {
    direction: TransferDirection,
    client: SocketAddr,
    /// Where the request went (server IP and listening port).
    request_to: SocketAddr,
    tid: Option<SocketAddr>,
    file_name: Vec<u8>,
    mode_raw: Vec<u8>,
    netascii: bool,
    /// Lowercased names of the requested options.
    requested: Vec<Vec<u8>>,
    requested_block_size: Option<u64>,
    requested_window_size: Option<u64>,
    oack_seen: bool,
    block_size: u64,
    wrap_to_one: bool,
    /// Next block to append to the hash and the extracted file.
    next_block: u64,
    highest_data: u64,
    highest_ack: Option<u64>,
    last_duplicate_ack: Option<u64>,
    final_block: Option<u64>,
    seen: blocks::BlockSet,
    buffer: BTreeMap<u64, Vec<u8>>,
    buffered_bytes: usize,
    /// `None` once the file can no longer be rebuilt (buffer limit) or after the end.
    hasher: Option<Sha256>,
    extract: bool,
    sink: Option<extract::Sink>,
    error_frame: Option<FrameNumber>,
    complete: bool,
    /// Set when the transfer has ended; it lingers until `closed_at + linger`.
    closed_at: Option<Duration>,
    last_activity: Duration,
}

/// Follows TFTP transfers through a capture. Feed it every UDP datagram in capture order.
///
/// ```
/// use std::time::Duration;
/// use pcaplab::analysis::tftp::{Config, Tracker};
/// use pcaplab::capture::FrameNumber;
///
/// let client = "10.0.0.1:4000".parse().unwrap();
/// let server = "10.0.0.2:69".parse().unwrap();
/// let tid = "10.0.0.2:5000".parse().unwrap();
/// let mut t = Tracker::new(Config::default());
/// let c = t.on_datagram(FrameNumber(1), Duration::ZERO, client, server, b"\0\x01a.txt\0octet\0");
/// assert_eq!(c.unwrap().transfer, Some(0));
/// t.on_datagram(FrameNumber(2), Duration::ZERO, tid, client, b"\0\x03\0\x01hi");
/// t.on_datagram(FrameNumber(3), Duration::ZERO, client, tid, b"\0\x04\0\x01");
/// let transfers = t.finish();
/// assert!(transfers[0].complete);
/// assert_eq!(transfers[0].bytes, 2);
/// ```
#[derive(Debug)]
pub struct Tracker {
    config: Config,
    transfers: Vec<Transfer>,
    active: HashMap<usize, Active>,
    /// Unanswered requests by (client endpoint, server IP).
    pending: HashMap<(SocketAddr, IpAddr), usize>,
    /// Answered transfers by (client endpoint, server TID endpoint).
    pairs: HashMap<(SocketAddr, SocketAddr), usize>,
    next_sweep: Duration,
    scratch: Vec<usize>,
}

impl Tracker {
    /// A tracker with the given configuration.
    pub fn new(config: Config) -> Self {
        Tracker {
            config,
            transfers: Vec::new(),
            active: HashMap::new(),
            pending: HashMap::new(),
            pairs: HashMap::new(),
            next_sweep: Duration::ZERO,
            scratch: Vec::new(),
        }
    }

    /// True when `port` is one a request may be sent to.
    pub fn is_server_port(&self, port: u16) -> bool {
        self.config.server_ports.contains(&port)
    }

    /// The transfers so far, in request order (open ones have `end: open`).
    pub fn transfers(&self) -> &[Transfer] {
        &self.transfers
    }

    /// Ends every open transfer (`capture_end`), writes extracted files, and returns all
    /// transfers in request order.
    pub fn finish(mut self) -> Vec<Transfer> {
        let mut open: Vec<usize> = self.active.keys().copied().collect();
        open.sort_unstable();
        for idx in open {
            self.close(idx, EndReason::CaptureEnd);
            self.forget(idx);
        }
        self.transfers
    }

    /// Looks at one UDP datagram. Returns `None` when it is not TFTP, else the decoded packet
    /// (or its malformed reason) and the transfer it belongs to.
    ///
    /// A datagram is TFTP when it is a request to a server port, when it belongs to a known
    /// transfer, or (like Wireshark) when either port is a server port.
    pub fn on_datagram<'a>(
        &mut self,
        frame: FrameNumber,
        ts: Duration,
        src: SocketAddr,
        dst: SocketAddr,
        payload: &'a [u8],
    ) -> Option<Classification<'a>> {
        self.sweep(ts);
        let packet = tftp::decode(payload);
        let mut classification = Classification {
            packet,
            transfer: None,
            role: None,
            last_block: false,
        };
        if self.is_server_port(dst.port())
            && let Ok(p) = &classification.packet
            && let Some(request) = p.as_request()
        {
            let direction = match p {
                Packet::Wrq(_) => TransferDirection::Write,
                _ => TransferDirection::Read,
            };
            let idx = self.on_request(frame, ts, src, dst, request, direction);
            classification.transfer = Some(idx);
            classification.role = Some(Role::Client);
            return Some(classification);
        }
        // The first answer to a request fixes the server's transfer ID (RFC 1350 §4).
        if let Some(&idx) = self.pending.get(&(dst, src.ip()))
            && matches!(
                classification.packet,
                Ok(Packet::Data(_) | Packet::Ack(_) | Packet::Error(_) | Packet::Oack(_))
            )
        {
            self.establish(idx, src, frame);
        }
        let idx = self
            .pairs
            .get(&(src, dst))
            .or_else(|| self.pairs.get(&(dst, src)))
            .copied();
        if let Some(idx) = idx {
            let (role, last_block) =
                self.on_transfer_packet(idx, frame, ts, src, &classification.packet);
            classification.transfer = Some(idx);
            classification.role = Some(role);
            classification.last_block = last_block;
            return Some(classification);
        }
        if self.is_server_port(dst.port()) || self.is_server_port(src.port()) {
            return Some(classification);
        }
        None
    }

    /// A RRQ/WRQ to a server port: a new transfer, or a repeat of a pending one.
    fn on_request(
        &mut self,
        frame: FrameNumber,
        ts: Duration,
        client: SocketAddr,
        server: SocketAddr,
        request: &Request<'_>,
        direction: TransferDirection,
    ) -> usize {
        // A client that hears nothing sends its request again (RFC 1350 §2: the sender of any
        // packet retransmits it on timeout): same transfer, unless it is a different request.
        let repeat_of = self
            .active
            .iter()
            .filter(|(_, a)| {
                a.client == client
                    && a.request_to == server
                    && a.closed_at.is_none()
                    && a.highest_data <= 1
                    && a.direction == direction
                    && a.file_name == request.file_name
                    && a.mode_raw == request.mode_raw
            })
            .map(|(&i, _)| i)
            .max();
        if let Some(idx) = repeat_of
            && let Some(t) = self.transfers.get_mut(idx)
        {
            t.duplicate_requests = t.duplicate_requests.saturating_add(1);
            touch(t, frame, ts);
            push_warning(
                t,
                WarningKind::DuplicateRequest,
                Some(frame),
                format!(
                    "the client sent the same request again in frame {frame}: it heard nothing \
                     back in time; if the server answers both copies it starts two transfers"
                ),
            );
            if let Some(a) = self.active.get_mut(&idx) {
                a.last_activity = ts;
            }
            return idx;
        }
        // Finished transfers of this client stop matching now, so their endpoints can be reused.
        self.scratch.clear();
        self.scratch.extend(
            self.active
                .iter()
                .filter(|(_, a)| a.client == client && a.closed_at.is_some())
                .map(|(&i, _)| i),
        );
        let mut stale = std::mem::take(&mut self.scratch);
        for &idx in &stale {
            self.forget(idx);
        }
        // An earlier unanswered request from the same endpoint to the same server is given up.
        if let Some(&old) = self.pending.get(&(client, server.ip())) {
            self.close(old, EndReason::Replaced);
            self.forget(old);
        }
        if self.active.len() >= self.config.max_active.max(1) {
            stale.clear();
            if let Some((&oldest, _)) = self.active.iter().min_by_key(|(_, a)| a.last_activity) {
                if let Some(t) = self.transfers.get_mut(oldest) {
                    push_warning(
                        t,
                        WarningKind::Evicted,
                        None,
                        format!(
                            "tracking stopped: more than {} transfers at once",
                            self.config.max_active
                        ),
                    );
                }
                self.close(oldest, EndReason::Evicted);
                self.forget(oldest);
            }
        }
        self.scratch = stale;

        let idx = self.transfers.len();
        let mut t = Transfer {
            index: idx,
            client,
            server,
            answered: false,
            request_frame: frame,
            direction,
            file: escape(request.file_name).to_string(),
            mode: escape(request.mode_raw).to_string(),
            options: TransferOptions {
                requested: option_entries(&request.options),
                negotiated: None,
            },
            block_size: DEFAULT_BLOCK_SIZE,
            window_size: 1,
            blocks: 0,
            bytes: 0,
            complete: false,
            error: None,
            retransmitted_blocks: 0,
            duplicate_acks: 0,
            missing_blocks: 0,
            out_of_sequence_blocks: 0,
            rollovers: 0,
            duplicate_requests: 0,
            malformed_packets: 0,
            sha256: None,
            warnings: Vec::new(),
            end: EndReason::Open,
            frames: 0,
            last_frame: frame,
            first_seen_secs: ts.as_secs_f64(),
            last_seen_secs: ts.as_secs_f64(),
            duration_secs: 0.0,
            throughput_bytes_per_sec: None,
            extracted: None,
        };
        touch(&mut t, frame, ts);
        let mut a = Active {
            direction,
            client,
            request_to: server,
            tid: None,
            file_name: request.file_name.to_vec(),
            mode_raw: request.mode_raw.to_vec(),
            netascii: matches!(request.mode, Mode::Netascii | Mode::Mail),
            requested: Vec::new(),
            requested_block_size: None,
            requested_window_size: None,
            oack_seen: false,
            block_size: u64::from(DEFAULT_BLOCK_SIZE),
            wrap_to_one: false,
            next_block: 1,
            highest_data: 0,
            highest_ack: None,
            last_duplicate_ack: None,
            final_block: None,
            seen: blocks::BlockSet::new(self.config.max_block_ranges),
            buffer: BTreeMap::new(),
            buffered_bytes: 0,
            hasher: Some(Sha256::new()),
            extract: self.config.extract_dir.is_some(),
            sink: None,
            error_frame: None,
            complete: false,
            closed_at: None,
            last_activity: ts,
        };
        request_warnings(&mut t, &mut a, request, frame);
        self.transfers.push(t);
        self.active.insert(idx, a);
        self.pending.insert((client, server.ip()), idx);
        idx
    }

    /// The server answered a pending request from `tid`.
    fn establish(&mut self, idx: usize, tid: SocketAddr, frame: FrameNumber) {
        let Some(a) = self.active.get_mut(&idx) else {
            return;
        };
        let client = a.client;
        let request_to = a.request_to;
        a.tid = Some(tid);
        self.pending.remove(&(client, tid.ip()));
        let previous = self.pairs.insert((client, tid), idx);
        if let Some(t) = self.transfers.get_mut(idx) {
            t.server = tid;
            t.answered = true;
            if tid.port() == request_to.port() {
                push_warning(
                    t,
                    WarningKind::ServerAnsweredFromListenPort,
                    Some(frame),
                    format!(
                        "the server answered from port {}, the port it listens on; RFC 1350 §4 \
                         has each side pick a new port (transfer ID) so that several transfers \
                         and new requests can be told apart",
                        tid.port()
                    ),
                );
            }
        }
        if let Some(old) = previous.filter(|&old| old != idx) {
            // The same client and server endpoints again: the new request wins.
            self.close(old, EndReason::Replaced);
            self.forget(old);
            self.pairs.insert((client, tid), idx);
        }
    }

    /// A packet between a transfer's client and server endpoints.
    fn on_transfer_packet(
        &mut self,
        idx: usize,
        frame: FrameNumber,
        ts: Duration,
        src: SocketAddr,
        packet: &Result<Packet<'_>, Malformed>,
    ) -> (Role, bool) {
        let (Some(t), Some(a)) = (self.transfers.get_mut(idx), self.active.get_mut(&idx)) else {
            return (Role::Server, false);
        };
        let role = if src == a.client {
            Role::Client
        } else {
            Role::Server
        };
        touch(t, frame, ts);
        a.last_activity = ts;
        let data_sender = match a.direction {
            TransferDirection::Read => Role::Server,
            TransferDirection::Write => Role::Client,
        };
        let mut last_block = false;
        let mut ended = None;
        match packet {
            Err(m) => {
                t.malformed_packets = t.malformed_packets.saturating_add(1);
                push_warning(
                    t,
                    WarningKind::MalformedPacket,
                    Some(frame),
                    format!("frame {frame} is not a valid tftp packet: {m}"),
                );
            }
            Ok(Packet::Rrq(_) | Packet::Wrq(_)) => push_warning(
                t,
                WarningKind::RequestOnTransferPort,
                Some(frame),
                "a request was sent to the transfer port; new requests go to the server's \
                 listening port (69)"
                    .to_string(),
            ),
            Ok(Packet::Oack(o)) => {
                if role == Role::Server {
                    on_oack(t, a, &o.options, o.missing_final_nul, frame);
                } else {
                    wrong_sender(t, frame, "an OACK", Role::Server);
                }
            }
            Ok(Packet::Data(d)) => {
                if role == data_sender {
                    last_block = (d.data.len() as u64) < a.block_size;
                    if on_data(t, a, d.block, d.data, frame, &self.config) {
                        ended = Some(EndReason::Completed);
                    }
                } else {
                    wrong_sender(t, frame, "DATA", data_sender);
                }
            }
            Ok(Packet::Ack(k)) => {
                if role != data_sender {
                    if on_ack(t, a, k.block, frame) {
                        ended = Some(EndReason::Completed);
                    }
                } else {
                    wrong_sender(t, frame, "an ACK", other(data_sender));
                }
            }
            Ok(Packet::Error(e)) => {
                if a.complete {
                    push_warning(
                        t,
                        WarningKind::ErrorAfterCompletion,
                        Some(frame),
                        format!(
                            "ERROR {} ({}) in frame {frame} came after the transfer had completed",
                            e.code.to_u16(),
                            e.code
                        ),
                    );
                } else if a.error_frame.is_none() {
                    a.error_frame = Some(frame);
                    t.error = Some(TransferError {
                        code: e.code.to_u16(),
                        meaning: e.code.to_string(),
                        message: escape(e.message).to_string(),
                        frame,
                        from: role,
                    });
                    ended = Some(EndReason::Error);
                } else {
                    continues_after_error(t, a, frame);
                }
                if let ErrorCode::Other(code) = e.code {
                    push_warning(
                        t,
                        WarningKind::UnknownErrorCode,
                        Some(frame),
                        format!(
                            "error code {code} is not defined (RFC 1350 §5 defines 0 to 7, \
                             RFC 2347 adds 8)"
                        ),
                    );
                }
                if e.missing_final_nul {
                    push_warning(
                        t,
                        WarningKind::MissingFinalNul,
                        Some(frame),
                        format!("the error message in frame {frame} has no terminating nul byte"),
                    );
                }
            }
        }
        if let Some(reason) = ended {
            self.close(idx, reason);
        }
        (role, last_block)
    }

    /// Ends a transfer: final counts, hash, extracted file. It keeps matching its packets until
    /// `linger` has passed (see [`Tracker::forget`]).
    fn close(&mut self, idx: usize, reason: EndReason) {
        let (Some(t), Some(a)) = (self.transfers.get_mut(idx), self.active.get_mut(&idx)) else {
            return;
        };
        if a.closed_at.is_some() {
            return;
        }
        a.closed_at = Some(a.last_activity);
        if t.end == EndReason::Open {
            t.end = reason;
        }
        t.complete = a.complete;
        if a.tid.is_none() {
            let why = if reason == EndReason::CaptureEnd {
                "before the capture ended".to_string()
            } else {
                format!("within {} s", self.config.request_timeout.as_secs_f64())
            };
            push_warning(
                t,
                WarningKind::NoAnswer,
                None,
                format!(
                    "no answer from {} {why}: the server may be down or not serving that file \
                     name, a firewall may drop the request, or the answer came from an address \
                     the capture did not see",
                    a.request_to.ip()
                ),
            );
        }
        let last = a.final_block.unwrap_or(a.highest_data);
        t.missing_blocks = a.seen.missing_up_to(last);
        if t.missing_blocks > 0 {
            push_warning(
                t,
                WarningKind::BlocksNotCaptured,
                None,
                format!(
                    "{} of blocks 1 to {last} never appeared in the capture (lost before the \
                     capture point, or the capture dropped them), so the file cannot be rebuilt",
                    t.missing_blocks
                ),
            );
        }
        if let Some(f) = a.final_block
            && !a.complete
            && a.error_frame.is_none()
            && t.missing_blocks == 0
        {
            push_warning(
                t,
                WarningKind::FinalBlockNotAcknowledged,
                None,
                format!(
                    "the final block {f} was never acknowledged in the capture: the data sender \
                     cannot know the file arrived, and retransmits until it gives up"
                ),
            );
        }
        t.sha256 = if a.complete {
            a.hasher.take().map(|h| extract::to_hex(&h.finalize()))
        } else {
            None
        };
        a.hasher = None;
        a.buffer.clear();
        a.buffered_bytes = 0;
        if let Some(sink) = a.sink.take() {
            let invalid = sink.netascii_invalid();
            if invalid > 0 {
                push_warning(
                    t,
                    WarningKind::InvalidNetascii,
                    None,
                    format!(
                        "{invalid} carriage returns were not followed by LF or NUL, which \
                         netascii requires (RFC 764); they were kept as they are"
                    ),
                );
            }
            match sink.finish(&a.file_name, a.complete) {
                Ok(x) => {
                    if !x.name_changes.is_empty() {
                        push_warning(
                            t,
                            WarningKind::FileNameNeutralised,
                            None,
                            format!(
                                "the requested name {} was written as {} ({}): names from a \
                                 capture are untrusted input",
                                t.file,
                                x.path,
                                x.name_changes.join(", ")
                            ),
                        );
                    }
                    t.extracted = Some(x);
                }
                Err(e) => push_warning(
                    t,
                    WarningKind::ExtractionFailed,
                    None,
                    format!("the file could not be written: {e}"),
                ),
            }
        }
    }

    /// Stops tracking a transfer: it no longer matches packets, and its state is dropped.
    fn forget(&mut self, idx: usize) {
        let Some(a) = self.active.remove(&idx) else {
            return;
        };
        if let Some(sink) = a.sink {
            sink.abort();
        }
        if self.pending.get(&(a.client, a.request_to.ip())) == Some(&idx) {
            self.pending.remove(&(a.client, a.request_to.ip()));
        }
        if let Some(tid) = a.tid
            && self.pairs.get(&(a.client, tid)) == Some(&idx)
        {
            self.pairs.remove(&(a.client, tid));
        }
    }

    /// Expires unanswered requests, idle transfers and lingering finished ones (at most once per
    /// second of capture time).
    fn sweep(&mut self, now: Duration) {
        if now < self.next_sweep {
            return;
        }
        self.next_sweep = now.saturating_add(Duration::from_secs(1));
        let mut due = std::mem::take(&mut self.scratch);
        due.clear();
        let cfg = &self.config;
        due.extend(self.active.iter().filter_map(|(&i, a)| {
            let quiet = now.saturating_sub(a.last_activity);
            let expired = match a.closed_at {
                Some(at) => now.saturating_sub(at) > cfg.linger,
                None if a.tid.is_none() => quiet > cfg.request_timeout,
                None => quiet > cfg.idle_timeout,
            };
            expired.then_some(i)
        }));
        due.sort_unstable();
        for &idx in &due {
            let reason = match self.active.get(&idx) {
                Some(a) if a.tid.is_none() => EndReason::NoAnswer,
                _ => EndReason::IdleTimeout,
            };
            self.close(idx, reason);
            self.forget(idx);
        }
        self.scratch = due;
    }
}

/// The other role.
fn other(role: Role) -> Role {
    match role {
        Role::Client => Role::Server,
        Role::Server => Role::Client,
    }
}

/// Counts a packet into the transfer's frame and time totals.
fn touch(t: &mut Transfer, frame: FrameNumber, ts: Duration) {
    t.frames = t.frames.saturating_add(1);
    t.last_frame = frame;
    let secs = ts.as_secs_f64();
    if secs > t.last_seen_secs {
        t.last_seen_secs = secs;
    }
    t.duration_secs = (t.last_seen_secs - t.first_seen_secs).max(0.0);
    t.throughput_bytes_per_sec = (t.duration_secs > 0.0).then(|| t.bytes as f64 / t.duration_secs);
}

/// Adds a warning unless one of the same kind is already there.
fn push_warning(t: &mut Transfer, kind: WarningKind, frame: Option<FrameNumber>, message: String) {
    if t.warnings.iter().any(|w| w.kind == kind) {
        return;
    }
    t.warnings.push(Warning {
        frame,
        kind,
        message,
    });
}

fn wrong_sender(t: &mut Transfer, frame: FrameNumber, what: &str, expected: Role) {
    let who = match expected {
        Role::Client => "client",
        Role::Server => "server",
    };
    push_warning(
        t,
        WarningKind::WrongSender,
        Some(frame),
        format!(
            "frame {frame} carries {what} from the wrong side; in this transfer only the {who} sends it"
        ),
    );
}

fn continues_after_error(t: &mut Transfer, a: &Active, frame: FrameNumber) {
    if let Some(err_frame) = a.error_frame {
        push_warning(
            t,
            WarningKind::ContinuesAfterError,
            Some(frame),
            format!(
                "the transfer goes on in frame {frame} after the ERROR in frame {err_frame}; an \
                 ERROR ends a transfer and is never acknowledged or retransmitted (RFC 1350 §7)"
            ),
        );
    }
}

fn option_entries(options: &Options<'_>) -> Vec<OptionEntry> {
    options
        .iter()
        .map(|o| OptionEntry {
            name: escape(o.name).to_string(),
            value: escape(o.value).to_string(),
        })
        .collect()
}

/// Warnings a request earns on its own, and the options it asks for.
fn request_warnings(t: &mut Transfer, a: &mut Active, request: &Request<'_>, frame: FrameNumber) {
    match request.mode {
        Mode::Mail => push_warning(
            t,
            WarningKind::UnusualMode,
            Some(frame),
            "mode mail is obsolete: RFC 1350 §1 says it should not be implemented".to_string(),
        ),
        Mode::Other(m) => push_warning(
            t,
            WarningKind::UnusualMode,
            Some(frame),
            format!(
                "mode \"{}\" is not a tftp mode; RFC 1350 §5 defines netascii and octet (and \
                 the obsolete mail), case-insensitive",
                escape(m)
            ),
        ),
        Mode::Netascii | Mode::Octet => {}
    }
    if request.missing_final_nul {
        push_warning(
            t,
            WarningKind::MissingFinalNul,
            Some(frame),
            "the request's last string has no terminating nul byte; RFC 1350 §5 ends every \
             string with one and strict servers reject the request"
                .to_string(),
        );
    }
    if !request.has_ascii_file_name() {
        push_warning(
            t,
            WarningKind::NonAsciiFileName,
            Some(frame),
            format!(
                "the file name {} is not printable ascii; RFC 1350 §5 says file names are \
                 netascii, so servers may reject it or read it differently",
                escape(request.file_name)
            ),
        );
    }
    for o in request.options.iter() {
        let name = o.name.to_ascii_lowercase();
        if a.requested.contains(&name) {
            push_warning(
                t,
                WarningKind::DuplicateOption,
                Some(frame),
                format!(
                    "option {} is requested twice; RFC 2347 does not say which copy counts",
                    escape(o.name)
                ),
            );
        }
        let kind = o.kind();
        if kind != OptionKind::Unknown && o.valid_number().is_none() {
            push_warning(
                t,
                WarningKind::InvalidOptionValue,
                Some(frame),
                invalid_value_message(kind, o.name, o.value),
            );
        }
        match kind {
            OptionKind::BlockSize => a.requested_block_size = o.valid_number(),
            OptionKind::WindowSize => a.requested_window_size = o.valid_number(),
            _ => {}
        }
        a.requested.push(name);
    }
}

fn invalid_value_message(kind: OptionKind, name: &[u8], value: &[u8]) -> String {
    let (lo, hi) = kind.valid_range().unwrap_or((0, u64::MAX));
    let rfc = match kind {
        OptionKind::BlockSize => "RFC 2348",
        OptionKind::WindowSize => "RFC 7440",
        _ => "RFC 2349",
    };
    format!(
        "option {}={} is out of range: {rfc} allows {lo} to {hi}; a server ignores an option \
         it cannot accept",
        escape(name),
        escape(value)
    )
}

/// The server's OACK: the options now in force (RFC 2347 §3).
fn on_oack(
    t: &mut Transfer,
    a: &mut Active,
    options: &Options<'_>,
    missing_nul: bool,
    frame: FrameNumber,
) {
    if a.oack_seen {
        push_warning(
            t,
            WarningKind::RepeatedOack,
            Some(frame),
            format!("a second OACK in frame {frame}; options are negotiated once, at the start"),
        );
    }
    if a.highest_data > 0 {
        push_warning(
            t,
            WarningKind::OackAfterData,
            Some(frame),
            format!("the OACK in frame {frame} comes after DATA had started"),
        );
    }
    if a.requested.is_empty() {
        push_warning(
            t,
            WarningKind::OackWithoutRequest,
            Some(frame),
            "the server sent an OACK to a request without options; RFC 2347 §3 has it answer \
             such a request as RFC 1350 does (DATA 1 or ACK 0)"
                .to_string(),
        );
    }
    if missing_nul {
        push_warning(
            t,
            WarningKind::MissingFinalNul,
            Some(frame),
            format!("the OACK in frame {frame} has no nul byte after its last value"),
        );
    }
    a.oack_seen = true;
    for o in options.iter() {
        let name = o.name.to_ascii_lowercase();
        if !a.requested.is_empty() && !a.requested.contains(&name) {
            push_warning(
                t,
                WarningKind::UnrequestedOption,
                Some(frame),
                format!(
                    "the OACK accepts option {} that the client never requested; RFC 2347 §3 \
                     lets a server acknowledge only requested options, and a client should \
                     answer with ERROR 8",
                    escape(o.name)
                ),
            );
        }
        let kind = o.kind();
        let value = o.valid_number();
        if kind != OptionKind::Unknown && value.is_none() {
            push_warning(
                t,
                WarningKind::InvalidOptionValue,
                Some(frame),
                invalid_value_message(kind, o.name, o.value),
            );
        }
        match (kind, value) {
            (OptionKind::BlockSize, Some(v)) => {
                if a.requested_block_size.is_some_and(|r| v > r) {
                    push_warning(
                        t,
                        WarningKind::OackRaisedValue,
                        Some(frame),
                        format!(
                            "the server raised blksize to {v}; RFC 2348 lets it only keep or \
                             lower the requested value"
                        ),
                    );
                }
                if v > UNFRAGMENTED_BLOCK_SIZE {
                    push_warning(
                        t,
                        WarningKind::FragmentingBlockSize,
                        Some(frame),
                        format!(
                            "blksize {v} is above {UNFRAGMENTED_BLOCK_SIZE}, so on Ethernet every \
                             full DATA packet is split into IP fragments (RFC 2348 §1)"
                        ),
                    );
                }
                a.block_size = v;
                t.block_size = u16::try_from(v).unwrap_or(u16::MAX);
            }
            (OptionKind::WindowSize, Some(v)) => {
                if a.requested_window_size.is_some_and(|r| v > r) {
                    push_warning(
                        t,
                        WarningKind::OackRaisedValue,
                        Some(frame),
                        format!(
                            "the server raised windowsize to {v}; RFC 7440 §3 lets it only keep \
                             or lower the requested value"
                        ),
                    );
                }
                t.window_size = u16::try_from(v).unwrap_or(u16::MAX);
            }
            _ => {}
        }
    }
    t.options.negotiated = Some(option_entries(options));
}

/// Notes that requested options were not answered with an OACK (RFC 2347 §3: the server then
/// uses the RFC 1350 defaults).
fn check_options_ignored(t: &mut Transfer, a: &Active, frame: FrameNumber) {
    if !a.requested.is_empty() && !a.oack_seen {
        push_warning(
            t,
            WarningKind::OptionsIgnored,
            Some(frame),
            format!(
                "the client requested options but the server went on without an OACK, so it \
                 ignored them: the block size stays {DEFAULT_BLOCK_SIZE} (RFC 2347 §3)"
            ),
        );
    }
}

/// A DATA packet from the data sender. Returns true when it completes the transfer.
fn on_data(
    t: &mut Transfer,
    a: &mut Active,
    wire: u16,
    data: &[u8],
    frame: FrameNumber,
    cfg: &Config,
) -> bool {
    continues_after_error(t, a, frame);
    check_options_ignored(t, a, frame);
    let next_new = a.highest_data.saturating_add(1);
    // After block 65535 comes 0 for most implementations; a 1 there means "wrap to 1".
    if !a.wrap_to_one && next_new >= 65_536 && next_new.is_multiple_of(65_536) && wire == 1 {
        a.wrap_to_one = true;
        push_warning(
            t,
            WarningKind::RolloverToOne,
            Some(frame),
            format!(
                "after block 65535 the sender went on with block 1, not 0 (frame {frame}); RFC \
                 1350 does not say which, and a receiver expecting 0 takes it for an old block"
            ),
        );
    }
    let block = blocks::absolute(wire, next_new, a.wrap_to_one);
    if block == 0 {
        push_warning(
            t,
            WarningKind::DataBlockZero,
            Some(frame),
            format!("DATA block 0 in frame {frame}: data blocks are numbered from 1 (RFC 1350 §6)"),
        );
        return false;
    }
    let len = data.len() as u64;
    if len > a.block_size {
        push_warning(
            t,
            WarningKind::OversizedData,
            Some(frame),
            format!(
                "DATA block {wire} in frame {frame} carries {len} bytes, more than the block \
                 size of {} in force; a receiver may reject or truncate it",
                a.block_size
            ),
        );
    }
    if let Some(f) = a.final_block
        && block > f
    {
        push_warning(
            t,
            WarningKind::DataAfterFinalBlock,
            Some(frame),
            format!(
                "DATA block {wire} in frame {frame} follows the final (short) block {f}; a block \
                 shorter than the block size ends the transfer (RFC 1350 §6)"
            ),
        );
    }
    if a.seen.contains(block) {
        t.retransmitted_blocks = t.retransmitted_blocks.saturating_add(1);
        if a.last_duplicate_ack == Some(block.saturating_sub(1)) {
            push_warning(
                t,
                WarningKind::SorcerersApprentice,
                Some(frame),
                format!(
                    "DATA block {wire} was sent again right after a duplicate ACK: a sender \
                     that answers every ACK, duplicates included, doubles all later traffic \
                     (Sorcerer's Apprentice, RFC 1123 §4.2.3.1); resend DATA only on timeout"
                ),
            );
        }
        return false;
    }
    if !a.seen.insert(block) {
        push_warning(
            t,
            WarningKind::BlockTrackingLimit,
            Some(frame),
            format!(
                "more than {} separate runs of blocks: later retransmissions and gaps are \
                 counted approximately",
                cfg.max_block_ranges
            ),
        );
    }
    if block != next_new {
        t.out_of_sequence_blocks = t.out_of_sequence_blocks.saturating_add(1);
    }
    if block > a.highest_data {
        a.highest_data = block;
        t.rollovers = blocks::rollovers(block, a.wrap_to_one);
        if t.rollovers > 0 {
            push_warning(
                t,
                WarningKind::BlockRollover,
                Some(frame),
                format!(
                    "the block number wrapped past 65535 (frame {frame}): 16-bit block numbers \
                     limit a transfer to 65535 blocks unless both sides support rollover"
                ),
            );
        }
    }
    t.blocks = t.blocks.saturating_add(1);
    t.bytes = t.bytes.saturating_add(len);
    if len < a.block_size && a.final_block.is_none_or(|f| block < f) {
        // RFC 1350 §6: a DATA packet shorter than the block size ends the transfer.
        a.final_block = Some(block);
    }
    if block == a.next_block {
        deliver(t, a, data, frame, cfg);
        while let Some(next) = a.buffer.remove(&a.next_block) {
            a.buffered_bytes = a.buffered_bytes.saturating_sub(next.len());
            deliver(t, a, &next, frame, cfg);
        }
    } else if block > a.next_block && a.hasher.is_some() {
        if a.buffered_bytes.saturating_add(data.len()) <= cfg.max_buffered_bytes {
            a.buffered_bytes = a.buffered_bytes.saturating_add(data.len());
            a.buffer.insert(block, data.to_vec());
        } else {
            push_warning(
                t,
                WarningKind::BufferLimit,
                Some(frame),
                format!(
                    "more than {} bytes arrived while block {} was missing; the file can no \
                     longer be rebuilt, so there is no sha256 or extracted file",
                    cfg.max_buffered_bytes, a.next_block
                ),
            );
            a.hasher = None;
            a.buffer.clear();
            a.buffered_bytes = 0;
            if let Some(sink) = a.sink.take() {
                sink.abort();
            }
            a.extract = false;
        }
    }
    // The data receiver's ACK of the final block completes it; nothing to do here.
    false
}

/// Appends the next in-order block to the hash and the extracted file.
fn deliver(t: &mut Transfer, a: &mut Active, data: &[u8], frame: FrameNumber, cfg: &Config) {
    let Some(hasher) = &mut a.hasher else {
        return;
    };
    hasher.update(data);
    a.next_block = a.next_block.saturating_add(1);
    if a.extract
        && a.sink.is_none()
        && let Some(dir) = &cfg.extract_dir
    {
        match extract::Sink::create(dir, t.index, a.netascii) {
            Ok(s) => a.sink = Some(s),
            Err(e) => {
                a.extract = false;
                push_warning(
                    t,
                    WarningKind::ExtractionFailed,
                    Some(frame),
                    format!("cannot create a file in {}: {e}", dir.display()),
                );
            }
        }
    }
    if let Some(sink) = &mut a.sink {
        sink.write(data);
    }
}

/// An ACK from the data receiver. Returns true when it completes the transfer.
fn on_ack(t: &mut Transfer, a: &mut Active, wire: u16, frame: FrameNumber) -> bool {
    continues_after_error(t, a, frame);
    if a.direction == TransferDirection::Write && wire == 0 {
        // In a write the server's ACK 0 is its answer to the WRQ: the options were ignored.
        check_options_ignored(t, a, frame);
    }
    let block = blocks::absolute(wire, a.highest_data, a.wrap_to_one);
    let ack_zero_ok = block == 0 && (a.direction == TransferDirection::Write || a.oack_seen);
    if block > a.highest_data || (block == 0 && !ack_zero_ok) {
        push_warning(
            t,
            WarningKind::AckForUnsentBlock,
            Some(frame),
            format!(
                "ACK for block {wire} in frame {frame}, but no DATA block {wire} was seen (the \
                 highest was {}); an ACK must name the block it received",
                a.highest_data
            ),
        );
    }
    match a.highest_ack {
        Some(h) if block <= h => {
            t.duplicate_acks = t.duplicate_acks.saturating_add(1);
            a.last_duplicate_ack = Some(block);
        }
        _ => a.highest_ack = Some(block),
    }
    if let Some(f) = a.final_block
        && block >= f
        && a.error_frame.is_none()
        && !a.complete
        && a.seen.missing_up_to(f) == 0
    {
        a.complete = true;
        return true;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLIENT: &str = "10.0.0.1:40883";
    const SERVER: &str = "10.0.0.2:69";
    const TID: &str = "10.0.0.2:40489";

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    fn request(opcode: u8, file: &[u8], mode: &str, opts: &[(&str, &str)]) -> Vec<u8> {
        let mut p = vec![0, opcode];
        p.extend_from_slice(file);
        p.push(0);
        p.extend_from_slice(mode.as_bytes());
        p.push(0);
        for (n, v) in opts {
            p.extend_from_slice(n.as_bytes());
            p.push(0);
            p.extend_from_slice(v.as_bytes());
            p.push(0);
        }
        p
    }
    fn rrq(file: &str, mode: &str, opts: &[(&str, &str)]) -> Vec<u8> {
        request(1, file.as_bytes(), mode, opts)
    }
    fn wrq(file: &str, mode: &str) -> Vec<u8> {
        request(2, file.as_bytes(), mode, &[])
    }
    fn data(block: u16, bytes: &[u8]) -> Vec<u8> {
        let mut p = vec![0, 3];
        p.extend_from_slice(&block.to_be_bytes());
        p.extend_from_slice(bytes);
        p
    }
    fn ack(block: u16) -> Vec<u8> {
        let mut p = vec![0, 4];
        p.extend_from_slice(&block.to_be_bytes());
        p
    }
    fn error(code: u16, msg: &str) -> Vec<u8> {
        let mut p = vec![0, 5];
        p.extend_from_slice(&code.to_be_bytes());
        p.extend_from_slice(msg.as_bytes());
        p.push(0);
        p
    }
    fn oack(opts: &[(&str, &str)]) -> Vec<u8> {
        let mut p = vec![0, 6];
        for (n, v) in opts {
            p.extend_from_slice(n.as_bytes());
            p.push(0);
            p.extend_from_slice(v.as_bytes());
            p.push(0);
        }
        p
    }
    /// Deterministic file content.
    fn content(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 % 251) as u8).collect()
    }
    fn sha(bytes: &[u8]) -> String {
        Sha256::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// What a datagram was classified as, in owned form.
    #[derive(Debug, PartialEq)]
    struct Seen {
        transfer: Option<usize>,
        role: Option<Role>,
        last_block: bool,
        info: String,
    }

    struct Sim {
        tracker: Tracker,
        frame: u64,
        ts: Duration,
    }

    impl Sim {
        fn new(config: Config) -> Self {
            Sim {
                tracker: Tracker::new(config),
                frame: 0,
                ts: Duration::from_secs(1_000),
            }
        }
        fn send(&mut self, src: &str, dst: &str, payload: &[u8]) -> Option<Seen> {
            self.frame += 1;
            self.ts += Duration::from_millis(1);
            self.tracker
                .on_datagram(
                    FrameNumber(self.frame),
                    self.ts,
                    addr(src),
                    addr(dst),
                    payload,
                )
                .map(|c| Seen {
                    transfer: c.transfer,
                    role: c.role,
                    last_block: c.last_block,
                    info: c.info().to_string(),
                })
        }
        fn wait(&mut self, secs: u64) {
            self.ts += Duration::from_secs(secs);
        }
        /// Lock-step DATA/ACK of `file` from `sender` to `receiver`, blocks numbered from 1
        /// (wrapping), with the empty final block when the length is a multiple of `bs`.
        fn lockstep(&mut self, sender: &str, receiver: &str, file: &[u8], bs: usize) {
            let mut block: u16 = 1;
            let mut chunks: Vec<&[u8]> = file.chunks(bs).collect();
            if file.len().is_multiple_of(bs) {
                chunks.push(&[]);
            }
            for c in chunks {
                self.send(sender, receiver, &data(block, c)).unwrap();
                self.send(receiver, sender, &ack(block)).unwrap();
                block = block.wrapping_add(1);
            }
        }
        fn finish(self) -> Vec<Transfer> {
            self.tracker.finish()
        }
    }

    fn kinds(t: &Transfer) -> Vec<WarningKind> {
        t.warnings.iter().map(|w| w.kind).collect()
    }

    #[test]
    fn read_transfer_completes_with_hash() {
        let mut sim = Sim::new(Config::default());
        let file = content(700);
        let c = sim
            .send(CLIENT, SERVER, &rrq("a.txt", "octet", &[]))
            .unwrap();
        assert_eq!(c.transfer, Some(0));
        assert_eq!(c.info, "Read Request, File: a.txt, Transfer type: octet");
        let d1 = sim.send(TID, CLIENT, &data(1, &file[..512])).unwrap();
        assert_eq!(
            (d1.transfer, d1.role, d1.last_block),
            (Some(0), Some(Role::Server), false)
        );
        assert_eq!(
            sim.send(CLIENT, TID, &ack(1)).unwrap().role,
            Some(Role::Client)
        );
        let d2 = sim.send(TID, CLIENT, &data(2, &file[512..])).unwrap();
        assert!(d2.last_block);
        assert_eq!(d2.info, "Data Packet, Block: 2 (last)");
        sim.send(CLIENT, TID, &ack(2)).unwrap();
        let t = &sim.finish()[0];
        assert_eq!(t.client, addr(CLIENT));
        assert_eq!(t.server, addr(TID));
        assert_eq!(t.direction, TransferDirection::Read);
        assert_eq!((t.file.as_str(), t.mode.as_str()), ("a.txt", "octet"));
        assert_eq!((t.block_size, t.blocks, t.bytes), (512, 2, 700));
        assert!(t.complete);
        assert_eq!(t.end, EndReason::Completed);
        assert_eq!(t.sha256.as_deref(), Some(sha(&file).as_str()));
        assert_eq!(t.frames, 5);
        assert_eq!(t.request_frame, FrameNumber(1));
        assert!(t.warnings.is_empty(), "{:?}", t.warnings);
        assert!((t.duration_secs - 0.004).abs() < 1e-6);
        let json = serde_json::to_value(t).unwrap();
        for key in [
            "client",
            "server",
            "direction",
            "file",
            "mode",
            "options",
            "block_size",
            "blocks",
            "bytes",
            "complete",
            "error",
            "retransmitted_blocks",
            "duplicate_acks",
            "missing_blocks",
            "sha256",
            "warnings",
        ] {
            assert!(json.get(key).is_some(), "missing {key}");
        }
        assert_eq!(json["direction"], "read");
        assert_eq!(json["server"], TID);
        assert!(json["error"].is_null());
    }

    #[test]
    fn write_transfer_starts_with_ack_zero() {
        let mut sim = Sim::new(Config::default());
        let file = content(100);
        sim.send(CLIENT, SERVER, &wrq("up.bin", "octet")).unwrap();
        let a0 = sim.send(TID, CLIENT, &ack(0)).unwrap();
        assert_eq!(a0.transfer, Some(0));
        let d = sim.send(CLIENT, TID, &data(1, &file)).unwrap();
        assert_eq!(d.role, Some(Role::Client));
        sim.send(TID, CLIENT, &ack(1)).unwrap();
        let t = &sim.finish()[0];
        assert_eq!(t.direction, TransferDirection::Write);
        assert!(t.complete);
        assert_eq!(t.sha256.as_deref(), Some(sha(&file).as_str()));
        assert!(t.warnings.is_empty(), "{:?}", t.warnings);
    }

    #[test]
    fn error_ends_transfer_and_later_packets_are_flagged() {
        let mut sim = Sim::new(Config::default());
        sim.send(CLIENT, SERVER, &rrq("missing.txt", "octet", &[]))
            .unwrap();
        let e = sim.send(TID, CLIENT, &error(1, "File not found")).unwrap();
        assert_eq!(
            e.info,
            "Error Code, Code: File not found, Message: File not found"
        );
        // A buggy server keeps sending.
        sim.send(TID, CLIENT, &data(1, b"oops")).unwrap();
        let t = &sim.finish()[0];
        assert!(!t.complete);
        assert_eq!(t.end, EndReason::Error);
        let err = t.error.as_ref().unwrap();
        assert_eq!((err.code, err.meaning.as_str()), (1, "File not found"));
        assert_eq!((err.frame, err.from), (FrameNumber(2), Role::Server));
        assert!(t.sha256.is_none());
        assert_eq!(kinds(t), vec![WarningKind::ContinuesAfterError]);
    }

    #[test]
    fn exact_multiple_needs_the_empty_final_block() {
        let mut sim = Sim::new(Config::default());
        let file = content(1024);
        sim.send(CLIENT, SERVER, &rrq("exact1024.bin", "octet", &[]))
            .unwrap();
        sim.send(TID, CLIENT, &data(1, &file[..512])).unwrap();
        sim.send(CLIENT, TID, &ack(1)).unwrap();
        sim.send(TID, CLIENT, &data(2, &file[512..])).unwrap();
        sim.send(CLIENT, TID, &ack(2)).unwrap();
        // Not complete yet: a full block never ends a transfer.
        assert!(!sim.tracker.active[&0].complete);
        let last = sim.send(TID, CLIENT, &data(3, b"")).unwrap();
        assert!(last.last_block);
        sim.send(CLIENT, TID, &ack(3)).unwrap();
        let t = &sim.finish()[0];
        assert!(t.complete);
        assert_eq!((t.blocks, t.bytes), (3, 1024));
        assert_eq!(t.sha256.as_deref(), Some(sha(&file).as_str()));
    }

    #[test]
    fn missing_empty_final_block_leaves_transfer_incomplete() {
        let mut sim = Sim::new(Config::default());
        let file = content(1024);
        sim.send(CLIENT, SERVER, &rrq("exact1024.bin", "octet", &[]))
            .unwrap();
        sim.send(TID, CLIENT, &data(1, &file[..512])).unwrap();
        sim.send(CLIENT, TID, &ack(1)).unwrap();
        sim.send(TID, CLIENT, &data(2, &file[512..])).unwrap();
        sim.send(CLIENT, TID, &ack(2)).unwrap();
        let t = &sim.finish()[0];
        assert!(!t.complete);
        assert_eq!(t.end, EndReason::CaptureEnd);
        assert!(t.sha256.is_none());
    }

    #[test]
    fn retransmissions_and_duplicate_acks_are_counted() {
        let mut sim = Sim::new(Config::default());
        let file = content(1500);
        sim.send(CLIENT, SERVER, &rrq("lossy.bin", "octet", &[]))
            .unwrap();
        sim.send(TID, CLIENT, &data(1, &file[..512])).unwrap();
        sim.send(CLIENT, TID, &ack(1)).unwrap();
        sim.send(TID, CLIENT, &data(2, &file[512..1024])).unwrap();
        // The ACK was lost on the way: the server times out and sends DATA 2 again.
        sim.send(TID, CLIENT, &data(2, &file[512..1024])).unwrap();
        sim.send(CLIENT, TID, &ack(2)).unwrap();
        sim.send(CLIENT, TID, &ack(2)).unwrap();
        sim.send(TID, CLIENT, &data(3, &file[1024..])).unwrap();
        sim.send(CLIENT, TID, &ack(3)).unwrap();
        let t = &sim.finish()[0];
        assert!(t.complete);
        assert_eq!((t.retransmitted_blocks, t.duplicate_acks), (1, 1));
        assert_eq!((t.missing_blocks, t.out_of_sequence_blocks), (0, 0));
        assert_eq!((t.blocks, t.bytes), (3, 1500));
        assert_eq!(t.sha256.as_deref(), Some(sha(&file).as_str()));
    }

    #[test]
    fn block_missing_from_capture_is_reported() {
        let mut sim = Sim::new(Config::default());
        let file = content(1500);
        sim.send(CLIENT, SERVER, &rrq("gap.bin", "octet", &[]))
            .unwrap();
        sim.send(TID, CLIENT, &data(1, &file[..512])).unwrap();
        sim.send(CLIENT, TID, &ack(1)).unwrap();
        // DATA 2 and ACK 2 are not in the capture.
        sim.send(TID, CLIENT, &data(3, &file[1024..])).unwrap();
        sim.send(CLIENT, TID, &ack(3)).unwrap();
        let t = &sim.finish()[0];
        assert!(!t.complete);
        assert_eq!((t.missing_blocks, t.out_of_sequence_blocks), (1, 1));
        assert!(t.sha256.is_none());
        assert!(kinds(t).contains(&WarningKind::BlocksNotCaptured));
    }

    #[test]
    fn reordered_window_is_reassembled_in_order() {
        let mut sim = Sim::new(Config::default());
        let file = content(1300);
        sim.send(
            CLIENT,
            SERVER,
            &rrq("w.bin", "octet", &[("windowsize", "4")]),
        )
        .unwrap();
        sim.send(TID, CLIENT, &oack(&[("windowsize", "4")]))
            .unwrap();
        sim.send(CLIENT, TID, &ack(0)).unwrap();
        sim.send(TID, CLIENT, &data(2, &file[512..1024])).unwrap();
        sim.send(TID, CLIENT, &data(3, &file[1024..])).unwrap();
        sim.send(TID, CLIENT, &data(1, &file[..512])).unwrap();
        sim.send(CLIENT, TID, &ack(3)).unwrap();
        let t = &sim.finish()[0];
        assert!(t.complete, "{t:?}");
        assert_eq!(t.window_size, 4);
        assert_eq!(t.out_of_sequence_blocks, 2); // 2 arrived first, then 1 late
        assert_eq!(t.sha256.as_deref(), Some(sha(&file).as_str()));
        assert!(t.warnings.is_empty(), "{:?}", t.warnings);
    }

    #[test]
    fn out_of_order_buffer_is_bounded() {
        let config = Config {
            max_buffered_bytes: 1024,
            ..Config::default()
        };
        let mut sim = Sim::new(config);
        sim.send(CLIENT, SERVER, &rrq("big.bin", "octet", &[]))
            .unwrap();
        let block = content(512);
        // Block 1 never shows up; 2, 3 fit the buffer, 4 does not.
        for b in 2..=4 {
            sim.send(TID, CLIENT, &data(b, &block)).unwrap();
        }
        assert!(sim.tracker.active[&0].hasher.is_none());
        assert_eq!(sim.tracker.active[&0].buffered_bytes, 0);
        let t = &sim.finish()[0];
        assert!(kinds(t).contains(&WarningKind::BufferLimit));
        assert!(t.sha256.is_none());
    }

    #[test]
    fn negotiated_block_size_from_oack() {
        let mut sim = Sim::new(Config::default());
        let file = content(1500);
        let r = sim
            .send(
                CLIENT,
                SERVER,
                &rrq(
                    "options.bin",
                    "octet",
                    &[("blksize", "1024"), ("tsize", "0")],
                ),
            )
            .unwrap();
        assert_eq!(
            r.info,
            "Read Request, File: options.bin, Transfer type: octet, blksize=1024, tsize=0"
        );
        let o = sim
            .send(
                TID,
                CLIENT,
                &oack(&[("blksize", "1024"), ("tsize", "1500")]),
            )
            .unwrap();
        assert_eq!(o.info, "Option Acknowledgement, blksize=1024, tsize=1500");
        sim.send(CLIENT, TID, &ack(0)).unwrap();
        let d1 = sim.send(TID, CLIENT, &data(1, &file[..1024])).unwrap();
        assert!(!d1.last_block);
        sim.send(CLIENT, TID, &ack(1)).unwrap();
        sim.send(TID, CLIENT, &data(2, &file[1024..])).unwrap();
        sim.send(CLIENT, TID, &ack(2)).unwrap();
        let t = &sim.finish()[0];
        assert!(t.complete);
        assert_eq!((t.block_size, t.blocks), (1024, 2));
        assert_eq!(t.options.requested.len(), 2);
        let neg = t.options.negotiated.as_ref().unwrap();
        assert_eq!(
            (neg[1].name.as_str(), neg[1].value.as_str()),
            ("tsize", "1500")
        );
        assert_eq!(t.duplicate_acks, 0);
        assert!(t.warnings.is_empty(), "{:?}", t.warnings);
    }

    #[test]
    fn options_ignored_keeps_default_block_size() {
        let mut sim = Sim::new(Config::default());
        sim.send(CLIENT, SERVER, &rrq("f", "octet", &[("blksize", "1024")]))
            .unwrap();
        sim.send(TID, CLIENT, &data(1, &content(512))).unwrap();
        sim.send(CLIENT, TID, &ack(1)).unwrap();
        sim.send(TID, CLIENT, &data(2, b"end")).unwrap();
        sim.send(CLIENT, TID, &ack(2)).unwrap();
        let t = &sim.finish()[0];
        assert!(t.complete);
        assert_eq!(t.block_size, 512);
        assert_eq!(kinds(t), vec![WarningKind::OptionsIgnored]);
    }

    #[test]
    fn oack_problems_are_warned() {
        let mut sim = Sim::new(Config::default());
        sim.send(CLIENT, SERVER, &rrq("f", "octet", &[("blksize", "512")]))
            .unwrap();
        sim.send(
            TID,
            CLIENT,
            &oack(&[("blksize", "2048"), ("windowsize", "8")]),
        )
        .unwrap();
        let t = &sim.finish()[0];
        let k = kinds(t);
        assert!(k.contains(&WarningKind::OackRaisedValue), "{k:?}");
        assert!(k.contains(&WarningKind::UnrequestedOption), "{k:?}");
        assert!(k.contains(&WarningKind::FragmentingBlockSize), "{k:?}");
        // A request without options answered by an OACK.
        let mut sim = Sim::new(Config::default());
        sim.send(CLIENT, SERVER, &rrq("f", "octet", &[])).unwrap();
        sim.send(TID, CLIENT, &oack(&[("blksize", "1024")]))
            .unwrap();
        assert!(kinds(&sim.finish()[0]).contains(&WarningKind::OackWithoutRequest));
    }

    #[test]
    fn teaching_warnings_for_odd_packets() {
        let mut sim = Sim::new(Config::default());
        // Mode "binary", no final NUL.
        let mut req = rrq("f", "binary", &[]);
        req.pop();
        sim.send(CLIENT, SERVER, &req).unwrap();
        sim.send(TID, CLIENT, &data(1, &content(600))).unwrap(); // larger than 512
        sim.send(CLIENT, TID, &ack(1)).unwrap();
        sim.send(CLIENT, TID, &ack(7)).unwrap(); // never sent
        sim.send(TID, CLIENT, &[0, 9]).unwrap(); // malformed
        let t = &sim.finish()[0];
        let k = kinds(t);
        for w in [
            WarningKind::UnusualMode,
            WarningKind::MissingFinalNul,
            WarningKind::OversizedData,
            WarningKind::AckForUnsentBlock,
            WarningKind::MalformedPacket,
        ] {
            assert!(k.contains(&w), "{w:?} missing from {k:?}");
        }
        assert_eq!(t.malformed_packets, 1);
        let unsent = t
            .warnings
            .iter()
            .find(|w| w.kind == WarningKind::AckForUnsentBlock)
            .unwrap();
        assert_eq!(unsent.frame, Some(FrameNumber(4)));
    }

    #[test]
    fn server_answering_from_port_69_is_warned_and_tracked() {
        let mut sim = Sim::new(Config::default());
        sim.send(CLIENT, SERVER, &rrq("f", "octet", &[])).unwrap();
        sim.send(SERVER, CLIENT, &data(1, b"x")).unwrap();
        sim.send(CLIENT, SERVER, &ack(1)).unwrap();
        let t = &sim.finish()[0];
        assert!(t.complete);
        assert_eq!(t.server, addr(SERVER));
        assert_eq!(kinds(t), vec![WarningKind::ServerAnsweredFromListenPort]);
    }

    #[test]
    fn concurrent_transfers_stay_apart() {
        let mut sim = Sim::new(Config::default());
        let (c1, c2) = ("10.0.0.1:40883", "10.0.0.1:40884");
        let (t1, t2) = ("10.0.0.2:40001", "10.0.0.2:40002");
        let (f1, f2) = (content(600), content(900));
        sim.send(c1, SERVER, &rrq("right.bin", "octet", &[]))
            .unwrap();
        sim.send(c2, SERVER, &rrq("left.bin", "octet", &[]))
            .unwrap();
        assert_eq!(
            sim.send(t2, c2, &data(1, &f2[..512])).unwrap().transfer,
            Some(1)
        );
        assert_eq!(
            sim.send(t1, c1, &data(1, &f1[..512])).unwrap().transfer,
            Some(0)
        );
        sim.send(c1, t1, &ack(1)).unwrap();
        sim.send(c2, t2, &ack(1)).unwrap();
        sim.send(t1, c1, &data(2, &f1[512..])).unwrap();
        sim.send(t2, c2, &data(2, &f2[512..])).unwrap();
        sim.send(c2, t2, &ack(2)).unwrap();
        sim.send(c1, t1, &ack(2)).unwrap();
        let ts = sim.finish();
        assert_eq!(ts.len(), 2);
        assert_eq!((ts[0].file.as_str(), ts[0].bytes), ("right.bin", 600));
        assert_eq!((ts[1].file.as_str(), ts[1].bytes), ("left.bin", 900));
        assert_eq!(ts[0].sha256.as_deref(), Some(sha(&f1).as_str()));
        assert_eq!(ts[1].sha256.as_deref(), Some(sha(&f2).as_str()));
        assert!(ts.iter().all(|t| t.complete && t.warnings.is_empty()));
    }

    #[test]
    fn same_ports_reused_for_a_new_request_start_a_new_transfer() {
        // Like fixtures/tftp-read.pcap: the client keeps port 40883 and the server happens to
        // answer from the same transfer port each time.
        let mut sim = Sim::new(Config::default());
        for (i, name) in ["small.txt", "small.txt", "other.txt"].iter().enumerate() {
            let r = sim.send(CLIENT, SERVER, &rrq(name, "octet", &[])).unwrap();
            assert_eq!(r.transfer, Some(i));
            assert_eq!(
                sim.send(TID, CLIENT, &data(1, b"hi")).unwrap().transfer,
                Some(i)
            );
            sim.send(CLIENT, TID, &ack(1)).unwrap();
        }
        let ts = sim.finish();
        assert_eq!(ts.len(), 3);
        assert!(
            ts.iter()
                .all(|t| t.complete && t.blocks == 1 && t.warnings.is_empty())
        );
    }

    #[test]
    fn same_ports_reused_while_previous_was_unfinished() {
        let mut sim = Sim::new(Config::default());
        sim.send(CLIENT, SERVER, &rrq("a", "octet", &[])).unwrap();
        sim.send(TID, CLIENT, &data(1, &content(512))).unwrap();
        // The client gives up and asks for another file from the same port.
        sim.send(CLIENT, SERVER, &rrq("b", "octet", &[])).unwrap();
        assert_eq!(
            sim.send(TID, CLIENT, &data(1, b"b")).unwrap().transfer,
            Some(1)
        );
        sim.send(CLIENT, TID, &ack(1)).unwrap();
        let ts = sim.finish();
        assert_eq!(ts[0].end, EndReason::Replaced);
        assert!(!ts[0].complete);
        assert!(ts[1].complete);
    }

    #[test]
    fn repeated_request_is_one_transfer() {
        let mut sim = Sim::new(Config::default());
        sim.send(CLIENT, SERVER, &rrq("f", "octet", &[])).unwrap();
        sim.wait(2);
        assert_eq!(
            sim.send(CLIENT, SERVER, &rrq("f", "octet", &[]))
                .unwrap()
                .transfer,
            Some(0)
        );
        sim.send(TID, CLIENT, &data(1, b"x")).unwrap();
        sim.send(CLIENT, TID, &ack(1)).unwrap();
        let ts = sim.finish();
        assert_eq!(ts.len(), 1);
        assert_eq!(ts[0].duplicate_requests, 1);
        assert!(ts[0].complete);
        assert_eq!(kinds(&ts[0]), vec![WarningKind::DuplicateRequest]);
    }

    #[test]
    fn unanswered_request_expires_and_stops_matching() {
        let mut sim = Sim::new(Config::default());
        sim.send(CLIENT, SERVER, &rrq("f", "octet", &[])).unwrap();
        sim.wait(60);
        // Anything later: the request has expired, so the "answer" is not TFTP.
        assert!(sim.send("10.9.9.9:53", "10.9.9.8:53", b"dns").is_none());
        assert!(sim.send(TID, CLIENT, &data(1, b"late")).is_none());
        assert!(sim.tracker.pending.is_empty() && sim.tracker.active.is_empty());
        let t = &sim.finish()[0];
        assert_eq!(t.end, EndReason::NoAnswer);
        assert!(!t.answered);
        assert_eq!(t.server, addr(SERVER));
        assert_eq!(kinds(t), vec![WarningKind::NoAnswer]);
    }

    #[test]
    fn completed_transfer_lingers_then_stops_matching() {
        let mut sim = Sim::new(Config::default());
        sim.send(CLIENT, SERVER, &rrq("f", "octet", &[])).unwrap();
        sim.send(TID, CLIENT, &data(1, b"x")).unwrap();
        sim.send(CLIENT, TID, &ack(1)).unwrap();
        // A retransmitted final DATA shortly after is still counted.
        sim.wait(1);
        assert_eq!(
            sim.send(TID, CLIENT, &data(1, b"x")).unwrap().transfer,
            Some(0)
        );
        sim.wait(30);
        assert!(sim.send(TID, CLIENT, &data(1, b"x")).is_none());
        assert!(sim.tracker.pairs.is_empty());
        let t = &sim.finish()[0];
        assert!(t.complete);
        assert_eq!(t.retransmitted_blocks, 1);
    }

    #[test]
    fn non_tftp_and_port_only_datagrams() {
        let mut sim = Sim::new(Config::default());
        assert!(
            sim.send("10.0.0.5:5000", "10.0.0.6:6000", b"hello")
                .is_none()
        );
        // To port 69 but malformed: TFTP by port, no transfer.
        let c = sim.send("10.0.0.5:5000", SERVER, b"\x00\x01ab").unwrap();
        assert_eq!(c.transfer, None);
        assert!(
            c.info
                .starts_with("Malformed TFTP packet: the file name has no terminating nul")
        );
        // From port 69 (like tcpdump-tftp-heapoverflow.pcap).
        assert!(sim.send(SERVER, "10.0.0.5:12336", b"\x00\x0100").is_some());
        assert!(sim.finish().is_empty());
    }

    #[test]
    fn extra_server_port() {
        let config = Config {
            server_ports: vec![69, 6969],
            ..Config::default()
        };
        let mut sim = Sim::new(config);
        let r = sim
            .send(CLIENT, "10.0.0.2:6969", &rrq("f", "octet", &[]))
            .unwrap();
        assert_eq!(r.transfer, Some(0));
        sim.send(TID, CLIENT, &data(1, b"x")).unwrap();
        sim.send(CLIENT, TID, &ack(1)).unwrap();
        assert!(sim.finish()[0].complete);
    }

    fn rollover_transfer(wrap_to_one: bool) -> (Transfer, Vec<u8>) {
        let mut sim = Sim::new(Config::default());
        // blksize 8 (RFC 2348's minimum): 70 000 blocks is 560 000 bytes.
        let n_blocks = 70_000usize;
        let file = content(n_blocks * 8 - 3);
        sim.send(CLIENT, SERVER, &rrq("big", "octet", &[("blksize", "8")]))
            .unwrap();
        sim.send(TID, CLIENT, &oack(&[("blksize", "8")])).unwrap();
        sim.send(CLIENT, TID, &ack(0)).unwrap();
        let mut wire: u16 = 1;
        for chunk in file.chunks(8) {
            sim.send(TID, CLIENT, &data(wire, chunk)).unwrap();
            sim.send(CLIENT, TID, &ack(wire)).unwrap();
            wire = match wire.checked_add(1) {
                Some(w) => w,
                None if wrap_to_one => 1,
                None => 0,
            };
        }
        (sim.finish().remove(0), file)
    }

    #[test]
    fn block_numbers_roll_over_to_zero() {
        let (t, file) = rollover_transfer(false);
        assert!(t.complete, "{:?}", t.warnings);
        assert_eq!((t.blocks, t.bytes), (70_000, file.len() as u64));
        assert_eq!(
            (t.rollovers, t.missing_blocks, t.retransmitted_blocks),
            (1, 0, 0)
        );
        assert_eq!((t.out_of_sequence_blocks, t.duplicate_acks), (0, 0));
        assert_eq!(t.sha256.as_deref(), Some(sha(&file).as_str()));
        assert_eq!(kinds(&t), vec![WarningKind::BlockRollover]);
    }

    #[test]
    fn block_numbers_roll_over_to_one() {
        let (t, file) = rollover_transfer(true);
        assert!(t.complete, "{:?}", t.warnings);
        assert_eq!((t.blocks, t.rollovers, t.missing_blocks), (70_000, 1, 0));
        assert_eq!((t.out_of_sequence_blocks, t.duplicate_acks), (0, 0));
        assert_eq!(t.sha256.as_deref(), Some(sha(&file).as_str()));
        assert_eq!(
            kinds(&t),
            vec![WarningKind::RolloverToOne, WarningKind::BlockRollover]
        );
    }

    /// A fresh directory under the system temp dir, removed at the end of the test.
    struct TempDir(PathBuf);
    impl TempDir {
        fn new(tag: &str) -> Self {
            let p = std::env::temp_dir()
                .join(format!("pcaplab-tftp-test-{tag}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&p);
            std::fs::create_dir_all(&p).unwrap();
            TempDir(p)
        }
        fn files(&self) -> Vec<String> {
            let mut v: Vec<String> = std::fs::read_dir(&self.0)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            v.sort();
            v
        }
    }
    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn extraction_writes_safe_names_without_overwriting() {
        let dir = TempDir::new("names");
        let config = Config {
            extract_dir: Some(dir.0.clone()),
            ..Config::default()
        };
        let mut sim = Sim::new(config);
        let f1 = content(1000);
        sim.send(CLIENT, SERVER, &rrq("../../etc/passwd", "octet", &[]))
            .unwrap();
        sim.lockstep(TID, CLIENT, &f1, 512);
        sim.send(CLIENT, SERVER, &rrq("/etc/passwd", "octet", &[]))
            .unwrap();
        sim.lockstep(TID, CLIENT, b"second", 512);
        sim.send(CLIENT, SERVER, &rrq("NUL", "octet", &[])).unwrap();
        sim.lockstep(TID, CLIENT, b"", 512);
        // Unfinished: kept with .incomplete.
        sim.send(CLIENT, SERVER, &rrq("part.bin", "octet", &[]))
            .unwrap();
        sim.send(TID, CLIENT, &data(1, &content(512))).unwrap();
        let ts = sim.finish();
        assert_eq!(
            dir.files(),
            vec!["_NUL", "part.bin.incomplete", "passwd", "passwd-1"]
        );
        let x0 = ts[0].extracted.as_ref().unwrap();
        assert_eq!(x0.path, dir.0.join("passwd").display().to_string());
        assert_eq!((x0.size, x0.complete), (1000, true));
        assert_eq!(x0.sha256, sha(&f1));
        assert_eq!(Some(&x0.sha256), ts[0].sha256.as_ref());
        assert_eq!(x0.name_changes, vec!["directory parts removed"]);
        assert!(kinds(&ts[0]).contains(&WarningKind::FileNameNeutralised));
        assert_eq!(std::fs::read(dir.0.join("passwd")).unwrap(), f1);
        assert_eq!(std::fs::read(dir.0.join("passwd-1")).unwrap(), b"second");
        assert_eq!(ts[2].extracted.as_ref().unwrap().size, 0);
        let x3 = ts[3].extracted.as_ref().unwrap();
        assert!(!x3.complete);
        assert_eq!(x3.size, 512);
        assert!(ts[3].sha256.is_none());
    }

    #[test]
    fn extraction_decodes_netascii() {
        let dir = TempDir::new("netascii");
        let config = Config {
            extract_dir: Some(dir.0.clone()),
            ..Config::default()
        };
        let mut sim = Sim::new(config);
        // 512 bytes whose last byte is a CR, then LF in the next block.
        let mut wire = vec![b'a'; 511];
        wire.push(b'\r');
        wire.extend_from_slice(b"\nbare\r\0cr\r\n");
        sim.send(CLIENT, SERVER, &rrq("poem.txt", "netascii", &[]))
            .unwrap();
        sim.lockstep(TID, CLIENT, &wire, 512);
        let t = &sim.finish()[0];
        let mut local = vec![b'a'; 511];
        local.extend_from_slice(b"\nbare\rcr\n");
        assert_eq!(std::fs::read(dir.0.join("poem.txt")).unwrap(), local);
        let x = t.extracted.as_ref().unwrap();
        assert_eq!(x.sha256, sha(&local));
        // The transfer hash covers the bytes on the wire.
        assert_eq!(t.sha256.as_deref(), Some(sha(&wire).as_str()));
        assert!(t.warnings.is_empty(), "{:?}", t.warnings);
    }

    #[test]
    fn no_file_bytes_kept_without_extraction() {
        let mut sim = Sim::new(Config::default());
        sim.send(CLIENT, SERVER, &rrq("f", "octet", &[])).unwrap();
        sim.send(TID, CLIENT, &data(1, &content(512))).unwrap();
        let a = &sim.tracker.active[&0];
        assert!(a.sink.is_none() && a.buffer.is_empty());
    }

    #[test]
    fn eviction_bounds_active_transfers() {
        let config = Config {
            max_active: 2,
            ..Config::default()
        };
        let mut sim = Sim::new(config);
        for port in 1000..1005 {
            sim.send(&format!("10.0.0.1:{port}"), SERVER, &rrq("f", "octet", &[]))
                .unwrap();
        }
        assert_eq!(sim.tracker.active.len(), 2);
        let ts = sim.finish();
        assert_eq!(ts.len(), 5);
        assert_eq!(ts[0].end, EndReason::Evicted);
        assert_eq!(ts[4].end, EndReason::CaptureEnd);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// Any mix of DATA/ACK/ERROR/OACK/garbage between the endpoints: no panic, and the
        /// counters stay consistent.
        #[test]
        fn tracker_is_total_and_consistent(
            steps in proptest::collection::vec((0u8..6, proptest::prelude::any::<u16>(), 0usize..600, proptest::prelude::any::<bool>()), 0..80),
        ) {
            let mut sim = Sim::new(Config::default());
            sim.send(CLIENT, SERVER, &rrq("f", "octet", &[("blksize", "256")])).unwrap();
            for (kind, n, len, from_server) in steps {
                let block = n % 8;
                let payload = match kind {
                    0 | 1 => data(block, &content(len)),
                    2 => ack(block),
                    3 => error(n, "x"),
                    4 => oack(&[("blksize", "256")]),
                    _ => n.to_be_bytes().to_vec(),
                };
                let (src, dst) = if from_server { (TID, CLIENT) } else { (CLIENT, TID) };
                sim.send(src, dst, &payload);
            }
            for t in sim.finish() {
                proptest::prop_assert!(t.complete == t.sha256.is_some());
                proptest::prop_assert!(!(t.complete && t.error.is_some()));
                proptest::prop_assert!(t.missing_blocks <= t.blocks + 8);
            }
        }
    }
}
