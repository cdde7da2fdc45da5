//! Where response bodies go: files in a directory (`http --extract DIR [--decode]`) through the
//! crate's one extraction sink ([`crate::extract::Dir`]), or nowhere but a hash and a search
//! ([`crate::extract::HashSink`], for grading, which writes no file).
//!
//! This module only decides what each body is called and how it is decoded: the file name
//! comes from the request target through [`SafeName::from_uri`] (the policy TFTP uses too),
//! behind a `<stream>-<transaction>-` prefix; the coding from `Content-Encoding`
//! ([`Coding::from_content_encoding`]) when decoding is asked for. Everything about writing
//! safely (no symlink followed, nothing overwritten, `.part` until complete, decoded output
//! limited, open files bounded) is the extraction sink's.
//!
//! The conversation calls this module from one place per event (create at the response head,
//! write per body piece, finish at the message end).

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use serde::Serialize;

use crate::extract::{
    self, Coding, Dir, Extracted, FileId, Fingerprint, HashSink, Limits, NameChangeKind, SafeName,
    Stop,
};

/// Longest request target kept to name a body file, in bytes (the name policy keeps at most
/// [`crate::extract::MAX_NAME_BYTES`] of its last segment anyway).
const MAX_TARGET: usize = 4096;

/// Where the response bodies of a run go. Cheap to clone: every conversation of a run shares
/// the one directory.
#[derive(Debug, Clone)]
pub enum Bodies {
    /// Files in a directory.
    Files(Files),
    /// Hashed and searched in memory, never written.
    Hash(Rc<HashOptions>),
}

/// Body files in one directory, opened once for the whole run.
#[derive(Debug, Clone)]
pub struct Files {
    dir: Rc<RefCell<Dir>>,
    decode: bool,
}

impl Files {
    /// Opens `dir` (which must exist) for body files; `decode` undoes gzip and deflate
    /// `Content-Encoding` within `limits`.
    ///
    /// # Errors
    /// When `dir` cannot be opened as a directory.
    pub fn open(dir: &Path, decode: bool, limits: Limits) -> Result<Files, extract::Error> {
        let options = extract::Options {
            limits,
            ..extract::Options::default()
        };
        Ok(Files {
            dir: Rc::new(RefCell::new(Dir::open(dir, options)?)),
            decode,
        })
    }

    /// The most body files that were open at once (bounded by the sink).
    pub fn peak_open_files(&self) -> usize {
        self.dir.borrow().peak_open_files()
    }
}

/// What an in-memory body check looks for.
#[derive(Debug, Clone, Default)]
pub struct HashOptions {
    /// Texts searched for in every body; [`BodyHash::contains`] answers in this order.
    pub needles: Vec<Vec<u8>>,
    /// Undo gzip and deflate `Content-Encoding` first (within `limits`).
    pub decode: bool,
    /// Limits on decoded output.
    pub limits: Limits,
}

/// A body written to a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExtractedBody {
    /// The file: the directory as given joined with `file_name`.
    pub path: PathBuf,
    /// The file's name in the directory: the safe name, a `-N` variant when that was taken
    /// (`clash`), ending in `.part` when the body is not complete.
    pub file_name: String,
    /// The name the policy made from the request target, before any clash.
    pub wanted_name: String,
    /// What the name policy changed in the target's last segment.
    pub name_changes: Vec<NameChangeKind>,
    /// True when a file (or symlink) named `wanted_name` already existed, so another name was
    /// used (nothing is ever overwritten).
    pub clash: bool,
    /// True when the whole body was written and the file has its final name.
    pub complete: bool,
    /// Bytes in the file (after decoding when it was decoded).
    pub size: u64,
    /// SHA-256 of the bytes in the file, lowercase hex.
    pub sha256: String,
    /// The body as received (de-chunked, still content-encoded): size and SHA-256.
    pub wire: Fingerprint,
    /// The decoding applied (`identity` unless `--decode` met a gzip or deflate body).
    pub coding: Coding,
    /// True when a Content-Encoding was decoded.
    pub decoded: bool,
    /// Why writing stopped before the end of the body (an output limit, bad compressed data, a
    /// write error).
    pub stop: Option<Stop>,
}

impl ExtractedBody {
    fn new(x: Extracted) -> ExtractedBody {
        let s = x.summary;
        ExtractedBody {
            path: x.path,
            file_name: x.file_name,
            wanted_name: x.name.as_str().to_string(),
            name_changes: x.name.changes().to_vec(),
            clash: x.clash,
            complete: x.complete,
            size: s.written.size,
            sha256: s.written.sha256_hex(),
            wire: s.wire,
            coding: s.coding,
            decoded: s.coding != Coding::Identity,
            stop: s.stop,
        }
    }
}

/// A body hashed (and searched) in memory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BodyHash {
    /// The bytes the checks see (decoded when asked and possible): size and SHA-256.
    pub written: Fingerprint,
    /// The body as received (de-chunked, still content-encoded).
    pub wire: Fingerprint,
    /// For each of [`HashOptions::needles`], whether the body contains it.
    pub contains: Vec<bool>,
    /// Why decoding stopped early, if it did.
    pub stop: Option<Stop>,
}

/// What a finished body became.
#[derive(Debug)]
pub(crate) enum BodyResult {
    File(ExtractedBody),
    Hash(BodyHash),
}

/// One body being written.
#[derive(Debug)]
pub(crate) enum BodySink {
    File { dir: Rc<RefCell<Dir>>, id: FileId },
    Hash(Box<HashSink>),
}

impl BodySink {
    /// Starts the body of transaction `transaction` on stream `stream`, whose request target
    /// was `target` (empty when there was no request), sent with `content_encoding`.
    ///
    /// # Errors
    /// When the file cannot be created (the directory refuses it, or no free name is left).
    pub(crate) fn create(
        bodies: &Bodies,
        stream: u64,
        transaction: u64,
        target: &[u8],
        content_encoding: Option<&[u8]>,
    ) -> Result<BodySink, extract::Error> {
        let coding = |decode: bool| {
            if decode {
                content_encoding
                    .and_then(Coding::from_content_encoding)
                    .unwrap_or(Coding::Identity)
            } else {
                Coding::Identity
            }
        };
        match bodies {
            Bodies::Files(files) => {
                let name = SafeName::from_uri(&format!("{stream}-{transaction}-"), target);
                let id = files.dir.borrow_mut().create(&name, coding(files.decode))?;
                Ok(BodySink::File {
                    dir: Rc::clone(&files.dir),
                    id,
                })
            }
            Bodies::Hash(options) => Ok(BodySink::Hash(Box::new(HashSink::new(
                coding(options.decode),
                options.limits,
                &options.needles,
            )))),
        }
    }

    /// Appends body bytes (still content-encoded).
    ///
    /// # Errors
    /// The first time writing the file fails (later bytes are only counted; the stop is in
    /// the result).
    pub(crate) fn write(&mut self, data: &[u8]) -> Result<(), extract::Error> {
        match self {
            BodySink::File { dir, id } => dir.borrow_mut().write(*id, data),
            BodySink::Hash(h) => {
                h.write(data);
                Ok(())
            }
        }
    }

    /// Ends the body; `complete` when every byte of it arrived (the file then gets its final
    /// name, unless something stopped it).
    ///
    /// # Errors
    /// When the file cannot be given its final name or was replaced by someone else.
    pub(crate) fn finish(self, complete: bool) -> Result<BodyResult, extract::Error> {
        match self {
            BodySink::File { dir, id } => {
                let x = dir.borrow_mut().finish(id, complete)?;
                Ok(BodyResult::File(ExtractedBody::new(x)))
            }
            BodySink::Hash(h) => {
                let h = h.finish();
                Ok(BodyResult::Hash(BodyHash {
                    written: h.summary.written,
                    wire: h.summary.wire,
                    contains: h.contains,
                    stop: h.summary.stop,
                }))
            }
        }
    }
}

/// The request target kept to name a body file: at most [`MAX_TARGET`] bytes.
pub(crate) fn kept_target(target: &[u8]) -> Vec<u8> {
    target.get(..MAX_TARGET).unwrap_or(target).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_names_follow_the_shared_policy() {
        let tmp = tempfile::tempdir().unwrap();
        let files = Files::open(tmp.path(), false, Limits::default()).unwrap();
        let bodies = Bodies::Files(files);
        let cases: [(&[u8], &str); 5] = [
            (b"/a/b/report.pdf?x=1", "1-2-report.pdf"),
            (b"/", "1-2-body"),
            (b"/x/..%2f..%2fetc%2fpasswd", "1-2-.__.__etc_passwd"),
            (b"/\x07bell", "1-2-_bell"),
            (b"/.hidden", "1-2-.hidden"),
        ];
        for (target, want) in cases {
            let mut sink = BodySink::create(&bodies, 1, 2, target, None).unwrap();
            sink.write(b"x").unwrap();
            let Ok(BodyResult::File(b)) = sink.finish(true) else {
                panic!("no file");
            };
            assert_eq!(b.wanted_name, SafeName::from_uri("1-2-", target).as_str());
            assert_eq!(b.wanted_name, want, "{target:?}");
            assert!(b.path.starts_with(tmp.path()));
            std::fs::remove_file(&b.path).unwrap();
        }
    }
}
