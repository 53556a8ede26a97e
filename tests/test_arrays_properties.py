"""Random array programs (broadcasting, reductions, @): the array compiler agrees with the
scalar compiler on the program expanded element by element."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symgrad
from symgrad.arrays.build import parse
from symgrad.arrays.scalarise import gradients_by_array, scalar_point, scalarise

DECLARATIONS = "X: [n, 3]\nv: [3]\nc: [n, 1]\nW: [3, 3]\n"
LEAVES = {"[n, 3]": ["X"], "[3]": ["v"], "[n, 1]": ["c"], "[]": ["s", "0.5"]}
UNARY = ["tanh", "sin", "cos", "sigmoid", "atan"]
# Shapes whose pairs all broadcast to one of them.
JOIN = {frozenset(["[n, 3]"]): "[n, 3]", frozenset(["[3]"]): "[3]",
        frozenset(["[n, 1]"]): "[n, 1]", frozenset(["[]"]): "[]",
        frozenset(["[n, 3]", "[3]"]): "[n, 3]", frozenset(["[n, 3]", "[n, 1]"]): "[n, 3]",
        frozenset(["[n, 3]", "[]"]): "[n, 3]", frozenset(["[3]", "[n, 1]"]): "[n, 3]",
        frozenset(["[3]", "[]"]): "[3]", frozenset(["[n, 1]", "[]"]): "[n, 1]"}


def expression(draw, shape, depth):
    """Program text of the given shape."""
    if depth == 0:
        return draw(st.sampled_from(LEAVES[shape]))
    kind = draw(st.sampled_from(["leaf", "unary", "binary", "reduce", "matmul"]))
    if kind == "leaf":
        return draw(st.sampled_from(LEAVES[shape]))
    if kind == "unary":
        return f"{draw(st.sampled_from(UNARY))}({expression(draw, shape, depth - 1)})"
    if kind == "binary":
        pairs = [pair for pair, joined in JOIN.items() if joined == shape]
        pair = sorted(draw(st.sampled_from(pairs)))
        left = draw(st.sampled_from(pair))
        right = pair[1] if len(pair) == 2 and left == pair[0] else pair[0]
        op = draw(st.sampled_from(["+", "-", "*"]))
        return (f"({expression(draw, left, depth - 1)} {op} "
                f"{expression(draw, right, depth - 1)})")
    if kind == "reduce" and shape in ("[3]", "[]"):
        name = draw(st.sampled_from(["sum", "mean", "max", "logsumexp"]))
        inner = expression(draw, "[n, 3]", depth - 1)
        return f"{name}({inner}, axis=0)" if shape == "[3]" else f"{name}({inner})"
    if kind == "matmul" and shape == "[n, 3]":
        return f"({expression(draw, '[n, 3]', depth - 1)} @ W)"
    return expression(draw, shape, depth - 1)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_array_programs_agree_with_the_scalar_compiler(data):
    body = expression(data.draw, "[n, 3]", 4)
    text = DECLARATIONS + f"sum({body}) + 0*s"
    rng = np.random.default_rng(len(text))
    values = {"X": rng.normal(size=(2, 3)), "v": rng.normal(size=3),
              "c": rng.normal(size=(2, 1)), "W": rng.normal(size=(3, 3)), "s": 0.7}
    value, grads = symgrad.compile(text).value_and_grad(**values)
    scalar_expression, names = scalarise(parse(text), {}, {"n": 2})
    scalar = symgrad.compile(scalar_expression)
    point = scalar_point(values, names)
    expected_value, expected = scalar.value_and_grad(
        **{n: point[n] for n in scalar.variables})
    assert value == pytest.approx(expected_value, rel=1e-12, abs=1e-12), text
    expected = gradients_by_array(expected, names)
    for name, grad in grads.items():
        np.testing.assert_allclose(grad, expected[name], rtol=1e-11, atol=1e-12,
                                   err_msg=f"{name} in {text}")
