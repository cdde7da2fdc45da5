//! TFTP conversations: which UDP datagrams belong to which transfer, and what happened in each
//! transfer ([`Transfer`]: blocks, data complete and clean ending, retransmissions, loss,
//! errors, hashes, findings by side).
//!
//! In: every UDP datagram of the capture, in order ([`Tracker::on_datagram`], or the engine
//! through [`DatagramConsumer`]), and the ICMP errors that quote UDP datagrams
//! ([`Tracker::on_icmp_error`]). Out: a [`Classification`] per TFTP datagram (the packet's
//! note) and owned [`Transfer`] results, handed out as transfers end
//! ([`Tracker::drain_finished`]) or all at once ([`Tracker::finish`]). Decoding of single
//! packets is the parser's job; printing is `view`'s and `report`'s.
//!
//! A transfer starts with a RRQ/WRQ sent to a server port (69 or a configured one). The server
//! answers from a new port, its transfer ID (RFC 1350 §4); every later packet between the client
//! endpoint and that server endpoint belongs to the transfer. A second server port answering
//! the same (repeated) request opens a transfer of its own. Finding the transfer of a datagram
//! is a hash lookup (by client and server endpoints), whatever the number of transfers; a
//! request looks only at its own client's transfers.
//!
//! Bounded state: unanswered requests expire, idle transfers end, finished transfers stop
//! matching after a short linger and are handed out, at most `max_active` transfers are tracked
//! at once (expiry and eviction through a deadline heap: O(log n) per transfer, nothing per
//! packet), out-of-order data is buffered up to a limit per transfer and in total, and file
//! bytes are never kept: they are hashed (and written, with `--extract`) in order.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::net::SocketAddr;
use std::time::Duration;

use foldhash::{HashMap, HashMapExt};
use serde::Serialize;

use super::config::Config;
use super::state::{
    Active, Ctx, check_error_code, check_traversal, continues_after_error, finalize, new_active,
    on_ack, on_data, on_oack, option_entries, release_buffer, request_warnings, rfc, touch, warn,
    wrong_sender,
};
use super::transfer::{
    Classification, EndReason, IcmpLink, Repeated, Role, Transfer, TransferDirection,
    TransferError, TransferOptions, WarningKind, add_frames,
};
use super::{DEFAULT_BLOCK_SIZE, ErrorCode, Malformed, Mode, Options, Packet, Request, decode};
use crate::app::consumer::{Datagram, DatagramConsumer, Note};
use crate::app::wire_text;
use crate::decode::icmp::{ErrorKind, ErrorMessage, Version};
use crate::extract::Dir;
use crate::units::FrameNumber;

/// Most ports remembered for [`Tracker::port_hints`].
const MAX_PORT_HINTS: usize = 16;
/// Most servers whose answered request kinds are remembered (for the no-answer diagnosis).
const MAX_SERVERS_REMEMBERED: usize = 4096;
/// Most request frames kept per transfer.
const MAX_REQUEST_FRAMES: usize = 8;

/// A request-looking datagram sent to a UDP port that is not a configured TFTP server port:
/// the user probably needs `--tftp-port`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PortHint {
    /// The destination port.
    pub port: u16,
    /// Frame of the first such datagram.
    pub first_frame: FrameNumber,
    /// How many were seen.
    pub count: u64,
    /// Read or write request (of the first one).
    pub direction: TransferDirection,
    /// Its file name as sent ([`wire_text`]; escaped where it is printed).
    pub file: String,
}

/// What the tracker did to bound its state, for the notes a command prints.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counters {
    /// Transfers opened.
    pub transfers: u64,
    /// Transfers ended after the idle timeout (capture time).
    pub idle_timeouts: u64,
    /// Requests that expired unanswered.
    pub no_answer: u64,
    /// Transfers ended because `max_active` were tracked at once.
    pub evicted: u64,
    /// Most transfers tracked at once.
    pub peak_active: usize,
    /// Transfers whose out-of-order buffer hit a limit.
    pub buffer_limit: u64,
}

/// One tracked transfer: its result so far and its live state.
#[derive(Debug)]
struct Slot {
    t: Transfer,
    a: Active,
    /// The deadline of the slot's valid entry in the heap (see [`Tracker::sweep`]).
    deadline: Duration,
}

/// Follows TFTP transfers through a capture. Feed it every UDP datagram in capture order.
///
/// ```
/// use std::time::Duration;
/// use pcaplab::app::tftp::{Config, Tracker};
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
/// assert!(transfers[0].complete && transfers[0].clean_end);
/// assert_eq!(transfers[0].bytes, 2);
/// ```
#[derive(Debug)]
pub struct Tracker {
    config: Config,
    next_index: usize,
    slots: HashMap<usize, Slot>,
    /// Answered transfers by (client endpoint, server TID endpoint).
    pairs: HashMap<(SocketAddr, SocketAddr), usize>,
    /// Tracked transfers by client endpoint: a request or an answer looks only at its client's
    /// transfers.
    by_client: HashMap<SocketAddr, Vec<usize>>,
    /// (deadline, transfer): a lazy min-heap; an entry is valid while its deadline equals the
    /// slot's `deadline`.
    deadlines: BinaryHeap<Reverse<(Duration, usize)>>,
    /// Results of transfers no longer tracked, waiting to be drained.
    done: VecDeque<Transfer>,
    dir: Option<Dir>,
    buffered_total: usize,
    /// Kinds of request each server listening address answered (bits of [`kind_bit`]).
    answered_kinds: HashMap<SocketAddr, u8>,
    hints: Vec<PortHint>,
    counters: Counters,
    /// False for a tracker that only annotates packets: results are dropped as transfers end.
    keep_results: bool,
    scratch: Vec<usize>,
    /// Transfers looked at to place requests (for the test that lookups do not scan).
    #[cfg(test)]
    examined: u64,
}

/// A bit per kind of request: read/write × octet/other mode.
fn kind_bit(direction: TransferDirection, octet: bool) -> u8 {
    match (direction, octet) {
        (TransferDirection::Read, true) => 1,
        (TransferDirection::Read, false) => 2,
        (TransferDirection::Write, true) => 4,
        (TransferDirection::Write, false) => 8,
    }
}

fn kind_text(bit: u8) -> &'static str {
    match bit {
        1 => "an octet read request",
        2 => "a read request in netascii (or another non-octet) mode",
        4 => "an octet write request",
        _ => "a write request in netascii (or another non-octet) mode",
    }
}

/// True for ICMP / ICMPv6 port unreachable.
fn is_port_unreachable(e: &ErrorMessage<'_>) -> bool {
    e.kind == ErrorKind::DestinationUnreachable
        && match e.version {
            Version::V4 => e.code == 3,
            Version::V6 => e.code == 4,
        }
}

/// `ACK block 4`, `DATA block 2`, `RRQ` for a quoted TFTP packet.
fn describe(p: &Packet<'_>) -> String {
    match p {
        Packet::Rrq(_) => "RRQ".to_string(),
        Packet::Wrq(_) => "WRQ".to_string(),
        Packet::Data(d) => format!("DATA block {}", d.block),
        Packet::Ack(a) => format!("ACK block {}", a.block),
        Packet::Error(e) => format!("ERROR {}", e.code.to_u16()),
        Packet::Oack(_) => "OACK".to_string(),
    }
}

impl Tracker {
    /// A tracker with the given configuration (no extraction).
    pub fn new(config: Config) -> Self {
        Tracker {
            config,
            next_index: 0,
            slots: HashMap::new(),
            pairs: HashMap::new(),
            by_client: HashMap::new(),
            deadlines: BinaryHeap::new(),
            done: VecDeque::new(),
            dir: None,
            buffered_total: 0,
            answered_kinds: HashMap::new(),
            hints: Vec::new(),
            counters: Counters::default(),
            keep_results: true,
            scratch: Vec::new(),
            #[cfg(test)]
            examined: 0,
        }
    }

    /// A tracker for commands that only print packets (`packets`, `show`, `stats`): it
    /// classifies every TFTP datagram as [`Tracker::new`] does, but drops each transfer's
    /// result when the transfer ends, so its memory follows the transfers in flight, not the
    /// capture.
    pub fn notes_only(config: Config) -> Self {
        Tracker {
            keep_results: false,
            ..Tracker::new(config)
        }
    }

    /// Extracts every transferred file into `dir` (`tftp --extract DIR`), through the crate's
    /// one extraction sink: safe names, never overwriting, `.part` until complete, a bounded
    /// number of open files.
    pub fn extract_to(&mut self, dir: Dir) -> &mut Self {
        self.dir = Some(dir);
        self
    }

    /// The extraction directory, when extracting.
    pub fn extraction_dir(&self) -> Option<&Dir> {
        self.dir.as_ref()
    }

    /// True when `port` is one a request may be sent to.
    pub fn is_server_port(&self, port: u16) -> bool {
        self.config.server_ports.contains(&port)
    }

    /// Transfers tracked right now.
    pub fn active(&self) -> usize {
        self.slots.len()
    }

    /// What the tracker did to bound its state.
    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// Request-looking datagrams to ports that are not server ports, one entry per port (at
    /// most 16 ports), in the order first seen.
    pub fn port_hints(&self) -> &[PortHint] {
        &self.hints
    }

    /// Hands out the results of the transfers no longer tracked, in the order they ended
    /// (not in index order: see `analysis::order::InOrder` to restore it).
    pub fn drain_finished(&mut self) -> std::collections::vec_deque::Drain<'_, Transfer> {
        self.done.drain(..)
    }

    /// Ends every transfer still tracked (`capture_end`, files written); their results join
    /// those waiting in [`Tracker::drain_finished`].
    pub fn close_all(&mut self) {
        let mut open: Vec<usize> = self.slots.keys().copied().collect();
        open.sort_unstable();
        for idx in open {
            self.close(idx, EndReason::CaptureEnd);
            self.forget(idx);
        }
    }

    /// Ends every open transfer ([`Tracker::close_all`]) and returns every result not drained
    /// yet, in index order.
    pub fn finish(mut self) -> Vec<Transfer> {
        self.close_all();
        let mut all: Vec<Transfer> = self.done.drain(..).collect();
        all.sort_by_key(|t| t.index);
        all
    }

    /// The transfer of `src → dst`, when they are its client and server endpoints.
    fn pair_of(&self, src: SocketAddr, dst: SocketAddr) -> Option<usize> {
        self.pairs
            .get(&(src, dst))
            .or_else(|| self.pairs.get(&(dst, src)))
            .copied()
    }

    /// Looks at one UDP datagram. Returns `None` when it is not TFTP, else the decoded packet
    /// (or its malformed reason) and the transfer it belongs to.
    ///
    /// A datagram is TFTP when it is a request to a server port, when it belongs to a known
    /// transfer (or answers a client's request), or (like Wireshark) when either port is a
    /// server port.
    pub fn on_datagram<'a>(
        &mut self,
        frame: FrameNumber,
        ts: Duration,
        src: SocketAddr,
        dst: SocketAddr,
        payload: &'a [u8],
    ) -> Option<Classification<'a>> {
        self.sweep(ts);
        let to_server = self.is_server_port(dst.port());
        let from_server = self.is_server_port(src.port());
        let client_dst = self.by_client.contains_key(&dst);
        let client_src = self.by_client.contains_key(&src);
        if !to_server
            && !from_server
            && !client_dst
            && !client_src
            && self.pair_of(src, dst).is_none()
        {
            self.maybe_hint(frame, dst, payload);
            return None;
        }
        let mut c = Classification {
            packet: decode(payload),
            transfer: None,
            role: None,
            last_block: false,
            file: None,
            repeated: None,
        };
        if to_server
            && let Ok(p) = &c.packet
            && let Some(request) = p.as_request()
        {
            let direction = match p {
                Packet::Wrq(_) => TransferDirection::Write,
                _ => TransferDirection::Read,
            };
            let idx = self.on_request(frame, ts, src, dst, request, direction);
            c.transfer = Some(idx);
            c.role = Some(Role::Client);
            return Some(c);
        }
        if client_dst {
            self.place_answer(frame, ts, src, dst, &c.packet);
        }
        if let Some(idx) = self.pair_of(src, dst) {
            let (role, last_block, repeated) =
                self.on_transfer_packet(idx, frame, ts, src, &c.packet);
            c.transfer = Some(idx);
            c.role = Some(role);
            c.last_block = last_block;
            c.repeated = repeated;
            return Some(c);
        }
        if client_src && let Some(idx) = self.misdirected(src, dst) {
            self.on_misdirected(idx, frame, ts, dst, &c.packet);
            c.transfer = Some(idx);
            c.role = Some(Role::Client);
            return Some(c);
        }
        if to_server || from_server {
            return Some(c);
        }
        None
    }

    /// A datagram to `client` from `src` that is not (yet) part of a transfer: the first
    /// answer to a pending request (binding the server's transfer ID), or a second server port
    /// answering a request already answered (a transfer of its own).
    fn place_answer(
        &mut self,
        frame: FrameNumber,
        ts: Duration,
        src: SocketAddr,
        client: SocketAddr,
        packet: &Result<Packet<'_>, Malformed>,
    ) {
        let Ok(p) = packet else {
            return;
        };
        if matches!(p, Packet::Rrq(_) | Packet::Wrq(_)) {
            return;
        }
        let mine = self.by_client.get(&client).map_or(&[][..], Vec::as_slice);
        // The most recent unanswered request of this client: to the answering address if
        // there is one, else to any address (a reply from another address than the request's).
        let mut pending_same = None;
        let mut pending_other = None;
        let mut answered = None;
        for &i in mine {
            let Some(s) = self.slots.get(&i) else {
                continue;
            };
            if s.a.closed_at.is_some() {
                continue;
            }
            match s.a.tid {
                None if s.a.request_to.ip() == src.ip() => pending_same = Some(i),
                None => pending_other = Some(i),
                Some(tid) if tid.ip() == src.ip() && tid != src => answered = Some(i),
                Some(_) => {}
            }
        }
        let first_answer = match p {
            Packet::Data(d) => d.block == 1,
            Packet::Ack(a) => a.block == 0,
            Packet::Oack(_) | Packet::Error(_) => true,
            _ => false,
        };
        // A packet of a running transfer between these endpoints stays with it; only what can
        // start a transfer answers a newer request from the same client port.
        let running = self
            .pair_of(src, client)
            .filter(|i| self.slots.get(i).is_some_and(|s| s.a.closed_at.is_none()));
        if running.is_some() && !first_answer {
            return;
        }
        if let Some(idx) = pending_same {
            self.establish(idx, src, frame, false);
            return;
        }
        if self.pair_of(src, client).is_some() {
            return;
        }
        if let Some(idx) = pending_other {
            self.establish(idx, src, frame, true);
            return;
        }
        if first_answer && let Some(orig) = answered {
            self.second_answer(orig, src, frame, ts);
        }
    }

    /// A transfer of client `src` whose request went to `dst`, after the server answered from
    /// another port: the client is sending to the listening port instead of the transfer ID.
    fn misdirected(&self, src: SocketAddr, dst: SocketAddr) -> Option<usize> {
        self.by_client.get(&src)?.iter().copied().find(|i| {
            self.slots
                .get(i)
                .is_some_and(|s| s.a.request_to == dst && s.a.tid.is_some_and(|t| t != dst))
        })
    }

    /// Remembers a request-looking datagram to a port that is not a server port.
    fn maybe_hint(&mut self, frame: FrameNumber, dst: SocketAddr, payload: &[u8]) {
        if !matches!(payload, [0, 1 | 2, _, _, ..]) {
            return;
        }
        let Ok(p) = decode(payload) else {
            return;
        };
        let Some(r) = p.as_request() else {
            return;
        };
        if !r.mode.is_standard() || r.missing_final_nul {
            return;
        }
        if let Some(h) = self.hints.iter_mut().find(|h| h.port == dst.port()) {
            h.count = h.count.saturating_add(1);
            return;
        }
        if self.hints.len() < MAX_PORT_HINTS {
            self.hints.push(PortHint {
                port: dst.port(),
                first_frame: frame,
                count: 1,
                direction: if matches!(p, Packet::Wrq(_)) {
                    TransferDirection::Write
                } else {
                    TransferDirection::Read
                },
                file: wire_text(r.file_name),
            });
        }
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
        let mine = self.by_client.get(&client).map_or(&[][..], Vec::as_slice);
        #[cfg(test)]
        {
            self.examined += mine.len() as u64;
        }
        let repeat_of = mine
            .iter()
            .filter_map(|i| Some((*i, self.slots.get(i)?)))
            .filter(|(_, s)| {
                let a = &s.a;
                a.request_to == server
                    && a.closed_at.is_none()
                    && a.highest_data <= 1
                    && a.direction == direction
                    && a.file_name == request.file_name
                    && a.mode_raw == request.mode_raw
            })
            .map(|(i, _)| i)
            .max();
        if let Some(idx) = repeat_of
            && let Some(Slot { t, a, .. }) = self.slots.get_mut(&idx)
        {
            t.duplicate_requests = t.duplicate_requests.saturating_add(1);
            touch(t, frame, ts);
            if a.request_frames.len() < MAX_REQUEST_FRAMES {
                a.request_frames.push(frame);
            }
            let first = a.request_frames.first().copied().unwrap_or(frame);
            warn(
                t,
                WarningKind::DuplicateRequest,
                None,
                Some(rfc::TIMEOUT),
                Some(first),
                || {
                    "the client sent the same request again: it heard nothing back in time and \
                     re-sent it, as it should; if the server answers both copies it starts two \
                     transfers from two ports"
                        .to_string()
                },
            );
            if let Some(w) = t
                .warnings
                .iter_mut()
                .find(|w| w.kind == WarningKind::DuplicateRequest)
                && !w.frames.contains(&frame)
            {
                w.frames.push(frame);
            }
            a.last_activity = ts;
            *a.last_from_mut(Role::Client) = Some(frame);
            return idx;
        }
        // Finished transfers of this client stop matching now, so their endpoints can be reused.
        self.scratch.clear();
        if let Some(mine) = self.by_client.get(&client) {
            let slots = &self.slots;
            self.scratch.extend(
                mine.iter()
                    .filter(|i| slots.get(i).is_some_and(|s| s.a.closed_at.is_some())),
            );
        }
        let stale = std::mem::take(&mut self.scratch);
        for &idx in &stale {
            self.forget(idx);
        }
        self.scratch = stale;
        // An earlier unanswered request from the same endpoint to the same server is given up.
        let replaced = self.by_client.get(&client).and_then(|mine| {
            mine.iter().copied().find(|i| {
                self.slots.get(i).is_some_and(|s| {
                    s.a.tid.is_none()
                        && s.a.request_to.ip() == server.ip()
                        && s.a.closed_at.is_none()
                })
            })
        });
        if let Some(old) = replaced {
            self.close(old, EndReason::Replaced);
            self.forget(old);
        }
        self.open(frame, ts, client, server, request, direction)
    }

    /// Opens a new transfer for `request` (making room first when `max_active` are tracked).
    fn open(
        &mut self,
        frame: FrameNumber,
        ts: Duration,
        client: SocketAddr,
        server: SocketAddr,
        request: &Request<'_>,
        direction: TransferDirection,
    ) -> usize {
        while self.slots.len() >= self.config.max_active.max(1) {
            if !self.evict_one() {
                break;
            }
        }
        let idx = self.next_index;
        self.next_index = self.next_index.saturating_add(1);
        self.counters.transfers = self.counters.transfers.saturating_add(1);
        let mut t = Transfer {
            index: idx,
            client,
            server,
            request_to: server,
            answered: false,
            request_frame: frame,
            duplicate_of: None,
            direction,
            file: wire_text(request.file_name),
            mode: wire_text(request.mode_raw),
            options: TransferOptions {
                requested: option_entries(&request.options),
                negotiated: None,
            },
            block_size: DEFAULT_BLOCK_SIZE,
            window_size: 1,
            blocks: 0,
            bytes: 0,
            complete: false,
            clean_end: false,
            final_block: None,
            final_block_frame: None,
            final_ack_frame: None,
            error: None,
            retransmitted_blocks: 0,
            duplicate_acks: 0,
            resent: Vec::new(),
            repeated_acks: Vec::new(),
            missing_blocks: 0,
            out_of_sequence_blocks: 0,
            rollovers: 0,
            duplicate_requests: 0,
            malformed_packets: 0,
            sha256: None,
            decoded: None,
            icmp: Vec::new(),
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
        let mut a = new_active(&self.config, direction, client, server, request, frame, ts);
        if !self.keep_results {
            // Nobody reads this transfer's hashes (its result is dropped when it ends).
            a.sink.skip_hashing();
        }
        request_warnings(&mut t, &mut a, request, frame);
        let deadline = ts.saturating_add(self.config.request_timeout);
        self.slots.insert(idx, Slot { t, a, deadline });
        self.deadlines.push(Reverse((deadline, idx)));
        self.by_client.entry(client).or_default().push(idx);
        self.counters.peak_active = self.counters.peak_active.max(self.slots.len());
        self.compact_heap();
        idx
    }

    /// A second server port answers the request of transfer `orig` (typically a repeated
    /// request both copies of which the server answered): a transfer of its own.
    fn second_answer(&mut self, orig: usize, tid: SocketAddr, frame: FrameNumber, ts: Duration) {
        let Some(s) = self.slots.get(&orig) else {
            return;
        };
        let a = &s.a;
        let (client, request_to, direction) = (a.client, a.request_to, a.direction);
        let file_name = a.file_name.clone();
        let mode_raw = a.mode_raw.clone();
        let options_raw = a.options_raw.clone();
        let request_frames = a.request_frames.clone();
        let first_tid = a.tid;
        let repeated = request_frames.len() > 1;
        let request = Request {
            file_name: &file_name,
            mode_raw: &mode_raw,
            mode: Mode::from_bytes(&mode_raw),
            options: Options::from_validated(&options_raw),
            missing_final_nul: false,
        };
        let request_frame = request_frames.last().copied().unwrap_or(frame);
        let idx = self.open(request_frame, ts, client, request_to, &request, direction);
        if let Some(Slot { t, a, .. }) = self.slots.get_mut(&idx) {
            // The warnings of the request itself belong to the first transfer.
            t.warnings.clear();
            t.duplicate_of = Some(orig);
            t.frames = 0;
            a.request_frames = request_frames.clone();
            a.second_answer = true;
            let first = first_tid.map_or_else(String::new, |f| format!(" {}", f.port()));
            let frames: Vec<String> = request_frames.iter().map(ToString::to_string).collect();
            let by = (!repeated).then_some(Role::Server);
            warn(
                t,
                WarningKind::SecondAnswer,
                by,
                Some(rfc::TID),
                Some(frame),
                || {
                    if repeated {
                        format!(
                            "the client repeated its request (frames {}) and the server answered \
                             both copies: this transfer is the second one, from port {} (the \
                             first, from port{first}, is transfer {orig}); a client answers \
                             such a second transfer ID with ERROR 5 (Unknown transfer ID) and \
                             goes on with the first",
                            frames.join(", "),
                            tid.port()
                        )
                    } else {
                        format!(
                            "the server answered one request (frame {}) from two ports: \
                             port{first} (transfer {orig}) and port {} (this one); each request \
                             gets one transfer ID",
                            frames.join(", "),
                            tid.port()
                        )
                    }
                },
            );
        }
        self.establish(idx, tid, frame, false);
    }

    /// The server answered a pending request from `tid`.
    fn establish(&mut self, idx: usize, tid: SocketAddr, frame: FrameNumber, other_address: bool) {
        let Some(Slot { t, a, .. }) = self.slots.get_mut(&idx) else {
            return;
        };
        let client = a.client;
        let request_to = a.request_to;
        a.tid = Some(tid);
        t.server = tid;
        t.answered = true;
        if tid.port() == request_to.port() && tid.ip() == request_to.ip() {
            warn(
                t,
                WarningKind::ServerAnsweredFromListenPort,
                Some(Role::Server),
                Some(rfc::TID),
                Some(frame),
                || {
                    format!(
                        "the server answered from port {}, the port it listens on; each side \
                         picks a new port (its transfer ID) for a transfer, so that several \
                         transfers and new requests can be told apart",
                        tid.port()
                    )
                },
            );
        }
        if other_address {
            warn(
                t,
                WarningKind::ReplyFromOtherAddress,
                Some(Role::Server),
                Some(rfc::TID),
                Some(frame),
                || {
                    format!(
                        "the answer came from {tid}, not from {}, the address the request went \
                         to: the transfer ID is the address and port together, so a client \
                         that checks the address drops this answer (the server replies from \
                         another interface or address)",
                        request_to.ip()
                    )
                },
            );
        }
        if self.answered_kinds.len() < MAX_SERVERS_REMEMBERED
            || self.answered_kinds.contains_key(&request_to)
        {
            *self.answered_kinds.entry(request_to).or_default() |=
                kind_bit(a.direction, a.mode == super::state::ModeKind::Octet);
        }
        let previous = self.pairs.insert((client, tid), idx);
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
    ) -> (Role, bool, Option<Repeated>) {
        let Some(Slot { t, a, .. }) = self.slots.get_mut(&idx) else {
            return (Role::Server, false, None);
        };
        let counted = (t.retransmitted_blocks, t.duplicate_acks);
        let role = a.role_of(src);
        touch(t, frame, ts);
        a.last_activity = ts;
        let first_from_role = a.last_from_mut(role).replace(frame).is_none();
        let sender = a.direction.data_sender();
        let mut ctx = Ctx {
            cfg: &self.config,
            dir: self.dir.as_mut(),
            buffered_total: &mut self.buffered_total,
            ts,
        };
        let mut last_block = false;
        let mut ended = None;
        match packet {
            Err(m) => {
                t.malformed_packets = t.malformed_packets.saturating_add(1);
                warn(
                    t,
                    WarningKind::MalformedPacket,
                    Some(role),
                    Some(rfc::PACKETS),
                    Some(frame),
                    || format!("a datagram of the {role} is not a valid tftp packet: {m}"),
                );
            }
            Ok(Packet::Rrq(_) | Packet::Wrq(_)) => warn(
                t,
                WarningKind::RequestOnTransferPort,
                Some(role),
                Some(rfc::TID),
                Some(frame),
                || {
                    "a request was sent to the transfer port; new requests go to the server's \
                     listening port (69)"
                        .to_string()
                },
            ),
            Ok(Packet::Oack(o)) => {
                if role == Role::Server {
                    on_oack(t, a, &o.options, o.missing_final_nul, frame);
                    if a.direction == TransferDirection::Write {
                        check_traversal(t, a, frame);
                    }
                } else {
                    wrong_sender(t, frame, "an OACK", Role::Server);
                }
            }
            Ok(Packet::Data(d)) => {
                if role == sender {
                    last_block = on_data(t, a, d.block, d.data, frame, &mut ctx);
                    if a.direction == TransferDirection::Read {
                        check_traversal(t, a, frame);
                    }
                } else {
                    wrong_sender(t, frame, "DATA", sender);
                }
            }
            Ok(Packet::Ack(k)) => {
                if role != sender {
                    if on_ack(t, a, k.block, frame, &ctx) {
                        ended = Some(EndReason::Completed);
                    }
                    if a.direction == TransferDirection::Write && k.block == 0 {
                        check_traversal(t, a, frame);
                    }
                } else {
                    wrong_sender(t, frame, "an ACK", sender.other());
                }
            }
            Ok(Packet::Error(e)) => {
                if a.acked_final {
                    warn(
                        t,
                        WarningKind::ErrorAfterCompletion,
                        Some(role),
                        Some(rfc::ERRORS),
                        Some(frame),
                        || {
                            format!(
                                "ERROR {} ({}) came after the transfer had completed",
                                e.code.to_u16(),
                                e.code
                            )
                        },
                    );
                } else if a.error_frame.is_none() {
                    a.error_frame = Some(frame);
                    a.error_from = Some(role);
                    t.error = Some(TransferError {
                        code: e.code.to_u16(),
                        meaning: e.code.to_string(),
                        message: wire_text(e.message),
                        frame,
                        from: role,
                    });
                    check_error_code(
                        t,
                        a,
                        e.code,
                        e.message,
                        role,
                        frame,
                        role == Role::Server && first_from_role,
                    );
                    ended = Some(EndReason::Error);
                } else {
                    continues_after_error(t, a, frame, role);
                }
                if let ErrorCode::Other(code) = e.code {
                    warn(
                        t,
                        WarningKind::UnknownErrorCode,
                        Some(role),
                        Some(rfc::ERROR_CODES),
                        Some(frame),
                        || {
                            format!(
                                "error code {code} is not defined (RFC 1350 defines 0 to 7, RFC \
                                 2347 adds 8)"
                            )
                        },
                    );
                }
                if e.missing_final_nul {
                    warn(
                        t,
                        WarningKind::MissingFinalNul,
                        Some(role),
                        Some(rfc::PACKETS),
                        Some(frame),
                        || "the error message has no terminating nul byte".to_string(),
                    );
                }
            }
        }
        // A DATA block or an ACK the transfer counted as a repeat: the packet says so too, with
        // the first copy its list names.
        let repeats = if t.retransmitted_blocks != counted.0 {
            Some(&t.resent)
        } else if t.duplicate_acks != counted.1 {
            Some(&t.repeated_acks)
        } else {
            None
        };
        let repeated = repeats.map(|list| Repeated {
            first: list
                .iter()
                .rev()
                .find(|r| r.frames.last() == Some(&frame))
                .and_then(|r| r.frames.first().copied())
                .filter(|&first| first != frame),
        });
        if let Some(reason) = ended {
            self.close(idx, reason);
        }
        (role, last_block, repeated)
    }

    /// A packet the client sent to the server's listening port after the server had answered
    /// from its transfer ID: it belongs to the transfer, but the server's transfer never
    /// receives it.
    fn on_misdirected(
        &mut self,
        idx: usize,
        frame: FrameNumber,
        ts: Duration,
        dst: SocketAddr,
        packet: &Result<Packet<'_>, Malformed>,
    ) {
        let Some(Slot { t, a, .. }) = self.slots.get_mut(&idx) else {
            return;
        };
        touch(t, frame, ts);
        a.last_activity = ts;
        *a.last_from_mut(Role::Client) = Some(frame);
        let what = match packet {
            Ok(p) => describe(p),
            Err(_) => "a malformed packet".to_string(),
        };
        let tid = a.tid.map_or(0, |t| t.port());
        warn(
            t,
            WarningKind::SentToListenPort,
            Some(Role::Client),
            Some(rfc::TID),
            Some(frame),
            || {
                format!(
                    "the client sent {what} (and maybe more, see the frames) to {dst}, the \
                     server's listening port, instead of port {tid} that the server answered \
                     from: after the request, every packet goes to the other side's transfer \
                     ID, so the transfer never hears it"
                )
            },
        );
    }

    /// An ICMP or ICMPv6 error quoting a UDP datagram: linked to the transfer the datagram
    /// belongs to (by the quoted UDP header), and, for port unreachable, what it says about
    /// who closed their port when.
    pub fn on_icmp_error(&mut self, frame: FrameNumber, ts: Duration, error: &ErrorMessage<'_>) {
        self.sweep(ts);
        let Some(quote) = &error.quote else {
            return;
        };
        let Some(flow) = quote.flow() else {
            return;
        };
        if flow.protocol != etherparse::IpNumber::UDP {
            return;
        }
        let (src, dst) = (flow.src, flow.dst);
        let (idx, quoted_from) = if let Some(&i) = self.pairs.get(&(src, dst)) {
            (i, Role::Client)
        } else if let Some(&i) = self.pairs.get(&(dst, src)) {
            (i, Role::Server)
        } else if let Some(i) = self.by_client.get(&src).and_then(|mine| {
            mine.iter()
                .copied()
                .find(|i| self.slots.get(i).is_some_and(|s| s.a.request_to == dst))
        }) {
            (i, Role::Client)
        } else {
            return;
        };
        let quoted = quote
            .transport_bytes
            .get(8..)
            .filter(|b| !b.is_empty())
            .and_then(|b| decode(b).ok());
        let port_unreachable = is_port_unreachable(error);
        let Some(Slot { t, a, .. }) = self.slots.get_mut(&idx) else {
            return;
        };
        if t.icmp.len() < Transfer::MAX_LISTED {
            t.icmp.push(IcmpLink {
                frame,
                kind: error.type_name(),
                code: error.code_name(),
                port_unreachable,
                quoted_from,
                quoted: quoted.as_ref().map(describe),
            });
        }
        if !port_unreachable {
            return;
        }
        let closed = quoted_from.other();
        let sender = a.direction.data_sender();
        // The request itself: nothing listens on the server port.
        if a.tid.is_none() && dst == a.request_to {
            a.no_server.get_or_insert(frame);
            return;
        }
        if a.tid.is_some_and(|tid| tid != dst) && dst == a.request_to {
            // A packet sent to the listening port (already reported as misdirected).
            return;
        }
        if a.error_from.is_some() {
            // After an ERROR both sides may close: expected.
            return;
        }
        let tid_port = a.tid.map_or(0, |t| t.port());
        if closed == sender {
            if a.final_block.is_some() && a.data_complete() {
                a.closed_early = true;
                t.clean_end = false;
                let ack = t.final_ack_frame;
                let number = t.final_block.unwrap_or_default();
                let receiver = sender.other();
                let port = if sender == Role::Server {
                    tid_port
                } else {
                    a.client.port()
                };
                warn(
                    t,
                    WarningKind::ClosedBeforeFinalAck,
                    Some(sender),
                    Some(rfc::NORMAL_END),
                    ack,
                    || {
                        format!(
                            "the {sender} closed its port {port} before the final ACK arrived: \
                             the {receiver}'s ACK of {number}{} drew ICMP port unreachable \
                             (frame {frame}); had the last DATA or its ACK been lost, the \
                             {sender} could not have sent it again (the sender of the last DATA \
                             waits for its ACK)",
                            ack.map_or_else(String::new, |f| format!(" (frame {f})"))
                        )
                    },
                );
                add_frames(t, WarningKind::ClosedBeforeFinalAck, &[frame]);
            } else {
                closed_mid_transfer(t, a, closed, frame);
            }
        } else if a.final_block.is_some() && a.data_complete() && !a.acked_final {
            // The receiver closed without acknowledging the last block.
            a.receiver_closed.get_or_insert(frame);
            a.closed_early = true;
        } else if !a.acked_final {
            closed_mid_transfer(t, a, closed, frame);
        }
    }

    /// Ends a transfer: hashes and extracted file. It keeps matching its packets until
    /// `linger` has passed, then its result is handed out (see [`Tracker::forget`]).
    fn close(&mut self, idx: usize, reason: EndReason) {
        let Some(Slot { t, a, deadline }) = self.slots.get_mut(&idx) else {
            return;
        };
        if a.closed_at.is_some() {
            return;
        }
        a.closed_at = Some(a.last_activity);
        if t.end == EndReason::Open {
            t.end = reason;
        }
        match reason {
            EndReason::IdleTimeout => self.counters.idle_timeouts += 1,
            EndReason::NoAnswer => self.counters.no_answer += 1,
            EndReason::Evicted => self.counters.evicted += 1,
            _ => {}
        }
        let complete = a.data_complete();
        t.complete = complete;
        let delivered = a.final_block.is_some_and(|f| a.next_block > f);
        if let Some(h) = a.sink.finish(self.dir.as_mut(), t, complete && delivered) {
            t.sha256 = Some(h.wire_sha256);
            t.decoded = h.decoded;
            if h.netascii_invalid > 0 {
                let sender = a.direction.data_sender();
                let n = h.netascii_invalid;
                warn(
                    t,
                    WarningKind::InvalidNetascii,
                    Some(sender),
                    Some(rfc::NETASCII),
                    None,
                    || {
                        format!(
                            "{n} carriage returns were not followed by LF or NUL, which \
                             netascii requires; they were kept as they are"
                        )
                    },
                );
            }
        }
        release_buffer(a, &mut self.buffered_total);
        let linger = a.last_activity.saturating_add(self.config.linger);
        if linger < *deadline {
            *deadline = linger;
            self.deadlines.push(Reverse((linger, idx)));
        }
    }

    /// Stops tracking a transfer: it no longer matches packets, its findings are completed and
    /// its result is handed out.
    fn forget(&mut self, idx: usize) {
        let Some(Slot { mut t, mut a, .. }) = self.slots.remove(&idx) else {
            return;
        };
        if a.closed_at.is_none() {
            // Not closed first (cannot happen through the public API): end it here.
            a.sink.finish(self.dir.as_mut(), &mut t, false);
            release_buffer(&mut a, &mut self.buffered_total);
        }
        if let Some(mine) = self.by_client.get_mut(&a.client) {
            mine.retain(|&i| i != idx);
            if mine.is_empty() {
                self.by_client.remove(&a.client);
            }
        }
        if let Some(tid) = a.tid
            && self.pairs.get(&(a.client, tid)) == Some(&idx)
        {
            self.pairs.remove(&(a.client, tid));
        }
        let answered_elsewhere = if a.tid.is_none() {
            let mine = kind_bit(a.direction, a.mode == super::state::ModeKind::Octet);
            self.answered_kinds
                .get(&a.request_to)
                .map(|bits| bits & !mine)
                .filter(|&other| other != 0)
                .map(|other| kind_text(other & other.wrapping_neg()))
        } else {
            None
        };
        finalize(&mut t, &a, answered_elsewhere, &self.config);
        if t.warning(WarningKind::BufferLimit).is_some() {
            self.counters.buffer_limit += 1;
        }
        if self.keep_results {
            self.done.push_back(t);
        }
    }

    /// The deadline a slot's state gives: linger after the end, the request timeout while
    /// unanswered, the idle timeout while running.
    fn deadline_of(&self, a: &Active) -> Duration {
        match a.closed_at {
            Some(at) => at.saturating_add(self.config.linger),
            None if a.tid.is_none() => a.last_activity.saturating_add(self.config.request_timeout),
            None => a.last_activity.saturating_add(self.config.idle_timeout),
        }
    }

    /// The next transfer due to expire, with the heap brought up to date on the way (entries
    /// whose transfer was active since move to its real deadline). `None` when nothing is
    /// tracked.
    fn earliest(&mut self) -> Option<(Duration, usize)> {
        loop {
            let Reverse((d, idx)) = *self.deadlines.peek()?;
            let actual = match self.slots.get(&idx) {
                Some(s) if s.deadline == d => self.deadline_of(&s.a),
                _ => {
                    // Stale: the transfer is gone or was rescheduled.
                    self.deadlines.pop();
                    continue;
                }
            };
            if actual <= d {
                return Some((d, idx));
            }
            self.deadlines.pop();
            self.deadlines.push(Reverse((actual, idx)));
            if let Some(s) = self.slots.get_mut(&idx) {
                s.deadline = actual;
            }
        }
    }

    /// Expires unanswered requests, idle transfers and lingering finished ones whose deadline
    /// (capture time) has passed. Costs nothing when none is due.
    fn sweep(&mut self, now: Duration) {
        while self
            .deadlines
            .peek()
            .is_some_and(|Reverse((d, _))| *d <= now)
        {
            let Some((d, idx)) = self.earliest() else {
                break;
            };
            if d > now {
                break;
            }
            self.deadlines.pop();
            let reason = match self.slots.get(&idx) {
                Some(s) if s.a.closed_at.is_some() => None,
                Some(s) if s.a.tid.is_none() => Some(EndReason::NoAnswer),
                Some(_) => Some(EndReason::IdleTimeout),
                None => continue,
            };
            if let Some(reason) = reason {
                self.close(idx, reason);
            }
            self.forget(idx);
        }
    }

    /// Ends the transfer closest to its expiry to make room: a finished one just leaves, a
    /// running one is ended as `evicted`. Returns false when nothing could be ended.
    fn evict_one(&mut self) -> bool {
        let Some((_, idx)) = self.earliest() else {
            return false;
        };
        self.deadlines.pop();
        let running = self
            .slots
            .get(&idx)
            .is_some_and(|s| s.a.closed_at.is_none());
        if running {
            let max = self.config.max_active;
            if let Some(Slot { t, .. }) = self.slots.get_mut(&idx) {
                warn(t, WarningKind::Evicted, None, None, None, || {
                    format!(
                        "tracking stopped: more than {max} transfers at once, and this one was \
                         the least recently active"
                    )
                });
            }
            self.close(idx, EndReason::Evicted);
        }
        self.forget(idx);
        true
    }

    /// Rebuilds the heap when stale entries outnumber the live ones.
    fn compact_heap(&mut self) {
        if self.deadlines.len() > 2 * self.slots.len() + 64 {
            self.deadlines = self
                .slots
                .iter()
                .map(|(&i, s)| Reverse((s.deadline, i)))
                .collect();
        }
    }

    /// The result of transfer `idx`, tracked or waiting to be drained.
    fn result(&self, idx: usize) -> Option<&Transfer> {
        self.slots
            .get(&idx)
            .map(|s| &s.t)
            .or_else(|| self.done.iter().rev().find(|t| t.index == idx))
    }
}

/// A side's port was found closed in the middle of the transfer.
fn closed_mid_transfer(t: &mut Transfer, a: &mut Active, closed: Role, frame: FrameNumber) {
    a.closed_early = true;
    warn(
        t,
        WarningKind::PortClosedDuringTransfer,
        Some(closed),
        Some(rfc::NORMAL_END),
        Some(frame),
        || {
            format!(
                "the {closed}'s port was closed while the transfer was still going: a datagram \
                 to it drew ICMP port unreachable; a side keeps its port open until the \
                 transfer ends (an ERROR, or the last ACK)"
            )
        },
    );
}

impl DatagramConsumer for Tracker {
    /// [`Tracker::on_datagram`], with the transfer's file name on the packets after the request.
    fn on_datagram<'a>(&'a mut self, d: &Datagram<'a>) -> Option<Note<'a>> {
        let mut c = Tracker::on_datagram(self, d.at.frame, d.at.ts, d.src, d.dst, d.payload)?;
        let is_request = matches!(&c.packet, Ok(p) if p.as_request().is_some());
        if !is_request {
            c.file = c
                .transfer
                .and_then(|i| self.result(i))
                .map(|t| t.file.as_str());
        }
        Some(Note::Tftp(c))
    }

    fn on_icmp_error(&mut self, at: crate::app::consumer::At, error: &ErrorMessage<'_>) {
        Tracker::on_icmp_error(self, at.frame, at.ts, error);
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::app::consumer::At;
    use sha2::{Digest, Sha256};

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
                    info: match &c.packet {
                        Ok(p) => p.info().with_last(c.last_block).to_string(),
                        Err(m) => format!("Malformed TFTP packet: {m}"),
                    },
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
        assert!(!sim.tracker.slots[&0].a.acked_final);
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
        assert!(!sim.tracker.slots[&0].a.sink.is_alive());
        assert_eq!(sim.tracker.slots[&0].a.buffered_bytes, 0);
        assert_eq!(sim.tracker.buffered_total, 0);
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
        assert_eq!(unsent.frames, vec![FrameNumber(4)]);
        assert_eq!(unsent.by, Some(Role::Client));
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
        assert!(sim.tracker.slots.is_empty() && sim.tracker.by_client.is_empty());
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

    fn files(dir: &std::path::Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    fn extracting(dir: &std::path::Path) -> Sim {
        let mut sim = Sim::new(Config::default());
        sim.tracker
            .extract_to(Dir::open(dir, crate::extract::Options::default()).unwrap());
        sim
    }

    #[test]
    fn extraction_writes_safe_names_without_overwriting() {
        let tmp = tempfile::tempdir().unwrap();
        let mut sim = extracting(tmp.path());
        let f1 = content(1000);
        sim.send(CLIENT, SERVER, &rrq("../../etc/passwd", "octet", &[]))
            .unwrap();
        sim.lockstep(TID, CLIENT, &f1, 512);
        sim.send(CLIENT, SERVER, &rrq("/etc/passwd", "octet", &[]))
            .unwrap();
        sim.lockstep(TID, CLIENT, b"second", 512);
        sim.send(CLIENT, SERVER, &rrq("NUL", "octet", &[])).unwrap();
        sim.lockstep(TID, CLIENT, b"", 512);
        // Unfinished: kept as .part.
        sim.send(CLIENT, SERVER, &rrq("part.bin", "octet", &[]))
            .unwrap();
        sim.send(TID, CLIENT, &data(1, &content(512))).unwrap();
        let ts = sim.finish();
        assert_eq!(
            files(tmp.path()),
            vec!["_NUL", "part.bin.part", "passwd", "passwd-1"]
        );
        let x0 = ts[0].extracted.as_ref().unwrap();
        assert_eq!(x0.path, tmp.path().join("passwd").display().to_string());
        assert_eq!((x0.size, x0.complete, x0.clash), (1000, true, false));
        assert_eq!(x0.sha256, sha(&f1));
        assert_eq!(Some(&x0.sha256), ts[0].sha256.as_ref());
        assert_eq!(
            x0.name_changes,
            vec![crate::extract::NameChangeKind::DirectoryPartsRemoved]
        );
        assert!(kinds(&ts[0]).contains(&WarningKind::FileNameNeutralised));
        assert_eq!(std::fs::read(tmp.path().join("passwd")).unwrap(), f1);
        // The second file of the same name: the next free name, reported.
        let x1 = ts[1].extracted.as_ref().unwrap();
        assert_eq!((x1.file_name.as_str(), x1.clash), ("passwd-1", true));
        assert!(kinds(&ts[1]).contains(&WarningKind::ExtractedUnderOtherName));
        assert_eq!(
            std::fs::read(tmp.path().join("passwd-1")).unwrap(),
            b"second"
        );
        assert_eq!(ts[2].extracted.as_ref().unwrap().size, 0);
        let x3 = ts[3].extracted.as_ref().unwrap();
        assert!(!x3.complete);
        assert_eq!((x3.size, x3.file_name.as_str()), (512, "part.bin.part"));
        assert!(ts[3].sha256.is_none());
    }

    #[test]
    fn extraction_decodes_netascii_and_reports_both_fingerprints() {
        let tmp = tempfile::tempdir().unwrap();
        let mut sim = extracting(tmp.path());
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
        assert_eq!(std::fs::read(tmp.path().join("poem.txt")).unwrap(), local);
        let x = t.extracted.as_ref().unwrap();
        assert_eq!(
            (x.sha256.as_str(), x.size),
            (sha(&local).as_str(), local.len() as u64)
        );
        // The transfer's hash covers the bytes on the wire; `decoded` the local file.
        assert_eq!(t.sha256.as_deref(), Some(sha(&wire).as_str()));
        assert_eq!(t.bytes, wire.len() as u64);
        let d = t.decoded.unwrap();
        assert_eq!((d.sha256_hex(), d.size), (sha(&local), local.len() as u64));
        assert!(t.warnings.is_empty(), "{:?}", t.warnings);
    }

    #[test]
    fn netascii_fingerprints_without_extraction() {
        let mut sim = Sim::new(Config::default());
        sim.send(CLIENT, SERVER, &rrq("t.txt", "NetAscii", &[]))
            .unwrap();
        sim.lockstep(TID, CLIENT, b"one\r\ntwo\r\n", 512);
        let t = &sim.finish()[0];
        assert_eq!(t.sha256.as_deref(), Some(sha(b"one\r\ntwo\r\n").as_str()));
        let d = t.decoded.unwrap();
        assert_eq!((d.sha256_hex(), d.size), (sha(b"one\ntwo\n"), 8));
        // Octet transfers have no decoded form.
        let mut sim = Sim::new(Config::default());
        sim.send(CLIENT, SERVER, &rrq("t.bin", "octet", &[]))
            .unwrap();
        sim.lockstep(TID, CLIENT, b"x\r\n", 512);
        assert!(sim.finish()[0].decoded.is_none());
    }

    #[test]
    fn no_file_bytes_kept_without_extraction() {
        let mut sim = Sim::new(Config::default());
        sim.send(CLIENT, SERVER, &rrq("f", "octet", &[])).unwrap();
        sim.send(TID, CLIENT, &data(1, &content(512))).unwrap();
        let a = &sim.tracker.slots[&0].a;
        assert!(!a.sink.is_writing() && a.buffer.is_empty());
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
        assert_eq!(sim.tracker.slots.len(), 2);
        let ts = sim.finish();
        assert_eq!(ts.len(), 5);
        assert_eq!(ts[0].end, EndReason::Evicted);
        assert_eq!(ts[4].end, EndReason::CaptureEnd);
    }

    /// An ICMP port unreachable (IPv4) quoting a UDP datagram `src → dst` with `payload`.
    fn port_unreachable(src: &str, dst: &str, payload: &[u8]) -> Vec<u8> {
        let (src, dst) = (addr(src), addr(dst));
        let ip = |a: SocketAddr| match a.ip() {
            std::net::IpAddr::V4(v4) => v4.octets(),
            std::net::IpAddr::V6(_) => unreachable!(),
        };
        let mut m = vec![3, 3, 0, 0, 0, 0, 0, 0];
        let total = (20 + 8 + payload.len()) as u16;
        m.extend_from_slice(&[0x45, 0]);
        m.extend_from_slice(&total.to_be_bytes());
        m.extend_from_slice(&[0, 0, 0, 0, 64, 17, 0, 0]);
        m.extend_from_slice(&ip(src));
        m.extend_from_slice(&ip(dst));
        m.extend_from_slice(&src.port().to_be_bytes());
        m.extend_from_slice(&dst.port().to_be_bytes());
        m.extend_from_slice(&(8 + payload.len() as u16).to_be_bytes());
        m.extend_from_slice(&[0, 0]);
        m.extend_from_slice(payload);
        m
    }

    impl Sim {
        fn icmp(&mut self, message: &[u8]) {
            self.frame += 1;
            self.ts += Duration::from_millis(1);
            let e = crate::decode::icmp::decode_v4(message).unwrap();
            self.tracker
                .on_icmp_error(FrameNumber(self.frame), self.ts, &e);
        }
    }

    fn warning(t: &Transfer, kind: WarningKind) -> &crate::app::tftp::Warning {
        t.warning(kind)
            .unwrap_or_else(|| panic!("no {kind:?} in {:?}", t.warnings))
    }

    #[test]
    fn timeout_resends_are_not_the_sorcerers_apprentice() {
        // Like tftp-timeout-resends.pcap: ACK 3 and ACK 4 are slow, DATA 3 and DATA 4 are sent
        // again after a timeout; the duplicate ACK 3 is followed by a fresh ACK 4 before DATA
        // 4 is re-sent.
        let mut sim = Sim::new(Config::default());
        let file = content(512 * 4 + 10);
        let block = |b: usize| file[(b - 1) * 512..(b * 512).min(file.len())].to_vec();
        sim.send(CLIENT, SERVER, &rrq("f.bin", "octet", &[]))
            .unwrap();
        for (src, dst, p) in [
            (TID, CLIENT, data(1, &block(1))),
            (CLIENT, TID, ack(1)),
            (TID, CLIENT, data(2, &block(2))),
            (CLIENT, TID, ack(2)),
            (TID, CLIENT, data(3, &block(3))),
            (CLIENT, TID, ack(3)),
            (TID, CLIENT, data(3, &block(3))),
            (CLIENT, TID, ack(3)),
            (TID, CLIENT, data(4, &block(4))),
            (CLIENT, TID, ack(4)),
            (TID, CLIENT, data(4, &block(4))),
            (CLIENT, TID, ack(4)),
            (TID, CLIENT, data(5, &block(5))),
            (CLIENT, TID, ack(5)),
        ] {
            sim.send(src, dst, &p).unwrap();
        }
        let t = &sim.finish()[0];
        assert!(t.complete && t.clean_end);
        assert_eq!((t.retransmitted_blocks, t.duplicate_acks), (2, 2));
        assert!(t.warnings.is_empty(), "{:?}", t.warnings);
        let wire = |b| crate::app::tftp::BlockNumber {
            wire: b,
            rollovers: 0,
        };
        assert_eq!(t.resent[0].block, wire(3));
        assert_eq!(t.resent[0].frames, vec![FrameNumber(6), FrameNumber(8)]);
        assert_eq!(t.resent[1].frames, vec![FrameNumber(10), FrameNumber(12)]);
        assert_eq!(
            t.repeated_acks[0].frames,
            vec![FrameNumber(7), FrameNumber(9)]
        );
    }

    #[test]
    fn data_answering_a_duplicate_ack_is_the_sorcerers_apprentice() {
        let mut sim = Sim::new(Config::default());
        let b = content(512);
        sim.send(CLIENT, SERVER, &rrq("f", "octet", &[])).unwrap();
        sim.send(TID, CLIENT, &data(1, &b)).unwrap();
        // ACK 1 is late: the server re-sends DATA 1 on timeout, and both ACK 1s come back.
        sim.send(TID, CLIENT, &data(1, &b)).unwrap();
        sim.send(CLIENT, TID, &ack(1)).unwrap();
        sim.send(TID, CLIENT, &data(2, &b)).unwrap(); // frame 5
        sim.send(CLIENT, TID, &ack(1)).unwrap(); // duplicate
        sim.send(TID, CLIENT, &data(2, &b)).unwrap(); // frame 7: answers the duplicate
        let t = &sim.finish()[0];
        let w = warning(t, WarningKind::SorcerersApprentice);
        assert_eq!(
            (w.by, w.rfc),
            (Some(Role::Server), Some("RFC 1123 §4.2.3.1"))
        );
        assert_eq!(w.frames, vec![FrameNumber(7)]);
    }

    #[test]
    fn a_second_server_port_opens_its_own_transfer() {
        // Like tftp-duplicate-request-two-tids.pcap.
        let mut sim = Sim::new(Config::default());
        let tid2 = "10.0.0.2:40490";
        sim.send(CLIENT, SERVER, &rrq("start4.elf", "octet", &[]))
            .unwrap();
        sim.wait(1);
        sim.send(CLIENT, SERVER, &rrq("start4.elf", "octet", &[]))
            .unwrap();
        assert_eq!(
            sim.send(TID, CLIENT, &data(1, &content(512)))
                .unwrap()
                .transfer,
            Some(0)
        );
        let second = sim.send(tid2, CLIENT, &data(1, &content(512))).unwrap();
        assert_eq!(
            (second.transfer, second.role),
            (Some(1), Some(Role::Server))
        );
        sim.send(CLIENT, TID, &ack(1)).unwrap();
        let e = sim
            .send(CLIENT, tid2, &error(5, "Unknown transfer ID"))
            .unwrap();
        assert_eq!((e.transfer, e.role), (Some(1), Some(Role::Client)));
        sim.send(TID, CLIENT, &data(2, b"end")).unwrap();
        sim.send(CLIENT, TID, &ack(2)).unwrap();
        let ts = sim.finish();
        assert_eq!(ts.len(), 2);
        assert!(ts[0].complete && ts[0].clean_end);
        assert_eq!(ts[0].duplicate_requests, 1);
        let t = &ts[1];
        assert_eq!(
            (t.duplicate_of, t.server, t.request_frame),
            (Some(0), addr(tid2), FrameNumber(2))
        );
        assert_eq!((t.end, t.complete), (EndReason::Error, false));
        let err = t.error.as_ref().unwrap();
        assert_eq!(
            (err.code, err.from, err.frame),
            (5, Role::Client, FrameNumber(6))
        );
        // The client's ERROR 5 is right: no wrong-code finding, and no side at fault.
        assert_eq!(kinds(t), vec![WarningKind::SecondAnswer]);
        assert_eq!(t.warnings[0].by, None);
        assert_eq!(t.warnings[0].frames, vec![FrameNumber(4)]);
    }

    #[test]
    fn a_reply_from_another_address_is_followed_and_named() {
        let mut sim = Sim::new(Config::default());
        let other = "10.0.0.9:5000";
        sim.send(CLIENT, SERVER, &rrq("f", "octet", &[])).unwrap();
        assert_eq!(
            sim.send(other, CLIENT, &data(1, b"x")).unwrap().transfer,
            Some(0)
        );
        sim.send(CLIENT, other, &ack(1)).unwrap();
        let t = &sim.finish()[0];
        assert!(t.complete && t.answered);
        assert_eq!(t.server, addr(other));
        let w = warning(t, WarningKind::ReplyFromOtherAddress);
        assert_eq!(w.by, Some(Role::Server));
        assert!(
            w.message.contains("10.0.0.9:5000") && w.message.contains("10.0.0.2"),
            "{}",
            w.message
        );
    }

    #[test]
    fn acks_sent_to_the_listening_port_belong_to_the_transfer() {
        // Like student-tftpclient-wrongport.pcap.
        let mut sim = Sim::new(Config::default());
        sim.send(CLIENT, SERVER, &rrq("small.txt", "octet", &[]))
            .unwrap();
        sim.send(TID, CLIENT, &data(1, &content(512))).unwrap();
        let a = sim.send(CLIENT, SERVER, &ack(1)).unwrap();
        assert_eq!((a.transfer, a.role), (Some(0), Some(Role::Client)));
        sim.send(TID, CLIENT, &data(1, &content(512))).unwrap();
        sim.send(CLIENT, SERVER, &ack(1)).unwrap();
        let t = &sim.finish()[0];
        assert!(!t.complete);
        assert_eq!(t.duplicate_acks, 0, "the ACKs never reached the transfer");
        let w = warning(t, WarningKind::SentToListenPort);
        assert_eq!((w.by, w.rfc), (Some(Role::Client), Some("RFC 1350 §4")));
        assert_eq!(w.frames, vec![FrameNumber(3), FrameNumber(5)]);
    }

    #[test]
    fn error_codes_are_checked_against_the_situation() {
        let code_warning = |code: u16, msg: &str| {
            let mut sim = Sim::new(Config::default());
            sim.send(CLIENT, SERVER, &rrq("nosuch.txt", "octet", &[]))
                .unwrap();
            sim.send(TID, CLIENT, &error(code, msg)).unwrap();
            sim.finish()[0]
                .warning(WarningKind::WrongErrorCode)
                .map(|w| (w.by, w.frames.clone()))
        };
        // course-tftp-missing-file.pcap: code 5 for a missing file.
        assert_eq!(
            code_warning(5, "error"),
            Some((Some(Role::Server), vec![FrameNumber(2)]))
        );
        assert!(code_warning(0, "File not found").is_some());
        assert!(code_warning(6, "File exists").is_some());
        assert_eq!(code_warning(1, "File not found"), None);
        assert_eq!(code_warning(2, "Permission denied"), None);
        assert_eq!(code_warning(0, "busy"), None);
        // ERROR 5 from the client to the transfer's own port is wrong too.
        let mut sim = Sim::new(Config::default());
        sim.send(CLIENT, SERVER, &rrq("f", "octet", &[])).unwrap();
        sim.send(TID, CLIENT, &data(1, &content(512))).unwrap();
        sim.send(CLIENT, TID, &error(5, "bye")).unwrap();
        let t = &sim.finish()[0];
        assert_eq!(
            warning(t, WarningKind::WrongErrorCode).by,
            Some(Role::Client)
        );
    }

    #[test]
    fn serving_names_outside_the_folder_is_directory_traversal() {
        for (name, served) in [
            ("../../etc/passwd", true),
            ("/etc/passwd", true),
            ("C:\\boot.ini", true),
            ("sub/../x", true),
            ("sub/file.txt", false),
            ("..hidden", false),
        ] {
            let mut sim = Sim::new(Config::default());
            sim.send(CLIENT, SERVER, &rrq(name, "octet", &[])).unwrap();
            sim.send(TID, CLIENT, &data(1, b"root:x:0:0")).unwrap();
            sim.send(CLIENT, TID, &ack(1)).unwrap();
            let t = &sim.finish()[0];
            let w = t.warning(WarningKind::DirectoryTraversal);
            assert_eq!(w.is_some(), served, "{name}");
            if let Some(w) = w {
                assert_eq!(
                    (w.by, w.frames.clone()),
                    (Some(Role::Server), vec![FrameNumber(2)])
                );
            }
        }
        // Refused: no finding.
        let mut sim = Sim::new(Config::default());
        sim.send(CLIENT, SERVER, &rrq("../secret", "octet", &[]))
            .unwrap();
        sim.send(TID, CLIENT, &error(2, "Access violation"))
            .unwrap();
        assert!(
            sim.finish()[0]
                .warning(WarningKind::DirectoryTraversal)
                .is_none()
        );
        // A write accepted with ACK 0.
        let mut sim = Sim::new(Config::default());
        sim.send(CLIENT, SERVER, &wrq("/tmp/x", "octet")).unwrap();
        sim.send(TID, CLIENT, &ack(0)).unwrap();
        assert!(
            sim.finish()[0]
                .warning(WarningKind::DirectoryTraversal)
                .is_some()
        );
    }

    #[test]
    fn a_sender_stuck_at_block_65535_is_named() {
        // blksize 8: 65535 full blocks, then the sender stops (struct.pack('!H', 65536) fails).
        let mut sim = Sim::new(Config::default());
        sim.send(CLIENT, SERVER, &rrq("big", "octet", &[("blksize", "8")]))
            .unwrap();
        sim.send(TID, CLIENT, &oack(&[("blksize", "8")])).unwrap();
        sim.send(CLIENT, TID, &ack(0)).unwrap();
        for b in 1..=65535u16 {
            sim.send(TID, CLIENT, &data(b, b"12345678")).unwrap();
            sim.send(CLIENT, TID, &ack(b)).unwrap();
        }
        let t = &sim.finish()[0];
        assert!(!t.complete);
        assert_eq!(t.missing_blocks, 0);
        let w = warning(t, WarningKind::StoppedAtBlock65535);
        assert_eq!(w.by, Some(Role::Server));
        assert!(w.message.contains("struct.pack('!H', n)"), "{}", w.message);
    }

    #[test]
    fn unanswered_requests_say_which_mode_or_opcode() {
        let mut sim = Sim::new(Config::default());
        // An octet read is answered...
        sim.send(CLIENT, SERVER, &rrq("a", "octet", &[])).unwrap();
        sim.lockstep(TID, CLIENT, b"ok", 512);
        // ... a netascii read and a write from other ports are not.
        sim.send("10.0.0.1:5001", SERVER, &rrq("b", "netascii", &[]))
            .unwrap();
        sim.send("10.0.0.1:5002", SERVER, &wrq("c", "octet"))
            .unwrap();
        let ts = sim.finish();
        let na = warning(&ts[1], WarningKind::NoAnswer);
        assert_eq!(na.by, Some(Role::Server));
        assert!(
            na.message.contains("netascii") && na.message.contains("mode it does not handle"),
            "{}",
            na.message
        );
        let wr = warning(&ts[2], WarningKind::NoAnswer);
        assert!(wr.message.contains("WRQ"), "{}", wr.message);
        assert_eq!(wr.frames, vec![FrameNumber(5)]);
        // Alone, an unanswered octet read blames nobody.
        let mut sim = Sim::new(Config::default());
        sim.send(CLIENT, SERVER, &rrq("a", "octet", &[])).unwrap();
        assert_eq!(warning(&sim.finish()[0], WarningKind::NoAnswer).by, None);
    }

    #[test]
    fn requests_to_other_ports_leave_a_hint() {
        let mut sim = Sim::new(Config::default());
        assert!(
            sim.send(CLIENT, "10.0.0.2:6969", &rrq("f.txt", "octet", &[]))
                .is_none()
        );
        assert!(
            sim.send(CLIENT, "10.0.0.2:6969", &rrq("f.txt", "octet", &[]))
                .is_none()
        );
        assert!(
            sim.send(CLIENT, "10.0.0.2:53", b"\x00\x01not tftp")
                .is_none()
        );
        let h = sim.tracker.port_hints().to_vec();
        assert_eq!(h.len(), 1);
        assert_eq!(
            (h[0].port, h[0].first_frame, h[0].count),
            (6969, FrameNumber(1), 2)
        );
        assert_eq!(h[0].file, "f.txt");
        assert!(sim.finish().is_empty());
    }

    #[test]
    fn a_sender_that_never_resends_is_named() {
        // Like student-tftpserver-wrong.pcap, transfer 3: the ACK of DATA 2 was lost and the
        // server stayed silent until the client's own re-sent ACK 5 s later.
        let run = |resend: bool| {
            let mut sim = Sim::new(Config::default());
            sim.send(CLIENT, SERVER, &rrq("notes.txt", "octet", &[]))
                .unwrap();
            sim.send(TID, CLIENT, &data(1, &content(512))).unwrap();
            sim.send(CLIENT, TID, &ack(1)).unwrap();
            sim.send(TID, CLIENT, &data(2, &content(512))).unwrap();
            if resend {
                sim.wait(1);
                sim.send(TID, CLIENT, &data(2, &content(512))).unwrap();
                sim.wait(4);
            } else {
                sim.wait(5);
            }
            sim.send(CLIENT, TID, &ack(2)).unwrap();
            sim.send(TID, CLIENT, &data(3, b"end")).unwrap();
            sim.send(CLIENT, TID, &ack(3)).unwrap();
            sim.finish().remove(0)
        };
        let t = run(false);
        let w = warning(&t, WarningKind::NoRetransmission);
        assert_eq!((w.by, w.rfc), (Some(Role::Server), Some("RFC 1350 §2")));
        assert_eq!(w.frames, vec![FrameNumber(4), FrameNumber(5)]);
        assert!(t.complete && t.clean_end, "a late ending is still clean");
        assert!(run(true).warnings.is_empty());
    }

    #[test]
    fn icmp_port_unreachable_says_who_closed_early() {
        // The server closes before the final ACK (course-tftp-server-closes-before-final-ack).
        let mut sim = Sim::new(Config::default());
        sim.send(CLIENT, SERVER, &rrq("small.txt", "octet", &[]))
            .unwrap();
        sim.lockstep(TID, CLIENT, &content(700), 512);
        sim.icmp(&port_unreachable(CLIENT, TID, &ack(2)));
        let t = &sim.finish()[0];
        assert!(t.complete && !t.clean_end);
        assert_eq!(t.final_ack_frame, Some(FrameNumber(5)));
        let w = warning(t, WarningKind::ClosedBeforeFinalAck);
        assert_eq!(w.by, Some(Role::Server));
        assert_eq!(w.frames, vec![FrameNumber(5), FrameNumber(6)]);
        assert_eq!(t.icmp.len(), 1);
        assert_eq!(t.icmp[0].quoted.as_deref(), Some("ACK block 2"));
        assert_eq!(
            (t.icmp[0].quoted_from, t.icmp[0].port_unreachable),
            (Role::Client, true)
        );

        // The client closes without the final ACK (student-tftpclient-wrong).
        let mut sim = Sim::new(Config::default());
        sim.send(CLIENT, SERVER, &rrq("small.txt", "octet", &[]))
            .unwrap();
        sim.send(TID, CLIENT, &data(1, &content(512))).unwrap();
        sim.send(CLIENT, TID, &ack(1)).unwrap();
        sim.send(TID, CLIENT, &data(2, b"tail")).unwrap();
        sim.wait(1);
        sim.send(TID, CLIENT, &data(2, b"tail")).unwrap();
        sim.icmp(&port_unreachable(TID, CLIENT, &data(2, b"tail")));
        let t = &sim.finish()[0];
        assert!(t.complete && !t.clean_end);
        assert!(t.sha256.is_some(), "data complete: hashed");
        let w = warning(t, WarningKind::LastBlockNotAcked);
        assert_eq!(w.by, Some(Role::Client));
        assert_eq!(
            w.frames,
            vec![FrameNumber(4), FrameNumber(5), FrameNumber(6)]
        );
        assert!(
            w.message.contains("sent it again") && w.message.contains("closed its socket"),
            "{}",
            w.message
        );
        assert_eq!(kinds(t), vec![WarningKind::LastBlockNotAcked]);

        // After an ERROR, a closed port is expected (student-tftpserver-correct, frame 13).
        let mut sim = Sim::new(Config::default());
        sim.send(CLIENT, SERVER, &rrq("missing.txt", "octet", &[]))
            .unwrap();
        sim.send(TID, CLIENT, &error(1, "File not found")).unwrap();
        sim.icmp(&port_unreachable(CLIENT, TID, &ack(1)));
        let t = &sim.finish()[0];
        assert_eq!(t.icmp.len(), 1);
        assert!(t.warnings.is_empty(), "{:?}", t.warnings);

        // Nothing listens on port 69.
        let mut sim = Sim::new(Config::default());
        sim.send(CLIENT, SERVER, &rrq("f", "octet", &[])).unwrap();
        sim.icmp(&port_unreachable(CLIENT, SERVER, &rrq("f", "octet", &[])));
        let t = &sim.finish()[0];
        let w = warning(t, WarningKind::NoServer);
        assert_eq!(w.frames, vec![FrameNumber(1), FrameNumber(2)]);
    }

    #[test]
    fn the_client_that_skips_the_final_ack_is_worded_for_what_it_did() {
        // course-tftp-client-skips-final-ack.pcap: no re-send, no ICMP; the capture ends.
        let mut sim = Sim::new(Config::default());
        sim.send(CLIENT, SERVER, &rrq("small.txt", "octet", &[]))
            .unwrap();
        sim.send(TID, CLIENT, &data(1, &content(512))).unwrap();
        sim.send(CLIENT, TID, &ack(1)).unwrap();
        sim.send(TID, CLIENT, &data(2, b"end")).unwrap();
        let t = &sim.finish()[0];
        assert!(t.complete && !t.clean_end && t.sha256.is_some());
        let w = warning(t, WarningKind::LastBlockNotAcked);
        assert_eq!(
            (w.by, w.frames.clone()),
            (Some(Role::Client), vec![FrameNumber(4)])
        );
        assert!(!w.message.contains("retransmits until"), "{}", w.message);
        assert!(
            w.message.contains("did not send the block again"),
            "{}",
            w.message
        );
    }

    #[test]
    fn finished_transfers_leave_after_their_linger_and_memory_stays_flat() {
        let mut sim = Sim::new(Config::default());
        let mut handed_out = 0;
        for i in 0..5_000u32 {
            let client = format!("10.1.{}.{}:{}", i / 250 % 250, i % 250, 1024 + i % 50_000);
            sim.send(&client, SERVER, &rrq("f", "octet", &[])).unwrap();
            sim.send(TID, &client, &data(1, b"x")).unwrap();
            sim.send(&client, TID, &ack(1)).unwrap();
            sim.wait(1);
            handed_out += sim.tracker.drain_finished().count();
            // Only the transfers of the last linger period are still held.
            assert!(sim.tracker.slots.len() <= 12, "{}", sim.tracker.slots.len());
            assert!(sim.tracker.deadlines.len() <= 2 * sim.tracker.slots.len() + 64);
        }
        let rest = sim.finish();
        assert_eq!(handed_out + rest.len(), 5_000);
        assert!(rest.iter().all(|t| t.clean_end));
    }

    #[test]
    fn idle_transfers_expire_and_eviction_prefers_finished_ones() {
        let config = Config {
            max_active: 3,
            ..Config::default()
        };
        let mut sim = Sim::new(config);
        // A finished transfer, lingering.
        sim.send(CLIENT, SERVER, &rrq("done", "octet", &[]))
            .unwrap();
        sim.lockstep(TID, CLIENT, b"x", 512);
        // Two running ones.
        sim.send("10.0.0.1:2001", SERVER, &rrq("a", "octet", &[]))
            .unwrap();
        sim.send("10.0.0.2:3001", "10.0.0.1:2001", &data(1, &content(512)))
            .unwrap();
        sim.send("10.0.0.1:2002", SERVER, &rrq("b", "octet", &[]))
            .unwrap();
        // A fourth: the finished one makes room, nothing is evicted.
        sim.send("10.0.0.1:2003", SERVER, &rrq("c", "octet", &[]))
            .unwrap();
        assert_eq!(sim.tracker.counters().evicted, 0);
        assert_eq!(
            sim.tracker
                .drain_finished()
                .map(|t| t.index)
                .collect::<Vec<_>>(),
            vec![0]
        );
        // A fifth: the running transfer closest to expiry goes (the pending request "b").
        sim.send("10.0.0.1:2004", SERVER, &rrq("d", "octet", &[]))
            .unwrap();
        assert_eq!(sim.tracker.counters().evicted, 1);
        let evicted: Vec<Transfer> = sim.tracker.drain_finished().collect();
        assert_eq!((evicted[0].index, evicted[0].end), (2, EndReason::Evicted));
        assert!(kinds(&evicted[0]).contains(&WarningKind::Evicted));
        // Long silence: the running transfer times out, the requests expire.
        sim.wait(400);
        sim.send("10.9.9.9:1", "10.9.9.8:2", b"other")
            .ok_or(())
            .unwrap_err();
        let mut ended: Vec<(usize, EndReason)> = sim
            .tracker
            .drain_finished()
            .map(|t| (t.index, t.end))
            .collect();
        ended.sort_by_key(|e| e.0);
        assert_eq!(
            ended,
            vec![
                (1, EndReason::IdleTimeout),
                (3, EndReason::NoAnswer),
                (4, EndReason::NoAnswer)
            ]
        );
        assert_eq!(sim.tracker.counters().idle_timeouts, 1);
        assert!(sim.tracker.slots.is_empty() && sim.tracker.pairs.is_empty());
    }

    #[test]
    fn out_of_order_memory_is_bounded_in_total() {
        let config = Config {
            max_buffered_bytes: 4096,
            max_buffered_total: 1500,
            ..Config::default()
        };
        let mut sim = Sim::new(config);
        let (c1, c2) = ("10.0.0.1:1001", "10.0.0.1:1002");
        let (t1, t2) = ("10.0.0.2:3001", "10.0.0.2:3002");
        sim.send(c1, SERVER, &rrq("a", "octet", &[])).unwrap();
        sim.send(c2, SERVER, &rrq("b", "octet", &[])).unwrap();
        // Block 1 of each is missing; blocks 2 and 3 of transfer a fit, b's do not.
        sim.send(t1, c1, &data(2, &content(512))).unwrap();
        sim.send(t1, c1, &data(3, &content(512))).unwrap();
        assert_eq!(sim.tracker.buffered_total, 2 * (512 + 64));
        sim.send(t2, c2, &data(2, &content(512))).unwrap();
        sim.send(t2, c2, &data(3, &content(512))).unwrap();
        assert_eq!(sim.tracker.buffered_total, 2 * (512 + 64));
        // a's block 1 arrives: its buffer drains into the hash.
        sim.send(t1, c1, &data(1, &content(512))).unwrap();
        sim.send(t1, c1, &data(4, b"end")).unwrap();
        sim.send(c1, t1, &ack(4)).unwrap();
        assert_eq!(sim.tracker.buffered_total, 0);
        let ts = sim.finish();
        assert!(ts[0].complete && ts[0].sha256.is_some());
        let w = warning(&ts[1], WarningKind::BufferLimit);
        assert!(
            w.message.contains("all transfers together"),
            "{}",
            w.message
        );
    }

    #[test]
    fn a_running_transfer_keeps_its_packets_when_the_client_port_asks_again() {
        let mut sim = Sim::new(Config::default());
        let tid2 = "10.0.0.2:40490";
        sim.send(CLIENT, SERVER, &rrq("a", "octet", &[])).unwrap();
        sim.send(TID, CLIENT, &data(1, &content(512))).unwrap();
        sim.send(CLIENT, TID, &ack(1)).unwrap();
        // The same client port asks for another file while the first is running.
        assert_eq!(
            sim.send(CLIENT, SERVER, &rrq("b", "octet", &[]))
                .unwrap()
                .transfer,
            Some(1)
        );
        assert_eq!(
            sim.send(TID, CLIENT, &data(2, b"a end")).unwrap().transfer,
            Some(0)
        );
        sim.send(CLIENT, TID, &ack(2)).unwrap();
        assert_eq!(
            sim.send(tid2, CLIENT, &data(1, b"b")).unwrap().transfer,
            Some(1)
        );
        sim.send(CLIENT, tid2, &ack(1)).unwrap();
        let ts = sim.finish();
        assert!(ts[0].clean_end && ts[1].clean_end, "{ts:?}");
        assert_eq!((ts[0].bytes, ts[1].bytes), (517, 1));
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
                // The hash needs complete data, and complete data always gets its hash (the
                // buffer limits are far away here).
                proptest::prop_assert!(t.complete == t.sha256.is_some());
                proptest::prop_assert!(!t.clean_end || (t.complete && t.error.is_none()));
                proptest::prop_assert!(t.missing_blocks <= t.blocks + 8);
            }
        }
    }

    #[test]
    fn issue_10_finding_a_transfer_does_not_scan_the_others() {
        // 3000 transfers at once, each from its own client: placing a request looks only at its
        // client's transfers, and every datagram still lands in its own transfer.
        let mut t = Tracker::new(Config::default());
        let client = |i: u32| addr(&format!("10.1.{}.{}:{}", i / 250, i % 250, 2000 + i % 7));
        let tid = |i: u32| addr(&format!("10.0.0.2:{}", 30000 + i));
        let n = 3000;
        for i in 0..n {
            let request = rrq(&format!("file-{i}"), "octet", &[]);
            let c = t.on_datagram(
                FrameNumber(u64::from(i) + 1),
                Duration::from_millis(u64::from(i)),
                client(i),
                addr(SERVER),
                &request,
            );
            assert_eq!(c.unwrap().transfer, Some(i as usize));
        }
        // Every request saw only its own client's (zero) earlier transfers.
        assert_eq!(t.examined, 0);
        let at = Duration::from_millis(u64::from(n));
        for i in (0..n).rev().step_by(97) {
            let mut k = 0;
            for (src, dst, payload) in [
                (tid(i), client(i), data(1, b"hi")),
                (client(i), tid(i), ack(1)),
            ] {
                k += 1;
                let c = t
                    .on_datagram(
                        FrameNumber(u64::from(n + i) * 2 + k),
                        at,
                        src,
                        dst,
                        &payload,
                    )
                    .unwrap();
                assert_eq!(c.transfer, Some(i as usize));
            }
        }
        // A repeated request of one client looks at that client's transfer only.
        let before = t.examined;
        t.on_datagram(
            FrameNumber(99_999),
            at,
            client(7),
            addr(SERVER),
            &rrq("again", "octet", &[]),
        );
        assert_eq!(t.examined - before, 1);
        // The engine's note names the transfer's file (an index, not a search).
        let payload = data(2, b"");
        let d = Datagram {
            at: At {
                frame: FrameNumber(100_000),
                ts: at,
            },
            src: tid(2500),
            dst: client(2500),
            payload: &payload,
        };
        match DatagramConsumer::on_datagram(&mut t, &d) {
            Some(Note::Tftp(c)) => assert_eq!(c.file, Some("file-2500")),
            other => panic!("{other:?}"),
        }
    }
}
