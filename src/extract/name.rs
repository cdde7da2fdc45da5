//! The one safe-name policy: a name that came off the wire (a TFTP file name, the last segment
//! of an HTTP request-target) becomes one plain file-name component that cannot leave the
//! extraction directory, cannot pass for an option or a hidden file, and cannot fool a terminal.
//!
//! In: raw bytes (not necessarily UTF-8). Out: a [`SafeName`] holding the written name, the
//! original bytes and the list of what was changed ([`NameChangeKind`]). A [`SafeName`] can only
//! be made here, so [`crate::extract::Dir`] only ever creates names that went through the policy.

use std::fmt;

use serde::Serialize;

/// Longest name the policy returns, in bytes.
///
/// NAME_MAX is 255 bytes on Linux file systems; the directory may add a clash suffix (`-9999`,
/// 5 bytes) and the temporary `.part` (5 bytes), so 240 leaves room for both.
pub const MAX_NAME_BYTES: usize = 240;

/// Longest extension (from the last `.`, included) kept when a long name is shortened.
const MAX_KEPT_EXTENSION: usize = 16;

/// Name used when nothing usable is left of a TFTP file name.
pub const FALLBACK_NAME: &str = "unnamed";

/// Name part used when an HTTP request-target has no last segment (`/`, `/dir/`).
pub const FALLBACK_URI_NAME: &str = "body";

/// Windows device names: reserved in every directory, with any extension (`NUL.txt`), so a
/// capture copied to Windows would open a device instead of a file.
const DEVICE_NAMES: &[&str] = &[
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9", "CONIN$",
    "CONOUT$",
];

/// One kind of change the policy made to a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NameChangeKind {
    /// Bytes that are not UTF-8 were replaced with `_`.
    NotUtf8,
    /// Directory parts (before a `/` or `\`) were removed; only the last component is kept.
    DirectoryPartsRemoved,
    /// Control characters (C0, DEL, C1), bidi or other invisible format characters
    /// (U+202A–U+202E, U+2066–U+2069, U+200E/F, zero-width, …) were replaced with `_`.
    ControlOrFormatCharacters,
    /// Characters reserved in file names (`/ \ < > : " | ? *`) were replaced with `_`.
    ReservedCharacters,
    /// A `..` inside the name was broken up (`a..b` → `a._b`).
    DotDot,
    /// Trailing dots or spaces were removed (Windows drops them, making `a.` the same as `a`).
    TrailingDotsOrSpaces,
    /// Nothing usable was left; the fallback name was used.
    Empty,
    /// The name began with `-` (an option to many tools) or `.` (hidden); `_` was put in front.
    LeadingDashOrDot,
    /// A Windows device name (`NUL`, `COM1`, …): `_` was put in front.
    DeviceName,
    /// The name was longer than [`MAX_NAME_BYTES`] and was shortened (keeping a short
    /// extension), at a character boundary.
    Shortened,
}

impl NameChangeKind {
    /// A short lowercase explanation for a report.
    pub fn description(self) -> &'static str {
        match self {
            NameChangeKind::NotUtf8 => "bytes that are not utf-8 replaced",
            NameChangeKind::DirectoryPartsRemoved => "directory parts removed",
            NameChangeKind::ControlOrFormatCharacters => {
                "control, bidi or invisible format characters replaced"
            }
            NameChangeKind::ReservedCharacters => "reserved characters replaced",
            NameChangeKind::DotDot => "'..' broken up",
            NameChangeKind::TrailingDotsOrSpaces => "trailing dots or spaces removed",
            NameChangeKind::Empty => "empty name replaced",
            NameChangeKind::LeadingDashOrDot => "leading '-' or '.' prefixed with '_'",
            NameChangeKind::DeviceName => "device name prefixed with '_'",
            NameChangeKind::Shortened => "name shortened",
        }
    }
}

impl fmt::Display for NameChangeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}

/// A file name that passed the safe-name policy: one path component, safe to create inside the
/// extraction directory.
///
/// Guarantees on [`SafeName::as_str`]: not empty; at most [`MAX_NAME_BYTES`] bytes of UTF-8; no
/// `/`, `\`, NUL, control characters (C0, DEL, C1), bidi or invisible format characters, or
/// `< > : " | ? *`; no `..` anywhere (so never `.` or `..`); does not begin with `-` or `.`;
/// does not end with `.` or a space; not a Windows device name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SafeName {
    name: String,
    #[serde(serialize_with = "serialize_lossy")]
    original: Vec<u8>,
    changes: Vec<NameChangeKind>,
}

fn serialize_lossy<S: serde::Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&String::from_utf8_lossy(bytes))
}

impl SafeName {
    /// Applies the policy to a file name from the wire (a TFTP RRQ/WRQ file name, RFC 1350 §2).
    ///
    /// Only the last component is kept (either separator: the peer may be Windows), so
    /// `../../etc/passwd` → `passwd`, `C:\boot.ini` → `boot.ini`; `-rf` → `_-rf`,
    /// `.hidden` → `_.hidden`; an empty result becomes [`FALLBACK_NAME`].
    ///
    /// ```
    /// use pcaplab::extract::SafeName;
    /// assert_eq!(SafeName::new(b"../../etc/passwd").as_str(), "passwd");
    /// assert_eq!(SafeName::new(b"-rf").as_str(), "_-rf");
    /// assert_eq!(SafeName::new(b"a\xe2\x80\xaeb").as_str(), "a_b"); // U+202E
    /// ```
    pub fn new(raw: &[u8]) -> SafeName {
        let mut changes = Vec::new();
        let component = last_component(raw, &mut changes);
        let name = policy("", component, FALLBACK_NAME, &mut changes);
        SafeName {
            name,
            original: raw.to_vec(),
            changes,
        }
    }

    /// Applies the policy to the last segment of an HTTP request-target, behind a prefix the
    /// program chose (e.g. `"3-1-"` for stream 3, transaction 1).
    ///
    /// The query and fragment are dropped, the last non-empty segment is percent-decoded
    /// (RFC 3986 §2.1) and then filtered like [`SafeName::new`]; a target with no last segment
    /// gives [`FALLBACK_URI_NAME`]. The prefix goes through the character filter too, but only
    /// changes to the segment are listed.
    ///
    /// ```
    /// use pcaplab::extract::SafeName;
    /// assert_eq!(SafeName::from_uri("3-1-", b"/img/cat.png?x=1").as_str(), "3-1-cat.png");
    /// assert_eq!(SafeName::from_uri("0-0-", b"/a/..%2F..%2Fetc%2Fpasswd").as_str(), "0-0-.__.__etc_passwd");
    /// assert_eq!(SafeName::from_uri("0-2-", b"/").as_str(), "0-2-body");
    /// ```
    pub fn from_uri(prefix: &str, uri: &[u8]) -> SafeName {
        let mut changes = Vec::new();
        let path = uri
            .split(|&b| b == b'?' || b == b'#')
            .next()
            .unwrap_or_default();
        let segment = path
            .rsplit(|&b| b == b'/' || b == b'\\')
            .find(|s| !s.is_empty())
            .unwrap_or_default();
        let decoded = percent_decode(segment);
        let name = policy(prefix, &decoded, FALLBACK_URI_NAME, &mut changes);
        SafeName {
            name,
            original: uri.to_vec(),
            changes,
        }
    }

    /// The name to write: one safe path component.
    pub fn as_str(&self) -> &str {
        &self.name
    }

    /// The bytes the name was made from, as they came off the wire (escape them before
    /// printing).
    pub fn original(&self) -> &[u8] {
        &self.original
    }

    /// What the policy changed, in the order applied; empty when the name was used as it is.
    pub fn changes(&self) -> &[NameChangeKind] {
        &self.changes
    }

    /// True when the policy changed anything.
    pub fn is_changed(&self) -> bool {
        !self.changes.is_empty()
    }
}

impl fmt::Display for SafeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// The last component of a path-like name, skipping empty, `.` and `..` components.
fn last_component<'a>(raw: &'a [u8], changes: &mut Vec<NameChangeKind>) -> &'a [u8] {
    let is_sep = |b: &u8| *b == b'/' || *b == b'\\';
    if raw.iter().any(is_sep) {
        changes.push(NameChangeKind::DirectoryPartsRemoved);
    }
    raw.rsplit(is_sep)
        .find(|p| !p.is_empty() && *p != b"." && *p != b"..")
        .unwrap_or_default()
}

/// `%XX` → the byte; a `%` not followed by two hex digits is kept as it is.
fn percent_decode(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut rest = input;
    while let Some((&b, tail)) = rest.split_first() {
        if b == b'%'
            && let Some((&[h, l], after)) = tail.split_first_chunk::<2>()
            && let (Some(h), Some(l)) = (hex(h), hex(l))
        {
            out.push(h << 4 | l);
            rest = after;
            continue;
        }
        out.push(b);
        rest = tail;
    }
    out
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Invisible characters that change how text around them is shown: bidi embeddings, overrides
/// and isolates (the "Trojan Source" characters, CVE-2021-42574), marks, zero-width characters,
/// line/paragraph separators, the BOM, interlinear annotation and tag characters.
fn is_format(c: char) -> bool {
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

fn is_reserved(c: char) -> bool {
    matches!(c, '/' | '\\' | '<' | '>' | ':' | '"' | '|' | '?' | '*')
}

/// The policy proper, on one component; `prefix` is program-chosen text put in front.
fn policy(
    prefix: &str,
    component: &[u8],
    fallback: &str,
    changes: &mut Vec<NameChangeKind>,
) -> String {
    let text = String::from_utf8_lossy(component);
    if matches!(text, std::borrow::Cow::Owned(_)) {
        changes.push(NameChangeKind::NotUtf8);
    }
    let mut control = false;
    let mut reserved = false;
    let mut name: String = text
        .chars()
        .map(|c| {
            if c == '\u{FFFD}' {
                '_'
            } else if c.is_control() || is_format(c) {
                control = true;
                '_'
            } else if is_reserved(c) {
                reserved = true;
                '_'
            } else {
                c
            }
        })
        .collect();
    if control {
        changes.push(NameChangeKind::ControlOrFormatCharacters);
    }
    if reserved {
        changes.push(NameChangeKind::ReservedCharacters);
    }
    let trimmed = name.trim_end_matches(['.', ' ']).len();
    if trimmed != name.len() {
        changes.push(NameChangeKind::TrailingDotsOrSpaces);
        name.truncate(trimmed);
    }
    if name.contains("..") {
        changes.push(NameChangeKind::DotDot);
        while name.contains("..") {
            name = name.replace("..", "._");
        }
    }
    if name.is_empty() {
        changes.push(NameChangeKind::Empty);
        name = fallback.to_string();
    }
    let mut full = sanitize_prefix(prefix);
    full.push_str(&name);
    // The prefix and the name may meet in a `..` (`x.` + `.y`).
    if full.contains("..") {
        push_once(changes, NameChangeKind::DotDot);
        while full.contains("..") {
            full = full.replace("..", "._");
        }
    }
    // One byte is kept free for the `_` that the checks below may put in front.
    if full.len() > MAX_NAME_BYTES - 1 {
        changes.push(NameChangeKind::Shortened);
        full = shorten(&full, MAX_NAME_BYTES - 1);
        if full.is_empty() {
            push_once(changes, NameChangeKind::Empty);
            full = fallback.to_string();
        }
    }
    if full.starts_with(['-', '.']) {
        changes.push(NameChangeKind::LeadingDashOrDot);
        full.insert(0, '_');
    } else {
        let stem = full.split('.').next().unwrap_or_default();
        if DEVICE_NAMES
            .iter()
            .any(|d| stem.trim_end().eq_ignore_ascii_case(d))
        {
            changes.push(NameChangeKind::DeviceName);
            full.insert(0, '_');
        }
    }
    full
}

fn push_once(changes: &mut Vec<NameChangeKind>, kind: NameChangeKind) {
    if !changes.contains(&kind) {
        changes.push(kind);
    }
}

/// The program's prefix under the same character rules (it never starts with `-` or `.`).
fn sanitize_prefix(prefix: &str) -> String {
    let mut p: String = prefix
        .chars()
        .map(|c| {
            if c.is_control() || is_format(c) || is_reserved(c) {
                '_'
            } else {
                c
            }
        })
        .collect();
    while p.contains("..") {
        p = p.replace("..", "._");
    }
    p
}

/// Cuts `name` to at most `max` bytes at a character boundary, keeping a short extension.
fn shorten(name: &str, max: usize) -> String {
    let ext = match name.rfind('.') {
        Some(i) if i > 0 && name.len() - i <= MAX_KEPT_EXTENSION => name.get(i..).unwrap_or(""),
        _ => "",
    };
    let mut cut = max.saturating_sub(ext.len());
    while cut > 0 && !name.is_char_boundary(cut) {
        cut -= 1;
    }
    let mut out = name.get(..cut).unwrap_or_default().to_string();
    // The cut must not leave a trailing dot or space, nor create a `..` with the extension.
    let keep = out.trim_end_matches(['.', ' ']).len();
    out.truncate(keep);
    out.push_str(ext);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use NameChangeKind as K;

    /// Every property [`SafeName`] promises.
    fn assert_safe(s: &SafeName) {
        let n = s.as_str();
        assert!(!n.is_empty(), "{n:?}");
        assert!(n.len() <= MAX_NAME_BYTES, "{n:?}");
        assert!(!n.starts_with(['-', '.']), "{n:?}");
        assert!(!n.ends_with(['.', ' ']), "{n:?}");
        assert!(!n.contains(".."), "{n:?}");
        assert!(
            !n.chars()
                .any(|c| c.is_control() || is_format(c) || is_reserved(c)),
            "{n:?}"
        );
    }

    #[test]
    fn tftp_names_follow_the_policy() {
        let cases: &[(&[u8], &str, &[K])] = &[
            (b"report.txt", "report.txt", &[]),
            (b"caf\xc3\xa9.txt", "caf\u{e9}.txt", &[]),
            (b"../../etc/passwd", "passwd", &[K::DirectoryPartsRemoved]),
            (b"/abs", "abs", &[K::DirectoryPartsRemoved]),
            (b"C:\\boot.ini", "boot.ini", &[K::DirectoryPartsRemoved]),
            (b"C:x", "C_x", &[K::ReservedCharacters]),
            (b"-rf", "_-rf", &[K::LeadingDashOrDot]),
            (b".hidden", "_.hidden", &[K::LeadingDashOrDot]),
            (b"a\xe2\x80\xaeb", "a_b", &[K::ControlOrFormatCharacters]),
            (b"a\xe2\x81\xa6b", "a_b", &[K::ControlOrFormatCharacters]),
            (b"a\xe2\x80\x8eb", "a_b", &[K::ControlOrFormatCharacters]),
            (b"", "unnamed", &[K::Empty]),
            (b"..", "unnamed", &[K::Empty]),
            (b"../", "unnamed", &[K::DirectoryPartsRemoved, K::Empty]),
            (b"a\x00b", "a_b", &[K::ControlOrFormatCharacters]),
            (b"a\x1b[31mb", "a_[31mb", &[K::ControlOrFormatCharacters]),
            (b"bad\xffname", "bad_name", &[K::NotUtf8]),
            (b"a..b", "a._b", &[K::DotDot]),
            (b"a...b", "a._.b", &[K::DotDot]),
            (b"dots...", "dots", &[K::TrailingDotsOrSpaces]),
            (b"NUL", "_NUL", &[K::DeviceName]),
            (b"con.txt", "_con.txt", &[K::DeviceName]),
        ];
        for (raw, name, changes) in cases {
            let s = SafeName::new(raw);
            assert_eq!(
                (s.as_str(), s.changes()),
                (*name, *changes),
                "raw {:?}",
                String::from_utf8_lossy(raw)
            );
            assert_eq!(s.original(), *raw);
            assert_safe(&s);
        }
    }

    #[test]
    fn long_names_are_cut_at_a_char_boundary_keeping_the_extension() {
        let s = SafeName::new(&[b'a'; 300]);
        assert_eq!(s.as_str().len(), MAX_NAME_BYTES - 1);
        assert_eq!(s.changes(), [K::Shortened]);
        let mut raw = "é".repeat(150).into_bytes(); // 300 bytes of 2-byte characters
        raw.extend_from_slice(b".tar.gz");
        let s = SafeName::new(&raw);
        assert!(s.as_str().len() <= MAX_NAME_BYTES);
        assert!(s.as_str().ends_with("é.gz"), "{}", s);
        assert_safe(&s);
        // A cut that leaves only spaces, or only the extension, still gives a safe name.
        let spaces = format!("{}b", " ".repeat(300));
        assert_eq!(SafeName::new(spaces.as_bytes()).as_str(), "unnamed");
        let ext = format!("{}.txt", " ".repeat(300));
        assert_eq!(SafeName::new(ext.as_bytes()).as_str(), "_.txt");
        // Plus the largest clash suffix and `.part`, it stays within NAME_MAX (255).
        assert!(s.as_str().len() + "-9999".len() + ".part".len() <= 255);
    }

    #[test]
    fn uri_names_keep_the_prefix_and_the_last_segment() {
        let cases: &[(&[u8], &str, &[K])] = &[
            (b"/img/cat.png?x=1#top", "3-1-cat.png", &[]),
            (b"/../../etc/passwd", "3-1-passwd", &[]),
            (b"/", "3-1-body", &[K::Empty]),
            (b"", "3-1-body", &[K::Empty]),
            (b"/my%20doc.pdf", "3-1-my doc.pdf", &[]),
            (b"/x/.hidden", "3-1-.hidden", &[]),
            (
                b"/a%2F..%2Fb",
                "3-1-a_.__b",
                &[K::ReservedCharacters, K::DotDot],
            ),
            (
                b"/%e2%80%aeevil",
                "3-1-_evil",
                &[K::ControlOrFormatCharacters],
            ),
            (b"/100%", "3-1-100%", &[]),
            (b"/a%0", "3-1-a%0", &[]),
        ];
        for (uri, name, changes) in cases {
            let s = SafeName::from_uri("3-1-", uri);
            assert_eq!((s.as_str(), s.changes()), (*name, *changes), "{uri:?}");
            assert_safe(&s);
        }
        let long = format!("/{}", "b".repeat(500));
        assert_safe(&SafeName::from_uri("0-0-", long.as_bytes()));
    }

    #[test]
    fn every_byte_string_gives_a_safe_name() {
        // All 1- and 2-byte names, plus bytes around separators and dots.
        for a in 0..=255u8 {
            assert_safe(&SafeName::new(&[a]));
            for b in 0..=255u8 {
                assert_safe(&SafeName::new(&[a, b]));
                assert_safe(&SafeName::new(&[b'.', a, b'.', b]));
                assert_safe(&SafeName::from_uri("", &[b'/', a, b]));
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_names_are_safe(raw in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
            assert_safe(&SafeName::new(&raw));
            assert_safe(&SafeName::from_uri("", &raw));
        }

        #[test]
        fn arbitrary_text_is_safe(raw in "\\PC{0,300}") {
            assert_safe(&SafeName::new(raw.as_bytes()));
        }
    }
}
