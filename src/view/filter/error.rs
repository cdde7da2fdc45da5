//! `FilterError`: why a display filter did not compile, with the column of the bad token.

use thiserror::Error;

/// A display filter that could not be compiled. Every variant names the 1-based column (in
/// characters) of the token at fault, and the message says what was wrong in Wireshark's terms.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FilterError {
    /// The text does not follow the grammar.
    #[error("filter: column {column}: expected {expected}, found {found}")]
    Syntax {
        /// Column of the unexpected token.
        column: usize,
        /// What the grammar allows there.
        expected: &'static str,
        /// The token found, quoted, or `end of filter`.
        found: String,
    },
    /// A name that is neither a known field nor a protocol.
    #[error(
        "filter: column {column}: unknown field \"{name}\"{}",
        suggestion.map(|s| format!("; did you mean \"{s}\"?")).unwrap_or_default()
    )]
    UnknownField {
        /// Column of the name.
        column: usize,
        /// The name as written.
        name: String,
        /// The closest known name, when one is close.
        suggestion: Option<&'static str>,
    },
    /// The left side of a comparison is a literal, not a field.
    #[error("filter: column {column}: the left side of a test must be a field, not {found}")]
    NotAField {
        /// Column of the literal.
        column: usize,
        /// The literal, quoted.
        found: String,
    },
    /// A literal that is not a valid value for the field it is compared with.
    #[error("filter: column {column}: {literal} is not {expected} (the type of {field})")]
    BadValue {
        /// Column of the literal.
        column: usize,
        /// The literal, quoted.
        literal: String,
        /// The field's type, e.g. `an IPv4 address`.
        expected: &'static str,
        /// The field the literal is compared with.
        field: &'static str,
    },
    /// An integer literal larger than the field can hold.
    #[error("filter: column {column}: {literal} is too big for {field}, maximum {max}")]
    TooBig {
        /// Column of the literal.
        column: usize,
        /// The literal as written.
        literal: String,
        /// The field.
        field: &'static str,
        /// The field's largest value.
        max: u64,
    },
    /// An operator the field's type does not support (`tcp.port contains 80`).
    #[error("filter: column {column}: {field} ({kind}) cannot be used with {operator}")]
    BadOperator {
        /// Column of the field.
        column: usize,
        /// The field.
        field: &'static str,
        /// The field's type.
        kind: &'static str,
        /// The operator, e.g. `contains`.
        operator: &'static str,
    },
    /// Two fields of different types compared with each other.
    #[error(
        "filter: column {column}: {left} ({left_kind}) cannot be compared with {right} ({right_kind})"
    )]
    TypeMismatch {
        /// Column of the right-hand field.
        column: usize,
        /// The left field.
        left: &'static str,
        /// Its type.
        left_kind: &'static str,
        /// The right field.
        right: &'static str,
        /// Its type.
        right_kind: &'static str,
    },
    /// A string or character literal that is not closed or has a bad escape.
    #[error("filter: column {column}: {reason}")]
    BadString {
        /// Column of the problem.
        column: usize,
        /// What is wrong, e.g. `unterminated string`.
        reason: &'static str,
    },
    /// A `matches` pattern the regular-expression engine rejects.
    #[error("filter: column {column}: invalid regular expression: {reason}")]
    BadRegex {
        /// Column of the pattern.
        column: usize,
        /// The regex engine's explanation.
        reason: String,
    },
    /// Parentheses or `not` nested deeper than the parser allows.
    #[error("filter: column {column}: nested more than {max} levels deep")]
    TooDeep {
        /// Column where the limit was passed.
        column: usize,
        /// The limit.
        max: usize,
    },
}

impl FilterError {
    /// The 1-based column (in characters) of the token at fault.
    pub fn column(&self) -> usize {
        match self {
            FilterError::Syntax { column, .. }
            | FilterError::UnknownField { column, .. }
            | FilterError::NotAField { column, .. }
            | FilterError::BadValue { column, .. }
            | FilterError::TooBig { column, .. }
            | FilterError::BadOperator { column, .. }
            | FilterError::TypeMismatch { column, .. }
            | FilterError::BadString { column, .. }
            | FilterError::BadRegex { column, .. }
            | FilterError::TooDeep { column, .. } => *column,
        }
    }
}

/// The 1-based character column of byte `offset` in `text`.
pub(super) fn column_of(text: &str, offset: usize) -> usize {
    let offset = offset.min(text.len());
    // Back up to a character boundary so that a bad offset cannot panic.
    let boundary = (0..=offset)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    text.get(..boundary).map_or(0, |s| s.chars().count()) + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_field_message_suggests_the_nearest_name() {
        let e = FilterError::UnknownField {
            column: 12,
            name: "tcp.prot".into(),
            suggestion: Some("tcp.port"),
        };
        assert_eq!(
            e.to_string(),
            "filter: column 12: unknown field \"tcp.prot\"; did you mean \"tcp.port\"?"
        );
        assert_eq!(e.column(), 12);
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        assert_eq!(column_of("é == 1", 3), 3);
        assert_eq!(column_of("abc", 0), 1);
        assert_eq!(column_of("abc", 99), 4);
        assert_eq!(column_of("é", 1), 1);
    }
}
