//! Per-packet TCP analysis the way Wireshark does it (`tcp.analysis.*`), and the scaled
//! window (`tcp.window_size`).
//!
//! In: each segment's raw header numbers, its `tcp.len` and its timestamp, in capture order,
//! with the tracker of its own direction and of the opposite one. Out: typed flags
//! ([`AnalysisFlags`]), the duplicate-ACK number and frame ([`DupAck`]), and the calculated
//! window with what is known about the scale factor ([`WindowScale`]). No text: the names of
//! the flags are Wireshark's field names, for whoever prints them.
//!
//! The rules follow Wireshark 4.0.17's `tcp_analyze_sequence_number` (packet-tcp.c), in the
//! same order, because the order decides which label wins: zero-window probe, zero window, lost
//! segment, keep-alive, window update, window full, keep-alive ACK, zero-window-probe ACK,
//! duplicate ACK; then ACKed-unseen segment; then one of spurious retransmission, fast
//! retransmission, out-of-order and retransmission (the first that applies). The flags are
//! Wireshark's own; [`AnalysisFlags::fields`] gives the `tcp.analysis.*` fields tshark prints
//! for them (a fast or spurious retransmission is also a `retransmission` field). Like
//! Wireshark, the analysis uses the raw (unscaled) window fields, the segment length on the
//! wire, and only header numbers: it does not look at payload bytes.
//!
//! The corners that a plain reading gets wrong, each with a crafted capture and tshark's output
//! under `tests/refs/tcp-analysis/` (the comparison there agrees on every value):
//! - an ACK beyond bytes the other side was never seen to send is reported when the other
//!   side's "highest acknowledgeable" mark lags its highest sequence number (the mark then
//!   catches up); otherwise only when that side's duplicate-ACK count is zero (no duplicate
//!   ACK, and no earlier such report, since its ACK number last changed), and the count is
//!   then set to Wireshark's -1, which, unsigned,
//!   makes the next retransmission of the acknowledging side within 20 ms a *fast* one (a FIN
//!   re-sent while the peer keeps sending data) and makes the peer's next duplicate ACK #1;
//! - a spurious retransmission is only that (not also out-of-order or fast);
//! - a retransmitted SYN resets its side's highest sequence number to its highest
//!   acknowledgeable one; a SYN-ACK with another sequence number than the base guessed from an
//!   earlier ACK becomes the base and is flagged `reused_ports` (same stream);
//! - the receiver's window counts unscaled until it sent an ACK after its SYN (window full).

use std::time::Duration;

use crate::capture::FrameNumber;

use super::segment::Flags;
use super::seq::SeqNum;

/// Wireshark's per-packet TCP analysis flags, as a small bitset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize)]
pub struct AnalysisFlags(pub u16);

/// One analysis flag: its bit and tshark's field name (`tcp.analysis.<name>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnalysisFlag {
    /// The bit in [`AnalysisFlags`].
    pub bit: u16,
    /// tshark's field name without the `tcp.analysis.` prefix.
    pub name: &'static str,
}

impl AnalysisFlags {
    /// `tcp.analysis.retransmission`.
    pub const RETRANSMISSION: AnalysisFlags = AnalysisFlags(1);
    /// `tcp.analysis.fast_retransmission`.
    pub const FAST_RETRANSMISSION: AnalysisFlags = AnalysisFlags(1 << 1);
    /// `tcp.analysis.spurious_retransmission`.
    pub const SPURIOUS_RETRANSMISSION: AnalysisFlags = AnalysisFlags(1 << 2);
    /// `tcp.analysis.out_of_order`.
    pub const OUT_OF_ORDER: AnalysisFlags = AnalysisFlags(1 << 3);
    /// `tcp.analysis.lost_segment`: a previous segment was not captured.
    pub const LOST_SEGMENT: AnalysisFlags = AnalysisFlags(1 << 4);
    /// `tcp.analysis.ack_lost_segment`: ACKs a segment the capture did not show.
    pub const ACK_LOST_SEGMENT: AnalysisFlags = AnalysisFlags(1 << 5);
    /// `tcp.analysis.duplicate_ack`.
    pub const DUPLICATE_ACK: AnalysisFlags = AnalysisFlags(1 << 6);
    /// `tcp.analysis.zero_window`.
    pub const ZERO_WINDOW: AnalysisFlags = AnalysisFlags(1 << 7);
    /// `tcp.analysis.zero_window_probe`.
    pub const ZERO_WINDOW_PROBE: AnalysisFlags = AnalysisFlags(1 << 8);
    /// `tcp.analysis.zero_window_probe_ack`.
    pub const ZERO_WINDOW_PROBE_ACK: AnalysisFlags = AnalysisFlags(1 << 9);
    /// `tcp.analysis.window_full`.
    pub const WINDOW_FULL: AnalysisFlags = AnalysisFlags(1 << 10);
    /// `tcp.analysis.window_update`.
    pub const WINDOW_UPDATE: AnalysisFlags = AnalysisFlags(1 << 11);
    /// `tcp.analysis.keep_alive`.
    pub const KEEP_ALIVE: AnalysisFlags = AnalysisFlags(1 << 12);
    /// `tcp.analysis.keep_alive_ack`.
    pub const KEEP_ALIVE_ACK: AnalysisFlags = AnalysisFlags(1 << 13);
    /// `tcp.analysis.reused_ports`: a SYN reusing the addresses and ports of an earlier
    /// connection (it starts a new stream).
    pub const REUSED_PORTS: AnalysisFlags = AnalysisFlags(1 << 14);

    /// Every flag with its tshark name, in Wireshark's order of precedence for the Info column.
    pub const ALL: [AnalysisFlag; 15] = [
        AnalysisFlag {
            bit: 1 << 14,
            name: "reused_ports",
        },
        AnalysisFlag {
            bit: 1 << 4,
            name: "lost_segment",
        },
        AnalysisFlag {
            bit: 1 << 5,
            name: "ack_lost_segment",
        },
        AnalysisFlag {
            bit: 1 << 12,
            name: "keep_alive",
        },
        AnalysisFlag {
            bit: 1 << 13,
            name: "keep_alive_ack",
        },
        AnalysisFlag {
            bit: 1 << 6,
            name: "duplicate_ack",
        },
        AnalysisFlag {
            bit: 1 << 2,
            name: "spurious_retransmission",
        },
        AnalysisFlag {
            bit: 1 << 1,
            name: "fast_retransmission",
        },
        AnalysisFlag {
            bit: 1,
            name: "retransmission",
        },
        AnalysisFlag {
            bit: 1 << 3,
            name: "out_of_order",
        },
        AnalysisFlag {
            bit: 1 << 7,
            name: "zero_window",
        },
        AnalysisFlag {
            bit: 1 << 8,
            name: "zero_window_probe",
        },
        AnalysisFlag {
            bit: 1 << 9,
            name: "zero_window_probe_ack",
        },
        AnalysisFlag {
            bit: 1 << 10,
            name: "window_full",
        },
        AnalysisFlag {
            bit: 1 << 11,
            name: "window_update",
        },
    ];

    /// No flag set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// True when every bit of `other` is set.
    pub fn contains(self, other: AnalysisFlags) -> bool {
        self.0 & other.0 == other.0 && other.0 != 0
    }

    /// Sets the bits of `other`.
    pub fn insert(&mut self, other: AnalysisFlags) {
        self.0 |= other.0;
    }

    /// The fields tshark shows for these flags: the flags themselves, plus
    /// [`AnalysisFlags::RETRANSMISSION`] for a fast or spurious retransmission (Wireshark adds
    /// the `tcp.analysis.retransmission` expert item to both, while its Info column shows only
    /// `[TCP Fast Retransmission]` or `[TCP Spurious Retransmission]`).
    pub fn fields(self) -> AnalysisFlags {
        let family =
            AnalysisFlags::FAST_RETRANSMISSION.0 | AnalysisFlags::SPURIOUS_RETRANSMISSION.0;
        if self.0 & family != 0 {
            AnalysisFlags(self.0 | AnalysisFlags::RETRANSMISSION.0)
        } else {
            self
        }
    }

    /// True for any kind of retransmission (plain, fast or spurious): tshark's
    /// `tcp.analysis.retransmission` filter.
    pub fn is_retransmission(self) -> bool {
        self.fields().contains(AnalysisFlags::RETRANSMISSION)
    }

    /// The tshark field names of these flags ([`AnalysisFlags::fields`]: `retransmission`,
    /// `duplicate_ack`, ...), in the order of [`AnalysisFlags::ALL`].
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        let fields = self.fields();
        AnalysisFlags::ALL
            .into_iter()
            .filter(move |f| fields.0 & f.bit != 0)
            .map(|f| f.name)
    }

    /// The flag called `name` (tshark's field name without `tcp.analysis.`).
    pub fn from_name(name: &str) -> Option<AnalysisFlags> {
        AnalysisFlags::ALL
            .iter()
            .find(|f| f.name == name)
            .map(|f| AnalysisFlags(f.bit))
    }
}

/// The duplicate-ACK details of a segment flagged [`AnalysisFlags::DUPLICATE_ACK`]:
/// Wireshark's `[TCP Dup ACK <frame>#<num>]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct DupAck {
    /// How many duplicates of this ACK so far (`tcp.analysis.duplicate_ack_num`), from 1.
    pub num: u32,
    /// The frame whose ACK is being repeated (`tcp.analysis.duplicate_ack_frame`).
    pub frame: FrameNumber,
}

/// What is known about the window scale of the sender (RFC 7323 §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "shift")]
pub enum WindowScale {
    /// The handshake was not captured (or not both SYNs): the window shown is the raw field,
    /// which may be too small (tshark's scale factor -1, "unknown").
    Unknown,
    /// Both SYNs were seen and at least one had no Window Scale option: the raw field is the
    /// window (tshark's -2, "no window scaling used").
    NotUsed,
    /// Both SYNs carried the option: the window is the raw field shifted left by this much.
    Shift(u8),
}

/// RFC 7323 §2.3: a shift count above 14 is treated as 14.
const MAX_WINDOW_SHIFT: u8 = 14;

/// The window scale shift in a SYN's options, if it has a Window Scale option (kind 3).
pub fn window_scale_option(options: &[u8]) -> Option<u8> {
    let mut rest = options;
    while let Some((&kind, tail)) = rest.split_first() {
        match kind {
            0 => return None, // end of option list
            1 => rest = tail, // no-operation
            _ => {
                let (&len, _) = tail.split_first()?;
                let len = usize::from(len);
                if len < 2 {
                    return None;
                }
                let body = rest.get(2..len)?;
                if kind == 3 {
                    return body.first().map(|&s| s.min(MAX_WINDOW_SHIFT));
                }
                rest = rest.get(len..)?;
            }
        }
    }
    None
}

/// A capture timestamp as nanoseconds since the Unix epoch: half the size of a `Duration`, and
/// exact until the year 2554 (later timestamps saturate).
pub(super) fn nanos(ts: Duration) -> u64 {
    u64::try_from(ts.as_nanos()).unwrap_or(u64::MAX)
}

/// Wireshark's state of one direction (its `tcp_flow_t` and `tcp_analyze_seq_flow_info_t`),
/// raw sequence numbers included, in 48 bytes (times as nanoseconds, the window as the raw
/// 16-bit field).
#[derive(Debug, Clone, Copy)]
pub(super) struct FlowTrack {
    /// Time of the segment that set `nextseq` (ns since the epoch).
    nextseq_time: u64,
    /// Time of the last segment sent this way (ns since the epoch).
    lastack_time: u64,
    lastnondupack: FrameNumber,
    /// Highest `seq + len (+ SYN/FIN)` seen; Wireshark treats 0 as "not yet", and so do we,
    /// to agree with it.
    nextseq: u32,
    /// Highest contiguous sequence number that may be acknowledged.
    maxseqtobeacked: u32,
    /// Last acknowledgment number sent this way (0 = none yet, as in Wireshark).
    lastack: u32,
    /// Duplicate ACKs sent this way since the ACK number last changed; [`ACK_UNSEEN`] after
    /// the other side acknowledged unseen bytes while this side had nothing new (Wireshark's
    /// `dupacknum`, an unsigned field set to -1 there).
    dupacknum: u32,
    /// Last raw window sent this way (0 before any, as in Wireshark).
    window: u16,
    lastsegmentflags: AnalysisFlags,
    /// -1 unknown, -2 not used, else the shift (Wireshark's `win_scale`).
    win_scale: i8,
    /// This side sent a SYN and no segment with ACK (and without SYN) since: its window is
    /// still the unscaled one of its SYN (Wireshark's `is_first_ack`, issue 14690).
    is_first_ack: bool,
}

impl Default for FlowTrack {
    fn default() -> FlowTrack {
        FlowTrack {
            nextseq_time: 0,
            lastack_time: 0,
            lastnondupack: FrameNumber(0),
            nextseq: 0,
            maxseqtobeacked: 0,
            lastack: 0,
            dupacknum: 0,
            window: 0,
            lastsegmentflags: AnalysisFlags::default(),
            win_scale: -1,
            is_first_ack: false,
        }
    }
}

impl FlowTrack {
    /// What is known about this direction's window scale.
    pub(super) fn window_scale(&self) -> WindowScale {
        match self.win_scale {
            s if s >= 0 => WindowScale::Shift(s as u8),
            -2 => WindowScale::NotUsed,
            _ => WindowScale::Unknown,
        }
    }

    /// The window as Wireshark calculates it (`tcp.window_size`) for a segment with raw
    /// window `raw`: SYNs are never scaled; an unknown scale leaves the raw value.
    pub(super) fn calculated_window(&self, raw: u16, syn: bool) -> u32 {
        match self.win_scale {
            s if s >= 0 && !syn => u32::from(raw) << s,
            _ => u32::from(raw),
        }
    }
}

/// Connection-wide analysis state: the first RTT (used as the out-of-order threshold).
#[derive(Debug, Clone, Copy)]
pub(super) struct ConnTrack {
    /// Time of the most recent SYN (without ACK), ns since the epoch; `NONE` before any.
    ts_mru_syn: u64,
    /// SYN to the first pure ACK (Wireshark's `ts_first_rtt`) in ns; 0 = not measured (a zero
    /// RTT is not kept either).
    ts_first_rtt: u64,
}

impl ConnTrack {
    const NONE: u64 = u64::MAX;
}

impl Default for ConnTrack {
    fn default() -> ConnTrack {
        ConnTrack {
            ts_mru_syn: ConnTrack::NONE,
            ts_first_rtt: 0,
        }
    }
}

/// The header numbers of one segment the analysis looks at.
#[derive(Debug, Clone, Copy)]
pub(super) struct SegHeader {
    pub(super) frame: FrameNumber,
    pub(super) ts: Duration,
    pub(super) seq: u32,
    pub(super) ack: u32,
    pub(super) flags: Flags,
    pub(super) window: u16,
    /// `tcp.len`: payload length on the wire.
    pub(super) seglen: u32,
    /// Shift of a Window Scale option (SYN segments only).
    pub(super) ws_option: Option<u8>,
    /// A SYN (without ACK) whose sequence number is the base already known for its side: a
    /// retransmitted SYN, after which Wireshark resets the side's highest sequence number to
    /// its highest acknowledgeable one (packet-tcp.c, on the conversation lookup).
    pub(super) syn_repeats_base: bool,
    /// False when the header was cut before its options: Wireshark then learns nothing about
    /// the window scale from this SYN.
    pub(super) options_captured: bool,
}

/// What the analysis says about one segment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Verdict {
    pub(super) flags: AnalysisFlags,
    pub(super) dup_ack: Option<DupAck>,
}

fn lt(a: u32, b: u32) -> bool {
    SeqNum(a).is_before(SeqNum(b))
}

fn gt(a: u32, b: u32) -> bool {
    SeqNum(a).is_after(SeqNum(b))
}

fn le(a: u32, b: u32) -> bool {
    SeqNum(a).is_before_or_eq(SeqNum(b))
}

/// Wireshark's `dupacknum = -1` (in an unsigned field): "an ACK beyond the unseen bytes was
/// already reported". It reads as more than two duplicate ACKs in the fast-retransmission test,
/// and a duplicate ACK turns it into 1.
const ACK_UNSEEN: u32 = u32::MAX;

/// 20 ms (in ns): a retransmission this soon after the second duplicate ACK is a fast one.
const FAST_RETRANSMISSION_WINDOW: u64 = 20_000_000;
/// 3 ms (in ns): the out-of-order threshold when no RTT was measured.
const DEFAULT_OOO_THRESHOLD: u64 = 3_000_000;

/// Analyses one segment travelling `fwd`-wards; updates both trackers.
pub(super) fn analyze(
    fwd: &mut FlowTrack,
    rev: &mut FlowTrack,
    conn: &mut ConnTrack,
    h: &SegHeader,
) -> Verdict {
    let mut v = Verdict::default();
    let f = h.flags;
    let (seq, ack, seglen) = (h.seq, h.ack, h.seglen);
    let window = h.window;
    let ts = nanos(h.ts);
    let syn_fin_rst = f.syn || f.fin || f.rst;
    if h.syn_repeats_base {
        fwd.nextseq = fwd.maxseqtobeacked;
    }

    'fwd: {
        // Zero-window probe: one byte at the next expected sequence number while the other
        // side advertises a zero window.
        if seglen == 1 && seq == fwd.nextseq && rev.window == 0 {
            v.flags.insert(AnalysisFlags::ZERO_WINDOW_PROBE);
            break 'fwd;
        }
        if window == 0 && !syn_fin_rst {
            v.flags.insert(AnalysisFlags::ZERO_WINDOW);
        }
        // Lost segment: this one starts beyond everything seen so far.
        if fwd.nextseq != 0 && gt(seq, fwd.nextseq) && !f.rst {
            v.flags.insert(AnalysisFlags::LOST_SEGMENT);
        }
        // Keep-alive: 0 or 1 byte, one before the next expected sequence number.
        if seglen <= 1 && seq == fwd.nextseq.wrapping_sub(1) && !syn_fin_rst {
            v.flags.insert(AnalysisFlags::KEEP_ALIVE);
        }
        let same_numbers = seglen == 0 && seq == fwd.nextseq && ack == fwd.lastack && !syn_fin_rst;
        if same_numbers && window != 0 && window != fwd.window {
            v.flags.insert(AnalysisFlags::WINDOW_UPDATE);
        }
        // Window full: the data reaches the right edge of the receiver's advertised window.
        // The receiver's window is unscaled until it sent its first ACK after its SYN.
        if seglen > 0 && rev.win_scale != -1 && !syn_fin_rst {
            let shift = if rev.win_scale >= 0 && !rev.is_first_ack {
                rev.win_scale as u32
            } else {
                0
            };
            let edge = rev
                .lastack
                .wrapping_add(u32::from(rev.window).wrapping_shl(shift));
            if seq.wrapping_add(seglen) == edge {
                v.flags.insert(AnalysisFlags::WINDOW_FULL);
            }
        }
        if same_numbers
            && window != 0
            && window == fwd.window
            && rev.lastsegmentflags.contains(AnalysisFlags::KEEP_ALIVE)
        {
            v.flags.insert(AnalysisFlags::KEEP_ALIVE_ACK);
            break 'fwd;
        }
        if same_numbers
            && window == 0
            && fwd.window == 0
            && rev
                .lastsegmentflags
                .contains(AnalysisFlags::ZERO_WINDOW_PROBE)
        {
            v.flags.insert(AnalysisFlags::ZERO_WINDOW_PROBE_ACK);
            break 'fwd;
        }
        if same_numbers && window != 0 && window == fwd.window {
            fwd.dupacknum = match fwd.dupacknum {
                ACK_UNSEEN => 1,
                n => n.wrapping_add(1),
            };
            v.flags.insert(AnalysisFlags::DUPLICATE_ACK);
            v.dup_ack = Some(DupAck {
                num: fwd.dupacknum,
                frame: fwd.lastnondupack,
            });
        }
    }

    if ack != fwd.lastack {
        fwd.lastnondupack = h.frame;
        fwd.dupacknum = 0;
    }

    // ACKed unseen segment: acknowledges beyond what the other side was seen to send. Once
    // the mark has caught up with the other side's highest sequence number, it is reported
    // again only after that side sent a duplicate ACK or a new ACK number (Wireshark 4.0:
    // one report per lost segment while the other side sends only pure ACKs).
    if rev.maxseqtobeacked != 0 && gt(ack, rev.maxseqtobeacked) && f.ack {
        if lt(rev.maxseqtobeacked, rev.nextseq) {
            rev.maxseqtobeacked = rev.nextseq;
            v.flags.insert(AnalysisFlags::ACK_LOST_SEGMENT);
        } else {
            if rev.dupacknum == 0 {
                v.flags.insert(AnalysisFlags::ACK_LOST_SEGMENT);
            }
            rev.dupacknum = ACK_UNSEEN;
        }
    }

    // Retransmission family: the segment carries data (or SYN/FIN) and does not advance.
    if (seglen > 0 || f.syn || f.fin) && !v.flags.contains(AnalysisFlags::KEEP_ALIVE) {
        let mut not_advanced = fwd.nextseq != 0 && lt(seq, fwd.nextseq);
        // One byte less than nextseq with more than one byte: after a zero-window probe.
        if seglen > 1 && fwd.nextseq.wrapping_sub(1) == seq {
            not_advanced = false;
        }
        // Wireshark subtracts timestamps into an unsigned number: a segment stamped before the
        // reference (captures merged from several interfaces) counts as "long after".
        let since_ack = ts.checked_sub(rev.lastack_time).unwrap_or(u64::MAX);
        let since_next = ts.checked_sub(fwd.nextseq_time).unwrap_or(u64::MAX);
        let ooo_threshold = match conn.ts_first_rtt {
            0 => DEFAULT_OOO_THRESHOLD,
            rtt => rtt,
        };
        let syn_fin = u32::from(f.syn || f.fin);
        // Spurious: everything in it was already acknowledged (whether or not it advances).
        if seglen > 0 && rev.lastack != 0 && le(seq.wrapping_add(seglen), rev.lastack) {
            v.flags.insert(AnalysisFlags::SPURIOUS_RETRANSMISSION);
        } else if not_advanced
            && rev.dupacknum >= 2
            && rev.lastack == seq
            && since_ack < FAST_RETRANSMISSION_WINDOW
        {
            v.flags.insert(AnalysisFlags::FAST_RETRANSMISSION);
        } else if not_advanced
            && since_next < ooo_threshold
            && fwd.nextseq != seq.wrapping_add(seglen).wrapping_add(syn_fin)
        {
            v.flags.insert(AnalysisFlags::OUT_OF_ORDER);
        } else if not_advanced {
            v.flags.insert(AnalysisFlags::RETRANSMISSION);
        }
    }

    // Remember the highest sequence number (zero-window probes do not advance it).
    let mut nextseq = seq.wrapping_add(seglen);
    if f.syn || f.fin {
        nextseq = nextseq.wrapping_add(1);
    }
    let probe = v.flags.contains(AnalysisFlags::ZERO_WINDOW_PROBE);
    if (gt(nextseq, fwd.nextseq) || fwd.nextseq == 0) && !probe {
        fwd.nextseq = nextseq;
        fwd.nextseq_time = ts;
    }
    if (seq == fwd.maxseqtobeacked || fwd.maxseqtobeacked == 0) && !probe {
        fwd.maxseqtobeacked = fwd.nextseq;
    }
    fwd.window = window;
    fwd.lastack = ack;
    fwd.lastack_time = ts;
    fwd.lastsegmentflags = v.flags;

    // Window scale: Wireshark reads the option after the analysis of the SYN itself.
    if f.syn && h.options_captured {
        if let Some(shift) = h.ws_option {
            fwd.win_scale = shift as i8;
        }
        if fwd.win_scale == -1 {
            // This side did not offer scaling: nobody scales.
            fwd.win_scale = -2;
            rev.win_scale = -2;
        } else if f.ack && rev.win_scale == -2 {
            fwd.win_scale = -2;
        }
    }
    if f.syn && !f.ack {
        conn.ts_mru_syn = ts;
    }
    if f.syn {
        fwd.is_first_ack = true;
    } else if f.ack {
        fwd.is_first_ack = false;
    }
    if f.ack && !f.syn && conn.ts_first_rtt == 0 && conn.ts_mru_syn != ConnTrack::NONE {
        conn.ts_first_rtt = ts.saturating_sub(conn.ts_mru_syn);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_scale_option_is_found_among_others() {
        // MSS 1460, SACK permitted, timestamps, NOP, window scale 7.
        let opts = [
            2, 4, 0x05, 0xb4, // MSS
            4, 2, // SACK permitted
            8, 10, 0, 0, 0, 1, 0, 0, 0, 0, // timestamps
            1, // NOP
            3, 3, 7, // window scale 7
        ];
        assert_eq!(window_scale_option(&opts), Some(7));
        assert_eq!(window_scale_option(&[3, 3, 20]), Some(14), "RFC 7323 §2.3");
        assert_eq!(window_scale_option(&[2, 4, 5, 180]), None);
        assert_eq!(
            window_scale_option(&[0, 3, 3, 7]),
            None,
            "after end of list"
        );
        for n in 0..opts.len() {
            // No panic on any prefix; the option is found only when whole.
            let got = window_scale_option(&opts[..n]);
            assert!(got.is_none() || n == opts.len());
        }
        assert_eq!(window_scale_option(&[3, 0, 7]), None, "bad length");
        assert_eq!(window_scale_option(&[3, 1]), None);
    }

    #[test]
    fn flag_names_are_tsharks() {
        let f = AnalysisFlags(
            AnalysisFlags::DUPLICATE_ACK.0
                | AnalysisFlags::ZERO_WINDOW.0
                | AnalysisFlags::KEEP_ALIVE.0,
        );
        assert_eq!(
            f.names().collect::<Vec<_>>(),
            vec!["keep_alive", "duplicate_ack", "zero_window"]
        );
        for flag in AnalysisFlags::ALL {
            assert_eq!(
                AnalysisFlags::from_name(flag.name),
                Some(AnalysisFlags(flag.bit))
            );
        }
        let all = AnalysisFlags::ALL.iter().fold(0u16, |a, f| {
            assert_eq!(a & f.bit, 0, "bits are distinct");
            a | f.bit
        });
        assert_eq!(all.count_ones(), 15);
    }
}
