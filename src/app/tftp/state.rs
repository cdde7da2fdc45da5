//! The state of one transfer while it is tracked ([`Active`]) and what each packet of a
//! transfer does to it: requests and their options, OACK, DATA, ACK, ERROR; and the findings
//! made when a transfer ends ([`finalize`]).

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::time::Duration;

use super::blocks;
use super::config::{BUFFER_ENTRY_OVERHEAD, Config, UNFRAGMENTED_BLOCK_SIZE};
use super::extract::Sink;
pub(super) use super::transfer::warn;
use super::transfer::{
    BlockNumber, EndReason, Repeat, Role, Transfer, TransferDirection, Warning, WarningKind,
    add_frames,
};
use super::{DEFAULT_BLOCK_SIZE, ErrorCode, Mode, OptionKind, Options, Request, escape};
use crate::app::wire_text;
use crate::extract::Dir;
use crate::units::FrameNumber;

/// The rules the findings cite.
pub(super) mod rfc {
    pub(in super::super) const TID: &str = "RFC 1350 §4";
    pub(in super::super) const PACKETS: &str = "RFC 1350 §5";
    pub(in super::super) const NORMAL_END: &str = "RFC 1350 §6";
    pub(in super::super) const TIMEOUT: &str = "RFC 1350 §2";
    pub(in super::super) const ERRORS: &str = "RFC 1350 §7";
    pub(in super::super) const ERROR_CODES: &str = "RFC 1350 appendix (error codes)";
    pub(in super::super) const SECURITY: &str = "RFC 1350 security considerations";
    pub(in super::super) const MAIL: &str = "RFC 1350 §1";
    pub(in super::super) const OPTIONS: &str = "RFC 2347 §3";
    pub(in super::super) const BLKSIZE: &str = "RFC 2348";
    pub(in super::super) const TIMEOUT_TSIZE: &str = "RFC 2349";
    pub(in super::super) const WINDOWSIZE: &str = "RFC 7440 §3";
    pub(in super::super) const APPRENTICE: &str = "RFC 1123 §4.2.3.1";
    pub(in super::super) const NETASCII: &str = "RFC 764";
}

/// The mode of a request, without the borrowed bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ModeKind {
    Netascii,
    Octet,
    Mail,
    Other,
}

impl ModeKind {
    fn of(mode: &Mode<'_>) -> ModeKind {
        match mode {
            Mode::Netascii => ModeKind::Netascii,
            Mode::Octet => ModeKind::Octet,
            Mode::Mail => ModeKind::Mail,
            Mode::Other(_) => ModeKind::Other,
        }
    }
}

/// The last new DATA block the data sender sent, to see whether it re-sends on timeout.
#[derive(Debug, Clone, Copy)]
pub(super) struct LastData {
    pub(super) block: u64,
    pub(super) at: Duration,
    pub(super) frame: FrameNumber,
    /// Sent again since (or already reported as not re-sent).
    pub(super) resent: bool,
}

/// Per-transfer state that lives only while the transfer is tracked.
#[derive(Debug)]
pub(super) struct Active {
    pub(super) direction: TransferDirection,
    pub(super) client: SocketAddr,
    /// Where the request went (server IP and listening port).
    pub(super) request_to: SocketAddr,
    pub(super) tid: Option<SocketAddr>,
    pub(super) file_name: Vec<u8>,
    pub(super) mode_raw: Vec<u8>,
    pub(super) mode: ModeKind,
    /// Frames of the request and its repeats (at most 8).
    pub(super) request_frames: Vec<FrameNumber>,
    /// The request's options as sent (to open a second transfer from the same request).
    pub(super) options_raw: Vec<u8>,
    /// Lowercased names of the requested options.
    pub(super) requested: Vec<Vec<u8>>,
    pub(super) requested_block_size: Option<u64>,
    pub(super) requested_window_size: Option<u64>,
    pub(super) oack_seen: bool,
    pub(super) block_size: u64,
    /// An accepted `timeout` option, in seconds (RFC 2349).
    pub(super) timeout_secs: Option<u64>,
    pub(super) wrap_to_one: bool,
    /// Next block to append to the sink.
    pub(super) next_block: u64,
    pub(super) highest_data: u64,
    pub(super) highest_ack: Option<u64>,
    /// The block of the latest ACK when it was a duplicate (cleared by a fresh ACK).
    pub(super) dup_ack_marker: Option<u64>,
    pub(super) final_block: Option<u64>,
    pub(super) acked_final: bool,
    pub(super) seen: blocks::BlockSet,
    pub(super) buffer: BTreeMap<u64, Vec<u8>>,
    /// Bytes held in `buffer`, entries' bookkeeping included.
    pub(super) buffered_bytes: usize,
    pub(super) sink: Sink,
    /// First frames of the latest new blocks and fresh ACKs (for the repeat lists).
    pub(super) recent_data: VecDeque<(u64, FrameNumber)>,
    pub(super) recent_acks: VecDeque<(u64, FrameNumber)>,
    pub(super) last_data: Option<LastData>,
    /// Latest frame the client sent.
    pub(super) last_from_client: Option<FrameNumber>,
    /// Latest frame the server sent.
    pub(super) last_from_server: Option<FrameNumber>,
    pub(super) error_frame: Option<FrameNumber>,
    pub(super) error_from: Option<Role>,
    /// ICMP port unreachable showed the data receiver's port closed before it ACKed the last
    /// block (frame of the ICMP error).
    pub(super) receiver_closed: Option<FrameNumber>,
    /// A side's port was found closed before the transfer ended cleanly.
    pub(super) closed_early: bool,
    /// The ICMP port unreachable that answered the request itself.
    pub(super) no_server: Option<FrameNumber>,
    /// The transfer is an answer from a second server port to a repeated request.
    pub(super) second_answer: bool,
    pub(super) traversal_checked: bool,
    /// Set when the transfer has ended; it lingers until `closed_at + linger`.
    pub(super) closed_at: Option<Duration>,
    pub(super) last_activity: Duration,
}

impl Active {
    /// The latest frame `role` sent.
    pub(super) fn last_from_mut(&mut self, role: Role) -> &mut Option<FrameNumber> {
        match role {
            Role::Client => &mut self.last_from_client,
            Role::Server => &mut self.last_from_server,
        }
    }

    /// The block number of `block` as on the wire, with its rollovers.
    pub(super) fn wire(&self, block: u64) -> BlockNumber {
        let (modulus, base) = if self.wrap_to_one {
            (65_535, 1)
        } else {
            (65_536, 0)
        };
        let wire = if self.wrap_to_one {
            block.saturating_sub(1) % modulus + base
        } else {
            block % modulus
        };
        BlockNumber {
            wire: u16::try_from(wire).unwrap_or(u16::MAX),
            rollovers: blocks::rollovers(block, self.wrap_to_one),
        }
    }

    /// True when every block through the final one was captured.
    pub(super) fn data_complete(&self) -> bool {
        self.final_block
            .is_some_and(|f| self.seen.missing_up_to(f) == 0)
    }

    /// The role of the endpoint `addr` in this transfer.
    pub(super) fn role_of(&self, addr: SocketAddr) -> Role {
        if addr == self.client {
            Role::Client
        } else {
            Role::Server
        }
    }
}

/// Lists a repeat of `block` in `list` (a re-sent DATA or a duplicate ACK), with the frame of
/// the first copy when `recent` still remembers it.
fn list_repeat(
    list: &mut Vec<Repeat>,
    recent: &VecDeque<(u64, FrameNumber)>,
    number: BlockNumber,
    block: u64,
    frame: FrameNumber,
) {
    // Repeats of one block come together: look at the latest entries only.
    if let Some(r) = list.iter_mut().rev().take(4).find(|r| r.block == number) {
        if r.frames.len() < Warning::MAX_FRAMES {
            r.frames.push(frame);
        }
        return;
    }
    if list.len() >= Transfer::MAX_LISTED {
        return;
    }
    let mut frames = Vec::with_capacity(2);
    if let Some(&(_, first)) = recent.iter().rev().find(|(b, _)| *b == block) {
        frames.push(first);
    }
    frames.push(frame);
    list.push(Repeat {
        block: number,
        frames,
    });
}

fn remember(recent: &mut VecDeque<(u64, FrameNumber)>, block: u64, frame: FrameNumber) {
    if recent.len() >= Transfer::REMEMBERED_BLOCKS {
        recent.pop_front();
    }
    recent.push_back((block, frame));
}

/// Counts a packet into the transfer's frame and time totals.
pub(super) fn touch(t: &mut Transfer, frame: FrameNumber, ts: Duration) {
    t.frames = t.frames.saturating_add(1);
    t.last_frame = frame;
    let secs = ts.as_secs_f64();
    if secs > t.last_seen_secs {
        t.last_seen_secs = secs;
    }
    t.duration_secs = (t.last_seen_secs - t.first_seen_secs).max(0.0);
    t.throughput_bytes_per_sec = (t.duration_secs > 0.0).then(|| t.bytes as f64 / t.duration_secs);
}

pub(super) fn wrong_sender(t: &mut Transfer, frame: FrameNumber, what: &str, expected: Role) {
    warn(
        t,
        WarningKind::WrongSender,
        Some(expected.other()),
        Some(rfc::NORMAL_END),
        Some(frame),
        || {
            format!(
                "{what} came from the {}; in this transfer only the {expected} sends it",
                expected.other()
            )
        },
    );
}

/// A packet after the ERROR that ended the transfer (RFC 1350 §7: an ERROR is neither
/// acknowledged nor retransmitted, and ends the transfer).
pub(super) fn continues_after_error(
    t: &mut Transfer,
    a: &Active,
    frame: FrameNumber,
    from: Role,
) -> bool {
    let Some(err_frame) = a.error_frame else {
        return false;
    };
    warn(
        t,
        WarningKind::ContinuesAfterError,
        Some(from),
        Some(rfc::ERRORS),
        Some(frame),
        || {
            format!(
                "the {from} went on after the ERROR in frame {err_frame}; an ERROR ends a \
                 transfer and is never acknowledged or retransmitted"
            )
        },
    );
    true
}

pub(super) fn option_entries(options: &Options<'_>) -> Vec<super::transfer::OptionEntry> {
    options
        .iter()
        .map(|o| super::transfer::OptionEntry {
            name: wire_text(o.name),
            value: wire_text(o.value),
        })
        .collect()
}

/// The state of a new transfer for `request`.
pub(super) fn new_active(
    cfg: &Config,
    direction: TransferDirection,
    client: SocketAddr,
    request_to: SocketAddr,
    request: &Request<'_>,
    frame: FrameNumber,
    ts: Duration,
) -> Active {
    let netascii = matches!(request.mode, Mode::Netascii | Mode::Mail);
    Active {
        direction,
        client,
        request_to,
        tid: None,
        file_name: request.file_name.to_vec(),
        mode_raw: request.mode_raw.to_vec(),
        mode: ModeKind::of(&request.mode),
        request_frames: vec![frame],
        options_raw: request.options.as_bytes().to_vec(),
        requested: Vec::new(),
        requested_block_size: None,
        requested_window_size: None,
        oack_seen: false,
        block_size: u64::from(DEFAULT_BLOCK_SIZE),
        timeout_secs: None,
        wrap_to_one: false,
        next_block: 1,
        highest_data: 0,
        highest_ack: None,
        dup_ack_marker: None,
        final_block: None,
        acked_final: false,
        seen: blocks::BlockSet::new(cfg.max_block_ranges),
        buffer: BTreeMap::new(),
        buffered_bytes: 0,
        sink: Sink::new(if netascii {
            crate::extract::Coding::Netascii
        } else {
            crate::extract::Coding::Identity
        }),
        recent_data: VecDeque::new(),
        recent_acks: VecDeque::new(),
        last_data: None,
        last_from_client: Some(frame),
        last_from_server: None,
        error_frame: None,
        error_from: None,
        receiver_closed: None,
        closed_early: false,
        no_server: None,
        second_answer: false,
        traversal_checked: false,
        closed_at: None,
        last_activity: ts,
    }
}

/// Warnings a request earns on its own, and the options it asks for.
pub(super) fn request_warnings(
    t: &mut Transfer,
    a: &mut Active,
    request: &Request<'_>,
    frame: FrameNumber,
) {
    let client = Some(Role::Client);
    match request.mode {
        Mode::Mail => warn(
            t,
            WarningKind::UnusualMode,
            client,
            Some(rfc::MAIL),
            Some(frame),
            || "mode mail is obsolete: RFC 1350 §1 says it should not be implemented".to_string(),
        ),
        Mode::Other(m) => warn(
            t,
            WarningKind::UnusualMode,
            client,
            Some(rfc::PACKETS),
            Some(frame),
            || {
                format!(
                    "mode \"{}\" is not a tftp mode; RFC 1350 §5 defines netascii and octet \
                     (and the obsolete mail), case-insensitive",
                    escape(m)
                )
            },
        ),
        Mode::Netascii | Mode::Octet => {}
    }
    if request.missing_final_nul {
        warn(
            t,
            WarningKind::MissingFinalNul,
            client,
            Some(rfc::PACKETS),
            Some(frame),
            || {
                "the request's last string has no terminating nul byte; RFC 1350 §5 ends every \
                 string with one and strict servers reject the request"
                    .to_string()
            },
        );
    }
    if !request.has_ascii_file_name() {
        warn(
            t,
            WarningKind::NonAsciiFileName,
            client,
            Some(rfc::PACKETS),
            Some(frame),
            || {
                format!(
                    "the file name {} is not printable ascii; RFC 1350 §5 says file names are \
                     netascii, so servers may reject it or read it differently",
                    escape(request.file_name)
                )
            },
        );
    }
    for o in request.options.iter() {
        let name = o.name.to_ascii_lowercase();
        if a.requested.contains(&name) {
            warn(
                t,
                WarningKind::DuplicateOption,
                client,
                Some(rfc::OPTIONS),
                Some(frame),
                || {
                    format!(
                        "option {} is requested twice; RFC 2347 does not say which copy counts",
                        escape(o.name)
                    )
                },
            );
        }
        let kind = o.kind();
        if kind != OptionKind::Unknown && o.valid_number().is_none() {
            warn(
                t,
                WarningKind::InvalidOptionValue,
                client,
                Some(option_rfc(kind)),
                Some(frame),
                || invalid_value_message(kind, o.name, o.value),
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

fn option_rfc(kind: OptionKind) -> &'static str {
    match kind {
        OptionKind::BlockSize => rfc::BLKSIZE,
        OptionKind::WindowSize => rfc::WINDOWSIZE,
        _ => rfc::TIMEOUT_TSIZE,
    }
}

fn invalid_value_message(kind: OptionKind, name: &[u8], value: &[u8]) -> String {
    let (lo, hi) = kind.valid_range().unwrap_or((0, u64::MAX));
    format!(
        "option {}={} is out of range: {} allows {lo} to {hi}; a server ignores an option it \
         cannot accept",
        escape(name),
        escape(value),
        option_rfc(kind)
    )
}

/// The server's OACK: the options now in force (RFC 2347 §3).
pub(super) fn on_oack(
    t: &mut Transfer,
    a: &mut Active,
    options: &Options<'_>,
    missing_nul: bool,
    frame: FrameNumber,
) {
    let server = Some(Role::Server);
    if a.oack_seen {
        warn(
            t,
            WarningKind::RepeatedOack,
            server,
            Some(rfc::OPTIONS),
            Some(frame),
            || "a second OACK: options are negotiated once, at the start".to_string(),
        );
    }
    if a.highest_data > 0 {
        warn(
            t,
            WarningKind::OackAfterData,
            server,
            Some(rfc::OPTIONS),
            Some(frame),
            || "an OACK came after DATA had started".to_string(),
        );
    }
    if a.requested.is_empty() {
        warn(
            t,
            WarningKind::OackWithoutRequest,
            server,
            Some(rfc::OPTIONS),
            Some(frame),
            || {
                "the server sent an OACK to a request without options; RFC 2347 §3 has it \
                 answer such a request as RFC 1350 does (DATA 1 or ACK 0)"
                    .to_string()
            },
        );
    }
    if missing_nul {
        warn(
            t,
            WarningKind::MissingFinalNul,
            server,
            Some(rfc::OPTIONS),
            Some(frame),
            || "the OACK has no nul byte after its last value".to_string(),
        );
    }
    a.oack_seen = true;
    for o in options.iter() {
        let name = o.name.to_ascii_lowercase();
        if !a.requested.is_empty() && !a.requested.contains(&name) {
            warn(
                t,
                WarningKind::UnrequestedOption,
                server,
                Some(rfc::OPTIONS),
                Some(frame),
                || {
                    format!(
                        "the OACK accepts option {} that the client never requested; RFC 2347 \
                         §3 lets a server acknowledge only requested options, and a client \
                         should answer with ERROR 8",
                        escape(o.name)
                    )
                },
            );
        }
        let kind = o.kind();
        let value = o.valid_number();
        if kind != OptionKind::Unknown && value.is_none() {
            warn(
                t,
                WarningKind::InvalidOptionValue,
                server,
                Some(option_rfc(kind)),
                Some(frame),
                || invalid_value_message(kind, o.name, o.value),
            );
        }
        match (kind, value) {
            (OptionKind::BlockSize, Some(v)) => {
                if a.requested_block_size.is_some_and(|r| v > r) {
                    warn(
                        t,
                        WarningKind::OackRaisedValue,
                        server,
                        Some(rfc::BLKSIZE),
                        Some(frame),
                        || {
                            format!(
                                "the server raised blksize to {v}; RFC 2348 lets it only keep \
                                 or lower the requested value"
                            )
                        },
                    );
                }
                if v > UNFRAGMENTED_BLOCK_SIZE {
                    warn(
                        t,
                        WarningKind::FragmentingBlockSize,
                        None,
                        Some("RFC 2348 §1"),
                        Some(frame),
                        || {
                            format!(
                                "blksize {v} is above {UNFRAGMENTED_BLOCK_SIZE}, so on Ethernet \
                                 every full DATA packet is split into IP fragments"
                            )
                        },
                    );
                }
                a.block_size = v;
                t.block_size = u16::try_from(v).unwrap_or(u16::MAX);
            }
            (OptionKind::WindowSize, Some(v)) => {
                if a.requested_window_size.is_some_and(|r| v > r) {
                    warn(
                        t,
                        WarningKind::OackRaisedValue,
                        server,
                        Some(rfc::WINDOWSIZE),
                        Some(frame),
                        || {
                            format!(
                                "the server raised windowsize to {v}; RFC 7440 §3 lets it only \
                                 keep or lower the requested value"
                            )
                        },
                    );
                }
                t.window_size = u16::try_from(v).unwrap_or(u16::MAX);
            }
            (OptionKind::Timeout, Some(v)) => a.timeout_secs = Some(v),
            _ => {}
        }
    }
    t.options.negotiated = Some(option_entries(options));
}

/// Notes that requested options were not answered with an OACK (RFC 2347 §3: the server then
/// uses the RFC 1350 defaults; allowed, so no side is at fault).
pub(super) fn check_options_ignored(t: &mut Transfer, a: &Active, frame: FrameNumber) {
    if !a.requested.is_empty() && !a.oack_seen {
        warn(
            t,
            WarningKind::OptionsIgnored,
            None,
            Some(rfc::OPTIONS),
            Some(frame),
            || {
                format!(
                    "the client requested options but the server went on without an OACK, so \
                     it ignored them: the block size stays {DEFAULT_BLOCK_SIZE}"
                )
            },
        );
    }
}

/// What a DATA or ACK needs besides the transfer: the configuration, the extraction
/// directory, and the buffer memory all transfers share.
pub(super) struct Ctx<'c> {
    pub(super) cfg: &'c Config,
    pub(super) dir: Option<&'c mut Dir>,
    pub(super) buffered_total: &'c mut usize,
    pub(super) ts: Duration,
}

/// Why a name climbs out of the server's folder: `..` or an absolute path.
pub(super) fn escapes_root(name: &[u8]) -> Option<&'static str> {
    let is_sep = |b: &u8| *b == b'/' || *b == b'\\';
    if name.split(is_sep).any(|c| c == b"..") {
        return Some("climbs out of the served folder with '..'");
    }
    let drive = matches!(name, [l, b':', ..] if l.is_ascii_alphabetic());
    if name.first().is_some_and(is_sep) || drive {
        return Some("is an absolute path");
    }
    None
}

/// The server answered with data (or accepted a write) for a name outside its folder.
pub(super) fn check_traversal(t: &mut Transfer, a: &mut Active, frame: FrameNumber) {
    if a.traversal_checked {
        return;
    }
    a.traversal_checked = true;
    let Some(why) = escapes_root(&a.file_name) else {
        return;
    };
    let what = match a.direction {
        TransferDirection::Read => "sent data for",
        TransferDirection::Write => "accepted a write to",
    };
    let file = escape(t.file.as_bytes()).to_string();
    warn(
        t,
        WarningKind::DirectoryTraversal,
        Some(Role::Server),
        Some(rfc::SECURITY),
        Some(frame),
        || {
            format!(
                "the server {what} {}, a name that {why} (directory traversal): a tftp server \
                 must confine requests to its own folder (refuse with ERROR 2, Access \
                 violation, or map the name inside the folder as tftpd-hpa -s does)",
                file
            )
        },
    );
}

/// A DATA packet from the data sender. Returns whether it was the last (short) block.
pub(super) fn on_data(
    t: &mut Transfer,
    a: &mut Active,
    wire: u16,
    data: &[u8],
    frame: FrameNumber,
    ctx: &mut Ctx<'_>,
) -> bool {
    let sender = Some(a.direction.data_sender());
    if continues_after_error(t, a, frame, a.direction.data_sender()) {
        // The transfer ended at the ERROR: later data is not part of the file.
        return false;
    }
    check_options_ignored(t, a, frame);
    let next_new = a.highest_data.saturating_add(1);
    // After block 65535 comes 0 for most implementations; a 1 there means "wrap to 1".
    if !a.wrap_to_one && next_new >= 65_536 && next_new.is_multiple_of(65_536) && wire == 1 {
        a.wrap_to_one = true;
        warn(
            t,
            WarningKind::RolloverToOne,
            None,
            Some(rfc::NORMAL_END),
            Some(frame),
            || {
                "after block 65535 the sender went on with block 1, not 0; RFC 1350 does not \
                 say which, and a receiver expecting 0 takes it for an old block"
                    .to_string()
            },
        );
    }
    let block = blocks::absolute(wire, next_new, a.wrap_to_one);
    if block == 0 {
        warn(
            t,
            WarningKind::DataBlockZero,
            sender,
            Some(rfc::NORMAL_END),
            Some(frame),
            || "DATA block 0: data blocks are numbered from 1".to_string(),
        );
        return false;
    }
    let number = a.wire(block);
    let len = data.len() as u64;
    let last = len < a.block_size;
    if len > a.block_size {
        let bs = a.block_size;
        warn(
            t,
            WarningKind::OversizedData,
            sender,
            Some(rfc::BLKSIZE),
            Some(frame),
            || {
                format!(
                    "DATA {number} carries {len} bytes, more than the block size of {bs} in \
                     force; a receiver may reject or truncate it"
                )
            },
        );
    }
    if let Some(f) = a.final_block
        && block > f
    {
        let fin = a.wire(f);
        warn(
            t,
            WarningKind::DataAfterFinalBlock,
            sender,
            Some(rfc::NORMAL_END),
            Some(frame),
            || {
                format!(
                    "DATA {number} follows the final (short) {fin}; a block shorter than the \
                     block size ends the transfer"
                )
            },
        );
    }
    if a.seen.contains(block) {
        t.retransmitted_blocks = t.retransmitted_blocks.saturating_add(1);
        list_repeat(&mut t.resent, &a.recent_data, number, block, frame);
        if let Some(ld) = &mut a.last_data
            && ld.block == block
        {
            ld.resent = true;
        }
        // RFC 1123 §4.2.3.1: the sender answered a duplicate ACK with DATA (it must only
        // re-send on timeout). A fresh ACK since clears the marker, so ordinary timeout
        // re-sends after lost ACKs are not taken for it.
        if a.dup_ack_marker == Some(block.saturating_sub(1)) {
            let sender_role = a.direction.data_sender();
            warn(
                t,
                WarningKind::SorcerersApprentice,
                sender,
                Some(rfc::APPRENTICE),
                Some(frame),
                || {
                    format!(
                        "the {sender_role} sent DATA {number} again in answer to a duplicate \
                         ACK: a sender that answers every ACK, duplicates included, doubles all \
                         later traffic (the Sorcerer's Apprentice bug); re-send DATA only on \
                         timeout"
                    )
                },
            );
            a.dup_ack_marker = None;
        }
        return last;
    }
    if !a.seen.insert(block) {
        let max = ctx.cfg.max_block_ranges;
        warn(
            t,
            WarningKind::BlockTrackingLimit,
            None,
            None,
            Some(frame),
            || {
                format!(
                    "more than {max} separate runs of blocks: later retransmissions and gaps \
                     are counted approximately"
                )
            },
        );
    }
    remember(&mut a.recent_data, block, frame);
    a.last_data = Some(LastData {
        block,
        at: ctx.ts,
        frame,
        resent: false,
    });
    if block != next_new {
        t.out_of_sequence_blocks = t.out_of_sequence_blocks.saturating_add(1);
    }
    if block > a.highest_data {
        a.highest_data = block;
        t.rollovers = blocks::rollovers(block, a.wrap_to_one);
        if t.rollovers > 0 {
            warn(
                t,
                WarningKind::BlockRollover,
                None,
                Some(rfc::NORMAL_END),
                Some(frame),
                || {
                    "the block number wrapped past 65535: 16-bit block numbers limit a transfer \
                     to 65535 blocks unless both sides roll over"
                        .to_string()
                },
            );
        }
    }
    t.blocks = t.blocks.saturating_add(1);
    t.bytes = t.bytes.saturating_add(len);
    if last && a.final_block.is_none_or(|f| block < f) {
        // RFC 1350 §6: a DATA packet shorter than the block size ends the transfer.
        a.final_block = Some(block);
        t.final_block = Some(number);
        t.final_block_frame = Some(frame);
    }
    if block == a.next_block {
        deliver(t, a, data, frame, ctx);
        while let Some(next) = a.buffer.remove(&a.next_block) {
            let cost = next.len().saturating_add(BUFFER_ENTRY_OVERHEAD);
            a.buffered_bytes = a.buffered_bytes.saturating_sub(cost);
            *ctx.buffered_total = ctx.buffered_total.saturating_sub(cost);
            deliver(t, a, &next, frame, ctx);
        }
    } else if block > a.next_block && a.sink.is_alive() {
        let cost = data.len().saturating_add(BUFFER_ENTRY_OVERHEAD);
        let own = a.buffered_bytes.saturating_add(cost) <= ctx.cfg.max_buffered_bytes;
        let all = ctx.buffered_total.saturating_add(cost) <= ctx.cfg.max_buffered_total;
        if own && all {
            a.buffered_bytes = a.buffered_bytes.saturating_add(cost);
            *ctx.buffered_total = ctx.buffered_total.saturating_add(cost);
            a.buffer.insert(block, data.to_vec());
        } else {
            let missing = a.wire(a.next_block);
            let limit = if own {
                format!(
                    "the {} bytes all transfers together may buffer",
                    ctx.cfg.max_buffered_total
                )
            } else {
                format!(
                    "the {} bytes one transfer may buffer",
                    ctx.cfg.max_buffered_bytes
                )
            };
            warn(t, WarningKind::BufferLimit, None, None, Some(frame), || {
                format!(
                    "blocks kept arriving while {missing} was missing, past {limit}: the file \
                     can no longer be rebuilt, so there is no sha256 and an extracted file \
                     stays incomplete"
                )
            });
            release_buffer(a, ctx.buffered_total);
            a.sink.give_up(ctx.dir.as_deref_mut(), t);
        }
    }
    last
}

/// Frees a transfer's out-of-order buffer.
pub(super) fn release_buffer(a: &mut Active, total: &mut usize) {
    *total = total.saturating_sub(a.buffered_bytes);
    a.buffer.clear();
    a.buffered_bytes = 0;
}

/// Appends the next in-order block to the sink.
fn deliver(t: &mut Transfer, a: &mut Active, data: &[u8], frame: FrameNumber, ctx: &mut Ctx<'_>) {
    if !a.sink.is_alive() {
        return;
    }
    a.next_block = a.next_block.saturating_add(1);
    a.sink
        .write(ctx.dir.as_deref_mut(), t, &a.file_name, frame, data);
}

/// An ACK from the data receiver. Returns true when it acknowledges the final block of
/// complete data (the transfer then ends).
pub(super) fn on_ack(
    t: &mut Transfer,
    a: &mut Active,
    wire: u16,
    frame: FrameNumber,
    ctx: &Ctx<'_>,
) -> bool {
    let receiver = a.direction.data_receiver();
    let after_error = continues_after_error(t, a, frame, receiver);
    if a.direction == TransferDirection::Write && wire == 0 {
        // In a write the server's ACK 0 is its answer to the WRQ: the options were ignored.
        check_options_ignored(t, a, frame);
    }
    let block = blocks::absolute(wire, a.highest_data, a.wrap_to_one);
    let number = a.wire(block);
    let ack_zero_ok = block == 0 && (a.direction == TransferDirection::Write || a.oack_seen);
    if !after_error && (block > a.highest_data || (block == 0 && !ack_zero_ok)) {
        let highest = a.wire(a.highest_data);
        warn(
            t,
            WarningKind::AckForUnsentBlock,
            Some(receiver),
            Some(rfc::NORMAL_END),
            Some(frame),
            || {
                format!(
                    "an ACK for {number}, but no DATA {number} was seen (the highest was {}); \
                     an ACK must name the block it received",
                    highest.wire
                )
            },
        );
    }
    // The data sender should have re-sent its last block long before the receiver repeated
    // itself (RFC 1350 §2: the sender of a packet re-sends it on timeout).
    let wait = a.timeout_secs.map_or(ctx.cfg.retransmit_wait, |s| {
        Duration::from_secs(s.saturating_add(1))
    });
    let unacked = a.highest_ack.is_none_or(|h| h < block || block == 0);
    if let Some(ld) = a.last_data
        && !ld.resent
        && a.error_frame.is_none()
        && (block == ld.block || block.saturating_add(1) == ld.block)
        && (ld.block > a.highest_ack.unwrap_or(0) || unacked)
        && ctx.ts.saturating_sub(ld.at) > wait
    {
        if let Some(l) = &mut a.last_data {
            l.resent = true;
        }
        let gap = ctx.ts.saturating_sub(ld.at).as_secs_f64();
        let sent = ld.frame;
        let data_number = a.wire(ld.block);
        let sender = a.direction.data_sender();
        warn(
            t,
            WarningKind::NoRetransmission,
            Some(sender),
            Some(rfc::TIMEOUT),
            Some(sent),
            || {
                format!(
                    "the {sender} sent DATA {data_number} (frame {sent}) and then waited \
                     {gap:.1} s without sending it again, until the {receiver}'s ACK came \
                     (frame {frame}); a sender re-sends its last packet when no answer comes \
                     within its timeout (about 1 s; {:.0} s at most here), so a lost ACK does \
                     not stall the transfer",
                    wait.as_secs_f64()
                )
            },
        );
        add_frames(t, WarningKind::NoRetransmission, &[frame]);
    }
    match a.highest_ack {
        Some(h) if block <= h => {
            t.duplicate_acks = t.duplicate_acks.saturating_add(1);
            list_repeat(&mut t.repeated_acks, &a.recent_acks, number, block, frame);
            a.dup_ack_marker = Some(block);
        }
        _ => {
            a.highest_ack = Some(block);
            a.dup_ack_marker = None;
            remember(&mut a.recent_acks, block, frame);
        }
    }
    if let Some(f) = a.final_block
        && block >= f
        && a.seen.missing_up_to(f) == 0
    {
        if t.final_ack_frame.is_none() {
            t.final_ack_frame = Some(frame);
        }
        let first = !a.acked_final;
        a.acked_final = true;
        return first && a.error_frame.is_none();
    }
    false
}

/// Checks an ERROR's code against the situation it answers. `first_answer` is true when the
/// ERROR is the server's answer to the request; `second_port` when it goes to a server port
/// that is not the transfer's (where code 5 is right).
pub(super) fn check_error_code(
    t: &mut Transfer,
    a: &Active,
    code: ErrorCode,
    message: &[u8],
    from: Role,
    frame: FrameNumber,
    first_answer: bool,
) {
    let not_found = contains_ignore_case(message, b"not found")
        || contains_ignore_case(message, b"no such file")
        || contains_ignore_case(message, b"does not exist")
        || contains_ignore_case(message, b"doesn't exist");
    let value = code.to_u16();
    let meaning = code.to_string();
    let why: Option<String> = match code {
        ErrorCode::UnknownTransferId if first_answer => Some(format!(
            "the server refused the {} with ERROR 5 ({meaning}); code 5 is for a packet that \
             comes from an unexpected port (a transfer ID the receiver does not know, RFC 1350 \
             §4), never for a request. {}",
            a.direction.request_name(),
            if not_found {
                "Its message says the file was not found: RFC 1350 has code 1, File not found"
                    .to_string()
            } else {
                "For a missing file the code is 1 (File not found), for a refused one 2 (Access \
                 violation)"
                    .to_string()
            }
        )),
        ErrorCode::UnknownTransferId if !a.second_answer => Some(format!(
            "ERROR 5 ({meaning}) went to the transfer's own port; code 5 answers only a packet \
             from a port that is not part of the transfer (RFC 1350 §4)"
        )),
        ErrorCode::DiskFull | ErrorCode::FileExists
            if first_answer && a.direction == TransferDirection::Read =>
        {
            Some(format!(
                "ERROR {value} ({meaning}) does not fit a read request: codes 3 and 6 are about \
                 writing; a missing file is code 1, a refused one code 2"
            ))
        }
        ErrorCode::FileNotFound | ErrorCode::UnknownTransferId => None,
        _ if not_found => Some(format!(
            "ERROR {value} ({meaning}) with the message \"{}\": RFC 1350 has code 1, File not \
             found, for this",
            escape(message)
        )),
        _ => None,
    };
    if let Some(why) = why {
        warn(
            t,
            WarningKind::WrongErrorCode,
            Some(from),
            Some(rfc::ERROR_CODES),
            Some(frame),
            || why,
        );
    }
}

fn contains_ignore_case(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

/// Findings that need the whole transfer, made when its result is handed out (so that an
/// ICMP error or a repeat that came while it lingered is included): clean ending, the last
/// block left unacknowledged, a sender stopped at block 65535, blocks not captured, and the
/// unanswered request.
pub(super) fn finalize(
    t: &mut Transfer,
    a: &Active,
    answered_elsewhere: Option<&'static str>,
    cfg: &Config,
) {
    let sender = a.direction.data_sender();
    let receiver = a.direction.data_receiver();
    t.complete = a.data_complete();
    t.clean_end = t.complete && a.acked_final && a.error_frame.is_none() && !a.closed_early;
    if a.tid.is_none() {
        no_answer(t, a, answered_elsewhere, cfg);
    }
    let last = a.final_block.unwrap_or(a.highest_data);
    t.missing_blocks = a.seen.missing_up_to(last);
    if t.missing_blocks > 0 {
        let missing = t.missing_blocks;
        let last_number = a.wire(last);
        warn(t, WarningKind::BlocksNotCaptured, None, None, None, || {
            format!(
                "{missing} of the blocks up to {last_number} never appeared in the capture (lost \
                 before the capture point, or the capture dropped them), so the file cannot be \
                 rebuilt"
            )
        });
    }
    // An evicted transfer was cut short by pcaplab's own limit: its ACK may simply be later.
    if t.complete && !a.acked_final && a.error_frame.is_none() && t.end != EndReason::Evicted {
        last_block_not_acked(t, a, sender, receiver);
    }
    // A sender stuck at the 16-bit limit: block 65535 was full, nothing followed.
    if !t.complete
        && a.highest_data == 65_535
        && a.final_block.is_none()
        && t.missing_blocks == 0
        && a.error_from != Some(receiver)
    {
        let frame = a.last_data.map(|d| d.frame);
        warn(
            t,
            WarningKind::StoppedAtBlock65535,
            Some(sender),
            Some(rfc::NORMAL_END),
            frame,
            || {
                format!(
                    "the {sender} stopped after block 65535, the highest number a 16-bit block \
                     field holds, although block 65535 was full so the file needs more blocks: \
                     a counter packed with struct.pack('!H', n) cannot go past 65535. Roll the \
                     block number over to 0 (what most implementations do) or negotiate a \
                     larger blksize (RFC 2348)"
                )
            },
        );
    }
}

fn last_block_not_acked(t: &mut Transfer, a: &Active, sender: Role, receiver: Role) {
    let Some(f) = a.final_block else {
        return;
    };
    let number = a.wire(f);
    let first = t.final_block_frame;
    let resent: Vec<FrameNumber> = t
        .resent
        .iter()
        .find(|r| r.block == number)
        .map(|r| {
            r.frames
                .iter()
                .copied()
                .filter(|&x| Some(x) != first)
                .collect()
        })
        .unwrap_or_default();
    let mut text = format!(
        "the {receiver} never acknowledged the last block ({number}, DATA in frame {}): the \
         last DATA is acknowledged like every other, or the {sender} cannot know the file \
         arrived",
        first.map_or_else(|| "?".to_string(), |f| f.to_string())
    );
    if !resent.is_empty() {
        let list: Vec<String> = resent.iter().map(ToString::to_string).collect();
        text.push_str(&format!(
            "; the {sender} sent it again (frame {}) and still got no ACK",
            list.join(", ")
        ));
    }
    if let Some(icmp) = a.receiver_closed {
        text.push_str(&format!(
            "; the {receiver}'s port answered with ICMP port unreachable (frame {icmp}): the \
             {receiver} had closed its socket without sending the final ACK"
        ));
    } else if resent.is_empty() {
        text.push_str(&format!(
            "; no ACK follows in the capture, and the {sender} did not send the block again"
        ));
    }
    let mut frames: Vec<FrameNumber> = first.into_iter().chain(resent).collect();
    frames.extend(a.receiver_closed);
    warn(
        t,
        WarningKind::LastBlockNotAcked,
        Some(receiver),
        Some(rfc::NORMAL_END),
        None,
        || text,
    );
    add_frames(t, WarningKind::LastBlockNotAcked, &frames);
}

fn no_answer(t: &mut Transfer, a: &Active, answered_elsewhere: Option<&'static str>, cfg: &Config) {
    let to = a.request_to;
    let requests: Vec<String> = a.request_frames.iter().map(ToString::to_string).collect();
    let what = a.direction.request_name();
    let mut by = None;
    let mut text = format!(
        "no answer from {to} to the {what} for {} in {} mode (frame {})",
        escape(t.file.as_bytes()),
        escape(t.mode.as_bytes()),
        requests.join(", ")
    );
    if let Some(icmp) = a.no_server {
        text.push_str(&format!(
            ": ICMP port unreachable (frame {icmp}) says nothing listened on {to}; the server \
             was not running, or listens on another port"
        ));
        by = Some(Role::Server);
    } else {
        let unusual_mode = a.mode != ModeKind::Octet;
        let write = a.direction == TransferDirection::Write;
        if let Some(other) = answered_elsewhere {
            by = Some(Role::Server);
            text.push_str(&format!(
                ": the same server answered {other}, so it is this request's {} it does not \
                 handle; it should say so with an ERROR (code 4, Illegal TFTP operation, or 0 \
                 with a message) instead of staying silent (RFC 1350 §7)",
                if write && unusual_mode {
                    "opcode (WRQ) or mode"
                } else if write {
                    "opcode (WRQ, a write)"
                } else {
                    "mode"
                }
            ));
        } else if write || unusual_mode {
            let which = match (write, unusual_mode) {
                (true, true) => format!(
                    "a write request (WRQ) in {} mode",
                    escape(t.mode.as_bytes())
                ),
                (true, false) => "a write request (WRQ)".to_string(),
                _ => format!("{} mode", escape(t.mode.as_bytes())),
            };
            text.push_str(&format!(
                ": it was {which}; a server that implements only octet reads ignores it, when \
                 it should answer ERROR 4 (Illegal TFTP operation) or ERROR 0 with a message \
                 (RFC 1350 §7)"
            ));
        } else {
            text.push_str(&format!(
                " within {} s: the server may be down or not serving that file name, a \
                 firewall may drop the request, or the answer came from an address the capture \
                 did not see",
                cfg.request_timeout.as_secs_f64()
            ));
        }
    }
    let kind = if a.no_server.is_some() {
        WarningKind::NoServer
    } else {
        WarningKind::NoAnswer
    };
    warn(t, kind, by, Some(rfc::TID), None, || text);
    add_frames(t, kind, &a.request_frames);
    add_frames(t, kind, &a.no_server.into_iter().collect::<Vec<_>>());
}
