//! Capture files → frames. Wraps pcap-file so that pcap (both byte orders, micro- and nanosecond
//! timestamps) and pcapng (several sections and interfaces, each with its own link type and
//! `if_tsresol`) come out of one reader as [`Frame`]s in file order.
//!
//! It owns reading and record validation; it does not decode packet contents. A fatal problem
//! (not a capture, a record cut short) ends the iteration with an [`Error`] naming the frame and
//! byte offset, after every whole frame before it has been returned.
#![cfg_attr(
    not(test),
    deny(
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic
    )
)]

mod frame;
mod frame_number;
mod linktype;
mod pcapng;

use std::fs::File;
use std::io::{self, Chain, Cursor, Read};
use std::path::Path;
use std::time::Duration;

use pcap_file::pcap::PcapReader;
use pcap_file::{Endianness, PcapError, TsResolution};

pub use frame::Frame;
pub use frame_number::FrameNumber;
pub use linktype::LinkType;

use crate::error::Error;

/// Size of a classic pcap global header.
const PCAP_HEADER_LEN: u64 = 24;
/// Size of a classic pcap record header.
const PCAP_RECORD_HEADER_LEN: u64 = 16;
/// First four bytes of a pcapng file: the Section Header Block type.
const PCAPNG_SHB_TYPE: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];

/// The input with its first bytes (read to detect the format) put back in front.
type Input<R> = Chain<Cursor<Vec<u8>>, R>;

/// The kind of capture file being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// Classic libpcap format.
    Pcap,
    /// pcapng.
    PcapNg,
}

enum Inner<R: Read> {
    Pcap {
        reader: PcapReader<Input<R>>,
        link_type: LinkType,
        nanos: bool,
        big_endian: bool,
    },
    PcapNg(pcapng::NgReader<Input<R>>),
}

/// Reads frames from a pcap or pcapng stream, one at a time, never loading the whole file.
///
/// ```no_run
/// let mut reader = pcaplab::capture::CaptureReader::open("fixtures/lo-ethernet.pcap")?;
/// while let Some(frame) = reader.next_frame() {
///     let frame = frame?;
///     println!("{} {} bytes", frame.number, frame.captured_len());
/// }
/// # Ok::<(), pcaplab::Error>(())
/// ```
pub struct CaptureReader<R: Read> {
    inner: Inner<R>,
    format: FileFormat,
    next_number: u64,
    offset: u64,
    finished: bool,
}

impl CaptureReader<File> {
    /// Opens a capture file.
    ///
    /// # Errors
    /// [`Error::Open`] when the file cannot be opened, [`Error::NotACapture`] when it is not a
    /// pcap or pcapng file.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|source| Error::Open {
            path: path.to_path_buf(),
            source,
        })?;
        CaptureReader::new(file)
    }
}

impl<R: Read> CaptureReader<R> {
    /// Starts reading a capture from any byte stream (a file, standard input, a slice).
    ///
    /// # Errors
    /// [`Error::NotACapture`] when the stream does not start with a valid pcap or pcapng header,
    /// [`Error::Io`] when reading fails.
    pub fn new(mut source: R) -> Result<Self, Error> {
        let mut magic = [0u8; 12];
        let got = read_up_to(&mut source, &mut magic)
            .map_err(|source| Error::Io { offset: 0, source })?;
        let head = magic.get(..got).unwrap_or_default();
        let input: Input<R> = Cursor::new(head.to_vec()).chain(source);
        if head.starts_with(&PCAPNG_SHB_TYPE) {
            let reader = pcapng::NgReader::new(input)?;
            let offset = reader.first_section_len();
            return Ok(CaptureReader {
                inner: Inner::PcapNg(reader),
                format: FileFormat::PcapNg,
                next_number: 1,
                offset,
                finished: false,
            });
        }
        check_pcap_magic(head)?;
        let reader = PcapReader::new(input).map_err(|e| Error::NotACapture {
            reason: describe_header_error(&e),
        })?;
        let header = reader.header();
        Ok(CaptureReader {
            inner: Inner::Pcap {
                link_type: LinkType::from_number(u32::from(header.datalink)),
                nanos: header.ts_resolution == TsResolution::NanoSecond,
                big_endian: header.endianness == Endianness::Big,
                reader,
            },
            format: FileFormat::Pcap,
            next_number: 1,
            offset: PCAP_HEADER_LEN,
            finished: false,
        })
    }

    /// The format of the file being read.
    pub fn format(&self) -> FileFormat {
        self.format
    }

    /// Byte offset of the next record in the input (for progress reporting).
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Reads the next frame. Returns `None` at the clean end of the input, and also after an
    /// error has been returned once.
    ///
    /// # Errors
    /// [`Error::TruncatedRecord`] when the input ends inside a record, [`Error::Corrupt`] when a
    /// record or block cannot be parsed, [`Error::Io`] when reading fails.
    pub fn next_frame(&mut self) -> Option<Result<Frame<'_>, Error>> {
        if self.finished {
            return None;
        }
        let number = FrameNumber(self.next_number);
        let offset = self.offset;
        let result = match &mut self.inner {
            Inner::Pcap {
                reader,
                link_type,
                nanos,
                big_endian,
            } => next_pcap_frame(reader, *link_type, *nanos, *big_endian, number, offset),
            Inner::PcapNg(reader) => reader.next_frame(number, offset),
        };
        match result {
            None => {
                self.finished = true;
                None
            }
            Some(Err(e)) => {
                self.finished = true;
                Some(Err(e))
            }
            Some(Ok((frame, record_len))) => {
                self.next_number += 1;
                self.offset = offset.saturating_add(record_len);
                Some(Ok(frame))
            }
        }
    }
}

/// Reads one classic pcap record with `next_raw_packet`, which (unlike `next_packet`) accepts
/// records longer than the file's snaplen and so never loops on them (pcap-file issue #48).
fn next_pcap_frame<R: Read>(
    reader: &mut PcapReader<R>,
    link_type: LinkType,
    nanos: bool,
    big_endian: bool,
    number: FrameNumber,
    offset: u64,
) -> Option<Result<(Frame<'_>, u64), Error>> {
    let raw = match reader.next_raw_packet()? {
        Ok(raw) => raw,
        Err(e) => return Some(Err(record_error(e, number, offset))),
    };
    let nanos_part = if nanos {
        u64::from(raw.ts_frac)
    } else {
        u64::from(raw.ts_frac).saturating_mul(1_000)
    };
    let timestamp =
        Duration::from_secs(u64::from(raw.ts_sec)).saturating_add(Duration::from_nanos(nanos_part));
    let data: &[u8] = match raw.data {
        std::borrow::Cow::Borrowed(d) => d,
        // pcap-file only ever borrows here; an owned buffer would not outlive this call.
        std::borrow::Cow::Owned(_) => {
            return Some(Err(Error::Corrupt {
                frame: number,
                offset,
                reason: "record data not borrowed from the read buffer".into(),
            }));
        }
    };
    let record_len = PCAP_RECORD_HEADER_LEN + u64::from(raw.incl_len);
    Some(Ok((
        Frame {
            number,
            timestamp,
            link_type,
            interface: 0,
            original_len: raw.orig_len.max(raw.incl_len),
            big_endian_file: big_endian,
            data,
        },
        record_len,
    )))
}

/// Turns a pcap-file error while reading a record into a fatal [`Error`].
pub(crate) fn record_error(e: PcapError, frame: FrameNumber, offset: u64) -> Error {
    match e {
        PcapError::IoError(io) if io.kind() == io::ErrorKind::UnexpectedEof => {
            Error::TruncatedRecord {
                frame,
                offset,
                detail: "the file ends before the record does".into(),
            }
        }
        PcapError::IoError(source) => Error::Io { offset, source },
        PcapError::IncompleteBuffer => Error::TruncatedRecord {
            frame,
            offset,
            detail: "the file ends before the record does".into(),
        },
        other => Error::Corrupt {
            frame,
            offset,
            reason: other.to_string(),
        },
    }
}

/// Fills `buf` as far as the source allows; returns how many bytes were read.
fn read_up_to<R: Read>(source: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while let Some(rest) = buf.get_mut(got..) {
        if rest.is_empty() {
            break;
        }
        match source.read(rest) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// Checks the first four bytes against the four classic pcap magic numbers.
fn check_pcap_magic(head: &[u8]) -> Result<(), Error> {
    const MAGICS: [[u8; 4]; 4] = [
        [0xd4, 0xc3, 0xb2, 0xa1], // microseconds, little-endian
        [0xa1, 0xb2, 0xc3, 0xd4], // microseconds, big-endian
        [0x4d, 0x3c, 0xb2, 0xa1], // nanoseconds, little-endian
        [0xa1, 0xb2, 0x3c, 0x4d], // nanoseconds, big-endian
    ];
    match head.first_chunk::<4>() {
        None if head.is_empty() => Err(Error::NotACapture {
            reason: "the input is empty".into(),
        }),
        None => Err(Error::NotACapture {
            reason: format!("the input is only {} bytes long", head.len()),
        }),
        Some(m) if MAGICS.contains(m) => Ok(()),
        Some(m) => Err(Error::NotACapture {
            reason: format!(
                "it starts with bytes {:02x} {:02x} {:02x} {:02x}, which is neither a pcap magic number nor a pcapng section header",
                m[0], m[1], m[2], m[3]
            ),
        }),
    }
}

fn describe_header_error(e: &PcapError) -> String {
    match e {
        PcapError::IoError(io) if io.kind() == io::ErrorKind::UnexpectedEof => {
            "the file ends inside the 24-byte pcap header".into()
        }
        PcapError::IncompleteBuffer => "the file ends inside the 24-byte pcap header".into(),
        other => format!("invalid pcap header: {other}"),
    }
}
