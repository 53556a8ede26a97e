"""The cross-check of symgrad's gradients.

SymPy expressions are built from the IR, never from text: ``sympify`` uses
``eval`` and would turn names such as ``E``, ``I``, ``S`` or ``beta`` into SymPy
objects.  Every gradient is compared with ``sympy.diff`` (symbolically where
``simplify`` proves equality, numerically at random points always) and with
central finite differences.
"""

import math
import random
from dataclasses import dataclass, field

import sympy

from .core import ir
from .core.errors import EvaluationError
from .core.sympy_bridge import symbols_for, to_sympy

SYMPY_TOLERANCE = 1e-8  # relative: symgrad and SymPy compute the same formula
FD_TOLERANCE = 1e-5  # relative: central differences carry truncation error
PERTURBATION = 1e-13  # relative nudge of the inputs that measures a point's conditioning
SIMPLIFY_LIMIT = 150  # operations beyond which simplify is not attempted (it can be slow)


@dataclass
class GradientCheck:
    """How one input's gradient compared with SymPy and finite differences."""

    variable: str
    symbolic: object  # True: simplify proved equality; None: not proven (numbers decide)
    sympy_error: float = 0.0  # worst relative difference to SymPy's numbers
    fd_error: float = 0.0  # worst relative difference to finite differences
    mismatches: list = field(default_factory=list)

    @property
    def ok(self):
        return not self.mismatches


@dataclass
class CheckReport:
    """The agreement report of ``symgrad.check``."""

    expression: str
    points: list
    rows: list
    rules: tuple  # the operators involved

    @property
    def ok(self):
        return bool(self.points) and all(row.ok for row in self.rows)

    def __bool__(self):
        return self.ok

    def __str__(self):
        lines = [f"check of {self.expression} at {len(self.points)} points: "
                 + ("all gradients agree" if self.ok else "MISMATCH")]
        if not self.points:
            lines.append("  no point was found where the program can be evaluated")
        for row in self.rows:
            proof = {True: "equal (simplify)", None: "numeric only"}
            lines.append(f"  d/d{row.variable}: sympy {proof[row.symbolic]}, "
                         f"max rel. error vs sympy {row.sympy_error:.1e}, "
                         f"vs finite differences {row.fd_error:.1e}")
            lines += [f"    {m}" for m in row.mismatches]
        if not self.ok:
            lines.append(f"  rules involved: {', '.join(self.rules)}")
        return "\n".join(lines)


def check(program, points=5, seed=0, at=None, symbolic=True):
    """Compare every gradient of ``program`` with SymPy and finite differences.

    ``points`` random points are drawn (reproducibly from ``seed``), plus ``at``
    (a dict of input values) when given.  Points where the program is undefined
    are skipped.  ``symbolic=False`` skips ``simplify``, which can be slow.
    """
    f = program  # a CompiledFunction: symgrad.check compiles text and Expressions first
    symbols = symbols_for(f.variables)
    value = to_sympy(f.expression.root, symbols)
    ours = {name: to_sympy(g.root, symbols) for name, g in f.gradients.items()}
    expected = {name: sympy.diff(value, symbols[name]) for name in f.wrt}
    rows = [GradientCheck(name, _provably_equal(expected[name], ours[name]) if symbolic else None)
            for name in f.wrt]
    chosen = _points(f, points, seed, at)
    for point in chosen:
        _compare_at(f, point, symbols, expected, rows)
    rules = tuple(sorted({n.op for n in ir.topological_order([f.expression.root]) if n.args}))
    return CheckReport(str(f.expression), chosen, rows, rules)


def _provably_equal(a, b):
    """True if simplify shows a == b; None if it cannot tell (the numbers then decide).

    Rounded constants (a folded log(2)) make exact equality impossible to prove,
    so expressions holding floats are left to the numeric comparison.
    """
    difference = a - b
    if difference == 0:
        return True
    if difference.atoms(sympy.Float) or sympy.count_ops(difference) > SIMPLIFY_LIMIT:
        return None
    # Heaviside(x, 0) is symgrad's step; sympy.diff writes Heaviside(x).  They differ
    # only at 0, which is the documented kink convention, not a mismatch.
    difference = difference.replace(sympy.Heaviside, lambda x, *_: sympy.Heaviside(x))
    return True if sympy.simplify(difference) == 0 else None


def _points(f, count, seed, at):
    """Up to ``count`` random points where ``f`` and its gradient exist, plus ``at``."""
    rng = random.Random(seed)
    chosen = [dict(at)] if at else []
    for attempt in range(count * 20):
        if len(chosen) >= count + bool(at):
            break
        low, high = (-2.0, 2.0) if attempt % 2 == 0 else (0.1, 2.0)
        point = {name: rng.uniform(low, high) for name in f.variables}
        try:
            f.value_and_grad(**point)
        except EvaluationError:
            continue
        chosen.append(point)
    return chosen


def _relative(a, b):
    return abs(a - b) / max(1.0, abs(a), abs(b))


def _compare_at(f, point, symbols, expected, rows):
    """Compare each gradient at ``point``, allowing for how ill-conditioned the point is.

    Floats carry about 1e-16 of relative error into every step, so where the
    exact answer itself swings when the inputs move by 1e-13 (``cos(exp(exp(x)))``
    at x = 1.5), symgrad's float result may differ by that much without any rule
    being wrong: the tolerance grows by that swing.  Likewise finite differences
    are only trusted as far as the estimates at h and h/2 agree.
    """
    _, grads = f.value_and_grad(**point)
    exact = {symbols[name]: sympy.Float(x, 30) for name, x in point.items()}
    nearby = {symbols[name]: sympy.Float(x * (1 + PERTURBATION) + PERTURBATION, 30)
              for name, x in point.items()}
    shown = ", ".join(f"{k}={v:.6g}" for k, v in point.items())
    for row in rows:
        name, ours = row.variable, grads[row.variable]
        reference = complex(expected[name].evalf(30, subs=exact))
        swing = _relative(reference.real, complex(expected[name].evalf(30, subs=nearby)).real)
        ref_error = _relative(ours, reference.real) if reference.imag == 0 else math.inf
        fd, fd_spread = _central_difference(f, point, name)
        fd_error = _relative(ours, fd) if fd is not None else 0.0
        row.sympy_error = max(row.sympy_error, ref_error)
        row.fd_error = max(row.fd_error, fd_error)
        if ref_error > SYMPY_TOLERANCE + swing:
            row.mismatches.append(f"at {shown}: symgrad {ours!r}, sympy "
                                  f"{reference.real!r} (rel. error {ref_error:.1e})")
        if fd_error > FD_TOLERANCE + fd_spread:
            row.mismatches.append(f"at {shown}: symgrad {ours!r}, finite differences "
                                  f"{fd!r} (rel. error {fd_error:.1e})")


def _central_difference(f, point, name, step=1e-6):
    """The derivative by central differences, and how far it can be trusted; None if undefined.

    D(h) = (f(x + h) - f(x - h)) / 2h carries a truncation error of order h**2 and
    a rounding error of order eps*|f|/h.  Where truncation dominates (near a pole:
    tan(tan(x)) at x = 1.54 puts D(h) 1e-4 off), D at h and h/2 give Richardson's
    estimate (4*D(h/2) - D(h))/3; elsewhere D(h) is the better one.  Either way the
    disagreement of the two bounds the error generously: where it is of order one
    (the function swings faster than h can follow), finite differences decide nothing.
    """
    estimates, rounding = [], 0.0
    width = step * max(1.0, abs(point[name]))
    for h in (width, width / 2):
        try:
            above = f(**{**point, name: point[name] + h})
            below = f(**{**point, name: point[name] - h})
        except EvaluationError:
            return None, 0.0
        estimates.append((above - below) / (2 * h))
        rounding = max(rounding, 2.3e-16 * max(abs(above), abs(below)) / h)
    coarse, fine = estimates
    truncation = abs(fine - coarse) * 4 / 3
    # Functions carry a few ulps of error each, hence the margin over eps*|f|/h.
    best = fine + (fine - coarse) / 3 if truncation > 10 * rounding else coarse
    return best, _relative(coarse, fine)
