//! The state of one transfer while it is tracked ([`Active`]) and what each packet of a
//! transfer does to it: requests and their options, OACK, DATA, ACK; and [`FileOut`], the one
//! place a transfer calls extraction.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::blocks;
use super::config::{Config, UNFRAGMENTED_BLOCK_SIZE};
use super::extract;
use super::transfer::{OptionEntry, Role, Transfer, TransferDirection, Warning, WarningKind};
use super::{DEFAULT_BLOCK_SIZE, Mode, OptionKind, Options, Request, escape};
use crate::units::FrameNumber;

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
    pub(super) netascii: bool,
    /// Lowercased names of the requested options.
    pub(super) requested: Vec<Vec<u8>>,
    pub(super) requested_block_size: Option<u64>,
    pub(super) requested_window_size: Option<u64>,
    pub(super) oack_seen: bool,
    pub(super) block_size: u64,
    pub(super) wrap_to_one: bool,
    /// Next block to append to the hash and the extracted file.
    pub(super) next_block: u64,
    pub(super) highest_data: u64,
    pub(super) highest_ack: Option<u64>,
    pub(super) last_duplicate_ack: Option<u64>,
    pub(super) final_block: Option<u64>,
    pub(super) seen: blocks::BlockSet,
    pub(super) buffer: BTreeMap<u64, Vec<u8>>,
    pub(super) buffered_bytes: usize,
    /// `None` once the file can no longer be rebuilt (buffer limit) or after the end.
    pub(super) hasher: Option<Sha256>,
    /// The file being extracted, when extraction is on.
    pub(super) out: FileOut,
    pub(super) error_frame: Option<FrameNumber>,
    pub(super) complete: bool,
    /// Set when the transfer has ended; it lingers until `closed_at + linger`.
    pub(super) closed_at: Option<Duration>,
    pub(super) last_activity: Duration,
}

/// The file a transfer is extracted to (`tftp --extract DIR`): every call into the extraction
/// module goes through here, so that moving to the crate's shared extraction sink is a local
/// change.
#[derive(Debug, Default)]
pub(super) struct FileOut {
    enabled: bool,
    sink: Option<extract::Sink>,
}

impl FileOut {
    /// Extraction on (`enabled`) or off.
    pub(super) fn new(enabled: bool) -> Self {
        FileOut {
            enabled,
            sink: None,
        }
    }

    /// Appends the next in-order block, creating the file in `dir` on the first block.
    pub(super) fn write(
        &mut self,
        t: &mut Transfer,
        frame: FrameNumber,
        dir: Option<&Path>,
        netascii: bool,
        data: &[u8],
    ) {
        if self.enabled
            && self.sink.is_none()
            && let Some(dir) = dir
        {
            match extract::Sink::create(dir, t.index, netascii) {
                Ok(s) => self.sink = Some(s),
                Err(e) => {
                    self.enabled = false;
                    push_warning(
                        t,
                        WarningKind::ExtractionFailed,
                        Some(frame),
                        format!("cannot create a file in {}: {e}", dir.display()),
                    );
                }
            }
        }
        if let Some(sink) = &mut self.sink {
            sink.write(data);
        }
    }

    /// True while a file is open.
    #[cfg(test)]
    pub(super) fn is_writing(&self) -> bool {
        self.sink.is_some()
    }

    /// Gives up the file (the data can no longer be rebuilt): it is removed.
    pub(super) fn abort(&mut self) {
        if let Some(sink) = self.sink.take() {
            sink.abort();
        }
        self.enabled = false;
    }

    /// The transfer ended: the file gets its final safe name and the transfer reports it.
    pub(super) fn finish(&mut self, t: &mut Transfer, file_name: &[u8], complete: bool) {
        let Some(sink) = self.sink.take() else {
            return;
        };
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
        match sink.finish(file_name, complete) {
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

/// Lowercase hex of a digest.
pub(super) fn to_hex(bytes: &[u8]) -> String {
    extract::to_hex(bytes)
}

/// The other role.
pub(super) fn other(role: Role) -> Role {
    match role {
        Role::Client => Role::Server,
        Role::Server => Role::Client,
    }
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

/// Adds a warning unless one of the same kind is already there.
pub(super) fn push_warning(
    t: &mut Transfer,
    kind: WarningKind,
    frame: Option<FrameNumber>,
    message: String,
) {
    if t.warnings.iter().any(|w| w.kind == kind) {
        return;
    }
    t.warnings.push(Warning {
        frame,
        kind,
        message,
    });
}

pub(super) fn wrong_sender(t: &mut Transfer, frame: FrameNumber, what: &str, expected: Role) {
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

pub(super) fn continues_after_error(t: &mut Transfer, a: &Active, frame: FrameNumber) {
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

pub(super) fn option_entries(options: &Options<'_>) -> Vec<OptionEntry> {
    options
        .iter()
        .map(|o| OptionEntry {
            name: escape(o.name).to_string(),
            value: escape(o.value).to_string(),
        })
        .collect()
}

/// Warnings a request earns on its own, and the options it asks for.
pub(super) fn request_warnings(
    t: &mut Transfer,
    a: &mut Active,
    request: &Request<'_>,
    frame: FrameNumber,
) {
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
pub(super) fn on_oack(
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
pub(super) fn check_options_ignored(t: &mut Transfer, a: &Active, frame: FrameNumber) {
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
pub(super) fn on_data(
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
            a.out.abort();
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
    a.out
        .write(t, frame, cfg.extract_dir.as_deref(), a.netascii, data);
}

/// An ACK from the data receiver. Returns true when it completes the transfer.
pub(super) fn on_ack(t: &mut Transfer, a: &mut Active, wire: u16, frame: FrameNumber) -> bool {
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
