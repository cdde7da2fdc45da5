//! Writing transferred files to disk (`--extract DIR`): netascii decoding, turning a captured file
//! name into a safe name inside DIR, and streaming in-order blocks to a temporary file.
//!
//! Captured names are untrusted input: they are reduced to one plain file-name component before
//! anything touches the file system, and a file is never overwritten.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

/// Longest file name written, in bytes (most file systems allow 255).
const MAX_NAME_LEN: usize = 200;
/// How many `-N` suffixes to try before giving up on a name.
const MAX_SUFFIX: u32 = 9_999;

/// Decodes netascii (RFC 1350 §5, RFC 764) to local text: CR LF → LF, CR NUL → CR.
///
/// Stateful so that a CR at the end of one block pairs with the byte at the start of the next.
/// A CR followed by anything else is kept as it is and counted as invalid.
#[derive(Debug, Clone, Default)]
pub struct NetasciiDecoder {
    pending_cr: bool,
    invalid: u64,
}

impl NetasciiDecoder {
    /// Appends the decoded form of `input` to `out`.
    pub fn decode(&mut self, input: &[u8], out: &mut Vec<u8>) {
        for &b in input {
            if self.pending_cr {
                self.pending_cr = false;
                match b {
                    b'\n' => out.push(b'\n'),
                    0 => out.push(b'\r'),
                    b'\r' => {
                        out.push(b'\r');
                        self.invalid = self.invalid.saturating_add(1);
                        self.pending_cr = true;
                    }
                    other => {
                        out.extend_from_slice(&[b'\r', other]);
                        self.invalid = self.invalid.saturating_add(1);
                    }
                }
            } else if b == b'\r' {
                self.pending_cr = true;
            } else {
                out.push(b);
            }
        }
    }

    /// Ends the text: a CR left at the very end is written as it is (and counted as invalid).
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if self.pending_cr {
            self.pending_cr = false;
            out.push(b'\r');
            self.invalid = self.invalid.saturating_add(1);
        }
    }

    /// How many CRs were followed by something other than LF or NUL.
    pub fn invalid_sequences(&self) -> u64 {
        self.invalid
    }
}

/// A file name made safe to create inside the extraction directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafeName {
    /// One path component: no separators, not `.` or `..`, no control or reserved characters,
    /// not a Windows device name, not empty.
    pub name: String,
    /// What was changed and why, empty when the captured name was used as it is.
    pub changes: Vec<&'static str>,
}

/// Windows device names, reserved in every directory and with any extension (`NUL.txt`).
const RESERVED: &[&str] = &[
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9", "CONIN$",
    "CONOUT$",
];

/// Turns a captured file name into a single safe file-name component.
///
/// `../../etc/passwd` → `passwd`, `C:\boot.ini` → `boot.ini`, `/dev/zero` → `zero`,
/// `NUL` → `_NUL`, `` → `unnamed`; control characters and `<>:"|?*` become `_`.
pub fn safe_file_name(raw: &[u8]) -> SafeName {
    let mut changes = Vec::new();
    let text = String::from_utf8_lossy(raw);
    if matches!(text, std::borrow::Cow::Owned(_)) {
        changes.push("bytes that are not utf-8 replaced");
    }
    // Keep the last real component; everything before it is a directory (either separator,
    // since the server may be Windows).
    let parts: Vec<&str> = text
        .split(['/', '\\'])
        .filter(|p| !p.is_empty() && *p != "." && *p != "..")
        .collect();
    let last = parts.last().copied().unwrap_or("");
    if text.contains(['/', '\\']) {
        changes.push("directory parts removed");
    }
    let mut name: String = last
        .chars()
        .map(|c| {
            if c.is_control() || "<>:\"|?*".contains(c) || c == '\u{fffd}' {
                '_'
            } else {
                c
            }
        })
        .collect();
    if name != last {
        changes.push("control or reserved characters replaced");
    }
    // Windows drops trailing dots and spaces, which would make `a.` and `a` the same file.
    let trimmed_len = name.trim_end_matches(['.', ' ']).len();
    if trimmed_len != name.len() {
        name.truncate(trimmed_len);
        changes.push("trailing dots or spaces removed");
    }
    if name.is_empty() {
        changes.push("empty name replaced");
        name = "unnamed".to_string();
    }
    let stem = name.split('.').next().unwrap_or("");
    if RESERVED
        .iter()
        .any(|r| stem.trim_end().eq_ignore_ascii_case(r))
    {
        changes.push("device name prefixed");
        name.insert(0, '_');
    }
    if name.len() > MAX_NAME_LEN {
        let mut cut = MAX_NAME_LEN;
        while !name.is_char_boundary(cut) {
            cut = cut.saturating_sub(1);
        }
        name.truncate(cut);
        changes.push("name shortened");
    }
    SafeName { name, changes }
}

/// A file written by extraction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Extracted {
    /// Where the file was written (inside the extraction directory).
    pub path: String,
    /// Bytes written (after netascii decoding).
    pub size: u64,
    /// SHA-256 of the bytes written, lowercase hex. Equals the transfer's `sha256` in octet
    /// mode; differs in netascii mode, where the transfer hash covers the bytes on the wire.
    pub sha256: String,
    /// False when the transfer did not complete: the file holds the blocks received in order
    /// and its name ends in `.incomplete`.
    pub complete: bool,
    /// How the captured name was changed to make it safe, empty when it was used unchanged.
    pub name_changes: Vec<String>,
}

/// Streams one transfer's in-order data to a temporary file in the extraction directory.
#[derive(Debug)]
pub(crate) struct Sink {
    dir: PathBuf,
    temp: PathBuf,
    file: BufWriter<File>,
    netascii: Option<NetasciiDecoder>,
    hasher: Sha256,
    size: u64,
    scratch: Vec<u8>,
    error: Option<io::Error>,
}

impl Sink {
    /// Creates the temporary file `.pcaplab-tftp-<index>.part` (or with a `-N` suffix).
    pub(crate) fn create(dir: &Path, index: usize, netascii: bool) -> io::Result<Sink> {
        let (temp, file) = create_unique(dir, &format!(".pcaplab-tftp-{index}.part"))?;
        Ok(Sink {
            dir: dir.to_path_buf(),
            temp,
            file: BufWriter::new(file),
            netascii: netascii.then(NetasciiDecoder::default),
            hasher: Sha256::new(),
            size: 0,
            scratch: Vec::new(),
            error: None,
        })
    }

    /// Appends the next in-order block.
    pub(crate) fn write(&mut self, data: &[u8]) {
        if self.error.is_some() {
            return;
        }
        let bytes = match &mut self.netascii {
            Some(decoder) => {
                self.scratch.clear();
                decoder.decode(data, &mut self.scratch);
                &self.scratch[..]
            }
            None => data,
        };
        self.hasher.update(bytes);
        self.size = self.size.saturating_add(bytes.len() as u64);
        if let Err(e) = self.file.write_all(bytes) {
            self.error = Some(e);
        }
    }

    /// Invalid netascii sequences seen so far.
    pub(crate) fn netascii_invalid(&self) -> u64 {
        self.netascii
            .as_ref()
            .map_or(0, NetasciiDecoder::invalid_sequences)
    }

    /// Gives the file its final safe name (with `.incomplete` appended when `complete` is false)
    /// and reports it.
    ///
    /// # Errors
    /// The I/O error met while writing or renaming; the temporary file is removed.
    pub(crate) fn finish(mut self, raw_name: &[u8], complete: bool) -> io::Result<Extracted> {
        if let Some(decoder) = &mut self.netascii {
            self.scratch.clear();
            decoder.finish(&mut self.scratch);
            if !self.scratch.is_empty() {
                self.hasher.update(&self.scratch);
                self.size = self.size.saturating_add(self.scratch.len() as u64);
                if let Err(e) = self.file.write_all(&self.scratch) {
                    self.error.get_or_insert(e);
                }
            }
        }
        let result = self.persist(raw_name, complete);
        if result.is_err() {
            let _ = std::fs::remove_file(&self.temp);
        }
        result
    }

    fn persist(&mut self, raw_name: &[u8], complete: bool) -> io::Result<Extracted> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.file.flush()?;
        let safe = safe_file_name(raw_name);
        let wanted = if complete {
            safe.name
        } else {
            format!("{}.incomplete", safe.name)
        };
        // Reserve the name with create_new (never overwrites, never follows a symlink), then
        // move the data over the empty placeholder.
        let (path, _placeholder) = create_unique(&self.dir, &wanted)?;
        if let Err(e) = std::fs::rename(&self.temp, &path) {
            let _ = std::fs::remove_file(&path);
            return Err(e);
        }
        let digest = std::mem::take(&mut self.hasher).finalize();
        Ok(Extracted {
            path: path.display().to_string(),
            size: self.size,
            sha256: to_hex(&digest),
            complete,
            name_changes: safe.changes.iter().map(|c| (*c).to_string()).collect(),
        })
    }

    /// Drops the data: the temporary file is removed.
    pub(crate) fn abort(self) {
        let Sink { temp, file, .. } = self;
        drop(file);
        let _ = std::fs::remove_file(temp);
    }
}

/// Creates `name` in `dir`, or `stem-N.ext` for the first free N, without overwriting anything.
fn create_unique(dir: &Path, name: &str) -> io::Result<(PathBuf, File)> {
    let (stem, ext) = match name.rfind('.') {
        Some(i) if i > 0 => (name.get(..i).unwrap_or(name), name.get(i..).unwrap_or("")),
        _ => (name, ""),
    };
    for n in 0..=MAX_SUFFIX {
        let candidate = if n == 0 {
            dir.join(name)
        } else {
            dir.join(format!("{stem}-{n}{ext}"))
        };
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&candidate)
        {
            Ok(f) => return Ok((candidate, f)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!("no free name for {name} after {MAX_SUFFIX} tries"),
    ))
}

/// Lowercase hex of a byte string.
pub(crate) fn to_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn netascii(blocks: &[&[u8]]) -> (Vec<u8>, u64) {
        let mut d = NetasciiDecoder::default();
        let mut out = Vec::new();
        for b in blocks {
            d.decode(b, &mut out);
        }
        d.finish(&mut out);
        (out, d.invalid_sequences())
    }

    #[test]
    fn netascii_line_ends_and_bare_cr() {
        assert_eq!(netascii(&[b"a\r\nb\r\n"]), (b"a\nb\n".to_vec(), 0));
        assert_eq!(netascii(&[b"x\r\0y"]), (b"x\ry".to_vec(), 0));
        // CR at the end of one block, LF at the start of the next.
        assert_eq!(netascii(&[b"one\r", b"\ntwo"]), (b"one\ntwo".to_vec(), 0));
        assert_eq!(netascii(&[b"one\r", b"\0two"]), (b"one\rtwo".to_vec(), 0));
        // Invalid: CR followed by a letter, CR CR LF, CR at the very end.
        assert_eq!(netascii(&[b"a\rb"]), (b"a\rb".to_vec(), 1));
        assert_eq!(netascii(&[b"a\r\r\n"]), (b"a\r\n".to_vec(), 1));
        assert_eq!(netascii(&[b"a\r"]), (b"a\r".to_vec(), 1));
        // A bare LF passes through.
        assert_eq!(netascii(&[b"a\nb"]), (b"a\nb".to_vec(), 0));
    }

    #[test]
    fn safe_names() {
        let cases: &[(&[u8], &str, &[&str])] = &[
            (b"report.txt", "report.txt", &[]),
            (b"caf\xc3\xa9.txt", "caf\u{e9}.txt", &[]),
            (b"../../etc/passwd", "passwd", &["directory parts removed"]),
            (b"/etc/shadow", "shadow", &["directory parts removed"]),
            (b"/dev/zero", "zero", &["directory parts removed"]),
            (b"C:\\boot.ini", "boot.ini", &["directory parts removed"]),
            (b"C:x", "C_x", &["control or reserved characters replaced"]),
            (b"NUL", "_NUL", &["device name prefixed"]),
            (b"con.txt", "_con.txt", &["device name prefixed"]),
            (b"LPT1", "_LPT1", &["device name prefixed"]),
            (b"", "unnamed", &["empty name replaced"]),
            (b"..", "unnamed", &["empty name replaced"]),
            (
                b"../",
                "unnamed",
                &["directory parts removed", "empty name replaced"],
            ),
            (
                b"a\x00b\x1bc",
                "a_b_c",
                &["control or reserved characters replaced"],
            ),
            (
                b"bad\xffname",
                "bad_name",
                &[
                    "bytes that are not utf-8 replaced",
                    "control or reserved characters replaced",
                ],
            ),
            (b"dots...", "dots", &["trailing dots or spaces removed"]),
            (b".hidden", ".hidden", &[]),
        ];
        for (raw, name, changes) in cases {
            let s = safe_file_name(raw);
            assert_eq!(
                (s.name.as_str(), s.changes.as_slice()),
                (*name, *changes),
                "raw {:?}",
                String::from_utf8_lossy(raw)
            );
        }
        let long = vec![b'a'; 300];
        let s = safe_file_name(&long);
        assert_eq!(s.name.len(), MAX_NAME_LEN);
        assert_eq!(s.changes, vec!["name shortened"]);
    }

    #[test]
    fn safe_names_never_escape() {
        for raw in [
            &b"../x"[..],
            b"..\\..\\x",
            b"/",
            b"\\\\server\\share\\x",
            b"a/../../b",
            b".",
        ] {
            let s = safe_file_name(raw);
            assert!(!s.name.contains(['/', '\\', '\0']));
            assert!(s.name != "." && s.name != ".." && !s.name.is_empty());
        }
    }

    #[test]
    fn hex_is_lowercase() {
        assert_eq!(to_hex(&[0x00, 0xab, 0x10]), "00ab10");
    }
}
