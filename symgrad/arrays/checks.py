"""The three checks of an array program's gradient, on given inputs (for ``--check``).

Finite differences (central, element by element); the scalar compiler on the
program expanded element by element (when it has at most ``SCALAR_LIMIT``
elements in all); ``jax.grad`` of the forward pass run on ``jax.numpy`` (when
JAX is installed).  Each yields (name, True/False/None for skipped, detail).
"""

import numbers
from collections import namedtuple

import numpy as np

from ..core.errors import EvaluationError
from .shapes import ShapeError, declared

SCALAR_LIMIT = 2000
SYMPY_LIMIT = 100  # elements: SymPy differentiates the scalar form (seconds at this size)


class ArrayCheckReport(namedtuple("ArrayCheckReport", "rows dims")):
    """The checks of an array program: ``rows`` (name, True/False/None, detail)."""

    __slots__ = ()

    @property
    def ok(self):
        return all(passed is not False for _, passed, _ in self.rows)

    def __str__(self):
        marks = {True: "ok", False: "MISMATCH", None: "skipped"}
        return "\n".join(f"{name}: {marks[passed]} ({detail})" for name, passed, detail
                         in self.rows)


def check_array(program, shapes=None, seed=0):
    """Run the three checks on random inputs; ``shapes`` {dimension: size} (default 3)."""
    from .compiled import ArrayFunction

    f = program if isinstance(program, ArrayFunction) else ArrayFunction(program)
    dims = checked_shapes(f, shapes)
    rows = tuple(run_checks(f, dims, check_inputs(f, dims, seed)))
    return ArrayCheckReport(rows, dims)


def check_inputs(f, dims, seed=0):
    """``random_inputs``; where the program is not finite at them (log of a draw below 0),
    the float inputs made positive (|x| + 0.5), so the checks compare numbers."""
    values = random_inputs(f, dims, seed)
    with np.errstate(all="ignore"):
        value, grads = f.value_and_grad(**values)
    if np.isfinite(value) and all(np.isfinite(g).all() for g in grads.values()):
        return values
    return {name: np.abs(v) + 0.5 if f.expression.inputs[name].dtype == "float" else v
            for name, v in values.items()}


def checked_shapes(f, shapes, option="shapes"):
    """{dimension: size} for the checks: ``shapes``, and 3 for the dimensions it leaves out.

    ``ShapeError`` (its message begins with ``option``) for a name that is no dimension
    of ``f`` and for a size that is not a whole number of at least 1: over no elements
    there is no gradient to compare.
    """
    dims = dict.fromkeys(f.expression.dims, 3)
    for name, size in (shapes or {}).items():
        item = f"{option} {name}={size!r}"
        if name not in dims:
            raise ShapeError(f"{item}: {name} is not a dimension of the program "
                             f"(dimensions: {', '.join(dims) or 'none'})")
        if isinstance(size, (bool, np.bool_)) or not isinstance(size, numbers.Integral):
            raise ShapeError(f"{item}: a size is a whole number")
        if size < 1:
            raise ShapeError(f"{item}: the checks need every dimension at least 1 (over no "
                             "elements there is no gradient to compare)")
        dims[name] = int(size)
    for name, node in f.expression.inputs.items():
        if 0 in node.shape:
            raise ShapeError(f"{name} is declared {declared(node.shape, node.dtype)}: the "
                             f"checks need every dimension at least 1")
    return dims


def random_inputs(f, dims, seed=0):
    """Inputs drawn at random for ``dims``: floats normal, indices in range."""
    from .compiled import _index_checks

    rng = np.random.default_rng(seed)
    bounds = {}  # an index input -> the smallest axis it indexes, with its words
    for name, dim, what in _index_checks(f.expression):
        size = dims[dim] if isinstance(dim, str) else dim
        if name not in bounds or size < bounds[name][0]:
            bounds[name] = (size, dim, what)
    values = {}
    for name, node in f.expression.inputs.items():
        shape = tuple(dims[d] if isinstance(d, str) else d for d in node.shape)
        if node.dtype == "int":
            bound, dim, what = bounds.get(name, (1, None, None))
            if bound == 0 and 0 not in shape:
                raise ShapeError(f"{name} indexes {what}, with {dim} = 0: no index is in "
                                 "range, so there are no random inputs to draw")
            values[name] = rng.integers(0, max(bound, 1), size=shape)
        else:
            values[name] = rng.normal(size=shape) if shape else float(rng.normal())
    return values


def run_checks(f, dims, values):
    _, grads = f.value_and_grad(**values)
    yield _finite_differences(f, values, grads)
    row, expression = _scalarised(f, dims, values, grads)
    yield row
    yield _sympy(expression, sum(np.size(v) for v in values.values()))
    yield _jax(f, values, grads)


def _agree(grads, expected, tolerance):
    """Whether every gradient is within ``tolerance`` of ``expected`` (relative); a number
    where the other is nan or inf is no agreement (nan compared false, so it passed)."""
    worst, unequal = 0.0, []
    for name, grad in grads.items():
        grad, other = np.asarray(grad, dtype=float), np.asarray(expected[name], dtype=float)
        finite = np.isfinite(grad) & np.isfinite(other)
        if not np.array_equal(finite, np.isfinite(grad) | np.isfinite(other)) or not (
                np.array_equal(grad[~finite], other[~finite], equal_nan=True)):
            unequal.append(name)
        grad, other = grad[finite], other[finite]
        scale = 1.0 + np.max(np.abs(other), initial=0.0)
        worst = max(worst, float(np.max(np.abs(grad - other), initial=0.0)) / scale)
    if unequal:
        return False, f"{', '.join(unequal)}: not finite where the other is, or not the same inf"
    return worst <= tolerance, f"largest difference {worst:.1e} (relative)"


def _finite_differences(f, values, grads, h=1e-6):
    expected = {}
    for name in grads:
        value = np.asarray(values[name], dtype=float)
        grad = np.zeros(value.shape)
        for index in np.ndindex(value.shape):
            for sign in (1, -1):
                moved = dict(values)
                moved[name] = value.copy()
                moved[name][index] += sign * h
                grad[index] += sign * f(**moved) / (2 * h)
        expected[name] = grad
    ok, detail = _agree(grads, expected, 1e-5)
    return "finite differences", ok, detail


def _scalarised(f, dims, values, grads):
    from ..compiled import CompiledFunction
    from .scalarise import gradients_by_array, scalar_point, scalarise

    size = sum(np.size(v) for v in values.values())
    if size > SCALAR_LIMIT:
        return ("scalar compiler, element by element", None,
                f"{size} elements: too many"), None
    ints = {k: v for k, v in values.items() if f.expression.inputs[k].dtype == "int"}
    expression, names = scalarise(f.expression, ints, dims)
    scalar = CompiledFunction(expression)
    point = scalar_point(values, names)
    try:
        _, scalar_grads = scalar.value_and_grad(**{v: point[v] for v in scalar.variables})
    except EvaluationError as error:  # log of a normal draw below 0: the scalar path raises
        return ("scalar compiler, element by element", None,
                f"not run at these random inputs: {error}"), None
    expected = gradients_by_array(scalar_grads, names)
    ok, detail = _agree(grads, {k: expected[k] for k in grads}, 1e-12)
    return ("scalar compiler, element by element", ok, detail), expression


def _sympy(expression, size):
    """symgrad.check (SymPy's derivatives, at a random point) on the scalar form."""
    name = "SymPy on the scalar form"
    if expression is None:
        return name, None, "the scalar form was not run"
    if size > SYMPY_LIMIT:
        return name, None, f"{size} elements: more than {SYMPY_LIMIT}"
    try:
        import sympy  # noqa: F401
    except ImportError:
        return name, None, "SymPy is not installed"
    from ..compiled import CompiledFunction
    from ..crosscheck import check

    report = check(CompiledFunction(expression), points=1, symbolic=False)
    return name, report.ok, f"{len(expression.variables)} scalar inputs"


def _jax(f, values, grads):
    try:
        import jax
    except ImportError:
        return "jax.grad of the forward pass", None, "JAX is not installed"
    jax.config.update("jax_enable_x64", True)
    from .compiled import ArrayFunction

    forward = ArrayFunction(f.expression, "jax")._value_generated
    floats = list(grads)

    def loss(*args):
        merged = dict(values, **dict(zip(floats, args)))
        return forward(*(merged[n] for n in f.inputs))

    oracle = jax.grad(loss, argnums=tuple(range(len(floats))))(
        *(jax.numpy.asarray(values[n], dtype=float) for n in floats))
    expected = {name: np.asarray(g) for name, g in zip(floats, oracle)}
    ok, detail = _agree(grads, expected, 1e-10)
    return "jax.grad of the forward pass", ok, detail
