"""micrograd's ``Value``, driven by symgrad's operator table.

A ``Value`` computes eagerly and records its operands, as in micrograd.  Forward
values come from each operator's table template; the backward pass applies the
table's partials, precompiled once per operator into small functions shared by
every node.  No node holds a closure, so graphs form no reference cycles and
CPython frees them without the cyclic garbage collector.  The topological sort
is iterative (no recursion limit) and operands are kept in order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Mapping

import re
from operator import attrgetter

from ..backends.python import PRINTER
from ..core import ir
from ..core.autodiff import partial_pattern
from ..core.errors import EvaluationError, GraphError
from ..core.expression import Expression
from ..core.ops import FUNCTIONS, OPS
from ..core.runtime import PYTHON_GLOBALS, scalar_function
from ..views.notebook import NotebookDisplay

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
        partial = PRINTER.inline(partial_pattern(op_name, index)[-1], names)
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

    def __init__(self, data: float, _children: Iterable[Value] = (), _op: str = "",
                 label: str = "") -> None:
        self.data = float(data)
        self.grad = 0.0
        self._prev = tuple(_children)
        self._op = _op
        self.label = label
        self._rule = None

    def __repr__(self):
        return f"Value(data={self.data}, grad={self.grad})"

    if TYPE_CHECKING:  # for type checkers: the loop below the class adds these from OPS
        def __add__(self, other: Value | float) -> Value: ...
        def __radd__(self, other: Value | float) -> Value: ...
        def __sub__(self, other: Value | float) -> Value: ...
        def __rsub__(self, other: Value | float) -> Value: ...
        def __mul__(self, other: Value | float) -> Value: ...
        def __rmul__(self, other: Value | float) -> Value: ...
        def __truediv__(self, other: Value | float) -> Value: ...
        def __rtruediv__(self, other: Value | float) -> Value: ...
        def __pow__(self, other: Value | float) -> Value: ...
        def __rpow__(self, other: Value | float) -> Value: ...
        def __neg__(self) -> Value: ...
        def __abs__(self) -> Value: ...
        def abs(self) -> Value: ...
        def tanh(self) -> Value: ...
        def exp(self) -> Value: ...
        def log(self) -> Value: ...
        def sqrt(self) -> Value: ...
        def sin(self) -> Value: ...
        def cos(self) -> Value: ...
        def tan(self) -> Value: ...
        def atan(self) -> Value: ...
        def atan2(self, other: Value | float) -> Value: ...
        def relu(self) -> Value: ...
        def sigmoid(self) -> Value: ...

    def backward(self) -> None:
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

    def to_expression(self, names: Mapping[Value, str] | None = None) -> Expression:
        """This graph as a symgrad ``Expression``, ready for ``symgrad.compile``.

        Leaf Values become input variables called by ``names[value]``, else their
        ``label``, else ``v1, v2, ...``; numbers stay constants.
        """
        root, variables, labels, _ = to_ir(self, names)
        return Expression(root, variables, labels)

    def inputs(self, names: Mapping[Value, str] | None = None) -> dict[str, float]:
        """{input name: data} of the leaves, named as ``to_expression`` names them."""
        return to_ir(self, names)[3]

    def __reduce__(self):
        """Pickle as plain rows, one per Value below, so depth meets no recursion limit."""
        return (_from_rows, (to_rows(self),))

    def __deepcopy__(self, memo):
        """A copy of the graph below, built iteratively; shared Values stay shared."""
        for value in topological_order(self):
            if id(value) not in memo:
                copy = _new(type(value))
                copy.data, copy.grad, copy._op = value.data, value.grad, value._op
                copy.label, copy._rule = value.label, value._rule
                copy._prev = tuple(memo[id(v)] for v in value._prev)
                memo[id(value)] = copy
        return memo[id(self)]



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


def _binary_function(op_name):
    """The method ``self.atan2(other)`` of a binary function of the table."""
    forward = _binary(op_name)

    def method(self, other):
        result = forward(self, other)
        if result is NotImplemented:
            raise TypeError(f"{op_name}() needs a Value or a number, not {type(other).__name__}")
        return result

    method.__name__ = op_name
    method.__doc__ = f"{op_name}(self, other): {OPS[op_name].rule}."
    return method


_new = object.__new__
# Every operator of the table that is not internal, as micrograd spells it: +, -, *,
# /, ** and unary - as operators, abs() too, functions as methods (a binary one
# takes the other operand: a.atan2(b)).
for _name, _op in OPS.items():
    if _op.internal:
        continue
    if _op.dunder:
        if _op.arity == 2:
            setattr(Value, f"__{_op.dunder}__", _binary(_name))
            setattr(Value, f"__r{_op.dunder}__", _binary(_name, reflected=True))
        else:
            setattr(Value, f"__{_op.dunder}__", _unary(_name))
    if _op.symbol is None:
        setattr(Value, _name, _unary(_name) if _op.arity == 1 else _binary_function(_name))


_RULE_KEYS = {rule: key for key, rule in _RULES.items()}


def to_rows(root):
    """The graph below ``root`` as rows ``(constant?, data, grad, label, op, operands, rule)``.

    ``operands`` are indices of earlier rows; ``rule`` is the backward rule's key
    (operator, operands that take a gradient) or None.  The last row is ``root``.
    """
    order = topological_order(root)
    index = {value: i for i, value in enumerate(order)}
    return tuple((type(v) is Constant, v.data, v.grad, v.label, v._op,
                  tuple(index[p] for p in v._prev), _RULE_KEYS.get(v._rule)) for v in order)


def _from_rows(rows):
    """The root Value of ``rows`` (from ``to_rows``), each row checked: ``GraphError`` if bad."""
    if not isinstance(rows, tuple) or not rows:
        raise GraphError("not a pickled Value: expected a non-empty tuple of rows")
    built = []
    for row in rows:
        if not (isinstance(row, tuple) and len(row) == 7):
            raise GraphError("not a pickled Value: a row is not a 7-tuple")
        constant, data, grad, label, op, operands, rule = row
        if (type(constant) is not bool or type(data) is not float or type(grad) is not float
                or type(label) is not str or type(op) is not str
                or type(operands) is not tuple
                or not all(type(i) is int and 0 <= i < len(built) for i in operands)
                or (rule is not None and (rule not in _RULES
                                          or _SPELLING[rule[0]] != op))):
            raise GraphError(f"not a pickled Value: row {len(built)} is malformed")
        value = _new(Constant if constant else Value)
        value.data, value.grad, value._op, value.label = data, grad, op, label
        value._prev = tuple(built[i] for i in operands)
        value._rule = None if rule is None else _RULES[rule]
        built.append(value)
    return built[-1]


def topological_order(root):
    """Every Value below ``root``, each after its operands; iterative, operands in order."""
    return ir.topological_order([root], operands=_OPERANDS)


def to_ir(root, names=None, unnamed="inputs"):
    """(IR root, input names, labels, {input: data}) of the graph of Values below ``root``.

    Leaves in ``names`` ({Value: name}) become those inputs.  Other leaves become
    inputs named by their ``label``, else ``v1, v2, ...`` (``unnamed="inputs"``),
    or constants holding their data (``unnamed="constants"``, used when tracing a
    model whose parameters are named).  Numbers met by a Value stay constants.
    """
    names = names or {}
    order = topological_order(root)
    # Only names for leaves and labels need the taken set (building it per traced
    # Value would cost the number of parameters each time).
    taken = set(names.values()) | set(FUNCTIONS) if unnamed == "inputs" else set(FUNCTIONS)
    built, variables, labels, point, counter = {}, [], {}, {}, 0
    for value in order:
        if value in names:
            name = names[value]
        elif type(value) is Constant or (not value._prev and unnamed == "constants"):
            built[value] = ir.const(value.data)
            continue
        elif not value._prev:
            name = value.label if _usable(value.label, taken) else None
            while name is None:
                counter += 1
                name = f"v{counter}" if f"v{counter}" not in taken else None
            taken.add(name)
        else:
            op_name = _OP_OF[value._op, len(value._prev)]
            node = ir.apply(op_name, *(built[v] for v in value._prev))
            built[value] = node
            if _usable(value.label, taken) and node.args and node not in labels:
                labels[node] = value.label
                taken.add(value.label)
            continue
        built[value] = ir.var(name)
        if name not in point:
            variables.append(name)
            point[name] = value.data
    return built[root], variables, labels, point


def _usable(label, taken):
    return bool(label) and _IDENTIFIER.match(label) is not None and label not in taken
