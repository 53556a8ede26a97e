"""Hypothesis: random expression trees over the operator table match SymPy and finite differences."""

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symgrad
from symgrad.core.ops import OPS

NAMES = ["x", "y", "z", "lambda", "out", "t1", "grad_x", "E"]
FUNCTIONS = sorted(name for name, op in OPS.items()
                   if op.symbol is None and not op.internal and op.arity == 1)
BINARY_FUNCTIONS = sorted(name for name, op in OPS.items()
                          if op.symbol is None and not op.internal and op.arity == 2)
INFIX = {"add": "+", "sub": "-", "mul": "*", "div": "/"}


def expressions():
    """Random programs in the language, as text."""
    leaves = st.one_of(st.sampled_from(NAMES),
                       st.floats(0.1, 5, allow_nan=False).map(lambda v: repr(round(v, 3))))

    def extend(inner):
        binary = [st.tuples(st.sampled_from(BINARY_FUNCTIONS), inner, inner).map(
            lambda t: f"{t[0]}({t[1]}, {t[2]})")] if BINARY_FUNCTIONS else []
        return st.one_of(
            *binary,
            st.tuples(st.sampled_from(FUNCTIONS), inner).map(lambda t: f"{t[0]}({t[1]})"),
            st.tuples(inner, st.sampled_from(sorted(INFIX.values())), inner).map(
                lambda t: f"({t[0]} {t[1]} {t[2]})"),
            st.tuples(inner, st.sampled_from(["2", "3", "-1", "0.5"])).map(
                lambda t: f"({t[0]})**{t[1]}"),
            inner.map(lambda e: f"-{e}"),
        )

    return st.recursive(leaves, extend, max_leaves=8)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions())
def test_random_expressions_agree_with_sympy_and_finite_differences(text):
    f = symgrad.compile(text)
    report = symgrad.check(f, points=2, symbolic=False)
    assert report.ok or not report.points, str(report)


@settings(max_examples=60, deadline=None)
@given(expressions(), st.lists(st.sampled_from(NAMES), min_size=1, max_size=3))
def test_programs_with_names_equal_their_inlined_expression(text, names):
    """Binding the expression to names first changes the code, never the numbers."""
    program = "; ".join(f"v{i} = {text}" for i in range(len(names))) + f"; v0 + {text}"
    f, g = symgrad.compile(program), symgrad.compile(f"({text}) + ({text})")
    point = {name: 0.5 + i / 10 for i, name in enumerate(f.variables)}
    try:
        expected = g.value_and_grad(**point)
    except symgrad.EvaluationError:
        return
    value, grad = f.value_and_grad(**point)
    assert math.isclose(value, expected[0], rel_tol=1e-12, abs_tol=1e-300)
    assert grad.keys() == expected[1].keys()


@settings(max_examples=40, deadline=None)
@given(expressions())
def test_generated_code_is_deterministic_and_printing_round_trips(text):
    expression = symgrad.parse(text)
    assert symgrad.parse(str(expression)).root is expression.root
    assert symgrad.compile(text).source == symgrad.compile(text).source
