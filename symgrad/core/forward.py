"""Forward mode: a program's forward pass with a tangent after each step.

For a direction ``dot`` (one number per input of ``wrt``), each value ``v`` of
the forward pass gets its tangent ``dot_v = sum over operands of
(d v/d operand) * dot_operand``.  The partials are the table's, instantiated by
``autodiff.local_derivative`` exactly as the backward pass does: forward mode
adds no column to the operator table.  ``TangentProgram`` is the schedule; the
Python backend prints it (kind ``jvp``).
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import NamedTuple

from .autodiff import local_derivative
from .errors import EvaluationError
from .ir import is_const, operators_of, var
from .printer import to_text
from .program import Names, Program


class Term(NamedTuple):
    """One operand's share of a tangent: ``local * tangent``."""

    index: int
    operand: object
    local: object  # IR of d node / d operand, over the forward nodes
    tangent: str  # the operand's tangent name


class TangentStep(NamedTuple):
    """One forward value and its tangent line: ``name = sum of terms``."""

    node: object
    name: str  # the tangent's identifier, ``dot_<value>``
    terms: tuple  # Terms, operands left to right; empty: the tangent is 0


@dataclass(frozen=True)
class TangentTrace:
    """Every number of one forward-mode evaluation."""

    values: dict  # node -> value: forward values and local derivatives
    tangents: dict  # node -> its tangent
    direction: dict  # input name -> its tangent


class TangentProgram:
    """The forward pass of ``program`` with one tangent line after each step.

    ``tangents`` maps each input of ``wrt`` (by name) to its tangent parameter;
    ``steps`` pairs every forward step with its ``TangentStep``; ``dot`` maps
    nodes to tangent identifiers.  Immutable once built.
    """

    __slots__ = ("program", "tangents", "steps", "dot", "_position", "__weakref__")

    def __init__(self, program):
        if not isinstance(program, Program):
            raise TypeError(f"a TangentProgram is built from a Program, not "
                            f"{type(program).__name__}")
        names = Names(set(program.variables) | set(program.labels.values()))
        names.taken.update(program.names.values())
        dot = {}
        for name in program.wrt:
            dot[var(name)] = names.fresh("dot_" + program.names[var(name)])
        tangents = {name: dot[var(name)] for name in program.wrt}
        steps = []
        for step in program.forward:
            node = step.node
            terms = []
            for index, operand in enumerate(node.args):
                if operand not in dot:
                    continue  # a constant, or no input of wrt below it
                local = local_derivative(node, index)
                if not is_const(local, 0):
                    terms.append(Term(index, operand, local, dot[operand]))
            if terms:
                dot[node] = names.fresh("dot_" + step.name)
            steps.append((step, TangentStep(node, dot.get(node), tuple(terms))))
        setattr_ = object.__setattr__
        setattr_(self, "program", program)
        setattr_(self, "tangents", MappingProxyType(tangents))
        setattr_(self, "steps", tuple(steps))
        setattr_(self, "dot", MappingProxyType(dot))
        setattr_(self, "_position", {step.node: i for i, step in enumerate(program.forward)})

    def operators(self):
        """Names of the operators the forward-mode code calls: steps and local derivatives."""
        return operators_of([step.node for step in self.program.forward] + [
            term.local for _, tangent in self.steps for term in tangent.terms])

    def __setattr__(self, name, value):
        raise AttributeError("a TangentProgram is immutable")

    @property
    def params(self):
        """The generated function's parameters: the inputs, then the tangents of ``wrt``."""
        return self.program.params + tuple(self.tangents.values())

    @property
    def result(self):
        """The tangent identifier of the result, or None when the result's tangent is 0."""
        return self.dot.get(self.program.root)

    def known(self, node):
        """The program's names of the values computed up to ``node``: what its tangent may use.

        A local derivative may be a value the forward pass computes only later
        (``1 - t1**2`` where ``t2 = t1**2`` follows); that one is written out.
        """
        return _Known(self.program.names, self._position, self._position[node])

    def local_text(self, term, node):
        """The local derivative of ``term`` of ``node``'s tangent, over known names."""
        names = self.known(node)
        return names[term.local] if term.local in names else to_text(term.local, names)

    def rule(self, tangent_step):
        """``tanh: d o/d n = 1 - o**2``: the rule of one tangent line over the program's names."""
        names = self.program.names
        node = tangent_step.node
        parts = [f"d {names[node]}/d {names[term.operand]} = {self.local_text(term, node)}"
                 for term in tangent_step.terms]
        return f"{node.op}: " + ", ".join(parts)

    def evaluate(self, point, direction):
        """Values and tangents at ``point`` along ``direction`` ({input of wrt: float}).

        Raises ``EvaluationError`` naming the subexpression whose value or local
        derivative fails or is not finite.
        """
        program = self.program
        values = dict(program.evaluate(point, gradients=False).values)
        tangents = {var(name): float(direction.get(name, 0.0)) for name in program.wrt}
        for _, tangent_step in self.steps:
            if not tangent_step.terms:
                continue
            total = 0.0
            for term in tangent_step.terms:
                total += self._value(tangent_step, term, values) * tangents[term.operand]
            if not math.isfinite(total):
                raise EvaluationError(
                    f"the tangent of {program.describe(tangent_step.node)} is not finite",
                    program.describe(tangent_step.node))
            tangents[tangent_step.node] = total
        return TangentTrace(values, tangents, dict(direction))

    def _value(self, tangent_step, term, values):
        try:
            return self.program.local_value(term.local, values)
        except EvaluationError:
            text = self.program.describe(tangent_step.node)
            raise EvaluationError(
                f"the derivative of {text} with respect to "
                f"{self.program.describe(term.operand)} does not exist here", text) from None


class _Known(Mapping):
    """``names`` restricted to inputs and forward values up to position ``limit``."""

    __slots__ = ("names", "position", "limit")

    def __init__(self, names, position, limit):
        self.names, self.position, self.limit = names, position, limit

    def __contains__(self, node):
        return node in self.names and self.position.get(node, -1) <= self.limit

    def __getitem__(self, node):
        if node not in self:
            raise KeyError(node)
        return self.names[node]

    def __iter__(self):
        return (node for node in self.names if node in self)

    def __len__(self):
        return sum(1 for _ in self)
