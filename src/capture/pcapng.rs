//! pcapng reading: blocks → frames, with the per-section interface table (link type, timestamp
//! resolution and offset) that pcap-file leaves to its caller.
//!
//! Packet blocks (EPB, SPB, the obsolete PB) are parsed here by hand from the raw block body, so
//! no options are decoded (and nothing is allocated) per packet. Blocks that carry no packets are
//! skipped.

use std::io::Read;
use std::time::Duration;

use pcap_file::Endianness;
use pcap_file::pcapng::PcapNgParser;
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};

use super::{Frame, FrameNumber, LinkType};
use crate::error::Error;

const SECTION_HEADER: u32 = 0x0A0D_0D0A;
const INTERFACE_DESCRIPTION: u32 = 0x0000_0001;
const OBSOLETE_PACKET: u32 = 0x0000_0002;
const SIMPLE_PACKET: u32 = 0x0000_0003;
const ENHANCED_PACKET: u32 = 0x0000_0006;

/// What a packet needs to know about the interface it was captured on.
#[derive(Debug, Clone, Copy)]
struct Interface {
    link_type: LinkType,
    snaplen: u32,
    resolution: TsResolution,
    offset_secs: u64,
}

/// pcapng `if_tsresol`: ticks per second as a power of ten or of two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TsResolution {
    PowerOfTen(u8),
    PowerOfTwo(u8),
}

impl TsResolution {
    /// Decodes the option byte (pcapng §4.2: the high bit selects base 2, the rest is the exponent).
    fn from_option(byte: u8) -> Self {
        if byte & 0x80 == 0 {
            TsResolution::PowerOfTen(byte)
        } else {
            TsResolution::PowerOfTwo(byte & 0x7f)
        }
    }

    /// Converts a tick count to a duration, saturating on absurd resolutions.
    fn to_duration(self, ticks: u64) -> Duration {
        match self {
            TsResolution::PowerOfTen(exp) => {
                let Some(per_sec) = 10u64.checked_pow(u32::from(exp)) else {
                    return Duration::ZERO;
                };
                let secs = ticks / per_sec;
                let frac = u128::from(ticks % per_sec);
                let nanos = frac * 1_000_000_000 / u128::from(per_sec);
                Duration::new(secs, u32::try_from(nanos).unwrap_or(0))
            }
            TsResolution::PowerOfTwo(exp) => {
                if exp >= 64 {
                    return Duration::ZERO;
                }
                let secs = ticks >> exp;
                let frac = u128::from(ticks & ((1u64 << exp) - 1));
                let nanos = (frac * 1_000_000_000) >> exp;
                Duration::new(secs, u32::try_from(nanos).unwrap_or(0))
            }
        }
    }
}

/// Largest block accepted: far above any real snaplen, small enough to stop a corrupt length
/// from making the reader allocate gigabytes.
const MAX_BLOCK_LEN: usize = 256 * 1024 * 1024;

/// A pcapng reader that yields frames. It buffers the input itself (so a frame can borrow the
/// buffer) and lets pcap-file's `PcapNgParser` validate blocks and keep the section's interfaces.
pub(super) struct NgReader<R: Read> {
    source: R,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    /// Set once the first section header has been read.
    parser: Option<PcapNgParser>,
    interfaces: Vec<Interface>,
    first_section_len: u64,
}

impl<R: Read> NgReader<R> {
    /// Reads the first Section Header Block.
    pub(super) fn new(source: R) -> Result<Self, Error> {
        let mut reader = NgReader {
            source,
            buf: vec![0; 64 * 1024],
            pos: 0,
            end: 0,
            parser: None,
            interfaces: Vec::new(),
            first_section_len: 0,
        };
        let eof = |what: &str| Error::NotACapture {
            reason: format!("the file ends inside the pcapng section header ({what})"),
        };
        let io = |source| Error::Io { offset: 0, source };
        if !reader.fill(12).map_err(io)? {
            return Err(eof("fewer than 12 bytes"));
        }
        let len = reader
            .block_len(true)
            .map_err(|reason| Error::NotACapture { reason })?;
        if !reader.fill(len).map_err(io)? {
            return Err(eof("block shorter than its length field"));
        }
        let block = reader
            .buf
            .get(reader.pos..reader.pos + len)
            .unwrap_or_default();
        let parser = PcapNgParser::new(block)
            .map(|(_, p)| p)
            .map_err(|e| Error::NotACapture {
                reason: format!("invalid pcapng section header: {}", describe(&e)),
            })?;
        reader.parser = Some(parser);
        reader.pos += len;
        reader.first_section_len = len as u64;
        Ok(reader)
    }

    /// Length of the first section header block, where the first packet's offset starts.
    pub(super) fn first_section_len(&self) -> u64 {
        self.first_section_len
    }

    /// Makes at least `need` bytes available at `pos`; false at end of input before that.
    fn fill(&mut self, need: usize) -> std::io::Result<bool> {
        if self.end - self.pos >= need {
            return Ok(true);
        }
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
        }
        if self.buf.len() < need {
            self.buf.resize(need.next_power_of_two(), 0);
        }
        while self.end < need {
            let Some(space) = self.buf.get_mut(self.end..) else {
                return Ok(false);
            };
            match self.source.read(space) {
                Ok(0) => return Ok(false),
                Ok(n) => self.end += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }

    /// Byte order of the current section.
    fn is_big_endian(&self) -> bool {
        self.parser
            .as_ref()
            .is_some_and(|p| p.section().endianness == Endianness::Big)
    }

    /// Reads the total length of the block at `pos` (12 bytes must be buffered).
    fn block_len(&self, first: bool) -> Result<usize, String> {
        let head = self.buf.get(self.pos..self.pos + 12).unwrap_or_default();
        let word = |at: usize, big: bool| -> u32 {
            let b: [u8; 4] = head
                .get(at..at + 4)
                .and_then(|s| s.try_into().ok())
                .unwrap_or_default();
            if big {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            }
        };
        let is_shb = head.get(..4) == Some(&SECTION_HEADER.to_be_bytes()[..]);
        let big = if is_shb {
            match head.get(8..12) {
                Some([0x1a, 0x2b, 0x3c, 0x4d]) => true,
                Some([0x4d, 0x3c, 0x2b, 0x1a]) => false,
                _ => return Err("section header has an invalid byte-order magic".into()),
            }
        } else if first {
            return Err("the file does not start with a section header block".into());
        } else {
            self.is_big_endian()
        };
        let len = word(4, big) as usize;
        if len < 12 || !len.is_multiple_of(4) {
            return Err(format!(
                "block length {len} is not a multiple of 4 of at least 12"
            ));
        }
        if len > MAX_BLOCK_LEN {
            return Err(format!("block length {len} is implausibly large"));
        }
        Ok(len)
    }

    /// Reads blocks until the next packet; returns it with the bytes consumed since `offset`.
    pub(super) fn next_frame(
        &mut self,
        number: FrameNumber,
        offset: u64,
    ) -> Option<Result<(Frame<'_>, u64), Error>> {
        let mut consumed: u64 = 0;
        loop {
            let block_offset = offset.saturating_add(consumed);
            match self.fill(12) {
                Ok(true) => {}
                Ok(false) if self.pos == self.end => return None,
                Ok(false) => return Some(Err(truncated(number, block_offset))),
                Err(source) => {
                    return Some(Err(Error::Io {
                        offset: block_offset,
                        source,
                    }));
                }
            }
            let len = match self.block_len(false) {
                Ok(len) => len,
                Err(reason) => return Some(Err(corrupt(number, block_offset, &reason))),
            };
            match self.fill(len) {
                Ok(true) => {}
                Ok(false) => return Some(Err(truncated(number, block_offset))),
                Err(source) => {
                    return Some(Err(Error::Io {
                        offset: block_offset,
                        source,
                    }));
                }
            }
            let start = self.pos;
            let block = self.buf.get(start..start + len).unwrap_or_default();
            let Some(parser) = self.parser.as_mut() else {
                return Some(Err(corrupt(number, block_offset, "no section header read")));
            };
            let block_type = match parser.next_raw_block(block) {
                Ok((_, raw)) => raw.type_,
                Err(e) => return Some(Err(corrupt(number, block_offset, &describe(&e)))),
            };
            self.pos += len;
            consumed = consumed.saturating_add(len as u64);
            match block_type {
                SECTION_HEADER => self.interfaces.clear(),
                INTERFACE_DESCRIPTION => {
                    if let Some(idb) = self.parser.as_ref().and_then(|p| p.interfaces().last()) {
                        self.interfaces.push(interface_from(idb));
                    }
                }
                ENHANCED_PACKET | SIMPLE_PACKET | OBSOLETE_PACKET => {
                    let big_endian = self.is_big_endian();
                    let body = self.buf.get(start + 8..start + len - 4).unwrap_or_default();
                    let frame = packet_frame(
                        block_type,
                        body,
                        big_endian,
                        &self.interfaces,
                        number,
                        block_offset,
                    );
                    return Some(frame.map(|f| (f, consumed)));
                }
                // Name resolution, interface statistics, journal, custom and unknown blocks
                // carry no packets.
                _ => {}
            }
        }
    }
}

/// Reads link type, snaplen and timestamp options from an interface description.
fn interface_from(idb: &InterfaceDescriptionBlock<'_>) -> Interface {
    let mut resolution = TsResolution::PowerOfTen(6);
    let mut offset_secs = 0;
    for option in &idb.options {
        match option {
            InterfaceDescriptionOption::IfTsResol(r) => resolution = TsResolution::from_option(*r),
            InterfaceDescriptionOption::IfTsOffset(o) => offset_secs = *o,
            _ => {}
        }
    }
    Interface {
        link_type: LinkType::from_number(u32::from(idb.linktype)),
        snaplen: idb.snaplen,
        resolution,
        offset_secs,
    }
}

fn truncated(frame: FrameNumber, offset: u64) -> Error {
    Error::TruncatedRecord {
        frame,
        offset,
        detail: "the file ends inside a pcapng block".into(),
    }
}

/// Decodes an EPB, SPB or obsolete PB body into a frame.
fn packet_frame<'a>(
    block_type: u32,
    body: &'a [u8],
    big_endian: bool,
    interfaces: &[Interface],
    number: FrameNumber,
    offset: u64,
) -> Result<Frame<'a>, Error> {
    let read_u32 = |at: usize| -> Option<u32> {
        let bytes: [u8; 4] = body.get(at..at + 4)?.try_into().ok()?;
        Some(if big_endian {
            u32::from_be_bytes(bytes)
        } else {
            u32::from_le_bytes(bytes)
        })
    };
    let short = || corrupt(number, offset, "packet block shorter than its fixed fields");
    let (interface, ticks, captured, original, data_at) = match block_type {
        SIMPLE_PACKET => {
            let original = read_u32(0).ok_or_else(short)?;
            let snaplen = interfaces.first().map_or(0, |i| i.snaplen);
            let available = body.len().saturating_sub(4);
            let mut captured = usize::try_from(original)
                .unwrap_or(usize::MAX)
                .min(available);
            if snaplen > 0 {
                captured = captured.min(usize::try_from(snaplen).unwrap_or(usize::MAX));
            }
            (0u32, None, captured, original, 4usize)
        }
        OBSOLETE_PACKET => {
            let first = read_u32(0).ok_or_else(short)?;
            // Interface id (u16) then drops count (u16), in the section's byte order.
            let interface = if big_endian {
                first >> 16
            } else {
                first & 0xffff
            };
            let ticks = (u64::from(read_u32(4).ok_or_else(short)?) << 32)
                | u64::from(read_u32(8).ok_or_else(short)?);
            let captured = read_u32(12).ok_or_else(short)?;
            let original = read_u32(16).ok_or_else(short)?;
            (interface, Some(ticks), captured as usize, original, 20)
        }
        _ => {
            let interface = read_u32(0).ok_or_else(short)?;
            let ticks = (u64::from(read_u32(4).ok_or_else(short)?) << 32)
                | u64::from(read_u32(8).ok_or_else(short)?);
            let captured = read_u32(12).ok_or_else(short)?;
            let original = read_u32(16).ok_or_else(short)?;
            (interface, Some(ticks), captured as usize, original, 20)
        }
    };
    let data = data_at
        .checked_add(captured)
        .and_then(|end| body.get(data_at..end))
        .ok_or_else(|| {
            corrupt(
                number,
                offset,
                &format!("captured length {captured} runs past the end of its block"),
            )
        })?;
    let iface = interfaces
        .get(usize::try_from(interface).unwrap_or(usize::MAX))
        .ok_or_else(|| {
            corrupt(
                number,
                offset,
                &format!("packet names interface {interface}, which was never described"),
            )
        })?;
    let timestamp = ticks.map_or(Duration::ZERO, |t| {
        iface
            .resolution
            .to_duration(t)
            .saturating_add(Duration::from_secs(iface.offset_secs))
    });
    Ok(Frame {
        number,
        timestamp,
        link_type: iface.link_type,
        interface,
        original_len: original.max(u32::try_from(data.len()).unwrap_or(u32::MAX)),
        big_endian_file: big_endian,
        data,
    })
}

fn corrupt(frame: FrameNumber, offset: u64, reason: &str) -> Error {
    Error::Corrupt {
        frame,
        offset,
        reason: reason.to_string(),
    }
}

fn describe(e: &pcap_file::PcapError) -> String {
    match e {
        pcap_file::PcapError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            "the file ends inside it".into()
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolutions_convert_ticks() {
        let micro = TsResolution::from_option(6);
        assert_eq!(micro.to_duration(1_500_000), Duration::new(1, 500_000_000));
        let nano = TsResolution::from_option(9);
        assert_eq!(nano.to_duration(2_000_000_007), Duration::new(2, 7));
        let binary = TsResolution::from_option(0x80 | 10);
        assert_eq!(
            binary.to_duration(1024 + 512),
            Duration::new(1, 500_000_000)
        );
        assert_eq!(
            TsResolution::from_option(0x7f).to_duration(5),
            Duration::ZERO
        );
    }
}
