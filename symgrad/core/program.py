"""The Program: a function's forward and backward steps, in order, under their final names.

Built once per (expression, wrt), it is the compiler's hub: every backend prints
it, every view reads it, and ``evaluate`` is the one evaluator of it (errors,
``--explain``, drawings, the check).  Names follow the lecture: inputs and the
program's own names keep their names, other values are ``t1, t2, ...`` in
evaluation order, the result is ``out``, gradients are ``grad_<name>``.  One
allocator hands out every identifier, so a user's variable called ``lambda``,
``math``, ``relu``, ``out`` or ``grad_x`` cannot collide with anything in any
backend's code.
"""

from __future__ import annotations

import math
import numbers
from collections import namedtuple
from functools import partial
from operator import attrgetter
from types import MappingProxyType
from collections.abc import Iterable, Mapping

from .autodiff import chain_rule
from .errors import EvaluationError, GraphError, TooLargeError
from .expression import Expression
from .ir import MAX_OPERATIONS, operators_of, topological_order, var
from .ops import OPS
from .printer import to_program, to_text
from .runtime import scalar_function

TYPE_CHECKING = False  # typing is slow to import; type checkers read this as True
if TYPE_CHECKING:
    from .ir import Node

# Words no generated identifier may be, in any backend: each backend registers the
# words its code reserves (``symgrad.backends.register``).  C also keeps identifiers
# that begin with __ or _ and a capital (__LINE__) for its own macros, and Python
# its dunders: see ``_implementation_name``.
RESERVED = set()


def reserve(words):
    """Keep ``words`` out of every program's generated names from now on."""
    RESERVED.update(words)


class Names:
    """The one allocator of identifiers in generated code."""

    def __init__(self, user_names):
        self.user = set(user_names)
        self.taken = set()
        self.counter = 0
        self.suffix = {}  # base -> last number tried, so renaming stays linear

    def user_name(self, wanted):
        """The user's own name where every backend allows it, else a close renaming."""
        if _implementation_name(wanted):
            return self.fresh("v" + wanted)
        if wanted in RESERVED or wanted in self.taken:
            return self.fresh(wanted + "_" if wanted in RESERVED else wanted)
        self.taken.add(wanted)
        return wanted

    def fresh(self, base):
        """``base``, or ``base_2``, ``base_3``...: the first that nobody uses."""
        taken = self.taken
        if base not in taken and base not in self.user and base not in RESERVED:
            taken.add(base)  # most often: once per gradient of a big program
            return base
        # Names are never given back, so candidates tried before for ``base`` stay taken.
        number = self.suffix.get(base, 1)
        candidate = base if number == 1 else f"{base}_{number}"
        while candidate in self.taken or candidate in self.user or candidate in RESERVED:
            number += 1
            candidate = f"{base}_{number}"
        if number > 1:  # the base itself is taken from now on: no entry needed for it
            self.suffix[base] = number
        self.taken.add(candidate)
        return candidate

    def temporary(self):
        """The next of t1, t2, ... that nobody uses."""
        return self.temporaries(1)[0]

    def temporaries(self, count):
        """The next ``count`` of t1, t2, ... that nobody uses, made at once."""
        found = []
        while len(found) < count:
            start, self.counter = self.counter + 1, self.counter + count - len(found)
            found += [name for name in map("t{}".format, range(start, self.counter + 1))
                      if name not in self.taken and name not in self.user]
        self.taken.update(found)
        return found


def _implementation_name(name):
    """``__x`` or ``_X``: C reserves these for the compiler (it predefines some as macros)."""
    return name.startswith("__") or (name[:1] == "_" and name[1:2].isupper())


# The records are namedtuples: immutable, and built without typing's or dataclasses'
# class machinery, which costs milliseconds at every start of the command line.


class ForwardStep(namedtuple("ForwardStep", "node name op")):
    """One forward line: ``name = op(operands)``; ``op`` is the operator's table row."""

    __slots__ = ()

    @property
    def operands(self):
        return self.node.args


class BackwardStep(namedtuple("BackwardStep",
                              "node index operand local target upstream first")):
    """One chain-rule line: ``target (+)= upstream * local``.

    ``node`` passes its gradient (named ``upstream``) to its operand number ``index``
    (``operand``, whose gradient is ``target``); ``local`` is the IR of d node /
    d operand over the forward nodes; ``first`` whether this is the operand's first
    contribution ('=' rather than '+=').
    """

    __slots__ = ()

    @property
    def op(self):
        return OPS[self.node.op]


# A namedtuple's own constructor is a Python function: tuple.__new__ builds the
# records of a program of 10^5 operations in half the time.
_forward_step = partial(tuple.__new__, ForwardStep)
_backward_step = partial(tuple.__new__, BackwardStep)


class Contribution(namedtuple("Contribution", "step upstream local amount total")):
    """One backward step with its numbers: grad[operand] += grad[node] * local.

    ``upstream`` is the gradient arriving at ``step.node``, ``local`` the local
    derivative's value, ``amount`` their product, ``total`` the operand's gradient
    after adding it.
    """

    __slots__ = ()


class Trace(namedtuple("Trace", "values grads contributions")):
    """Every number of one evaluation: ``values`` {node: value} (inputs, operations and
    local derivatives), ``grads`` {node: its complete gradient}, ``contributions`` one
    ``Contribution`` per backward step, in order."""

    __slots__ = ()

    def value_of(self, node):
        return self.values[node] if node in self.values else node.value


class Program:
    """The straight-line schedule of one function's value and gradient.

    ``forward`` and ``backward`` are the steps in the order they run; ``nodes``
    is every node of the graph (inputs and constants too) in evaluation order, for
    views that draw it; ``names`` and ``grads`` map nodes to identifiers.
    Immutable once built.
    """

    __slots__ = ("expression", "variables", "wrt", "root", "nodes", "forward", "backward",
                 "names", "grads", "labels", "unreached", "__weakref__")
    expression: Expression
    variables: tuple[str, ...]
    wrt: tuple[str, ...]
    root: Node
    forward: tuple[ForwardStep, ...]
    backward: tuple[BackwardStep, ...]
    names: Mapping[Node, str]
    grads: Mapping[Node, str]
    labels: Mapping[Node, str]
    unreached: tuple[str, ...]

    def __init__(self, expression: Expression, wrt: Iterable[str] | None = None,
                 limit: int | None = None) -> None:
        if not isinstance(expression, Expression):
            raise TypeError(f"a Program is built from an Expression, not "
                            f"{type(expression).__name__}")
        # An Expression was admitted by the gate when it was made, and cannot change.
        variables, labels = expression.variables, expression.labels
        wrt = tuple(variables if wrt is None else (wrt,) if isinstance(wrt, str) else wrt)
        listed = set(variables)
        unknown = [name for name in wrt if name not in listed]
        if unknown:  # a GraphError is a ValueError too; a tampered pickle's wrt meets it
            raise GraphError(f"cannot differentiate with respect to {', '.join(map(str, unknown))}"
                             f": not an input (inputs: {', '.join(variables) or 'none'})")
        root = expression.root
        names = Names(set(variables) | set(labels.values()))
        node_names = {var(name): names.user_name(name) for name in variables}
        nodes = tuple(topological_order([root]))
        forward = list(filter(attrgetter("args"), nodes))
        beyond = ""
        if limit is None:  # the cap for backends that print source
            limit, beyond = MAX_OPERATIONS, (
                "; for more, build the graph through the API (symgrad.Expression, "
                "symgrad.tracing.trace) and compile it with backend='tape'")
        if len(forward) > limit:
            raise TooLargeError(f"the program has {len(forward):,} operations; symgrad compiles "
                                f"at most {limit:,} this way (memory grows with each one): split "
                                f"it into smaller programs{beyond}")
        forward_steps = []
        # Labels name operations of this graph only (the gate checked): the rest are t1, t2...
        unnamed = len(forward) - len(labels) - (bool(root.args) and root not in labels)
        temporaries = iter(names.temporaries(unnamed))
        for node in forward:
            if node in labels:
                name = names.user_name(labels[node])
            elif node is root:
                name = names.fresh("out")
            else:
                name = next(temporaries)
            node_names[node] = name
            forward_steps.append(_forward_step((node, name, OPS[node.op])))
        # Every input wanted: then a node needs a gradient exactly when it depends on one.
        steps = chain_rule(root, None if listed <= set(wrt) else wrt, nodes)
        grads = {} if root.op == "const" else {root: names.fresh("grad_" + node_names[root])}
        backward, fresh = [], names.fresh
        for node, index, operand, local in steps:
            target = grads.get(operand)
            first = target is None
            if first:
                target = grads[operand] = fresh("grad_" + node_names[operand])
            backward.append(_backward_step((node, index, operand, local, target, grads[node],
                                            first)))
        # Inputs of wrt that no step reaches: their gradient is 0.
        unreached = tuple(name for name in wrt if var(name) not in grads)
        for node in map(var, unreached):
            if node not in grads:
                grads[node] = names.fresh("grad_" + node_names[node])
        setattr_ = object.__setattr__
        setattr_(self, "expression", expression)
        setattr_(self, "variables", variables)
        setattr_(self, "wrt", wrt)
        setattr_(self, "root", root)
        setattr_(self, "nodes", nodes)
        setattr_(self, "forward", tuple(forward_steps))
        setattr_(self, "backward", tuple(backward))
        setattr_(self, "names", MappingProxyType(node_names))
        setattr_(self, "grads", MappingProxyType(grads))
        setattr_(self, "labels", MappingProxyType(labels))
        setattr_(self, "unreached", unreached)

    def __setattr__(self, name, value):
        raise AttributeError("a Program is immutable")

    def __repr__(self):
        return (f"<symgrad.Program {self.describe(self.root, 40)!r}: {len(self.forward)} forward"
                f", {len(self.backward)} backward steps>")

    @property
    def params(self):
        """The identifiers of the inputs in the generated function's signature."""
        return tuple(self.names[var(name)] for name in self.variables)

    @property
    def seed(self):
        """The gradient name of the result (``grad_out``), or None with no gradient to seed."""
        return self.grads.get(self.root)

    @property
    def value_name(self):
        """How generated code refers to the result: its name, or a literal if it is constant."""
        return self.names.get(self.root)

    def operators(self) -> set[str]:
        """Names of the operators the program's code calls: forward steps and local
        derivatives (a backend that prints the code needs their helpers)."""
        return operators_of([step.node for step in self.forward]
                            + [step.local for step in self.backward])

    def depth(self) -> int:
        """The longest chain of forward steps, each waiting for the one before (a
        200,000-term sum is 199,999 deep, a balanced tree of it 18): what compilers that
        recurse along chains (XLA's) are limited by, not the count of steps."""
        level = {}
        for node, _, _ in self.forward:
            level[node] = 1 + max([level.get(operand, 0) for operand in node.args])
        return level.get(self.root, 0)

    def grad_names(self) -> tuple[str, ...]:
        """The gradient identifiers of ``wrt``, in order."""
        return tuple(self.grads[var(name)] for name in self.wrt)

    # The text of a step: what comments, explanations and drawings show -------------

    def echo(self):
        """The program's lines as shown beside its code: a shared part named there keeps
        that name, and no line uses a name the code gives something else."""
        expression = self.expression
        return to_program(expression.root, expression.labels, reserved=expression.variables,
                          preferred=self.names)

    def statement(self, node):
        """``t2 = t1 + c``: a forward value over the names of its operands."""
        return f"{self.names[node]} = {to_text(node, self.names)}"

    def local_text(self, step, parenthesize=False):
        """The local derivative of ``step`` over generated names: ``1 - out**2``."""
        local = step.local
        if local in self.names:
            return self.names[local]
        text = to_text(local, self.names)
        return f"({text})" if parenthesize and local.args else text

    def rule(self, step):
        """``tanh: d out/d t2 = 1 - out**2``: one backward step's rule over generated names."""
        names = self.names
        return (f"{step.node.op}: d {names[step.node]}/d {names[step.operand]} = "
                f"{self.local_text(step)}")

    def describe(self, node, limit=100):
        """``node`` in the user's terms (their own names for other values), short enough to read."""
        labels = {n: name for n, name in self.labels.items() if n is not node}
        return to_text(node, labels, limit=limit)

    # The one evaluator ---------------------------------------------------------------

    def evaluate(self, point: Mapping[str, float], gradients: bool = True) -> Trace:
        """Every value and gradient at ``point`` ({input: float}), step by step.

        Returns a ``Trace``; raises ``EvaluationError`` naming the subexpression at
        the first step whose value or gradient fails or is not finite, with the
        numbers computed before it as the error's ``trace``.
        """
        values, grads, contributions = {}, {}, []
        try:
            self._run(point, gradients, values, grads, contributions)
        except EvaluationError as error:
            error.trace = Trace(values, grads, tuple(contributions))  # what was computed
            raise
        return Trace(values, grads, tuple(contributions))

    def _run(self, point, gradients, values, grads, contributions):
        for name in self.variables:
            x = point[name]
            if not math.isfinite(x):
                raise EvaluationError(f"input {name} = {x} is not a finite number", name)
            values[var(name)] = x
        for step in self.forward:
            self._compute(step.node, values, None)
        if not gradients:
            return
        grads[self.root] = 1.0
        for step in self.backward:
            upstream = grads[step.node]
            local = self.local_value(step.local, values, step)
            amount = upstream * local
            total = amount if step.first else grads[step.operand] + amount
            if not math.isfinite(total):
                raise EvaluationError(
                    f"the gradient with respect to {self._operand(step)} is not "
                    f"finite{self._context(step)}", self.describe(step.node),
                    self.describe(step.node), step.node)
            grads[step.operand] = total
            contributions.append(Contribution(step, upstream, local, amount, total))

    def local_value(self, local, values, step=None):
        """The value of a local derivative (IR over the forward nodes, whose values are in
        ``values``), computing into ``values`` the nodes it adds; ``step`` names the
        backward step in errors."""
        for node in self.local_operations(local, values):
            self._compute(node, values, step)
        return values[local] if local in values else local.value

    def local_operations(self, local, known):
        """The operations of the local derivative ``local`` not in ``known`` (nodes already
        computed), each after its operands: what an evaluator computes for it."""
        return [node for node in topological_order([local], known)
                if node.args and node not in known]

    def _compute(self, node, values, step):
        operands = [values[a] if a in values else a.value for a in node.args]
        try:
            result = scalar_function(node.op)(*operands)
        except (ArithmeticError, ValueError) as error:
            what = "overflows" if isinstance(error, OverflowError) else (
                f"is undefined: {_reason(error)}")
            text = self.describe(node)
            raise EvaluationError(f"{text} {what}{self._context(step)} "
                                  f"({self._operand_values(node, values)})", text,
                                  *self._operation(node, step)) from None
        if isinstance(result, complex) or not math.isfinite(result):
            text = self.describe(node)
            raise EvaluationError(f"{text} overflows to {result}{self._context(step)} "
                                  f"({self._operand_values(node, values)})", text,
                                  *self._operation(node, step))
        values[node] = result

    def _operation(self, node, step):
        """The operation that fails, as text and node: in a gradient, the one whose local
        derivative fails."""
        failing = node if step is None else step.node
        return self.describe(failing), failing

    def _operand(self, step):
        """The operand of a backward step by the program's own name for it, if it has one."""
        return self.labels.get(step.operand) or self.describe(step.operand)

    def _context(self, step):
        if step is None:
            return ""
        return (f" in the gradient of {self.describe(step.node)} with respect to "
                f"{self._operand(step)}")

    def _operand_values(self, node, values):
        shown = [arg for arg in dict.fromkeys(node.args) if arg.op != "const"]
        return ", ".join(f"{self.labels.get(arg) or self.describe(arg)} = "
                         f"{values[arg] if arg in values else arg.value!r}"
                         for arg in shown) or "all operands constant"


def _reason(error):
    if isinstance(error, ZeroDivisionError):
        return "division by zero"
    return str(error) or type(error).__name__


def finite_float(what, value, name):
    """``value`` as a finite float; ``what`` ("input x") says which in the errors.

    ``TypeError`` for anything that is not a real number (``True`` is not one);
    ``EvaluationError`` naming ``name`` for inf, nan and ints beyond the floats.
    """
    if type(value) is not int and (isinstance(value, bool) or not isinstance(value, numbers.Real)):
        raise TypeError(f"{what} must be a real number, not {type(value).__name__}")
    try:
        value = float(value)
    except OverflowError:  # an int beyond the floats
        value = math.inf if value > 0 else -math.inf
    if not math.isfinite(value):
        raise EvaluationError(f"{what} = {value} is not a finite number", name)
    return value
