//! pcapng reading (draft-ietf-opsawg-pcapng): blocks → frames, with the per-section interface
//! table (link type, snap length, timestamp resolution and offset).
//!
//! Blocks are parsed by hand from the read buffer. Only what decoding needs is kept per
//! interface ([`Interface`]: a few bytes, whatever options the block carried), the number of
//! interfaces per section is capped ([`Limits::max_interfaces`]), and blocks that carry no
//! packets are skipped without being buffered, so memory follows the largest packet, not the
//! file (issue 15). A section whose version is not 1.0 or 1.2 is refused, as libpcap and
//! Wireshark refuse it (issue 16).

use std::io::Read;
use std::time::Duration;

use super::input::Input;
use super::pcap::u32_at;
use super::{Frame, FrameNumber, Interface, Limits, LinkType, TsResolution};
use crate::error::Error;

/// Block types (draft-ietf-opsawg-pcapng §4, §11.1).
const SECTION_HEADER: u32 = 0x0A0D_0D0A;
const INTERFACE_DESCRIPTION: u32 = 0x0000_0001;
const OBSOLETE_PACKET: u32 = 0x0000_0002;
const SIMPLE_PACKET: u32 = 0x0000_0003;
const ENHANCED_PACKET: u32 = 0x0000_0006;

/// Option codes of the Interface Description Block (§4.2).
const OPT_ENDOFOPT: u16 = 0;
const IF_TSRESOL: u16 = 9;
const IF_TSOFFSET: u16 = 14;

/// Smallest lengths of the blocks read here: header + fixed fields + trailer.
const MIN_SHB_LEN: usize = 28;
const MIN_IDB_LEN: usize = 20;
const MIN_EPB_LEN: usize = 32;
const MIN_SPB_LEN: usize = 16;
const MIN_PB_LEN: usize = 32;
/// What a packet block may hold beyond its packet bytes (fixed fields, options).
const BLOCK_OVERHEAD: usize = 64 * 1024;

/// A packet block's fields, read before its bytes are handed out.
struct PacketFields {
    interface: u32,
    ticks: Option<u64>,
    captured: usize,
    original: u32,
    /// Offset of the packet bytes from the start of the block.
    data_at: usize,
}

/// A pcapng reader that yields frames, one block at a time.
pub(super) struct NgReader<R> {
    input: Input<R>,
    limits: Limits,
    big_endian: bool,
    /// 1-based number of the current section.
    section: u32,
    /// The current section's interfaces, in order of description.
    interfaces: Vec<Interface>,
}

impl<R: Read> NgReader<R> {
    /// Reads the first Section Header Block and the Interface Description Blocks right after
    /// it (so that [`NgReader::interfaces`] knows them before the first packet).
    pub(super) fn open(input: Input<R>, limits: Limits) -> Result<Self, Error> {
        let mut reader = NgReader {
            input,
            limits,
            big_endian: false,
            section: 0,
            interfaces: Vec::new(),
        };
        reader.read_section_header(FrameNumber(1))?;
        // A problem in these blocks is left in place: the first call to `next_frame` meets it
        // again and reports it with the frame it stopped.
        while let Ok(Some((INTERFACE_DESCRIPTION, len, offset))) =
            reader.block_header(FrameNumber(1))
        {
            if reader.read_interface(len, offset, FrameNumber(1)).is_err() {
                break;
            }
        }
        Ok(reader)
    }

    /// The interfaces of the current section.
    pub(super) fn interfaces(&self) -> &[Interface] {
        &self.interfaces
    }

    /// Input offset of the next block.
    pub(super) fn offset(&self) -> u64 {
        self.input.offset()
    }

    /// Reads blocks until the next packet; `None` at the clean end of the input.
    pub(super) fn next_frame(&mut self, number: FrameNumber) -> Option<Result<Frame<'_>, Error>> {
        let (len, offset, fields, iface) = loop {
            let (block_type, len, offset) = match self.block_header(number) {
                Ok(Some(h)) => h,
                Ok(None) => return None,
                Err(e) => return Some(Err(e)),
            };
            let step = match block_type {
                SECTION_HEADER => self.read_section_header(number),
                INTERFACE_DESCRIPTION => self.read_interface(len, offset, number),
                ENHANCED_PACKET | SIMPLE_PACKET | OBSOLETE_PACKET => {
                    match self.read_packet(block_type, len, offset, number) {
                        Ok((fields, iface)) => break (len, offset, fields, iface),
                        Err(e) => Err(e),
                    }
                }
                // Name resolution, interface statistics, decryption secrets, custom and unknown
                // blocks carry no packets: skipped without being buffered.
                _ => self.skip_block(len, offset, number),
            };
            if let Err(e) = step {
                return Some(Err(e));
            }
        };
        let timestamp = fields.ticks.map_or(Duration::ZERO, |t| {
            let t = iface.ts_resolution.to_duration(t);
            let shift = Duration::from_secs(iface.ts_offset_secs.unsigned_abs());
            if iface.ts_offset_secs >= 0 {
                t.saturating_add(shift)
            } else {
                t.saturating_sub(shift)
            }
        });
        let section = self.section;
        let big_endian_file = self.big_endian;
        let end = fields.data_at.saturating_add(fields.captured);
        let Some(data) = self.input.take(len, fields.data_at, end) else {
            return Some(Err(corrupt(
                number,
                offset,
                "the packet block is not in the read buffer",
            )));
        };
        Some(Ok(Frame {
            number,
            timestamp,
            link_type: iface.link_type,
            interface: fields.interface,
            original_len: fields.original,
            big_endian_file,
            data,
            section,
            ts_resolution: iface.ts_resolution,
            snaplen: iface.snaplen,
        }))
    }

    /// Reads the next block's type and total length without consuming it: `None` at the clean
    /// end of the input. For a section header the length is read later, in the byte order its
    /// own byte-order magic gives, and 0 is returned here.
    fn block_header(&mut self, number: FrameNumber) -> Result<Option<(u32, usize, u64)>, Error> {
        let offset = self.input.offset();
        match self.input.fill(8) {
            Ok(true) => {}
            Ok(false) if self.input.available().is_empty() => return Ok(None),
            Ok(false) => {
                return Err(truncated(
                    number,
                    offset,
                    "the file ends inside a block header",
                ));
            }
            Err(source) => return Err(Error::Io { offset, source }),
        }
        let head = self.input.available();
        let block_type = u32_at(head, 0, self.big_endian).unwrap_or(0);
        if block_type == SECTION_HEADER {
            return Ok(Some((SECTION_HEADER, 0, offset)));
        }
        let raw_len = u32_at(head, 4, self.big_endian).unwrap_or(0);
        let len = usize::try_from(raw_len).unwrap_or(usize::MAX);
        if len < 12 || !len.is_multiple_of(4) {
            return Err(corrupt(
                number,
                offset,
                &format!("block length {raw_len} is not a multiple of 4 of at least 12"),
            ));
        }
        Ok(Some((block_type, len, offset)))
    }

    /// Buffers a whole block of `len` bytes at the read position and checks its trailing length
    /// copy. Nothing is consumed.
    fn buffer_block(
        &mut self,
        len: usize,
        min_len: usize,
        offset: u64,
        number: FrameNumber,
    ) -> Result<(), Error> {
        if len < min_len {
            return Err(corrupt(
                number,
                offset,
                &format!("block length {len} is below the {min_len} bytes of its fixed fields"),
            ));
        }
        let max = self.limits.max_record_len.saturating_add(BLOCK_OVERHEAD);
        if len > max {
            return Err(corrupt(
                number,
                offset,
                &format!(
                    "the block claims {len} bytes, more than the largest block accepted ({max} bytes)"
                ),
            ));
        }
        match self.input.fill(len) {
            Ok(true) => {}
            Ok(false) => {
                let present = self.input.available().len();
                return Err(truncated(
                    number,
                    offset,
                    &format!(
                        "the file ends inside a block: {present} of its {len} bytes are there"
                    ),
                ));
            }
            Err(source) => return Err(Error::Io { offset, source }),
        }
        match self.trailer_mismatch(len) {
            Some(reason) => Err(corrupt(number, offset, &reason)),
            None => Ok(()),
        }
    }

    /// Compares the trailing copy of the block length with the leading one (§3.1); returns what
    /// is wrong when they differ.
    fn trailer_mismatch(&self, len: usize) -> Option<String> {
        let trailer = self
            .input
            .peek(len - 4, len)
            .and_then(|t| u32_at(t, 0, self.big_endian));
        (trailer.and_then(|t| usize::try_from(t).ok()) != Some(len)).then(|| {
            format!(
                "the block's trailing length {} differs from its leading length {len}",
                trailer.unwrap_or(0)
            )
        })
    }

    /// Skips a block that carries no packet, checking its trailing length.
    fn skip_block(&mut self, len: usize, offset: u64, number: FrameNumber) -> Result<(), Error> {
        let cut = || truncated(number, offset, "the file ends inside a block");
        match self.input.skip(len as u64 - 4) {
            Ok(true) => {}
            Ok(false) => return Err(cut()),
            Err(source) => return Err(Error::Io { offset, source }),
        }
        match self.input.fill(4) {
            Ok(true) => {}
            Ok(false) => return Err(cut()),
            Err(source) => return Err(Error::Io { offset, source }),
        }
        let trailer = u32_at(self.input.available(), 0, self.big_endian).unwrap_or(0);
        if usize::try_from(trailer).ok() != Some(len) {
            return Err(corrupt(
                number,
                offset,
                &format!(
                    "the block's trailing length {trailer} differs from its leading length {len}"
                ),
            ));
        }
        self.input.consume(4);
        Ok(())
    }

    /// Reads a Section Header Block: byte order, version, and a fresh interface table.
    fn read_section_header(&mut self, number: FrameNumber) -> Result<(), Error> {
        let offset = self.input.offset();
        let first = self.section == 0;
        // Problems with the very first block mean the input is no pcapng file at all.
        let bad = |reason: String| {
            if first {
                Error::NotACapture { reason }
            } else {
                corrupt(number, offset, &reason)
            }
        };
        let fill = |input: &mut Input<R>, need: usize| {
            input
                .fill(need)
                .map_err(|source| Error::Io { offset, source })
        };
        if !fill(&mut self.input, 12)? {
            return Err(if first {
                bad("the file ends inside the pcapng section header".into())
            } else {
                truncated(
                    number,
                    offset,
                    "the file ends inside a section header block",
                )
            });
        }
        let big_endian = match self.input.peek(8, 12) {
            Some([0x1a, 0x2b, 0x3c, 0x4d]) => true,
            Some([0x4d, 0x3c, 0x2b, 0x1a]) => false,
            _ => {
                return Err(bad(
                    "the section header has an invalid byte-order magic".into()
                ));
            }
        };
        let raw_len = u32_at(self.input.available(), 4, big_endian).unwrap_or(0);
        let len = usize::try_from(raw_len).unwrap_or(usize::MAX);
        if len < MIN_SHB_LEN || !len.is_multiple_of(4) {
            return Err(bad(format!(
                "section header length {raw_len} is not a multiple of 4 of at least {MIN_SHB_LEN}"
            )));
        }
        let max = self.limits.max_record_len.saturating_add(BLOCK_OVERHEAD);
        if len > max {
            return Err(bad(format!(
                "the section header claims {len} bytes, more than the largest block accepted ({max} bytes)"
            )));
        }
        if !fill(&mut self.input, len)? {
            let present = self.input.available().len();
            let detail = format!(
                "the file ends inside a section header: {present} of its {len} bytes are there"
            );
            return Err(if first {
                bad(detail)
            } else {
                truncated(number, offset, &detail)
            });
        }
        self.big_endian = big_endian;
        if let Some(reason) = self.trailer_mismatch(len) {
            return Err(bad(reason));
        }
        let head = self.input.peek(12, 16).unwrap_or_default();
        let half = |at: usize| u16_at(head, at, big_endian).unwrap_or(0);
        let (major, minor) = (half(0), half(2));
        // §4.1: major version 1; minor 0 is current and 2 was written by some old tools.
        // libpcap and Wireshark read exactly these two and refuse every other version.
        if !(major == 1 && (minor == 0 || minor == 2)) {
            return Err(Error::Unsupported {
                offset,
                reason: format!(
                    "pcapng section {} has version {major}.{minor}; only versions 1.0 and 1.2 are defined, and libpcap and Wireshark refuse the others",
                    self.section + 1
                ),
            });
        }
        self.section += 1;
        self.interfaces.clear();
        self.input.consume(len);
        Ok(())
    }

    /// Reads an Interface Description Block into the section's table.
    fn read_interface(
        &mut self,
        len: usize,
        offset: u64,
        number: FrameNumber,
    ) -> Result<(), Error> {
        self.buffer_block(len, MIN_IDB_LEN, offset, number)?;
        if self.interfaces.len() >= self.limits.max_interfaces {
            return Err(Error::LimitExceeded {
                frame: number,
                offset,
                reason: format!(
                    "pcapng section {} describes more than {} interfaces, the most accepted per section",
                    self.section, self.limits.max_interfaces
                ),
            });
        }
        let body = self.input.peek(8, len - 4).unwrap_or_default();
        let iface = parse_interface(body, self.big_endian);
        self.interfaces.push(iface);
        self.input.consume(len);
        Ok(())
    }

    /// Buffers a packet block and reads its fixed fields and interface; nothing is consumed.
    fn read_packet(
        &mut self,
        block_type: u32,
        len: usize,
        offset: u64,
        number: FrameNumber,
    ) -> Result<(PacketFields, Interface), Error> {
        let min = match block_type {
            SIMPLE_PACKET => MIN_SPB_LEN,
            OBSOLETE_PACKET => MIN_PB_LEN,
            _ => MIN_EPB_LEN,
        };
        self.buffer_block(len, min, offset, number)?;
        let block = self.input.peek(0, len).unwrap_or_default();
        let fields = packet_fields(block_type, block, self.big_endian, &self.interfaces)
            .map_err(|reason| corrupt(number, offset, &reason))?;
        let iface = self
            .interfaces
            .get(usize::try_from(fields.interface).unwrap_or(usize::MAX))
            .copied()
            .ok_or_else(|| {
                corrupt(
                    number,
                    offset,
                    &format!(
                        "the packet names interface {}, but section {} describes only {}",
                        fields.interface,
                        self.section,
                        self.interfaces.len()
                    ),
                )
            })?;
        Ok((fields, iface))
    }
}

/// Reads a `u16` at `at` in the section's byte order.
fn u16_at(bytes: &[u8], at: usize, big_endian: bool) -> Option<u16> {
    let b: [u8; 2] = bytes.get(at..at.checked_add(2)?)?.try_into().ok()?;
    Some(if big_endian {
        u16::from_be_bytes(b)
    } else {
        u16::from_le_bytes(b)
    })
}

/// Reads link type, snaplen and the two timestamp options from an IDB body (the block without
/// its 8-byte header and 4-byte trailer). Other options are not kept.
fn parse_interface(body: &[u8], big: bool) -> Interface {
    let mut iface = Interface {
        link_type: LinkType::from_number(u32::from(u16_at(body, 0, big).unwrap_or(0))),
        snaplen: u32_at(body, 4, big).unwrap_or(0),
        ts_resolution: TsResolution::MICRO,
        ts_offset_secs: 0,
    };
    let mut at = 8;
    // §3.5: code (2), length (2), value padded to 4 bytes; an option running past the block
    // ends the list (what came before it is kept).
    while let (Some(code), Some(olen)) = (u16_at(body, at, big), u16_at(body, at + 2, big)) {
        if code == OPT_ENDOFOPT {
            break;
        }
        let olen = usize::from(olen);
        let Some(value) = body.get(at + 4..at + 4 + olen) else {
            break;
        };
        match (code, value) {
            (IF_TSRESOL, [byte]) => iface.ts_resolution = TsResolution::from_if_tsresol(*byte),
            (IF_TSOFFSET, v) if v.len() == 8 => {
                let b: [u8; 8] = v.try_into().unwrap_or_default();
                iface.ts_offset_secs = if big {
                    i64::from_be_bytes(b)
                } else {
                    i64::from_le_bytes(b)
                };
            }
            _ => {}
        }
        at += 4 + olen.next_multiple_of(4);
    }
    iface
}

/// Reads the fixed fields of an EPB, SPB or obsolete PB (`block` is the whole block) and checks
/// that the captured bytes lie inside it.
fn packet_fields(
    block_type: u32,
    block: &[u8],
    big: bool,
    interfaces: &[Interface],
) -> Result<PacketFields, String> {
    let word = |at: usize| u32_at(block, at, big).unwrap_or(0);
    let body_end = block.len().saturating_sub(4);
    let fields = match block_type {
        SIMPLE_PACKET => {
            // §4.4: the captured length is the original length, the snaplen of interface 0
            // or the block's room, whichever is smallest.
            let original = word(8);
            let room = body_end.saturating_sub(12);
            let mut captured = usize::try_from(original).unwrap_or(usize::MAX).min(room);
            let snaplen = interfaces.first().map_or(0, |i| i.snaplen);
            if snaplen > 0 {
                captured = captured.min(usize::try_from(snaplen).unwrap_or(usize::MAX));
            }
            PacketFields {
                interface: 0,
                ticks: None,
                captured,
                original,
                data_at: 12,
            }
        }
        OBSOLETE_PACKET => PacketFields {
            // Interface id (u16) then drops count (u16), in the section's byte order.
            interface: u32::from(u16_at(block, 8, big).unwrap_or(0)),
            ticks: Some((u64::from(word(12)) << 32) | u64::from(word(16))),
            captured: usize::try_from(word(20)).unwrap_or(usize::MAX),
            original: word(24),
            data_at: 28,
        },
        _ => PacketFields {
            interface: word(8),
            ticks: Some((u64::from(word(12)) << 32) | u64::from(word(16))),
            captured: usize::try_from(word(20)).unwrap_or(usize::MAX),
            original: word(24),
            data_at: 28,
        },
    };
    if fields.data_at.saturating_add(fields.captured) > body_end {
        return Err(format!(
            "captured length {} runs past the end of its block",
            fields.captured
        ));
    }
    Ok(fields)
}

fn truncated(frame: FrameNumber, offset: u64, detail: &str) -> Error {
    Error::TruncatedRecord {
        frame,
        offset,
        detail: detail.to_string(),
    }
}

fn corrupt(frame: FrameNumber, offset: u64, reason: &str) -> Error {
    Error::Corrupt {
        frame,
        offset,
        reason: reason.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(block_type: u32, body: &[u8]) -> Vec<u8> {
        let padded = body.len().next_multiple_of(4);
        let len = u32::try_from(12 + padded).unwrap();
        let mut b = block_type.to_le_bytes().to_vec();
        b.extend_from_slice(&len.to_le_bytes());
        b.extend_from_slice(body);
        b.resize(8 + padded, 0);
        b.extend_from_slice(&len.to_le_bytes());
        b
    }

    fn shb() -> Vec<u8> {
        let mut body = 0x1A2B_3C4Du32.to_le_bytes().to_vec();
        body.extend_from_slice(&[1, 0, 0, 0]); // version 1.0
        body.extend_from_slice(&(-1i64).to_le_bytes());
        block(SECTION_HEADER, &body)
    }

    fn idb(snaplen: u32) -> Vec<u8> {
        let mut body = vec![1, 0, 0, 0];
        body.extend_from_slice(&snaplen.to_le_bytes());
        block(INTERFACE_DESCRIPTION, &body)
    }

    fn epb(interface: u32, data: &[u8]) -> Vec<u8> {
        let mut body = interface.to_le_bytes().to_vec();
        body.extend_from_slice(&0u32.to_le_bytes());
        body.extend_from_slice(&1_000_000u32.to_le_bytes());
        body.extend_from_slice(&u32::try_from(data.len()).unwrap().to_le_bytes());
        body.extend_from_slice(&100u32.to_le_bytes());
        body.extend_from_slice(data);
        block(ENHANCED_PACKET, &body)
    }

    /// Reads every frame; returns their data and the error that stopped reading.
    fn read_all(bytes: &[u8]) -> (Vec<Vec<u8>>, Option<Error>) {
        let mut input = Input::new(bytes);
        let _ = input.fill(4);
        let mut reader = match NgReader::open(input, Limits::default()) {
            Ok(r) => r,
            Err(e) => return (Vec::new(), Some(e)),
        };
        let mut frames = Vec::new();
        let mut n = 1;
        while let Some(f) = reader.next_frame(FrameNumber(n)) {
            match f {
                Ok(f) => frames.push(f.data.to_vec()),
                Err(e) => return (frames, Some(e)),
            }
            n += 1;
        }
        (frames, None)
    }

    #[test]
    fn every_prefix_keeps_the_whole_packets_before_the_cut() {
        let mut bytes = shb();
        bytes.extend(idb(0));
        let ends_before = bytes.len();
        bytes.extend(epb(0, &[1, 2, 3]));
        let first_end = bytes.len();
        bytes.extend(block(0x0000_0BAD, &[9; 10])); // custom block, skipped
        let custom_end = bytes.len();
        bytes.extend(block(SIMPLE_PACKET, &[5, 0, 0, 0, 7, 7, 7, 7, 7]));
        let second_end = bytes.len();
        let (frames, err) = read_all(&bytes);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(frames, [vec![1, 2, 3], vec![7; 5]]);
        for cut in 0..bytes.len() {
            let (frames, err) = read_all(&bytes[..cut]);
            let whole = usize::from(cut >= first_end) + usize::from(cut >= second_end);
            assert_eq!(frames.len(), whole, "cut at {cut}");
            let at_boundary = [28, ends_before, first_end, custom_end, second_end].contains(&cut);
            match err {
                None => assert!(at_boundary, "cut at {cut}"),
                Some(Error::NotACapture { .. }) => assert!(cut < 28, "cut at {cut}"),
                Some(Error::TruncatedRecord { frame, .. }) => {
                    assert_eq!(frame.0 as usize, whole + 1, "cut at {cut}");
                }
                Some(e) => panic!("cut at {cut}: {e}"),
            }
        }
    }

    #[test]
    fn inconsistent_blocks_are_corrupt_with_their_offset() {
        let mut good = shb();
        good.extend(idb(0));
        let at = good.len();
        // Trailing length differs from the leading one.
        let mut bytes = good.clone();
        let mut b = epb(0, &[1, 2, 3, 4]);
        let n = b.len();
        b[n - 4] ^= 4;
        bytes.extend(b);
        // Not a multiple of 4; names an undescribed interface; captured length past the block.
        let mut odd = good.clone();
        odd.extend([6, 0, 0, 0, 13, 0, 0, 0, 0, 0, 0, 0, 13]);
        let mut stranger = good.clone();
        stranger.extend(epb(3, &[1]));
        let mut long = good.clone();
        let mut b = epb(0, &[1, 2, 3, 4]);
        b[20] = 200;
        long.extend(b);
        for (what, bytes, needle) in [
            ("trailer", bytes, "trailing length"),
            ("odd", odd, "not a multiple of 4"),
            (
                "interface",
                stranger,
                "interface 3, but section 1 describes only 1",
            ),
            (
                "long",
                long,
                "captured length 200 runs past the end of its block",
            ),
        ] {
            let (frames, err) = read_all(&bytes);
            assert!(frames.is_empty(), "{what}");
            match err {
                Some(Error::Corrupt { offset, reason, .. }) => {
                    assert_eq!(offset, at as u64, "{what}");
                    assert!(reason.contains(needle), "{what}: {reason}");
                }
                other => panic!("{what}: {other:?}"),
            }
        }
    }

    #[test]
    fn simple_packets_are_cut_to_interface_zero_s_snaplen() {
        let mut bytes = shb();
        bytes.extend(idb(3));
        bytes.extend(block(SIMPLE_PACKET, &[8, 0, 0, 0, 1, 2, 3]));
        let (frames, err) = read_all(&bytes);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(frames, [vec![1, 2, 3]]);
    }

    #[test]
    fn interface_options_keep_only_resolution_and_offset() {
        // if_name "lo", if_tsresol 9, if_tsoffset -5, an option running past the block.
        let mut body = vec![0x71, 0, 0, 0, 0, 0, 1, 0]; // LINKTYPE 113, snaplen 65536
        body.extend_from_slice(&[2, 0, 2, 0, b'l', b'o', 0, 0]);
        body.extend_from_slice(&[9, 0, 1, 0, 9, 0, 0, 0]);
        body.extend_from_slice(&[14, 0, 8, 0]);
        body.extend_from_slice(&(-5i64).to_le_bytes());
        body.extend_from_slice(&[4, 0, 200, 0, 1, 2]);
        let iface = parse_interface(&body, false);
        assert_eq!(
            iface,
            Interface {
                link_type: LinkType::LinuxSll,
                snaplen: 65536,
                ts_resolution: TsResolution::NANO,
                ts_offset_secs: -5,
            }
        );
        for n in 0..body.len() {
            let _ = parse_interface(&body[..n], true);
        }
    }
}
