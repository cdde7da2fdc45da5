//! Classic pcap reading (the pcap savefile format, draft-ietf-opsawg-pcap): the 24-byte file
//! header and the records after it, in either byte order, with micro- or nanosecond timestamps,
//! and Alexey Kuznetsov's "modified" variant (magic 0xa1b2cd34, 24-byte record headers), which
//! libpcap and tshark also read.
//!
//! Records are parsed by hand from the read buffer, so no record is refused for being longer
//! than the file's snaplen (pcap-file issue #48) and none is limited by a fixed buffer size.

use std::io::Read;
use std::time::Duration;

use super::input::Input;
use super::{Frame, FrameNumber, Interface, Limits, LinkType, TsResolution};
use crate::error::Error;

/// Size of the file header.
const HEADER_LEN: usize = 24;
/// Record header of the standard format: ts_sec, ts_frac, incl_len, orig_len.
const RECORD_HEADER_LEN: usize = 16;
/// Record header of the modified format: the standard one plus ifindex (4), protocol (2),
/// pkt_type (1) and padding (1).
const MODIFIED_RECORD_HEADER_LEN: usize = 24;
/// pcap LinkType field: the link type is the low 16 bits; bits 16-25 are reserved and bits
/// 26-31 carry the FCS length (draft-ietf-opsawg-pcap §4, libpcap's `LT_LINKTYPE`).
const LINKTYPE_MASK: u32 = 0x0000_ffff;

/// The variants told apart by the magic number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Variant {
    big_endian: bool,
    resolution: TsResolution,
    record_header_len: usize,
}

/// Reads the magic number (the first four bytes as they are in the file).
fn variant(magic: [u8; 4]) -> Option<Variant> {
    let (big_endian, resolution, record_header_len) = match magic {
        [0xd4, 0xc3, 0xb2, 0xa1] => (false, TsResolution::MICRO, RECORD_HEADER_LEN),
        [0xa1, 0xb2, 0xc3, 0xd4] => (true, TsResolution::MICRO, RECORD_HEADER_LEN),
        [0x4d, 0x3c, 0xb2, 0xa1] => (false, TsResolution::NANO, RECORD_HEADER_LEN),
        [0xa1, 0xb2, 0x3c, 0x4d] => (true, TsResolution::NANO, RECORD_HEADER_LEN),
        [0x34, 0xcd, 0xb2, 0xa1] => (false, TsResolution::MICRO, MODIFIED_RECORD_HEADER_LEN),
        [0xa1, 0xb2, 0xcd, 0x34] => (true, TsResolution::MICRO, MODIFIED_RECORD_HEADER_LEN),
        _ => return None,
    };
    Some(Variant {
        big_endian,
        resolution,
        record_header_len,
    })
}

/// Reads a `u32` at `at` in the file's byte order.
pub(super) fn u32_at(bytes: &[u8], at: usize, big_endian: bool) -> Option<u32> {
    let b: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(if big_endian {
        u32::from_be_bytes(b)
    } else {
        u32::from_le_bytes(b)
    })
}

/// A classic pcap reader over the shared input buffer.
pub(super) struct PcapReader<R> {
    input: Input<R>,
    variant: Variant,
    interface: Interface,
    limits: Limits,
}

impl<R: Read> PcapReader<R> {
    /// Reads the file header (at least 4 bytes must already be buffered to have chosen pcap).
    pub(super) fn open(mut input: Input<R>, limits: Limits) -> Result<Self, Error> {
        input
            .fill(HEADER_LEN)
            .map_err(|source| Error::Io { offset: 0, source })?;
        let head = input.available();
        let Some(magic) = head.first_chunk::<4>().copied() else {
            return Err(Error::NotACapture {
                reason: if head.is_empty() {
                    "the input is empty".into()
                } else {
                    format!("the input is only {} bytes long", head.len())
                },
            });
        };
        let Some(variant) = variant(magic) else {
            let [a, b, c, d] = magic;
            return Err(Error::NotACapture {
                reason: format!(
                    "it starts with bytes {a:02x} {b:02x} {c:02x} {d:02x}, which is neither a pcap magic number nor a pcapng section header"
                ),
            });
        };
        if head.len() < HEADER_LEN {
            return Err(Error::NotACapture {
                reason: "the file ends inside the 24-byte pcap header".into(),
            });
        }
        let word = |at| u32_at(head, at, variant.big_endian).unwrap_or(0);
        let snaplen = word(16);
        let link_type = LinkType::from_number(word(20) & LINKTYPE_MASK);
        input.consume(HEADER_LEN);
        Ok(PcapReader {
            input,
            variant,
            interface: Interface {
                link_type,
                snaplen,
                ts_resolution: variant.resolution,
                ts_offset_secs: 0,
            },
            limits,
        })
    }

    /// The one interface of a pcap file (its header).
    pub(super) fn interface(&self) -> &Interface {
        &self.interface
    }

    /// True for the modified (Kuznetsov) variant.
    #[cfg(test)]
    pub(super) fn is_modified(&self) -> bool {
        self.variant.record_header_len == MODIFIED_RECORD_HEADER_LEN
    }

    /// Input offset of the next record.
    pub(super) fn offset(&self) -> u64 {
        self.input.offset()
    }

    /// Reads the next record: `None` at the clean end of the input.
    pub(super) fn next_frame(&mut self, number: FrameNumber) -> Option<Result<Frame<'_>, Error>> {
        let offset = self.input.offset();
        let header_len = self.variant.record_header_len;
        match self.input.fill(header_len) {
            Ok(true) => {}
            Ok(false) if self.input.available().is_empty() => return None,
            Ok(false) => {
                return Some(Err(Error::TruncatedRecord {
                    frame: number,
                    offset,
                    detail: format!(
                        "the file ends inside the record header: {} of its {header_len} bytes are there",
                        self.input.available().len()
                    ),
                }));
            }
            Err(source) => return Some(Err(Error::Io { offset, source })),
        }
        let big = self.variant.big_endian;
        let head = self.input.available();
        let word = |at| u32_at(head, at, big).unwrap_or(0);
        let (ts_sec, ts_frac, incl_len, orig_len) = (word(0), word(4), word(8), word(12));
        let captured = usize::try_from(incl_len).unwrap_or(usize::MAX);
        if captured > self.limits.max_record_len {
            return Some(Err(Error::Corrupt {
                frame: number,
                offset,
                reason: format!(
                    "the record claims {incl_len} captured bytes, more than the largest record accepted ({} bytes)",
                    self.limits.max_record_len
                ),
            }));
        }
        let record_len = header_len.saturating_add(captured);
        match self.input.fill(record_len) {
            Ok(true) => {}
            Ok(false) => {
                let present = self.input.available().len().saturating_sub(header_len);
                return Some(Err(Error::TruncatedRecord {
                    frame: number,
                    offset,
                    detail: format!(
                        "the file ends inside the record: {present} of its {incl_len} captured bytes are there"
                    ),
                }));
            }
            Err(source) => return Some(Err(Error::Io { offset, source })),
        }
        let nanos = match self.variant.resolution {
            TsResolution::PowerOfTen(9) => u64::from(ts_frac),
            _ => u64::from(ts_frac).saturating_mul(1_000),
        };
        let timestamp =
            Duration::from_secs(u64::from(ts_sec)).saturating_add(Duration::from_nanos(nanos));
        let interface = self.interface;
        let Some(data) = self.input.take(record_len, header_len, record_len) else {
            return Some(Err(Error::Corrupt {
                frame: number,
                offset,
                reason: "the record is not in the read buffer".into(),
            }));
        };
        Some(Ok(Frame {
            number,
            timestamp,
            link_type: interface.link_type,
            interface: 0,
            original_len: orig_len,
            big_endian_file: big,
            data,
            section: 1,
            ts_resolution: interface.ts_resolution,
            snaplen: interface.snaplen,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(magic: [u8; 4], big: bool, linktype: u32) -> Vec<u8> {
        let mut h = magic.to_vec();
        let put16 = |v: u16| {
            if big {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        let put32 = |v: u32| {
            if big {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        h.extend_from_slice(&put16(2)); // version major
        h.extend_from_slice(&put16(4)); // version minor
        h.extend_from_slice(&put32(0)); // thiszone
        h.extend_from_slice(&put32(0)); // sigfigs
        h.extend_from_slice(&put32(65535)); // snaplen
        h.extend_from_slice(&put32(linktype)); // linktype
        h
    }

    fn open(bytes: &[u8]) -> Result<PcapReader<&[u8]>, Error> {
        let mut input = Input::new(bytes);
        input.fill(4).unwrap();
        PcapReader::open(input, Limits::default())
    }

    #[test]
    fn link_type_is_the_low_16_bits() {
        // FCS length 2 (bits 28-31) and the FCS-present bit 26, link type 1.
        let bytes = header([0xd4, 0xc3, 0xb2, 0xa1], false, 0x2400_0001);
        let r = open(&bytes).unwrap();
        assert_eq!(r.interface().link_type, LinkType::Ethernet);
        assert_eq!(r.interface().snaplen, 65535);
    }

    #[test]
    fn every_magic_is_known_with_its_byte_order() {
        for (magic, big, res, modified) in [
            ([0xd4, 0xc3, 0xb2, 0xa1], false, TsResolution::MICRO, false),
            ([0xa1, 0xb2, 0xc3, 0xd4], true, TsResolution::MICRO, false),
            ([0x4d, 0x3c, 0xb2, 0xa1], false, TsResolution::NANO, false),
            ([0xa1, 0xb2, 0x3c, 0x4d], true, TsResolution::NANO, false),
            ([0x34, 0xcd, 0xb2, 0xa1], false, TsResolution::MICRO, true),
            ([0xa1, 0xb2, 0xcd, 0x34], true, TsResolution::MICRO, true),
        ] {
            let bytes = header(magic, big, 113);
            let r = open(&bytes).unwrap();
            assert_eq!(r.interface().link_type, LinkType::LinuxSll, "{magic:x?}");
            assert_eq!(r.interface().ts_resolution, res);
            assert_eq!(r.is_modified(), modified);
        }
    }

    #[test]
    fn every_prefix_of_a_header_is_a_clear_error() {
        let h = header([0xd4, 0xc3, 0xb2, 0xa1], false, 1);
        for n in 0..h.len() {
            let err = open(&h[..n]).err().unwrap();
            let text = err.to_string();
            assert!(
                text.starts_with("not a pcap or pcapng capture"),
                "{n}: {text}"
            );
        }
    }

    #[test]
    fn every_prefix_of_a_record_is_cut_or_whole() {
        let mut bytes = header([0xa1, 0xb2, 0xcd, 0x34], true, 1);
        // Modified record header: ts 10 s + 20 µs, 4 of 9 bytes, ifindex, protocol, type, pad.
        bytes.extend_from_slice(&10u32.to_be_bytes());
        bytes.extend_from_slice(&20u32.to_be_bytes());
        bytes.extend_from_slice(&4u32.to_be_bytes());
        bytes.extend_from_slice(&9u32.to_be_bytes());
        bytes.extend_from_slice(&[0, 0, 0, 2, 0x08, 0x00, 0, 0]);
        bytes.extend_from_slice(&[1, 2, 3, 4]);
        for n in 24..bytes.len() {
            let mut r = open(&bytes[..n]).unwrap();
            match r.next_frame(FrameNumber(1)) {
                None => assert_eq!(n, 24),
                Some(Err(Error::TruncatedRecord { frame, offset, .. })) => {
                    assert_eq!((frame, offset), (FrameNumber(1), 24));
                }
                other => panic!("{n}: {other:?}"),
            }
        }
        let mut r = open(&bytes).unwrap();
        let f = r.next_frame(FrameNumber(1)).unwrap().unwrap();
        assert_eq!(f.data, &[1, 2, 3, 4]);
        assert_eq!(f.original_len, 9);
        assert_eq!(f.timestamp, Duration::new(10, 20_000));
        assert!(f.big_endian_file);
        assert!(r.next_frame(FrameNumber(2)).is_none());
    }

    #[test]
    fn a_record_above_the_limit_is_refused_before_reading_it() {
        let mut bytes = header([0xd4, 0xc3, 0xb2, 0xa1], false, 1);
        bytes.extend_from_slice(&[0; 8]);
        bytes.extend_from_slice(&u32::MAX.to_le_bytes());
        bytes.extend_from_slice(&u32::MAX.to_le_bytes());
        let mut r = open(&bytes).unwrap();
        let err = r.next_frame(FrameNumber(1)).unwrap().unwrap_err();
        assert!(matches!(err, Error::Corrupt { offset: 24, .. }), "{err}");
    }
}
