"""Derivatives as a person writes them: folded constants named back, tidy text that re-parses."""

import math

import symgrad
from symgrad.core import ir


def test_a_folded_constant_prints_as_the_user_wrote_it():
    f = symgrad.compile("2**a/log(2) + x/3 + sqrt(2)*x")
    assert str(f.expression) == "2**a/log(2) + x/3 + sqrt(2)*x"
    assert "0.69314" not in "".join(f.derivatives.values())


def test_generated_code_keeps_the_folded_number():
    f = symgrad.compile("x*log(2)")
    assert "t1 = " not in f.source  # no forward step computes log(2)
    assert "0.6931471805599453" in f.source
    assert f.value_and_grad(x=1.0) == (math.log(2), {"x": math.log(2)})


def test_a_short_result_folds_to_a_plain_number():
    assert ir.apply("mul", ir.const(2.0), ir.const(3.0)) is ir.const(6.0)
    assert ir.apply("div", ir.const(1.0), ir.const(8.0)) is ir.const(0.125)
    third = ir.apply("div", ir.const(1.0), ir.const(3.0))
    assert third.op == "const" and third.value == 1 / 3 and third.origin[0] == "div"
    assert third is not ir.const(1 / 3)  # the literal prints as digits, the fold as 1/3
