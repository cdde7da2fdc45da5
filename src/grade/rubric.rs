//! Rubric files: TOML with one `[[check]]` table per check. Parsing errors name the line, the
//! key and what was expected.

use serde::Deserialize;

/// A parsed rubric.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rubric {
    /// Optional title, shown in reports.
    pub title: Option<String>,
    /// The checks, in order.
    #[serde(rename = "check")]
    pub checks: Vec<Check>,
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
    /// A TFTP transfer of `file` that completed without ERROR (optionally size and hash).
    TftpTransfer,
    /// An HTTP response to `path` with the expected status, type and body.
    HttpResponse,
    /// The TCP stream(s) to `port` frame cleanly with `framing`.
    Framing,
    /// At most `max` TCP retransmissions (to `port` when given).
    MaxRetransmissions,
}

/// One check: common fields plus the parameters its type uses.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Check {
    /// Identifier shown in reports.
    pub id: String,
    /// What the check verifies, in words for the student.
    #[serde(default)]
    pub description: String,
    /// Points awarded when it passes.
    pub points: f64,
    /// The kind of check.
    #[serde(rename = "type")]
    pub kind: CheckType,
    /// Server port (TCP or UDP).
    pub port: Option<u16>,
    /// TFTP direction: `read` or `write`.
    pub direction: Option<String>,
    /// TFTP file name.
    pub file: Option<String>,
    /// TFTP: the transfer must be complete (default true).
    pub complete: Option<bool>,
    /// TFTP file size in bytes.
    pub size: Option<u64>,
    /// SHA-256 of the TFTP file or the HTTP body (lowercase hex).
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
    pub no_warnings: Option<bool>,
    /// Framing spec (`len:4`, `line`, `http`, ...).
    pub framing: Option<String>,
    /// Framing: most coalesced segments allowed.
    pub max_coalesced: Option<u64>,
    /// Framing: most split messages allowed.
    pub max_split: Option<u64>,
    /// Most retransmissions allowed.
    pub max: Option<u64>,
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

/// Serde's names for Rust types, in words a teacher writing TOML understands.
fn plain_expectation(message: &str) -> String {
    message
        .replace("expected f64", "expected a number")
        .replace("expected u16", "expected an integer from 0 to 65535")
        .replace("expected u64", "expected an integer of at least 0")
        .replace("missing field", "missing key")
        .replace("unknown field", "unknown key")
        .replace("unknown variant", "unknown check type")
}

/// Where each key of each check is, for messages about rubrics that parse but do not make
/// sense (a missing parameter, a bad framing spec).
#[derive(Deserialize)]
struct Located {
    #[serde(default)]
    check: Vec<std::collections::BTreeMap<String, toml::Spanned<toml::Value>>>,
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
    let mut message = plain_expectation(raw);
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

/// Parses and checks a rubric.
///
/// # Errors
/// [`RubricError`] naming the line, the key and what was expected: TOML syntax, an unknown or
/// missing key, a value of the wrong type, an unknown check type, a parameter the check type
/// needs, an invalid framing spec or SHA-256, two checks with the same id.
pub fn parse(path: &str, text: &str) -> Result<Rubric, RubricError> {
    let rubric: Rubric = toml::from_str(text).map_err(|e| from_toml_error(path, text, &e))?;
    let located: Located = toml::from_str(text).map_err(|e| from_toml_error(path, text, &e))?;
    if rubric.checks.is_empty() {
        return Err(RubricError {
            path: path.into(),
            line: 1,
            column: 1,
            key: Some("check".into()),
            message: "no [[check]] tables: a rubric needs at least one check".into(),
        });
    }
    let mut ids: Vec<&str> = Vec::new();
    for (i, check) in rubric.checks.iter().enumerate() {
        let keys = located.check.get(i);
        // The line of `key`, else of `type` (for a missing key), else of `id`.
        let at = |key: &str| {
            let span = keys.and_then(|k| {
                k.get(key)
                    .or_else(|| k.get("type"))
                    .or_else(|| k.get("id"))
                    .map(toml::Spanned::span)
            });
            position(text, span.map_or(0, |s| s.start))
        };
        let fail = |key: &str, message: String| {
            let (line, column) = at(key);
            RubricError {
                path: path.into(),
                line,
                column,
                key: Some(key.into()),
                message: format!("check {} (`{}`): {message}", i + 1, check.id),
            }
        };
        let need = |key: &str, present: bool| {
            if present {
                Ok(())
            } else {
                Err(fail(
                    key,
                    format!(
                        "missing key `{key}`, which a `{}` check needs",
                        type_name(check.kind)
                    ),
                ))
            }
        };
        if let Some(first) = ids.iter().position(|id| *id == check.id) {
            return Err(fail(
                "id",
                format!(
                    "key `id`: the same id as check {}; ids must differ",
                    first + 1
                ),
            ));
        }
        ids.push(&check.id);
        match check.kind {
            CheckType::TcpHandshake
            | CheckType::TcpClose
            | CheckType::UdpEcho
            | CheckType::UdpBroadcast => need("port", check.port.is_some())?,
            CheckType::TftpTransfer => need("file", check.file.is_some())?,
            CheckType::HttpResponse => need("path", check.path.is_some())?,
            CheckType::Framing => {
                need("port", check.port.is_some())?;
                need("framing", check.framing.is_some())?;
                if let Some(f) = &check.framing {
                    // Each framing check frames the streams with its own spec.
                    f.parse::<crate::framing::FramingSpec>()
                        .map_err(|e| fail("framing", format!("key `framing`: {e}")))?;
                }
            }
            CheckType::MaxRetransmissions => need("max", check.max.is_some())?,
        }
        if let Some(d) = &check.direction
            && d != "read"
            && d != "write"
        {
            return Err(fail(
                "direction",
                format!("key `direction`: expected \"read\" or \"write\", found \"{d}\""),
            ));
        }
        if let Some(sha) = &check.sha256
            && (sha.len() != 64 || !sha.chars().all(|c| c.is_ascii_hexdigit()))
        {
            return Err(fail(
                "sha256",
                format!(
                    "key `sha256`: expected 64 hexadecimal digits, found {} characters",
                    sha.chars().count()
                ),
            ));
        }
        if !(check.points >= 0.0 && check.points.is_finite()) {
            return Err(fail(
                "points",
                "key `points`: expected a number of at least 0".into(),
            ));
        }
    }
    Ok(rubric)
}

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
             body_contains = \"x\"\nno_warnings = true\n",
        )
        .unwrap();
        let c = &r.checks[0];
        assert_eq!(c.kind, CheckType::HttpResponse);
        assert_eq!(c.points, 2.5);
        assert_eq!(c.status, Some(200));
    }

    #[test]
    fn errors_carry_line_column_and_key() {
        let e = parse("r.toml", "[[check]]\nid = \"a\"\npoints = true\n").unwrap_err();
        assert_eq!((e.line, e.column), (3, 10));
        assert_eq!(e.key.as_deref(), Some("points"));
        assert!(
            e.to_string()
                .starts_with("r.toml: line 3, column 10: check 1 (`a`): key `points`")
        );
    }
}
