//! `app::ParseError`: the nom error type shared by the application parsers.
//!
//! It keeps only what a report needs: how many input bytes were left where parsing failed (so
//! the offset is `whole.len() - remaining`) and a `&'static str` naming what was expected there.

use nom::error::{ContextError, ErrorKind, FromExternalError};

/// Where a nom parser failed and what it expected there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseError {
    /// Bytes of input left at the failure point.
    pub remaining: usize,
    /// What was expected at that point, e.g. `"HTTP version"`.
    pub expected: &'static str,
}

/// `expected` text used when no `context` named the failing item.
const UNNAMED: &str = "valid input";

impl ParseError {
    /// An error with `remaining` bytes left, expecting `expected`.
    pub fn new(remaining: usize, expected: &'static str) -> Self {
        Self {
            remaining,
            expected,
        }
    }

    /// Offset of the failure inside an input of `whole_len` bytes.
    pub fn offset_in(&self, whole_len: usize) -> usize {
        whole_len.saturating_sub(self.remaining)
    }
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "expected {}", self.expected)
    }
}

impl std::error::Error for ParseError {}

impl nom::error::ParseError<&[u8]> for ParseError {
    fn from_error_kind(input: &[u8], _kind: ErrorKind) -> Self {
        Self::new(input.len(), UNNAMED)
    }

    fn append(_input: &[u8], _kind: ErrorKind, other: Self) -> Self {
        other
    }
}

impl ContextError<&[u8]> for ParseError {
    /// The innermost context names the failure; outer contexts do not overwrite it.
    fn add_context(_input: &[u8], ctx: &'static str, other: Self) -> Self {
        if other.expected == UNNAMED {
            Self::new(other.remaining, ctx)
        } else {
            other
        }
    }
}

impl<E> FromExternalError<&[u8], E> for ParseError {
    fn from_external_error(input: &[u8], _kind: ErrorKind, _e: E) -> Self {
        Self::new(input.len(), UNNAMED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nom::Parser;
    use nom::bytes::complete::tag;
    use nom::error::context;

    #[test]
    fn context_names_the_failure_and_offset_is_recoverable() {
        let input = b"HTTX/1.1";
        let err = context("HTTP version", tag::<_, _, ParseError>(&b"HTTP/"[..]))
            .parse(&input[..])
            .unwrap_err();
        let nom::Err::Error(e) = err else {
            panic!("expected a recoverable error")
        };
        assert_eq!(e.expected, "HTTP version");
        assert_eq!(e.offset_in(input.len()), 0);
    }
}
