//! Content decoders as streaming stages: netascii (TFTP), gzip, zlib-wrapped deflate and raw
//! deflate (HTTP Content-Encoding).
//!
//! In: wire bytes in pieces of any size. Out: decoded bytes handed to an `emit` callback in
//! chunks of at most [`CHUNK`] bytes, so memory per stage is bounded whatever the compression
//! ratio; `emit` returns false to stop the stage (an output limit was reached or the sink
//! failed). Output limits themselves live in [`super::Pipeline`]; this file only decodes.

use flate2::{Crc, Decompress, FlushDecompress, Status};
use serde::Serialize;

/// Largest decoded chunk handed on at once, in bytes (also the scratch buffer's size).
pub const CHUNK: usize = 32 * 1024;

/// How the wire bytes are turned into the bytes written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Coding {
    /// Written as received.
    #[default]
    Identity,
    /// TFTP netascii mode (RFC 1350 §1, text per RFC 854 "NVT"): CR LF → LF, CR NUL → CR.
    Netascii,
    /// gzip (RFC 1952), several members in a row allowed; `Content-Encoding: gzip` / `x-gzip`
    /// (RFC 9110 §8.4.1.3).
    Gzip,
    /// HTTP `Content-Encoding: deflate`: zlib-wrapped per RFC 9110 §8.4.1.2 (RFC 1950), but raw
    /// deflate (RFC 1951) is sent by some servers, so the first two bytes decide: a valid zlib
    /// header means zlib, anything else raw deflate (what browsers do).
    Deflate,
    /// zlib-wrapped deflate only (RFC 1950); the Adler-32 trailer is checked.
    Zlib,
    /// Raw deflate only (RFC 1951).
    RawDeflate,
}

impl Coding {
    /// The coding named by an HTTP `Content-Encoding` field value, when it is exactly one coding
    /// this module can undo (`gzip`, `x-gzip`, `deflate`, `identity`; case-insensitive, spaces
    /// around ignored). A list of codings (`gzip, br`) or an unknown one gives `None`: the body
    /// is then best written as received.
    pub fn from_content_encoding(value: &[u8]) -> Option<Coding> {
        let v = value.trim_ascii();
        if v.eq_ignore_ascii_case(b"gzip") || v.eq_ignore_ascii_case(b"x-gzip") {
            Some(Coding::Gzip)
        } else if v.eq_ignore_ascii_case(b"deflate") {
            Some(Coding::Deflate)
        } else if v.eq_ignore_ascii_case(b"identity") {
            Some(Coding::Identity)
        } else {
            None
        }
    }

    /// True for the decompressing codings, whose output can be far larger than the input and
    /// is therefore limited (see [`super::Limits`]).
    pub fn is_compressed(self) -> bool {
        matches!(
            self,
            Coding::Gzip | Coding::Deflate | Coding::Zlib | Coding::RawDeflate
        )
    }
}

/// Why a stage could not go on: the data is not what the coding says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fault {
    /// Offset of the bad data within the input given to this call (0 at `finish`).
    pub at: usize,
    /// What is wrong, lowercase.
    pub reason: String,
}

fn fault(at: usize, reason: impl Into<String>) -> Fault {
    Fault {
        at,
        reason: reason.into(),
    }
}

/// The decoding stage of one sink.
#[derive(Debug)]
pub(crate) enum Decoder {
    Identity,
    Netascii(Netascii),
    Gzip(Box<Gzip>),
    /// `Deflate` before its first two bytes have arrived.
    Sniff {
        have: [u8; 2],
        len: usize,
    },
    Inflate(Box<Inflate>),
}

impl Decoder {
    pub(crate) fn new(coding: Coding) -> Decoder {
        match coding {
            Coding::Identity => Decoder::Identity,
            Coding::Netascii => Decoder::Netascii(Netascii::default()),
            Coding::Gzip => Decoder::Gzip(Box::new(Gzip::new())),
            Coding::Deflate => Decoder::Sniff {
                have: [0; 2],
                len: 0,
            },
            Coding::Zlib => Decoder::Inflate(Box::new(Inflate::new(true))),
            Coding::RawDeflate => Decoder::Inflate(Box::new(Inflate::new(false))),
        }
    }

    /// Decodes `input`, handing each decoded chunk to `emit` until it returns false.
    pub(crate) fn push(
        &mut self,
        input: &[u8],
        scratch: &mut Vec<u8>,
        emit: &mut dyn FnMut(&[u8]) -> bool,
    ) -> Result<(), Fault> {
        match self {
            Decoder::Identity => {
                emit(input);
                Ok(())
            }
            Decoder::Netascii(n) => {
                n.push(input, scratch, emit);
                Ok(())
            }
            Decoder::Gzip(g) => g.push(input, scratch, emit),
            Decoder::Inflate(i) => i.push(input, scratch, emit),
            Decoder::Sniff { have, len } => {
                let mut rest = input;
                while *len < 2
                    && let Some((&b, tail)) = rest.split_first()
                {
                    if let Some(slot) = have.get_mut(*len) {
                        *slot = b;
                    }
                    *len += 1;
                    rest = tail;
                }
                if *len < 2 {
                    return Ok(());
                }
                let head = *have;
                *self = Decoder::Inflate(Box::new(Inflate::new(is_zlib_header(head))));
                self.push(&head, scratch, emit)
                    .map_err(|f| fault(0, f.reason))?;
                let consumed = input.len() - rest.len();
                self.push(rest, scratch, emit).map_err(|f| Fault {
                    at: f.at + consumed,
                    reason: f.reason,
                })
            }
        }
    }

    /// Ends the input: flushes what is pending and checks the data ended where it should.
    pub(crate) fn finish(
        &mut self,
        scratch: &mut Vec<u8>,
        emit: &mut dyn FnMut(&[u8]) -> bool,
    ) -> Result<(), Fault> {
        match self {
            Decoder::Identity => Ok(()),
            Decoder::Netascii(n) => {
                n.finish(emit);
                Ok(())
            }
            Decoder::Gzip(g) => g.finish(),
            Decoder::Inflate(i) => i.finish(),
            Decoder::Sniff { have, len } => {
                if *len == 0 {
                    return Ok(());
                }
                let head = have.get(..*len).unwrap_or_default().to_vec();
                *self = Decoder::Inflate(Box::new(Inflate::new(false)));
                self.push(&head, scratch, emit)?;
                self.finish(scratch, emit)
            }
        }
    }

    /// Wire bytes after the end of the compressed data, ignored.
    pub(crate) fn trailing_bytes(&self) -> u64 {
        match self {
            Decoder::Gzip(g) => g.trailing,
            Decoder::Inflate(i) => i.trailing,
            _ => 0,
        }
    }

    /// Netascii: CRs followed by something other than LF or NUL.
    pub(crate) fn netascii_invalid(&self) -> u64 {
        match self {
            Decoder::Netascii(n) => n.invalid,
            _ => 0,
        }
    }
}

/// RFC 1950 §2.2: CM = 8 (deflate), CINFO ≤ 7, and CMF·256 + FLG a multiple of 31.
fn is_zlib_header([cmf, flg]: [u8; 2]) -> bool {
    cmf & 0x0f == 8 && cmf >> 4 <= 7 && (u16::from(cmf) << 8 | u16::from(flg)) % 31 == 0
}

/// Netascii → local text, across block boundaries.
///
/// RFC 854 (NVT): a CR must be followed by LF (end of line, written LF here) or NUL (a bare
/// carriage return, written CR). A CR followed by anything else is kept as it is and counted.
#[derive(Debug, Default)]
pub(crate) struct Netascii {
    pending_cr: bool,
    invalid: u64,
}

impl Netascii {
    fn push(&mut self, input: &[u8], scratch: &mut Vec<u8>, emit: &mut dyn FnMut(&[u8]) -> bool) {
        // At most two output bytes per input byte, so half a chunk of input fits the scratch.
        for piece in input.chunks(CHUNK / 2) {
            scratch.clear();
            for &b in piece {
                if self.pending_cr {
                    self.pending_cr = false;
                    match b {
                        b'\n' => scratch.push(b'\n'),
                        0 => scratch.push(b'\r'),
                        b'\r' => {
                            scratch.push(b'\r');
                            self.invalid = self.invalid.saturating_add(1);
                            self.pending_cr = true;
                        }
                        other => {
                            scratch.extend_from_slice(&[b'\r', other]);
                            self.invalid = self.invalid.saturating_add(1);
                        }
                    }
                } else if b == b'\r' {
                    self.pending_cr = true;
                } else {
                    scratch.push(b);
                }
            }
            if !scratch.is_empty() && !emit(scratch) {
                return;
            }
        }
    }

    /// A CR left at the very end is written as it is (and counted).
    fn finish(&mut self, emit: &mut dyn FnMut(&[u8]) -> bool) {
        if self.pending_cr {
            self.pending_cr = false;
            self.invalid = self.invalid.saturating_add(1);
            emit(b"\r");
        }
    }
}

/// One run of `Decompress` over `input`, handing output on; returns (bytes consumed, stream
/// ended, emit asked to stop).
fn inflate_step(
    d: &mut Decompress,
    input: &[u8],
    scratch: &mut Vec<u8>,
    crc: Option<&mut Crc>,
    emit: &mut dyn FnMut(&[u8]) -> bool,
) -> Result<(usize, bool, bool), String> {
    scratch.resize(CHUNK, 0);
    let mut crc = crc;
    let mut consumed = 0usize;
    loop {
        let rest = input.get(consumed..).unwrap_or_default();
        let (in0, out0) = (d.total_in(), d.total_out());
        let status = d
            .decompress(rest, scratch, FlushDecompress::None)
            .map_err(|e| e.to_string())?;
        let used = usize::try_from(d.total_in() - in0).unwrap_or(usize::MAX);
        let made = usize::try_from(d.total_out() - out0).unwrap_or(usize::MAX);
        consumed = consumed.saturating_add(used).min(input.len());
        let out = scratch.get(..made).unwrap_or_default();
        if let Some(c) = crc.as_deref_mut() {
            c.update(out);
        }
        if !out.is_empty() && !emit(out) {
            return Ok((consumed, false, true));
        }
        if status == Status::StreamEnd {
            return Ok((consumed, true, false));
        }
        // A full output buffer may hide more output; otherwise the input is used up (or no
        // progress is possible without more of it).
        if made < CHUNK && (consumed == input.len() || (used == 0 && made == 0)) {
            return Ok((consumed, false, false));
        }
    }
}

/// zlib-wrapped or raw deflate.
#[derive(Debug)]
pub(crate) struct Inflate {
    d: Decompress,
    zlib: bool,
    started: bool,
    ended: bool,
    trailing: u64,
}

impl Inflate {
    fn new(zlib: bool) -> Inflate {
        Inflate {
            d: Decompress::new(zlib),
            zlib,
            started: false,
            ended: false,
            trailing: 0,
        }
    }

    fn push(
        &mut self,
        input: &[u8],
        scratch: &mut Vec<u8>,
        emit: &mut dyn FnMut(&[u8]) -> bool,
    ) -> Result<(), Fault> {
        if input.is_empty() {
            return Ok(());
        }
        if self.ended {
            self.trailing = self.trailing.saturating_add(input.len() as u64);
            return Ok(());
        }
        self.started = true;
        let at = usize::try_from(self.d.total_in()).unwrap_or(0);
        let (consumed, ended, _stopped) = inflate_step(&mut self.d, input, scratch, None, emit)
            .map_err(|r| {
                // The position is where the decoder was when it gave up, at the latest.
                let now = usize::try_from(self.d.total_in()).unwrap_or(0);
                fault(now.saturating_sub(at).min(input.len()), r)
            })?;
        if ended {
            self.ended = true;
            let rest = input.len().saturating_sub(consumed);
            self.trailing = self.trailing.saturating_add(rest as u64);
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), Fault> {
        if self.started && !self.ended {
            let what = if self.zlib { "zlib" } else { "deflate" };
            return Err(fault(0, format!("{what} data ended early")));
        }
        Ok(())
    }
}

// RFC 1952 §2.3.1 header flags.
const FHCRC: u8 = 0x02;
const FEXTRA: u8 = 0x04;
const FNAME: u8 = 0x08;
const FCOMMENT: u8 = 0x10;
const FRESERVED: u8 = 0xe0;

/// Where a gzip member parse stands (RFC 1952 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GzState {
    /// The fixed 10-byte header (ID1 ID2 CM FLG MTIME XFL OS).
    Header {
        buf: [u8; 10],
        have: usize,
    },
    ExtraLen {
        flags: u8,
        buf: [u8; 2],
        have: usize,
    },
    Extra {
        flags: u8,
        left: usize,
    },
    Name {
        flags: u8,
    },
    Comment {
        flags: u8,
    },
    HeaderCrc {
        left: usize,
    },
    Body,
    /// CRC32 and ISIZE, both little-endian.
    Trailer {
        buf: [u8; 8],
        have: usize,
    },
    /// A member ended; more bytes may start another one.
    Between,
    /// Bytes after the last member that are not a gzip member: counted and ignored.
    Trailing,
}

/// The state after the header part `done` (0 = fixed header, 1 = extra, 2 = name, 3 = comment).
fn next_header_state(flags: u8, done: u8) -> GzState {
    if done < 1 && flags & FEXTRA != 0 {
        GzState::ExtraLen {
            flags,
            buf: [0; 2],
            have: 0,
        }
    } else if done < 2 && flags & FNAME != 0 {
        GzState::Name { flags }
    } else if done < 3 && flags & FCOMMENT != 0 {
        GzState::Comment { flags }
    } else if flags & FHCRC != 0 {
        GzState::HeaderCrc { left: 2 }
    } else {
        GzState::Body
    }
}

/// gzip: a header parser and trailer check around raw deflate.
#[derive(Debug)]
pub(crate) struct Gzip {
    state: GzState,
    d: Decompress,
    crc: Crc,
    members: u64,
    trailing: u64,
}

impl Gzip {
    fn new() -> Gzip {
        Gzip {
            state: GzState::Header {
                buf: [0; 10],
                have: 0,
            },
            d: Decompress::new(false),
            crc: Crc::new(),
            members: 0,
            trailing: 0,
        }
    }

    fn push(
        &mut self,
        input: &[u8],
        scratch: &mut Vec<u8>,
        emit: &mut dyn FnMut(&[u8]) -> bool,
    ) -> Result<(), Fault> {
        let mut i = 0usize;
        while i < input.len() {
            let rest = input.get(i..).unwrap_or_default();
            let Some((&b, _)) = rest.split_first() else {
                break;
            };
            match &mut self.state {
                GzState::Between => {
                    self.state = GzState::Header {
                        buf: [0; 10],
                        have: 0,
                    };
                }
                GzState::Trailing => {
                    self.trailing = self.trailing.saturating_add(rest.len() as u64);
                    return Ok(());
                }
                GzState::Header { buf, have } => {
                    if let Some(slot) = buf.get_mut(*have) {
                        *slot = b;
                    }
                    *have += 1;
                    i += 1;
                    let [id1, id2, ..] = *buf;
                    let magic_ok = match *have {
                        1 => id1 == 0x1f,
                        2 => id2 == 0x8b,
                        _ => true,
                    };
                    if !magic_ok {
                        if self.members == 0 {
                            return Err(fault(i - 1, "not gzip data (no 1f 8b magic)"));
                        }
                        // Not another member: the rest is trailing data (some servers pad).
                        self.trailing = self.trailing.saturating_add(*have as u64);
                        self.state = GzState::Trailing;
                        continue;
                    }
                    if *have == 10 {
                        let [_, _, cm, flags, ..] = *buf;
                        if cm != 8 {
                            return Err(fault(i - 1, format!("gzip method {cm} is not deflate")));
                        }
                        if flags & FRESERVED != 0 {
                            return Err(fault(i - 1, "gzip header has reserved flags set"));
                        }
                        self.state = next_header_state(flags, 0);
                    }
                }
                GzState::ExtraLen { flags, buf, have } => {
                    if let Some(slot) = buf.get_mut(*have) {
                        *slot = b;
                    }
                    *have += 1;
                    i += 1;
                    if *have == 2 {
                        let left = usize::from(u16::from_le_bytes(*buf));
                        self.state = GzState::Extra {
                            flags: *flags,
                            left,
                        };
                    }
                }
                GzState::Extra { flags, left } => {
                    let take = (*left).min(rest.len());
                    *left -= take;
                    i += take;
                    if *left == 0 {
                        self.state = next_header_state(*flags, 1);
                    }
                }
                GzState::Name { flags } | GzState::Comment { flags } => {
                    let flags = *flags;
                    let done = if matches!(self.state, GzState::Name { .. }) {
                        2
                    } else {
                        3
                    };
                    match rest.iter().position(|&c| c == 0) {
                        Some(p) => {
                            i += p + 1;
                            self.state = next_header_state(flags, done);
                        }
                        None => i = input.len(),
                    }
                }
                GzState::HeaderCrc { left } => {
                    // The header CRC16 (RFC 1952 §2.3.1, FHCRC) is skipped, not checked.
                    let take = (*left).min(rest.len());
                    *left -= take;
                    i += take;
                    if *left == 0 {
                        self.state = GzState::Body;
                    }
                }
                GzState::Body => {
                    let at = i;
                    let (consumed, ended, stopped) =
                        inflate_step(&mut self.d, rest, scratch, Some(&mut self.crc), emit)
                            .map_err(|r| fault(at, r))?;
                    if stopped {
                        return Ok(());
                    }
                    i += consumed;
                    if ended {
                        self.state = GzState::Trailer {
                            buf: [0; 8],
                            have: 0,
                        };
                    } else if consumed == 0 {
                        break;
                    }
                }
                GzState::Trailer { buf, have } => {
                    if let Some(slot) = buf.get_mut(*have) {
                        *slot = b;
                    }
                    *have += 1;
                    i += 1;
                    if *have == 8 {
                        let [c0, c1, c2, c3, s0, s1, s2, s3] = *buf;
                        let crc = u32::from_le_bytes([c0, c1, c2, c3]);
                        let isize = u32::from_le_bytes([s0, s1, s2, s3]);
                        if crc != self.crc.sum() {
                            return Err(fault(i - 8, "gzip crc32 does not match the data"));
                        }
                        if isize != self.crc.amount() {
                            return Err(fault(i - 4, "gzip size does not match the data"));
                        }
                        self.members += 1;
                        self.crc.reset();
                        self.d.reset(false);
                        self.state = GzState::Between;
                    }
                }
            }
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), Fault> {
        let part = match self.state {
            GzState::Between | GzState::Trailing => return Ok(()),
            // Nothing at all: an empty body (common with HEAD, 204, 304) decodes to nothing.
            GzState::Header { have: 0, .. } if self.members == 0 => return Ok(()),
            GzState::Header { .. } if self.members > 0 => {
                // A partial magic after a complete member is trailing data.
                return Ok(());
            }
            GzState::Header { .. }
            | GzState::ExtraLen { .. }
            | GzState::Extra { .. }
            | GzState::Name { .. }
            | GzState::Comment { .. }
            | GzState::HeaderCrc { .. } => "header",
            GzState::Body => "compressed data",
            GzState::Trailer { .. } => "trailer",
        };
        Err(fault(0, format!("gzip data ended early (in the {part})")))
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    /// Decodes `pieces` in order; returns the output, or the fault.
    fn run(coding: Coding, pieces: &[&[u8]]) -> Result<Vec<u8>, Fault> {
        let mut d = Decoder::new(coding);
        let mut out = Vec::new();
        let mut scratch = Vec::new();
        for p in pieces {
            d.push(p, &mut scratch, &mut |c| {
                assert!(c.len() <= CHUNK);
                out.extend_from_slice(c);
                true
            })?;
        }
        d.finish(&mut scratch, &mut |c| {
            out.extend_from_slice(c);
            true
        })?;
        Ok(out)
    }

    fn one_byte_pieces(data: &[u8]) -> Vec<&[u8]> {
        data.chunks(1).collect()
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn raw(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn text() -> Vec<u8> {
        (0..20_000u32)
            .flat_map(|i| format!("line {i} of the page\n").into_bytes())
            .collect()
    }

    #[test]
    fn netascii_follows_rfc_854() {
        let n = |pieces: &[&[u8]]| {
            let mut d = Decoder::new(Coding::Netascii);
            let mut out = Vec::new();
            let mut s = Vec::new();
            for p in pieces {
                d.push(p, &mut s, &mut |c| {
                    out.extend_from_slice(c);
                    true
                })
                .unwrap();
            }
            d.finish(&mut s, &mut |c| {
                out.extend_from_slice(c);
                true
            })
            .unwrap();
            (out, d.netascii_invalid())
        };
        // CR LF is the end of a line, CR NUL a bare carriage return.
        assert_eq!(n(&[b"a\r\nb\r\n"]), (b"a\nb\n".to_vec(), 0));
        assert_eq!(n(&[b"x\r\0y"]), (b"x\ry".to_vec(), 0));
        // The pair may straddle two DATA blocks.
        assert_eq!(n(&[b"one\r", b"\ntwo"]), (b"one\ntwo".to_vec(), 0));
        assert_eq!(n(&[b"one\r", b"\0two"]), (b"one\rtwo".to_vec(), 0));
        // Invalid: CR followed by a letter, CR CR LF, CR at the very end.
        assert_eq!(n(&[b"a\rb"]), (b"a\rb".to_vec(), 1));
        assert_eq!(n(&[b"a\r\r\n"]), (b"a\r\n".to_vec(), 1));
        assert_eq!(n(&[b"a\r"]), (b"a\r".to_vec(), 1));
        // A bare LF and a NUL not after CR pass through.
        assert_eq!(n(&[b"a\nb\0"]), (b"a\nb\0".to_vec(), 0));
        // Large input: output chunks stay bounded and everything arrives.
        let big: Vec<u8> = b"ab\r\n".repeat(50_000);
        let (out, bad) = n(&[&big]);
        assert_eq!((out, bad), (b"ab\n".repeat(50_000), 0));
    }

    #[test]
    fn gzip_decodes_in_any_split() {
        let t = text();
        let z = gzip(&t);
        assert_eq!(run(Coding::Gzip, &[&z]).unwrap(), t);
        assert_eq!(run(Coding::Gzip, &one_byte_pieces(&z)).unwrap(), t);
        let (a, b) = z.split_at(z.len() / 2);
        assert_eq!(run(Coding::Gzip, &[a, b]).unwrap(), t);
    }

    #[test]
    fn gzip_header_fields_and_members() {
        // Header with FEXTRA, FNAME, FCOMMENT and FHCRC, built by flate2's builder.
        let mut e = flate2::GzBuilder::new()
            .extra(vec![1, 2, 3, 4])
            .filename("page.html")
            .comment("a comment")
            .write(Vec::new(), flate2::Compression::fast());
        e.write_all(b"hello ").unwrap();
        let mut z = e.finish().unwrap();
        // FHCRC: set the flag and insert two bytes after the header fields by hand.
        let second = gzip(b"world");
        let mut with_crc = second.clone();
        with_crc[3] |= FHCRC;
        with_crc.splice(10..10, [0xaa, 0xbb]);
        z.extend_from_slice(&with_crc);
        assert_eq!(run(Coding::Gzip, &[&z]).unwrap(), b"hello world");
        assert_eq!(
            run(Coding::Gzip, &one_byte_pieces(&z)).unwrap(),
            b"hello world"
        );
    }

    #[test]
    fn gzip_faults_name_the_problem() {
        let z = gzip(b"some text that is long enough to matter");
        assert!(
            run(Coding::Gzip, &[b"plain text"])
                .unwrap_err()
                .reason
                .contains("not gzip")
        );
        let mut bad_crc = z.clone();
        let n = bad_crc.len();
        bad_crc[n - 8] ^= 1;
        assert!(
            run(Coding::Gzip, &[&bad_crc])
                .unwrap_err()
                .reason
                .contains("crc32")
        );
        let mut bad_size = z.clone();
        bad_size[n - 1] ^= 1;
        assert!(
            run(Coding::Gzip, &[&bad_size])
                .unwrap_err()
                .reason
                .contains("size")
        );
        for (cut, part) in [(5, "header"), (12, "compressed data"), (n - 3, "trailer")] {
            let e = run(Coding::Gzip, &[&z[..cut]]).unwrap_err();
            assert!(e.reason.contains(part), "{cut}: {}", e.reason);
        }
        let mut reserved = z.clone();
        reserved[3] |= 0x80;
        assert!(
            run(Coding::Gzip, &[&reserved])
                .unwrap_err()
                .reason
                .contains("reserved")
        );
        // Garbage instead of deflate data.
        let mut garbage = z[..10].to_vec();
        garbage.extend_from_slice(&[0xff; 64]);
        assert!(run(Coding::Gzip, &[&garbage]).is_err());
    }

    #[test]
    fn gzip_empty_body_and_trailing_bytes() {
        assert_eq!(run(Coding::Gzip, &[]).unwrap(), b"");
        let mut z = gzip(b"abc");
        z.extend_from_slice(&[0, 0, 0]);
        let mut d = Decoder::new(Coding::Gzip);
        let mut s = Vec::new();
        let mut out = Vec::new();
        d.push(&z, &mut s, &mut |c| {
            out.extend_from_slice(c);
            true
        })
        .unwrap();
        d.finish(&mut s, &mut |_| true).unwrap();
        assert_eq!((out.as_slice(), d.trailing_bytes()), (&b"abc"[..], 3));
    }

    #[test]
    fn deflate_accepts_zlib_and_raw() {
        let t = text();
        for (coding, data) in [
            (Coding::Deflate, zlib(&t)),
            (Coding::Deflate, raw(&t)),
            (Coding::Zlib, zlib(&t)),
            (Coding::RawDeflate, raw(&t)),
        ] {
            assert_eq!(run(coding, &[&data]).unwrap(), t, "{coding:?}");
            assert_eq!(
                run(coding, &one_byte_pieces(&data)).unwrap(),
                t,
                "{coding:?}"
            );
        }
        // The sniffed header must agree with RFC 1950 for every level's header.
        for level in 0..=9 {
            let mut e =
                flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(level));
            e.write_all(b"x").unwrap();
            let z = e.finish().unwrap();
            assert!(is_zlib_header([z[0], z[1]]), "level {level}");
        }
        // Truncated and corrupt data are faults; the zlib Adler-32 is checked.
        let z = zlib(&t);
        assert!(
            run(Coding::Deflate, &[&z[..z.len() / 2]])
                .unwrap_err()
                .reason
                .contains("ended early")
        );
        let mut bad = z.clone();
        let n = bad.len();
        bad[n - 1] ^= 1;
        assert!(run(Coding::Zlib, &[&bad]).is_err());
        assert!(run(Coding::Deflate, &[b"\xff"]).is_err());
        assert_eq!(run(Coding::Deflate, &[]).unwrap(), b"");
    }

    #[test]
    fn content_encoding_names() {
        assert_eq!(Coding::from_content_encoding(b" GZIP "), Some(Coding::Gzip));
        assert_eq!(Coding::from_content_encoding(b"x-gzip"), Some(Coding::Gzip));
        assert_eq!(
            Coding::from_content_encoding(b"Deflate"),
            Some(Coding::Deflate)
        );
        assert_eq!(
            Coding::from_content_encoding(b"identity"),
            Some(Coding::Identity)
        );
        assert_eq!(Coding::from_content_encoding(b"gzip, br"), None);
        assert_eq!(Coding::from_content_encoding(b"br"), None);
    }

    #[test]
    fn every_prefix_of_compressed_data_is_handled() {
        let t = text();
        let g = gzip(&t[..3000]);
        for n in 0..g.len() {
            // Never a panic; a prefix is an error or (only for n = 0) empty output.
            let r = run(Coding::Gzip, &[&g[..n]]);
            assert!(n == 0 || r.is_err(), "{n}");
        }
    }
}
