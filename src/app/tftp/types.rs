//! TFTP packet views (RFC 1350, options RFC 2347/2348/2349/7440) and their display text.
//!
//! Every view borrows the datagram payload; nothing here allocates. Text is decoded only when
//! displayed, with bytes that are not printable shown as `\xNN` escapes.

use std::fmt;

use serde::Serialize;

/// A TFTP opcode (RFC 1350 §5, RFC 2347 for OACK).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Opcode {
    /// 1: read request.
    Rrq,
    /// 2: write request.
    Wrq,
    /// 3: data block.
    Data,
    /// 4: acknowledgement.
    Ack,
    /// 5: error.
    Error,
    /// 6: option acknowledgement (RFC 2347).
    Oack,
}

impl Opcode {
    /// The opcode for a wire value, or `None` when the value is not defined.
    pub fn from_u16(value: u16) -> Option<Self> {
        match value {
            1 => Some(Opcode::Rrq),
            2 => Some(Opcode::Wrq),
            3 => Some(Opcode::Data),
            4 => Some(Opcode::Ack),
            5 => Some(Opcode::Error),
            6 => Some(Opcode::Oack),
            _ => None,
        }
    }

    /// The wire value.
    pub fn to_u16(self) -> u16 {
        match self {
            Opcode::Rrq => 1,
            Opcode::Wrq => 2,
            Opcode::Data => 3,
            Opcode::Ack => 4,
            Opcode::Error => 5,
            Opcode::Oack => 6,
        }
    }

    /// Wireshark's name for the opcode (`Read Request`, `Data Packet`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Opcode::Rrq => "Read Request",
            Opcode::Wrq => "Write Request",
            Opcode::Data => "Data Packet",
            Opcode::Ack => "Acknowledgement",
            Opcode::Error => "Error Code",
            Opcode::Oack => "Option Acknowledgement",
        }
    }
}

/// The transfer mode of a request, matched case-insensitively (RFC 1350 §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode<'a> {
    /// `netascii`: text with CR LF line ends and CR NUL for a bare CR (RFC 764).
    Netascii,
    /// `octet`: raw 8-bit bytes.
    Octet,
    /// `mail`: obsolete (RFC 1350 §1 says it should not be implemented).
    Mail,
    /// Any other mode string, as sent.
    Other(&'a [u8]),
}

impl<'a> Mode<'a> {
    /// Classifies a mode string, ignoring ASCII case.
    pub fn from_bytes(raw: &'a [u8]) -> Self {
        if raw.eq_ignore_ascii_case(b"netascii") {
            Mode::Netascii
        } else if raw.eq_ignore_ascii_case(b"octet") {
            Mode::Octet
        } else if raw.eq_ignore_ascii_case(b"mail") {
            Mode::Mail
        } else {
            Mode::Other(raw)
        }
    }

    /// True for the two modes servers are expected to implement: netascii and octet.
    pub fn is_standard(&self) -> bool {
        matches!(self, Mode::Netascii | Mode::Octet)
    }
}

/// TFTP error codes (RFC 1350 §5 and RFC 2347 for code 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// 0: not defined, see the error message.
    NotDefined,
    /// 1: file not found.
    FileNotFound,
    /// 2: access violation.
    AccessViolation,
    /// 3: disk full or allocation exceeded.
    DiskFull,
    /// 4: illegal TFTP operation.
    IllegalOperation,
    /// 5: unknown transfer ID.
    UnknownTransferId,
    /// 6: file already exists.
    FileExists,
    /// 7: no such user.
    NoSuchUser,
    /// 8: option negotiation failed (RFC 2347).
    OptionNegotiation,
    /// Any other value (not defined by an RFC).
    Other(u16),
}

impl ErrorCode {
    /// The error code for a wire value.
    pub fn from_u16(value: u16) -> Self {
        match value {
            0 => ErrorCode::NotDefined,
            1 => ErrorCode::FileNotFound,
            2 => ErrorCode::AccessViolation,
            3 => ErrorCode::DiskFull,
            4 => ErrorCode::IllegalOperation,
            5 => ErrorCode::UnknownTransferId,
            6 => ErrorCode::FileExists,
            7 => ErrorCode::NoSuchUser,
            8 => ErrorCode::OptionNegotiation,
            other => ErrorCode::Other(other),
        }
    }

    /// The wire value.
    pub fn to_u16(self) -> u16 {
        match self {
            ErrorCode::NotDefined => 0,
            ErrorCode::FileNotFound => 1,
            ErrorCode::AccessViolation => 2,
            ErrorCode::DiskFull => 3,
            ErrorCode::IllegalOperation => 4,
            ErrorCode::UnknownTransferId => 5,
            ErrorCode::FileExists => 6,
            ErrorCode::NoSuchUser => 7,
            ErrorCode::OptionNegotiation => 8,
            ErrorCode::Other(v) => v,
        }
    }

    /// The standard meaning, as Wireshark names it; `None` for undefined codes.
    pub fn description(self) -> Option<&'static str> {
        match self {
            ErrorCode::NotDefined => Some("Not defined"),
            ErrorCode::FileNotFound => Some("File not found"),
            ErrorCode::AccessViolation => Some("Access violation"),
            ErrorCode::DiskFull => Some("Disk full or allocation exceeded"),
            ErrorCode::IllegalOperation => Some("Illegal TFTP Operation"),
            ErrorCode::UnknownTransferId => Some("Unknown transfer ID"),
            ErrorCode::FileExists => Some("File already exists"),
            ErrorCode::NoSuchUser => Some("No such user"),
            ErrorCode::OptionNegotiation => Some("Option negotiation failed"),
            ErrorCode::Other(_) => None,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.description() {
            Some(d) => f.write_str(d),
            None => write!(f, "Unknown ({})", self.to_u16()),
        }
    }
}

/// The options a request or OACK carries (RFC 2347), as a lazy iterator over the borrowed bytes.
///
/// Built only by the decoder, which has already checked that the bytes are name/value pairs of
/// NUL-terminated strings (the very last NUL may be missing, see `missing_final_nul`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Options<'a> {
    raw: &'a [u8],
}

impl<'a> Options<'a> {
    /// Wraps bytes the decoder has validated.
    pub(crate) fn from_validated(raw: &'a [u8]) -> Self {
        Options { raw }
    }

    /// The validated bytes (for a tracker that must keep the options of a request).
    pub(crate) fn as_bytes(&self) -> &'a [u8] {
        self.raw
    }

    /// True when there is no option.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// The options in wire order (duplicates and unknown options included).
    pub fn iter(&self) -> OptionIter<'a> {
        OptionIter { rest: self.raw }
    }

    /// The first option whose name matches `name` ignoring ASCII case.
    pub fn find(&self, name: &str) -> Option<OptionPair<'a>> {
        self.iter()
            .find(|o| o.name.eq_ignore_ascii_case(name.as_bytes()))
    }
}

impl<'a> IntoIterator for Options<'a> {
    type Item = OptionPair<'a>;
    type IntoIter = OptionIter<'a>;
    fn into_iter(self) -> OptionIter<'a> {
        self.iter()
    }
}

/// Iterator over [`Options`].
#[derive(Debug, Clone)]
pub struct OptionIter<'a> {
    rest: &'a [u8],
}

/// Splits at the first NUL: the string before it and the bytes after it (or all and nothing).
fn split_nul(bytes: &[u8]) -> (&[u8], &[u8]) {
    match bytes.iter().position(|&b| b == 0) {
        Some(i) => (
            bytes.get(..i).unwrap_or_default(),
            bytes.get(i + 1..).unwrap_or_default(),
        ),
        None => (bytes, &[]),
    }
}

impl<'a> Iterator for OptionIter<'a> {
    type Item = OptionPair<'a>;
    fn next(&mut self) -> Option<OptionPair<'a>> {
        if self.rest.is_empty() {
            return None;
        }
        let (name, rest) = split_nul(self.rest);
        let (value, rest) = split_nul(rest);
        self.rest = rest;
        Some(OptionPair { name, value })
    }
}

/// One option: a name and a value, both as sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionPair<'a> {
    /// Option name (case-insensitive on the wire).
    pub name: &'a [u8],
    /// Option value, for the known options an ASCII decimal number.
    pub value: &'a [u8],
}

/// The options pcaplab knows about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OptionKind {
    /// `blksize`, RFC 2348: 8..=65464 bytes per DATA block.
    BlockSize,
    /// `timeout`, RFC 2349: 1..=255 seconds.
    Timeout,
    /// `tsize`, RFC 2349: the file size in bytes (0 in a RRQ asks the server for it).
    TransferSize,
    /// `windowsize`, RFC 7440: 1..=65535 blocks per window.
    WindowSize,
    /// Any other option name.
    Unknown,
}

impl OptionKind {
    /// Classifies an option name, ignoring ASCII case.
    pub fn from_name(name: &[u8]) -> Self {
        if name.eq_ignore_ascii_case(b"blksize") {
            OptionKind::BlockSize
        } else if name.eq_ignore_ascii_case(b"timeout") {
            OptionKind::Timeout
        } else if name.eq_ignore_ascii_case(b"tsize") {
            OptionKind::TransferSize
        } else if name.eq_ignore_ascii_case(b"windowsize") {
            OptionKind::WindowSize
        } else {
            OptionKind::Unknown
        }
    }

    /// The inclusive range of valid values, for the known options.
    pub fn valid_range(self) -> Option<(u64, u64)> {
        match self {
            OptionKind::BlockSize => Some((8, 65464)), // RFC 2348
            OptionKind::Timeout => Some((1, 255)),     // RFC 2349 §2
            OptionKind::TransferSize => Some((0, u64::MAX)), // RFC 2349 §3
            OptionKind::WindowSize => Some((1, 65535)), // RFC 7440 §3
            OptionKind::Unknown => None,
        }
    }
}

impl<'a> OptionPair<'a> {
    /// What the option is.
    pub fn kind(&self) -> OptionKind {
        OptionKind::from_name(self.name)
    }

    /// The value as an ASCII decimal number, or `None` when it is not one (or overflows u64).
    pub fn number(&self) -> Option<u64> {
        parse_decimal(self.value)
    }

    /// The value of a known option when it is a number inside the RFC's range.
    pub fn valid_number(&self) -> Option<u64> {
        let (lo, hi) = self.kind().valid_range()?;
        self.number().filter(|n| (lo..=hi).contains(n))
    }
}

/// Parses an ASCII decimal number without sign, with checked arithmetic.
pub(crate) fn parse_decimal(bytes: &[u8]) -> Option<u64> {
    if bytes.is_empty() {
        return None;
    }
    bytes.iter().try_fold(0u64, |acc, &b| {
        if b.is_ascii_digit() {
            acc.checked_mul(10)?.checked_add(u64::from(b - b'0'))
        } else {
            None
        }
    })
}

/// A read or write request (RFC 1350 §5, options RFC 2347).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request<'a> {
    /// The file name as sent (RFC 1350 says netascii; in practice often UTF-8 or anything).
    pub file_name: &'a [u8],
    /// The mode string as sent.
    pub mode_raw: &'a [u8],
    /// The mode, classified case-insensitively.
    pub mode: Mode<'a>,
    /// RFC 2347 options after the mode (empty when none).
    pub options: Options<'a>,
    /// The last string (mode or last option value) ended at the end of the datagram without its
    /// NUL. Tolerated by the decoder, reported by the analysis: strict servers reject it.
    pub missing_final_nul: bool,
}

impl Request<'_> {
    /// True when every byte of the file name is printable ASCII (netascii, RFC 1350 §5).
    pub fn has_ascii_file_name(&self) -> bool {
        self.file_name.iter().all(|b| (0x20..0x7f).contains(b))
    }
}

/// A DATA packet (RFC 1350 §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Data<'a> {
    /// Block number (starts at 1, wraps after 65535).
    pub block: u16,
    /// The data bytes (0 to block size).
    pub data: &'a [u8],
}

/// An ACK packet (RFC 1350 §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ack {
    /// Block number acknowledged (0 acknowledges a WRQ or an OACK).
    pub block: u16,
}

/// An ERROR packet (RFC 1350 §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorPacket<'a> {
    /// The error code.
    pub code: ErrorCode,
    /// The message as sent (without its NUL).
    pub message: &'a [u8],
    /// The message ended at the end of the datagram without its NUL.
    pub missing_final_nul: bool,
}

/// An OACK packet (RFC 2347).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Oack<'a> {
    /// The options the server accepted, with the values it chose.
    pub options: Options<'a>,
    /// The last option value ended at the end of the datagram without its NUL.
    pub missing_final_nul: bool,
}

/// One decoded TFTP datagram, borrowing the UDP payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Packet<'a> {
    /// Read request (opcode 1).
    Rrq(Request<'a>),
    /// Write request (opcode 2).
    Wrq(Request<'a>),
    /// Data (opcode 3).
    Data(Data<'a>),
    /// Acknowledgement (opcode 4).
    Ack(Ack),
    /// Error (opcode 5).
    Error(ErrorPacket<'a>),
    /// Option acknowledgement (opcode 6).
    Oack(Oack<'a>),
}

impl<'a> Packet<'a> {
    /// The packet's opcode.
    pub fn opcode(&self) -> Opcode {
        match self {
            Packet::Rrq(_) => Opcode::Rrq,
            Packet::Wrq(_) => Opcode::Wrq,
            Packet::Data(_) => Opcode::Data,
            Packet::Ack(_) => Opcode::Ack,
            Packet::Error(_) => Opcode::Error,
            Packet::Oack(_) => Opcode::Oack,
        }
    }

    /// The request, for RRQ and WRQ.
    pub fn as_request(&self) -> Option<&Request<'a>> {
        match self {
            Packet::Rrq(r) | Packet::Wrq(r) => Some(r),
            _ => None,
        }
    }

    /// Wireshark-style summary text, e.g. `Read Request, File: a.txt, Transfer type: octet`.
    ///
    /// Wireshark adds ` (last)` to a DATA block shorter than the block size; that needs the
    /// transfer's block size, so `analysis::tftp::Classification::info` adds it.
    pub fn info(&self) -> Info<'_, 'a> {
        Info {
            packet: self,
            last: false,
        }
    }
}

/// Display adapter for [`Packet::info`].
#[derive(Debug, Clone, Copy)]
pub struct Info<'p, 'a> {
    packet: &'p Packet<'a>,
    last: bool,
}

impl Info<'_, '_> {
    /// Marks a DATA packet as the last block (Wireshark's ` (last)`).
    pub fn with_last(mut self, last: bool) -> Self {
        self.last = last;
        self
    }
}

fn write_options(f: &mut fmt::Formatter<'_>, options: &Options<'_>) -> fmt::Result {
    for o in options.iter() {
        write!(f, ", {}={}", escape(o.name), escape(o.value))?;
    }
    Ok(())
}

impl fmt::Display for Info<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = self.packet;
        f.write_str(p.opcode().name())?;
        match p {
            Packet::Rrq(r) | Packet::Wrq(r) => {
                write!(
                    f,
                    ", File: {}, Transfer type: {}",
                    escape(r.file_name),
                    escape(r.mode_raw)
                )?;
                write_options(f, &r.options)
            }
            Packet::Data(d) => {
                write!(f, ", Block: {}", d.block)?;
                if self.last {
                    f.write_str(" (last)")?;
                }
                Ok(())
            }
            Packet::Ack(a) => write!(f, ", Block: {}", a.block),
            Packet::Error(e) => write!(f, ", Code: {}, Message: {}", e.code, escape(e.message)),
            Packet::Oack(o) => write_options(f, &o.options),
        }
    }
}

/// Display adapter that shows bytes as text: valid UTF-8 printable characters as they are;
/// control bytes (C0, DEL, C1), bytes that are not UTF-8 and backslash as `\xNN` / `\\`; and
/// invisible characters that change how the text around them is shown (bidi embeddings,
/// overrides and isolates such as U+202E, directional marks, zero-width characters, the BOM,
/// tag characters) as `\u{202e}`. A file name from a capture printed this way cannot move the
/// cursor, recolour the terminal or reorder what follows it (issue 16).
pub fn escape(bytes: &[u8]) -> Escaped<'_> {
    Escaped(bytes)
}

/// See [`escape`].
#[derive(Debug, Clone, Copy)]
pub struct Escaped<'a>(pub &'a [u8]);

/// Invisible format characters that reorder or hide text (Unicode bidi controls, marks,
/// zero-width characters, separators, BOM, interlinear annotation, tags).
fn is_invisible_format(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{061C}' | '\u{180E}'
        | '\u{200B}'..='\u{200F}'
        | '\u{2028}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{206F}'
        | '\u{FEFF}'
        | '\u{FFF9}'..='\u{FFFB}'
        | '\u{E0001}'
        | '\u{E0020}'..='\u{E007F}')
}

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for chunk in self.0.utf8_chunks() {
            for c in chunk.valid().chars() {
                if c == '\\' {
                    f.write_str("\\\\")?;
                } else if c.is_control() {
                    let mut buf = [0u8; 4];
                    for b in c.encode_utf8(&mut buf).bytes() {
                        write!(f, "\\x{b:02x}")?;
                    }
                } else if is_invisible_format(c) {
                    write!(f, "\\u{{{:x}}}", u32::from(c))?;
                } else {
                    write!(f, "{c}")?;
                }
            }
            for b in chunk.invalid() {
                write!(f, "\\x{b:02x}")?;
            }
        }
        Ok(())
    }
}

/// Why a datagram is not a valid TFTP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "detail")]
pub enum MalformedReason {
    /// The datagram ends inside a fixed header field (the opcode, a block number, an error code).
    TruncatedHeader(&'static str),
    /// The opcode is not 1 to 6.
    UnknownOpcode(u16),
    /// A string that must be followed by more fields has no NUL terminator.
    MissingNul(&'static str),
    /// A request with an empty file name.
    EmptyFileName,
    /// A request that ends right after the file name.
    MissingMode,
    /// A request whose mode string is empty.
    EmptyMode,
    /// An option name with no value after it (RFC 2347).
    OptionWithoutValue,
    /// An empty option name in the middle of the options.
    EmptyOptionName,
    /// An OACK with no option in it (RFC 2347 §3: the server sends an OACK only for options it
    /// accepts).
    OackWithoutOptions,
    /// Bytes after the end of a fixed-size packet or after an error message's NUL.
    TrailingBytes(&'static str),
}

impl fmt::Display for MalformedReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MalformedReason::TruncatedHeader(field) => {
                write!(f, "truncated header: the datagram ends inside the {field}")
            }
            MalformedReason::UnknownOpcode(op) => write!(f, "unknown opcode {op}"),
            MalformedReason::MissingNul(field) => {
                write!(f, "the {field} has no terminating nul byte")
            }
            MalformedReason::EmptyFileName => f.write_str("empty file name"),
            MalformedReason::MissingMode => f.write_str("the request has no transfer mode"),
            MalformedReason::EmptyMode => f.write_str("empty transfer mode"),
            MalformedReason::OptionWithoutValue => f.write_str("option without value"),
            MalformedReason::EmptyOptionName => f.write_str("empty option name"),
            MalformedReason::OackWithoutOptions => f.write_str("oack without options"),
            MalformedReason::TrailingBytes(after) => write!(f, "trailing bytes {after}"),
        }
    }
}

/// A datagram that is not a valid TFTP packet: the reason and the byte offset in the UDP payload
/// where the problem starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Malformed {
    /// What is wrong.
    pub reason: MalformedReason,
    /// Offset in the UDP payload of the field at fault.
    pub offset: usize,
}

impl Malformed {
    /// True when the datagram looks cut short (truncated header or unterminated string), which
    /// is what a snaplen cut produces.
    pub fn is_truncation(&self) -> bool {
        matches!(
            self.reason,
            MalformedReason::TruncatedHeader(_)
                | MalformedReason::MissingNul(_)
                | MalformedReason::MissingMode
        )
    }
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at byte {})", self.reason, self.offset)
    }
}

impl std::error::Error for Malformed {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_neutralises_terminal_controls_and_bidi() {
        // ESC [ 2 J (clear screen), C1 CSI, DEL.
        assert_eq!(escape(b"a\x1b[2Jb").to_string(), "a\\x1b[2Jb");
        assert_eq!(escape("x\u{9b}y".as_bytes()).to_string(), "x\\xc2\\x9by");
        assert_eq!(escape(b"\x7f").to_string(), "\\x7f");
        // U+202E RIGHT-TO-LEFT OVERRIDE makes "evil\u{202e}txt.exe" read as "evilexe.txt".
        assert_eq!(
            escape("evil\u{202e}txt.exe".as_bytes()).to_string(),
            "evil\\u{202e}txt.exe"
        );
        for c in [
            '\u{2066}', '\u{2069}', '\u{200e}', '\u{200f}', '\u{feff}', '\u{200b}',
        ] {
            let s = escape(c.to_string().as_bytes()).to_string();
            assert!(s.starts_with("\\u{") && s.is_ascii(), "{c:?} -> {s}");
        }
        // Ordinary non-ASCII text stays readable.
        assert_eq!(escape("文件.txt".as_bytes()).to_string(), "文件.txt");
    }
}
