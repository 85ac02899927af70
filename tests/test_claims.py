"""Claims are read by a tiny grammar and compared with operators: never eval'ed."""

import builtins
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ladder.claims import OPS, Check, Ref, evaluate, parse

METRICS = {
    Ref("logreg", "test_accuracy"): 0.49,
    Ref("logreg-torch", "test_accuracy"): 0.488,
    Ref("logreg+poly2", "test_accuracy"): 0.992,
    Ref("mlp", "n_params"): 4417.0,
}


def holds(check: str) -> bool:
    return evaluate(parse(check), METRICS.__getitem__)[0]


@pytest.mark.parametrize("op", ["<", "<=", ">", ">=", "=="])
def test_every_operator_is_read(op):
    check = parse(f"logreg.test_accuracy {op} 0.65")
    assert check == Check(Ref("logreg", "test_accuracy"), op, 0.65)


@pytest.mark.parametrize("text, expected", [
    ("logreg.test_accuracy < 0.65", Check(Ref("logreg", "test_accuracy"), "<", 0.65)),
    ("logreg.test_accuracy<0.65", Check(Ref("logreg", "test_accuracy"), "<", 0.65)),
    ("logreg.test_accuracy<=0.65", Check(Ref("logreg", "test_accuracy"), "<=", 0.65)),
    ("  mlp.n_params == 4417  ", Check(Ref("mlp", "n_params"), "==", 4417.0)),
    ("sine.test_r2 > -0.5", Check(Ref("sine", "test_r2"), ">", -0.5)),
    ("mlp.final_loss < 1e-3", Check(Ref("mlp", "final_loss"), "<", 0.001)),
    ("mlp.final_loss < 2.5E+2", Check(Ref("mlp", "final_loss"), "<", 250.0)),
    ("logreg+poly2.test_accuracy >= 0.95", Check(Ref("logreg+poly2", "test_accuracy"), ">=", 0.95)),
    ("a.b >= c.b", Check(Ref("a", "b"), ">=", Ref("c", "b"))),
])
def test_valid_claims_parse(text, expected):
    assert parse(text) == expected


@pytest.mark.parametrize("text, left, op, right, adjusted", [
    ("logreg-torch.test_accuracy >= logreg.test_accuracy - 0.02",
     Ref("logreg-torch", "test_accuracy"), ">=", Ref("logreg", "test_accuracy"), 0.49 - 0.02),
    ("a.b <= c.b + 2e-2", Ref("a", "b"), "<=", Ref("c", "b"), 0.49 + 0.02),
    ("a.b<=c.b + 2e-2", Ref("a", "b"), "<=", Ref("c", "b"), 0.49 + 0.02),
    ("buggy.final_loss > fixed.final_loss * 10", Ref("buggy", "final_loss"), ">",
     Ref("fixed", "final_loss"), 0.49 * 10),
])
def test_claims_with_arithmetic_on_the_right_hand_metric(text, left, op, right, adjusted):
    check = parse(text)
    assert (check.left, check.op, check.right) == (left, op, right)
    # the right-hand metric is 0.49; a left side equal to the adjusted value sits on the boundary
    for value, expected in [(adjusted, op in ("<=", ">=")), (adjusted + 0.01, op in (">", ">=")),
                            (adjusted - 0.01, op in ("<", "<="))]:
        assert evaluate(check, lambda ref: 0.49 if ref == right else value) == (expected, value)


def test_offset_is_added_to_the_right_hand_metric():
    # 0.488 vs 0.49: within 2 points, but not within 0.1 of a point
    assert holds("logreg-torch.test_accuracy >= logreg.test_accuracy - 0.02")
    assert not holds("logreg-torch.test_accuracy >= logreg.test_accuracy - 0.001")
    assert holds("logreg-torch.test_accuracy <= logreg.test_accuracy + 0.02")
    assert not holds("logreg+poly2.test_accuracy <= logreg.test_accuracy + 0.02")


def test_evaluate_returns_the_left_value():
    assert evaluate(parse("logreg+poly2.test_accuracy >= 0.95"), METRICS.__getitem__) == (True, 0.992)
    assert evaluate(parse("logreg.test_accuracy >= 0.95"), METRICS.__getitem__) == (False, 0.49)


@pytest.mark.parametrize("check, expected", [
    ("logreg.test_accuracy < 0.49", False), ("logreg.test_accuracy <= 0.49", True),
    ("logreg.test_accuracy > 0.49", False), ("logreg.test_accuracy >= 0.49", True),
    ("logreg.test_accuracy == 0.49", True), ("mlp.n_params == 4417", True),
    ("mlp.n_params > 4417", False),
])
def test_comparisons_at_the_boundary(check, expected):
    assert holds(check) is expected


def test_refs_lists_every_metric_a_check_needs():
    assert parse("a.b < 1").refs() == [Ref("a", "b")]
    assert parse("a.b < c.d - 1").refs() == [Ref("a", "b"), Ref("c", "d")]
    assert str(Ref("logreg+poly2", "test_accuracy")) == "logreg+poly2.test_accuracy"


@pytest.mark.parametrize("text, says", [
    ("", "cannot read claim check"),
    ("logreg.test_accuracy", "cannot read claim check"),
    ("logreg.test_accuracy ~ 0.65", "cannot read claim check"),
    ("logreg.test_accuracy => 0.65", "cannot read claim check"),
    ("logreg.test_accuracy < 0.65 extra", "cannot read claim check"),
    ("logreg.test_accuracy < ", "cannot read claim check"),
    ("logreg < 0.65", "is not <rung>.<metric>"),
    ("0.65 > logreg.test_accuracy", "is not <rung>.<metric>"),
    ("logreg.test_accuracy < mlp", "is not <rung>.<metric>"),
    ("logreg.1st < 0.5", "is not <rung>.<metric>"),
    ("logreg.test_accuracy < 0.5 + 0.1", "is not <rung>.<metric>"),
    ("logreg.test_accuracy < mlp.test_accuracy / 2", "cannot read claim check"),
    ("logreg.test_accuracy < mlp.test_accuracy + x", "is not a number"),
    ("logreg.test_accuracy < nan", ""),
    ("logreg.test_accuracy < inf", ""),
    ("logreg.test_accuracy < mlp.test_accuracy - inf", "not a finite number"),
    ("__import__('os').system('true') < 1", ""),
    ("logreg.test_accuracy < 1 or True", "cannot read claim check"),
])
def test_malformed_claims_raise_value_error_saying_what_is_wrong(text, says):
    with pytest.raises(ValueError, match=re.escape(says) if says else None):
        parse(text)


def test_the_syntax_error_lists_the_operators():
    with pytest.raises(ValueError) as info:
        parse("a.b ~ 1")
    for op in OPS:
        assert op in str(info.value)


def test_claims_are_never_evaled(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("claims must not be eval'ed")
    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    assert holds("logreg-torch.test_accuracy >= logreg.test_accuracy - 0.02")


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_any_finite_number_reads_back_exactly(x):
    check = parse(f"a.b <= {x!r}")
    assert check.right == x
    assert evaluate(check, lambda ref: x) == (True, x)
