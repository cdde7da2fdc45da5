//! `Writer`: selected frames → a pcap or pcapng file, with their original timestamps, lengths and
//! link types, like `tshark -w`.
//!
//! It owns the output formats (pcap savefile, draft-ietf-opsawg-pcap; pcapng,
//! draft-ietf-opsawg-pcapng), written little-endian. It does not choose frames: the caller writes
//! the ones it selected. Nothing is allocated per frame (one interface table entry per new
//! interface, that is all).

use std::collections::HashMap;
use std::io::Write;

use super::{FileFormat, Frame, FrameNumber, Interface, LinkType, TsResolution};
use crate::error::Error;

/// pcap magic numbers, written little-endian (draft-ietf-opsawg-pcap §4).
const PCAP_MAGIC_MICRO: u32 = 0xa1b2_c3d4;
const PCAP_MAGIC_NANO: u32 = 0xa1b2_3c4d;
/// libpcap's default snapshot length, written when no interface gives one.
const DEFAULT_SNAPLEN: u32 = 262_144;

const SECTION_HEADER: u32 = 0x0A0D_0D0A;
const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;
const INTERFACE_DESCRIPTION: u32 = 0x0000_0001;
const ENHANCED_PACKET: u32 = 0x0000_0006;
const SHB_USERAPPL: u16 = 4;
const IF_TSRESOL: u16 = 9;
const OPT_ENDOFOPT: u16 = 0;

/// The application named in the pcapng section header (`shb_userappl`).
const USER_APPL: &str = concat!("pcaplab ", env!("CARGO_PKG_VERSION"));

/// The header of a pcap output, fixed by the first interface or frame.
#[derive(Debug, Clone, Copy)]
struct PcapHeader {
    link_type: LinkType,
    resolution: TsResolution,
}

enum State {
    /// `None` until the first interface or frame says which link type the file holds.
    Pcap(Option<PcapHeader>),
    PcapNg {
        /// The interfaces written so far, by output interface id.
        written: Vec<Interface>,
        /// Input (section, interface) → output interface id.
        ids: HashMap<(u32, u32), u32>,
    },
}

/// Writes frames to a pcap or pcapng stream.
///
/// * pcap holds one link type: the first interface given (or the first frame written) fixes it,
///   with nanosecond timestamps when that interface's resolution is finer than a microsecond.
///   A frame of another link type is refused with [`Error::NotWritable`].
/// * pcapng keeps every interface: those given to [`Writer::create`] become interfaces
///   0, 1, … of the one section written, and a frame from any other (section, interface) adds an
///   Interface Description Block when first seen (so frames from several input sections can be
///   written together, as tshark does). Timestamps are written at the frame's own resolution,
///   so nanoseconds (or any `if_tsresol`) are kept.
///
/// Wrap a file in a [`std::io::BufWriter`]; call [`Writer::finish`] at the end.
///
/// ```no_run
/// use std::fs::File;
/// use std::io::BufWriter;
/// use pcaplab::capture::{CaptureReader, FileFormat, Writer};
///
/// let mut reader = CaptureReader::open("in.pcapng")?;
/// let out = BufWriter::new(File::create("out.pcapng").expect("create"));
/// let mut writer = Writer::create(out, FileFormat::PcapNg, reader.interfaces())?;
/// while let Some(frame) = reader.next_frame() {
///     let frame = frame?;
///     if frame.number.0 % 2 == 1 {
///         writer.write(&frame)?;
///     }
/// }
/// writer.finish()?;
/// # Ok::<(), pcaplab::Error>(())
/// ```
pub struct Writer<W: Write> {
    out: W,
    format: FileFormat,
    /// Bytes written so far (the offset named by write errors).
    offset: u64,
    state: State,
}

impl<W: Write> Writer<W> {
    /// Starts a capture in `format` on `out`, declaring `interfaces` (usually
    /// [`CaptureReader::interfaces`](super::CaptureReader::interfaces) of the input; may be
    /// empty). pcapng writes its section header and these interfaces at once; pcap writes its
    /// file header from the first interface, or from the first frame when none is given.
    ///
    /// # Errors
    /// [`Error::Write`] when writing fails, [`Error::NotWritable`] for a link type number
    /// pcapng cannot hold (above 65535).
    pub fn create(out: W, format: FileFormat, interfaces: &[Interface]) -> Result<Self, Error> {
        let state = match format {
            FileFormat::Pcap => State::Pcap(None),
            FileFormat::PcapNg => State::PcapNg {
                written: Vec::new(),
                ids: HashMap::new(),
            },
        };
        let mut writer = Writer {
            out,
            format,
            offset: 0,
            state,
        };
        match format {
            FileFormat::Pcap => {
                if let Some(first) = interfaces.first() {
                    // A finer interface of the same link type makes the whole file nanosecond.
                    let nano = interfaces.iter().any(|i| {
                        i.link_type == first.link_type
                            && i.ts_resolution.is_finer_than(TsResolution::MICRO)
                    });
                    let snaplen = interfaces
                        .iter()
                        .filter(|i| i.link_type == first.link_type)
                        .map(|i| i.snaplen)
                        .max()
                        .unwrap_or(0);
                    writer.write_pcap_header(first.link_type, nano, snaplen)?;
                }
            }
            FileFormat::PcapNg => {
                writer.write_section_header()?;
                for (i, iface) in interfaces.iter().enumerate() {
                    let key = (1, u32::try_from(i).unwrap_or(u32::MAX));
                    writer.add_interface(key, *iface, FrameNumber(0))?;
                }
            }
        }
        Ok(writer)
    }

    /// The format being written.
    pub fn format(&self) -> FileFormat {
        self.format
    }

    /// Bytes written so far.
    pub fn bytes_written(&self) -> u64 {
        self.offset
    }

    /// Writes one frame: its captured bytes, wire length and timestamp as they were read.
    ///
    /// # Errors
    /// [`Error::NotWritable`] when the frame cannot be represented (a second link type in a
    /// pcap file, a timestamp or length beyond the format's fields), [`Error::Write`] when
    /// writing fails.
    pub fn write(&mut self, frame: &Frame<'_>) -> Result<(), Error> {
        let captured = u32::try_from(frame.data.len()).map_err(|_| {
            not_writable(
                frame,
                "its captured length does not fit a 32-bit length field",
            )
        })?;
        match self.state {
            State::Pcap(header) => {
                let header = match header {
                    Some(h) => h,
                    None => {
                        let nano = frame.ts_resolution.is_finer_than(TsResolution::MICRO);
                        self.write_pcap_header(frame.link_type, nano, frame.snaplen)?
                    }
                };
                if header.link_type.number() != frame.link_type.number() {
                    return Err(not_writable(
                        frame,
                        &format!(
                            "its link type is {} ({}) but this pcap file holds {} ({}), and a pcap file has one link type; write pcapng to keep both",
                            frame.link_type.name(),
                            frame.link_type.number(),
                            header.link_type.name(),
                            header.link_type.number()
                        ),
                    ));
                }
                let secs = u32::try_from(frame.timestamp.as_secs()).map_err(|_| {
                    not_writable(
                        frame,
                        "its timestamp is beyond what pcap's 32-bit seconds hold",
                    )
                })?;
                let frac = if header.resolution == TsResolution::NANO {
                    frame.timestamp.subsec_nanos()
                } else {
                    frame.timestamp.subsec_micros()
                };
                let mut record = [0u8; 16];
                put_u32(&mut record, 0, secs);
                put_u32(&mut record, 4, frac);
                put_u32(&mut record, 8, captured);
                put_u32(&mut record, 12, frame.original_len);
                self.put(&record)?;
                self.put(frame.data)
            }
            State::PcapNg { .. } => {
                let (id, resolution) = self.interface_for(frame)?;
                let ticks = resolution.ticks(frame.timestamp).ok_or_else(|| {
                    not_writable(
                        frame,
                        "its timestamp does not fit pcapng's 64-bit tick count at its resolution",
                    )
                })?;
                let padded = captured.next_multiple_of(4);
                let block_len = padded.checked_add(32).ok_or_else(|| {
                    not_writable(frame, "the packet is too long for a pcapng block")
                })?;
                // §4.3: type, length, interface id, timestamp (upper, lower), captured length,
                // original length, packet data padded to 32 bits, no options, length.
                let mut head = [0u8; 28];
                put_u32(&mut head, 0, ENHANCED_PACKET);
                put_u32(&mut head, 4, block_len);
                put_u32(&mut head, 8, id);
                put_u32(&mut head, 12, u32::try_from(ticks >> 32).unwrap_or(0));
                put_u32(
                    &mut head,
                    16,
                    u32::try_from(ticks & 0xffff_ffff).unwrap_or(0),
                );
                put_u32(&mut head, 20, captured);
                put_u32(&mut head, 24, frame.original_len);
                self.put(&head)?;
                self.put(frame.data)?;
                let pad = usize::try_from(padded - captured).unwrap_or(0);
                self.put([0u8; 3].get(..pad).unwrap_or_default())?;
                self.put(&block_len.to_le_bytes())
            }
        }
    }

    /// Finishes the file (a pcap file that saw no interface and no frame gets an Ethernet
    /// header), flushes it and gives the output back.
    ///
    /// # Errors
    /// [`Error::Write`] when writing or flushing fails.
    pub fn finish(mut self) -> Result<W, Error> {
        if let State::Pcap(None) = self.state {
            self.write_pcap_header(LinkType::Ethernet, false, DEFAULT_SNAPLEN)?;
        }
        let offset = self.offset;
        self.out
            .flush()
            .map_err(|source| Error::Write { offset, source })?;
        Ok(self.out)
    }

    /// The output interface for `frame`, adding an Interface Description Block the first time a
    /// (section, interface) is seen, or when it differs from the one declared.
    fn interface_for(&mut self, frame: &Frame<'_>) -> Result<(u32, TsResolution), Error> {
        let key = (frame.section, frame.interface);
        if let State::PcapNg { written, ids } = &self.state
            && let Some(&id) = ids.get(&key)
            && let Some(iface) = written.get(usize::try_from(id).unwrap_or(usize::MAX))
            && iface.link_type == frame.link_type
            && iface.ts_resolution == frame.ts_resolution
        {
            return Ok((id, iface.ts_resolution));
        }
        let iface = Interface {
            link_type: frame.link_type,
            snaplen: frame.snaplen,
            ts_resolution: frame.ts_resolution,
            ts_offset_secs: 0,
        };
        let id = self.add_interface(key, iface, frame.number)?;
        Ok((id, iface.ts_resolution))
    }

    /// Writes an Interface Description Block and records it under `key`. Timestamps are written
    /// as absolute times, so no `if_tsoffset` is written.
    fn add_interface(
        &mut self,
        key: (u32, u32),
        iface: Interface,
        frame: FrameNumber,
    ) -> Result<u32, Error> {
        let State::PcapNg { written, ids } = &mut self.state else {
            return Ok(0);
        };
        let link_type =
            u16::try_from(iface.link_type.number()).map_err(|_| Error::NotWritable {
                frame,
                reason: format!(
                    "link type {} does not fit pcapng's 16-bit link type field",
                    iface.link_type.number()
                ),
            })?;
        let id = u32::try_from(written.len()).unwrap_or(u32::MAX);
        written.push(iface);
        ids.insert(key, id);
        // §4.2: type, length, link type, reserved, snaplen, options, length.
        let with_resol = iface.ts_resolution != TsResolution::MICRO;
        let len: u32 = if with_resol { 32 } else { 20 };
        let mut block = [0u8; 32];
        put_u32(&mut block, 0, INTERFACE_DESCRIPTION);
        put_u32(&mut block, 4, len);
        put_u16(&mut block, 8, link_type);
        put_u32(&mut block, 12, iface.snaplen);
        if with_resol {
            put_u16(&mut block, 16, IF_TSRESOL);
            put_u16(&mut block, 18, 1);
            if let Some(b) = block.get_mut(20) {
                *b = iface.ts_resolution.to_if_tsresol();
            }
            put_u16(&mut block, 24, OPT_ENDOFOPT);
            put_u16(&mut block, 26, 0);
        }
        put_u32(&mut block, usize::try_from(len).unwrap_or(20) - 4, len);
        self.put(
            block
                .get(..usize::try_from(len).unwrap_or(20))
                .unwrap_or_default(),
        )?;
        Ok(id)
    }

    /// Writes the pcap file header and remembers it.
    fn write_pcap_header(
        &mut self,
        link_type: LinkType,
        nano: bool,
        snaplen: u32,
    ) -> Result<PcapHeader, Error> {
        let resolution = if nano {
            TsResolution::NANO
        } else {
            TsResolution::MICRO
        };
        let header = PcapHeader {
            link_type,
            resolution,
        };
        self.state = State::Pcap(Some(header));
        // draft-ietf-opsawg-pcap §4: magic, version 2.4, two reserved words, snaplen, link type.
        let mut bytes = [0u8; 24];
        put_u32(
            &mut bytes,
            0,
            if nano {
                PCAP_MAGIC_NANO
            } else {
                PCAP_MAGIC_MICRO
            },
        );
        put_u16(&mut bytes, 4, 2);
        put_u16(&mut bytes, 6, 4);
        let snaplen = if snaplen == 0 {
            DEFAULT_SNAPLEN
        } else {
            snaplen
        };
        put_u32(&mut bytes, 16, snaplen);
        put_u32(&mut bytes, 20, link_type.number());
        self.put(&bytes)?;
        Ok(header)
    }

    /// Writes the pcapng Section Header Block (version 1.0, section length unknown).
    fn write_section_header(&mut self) -> Result<(), Error> {
        let appl = USER_APPL.as_bytes();
        let appl_len = u16::try_from(appl.len()).unwrap_or(0);
        let padded = usize::from(appl_len).next_multiple_of(4);
        // Header (8) + byte-order magic, version, section length (16) + option (4 + value) +
        // end of options (4) + trailing length (4).
        let len = u32::try_from(28 + 4 + padded + 4).unwrap_or(0);
        let mut head = [0u8; 28];
        put_u32(&mut head, 0, SECTION_HEADER);
        put_u32(&mut head, 4, len);
        put_u32(&mut head, 8, BYTE_ORDER_MAGIC);
        put_u16(&mut head, 12, 1);
        put_u16(&mut head, 14, 0);
        // Section length -1: not given (§4.1).
        if let Some(s) = head.get_mut(16..24) {
            s.copy_from_slice(&(-1i64).to_le_bytes());
        }
        put_u16(&mut head, 24, SHB_USERAPPL);
        put_u16(&mut head, 26, appl_len);
        self.put(&head)?;
        self.put(appl)?;
        self.put([0u8; 3].get(..padded - appl.len()).unwrap_or_default())?;
        let mut tail = [0u8; 8];
        put_u16(&mut tail, 0, OPT_ENDOFOPT);
        put_u32(&mut tail, 4, len);
        self.put(&tail)
    }

    fn put(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let offset = self.offset;
        self.out
            .write_all(bytes)
            .map_err(|source| Error::Write { offset, source })?;
        self.offset = offset.saturating_add(bytes.len() as u64);
        Ok(())
    }
}

fn not_writable(frame: &Frame<'_>, reason: &str) -> Error {
    Error::NotWritable {
        frame: frame.number,
        reason: reason.to_string(),
    }
}

fn put_u32(buf: &mut [u8], at: usize, value: u32) {
    if let Some(s) = buf.get_mut(at..at + 4) {
        s.copy_from_slice(&value.to_le_bytes());
    }
}

fn put_u16(buf: &mut [u8], at: usize, value: u16) {
    if let Some(s) = buf.get_mut(at..at + 2) {
        s.copy_from_slice(&value.to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;
    use std::time::Duration;

    use super::*;
    use crate::capture::CaptureReader;

    fn frame(number: u64, data: &[u8], resolution: TsResolution) -> Frame<'_> {
        Frame {
            number: FrameNumber(number),
            timestamp: Duration::new(1_700_000_000 + number, 123_456_789),
            link_type: LinkType::RawIp,
            interface: 0,
            original_len: u32::try_from(data.len()).unwrap() + 7,
            big_endian_file: false,
            data,
            section: 1,
            ts_resolution: resolution,
            snaplen: 0,
        }
    }

    #[test]
    fn every_captured_length_is_padded_and_read_back() {
        let data: Vec<u8> = (0..9).collect();
        for format in [FileFormat::Pcap, FileFormat::PcapNg] {
            let mut w = Writer::create(Vec::new(), format, &[]).unwrap();
            for n in 0..=9 {
                w.write(&frame(n as u64 + 1, &data[..n], TsResolution::NANO))
                    .unwrap();
            }
            let bytes = w.finish().unwrap();
            let mut r = CaptureReader::new(Cursor::new(&bytes)).unwrap();
            for n in 0..=9 {
                let f = r.next_frame().unwrap().unwrap();
                let want = frame(n as u64 + 1, &data[..n], TsResolution::NANO);
                assert_eq!(f.data, want.data, "{format:?} {n}");
                assert_eq!(f.original_len, want.original_len);
                assert_eq!(f.timestamp, want.timestamp);
                assert_eq!(f.ts_resolution, TsResolution::NANO);
                assert_eq!(f.link_type, LinkType::RawIp);
            }
            assert!(r.next_frame().is_none());
        }
    }

    #[test]
    fn pcap_seconds_beyond_32_bits_are_refused() {
        let mut w = Writer::create(Vec::new(), FileFormat::Pcap, &[]).unwrap();
        let mut f = frame(1, &[1], TsResolution::MICRO);
        f.timestamp = Duration::from_secs(1 << 33);
        let err = w.write(&f).unwrap_err();
        assert!(err.to_string().contains("cannot write frame 1"), "{err}");
    }
}
