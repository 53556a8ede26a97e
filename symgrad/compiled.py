"""The compiled function: a program, the code a backend printed from it, friendly calling.

Only code a backend generated from the program runs here.  A value or gradient
that fails or is not finite is traced back to its subexpression by the
program's own evaluator (``Program.evaluate``), only after the fast path failed.
"""

from __future__ import annotations

import os
from functools import partial
from collections.abc import Iterable, Mapping

import math

from . import backends
from .core.errors import EvaluationError, SymgradError, TooLargeError
from .core.autodiff import gradient_nodes
from .core.expression import Expression, from_plain_expression, to_plain
from .core.inputs import real_array
from .core.ir import paused_collector, var
from .core.ops import CONSTANTS
from .core.pretty import derivative_lines, usable_names
from .core.printer import to_text
from .core.program import Program, finite_float
from .views.hooks import NotebookDisplay

TYPE_CHECKING = False  # typing is slow to import; type checkers read this as True
if TYPE_CHECKING:
    from typing import Any

    from .crosscheck import CheckReport

_FLOAT = {float}
_NOT_GIVEN = object()  # batch's strict, when no keyword gives it
# Python binds keywords by scanning the parameter list, so for very many inputs
# the checked path (one list, built once) is the faster one.
KEYWORD_FAST_PATH = 64
# From this many operations on, a backend with ``first_call_on_tape`` answers a first
# call on the tape, and prints and compiles its code at the second: the tape costs a
# twentieth of the commented code and a third of the compact code, so a program
# evaluated once never waits for CPython's compile, and one called again pays a little.
FIRST_CALL_ON_TAPE = 1_000


class CompiledFunction(NotebookDisplay):
    """A program compiled to straight-line Python that returns its value and gradient.

    ``variables`` are the inputs in order of first appearance; call it with them
    by name (or in that order) to get the value, or use ``value_and_grad``.
    """

    def __init__(self, expression: Expression, wrt: Iterable[str] | None = None,
                 backend: str = backends.DEFAULT) -> None:
        if not isinstance(expression, Expression):
            raise TypeError(f"expected an Expression, not {type(expression).__name__}")
        self.expression = expression
        with paused_collector():
            self._build(expression, wrt, backend)

    def _build(self, expression, wrt, backend):
        """The program; code is printed and loaded when something first calls it."""
        self._backend = backends.get(backend)
        self.program = Program(expression, wrt, self._backend.max_operations)
        self.variables, self.wrt = self.program.variables, self.program.wrt
        self._inputs = set(self.variables)
        self.backend = backend
        # The unchecked call needs the user's names as parameters, and a backend whose
        # code reports a hidden overflow itself (else the evaluator confirms each result).
        self._by_keyword = (self.program.params == self.variables  # no input was renamed
                            and len(self.variables) <= KEYWORD_FAST_PATH
                            and self._backend.checks_overflow)
        self._last_inputs = None
        self._label = _label(expression, len(self.program.forward))
        self._artifacts = {}  # kind -> what the backend printed
        self._value_and_grad = None
        self._value = None
        self._taped = set()  # the kinds whose first call the tape answered
        self._batches = {}  # backend name -> its compiled batch function
        self._derivatives = None
        self._second = None
        self._forward = None

    def __reduce__(self):
        """Pickle as the graph in plain rows; unpickling passes them through the gate."""
        return (_rebuild, (to_plain(self.expression), self.wrt, self.backend))

    def __repr__(self):
        return f"<symgrad compiled {self._label!r} of ({', '.join(self.variables)})>"

    def artifact(self, kind: str = "value_and_grad", backend: str | None = None) -> Any:
        """What ``backend`` (this function's by default) printed for ``kind``, printed once."""
        printer = self._backend if backend is None else backends.get(backend)
        key = (printer.name, kind)
        if key not in self._artifacts:
            with paused_collector():  # printing allocates a few objects per step, no cycles
                self._artifacts[key] = printer.emit(self.program, kind)
        return self._artifacts[key]

    @property
    def source(self) -> str:
        """The generated ``value_and_grad`` function's code."""
        return self.artifact().source

    def _load(self, kind, backend=None):
        """The compiled ``kind``, printed and loaded now."""
        printer = self._backend if backend is None else backend
        if printer.max_depth is not None and (depth := self.program.depth()) > printer.max_depth:
            raise TooLargeError(f"the program is a chain {depth:,} operations "
                                f"deep; the {printer.name} backend compiles at most "
                                f"{printer.max_depth:,} (its compiler crashes on deeper ones): "
                                "use backend='numpy' or 'python'")
        artifact = self.artifact(kind, printer.name)
        with paused_collector():
            function = printer.load(artifact, self.program, self._label, self)
        if printer.checks_overflow or kind not in ("value", "value_and_grad"):
            return function
        # NumPy warns where a value overflows or leaves the reals; symgrad then evaluates
        # the point again and raises naming the step, so a warning would only repeat it.
        return partial(_without_warnings, _numpy(), function)

    def _first(self, kind):
        """The function that answers the next call of ``kind``: the loaded code, or for a
        large program on a backend whose numbers the tape's match bit for bit, the
        tape's, once (it takes the inputs in order, so the checked path calls it)."""
        if (not self._backend.first_call_on_tape or kind in self._taped
                or len(self.program.forward) < FIRST_CALL_ON_TAPE):
            return self._load(kind)
        from .backends.tape import Tape

        self._taped.add(kind)
        with paused_collector():
            function = getattr(Tape(self.program), kind)

        def once(*point):
            setattr(self, f"_{kind}", None)  # the next call prints and loads the code
            return function(*point)

        return once

    def __call__(self, /, *args: float, **inputs: float) -> float:
        """The value at the given inputs, as a float."""
        point = self._bind(args, inputs)
        if self._value is None:
            self._value = self._first("value")
        try:
            value = self._value(*point)
        except (ArithmeticError, ValueError) as error:
            raise self._diagnose(point, error) from None
        if not math.isfinite(value):
            raise self._diagnose(point, None, gradients=False) or self._not_finite(point, value)
        if not self._backend.checks_overflow:  # an overflow a later step hid
            problem = self._diagnose(point, None, gradients=False)
            if problem is not None:
                raise problem
        return float(value)

    def value_and_grad(self, /, *args: float, **inputs: float) -> tuple[float, dict[str, float]]:
        """``(value, {input: d value / d input})`` at the given inputs, all floats."""
        if self._value_and_grad is None:
            self._value_and_grad = self._first("value_and_grad")
        if (not args and self._by_keyword and set(map(type, inputs.values())) <= _FLOAT
                and math.isfinite(sum(inputs.values()))):
            # The common call: Python binds the keywords itself.  Anything unusual
            # (a missing name, a domain error, a result that is not finite) is
            # left to the checked path below, which explains it.
            try:
                value, grads = self._value_and_grad(**inputs)
            except (TypeError, ArithmeticError, ValueError):
                pass
            else:
                if math.isfinite(sum(grads, value)):
                    self._last_inputs = inputs
                    return value, dict(zip(self.wrt, grads))
        point = self._bind(args, inputs)
        try:
            value, grads = self._value_and_grad(*point)
        except (ArithmeticError, ValueError) as error:
            raise self._diagnose(point, error) from None
        finite = math.isfinite(sum(grads, value))
        if not finite or not self._backend.checks_overflow:
            # A result that is not finite, or on a backend whose code does not report an
            # overflow a later step hid (1/(x*x) at 1e200): the evaluator decides.
            problem = self._diagnose(point, None)
            if problem is not None:
                raise problem
        if not finite:  # no step's fault: a constant inf (1e400), or XLA's zeroed subnormals
            raise self._not_finite(point, value, grads)
        self._last_inputs = dict(zip(self.variables, point))
        return float(value), dict(zip(self.wrt, map(float, grads)))  # NumPy's too

    @property
    def last_point(self) -> list[float] | None:
        """The inputs of the last ``value_and_grad`` (in ``variables`` order), or None."""
        if self._last_inputs is None:
            return None
        return [self._last_inputs[name] for name in self.variables]

    def batch(self, inputs: Mapping[str, Any] | None = None, /, strict: Any = _NOT_GIVEN,
              **keywords: Any) -> tuple[Any, dict[str, Any]]:
        """Value and gradient over NumPy arrays: ``(values, {input: gradients})``.

        Inputs may be arrays or numbers; they broadcast against each other and
        every result has their common shape.  NumPy's rules apply (log(-1) is
        nan), unless ``strict``: then a non-finite input or result raises
        ``EvaluationError`` naming the subexpression and the batch index.
        Inputs come as keywords, or as one mapping (``f.batch({"x": xs}, strict=True)``);
        a program's input called ``strict`` is a keyword like the others.
        """
        np = _numpy()
        if inputs is None:
            inputs = keywords
            if "strict" in self._inputs and strict is not _NOT_GIVEN:
                inputs["strict"], strict = strict, _NOT_GIVEN
        elif keywords:
            raise TypeError(f"give the inputs as one mapping or as keywords, not both "
                            f"(keywords: {', '.join(keywords)})")
        strict = False if strict is _NOT_GIVEN else strict

        missing = [name for name in self.variables if name not in inputs]
        unexpected = [name for name in inputs if name not in self._inputs]
        if missing or unexpected:
            raise TypeError(f"missing inputs: {', '.join(missing) or 'none'}; "
                            f"unexpected inputs: {', '.join(unexpected) or 'none'}")
        arrays = [real_array(name, inputs[name]) for name in self.variables]
        shape = np.broadcast_shapes(*(a.shape for a in arrays))
        arrays = [np.broadcast_to(a, shape) for a in arrays]
        flags = []  # strict: NumPy reports each floating-point error here, as (message, bit)
        self._batch_function(strict)  # loaded here: an error loading is no evaluation's
        try:
            value, grads = self._run_batch(arrays, "call" if strict else "ignore",
                                           lambda *flag: flags.append(flag), strict)
        except (ArithmeticError, ValueError) as error:
            if not strict:  # only Python's own arithmetic raises here: NumPy's never does
                raise EvaluationError(f"batch evaluation failed: {error}") from None
            flags.append(error)
            value, grads = self._run_batch(arrays, "ignore", strict=True)
        # Results may be scalars, inputs or one array twice: each becomes its own array.
        taken = set()
        value = _own_array(value, shape, taken)
        grads = [_own_array(g, shape, taken) for g in grads]
        grads = dict(zip(self.wrt, grads))
        results = [*arrays, value, *grads.values()]
        if strict and (flags or not all(np.isfinite(a).all() for a in results)):
            raise self._locate_batch(arrays, results, bool(flags))
        return value, grads

    def _run_batch(self, arrays, mode, call=None, strict=False):
        """The compiled batch over ``arrays``, NumPy's floating-point errors set to ``mode``."""
        import numpy as np

        function = self._batch_function(strict)
        # Underflow to zero (sigmoid far out) is a correct result, never an error.
        with np.errstate(divide=mode, over=mode, invalid=mode, under="ignore", call=call):
            return function(*arrays)

    def _batch_backend(self, strict):
        """The backend of batches.  Strict batches need floating-point errors reported,
        which JAX never does: on such a backend they run on NumPy, the same program."""
        backend = backends.for_kind(self.backend, "batch")
        if strict and not backend.floating_point_flags:
            backend = backends.get(backends.BATCH_FALLBACK)
        return backend

    def _batch_function(self, strict):
        """The compiled batch, printed and loaded on first use."""
        backend = self._batch_backend(strict)
        if backend.name not in self._batches:
            self._batches[backend.name] = self._load("batch", backend)
        return self._batches[backend.name]

    def _raises(self, flat, start, stop):
        """Whether elements ``start:stop`` of the flat inputs raise a floating-point error."""
        try:
            self._run_batch([a[start:stop] for a in flat], "raise", strict=True)
        except (ArithmeticError, ValueError):
            return True
        return False

    def _locate_batch(self, arrays, results, flagged):
        """The scalar path's error at the first failing element, found with array operations.

        The first element with a non-finite input or result is found by NumPy; an
        error whose non-finite value vanished before the result (``tanh(1/x)`` at
        0, flagged by NumPy only) is found by bisection, in about 2 batch passes.
        """
        import numpy as np

        shape = arrays[0].shape if arrays else results[0].shape
        flat = [a.ravel() for a in arrays]
        finite = np.logical_and.reduce([np.isfinite(a).ravel() for a in results])
        bad = np.flatnonzero(~finite)
        first = int(bad[0]) if bad.size else finite.size
        if flagged and (bad.size == 0 or self._raises(flat, 0, first)):
            low, high = 0, first  # the first element that raises lies in low:high
            while high - low > 1:
                middle = (low + high) // 2
                low, high = (low, middle) if self._raises(flat, low, middle) else (middle, high)
            first = low
        index = tuple(int(i) for i in np.unravel_index(first, shape))
        point = [float(a[first]) for a in flat]
        for name, x in zip(self.variables, point):
            if not math.isfinite(x):
                return EvaluationError(f"input {name} = {x} is not a finite number "
                                       f"(batch index {index})", name)
        problem = self._diagnose(point, None)
        if problem is not None:
            return EvaluationError(f"{problem} (batch index {index})", problem.expression,
                                   problem.operation, problem.node)
        return EvaluationError(f"batch evaluation failed at batch index {index}: NumPy reports "
                               "a floating-point error the scalar path does not")

    @property
    def gradients(self) -> dict[str, Expression]:
        """{input: ``Expression`` of d value / d input}, built by the backward pass."""
        nodes = gradient_nodes(self.expression.root, self.wrt, self.program.backward)
        return {name: Expression(node, self.variables) for name, node in nodes.items()}

    @property
    def derivatives(self) -> dict[str, str]:
        """{input: its derivative as text in symgrad's language, tidied for reading}.

        Values the program named (``o = tanh(n)``) appear by their name
        (``(1 - o**2)*x1``); ``derivatives_expanded`` spells everything out.
        """
        if self._derivatives is None:
            self._derivatives = self._derivative_texts(
                usable_names(self.expression.labels, self.variables))
        return dict(self._derivatives)

    @property
    def module_source(self):
        """``source`` as a module that runs on its own: imports and helpers first."""
        return self._backend.module(self.program, "value_and_grad")

    # Second derivatives and forward mode (see ``symgrad.derivatives``) -----------------

    def _second_order(self):
        if self._second is None:
            from .derivatives import SecondOrder

            self._second = SecondOrder(self)
        return self._second

    def _forward_mode(self):
        if self._forward is None:
            from .derivatives import ForwardMode

            self._forward = ForwardMode(self)
        return self._forward

    def hessian(self, /, *args, **inputs):
        """``{a: {b: d2 value / da db}}`` for every pair of ``wrt`` inputs, all floats."""
        return self._second_order().hessian(self._bind(args, inputs))

    def hvp(self, inputs, vector):
        """``{a: (H v)[a]}``: the Hessian times ``vector`` ({input: number}, missing ones 0),
        by one reverse pass over ``grad . v``, without building the Hessian."""
        point = self._bind((), dict(inputs))
        from .derivatives import direction

        return self._second_order().hvp(point, direction("vector", vector, self.wrt))

    def jvp(self, inputs, tangents):
        """``(value, directional derivative)`` along ``tangents`` ({input: number}, missing
        ones 0), by the generated forward-mode code."""
        point = self._bind((), dict(inputs))
        from .derivatives import direction

        return self._forward_mode().jvp(point, direction("tangents", tangents, self.wrt))

    @property
    def second_derivatives(self):
        """{a: {b: d2 value / da db as text}}: the backward pass differentiated again."""
        return self._second_order().formulas()

    @property
    def hessian_source(self):
        """The module of ``hvp`` and ``hessian``, runnable on its own."""
        return self._second_order().module_source()

    @property
    def forward_source(self):
        """The forward-mode module: ``jvp``, each value followed by its tangent."""
        return self._forward_mode().module_source()

    @property
    def tangent_program(self):
        """The forward-mode schedule (``symgrad.core.forward.TangentProgram``)."""
        return self._forward_mode().schedule

    @property
    def derivatives_expanded(self):
        """{input: its derivative as text that stands alone, over the inputs only}."""
        return self._derivative_texts({})

    def _derivative_texts(self, names):
        # pi and e print by name unless the program uses the name (pi = a*b): once for all.
        named = CONSTANTS.keys() - set(self.variables) - set(self.expression.labels.values())
        return {name: "; ".join(derivative_lines(grad.root, self.variables, names, named))
                for name, grad in self.gradients.items()}

    def check(self, **options: Any) -> CheckReport:
        """Cross-check every gradient with SymPy and finite differences (see ``symgrad.check``)."""
        from .crosscheck import check

        return check(self, **options)

    def _bind(self, args, inputs):
        """The inputs as floats in ``variables`` order; TypeError naming what is wrong."""
        if not args and len(inputs) == len(self.variables):
            try:
                point = [inputs[name] for name in self.variables]
            except KeyError:
                pass  # the slow path below names what is missing
            else:
                # Fast path for the common call: finite floats (x - x is nan for inf and nan).
                if all(type(x) is float and x - x == 0.0 for x in point):
                    return point
                return [finite_float(f"input {name}", x, name)
                        for name, x in zip(self.variables, point)]
        if len(args) > len(self.variables):
            raise TypeError(f"expected at most {len(self.variables)} positional inputs "
                            f"({', '.join(self.variables)}), got {len(args)}")
        values = dict(zip(self.variables, args))
        twice = [name for name in inputs if name in values]
        if twice:
            raise TypeError(f"input given twice: {', '.join(twice)}")
        values.update(inputs)
        missing = [name for name in self.variables if name not in values]
        unexpected = [name for name in values if name not in self._inputs]
        problems = [f"{kind} input{'s' if len(names) > 1 else ''}: {', '.join(names)}"
                    for kind, names in (("missing", missing), ("unexpected", unexpected)) if names]
        if problems:
            inputs = ", ".join(self.variables) or "none"
            raise TypeError(f"{'; '.join(problems)} (inputs are: {inputs})")
        return [finite_float(f"input {name}", values[name], name) for name in self.variables]

    def _not_finite(self, point, value, grads=()):
        """The error for a result that is not finite where no step of the evaluator fails:
        a constant (1e400), or a backend's arithmetic (XLA flushes subnormals to zero)."""
        results = {"": value, **dict(zip(self.wrt, grads))}  # "": the value
        name = next(name for name, number in results.items() if not math.isfinite(number))
        what = f"the gradient of {name}" if name else "the value"
        trace = self.program.evaluate(dict(zip(self.variables, point)), bool(grads))
        exact = trace.grads.get(var(name), 0.0) if name else trace.value_of(self.program.root)
        if not math.isfinite(exact):
            return EvaluationError(f"{what} is not finite")
        return EvaluationError(f"{what} is {results[name]} on the {self.backend} backend, but "
                               f"{exact!r} evaluated step by step: that backend's arithmetic "
                               "differs here (XLA treats subnormal numbers such as 1e-310 as "
                               "0); backend='python' computes it")

    def _diagnose(self, point, error, gradients=True):
        """An ``EvaluationError`` for the first step that fails or leaves the finite numbers."""
        try:
            self.program.evaluate(dict(zip(self.variables, point)), gradients)
        except EvaluationError as problem:
            return problem
        return EvaluationError(f"evaluation failed: {error}") if error else None

    def to_html(self, point: Mapping[str, float] | None = None,
                path: str | os.PathLike[str] | None = None) -> str:
        """A page stepping through the forward and backward pass at ``point`` (see ``views.html``).

        ``point`` ({input: number}) defaults to the last ``value_and_grad`` inputs.
        Returns the HTML text; with ``path``, also writes it there.
        """
        if point is None:
            if self._last_inputs is None:
                raise SymgradError("to_html needs a point: pass point={input: value}, or call "
                                   "value_and_grad first")
            point = self._last_inputs
        from .views.html import to_html

        page = to_html(self.program, point, self.artifact("value_and_grad", backends.DEFAULT))
        if path is not None:
            with open(path, "w", encoding="utf-8") as stream:
                stream.write(page)
        return page


# Beyond this many operations a function is named by its size: the text of a long
# left-leaning chain starts at its deepest operand, so even 40 characters of it
# cost a walk over the whole chain.
LABEL_SIZE = 10_000


def _label(expression, operations):
    """A short name for the function: its text up to 40 characters, or its size."""
    if operations > LABEL_SIZE:
        return f"a program of {operations:,} operations"
    return to_text(expression.root, expression.labels, limit=40)


def _without_warnings(np, function, /, *args, **inputs):
    with np.errstate(all="ignore"):
        return function(*args, **inputs)


def _numpy():
    """NumPy, imported on first use; without it, an error naming the extra that installs it."""
    try:
        import numpy
    except ImportError:
        raise SymgradError("batches need NumPy, which is not installed: "
                           "pip install 'symgrad[batch]'") from None
    return numpy


def _own_array(result, shape, taken):
    """``result`` as a float array of ``shape`` that shares no memory with an input or
    another result (``taken``: the ids of those already returned); copied only if not."""
    import numpy as np

    if (type(result) is np.ndarray and result.shape == shape and result.dtype == np.float64
            and result.base is None and result.flags.writeable and id(result) not in taken):
        taken.add(id(result))
        return result  # a fresh array the generated code made: the copy would be waste
    return np.broadcast_to(result, shape).astype(float, copy=True)


def _rebuild(plain, wrt, backend=backends.DEFAULT):
    """A ``CompiledFunction`` from its pickled form (see ``__reduce__``), through the gate."""
    expression = from_plain_expression(plain)
    if wrt is not None and (type(wrt) not in (list, tuple)
                            or not all(isinstance(name, str) for name in wrt)):
        raise SymgradError("not a pickled symgrad function: wrt is not a list of names")
    return CompiledFunction(expression, wrt, backend)
