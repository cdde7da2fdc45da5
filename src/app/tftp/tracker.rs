//! TFTP conversations: which UDP datagrams belong to which transfer, and what happened in each
//! transfer ([`Transfer`]: blocks, completion, retransmissions, loss, errors, hash, warnings).
//!
//! In: every UDP datagram of the capture, in order ([`Tracker::on_datagram`], or the engine
//! through [`DatagramConsumer`]). Out: a [`Classification`] per TFTP datagram (the packet's
//! note) and owned [`Transfer`] summaries ([`Tracker::finish`]). Decoding of single packets is
//! the parser's job; printing is `view`'s and `report`'s.
//!
//! A transfer starts with a RRQ/WRQ sent to a server port (69 or a configured one). The server
//! answers from a new port, its transfer ID (RFC 1350 §4); every later packet between the client
//! endpoint and that server endpoint belongs to the transfer. Finding the transfer of a datagram
//! is a hash lookup (by client and server endpoints), whatever the number of transfers; a
//! request looks only at its own client's transfers. Bookkeeping is bounded: unanswered
//! requests expire, idle transfers end, finished transfers stop matching after a short linger, at
//! most `max_active` transfers are tracked at once, out-of-order data is buffered up to a limit,
//! and file bytes are kept only when extracting (streamed to disk).

use std::collections::BTreeMap;

use foldhash::{HashMap, HashMapExt};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::config::Config;
use super::state::{
    Active, FileOut, continues_after_error, on_ack, on_data, on_oack, option_entries, other,
    push_warning, request_warnings, to_hex, touch, wrong_sender,
};
use super::transfer::{
    Classification, EndReason, Role, Transfer, TransferDirection, TransferError, TransferOptions,
    WarningKind,
};
use super::{DEFAULT_BLOCK_SIZE, ErrorCode, Malformed, Mode, Packet, Request, escape};
use crate::app::consumer::{Datagram, DatagramConsumer, Note};
use crate::units::FrameNumber;

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
    /// Tracked transfers by client endpoint: a request looks only at its client's transfers.
    by_client: HashMap<SocketAddr, Vec<usize>>,
    next_sweep: Duration,
    scratch: Vec<usize>,
    /// Transfers looked at to place requests (for the test that lookups do not scan).
    #[cfg(test)]
    examined: u64,
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
            by_client: HashMap::new(),
            next_sweep: Duration::ZERO,
            scratch: Vec::new(),
            #[cfg(test)]
            examined: 0,
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
        let to_server = self.is_server_port(dst.port());
        // Only datagrams that can be TFTP are decoded: to or from a server port, or between
        // endpoints of a request waiting for its answer or of a transfer.
        if !to_server
            && !self.is_server_port(src.port())
            && !self.pending.contains_key(&(dst, src.ip()))
            && !self.pairs.contains_key(&(src, dst))
            && !self.pairs.contains_key(&(dst, src))
        {
            return None;
        }
        let packet = super::decode(payload);
        let mut classification = Classification {
            packet,
            transfer: None,
            role: None,
            last_block: false,
            file: None,
        };
        if to_server
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
        let mine = self.by_client.get(&client).map_or(&[][..], Vec::as_slice);
        #[cfg(test)]
        {
            self.examined += mine.len() as u64;
        }
        let repeat_of = mine
            .iter()
            .filter_map(|i| Some((*i, self.active.get(i)?)))
            .filter(|(_, a)| {
                a.client == client
                    && a.request_to == server
                    && a.closed_at.is_none()
                    && a.highest_data <= 1
                    && a.direction == direction
                    && a.file_name == request.file_name
                    && a.mode_raw == request.mode_raw
            })
            .map(|(i, _)| i)
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
        if let Some(mine) = self.by_client.get(&client) {
            let active = &self.active;
            self.scratch.extend(
                mine.iter()
                    .filter(|i| active.get(i).is_some_and(|a| a.closed_at.is_some())),
            );
        }
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
            seen: super::blocks::BlockSet::new(self.config.max_block_ranges),
            buffer: BTreeMap::new(),
            buffered_bytes: 0,
            hasher: Some(Sha256::new()),
            out: FileOut::new(self.config.extract_dir.is_some()),
            error_frame: None,
            complete: false,
            closed_at: None,
            last_activity: ts,
        };
        request_warnings(&mut t, &mut a, request, frame);
        self.transfers.push(t);
        self.active.insert(idx, a);
        self.by_client.entry(client).or_default().push(idx);
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
            a.hasher.take().map(|h| to_hex(&h.finalize()))
        } else {
            None
        };
        a.hasher = None;
        a.buffer.clear();
        a.buffered_bytes = 0;
        a.out.finish(t, &a.file_name, a.complete);
    }

    /// Stops tracking a transfer: it no longer matches packets, and its state is dropped.
    fn forget(&mut self, idx: usize) {
        let Some(mut a) = self.active.remove(&idx) else {
            return;
        };
        a.out.abort();
        if let Some(mine) = self.by_client.get_mut(&a.client) {
            mine.retain(|&i| i != idx);
            if mine.is_empty() {
                self.by_client.remove(&a.client);
            }
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

impl DatagramConsumer for Tracker {
    /// [`Tracker::on_datagram`], with the transfer's file name on the packets after the request.
    fn on_datagram<'a>(&'a mut self, d: &Datagram<'a>) -> Option<Note<'a>> {
        let mut c = Tracker::on_datagram(self, d.at.frame, d.at.ts, d.src, d.dst, d.payload)?;
        let is_request = matches!(&c.packet, Ok(p) if p.as_request().is_some());
        if !is_request {
            c.file = c
                .transfer
                .and_then(|i| self.transfers.get(i))
                .map(|t| t.file.as_str());
        }
        Some(Note::Tftp(c))
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::app::consumer::At;

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
        assert!(!a.out.is_writing() && a.buffer.is_empty());
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
