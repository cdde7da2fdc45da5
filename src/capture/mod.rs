//! Capture files → frames, and frames → capture files. Reads pcap (both byte orders, micro- and
//! nanosecond timestamps, the "modified" variant) and pcapng (several sections and interfaces,
//! each with its own link type and `if_tsresol`) as [`Frame`]s in file order, and writes
//! selected frames back as pcap or pcapng with [`Writer`].
//!
//! It owns reading, record validation and the read buffer; it does not decode packet contents.
//! Memory follows what is in the file, not what its length fields claim (issue 16), and what is
//! kept per pcapng interface is bounded ([`Limits`], issue 15). A fatal problem (not a capture,
//! a record cut short, a limit) ends the iteration with an [`Error`] naming the frame and byte
//! offset, after every whole frame before it has been returned.
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
mod input;
mod interface;
mod linktype;
mod pcap;
mod pcapng;
mod resolution;
mod writer;

use std::fs::File;
use std::io::Read;
use std::path::Path;

pub use frame::Frame;
pub use frame_number::FrameNumber;
pub use interface::{Interface, Limits};
pub use linktype::LinkType;
pub use resolution::TsResolution;
pub use writer::Writer;

use crate::error::Error;
use input::Input;

/// First four bytes of a pcapng file: the Section Header Block type.
const PCAPNG_SHB_TYPE: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];

/// The kind of capture file being read or written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// Classic libpcap format (also its "modified" variant when reading).
    Pcap,
    /// pcapng.
    PcapNg,
}

enum Inner<R> {
    Pcap(pcap::PcapReader<R>),
    PcapNg(pcapng::NgReader<R>),
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
    limits: Limits,
    next_number: u64,
    finished: bool,
}

impl CaptureReader<File> {
    /// Opens a capture file.
    ///
    /// # Errors
    /// [`Error::Open`] when the file cannot be opened, and the errors of [`CaptureReader::new`].
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
    /// Starts reading a capture from any byte stream (a file, standard input, a slice) with the
    /// default [`Limits`]. Buffer it yourself only if reads are expensive: the reader keeps its
    /// own buffer.
    ///
    /// # Errors
    /// [`Error::NotACapture`] when the stream does not start with a valid pcap or pcapng header,
    /// [`Error::Unsupported`] for a pcapng section version other than 1.0 and 1.2,
    /// [`Error::Io`] when reading fails.
    pub fn new(source: R) -> Result<Self, Error> {
        CaptureReader::with_limits(source, Limits::default())
    }

    /// [`CaptureReader::new`] with other [`Limits`].
    ///
    /// # Errors
    /// As [`CaptureReader::new`].
    pub fn with_limits(source: R, limits: Limits) -> Result<Self, Error> {
        let mut input = Input::new(source);
        input
            .fill(4)
            .map_err(|source| Error::Io { offset: 0, source })?;
        let (inner, format) = if input.available().starts_with(&PCAPNG_SHB_TYPE) {
            (
                Inner::PcapNg(pcapng::NgReader::open(input, limits)?),
                FileFormat::PcapNg,
            )
        } else {
            (
                Inner::Pcap(pcap::PcapReader::open(input, limits)?),
                FileFormat::Pcap,
            )
        };
        Ok(CaptureReader {
            inner,
            format,
            limits,
            next_number: 1,
            finished: false,
        })
    }

    /// The format of the file being read.
    pub fn format(&self) -> FileFormat {
        self.format
    }

    /// The limits this reader enforces.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Byte offset of the next record in the input (for progress reporting).
    pub fn offset(&self) -> u64 {
        match &self.inner {
            Inner::Pcap(r) => r.offset(),
            Inner::PcapNg(r) => r.offset(),
        }
    }

    /// The interfaces known so far in the current section, indexed by [`Frame::interface`]: the
    /// file header of a pcap file, or the Interface Description Blocks of the current pcapng
    /// section (right after opening: those that follow the first section header). Pass them to
    /// [`Writer::create`] to write the capture back with the same interfaces.
    pub fn interfaces(&self) -> &[Interface] {
        match &self.inner {
            Inner::Pcap(r) => std::slice::from_ref(r.interface()),
            Inner::PcapNg(r) => r.interfaces(),
        }
    }

    /// Reads the next frame. Returns `None` at the clean end of the input, and also after an
    /// error has been returned once.
    ///
    /// # Errors
    /// [`Error::TruncatedRecord`] when the input ends inside a record, [`Error::Corrupt`] when a
    /// record or block cannot be parsed or claims more than [`Limits::max_record_len`],
    /// [`Error::LimitExceeded`] when a pcapng section describes more interfaces than
    /// [`Limits::max_interfaces`], [`Error::Unsupported`] for a later pcapng section of an
    /// unknown version, [`Error::Io`] when reading fails.
    pub fn next_frame(&mut self) -> Option<Result<Frame<'_>, Error>> {
        if self.finished {
            return None;
        }
        let number = FrameNumber(self.next_number);
        let result = match &mut self.inner {
            Inner::Pcap(r) => r.next_frame(number),
            Inner::PcapNg(r) => r.next_frame(number),
        };
        match &result {
            None | Some(Err(_)) => self.finished = true,
            Some(Ok(_)) => self.next_number += 1,
        }
        result
    }
}
