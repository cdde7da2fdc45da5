//! Extraction: the one place where bytes from a capture become files (or hashes).
//!
//! Owns: the safe-name policy ([`SafeName`]), the hashing sinks (files in a directory opened
//! once — [`Dir`] — and the in-memory [`HashSink`] used by grading), the content decoders
//! ([`Coding`]: netascii, gzip, zlib/raw deflate) with their output [`Limits`], and the bound on
//! open files. Does not own: which bytes belong to which file (that is `app::tftp` and
//! `app::http`), nor how results are printed.
//!
//! In: wire bytes in order, in pieces of any size. Out: a [`Summary`] per sink — size and
//! SHA-256 of the wire bytes and of the bytes written, why writing stopped early ([`Stop`]) —
//! and for files an [`Extracted`] naming the file and any name change.
//!
//! Every sink runs the same pipeline:
//!
//! ```text
//! wire bytes ─┬─ wire Fingerprint
//!             └─ decoder (Coding) ─ output limit (compressed codings) ─ sink ─ written Fingerprint
//!                                                                       (file via Dir, or HashSink)
//! ```
//!
//! Safety guarantees of [`Dir`] (each has a test in `tests/it/extract.rs` or below):
//! - names are [`SafeName`]s: one component, never `-…`/`.…`, no separators, controls or bidi
//!   characters, at most [`MAX_NAME_BYTES`] bytes;
//! - files are created with `openat(dirfd, name, O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC)` relative
//!   to the directory opened once: no symlink is followed and no existing file is replaced; a
//!   taken name gets the next free `-N` variant, reported as a clash;
//! - data goes to `<name>.part`, which is renamed with `renameat2(RENAME_NOREPLACE)` (or
//!   `linkat` + `unlinkat` where the file system lacks it) only when the sink is complete, so a
//!   crash never leaves a partial file under the final name. An incomplete sink keeps its
//!   `.part` file (so a student can see how far a transfer got) and says so;
//! - at most [`Options::max_open`] descriptors are open; a sink beyond that is closed and later
//!   reopened by name with `O_APPEND|O_NOFOLLOW` after checking it is still the same inode and
//!   size;
//! - decompressed output stops at a limit (a multiple of the wire size, and an absolute cap),
//!   and the stop is reported ([`Stop::Limit`]).
//!
//! Files are created through `rustix` (Linux and other Unix systems).
//!
//! ```
//! use pcaplab::extract::{Coding, Dir, Options, SafeName};
//! let tmp = tempfile::tempdir()?;
//! let mut dir = Dir::open(tmp.path(), Options::default())?;
//! let id = dir.create(&SafeName::new(b"../../etc/passwd"), Coding::Identity)?;
//! dir.write(id, b"root:x:0:0\n")?;
//! let x = dir.finish(id, true)?;
//! assert_eq!(x.file_name, "passwd");
//! assert!(x.complete && x.name.is_changed());
//! assert_eq!(x.summary.written.size, 11);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![cfg_attr(
    not(test),
    deny(
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic
    )
)]

mod decode;
mod dir;
mod memory;
mod name;

use std::fmt;
use std::io;
use std::path::PathBuf;

use serde::Serialize;
use sha2::{Digest, Sha256};

pub use decode::{CHUNK, Coding};
pub use dir::{Dir, Extracted, FileId, MAX_SUFFIX, Options};
pub use memory::{HashSink, Hashed, MAX_NEEDLE_BYTES};
pub use name::{FALLBACK_NAME, FALLBACK_URI_NAME, MAX_NAME_BYTES, NameChangeKind, SafeName};

use decode::Decoder;

/// A failure of the file system under an extraction, naming the file and the reason.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The extraction directory could not be opened.
    #[error("cannot open the extraction directory {path}: {source}")]
    OpenDir {
        /// The directory given.
        path: PathBuf,
        /// The operating system's reason.
        source: io::Error,
    },
    /// A file could not be created.
    #[error("cannot create {path}: {source}")]
    Create {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        source: io::Error,
    },
    /// The name and all its numbered variants up to [`MAX_SUFFIX`] exist.
    #[error("no free name for {path}: it and {tries} numbered variants already exist")]
    NoFreeName {
        /// The wanted file.
        path: PathBuf,
        /// How many variants were tried.
        tries: u32,
    },
    /// Writing failed.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file (its `.part` name).
        path: PathBuf,
        /// The operating system's reason.
        source: io::Error,
    },
    /// A file closed to stay within the open-file bound could not be opened again.
    #[error("cannot reopen {path}: {source}")]
    Reopen {
        /// The file (its `.part` name).
        path: PathBuf,
        /// The operating system's reason.
        source: io::Error,
    },
    /// The name no longer leads to the file this program created (someone replaced, moved,
    /// grew or symlinked it); nothing more is written to it.
    #[error(
        "{path} is no longer the file pcaplab created (replaced, changed or turned into a \
         symlink by someone else); writing stopped"
    )]
    Replaced {
        /// The file.
        path: PathBuf,
    },
    /// The complete `.part` file could not be given its final name; it stays as `.part`.
    #[error("cannot rename {from} to {to}: {source}")]
    Rename {
        /// The `.part` file.
        from: PathBuf,
        /// The final name.
        to: PathBuf,
        /// The operating system's reason.
        source: io::Error,
    },
    /// A discarded `.part` file could not be removed.
    #[error("cannot remove {path}: {source}")]
    Remove {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        source: io::Error,
    },
    /// The id names no open extraction (already finished, or from another [`Dir`]).
    #[error("extraction {id} is not open (already finished or never created)")]
    UnknownFile {
        /// The id given.
        id: FileId,
    },
}

/// Size and SHA-256 of a byte sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Fingerprint {
    /// Number of bytes.
    pub size: u64,
    /// SHA-256 of the bytes (serialized as lowercase hex).
    #[serde(serialize_with = "serialize_hex")]
    pub sha256: [u8; 32],
}

fn serialize_hex<S: serde::Serializer>(bytes: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&to_hex(bytes))
}

impl Fingerprint {
    /// The fingerprint of `bytes` (one call; sinks compute it incrementally).
    pub fn of(bytes: &[u8]) -> Fingerprint {
        let mut m = Meter::default();
        m.update(bytes);
        m.finish()
    }

    /// The SHA-256 as 64 lowercase hex digits, as `sha256sum` prints it.
    pub fn sha256_hex(&self) -> String {
        to_hex(&self.sha256)
    }
}

/// Lowercase hex of a byte string.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        for nibble in [b >> 4, b & 0x0f] {
            if let Some(&d) = DIGITS.get(usize::from(nibble)) {
                s.push(char::from(d));
            }
        }
    }
    s
}

/// Counts and hashes bytes as they pass.
#[derive(Debug, Clone, Default)]
pub(crate) struct Meter {
    hasher: Sha256,
    size: u64,
}

impl Meter {
    pub(crate) fn update(&mut self, bytes: &[u8]) {
        self.hasher.update(bytes);
        self.size = self.size.saturating_add(bytes.len() as u64);
    }

    /// Counts bytes without hashing them.
    pub(crate) fn count(&mut self, len: usize) {
        self.size = self.size.saturating_add(len as u64);
    }

    pub(crate) fn size(&self) -> u64 {
        self.size
    }

    pub(crate) fn finish(self) -> Fingerprint {
        Fingerprint {
            size: self.size,
            sha256: self.hasher.finalize().into(),
        }
    }
}

/// Limits on decoded output of the decompressing codings ([`Coding::is_compressed`]).
///
/// After `w` wire bytes, at most `min(cap_bytes, max(floor_bytes, ratio × w))` decoded bytes
/// are passed on; the first byte beyond stops the sink ([`Stop::Limit`]). The check runs as
/// bytes arrive, so a body whose start is far more compressible than its whole can stop early:
/// raise `ratio` for such data. Identity and netascii output is never larger than the input and
/// is not limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Decoded bytes allowed per wire byte received (default 50; text and JSON compress 3–20×).
    pub ratio: u64,
    /// Decoded bytes always allowed, whatever the ratio gives (default 1 MiB).
    pub floor_bytes: u64,
    /// Decoded bytes never exceeded per sink (default 256 MiB).
    pub cap_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            ratio: 50,
            floor_bytes: 1 << 20,
            cap_bytes: 256 << 20,
        }
    }
}

impl Limits {
    /// Decoded bytes allowed after `wire_bytes` wire bytes, and the rule that gives the number.
    pub fn allowed(&self, wire_bytes: u64) -> (u64, LimitRule) {
        let by_ratio = self.ratio.saturating_mul(wire_bytes).max(self.floor_bytes);
        if self.cap_bytes <= by_ratio {
            (
                self.cap_bytes,
                LimitRule::Cap {
                    cap_bytes: self.cap_bytes,
                },
            )
        } else {
            (
                by_ratio,
                LimitRule::Ratio {
                    ratio: self.ratio,
                    floor_bytes: self.floor_bytes,
                },
            )
        }
    }
}

/// Which limit stopped decoded output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum LimitRule {
    /// The multiple of the wire size (with its floor).
    Ratio {
        /// [`Limits::ratio`].
        ratio: u64,
        /// [`Limits::floor_bytes`].
        floor_bytes: u64,
    },
    /// The absolute cap.
    Cap {
        /// [`Limits::cap_bytes`].
        cap_bytes: u64,
    },
}

/// Why a sink stopped before the end of its input. The bytes before the stop are written and
/// hashed; the rest of the wire bytes are still counted in the wire [`Fingerprint`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Stop {
    /// Decoded output reached a [`Limits`] bound.
    Limit {
        /// Decoded bytes written before the stop (= the limit then in force).
        at_bytes: u64,
        /// Wire bytes received when it stopped.
        wire_bytes: u64,
        /// Which bound.
        limit: LimitRule,
    },
    /// The data is not valid for its coding (bad gzip header, checksum, truncated stream…).
    Corrupt {
        /// Offset in the wire bytes at or just after the bad data.
        wire_offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// Writing the file failed (disk full, file replaced by someone else…).
    Write {
        /// Bytes in the file when it failed.
        at_bytes: u64,
        /// The error, as text (the typed [`Error`] was returned by the call that met it).
        reason: String,
    },
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stop::Limit {
                at_bytes,
                wire_bytes,
                limit: LimitRule::Ratio { ratio, floor_bytes },
            } => write!(
                f,
                "decoded output stopped at {}: limit of {ratio} decoded bytes per \
                 wire byte ({} so far, at least {floor_bytes} bytes)",
                crate::units::plural(*at_bytes, "byte", "bytes"),
                crate::units::plural(*wire_bytes, "wire byte", "wire bytes")
            ),
            Stop::Limit {
                at_bytes,
                limit: LimitRule::Cap { cap_bytes },
                ..
            } => write!(
                f,
                "decoded output stopped at {}: limit of {}",
                crate::units::plural(*at_bytes, "byte", "bytes"),
                crate::units::plural(*cap_bytes, "byte", "bytes")
            ),
            Stop::Corrupt {
                wire_offset,
                reason,
            } => write!(f, "decoding stopped at wire byte {wire_offset}: {reason}"),
            Stop::Write { at_bytes, reason } => {
                write!(
                    f,
                    "writing stopped after {}: {reason}",
                    crate::units::plural(*at_bytes, "byte", "bytes")
                )
            }
        }
    }
}

/// What one sink received and wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// The decoding applied.
    pub coding: Coding,
    /// The bytes received (as on the wire: still compressed, still netascii).
    pub wire: Fingerprint,
    /// The bytes written (decoded). For [`Coding::Identity`] equal to `wire` unless the sink
    /// stopped.
    pub written: Fingerprint,
    /// Why writing stopped early, if it did.
    pub stop: Option<Stop>,
    /// Wire bytes after the end of the compressed data, ignored (0 for other codings).
    pub trailing_bytes: u64,
    /// Netascii only: CRs followed by neither LF nor NUL, kept as they are (RFC 854).
    pub netascii_invalid: u64,
}

/// The shared pipeline of every sink: wire fingerprint → decoder → output limit → output.
#[derive(Debug)]
pub(crate) struct Pipeline {
    coding: Coding,
    decoder: Decoder,
    limits: Limits,
    wire: Meter,
    /// False when the output is known to receive exactly the wire bytes (identity into a sink
    /// that cannot fail): the wire is then only counted and its hash is the output's.
    hash_wire: bool,
    emitted: u64,
    stop: Option<Stop>,
}

impl Pipeline {
    pub(crate) fn new(coding: Coding, limits: Limits) -> Pipeline {
        Pipeline {
            coding,
            decoder: Decoder::new(coding),
            limits,
            wire: Meter::default(),
            hash_wire: true,
            emitted: 0,
            stop: None,
        }
    }

    /// A pipeline whose output cannot fail: for [`Coding::Identity`] the written bytes are the
    /// wire bytes, so the wire is hashed once (by the output), not twice.
    pub(crate) fn new_infallible(coding: Coding, limits: Limits) -> Pipeline {
        Pipeline {
            hash_wire: coding != Coding::Identity,
            ..Pipeline::new(coding, limits)
        }
    }

    pub(crate) fn is_stopped(&self) -> bool {
        self.stop.is_some()
    }

    /// Records a stop met by the output; the first stop wins.
    pub(crate) fn stop_with(&mut self, stop: Stop) {
        if self.stop.is_none() {
            self.stop = Some(stop);
        }
    }

    /// Feeds wire bytes. `out` receives decoded bytes within the limit; its error ends the call
    /// (the caller records it with [`Pipeline::stop_with`]).
    pub(crate) fn push<E>(
        &mut self,
        input: &[u8],
        scratch: &mut Vec<u8>,
        out: &mut dyn FnMut(&[u8]) -> Result<(), E>,
    ) -> Result<(), E> {
        let base = self.wire.size();
        if self.hash_wire {
            self.wire.update(input);
        } else {
            self.wire.count(input.len());
        }
        self.drive(Some(input), base, scratch, out)
    }

    /// Ends the input: the decoder flushes and checks its data ended properly.
    pub(crate) fn finish<E>(
        &mut self,
        scratch: &mut Vec<u8>,
        out: &mut dyn FnMut(&[u8]) -> Result<(), E>,
    ) -> Result<(), E> {
        let base = self.wire.size();
        self.drive(None, base, scratch, out)
    }

    fn drive<E>(
        &mut self,
        input: Option<&[u8]>,
        base: u64,
        scratch: &mut Vec<u8>,
        out: &mut dyn FnMut(&[u8]) -> Result<(), E>,
    ) -> Result<(), E> {
        if self.stop.is_some() {
            return Ok(());
        }
        let Pipeline {
            coding,
            decoder,
            limits,
            wire,
            emitted,
            stop,
            ..
        } = self;
        let limited = coding.is_compressed();
        let wire_bytes = wire.size();
        let mut failed = None;
        let mut emit = |chunk: &[u8]| -> bool {
            let (allowed, rule) = if limited {
                let (n, rule) = limits.allowed(wire_bytes);
                (n, Some(rule))
            } else {
                (u64::MAX, None)
            };
            let room = usize::try_from(allowed.saturating_sub(*emitted)).unwrap_or(usize::MAX);
            let (head, rest) = chunk.split_at_checked(room).unwrap_or((chunk, &[]));
            if !head.is_empty() {
                if let Err(e) = out(head) {
                    failed = Some(e);
                    return false;
                }
                *emitted = emitted.saturating_add(head.len() as u64);
            }
            if let (false, Some(limit)) = (rest.is_empty(), rule) {
                *stop = Some(Stop::Limit {
                    at_bytes: *emitted,
                    wire_bytes,
                    limit,
                });
                return false;
            }
            true
        };
        let result = match input {
            Some(bytes) => decoder.push(bytes, scratch, &mut emit),
            None => decoder.finish(scratch, &mut emit),
        };
        if let Some(e) = failed {
            return Err(e);
        }
        if let Err(fault) = result
            && stop.is_none()
        {
            *stop = Some(Stop::Corrupt {
                wire_offset: base.saturating_add(fault.at as u64),
                reason: fault.reason,
            });
        }
        Ok(())
    }

    /// The summary, given the fingerprint of what the output really wrote.
    pub(crate) fn summary(self, written: Fingerprint) -> Summary {
        let wire = if self.hash_wire {
            self.wire.finish()
        } else {
            written
        };
        Summary {
            coding: self.coding,
            trailing_bytes: self.decoder.trailing_bytes(),
            netascii_invalid: self.decoder.netascii_invalid(),
            wire,
            written,
            stop: self.stop,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_matches_known_sha256_vectors() {
        // FIPS 180-2 examples.
        assert_eq!(
            Fingerprint::of(b"abc").sha256_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            Fingerprint::of(b"").sha256_hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(Fingerprint::of(b"abc").size, 3);
        assert_eq!(to_hex(&[0x00, 0xab, 0x10]), "00ab10");
    }

    #[test]
    fn limits_pick_the_smaller_bound() {
        let l = Limits {
            ratio: 10,
            floor_bytes: 100,
            cap_bytes: 1000,
        };
        assert_eq!(l.allowed(0).0, 100);
        assert_eq!(l.allowed(50).0, 500);
        assert_eq!(l.allowed(100), (1000, LimitRule::Cap { cap_bytes: 1000 }));
        assert_eq!(l.allowed(u64::MAX).0, 1000);
    }

    #[test]
    fn stop_messages_state_the_numbers() {
        let s = Stop::Limit {
            at_bytes: 500,
            wire_bytes: 10,
            limit: LimitRule::Ratio {
                ratio: 50,
                floor_bytes: 100,
            },
        };
        assert_eq!(
            s.to_string(),
            "decoded output stopped at 500 bytes: limit of 50 decoded bytes per wire byte \
             (10 wire bytes so far, at least 100 bytes)"
        );
        let c = Stop::Limit {
            at_bytes: 7,
            wire_bytes: 1,
            limit: LimitRule::Cap { cap_bytes: 7 },
        };
        assert_eq!(
            c.to_string(),
            "decoded output stopped at 7 bytes: limit of 7 bytes"
        );
    }
}
