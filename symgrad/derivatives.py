"""Second derivatives and forward mode of a compiled function, as generated code.

``SecondOrder`` compiles the program ``grad f . v`` (``core.higher``), whose
reverse pass gives the Hessian-vector product; the Hessian is that product with
each unit vector.  ``ForwardMode`` compiles the tangent schedule
(``core.forward``).  Both print through a backend and run only what it printed;
failures are traced back by the core's evaluators.
"""

import math

from . import backends
from .core.errors import EvaluationError
from .core.forward import TangentProgram
from .core.higher import hvp_expression, second_derivative_nodes
from .core.pretty import derivative_lines
from .core.program import Program, finite_float


def direction(name, given, wrt):
    """{input of wrt: float} from ``given``; unlisted inputs are 0, unknown names a TypeError."""
    if given is None:
        given = {}
    if not hasattr(given, "items"):
        raise TypeError(f"the {name} must be a dict {{input: number}}, not "
                        f"{type(given).__name__}")
    unknown = [str(key) for key in given if key not in wrt]
    if unknown:
        raise TypeError(f"the {name} has no component {', '.join(unknown)} "
                        f"(inputs of wrt: {', '.join(wrt) or 'none'})")
    return {key: finite_float(f"the {name}'s {key}", given.get(key, 0.0), key) for key in wrt}


class SecondOrder:
    """The Hessian-vector product of one function, compiled; the Hessian from it."""

    def __init__(self, function):
        self.function = function
        expression, self.vector = hvp_expression(function.expression, function.wrt)
        self.program = Program(expression, function.wrt)
        self.backend = backends.for_kind(function.backend, "hvp")
        self.artifact = self.backend.emit(self.program, "hvp")
        self.source = self.artifact.source
        self._hvp = self.backend.load(self.artifact, self.program, f"hvp of {function._label}",
                                      function)

    def module_source(self):
        """A module defining ``hvp`` and ``hessian`` (rows in wrt order), runnable on its own."""
        params = self.function.program.params
        n = len(self.function.wrt)
        rows = [", ".join(["1.0" if i == j else "0.0" for j in range(n)]) for i in range(n)]
        lines = ["", "", f"def hessian({', '.join(params)}):",
                 '    """Row by row: the Hessian-vector product with each unit vector."""',
                 "    return ("]
        lines += [f"        hvp({', '.join([*params, row])})[1]," for row in rows]
        lines.append("    )")
        return self.backend.module(self.program, "hvp", "\n".join(lines) + "\n")

    def hvp(self, point, vector):
        """{input of wrt: (H v) component} at ``point`` (floats in variables order)."""
        wrt = self.function.wrt
        values = [vector[name] for name in wrt]
        try:
            _, product = self._hvp(*point, *values)
        except (ArithmeticError, ValueError) as error:
            raise self._diagnose(point, values, error) from None
        if not math.isfinite(sum(product)):
            raise self._diagnose(point, values, None)
        return dict(zip(wrt, map(float, product)))

    def hessian(self, point):
        """{a: {b: d2f/da db}} at ``point``, one Hessian-vector product per row."""
        wrt = self.function.wrt
        return {a: self.hvp(point, {b: float(a == b) for b in wrt}) for a in wrt}

    def _diagnose(self, point, values, error):
        problem = self.function._diagnose(point, None)  # the first derivatives fail first
        if problem is not None:
            return problem
        inputs = dict(zip(self.function.variables, point))
        inputs.update(zip(self.vector.values(), values))
        try:
            self.program.evaluate(inputs)
        except EvaluationError as problem:
            return EvaluationError(f"second derivative: {problem}", problem.expression)
        return EvaluationError(f"a second derivative is not finite{f': {error}' if error else ''}")

    def formulas(self):
        """{a: {b: d2f/da db as text in symgrad's language}}, tidied as first derivatives are."""
        nodes = second_derivative_nodes(self.function.expression, self.function.wrt)
        inputs = self.function.variables
        return {a: {b: "; ".join(derivative_lines(node, inputs)) for b, node in row.items()}
                for a, row in nodes.items()}


class ForwardMode:
    """The forward-mode code of one function, compiled."""

    def __init__(self, function):
        self.function = function
        self.schedule = TangentProgram(function.program)
        self.backend = backends.for_kind(function.backend, "jvp")
        self.artifact = self.backend.emit(self.schedule, "jvp")
        self.source = self.artifact.source
        self._jvp = self.backend.load(self.artifact, self.schedule, f"jvp of {function._label}",
                                      function)

    def module_source(self):
        return self.backend.module(self.schedule, "jvp")

    def jvp(self, point, tangents):
        """(value, directional derivative) at ``point`` along ``tangents`` ({input: float})."""
        values = [tangents[name] for name in self.function.wrt]
        try:
            value, derivative = self._jvp(*point, *values)
        except (ArithmeticError, ValueError) as error:
            raise self._diagnose(point, tangents, error) from None
        if not math.isfinite(value + derivative):
            raise self._diagnose(point, tangents, None)
        return float(value), float(derivative)

    def _diagnose(self, point, tangents, error):
        try:
            self.schedule.evaluate(dict(zip(self.function.variables, point)), tangents)
        except EvaluationError as problem:
            return problem
        return EvaluationError(f"the value or its tangent is not finite"
                               f"{f': {error}' if error else ''}")
