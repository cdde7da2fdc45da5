//! Syntax tree → compiled filter: field names resolved to [`FieldId`]s, literals converted to
//! the type of the field they are compared with, regular expressions built. Everything that can
//! be done once is done here, so evaluating a packet allocates nothing.

use std::net::{Ipv4Addr, Ipv6Addr};

use memchr::memmem::Finder;
use regex::bytes::{Regex, RegexBuilder};

use super::error::{FilterError, column_of};
use super::fields::{self, FieldId, FieldInfo, FieldKind, Origin};
use super::parse::{self, CmpOp, Expr, Operand, OperandKind, Quantifier, Relation, Test};
use super::value::Literal;

/// Size limit for a compiled `matches` pattern (bytes of the regex program), so that a
/// pathological pattern is refused instead of using unbounded memory.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// How a MAC address field's `contains` literal is read: as a byte string of any length.
static BYTES_VIEW_OF_ETHER: FieldInfo = FieldInfo {
    name: "a MAC address",
    id: FieldId::EthAddr,
    kind: FieldKind::Bytes,
    origin: Origin::Packet,
    description: "",
};

/// A compiled boolean expression.
#[derive(Debug, Clone)]
pub(super) enum Node {
    /// Any member true.
    Or(Vec<Node>),
    /// Every member true.
    And(Vec<Node>),
    /// Negation.
    Not(Box<Node>),
    /// The field or protocol is present.
    Exists(FieldId),
    /// A test on the occurrences of a field.
    Test {
        /// Whether one occurrence or every occurrence must pass.
        quantifier: Quantifier,
        /// The field tested.
        field: FieldRef,
        /// The test.
        pred: Pred,
    },
}

/// A field, possibly under a bit mask (`tcp.flags & 0x12`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct FieldRef {
    /// The field.
    pub id: FieldId,
    /// The mask applied to each integer value.
    pub mask: Option<u64>,
}

/// What is tested on each occurrence.
#[derive(Debug, Clone)]
pub(super) enum Pred {
    /// The masked value is not zero (`tcp.flags & 0x02`).
    NonZero,
    /// `OP rhs`.
    Compare {
        /// The operator.
        op: CmpOp,
        /// The right-hand side.
        rhs: Rhs,
    },
    /// Equal to a member, or inside a member range.
    In(Vec<Member>),
    /// The bytes contain a literal byte string (searched with a prebuilt `memmem` finder).
    ContainsBytes(Box<Finder<'static>>),
    /// The bytes contain another field's bytes.
    ContainsField(FieldRef),
    /// The bytes match the regular expression.
    Matches(Regex),
}

/// The right-hand side of a test.
#[derive(Debug, Clone)]
pub(super) enum Rhs {
    /// A literal of the left field's type.
    Literal(Literal),
    /// Another field (compared occurrence by occurrence).
    Field(FieldRef),
}

/// A member of an `in {…}` set.
#[derive(Debug, Clone)]
pub(super) enum Member {
    /// A single value or field.
    One(Rhs),
    /// An inclusive range.
    Range(Literal, Literal),
}

/// The result of compiling: the tree and whether it needs the engine's annotations.
pub(super) struct Compiled {
    pub root: Node,
    pub needs_annotations: bool,
}

/// Compiles `text`.
pub(super) fn compile(text: &str) -> Result<Compiled, FilterError> {
    let expr = parse::parse_filter(text).map_err(|e| grammar_error(text, e))?;
    let mut c = Compiler {
        text,
        needs_annotations: false,
    };
    let root = c.expr(&expr)?;
    Ok(Compiled {
        root,
        needs_annotations: c.needs_annotations,
    })
}

fn grammar_error(text: &str, e: parse::GrammarError) -> FilterError {
    let offset = text.len().saturating_sub(e.remaining);
    let column = column_of(text, offset);
    match e.kind {
        parse::GrammarErrorKind::Syntax => FilterError::Syntax {
            column,
            expected: e.expected,
            found: found_at(text, offset),
        },
        parse::GrammarErrorKind::BadString => FilterError::BadString {
            column,
            reason: e.expected,
        },
        parse::GrammarErrorKind::TooDeep => FilterError::TooDeep {
            column,
            max: parse::MAX_DEPTH,
        },
    }
}

/// The token at `offset`, quoted, for "found …" in messages.
fn found_at(text: &str, offset: usize) -> String {
    let rest = text.get(offset..).unwrap_or("").trim_start();
    let Some(first) = rest.chars().next() else {
        return "end of filter".into();
    };
    let token: String = if first.is_ascii_alphanumeric() || first == '_' {
        rest.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-' | '/'))
            .take(40)
            .collect()
    } else {
        rest.chars()
            .take_while(|c| !c.is_whitespace() && !c.is_ascii_alphanumeric())
            .take(3)
            .collect()
    };
    format!("\"{token}\"")
}

struct Compiler<'t> {
    text: &'t str,
    needs_annotations: bool,
}

impl Compiler<'_> {
    fn column(&self, op: &Operand<'_>) -> usize {
        column_of(self.text, self.text.len().saturating_sub(op.remaining))
    }

    fn expr(&mut self, e: &Expr<'_>) -> Result<Node, FilterError> {
        Ok(match e {
            Expr::Or(v) => Node::Or(v.iter().map(|x| self.expr(x)).collect::<Result<_, _>>()?),
            Expr::And(v) => Node::And(v.iter().map(|x| self.expr(x)).collect::<Result<_, _>>()?),
            Expr::Not(inner) => Node::Not(Box::new(self.expr(inner)?)),
            Expr::Test(t) => self.test(t)?,
        })
    }

    /// Resolves the operand on the left of a test to a field.
    fn field(&mut self, op: &Operand<'_>) -> Result<&'static FieldInfo, FilterError> {
        let column = self.column(op);
        let name = match &op.kind {
            OperandKind::Word(w) => *w,
            OperandKind::Str(s) => {
                return Err(FilterError::NotAField {
                    column,
                    found: format!("\"{}\"", String::from_utf8_lossy(s)),
                });
            }
            OperandKind::Char(_) => {
                return Err(FilterError::NotAField {
                    column,
                    found: "a character constant".into(),
                });
            }
        };
        if let Some(info) = fields::lookup(name) {
            if info.origin == Origin::Engine {
                self.needs_annotations = true;
            }
            return Ok(info);
        }
        if name.starts_with(|c: char| c.is_ascii_alphabetic()) {
            Err(FilterError::UnknownField {
                column,
                name: name.to_string(),
                suggestion: fields::suggest(name),
            })
        } else {
            Err(FilterError::NotAField {
                column,
                found: format!("\"{name}\""),
            })
        }
    }

    fn test(&mut self, t: &Test<'_>) -> Result<Node, FilterError> {
        let info = self.field(&t.lhs)?;
        let lhs_column = self.column(&t.lhs);
        let mask = match &t.mask {
            Some(m) => {
                let FieldKind::UInt { bits } = info.kind else {
                    return Err(bad_operator(lhs_column, info, "\"&\""));
                };
                let value = self.int_literal(m, info, bits)?;
                Some(u64::try_from(value).unwrap_or(0))
            }
            None => None,
        };
        let field = FieldRef { id: info.id, mask };
        let Some(relation) = &t.relation else {
            return Ok(match mask {
                Some(_) => Node::Test {
                    quantifier: t.quantifier.unwrap_or(Quantifier::Any),
                    field,
                    pred: Pred::NonZero,
                },
                None => Node::Exists(info.id),
            });
        };
        let (pred, implied, negate) = match relation {
            Relation::Compare { op, implied, rhs } => {
                if info.kind == FieldKind::Label {
                    return Err(bad_operator(lhs_column, info, op.symbol()));
                }
                let rhs = self.rhs(rhs, info)?;
                (Pred::Compare { op: *op, rhs }, *implied, false)
            }
            Relation::In { negated, items } => {
                if info.kind == FieldKind::Label {
                    return Err(bad_operator(lhs_column, info, "in"));
                }
                let mut members = Vec::with_capacity(items.len());
                for item in items {
                    members.push(match &item.high {
                        None => Member::One(self.rhs(&item.low, info)?),
                        Some(high) => {
                            let low = self.range_end(&item.low, info)?;
                            Member::Range(low, self.range_end(high, info)?)
                        }
                    });
                }
                (Pred::In(members), Quantifier::Any, *negated)
            }
            Relation::Contains(rhs) => {
                if !info.kind.is_bytes_like() {
                    return Err(bad_operator(lhs_column, info, "contains"));
                }
                // `eth.src contains 7e:e0`: a MAC address is searched as a byte string.
                let as_bytes = if info.kind == FieldKind::Ether {
                    &BYTES_VIEW_OF_ETHER
                } else {
                    info
                };
                let pred = match self.rhs(rhs, as_bytes)? {
                    Rhs::Field(f) => Pred::ContainsField(f),
                    Rhs::Literal(Literal::Bytes(needle)) => {
                        Pred::ContainsBytes(Box::new(Finder::new(&needle).into_owned()))
                    }
                    // Byte-like fields only take byte literals; nothing else reaches here.
                    Rhs::Literal(_) => {
                        return Err(bad_operator(lhs_column, info, "contains"));
                    }
                };
                (pred, Quantifier::Any, false)
            }
            Relation::Matches(rhs) => {
                if !info.kind.is_bytes_like() {
                    return Err(bad_operator(lhs_column, info, "matches"));
                }
                (Pred::Matches(self.regex(rhs)?), Quantifier::Any, false)
            }
        };
        let node = Node::Test {
            quantifier: t.quantifier.unwrap_or(implied),
            field,
            pred,
        };
        Ok(if negate {
            Node::Not(Box::new(node))
        } else {
            node
        })
    }

    /// The right-hand side: a field when the word names one, else a literal of `lhs`'s type.
    fn rhs(&mut self, op: &Operand<'_>, lhs: &'static FieldInfo) -> Result<Rhs, FilterError> {
        if let OperandKind::Word(w) = op.kind
            && let Some(info) = fields::lookup(w)
        {
            if info.origin == Origin::Engine {
                self.needs_annotations = true;
            }
            if !comparable(lhs.kind, info.kind) {
                return Err(FilterError::TypeMismatch {
                    column: self.column(op),
                    left: lhs.name,
                    left_kind: lhs.kind.name(),
                    right: info.name,
                    right_kind: info.kind.name(),
                });
            }
            return Ok(Rhs::Field(FieldRef {
                id: info.id,
                mask: None,
            }));
        }
        self.literal(op, lhs).map(Rhs::Literal)
    }

    fn range_end(
        &mut self,
        op: &Operand<'_>,
        lhs: &'static FieldInfo,
    ) -> Result<Literal, FilterError> {
        match self.rhs(op, lhs)? {
            Rhs::Literal(l) => Ok(l),
            Rhs::Field(_) => Err(FilterError::BadValue {
                column: self.column(op),
                literal: quoted(op),
                expected: "a value (a range cannot end at a field)",
                field: lhs.name,
            }),
        }
    }

    /// Converts a literal to the type of `field`.
    fn literal(&self, op: &Operand<'_>, field: &'static FieldInfo) -> Result<Literal, FilterError> {
        let column = self.column(op);
        let bad = || FilterError::BadValue {
            column,
            literal: quoted(op),
            expected: field.kind.name(),
            field: field.name,
        };
        match field.kind {
            FieldKind::UInt { bits } => self.int_literal(op, field, bits).map(Literal::Int),
            FieldKind::Bool => match &op.kind {
                OperandKind::Word("True" | "TRUE" | "true") => Ok(Literal::Bool(true)),
                OperandKind::Word("False" | "FALSE" | "false") => Ok(Literal::Bool(false)),
                // Wireshark: any non-zero number is true.
                _ => self
                    .int_literal(op, field, 64)
                    .map(|n| Literal::Bool(n != 0)),
            },
            FieldKind::Ipv4 => match &op.kind {
                OperandKind::Word(w) => {
                    let (addr, prefix) = split_prefix(w);
                    let addr: Ipv4Addr = addr.parse().map_err(|_| bad())?;
                    let bits = prefix_bits(prefix, 32).ok_or_else(bad)?;
                    let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
                    Ok(Literal::Ipv4 {
                        net: u32::from(addr),
                        mask,
                    })
                }
                _ => Err(bad()),
            },
            FieldKind::Ipv6 => match &op.kind {
                OperandKind::Word(w) => {
                    let (addr, prefix) = split_prefix(w);
                    let addr: Ipv6Addr = addr.parse().map_err(|_| bad())?;
                    let bits = prefix_bits(prefix, 128).ok_or_else(bad)?;
                    let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
                    Ok(Literal::Ipv6 {
                        net: u128::from(addr),
                        mask,
                    })
                }
                _ => Err(bad()),
            },
            FieldKind::Ether => match &op.kind {
                OperandKind::Word(w) => match hex_bytes(w) {
                    Some(b) if b.len() == 6 => Ok(Literal::Bytes(b.into())),
                    _ => Err(bad()),
                },
                _ => Err(bad()),
            },
            FieldKind::Bytes | FieldKind::Protocol => match &op.kind {
                OperandKind::Str(s) => Ok(Literal::Bytes(s.clone().into())),
                OperandKind::Char(c) => u8::try_from(*c)
                    .map(|b| Literal::Bytes(Box::new([b])))
                    .map_err(|_| bad()),
                OperandKind::Word(w) => hex_bytes(w)
                    .or_else(|| single_hex_byte(w))
                    .map(|b| Literal::Bytes(b.into()))
                    .ok_or_else(bad),
            },
            FieldKind::Text => match &op.kind {
                OperandKind::Str(s) => Ok(Literal::Bytes(s.clone().into())),
                // Unquoted text (`http.request.method == GET`) is accepted like Wireshark does.
                OperandKind::Word(w) => Ok(Literal::Bytes(w.as_bytes().into())),
                OperandKind::Char(c) => char::from_u32(*c)
                    .map(|ch| Literal::Bytes(ch.to_string().into_bytes().into()))
                    .ok_or_else(bad),
            },
            FieldKind::Time => match &op.kind {
                OperandKind::Word(w) => parse_seconds(w).map(Literal::Time).ok_or_else(bad),
                _ => Err(bad()),
            },
            FieldKind::Label => Err(bad()),
        }
    }

    /// An integer literal for a field of `bits` bits: decimal, `0x` hex, `0b` binary, leading-0
    /// octal, or a character constant; refused when above the field's maximum.
    fn int_literal(
        &self,
        op: &Operand<'_>,
        field: &'static FieldInfo,
        bits: u8,
    ) -> Result<i128, FilterError> {
        let column = self.column(op);
        let value = match &op.kind {
            OperandKind::Char(c) => Some(i128::from(*c)),
            OperandKind::Word(w) => parse_int(w),
            OperandKind::Str(_) => None,
        };
        let Some(value) = value else {
            return Err(FilterError::BadValue {
                column,
                literal: quoted(op),
                expected: field.kind.name(),
                field: field.name,
            });
        };
        let max = u64::MAX
            .checked_shr(64 - u32::from(bits))
            .unwrap_or(u64::MAX);
        if value > i128::from(max) {
            return Err(FilterError::TooBig {
                column,
                literal: match &op.kind {
                    OperandKind::Word(w) => (*w).to_string(),
                    _ => value.to_string(),
                },
                field: field.name,
                max,
            });
        }
        Ok(value)
    }

    /// A `matches` pattern: a double-quoted string, case-insensitive unless it says `(?-i)`.
    fn regex(&self, op: &Operand<'_>) -> Result<Regex, FilterError> {
        let column = self.column(op);
        let OperandKind::Str(bytes) = &op.kind else {
            return Err(FilterError::BadRegex {
                column,
                reason: "the pattern must be a double-quoted string".into(),
            });
        };
        let pattern = std::str::from_utf8(bytes).map_err(|_| FilterError::BadRegex {
            column,
            reason: "the pattern is not valid UTF-8".into(),
        })?;
        // Wireshark matches with PCRE2 caselessly over the field's bytes; Unicode mode is off
        // so that `.` matches any byte, as it does on non-UTF-8 payloads there.
        RegexBuilder::new(pattern)
            .case_insensitive(true)
            .unicode(false)
            .size_limit(REGEX_SIZE_LIMIT)
            .dfa_size_limit(REGEX_SIZE_LIMIT)
            .build()
            .map_err(|e| FilterError::BadRegex {
                column,
                reason: e
                    .to_string()
                    .lines()
                    .last()
                    .unwrap_or("")
                    .trim()
                    .to_string(),
            })
    }
}

fn bad_operator(column: usize, info: &FieldInfo, operator: &'static str) -> FilterError {
    FilterError::BadOperator {
        column,
        field: info.name,
        kind: info.kind.name(),
        operator,
    }
}

/// Two field types whose values can be compared with each other.
fn comparable(a: FieldKind, b: FieldKind) -> bool {
    match (a, b) {
        (FieldKind::UInt { .. }, FieldKind::UInt { .. }) => true,
        (FieldKind::Label, _) | (_, FieldKind::Label) => false,
        (a, b) if a.is_bytes_like() && b.is_bytes_like() => true,
        (a, b) => a == b,
    }
}

fn quoted(op: &Operand<'_>) -> String {
    match &op.kind {
        OperandKind::Word(w) => format!("\"{w}\""),
        OperandKind::Str(s) => format!("\"{}\"", String::from_utf8_lossy(s)),
        OperandKind::Char(c) => char::from_u32(*c).map_or_else(
            || format!("character {c}"),
            |ch| format!("'{}'", ch.escape_default()),
        ),
    }
}

/// `10.0.0.0/8` → (`10.0.0.0`, Some(`8`)).
fn split_prefix(w: &str) -> (&str, Option<&str>) {
    match w.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (w, None),
    }
}

/// The prefix length (full length when absent); `None` when not a number up to `max`.
fn prefix_bits(prefix: Option<&str>, max: u32) -> Option<u32> {
    match prefix {
        None => Some(max),
        Some(p) => p.parse::<u32>().ok().filter(|&n| n <= max),
    }
}

/// An integer in Wireshark's notations: `80`, `-1`, `0x50`, `0120` (octal), `0b1010000`.
fn parse_int(w: &str) -> Option<i128> {
    let (negative, digits) = match w.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, w),
    };
    let (radix, body) = if let Some(h) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        (16, h)
    } else if let Some(b) = digits
        .strip_prefix("0b")
        .or_else(|| digits.strip_prefix("0B"))
    {
        (2, b)
    } else if digits.len() > 1 && digits.starts_with('0') {
        (8, digits.get(1..).unwrap_or(""))
    } else {
        (10, digits)
    };
    if body.is_empty() || !body.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    // Too many digits for any field: saturate, so the caller reports "too big".
    let value = i128::from_str_radix(body, radix).unwrap_or(i128::MAX);
    Some(if negative { -value } else { value })
}

/// Bytes written as hex pairs separated by `:`, `-` or `.` (`aa:bb:cc`, `00-24-7e-e0-1d-b5`,
/// `00.13.7f`), at least two of them.
fn hex_bytes(w: &str) -> Option<Vec<u8>> {
    let parts: Vec<&str> = w.split([':', '-', '.']).collect();
    if parts.len() < 2 {
        return None;
    }
    parts
        .iter()
        .map(|p| {
            if (1..=2).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_hexdigit()) {
                u8::from_str_radix(p, 16).ok()
            } else {
                None
            }
        })
        .collect()
}

/// One byte written as two hex digits (`7a`) or a one-byte hex integer (`0xff`).
fn single_hex_byte(w: &str) -> Option<Vec<u8>> {
    let digits = w.strip_prefix("0x").unwrap_or(w);
    if (1..=2).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        u8::from_str_radix(digits, 16).ok().map(|b| vec![b])
    } else {
        None
    }
}

/// Seconds with an optional fraction (`1.5`, `-0.25`, `3`) as nanoseconds; digits past the
/// ninth decimal are dropped.
fn parse_seconds(w: &str) -> Option<i64> {
    let (negative, body) = match w.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, w),
    };
    let (whole, frac) = body.split_once('.').unwrap_or((body, ""));
    if (whole.is_empty() && frac.is_empty())
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let secs: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let mut nanos: i64 = 0;
    for (i, d) in frac.bytes().take(9).enumerate() {
        nanos += i64::from(d - b'0') * 10i64.pow(8 - i as u32);
    }
    let total = secs.checked_mul(1_000_000_000)?.checked_add(nanos)?;
    Some(if negative { -total } else { total })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_in_every_notation() {
        assert_eq!(parse_int("80"), Some(80));
        assert_eq!(parse_int("0x50"), Some(80));
        assert_eq!(parse_int("0120"), Some(80));
        assert_eq!(parse_int("0b1010000"), Some(80));
        assert_eq!(parse_int("-1"), Some(-1));
        assert_eq!(parse_int("0"), Some(0));
        assert_eq!(parse_int("08"), None);
        assert_eq!(parse_int("0x"), None);
        assert_eq!(parse_int("1.5"), None);
        assert_eq!(parse_int(&"9".repeat(60)), Some(i128::MAX));
        assert_eq!(parse_int(&format!("-{}", "9".repeat(60))), Some(-i128::MAX));
    }

    #[test]
    fn seconds_become_exact_nanoseconds() {
        assert_eq!(parse_seconds("1.5"), Some(1_500_000_000));
        assert_eq!(parse_seconds("0.06974"), Some(69_740_000));
        assert_eq!(parse_seconds("-0.25"), Some(-250_000_000));
        assert_eq!(parse_seconds("3"), Some(3_000_000_000));
        assert_eq!(parse_seconds(".5"), Some(500_000_000));
        assert_eq!(parse_seconds("0.1234567891"), Some(123_456_789));
        assert_eq!(parse_seconds("."), None);
        assert_eq!(parse_seconds("1.2.3"), None);
        assert_eq!(parse_seconds("99999999999999999999"), None);
    }

    #[test]
    fn byte_strings_take_three_separators() {
        assert_eq!(hex_bytes("aa:bb:cc"), Some(vec![0xaa, 0xbb, 0xcc]));
        assert_eq!(hex_bytes("00-24-7e"), Some(vec![0, 0x24, 0x7e]));
        assert_eq!(hex_bytes("00.13.7f"), Some(vec![0, 0x13, 0x7f]));
        assert_eq!(hex_bytes("aa"), None);
        assert_eq!(hex_bytes("aa:bbb"), None);
        assert_eq!(hex_bytes("aa::bb"), None);
        assert_eq!(single_hex_byte("7a"), Some(vec![0x7a]));
        assert_eq!(single_hex_byte("0xff"), Some(vec![0xff]));
        assert_eq!(single_hex_byte("0x100"), None);
    }

    #[test]
    fn found_token_is_quoted_or_end_of_filter() {
        assert_eq!(found_at("a b", 1), "\"b\"");
        assert_eq!(found_at("a", 1), "end of filter");
        assert_eq!(found_at("a ))", 1), "\"))\"");
    }
}
