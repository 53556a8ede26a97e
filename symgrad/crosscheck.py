"""The cross-check of symgrad's gradients.

SymPy expressions are built from the IR, never from text: ``sympify`` uses
``eval`` and would turn names such as ``E``, ``I``, ``S`` or ``beta`` into SymPy
objects.  Every gradient is compared with ``sympy.diff`` (symbolically where
``simplify`` proves equality, numerically at random points always) and with
central finite differences.

A program too large or deep for one SymPy tree is built in shared form
(``sympy_bridge.build``): SymPy then differentiates it definition by definition,
in evaluation order (forward mode: d t/dx = sum of diff(formula, operand) *
d operand/dx), so it still checks every local rule on its own, and the numbers
are compared without a symbolic proof.  Where a point puts an operand exactly on
a kink of the operator table, a disagreement is the table's convention, reported
and not counted.
"""

import cmath
import math
import random
import sys
import time
from dataclasses import dataclass, field

import sympy

from .core import ir
from .core.errors import EvaluationError
from .core.printer import format_number
from .core.simplify_budget import SIMPLIFY_SECONDS, simplify_within
from .core.sympy_bridge import build, symbols_for

SYMPY_TOLERANCE = 1e-8  # relative: symgrad and SymPy compute the same formula
FD_TOLERANCE = 1e-5  # relative: central differences carry truncation error
PERTURBATION = 1e-13  # relative nudge of the inputs that measures a point's conditioning
SIMPLIFY_LIMIT = 150  # operations beyond which simplify is not attempted (it can be slow)
CHECK_SECONDS = 60.0  # the default budget of one check, SymPy's side and the numbers
DIGITS = 30  # SymPy's reference numbers
WORKING_DIGITS = 45  # intermediate symbols' numbers, so rounding never reaches DIGITS


@dataclass
class GradientCheck:
    """How one input's gradient compared with SymPy and finite differences."""

    variable: str
    symbolic: object  # True: simplify proved equality; None: not proven (numbers decide)
    sympy_error: float = 0.0  # worst relative difference to SymPy's numbers
    fd_error: float = 0.0  # worst relative difference to finite differences
    mismatches: list = field(default_factory=list)
    notes: list = field(default_factory=list)  # kinks and budgets: said, not counted
    points: int = 0  # at how many points it was compared (fewer when the budget ran out)

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
    seconds: float = CHECK_SECONDS  # the budget the check had

    @property
    def complete(self):
        """Whether every gradient was compared at every point within the budget."""
        return all(row.points == len(self.points) for row in self.rows)

    @property
    def ok(self):
        return bool(self.points) and all(row.ok for row in self.rows)

    def __bool__(self):
        return self.ok

    @property
    def mismatch(self):
        """Whether a gradient disagreed somewhere (no point at all is no mismatch)."""
        return bool(self.points) and not self.ok

    def __str__(self):
        if not self.points:
            return (f"cannot check {self.expression}: at no sampled point are its value and "
                    "gradient defined; give a point of its domain to check at")
        verdict = ("MISMATCH" if not self.ok else "all gradients agree" if self.complete
                   else "no mismatch in the part checked")
        count = len(self.points)
        lines = [f"check of {self.expression} at {count} point{'s' * (count != 1)}: {verdict}"]
        if not self.complete:
            every = sum(row.points == len(self.points) for row in self.rows)
            some = sum(0 < row.points < len(self.points) for row in self.rows)
            lines.append(f"  within the {self.seconds:g} s budget, of {len(self.rows):,} gradients "
                         f"{every:,} were compared at every point, {some:,} at some, "
                         f"{len(self.rows) - every - some:,} at none (check(seconds=...) gives "
                         "more time)")
        for row in self.rows:
            if not row.points:
                continue
            proof = {True: "equal (simplify)", None: "numeric only"}
            lines.append(f"  d/d{row.variable}: sympy {proof[row.symbolic]}, "
                         f"max rel. error vs sympy {row.sympy_error:.1e}, "
                         f"vs finite differences {row.fd_error:.1e}")
            lines += [f"    {m}" for m in row.mismatches]
            lines += [f"    {n}" for n in row.notes]
        if not self.ok:
            lines.append(f"  rules involved: {', '.join(self.rules)}")
        return "\n".join(lines)


def check(program, points=5, seed=0, at=None, symbolic=True, simplify_seconds=SIMPLIFY_SECONDS,
          seconds=CHECK_SECONDS):
    """Compare every gradient of ``program`` with SymPy and finite differences.

    ``points`` random points are drawn (reproducibly from ``seed``), plus ``at``
    (a dict of input values) when given.  Points where the program is undefined
    are skipped.  ``symbolic=False`` skips ``simplify``, which can be slow; it
    gets ``simplify_seconds`` in all, after which the numbers alone decide.  The
    whole check gets about ``seconds``: gradients it did not reach by then are
    said in the report (``report.complete`` is False), not compared.
    """
    deadline = time.monotonic() + seconds
    f = program  # a CompiledFunction: symgrad.check compiles text and Expressions first
    rules = tuple(sorted(ir.operators_of([f.expression.root])))
    chosen = _points(f, points, seed, at)
    if not chosen:  # defined nowhere it samples: nothing to compare, nor for SymPy to build
        rows = [GradientCheck(name, None) for name in f.wrt]
        return CheckReport(str(f.expression), chosen, rows, rules, seconds)
    symbols = symbols_for(f.variables)
    gradients = f.gradients  # a property that builds them all: read it once
    built = build([f.expression.root, *(gradients[name].root for name in f.wrt)], symbols)
    value, ours = built.expressions[0], dict(zip(f.wrt, built.expressions[1:]))
    expected, definitions = _derivatives(built, value, {name: symbols[name] for name in f.wrt},
                                         deadline)
    rows = [GradientCheck(name, None) for name in f.wrt]
    reached = [row for row in rows if row.variable in expected]
    bar = _progress(len(chosen) * len(reached) + (len(reached) if symbolic else 0))
    try:
        if symbolic and not built.shared:
            _prove(reached, expected, ours, min(simplify_seconds, _left(deadline)), bar)
        for point in chosen:
            _compare_at(f, point, symbols, expected, definitions, reached, bar, deadline)
    except _OutOfTime:
        pass  # the report says which gradients were compared at how many points
    finally:
        if bar is not None:
            bar.close()
    return CheckReport(str(f.expression), chosen, rows, rules, seconds)


class _OutOfTime(Exception):
    """The check's budget ran out in the middle of SymPy's numbers."""


def _left(deadline):
    return max(0.0, deadline - time.monotonic())


def _derivatives(built, value, wrt, deadline=math.inf):
    """({input: d value/d input}, the definitions they use, in evaluation order).

    Inputs not reached by ``deadline`` (``time.monotonic()``) are left out.

    Plain trees go to ``sympy.diff`` whole.  In shared form SymPy differentiates
    each definition and the chain rule joins them (forward mode), so the result
    stays linear in the graph: d t/dx becomes a symbol of its own.
    """
    if not built.shared:
        expected = {}
        for name, x in wrt.items():
            if time.monotonic() > deadline:
                break
            expected[name] = _sign_derivatives_zero(sympy.diff(value, x))
        return expected, ()
    definitions, expected = list(built.definitions), {}
    for name, x in wrt.items():
        derivative = {}  # intermediate symbol -> its derivative (a symbol or a number)
        started = len(definitions)
        for symbol, formula in built.definitions:
            if time.monotonic() > deadline:  # a long program: checked at every definition
                del definitions[started:]  # this input's part, unfinished
                return expected, tuple(definitions)
            d = _chain_rule(formula, x, derivative)
            if d.is_Atom:
                derivative[symbol] = d
            else:
                derivative[symbol] = sympy.Dummy(f"d{symbol}_d{x}", real=True)
                definitions.append((derivative[symbol], d))
        expected[name] = _chain_rule(value, x, derivative)
    return expected, tuple(definitions)


def _chain_rule(formula, x, derivative):
    """d formula/dx, where ``derivative`` gives d t/dx for the intermediate symbols in it."""
    symbols = formula.free_symbols
    total = sympy.diff(formula, x) if x in symbols else sympy.S.Zero
    for t in symbols:
        if t in derivative and derivative[t] != 0:
            total += sympy.diff(formula, t) * derivative[t]
    return _sign_derivatives_zero(total)


def _sign_derivatives_zero(expression):
    """``expression`` with SymPy's unevaluated derivatives of ``sign`` as 0.

    SymPy leaves d/dx sign(u) unevaluated where u may be complex (``cbrt(acos(x))``
    is ``Abs(acos(x))**(1/3)*sign(acos(x))``), and then cannot put a number in for
    u.  sign is constant wherever it is differentiable: 0, symgrad's convention too.
    """
    if not expression.has(sympy.Derivative):
        return expression
    return expression.replace(
        lambda part: isinstance(part, sympy.Derivative) and isinstance(part.expr, sympy.sign),
        lambda part: sympy.S.Zero)


def _prove(rows, expected, ours, seconds, bar):
    """Set each row's ``symbolic`` to True where simplify shows SymPy's and symgrad's equal.

    Rounded constants (a folded log(2)) make exact equality impossible to prove,
    so expressions holding floats are left to the numeric comparison, as are
    large ones.  All differences are simplified in one child process that gets
    ``seconds`` in all.
    """
    pending = []
    for row in rows:
        difference = expected[row.variable] - ours[row.variable]
        if difference == 0:
            row.symbolic = True
        elif not difference.atoms(sympy.Float) and sympy.count_ops(difference) <= SIMPLIFY_LIMIT:
            # Heaviside(x, 0) is symgrad's step; sympy.diff writes Heaviside(x).  They
            # differ only at 0, a kink whose convention the numeric comparison reads
            # from the operator table.
            pending.append((row, difference.replace(
                sympy.Heaviside, lambda x, *_: sympy.Heaviside(x))))
    update = bar.update if bar is not None else None
    results = simplify_within([d for _, d in pending], seconds, update)
    for (row, _), result in zip(pending, results):
        if result is None:
            row.notes.append(f"simplify gave no answer within {seconds:g} s: numbers only")
        elif result == 0:
            row.symbolic = True


def _progress(total):
    """A progress bar on stderr for long checks: only on a terminal, only if tqdm is installed."""
    if total == 0 or not sys.stderr.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc="symgrad check", file=sys.stderr, delay=1.0, leave=False)


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


def _compare_at(f, point, symbols, expected, definitions, rows, bar=None, deadline=math.inf):
    """Compare each gradient at ``point``, allowing for how ill-conditioned the point is.

    Floats carry about 1e-16 of relative error into every step, so where the
    exact answer itself swings when the inputs move by 1e-13 (``cos(exp(exp(x)))``
    at x = 1.5), symgrad's float result may differ by that much without any rule
    being wrong: the tolerance grows by that swing.  Likewise finite differences
    are only trusted as far as the estimates at h and h/2 agree.
    """
    _, grads = f.value_and_grad(**point)
    exact = _numbers(definitions, {symbols[name]: sympy.Float(x, WORKING_DIGITS)
                                   for name, x in point.items()}, deadline)
    nearby = _numbers(definitions, {
        symbols[name]: sympy.Float(x * (1 + PERTURBATION) + PERTURBATION, WORKING_DIGITS)
        for name, x in point.items()}, deadline)
    shown = ", ".join(f"{k}={v:.6g}" for k, v in point.items())
    kinks = _kinks_at(f, point)
    for row in rows:
        if time.monotonic() > deadline:
            break
        row.points += 1
        name, ours = row.variable, grads[row.variable]
        reference, near = _number(expected[name], exact), _number(expected[name], nearby)
        if cmath.isfinite(reference) and cmath.isfinite(near):
            swing = _relative(reference.real, near.real)
            ref_error = _relative(ours, reference.real) if reference.imag == 0 else math.inf
        else:  # x**y*log(x) at x = 0: no number to compare with (nan passed every test)
            swing = ref_error = 0.0
            row.notes.append(f"at {shown}, SymPy's formula has no value ({reference.real!r}): "
                             "compared with finite differences only")
        fd, fd_spread = _central_difference(f, point, name)
        fd_error = _relative(ours, fd) if fd is not None else 0.0
        wrong = []
        if ref_error > SYMPY_TOLERANCE + swing:
            wrong.append(f"sympy {reference.real!r} (rel. error {ref_error:.1e})")
        if fd_error > FD_TOLERANCE + fd_spread:
            wrong.append(f"finite differences {fd!r} (rel. error {fd_error:.1e})")
        if wrong and kinks:
            row.notes.append(f"at {shown}, {kinks} (not counted: symgrad {ours!r}, "
                             + ", ".join(wrong) + ")")
        else:
            row.sympy_error = max(row.sympy_error, ref_error)
            row.fd_error = max(row.fd_error, fd_error)
            row.mismatches += [f"at {shown}: symgrad {ours!r}, {w}" for w in wrong]
        if bar is not None:
            bar.update()


def _number(expression, values):
    """``expression`` at ``values``, as a complex number of DIGITS digits."""
    return complex(expression.xreplace(values).evalf(DIGITS))


def _numbers(definitions, values, deadline=math.inf):
    """``values`` ({input symbol: number}) with every intermediate symbol's number added.

    Substituting numbers (of WORKING_DIGITS digits) lets SymPy evaluate each
    function at once, level by level: much faster than ``evalf(subs=...)`` on a
    nested formula, and it never meets an unsigned zero (``Max(x - 1, 0)`` at 1).
    """
    values = dict(values)
    for count, (symbol, formula) in enumerate(definitions):
        if count % 64 == 0 and time.monotonic() > deadline:
            raise _OutOfTime
        values[symbol] = formula.xreplace(values).evalf(WORKING_DIGITS)
    return values


def _kinks_at(f, point):
    """'at a kink of relu: ...' for each operation with an operand exactly on a kink, or ''."""
    try:
        trace = f.program.evaluate(point, gradients=False)
    except EvaluationError:
        return ""
    found = []
    for step in f.program.forward:
        values = [trace.value_of(operand) for operand in step.operands]
        for kink in step.op.kinks:
            at = values[1 - kink.operand] if kink.at == "tie" else kink.at
            if values[kink.operand] == at:
                found.append(_convention(step.op, kink))
    return "; ".join(dict.fromkeys(found))


def _convention(op, kink):
    at = "xy"[1 - kink.operand] if kink.at == "tie" else format_number(kink.at)
    derivative = "undefined" if kink.derivative is None else format_number(kink.derivative)
    if op.arity == 1:
        rule = f"{op.name}'({at}) = {derivative}"
    else:
        rule = f"d{op.name}/d{'xy'[kink.operand]} at {'xy'[kink.operand]} = {at} is {derivative}"
    return f"at a kink of {op.name}: symgrad's convention {rule}"


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
