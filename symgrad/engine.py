"""micrograd's ``Value``, driven by symgrad's operator table.

A ``Value`` computes eagerly and records its operands, as in micrograd.  Forward
values come from each operator's table template; the backward pass applies the
table's partials, precompiled once per operator into small functions shared by
every node.  No node holds a closure, so graphs form no reference cycles and
CPython frees them without the cyclic garbage collector.  The topological sort
is iterative (no recursion limit) and operands are kept in order.
"""

import re
from operator import attrgetter

from . import ir
from .autodiff import partial_pattern
from .codegen import PYTHON, inline_code
from .errors import EvaluationError
from .expression import Expression
from .notebook import NotebookDisplay
from .ops import FUNCTIONS, OPS
from .runtime import PYTHON_GLOBALS, scalar_function

_NUMBER = (int, float)
_OPERANDS = attrgetter("_prev")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def _backward_source(op_name, wanted):
    """Source of one backward rule: ``operand.grad += node.grad * partial`` per wanted operand."""
    op = OPS[op_name]
    operands = ("a", "b")[: op.arity]
    names = {ir.var("x"): "x", ir.var("y"): "y", ir.var("out"): "out"}
    lines = [f"def backward(node):",
             f"    {', '.join(operands)}, = node._prev",
             f"    x = a.data" + ("; y = b.data" if op.arity == 2 else ""),
             "    out = node.data; g = node.grad"]
    for index in wanted:
        partial = inline_code(PYTHON, partial_pattern(op_name, index)[-1], names)
        lines.append(f"    {operands[index]}.grad += g * ({partial})")
    return "\n".join(lines) + "\n"


def _backward_rule(op_name, wanted):
    namespace = dict(PYTHON_GLOBALS)
    exec(_backward_source(op_name, wanted), namespace)  # built from the table alone
    return namespace["backward"]


# (operator, which operands take a gradient) -> backward rule; numbers take none.
_RULES = {}
for _name, _op in OPS.items():
    for _wanted in ([(0,)] if _op.arity == 1 else [(0, 1), (0,), (1,)]):
        _RULES[_name, _wanted] = _backward_rule(_name, _wanted)
_FORWARD = {name: scalar_function(name) for name in OPS}
_SPELLING = {name: op.symbol or name for name, op in OPS.items()}
_OP_OF = {(op.symbol or name, op.arity): name for name, op in OPS.items()}


class Value(NotebookDisplay):
    """A scalar and its gradient, as in micrograd: ``Value(2.0) * 3`` builds a graph.

    ``data`` is the value, ``grad`` d(output)/d(this value) after ``backward()``,
    ``_prev`` the operands (a tuple, in order), ``_op`` the operator ('+', 'tanh'...),
    ``label`` an optional name used when the graph becomes an ``Expression``.
    """

    __slots__ = ("data", "grad", "_prev", "_op", "label", "_rule", "__weakref__")

    def __init__(self, data, _children=(), _op="", label=""):
        self.data = float(data)
        self.grad = 0.0
        self._prev = tuple(_children)
        self._op = _op
        self.label = label
        self._rule = None

    def __repr__(self):
        return f"Value(data={self.data}, grad={self.grad})"

    def backward(self):
        """Fill ``grad`` of every value below this one (gradients add up, as in micrograd)."""
        order = topological_order(self)
        self.grad = 1.0
        node = self
        try:
            for node in reversed(order):
                if node._rule is not None:
                    node._rule(node)
        except (ArithmeticError, ValueError) as error:
            raise EvaluationError(f"the gradient of {node._op} at operands "
                                  f"{[v.data for v in node._prev]} does not exist: {error}",
                                  node._op) from None

    def to_expression(self, names=None):
        """This graph as a symgrad ``Expression``, ready for ``symgrad.compile``.

        Leaf Values become input variables called by ``names[value]``, else their
        ``label``, else ``v1, v2, ...``; numbers stay constants.
        """
        root, variables, labels = to_ir(self, names)
        return Expression(root, variables, labels)



class Constant(Value):
    """A number that met a Value: part of the graph, never differentiated."""

    __slots__ = ()


def _make(data, operands, op_name, rule):
    """A new Value, its slots set directly: the hot path of every operation."""
    out = _new(Value)
    out.data, out.grad, out._prev = data, 0.0, operands
    out._op, out.label, out._rule = _SPELLING[op_name], "", rule
    return out


def _undefined(op_name, operands, error):
    text = ", ".join(repr(v.data) for v in operands)
    return EvaluationError(f"{op_name}({text}) is undefined: {error}", op_name)


def _binary(op_name, reflected=False):
    """The method for ``self <op> other`` (or ``other <op> self`` when ``reflected``)."""
    forward = _FORWARD[op_name]
    both, first, second = (_RULES[op_name, w] for w in ((0, 1), (0,), (1,)))

    def method(self, other):
        if isinstance(other, Value):
            takes_grad = type(other) is not Constant
        elif isinstance(other, _NUMBER):
            other, takes_grad = Constant(other), False
        else:
            return NotImplemented
        x, y = (other, self) if reflected else (self, other)
        rule = both if takes_grad else (second if reflected else first)
        try:
            data = forward(x.data, y.data)
        except (ArithmeticError, ValueError) as error:
            raise _undefined(op_name, (x, y), error) from None
        return _make(data, (x, y), op_name, rule)

    method.__name__ = f"__{'r' if reflected else ''}{op_name}__"
    return method


def _unary(op_name):
    forward, rule = _FORWARD[op_name], _RULES[op_name, (0,)]

    def method(self):
        try:
            data = forward(self.data)
        except (ArithmeticError, ValueError) as error:
            raise _undefined(op_name, (self,), error) from None
        return _make(data, (self,), op_name, rule)

    method.__name__ = op_name
    method.__doc__ = f"{op_name}(self): {OPS[op_name].rule}."
    return method


_new = object.__new__
for _name, _dunder in [("add", "add"), ("sub", "sub"), ("mul", "mul"), ("div", "truediv"),
                       ("pow", "pow")]:
    setattr(Value, f"__{_dunder}__", _binary(_name))
    setattr(Value, f"__r{_dunder}__", _binary(_name, reflected=True))
Value.__neg__ = _unary("neg")
Value.__abs__ = _unary("abs")
for _name, _op in FUNCTIONS.items():  # relu, tanh, exp, log, sigmoid, sqrt, sin, cos
    if not _op.helper and _name != "abs":
        setattr(Value, _name, _unary(_name))


def topological_order(root):
    """Every Value below ``root``, each after its operands; iterative, operands in order."""
    return ir.topological_order([root], operands=_OPERANDS)


def to_ir(root, names=None):
    """(IR root, input variable names, labels) of the graph of Values below ``root``."""
    names = dict(names or {})
    order = topological_order(root)
    taken = set(names.values()) | set(FUNCTIONS)
    built, variables, labels, counter = {}, [], {}, 0
    for value in order:
        if type(value) is Constant:
            built[value] = ir.const(value.data)
        elif not value._prev:
            name = names.get(value)
            if name is None:
                name = value.label if _usable(value.label, taken) else None
                while name is None:
                    counter += 1
                    name = f"v{counter}" if f"v{counter}" not in taken else None
                taken.add(name)
            built[value] = ir.var(name)
            variables.append(name)
        else:
            op_name = _OP_OF[value._op, len(value._prev)]
            node = ir.apply(op_name, *(built[v] for v in value._prev))
            built[value] = node
            if _usable(value.label, taken) and node.args and node not in labels:
                labels[node] = value.label
                taken.add(value.label)
    return built[root], variables, labels


def _usable(label, taken):
    return bool(label) and _IDENTIFIER.match(label) is not None and label not in taken
