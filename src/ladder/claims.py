"""Claims such as "logreg.test_accuracy < 0.75": parsed by a tiny grammar, never eval'ed.

    check := ref op (number | ref [("+" | "-" | "*") number])
    ref   := rung "." metric
    op    := "<" | "<=" | ">" | ">=" | "=="

"torch.test_accuracy >= sk.test_accuracy - 0.02" says "no more than 2 points worse";
"buggy.final_loss > fixed.final_loss * 10" says "more than ten times higher".
"""

from __future__ import annotations

import math
import operator
import re
from dataclasses import dataclass
from typing import Callable

OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq}
_CHECK = re.compile(r"^\s*(\S+)\s*(<=|>=|==|<|>)\s*(\S+?)(?:\s+([-+*])\s+(\S+))?\s*$")
_REF = re.compile(r"^(?P<rung>\S+)\.(?P<metric>[A-Za-z_][A-Za-z0-9_]*)$")


@dataclass(frozen=True)
class Ref:
    rung: str
    metric: str

    def __str__(self):
        return f"{self.rung}.{self.metric}"


@dataclass(frozen=True)
class Check:
    left: Ref
    op: str
    right: Ref | float
    arithmetic: str = "+"  # how `amount` is applied to a right-hand Ref
    amount: float = 0.0

    def refs(self) -> list[Ref]:
        return [self.left] + ([self.right] if isinstance(self.right, Ref) else [])


def _ref(text: str, check: str) -> Ref:
    match = _REF.match(text)
    if not match:
        raise ValueError(f"{text!r} in {check!r} is not <rung>.<metric>")
    return Ref(match["rung"], match["metric"])


def parse(check: str) -> Check:
    """Parse "<rung>.<metric> <op> <number | rung.metric>"; ValueError says what is wrong."""
    match = _CHECK.match(check)
    if not match:
        raise ValueError(f"cannot read claim check {check!r}: write '<rung>.<metric> <op> <number "
                         f"or rung.metric>' with op one of {' '.join(OPS)}")
    left, op, right, sign, amount = match.groups()
    if sign is not None:
        return Check(_ref(left, check), op, _ref(right, check), sign, _number(amount, check))
    try:
        value: Ref | float = _number(right, check)
    except ValueError:
        value = _ref(right, check)
    return Check(_ref(left, check), op, value)


def _number(text: str, check: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text!r} in {check!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{text!r} in {check!r} is not a finite number")
    return value


def sides(check: Check, lookup: Callable[[Ref], float]) -> tuple[float, float]:
    """The values of the left side and of the right side (its arithmetic done)."""
    left = lookup(check.left)
    right = check.right
    if isinstance(right, Ref):
        base = lookup(right)
        right = {"+": base + check.amount, "-": base - check.amount, "*": base * check.amount}[check.arithmetic]
    return left, right


def evaluate(check: Check, lookup: Callable[[Ref], float]) -> tuple[bool, float]:
    """Whether the check holds, and the value of its left side."""
    left, right = sides(check, lookup)
    return bool(OPS[check.op](left, right)), left


def margin(op: str, left: float, right: float) -> float:
    """How far the claim is from flipping: positive when it holds, negative when it fails.

    For ">" and ">=" that is left − right, for "<" and "<=" right − left; an "==" claim that holds
    has margin 0, one that fails −|left − right|.
    """
    if op in (">", ">="):
        return left - right
    if op in ("<", "<="):
        return right - left
    return -abs(left - right)
