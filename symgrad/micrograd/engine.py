"""micrograd's ``Value``, driven by symgrad's operator table.

A ``Value`` computes eagerly and records its operands, as in micrograd.  Each
operator's method and backward rule are printed from its table row once, at
import (``method_source("mul")`` and ``rule_source("mul")`` show them), and
shared by every node: no node holds a closure, so graphs form no reference
cycles and CPython frees them without the cyclic garbage collector.
``node._backward()`` applies one node's rule, as the lecture does by hand;
``backward()`` applies them all, in an order found without recursion.
"""

from __future__ import annotations

import builtins
import re
from operator import attrgetter
from types import MethodType
from typing import TYPE_CHECKING, Iterable, Mapping

from ..core import ir
from ..core.autodiff import partial_pattern
from ..core.errors import EvaluationError, GraphError, TooLargeError
from ..core.expression import Expression
from ..core.ops import FUNCTIONS, OPS, infix_template
from ..core.pyspell import PythonSpelling
from ..core.runtime import PYTHON_GLOBALS
from ..views.hooks import NotebookDisplay

PYTHON = PythonSpelling("python", "math")  # how its backward closures are written

_NUMBER = (int, float)
_MAX_INT = int(1.7976931348623157e308)  # the largest float, as an int
_OPERANDS = attrgetter("_prev")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# ``_op`` as micrograd and the lecture print it; every other operator by its symbol
# or name.  A power by a number reads "**2" (see ``__pow__``).
_MICROGRAD_LABELS = {"relu": "ReLU"}
LABELS = {name: _MICROGRAD_LABELS.get(name, op.symbol or name) for name, op in OPS.items()}
_OP_OF = {(label, OPS[name].arity): name for name, label in LABELS.items()}


class Value(NotebookDisplay):
    """A scalar and its gradient, as in micrograd: ``Value(2.0) * 3`` builds a graph.

    ``data`` is the value (kept as given: ``Value(0)`` holds the int 0), ``grad``
    d(output)/d(this value) after ``backward()``, ``_prev`` the operands (a tuple,
    in order), ``_op`` the operator as micrograd prints it ('+', 'ReLU', '**2'...),
    ``label`` an optional name used when the graph becomes an ``Expression``.
    """

    __slots__ = ("data", "grad", "_prev", "_op", "label", "_rule", "__weakref__")

    def __init__(self, data: float, _children: Iterable[Value] = (), _op: str = "",
                 label: str = "") -> None:
        self.data = data if isinstance(data, _NUMBER) else _number(data)
        self.grad = 0
        self._prev = tuple(_children)
        self._op = _op
        self.label = label
        self._rule = _no_rule

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
        def step(self) -> Value: ...
        def sign(self) -> Value: ...
        def xlogy(self, other: Value | float) -> Value: ...
        def sinh(self) -> Value: ...
        def cosh(self) -> Value: ...
        def asinh(self) -> Value: ...
        def acosh(self) -> Value: ...
        def atanh(self) -> Value: ...
        def asin(self) -> Value: ...
        def acos(self) -> Value: ...
        def log10(self) -> Value: ...
        def log2(self) -> Value: ...
        def log1p(self) -> Value: ...
        def expm1(self) -> Value: ...
        def cbrt(self) -> Value: ...
        def softplus(self) -> Value: ...
        def max(self, other: Value | float) -> Value: ...
        def min(self, other: Value | float) -> Value: ...
        def hypot(self, other: Value | float) -> Value: ...
        def erf(self) -> Value: ...
        def erfc(self) -> Value: ...


    @property
    def _backward(self):
        """This node's step of the chain rule: ``o._backward()`` adds to its operands' grads."""
        return MethodType(self._rule, self)

    @_backward.setter
    def _backward(self, function):
        # The lecture's style for a new operator: out._backward = a closure.
        self._rule = lambda node: function()

    def backward(self) -> None:
        """Fill ``grad`` of every value below this one (gradients add up, as in micrograd)."""
        order = _operations_below(self)
        self.grad = 1.0
        node = self
        try:
            for node in reversed(order):
                node._rule(node)
        except (ArithmeticError, ValueError) as error:
            raise EvaluationError(f"the gradient of {node._op} at operands "
                                  f"{[v.data for v in node._prev]} does not exist: {error}",
                                  node._op) from None

    def to_expression(self, names: Mapping[Value, str] | None = None,
                      numbers: str = "constants") -> Expression:
        """This graph as a symgrad ``Expression``, ready for ``symgrad.compile``.

        Leaf Values become input variables called by ``names[value]``, else their
        ``label``, else ``v1, v2, ...``.  Numbers that met a Value stay constants,
        or become inputs too with ``numbers="inputs"`` (how a drawing gives them
        a gradient, as micrograd's does); exponents of ``x**2`` stay constants.
        """
        root, variables, labels, _ = to_ir(self, checked_names(names, numbers), numbers=numbers)
        return Expression(root, variables, labels)

    def inputs(self, names: Mapping[Value, str] | None = None,
               numbers: str = "constants") -> dict[str, float]:
        """{input name: data} of the leaves, named as ``to_expression`` names them."""
        return to_ir(self, checked_names(names, numbers), numbers=numbers)[3]

    def __reduce__(self):
        """Pickle as plain rows, one per Value below, so depth meets no recursion limit."""
        return (_from_rows, (to_rows(self),))

    def __deepcopy__(self, memo):
        """A copy of the graph below, built iteratively; shared Values stay shared.  A
        ``_backward`` set by hand is refused, as by pickle: the copy's would update the
        original's Values."""
        for value in topological_order(self):
            if _hand_set(value):
                raise GraphError("a Value whose _backward was set by hand cannot be copied")
            if id(value) not in memo:
                copy = _new(type(value))
                copy.data, copy.grad, copy._op = value.data, value.grad, value._op
                copy.label, copy._rule = value.label, value._rule
                copy._prev = tuple(memo[id(v)] for v in value._prev)
                memo[id(value)] = copy
        return memo[id(self)]


class Number(Value):
    """A number that met a Value, wrapped as micrograd wraps it: a leaf with a gradient."""

    __slots__ = ()


class Constant(Value):
    """The exponent of ``x**2``: part of the graph, never differentiated (as in micrograd)."""

    __slots__ = ()


def _number(data):
    """``data`` as a number a Value can hold: a float for NumPy scalars and the like."""
    if not isinstance(data, (str, bytes)):
        try:
            return float(data)
        except (TypeError, ValueError):
            pass
    raise TypeError(f"a Value holds a number, not {type(data).__name__}")


def _no_rule(node):
    """A leaf's backward step: nothing to pass on."""


def _operand(other):
    """``other`` as a Value, numbers wrapped; None for anything else."""
    if isinstance(other, Value):
        return other
    if isinstance(other, _NUMBER):
        return Number(other)
    return None


def _undefined(op_name, operands, error):
    """The error for ``op_name`` failing on ``operands``: it overflows (as the compiled
    path says), or it is undefined there."""
    text = ", ".join(repr(v.data) for v in operands)
    what = ("overflows" if isinstance(error, OverflowError)
            else f"is undefined: {error}")
    return EvaluationError(f"{op_name}({text}) {what}", op_name)


# Rules and methods --------------------------------------------------------------------


def rule_source(op_name, operands=None):
    """Source of one backward rule: ``a.grad += node.grad * partial`` per operand.

    ``operands`` says which operands take a gradient (all by default).
    """
    op = OPS[op_name]
    names = ("a", "b")[: op.arity]
    data = {ir.var("x"): "a.data", ir.var("y"): "b.data", ir.var("out"): "node.data"}
    unpacked = ", ".join(names) + ("," if op.arity == 1 else "")
    lines = [f"def backward_{op_name}(node):", f"    {unpacked} = node._prev", "    g = node.grad"]
    for index in range(op.arity) if operands is None else operands:
        partial = PYTHON.factor(partial_pattern(op_name, index)[-1], data)
        contribution = {"1": "+= g", "(-1)": "-= g"}.get(partial, f"+= g * {partial}")
        lines.append(f"    {names[index]}.grad {contribution}")
    return "\n".join(lines) + "\n"


_METHOD = '''\
def method(self{other}):  # Value.{method}{wrap}
    out = new(Value)
    try:
        out.data = {forward}
    except (ArithmeticError, ValueError) as error:
        raise undefined("{name}", {operands}, error) from None
    out.grad = 0
    out._prev = {operands}
    out._op = "{label}"
    out.label = ""
    out._rule = rule
    return out
'''
_WRAP = '''
    if type(other) is not Value:
        other = operand(other)
        if other is None:
            return NotImplemented'''


def method_source(op_name, reflected=False, method=None):
    """Source of the Value method applying one operator: its forward, from the table."""
    op = OPS[op_name]
    x, y = ("other", "self") if reflected else ("self", "other")
    forward = (op.python or infix_template(op)).format(x=f"{x}.data", y=f"{y}.data")
    return _METHOD.format(method=method or op_name, other=", other" if op.arity == 2 else "",
                          wrap=_WRAP if op.arity == 2 else "", forward=forward, name=op_name,
                          operands=f"({x}, {y})" if op.arity == 2 else "(self,)",
                          label=LABELS[op_name])


def _compile(source, name, **names):
    """The function ``name`` that ``source`` defines (built from the table, never user input)."""
    namespace = dict(PYTHON_GLOBALS, __builtins__=builtins, Value=Value, new=object.__new__,
                     operand=_operand, undefined=_undefined, **names)
    exec(source, namespace)
    return namespace[name]


RULES = {name: _compile(rule_source(name), f"backward_{name}") for name in OPS}
_POWER_RULE = _compile(rule_source("pow", operands=(0,)), "backward_pow")  # x**2
# x**0 is the constant 1, as the compiler folds it: no gradient, not 0*x**-1 (undefined at 0).
_ZERO_POWER_RULE = _compile(rule_source("pow", operands=()), "backward_pow")
_OP_OF_RULE = {rule: name for name, rule in RULES.items()}
_OP_OF_RULE[_POWER_RULE] = _OP_OF_RULE[_ZERO_POWER_RULE] = "pow"


def _add_method(op_name, method, reflected=False):
    function = _compile(method_source(op_name, reflected, method), "method",
                        rule=RULES[op_name])
    function.__name__, function.__qualname__ = method, f"Value.{method}"
    function.__doc__ = f"{method}: {OPS[op_name].rule}."
    if OPS[op_name].arity == 2 and not method.startswith("__"):
        function = _checked(function)
    setattr(Value, method, function)


def _checked(function):
    """A binary function's method (``a.atan2(b)``): a TypeError rather than NotImplemented."""
    def method(self, other):
        result = function(self, other)
        if result is NotImplemented:
            raise TypeError(f"{function.__name__}() needs a Value or a number, "
                            f"not {type(other).__name__}")
        return result

    method.__name__, method.__qualname__ = function.__name__, function.__qualname__
    method.__doc__ = function.__doc__
    return method


# Every operator of the table, as micrograd spells it: +, -, *, /, ** and unary - as
# operators, abs() too, functions as methods (a binary one takes the other operand:
# a.atan2(b)); the helpers step and sign included, as the language has them.
for _name, _op in OPS.items():
    if _op.dunder:
        _add_method(_name, f"__{_op.dunder}__")
        if _op.arity == 2:
            _add_method(_name, f"__r{_op.dunder}__", reflected=True)
    if _op.symbol is None:
        _add_method(_name, _name)

_power = Value.__pow__


def __pow__(self, other):
    """``self ** other``; a number exponent is micrograd's ``**2``: constant, no gradient."""
    if not isinstance(other, _NUMBER):
        return _power(self, other)
    out = _power(self, Constant(other))
    out._op, out._rule = f"**{other}", _POWER_RULE if other != 0 else _ZERO_POWER_RULE
    return out


__pow__.__qualname__ = "Value.__pow__"
Value.__pow__ = __pow__


# Graphs ----------------------------------------------------------------------------------


def _operations_below(root):
    """The non-leaf Values below ``root`` (itself included), each after its operands.

    Iterative depth-first search; leaves are skipped, since they pass nothing on.
    """
    order, seen = [], {root}
    nodes, pending = [root], [iter(root._prev)]
    while pending:
        for child in pending[-1]:
            if child._prev and child not in seen:
                seen.add(child)
                nodes.append(child)
                pending.append(iter(child._prev))
                break
        else:
            pending.pop()
            order.append(nodes.pop())
    return order


_new = object.__new__
_KINDS = {"value": Value, "number": Number, "constant": Constant}
_KIND_OF = {cls: kind for kind, cls in _KINDS.items()}
_RULE_NAMES = {**{rule: name for name, rule in RULES.items()}, _POWER_RULE: "pow_number",
               _ZERO_POWER_RULE: "pow_zero"}
_RULE_OF_NAME = {name: rule for rule, name in _RULE_NAMES.items()}


def _hand_set(value):
    """Whether ``value``'s backward step is a function set by hand (the lecture's
    ``out._backward = ...``), not one of the table's rules: code no copy can rebind."""
    return value._rule not in (None, _no_rule) and value._rule not in _RULE_NAMES


def to_rows(root):
    """The graph below ``root`` as rows ``(kind, data, grad, label, op, operands, rule)``.

    ``kind`` is "value", "number" or "constant"; ``operands`` are indices of earlier
    rows; ``rule`` names the backward rule (an operator, "pow_number" for ``x**2``)
    or is None for a leaf.  The last row is ``root``.
    """
    order = topological_order(root)
    if len(order) > 2 * ir.MAX_OPERATIONS + 1:  # what _from_rows would refuse to read back
        raise TooLargeError(f"the Value's graph has {len(order):,} Values; a pickle holds at "
                            f"most {2 * ir.MAX_OPERATIONS + 1:,}")
    index = {value: i for i, value in enumerate(order)}
    rows = []
    for v in order:
        if _hand_set(v):
            raise GraphError("a Value whose _backward was set by hand cannot be pickled")
        rule = _RULE_NAMES.get(v._rule)  # None for a leaf
        rows.append((_KIND_OF[type(v)], v.data, v.grad, v.label, v._op,
                     tuple(index[p] for p in v._prev), rule))
    return tuple(rows)


def _from_rows(rows):
    """The root Value of ``rows`` (from ``to_rows``), each row checked: ``GraphError`` if bad."""
    if not isinstance(rows, tuple) or not rows:
        raise GraphError("not a pickled Value: expected a non-empty tuple of rows")
    if len(rows) > 2 * ir.MAX_OPERATIONS + 1:  # leaves and operations: as text is capped
        raise TooLargeError(f"the pickled Value has {len(rows):,} rows; symgrad takes at most "
                            f"{2 * ir.MAX_OPERATIONS + 1:,}")
    built = []
    for row in rows:
        if not (isinstance(row, tuple) and len(row) == 7):
            raise GraphError("not a pickled Value: a row is not a 7-tuple")
        kind, data, grad, label, op, operands, rule = row
        if (kind not in _KINDS or type(data) not in (int, float) or type(grad) not in (int, float)
                or not _fits(data) or not _fits(grad)
                or type(label) is not str or type(op) is not str
                or type(operands) is not tuple
                or not all(type(i) is int and 0 <= i < len(built) for i in operands)
                or (rule is not None and rule not in _RULE_OF_NAME)
                or (rule is None) != (not operands)):
            raise GraphError(f"not a pickled Value: row {len(built)} is malformed")
        value = _new(_KINDS[kind])
        value.data, value.grad, value._op, value.label = data, grad, op, label
        value._prev = tuple(built[i] for i in operands)
        value._rule = _no_rule if rule is None else _RULE_OF_NAME[rule]
        built.append(value)
    return built[-1]


def topological_order(root):
    """Every Value below ``root``, each after its operands; iterative, operands in order."""
    return ir.topological_order([root], operands=_OPERANDS)


def to_ir(root, names=None, unnamed="inputs", numbers="constants"):
    """(IR root, input names, labels, {input: data}) of the graph of Values below ``root``.

    Leaves in ``names`` ({Value: name}) become those inputs.  Other leaves become
    inputs named by their ``label``, else ``v1, v2, ...`` (``unnamed="inputs"``),
    or constants holding their data (``unnamed="constants"``, used when tracing a
    model whose parameters are named).  Numbers met by a Value stay constants
    unless ``numbers="inputs"``; exponents of ``x**2`` always do.
    """
    names = names or {}
    order = topological_order(root)
    # Only names for leaves and labels need the taken set (building it per traced
    # Value would cost the number of parameters each time).
    taken = set(names.values()) | set(FUNCTIONS) if unnamed == "inputs" else set(FUNCTIONS)
    built, variables, labels, point, counter = {}, [], {}, {}, 0
    for value in order:
        kind = type(value)
        if value in names:
            name = names[value]
        elif kind is Constant or (kind is Number and numbers == "constants") or (
                not value._prev and kind is not Number and unnamed == "constants"):
            built[value] = ir.const(_as_float(value))
            continue
        elif not value._prev:
            name = value.label if _usable(value.label, taken) else None
            while name is None:
                counter += 1
                name = f"v{counter}" if f"v{counter}" not in taken else None
            taken.add(name)
        else:
            node = ir.apply(_op_name(value), *(built[v] for v in value._prev))
            built[value] = node
            if _usable(value.label, taken) and node.args and node not in labels:
                labels[node] = value.label
                taken.add(value.label)
            continue
        built[value] = ir.var(name)
        if name not in point:
            variables.append(name)
            point[name] = _as_float(value)
    return built[root], variables, labels, point


def checked_names(names, numbers="constants", taken=()):
    """``names`` ({Value: input name}), where no two Values share a name and none is one of
    ``taken`` (the traced parameters): ``GraphError`` otherwise, since one input would
    stand for both (x*y named {x: 'a', y: 'a'} compiled to a*a)."""
    if numbers not in ("constants", "inputs"):
        raise GraphError(f"numbers must be 'constants' or 'inputs', not {numbers!r}")
    seen = set(taken)
    for name in (names or {}).values():
        if name in seen:
            raise GraphError(f"two values are named {name!r}: each input needs a name of its own")
        seen.add(name)
    return names


def _as_float(value):
    """A Value's data as a float; GraphError for an integer beyond the largest float."""
    try:
        return float(value.data)
    except OverflowError:
        digits = len(str(abs(value.data))) if abs(value.data) < 10**4000 else "over 4,000"
        raise GraphError(f"a Value holds an integer of {digits} digits, too large for a "
                         "float (the largest is about 1.8e308)") from None


def _fits(number):
    """Whether an int or float can become a float without overflow."""
    return type(number) is float or -_MAX_INT <= number <= _MAX_INT


def _op_name(value):
    """The table's operator of a non-leaf Value: by its rule, else by its ``_op`` label."""
    name = _OP_OF_RULE.get(value._rule) or _OP_OF.get((value._op, len(value._prev)))
    if name is None:
        raise GraphError(f"a Value made by {value._op!r} with {len(value._prev)} operands is "
                         "not an operator symgrad knows (" + ", ".join(sorted(LABELS.values()))
                         + ")")
    return name


def _usable(label, taken):
    return bool(label) and _IDENTIFIER.match(label) is not None and label not in taken
