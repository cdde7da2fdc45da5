//! `--framing` strings → [`FramingSpec`], and back.
//!
//! Grammar (kinds and options are case-insensitive, the canonical form is lowercase):
//! `http` | `len:N[:be|le][:inclusive]` (N = 1, 2, 4 or 8; options in any order) | `line` |
//! `delim:HEX` | `fixed:N` | `auto` | `none`. [`FramingSpec`] displays and serializes as its
//! canonical string, so `s.parse::<FramingSpec>()?.to_string()` is stable.

use std::fmt;
use std::num::NonZeroU64;
use std::str::FromStr;

/// Longest delimiter accepted by `delim:HEX`, in bytes. Framers keep at most this many bytes of
/// partial match, and no real protocol needs more.
pub const MAX_DELIMITER_LEN: usize = 32;

/// How one direction of a stream is cut into messages.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FramingSpec {
    /// HTTP/1.x messages (start line, headers, body by Content-Length or chunked encoding).
    Http,
    /// A binary length prefix before each message (`len:N…`).
    LengthPrefix(LengthPrefix),
    /// Lines ending with LF (a CR before it belongs to the line).
    Line,
    /// Messages ending with a byte sequence (`delim:HEX`), the delimiter included.
    Delimiter(Delimiter),
    /// Messages of a fixed number of bytes (`fixed:N`).
    Fixed(NonZeroU64),
    /// Guess from the first bytes of each direction (the sticky analysis chooses).
    Auto,
    /// No framing: the direction is one undivided byte stream.
    None,
}

/// Width of a length prefix in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrefixWidth {
    /// `len:1`.
    One,
    /// `len:2` (DNS over TCP, RFC 1035 §4.2.2).
    Two,
    /// `len:4`.
    Four,
    /// `len:8`.
    Eight,
}

impl PrefixWidth {
    /// The width in bytes.
    pub fn bytes(self) -> usize {
        match self {
            PrefixWidth::One => 1,
            PrefixWidth::Two => 2,
            PrefixWidth::Four => 4,
            PrefixWidth::Eight => 8,
        }
    }

    /// The width in bytes, as a stream-offset distance.
    pub fn bytes_u64(self) -> u64 {
        self.bytes() as u64
    }

    fn from_digits(text: &str) -> Option<PrefixWidth> {
        match text {
            "1" => Some(PrefixWidth::One),
            "2" => Some(PrefixWidth::Two),
            "4" => Some(PrefixWidth::Four),
            "8" => Some(PrefixWidth::Eight),
            _ => None,
        }
    }
}

/// Byte order of a length prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Endian {
    /// Most significant byte first (network order, the default).
    #[default]
    Big,
    /// Least significant byte first.
    Little,
}

/// The shape of a binary length prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LengthPrefix {
    /// How many bytes the prefix has.
    pub width: PrefixWidth,
    /// Its byte order.
    pub endian: Endian,
    /// `true` when the length counts the prefix itself (`len:2:inclusive`: `00 05 h i j` is one
    /// 5-byte message), `false` when it counts only the bytes after it.
    pub inclusive: bool,
}

impl LengthPrefix {
    /// A big-endian, non-inclusive prefix of `width` bytes.
    pub fn new(width: PrefixWidth) -> LengthPrefix {
        LengthPrefix {
            width,
            endian: Endian::Big,
            inclusive: false,
        }
    }

    /// Reads the prefix value from exactly `width` bytes (`None` for any other length).
    pub fn decode(&self, bytes: &[u8]) -> Option<u64> {
        if bytes.len() != self.width.bytes() {
            return None;
        }
        let fold = |acc: u64, b: &u8| (acc << 8) | u64::from(*b);
        Some(match self.endian {
            Endian::Big => bytes.iter().fold(0, fold),
            Endian::Little => bytes.iter().rev().fold(0, fold),
        })
    }

    /// Writes `value` as a prefix (the low `width` bytes), for tests and fixture generators.
    pub fn encode(&self, value: u64) -> Vec<u8> {
        let be = value.to_be_bytes();
        let mut bytes = be
            .get(be.len() - self.width.bytes()..)
            .unwrap_or_default()
            .to_vec();
        if self.endian == Endian::Little {
            bytes.reverse();
        }
        bytes
    }
}

impl fmt::Display for LengthPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "len:{}", self.width.bytes())?;
        if self.endian == Endian::Little {
            f.write_str(":le")?;
        }
        if self.inclusive {
            f.write_str(":inclusive")?;
        }
        Ok(())
    }
}

/// A message delimiter: 1 to [`MAX_DELIMITER_LEN`] bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Delimiter(Vec<u8>);

impl Delimiter {
    /// Checks the length of a delimiter.
    ///
    /// # Errors
    /// [`SpecError::EmptyDelimiter`] or [`SpecError::DelimiterTooLong`].
    pub fn new(bytes: Vec<u8>) -> Result<Delimiter, SpecError> {
        if bytes.is_empty() {
            return Err(SpecError::EmptyDelimiter);
        }
        if bytes.len() > MAX_DELIMITER_LEN {
            return Err(SpecError::DelimiterTooLong { len: bytes.len() });
        }
        Ok(Delimiter(bytes))
    }

    /// The LF that ends a line.
    pub(crate) fn line_feed() -> Delimiter {
        Delimiter(vec![b'\n'])
    }

    /// The delimiter bytes (never empty).
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Display for Delimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// Why a `--framing` string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    /// The string is empty.
    #[error("empty framing spec: expected http, len:N, line, delim:HEX, fixed:N, auto or none")]
    Empty,
    /// The part before the first `:` is not a known kind.
    #[error(
        "unknown framing `{kind}`: expected http, len:N, line, delim:HEX, fixed:N, auto or none"
    )]
    UnknownKind {
        /// The kind as written.
        kind: String,
    },
    /// A kind that takes no argument was given one (`line:x`).
    #[error("framing `{kind}` takes no argument, got `{argument}`")]
    UnexpectedArgument {
        /// The kind.
        kind: &'static str,
        /// The argument as written.
        argument: String,
    },
    /// `len`, `delim` or `fixed` without its argument.
    #[error("framing `{kind}` needs an argument, as in `{example}`")]
    MissingArgument {
        /// The kind.
        kind: &'static str,
        /// A valid example.
        example: &'static str,
    },
    /// `len:N` with N not 1, 2, 4 or 8.
    #[error("length prefix width `{width}` is not 1, 2, 4 or 8")]
    BadWidth {
        /// The width as written.
        width: String,
    },
    /// An option after `len:N` that is not `be`, `le` or `inclusive`.
    #[error("unknown length-prefix option `{option}`: expected be, le or inclusive")]
    UnknownOption {
        /// The option as written.
        option: String,
    },
    /// An option given twice, or `be` with `le`.
    #[error("length-prefix option `{option}` conflicts with an earlier `{earlier}`")]
    ConflictingOption {
        /// The later option.
        option: String,
        /// The earlier one.
        earlier: &'static str,
    },
    /// `delim:` with an odd number of hex digits.
    #[error("delimiter `{hex}` has an odd number of hex digits")]
    OddHexDigits {
        /// The hex as written.
        hex: String,
    },
    /// `delim:` with a character that is not a hex digit.
    #[error("delimiter `{hex}` has `{found}` at position {position}, which is not a hex digit")]
    NotHex {
        /// The hex as written.
        hex: String,
        /// The offending character.
        found: char,
        /// Its 1-based position in `hex`.
        position: usize,
    },
    /// `delim:` with no bytes.
    #[error("delimiter is empty: give at least one byte in hex, as in `delim:00`")]
    EmptyDelimiter,
    /// `delim:` longer than [`MAX_DELIMITER_LEN`] bytes.
    #[error("delimiter of {len} bytes is longer than the maximum of {MAX_DELIMITER_LEN}")]
    DelimiterTooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// `fixed:` with something that is not a decimal number.
    #[error("fixed message size `{size}` is not a decimal number of bytes")]
    BadSize {
        /// The size as written.
        size: String,
    },
    /// `fixed:0`.
    #[error("fixed message size must be at least 1 byte")]
    ZeroSize,
}

impl FromStr for FramingSpec {
    type Err = SpecError;

    fn from_str(text: &str) -> Result<FramingSpec, SpecError> {
        if text.is_empty() {
            return Err(SpecError::Empty);
        }
        let (kind, argument) = match text.split_once(':') {
            Some((kind, argument)) => (kind, Some(argument)),
            None => (text, None),
        };
        let kind = kind.to_ascii_lowercase();
        let no_argument = |kind: &'static str, spec: FramingSpec| match argument {
            None => Ok(spec),
            Some(argument) => Err(SpecError::UnexpectedArgument {
                kind,
                argument: argument.to_string(),
            }),
        };
        match kind.as_str() {
            "http" => no_argument("http", FramingSpec::Http),
            "line" => no_argument("line", FramingSpec::Line),
            "auto" => no_argument("auto", FramingSpec::Auto),
            "none" => no_argument("none", FramingSpec::None),
            "len" => parse_len(argument).map(FramingSpec::LengthPrefix),
            "delim" => parse_delim(argument).map(FramingSpec::Delimiter),
            "fixed" => parse_fixed(argument).map(FramingSpec::Fixed),
            _ => Err(SpecError::UnknownKind { kind }),
        }
    }
}

fn parse_len(argument: Option<&str>) -> Result<LengthPrefix, SpecError> {
    let missing = SpecError::MissingArgument {
        kind: "len",
        example: "len:4",
    };
    let mut parts = argument.ok_or(missing.clone())?.split(':');
    let width = parts.next().unwrap_or_default();
    if width.is_empty() {
        return Err(missing);
    }
    let width = PrefixWidth::from_digits(width).ok_or_else(|| SpecError::BadWidth {
        width: width.to_string(),
    })?;
    let mut prefix = LengthPrefix::new(width);
    let mut endian_given: Option<&'static str> = None;
    let mut inclusive_given = false;
    for option in parts {
        let lower = option.to_ascii_lowercase();
        let conflict = |earlier| SpecError::ConflictingOption {
            option: option.to_string(),
            earlier,
        };
        match lower.as_str() {
            "be" | "le" => {
                if let Some(earlier) = endian_given {
                    return Err(conflict(earlier));
                }
                let (name, endian) = if lower == "be" {
                    ("be", Endian::Big)
                } else {
                    ("le", Endian::Little)
                };
                endian_given = Some(name);
                prefix.endian = endian;
            }
            "inclusive" => {
                if inclusive_given {
                    return Err(conflict("inclusive"));
                }
                inclusive_given = true;
                prefix.inclusive = true;
            }
            _ => {
                return Err(SpecError::UnknownOption {
                    option: option.to_string(),
                });
            }
        }
    }
    Ok(prefix)
}

fn parse_delim(argument: Option<&str>) -> Result<Delimiter, SpecError> {
    let hex = argument.ok_or(SpecError::MissingArgument {
        kind: "delim",
        example: "delim:0d0a",
    })?;
    if let Some((index, found)) = hex
        .chars()
        .enumerate()
        .find(|(_, c)| !c.is_ascii_hexdigit())
    {
        return Err(SpecError::NotHex {
            hex: hex.to_string(),
            found,
            position: index + 1,
        });
    }
    if hex.len() % 2 != 0 {
        return Err(SpecError::OddHexDigits {
            hex: hex.to_string(),
        });
    }
    let bytes = hex
        .as_bytes()
        .chunks_exact(2)
        .map(|pair| {
            let digits = std::str::from_utf8(pair).unwrap_or_default();
            u8::from_str_radix(digits, 16).unwrap_or_default()
        })
        .collect();
    Delimiter::new(bytes)
}

fn parse_fixed(argument: Option<&str>) -> Result<NonZeroU64, SpecError> {
    let size = argument.ok_or(SpecError::MissingArgument {
        kind: "fixed",
        example: "fixed:512",
    })?;
    // `u64::from_str` accepts a leading `+`; a size is digits only.
    if size.is_empty() || !size.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SpecError::BadSize {
            size: size.to_string(),
        });
    }
    let value: u64 = size.parse().map_err(|_| SpecError::BadSize {
        size: size.to_string(),
    })?;
    NonZeroU64::new(value).ok_or(SpecError::ZeroSize)
}

impl fmt::Display for FramingSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FramingSpec::Http => f.write_str("http"),
            FramingSpec::LengthPrefix(prefix) => prefix.fmt(f),
            FramingSpec::Line => f.write_str("line"),
            FramingSpec::Delimiter(delimiter) => write!(f, "delim:{delimiter}"),
            FramingSpec::Fixed(size) => write!(f, "fixed:{size}"),
            FramingSpec::Auto => f.write_str("auto"),
            FramingSpec::None => f.write_str("none"),
        }
    }
}

impl serde::Serialize for FramingSpec {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for FramingSpec {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<FramingSpec, SpecError> {
        text.parse()
    }

    fn len(width: PrefixWidth, endian: Endian, inclusive: bool) -> FramingSpec {
        FramingSpec::LengthPrefix(LengthPrefix {
            width,
            endian,
            inclusive,
        })
    }

    #[test]
    fn parses_every_kind() {
        assert_eq!(parse("http"), Ok(FramingSpec::Http));
        assert_eq!(parse("line"), Ok(FramingSpec::Line));
        assert_eq!(parse("auto"), Ok(FramingSpec::Auto));
        assert_eq!(parse("none"), Ok(FramingSpec::None));
        assert_eq!(
            parse("len:4"),
            Ok(len(PrefixWidth::Four, Endian::Big, false))
        );
        assert_eq!(
            parse("delim:0d0a"),
            Ok(FramingSpec::Delimiter(Delimiter(vec![0x0d, 0x0a])))
        );
        assert_eq!(
            parse("fixed:512"),
            Ok(FramingSpec::Fixed(NonZeroU64::new(512).unwrap()))
        );
    }

    #[test]
    fn length_prefix_options_in_any_order() {
        let expected = len(PrefixWidth::Two, Endian::Little, true);
        assert_eq!(parse("len:2:le:inclusive"), Ok(expected.clone()));
        assert_eq!(parse("len:2:inclusive:le"), Ok(expected.clone()));
        assert_eq!(parse("LEN:2:LE:Inclusive"), Ok(expected));
        assert_eq!(
            parse("len:8:be"),
            Ok(len(PrefixWidth::Eight, Endian::Big, false))
        );
        assert_eq!(
            parse("len:1:inclusive"),
            Ok(len(PrefixWidth::One, Endian::Big, true))
        );
    }

    #[test]
    fn display_is_canonical_and_round_trips() {
        let cases = [
            ("http", "http"),
            ("line", "line"),
            ("auto", "auto"),
            ("none", "none"),
            ("len:4", "len:4"),
            ("len:4:be", "len:4"),
            ("len:2:inclusive:le", "len:2:le:inclusive"),
            ("len:8:le", "len:8:le"),
            ("delim:0D0A", "delim:0d0a"),
            ("delim:00", "delim:00"),
            ("fixed:0016", "fixed:16"),
        ];
        for (input, canonical) in cases {
            let spec = parse(input).unwrap();
            assert_eq!(spec.to_string(), canonical, "{input}");
            assert_eq!(parse(canonical), Ok(spec), "{canonical}");
        }
    }

    #[test]
    fn serializes_as_the_canonical_string() {
        let spec = parse("len:2:inclusive:le").unwrap();
        assert_eq!(
            serde_json::to_string(&spec).unwrap(),
            "\"len:2:le:inclusive\""
        );
        let back: FramingSpec = serde_json::from_str("\"delim:00\"").unwrap();
        assert_eq!(back, FramingSpec::Delimiter(Delimiter(vec![0])));
        let bad = serde_json::from_str::<FramingSpec>("\"len:3\"").unwrap_err();
        assert!(bad.to_string().contains("length prefix width `3`"), "{bad}");
    }

    #[test]
    fn bad_specs_have_precise_errors() {
        let cases: [(&str, SpecError, &str); 20] = [
            (
                "",
                SpecError::Empty,
                "empty framing spec: expected http, len:N, line, delim:HEX, fixed:N, auto or none",
            ),
            (
                "tcp",
                SpecError::UnknownKind { kind: "tcp".into() },
                "unknown framing `tcp`: expected http, len:N, line, delim:HEX, fixed:N, auto or none",
            ),
            (
                "line:crlf",
                SpecError::UnexpectedArgument {
                    kind: "line",
                    argument: "crlf".into(),
                },
                "framing `line` takes no argument, got `crlf`",
            ),
            (
                "http:",
                SpecError::UnexpectedArgument {
                    kind: "http",
                    argument: "".into(),
                },
                "framing `http` takes no argument, got ``",
            ),
            (
                "len",
                SpecError::MissingArgument {
                    kind: "len",
                    example: "len:4",
                },
                "framing `len` needs an argument, as in `len:4`",
            ),
            (
                "len:",
                SpecError::MissingArgument {
                    kind: "len",
                    example: "len:4",
                },
                "framing `len` needs an argument, as in `len:4`",
            ),
            (
                "len:3",
                SpecError::BadWidth { width: "3".into() },
                "length prefix width `3` is not 1, 2, 4 or 8",
            ),
            (
                "len:04",
                SpecError::BadWidth { width: "04".into() },
                "length prefix width `04` is not 1, 2, 4 or 8",
            ),
            (
                "len:4:big",
                SpecError::UnknownOption {
                    option: "big".into(),
                },
                "unknown length-prefix option `big`: expected be, le or inclusive",
            ),
            (
                "len:4:",
                SpecError::UnknownOption { option: "".into() },
                "unknown length-prefix option ``: expected be, le or inclusive",
            ),
            (
                "len:4:be:le",
                SpecError::ConflictingOption {
                    option: "le".into(),
                    earlier: "be",
                },
                "length-prefix option `le` conflicts with an earlier `be`",
            ),
            (
                "len:4:inclusive:inclusive",
                SpecError::ConflictingOption {
                    option: "inclusive".into(),
                    earlier: "inclusive",
                },
                "length-prefix option `inclusive` conflicts with an earlier `inclusive`",
            ),
            (
                "delim",
                SpecError::MissingArgument {
                    kind: "delim",
                    example: "delim:0d0a",
                },
                "framing `delim` needs an argument, as in `delim:0d0a`",
            ),
            (
                "delim:zz",
                SpecError::NotHex {
                    hex: "zz".into(),
                    found: 'z',
                    position: 1,
                },
                "delimiter `zz` has `z` at position 1, which is not a hex digit",
            ),
            (
                "delim:0d0",
                SpecError::OddHexDigits { hex: "0d0".into() },
                "delimiter `0d0` has an odd number of hex digits",
            ),
            (
                "delim:",
                SpecError::EmptyDelimiter,
                "delimiter is empty: give at least one byte in hex, as in `delim:00`",
            ),
            (
                "delim:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20",
                SpecError::DelimiterTooLong { len: 33 },
                "delimiter of 33 bytes is longer than the maximum of 32",
            ),
            (
                "fixed:0",
                SpecError::ZeroSize,
                "fixed message size must be at least 1 byte",
            ),
            (
                "fixed:+8",
                SpecError::BadSize { size: "+8".into() },
                "fixed message size `+8` is not a decimal number of bytes",
            ),
            (
                "fixed:99999999999999999999",
                SpecError::BadSize {
                    size: "99999999999999999999".into(),
                },
                "fixed message size `99999999999999999999` is not a decimal number of bytes",
            ),
        ];
        for (input, error, message) in cases {
            let got = parse(input).unwrap_err();
            assert_eq!(got, error, "{input}");
            assert_eq!(got.to_string(), message, "{input}");
        }
    }

    #[test]
    fn non_ascii_input_is_an_error_not_a_panic() {
        assert!(matches!(
            parse("délim:00"),
            Err(SpecError::UnknownKind { .. })
        ));
        assert!(matches!(
            parse("delim:0é"),
            Err(SpecError::NotHex { position: 2, .. })
        ));
        assert!(matches!(parse("fixed:٣"), Err(SpecError::BadSize { .. })));
    }

    #[test]
    fn prefix_decode_and_encode_agree_with_known_bytes() {
        let be4 = LengthPrefix::new(PrefixWidth::Four);
        assert_eq!(be4.decode(&[0x00, 0x00, 0x01, 0x02]), Some(0x0102));
        assert_eq!(be4.encode(0x0102), vec![0x00, 0x00, 0x01, 0x02]);
        assert_eq!(be4.decode(&[0x00, 0x01]), None);
        let le2 = LengthPrefix {
            endian: Endian::Little,
            ..LengthPrefix::new(PrefixWidth::Two)
        };
        assert_eq!(le2.decode(&[0x02, 0x01]), Some(0x0102));
        assert_eq!(le2.encode(0x0102), vec![0x02, 0x01]);
        let be8 = LengthPrefix::new(PrefixWidth::Eight);
        assert_eq!(be8.decode(&[0xff; 8]), Some(u64::MAX));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        #[test]
        fn any_string_parses_or_errs_and_round_trips(
            text in "(len|delim|fixed|line|http|auto|none|LEN|x)?(:[0-9a-fA-Fbelinclusvz+]{0,6}){0,4}"
        ) {
            if let Ok(spec) = parse(&text) {
                let canonical = spec.to_string();
                proptest::prop_assert_eq!(parse(&canonical), Ok(spec));
            }
        }
    }
}
