"""The compiled function: generated source, its code, and friendly calling.

Only source that codegen generated from the graph is compiled here.  It is
registered in ``linecache`` under a fake file name, so tracebacks, ``pdb`` and
``inspect.getsource`` show it.  A value or gradient that fails or is not finite
is traced back to its subexpression by re-evaluating the graph step by step.
"""

import itertools
import linecache
import math
import numbers
import weakref

from . import ir
from .autodiff import gradient_nodes
from .codegen import NUMPY, emit, schedule
from .errors import EvaluationError
from .expression import Expression
from .notebook import NotebookDisplay
from .printer import to_program, to_text
from .runtime import PYTHON_GLOBALS, scalar_function

_serial = itertools.count(1)
_FLOAT = {float}


def compile_source(source, function_name, label, owner, globals_=PYTHON_GLOBALS):
    """Compile generated ``source`` and return its function ``function_name``.

    The source stays in ``linecache`` while ``owner`` lives.
    """
    filename = f"<symgrad {next(_serial)}: {label}>"
    code = compile(source, filename, "exec")
    namespace = dict(globals_)
    exec(code, namespace)  # generated from the graph; no user text reaches it
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    weakref.finalize(owner, linecache.cache.pop, filename, None)
    return namespace[function_name]


class CompiledFunction(NotebookDisplay):
    """A program compiled to straight-line Python that returns its value and gradient.

    ``variables`` are the inputs in order of first appearance; call it with them
    by name (or in that order) to get the value, or use ``value_and_grad``.
    """

    def __init__(self, expression, wrt=None):
        self.expression = expression
        self.variables = expression.variables
        self._inputs = set(self.variables)
        unknown = [name for name in (wrt or ()) if name not in self.variables]
        if unknown:
            raise ValueError(f"cannot differentiate with respect to {', '.join(unknown)}: "
                             f"not an input (inputs: {', '.join(self.variables) or 'none'})")
        self.wrt = tuple(self.variables if wrt is None else wrt)
        self._plan = schedule(expression, self.wrt)
        self._by_keyword = self._plan.params == self.variables  # no input was renamed
        self._last_inputs = None
        self.source = emit(self._plan)
        self._label = to_text(expression.root, expression.labels, limit=40)
        self._value_and_grad = compile_source(self.source, "value_and_grad", self._label, self)
        self._value = None
        self._batch = None
        self._derivatives = None

    def __reduce__(self):
        """Pickle as the graph in plain rows; unpickling compiles it again."""
        expression = self.expression
        rows = ir.to_rows([expression.root, *expression.labels])
        index = {node: i for i, node in enumerate(ir.topological_order(
            [expression.root, *expression.labels]))}
        labels = [(index[node], name) for node, name in expression.labels.items()]
        return (_rebuild, (rows, index[expression.root], expression.variables, labels,
                           expression.text, self.wrt))

    def __repr__(self):
        return f"<symgrad compiled {self._label!r} of ({', '.join(self.variables)})>"


    def __call__(self, /, *args, **inputs):
        """The value at the given inputs, as a float."""
        point = self._bind(args, inputs)
        if self._value is None:
            source = emit(self._plan, function_name="value", gradients=False)
            self._value = compile_source(source, "value", self._label, self)
        try:
            value = self._value(*point)
        except (ArithmeticError, ValueError) as error:
            raise self._diagnose(point, error) from None
        if not math.isfinite(value):
            raise self._diagnose(point, None) or EvaluationError("the value is not finite")
        return float(value)

    def value_and_grad(self, /, *args, **inputs):
        """``(value, {input: d value / d input})`` at the given inputs, all floats."""
        if not args and self._by_keyword and set(map(type, inputs.values())) <= _FLOAT:
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
        if not math.isfinite(sum(grads, value)):
            problem = self._diagnose(point, None)
            if problem is not None:
                raise problem
        self._last_inputs = dict(zip(self.variables, point))
        return float(value), dict(zip(self.wrt, grads))

    @property
    def last_point(self):
        """The inputs of the last ``value_and_grad`` (in ``variables`` order), or None."""
        if self._last_inputs is None:
            return None
        return [self._last_inputs[name] for name in self.variables]

    def batch(self, /, strict=False, **inputs):
        """Value and gradient over NumPy arrays: ``(values, {input: gradients})``.

        Inputs may be arrays or numbers; they broadcast against each other and
        every result has their common shape.  NumPy's rules apply (log(-1) is
        nan), unless ``strict``: then a non-finite input or result raises
        ``EvaluationError`` naming the subexpression and the batch index.
        """
        import numpy as np

        from .runtime_numpy import NUMPY_GLOBALS

        if self._batch is None:
            source = emit(self._plan, NUMPY, function_name="value_and_grad_batch")
            self._batch = compile_source(source, "value_and_grad_batch", self._label, self,
                                         NUMPY_GLOBALS)
        missing = [name for name in self.variables if name not in inputs]
        unexpected = [name for name in inputs if name not in self._inputs]
        if missing or unexpected:
            raise TypeError(f"missing inputs: {', '.join(missing) or 'none'}; "
                            f"unexpected inputs: {', '.join(unexpected) or 'none'}")
        arrays = [np.asarray(inputs[name], dtype=float) for name in self.variables]
        shape = np.broadcast_shapes(*(a.shape for a in arrays))
        arrays = [np.broadcast_to(a, shape) for a in arrays]
        mode = "raise" if strict else "ignore"
        # Underflow to zero (sigmoid far out) is a correct result, never an error.
        with np.errstate(divide=mode, over=mode, invalid=mode, under="ignore"):
            try:
                value, grads = self._batch(*arrays)
            except (ArithmeticError, FloatingPointError, ValueError) as error:
                raise self._diagnose_batch(arrays, error) from None
        value = np.broadcast_to(value, shape).astype(float, copy=True)
        grads = {name: np.broadcast_to(g, shape).astype(float, copy=True)
                 for name, g in zip(self.wrt, grads)}
        if strict and not all(np.isfinite(a).all() for a in [value, *grads.values()]):
            raise self._diagnose_batch(arrays, None)
        return value, grads

    def _diagnose_batch(self, arrays, error, limit=100_000):
        """The scalar path's error at the first failing element of a batch."""
        import numpy as np

        for count, index in enumerate(np.ndindex(arrays[0].shape if arrays else ())):
            if count == limit:
                break
            point = [float(a[index]) for a in arrays]
            for name, x in zip(self.variables, point):
                if not math.isfinite(x):
                    return EvaluationError(f"input {name} = {x} is not a finite number "
                                           f"(batch index {index})", name)
            problem = self._diagnose(point, None)
            if problem is not None:
                return EvaluationError(f"{problem} (batch index {index})", problem.expression)
        return EvaluationError(f"batch evaluation failed: {error or 'a result is not finite'}")

    @property
    def gradients(self):
        """{input: ``Expression`` of d value / d input}, built by the backward pass."""
        nodes = gradient_nodes(self.expression.root, self.wrt, self._plan.steps)
        return {name: Expression(node, self.variables) for name, node in nodes.items()}

    @property
    def derivatives(self):
        """{input: its derivative as text in symgrad's language}."""
        if self._derivatives is None:
            self._derivatives = {
                name: "; ".join(to_program(grad.root, reserved=self.variables))
                for name, grad in self.gradients.items()
            }
        return dict(self._derivatives)

    def check(self, **options):
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
                return [_as_float(name, x) for name, x in zip(self.variables, point)]
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
        return [_as_float(name, values[name]) for name in self.variables]

    def _diagnose(self, point, error):
        """An ``EvaluationError`` for the first step that fails or leaves the finite numbers."""
        return Diagnosis(self, point).run() or (
            EvaluationError(f"evaluation failed: {error}") if error else None)


class Diagnosis:
    """Re-evaluates a compiled program one node at a time to find where it broke."""

    def __init__(self, function, point):
        self.function = function
        self.plan = function._plan
        self.values = {ir.var(name): x for name, x in zip(function.variables, point)}

    def run(self):
        for node in self.plan.forward:
            problem = self.evaluate(node, None)
            if problem:
                return problem
        adjoint = {self.plan.root: 1.0}
        for step in self.plan.steps:
            for node in ir.topological_order([step.local], self.values):
                if node not in self.values:
                    problem = self.evaluate(node, step)
                    if problem:
                        return problem
            contribution = adjoint[step.node] * self.value(step.local)
            adjoint[step.operand] = adjoint.get(step.operand, 0.0) + contribution
            if not math.isfinite(adjoint[step.operand]):
                return EvaluationError(
                    f"the gradient with respect to {self.describe(step.operand)} is not "
                    f"finite{self.context(step)}", self.describe(step.node))
        return None

    def context(self, step):
        if step is None:
            return ""
        return (f" in the gradient of {self.describe(step.node)} with respect to "
                f"{self.describe(step.operand)}")

    def value(self, node):
        return self.values[node] if node in self.values else node.value

    def evaluate(self, node, step):
        """Compute one node; an error if it fails or is not finite (``step``: in a gradient)."""
        if not node.args:
            return None
        operands = [self.value(arg) for arg in node.args]
        try:
            result = scalar_function(node.op)(*operands)
        except (ArithmeticError, ValueError) as error:
            text, context = self.describe(node), self.context(step)
            what = "overflows" if isinstance(error, OverflowError) else (
                f"is undefined: {_reason(error)}")
            return EvaluationError(f"{text} {what}{context} ({self.operand_values(node)})", text)
        if isinstance(result, complex) or not math.isfinite(result):
            text, context = self.describe(node), self.context(step)
            return EvaluationError(f"{text} overflows to {result}{context} "
                                   f"({self.operand_values(node)})", text)
        self.values[node] = result
        return None

    def operand_values(self, node):
        labels = self.function.expression.labels
        shown = [arg for arg in dict.fromkeys(node.args) if arg.op != "const"]
        return ", ".join(f"{labels.get(arg) or self.describe(arg)} = {self.value(arg)!r}"
                         for arg in shown) or "all operands constant"

    def describe(self, node):
        """The node in the user's terms, short enough to read."""
        labels = {n: name for n, name in self.function.expression.labels.items() if n is not node}
        return to_text(node, labels, limit=100)


def _rebuild(rows, root, variables, labels, text, wrt):
    """A ``CompiledFunction`` from its pickled form (see ``__reduce__``)."""
    nodes = ir.from_rows(rows)
    expression = Expression(nodes[root], tuple(variables),
                            {nodes[i]: name for i, name in labels}, text)
    return CompiledFunction(expression, wrt)


def _reason(error):
    if isinstance(error, ZeroDivisionError):
        return "division by zero"
    return str(error) or type(error).__name__


def _as_float(name, value):
    if type(value) is not int and (isinstance(value, bool) or not isinstance(value, numbers.Real)):
        raise TypeError(f"input {name} must be a real number, not {type(value).__name__}")
    try:
        value = float(value)
    except OverflowError:  # an int beyond the floats
        value = math.inf
    if not math.isfinite(value):
        raise EvaluationError(f"input {name} = {value} is not a finite number", name)
    return value

