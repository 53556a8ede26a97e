"""A throwaway backend and a throwaway operator row: what adding either one takes.

docs/architecture.md says a backend is a ``Backend`` that prints through the
printer core with its own spelling, registered by name with its reserved words;
and that an operator is one row of the table.  These tests do exactly that and
run the backend tests on the result.
"""

import math
import random

import pytest

import symgrad
from symgrad import backends
from symgrad.backends.python import FUNCTION_NAMES, PythonPrinter
from symgrad.core import ops
from symgrad.core.runtime import PYTHON_GLOBALS
from cases import CORPUS


class ChainPrinter(PythonPrinter):
    """Python, but every later contribution is spelled ``g = g + c``."""

    def accumulate(self, target, rhs):
        return f"{target} = {target} + {rhs}"


class ChainBackend(backends.Backend):
    name, kinds = "chain", ("value_and_grad", "value")

    def emit(self, program, kind):
        return ChainPrinter("python", "math").function(program, FUNCTION_NAMES[kind],
                                                       kind != "value", kind)

    def load(self, artifact, program, label, owner):
        return backends.compile_source(artifact, label, owner, PYTHON_GLOBALS)


BACKEND = ChainBackend()
CUBE = ops.Op("cube", 1, "({x}**3)", "np.power({x}, 3)", ("3*x**2",), "d/dx cube(x) = 3*x**2",
              lambda sp, x: x**3, ((-3, 3),), c="({x}*{x}*{x})", total=True)


@pytest.fixture(autouse=True)
def registered(monkeypatch):
    monkeypatch.setitem(backends.MODULES, "chain", __name__)
    monkeypatch.setitem(ops.OPS, "cube", CUBE)
    monkeypatch.setitem(ops.FUNCTIONS, "cube", CUBE)


@pytest.mark.parametrize("text, note", CORPUS, ids=[note for _, note in CORPUS])
def test_the_throwaway_backend_gives_the_python_backends_numbers(text, note):
    python, chain = symgrad.compile(text), symgrad.compile(text, backend="chain")
    rng = random.Random(note)
    for _ in range(3):
        point = {name: rng.uniform(0.2, 1.5) for name in python.variables}
        try:
            expected = python.value_and_grad(**point)
        except symgrad.EvaluationError as error:
            with pytest.raises(symgrad.EvaluationError) as same:
                chain.value_and_grad(**point)
            assert str(same.value) == str(error)
            continue
        assert chain.value_and_grad(**point) == expected
    assert "+=" not in chain.source


@pytest.mark.parametrize("backend", ["python", "numpy", "c", "tape", "chain"])
def test_a_throwaway_row_works_on_every_backend(backend):
    import sympy

    f = symgrad.compile("cube(x)*y + cube(y)", backend=backend)
    x, y = sympy.symbols("x y")
    formula = x**3 * y + y**3
    point = {"x": 1.3, "y": -0.7}
    value, grads = f.value_and_grad(**point)
    assert value == pytest.approx(float(formula.subs(point)), rel=1e-14)
    for name, symbol in (("x", x), ("y", y)):
        exact = float(sympy.diff(formula, symbol).subs(point))
        assert grads[name] == pytest.approx(exact, rel=1e-14)
        h = 1e-6
        shifted = [dict(point, **{name: point[name] + s * h}) for s in (1, -1)]
        central = (f(**shifted[0]) - f(**shifted[1])) / (2 * h)
        assert math.isclose(grads[name], central, rel_tol=1e-7)
    assert "cube" in f.derivatives["x"] or "x**2" in f.derivatives["x"]


def test_a_registered_backends_words_are_never_generated_names(monkeypatch):
    from symgrad.core import program

    monkeypatch.setattr(program, "RESERVED", set(program.RESERVED))  # undone after the test
    backends.register("chain", __name__, {"grab"})
    f = symgrad.compile("grab*2 + grab", backend="chain")
    assert f.variables == ("grab",) and "grab_" in f.source
    assert f.value_and_grad(grab=2.0) == (6.0, {"grab": 3.0})
