//! Evaluating a compiled filter against one packet's fields. Values are pulled from the
//! [`FieldSource`] through callbacks on the stack; nothing is allocated.

use std::cmp::Ordering;

use super::FieldSource;
use super::compile::{FieldRef, Member, Node, Pred, Rhs};
use super::parse::{CmpOp, Quantifier};
use super::value::{Value, compare_literal, compare_values, contains};

/// True when `node` holds for the packet behind `src`.
pub(super) fn eval(node: &Node, src: &dyn FieldSource) -> bool {
    match node {
        Node::Or(v) => v.iter().any(|n| eval(n, src)),
        Node::And(v) => v.iter().all(|n| eval(n, src)),
        Node::Not(n) => !eval(n, src),
        Node::Exists(id) => {
            let mut present = false;
            src.visit(*id, &mut |_| present = true);
            present
        }
        Node::Test {
            quantifier,
            field,
            pred,
        } => quantified(*quantifier, *field, src, &mut |v| {
            holds(pred, *quantifier, v, src)
        }),
    }
}

/// Applies `test` to each occurrence of `field`: `Any` wants one pass, `All` wants at least one
/// occurrence and every one to pass (Wireshark's `any_*` / `all_*`).
fn quantified(
    quantifier: Quantifier,
    field: FieldRef,
    src: &dyn FieldSource,
    test: &mut dyn FnMut(&Value<'_>) -> bool,
) -> bool {
    let mut seen = false;
    let mut any = false;
    let mut all = true;
    src.visit(field.id, &mut |v| {
        let v = match (field.mask, v) {
            (None, v) => v,
            (Some(mask), Value::UInt(n)) => Value::UInt(n & mask),
            // A mask on a value that is not an integer: not an occurrence of this test.
            (Some(_), _) => return,
        };
        seen = true;
        let decided = match quantifier {
            Quantifier::Any => any,
            Quantifier::All => !all,
        };
        if decided {
            return;
        }
        let ok = test(&v);
        any |= ok;
        all &= ok;
    });
    match quantifier {
        Quantifier::Any => any,
        Quantifier::All => seen && all,
    }
}

fn holds(pred: &Pred, quantifier: Quantifier, v: &Value<'_>, src: &dyn FieldSource) -> bool {
    match pred {
        Pred::NonZero => matches!(v, Value::UInt(n) if *n != 0),
        Pred::Compare { op, rhs } => match rhs {
            Rhs::Literal(l) => compare_literal(v, l).is_some_and(|o| op_holds(*op, o)),
            // Field against field: the same quantifier over the right field's occurrences, so
            // `==` is true for any equal pair and `!=` only when no pair is equal.
            Rhs::Field(f) => quantified(quantifier, *f, src, &mut |w| {
                compare_values(v, w).is_some_and(|o| op_holds(*op, o))
            }),
        },
        Pred::In(members) => members.iter().any(|m| match m {
            Member::One(Rhs::Literal(l)) => compare_literal(v, l) == Some(Ordering::Equal),
            Member::One(Rhs::Field(f)) => quantified(Quantifier::Any, *f, src, &mut |w| {
                compare_values(v, w) == Some(Ordering::Equal)
            }),
            Member::Range(low, high) => {
                compare_literal(v, low).is_some_and(|o| o != Ordering::Less)
                    && compare_literal(v, high).is_some_and(|o| o != Ordering::Greater)
            }
        }),
        Pred::ContainsBytes(finder) => v
            .with_bytes(|hay| finder.find(hay).is_some())
            .unwrap_or(false),
        Pred::ContainsField(f) => quantified(Quantifier::Any, *f, src, &mut |w| {
            v.with_bytes(|hay| w.with_bytes(|needle| contains(hay, needle)))
                .flatten()
                .unwrap_or(false)
        }),
        Pred::Matches(re) => v.with_bytes(|b| re.is_match(b)).unwrap_or(false),
    }
}

fn op_holds(op: CmpOp, o: Ordering) -> bool {
    match op {
        CmpOp::Eq => o == Ordering::Equal,
        CmpOp::Ne => o != Ordering::Equal,
        CmpOp::Gt => o == Ordering::Greater,
        CmpOp::Lt => o == Ordering::Less,
        CmpOp::Ge => o != Ordering::Less,
        CmpOp::Le => o != Ordering::Greater,
    }
}
