"""Every printed derivative of the corpus parses back to the numbers of the compiled gradient."""

import math
import random

import pytest

import symgrad
from symgrad.core.errors import EvaluationError
from symgrad.core.pretty import usable_names

from cases import CORPUS


def _with_program(f, derivative):
    """The program's own statements, then the derivative: named values are defined."""
    if not usable_names(f.expression.labels, f.variables):
        return derivative  # it uses no name of the program, and must stand alone
    statements = str(f.expression).split("; ")[:-1]
    return "; ".join(statements + [derivative])


@pytest.mark.parametrize("text", [text for text, _ in CORPUS])
def test_printed_derivatives_parse_back_to_the_compiled_gradient(text):
    f = symgrad.compile(text)
    rng = random.Random(text)
    readers = [(name, symgrad.compile(_with_program(f, derivative)))
               for name, derivative in f.derivatives.items()]
    readers += [(name, symgrad.compile(derivative))
                for name, derivative in f.derivatives_expanded.items()]
    checked = 0
    for _ in range(20):
        point = {name: rng.uniform(0.3, 1.5) * rng.choice((1, -1)) for name in f.variables}
        try:
            _, grad = f.value_and_grad(**point)
            shown = [(name, g(**{v: point[v] for v in g.variables})) for name, g in readers]
        except EvaluationError:
            continue  # outside the domain
        for name, value in shown:
            assert math.isclose(value, grad[name], rel_tol=1e-12, abs_tol=1e-12), (
                name, value, grad[name], f.derivatives[name])
        checked += 1
        if checked == 4:
            break
    assert checked, f"no point in the domain of {text} was found"
