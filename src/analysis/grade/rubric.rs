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
#[error("{path}: line {line}: {message}")]
pub struct RubricError {
    /// The rubric file.
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// What is wrong, naming the key and what was expected.
    pub message: String,
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset.min(text.len()))
        .map_or(1, |s| s.matches('\n').count() + 1)
}

/// Parses and checks a rubric.
///
/// # Errors
/// [`RubricError`] naming the line, the key and what was expected.
pub fn parse(path: &str, text: &str) -> Result<Rubric, RubricError> {
    let rubric: Rubric = toml::from_str(text).map_err(|e| RubricError {
        path: path.to_string(),
        line: e.span().map_or(1, |s| line_of(text, s.start)),
        message: e.message().trim().to_string(),
    })?;
    if rubric.checks.is_empty() {
        return Err(RubricError {
            path: path.into(),
            line: 1,
            message: "no [[check]] tables: a rubric needs at least one check".into(),
        });
    }
    for check in &rubric.checks {
        let line = text
            .find(&format!("\"{}\"", check.id))
            .map_or(1, |at| line_of(text, at));
        let fail = |message: String| RubricError {
            path: path.into(),
            line,
            message: format!("check `{}`: {message}", check.id),
        };
        let need = |key: &str, present: bool| {
            if present {
                Ok(())
            } else {
                Err(fail(format!(
                    "missing key `{key}`, which a `{}` check needs",
                    type_name(check.kind)
                )))
            }
        };
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
                    f.parse::<crate::framing::FramingSpec>()
                        .map_err(|e| fail(format!("key `framing`: {e}")))?;
                }
            }
            CheckType::MaxRetransmissions => need("max", check.max.is_some())?,
        }
        if let Some(d) = &check.direction
            && d != "read"
            && d != "write"
        {
            return Err(fail(format!(
                "key `direction`: expected \"read\" or \"write\", found \"{d}\""
            )));
        }
        if check.points < 0.0 {
            return Err(fail("key `points`: expected a number of at least 0".into()));
        }
    }
    Ok(rubric)
}

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
