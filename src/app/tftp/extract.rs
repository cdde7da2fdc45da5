//! Where a transfer's data goes: the one call site of the crate's extraction module
//! ([`crate::extract`]) for TFTP.
//!
//! Every transfer hashes its in-order data through a [`HashSink`] (netascii decoded with
//! [`Coding::Netascii`] so both the wire and the file fingerprints are known); with
//! `tftp --extract DIR` the same bytes also go to a file of the shared [`Dir`] (safe name
//! policy, no overwrite, `.part` until complete, bounded open files). The hashes never depend
//! on the file system: a failed file is reported, the transfer's SHA-256 stays.

use crate::extract::{Coding, Dir, FileId, HashSink, Limits, SafeName};
use crate::units::FrameNumber;

use super::transfer::{ExtractedFile, Transfer, WarningKind, warn};

/// What the data of a finished transfer hashed to.
#[derive(Debug)]
pub(super) struct Hashes {
    /// SHA-256 of the wire data, lowercase hex.
    pub(super) wire_sha256: String,
    /// For netascii: the decoded file's fingerprint.
    pub(super) decoded: Option<crate::extract::Fingerprint>,
    /// Netascii CRs followed by neither LF nor NUL.
    pub(super) netascii_invalid: u64,
}

/// One transfer's data sink: a hash always, a file when extracting.
#[derive(Debug)]
pub(super) struct Sink {
    coding: Coding,
    hash: Option<Box<HashSink>>,
    file: Option<FileId>,
    /// Extraction was tried for this transfer (a file is created at the first block).
    file_tried: bool,
    /// False when nobody reads the hashes (`packets`, `show`, `stats`): the data is not
    /// hashed, and the hashes [`Sink::finish`] returns are those of no bytes.
    hashing: bool,
}

impl Sink {
    /// A sink for data in `coding` (netascii or identity).
    pub(super) fn new(coding: Coding) -> Sink {
        Sink {
            coding,
            hash: Some(Box::new(HashSink::new(
                coding,
                Limits::default(),
                std::iter::empty::<&[u8]>(),
            ))),
            file: None,
            file_tried: false,
            hashing: true,
        }
    }

    /// Stops hashing the data (for a tracker whose results nobody reads). Everything else
    /// (whether the data can still be rebuilt, extraction) is unchanged.
    pub(super) fn skip_hashing(&mut self) {
        self.hashing = false;
    }

    /// True while the data can still be rebuilt (not given up).
    pub(super) fn is_alive(&self) -> bool {
        self.hash.is_some()
    }

    /// True while an extracted file is being written.
    #[cfg(test)]
    pub(super) fn is_writing(&self) -> bool {
        self.file.is_some()
    }

    /// Appends the next in-order block; creates the file in `dir` at the first one.
    pub(super) fn write(
        &mut self,
        dir: Option<&mut Dir>,
        t: &mut Transfer,
        raw_name: &[u8],
        frame: FrameNumber,
        data: &[u8],
    ) {
        let Some(hash) = &mut self.hash else {
            return;
        };
        if self.hashing {
            hash.write(data);
        }
        let Some(dir) = dir else {
            return;
        };
        if !self.file_tried {
            self.file_tried = true;
            match dir.create(&SafeName::new(raw_name), self.coding) {
                Ok(id) => self.file = Some(id),
                Err(e) => warn(
                    t,
                    WarningKind::ExtractionFailed,
                    None,
                    None,
                    Some(frame),
                    || format!("the file was not extracted: {e}"),
                ),
            }
        }
        if let Some(id) = self.file
            && let Err(e) = dir.write(id, data)
        {
            warn(
                t,
                WarningKind::ExtractionFailed,
                None,
                None,
                Some(frame),
                || format!("extraction stopped: {e}"),
            );
        }
    }

    /// The data can no longer be rebuilt (a block will never come in order): no hash; an
    /// extracted file keeps what it has as `.part` and is reported as incomplete.
    pub(super) fn give_up(&mut self, dir: Option<&mut Dir>, t: &mut Transfer) {
        self.hash = None;
        self.close_file(dir, t, false);
    }

    /// Ends the sink. Returns the hashes when `complete` (every byte through the final block
    /// was written); the extracted file gets its final name then, else stays `.part`.
    pub(super) fn finish(
        &mut self,
        dir: Option<&mut Dir>,
        t: &mut Transfer,
        complete: bool,
    ) -> Option<Hashes> {
        let hashed = self.hash.take().map(|h| h.finish());
        let complete = complete && hashed.is_some();
        self.close_file(dir, t, complete);
        let h = hashed.filter(|_| complete)?;
        Some(Hashes {
            wire_sha256: h.summary.wire.sha256_hex(),
            decoded: (self.coding == Coding::Netascii).then_some(h.summary.written),
            netascii_invalid: h.summary.netascii_invalid,
        })
    }

    fn close_file(&mut self, dir: Option<&mut Dir>, t: &mut Transfer, complete: bool) {
        let (Some(id), Some(dir)) = (self.file.take(), dir) else {
            return;
        };
        match dir.finish(id, complete) {
            Ok(x) => {
                if x.name.is_changed() {
                    let file = super::escape(t.file.as_bytes()).to_string();
                    let changes: Vec<&str> =
                        x.name.changes().iter().map(|c| c.description()).collect();
                    warn(
                        t,
                        WarningKind::FileNameNeutralised,
                        None,
                        None,
                        None,
                        || {
                            format!(
                                "the requested name {} was written as {} ({}): names from a \
                                 capture are untrusted input",
                                file,
                                x.name.as_str(),
                                changes.join(", ")
                            )
                        },
                    );
                }
                if x.clash {
                    warn(
                        t,
                        WarningKind::ExtractedUnderOtherName,
                        None,
                        None,
                        None,
                        || {
                            format!(
                                "{} already existed in the extraction directory (a file or a \
                                 link, from an earlier run or another transfer), so the data \
                                 went to {}: nothing is ever overwritten",
                                x.name.as_str(),
                                x.file_name
                            )
                        },
                    );
                }
                if let Some(stop) = &x.summary.stop {
                    warn(t, WarningKind::ExtractionFailed, None, None, None, || {
                        format!("extraction of {} stopped: {stop}", x.file_name)
                    });
                }
                t.extracted = Some(ExtractedFile {
                    path: x.path.display().to_string(),
                    file_name: x.file_name,
                    clash: x.clash,
                    complete: x.complete,
                    size: x.summary.written.size,
                    sha256: x.summary.written.sha256_hex(),
                    name_changes: x.name.changes().to_vec(),
                    stop: x.summary.stop,
                });
            }
            Err(e) => warn(t, WarningKind::ExtractionFailed, None, None, None, || {
                format!("the extracted file could not be finished: {e}")
            }),
        }
    }
}
