"""One table-driven test per operator entry: partials, forward, conventions.

A new row in symgrad/ops.py is picked up here with no new test code.
"""

import math
import random

import pytest
import sympy

from symgrad.core import ir
from symgrad.core.autodiff import local_derivative
from symgrad.core.sympy_bridge import to_sympy
from symgrad.core.ops import CALL, OPS, infix_template
from symgrad.core.runtime import scalar_function

X, Y = sympy.symbols("x y", real=True)


def _operands(op):
    return [X, Y][: op.arity]


def _sample(op, rng):
    return [rng.uniform(low, high) for low, high in op.domain]


@pytest.mark.parametrize("name", sorted(OPS))
def test_partials_match_sympy_diff(name):
    """Each partial, instantiated on x and y, equals sympy.diff of the SymPy twin."""
    op = OPS[name]
    node = ir.apply(name, *(ir.var(s.name) for s in _operands(op)))
    if node.op != name:
        pytest.fail(f"{name}(x, y) was simplified away; cannot test its partials")
    rng = random.Random(0)
    for index, operand in enumerate(_operands(op)):
        expected = sympy.diff(op.sympy(sympy, *_operands(op)), operand)
        ours = to_sympy(local_derivative(node, index))
        difference = sympy.simplify((expected - ours).replace(
            sympy.Heaviside, lambda x, *_: sympy.Heaviside(x)))
        if difference != 0:  # e.g. d/dx sign(x) is 2*DiracDelta(x): zero away from 0
            for _ in range(20):
                point = dict(zip(_operands(op), _sample(op, rng)))
                assert float(difference.subs(point)) == pytest.approx(0, abs=1e-12)


@pytest.mark.parametrize("name", sorted(OPS))
def test_forward_matches_sympy(name):
    op = OPS[name]
    forward = scalar_function(name)
    rng = random.Random(1)
    for _ in range(20):
        values = _sample(op, rng)
        expected = float(op.sympy(sympy, *map(sympy.Float, values)))
        assert forward(*values) == pytest.approx(expected, rel=1e-12, abs=1e-300)


@pytest.mark.parametrize("name", sorted(OPS))
def test_numpy_template_matches_python(name):
    import numpy as np

    from symgrad.backends.numpy import GLOBALS

    op = OPS[name]
    rng = random.Random(2)
    samples = [_sample(op, rng) for _ in range(20)]
    columns = [np.array(column) for column in zip(*samples)]
    template = (op.numpy or infix_template(op)).format(**dict(zip("xy", ["x", "y"])))
    batch = eval(template, dict(GLOBALS), dict(zip("xy", columns)))
    expected = [scalar_function(name)(*values) for values in samples]
    assert np.allclose(batch, expected, rtol=1e-12, atol=0)


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_entry_is_complete(name):
    op = OPS[name]
    assert len(op.partials) == op.arity == len(op.domain)
    assert op.rule.startswith("d/d")
    assert (op.symbol is None) == (op.precedence == CALL)
    assert (op.python is None) == (op.numpy is None) == (op.symbol is not None
                                                         and op.name != "pow")


KINKS = [("relu(x)", 0.0, 0.0, 0.0), ("abs(x)", 0.0, 0.0, 0.0), ("step(x)", 0.0, 0.0, 0.0),
         ("sign(x)", 0.0, 0.0, 0.0), ("relu(x)", -1.0, 0.0, 0.0), ("abs(x)", -2.0, 2.0, -1.0)]


@pytest.mark.parametrize("text, x, value, gradient", KINKS)
def test_conventions_at_kinks(text, x, value, gradient):
    import symgrad

    assert symgrad.compile(text).value_and_grad(x=x) == (value, {"x": gradient})


def test_sigmoid_is_stable_far_out():
    sigmoid = scalar_function("sigmoid")
    assert sigmoid(-800.0) == 0.0 and sigmoid(800.0) == 1.0
    assert sigmoid(-30.0) == pytest.approx(math.exp(-30.0), rel=1e-12)
