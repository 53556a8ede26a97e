"""From Python functions to symgrad's IR: call them on symbols instead of numbers.

A ``Symbol`` wraps an IR node and supports what a ``Value`` supports, so a
function written for Values (an ``nn`` model, a loss) builds the graph directly,
without computing anything.  Values met along the way become input variables
when ``names`` names them, constants (their current data) otherwise.
"""

import inspect

from . import ir
from .engine import _OP_OF, Value, topological_order
from .expression import Expression
from .ops import FUNCTIONS

_NUMBER = (int, float)


class Symbol:
    """A symbolic scalar: arithmetic on it builds IR (``symbol.node``)."""

    __slots__ = ("node", "names")

    def __init__(self, node, names=None):
        self.node = node
        self.names = names if names is not None else {}

    def __repr__(self):
        return f"Symbol({ir.structure(self.node)})"

    def _lift(self, other):
        if isinstance(other, Symbol):
            return other.node
        if isinstance(other, _NUMBER):
            return ir.const(other)
        if isinstance(other, Value):
            return _value_node(other, self.names)
        return None

    def _apply(self, op_name, *operands):
        nodes = [self._lift(x) for x in operands]
        if any(node is None for node in nodes):
            return NotImplemented
        return Symbol(ir.apply(op_name, *nodes), self.names)

    def __add__(self, other): return self._apply("add", self, other)
    def __radd__(self, other): return self._apply("add", other, self)
    def __sub__(self, other): return self._apply("sub", self, other)
    def __rsub__(self, other): return self._apply("sub", other, self)
    def __mul__(self, other): return self._apply("mul", self, other)
    def __rmul__(self, other): return self._apply("mul", other, self)
    def __truediv__(self, other): return self._apply("div", self, other)
    def __rtruediv__(self, other): return self._apply("div", other, self)
    def __pow__(self, other): return self._apply("pow", self, other)
    def __rpow__(self, other): return self._apply("pow", other, self)
    def __neg__(self): return self._apply("neg", self)
    def __abs__(self): return self._apply("abs", self)


def _method(op_name):
    def method(self):
        return self._apply(op_name, self)

    method.__name__ = op_name
    return method


for _name, _op in FUNCTIONS.items():
    if not _op.helper and _name != "abs":
        setattr(Symbol, _name, _method(_name))


def _value_node(value, names):
    """A Value as IR: leaves in ``names`` become variables, other leaves constants."""
    built = {}
    for v in topological_order(value):
        if v in names:
            built[v] = ir.var(names[v])
        elif not v._prev:
            built[v] = ir.const(v.data)
        else:
            built[v] = ir.apply(_OP_OF[v._op, len(v._prev)], *(built[c] for c in v._prev))
    return built[value]


def symbols(*names, values=None):
    """One ``Symbol`` per name; ``values`` maps Values (e.g. parameters) to input names."""
    return [Symbol(ir.var(name), values) for name in names]


def trace(function, *names, values=None):
    """``function`` called on symbols (named ``names``, else after its parameters) as an Expression.

    >>> from symgrad.tracing import trace
    >>> str(trace(lambda x, w, b: (x*w + b).tanh()))
    'tanh(x*w + b)'
    """
    if not names:
        names = tuple(inspect.signature(function).parameters)
    result = function(*symbols(*names, values=values))
    if isinstance(result, Value):
        result = Symbol(_value_node(result, values or {}), values)
    if not isinstance(result, Symbol):
        raise TypeError(f"the traced function returned {type(result).__name__}, "
                        "not a symbolic scalar")
    # Every parameter is an input, used or not; inputs named by ``values`` follow.
    extra = [n for n in ir.variables_of([result.node]) if n not in names]
    return Expression(result.node, list(names) + extra)
