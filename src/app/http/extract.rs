//! Writing HTTP response bodies to files (`http --extract DIR`, and the grader's hash-only use):
//! the file-name policy, optional gzip/deflate decoding, and the SHA-256 of the bytes written.
//!
//! The conversation calls this module from one place ([`BodyFile`]), so that swapping in the
//! crate's shared extraction sink later is a local change.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Longest file-name part taken from a URI.
const MAX_NAME_PART: usize = 64;

/// Where and how response bodies are written.
#[derive(Debug, Clone)]
pub struct BodyOptions {
    /// Directory the files go in (must exist); nothing is written outside it.
    pub dir: PathBuf,
    /// Decode `Content-Encoding: gzip` / `deflate` bodies (the CLI's `--decode`).
    pub decode: bool,
}

/// A body written to disk.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ExtractedBody {
    /// The file, inside the chosen directory.
    pub path: PathBuf,
    /// Bytes written (after decoding when it was decoded).
    pub size: u64,
    /// SHA-256 of the bytes written, lowercase hex.
    pub sha256: String,
    /// True when a Content-Encoding was decoded.
    pub decoded: bool,
}

/// A content coding the body writer can undo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// `gzip` / `x-gzip` (RFC 9110 §8.4.1.3).
    Gzip,
    /// `deflate`: zlib-wrapped deflate (RFC 9110 §8.4.1.2).
    Deflate,
}

impl Encoding {
    /// The coding named by a Content-Encoding value, when it is one coding this can undo.
    pub fn from_header(value: &str) -> Option<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "gzip" | "x-gzip" => Some(Encoding::Gzip),
            "deflate" => Some(Encoding::Deflate),
            _ => None,
        }
    }
}

/// Counts and hashes what goes through it.
#[derive(Debug)]
struct Hashing<W> {
    inner: W,
    hasher: Sha256,
    size: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        let written = buf.get(..n).unwrap_or_default();
        self.hasher.update(written);
        self.size = self.size.saturating_add(n as u64);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

type Sink = Hashing<BufWriter<File>>;

#[derive(Debug)]
enum Out {
    Plain(Sink),
    Gzip(flate2::write::GzDecoder<Sink>),
    Deflate(flate2::write::ZlibDecoder<Sink>),
}

/// One body being streamed to a file inside a directory, optionally decoded, hashed as written.
#[derive(Debug)]
pub struct BodyFile {
    path: PathBuf,
    out: Out,
}

impl BodyFile {
    /// Creates `dir/<safe name>` for transaction `transaction` of stream `stream` (see
    /// [`safe_file_name`]); an existing file of that name is replaced.
    ///
    /// # Errors
    ///
    /// The I/O error from creating the file.
    pub fn create(
        dir: &Path,
        stream: u64,
        transaction: u64,
        uri: Option<&str>,
        encoding: Option<Encoding>,
    ) -> io::Result<Self> {
        let path = dir.join(safe_file_name(stream, transaction, uri.unwrap_or_default()));
        let file = File::create(&path)?;
        let sink = Hashing {
            inner: BufWriter::new(file),
            hasher: Sha256::new(),
            size: 0,
        };
        let out = match encoding {
            None => Out::Plain(sink),
            Some(Encoding::Gzip) => Out::Gzip(flate2::write::GzDecoder::new(sink)),
            Some(Encoding::Deflate) => Out::Deflate(flate2::write::ZlibDecoder::new(sink)),
        };
        Ok(Self { path, out })
    }

    /// Appends body bytes (still encoded when decoding is on).
    ///
    /// # Errors
    ///
    /// An I/O error, or invalid compressed data.
    pub fn write(&mut self, data: &[u8]) -> io::Result<()> {
        match &mut self.out {
            Out::Plain(w) => w.write_all(data),
            Out::Gzip(w) => w.write_all(data),
            Out::Deflate(w) => w.write_all(data),
        }
    }

    /// Flushes the file and returns where it is, its size and its SHA-256.
    ///
    /// # Errors
    ///
    /// An I/O error, or compressed data that ended early.
    pub fn finish(self) -> io::Result<ExtractedBody> {
        let (sink, decoded) = match self.out {
            Out::Plain(w) => (w, false),
            Out::Gzip(w) => (w.finish()?, true),
            Out::Deflate(w) => (w.finish()?, true),
        };
        let Hashing {
            mut inner,
            hasher,
            size,
        } = sink;
        inner.flush()?;
        let digest = hasher.finalize();
        let sha256 = digest.iter().map(|b| format!("{b:02x}")).collect();
        Ok(ExtractedBody {
            path: self.path,
            size,
            sha256,
            decoded,
        })
    }
}

/// A file name for a body that cannot leave its directory: `<stream>-<transaction>-<name>`,
/// where `<name>` is the last path segment of `uri` (query and fragment dropped) keeping only
/// ASCII letters, digits, `.`, `-` and `_` (others become `_`), without leading dots, at most
/// 64 bytes, or `body` when nothing is left.
///
/// ```
/// use pcaplab::app::http::safe_file_name;
/// assert_eq!(safe_file_name(3, 1, "/img/cat.png?x=1"), "3-1-cat.png");
/// assert_eq!(safe_file_name(0, 0, "/../../etc/passwd"), "0-0-passwd");
/// assert_eq!(safe_file_name(0, 2, "/"), "0-2-body");
/// ```
pub fn safe_file_name(stream: u64, transaction: u64, uri: &str) -> String {
    let path = uri.split(['?', '#']).next().unwrap_or_default();
    let segment = path
        .rsplit(['/', '\\'])
        .find(|s| !s.is_empty())
        .unwrap_or_default();
    let cleaned: String = segment
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .skip_while(|&c| c == '.')
        .take(MAX_NAME_PART)
        .collect();
    let name = if cleaned.is_empty() {
        "body"
    } else {
        cleaned.as_str()
    };
    format!("{stream}-{transaction}-{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_names_never_leave_the_directory() {
        let cases = [
            ("/a/b/report.pdf", "1-2-report.pdf"),
            ("/..", "1-2-body"),
            ("/x/..%2f..%2fetc", "1-2-_2f.._2fetc"),
            ("C:\\windows\\system.ini", "1-2-system.ini"),
            ("/\u{7}bell\nname", "1-2-_bell_name"),
            ("", "1-2-body"),
            ("/.hidden", "1-2-hidden"),
        ];
        for (uri, want) in cases {
            let name = safe_file_name(1, 2, uri);
            assert_eq!(name, want, "{uri:?}");
            assert!(!name.contains('/') && !name.contains('\\'));
        }
        assert!(safe_file_name(0, 0, &"a".repeat(500)).len() <= 4 + MAX_NAME_PART);
    }
}
