//! Rubric files: TOML with one `[[check]]` table per check.
//!
//! [`load`] reads a rubric file (a regular file of at most [`MAX_RUBRIC_BYTES`]) and [`parse`]
//! checks it: every mistake is a [`RubricError`] naming the line, the key and what was expected,
//! in a teacher's words (never a Rust type name): a key the check type does not take, a missing
//! parameter, a value out of range, two checks with the same id (both lines named), points that
//! are not a finite number of at least 0 or that add up to more than a number can hold.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use serde::Deserialize;

use crate::app::tftp::{Role, TransferDirection};
use crate::framing::FramingSpec;

/// The largest rubric file read (a rubric is a few hundred bytes per check).
pub const MAX_RUBRIC_BYTES: u64 = 1024 * 1024;

/// A parsed rubric.
#[derive(Debug, Clone)]
pub struct Rubric {
    /// Optional title, shown in reports.
    pub title: Option<String>,
    /// The checks, in order.
    pub checks: Vec<Check>,
}

impl Rubric {
    /// The points of every check together (finite: [`parse`] refuses a rubric whose total is
    /// not).
    pub fn max_score(&self) -> f64 {
        self.checks.iter().map(|c| c.points).sum()
    }
}

/// Kinds of check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckType {
    /// A complete three-way handshake with a server on `port`.
    TcpHandshake,
    /// Every connection to `port` ends with a FIN close, none with RST or left open.
    TcpClose,
    /// Every datagram to `port` is answered by the same payload to its sender.
    UdpEcho,
    /// Datagrams to a broadcast address on `port`.
    UdpBroadcast,
    /// A TFTP transfer of `file`, judged for one side (`role`) or as a whole.
    TftpTransfer,
    /// An HTTP response to `path` with the expected status, type and body.
    HttpResponse,
    /// The TCP stream(s) to `port` frame cleanly with `framing`, in `direction`.
    Framing,
    /// At most `max` TCP retransmissions (to `port` when given).
    MaxRetransmissions,
}

/// Which direction(s) of the connections a `framing` check frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FramingDirection {
    /// What the client sends.
    ClientToServer,
    /// What the server sends.
    ServerToClient,
    /// Both (a direction that carried no data is left out).
    #[default]
    Both,
}

impl FramingDirection {
    /// True when the direction `d` is framed.
    pub fn includes(self, d: crate::units::Direction) -> bool {
        use crate::units::Direction as D;
        matches!(
            (self, d),
            (FramingDirection::Both, _)
                | (FramingDirection::ClientToServer, D::ClientToServer)
                | (FramingDirection::ServerToClient, D::ServerToClient)
        )
    }
}

/// One check: the common fields plus the parameters its type takes (validated: a parameter is
/// only set on a check type that takes it).
#[derive(Debug, Clone)]
pub struct Check {
    /// Identifier shown in reports (unique in the rubric).
    pub id: String,
    /// What the check verifies, in words for the student (may be empty).
    pub description: String,
    /// Points awarded when it passes (finite, at least 0).
    pub points: f64,
    /// The kind of check.
    pub kind: CheckType,
    /// Line of the check's `id` in the rubric file.
    pub line: usize,
    /// Server port (TCP or UDP).
    pub port: Option<u16>,
    /// TFTP: read (RRQ) or write (WRQ); any when `None`.
    pub tftp_direction: Option<TransferDirection>,
    /// TFTP: the side whose duties are graded; the transfer as a whole when `None`.
    pub role: Option<Role>,
    /// TFTP file name.
    pub file: Option<String>,
    /// TFTP: every byte of the file must arrive (default: true, false with `error_code`).
    pub complete: Option<bool>,
    /// TFTP: the ending must be clean too (for a role: that side's part of it).
    pub clean_end: bool,
    /// TFTP: the server must answer with this ERROR code.
    pub error_code: Option<u16>,
    /// TFTP file size in bytes.
    pub size: Option<u64>,
    /// SHA-256 of the TFTP file or the HTTP body (lowercase hex, 64 digits).
    pub sha256: Option<String>,
    /// HTTP method.
    pub method: Option<String>,
    /// HTTP request path (URI).
    pub path: Option<String>,
    /// HTTP status code.
    pub status: Option<u16>,
    /// HTTP content type (prefix match, e.g. `text/html`).
    pub content_type: Option<String>,
    /// Text the HTTP response body must contain.
    pub body_contains: Option<String>,
    /// HTTP: no warnings allowed on the transaction.
    pub no_warnings: bool,
    /// Framing the program must use (`len:4`, `line`, `http`, ...).
    pub framing: Option<FramingSpec>,
    /// Framing: the direction(s) framed.
    pub framing_direction: FramingDirection,
    /// Framing: most coalesced segments allowed.
    pub max_coalesced: Option<u64>,
    /// Framing: most split messages allowed.
    pub max_split: Option<u64>,
    /// Most retransmissions allowed.
    pub max: Option<u64>,
}

/// A check as written (every key optional but the common ones); [`parse`] validates it into a
/// [`Check`].
#[derive(Debug, Clone, Deserialize)]
struct RawCheck {
    id: String,
    #[serde(default)]
    description: String,
    points: f64,
    #[serde(rename = "type")]
    kind: CheckType,
    port: Option<u16>,
    direction: Option<String>,
    role: Option<String>,
    file: Option<String>,
    complete: Option<bool>,
    clean_end: Option<bool>,
    error_code: Option<u16>,
    size: Option<u64>,
    sha256: Option<String>,
    method: Option<String>,
    path: Option<String>,
    status: Option<u16>,
    content_type: Option<String>,
    body_contains: Option<String>,
    no_warnings: Option<bool>,
    framing: Option<String>,
    max_coalesced: Option<u64>,
    max_split: Option<u64>,
    max: Option<u64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRubric {
    title: Option<String>,
    #[serde(rename = "check")]
    checks: Vec<RawCheck>,
}

/// The keys every check has.
const COMMON_KEYS: [&str; 4] = ["id", "description", "points", "type"];

/// The keys a check type takes besides the keys every check takes (`id`, `description`, `points`, `type`).
pub fn keys_of(kind: CheckType) -> &'static [&'static str] {
    match kind {
        CheckType::TcpHandshake
        | CheckType::TcpClose
        | CheckType::UdpEcho
        | CheckType::UdpBroadcast => &["port"],
        CheckType::TftpTransfer => &[
            "role",
            "direction",
            "file",
            "complete",
            "clean_end",
            "error_code",
            "size",
            "sha256",
        ],
        CheckType::HttpResponse => &[
            "method",
            "path",
            "status",
            "content_type",
            "body_contains",
            "no_warnings",
            "sha256",
        ],
        CheckType::Framing => &["port", "framing", "direction", "max_coalesced", "max_split"],
        CheckType::MaxRetransmissions => &["max", "port"],
    }
}

/// A rubric that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{path}: line {line}, column {column}: {message}")]
pub struct RubricError {
    /// The rubric file.
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
    /// The key at fault, when the mistake is in one key.
    pub key: Option<String>,
    /// What is wrong, naming the check, the key and what was expected.
    pub message: String,
}

/// A rubric file that cannot be read or used.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file cannot be opened or read.
    #[error("cannot read rubric {path}: {source}")]
    Read {
        /// The path given.
        path: String,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// Not a regular file (a directory, a device such as /dev/zero, a pipe).
    #[error("rubric {path} is {what}, not a regular file: give the path of a .toml file")]
    NotAFile {
        /// The path given.
        path: String,
        /// What it is instead.
        what: &'static str,
    },
    /// Larger than [`MAX_RUBRIC_BYTES`].
    #[error(
        "rubric {path} is larger than {} KiB: a rubric is a short TOML file (a few hundred bytes per check)",
        MAX_RUBRIC_BYTES / 1024
    )]
    TooLarge {
        /// The path given.
        path: String,
    },
    /// Not UTF-8 text.
    #[error("rubric {path} is not UTF-8 text (byte offset {offset}): save it as UTF-8")]
    NotText {
        /// The path given.
        path: String,
        /// Where the first invalid byte is.
        offset: usize,
    },
    /// Read, but not a valid rubric.
    #[error(transparent)]
    Invalid(#[from] RubricError),
}

/// What a file type is, in words.
fn file_kind(t: std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_dir() {
        "a directory"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_fifo() {
        "a pipe"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

/// Reads and parses the rubric file at `path` (shown as `shown` in messages).
///
/// # Errors
/// [`LoadError`]: unreadable, not a regular file (checked on the opened file, so a device or a
/// pipe is never read), larger than [`MAX_RUBRIC_BYTES`] (also when it grows while read), not
/// UTF-8, or not a valid rubric ([`RubricError`]).
pub fn load(path: &Path, shown: &str) -> Result<Rubric, LoadError> {
    let read_error = |source| LoadError::Read {
        path: shown.into(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_error)?;
    let meta = file.metadata().map_err(read_error)?;
    if !meta.is_file() {
        return Err(LoadError::NotAFile {
            path: shown.into(),
            what: file_kind(meta.file_type()),
        });
    }
    if meta.len() > MAX_RUBRIC_BYTES {
        return Err(LoadError::TooLarge { path: shown.into() });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(MAX_RUBRIC_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() as u64 > MAX_RUBRIC_BYTES {
        return Err(LoadError::TooLarge { path: shown.into() });
    }
    let text = String::from_utf8(bytes).map_err(|e| LoadError::NotText {
        path: shown.into(),
        offset: e.utf8_error().valid_up_to(),
    })?;
    Ok(parse(shown, &text)?)
}

/// 1-based line and column of byte `offset` in `text`.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = text.get(..offset).unwrap_or_default();
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// The key a `key = value` line assigns, when the line at `offset` is one.
fn key_on_line(text: &str, offset: usize) -> Option<String> {
    let line_start = text
        .get(..offset)
        .and_then(|b| b.rfind('\n'))
        .map_or(0, |i| i + 1);
    let line = text.get(line_start..)?.lines().next()?.trim_start();
    let (key, _) = line.split_once('=')?;
    let key = key.trim().trim_matches('"');
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    bare.then(|| key.to_string())
}

/// The text between the first pair of backquotes in `message` (toml names fields that way).
fn quoted(message: &str) -> Option<&str> {
    let (_, rest) = message.split_once('`')?;
    rest.split_once('`').map(|(key, _)| key)
}

/// Which `[[check]]` table (1-based) contains byte `offset`, if any.
fn check_number(text: &str, offset: usize) -> Option<usize> {
    let mut n = 0;
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        if line_start > offset {
            break;
        }
        if line.trim_start().starts_with("[[check]]") {
            n += 1;
        }
        line_start += line.len();
    }
    (n > 0).then_some(n)
}

/// What the value of `key` must be, in a teacher's words.
fn expectation(key: Option<&str>) -> Option<&'static str> {
    Some(match key? {
        "port" => "a port number 0–65535",
        "status" => "an HTTP status code such as 200 (100–599)",
        "error_code" => "a TFTP error code 0–8 (RFC 1350 appendix, RFC 2347)",
        "size" => "a size in bytes (a whole number, 0 or more)",
        "max" | "max_coalesced" | "max_split" => "a whole number, 0 or more",
        "points" => "a number of points (0 or more, e.g. 2 or 2.5)",
        "complete" | "clean_end" | "no_warnings" => "true or false",
        "id" | "description" | "title" | "type" | "direction" | "role" | "file" | "sha256"
        | "method" | "path" | "content_type" | "body_contains" | "framing" => "text in quotes",
        "check" => "[[check]] tables",
        _ => return None,
    })
}

/// Serde's names for Rust types, in words a teacher writing TOML understands: `expected u16`
/// becomes `expected a port number 0–65535` on a `port` key.
fn plain_expectation(message: &str, key: Option<&str>) -> String {
    let mut m = message
        .replace("missing field", "missing key")
        .replace("unknown field", "unknown key");
    // "invalid type: string \"x\", expected u16" / "invalid value: integer `70000`, expected u16"
    if let Some((found, expected)) = m.split_once(", expected ")
        && (found.starts_with("invalid type") || found.starts_with("invalid value"))
    {
        let wanted = expectation(key).map_or_else(|| expected.to_string(), str::to_string);
        let found = found
            .trim_start_matches("invalid type: ")
            .trim_start_matches("invalid value: ");
        let found = match found {
            "map" => "a table".to_string(),
            "sequence" => "a list".to_string(),
            _ => found
                .replace("integer", "the number")
                .replace("floating point", "the number")
                .replace("string", "the text")
                .replace("boolean", "the value")
                .replace("sequence", "a list")
                .replace(" map", " a table"),
        };
        m = format!("expected {wanted}, found {found}");
    }
    // Whatever Rust type name is left.
    for (rust, words) in [
        ("expected u16", "expected a whole number 0–65535"),
        ("expected u64", "expected a whole number, 0 or more"),
        ("expected i64", "expected a whole number"),
        ("expected f64", "expected a number"),
        ("expected a boolean", "expected true or false"),
        ("expected a string", "expected text in quotes"),
        ("expected a sequence", "expected a list"),
        (
            "expected a list",
            "expected [[check]] tables (with double brackets)",
        ),
        ("expected struct RawCheck", "expected a [[check]] table"),
        ("expected struct RawRubric", "expected a rubric"),
        ("struct RawCheck", "a check"),
        ("struct RawRubric", "the rubric"),
    ] {
        m = m.replace(rust, words);
    }
    m
}

/// Where each key of each check is, for messages about rubrics that parse but do not make
/// sense (a missing parameter, a bad framing spec, a key the check type does not take).
#[derive(Deserialize)]
struct Located {
    #[serde(default)]
    check: Vec<BTreeMap<String, toml::Spanned<toml::Value>>>,
}

fn from_toml_error(path: &str, text: &str, e: &toml::de::Error) -> RubricError {
    let offset = e.span().map_or(0, |s| s.start);
    let (line, column) = position(text, offset);
    let raw = e.message().trim();
    let on_line = key_on_line(text, offset);
    let key = if raw.starts_with("missing field") || raw.starts_with("unknown field") {
        quoted(raw).map(str::to_string)
    } else {
        on_line
    };
    let mut message = if raw.starts_with("unknown variant") {
        // Only `type` is an enumeration.
        format!(
            "unknown check type `{}`, expected one of {}",
            quoted(raw).unwrap_or_default(),
            TYPE_NAMES.map(|n| format!("`{n}`")).join(", ")
        )
    } else {
        plain_expectation(raw, key.as_deref())
    };
    if raw.starts_with("missing field `check`") {
        message = "no [[check]] tables: a rubric needs at least one check".into();
    } else if raw.starts_with("missing field `type`") {
        message.push_str(", expected one of ");
        message.push_str(&TYPE_NAMES.map(|n| format!("`{n}`")).join(", "));
    }
    if let Some(k) = &key
        && !message.contains(&format!("`{k}`"))
    {
        message = format!("key `{k}`: {message}");
    }
    if let Some(n) = check_number(text, offset) {
        let id = toml::from_str::<toml::Table>(text)
            .ok()
            .and_then(|t| {
                t.get("check")?
                    .as_array()?
                    .get(n - 1)?
                    .get("id")?
                    .as_str()
                    .map(str::to_string)
            })
            .map(|id| format!(" (`{id}`)"))
            .unwrap_or_default();
        message = format!("check {n}{id}: {message}");
    }
    RubricError {
        path: path.into(),
        line,
        column,
        key,
        message,
    }
}

/// True for 64 hexadecimal digits.
fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.chars().all(|c| c.is_ascii_hexdigit())
}

/// Parses and checks a rubric.
///
/// # Errors
/// [`RubricError`] naming the line, the key and what was expected: TOML syntax, an unknown or
/// missing key, a key the check type does not take, a value of the wrong type or out of range,
/// an unknown check type, an invalid framing spec or SHA-256, contradictory keys (`error_code`
/// with `complete = true`), two checks with the same id, points that are not finite or below 0,
/// or a total that is not finite.
pub fn parse(path: &str, text: &str) -> Result<Rubric, RubricError> {
    let raw: RawRubric = toml::from_str(text).map_err(|e| from_toml_error(path, text, &e))?;
    let located: Located = toml::from_str(text).map_err(|e| from_toml_error(path, text, &e))?;
    if raw.checks.is_empty() {
        return Err(RubricError {
            path: path.into(),
            line: 1,
            column: 1,
            key: Some("check".into()),
            message: "no [[check]] tables: a rubric needs at least one check".into(),
        });
    }
    let mut checks: Vec<Check> = Vec::with_capacity(raw.checks.len());
    let mut total = 0.0_f64;
    for (i, c) in raw.checks.into_iter().enumerate() {
        let keys = located.check.get(i);
        let span_of = |key: &str| keys.and_then(|k| k.get(key)).map(toml::Spanned::span);
        // The position of `key`, else of `type` (for a missing key), else of `id`.
        let at = |key: &str| {
            let span = span_of(key)
                .or_else(|| span_of("type"))
                .or_else(|| span_of("id"));
            position(text, span.map_or(0, |s| s.start))
        };
        let fail = |key: &str, message: String| {
            let (line, column) = at(key);
            RubricError {
                path: path.into(),
                line,
                column,
                key: Some(key.into()),
                message: format!("check {} (`{}`): key `{key}`: {message}", i + 1, c.id),
            }
        };
        let kind_name = type_name(c.kind);
        // Keys the check type does not take.
        if let Some(k) = keys {
            let allowed = keys_of(c.kind);
            for key in k.keys() {
                if !COMMON_KEYS.contains(&key.as_str()) && !allowed.contains(&key.as_str()) {
                    let hint = match (c.kind, key.as_str()) {
                        (CheckType::TftpTransfer, "port") => {
                            " (a TFTP server listens on port 69; for another port run `pcaplab grade --tftp-port N`)"
                        }
                        _ => "",
                    };
                    let takes = allowed
                        .iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let known = TYPES.iter().any(|t| keys_of(*t).contains(&key.as_str()));
                    let mut e = fail(
                        key,
                        if known {
                            format!(
                                "a `{kind_name}` check does not take `{key}`{hint}; it takes {takes}"
                            )
                        } else {
                            format!(
                                "unknown key, not one any check takes; a `{kind_name}` check takes {takes} (and `id`, `description`, `points`, `type`)"
                            )
                        },
                    );
                    // Point at the key, not its value.
                    if let Some(line) = text.lines().nth(e.line.saturating_sub(1))
                        && let Some(at) = line.find(key.as_str())
                    {
                        e.column = line.get(..at).map_or(0, |p| p.chars().count()) + 1;
                    }
                    return Err(e);
                }
            }
        }
        if c.id.trim().is_empty() {
            return Err(fail(
                "id",
                "expected a name for the check, found empty text".into(),
            ));
        }
        if let Some(first) = checks.iter().position(|x| x.id == c.id) {
            let first_line = checks.get(first).map_or(0, |x| x.line);
            return Err(fail(
                "id",
                format!(
                    "the same id as check {} (line {first_line}); each check needs its own id",
                    first + 1
                ),
            ));
        }
        if !(c.points.is_finite() && c.points >= 0.0) {
            return Err(fail(
                "points",
                format!(
                    "expected a finite number of points, 0 or more, found {}",
                    c.points
                ),
            ));
        }
        total += c.points;
        if !total.is_finite() {
            return Err(fail(
                "points",
                format!(
                    "the points of checks 1 to {} add up to more than the largest number ({:e})",
                    i + 1,
                    f64::MAX
                ),
            ));
        }
        let need = |key: &str, present: bool| {
            if present {
                Ok(())
            } else {
                Err(fail(
                    key,
                    format!("missing, and a `{kind_name}` check needs it"),
                ))
            }
        };
        match c.kind {
            CheckType::TcpHandshake
            | CheckType::TcpClose
            | CheckType::UdpEcho
            | CheckType::UdpBroadcast => need("port", c.port.is_some())?,
            CheckType::TftpTransfer => need("file", c.file.is_some())?,
            CheckType::HttpResponse => need("path", c.path.is_some())?,
            CheckType::Framing => {
                need("port", c.port.is_some())?;
                need("framing", c.framing.is_some())?;
            }
            CheckType::MaxRetransmissions => need("max", c.max.is_some())?,
        }
        let framing = match &c.framing {
            None => None,
            Some(f) => {
                let spec = f
                    .parse::<FramingSpec>()
                    .map_err(|e| fail("framing", e.to_string()))?;
                if matches!(spec, FramingSpec::Auto | FramingSpec::None) {
                    return Err(fail(
                        "framing",
                        format!(
                            "\"{f}\" names no framing to check; give the one the program must use: \"len:4\", \"line\", \"delim:HEX\", \"fixed:N\" or \"http\""
                        ),
                    ));
                }
                Some(spec)
            }
        };
        let mut tftp_direction = None;
        let mut framing_direction = FramingDirection::Both;
        if let Some(d) = &c.direction {
            if c.kind == CheckType::TftpTransfer {
                tftp_direction = Some(match d.as_str() {
                    "read" => TransferDirection::Read,
                    "write" => TransferDirection::Write,
                    _ => {
                        return Err(fail(
                            "direction",
                            format!("expected \"read\" or \"write\", found \"{d}\""),
                        ));
                    }
                });
            } else {
                framing_direction = match d.as_str() {
                    "client_to_server" => FramingDirection::ClientToServer,
                    "server_to_client" => FramingDirection::ServerToClient,
                    "both" => FramingDirection::Both,
                    _ => {
                        return Err(fail(
                            "direction",
                            format!(
                                "expected \"client_to_server\", \"server_to_client\" or \"both\", found \"{d}\""
                            ),
                        ));
                    }
                };
            }
        }
        let role = match c.role.as_deref() {
            None => None,
            Some("server") => Some(Role::Server),
            Some("client") => Some(Role::Client),
            Some(r) => {
                return Err(fail(
                    "role",
                    format!("expected \"server\" or \"client\", found \"{r}\""),
                ));
            }
        };
        if let Some(sha) = &c.sha256
            && !is_sha256(sha)
        {
            let found = if sha.chars().count() == 64 {
                "64 characters, not all hexadecimal digits".to_string()
            } else {
                format!("{} characters", sha.chars().count())
            };
            return Err(fail(
                "sha256",
                format!("expected 64 hexadecimal digits (as sha256sum prints), found {found}"),
            ));
        }
        if let Some(s) = c.status
            && !(100..=599).contains(&s)
        {
            return Err(fail(
                "status",
                format!("expected an HTTP status code 100–599, found {s}"),
            ));
        }
        if let Some(code) = c.error_code {
            if code > 8 {
                return Err(fail(
                    "error_code",
                    format!(
                        "expected a TFTP error code 0–8 (0–7 in RFC 1350, 8 in RFC 2347), found {code}"
                    ),
                ));
            }
            // An ERROR ends the transfer before its data is complete.
            for (key, set) in [
                ("complete", c.complete == Some(true)),
                ("clean_end", c.clean_end == Some(true)),
                ("size", c.size.is_some()),
                ("sha256", c.sha256.is_some()),
            ] {
                if set {
                    return Err(fail(
                        key,
                        format!(
                            "cannot be asked together with `error_code`: a transfer that ends with ERROR {code} never delivers the whole file"
                        ),
                    ));
                }
            }
        }
        if c.complete == Some(false) && c.clean_end == Some(true) {
            return Err(fail(
                "clean_end",
                "a clean ending needs the whole file: leave out `complete = false`".into(),
            ));
        }
        let (line, _) = at("id");
        checks.push(Check {
            id: c.id,
            description: c.description,
            points: c.points,
            kind: c.kind,
            line,
            port: c.port,
            tftp_direction,
            role,
            file: c.file,
            complete: c.complete,
            clean_end: c.clean_end.unwrap_or(false),
            error_code: c.error_code,
            size: c.size,
            sha256: c.sha256.map(|s| s.to_ascii_lowercase()),
            method: c.method,
            path: c.path,
            status: c.status,
            content_type: c.content_type,
            body_contains: c.body_contains,
            no_warnings: c.no_warnings.unwrap_or(false),
            framing,
            framing_direction,
            max_coalesced: c.max_coalesced,
            max_split: c.max_split,
            max: c.max,
        });
    }
    Ok(Rubric {
        title: raw.title,
        checks,
    })
}

/// Every check type.
const TYPES: [CheckType; 8] = [
    CheckType::TcpHandshake,
    CheckType::TcpClose,
    CheckType::UdpEcho,
    CheckType::UdpBroadcast,
    CheckType::TftpTransfer,
    CheckType::HttpResponse,
    CheckType::Framing,
    CheckType::MaxRetransmissions,
];

/// Every check type's rubric name.
const TYPE_NAMES: [&str; 8] = [
    "tcp_handshake",
    "tcp_close",
    "udp_echo",
    "udp_broadcast",
    "tftp_transfer",
    "http_response",
    "framing",
    "max_retransmissions",
];

/// The rubric name of a check type.
pub fn type_name(kind: CheckType) -> &'static str {
    match kind {
        CheckType::TcpHandshake => "tcp_handshake",
        CheckType::TcpClose => "tcp_close",
        CheckType::UdpEcho => "udp_echo",
        CheckType::UdpBroadcast => "udp_broadcast",
        CheckType::TftpTransfer => "tftp_transfer",
        CheckType::HttpResponse => "http_response",
        CheckType::Framing => "framing",
        CheckType::MaxRetransmissions => "max_retransmissions",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn position_counts_lines_and_characters() {
        let text = "a = 1\nbé = \"x\"\n";
        assert_eq!(position(text, 0), (1, 1));
        // "bé = " is 6 bytes but 5 characters: the value starts at column 6.
        assert_eq!(position(text, 12), (2, 6));
        assert_eq!(position(text, 999), (3, 1));
    }

    #[test]
    fn key_and_check_are_found_from_an_offset() {
        let text = "title = \"t\"\n[[check]]\nid = \"a\"\n[[check]]\n  port = 70000\n";
        let port = text.find("70000").unwrap();
        assert_eq!(key_on_line(text, port).as_deref(), Some("port"));
        assert_eq!(check_number(text, port), Some(2));
        assert_eq!(check_number(text, 3), None);
        let header = text.find("[[check]]").unwrap();
        assert_eq!(key_on_line(text, header), None);
        assert_eq!(check_number(text, header), Some(1));
    }

    #[test]
    fn a_valid_rubric_parses_with_every_parameter() {
        let r = parse(
            "r.toml",
            "[[check]]\nid = \"h\"\ndescription = \"d\"\npoints = 2.5\ntype = \"http_response\"\n\
             method = \"GET\"\npath = \"/\"\nstatus = 200\ncontent_type = \"text/html\"\n\
             body_contains = \"x\"\nno_warnings = true\n\
             [[check]]\nid = \"t\"\npoints = 1\ntype = \"tftp_transfer\"\nrole = \"server\"\n\
             direction = \"read\"\nfile = \"f\"\nclean_end = true\nsize = 3\n\
             sha256 = \"E6059D6A3E971929758DF5651EB189DBC3D35F605967997D8A966CD19BDD91DA\"\n\
             [[check]]\nid = \"f\"\npoints = 1\ntype = \"framing\"\nport = 9\nframing = \"len:4\"\n\
             direction = \"client_to_server\"\n",
        )
        .unwrap();
        let c = &r.checks[0];
        assert_eq!(c.kind, CheckType::HttpResponse);
        assert_eq!(c.points, 2.5);
        assert_eq!(c.status, Some(200));
        assert!(c.no_warnings);
        assert_eq!(c.line, 2);
        let t = &r.checks[1];
        assert_eq!(t.role, Some(Role::Server));
        assert_eq!(t.tftp_direction, Some(TransferDirection::Read));
        assert!(t.clean_end);
        assert!(t.sha256.as_deref().unwrap().starts_with("e6059d6a"));
        let f = &r.checks[2];
        assert_eq!(f.framing_direction, FramingDirection::ClientToServer);
        assert_eq!(f.framing.as_ref().unwrap().to_string(), "len:4");
        assert_eq!(r.max_score(), 4.5);
    }

    #[test]
    fn errors_carry_line_column_and_key() {
        let e = parse("r.toml", "[[check]]\nid = \"a\"\npoints = true\n").unwrap_err();
        assert_eq!((e.line, e.column), (3, 10));
        assert_eq!(e.key.as_deref(), Some("points"));
        assert!(
            e.to_string()
                .starts_with("r.toml: line 3, column 10: check 1 (`a`): key `points`"),
            "{e}"
        );
    }

    /// Every error message of many broken rubrics, for the words tests.
    fn messages() -> Vec<String> {
        let head = "[[check]]\nid = \"a\"\npoints = 1\n";
        let bodies = [
            "type = \"udp_echo\"\nport = 70000\n",
            "type = \"udp_echo\"\nport = -1\n",
            "type = \"udp_echo\"\nport = \"x\"\n",
            "type = \"udp_echo\"\nport = 1.5\n",
            "type = \"udp_echo\"\nport = true\n",
            "type = \"max_retransmissions\"\nmax = -3\n",
            "type = \"max_retransmissions\"\nmax = \"many\"\n",
            "type = \"tftp_transfer\"\nfile = \"f\"\nsize = -1\n",
            "type = \"tftp_transfer\"\nfile = 3\n",
            "type = \"tftp_transfer\"\nfile = \"f\"\ncomplete = \"yes\"\n",
            "type = \"tftp_transfer\"\nfile = \"f\"\nerror_code = 70000\n",
            "type = \"tftp_transfer\"\nfile = \"f\"\nrole = \"both\"\n",
            "type = \"http_response\"\npath = \"/\"\nstatus = \"ok\"\n",
            "type = \"http_response\"\npath = [1]\n",
            "type = \"http_response\"\npath = { a = 1 }\n",
            "type = 5\n",
        ];
        let mut out: Vec<String> = bodies
            .iter()
            .map(|b| {
                parse("r.toml", &format!("{head}{b}"))
                    .unwrap_err()
                    .to_string()
            })
            .collect();
        for whole in [
            "check = 5\n",
            "check = [1]\n",
            "[check]\nid = \"a\"\n",
            "title = 3\n[[check]]\nid = \"a\"\npoints = 1\ntype = \"udp_echo\"\nport = 1\n",
            "[[check]]\nid = 1\npoints = 1\ntype = \"udp_echo\"\nport = 1\n",
            "[[check]]\nid = \"a\"\npoints = \"1\"\ntype = \"udp_echo\"\nport = 1\n",
        ] {
            out.push(parse("r.toml", whole).unwrap_err().to_string());
        }
        out
    }

    proptest::proptest! {
        /// Any text made of rubric pieces (keys, values, brackets, quotes, controls) parses
        /// or is refused with a line inside the text, never a panic.
        #[test]
        fn any_rubric_text_parses_or_is_refused_with_a_line(
            pieces in proptest::collection::vec(proptest::sample::select(vec![
                "[[check]]\n", "[check]\n", "id = \"a\"\n", "id = \"a\"\n", "points = 1\n",
                "points = nan\n", "points = 1.7e308\n", "type = \"udp_echo\"\n",
                "type = \"tftp_transfer\"\n", "type = \"framing\"\n", "port = 7\n",
                "port = 70000\n", "file = \"f\"\n", "role = \"server\"\n",
                "clean_end = true\n", "error_code = 1\n", "framing = \"len:4\"\n",
                "direction = \"both\"\n", "direction = \"read\"\n", "sha256 = \"ab\"\n",
                "title = \"t\"\n", "\"", "=", "\u{202e}", "é", "\n", "[[", "]]", "# c\n",
            ]), 0..24)
        ) {
            let text: String = pieces.concat();
            if let Err(e) = parse("r.toml", &text) {
                proptest::prop_assert!(e.line >= 1 && e.line <= text.lines().count() + 1, "{e}");
                proptest::prop_assert!(!e.message.contains("Raw"), "{e}");
            }
        }
    }

    #[test]
    fn messages_never_name_rust_types() {
        for m in messages() {
            for rust in [
                "u16", "u64", "i64", "f64", "usize", "struct", "Raw", "sequence", "variant", "map",
            ] {
                assert!(!m.contains(rust), "{rust:?} in {m}");
            }
        }
    }

    #[test]
    fn numbers_out_of_range_say_what_is_expected() {
        let e = parse(
            "r.toml",
            "[[check]]\nid = \"a\"\npoints = 1\ntype = \"udp_echo\"\nport = 70000\n",
        )
        .unwrap_err();
        assert!(
            e.message
                .contains("key `port`: expected a port number 0–65535, found the number `70000`"),
            "{e}"
        );
    }
}
