//! The display-filter grammar (nom 8 over `&str`): text → syntax tree. Names are not resolved
//! and literals are not typed here; [`super::compile`] does that, because the meaning of an
//! unquoted literal (`10.0.0.0/8`, `aa:bb`, `0x50`, `GET`) depends on the field it is compared
//! with.
//!
//! Precedence, lowest first (wireshark-filter(4)): `||`/`or`, `&&`/`and`, `!`/`not`, then a test
//! (`field`, `field OP value`, `field in {…}`, `field contains value`, `field matches "re"`).
//! `and`/`or` chains are kept flat (a list, not a deep tree) so a long filter cannot exhaust the
//! stack; parentheses and `not` are limited to [`MAX_DEPTH`] levels.

use nom::branch::alt;
use nom::bytes::complete::tag;
use nom::{IResult, Parser};

/// Deepest nesting of parentheses and `not` accepted.
pub(super) const MAX_DEPTH: usize = 64;

/// What went wrong, and how many bytes of the filter were left where it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct GrammarError {
    /// Bytes of input left at the failure point (offset = whole − remaining).
    pub remaining: usize,
    /// What was expected, or what is wrong with a string literal.
    pub expected: &'static str,
    /// The family of the failure.
    pub kind: GrammarErrorKind,
}

/// Families of grammar failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum GrammarErrorKind {
    /// A token the grammar does not allow there.
    Syntax,
    /// A string or character literal that is not closed or has a bad escape.
    BadString,
    /// Nesting deeper than [`MAX_DEPTH`].
    TooDeep,
}

impl GrammarError {
    fn syntax(rest: &str, expected: &'static str) -> Self {
        GrammarError {
            remaining: rest.len(),
            expected,
            kind: GrammarErrorKind::Syntax,
        }
    }

    fn string(rest: &str, reason: &'static str) -> Self {
        GrammarError {
            remaining: rest.len(),
            expected: reason,
            kind: GrammarErrorKind::BadString,
        }
    }
}

impl nom::error::ParseError<&str> for GrammarError {
    fn from_error_kind(input: &str, _kind: nom::error::ErrorKind) -> Self {
        GrammarError::syntax(input, "a valid filter")
    }

    fn append(_input: &str, _kind: nom::error::ErrorKind, other: Self) -> Self {
        other
    }
}

type Res<'s, O> = IResult<&'s str, O, GrammarError>;

/// A boolean expression.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Expr<'s> {
    /// True when any member is (two or more members).
    Or(Vec<Expr<'s>>),
    /// True when every member is (two or more members).
    And(Vec<Expr<'s>>),
    /// Negation.
    Not(Box<Expr<'s>>),
    /// A field test.
    Test(Test<'s>),
}

/// `[any|all] FIELD [& MASK] [RELATION]`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Test<'s> {
    /// An explicit `any` / `all` in front of the field.
    pub quantifier: Option<Quantifier>,
    /// The field (checked by the compiler: a literal here is an error).
    pub lhs: Operand<'s>,
    /// `& MASK`: test or compare the field's bits under a mask.
    pub mask: Option<Operand<'s>>,
    /// The comparison; `None` tests presence (or a non-zero masked value).
    pub relation: Option<Relation<'s>>,
}

/// `any` or `all`: which occurrences of a multi-occurrence field must satisfy a test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Quantifier {
    /// At least one occurrence.
    Any,
    /// Every occurrence (and there is at least one).
    All,
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CmpOp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `>`
    Gt,
    /// `<`
    Lt,
    /// `>=`
    Ge,
    /// `<=`
    Le,
}

impl CmpOp {
    /// The operator's symbol, for messages.
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Gt => ">",
            CmpOp::Lt => "<",
            CmpOp::Ge => ">=",
            CmpOp::Le => "<=",
        }
    }
}

/// What follows the field.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Relation<'s> {
    /// `OP value`, with the quantifier the operator implies (`==` any, `!=` all, `===` all,
    /// `!==` any, orderings any).
    Compare {
        /// The operator.
        op: CmpOp,
        /// The quantifier the operator implies when none is written.
        implied: Quantifier,
        /// The right-hand side.
        rhs: Operand<'s>,
    },
    /// `in {…}` or `not in {…}`.
    In {
        /// `not in`.
        negated: bool,
        /// The members.
        items: Vec<SetItem<'s>>,
    },
    /// `contains value`.
    Contains(Operand<'s>),
    /// `matches "regex"` / `~ "regex"`.
    Matches(Operand<'s>),
}

/// A set member: a value, or an inclusive range `low..high`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct SetItem<'s> {
    /// The value, or the low end of the range.
    pub low: Operand<'s>,
    /// The high end of a range.
    pub high: Option<Operand<'s>>,
}

/// A field name or a literal, with where it started.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Operand<'s> {
    /// Bytes of the filter left at the operand's first character.
    pub remaining: usize,
    /// What was written.
    pub kind: OperandKind<'s>,
}

/// The forms an operand can take.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum OperandKind<'s> {
    /// An unquoted word: a field name or a literal such as `80`, `10.0.0.0/8`, `aa:bb`.
    Word(&'s str),
    /// A double-quoted string, escapes already applied.
    Str(Vec<u8>),
    /// A character constant such as `'A'` or `'\n'`.
    Char(u32),
}

/// Parses a whole filter.
pub(super) fn parse_filter(text: &str) -> Result<Expr<'_>, GrammarError> {
    let result = parse_or(text, 0).and_then(|(rest, expr)| {
        let rest = rest.trim_start();
        if rest.is_empty() {
            Ok(expr)
        } else {
            Err(nom::Err::Failure(GrammarError::syntax(
                rest,
                "\"&&\", \"||\" or the end of the filter",
            )))
        }
    });
    result.map_err(|e| match e {
        nom::Err::Error(e) | nom::Err::Failure(e) => e,
        // Only complete parsers are used; treat the impossible case as a syntax error.
        nom::Err::Incomplete(_) => GrammarError::syntax("", "a complete filter"),
    })
}

/// Turns a recoverable error into a committed one (after an operator, the operand must follow).
fn commit<T>(r: Res<'_, T>) -> Res<'_, T> {
    r.map_err(|e| match e {
        nom::Err::Error(e) => nom::Err::Failure(e),
        other => other,
    })
}

fn fail<'s, T>(rest: &'s str, expected: &'static str) -> Res<'s, T> {
    Err(nom::Err::Failure(GrammarError::syntax(rest, expected)))
}

fn parse_or(input: &str, depth: usize) -> Res<'_, Expr<'_>> {
    let (mut input, first) = parse_and(input, depth)?;
    let mut terms = vec![first];
    while let Ok((rest, _)) = or_op(input.trim_start()) {
        let (rest, term) = commit(parse_and(rest, depth))?;
        terms.push(term);
        input = rest;
    }
    Ok((input, flatten(terms, Expr::Or)))
}

fn parse_and(input: &str, depth: usize) -> Res<'_, Expr<'_>> {
    let (mut input, first) = parse_not(input, depth)?;
    let mut terms = vec![first];
    while let Ok((rest, _)) = and_op(input.trim_start()) {
        let (rest, term) = commit(parse_not(rest, depth))?;
        terms.push(term);
        input = rest;
    }
    Ok((input, flatten(terms, Expr::And)))
}

fn flatten<'s>(mut terms: Vec<Expr<'s>>, make: fn(Vec<Expr<'s>>) -> Expr<'s>) -> Expr<'s> {
    match terms.pop() {
        Some(only) if terms.is_empty() => only,
        Some(last) => {
            terms.push(last);
            make(terms)
        }
        None => make(terms),
    }
}

fn parse_not(input: &str, depth: usize) -> Res<'_, Expr<'_>> {
    let input = input.trim_start();
    if let Ok((rest, _)) = not_op(input) {
        if depth >= MAX_DEPTH {
            return Err(nom::Err::Failure(GrammarError {
                remaining: input.len(),
                expected: "",
                kind: GrammarErrorKind::TooDeep,
            }));
        }
        let (rest, inner) = commit(parse_not(rest, depth + 1))?;
        return Ok((rest, Expr::Not(Box::new(inner))));
    }
    parse_primary(input, depth)
}

fn parse_primary(input: &str, depth: usize) -> Res<'_, Expr<'_>> {
    if let Some(rest) = input.strip_prefix('(') {
        if depth >= MAX_DEPTH {
            return Err(nom::Err::Failure(GrammarError {
                remaining: input.len(),
                expected: "",
                kind: GrammarErrorKind::TooDeep,
            }));
        }
        let (rest, expr) = commit(parse_or(rest, depth + 1))?;
        let rest = rest.trim_start();
        return match rest.strip_prefix(')') {
            Some(after) => Ok((after, expr)),
            None => fail(rest, "\")\""),
        };
    }
    parse_test(input).map(|(rest, test)| (rest, Expr::Test(test)))
}

fn parse_test(input: &str) -> Res<'_, Test<'_>> {
    let (input, quantifier) = match alt((keyword("any"), keyword("all"))).parse(input) {
        Ok((rest, word)) => (
            rest.trim_start(),
            Some(if word == "any" {
                Quantifier::Any
            } else {
                Quantifier::All
            }),
        ),
        Err(_) => (input, None),
    };
    let (input, lhs) = match operand(input) {
        Ok(ok) => ok,
        Err(nom::Err::Error(_)) => return fail(input, "a field or protocol name"),
        Err(e) => return Err(e),
    };
    let (input, mask) = match bitand_op(input.trim_start()) {
        Ok((rest, _)) => {
            let (rest, mask) = commit(value(rest.trim_start()))?;
            (rest, Some(mask))
        }
        Err(_) => (input, None),
    };
    let (input, relation) = match relation(input.trim_start()) {
        Ok((rest, rel)) => (rest, Some(rel)),
        Err(nom::Err::Error(_)) => (input, None),
        Err(e) => return Err(e),
    };
    Ok((
        input,
        Test {
            quantifier,
            lhs,
            mask,
            relation,
        },
    ))
}

fn relation(input: &str) -> Res<'_, Relation<'_>> {
    if let Ok((rest, (op, implied))) = cmp_op(input) {
        let (rest, rhs) = commit(value(rest.trim_start()))?;
        return Ok((rest, Relation::Compare { op, implied, rhs }));
    }
    if let Ok((rest, _)) = keyword("in")(input) {
        let (rest, items) = commit(set(rest.trim_start()))?;
        return Ok((
            rest,
            Relation::In {
                negated: false,
                items,
            },
        ));
    }
    if let Ok((rest, _)) = keyword("not")(input)
        && let Ok((rest, _)) = keyword("in")(rest.trim_start())
    {
        let (rest, items) = commit(set(rest.trim_start()))?;
        return Ok((
            rest,
            Relation::In {
                negated: true,
                items,
            },
        ));
    }
    if let Ok((rest, _)) = keyword("contains")(input) {
        let (rest, v) = commit(value(rest.trim_start()))?;
        return Ok((rest, Relation::Contains(v)));
    }
    if let Ok((rest, _)) = alt((keyword("matches"), tag("~"))).parse(input) {
        let (rest, v) = commit(value(rest.trim_start()))?;
        return Ok((rest, Relation::Matches(v)));
    }
    Err(nom::Err::Error(GrammarError::syntax(input, "an operator")))
}

/// `{a, b, c..d}`; members may also be separated by white space only (Wireshark before 4.0).
fn set(input: &str) -> Res<'_, Vec<SetItem<'_>>> {
    let Some(mut input) = input.strip_prefix('{') else {
        return fail(input, "\"{\"");
    };
    let mut items = Vec::new();
    let mut after_comma = false;
    loop {
        let here = input.trim_start();
        if !after_comma
            && !items.is_empty()
            && let Some(rest) = here.strip_prefix('}')
        {
            return Ok((rest, items));
        }
        let (rest, low) = match value(here) {
            Ok(ok) => ok,
            Err(nom::Err::Error(_)) => {
                let expected = if items.is_empty() || after_comma {
                    "a value"
                } else {
                    "\",\", a value or \"}\""
                };
                return fail(here, expected);
            }
            Err(e) => return Err(e),
        };
        let (rest, high) = match tag::<_, _, GrammarError>("..").parse(rest.trim_start()) {
            Ok((rest, _)) => {
                let (rest, high) = commit(value(rest.trim_start()))?;
                (rest, Some(high))
            }
            Err(_) => (rest, None),
        };
        items.push(SetItem { low, high });
        let rest = rest.trim_start();
        match rest.strip_prefix(',') {
            Some(after) => {
                after_comma = true;
                input = after;
            }
            None => {
                after_comma = false;
                input = rest;
            }
        }
    }
}

/// An operand on the right of an operator, or in a set.
fn value(input: &str) -> Res<'_, Operand<'_>> {
    match operand(input) {
        Err(nom::Err::Error(_)) => Err(nom::Err::Error(GrammarError::syntax(
            input,
            "a value or field name",
        ))),
        other => other,
    }
}

/// A word, a string or a character constant.
fn operand(input: &str) -> Res<'_, Operand<'_>> {
    let remaining = input.len();
    if input.starts_with('"') || input.starts_with("r\"") {
        let (rest, bytes) = string_literal(input)?;
        return Ok((
            rest,
            Operand {
                remaining,
                kind: OperandKind::Str(bytes),
            },
        ));
    }
    if input.starts_with('\'') {
        let (rest, c) = char_literal(input)?;
        return Ok((
            rest,
            Operand {
                remaining,
                kind: OperandKind::Char(c),
            },
        ));
    }
    let (rest, w) = word(input)?;
    Ok((
        rest,
        Operand {
            remaining,
            kind: OperandKind::Word(w),
        },
    ))
}

/// Characters of an unquoted word: field names, numbers, addresses, byte strings, subnets.
fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-' | '/')
}

/// An unquoted word. It stops before `..` so that `1..10` is a range.
fn word(input: &str) -> Res<'_, &str> {
    let mut end = 0;
    let mut chars = input.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if !is_word_char(c) {
            break;
        }
        if c == '.' && chars.peek().is_some_and(|&(_, n)| n == '.') {
            break;
        }
        end = i + c.len_utf8();
    }
    if end == 0 {
        return Err(nom::Err::Error(GrammarError::syntax(input, "a word")));
    }
    Ok((
        input.get(end..).unwrap_or(""),
        input.get(..end).unwrap_or(""),
    ))
}

/// A keyword: the exact word, not followed by another word character.
fn keyword<'s>(kw: &'static str) -> impl Fn(&'s str) -> Res<'s, &'s str> {
    move |input: &'s str| match input.strip_prefix(kw) {
        Some(rest) if !rest.starts_with(is_word_char) => Ok((rest, kw)),
        _ => Err(nom::Err::Error(GrammarError::syntax(input, kw))),
    }
}

fn or_op(input: &str) -> Res<'_, &str> {
    alt((tag("||"), keyword("or"))).parse(input)
}

fn and_op(input: &str) -> Res<'_, &str> {
    alt((tag("&&"), keyword("and"))).parse(input)
}

fn not_op(input: &str) -> Res<'_, &str> {
    if input.starts_with("!=") {
        return Err(nom::Err::Error(GrammarError::syntax(input, "\"!\"")));
    }
    alt((tag("!"), keyword("not"))).parse(input)
}

fn bitand_op(input: &str) -> Res<'_, &str> {
    if input.starts_with("&&") {
        return Err(nom::Err::Error(GrammarError::syntax(input, "\"&\"")));
    }
    alt((tag("&"), keyword("bitwise_and"))).parse(input)
}

fn cmp_op(input: &str) -> Res<'_, (CmpOp, Quantifier)> {
    use CmpOp::*;
    use Quantifier::*;
    // Longest symbols first: `===` before `==`, `!==` before `!=`, `>=` before `>`.
    const OPS: &[(&str, CmpOp, Quantifier)] = &[
        ("===", Eq, All),
        ("!==", Ne, Any),
        ("==", Eq, Any),
        ("!=", Ne, All),
        (">=", Ge, Any),
        ("<=", Le, Any),
        (">", Gt, Any),
        ("<", Lt, Any),
    ];
    const WORDS: &[(&str, CmpOp, Quantifier)] = &[
        ("eq", Eq, Any),
        ("any_eq", Eq, Any),
        ("ne", Ne, All),
        ("all_ne", Ne, All),
        ("all_eq", Eq, All),
        ("any_ne", Ne, Any),
        ("gt", Gt, Any),
        ("lt", Lt, Any),
        ("ge", Ge, Any),
        ("le", Le, Any),
    ];
    for (sym, op, q) in OPS {
        if let Some(rest) = input.strip_prefix(sym) {
            return Ok((rest, (*op, *q)));
        }
    }
    for (w, op, q) in WORDS {
        if let Ok((rest, _)) = keyword(w)(input) {
            return Ok((rest, (*op, *q)));
        }
    }
    Err(nom::Err::Error(GrammarError::syntax(
        input,
        "a comparison operator",
    )))
}

/// A double-quoted string (`"a\x41\n"`) or a raw string (`r"C:\dir"`), as bytes.
///
/// Escapes follow wireshark-filter(4): `\' \" \\ \a \b \f \n \r \t \v`, `\NNN` octal, `\xNN`
/// hex, `\uNNNN` and `\UNNNNNNNN` code points (written as UTF-8). In a raw string a backslash
/// is kept as is; `\"` still does not end the string and keeps its backslash.
fn string_literal(input: &str) -> Res<'_, Vec<u8>> {
    let (raw, body) = match input.strip_prefix("r\"") {
        Some(body) => (true, body),
        None => (false, input.get(1..).unwrap_or("")),
    };
    let mut out = Vec::new();
    let mut rest = body;
    loop {
        let mut chars = rest.chars();
        let Some(c) = chars.next() else {
            return Err(nom::Err::Failure(GrammarError::string(
                input,
                "unterminated string",
            )));
        };
        match c {
            '"' => return Ok((chars.as_str(), out)),
            '\\' if raw => {
                out.push(b'\\');
                if chars.as_str().starts_with('"') {
                    out.push(b'"');
                    rest = chars.as_str().get(1..).unwrap_or("");
                } else {
                    rest = chars.as_str();
                }
            }
            '\\' => {
                let (after, bytes) = escape(rest)?;
                out.extend_from_slice(bytes.as_slice());
                rest = after;
            }
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                rest = chars.as_str();
            }
        }
    }
}

/// Bytes produced by one escape sequence (at most 4: a UTF-8 code point).
struct Escaped {
    buf: [u8; 4],
    len: usize,
}

impl Escaped {
    fn byte(b: u8) -> Self {
        Escaped {
            buf: [b, 0, 0, 0],
            len: 1,
        }
    }

    fn char(c: char) -> Self {
        let mut buf = [0u8; 4];
        let len = c.encode_utf8(&mut buf).len();
        Escaped { buf, len }
    }

    fn as_slice(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }
}

/// One escape sequence; `input` starts at the backslash.
fn escape(input: &str) -> Res<'_, Escaped> {
    let bad = |reason| nom::Err::Failure(GrammarError::string(input, reason));
    let body = input.get(1..).unwrap_or("");
    let mut chars = body.chars();
    let Some(c) = chars.next() else {
        return Err(bad("unterminated string"));
    };
    let after = chars.as_str();
    let simple = match c {
        '\'' => Some(b'\''),
        '"' => Some(b'"'),
        '\\' => Some(b'\\'),
        'a' => Some(0x07),
        'b' => Some(0x08),
        'f' => Some(0x0c),
        'n' => Some(b'\n'),
        'r' => Some(b'\r'),
        't' => Some(b'\t'),
        'v' => Some(0x0b),
        _ => None,
    };
    if let Some(b) = simple {
        return Ok((after, Escaped::byte(b)));
    }
    match c {
        '0'..='7' => {
            let digits = body
                .bytes()
                .take(3)
                .take_while(|b| (b'0'..=b'7').contains(b))
                .count();
            let text = body.get(..digits).unwrap_or("");
            let value = u32::from_str_radix(text, 8).map_err(|_| bad("bad octal escape"))?;
            let byte = u8::try_from(value).map_err(|_| bad("octal escape above \\377"))?;
            Ok((body.get(digits..).unwrap_or(""), Escaped::byte(byte)))
        }
        'x' => {
            let digits = after
                .bytes()
                .take(2)
                .take_while(u8::is_ascii_hexdigit)
                .count();
            if digits == 0 {
                return Err(bad("\\x needs a hexadecimal digit"));
            }
            let text = after.get(..digits).unwrap_or("");
            let byte = u8::from_str_radix(text, 16).map_err(|_| bad("bad hex escape"))?;
            Ok((after.get(digits..).unwrap_or(""), Escaped::byte(byte)))
        }
        'u' | 'U' => {
            let want = if c == 'u' { 4 } else { 8 };
            let text = after.get(..want).unwrap_or("");
            if text.len() != want || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(bad(if c == 'u' {
                    "\\u needs 4 hexadecimal digits"
                } else {
                    "\\U needs 8 hexadecimal digits"
                }));
            }
            let code = u32::from_str_radix(text, 16).map_err(|_| bad("bad unicode escape"))?;
            let ch = char::from_u32(code).ok_or_else(|| bad("not a unicode code point"))?;
            Ok((after.get(want..).unwrap_or(""), Escaped::char(ch)))
        }
        _ => Err(bad("unknown escape sequence")),
    }
}

/// A C-style character constant: `'A'`, `'\n'`, `'\x0a'`, `'\012'`.
fn char_literal(input: &str) -> Res<'_, u32> {
    let bad = |reason| nom::Err::Failure(GrammarError::string(input, reason));
    let body = input.get(1..).unwrap_or("");
    let (rest, value) = if body.starts_with('\\') {
        let (rest, e) = escape(body)?;
        let value = match e.as_slice() {
            [b] => u32::from(*b),
            other => std::str::from_utf8(other)
                .ok()
                .and_then(|s| s.chars().next())
                .map_or(0, u32::from),
        };
        (rest, value)
    } else {
        let mut chars = body.chars();
        match chars.next() {
            Some('\'') | None => return Err(bad("empty character constant")),
            Some(c) => (chars.as_str(), u32::from(c)),
        }
    };
    match rest.strip_prefix('\'') {
        Some(after) => Ok((after, value)),
        None => Err(bad("character constant not closed by '")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word_op(w: &str) -> Operand<'_> {
        Operand {
            remaining: 0,
            kind: OperandKind::Word(w),
        }
    }

    /// The tree with positions cleared, for comparing shapes.
    fn shape(text: &str) -> Expr<'_> {
        fn clear(e: &mut Expr<'_>) {
            match e {
                Expr::Or(v) | Expr::And(v) => v.iter_mut().for_each(clear),
                Expr::Not(inner) => clear(inner),
                Expr::Test(t) => {
                    t.lhs.remaining = 0;
                    if let Some(m) = &mut t.mask {
                        m.remaining = 0;
                    }
                    match &mut t.relation {
                        Some(Relation::Compare { rhs, .. }) => rhs.remaining = 0,
                        Some(Relation::Contains(v)) | Some(Relation::Matches(v)) => v.remaining = 0,
                        Some(Relation::In { items, .. }) => {
                            for i in items {
                                i.low.remaining = 0;
                                if let Some(h) = &mut i.high {
                                    h.remaining = 0;
                                }
                            }
                        }
                        None => {}
                    }
                }
            }
        }
        let mut e = parse_filter(text).unwrap_or_else(|e| panic!("{text}: {e:?}"));
        clear(&mut e);
        e
    }

    fn exists(name: &str) -> Expr<'_> {
        Expr::Test(Test {
            quantifier: None,
            lhs: word_op(name),
            mask: None,
            relation: None,
        })
    }

    fn cmp<'s>(name: &'s str, op: CmpOp, implied: Quantifier, v: &'s str) -> Expr<'s> {
        Expr::Test(Test {
            quantifier: None,
            lhs: word_op(name),
            mask: None,
            relation: Some(Relation::Compare {
                op,
                implied,
                rhs: word_op(v),
            }),
        })
    }

    fn err(text: &str) -> (usize, &'static str, GrammarErrorKind) {
        let e = parse_filter(text).expect_err(text);
        (text.len() - e.remaining, e.expected, e.kind)
    }

    #[test]
    fn not_binds_tighter_than_and_which_binds_tighter_than_or() {
        assert_eq!(
            shape("!a && b || c"),
            Expr::Or(vec![
                Expr::And(vec![Expr::Not(Box::new(exists("a"))), exists("b")]),
                exists("c"),
            ])
        );
        assert_eq!(
            shape("a or b and not c"),
            Expr::Or(vec![
                exists("a"),
                Expr::And(vec![exists("b"), Expr::Not(Box::new(exists("c")))]),
            ])
        );
        assert_eq!(
            shape("(a || b) && c"),
            Expr::And(vec![Expr::Or(vec![exists("a"), exists("b")]), exists("c")])
        );
        assert_eq!(
            shape("not not a"),
            Expr::Not(Box::new(Expr::Not(Box::new(exists("a")))))
        );
    }

    #[test]
    fn chains_stay_flat() {
        let text = vec!["a"; 10_000].join(" && ");
        match parse_filter(&text) {
            Ok(Expr::And(v)) => assert_eq!(v.len(), 10_000),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_comparison_operator_in_both_spellings() {
        use CmpOp::*;
        use Quantifier::*;
        for (text, op, q) in [
            ("f == 1", Eq, Any),
            ("f eq 1", Eq, Any),
            ("f any_eq 1", Eq, Any),
            ("f != 1", Ne, All),
            ("f ne 1", Ne, All),
            ("f all_ne 1", Ne, All),
            ("f === 1", Eq, All),
            ("f all_eq 1", Eq, All),
            ("f !== 1", Ne, Any),
            ("f any_ne 1", Ne, Any),
            ("f > 1", Gt, Any),
            ("f gt 1", Gt, Any),
            ("f < 1", Lt, Any),
            ("f lt 1", Lt, Any),
            ("f >= 1", Ge, Any),
            ("f ge 1", Ge, Any),
            ("f <= 1", Le, Any),
            ("f le 1", Le, Any),
            ("f==1", Eq, Any),
            ("f!=1", Ne, All),
        ] {
            assert_eq!(shape(text), cmp("f", op, q, "1"), "{text}");
        }
    }

    #[test]
    fn quantifiers_masks_sets_and_string_operators() {
        match shape("all tcp.port > 1024") {
            Expr::Test(t) => assert_eq!(t.quantifier, Some(Quantifier::All)),
            other => panic!("{other:?}"),
        }
        match shape("tcp.flags & 0x12 == 0x10") {
            Expr::Test(t) => {
                assert_eq!(t.mask, Some(word_op("0x12")));
                assert!(matches!(t.relation, Some(Relation::Compare { .. })));
            }
            other => panic!("{other:?}"),
        }
        match shape("tcp.port in {80, 443 8000..8010}") {
            Expr::Test(Test {
                relation: Some(Relation::In { negated, items }),
                ..
            }) => {
                assert!(!negated);
                assert_eq!(items.len(), 3);
                assert_eq!(items[2].low, word_op("8000"));
                assert_eq!(items[2].high, Some(word_op("8010")));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            shape("udp.port not in {53}"),
            Expr::Test(Test {
                relation: Some(Relation::In { negated: true, .. }),
                ..
            })
        ));
        assert!(matches!(
            shape("ip.addr in {10.0.0.5 .. 10.0.0.9}"),
            Expr::Test(Test {
                relation: Some(Relation::In { .. }),
                ..
            })
        ));
        assert!(matches!(
            shape("frame contains 47:45:54"),
            Expr::Test(Test {
                relation: Some(Relation::Contains(_)),
                ..
            })
        ));
        assert!(matches!(
            shape("http.host ~ \"x\""),
            Expr::Test(Test {
                relation: Some(Relation::Matches(_)),
                ..
            })
        ));
        assert!(matches!(
            shape("http.host matches \"x\""),
            Expr::Test(Test {
                relation: Some(Relation::Matches(_)),
                ..
            })
        ));
    }

    #[test]
    fn strings_and_character_constants_follow_wireshark_escapes() {
        fn rhs(text: &str) -> OperandKind<'_> {
            match shape(text) {
                Expr::Test(Test {
                    relation: Some(Relation::Compare { rhs, .. }),
                    ..
                }) => rhs.kind,
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(
            rhs(r#"f == "a\"b\\c\x41\101\n\t\u00e9""#),
            OperandKind::Str(b"a\"b\\cAA\n\t\xc3\xa9".to_vec())
        );
        assert_eq!(
            rhs(r#"f == r"C:\dir\"x""#),
            OperandKind::Str(br#"C:\dir\"x"#.to_vec())
        );
        assert_eq!(rhs("f == 'A'"), OperandKind::Char(65));
        assert_eq!(rhs(r"f == '\n'"), OperandKind::Char(10));
        assert_eq!(rhs(r"f == '\x0a'"), OperandKind::Char(10));
        assert_eq!(rhs(r"f == '\012'"), OperandKind::Char(10));
        assert_eq!(rhs("f == \"\""), OperandKind::Str(Vec::new()));
    }

    #[test]
    fn errors_point_at_the_bad_token() {
        assert_eq!(err("").0, 0);
        assert_eq!(err("tcp.port == ").0, 12);
        assert_eq!(err("tcp.port == 80 &&").0, 17);
        assert_eq!(err("tcp.port == 80 and").0, 18);
        assert_eq!(err("tcp.port 80").0, 9);
        assert_eq!(err("(tcp").0, 4);
        assert_eq!(err("(tcp").1, "\")\"");
        assert_eq!(err("tcp)").0, 3);
        assert_eq!(err("tcp.port in {80,}").0, 16);
        assert_eq!(err("tcp.port in {}").0, 13);
        assert_eq!(err("tcp.port in 80").0, 12);
        assert_eq!(err("== 80").0, 0);
        assert_eq!(
            err("f == \"abc"),
            (5, "unterminated string", GrammarErrorKind::BadString)
        );
        assert_eq!(
            err(r#"f == "a\qb""#),
            (7, "unknown escape sequence", GrammarErrorKind::BadString)
        );
        assert_eq!(
            err(r#"f == "\400""#),
            (6, "octal escape above \\377", GrammarErrorKind::BadString)
        );
        assert_eq!(err("f == ''").2, GrammarErrorKind::BadString);
        assert_eq!(err("f == 'ab'").2, GrammarErrorKind::BadString);
        assert_eq!(err("tcp.port == 80 AND tcp").0, 15);
    }

    #[test]
    fn nesting_is_limited_without_overflowing_the_stack() {
        let deep = format!("{}a{}", "(".repeat(1000), ")".repeat(1000));
        assert_eq!(err(&deep).2, GrammarErrorKind::TooDeep);
        let nots = format!("{}a", "!".repeat(1000));
        assert_eq!(err(&nots).2, GrammarErrorKind::TooDeep);
        let ok = format!("{}a{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert!(parse_filter(&ok).is_ok());
    }

    #[test]
    fn words_stop_before_a_range() {
        assert_eq!(word("1..10"), Ok(("..10", "1")));
        assert_eq!(word("10.0.0.5..10.0.0.9"), Ok(("..10.0.0.9", "10.0.0.5")));
        assert_eq!(word("fe80::1/10 x"), Ok((" x", "fe80::1/10")));
    }
}
