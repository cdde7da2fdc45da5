//! `Defragmenter`: IPv4 and IPv6 fragments → whole datagrams, bounded in memory and expired by
//! capture time.
//!
//! Policy:
//! - fragments may come in any order, duplicated or overlapping; the first copy of a byte wins
//!   and a later copy with different bytes marks the datagram as conflicting (an analyzer flags
//!   what a host would drop: RFC 5722 has IPv6 hosts discard overlapping fragments);
//! - a datagram is complete when the last fragment (More Fragments clear) fixed its length and
//!   every byte before it arrived;
//! - a datagram is dropped, with a reason, when its fragments disagree on its length, when it
//!   would pass 65,535 payload bytes or the fragment cap, when a fragment was cut by snaplen,
//!   when its timer runs out (counted from its first fragment, like Linux's `ipfrag_time`), and
//!   when the memory budget is reached and it is the oldest. Dropped datagrams name their frames.
//!
//! Bookkeeping per fragment: a hash lookup, O(log n) updates of the covered ranges and of the age
//! index, plus copying and comparing the fragment's own bytes.

use std::collections::{BTreeMap, VecDeque};

use foldhash::{HashMap, HashMapExt};
use std::net::IpAddr;
use std::time::Duration;

use etherparse::IpNumber;
use serde::Serialize;

use super::fragment::{Fragment, Key};
use crate::capture::FrameNumber;

/// Default reassembly timeout: Linux's `net.ipv4.ipfrag_time` (30 s). RFC 791 suggests 15 s as
/// a lower bound, RFC 8200 §4.5 uses 60 s for IPv6.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest reassembled payload: 65,535 bytes (the 16-bit length fields of RFC 791 §3.1 and
/// RFC 8200 §4.5).
pub const MAX_PAYLOAD_LEN: usize = 65_535;
/// Default cap on fragments per datagram: enough for 65,535 bytes over a 576-byte MTU.
pub const DEFAULT_MAX_FRAGMENTS: usize = 128;
/// Default memory budget for datagrams being reassembled: Linux's `ipfrag_high_thresh` (4 MiB).
pub const DEFAULT_BUDGET_BYTES: usize = 4 * 1024 * 1024;

/// Dropped datagrams kept for [`Defragmenter::drain_dropped`]; past this only counters grow.
const DROPPED_QUEUE_CAP: usize = 1024;
/// Data buffers of finished datagrams kept for reuse (outside the budget: at most 4 × 128 KiB).
const SPARE_BUFFERS: usize = 4;
/// Bytes charged per datagram for the map entry, the age index and the bookkeeping.
const ENTRY_COST: usize = 256;
/// Bytes charged per covered range.
const RANGE_COST: usize = 48;

/// Limits of a [`Defragmenter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// A datagram still incomplete this long after its first fragment (capture time) is dropped.
    pub timeout: Duration,
    /// Largest reassembled payload in bytes (at most [`MAX_PAYLOAD_LEN`]).
    pub max_payload_len: usize,
    /// Most fragments (duplicates included) one datagram may have.
    pub max_fragments: usize,
    /// Memory for all datagrams being reassembled; at the limit the oldest is dropped.
    pub budget_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            timeout: DEFAULT_TIMEOUT,
            max_payload_len: MAX_PAYLOAD_LEN,
            max_fragments: DEFAULT_MAX_FRAGMENTS,
            budget_bytes: DEFAULT_BUDGET_BYTES,
        }
    }
}

/// Why a datagram was given up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    /// Its timeout passed before every fragment arrived.
    Expired,
    /// The memory budget was reached and it was the oldest datagram.
    Evicted,
    /// A fragment ends past the largest payload (RFC 8200 §4.5; the "ping of death").
    TooLarge,
    /// It had more fragments than the cap.
    TooManyFragments,
    /// Its fragments disagree on its length: two different last fragments, or bytes past the
    /// last fragment's end.
    InconsistentLength,
    /// A fragment was cut by the capture's snaplen, so its bytes are not all there.
    Cut,
    /// The capture ended before it was complete.
    EndOfCapture,
}

/// What a [`Defragmenter`] has done so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counters {
    /// Fragments pushed.
    pub fragments: u64,
    /// Datagrams reassembled.
    pub completed: u64,
    /// Reassembled datagrams that had overlapping fragments (duplicates included).
    pub overlapping: u64,
    /// Reassembled datagrams whose overlapping fragments carried different bytes.
    pub conflicting: u64,
    /// Datagrams dropped: timeout.
    pub expired: u64,
    /// Datagrams dropped: memory budget.
    pub evicted: u64,
    /// Datagrams dropped: too large.
    pub too_large: u64,
    /// Datagrams dropped: too many fragments.
    pub too_many_fragments: u64,
    /// Datagrams dropped: inconsistent length.
    pub inconsistent_length: u64,
    /// Datagrams dropped: a fragment cut by snaplen.
    pub cut: u64,
    /// Datagrams still incomplete at the end of the capture.
    pub end_of_capture: u64,
}

impl Counters {
    /// All dropped datagrams, whatever the reason.
    pub fn dropped(&self) -> u64 {
        self.expired
            + self.evicted
            + self.too_large
            + self.too_many_fragments
            + self.inconsistent_length
            + self.cut
            + self.end_of_capture
    }

    fn count(&mut self, reason: DropReason) {
        let c = match reason {
            DropReason::Expired => &mut self.expired,
            DropReason::Evicted => &mut self.evicted,
            DropReason::TooLarge => &mut self.too_large,
            DropReason::TooManyFragments => &mut self.too_many_fragments,
            DropReason::InconsistentLength => &mut self.inconsistent_length,
            DropReason::Cut => &mut self.cut,
            DropReason::EndOfCapture => &mut self.end_of_capture,
        };
        *c += 1;
    }
}

/// A reassembled datagram. Its bytes and frame list borrow the defragmenter until its next call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Datagram<'d> {
    /// Addresses and identification.
    pub key: Key,
    /// Protocol of the payload (IPv6: the Next Header of the offset-0 fragment).
    pub protocol: IpNumber,
    /// The reassembled payload: for IPv4 the transport header and data, for IPv6 the
    /// fragmentable part (extension headers that followed the Fragment header, then transport).
    pub payload: &'d [u8],
    /// The frames the fragments came from, in fragment-offset order (Wireshark's
    /// `ip.fragment` / `ipv6.fragment`); duplicates are listed too.
    pub frames: &'d [FrameNumber],
    /// The frame whose fragment completed the datagram (Wireshark's `ip.reassembled_in`).
    pub reassembled_in: FrameNumber,
    /// Some fragments overlapped (duplicates included).
    pub overlap: bool,
    /// Overlapping fragments carried different bytes; the first copy was kept
    /// (Wireshark's `ip.fragment.overlap.conflict`).
    pub conflict: bool,
    /// Capture time of the first fragment that arrived.
    pub first_seen: Duration,
}

impl Datagram<'_> {
    /// The source address.
    pub fn src(&self) -> IpAddr {
        self.key.src()
    }

    /// The destination address.
    pub fn dst(&self) -> IpAddr {
        self.key.dst()
    }
}

/// What pushing one fragment did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Push<'d> {
    /// Kept; the datagram is not complete yet.
    Pending,
    /// The fragment completed this datagram.
    Complete(Datagram<'d>),
    /// The fragment's datagram was given up (see [`Defragmenter::drain_dropped`] for its frames).
    Dropped(DropReason),
}

/// A datagram that was given up, with the frames of the fragments that did arrive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dropped {
    /// Addresses and identification.
    pub key: Key,
    /// Why it was given up.
    pub reason: DropReason,
    /// Protocol of the payload, when a fragment that names it arrived.
    pub protocol: Option<IpNumber>,
    /// Frames of its fragments, in fragment-offset order.
    pub frames: Vec<FrameNumber>,
    /// Distinct payload bytes that arrived.
    pub bytes_received: usize,
    /// Capture time of the first fragment.
    pub first_seen: Duration,
}

/// One fragment as remembered: where it went and which frame brought it.
#[derive(Debug, Clone, Copy)]
struct Piece {
    offset: u32,
    frame: FrameNumber,
}

/// A datagram being reassembled.
#[derive(Debug)]
struct Entry {
    /// Position in the age index: (first fragment's time, arrival sequence).
    age: (Duration, u64),
    protocol: Option<IpNumber>,
    /// Payload length, once the last fragment arrived.
    total: Option<usize>,
    /// Largest fragment end seen.
    max_end: usize,
    /// Payload bytes; those outside `covered` are zero.
    data: Vec<u8>,
    /// Byte ranges received, merged: start → end.
    covered: BTreeMap<usize, usize>,
    pieces: Vec<Piece>,
    overlap: bool,
    conflict: bool,
    /// Bytes charged to the budget.
    cost: usize,
}

impl Entry {
    fn cost_now(&self) -> usize {
        ENTRY_COST
            + self.data.capacity()
            + self.pieces.capacity() * std::mem::size_of::<Piece>()
            + self.covered.len() * RANGE_COST
    }

    fn is_complete(&self) -> bool {
        match self.total {
            None => false,
            Some(_) if self.protocol.is_none() => false,
            Some(0) => true,
            Some(total) => {
                self.covered.len() == 1 && self.covered.first_key_value() == Some((&0, &total))
            }
        }
    }

    fn bytes_received(&self) -> usize {
        self.covered.iter().map(|(s, e)| e - s).sum()
    }

    /// Stores `bytes` at `start`: bytes no earlier fragment supplied are copied, the others are
    /// compared (first copy wins).
    fn insert(&mut self, start: usize, bytes: &[u8]) {
        let end = start + bytes.len();
        if bytes.is_empty() {
            return;
        }
        let (mut merged_start, mut merged_end) = (start, end);
        // The range that starts before `start` and reaches it, if any; then every range that
        // starts within [start, end] touches or overlaps the new bytes.
        let from = self
            .covered
            .range(..=start)
            .next_back()
            .filter(|(_, e)| **e >= start)
            .map_or(start, |(s, _)| *s);
        let mut cursor = start;
        while let Some((&s, &e)) = self.covered.range(from..=end).next() {
            self.covered.remove(&s);
            if s > cursor {
                self.copy(start, bytes, cursor, s);
            }
            let (a, b) = (s.max(start), e.min(end));
            if a < b {
                self.overlap = true;
                if self.data.get(a..b) != bytes.get(a - start..b - start) {
                    self.conflict = true;
                }
            }
            cursor = cursor.max(e);
            merged_start = merged_start.min(s);
            merged_end = merged_end.max(e);
        }
        if cursor < end {
            self.copy(start, bytes, cursor, end);
        }
        self.covered.insert(merged_start, merged_end);
    }

    /// Copies `bytes[from - start .. to - start]` to `data[from..to]`.
    fn copy(&mut self, start: usize, bytes: &[u8], from: usize, to: usize) {
        if let (Some(dst), Some(src)) = (
            self.data.get_mut(from..to),
            bytes.get(from - start..to - start),
        ) {
            dst.copy_from_slice(src);
        }
    }

    /// The frames, sorted by fragment offset (then by frame for equal offsets).
    fn sort_pieces(&mut self) {
        self.pieces.sort_unstable_by_key(|p| (p.offset, p.frame));
    }
}

/// Reassembles IPv4 and IPv6 fragments into datagrams.
///
/// ```
/// use std::time::Duration;
/// use pcaplab::capture::FrameNumber;
/// use pcaplab::flow::ip::{Defragmenter, Fragment, Limits, Push};
///
/// // Two IPv4 fragments of one UDP datagram (id 7): bytes 0..8 and 8..12.
/// let first = [
///     0x45, 0, 0, 28, 0, 7, 0x20, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
///     0x30, 0x39, 0x00, 0x45, 0, 12, 0, 0,
/// ];
/// let last = [
///     0x45, 0, 0, 24, 0, 7, 0x00, 1, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, b'h', b'i', b'!', b'\n',
/// ];
/// let mut defrag = Defragmenter::new(Limits::default());
/// let ts = Duration::from_secs(1);
/// let f = Fragment::from_ip(&last).unwrap();
/// assert!(matches!(defrag.push(FrameNumber(1), ts, &f), Push::Pending));
/// let f = Fragment::from_ip(&first).unwrap();
/// let Push::Complete(d) = defrag.push(FrameNumber(2), ts, &f) else { panic!() };
/// assert_eq!(d.payload.len(), 12);
/// assert_eq!(d.frames, &[FrameNumber(2), FrameNumber(1)]);
/// ```
#[derive(Debug)]
pub struct Defragmenter {
    limits: Limits,
    pending: HashMap<Key, Entry>,
    /// Datagrams by age: (first fragment's time, arrival sequence) → key.
    by_age: BTreeMap<(Duration, u64), Key>,
    next_seq: u64,
    /// Bytes charged to the budget by pending datagrams.
    buffered: usize,
    counters: Counters,
    dropped: VecDeque<Dropped>,
    /// The last completed datagram's payload and frames (what `Push::Complete` borrows).
    out_data: Vec<u8>,
    out_frames: Vec<FrameNumber>,
    spare: Vec<Vec<u8>>,
}

impl Default for Defragmenter {
    fn default() -> Defragmenter {
        Defragmenter::new(Limits::default())
    }
}

impl Defragmenter {
    /// An empty defragmenter with these limits (`max_payload_len` is capped at 65,535).
    pub fn new(limits: Limits) -> Defragmenter {
        Defragmenter {
            limits: Limits {
                max_payload_len: limits.max_payload_len.min(MAX_PAYLOAD_LEN),
                ..limits
            },
            pending: HashMap::new(),
            by_age: BTreeMap::new(),
            next_seq: 0,
            buffered: 0,
            counters: Counters::default(),
            dropped: VecDeque::new(),
            out_data: Vec::new(),
            out_frames: Vec::new(),
            spare: Vec::new(),
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// What has been done so far.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Datagrams waiting for more fragments.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Bytes charged to the budget by the datagrams waiting for more fragments.
    pub fn buffered_bytes(&self) -> usize {
        self.buffered
    }

    /// Adds the fragment that frame `frame`, captured at `ts`, carried. First drops the
    /// datagrams whose timeout passed at `ts` (see [`Defragmenter::expire`]).
    pub fn push(&mut self, frame: FrameNumber, ts: Duration, frag: &Fragment<'_>) -> Push<'_> {
        self.expire(ts);
        self.counters.fragments += 1;
        let key = frag.key;
        let piece = Piece {
            offset: frag.offset,
            frame,
        };
        let start = frag.offset as usize;
        let end = frag.end();
        if frag.is_cut() {
            return self.reject(key, piece, ts, DropReason::Cut);
        }
        if end > self.limits.max_payload_len {
            return self.reject(key, piece, ts, DropReason::TooLarge);
        }
        let entry = match self.pending.entry(key) {
            std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => {
                let age = (ts, self.next_seq);
                self.next_seq += 1;
                self.by_age.insert(age, key);
                let mut data = self.spare.pop().unwrap_or_default();
                data.clear();
                let entry = Entry {
                    age,
                    protocol: match key {
                        Key::V4 { protocol, .. } => Some(protocol),
                        Key::V6 { .. } => None,
                    },
                    total: None,
                    max_end: 0,
                    data,
                    covered: BTreeMap::new(),
                    pieces: Vec::new(),
                    overlap: false,
                    conflict: false,
                    cost: 0,
                };
                v.insert(entry)
            }
        };
        entry.pieces.push(piece);
        if entry.pieces.len() > self.limits.max_fragments {
            return self.drop_now(key, DropReason::TooManyFragments);
        }
        // RFC 8200 §4.5 and Linux's ip_frag_queue: a second, different end or bytes past the
        // end make the length unknowable.
        let inconsistent = if frag.more_fragments {
            entry.total.is_some_and(|total| end > total)
        } else {
            entry.total.is_some_and(|total| total != end) || end < entry.max_end
        };
        if inconsistent {
            return self.drop_now(key, DropReason::InconsistentLength);
        }
        if !frag.more_fragments {
            entry.total = Some(end);
        }
        entry.max_end = entry.max_end.max(end);
        if start == 0 && entry.protocol.is_none() {
            // RFC 8200 §4.5: only the offset-0 fragment's Next Header counts.
            entry.protocol = Some(frag.protocol);
        }
        if entry.data.len() < end {
            entry.data.resize(end, 0);
        }
        entry.insert(start, frag.payload);
        let cost = entry.cost_now();
        self.buffered = self.buffered - entry.cost + cost;
        entry.cost = cost;
        if entry.is_complete() {
            return self.complete(key, frame);
        }
        if !self.enforce_budget(&key) {
            return Push::Dropped(DropReason::Evicted);
        }
        Push::Pending
    }

    /// Drops the datagrams whose timeout passed at capture time `now`; returns how many.
    pub fn expire(&mut self, now: Duration) -> usize {
        let mut n = 0;
        while let Some((&(first, _), &key)) = self.by_age.first_key_value() {
            if now.saturating_sub(first) <= self.limits.timeout {
                break;
            }
            self.drop_entry(&key, DropReason::Expired);
            n += 1;
        }
        n
    }

    /// Ends the capture: every datagram still waiting is dropped as [`DropReason::EndOfCapture`].
    pub fn finish(&mut self) {
        while let Some((_, &key)) = self.by_age.first_key_value() {
            self.drop_entry(&key, DropReason::EndOfCapture);
        }
    }

    /// Hands out the dropped datagrams recorded since the last call (oldest first). At most
    /// 1,024 are kept between calls; past that only the counters grow.
    pub fn drain_dropped(&mut self) -> std::collections::vec_deque::Drain<'_, Dropped> {
        self.dropped.drain(..)
    }

    /// Drops the datagram of a fragment that cannot be stored, with the fragment's frame.
    fn reject(&mut self, key: Key, piece: Piece, ts: Duration, reason: DropReason) -> Push<'_> {
        if let Some(entry) = self.pending.get_mut(&key) {
            entry.pieces.push(piece);
            return self.drop_now(key, reason);
        }
        self.counters.count(reason);
        if self.dropped.len() < DROPPED_QUEUE_CAP {
            self.dropped.push_back(Dropped {
                key,
                reason,
                protocol: match key {
                    Key::V4 { protocol, .. } => Some(protocol),
                    Key::V6 { .. } => None,
                },
                frames: vec![piece.frame],
                bytes_received: 0,
                first_seen: ts,
            });
        }
        Push::Dropped(reason)
    }

    fn drop_now(&mut self, key: Key, reason: DropReason) -> Push<'_> {
        self.drop_entry(&key, reason);
        Push::Dropped(reason)
    }

    /// Removes a pending datagram and records why.
    fn drop_entry(&mut self, key: &Key, reason: DropReason) {
        let Some(mut entry) = self.pending.remove(key) else {
            return;
        };
        self.by_age.remove(&entry.age);
        self.buffered -= entry.cost;
        self.counters.count(reason);
        if self.dropped.len() < DROPPED_QUEUE_CAP {
            entry.sort_pieces();
            self.dropped.push_back(Dropped {
                key: *key,
                reason,
                protocol: entry.protocol,
                frames: entry.pieces.iter().map(|p| p.frame).collect(),
                bytes_received: entry.bytes_received(),
                first_seen: entry.age.0,
            });
        }
        self.recycle(entry.data);
    }

    /// Drops the oldest datagrams until the budget holds; false when `current` was one of them.
    fn enforce_budget(&mut self, current: &Key) -> bool {
        let mut kept = true;
        while self.buffered > self.limits.budget_bytes {
            let Some((_, &oldest)) = self.by_age.first_key_value() else {
                break;
            };
            kept &= oldest != *current;
            self.drop_entry(&oldest, DropReason::Evicted);
        }
        kept
    }

    /// Moves a complete datagram out of the pending set into the output buffers.
    fn complete(&mut self, key: Key, frame: FrameNumber) -> Push<'_> {
        let Some(mut entry) = self.pending.remove(&key) else {
            return Push::Pending;
        };
        self.by_age.remove(&entry.age);
        self.buffered -= entry.cost;
        self.counters.completed += 1;
        self.counters.overlapping += u64::from(entry.overlap);
        self.counters.conflicting += u64::from(entry.conflict);
        entry.sort_pieces();
        self.out_frames.clear();
        self.out_frames.extend(entry.pieces.iter().map(|p| p.frame));
        let total = entry.total.unwrap_or(0);
        entry.data.truncate(total);
        let previous = std::mem::replace(&mut self.out_data, entry.data);
        self.recycle(previous);
        Push::Complete(Datagram {
            key,
            protocol: entry.protocol.unwrap_or(IpNumber(0)),
            payload: &self.out_data,
            frames: &self.out_frames,
            reassembled_in: frame,
            overlap: entry.overlap,
            conflict: entry.conflict,
            first_seen: entry.age.0,
        })
    }

    fn recycle(&mut self, mut data: Vec<u8>) {
        if self.spare.len() < SPARE_BUFFERS {
            data.clear();
            self.spare.push(data);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use proptest::prelude::*;

    use super::*;

    const V4: Key = Key::V4 {
        src: Ipv4Addr::new(192, 0, 2, 1),
        dst: Ipv4Addr::new(198, 51, 100, 2),
        protocol: IpNumber::UDP,
        id: 0x1234,
    };

    fn v4(id: u16, protocol: IpNumber) -> Key {
        Key::V4 {
            src: Ipv4Addr::new(192, 0, 2, 1),
            dst: Ipv4Addr::new(198, 51, 100, 2),
            protocol,
            id,
        }
    }

    fn v6(id: u32) -> Key {
        Key::V6 {
            src: Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1),
            dst: Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2),
            id,
        }
    }

    /// The bytes of a test datagram: position modulo 251.
    fn data(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i % 251) as u8).collect()
    }

    fn frag(key: Key, offset: usize, bytes: &[u8], more: bool) -> Fragment<'_> {
        Fragment {
            key,
            protocol: IpNumber::UDP,
            offset: offset as u32,
            more_fragments: more,
            payload: bytes,
            wire_len: bytes.len(),
        }
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn frames(list: &[u64]) -> Vec<FrameNumber> {
        list.iter().map(|&n| FrameNumber(n)).collect()
    }

    /// Pushes (frame, offset, end, more) cuts of `d`; returns the payload and frames of the
    /// datagram the last push completed.
    fn run(
        defrag: &mut Defragmenter,
        d: &[u8],
        cuts: &[(u64, usize, usize, bool)],
    ) -> Option<(Vec<u8>, Vec<FrameNumber>, bool, bool)> {
        let mut out = None;
        for (i, &(frame, s, e, more)) in cuts.iter().enumerate() {
            let f = frag(V4, s, &d[s..e], more);
            match defrag.push(FrameNumber(frame), secs(1), &f) {
                Push::Complete(dg) => {
                    assert_eq!(i, cuts.len() - 1, "completed early");
                    out = Some((
                        dg.payload.to_vec(),
                        dg.frames.to_vec(),
                        dg.overlap,
                        dg.conflict,
                    ));
                }
                Push::Pending => {}
                Push::Dropped(r) => panic!("dropped: {r:?}"),
            }
        }
        out
    }

    #[test]
    fn in_order_fragments_complete_on_the_last() {
        let d = data(3000);
        let mut defrag = Defragmenter::default();
        let (payload, fr, overlap, conflict) = run(
            &mut defrag,
            &d,
            &[
                (4, 0, 1480, true),
                (5, 1480, 2960, true),
                (6, 2960, 3000, false),
            ],
        )
        .unwrap();
        assert_eq!(payload, d);
        assert_eq!(fr, frames(&[4, 5, 6]));
        assert!(!overlap && !conflict);
        assert_eq!(defrag.pending(), 0);
        assert_eq!(defrag.buffered_bytes(), 0);
        assert_eq!(defrag.counters().completed, 1);
        assert_eq!(defrag.counters().fragments, 3);
    }

    #[test]
    fn reverse_order_lists_frames_by_offset() {
        let d = data(3000);
        let mut defrag = Defragmenter::default();
        let (payload, fr, _, _) = run(
            &mut defrag,
            &d,
            &[
                (8, 2960, 3000, false),
                (9, 1480, 2960, true),
                (10, 0, 1480, true),
            ],
        )
        .unwrap();
        assert_eq!(payload, d);
        // Wireshark's ip.fragment order for tftp-ipv4-fragments.pcap DATA 2: 10,9,8.
        assert_eq!(fr, frames(&[10, 9, 8]));
    }

    #[test]
    fn duplicate_fragment_is_an_overlap_without_conflict() {
        let d = data(100);
        let mut defrag = Defragmenter::default();
        let (payload, fr, overlap, conflict) = run(
            &mut defrag,
            &d,
            &[(1, 0, 48, true), (2, 0, 48, true), (3, 48, 100, false)],
        )
        .unwrap();
        assert_eq!(payload, d);
        assert_eq!(fr, frames(&[1, 2, 3]));
        assert!(overlap && !conflict);
        assert_eq!(defrag.counters().overlapping, 1);
        assert_eq!(defrag.counters().conflicting, 0);
    }

    #[test]
    fn partial_overlap_with_the_same_bytes() {
        let d = data(100);
        let mut defrag = Defragmenter::default();
        let (payload, fr, overlap, conflict) = run(
            &mut defrag,
            &d,
            &[(1, 0, 56, true), (2, 40, 80, true), (3, 72, 100, false)],
        )
        .unwrap();
        assert_eq!(payload, d);
        assert_eq!(fr, frames(&[1, 2, 3]));
        assert!(overlap && !conflict);
    }

    #[test]
    fn conflicting_overlap_keeps_the_first_copy_and_is_flagged() {
        // The shape of zeek-fragmented-4.pcap: 0..24, 48..72, 72..89 (last), then 24..72 with
        // other bytes at 48..72.
        let d = data(89);
        let mut other = d.clone();
        for b in &mut other[48..72] {
            *b ^= 0xff;
        }
        let mut defrag = Defragmenter::default();
        let mut done = None;
        for (frame, s, e, more, src) in [
            (2, 0, 24, true, &d),
            (3, 48, 72, true, &d),
            (4, 72, 89, false, &d),
            (5, 24, 72, true, &other),
        ] {
            if let Push::Complete(dg) =
                defrag.push(FrameNumber(frame), secs(0), &frag(V4, s, &src[s..e], more))
            {
                done = Some((dg.payload.to_vec(), dg.frames.to_vec(), dg.conflict));
            }
        }
        let (payload, fr, conflict) = done.unwrap();
        assert_eq!(payload, d, "first copy wins");
        assert!(conflict);
        // Wireshark lists #2(0), #5(24), #3(48), #4(72).
        assert_eq!(fr, frames(&[2, 5, 3, 4]));
        assert_eq!(defrag.counters().conflicting, 1);
    }

    #[test]
    fn missing_middle_expires_after_the_timeout() {
        let d = data(3000);
        let mut defrag = Defragmenter::default();
        let f = frag(V4, 0, &d[..1480], true);
        assert_eq!(defrag.push(FrameNumber(1), secs(100), &f), Push::Pending);
        let f = frag(V4, 2960, &d[2960..], false);
        assert_eq!(defrag.push(FrameNumber(3), secs(101), &f), Push::Pending);
        // The timer runs from the first fragment; at exactly 30 s it has not run out.
        assert_eq!(defrag.expire(secs(130)), 0);
        assert_eq!(defrag.pending(), 1);
        assert_eq!(defrag.expire(secs(130) + Duration::from_millis(1)), 1);
        assert_eq!(defrag.pending(), 0);
        assert_eq!(defrag.buffered_bytes(), 0);
        let dropped: Vec<Dropped> = defrag.drain_dropped().collect();
        assert_eq!(dropped.len(), 1);
        assert_eq!(dropped[0].reason, DropReason::Expired);
        assert_eq!(dropped[0].frames, frames(&[1, 3]));
        assert_eq!(dropped[0].bytes_received, 1520);
        assert_eq!(dropped[0].first_seen, secs(100));
        assert_eq!(defrag.counters().expired, 1);
        assert_eq!(defrag.drain_dropped().count(), 0);
    }

    #[test]
    fn a_late_fragment_starts_a_new_datagram_after_expiry() {
        let d = data(100);
        let mut defrag = Defragmenter::default();
        let f = frag(V4, 0, &d[..48], true);
        assert_eq!(defrag.push(FrameNumber(1), secs(0), &f), Push::Pending);
        // Pushing at t = 31 s first expires the old datagram, so this one waits alone.
        let f = frag(V4, 48, &d[48..], false);
        assert_eq!(defrag.push(FrameNumber(2), secs(31), &f), Push::Pending);
        assert_eq!(defrag.counters().expired, 1);
        assert_eq!(defrag.pending(), 1);
    }

    #[test]
    fn too_many_fragments_drops_the_datagram() {
        let d = data(800);
        let limits = Limits {
            max_fragments: 4,
            ..Limits::default()
        };
        let mut defrag = Defragmenter::new(limits);
        for i in 0..4 {
            let f = frag(V4, i * 8, &d[i * 8..i * 8 + 8], true);
            assert_eq!(
                defrag.push(FrameNumber(i as u64 + 1), secs(0), &f),
                Push::Pending
            );
        }
        let f = frag(V4, 32, &d[32..40], true);
        assert_eq!(
            defrag.push(FrameNumber(5), secs(0), &f),
            Push::Dropped(DropReason::TooManyFragments)
        );
        let dropped: Vec<Dropped> = defrag.drain_dropped().collect();
        assert_eq!(dropped[0].frames, frames(&[1, 2, 3, 4, 5]));
        assert_eq!(defrag.pending(), 0);
        assert_eq!(defrag.buffered_bytes(), 0);
    }

    #[test]
    fn a_fragment_past_65535_bytes_drops_the_datagram() {
        let d = data(1480);
        let mut defrag = Defragmenter::default();
        let f = frag(V4, 0, &d, true);
        assert_eq!(defrag.push(FrameNumber(1), secs(0), &f), Push::Pending);
        // Offset 8189 × 8 = 65,512 plus 1,480 bytes: the ping of death.
        let f = frag(V4, 65_512, &d, false);
        assert_eq!(
            defrag.push(FrameNumber(2), secs(0), &f),
            Push::Dropped(DropReason::TooLarge)
        );
        assert_eq!(defrag.counters().too_large, 1);
        let dropped: Vec<Dropped> = defrag.drain_dropped().collect();
        assert_eq!(dropped[0].frames, frames(&[1, 2]));
        // Exactly 65,535 bytes is fine.
        let big = data(65_535);
        let mut defrag = Defragmenter::default();
        let f = frag(V4, 0, &big[..32_768], true);
        assert_eq!(defrag.push(FrameNumber(1), secs(0), &f), Push::Pending);
        let f = frag(V4, 32_768, &big[32_768..], false);
        assert!(matches!(
            defrag.push(FrameNumber(2), secs(0), &f),
            Push::Complete(d) if d.payload == &big[..]
        ));
    }

    #[test]
    fn the_budget_evicts_the_oldest_datagram() {
        let d = data(3000);
        // Room for about two datagrams of 1,480 buffered bytes.
        let limits = Limits {
            budget_bytes: 2 * (1480 + ENTRY_COST + 200),
            ..Limits::default()
        };
        let mut defrag = Defragmenter::new(limits);
        for id in 1..=3u16 {
            let key = v4(id, IpNumber::UDP);
            let f = frag(key, 0, &d[..1480], true);
            let _ = defrag.push(FrameNumber(u64::from(id)), secs(u64::from(id)), &f);
            assert!(defrag.buffered_bytes() <= limits.budget_bytes);
        }
        assert_eq!(defrag.pending(), 2);
        assert_eq!(defrag.counters().evicted, 1);
        let dropped: Vec<Dropped> = defrag.drain_dropped().collect();
        assert_eq!(dropped.len(), 1);
        assert_eq!(dropped[0].reason, DropReason::Evicted);
        assert_eq!(dropped[0].key.id(), 1);
        assert_eq!(dropped[0].frames, frames(&[1]));
    }

    #[test]
    fn a_datagram_larger_than_the_budget_is_evicted_itself() {
        let d = data(3000);
        let limits = Limits {
            budget_bytes: 1000,
            ..Limits::default()
        };
        let mut defrag = Defragmenter::new(limits);
        let f = frag(V4, 0, &d[..1480], true);
        assert_eq!(
            defrag.push(FrameNumber(1), secs(0), &f),
            Push::Dropped(DropReason::Evicted)
        );
        assert_eq!(defrag.buffered_bytes(), 0);
    }

    #[test]
    fn ipv6_takes_the_protocol_from_the_offset_zero_fragment() {
        let d = data(2000);
        let mut defrag = Defragmenter::default();
        // Non-first fragments may name another Next Header (RFC 8200 §4.5).
        let mut last = frag(v6(7), 1232, &d[1232..], false);
        last.protocol = IpNumber(60);
        assert_eq!(defrag.push(FrameNumber(1), secs(0), &last), Push::Pending);
        // Another id is another packet.
        let other = frag(v6(8), 0, &d[..1232], true);
        assert_eq!(defrag.push(FrameNumber(2), secs(0), &other), Push::Pending);
        let mut first = frag(v6(7), 0, &d[..1232], true);
        first.protocol = IpNumber::IPV6_ICMP;
        match defrag.push(FrameNumber(3), secs(0), &first) {
            Push::Complete(dg) => {
                assert_eq!(dg.protocol, IpNumber::IPV6_ICMP);
                assert_eq!(dg.payload, &d[..]);
                assert_eq!(dg.frames, &frames(&[3, 1])[..]);
                assert_eq!(dg.key, v6(7));
                assert_eq!(dg.reassembled_in, FrameNumber(3));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(defrag.pending(), 1);
    }

    #[test]
    fn ipv4_datagrams_differ_by_protocol() {
        let d = data(100);
        let mut defrag = Defragmenter::default();
        let tcp = v4(0x1234, IpNumber::TCP);
        assert_eq!(
            defrag.push(FrameNumber(1), secs(0), &frag(V4, 0, &d[..48], true)),
            Push::Pending
        );
        assert_eq!(
            defrag.push(FrameNumber(2), secs(0), &frag(tcp, 48, &d[48..], false)),
            Push::Pending
        );
        assert_eq!(defrag.pending(), 2);
    }

    #[test]
    fn inconsistent_lengths_drop_the_datagram() {
        let d = data(200);
        // Two different last fragments.
        let mut defrag = Defragmenter::default();
        let _ = defrag.push(FrameNumber(1), secs(0), &frag(V4, 96, &d[96..200], false));
        assert_eq!(
            defrag.push(FrameNumber(2), secs(0), &frag(V4, 96, &d[96..160], false)),
            Push::Dropped(DropReason::InconsistentLength)
        );
        // Bytes past the last fragment's end.
        let mut defrag = Defragmenter::default();
        let _ = defrag.push(FrameNumber(1), secs(0), &frag(V4, 96, &d[96..160], false));
        assert_eq!(
            defrag.push(FrameNumber(2), secs(0), &frag(V4, 152, &d[152..200], true)),
            Push::Dropped(DropReason::InconsistentLength)
        );
        // A last fragment ending before bytes already seen.
        let mut defrag = Defragmenter::default();
        let _ = defrag.push(FrameNumber(1), secs(0), &frag(V4, 152, &d[152..200], true));
        assert_eq!(
            defrag.push(FrameNumber(2), secs(0), &frag(V4, 96, &d[96..160], false)),
            Push::Dropped(DropReason::InconsistentLength)
        );
        assert_eq!(defrag.counters().inconsistent_length, 1);
        assert_eq!(defrag.buffered_bytes(), 0);
    }

    #[test]
    fn a_fragment_cut_by_snaplen_drops_the_datagram() {
        let d = data(100);
        let mut defrag = Defragmenter::default();
        let _ = defrag.push(FrameNumber(1), secs(0), &frag(V4, 0, &d[..48], true));
        let mut cut = frag(V4, 48, &d[48..60], false);
        cut.wire_len = 52;
        assert_eq!(
            defrag.push(FrameNumber(2), secs(0), &cut),
            Push::Dropped(DropReason::Cut)
        );
        let dropped: Vec<Dropped> = defrag.drain_dropped().collect();
        assert_eq!(dropped[0].frames, frames(&[1, 2]));
        // Alone: recorded with its frame.
        let _ = defrag.push(FrameNumber(3), secs(0), &cut);
        let dropped: Vec<Dropped> = defrag.drain_dropped().collect();
        assert_eq!(dropped[0].frames, frames(&[3]));
        assert_eq!(defrag.counters().cut, 2);
    }

    #[test]
    fn finish_drops_what_is_left() {
        let d = data(100);
        let mut defrag = Defragmenter::default();
        let _ = defrag.push(FrameNumber(1), secs(0), &frag(V4, 0, &d[..48], true));
        let _ = defrag.push(FrameNumber(2), secs(0), &frag(v6(1), 0, &d[..48], true));
        defrag.finish();
        assert_eq!(defrag.counters().end_of_capture, 2);
        assert_eq!(defrag.pending(), 0);
        assert_eq!(defrag.buffered_bytes(), 0);
        let reasons: Vec<DropReason> = defrag.drain_dropped().map(|d| d.reason).collect();
        assert_eq!(reasons, [DropReason::EndOfCapture; 2]);
    }

    #[test]
    fn buffers_are_reused_without_leaking_old_bytes() {
        let mut defrag = Defragmenter::default();
        let a = vec![0xaa; 3000];
        let b = vec![0xbb; 100];
        for (frames_base, d) in [(0, &a), (10, &b), (20, &a), (30, &b)] {
            let half = d.len() / 16 * 8;
            let _ = defrag.push(
                FrameNumber(frames_base + 1),
                secs(0),
                &frag(V4, 0, &d[..half], true),
            );
            match defrag.push(
                FrameNumber(frames_base + 2),
                secs(0),
                &frag(V4, half, &d[half..], false),
            ) {
                Push::Complete(dg) => assert_eq!(dg.payload, &d[..]),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn the_dropped_queue_is_bounded() {
        let d = data(16);
        let mut defrag = Defragmenter::default();
        for id in 0..2000u32 {
            let _ = defrag.push(FrameNumber(1), secs(0), &frag(v6(id), 0, &d[..8], true));
        }
        defrag.finish();
        assert_eq!(defrag.counters().end_of_capture, 2000);
        assert_eq!(defrag.drain_dropped().count(), DROPPED_QUEUE_CAP);
    }

    #[test]
    fn zero_length_fragments_do_not_break_completion() {
        let d = data(16);
        let mut defrag = Defragmenter::default();
        let _ = defrag.push(FrameNumber(1), secs(0), &frag(V4, 8, &[], true));
        let _ = defrag.push(FrameNumber(2), secs(0), &frag(V4, 0, &d[..8], true));
        match defrag.push(FrameNumber(3), secs(0), &frag(V4, 8, &d[8..], false)) {
            Push::Complete(dg) => {
                assert_eq!(dg.payload, &d[..]);
                assert_eq!(dg.frames, &frames(&[2, 1, 3])[..]);
            }
            other => panic!("{other:?}"),
        }
    }

    /// A naive model: a map from byte position to the first byte seen there.
    #[derive(Default)]
    struct Model {
        bytes: std::collections::HashMap<usize, u8>,
        total: Option<usize>,
        conflict: bool,
        overlap: bool,
    }

    impl Model {
        fn push(&mut self, start: usize, bytes: &[u8], more: bool) -> bool {
            for (i, b) in bytes.iter().enumerate() {
                match self.bytes.get(&(start + i)) {
                    Some(old) => {
                        self.overlap = true;
                        self.conflict |= old != b;
                    }
                    None => {
                        self.bytes.insert(start + i, *b);
                    }
                }
            }
            if !more {
                self.total = Some(start + bytes.len());
            }
            self.total
                .is_some_and(|t| (0..t).all(|i| self.bytes.contains_key(&i)))
        }

        fn payload(&self) -> Vec<u8> {
            (0..self.total.unwrap_or(0))
                .map(|i| self.bytes[&i])
                .collect()
        }
    }

    /// One fragment to send: offset, bytes, More Fragments.
    type Send = (usize, Vec<u8>, bool);

    /// A random datagram cut into fragments, sent in any order, some duplicated, plus random
    /// overlapping re-sends (with the same bytes, or with other bytes when `noisy`).
    fn sends(noisy: bool) -> impl Strategy<Value = (Vec<u8>, Vec<Send>)> {
        (
            proptest::collection::vec(any::<u8>(), 1..3000),
            proptest::collection::vec(1usize..200, 1..20),
            proptest::collection::vec(0u8..3, 40),
            proptest::collection::vec((any::<u16>(), 1usize..400, any::<u8>()), 0..6),
            proptest::collection::vec(any::<u32>(), 80),
        )
            .prop_map(move |(d, sizes, copies, extra, order)| {
                let mut list = Vec::new();
                let mut at = 0;
                for (i, size) in sizes.iter().cycle().enumerate() {
                    if at >= d.len() {
                        break;
                    }
                    let end = (at + size * 8).min(d.len());
                    for _ in 0..=copies[i % copies.len()] {
                        list.push((at, d[at..end].to_vec(), end != d.len()));
                    }
                    at = end;
                }
                for (s, len, noise) in extra {
                    let s = usize::from(s) % d.len();
                    let e = (s + len).min(d.len());
                    let mut bytes = d[s..e].to_vec();
                    if noisy {
                        for b in &mut bytes {
                            *b ^= noise | 1;
                        }
                    }
                    list.push((s, bytes, e != d.len()));
                }
                let mut keyed: Vec<_> = list
                    .into_iter()
                    .enumerate()
                    .map(|(i, x)| (order[i % order.len()].wrapping_add(i as u32), x))
                    .collect();
                keyed.sort_by_key(|(k, _)| *k);
                (d, keyed.into_iter().map(|(_, x)| x).collect())
            })
    }

    fn check_against_model(d: &[u8], sends: &[Send], noisy: bool) {
        let mut defrag = Defragmenter::new(Limits {
            max_fragments: 1000,
            ..Limits::default()
        });
        let mut model = Model::default();
        for (i, (start, bytes, more)) in sends.iter().enumerate() {
            let model_done = model.push(*start, bytes, *more);
            let f = frag(V4, *start, bytes, *more);
            match defrag.push(FrameNumber(i as u64 + 1), secs(0), &f) {
                Push::Complete(dg) => {
                    assert!(model_done, "completed before the model at push {i}");
                    assert_eq!(dg.payload, model.payload());
                    if !noisy {
                        assert_eq!(dg.payload, d);
                    }
                    assert_eq!(dg.conflict, model.conflict);
                    assert_eq!(dg.overlap, model.overlap);
                    assert_eq!(dg.frames.len(), i + 1);
                    assert!(dg.frames.iter().all(|f| f.0 >= 1 && f.0 <= i as u64 + 1));
                    return;
                }
                Push::Pending => assert!(!model_done, "model complete at push {i}"),
                Push::Dropped(r) => {
                    // Noisy re-sends may end at the datagram's end with the flag clear while
                    // the real last fragment says otherwise; only then is a drop right.
                    assert!(noisy, "dropped {r:?}");
                    assert_eq!(r, DropReason::InconsistentLength);
                    return;
                }
            }
        }
        // Every byte was sent at least once, so the model must have completed.
        panic!("never completed");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn any_order_and_duplication_reassembles_the_original((d, sends) in sends(false)) {
            check_against_model(&d, &sends, false);
        }

        #[test]
        fn conflicting_resends_agree_with_the_byte_map((d, sends) in sends(true)) {
            check_against_model(&d, &sends, true);
        }
    }

    /// One push of the chaos test: key index, offset in 8-byte units, length, More Fragments,
    /// seconds since the start.
    type Op = (u8, u16, u16, bool, u8);

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Random fragments of a few datagrams under tight limits: never over the budget, and
        /// nothing left behind at the end.
        #[test]
        fn limits_hold_under_any_fragments(
            ops in proptest::collection::vec(
                (0u8..6, 0u16..2500, 0u16..3000, any::<bool>(), 0u8..120), 1..200),
        ) {
            let limits = Limits {
                timeout: secs(20),
                max_fragments: 16,
                budget_bytes: 40_000,
                ..Limits::default()
            };
            let mut defrag = Defragmenter::new(limits);
            let bytes = data(3000);
            let mut ts = 0;
            for (i, op) in ops.iter().enumerate() {
                let (key, offset, len, more, t): Op = *op;
                ts = ts.max(u64::from(t));
                let f = frag(v6(u32::from(key)), usize::from(offset) * 8, &bytes[..usize::from(len)], more);
                if let Push::Complete(d) = defrag.push(FrameNumber(i as u64 + 1), secs(ts), &f) {
                    prop_assert!(d.payload.len() <= MAX_PAYLOAD_LEN);
                    prop_assert!(!d.frames.is_empty() && d.frames.len() <= limits.max_fragments);
                }
                prop_assert!(defrag.buffered_bytes() <= limits.budget_bytes);
                prop_assert!(defrag.pending() <= 6);
            }
            defrag.finish();
            prop_assert_eq!(defrag.pending(), 0);
            prop_assert_eq!(defrag.buffered_bytes(), 0);
            let c = *defrag.counters();
            prop_assert_eq!(c.fragments, ops.len() as u64);
            prop_assert!(c.completed + c.dropped() <= c.fragments);
        }
    }
}
